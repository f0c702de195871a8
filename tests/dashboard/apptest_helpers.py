"""Helpers shared by the dashboard AppTest modules (imported as ``apptest_helpers``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "app.py"
TIMEOUT = 90


def goto(at: AppTest, page: str) -> AppTest:
    """Switch to ``pages/<page>.py`` and run."""
    at.switch_page(f"../pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements) -> list[str]:
    """String values of a list of elements (errors, captions, ...)."""
    return [str(e.value) for e in elements]


def fasta_bytes(table: pd.DataFrame, n: int | None = None) -> bytes:
    """FASTA text of the first ``n`` rows of a dataset table."""
    rows = table if n is None else table.head(n)
    return "".join(f">{g}\n{s}\n" for g, s in zip(rows["gene_id"], rows["sequence"], strict=True)).encode()
