"""Tests of ``deepdife_core.cli.experiment`` (moved from ``tests/core/test_experiments.py``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.core.experiments import helpers as experiments_helpers
from tests.core.experiments.helpers import ROOT

demo_csv = experiments_helpers.demo_csv  # the experiments room's fixture (also in tests/core/experiments/conftest.py)


def test_cli_insert_contract(demo_csv, tmp_path):
    from deepdife_core.cli.main import main

    out, fig = tmp_path / "ins.csv", tmp_path / "ins.svg"
    rc = main(
        [
            "experiment",
            "insert",
            "--model",
            str(ROOT / "models/demo"),
            "--data",
            str(demo_csv),
            "--motif",
            "CCACGTGGCA",
            "--background",
            "non-responsive",
            "--n",
            "30",
            "--position",
            "450",
            "--orientation",
            "+",
            "--out",
            str(out),
            "--figure",
            str(fig),
            "-q",
        ]
    )
    assert rc == 0
    t = pd.read_csv(out)
    assert {"gene_id", "p_before", "p_after", "delta_probability", "delta_logit"} <= set(t.columns)
    assert len(t) == 30 and (t["position"] == 450).all() and fig.read_text().startswith("<?xml")
    np.testing.assert_allclose(t["delta_probability"], t["p_after"] - t["p_before"], atol=1e-9)


def test_cli_sweep_spacing_dose_tile_ablate(demo_csv, tmp_path):
    from deepdife_core.cli.main import main

    common = ["--model", str(ROOT / "models/demo"), "--data", str(demo_csv), "-q"]
    assert (
        main(
            [
                "experiment",
                "sweep",
                *common,
                "--motif",
                "CCACGTGGCA",
                "--n",
                "20",
                "--step",
                "100",
                "--out",
                str(tmp_path / "s.csv"),
            ]
        )
        == 0
    )
    s = pd.read_csv(tmp_path / "s.csv")
    assert list(s["position"]) == [0, 100, 200, 300, 400, 500] and "delta_probability_ci_low" in s.columns
    assert (
        main(
            [
                "experiment",
                "spacing",
                *common,
                "--motif",
                "CCACGTGGCA",
                "--motif2",
                "TTGACC",
                "--n",
                "20",
                "--max-spacing",
                "10",
                "--out",
                str(tmp_path / "sp.csv"),
            ]
        )
        == 0
    )
    assert len(pd.read_csv(tmp_path / "sp.csv")) == 11 * 4
    assert (
        main(["experiment", "dose", *common, "--motif", "CCACGTGGCA", "--n", "20", "--out", str(tmp_path / "d.csv")])
        == 0
    )
    assert list(pd.read_csv(tmp_path / "d.csv")["copies"]) == [0, 1, 2, 3]
    assert (
        main(
            [
                "experiment",
                "tile",
                *common,
                "--gene",
                "SYN1G00040",
                "--window",
                "50",
                "--step",
                "25",
                "--mode",
                "n",
                "--out",
                str(tmp_path / "t.csv"),
            ]
        )
        == 0
    )
    t = pd.read_csv(tmp_path / "t.csv")
    assert {"start", "end", "chrom", "genomic_start", "genomic_end", "p_after", "delta_probability"} <= set(t.columns)
    assert (
        main(["experiment", "ablate", *common, "--motif", "ACGTGKC", "--mode", "n", "--out", str(tmp_path / "a.csv")])
        == 0
    )
    a = pd.read_csv(tmp_path / "a.csv")
    assert len(a) == 2000 and a["lost"].sum() > 100


def test_cli_bad_input_is_one_line(demo_csv, tmp_path, capsys):
    from deepdife_core.cli.main import main

    rc = main(
        [
            "experiment",
            "tile",
            "--model",
            str(ROOT / "models/demo"),
            "--data",
            str(demo_csv),
            "--gene",
            "NOPE1",
            "--out",
            str(tmp_path / "t.csv"),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "gene 'NOPE1' is not in the dataset" in err and "Traceback" not in err
    assert not (tmp_path / "t.csv").exists()
