"""Shared helpers and fixtures of the ``experiments`` tests (moved from ``tests/core/test_experiments.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deepdife_core.data.encode import one_hot
from deepdife_core.experiments.backgrounds import Background
from deepdife_core.experiments.sources import from_iupac
from deepdife_core.model.cnn import Predictor, build_model
from tests.core.oracle import ABRE_PWM, abre_config, abre_logit, set_abre_weights  # noqa: F401

L = 80


def oracle_predictor() -> Predictor:
    """One conv filter = ABRE PWM (7 on a match, bias -5.5), global max -> logit 2*relu - 1 (forward strand only)."""
    cfg = abre_config(L, conjoin=False)
    return Predictor([set_abre_weights(build_model(cfg))], cfg)


oracle_logit = abre_logit


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
