"""Genome-wide motif ablation: in every gene, shuffle (or N) the motif's sites and see who loses responsiveness."""

from __future__ import annotations

import numpy as np
import pandas as pd

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.experiments.config import ABLATE_MODES, ExperimentConfig
from deepdife_core.experiments.scoring import score, score_lazily, scoring_options
from deepdife_core.motifs.modisco import Motif
from deepdife_core.motifs.scan import prepare_database, scan_sequences

#: columns of :func:`ablate_motif`'s table
ABLATE_COLUMNS = (
    "gene_id",
    "label",
    "n_sites",
    "sites",
    "p_before",
    "p_after",
    "delta_probability",
    "delta_logit",
    "responsive_before",
    "responsive_after",
    "lost",
)


def motif_sites(x: np.ndarray, motif, *, max_pvalue: float = 1e-4) -> list[list[tuple[int, int, str]]]:
    """Sites of ``motif`` in each sequence, both strands: ``[(start, end, strand), ...]`` per sequence.

    An IUPAC consensus matches exactly (every base allowed by its code); a matrix (JASPAR,
    a motif run pattern) matches where its FIMO p-value is at most ``max_pvalue``
    (:func:`deepdife_core.motifs.scan.scan_sequences`).

    Parameters
    ----------
    x
        float32 one-hot ``(N, L, 4)``.
    motif
        A :class:`~deepdife_core.experiments.sources.MotifSource`.
    max_pvalue
        Matrix motifs only.

    Returns
    -------
    list of lists
        Forward coordinates, 0-based, end exclusive, sorted by start.
    """
    n, length = x.shape[0], x.shape[1]
    w = motif.width
    out: list[list[tuple[int, int, str]]] = [[] for _ in range(n)]
    if w > length:
        return out
    if motif.kind == "iupac":
        tokens = np.where(x.max(axis=-1) > 0, x.argmax(axis=-1), 4)
        for strand, allowed in (("+", motif.allowed), ("-", motif.allowed[::-1, ::-1])):
            ok = np.ones((n, length - w + 1), dtype=bool)
            table = np.concatenate([allowed, np.zeros((w, 1), dtype=bool)], axis=1)  # N matches nothing
            for j in range(w):
                ok &= table[j][tokens[:, j : j + length - w + 1]]
            for i, p in zip(*np.nonzero(ok), strict=True):
                out[int(i)].append((int(p), int(p) + w, strand))
        if motif.allowed.tolist() == motif.allowed[::-1, ::-1].tolist():  # palindrome: one site, not two
            out = [sorted(set((s, e, "+") for s, e, _ in sites)) for sites in out]
    else:
        db = prepare_database([Motif(motif.name, motif.name, motif.ppm)])
        hits = scan_sequences(x, db, max_pvalue=max_pvalue)
        for i, s, e, st in zip(hits["seq_idx"], hits["start"], hits["end"], hits["strand"], strict=True):
            out[int(i)].append((int(s), int(e), str(st)))
    return [sorted(sites) for sites in out]


def ablate_motif(
    predictor,
    gene_ids,
    x: np.ndarray,
    motif,
    config: ExperimentConfig | None = None,
    *,
    labels=None,
    progress=None,
    should_stop=None,
) -> pd.DataFrame:
    """Destroy every site of ``motif`` in every gene and score the genes again.

    ``config.mode``: ``shuffle`` (the bases of each site are permuted at random,
    ``n_shuffles`` times, seeded; effects averaged) or ``n`` (sites become N).  Genes
    without a site keep their probability (delta 0).

    Parameters
    ----------
    predictor
        The model.
    gene_ids
        ``(G,)`` identities.
    x
        float32 one-hot ``(G, L, 4)`` fitted to the model.
    motif
        A :class:`~deepdife_core.experiments.sources.MotifSource`.
    config
        ``mode``, ``n_shuffles``, ``seed``, ``max_pvalue``, ``threshold``, ``batch_size``, ``chunk``.
    labels
        ``(G,)`` labels to copy into the table (-1 when None).
    progress, should_stop
        See :func:`~deepdife_core.experiments.scoring.score_lazily`.

    Returns
    -------
    pandas.DataFrame
        One row per gene: :data:`ABLATE_COLUMNS` (``sites``: ``start:end:strand`` joined by ``;``;
        ``lost``: responsive before (``p >= threshold``) and not after), genes that lose most first.
    """
    cfg = config or ExperimentConfig()
    if cfg.mode not in ABLATE_MODES:
        raise DeepDifEInputError(f"ablation mode must be one of {', '.join(ABLATE_MODES)}, got {cfg.mode!r}")
    x = np.asarray(x, dtype=np.float32)
    ids = [str(g) for g in gene_ids]
    if len(ids) != len(x):
        raise DeepDifEInputError(f"{len(ids)} gene IDs for {len(x)} sequences")
    sites = motif_sites(x, motif, max_pvalue=cfg.max_pvalue)
    hit = np.flatnonzero([len(s) > 0 for s in sites])
    reps = cfg.n_shuffles if cfg.mode == "shuffle" else 1
    p0, z0 = score(predictor, x, batch_size=cfg.batch_size)
    rng = np.random.default_rng(cfg.seed)
    # every random permutation is drawn up front (in gene order), so a chunk size never changes them
    perms = {
        (int(i), r, k): rng.permutation(e - s) for i in hit for r in range(reps) for k, (s, e, _) in enumerate(sites[i])
    }

    def make(a: int, b: int) -> np.ndarray:
        out = np.empty((b - a, x.shape[1], 4), dtype=np.float32)
        for j, v in enumerate(range(a, b)):
            q, r = divmod(v, reps)
            i = int(hit[q])
            out[j] = x[i]
            for k, (s, e, _) in enumerate(sites[i]):
                out[j, s:e] = 0.0 if cfg.mode == "n" else x[i, s:e][perms[(i, r, k)]]
        return out

    prob, logit = score_lazily(
        predictor, len(hit) * reps, make, **scoring_options(cfg, progress, should_stop, "ablate")
    )
    p1, z1 = p0.copy(), z0.copy()
    if len(hit):
        p1[hit] = prob.reshape(len(hit), reps).mean(axis=1)
        z1[hit] = logit.reshape(len(hit), reps).mean(axis=1)
    lab = np.full(len(ids), -1, dtype=np.int64) if labels is None else np.asarray(labels, dtype=np.int64)
    before, after = p0 >= cfg.threshold, p1 >= cfg.threshold
    out = pd.DataFrame(
        {
            "gene_id": ids,
            "label": lab,
            "n_sites": [len(s) for s in sites],
            "sites": [";".join(f"{s}:{e}:{st}" for s, e, st in ss) for ss in sites],
            "p_before": p0,
            "p_after": p1,
            "delta_probability": p1 - p0,
            "delta_logit": z1 - z0,
            "responsive_before": before,
            "responsive_after": after,
            "lost": before & ~after,
        }
    )
    return out.sort_values("delta_probability", kind="stable").reset_index(drop=True)
