"""A generated genome + annotation for tests and the bench.

Random chromosomes, genes on both strands, genes at the chromosome ends, genes with
several transcripts; written as GFF3 or GTF, plain, gzip or bgzip.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

_ALPHABET = np.frombuffer(b"ACGT", dtype=np.uint8)


def make_genome(
    folder: str | Path,
    *,
    chrom_lengths: tuple[int, ...] = (6000, 4000, 5000),
    n_genes: int = 24,
    seed: int = 0,
    annotation: str = "gff3",
    compress: str = "plain",
    chrom_prefix: str = "Chr",
    annotation_prefix: str | None = None,
    line_width: int = 70,
) -> tuple[Path, Path, pd.DataFrame]:
    """Write ``genome.fa[.gz|.bgz]`` and ``genes.gff3|gtf[.gz]`` into ``folder``.

    Parameters
    ----------
    folder
        Where to write.
    chrom_lengths
        Length of each chromosome (named ``{chrom_prefix}1``, ...).
    n_genes
        Genes in all; the first four of each chromosome sit at its ends (plus and minus strand).
    seed
        RNG seed.
    annotation
        ``"gff3"`` or ``"gtf"``.
    compress
        ``"plain"``, ``"gzip"`` (FASTA and annotation) or ``"bgzip"`` (FASTA bgzip, annotation gzip).
    chrom_prefix, annotation_prefix
        Chromosome prefix in the FASTA and (default the same) in the annotation.
    line_width
        FASTA line width.

    Returns
    -------
    tuple of Path, Path, pandas.DataFrame
        The FASTA, the annotation and the truth: one row per transcript, ``gene_id, transcript_id,
        chrom, strand, start, end`` (0-based, end exclusive; FASTA chromosome names), in file order.
    """
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ann_prefix = chrom_prefix if annotation_prefix is None else annotation_prefix
    rows = []
    per = max(1, n_genes // len(chrom_lengths))
    k = 0
    for c, clen in enumerate(chrom_lengths, start=1):
        chrom = f"{chrom_prefix}{c}"
        n_here = per if c < len(chrom_lengths) else n_genes - per * (len(chrom_lengths) - 1)
        for j in range(n_here):
            glen = int(rng.integers(200, max(201, min(3000, clen // 4))))
            if j == 0:
                start, strand = int(rng.integers(0, 30)), "+"  # upstream runs off the chromosome start
            elif j == 1:
                start, strand = clen - glen - int(rng.integers(0, 30)), "-"  # upstream runs off the end
            elif j == 2:
                start, strand = int(rng.integers(0, 30)), "-"  # downstream runs off the start
            elif j == 3:
                start, strand = clen - glen - int(rng.integers(0, 30)), "+"  # downstream runs off the end
            else:
                start, strand = int(rng.integers(0, clen - glen)), "+-"[int(rng.integers(0, 2))]
            k += 1
            gene = f"AT{c}G{k:05d}0"
            n_tx = int(rng.integers(1, 4))
            for t in range(n_tx):
                shrink5 = 0 if t == 0 else int(rng.integers(1, glen // 3))
                shrink3 = 0 if t == 0 else int(rng.integers(0, glen // 3))
                if strand == "+":
                    ts, te = start + shrink5, start + glen - shrink3
                else:
                    ts, te = start + shrink3, start + glen - shrink5
                rows.append((gene, f"{gene}.{t + 1}", chrom, strand, ts, te, start, start + glen, c))
    truth = pd.DataFrame(
        rows, columns=["gene_id", "transcript_id", "chrom", "strand", "start", "end", "gstart", "gend", "c"]
    )
    fa_name = {"plain": "genome.fa", "gzip": "genome.fa.gz", "bgzip": "genome.fa.bgz"}[compress]
    fa_path = folder / fa_name
    lines = []
    for c, clen in enumerate(chrom_lengths, start=1):
        seq = _ALPHABET[rng.integers(0, 4, clen)].tobytes()
        lines.append(f">{chrom_prefix}{c} synthetic chromosome {c}\n".encode())
        lines.append(b"\n".join(seq[i : i + line_width] for i in range(0, clen, line_width)) + b"\n")
    _write(fa_path, b"".join(lines), compress)
    text = _annotation_text(truth, annotation, chrom_prefix, ann_prefix)
    an_path = folder / f"genes.{annotation}" if compress == "plain" else folder / f"genes.{annotation}.gz"
    _write(an_path, text.encode(), "plain" if compress == "plain" else "gzip")
    return fa_path, an_path, truth.drop(columns=["gstart", "gend", "c"])


def _write(path: Path, data: bytes, compress: str) -> None:
    if compress == "plain":
        path.write_bytes(data)
    elif compress == "gzip":
        path.write_bytes(gzip.compress(data, compresslevel=1))
    else:
        with pysam.BGZFile(str(path), "wb") as fh:
            fh.write(data)


def _annotation_text(truth: pd.DataFrame, fmt: str, fa_prefix: str, ann_prefix: str) -> str:
    out = ["##gff-version 3"] if fmt == "gff3" else ["#!genome-build synthetic"]
    for gene, g in truth.groupby("gene_id", sort=False):
        chrom = ann_prefix + g["chrom"].iloc[0][len(fa_prefix) :]
        strand = g["strand"].iloc[0]
        gs, ge = int(g["gstart"].iloc[0]) + 1, int(g["gend"].iloc[0])
        if fmt == "gff3":
            out.append(f"{chrom}\tsynthetic\tgene\t{gs}\t{ge}\t.\t{strand}\t.\tID={gene};Name={gene}")
            for r in g.itertuples():
                out.append(
                    f"{chrom}\tsynthetic\tmRNA\t{r.start + 1}\t{r.end}\t.\t{strand}\t.\t"
                    f"ID={r.transcript_id};Parent={gene}"
                )
                out.append(
                    f"{chrom}\tsynthetic\texon\t{r.start + 1}\t{r.end}\t.\t{strand}\t.\tParent={r.transcript_id}"
                )
        else:
            out.append(f'{chrom}\tsynthetic\tgene\t{gs}\t{ge}\t.\t{strand}\t.\tgene_id "{gene}";')
            for r in g.itertuples():
                attrs = f'gene_id "{gene}"; transcript_id "{r.transcript_id}";'
                out.append(f"{chrom}\tsynthetic\ttranscript\t{r.start + 1}\t{r.end}\t.\t{strand}\t.\t{attrs}")
                out.append(f"{chrom}\tsynthetic\texon\t{r.start + 1}\t{r.end}\t.\t{strand}\t.\t{attrs}")
    return "\n".join(out) + "\n"
