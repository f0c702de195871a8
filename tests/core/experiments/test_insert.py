"""Tests of ``deepdife_core.experiments.insert`` (moved from ``tests/core/test_experiments.py``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.experiments import ExperimentConfig
from deepdife_core.experiments.insert import insertion
from deepdife_core.experiments.sources import from_iupac
from tests.core.experiments.helpers import ABRE, L, sigmoid


def test_insertion_exact_values_both_orientations(oracle, bg):
    b, _ = bg
    t = insertion(oracle, b, ABRE, ExperimentConfig(position=30, orientation="both"))
    assert list(t["gene_id"]) == list(b.gene_ids) and (t["position"] == 30).all()
    np.testing.assert_allclose(t["logit_before"], -1.0, atol=1e-5)
    np.testing.assert_allclose(t["delta_logit_plus"], 3.0, atol=1e-5)  # forward ABRE: -1 -> 2
    np.testing.assert_allclose(t["delta_logit_minus"], 0.0, atol=1e-5)  # the model reads the forward strand only
    np.testing.assert_allclose(t["delta_logit"], 1.5, atol=1e-5)
    np.testing.assert_allclose(t["delta_probability"], (sigmoid(2) + sigmoid(-1)) / 2 - sigmoid(-1), atol=1e-6)
    t_plus = insertion(oracle, b, ABRE, ExperimentConfig(position=30, orientation="+"))
    np.testing.assert_allclose(t_plus["p_after"], sigmoid(2.0), atol=1e-6)


def test_default_position_is_the_middle(oracle, bg):
    b, _ = bg
    t = insertion(oracle, b, ABRE, ExperimentConfig(orientation="+"))
    assert (t["position"] == (L - 7) // 2).all()
    with pytest.raises(DeepDifEInputError, match="must start at 0"):
        insertion(oracle, b, ABRE, ExperimentConfig(position=L - 3))


def test_fixed_seed_gives_identical_tables(oracle, bg):
    b, _ = bg
    m = from_iupac("ACGTGKC")
    cfg = ExperimentConfig(instance="sample", seed=3)
    a1 = insertion(oracle, b, m, cfg)
    a2 = insertion(oracle, b, m, cfg)
    pd.testing.assert_frame_equal(a1, a2)
    inst = m.instances(200, mode="sample", seed=3)
    assert set(np.unique(inst[:, 5].argmax(1))) == {2, 3}  # K = G or T, both drawn
    np.testing.assert_array_equal(inst, m.instances(200, mode="sample", seed=3))
