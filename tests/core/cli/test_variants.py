"""Tests of ``deepdife_core.cli.variants`` (moved from ``tests/core/test_variants.py``)."""

from __future__ import annotations

import json

import pandas as pd

from tests.core.variants import helpers as variants_helpers
from tests.core.variants.helpers import D, U

ws = variants_helpers.ws  # the variants room's fixture (also in tests/core/variants/conftest.py)


def test_cli(ws, tmp_path, monkeypatch, capsys):
    from deepdife_core.cli.main import main

    monkeypatch.setenv("DEEPDIFE_WORKSPACE", ws["work"])
    genes = tmp_path / "ids.txt"
    genes.write_text("G2\nNOPE\n")
    out = tmp_path / "e.parquet"
    base = ["variants", "--model", str(ws["model"]), "--genome", "tiny"]
    rc_ = main(
        [
            *base,
            "--vcf",
            str(ws["vcf"]),
            "--upstream",
            str(U),
            "--downstream",
            str(D),
            "--genes",
            str(genes),
            "--motif-db",
            ws["meme"],
            "--motif-pvalue",
            "1e-3",
            "--per-sample",
            "--out",
            str(out),
        ]
    )
    assert rc_ == 0
    e = pd.read_parquet(out)
    assert e.pos.tolist() == [1025, 1051] and e.motifs_gained.tolist()[0] == "ABF1 (MA9999.1)"
    rep = json.loads((tmp_path / "e.report.json").read_text())
    assert rep["genes_not_found"] == ["NOPE"] and rep["variants_scored"] == 2
    assert pd.read_csv(tmp_path / "e.samples.csv").gene_id.tolist() == ["G2"]
    assert main([*base, "--vcf", "x.vcf", "--out", str(tmp_path / "x.csv")]) == 2
    assert "x.vcf: no such file" in capsys.readouterr().err
