"""Reading user files into a *dataset table*.

Contract (the dataset table)
----------------------------
A :class:`pandas.DataFrame` with columns

``gene_id``  str, unique
``label``    int 0/1 (1 = responsive / differentially expressed)
``family``   str, the group used by splits (defaults to ``gene_id``)
``sequence`` str of A/C/G/T/N, upper case, all of one length ``L``
``split``    optional, ``train``/``val``/``test``
``coords``   optional, ``Chr:start-end(strand)`` taken from FASTA headers

Builders validate everything first and raise
:class:`~deepdife_core.errors.DeepDifEInputError` naming the file, the record or
line and the fix; they never write anything.  Each builder returns
``(table, report)`` where the :class:`BuildReport` says what was padded, trimmed,
dropped or left unmatched.

Gene IDs are matched case-insensitively after stripping a FASTA location suffix
(``AT3G46120::Chr3:16938040-16938660(-)`` -> ``AT3G46120``), a record number
(``AT3G46120#2``) and a transcript version (``AT3G46120.1`` -> ``AT3G46120``).

Repeated gene IDs (alternative TSSs)
------------------------------------
A gene may have several records (promoters at different TSSs).  Every reader
gives each record one identity (:func:`record_ids`): the gene ID when the gene
has one record, else ``GENE::Chr:start-end(strand)`` from the record's own
coordinates, else ``GENE#k`` (k = 1, 2, ... in file order).  ``alt_tss`` decides
what happens to such records: ``"all"`` keeps every record under its identity
(:data:`ALT_TSS_MODEL`, the default of prediction, explanation and motif
discovery), ``"first"`` keeps the first record of each gene and reports how many
were left out (:data:`ALT_TSS_DATASET`, the default of the dataset builders).
Records of one gene share a family (the gene ID), so a split never separates them.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import math
import os
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from deepdife_core.config import DatasetConfig, from_dict
from deepdife_core.data.encode import VALID_CHARS, n_fraction, one_hot, pad_or_trim
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import atomic_write_text, restore_formulas

REQUIRED_COLUMNS = ("gene_id", "label", "sequence")
SPLITS = ("train", "val", "test")
_COORDS = re.compile(r"([^:\s]+:\d+-\d+\([+-.]\))")
_VERSION = re.compile(r"\.\d+$")
_RECORD_NO = re.compile(r"#\d+$")
#: what to do with several records of one gene (alternative TSSs): keep ``"all"`` (each under its
#: record identity) or only the ``"first"`` of each gene
ALT_TSS_MODES = ("all", "first")
#: default of prediction, explanation, motif discovery and the dashboard's model pages: keep every record
ALT_TSS_MODEL = "all"
#: default of the dataset builders (training datasets): the first record of each gene, the rest counted
ALT_TSS_DATASET = "first"


@dataclass(frozen=True)
class FastaRecord:
    """One FASTA record: ``id`` (first word), full ``header``, ``sequence`` and its header line number."""

    id: str
    header: str
    sequence: str
    line: int


@dataclass
class BuildReport:
    """What a builder did to the input (shown to the user, saved in ``dataset.json``)."""

    n_input: int = 0
    n_kept: int = 0
    padded: int = 0
    trimmed: int = 0
    dropped_n: list[str] = field(default_factory=list)
    missing_sequence: list[str] = field(default_factory=list)
    unused_sequences: int = 0
    excluded_grey_zone: int = 0
    families_from_ids: bool = False
    notes: list[str] = field(default_factory=list)
    alt_tss: str = ALT_TSS_DATASET
    repeated_genes: int = 0
    alternatives_left_out: int = 0
    n_genes_kept: int = 0

    def to_dict(self) -> dict:
        """The report as a JSON-able dict (for ``dataset.json``).

        Returns
        -------
        dict
            All fields; the ``dropped_n`` and ``missing_sequence`` gene lists cut to their first 1000.
        """
        d = asdict(self)
        d["dropped_n"] = d["dropped_n"][:1000]
        d["missing_sequence"] = d["missing_sequence"][:1000]
        return d

    def summary(self) -> str:
        """One human-readable paragraph.

        Returns
        -------
        str
            Kept / padded / trimmed / dropped counts, families and repeated-gene note, then the notes.
        """
        if self.n_genes_kept and self.n_genes_kept != self.n_kept:  # alternative TSSs kept: records, not genes
            parts = [f"{self.n_kept} records of {self.n_genes_kept} genes kept (input: {self.n_input})"]
        else:
            parts = [f"{self.n_kept} genes kept of {self.n_input}"]
        if self.padded:
            parts.append(f"{self.padded} padded with N")
        if self.trimmed:
            parts.append(f"{self.trimmed} trimmed (TSS-proximal end kept)")
        if self.dropped_n:
            parts.append(f"{len(self.dropped_n)} dropped for too many N")
        if self.missing_sequence:
            parts.append(f"{len(self.missing_sequence)} without a sequence in the FASTA")
        if self.excluded_grey_zone:
            parts.append(f"{self.excluded_grey_zone} excluded in the grey zone")
        if self.families_from_ids:
            parts.append(
                "no family column: each gene is its own group"
                + (" (its records share it)" if self.n_genes_kept != self.n_kept else "")
            )
        if self.repeated_genes:
            parts.append(self.records_note())
        return "; ".join(parts) + "." + ("" if not self.notes else " " + " ".join(self.notes))

    def records_note(self) -> str:
        """What was done with genes that have several records (alternative TSSs); empty when none has.

        Returns
        -------
        str
            A sentence for ``alt_tss`` ``"first"`` (how many were left out) or ``"all"``; ``""``
            when ``repeated_genes`` is 0.
        """
        if not self.repeated_genes:
            return ""
        if self.alt_tss == "first":
            return (
                f"{self.repeated_genes} genes have several records (alternative TSSs): the first record of each "
                f"is used, {self.alternatives_left_out} left out (alt-tss 'all' keeps them)"
            )
        return (
            f"{self.repeated_genes} genes have several records (alternative TSSs): all kept, each named "
            "GENE::Chr:start-end(strand) (GENE#k without coordinates)"
        )


# ----------------------------------------------------------------------------- IDs


def normalize_id(raw: str) -> str:
    """Matching key of a gene ID.

    The first word, before ``::``, without a ``#k`` record number and a ``.N`` version, upper case.

    Parameters
    ----------
    raw : str
        A gene or record ID (any object is turned into text).

    Returns
    -------
    str
        The key, e.g. ``"AT1G01010"`` for ``"at1g01010.1::Chr1:1-600(+)"``; ``""`` for a blank ID.
    """
    key = str(raw).strip().split()[0] if str(raw).strip() else ""
    key = key.split("::")[0]
    key = _RECORD_NO.sub("", key) or key
    key = _VERSION.sub("", key)
    return key.upper()


def _non_dna(seq: str) -> tuple[int, str]:
    """Count and first example of the characters of ``seq`` (any case) that are not DNA/IUPAC codes.

    Checked before upper-casing: ``str.upper`` maps some non-ASCII letters onto
    DNA codes (``'\u017f'.upper() == 'S'``), and those must not become bases.
    """
    bad = [c for c in set(seq) if not (c.isascii() and c.upper() in VALID_CHARS)]
    if not bad:
        return 0, ""
    return sum(seq.count(c) for c in bad), min(bad, key=seq.index)


def coords_from_header(header: str) -> str | None:
    """The ``Chr:start-end(strand)`` of a FASTA header such as ``GENE::Chr1:10-20(-)``.

    Parameters
    ----------
    header : str
        A full FASTA header.

    Returns
    -------
    str or None
        The first coordinate text found, or None.
    """
    m = _COORDS.search(header)
    return m.group(1) if m else None


# ----------------------------------------------------------------------------- FASTA


#: the most bytes one compressed input (``.gz`` text, the sheets of an ``.xlsx``, a parquet table) may
#: unpack to: a guard against decompression bombs.  ``DEEPDIFE_MAX_DECOMPRESSED_MB`` (or the CLI's
#: ``--max-decompressed-mb``) overrides it.
MAX_DECOMPRESSED_BYTES = 512 * 1024**2
#: the environment variable that overrides :data:`MAX_DECOMPRESSED_BYTES` (in MB, 1 MB = 2**20 bytes)
DECOMPRESSED_ENV = "DEEPDIFE_MAX_DECOMPRESSED_MB"
_CHUNK = 1 << 20


def decompressed_limit(max_bytes: int | None = None) -> int:
    """The decompression cap in bytes: ``max_bytes``, else ``$DEEPDIFE_MAX_DECOMPRESSED_MB``, else the default.

    Parameters
    ----------
    max_bytes
        An explicit cap (bytes); None reads the environment variable, then :data:`MAX_DECOMPRESSED_BYTES`.

    Returns
    -------
    int
        The cap in bytes.

    Raises
    ------
    DeepDifEInputError
        The environment variable is not a positive number.
    """
    if max_bytes is not None:
        return int(max_bytes)
    raw = os.environ.get(DECOMPRESSED_ENV, "").strip()
    if not raw:
        return MAX_DECOMPRESSED_BYTES
    try:
        mb = float(raw)
    except ValueError:
        mb = float("nan")
    if not (mb > 0 and math.isfinite(mb)):
        raise DeepDifEInputError(f"{DECOMPRESSED_ENV}={raw!r} is not a positive number of megabytes, e.g. 2048")
    return int(mb * 1024**2)


def _too_big(name: str, limit: int, what: str = "decompresses to") -> DeepDifEInputError:
    return DeepDifEInputError(
        f"{name}: {what} more than {limit / 1024**2:g} MB, the limit for compressed inputs (a guard "
        f"against decompression bombs); if the file is genuine, raise the limit with {DECOMPRESSED_ENV}=MB "
        "or give the file uncompressed"
    )


def _gunzip(fh: IO[bytes], name: str, limit: int) -> bytearray:
    """Decompress a gzip stream chunk by chunk, stopping as soon as it exceeds ``limit`` bytes."""
    out = bytearray()
    try:
        with gzip.GzipFile(fileobj=fh, mode="rb") as gz:
            while chunk := gz.read(_CHUNK):
                out += chunk
                if len(out) > limit:
                    raise _too_big(name, limit)
    except (OSError, EOFError, zlib.error) as exc:
        raise DeepDifEInputError(f"{name}: corrupt gzip file ({exc}); re-compress or upload it uncompressed") from exc
    return out


def _input_path(source: str | Path, name: str) -> Path:
    """``source`` as an existing file's path, else a :class:`DeepDifEInputError` (also for unusable paths)."""
    path = Path(source)
    try:
        exists, is_dir = path.exists(), path.is_dir()
    except OSError as exc:  # e.g. ENAMETOOLONG
        shown = name if len(name) <= 80 else f"{name[:40]}…{name[-40:]}"
        raise DeepDifEInputError(f"{shown}: cannot open ({os.strerror(exc.errno or 0)}); check the path") from exc
    if not exists:
        raise DeepDifEInputError(f"{name}: file not found; check the path")
    if is_dir:
        raise DeepDifEInputError(f"{name}: is a folder, not a file")
    return path


def _open_text(source: str | Path | IO[bytes] | bytes, name: str, *, max_bytes: int | None = None) -> io.TextIOBase:
    """The text of a plain or gzip-compressed input.

    gzip is unpacked in a stream, capped at ``max_bytes`` (default :func:`decompressed_limit`).
    """
    limit = decompressed_limit(max_bytes)
    if isinstance(source, (bytes, bytearray)):
        raw = bytes(source)
    elif hasattr(source, "read"):
        raw = source.read()
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
    else:
        path = _input_path(source, name)
        try:
            with open(path, "rb") as fh:  # streamed: a compressed file is never read whole
                gz = fh.read(2) == b"\x1f\x8b"
                fh.seek(0)
                return _decode(_gunzip(fh, name, limit) if gz else fh.read(), name)
        except OSError as exc:
            raise DeepDifEInputError(f"{name}: cannot read ({os.strerror(exc.errno or 0)})") from exc
    if raw[:2] == b"\x1f\x8b":
        raw = _gunzip(io.BytesIO(raw), name, limit)
    return _decode(raw, name)


def _decode(raw: bytes | bytearray, name: str) -> io.StringIO:
    if b"\x00" in raw[:4096]:
        raise DeepDifEInputError(f"{name}: binary data, not a text file; give a FASTA/CSV/TSV text file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return io.StringIO(text)


def _check_xlsx_size(data: str | Path | io.BytesIO, name: str) -> None:
    """Refuse a workbook whose parts unpack to more than :func:`decompressed_limit` (an ``.xlsx`` is a zip).

    A member's declared size bounds what :mod:`zipfile` will ever unpack from it; an
    unreadable zip is left to the Excel reader's own error.
    """
    limit = decompressed_limit()
    try:
        with zipfile.ZipFile(data) as zf:
            total = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    finally:
        if isinstance(data, io.BytesIO):
            data.seek(0)
    if total > limit:
        raise _too_big(name, limit, "the workbook unpacks to")


def read_fasta(source: str | Path | IO[bytes] | bytes, *, name: str | None = None) -> list[FastaRecord]:
    """Parse a FASTA file (plain or gzip) strictly.

    Several records of one gene (alternative TSSs, ``G::Chr1:1-600(+)`` and
    ``G::Chr1:900-1500(+)``, or the same ID twice) are allowed: the readers
    name them with :func:`record_ids` and keep or collapse them by ``alt_tss``.

    Parameters
    ----------
    source : str, Path, bytes or binary file object
        The FASTA.
    name : str, optional
        File name used in error messages (defaults to the path's name).

    Returns
    -------
    list of FastaRecord
        The records in file order (sequences upper-cased, as :func:`iter_fasta` gives them).

    Raises
    ------
    DeepDifEInputError
        Empty file, text before the first header, an empty header or record,
        non-DNA characters (with record number and ID).
    """
    return list(iter_fasta(source, name=name))


class _CappedGzip(io.RawIOBase):
    """A gzip member read in a stream that refuses to give more than ``limit`` bytes."""

    def __init__(self, fh: IO[bytes], name: str, limit: int) -> None:
        self._gz = gzip.GzipFile(fileobj=fh, mode="rb")
        self._name, self._limit, self._seen = name, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        try:
            n = self._gz.readinto(buf)
        except (OSError, EOFError, zlib.error) as exc:
            raise DeepDifEInputError(
                f"{self._name}: corrupt gzip file ({exc}); re-compress or upload it uncompressed"
            ) from exc
        self._seen += n
        if self._seen > self._limit:
            raise _too_big(self._name, self._limit)
        return n


def _stream_lines(source: str | Path, name: str) -> Iterator[str]:
    """The lines of a plain or gzip file on disk, read in a stream (memory does not grow with the file).

    gzip is capped at :func:`decompressed_limit` like every compressed input.
    """
    path = _input_path(source, name)
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise DeepDifEInputError(f"{name}: cannot read ({os.strerror(exc.errno or 0)})") from exc
    with fh:
        gz = fh.read(2) == b"\x1f\x8b"
        fh.seek(0)
        raw: IO[bytes] = io.BufferedReader(_CappedGzip(fh, name, decompressed_limit()), _CHUNK) if gz else fh
        head = raw.peek(4096)[:4096] if hasattr(raw, "peek") else b""
        if b"\x00" in head:
            raise DeepDifEInputError(f"{name}: binary data, not a text file; give a FASTA/CSV/TSV text file")
        # latin-1 never fails; a UTF-8 header keeps its bytes (IDs are ASCII in practice)
        encoding = "utf-8-sig"
        try:
            head.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            encoding = "utf-8-sig" if exc.start > len(head) - 4 else "latin-1"
        text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline=None)
        try:
            yield from text
        except OSError as exc:
            raise DeepDifEInputError(f"{name}: cannot read ({os.strerror(exc.errno or 0)})") from exc
        finally:
            # a generator closed late (garbage-collected after an error) may find its buffer already closed;
            # detaching then raises ValueError, which Python would print as "Exception ignored in ..." on stderr
            with contextlib.suppress(ValueError):
                text.detach()


def iter_fasta(
    source: str | Path | IO[bytes] | bytes, *, name: str | None = None, stream: bool = False
) -> Iterator[FastaRecord]:
    """The records of a FASTA file one by one, checked as :func:`read_fasta` checks them.

    Parameters
    ----------
    source
        Path, bytes or binary file object (plain or gzip).
    name
        File name used in error messages (defaults to the path's name).
    stream
        Read a path line by line (memory bounded by the longest record, whatever the file's size)
        instead of reading the whole text first; bytes and file objects are read whole either way.

    Returns
    -------
    Iterator of FastaRecord
        In file order; a :class:`DeepDifEInputError` is raised at the first bad record (or at the end
        for a file without records).
    """
    name = name or (Path(source).name if isinstance(source, (str, Path)) else "uploaded FASTA")
    handle = _stream_lines(source, name) if stream and isinstance(source, (str, Path)) else _open_text(source, name)
    n_records = 0
    header: str | None = None
    header_line = 0
    chunks: list[str] = []

    def record() -> FastaRecord:
        seq = "".join(chunks).replace(" ", "").replace("\t", "")
        rid = header.split()[0] if header.split() else ""
        num = n_records + 1
        if not rid:
            raise DeepDifEInputError(f"{name}, line {header_line}: empty FASTA header '>'; give every record an ID")
        if not seq:
            raise DeepDifEInputError(
                f"{name}, record {num} ('{rid}', line {header_line}): empty sequence; remove the record or add its sequence"
            )
        count, example = _non_dna(seq)
        if count:
            raise DeepDifEInputError(
                f"{name}, record {num} ('{rid}', line {header_line}): {count} characters are not DNA "
                f"(e.g. {example!r}); use A/C/G/T/N or IUPAC codes"
            )
        return FastaRecord(rid, header, seq.upper(), header_line)

    for lineno, line in enumerate(handle, start=1):
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        if line.startswith(">"):
            if header is not None:
                yield record()
                n_records += 1
            header = line[1:].strip()
            header_line = lineno
            chunks = []
        elif line.startswith(";"):
            continue
        else:
            if header is None:
                raise DeepDifEInputError(
                    f"{name}, line {lineno}: sequence data before the first '>' header; is this a FASTA file?"
                )
            chunks.append(line.strip())
    if header is not None:
        yield record()
        n_records += 1
    if not n_records:
        raise DeepDifEInputError(f"{name}: no FASTA records found; the file is empty or has no '>' headers")


def write_fasta(records: list[tuple[str, str]], path: str | Path, *, width: int = 80) -> None:
    """Write ``(id, sequence)`` pairs as FASTA (atomically).

    Parameters
    ----------
    records : list of tuple of (str, str)
        Header (written after ``>``) and sequence of each record.
    path : str or Path
        The file to write.
    width : int, optional
        Sequence characters per line, default 80.
    """
    lines = []
    for rid, seq in records:
        lines.append(f">{rid}")
        lines.extend(seq[i : i + width] for i in range(0, len(seq), width))
    atomic_write_text(path, "\n".join(lines) + "\n")


# ----------------------------------------------------------------------------- record identity


def check_alt_tss(alt_tss: str) -> str:
    """Check an ``alt_tss`` mode.

    Parameters
    ----------
    alt_tss : str
        ``"all"`` or ``"first"`` (:data:`ALT_TSS_MODES`).

    Returns
    -------
    str
        ``alt_tss`` unchanged.

    Raises
    ------
    DeepDifEInputError
        For any other value.
    """
    if alt_tss not in ALT_TSS_MODES:
        raise DeepDifEInputError(
            f"alt-tss {alt_tss!r}: use 'all' (keep every record of a gene) or 'first' (the first record of each gene)"
        )
    return alt_tss


def gene_of(record_id: str) -> str:
    """The gene ID of a record identity.

    ``G::Chr1:1-600(+)`` and ``G#2`` give ``G``; a plain ID is returned as is.

    Parameters
    ----------
    record_id : str
        A record identity.

    Returns
    -------
    str
        The gene part (case kept, surrounding spaces stripped).
    """
    rid = str(record_id).strip()
    if "::" in rid:
        return rid.split("::")[0] or rid
    return _RECORD_NO.sub("", rid) or rid


def record_ids(
    ids: list[str] | pd.Series, coords: list[str | None] | pd.Series | None = None, *, name: str = "input"
) -> list[str]:
    """One identity per record: the ID when its gene has one record, else ``GENE::coords``, else ``GENE#k``.

    Records are of one gene when their IDs have the same :func:`normalize_id` key
    (case, ``::location``, ``#k`` and ``.N`` version ignored).  A repeated gene's
    records are named ``GENE::Chr:start-end(strand)`` when every one of them has
    coordinates (``coords``, or the ``::`` suffix of the ID) and they differ, else
    ``GENE#k`` with k = 1, 2, ... in input order.  Naming is idempotent: identities
    read back give themselves, and a gene whose records are all distinct identities
    already (``G#2``, ``G#3`` of a table saved after a record was dropped) keeps them.

    Parameters
    ----------
    ids
        Record IDs, e.g. the part of FASTA IDs before ``::``, or a table's ``gene_id``.
    coords
        ``Chr:start-end(strand)`` of each record, or None/empty where unknown.
    name
        File name used in error messages.

    Returns
    -------
    list of str
        The identities, in input order, unique (case-insensitively).

    Raises
    ------
    DeepDifEInputError
        Two records would get the same identity (e.g. a record already called ``G#1``
        beside two records ``G``); the message names both.
    """
    ids = [str(g).strip() for g in ids]
    raw = [None] * len(ids) if coords is None else list(coords)
    where = [
        (str(c).strip() if c is not None and not (isinstance(c, float) and np.isnan(c)) and str(c).strip() else None)
        or coords_from_header(g)
        for g, c in zip(ids, raw, strict=True)
    ]
    groups: dict[str, list[int]] = {}
    for i, g in enumerate(ids):
        groups.setdefault(normalize_id(g), []).append(i)
    out = list(ids)
    for members in groups.values():
        if len(members) == 1:
            continue
        own = [ids[i] for i in members]
        if all("::" in r or _RECORD_NO.search(r) for r in own) and len({r.upper() for r in own}) == len(own):
            continue  # already record identities (a saved table read back): kept as they are
        places = [where[i] for i in members]
        distinct = all(places) and len({p.upper() for p in places}) == len(places)  # type: ignore[union-attr]
        for k, i in enumerate(members, start=1):
            out[i] = f"{gene_of(ids[i])}::{where[i]}" if distinct else f"{gene_of(ids[i])}#{k}"
    seen: dict[str, int] = {}
    for i, rid in enumerate(out):
        j = seen.setdefault(rid.upper(), i)
        if j != i:
            raise DeepDifEInputError(
                f"{name}: records {j + 1} ('{ids[j]}') and {i + 1} ('{ids[i]}') would both be called {rid!r}; "
                "rename one of them"
            )
    return out


def record_groups(ids: list[str] | pd.Series) -> dict[str, list[str]]:
    """Record identities grouped by gene, in input order: ``{gene ID: [identity, ...]}``.

    ``["AT1G71960::Chr1:1-600(-)", "AT1G71960::Chr1:900-1500(-)", "AT2G1"]`` gives
    ``{"AT1G71960": [both], "AT2G1": ["AT2G1"]}``; a gene with several records is a
    gene with alternative TSSs.  Genes are matched by :func:`normalize_id`.

    Parameters
    ----------
    ids : list of str or pandas.Series
        Record identities.

    Returns
    -------
    dict of str to list of str
        Gene ID (as first seen, via :func:`gene_of`) -> its record identities.
    """
    groups: dict[str, list[str]] = {}
    gene: dict[str, str] = {}
    for rid in map(str, ids):
        key = normalize_id(rid)
        groups.setdefault(gene.setdefault(key, gene_of(rid)), []).append(rid)
    return groups


def select_records(df: pd.DataFrame, genes: list[str] | None) -> tuple[pd.DataFrame, list[str]]:
    """The rows of ``df`` that ``genes`` ask for, in the order asked, and the requests that matched nothing.

    A request matches the record with exactly that identity (case-insensitively), or
    else every record of that gene (:func:`normalize_id`): ``AT1G71960`` gives all its
    TSSs, ``AT1G71960::Chr1:1-600(-)`` that one.  None or an empty list selects all rows.

    Parameters
    ----------
    df
        A table with ``gene_id`` (record identities).
    genes
        Requested gene IDs or record identities.

    Returns
    -------
    tuple of pandas.DataFrame, list of str
        The selected rows (each at most once) and the requests that matched no row.
    """
    if not genes:
        return df, []
    ids = df["gene_id"].astype(str)
    exact: dict[str, list[int]] = {}
    by_gene: dict[str, list[int]] = {}
    for i, rid in enumerate(ids):
        exact.setdefault(rid.upper(), []).append(i)
        by_gene.setdefault(normalize_id(rid), []).append(i)
    rows: list[int] = []
    missing: list[str] = []
    for g in dict.fromkeys(str(g).strip() for g in genes if str(g).strip()):
        hit = exact.get(g.upper()) or by_gene.get(normalize_id(g))
        if hit:
            rows.extend(hit)
        else:
            missing.append(g)
    return df.iloc[list(dict.fromkeys(rows))], missing


def _alt_tss(
    df: pd.DataFrame, alt_tss: str, report: BuildReport, name: str, *, where: list[str] | None = None
) -> pd.DataFrame:
    """Name (``"all"``) or collapse (``"first"``) the rows of genes that have several; counts go to ``report``.

    ``where`` ("line 3", "record 2 ...") places each row in messages: rows of one gene
    with different labels are an error in both modes.
    """
    check_alt_tss(alt_tss)
    report.alt_tss = alt_tss
    ids = df["gene_id"].astype(str).reset_index(drop=True)
    keys = ids.map(normalize_id)
    dup = keys.duplicated(keep="first").to_numpy()
    if not dup.any():
        return df.reset_index(drop=True)
    if "label" in df.columns:
        labels = df["label"].tolist()
        first: dict[str, int] = {}
        for i, k in enumerate(keys):
            j = first.setdefault(k, i)
            if labels[i] != labels[j]:
                at = where or [f"row {n + 1}" for n in range(len(ids))]
                raise DeepDifEInputError(
                    f"{name}, {at[i]}: duplicate gene ID '{ids[i]}' (also {at[j]}) with another label "
                    f"({labels[i]} vs {labels[j]}); a gene has one label, fix or remove one of them"
                )
    report.repeated_genes = int(keys[keys.duplicated(keep=False)].nunique())
    df = df.reset_index(drop=True)
    if alt_tss == "first":
        report.alternatives_left_out = int(dup.sum())
        return df.loc[~dup].reset_index(drop=True)
    coords = df["coords"] if "coords" in df.columns else None
    return df.assign(gene_id=record_ids(ids, coords, name=name))


# ----------------------------------------------------------------------------- tables


def _check_xlsx_formulas(data: str | Path | io.BytesIO, name: str) -> None:
    """Refuse a workbook whose first sheet has formula cells without a cached value.

    pandas reads such a cell as empty (openpyxl gives the value the file stored; a workbook written
    by a program that does not compute formulas stores none), which would read as "label is empty".
    """
    import openpyxl

    if isinstance(data, io.BytesIO):
        data.seek(0)
    formulas = openpyxl.load_workbook(data, read_only=True, data_only=False)
    if isinstance(data, io.BytesIO):
        data.seek(0)
    values = openpyxl.load_workbook(data, read_only=True, data_only=True)
    try:
        f_rows = formulas.worksheets[0].iter_rows()
        v_rows = values.worksheets[0].iter_rows()
        for f_row, v_row in zip(f_rows, v_rows, strict=False):
            for f_cell, v_cell in zip(f_row, v_row, strict=False):
                if getattr(f_cell, "data_type", None) == "f" and v_cell.value is None:
                    raise DeepDifEInputError(
                        f"{name}, cell {f_cell.coordinate}: a formula ({str(f_cell.value)[:40]}) without a cached "
                        "value (the program that wrote the file did not compute it); open and save the workbook "
                        "in Excel or LibreOffice, or export it as CSV"
                    )
    finally:
        formulas.close()
        values.close()
        if isinstance(data, io.BytesIO):
            data.seek(0)


def read_table(source: str | Path | IO[bytes] | bytes, *, name: str | None = None) -> pd.DataFrame:
    """Read CSV / TSV / TXT / XLSX into a DataFrame of strings (delimiter sniffed).

    The delimiter is a tab, comma or semicolon if the first line holds one, else
    whitespace; only empty cells are missing (a gene called ``NA`` stays a gene);
    formula-neutralised cells of an exported table are restored.

    Parameters
    ----------
    source : str, Path, bytes or binary file object
        The table file.
    name : str, optional
        File name for the format (``.xlsx``/``.xls`` is read as a workbook) and for error
        messages.

    Returns
    -------
    pandas.DataFrame
        The table, every cell a string or NaN.

    Raises
    ------
    DeepDifEInputError
        For a missing, empty or unreadable file.
    """
    name = name or (Path(source).name if isinstance(source, (str, Path)) else "uploaded table")
    lower = name.lower()
    if lower.endswith((".xlsx", ".xls")):
        try:
            data = (
                source
                if isinstance(source, (str, Path))
                else io.BytesIO(source if isinstance(source, (bytes, bytearray)) else source.read())
            )
            _check_xlsx_size(data, name)
            df = pd.read_excel(data, dtype=str, keep_default_na=False, na_values=[""])
            if df.isna().to_numpy().any():
                _check_xlsx_formulas(data, name)
        except FileNotFoundError as exc:
            raise DeepDifEInputError(f"{name}: file not found; check the path") from exc
        except DeepDifEInputError:
            raise
        except Exception as exc:  # openpyxl raises many types for broken files
            raise DeepDifEInputError(
                f"{name}: cannot read as an Excel workbook ({type(exc).__name__}); save it as .xlsx or CSV"
            ) from exc
    else:
        handle = _open_text(source, name)
        text = handle.read()
        if not text.strip():
            raise DeepDifEInputError(f"{name}: the file is empty")
        first = text.splitlines()[0]
        sep = "\t" if "\t" in first else ("," if "," in first else (";" if ";" in first else r"\s+"))
        try:
            # only empty cells are missing: a gene called "NA" or "None" stays a gene
            df = pd.read_csv(
                io.StringIO(text),
                sep=sep,
                dtype=str,
                engine="python",
                comment=None,
                keep_default_na=False,
                na_values=[""],
            )
        except (pd.errors.ParserError, ValueError) as exc:
            raise DeepDifEInputError(
                f"{name}: cannot parse as a table ({str(exc).splitlines()[0]}); use CSV or TSV with a header row"
            ) from exc
    df.columns = [str(c).strip().lstrip("\ufeff").strip() for c in df.columns]
    dup = pd.Index(df.columns)[pd.Index(df.columns).duplicated()]
    if len(dup):
        raise DeepDifEInputError(f"{name}: column {dup[0]!r} appears more than once; rename or remove one of them")
    if df.empty:
        raise DeepDifEInputError(f"{name}: the table has a header but no rows")

    # an exported table (``'=...`` for a cell starting with = + - @) reads back as it was
    return restore_formulas(df)


def _find_column(df: pd.DataFrame, wanted: str, name: str, *, required: bool = True) -> str | None:
    same = [c for c in df.columns if c.lower() == wanted.lower()]
    if len(same) > 1:
        raise DeepDifEInputError(f"{name}: columns {same} are all '{wanted}'; keep one of them")
    col = same[0] if same else None
    if col is None and required:
        raise DeepDifEInputError(
            f"{name}: no column '{wanted}' (columns are {list(df.columns)[:12]}); rename the column or pick it"
        )
    return col


def _parse_labels(values: pd.Series, name: str, ids: pd.Series, line_offset: int = 2) -> np.ndarray:
    mapping = {"0": 0, "1": 1, "0.0": 0, "1.0": 1, "true": 1, "false": 0}
    out = np.empty(len(values), dtype=np.int64)
    for i, (v, gid) in enumerate(zip(values.tolist(), ids.tolist(), strict=True)):
        key = str(v).strip().lower() if v is not None and not (isinstance(v, float) and np.isnan(v)) else ""
        if key not in mapping:
            shown = "empty" if key in ("", "nan", "none") else repr(str(v))
            raise DeepDifEInputError(
                f"{name}, line {i + line_offset} ('{gid}'): label is {shown}, not 0 or 1; "
                "use 1 for responsive and 0 for non-responsive"
            )
        out[i] = mapping[key]
    return out


def _check_ids(ids: pd.Series, name: str, line_offset: int = 2, *, unique: bool = True) -> pd.Series:
    ids = ids.fillna("").astype(str).str.strip()
    for i, gid in enumerate(ids.tolist()):
        if not gid:
            raise DeepDifEInputError(f"{name}, line {i + line_offset}: empty gene ID; fill it in or delete the row")
    if not unique:  # rows of one gene (alternative TSSs) are named or collapsed by _alt_tss
        return ids
    keys = ids.map(normalize_id)
    dup = keys.duplicated(keep="first")
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        first = int(np.flatnonzero((keys == keys.iloc[i]).to_numpy())[0])
        raise DeepDifEInputError(
            f"{name}, line {i + line_offset}: duplicate gene ID '{ids.iloc[i]}' (also line {first + line_offset}); "
            "keep one row per gene"
        )
    return ids


def _check_classes(labels, name: str) -> None:
    """The check of a training set: labels of both classes (0 and 1)."""
    classes = set(pd.Series(labels).unique().tolist())
    if classes != {0, 1}:
        only = "responsive (1)" if classes == {1} else "non-responsive (0)"
        raise DeepDifEInputError(
            f"{name}: every gene is {only}; a classifier needs both classes, add genes of the other class"
        )


def _finish(
    df: pd.DataFrame, cfg: DatasetConfig, report: BuildReport, name: str, *, require_both: bool = True
) -> tuple[pd.DataFrame, BuildReport]:
    """Fit sequences to length, drop N-rich ones, fill families, check classes (``require_both``).

    A frame without a ``label`` column (sequences for a model) is allowed with
    ``require_both=False``.
    """
    if df.empty:
        raise DeepDifEInputError(f"{name}: no genes left to build a dataset from")
    seqs = df["sequence"].astype(str).str.upper()
    lengths = seqs.str.len().to_numpy()
    report.padded = int((lengths < cfg.length).sum())
    report.trimmed = int((lengths > cfg.length).sum())
    df = df.assign(sequence=[pad_or_trim(s, cfg.length, side=cfg.pad_side) for s in seqs])
    nf = n_fraction(df["sequence"].tolist())
    too_many_n = nf > cfg.max_n_fraction
    report.dropped_n = df.loc[too_many_n, "gene_id"].tolist()
    df = df.loc[~too_many_n].reset_index(drop=True)
    if df.empty:
        raise DeepDifEInputError(
            f"{name}: every sequence is more than {cfg.max_n_fraction:.0%} N after fitting to {cfg.length} bp; "
            "check the FASTA or raise the N limit"
        )
    genes = df["gene_id"].map(gene_of)  # the records of one gene (alternative TSSs) are one family
    if "family" not in df.columns or df["family"].isna().all():
        df["family"] = genes
        report.families_from_ids = True
    else:
        fam = df["family"].fillna("").astype(str).str.strip()
        df["family"] = np.where(fam == "", genes, fam)
    if "label" in df.columns:
        df["label"] = df["label"].astype(np.int64)
    if require_both:
        _check_classes(df["label"] if "label" in df.columns else [], name)
    if "split" in df.columns:
        sp = df["split"].fillna("").astype(str).str.strip().str.lower()
        bad = sorted(set(sp) - set(SPLITS))
        if bad:
            raise DeepDifEInputError(f"{name}: split column has {bad[:3]}; use train, val or test")
        df["split"] = sp
    report.n_kept = len(df)
    report.n_genes_kept = int(df["gene_id"].map(normalize_id).nunique())
    cols = [c for c in ("gene_id", "label") if c in df.columns] + ["family", "sequence"]
    cols += [c for c in ("split", "coords") if c in df.columns]
    extra = [c for c in df.columns if c not in cols]
    return df[cols + extra].reset_index(drop=True), report


def _attach_sequences(
    df: pd.DataFrame,
    records: list[FastaRecord],
    table_name: str,
    fasta_name: str,
    *,
    alt_tss: str = ALT_TSS_DATASET,
    report: BuildReport | None = None,
) -> tuple[pd.DataFrame, list[str], int]:
    """The table's genes with their FASTA records.

    A gene with several records (alternative TSSs) gets the first (``alt_tss="first"``)
    or one row per record named by :func:`record_ids` (``"all"``).
    """
    check_alt_tss(alt_tss)
    by_key: dict[str, list[FastaRecord]] = {}
    for r in records:
        by_key.setdefault(normalize_id(r.id), []).append(r)
    keys = df["gene_id"].map(normalize_id)
    found = keys.map(lambda k: k in by_key)
    missing = df.loc[~found, "gene_id"].tolist()
    if not found.any():
        raise DeepDifEInputError(
            f"{table_name}: none of the {len(df)} gene IDs (e.g. '{df['gene_id'].iloc[0]}') is in {fasta_name} "
            f"(e.g. '{records[0].id}'); check that both use the same gene IDs"
        )
    df = df.loc[found].reset_index(drop=True)
    groups = [by_key[k] for k in keys[found]]
    repeated = sum(len(g) > 1 for g in groups)
    if report is not None:
        report.alt_tss, report.repeated_genes = alt_tss, repeated
    if alt_tss == "first":
        if report is not None:
            report.alternatives_left_out = sum(len(g) - 1 for g in groups)
        rows, recs = df, [g[0] for g in groups]
        names = df["gene_id"].tolist()
    else:
        rows = df.loc[np.repeat(np.arange(len(df)), [len(g) for g in groups])].reset_index(drop=True)
        recs = [r for g in groups for r in g]
        names = []
        for gid, g in zip(df["gene_id"], groups, strict=True):
            names += record_ids([gid] * len(g), [coords_from_header(r.header) for r in g], name=fasta_name)
    rows = rows.assign(gene_id=names, sequence=[r.sequence for r in recs])
    coords = [coords_from_header(r.header) for r in recs]
    if any(coords):
        rows["coords"] = coords
    unused = len(records) - len(rows)
    return rows, missing, unused


def dataset_from_table(
    source: str | Path | IO[bytes] | bytes,
    *,
    cfg: DatasetConfig | None = None,
    name: str | None = None,
    require_both: bool = True,
    alt_tss: str = ALT_TSS_DATASET,
) -> tuple[pd.DataFrame, BuildReport]:
    """Dataset from a table with ``gene_id, label, sequence`` (+ ``family``, ``split``, ``coords``).

    Parameters
    ----------
    source : str, Path, bytes or binary file object
        The table (see :func:`read_table`).
    cfg : DatasetConfig, optional
        Length, pad side and N limit the sequences are fitted with (default ``DatasetConfig()``).
    name : str, optional
        File name used in error messages.
    require_both : bool, optional
        True (default) demands both classes; False accepts labels of one class (a table
        to explain, predict or pick motif genes from).  Training checks its own input with
        :func:`validate_training_set`.
    alt_tss : {"first", "all"}, optional
        Rows of one gene (alternative TSSs) are collapsed to the first (``"first"``,
        default) or named by :func:`record_ids` (``"all"``).

    Returns
    -------
    tuple of (pandas.DataFrame, BuildReport)
        The dataset table ``gene_id, label, family, sequence[, split, coords]`` (sequences
        fitted to ``cfg.length``, N-rich rows dropped, missing families from the gene IDs)
        and what was done.
    """
    return _from_table(source, cfg=cfg, name=name, require_both=require_both, labels_required=True, alt_tss=alt_tss)


def sequences_from_table(
    source: str | Path | IO[bytes] | bytes,
    *,
    cfg: DatasetConfig | None = None,
    name: str | None = None,
    alt_tss: str = ALT_TSS_MODEL,
) -> pd.DataFrame:
    """A table of sequences for a model (prediction, explanation, motif input), fitted with ``cfg``.

    ``gene_id`` and ``sequence`` are required; ``label`` is optional and, when present,
    any mix of 0/1 (all responsive is fine: the checks of a training set do not apply).
    ``family``, ``split`` and ``coords`` are kept.  See :func:`records_from_table`.

    Parameters
    ----------
    source : str, Path, bytes or binary file object
        The table (see :func:`read_table`).
    cfg : DatasetConfig, optional
        How sequences are fitted (default ``DatasetConfig()``).
    name : str, optional
        File name used in error messages.
    alt_tss : {"all", "first"}, optional
        Keep every record of a gene (``"all"``, default) or the first.

    Returns
    -------
    pandas.DataFrame
        ``gene_id[, label], family, sequence[, split, coords]``.
    """
    return records_from_table(source, cfg=cfg, name=name, alt_tss=alt_tss)[0]


def records_from_table(
    source: str | Path | IO[bytes] | bytes,
    *,
    cfg: DatasetConfig | None = None,
    name: str | None = None,
    alt_tss: str = ALT_TSS_MODEL,
) -> tuple[pd.DataFrame, BuildReport]:
    """:func:`sequences_from_table` and its :class:`BuildReport`.

    Rows of one gene keep their own identity (:func:`record_ids`, ``alt_tss="all"``,
    the default) or only the first is kept (``"first"``).

    Parameters
    ----------
    source, cfg, name : str, Path, bytes or binary file object; DatasetConfig; str
        As for :func:`sequences_from_table`.
    alt_tss : {"all", "first"}, optional
        What to do with several records of one gene.

    Returns
    -------
    tuple of (pandas.DataFrame, BuildReport)
        The table as :func:`sequences_from_table` gives it, and the report
        (``records_note()`` says what happened to repeated genes).
    """
    return _from_table(source, cfg=cfg, name=name, require_both=False, labels_required=False, alt_tss=alt_tss)


def _from_table(
    source: str | Path | IO[bytes] | bytes,
    *,
    cfg: DatasetConfig | None,
    name: str | None,
    require_both: bool,
    labels_required: bool,
    alt_tss: str,
) -> tuple[pd.DataFrame, BuildReport]:
    cfg = cfg or DatasetConfig()
    check_alt_tss(alt_tss)
    name = name or (Path(source).name if isinstance(source, (str, Path)) else "uploaded table")
    raw = read_table(source, name=name)
    cols = {w: _find_column(raw, w, name, required=labels_required or w != "label") for w in REQUIRED_COLUMNS}
    fam = _find_column(raw, "family", name, required=False)
    split = _find_column(raw, "split", name, required=False)
    coords = _find_column(raw, "coords", name, required=False)
    ids = _check_ids(raw[cols["gene_id"]], name, unique=False)
    labels = _parse_labels(raw[cols["label"]], name, ids) if cols["label"] else None
    seqs = raw[cols["sequence"]].fillna("").astype(str).str.strip()
    for i, (gid, seq) in enumerate(zip(ids, seqs, strict=True)):
        if not seq:
            raise DeepDifEInputError(f"{name}, line {i + 2} ('{gid}'): empty sequence; fill it in or delete the row")
        count, example = _non_dna(seq)
        if count:
            raise DeepDifEInputError(
                f"{name}, line {i + 2} ('{gid}'): {count} characters are not DNA (e.g. {example!r}); use A/C/G/T/N"
            )
    df = pd.DataFrame({"gene_id": ids, "sequence": seqs.str.upper()})
    if labels is not None:
        df["label"] = labels
    if fam:
        df["family"] = raw[fam].values
    if split:
        df["split"] = raw[split].values
    if coords:
        df["coords"] = raw[coords].values
    report = BuildReport(n_input=len(df))
    df = _alt_tss(df, alt_tss, report, name, where=[f"line {i + 2}" for i in range(len(df))])
    return _finish(df, cfg, report, name, require_both=require_both)


def _sequence_records(
    fasta: str | Path | IO[bytes] | bytes | None,
    fasta_name: str,
    promoters,
    ids: list[str],
    report: BuildReport,
) -> tuple[list[FastaRecord], str]:
    """The records the builders attach: ``fasta``'s, or ``promoters(ids)``'s.

    ``promoters`` cuts them from a registered genome
    (:class:`deepdife_core.genome.registry.GenomePromoters`); its notes go to ``report``.
    """
    if promoters is None:
        if fasta is None:
            raise DeepDifEInputError("no promoter sequences: give a promoter FASTA or a registered genome")
        return read_fasta(fasta, name=fasta_name), fasta_name
    records, notes = promoters(list(ids))
    report.notes.extend(notes)
    return records, promoters.name


def dataset_from_labels(
    labels: str | Path | IO[bytes] | bytes,
    fasta: str | Path | IO[bytes] | bytes | None,
    *,
    cfg: DatasetConfig | None = None,
    labels_name: str | None = None,
    fasta_name: str | None = None,
    alt_tss: str = ALT_TSS_DATASET,
    promoters=None,
) -> tuple[pd.DataFrame, BuildReport]:
    """Dataset from a labels table (``gene_id, label[, family]``) plus a promoter FASTA.

    A gene with several FASTA records (alternative TSSs) gets its first record
    (``alt_tss="first"``, counted in the report) or one row per record (``"all"``).

    Parameters
    ----------
    labels : str, Path, bytes or binary file object
        The labels table (see :func:`read_table`); labels 0/1.
    fasta : str, Path, bytes, binary file object or None
        The promoter FASTA; None only with ``promoters``.
    cfg : DatasetConfig, optional
        How sequences are fitted (default ``DatasetConfig()``).
    labels_name, fasta_name : str, optional
        File names used in error messages.
    alt_tss : {"first", "all"}, optional
        What to do with several records of one gene (default ``"first"``).
    promoters : callable, optional
        Replaces the FASTA (e.g. :class:`deepdife_core.genome.registry.GenomePromoters`):
        called with the list of gene IDs, it gives their records and report notes.

    Returns
    -------
    tuple of (pandas.DataFrame, BuildReport)
        The dataset table ``gene_id, label, family, sequence`` and what was done (genes
        without a sequence, unused sequences, padding, N drops).
    """
    cfg = cfg or DatasetConfig()
    labels_name = labels_name or (Path(labels).name if isinstance(labels, (str, Path)) else "labels table")
    fasta_name = fasta_name or (Path(fasta).name if isinstance(fasta, (str, Path)) else "uploaded FASTA")
    raw = read_table(labels, name=labels_name)
    gcol = _find_column(raw, "gene_id", labels_name)
    lcol = _find_column(raw, "label", labels_name)
    fam = _find_column(raw, "family", labels_name, required=False)
    split = _find_column(raw, "split", labels_name, required=False)
    ids = _check_ids(raw[gcol], labels_name)
    df = pd.DataFrame({"gene_id": ids, "label": _parse_labels(raw[lcol], labels_name, ids)})
    if fam:
        df["family"] = raw[fam].values
    if split:
        df["split"] = raw[split].values
    report = BuildReport(n_input=len(df))
    records, fasta_name = _sequence_records(fasta, fasta_name, promoters, df["gene_id"].tolist(), report)
    df, report.missing_sequence, report.unused_sequences = _attach_sequences(
        df, records, labels_name, fasta_name, alt_tss=alt_tss, report=report
    )
    return _finish(df, cfg, report, labels_name)


def read_gene_list(source: str | Path | IO[bytes] | bytes, *, name: str | None = None) -> list[str]:
    """Gene IDs, one per line.

    The first word of each line counts (up to a tab or comma); a first header line
    ``gene``/``gene_id``/``geneid``/``id`` and ``#`` comments are skipped.

    Parameters
    ----------
    source : str, Path, bytes or binary file object
        The list.
    name : str, optional
        File name used in error messages.

    Returns
    -------
    list of str
        The IDs in file order.

    Raises
    ------
    DeepDifEInputError
        If no ID is found.
    """
    name = name or (Path(source).name if isinstance(source, (str, Path)) else "gene list")
    text = _open_text(source, name).read()
    ids = []
    for line in text.splitlines():
        word = line.strip().split("\t")[0].split(",")[0].strip()
        if not word or word.startswith("#"):
            continue
        if not ids and word.lower() in ("gene", "gene_id", "geneid", "id"):
            continue
        ids.append(word)
    if not ids:
        raise DeepDifEInputError(f"{name}: no gene IDs found; give one gene ID per line")
    return ids


def dataset_from_gene_lists(
    responsive: str | Path | IO[bytes] | bytes,
    non_responsive: str | Path | IO[bytes] | bytes,
    fasta: str | Path | IO[bytes] | bytes | None,
    *,
    cfg: DatasetConfig | None = None,
    names: tuple[str, str, str] | None = None,
    alt_tss: str = ALT_TSS_DATASET,
    promoters=None,
) -> tuple[pd.DataFrame, BuildReport]:
    """Dataset from two gene lists (label 1 / label 0) plus a promoter FASTA (or ``promoters``).

    A gene in both lists is an error (the message names it).

    Parameters
    ----------
    responsive : str, Path, bytes or binary file object
        Gene list of label 1 (see :func:`read_gene_list`).
    non_responsive : str, Path, bytes or binary file object
        Gene list of label 0.
    fasta : str, Path, bytes, binary file object or None
        The promoter FASTA; None only with ``promoters``.
    cfg : DatasetConfig, optional
        How sequences are fitted (default ``DatasetConfig()``).
    names : tuple of (str, str, str), optional
        File names of the two lists and the FASTA for error messages.
    alt_tss : {"first", "all"}, optional
        As in :func:`dataset_from_labels`.
    promoters : callable, optional
        As in :func:`dataset_from_labels`.

    Returns
    -------
    tuple of (pandas.DataFrame, BuildReport)
        The dataset table ``gene_id, label, family, sequence`` and what was done.
    """
    cfg = cfg or DatasetConfig()
    pos_name, neg_name, fa_name = names or (
        Path(responsive).name if isinstance(responsive, (str, Path)) else "responsive list",
        Path(non_responsive).name if isinstance(non_responsive, (str, Path)) else "non-responsive list",
        Path(fasta).name if isinstance(fasta, (str, Path)) else "uploaded FASTA",
    )
    pos = read_gene_list(responsive, name=pos_name)
    neg = read_gene_list(non_responsive, name=neg_name)
    both = sorted({normalize_id(g) for g in pos} & {normalize_id(g) for g in neg})
    if both:
        raise DeepDifEInputError(
            f"{pos_name} and {neg_name}: {len(both)} genes are in both lists (e.g. '{both[0]}'); "
            "a gene must be either responsive or not"
        )
    ids = pd.Series(pos + neg)
    _check_ids(ids, f"{pos_name}+{neg_name}", line_offset=1)
    df = pd.DataFrame({"gene_id": ids, "label": [1] * len(pos) + [0] * len(neg)})
    report = BuildReport(n_input=len(df))
    records, fa_name = _sequence_records(fasta, fa_name, promoters, df["gene_id"].tolist(), report)
    df, report.missing_sequence, report.unused_sequences = _attach_sequences(
        df, records, pos_name, fa_name, alt_tss=alt_tss, report=report
    )
    return _finish(df, cfg, report, pos_name)


@dataclass(frozen=True)
class DEThresholds:
    """How a differential-expression table defines the classes.

    Responsive (1): ``padj <= padj_max`` and ``|log2FC| >= lfc_min`` (or only
    up/down with ``direction``).  Non-responsive (0): ``padj >= padj_neg_min`` and
    ``|log2FC| <= lfc_neg_max``.  Everything else is the excluded grey zone.
    """

    lfc_min: float = 1.0
    padj_max: float = 0.05
    lfc_neg_max: float = 0.5
    padj_neg_min: float = 0.5
    direction: str = "both"

    def __post_init__(self) -> None:
        if self.direction not in ("both", "up", "down"):
            raise DeepDifEInputError(f"direction must be both, up or down, got {self.direction!r}")
        if self.lfc_min < 0 or self.lfc_neg_max < 0:
            raise DeepDifEInputError("log2FC thresholds must be >= 0 (they apply to |log2FC|)")
        if not (0 <= self.padj_max <= 1 and 0 <= self.padj_neg_min <= 1):
            raise DeepDifEInputError("adjusted p-value thresholds must be in [0, 1]")


def read_de_table(
    source: str | Path | IO[bytes] | bytes,
    *,
    gene_col: str,
    lfc_col: str,
    padj_col: str,
    name: str | None = None,
) -> pd.DataFrame:
    """DE table -> ``gene_id, log2fc, padj`` (numbers checked; NA p-values count as 1).

    Parameters
    ----------
    source : str, Path, bytes or binary file object
        The differential-expression table (see :func:`read_table`).
    gene_col, lfc_col, padj_col : str
        Names of the gene, log2 fold-change and adjusted p-value columns (case-insensitive).
    name : str, optional
        File name used in error messages.

    Returns
    -------
    pandas.DataFrame
        ``gene_id`` (str), ``log2fc`` and ``padj`` (float64; NA/NaN text gives NaN, a
        missing ``padj`` becomes 1).

    Raises
    ------
    DeepDifEInputError
        For a missing column, a bad gene ID, a value that is not a number or a ``padj``
        outside [0, 1].
    """
    name = name or (Path(source).name if isinstance(source, (str, Path)) else "DE table")
    raw = read_table(source, name=name)
    g = _find_column(raw, gene_col, name)
    lf = _find_column(raw, lfc_col, name)
    pa = _find_column(raw, padj_col, name)
    ids = _check_ids(raw[g], name)
    out = pd.DataFrame({"gene_id": ids})
    for col, new in ((lf, "log2fc"), (pa, "padj")):
        text = raw[col].fillna("NA").astype(str).str.strip()
        nums = pd.to_numeric(text.where(~text.str.upper().isin(["NA", "NAN", ""]), "nan"), errors="coerce")
        bad = nums.isna() & ~text.str.upper().isin(["NA", "NAN", ""])
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DeepDifEInputError(
                f"{name}, line {i + 2} ('{ids.iloc[i]}'): {col} is {text.iloc[i]!r}, not a number; fix or remove the row"
            )
        out[new] = nums.to_numpy(dtype=float)
    out["padj"] = out["padj"].fillna(1.0)
    if ((out["padj"] < 0) | (out["padj"] > 1)).any():
        i = int(np.flatnonzero(((out["padj"] < 0) | (out["padj"] > 1)).to_numpy())[0])
        raise DeepDifEInputError(f"{name}, line {i + 2}: adjusted p-value {out['padj'].iloc[i]} is not in [0, 1]")
    return out


def classify_de(de: pd.DataFrame, thresholds: DEThresholds) -> pd.Series:
    """Label each row of a :func:`read_de_table` frame: 1, 0, or -1 (grey zone, excluded).

    Vectorised.

    Parameters
    ----------
    de : pandas.DataFrame
        ``log2fc`` and ``padj`` columns.
    thresholds : DEThresholds
        The class definitions (direction, padj / log2FC limits).

    Returns
    -------
    pandas.Series
        int ``(n,)`` on ``de``'s index: 1 responsive, 0 non-responsive, -1 neither.
    """
    lfc = de["log2fc"].to_numpy()
    padj = de["padj"].to_numpy()
    signed = {"both": np.abs(lfc), "up": lfc, "down": -lfc}[thresholds.direction]
    with np.errstate(invalid="ignore"):
        pos = (padj <= thresholds.padj_max) & (signed >= thresholds.lfc_min)
        neg = (padj >= thresholds.padj_neg_min) & (np.abs(lfc) <= thresholds.lfc_neg_max)
    return pd.Series(np.where(pos, 1, np.where(neg, 0, -1)), index=de.index)


def dataset_from_de_table(
    de_source: str | Path | IO[bytes] | bytes,
    fasta: str | Path | IO[bytes] | bytes | None,
    *,
    gene_col: str = "gene_id",
    lfc_col: str = "log2FoldChange",
    padj_col: str = "padj",
    thresholds: DEThresholds | None = None,
    cfg: DatasetConfig | None = None,
    de_name: str | None = None,
    fasta_name: str | None = None,
    alt_tss: str = ALT_TSS_DATASET,
    promoters=None,
) -> tuple[pd.DataFrame, BuildReport]:
    """Dataset from a DE table (gene, log2FC, padj) with thresholds, plus a promoter FASTA.

    Rows in the grey zone (neither class by ``thresholds``) are excluded and counted.

    Parameters
    ----------
    de_source : str, Path, bytes or binary file object
        The DE table (see :func:`read_de_table`).
    fasta : str, Path, bytes, binary file object or None
        The promoter FASTA; None only with ``promoters``.
    gene_col, lfc_col, padj_col : str, optional
        Column names (defaults ``gene_id``, ``log2FoldChange``, ``padj``).
    thresholds : DEThresholds, optional
        The class definitions (default ``DEThresholds()``).
    cfg : DatasetConfig, optional
        How sequences are fitted (default ``DatasetConfig()``).
    de_name, fasta_name : str, optional
        File names used in error messages.
    alt_tss : {"first", "all"}, optional
        As in :func:`dataset_from_labels`.
    promoters : callable, optional
        Replaces the FASTA, as in :func:`dataset_from_labels`.

    Returns
    -------
    tuple of (pandas.DataFrame, BuildReport)
        The dataset table ``gene_id, label, family, sequence`` and what was done
        (``excluded_grey_zone`` among it).

    Raises
    ------
    DeepDifEInputError
        When every gene is in the grey zone, or as the readers do.
    """
    thresholds = thresholds or DEThresholds()
    de_name = de_name or (Path(de_source).name if isinstance(de_source, (str, Path)) else "DE table")
    fasta_name = fasta_name or (Path(fasta).name if isinstance(fasta, (str, Path)) else "uploaded FASTA")
    de = read_de_table(de_source, gene_col=gene_col, lfc_col=lfc_col, padj_col=padj_col, name=de_name)
    cls = classify_de(de, thresholds)
    grey = int((cls == -1).sum())
    if grey == len(de):
        raise DeepDifEInputError(
            f"{de_name}: all {len(de)} genes fall in the grey zone between the thresholds; "
            "loosen the log2FC / adjusted-p thresholds"
        )
    df = pd.DataFrame({"gene_id": de["gene_id"][cls >= 0], "label": cls[cls >= 0]}).reset_index(drop=True)
    report = BuildReport(n_input=len(de), excluded_grey_zone=grey)
    records, fasta_name = _sequence_records(fasta, fasta_name, promoters, df["gene_id"].tolist(), report)
    df, report.missing_sequence, report.unused_sequences = _attach_sequences(
        df, records, de_name, fasta_name, alt_tss=alt_tss, report=report
    )
    return _finish(df, cfg or DatasetConfig(), report, de_name)


def dataset_from_labelled_fasta(
    fasta: str | Path | IO[bytes] | bytes,
    *,
    cfg: DatasetConfig | None = None,
    name: str | None = None,
    alt_tss: str = ALT_TSS_DATASET,
) -> tuple[pd.DataFrame, BuildReport]:
    """Dataset from a FASTA whose IDs end in ``_0`` / ``_1`` (DeepDifE's ``GENEID_LABEL`` headers).

    Several records of one gene (alternative TSSs) must share a label; ``alt_tss`` keeps
    the first (``"first"``, counted in the report) or all, named by :func:`record_ids`.

    Parameters
    ----------
    fasta : str, Path, bytes or binary file object
        The labelled FASTA.
    cfg : DatasetConfig, optional
        How sequences are fitted (default ``DatasetConfig()``).
    name : str, optional
        File name used in error messages.
    alt_tss : {"first", "all"}, optional
        What to do with several records of one gene.

    Returns
    -------
    tuple of (pandas.DataFrame, BuildReport)
        The dataset table ``gene_id, label, family, sequence[, coords]`` and what was done.

    Raises
    ------
    DeepDifEInputError
        For a header that does not end in ``_0``/``_1``, or an invalid ID.
    """
    name = name or (Path(fasta).name if isinstance(fasta, (str, Path)) else "uploaded FASTA")
    records = read_fasta(fasta, name=name)
    ids, labels = [], []
    for i, rec in enumerate(records, start=1):
        gid, sep, lab = rec.id.rpartition("_")
        if not sep or lab not in ("0", "1") or not gid:
            raise DeepDifEInputError(
                f"{name}, record {i} ('{rec.id}', line {rec.line}): header does not end in _0 or _1; "
                "use >GENEID_LABEL headers or give a separate labels table"
            )
        ids.append(gid)
        labels.append(int(lab))
    df = pd.DataFrame({"gene_id": ids, "label": labels, "sequence": [r.sequence for r in records]})
    coords = [coords_from_header(r.header) for r in records]
    if any(coords):
        df["coords"] = coords
    _check_ids(df["gene_id"], name, line_offset=1, unique=False)
    report = BuildReport(n_input=len(df))
    where = [f"record {i} ('{r.id}', line {r.line})" for i, r in enumerate(records, start=1)]
    df = _alt_tss(df, alt_tss, report, name, where=where)
    return _finish(df, cfg or DatasetConfig(), report, name)


def sequences_from_fasta(
    fasta: str | Path | IO[bytes] | bytes,
    *,
    length: int,
    pad_side: str = "left",
    name: str | None = None,
    alt_tss: str = ALT_TSS_MODEL,
) -> pd.DataFrame:
    """Unlabelled sequences for prediction: ``gene_id, sequence[, coords]`` fitted to ``length``.

    ``gene_id`` is the record identity (:func:`record_ids`); see :func:`records_from_fasta`.

    Parameters
    ----------
    fasta : str, Path, bytes or binary file object
        The FASTA (plain or gzip).
    length : int
        The model's input length.
    pad_side : {"left", "right"}, optional
        Where sequences are padded or trimmed (default ``"left"``, keeps the TSS end).
    name : str, optional
        File name used in error messages.
    alt_tss : {"all", "first"}, optional
        Keep every record of a gene (default) or the first.

    Returns
    -------
    pandas.DataFrame
        ``gene_id, sequence[, coords]`` in file order.
    """
    return records_from_fasta(fasta, length=length, pad_side=pad_side, name=name, alt_tss=alt_tss)[0]


def records_from_fasta(
    fasta: str | Path | IO[bytes] | bytes,
    *,
    length: int,
    pad_side: str = "left",
    name: str | None = None,
    alt_tss: str = ALT_TSS_MODEL,
) -> tuple[pd.DataFrame, BuildReport]:
    """The records of a FASTA for a model, named by the record-identity rule, and what was done with them.

    Parameters
    ----------
    fasta
        Path, bytes or binary file object (plain or gzip).
    length
        The model's input length: sequences are trimmed or N-padded to it.
    pad_side
        Where sequences are padded or trimmed (``"left"`` keeps the TSS end).
    name
        File name used in error messages.
    alt_tss
        ``"all"`` (default): every record of a gene with several (alternative TSSs)
        is kept, named ``GENE::Chr:start-end(strand)`` or ``GENE#k``; ``"first"``: the
        first record of each gene.

    Returns
    -------
    tuple of pandas.DataFrame, BuildReport
        ``gene_id, sequence[, coords]`` in file order, and the report
        (``repeated_genes``, ``alternatives_left_out``, ``records_note()``).
    """
    records = read_fasta(fasta, name=name)
    name = name or (Path(fasta).name if isinstance(fasta, (str, Path)) else "uploaded FASTA")
    df = pd.DataFrame(
        {
            "gene_id": [r.id.split("::")[0] or r.id for r in records],
            "sequence": [pad_or_trim(r.sequence, length, side=pad_side) for r in records],
        }
    )
    coords = [coords_from_header(r.header) for r in records]
    if any(coords):
        df["coords"] = coords
    report = BuildReport(n_input=len(records))
    df = _alt_tss(df, alt_tss, report, name)
    report.n_kept = len(df)
    return df, report


def validate_training_set(df: pd.DataFrame, *, name: str = "dataset") -> pd.DataFrame:
    """:func:`validate_dataset` plus the checks of a training set: labels 0/1 of both classes.

    Used by training, cross-validation and tuning; tables to explain, predict or
    pick motif genes from only need :func:`validate_dataset` / :func:`sequences_from_table`.

    Parameters
    ----------
    df, name : pandas.DataFrame, str
        As for :func:`validate_dataset`.

    Returns
    -------
    pandas.DataFrame
        ``df`` itself, checked as a training set.

    Raises
    ------
    DeepDifEInputError
        As :func:`validate_dataset`, or for a label that is not 0/1 or a single class.
    """
    df = validate_dataset(df, name=name)
    bad = ~df["label"].isin([0, 1])
    if bad.any():
        raise DeepDifEInputError(
            f"{name}: label of '{df['gene_id'][bad].iloc[0]}' is {df['label'][bad].iloc[0]!r}, not 0 or 1"
        )
    _check_classes(df["label"], name)
    return df


def validate_dataset(df: pd.DataFrame, *, name: str = "dataset") -> pd.DataFrame:
    """Check a dataset table in memory (columns, IDs, one sequence length); labels may be of one class.

    Parameters
    ----------
    df : pandas.DataFrame
        A dataset table (``gene_id, label, family, sequence``).
    name : str, optional
        Its name in error messages (default ``"dataset"``).

    Returns
    -------
    pandas.DataFrame
        ``df`` itself.

    Raises
    ------
    DeepDifEInputError
        For a missing column, an empty table or sequences of several lengths.
    """
    for col in ("gene_id", "label", "family", "sequence"):
        if col not in df.columns:
            raise DeepDifEInputError(f"{name}: missing column '{col}'")
    if df.empty:
        raise DeepDifEInputError(f"{name}: the dataset is empty")
    lengths = df["sequence"].str.len().unique()
    if len(lengths) != 1:
        raise DeepDifEInputError(f"{name}: sequences have several lengths {sorted(lengths)[:5]}; rebuild the dataset")
    return df


def summarize(df: pd.DataFrame) -> dict:
    """Counts per class, lengths, N fraction and families of a dataset table.

    Parameters
    ----------
    df : pandas.DataFrame
        A dataset table (``sequence`` required; ``label``, ``family``, ``split`` used if present).

    Returns
    -------
    dict
        ``n_genes``, ``n_responsive``, ``n_non_responsive`` (None without labels),
        ``length_min``, ``length_max``, ``n_fraction_mean``, ``n_fraction_max``,
        ``n_families``, ``largest_family`` and, with a split column, ``splits`` (part -> count).
    """
    nf = n_fraction(df["sequence"].tolist())
    lengths = df["sequence"].str.len()
    fam_sizes = df.groupby("family").size() if "family" in df.columns else pd.Series(dtype=int)
    out = {
        "n_genes": len(df),
        "n_responsive": int((df["label"] == 1).sum()) if "label" in df.columns else None,
        "n_non_responsive": int((df["label"] == 0).sum()) if "label" in df.columns else None,
        "length_min": int(lengths.min()),
        "length_max": int(lengths.max()),
        "n_fraction_mean": round(float(nf.mean()), 4),
        "n_fraction_max": round(float(nf.max()), 4),
        "n_families": len(fam_sizes),
        "largest_family": int(fam_sizes.max()) if len(fam_sizes) else 0,
    }
    if "split" in df.columns:
        out["splits"] = {k: int(v) for k, v in df["split"].value_counts().items()}
    return out


def _read_parquet(path: Path) -> pd.DataFrame:
    """A parquet table read batch by batch, stopping once its decoded columns exceed :func:`decompressed_limit`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    limit = decompressed_limit()
    try:
        pf = pq.ParquetFile(path)
        batches, total = [], 0
        for batch in pf.iter_batches(batch_size=65_536):
            total += batch.nbytes
            if total > limit:
                raise _too_big(path.name, limit, "the table unpacks to")
            batches.append(batch)
        return pa.Table.from_batches(batches, schema=pf.schema_arrow).to_pandas()
    except DeepDifEInputError:
        raise
    except Exception as exc:
        raise DeepDifEInputError(f"{path.name}: cannot read parquet ({type(exc).__name__})") from exc


def load_dataset(path: str | Path, *, cfg: DatasetConfig | None = None) -> pd.DataFrame:
    """Read a saved dataset table (CSV/TSV/XLSX/parquet) and validate it.

    Labels may be of one class (a table of responsive genes to explain); training
    refuses such a table itself (:func:`validate_training_set`).  Every saved row is
    kept (``alt_tss="all"``).

    Parameters
    ----------
    path : str or Path
        The table file.
    cfg : DatasetConfig, optional
        How to fit the sequences; by default the table's longest sequence sets the
        length and no row is dropped for N.

    Returns
    -------
    pandas.DataFrame
        The dataset table ``gene_id, label, family, sequence[, split, coords]``.
    """
    path = Path(path)
    if path.suffix == ".parquet":
        return validate_dataset(_read_parquet(path), name=path.name)
    if cfg is None:
        # keep whatever length the table already has, and every row: the table was filtered for N
        # when it was built (with the user's own limit), so reading it back must not drop genes
        raw = read_table(path)
        seqcol = _find_column(raw, "sequence", path.name)
        lens = raw[seqcol].fillna("").astype(str).str.strip().str.len()
        cfg = DatasetConfig(
            length=int(lens.max()) if len(lens) and lens.max() > 0 else DatasetConfig().length, max_n_fraction=1.0
        )
    # every row as saved: the table's records of one gene were kept or collapsed when it was built
    df, _ = dataset_from_table(path, cfg=cfg, require_both=False, alt_tss="all")
    return df


def read_dataset_config(path: str | Path) -> DatasetConfig | None:
    """How the dataset table at ``path`` was fitted, from its sidecar, or None when none says so.

    The sidecar is ``<table>.json`` (``deepdife dataset build --manifest``) or, for a
    workspace dataset ``<name>/data.csv``, ``<name>/dataset.json`` (the dashboard's
    Data page).  Its ``config`` holds the :class:`DatasetConfig` fields; manifests
    older than that give ``length`` and ``pad_side`` at the top level.

    Parameters
    ----------
    path : str or Path
        The dataset table.

    Returns
    -------
    DatasetConfig or None
        The fitting settings, or None without a sidecar that names them.

    Raises
    ------
    DeepDifEInputError
        For an unreadable sidecar or invalid settings in it.
    """
    path = Path(path)
    candidates = [path.with_suffix(".json")]
    if path.name == "data.csv":
        candidates.append(path.parent / "dataset.json")
    for side in candidates:
        if side == path or not side.is_file():
            continue
        try:
            meta = json.loads(side.read_text())
        except (OSError, ValueError) as exc:
            raise DeepDifEInputError(
                f"{side.name}: cannot read the dataset manifest ({exc}); fix or delete it"
            ) from exc
        if not isinstance(meta, dict):
            continue
        fields = meta.get("config") if isinstance(meta.get("config"), dict) else None
        if fields is None and "length" in meta and "pad_side" in meta:
            fields = {"length": meta["length"], "pad_side": meta["pad_side"]}
        if fields is None:
            continue

        try:
            return from_dict(DatasetConfig, fields)
        except (TypeError, ValueError) as exc:
            raise DeepDifEInputError(f"{side.name}: invalid dataset settings ({exc})") from exc
    return None


# ----------------------------------------------------------------------------- orthologs


def read_ortholog_table(source: str | Path | IO[bytes] | bytes, *, name: str | None = None) -> pd.DataFrame:
    """Ortholog pairs ``gene_id, ortholog_id[, species]`` (with that header, or two headerless columns).

    Lines are split at tabs or commas (else whitespace); ``#`` lines and blank lines are skipped.

    Parameters
    ----------
    source : str, Path, bytes or binary file object
        The table.
    name : str, optional
        File name used in error messages.

    Returns
    -------
    pandas.DataFrame
        ``gene_id, ortholog_id, species`` (str; ``species`` ``""`` when not given).

    Raises
    ------
    DeepDifEInputError
        For a table without pairs or a line without both IDs.
    """
    name = name or (Path(source).name if isinstance(source, (str, Path)) else "ortholog table")
    text = _open_text(source, name).read()
    rows = [
        line.replace(",", "\t").split("\t") if "\t" in line or "," in line else line.split()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    ]
    if not rows:
        raise DeepDifEInputError(f"{name}: no ortholog pairs found; give gene_id<TAB>ortholog_id lines")
    header = [c.strip().lower() for c in rows[0]]
    if "gene_id" in header and "ortholog_id" in header:
        gi, oi = header.index("gene_id"), header.index("ortholog_id")
        si = header.index("species") if "species" in header else None
        rows = rows[1:]
        first_line = 2
    else:
        gi, oi, si, first_line = 0, 1, (2 if len(rows[0]) > 2 else None), 1
    if not rows:
        raise DeepDifEInputError(f"{name}: a header but no ortholog pairs; add gene_id<TAB>ortholog_id lines")
    genes, orths, species = [], [], []
    for i, r in enumerate(rows):
        r = [c.strip() for c in r]
        if len(r) <= max(gi, oi) or not r[gi] or not r[oi]:
            raise DeepDifEInputError(
                f"{name}, line {i + first_line}: expected gene_id and ortholog_id separated by a tab, got {r!r}"
            )
        genes.append(r[gi])
        orths.append(r[oi])
        species.append(r[si] if si is not None and len(r) > si else "")
    return pd.DataFrame({"gene_id": genes, "ortholog_id": orths, "species": species})


def orthologs_via_reference(primary_pairs: pd.DataFrame, other_pairs: pd.DataFrame, *, species: str) -> pd.DataFrame:
    """Join two ``reference -> ortholog`` tables on the reference gene.

    ``primary_pairs`` maps a reference gene (e.g. Arabidopsis) to the primary
    species' gene (e.g. *A. lyrata*), ``other_pairs`` to another species' gene
    (e.g. *C. rubella*).

    Parameters
    ----------
    primary_pairs : pandas.DataFrame
        ``gene_id`` (reference gene), ``ortholog_id`` (primary species' gene).
    other_pairs : pandas.DataFrame
        ``gene_id`` (reference gene), ``ortholog_id`` (other species' gene).
    species : str
        Name of the other species, put in every row.

    Returns
    -------
    pandas.DataFrame
        ``gene_id`` (primary gene), ``ortholog_id`` (other species' gene), ``species`` and
        ``reference`` (the join key); an inner join.
    """
    a = primary_pairs.rename(columns={"gene_id": "reference", "ortholog_id": "gene_id"})[["reference", "gene_id"]]
    b = other_pairs.rename(columns={"gene_id": "reference"})[["reference", "ortholog_id"]]
    out = a.merge(b, on="reference", how="inner")
    out["species"] = species
    return out[["gene_id", "ortholog_id", "species", "reference"]]


@dataclass
class Orthologs:
    """PhyloAug input: pairs ``gene_id, ortholog_id, species`` and the orthologs' sequences."""

    table: pd.DataFrame
    sequences: dict[str, str]

    def one_hot(self, length: int, pad_side: str = "left") -> dict[str, np.ndarray]:
        """One-hot ortholog sequences, fitted like the primary sequences.

        Parameters
        ----------
        length : int
            Input length ``L`` the sequences are padded or trimmed to.
        pad_side : {"left", "right"}, optional
            Where they are padded or trimmed (default ``"left"``).

        Returns
        -------
        dict of str to numpy.ndarray
            ``ortholog_id -> (L, 4)`` float32 one-hot.
        """
        ids = list(self.sequences)
        x = one_hot([pad_or_trim(self.sequences[i], length, side=pad_side) for i in ids])
        return dict(zip(ids, x, strict=True))


def read_orthologs(
    table: str | Path | pd.DataFrame,
    fastas: list[str | Path],
    *,
    table_name: str | None = None,
):
    """Ortholog pairs plus their sequences (:class:`~deepdife_core.data.io.Orthologs`).

    The species of a pair is the table's ``species`` column, or else the stem of the
    FASTA file that holds the ortholog.  Pairs whose ortholog has no sequence are dropped.
    FASTA IDs are matched by :func:`normalize_id` (a ``_0``/``_1`` label suffix removed).

    Parameters
    ----------
    table : str, Path or pandas.DataFrame
        The ortholog table (see :func:`read_ortholog_table`) or its frame.
    fastas : list of str or Path
        FASTA files with the orthologs' promoters.
    table_name : str, optional
        Table name used in error messages.

    Returns
    -------
    Orthologs
        The kept pairs (``ortholog_id`` normalised) and the sequences of the orthologs used.

    Raises
    ------
    DeepDifEInputError
        Without FASTA files, or when no ortholog has a sequence.
    """
    from deepdife_core.data.io import Orthologs

    pairs = table if isinstance(table, pd.DataFrame) else read_ortholog_table(table, name=table_name)
    if not fastas:
        raise DeepDifEInputError("PhyloAug needs the orthologs' promoter FASTA: add fastas=FILE")
    seqs: dict[str, str] = {}
    species_of: dict[str, str] = {}
    for fa in fastas:
        stem = Path(fa).name.split(".")[0]
        for rec in read_fasta(fa):
            key = normalize_id(rec.id.rsplit("_", 1)[0] if re.search(r"_[01]$", rec.id) else rec.id)
            seqs.setdefault(key, rec.sequence)
            species_of.setdefault(key, stem)
    pairs = pairs.copy()
    pairs["ortholog_id"] = pairs["ortholog_id"].map(normalize_id)
    pairs = pairs[pairs["ortholog_id"].isin(seqs)].reset_index(drop=True)
    if pairs.empty:
        raise DeepDifEInputError(
            "no ortholog in the table has a sequence in the ortholog FASTA; check that the IDs match"
        )
    missing_sp = pairs["species"].fillna("").eq("")
    pairs.loc[missing_sp, "species"] = pairs.loc[missing_sp, "ortholog_id"].map(species_of)
    used = set(pairs["ortholog_id"])
    return Orthologs(table=pairs, sequences={k: v for k, v in seqs.items() if k in used})
