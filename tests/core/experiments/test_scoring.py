"""Tests of ``deepdife_core.experiments.scoring`` (moved from ``tests/core/test_experiments.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from deepdife_core.data.encode import one_hot
from deepdife_core.experiments import ExperimentConfig
from deepdife_core.experiments.sweep import position_sweep
from tests.core.experiments.helpers import ABRE, oracle_logit, put, sigmoid


def test_oracle_matches_its_string_oracle(oracle, bg):
    _, seqs = bg
    test = [seqs[0], put(seqs[1], "ACGTGGC", 10), put(seqs[2], "ACGTGTC", 40), put(seqs[3], "GCCACGT", 5)]
    from deepdife_core.experiments.scoring import score

    prob, logit = score(oracle, one_hot(test))
    expected = [oracle_logit(s) for s in test]
    np.testing.assert_allclose(logit, expected, atol=1e-5)
    np.testing.assert_allclose(prob, sigmoid(expected), atol=1e-6)
    assert expected == [-1.0, 2.0, 2.0, -1.0]


def test_stop_between_chunks(oracle, bg):
    from deepdife_core.experiments.scoring import ExperimentStoppedError

    b, _ = bg
    calls = []
    with pytest.raises(ExperimentStoppedError):
        position_sweep(
            oracle,
            b,
            ABRE,
            ExperimentConfig(step=1, chunk=20),
            progress=calls.append,
            should_stop=lambda: len(calls) >= 2,
        )
    assert [c["done"] for c in calls] == [20, 40]
