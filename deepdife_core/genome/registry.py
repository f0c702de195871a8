"""The genome registry: ``$DEEPDIFE_WORKSPACE/genomes/<name>/`` (layout in :mod:`deepdife_core.genome`).

:func:`add_genome` builds the folder in a hidden temp folder and renames it when
complete (:func:`deepdife_core.files.atomic_dir`): a bad input, a crash or a full
disk leaves nothing in the registry.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from deepdife_core.data.io import FastaRecord, coords_from_header
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import atomic_dir, atomic_write_json, check_name, now_iso, read_json
from deepdife_core.genome import ANNOTATION_COLUMNS, chroms
from deepdife_core.genome.annotation import read_annotation
from deepdife_core.genome.fasta import open_genome, write_indexed
from deepdife_core.genome.promoters import ExtractReport, PromoterConfig, extract, match_genes

GENOME_FILE = "genome.fa.gz"
ANNOTATION_FILE = "annotation.parquet"
INFO_FILE = "genome.json"
#: a FASTA whose longest record is shorter than this, and that shares no chromosome with the annotation,
#: is taken for a promoter (or other feature) FASTA, not a genome
MIN_CHROMOSOME_BP = 100_000


def genomes_dir(workspace: str | Path | None = None) -> Path:
    """``WORKSPACE/genomes`` (``workspace``, else ``$DEEPDIFE_WORKSPACE``, else ``./workspace``).

    Parameters
    ----------
    workspace
        The workspace folder, or None for the environment's.

    Returns
    -------
    pathlib.Path
        The registry folder (not created).
    """
    root = Path(workspace or os.environ.get("DEEPDIFE_WORKSPACE", "workspace")).expanduser().resolve()
    return root / "genomes"


def _not_a_genome(fasta_name: str, lengths: list[tuple[str, int]], ann_chroms: list[str]) -> None:
    names = {c for c, _ in lengths}
    longest = max(n for _, n in lengths)
    related = names & set(ann_chroms) or chroms.suggest(ann_chroms, [c for c, _ in lengths])
    looks_like_features = any(coords_from_header(c) is not None or "::" in c for c, _ in lengths[:100])
    if longest < MIN_CHROMOSOME_BP and (looks_like_features or not related):
        raise DeepDifEInputError(
            f"{fasta_name}: {len(lengths)} records of at most {longest:,} bp (e.g. '{lengths[0][0]}') look like "
            "promoters or other pieces, not a genome; give the genome FASTA (one record per chromosome)"
        )


def add_genome(
    name: str,
    fasta: str | Path,
    annotation: str | Path,
    *,
    chrom_map: str | dict | None = None,
    workspace: str | Path | None = None,
    overwrite: bool = False,
    fasta_name: str | None = None,
    annotation_name: str | None = None,
) -> dict:
    """Register a genome FASTA + GFF3/GTF pair under ``name``.

    Parameters
    ----------
    name
        Registry name (letters, digits, ``.``, ``_``, ``-``).
    fasta
        Genome FASTA (plain, gzip or bgzip).
    annotation
        GFF3 or GTF (plain or gzip).
    chrom_map
        ``--chrom-map``: ``"1=Chr1,..."``, a two-column file, ``"auto"``, or a dict.
    workspace
        Workspace folder (default ``$DEEPDIFE_WORKSPACE``).
    overwrite
        Replace a registered genome of that name.
    fasta_name, annotation_name
        File names for messages (uploads).

    Returns
    -------
    dict
        The ``genome.json`` content (name, chromosomes, counts, map, mismatches).

    Raises
    ------
    DeepDifEInputError
        Any bad input (see the issue's list); the registry is unchanged.
    """
    check_name(name, "genome name")
    fasta, annotation = Path(fasta), Path(annotation)
    fa_name = fasta_name or fasta.name
    an_name = annotation_name or annotation.name
    target = genomes_dir(workspace) / name
    if target.exists() and not overwrite:
        raise DeepDifEInputError(f"genome '{name}' is already registered; remove it first or choose another name")
    cmap = chroms.parse_chrom_map(chrom_map) if isinstance(chrom_map, (str, type(None))) else dict(chrom_map)
    ann, facts = read_annotation(annotation, name=an_name)
    with atomic_dir(target, overwrite=overwrite) as tmp:
        lengths = write_indexed(fasta, tmp / GENOME_FILE, name=fa_name)
        ann_chroms = sorted(set(ann["chrom"]))
        _not_a_genome(fa_name, lengths, ann_chroms)
        mapping, missing = chroms.resolve(ann_chroms, [c for c, _ in lengths], cmap, names=(an_name, fa_name))
        dropped = ann[~ann["chrom"].isin(set(mapping))]
        ann = ann[ann["chrom"].isin(set(mapping))].assign(chrom=lambda d: d["chrom"].map(mapping))
        size = dict(lengths)
        beyond = ann["gene_end"].to_numpy() > ann["chrom"].map(size).to_numpy()
        if beyond.any():
            r = ann[beyond].iloc[0]
            raise DeepDifEInputError(
                f"{an_name}: gene '{r['gene_id']}' ends at {r['gene_end']:,} on {r['chrom']}, but {fa_name}'s "
                f"{r['chrom']} has {size[r['chrom']]:,} bp ({int(beyond.sum())} genes beyond a chromosome end); "
                "are the FASTA and annotation of the same assembly?"
            )
        ann[list(ANNOTATION_COLUMNS)].reset_index(drop=True).to_parquet(tmp / ANNOTATION_FILE, index=False)
        per_chrom = ann.drop_duplicates("gene_id")["chrom"].value_counts()
        info = {
            "name": name,
            "created": now_iso(),
            "fasta": fa_name,
            "annotation": an_name,
            "format": facts["format"],
            "chromosomes": [{"name": c, "length": n, "genes": int(per_chrom.get(c, 0))} for c, n in lengths],
            "n_genes": int(ann["gene_id"].nunique()),
            "n_transcripts": int((ann["transcript_id"] != "").sum()),
            "chrom_map": {a: b for a, b in mapping.items() if a != b},
            "mismatches": {
                "annotation_only": missing,
                "genes_dropped": int(dropped["gene_id"].nunique()),
                "fasta_only": [c for c, _ in lengths if per_chrom.get(c, 0) == 0],
            },
            "skipped_no_strand": facts["skipped_no_strand"],
        }
        if info["n_genes"] == 0:
            raise DeepDifEInputError(f"{an_name}: no gene left on the chromosomes of {fa_name}")
        atomic_write_json(tmp / INFO_FILE, info)
    return info


def list_genomes(workspace: str | Path | None = None) -> pd.DataFrame:
    """The registered genomes: ``name, chromosomes, genes, transcripts, fasta, annotation, created`` (one row each).

    Parameters
    ----------
    workspace
        The workspace folder, or None for the environment's.

    Returns
    -------
    pandas.DataFrame
        One row per complete registry folder (hidden temp folders are never listed), by name.
    """
    rows = []
    root = genomes_dir(workspace)
    for d in sorted(root.iterdir()) if root.is_dir() else []:
        if d.name.startswith(".") or not (d / INFO_FILE).is_file():
            continue
        info = read_json(d / INFO_FILE, {}) or {}
        rows.append(
            {
                "name": d.name,
                "chromosomes": len(info.get("chromosomes", [])),
                "genes": info.get("n_genes", 0),
                "transcripts": info.get("n_transcripts", 0),
                "fasta": info.get("fasta", ""),
                "annotation": info.get("annotation", ""),
                "created": info.get("created", ""),
            }
        )
    cols = ["name", "chromosomes", "genes", "transcripts", "fasta", "annotation", "created"]
    return pd.DataFrame(rows, columns=cols)


def remove_genome(name: str, workspace: str | Path | None = None) -> None:
    """Delete a registered genome (renamed away first, so it leaves the list at once).

    Parameters
    ----------
    name
        Registry name.
    workspace
        The workspace folder, or None for the environment's.

    Raises
    ------
    DeepDifEInputError
        No such genome.
    """
    check_name(name, "genome name")
    target = genomes_dir(workspace) / name
    if not (target / INFO_FILE).is_file():
        raise DeepDifEInputError(f"no genome '{name}' is registered; see deepdife genome list")
    trash = target.parent / f".trash-{name}-{os.getpid()}"
    os.replace(target, trash)
    shutil.rmtree(trash, ignore_errors=True)


@dataclass
class Genome:
    """A registered genome: its folder, ``info`` (genome.json), the annotation table and the indexed FASTA."""

    folder: Path

    @cached_property
    def info(self) -> dict:
        """The genome's ``genome.json`` (empty when unreadable), read once.

        Returns
        -------
        dict
            Name, files, format, chromosomes (name, length), gene and transcript counts, ...
        """
        return read_json(self.folder / INFO_FILE, {}) or {}

    @property
    def name(self) -> str:
        """The genome's registered name (its folder's name).

        Returns
        -------
        str
            The name.
        """
        return self.folder.name

    @cached_property
    def annotation(self) -> pd.DataFrame:
        """The parsed annotation table (``annotation.parquet``), read once.

        Returns
        -------
        pandas.DataFrame
            One row per transcript/gene as :mod:`deepdife_core.genome.annotation` writes it.
        """
        return pd.read_parquet(self.folder / ANNOTATION_FILE)

    @cached_property
    def chrom_lengths(self) -> dict[str, int]:
        """The chromosome lengths recorded in ``genome.json``.

        Returns
        -------
        dict of str to int
            FASTA chromosome name -> length in bp.
        """
        return {c["name"]: int(c["length"]) for c in self.info.get("chromosomes", [])}

    def promoters(
        self, ids: list[str] | None, cfg: PromoterConfig | None = None
    ) -> tuple[list[FastaRecord], ExtractReport]:
        """Records for ``ids`` (gene or transcript IDs; None = every gene); absent IDs are listed in the report.

        Parameters
        ----------
        ids
            Requested IDs, or None for all genes.
        cfg
            Window and TSS choice.

        Returns
        -------
        tuple of list of FastaRecord, ExtractReport
            See :func:`deepdife_core.genome.promoters.extract`.

        Raises
        ------
        DeepDifEInputError
            None of ``ids`` is in the annotation.
        """
        cfg = cfg or PromoterConfig()
        ann = self.annotation
        if ids is None:
            genes, missing = None, []
            n = int(ann["gene_id"].nunique())
        else:
            genes, missing = match_genes(ann, ids)
            n = len(genes) + len(missing)
            if not genes:
                raise DeepDifEInputError(
                    f"none of the {len(ids)} gene IDs (e.g. '{ids[0]}') is in genome '{self.name}' "
                    f"(genes such as '{ann['gene_id'].iloc[0]}'); check that the IDs are of this species' annotation"
                )
        fa = open_genome(self.folder / GENOME_FILE)
        try:
            records, report = extract(fa, self.chrom_lengths, ann, genes, cfg)
        finally:
            fa.close()
        report.n_requested, report.missing = n, missing
        return records, report


def load_genome(name: str, workspace: str | Path | None = None) -> Genome:
    """The registered genome ``name``, else a :class:`DeepDifEInputError` listing the registered ones.

    Parameters
    ----------
    name, workspace
        The registry name and the workspace folder (None: the environment's), as for :func:`remove_genome`.

    Returns
    -------
    Genome
        Its folder, info, annotation table and promoter extraction.
    """
    check_name(name, "genome name")
    folder = genomes_dir(workspace) / name
    if not (folder / INFO_FILE).is_file():
        have = list_genomes(workspace)["name"].tolist()
        raise DeepDifEInputError(
            f"no genome '{name}' is registered"
            + (f" (registered: {', '.join(have[:10])})" if have else "")
            + "; register it first (a name, the genome FASTA and its annotation)"
        )
    return Genome(folder)


@dataclass(frozen=True)
class GenomePromoters:
    """A promoter source for the dataset builders (``promoters=`` of :mod:`deepdife_core.data.io`).

    It cuts the windows of the genes a builder asks for from a registered genome.
    """

    genome: str
    cfg: PromoterConfig = field(default_factory=PromoterConfig)
    workspace: str | None = None

    @property
    def name(self) -> str:
        """The source's name for build reports.

        Returns
        -------
        str
            ``"genome <name>"``.
        """
        return f"genome {self.genome}"

    def __call__(self, ids: list[str]) -> tuple[list[FastaRecord], list[str]]:
        """Records of ``ids`` and notes for the build report (windows padded, IDs not in the annotation).

        Parameters
        ----------
        ids
            Gene IDs a builder asks for.

        Returns
        -------
        tuple of list of FastaRecord, list of str
            The records (see :meth:`Genome.promoters`) and report notes.
        """
        records, report = load_genome(self.genome, self.workspace).promoters(ids, self.cfg)
        notes = [
            f"Promoters cut from genome {self.genome} ({self.cfg.upstream} bp upstream + {self.cfg.downstream} "
            f"downstream of the TSS, tss={self.cfg.tss}, region={self.cfg.region})."
        ]
        if report.missing:
            shown = ", ".join(report.missing[:20]) + (" ..." if len(report.missing) > 20 else "")
            notes.append(f"{len(report.missing)} gene IDs are not in the annotation: {shown}.")
        if report.padded:
            notes.append(f"{len(report.padded)} windows run past a chromosome end (padded with N).")
        return records, notes
