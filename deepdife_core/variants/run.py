"""The variant-effect run: genes in chunks, scored in-process or on Dask workers, results written atomically."""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import atomic_write_bytes, atomic_write_json, write_export_csv
from deepdife_core.genome.promoters import PromoterConfig, match_genes
from deepdife_core.genome.registry import load_genome
from deepdife_core.model.folder import load_model, model_data_config
from deepdife_core.motifs.modisco import load_motif_database
from deepdife_core.motifs.scan import prepare_database
from deepdife_core.variants import VariantConfig
from deepdife_core.variants.dask import map_chunks
from deepdife_core.variants.haplotypes import sample_matrix
from deepdife_core.variants.score import member_logits, score_chunk
from deepdife_core.variants.vcf import ReadReport, check_contigs, prepare_vcf

_MODELS: dict[str, tuple] = {}
_DBS: dict[str, object] = {}


def _model(model):
    """(Predictor, DatasetConfig) of a model folder (loaded once per process) or of a Predictor."""
    if isinstance(model, (str, Path)):
        key = str(Path(model).resolve())
        if key not in _MODELS:
            predictor, data = load_model(key), model_data_config(key)
            # two batch sizes trace the logit function once for every size (reduce_retracing): a worker's
            # first chunk then does not pay for tracing its full and its last, partial batch
            for n in (1, 2):
                member_logits(predictor, np.zeros((n, data.length, 4), dtype=np.float32))
            _MODELS[key] = (predictor, data)
        return _MODELS[key]
    return model, model_data_config(model)


def scan_database(spec: str):
    """The prepared motif database of ``spec`` (``""``: None), prepared once per process.

    Parameters
    ----------
    spec
        ``"jaspar-plants"``, a MEME file, or ``""``.

    Returns
    -------
    ScanDatabase or None
        For the motif-change columns.
    """
    if not spec:
        return None
    if spec not in _DBS:
        _DBS[spec] = prepare_database(load_motif_database(spec))
    return _DBS[spec]


def score_genes_chunk(
    genes: list[str],
    *,
    model,
    genome: str,
    workspace: str | None,
    vcf_path: str,
    promoter: PromoterConfig,
    config: VariantConfig,
    per_sample: bool,
    samples: list[str] | None,
):
    """One work unit (in-process or on a Dask worker): :func:`~deepdife_core.variants.score.score_chunk`.

    Parameters
    ----------
    genes
        Annotation gene IDs.
    model
        A model folder (loaded once per worker) or a Predictor.
    genome, workspace
        The registered genome.
    vcf_path
        The indexed VCF.
    promoter, config, per_sample, samples
        As :func:`score_variants`.

    Returns
    -------
    ChunkResult
        The chunk's rows.
    """
    predictor, data = _model(model)
    return score_chunk(
        predictor,
        load_genome(genome, workspace),
        vcf_path,
        genes,
        promoter=promoter,
        config=config,
        data_config=data,
        scan_db=scan_database(config.motif_db),
        per_sample=per_sample,
        samples=samples,
    )


@dataclass
class VariantResult:
    """The effect table, the gene x sample matrix (haplotype mode) and the reading report."""

    effects: pd.DataFrame
    haplotypes: pd.DataFrame | None
    report: ReadReport
    missing_genes: list[str] = field(default_factory=list)


def score_variants(
    model,
    genome: str,
    vcf: str | Path,
    *,
    genes: list[str] | None = None,
    samples: list[str] | None = None,
    per_sample: bool = False,
    promoter: PromoterConfig | None = None,
    config: VariantConfig | None = None,
    workspace: str | None = None,
    dask=None,
) -> VariantResult:
    """Score every scorable VCF allele in the promoter windows of ``genes`` (None: every gene).

    Parameters
    ----------
    model
        A model folder (needed for Dask: each worker loads it) or a Predictor.
    genome
        A registered genome's name.
    vcf
        ``.vcf`` or ``.vcf.gz`` (indexed or not; see the package docstring).
    genes
        Gene or transcript IDs; None for all genes.
    samples
        Restrict to these VCF samples.
    per_sample
        Also the gene x sample haplotype matrix.
    promoter, config
        Window definition and scoring options.
    workspace
        The workspace holding the genome registry.
    dask
        A scheduler address or ``distributed.Client``; None runs in-process.

    Returns
    -------
    VariantResult
        Effects sorted by gene (order asked), then position.
    """
    import pysam

    promoter, config = promoter or PromoterConfig(), config or VariantConfig()
    if promoter.region != "promoter":
        raise DeepDifEInputError("variants are scored in promoter windows; use region=promoter")
    g = load_genome(genome, workspace)
    ann = g.annotation
    todo, missing = genes_to_score(ann, genes, genome)
    path, tmp = prepare_vcf(vcf)
    try:
        with pysam.VariantFile(str(path)) as vf:
            check_contigs(vf, vcf, list(g.chrom_lengths))
            have = list(vf.header.samples)
        if samples is not None:
            absent = [s for s in samples if s not in have]
            if absent:
                raise DeepDifEInputError(
                    f"VCF {vcf}: no sample {absent[0]!r}" + (f" (it has {', '.join(have[:5])}, ...)" if have else "")
                )
        if per_sample and not (samples or have):
            raise DeepDifEInputError(f"VCF {vcf}: per_sample needs genotypes, and it has no samples")
        chunks = [todo[i : i + config.genes_per_chunk] for i in range(0, len(todo), config.genes_per_chunk)]
        kw = dict(
            model=str(model) if isinstance(model, (str, Path)) else model,
            genome=genome,
            workspace=str(g.folder.parent.parent) if workspace is None else str(workspace),
            vcf_path=str(path),
            promoter=promoter,
            config=config,
            per_sample=per_sample,
            samples=samples,
        )
        if dask is not None:
            if not isinstance(model, (str, Path)):
                raise DeepDifEInputError("dask needs a model folder (each worker loads it)")
            parts = map_chunks(dask, score_genes_chunk, chunks, **kw)
        else:
            parts = [score_genes_chunk(c, **kw) for c in chunks]
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return merge_results(parts, missing, per_sample=per_sample)


def genes_to_score(annotation: pd.DataFrame, genes: list[str] | None, genome: str) -> tuple[list[str], list[str]]:
    """The annotation's gene IDs to score for ``genes`` (None: every gene) and the IDs it lacks.

    Parameters
    ----------
    annotation
        The genome's annotation table (``gene_id`` and transcript columns).
    genes
        Gene or transcript IDs as asked; None for every gene of the annotation.
    genome
        The genome's name (for the message).

    Returns
    -------
    todo : list of str
        Gene IDs in the annotation's spelling, in the order asked.
    missing : list of str
        IDs of ``genes`` that are not in the annotation.

    Raises
    ------
    DeepDifEInputError
        When none of ``genes`` is in the annotation.
    """
    if genes is None:
        return list(dict.fromkeys(annotation["gene_id"])), []
    todo, missing = match_genes(annotation, genes)
    if not todo:
        raise DeepDifEInputError(f"none of the {len(genes)} gene IDs (e.g. '{genes[0]}') is in genome '{genome}'")
    return todo, missing


def merge_results(parts: list[VariantResult], missing: list[str], *, per_sample: bool) -> VariantResult:
    """One result from the results of chunks of genes (effects in chunk order, reports summed).

    Parameters
    ----------
    parts
        The chunks' results, in the order of their genes.
    missing
        The gene IDs asked for but not in the annotation.
    per_sample
        Whether the chunks carry haplotypes to combine into the gene x sample matrix.

    Returns
    -------
    VariantResult
        The whole run's result.
    """
    report = ReadReport()
    for p in parts:
        report.merge(p.report)
    frames = [p.effects for p in parts if len(p.effects)]
    effects = pd.concat(frames, ignore_index=True) if frames else parts[0].effects if parts else pd.DataFrame()
    haps = sample_matrix([p.haplotypes for p in parts]) if per_sample else None
    return VariantResult(effects, haps, report, missing)


def write_results(result: VariantResult, out: str | Path) -> list[Path]:
    """Write the effects (``.csv`` or ``.parquet``), the sample matrix and the report, each atomically.

    Parameters
    ----------
    result
        A :func:`score_variants` result.
    out
        ``E.csv`` / ``E.parquet``; the matrix goes to ``E.samples.csv`` and the report to ``E.report.json``.

    Returns
    -------
    list of Path
        The files written.
    """
    out = Path(out)
    if out.suffix not in (".csv", ".parquet"):
        raise DeepDifEInputError(f"out={out}: give a .csv or .parquet file name")
    written = [out]
    if out.suffix == ".csv":
        write_export_csv(result.effects, out)
    else:
        buf = io.BytesIO()
        result.effects.to_parquet(buf, index=False)
        atomic_write_bytes(out, buf.getvalue())
    stem = out.with_suffix("")
    if result.haplotypes is not None:
        write_export_csv(result.haplotypes, Path(f"{stem}.samples.csv"))
        written.append(Path(f"{stem}.samples.csv"))
    atomic_write_json(
        Path(f"{stem}.report.json"),
        {"variants_scored": len(result.effects), "genes_not_found": result.missing_genes, **result.report.as_dict()},
    )
    written.append(Path(f"{stem}.report.json"))
    return written
