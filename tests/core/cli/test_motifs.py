"""Tests of ``deepdife_core.cli.motifs`` (moved from ``tests/core/motifs/test_modisco.py``)."""

from __future__ import annotations

import pandas as pd

from tests.core.motifs import helpers as motifs_helpers
from tests.core.motifs.helpers import ROOT

# the motifs room's fixtures (also in tests/core/motifs/conftest.py)
db_cache = motifs_helpers.db_cache
jaspar = motifs_helpers.jaspar
demo_inputs = motifs_helpers.demo_inputs


def test_cli_motifs_demo(tmp_path, demo_inputs, db_cache, jaspar):
    from deepdife_core.cli.main import main

    df, _, _, attr_cache = demo_inputs
    data = tmp_path / "demo.csv"
    df.to_csv(data, index=False)
    out = tmp_path / "run"
    argv = ["motifs", "--quiet", "--model", str(ROOT / "models" / "demo"), "--data", str(data)]
    argv += ["--method", "gradxinput", "--cache", str(attr_cache), "--db-cache", str(db_cache)]
    assert main([*argv, "--out", str(out)]) == 0
    pats = pd.read_csv(out / "patterns.csv")
    assert len(pats) and pats["best_match_id"].notna().any()
    assert (out / "report.html").is_file() and (out / "modisco.h5").is_file()


def test_cli_motifs_bad_input(tmp_path, capsys):
    from deepdife_core.cli.main import main

    bad = tmp_path / "bad.meme"
    bad.write_text("MEME version 4\n\nALPHABET= ACGU\n")
    base = ["motifs", "--model", str(ROOT / "models" / "demo"), "--data", "x.csv", "--out", str(tmp_path / "o")]
    assert main([*base, "--motif-db", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: bad.meme, line 3: alphabet")
    assert main([*base, "--motif-db", str(tmp_path / "missing.meme")]) == 2
    assert main([*base, "--jaspar-release", "1850", "--db-cache", str(tmp_path)]) == 2
    assert "not shipped" in capsys.readouterr().err
    (tmp_path / "o").write_text("")
    assert main(base) == 2
    assert "is a file" in capsys.readouterr().err
