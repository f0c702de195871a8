"""Haplotype mode: the gene x sample probability matrix (each sample's ALT alleles applied together)."""

from __future__ import annotations

import pandas as pd


def sample_matrix(chunks: list[pd.DataFrame]) -> pd.DataFrame:
    """Chunks' haplotype rows as one matrix, genes in chunk order.

    Parameters
    ----------
    chunks
        Per chunk, ``gene_id``, ``reference`` and one float column per sample (probabilities).

    Returns
    -------
    pandas.DataFrame
        ``(genes, 2 + samples)``; add ``delta_<sample>`` with :func:`deltas` to sort by change.
    """
    chunks = [c for c in chunks if c is not None]
    if not chunks:
        return pd.DataFrame({"gene_id": pd.Series(dtype=object), "reference": pd.Series(dtype=float)})
    return pd.concat(chunks, ignore_index=True)


def deltas(matrix: pd.DataFrame) -> pd.DataFrame:
    """Each sample's probability minus the reference, same shape as the sample columns.

    Parameters
    ----------
    matrix
        A :func:`sample_matrix` result.

    Returns
    -------
    pandas.DataFrame
        ``gene_id`` and one ``delta_<sample>`` column per sample.
    """
    samples = [c for c in matrix.columns if c not in ("gene_id", "reference")]
    out = pd.DataFrame({"gene_id": matrix["gene_id"]})
    for c in samples:
        out[f"delta_{c}"] = matrix[c] - matrix["reference"]
    return out
