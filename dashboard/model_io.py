"""Model folders in and out of the registry as files (Streamlit-free).

* :func:`zip_model_folder` packs a model folder into a zip (``<name>/...``).
* :func:`import_model_zip` unpacks an uploaded zip safely: no absolute paths,
  no ``..``, no links, bounded size; requires ``config.json`` and
  ``model.keras`` (or ``folds/<k>/model.keras``); extracts into a hidden temp
  folder, loads it with :func:`deepdife_core.model.folder.load_model` (Keras safe
  mode, nothing is unpickled) and only then renames it into the registry.
* :func:`import_legacy_files` rebuilds the published DeepDifE model from its
  Keras 2 JSON + HDF5 weights and saves it as a model folder.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import tempfile
import uuid
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from deepdife_core.errors import ArtifactError, DeepDifEInputError
from deepdife_core.files import check_name, creation_mode, now_iso, storage_error
from deepdife_core.model.folder import check_network_size, imported_run_config, save_model_folder

MAX_UNPACKED_BYTES = 2 * 1024**3
MAX_MEMBERS = 2000


def zip_model_folder(folder: str | Path) -> bytes:
    """The files of a model folder as zip bytes, under a top folder named like the model."""
    folder = Path(folder)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                zf.write(path, arcname=f"{folder.name}/{path.relative_to(folder).as_posix()}")
    return buf.getvalue()


def _safe_members(zf: zipfile.ZipFile, name: str) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """Members with their paths relative to the model root; raises on anything unsafe."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise DeepDifEInputError(f"{name}: {len(infos)} files in the zip; a model folder has only a few")
    total = 0
    paths = []
    for info in infos:
        raw = info.filename.replace("\\", "/")
        p = PurePosixPath(raw)
        if not p.parts or raw.startswith("/") or ":" in p.parts[0] or ".." in p.parts:  # also '', '.', './
            raise DeepDifEInputError(f"{name}: unsafe path {info.filename!r} in the zip (absolute or with '..')")
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise DeepDifEInputError(f"{name}: the zip contains a link ({info.filename!r}); links are not allowed")
        total += info.file_size
        if total > MAX_UNPACKED_BYTES:
            raise DeepDifEInputError(f"{name}: unpacks to more than 2 GB; not a DeepDifE model")
        if not info.is_dir():
            paths.append((info, p))
    if not paths:
        raise DeepDifEInputError(f"{name}: the zip is empty")
    # a single top folder (as written by zip_model_folder) is stripped
    tops = {p.parts[0] for _, p in paths}
    strip = len(tops) == 1 and all(len(p.parts) > 1 for _, p in paths)
    out = [(info, PurePosixPath(*p.parts[1:]) if strip else p) for info, p in paths]
    names = {p.as_posix() for _, p in out}
    has_model = "model.keras" in names or any(
        len(p.parts) == 3 and p.parts[0] == "folds" and p.parts[2] == "model.keras" for _, p in out
    )
    if "config.json" not in names or not has_model:
        raise DeepDifEInputError(
            f"{name}: not a DeepDifE model zip (needs config.json and model.keras at its top level)"
        )
    return out


def import_model_zip(data: bytes, name: str, models_root: str | Path, *, filename: str = "uploaded zip") -> Path:
    """Validate, unpack, test-load and register a model zip as ``models_root/name``.

    Raises
    ------
    DeepDifEInputError
        Not a zip, unsafe paths, missing files, a model that does not load, or the name is taken.
    """
    check_name(name)
    root = Path(models_root)
    target = root / name
    if target.exists():
        raise DeepDifEInputError(f"a model named {name!r} already exists; choose another name")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as exc:
        raise DeepDifEInputError(f"{filename}: not a zip file ({exc})") from exc
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-import-{name}-", dir=root))
        os.chmod(tmp, creation_mode(0o777))  # mkdtemp's 0700 would stay on the registered folder
    except OSError as exc:
        err = storage_error(exc, root / name)
        if err is None:
            raise
        raise err from exc
    try:
        with zf:
            for info, rel in _safe_members(zf, filename):
                dest = tmp.joinpath(*rel.parts)
                if not dest.resolve().is_relative_to(tmp.resolve()):
                    raise DeepDifEInputError(f"{filename}: unsafe path {info.filename!r} in the zip")
                _extract(zf, info, dest, filename)
        from deepdife_core.model.folder import load_model

        try:
            load_model(tmp)
        except ArtifactError as exc:
            raise DeepDifEInputError(f"{filename}: the model does not load ({exc})") from exc
        if target.exists():
            raise DeepDifEInputError(f"a model named {name!r} already exists; choose another name")
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _extract(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, filename: str) -> None:
    """Copy one member to ``dest``; a damaged, encrypted or clashing member is a :class:`DeepDifEInputError`."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with zf.open(info) as src, open(dest, "xb") as out:
            shutil.copyfileobj(src, out)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as exc:
        err = storage_error(exc, dest)
        if err is not None:
            raise err from exc
        raise DeepDifEInputError(
            f"{filename}: cannot unpack {info.filename!r} ({type(exc).__name__}: {str(exc)[:120]}); "
            "the zip is damaged, encrypted or holds the same path twice; export the model again"
        ) from exc


def import_legacy_files(json_bytes: bytes, weights_bytes: bytes, name: str, models_root: str | Path) -> Path:
    """Import DeepDifE's published ``model_*.json`` + ``weights_*.h5`` as model folder ``name``.

    Returns
    -------
    pathlib.Path
        The new model folder (provenance ``source = "legacy-import"``).
    """
    from deepdife_core.model.cnn import import_legacy, legacy_config

    check_name(name)
    target = Path(models_root) / name
    if target.exists():
        raise DeepDifEInputError(f"a model named {name!r} already exists; choose another name")
    with tempfile.TemporaryDirectory(prefix=f"deepdife-legacy-{uuid.uuid4().hex[:6]}-") as tmp:
        jpath, wpath = Path(tmp) / "model_single.json", Path(tmp) / "weights_single.h5"
        jpath.write_bytes(json_bytes)
        wpath.write_bytes(weights_bytes)
        check_network_size(legacy_config(jpath), "the model JSON")  # before TensorFlow allocates it
        predictor = import_legacy(jpath, wpath)
    cfg = imported_run_config(predictor.config)
    return save_model_folder(
        target,
        models=list(predictor.models),
        config=cfg,
        provenance={"source": "legacy-import", "imported": now_iso(), "dataset": "published DeepDifE model"},
    )
