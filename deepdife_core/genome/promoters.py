"""Promoter (and terminator) windows cut from a registered genome, by gene ID (window rules: package docstring)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from deepdife_core.data.io import FastaRecord, normalize_id
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.genome.fasta import reverse_complement

#: which TSS stands for a gene: the gene feature's start, the first transcript in the file, the
#: longest transcript, or every distinct transcript TSS (one record each)
TSS_CHOICES = ("gene", "first-transcript", "longest-transcript", "all")
REGIONS = ("promoter", "terminator", "both")


@dataclass(frozen=True)
class PromoterConfig:
    """How promoters are cut: ``upstream`` + ``downstream`` bp around the TSS.

    The defaults give 600 bp (:class:`deepdife_core.config.DatasetConfig`'s length),
    ending 100 bp into the transcript.
    """

    upstream: int = 500
    downstream: int = 100
    tss: str = "gene"
    region: str = "promoter"

    def __post_init__(self) -> None:
        if not (isinstance(self.upstream, (int, np.integer)) and isinstance(self.downstream, (int, np.integer))):
            raise DeepDifEInputError("upstream and downstream must be whole numbers of bp")
        if self.upstream < 0 or self.downstream < 0 or self.upstream + self.downstream < 1:
            raise DeepDifEInputError(
                f"upstream={self.upstream} downstream={self.downstream}: give bp >= 0, together at least 1"
            )
        if self.upstream + self.downstream > 100_000:
            raise DeepDifEInputError("upstream + downstream is over 100,000 bp; a promoter window is shorter")
        if self.tss not in TSS_CHOICES:
            raise DeepDifEInputError(f"tss={self.tss!r}: use one of {', '.join(TSS_CHOICES)}")
        if self.region not in REGIONS:
            raise DeepDifEInputError(f"region={self.region!r}: use one of {', '.join(REGIONS)}")


@dataclass
class ExtractReport:
    """What an extraction did: records written, genes asked for but absent, windows padded with N."""

    n_requested: int = 0
    n_records: int = 0
    missing: list[str] = field(default_factory=list)
    padded: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Describe the extraction in one sentence for the CLI and the build report.

        Returns
        -------
        str
            Records written for how many of the requested genes, plus the genes not in
            the annotation (first 5) and the windows padded with N, if any.
        """
        parts = [f"{self.n_records} records for {self.n_requested - len(self.missing)} of {self.n_requested} genes"]
        if self.missing:
            shown = ", ".join(self.missing[:5]) + (", ..." if len(self.missing) > 5 else "")
            parts.append(f"{len(self.missing)} not in the annotation ({shown})")
        if self.padded:
            parts.append(f"{len(self.padded)} windows run past a chromosome end and are padded with N")
        return "; ".join(parts) + "."


def match_genes(ann: pd.DataFrame, ids: list[str]) -> tuple[list[str], list[str]]:
    """The annotation genes that ``ids`` name (in the order given, each once) and the IDs that name none.

    An ID matches a gene or a transcript (whose gene is taken) case-insensitively, ignoring a
    version (``AT1G01010.1``), a ``::location`` and a ``#k`` record number, as
    :func:`deepdife_core.data.io.normalize_id` does.

    Parameters
    ----------
    ann
        The annotation table.
    ids
        Requested IDs.

    Returns
    -------
    tuple of list of str, list of str
        Matched gene IDs and unmatched requests.
    """
    genes = ann["gene_id"].to_numpy()
    tx = ann["transcript_id"].to_numpy()
    lookup: dict[str, str] = {}
    for g in dict.fromkeys(genes):
        lookup.setdefault(normalize_id(g), g)
    exact = {str(t).upper(): g for t, g in zip(tx, genes, strict=True) if t}
    by_tx = {normalize_id(t): g for t, g in zip(tx, genes, strict=True) if t}
    found, missing = [], []
    for raw in ids:
        rid = str(raw).strip()
        if not rid:
            continue
        g = exact.get(rid.split("::")[0].upper()) or lookup.get(normalize_id(rid)) or by_tx.get(normalize_id(rid))
        if g is None:
            missing.append(rid)
        else:
            found.append(g)
    return list(dict.fromkeys(found)), missing


def sites(ann: pd.DataFrame, genes: list[str] | None, cfg: PromoterConfig, *, which: str = "promoter") -> pd.DataFrame:
    """One row per record to cut: ``gene_id, chrom, strand, site`` (0-based TSS, or TES for terminators).

    Parameters
    ----------
    ann
        The annotation table.
    genes
        Gene IDs (annotation spelling, from :func:`match_genes`), None for all.
    cfg
        The TSS choice.
    which
        ``"promoter"`` (the TSS) or ``"terminator"`` (the transcription end site).

    Returns
    -------
    pandas.DataFrame
        In the order of ``genes`` (file order for all); ``tss="all"`` gives one row per distinct site.
    """
    t = ann if genes is None else ann[ann["gene_id"].isin(set(genes))]
    plus = t["strand"].to_numpy() == "+"
    if which == "promoter":
        gsite = np.where(plus, t["gene_start"], t["gene_end"] - 1)
        tsite = np.where(plus, t["start"], t["end"] - 1)
    else:
        gsite = np.where(plus, t["gene_end"] - 1, t["gene_start"])
        tsite = np.where(plus, t["end"] - 1, t["start"])
    t = t.assign(gsite=gsite.astype(np.int64), tsite=tsite.astype(np.int64), span=t["end"] - t["start"])
    if cfg.tss == "gene":
        pick = t.drop_duplicates("gene_id").assign(site=lambda d: d["gsite"])
    elif cfg.tss == "first-transcript":
        pick = t.sort_values("order", kind="stable").drop_duplicates("gene_id").assign(site=lambda d: d["tsite"])
    elif cfg.tss == "longest-transcript":
        pick = (
            t.sort_values(["span", "order"], ascending=[False, True], kind="stable")
            .drop_duplicates("gene_id")
            .assign(site=lambda d: d["tsite"])
        )
    else:
        pick = t.sort_values("order", kind="stable").assign(site=lambda d: d["tsite"])
        pick = pick.drop_duplicates(["gene_id", "site"])
    rank = {g: i for i, g in enumerate(dict.fromkeys(t["gene_id"] if genes is None else genes))}
    pick = pick.assign(rank=pick["gene_id"].map(rank)).sort_values(["rank", "order"], kind="stable")
    return pick[["gene_id", "chrom", "strand", "site"]].reset_index(drop=True)


def window(site: np.ndarray, strand: np.ndarray, upstream: int, downstream: int, which: str = "promoter"):
    """Genome intervals ``[lo, hi)`` (0-based, unclipped) of the windows around ``site``.

    Parameters
    ----------
    site
        ``(n,)`` int, the TSS (first transcribed base) or TES (last transcribed base).
    strand
        ``(n,)`` str, ``+`` / ``-``.
    upstream, downstream
        bp before and after the site in the direction of transcription.
    which
        ``"promoter"`` or ``"terminator"``.

    Returns
    -------
    tuple of numpy.ndarray
        ``lo``, ``hi``, each ``(n,)`` int64; ``hi - lo == upstream + downstream``.
    """
    site = np.asarray(site, dtype=np.int64)
    plus = np.asarray(strand) == "+"
    if which == "promoter":
        lo = np.where(plus, site - upstream, site - downstream + 1)
    else:
        lo = np.where(plus, site - upstream + 1, site - downstream)
    return lo, lo + upstream + downstream


def cut(fa, chrom: str, lo: int, hi: int, strand: str, chrom_len: int) -> tuple[str, bool]:
    """The window's sequence read 5'->3' on ``strand`` (upper case), N beyond the chromosome; and whether padded.

    Parameters
    ----------
    fa
        The indexed genome (``fetch(chrom, start, end)``).
    chrom, lo, hi, strand, chrom_len
        The window ``[lo, hi)`` (0-based, may run past either end) on ``chrom`` of ``chrom_len`` bp.

    Returns
    -------
    tuple of str, bool
        ``hi - lo`` letters, and whether any is padding.
    """
    a, b = max(lo, 0), min(hi, chrom_len)
    core = fa.fetch(chrom, a, b).upper() if b > a else ""
    seq = "N" * (a - lo) + core + "N" * (hi - max(b, a))
    return (reverse_complement(seq) if strand == "-" else seq), (a != lo or b != hi)


def extract(
    fa, chrom_lengths: dict[str, int], ann: pd.DataFrame, genes: list[str] | None, cfg: PromoterConfig
) -> tuple[list[FastaRecord], ExtractReport]:
    """Cut the windows of ``genes`` (None: every gene) from the indexed genome ``fa``.

    Parameters
    ----------
    fa
        An open :class:`pysam.FastaFile` (anything with ``fetch(chrom, start, end)``).
    chrom_lengths
        Chromosome -> length.
    ann
        The annotation table (FASTA chromosome names).
    genes
        Annotation gene IDs, None for all.
    cfg
        Window and TSS choice.

    Returns
    -------
    tuple of list of FastaRecord, ExtractReport
        Records ``GENE::Chr:start-end(strand)`` (``GENE promoter+terminator`` for ``region="both"``),
        in the order of ``genes``; each sequence ``upstream + downstream`` bp (twice that for ``both``).
    """
    report = ExtractReport()
    parts = ["promoter", "terminator"] if cfg.region == "both" else [cfg.region]
    pieces = []
    for which in parts:
        s = sites(ann, genes, cfg, which=which)
        lo, hi = window(s["site"].to_numpy(), s["strand"].to_numpy(), cfg.upstream, cfg.downstream, which)
        pieces.append(s.assign(lo=lo, hi=hi))
    if cfg.region == "both":  # one record per gene: its (first) promoter and terminator
        pieces = [p.drop_duplicates("gene_id").reset_index(drop=True) for p in pieces]
    n = len(pieces[0])
    seqs: list[list[str]] = [[""] * n for _ in pieces]
    names: list[str] = [""] * n
    padded = np.zeros(n, dtype=bool)
    for k, p in enumerate(pieces):
        order = np.lexsort((p["lo"].to_numpy(), p["chrom"].to_numpy()))  # read the genome in order
        chrom, strand = p["chrom"].to_numpy(), p["strand"].to_numpy()
        lo, hi, gene = p["lo"].to_numpy(), p["hi"].to_numpy(), p["gene_id"].to_numpy()
        for i in order:
            clen = chrom_lengths[chrom[i]]
            seqs[k][i], pad = cut(fa, chrom[i], int(lo[i]), int(hi[i]), strand[i], clen)
            padded[i] |= pad
            if k == 0:
                a, b = max(int(lo[i]), 0), min(int(hi[i]), clen)
                names[i] = (
                    f"{gene[i]}::{chrom[i]}:{a}-{b}({strand[i]})"
                    if cfg.region != "both"
                    else f"{gene[i]} promoter+terminator"
                )
    records = [
        FastaRecord(id=names[i].split()[0], header=names[i], sequence="".join(s[i] for s in seqs), line=i + 1)
        for i in range(n)
    ]
    report.n_records = n
    report.padded = [r.id for r, p in zip(records, padded, strict=True) if p]
    return records, report
