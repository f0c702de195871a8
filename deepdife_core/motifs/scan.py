"""Known-motif scanning: a FIMO-style log-odds PWM scan with exact p-values, vectorised in numpy.

Scores and p-values follow FIMO as implemented by memelite (``memelite.fimo``), so
both give the same hits:

* a motif's PPM ``(W, 4)`` becomes a log-odds matrix against a uniform background,
  ``log2(ppm + pseudocount) - log2(0.25)`` (bits); a window's score is the sum of its
  bases' entries (an ``N`` adds 0);
* the p-value of a score is ``P(S >= s)`` under i.i.d. uniform bases, computed
  exactly by dynamic programming over the matrix rounded to ``bin_size`` bits (the
  null distribution of a motif is computed once per database, in
  :func:`prepare_database`);
* with ``both_strands`` every motif is also scanned as its reverse complement:
  a hit on strand ``"-"`` means the motif's reverse complement matches the forward
  sequence at ``[start, end)``.

Coordinates are 0-based, end exclusive, on the forward strand of the scanned
sequence.  Unlike memelite's FIMO there is no numba compilation (the first call
is as fast as the next), and a prepared database is reused for every sequence:
~50 ms for the 927 JASPAR CORE plant motifs on a 600-bp promoter, both strands.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from deepdife_core.data.encode import invalid_characters, one_hot
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.motifs.modisco import Motif, MotifDatabase

__all__ = [
    "HIT_COLUMNS",
    "ScanDatabase",
    "TouchingHits",
    "log_odds",
    "null_survival",
    "prepare_database",
    "pvalue_of_score",
    "scan_sequence",
    "scan_sequences",
    "touching_hits",
    "touching_snv_hits",
]

#: columns of the hit tables returned by :func:`scan_sequences`
HIT_COLUMNS = (
    "seq_idx",
    "motif_id",
    "motif_name",
    "tf_class",
    "start",
    "end",
    "strand",
    "score",
    "p_value",
    "site",
)
_N = 4  # token of N / IUPAC codes (all-zero one-hot row)


@dataclass(frozen=True)
class ScanDatabase:
    """Motifs prepared for scanning (see :func:`prepare_database`).

    Attributes
    ----------
    name
        The database's name (e.g. ``JASPAR2026 CORE plants``).
    motifs
        The source motifs, ``M`` of them.
    strand_motif, strand
        ``(S,)`` index into ``motifs`` and ``"+"``/``"-"`` of each scanned matrix
        (``S = 2M`` with both strands, else ``M``).
    widths
        ``(S,)`` matrix widths.
    col_owner, col_offset, col_scores
        One row per matrix column of every scanned matrix: its matrix ``(C,)``,
        its offset in the matrix ``(C,)``, and its log-odds scores ``(C, 5)``
        for A, C, G, T and N (0).
    table_offset, table_low, tables
        P-value tables: matrix ``s`` owns ``tables[table_offset[s]:table_offset[s+1]]``
        where entry ``k`` is ``P(S_bin >= table_low[s] + k)`` (``S_bin`` = score in
        bins of ``bin_size``).
    blocks
        ``blocks[j]``: ``(n_j, 5)`` scores of column ``j`` of the ``n_j`` matrices wider than ``j``
        (matrices are sorted widest first, so those are matrices ``0 .. n_j - 1``).
    pseudocount, bin_size, both_strands
        The settings it was prepared with.
    """

    name: str
    motifs: tuple[Motif, ...]
    strand_motif: np.ndarray
    strand: np.ndarray
    widths: np.ndarray
    col_owner: np.ndarray
    col_offset: np.ndarray
    col_scores: np.ndarray
    table_offset: np.ndarray
    table_low: np.ndarray
    tables: np.ndarray
    blocks: tuple[np.ndarray, ...] = ()
    pseudocount: float = 1e-4
    bin_size: float = 0.1
    both_strands: bool = True

    def __len__(self) -> int:
        return len(self.motifs)

    @property
    def max_width(self) -> int:
        """The widest motif's width in bp (0 for an empty database).

        Returns
        -------
        int
            ``max(widths)``.
        """
        return int(self.widths.max()) if len(self.widths) else 0


# ----------------------------------------------------------------------------- preparation


def _check_motif(m: Motif, i: int) -> np.ndarray:
    ppm = np.asarray(m.ppm, dtype=np.float64)
    if ppm.ndim != 2 or ppm.shape[1] != 4 or ppm.shape[0] < 1:
        raise DeepDifEInputError(f"motif {i + 1} ({m.id!r}): the PPM must be (W, 4) with W >= 1, got {ppm.shape}")
    if not np.all(np.isfinite(ppm)) or np.any(ppm < 0):
        raise DeepDifEInputError(f"motif {i + 1} ({m.id!r}): the PPM has negative, NaN or infinite entries")
    return ppm


def log_odds(ppm: np.ndarray, pseudocount: float = 1e-4) -> np.ndarray:
    """Compute FIMO's log-odds matrix ``(W, 4)``: ``log2(ppm + pseudocount) - log2(0.25)`` (bits).

    Parameters
    ----------
    ppm : numpy.ndarray
        ``(W, 4)`` base probabilities (A, C, G, T).
    pseudocount : float
        Added to every probability before the logarithm.

    Returns
    -------
    numpy.ndarray
        float64 ``(W, 4)`` scores in bits against uniform bases.
    """
    return np.log2(np.asarray(ppm, dtype=np.float64) + pseudocount) + 2.0


def null_survival(int_scores: np.ndarray) -> tuple[int, np.ndarray]:
    """Exact survival function of the summed integer scores of a motif under uniform bases.

    Parameters
    ----------
    int_scores
        ``(W, 4)`` integer scores (the log-odds matrix in bins).

    Returns
    -------
    low, sf
        ``sf[k] = P(sum >= low + k)`` for ``k = 0 .. max - low`` (``sf[0] = 1``).
    """
    lo = int_scores.min(axis=1)
    pmf = np.ones(1)
    for row, m in zip(int_scores, lo, strict=True):
        span = int(row.max() - m)
        new = np.zeros(len(pmf) + span)
        for s in row:
            k = int(s - m)
            new[k : k + len(pmf)] += 0.25 * pmf
        pmf = new
    sf = np.cumsum(pmf[::-1])[::-1]
    return int(lo.sum()), np.minimum(sf, 1.0)


def prepare_database(
    database: MotifDatabase | Sequence[Motif],
    *,
    pseudocount: float = 1e-4,
    bin_size: float = 0.1,
    both_strands: bool = True,
) -> ScanDatabase:
    """Log-odds matrices and exact p-value tables of every motif (do it once per database).

    Parameters
    ----------
    database
        A :class:`~deepdife_core.motifs.modisco.MotifDatabase` (e.g. ``jaspar_plants()``) or a list of motifs.
    pseudocount
        Added to the PPM before the logarithm (memelite's ``eps``).
    bin_size
        Resolution of the p-value tables, in bits (FIMO: 0.1).
    both_strands
        Also scan each motif's reverse complement.

    Returns
    -------
    ScanDatabase
    """
    motifs = tuple(database.motifs if isinstance(database, MotifDatabase) else database)
    name = database.name if isinstance(database, MotifDatabase) else "motifs"
    if not motifs:
        raise DeepDifEInputError(f"{name}: the motif database is empty")
    if not pseudocount > 0:
        raise DeepDifEInputError(f"pseudocount must be > 0, got {pseudocount}")
    if not bin_size > 0:
        raise DeepDifEInputError(f"bin_size must be > 0, got {bin_size}")
    mats = [log_odds(_check_motif(m, i), pseudocount) for i, m in enumerate(motifs)]
    # the reverse complement permutes each column's entries and reverses the columns: same null distribution
    null = [null_survival(np.round(m / bin_size).astype(np.int64)) for m in mats]
    source = np.arange(len(mats))
    strand = np.full(len(mats), "+")
    if both_strands:
        mats = mats + [m[::-1, ::-1] for m in mats]
        null = null + null
        source = np.concatenate([source, source])
        strand = np.concatenate([strand, np.full(len(motifs), "-")])
    # widest first, so the matrices still open at column offset j are always the first ones
    widths = np.array([len(m) for m in mats], dtype=np.int64)
    order = np.argsort(-widths, kind="stable")
    mats = [mats[k] for k in order]
    null = [null[k] for k in order]
    widths, source, strand = widths[order], source[order], strand[order]
    col_scores = np.zeros((int(widths.sum()), 5))
    col_scores[:, :4] = np.concatenate(mats)
    col_owner = np.repeat(np.arange(len(mats)), widths)
    col_offset = np.concatenate([np.arange(w) for w in widths])
    lows = np.asarray([low for low, _ in null], dtype=np.int64)
    table_offset = np.concatenate([[0], np.cumsum([len(sf) for _, sf in null])]).astype(np.int64)
    return ScanDatabase(
        name=name,
        motifs=motifs,
        strand_motif=source,
        strand=strand,
        widths=widths,
        col_owner=col_owner,
        col_offset=col_offset,
        col_scores=col_scores,
        table_offset=table_offset,
        table_low=lows,
        tables=np.concatenate([sf for _, sf in null]),
        blocks=tuple(col_scores[col_offset == j] for j in range(int(widths.max()))),
        pseudocount=float(pseudocount),
        bin_size=float(bin_size),
        both_strands=both_strands,
    )


# ----------------------------------------------------------------------------- scanning


def pvalue_of_score(db: ScanDatabase, matrix: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Look up the p-values of ``score`` (bits) for scanned matrices ``matrix`` (indices into ``db.widths``), any shape.

    The score is truncated to its bin as in FIMO (memelite); scores above the
    table get its smallest p-value, below it 1.

    Parameters
    ----------
    db : ScanDatabase
        A :func:`prepare_database` result (its exact null tables).
    matrix : numpy.ndarray
        int matrix indices, any shape (broadcast with ``score``).
    score : numpy.ndarray
        float scores in bits, the same shape as ``matrix``.

    Returns
    -------
    numpy.ndarray
        float64 p-values, the shape of ``matrix``/``score``.
    """
    matrix = np.asarray(matrix, dtype=np.int64)
    b = np.trunc(np.asarray(score, dtype=np.float64) / db.bin_size).astype(np.int64)
    k = b - db.table_low[matrix]
    size = db.table_offset[matrix + 1] - db.table_offset[matrix]
    k = np.clip(k, 0, size - 1)
    return db.tables[db.table_offset[matrix] + k]


def _tokens(sequences: np.ndarray | Sequence[str] | str) -> np.ndarray | list[np.ndarray]:
    """Integer tokens ``(N, L)`` (A, C, G, T = 0-3, N/IUPAC = 4) of one-hot arrays or strings (a list if ragged)."""
    if isinstance(sequences, str):
        sequences = [sequences]
    if isinstance(sequences, np.ndarray):
        x = sequences
    else:
        seqs = [str(s).upper() for s in sequences]
        for i, s in enumerate(seqs):
            bad = invalid_characters(s)
            if bad:
                raise DeepDifEInputError(
                    f"sequence {i + 1}: {sum(s.count(c) for c in bad)} characters are not DNA (e.g. {bad[0]!r}); "
                    "use A/C/G/T/N"
                )
        lengths = {len(s) for s in seqs}
        if len(lengths) > 1:
            return [_tokens(s)[0] for s in seqs]  # ragged: one row each
        x = one_hot(seqs) if seqs else np.zeros((0, 0, 4), dtype=np.float32)
    x = np.asarray(x)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[-1] != 4:
        raise DeepDifEInputError(f"expected sequences or a one-hot array (N, L, 4), got shape {x.shape}")
    return np.where(x.max(axis=-1) > 0, x.argmax(axis=-1), _N).astype(np.int64)


def _scan_tokens(db: ScanDatabase, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores ``(S, L)`` of every scanned matrix at every start, and where the matrix fits ``(S, L)``."""
    L = len(tokens)
    padded = np.concatenate([tokens, np.full(db.max_width, _N, dtype=np.int64)])
    scores = np.zeros((len(db.widths), L))
    for j, block in enumerate(db.blocks):
        # matrices are sorted widest first: the len(block) matrices with a column j are the first ones
        scores[: len(block)] += np.take(block, padded[j : j + L], axis=1)
    fits = np.arange(L)[None, :] <= (L - db.widths)[:, None]
    return scores, fits


def _check_scan(db: object, max_pvalue: float) -> None:
    """The checks every scan shares: a prepared database and a p-value threshold in ``(0, 1]``."""
    if not isinstance(db, ScanDatabase):
        raise DeepDifEInputError("db must be prepared with deepdife_core.motifs.scan.prepare_database")
    if not 0 < max_pvalue <= 1:
        raise DeepDifEInputError(f"max_pvalue must be in (0, 1], got {max_pvalue}")


def _threshold_bins(db: ScanDatabase, max_pvalue: float) -> np.ndarray:
    """Smallest score bin of each matrix whose p-value is ``<= max_pvalue`` (past the table if none)."""
    idx = np.arange(len(db.tables))
    first = np.minimum.reduceat(np.where(db.tables <= max_pvalue, idx, len(db.tables)), db.table_offset[:-1])
    return db.table_low + np.minimum(first, db.table_offset[1:]) - db.table_offset[:-1]


_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


def scan_sequences(
    sequences: np.ndarray | Sequence[str] | str,
    db: ScanDatabase,
    *,
    max_pvalue: float = 1e-4,
) -> pd.DataFrame:
    """Hits of every motif in every sequence with ``p_value <= max_pvalue``.

    Parameters
    ----------
    sequences
        One-hot ``(N, L, 4)`` / ``(L, 4)``, or DNA strings (any case; IUPAC codes score 0 like N).
    db
        A :func:`prepare_database` result.
    max_pvalue
        Largest p-value reported, in ``(0, 1]``.

    Returns
    -------
    pandas.DataFrame
        :data:`HIT_COLUMNS`: ``seq_idx`` (input order), ``motif_id``, ``motif_name``,
        ``tf_class``, ``start``, ``end`` (0-based, end exclusive, forward strand),
        ``strand`` (``"-"``: the motif's reverse complement matches), ``score`` (bits),
        ``p_value`` and ``site`` (the matched bases read in the motif's orientation);
        sorted by sequence, then p-value, then start.
    """
    _check_scan(db, max_pvalue)
    tokens = _tokens(sequences)
    frames = []
    letters = np.frombuffer(b"ACGTN", dtype=np.uint8)
    cut = _threshold_bins(db, max_pvalue)[:, None]
    for i, tok in enumerate(tokens):
        tok = np.asarray(tok, dtype=np.int64)
        if not len(tok):
            continue
        scores, fits = _scan_tokens(db, tok)
        # p is non-increasing in the score bin: compare bins, look p-values up for the hits only
        hit = fits & (np.trunc(scores / db.bin_size) >= cut)
        mat, start = np.nonzero(hit)
        pvals = pvalue_of_score(db, mat, scores[mat, start])
        # a score can round past the table's last bin: it gets that bin's p-value, which may be too large
        keep = pvals <= max_pvalue
        mat, start, pvals = mat[keep], start[keep], pvals[keep]
        if not len(mat):
            continue
        text = letters[tok].tobytes().decode("ascii")
        end = start + db.widths[mat]
        strand = db.strand[mat]
        sites = [
            text[s:e] if st == "+" else text[s:e].translate(_COMPLEMENT)[::-1]
            for s, e, st in zip(start, end, strand, strict=True)
        ]
        src = db.strand_motif[mat]
        frames.append(
            pd.DataFrame(
                {
                    "seq_idx": i,
                    "motif_id": [db.motifs[k].id for k in src],
                    "motif_name": [db.motifs[k].name for k in src],
                    "tf_class": [db.motifs[k].tf_class for k in src],
                    "start": start.astype(np.int64),
                    "end": end.astype(np.int64),
                    "strand": strand,
                    "score": scores[mat, start],
                    "p_value": pvals,
                    "site": sites,
                }
            )
        )
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=_DTYPES[c]) for c in HIT_COLUMNS})
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["seq_idx", "p_value", "start"], kind="stable").reset_index(drop=True)


_DTYPES = {
    "seq_idx": "int64",
    "motif_id": "object",
    "motif_name": "object",
    "tf_class": "object",
    "start": "int64",
    "end": "int64",
    "strand": "object",
    "score": "float64",
    "p_value": "float64",
    "site": "object",
}


def scan_sequence(sequence: str | np.ndarray, db: ScanDatabase, *, max_pvalue: float = 1e-4) -> pd.DataFrame:
    """Find the hits in one sequence (a string or one-hot ``(L, 4)``); :func:`scan_sequences` without ``seq_idx``.

    Parameters
    ----------
    sequence : str or numpy.ndarray
        One DNA string or a one-hot float ``(L, 4)`` array.
    db : ScanDatabase
        A :func:`prepare_database` result.
    max_pvalue : float
        Largest p-value reported, in ``(0, 1]``.

    Returns
    -------
    pandas.DataFrame
        :data:`HIT_COLUMNS` without ``seq_idx``, as :func:`scan_sequences` sorts them.

    Raises
    ------
    DeepDifEInputError
        If a one-hot array is not 2-D.
    """
    if isinstance(sequence, np.ndarray) and sequence.ndim != 2:
        raise DeepDifEInputError(f"expected one sequence (L, 4), got shape {sequence.shape}")
    return scan_sequences(sequence, db, max_pvalue=max_pvalue).drop(columns="seq_idx")


# ----------------------------------------------------------------------------- hits touching given positions

_SEED_Q = 5  # bases per seed block (codes over A, C, G, T, N: 5**5 of them)
_SEED_BLOCKS = 4  # blocks per matrix whose tables bound a site's score
_SEED_MARGIN = 1e-3  # bits: the bounds never drop a site the exact float64 score keeps
_NO_SEED = np.int16(-30000)  # a side whose seed was not looked up: below every need (5 blocks of >= -128)
_TOKEN_LUT = np.full(256, -1, dtype=np.int8)
for _c in "ACGTNRYSWKMBDHV-":
    _TOKEN_LUT[ord(_c)] = _TOKEN_LUT[ord(_c.lower())] = "ACGT".index(_c) if _c in "ACGT" else _N


@dataclass(frozen=True)
class TouchingHits:
    """Hits of :func:`touching_hits`, one entry per site (a hit touching several anchors appears once per anchor).

    Attributes
    ----------
    seq_idx, matrix, start
        ``(H,)`` int64: the sequence, the scanned matrix (index into ``db.widths``) and the
        site's 0-based start in its sequence (end: ``start + db.widths[matrix]``).
    score, p_value
        ``(H,)`` float64, exactly as :func:`scan_sequences` reports them.
    """

    seq_idx: np.ndarray
    matrix: np.ndarray
    start: np.ndarray
    score: np.ndarray
    p_value: np.ndarray


@dataclass(frozen=True)
class _SeedIndex:
    """Per matrix blocks of columns whose score tables (quarter bits) bound every site's score from above.

    ``entries[indptr[k]:indptr[k + 1]]`` are the matrices whose first block, started at
    ``anchor + d`` (``k = (d - dmin) * 5**q + code``) with the anchor inside the site, can still
    reach the threshold, with the second block's start minus the first's (``entry_shift``) and the
    first block's score in quarter bits (``entry_score``).
    """

    q: int
    cut: np.ndarray
    c1: np.ndarray
    starts: tuple[np.ndarray, ...]
    tables: tuple[np.ndarray, ...]
    needs: tuple[np.ndarray, ...]
    widths: np.ndarray
    col0: np.ndarray
    sufmax: np.ndarray
    thr: np.ndarray
    dmin: int
    nd: int
    indptr: np.ndarray
    entries: np.ndarray
    entry_score: np.ndarray
    entry_shift: np.ndarray


_SEED_CACHE: dict[tuple[int, float], _SeedIndex] = {}


def _seed_index(db: ScanDatabase, max_pvalue: float) -> _SeedIndex:
    """The seed index of ``db`` at ``max_pvalue``, built once per (database object, threshold)."""
    key = (id(db), float(max_pvalue))
    if key not in _SEED_CACHE:
        _SEED_CACHE[key] = _build_seed_index(db, max_pvalue)
        weakref.finalize(db, _SEED_CACHE.pop, key, None)
    return _SEED_CACHE[key]


def _build_seed_index(db: ScanDatabase, max_pvalue: float) -> _SeedIndex:
    q, n_mat, wmax = _SEED_Q, len(db.widths), db.max_width
    n_codes = 5**q
    # columns padded with zeros past each matrix's width (a block may stick out of a narrow matrix)
    cols = np.zeros((n_mat, wmax + 2 * q, 5))
    cols[db.col_owner, db.col_offset] = db.col_scores
    colmax = cols.max(axis=2)  # >= 0: the best base of a column scores >= log2(0.25 + eps) + 2 > 0, N scores 0
    total = colmax.sum(axis=1)
    cut = _threshold_bins(db, max_pvalue)
    sizes = db.table_offset[1:] - db.table_offset[:-1]
    # a matrix whose best bin still has p > max_pvalue never hits
    can_hit = db.tables[db.table_offset[1:] - 1] <= max_pvalue
    # trunc(score / bin) >= cut needs score >= cut * bin (cut >= 1), or score > (cut - 1) * bin
    thr = (cut - (cut <= 0)) * db.bin_size - _SEED_MARGIN
    thr = np.where(can_hit & (cut - db.table_low < sizes), thr, np.inf)
    rows = np.arange(n_mat)

    def table(c: np.ndarray) -> np.ndarray:  # (S, 5**q): code = sum of digit_k * 5**(q-1-k)
        t = np.zeros((n_mat, 1))
        for k in range(q):
            t = (t[:, :, None] + cols[rows, c + k][:, None, :]).reshape(n_mat, -1)
        return t

    def block_max(c: np.ndarray) -> np.ndarray:
        return sum(colmax[rows, c + k] for k in range(q))

    # blocks: the windows whose best base stands out most from the average one (the most selective seeds)
    gain = colmax - cols[:, :, :4].mean(axis=2)
    win = sum(gain[:, k : k + wmax] for k in range(q))  # (S, wmax): block started at c
    c = np.arange(wmax)[None, :]
    w_ = db.widths[:, None]
    c1 = np.argmax(np.where((c + q <= w_) | (c == 0), win, -np.inf), axis=1)
    taken = np.zeros((n_mat, wmax + 2 * q), dtype=bool)
    taken[rows[:, None], c1[:, None] + np.arange(q)] = True
    t1 = table(c1)
    rest1 = total - block_max(c1)
    # further blocks, each the best window disjoint from those before (a zero table where there is none)
    starts, tabs, needs, rest = [], [], [], rest1
    for _ in range(_SEED_BLOCKS - 1):
        free = sum(taken[:, k : k + wmax] for k in range(q)) == 0
        ok = (c < w_) & free
        has = ok.any(axis=1)
        ck = np.where(has, np.argmax(np.where(ok, win, -np.inf), axis=1), 0)
        taken[rows[has, None], ck[has, None] + np.arange(q)] = True
        rest = rest - np.where(has, block_max(ck), 0.0)
        starts.append(ck.astype(np.int32))
        tabs.append(_quarter_bits(np.where(has[:, None], table(ck), 0.0), np.ceil, np.int8).ravel())
        needs.append(_quarter_bits(thr - rest, np.floor, np.int16))
    # seed lists: (matrix, code) pairs whose first block can reach the threshold, one per anchor offset d
    m, x = np.nonzero(t1 + rest1[:, None] >= thr[:, None])
    m, x = m.astype(np.int32), x.astype(np.int32)
    w = db.widths[m].astype(np.int32)
    reps = np.repeat(np.arange(len(m), dtype=np.int32), w)
    dmin = -(wmax - 1)
    nd = int(c1.max()) - dmin + 1
    # the anchor's column in the site j = 0 .. w-1; the block starts d = c1 - j from the anchor
    keys = np.arange(len(reps), dtype=np.int32) - np.repeat(np.cumsum(w, dtype=np.int32) - w, w)
    np.subtract(c1.astype(np.int32)[m][reps] - dmin, keys, out=keys)
    keys *= n_codes
    keys += x[reps]
    order = np.argsort(keys, kind="stable")
    indptr = np.zeros(nd * n_codes + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=nd * n_codes), out=indptr[1:])
    pair_score = _quarter_bits(t1[m, x], np.ceil, np.int16)
    del keys, x, t1
    entry = reps[order]  # the (matrix, code) pair of every list entry
    del reps, order
    m_rep = m[entry]
    return _SeedIndex(
        q=q,
        cut=cut,
        c1=c1.astype(np.int32),
        starts=tuple(starts),
        tables=tuple(tabs),
        needs=tuple(needs),
        widths=db.widths.astype(np.int32),
        col0=np.concatenate([[0], np.cumsum(db.widths)[:-1]]).astype(np.int32),
        sufmax=np.concatenate(
            [np.cumsum(colmax[:, :wmax][:, ::-1], axis=1)[:, ::-1], np.zeros((n_mat, 1))], axis=1
        ).ravel(),
        thr=thr.astype(np.float32),
        dmin=dmin,
        nd=nd,
        indptr=indptr,
        entries=m_rep.astype(np.int16 if n_mat < 2**15 else np.int32),
        entry_score=pair_score[entry],
        entry_shift=(starts[0] - c1).astype(np.int8)[m_rep],
    )


def _quarter_bits(x: np.ndarray, rounding, dtype) -> np.ndarray:
    """Scores in quarter bits, rounded up (bounds) or down (needs), clipped into ``dtype`` (int8 tables gather fast).

    Clipping a bound up keeps it a bound; a need clipped to the type's top is one no site reaches.
    """
    info = np.iinfo(dtype)
    with np.errstate(invalid="ignore", over="ignore"):
        q = rounding(np.asarray(x, dtype=np.float64) * 4.0)
    return np.clip(np.nan_to_num(q, posinf=info.max, neginf=info.min), info.min, info.max).astype(dtype)


def _string_tokens(sequences: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Tokens of the joined sequences (int8, A, C, G, T = 0-3, other IUPAC = 4) and each one's start ``(N + 1,)``."""
    text = "".join(sequences)
    bounds = np.zeros(len(sequences) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in sequences], out=bounds[1:])
    if not text.isascii():
        raw = np.frombuffer(text.encode("utf-8", "replace"), dtype=np.uint8)
        tok = np.full(len(text), -1, dtype=np.int8)
    else:
        raw = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
        tok = _TOKEN_LUT[raw]
    if (tok < 0).any():
        i = int(np.searchsorted(bounds, int(np.argmax(tok < 0)), side="right")) - 1
        bad = invalid_characters(sequences[i].upper())
        raise DeepDifEInputError(
            f"sequence {i + 1}: {sum(sequences[i].upper().count(c) for c in bad)} characters are not DNA "
            f"(e.g. {bad[0]!r}); use A/C/G/T/N"
        )
    return tok, bounds


def touching_hits(
    sequences: Sequence[str],
    offsets: np.ndarray | Sequence[int],
    spans: np.ndarray | Sequence[int],
    db: ScanDatabase,
    *,
    max_pvalue: float = 1e-4,
    group: int = 2048,
) -> TouchingHits:
    """The hits of :func:`scan_sequences` in each sequence whose site touches ``[offset, offset + span)``.

    The same sites, scores and p-values as scanning every sequence alone and keeping the hits with
    ``start < offset + span`` and ``end > offset``, without scoring every start: a seed index built
    once per database and threshold (~0.7 s, ~40 MB: per matrix a 5-column seed block listed by its
    bases, then four more blocks whose score tables bound a site's score) leaves ~20 of the ~1,100
    candidate sites per sequence to score exactly (JASPAR CORE plants, ``max_pvalue=1e-4``): ~25 us
    per 60-bp sequence on one core.

    Parameters
    ----------
    sequences : sequence of str
        ``N`` DNA strings (any case; IUPAC codes score 0 like N).
    offsets : array_like of int
        ``(N,)`` first touched position in each sequence.
    spans : array_like of int
        ``(N,)`` touched positions (``>= 1``).
    db : ScanDatabase
        A :func:`prepare_database` result.
    max_pvalue : float
        Largest p-value reported, in ``(0, 1]``.
    group : int
        Sequences handled together (bounds memory: ~30 kB per sequence).

    Returns
    -------
    TouchingHits
        ``(H,)`` arrays; a site touching several positions of a span may appear more than once.
    """
    _check_scan(db, max_pvalue)
    offsets = np.asarray(offsets, dtype=np.int64).reshape(-1)
    spans = np.asarray(spans, dtype=np.int64).reshape(-1)
    if not len(offsets) == len(spans) == len(sequences):
        raise DeepDifEInputError(
            f"offsets and spans need one entry per sequence ({len(sequences)}), got {len(offsets)} and {len(spans)}"
        )
    ix = _seed_index(db, max_pvalue)
    out = []
    for g0 in range(0, len(sequences), max(int(group), 1)):
        part = list(sequences[g0 : g0 + group])
        out.append(_touching_group(db, ix, part, offsets[g0 : g0 + group], spans[g0 : g0 + group], max_pvalue)[0])
        out[-1][0] += g0
    if not out:
        out = [[np.zeros(0, np.int64)] * 3 + [np.zeros(0)] * 2]
    return TouchingHits(*(np.concatenate([o[k] for o in out]) for k in range(5)))


def touching_snv_hits(
    sequences: Sequence[str],
    offsets: np.ndarray | Sequence[int],
    alt_bases: Sequence[str],
    db: ScanDatabase,
    *,
    max_pvalue: float = 1e-4,
    group: int = 2048,
) -> tuple[TouchingHits, TouchingHits]:
    """:func:`touching_hits` at a single base, in each sequence and in it with that base replaced.

    The same hits as ``touching_hits(sequences, offsets, 1)`` and as ``touching_hits(alternatives,
    offsets, 1)`` (``alternatives[i]`` = ``sequences[i]`` with ``alt_bases[i]`` at ``offsets[i]``), for
    less work than both (~45 us instead of ~50 us per pair): the seeds that do not read the replaced
    base serve both sequences.

    Parameters
    ----------
    sequences : sequence of str
        ``N`` DNA strings (any case; IUPAC codes score 0 like N).
    offsets : array_like of int
        ``(N,)`` the replaced position in each sequence, ``0 <= offset < len``.
    alt_bases : sequence of str
        ``N`` single bases.
    db : ScanDatabase
        A :func:`prepare_database` result.
    max_pvalue : float
        Largest p-value reported, in ``(0, 1]``.
    group : int
        Sequences handled together (bounds memory: ~40 kB per sequence).

    Returns
    -------
    tuple of TouchingHits
        The hits in the sequences, and those in the alternatives (``seq_idx`` into ``sequences``).
    """
    _check_scan(db, max_pvalue)
    offsets = np.asarray(offsets, dtype=np.int64).reshape(-1)
    lengths = np.array([len(x) for x in sequences], dtype=np.int64)
    if not len(offsets) == len(alt_bases) == len(sequences):
        raise DeepDifEInputError(
            f"offsets and alt_bases need one entry per sequence ({len(sequences)}), "
            f"got {len(offsets)} and {len(alt_bases)}"
        )
    if np.any((offsets < 0) | (offsets >= lengths)) or any(len(b) != 1 for b in alt_bases):
        raise DeepDifEInputError("every offset must lie inside its sequence, and every alt_base be one base")
    alt_tok, _ = _string_tokens(list(alt_bases))
    ix = _seed_index(db, max_pvalue)
    out: list[list[list[np.ndarray]]] = [[], []]
    for g0 in range(0, len(sequences), max(int(group), 1)):
        sl = slice(g0, g0 + group)
        for side, hits in zip(
            out,
            _touching_group(
                db, ix, list(sequences[sl]), offsets[sl], np.ones(len(offsets[sl]), np.int64), max_pvalue, alt_tok[sl]
            ),
            strict=True,
        ):
            hits[0] += g0
            side.append(hits)
    empty = [np.zeros(0, np.int64)] * 3 + [np.zeros(0)] * 2
    return tuple(TouchingHits(*(np.concatenate([o[k] for o in side or [empty]]) for k in range(5))) for side in out)


def _touching_group(db, ix, seqs, offsets, spans, max_pvalue, alt_tokens=None) -> list[list[np.ndarray]]:
    """Hits of one group: ``[hits]``, or ``[ref hits, alt hits]`` when ``alt_tokens`` replaces the anchor bases."""
    q, n_codes, wmax = ix.q, 5**ix.q, db.max_width
    tok, bounds = _string_tokens(seqs)
    pad_l, pad_r = wmax, wmax + 2 * q
    tok = np.concatenate([np.full(pad_l, _N, np.int8), tok, np.full(pad_r, _N, np.int8)])
    lo, hi = (bounds[:-1] + pad_l).astype(np.int32), (bounds[1:] + pad_l).astype(np.int32)  # [lo, hi) in tok
    # base-5 code of the q bases from every position
    code = np.zeros(len(tok) - q, dtype=np.int32)
    for k in range(q):
        code = code * 5 + tok[k : len(tok) - q + k]
    # anchors: every touched position (inside its sequence)
    spans = np.maximum(spans, 1)
    a_seq = np.repeat(np.arange(len(seqs), dtype=np.int32), spans)
    a_pos = lo[a_seq] + np.repeat(offsets, spans) + np.arange(len(a_seq)) - np.repeat(np.cumsum(spans) - spans, spans)
    keep = (a_pos >= lo[a_seq]) & (a_pos < hi[a_seq])
    a_seq, a_pos = a_seq[keep], a_pos[keep].astype(np.int32)
    toks, codes = [tok], [code]
    if alt_tokens is not None:  # the alternative sequences: the anchor's base replaced (one anchor each)
        alt = tok.copy()
        alt[a_pos] = alt_tokens[a_seq]
        change = alt[a_pos].astype(np.int32) - tok[a_pos]
        code_alt = code.copy()
        for k in range(q):  # the codes whose window holds the anchor as digit k
            code_alt[a_pos - k] += change * 5 ** (q - 1 - k)
        toks, codes = [tok, alt], [code, code_alt]
    # seed keys: the first block starts d bases from the anchor, inside the sequence (it lies inside the site)
    d = np.arange(ix.dmin, ix.dmin + ix.nd, dtype=np.int32)
    p = (a_pos[:, None] + d[None, :]).ravel()
    a_lo, a_hi = np.repeat(lo[a_seq], ix.nd), np.repeat(hi[a_seq], ix.nd)
    inside = (p >= a_lo) & (p < a_hi)
    p = p[inside]
    dkey = np.tile(np.arange(ix.nd, dtype=np.int32) * n_codes, len(a_pos))[inside]
    keys = dkey + code[p]
    sides = [np.ones(len(keys), dtype=bool)]
    if len(codes) == 2:
        # a seed block away from the anchor reads the same bases in both: its list serves both sequences;
        # one over the anchor is looked up again with the alternative base (for the alternative only)
        over = np.tile((d > -q) & (d <= 0), len(a_pos))[inside]
        keys = np.concatenate([keys, dkey[over] + code_alt[p[over]]])
        p = np.concatenate([p, p[over]])
        sides = [
            np.concatenate([sides[0], np.zeros(over.sum(), bool)]),
            np.concatenate([~over, np.ones(over.sum(), bool)]),
        ]
    first, cnt = ix.indptr[keys], ix.indptr[keys + 1] - ix.indptr[keys]
    idx = np.repeat((first - np.cumsum(cnt) + cnt).astype(np.int32), cnt) + np.arange(int(cnt.sum()), dtype=np.int32)
    pos = np.repeat(p, cnt)  # the first block's start
    m = ix.entries[idx].astype(np.int32)
    # the second block, its start relative to the first one's looked up per index entry
    seed, b = ix.entry_score[idx], m * n_codes
    at = pos + ix.entry_shift[idx]
    parts = [np.where(np.repeat(f, cnt), seed, _NO_SEED) for f in sides] if len(codes) == 2 else [seed]
    parts = [pt + ix.tables[0][b + c[at]] for pt, c in zip(parts, codes, strict=True)]
    ok = np.flatnonzero(_best(parts) >= ix.needs[0][m])  # ~15% pass: indices, then takes
    m, pos, parts = m[ok], pos[ok], [pt[ok] for pt in parts]
    s = pos - ix.c1[m]
    # further filters, one block at a time: the blocks' table scores plus the best of the other columns
    # (codes outside the sequence still lie in the padded tokens; those sites go below)
    for start, table, need in zip(ix.starts[1:], ix.tables[1:], ix.needs[1:], strict=True):
        b, at = m * n_codes, s + start[m]
        parts = [pt + table[b + c[at]] for pt, c in zip(parts, codes, strict=True)]
        ok = np.flatnonzero(_best(parts) >= need[m])
        m, s, parts = m[ok], s[ok], [pt[ok] for pt in parts]
    # a site lies wholly inside the sequence of its anchor, which is the sequence its start is in
    w = ix.widths[m]
    c_seq = (np.searchsorted(lo, s, side="right") - 1).astype(np.int32)
    ok = (c_seq >= 0) & (s + w <= hi[c_seq])
    # exact scores, summed column by column in the order of _scan_tokens; the widest first, so the
    # sites with a column j are a prefix; every 4 columns, sites that cannot reach the threshold go
    order = np.flatnonzero(ok)[np.argsort(-w[ok], kind="stable")]
    m, s, c_seq, w = m[order], s[order], c_seq[order], w[order]
    col = ix.col0[m] * 5
    flat = db.col_scores.ravel()
    scores = [np.zeros(len(m)) for _ in toks]
    for j in range(wmax):
        n = int(np.searchsorted(-w, -j, side="left"))  # sites wider than j
        if not n:
            break
        for score, t in zip(scores, toks, strict=True):
            score[:n] += flat[col[:n] + t[s[:n] + j]]
        col[:n] += 5
        if j % 4 == 3:
            alive = np.flatnonzero(_best(scores) + ix.sufmax[m * (wmax + 1) + np.minimum(j + 1, w)] >= ix.thr[m])
            m, s, c_seq, w, col = m[alive], s[alive], c_seq[alive], w[alive], col[alive]
            scores = [score[alive] for score in scores]
    out = []
    for score in scores:
        hit = np.trunc(score / db.bin_size) >= ix.cut[m]
        mh, sh, ch, score = m[hit], s[hit], c_seq[hit], score[hit]
        pv = pvalue_of_score(db, mh, score)
        keep = pv <= max_pvalue
        ch, mh = ch[keep].astype(np.int64), mh[keep].astype(np.int64)
        out.append([ch, mh, sh[keep].astype(np.int64) - lo[ch], score[keep], pv[keep]])
    return out


def _best(parts: list[np.ndarray]) -> np.ndarray:
    return parts[0] if len(parts) == 1 else np.maximum(parts[0], parts[1])
