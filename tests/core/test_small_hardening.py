"""Issue 19 point 10 (core side): motif caches under ``DEEPDIFE_WORKSPACE``, XLSX formula cells
without cached values."""

from __future__ import annotations

import gzip
import inspect
import io
from pathlib import Path

import openpyxl
import pytest

from deepdife_core.cli import main as cli
from deepdife_core.data.io import read_table
from deepdife_core.errors import DeepDifEInputError


class _StopError(DeepDifEInputError):
    pass


def test_motifs_caches_go_to_the_workspace_not_the_current_folder(tmp_path, monkeypatch, capsys):
    import deepdife_core.cli.motifs as cli_motifs

    ws, here = tmp_path / "ws", tmp_path / "elsewhere"
    here.mkdir()
    monkeypatch.setenv("DEEPDIFE_WORKSPACE", str(ws))
    monkeypatch.chdir(here)
    seen = {}

    spec_default = inspect.signature(cli_motifs.load_motif_database).parameters["spec"].default

    def fake_db(spec=spec_default, *, release=None, cache_dir=None):
        seen["cache_dir"] = Path(cache_dir)
        raise _StopError("stop here")

    monkeypatch.setattr(cli_motifs, "load_motif_database", fake_db)  # the name the command calls
    rc = cli.main(["motifs", "--model", "m", "--fasta", "x.fa", "--out", str(tmp_path / "run")])
    assert rc == 2 and "stop here" in capsys.readouterr().err
    assert seen["cache_dir"] == ws / "motif_db"
    args = cli.build_parser().parse_args(["motifs", "--model", "m", "--fasta", "x.fa", "--out", "r"])
    assert args.cache is None and args.db_cache is None  # resolved at run time, from the workspace
    assert not (here / "workspace").exists()


def _workbook(label_cell: str) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["gene_id", "label", "sequence"])
    ws.append(["G1", label_cell, "ACGTACGT"])
    ws.append(["G2", "0", "ACGTACGT"])
    buf = io.BytesIO()
    wb.save(buf)  # openpyxl computes no formula: the file stores none of their values
    return buf.getvalue()


@pytest.mark.parametrize("formula", ["=1-0", '=IF(C2="",0,1)', '=HYPERLINK("http://x",1)'])
def test_xlsx_formula_cells_without_cached_values_are_named(formula):
    with pytest.raises(DeepDifEInputError, match=r"t\.xlsx, cell B2: a formula .* without a cached value"):
        read_table(_workbook(formula), name="t.xlsx")


def test_xlsx_plain_empty_cell_still_reads_as_empty():
    df = read_table(_workbook(""), name="t.xlsx")
    assert df["label"].isna().tolist() == [True, False] and df["gene_id"].tolist() == ["G1", "G2"]


@pytest.mark.parametrize("before", [True, False])
def test_shared_options_work_before_and_after_the_sub_command(tmp_path, capsys, before):
    """``deepdife -q demo`` and ``deepdife --max-decompressed-mb 1 predict`` used to be ignored: the
    sub-command's own copy of the option overwrote the value given before it."""
    from deepdife_core.cli.main import main as cli

    opts = ["-q", "--max-decompressed-mb", "1"]
    demo = ["demo", "--out", str(tmp_path / "d.csv"), "--n-genes", "20"]
    assert cli(opts + demo if before else demo[:1] + opts + demo[1:]) == 0
    assert capsys.readouterr().err == ""  # quiet
    big = tmp_path / "big.fa.gz"
    with gzip.open(big, "wt") as fh:
        fh.write(">g1\n" + "A" * (2 * 1024 * 1024) + "\n")
    demo_model = str(Path(__file__).resolve().parents[2] / "models" / "demo")
    pred = ["predict", "--model", demo_model, "--fasta", str(big), "--out", str(tmp_path / "p.csv")]
    code = cli(opts + pred if before else pred[:1] + opts + pred[1:])
    assert code == 2 and "decompresses to more than 1 MB" in capsys.readouterr().err
    assert not (tmp_path / "p.csv").exists()


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")  # what Python prints on stderr
@pytest.mark.parametrize("name", ["p.fa.gz", "p.fasta"])
def test_a_refused_streamed_fasta_prints_one_line(tmp_path, capsys, name):
    """Found by the fuzz benchmark: the streamed reader, closed after an error, printed 'Exception ignored in
    <generator _stream_lines>' and a traceback under the error line (its text wrapper was detached too late)."""
    import gc

    from deepdife_core.cli.main import main as cli

    data = b"ACGT\n>g1\nACGT\n"
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    demo_model = str(Path(__file__).resolve().parents[2] / "models" / "demo")
    code = cli(["predict", "--model", demo_model, "--fasta", str(path), "--out", str(tmp_path / "o.csv"), "-q"])
    gc.collect()
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "before the first '>' header" in err[0], err
