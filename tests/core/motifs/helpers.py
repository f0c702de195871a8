"""Shared helpers and fixtures of the motifs tests (moved from ``test_modisco.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deepdife_core.motifs.modisco import Pattern, jaspar_plants

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="package")
def db_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("motif_db")


@pytest.fixture(scope="package")
def jaspar(db_cache):
    return jaspar_plants(cache_dir=db_cache)


def _pattern(name: str = "pos_patterns.pattern_0", seed: int = 0, n: int = 5) -> Pattern:
    rng = np.random.default_rng(seed)
    core = "CCACGTGGCA"
    ppm = np.full((20, 4), 0.25, dtype=np.float32)
    cwm = rng.normal(0, 0.01, (20, 4)).astype(np.float32)
    for i, b in enumerate(core, start=5):
        ppm[i] = 0.02
        ppm[i, "ACGT".index(b)] = 0.94
        cwm[i, "ACGT".index(b)] = 0.5
    seqlets = pd.DataFrame(
        {
            "example_idx": np.arange(n),
            "start": np.full(n, 100),
            "end": np.full(n, 120),
            "is_revcomp": np.arange(n) % 2 == 1,
        }
    )
    return Pattern(name, name[:3], ppm, cwm, cwm.copy(), seqlets)


@pytest.fixture(scope="package")
def demo_inputs(tmp_path_factory):
    from deepdife_core.data.demo import make_demo_dataset
    from deepdife_core.data.encode import one_hot
    from deepdife_core.interpret.explain import AttributionCache, ExplainConfig, explain
    from deepdife_core.model.folder import load_model

    df = make_demo_dataset().iloc[:400].reset_index(drop=True)
    predictor = load_model(ROOT / "models" / "demo")
    X = one_hot(df["sequence"].tolist())
    cache = AttributionCache(tmp_path_factory.mktemp("attr"))
    attr = explain(predictor, X, ExplainConfig(method="gradxinput"), cache=cache)
    return df, X, attr, cache.root
