"""Hyperparameter tuning with Optuna: search space, CV objective, workers, storage.

Contract
--------
* One Optuna study per name.  Its storage is any SQLAlchemy URL; by default a
  SQLite file ``<workspace>/studies/<name>.db``.  :func:`prepare_study` creates the
  storage tables and the study *before* any worker starts (concurrent creation
  races) and writes ``<workspace>/studies/<name>.json``: storage URL (password
  hidden), data path and fingerprint, search space, settings, base configs.
  The same settings are kept in the study's user attributes, so a second
  machine joining the study (same PostgreSQL URL) uses the same search.
* The objective is the mean grouped-CV validation auROC (maximised) or loss
  (minimised) on the non-test genes (the test part is set aside exactly as
  :func:`~deepdife_core.train.fit.cross_validate` does, so a final model trained
  with the best parameters is evaluated on genes the search never saw).  After
  every epoch of every fold the validation value is reported at step
  ``fold * steps_per_fold + epoch`` and the pruner (median by default,
  Hyperband selectable) may stop the trial (``optuna.TrialPruned``).
* ``n_trials`` is the study's budget: workers run trials until that many are
  finished (complete or pruned).  Running trials of other workers count; failed
  ones do not.  Local workers serialise "count, then start a trial" with a file
  lock next to the record, so the budget is exact; workers on other machines
  may overshoot it by at most one trial each.
* Workers record a heartbeat in the storage; a trial whose worker died (e.g.
  SIGKILL) is marked FAIL once its heartbeat is older than the grace period,
  and its place in the budget is given to a new trial.  Completed trials are
  never touched, so a killed study resumes where it stopped.

Nothing here imports Streamlit; TensorFlow is imported only when a trial runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import json
import math
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from deepdife_core.config import (
    AugmentConfig,
    ModelConfig,
    PhyloConfig,
    RunConfig,
    TrainConfig,
    config_from_dict,
    config_to_dict,
)
from deepdife_core.data.io import load_dataset, read_orthologs, validate_training_set
from deepdife_core.data.split import grouped_kfold
from deepdife_core.errors import DeepDifEError, DeepDifEInputError
from deepdife_core.files import atomic_write_csv, atomic_write_json, check_name, fingerprint_dataset, now_iso
from deepdife_core.model.cnn import _keras
from deepdife_core.train.fit import cross_validate, heldout_test

#: environment variable that carries the storage URL to worker processes (not their command line)
STORAGE_ENV = "DEEPDIFE_TUNE_STORAGE"
#: exit code of a spawned worker that found the disk full (it prints nothing: the parent says it once)
DISK_FULL_EXIT = 28
#: set in a spawned worker's environment
WORKER_ENV = "DEEPDIFE_TUNE_WORKER"
#: how a full disk shows through SQLite / SQLAlchemy / Optuna (they wrap the OSError in their own types)
_DISK_FULL_TEXT = ("database or disk is full", "no space left on device", "disk quota exceeded", "sqlite_full")
METRICS = ("auroc", "loss")
SAMPLERS = ("tpe", "random")
PRUNERS = ("median", "hyperband", "none")
KINDS = ("float", "int", "categorical")


# ----------------------------------------------------------------------------- search space


@dataclass(frozen=True)
class Param:
    """One hyperparameter: searched between ``low`` and ``high`` (or over ``choices``) or fixed at ``value``.

    ``free=False`` fixes it at ``value``; ``value`` is also the default used when a
    free parameter does not apply.  JSON-serialisable (:meth:`to_dict`).
    """

    kind: str
    value: Any
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: int | None = None
    choices: tuple = ()
    free: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "choices", tuple(self.choices))
        if self.kind not in KINDS:
            raise DeepDifEInputError(f"parameter kind {self.kind!r} is unknown; use one of {', '.join(KINDS)}")
        if not self.free:
            return
        if self.kind == "categorical":
            if not self.choices:
                raise DeepDifEInputError("a free categorical parameter needs at least one choice")
            return
        if self.low is None or self.high is None:
            raise DeepDifEInputError("a free numeric parameter needs low and high bounds")
        if self.low > self.high:
            raise DeepDifEInputError(f"lower bound {self.low} is above upper bound {self.high}")
        if self.log and self.low <= 0:
            raise DeepDifEInputError(f"a log-scaled parameter needs a lower bound > 0, got {self.low}")

    def suggest(self, trial, name: str) -> Any:
        """Ask ``trial`` for this parameter's value (the fixed ``value`` when not free).

        Parameters
        ----------
        trial : optuna.trial.Trial
            The running trial.
        name : str
            The parameter's name in the trial.

        Returns
        -------
        object
            A float, int (``step``, or 1 on a log scale) or one of ``choices``.
        """
        if not self.free:
            return self.value
        if self.kind == "float":
            return trial.suggest_float(name, float(self.low), float(self.high), log=self.log)
        if self.kind == "int":
            step = 1 if self.log else int(self.step or 1)
            return trial.suggest_int(name, int(self.low), int(self.high), step=step, log=self.log)
        return trial.suggest_categorical(name, list(self.choices))

    def to_dict(self) -> dict:
        """Return the fields as a JSON-able dict (``choices`` as a list).

        Returns
        -------
        dict
            Field name -> value.
        """
        d = dataclasses.asdict(self)
        d["choices"] = list(self.choices)
        return d


def _default_params() -> dict[str, Param]:
    mc, tc, aug = ModelConfig(), TrainConfig(), AugmentConfig()
    return {
        "learning_rate": Param("float", tc.learning_rate, 1e-4, 1e-2, log=True),
        "kernel_size": Param("int", mc.kernel_size, 6, 24, step=2),
        "n_conv": Param("int", mc.n_conv, 1, 4),
        "filters": Param("categorical", mc.filters, choices=(16, 32, 64, 128)),
        "dropout": Param("float", mc.dropout, 0.0, 0.5),
        "dense_units": Param("categorical", mc.dense_units[0], choices=(32, 64, 128, 256)),
        "batch_size": Param("categorical", tc.batch_size, choices=(32, 64, 100, 128)),
        "l2": Param("float", mc.l2, 1e-8, 1e-3, log=True),
        "evoaug": Param("categorical", aug.enabled, choices=(False, True)),
        "evoaug_strength": Param("float", 1.0, 0.25, 2.0),
        "phylo_rate": Param("float", PhyloConfig().rate, 0.1, 1.0, free=False),
    }


PARAM_NAMES = tuple(_default_params())


def _known_param(name: str) -> str:
    """``name`` when it is one of :data:`PARAM_NAMES`, else a :class:`DeepDifEInputError` listing them."""
    if name not in PARAM_NAMES:
        raise DeepDifEInputError(f"unknown tuning parameter {name!r}; choose from {', '.join(PARAM_NAMES)}")
    return name


@dataclass(frozen=True)
class SearchSpace:
    """What a study searches.  Every parameter can be fixed or freed.

    * ``learning_rate`` (log), ``l2`` (log), ``dropout``: floats;
    * ``kernel_size`` (first convolution), ``n_conv``: ints; ``filters`` (first
      convolution), ``dense_units`` (first dense layer; the second has half),
      ``batch_size``: choices;
    * ``evoaug`` (on/off) and ``evoaug_strength`` (multiplies the EvoAug
      magnitudes: inserted/deleted/shifted bases, mutation fraction, noise;
      only searched in trials with EvoAug on);
    * ``phylo_rate``: PhyloAug swap probability, only meaningful with orthologs
      (fixed by default).

    Build from a form with :meth:`from_dict` (partial dicts are merged over the
    defaults), save with :meth:`to_dict`.
    """

    params: dict[str, Param] = field(default_factory=_default_params)

    def __post_init__(self) -> None:
        for k in self.params:
            _known_param(k)
        merged = {**_default_params(), **self.params}
        object.__setattr__(self, "params", {k: merged[k] for k in PARAM_NAMES})

    # -- construction
    @classmethod
    def from_dict(cls, data: dict | None) -> SearchSpace:
        """Build a space from a partial dict merged over the default parameters.

        E.g. ``{"learning_rate": {"low": 1e-4, "high": 1e-2}, "filters": {"free": false, "value": 32}}``;
        a value that is not a dict fixes the parameter at that value.

        Parameters
        ----------
        data : dict or None
            Parameter name -> :class:`Param` fields (or a fixed value).

        Returns
        -------
        SearchSpace
            The space (parameters not named keep their defaults).

        Raises
        ------
        DeepDifEInputError
            For an unknown parameter or field, or invalid bounds.
        """
        defaults = _default_params()
        out = {}
        for name, spec in (data or {}).items():
            _known_param(name)
            if not isinstance(spec, dict):
                spec = {"free": False, "value": spec}
            base = defaults[name].to_dict()
            bad = [k for k in spec if k not in base]
            if bad:
                raise DeepDifEInputError(f"tuning parameter {name!r}: unknown field {bad[0]!r}")
            base.update(spec)
            try:
                out[name] = Param(**base)
            except DeepDifEInputError as exc:
                raise DeepDifEInputError(f"tuning parameter {name!r}: {exc}") from None
        return cls(out)

    def to_dict(self) -> dict:
        """Return the space as a JSON-able dict (the form :meth:`from_dict` reads).

        Returns
        -------
        dict
            Parameter name -> :meth:`Param.to_dict`.
        """
        return {k: p.to_dict() for k, p in self.params.items()}

    def fix(self, **values: Any) -> SearchSpace:
        """Return a copy with the given parameters fixed at the given values.

        Parameters
        ----------
        **values
            Parameter name -> fixed value.

        Returns
        -------
        SearchSpace
            The new space, with ``values`` fixed.

        Raises
        ------
        DeepDifEInputError
            For an unknown parameter name.
        """
        upd = {k: replace(self.params[_known_param(k)], free=False, value=v) for k, v in values.items()}
        return SearchSpace({**self.params, **upd})

    def free(self, *names: str) -> SearchSpace:
        """Return a copy with the given parameters searched.

        Parameters
        ----------
        *names : str
            Parameter names to free.

        Returns
        -------
        SearchSpace
            The new space, with ``names`` searched.

        Raises
        ------
        DeepDifEInputError
            For an unknown parameter name.
        """
        upd = {k: replace(self.params[_known_param(k)], free=True) for k in names}
        return SearchSpace({**self.params, **upd})

    @property
    def free_names(self) -> tuple[str, ...]:
        """The names of the searched parameters, in :data:`PARAM_NAMES` order.

        Returns
        -------
        tuple of str
            The free parameters.
        """
        return tuple(k for k, p in self.params.items() if p.free)

    def fixed_values(self) -> dict[str, Any]:
        """Give every parameter's ``value`` (the fixed value, or the default of a free one).

        Returns
        -------
        dict
            Parameter name -> value.
        """
        return {k: p.value for k, p in self.params.items()}

    # -- use
    def suggest(self, trial) -> dict[str, Any]:
        """Ask ``trial`` for every free parameter (define-by-run).

        ``evoaug_strength`` is only searched in trials with EvoAug on, and ``phylo_rate``
        only when it is free.

        Parameters
        ----------
        trial : optuna.trial.Trial
            The running trial.

        Returns
        -------
        dict
            Every parameter's value, fixed ones included.
        """
        out = {}
        for name in PARAM_NAMES:
            if name == "evoaug_strength" and not out["evoaug"]:
                out[name] = self.params[name].value
                continue
            if name == "phylo_rate" and not self.params[name].free:
                out[name] = self.params[name].value
                continue
            out[name] = self.params[name].suggest(trial, name)
        return out

    def check_for(self, length: int, *, has_orthologs: bool) -> None:
        """Raise if some value of the space cannot work on ``length``-bp sequences.

        Parameters
        ----------
        length : int
            Sequence length ``L`` of the dataset.
        has_orthologs : bool
            Whether the study has orthologs (needed to search ``phylo_rate``).

        Raises
        ------
        DeepDifEInputError
            For a kernel longer than the sequences, a searched ``phylo_rate`` without
            orthologs, or fixed values the configs refuse.
        """
        k = self.params["kernel_size"]
        top = k.high if k.free else k.value
        if top is not None and int(top) > length:
            raise DeepDifEInputError(
                f"kernel_size {'upper bound ' if k.free else ''}{int(top)} is longer than the sequences ({length} bp)"
            )
        if self.params["phylo_rate"].free and not has_orthologs:
            raise DeepDifEInputError("phylo_rate is searched but no orthologs were given; add orthologs=...")
        # build the configs of the corners to surface other invalid values now
        apply_params(
            self.fixed_values(), ModelConfig(input_length=length), TrainConfig(), AugmentConfig(), PhyloConfig()
        )


def apply_params(
    params: dict[str, Any],
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    augment_cfg: AugmentConfig,
    phylo_cfg: PhyloConfig,
) -> tuple[ModelConfig, TrainConfig, AugmentConfig, PhyloConfig]:
    """Put the tuned parameters ``params`` into the four configs (missing keys keep the config's value).

    ``dense_units`` ``u`` gives the layers ``(u, u // 2)``; ``evoaug_strength`` ``s`` scales
    the EvoAug magnitudes (insert, delete, shift, mutation fraction capped at 1, noise).

    Parameters
    ----------
    params : dict
        Parameter name -> value (:data:`PARAM_NAMES`).
    model_cfg : ModelConfig
        The base model config.
    train_cfg : TrainConfig
        The base training config.
    augment_cfg : AugmentConfig
        The base EvoAug config.
    phylo_cfg : PhyloConfig
        The base PhyloAug config.

    Returns
    -------
    tuple of ModelConfig, TrainConfig, AugmentConfig, PhyloConfig
        The new configs.

    Raises
    ------
    DeepDifEInputError
        If ``evoaug_strength < 0`` or a config refuses a value.
    """
    mc, tc, aug, phylo = model_cfg, train_cfg, augment_cfg, phylo_cfg
    m = {}
    for key in ("kernel_size", "n_conv", "filters"):
        if key in params:
            m[key] = int(params[key])
    for key in ("dropout", "l2"):
        if key in params:
            m[key] = float(params[key])
    if "dense_units" in params:
        u = params["dense_units"]
        m["dense_units"] = tuple(int(x) for x in u) if isinstance(u, (list, tuple)) else (int(u), max(1, int(u) // 2))
    mc = replace(mc, **m)
    t = {}
    if "learning_rate" in params:
        t["learning_rate"] = float(params["learning_rate"])
    if "batch_size" in params:
        t["batch_size"] = int(params["batch_size"])
    tc = replace(tc, **t)
    if "evoaug" in params:
        if params["evoaug"]:
            s = float(params.get("evoaug_strength", 1.0))
            if s < 0:
                raise DeepDifEInputError(f"evoaug_strength must be >= 0, got {s}")
            aug = replace(
                aug,
                enabled=True,
                insert_max=round(aug.insert_max * s),
                delete_max=round(aug.delete_max * s),
                shift_max=round(aug.shift_max * s),
                mutate_frac=min(1.0, aug.mutate_frac * s),
                noise_std=aug.noise_std * s,
            )
        else:
            aug = replace(aug, enabled=False)
    if "phylo_rate" in params:
        phylo = replace(phylo, rate=float(params["phylo_rate"]))
    return mc, tc, aug, phylo


# ----------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class TuneConfig:
    """How a study searches.

    ``metric`` ``auroc`` (maximise mean fold validation auROC) or ``loss``
    (minimise mean fold validation loss); ``folds`` grouped CV folds per trial;
    ``sampler`` ``tpe`` or ``random`` (seeded with ``seed``); ``pruner``
    ``median``, ``hyperband`` or ``none``; the first ``startup_trials`` trials
    are sampled at random and never pruned, and no trial is pruned before step
    ``warmup_steps`` (epochs of the first fold).
    """

    metric: str = "auroc"
    folds: int = 3
    sampler: str = "tpe"
    pruner: str = "median"
    startup_trials: int = 3
    warmup_steps: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise DeepDifEInputError(f"metric must be one of {', '.join(METRICS)}, got {self.metric!r}")
        if self.sampler not in SAMPLERS:
            raise DeepDifEInputError(f"sampler must be one of {', '.join(SAMPLERS)}, got {self.sampler!r}")
        if self.pruner not in PRUNERS:
            raise DeepDifEInputError(f"pruner must be one of {', '.join(PRUNERS)}, got {self.pruner!r}")
        if self.folds < 2:
            raise DeepDifEInputError(f"tuning needs at least 2 folds, got {self.folds}")
        if self.startup_trials < 0 or self.warmup_steps < 0:
            raise DeepDifEInputError("startup_trials and warmup_steps must be >= 0")

    @property
    def direction(self) -> str:
        """The Optuna direction of ``metric``.

        Returns
        -------
        str
            ``"maximize"`` for ``auroc``, ``"minimize"`` for ``loss``.
        """
        return "maximize" if self.metric == "auroc" else "minimize"

    def to_dict(self) -> dict:
        """Return the fields as a JSON-able dict.

        Returns
        -------
        dict
            Field name -> value.
        """
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> TuneConfig:
        """Build a config from a dict (unknown keys are ignored).

        Parameters
        ----------
        data : dict or None
            Field name -> value (``None``: all defaults).

        Returns
        -------
        TuneConfig
            The validated config.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in names})


def default_base() -> RunConfig:
    """Build the base configs of a study: the defaults, with a tuning-sized epoch budget.

    Returns
    -------
    RunConfig
        20 epochs, early-stopping patience 5, learning-rate schedule patience 3.
    """
    return RunConfig(train=TrainConfig(epochs=20, early_stopping_patience=5, reduce_lr_patience=3))


def steps_per_fold(base: RunConfig) -> int:
    """Count the epochs a fold can report (main stage + the longest fine-tune stage).

    Parameters
    ----------
    base : RunConfig
        The study's base configs.

    Returns
    -------
    int
        ``epochs + max(EvoAug, PhyloAug fine-tune epochs)``: the stride of the pruning steps.
    """
    return base.train.epochs + max(base.augment.finetune_epochs, base.phylo.finetune_epochs)


def make_sampler(cfg: TuneConfig, seed: int | None = None):
    """Make the Optuna sampler of ``cfg``.

    Parameters
    ----------
    cfg : TuneConfig
        ``sampler`` (``tpe`` or ``random``), ``seed``, ``startup_trials``.
    seed : int, optional
        Sampler seed (default: ``cfg.seed``).

    Returns
    -------
    optuna.samplers.BaseSampler
        ``RandomSampler`` or ``TPESampler`` (``constant_liar``, at least 1 startup trial).
    """
    import optuna

    seed = cfg.seed if seed is None else seed
    if cfg.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=max(1, cfg.startup_trials), constant_liar=True)


def make_pruner(cfg: TuneConfig, base: RunConfig):
    """Make the Optuna pruner of ``cfg``.

    Parameters
    ----------
    cfg : TuneConfig
        ``pruner`` (``median``, ``hyperband``, ``none``), ``startup_trials``, ``warmup_steps``, ``folds``.
    base : RunConfig
        The study's base configs (Hyperband's maximum resource: ``folds * steps_per_fold``).

    Returns
    -------
    optuna.pruners.BasePruner
        ``MedianPruner``, ``HyperbandPruner`` (reduction factor 3) or ``NopPruner``.
    """
    import optuna

    if cfg.pruner == "none":
        return optuna.pruners.NopPruner()
    if cfg.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=max(1, cfg.warmup_steps), max_resource=cfg.folds * steps_per_fold(base), reduction_factor=3
        )
    return optuna.pruners.MedianPruner(n_startup_trials=cfg.startup_trials, n_warmup_steps=cfg.warmup_steps)


# ----------------------------------------------------------------------------- storage and records


def workspace_dir(workspace: str | Path | None = None) -> Path:
    """Resolve the workspace: ``workspace`` or ``$DEEPDIFE_WORKSPACE`` or ``./workspace`` (as the dashboard).

    Parameters
    ----------
    workspace : str or pathlib.Path, optional
        An explicit workspace folder.

    Returns
    -------
    pathlib.Path
        The absolute workspace folder (``~`` expanded).
    """
    return Path(workspace or os.environ.get("DEEPDIFE_WORKSPACE", "workspace")).expanduser().resolve()


def studies_dir(workspace: str | Path | None = None) -> Path:
    """Give the folder of the study records and SQLite files.

    Parameters
    ----------
    workspace : str or pathlib.Path, optional
        The workspace (see :func:`workspace_dir`).

    Returns
    -------
    pathlib.Path
        ``<workspace>/studies``.
    """
    return workspace_dir(workspace) / "studies"


def record_path(name: str, workspace: str | Path | None = None) -> Path:
    """Give the path of study ``name``'s record.

    Parameters
    ----------
    name : str
        The study name (checked as a safe file name).
    workspace : str or pathlib.Path, optional
        The workspace (see :func:`workspace_dir`).

    Returns
    -------
    pathlib.Path
        ``<workspace>/studies/<name>.json``.
    """
    check_name(name, "study name")
    return studies_dir(workspace) / f"{name}.json"


def default_storage(name: str, workspace: str | Path | None = None) -> str:
    """Give the default storage URL of a study: ``sqlite:///<workspace>/studies/<name>.db`` (absolute path).

    Parameters
    ----------
    name, workspace : str, str or pathlib.Path
        The study name and the workspace, as for :func:`record_path`.

    Returns
    -------
    str
        The SQLAlchemy URL.
    """
    check_name(name, "study name")
    return f"sqlite:///{studies_dir(workspace) / (name + '.db')}"


def hide_password(url: str) -> str:
    """Mask the password of a storage URL (for records and messages).

    Parameters
    ----------
    url : str
        A SQLAlchemy URL.

    Returns
    -------
    str
        The URL with its password shown as ``***`` (the URL unchanged if it cannot be parsed).
    """
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def load_record(name: str, workspace: str | Path | None = None) -> dict | None:
    """Read the study's ``<workspace>/studies/<name>.json``.

    Parameters
    ----------
    name : str
        The study name.
    workspace : str or pathlib.Path, optional
        The workspace (see :func:`workspace_dir`).

    Returns
    -------
    dict or None
        The record, or None when the study has none in this workspace.
    """
    path = record_path(name, workspace)
    if not path.exists():
        return None
    return json.loads(path.read_text())


def resolve_storage(name: str, storage: str | None = None, workspace: str | Path | None = None) -> str:
    """Find the storage URL of study ``name``.

    In order: ``storage``, else ``$DEEPDIFE_TUNE_STORAGE``, else the URL recorded in the
    workspace (unless its password is hidden), else the default SQLite file.

    Parameters
    ----------
    name : str
        The study name.
    storage : str, optional
        An explicit storage URL.
    workspace : str or pathlib.Path, optional
        The workspace (see :func:`workspace_dir`).

    Returns
    -------
    str
        The storage URL.

    Raises
    ------
    DeepDifEInputError
        If only a recorded URL with a hidden password is known.
    """
    if storage:
        return storage
    if os.environ.get(STORAGE_ENV):
        return os.environ[STORAGE_ENV]
    rec = load_record(name, workspace)
    if rec and rec.get("storage"):
        if "***" in rec["storage"]:
            raise DeepDifEInputError(
                f"study {name!r} is stored at {rec['storage']} (password not recorded); pass storage=URL"
            )
        return rec["storage"]
    return default_storage(name, workspace)


class DiskFullError(DeepDifEInputError):
    """The study storage (or a file of a trial) could not be written: the disk is full."""


def disk_full(exc: BaseException) -> bool:
    """Tell whether ``exc`` is a full disk or an exceeded quota.

    Anything it wraps counts too: ``__cause__``, ``__context__``, SQLAlchemy's ``orig``.

    Parameters
    ----------
    exc : BaseException
        The exception raised.

    Returns
    -------
    bool
        True for ``ENOSPC``/``EDQUOT``, a :class:`DiskFullError` or SQLite's "database or disk is full".
    """
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, DiskFullError):
            return True
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(e).lower()
        if any(t in text for t in _DISK_FULL_TEXT) or "the disk is full" in text or "quota is exceeded" in text:
            return True
        todo += [e.__cause__, e.__context__, getattr(e, "orig", None)]
    return False


def disk_full_error(name: str, where: str) -> DiskFullError:
    """Build the one-line error for a study that hit a full disk.

    Parameters
    ----------
    name : str
        The study name.
    where : str
        What could not be written (e.g. the storage URL, password hidden).

    Returns
    -------
    DiskFullError
        The error to raise (it says how to resume).
    """
    return DiskFullError(
        f"cannot write study {name!r} ({where}): the disk is full; free some disk space, then run the same "
        "command again to resume (completed trials are kept)"
    )


class _DropDiskFull:
    """A logging filter that drops Optuna's "trial failed" warning for a full disk.

    The warning (with its traceback) is dropped because the worker reports a full
    disk in one line instead.
    """

    def filter(self, record) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (exc is not None and disk_full(exc)) and not disk_full(Exception(record.getMessage()))


def _quiet_disk_full_logs() -> None:
    import logging

    for handler in logging.getLogger("optuna").handlers:
        if not any(isinstance(f, _DropDiskFull) for f in handler.filters):
            handler.addFilter(_DropDiskFull())


def _sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite:///"):
        return None
    raw = url[len("sqlite:///") :].split("?", 1)[0]
    return None if raw in ("", ":memory:") else Path(raw)


def open_storage(
    url: str,
    *,
    heartbeat_interval: int | None = None,
    grace_period: int | None = None,
    create: bool = False,
):
    """Open an Optuna ``RDBStorage`` on ``url``; with ``create=False`` a missing SQLite file is an error.

    SQLite storages get a 60 s busy timeout (and WAL journaling when created); other
    databases a pre-ping connection pool.

    Parameters
    ----------
    url : str
        A SQLAlchemy URL.
    heartbeat_interval : int, optional
        Seconds between a running trial's heartbeats (``None``: no heartbeat).
    grace_period : int, optional
        Seconds after the last heartbeat when a trial counts as stale.
    create : bool
        Create a missing SQLite file (and its folder).

    Returns
    -------
    optuna.storages.RDBStorage
        The storage.

    Raises
    ------
    DeepDifEInputError
        For a missing SQLite file, a missing database driver or a storage that cannot be opened.
    """
    import optuna

    path = _sqlite_path(url)
    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        engine_kwargs = {"connect_args": {"timeout": 60}}
        if path is not None:
            if not path.exists() and not create:
                raise DeepDifEInputError(f"no study storage at {path}; run `deepdife tune` first")
            path.parent.mkdir(parents=True, exist_ok=True)
    else:
        engine_kwargs = {"pool_pre_ping": True}
    try:
        storage = optuna.storages.RDBStorage(
            url,
            engine_kwargs=engine_kwargs,
            heartbeat_interval=heartbeat_interval,
            grace_period=grace_period,
        )
    except (ImportError, ModuleNotFoundError) as exc:
        raise DeepDifEInputError(f"storage {hide_password(url)}: missing database driver ({exc})") from None
    except Exception as exc:
        if isinstance(exc, DeepDifEError):
            raise
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DeepDifEInputError(f"cannot open storage {hide_password(url)}: {msg}") from None
    if path is not None and create:
        import sqlite3

        # WAL lets workers read while another writes; the mode is stored in the file
        con = sqlite3.connect(path, timeout=60)
        try:
            con.execute("PRAGMA journal_mode=WAL")
        finally:
            con.close()
    return storage


def _load_study(name: str, storage_url: str, **kwargs):
    import optuna

    storage = open_storage(storage_url)
    try:
        return optuna.load_study(study_name=name, storage=storage, **kwargs)
    except KeyError:
        raise DeepDifEInputError(f"no study named {name!r} in {hide_password(storage_url)}") from None


def _plain(obj: Any) -> Any:
    """``obj`` as it comes back from JSON (tuples become lists), for comparisons with stored specs."""
    return json.loads(json.dumps(obj))


def _spec(space: SearchSpace, cfg: TuneConfig, base: RunConfig, fingerprint: str) -> dict:
    return _plain(
        {
            "space": space.to_dict(),
            "tune": cfg.to_dict(),
            "base": config_to_dict(base),
            "dataset_fingerprint": fingerprint,
        }
    )


def _tuning_table(df: pd.DataFrame, tc: TrainConfig) -> pd.DataFrame:
    """The genes a study may see: all but the test part that ``cross_validate`` would hold out."""
    df = validate_training_set(df)
    keep = np.ones(len(df), bool)
    keep[heldout_test(df, tc)[0]] = False
    out = df.loc[keep].drop(columns=[c for c in ("split",) if c in df.columns]).reset_index(drop=True)
    return out


@dataclass
class StudyContext:
    """What a worker needs: the record plus the loaded data."""

    name: str
    storage: str
    space: SearchSpace
    tune: TuneConfig
    base: RunConfig
    df: pd.DataFrame
    orthologs: Any = None
    lock_path: Path | None = None


def prepare_study(
    name: str,
    *,
    data: str | Path | pd.DataFrame | None = None,
    storage: str | None = None,
    space: SearchSpace | None = None,
    tune: TuneConfig | None = None,
    base: RunConfig | None = None,
    orthologs: dict | None = None,
    workspace: str | Path | None = None,
    fail_running: bool = False,
) -> dict:
    """Create (or join) study ``name`` and write its record; call before starting workers.

    On an existing study the stored space / settings / base configs are used; giving
    different ones is an error (a study is one search).  ``data`` may be omitted when
    resuming (the recorded path is used).  ``fail_running`` marks every RUNNING trial
    FAIL at once (use when you know no worker is alive; stale trials are failed
    automatically after the heartbeat grace period anyway).

    Parameters
    ----------
    name : str
        The study name.
    data : str, pathlib.Path or pandas.DataFrame, optional
        The dataset table (a path is recorded; a DataFrame is saved as
        ``<name>.data.csv`` beside the record).
    storage : str, optional
        Storage URL (see :func:`resolve_storage`).
    space : SearchSpace, optional
        The search space (default: ``SearchSpace()``, or the stored one).
    tune : TuneConfig, optional
        The search settings (default: ``TuneConfig()``, or the stored ones).
    base : RunConfig, optional
        The base configs (default: :func:`default_base`, or the stored ones).
    orthologs : dict, optional
        ``{"table": path, "fasta": [paths]}`` for PhyloAug (switches it on in ``base``).
    workspace : str or pathlib.Path, optional
        The workspace (see :func:`workspace_dir`).
    fail_running : bool
        Mark every RUNNING trial FAIL now.

    Returns
    -------
    dict
        The record saved in ``<workspace>/studies/<name>.json``, plus ``"storage_url"``
        (the unmasked URL) and ``"record_path"``.

    Raises
    ------
    DeepDifEInputError
        For settings or a dataset that differ from the existing study's, a missing
        table, too few families for the folds, or tuning genes of one class.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rpath = record_path(name, workspace)
    old = load_record(name, workspace)
    url = resolve_storage(name, storage, workspace)
    storage_obj = open_storage(url, create=True)
    existing = None
    try:
        existing = optuna.load_study(study_name=name, storage=storage_obj)
    except KeyError:
        existing = None
    stored = existing.user_attrs.get("deepdife") if existing is not None else None

    if stored is not None:
        if space is not None and _plain(space.to_dict()) != stored["space"]:
            raise DeepDifEInputError(
                f"study {name!r} exists with a different search space; choose another study name, "
                "or leave the space options out to resume it"
            )
        if tune is not None and _plain(tune.to_dict()) != stored["tune"]:
            raise DeepDifEInputError(
                f"study {name!r} exists with different settings (metric/folds/sampler/pruner); "
                "choose another study name, or leave those options out to resume it"
            )
        if base is not None and _plain(config_to_dict(base)) != stored["base"]:
            raise DeepDifEInputError(
                f"study {name!r} exists with different training settings (epochs/patience/seed); "
                "choose another study name, or leave those options out to resume it"
            )
        space = SearchSpace.from_dict(stored["space"])
        tune = TuneConfig.from_dict(stored["tune"])
        base = config_from_dict(stored["base"])
    space = space or SearchSpace()
    tune = tune or TuneConfig()
    base = base or default_base()

    # data: a path (recorded), a DataFrame (snapshot in the workspace), or the recorded path
    if data is None:
        if not old or not old.get("data"):
            raise DeepDifEInputError(f"study {name!r} has no recorded data table here; pass data=TABLE")
        data = old["data"]
    if isinstance(data, pd.DataFrame):
        df = data
        data_path = rpath.with_suffix(".data.csv")
        atomic_write_csv(df, data_path)
    else:
        data_path = Path(data).expanduser().resolve()
        if not data_path.exists():
            raise DeepDifEInputError(f"data={data}: file not found")
        df = load_dataset(data_path)
    fp = fingerprint_dataset(df)
    if stored is not None and stored.get("dataset_fingerprint") != fp:
        raise DeepDifEInputError(
            f"study {name!r} was run on a different dataset (fingerprint {stored.get('dataset_fingerprint')}, "
            f"this table {fp}); use another study name"
        )
    length = int(df["sequence"].str.len().iloc[0])
    space.check_for(length, has_orthologs=bool(orthologs))
    if orthologs and base.phylo.enabled is False:
        base = replace(base, phylo=replace(base.phylo, enabled=True))
    rest = _tuning_table(df, base.train)

    grouped_kfold(rest["family"].to_numpy(), k=tune.folds, seed=base.train.seed)  # enough families?
    if rest["label"].nunique() < 2:
        raise DeepDifEInputError("the tuning genes hold only one class; add genes of the other class")

    spec = _spec(space, tune, base, fp)
    if existing is None:
        study = optuna.create_study(study_name=name, storage=storage_obj, direction=tune.direction, load_if_exists=True)
        if "deepdife" not in study.user_attrs:
            study.set_user_attr("deepdife", spec)
        elif study.user_attrs["deepdife"] != spec:  # created concurrently by someone else
            raise DeepDifEInputError(f"study {name!r} was just created by another process with other settings")
    elif stored is None:
        raise DeepDifEInputError(f"study {name!r} in {hide_password(url)} was not made by deepdife tune")
    if fail_running:
        _fail_running(name, url)

    record = {
        "name": name,
        "storage": hide_password(url),
        "data": str(data_path),
        "n_genes": len(df),
        "n_tuning_genes": len(rest),
        "orthologs": orthologs or None,
        "metric": tune.metric,
        "direction": tune.direction,
        **spec,
        "created": (old or {}).get("created") or now_iso(),
        "updated": now_iso(),
    }
    atomic_write_json(rpath, record)
    return {**record, "storage_url": url, "record_path": str(rpath)}


def _fail_running(name: str, url: str) -> int:
    from optuna.trial import TrialState

    study = _load_study(name, url)
    n = 0
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        try:
            if study._storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL):
                n += 1
        except Exception:  # finished meanwhile
            pass
    return n


def load_context(name: str, *, storage: str | None = None, workspace: str | Path | None = None) -> StudyContext:
    """Load everything a worker needs, from the study record and storage.

    Parameters
    ----------
    name : str
        The study name.
    storage : str, optional
        Storage URL (see :func:`resolve_storage`).
    workspace : str or pathlib.Path, optional
        The workspace (see :func:`workspace_dir`).

    Returns
    -------
    StudyContext
        Space, settings, base configs, the tuning genes (test part held out),
        orthologs and the budget lock path.

    Raises
    ------
    DeepDifEInputError
        If the study has no record or is not in the storage.
    """
    rec = load_record(name, workspace)
    if rec is None:
        raise DeepDifEInputError(f"no study record {record_path(name, workspace)}; run `deepdife tune` first")
    url = resolve_storage(name, storage, workspace)
    study = _load_study(name, url)
    spec = study.user_attrs.get("deepdife") or rec
    base = config_from_dict(spec["base"])
    df = _tuning_table(load_dataset(rec["data"]), base.train)
    orth = None
    if rec.get("orthologs"):
        o = rec["orthologs"]
        orth = read_orthologs(o["table"], o.get("fasta") or [])
    return StudyContext(
        name=name,
        storage=url,
        space=SearchSpace.from_dict(spec["space"]),
        tune=TuneConfig.from_dict(spec["tune"]),
        base=base,
        df=df,
        orthologs=orth,
        lock_path=record_path(name, workspace).with_suffix(".lock"),
    )


# ----------------------------------------------------------------------------- objective


class TuneStoppedError(DeepDifEError):
    """A stop was requested (stop file) while a trial ran."""


def make_objective(
    ctx: StudyContext,
    *,
    should_stop: Callable[[], bool] | None = None,
    on_start: Callable[[], None] | None = None,
) -> Callable:
    """Build the Optuna objective of ``ctx``: mean grouped-CV validation metric, pruned per epoch.

    ``on_start`` is called first thing in every trial (the worker releases its
    budget lock there).  Each trial records user attributes ``epochs`` (epochs
    trained, all folds), ``fold_values`` and ``pruned_at``.

    Parameters
    ----------
    ctx : StudyContext
        The study (space, settings, base configs, tuning genes, orthologs).
    should_stop : callable, optional
        Asked at every training event; True raises :class:`TuneStoppedError` in the trial.
    on_start : callable, optional
        Called at the start of every trial.

    Returns
    -------
    callable
        ``objective(trial) -> float``: the mean fold validation auROC or loss.
    """

    def objective(trial) -> float:
        import optuna

        if on_start is not None:
            on_start()
        params = ctx.space.suggest(trial)
        base = ctx.base
        mc, tc, aug, phylo = apply_params(params, base.model, base.train, base.augment, base.phylo)
        stride = steps_per_fold(base)
        key = "val_auroc" if ctx.tune.metric == "auroc" else "val_loss"
        state = {"epochs": 0, "fold_values": []}

        def progress(event: dict) -> None:
            if should_stop is not None and should_stop():
                raise TuneStoppedError("stop requested")
            if event.get("event") != "epoch":
                return
            state["epochs"] += 1
            value = event.get(key)
            if value is None or not math.isfinite(value):
                return
            step = int(event.get("fold", 0)) * stride + int(event["epoch"])
            trial.report(float(value), step)
            if trial.should_prune():
                state["pruned_at"] = {"fold": event.get("fold", 0), "epoch": event["epoch"], "step": step}
                raise optuna.TrialPruned(
                    f"fold {event.get('fold', 0)} epoch {event['epoch']}: {ctx.tune.metric} {value:.4f}"
                )

        try:
            res = cross_validate(
                ctx.df,
                k=ctx.tune.folds,
                model_cfg=mc,
                train_cfg=replace(tc, test_fraction=0.0),
                augment_cfg=aug,
                phylo_cfg=phylo,
                orthologs=ctx.orthologs,
                progress=progress,
            )
            folds = res.metrics["cv"]["folds"]
            state["fold_values"] = [f[ctx.tune.metric] for f in folds]
            value = res.metrics["cv"]["summary"][ctx.tune.metric]["mean"]
            if value is None or not math.isfinite(value):
                raise DeepDifEError(f"the {ctx.tune.metric} is undefined (a fold holds one class only)")
            return float(value)
        finally:
            try:
                trial.set_user_attr("epochs", state["epochs"])
                trial.set_user_attr("fold_values", state["fold_values"])
                if "pruned_at" in state:
                    trial.set_user_attr("pruned_at", state["pruned_at"])
            except Exception:
                pass
            _clear_keras()

    return objective


def _clear_keras() -> None:
    import gc

    with suppress(Exception):
        _keras().backend.clear_session()
    gc.collect()


# ----------------------------------------------------------------------------- workers


@contextmanager
def _file_lock(path: Path | None):
    """An exclusive ``flock`` on ``path`` (no-op without a path or on systems without fcntl).

    Yields a ``release()`` callable that may be called early (and again, harmlessly).
    """
    if path is None:
        yield lambda: None
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on Linux
        yield lambda: None
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a+")  # noqa: SIM115 - released explicitly
    fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
    held = [True]

    def release() -> None:
        if held[0]:
            held[0] = False
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            fh.close()

    try:
        yield release
    finally:
        release()


def budget(name: str, storage: str) -> dict[str, int]:
    """Count the study's trials by state.

    Parameters
    ----------
    name : str
        The study name.
    storage : str
        Its storage URL.

    Returns
    -------
    dict of str to int
        ``finished`` (complete + pruned), ``complete``, ``pruned``, ``running``, ``fail``, ``waiting``.
    """
    study = _load_study(name, storage)
    return _counts(study)


def _counts(study) -> dict[str, int]:
    c = {s: 0 for s in ("complete", "pruned", "running", "fail", "waiting")}
    for t in study.get_trials(deepcopy=False):
        key = t.state.name.lower()
        c[key] = c.get(key, 0) + 1
    c["finished"] = c["complete"] + c["pruned"]
    return c


def _say(quiet: bool, msg: str) -> None:
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


def run_worker(
    name: str,
    n_trials: int,
    *,
    storage: str | None = None,
    workspace: str | Path | None = None,
    worker_index: int = 0,
    heartbeat_interval: int = 10,
    grace_period: int | None = None,
    stop_file: str | Path | None = None,
    max_consecutive_failures: int = 3,
    quiet: bool = False,
    ctx: StudyContext | None = None,
) -> int:
    """Run trials of study ``name`` until ``n_trials`` are finished.

    The study must exist (:func:`prepare_study`).  While the budget is taken by
    running trials the worker waits, failing stale ones (dead workers) so their
    place is retried.  A ``stop_file`` that appears ends the worker (a trial in
    progress is marked FAIL).

    Parameters
    ----------
    name : str
        The study name.
    n_trials : int
        The study's budget of finished (complete or pruned) trials.
    storage : str, optional
        Storage URL (see :func:`resolve_storage`).
    workspace : str or pathlib.Path, optional
        The workspace (see :func:`workspace_dir`).
    worker_index : int
        This worker's number (seeds its sampler; worker 0 of a fresh study uses the study's seed).
    heartbeat_interval : int
        Seconds between heartbeats of the running trial.
    grace_period : int, optional
        Seconds without heartbeat before a trial is stale (default: 3 heartbeats).
    stop_file : str or pathlib.Path, optional
        A file whose appearance stops the worker.
    max_consecutive_failures : int
        Failed trials in a row after which the worker gives up.
    quiet : bool
        No progress lines on stderr.
    ctx : StudyContext, optional
        An already loaded context (default: :func:`load_context`).

    Returns
    -------
    int
        The number of trials this worker ran (failed ones included).

    Raises
    ------
    DeepDifEInputError
        If ``n_trials < 1``; :class:`DiskFullError` for a full disk.
    DeepDifEError
        After ``max_consecutive_failures`` failed trials in a row.
    """
    import optuna

    if n_trials < 1:
        raise DeepDifEInputError(f"n_trials must be >= 1, got {n_trials}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    ctx = ctx or load_context(name, storage=storage, workspace=workspace)
    grace = grace_period if grace_period is not None else 3 * heartbeat_interval
    store = open_storage(ctx.storage, heartbeat_interval=heartbeat_interval, grace_period=grace)
    probe = optuna.load_study(study_name=name, storage=store)
    n_existing = len(probe.get_trials(deepcopy=False))
    seed = int(np.random.SeedSequence([ctx.tune.seed, worker_index, n_existing]).generate_state(1)[0])
    if worker_index == 0 and n_existing == 0:
        seed = ctx.tune.seed  # a fresh single-worker study is reproducible from its seed
    study = optuna.load_study(
        study_name=name, storage=store, sampler=make_sampler(ctx.tune, seed), pruner=make_pruner(ctx.tune, ctx.base)
    )
    stop_path = Path(stop_file) if stop_file else None

    def should_stop() -> bool:
        return stop_path is not None and stop_path.exists()

    release_box: list[Callable[[], None]] = [lambda: None]
    objective = make_objective(ctx, should_stop=should_stop, on_start=lambda: release_box[0]())
    tag = f"[{name} worker {worker_index}]"

    def report(study_, trial) -> None:
        secs = trial.duration.total_seconds() if trial.duration else float("nan")
        if trial.state.name == "COMPLETE":
            _say(quiet, f"{tag} trial {trial.number} complete: {ctx.tune.metric} {trial.value:.4f} ({secs:.1f} s)")
        elif trial.state.name == "PRUNED":
            at = trial.user_attrs.get("pruned_at", {})
            _say(
                quiet,
                f"{tag} trial {trial.number} pruned at fold {at.get('fold', '?')} epoch {at.get('epoch', '?')} "
                f"({secs:.1f} s)",
            )

    def loop() -> int:
        """Run trials until the study's budget is reached or a stop is asked for."""
        ran = 0
        failures = 0
        while True:
            if should_stop():
                _say(quiet, f"{tag} stop requested")
                break
            with _file_lock(ctx.lock_path) as release:
                release_box[0] = release
                optuna.storages.fail_stale_trials(study)
                c = _counts(study)
                if c["finished"] >= n_trials:
                    break
                if c["finished"] + c["running"] >= n_trials:
                    wait = True
                else:
                    wait = False
                    try:
                        study.optimize(objective, n_trials=1, callbacks=[report], gc_after_trial=False)
                        ran += 1
                        failures = 0
                    except TuneStoppedError:
                        _say(quiet, f"{tag} stop requested; the running trial is marked failed")
                        break
                    except Exception as exc:
                        if disk_full(exc):
                            raise  # no use retrying: one line, from run_worker
                        ran += 1
                        failures += 1
                        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                        _say(quiet, f"{tag} trial failed: {msg}")
                        if failures >= max_consecutive_failures:
                            raise DeepDifEError(f"{failures} trials in a row failed; last error: {msg}") from exc
            if wait:
                time.sleep(max(0.2, min(2.0, heartbeat_interval / 2)))
        return ran

    _quiet_disk_full_logs()
    try:
        return loop()
    except Exception as exc:
        if disk_full(exc):
            raise disk_full_error(name, hide_password(ctx.storage)) from None
        raise


def run_study(
    name: str,
    n_trials: int,
    *,
    data: str | Path | pd.DataFrame | None = None,
    storage: str | None = None,
    workers: int = 1,
    space: SearchSpace | None = None,
    tune: TuneConfig | None = None,
    base: RunConfig | None = None,
    orthologs: dict | None = None,
    workspace: str | Path | None = None,
    heartbeat_interval: int = 10,
    grace_period: int | None = None,
    stop_file: str | Path | None = None,
    fail_running: bool = False,
    quiet: bool = False,
) -> dict:
    """Create/join the study, then run ``workers`` local worker processes until ``n_trials`` are finished.

    With ``workers == 1`` the worker runs in this process.

    Parameters
    ----------
    name : str
        The study name.
    n_trials : int
        The study's budget of finished trials.
    data : str, pathlib.Path or pandas.DataFrame, optional
        The dataset table (see :func:`prepare_study`).
    storage : str, optional
        Storage URL (see :func:`resolve_storage`).
    workers : int
        Local worker processes.
    space : SearchSpace, optional
        The search space (see :func:`prepare_study`).
    tune : TuneConfig, optional
        The search settings.
    base : RunConfig, optional
        The base configs.
    orthologs : dict, optional
        ``{"table": path, "fasta": [paths]}`` for PhyloAug.
    workspace : str or pathlib.Path, optional
        The workspace (see :func:`workspace_dir`).
    heartbeat_interval : int
        Seconds between trial heartbeats.
    grace_period : int, optional
        Seconds without heartbeat before a trial is stale.
    stop_file : str or pathlib.Path, optional
        A file whose appearance stops the workers.
    fail_running : bool
        Mark every RUNNING trial FAIL first (see :func:`prepare_study`).
    quiet : bool
        No progress lines on stderr.

    Returns
    -------
    dict
        :func:`summary`: ``study``, counts by state and ``best`` (None before any completed trial).

    Raises
    ------
    DeepDifEInputError
        For ``workers`` or ``n_trials`` below 1, bad settings, or :class:`DiskFullError`.
    DeepDifEError
        If a worker process ended with an error.
    """
    if workers < 1:
        raise DeepDifEInputError(f"workers must be >= 1, got {workers}")
    if n_trials < 1:
        raise DeepDifEInputError(f"n_trials must be >= 1, got {n_trials}")
    try:
        rec = prepare_study(
            name,
            data=data,
            storage=storage,
            space=space,
            tune=tune,
            base=base,
            orthologs=orthologs,
            workspace=workspace,
            fail_running=fail_running,
        )
    except Exception as exc:
        if disk_full(exc):
            raise disk_full_error(name, hide_password(resolve_storage(name, storage, workspace))) from None
        raise
    url = rec["storage_url"]
    ws = workspace_dir(workspace)
    common = dict(heartbeat_interval=heartbeat_interval, grace_period=grace_period, stop_file=stop_file, quiet=quiet)
    if workers == 1:
        run_worker(name, n_trials, storage=url, workspace=ws, worker_index=0, **common)
    else:
        procs = [
            spawn_worker(name, n_trials, storage=url, workspace=ws, worker_index=i, **common) for i in range(workers)
        ]
        try:
            codes = [p.wait() for p in procs]
        except BaseException:
            for p in procs:
                if p.poll() is None:
                    p.terminate()
            for p in procs:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
            raise
        if DISK_FULL_EXIT in codes:
            raise disk_full_error(name, hide_password(url))
        bad = [(i, c) for i, c in enumerate(codes) if c != 0]
        if bad:
            i, c = bad[0]
            raise DeepDifEError(f"worker {i} ended with exit code {c}; rerun the same command to resume the study")
    return summary(name, url)


def spawn_worker(
    name: str,
    n_trials: int,
    *,
    storage: str,
    workspace: str | Path | None = None,
    worker_index: int = 0,
    heartbeat_interval: int = 10,
    grace_period: int | None = None,
    stop_file: str | Path | None = None,
    quiet: bool = False,
) -> subprocess.Popen:
    """Start ``python -m deepdife_core.tune.study worker ...`` (the storage URL goes through the environment).

    Parameters
    ----------
    name : str
        The study name.
    n_trials : int
        The study's budget of finished trials.
    storage : str
        The storage URL (passed as ``$DEEPDIFE_TUNE_STORAGE``, never on the command line).
    workspace : str or pathlib.Path, optional
        The workspace (see :func:`workspace_dir`).
    worker_index : int
        The worker's number.
    heartbeat_interval : int
        Seconds between trial heartbeats.
    grace_period : int, optional
        Seconds without heartbeat before a trial is stale.
    stop_file : str or pathlib.Path, optional
        A file whose appearance stops the worker.
    quiet : bool
        No progress lines on stderr.

    Returns
    -------
    subprocess.Popen
        The worker process (exit code 0, 2 for an error, 28 for a full disk, 130 when interrupted).
    """
    cmd = [
        sys.executable,
        "-m",
        "deepdife_core.tune.study",
        "worker",
        "--study",
        name,
        "--trials",
        str(n_trials),
        "--workspace",
        str(workspace_dir(workspace)),
        "--index",
        str(worker_index),
        "--heartbeat",
        str(heartbeat_interval),
    ]
    if grace_period is not None:
        cmd += ["--grace", str(grace_period)]
    if stop_file:
        cmd += ["--stop-file", str(stop_file)]
    if quiet:
        cmd.append("--quiet")
    env = {**os.environ, STORAGE_ENV: storage, WORKER_ENV: "1"}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return subprocess.Popen(cmd, env=env)


# ----------------------------------------------------------------------------- reading results


def summary(name: str, storage: str) -> dict:
    """Count the study's trials by state and find the best trial so far.

    Parameters
    ----------
    name : str
        The study name.
    storage : str
        Its storage URL.

    Returns
    -------
    dict
        ``{"study", "counts", "best"}``; ``best`` is :func:`best_params` or None
        before any completed trial.
    """
    study = _load_study(name, storage)
    out: dict[str, Any] = {"study": name, "counts": _counts(study), "best": None}
    with suppress(DeepDifEInputError):
        out["best"] = best_params(name, storage, study=study)
    return out


def best_params(name: str, storage: str | None = None, *, workspace: str | Path | None = None, study=None) -> dict:
    """Describe the best completed trial: ``{"study", "metric", "direction", "trial", "value", "params"}``.

    ``params`` holds every parameter of the space: the searched values of the
    trial and the fixed values (EvoAug strength only matters with EvoAug on).

    Parameters
    ----------
    name : str
        The study name.
    storage : str, optional
        Storage URL (see :func:`resolve_storage`).
    workspace : str or pathlib.Path, optional
        The workspace (see :func:`workspace_dir`).
    study : optuna.study.Study, optional
        An already loaded study (then ``storage`` and ``workspace`` are not used).

    Returns
    -------
    dict
        The best trial's number, value and parameters with the study's metric and direction.

    Raises
    ------
    DeepDifEInputError
        If the study has no completed trial yet.
    """
    if study is None:
        study = _load_study(name, resolve_storage(name, storage, workspace))
    spec = study.user_attrs.get("deepdife") or {}
    from optuna.trial import TrialState

    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not done:
        raise DeepDifEInputError(f"study {name!r} has no completed trial yet")
    best = study.best_trial
    space = SearchSpace.from_dict(spec.get("space"))
    params = {**space.fixed_values(), **best.params}
    tune = TuneConfig.from_dict(spec.get("tune"))
    return {
        "study": name,
        "metric": tune.metric,
        "direction": tune.direction,
        "trial": best.number,
        "value": best.value,
        "params": params,
    }


TRIALS_COLUMNS = [
    "number",
    "state",
    "value",
    "params",
    "duration_s",
    "started",
    "completed",
    "last_step",
    "last_intermediate",
    "epochs",
]


def trials_table(study_name: str, storage: str | None = None, *, workspace: str | Path | None = None) -> pd.DataFrame:
    """Tabulate one row per trial of a study (for a dashboard page: it only reads the storage).

    Parameters
    ----------
    study_name : str
        The study name.
    storage : str, optional
        Storage URL (see :func:`resolve_storage`).
    workspace : str or pathlib.Path, optional
        The workspace (see :func:`workspace_dir`).

    Returns
    -------
    pandas.DataFrame
        :data:`TRIALS_COLUMNS` (number, state, value (complete trials only), params
        (dict), duration_s, started, completed, last_step / last_intermediate (latest
        reported value), epochs) and one ``param_<name>`` column per parameter.
    """
    study = _load_study(study_name, resolve_storage(study_name, storage, workspace))
    rows = []
    names: list[str] = []
    for t in study.get_trials(deepcopy=False):
        last_step = max(t.intermediate_values) if t.intermediate_values else None
        dur = None
        if t.datetime_start is not None:
            end = t.datetime_complete
            dur = (end - t.datetime_start).total_seconds() if end is not None else None
        row = {
            "number": t.number,
            "state": t.state.name,
            # optuna stores a pruned trial's last intermediate value as its value; show only real results
            "value": t.value if t.state.name == "COMPLETE" else None,
            "params": dict(t.params),
            "duration_s": dur,
            "started": t.datetime_start,
            "completed": t.datetime_complete,
            "last_step": last_step,
            "last_intermediate": t.intermediate_values[last_step] if last_step is not None else None,
            "epochs": t.user_attrs.get("epochs"),
        }
        for k, v in t.params.items():
            row[f"param_{k}"] = v
            if k not in names:
                names.append(k)
        rows.append(row)
    cols = TRIALS_COLUMNS + [f"param_{k}" for k in PARAM_NAMES if k in names]
    return pd.DataFrame(rows, columns=cols)


def list_studies(workspace: str | Path | None = None) -> list[dict]:
    """List the study records in ``<workspace>/studies``, newest first.

    Parameters
    ----------
    workspace : str or pathlib.Path, optional
        The workspace (see :func:`workspace_dir`).

    Returns
    -------
    list of dict
        The readable records, sorted by ``updated``, newest first.
    """
    folder = studies_dir(workspace)
    out = []
    for p in sorted(folder.glob("*.json")) if folder.exists() else []:
        if p.name.startswith("."):
            continue
        try:
            out.append(json.loads(p.read_text()))
        except (OSError, json.JSONDecodeError):
            continue
    return sorted(out, key=lambda r: r.get("updated", ""), reverse=True)


# ----------------------------------------------------------------------------- worker entry point


def _worker_main(argv: list[str] | None = None) -> int:

    p = argparse.ArgumentParser(prog="python -m deepdife_core.tune.study")
    sub = p.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("worker", help="run trials of an existing study (storage URL from $DEEPDIFE_TUNE_STORAGE)")
    w.add_argument("--study", required=True)
    w.add_argument("--trials", type=int, required=True)
    w.add_argument("--workspace")
    w.add_argument("--index", type=int, default=0)
    w.add_argument("--heartbeat", type=int, default=10)
    w.add_argument("--grace", type=int)
    w.add_argument("--stop-file")
    w.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    try:
        run_worker(
            args.study,
            args.trials,
            workspace=args.workspace,
            worker_index=args.index,
            heartbeat_interval=args.heartbeat,
            grace_period=args.grace,
            stop_file=args.stop_file,
            quiet=args.quiet,
        )
    except DeepDifEError as exc:
        if isinstance(exc, DiskFullError) and os.environ.get(WORKER_ENV):
            return DISK_FULL_EXIT  # the parent prints it once, not once per worker
        print(f"error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


__all__ = [
    "PARAM_NAMES",
    "Param",
    "SearchSpace",
    "TuneConfig",
    "apply_params",
    "best_params",
    "budget",
    "default_base",
    "default_storage",
    "list_studies",
    "load_record",
    "make_objective",
    "prepare_study",
    "resolve_storage",
    "run_study",
    "run_worker",
    "spawn_worker",
    "summary",
    "trials_table",
]


if __name__ == "__main__":
    sys.exit(_worker_main())
