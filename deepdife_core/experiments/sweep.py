"""Position sweep: the same motif at every ``step`` bp along the promoter -> effect vs distance to the TSS."""

from __future__ import annotations

import numpy as np
import pandas as pd

from deepdife_core.experiments.config import ExperimentConfig
from deepdife_core.experiments.scoring import check_length, orientations, oriented, score_designs, scoring_options
from deepdife_core.experiments.summary import summarize


def sweep_positions(length: int, width: int, step: int) -> np.ndarray:
    """Tested positions of a sweep.

    Parameters
    ----------
    length, width, step
        Promoter length ``L``, motif width ``W`` and the step in bp.

    Returns
    -------
    numpy.ndarray
        int64 ``(P,)``: ``0, step, 2 * step, ... <= L - W``.
    """
    return np.arange(0, length - width + 1, step, dtype=np.int64)


def position_sweep(
    predictor, background, motif, config: ExperimentConfig | None = None, *, progress=None, should_stop=None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Insert ``motif`` at every ``config.step`` bp of every background.

    Parameters
    ----------
    predictor : Predictor
        The model (:class:`~deepdife_core.model.cnn.Predictor`).
    background : Background
        A :class:`~deepdife_core.experiments.backgrounds.Background`: ``G`` promoters of ``L`` bp
        (``x`` float32 ``(G, L, 4)``, ``gene_ids``).
    motif : MotifSource
        A :class:`~deepdife_core.experiments.sources.MotifSource` of width ``W``.
    config : ExperimentConfig, optional
        ``step``, ``orientation``, ``instance``, ``seed``, ``batch_size``, ``chunk`` (default: ``ExperimentConfig()``).
    progress, should_stop : callable, optional
        See :func:`~deepdife_core.experiments.scoring.score_lazily`.

    Returns
    -------
    summary, per_gene
        ``summary``: one row per position with ``position`` (0-based, the motif's first base),
        ``pos_from_tss`` (``position - L``: negative bp upstream of the TSS, as in seqlets.csv),
        ``n`` and mean / sd / 95% CI of ``delta_probability`` and ``delta_logit``
        (``<col>_mean, <col>_sd, <col>_ci_low, <col>_ci_high``).  ``per_gene``: ``position,
        gene_id, p_before, p_after, delta_probability, delta_logit`` (orientation ``both``:
        the mean of the two orientations).
    """
    cfg = config or ExperimentConfig()
    length = check_length(predictor, background)
    positions = sweep_positions(length, motif.width, cfg.step)
    g = len(background)
    inst = motif.instances(g, mode=cfg.instance, seed=cfg.seed)
    oris = orientations(cfg.orientation)
    oriented_inst = [oriented(inst, o) for o in oris]
    designs = [[]] + [[(int(p), oi)] for p in positions for oi in oriented_inst]
    prob, logit = score_designs(
        predictor, background.x, designs, **scoring_options(cfg, progress, should_stop, "sweep")
    )
    k = len(oris)
    p_after = prob[1:].reshape(len(positions), k, g).mean(axis=1)
    z_after = logit[1:].reshape(len(positions), k, g).mean(axis=1)
    per_gene = pd.DataFrame(
        {
            "position": np.repeat(positions, g),
            "gene_id": np.tile(np.asarray(background.gene_ids, dtype=object), len(positions)),
            "p_before": np.tile(prob[0], len(positions)),
            "p_after": p_after.ravel(),
            "delta_probability": (p_after - prob[0]).ravel(),
            "delta_logit": (z_after - logit[0]).ravel(),
        }
    )
    summary = summarize(per_gene, ["position"], ["delta_probability", "delta_logit"])
    summary.insert(1, "pos_from_tss", summary["position"].astype(np.int64) - length)
    summary.insert(2, "orientation", cfg.orientation)
    return summary, per_gene
