"""Issue 19 point 9: ``deepdife predict --fasta`` reads, encodes, predicts and writes in chunks, with the
same rows as predicting the whole file at once (record identities, alt-TSS rule, fitting, formulas)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepdife_core.cli import main as cli
from deepdife_core.config import DatasetConfig, ModelConfig, RunConfig
from deepdife_core.data.encode import one_hot
from deepdife_core.data.io import read_table, records_from_fasta
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.model import folder as artifacts
from deepdife_core.streaming import StreamConfig, predict_fasta_to_csv

CFG = ModelConfig(input_length=40, kernel_size=6, filters=4, dense_units=(4,), conjoin=True)


@pytest.fixture(scope="module")
def predictor(tmp_path_factory):
    from deepdife_core.model.cnn import build_model

    folder = tmp_path_factory.mktemp("stream") / "m"
    artifacts.save_model_folder(
        folder, models=[build_model(CFG)], config=RunConfig(model=CFG, data=DatasetConfig(length=40))
    )
    return artifacts.load_model(folder)


def _fasta(path: Path, n: int, seed: int, *, gz: bool = False) -> Path:
    """``n`` records of 25-60 bp: some genes repeated with coordinates, some without, an ID like a formula."""
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(n):
        seq = "".join(rng.choice(list("ACGTN"), int(rng.integers(25, 61)), p=[0.24, 0.24, 0.24, 0.24, 0.04]))
        if i % 7 == 3:
            head = f"AT1G{i // 7:05d}::Chr1:{100 * i}-{100 * i + 40}(+)"  # repeated, with coordinates
        elif i % 7 == 4:
            head = f"AT1G{(i - 1) // 7:05d}::Chr1:{100 * i}-{100 * i + 40}(-)"
        elif i % 11 == 5:
            head = "AT9G00001 some description"  # repeated without coordinates
        elif i == 1:
            head = "=HYPERLINK(1)"
        else:
            head = f"AT2G{i:05d}.1"
        lines += [f">{head}", seq[:30], seq[30:]] if len(seq) > 30 else [f">{head}", seq]
    text = "\n".join(lines) + "\n"
    if gz:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def _whole(predictor, fasta: Path, alt_tss: str) -> pd.DataFrame:
    """The oracle: the in-memory path (all records at once)."""
    df, _ = records_from_fasta(fasta, length=40, alt_tss=alt_tss)
    fwd, rev = predictor.predict_strands(one_hot(df["sequence"].tolist()))
    prob = predictor.combine(fwd, rev)
    return pd.DataFrame(
        {
            "gene_id": df["gene_id"],
            "probability": np.round(prob, 6),
            "prediction": (prob >= 0.5).astype(int),
            "probability_forward": np.round(fwd, 6),
            "probability_reverse": np.round(rev, 6),
        }
    )


@settings(max_examples=8, deadline=None, derandomize=True, database=None)
@given(
    chunk=st.integers(2, 40),
    n=st.integers(1, 60),
    alt=st.sampled_from(["all", "first"]),
    gz=st.booleans(),
)
def test_chunked_prediction_equals_the_whole_file_at_once(predictor, tmp_path_factory, chunk, n, alt, gz):
    folder = tmp_path_factory.mktemp("case")
    fasta = _fasta(folder / ("x.fa.gz" if gz else "x.fa"), n, seed=n, gz=gz)
    out = folder / "p.csv"
    report = predict_fasta_to_csv(predictor, fasta, out, config=StreamConfig(chunk_records=chunk), alt_tss=alt)
    got = read_table(out)  # formulas restored
    want = _whole(predictor, fasta, alt)
    assert got["gene_id"].tolist() == want["gene_id"].tolist()
    assert np.allclose(got["probability"].astype(float), want["probability"], atol=2e-6)
    assert got["prediction"].astype(int).tolist() == want["prediction"].tolist()
    assert np.allclose(got["probability_reverse"].astype(float), want["probability_reverse"], atol=2e-6)
    _, whole_report = records_from_fasta(fasta, length=40, alt_tss=alt)
    assert (report.n_input, report.n_kept, report.repeated_genes, report.alternatives_left_out) == (
        whole_report.n_input,
        whole_report.n_kept,
        whole_report.repeated_genes,
        whole_report.alternatives_left_out,
    )
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []


def test_a_bad_record_late_in_the_file_writes_nothing(predictor, tmp_path):
    fasta = _fasta(tmp_path / "x.fa", 30, seed=2)
    with fasta.open("a") as fh:
        fh.write(">BAD1\nACGTXXACGT\n")
    out = tmp_path / "p.csv"
    with pytest.raises(DeepDifEInputError, match=r"record 31 \('BAD1'"):
        predict_fasta_to_csv(predictor, fasta, out, config=StreamConfig(chunk_records=4))
    assert list(tmp_path.iterdir()) == [fasta]


def test_cli_predict_fasta_goes_through_the_chunks(predictor, tmp_path, capsys):
    fasta = _fasta(tmp_path / "x.fa", 25, seed=9)
    out = tmp_path / "p.csv"
    assert cli.main(["predict", "--model", str(predictor.path), "--fasta", str(fasta), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert ("in chunks of 8,192" in err and "25 of 25 sequences predicted" not in err) or "predicted" in err
    got = read_table(out)
    assert got["gene_id"].tolist() == _whole(predictor, fasta, "all")["gene_id"].tolist()
