"""The Predict page fits sequences like the model's training set (its saved pad side); the Data page records it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.dashboard.apptest_helpers import fasta_bytes, goto

LENGTH = 100


@pytest.fixture(scope="module")
def raw_genes() -> pd.DataFrame:
    """40 random promoters of 80-120 bp, two classes (seeded)."""
    rng = np.random.default_rng(9)
    seqs = ["".join(rng.choice(list("ACGT"), size=int(rng.integers(80, 121)))) for _ in range(40)]
    return pd.DataFrame({"gene_id": [f"G{i:02d}" for i in range(40)], "label": np.arange(40) % 2, "sequence": seqs})


@pytest.fixture
def right_model(dirs, raw_genes):
    """A 2-epoch model trained on ``raw_genes`` right-padded to 100 bp, in this test's models folder."""
    from deepdife_core.config import DatasetConfig, ModelConfig, TrainConfig
    from deepdife_core.data import io
    from deepdife_core.train.fit import train_dataset

    cfg = DatasetConfig(length=LENGTH, pad_side="right")
    df, _ = io.dataset_from_table(raw_genes.to_csv(index=False).encode(), cfg=cfg, name="raw.csv")
    out = dirs["models"] / "right-model"
    train_dataset(
        df,
        model_cfg=ModelConfig(filters=8, kernel_size=8, dense_units=(16,)),
        train_cfg=TrainConfig(epochs=2, batch_size=20, seed=1),
        out=out,
        dataset_cfg=cfg,
    )
    return out


def test_predict_page_pads_like_training(app, right_model, raw_genes):
    from deepdife_core.data.encode import one_hot, pad_or_trim
    from deepdife_core.model.folder import load_model

    prob = load_model(right_model).predict(
        one_hot([pad_or_trim(s, LENGTH, side="right") for s in raw_genes["sequence"]])
    )
    want = pd.Series(prob, index=raw_genes["gene_id"])
    goto(app, "predict")
    assert app.selectbox(key="w.predict.model").value == "right-model"
    app.file_uploader(key="w.predict.fasta").set_value(("raw.fa", fasta_bytes(raw_genes), "text/plain"))
    app.run()
    app.button(key="w.predict.run").click().run()
    assert not app.error and not app.exception
    table = app.dataframe[0].value.set_index("gene_id")
    assert len(table) == len(raw_genes)
    np.testing.assert_allclose(table["probability"], want[table.index], atol=1e-5)


def test_data_page_records_the_dataset_config(app, dirs, raw_genes):
    from deepdife_core.data import io

    data = "".join(f">{g}_{lab}\n{s}\n" for g, lab, s in raw_genes.itertuples(index=False)).encode()
    app.number_input(key="w.data.cfg.length").set_value(LENGTH)
    app.selectbox(key="w.data.cfg.pad_side").set_value("right")
    app.file_uploader(key="w.data.fasta_labelled").set_value(("genes.fa", data, "text/plain"))
    app.run()
    app.button(key="w.data.build_fasta").click().run()
    app.text_input(key="w.data.save_name").set_value("right-set")
    app.button(key="FormSubmitter:w.data.save_form-Save dataset").click().run()
    assert not app.error and not app.exception
    folder = dirs["workspace"] / "datasets" / "right-set"
    meta = json.loads((folder / "dataset.json").read_text())
    assert meta["config"] == {"length": LENGTH, "pad_side": "right", "max_n_fraction": 0.5}
    # what the training job passes to train_dataset (dataset_cfg=read_dataset_config(dataset_path))
    cfg = io.read_dataset_config(folder / "data.csv")
    assert (cfg.length, cfg.pad_side) == (LENGTH, "right")
