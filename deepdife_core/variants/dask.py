"""Dask distributed execution: chunks of genes mapped to workers, each loading the model once.

The work unit is :func:`deepdife_core.variants.run.score_genes_chunk` in both modes, so a
cluster's results equal the in-process ones (chunks are gathered in submission order).
"""

from __future__ import annotations

import os

from deepdife_core.errors import DeepDifEInputError

#: environment variable naming a scheduler when no address is given (``deepdife variants --dask``)
DASK_ENV = "DEEPDIFE_DASK"


def scheduler_address(address: str | None) -> str | None:
    """``address``, else ``$DEEPDIFE_DASK``, else None (in-process).

    Parameters
    ----------
    address
        ``tcp://host:8786`` or None.

    Returns
    -------
    str or None
        The scheduler to use.
    """
    return address or os.environ.get(DASK_ENV) or None


def map_chunks(address_or_client, fn, chunks: list, **kwargs) -> list:
    """``[fn(chunk, **kwargs) for chunk in chunks]`` on a Dask cluster, in order.

    Parameters
    ----------
    address_or_client
        A scheduler address or a :class:`distributed.Client`.
    fn
        A picklable function of one chunk (a list of gene IDs).
    chunks
        The work units.
    **kwargs
        Picklable arguments shared by every call.

    Returns
    -------
    list
        ``fn``'s results, in chunk order.
    """
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - pinned in requirements.txt
        raise DeepDifEInputError("dask needs the 'distributed' package: pip install distributed") from exc
    own = not isinstance(address_or_client, Client)
    try:
        client = Client(address_or_client, timeout="30s") if own else address_or_client
    except OSError as exc:
        raise DeepDifEInputError(f"dask={address_or_client}: no Dask scheduler answers there ({exc})") from exc
    try:
        futures = client.map(fn, chunks, pure=False, **kwargs)
        return client.gather(futures)
    finally:
        if own:
            client.close()
