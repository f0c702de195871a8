"""Tests of ``deepdife_core.experiments.job`` (moved from ``tests/core/test_experiments.py``)."""

from __future__ import annotations

import json

from tests.core.experiments.helpers import ROOT


def test_job_runner_writes_the_results_folder(demo_csv, tmp_path):
    from deepdife_core.jobs import runner as jobs

    folder = jobs.create_job(
        tmp_path / "jobs",
        "experiment",
        {
            "kind": "dose",
            "out": str(tmp_path / "exp" / "dose1"),
            "model_path": str(ROOT / "models/demo"),
            "dataset_path": str(demo_csv),
            "motifs": ["CCACGTGGCA"],
            "config": {"n_backgrounds": 20},
        },
    )
    assert jobs.run_job(folder) == 0
    assert jobs.read_job(folder)["state"] == "done"
    out = tmp_path / "exp" / "dose1"
    assert {"table.csv", "per_gene.csv", "figure.svg", "figure.png", "run.json"} <= {p.name for p in out.iterdir()}
    assert json.loads((out / "run.json").read_text())["kind"] == "dose"
    assert any(e.get("event") == "scored" for e in jobs.read_events(folder))


def test_job_stopped_mid_run_saves_nothing(demo_csv, tmp_path, monkeypatch):
    from deepdife_core.jobs import runner as jobs

    out = tmp_path / "exp" / "sweep1"
    folder = jobs.create_job(
        tmp_path / "jobs",
        "experiment",
        {
            "kind": "sweep",
            "out": str(out),
            "model_path": str(ROOT / "models/demo"),
            "dataset_path": str(demo_csv),
            "motifs": ["CCACGTGGCA"],
            "config": {"n_backgrounds": 20, "step": 1, "chunk": 500},
        },
    )
    real = jobs._JobWriter.event

    def event(self, ev):  # the user presses Stop after the first scored chunk
        real(self, ev)
        if ev.get("event") == "scored":
            jobs.request_stop(self.folder)

    monkeypatch.setattr(jobs._JobWriter, "event", event)
    assert jobs.run_job(folder) == 0
    assert jobs.read_job(folder)["state"] == "stopped"
    scored = [e for e in jobs.read_events(folder) if e.get("event") == "scored"]
    assert len(scored) == 1 and scored[0]["done"] == 500
    assert not out.exists() and not (tmp_path / "exp").exists()  # nothing written, not even a temp folder
