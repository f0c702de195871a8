"""Train page: form, a real background job, live progress, stop, results, failures, rediscovery."""

from __future__ import annotations

import json
import os
import time

from apptest_helpers import APP, TIMEOUT, goto, texts
from streamlit.testing.v1 import AppTest

from dashboard import jobs as djobs
from deepdife_core import artifacts
from deepdife_core import jobs as core_jobs

SUBMIT = "FormSubmitter:w.train.form-Start training"


def test_needs_a_dataset(app):
    goto(app, "train")
    assert any("No dataset yet" in t for t in texts(app.warning))
    assert "No training runs yet." in texts(app.caption)


def test_invalid_settings_show_an_error(app, tiny_dataset):
    goto(app, "train")
    app.number_input(key="w.train.val_fraction").set_value(0.5)
    app.number_input(key="w.train.test_fraction").set_value(0.45)
    app.button(key=SUBMIT).click().run()
    assert any("leave too little to train on" in t for t in texts(app.error))
    assert not app.exception
    assert djobs.list_train_jobs() == []


def test_real_training_job_end_to_end(app, dirs, tiny_dataset):
    goto(app, "train")
    app.text_input(key="w.train.model_name").set_value("tiny-run")
    for key, value in (("epochs", 2), ("batch_size", 20), ("filters", 8), ("kernel_size", 8), ("seed", 2)):
        app.number_input(key=f"w.train.{key}").set_value(value)
    app.text_input(key="w.train.dense_units").set_value("16")
    app.button(key=SUBMIT).click().run()
    assert not app.error and not app.exception
    job_id = app.session_state["train.job_id"]
    assert job_id and (dirs["workspace"] / "jobs" / job_id / "job.json").is_file()
    assert app.get("progress")  # the live panel
    deadline = time.time() + 150
    while time.time() < deadline and djobs.read(job_id)["state"] in ("queued", "running"):
        time.sleep(1.0)
    job = djobs.read(job_id)
    log = (dirs["workspace"] / "jobs" / job_id / "log.txt").read_text()
    assert job["state"] == "done", (job, log)
    app.run()
    assert any("Training finished after 2 epochs" in t for t in texts(app.success))
    labels = {m.label for m in app.metric}
    assert {"auROC", "auPRC", "Accuracy"} <= labels
    assert len(app.get("plotly_chart")) >= 5  # loss, auROC, ROC, PR, confusion matrix
    epochs = [e for e in core_jobs.read_events(dirs["workspace"] / "jobs" / job_id) if e["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    reg = artifacts.list_models(dirs["models"])
    assert list(reg["name"]) == ["tiny-run"]
    assert app.session_state["model.active"] == "tiny-run"
    cfg = artifacts.read_config(dirs["models"] / "tiny-run")
    assert cfg.model.filters == 8 and cfg.model.input_length == 100 and cfg.train.epochs == 2
    # the name is now taken
    app.text_input(key="w.train.model_name").set_value("tiny-run")
    app.button(key=SUBMIT).click().run()
    assert any("already exists" in t for t in texts(app.error))


def _fake_running_job(dirs, epochs_done: int = 1, total: int = 5) -> str:
    folder = core_jobs.create_job(dirs["workspace"] / "jobs", "train", {"model_name": "fake", "dataset_name": "x"})
    job = json.loads((folder / "job.json").read_text())
    job.update(state="running", pid=os.getpid())
    (folder / "job.json").write_text(json.dumps(job))
    t0 = time.time() - 10
    lines = [{"event": "start", "epochs": total, "n_train": 40, "n_val": 10, "n_test": 10, "t": t0}]
    for e in range(1, epochs_done + 1):
        lines.append(
            {
                "event": "epoch",
                "epoch": e,
                "epochs": total,
                "loss": 0.7,
                "val_loss": 0.69,
                "auroc": 0.6,
                "val_auroc": 0.55,
                "t": t0 + 2 * e,
            }
        )
    (folder / "progress.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    return folder.name


def test_running_job_is_found_after_reload_and_can_be_stopped(dirs, tiny_dataset):
    job_id = _fake_running_job(dirs)
    fresh = AppTest.from_file(str(APP), default_timeout=TIMEOUT)  # a new browser session
    fresh.run()
    goto(fresh, "train")
    assert fresh.session_state["train.job_id"] == job_id
    bar = fresh.get("progress")[0]
    assert "Epoch 1 of 5" in bar.proto.text and "ETA" in bar.proto.text
    fresh.button(key=f"w.train.stop.{job_id}").click().run()
    assert (dirs["workspace"] / "jobs" / job_id / "stop").exists()
    assert any("Stop requested" in t for t in texts(fresh.info))


def _job_box(at):
    return next(s for s in at.selectbox if s.label.startswith("Training runs"))


def test_failed_jobs_show_message_or_apology(app, dirs, tiny_dataset):
    root = dirs["workspace"] / "jobs"
    bad = core_jobs.create_job(root, "train", {"model_name": "a"}, job_id="train-1-input")
    (bad / "job.json").write_text(
        json.dumps(
            {
                **json.loads((bad / "job.json").read_text()),
                "state": "failed",
                "error_kind": "input",
                "error": "d.csv: the dataset is empty",
            }
        )
    )
    bug = core_jobs.create_job(root, "train", {"model_name": "b"}, job_id="train-2-bug")
    (bug / "job.json").write_text(
        json.dumps(
            {
                **json.loads((bug / "job.json").read_text()),
                "state": "failed",
                "error_kind": "internal",
                "error": "internal error (KeyError)",
            }
        )
    )
    goto(app, "train")
    _job_box(app).set_value("train-1-input").run()
    assert "d.csv: the dataset is empty" in texts(app.error)
    _job_box(app).set_value("train-2-bug").run()
    errs = " ".join(texts(app.error))
    assert "Sorry, training job train-2-bug failed" in errs and "Traceback" not in errs
