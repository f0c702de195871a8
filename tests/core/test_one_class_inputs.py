"""A table whose genes are all of one class is an input to explain, predict and motif selection.

Only training (``train_dataset``, ``cross_validate``, tuning, ``deepdife train``)
needs both classes, and it says so.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deepdife_core.cli.main import main
from deepdife_core.data import io
from deepdife_core.errors import DeepDifEInputError

DEMO = Path(__file__).resolve().parents[2] / "models" / "demo"


def run(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def positives(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """Four responsive demo genes of 600 bp (the demo model's length), as a CSV table."""
    from deepdife_core.data.demo import make_demo_dataset

    df = make_demo_dataset(40, length=600, seed=3)
    pos = df[df["label"] == 1].head(4)[["gene_id", "label", "family", "sequence"]].reset_index(drop=True)
    path = tmp_path_factory.mktemp("one-class") / "positives.csv"
    pos.to_csv(path, index=False)
    return path, pos


def test_explain_cli_on_positives_only(positives, tmp_path, capsys):
    path, pos = positives
    out = tmp_path / "x.npz"
    code, _, err = run(
        ["explain", "--model", DEMO, "--data", path, "--method", "gradxinput", "--out", out, "-q"], capsys
    )
    assert code == 0, err
    with np.load(out, allow_pickle=False) as z:
        assert list(z["gene_id"]) == list(pos["gene_id"])
        assert z["contrib"].shape == (4, 600, 4)


def test_predict_cli_on_positives_only_and_unlabelled(positives, tmp_path, capsys):
    path, pos = positives
    code, _, err = run(["predict", "--model", DEMO, "--data", path, "--out", tmp_path / "p.csv", "-q"], capsys)
    assert code == 0, err
    res = pd.read_csv(tmp_path / "p.csv")
    assert list(res["gene_id"]) == list(pos["gene_id"]) and (res["label"] == 1).all()
    # labels are optional in a table to predict
    bare = tmp_path / "bare.csv"
    pos[["gene_id", "sequence"]].to_csv(bare, index=False)
    code, _, err = run(["predict", "--model", DEMO, "--data", bare, "--out", tmp_path / "q.csv", "-q"], capsys)
    assert code == 0, err
    again = pd.read_csv(tmp_path / "q.csv")
    assert "label" not in again.columns
    assert np.allclose(again["probability"], res["probability"])


def test_motif_inputs_on_positives_only(positives):
    from deepdife_core.cli.common import model_inputs
    from deepdife_core.jobs.motifs import select_genes
    from deepdife_core.model.folder import model_data_config

    path, pos = positives
    fit = model_data_config(DEMO)
    # the dashboard's motif job reads a dataset with load_dataset, then selects genes
    df = io.load_dataset(path, cfg=fit)
    sel, _ = select_genes(df, "all")
    assert list(sel["gene_id"]) == list(pos["gene_id"]) and (sel["label"] == 1).all()
    sel, _ = select_genes(df, "list", genes=list(pos["gene_id"][:2]))
    assert len(sel) == 2
    # `deepdife motifs --data` reads its genes like `deepdife explain`
    got = model_inputs(argparse.Namespace(fasta=None, data=str(path)), fit)
    assert list(got["gene_id"]) == list(pos["gene_id"])
    assert io.validate_dataset(df) is df


def test_training_refuses_one_class(positives, tmp_path, capsys):
    from deepdife_core.config import TrainConfig
    from deepdife_core.train.fit import cross_validate, train_dataset
    from deepdife_core.tune.study import _tuning_table

    path, pos = positives
    msg = r"every gene is responsive \(1\); a classifier needs both classes"
    with pytest.raises(DeepDifEInputError, match=msg):
        train_dataset(pos)
    with pytest.raises(DeepDifEInputError, match=msg):
        cross_validate(pos, k=2)
    with pytest.raises(DeepDifEInputError, match=msg):
        _tuning_table(pos, TrainConfig())
    with pytest.raises(DeepDifEInputError, match=r"every gene is non-responsive \(0\)"):
        io.validate_training_set(pos.assign(label=0))
    code, _, err = run(["train", "--data", path, "--out", tmp_path / "m", "-q"], capsys)
    assert code == 2 and "positives.csv: every gene is responsive (1)" in err, err
    assert not (tmp_path / "m").exists()
    # building a training dataset still refuses one class up front
    with pytest.raises(DeepDifEInputError, match=msg):
        io.dataset_from_table(path, cfg=None)
