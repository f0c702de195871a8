"""Security of the dashboard (issue 8): names and uploaded file names cannot escape the
workspace, gene IDs and FASTA headers reach the browser only as text.

The core side (check_name, the HTML report, Keras safe mode, no unpickling, server
settings) is in ``tests/core/test_security.py``.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as hst

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.model import folder as artifacts
from tests.dashboard.apptest_helpers import goto, texts

BAD_NAMES = ["../escape", "..", "/tmp/escape", "a/b", ".hidden", "x\\..\\y", "", "x" * 101]
XSS = ["<script>alert(1)</script>", "<img/src=x/onerror=alert(2)>", "<svg/onload=alert(3)>"]
SAVE = "FormSubmitter:w.data.save_form-Save dataset"
RENAME = "FormSubmitter:w.models.rename_form-Rename"
ZIP_SUBMIT = "FormSubmitter:w.models.import_zip_form-Import zip"


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def _html_leaks(at, payloads: list[str]) -> list[str]:
    """Bodies of elements that the browser would render as HTML (markdown with allow_html, st.html) holding a payload."""
    leaks = []
    for node in _walk(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        fields = {f.name for f, _ in proto.ListFields()}
        body = getattr(proto, "body", "") if "body" in fields else ""
        html_capable = getattr(node, "type", "") == "html" or ("allow_html" in fields and proto.allow_html)
        if html_capable and any(p in str(body) for p in payloads):
            leaks.append(str(body)[:200])
    return leaks


def _shown_in_a_table(at, payload: str) -> bool:
    return any(payload in df.value.astype(str).to_numpy().ravel().tolist() for df in at.dataframe)


# ----------------------------------------------------------------------------- the Streamlit-free helpers


@pytest.mark.parametrize("bad", BAD_NAMES)
def test_every_name_taking_helper_refuses_escapes(dirs, tiny_table, bad):
    from dashboard import datasets, jobs
    from dashboard.model_io import import_legacy_files, import_model_zip
    from dashboard.paths import datasets_dir, jobs_dir, models_dir
    from deepdife_core.config import ModelConfig, TrainConfig

    base = dirs["workspace"].parent
    datasets_dir(), jobs_dir(), models_dir()
    before = _files(base)
    calls = [
        lambda: datasets.dataset_folder(bad),
        lambda: datasets.save_dataset(tiny_table, bad, {}),
        lambda: jobs.job_folder(bad),
        lambda: jobs.read(bad),
        lambda: jobs.stop(bad),
        lambda: jobs.start_training("tiny", "data.csv", bad, ModelConfig(), TrainConfig()),
        lambda: import_model_zip(b"PK\x05\x06" + b"\x00" * 18, bad, models_dir(), filename="x.zip"),
        lambda: import_legacy_files(b"{}", b"", bad, models_dir()),
    ]
    for call in calls:
        with pytest.raises(DeepDifEInputError, match="is not allowed"):
            call()
    assert _files(base) == before, "something was written"
    assert jobs.list_train_jobs() == []


# ----------------------------------------------------------------------------- pages


def _labelled_fasta(table, ids: list[str]) -> bytes:
    rows = table.head(len(table)).copy()
    rows.loc[rows.index[: len(ids)], "gene_id"] = ids
    return "".join(
        f">{g}_{lab}\n{s}\n" for g, lab, s in zip(rows["gene_id"], rows["label"], rows["sequence"], strict=True)
    ).encode()


def test_data_page_shows_markup_ids_as_text_and_refuses_escaping_names(app, dirs, tiny_table):
    base = dirs["workspace"].parent
    app.number_input(key="w.data.cfg.length").set_value(100)
    app.file_uploader(key="w.data.fasta_labelled").set_value(
        ("../../escape.fa", _labelled_fasta(tiny_table, XSS), "text/plain")
    )
    app.run()
    app.button(key="w.data.build_fasta").click().run()
    assert not app.error and not app.exception
    assert all(_shown_in_a_table(app, x) for x in XSS[:1])  # the preview shows the ID, as a table cell
    assert _html_leaks(app, XSS) == []
    before = _files(base)
    for bad in BAD_NAMES[:6]:
        app.text_input(key="w.data.save_name").set_value(bad)
        app.button(key=SAVE).click().run()
        assert any("is not allowed" in t for t in texts(app.error)), bad
        assert not app.exception
    assert _files(base) == before
    app.text_input(key="w.data.save_name").set_value("xss-set")
    app.button(key=SAVE).click().run()
    assert any("Saved dataset 'xss-set'" in t for t in texts(app.success))
    assert sorted(p.name for p in (dirs["workspace"] / "datasets").iterdir()) == ["xss-set"]
    assert not (base / "escape.fa").exists() and not (base.parent / "escape.fa").exists()
    assert _html_leaks(app, XSS) == []


def test_a_bad_fasta_header_in_an_error_message_stays_text(app):
    app.file_uploader(key="w.data.fasta_labelled").set_value(
        ("bad.fa", f">{XSS[0]}_1\nACGTXACGT\n>G2_0\nACGT\n".encode(), "text/plain")
    )
    app.run()
    app.button(key="w.data.build_fasta").click().run()
    errs = texts(app.error)
    assert len(errs) == 1 and XSS[0] in _unmd(errs[0])  # named (as text), so the user can find the record
    assert _html_leaks(app, XSS) == []


def test_missing_gene_ids_listed_as_text(app, tiny_table):
    app.radio(key="w.data.source").set_value("lists").run()
    app.number_input(key="w.data.cfg.length").set_value(100)
    pos = "\n".join([*tiny_table["gene_id"][tiny_table["label"] == 1].head(10), XSS[0]]).encode()
    neg = "\n".join([*tiny_table["gene_id"][tiny_table["label"] == 0].head(10), XSS[2]]).encode()
    fasta = "".join(f">{g}\n{s}\n" for g, s in zip(tiny_table["gene_id"], tiny_table["sequence"], strict=True))
    app.file_uploader(key="w.data.list_pos").set_value(("up.txt", pos, "text/plain"))
    app.file_uploader(key="w.data.list_neg").set_value(("flat.txt", neg, "text/plain"))
    app.file_uploader(key="w.data.list_fasta").set_value(("p.fa", fasta.encode(), "text/plain"))
    app.run()
    app.button(key="w.data.build_lists").click().run()
    assert not app.error and not app.exception
    report = app.session_state["data.preview"]["report"]
    assert set(report["missing_sequence"]) == {XSS[0], XSS[2]}
    assert _html_leaks(app, XSS) == []


def test_models_page_rename_and_zip_file_names_cannot_escape(app, dirs, tiny_model):
    from dashboard.model_io import zip_model_folder

    base = dirs["workspace"].parent
    goto(app, "models")
    before = _files(base)
    for bad in ["../escape", "/tmp/escape", "a/b", ".hidden"]:
        app.text_input(key="w.models.new_name").set_value(bad)
        app.button(key=RENAME).click().run()
        assert any("is not allowed" in t for t in texts(app.error)), bad
    assert _files(base) == before
    assert artifacts.list_models(dirs["models"])["name"].tolist() == ["tiny-model"]
    # an uploaded file name is only ever used as a default model name, and that name is checked
    data = zip_model_folder(tiny_model)
    app.file_uploader(key="w.models.zip").set_value(("../../escape.zip", data, "application/zip"))
    app.button(key=ZIP_SUBMIT).click().run()
    assert not app.exception
    assert sorted(artifacts.list_models(dirs["models"])["name"]) == ["escape", "tiny-model"]
    assert not (base / "escape").exists() and not (base.parent / "escape").exists()
    app.file_uploader(key="w.models.zip").set_value(("..zip", data, "application/zip"))
    app.button(key=ZIP_SUBMIT).click().run()
    assert any("is not allowed" in t for t in texts(app.error))
    assert sorted(p.name for p in dirs["models"].iterdir()) == ["escape", "tiny-model"]


def test_predict_page_shows_markup_headers_as_text(app, tiny_model, tiny_table):
    goto(app, "predict")
    seqs = tiny_table["sequence"].head(3).tolist()
    fasta = "".join(f">{x}::Chr1:1-100(+) {x}\n{s}\n" for x, s in zip(XSS, seqs, strict=True)).encode()
    app.file_uploader(key="w.predict.fasta").set_value(("xss.fa", fasta, "text/plain"))
    app.run()
    app.button(key="w.predict.run").click().run()
    assert not app.error and not app.exception
    assert all(_shown_in_a_table(app, x) for x in XSS)
    assert _html_leaks(app, XSS) == []


def test_the_leak_detector_sees_html_elements():
    """The oracle can fail: markdown with unsafe_allow_html and st.html holding a payload are found."""
    from streamlit.testing.v1 import AppTest

    def page():
        import streamlit as st

        st.markdown("<b>safe</b> <script>alert(1)</script>", unsafe_allow_html=True)
        st.html("<div><img/src=x/onerror=alert(2)></div>")
        st.markdown("<svg/onload=alert(3)>")  # plain markdown: Streamlit shows it as text

    at = AppTest.from_function(page)
    at.run()
    leaks = _html_leaks(at, XSS)
    assert len(leaks) == 2 and "script" in leaks[0] and "onerror" in leaks[1]


# ----------------------------------------------------------------------------- markdown injection (issue 19)

#: user text that Streamlit's markdown would render as an external image, a link, bold and italics
MD_PAYLOADS = [
    "![e](http://203.0.113.10/e.png)**BOLD**",
    "[click](http://203.0.113.10/x)_IT_",
    "<http://203.0.113.10/a>",
    "http://203.0.113.10/b.png",
    "www.203-0-113-10.example",
]
#: every other construct of Streamlit's markdown (GFM, math, colour directives, entities, block markup)
MD_SYNTAX = ["`c`", "# h", "> q", "- li", "1. li", "12) li", "~~s~~", "$x$", "| a | b |\n|---|---|", "a@b.org"]
MD_SYNTAX += [":red[x]", "[r]: http://x", "***", "    code", "&lt;", "\\", "\n", " ", "x_", "_x", "===", "<b>"]
_MARKER = "203"
_AUTOLINK = re.compile(r"(?i)(https?|ftp)://|www\.|[\w.+-]@[\w-]+\.\w")


def _render(body: str) -> str:
    """``body`` as the browser would see it (CommonMark + GFM tables and strike; GFM autolinks checked apart)."""
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(body)


def _markup_of(body: str) -> list[str]:
    """What rendering ``body`` would produce beyond plain paragraphs: tags, and text that GFM links."""
    rendered = _render(body)
    found = sorted(set(re.findall(r"<\s*([a-zA-Z0-9]+)", rendered)) - {"p", "br"})
    visible = html.unescape(re.sub(r"<[^>]+>", "", rendered))
    return found + [m.group(0) for m in _AUTOLINK.finditer(visible)]


def _markdown_leaks(at, marker: str = _MARKER) -> list[str]:
    """Bodies of the page's markdown elements (errors, warnings, captions, headers, labels) that hold ``marker``
    and would render as more than text."""
    leaks = []
    for node in _walk(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        for field in ("body", "label"):
            try:
                text = str(getattr(proto, field, "") or "")
            except Exception:  # a proto without the field
                continue
            if marker in text and _markup_of(text):
                leaks.append(f"{getattr(node, 'type', '?')}: {text[:160]} -> {_markup_of(text)}")
    return leaks


def _unmd(text: str) -> str:
    """The text a user reads in an escaped markdown body."""
    return re.sub(r"\\(.)", r"\1", text).replace("\u2060", "")


@settings(max_examples=1500, deadline=None, derandomize=True, database=None)
@given(
    hst.lists(
        hst.sampled_from([*MD_PAYLOADS, *XSS, *MD_SYNTAX])
        | hst.text(alphabet=hst.characters(min_codepoint=32, max_codepoint=126), max_size=6),
        max_size=8,
    ).map("".join)
)
@example("AT1G01010_1")
@example("__init__")
def test_md_shows_any_text_literally(text):
    """Whatever a user's text holds, ``widgets.md`` of it renders as that text: no tag, no link, no math."""
    from dashboard.widgets import md

    out = md(text)
    assert _markup_of(out) == [], (text, out)
    visible = html.unescape(re.sub(r"<[^>]+>", "", _render(out))).replace("\u2060", "")
    assert " ".join(visible.split()) == " ".join(text.split()), (text, out)
    assert not re.search(r"(?<!\\)\$", out.replace("\\\\", ""))  # math is escaped


def test_md_leaves_plain_names_alone():
    from dashboard.widgets import md

    for plain in ("AT1G01010_1", "gene_id", "tiny-model", "bad.fa, line 3: empty sequence", "p = 0.05"):
        assert md(plain) == plain


def test_data_page_error_with_a_markdown_header_stays_text(app):
    header = f"{MD_PAYLOADS[0]}_1"
    app.file_uploader(key="w.data.fasta_labelled").set_value(
        ("bad.fa", f">{header}\nACGTXACGT\n>G2_0\nACGT\n".encode(), "text/plain")
    )
    app.run()
    app.button(key="w.data.build_fasta").click().run()
    errs = texts(app.error)
    assert len(errs) == 1 and header.removesuffix("_1") in _unmd(errs[0])  # named, so the user can find it
    assert _markdown_leaks(app) == []


def test_data_page_error_with_a_markdown_file_name_stays_text(app, tiny_table):
    app.radio(key="w.data.source").set_value("table").run()
    table = tiny_table[["gene_id", "label"]].to_csv(index=False).encode()
    app.file_uploader(key="w.data.table").set_value((f"{MD_PAYLOADS[1]}.csv", table, "text/csv"))
    app.run()
    app.button(key="w.data.build_table").click().run()
    assert texts(app.error), "no error shown"
    assert _markdown_leaks(app) == []


def test_predict_page_missing_genes_warning_stays_text(app, tiny_model, tiny_table):
    goto(app, "predict")
    app.radio(key="w.predict.mode").set_value("A gene list + FASTA").run()
    fasta = "".join(f">{g}\n{s}\n" for g, s in zip(tiny_table["gene_id"], tiny_table["sequence"], strict=True))
    genes = "\n".join([tiny_table["gene_id"].iloc[0], *(p.replace(" ", "") for p in MD_PAYLOADS)]).encode()
    app.file_uploader(key="w.predict.fasta").set_value((f"{MD_PAYLOADS[0]}.fa", fasta.encode(), "text/plain"))
    app.file_uploader(key="w.predict.genes").set_value(("genes.txt", genes, "text/plain"))
    app.run()
    app.button(key="w.predict.run").click().run()
    assert not app.exception
    assert any("have no sequence" in w for w in texts(app.warning))
    assert _markdown_leaks(app) == []


def test_saliency_deep_link_values_stay_text(app, tiny_model, tiny_dataset):
    app.query_params["model"] = MD_PAYLOADS[0]
    app.query_params["hl"] = f"**X**{MD_PAYLOADS[0]}"
    goto(app, "saliency")
    warns = texts(app.warning)
    assert any("not in the registry" in w for w in warns) and any("highlight" in w for w in warns)
    assert _markdown_leaks(app) == []


def test_imported_model_provenance_stays_text(app, dirs, tiny_model_dir, tmp_path):
    import json
    import shutil

    from dashboard.model_io import zip_model_folder

    src = tmp_path / "evil-model"
    shutil.copytree(tiny_model_dir, src)
    prov = json.loads((src / "provenance.json").read_text())
    prov.update(source=MD_PAYLOADS[0], dataset=MD_PAYLOADS[1], created=MD_PAYLOADS[3], seed=MD_PAYLOADS[4])
    (src / "provenance.json").write_text(json.dumps(prov))
    metrics = json.loads((src / "metrics.json").read_text())
    if isinstance(metrics.get("baseline_kmer"), dict):
        metrics["baseline_kmer"]["evaluated_on"] = MD_PAYLOADS[2]
    if isinstance(metrics.get("learning"), dict):
        metrics["learning"]["message"] = MD_PAYLOADS[0]
    (src / "metrics.json").write_text(json.dumps(metrics))
    goto(app, "models")
    app.file_uploader(key="w.models.zip").set_value(("evil-model.zip", zip_model_folder(src), "application/zip"))
    app.button(key=ZIP_SUBMIT).click().run()
    assert not app.exception
    # the only error is the tiny untrained model's "not learning" verdict: the injected message, escaped
    assert [_unmd(e) for e in texts(app.error)] in ([], [MD_PAYLOADS[0]]), texts(app.error)
    app.selectbox(key="w.models.pick").set_value("evil-model").run()
    shown = " ".join(texts(app.caption))
    assert "203.0.113.10" in _unmd(shown)  # the provenance is shown (as text) on the page and in the sidebar
    assert _markdown_leaks(app) == []
