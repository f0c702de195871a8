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


@pytest.fixture(scope="session")
def tiny_table() -> pd.DataFrame:
    """60 synthetic genes of 100 bp (seeded)."""
    from deepdife_core.data.demo import make_demo_dataset

    return make_demo_dataset(60, length=100, seed=5)[["gene_id", "label", "family", "sequence", "coords"]]


@pytest.fixture
def tiny_dataset(dirs: dict[str, Path], tiny_table: pd.DataFrame) -> str:
    """``tiny_table`` saved as workspace dataset ``tiny``."""
    from dashboard.datasets import save_dataset

    save_dataset(tiny_table, "tiny", {"source": {"kind": "test"}})
    return "tiny"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, tiny_table: pd.DataFrame) -> Path:
    """A 2-epoch both-strand (conjoined) model on ``tiny_table`` (small network, no EvoAug), trained once."""
    from deepdife_core.config import AugmentConfig, ModelConfig, TrainConfig
    from deepdife_core.train.fit import train_dataset

    out = tmp_path_factory.mktemp("model-src") / "tiny-model"
    train_dataset(
        tiny_table,
        model_cfg=ModelConfig(filters=8, kernel_size=8, dense_units=(16,)),
        train_cfg=TrainConfig(epochs=2, batch_size=20, seed=1, strands="both"),
        augment_cfg=AugmentConfig(enabled=False),
        out=out,
        dataset_name="tiny",
    )
    return out


@pytest.fixture
def tiny_model(dirs: dict[str, Path], tiny_model_dir: Path) -> Path:
    """A copy of the session's tiny model in this test's models folder."""
    target = dirs["models"] / "tiny-model"
    dirs["models"].mkdir(parents=True, exist_ok=True)
    shutil.copytree(tiny_model_dir, target)
    return target
