"""The Variants page's background job: ``deepdife variants`` in chunks of genes, with progress and Stop.

``deepdife_core.jobs.runner`` has no ``variants`` kind, so this module (Streamlit-free)
supplies it: :func:`start` registers the kind, creates the job folder with
:func:`deepdife_core.jobs.runner.create_job` and starts
``python -m dashboard.variants_job run <folder>``, whose :func:`main` registers the kind
again and hands over to :func:`deepdife_core.jobs.runner.main` (so ``job.json``,
``progress.jsonl``, ``result.json``, the stop file and the failure states are those of
every job).  The job scores the genes with
:func:`deepdife_core.variants.run.score_variants` a chunk at a time (one ``scored``
event per chunk; a stop request ends it between chunks, nothing saved) and writes
:func:`~deepdife_core.variants.run.write_results` into ``workspace/variants/<name>/``
(``effects.csv``, ``effects.samples.csv`` in per-sample mode, ``effects.report.json``)
plus ``run.json``, all in one atomic folder.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import atomic_write_json
from deepdife_core.jobs import runner as core_jobs

KIND = "variants"
EFFECTS_FILE = "effects.csv"
SAMPLES_FILE = "effects.samples.csv"
REPORT_FILE = "effects.report.json"
INFO_FILE = "run.json"
#: at most this many progress steps (chunks of genes) per run
STEPS = 20


def register() -> None:
    """Make ``variants`` a job kind of :data:`deepdife_core.jobs.runner.RUNNERS` in this process."""
    core_jobs.RUNNERS.setdefault(KIND, run)


def run(writer, args: dict[str, Any]) -> tuple[str, dict]:
    """Score the variants of ``args`` (the job side); returns (final state, result).

    ``args``: ``model_path``, ``model_name``, ``genome``, ``workspace``, ``vcf``, ``vcf_name``,
    ``genes`` (list or None), ``samples`` (list or None), ``per_sample``, ``promoter``
    (upstream, downstream, tss), ``config`` (:class:`~deepdife_core.variants.VariantConfig`
    fields), ``out`` (the results folder) and ``uploads`` (a folder to delete at the end).
    """
    import pandas as pd

    from deepdife_core.config import from_dict
    from deepdife_core.files import atomic_dir
    from deepdife_core.genome.promoters import PromoterConfig, match_genes
    from deepdife_core.genome.registry import load_genome
    from deepdife_core.variants import VariantConfig
    from deepdife_core.variants.haplotypes import sample_matrix
    from deepdife_core.variants.run import VariantResult, score_variants, write_results
    from deepdife_core.variants.vcf import ReadReport, prepare_vcf

    t0 = time.time()
    try:
        cfg = from_dict(VariantConfig, args.get("config") or {})
        promoter = from_dict(PromoterConfig, args.get("promoter") or {})
        genome, workspace = args["genome"], args.get("workspace")
        writer.event({"event": "stage", "text": f"Reading genome {genome}…"})
        ann = load_genome(genome, workspace).annotation
        genes = args.get("genes") or None
        if genes:
            todo, missing = match_genes(ann, genes)
            if not todo:
                raise DeepDifEInputError(
                    f"none of the {len(genes)} gene IDs (e.g. '{genes[0]}') is in genome '{genome}'"
                )
        else:
            todo, missing = list(dict.fromkeys(ann["gene_id"])), []
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
        report = ReadReport()
        for p in parts:
            report.merge(p.report)
        frames = [p.effects for p in parts if len(p.effects)]
        effects = pd.concat(frames, ignore_index=True) if frames else parts[0].effects
        haps = sample_matrix([p.haplotypes for p in parts]) if args.get("per_sample") else None
        result = VariantResult(effects, haps, report, missing)
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
                "variants_scored": len(effects),
                "seconds": round(time.time() - t0, 2),
            }
            atomic_write_json(tmp_out / INFO_FILE, info)
    finally:
        if args.get("uploads"):
            shutil.rmtree(args["uploads"], ignore_errors=True)
    return "done", {"run_id": out.name, "out": str(out), "n_variants": len(effects), "seconds": info["seconds"]}


def start(jobs_root: str | Path, args: dict[str, Any]) -> tuple[Path, subprocess.Popen]:
    """Create a ``variants`` job under ``jobs_root`` and start its process (as ``runner.launch`` does).

    Returns
    -------
    tuple of Path, subprocess.Popen
        The job folder and its process (the caller reaps it).
    """
    register()
    folder = core_jobs.create_job(jobs_root, KIND, args).resolve()
    root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    try:
        with open(folder / core_jobs.LOG_FILE, "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "dashboard.variants_job", "run", str(folder)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=root,
                env=env,
            )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder, proc


def main(argv: list[str] | None = None) -> int:
    """``python -m dashboard.variants_job run <job_folder>``: :func:`deepdife_core.jobs.runner.main` with this kind."""
    register()
    return core_jobs.main(argv)


if __name__ == "__main__":
    sys.exit(main())
