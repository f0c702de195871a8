"""The `deepdife` command: happy paths, and every input-error class end to end.

Each error case asserts exit code 2, a one-line message naming the problem and
that no output file appeared.
"""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from deepdife_core.cli.main import main

GOOD_FA = ">AT1G01010::Chr1:1-8(+)\nACGTACGT\n>AT1G01020\nTTTTACGT\n>AT1G01030\nGGGGACGT\n>AT1G01040\nCCCCACGT\n"


def run(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def files(tmp_path):
    fa = tmp_path / "p.fa"
    fa.write_text(GOOD_FA)
    labels = tmp_path / "labels.csv"
    labels.write_text("gene_id,label\nAT1G01010,1\nAT1G01020,0\nAT1G01030,1\nAT1G01040,0\n")
    return tmp_path, fa, labels


def test_help_on_every_command(capsys):
    for cmd in (
        ["--help"],
        ["dataset", "--help"],
        ["dataset", "build", "--help"],
        ["dataset", "check", "--help"],
        ["train", "--help"],
        ["predict", "--help"],
        ["evaluate", "--help"],
        ["import-legacy", "--help"],
        ["demo", "--help"],
    ):
        with pytest.raises(SystemExit) as exc:
            main(cmd)
        assert exc.value.code == 0
        assert "usage: deepdife" in capsys.readouterr().out


def test_dataset_build_and_check(files, capsys):
    tmp, fa, labels = files
    out = tmp / "d.csv"
    code, _, err = run(
        ["dataset", "build", "--labels", labels, "--fasta", fa, "--length", "10", "--out", out, "--manifest"], capsys
    )
    assert code == 0 and "4 genes kept of 4" in err
    df = pd.read_csv(out)
    assert df["sequence"].iloc[0] == "NNACGTACGT" and df["coords"].iloc[0] == "Chr1:1-8(+)"
    assert json.loads((tmp / "d.json").read_text())["report"]["padded"] == 4
    code, stdout, _ = run(["dataset", "check", out], capsys)
    summary = json.loads(stdout)
    assert code == 0 and summary["n_responsive"] == 2 and summary["n_genes"] == 4


ERROR_CASES = {
    "malformed FASTA": (
        "fa",
        "ACGT\n>a\nACGT\n",
        "p.fa, line 1: sequence data before the first '>' header",
    ),
    "non-DNA characters": (
        "fa",
        ">AT1G01010\nACGTQQ\n",
        "p.fa, record 1 ('AT1G01010', line 1): 2 characters are not DNA",
    ),
    "empty FASTA": ("fa", "", "p.fa: no FASTA records found"),
    "duplicate table IDs": (
        "labels",
        "gene_id,label\nAT1G01010,1\nAT1G01010,0\n",
        "labels.csv, line 3: duplicate gene ID 'AT1G01010'",
    ),
    "IDs not found": (
        "labels",
        "gene_id,label\nX1,1\nX2,0\n",
        "labels.csv: none of the 2 gene IDs",
    ),
    "non-binary labels": (
        "labels",
        "gene_id,label\nAT1G01010,2\nAT1G01020,0\n",
        "labels.csv, line 2 ('AT1G01010'): label is '2', not 0 or 1",
    ),
    "one class only": (
        "labels",
        "gene_id,label\nAT1G01010,1\nAT1G01020,1\n",
        "labels.csv: every gene is responsive (1)",
    ),
    "empty table": ("labels", "", "labels.csv: the file is empty"),
    "missing column": ("labels", "gene,label\nAT1G01010,1\n", "labels.csv: no column 'gene_id'"),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_dataset_build_errors(case, files, capsys):
    tmp, fa, labels = files
    which, content, message = ERROR_CASES[case]
    (fa if which == "fa" else labels).write_text(content)
    out = tmp / "d.csv"
    code, _, err = run(["dataset", "build", "--labels", labels, "--fasta", fa, "--length", "10", "--out", out], capsys)
    assert code == 2
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert not out.exists() and not list(tmp.glob(".d.csv*"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dataset", "build", "--labels", "{labels}", "--out", "{tmp}/d.csv"], "add --fasta FILE"),
        (
            ["dataset", "build", "--labels", "{labels}", "--table", "{labels}", "--out", "{tmp}/d.csv"],
            "exactly one input",
        ),
        (["dataset", "build", "--table", "{tmp}/missing.csv", "--out", "{tmp}/d.csv"], "missing.csv: file not found"),
        (["train", "--data", "{labels}", "--fasta", "{fa}", "--out", "{tmp}/../bad name"], "model name 'bad name'"),
        (
            ["train", "--data", "{labels}", "--fasta", "{fa}", "--out", "{tmp}/m", "--epochs", "0"],
            "epochs must be >= 1",
        ),
        (
            ["train", "--data", "{labels}", "--fasta", "{fa}", "--out", "{tmp}/m", "--val-fraction", "1.5"],
            "validation fraction",
        ),
        (["predict", "--model", "{tmp}/nomodel", "--fasta", "{fa}", "--out", "{tmp}/p.csv"], "does not exist"),
        (["evaluate", "--model", "{tmp}/nomodel", "--data", "{labels}"], "does not exist"),
        (["import-legacy", "--json", "{labels}", "--weights", "{fa}", "--out", "{tmp}/leg"], "not a Keras model JSON"),
    ],
)
def test_command_errors(args, message, files, capsys):
    tmp, fa, labels = files
    args = [a.format(tmp=tmp, fa=fa, labels=labels) for a in args]
    before = sorted(p.name for p in tmp.iterdir())
    code, _, err = run(args, capsys)
    assert code == 2 and message in err and err.startswith("error: ") and "Traceback" not in err, err
    assert sorted(p.name for p in tmp.iterdir()) == before


def test_console_script_bad_input_has_no_traceback(tmp_path):
    bad = tmp_path / "bad.fa"
    bad.write_text(">a\nXXXX\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "deepdife_core.cli.main",
            "predict",
            "--model",
            str(tmp_path),
            "--fasta",
            str(bad),
            "--out",
            str(tmp_path / "p.csv"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_demo_train_reaches_auroc_and_is_reproducible(tmp_path, capsys):
    data = tmp_path / "demo.csv"
    fa = tmp_path / "demo.fa"
    assert run(["demo", "--out", data, "--fasta", fa], capsys)[0] == 0
    for name in ("a", "b"):
        code, _, err = run(["train", "--data", data, "--out", tmp_path / name, "--seed", "3", "--epochs", "40"], capsys)
        assert code == 0, err
    metrics = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert metrics["auroc"] >= 0.9
    for name in ("a", "b"):
        code, _, _ = run(
            ["predict", "--model", tmp_path / name, "--fasta", fa, "--out", tmp_path / f"{name}.csv", "-q"], capsys
        )
        assert code == 0
    pa, pb = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    assert list(pa.columns[:3]) == ["gene_id", "probability", "prediction"] and len(pa) == 2000
    pd.testing.assert_frame_equal(pa, pb)
    code, stdout, _ = run(["evaluate", "--model", tmp_path / "a", "--data", data], capsys)
    assert code == 0 and json.loads(stdout)["auroc"] > 0.9


@pytest.mark.shared
def test_import_legacy_then_predict(shared_data, tmp_path, capsys):
    out = tmp_path / "published"
    code, _, err = run(
        [
            "import-legacy",
            "--json",
            shared_data / "model_single.json",
            "--weights",
            shared_data / "weights_single.h5",
            "--out",
            out,
        ],
        capsys,
    )
    assert code == 0, err
    fa = tmp_path / "five.fa"
    lines = (shared_data / "orthologs" / "aly.tss.fasta").read_text().splitlines()[:10]
    fa.write_text("\n".join(lines) + "\n")
    from deepdife_core.data.encode import one_hot
    from deepdife_core.data.io import read_fasta
    from deepdife_core.model.folder import load_model

    pred = load_model(out)
    p = pred.predict(one_hot([r.sequence for r in read_fasta(fa)]), conjoin=False)
    assert p == pytest.approx([0.1541, 0.8881, 0.8259, 0.8478, 0.7203], abs=1e-3)
    code, _, _ = run(["predict", "--model", out, "--fasta", fa, "--out", tmp_path / "p.csv", "-q"], capsys)
    df = pd.read_csv(tmp_path / "p.csv")
    assert code == 0 and df["probability_forward"].round(4).tolist() == pytest.approx(
        [0.1541, 0.8881, 0.8259, 0.8478, 0.7203], abs=1e-3
    )


def test_train_with_evoaug_phylo_and_cv(tmp_path, capsys):
    from deepdife_core.data.demo import make_demo_dataset

    df = make_demo_dataset(150, length=200, seed=5)
    data = tmp_path / "d.csv"
    df[["gene_id", "label", "family", "sequence"]].to_csv(data, index=False)
    orth_fa = tmp_path / "sp2.fa"
    orth_fa.write_text("".join(f">{g}_o\n{s[::-1]}\n" for g, s in zip(df["gene_id"], df["sequence"], strict=True)))
    table = tmp_path / "orth.tsv"
    table.write_text("".join(f"{g}\t{g}_o\n" for g in df["gene_id"]))
    code, _, err = run(
        [
            "train",
            "--data",
            data,
            "--out",
            tmp_path / "m",
            "--epochs",
            "2",
            "--batch-size",
            "50",
            "--evoaug",
            "--finetune-epochs",
            "1",
            "--orthologs",
            table,
            "--ortholog-fasta",
            orth_fa,
            "--cv",
            "2",
            "--refit",
        ],
        capsys,
    )
    assert code == 0, err
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    assert cfg["augment"]["enabled"] and cfg["augment"]["insert_max"] == 20 and cfg["model"]["pad_left"] == 10
    assert cfg["phylo"]["enabled"] and cfg["phylo"]["rate"] == 0.7 and cfg["n_members"] == 2
    prov = json.loads((tmp_path / "m" / "provenance.json").read_text())
    assert prov["phylo"]["orthologs_used_per_species"]["sp2"] > 0
    assert (tmp_path / "m_refit" / "model.keras").exists()
    code, _, err = run(["train", "--data", data, "--out", tmp_path / "x", "--refit"], capsys)
    assert code == 2 and "--refit needs --cv" in err


def test_train_prints_the_verdict_and_evaluate_the_baseline(tmp_path, capsys):
    """A model trained on shuffled labels is called out (even with -q); evaluate puts the k-mer baseline beside it."""
    from deepdife_core.data.demo import make_demo_dataset

    df = make_demo_dataset(160, length=200, seed=9)[["gene_id", "label", "family", "sequence"]]
    df["label"] = np.random.default_rng(1).permutation(df["label"].to_numpy())
    data = tmp_path / "noise.csv"
    df.to_csv(data, index=False)
    fast = ["--epochs", "2", "--batch-size", "40", "--no-evoaug", "--chance-patience", "0", "--seed", "1"]
    code, _, err = run(["train", "--data", data, "--out", tmp_path / "m", "-q", *fast], capsys)
    assert code == 0, err
    assert "warning: " in err and ("has not learnt" in err or "does not beat" in err)
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert metrics["learning"]["status"] in ("not_learning", "below_baseline")
    assert metrics["baseline_kmer"]["n_train"] + metrics["baseline_kmer"]["n_test"] < len(df)
    code, stdout, err = run(["evaluate", "--model", tmp_path / "m", "--data", data], capsys)
    assert code == 0, err
    out = json.loads(stdout)
    assert out["baseline_kmer"]["fitted_on"].startswith("the model's") and out["learning"]["status"] != "learnt"
    # DeepDifE's recipe is one option away and is recorded as such
    code, _, err = run(["train", "--data", data, "--out", tmp_path / "d", "-q", "--recipe", "deepdife", *fast], capsys)
    assert code == 0, err
    cfg = json.loads((tmp_path / "d" / "config.json").read_text())
    assert cfg["model"]["head"] == "flatten" and cfg["model"]["n_conv"] == 3 and cfg["model"]["conjoin"] is True
    assert cfg["train"]["strands"] == "both" and cfg["augment"]["enabled"] is True
