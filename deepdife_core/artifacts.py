"""Model folders: atomic save, safe load, registry.

Contract (model folder ``models/<name>/``)
------------------------------------------
``model.keras``        the Keras 3 model (or ``folds/<k>/model.keras`` for CV ensembles)
``config.json``        :class:`~deepdife_core.config.RunConfig` as a dict (+ ``"format": 1``)
``history.jsonl``      one JSON object per epoch: epoch, loss, val_loss, auroc, val_auroc, lr, seconds, ...
``metrics.json``       test metrics (auroc, auprc, accuracy, confusion matrix, ROC / PR points)
``provenance.json``    dataset fingerprint, split sizes, seed, package versions, created (UTC ISO)

A folder is written under ``<root>/.tmp-<name>-<random>/`` and renamed into place
only when complete, so a crash never leaves half a model in the registry; folders
whose names start with ``.`` are ignored by :func:`list_models`.  Models are
loaded with Keras safe mode (no Lambda layers, no pickled code).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import platform
import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from deepdife_core.config import DatasetConfig, RunConfig, config_from_dict, config_to_dict
from deepdife_core.errors import ArtifactError, DeepDifEInputError

FORMAT_VERSION = 1
#: matched with ``fullmatch``: ``$`` would also accept a name ending in a newline
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
#: the longest sequence axis of an imported network (the published model has 620 rows)
MAX_NETWORK_ROWS = 200_000
#: the most weights an imported network may have (the published model has 97,953; 50 M float32 = 200 MB)
MAX_NETWORK_WEIGHTS = 50_000_000


def check_name(name: str, what: str = "model name") -> str:
    """A safe folder name: letters, digits, ``.``, ``_``, ``-``; no path separators or ``..``."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        raise DeepDifEInputError(
            f"{what} {name!r} is not allowed; use letters, digits, '.', '_' or '-' (at most 100, no '..')"
        )
    return name


def network_weights(cfg) -> int:
    """How many weights :func:`deepdife_core.model.build_model` gives ``cfg`` (without batch
    normalisation), computed without building anything."""
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


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


#: errno -> what the user is told when a write fails for a reason of the machine, not of the program
_STORAGE_ERRNOS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.EFBIG: "the file is larger than this system allows",
}


def storage_error(exc: BaseException, path: str | Path) -> DeepDifEInputError | None:
    """A user-facing error for a write that failed because the disk is full or the folder is not writable.

    Returns None for any other exception (a bug, to be raised as is).
    """
    reason = _STORAGE_ERRNOS.get(exc.errno) if isinstance(exc, OSError) else None
    if reason is None:
        return None
    return DeepDifEInputError(
        f"cannot write {path}: {reason}; free some disk space or make the folder writable, then try again "
        "(nothing was changed)"
    )


def creation_mode(base: int = 0o666) -> int:
    """``base`` minus the process umask: the mode ``open()`` / ``mkdir()`` would give a new file / folder."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return base & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # no /proc: read the umask by setting it (and put it back at once)
    os.umask(mask)
    return base & ~mask


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file in the same folder and ``os.replace``.

    The file gets the usual permissions (``0666`` minus the umask, e.g. ``0644``),
    not the temp file's ``0600``.  A full disk or an unwritable folder raises
    :class:`DeepDifEInputError` (see :func:`storage_error`) and leaves ``path``
    as it was.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        err = storage_error(exc, path)
        if err is None:
            raise
        raise err from exc
    try:
        os.fchmod(fd, creation_mode())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        err = storage_error(exc, path)
        if err is None:
            raise
        raise err from exc


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, default=_json_default) + "\n")


def atomic_write_csv(df: pd.DataFrame, path: str | Path) -> None:
    """Write a DataFrame as CSV atomically, values as they are (a file only the program reads back);
    a CSV for people (a spreadsheet) goes through :func:`write_export_csv`."""
    atomic_write_text(path, df.to_csv(index=False))


#: a text cell a spreadsheet would run as a formula: it starts (after any apostrophes of ours) with one of
#: ``= + - @``, a tab or a carriage return (OWASP's CSV-injection rule)
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
#: what :func:`neutralise_formulas` wrote: one more leading apostrophe than the value had
_NEUTRALISED = re.compile(r"'+[=+\-@\t\r]")
#: a plain number ("-1.5", "+3e-4") is a number to a spreadsheet, not a formula, and stays as it is
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise_cell(value: Any) -> Any:
    """``value`` safe for a spreadsheet: a text starting with ``= + - @``, tab or CR gets a leading ``'``.

    Numbers, texts that are plain numbers and a lone sign (a strand ``+`` / ``-``: nothing to run) are
    unchanged; :func:`restore_cell` undoes it exactly.
    """
    if isinstance(value, str) and len(value) > 1 and _FORMULA.match(value) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def restore_cell(value: Any) -> Any:
    """The value :func:`neutralise_cell` was given (a read-back of an exported table)."""
    if isinstance(value, str) and _NEUTRALISED.match(value) and not _NUMBER.fullmatch(value[1:]):
        return value[1:]
    return value


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` for a CSV/XLSX export: every text cell (and column name) through :func:`neutralise_cell`.

    Parameters
    ----------
    df
        Any table; numeric columns are left as they are.

    Returns
    -------
    pd.DataFrame
        Same shape, index and dtypes; text cells that a spreadsheet would run as formulas start with ``'``.
    """
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(neutralise_cell)
    out.columns = [neutralise_cell(c) for c in out.columns]
    return out


def restore_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Undo :func:`neutralise_formulas` on a table read back from an export (text cells and column names).

    Parameters
    ----------
    df
        A table as read from a CSV/XLSX file.

    Returns
    -------
    pd.DataFrame
        Same shape; ``'=...`` is ``=...`` again (a spreadsheet saves such a cell without the ``'`` too).
    """
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(restore_cell)
    out.columns = [restore_cell(c) for c in out.columns]
    return out


def export_csv(df: pd.DataFrame, **to_csv: Any) -> str:
    """CSV text of ``df`` for people: formulas neutralised (:func:`neutralise_formulas`), no index.

    Every CSV download and CSV output meant for a spreadsheet uses this; parquet / JSON / npz keep
    the raw values.
    """
    to_csv.setdefault("index", False)
    return neutralise_formulas(df).to_csv(**to_csv)


def export_xlsx(df: pd.DataFrame) -> bytes:
    """An ``.xlsx`` workbook of ``df`` for people, formulas neutralised like :func:`export_csv`."""
    import io as _io

    buf = _io.BytesIO()
    neutralise_formulas(df).to_excel(buf, index=False)
    return buf.getvalue()


def write_export_csv(df: pd.DataFrame, path: str | Path) -> None:
    """Write :func:`export_csv` of ``df`` to ``path`` atomically."""
    atomic_write_text(path, export_csv(df))


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj)}")


#: environment variable naming the job folder this process runs (set by :func:`deepdife_core.jobs.run_job`);
#: a claim made for that job (see :func:`claim_output`) belongs to this process
JOB_ENV = "DEEPDIFE_JOB_FOLDER"
#: claims held here: (claim file, thread) -> how many nested :func:`claim_output` blocks hold it (two
#: threads of one process, e.g. two dashboard sessions, are two writers)
_HELD: dict[tuple[Path, int], int] = {}


def claim_path(target: str | Path) -> Path:
    """The claim file of an output folder: ``<parent>/.claim-<name>`` (hidden, so never listed)."""
    target = Path(target)
    return target.parent / f".claim-{target.name}"


def _claim_owner(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # being written right now, or garbage: held by someone
    return data if isinstance(data, dict) else {}


def _claim_live(owner: dict) -> bool:
    """Whether the writer named in a claim file is still at work (a killed one leaves a stale claim)."""
    from deepdife_core import jobs

    job = owner.get("job")
    if job:
        state = (jobs.read_job(job) or {}).get("state")
        return state in ("queued", "running")
    pid = owner.get("pid")
    return pid is None or jobs.pid_alive(pid)


def _claim_text(owner: dict) -> str:
    if owner.get("job"):
        return f"the dashboard job {Path(owner['job']).name}"
    if owner.get("pid"):
        return f"another run (process {owner['pid']})"
    return "another run"


def acquire_claim(target: str | Path, *, overwrite: bool = False, job: str | Path | None = None) -> Path:
    """Claim the output folder ``target`` for one writer, atomically (exclusive create of its claim file).

    Parameters
    ----------
    target
        The folder to be written (a model, a motif run, a dataset).
    overwrite
        Whether an existing ``target`` may be replaced; without it an existing folder is refused.
    job
        Claim on behalf of a background job (its folder): the claim lasts while the job is queued or
        running, and the job process adopts it.  None: this process holds the claim.

    Returns
    -------
    Path
        The claim file; give it back with :func:`release_claim`.

    Raises
    ------
    DeepDifEInputError
        Another live writer holds the name (a claim whose writer died is taken over), or ``target``
        exists and ``overwrite`` is false, or the folder is not writable (:func:`storage_error`).
    """
    target = Path(target)
    path = claim_path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        err = storage_error(exc, target)
        if err is None:
            raise
        raise err from exc
    key = (path.resolve(), threading.get_ident())
    if job is None and key in _HELD:
        _HELD[key] += 1
        return path
    mine = os.environ.get(JOB_ENV)
    body = json.dumps({"pid": os.getpid(), "job": str(Path(job).resolve()) if job is not None else None})
    for _ in range(3):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            owner = _claim_owner(path)
            if owner is None:
                continue  # released meanwhile: try again
            if job is None and mine and owner.get("job") and Path(owner["job"]) == Path(mine).resolve():
                atomic_write_text(path, body)  # the job process adopts the claim made for it at Start
                break
            if _claim_live(owner):
                raise DeepDifEInputError(
                    f"{target} is being written by {_claim_text(owner)}; choose another name or wait for it "
                    f"to finish (nothing was changed; if no such run is going on, delete {path})"
                ) from None
            path.unlink(missing_ok=True)  # a stale claim of a writer that died
            continue
        except OSError as exc:
            err = storage_error(exc, target)
            if err is None:
                raise
            raise err from exc
        with os.fdopen(fd, "w") as fh:
            fh.write(body)
        break
    else:
        raise DeepDifEInputError(f"{target} is being written by another run; choose another name or try again")
    if target.exists() and not overwrite:
        path.unlink(missing_ok=True)
        raise DeepDifEInputError(f"{target} already exists; choose another name or pass --overwrite")
    if job is None:
        _HELD[key] = 1
    return path


def release_claim(path: str | Path) -> None:
    """Give back a claim from :func:`acquire_claim` (the file goes when its last holder lets go)."""
    path = Path(path)
    key = (path.resolve(), threading.get_ident())
    count = _HELD.get(key, 0)
    if count > 1:
        _HELD[key] = count - 1
        return
    _HELD.pop(key, None)
    owner = _claim_owner(path) or {}
    if owner.get("pid") in (None, os.getpid()) or owner.get("job"):
        path.unlink(missing_ok=True)


@contextmanager
def claim_output(target: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Hold the claim on ``target`` for the block (see :func:`acquire_claim`); nested blocks share it.

    Two writers of one name: the second is refused at once with a clear message, and an existing
    folder is never replaced without ``overwrite``.
    """
    path = acquire_claim(target, overwrite=overwrite)
    try:
        yield path
    finally:
        release_claim(path)


@contextmanager
def atomic_dir(target: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temp folder next to ``target``; rename it to ``target`` when the block succeeds.

    On any exception the temp folder is removed and ``target`` is untouched; a full
    disk or an unwritable folder becomes a :class:`DeepDifEInputError` (:func:`storage_error`).
    The name is claimed for the whole block (:func:`claim_output`): a second writer of the same
    ``target`` is refused, and ``target`` is replaced only with ``overwrite``.
    """
    target = Path(target)
    if target.exists() and not overwrite:
        raise DeepDifEInputError(f"{target} already exists; choose another name or delete it first")
    with claim_output(target, overwrite=overwrite):
        yield from _atomic_dir_claimed(target, overwrite)


def _atomic_dir_claimed(target: Path, overwrite: bool) -> Iterator[Path]:
    tmp = target.parent / f".tmp-{target.name}-{uuid.uuid4().hex[:8]}"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
    except OSError as exc:
        err = storage_error(exc, target)
        if err is None:
            raise
        raise err from exc
    try:
        yield tmp
        if target.exists() and not overwrite:
            raise DeepDifEInputError(f"{target} appeared while this run was writing it; nothing was replaced")
        if target.exists():
            trash = target.parent / f".trash-{target.name}-{uuid.uuid4().hex[:8]}"
            os.replace(target, trash)
            os.replace(tmp, target)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        err = storage_error(exc, target)
        if err is None:
            raise
        raise err from exc


def fingerprint_dataset(df: pd.DataFrame) -> str:
    """SHA-256 of the gene IDs, labels and sequences (order-sensitive), first 16 hex digits."""
    h = hashlib.sha256()
    for col in ("gene_id", "label", "sequence"):
        if col in df.columns:
            h.update("\n".join(map(str, df[col].tolist())).encode())
    return h.hexdigest()[:16]


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("deepdife", "tensorflow-cpu", "keras", "numpy", "pandas", "shap", "modisco-lite", "optuna"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out


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

    Parameters
    ----------
    models
        One Keras model, or several (fold ensemble, saved under ``folds/<k>/``).
    extra_files
        Further text files to put in the folder (name -> content), e.g. ``oof.csv``.
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
    """
    from dataclasses import replace

    run = config_from_dict(data)
    length = run.model.input_length
    if not data.get("data"):
        return DatasetConfig(length=length)
    return run.data if run.data.length == length else replace(run.data, length=length)


def load_run_config(folder: str | Path) -> RunConfig:
    """A model folder's ``config.json`` as a :class:`RunConfig`; its ``data`` is how to fit sequences.

    Unlike :func:`read_config`, an older folder without a ``data`` section gets
    ``DatasetConfig(length=<the model's input length>)`` there (see :func:`data_config_from_dict`).
    """
    from dataclasses import replace

    cfg = read_config(folder)
    raw = read_json(Path(folder) / "config.json", {}) or {}
    return replace(cfg, data=data_config_from_dict(raw))


def model_data_config(model) -> DatasetConfig:
    """The :class:`~deepdife_core.config.DatasetConfig` to fit sequences with for ``model``.

    ``model`` is a model folder or a :class:`~deepdife_core.model.Predictor`; one not
    loaded from a folder gets the defaults at its input length.
    """
    if isinstance(model, (str, Path)):
        return load_run_config(model).data
    if getattr(model, "path", None) is not None and (Path(model.path) / "config.json").is_file():
        data = load_run_config(model.path).data
        if data.length == model.config.input_length:
            return data
    return DatasetConfig(length=model.config.input_length)


def load_model(folder: str | Path):
    """Load a model folder as a :class:`~deepdife_core.model.Predictor` (Keras safe mode)."""
    from deepdife_core.model import Predictor, _keras

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


def read_json(path: Path, default: Any = None) -> Any:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return default


def read_history(folder: str | Path) -> list[dict]:
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
    """Registry: one row per complete model folder under ``root``, newest first."""
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
    """Remove a model folder (renamed away first, so it vanishes from the registry at once)."""
    folder = Path(folder)
    if not (folder / "config.json").exists():
        raise ArtifactError(f"{folder} is not a model folder")
    trash = folder.parent / f".trash-{folder.name}-{uuid.uuid4().hex[:8]}"
    os.replace(folder, trash)
    shutil.rmtree(trash, ignore_errors=True)


def rename_model(folder: str | Path, new_name: str) -> Path:
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
