"""What the Tune page reads and starts, without Streamlit: search-space form values, studies, trials, figures, jobs.

Studies live in ``workspace/studies`` (``dashboard.paths.studies_dir()``, the same
folder as ``deepdife_core.tune.study.studies_dir(workspace)``): ``<name>.json`` records
the storage URL (password hidden), the data, the space and the settings, and
``<name>.db`` is the default SQLite storage.  Everything the page shows is read
from there and from the job folders, so a reload shows the same.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from dashboard import jobs
from dashboard.constants import LIVE_STATES
from dashboard.datasets import list_datasets
from dashboard.paths import models_dir, workspace_dir
from deepdife_core.config import RunConfig, config_to_dict
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import check_name
from deepdife_core.tune import study as tune

TUNE_KIND = "tune"
TRAIN_KIND = "tune_train"

#: what each parameter means (form help)
PARAM_HELP: dict[str, str] = {
    "learning_rate": "Adam step size (searched on a log scale).",
    "kernel_size": "Width in bp of the first convolution's filters (motif length).",
    "n_conv": "Number of convolution layers.",
    "filters": "Filters of the first convolution (motif detectors).",
    "dropout": "Dropout rate after each convolution and dense layer.",
    "dense_units": "Units of the first dense layer (the second has half).",
    "batch_size": "Genes per gradient step.",
    "l2": "L2 penalty on all kernels (searched on a log scale).",
    "evoaug": "EvoAug augmentations during training (on/off).",
    "evoaug_strength": "Multiplies the EvoAug magnitudes (only used in trials with EvoAug on).",
    "phylo_rate": "PhyloAug swap probability: searched only when the orthologs are given (below the search space).",
}
#: parameters the page cannot search (they need inputs the dashboard does not take)
#: parameters that can only be fixed in the form (none: phylo_rate is searched when orthologs are uploaded)
FIXED_ONLY: tuple[str, ...] = ()


# ----------------------------------------------------------------------------- search-space form


def default_params() -> dict[str, tune.Param]:
    """The default :class:`~deepdife_core.tune.study.Param` of every parameter (form defaults)."""
    return dict(tune.SearchSpace().params)


def format_choices(choices: tuple | list) -> str:
    """``(16, 32, 64)`` -> ``"16, 32, 64"``."""
    return ", ".join(str(c) for c in choices)


def parse_choices(text: str, name: str) -> list[int]:
    """Whole-number choices typed as ``"16, 32, 64"``.

    Raises
    ------
    DeepDifEInputError
        Empty, not whole numbers, or not positive.
    """
    parts = [p.strip() for p in str(text).replace(";", ",").split(",") if p.strip()]
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise DeepDifEInputError(
            f"tuning parameter {name!r}: choices {text!r} are not whole numbers; write them like 16, 32, 64"
        ) from None
    if not values:
        raise DeepDifEInputError(f"tuning parameter {name!r}: give at least one choice, e.g. 16, 32, 64")
    if min(values) < 1:
        raise DeepDifEInputError(f"tuning parameter {name!r}: choices must be >= 1, got {min(values)}")
    return list(dict.fromkeys(values))


def space_from_form(values: dict[str, dict[str, Any]]) -> tune.SearchSpace:
    """A :class:`~deepdife_core.tune.study.SearchSpace` from the form's per-parameter values.

    ``values[name]`` holds ``free`` and ``value`` and, for numeric parameters,
    ``low`` / ``high``, for categorical ones ``choices`` (a list, or text for
    whole-number choices).  Missing parameters keep their defaults.

    Raises
    ------
    DeepDifEInputError
        A bad range (low > high, log scale with low <= 0), bad choices, or no
        parameter searched.
    """
    defaults = default_params()
    spec: dict[str, dict[str, Any]] = {}
    for name, val in values.items():
        if name not in defaults:
            raise DeepDifEInputError(f"unknown tuning parameter {name!r}")
        p = defaults[name]
        free = bool(val.get("free", p.free)) and name not in FIXED_ONLY
        entry: dict[str, Any] = {"free": free, "value": val.get("value", p.value)}
        if p.kind == "categorical":
            choices = val.get("choices", list(p.choices))
            if isinstance(choices, str):
                choices = parse_choices(choices, name)
            entry["choices"] = list(choices)
            if free and not entry["choices"]:
                raise DeepDifEInputError(f"tuning parameter {name!r}: pick at least one choice or fix it")
        else:
            cast = float if p.kind == "float" else int
            for key in ("low", "high"):
                if key in val and val[key] is not None:
                    entry[key] = cast(val[key])
            entry["value"] = cast(entry["value"])
        spec[name] = entry
    space = tune.SearchSpace.from_dict(spec)
    if not space.free_names:
        raise DeepDifEInputError("no parameter is searched: tick 'Search' for at least one parameter")
    return space


def base_config(*, epochs: int, patience: int, seed: int) -> RunConfig:
    """The study's base run: :func:`deepdife_core.tune.study.default_base` with the page's epochs, patience and seed."""
    base = tune.default_base()
    return replace(
        base, train=replace(base.train, epochs=int(epochs), early_stopping_patience=int(patience), seed=int(seed))
    )


# ----------------------------------------------------------------------------- studies and trials


def studies() -> list[dict]:
    """Study records of the workspace, newest first (:func:`deepdife_core.tune.study.list_studies`)."""
    return tune.list_studies(workspace_dir())


def record(name: str) -> dict | None:
    """The study's record (``<workspace>/studies/<name>.json``), or None."""
    return tune.load_record(name, workspace_dir())


def storage_url(name: str) -> str:
    """The storage URL recorded for the study (never shown: it may hold a password).

    Raises
    ------
    DeepDifEInputError
        The record hides a password (a study made with ``deepdife tune --storage``).
    """
    return tune.resolve_storage(name, None, workspace_dir())


def load_study(name: str, url: str):
    """The Optuna study ``name`` in ``url`` (read only)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        return optuna.load_study(study_name=name, storage=tune.open_storage(url))
    except KeyError:
        raise DeepDifEInputError(f"no study named {name!r} in {tune.hide_password(url)}") from None


def trials(name: str, url: str) -> pd.DataFrame:
    """:func:`deepdife_core.tune.study.trials_table` of the study."""
    return tune.trials_table(name, url)


def counts(table: pd.DataFrame) -> dict[str, int]:
    """Trials by state (``complete``, ``pruned``, ``running``, ``fail``, ``waiting``) and ``finished``."""
    states = table["state"].str.lower().value_counts().to_dict() if len(table) else {}
    out = {s: int(states.get(s, 0)) for s in ("complete", "pruned", "running", "fail", "waiting")}
    out["finished"] = out["complete"] + out["pruned"]
    return out


def fmt_value(value: Any) -> Any:
    """A parameter value for display: small/large floats in e-notation, others rounded to 4 decimals."""
    if isinstance(value, float) and math.isfinite(value) and value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.3e}"
    if isinstance(value, float):
        return round(value, 4)
    return value


def params_text(params: dict[str, Any]) -> str:
    """``learning_rate=1.2e-03, dropout=0.31`` (for a table cell)."""
    return ", ".join(f"{k}={fmt_value(v)}" for k, v in params.items())


def trials_display(table: pd.DataFrame) -> pd.DataFrame:
    """The trial table as shown: number, state, value, duration (s; so far for a running trial), epochs (all
    folds), params (text)."""
    duration = pd.to_numeric(table["duration_s"], errors="coerce")
    running = (table["state"] == "RUNNING").to_numpy() & table["started"].notna().to_numpy()
    if running.any():  # a running trial shows how long it has been running
        started = pd.to_datetime(table.loc[running, "started"])
        duration[running] = (pd.Timestamp.now(tz=started.dt.tz) - started).dt.total_seconds().to_numpy()
    out = pd.DataFrame(
        {
            "number": table["number"].astype(int),
            "state": table["state"].astype(str),
            "value": pd.to_numeric(table["value"], errors="coerce"),
            "duration_s": duration,
            "epochs": pd.to_numeric(table["epochs"], errors="coerce"),
            "params": [params_text(p) for p in table["params"]],
        }
    )
    return out.sort_values("number", ascending=False).reset_index(drop=True)


def best(name: str, url: str) -> dict | None:
    """:func:`deepdife_core.tune.study.best_params`, or None before the first completed trial."""
    try:
        return tune.best_params(name, url)
    except DeepDifEInputError:
        return None


def table_stamp(table: pd.DataFrame) -> tuple:
    """Changes whenever a trial starts, reports, or finishes (cache key of the figures)."""
    return tuple(
        zip(table["number"].tolist(), table["state"].tolist(), table["last_step"].fillna(-1).tolist(), strict=True)
    )


def _varying(study, names: list[str]) -> list[str]:
    from optuna.trial import TrialState

    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return [n for n in names if len({repr(t.params.get(n)) for t in done}) > 1]


def study_figures(name: str, url: str) -> dict[str, Any]:
    """Optuna's plotly figures of the study and, for a missing figure, why.

    Returns
    -------
    dict
        ``history``, ``parallel``, ``importances``: a plotly figure or None;
        ``notes``: ``{figure: reason}`` for each None.
    """
    import optuna
    from optuna.trial import TrialState

    study = load_study(name, url)
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    out: dict[str, Any] = {"history": None, "parallel": None, "importances": None, "notes": {}}
    notes = out["notes"]
    if not done:
        msg = "appears after the first completed trial"
        notes.update(history=msg, parallel=msg, importances=msg)
        return out
    vis = optuna.visualization
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out["history"] = vis.plot_optimization_history(study)
        params = sorted({k for t in done for k in t.params})
        if params:
            out["parallel"] = vis.plot_parallel_coordinate(study)
        else:
            notes["parallel"] = "no parameter is searched"
        varying = _varying(study, params)
        if len(done) < 2:
            notes["importances"] = "need at least 2 completed trials"
        elif not varying:
            notes["importances"] = "the completed trials do not differ in any parameter yet"
        else:
            try:
                out["importances"] = vis.plot_param_importances(study, params=varying)
            except (ValueError, RuntimeError) as exc:  # e.g. the trials share no search space yet
                notes["importances"] = f"not available yet ({str(exc).splitlines()[0]})"
    for key in ("history", "parallel", "importances"):
        fig = out[key]
        if fig is not None:
            fig.update_layout(height=360, margin={"l": 50, "r": 20, "t": 50, "b": 45})
    return out


# ----------------------------------------------------------------------------- jobs


def jobs_of(name: str, kind: str = TUNE_KIND) -> list[dict]:
    """Jobs of ``kind`` working on study ``name``, newest first."""
    return [j for j in jobs.list_kind(kind) if (j.get("args") or {}).get("study") == name]


def live_job(name: str, kind: str = TUNE_KIND) -> dict | None:
    """The newest queued/running job of ``kind`` on the study, or None."""
    return next((j for j in jobs_of(name, kind) if j["state"] in LIVE_STATES), None)


def _check_idle(name: str) -> None:
    job = live_job(name)
    if job is not None:
        raise DeepDifEInputError(f"study {name!r} is already running in job {job['id']}; stop it first or wait")


def start_study(
    name: str,
    *,
    data: str | Path,
    space: tune.SearchSpace,
    settings: tune.TuneConfig,
    base: RunConfig,
    trials: int,
    workers: int,
    orthologs: dict[str, Any] | None = None,
) -> str:
    """Create (or join, with the same settings) study ``name`` now, then run it in a background job.

    The study and its record are created here, before the job starts, so bad
    input (a name in use with other settings or another dataset, too few
    families for the folds, ...) is reported at once. ``orthologs`` (from
    :func:`dashboard.jobs.save_ortholog_uploads`) turn PhyloAug on in every trial
    and let the search include ``phylo_rate`` (``deepdife tune --orthologs``).

    Returns
    -------
    str
        The job id.
    """
    check_name(name, "study name")
    if trials < 1 or workers < 1:
        raise DeepDifEInputError("trials and workers must be at least 1")
    _check_idle(name)
    if space.params["phylo_rate"].free and not orthologs:
        raise DeepDifEInputError(
            "phylo_rate is searched but no orthologs are given: upload the ortholog table and FASTA, or fix phylo_rate"
        )
    orth = {"table": orthologs["table"], "fasta": list(orthologs["fastas"])} if orthologs else None
    rec = tune.prepare_study(
        name, data=data, space=space, tune=settings, base=base, orthologs=orth, workspace=workspace_dir()
    )
    _check_budget(name, rec["storage_url"], trials)
    args = {
        "study": name,
        "workspace": str(workspace_dir()),
        "data": str(Path(data).resolve()),
        "trials": int(trials),
        "workers": int(workers),
        "space": space.to_dict(),
        "tune": settings.to_dict(),
        "base": config_to_dict(base),
    }
    return jobs.start_kind(TUNE_KIND, args)


def resume_study(name: str, *, trials: int, workers: int) -> str:
    """Run more trials of a recorded study (its own data and settings) in a background job; returns the job id."""
    check_name(name, "study name")
    if workers < 1:
        raise DeepDifEInputError("workers must be at least 1")
    _check_idle(name)
    rec = tune.prepare_study(name, workspace=workspace_dir())
    _check_budget(name, rec["storage_url"], trials)
    args = {"study": name, "workspace": str(workspace_dir()), "trials": int(trials), "workers": int(workers)}
    return jobs.start_kind(TUNE_KIND, args)


def _check_budget(name: str, url: str, trials: int) -> None:
    """Refuse a budget the study has reached already (the job would end at once)."""
    done = counts(trials_table_or_empty(name, url))["finished"]
    if trials <= done:
        raise DeepDifEInputError(
            f"study {name!r} has {done} finished trials already; set the total number of trials above {done}"
        )


def trials_table_or_empty(name: str, url: str) -> pd.DataFrame:
    """The trial table, or an empty one with the same columns."""
    try:
        return tune.trials_table(name, url)
    except DeepDifEInputError:
        return pd.DataFrame(columns=tune.TRIALS_COLUMNS)


def dataset_name_for(path: str | Path) -> str:
    """The workspace dataset whose table is ``path`` (else the file's stem)."""
    target = Path(path).resolve()
    for ds in list_datasets():
        if Path(ds["path"]).resolve() == target:
            return ds["name"]
    return target.stem


def start_train_best(name: str, *, model_name: str, epochs: int, patience: int) -> str:
    """Train a model with the study's best parameters in a background job; returns the job id."""
    model_name = check_name(model_name.strip())
    if (models_dir() / model_name).exists():
        raise DeepDifEInputError(f"a model named {model_name!r} already exists; choose another name")
    for job in jobs.list_kind(TRAIN_KIND) + jobs.list_train_jobs():
        if job["state"] in LIVE_STATES and (job.get("args") or {}).get("model_name") == model_name:
            raise DeepDifEInputError(f"job {job['id']} is already producing a model named {model_name!r}")
    if epochs < 1 or patience < 0:
        raise DeepDifEInputError("epochs must be >= 1 and patience >= 0")
    rec = record(name)
    if rec is None:
        raise DeepDifEInputError(f"no study named {name!r} in this workspace")
    if best(name, storage_url(name)) is None:
        raise DeepDifEInputError(f"study {name!r} has no completed trial yet; wait for one")
    args = {
        "study": name,
        "workspace": str(workspace_dir()),
        "model_name": model_name,
        "models_root": str(models_dir()),
        "epochs": int(epochs),
        "patience": int(patience),
        "dataset_name": dataset_name_for(rec["data"]),
    }
    return jobs.start_kind(TRAIN_KIND, args)
