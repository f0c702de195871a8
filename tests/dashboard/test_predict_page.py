"""Predict page: FASTA or gene list + FASTA -> sorted table, histogram, CSV; bad input -> st.error."""

from __future__ import annotations

import io

import pandas as pd

from tests.dashboard.apptest_helpers import fasta_bytes, goto, texts


def test_needs_a_model(app):
    goto(app, "predict")
    assert any("No model yet" in t for t in texts(app.warning))


def test_predict_on_fasta(app, tiny_model, tiny_table):
    goto(app, "predict")
    assert app.selectbox(key="w.predict.model").value == "tiny-model"
    assert app.button(key="w.predict.run").disabled
    app.file_uploader(key="w.predict.fasta").set_value(("query.fa", fasta_bytes(tiny_table, 12), "text/plain"))
    app.run()
    app.button(key="w.predict.run").click().run()
    assert not app.error and not app.exception
    table = app.dataframe[0].value
    assert len(table) == 12
    assert list(table.columns[:5]) == ["gene_id", "probability", "predicted_class", "forward", "reverse"]
    assert table["probability"].is_monotonic_decreasing
    assert ((table["probability"] >= 0.5).astype(int) == table["predicted_class"]).all()
    assert (abs(table["probability"] - (table["forward"] + table["reverse"]) / 2) < 1e-4).all()
    assert "coords" not in table.columns
    assert len(app.get("plotly_chart")) == 1
    dl = app.get("download_button")[0]
    assert dl.proto.label == "Download CSV"
    # the result survives a page switch
    goto(app, "data")
    goto(app, "predict")
    assert len(app.dataframe[0].value) == 12


def test_predict_gene_list(app, tiny_model, tiny_table):
    goto(app, "predict")
    app.radio(key="w.predict.mode").set_value("A gene list + FASTA").run()
    genes = "\n".join([*tiny_table["gene_id"].head(5), "NOT_THERE"]).encode()
    app.file_uploader(key="w.predict.fasta").set_value(
        ("query.fa.gz", _gz(fasta_bytes(tiny_table)), "application/gzip")
    )
    app.file_uploader(key="w.predict.genes").set_value(("genes.txt", genes, "text/plain"))
    app.run()
    app.button(key="w.predict.run").click().run()
    assert not app.error and not app.exception
    assert any("1 listed genes have no sequence" in t for t in texts(app.warning))
    table = app.dataframe[0].value
    assert sorted(table["gene_id"]) == sorted(tiny_table["gene_id"].head(5))


def _gz(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data)


def test_bad_fasta_is_a_readable_error(app, tiny_model):
    goto(app, "predict")
    app.file_uploader(key="w.predict.fasta").set_value(("bad.fa", b">G1\nACGU-ACGT\n", "text/plain"))
    app.run()
    app.button(key="w.predict.run").click().run()
    errs = texts(app.error)
    assert len(errs) == 1 and "bad.fa, record 1 ('G1'" in errs[0] and "not DNA" in errs[0]
    assert not app.exception


def test_csv_matches_table(tiny_model, tiny_table, dirs):
    """The CSV offered for download is the displayed table."""
    from dashboard.page_predict import predict_table

    table = predict_table(str(tiny_model), fasta_bytes(tiny_table, 5), "q.fa")
    back = pd.read_csv(io.StringIO(table.to_csv(index=False)))
    assert list(back["gene_id"]) == list(table["gene_id"])
