"""The issue's validation of the in-silico experiments on the demo model (planted ABREs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deepdife_core.data.demo import make_demo_dataset
from deepdife_core.experiments import ExperimentConfig, run_experiment
from deepdife_core.experiments.sources import motif_source
from deepdife_core.model.folder import load_model

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def demo():
    return load_model(ROOT / "models" / "demo"), make_demo_dataset()  # the table `deepdife demo` writes


def test_planted_abre_beats_wbox_and_shuffled_abre(demo):
    model, df = demo
    motifs = [motif_source(m) for m in ("CCACGTGGCA", "TTGACC", "CGCAGCTGAC")]  # ABRE, W-box, ABRE shuffled
    res = run_experiment("insert", model, df, motifs, ExperimentConfig(n_backgrounds=200, position=450))
    means = res.table.groupby("motif")["delta_probability"].mean()
    assert means["CCACGTGGCA"] > 0.4
    assert means["CCACGTGGCA"] > 10 * max(means["TTGACC"], means["CGCAGCTGAC"], 0.01)
    again = run_experiment("insert", model, df, motifs, ExperimentConfig(n_backgrounds=200, position=450))
    pd.testing.assert_frame_equal(res.table, again.table)  # identical for a fixed seed


def test_dose_curve_is_increasing(demo):
    model, df = demo
    res = run_experiment("dose", model, df, [motif_source("CCACGTGGCA")], ExperimentConfig(position=380))
    m = res.table["delta_probability_mean"].to_numpy()
    assert np.all(np.diff(m) > 0), m


def test_tiling_ranks_the_planted_site_among_the_top_windows(demo):
    model, df = demo
    row = df[(df["label"] == 1) & (df["sites"].str.count(";") == 1)].iloc[0]  # two planted ABREs
    sites = [tuple(map(int, s.split(":")[:2])) for s in row["sites"].split(";")]
    res = run_experiment(
        "tile", model, df, [], ExperimentConfig(window=50, step=10, mode="shuffle"), gene=row["gene_id"]
    )
    top = res.table.nsmallest(5, "delta_probability")
    assert any(s < e0 and e > s0 for s, e in zip(top["start"], top["end"], strict=True) for s0, e0 in sites)
    again = run_experiment(
        "tile", model, df, [], ExperimentConfig(window=50, step=10, mode="shuffle"), gene=row["gene_id"]
    )
    pd.testing.assert_frame_equal(res.table, again.table)
