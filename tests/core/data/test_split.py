import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepdife_core.data.split import check_no_leak, grouped_kfold, grouped_split, split_from_column
from deepdife_core.errors import DeepDifEInputError


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 40), min_size=30, max_size=200),
    st.integers(0, 10_000),
)
def test_no_family_in_two_splits(groups, seed):
    groups = np.array([f"F{g}" for g in groups])
    try:
        parts = grouped_split(groups, val_fraction=0.15, test_fraction=0.15, seed=seed)
    except DeepDifEInputError:
        return  # too few families for the fractions: a clear error is fine
    sets = [set(groups[idx]) for idx in parts.values()]
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    assert sorted(np.concatenate(list(parts.values())).tolist()) == list(range(len(groups)))


def test_split_fractions_roughly_respected_and_seeded():
    groups = np.repeat(np.arange(500), 2).astype(str)
    a = grouped_split(groups, val_fraction=0.1, test_fraction=0.2, seed=3)
    b = grouped_split(groups, val_fraction=0.1, test_fraction=0.2, seed=3)
    c = grouped_split(groups, val_fraction=0.1, test_fraction=0.2, seed=4)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["test"], c["test"])
    assert abs(len(a["test"]) - 200) <= 4 and abs(len(a["val"]) - 100) <= 4


def test_split_keeps_class_balance():
    groups = np.arange(1000).astype(str)
    labels = (np.arange(1000) % 4 == 0).astype(int)  # 25 % positive
    parts = grouped_split(groups, seed=0, labels=labels)
    for idx in parts.values():
        assert 0.18 < labels[idx].mean() < 0.32


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=20, max_size=150), st.integers(2, 6), st.integers(0, 99))
def test_kfold_each_family_in_exactly_one_fold(groups, k, seed):
    groups = np.array([f"F{g}" for g in groups])
    if len(set(groups)) < k:
        with pytest.raises(DeepDifEInputError):
            grouped_kfold(groups, k=k, seed=seed)
        return
    folds = grouped_kfold(groups, k=k, seed=seed)
    assert len(folds) == k
    seen = {}
    for f, (tr, va) in enumerate(folds):
        assert set(groups[tr]).isdisjoint(groups[va])
        assert len(tr) + len(va) == len(groups)
        for g in set(groups[va]):
            assert g not in seen
            seen[g] = f
    assert set(seen) == set(groups)


def test_split_column_leak_detected():
    df = pd.DataFrame({"family": ["a", "a", "b", "c"], "split": ["train", "val", "train", "val"]})
    with pytest.raises(DeepDifEInputError, match="family 'a'"):
        split_from_column(df)
    check_no_leak(np.array(["a", "b"]), {"train": np.array([0]), "val": np.array([1])})


def test_too_few_genes():
    with pytest.raises(DeepDifEInputError, match="at least 3"):
        grouped_split(["a", "b"])
