"""The k-mer baseline that every CNN is measured against.

A model that does not beat counting words has not learnt anything a biologist
could not get from a motif scan.  :func:`kmer_counts` turns sequences into counts
of canonical k-mers (a k-mer and its reverse complement are one feature, so the
counts cover both strands); :func:`fit_kmer_baseline` fits an L2 logistic
regression (scikit-learn) on the training genes, picks its regularisation on the
validation genes and scores the test genes -- the same split as the CNN.

Data contract
-------------
Input sequences are strings of equal or unequal length (A/C/G/T; any k-mer with
another letter is not counted).  :func:`kmer_counts` returns float32
``(N, n_features)``; :func:`fit_kmer_baseline` returns the ``baseline_kmer``
record saved in a model folder's ``metrics.json``::

    {"auroc", "auprc", "accuracy", "k": [..], "C", "n_features",
     "val_auroc", "n_train", "n_test", "evaluated_on", "top_kmers": [[kmer, weight], ...]}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.train.metrics import auprc, auroc

_LUT = np.full(256, -1, dtype=np.int64)
for _i, _b in enumerate("ACGT"):
    _LUT[ord(_b)] = _LUT[ord(_b.lower())] = _i


@dataclass(frozen=True)
class BaselineConfig:
    """Settings of the k-mer logistic-regression baseline.

    Attributes
    ----------
    ks
        Word lengths counted (canonical k-mers of every length are concatenated).
    cs
        Inverse L2 strengths tried; the one with the best validation auROC is kept.
    max_iter
        Iterations of the lbfgs solver.
    """

    ks: tuple[int, ...] = (4, 5, 6)
    cs: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0)
    max_iter: int = 2000

    def __post_init__(self) -> None:
        object.__setattr__(self, "ks", tuple(int(k) for k in self.ks))
        object.__setattr__(self, "cs", tuple(float(c) for c in self.cs))
        if not self.ks or any(k < 1 or k > 8 for k in self.ks):
            raise DeepDifEInputError(f"baseline k-mer lengths must be in 1..8, got {self.ks}")
        if not self.cs or any(c <= 0 for c in self.cs):
            raise DeepDifEInputError(f"baseline C values must be > 0, got {self.cs}")


def _canonical_index(k: int) -> tuple[np.ndarray, list[str]]:
    """Map every k-mer code to the index of its canonical form; the canonical k-mers' names."""
    codes = np.arange(4**k)
    digits = (codes[:, None] // 4 ** np.arange(k - 1, -1, -1)) % 4
    rc = ((3 - digits[:, ::-1]) * 4 ** np.arange(k - 1, -1, -1)).sum(axis=1)
    canon = np.minimum(codes, rc)
    uniq, index = np.unique(canon, return_inverse=True)
    names = ["".join("ACGT"[d] for d in (u // 4 ** np.arange(k - 1, -1, -1)) % 4) for u in uniq]
    return index, names


def kmer_names(ks: Sequence[int]) -> list[str]:
    """Feature names of :func:`kmer_counts` (canonical k-mers, shorter words first).

    Parameters
    ----------
    ks : sequence of int
        The k-mer lengths, as given to :func:`kmer_counts`.

    Returns
    -------
    list of str
        One name per feature column, in column order.
    """
    return [n for k in ks for n in _canonical_index(k)[1]]


def kmer_counts(sequences: Sequence[str], ks: Sequence[int] = (4, 5, 6)) -> np.ndarray:
    """Counts of canonical k-mers on both strands.

    Parameters
    ----------
    sequences
        DNA strings (``N``); k-mers containing N or another letter are skipped.
    ks
        Word lengths; the blocks are concatenated in this order.

    Returns
    -------
    numpy.ndarray
        float32 ``(N, sum_k n_canonical(k))``.
    """
    blocks = []
    seqs = [np.asarray(_LUT[np.frombuffer(s.encode("ascii", "replace"), dtype=np.uint8)]) for s in sequences]
    for k in ks:
        index, names = _canonical_index(k)
        m = len(names)
        out = np.zeros((len(seqs), m), dtype=np.float32)
        for i, c in enumerate(seqs):
            if len(c) < k:
                continue
            win = np.lib.stride_tricks.sliding_window_view(c, k)
            ok = (win >= 0).all(axis=1)
            code = (win[ok] * 4 ** np.arange(k - 1, -1, -1)).sum(axis=1)
            out[i] = np.bincount(index[code], minlength=m)
        blocks.append(out)
    return np.concatenate(blocks, axis=1) if blocks else np.zeros((len(seqs), 0), np.float32)


def fit_kmer_baseline(
    seqs_train: Sequence[str],
    y_train: np.ndarray,
    seqs_val: Sequence[str],
    y_val: np.ndarray,
    seqs_test: Sequence[str],
    y_test: np.ndarray,
    *,
    cfg: BaselineConfig | None = None,
    seed: int = 0,
    evaluated_on: str = "test",
) -> dict:
    """Fit the k-mer logistic regression on one split and score its test part.

    Parameters
    ----------
    seqs_train, seqs_val, seqs_test
        Sequences of the three parts (the CNN's own split).
    y_train, y_val, y_test
        Their labels ``(n_part,)`` in {0, 1}.
    cfg
        k-mer lengths and the C grid; default :class:`BaselineConfig()`.
    seed
        Seed of the solver (the same seed as the CNN run).
    evaluated_on
        Name of the scored part, recorded in the result.

    Returns
    -------
    dict
        The ``baseline_kmer`` record (module docstring).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    cfg = cfg or BaselineConfig()
    y_train, y_val, y_test = (np.asarray(a).astype(int).ravel() for a in (y_train, y_val, y_test))
    if len(np.unique(y_train)) < 2:
        raise DeepDifEInputError("the k-mer baseline needs both classes among the training genes")
    xt, xv, xs = (np.log1p(kmer_counts(s, cfg.ks)) for s in (seqs_train, seqs_val, seqs_test))
    scaler = StandardScaler().fit(xt)
    xt, xv, xs = scaler.transform(xt), scaler.transform(xv), scaler.transform(xs)
    best = None
    for c in cfg.cs:
        clf = LogisticRegression(C=c, max_iter=cfg.max_iter, random_state=seed).fit(xt, y_train)
        score = auroc(y_val, clf.predict_proba(xv)[:, 1]) if len(xv) else None
        key = -1.0 if score is None else score
        if best is None or key > best[0]:
            best = (key, c, clf, score)
    _, c, clf, val_score = best
    p = clf.predict_proba(xs)[:, 1] if len(xs) else np.zeros(0)
    names = kmer_names(cfg.ks)
    w = clf.coef_[0]
    top = np.argsort(-np.abs(w))[:10]
    return {
        "auroc": auroc(y_test, p),
        "auprc": auprc(y_test, p),
        "accuracy": float(((p >= 0.5) == y_test).mean()) if len(p) else None,
        "k": list(cfg.ks),
        "C": c,
        "n_features": int(xt.shape[1]),
        "val_auroc": val_score,
        "n_train": len(y_train),
        "n_test": len(y_test),
        "evaluated_on": evaluated_on,
        "top_kmers": [[names[i], round(float(w[i]), 4)] for i in top],
    }


__all__ = ["BaselineConfig", "fit_kmer_baseline", "kmer_counts", "kmer_names"]
