"""Fixtures for the dashboard's AppTest suite: temp workspace/models, tiny datasets, one tiny model."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.dashboard.apptest_helpers import APP, TIMEOUT


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Empty workspace and models folders, selected through the environment."""
    ws, models = tmp_path / "workspace", tmp_path / "models"
    monkeypatch.setenv("DEEPDIFE_WORKSPACE", str(ws))
    monkeypatch.setenv("DEEPDIFE_MODELS", str(models))
    st.cache_data.clear()
    st.cache_resource.clear()
    return {"workspace": ws, "models": models}


@pytest.fixture
def app(dirs: dict[str, Path]) -> AppTest:
    """The dashboard, run once (it lands on the Start page), then switched to the Data page."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("../pages/data.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def tiny_dataset(dirs: dict[str, Path], tiny_table: pd.DataFrame) -> str:
    """``tiny_table`` saved as workspace dataset ``tiny``."""
    from dashboard.datasets import save_dataset

    save_dataset(tiny_table, "tiny", {"source": {"kind": "test"}})
    return "tiny"


@pytest.fixture
def tiny_model(dirs: dict[str, Path], tiny_model_dir: Path) -> Path:
    """A copy of the session's tiny model in this test's models folder."""
    target = dirs["models"] / "tiny-model"
    dirs["models"].mkdir(parents=True, exist_ok=True)
    shutil.copytree(tiny_model_dir, target)
    return target
