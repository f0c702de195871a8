"""Tiling deletion of one gene: each ``window``-bp window shuffled, set to N or deleted -> a CRISPR tiling table."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.experiments.config import ExperimentConfig
from deepdife_core.experiments.scoring import score, score_lazily, scoring_options
from deepdife_core.interpret.explain import dinucleotide_shuffle

_COORDS = re.compile(r"^(?P<chrom>[^:\s]+):(?P<start>\d+)-(?P<end>\d+)\((?P<strand>[+\-.])\)$")
#: columns of :func:`tile_gene`'s table
TILE_COLUMNS = (
    "gene_id",
    "start",
    "end",
    "pos_from_tss",
    "chrom",
    "genomic_start",
    "genomic_end",
    "genomic_strand",
    "mode",
    "p_before",
    "p_after",
    "delta_probability",
    "delta_logit",
    "rank",
)


def window_starts(length: int, window: int, step: int) -> np.ndarray:
    """Starts of the tiled windows.

    Parameters
    ----------
    length, window, step
        Promoter length ``L``, window width and step in bp.

    Returns
    -------
    numpy.ndarray
        int64 ``(n_windows,)``: ``0, step, ... <= L - window``.
    """
    if window > length:
        raise DeepDifEInputError(f"the window ({window} bp) is longer than the promoter ({length} bp)")
    return np.arange(0, length - window + 1, step, dtype=np.int64)


def genomic_windows(
    coords: str | None, starts: np.ndarray, ends: np.ndarray, length: int, pad_side: str = "left"
) -> pd.DataFrame:
    """Genome coordinates of promoter windows ``[start, end)`` (0-based, forward promoter coordinates).

    ``coords`` is the record's ``Chr:start-end(strand)`` (the span the promoter was read
    from, in the header's own convention, e.g. 0-based half-open for bedtools getfasta);
    the promoter was fitted to ``length`` keeping its TSS end (``pad_side="left"``), so
    promoter position ``i`` is raw base ``i - (length - (end - start))``.  On ``-`` the
    promoter reads the reverse strand: raw base ``r`` is genome position ``end - 1 - r``.
    The returned windows are in the same convention as ``coords``; windows over padding are
    clipped, and lie wholly in padding (or without coordinates) give missing values.

    Parameters
    ----------
    coords : str or None
        The record's ``Chr:start-end(strand)`` (``None``: no coordinates).
    starts, ends : numpy.ndarray
        int ``(n,)`` window starts and ends in promoter coordinates.
    length : int
        The fitted promoter length ``L``.
    pad_side : str
        The side padding was added on when fitting (``"left"``: the 5' end).

    Returns
    -------
    pandas.DataFrame
        ``chrom, genomic_start, genomic_end, genomic_strand`` (nullable Int64 positions).
    """
    n = len(starts)
    m = _COORDS.match(str(coords).strip()) if coords else None
    empty = pd.DataFrame(
        {
            "chrom": pd.Series([None] * n, dtype=object),
            "genomic_start": pd.array([pd.NA] * n, dtype="Int64"),
            "genomic_end": pd.array([pd.NA] * n, dtype="Int64"),
            "genomic_strand": pd.Series([None] * n, dtype=object),
        }
    )
    if m is None:
        return empty
    g0, g1, strand = int(m.group("start")), int(m.group("end")), m.group("strand")
    raw = g1 - g0
    offset = length - raw if pad_side == "left" else 0
    rs = np.clip(np.asarray(starts) - offset, 0, raw)
    re_ = np.clip(np.asarray(ends) - offset, 0, raw)
    ok = re_ > rs
    if strand == "-":
        gs, ge = g1 - re_, g1 - rs
    else:
        gs, ge = g0 + rs, g0 + re_
    return pd.DataFrame(
        {
            "chrom": pd.Series(np.where(ok, m.group("chrom"), None), dtype=object),
            "genomic_start": pd.Series(gs).where(ok).astype("Int64"),
            "genomic_end": pd.Series(ge).where(ok).astype("Int64"),
            "genomic_strand": pd.Series(np.where(ok, strand, None), dtype=object),
        }
    )


def _variants(x: np.ndarray, starts: np.ndarray, window: int, mode: str, n_shuffles: int, seed: int):
    """``make(start, stop)`` building the tiled variants of one gene ``x (L, 4)``."""
    reps = n_shuffles if mode == "shuffle" else 1
    length = len(x)
    shuffles = None
    if mode == "shuffle":
        segs = np.stack([x[s : s + window] for s in starts])
        shuffles = dinucleotide_shuffle(segs, reps, seed=seed)  # (n_windows, reps, w, 4)

    def make(a: int, b: int) -> np.ndarray:
        out = np.empty((b - a, length, 4), dtype=np.float32)
        for j, v in enumerate(range(a, b)):
            k, r = divmod(v, reps)
            s = int(starts[k])
            if mode == "delete":
                out[j, :window] = 0.0  # the 3' end stays at the TSS: the 5' side moves in, N enters at 0
                out[j, window : s + window] = x[:s]
                out[j, s + window :] = x[s + window :]
            else:
                out[j] = x
                out[j, s : s + window] = 0.0 if mode == "n" else shuffles[k, r]
        return out

    return make, reps


def tile_gene(
    predictor,
    gene_id: str,
    sequence_x: np.ndarray,
    config: ExperimentConfig | None = None,
    *,
    coords: str | None = None,
    pad_side: str = "left",
    progress=None,
    should_stop=None,
) -> pd.DataFrame:
    """Replace each ``config.window``-bp window (every ``config.step`` bp) of one gene and score it.

    Modes (``config.mode``): ``shuffle`` (``n_shuffles`` dinucleotide shuffles of the window,
    seeded, effects averaged), ``n`` (the window becomes N) or ``delete`` (the window is
    removed; the upstream part moves ``window`` bp towards the TSS, so the 3' end stays at the
    TSS, and N fills the 5' end).

    Parameters
    ----------
    predictor
        The model.
    gene_id
        The gene's identity (copied into the table).
    sequence_x
        float32 one-hot ``(L, 4)`` of the gene, fitted to the model.
    config
        ``window``, ``step``, ``mode``, ``n_shuffles``, ``seed``, ``batch_size``, ``chunk``.
    coords, pad_side
        The record's ``Chr:start-end(strand)`` and how it was fitted, for genomic coordinates
        (:func:`genomic_windows`).
    progress, should_stop
        See :func:`~deepdife_core.experiments.scoring.score_lazily`.

    Returns
    -------
    pandas.DataFrame
        One row per window, by start: :data:`TILE_COLUMNS` (``rank`` 1 = the window whose
        loss lowers the probability most; ``pos_from_tss = start - L``).
    """
    cfg = config or ExperimentConfig()
    x = np.asarray(sequence_x, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != 4:
        raise DeepDifEInputError(f"tile one gene: expected a one-hot (L, 4), got shape {x.shape}")
    length = len(x)
    starts = window_starts(length, cfg.window, cfg.step)
    make, reps = _variants(x, starts, cfg.window, cfg.mode, cfg.n_shuffles, cfg.seed)
    p0, z0 = score(predictor, x[None], batch_size=cfg.batch_size)
    prob, logit = score_lazily(
        predictor, len(starts) * reps, make, **scoring_options(cfg, progress, should_stop, "tile")
    )
    p_after = prob.reshape(len(starts), reps).mean(axis=1)
    z_after = logit.reshape(len(starts), reps).mean(axis=1)
    ends = starts + cfg.window
    out = pd.DataFrame(
        {
            "gene_id": str(gene_id),
            "start": starts,
            "end": ends,
            "pos_from_tss": starts - length,
        }
    )
    out = pd.concat([out, genomic_windows(coords, starts, ends, length, pad_side)], axis=1)
    out["mode"] = cfg.mode
    out["p_before"] = float(p0[0])
    out["p_after"] = p_after
    out["delta_probability"] = p_after - p0[0]
    out["delta_logit"] = z_after - z0[0]
    order = np.argsort(out["delta_probability"].to_numpy(), kind="stable")
    rank = np.empty(len(out), dtype=np.int64)
    rank[order] = np.arange(1, len(out) + 1)
    out["rank"] = rank
    return out[list(TILE_COLUMNS)]
