"""Cached loaders: the only place with ``st.cache_resource`` (models) and ``st.cache_data`` (tables).

Every cached function takes a *stamp* (modification times) among its arguments,
so a model folder or dataset that changed on disk is reloaded: callers use the
un-cached wrappers below, which compute the stamp and call the cached function.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import streamlit as st

from deepdife_core import files as _files
from deepdife_core.model import folder as _folder


def folder_stamp(folder: str | Path) -> float:
    """Newest modification time of a folder and the files directly in it (0 if missing)."""
    folder = Path(folder)
    try:
        stamps = [folder.stat().st_mtime] + [p.stat().st_mtime for p in folder.iterdir()]
    except OSError:
        return 0.0
    return max(stamps)


def _file_stamp(path: str | Path) -> float:
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return 0.0


# ----------------------------------------------------------------------------- models


@st.cache_resource(max_entries=4, show_spinner="Loading the model…")
def _predictor(path: str, stamp: float):
    return _folder.load_model(path)


def predictor(path: str | Path):
    """The :class:`~deepdife_core.model.cnn.Predictor` of a model folder (cached until the folder changes)."""
    return _predictor(str(path), folder_stamp(path))


@st.cache_data(max_entries=16, show_spinner=False)
def _registry(root: str, stamp: tuple[float, ...]) -> pd.DataFrame:
    return _folder.list_models(root)


def registry(root: str | Path) -> pd.DataFrame:
    """``_folder.list_models(root)``, cached until a model folder changes."""
    root = Path(root)
    stamp: tuple[float, ...] = ()
    if root.is_dir():
        subs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        stamp = (folder_stamp(root), *(folder_stamp(p) for p in subs))
    return _registry(str(root), stamp)


@st.cache_data(max_entries=32, show_spinner=False)
def _history(path: str, stamp: float) -> list[dict]:
    return _folder.read_history(path)


def history(folder: str | Path) -> list[dict]:
    """``_folder.read_history`` of a model folder, cached on its mtime."""
    return _history(str(folder), folder_stamp(folder))


@st.cache_data(max_entries=32, show_spinner=False)
def _model_json(path: str, stamp: float) -> dict:
    folder = Path(path)
    return {
        "config": _files.read_json(folder / "config.json", {}) or {},
        "metrics": _files.read_json(folder / "metrics.json", {}) or {},
        "provenance": _files.read_json(folder / "provenance.json", {}) or {},
    }


def model_info(folder: str | Path) -> dict:
    """``config``, ``metrics`` and ``provenance`` JSON of a model folder, cached on its mtime."""
    return _model_json(str(folder), folder_stamp(folder))


@st.cache_data(max_entries=8, show_spinner="Packing the model…")
def _model_zip(path: str, stamp: float) -> bytes:
    from dashboard.model_io import zip_model_folder

    return zip_model_folder(path)


def model_zip(folder: str | Path) -> bytes:
    """Zip of a model folder (cached on its mtime)."""
    return _model_zip(str(folder), folder_stamp(folder))


# ----------------------------------------------------------------------------- tables


@st.cache_data(max_entries=8, show_spinner="Reading the dataset…")
def _dataset_table(path: str, stamp: float) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"gene_id": str, "family": str, "sequence": str}, keep_default_na=False)


def dataset_table(path: str | Path) -> pd.DataFrame:
    """A saved dataset's ``data.csv`` (cached until the file changes)."""
    return _dataset_table(str(path), _file_stamp(path))


#: parsed uploads kept per loader (a rerun of the page reads the same upload again, so 2 is enough)
UPLOAD_CACHE_ENTRIES = 2
#: seconds an unused parsed upload stays in the server's memory
UPLOAD_CACHE_TTL_S = 900
#: uploads larger than this are parsed again on each use instead of being kept (a 1e6-row table parses
#: to ~1 GB of pandas objects): the server's memory does not grow with what users upload
UPLOAD_CACHE_MAX_BYTES = 16 * 1024**2


def _upload_cached(loader):
    """``loader(data, ...)`` through a bounded cache (:data:`UPLOAD_CACHE_ENTRIES`, :data:`UPLOAD_CACHE_TTL_S`),
    and uncached for uploads over :data:`UPLOAD_CACHE_MAX_BYTES`."""
    cached = st.cache_data(max_entries=UPLOAD_CACHE_ENTRIES, ttl=UPLOAD_CACHE_TTL_S, show_spinner=False)(loader)

    def call(data: bytes, *args):
        return loader(data, *args) if len(data) > UPLOAD_CACHE_MAX_BYTES else cached(data, *args)

    call.__doc__, call.__name__, call.clear = loader.__doc__, loader.__name__, cached.clear
    return call


@_upload_cached
def raw_table(data: bytes, name: str) -> pd.DataFrame:
    """An uploaded table read with :func:`deepdife_core.data.io.read_table` (all strings)."""
    from deepdife_core.data.io import read_table

    return read_table(data, name=name)


@_upload_cached
def de_table(data: bytes, name: str, gene_col: str, lfc_col: str, padj_col: str) -> pd.DataFrame:
    """An uploaded DE table through :func:`deepdife_core.data.io.read_de_table`."""
    from deepdife_core.data.io import read_de_table

    return read_de_table(io.BytesIO(data), gene_col=gene_col, lfc_col=lfc_col, padj_col=padj_col, name=name)


@_upload_cached
def fasta_lengths(data: bytes, name: str) -> pd.DataFrame:
    """``id``, normalised ``key`` and raw ``length`` of every record of an uploaded FASTA."""
    from deepdife_core.data.io import normalize_id, read_fasta

    records = read_fasta(data, name=name)
    return pd.DataFrame(
        {
            "id": [r.id for r in records],
            "key": [normalize_id(r.id) for r in records],
            "length": [len(r.sequence) for r in records],
        }
    )


# ----------------------------------------------------------------------------- saliency


@_upload_cached
def fasta_sequences(data: bytes, name: str, length: int, pad_side: str) -> pd.DataFrame:
    """An uploaded FASTA through :func:`deepdife_core.data.io.sequences_from_fasta` (``gene_id, sequence[, coords]``)."""
    from deepdife_core.data.io import sequences_from_fasta

    return sequences_from_fasta(data, length=length, pad_side=pad_side, name=name)


@st.cache_resource(max_entries=2, show_spinner="Loading the JASPAR plant motifs…")
def _scan_database(spec: str, cache_dir: str):
    from deepdife_core.motifs.modisco import load_motif_database
    from deepdife_core.motifs.scan import prepare_database

    return prepare_database(load_motif_database(spec, cache_dir=cache_dir))


def scan_database(spec: str = "jaspar-plants"):
    """A motif database prepared for :func:`deepdife_core.motifs.scan.scan_sequences` (JASPAR CORE plants, offline);
    the MEME export is kept in ``workspace/motif_db``."""
    from dashboard.paths import workspace_dir

    return _scan_database(spec, str(workspace_dir() / "motif_db"))


# ----------------------------------------------------------------------------- tuning


@st.cache_data(max_entries=16, show_spinner=False)
def _tune_figures(name: str, url: str, stamp: tuple) -> dict:
    from dashboard.tune_view import study_figures

    return study_figures(name, url)


def tune_figures(name: str, url: str, stamp: tuple) -> dict:
    """Optuna figures of a study (:func:`dashboard.tune_view.study_figures`), cached until ``stamp``
    (``tune_view.table_stamp`` of its trial table) changes."""
    return _tune_figures(name, url, stamp)


# ----------------------------------------------------------------------------- motif runs


@st.cache_data(max_entries=8, show_spinner="Reading the motif run…")
def _motif_run(path: str, stamp: float):
    from dashboard.motif_runs import read_run

    return read_run(path)


def motif_run(folder: str | Path):
    """:func:`dashboard.motif_runs.read_run` of a motif run folder, cached until its data files change."""
    from dashboard.motif_runs import run_stamp

    return _motif_run(str(folder), run_stamp(folder))


@st.cache_data(max_entries=512, show_spinner=False)
def _image_uri(path: str, stamp: float) -> str:
    import base64

    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def image_uri(path: str | Path) -> str:
    """A PNG file as a ``data:`` URI (for ``st.column_config.ImageColumn``), cached on its mtime."""
    return _image_uri(str(path), _file_stamp(path))
