"""Background jobs: long work (training) in a separate process that talks through files.

Contract (job folder ``<jobs_root>/<job_id>/``)
-----------------------------------------------
``job.json``        kind, args, pid, state (queued/running/done/failed/stopped), created,
                    started, ended, error, error_kind (``input`` or ``internal``)
``progress.jsonl``  append-only events: the dicts ``train_dataset``'s progress callable gets,
                    plus ``"t"`` (UNIX time)
``result.json``     model path, metrics, stopped flag (written when the job ends with a model)
``log.txt``         stdout/stderr of the process and, for a bug, the traceback
``stop``            its presence asks the job to stop (see :func:`deepdife_core.train.fit.stop_file_check`)

The launcher (:func:`create_job` + :func:`launch`) writes the first ``job.json``
(state ``queued``) and starts ``python -m deepdife_core.jobs.runner run <folder>`` in a
new session; from then on only the job process writes ``job.json``,
``progress.jsonl`` and ``result.json``.  Readers (the dashboard) use
:func:`read_job`, :func:`read_events` and :func:`list_jobs`, and ask for a stop
with :func:`request_stop`.  A job whose process died without writing a final
state is reported as ``failed`` by :func:`read_job` (``error_kind = "lost"``).

This module never imports Streamlit, and imports TensorFlow only inside the job
process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from deepdife_core.config import AugmentConfig, ModelConfig, PhyloConfig, TrainConfig, from_dict
from deepdife_core.data.io import load_dataset, read_dataset_config, read_orthologs
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import JOB_ENV, QUEUE_TIMEOUT_S, atomic_write_json, pid_alive
from deepdife_core.train.fit import cross_validate, stop_file_check, train_dataset

STATES = ("queued", "running", "done", "failed", "stopped")
FINAL_STATES = ("done", "failed", "stopped")
JOB_FILE = "job.json"
PROGRESS_FILE = "progress.jsonl"
RESULT_FILE = "result.json"
LOG_FILE = "log.txt"
STOP_FILE = "stop"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_json(path: Path, obj: Any) -> None:

    atomic_write_json(path, obj)


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, ValueError, OSError):
        return None
    return data if isinstance(data, dict) else None


def new_job_id(kind: str) -> str:
    """Make a sortable, unique job id such as ``train-20250101-120000-1a2b3c``.

    Parameters
    ----------
    kind : str
        The job kind, used as the id's prefix.

    Returns
    -------
    str
        ``<kind>-<UTC date>-<UTC time>-<6 random hex digits>``.
    """
    return f"{kind}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"


def create_job(root: str | Path, kind: str, args: dict[str, Any], *, job_id: str | None = None) -> Path:
    """Create ``<root>/<job_id>/job.json`` in state ``queued``.

    Parameters
    ----------
    root
        The jobs folder (``workspace/jobs``).
    kind
        A key of :data:`RUNNERS` (``"train"``, ``"motifs"``, ``"tune"``).
    args
        JSON-able arguments of the runner.
    job_id
        Defaults to :func:`new_job_id`.

    Returns
    -------
    pathlib.Path
        The job folder.
    """
    if kind not in RUNNERS:
        raise DeepDifEInputError(f"unknown job kind {kind!r}; choose from {', '.join(RUNNERS)}")
    folder = Path(root) / (job_id or new_job_id(kind))
    folder.mkdir(parents=True, exist_ok=False)
    _write_json(
        folder / JOB_FILE,
        {
            "id": folder.name,
            "kind": kind,
            "args": args,
            "pid": None,
            "state": "queued",
            "created": _now(),
            "started": None,
            "ended": None,
            "error": None,
            "error_kind": None,
        },
    )
    return folder


def launch(folder: str | Path, *, python: str | None = None, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start the job process for ``folder`` (``python -m deepdife_core.jobs.runner run <folder>``) in a new session.

    stdout and stderr go to the job's ``log.txt``.  The caller should keep the
    returned :class:`subprocess.Popen` and ``poll()`` it now and then so that the
    finished process is reaped.

    Parameters
    ----------
    folder : str or pathlib.Path
        The job folder made by :func:`create_job`.
    python : str, optional
        The Python interpreter to run (default: :data:`sys.executable`).
    env : dict of str to str, optional
        Environment of the process (default: this process's); ``PYTHONUNBUFFERED``
        and ``PYTHONPATH`` (the repository root first) are set, ``TF_CPP_MIN_LOG_LEVEL``
        defaults to ``3``.

    Returns
    -------
    subprocess.Popen
        The started job process (working directory: the repository root).
    """
    folder = Path(folder).resolve()
    penv = dict(os.environ if env is None else env)
    penv.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    penv["PYTHONUNBUFFERED"] = "1"
    root = str(Path(__file__).resolve().parents[1])
    penv["PYTHONPATH"] = root + (os.pathsep + penv["PYTHONPATH"] if penv.get("PYTHONPATH") else "")
    with open(folder / LOG_FILE, "ab") as log:
        return subprocess.Popen(
            [python or sys.executable, "-m", "deepdife_core.jobs.runner", "run", str(folder)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=root,
            env=penv,
        )


def start_job(root: str | Path, kind: str, args: dict[str, Any]) -> tuple[Path, subprocess.Popen]:
    """Create a job with :func:`create_job` and start it with :func:`launch`.

    Parameters
    ----------
    root : str or pathlib.Path
        The jobs folder (``workspace/jobs``).
    kind : str
        A key of :data:`RUNNERS`.
    args : dict
        JSON-able arguments of the runner.

    Returns
    -------
    folder : pathlib.Path
        The new job folder.
    process : subprocess.Popen
        The started job process.
    """
    folder = create_job(root, kind, args)
    return folder, launch(folder)


# ----------------------------------------------------------------------------- reading


#: what a job killed from outside is reported as (it had no chance to write why)
LOST_RUNNING = (
    "the job process was ended from outside (killed, out of memory, or the machine restarted) before it could "
    "record why; nothing half-written was kept; start the job again"
)
LOST_QUEUED = "the job process never started (the server may have been stopped); start the job again"
#: marker: the note about a lost job has been appended to its log.txt (once, by whichever reader saw it first)
LOST_MARK = ".lost-noted"


def _note_lost(folder: Path, message: str) -> None:
    """Append ``message`` to a lost job's ``log.txt`` once, so the log says what happened to it."""
    try:
        fd = os.open(folder / LOST_MARK, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError:
        return  # noted already (or the folder is not writable: the message is still shown)
    os.close(fd)
    try:
        with open(folder / LOG_FILE, "a", encoding="utf-8") as fh:
            fh.write(f"\n[{_now()}] job {folder.name}: {message}\n")
    except OSError:
        pass


def read_job(folder: str | Path) -> dict | None:
    """Read ``job.json`` of ``folder``, with a dead process reported as ``failed``.

    A ``running`` job whose process is gone, or a ``queued`` one older than
    :data:`QUEUE_TIMEOUT_S`, is reported ``failed`` with ``error_kind = "lost"``
    (and a note is appended once to its ``log.txt``); the file itself is not changed.

    Parameters
    ----------
    folder : str or pathlib.Path
        The job folder whose ``job.json`` is read.

    Returns
    -------
    dict or None
        The job record plus ``"folder"`` (the folder as a string); ``None`` when
        ``job.json`` is absent or not a JSON object.
    """
    folder = Path(folder)
    job = _read_json(folder / JOB_FILE)
    if job is None:
        return None
    job.setdefault("id", folder.name)
    state = job.get("state")
    if state == "running" and not pid_alive(job.get("pid")):
        job = _read_json(folder / JOB_FILE) or job  # it may have just finished
        if job.get("state") == "running":
            job.update(state="failed", error_kind="lost", error=LOST_RUNNING)
            _note_lost(folder, LOST_RUNNING)
    elif state == "queued":
        try:
            age = time.time() - (folder / JOB_FILE).stat().st_mtime
        except OSError:
            age = 0.0
        if age > QUEUE_TIMEOUT_S:
            job.update(state="failed", error_kind="lost", error=LOST_QUEUED)
            _note_lost(folder, LOST_QUEUED)
    job["folder"] = str(folder)
    return job


def read_events(folder: str | Path) -> list[dict]:
    """Read all complete events of ``progress.jsonl`` (a line being written is skipped).

    Parameters
    ----------
    folder : str or pathlib.Path
        The job folder whose ``progress.jsonl`` is read.

    Returns
    -------
    list of dict
        The events in the order written; empty when the file is absent.
    """
    path = Path(folder) / PROGRESS_FILE
    try:
        text = path.read_text()
    except (FileNotFoundError, OSError):
        return []
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def read_result(folder: str | Path) -> dict | None:
    """Read the job's ``result.json``.

    Parameters
    ----------
    folder : str or pathlib.Path
        The job folder whose ``result.json`` is read.

    Returns
    -------
    dict or None
        The result, or ``None`` when absent or unreadable.
    """
    return _read_json(Path(folder) / RESULT_FILE)


def list_jobs(root: str | Path, kind: str | None = None) -> list[dict]:
    """List the jobs under ``root`` (optionally of one ``kind``), newest first.

    Parameters
    ----------
    root : str or pathlib.Path
        The jobs folder; a missing folder has no jobs.
    kind : str, optional
        Keep only jobs of this kind.

    Returns
    -------
    list of dict
        :func:`read_job` records sorted by creation time (then id), newest first.
    """
    root = Path(root)
    if not root.is_dir():
        return []
    jobs = []
    for folder in root.iterdir():
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        job = read_job(folder)
        if job is None or (kind is not None and job.get("kind") != kind):
            continue
        jobs.append(job)
    jobs.sort(key=lambda j: (j.get("created") or "", j["id"]), reverse=True)
    return jobs


def request_stop(folder: str | Path) -> None:
    """Ask the job to stop by creating its ``stop`` file.

    Parameters
    ----------
    folder : str or pathlib.Path
        The job folder.
    """
    (Path(folder) / STOP_FILE).touch()


# ----------------------------------------------------------------------------- running (job process only)


class _JobWriter:
    """The job process's handle on its folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        job = _read_json(folder / JOB_FILE)
        if job is None:
            raise DeepDifEInputError(f"{folder}: no job.json; not a job folder")
        self.job = job

    def update(self, **fields: Any) -> None:
        self.job.update(fields)
        _write_json(self.folder / JOB_FILE, self.job)

    def event(self, event: dict) -> None:
        line = json.dumps({**event, "t": round(time.time(), 3)}, default=_jsonable)
        with open(self.folder / PROGRESS_FILE, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()

    def stop_requested(self) -> bool:
        return (self.folder / STOP_FILE).exists()


def _jsonable(obj: Any) -> Any:
    try:
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:  # pragma: no cover
        pass
    return str(obj)


def _run_train(writer: _JobWriter, args: dict[str, Any]) -> tuple[str, dict]:
    """Train a model on a saved dataset; returns (final state, result).

    ``args``: ``dataset_path``, ``models_root``, ``model_name``, ``dataset_name`` and
    the ``model`` / ``train`` / ``augment`` / ``phylo`` configs as
    :func:`~deepdife_core.config.config_to_dict` dicts (a missing one means its
    defaults); optionally ``orthologs`` = ``{"table": path, "fastas": [paths]}``
    (PhyloAug's pairs and sequences, read by :func:`~deepdife_core.data.io.read_orthologs`),
    ``cv`` (K-fold grouped cross-validation, 0 = one model) and ``refit`` (with
    ``cv``: one more model on all training genes, saved as ``<model_name>_refit``),
    as ``deepdife train --orthologs/--ortholog-fasta/--phylo-rate/--cv/--refit``.
    The result has ``model_path``, ``model_name``, ``metrics`` (with
    ``baseline_kmer`` and ``learning``), ``stopped``, ``epochs_run``,
    ``best_epoch`` (the epoch whose weights were kept, when known) and, after a
    refit, ``refit_path``.
    """
    dataset_path = Path(args["dataset_path"])
    out = Path(args["models_root"]) / args["model_name"]
    model_cfg = from_dict(ModelConfig, args.get("model", {}))
    train_cfg = from_dict(TrainConfig, args.get("train", {}))
    augment_cfg = from_dict(AugmentConfig, args.get("augment", {}))
    phylo_cfg = from_dict(PhyloConfig, args.get("phylo", {}))
    cv, refit = int(args.get("cv") or 0), bool(args.get("refit"))
    if refit and not cv:
        raise DeepDifEInputError("refit needs cross-validation (cv of 2 folds or more)")
    ortho = args.get("orthologs") or None
    if phylo_cfg.enabled and not ortho:
        raise DeepDifEInputError("PhyloAug needs an ortholog table and the orthologs' promoter FASTA")
    orthologs = read_orthologs(ortho["table"], list(ortho.get("fastas") or [])) if ortho else None
    df = load_dataset(dataset_path)
    if writer.stop_requested():
        return "stopped", {"model_path": None, "stopped": True, "note": "stopped before training began"}
    seen: dict[str, Any] = {}

    def progress(event: dict) -> None:
        if event.get("event") == "epoch" and event.get("best_epoch"):
            seen["best_epoch"] = event["best_epoch"]
        writer.event(event)

    common = dict(
        model_cfg=model_cfg,
        train_cfg=train_cfg,
        augment_cfg=augment_cfg,
        phylo_cfg=phylo_cfg,
        orthologs=orthologs,
        dataset_cfg=read_dataset_config(dataset_path),
        out=out,
        dataset_name=args.get("dataset_name", dataset_path.parent.name),
        progress=progress,
        should_stop=stop_file_check(writer.folder / STOP_FILE),
        provenance={"job_id": writer.folder.name, "source": "dashboard"},
    )
    res = cross_validate(df, k=cv, refit=refit, **common) if cv else train_dataset(df, **common)
    result = {
        "model_path": str(res.path) if res.path else None,
        "model_name": out.name,
        "metrics": res.metrics,
        "stopped": res.stopped,
        "epochs_run": len(res.history),
    }
    if getattr(res, "refit_path", None):
        result["refit_path"] = str(res.refit_path)
    best_epoch = getattr(res, "best_epoch", None)
    if best_epoch is None and res.path is not None:
        best_epoch = (_read_json(Path(res.path) / "provenance.json") or {}).get("best_epoch")
    if best_epoch is None:
        best_epoch = seen.get("best_epoch")
    if best_epoch:
        result["best_epoch"] = int(best_epoch)
    if res.path is None:
        result["note"] = "stopped before the first epoch finished; no model was saved"
    return ("stopped" if res.stopped else "done"), result


Runner = Callable[[_JobWriter, dict[str, Any]], tuple[str, dict]]

#: job kind -> runner(writer, args) -> (final state, result dict), or the runner's
#: ``"module:function"`` path, imported only inside the job process (so this module
#: stays light for the dashboard).
RUNNERS: dict[str, Runner | str] = {
    "train": _run_train,
    "motifs": "deepdife_core.jobs.motifs:run",
    "tune": "deepdife_core.jobs.tune:run",
    "tune_train": "deepdife_core.jobs.tune:run_train_best",
    "experiment": "deepdife_core.experiments.job:run",
    "genome_add": "deepdife_core.genome.job:run",
    "variants": "deepdife_core.jobs.variants:run",
}


def _resolve_runner(kind: str | None) -> Runner:
    """The runner of ``kind``, importing a ``"module:function"`` entry."""
    runner = RUNNERS.get(kind) if kind is not None else None
    if runner is None:
        raise DeepDifEInputError(f"unknown job kind {kind!r}; choose from {', '.join(RUNNERS)}")
    if isinstance(runner, str):
        import importlib

        module, _, name = runner.partition(":")
        runner = getattr(importlib.import_module(module), name)
    return runner


def run_job(folder: str | Path) -> int:
    """Run the job in ``folder`` in this process (the job side of the contract).

    Marks the job ``running``, calls the runner of its kind with its args, then
    writes ``result.json`` and the final state (or ``failed`` with the error).

    Parameters
    ----------
    folder : str or pathlib.Path
        The job folder with its ``job.json``.

    Returns
    -------
    int
        0 when done or stopped, 2 for bad input, 1 for an internal error.
    """
    folder = Path(folder)
    writer = _JobWriter(folder)
    writer.update(state="running", pid=os.getpid(), started=_now())
    kind = writer.job.get("kind")
    before = os.environ.get(JOB_ENV)
    # output names claimed for this job at Start (artifacts.acquire_claim(job=...)) are this process's
    os.environ[JOB_ENV] = str(folder.resolve())
    try:
        runner = _resolve_runner(kind)
        state, result = runner(writer, writer.job.get("args") or {})
    except DeepDifEInputError as exc:
        writer.event({"event": "error", "message": str(exc)})
        writer.update(state="failed", ended=_now(), error=str(exc), error_kind="input")
        return 2
    except Exception as exc:
        tb = traceback.format_exc()
        with open(folder / LOG_FILE, "a", encoding="utf-8") as fh:
            fh.write(f"\n[{_now()}] internal error in job {folder.name}\n{tb}\n")
        writer.event({"event": "error", "message": f"internal error ({type(exc).__name__})"})
        writer.update(
            state="failed", ended=_now(), error=f"internal error ({type(exc).__name__})", error_kind="internal"
        )
        return 1
    finally:
        if before is None:
            os.environ.pop(JOB_ENV, None)
        else:
            os.environ[JOB_ENV] = before
    _write_json(folder / RESULT_FILE, result)
    writer.event({"event": "end", "state": state})
    writer.update(state=state, ended=_now())
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m deepdife_core.jobs.runner run <job_folder>``.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``): ``["run", <job_folder>]``.

    Returns
    -------
    int
        The exit status: that of :func:`run_job`, 2 for a usage or input error.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 2 or argv[0] != "run":
        print("usage: python -m deepdife_core.jobs.runner run <job_folder>", file=sys.stderr)
        return 2
    try:
        return run_job(argv[1])
    except DeepDifEInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
