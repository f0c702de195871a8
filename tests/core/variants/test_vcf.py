"""Tests of ``deepdife_core.variants.vcf`` (moved from ``tests/core/test_variants.py``)."""

from __future__ import annotations

import pandas as pd

from deepdife_core.model.cnn import Predictor
from deepdife_core.variants import EFFECT_COLUMNS, VariantConfig
from deepdife_core.variants.run import score_variants
from tests.core.variants.helpers import EXPECTED, PROM, oracle_cfg, oracle_model, vcf_text, write_vcf


def test_rows_split_filter_and_skip(result):
    e = result.effects
    assert list(e.columns) == list(EFFECT_COLUMNS)
    assert list(zip(e.gene_id, e.pos - 1, e.ref, e.alt, strict=True)) == EXPECTED
    r = result.report
    assert (r.filtered, r.symbolic, r.long_indel, len(r.ref_mismatch)) == (1, 1, 1, 1)
    assert r.ref_mismatch[0].startswith("Chr1:306 REF")
    assert e.distance_to_tss.tolist() == [-60, -60, -38, -15, -10, 999 - 1024, 999 - 1050]


def test_unindexed_plain_vcf_gives_the_same_rows(ws, result, tmp_path):
    plain = write_vcf(tmp_path, vcf_text(), index=False)
    r = score_variants(
        Predictor([oracle_model()], oracle_cfg()),
        "tiny",
        plain,
        promoter=PROM,
        config=VariantConfig(motif_db=ws["meme"], motif_pvalue=1e-3),
        workspace=ws["work"],
    )
    pd.testing.assert_frame_equal(r.effects, result.effects)
