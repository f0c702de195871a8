"""Spacing and orientation of two motifs: effect by gap (0 .. max_spacing bp) x orientation pair."""

from __future__ import annotations

import numpy as np
import pandas as pd

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.experiments.config import ORIENTATION_PAIRS, ExperimentConfig
from deepdife_core.experiments.scoring import check_length, oriented, score_designs, scoring_options
from deepdife_core.experiments.summary import summarize


def spacing_grid(
    predictor, background, motif_a, motif_b, config: ExperimentConfig | None = None, *, progress=None, should_stop=None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Motif A at ``config.position``, motif B ``s`` bp after A's end, for every ``s`` and orientation pair.

    The default position centres the pair at the widest spacing:
    ``(L - (W_A + max_spacing + W_B)) // 2``.  Each pair is compared with the background
    alone (``delta_*``) and with the two single insertions at the same places
    (``interaction_logit = delta_logit(A+B) - delta_logit(A) - delta_logit(B)``: 0 when the
    effects add up on the logit scale, > 0 synergy, < 0 interference).

    Parameters
    ----------
    predictor, background : Predictor, Background
        The model and the ``G`` backgrounds of ``L`` bp, as for
        :func:`~deepdife_core.experiments.sweep.position_sweep`.
    motif_a, motif_b : MotifSource
        The first (upstream) and second motif, of widths ``W_A`` and ``W_B``.
    config : ExperimentConfig, optional
        ``max_spacing``, ``position`` (motif A's start),
        ``instance``, ``seed``, ``batch_size``, ``chunk`` (default: ``ExperimentConfig()``).
    progress, should_stop : callable, optional
        See :func:`~deepdife_core.experiments.scoring.score_lazily`.

    Returns
    -------
    summary, per_gene
        ``summary``: one row per ``(spacing, orientation)`` (``orientation`` is the pair, e.g.
        ``+-``: A forward, B reverse-complemented) with ``position_a, position_b, n`` and mean /
        sd / 95% CI of ``delta_probability``, ``delta_logit`` and ``interaction_logit``.
        ``per_gene``: the same per background gene.
    """
    cfg = config or ExperimentConfig()
    length = check_length(predictor, background)
    wa, wb, smax = motif_a.width, motif_b.width, int(cfg.max_spacing)
    span = wa + smax + wb
    pos_a = (length - span) // 2 if cfg.position is None else int(cfg.position)
    if pos_a < 0 or pos_a + span > length:
        raise DeepDifEInputError(
            f"two motifs of {wa} and {wb} bp up to {smax} bp apart need {span} bp from position {pos_a}, "
            f"but the promoters are {length} bp; lower max_spacing or the position"
        )
    g = len(background)
    ia = motif_a.instances(g, mode=cfg.instance, seed=cfg.seed)
    ib = motif_b.instances(g, mode=cfg.instance, seed=cfg.seed + 1)
    a = {o: oriented(ia, o) for o in "+-"}
    b = {o: oriented(ib, o) for o in "+-"}
    spacings = np.arange(smax + 1, dtype=np.int64)
    pos_b = pos_a + wa + spacings
    designs: list = [[]]
    designs += [[(pos_a, a[o])] for o in "+-"]  # 1, 2: A alone
    single_b = {}
    for s, pb in zip(spacings, pos_b, strict=True):
        for o in "+-":
            single_b[(int(s), o)] = len(designs)
            designs.append([(int(pb), b[o])])
    pairs = {}
    for s, pb in zip(spacings, pos_b, strict=True):
        for pair in ORIENTATION_PAIRS:
            pairs[(int(s), pair)] = len(designs)
            designs.append([(pos_a, a[pair[0]]), (int(pb), b[pair[1]])])
    prob, logit = score_designs(
        predictor, background.x, designs, **scoring_options(cfg, progress, should_stop, "spacing")
    )
    ids = np.asarray(background.gene_ids, dtype=object)
    parts = []
    for (s, pair), d in pairs.items():
        da = logit[1 if pair[0] == "+" else 2] - logit[0]
        db = logit[single_b[(s, pair[1])]] - logit[0]
        dz = logit[d] - logit[0]
        parts.append(
            pd.DataFrame(
                {
                    "spacing": s,
                    "orientation": pair,
                    "position_a": pos_a,
                    "position_b": pos_a + wa + s,
                    "gene_id": ids,
                    "p_before": prob[0],
                    "p_after": prob[d],
                    "delta_probability": prob[d] - prob[0],
                    "delta_logit": dz,
                    "interaction_logit": dz - da - db,
                }
            )
        )
    per_gene = pd.concat(parts, ignore_index=True)
    per_gene = per_gene.sort_values(["spacing", "orientation"], kind="stable").reset_index(drop=True)
    summary = summarize(
        per_gene,
        ["spacing", "orientation", "position_a", "position_b"],
        ["delta_probability", "delta_logit", "interaction_logit"],
    )
    return summary, per_gene
