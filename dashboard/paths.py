"""Where the dashboard keeps things: the workspace and the model registry.

``DEEPDIFE_WORKSPACE`` (default ``./workspace``) holds ``datasets/<name>/`` and
``jobs/<job_id>/``, ``motifs/<run_id>/``, ``studies/``,
``attributions/`` (the attribution cache) and ``motif_hits/`` (the motif-hit cache beside it);
``DEEPDIFE_MODELS`` (default ``./models``) holds model folders.
Both are read on every call so tests can point them at temporary folders.
"""

from __future__ import annotations

import os
from pathlib import Path


def workspace_dir() -> Path:
    """The workspace folder (created if missing)."""
    path = Path(os.environ.get("DEEPDIFE_WORKSPACE", "workspace")).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def datasets_dir() -> Path:
    """``workspace/datasets`` (created if missing)."""
    path = workspace_dir() / "datasets"
    path.mkdir(parents=True, exist_ok=True)
    return path


def jobs_dir() -> Path:
    """``workspace/jobs`` (created if missing)."""
    path = workspace_dir() / "jobs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def logs_dir() -> Path:
    """``workspace/logs``: tracebacks of dashboard bugs (never shown to the user)."""
    path = workspace_dir() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir() -> Path:
    """The model registry folder (created if missing)."""
    path = Path(os.environ.get("DEEPDIFE_MODELS", "models")).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sub(name: str) -> Path:
    path = workspace_dir() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def motifs_dir() -> Path:
    """``workspace/motifs``: one folder per motif-discovery run (see ARCHITECTURE.md)."""
    return _sub("motifs")


def studies_dir() -> Path:
    """``workspace/studies``: Optuna SQLite files and ``<study>.json`` descriptors."""
    return _sub("studies")


def attributions_dir() -> Path:
    """``workspace/attributions``: the on-disk attribution cache (:class:`deepdife_core.interpret.explain.AttributionCache`)."""
    return _sub("attributions")


def motif_hits_dir() -> Path:
    """``workspace/motif_hits``: known-motif hits of scanned genes (:class:`deepdife_core.motifs.hitcache.MotifHitCache`)."""
    return _sub("motif_hits")
