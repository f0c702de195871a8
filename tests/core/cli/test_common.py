"""Tests of ``deepdife_core.cli.common``: progress lines, ``--out`` checks, model inputs, gene selection."""

import argparse

import pandas as pd
import pytest

from deepdife_core.cli.common import (
    Reporter,
    add_alt_tss_option,
    check_out_file,
    model_inputs,
    select_or_fail,
    short_path,
)
from deepdife_core.config import DatasetConfig
from deepdife_core.errors import DeepDifEInputError


def test_reporter_prints_lines_on_stderr_unless_quiet(capsys):
    rep = Reporter(quiet=False)
    rep.say("reading data.csv")
    rep({"event": "start", "n_train": 80, "n_val": 10, "n_test": 10, "epochs": 3})
    rep(
        {
            "event": "epoch",
            "epoch": 1,
            "epochs": 3,
            "loss": 0.69312,
            "val_loss": 0.6,
            "val_auroc": 0.71234,
            "lr": 1e-3,
            "seconds": 0.5,
        }
    )
    rep(
        {
            "event": "epoch",
            "epoch": 2,
            "epochs": 3,
            "loss": 0.5,
            "val_loss": 0.4,
            "val_auroc": None,
            "lr": 2.5e-4,
            "seconds": 12.345,
        }
    )
    rep({"event": "batch", "epoch": 1, "batch": 2, "n_batches": 5})  # stderr is not a terminal here
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "reading data.csv\n"
        "training on 80 genes (validation 10, test 10), up to 3 epochs\n"
        "\r  epoch 1/3: loss 0.6931 val_loss 0.6000 val_auROC 0.7123 lr 0.001 (0.50 s)\n"
        "\r  epoch 2/3: loss 0.5000 val_loss 0.4000 val_auROC None lr 0.00025 (12.35 s)\n"
    )
    quiet = Reporter(quiet=True)
    quiet.say("hidden")
    quiet({"event": "start", "n_train": 1, "n_val": 1, "n_test": 1, "epochs": 1})
    assert capsys.readouterr() == ("", "")


def test_short_path_keeps_start_and_end():
    assert short_path("a/b.csv") == "a/b.csv"
    assert short_path("x" * 80) == "x" * 80
    long = "s" * 50 + "e" * 50
    assert short_path(long) == "s" * 40 + "…" + "e" * 40
    assert short_path(long, keep=10) == "sssss…eeeee"


def test_check_out_file(tmp_path):
    assert check_out_file(str(tmp_path / "out.csv")) == tmp_path / "out.csv"
    with pytest.raises(DeepDifEInputError, match="is a folder; give a file name"):
        check_out_file(str(tmp_path))
    with pytest.raises(DeepDifEInputError, match=r"folder .*nope does not exist"):
        check_out_file(str(tmp_path / "nope" / "out.csv"))
    with pytest.raises(DeepDifEInputError, match=r"^--out .*…n+: .*; use a shorter path$"):
        check_out_file(str(tmp_path / ("n" * 256)))


def test_alt_tss_option_choices_and_default():
    p = argparse.ArgumentParser()
    add_alt_tss_option(p, "first")
    assert p.parse_args([]).alt_tss == "first"
    assert p.parse_args(["--alt-tss", "all"]).alt_tss == "all"
    with pytest.raises(SystemExit):
        p.parse_args(["--alt-tss", "some"])


def test_model_inputs_fit_the_records_and_need_one_source(tmp_path, capsys):
    fa = tmp_path / "in.fa"
    fa.write_text(">G1\nACGTACGT\n>G2\nTTTT\n")
    args = argparse.Namespace(fasta=str(fa), data=None, alt_tss="all")
    df = model_inputs(args, DatasetConfig(length=6))
    assert df["gene_id"].tolist() == ["G1", "G2"]
    assert df["sequence"].tolist() == ["GTACGT", "NNTTTT"]  # 3' end kept, padded on the left
    with pytest.raises(DeepDifEInputError, match="give either --fasta or --data"):
        model_inputs(argparse.Namespace(fasta=None, data=None), DatasetConfig(length=6))
    with pytest.raises(DeepDifEInputError, match="give either --fasta or --data"):
        model_inputs(argparse.Namespace(fasta=str(fa), data="x.csv"), DatasetConfig(length=6))


def test_select_or_fail_keeps_the_order_asked_and_names_the_missing():
    df = pd.DataFrame({"gene_id": ["G1", "G2", "G3"], "sequence": ["A", "C", "G"]})
    assert select_or_fail(df, ["G3", "G1"])["gene_id"].tolist() == ["G3", "G1"]
    assert select_or_fail(df, None)["gene_id"].tolist() == ["G1", "G2", "G3"]
    with pytest.raises(DeepDifEInputError, match=r"^2 gene\(s\) not in the input: NOPE, G9$"):
        select_or_fail(df, ["G1", "NOPE", "G9"])
    many = [f"X{i}" for i in range(7)]
    with pytest.raises(DeepDifEInputError, match=r"7 gene\(s\) not in the input: X0, X1, X2, X3, X4 \.\.\.$"):
        select_or_fail(df, many)
