"""Experiments page (AppTest): needs a dataset and a model, starts a job, shows a finished run with downloads."""

from __future__ import annotations

import os
import time

import pandas as pd
import pytest

from tests.dashboard.apptest_helpers import goto, texts


def test_needs_a_dataset_and_a_model(app):
    goto(app, "experiments")
    assert any("need an active dataset" in w for w in texts(app.warning))


@pytest.fixture
def finished_run(dirs, tiny_model, tiny_dataset, tiny_table):
    """A spacing experiment on the tiny model, run in-process and saved where the page looks."""
    from deepdife_core.experiments import ExperimentConfig, run_experiment, save_run
    from deepdife_core.experiments.sources import motif_source
    from deepdife_core.model.folder import load_model

    m = motif_source("ACGTGGC")
    res = run_experiment(
        "spacing", load_model(tiny_model), tiny_table, [m, m], ExperimentConfig(n_backgrounds=10, max_spacing=10)
    )
    return save_run(dirs["workspace"] / "experiments" / "spacing-test", res, {"model": "tiny-model"})


def test_shows_a_finished_run_with_figure_table_and_downloads(app, finished_run):
    goto(app, "experiments")
    assert not app.exception
    assert any("Best pair: orientation" in m.value for m in app.markdown)
    labels = [b.label for b in app.get("download_button")]
    assert labels[:4] == ["Table (CSV)", "Per gene (CSV)", "Figure (SVG)", "Figure (PNG)"]
    assert len(app.get("plotly_chart")) >= 1
    assert len(app.dataframe[0].value) == 11 * 4


def test_run_starts_a_background_job_that_finishes(app, tiny_model, tiny_dataset, dirs):
    from deepdife_core.jobs import runner as jobs

    goto(app, "experiments")
    app.selectbox(key="w.experiments.kind").set_value("dose").run()
    app.number_input(key="w.experiments.dose.n").set_value(10).run()
    app.text_input(key="w.experiments.name.dose").set_value("dose-job").run()
    app.button(key="w.experiments.start").click().run()
    assert not app.exception and not app.error, texts(app.error)
    listed = jobs.list_jobs(dirs["workspace"] / "jobs", kind="experiment")
    assert len(listed) == 1
    folder = dirs["workspace"] / "jobs" / listed[0]["id"]
    deadline = time.time() + 120
    while time.time() < deadline and jobs.read_job(folder)["state"] in ("queued", "running"):
        time.sleep(1)
    assert jobs.read_job(folder)["state"] == "done", (folder / "log.txt").read_text()
    assert (dirs["workspace"] / "experiments" / "dose-job" / "table.csv").is_file()


def test_every_experiment_form_renders_and_bad_inputs_are_messages(app, tiny_model, tiny_dataset, dirs):
    goto(app, "experiments")
    for kind in ("insert", "sweep", "spacing", "dose", "tile", "ablate"):
        app.selectbox(key="w.experiments.kind").set_value(kind).run()
        assert not app.exception, kind
    app.selectbox(key="w.experiments.kind").set_value("tile").run()
    app.text_input(key="w.experiments.tile.gene").set_value("NOPE9").run()
    app.button(key="w.experiments.start").click().run()
    assert any("'NOPE9' is not in dataset" in e for e in texts(app.error))
    app.selectbox(key="w.experiments.kind").set_value("sweep").run()
    app.text_input(key="w.experiments.sweep.motif").set_value("AC GT").run()
    app.button(key="w.experiments.start").click().run()
    assert any("not an IUPAC consensus" in e or "not IUPAC DNA" in e for e in texts(app.error))
    assert not (dirs["workspace"] / "jobs").exists() or not list((dirs["workspace"] / "jobs").iterdir())


def _fake_job(dirs, **fields) -> str:
    """An experiment job folder in a given state (no process behind it)."""
    import json

    from deepdife_core.jobs import runner as jobs

    folder = jobs.create_job(dirs["workspace"] / "jobs", "experiment", {"out": str(dirs["workspace"] / "x" / "dose-7")})
    job = json.loads((folder / "job.json").read_text())
    job.update(fields)
    (folder / "job.json").write_text(json.dumps(job))
    return folder.name


def test_the_job_panel_shows_a_live_experiment_with_stop_and_its_end(app, tiny_model, tiny_dataset, dirs):
    """The one job panel (dashboard.job_panel): heading, Stop, the stop note; failures and stops in plain words."""
    from dashboard import state

    job_id = _fake_job(dirs, state="running", pid=os.getpid())  # a living process: the job is not lost
    goto(app, "experiments")
    assert not app.exception
    assert any("**Experiment dose-7** — running" in m.value for m in app.markdown), (
        [m.value for m in app.markdown],
        texts(app.error),
    )
    app.button(key=f"w.experiments.stop.{job_id}").click().run()
    assert (dirs["workspace"] / "jobs" / job_id / "stop").is_file()
    assert any("the experiment ends after the current batch" in i for i in texts(app.info))
    failed = _fake_job(dirs, state="failed", error_kind="internal", error="boom")
    app.session_state[state.EXPERIMENTS_JOB_ID] = failed
    app.run()
    assert texts(app.error) == [
        f"Sorry, experiment job {failed} failed because of an internal problem (boom). Details are in its log.txt."
    ]
    assert not app.get("progress")  # a failed experiment shows its message only
    app.session_state[state.EXPERIMENTS_JOB_ID] = _fake_job(dirs, state="stopped")
    app.run()
    assert "The experiment was stopped; nothing was saved." in texts(app.warning)


@pytest.mark.parametrize("case", ["coords", "no_coords"])
def test_tile_gene_with_several_tss_records_gets_a_picker(case, app, tiny_model, tiny_table, dirs):
    from dashboard.datasets import save_dataset

    g, c = tiny_table["gene_id"].iloc[0], tiny_table["coords"].iloc[0]
    chrom, rest = c.split(":")
    names = [f"{g}::{c}", f"{g}::{chrom}:9{rest}"] if case == "coords" else [f"{g}#1", f"{g}#2"]
    second = tiny_table.iloc[[0]].assign(sequence=tiny_table["sequence"].iloc[0][::-1])
    table = pd.concat([tiny_table.iloc[[0]], second, tiny_table.iloc[1:]], ignore_index=True)
    table["gene_id"] = names + tiny_table["gene_id"].iloc[1:].tolist()
    table["coords"] = [c, f"{chrom}:9{rest}", *tiny_table["coords"].iloc[1:]]
    save_dataset(table, "rep", {"source": {"kind": "test"}})
    goto(app, "experiments")
    app.selectbox(key="w.experiments.kind").set_value("tile").run()
    app.text_input(key="w.experiments.tile.gene").set_value(g.lower()).run()
    assert not app.exception
    assert f"Gene {g} has 2 records (TSSs) in the dataset: pick the one to tile." in texts(app.caption)
    picker = app.selectbox(key="w.experiments.tile.tss")
    assert picker.label == f"{g} (2 TSSs)" and picker.options == [
        f"TSS 1 of 2: {names[0].split('::')[1] if case == 'coords' else names[0]}",
        f"TSS 2 of 2: {names[1].split('::')[1] if case == 'coords' else names[1]}",
    ]
    picker.set_value(names[1]).run()
    app.text_input(key="w.experiments.name.tile").set_value("tile-tss").run()
    app.button(key="w.experiments.start").click().run()
    assert not app.exception and not app.error, texts(app.error)
    from deepdife_core.jobs import runner as jobs

    listed = jobs.list_jobs(dirs["workspace"] / "jobs", kind="experiment")
    assert len(listed) == 1 and listed[0]["args"]["gene"] == names[1]
