"""Tests of ``deepdife_core.experiments.ablate`` (moved from ``tests/core/test_experiments.py``)."""

from __future__ import annotations

import pytest

from deepdife_core.data.encode import one_hot
from deepdife_core.experiments import ExperimentConfig
from deepdife_core.experiments.ablate import ablate_motif
from deepdife_core.experiments.sources import from_iupac
from tests.core.experiments.helpers import put


def test_ablation_finds_and_destroys_iupac_sites(oracle, bg):
    _, seqs = bg
    genes = [put(seqs[0], "ACGTGGC", 10), put(seqs[1], "GCCACGT", 30), seqs[2], put(seqs[3], "ACGTGTC", 50)]
    motif = from_iupac("ACGTGKC")
    t = ablate_motif(oracle, ["a", "b", "c", "d"], one_hot(genes), motif, ExperimentConfig(mode="n"))
    t = t.set_index("gene_id")
    assert t.loc["a", "sites"] == "10:17:+" and t.loc["b", "sites"] == "30:37:-" and t.loc["d", "sites"] == "50:57:+"
    assert t.loc["c", "n_sites"] == 0 and t.loc["c", "delta_logit"] == 0
    assert t.loc["a", "delta_logit"] == pytest.approx(-3.0, abs=1e-5) and bool(t.loc["a", "lost"])
    assert t.loc["b", "delta_logit"] == pytest.approx(0.0, abs=1e-5) and not bool(t.loc["b", "lost"])
    assert int(t["lost"].sum()) == 2
