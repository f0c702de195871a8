"""Shared fixtures of the tune tests (moved from ``test_study.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="package")
def table(tmp_path_factory) -> Path:
    from deepdife_core.data.demo import make_demo_dataset

    path = tmp_path_factory.mktemp("tune_data") / "tiny.csv"
    make_demo_dataset(120, length=100, seed=3)[["gene_id", "label", "family", "sequence"]].to_csv(path, index=False)
    return path


SMALL = {"n_conv": 2, "filters": 16, "dense_units": 32, "kernel_size": 8, "evoaug": False, "batch_size": 32}
