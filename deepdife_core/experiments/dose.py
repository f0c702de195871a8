"""Dose: 0, 1, ..., max_copies copies of a motif -> effect curve, beside the additive expectation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.experiments.config import ExperimentConfig
from deepdife_core.experiments.scoring import check_length, orientations, oriented, score_designs, scoring_options
from deepdife_core.experiments.summary import summarize


def copy_positions(length: int, width: int, copies: int, gap: int, first: int | None = None) -> np.ndarray:
    """Start of each copy of the dose experiment.

    Parameters
    ----------
    length, width
        Promoter length ``L`` and motif width ``W``.
    copies, gap
        Number of copies and bp between consecutive copies.
    first
        Start of the first copy; None centres the block of all copies.

    Returns
    -------
    numpy.ndarray
        int64 ``(copies,)``: ``first + k * (W + gap)``.
    """
    block = copies * width + (copies - 1) * gap
    start = (length - block) // 2 if first is None else int(first)
    if start < 0 or start + block > length:
        raise DeepDifEInputError(
            f"{copies} copies of a {width}-bp motif {gap} bp apart need {block} bp from position {start}, "
            f"but the promoters are {length} bp; lower max_copies or copy_gap"
        )
    return start + np.arange(copies, dtype=np.int64) * (width + gap)


def dose_response(
    predictor, background, motif, config: ExperimentConfig | None = None, *, progress=None, should_stop=None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``c`` copies (the first ``c`` of :func:`copy_positions`) for ``c = 0 .. max_copies``.

    ``additive_logit`` is the sum of the single-copy effects at the same positions (logit
    scale) and ``synergy_logit = delta_logit - additive_logit`` (0: additive; > 0: more than
    additive).  With orientation ``both`` every copy is forward in one arrangement and
    reverse-complemented in the other; values are the mean of the two.

    Parameters
    ----------
    predictor, background : Predictor, Background
        The model and the ``G`` backgrounds of ``L`` bp, as for
        :func:`~deepdife_core.experiments.sweep.position_sweep`.
    motif : MotifSource
        A :class:`~deepdife_core.experiments.sources.MotifSource` of width ``W``.
    config : ExperimentConfig, optional
        ``max_copies``, ``copy_gap``, ``position`` (first copy), ``orientation``,
        ``instance``, ``seed``, ``batch_size``, ``chunk`` (default: ``ExperimentConfig()``).
    progress, should_stop : callable, optional
        See :func:`~deepdife_core.experiments.scoring.score_lazily`.

    Returns
    -------
    summary, per_gene
        ``summary``: one row per ``copies`` with ``n`` and mean / sd / 95% CI of
        ``delta_probability``, ``delta_logit``, ``additive_logit`` and ``synergy_logit``
        (0 copies: all zero).  ``per_gene``: ``copies, gene_id, p_before, p_after`` and the same values.
    """
    cfg = config or ExperimentConfig()
    length = check_length(predictor, background)
    positions = copy_positions(length, motif.width, cfg.max_copies, cfg.copy_gap, cfg.position)
    g = len(background)
    oris = orientations(cfg.orientation)
    insts = [motif.instances(g, mode=cfg.instance, seed=cfg.seed + k) for k in range(cfg.max_copies)]
    designs: list = [[]]
    singles, multis = {}, {}
    for o in oris:
        for k, p in enumerate(positions):
            singles[(o, k)] = len(designs)
            designs.append([(int(p), oriented(insts[k], o))])
        for c in range(2, cfg.max_copies + 1):
            multis[(o, c)] = len(designs)
            designs.append([(int(positions[k]), oriented(insts[k], o)) for k in range(c)])
    prob, logit = score_designs(predictor, background.x, designs, **scoring_options(cfg, progress, should_stop, "dose"))
    ids = np.asarray(background.gene_ids, dtype=object)
    parts = [
        pd.DataFrame(
            {
                "copies": 0,
                "gene_id": ids,
                "p_before": prob[0],
                "p_after": prob[0],
                "delta_probability": 0.0,
                "delta_logit": 0.0,
                "additive_logit": 0.0,
                "synergy_logit": 0.0,
            }
        )
    ]
    for c in range(1, cfg.max_copies + 1):
        p_after, dz, add = [], [], []
        for o in oris:
            d = singles[(o, 0)] if c == 1 else multis[(o, c)]
            p_after.append(prob[d])
            dz.append(logit[d] - logit[0])
            add.append(sum(logit[singles[(o, k)]] - logit[0] for k in range(c)))
        pa, dzm, addm = np.mean(p_after, axis=0), np.mean(dz, axis=0), np.mean(add, axis=0)
        parts.append(
            pd.DataFrame(
                {
                    "copies": c,
                    "gene_id": ids,
                    "p_before": prob[0],
                    "p_after": pa,
                    "delta_probability": pa - prob[0],
                    "delta_logit": dzm,
                    "additive_logit": addm,
                    "synergy_logit": dzm - addm,
                }
            )
        )
    per_gene = pd.concat(parts, ignore_index=True)
    summary = summarize(per_gene, ["copies"], ["delta_probability", "delta_logit", "additive_logit", "synergy_logit"])
    summary.insert(1, "positions", [";".join(map(str, positions[:c])) for c in summary["copies"]])
    return summary, per_gene
