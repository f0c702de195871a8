"""Model folders: save, load, list, rename and delete trained models.

Data contract (one folder per model, under ``models/`` by default)::

    model.keras        the Keras network (or fold_<k>.keras members of a CV ensemble)
    config.json        RunConfig: model, train, augment, data sections (read back through the dataclasses)
    history.jsonl      one JSON object per epoch: epoch, stage, loss, val_loss, auroc, val_auroc, lr, ...
    metrics.json       test metrics, baseline_kmer, learning verdict
    provenance.json    dataset fingerprint, package versions, created (ISO time), format_version
    split.csv          gene_id, split (train/val/test) of the training genes

:func:`load_model` gives a :class:`~deepdife_core.model.cnn.Predictor`; it refuses a
network whose input/output shapes do not match ``config.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import replace
from pathlib import Path

import pandas as pd

from deepdife_core.config import DatasetConfig, ModelConfig, RunConfig, config_from_dict, config_to_dict
from deepdife_core.errors import ArtifactError, DeepDifEInputError
from deepdife_core.files import (
    _json_default,
    atomic_dir,
    atomic_write_json,
    atomic_write_text,
    check_name,
    now_iso,
    package_versions,
    read_json,
)
from deepdife_core.model.cnn import Predictor, _keras

FORMAT_VERSION = 1
#: the longest sequence axis of an imported network (the published model has 620 rows)
MAX_NETWORK_ROWS = 200_000
#: the most weights an imported network may have (the published model has 97,953; 50 M float32 = 200 MB)
MAX_NETWORK_WEIGHTS = 50_000_000


def network_weights(cfg) -> int:
    """How many weights :func:`deepdife_core.model.cnn.build_model` gives ``cfg``, computed without building anything.

    Batch normalisation is not counted.

    Parameters
    ----------
    cfg : ModelConfig
        The architecture.

    Returns
    -------
    int
        Number of kernel and bias weights.
    """
    filters = cfg.conv_filters()
    rows = cfg.network_length
    n = cfg.kernel_size * 4 * filters[0] + filters[0]
    steps = max(1, rows - cfg.kernel_size + 1) // max(1, cfg.pool_size)
    for i in range(1, cfg.n_conv):
        n += cfg.conv_kernel * filters[i - 1] * filters[i] + filters[i]
        steps = -(-steps // max(1, cfg.conv_stride))
    steps = max(1, steps)
    window = max(1, min(steps, round(cfg.region_bp * steps / max(1, rows))))
    positions = {"global_max": 1, "region_max": -(-steps // window), "global_region": 1 + -(-steps // window)}
    width = positions.get(cfg.head, steps) * filters[-1]
    for units in (*cfg.dense_units, 1):
        n += width * units + units
        width = units
    return int(n)


def check_network_size(cfg, name: str) -> None:
    """Refuse a network description too large to build (an imported JSON can ask for any size).

    Parameters
    ----------
    cfg : ModelConfig
        The architecture.
    name : str
        The file it came from, named in the message.

    Raises
    ------
    DeepDifEInputError
        More than :data:`MAX_NETWORK_ROWS` input rows or :data:`MAX_NETWORK_WEIGHTS` weights.
    """
    if cfg.network_length > MAX_NETWORK_ROWS:
        raise DeepDifEInputError(
            f"{name}: the network takes {cfg.network_length:,} rows; at most {MAX_NETWORK_ROWS:,} are supported "
            "(DeepDifE's published model takes 620); check the JSON's batch_input_shape"
        )
    weights = network_weights(cfg)
    if weights > MAX_NETWORK_WEIGHTS:
        raise DeepDifEInputError(
            f"{name}: the network would have {weights:,} weights; at most {MAX_NETWORK_WEIGHTS:,} are supported "
            "(DeepDifE's published model has about 98,000); check the JSON's layer sizes (units, filters)"
        )


def save_model_folder(
    target: str | Path,
    *,
    models: list,
    config: RunConfig,
    history: list[dict] | None = None,
    metrics: dict | None = None,
    provenance: dict | None = None,
    extra_files: dict[str, str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a complete model folder atomically.

    ``config.json`` gets the format version and ``n_members``; ``provenance.json`` the time,
    package versions and name before ``provenance``'s entries.

    Parameters
    ----------
    target : str or Path
        The folder to create (its name must pass :func:`~deepdife_core.files.check_name`).
    models : list of keras.Model
        One Keras model (``model.keras``), or several (fold ensemble, saved under ``folds/<k>/``).
    config : RunConfig
        The run configuration, saved as ``config.json``.
    history : list of dict, optional
        One dict per epoch, saved as ``history.jsonl``.
    metrics : dict, optional
        Saved as ``metrics.json``.
    provenance : dict, optional
        Extra provenance entries (dataset fingerprint, epochs run, ...).
    extra_files : dict of str to str, optional
        Further text files to put in the folder (name -> content), e.g. ``oof.csv``.
    overwrite : bool, optional
        Replace an existing folder (default False: refused).

    Returns
    -------
    Path
        ``target``.
    """
    target = Path(target)
    check_name(target.name)
    with atomic_dir(target, overwrite=overwrite) as tmp:
        if len(models) == 1:
            models[0].save(tmp / "model.keras")
        else:
            for k, m in enumerate(models):
                (tmp / "folds" / str(k)).mkdir(parents=True)
                m.save(tmp / "folds" / str(k) / "model.keras")
        cfg = config_to_dict(config)
        cfg["format"] = FORMAT_VERSION
        cfg["n_members"] = len(models)
        atomic_write_json(tmp / "config.json", cfg)
        atomic_write_text(
            tmp / "history.jsonl",
            "".join(json.dumps(h, default=_json_default) + "\n" for h in (history or [])),
        )
        atomic_write_json(tmp / "metrics.json", metrics or {})
        prov = {"created": now_iso(), "versions": package_versions(), "name": target.name}
        prov.update(provenance or {})
        atomic_write_json(tmp / "provenance.json", prov)
        for fname, content in (extra_files or {}).items():
            atomic_write_text(tmp / fname, content)
    return target


def _member_files(folder: Path) -> list[Path]:
    single = folder / "model.keras"
    if single.exists():
        return [single]
    folds = folder / "folds"
    if folds.is_dir():
        files = sorted(
            (p / "model.keras" for p in folds.iterdir() if (p / "model.keras").exists()),
            key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        )
        if files:
            return files
    raise ArtifactError(f"{folder}: no model.keras (not a DeepDifE model folder)")


def read_config(folder: str | Path) -> RunConfig:
    """Read a model folder's ``config.json`` as a :class:`RunConfig`, as saved.

    Parameters
    ----------
    folder : str or Path
        The model folder whose ``config.json`` is read.

    Returns
    -------
    RunConfig
        The configuration (missing sections take their defaults).

    Raises
    ------
    ArtifactError
        Without a ``config.json``, or if it is not valid JSON or holds invalid settings.
    """
    folder = Path(folder)
    try:
        data = json.loads((folder / "config.json").read_text())
    except FileNotFoundError as exc:
        raise ArtifactError(f"{folder}: no config.json (not a DeepDifE model folder)") from exc
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{folder}/config.json is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ArtifactError(f"{folder}/config.json is not a DeepDifE configuration (a JSON object)")
    try:
        return config_from_dict(data)
    except (TypeError, ValueError, AttributeError) as exc:
        raise ArtifactError(f"{folder}/config.json has invalid settings ({str(exc)[:200]})") from exc


def data_config_from_dict(data: dict) -> DatasetConfig:
    """How sequences are fitted for a model, from its ``config.json`` as a dict.

    The saved ``data`` section (:class:`~deepdife_core.config.DatasetConfig`: pad side,
    N limit) at the model's input length; a folder without one (older models) gets the
    DatasetConfig defaults at that length.

    Parameters
    ----------
    data : dict
        The parsed ``config.json``.

    Returns
    -------
    DatasetConfig
        With ``length`` equal to the model's ``input_length``.
    """
    run = config_from_dict(data)
    length = run.model.input_length
    if not data.get("data"):
        return DatasetConfig(length=length)
    return run.data if run.data.length == length else replace(run.data, length=length)


def load_run_config(folder: str | Path) -> RunConfig:
    """A model folder's ``config.json`` as a :class:`RunConfig`; its ``data`` is how to fit sequences.

    Unlike :func:`read_config`, an older folder without a ``data`` section gets
    ``DatasetConfig(length=<the model's input length>)`` there (see :func:`data_config_from_dict`).

    Parameters
    ----------
    folder : str or Path
        The model folder.

    Returns
    -------
    RunConfig
        The configuration with ``data`` at the model's input length.
    """
    cfg = read_config(folder)
    raw = read_json(Path(folder) / "config.json", {}) or {}
    return replace(cfg, data=data_config_from_dict(raw))


def imported_run_config(model_cfg: ModelConfig) -> RunConfig:
    """The RunConfig saved with an imported (published) network.

    Parameters
    ----------
    model_cfg
        The architecture read from the network (e.g. by ``import_legacy``).

    Returns
    -------
    RunConfig
        ``model_cfg`` with a DatasetConfig whose length is the network's input length
        (its other fields the dataclass defaults: such a model came without a dataset).
    """
    return RunConfig(model=model_cfg, data=DatasetConfig(length=model_cfg.input_length))


def model_data_config(model) -> DatasetConfig:
    """The :class:`~deepdife_core.config.DatasetConfig` to fit sequences with for ``model``.

    ``model`` is a model folder or a :class:`~deepdife_core.model.cnn.Predictor`; one not
    loaded from a folder gets the defaults at its input length.

    Parameters
    ----------
    model : str, Path or Predictor
        A model folder or a loaded model.

    Returns
    -------
    DatasetConfig
        Length, pad side and N limit for the model's input.
    """
    if isinstance(model, (str, Path)):
        return load_run_config(model).data
    if getattr(model, "path", None) is not None and (Path(model.path) / "config.json").is_file():
        data = load_run_config(model.path).data
        if data.length == model.config.input_length:
            return data
    return DatasetConfig(length=model.config.input_length)


def load_model(folder: str | Path):
    """Load a model folder as a :class:`~deepdife_core.model.cnn.Predictor` (Keras safe mode).

    Parameters
    ----------
    folder : str or Path
        The model folder (``model.keras`` or ``folds/<k>/model.keras``).

    Returns
    -------
    Predictor
        The member(s), the folder's ``ModelConfig`` and ``path=folder``.

    Raises
    ------
    ArtifactError
        If the folder, its config or a member is missing or unloadable, or a member's
        input / output shape does not match ``config.json``.
    """
    keras = _keras()

    folder = Path(folder)
    if not folder.is_dir():
        raise ArtifactError(f"model folder {folder} does not exist")
    cfg = read_config(folder)
    members = []
    expected = (cfg.model.network_length, 4)
    for f in _member_files(folder):
        try:
            model = keras.saving.load_model(f, compile=False, safe_mode=True)
        except Exception as exc:  # keras raises ValueError/TypeError/OSError for bad files
            raise ArtifactError(f"{f}: cannot be loaded safely ({type(exc).__name__}: {str(exc)[:200]})") from exc
        shape_in = tuple(getattr(model, "input_shape", ()) or ())
        shape_out = tuple(getattr(model, "output_shape", ()) or ())
        if shape_in[1:] != expected or shape_out[1:] != (1,):
            raise ArtifactError(
                f"{f}: the network takes {shape_in} and gives {shape_out}, but config.json describes "
                f"(None, {expected[0]}, 4) -> (None, 1); the model and its config.json do not belong together"
            )
        members.append(model)
    return Predictor(members, cfg.model, path=folder)


def read_history(folder: str | Path) -> list[dict]:
    """The epochs of a model folder's ``history.jsonl``.

    Parameters
    ----------
    folder : str or Path
        The model folder whose ``history.jsonl`` is read.

    Returns
    -------
    list of dict
        One dict per epoch line; empty without the file.  Unreadable lines (one being
        appended) are skipped.
    """
    path = Path(folder) / "history.jsonl"
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line:
            try:
                out.append(json.loads(line))
            except ValueError:
                continue  # a line being appended right now
    return out


def list_models(root: str | Path = "models") -> pd.DataFrame:
    """Registry: one row per complete model folder under ``root``, newest first.

    Hidden folders and folders without ``config.json`` are skipped.

    Parameters
    ----------
    root : str or Path, optional
        The models folder, default ``"models"``.

    Returns
    -------
    pandas.DataFrame
        Columns ``name, created, dataset, test_auroc, test_auprc, members, input_length,
        n_conv, kernel_size, learning_rate, epochs_run, source, path``, sorted by
        ``created`` descending (empty with these columns when there is none).
    """
    root = Path(root)
    rows = []
    if root.is_dir():
        for folder in sorted(root.iterdir()):
            if folder.name.startswith(".") or not folder.is_dir() or not (folder / "config.json").exists():
                continue
            cfg = read_json(folder / "config.json", {}) or {}
            metrics = read_json(folder / "metrics.json", {}) or {}
            prov = read_json(folder / "provenance.json", {}) or {}
            model_cfg = cfg.get("model", {})
            train_cfg = cfg.get("train", {})
            rows.append(
                {
                    "name": folder.name,
                    "created": prov.get("created", ""),
                    "dataset": prov.get("dataset", ""),
                    "test_auroc": metrics.get("auroc"),
                    "test_auprc": metrics.get("auprc"),
                    "members": cfg.get("n_members", 1),
                    "input_length": model_cfg.get("input_length"),
                    "n_conv": model_cfg.get("n_conv"),
                    "kernel_size": model_cfg.get("kernel_size"),
                    "learning_rate": train_cfg.get("learning_rate"),
                    "epochs_run": prov.get("epochs_run"),
                    "source": prov.get("source", "trained"),
                    "path": str(folder),
                }
            )
    df = pd.DataFrame(
        rows,
        columns=[
            "name",
            "created",
            "dataset",
            "test_auroc",
            "test_auprc",
            "members",
            "input_length",
            "n_conv",
            "kernel_size",
            "learning_rate",
            "epochs_run",
            "source",
            "path",
        ],
    )
    return df.sort_values("created", ascending=False, kind="stable").reset_index(drop=True)


def delete_model(folder: str | Path) -> None:
    """Remove a model folder (renamed away first, so it vanishes from the registry at once).

    Parameters
    ----------
    folder : str or Path
        The model folder to remove.

    Raises
    ------
    ArtifactError
        If ``folder`` has no ``config.json``.
    """
    folder = Path(folder)
    if not (folder / "config.json").exists():
        raise ArtifactError(f"{folder} is not a model folder")
    trash = folder.parent / f".trash-{folder.name}-{uuid.uuid4().hex[:8]}"
    os.replace(folder, trash)
    shutil.rmtree(trash, ignore_errors=True)


def rename_model(folder: str | Path, new_name: str) -> Path:
    """Rename a model folder within its parent; ``provenance.json``'s ``name`` follows.

    Parameters
    ----------
    folder : str or Path
        The model folder.
    new_name : str
        The new folder name (checked by :func:`~deepdife_core.files.check_name`).

    Returns
    -------
    Path
        The renamed folder.

    Raises
    ------
    DeepDifEInputError
        For a name that is not allowed or already taken.
    """
    folder = Path(folder)
    check_name(new_name)
    target = folder.parent / new_name
    if target.exists():
        raise DeepDifEInputError(f"a model named {new_name!r} already exists")
    os.replace(folder, target)
    prov_path = target / "provenance.json"
    prov = read_json(prov_path, {}) or {}
    prov["name"] = new_name
    atomic_write_json(prov_path, prov)
    return target
