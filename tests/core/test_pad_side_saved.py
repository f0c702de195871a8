"""The dataset settings (length, pad side, N limit) are saved with a model and used to fit new sequences."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deepdife_core.cli.main import main
from deepdife_core.config import DatasetConfig
from deepdife_core.data import io
from deepdife_core.data.encode import one_hot, pad_or_trim
from deepdife_core.errors import DeepDifEInputError

LENGTH = 100
TINY = ["--epochs", "2", "--batch-size", "20", "--filters", "8", "--kernel-size", "8", "--seed", "1", "-q"]


def run(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def unequal_genes(n: int = 60, seed: int = 4) -> pd.DataFrame:
    """``n`` random promoters of 80-120 bp (so fitting to 100 bp pads some and trims others)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        seq = "".join(rng.choice(list("ACGT"), size=int(rng.integers(80, 121))))
        if i % 2:  # a weak planted signal for the responsive class
            seq = seq[:10] + "ACGTGGC" + seq[17:]
        rows.append({"gene_id": f"G{i:03d}", "label": i % 2, "sequence": seq})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def right_model(tmp_path_factory):
    """A 2-epoch model trained with ``deepdife train --fasta ... --pad-side right``."""
    tmp = tmp_path_factory.mktemp("pad-right")
    genes = unequal_genes()
    fa = tmp / "genes.fa"
    io.write_fasta(list(zip(genes["gene_id"], genes["sequence"], strict=True)), fa)
    labels = tmp / "labels.csv"
    genes[["gene_id", "label"]].to_csv(labels, index=False)
    out = tmp / "right"
    args = ["train", "--data", labels, "--fasta", fa, "--length", LENGTH, "--pad-side", "right", "--out", out, *TINY]
    code = main([str(a) for a in args])
    assert code == 0
    return out, genes, fa


def _direct(model_dir: Path, seqs: list[str], side: str) -> np.ndarray:
    from deepdife_core.model.folder import load_model

    return load_model(model_dir).predict(one_hot([pad_or_trim(s, LENGTH, side=side) for s in seqs]))


def test_train_saves_the_dataset_config(right_model):
    from deepdife_core.model.folder import load_run_config, model_data_config

    out, _, _ = right_model
    saved = json.loads((out / "config.json").read_text())["data"]
    assert saved == {"length": LENGTH, "pad_side": "right", "max_n_fraction": 0.5}
    assert load_run_config(out).data == model_data_config(out) == DatasetConfig(LENGTH, "right")


def test_cli_predict_fits_like_training(right_model, tmp_path, capsys):
    out, genes, fa = right_model
    want = _direct(out, genes["sequence"].tolist(), "right")
    assert np.abs(want - _direct(out, genes["sequence"].tolist(), "left")).max() > 1e-4  # padding matters here
    code, _, err = run(["predict", "--model", out, "--fasta", fa, "--out", tmp_path / "p.csv", "-q"], capsys)
    assert code == 0, err
    got = pd.read_csv(tmp_path / "p.csv")
    assert list(got["gene_id"]) == list(genes["gene_id"])
    np.testing.assert_allclose(got["probability"], want, atol=2e-6)
    # a table of raw (unfitted) sequences is fitted the same way
    table = tmp_path / "raw.csv"
    genes.to_csv(table, index=False)
    code, _, err = run(["predict", "--model", out, "--data", table, "--out", tmp_path / "q.csv", "-q"], capsys)
    assert code == 0, err
    np.testing.assert_allclose(pd.read_csv(tmp_path / "q.csv")["probability"], want, atol=2e-6)


def test_manifest_of_a_built_table_is_saved_with_the_model(tmp_path, capsys):
    genes = unequal_genes(40, seed=8)
    fa = tmp_path / "genes.fa"
    io.write_fasta(list(zip(genes["gene_id"], genes["sequence"], strict=True)), fa)
    labels = tmp_path / "labels.csv"
    genes[["gene_id", "label"]].to_csv(labels, index=False)
    built = tmp_path / "d.csv"
    fit_opts = ["--length", LENGTH, "--pad-side", "right", "--max-n", "0.3"]
    code, _, err = run(
        ["dataset", "build", "--labels", labels, "--fasta", fa, *fit_opts, "--manifest", "--out", built, "-q"], capsys
    )
    assert code == 0, err
    assert io.read_dataset_config(built) == DatasetConfig(LENGTH, "right", 0.3)
    # settings belong to building: a built table keeps its own
    code, _, err = run(["train", "--data", built, "--pad-side", "left", "--out", tmp_path / "bad"], capsys)
    assert code == 2 and "--pad-side applies with --fasta" in err
    out = tmp_path / "m"
    code, _, err = run(["train", "--data", built, "--out", out, *TINY], capsys)
    assert code == 0, err
    assert json.loads((out / "config.json").read_text())["data"]["pad_side"] == "right"
    # without a manifest: the defaults at the table's length
    (tmp_path / "d.json").unlink()
    assert io.read_dataset_config(built) is None


def test_dataset_cfg_length_must_match(tmp_path):
    from deepdife_core.train.fit import cross_validate, train_dataset

    df, _ = io.dataset_from_table(_table(tmp_path), cfg=DatasetConfig(length=LENGTH))
    for fn in (train_dataset, cross_validate):
        with pytest.raises(DeepDifEInputError, match="settings say 120 bp but the sequences are 100 bp"):
            fn(df, dataset_cfg=DatasetConfig(length=120, pad_side="right"))


def _table(tmp_path: Path) -> Path:
    p = tmp_path / "t.csv"
    unequal_genes(20).to_csv(p, index=False)
    return p


def test_older_model_folders_fall_back_to_defaults():
    from deepdife_core.config import ModelConfig
    from deepdife_core.model.cnn import Predictor
    from deepdife_core.model.folder import data_config_from_dict, model_data_config

    old = {"model": {"input_length": 300}, "train": {}}
    assert data_config_from_dict(old) == DatasetConfig(length=300)
    saved = {"model": {"input_length": 300}, "data": {"length": 300, "pad_side": "right", "max_n_fraction": 0.2}}
    assert data_config_from_dict(saved) == DatasetConfig(300, "right", 0.2)
    assert model_data_config(Predictor([], ModelConfig(input_length=50, kernel_size=6))) == DatasetConfig(length=50)
