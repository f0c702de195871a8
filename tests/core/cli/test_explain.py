"""Tests of ``deepdife_core.cli.explain`` (moved from ``tests/core/interpret/test_explain.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def demo_fasta(tmp_path_factory):
    import pandas as pd

    from deepdife_core.data.demo import make_demo_dataset

    split = pd.read_csv(ROOT / "models" / "demo" / "split.csv")
    df = make_demo_dataset().merge(split[["gene_id", "split"]], on="gene_id")
    genes = df[(df["split"] == "test") & (df["label"] == 1)].head(2)
    path = tmp_path_factory.mktemp("fa") / "genes.fa"
    path.write_text("".join(f">{g}\n{s}\n" for g, s in zip(genes["gene_id"], genes["sequence"], strict=True)))
    return path, genes["gene_id"].tolist()


def test_cli_explain_happy_path(demo_fasta, tmp_path, capsys):
    from deepdife_core.cli.main import main

    fa, genes = demo_fasta
    out = tmp_path / "attr.npz"
    args = f"explain --model {ROOT / 'models' / 'demo'} --fasta {fa} --genes {genes[1]} --method deepshap"
    args += f" --n-background 10 --out {out} --plot {tmp_path / 'svg'} --window 300 --cache {tmp_path / 'cache'}"
    code = main(args.split())
    assert code == 0, capsys.readouterr().err
    with np.load(out) as z:
        assert list(z["gene_id"]) == [genes[1]]
        assert z["hypothetical"].shape == z["contrib"].shape == (1, 600, 4)
        assert z["contrib"].dtype == np.float32 and z["probability"].shape == (1,)
    svg = tmp_path / "svg" / f"{genes[1]}.svg"
    assert svg.exists() and svg.read_text().lstrip().startswith(("<?xml", "<svg"))


def test_cli_explain_errors(demo_fasta, tmp_path, capsys):
    from deepdife_core.cli.main import main

    fa, _ = demo_fasta
    out = tmp_path / "attr.npz"
    model = str(ROOT / "models" / "demo")
    code = main(["explain", "--model", model, "--fasta", str(fa), "--genes", "NOPE1", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error:") and "NOPE1" in err[0]
    assert not out.exists()
    code = main(["explain", "--model", model, "--fasta", str(fa), "--out", str(tmp_path / "a.csv")])
    assert code == 2 and ".npz" in capsys.readouterr().err
