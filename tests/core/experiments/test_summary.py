"""Tests of ``deepdife_core.experiments.summary`` (moved from ``tests/core/test_experiments.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from deepdife_core.experiments import summary as S  # noqa: N812


def test_mean_ci_exact():
    s = S.mean_ci(np.array([1.0, 2.0, 3.0, 4.0]))
    sd = np.sqrt(5 / 3)
    half = 3.182446305284263 * sd / 2  # t(0.975, 3)
    assert s["mean"] == 2.5 and s["sd"] == pytest.approx(sd) and s["n"] == 4
    assert s["ci_low"] == pytest.approx(2.5 - half) and s["ci_high"] == pytest.approx(2.5 + half)
    assert np.isnan(S.mean_ci(np.array([1.0]))["sd"])
