"""Known-motif hits on disk: a sequence scanned once with a database and p-value is never scanned again.

:class:`MotifHitCache` keeps the table :func:`deepdife_core.motifs.scan.scan_sequence`
returns, one ``.npz`` per (database, p-value, sequence) under::

    <root>/<database fingerprint>/p<max_pvalue>/<key[:2]>/<key>.npz

``key`` is the SHA-256 of the sequence's scan tokens (A, C, G, T = 0-3, N and IUPAC
codes = 4: the letters the scan tells apart); the database fingerprint
(:func:`database_fingerprint`) covers every motif's ID, name, class and matrix and
the scan settings, so a changed database or p-value is a different file.  Files are
written atomically (a temp file, then a rename); a file that cannot be read, or whose
stored key does not match, is a miss: the sequence is scanned again and the file
replaced.  The Saliency page keeps its hits here (``workspace/motif_hits``, beside the
attribution cache), so a gene shown once is not rescanned by a later session or
server.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import weakref
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import atomic_write_bytes
from deepdife_core.motifs.scan import HIT_COLUMNS, ScanDatabase, _check_scan, _tokens, scan_sequence

__all__ = ["HITS_FORMAT", "MotifHitCache", "database_fingerprint", "sequence_key"]

#: version of the stored hit tables: raise it when the scan's output changes, so old files miss
HITS_FORMAT = 1
_COLUMNS = tuple(c for c in HIT_COLUMNS if c != "seq_idx")
#: fingerprints by ``id`` of the database object (dropped when it is collected; it is not hashable)
_FINGERPRINTS: dict[int, str] = {}


def database_fingerprint(db: ScanDatabase) -> str:
    """A digest of everything in a prepared database that decides its hits.

    Parameters
    ----------
    db : ScanDatabase
        A :func:`~deepdife_core.motifs.scan.prepare_database` result.

    Returns
    -------
    str
        16 lowercase hex digits of the SHA-256 of the motifs' IDs, names, classes and
        matrices, the pseudocount, bin size, strands and :data:`HITS_FORMAT`; remembered
        per database object.
    """
    got = _FINGERPRINTS.get(id(db))
    if got is not None:
        return got
    h = hashlib.sha256()
    settings = {"format": HITS_FORMAT, "pseudocount": db.pseudocount, "bin": db.bin_size, "both": db.both_strands}
    h.update(json.dumps(settings, sort_keys=True).encode())
    for m in db.motifs:
        ppm = np.ascontiguousarray(m.ppm, dtype=np.float64)
        h.update(json.dumps([m.id, m.name, m.tf_class, list(ppm.shape)]).encode())
        h.update(ppm.tobytes())
    digest = h.hexdigest()[:16]
    _FINGERPRINTS[id(db)] = digest
    weakref.finalize(db, _FINGERPRINTS.pop, id(db), None)
    return digest


def sequence_key(sequence: str | np.ndarray) -> str:
    """The cache key of one sequence: what the scan reads of it.

    Parameters
    ----------
    sequence : str or numpy.ndarray
        A DNA string (any case) or a one-hot ``(L, 4)`` array.

    Returns
    -------
    str
        32 hex digits of the SHA-256 of its int64 scan tokens (a string and its one-hot
        give the same key).

    Raises
    ------
    DeepDifEInputError
        If the string holds characters that are not DNA, or the array is not ``(L, 4)``.
    """
    tokens = np.ascontiguousarray(_tokens(sequence)[0], dtype=np.int64)
    return hashlib.sha256(tokens.tobytes()).hexdigest()[:32]


class MotifHitCache:
    """Motif-scan hit tables on disk, one npz per (database, p-value, sequence).

    Parameters
    ----------
    root : str or Path
        The cache folder (created when the first file is written).

    Attributes
    ----------
    hits, misses : int
        Scans served from disk / computed (and written).
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.hits = 0
        self.misses = 0

    def path(self, sequence: str | np.ndarray, db: ScanDatabase, max_pvalue: float) -> Path:
        """The cache file of one scan.

        Parameters
        ----------
        sequence : str or numpy.ndarray
            The scanned sequence (string or one-hot ``(L, 4)``).
        db : ScanDatabase
            The prepared database.
        max_pvalue : float
            The scan's p-value threshold, in ``(0, 1]``.

        Returns
        -------
        Path
            ``<root>/<database_fingerprint>/p<max_pvalue!r>/<key[:2]>/<key>.npz``.
        """
        key = sequence_key(sequence)
        return self.root / database_fingerprint(db) / f"p{float(max_pvalue)!r}" / key[:2] / f"{key}.npz"

    def read(self, sequence: str | np.ndarray, db: ScanDatabase, max_pvalue: float) -> pd.DataFrame | None:
        """The stored hits of one scan, or None (no file, or one that is unreadable or not this scan's).

        Parameters
        ----------
        sequence, db, max_pvalue
            As for :meth:`path`.

        Returns
        -------
        pandas.DataFrame or None
            The table :func:`~deepdife_core.motifs.scan.scan_sequence` returned.
        """
        _check_scan(db, max_pvalue)
        path = self.path(sequence, db, max_pvalue)
        try:
            with np.load(path) as data:  # allow_pickle stays False: a pickled array is a miss
                meta = json.loads(str(data["meta"]))
                dtypes = meta.pop("dtypes")
                if meta != self._meta(sequence, db, max_pvalue) or len(dtypes) != len(_COLUMNS):
                    return None
                columns = {c: data[c] for c in _COLUMNS}
        except (OSError, ValueError, EOFError, KeyError, TypeError, AttributeError, zipfile.BadZipFile):
            return None
        if len({len(v) for v in columns.values()}) != 1:
            return None
        frame = pd.DataFrame({c: v.tolist() if v.dtype.kind == "U" else v for c, v in columns.items()})
        try:
            return frame.astype(dict(zip(_COLUMNS, dtypes, strict=True)))
        except (TypeError, ValueError):
            return None

    def write(self, sequence: str | np.ndarray, db: ScanDatabase, max_pvalue: float, hits: pd.DataFrame) -> Path:
        """Store the hits of one scan, atomically (a temp file in the folder, then a rename).

        Parameters
        ----------
        sequence, db, max_pvalue
            As for :meth:`path`.
        hits : pandas.DataFrame
            What :func:`~deepdife_core.motifs.scan.scan_sequence` returned for them.

        Returns
        -------
        Path
            The file written.
        """
        path = self.path(sequence, db, max_pvalue)
        meta = {**self._meta(sequence, db, max_pvalue), "dtypes": [str(hits[c].dtype) for c in _COLUMNS]}
        arrays = {"meta": np.asarray(json.dumps(meta))}
        for c in _COLUMNS:
            values = hits[c].to_numpy()
            arrays[c] = values.astype(str) if values.dtype == object or hits[c].dtype.kind in "OUT" else values
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        atomic_write_bytes(path, buf.getvalue())
        return path

    def scan(self, sequence: str | np.ndarray, db: ScanDatabase, *, max_pvalue: float = 1e-4) -> pd.DataFrame:
        """:func:`~deepdife_core.motifs.scan.scan_sequence`, read from disk when this scan was stored.

        Parameters
        ----------
        sequence : str or numpy.ndarray
            One DNA string or one-hot ``(L, 4)``.
        db : ScanDatabase
            A prepared database.
        max_pvalue : float, optional
            Largest p-value reported, in ``(0, 1]`` (default 1e-4, as the scan).

        Returns
        -------
        pandas.DataFrame
            The scan's hit table (equal to a fresh scan's); a missing, unreadable or foreign file is
            scanned again and (re)written (a failed write, e.g. a full disk, is skipped).
        """
        hits = self.read(sequence, db, max_pvalue)
        if hits is not None:
            self.hits += 1
            return hits
        self.misses += 1
        hits = scan_sequence(sequence, db, max_pvalue=max_pvalue)
        with contextlib.suppress(DeepDifEInputError, OSError):  # a full disk costs a rescan later, not the hits
            self.write(sequence, db, max_pvalue, hits)
        return hits

    @staticmethod
    def _meta(sequence: str | np.ndarray, db: ScanDatabase, max_pvalue: float) -> dict:
        return {
            "format": HITS_FORMAT,
            "sequence": sequence_key(sequence),
            "database": database_fingerprint(db),
            "max_pvalue": float(max_pvalue),
        }
