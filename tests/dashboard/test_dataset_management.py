"""Saved datasets can be previewed, downloaded, renamed and deleted from the Data page (issue 17)."""

from __future__ import annotations

import io
import json
import os

import pandas as pd

from dashboard.datasets import list_datasets, save_dataset
from deepdife_core.jobs import runner as core_jobs
from tests.dashboard.apptest_helpers import texts


def test_preview_download_rename_delete(app, dirs, tiny_table):
    save_dataset(tiny_table, "first", {})
    save_dataset(tiny_table.head(40), "second", {})
    app.session_state["data.active"] = "second"
    app.run()
    assert app.selectbox(key="w.data.manage_pick").value == "second"
    app.selectbox(key="w.data.manage_pick").set_value("first").run()
    tables = [d.value for d in app.dataframe if "gene_id" in d.value.columns and len(d.value) == 60]
    assert tables and list(tables[0]["gene_id"]) == list(tiny_table["gene_id"])
    dl = next(b for b in app.get("download_button") if b.proto.label == "Download data.csv")
    assert dl.proto.label == "Download data.csv" and not dl.proto.disabled
    # rename: the folder moves, the active dataset follows when it was the renamed one
    app.text_input(key="w.data.manage_new_name").set_value("first-renamed").run()
    app.button(key="w.data.manage_rename").click().run()
    assert not app.error, texts(app.error)
    names = {d["name"] for d in list_datasets()}
    assert names == {"first-renamed", "second"}
    meta = json.loads((dirs["workspace"] / "datasets" / "first-renamed" / "dataset.json").read_text())
    assert meta["name"] == "first-renamed" and meta["renamed_from"] == "first"
    assert any("Renamed dataset 'first' to 'first-renamed'" in t for t in texts(app.success))
    # a taken name is refused
    app.selectbox(key="w.data.manage_pick").set_value("first-renamed").run()
    app.text_input(key="w.data.manage_new_name").set_value("second").run()
    app.button(key="w.data.manage_rename").click().run()
    assert any("a dataset named 'second' already exists" in t for t in texts(app.error))
    # delete needs the confirmation; the active one falls back to what is left
    app.selectbox(key="w.data.manage_pick").set_value("second").run()
    assert app.button(key="w.data.manage_delete").disabled
    app.checkbox(key="w.data.manage_sure").check().run()
    app.button(key="w.data.manage_delete").click().run()
    assert {d["name"] for d in list_datasets()} == {"first-renamed"}
    assert not (dirs["workspace"] / "datasets" / "second").exists()
    assert app.session_state["data.active"] == "first-renamed"
    assert not any(p.name.startswith(".deleted") for p in (dirs["workspace"] / "datasets").iterdir())


def test_a_dataset_in_use_by_a_job_is_not_renamed(app, dirs, tiny_table):
    folder = save_dataset(tiny_table, "busy", {})
    job = core_jobs.create_job(
        dirs["workspace"] / "jobs", "train", {"model_name": "m", "dataset_path": str(folder / "data.csv")}
    )
    rec = json.loads((job / "job.json").read_text())
    rec.update(state="running", pid=os.getpid())
    (job / "job.json").write_text(json.dumps(rec))
    app.run()
    app.text_input(key="w.data.manage_new_name").set_value("other").run()
    app.button(key="w.data.manage_rename").click().run()
    assert any(f"job {job.name} is reading dataset 'busy'" in t for t in texts(app.error))
    assert (folder / "data.csv").is_file()
    assert pd.read_csv(io.StringIO((folder / "data.csv").read_text()))["gene_id"].tolist() == list(
        tiny_table["gene_id"]
    )
