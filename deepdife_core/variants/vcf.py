"""VCF reading with :class:`pysam.VariantFile`: region queries per promoter window, alleles split and filtered."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.genome.chroms import suggest

_BASES = frozenset("ACGTN")


@dataclass
class ReadReport:
    """What reading skipped: counts per reason, and the REF mismatches (``chrom:pos REF``, one per record)."""

    n_records: int = 0
    filtered: int = 0
    symbolic: int = 0
    long_indel: int = 0
    partial: int = 0
    ref_mismatch: list[str] = field(default_factory=list)

    def merge(self, other: ReadReport) -> None:
        """Add ``other``'s counts to this report.

        Parameters
        ----------
        other
            Another chunk's report.
        """
        self.n_records += other.n_records
        self.filtered += other.filtered
        self.symbolic += other.symbolic
        self.long_indel += other.long_indel
        self.partial += other.partial
        self.ref_mismatch.extend(other.ref_mismatch)

    def as_dict(self) -> dict:
        """Return the counts as a JSON-ready dict (mismatches: the first 100 and their number).

        Returns
        -------
        dict
            ``records_read``, ``skipped_filtered``, ``skipped_symbolic``, ``skipped_long_indel``,
            ``skipped_partly_outside_window``, ``ref_mismatches`` and ``ref_mismatch_examples``.
        """
        return {
            "records_read": self.n_records,
            "skipped_filtered": self.filtered,
            "skipped_symbolic": self.symbolic,
            "skipped_long_indel": self.long_indel,
            "skipped_partly_outside_window": self.partial,
            "ref_mismatches": len(self.ref_mismatch),
            "ref_mismatch_examples": self.ref_mismatch[:100],
        }


@dataclass(frozen=True)
class Allele:
    """One ALT of a record (multi-allelic records give one each); ``pos0`` is 0-based.

    ``carriers`` holds ``(S,)`` int8 ALT copies per sample (empty without samples).
    """

    chrom: str
    pos0: int
    ref: str
    alt: str
    variant_id: str
    carriers: np.ndarray
    info_ac: int


def prepare_vcf(path: str | Path) -> tuple[Path, Path | None]:
    """A bgzipped + indexed copy of ``path`` when it lacks an index (in a temp folder), else ``path`` itself.

    Parameters
    ----------
    path
        ``.vcf`` or ``.vcf.gz`` (bgzip).

    Returns
    -------
    tuple of Path, Path or None
        The file to open and the temp folder to delete afterwards (None if none was made).
    """
    import pysam

    path = Path(path)
    if not path.is_file():
        raise DeepDifEInputError(f"VCF {path}: no such file")
    with open(path, "rb") as fh:
        magic = fh.read(2)
    gz = magic == b"\x1f\x8b"
    if gz and any(Path(str(path) + ext).is_file() for ext in (".tbi", ".csi")):
        return path, None
    tmp = Path(tempfile.mkdtemp(prefix="deepdife-vcf-"))
    try:
        if gz:
            try:  # bgzip is gzip-readable: copy through pysam to get a bgzipped, indexable file
                src = tmp / "calls.vcf"
                with pysam.VariantFile(str(path)) as vin, pysam.VariantFile(str(src), "w", header=vin.header) as vout:
                    for rec in vin:
                        vout.write(rec)
            except (OSError, ValueError) as exc:
                raise DeepDifEInputError(f"VCF {path}: cannot be read as VCF ({exc})") from exc
        else:
            src = tmp / "calls.vcf"
            shutil.copyfile(path, src)
        try:
            out = pysam.tabix_index(str(src), preset="vcf", force=True)
        except (OSError, ValueError) as exc:
            raise DeepDifEInputError(
                f"VCF {path}: cannot be indexed ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); "
                "sort it and index it: bcftools sort calls.vcf -Oz -o calls.vcf.gz && tabix -p vcf calls.vcf.gz"
            ) from exc
        return Path(out), tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def check_contigs(vcf, path: str | Path, genome_chroms: list[str]) -> None:
    """Refuse a VCF none of whose chromosomes is the genome's, suggesting a mapping.

    Parameters
    ----------
    vcf
        An open :class:`pysam.VariantFile`.
    path
        Its name, for the message.
    genome_chroms
        The genome's chromosome names.
    """
    have = list(vcf.header.contigs)
    if not have:  # no ##contig lines: the index's names
        try:
            have = [str(c) for c in vcf.index]
        except (AttributeError, TypeError, ValueError):
            return
    if not have or set(have) & set(genome_chroms):
        return
    mapping = suggest(have, genome_chroms)
    hint = (
        "; rename them, e.g. "
        + ", ".join(f"{a} -> {b}" for a, b in list(mapping.items())[:5])
        + " (bcftools annotate --rename-chrs map.txt)"
        if mapping
        else ""
    )
    raise DeepDifEInputError(
        f"VCF {path}: its chromosomes ({', '.join(have[:5])}) are none of the genome's "
        f"({', '.join(genome_chroms[:5])}){hint}"
    )


def _symbolic(allele: str) -> bool:
    return not allele or not set(allele.upper()) <= _BASES


def read_window(vcf, chrom: str, lo: int, hi: int, fwd: str, max_indel: int, report: ReadReport) -> list[Allele]:
    """The scorable ALT alleles of records whose REF lies in ``[lo, hi)`` (0-based) of ``chrom``.

    Parameters
    ----------
    vcf
        An open, indexed :class:`pysam.VariantFile`.
    chrom, lo, hi
        The window on the forward genome strand (may run past the chromosome's ends).
    fwd
        The window's forward-strand reference bases, ``hi - lo`` letters (N outside the chromosome).
    max_indel
        Longest indel kept.
    report
        Counts of what is skipped (updated).

    Returns
    -------
    list of Allele
        In VCF order, one per ALT.
    """
    if chrom not in vcf.header.contigs and vcf.header.contigs:
        return []
    try:
        records = vcf.fetch(chrom, max(lo, 0), max(hi, 0))
    except ValueError:  # a contig absent from the index: no records there
        return []
    out = []
    for rec in records:
        report.n_records += 1
        filt = list(rec.filter.keys())
        if filt and filt != ["PASS"]:
            report.filtered += 1
            continue
        pos0, ref = rec.pos - 1, (rec.ref or "").upper()
        if pos0 < lo or pos0 + len(ref) > hi:
            report.partial += 1
            continue
        if _symbolic(ref):
            report.symbolic += 1
            continue
        if fwd[pos0 - lo : pos0 - lo + len(ref)] != ref:
            report.ref_mismatch.append(
                f"{chrom}:{rec.pos} REF {ref} but the genome has {fwd[pos0 - lo : pos0 - lo + len(ref)]}"
            )
            continue
        gts = [s.get("GT") or () for s in rec.samples.values()] if len(rec.samples) else []
        ac = rec.info.get("AC") if "AC" in rec.info else None
        for k, alt in enumerate(rec.alts or (), start=1):
            alt_u = alt.upper()
            if _symbolic(alt_u):
                report.symbolic += 1
                continue
            if max(abs(len(alt_u) - len(ref)), 0) > max_indel or (
                len(ref) != len(alt_u) and max(len(ref), len(alt_u)) > max_indel + 1
            ):
                report.long_indel += 1
                continue
            carriers = np.array([sum(a == k for a in gt if a is not None) for gt in gts], dtype=np.int8)
            info_ac = (
                int(ac[k - 1]) if isinstance(ac, tuple) and len(ac) >= k else (int(ac) if isinstance(ac, int) else 0)
            )
            out.append(Allele(chrom, pos0, ref, alt_u, rec.id or ".", carriers, info_ac))
    return out
