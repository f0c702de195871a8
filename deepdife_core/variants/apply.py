"""Alleles applied to a promoter window and the result fitted to the model's input length."""

from __future__ import annotations

from collections.abc import Sequence

from deepdife_core.data.encode import pad_or_trim
from deepdife_core.genome.fasta import reverse_complement


def apply_alleles(fwd: str, lo: int, alleles: Sequence) -> str:
    """The forward-strand window ``fwd`` (genome ``[lo, lo + len(fwd))``) with ``alleles`` applied.

    Parameters
    ----------
    fwd
        Reference bases of the window on the genome's forward strand.
    lo
        0-based genome coordinate of ``fwd[0]``.
    alleles
        Objects with ``pos0`` (0-based), ``ref`` and ``alt``; REF must match ``fwd``.  Applied in
        position order; one overlapping an earlier-applied allele is dropped.

    Returns
    -------
    str
        The edited window (its length changes by the indels).
    """
    parts, cursor = [], 0
    for a in sorted(alleles, key=lambda a: a.pos0):
        i = a.pos0 - lo
        if i < cursor:
            continue
        parts.append(fwd[cursor:i])
        parts.append(a.alt)
        cursor = i + len(a.ref)
    parts.append(fwd[cursor:])
    return "".join(parts)


def model_input(fwd: str, strand: str, length: int, pad_side: str = "left") -> str:
    """A forward-strand window read 5'->3' on ``strand`` and fitted to ``length`` (:func:`pad_or_trim`).

    Parameters
    ----------
    fwd
        Window bases, genome forward strand.
    strand
        ``+`` or ``-`` (reverse complement).
    length
        The model's input length.
    pad_side
        The model's :class:`~deepdife_core.config.DatasetConfig` ``pad_side``.

    Returns
    -------
    str
        ``length`` letters.
    """
    seq = reverse_complement(fwd) if strand == "-" else fwd
    return pad_or_trim(seq, length, side=pad_side)


def model_span(pos0: int, ref_len: int, lo: int, width: int, strand: str, length: int, pad_side: str = "left"):
    """Where the REF bases sit in the reference model input: ``(start, end)``, clipped to ``[0, length)``.

    Parameters
    ----------
    pos0, ref_len
        The allele's 0-based genome position and REF length.
    lo, width
        The window's genome start and length.
    strand
        The gene's strand.
    length, pad_side
        The model input length and how the window is fitted to it.

    Returns
    -------
    tuple of int, int
        0-based, end exclusive; ``start == end`` when the site was trimmed off.
    """
    i = pos0 - lo
    j0, j1 = (i, i + ref_len) if strand == "+" else (width - i - ref_len, width - i)
    shift = (length - width) if pad_side == "left" else 0
    a, b = max(j0 + shift, 0), min(j1 + shift, length)
    return (a, b) if b > a else (0, 0)
