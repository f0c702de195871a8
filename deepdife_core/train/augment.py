"""EvoAug augmentations (in the TensorFlow graph) and the PhyloAug ortholog sampler.

EvoAug
------
:func:`make_evoaug` returns ``f(x, seed) -> x_aug`` for one-hot batches
``(B, L, 4)`` -> ``(B, L + insert_max, 4)`` (``(B, L, 4)`` without insertion).  Every
operation is written as a per-sequence *index map* into a source tensor
``[x ; N row ; random DNA]`` and applied with one batched ``tf.gather``; a sequence
that did not draw an operation gets the identity map (parameter 0), so there is
no per-sequence Python loop and no retracing.  Randomness comes from stateless
ops folded from the batch ``seed`` (shape ``(2,)``): the same seed gives the same
batch.  Operations run in the order of :data:`~deepdife_core.config.EVOAUG_OPS`:

``inversion``      reverse-complement a random segment (``invert_min..invert_max`` bp)
``deletion``       delete ``0..delete_max`` bp at a random place, re-fill both ends with random DNA
``translocation``  roll the sequence by ``-shift_max..shift_max``
``insertion``      insert ``0..insert_max`` random bases; centre in ``L + insert_max`` with N rows
``rc``             reverse complement the whole sequence with probability ``rc_prob``
``mutation``       replace ``mutate_frac`` of the positions with random bases
``noise``          add Gaussian noise ``N(0, noise_std)`` to the one-hot values

PhyloAug
--------
:class:`OrthologPool` holds ortholog one-hots aligned to the *training* rows only
(so validation/test orthologs cannot leak in) and :meth:`OrthologPool.sample`
swaps genes of a batch for a random ortholog with probability ``rate`` (numpy,
local generator).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from deepdife_core.config import AugmentConfig
from deepdife_core.data.io import normalize_id
from deepdife_core.model.cnn import quiet_tensorflow


def _tf():

    quiet_tensorflow()
    import tensorflow as tf

    return tf


def make_evoaug(cfg: AugmentConfig, length: int) -> Callable:
    """Build the in-graph EvoAug function for sequences of ``length`` bp.

    Parameters
    ----------
    cfg : AugmentConfig
        Which operations are on (``cfg.active``), their sizes and ``cfg.padding``.
    length : int
        Input length ``L`` of the unpadded one-hot batches.

    Returns
    -------
    callable
        ``augment(x, seed)``: ``x`` float32 ``(B, length, 4)``, ``seed`` int ``(2,)``;
        returns ``(B, length + pad_left + pad_right, 4)`` with ``cfg.padding``.
    """
    tf = _tf()
    ops = cfg.active
    n_ops = len(ops)
    pad_l, pad_r = cfg.padding
    rand_rows = max(cfg.delete_max, cfg.insert_max, 1)
    L = int(length)

    def fold(seed, k):
        return tf.random.experimental.stateless_fold_in(tf.cast(seed, tf.int64), k)

    def rand_int(seed, k, shape, lo, hi):
        """Uniform ints in [lo, hi] inclusive."""
        return tf.random.stateless_uniform(shape, fold(seed, k), minval=lo, maxval=hi + 1, dtype=tf.int32)

    def random_dna(seed, k, b, n):
        idx = tf.random.stateless_uniform((b, n), fold(seed, k), minval=0, maxval=4, dtype=tf.int32)
        return tf.one_hot(idx, 4, dtype=tf.float32)

    def gather(x, idx, seed, k):
        """Gather rows: ``x`` (B, Lx, 4); ``idx`` (B, Lo) with -1 = N row, -2 - r = random DNA row r."""
        b = tf.shape(x)[0]
        lx = tf.shape(x)[1]
        src = tf.concat([x, tf.zeros((b, 1, 4)), random_dna(seed, k, b, rand_rows)], axis=1)
        pos = tf.where(idx >= 0, idx, tf.where(idx == -1, lx, lx + 1 + (-2 - idx)))
        return tf.gather(src, pos, batch_dims=1)

    def choose(seed, b):
        """(B, n_ops) bool: which operations each sequence gets."""
        scores = tf.random.stateless_uniform((b, n_ops), fold(seed, 1))
        k = min(cfg.max_augs_per_seq, n_ops)
        if cfg.hard:
            n_k = tf.fill((b,), k)
        else:
            n_k = rand_int(seed, 2, (b,), 0, k)
        ranks = tf.argsort(tf.argsort(scores, axis=1), axis=1)  # rank of each op per row
        return ranks < n_k[:, None]

    def insert(x, sel, seed, k0):
        """Insert 0..insert_max random bases at a random place; centre in L + insert_max with N rows."""
        b = tf.shape(x)[0]
        i_len = tf.where(sel, rand_int(seed, k0, (b,), 0, cfg.insert_max), 0)
        p = rand_int(seed, k0 + 1, (b,), 0, L)
        jo = tf.range(L + cfg.insert_max)[None, :]
        kk = jo - ((cfg.insert_max - i_len) // 2)[:, None]  # position in the grown sequence
        grown = tf.where(
            kk < p[:, None],
            kk,
            tf.where(kk < (p + i_len)[:, None], -2 - (kk - p[:, None]), kk - i_len[:, None]),
        )
        idx = tf.where((kk >= 0) & (kk < (L + i_len)[:, None]), grown, -1)
        return gather(x, idx, seed, k0 + 2)

    def augment(x, seed):
        x = tf.convert_to_tensor(x, tf.float32)
        b = tf.shape(x)[0]
        if n_ops == 0:
            return x
        on = choose(seed, b)
        j = tf.range(L)[None, :]  # positions (1, L)
        for i, op in enumerate(ops):
            sel = on[:, i]
            k0 = 100 + 10 * i
            if op == "inversion":
                ln = rand_int(seed, k0, (b,), cfg.invert_min, cfg.invert_max)
                ln = tf.where(sel, tf.minimum(ln, L), 0)
                p = rand_int(seed, k0 + 1, (b,), 0, L) % tf.maximum(L - ln + 1, 1)
                inside = (j >= p[:, None]) & (j < (p + ln)[:, None])
                src = tf.where(inside, p[:, None] + (p + ln - 1)[:, None] - j, j)
                y = tf.gather(x, src, batch_dims=1)
                x = tf.where(inside[..., None], tf.reverse(y, axis=[2]), y)
            elif op == "deletion":
                d = tf.where(sel, rand_int(seed, k0, (b,), 0, cfg.delete_max), 0)
                p = rand_int(seed, k0 + 1, (b,), 0, L) % tf.maximum(L - d + 1, 1)
                dl = d // 2
                s = j - dl[:, None]
                src = tf.where(s < p[:, None], s, s + d[:, None])
                outside = (j < dl[:, None]) | (j >= (dl + L - d)[:, None])
                idx = tf.where(outside, -2 - (j % rand_rows), src)
                x = gather(x, idx, seed, k0 + 2)
            elif op == "translocation":
                sh = tf.where(sel, rand_int(seed, k0, (b,), -cfg.shift_max, cfg.shift_max), 0)
                x = tf.gather(x, (j - sh[:, None]) % L, batch_dims=1)
            elif op == "insertion":
                x = insert(x, sel, seed, k0)
            elif op == "rc":
                flip = sel & (tf.random.stateless_uniform((b,), fold(seed, k0)) < cfg.rc_prob)
                x = tf.where(flip[:, None, None], tf.reverse(x, axis=[1, 2]), x)
            elif op == "mutation":
                hit = sel[:, None] & (
                    tf.random.stateless_uniform((b, tf.shape(x)[1]), fold(seed, k0)) < cfg.mutate_frac
                )
                called = tf.reduce_sum(x, axis=-1) > 0
                new = random_dna(seed, k0 + 1, b, tf.shape(x)[1])
                x = tf.where((hit & called)[..., None], new, x)
            elif op == "noise":
                noise = tf.random.stateless_normal(tf.shape(x), fold(seed, k0), stddev=cfg.noise_std)
                x = x + tf.where(sel[:, None, None], noise, 0.0)
        if "insertion" not in ops and (pad_l or pad_r):
            x = tf.pad(x, [[0, 0], [pad_l, pad_r], [0, 0]])
        return x

    return augment


def evoaug_numpy(x: np.ndarray, cfg: AugmentConfig, seed: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Apply EvoAug eagerly to a numpy batch (for tests and previews).

    Parameters
    ----------
    x : numpy.ndarray
        One-hot ``(B, L, 4)``.
    cfg : AugmentConfig
        The augmentation settings.
    seed : tuple of (int, int), optional
        Stateless random seed, default ``(0, 0)``.

    Returns
    -------
    numpy.ndarray
        float32 ``(B, L + pad_left + pad_right, 4)``, padded by ``cfg.padding``.
    """
    fn = make_evoaug(cfg, x.shape[1])
    return np.asarray(fn(np.asarray(x, np.float32), np.asarray(seed, np.int64)))


# ----------------------------------------------------------------------------- PhyloAug


@dataclass
class OrthologPool:
    """Ortholog one-hots for the training rows.

    Attributes
    ----------
    x
        ``(M, L, 4)`` ortholog one-hots.
    offsets
        ``(n_train + 1,)``: orthologs of training row ``i`` are ``x[offsets[i]:offsets[i+1]]``.
    species
        ``(M,)`` species label of each ortholog.
    rate
        Probability that a gene of a batch is swapped for an ortholog.
    """

    x: np.ndarray
    offsets: np.ndarray
    species: np.ndarray
    rate: float = 0.7
    used: dict[str, int] = field(default_factory=dict)

    @property
    def counts(self) -> np.ndarray:
        """Number of orthologs of each training row.

        Returns
        -------
        numpy.ndarray
            int64 ``(n_train,)``, ``offsets[i + 1] - offsets[i]``.
        """
        return np.diff(self.offsets)

    def sample(self, rows: np.ndarray, x_batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Swap each row of ``x_batch`` for a random ortholog of its gene with probability ``rate``.

        Rows without orthologs are kept; the swaps are counted per species in ``used``.

        Parameters
        ----------
        rows : numpy.ndarray
            int ``(B,)`` training-row index of each batch row.
        x_batch : numpy.ndarray
            One-hot ``(B, L, 4)``.
        rng : numpy.random.Generator
            The random generator.

        Returns
        -------
        numpy.ndarray
            ``(B, L, 4)``: a copy with swapped rows, or ``x_batch`` itself when none is swapped.
        """
        counts = self.counts[rows]
        swap = (rng.random(len(rows)) < self.rate) & (counts > 0)
        if not swap.any():
            return x_batch
        pick = self.offsets[rows] + np.floor(rng.random(len(rows)) * np.maximum(counts, 1)).astype(np.int64)
        out = x_batch.copy()
        out[swap] = self.x[pick[swap]]
        for sp, n in zip(*np.unique(self.species[pick[swap]], return_counts=True), strict=True):
            self.used[str(sp)] = self.used.get(str(sp), 0) + int(n)
        return out


def build_ortholog_pool(
    train_gene_ids: np.ndarray,
    orthologs: pd.DataFrame,
    ortholog_x: dict[str, np.ndarray],
    *,
    rate: float = 0.7,
) -> OrthologPool:
    """Align orthologs to training genes.

    Genes are matched by :func:`~deepdife_core.data.io.normalize_id`; pairs whose ortholog
    has no sequence in ``ortholog_x`` are left out.

    Parameters
    ----------
    train_gene_ids : numpy.ndarray
        ``(n_train,)`` gene IDs of the training rows, in training order.
    orthologs : pandas.DataFrame
        Table ``gene_id, ortholog_id, species`` (one row per pair).
    ortholog_x : dict of str to numpy.ndarray
        ``ortholog_id -> (L, 4)`` one-hot for every ortholog with a sequence.
    rate : float, optional
        Swap probability of the pool, default 0.7.

    Returns
    -------
    OrthologPool
        ``x`` float32 ``(M, L, 4)``, ``offsets`` int64 ``(n_train + 1,)``, ``species`` ``(M,)``.
    """
    by_gene: dict[str, list[tuple[str, str]]] = {}
    for g, o, sp in zip(orthologs["gene_id"], orthologs["ortholog_id"], orthologs["species"], strict=True):
        if o in ortholog_x:
            by_gene.setdefault(normalize_id(g), []).append((o, sp))
    rows, species, offsets = [], [], [0]
    for g in train_gene_ids:
        for o, sp in by_gene.get(normalize_id(g), []):
            rows.append(ortholog_x[o])
            species.append(sp)
        offsets.append(len(rows))
    length = next(iter(ortholog_x.values())).shape[0] if ortholog_x else 0
    x = np.stack(rows).astype(np.float32) if rows else np.zeros((0, length, 4), np.float32)
    return OrthologPool(
        x=x, offsets=np.asarray(offsets, np.int64), species=np.asarray(species, dtype=object), rate=rate
    )
