"""Background job of the Variants page: the promoter variants of a VCF scored in chunks of genes.

A runner of :data:`deepdife_core.jobs.runner.RUNNERS` (kind ``"variants"``), run inside the job
process ``python -m deepdife_core.jobs.runner run <folder>``: ``run(writer, args) -> (state, result)``.

``args``
--------
``model_path``      model folder; ``model_name`` its registry name (recorded in ``run.json``)
``genome``          a registered genome's name; ``workspace`` the workspace holding the registry
``vcf``             the VCF (plain or gzip/bgzip, indexed or not); ``vcf_name`` its name as shown
``genes``           gene or transcript IDs, or None for every gene of the annotation
``samples``         VCF sample names to use, or None for all; ``per_sample`` also the gene x sample matrix
``promoter``        :class:`~deepdife_core.genome.promoters.PromoterConfig` fields (upstream, downstream, tss)
``config``          :class:`~deepdife_core.variants.VariantConfig` fields
``out``             the results folder to create (``workspace/variants/<name>``)
``uploads``         a folder of uploaded files to delete when the job ends, or None

Progress events (``progress.jsonl``)
------------------------------------
``{"event": "stage", "text"}`` while the genome is read and the VCF indexed;
``{"event": "scored", "done", "total", "variants"}`` after each chunk of genes (at most
:data:`STEPS` chunks, each no larger than ``config.genes_per_chunk``).

Outputs and stop
----------------
:func:`~deepdife_core.variants.run.write_results` into ``out`` (:data:`EFFECTS_FILE`,
:data:`SAMPLES_FILE` in per-sample mode, :data:`REPORT_FILE`) plus :data:`INFO_FILE` and
:data:`PROMOTERS_FILE` (the reference model input of every gene with a scored variant, as the
scoring fitted it: the Saliency page applies a variant to it), all in one atomic folder
(:func:`deepdife_core.files.atomic_dir`).  A stop request ends the job
between chunks with nothing saved.
"""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path
from typing import Any

from deepdife_core.config import from_dict
from deepdife_core.data.encode import pad_or_trim
from deepdife_core.data.io import gene_of, write_fasta
from deepdife_core.files import atomic_dir, atomic_write_json
from deepdife_core.genome.promoters import PromoterConfig
from deepdife_core.genome.registry import load_genome
from deepdife_core.model.folder import model_data_config
from deepdife_core.variants import VariantConfig
from deepdife_core.variants.run import genes_to_score, merge_results, score_variants, write_results
from deepdife_core.variants.vcf import prepare_vcf

KIND = "variants"
EFFECTS_FILE = "effects.csv"
SAMPLES_FILE = "effects.samples.csv"
REPORT_FILE = "effects.report.json"
INFO_FILE = "run.json"
#: FASTA of the reference promoters (model inputs) of the genes with a scored variant, ``GENE::Chr:start-end(strand)``
PROMOTERS_FILE = "promoters.fa"
#: at most this many progress steps (chunks of genes) per run
STEPS = 20


def run(writer, args: dict[str, Any]) -> tuple[str, dict]:
    """Score the variants of ``args`` (the job side).

    Parameters
    ----------
    writer
        The job's writer (``event``, ``stop_requested``) from :func:`deepdife_core.jobs.runner.run_job`.
    args : dict
        ``job.json``'s ``args``: the VCF, genome, model and options (see the module docstring).

    Returns
    -------
    state : str
        ``"done"`` when the results folder is written, ``"stopped"`` when a stop came first.
    result : dict
        ``run_id``, ``out``, ``n_variants`` and ``seconds`` of a finished run; ``stopped`` and
        ``note`` of a stopped one.
    """
    t0 = time.time()
    try:
        cfg = from_dict(VariantConfig, args.get("config") or {})
        promoter = from_dict(PromoterConfig, args.get("promoter") or {})
        genome, workspace = args["genome"], args.get("workspace")
        writer.event({"event": "stage", "text": f"Reading genome {genome}…"})
        ann = load_genome(genome, workspace).annotation
        genes = args.get("genes") or None
        todo, missing = genes_to_score(ann, genes, genome)
        writer.event({"event": "stage", "text": f"Indexing VCF {args.get('vcf_name') or args['vcf']}…"})
        path, tmp = prepare_vcf(args["vcf"])
        try:
            step = max(1, min(cfg.genes_per_chunk, math.ceil(len(todo) / STEPS)))
            parts = []
            n_scored = 0
            for i in range(0, len(todo), step):
                if writer.stop_requested():
                    return "stopped", {"stopped": True, "note": "stopped before the end; nothing was saved"}
                part = score_variants(
                    args["model_path"],
                    genome,
                    path,
                    genes=todo[i : i + step],
                    samples=args.get("samples") or None,
                    per_sample=bool(args.get("per_sample")),
                    promoter=promoter,
                    config=cfg,
                    workspace=workspace,
                )
                parts.append(part)
                n_scored += len(part.effects)
                done = min(i + step, len(todo))
                writer.event({"event": "scored", "done": done, "total": len(todo), "variants": n_scored})
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
        result = merge_results(parts, missing, per_sample=bool(args.get("per_sample")))
        out = Path(args["out"])
        with atomic_dir(out) as tmp_out:
            write_results(result, tmp_out / EFFECTS_FILE)
            info = {
                "name": out.name,
                "model": args.get("model_name") or Path(args["model_path"]).name,
                "genome": genome,
                "vcf": args.get("vcf_name") or Path(args["vcf"]).name,
                "genes_asked": len(genes) if genes else None,
                "genes_scored": len(todo),
                "genes_not_found": missing,
                "samples": args.get("samples"),
                "per_sample": bool(args.get("per_sample")),
                "promoter": {"upstream": promoter.upstream, "downstream": promoter.downstream, "tss": promoter.tss},
                "variants_scored": len(result.effects),
                "seconds": round(time.time() - t0, 2),
            }
            atomic_write_json(tmp_out / INFO_FILE, info)
            genes_hit = list(dict.fromkeys(result.effects["gene_id"].astype(str)))
            write_reference_promoters(
                tmp_out / PROMOTERS_FILE, genome, genes_hit, promoter, args["model_path"], workspace=workspace
            )
    finally:
        if args.get("uploads"):
            shutil.rmtree(args["uploads"], ignore_errors=True)
    return "done", {"run_id": out.name, "out": str(out), "n_variants": len(result.effects), "seconds": info["seconds"]}


def write_reference_promoters(
    path: str | Path,
    genome: str,
    genes: list[str],
    promoter: PromoterConfig,
    model_path: str | Path,
    *,
    workspace: str | Path | None = None,
) -> int:
    """Write the reference model inputs of ``genes`` (windows of ``promoter`` fitted as the model's data).

    Parameters
    ----------
    path
        The FASTA to write (atomically); headers ``GENE::Chr:start-end(strand)``.
    genome
        The registered genome's name.
    genes
        Gene IDs or record identities (``GENE::Chr:start-end(strand)``) of the effect table: the first
        window of each gene, as variant scoring takes it, or every window with ``promoter.tss == "all"``.
    promoter
        The run's window and TSS choice.
    model_path
        The model folder: its :class:`~deepdife_core.config.DatasetConfig` ``length`` and ``pad_side``.
    workspace
        The workspace holding the genome registry (None: the environment's).

    Returns
    -------
    int
        Records written.
    """
    pairs: list[tuple[str, str]] = []
    if genes:
        data = model_data_config(model_path)
        plain = list(dict.fromkeys(gene_of(g) for g in genes))  # record identities -> annotation gene IDs
        records, _ = load_genome(genome, workspace).promoters(plain, promoter)
        seen: set[str] = set()
        for r in records:
            gene = r.id.split("::")[0]
            # alternative TSSs: every window with tss "all" (named as the effect table names them), else the
            # first, as the scoring does
            if promoter.tss == "all" or gene not in seen:
                seen.add(gene)
                pairs.append((r.header, pad_or_trim(r.sequence, int(data.length), side=data.pad_side)))
    write_fasta(pairs, path)
    return len(pairs)
