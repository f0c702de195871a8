"""Background job of the Experiments page (kind ``"experiment"`` of :data:`deepdife_core.jobs.runner.RUNNERS`).

``args``: ``kind`` (an experiment), ``out`` (the results folder to create), ``model_path``,
``dataset_path``, ``motifs`` (specs), ``config`` (:meth:`ExperimentConfig.to_dict`),
``gene`` (tile), ``db_cache`` and ``motifs_root`` (where JASPAR and motif runs are read).
Events: ``{"event": "stage", "text"}``, then ``{"event": "scored", "stage", "done", "total"}``
after every chunk; the ``stop`` file ends it at the next chunk with nothing written.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from deepdife_core.data.io import load_dataset
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.experiments.config import ExperimentConfig
from deepdife_core.experiments.runs import run_experiment, save_run
from deepdife_core.experiments.scoring import ExperimentStoppedError
from deepdife_core.experiments.sources import motif_source
from deepdife_core.files import check_name
from deepdife_core.model.folder import load_model, model_data_config


def run(writer, args: dict[str, Any]) -> tuple[str, dict]:
    """Run one experiment and write its folder.

    Parameters
    ----------
    writer : _JobWriter
        The job's writer (``event``, ``stop_requested``, ``folder``).
    args : dict
        The experiment's job arguments (see the module docstring).

    Returns
    -------
    state : str
        ``"done"``, or ``"stopped"`` when a stop was asked for.
    result : dict
        ``{"run_id", "folder", "kind", "seconds", "stopped": False}`` when done,
        ``{"run_id": None, "stopped": True, "note"}`` when stopped.

    Raises
    ------
    DeepDifEInputError
        For missing arguments or an existing experiment name.
    """
    t0 = time.perf_counter()
    for key in ("kind", "out", "model_path", "dataset_path"):
        if not args.get(key):
            raise DeepDifEInputError(f"the experiment job needs '{key}'")
    out = Path(args["out"])
    check_name(out.name, "experiment name")
    if out.exists():
        raise DeepDifEInputError(f"an experiment named {out.name!r} already exists; choose another name")
    cfg = ExperimentConfig.from_dict(args.get("config"))
    writer.event({"event": "stage", "text": "Reading the motifs…"})
    motifs = [
        motif_source(s, cache_dir=args.get("db_cache"), motifs_root=args.get("motifs_root") or "workspace/motifs")
        for s in args.get("motifs") or []
    ]
    writer.event({"event": "stage", "text": "Loading the model and the dataset…"})
    predictor = load_model(args["model_path"])
    fit = model_data_config(predictor)
    df = load_dataset(args["dataset_path"], cfg=fit)
    if writer.stop_requested():
        return "stopped", {"run_id": None, "stopped": True, "note": "stopped before it began"}
    writer.event({"event": "stage", "text": f"Running the {args['kind']} experiment…"})
    try:
        res = run_experiment(
            args["kind"],
            predictor,
            df,
            motifs,
            cfg,
            gene=args.get("gene"),
            pad_side=fit.pad_side,
            progress=writer.event,
            should_stop=writer.stop_requested,
        )
    except ExperimentStoppedError:
        return "stopped", {"run_id": None, "stopped": True, "note": "stopped; nothing was saved"}
    meta = {
        "model": Path(args["model_path"]).name,
        "dataset": args.get("dataset_name") or Path(args["dataset_path"]).parent.name,
        "job_id": writer.folder.name,
    }
    save_run(out, res, meta)
    return "done", {
        "run_id": out.name,
        "folder": str(out),
        "kind": args["kind"],
        "seconds": round(time.perf_counter() - t0, 2),
        "stopped": False,
    }
