"""Tests of ``deepdife_core.config`` (moved from ``tests/core/model/test_cnn.py``)."""

import pytest

from deepdife_core.config import ModelConfig, config_from_dict, config_to_dict
from deepdife_core.errors import DeepDifEInputError


def test_configs_written_before_the_options_read_back_as_deepdife():
    old = {"model": {"input_length": 600, "n_conv": 3, "dense_units": [256, 128]}, "train": {"epochs": 5}}
    cfg = config_from_dict(old)
    assert (cfg.model.head, cfg.model.first_activation, cfg.model.conjoin) == ("flatten", "relu", True)
    assert cfg.train.strands == "random" and cfg.train.chance_patience == 0
    new = config_from_dict({"model": config_to_dict(ModelConfig())})
    assert new.model == ModelConfig()


def test_config_round_trip_and_validation():
    cfg = ModelConfig(input_length=300, pad_left=10, pad_right=10, dense_units=(32, 16))
    assert config_from_dict({"model": config_to_dict(cfg)}).model == cfg
    assert cfg.network_length == 320
    with pytest.raises(DeepDifEInputError, match="dropout"):
        ModelConfig(dropout=1.5)
    with pytest.raises(DeepDifEInputError, match="kernel_size 20 is longer"):
        ModelConfig(input_length=10, kernel_size=20)


def test_configs_without_strand_shared_read_back_as_single_strand_filters():
    saved = config_to_dict(ModelConfig())
    saved.pop("strand_shared")
    assert config_from_dict({"model": saved}).model.strand_shared is False
