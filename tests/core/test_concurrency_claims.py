"""Issue 19 point 5: two writers of one output name.

The name is claimed atomically (exclusive create of ``<parent>/.claim-<name>``) before
any work: the second writer is refused with a clear message, a claim left by a killed
writer is taken over, and a folder is never replaced without ``overwrite``.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepdife_core import files as artifacts
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.jobs import runner as jobs

ROOT = Path(__file__).resolve().parents[2]

HOLD = """
import sys, time
from deepdife_core.files import claim_output
with claim_output(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


def _holder(target: Path) -> subprocess.Popen:
    """Another process holding the claim on ``target`` (prints ``held`` once it has it)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(target)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_process_cannot_write_a_name_being_written(tmp_path):
    target = tmp_path / "models" / "same"
    proc = _holder(target)
    try:
        refused = pytest.raises(DeepDifEInputError, match=r"same is being written by another run \(process \d+\)")
        with refused, artifacts.atomic_dir(target) as tmp:
            (tmp / "x").write_text("second")
        assert not target.exists()
    finally:
        proc.kill()
        proc.wait()


def test_a_claim_of_a_killed_writer_is_taken_over(tmp_path):
    target = tmp_path / "models" / "same"
    proc = _holder(target)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert artifacts.claim_path(target).exists()  # kill -9 had no chance to release it
    with artifacts.atomic_dir(target) as tmp:
        (tmp / "x").write_text("mine")
    assert (target / "x").read_text() == "mine"
    assert not artifacts.claim_path(target).exists()


def test_cli_train_is_refused_before_any_work_while_the_name_is_claimed(tmp_path, capsys):
    from deepdife_core.cli import main as cli

    target = tmp_path / "models" / "same"
    proc = _holder(target)
    try:
        # --data does not exist: the claim is checked first, so the message is about the name
        rc = cli.main(["train", "--data", str(tmp_path / "nothing.csv"), "--out", str(target)])
    finally:
        proc.kill()
        proc.wait()
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and "is being written by another run" in err
    assert not target.exists()


def test_a_job_adopts_the_claim_made_for_it_and_others_are_refused(tmp_path, monkeypatch):
    target = tmp_path / "models" / "m"
    folder = jobs.create_job(tmp_path / "jobs", "train", {})
    artifacts.acquire_claim(target, job=folder)  # what the dashboard's Start does
    # while the job is queued, nobody else may write that name (a CLI run, another session)
    with pytest.raises(DeepDifEInputError, match=f"the dashboard job {folder.name}"), artifacts.atomic_dir(target):
        pass

    def runner(writer, args):
        with artifacts.atomic_dir(target) as tmp:
            (tmp / "config.json").write_text("{}")
        return "done", {"model_path": str(target)}

    monkeypatch.setitem(jobs.RUNNERS, "train", runner)
    assert jobs.run_job(folder) == 0
    assert jobs.read_job(folder)["state"] == "done"
    assert (target / "config.json").exists() and not artifacts.claim_path(target).exists()
    assert artifacts.JOB_ENV not in os.environ


def test_a_claim_of_a_finished_job_is_stale(tmp_path):
    target = tmp_path / "models" / "m"
    folder = jobs.create_job(tmp_path / "jobs", "train", {})
    artifacts.acquire_claim(target, job=folder)
    job = jobs.read_job(folder)
    job.update(state="failed")
    artifacts.atomic_write_json(folder / "job.json", job)
    with artifacts.atomic_dir(target) as tmp:
        (tmp / "x").write_text("ok")
    assert (target / "x").exists()


def test_a_claim_of_a_job_queued_past_the_timeout_is_stale_as_the_runner_says(tmp_path):
    target = tmp_path / "models" / "m"
    folder = jobs.create_job(tmp_path / "jobs", "train", {})
    artifacts.acquire_claim(target, job=folder)
    with pytest.raises(DeepDifEInputError, match="being written by the dashboard job"):
        artifacts.acquire_claim(target)  # queued just now: the claim holds
    old = time.time() - artifacts.QUEUE_TIMEOUT_S - 5
    os.utime(folder / "job.json", (old, old))
    assert jobs.read_job(folder)["error_kind"] == "lost"
    artifacts.acquire_claim(target)  # the runner calls it lost, so the claim is taken over
    artifacts.release_claim(target)


def test_nested_claims_of_one_writer_share_the_claim(tmp_path):
    target = tmp_path / "m"
    with artifacts.claim_output(target):
        with artifacts.atomic_dir(target) as tmp:  # train.py's save inside the CLI's claim
            (tmp / "x").write_text("1")
        assert artifacts.claim_path(target).exists()
    assert not artifacts.claim_path(target).exists() and (target / "x").exists()


class _Writer:
    """One writer in its own thread, driven step by step: ``enter`` starts an atomic_dir block
    (claiming the name), ``exit`` ends it (renaming into place)."""

    def __init__(self, target: Path, tag: str, overwrite: bool) -> None:
        self.orders: queue.Queue = queue.Queue()
        self.replies: queue.Queue = queue.Queue()
        self.target, self.tag, self.overwrite = target, tag, overwrite
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.orders.get()
        try:
            with artifacts.atomic_dir(self.target, overwrite=self.overwrite) as tmp:
                (tmp / "who").write_text(self.tag)
                self.replies.put("in")
                self.orders.get()
        except DeepDifEInputError as exc:
            self.replies.put(f"refused: {exc}")
            return
        self.replies.put("saved")

    def step(self) -> str:
        self.orders.put(1)
        return self.replies.get(timeout=20)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(
    order=st.permutations(["a_in", "b_in", "a_out", "b_out"]).filter(
        lambda o: o.index("a_in") < o.index("a_out") and o.index("b_in") < o.index("b_out")
    ),
    overwrite=st.tuples(st.booleans(), st.booleans()),
    existed=st.booleans(),
)
def test_two_writers_never_write_one_name_at_once(tmp_path_factory, order, overwrite, existed):
    """Whatever the interleaving: at most one writer is inside at a time, the refused one is told
    why, and a folder is replaced only by a writer with ``overwrite``."""
    target = tmp_path_factory.mktemp("race") / "model"
    if existed:
        target.mkdir()
        (target / "who").write_text("old")
    writers = {"a": _Writer(target, "a", overwrite[0]), "b": _Writer(target, "b", overwrite[1])}
    state: dict[str, str] = {}
    saved: list[str] = []
    for op in order:
        w = op[0]
        if state.get(w, "").startswith("refused"):
            continue
        state[w] = writers[w].step()
        assert sum(s == "in" for s in state.values()) <= 1
        if state[w] == "saved":
            saved.append(w)
    for s in state.values():
        if s.startswith("refused"):
            assert "being written by another run" in s or "already exists" in s
    for i, w in enumerate(saved):
        # a writer replaced a folder (there before, or saved by the other) only with overwrite
        if existed or i > 0:
            assert overwrite["ab".index(w)]
    # the last writer to finish is the one on disk; a refused one changed nothing
    assert (target / "who").read_text() == (saved[-1] if saved else "old")
    assert not artifacts.claim_path(target).exists()
    assert [p.name for p in target.parent.iterdir() if p.name.startswith(".")] == []
