"""Data page: demo, uploads of every kind, preview, errors as st.error, save."""

from __future__ import annotations

import json

import pytest

from tests.dashboard.apptest_helpers import fasta_bytes, texts


def _plotly_count(at) -> int:
    return len(at.get("plotly_chart"))


def test_demo_dataset_in_one_click(app, dirs):
    app.button(key="w.data.demo").click().run()
    assert not app.exception
    assert any("Demo dataset loaded" in t for t in texts(app.success))
    folder = dirs["workspace"] / "datasets" / "demo"
    meta = json.loads((folder / "dataset.json").read_text())
    assert meta["counts"]["genes"] == 2000 and (folder / "data.csv").is_file()
    assert app.session_state["data.active"] == "demo"
    assert app.sidebar.selectbox[0].value == "demo"


def test_bad_fasta_shows_readable_error_not_traceback(app):
    app.file_uploader(key="w.data.fasta_labelled").set_value(
        ("bad.fa", b">G1_1\nACGTXXACGT\n>G2_0\nACGTACGT\n", "text/plain")
    )
    app.run()
    app.button(key="w.data.build_fasta").click().run()
    assert not app.exception
    errs = texts(app.error)
    assert len(errs) == 1
    assert "bad.fa, record 1 ('G1_1'" in errs[0] and "not DNA" in errs[0]
    assert "Traceback" not in errs[0]
    assert app.session_state["data.preview"] is None


def test_labelled_fasta_preview_and_save(app, dirs, tiny_table):
    data = "".join(
        f">{g}_{lab}\n{s}\n"
        for g, lab, s in zip(tiny_table["gene_id"], tiny_table["label"], tiny_table["sequence"], strict=True)
    ).encode()
    app.number_input(key="w.data.cfg.length").set_value(100)
    app.file_uploader(key="w.data.fasta_labelled").set_value(("genes.fa", data, "text/plain"))
    app.run()
    app.button(key="w.data.build_fasta").click().run()
    assert not app.error and not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Genes"] == "60"
    assert int(metrics["Responsive"]) + int(metrics["Non-responsive"]) == 60
    assert _plotly_count(app) >= 3  # class balance, length and N histograms
    assert len(app.dataframe) >= 1
    # a bad name is refused with a readable message
    app.text_input(key="w.data.save_name").set_value("../evil")
    app.button(key="FormSubmitter:w.data.save_form-Save dataset").click().run()
    assert any("is not allowed" in t for t in texts(app.error))
    app.text_input(key="w.data.save_name").set_value("my-set")
    app.button(key="FormSubmitter:w.data.save_form-Save dataset").click().run()
    assert any("Saved dataset 'my-set'" in t for t in texts(app.success))
    assert (dirs["workspace"] / "datasets" / "my-set" / "data.csv").is_file()
    assert app.session_state["data.active"] == "my-set"


def test_labelled_table_csv(app, tiny_table):
    app.radio(key="w.data.source").set_value("table").run()
    app.number_input(key="w.data.cfg.length").set_value(100)
    csv = tiny_table[["gene_id", "label", "family", "sequence"]].to_csv(index=False).encode()
    app.file_uploader(key="w.data.table").set_value(("genes.csv", csv, "text/csv"))
    app.run()
    app.button(key="w.data.build_table").click().run()
    assert not app.error and not app.exception
    assert {m.label: m.value for m in app.metric}["Families"] == str(tiny_table["family"].nunique())


def test_table_with_bad_label_shows_line(app):
    app.radio(key="w.data.source").set_value("table").run()
    app.file_uploader(key="w.data.table").set_value(
        ("t.tsv", b"gene_id\tlabel\tsequence\nG1\t1\tACGT\nG2\tmaybe\tACGT\n", "text/plain")
    )
    app.run()
    app.button(key="w.data.build_table").click().run()
    assert any("t.tsv, line 3 ('G2'): label is 'maybe'" in t for t in texts(app.error))


def test_gene_lists_plus_fasta(app, tiny_table):
    app.radio(key="w.data.source").set_value("lists").run()
    app.number_input(key="w.data.cfg.length").set_value(100)
    pos = "\n".join(tiny_table.loc[tiny_table["label"] == 1, "gene_id"]).encode()
    neg = "\n".join(tiny_table.loc[tiny_table["label"] == 0, "gene_id"]).encode() + b"\nNOSEQ1\n"
    app.file_uploader(key="w.data.list_pos").set_value(("up.txt", pos, "text/plain"))
    app.file_uploader(key="w.data.list_neg").set_value(("down.txt", neg, "text/plain"))
    app.file_uploader(key="w.data.list_fasta").set_value(("p.fa", fasta_bytes(tiny_table), "text/plain"))
    app.run()
    app.button(key="w.data.build_lists").click().run()
    assert not app.error and not app.exception
    assert {m.label: m.value for m in app.metric}["Genes"] == "60"
    labels = [e.label for e in app.expander]
    assert "Genes without sequence (1)" in labels


@pytest.fixture
def de_csv(tiny_table) -> bytes:
    import numpy as np

    rng = np.random.default_rng(0)
    lfc = np.where(tiny_table["label"] == 1, rng.uniform(1.5, 4, len(tiny_table)), rng.uniform(-0.3, 0.3, 60))
    padj = np.where(tiny_table["label"] == 1, 0.001, 0.9)
    lfc[:6] = 0.8  # grey zone
    padj[:6] = 0.2
    rows = ["GeneName,log2FoldChange,padj"] + [
        f"{g},{a:.3f},{p}" for g, a, p in zip(tiny_table["gene_id"], lfc, padj, strict=True)
    ]
    return ("\n".join(rows) + "\n").encode()


def test_de_table_live_counts_and_build(app, tiny_table, de_csv):
    app.radio(key="w.data.source").set_value("de").run()
    app.number_input(key="w.data.cfg.length").set_value(100)
    app.file_uploader(key="w.data.de").set_value(("de.csv", de_csv, "text/csv"))
    app.run()
    assert not app.error and not app.exception
    assert app.selectbox(key="w.data.de_gene").value == "GeneName"  # guessed column
    before = {m.label: int(m.value) for m in app.metric}
    assert before["Excluded (grey zone)"] == 6
    assert before["Responsive"] + before["Non-responsive"] == 54
    app.slider(key="w.data.th.lfc_neg_max").set_value(1.0)  # grey-zone genes become non-responsive
    app.slider(key="w.data.th.padj_neg_min").set_value(0.1)
    app.run()
    after = {m.label: int(m.value) for m in app.metric}
    assert after["Excluded (grey zone)"] == 0
    assert after["Non-responsive"] == before["Non-responsive"] + 6
    app.file_uploader(key="w.data.de_fasta").set_value(("p.fa", fasta_bytes(tiny_table), "text/plain"))
    app.run()
    app.button(key="w.data.build_de").click().run()
    assert not app.error and not app.exception
    assert app.session_state["data.preview"]["meta"]["thresholds"]["lfc_neg_max"] == 1.0


def test_de_table_with_text_in_numbers(app):
    app.radio(key="w.data.source").set_value("de").run()
    app.file_uploader(key="w.data.de").set_value(
        ("de.csv", b"gene_id,log2FoldChange,padj\nG1,2.0,0.01\nG2,high,0.5\n", "text/csv")
    )
    app.run()
    assert any("de.csv, line 3 ('G2'): log2FoldChange is 'high', not a number" in t for t in texts(app.error))
    assert not app.exception
