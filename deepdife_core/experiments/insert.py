"""Insertion (marginalisation): one motif at one position of every background, in one or both orientations."""

from __future__ import annotations

import pandas as pd

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.experiments.config import ExperimentConfig
from deepdife_core.experiments.scoring import check_length, orientations, oriented, score_designs, scoring_options

#: columns of :func:`insertion`'s table (``*_plus`` / ``*_minus`` only with orientation ``both``)
INSERT_COLUMNS = (
    "gene_id",
    "label",
    "position",
    "orientation",
    "p_before",
    "p_after",
    "delta_probability",
    "logit_before",
    "logit_after",
    "delta_logit",
)


def default_position(length: int, width: int) -> int:
    """The position that centres a motif in the promoter (the default insertion point).

    Parameters
    ----------
    length
        Promoter length ``L``.
    width
        Motif width ``W``.

    Returns
    -------
    int
        ``(L - W) // 2`` (0 when the motif is longer).
    """
    return max(0, (length - width) // 2)


def insertion(predictor, background, motif, config: ExperimentConfig | None = None, *, progress=None, should_stop=None):
    """Insert ``motif`` at ``config.position`` (default the middle) of every background.

    Parameters
    ----------
    predictor
        The model.
    background
        A :class:`~deepdife_core.experiments.backgrounds.Background`, ``G`` promoters of ``L`` bp.
    motif
        A :class:`~deepdife_core.experiments.sources.MotifSource` of width ``W``.
    config
        ``position``, ``orientation``, ``instance``, ``seed``, ``batch_size``, ``chunk``.
    progress, should_stop
        See :func:`~deepdife_core.experiments.scoring.score_lazily`.

    Returns
    -------
    pandas.DataFrame
        One row per background gene: :data:`INSERT_COLUMNS` (``orientation`` ``both``: ``p_after``
        and the deltas are the means over the two orientations, each orientation's in
        ``p_after_plus``, ``p_after_minus``, ``delta_logit_plus``, ``delta_logit_minus``).
    """
    cfg = config or ExperimentConfig()
    length = check_length(predictor, background)
    w = motif.width
    pos = default_position(length, w) if cfg.position is None else int(cfg.position)
    if pos + w > length:
        raise DeepDifEInputError(f"position {pos}: a {w}-bp motif must start at 0 .. {length - w} in {length} bp")
    g = len(background)
    inst = motif.instances(g, mode=cfg.instance, seed=cfg.seed)
    oris = orientations(cfg.orientation)
    designs = [[]] + [[(pos, oriented(inst, o))] for o in oris]
    prob, logit = score_designs(
        predictor, background.x, designs, **scoring_options(cfg, progress, should_stop, "insert")
    )
    out = pd.DataFrame(
        {
            "gene_id": list(background.gene_ids),
            "label": background.labels,
            "position": pos,
            "orientation": cfg.orientation,
            "p_before": prob[0],
            "p_after": prob[1:].mean(axis=0),
            "delta_probability": (prob[1:] - prob[0]).mean(axis=0),
            "logit_before": logit[0],
            "logit_after": logit[1:].mean(axis=0),
            "delta_logit": (logit[1:] - logit[0]).mean(axis=0),
        }
    )
    if len(oris) == 2:
        for k, name in ((1, "plus"), (2, "minus")):
            out[f"p_after_{name}"] = prob[k]
            out[f"delta_logit_{name}"] = logit[k] - logit[0]
    return out


def compare_insertions(predictor, background, motifs, config: ExperimentConfig | None = None, **kwargs):
    """:func:`insertion` of several motifs into the same backgrounds.

    Parameters
    ----------
    predictor, background, config
        As for :func:`insertion`.
    motifs
        :class:`~deepdife_core.experiments.sources.MotifSource` list.
    **kwargs
        ``progress`` / ``should_stop``.

    Returns
    -------
    pandas.DataFrame
        The per-gene tables stacked, with a first column ``motif`` (its name).
    """
    parts = []
    for m in motifs:
        t = insertion(predictor, background, m, config, **kwargs)
        t.insert(0, "motif", m.name)
        parts.append(t)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=("motif", *INSERT_COLUMNS))
