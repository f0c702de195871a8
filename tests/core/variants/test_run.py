"""Tests of ``deepdife_core.variants.run`` (moved from ``tests/core/test_variants.py``)."""

from __future__ import annotations

import pytest

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.model.cnn import Predictor
from deepdife_core.variants import VariantConfig
from deepdife_core.variants.run import score_variants
from tests.core.variants.helpers import PROM, RECORDS, oracle_cfg, oracle_model, vcf_text, write_vcf


def test_jaspar_names_the_abre_binding_bzips(ws):
    r = score_variants(
        Predictor([oracle_model()], oracle_cfg()),
        "tiny",
        ws["vcf"],
        genes=["G1", "G2"],
        promoter=PROM,
        config=VariantConfig(motif_db="jaspar-plants", attribution=False),
        workspace=ws["work"],
    )
    e = r.effects.set_index("pos")
    lost = e.loc[263, "motifs_lost"].split("; ")
    gained = e.loc[1025, "motifs_gained"].split("; ")
    assert {"ABF1 (MA0570.3)", "ABI5 (MA0931.2)"} <= set(lost)
    assert "ABF1 (MA0570.3)" in gained
    assert not any(n.startswith("ABF1") for n in e.loc[263, "motifs_gained"].split("; "))


def test_bad_inputs(ws, tmp_path):
    pred = Predictor([oracle_model()], oracle_cfg())
    other = tmp_path / "chr"
    other.mkdir()
    with pytest.raises(DeepDifEInputError, match=r"none of the genome's.*1 -> Chr1"):
        score_variants(
            pred,
            "tiny",
            write_vcf(other, vcf_text("1")),
            promoter=PROM,
            config=VariantConfig(motif_db=""),
            workspace=ws["work"],
        )
    bare = tmp_path / "bare"  # no ##contig lines: the index's names are checked
    bare.mkdir()
    text = "".join(x for x in vcf_text("1").splitlines(keepends=True) if not x.startswith("##contig"))
    with pytest.raises(DeepDifEInputError, match=r"its chromosomes \(1\)"):
        score_variants(pred, "tiny", write_vcf(bare, text), promoter=PROM, workspace=ws["work"])
    unsorted = tmp_path / "uns"
    unsorted.mkdir()
    with pytest.raises(DeepDifEInputError, match="bcftools sort"):
        score_variants(
            pred,
            "tiny",
            write_vcf(unsorted, vcf_text(records=RECORDS[::-1]), index=False),
            promoter=PROM,
            config=VariantConfig(motif_db=""),
            workspace=ws["work"],
        )
    with pytest.raises(DeepDifEInputError, match="no sample 'S9'"):
        score_variants(pred, "tiny", ws["vcf"], samples=["S9"], promoter=PROM, workspace=ws["work"])
    with pytest.raises(DeepDifEInputError, match="no such file"):
        score_variants(pred, "tiny", tmp_path / "none.vcf.gz", promoter=PROM, workspace=ws["work"])
