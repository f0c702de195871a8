"""Start / poll / stop background jobs for the pages (thin layer over :mod:`deepdife_core.jobs.runner`).

Jobs are child processes keyed by job id; their folders under
``workspace/jobs`` are the only channel between a job and the pages, so any
browser session (or a reloaded page) can find and follow any job.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dashboard.paths import jobs_dir, models_dir, workspace_dir
from deepdife_core.config import AugmentConfig, ModelConfig, PhyloConfig, TrainConfig, config_to_dict
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import acquire_claim, atomic_write_bytes, check_name, release_claim
from deepdife_core.jobs import runner as core_jobs

# Popen handles of the jobs this server started, so finished children are reaped.
_PROCS: dict[str, subprocess.Popen] = {}
_LOCK = threading.Lock()


def _reap() -> None:
    with _LOCK:
        for job_id in [j for j, p in _PROCS.items() if p.poll() is not None]:
            del _PROCS[job_id]


def _watch(job_id: str, proc: subprocess.Popen) -> None:
    """Keep ``proc`` and reap it the moment it ends (a daemon thread waits on it), so no finished job
    stays a ``<defunct>`` child of the server however long no page asks about jobs."""
    with _LOCK:
        _PROCS[job_id] = proc

    def wait() -> None:
        with suppress(Exception):
            proc.wait()
        _reap()

    threading.Thread(target=wait, name=f"reap-{job_id}", daemon=True).start()


def job_folder(job_id: str) -> Path:
    """Folder of ``job_id`` (the id is checked, so it cannot point outside the jobs folder)."""
    return jobs_dir() / check_name(job_id, "job id")


def start_training(
    dataset_name: str,
    dataset_path: str | Path,
    model_name: str,
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    augment_cfg: AugmentConfig | None = None,
    phylo_cfg: PhyloConfig | None = None,
    orthologs: dict[str, Any] | None = None,
    cv: int = 0,
    refit: bool = False,
) -> str:
    """Launch a training job in a separate process; returns its job id.

    The job trains with exactly these configs (``augment_cfg`` / ``phylo_cfg``
    None = their defaults); the model's ``input_length`` and padding are set from
    the dataset and ``augment_cfg`` by the job. ``orthologs`` are PhyloAug's
    files from :func:`save_ortholog_uploads`; ``cv`` K >= 2 trains K fold models
    (an ensemble) and ``refit`` one more model on all training genes, saved as
    ``<model_name>_refit`` (``deepdife train --cv K --refit``).

    Raises
    ------
    DeepDifEInputError
        Bad model name, a model of that name (or of its refit) exists already,
        PhyloAug without orthologs, refit without cross-validation.
    """
    check_name(model_name)
    phylo_cfg = phylo_cfg if phylo_cfg is not None else PhyloConfig(enabled=orthologs is not None)
    if phylo_cfg.enabled and orthologs is None:
        raise DeepDifEInputError("PhyloAug needs an ortholog table and the orthologs' promoter FASTA: upload both")
    if cv == 1 or cv < 0:
        raise DeepDifEInputError(f"cross-validation needs at least 2 folds (0 = one model), got {cv}")
    if refit and not cv:
        raise DeepDifEInputError("refit needs cross-validation: set the number of folds to 2 or more")
    names = [model_name, f"{model_name}_refit"] if refit else [model_name]
    for name in names:
        if (models_dir() / name).exists():
            raise DeepDifEInputError(f"a model named {name!r} already exists; choose another name")
    for job in list_train_jobs():
        if job["state"] in ("queued", "running") and (job.get("args") or {}).get("model_name") == model_name:
            raise DeepDifEInputError(f"training job {job['id']} is already producing a model named {model_name!r}")
    args = {
        "dataset_name": dataset_name,
        "dataset_path": str(Path(dataset_path).resolve()),
        "model_name": model_name,
        "models_root": str(models_dir()),
        "model": config_to_dict(model_cfg),
        "train": config_to_dict(train_cfg),
        "augment": config_to_dict(augment_cfg if augment_cfg is not None else AugmentConfig()),
        "phylo": config_to_dict(phylo_cfg),
        "orthologs": orthologs,
        "cv": int(cv),
        "refit": bool(refit),
    }
    return _start("train", args)


#: job kind -> the output folder its args name: claimed when the job is started, so a second Start of the
#: same name (another session, a command-line run) is refused at once (see ``artifacts.acquire_claim``)
_OUTPUTS: dict[str, Any] = {
    "train": lambda a: Path(a["models_root"]) / a["model_name"],
    "tune_train": lambda a: Path(a["models_root"]) / a["model_name"],
    "motifs": lambda a: Path(a["out"]),
}


def _start(kind: str, args: dict[str, Any]) -> str:
    """Create the job, claim its output name for it, launch it; a refused claim leaves no job behind."""
    folder = core_jobs.create_job(jobs_dir(), kind, args)
    claim = None
    try:
        target = None
        with suppress(KeyError, TypeError):  # args without an output: nothing to claim
            target = _OUTPUTS[kind](args)
        if target is not None:
            claim = acquire_claim(target, job=folder)
        proc = core_jobs.launch(folder)
    except BaseException:
        if claim is not None:
            release_claim(claim)
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _reap()
    _watch(folder.name, proc)
    return folder.name


def save_ortholog_uploads(table: tuple[str, bytes], fastas: list[tuple[str, bytes]]) -> dict[str, Any]:
    """Save PhyloAug's uploaded ortholog table and FASTAs for a job and check them now.

    Parameters
    ----------
    table
        ``(file name, bytes)`` of the table ``gene_id, ortholog_id[, species]``.
    fastas
        ``(file name, bytes)`` of each FASTA with the orthologs' promoters (a
        pair's species is the table's ``species`` or else the FASTA's name).

    Returns
    -------
    dict
        ``{"table": path, "fastas": [paths], "pairs": n}`` for :func:`start_training`.

    Raises
    ------
    DeepDifEInputError
        No FASTA, a table or FASTA that cannot be read, or no ortholog with a sequence.
    """
    import re
    import uuid

    from deepdife_core.data.io import read_orthologs

    if not fastas:
        raise DeepDifEInputError("PhyloAug needs the orthologs' promoter FASTA: upload at least one")
    folder = workspace_dir() / "uploads" / f"orthologs-{uuid.uuid4().hex[:12]}"

    def _save(name: str, data: bytes) -> str:
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name)[:120] or "upload"
        path = folder / safe
        atomic_write_bytes(path, data)
        return str(path)

    folder.mkdir(parents=True, exist_ok=True)
    table_path = _save(f"table-{table[0]}", table[1])
    fasta_paths = [_save(n, b) for n, b in fastas]
    pairs = read_orthologs(table_path, fasta_paths, table_name=table[0])
    return {"table": table_path, "fastas": fasta_paths, "pairs": len(pairs.table)}


def list_train_jobs() -> list[dict]:
    """Training jobs in the workspace, newest first."""
    _reap()
    return core_jobs.list_jobs(jobs_dir(), kind="train")


def start_kind(kind: str, args: dict[str, Any]) -> str:
    """Launch a background job of ``kind`` (a key of ``deepdife_core.jobs.runner.RUNNERS``); returns its job id.

    A job that writes a model or a motif run (:data:`_OUTPUTS`) claims that name first.
    """
    return _start(kind, args)


def list_kind(kind: str) -> list[dict]:
    """Jobs of ``kind`` in the workspace, newest first."""
    _reap()
    return core_jobs.list_jobs(jobs_dir(), kind=kind)


def read(job_id: str) -> dict | None:
    """``job.json`` of a job (None when it does not exist)."""
    _reap()
    return core_jobs.read_job(job_folder(job_id))


def stop(job_id: str) -> None:
    """Ask a job to stop (it ends cleanly after the current batch, keeping the best weights)."""
    core_jobs.request_stop(job_folder(job_id))


def result(job_id: str) -> dict | None:
    """``result.json`` of a finished job."""
    return core_jobs.read_result(job_folder(job_id))


@dataclass
class TrainProgress:
    """What the train page shows about a job, computed from its ``progress.jsonl``."""

    epoch: int = 0
    epochs: int = 0
    batch_fraction: float = 0.0
    elapsed_s: float = 0.0
    eta_s: float | None = None
    history: list[dict] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)
    stop_requested: bool = False
    #: epoch whose weights are kept so far (the latest epoch event's ``best_epoch``; None if not reported)
    best_epoch: int | None = None
    #: head selection (``TrainConfig.try_heads``): the network being trained (0-based) of how many,
    #: its head, and every candidate's epochs so far by head (``history`` is the current one's)
    candidate: int = 0
    n_candidates: int = 1
    head: str | None = None
    by_head: dict[str, list[dict]] = field(default_factory=dict)

    @property
    def fraction(self) -> float:
        """Overall progress in [0, 1] (earlier candidates, completed epochs, the running one's batches)."""
        if not self.epochs:
            return 0.0
        own = min(1.0, (self.epoch + self.batch_fraction) / self.epochs)
        return min(1.0, (self.candidate + own) / max(1, self.n_candidates))


def train_progress(job_id: str, job: dict[str, Any] | None = None) -> TrainProgress:
    """Progress of a training job: epoch i of n, elapsed, ETA and the per-epoch history."""
    folder = job_folder(job_id)
    events = core_jobs.read_events(folder)
    out = TrainProgress(stop_requested=(folder / core_jobs.STOP_FILE).exists())
    start_t = None
    for ev in events:
        kind = ev.get("event")
        if kind == "start":
            start_t = ev.get("t")
            out.epochs = int(ev.get("epochs") or 0)
            out.sizes = {k: int(ev[f"n_{k}"]) for k in ("train", "val", "test") if f"n_{k}" in ev}
        elif kind in ("epoch", "batch"):
            # head selection tags its events with the network being trained; events without a tag (one head,
            # later CV folds, a refit) belong to a single network
            cand = int(ev.get("candidate", 0))
            if cand > out.candidate:  # the next head: its own curve, epochs and kept epoch
                out.history, out.best_epoch, out.epoch, out.batch_fraction = [], None, 0, 0.0
            out.candidate, out.n_candidates = cand, int(ev.get("n_candidates", 1))
            out.head = ev.get("head", out.head) if "candidate" in ev else None
            if kind == "epoch":
                if out.head is not None:
                    out.by_head.setdefault(out.head, []).append(ev)
                out.history.append(ev)
                out.epoch = int(ev["epoch"])
                if ev.get("best_epoch"):
                    out.best_epoch = int(ev["best_epoch"])
                out.epochs = int(ev.get("epochs") or out.epochs)
                out.batch_fraction = 0.0
            elif ev.get("n_batches") and int(ev.get("epoch", 0)) > out.epoch:
                out.batch_fraction = float(ev["batch"]) / float(ev["n_batches"])
    last_t = events[-1].get("t") if events else None
    job = job or {}
    if start_t is not None:
        end = time.time() if job.get("state") in ("queued", "running") else (last_t or start_t)
        out.elapsed_s = max(0.0, end - start_t)
        done = sum(len(h) for h in out.by_head.values()) or len(out.history)
        if out.history and out.epochs and job.get("state") in ("queued", "running"):
            per_epoch = (out.history[-1]["t"] - start_t) / done
            left = out.epochs - out.epoch - out.batch_fraction + (out.n_candidates - 1 - out.candidate) * out.epochs
            out.eta_s = max(0.0, per_epoch * left)
    return out


def format_seconds(seconds: float | None) -> str:
    """``1 h 02 min``, ``3 min 05 s`` or ``12 s``; ``—`` for None."""
    if seconds is None:
        return "—"
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600} h {(s % 3600) // 60:02d} min"
    if s >= 60:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s} s"
