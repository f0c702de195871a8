"""Shared fixtures: tiny seeded synthetic data, one tiny trained model (session), paths to the real data in ../shared."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "deepdife"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real DeepDifE files; tests using them are skipped when ../shared is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared/data/deepdife is not available")
    return SHARED


@pytest.fixture(scope="session")
def tiny_df() -> pd.DataFrame:
    """240 synthetic genes of 300 bp in families, ABRE-planted positives (seeded)."""
    from deepdife_core.data.demo import make_demo_dataset

    return make_demo_dataset(240, length=300, seed=11)[["gene_id", "label", "family", "sequence"]]


def random_seqs(n: int, length: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list("ACGT"), size=length)) for _ in range(n)]


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture(scope="session")
def tiny_table() -> pd.DataFrame:
    """60 synthetic genes of 100 bp (seeded)."""
    from deepdife_core.data.demo import make_demo_dataset

    return make_demo_dataset(60, length=100, seed=5)[["gene_id", "label", "family", "sequence", "coords"]]


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
