"""What the benchmark scripts share: timing a call, and writing the result as one JSON file (atomically)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
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


def best_of(fn: Callable[[], object], repeats: int = 3) -> float:
    """The fastest of ``repeats`` calls of ``fn``, in seconds (the least disturbed by other work)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)
