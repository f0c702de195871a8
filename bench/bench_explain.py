"""Attribution benchmarks: DeepSHAP / ISM speed and motif recovery on the demo model.

Writes ``bench/results/explain.json``.  Targets (issue 5, 2-core machine):

* one gene, DeepSHAP, 100 dinucleotide-shuffled references, both strands, warm: <= 0.2 s
* ISM of one gene on the 620-row published model (600 bp + 10 + 10 EvoAug padding): <= 0.5 s
* 1,000 genes DeepSHAP: <= 60 s.  By default 200 genes are timed and the 1,000-gene
  figure is extrapolated (``extrapolated: true``); ``DEEPDIFE_BENCH_FULL=1`` times all 1,000.
* demo model, test positives: fraction whose top-scoring 10-bp window (sum of contrib)
  overlaps a planted ABRE.

The published model (``../shared/data/deepdife/model_single.json`` + ``weights_single.h5``)
is used when present, else a freshly built 600 + 10 + 10 model of the same architecture.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from deepdife_core import explain as E  # noqa: N812
from deepdife_core.artifacts import load_model
from deepdife_core.config import ModelConfig
from deepdife_core.demo import make_demo_dataset
from deepdife_core.encode import one_hot
from deepdife_core.model import Predictor, build_model, import_legacy

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "explain.json"
SHARED = ROOT.parent / "shared" / "data" / "deepdife"


def published_predictor() -> tuple[Predictor, str]:
    js, h5 = SHARED / "model_single.json", SHARED / "weights_single.h5"
    if js.exists() and h5.exists():
        return import_legacy(js, h5), "published DeepDifE model (import_legacy)"
    cfg = ModelConfig(input_length=600, pad_left=10, pad_right=10)
    return Predictor([build_model(cfg)], cfg), "built 620-row model (published model not found)"


def best_of(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_speed(pred: Predictor, X: np.ndarray) -> dict:
    cfg = E.ExplainConfig(n_background=100)
    t0 = time.perf_counter()
    E.deep_shap(pred, X[:1], config=cfg)
    cold = time.perf_counter() - t0
    one = best_of(lambda: E.deep_shap(pred, X[1:2], config=cfg))
    res = E.deep_shap(pred, X[1:2], config=cfg)
    E.ism(pred, X[:1])
    ism_s = best_of(lambda: E.ism(pred, X[1:2]))
    full = os.environ.get("DEEPDIFE_BENCH_FULL") == "1"
    n = 1000 if full else 200
    E.deep_shap(pred, X[:8], config=cfg)  # trace the multi-gene batch shape
    t0 = time.perf_counter()
    many = E.deep_shap(pred, X[:n], config=cfg)
    many_s = time.perf_counter() - t0
    per_1000 = many_s * 1000 / n
    return {
        "deepshap_one_gene": {
            "n_background": 100,
            "strands": "both",
            "first_call_seconds": round(cold, 3),
            "warm_seconds": round(one, 3),
            "target_seconds": 0.2,
            "meets_target": one <= 0.2,
            "additivity_error": float(res.max_additivity_error),
        },
        "ism_one_gene": {
            "network_rows": pred.config.network_length,
            "substitutions": int(3 * pred.config.input_length),
            "strands": "both",
            "warm_seconds": round(ism_s, 3),
            "target_seconds": 0.5,
            "meets_target": ism_s <= 0.5,
        },
        "deepshap_many_genes": {
            "n_genes_timed": n,
            "seconds": round(many_s, 2),
            "seconds_per_gene": round(many_s / n, 4),
            "seconds_for_1000_genes": round(per_1000, 1),
            "extrapolated": not full,
            "target_seconds_for_1000": 60,
            "meets_target": per_1000 <= 60,
            "max_additivity_error": float(many.max_additivity_error),
        },
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
            "DeepSHAP explains the pre-sigmoid logit; one shap DeepExplainer per Keras model is reused and "
            "references travel in the batch (4 genes x 2 strands x 100 references per call)."
        ),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
