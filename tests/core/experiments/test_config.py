"""Tests of ``deepdife_core.experiments.config`` (moved from ``tests/core/test_experiments.py``)."""

from __future__ import annotations

import pytest

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.experiments import ExperimentConfig


def test_config_validation():
    with pytest.raises(DeepDifEInputError, match="background must be one of"):
        ExperimentConfig(background="some")
    with pytest.raises(DeepDifEInputError, match="n_backgrounds must be >= 1"):
        ExperimentConfig(n_backgrounds=0)
    with pytest.raises(DeepDifEInputError, match="unknown experiment option"):
        ExperimentConfig.from_dict({"bogus": 1})
