"""Motifs page: start a discovery job, follow / stop it, browse runs, filter patterns, a pattern's detail, links.

A real motif run is built once per session with the core (``run_motif_pipeline``: the demo
model's gradient x input attributions of the first 400 demo genes, TF-MoDISco, TOMTOM against
JASPAR plants; ~20 s) and copied into each test's workspace.  One test runs a real discovery
job through the page on the tiny model and dataset; the gene-list test replaces the job
process launcher with a no-op (a second real job would only repeat that test's work).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import motif_runs
from deepdife_core.jobs import runner as core_jobs
from deepdife_core.motifs.modisco import jaspar_releases
from tests.dashboard.apptest_helpers import APP, ROOT, TIMEOUT, goto, texts

RUN = "demo-run"


@pytest.fixture(scope="session")
def demo_run_dir(tmp_path_factory) -> Path:
    """A complete motif run folder made by the core on demo data (built once per session)."""
    from deepdife_core.data.demo import make_demo_dataset
    from deepdife_core.data.encode import one_hot
    from deepdife_core.interpret.explain import ExplainConfig, explain
    from deepdife_core.model.folder import load_model
    from deepdife_core.motifs.modisco import jaspar_plants, run_motif_pipeline

    base = tmp_path_factory.mktemp("motif-src")
    df = make_demo_dataset().iloc[:400].reset_index(drop=True)
    X = one_hot(df["sequence"].tolist())
    attr = explain(load_model(ROOT / "models" / "demo"), X, ExplainConfig(method="gradxinput"))
    out = base / RUN
    run_motif_pipeline(
        attr.hypothetical,
        X,
        df["gene_id"].tolist(),
        out,
        labels=df["label"].to_numpy(),
        database=jaspar_plants(cache_dir=base / "db"),
        meta={"model": "demo", "dataset": "demo", "gene_set": "all", "n_genes": len(df), "attribution": "gradxinput"},
    )
    return out


@pytest.fixture
def with_run(dirs, demo_run_dir) -> Path:
    target = dirs["workspace"] / "motifs" / RUN
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(demo_run_dir, target)
    return target


@pytest.fixture
def motifs_page(app, with_run) -> AppTest:
    goto(app, "motifs")
    return app


def _table(at: AppTest, column: str) -> pd.DataFrame:
    """The first dataframe on the page that has ``column``."""
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with column {column!r}; have {[list(d.value.columns) for d in at.dataframe]}")


def _patterns(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "patterns.csv")


# ----------------------------------------------------------------------------- no model / no runs


def test_needs_model_and_dataset(app):
    goto(app, "motifs")
    info = " ".join(texts(app.info))
    assert "needs a dataset" in info and "Data page" in info and "Train page" in info
    assert "No motif runs yet: start a discovery above." in texts(app.caption)
    assert not app.error


# ----------------------------------------------------------------------------- browsing a run


def test_run_listed_and_reopened_from_cache(motifs_page, with_run, monkeypatch):
    at = motifs_page
    assert at.session_state["motifs.run"] == RUN
    box = next(s for s in at.selectbox if s.label.startswith("Motif runs"))
    assert box.value == RUN and "patterns" in box.format_func(RUN)
    pats = _patterns(with_run)
    table = _table(at, "forward CWM")
    assert list(table["pattern"]) == list(pats["pattern"])
    assert table["forward CWM"].str.startswith("data:image/png;base64,").all()
    assert table["reverse CWM"].str.startswith("data:image/png;base64,").all()
    assert {"match 1", "match 2", "match 3", "responsive genes", "non-responsive genes", "Fisher p"} <= set(table)
    top = pats.iloc[0]
    assert str(top["best_match_id"]) in table["match 1"].iloc[0] and "q=" in table["match 1"].iloc[0]
    assert table["responsive genes"].iloc[0] == top["n_genes_responsive"]
    # reopening reads nothing from disk again; a changed run is read again
    calls = []
    real = motif_runs.read_run
    monkeypatch.setattr(motif_runs, "read_run", lambda f: calls.append(f) or real(f))
    at.run()
    at.run()
    assert calls == [] and not at.exception
    later = time.time() + 5
    os.utime(with_run / "patterns.csv", (later, later))
    at.run()
    assert len(calls) == 1


def test_logos_drawn_lazily_for_shown_patterns_only(app, with_run):
    shutil.rmtree(with_run / "logos")
    pats = _patterns(with_run)
    app.session_state["motifs.run"] = RUN
    goto(app, "motifs")
    app.select_slider(key="w.motifs.max_q").set_value(1e-4).run()
    shown = (
        set(_table(app, "forward CWM")["pattern"]) if any("forward CWM" in d.value for d in app.dataframe) else set()
    )
    expected = shown | {app.session_state["motifs.pattern"]}
    logos = sorted(p.name for p in (with_run / "logos").glob("*.png"))
    assert len(logos) <= 2 * len(pats)
    assert {name.split(".cwm.")[0] for name in logos} == expected
    assert len(logos) == 2 * len(expected)


def test_filters_by_sign_and_qvalue(motifs_page, with_run):
    at = motifs_page
    pats = _patterns(with_run)
    at.radio(key="w.motifs.sign").set_value("positive").run()
    assert set(_table(at, "forward CWM")["sign"]) == {"positive"}
    at.radio(key="w.motifs.sign").set_value("negative").run()
    neg = pats[pats["sign"] == "neg"]
    if len(neg):
        assert list(_table(at, "forward CWM")["pattern"]) == list(neg["pattern"])
    else:
        assert "No pattern passes these filters." in texts(at.caption)
    at.radio(key="w.motifs.sign").set_value("both").run()
    at.select_slider(key="w.motifs.max_q").set_value(0.01).run()
    keep = pats[pats["best_match_qvalue"] <= 0.01]
    assert len(keep), "the demo's ABRE pattern matches JASPAR with q < 0.01"
    table = _table(at, "forward CWM")
    assert list(table["pattern"]) == list(keep["pattern"]) and (table["best q"] <= 0.01).all()
    assert not at.exception


def test_pattern_detail_and_links(motifs_page, with_run):
    at = motifs_page
    pats = _patterns(with_run)
    seq = pd.read_csv(with_run / "seqlets.csv", dtype={"gene_id": str})
    name = pats.iloc[0]["pattern"]
    at.selectbox(key=f"w.motifs.pattern_pick.{RUN}.{name}").set_value(name).run()
    assert at.session_state["motifs.pattern"] == name
    mine = seq[seq["pattern"] == name]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Seqlets"] == f"{len(mine):,}"
    assert metrics["Genes"] == f"{mine['gene_id'].nunique():,}"
    plus, minus = int((mine["strand"] == "+").sum()), int((mine["strand"] == "-").sum())
    assert metrics["Strands + / −"] == f"{plus} / {minus}"
    assert any("binomial p" in t for t in texts(at.caption))
    assert at.get("plotly_chart")  # the TSS-position histogram
    assert len(at.image) == 2  # forward and reverse CWM logos
    genes = _table(at, "positions_from_tss")
    assert set(genes["gene_id"]) == set(mine["gene_id"])
    # each gene's link opens the Saliency page on this model with its first seqlet's core highlighted
    row = genes.iloc[0]
    url = urlparse(row["saliency"])
    assert url.path == "saliency"
    q = parse_qs(url.query)
    first = mine[mine["gene_id"] == row["gene_id"]].sort_values("start").iloc[0]
    # the link names the run's dataset too: a new tab shows the gene from it, not from another dataset
    assert q == {
        "model": ["demo"],
        "gene": [row["gene_id"]],
        "hl": [f"{first['core_start']}-{first['core_end']}"],
        "dataset": ["demo"],
    }
    seqlets = _table(at, "pos_from_tss")
    assert len(seqlets) == len(mine) and seqlets["saliency"].str.startswith("saliency?model=demo&gene=").all()
    assert (seqlets["pos_from_tss"] == seqlets["start"] - 600).all()
    # the matches of this pattern
    matches = _table(at, "match_name")
    assert list(matches["rank"]) == [1, 2, 3]


def test_open_in_saliency_sets_the_keys_and_switches(motifs_page, with_run):
    at = motifs_page
    name = at.session_state["motifs.pattern"]
    seq = pd.read_csv(with_run / "seqlets.csv", dtype={"gene_id": str})
    mine = seq[seq["pattern"] == name]
    gene = at.selectbox(key=f"w.motifs.gene_pick.{name}").value
    first = mine[mine["gene_id"] == gene].sort_values("start").iloc[0]
    at.button(key="w.motifs.open_saliency").click().run()
    assert not at.exception
    assert at.session_state["saliency.gene"] == gene
    assert tuple(at.session_state["saliency.highlight"]) == (first["core_start"], first["core_end"])
    assert gene in at.session_state["saliency.gene_list"]
    # we are on the Saliency page (it applies the one-shot highlight and removes it from the URL; the
    # gene stays there, so a reload shows it again)
    assert [t.value for t in at.title] == ["Saliency"]
    assert "hl" not in at.query_params and at.query_params["gene"] == gene


def test_downloads(motifs_page, with_run):
    labels = {b.label for b in motifs_page.get("download_button")}
    assert labels == {"report.html", "patterns.meme", "patterns.csv", "seqlets.csv"}


def test_user_text_is_not_markup(app, with_run):
    """A gene ID / TF name with markup shows as text (dataframe cells), never as HTML."""
    seq = pd.read_csv(with_run / "seqlets.csv", dtype={"gene_id": str})
    evil = "<img src=x onerror=alert(1)>**bold**"
    seq.loc[seq.index[0], "gene_id"] = evil
    seq.to_csv(with_run / "seqlets.csv", index=False)
    name = seq.iloc[0]["pattern"]
    app.session_state["motifs.run"] = RUN
    app.session_state["motifs.pattern"] = name
    goto(app, "motifs")
    assert evil in set(_table(app, "positions_from_tss")["gene_id"])
    assert not any(evil in str(m.value) for m in app.markdown)
    assert not app.exception


def test_run_deleted_while_shown(motifs_page, with_run):
    at = motifs_page
    shutil.rmtree(with_run)
    at.run()
    assert not at.exception
    assert any("no longer there" in t for t in texts(at.warning))
    assert not any("something went wrong" in t for t in texts(at.error))
    at.run()
    assert not at.exception and at.session_state["motifs.run"] is None


# ----------------------------------------------------------------------------- starting jobs


def test_bad_meme_upload_shows_the_error(app, tiny_dataset, tiny_model):
    goto(app, "motifs")
    app.radio(key="w.motifs.db_kind").set_value("Upload a MEME file").run()
    app.file_uploader(key="w.motifs.meme").set_value(("bad.meme", b"MEME version 4\n\nALPHABET= ACGU\n", "text/plain"))
    app.run()
    assert any(t.startswith("bad.meme, line 3: alphabet") for t in texts(app.error))
    assert app.button(key="w.motifs.start").disabled
    assert not app.exception
    good = (
        b"MEME version 4\n\nALPHABET= ACGT\n\nMOTIF M1 ABF1\nletter-probability matrix: alength= 4 w= 2\n"
        b"1 0 0 0\n0 1 0 0\n"
    )
    app.file_uploader(key="w.motifs.meme").set_value(("good.meme", good, "text/plain"))
    app.run()
    assert "1 motifs read from the uploaded file." in texts(app.caption)
    assert not app.button(key="w.motifs.start").disabled


def test_gene_list_job_args(app, dirs, tiny_dataset, tiny_model, tiny_table, monkeypatch):
    """The job folder gets the right arguments (the job process itself is replaced by a no-op here)."""
    monkeypatch.setattr(core_jobs, "launch", lambda folder, **kw: subprocess.Popen(["true"]))
    goto(app, "motifs")
    app.radio(key="w.motifs.gene_set").set_value("list").run()
    listed = [*tiny_table["gene_id"].iloc[:30], "NOT_A_GENE**<B>"]
    app.text_area(key="w.motifs.genes_text").set_value("\n".join(listed)).run()
    note = next(t for t in texts(app.caption) if t.startswith("30 genes: 30 listed genes"))
    assert "1 not in the dataset" in note and "NOT_A_GENE\\*\\*\\<B\\>" in note  # shown as text
    app.selectbox(key="w.motifs.method").set_value("gradxinput").run()
    app.number_input(key="w.motifs.max_seqlets_per_metacluster").set_value(500)
    app.number_input(key="w.motifs.n_leiden_runs").set_value(3)
    app.number_input(key="w.motifs.window").set_value(80)
    app.text_input(key="w.motifs.run_name").set_value("my-run").run()
    app.button(key="w.motifs.start").click().run()
    assert not app.error and not app.exception
    job_id = app.session_state["motifs.job_id"]
    job = json.loads((dirs["workspace"] / "jobs" / job_id / "job.json").read_text())
    args = job["kind"], job["args"]
    assert args[0] == "motifs"
    a = args[1]
    assert a["out"] == str(dirs["workspace"].resolve() / "motifs" / "my-run")
    assert a["gene_set"] == "list" and a["genes"] == listed
    assert a["model_path"] == str(tiny_model.resolve()) and a["dataset_name"] == "tiny"
    assert a["explain"]["method"] == "gradxinput" and a["motif_db"] == "jaspar-plants"
    assert a["jaspar_release"] == jaspar_releases()[0]
    cfg = a["config"]
    assert cfg["max_seqlets_per_metacluster"] == 500 and cfg["n_leiden_runs"] == 3 and cfg["window"] == 80
    assert a["attr_cache"].endswith("attributions") and a["db_cache"].endswith("motif_db")
    # the page follows the queued job; the name is now taken by it
    assert app.get("progress")
    app.text_input(key="w.motifs.run_name").set_value("my-run").run()
    app.button(key="w.motifs.start").click().run()
    assert any("is already producing a run named 'my-run'" in t for t in texts(app.error))


def test_real_discovery_job_end_to_end(app, dirs, tiny_dataset, tiny_model):
    goto(app, "motifs")
    app.selectbox(key="w.motifs.method").set_value("gradxinput").run()
    app.number_input(key="w.motifs.min_metacluster_size").set_value(10)
    app.number_input(key="w.motifs.final_min_cluster_size").set_value(5)
    app.text_input(key="w.motifs.run_name").set_value("tiny-run").run()
    app.button(key="w.motifs.start").click().run()
    assert not app.error and not app.exception
    job_id = app.session_state["motifs.job_id"]
    assert app.get("progress") and app.button(key=f"w.motifs.stop.{job_id}")
    # a new browser session (a reload) finds the running job again
    fresh = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    fresh.run()
    goto(fresh, "motifs")
    assert fresh.session_state["motifs.job_id"] == job_id or core_jobs.read_job(dirs["workspace"] / "jobs" / job_id)[
        "state"
    ] not in ("queued", "running")
    deadline = time.time() + 240
    folder = dirs["workspace"] / "jobs" / job_id
    while time.time() < deadline and core_jobs.read_job(folder)["state"] in ("queued", "running"):
        time.sleep(1.0)
    job = core_jobs.read_job(folder)
    log = (folder / "log.txt").read_text() if (folder / "log.txt").exists() else ""
    assert job["state"] == "done", (job, log)
    app.run()  # the fragment sees the end and opens the new run
    app.run()
    assert not app.exception
    assert app.session_state["motifs.run"] == "tiny-run"
    assert any("Discovery run tiny-run finished" in t for t in texts(app.success))
    run = dirs["workspace"] / "motifs" / "tiny-run"
    for name in ("modisco.h5", "patterns.csv", "patterns.meme", "seqlets.csv", "report.html"):
        assert (run / name).is_file()
    info = json.loads((run / "run.json").read_text())
    assert info["model"] == "tiny-model" and info["n_genes"] == 60 and info["job_id"] == job_id
    if info["n_patterns"]:
        assert len(_table(app, "forward CWM")) == info["n_patterns"]
    else:
        assert any("found no pattern" in t for t in texts(app.info))


def test_stop_button_and_failed_job(app, dirs, tiny_dataset, tiny_model):
    root = dirs["workspace"] / "jobs"
    folder = core_jobs.create_job(root, "motifs", {"out": str(dirs["workspace"] / "motifs" / "x")})
    job = json.loads((folder / "job.json").read_text())
    job.update(state="running", pid=os.getpid())
    (folder / "job.json").write_text(json.dumps(job))
    t = time.time()
    events = [
        {"event": "stage", "stage": "attributions", "text": "Attributions…", "t": t},
        {"event": "attributions", "done": 64, "total": 256, "hits": 0, "method": "deepshap", "t": t},
    ]
    (folder / "progress.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    goto(app, "motifs")  # found from disk
    assert app.session_state["motifs.job_id"] == folder.name
    bar = app.get("progress")[0]
    assert "Attributions (deepshap): 64 of 256 genes" in bar.proto.text
    app.button(key=f"w.motifs.stop.{folder.name}").click().run()
    assert (folder / "stop").exists()
    assert any("Stop requested" in t for t in texts(app.info))
    # the job ends with an input error: its message is shown, no traceback
    job.update(state="failed", error_kind="input", error="bad.meme, line 3: alphabet 'ACGU' is not DNA")
    (folder / "job.json").write_text(json.dumps(job))
    app.run()
    app.run()
    errs = " ".join(texts(app.error))
    assert "bad.meme, line 3" in errs and "Traceback" not in errs
