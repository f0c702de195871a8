"""Chunked prediction of a FASTA file (contract in :mod:`deepdife_core.streaming`)."""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from deepdife_core.data.encode import one_hot
from deepdife_core.data.io import (
    ALT_TSS_MODEL,
    BuildReport,
    check_alt_tss,
    coords_from_header,
    iter_fasta,
    normalize_id,
    pad_or_trim,
    record_ids,
)
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import atomic_open, export_csv
from deepdife_core.model.folder import model_data_config

COLUMNS = ("gene_id", "probability", "prediction", "probability_forward", "probability_reverse")


@dataclass(frozen=True)
class StreamConfig:
    """How a FASTA is predicted in chunks."""

    #: records read, encoded, predicted and written at a time
    chunk_records: int = 8192
    #: ``prediction`` is 1 where ``probability >= threshold``
    threshold: float = 0.5
    #: records per model call within a chunk
    batch_size: int = 256

    def __post_init__(self) -> None:
        if self.chunk_records < 1:
            raise DeepDifEInputError(f"chunk_records must be >= 1, got {self.chunk_records}")
        if self.batch_size < 1:
            raise DeepDifEInputError(f"batch_size must be >= 1, got {self.batch_size}")


def _h(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def _gene_id(record_id: str) -> str:
    return record_id.split("::")[0] or record_id


@dataclass
class _Plan:
    """What pass 1 (and 2) found: which records to keep and what to call them."""

    n_records: int
    dup_keys: set[int]
    names: dict[int, str]  # record index -> identity, for records of repeated genes (alt_tss="all")
    report: BuildReport


def _plan(path: str | Path, name: str, alt_tss: str) -> _Plan:
    keys = array("Q")  # 8 bytes a record, not a Python int each
    idents = array("Q")
    for rec in iter_fasta(path, name=name, stream=True):  # checks every record before any prediction
        gid = _gene_id(rec.id)
        keys.append(_h(normalize_id(gid)))
        idents.append(_h(gid.strip().upper()))
    key_arr = np.frombuffer(keys, dtype=np.uint64)
    uniq, counts = np.unique(key_arr, return_counts=True)
    dup = uniq[counts > 1]
    report = BuildReport(n_input=len(key_arr), alt_tss=alt_tss)
    report.repeated_genes = len(dup)
    dup_keys = {int(k) for k in dup}
    names: dict[int, str] = {}
    if dup_keys and alt_tss == "all":
        rows, ids, coords = [], [], []
        for i, rec in enumerate(iter_fasta(path, name=name, stream=True)):
            if int(key_arr[i]) in dup_keys:
                rows.append(i)
                ids.append(_gene_id(rec.id))
                coords.append(coords_from_header(rec.header))
        named = record_ids(ids, coords if any(coords) else None, name=name)
        names = dict(zip(rows, named, strict=True))
        # a new identity must not be another record's ID (record_ids checks this within the whole file)
        plain = np.frombuffer(idents, dtype=np.uint64)[~np.isin(key_arr, dup)]
        clash = np.isin(np.array([_h(n.upper()) for n in named], dtype=np.uint64), plain)
        if clash.any():
            bad = named[int(np.argmax(clash))]
            raise DeepDifEInputError(
                f"{name}: a record would be called {bad!r}, which is another record's ID; rename one of them"
            )
    if alt_tss == "first":
        report.alternatives_left_out = int((counts[counts > 1] - 1).sum())
    report.n_kept = report.n_input - report.alternatives_left_out
    return _Plan(len(key_arr), dup_keys, names, report)


def _chunks(path: str | Path, name: str, plan: _Plan, alt_tss: str, size: int) -> Iterator[tuple[list, list]]:
    seen: set[int] = set()
    ids: list[str] = []
    seqs: list[str] = []
    for i, rec in enumerate(iter_fasta(path, name=name, stream=True)):
        gid = _gene_id(rec.id)
        key = _h(normalize_id(gid))
        if key in plan.dup_keys:
            if alt_tss == "first":
                if key in seen:
                    continue
                seen.add(key)
            else:
                gid = plan.names[i]
        ids.append(gid)
        seqs.append(rec.sequence)
        if len(ids) >= size:
            yield ids, seqs
            ids, seqs = [], []
    if ids:
        yield ids, seqs


def predict_fasta_to_csv(
    predictor,
    fasta: str | Path,
    out: str | Path,
    *,
    config: StreamConfig | None = None,
    alt_tss: str = ALT_TSS_MODEL,
    name: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BuildReport:
    """Predict every record of ``fasta`` with ``predictor`` chunk by chunk, writing ``out`` (CSV) atomically.

    Parameters
    ----------
    predictor
        A :class:`deepdife_core.model.cnn.Predictor` (its folder's DatasetConfig fits the sequences).
    fasta
        A FASTA file on disk (plain or gzip).
    out
        The CSV to write (columns :data:`COLUMNS`, see :mod:`deepdife_core.streaming`).
    config
        Chunk size, threshold, batch size (:class:`StreamConfig` defaults).
    alt_tss
        ``"all"`` or ``"first"``, as :func:`deepdife_core.data.io.records_from_fasta`.
    name
        File name in messages (default: the path's name).
    progress
        Called with (records written, records to write) after every chunk.

    Returns
    -------
    BuildReport
        ``n_input``, ``n_kept``, ``repeated_genes``, ``alternatives_left_out`` (``records_note()``).
    """
    cfg = config or StreamConfig()
    check_alt_tss(alt_tss)
    name = name or Path(fasta).name
    fit = model_data_config(predictor)
    plan = _plan(fasta, name, alt_tss)
    done = 0
    with atomic_open(out, "w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(COLUMNS) + "\n")
        for ids, seqs in _chunks(fasta, name, plan, alt_tss, cfg.chunk_records):
            x = one_hot([pad_or_trim(s, fit.length, side=fit.pad_side) for s in seqs])
            fwd, rev = predictor.predict_strands(x, batch_size=cfg.batch_size)
            prob = predictor.combine(fwd, rev)
            table = pd.DataFrame(
                {
                    "gene_id": ids,
                    "probability": np.round(prob, 6),
                    "prediction": (prob >= cfg.threshold).astype(int),
                    "probability_forward": np.round(fwd, 6),
                    "probability_reverse": np.round(rev, 6),
                }
            )
            fh.write(export_csv(table, header=False))
            done += len(ids)
            if progress is not None:
                progress(done, plan.report.n_kept)
    return plan.report
