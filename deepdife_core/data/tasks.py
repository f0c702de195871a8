"""Synthetic learning tasks of known grammar on a realistic promoter background.

The learning benchmark (``bench/bench_learning.py``) and the training regression
tests use these sets to ask one question: *does training learn a rule that we
know is in the data?*  Unlike the demo (planted 10-mers on i.i.d. bases), the
background here is a 2nd-order Markov chain, by default fitted on real
Arabidopsis promoters (:func:`fit_markov`), so the motifs sit in sequence whose
dinucleotide and trinucleotide statistics are those of plant promoters.

Data contract
-------------
:func:`make_task` returns a dataset table (see :mod:`deepdife_core.data.io`):
``gene_id`` (str, unique), ``label`` (0/1, with label noise), ``true_label``
(0/1, the rule), ``family`` (str; members are point-mutated copies of one
template and share its class, so a family-blind split leaks), ``sequence``
(``length`` bp, A/C/G/T, the TSS at the 3' end) and ``score`` (float: the
task's oracle, e.g. the ABRE count, computed on the final sequence).

Tasks (``length`` 600; positions are distances to the TSS at the 3' end):

``presence``   responsive genes carry >= 1 ABRE core ``ACGTGKC`` (either strand), others none
``count``      responsive >= 2 ABREs in the proximal 400 bp; others at most one ABRE and more
               W-boxes ``TTGACY``; TATA/CAAT distractors in both classes
``cooccur``    responsive genes carry an ABRE and a coupling element ``CCGACAT`` within
               ``4..30`` bp of each other; the others carry an ABRE alone, the coupling element
               alone, or both more than 80 bp apart (a third each)
``position``   both classes carry ABREs; responsive only where one lies within 150 bp of the TSS
``both``       responsive genes carry an ABRE and the coupling element (anywhere, one of each); the
               others two copies of only one of them (half ABREs, half coupling elements)

In ``position`` the motif counts have the same distribution in both classes, and
in ``cooccur`` a third of the non-responsive genes has both motifs (too far
apart), so a k-mer count model cannot separate these classes fully; in ``both`` a
responsive gene and a non-responsive one with two copies of one element carry the same
number of elements, so a model linear in motif counts cannot tell them apart (an AND).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from deepdife_core.errors import DeepDifEInputError

TASKS = ("presence", "count", "cooccur", "position", "both")

#: ABRE core (K = G/T) and the other elements planted by the tasks
ABRE = ("ACGTGGC", "ACGTGTC")
WBOX = ("TTGACC", "TTGACT")
COUPLING = ("CCGACAT",)  # a DRE/CRT-like coupling element, absent from the ABRE alphabet
TATA = ("TATAAAT",)
CAAT = ("CCAATCA",)
_BASES = np.array(list("ACGT"))
_IDX = {b: i for i, b in enumerate("ACGT")}
_COMP = str.maketrans("ACGTN", "TGCAN")


def _rc(s: str) -> str:
    return s.translate(_COMP)[::-1]


def fit_markov(sequences: Sequence[str], *, order: int = 2, pseudocount: float = 1.0) -> np.ndarray:
    """Fit a Markov chain of ``order`` on DNA sequences (both strands, N-containing k-mers skipped).

    Parameters
    ----------
    sequences
        DNA strings (any case); N and IUPAC letters break the chain.
    order
        Context length k; the table has ``4**k`` rows.
    pseudocount
        Added to every transition count.

    Returns
    -------
    numpy.ndarray
        float64 ``(4**order, 4)``: row ``c`` is P(next base | context c), rows sum to 1;
        the context is base-4 with A=0, C=1, G=2, T=3 and the oldest base most significant.
    """
    if order < 0:
        raise DeepDifEInputError(f"order must be >= 0, got {order}")
    counts = np.full((4**order, 4), float(pseudocount))
    lut = np.full(256, -1, dtype=np.int64)
    for b, i in _IDX.items():
        lut[ord(b)] = lut[ord(b.lower())] = i
    for s in sequences:
        for strand in (s, _rc(s.upper())):
            codes = lut[np.frombuffer(strand.encode("ascii", "replace"), dtype=np.uint8)]
            if len(codes) <= order:
                continue
            win = np.lib.stride_tricks.sliding_window_view(codes, order + 1)
            win = win[(win >= 0).all(axis=1)]
            ctx = np.zeros(len(win), dtype=np.int64)
            for j in range(order):
                ctx = ctx * 4 + win[:, j]
            np.add.at(counts, (ctx, win[:, order]), 1.0)
    return counts / counts.sum(axis=1, keepdims=True)


def at_rich_chain(at: float = 0.65, order: int = 2) -> np.ndarray:
    """A context-free chain with AT fraction ``at`` in the layout of :func:`fit_markov` (for tests).

    Parameters
    ----------
    at : float, optional
        Probability of A or T at every position, default 0.65.
    order : int, optional
        Context length; the table has ``4**order`` identical rows, default 2.

    Returns
    -------
    numpy.ndarray
        float64 ``(4**order, 4)``, each row ``[at/2, (1-at)/2, (1-at)/2, at/2]``.
    """
    p = np.array([at / 2, (1 - at) / 2, (1 - at) / 2, at / 2])
    return np.tile(p, (4**order, 1))


def sample_markov(chain: np.ndarray, n: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """Sample ``n`` sequences of ``length`` bp from ``chain``.

    Vectorised over sequences: one cumulative-probability lookup per position; the
    first context is drawn uniformly.

    Parameters
    ----------
    chain : numpy.ndarray
        ``(4**order, 4)`` transition table as from :func:`fit_markov`.
    n : int
        Number of sequences.
    length : int
        Length of each sequence in bp.
    rng : numpy.random.Generator
        The random generator.

    Returns
    -------
    numpy.ndarray
        uint8 codes ``(n, length)`` (A=0, C=1, G=2, T=3).
    """
    order = round(np.log(chain.shape[0]) / np.log(4))
    cum = np.cumsum(chain, axis=1)
    cum[:, -1] = 1.0
    out = np.zeros((n, length), dtype=np.uint8)
    ctx = rng.integers(0, 4**order, size=n) if order else np.zeros(n, dtype=np.int64)
    u = rng.random((n, length))
    mod = 4**order if order else 1
    for t in range(length):
        base = (u[:, t, None] > cum[ctx]).sum(axis=1)
        out[:, t] = base
        ctx = (ctx * 4 + base) % mod if order else ctx
    return out


def _codes(s: str) -> np.ndarray:
    return np.array([_IDX[c] for c in s], dtype=np.uint8)


def _find(seqs: np.ndarray, motifs: Sequence[str]) -> np.ndarray:
    """Where a motif (or its reverse complement) starts: bool ``(n, L)``."""
    n, L = seqs.shape
    hit = np.zeros((n, L), dtype=bool)
    for m in {x for mm in motifs for x in (mm, _rc(mm))}:
        k = len(m)
        if k > L:
            continue
        win = np.lib.stride_tricks.sliding_window_view(seqs, k, axis=1)
        hit[:, : L - k + 1] |= (win == _codes(m)).all(axis=2)
    return hit


def _scrub(seqs: np.ndarray, motifs: Sequence[str], rng: np.random.Generator) -> None:
    """Mutate accidental occurrences of ``motifs`` out of the background, in place."""
    for _ in range(20):
        hit = _find(seqs, motifs)
        if not hit.any():
            return
        r, c = np.nonzero(hit)
        seqs[r, c + 2] = rng.integers(0, 4, size=len(r))  # the 3rd base of every core breaks it


def _plant(seq: np.ndarray, busy: np.ndarray, motif: str, lo: int, hi: int, rng: np.random.Generator) -> int:
    """Put ``motif`` (random strand) at a free place in ``[lo, hi)``; returns its start or -1."""
    m = _codes(motif if rng.random() < 0.5 else _rc(motif))
    k = len(m)
    lo, hi = max(0, lo), min(len(seq), hi)
    for _ in range(50):
        if hi - k < lo:
            return -1
        p = int(rng.integers(lo, hi - k + 1))
        if not busy[max(0, p - 1) : p + k + 1].any():
            seq[p : p + k] = m
            busy[p : p + k] = True
            return p
    return -1


def _rule_score(task: str, seqs: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """(oracle score, rule label) of every sequence, read off the final sequence."""
    abre = _find(seqs, ABRE)
    if task == "presence":
        n = abre.sum(axis=1)
        return n.astype(float), (n >= 1).astype(int)
    if task == "count":
        prox = abre[:, length - 400 :].sum(axis=1)
        return prox.astype(float), (prox >= 2).astype(int)
    if task == "position":
        near = abre[:, length - 150 :].sum(axis=1)
        return near.astype(float), (near >= 1).astype(int)
    ce = _find(seqs, COUPLING)
    if task == "both":
        both = np.minimum(abre.sum(axis=1), ce.sum(axis=1))
        return both.astype(float), (both >= 1).astype(int)
    # cooccur: an ABRE and a coupling element within 4..30 bp (start to start, either order)
    score = np.zeros(len(seqs))
    for i in range(len(seqs)):
        a, c = np.flatnonzero(abre[i]), np.flatnonzero(ce[i])
        if len(a) and len(c):
            d = np.abs(a[:, None] - c[None, :]).min()
            score[i] = 1.0 / (1.0 + d)
            score[i] = score[i] if d <= 30 else 0.0
    return score, (score > 0).astype(int)


def _template(task: str, positive: bool, seq: np.ndarray, rng: np.random.Generator) -> None:
    """Plant the elements of one family template in place."""
    L = len(seq)
    busy = np.zeros(L, dtype=bool)
    prox = L - 400
    for _ in range(int(rng.integers(0, 2))):  # distractors in both classes
        _plant(seq, busy, TATA[0], L - 60, L - 20, rng)
    for _ in range(int(rng.integers(0, 3))):
        _plant(seq, busy, CAAT[0], 0, L, rng)
    if task == "presence":
        if positive:
            for _ in range(int(rng.integers(1, 3))):
                _plant(seq, busy, ABRE[rng.integers(2)], 0, L, rng)
        for _ in range(int(rng.integers(0, 3))):
            _plant(seq, busy, WBOX[rng.integers(2)], 0, L, rng)
    elif task == "count":
        if positive:
            for _ in range(int(rng.integers(2, 5))):
                _plant(seq, busy, ABRE[rng.integers(2)], prox, L - 10, rng)
            n_w = int(rng.integers(0, 2))
        else:
            if rng.random() < 0.5:
                _plant(seq, busy, ABRE[rng.integers(2)], 0, L - 10, rng)
            n_w = int(rng.integers(1, 4))
        for _ in range(n_w):
            _plant(seq, busy, WBOX[rng.integers(2)], 0, L, rng)
    elif task == "cooccur":
        for _ in range(int(rng.integers(0, 3))):
            _plant(seq, busy, WBOX[rng.integers(2)], 0, L, rng)
        kind = "near" if positive else ("abre", "ce", "far")[int(rng.integers(3))]
        a = _plant(seq, busy, ABRE[rng.integers(2)], 60, L - 60, rng) if kind != "ce" else -1
        k = len(COUPLING[0])
        if kind == "near" and a >= 0:
            gap = int(rng.integers(4, 31))
            lo = a + gap if rng.random() < 0.5 else a - gap
            _plant(seq, busy, COUPLING[0], lo, lo + k, rng)
        elif kind == "ce":
            _plant(seq, busy, COUPLING[0], 0, L, rng)
        elif kind == "far" and a >= 0:
            far = np.r_[0 : max(0, a - 80), a + 80 : L - k]
            if len(far):
                p = int(rng.choice(far))
                _plant(seq, busy, COUPLING[0], p, p + k, rng)
    elif task == "both":
        for _ in range(int(rng.integers(0, 3))):
            _plant(seq, busy, WBOX[rng.integers(2)], 0, L, rng)
        if positive:
            _plant(seq, busy, ABRE[rng.integers(2)], 0, L - 10, rng)
            _plant(seq, busy, COUPLING[0], 0, L - 10, rng)
        else:
            # two copies of one element: the midpoint of (2, 0) and (0, 2) is the positives' (1, 1), so no
            # function linear in the two counts ranks the positives above both kinds of negatives
            one = (ABRE[0], ABRE[1]) if rng.random() < 0.5 else COUPLING
            for _ in range(2):
                _plant(seq, busy, one[rng.integers(len(one))], 0, L - 10, rng)
    elif task == "position":
        for _ in range(int(rng.integers(0, 3))):
            _plant(seq, busy, WBOX[rng.integers(2)], 0, L, rng)
        n_a = int(rng.integers(1, 3))
        for j in range(n_a):
            if positive and j == 0:
                _plant(seq, busy, ABRE[rng.integers(2)], L - 150, L - 10, rng)
            else:
                _plant(seq, busy, ABRE[rng.integers(2)], 0, L - 200, rng)


def make_task(
    task: str = "count",
    *,
    n_genes: int = 2500,
    length: int = 600,
    chain: np.ndarray | None = None,
    responsive_fraction: float = 0.4,
    family_sizes: tuple[int, int] = (1, 4),
    mutation_rate: float = 0.03,
    label_noise: float = 0.03,
    seed: int = 0,
) -> pd.DataFrame:
    """Generate one learning task (see the module docstring for the rules).

    Parameters
    ----------
    task
        One of :data:`TASKS`.
    n_genes, length
        Size of the set; ``length`` >= 300.
    chain
        Background Markov chain (:func:`fit_markov`); default :func:`at_rich_chain`.
    responsive_fraction
        Fraction of families drawn as responsive.
    family_sizes
        Inclusive range of the number of genes per family.
    mutation_rate
        Point-mutation rate of each member relative to its family template.
    label_noise
        Fraction of labels flipped after the rule is applied.
    seed
        Seed of the local generator; the same seed gives the same table.

    Returns
    -------
    pandas.DataFrame
        ``gene_id, label, true_label, family, sequence, score`` (see Data contract).
    """
    if task not in TASKS:
        raise DeepDifEInputError(f"unknown task {task!r}; choose from {', '.join(TASKS)}")
    if length < 300:
        raise DeepDifEInputError(f"length must be >= 300 for the task rules, got {length}")
    if n_genes < 10:
        raise DeepDifEInputError(f"n_genes must be >= 10, got {n_genes}")
    rng = np.random.default_rng(seed)
    chain = at_rich_chain() if chain is None else np.asarray(chain, dtype=float)
    lo, hi = family_sizes
    sizes: list[int] = []
    while sum(sizes) < n_genes:
        sizes.append(int(rng.integers(lo, hi + 1)))
    sizes[-1] -= sum(sizes) - n_genes
    sizes = [s for s in sizes if s > 0]
    n_fam = len(sizes)
    templates = sample_markov(chain, n_fam, length, rng)
    _scrub(templates, ABRE + COUPLING, rng)
    positive = rng.random(n_fam) < responsive_fraction
    for f in range(n_fam):
        _template(task, bool(positive[f]), templates[f], rng)
    fam_of = np.repeat(np.arange(n_fam), sizes)
    seqs = templates[fam_of].copy()
    mut = rng.random(seqs.shape) < mutation_rate
    seqs[mut] = rng.integers(0, 4, size=int(mut.sum()))
    score, rule = _rule_score(task, seqs, length)
    flip = rng.random(len(seqs)) < label_noise
    label = np.where(flip, 1 - rule, rule)
    return pd.DataFrame(
        {
            "gene_id": [f"T{task[:3].upper()}{i:05d}" for i in range(len(seqs))],
            "label": label.astype(int),
            "true_label": rule.astype(int),
            "family": [f"F{f:05d}" for f in fam_of],
            "sequence": ["".join(_BASES[s]) for s in seqs],
            "score": score,
        }
    )


__all__ = ["TASKS", "at_rich_chain", "fit_markov", "make_task", "sample_markov"]
