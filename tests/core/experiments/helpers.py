"""Shared helpers and fixtures of the ``experiments`` tests (moved from ``tests/core/test_experiments.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deepdife_core.config import ModelConfig
from deepdife_core.data.encode import one_hot
from deepdife_core.experiments.backgrounds import Background
from deepdife_core.experiments.sources import from_iupac
from deepdife_core.model.cnn import Predictor, build_model

ABRE_PWM = ["A", "C", "G", "T", "G", "GT", "C"]  # ACGTGKC


L = 80


def oracle_predictor() -> Predictor:
    """One conv filter = ABRE PWM (7 on a match, bias -5.5), global max -> logit 2*relu - 1 (forward strand only)."""
    k = len(ABRE_PWM)
    cfg = ModelConfig(
        head="flatten",
        input_length=L,
        pad_left=0,
        pad_right=0,
        n_conv=1,
        filters=2,
        kernel_size=k,
        pool_size=L - k + 1,
        dense_units=(),
        dropout=0.0,
        l2=0.0,
        conjoin=False,
        strand_shared=False,
    )
    model = build_model(cfg)
    kernel = np.zeros((k, 4, 2), dtype=np.float32)
    for j, bases in enumerate(ABRE_PWM):
        for b in bases:
            kernel[j, "ACGT".index(b), 0] = 1.0
    model.get_layer("conv_0").set_weights([kernel, np.array([-5.5, 0.0], dtype=np.float32)])
    model.get_layer("output").set_weights([np.array([[2.0], [0.0]], np.float32), np.array([-1.0], np.float32)])
    return Predictor([model], cfg)


def oracle_logit(seq: str) -> float:
    """The oracle's logit computed from the string alone (independent of Keras)."""
    best = 0
    for p in range(len(seq) - 6):
        best = max(best, sum(seq[p + j] in bases for j, bases in enumerate(ABRE_PWM)))
    return 2.0 * max(best - 5.5, 0.0) - 1.0


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


def at_seqs(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list("AT"), size=L)) for _ in range(n)]


def put(seq: str, motif: str, pos: int) -> str:
    return seq[:pos] + motif + seq[pos + len(motif) :]


ABRE = from_iupac("ACGTGGC")


ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="package")
def oracle():
    return oracle_predictor()


@pytest.fixture(scope="package")
def bg():
    seqs = at_seqs(6)
    return Background(tuple(f"G{i}" for i in range(6)), one_hot(seqs), "all", np.zeros(6, dtype=np.int64)), seqs


@pytest.fixture(scope="package")
def demo_csv(tmp_path_factory):
    from deepdife_core.cli.main import main

    out = tmp_path_factory.mktemp("demo") / "demo.csv"
    assert main(["demo", "--out", str(out), "-q"]) == 0
    return out
