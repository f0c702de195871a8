"""Tests of ``deepdife_core.variants.score`` (moved from ``tests/core/test_variants.py``)."""

from __future__ import annotations

import pytest

from tests.core.variants.helpers import W1, W2, oracle_input, oracle_logit, sigmoid


def test_scores_match_the_string_oracle(result):
    e = result.effects
    wins = {"G1": W1, "G2": W2}
    for row in e.itertuples():
        w = wins[row.gene_id]
        z0 = oracle_logit(oracle_input([], w))
        z1 = oracle_logit(oracle_input([(row.pos - 1, row.ref, row.alt)], w))
        assert row.delta_logit == pytest.approx(z1 - z0, abs=1e-5)
        assert row.p_ref == pytest.approx(sigmoid(z0), abs=1e-6)
        assert row.p_alt == pytest.approx(sigmoid(z1), abs=1e-6)
        assert row.p_ref_sd == 0.0
    top = e.reindex(e.delta_probability.abs().sort_values(ascending=False).index)
    assert list(zip(top.gene_id[:2], top.pos[:2], strict=True)) == [("G1", 263), ("G2", 1025)]
    # 7 of 7 ABRE bases (logit 2*1.5-1 = 2) -> 6 of 7 (2*0.5-1 = 0), and back for the created one
    assert e.set_index("pos").loc[263, "delta_logit"] == pytest.approx(-2.0)
    assert e.set_index("pos").loc[1025, "delta_logit"] == pytest.approx(2.0)


def test_motif_change_and_attribution(result):
    e = result.effects.set_index("pos")
    assert e.loc[263, "motifs_lost"] == "ABF1 (MA9999.1)" and e.loc[263, "motifs_gained"] == ""
    assert e.loc[1025, "motifs_gained"] == "ABF1 (MA9999.1)" and e.loc[1025, "motifs_lost"] == ""
    assert (e.drop(index=[263, 1025]).motifs_lost == "").all()
    # gradient x input at the ABRE's G: dense weight 2 x kernel 1; outside the max window: 0
    assert e.loc[263, "attribution"] == pytest.approx(2.0, abs=1e-5)
    assert e.loc[1051, "attribution"] == pytest.approx(0.0, abs=1e-6)
