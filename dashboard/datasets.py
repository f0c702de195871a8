"""Named datasets in the workspace: ``workspace/datasets/<name>/data.csv`` + ``dataset.json``.

Streamlit-free helpers used by the data, train and predict pages.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from dashboard.paths import datasets_dir
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import atomic_dir, atomic_write_csv, atomic_write_json, check_name, now_iso

DATA_FILE = "data.csv"
META_FILE = "dataset.json"
DEMO_NAME = "demo"


def dataset_folder(name: str) -> Path:
    """Folder of dataset ``name`` (the name is checked)."""
    return datasets_dir() / check_name(name, "dataset name")


def list_datasets() -> list[dict[str, Any]]:
    """Saved datasets, newest first: dicts with ``name``, ``path``, ``created`` and ``counts``."""
    out = []
    for folder in datasets_dir().iterdir():
        if folder.name.startswith(".") or not (folder / DATA_FILE).is_file():
            continue
        try:
            meta = json.loads((folder / META_FILE).read_text())
        except (OSError, ValueError):
            meta = {}
        out.append(
            {
                "name": folder.name,
                "path": str(folder / DATA_FILE),
                "created": meta.get("created", ""),
                "counts": meta.get("counts", {}),
                "meta": meta,
            }
        )
    out.sort(key=lambda d: (d["created"], d["name"]), reverse=True)
    return out


def save_dataset(df: pd.DataFrame, name: str, meta: dict[str, Any], *, overwrite: bool = False) -> Path:
    """Write ``df`` and its metadata atomically as dataset ``name``.

    ``counts`` in ``dataset.json`` gives rows (``genes``), ``distinct_genes`` and
    ``genes_with_several_records`` (alternative TSSs kept with ``alt_tss="all"``).

    Raises
    ------
    DeepDifEInputError
        Bad name, or a dataset of that name exists and ``overwrite`` is False.
    """
    from deepdife_core.data.io import record_groups

    folder = dataset_folder(name)
    if folder.exists() and not overwrite:
        raise DeepDifEInputError(f"a dataset named {name!r} already exists; choose another name")
    groups = record_groups(df["gene_id"].astype(str))  # records of one gene (alternative TSSs) kept by alt_tss
    counts = {
        "genes": len(df),  # rows (records), as the other counts
        "distinct_genes": len(groups),
        "genes_with_several_records": sum(len(r) > 1 for r in groups.values()),
        "responsive": int((df["label"] == 1).sum()),
        "non_responsive": int((df["label"] == 0).sum()),
        "length": int(df["sequence"].str.len().max()) if len(df) else 0,
        "families": int(df["family"].nunique()) if "family" in df.columns else len(df),
    }
    with atomic_dir(folder, overwrite=overwrite) as tmp:
        atomic_write_csv(df, tmp / DATA_FILE)
        atomic_write_json(tmp / META_FILE, {"name": name, "created": now_iso(), "counts": counts, **meta})
    return folder


def ensure_demo_dataset(n_genes: int = 2000, length: int = 600) -> str:
    """Save the bundled synthetic demo set as dataset ``demo`` unless it exists; returns its name."""
    from deepdife_core.data.demo import make_demo_dataset

    folder = datasets_dir() / DEMO_NAME
    if not (folder / DATA_FILE).is_file():
        df = make_demo_dataset(n_genes, length=length)
        save_dataset(
            df[["gene_id", "label", "family", "sequence", "coords"]],
            DEMO_NAME,
            {"source": {"kind": "demo", "generator": "deepdife_core.data.demo.make_demo_dataset", "n_genes": n_genes}},
            overwrite=True,
        )
    return DEMO_NAME


def rename_dataset(old: str, new: str) -> Path:
    """Rename dataset ``old`` to ``new`` (one ``os.replace`` of its folder; its ``dataset.json`` follows).

    Models trained on it keep the old name in their provenance (they record what they were trained on).

    Raises
    ------
    DeepDifEInputError
        Bad or unknown name, or ``new`` is taken.
    """
    src, dst = dataset_folder(old), dataset_folder(new)
    if not (src / DATA_FILE).is_file():
        raise DeepDifEInputError(f"there is no dataset named {old!r} (deleted or renamed?)")
    if dst.exists():
        raise DeepDifEInputError(f"a dataset named {new!r} already exists; choose another name")
    src.replace(dst)
    try:
        meta = json.loads((dst / META_FILE).read_text())
    except (OSError, ValueError):
        meta = {}
    atomic_write_json(dst / META_FILE, {**meta, "name": new, "renamed_from": old})
    return dst


def delete_dataset(name: str) -> None:
    """Delete dataset ``name`` (its folder is moved aside first, so a half-deleted one is never listed).

    Raises
    ------
    DeepDifEInputError
        Bad or unknown name.
    """
    import shutil
    import uuid

    folder = dataset_folder(name)
    if not (folder / DATA_FILE).is_file():
        raise DeepDifEInputError(f"there is no dataset named {name!r} (deleted or renamed?)")
    trash = folder.with_name(f".deleted-{name}-{uuid.uuid4().hex[:8]}")
    folder.replace(trash)
    shutil.rmtree(trash, ignore_errors=True)
