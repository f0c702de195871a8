"""Background jobs of the Tune page: run a study with local workers, train a model with its best parameters.

Both are runners of :data:`deepdife_core.jobs.runner.RUNNERS` (``"tune"`` and
``"tune_train"``): ``runner(writer, args) -> (final state, result)``, run inside
the job process ``python -m deepdife_core.jobs.runner run <folder>``.

``tune`` job
    ``args``: ``study``, ``workspace`` (absolute), ``trials`` (the study's total
    budget), ``workers`` (local worker processes), and for a new study ``data``
    (dataset table), ``space`` (:meth:`SearchSpace.to_dict`), ``tune``
    (:meth:`TuneConfig.to_dict`), ``base`` (``config_to_dict(RunConfig)``); leave
    those out to resume a recorded study with its own settings.  Optional
    ``heartbeat`` (seconds, default 10) and ``poll_s`` (default 1).

    The study is prepared first (:func:`deepdife_core.tune.study.prepare_study`: storage,
    study and ``<workspace>/studies/<name>.json`` exist before any worker starts),
    then ``workers`` processes are started with :func:`deepdife_core.tune.study.spawn_worker`
    (their output goes to the job's ``log.txt``).  This process only watches the
    storage and writes ``progress.jsonl`` events:

    * ``{"event": "start", "study", "storage", "trials", "workers", "metric", "direction", "counts"}``
    * ``{"event": "trial", "number", "state", "value", "duration_s", "epochs", "params"}`` once per
      trial that finished (COMPLETE / PRUNED / FAIL) while the job ran;
    * ``{"event": "counts", "complete", "pruned", "running", "fail", "waiting", "finished"}`` when
      the counts change;
    * ``{"event": "stopping"}`` once a stop was requested.

    A stop request (the job's ``stop`` file) is the workers' ``--stop-file``: each
    worker ends after the current batch and the trial in flight is marked FAIL, as
    for a killed worker, so the study resumes later with every finished trial
    intact and that trial's place in the budget run again.  Workers still alive
    :data:`STOP_GRACE_S` seconds after the request are terminated.

``tune_train`` job
    ``args``: ``study``, ``workspace``, ``model_name``, ``models_root``; optional
    ``epochs`` / ``patience`` (final training; default the :class:`TrainConfig`
    defaults) and ``dataset_name``.  Trains one model on the study's dataset with
    the best trial's parameters over the study's base configs (same seed and test
    fraction, so the test genes are the ones the search never saw) and records
    the study in the model's ``provenance.json`` (``"tuning"``), like
    ``deepdife train --from-study``.  Progress events are those of a train job.

TensorFlow is imported only by the ``tune_train`` job (through training); the
``tune`` job's process never trains.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from deepdife_core.config import RunConfig, TrainConfig, config_from_dict
from deepdife_core.data.io import load_dataset, read_orthologs
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import check_name
from deepdife_core.jobs.runner import LOG_FILE, STOP_FILE
from deepdife_core.train.fit import stop_file_check, train_dataset
from deepdife_core.tune import study as tune

#: seconds the workers get to end after a stop request before they are terminated
STOP_GRACE_S = 60.0
#: seconds a terminated worker gets before it is killed
KILL_GRACE_S = 10.0
FINISHED_STATES = ("COMPLETE", "PRUNED", "FAIL")


# ----------------------------------------------------------------------------- helpers


def _int_arg(args: dict[str, Any], key: str, default: int | None = None, *, minimum: int = 1) -> int:
    value = args.get(key, default)
    try:
        out = int(value)
    except (TypeError, ValueError):
        raise DeepDifEInputError(f"{key} must be a whole number, got {value!r}") from None
    if out < minimum:
        raise DeepDifEInputError(f"{key} must be >= {minimum}, got {out}")
    return out


def _trial_event(t) -> dict[str, Any]:
    """The ``trial`` progress event of a finished Optuna trial."""
    dur = None
    if t.datetime_start is not None and t.datetime_complete is not None:
        dur = round((t.datetime_complete - t.datetime_start).total_seconds(), 3)
    return {
        "event": "trial",
        "number": t.number,
        "state": t.state.name,
        "value": t.value if t.state.name == "COMPLETE" else None,
        "duration_s": dur,
        "epochs": t.user_attrs.get("epochs"),
        "params": dict(t.params),
    }


def _counts(trials) -> dict[str, int]:
    c = {s: 0 for s in ("complete", "pruned", "running", "fail", "waiting")}
    for t in trials:
        key = t.state.name.lower()
        c[key] = c.get(key, 0) + 1
    c["finished"] = c["complete"] + c["pruned"]
    return c


def _last_error_line(log: Path) -> str | None:
    """The last ``error: ...`` line a worker printed into the job log (None if there is none)."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        if line.startswith("error: "):
            return line[len("error: ") :].strip()
    return None


def _end_workers(procs: list[subprocess.Popen]) -> None:
    """Terminate workers that are still alive, then kill those that ignore it."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + KILL_GRACE_S
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


# ----------------------------------------------------------------------------- the tuning job


def _prepare(args: dict[str, Any], workspace: Path) -> dict:
    """:func:`deepdife_core.tune.study.prepare_study` from job args (new study or resume)."""
    space = tune.SearchSpace.from_dict(args["space"]) if args.get("space") is not None else None
    tcfg = tune.TuneConfig.from_dict(args["tune"]) if args.get("tune") is not None else None
    base = config_from_dict(args["base"]) if args.get("base") is not None else None
    return tune.prepare_study(
        args["study"],
        data=args.get("data"),
        space=space,
        tune=tcfg,
        base=base,
        workspace=workspace,
    )


def run(writer, args: dict[str, Any]) -> tuple[str, dict]:
    """Run (or resume) a tuning study with local worker processes; see the module docstring.

    Parameters
    ----------
    writer
        The job's :class:`deepdife_core.jobs.runner._JobWriter` (``event``, ``stop_requested``, ``folder``).
    args
        ``study``, ``workspace``, ``trials``, ``workers`` and, for a new study,
        ``data`` / ``space`` / ``tune`` / ``base``.

    Returns
    -------
    tuple of str, dict
        ``"done"`` or ``"stopped"``, and the result: study, storage (password
        hidden), counts, best (or None), trials target, workers, trials finished
        by this job.
    """
    import optuna

    if not args.get("study"):
        raise DeepDifEInputError("the tuning job needs a study name")
    name = str(args["study"])
    n_trials = _int_arg(args, "trials")
    n_workers = _int_arg(args, "workers", 1)
    heartbeat = _int_arg(args, "heartbeat", 10)
    poll_s = float(args.get("poll_s", 1.0))
    workspace = tune.workspace_dir(args.get("workspace"))

    rec = _prepare(args, workspace)
    url = rec["storage_url"]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=name, storage=tune.open_storage(url))
    trials = study.get_trials(deepcopy=False)
    seen = {t.number for t in trials if t.state.name in FINISHED_STATES}
    counts = _counts(trials)
    writer.event(
        {
            "event": "start",
            "study": name,
            "storage": rec["storage"],
            "trials": n_trials,
            "workers": n_workers,
            "metric": rec["metric"],
            "direction": rec["direction"],
            "counts": counts,
        }
    )
    if writer.stop_requested():
        return "stopped", _result(name, url, rec, n_trials, n_workers, counts, new=0, stopped=True)

    stop_file = writer.folder / STOP_FILE
    procs = [
        tune.spawn_worker(
            name,
            n_trials,
            storage=url,
            workspace=workspace,
            worker_index=i,
            heartbeat_interval=heartbeat,
            stop_file=stop_file,
        )
        for i in range(n_workers)
    ]
    new = 0
    stopping = False
    stop_deadline = float("inf")

    def watch() -> None:
        nonlocal counts, new
        trials = study.get_trials(deepcopy=False)
        for t in sorted(trials, key=lambda t: t.number):
            if t.state.name in FINISHED_STATES and t.number not in seen:
                seen.add(t.number)
                new += t.state.name != "FAIL"
                writer.event(_trial_event(t))
        now = _counts(trials)
        if now != counts:
            counts = now
            writer.event({"event": "counts", **counts})

    try:
        while True:
            watch()
            if all(p.poll() is not None for p in procs):
                break
            if not stopping and writer.stop_requested():
                stopping = True
                stop_deadline = time.monotonic() + STOP_GRACE_S
                writer.event({"event": "stopping"})
            if stopping and time.monotonic() > stop_deadline:
                _end_workers(procs)
                break
            time.sleep(poll_s)
    finally:
        _end_workers(procs)  # no orphan workers, whatever ends this loop
    watch()

    stopped = stopping or writer.stop_requested()
    codes = [p.returncode for p in procs]
    if not stopped:
        bad = [(i, c) for i, c in enumerate(codes) if c != 0]
        if bad:
            i, code = bad[0]
            if code == 2:  # the worker's own readable error (e.g. several trials in a row failed)
                msg = _last_error_line(writer.folder / LOG_FILE) or "see the job's log.txt"
                raise DeepDifEInputError(
                    f"tuning worker {i} stopped: {msg}; finished trials are kept, fix the cause and resume the study"
                )
            raise RuntimeError(f"tuning worker {i} ended with exit code {code}")
    return ("stopped" if stopped else "done"), _result(
        name, url, rec, n_trials, n_workers, counts, new=new, stopped=stopped
    )


def _result(
    name: str, url: str, rec: dict, n_trials: int, n_workers: int, counts: dict, *, new: int, stopped: bool
) -> dict:

    best = None
    if counts.get("complete"):
        best = tune.best_params(name, url)
    return {
        "study": name,
        "storage": rec["storage"],
        "record": rec.get("record_path"),
        "counts": counts,
        "best": best,
        "trials": n_trials,
        "workers": n_workers,
        "finished_by_job": new,
        "stopped": stopped,
    }


# ----------------------------------------------------------------------------- training with the best parameters


def best_run_config(
    name: str,
    *,
    workspace: str | Path | None = None,
    storage: str | None = None,
    epochs: int | None = None,
    patience: int | None = None,
) -> tuple[RunConfig, dict, dict]:
    """Build the configs of a final model: the study's base configs with the best trial's parameters.

    Training length: ``epochs`` and early-stopping ``patience`` (default: the
    :class:`TrainConfig` defaults, not the study's short tuning budget); the
    learning-rate schedule patience is the :class:`TrainConfig` default too.
    The seed and split fractions stay the study's, so the test genes of the
    final model are those the search never saw.

    Parameters
    ----------
    name : str
        The study's name.
    workspace : str or pathlib.Path, optional
        The tuning workspace (default: :func:`deepdife_core.tune.study.workspace_dir`).
    storage : str, optional
        Storage URL of the study (default: the one in its record).
    epochs : int, optional
        Maximum epochs of the final training (default: ``TrainConfig().epochs``).
    patience : int, optional
        Early-stopping patience (default: ``TrainConfig().early_stopping_patience``).

    Returns
    -------
    config : RunConfig
        The configs of the final model.
    best : dict
        :func:`deepdife_core.tune.study.best_params` of the study.
    record : dict
        The study record (``data``, ``base``, ``orthologs``, ...).

    Raises
    ------
    DeepDifEInputError
        If there is no study named ``name`` in the workspace.
    """
    rec = tune.load_record(name, workspace)
    if rec is None:
        raise DeepDifEInputError(f"no study named {name!r} in {tune.studies_dir(workspace)}; run the study first")
    url = tune.resolve_storage(name, storage, workspace)
    best = tune.best_params(name, url)
    base = config_from_dict(rec["base"])
    defaults = TrainConfig()
    tc = replace(
        base.train,
        epochs=int(epochs if epochs is not None else defaults.epochs),
        early_stopping_patience=int(patience if patience is not None else defaults.early_stopping_patience),
        reduce_lr_patience=defaults.reduce_lr_patience,
    )
    mc, tc, aug, phylo = tune.apply_params(best["params"], base.model, tc, base.augment, base.phylo)
    return replace(base, model=mc, train=tc, augment=aug, phylo=phylo), best, rec


def tuning_provenance(best: dict) -> dict:
    """Build the ``"tuning"`` entry of a model's provenance (as ``deepdife train --from-study`` writes it).

    Parameters
    ----------
    best : dict
        :func:`deepdife_core.tune.study.best_params` (``study``, ``trial``, ``metric``,
        ``value``, ``params``).

    Returns
    -------
    dict
        ``{"tuning": {"study", "trial", "metric", "value", "params"}}``.
    """
    return {
        "tuning": {
            "study": best["study"],
            "trial": best["trial"],
            "metric": best["metric"],
            "value": best["value"],
            "params": best["params"],
        }
    }


def run_train_best(writer, args: dict[str, Any]) -> tuple[str, dict]:
    """Train a model with the best parameters of a study (job kind ``tune_train``).

    Parameters
    ----------
    writer : _JobWriter
        The job's writer (``event``, ``stop_requested``, ``folder``).
    args : dict
        ``study``, ``model_name``, ``models_root``, optional ``epochs``, ``patience``,
        ``workspace`` and ``dataset_name``.

    Returns
    -------
    state : str
        ``"done"`` or ``"stopped"``.
    result : dict
        The result of a train job (``model_path``, ``model_name``, ``metrics``,
        ``stopped``, ``epochs_run``) plus ``study`` and ``trial``.

    Raises
    ------
    DeepDifEInputError
        Without a study name, for an existing model name or when the study's dataset is gone.
    """
    name = str(args.get("study") or "")
    if not name:
        raise DeepDifEInputError("the training job needs a study name")
    model_name = check_name(str(args.get("model_name") or ""))
    out = Path(args["models_root"]) / model_name
    if out.exists():
        raise DeepDifEInputError(f"a model named {model_name!r} already exists; choose another name")
    epochs = _int_arg(args, "epochs") if args.get("epochs") is not None else None
    patience = _int_arg(args, "patience", minimum=0) if args.get("patience") is not None else None
    workspace = tune.workspace_dir(args.get("workspace"))
    cfg, best, rec = best_run_config(name, workspace=workspace, epochs=epochs, patience=patience)
    data_path = Path(rec["data"])
    if not data_path.exists():
        raise DeepDifEInputError(f"the dataset of study {name!r} ({data_path}) is gone; it cannot be trained on")
    df = load_dataset(data_path)
    orthologs = None
    if rec.get("orthologs"):
        o = rec["orthologs"]
        orthologs = read_orthologs(o["table"], o.get("fasta") or [])
    if writer.stop_requested():
        return "stopped", {"model_path": None, "stopped": True, "note": "stopped before training began"}
    res = train_dataset(
        df,
        model_cfg=cfg.model,
        train_cfg=cfg.train,
        augment_cfg=cfg.augment,
        phylo_cfg=cfg.phylo,
        orthologs=orthologs,
        out=out,
        dataset_name=str(args.get("dataset_name") or data_path.stem),
        progress=writer.event,
        should_stop=stop_file_check(writer.folder / STOP_FILE),
        provenance={**tuning_provenance(best), "job_id": writer.folder.name, "source": "dashboard"},
    )
    result = {
        "model_path": str(res.path) if res.path else None,
        "model_name": model_name,
        "metrics": res.metrics,
        "stopped": res.stopped,
        "epochs_run": len(res.history),
        "study": name,
        "trial": best["trial"],
    }
    return ("stopped" if res.stopped else "done"), result


__all__ = ["best_run_config", "run", "run_train_best", "tuning_provenance"]
