"""Tests of ``deepdife_core.experiments.sweep`` (moved from ``tests/core/test_experiments.py``)."""

from __future__ import annotations

import numpy as np

from deepdife_core.experiments import ExperimentConfig
from deepdife_core.experiments.sweep import position_sweep
from tests.core.experiments.helpers import ABRE, L


def test_sweep_every_position_gives_three_logits(oracle, bg):
    b, _ = bg
    summary, per_gene = position_sweep(oracle, b, ABRE, ExperimentConfig(step=7, orientation="+"))
    assert list(summary["position"]) == list(range(0, L - 7 + 1, 7))
    assert list(summary["pos_from_tss"]) == [p - L for p in range(0, L - 7 + 1, 7)]
    np.testing.assert_allclose(summary["delta_logit_mean"], 3.0, atol=1e-5)
    np.testing.assert_allclose(summary["delta_logit_sd"], 0.0, atol=1e-5)
    assert (summary["n"] == 6).all() and len(per_gene) == 6 * len(summary)
