"""The background-job runner (deepdife_core.jobs.runner): folder contract, failures, stop, lost processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from deepdife_core.jobs import runner as jobs


def test_create_and_list_newest_first(tmp_path):
    a = jobs.create_job(tmp_path, "train", {"x": 1}, job_id="train-a")
    b = jobs.create_job(tmp_path, "train", {"x": 2}, job_id="train-b")
    listed = jobs.list_jobs(tmp_path, kind="train")
    assert {j["id"] for j in listed} == {a.name, b.name}
    job = jobs.read_job(a)
    assert job["state"] == "queued" and job["args"] == {"x": 1} and job["pid"] is None
    assert jobs.list_jobs(tmp_path, kind="tune") == []
    with pytest.raises(Exception, match="unknown job kind"):
        jobs.create_job(tmp_path, "nope", {})


def test_input_error_fails_with_message(tmp_path):
    folder = jobs.create_job(
        tmp_path,
        "train",
        {"dataset_path": str(tmp_path / "missing.csv"), "models_root": str(tmp_path), "model_name": "m"},
    )
    assert jobs.run_job(folder) == 2
    job = jobs.read_job(folder)
    assert job["state"] == "failed" and job["error_kind"] == "input"
    assert "missing.csv: file not found" in job["error"]
    assert job["pid"] == os.getpid() and job["started"] and job["ended"]
    assert jobs.read_events(folder)[-1]["event"] == "error"


def test_bug_logs_traceback_and_fails_shortly(tmp_path, monkeypatch):
    def boom(writer, args):
        raise RuntimeError("kaboom")

    monkeypatch.setitem(jobs.RUNNERS, "train", boom)
    folder = jobs.create_job(tmp_path, "train", {})
    assert jobs.run_job(folder) == 1
    job = jobs.read_job(folder)
    assert job["state"] == "failed" and job["error_kind"] == "internal"
    assert job["error"] == "internal error (RuntimeError)"
    log = (folder / "log.txt").read_text()
    assert "Traceback" in log and "kaboom" in log


def test_runner_writes_events_and_result(tmp_path, monkeypatch):
    def fake(writer, args):
        writer.event({"event": "start", "epochs": 2})
        for e in (1, 2):
            writer.event({"event": "epoch", "epoch": e, "epochs": 2, "loss": 1.0 / e})
        return "done", {"model_path": "somewhere", "metrics": {"auroc": 0.9}}

    monkeypatch.setitem(jobs.RUNNERS, "train", fake)
    folder = jobs.create_job(tmp_path, "train", {})
    assert jobs.run_job(folder) == 0
    assert jobs.read_job(folder)["state"] == "done"
    events = jobs.read_events(folder)
    assert [e["event"] for e in events] == ["start", "epoch", "epoch", "end"] and all("t" in e for e in events)
    assert jobs.read_result(folder)["metrics"]["auroc"] == 0.9


def test_stop_before_training_saves_nothing(tmp_path, tiny_table):
    data = tmp_path / "d.csv"
    tiny_table.to_csv(data, index=False)
    folder = jobs.create_job(
        tmp_path / "jobs", "train", {"dataset_path": str(data), "models_root": str(tmp_path), "model_name": "m"}
    )
    jobs.request_stop(folder)
    assert jobs.run_job(folder) == 0
    assert jobs.read_job(folder)["state"] == "stopped"
    assert jobs.read_result(folder)["model_path"] is None
    assert not (tmp_path / "m").exists()


def test_dead_process_is_reported_lost(tmp_path):
    folder = jobs.create_job(tmp_path, "train", {})
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    job = json.loads((folder / "job.json").read_text())
    job.update(state="running", pid=proc.pid)
    (folder / "job.json").write_text(json.dumps(job))
    got = jobs.read_job(folder)
    assert got["state"] == "failed" and got["error_kind"] == "lost"


def test_cli_usage(capsys):
    assert jobs.main([]) == 2
    assert "usage" in capsys.readouterr().err


def test_stop_mid_training_keeps_best_weights(tmp_path, tiny_table, tiny_model_dir):
    """A real (small) training job stopped after its first epoch ends cleanly with a saved model."""
    import threading
    import time

    from deepdife_core import files as artifacts

    data = tmp_path / "d.csv"
    tiny_table.to_csv(data, index=False)
    args = {
        "dataset_path": str(data),
        "models_root": str(tmp_path / "models"),
        "model_name": "stopped",
        "model": {"filters": 8, "kernel_size": 8, "dense_units": [16]},
        "train": {"epochs": 200, "batch_size": 10, "early_stopping_patience": 0, "reduce_lr_patience": 0},
    }
    folder = jobs.create_job(tmp_path / "jobs", "train", args)

    def stopper():
        deadline = time.time() + 120
        while time.time() < deadline:
            if any(e.get("event") == "epoch" for e in jobs.read_events(folder)):
                jobs.request_stop(folder)
                return
            time.sleep(0.05)

    t = threading.Thread(target=stopper)
    t.start()
    assert jobs.run_job(folder) == 0
    t.join()
    job = jobs.read_job(folder)
    assert job["state"] == "stopped"
    result = jobs.read_result(folder)
    assert result["stopped"] and 1 <= result["epochs_run"] < 200
    assert (tmp_path / "models" / "stopped" / "model.keras").is_file()
    assert artifacts.read_json(tmp_path / "models" / "stopped" / "provenance.json")["stopped_early_by_user"]


@pytest.mark.parametrize("with_provenance", [True, False])
def test_train_runner_passes_the_augment_config_and_keeps_the_best_epoch(
    tmp_path, tiny_table, monkeypatch, with_provenance
):
    """The ``augment`` job arg reaches ``train_dataset``; the result keeps metrics and the kept epoch."""
    from types import SimpleNamespace

    from deepdife_core.config import AugmentConfig, ModelConfig, TrainConfig, config_to_dict

    data = tmp_path / "d.csv"
    tiny_table.to_csv(data, index=False)
    aug = AugmentConfig(enabled=True, insert_max=8, augs=("insertion", "rc"))
    seen = {}

    def fake_train_dataset(df, **kw):
        seen.update(kw)
        for e in (1, 2, 3):
            kw["progress"]({"event": "epoch", "epoch": e, "epochs": 3, "best_epoch": 2})
        out = kw["out"]
        out.mkdir(parents=True)
        if with_provenance:
            (out / "provenance.json").write_text(json.dumps({"best_epoch": 1}))
        metrics = {"auroc": 0.8, "baseline_kmer": {"auroc": 0.7}, "learning": {"status": "learnt", "message": "ok"}}
        return SimpleNamespace(path=out, metrics=metrics, stopped=False, history=[{}, {}, {}])

    monkeypatch.setattr(jobs, "train_dataset", fake_train_dataset)  # the runner imports it at the top
    args = {
        "dataset_path": str(data),
        "models_root": str(tmp_path / "models"),
        "model_name": "m",
        "model": config_to_dict(ModelConfig(input_length=100_000, filters=8)),
        "train": config_to_dict(TrainConfig(epochs=3, strands="random")),
        "augment": config_to_dict(aug),
    }
    folder = jobs.create_job(tmp_path / "jobs", "train", args)
    assert jobs.run_job(folder) == 0
    assert seen["augment_cfg"] == aug
    assert seen["train_cfg"].strands == "random" and seen["model_cfg"].filters == 8
    result = jobs.read_result(folder)
    assert result["metrics"]["learning"]["status"] == "learnt" and result["metrics"]["baseline_kmer"]
    assert result["best_epoch"] == (1 if with_provenance else 2)  # provenance first, else the last epoch event
    assert [e["best_epoch"] for e in jobs.read_events(folder) if e["event"] == "epoch"] == [2, 2, 2]


def test_train_runner_without_augment_arg_uses_the_defaults(tmp_path, tiny_table, monkeypatch):
    from types import SimpleNamespace

    from deepdife_core.config import AugmentConfig

    data = tmp_path / "d.csv"
    tiny_table.to_csv(data, index=False)
    seen = {}

    def fake_train_dataset(df, **kw):
        seen.update(kw)
        return SimpleNamespace(path=None, metrics={}, stopped=True, history=[])

    monkeypatch.setattr(jobs, "train_dataset", fake_train_dataset)  # the runner imports it at the top
    args = {"dataset_path": str(data), "models_root": str(tmp_path / "models"), "model_name": "m"}
    assert jobs.run_job(jobs.create_job(tmp_path / "jobs", "train", args)) == 0
    assert seen["augment_cfg"] == AugmentConfig()
