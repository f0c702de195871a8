"""Background promoters: dataset promoters of one class, or seeded dinucleotide shuffles of them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from deepdife_core.data.encode import one_hot
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.interpret.explain import dinucleotide_shuffle

_CLASS = {"non-responsive": 0, "responsive": 1}


@dataclass(frozen=True)
class Background:
    """The promoters an effect is measured in.

    Attributes
    ----------
    gene_ids
        ``(G,)`` names: the dataset's record identities, ``shuffle:<id>`` for a shuffle.
    x
        float32 one-hot ``(G, L, 4)`` (the model's length).
    kind
        The :data:`~deepdife_core.experiments.config.BACKGROUNDS` entry.
    labels
        ``(G,)`` int64 labels of the source genes (-1 when unknown).
    """

    gene_ids: tuple[str, ...]
    x: np.ndarray
    kind: str
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.gene_ids)


def _class_rows(df: pd.DataFrame, cls: str) -> np.ndarray:
    if cls == "all":
        return np.arange(len(df))
    if "label" not in df.columns:
        raise DeepDifEInputError(f"background {cls!r} needs labels; the table has no 'label' column (use 'all')")
    labels = pd.to_numeric(df["label"], errors="coerce").to_numpy()
    return np.flatnonzero(labels == _CLASS[cls])


def select_backgrounds(
    df: pd.DataFrame, kind: str = "non-responsive", n: int = 200, *, seed: int = 0, shuffle_of: str = "non-responsive"
) -> Background:
    """Draw ``n`` background promoters from a dataset table (fitted to the model's length).

    Parameters
    ----------
    df
        ``gene_id, sequence[, label]`` with sequences of one length ``L``.
    kind
        ``non-responsive``, ``responsive``, ``all``, or ``shuffled`` (dinucleotide shuffles of
        genes of class ``shuffle_of``, one per gene, seeded).
    n
        How many; all genes of the class when it has fewer.
    seed
        Seed of the draw (without replacement; kept in table order) and of the shuffles.
    shuffle_of
        Class shuffled for ``kind="shuffled"``.

    Returns
    -------
    Background
    """
    if kind not in ("non-responsive", "responsive", "all", "shuffled"):
        raise DeepDifEInputError(f"background must be non-responsive, responsive, all or shuffled, got {kind!r}")
    if n < 1:
        raise DeepDifEInputError(f"the number of backgrounds must be >= 1, got {n}")
    for col in ("gene_id", "sequence"):
        if col not in df.columns:
            raise DeepDifEInputError(f"the dataset has no {col!r} column")
    cls = shuffle_of if kind == "shuffled" else kind
    rows = _class_rows(df, cls)
    if not len(rows):
        raise DeepDifEInputError(f"the dataset has no {cls} genes to use as backgrounds; choose another background")
    rng = np.random.default_rng(seed)
    if len(rows) > n:
        rows = np.sort(rng.choice(rows, size=n, replace=False))
    sub = df.iloc[rows]
    x = one_hot(sub["sequence"].astype(str).tolist())
    ids = [str(g) for g in sub["gene_id"]]
    labels = (
        pd.to_numeric(sub["label"], errors="coerce").fillna(-1).to_numpy(dtype=np.int64)
        if "label" in sub.columns
        else np.full(len(sub), -1, dtype=np.int64)
    )
    if kind == "shuffled":
        x = dinucleotide_shuffle(x, 1, seed=seed)[:, 0]
        ids = [f"shuffle:{g}" for g in ids]
    return Background(tuple(ids), np.ascontiguousarray(x, dtype=np.float32), kind, labels)
