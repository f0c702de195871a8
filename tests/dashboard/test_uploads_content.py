"""Uploads judged by content (issue 17): any file name, visible refusals; column pickers for a table."""

from __future__ import annotations

import gzip
import io
import zipfile

import pandas as pd

from dashboard.uploads import check_text, kind_of, table_upload
from deepdife_core.errors import DeepDifEInputError
from tests.dashboard.apptest_helpers import fasta_bytes, texts


def _xlsx(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_excel(buf, index=False)
    return buf.getvalue()


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.txt", "hello")
    return buf.getvalue()


def test_kinds_from_content():
    assert kind_of(b">G1_1\nACGT\n") == "fasta"
    assert kind_of(gzip.compress(b"  >G1_1\nACGT\n")) == "fasta"
    assert kind_of(b"gene_id,label\nG1,1\n") == "text"
    assert kind_of(_xlsx(pd.DataFrame({"a": [1]}))) == "xlsx"
    assert kind_of(_zip()) == "zip"
    assert kind_of(b"\x00\x01\x02\xff") == "binary"
    assert kind_of(b"") == "empty" and kind_of(b"  \n") == "empty"
    assert kind_of("gène\n".encode()) == "text"


def test_refusals_name_the_file_and_what_it_is():
    check_text(b">G\nACGT\n", "example.fasta_c1", "a FASTA file")  # any name: the content is a FASTA
    for data, words in ((_xlsx(pd.DataFrame({"a": [1]})), "an Excel workbook"), (b"\x00\x9f", "a binary")):
        try:
            check_text(data, "x.fa", "a FASTA file")
        except DeepDifEInputError as exc:
            assert str(exc).startswith(f"x.fa: this is {words}") and "not a FASTA file" in str(exc)
        else:
            raise AssertionError("not refused")
    assert table_upload(_xlsx(pd.DataFrame({"a": [1]})), "labels.dat")[1] == "labels.dat.xlsx"
    assert table_upload(b"a,b\n1,2\n", "t.xlsx")[1] == "t.xlsx.txt"
    try:
        table_upload(_zip(), "t.zip")
    except DeepDifEInputError as exc:
        assert "t.zip: this is a zip archive, not a table" in str(exc)
    else:
        raise AssertionError("not refused")


def test_a_fasta_with_any_name_builds_a_dataset(app, tiny_table):
    data = "".join(
        f">{g}_{lab}\n{s}\n"
        for g, lab, s in zip(tiny_table["gene_id"], tiny_table["label"], tiny_table["sequence"], strict=True)
    ).encode()
    app.number_input(key="w.data.cfg.length").set_value(100)
    app.file_uploader(key="w.data.fasta_labelled").set_value(("example.fasta_c1", data, "application/octet-stream"))
    app.run()
    app.button(key="w.data.build_fasta").click().run()
    assert not app.error and not app.exception, texts(app.error)
    assert {m.label: m.value for m in app.metric}["Genes"] == "60"


def test_a_workbook_in_the_fasta_box_is_refused_visibly(app, tiny_table):
    wb = _xlsx(tiny_table[["gene_id", "label"]])
    app.file_uploader(key="w.data.fasta_labelled").set_value(("genes.fa", wb, "application/octet-stream"))
    app.run()
    app.button(key="w.data.build_fasta").click().run()
    assert any("genes.fa: this is an Excel workbook, not a FASTA file" in t for t in texts(app.error))
    assert app.session_state["data.preview"] is None


def test_a_table_with_other_column_names_offers_pickers(app, tiny_table):
    app.radio(key="w.data.source").set_value("table").run()
    app.number_input(key="w.data.cfg.length").set_value(100)
    labels = tiny_table[["gene_id", "label"]].rename(columns={"gene_id": "Locus", "label": "aba_up"})
    app.file_uploader(key="w.data.table").set_value(("labels.dat", _xlsx(labels), "application/octet-stream"))
    app.run()
    assert not app.error, texts(app.error)
    assert app.selectbox(key="w.data.table_seq").value == "(none: sequences from the FASTA)"
    # no column is named for the gene ID: the picker starts empty and Build says what to pick
    assert app.selectbox(key="w.data.table_gene").value is None
    app.button(key="w.data.build_table").click().run()
    assert any(
        "labels.dat.xlsx: no column named 'gene_id'; pick the gene ID column above" in t for t in texts(app.error)
    )
    app.selectbox(key="w.data.table_gene").set_value("Locus")
    app.selectbox(key="w.data.table_label").set_value("aba_up")
    app.run()
    # no sequence column and no FASTA: the message says what to do
    app.button(key="w.data.build_table").click().run()
    assert any("no sequence column picked; upload the promoter FASTA" in t for t in texts(app.error)), texts(app.error)
    app.file_uploader(key="w.data.table_fasta").set_value(("p.txt", fasta_bytes(tiny_table), "text/plain"))
    app.run()
    app.button(key="w.data.build_table").click().run()
    assert not app.error and not app.exception, texts(app.error)
    prev = app.session_state["data.preview"]
    assert sorted(prev["df"]["gene_id"]) == sorted(tiny_table["gene_id"])
    assert prev["df"].set_index("gene_id")["label"].to_dict() == tiny_table.set_index("gene_id")["label"].to_dict()
    # the same column for two roles is refused
    app.selectbox(key="w.data.table_label").set_value("Locus")
    app.run()
    app.button(key="w.data.build_table").click().run()
    assert any("pick a different column" in t for t in texts(app.error))
