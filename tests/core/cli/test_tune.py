"""Tests of ``deepdife_core.cli.tune`` (moved from ``tests/core/tune/test_study.py``)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from deepdife_core.cli.main import main
from deepdife_core.tune import study as tune
from tests.core.tune import helpers as tune_helpers
from tests.core.tune.helpers import SMALL

table = tune_helpers.table  # the tune room's fixture (also in tests/core/tune/conftest.py)


def test_cli_tune_best_and_train_from_study(table, tmp_path, capsys, monkeypatch):
    ws = tmp_path / "ws"
    monkeypatch.setenv("DEEPDIFE_WORKSPACE", str(ws))
    fixes = [x for k, v in SMALL.items() for x in ("--fix", f"{k}={json.dumps(v)}")]
    code, _, err = run(
        ["tune", "--data", table, "--study", "cli", "--trials", 2, "--epochs", 2, "--folds", 2, *fixes], capsys
    )
    assert code == 0, err
    assert "2 complete" in err or "pruned" in err
    code, out, err = run(["tune", "best", "--study", "cli"], capsys)
    assert code == 0, err
    best = json.loads(out)
    assert best["study"] == "cli" and best["params"]["kernel_size"] == 8 and best["metric"] == "auroc"
    code, out, _ = run(["tune", "trials", "--study", "cli", "--storage", tune.default_storage("cli", ws)], capsys)
    assert code == 0 and len(pd.read_csv(__import__("io").StringIO(out))) == 2
    out_dir = tmp_path / "models" / "tuned"
    code, _, err = run(["train", "--data", table, "--out", out_dir, "--from-study", "cli", "--epochs", 1, "-q"], capsys)
    assert code == 0, err
    prov = json.loads((out_dir / "provenance.json").read_text())
    assert prov["tuning"]["study"] == "cli" and prov["tuning"]["trial"] == best["trial"]
    cfg = json.loads((out_dir / "config.json").read_text())
    assert cfg["model"]["kernel_size"] == 8 and cfg["train"]["learning_rate"] == best["params"]["learning_rate"]
    # resuming with other settings is refused; without them it continues the same search
    code, _, err = run(["tune", "--study", "cli", "--trials", 2, "--folds", 3], capsys)
    assert code == 2 and "different settings" in err


@pytest.mark.parametrize(
    ("args", "msg"),
    [
        (["tune", "--study", "x", "--data", "TABLE"], "--trials"),
        (["tune", "best", "--study", "nosuch"], "no study storage"),
        (["tune", "--study", "../up", "--data", "TABLE", "--trials", 1], "study name"),
        (["tune", "--study", "x", "--data", "TABLE", "--trials", 1, "--fix", "momentum=1"], "momentum"),
        (["tune", "--study", "x", "--data", "missing.csv", "--trials", 1], "file not found"),
        (["train", "--data", "TABLE", "--out", "OUT", "--from-study", "nosuch"], "no study storage"),
    ],
)
def test_cli_tune_bad_input_exits_2_with_one_line(args, msg, table, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DEEPDIFE_WORKSPACE", str(tmp_path / "ws"))
    args = [table if a == "TABLE" else tmp_path / "m" if a == "OUT" else a for a in args]
    code, _, err = run(args, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and msg in lines[0], err
    assert not (tmp_path / "m").exists() and not (tmp_path / "ws" / "studies" / "nosuch.db").exists()


def run(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err
