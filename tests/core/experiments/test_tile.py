"""Tests of ``deepdife_core.experiments.tile`` (moved from ``tests/core/test_experiments.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from deepdife_core.data.encode import one_hot
from deepdife_core.experiments import ExperimentConfig
from deepdife_core.experiments.tile import genomic_windows, tile_gene
from tests.core.experiments.helpers import L, oracle_logit, put


@pytest.mark.parametrize("mode", ["n", "delete", "shuffle"])
def test_tiling_finds_the_site(oracle, bg, mode):
    _, seqs = bg
    gene = put(seqs[0], "ACGTGGC", 40)
    t = tile_gene(oracle, "G", one_hot(gene), ExperimentConfig(window=10, step=5, mode=mode, n_shuffles=3))
    assert list(t["start"]) == list(range(0, L - 10 + 1, 5))
    over = (t["start"] < 47) & (t["end"] > 40)
    np.testing.assert_allclose(t.loc[~over, "delta_logit"], 0.0, atol=1e-5)
    if mode != "shuffle":  # the variants built independently as strings (a shuffle is random)
        z0 = oracle_logit(gene)
        for r in t.itertuples():
            s, e = r.start, r.end
            v = gene[:s] + "N" * 10 + gene[e:] if mode == "n" else "N" * 10 + gene[:s] + gene[e:]
            assert r.delta_logit == pytest.approx(oracle_logit(v) - z0, abs=1e-5)
        if mode == "n":
            np.testing.assert_allclose(t.loc[over, "delta_logit"], -3.0, atol=1e-5)
    assert set(t.loc[t["rank"] <= int(over.sum()), "start"]) == set(t.loc[over, "start"]) or mode == "shuffle"
    assert t["delta_logit"].min() < -1


def test_genomic_windows_on_both_strands():
    starts, ends = np.array([0, 10, 95]), np.array([10, 20, 100])
    plus = genomic_windows("Chr1:1000-1100(+)", starts, ends, 100)
    assert list(plus["genomic_start"]) == [1000, 1010, 1095] and list(plus["genomic_end"]) == [1010, 1020, 1100]
    minus = genomic_windows("Chr1:1000-1100(-)", starts, ends, 100)
    assert list(minus["genomic_start"]) == [1090, 1080, 1000] and list(minus["genomic_end"]) == [1100, 1090, 1005]
    short = genomic_windows("Chr2:500-580(+)", starts, ends, 100)  # 80 bp padded with 20 N at the 5' end
    assert short["genomic_start"].isna().tolist() == [True, True, False]
    assert int(short["genomic_start"].iloc[2]) == 575 and int(short["genomic_end"].iloc[2]) == 580
    assert genomic_windows(None, starts, ends, 100)["chrom"].isna().all()
