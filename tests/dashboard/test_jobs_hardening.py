"""Issue 19, dashboard jobs: two Starts with one model name, finished children reaped, the killed-job
message (points 5 and 10)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dashboard import jobs as djobs
from deepdife_core import files as artifacts
from deepdife_core.config import ModelConfig, TrainConfig
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.jobs import runner as core_jobs


def _sleeper(folder, **kw):
    """Stands in for the job process: alive, writes nothing (the job stays queued)."""
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])


def test_two_starts_with_one_name_start_one_job(dirs, tiny_dataset, monkeypatch):
    monkeypatch.setattr(core_jobs, "launch", _sleeper)
    # both sessions checked the job list before either job existed (the race): only the claim decides
    monkeypatch.setattr(djobs, "list_train_jobs", lambda: [])
    path = dirs["workspace"] / "datasets" / tiny_dataset / "dataset.csv"
    first = djobs.start_training(tiny_dataset, path, "same", ModelConfig(), TrainConfig(epochs=1))
    try:
        with pytest.raises(DeepDifEInputError, match=f"being written by the dashboard job {first}"):
            djobs.start_training(tiny_dataset, path, "same", ModelConfig(), TrainConfig(epochs=1))
        folders = [p.name for p in (dirs["workspace"] / "jobs").iterdir()]
        assert folders == [first]  # the refused Start left no job behind
        # a command-line run of that name is refused too while the job lives
        refused = pytest.raises(DeepDifEInputError, match="being written by the dashboard job")
        with refused, artifacts.claim_output(dirs["models"] / "same"):
            pass
    finally:
        djobs._PROCS[first].kill()


def test_finished_job_children_are_reaped_without_any_page_asking(dirs, monkeypatch):
    started: list[subprocess.Popen] = []

    def quick(folder, **kw):
        started.append(subprocess.Popen([sys.executable, "-c", "pass"]))
        return started[-1]

    monkeypatch.setattr(core_jobs, "launch", quick)
    djobs.start_kind("tune", {})
    stat = Path(f"/proc/{started[0].pid}/stat")
    deadline = time.time() + 20
    while stat.exists() and time.time() < deadline:
        time.sleep(0.1)
    # no call into dashboard.jobs since the start: the ended child must not stay <defunct>
    assert not stat.exists(), stat.read_text()


def test_a_killed_job_says_so_and_its_log_too(tmp_path):
    folder = core_jobs.create_job(tmp_path, "train", {})
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    job = json.loads((folder / "job.json").read_text())
    job.update(state="running", pid=proc.pid)
    (folder / "job.json").write_text(json.dumps(job))
    for _ in range(3):  # several readers (pages, sessions): the log gets the note once
        got = core_jobs.read_job(folder)
    assert got["state"] == "failed" and got["error_kind"] == "lost"
    assert "ended from outside (killed, out of memory" in got["error"]
    log = (folder / "log.txt").read_text()
    assert log.count("ended from outside") == 1 and folder.name in log


def test_two_motif_starts_with_one_run_name_start_one_job(dirs, monkeypatch):
    monkeypatch.setattr(core_jobs, "launch", _sleeper)
    out = dirs["workspace"] / "motifs" / "run1"
    first = djobs.start_kind("motifs", {"out": str(out)})
    try:
        with pytest.raises(DeepDifEInputError, match=f"run1 is being written by the dashboard job {first}"):
            djobs.start_kind("motifs", {"out": str(out)})
        assert [p.name for p in (dirs["workspace"] / "jobs").iterdir()] == [first]
    finally:
        djobs._PROCS[first].kill()
