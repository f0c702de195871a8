"""Grouped splits: no group (gene family) is ever in two parts.

All functions take a 1-D array of group labels (one per gene) and return index
arrays into it.  Randomness comes from a local ``np.random.default_rng(seed)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from deepdife_core.errors import DeepDifEInputError


def _group_order(groups: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    uniq, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    order = rng.permutation(len(uniq))
    return order, inverse, counts


def grouped_split(
    groups: Sequence | np.ndarray,
    *,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 0,
    labels: Sequence | np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Split genes into train/val/test by group.

    Groups are shuffled and dealt into test, then validation, until each holds
    its fraction of the genes; the rest trains.  With ``labels``, groups are dealt
    per majority class so the class balance is kept in every part.

    Parameters
    ----------
    groups : sequence or numpy.ndarray
        ``(N,)`` group (family) of each gene; genes of one group stay together.
    val_fraction : float, optional
        Share of the genes for validation, default 0.1.
    test_fraction : float, optional
        Share of the genes for the test part, default 0.1.
    seed : int, optional
        Seed of the shuffle, default 0.
    labels : sequence or numpy.ndarray, optional
        ``(N,)`` 0/1 labels to stratify by (a group counts as its majority class).

    Returns
    -------
    dict
        ``{"train": idx, "val": idx, "test": idx}``, sorted int64 index arrays ``(n_part,)``.

    Raises
    ------
    DeepDifEInputError
        With fewer than 3 genes, or when a part with a positive fraction gets no whole group.
    """
    groups = np.asarray(groups).astype(str)
    n = len(groups)
    if n < 3:
        raise DeepDifEInputError(f"need at least 3 genes to split, got {n}")
    rng = np.random.default_rng(seed)
    order, inverse, counts = _group_order(groups, rng)
    if labels is not None:
        labels = np.asarray(labels)
        maj = np.zeros(len(counts))
        np.add.at(maj, inverse, labels)
        maj = (maj / counts) >= 0.5
        # interleave: stable sort the shuffled order by class, then round-robin
        strata = [order[maj[order]], order[~maj[order]]]
    else:
        strata = [order]
    assign = np.full(len(counts), "train", dtype=object)
    for stratum in strata:
        total = counts[stratum].sum()
        targets = [("test", test_fraction * total), ("val", val_fraction * total)]
        cum = 0.0
        pos = 0
        for part, target in targets:
            taken = 0.0
            while pos < len(stratum) and taken + counts[stratum[pos]] / 2 <= target:
                assign[stratum[pos]] = part
                taken += counts[stratum[pos]]
                pos += 1
            cum += taken
    gene_part = assign[inverse]
    out = {p: np.flatnonzero(gene_part == p).astype(np.int64) for p in ("train", "val", "test")}
    if len(out["train"]) == 0 or (val_fraction > 0 and len(out["val"]) == 0):
        raise DeepDifEInputError(
            f"cannot split {n} genes in {len(counts)} families into train/validation parts; "
            "add genes or lower the validation/test fractions"
        )
    if test_fraction > 0 and len(out["test"]) == 0:
        raise DeepDifEInputError(
            f"the test fraction {test_fraction} holds no whole family of {n} genes; raise it or add genes"
        )
    return out


def grouped_kfold(groups: Sequence | np.ndarray, *, k: int = 5, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """GroupKFold: ``k`` (train_idx, val_idx) pairs; each group is in exactly one validation fold.

    Groups are shuffled (seeded), then dealt largest first to the fold with the
    fewest genes so far, which balances fold sizes.

    Parameters
    ----------
    groups : sequence or numpy.ndarray
        ``(N,)`` group (family) of each gene.
    k : int, optional
        Number of folds (>= 2), default 5.
    seed : int, optional
        Seed of the shuffle, default 0.

    Returns
    -------
    list of tuple of (numpy.ndarray, numpy.ndarray)
        ``k`` pairs of int64 index arrays ``(train_idx, val_idx)``, each sorted.

    Raises
    ------
    DeepDifEInputError
        If ``k < 2`` or there are fewer than ``k`` groups.
    """
    groups = np.asarray(groups).astype(str)
    if k < 2:
        raise DeepDifEInputError(f"cross-validation needs at least 2 folds, got {k}")
    rng = np.random.default_rng(seed)
    order, inverse, counts = _group_order(groups, rng)
    if len(counts) < k:
        raise DeepDifEInputError(f"{k}-fold cross-validation needs at least {k} families, found {len(counts)}")
    order = order[np.argsort(-counts[order], kind="stable")]
    fold_of_group = np.empty(len(counts), dtype=np.int64)
    sizes = np.zeros(k, dtype=np.int64)
    for g in order:
        f = int(np.argmin(sizes))
        fold_of_group[g] = f
        sizes[f] += counts[g]
    fold = fold_of_group[inverse]
    return [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in range(k)]


def split_from_column(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """Use a dataset's own ``split`` column (train/val/test), checking families do not straddle parts.

    Parameters
    ----------
    df : pandas.DataFrame
        Dataset table with ``split`` and ``family`` columns.

    Returns
    -------
    dict
        ``{"train": idx, "val": idx, "test": idx}``, int64 row-index arrays (test may be empty).

    Raises
    ------
    DeepDifEInputError
        If there is no train or no val row, or a family is in two parts.
    """
    sp = df["split"].astype(str).to_numpy()
    out = {p: np.flatnonzero(sp == p).astype(np.int64) for p in ("train", "val", "test")}
    if len(out["train"]) == 0 or len(out["val"]) == 0:
        raise DeepDifEInputError("the split column needs at least one 'train' and one 'val' gene")
    check_no_leak(df["family"].to_numpy(), out)
    return out


def check_no_leak(groups: np.ndarray, parts: dict[str, np.ndarray]) -> None:
    """Raise if any group appears in more than one part.

    Parameters
    ----------
    groups : numpy.ndarray
        ``(N,)`` group of each row.
    parts : dict of str to numpy.ndarray
        Part name -> row indices into ``groups``.

    Raises
    ------
    DeepDifEInputError
        Naming the first family found in two parts.
    """
    seen: dict[str, str] = {}
    for part, idx in parts.items():
        for g in np.unique(np.asarray(groups)[idx]):
            if g in seen and seen[g] != part:
                raise DeepDifEInputError(
                    f"family '{g}' is in both the {seen[g]} and the {part} split; "
                    "put all genes of a family in one split"
                )
            seen[g] = part
