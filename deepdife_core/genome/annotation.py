"""GFF3 / GTF annotation -> the columnar transcript table (see :mod:`deepdife_core.genome` for its columns).

The file is read once (plain or gzip, through :func:`deepdife_core.data.io._open_text`, so
the decompression cap and the corrupt-gzip message apply), gene and transcript
features are kept, everything else (exons, CDS, UTRs, ...) is only used to build
transcripts in a GTF that has none.
"""

from __future__ import annotations

import io as _io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from deepdife_core.data.io import _open_text, normalize_id
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.genome import ANNOTATION_COLUMNS

#: GFF3 feature types read as genes
GENE_TYPES = frozenset(
    {"gene", "ncrna_gene", "protein_coding_gene", "pseudogene", "transposable_element_gene", "rna_gene"}
)
#: GFF3 / GTF feature types read as transcripts (other features with a gene as Parent count too)
TRANSCRIPT_TYPES = frozenset(
    {
        "mrna",
        "transcript",
        "ncrna",
        "lnc_rna",
        "lncrna",
        "mirna",
        "trna",
        "rrna",
        "snrna",
        "snorna",
        "pseudogenic_transcript",
        "primary_transcript",
        "antisense_rna",
        "mrna_te_gene",
    }
)
#: parts of a transcript, never transcripts themselves
PART_TYPES = frozenset(
    {
        "exon",
        "cds",
        "five_prime_utr",
        "three_prime_utr",
        "utr",
        "5utr",
        "3utr",
        "start_codon",
        "stop_codon",
        "intron",
        "protein",
        "chromosome",
        "region",
        "contig",
        "scaffold",
        "pseudogenic_exon",
        "selenocysteine",
    }
)
_GFF_ID = re.compile(r"(?:^|;)\s*ID=([^;]+)")
_GFF_PARENT = re.compile(r"(?:^|;)\s*Parent=([^;,]+)")
_GTF_GENE = re.compile(r'gene_id\s+"([^"]*)"')
_GTF_TX = re.compile(r'transcript_id\s+"([^"]*)"')
_PREFIX = re.compile(r"^(?:gene|transcript|mrna|rna):", re.IGNORECASE)


def _strip(ids: pd.Series) -> pd.Series:
    return ids.fillna("").astype(str).str.strip().str.replace(_PREFIX, "", regex=True)


def _read_rows(text: str, name: str) -> pd.DataFrame:
    """The nine GFF columns of every feature line, ``line`` = 1-based line number."""
    cut = text.find("\n##FASTA")
    if cut >= 0:
        text = text[: cut + 1]
    try:
        raw = pd.read_csv(
            _io.StringIO(text),
            sep="\t",
            header=None,
            names=range(9),
            dtype=str,
            quoting=3,
            skip_blank_lines=False,
            keep_default_na=False,
            engine="c",
        )
    except pd.errors.ParserError as exc:
        m = re.search(r"line (\d+)", str(exc))
        where = f"line {m.group(1)}" if m else "a line"
        raise DeepDifEInputError(
            f"{name}, {where}: more than 9 tab-separated columns; a GFF3/GTF line has seqid, source, type, start, "
            "end, score, strand, phase, attributes"
        ) from exc
    raw["line"] = np.arange(1, len(raw) + 1)
    seqid = raw[0].astype(str)
    raw = raw[(seqid.str.strip() != "") & ~seqid.str.startswith("#")]
    if raw.empty:
        raise DeepDifEInputError(f"{name}: no feature lines; give a GFF3 or GTF annotation (9 tab-separated columns)")
    short = raw[8].eq("") & raw[3].eq("")
    if short.any():
        line = int(raw.loc[short, "line"].iloc[0])
        raise DeepDifEInputError(
            f"{name}, line {line}: fewer than 9 tab-separated columns; is this a GFF3/GTF annotation "
            "(seqid, source, type, start, end, score, strand, phase, attributes)?"
        )
    return raw.reset_index(drop=True)


def _coords(rows: pd.DataFrame, name: str) -> pd.DataFrame:
    start = pd.to_numeric(rows[3], errors="coerce")
    end = pd.to_numeric(rows[4], errors="coerce")
    bad = start.isna() | end.isna() | (start < 1) | (end < start)
    if bad.any():
        r = rows[bad].iloc[0]
        raise DeepDifEInputError(
            f"{name}, line {int(r['line'])}: start {r[3]!r} / end {r[4]!r} are not 1-based positions with "
            "start <= end; fix the line"
        )
    return pd.DataFrame(
        {
            "chrom": rows[0].astype(str).str.strip().to_numpy(),
            "strand": rows[6].astype(str).str.strip().to_numpy(),
            "start": start.to_numpy(np.int64) - 1,
            "end": end.to_numpy(np.int64),
            "line": rows["line"].to_numpy(np.int64),
        }
    )


def annotation_format(rows: pd.DataFrame) -> str:
    """``"gtf"`` when the attributes are ``key "value";`` pairs with a ``gene_id``, else ``"gff3"``.

    Parameters
    ----------
    rows
        The nine columns of the feature lines (column 8: attributes).

    Returns
    -------
    str
        ``"gtf"`` or ``"gff3"``.
    """
    attrs = rows[8].head(200)
    return "gtf" if attrs.str.contains(r'gene_id\s+"', regex=True).mean() > 0.5 else "gff3"


def _gff3(rows: pd.DataFrame, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    kind = rows[2].astype(str).str.strip().str.lower()
    ids = _strip(rows[8].str.extract(_GFF_ID, expand=False))
    parents = _strip(rows[8].str.extract(_GFF_PARENT, expand=False))
    is_gene = kind.isin(GENE_TYPES)
    genes = _coords(rows[is_gene], name).assign(gene_id=ids[is_gene].to_numpy())
    missing = genes["gene_id"] == ""
    if missing.any():
        raise DeepDifEInputError(
            f"{name}, line {int(genes.loc[missing, 'line'].iloc[0])}: gene feature without an ID= attribute; "
            "every gene needs an ID"
        )
    gene_set = set(genes["gene_id"])
    cand = ~is_gene & ~kind.isin(PART_TYPES) & (kind.isin(TRANSCRIPT_TYPES) | parents.isin(gene_set))
    tx = _coords(rows[cand], name).assign(transcript_id=ids[cand].to_numpy(), gene_id=parents[cand].to_numpy())
    orphan = ~tx["gene_id"].isin(gene_set)
    # an mRNA without a gene feature stands for its own gene (its Parent, else itself)
    tx.loc[orphan & (tx["gene_id"] == ""), "gene_id"] = tx.loc[orphan & (tx["gene_id"] == ""), "transcript_id"]
    nameless = tx["transcript_id"] == ""
    tx.loc[nameless, "transcript_id"] = tx.loc[nameless, "gene_id"] + ".t" + tx.loc[nameless, "line"].astype(str)
    return genes, tx


def _extent(parts: pd.DataFrame, key: str, **more: tuple[str, str]) -> pd.DataFrame:
    """One row per ``key``: the union of its parts (first chrom/strand, min start/line, max end) and ``more``."""
    return (
        parts.groupby(key, sort=False)
        .agg(
            chrom=("chrom", "first"),
            strand=("strand", "first"),
            start=("start", "min"),
            end=("end", "max"),
            line=("line", "min"),
            **more,
        )
        .reset_index()
    )


def _gtf(rows: pd.DataFrame, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    kind = rows[2].astype(str).str.strip().str.lower()
    gid = _strip(rows[8].str.extract(_GTF_GENE, expand=False))
    tid = _strip(rows[8].str.extract(_GTF_TX, expand=False))
    is_gene = kind == "gene"
    genes = _coords(rows[is_gene], name).assign(gene_id=gid[is_gene].to_numpy())
    is_tx = kind.isin(TRANSCRIPT_TYPES) & (tid != "")
    if is_tx.any():
        tx = _coords(rows[is_tx], name).assign(transcript_id=tid[is_tx].to_numpy(), gene_id=gid[is_tx].to_numpy())
    else:  # transcripts = the extent of their exons
        ex = kind.isin({"exon", "cds"}) & (tid != "")
        parts = _coords(rows[ex], name).assign(transcript_id=tid[ex].to_numpy(), gene_id=gid[ex].to_numpy())
        tx = _extent(parts, "transcript_id", gene_id=("gene_id", "first"))
    return genes, tx


def _duplicates(ids: pd.Series, lines: pd.Series, what: str, name: str, *, key=str.upper) -> None:
    keys = ids.map(key)
    dup = keys.duplicated(keep=False)
    if dup.any():
        first = keys[dup].iloc[0]
        at = lines[keys == first].tolist()
        shown = ids[keys == first].tolist()
        same = len(set(shown)) == 1
        raise DeepDifEInputError(
            f"{name}, lines {at[0]} and {at[1]}: "
            + (f"duplicate {what} ID '{shown[0]}'" if same else f"{what} IDs '{shown[0]}' and '{shown[1]}' overlap")
            + f" ({int(dup.sum())} {what} features involved); "
            + ("each feature needs its own ID" if same else "they would match the same gene (versions are ignored)")
            + ", fix the annotation"
        )


def read_annotation(source, *, name: str | None = None) -> tuple[pd.DataFrame, dict]:
    """Parse a GFF3 or GTF annotation (plain or gzip) into the transcript table.

    Parameters
    ----------
    source
        Path, bytes or binary file object.
    name
        File name for messages.

    Returns
    -------
    tuple of pandas.DataFrame, dict
        The table (:data:`deepdife_core.genome.ANNOTATION_COLUMNS`, chromosome names as in the
        annotation, one row per transcript; genes without transcripts once with ``transcript_id`` "")
        and facts: ``format``, ``n_genes``, ``n_transcripts``, ``skipped_no_strand``.

    Raises
    ------
    DeepDifEInputError
        No gene/mRNA/transcript features, duplicate or overlapping IDs, a transcript on another
        chromosome or strand than its gene, bad coordinates, a corrupt gzip.
    """
    name = name or (str(source) if isinstance(source, str) else getattr(source, "name", "annotation"))

    if isinstance(source, (str, Path)):
        name = Path(source).name if name == str(source) else name
    text = _open_text(source, name).read()
    rows = _read_rows(text, name)
    fmt = annotation_format(rows)
    genes, tx = (_gtf if fmt == "gtf" else _gff3)(rows, name)
    if genes.empty and tx.empty:
        types = rows[2].astype(str).value_counts().index[:6].tolist()
        raise DeepDifEInputError(
            f"{name}: no gene, mRNA or transcript features (feature types found: {', '.join(types)}); "
            "give the gene annotation (GFF3 with gene/mRNA lines, or GTF with gene_id/transcript_id)"
        )
    _duplicates(genes["gene_id"], genes["line"], "gene", name)
    _duplicates(genes["gene_id"], genes["line"], "gene", name, key=normalize_id)
    _duplicates(tx["transcript_id"], tx["line"], "transcript", name)
    if genes.empty or not tx["gene_id"].isin(set(genes["gene_id"])).all():
        # genes known only through their transcripts: their extent is the transcripts' union
        extra = tx[~tx["gene_id"].isin(set(genes["gene_id"]))]
        derived = _extent(extra, "gene_id")
        genes = pd.concat([genes, derived], ignore_index=True)
        _duplicates(genes["gene_id"], genes["line"], "gene", name, key=normalize_id)
    stranded = genes["strand"].isin(["+", "-"])
    skipped = int((~stranded).sum())
    genes = genes[stranded].reset_index(drop=True)
    g = genes.set_index("gene_id")
    tx = tx[tx["gene_id"].isin(g.index)].reset_index(drop=True)
    gc, gs = g.loc[tx["gene_id"], "chrom"].to_numpy(), g.loc[tx["gene_id"], "strand"].to_numpy()
    off = (tx["chrom"].to_numpy() != gc) | (tx["strand"].to_numpy() != gs)
    if off.any():
        r = tx[off].iloc[0]
        raise DeepDifEInputError(
            f"{name}, line {int(r['line'])}: transcript '{r['transcript_id']}' is on {r['chrom']} ({r['strand']}) "
            f"but its gene '{r['gene_id']}' on {g.loc[r['gene_id'], 'chrom']} ({g.loc[r['gene_id'], 'strand']}); "
            "fix the annotation"
        )
    tx = tx.sort_values("line", kind="stable").reset_index(drop=True)
    tx["order"] = tx.groupby("gene_id", sort=False).cumcount().astype(np.int64)
    lonely = genes[~genes["gene_id"].isin(set(tx["gene_id"]))]
    table = pd.concat(
        [
            tx.assign(
                gene_start=g.loc[tx["gene_id"], "start"].to_numpy(), gene_end=g.loc[tx["gene_id"], "end"].to_numpy()
            ),
            lonely.assign(transcript_id="", gene_start=lonely["start"], gene_end=lonely["end"], order=0),
        ],
        ignore_index=True,
    )
    table = table.sort_values("line", kind="stable")
    gene_line = g["line"].reindex(table["gene_id"]).to_numpy()
    table = table.assign(gline=gene_line).sort_values(["gline", "order"], kind="stable").reset_index(drop=True)
    out = table[list(ANNOTATION_COLUMNS)].copy()
    for c in ("start", "end", "gene_start", "gene_end", "order"):
        out[c] = out[c].astype(np.int64)
    for c in ("gene_id", "transcript_id", "chrom", "strand"):
        out[c] = out[c].astype(str)
    facts = {
        "format": fmt,
        "n_genes": len(genes),
        "n_transcripts": int((out["transcript_id"] != "").sum()),
        "skipped_no_strand": skipped,
    }
    return out, facts
