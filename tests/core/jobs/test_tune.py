"""Background tuning jobs: a real study with worker processes, progress events, stop + resume, train-best.

Tiny data (120 genes x 100 bp), a small fixed architecture, 2 folds x 1-3 epochs,
so a trial takes a couple of seconds (the workers' TensorFlow start-up dominates).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import optuna
import pytest

from deepdife_core.config import RunConfig, TrainConfig, config_to_dict
from deepdife_core.jobs import runner as core_jobs
from deepdife_core.tune import study as tune

SMALL = {"n_conv": 2, "filters": 16, "dense_units": 32, "kernel_size": 8, "evoaug": False, "batch_size": 32}
SPACE = tune.SearchSpace().fix(**SMALL)  # searches learning_rate, dropout, l2
BASE = RunConfig(train=TrainConfig(epochs=1, early_stopping_patience=0, reduce_lr_patience=0))
TUNE = tune.TuneConfig(folds=2, startup_trials=2)


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> Path:
    from deepdife_core.data.demo import make_demo_dataset

    path = tmp_path_factory.mktemp("job_tune_data") / "tiny.csv"
    make_demo_dataset(120, length=100, seed=3)[["gene_id", "label", "family", "sequence"]].to_csv(path, index=False)
    return path


def _args(ws: Path, name: str, data: Path | None, trials: int, workers: int = 1, base: RunConfig = BASE) -> dict:
    args = {"study": name, "workspace": str(ws), "trials": trials, "workers": workers, "heartbeat": 2}
    if data is not None:
        args.update(data=str(data), space=SPACE.to_dict(), tune=TUNE.to_dict(), base=config_to_dict(base))
    return args


def _run(ws: Path, kind: str, args: dict) -> tuple[dict, list[dict], dict | None]:
    folder = core_jobs.create_job(ws / "jobs", kind, args)
    core_jobs.run_job(folder)
    return core_jobs.read_job(folder), core_jobs.read_events(folder), core_jobs.read_result(folder)


def _trials(name: str, ws: Path):
    return optuna.load_study(study_name=name, storage=tune.default_storage(name, ws)).get_trials()


def test_job_runs_a_study_with_two_workers_then_trains_the_best(table, tmp_path):
    ws, models = tmp_path / "ws", tmp_path / "models"
    job, events, res = _run(ws, "tune", _args(ws, "jt", table, trials=3, workers=2))
    assert job["state"] == "done", (job, (Path(job["folder"]) / "log.txt").read_text()[-3000:])
    start = events[0]
    assert start["event"] == "start" and start["trials"] == 3 and start["workers"] == 2
    assert start["storage"] == tune.default_storage("jt", ws) and start["counts"]["finished"] == 0
    done = [e for e in events if e["event"] == "trial"]
    assert sorted(e["number"] for e in done) == [0, 1, 2]
    assert all(e["state"] in ("COMPLETE", "PRUNED") and e["duration_s"] > 0 for e in done)
    assert all(set(e["params"]) == {"learning_rate", "dropout", "l2"} for e in done)
    complete = [e for e in done if e["state"] == "COMPLETE"]
    assert complete and all(0.0 <= e["value"] <= 1.0 for e in complete)
    counts = [e for e in events if e["event"] == "counts"]
    assert counts[-1]["finished"] == 3 and counts[-1]["running"] == 0
    assert events[-1] == {**events[-1], "event": "end", "state": "done"}
    assert res["counts"]["finished"] == 3 and res["finished_by_job"] == 3 and not res["stopped"]
    assert res["best"]["value"] == max(e["value"] for e in complete)
    assert (ws / "studies" / "jt.json").is_file() and (ws / "studies" / "jt.db").is_file()

    # train a model with the best parameters (kind tune_train)
    args = {"study": "jt", "workspace": str(ws), "model_name": "jt-best", "models_root": str(models), "epochs": 1}
    job, events, res = _run(ws, "tune_train", {**args, "dataset_name": "tiny"})
    assert job["state"] == "done", job
    epochs = [e for e in events if e["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1] * len({e.get("candidate", 0) for e in epochs})  # one per head tried
    assert res["model_name"] == "jt-best" and res["study"] == "jt" and res["trial"] == res_best_trial(ws)
    prov = json.loads((models / "jt-best" / "provenance.json").read_text())
    assert prov["tuning"]["study"] == "jt" and prov["tuning"]["trial"] == res["trial"] and prov["dataset"] == "tiny"
    cfg = json.loads((models / "jt-best" / "config.json").read_text())
    best = tune.best_params("jt", workspace=ws)
    assert cfg["train"]["learning_rate"] == best["params"]["learning_rate"]
    assert cfg["model"]["dropout"] == best["params"]["dropout"] and cfg["model"]["filters"] == 16
    assert cfg["train"]["epochs"] == 1 and cfg["train"]["seed"] == BASE.train.seed
    # the name is taken now: a readable input error, no second folder
    job, _, _ = _run(ws, "tune_train", args)
    assert job["state"] == "failed" and job["error_kind"] == "input" and "already exists" in job["error"]


def res_best_trial(ws: Path) -> int:
    return tune.best_params("jt", workspace=ws)["trial"]


def test_stop_ends_workers_and_the_study_resumes(table, tmp_path):
    ws = tmp_path / "ws"
    base = RunConfig(train=TrainConfig(epochs=3, early_stopping_patience=0, reduce_lr_patience=0))
    folder = core_jobs.create_job(ws / "jobs", "tune", _args(ws, "stop", table, trials=40, base=base))
    proc = core_jobs.launch(folder)
    try:
        deadline = time.time() + 180
        caught = False
        while time.time() < deadline and proc.poll() is None:
            if any(e["event"] == "start" for e in core_jobs.read_events(folder)):  # storage ready
                trials = _trials("stop", ws)
                done = [t for t in trials if t.state.is_finished()]
                running = [t for t in trials if t.state.name == "RUNNING" and t.intermediate_values]
                if done and running:
                    caught = True
                    break
            time.sleep(0.2)
        assert caught, (folder / "log.txt").read_text()[-3000:]
        t_stop = time.time()
        core_jobs.request_stop(folder)
        proc.wait(timeout=120)
        stop_latency = time.time() - t_stop
    finally:
        if proc.poll() is None:
            proc.kill()
    job = core_jobs.read_job(folder)
    assert job["state"] == "stopped", (job, (folder / "log.txt").read_text()[-3000:])
    assert stop_latency < 30
    events = core_jobs.read_events(folder)
    assert any(e["event"] == "stopping" for e in events)
    res = core_jobs.read_result(folder)
    assert res["stopped"] and res["counts"]["running"] == 0
    trials = _trials("stop", ws)
    assert not [t for t in trials if t.state.name == "RUNNING"]  # the trial in flight was failed, not left running
    assert [t for t in trials if t.state.name == "FAIL"]
    before = {t.number: (t.state.name, t.value, t.params) for t in trials if t.state.name in ("COMPLETE", "PRUNED")}
    assert len(before) < 40

    # resume: a new job on the recorded study (no data/space/settings given) reaches the new budget
    target = len(before) + 1
    job, events, res = _run(ws, "tune", _args(ws, "stop", None, trials=target))
    assert job["state"] == "done", job
    assert events[0]["counts"]["finished"] == len(before)
    assert res["counts"]["finished"] == target and res["finished_by_job"] == 1
    after = {t.number: t for t in _trials("stop", ws)}
    for number, (state, value, params) in before.items():
        assert (after[number].state.name, after[number].value, after[number].params) == (state, value, params)


def test_bad_input_fails_readably_without_workers(table, tmp_path):
    from deepdife_core.data.demo import make_demo_dataset

    ws = tmp_path / "ws"
    bad = _args(ws, "bad", table, trials=2)
    bad["space"] = {**SPACE.to_dict(), "dropout": {**SPACE.to_dict()["dropout"], "low": 0.6, "high": 0.1}}
    job, events, _ = _run(ws, "tune", bad)
    assert job["state"] == "failed" and job["error_kind"] == "input"
    assert "'dropout'" in job["error"] and "above upper bound" in job["error"]
    assert not (ws / "studies" / "bad.db").exists()
    assert events[-1]["event"] == "error"

    # a study exists on one table; the same name on another table is refused
    tune.prepare_study("same", data=table, space=SPACE, tune=TUNE, base=BASE, workspace=ws)
    other = tmp_path / "other.csv"
    make_demo_dataset(120, length=100, seed=4)[["gene_id", "label", "family", "sequence"]].to_csv(other, index=False)
    job, _, _ = _run(ws, "tune", _args(ws, "same", other, trials=2))
    assert job["state"] == "failed" and job["error_kind"] == "input" and "different dataset" in job["error"]

    # training from a study without a completed trial
    args = {"study": "same", "workspace": str(ws), "model_name": "m", "models_root": str(tmp_path / "models")}
    job, _, _ = _run(ws, "tune_train", args)
    assert job["state"] == "failed" and job["error_kind"] == "input" and "no completed trial" in job["error"]
    assert not (tmp_path / "models" / "m").exists()
