"""Variant-effect benchmark (issue 15); writes ``bench/results/variants.json``.

100,000 SNVs over 5,000 promoter windows (500 + 100 bp) of a synthetic genome, scored with the
demo DeepDifE model (600 bp, conjoined), motif-change column against JASPAR CORE plants.
Targets on 2 cores: >= 5,000 variants/s (<= 20 s), peak RSS <= 2 GB, Dask on 2 local workers
within 1.3x of in-process.  ``DEEPDIFE_BENCH_GENES`` scales the run down.  Records the load
average next to the timings (the cores are shared), the motif column's share (a run without it),
the model-only rate as GMAC/s (2 forward passes of ~2.4 M MACs per variant) and where the Dask
run's extra time goes (cluster start, each worker's cold load, the result's pickle size).
"""

from __future__ import annotations

import os
import pickle
import platform
import resource
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pysam
from _report import write_result

from deepdife_core.genome.promoters import PromoterConfig, sites, window
from deepdife_core.genome.registry import add_genome, load_genome
from deepdife_core.genome.synthetic import make_genome
from deepdife_core.variants import VariantConfig
from deepdife_core.variants.run import score_variants

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "variants.json"
PER_GENE = 20


def _vcf(folder: Path, genome, n_per_gene: int, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    cfg = PromoterConfig()
    s = sites(genome.annotation, None, cfg).drop_duplicates("gene_id")
    lo, _ = window(s["site"].to_numpy(), s["strand"].to_numpy(), cfg.upstream, cfg.downstream)
    fa = pysam.FastaFile(str(genome.folder / "genome.fa.gz"))
    recs = set()
    for chrom, a in zip(s["chrom"], lo, strict=True):
        clen = genome.chrom_lengths[chrom]
        for p in rng.integers(max(a, 0), min(a + 600, clen), n_per_gene):
            recs.add((chrom, int(p)))
    lines = ["##fileformat=VCFv4.2"] + [f"##contig=<ID={c},length={n}>" for c, n in genome.chrom_lengths.items()]
    lines.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
    order = {c: i for i, c in enumerate(genome.chrom_lengths)}
    for chrom, p in sorted(recs, key=lambda r: (order[r[0]], r[1])):
        ref = fa.fetch(chrom, p, p + 1).upper()
        alt = "ACGT"[("ACGT".index(ref) + 1 + int(rng.integers(0, 3))) % 4] if ref in "ACGT" else "A"
        lines.append(f"{chrom}\t{p + 1}\t.\t{ref}\t{alt}\t50\tPASS\t.")
    fa.close()
    plain = folder / "calls.vcf"
    plain.write_text("\n".join(lines) + "\n")
    return Path(pysam.tabix_index(str(plain), preset="vcf", force=True))


def _warm_worker(model: str, motif_db: str) -> dict:
    """Load what a chunk needs on this process (model, motif database, seed index) and time each step."""
    from deepdife_core.motifs.scan import touching_hits
    from deepdife_core.variants.run import _model, scan_database

    t0 = time.perf_counter()
    _model(model)
    t1 = time.perf_counter()
    db = scan_database(motif_db)
    t2 = time.perf_counter()
    touching_hits(["ACGT"], [0], [1], db)  # builds the seed index of the default threshold
    t3 = time.perf_counter()
    return {"model_s": round(t1 - t0, 2), "motif_db_s": round(t2 - t1, 2), "seed_index_s": round(t3 - t2, 2)}


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _rss_now_mb() -> float | None:
    """The resident set now (Linux), to tell what the loaded model and databases hold from a run's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def main() -> dict:
    n_genes = int(os.environ.get("DEEPDIFE_BENCH_GENES", "5000"))
    model = ROOT / "models" / "demo"
    load = {"start": _load()}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        fa, gff, _ = make_genome(tmp / "src", chrom_lengths=(n_genes * 700,) * 5, n_genes=n_genes, seed=1)
        add_genome("bench", fa, gff, workspace=tmp / "ws")
        g = load_genome("bench", tmp / "ws")
        vcf = _vcf(tmp, g, PER_GENE)
        kw = dict(promoter=PromoterConfig(), workspace=str(tmp / "ws"))
        cfg = VariantConfig(genes_per_chunk=max(n_genes // 8, 1))  # the same chunks in-process and on Dask
        cold = _warm_worker(str(model), cfg.motif_db)
        score_variants(model, "bench", vcf, genes=list(g.annotation["gene_id"][:5]), **kw)  # warm-up
        load["before_full"] = _load()
        rss_before = _rss_now_mb(), _rss_mb()
        t0 = time.perf_counter()
        res = score_variants(model, "bench", vcf, config=cfg, **kw)
        t_full = time.perf_counter() - t0
        rss_full = _rss_mb()
        load["after_full"] = _load()
        t0 = time.perf_counter()
        score_variants(model, "bench", vcf, config=replace(cfg, motif_db=""), **kw)
        t_no_motifs = time.perf_counter() - t0
        t0 = time.perf_counter()
        score_variants(model, "bench", vcf, config=replace(cfg, motif_db="", attribution=False), **kw)
        t_model = time.perf_counter() - t0
        load["after_model_only"] = _load()
        n = len(res.effects)
        t0 = time.perf_counter()
        blob = pickle.dumps(res)
        pickle.loads(blob)
        t_pickle = time.perf_counter() - t0
        from distributed import Client, LocalCluster

        t0 = time.perf_counter()
        with (
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl,
            Client(cl) as client,
        ):
            t_cluster = time.perf_counter() - t0
            t0 = time.perf_counter()
            worker_cold = client.run(_warm_worker, str(model), cfg.motif_db)  # both workers, in parallel
            t_worker_load = time.perf_counter() - t0
            score_variants(model, "bench", vcf, genes=list(g.annotation["gene_id"][:5]), dask=client, **kw)
            load["before_dask"] = _load()
            t0 = time.perf_counter()
            remote = score_variants(model, "bench", vcf, config=cfg, dask=client, **kw)
            t_dask = time.perf_counter() - t0
            load["after_dask"] = _load()
        same = remote.effects.equals(res.effects)
    macs = 2.4e6
    gmacs = {k: n * 2 * macs / t / 1e9 for k, t in (("full", t_full), ("model_only", t_model))}
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load_average_1_5_15_min": load,
        "genes": n_genes,
        "variants_scored": n,
        "seconds_full": round(t_full, 2),
        "variants_per_second_full": round(n / t_full, 1),
        "seconds_without_motif_column": round(t_no_motifs, 2),
        "seconds_motif_column": round(t_full - t_no_motifs, 2),
        "seconds_model_only": round(t_model, 2),
        "variants_per_second_model_only": round(n / t_model, 1),
        "target_variants_per_second": 5000,
        "target_seconds_100k": 20,
        "cold_load_in_process": cold,
        "dask_cluster_start_seconds": round(t_cluster, 2),
        "dask_worker_cold_load": {str(k): v for k, v in worker_cold.items()},
        "dask_worker_cold_load_wall_seconds": round(t_worker_load, 2),
        "dask_2_workers_seconds": round(t_dask, 2),
        "dask_over_in_process": round(t_dask / t_full, 2),
        "dask_target_ratio": 1.3,
        "dask_same_table": bool(same),
        "result_pickle_mb": round(len(blob) / 2**20, 1),
        "result_pickle_round_trip_seconds": round(t_pickle, 2),
        "rss_mb_before_full_now_and_peak": list(rss_before),
        "peak_rss_mb_after_full": rss_full,
        "peak_rss_mb": _rss_mb(),
        "target_peak_rss_mb": 2048,
        "forward_passes_per_variant": 2,
        "macs_per_forward_pass": macs,
        "achieved_gmacs_per_second_full": round(gmacs["full"], 2),
        "achieved_gmacs_per_second_model_only": round(gmacs["model_only"], 2),
        "full_over_model_only_fraction": round(gmacs["full"] / gmacs["model_only"], 3),
        "forward_passes_per_second_full": round(2 * n / t_full, 1),
        "seconds_per_million_variants_full": round(t_full / n * 1e6, 1),
    }
    return write_result(OUT, result)


if __name__ == "__main__":
    main()
