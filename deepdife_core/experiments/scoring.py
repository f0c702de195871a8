"""Batched scoring of edited promoters: probability and logit through a :class:`~deepdife_core.model.cnn.Predictor`.

The model's probability of a sequence is what :meth:`Predictor.predict` returns (the
ensemble mean, both strands averaged for a conjoined model); its logit is the mean of
the pre-sigmoid outputs (:func:`deepdife_core.model.cnn.logit_model`) over the same
members and strands, as the attributions explain it.  For one forward-strand model
``probability = sigmoid(logit)`` exactly.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import numpy as np

from deepdife_core.data.encode import reverse_complement
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.model.cnn import logit_model

Progress = Callable[[dict], None] | None
ShouldStop = Callable[[], bool] | None
_FNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class ExperimentStoppedError(Exception):
    """Raised inside an experiment when its ``should_stop`` callable says so (a job's Stop)."""


def _logit_fn(model):
    fn = _FNS.get(model)
    if fn is None:
        import tensorflow as tf

        lm = logit_model(model)

        @tf.function(reduce_retracing=True)
        def fn(x):
            return lm(x, training=False)[:, 0]

        _FNS[model] = fn
    return fn


def score(predictor, x: np.ndarray, *, batch_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Probability and logit of every sequence.

    Parameters
    ----------
    predictor
        A :class:`~deepdife_core.model.cnn.Predictor`.
    x
        float32 one-hot ``(N, L, 4)`` with ``L = predictor.config.input_length``.
    batch_size
        Sequences per model call.

    Returns
    -------
    probability, logit
        float64 ``(N,)`` each.
    """
    xp = predictor.prepare(x)
    strands = [xp]
    if predictor.config.conjoin:
        strands.append(np.ascontiguousarray(reverse_complement(xp)))
    logits = []
    for model in predictor.models:
        fn = _logit_fn(model)
        for xs in strands:
            parts = [np.asarray(fn(xs[s : s + batch_size])) for s in range(0, len(xs), batch_size)]
            logits.append(np.concatenate(parts) if parts else np.zeros(0, np.float32))
    z = np.asarray(logits, dtype=np.float64)  # (members * strands, N)
    return (1.0 / (1.0 + np.exp(-z))).mean(axis=0), z.mean(axis=0)


def score_lazily(
    predictor,
    n_variants: int,
    make: Callable[[int, int], np.ndarray],
    *,
    batch_size: int = 1024,
    chunk: int = 8192,
    progress: Progress = None,
    should_stop: ShouldStop = None,
    stage: str = "",
) -> tuple[np.ndarray, np.ndarray]:
    """Score ``n_variants`` sequences built chunk by chunk (``make(start, stop) -> (stop - start, L, 4)``).

    Memory stays at one chunk; after every chunk ``progress`` gets
    ``{"event": "scored", "stage", "done", "total"}`` and ``should_stop`` is asked.

    Parameters
    ----------
    predictor : Predictor
        The model; every member and both strands are scored and averaged.
    n_variants : int
        Number of sequences ``N`` to score.
    make : callable
        ``make(start, stop)`` returns the one-hot sequences ``start .. stop - 1``,
        float32 ``(stop - start, L, 4)``.
    batch_size : int
        Sequences per model call.
    chunk : int
        Sequences built (and held in memory) at a time.
    progress : callable, optional
        Gets ``{"event": "scored", "stage", "done", "total"}`` after every chunk.
    should_stop : callable, optional
        Asked after every chunk; True ends the scoring.
    stage : str
        The ``stage`` of the progress events.

    Returns
    -------
    probability, logit
        float64 ``(n_variants,)`` each.

    Raises
    ------
    ExperimentStoppedError
        When ``should_stop()`` returns True.
    """
    prob = np.empty(n_variants)
    logit = np.empty(n_variants)
    for start in range(0, n_variants, chunk):
        if should_stop is not None and should_stop():
            raise ExperimentStoppedError
        stop = min(start + chunk, n_variants)
        xb = make(start, stop)
        if xb.shape[0] != stop - start:
            raise RuntimeError(f"built {xb.shape[0]} sequences for {stop - start}")
        prob[start:stop], logit[start:stop] = score(predictor, xb, batch_size=batch_size)
        if progress is not None:
            progress({"event": "scored", "stage": stage, "done": stop, "total": n_variants})
    return prob, logit


def embed(x: np.ndarray, positions: np.ndarray, motifs: np.ndarray) -> np.ndarray:
    """Write motif instances into sequences in place (the bases they cover are replaced; length unchanged).

    Parameters
    ----------
    x
        float32 one-hot ``(B, L, 4)``, modified in place.
    positions
        ``(B,)`` int: 0-based position of each motif's first base.
    motifs
        ``(B, W, 4)`` one-hot instances (already in the wanted orientation).

    Returns
    -------
    numpy.ndarray
        ``x``.
    """
    positions = np.asarray(positions, dtype=np.int64)
    w = motifs.shape[1]
    if len(positions) and (positions.min() < 0 or positions.max() + w > x.shape[1]):
        raise DeepDifEInputError(
            f"a {w}-bp motif at position {int(positions.max())} does not fit in {x.shape[1]} bp; "
            f"positions run from 0 to {x.shape[1] - w}"
        )
    rows = np.arange(len(x))[:, None]
    cols = positions[:, None] + np.arange(w)[None, :]
    x[rows, cols] = motifs
    return x


def oriented(instances: np.ndarray, orientation: str) -> np.ndarray:
    """Motif instances in one orientation.

    Parameters
    ----------
    instances
        float32 one-hot ``(n, W, 4)``.
    orientation
        ``+`` (as given) or ``-`` (reverse complement, ``x[:, ::-1, ::-1]``).

    Returns
    -------
    numpy.ndarray
        ``(n, W, 4)``.
    """
    if orientation == "+":
        return instances
    if orientation == "-":
        return np.ascontiguousarray(instances[:, ::-1, ::-1])
    raise DeepDifEInputError(f"orientation must be '+' or '-', got {orientation!r}")


def check_length(predictor, background) -> int:
    """The promoter length shared by the backgrounds and the model.

    Parameters
    ----------
    predictor
        The model.
    background
        A :class:`~deepdife_core.experiments.backgrounds.Background` with ``x`` ``(G, L, 4)``.

    Returns
    -------
    int
        ``L``; a different model length raises :class:`~deepdife_core.errors.DeepDifEInputError`.
    """
    length = int(background.x.shape[1])
    if length != predictor.config.input_length:
        raise DeepDifEInputError(
            f"the backgrounds are {length} bp but the model expects {predictor.config.input_length} bp; "
            "load the dataset fitted for this model"
        )
    return length


def orientations(orientation: str) -> tuple[str, ...]:
    """The orientations an ``orientation`` option stands for.

    Parameters
    ----------
    orientation
        ``+``, ``-`` or ``both``.

    Returns
    -------
    tuple of str
        ``("+",)``, ``("-",)`` or ``("+", "-")``.
    """
    return ("+", "-") if orientation == "both" else (orientation,)


#: one edit of a design: (positions ``int`` or ``(G,)``, oriented instances ``(G, W, 4)``)
Edit = tuple[int | np.ndarray, np.ndarray]


def scoring_options(cfg, progress: Progress = None, should_stop: ShouldStop = None, stage: str = "") -> dict:
    """The keyword arguments of :func:`score_designs` / :func:`score_lazily` for one experiment.

    Parameters
    ----------
    cfg : ExperimentConfig
        Its ``batch_size`` and ``chunk`` are used.
    progress, should_stop, stage
        As in :func:`score_lazily`.

    Returns
    -------
    dict
        ``batch_size, chunk, progress, should_stop, stage``.
    """
    return {
        "batch_size": cfg.batch_size,
        "chunk": cfg.chunk,
        "progress": progress,
        "should_stop": should_stop,
        "stage": stage,
    }


def score_designs(
    predictor,
    x: np.ndarray,
    designs: list[list[Edit]],
    *,
    batch_size: int = 1024,
    chunk: int = 8192,
    progress: Progress = None,
    should_stop: ShouldStop = None,
    stage: str = "",
) -> tuple[np.ndarray, np.ndarray]:
    """Score every design applied to every background (variant ``d * G + g``), built lazily.

    Parameters
    ----------
    predictor
        The model.
    x
        float32 backgrounds ``(G, L, 4)``.
    designs
        ``D`` designs, each a list of edits applied in order (an empty list is the background itself).
    batch_size, chunk, progress, should_stop, stage
        As in :func:`score_lazily`.

    Returns
    -------
    probability, logit
        float64 ``(D, G)`` each.
    """
    g_count = len(x)

    length = x.shape[1]
    for design in designs:  # validate every edit before any work
        for pos, inst in design:
            p = np.asarray(pos, dtype=np.int64)
            if p.size and (p.min() < 0 or p.max() + inst.shape[1] > length):
                raise DeepDifEInputError(
                    f"a {inst.shape[1]}-bp motif at position {int(p.max())} does not fit in {length} bp; "
                    f"positions run from 0 to {length - inst.shape[1]}"
                )

    def make(start: int, stop: int) -> np.ndarray:
        idx = np.arange(start, stop)
        d, g = idx // g_count, idx % g_count
        xb = x[g]  # fancy indexing: a new array
        # variants of one design are contiguous: write each design's edits into its slice
        for dd in range(int(d[0]), int(d[-1]) + 1) if len(d) else ():
            lo = max(dd * g_count, start) - start
            hi = min((dd + 1) * g_count, stop) - start
            gr = g[lo:hi]
            for pos, inst in designs[dd]:
                w = inst.shape[1]
                p = np.asarray(pos, dtype=np.int64)
                if p.ndim == 0:
                    xb[lo:hi, int(p) : int(p) + w] = inst[gr]
                else:
                    rows = np.arange(lo, hi)[:, None]
                    xb[rows, p[gr][:, None] + np.arange(w)[None, :]] = inst[gr]
        return xb

    prob, logit = score_lazily(
        predictor,
        len(designs) * g_count,
        make,
        batch_size=batch_size,
        chunk=chunk,
        progress=progress,
        should_stop=should_stop,
        stage=stage,
    )
    return prob.reshape(len(designs), g_count), logit.reshape(len(designs), g_count)
