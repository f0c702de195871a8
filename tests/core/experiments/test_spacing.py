"""Tests of ``deepdife_core.experiments.spacing`` (moved from ``tests/core/test_experiments.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from deepdife_core.data.encode import reverse_complement
from deepdife_core.experiments import ExperimentConfig
from deepdife_core.experiments.spacing import spacing_grid
from tests.core.experiments.helpers import ABRE, oracle_logit, put


def test_spacing_matches_the_string_oracle_including_junction_sites(oracle, bg):
    b, seqs = bg
    cfg = ExperimentConfig(max_spacing=6, position=20)
    summary, per_gene = spacing_grid(oracle, b, ABRE, ABRE, cfg)
    assert len(summary) == 7 * 4 and set(summary["orientation"]) == {"++", "+-", "-+", "--"}
    site = {"+": "ACGTGGC", "-": reverse_complement("ACGTGGC")}
    for r in per_gene.itertuples():
        s = seqs[int(r.gene_id[1:])]
        both = put(put(s, site[r.orientation[0]], 20), site[r.orientation[1]], 27 + r.spacing)
        a = put(s, site[r.orientation[0]], 20)
        bb = put(s, site[r.orientation[1]], 27 + r.spacing)
        z0 = oracle_logit(s)
        dz = oracle_logit(both) - z0
        assert r.delta_logit == pytest.approx(dz, abs=1e-5)
        assert r.interaction_logit == pytest.approx(dz - (oracle_logit(a) - z0) - (oracle_logit(bb) - z0), abs=1e-5)
    pp = summary[summary["orientation"] == "++"]
    np.testing.assert_allclose(pp["interaction_logit_mean"], -3.0, atol=1e-5)  # a second site adds nothing here
    # GCCACGT + GCCACGT at gap 0 reads ACGTGCC (6 of 7): relu(0.5) -> logit 0, a junction site
    assert summary.query("orientation == '--' and spacing == 0")["delta_logit_mean"].item() == pytest.approx(1.0)
