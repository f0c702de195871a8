"""Genome FASTA: bgzip copies with a faidx index, read back by random access.

Any FASTA (plain, gzip or bgzip) is streamed into a bgzip file with a faidx index and
read back through :class:`pysam.FastaFile` (the genome is never held in memory).
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import pysam

from deepdife_core.errors import DeepDifEInputError

#: letters a genome FASTA may hold (IUPAC codes, soft-masked lower case)
_BASES = b"ACGTNRYKMSWBDHVacgtnrykmswbdhv"
WIDTH = 60
_FLUSH = WIDTH * 1 << 14  # ~1 MB of sequence per write
#: the most sequence bytes a genome FASTA may unpack to (wheat, ~15 Gb, fits): a guard against a gzip bomb
#: filling the disk; ``DEEPDIFE_MAX_GENOME_MB`` overrides it
MAX_GENOME_BYTES = 32 * 1024**3
GENOME_ENV = "DEEPDIFE_MAX_GENOME_MB"
_COMP = str.maketrans("ACGTNRYKMSWBDHVacgtnrykmswbdhv", "TGCANYRMKSWVHDBtgcanyrmkswvhdb")


def reverse_complement(seq: str) -> str:
    """The reverse complement (IUPAC-aware, case kept).

    Parameters
    ----------
    seq
        DNA letters.

    Returns
    -------
    str
        The reverse complement, same length.
    """
    return seq.translate(_COMP)[::-1]


def genome_limit() -> int:
    """:data:`MAX_GENOME_BYTES`, or ``$DEEPDIFE_MAX_GENOME_MB`` MB when set (a positive number).

    Returns
    -------
    int
        The cap in bytes of sequence.
    """
    raw = os.environ.get(GENOME_ENV, "").strip()
    if not raw:
        return MAX_GENOME_BYTES
    try:
        mb = float(raw)
    except ValueError:
        mb = -1.0
    if not mb > 0:
        raise DeepDifEInputError(f"{GENOME_ENV}={raw!r} is not a positive number of megabytes, e.g. 40000")
    return int(mb * 1024**2)


def _open(path: Path, name: str):
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")  # also reads bgzip (a series of gzip members)
    return open(path, "rb")


def write_indexed(source: str | Path, dest: str | Path, *, name: str | None = None) -> list[tuple[str, int]]:
    """Copy a FASTA into ``dest`` (bgzip, 60-bp lines) and index it (``dest.fai``, ``dest.gzi``).

    The input is read line by line (plain, gzip or bgzip), checked (headers, letters),
    and written in ~1 MB blocks; memory stays constant whatever the genome's size.

    Parameters
    ----------
    source
        The genome FASTA.
    dest
        The ``.fa.gz`` to write (its folder must exist).
    name
        File name for messages.

    Returns
    -------
    list of (str, int)
        ``(chromosome, length)`` in file order.

    Raises
    ------
    DeepDifEInputError
        Not a FASTA, a letter that is not a base (line named), a repeated or empty name, an
        empty record, a truncated or corrupt gzip.
    """
    source = Path(source)
    name = name or source.name
    if not source.is_file():
        raise DeepDifEInputError(f"{name}: file not found; check the path")
    chroms: list[tuple[str, int]] = []
    seen: dict[str, int] = {}
    out = pysam.BGZFile(str(dest), "wb")
    buf = bytearray()
    current: str | None = None
    length = 0
    lineno = 0
    total, limit = 0, genome_limit()

    def flush(final: bool) -> None:
        nonlocal buf
        n = len(buf) if final else len(buf) - len(buf) % WIDTH
        if n:
            view = bytes(buf[:n])
            out.write(b"\n".join(view[i : i + WIDTH] for i in range(0, n, WIDTH)) + b"\n")
            del buf[:n]

    def close_record() -> None:
        if current is not None:
            if length == 0:
                raise DeepDifEInputError(f"{name}: record '{current}' has no sequence; remove it or fill it in")
            flush(True)
            chroms.append((current, length))

    try:
        with _open(source, name) as fh:
            for line in fh:
                lineno += 1
                if line.startswith(b">"):
                    close_record()
                    head = line[1:].strip().split()
                    if not head:
                        raise DeepDifEInputError(f"{name}, line {lineno}: a '>' header without a name; name it")
                    current = head[0].decode("utf-8", "replace")
                    if current in seen:
                        raise DeepDifEInputError(
                            f"{name}, line {lineno}: chromosome '{current}' again (first at line {seen[current]}); "
                            "every record needs its own name"
                        )
                    seen[current] = lineno
                    length = 0
                    out.write(b">" + current.encode() + b"\n")
                    continue
                seq = line.strip()
                if not seq:
                    continue
                if current is None:
                    if b"\x00" in line:
                        raise DeepDifEInputError(f"{name}: binary data, not a FASTA; give the genome FASTA")
                    raise DeepDifEInputError(
                        f"{name}, line {lineno}: sequence before the first '>' header; is this a FASTA file?"
                    )
                bad = seq.translate(None, _BASES)
                if bad:
                    raise DeepDifEInputError(
                        f"{name}, line {lineno} (record '{current}'): {chr(bad[0])!r} is not a base; "
                        "a genome FASTA holds A/C/G/T/N and IUPAC codes"
                    )
                buf += seq
                length += len(seq)
                total += len(seq)
                if total > limit:
                    raise DeepDifEInputError(
                        f"{name}: more than {limit / 1024**2:,.0f} MB of sequence, the limit for a genome (a guard "
                        f"against decompression bombs); if the genome is genuine, raise it with {GENOME_ENV}=MB"
                    )
                if len(buf) >= _FLUSH:
                    flush(False)
            close_record()
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        out.close()
        raise DeepDifEInputError(
            f"{name}: truncated or corrupt gzip after line {lineno} ({exc}); download or compress it again"
        ) from exc
    except BaseException:
        out.close()
        raise
    out.close()
    if not chroms:
        raise DeepDifEInputError(f"{name}: no FASTA records ('>' headers); give the genome FASTA")
    pysam.faidx(str(dest))
    return chroms


def open_genome(path: str | Path) -> pysam.FastaFile:
    """The indexed genome (random access; ``.fai`` and ``.gzi`` beside ``path``).

    Parameters
    ----------
    path
        The registry's ``genome.fa.gz``.

    Returns
    -------
    pysam.FastaFile
        Open for ``fetch(chrom, start, end)``; the caller closes it.
    """
    path = Path(path)
    if not path.is_file() or not Path(f"{path}.fai").is_file():
        raise DeepDifEInputError(f"{path}: the genome or its index is missing; register the genome again")
    return pysam.FastaFile(os.fspath(path))
