"""Sequence encoding.

Contract
--------
One-hot arrays are ``float32`` of shape ``(N, L, 4)`` with channels in the order
A, C, G, T.  N and the other IUPAC ambiguity codes are all-zero rows.  Because the
order is A, C, G, T, the reverse complement of a one-hot array is ``x[:, ::-1, ::-1]``.

Sequences are fitted to a fixed length ``L`` by :func:`pad_or_trim`: promoters
end at the transcription start site (TSS), so the TSS-proximal 3' end is kept.
Longer sequences are trimmed at the 5' (left) end, shorter ones are padded with
``N`` on the 5' (left) end, so position ``L-1`` is always the base next to the TSS.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from deepdife_core.errors import DeepDifEInputError

ALPHABET = "ACGT"
#: characters accepted in a sequence (DNA + IUPAC ambiguity codes + gap)
VALID_CHARS = frozenset("ACGTNRYSWKMBDHV-")

_LUT = np.full(256, 4, dtype=np.uint8)  # 4 = all-zero row
for _i, _c in enumerate(ALPHABET):
    _LUT[ord(_c)] = _i
    _LUT[ord(_c.lower())] = _i
_EYE = np.vstack([np.eye(4, dtype=np.float32), np.zeros((1, 4), dtype=np.float32)])

_VALID_LUT = np.zeros(256, dtype=bool)
for _c in VALID_CHARS:
    _VALID_LUT[ord(_c)] = True
    _VALID_LUT[ord(_c.lower())] = True

_COMPLEMENT = str.maketrans("ACGTNRYSWKMBDHVacgtnryswkmbdhv-", "TGCANYRSWMKVHDBtgcanyrswmkvhdb-")


def invalid_characters(seq: str) -> list[str]:
    """Return the distinct characters of ``seq`` that are not DNA/IUPAC codes.

    Parameters
    ----------
    seq : str
        A sequence.

    Returns
    -------
    list of str
        The offending characters, sorted; empty for a valid sequence.
    """
    if not seq.isascii():  # rare: name the real characters, not their replacement '?'
        return sorted({c for c in seq if not c.isascii() or not _VALID_LUT[ord(c)]})
    raw = np.frombuffer(seq.encode("ascii"), dtype=np.uint8)
    bad = raw[~_VALID_LUT[raw]]
    return sorted({chr(b) for b in np.unique(bad)})


def pad_or_trim(seq: str, length: int, *, side: str = "left") -> str:
    """Fit ``seq`` to ``length``, keeping the TSS-proximal (3') end.

    Parameters
    ----------
    seq : str
        DNA sequence, 5'->3', ending at the TSS.
    length : int
        Target length ``L`` (> 0).
    side : {"left", "right"}, optional
        Where padding/trimming happens: ``"left"`` (5' end, default; keeps the
        TSS at position ``L-1``) or ``"right"`` (3' end).

    Returns
    -------
    str
        ``seq`` trimmed or padded with ``N`` to exactly ``length`` characters.

    Raises
    ------
    DeepDifEInputError
        If ``length`` is not positive or ``side`` is not ``"left"``/``"right"``.
    """
    if length <= 0:
        raise DeepDifEInputError(f"sequence length must be positive, got {length}")
    if side not in ("left", "right"):
        raise DeepDifEInputError(f"side must be 'left' or 'right', got {side!r}")
    n = len(seq)
    if n == length:
        return seq
    if n > length:
        return seq[n - length :] if side == "left" else seq[:length]
    pad = "N" * (length - n)
    return pad + seq if side == "left" else seq + pad


def one_hot(seqs: Sequence[str] | str, length: int | None = None) -> np.ndarray:
    """One-hot encode DNA sequences with a lookup table.

    Parameters
    ----------
    seqs
        One sequence or a sequence of equal-length sequences (any case).
    length
        If given, every sequence is first fitted with :func:`pad_or_trim`.

    Returns
    -------
    numpy.ndarray
        ``float32`` array of shape ``(N, L, 4)`` (``(L, 4)`` for a single string).
    """
    single = isinstance(seqs, str)
    items = [seqs] if single else list(seqs)
    if length is not None:
        items = [pad_or_trim(s, length) for s in items]
    if not items:
        return np.zeros((0, length or 0, 4), dtype=np.float32)
    lengths = {len(s) for s in items}
    if len(lengths) != 1:
        raise DeepDifEInputError(
            f"sequences have different lengths {sorted(lengths)[:5]}; pass length= to pad or trim them"
        )
    (L,) = lengths
    raw = np.frombuffer("".join(items).encode("latin-1", errors="replace"), dtype=np.uint8)
    x = np.take(_EYE, np.take(_LUT, raw), axis=0).reshape(len(items), L, 4)
    return x[0] if single else x


def one_hot_batch(x: np.ndarray) -> tuple[np.ndarray, bool]:
    """A one-hot batch ``(N, L, 4)`` from a batch or one ``(L, 4)`` sequence.

    Parameters
    ----------
    x : numpy.ndarray
        One-hot ``(N, L, 4)`` or ``(L, 4)``.

    Returns
    -------
    batch : numpy.ndarray
        ``x`` as an array ``(N, L, 4)`` (one sequence: ``(1, L, 4)``).
    single : bool
        True when ``x`` was one ``(L, 4)`` sequence.

    Raises
    ------
    DeepDifEInputError
        If ``x`` is not of shape ``(N, L, 4)`` or ``(L, 4)``.
    """
    arr = np.asarray(x)
    single = arr.ndim == 2
    if single:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[-1] != 4:
        raise DeepDifEInputError(f"expected a one-hot array (N, L, 4), got shape {arr.shape}")
    return arr, single


def decode(x: np.ndarray) -> list[str] | str:
    """Turn a one-hot array back into strings (all-zero rows -> ``N``).

    Parameters
    ----------
    x : numpy.ndarray
        One-hot ``(N, L, 4)`` or ``(L, 4)``, channels A, C, G, T; a row's largest channel
        wins.

    Returns
    -------
    list of str or str
        ``N`` strings of length ``L`` for a batch, one string for a single ``(L, 4)`` array.

    Raises
    ------
    DeepDifEInputError
        If ``x`` is not of shape ``(N, L, 4)`` or ``(L, 4)``.
    """
    arr, single = one_hot_batch(x)
    idx = np.where(arr.max(axis=-1) > 0, arr.argmax(axis=-1), 4)
    letters = np.frombuffer(b"ACGTN", dtype=np.uint8)[idx]
    out = [row.tobytes().decode("ascii") for row in letters]
    return out[0] if single else out


def reverse_complement(x: np.ndarray | str) -> np.ndarray | str:
    """Reverse complement of a one-hot array or of a string.

    Parameters
    ----------
    x : numpy.ndarray or str
        One-hot ``(..., L, 4)`` (channels A, C, G, T) or a DNA string (IUPAC codes
        complemented, case kept).

    Returns
    -------
    numpy.ndarray or str
        The reverse complement: a view with the sequence and channel axes reversed, same
        shape and dtype, or a string.
    """
    if isinstance(x, str):
        return x.translate(_COMPLEMENT)[::-1]
    arr = np.asarray(x)
    return arr[..., ::-1, ::-1]


def pad_one_hot(x: np.ndarray, left: int, right: int) -> np.ndarray:
    """Add ``left``/``right`` all-zero (N) rows to a one-hot batch.

    Parameters
    ----------
    x : numpy.ndarray
        One-hot batch ``(N, L, 4)``.
    left, right : int
        Rows added before and after the sequence axis.

    Returns
    -------
    numpy.ndarray
        ``(N, left + L + right, 4)``, same dtype; ``x`` itself when both are 0.
    """
    if left == 0 and right == 0:
        return x
    return np.pad(x, ((0, 0), (left, right), (0, 0)))


def gc_content(seqs: Iterable[str]) -> np.ndarray:
    """GC fraction of the called (non-N) bases of each sequence.

    Parameters
    ----------
    seqs : iterable of str
        DNA sequences (any case).

    Returns
    -------
    numpy.ndarray
        float64 ``(n,)``; 0.0 for a sequence with no called base.
    """
    out = []
    for s in seqs:
        raw = np.frombuffer(s.upper().encode("latin-1", errors="replace"), dtype=np.uint8)
        idx = _LUT[raw]
        called = idx < 4
        out.append(float(np.isin(idx[called], (1, 2)).mean()) if called.any() else 0.0)
    return np.asarray(out)


def n_fraction(seqs: Iterable[str]) -> np.ndarray:
    """Fraction of positions that are not A/C/G/T in each sequence.

    Parameters
    ----------
    seqs : iterable of str
        DNA sequences.

    Returns
    -------
    numpy.ndarray
        float64 ``(n,)``; 1.0 for an empty sequence.
    """
    return np.asarray(
        [
            float((_LUT[np.frombuffer(s.encode("latin-1", errors="replace"), dtype=np.uint8)] == 4).mean())
            if s
            else 1.0
            for s in seqs
        ]
    )
