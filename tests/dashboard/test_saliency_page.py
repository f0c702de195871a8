"""Saliency page (AppTest): gene choice, methods, ISM heat map, motif p-value, edits, deep links, downloads.

Nothing of the core is patched: attributions, ISM and the motif scan run for real on the tiny
model (100 bp). The JASPAR export is built once per module and copied into each test's
workspace (the page's own cache folder) so the tests do not rebuild it from pyjaspar each time.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard import state
from tests.dashboard.apptest_helpers import fasta_bytes, goto, texts

PAGE = "saliency"


@pytest.fixture(scope="module")
def jaspar_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from deepdife_core.motifs.modisco import jaspar_plants

    folder = tmp_path_factory.mktemp("motif_db")
    jaspar_plants(cache_dir=folder)
    return folder


@pytest.fixture(autouse=True)
def seeded_motif_db(dirs, jaspar_export: Path) -> None:
    shutil.copytree(jaspar_export, dirs["workspace"] / "motif_db")


def _spec(at) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _truth(model_dir: Path, seqs: list[str]) -> tuple[np.ndarray, np.ndarray]:
    from deepdife_core.data.encode import one_hot
    from deepdife_core.model.folder import load_model

    return load_model(model_dir).predict_strands(one_hot(seqs))


def _open(app, key_gene: str | None = None):
    if key_gene is not None:
        app.session_state[state.SALIENCY_GENE] = key_gene
    goto(app, PAGE)
    assert not app.error, texts(app.error)
    return app


# ----------------------------------------------------------------------------- empty states


def test_needs_a_model(app):
    goto(app, PAGE)
    assert any("No model yet" in t and "Train" in t for t in texts(app.warning))
    assert not app.get("plotly_chart")


def test_no_dataset_offers_a_fasta(app, tiny_model, tiny_table):
    goto(app, PAGE)
    assert any("No dataset yet" in t and "Data" in t for t in texts(app.info))
    app.file_uploader(key="w.saliency.fasta").set_value(("mine.fa", fasta_bytes(tiny_table, 4), "text/plain"))
    app.run()
    assert not app.error and not app.exception
    assert _metric(app, "Label") == "unknown"
    fwd, rev = _truth(tiny_model, [tiny_table["sequence"].iloc[0]])
    assert float(_metric(app, "P(responsive), both strands")) == pytest.approx((fwd[0] + rev[0]) / 2, abs=1e-3)


# ----------------------------------------------------------------------------- gene, probabilities, methods


def test_choose_a_gene_shows_its_probabilities(app, tiny_model, tiny_dataset, tiny_table):
    _open(app)
    genes = list(tiny_table["gene_id"])
    assert app.session_state[state.SALIENCY_GENE] == genes[0]
    pick = _gene_box(app)
    assert pick.options[:3] == [f"{g} · label {lab}" for g, lab in zip(genes[:3], tiny_table["label"][:3], strict=True)]
    pick.set_value(genes[7]).run()
    assert app.session_state[state.SALIENCY_GENE] == genes[7]
    fwd, rev = _truth(tiny_model, [tiny_table["sequence"].iloc[7]])
    assert float(_metric(app, "Forward strand")) == pytest.approx(fwd[0], abs=1e-3)
    assert float(_metric(app, "Reverse strand")) == pytest.approx(rev[0], abs=1e-3)
    assert float(_metric(app, "P(responsive), both strands")) == pytest.approx((fwd[0] + rev[0]) / 2, abs=1e-3)
    label = int(tiny_table["label"].iloc[7])
    assert _metric(app, "Label") == ("responsive (1)" if label == 1 else "not responsive (0)")
    assert genes[7] in " ".join(t.value for t in app.text)
    # the search box selects an exact ID (case and version suffix ignored)
    app.text_input(key="w.saliency.search").set_value(genes[12].lower() + ".1").run()
    assert app.session_state[state.SALIENCY_GENE] == genes[12]


def _gene_box(at):
    return at.selectbox(key="w.saliency.gene")


def _variant_box(at):
    return next(t for t in at.text_area if (t.key or "").startswith("w.saliency.variant."))


def test_switch_method_and_ism_heatmap(app, tiny_model, tiny_dataset):
    _open(app)
    spec = _spec(app)
    kinds = [t["type"] for t in spec["data"]]
    assert "heatmap" in kinds  # the ISM heat map is on by default
    heat = next(t for t in spec["data"] if t["type"] == "heatmap")
    assert heat["y"] == ["A", "C", "G", "T"]
    assert any("DeepSHAP" in c and "additivity error" in c for c in texts(app.caption))
    app.radio(key="w.saliency.method").set_value("ISM").run()
    assert not app.error and not app.exception
    assert not any("additivity" in c for c in texts(app.caption))
    assert any(c.startswith("ISM") for c in texts(app.caption))
    app.radio(key="w.saliency.method").set_value("Gradient × input").run()
    assert any(c.startswith("Gradient × input") for c in texts(app.caption))
    # bars instead of letters
    app.radio(key="w.saliency.view").set_value("Bars").run()
    assert "bar" in [t["type"] for t in _spec(app)["data"]]
    # the heat map can be hidden
    app.toggle(key="w.saliency.ism").set_value(False).run()
    assert "heatmap" not in [t["type"] for t in _spec(app)["data"]]


def test_backgrounds_and_the_disk_cache(app, tiny_model, tiny_dataset, tiny_table, dirs):
    _open(app)
    cached = list((dirs["workspace"] / "attributions").rglob("*.npz"))
    assert len(cached) == 2  # DeepSHAP + ISM of the gene shown, keyed by model, method and sequence
    app.radio(key="w.saliency.background").set_value("Training genes (random sample)").run()
    app.number_input(key="w.saliency.n_background").set_value(20).run()
    assert not app.error and not app.exception
    assert any("references: 20 random training genes of the model" in c for c in texts(app.caption))
    app.radio(key="w.saliency.background").set_value("Uploaded FASTA").run()
    assert any("upload a background FASTA" in e for e in texts(app.error))
    app.file_uploader(key="w.saliency.bg_fasta").set_value(("bg.fa", fasta_bytes(tiny_table, 8), "text/plain"))
    app.run()
    assert not app.error and not app.exception
    assert any("references: 8 sequences of bg.fa" in c for c in texts(app.caption))
    # one entry per reference set seen: 100 training genes, then 20, then the upload
    specs = {p.parent.parent.name for p in (dirs["workspace"] / "attributions").rglob("*.npz")}
    assert len(specs) == 5 and "deepshap-shuffle100-seed0" in specs and "ism-both" in specs


def test_genomic_axis_and_window(app, tiny_model, tiny_dataset, tiny_table):
    _open(app)
    coords = tiny_table["coords"].iloc[0]  # e.g. Chr3:8959749-8959849(-): 100 bp, the model's length
    chrom, rest = coords.split(":")
    start, end = (int(v) for v in rest.split("(")[0].split("-"))
    app.radio(key="w.saliency.axis").set_value("genomic").run()
    layout = _spec(app)["layout"]
    bottom = max((k for k in layout if k.startswith("xaxis")), key=lambda k: int(k[5:] or 1))
    assert layout[bottom]["title"]["text"].startswith(f"{chrom} position")
    first_tick, label = layout[bottom]["tickvals"][0], layout[bottom]["ticktext"][0]
    expect = end - first_tick if coords.endswith("(-)") else start + 1 + first_tick
    assert label == f"{expect:,}"
    app.radio(key="w.saliency.axis").set_value("tss").run()
    layout = _spec(app)["layout"]
    assert layout[bottom]["ticktext"][0] == str(layout[bottom]["tickvals"][0] - 100)
    slider = next(s for s in app.slider if (s.key or "").startswith("w.saliency.window."))
    slider.set_value((-80, -40)).run()  # the slider is in distances to the TSS too
    assert _spec(app)["layout"]["xaxis"]["range"] == [19.5, 59.5]


def test_one_coordinate_choice_governs_slider_hits_highlight_and_edits(app, tiny_model, tiny_dataset, tiny_table):
    row = tiny_table.iloc[0]  # the gene shown first: Chr3:8959749-8959849(-), 100 bp = the model's length
    assert row["coords"] == "Chr3:8959749-8959849(-)"
    end, seq = 8959849, row["sequence"]  # promoter position p is genome base end - p (1-based)
    app.session_state[state.SALIENCY_HIGHLIGHT] = (30, 42)
    _open(app)
    app.select_slider(key="w.saliency.pvalue").set_value(1e-3).run()

    def window():
        return next(s for s in app.slider if (s.key or "").startswith("w.saliency.window."))

    def position():
        return next(n for n in app.number_input if n.label == "Position")

    def caption(start: str) -> str:
        return next(c for c in texts(app.caption) if c.startswith(start))

    w = window()
    assert (w.label, w.min, w.max, w.value) == ("Window (promoter position, 0-based)", 0, 100, (15, 57))
    w.set_value((20, 60)).run()
    position().set_value(40).run()
    hits = app.dataframe[0].value
    assert len(hits) and {"start", "end", "strand"} <= set(hits.columns)
    assert caption("Highlighted:") == "Highlighted: positions 30-42 (shaded; 0-based, end excluded)."

    app.radio(key="w.saliency.axis").set_value("tss").run()
    assert not app.exception and not app.error, texts(app.error)
    w = window()
    assert (w.label, w.min, w.max, w.value) == ("Window (bp from the TSS)", -100, 0, (-80, -40))
    assert (position().value, position().min, position().max) == (-60, -100, -1)
    tss = app.dataframe[0].value
    assert "start" not in tss.columns and tss["start_to_tss"].tolist() == (hits["start"] - 100).tolist()
    assert tss["end_to_tss"].tolist() == (hits["end"] - 100).tolist()
    assert caption("Highlighted:") == "Highlighted: -70 to -58 bp from the TSS (shaded; bp from the TSS, end excluded)."
    assert _spec(app)["layout"]["xaxis"]["range"] == [19.5, 59.5]  # the same bases are drawn

    app.radio(key="w.saliency.axis").set_value("genomic").run()
    assert not app.exception and not app.error, texts(app.error)
    w = window()  # bases 20..59 of the promoter are genome bases end-59 .. end-20
    assert (w.label, w.min, w.max, w.value) == ("Window (Chr3, 1-based)", end - 99, end, (end - 59, end - 20))
    assert position().value == end - 40
    gen = app.dataframe[0].value
    assert gen["genomic_start"].tolist() == (end - hits["end"] + 1).tolist()
    assert gen["genomic_end"].tolist() == (end - hits["start"]).tolist()
    assert gen["genomic_strand"].tolist() == hits["strand"].map({"+": "-", "-": "+"}).tolist()
    assert set(gen["chrom"]) == {"Chr3"}
    assert caption("Highlighted:") == (
        f"Highlighted: Chr3:{end - 41:,}-{end - 30:,} (minus strand) (shaded; 1-based, both ends included)."
    )
    # an edit typed in genome coordinates changes that base of the promoter
    new = "A" if seq[45] != "A" else "C"
    position().set_value(end - 45)
    app.selectbox(key="w.saliency.edit_base").set_value(new)
    app.button(key="w.saliency.edit_go").click().run()
    assert not app.exception and not app.error, texts(app.error)
    assert any(f"1 base changed: {end - 45:,} {seq[45]}→{new}" in c for c in texts(app.caption))
    # the window slider moved in genome coordinates is the same window back in promoter positions
    window().set_value((end - 79, end - 10)).run()
    app.radio(key="w.saliency.axis").set_value("promoter").run()
    assert window().value == (10, 80) and position().value == 45
    assert any(f"1 base changed: 45 {seq[45]}→{new}" in c for c in texts(app.caption))


def test_pvalue_slider_filters_motif_hits(app, tiny_model, tiny_dataset):
    _open(app)

    def n_hits() -> int:
        label = next(e.label for e in app.expander if e.label.startswith("Known-motif hits"))
        return int(label.split(":")[1].split("with")[0])

    app.select_slider(key="w.saliency.pvalue").set_value(1e-3).run()
    loose = n_hits()
    names = [t.get("name") for t in _spec(app)["data"]]
    assert loose > 0 and "motif hits" in names
    app.select_slider(key="w.saliency.pvalue").set_value(1e-6).run()
    strict = n_hits()
    assert strict < loose
    hits = app.dataframe[0].value if strict else None
    if hits is not None:
        assert (hits["p_value"] <= 1e-6).all()
    app.toggle(key="w.saliency.motifs").set_value(False).run()
    assert "motif hits" not in [t.get("name") for t in _spec(app)["data"]]


# ----------------------------------------------------------------------------- edits


def test_edit_a_base_shows_the_new_probability(app, tiny_model, tiny_dataset, tiny_table):
    _open(app)
    ref = tiny_table["sequence"].iloc[0]
    new = "A" if ref[40] != "A" else "C"
    app.number_input(key="w.saliency.edit_pos").set_value(40)
    app.selectbox(key="w.saliency.edit_base").set_value(new)
    app.button(key="w.saliency.edit_go").click().run()
    assert not app.error and not app.exception
    variant = ref[:40] + new + ref[41:]
    fwd, rev = _truth(tiny_model, [variant])
    assert float(_metric(app, "Variant P(responsive)")) == pytest.approx((fwd[0] + rev[0]) / 2, abs=1e-3)
    assert any(f"1 base changed: 40 {ref[40]}→{new}" in c for c in texts(app.caption))
    # the difference track is drawn
    y_titles = [ax.get("title", {}).get("text") for k, ax in _spec(app)["layout"].items() if k.startswith("yaxis")]
    assert "Δ contribution" in y_titles
    # a range, then back to the reference
    app.number_input(key="w.saliency.range_start").set_value(10)
    app.number_input(key="w.saliency.range_end").set_value(20)
    app.text_input(key="w.saliency.range_text").set_value("N")
    app.button(key="w.saliency.range_go").click().run()
    assert any("11 bases changed" in c for c in texts(app.caption))
    app.button(key="w.saliency.reset").click().run()
    assert not any(m.label == "Variant P(responsive)" for m in app.metric)


def test_bad_variant_is_a_readable_error(app, tiny_model, tiny_dataset, tiny_table):
    _open(app)
    ref = tiny_table["sequence"].iloc[0]
    _variant_box(app).set_value(ref[:50] + "X" + ref[51:]).run()
    errs = texts(app.error)
    assert len(errs) == 1 and "variant sequence: 1 characters are not DNA (e.g. 'X')" in errs[0]
    _variant_box(app).set_value(ref[:90]).run()
    assert any("variant sequence: 90 bp, but the model reads 100 bp" in e for e in texts(app.error))
    # the page still works: the reference is shown
    assert app.get("plotly_chart") and not app.exception
    # a pasted FASTA record with a header and line breaks is accepted
    _variant_box(app).set_value(">my variant\n" + ref[:50] + "\n" + "g" + ref[51:]).run()
    assert not app.error
    assert any(m.label == "Variant P(responsive)" for m in app.metric) == (ref[50] != "G")


# ----------------------------------------------------------------------------- deep links and lists


def test_deep_link_query_params(app, tiny_model, tiny_dataset, tiny_table):
    gene = tiny_table["gene_id"].iloc[9]
    app.query_params["model"] = "tiny-model"
    app.query_params["gene"] = gene
    app.query_params["hl"] = "30-42"
    goto(app, PAGE)
    assert app.session_state[state.SALIENCY_GENE] == gene
    assert app.session_state[state.SALIENCY_HIGHLIGHT] == (30, 42)
    # the highlight is applied once and removed from the URL; the choices stay there (a reload keeps them)
    assert "hl" not in app.query_params
    assert app.query_params["gene"] == gene and app.query_params["model"] == "tiny-model"
    assert any("Highlighted: positions 30-42" in c for c in texts(app.caption))
    # the view zooms to the highlight and shades it on every row
    spec = _spec(app)
    assert spec["layout"]["xaxis"]["range"] == [14.5, 56.5]  # 15 bp either side
    rects = [s for s in spec["layout"]["shapes"] if s["type"] == "rect"]
    assert rects and all(r["x0"] == 29.5 and r["x1"] == 41.5 for r in rects)
    assert any(c == f"saliency?model=tiny-model&gene={gene}&hl=30-42&dataset=tiny" for c in (x.value for x in app.code))
    # the user picks another gene: the highlight goes
    pick = _gene_box(app)
    pick.set_value(tiny_table["gene_id"].iloc[3]).run()
    assert app.session_state[state.SALIENCY_HIGHLIGHT] is None


def _open_with_edit(app, gene: str, edit: str) -> None:
    app.query_params["model"] = "tiny-model"
    app.query_params["gene"] = gene
    app.query_params["hl"] = edit.split(":")[0]
    app.query_params["edit"] = edit
    goto(app, PAGE)


def test_a_variant_link_applies_the_variant_once(app, tiny_model, tiny_dataset, tiny_table):
    """The Variants page's link: ``edit=START-END:REF>ALT`` is applied to the gene (edit box, metric, diff)."""
    gene, ref = tiny_table["gene_id"].iloc[9], tiny_table["sequence"].iloc[9]
    alt = "A" if ref[30] != "A" else "C"
    _open_with_edit(app, gene, f"30-31:{ref[30]}>{alt}")
    assert not app.exception and not app.error, texts(app.error)
    assert _variant_box(app).value == ref[:30] + alt + ref[31:]
    assert any(m.label == "Variant P(responsive)" for m in app.metric)
    assert "edit" not in app.query_params and "hl" not in app.query_params
    # applied once: the user can reset it, and a rerun does not apply it again
    app.button(key="w.saliency.reset").click().run()
    assert _variant_box(app).value == ref


def test_a_deletion_link_is_fitted_to_the_model_length(app, tiny_model, tiny_dataset, tiny_table):
    gene, ref = tiny_table["gene_id"].iloc[9], tiny_table["sequence"].iloc[9]
    _open_with_edit(app, gene, f"30-33:{ref[30:33]}>{ref[30]}")
    assert not app.exception and not app.error, texts(app.error)
    # two bases fewer: the tiny model's sequences are N-padded on the left (5') end, as the scoring fits them
    assert _variant_box(app).value == "NN" + ref[:31] + ref[33:]


def test_a_variant_link_for_another_promoter_is_refused(app, tiny_model, tiny_dataset, tiny_table):
    gene, ref = tiny_table["gene_id"].iloc[9], tiny_table["sequence"].iloc[9]
    wrong = "C" if ref[30] != "C" else "G"
    _open_with_edit(app, gene, f"30-31:{wrong}>T")
    errors = " ".join(texts(app.error))
    assert f"this promoter has {ref[30]} there, not {wrong}" in errors and "was not applied" in errors
    assert _variant_box(app).value == ref and not app.exception
    app.query_params["edit"] = "30-x"
    app.run()
    assert any("Ignoring the link's variant" in w for w in texts(app.warning))


def test_a_variant_run_link_shows_the_runs_reference_promoter(app, dirs, tiny_model, tiny_dataset, tiny_table):
    """``variants=RUN``: the genes come from the run's reference promoters (not the active dataset)."""
    ref = tiny_table["sequence"].iloc[4]
    run = dirs["workspace"] / "variants" / "vr1"
    run.mkdir(parents=True)
    (run / "promoters.fa").write_text(f">VG1::Chr1:100-{100 + len(ref)}(+)\n{ref}\n")
    alt = "A" if ref[40] != "A" else "C"
    app.query_params["variants"] = "vr1"
    _open_with_edit(app, "VG1", f"40-41:{ref[40]}>{alt}")
    assert not app.exception and not app.error, texts(app.error)
    assert app.session_state[state.SALIENCY_GENE] == "VG1"
    assert any("Genes from variant run vr1" in c for c in texts(app.caption))
    assert _variant_box(app).value == ref[:40] + alt + ref[41:]
    assert app.session_state[state.SALIENCY_HIGHLIGHT] == (40, 41)
    # back to the active dataset
    app.button(key="w.saliency.leave_variant_run").click().run()
    assert not any("Genes from variant run" in c for c in texts(app.caption))
    assert app.session_state[state.SALIENCY_GENE] in set(tiny_table["gene_id"])


def test_a_link_to_a_missing_variant_run_falls_back_to_the_dataset(app, tiny_model, tiny_dataset, tiny_table):
    gene = tiny_table["gene_id"].iloc[2]
    app.query_params["variants"] = "../etc"
    app.query_params["model"] = "tiny-model"
    app.query_params["gene"] = gene
    goto(app, PAGE)
    assert any("has no reference promoters here" in w for w in texts(app.warning))
    assert app.session_state[state.SALIENCY_GENE] == gene and not app.exception


def test_bad_deep_links_are_warnings(app, tiny_model, tiny_dataset, tiny_table):
    app.query_params["model"] = "no-such-model"
    app.query_params["gene"] = "NOT_A_GENE"
    app.query_params["hl"] = "50-x"
    goto(app, PAGE)
    warnings = " ".join(texts(app.warning))
    assert "no-such-model is not in the registry" in warnings
    assert "Ignoring the link's highlight" in warnings
    assert "NOT_A_GENE is not in dataset tiny" in warnings
    assert app.session_state[state.SALIENCY_GENE] == tiny_table["gene_id"].iloc[0]
    assert app.get("plotly_chart") and not app.exception


def test_session_keys_from_another_page(app, tiny_model, tiny_dataset, tiny_table):
    """The Motifs page sets the gene and a seqlet range in the session, then switches here."""
    gene = tiny_table["gene_id"].iloc[5]
    app.session_state[state.SALIENCY_GENE] = gene
    app.session_state[state.SALIENCY_HIGHLIGHT] = (60, 70)
    goto(app, PAGE)
    assert gene in " ".join(t.value for t in app.text)
    assert any("Highlighted: positions 60-70" in c for c in texts(app.caption))
    app.button(key="w.saliency.clear_hl").click().run()
    assert app.session_state[state.SALIENCY_HIGHLIGHT] is None
    assert not [s for s in _spec(app)["layout"].get("shapes", []) if s["type"] == "rect"]


def test_step_through_a_gene_list(app, tiny_model, tiny_dataset, tiny_table):
    _open(app)
    genes = list(tiny_table["gene_id"].iloc[[4, 2, 8]])
    app.text_area(key="w.saliency.list_text").set_value("\n".join([genes[0], "MISSING1", *genes[1:]]))
    app.button(key="w.saliency.list_use").click().run()
    assert any("1 listed genes are not here" in w for w in texts(app.warning))
    assert app.session_state[state.SALIENCY_GENE_LIST] == genes
    assert app.session_state[state.SALIENCY_GENE] == genes[0]
    assert app.button(key="w.saliency.prev").disabled
    app.button(key="w.saliency.next").click().run()
    assert app.session_state[state.SALIENCY_GENE] == genes[1]
    assert any("Gene 2 of 3 in the list" in c for c in texts(app.caption))
    app.button(key="w.saliency.next").click().run()
    assert app.button(key="w.saliency.next").disabled
    app.button(key="w.saliency.prev").click().run()
    assert app.session_state[state.SALIENCY_GENE] == genes[1]


# ----------------------------------------------------------------------------- downloads


def test_downloads_present_and_valid(app, tiny_model, tiny_dataset, tiny_table):
    _open(app)
    labels = [b.proto.label for b in app.get("download_button")]
    assert labels == ["Figure (SVG)", "Figure (PNG)", "Per-base scores (CSV)", "Attributions (npz)"]
    # the same builders the buttons call
    from dashboard.page_saliency import (
        explain_sequence,
        export_figure,
        figure_bytes,
        npz_bytes,
        per_base_table,
    )
    from deepdife_core.interpret.explain import ExplainConfig
    from deepdife_core.model.folder import load_model

    pred = load_model(tiny_model)
    seq = tiny_table["sequence"].iloc[0]
    ref = explain_sequence(pred, seq, ExplainConfig(), with_ism=True)
    fwd, rev = ref.attr.contrib_fwd[0], ref.attr.contrib_rev[0]
    svg = figure_bytes(lambda: export_figure(fwd, rev, window=(10, 90), title="G1 $x$", sites=[(20, 30)]), "svg")
    assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg[:2000]
    png = figure_bytes(lambda: export_figure(fwd, rev, window=(0, 100), title="G1"), "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    table = per_base_table(seq, ref)
    assert len(table) == 100 and table["base"].str.cat() == seq
    np.testing.assert_allclose(table["contrib"], ref.attr.contrib[0].sum(axis=1), rtol=1e-6)
    assert {"ism_dprob_A", "ism_dlogit_T", "contrib_forward", "contrib_reverse"} <= set(table.columns)
    with np.load(io.BytesIO(npz_bytes(ref.attr, "G1"))) as npz:
        assert list(npz["gene_id"]) == ["G1"]
        assert npz["contrib"].shape == (1, 100, 4) and npz["hypothetical"].shape == (1, 100, 4)
        assert npz["probability"].shape == (1,)


def _record_download_names(monkeypatch) -> dict[str, str]:
    """Label -> file name of every download button drawn from now on.

    The page's data are deferred callables, whose file name AppTest (no Runtime) does not keep: the
    real ``download_button`` is wrapped to see the ``file_name`` it is given (and still draws the button).
    """
    from streamlit.delta_generator import DeltaGenerator

    names: dict[str, str] = {}
    real = DeltaGenerator.download_button

    def download_button(self, label, data, file_name=None, *args, **kwargs):
        names[label] = file_name
        return real(self, label, data, file_name, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", download_button)
    return names


def test_figure_downloads_follow_the_coordinate_choice(app, tiny_model, tiny_dataset, tiny_table, monkeypatch):
    row = tiny_table.iloc[0]
    assert row["coords"] == "Chr3:8959749-8959849(-)"  # promoter position p is genome base 8959849 - p
    stem = row["gene_id"]
    names = _record_download_names(monkeypatch)
    _open(app)
    next(s for s in app.slider if (s.key or "").startswith("w.saliency.window.")).set_value((20, 60)).run()
    assert [b.proto.label for b in app.get("download_button")] == list(names)  # the buttons drawn
    assert names["Figure (SVG)"] == f"{stem}-deepshap-20-60.svg"  # promoter positions, as before
    assert names["Figure (PNG)"] == f"{stem}-deepshap-20-60.png"
    assert names["Per-base scores (CSV)"] == f"{stem}-deepshap.csv"
    app.radio(key="w.saliency.axis").set_value("tss").run()
    assert not app.exception and not app.error, texts(app.error)
    assert names["Figure (SVG)"] == f"{stem}-deepshap-tss-80_-40.svg"
    assert names["Figure (PNG)"] == f"{stem}-deepshap-tss-80_-40.png"
    app.radio(key="w.saliency.axis").set_value("genomic").run()
    assert not app.exception and not app.error, texts(app.error)
    # bases 20..59 are genome bases 8959790..8959829 (both included)
    assert names["Figure (SVG)"] == f"{stem}-deepshap-Chr3_8959790-8959829.svg"
    assert names["Figure (PNG)"] == f"{stem}-deepshap-Chr3_8959790-8959829.png"
    assert names["Attributions (npz)"] == f"{stem}-deepshap.npz"


def test_exported_figure_axis_follows_the_coordinate_system():
    from dashboard.coordinates import CoordinateSystem, parse_coords
    from dashboard.page_saliency import export_figure

    rng = np.random.default_rng(0)
    fwd, rev = rng.normal(size=(100, 4)), rng.normal(size=(100, 4))
    minus = CoordinateSystem.make("genomic", 100, coords=parse_coords("Chr3:8959749-8959849(-)"))
    fig = export_figure(fwd, rev, window=(20, 60), title="G1", system=minus)
    ax = fig.axes[0]
    ticks = [int(t) for t in ax.get_xticks()]
    assert ticks and [t.get_text() for t in ax.get_xticklabels()] == [f"{8959849 - t:,}" for t in ticks]
    assert fig.axes[-1].get_xlabel() == minus.title
    tss = CoordinateSystem.make("tss", 100)
    fig = export_figure(fwd, rev, window=(20, 60), title="G1", system=tss)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == [
        str(int(t) - 100) for t in fig.axes[0].get_xticks()
    ]
    fig = export_figure(fwd, rev, window=(20, 60), title="G1")  # no system: promoter positions, no axis label
    assert fig.axes[-1].get_xlabel() == ""


def test_profile_lines_of_each_script_run(app, tiny_model, tiny_dataset, tiny_table, tmp_path, monkeypatch):
    from dashboard.page_saliency import PROFILE_ENV

    log = tmp_path / "profile.jsonl"
    monkeypatch.setenv(PROFILE_ENV, str(log))
    _open(app)
    app.text_input(key="w.saliency.search").set_value(tiny_table["gene_id"].iloc[1]).run()  # a gene switch
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    runs = {}
    for line in lines:
        runs.setdefault(line["run"], {})[line["part"]] = line
    last = list(runs.values())[-1]
    assert {"script", "attributions", "motifs", "figure", "serialise"} <= set(last)
    assert last["script"]["gene"] == tiny_table["gene_id"].iloc[1]
    assert last["serialise"]["bytes"] == len(app.get("plotly_chart")[0].proto.spec)  # the JSON sent
    parts = sum(last[p]["seconds"] for p in ("attributions", "motifs", "figure", "serialise"))
    assert 0 < parts <= last["script"]["seconds"] <= last["script"]["t_end"] - last["script"]["t_start"] + 1e-6


def test_memo_keeps_the_latest_values_and_figure_keys_follow_every_input():
    from dashboard.page_saliency import Memo, _figure_key

    memo, made = Memo(2), []

    def make(v):
        return lambda: made.append(v) or v

    assert [memo.get(k, make(k)) for k in ("a", "b", "a", "c", "a", "b")] == ["a", "b", "a", "c", "a", "b"]
    assert made == ["a", "b", "c", "b"]  # "a" was used after "b", so "c" dropped "b"
    a = np.zeros((10, 4))
    b = a.copy()
    b[3, 1] = 1e-9
    hits = pd.DataFrame({"start": [1], "end": [5]})
    base = _figure_key(a, "ACGT", None, (2, 4), hits)
    assert base == _figure_key(a.copy(), "ACGT", None, (2, 4), hits.copy())
    assert len({base, _figure_key(b, "ACGT", None, (2, 4), hits), _figure_key(a, "ACGA", None, (2, 4), hits)}) == 3
    assert base != _figure_key(a, "ACGT", None, (2, 5), hits)
    assert base != _figure_key(a, "ACGT", None, (2, 4), hits.assign(end=[6]))
    assert base != _figure_key(a, "ACGT", np.zeros((10, 4)), (2, 4), hits)


# ----------------------------------------------------------------------------- ensembles and deletions


def test_cv_ensemble_model(app, tiny_model_dir, dirs, tiny_dataset, tiny_table):
    """A fold ensemble (two members with different weights) is explained as the mean of its members."""
    import keras

    target = dirs["models"] / "cv-model"
    shutil.copytree(tiny_model_dir, target)
    for k in (0, 1):
        (target / "folds" / str(k)).mkdir(parents=True)
        model = keras.saving.load_model(tiny_model_dir / "model.keras", compile=False)
        if k == 1:
            model.set_weights([w * 1.3 for w in model.get_weights()])
        model.save(target / "folds" / str(k) / "model.keras")
    (target / "model.keras").unlink()
    _open(app)
    assert any("ensemble of 2 fold models" in c for c in texts(app.caption))
    assert any("mean of 2 fold models" in c for c in texts(app.caption))
    fwd, rev = _truth(target, [tiny_table["sequence"].iloc[0]])
    assert float(_metric(app, "P(responsive), both strands")) == pytest.approx((fwd[0] + rev[0]) / 2, abs=1e-3)


def test_deleted_model_or_dataset_while_shown(app, tiny_model, tiny_dataset, dirs):
    _open(app)
    shutil.rmtree(dirs["workspace"] / "datasets" / tiny_dataset)
    app.run()
    assert not app.exception
    assert any("No dataset yet" in t for t in texts(app.info))
    shutil.rmtree(tiny_model)
    app.run()
    assert not app.exception
    assert any("No model yet" in t for t in texts(app.warning))


# ----------------------------------------------------------------------------- pure helpers


def test_genomic_positions_follow_strand_and_fitting():
    from dashboard.saliency_widgets import genomic_positions, parse_coords

    plus, minus = parse_coords("Chr1:1000-1010(+)"), parse_coords("Chr2:500-510(-)")
    assert (plus.chrom, plus.start, plus.end, plus.strand, plus.length) == ("Chr1", 1000, 1010, "+", 10)
    assert parse_coords("not coords") is None and parse_coords(None) is None
    assert parse_coords("Chr1:10-5(+)") is None
    # same length: 1-based positions, reversed on the minus strand (5' -> 3' of the promoter)
    assert list(genomic_positions(plus, 10)) == list(range(1001, 1011))
    assert list(genomic_positions(minus, 10)) == list(range(510, 500, -1))
    # a longer record trimmed on the left keeps its 3' end; a shorter one is N-padded on the left
    assert list(genomic_positions(plus, 4)) == [1007, 1008, 1009, 1010]
    assert list(genomic_positions(minus, 4)) == [504, 503, 502, 501]
    assert list(genomic_positions(plus, 12)) == [-1, -1, *range(1001, 1011)]
    assert list(genomic_positions(plus, 12, pad_side="right")) == [*range(1001, 1011), -1, -1]


def test_letter_stacks_and_motif_lanes():
    from dashboard.saliency_widgets import assign_lanes, letter_traces, stack_track

    a = np.array([[0.5, -0.2, 0.1, -0.4], [0.0, 0.0, 0.0, 0.0]])
    floor, ceil = stack_track(a)
    # positives up from 0, largest first; negatives down from 0, largest first
    np.testing.assert_allclose(floor[0], [0.0, -0.6, 0.5, -0.4])
    np.testing.assert_allclose(ceil[0], [0.5, -0.4, 0.6, 0.0])
    np.testing.assert_allclose(ceil - floor, np.abs(a))
    traces = letter_traces(a, start=10)
    assert [t.name for t in traces] == ["A", "C", "G", "T"]
    xs = np.asarray(traces[0].x, dtype=float)
    assert np.nanmin(xs) >= 9.5 and np.nanmax(xs) <= 10.5  # the A of position 10 stays in its column
    ys = np.asarray(traces[0].y, dtype=float)
    assert np.nanmin(ys) == pytest.approx(0.0, abs=1e-6) and np.nanmax(ys) == pytest.approx(0.5, abs=1e-6)
    starts, ends = np.array([0, 5, 8, 20, 21]), np.array([10, 12, 15, 30, 25])
    lanes = assign_lanes(starts, ends)
    for i in range(5):
        for j in range(i + 1, 5):
            if lanes[i] == lanes[j]:
                assert ends[i] < starts[j] or ends[j] < starts[i]
    assert lanes.max() == 2


def test_edit_helpers_validate():
    from dashboard.page_saliency import apply_edit, check_variant, deep_link, parse_highlight
    from deepdife_core.errors import DeepDifEInputError

    assert apply_edit("ACGTACGT", 2, 3, "t") == "ACTTACGT"
    assert apply_edit("ACGTACGT", 2, 6, "N") == "ACNNNNGT"
    assert apply_edit("ACGTACGT", 0, 2, "GG") == "GGGTACGT"
    with pytest.raises(DeepDifEInputError, match="replacement of 3 bp for a 2-bp range"):
        apply_edit("ACGTACGT", 0, 2, "GGG")
    with pytest.raises(DeepDifEInputError, match="is not DNA"):
        apply_edit("ACGTACGT", 0, 1, "Z")
    with pytest.raises(DeepDifEInputError, match="range 5-3"):
        apply_edit("ACGTACGT", 5, 3, "A")
    assert check_variant(">v1\nacgt\n acgt 12\n", 8) == "ACGTACGT"
    with pytest.raises(DeepDifEInputError, match="7 bp, but the model reads 8 bp"):
        check_variant("ACGTACG", 8)
    assert parse_highlight(" 10-20 ") == (10, 20)
    for bad in ("20-10", "a-b", "5-500"):
        with pytest.raises(DeepDifEInputError):
            parse_highlight(bad, 100)
    assert deep_link("m 1", "G&1", (3, 9)) == "saliency?model=m+1&gene=G%261&hl=3-9"
