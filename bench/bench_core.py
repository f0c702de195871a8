"""Core benchmarks: one-hot encoding throughput and training seconds per epoch.

Writes ``bench/results/core.json``.  Targets (issue 2): the lookup-table encoder is
>= 20x faster than a per-nucleotide Python dict encoder (the way the original
notebooks encode); <= 1.5 s per epoch for 4,500 sequences of 620 bp on 2 cores.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

import numpy as np
from _report import best_of, write_result

from deepdife_core.config import ModelConfig, TrainConfig
from deepdife_core.data.demo import make_demo_dataset
from deepdife_core.data.encode import one_hot
from deepdife_core.train.fit import fit

OUT = Path(__file__).resolve().parent / "results" / "core.json"


def dict_one_hot(seqs: list[str]) -> np.ndarray:
    """Baseline: the notebooks' per-nucleotide dictionary encoder."""
    mapping = {"A": [1, 0, 0, 0], "C": [0, 1, 0, 0], "G": [0, 0, 1, 0], "T": [0, 0, 0, 1], "N": [0, 0, 0, 0]}
    return np.array([[mapping.get(base, [0, 0, 0, 0]) for base in seq] for seq in seqs], dtype=np.float32)


def bench_encoding(seqs: list[str]) -> dict:
    fast = best_of(lambda: one_hot(seqs))
    base = best_of(lambda: dict_one_hot(seqs), repeats=1)
    np.testing.assert_array_equal(one_hot(seqs[:50]), dict_one_hot(seqs[:50]))
    return {
        "n_sequences": len(seqs),
        "length": len(seqs[0]),
        "lut_seconds": round(fast, 4),
        "lut_sequences_per_s": round(len(seqs) / fast),
        "dict_baseline_seconds": round(base, 4),
        "dict_baseline_sequences_per_s": round(len(seqs) / base),
        "speedup": round(base / fast, 1),
        "target_speedup": 20,
        "meets_target": base / fast >= 20,
    }


def bench_training(x: np.ndarray, y: np.ndarray, epochs: int = 4) -> dict:
    n_val = 500
    cfg = TrainConfig(epochs=epochs, batch_size=100, early_stopping_patience=0, reduce_lr_patience=0)
    res = fit(x[n_val:], y[n_val:], x[:n_val], y[:n_val], model_cfg=ModelConfig(input_length=x.shape[1]), train_cfg=cfg)
    secs = [h["seconds"] for h in res.history]
    warm = secs[1:] if len(secs) > 1 else secs
    return {
        "n_train": int(len(x) - n_val),
        "n_val": n_val,
        "length": int(x.shape[1]),
        "batch_size": 100,
        "first_epoch_seconds": round(secs[0], 3),
        "seconds_per_epoch": round(float(np.median(warm)), 3),
        "target_seconds_per_epoch_4500x620": 1.5,
    }


def main() -> dict:
    df = make_demo_dataset(5000, length=620, seed=1)
    seqs = df["sequence"].tolist()
    enc = bench_encoding(seqs[:4500])
    x = one_hot(seqs)
    y = df["label"].to_numpy()
    # 4,500 training sequences (+500 for validation) of 620 bp, as the target states
    train = bench_training(x, y)
    train["meets_target"] = train["seconds_per_epoch"] <= 1.5
    result = {
        "benchmark": "core",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "encoding": enc,
        "training": train,
    }
    return write_result(OUT, result)


if __name__ == "__main__":
    main()
