"""Files on disk: safe names, atomic writes, small JSON readers, dataset fingerprints.

Every artifact of DeepDifE (model folders, datasets, job folders, attribution
caches) is written through these helpers: the data goes to a temporary file (or
folder) beside the target, is flushed and then renamed over it, so a reader never
sees half a file and a crash never leaves one.  Names a user chooses (models,
datasets, studies, motif runs) pass :func:`check_name` first.

Data contract: a *name* matches ``[A-Za-z0-9][A-Za-z0-9._-]{0,99}`` as a whole;
JSON is UTF-8 with numpy scalars and arrays converted to plain values.
"""

from __future__ import annotations

import errno
import hashlib
import io as _io
import json
import os
import platform
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from deepdife_core.errors import DeepDifEInputError

#: matched with ``fullmatch``: ``$`` would also accept a name ending in a newline
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def check_name(name: str, what: str = "model name") -> str:
    """Check that ``name`` is a safe folder name.

    Allowed are letters, digits, ``.``, ``_`` and ``-`` (at most 100 characters); no path
    separators and no ``..``.

    Parameters
    ----------
    name : str
        The name to check.
    what : str, optional
        What the name names, for the error message (default ``"model name"``).

    Returns
    -------
    str
        ``name`` unchanged.

    Raises
    ------
    DeepDifEInputError
        If ``name`` is not allowed.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        raise DeepDifEInputError(
            f"{what} {name!r} is not allowed; use letters, digits, '.', '_' or '-' (at most 100, no '..')"
        )
    return name


def now_iso() -> str:
    """The current UTC time as an ISO 8601 text, to the second.

    Returns
    -------
    str
        E.g. ``"2026-01-31T12:00:00+00:00"``.
    """
    return datetime.now(UTC).isoformat(timespec="seconds")


#: errno -> what the user is told when a write fails for a reason of the machine, not of the program
STORAGE_ERRNOS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.EFBIG: "the file is larger than this system allows",
}


def storage_error(exc: BaseException, path: str | Path) -> DeepDifEInputError | None:
    """A user-facing error for a write that failed because the disk is full or the folder is not writable.

    Parameters
    ----------
    exc : BaseException
        The exception the write raised.
    path : str or Path
        The file or folder being written, named in the message.

    Returns
    -------
    DeepDifEInputError or None
        The error to raise instead of ``exc``; None for any other exception (a bug, to be
        raised as is).
    """
    reason = STORAGE_ERRNOS.get(exc.errno) if isinstance(exc, OSError) else None
    if reason is None:
        return None
    return DeepDifEInputError(
        f"cannot write {path}: {reason}; free some disk space or make the folder writable, then try again "
        "(nothing was changed)"
    )


def creation_mode(base: int = 0o666) -> int:
    """The mode ``open()`` / ``mkdir()`` would give a new file or folder: ``base`` minus the umask.

    Parameters
    ----------
    base : int, optional
        The requested mode (default ``0o666``, a file; ``0o777`` for a folder).

    Returns
    -------
    int
        ``base & ~umask`` (the umask read from ``/proc/self/status``, else by setting it and
        putting it back).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return base & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # no /proc: read the umask by setting it (and put it back at once)
    os.umask(mask)
    return base & ~mask


@contextmanager
def atomic_open(path: str | Path, mode: str = "wb", **open_kwargs: Any) -> Iterator[Any]:
    """Open a temp file beside ``path`` for writing; on a clean exit it is flushed and renamed over ``path``.

    The file gets the usual permissions (``0666`` minus the umask, e.g. ``0644``),
    not the temp file's ``0600``.  Missing parent folders are created.  When the
    ``with`` body (or the write) fails, the temp file is removed and ``path`` is left
    as it was.

    Parameters
    ----------
    path : str or Path
        The file to write (replaced whole, never left half-written).
    mode : str, optional
        The :func:`os.fdopen` mode (default ``"wb"``; e.g. ``"w"`` for text).
    **open_kwargs
        More :func:`os.fdopen` arguments (``encoding``, ``newline``).

    Yields
    ------
    file object
        The open temp file.

    Raises
    ------
    DeepDifEInputError
        On a full disk or an unwritable folder (see :func:`storage_error`).
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
        with os.fdopen(fd, mode, **open_kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        err = storage_error(exc, path)
        if err is None:
            raise
        raise err from exc


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file in the same folder and ``os.replace``.

    The file gets the usual permissions (``0666`` minus the umask, e.g. ``0644``),
    not the temp file's ``0600``.  Missing parent folders are created (see :func:`atomic_open`).

    Parameters
    ----------
    path : str or Path
        The file to write (replaced whole, never left half-written).
    data : bytes
        The content.

    Raises
    ------
    DeepDifEInputError
        On a full disk or an unwritable folder (see :func:`storage_error`); ``path`` is left
        as it was.
    """
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_write_bytes`).

    Parameters
    ----------
    path : str or Path
        The file to write.
    text : str
        The content, encoded as UTF-8.
    """
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON (with a final newline) to ``path`` atomically.

    Parameters
    ----------
    path : str or Path
        The file to write.
    obj : Any
        A JSON-able value; numpy integers / floats / arrays and paths are converted (to int,
        float, list, str).
    """
    atomic_write_text(path, json.dumps(obj, indent=2, default=_json_default) + "\n")


def atomic_write_csv(df: pd.DataFrame, path: str | Path) -> None:
    """Write a DataFrame as CSV (no index) atomically, values as they are.

    This is for a file only the program reads back; a CSV for people (a spreadsheet) goes
    through :func:`write_export_csv`.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    path : str or Path
        The file to write.
    """
    atomic_write_text(path, df.to_csv(index=False))


#: a text cell a spreadsheet would run as a formula: it starts (after any apostrophes of ours) with one of
#: ``= + - @``, a tab or a carriage return (OWASP's CSV-injection rule)
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
#: what :func:`neutralise_formulas` wrote: one more leading apostrophe than the value had
_NEUTRALISED = re.compile(r"'+[=+\-@\t\r]")
#: a plain number ("-1.5", "+3e-4") is a number to a spreadsheet, not a formula, and stays as it is
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise_cell(value: Any) -> Any:
    """Make ``value`` safe for a spreadsheet: a formula-like text gets a leading ``'``.

    A text longer than one character that starts with ``= + - @``, tab or CR is prefixed.
    Numbers, texts that are plain numbers and a lone sign (a strand ``+`` / ``-``: nothing to
    run) are unchanged; :func:`restore_cell` undoes it exactly.

    Parameters
    ----------
    value : Any
        A table cell.

    Returns
    -------
    Any
        ``"'" + value`` for a formula-like text, else ``value`` unchanged.
    """
    if isinstance(value, str) and len(value) > 1 and _FORMULA.match(value) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def restore_cell(value: Any) -> Any:
    """The value :func:`neutralise_cell` was given (a read-back of an exported table).

    Parameters
    ----------
    value : Any
        A cell of an exported table.

    Returns
    -------
    Any
        ``value`` without the leading ``'`` that :func:`neutralise_cell` added, else unchanged.
    """
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

    Parameters
    ----------
    df : pandas.DataFrame
        The table to export.
    **to_csv
        Passed on to ``DataFrame.to_csv`` (``index`` defaults to False).

    Returns
    -------
    str
        The CSV text.
    """
    to_csv.setdefault("index", False)
    return neutralise_formulas(df).to_csv(**to_csv)


def export_xlsx(df: pd.DataFrame) -> bytes:
    """An ``.xlsx`` workbook of ``df`` for people, formulas neutralised like :func:`export_csv`.

    Parameters
    ----------
    df : pandas.DataFrame
        The table to export (written without its index).

    Returns
    -------
    bytes
        The workbook file's content.
    """
    buf = _io.BytesIO()
    neutralise_formulas(df).to_excel(buf, index=False)
    return buf.getvalue()


def write_export_csv(df: pd.DataFrame, path: str | Path) -> None:
    """Write :func:`export_csv` of ``df`` to ``path`` atomically.

    Parameters
    ----------
    df : pandas.DataFrame
        The table to export.
    path : str or Path
        The CSV file to write.
    """
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


#: environment variable naming the job folder this process runs (set by :func:`deepdife_core.jobs.runner.run_job`);
#: a claim made for that job (see :func:`claim_output`) belongs to this process
JOB_ENV = "DEEPDIFE_JOB_FOLDER"
#: a queued job whose process has not said anything after this many seconds is lost (the job runner reports
#: it failed, and a claim made for it is stale)
QUEUE_TIMEOUT_S = 300.0
#: claims held here: (claim file, thread) -> how many nested :func:`claim_output` blocks hold it (two
#: threads of one process, e.g. two dashboard sessions, are two writers)
_HELD: dict[tuple[Path, int], int] = {}


def pid_alive(pid: int | None) -> bool:
    """True if process ``pid`` exists and is not a zombie.

    Parameters
    ----------
    pid : int or None
        A process id; None or 0 is never alive.

    Returns
    -------
    bool
        True for a live process (also one of another user), False for none or a zombie.
    """
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OSError, ValueError):
        return False
    try:
        stat = Path(f"/proc/{int(pid)}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def claim_path(target: str | Path) -> Path:
    """The claim file of an output folder: ``<parent>/.claim-<name>`` (hidden, so never listed).

    Parameters
    ----------
    target : str or Path
        The output folder.

    Returns
    -------
    Path
        The claim file's path next to ``target``.
    """
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
    """Whether the writer named in a claim file is still at work (a killed one leaves a stale claim).

    A job claim lives while the job's ``job.json`` says running with a live process, or
    queued for at most :data:`QUEUE_TIMEOUT_S` (read here, below the job runner, which
    keeps the same file and applies the same rule).
    """
    job = owner.get("job")
    if job:
        path = Path(job) / "job.json"
        data = read_json(path, {}) or {}
        state = data.get("state")
        if state == "running":
            return pid_alive(data.get("pid"))
        if state != "queued":
            return False
        try:
            return time.time() - path.stat().st_mtime <= QUEUE_TIMEOUT_S
        except OSError:
            return False
    pid = owner.get("pid")
    return pid is None or pid_alive(pid)


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
        raise DeepDifEInputError(f"{target} already exists; choose another name or pass overwrite=True")
    if job is None:
        _HELD[key] = 1
    return path


def release_claim(path: str | Path) -> None:
    """Give back a claim from :func:`acquire_claim` (the file goes when its last holder lets go).

    Parameters
    ----------
    path : str or Path
        The claim file :func:`acquire_claim` returned.  Nested claims of this thread are
        counted; the file is removed when the count reaches zero and it belongs to this
        process (or to a job).
    """
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

    Parameters
    ----------
    target : str or Path
        The output folder to claim.
    overwrite : bool, optional
        Whether an existing ``target`` may be replaced (default False).

    Yields
    ------
    Path
        The claim file.
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
    ``target`` is refused.

    Parameters
    ----------
    target : str or Path
        The folder to create.
    overwrite : bool, optional
        Whether an existing ``target`` is replaced (default False: an existing one is refused).

    Yields
    ------
    Path
        The temp folder to fill.

    Raises
    ------
    DeepDifEInputError
        If ``target`` exists and ``overwrite`` is False, or another writer holds its name.
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
    """SHA-256 of the gene IDs, labels and sequences (order-sensitive), first 16 hex digits.

    Parameters
    ----------
    df : pandas.DataFrame
        A dataset table; of ``gene_id``, ``label`` and ``sequence`` the columns present are hashed.

    Returns
    -------
    str
        16 lowercase hex digits.
    """
    h = hashlib.sha256()
    for col in ("gene_id", "label", "sequence"):
        if col in df.columns:
            h.update("\n".join(map(str, df[col].tolist())).encode())
    return h.hexdigest()[:16]


def package_versions() -> dict[str, str]:
    """Versions of Python and the main installed packages, for provenance.

    Returns
    -------
    dict of str to str
        ``{"python": ..., "<package>": version}`` for deepdife, tensorflow-cpu, keras, numpy,
        pandas, shap, modisco-lite and optuna (packages not installed are left out).
    """
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("deepdife", "tensorflow-cpu", "keras", "numpy", "pandas", "shap", "modisco-lite", "optuna"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out


def read_json(path: Path, default: Any = None) -> Any:
    """Read a JSON file, or ``default`` when it is missing or not valid JSON.

    Parameters
    ----------
    path : Path
        The file to read.
    default : Any, optional
        The value for a missing or unreadable file (default None).

    Returns
    -------
    Any
        The parsed JSON value, or ``default``.
    """
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return default
