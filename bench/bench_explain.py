"""Attribution benchmarks: DeepSHAP / ISM speed and motif recovery on the demo model.

Writes ``bench/results/explain.json``.  Targets (issue 5, 2-core machine):

* one gene, DeepSHAP, 100 dinucleotide-shuffled references, both strands, warm: <= 0.2 s
* ISM of one gene on the 620-row published model (600 bp + 10 + 10 EvoAug padding): <= 0.5 s
* 1,000 genes DeepSHAP: <= 60 s, timed on all 1,000 genes with the default engine
  (``DEEPDIFE_BENCH_QUICK=1`` times 200 and extrapolates, ``extrapolated: true``).
  The shap engine (``ExplainConfig(engine="shap")``) is timed on 100 genes for
  comparison (extrapolated), and a few batch sizes (genes per model call) are tried.
* demo model, test positives: fraction whose top-scoring 10-bp window (sum of contrib)
  overlaps a planted ABRE.

Times are wall-clock seconds (best of a few for the one-gene figures) plus the CPU
seconds of this process (``process_time``, all threads) and the load average, since
the benchmark machine is shared.  The published model
(``../shared/data/deepdife/model_single.json`` + ``weights_single.h5``) is used when
present, else a freshly built 600 + 10 + 10 model of the same architecture.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from _report import best_of, write_result

from deepdife_core.config import ModelConfig
from deepdife_core.data.demo import make_demo_dataset
from deepdife_core.data.encode import one_hot
from deepdife_core.interpret import explain as E  # noqa: N812
from deepdife_core.interpret.deeplift import supports
from deepdife_core.model.cnn import Predictor, build_model, import_legacy
from deepdife_core.model.folder import load_model

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "explain.json"
SHARED = ROOT.parent / "shared" / "data" / "deepdife"


def published_predictor() -> tuple[Predictor, str]:
    js, h5 = SHARED / "model_single.json", SHARED / "weights_single.h5"
    if js.exists() and h5.exists():
        return import_legacy(js, h5), "published DeepDifE model (import_legacy)"
    cfg = ModelConfig(input_length=600, pad_left=10, pad_right=10)
    return Predictor([build_model(cfg)], cfg), "built 620-row model (published model not found)"


def clocked(fn):
    """``fn()``, its wall-clock seconds and this process's CPU seconds (all threads)."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def bench_many(pred: Predictor, X: np.ndarray, cfg: E.ExplainConfig, n: int, *, full: bool) -> dict:
    """DeepSHAP of ``X[:n]`` (after a warm-up call that traces the multi-gene batch shape)."""
    genes_per_call = max(1, cfg.batch_size // (4 * cfg.n_background))
    E.deep_shap(pred, X[: 2 * genes_per_call], config=cfg)
    res, wall, cpu = clocked(lambda: E.deep_shap(pred, X[:n], config=cfg))
    per_1000 = wall * 1000 / n
    return {
        "engine": cfg.engine,
        "batch_size": cfg.batch_size,
        "genes_per_call": genes_per_call,
        "n_genes_timed": n,
        "seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "seconds_per_gene": round(wall / n, 4),
        "seconds_for_1000_genes": round(per_1000, 1),
        "extrapolated": not full,
        "target_seconds_for_1000": 60,
        "meets_target": per_1000 <= 60,
        "max_additivity_error": float(res.max_additivity_error),
    }


def bench_speed(pred: Predictor, X: np.ndarray) -> dict:
    cfg = E.ExplainConfig(n_background=100)  # default engine ("auto")
    shap_cfg = replace(cfg, engine="shap")
    engine = "deeplift" if all(supports(m) for m in pred.models) else "shap"
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    E.deep_shap(pred, X[:1], config=cfg)
    cold = time.perf_counter() - t0
    one = best_of(lambda: E.deep_shap(pred, X[1:2], config=cfg), repeats=5)
    _, _, one_cpu = clocked(lambda: E.deep_shap(pred, X[1:2], config=cfg))
    res = E.deep_shap(pred, X[1:2], config=cfg)
    E.deep_shap(pred, X[:1], config=shap_cfg)
    one_shap = best_of(lambda: E.deep_shap(pred, X[1:2], config=shap_cfg), repeats=3)
    E.ism(pred, X[:1])
    ism_s = best_of(lambda: E.ism(pred, X[1:2]), repeats=5)
    full = os.environ.get("DEEPDIFE_BENCH_QUICK") != "1"
    many = bench_many(pred, X, cfg, 1000 if full else 200, full=full)
    many_shap = bench_many(pred, X, shap_cfg, 100, full=False)
    sweep = [bench_many(pred, X, replace(cfg, batch_size=bs), 64, full=False) for bs in (800, 1600, 3200, 6400)]
    return {
        "engine_used_by_default": engine,
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "deepshap_one_gene": {
            "n_background": 100,
            "strands": "both",
            "first_call_seconds": round(cold, 3),
            "warm_seconds": round(one, 3),
            "warm_cpu_seconds": round(one_cpu, 3),
            "target_seconds": 0.2,
            "meets_target": one <= 0.2,
            "additivity_error": float(res.max_additivity_error),
            "shap_engine_warm_seconds": round(one_shap, 3),
        },
        "ism_one_gene": {
            "network_rows": pred.config.network_length,
            "substitutions": int(3 * pred.config.input_length),
            "strands": "both",
            "warm_seconds": round(ism_s, 3),
            "target_seconds": 0.5,
            "meets_target": ism_s <= 0.5,
        },
        "deepshap_many_genes": many,
        "deepshap_many_genes_shap_engine": many_shap,
        "deepshap_batch_size_sweep": [
            {k: r[k] for k in ("batch_size", "genes_per_call", "n_genes_timed", "seconds_per_gene", "cpu_seconds")}
            for r in sweep
        ],
    }


def _sites(text: str) -> list[tuple[int, int]]:
    return [(int(s.split(":")[0]), int(s.split(":")[1])) for s in str(text).split(";") if s]


def bench_recovery(width: int = 10) -> dict:
    """Demo model, test positives: does the top ``width``-bp window overlap a planted ABRE?"""
    pred = load_model(ROOT / "models" / "demo")
    split = pd.read_csv(ROOT / "models" / "demo" / "split.csv")
    df = make_demo_dataset().merge(split[["gene_id", "split"]], on="gene_id")
    pos = df[(df["split"] == "test") & (df["label"] == 1)].reset_index(drop=True)
    with_sites = pos[pos["sites"].fillna("") != ""]
    X = one_hot(with_sites["sequence"].tolist())
    out = {"n_test_positives": len(pos), "n_with_planted_abre": len(with_sites), "window_bp": width}
    for name, fn in (("deepshap", E.deep_shap), ("gradxinput", E.grad_x_input), ("ism", E.ism)):
        t0 = time.perf_counter()
        res = fn(pred, X)
        secs = time.perf_counter() - t0
        starts = E.top_window(res.contrib, width)
        hit = [
            any(s < w + width and w < e for s, e in _sites(text))
            for w, text in zip(starts, with_sites["sites"], strict=True)
        ]
        out[name] = {"fraction_top_window_on_abre": round(float(np.mean(hit)), 4), "seconds": round(secs, 2)}
    return out


def main() -> dict:
    pred, source = published_predictor()
    df = make_demo_dataset(1000, length=600, seed=5)
    X = one_hot(df["sequence"].tolist())
    result = {
        "benchmark": "explain",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "model": source,
        "speed": bench_speed(pred, X),
        "demo_motif_recovery": bench_recovery(),
        "notes": (
            "DeepSHAP explains the pre-sigmoid logit. Default engine: deepdife_core.interpret.deeplift (shap's "
            "DeepExplainer rules; the input forwarded once per gene, only the 100 references back-propagated; "
            "4 genes x 2 strands x 100 references per call); the shap engine is timed on 100 genes for "
            "comparison. The machine is shared: see load_average_before_after and the CPU seconds."
        ),
    }
    return write_result(OUT, result)


if __name__ == "__main__":
    main()
