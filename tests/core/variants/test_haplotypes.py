"""Tests of ``deepdife_core.variants.haplotypes`` (moved from ``tests/core/test_variants.py``)."""

from __future__ import annotations

import pytest

from tests.core.variants.helpers import EXPECTED, RECORDS, SAMPLES, W1, W2, oracle_input, oracle_logit, sigmoid


def test_carriers(result):
    e = result.effects
    assert e.allele_count.tolist() == [1, 2, 3, 2, 3, 3, 2]
    assert e.samples.tolist() == ["S1", "S2", "S1,S3", "S2", "S2,S3", "S2,S3", "S1"]


def test_per_sample_haplotypes(result):
    h = result.haplotypes
    assert list(h.columns) == ["gene_id", "reference", *SAMPLES]
    assert h.gene_id.tolist() == ["G1", "G2", "G3"]
    scored = [(p, ref, alts, gts) for p, ref, alts, f, gts in RECORDS if (p, ref) in {(x[1], x[2]) for x in EXPECTED}]
    for gi, (gene, win) in enumerate([("G1", W1), ("G2", W2)]):
        assert h.loc[gi, "reference"] == pytest.approx(sigmoid(oracle_logit(oracle_input([], win))), abs=1e-6)
        for k, s in enumerate(SAMPLES):
            mine = []
            for p, ref, alts, gts in scored:
                if not win[0] <= p < win[1]:
                    continue
                for a in {int(x) for x in gts[k].split("/")} - {0}:
                    mine.append((p, ref, alts[a - 1]))
            want = sigmoid(oracle_logit(oracle_input(mine, win)))
            assert h.loc[gi, s] == pytest.approx(want, abs=1e-6), (gene, s)
