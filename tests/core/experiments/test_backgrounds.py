"""Tests of ``deepdife_core.experiments.backgrounds`` (moved from ``tests/core/test_experiments.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.experiments.backgrounds import select_backgrounds


def test_backgrounds_by_class_and_shuffled(tiny_df):
    b = select_backgrounds(tiny_df, "non-responsive", 20, seed=1)
    assert len(b) == 20 and (b.labels == 0).all()
    assert b.gene_ids == select_backgrounds(tiny_df, "non-responsive", 20, seed=1).gene_ids
    s = select_backgrounds(tiny_df, "shuffled", 20, seed=1)
    assert all(g.startswith("shuffle:") for g in s.gene_ids)
    np.testing.assert_array_equal(s.x.sum(axis=1), b.x.sum(axis=1))  # same base composition
    assert not np.array_equal(s.x, b.x)
    with pytest.raises(DeepDifEInputError, match="no responsive genes"):
        select_backgrounds(tiny_df[tiny_df["label"] == 0], "responsive", 5)
