"""Tests of ``deepdife_core.experiments.dose`` (moved from ``tests/core/test_experiments.py``)."""

from __future__ import annotations

import numpy as np

from deepdife_core.experiments import ExperimentConfig
from deepdife_core.experiments.dose import dose_response
from tests.core.experiments.helpers import ABRE, L


def test_dose_is_saturating_on_a_global_max_model(oracle, bg):
    b, _ = bg
    summary, _ = dose_response(oracle, b, ABRE, ExperimentConfig(max_copies=3, copy_gap=3, orientation="+"))
    assert list(summary["copies"]) == [0, 1, 2, 3]
    np.testing.assert_allclose(summary["delta_logit_mean"], [0, 3, 3, 3], atol=1e-5)
    np.testing.assert_allclose(summary["additive_logit_mean"], [0, 3, 6, 9], atol=1e-5)
    np.testing.assert_allclose(summary["synergy_logit_mean"], [0, 0, -3, -6], atol=1e-5)
    block = 3 * 7 + 2 * 3
    assert summary["positions"].iloc[3] == ";".join(str((L - block) // 2 + k * 10) for k in range(3))
