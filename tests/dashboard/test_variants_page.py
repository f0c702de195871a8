"""Variants page (AppTest, issue 15): pick a registered genome and a VCF, run the scoring as a job to the end,
see the effect table, the figure, the gene x sample matrix and the downloads; bad input is a message."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from deepdife_core.config import DatasetConfig, RunConfig
from deepdife_core.jobs import runner as core_jobs
from deepdife_core.model.folder import save_model_folder
from tests.core.variants.helpers import (
    EXPECTED,
    D,
    U,
    add_tiny_genome,
    oracle_cfg,
    oracle_model,
    save_oracle_model,
    vcf_text,
    write_vcf,
)
from tests.dashboard.apptest_helpers import goto, texts


@pytest.fixture
def variant_ws(dirs, tmp_path):
    """Genome ``tiny`` (3 genes, 1 chromosome) in the test's workspace, the ABRE oracle model, a tabix VCF."""
    add_tiny_genome(tmp_path, dirs["workspace"])
    save_oracle_model(dirs["models"] / "oracle")
    (tmp_path / "vcf").mkdir()
    return {"vcf": write_vcf(tmp_path / "vcf", vcf_text()), "tmp": tmp_path}


def _fill(app, vcf_path, name, *, per_sample=False):
    goto(app, "variants")
    app.number_input(key="w.variants.upstream").set_value(U).run()
    app.number_input(key="w.variants.downstream").set_value(D).run()
    app.selectbox(key="w.variants.db").set_value("none").run()
    app.radio(key="w.variants.where").set_value("server").run()
    app.text_input(key="w.variants.vcf_path").set_value(str(vcf_path)).run()
    app.text_input(key="w.variants.name").set_value(name).run()
    if per_sample:
        app.checkbox(key="w.variants.per_sample").check().run()


def _wait(dirs) -> dict:
    listed = core_jobs.list_jobs(dirs["workspace"] / "jobs", kind="variants")
    assert len(listed) == 1
    folder = dirs["workspace"] / "jobs" / listed[0]["id"]
    deadline = time.time() + 180
    while time.time() < deadline and core_jobs.read_job(folder)["state"] in ("queued", "running"):
        time.sleep(1)
    return core_jobs.read_job(folder)


def _frame(app, column: str) -> pd.DataFrame:
    """The first dataframe on the page with ``column``."""
    return next(d.value for d in app.dataframe if column in d.value.columns)


def test_needs_a_model_and_a_genome(app, dirs):
    goto(app, "variants")
    assert texts(app.title) == ["Variants"]
    assert any("needs a model" in w for w in texts(app.warning))
    save_model_folder(
        dirs["models"] / "oracle", models=[oracle_model()], config=RunConfig(model=oracle_cfg(), data=DatasetConfig())
    )
    app.run()
    assert any("No genome is registered" in i for i in texts(app.info))
    assert not app.exception


def test_a_run_goes_to_the_end_and_shows_table_figure_matrix_downloads(app, dirs, variant_ws):
    _fill(app, variant_ws["vcf"], "v1", per_sample=True)
    app.button(key="w.variants.start").click().run()
    assert not app.exception and not app.error, texts(app.error)
    job = _wait(dirs)
    assert job["state"] == "done", (dirs["workspace"] / "jobs" / job["id"] / "log.txt").read_text()
    events = core_jobs.read_events(dirs["workspace"] / "jobs" / job["id"])
    assert [e["done"] for e in events if e.get("event") == "scored"][-1] == 3
    app.run()
    assert not app.exception and not app.error, texts(app.error)
    assert any("finished: 7 variants scored" in s for s in texts(app.success))
    table = _frame(app, "saliency")
    assert len(table) == len(EXPECTED)
    assert list(table.columns[:6]) == ["gene_id", "chrom", "pos", "distance_to_tss", "ref", "alt"]
    assert {"p_ref", "p_alt", "delta_logit", "delta_probability", "n_samples", "saliency"} <= set(table.columns)
    # strongest |Δlogit| first: the ABRE-destroying G1 262 G>A and the ABRE-creating G2 1024 A>C
    top = {(r.gene_id, r.pos) for r in table.head(2).itertuples()}
    assert top == {("G1", 263), ("G2", 1025)}
    g1 = table[(table["gene_id"] == "G1") & (table["pos"] == 263)].iloc[0]
    assert g1["delta_logit"] < 0 and g1["saliency"].startswith("saliency?model=oracle&gene=G1&hl=")
    # the link applies the variant as the model input reads it (reverse-complemented on a minus-strand gene)
    row = pd.read_csv(dirs["workspace"] / "variants" / "v1" / "effects.csv").query("gene_id == 'G1' and pos == 263")
    (wpos, strand) = row[["window_pos", "strand"]].iloc[0]
    ref, alt = ("G", "A") if strand == "+" else ("C", "T")
    query = parse_qs(urlsplit(g1["saliency"]).query)
    assert query["hl"] == [f"{wpos}-{wpos + 1}"] and query["edit"] == [f"{wpos}-{wpos + 1}:{ref}>{alt}"]
    assert query["variants"] == ["v1"] and "dataset" not in query  # the run's own reference promoters
    assert len(app.get("plotly_chart")) == 1
    labels = [b.label for b in app.get("download_button")]
    assert labels == ["Effects shown (CSV)", "All effects (CSV)", "Gene × sample (CSV)"]
    matrix = _frame(app, "reference")
    assert list(matrix.columns) == ["gene_id", "reference", "S1", "S2", "S3"] and len(matrix) == 3
    out = dirs["workspace"] / "variants" / "v1"
    assert len(pd.read_csv(out / "effects.csv")) == 7 and (out / "effects.samples.csv").is_file()
    # the filter: |Δp| >= 0.2 keeps the two ABRE variants
    app.number_input(key="w.variants.min_dp.v1").set_value(0.2).run()
    assert len(_frame(app, "saliency")) == 2


def test_bad_inputs_are_messages(app, dirs, variant_ws):
    tmp = variant_ws["tmp"]
    goto(app, "variants")
    app.text_input(key="w.variants.name").set_value("bad").run()
    app.button(key="w.variants.start").click().run()
    assert any("give a VCF" in e for e in texts(app.error))
    app.file_uploader(key="w.variants.vcf").set_value(("calls.vcf", b"chrom pos ref alt\n<b>x</b>\n", "text/plain"))
    app.run()
    app.button(key="w.variants.start").click().run()
    assert any("calls.vcf is not a VCF" in e for e in texts(app.error)), texts(app.error)
    app.radio(key="w.variants.where").set_value("server").run()
    app.text_input(key="w.variants.vcf_path").set_value(str(tmp / "nope.vcf")).run()
    app.button(key="w.variants.start").click().run()
    assert any("no such file on the server" in e for e in texts(app.error))
    app.text_input(key="w.variants.name").set_value("bad name!").run()
    app.button(key="w.variants.start").click().run()
    assert app.error and not app.exception
    assert not (dirs["workspace"] / "jobs").exists() or not list((dirs["workspace"] / "jobs").iterdir())
    # chromosomes that are not the genome's: the job fails with the library's message, shown on the page
    (tmp / "chr").mkdir()
    plain = tmp / "chr" / "calls.vcf"
    plain.write_text(vcf_text(chrom="1"))
    _fill(app, plain, "badchrom")
    app.button(key="w.variants.start").click().run()
    # the page itself accepts the inputs; the job may already have failed by the time the rerun draws its panel
    assert all(e.startswith("Variant run badchrom") for e in texts(app.error)), texts(app.error)
    job = _wait(dirs)
    assert job["state"] == "failed" and job["error_kind"] == "input"
    app.run()
    errors = " ".join(texts(app.error))
    assert "none of the genome" in errors and "Variant run badchrom" in errors
    assert not app.exception


def _launch_after_stop(monkeypatch, tmp_path: Path) -> None:
    """Job processes start only once their stop file exists (the panel's Stop always comes first)."""
    gate = tmp_path / "python-after-stop"
    gate.write_text(
        f'#!/bin/sh\nwhile [ ! -e "$4/{core_jobs.STOP_FILE}" ]; do sleep 0.05; done\nexec "{sys.executable}" "$@"\n'
    )
    gate.chmod(0o755)
    real = core_jobs.launch
    monkeypatch.setattr(core_jobs, "launch", lambda folder, **kw: real(folder, python=str(gate)))


def test_an_uploaded_vcf_runs_and_the_panel_stop_ends_the_job_with_nothing_saved(
    app, dirs, variant_ws, monkeypatch, tmp_path
):
    _launch_after_stop(monkeypatch, tmp_path)
    _fill(app, variant_ws["vcf"], "stopped-run")
    app.radio(key="w.variants.where").set_value("upload").run()
    app.file_uploader(key="w.variants.vcf").set_value(("calls.vcf", vcf_text().encode(), "text/plain"))
    app.run()
    app.button(key="w.variants.start").click().run()
    assert not app.exception and not app.error, texts(app.error)
    (job,) = core_jobs.list_jobs(dirs["workspace"] / "jobs", kind="variants")
    uploads = job["args"]["uploads"]
    assert uploads and (dirs["workspace"] / "uploads").is_dir()
    # the job panel's Stop button (the job process starts after it: it stops before the first chunk)
    app.button(key=f"w.variants.stop.{job['id']}").click().run()
    job = _wait(dirs)
    assert job["state"] == "stopped", (dirs["workspace"] / "jobs" / job["id"] / "log.txt").read_text()
    app.run()
    assert any("was stopped; nothing was saved" in w for w in texts(app.warning))
    assert not (dirs["workspace"] / "variants" / "stopped-run").exists()
    assert not Path(uploads).exists()


def test_the_page_uses_the_one_job_panel():
    from dashboard import job_panel, page_variants

    assert isinstance(page_variants.VIEW, job_panel.JobView)
    text = Path(page_variants.__file__).read_text()
    assert "st.fragment" not in text and "STOP_FILE" not in text and "jobs.stop(" not in text


def test_a_file_that_is_not_a_vcf_is_refused_plain_or_gzipped():
    import gzip

    from dashboard.page_variants import check_vcf_bytes
    from deepdife_core.errors import DeepDifEInputError

    check_vcf_bytes(vcf_text().encode(), "ok.vcf")
    check_vcf_bytes(gzip.compress(vcf_text().encode()), "ok.vcf.gz")
    for data in (b"gene\tlabel\nG1\t1\n", gzip.compress(b">seq\nACGT\n"), b"\x1f\x8bnot gzip at all"):
        with pytest.raises(DeepDifEInputError, match=r"not a VCF|cannot be read"):
            check_vcf_bytes(data, "x")


def test_tss_all_scores_every_tss_record_and_links_each(app, dirs, tmp_path):
    """The TSS option "all": one record per TSS window, named GENE::Chr:start-end(strand); links carry it."""
    from deepdife_core.data.io import records_from_fasta
    from tests.core.variants.test_alt_tss import ID1, ID2, add_multi_genome

    add_multi_genome(tmp_path, dirs["workspace"])
    save_oracle_model(dirs["models"] / "oracle")
    (tmp_path / "vcf").mkdir()
    _fill(app, write_vcf(tmp_path / "vcf", vcf_text()), "alt")
    assert "every distinct TSS (one record each)" in app.selectbox(key="w.variants.tss").options
    app.selectbox(key="w.variants.tss").set_value("all").run()
    app.button(key="w.variants.start").click().run()
    assert not app.exception and not app.error, texts(app.error)
    job = _wait(dirs)
    assert job["state"] == "done", (dirs["workspace"] / "jobs" / job["id"] / "log.txt").read_text()
    app.run()
    table = _frame(app, "saliency")
    assert sorted(table["gene_id"]) == sorted([ID1] * 5 + [ID2])
    link = table[table["gene_id"] == ID2]["saliency"].iloc[0]
    query = parse_qs(urlsplit(link).query)
    assert query["gene"] == [ID2] and query["variants"] == ["alt"]
    # the Saliency page's genes for that link: the run's promoters.fa, read back under the same identities
    promoters, _ = records_from_fasta(dirs["workspace"] / "variants" / "alt" / "promoters.fa", length=80)
    assert promoters["gene_id"].tolist() == [ID1, ID2]
