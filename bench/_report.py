"""What every benchmark script does with its result: one JSON file under ``bench/results``, atomically."""

from __future__ import annotations

import json
from pathlib import Path

from deepdife_core.files import atomic_write_text


def write_result(path: Path, result: dict, *, echo: bool = True) -> dict:
    """Write ``result`` as indented JSON to ``path`` (its folder made), print it when ``echo``; return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2)
    atomic_write_text(path, text + "\n")
    if echo:
        print(text)
    return result
