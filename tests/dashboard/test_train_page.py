"""Train page: form, a real background job, live progress, stop, results, failures, rediscovery."""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import replace

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import jobs as djobs
from dashboard import widgets
from deepdife_core.config import AugmentConfig, ModelConfig, TrainConfig, config_to_dict, from_dict
from deepdife_core.jobs import runner as core_jobs
from deepdife_core.model import folder as artifacts
from tests.dashboard.apptest_helpers import APP, TIMEOUT, goto, texts

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
    # EvoAug is on by default: 2 epochs, then up to 5 fine-tune epochs on the original genes
    assert any(re.search(r"Training finished after [2-7] epochs", t) for t in texts(app.success))
    labels = {m.label for m in app.metric}
    assert {"auROC", "auPRC", "Accuracy"} <= labels
    assert len(app.get("plotly_chart")) >= 5  # loss, auROC, ROC, PR, confusion matrix
    epochs = [e for e in core_jobs.read_events(dirs["workspace"] / "jobs" / job_id) if e["event"] == "epoch"]
    for cand, head in enumerate(("global_region", "global_max")):  # head selection: one network per head
        mine = [e for e in epochs if e["candidate"] == cand]
        assert [e["epoch"] for e in mine if e.get("stage") == "main"] == [1, 2] and {e["head"] for e in mine} == {head}
    kept = json.loads((dirs["models"] / "tiny-run" / "metrics.json").read_text())["head_selection"]["kept"]
    assert artifacts.read_config(dirs["models"] / "tiny-run").model.head == kept
    assert {e.get("stage") for e in epochs} <= {"main", "finetune"}
    reg = artifacts.list_models(dirs["models"])
    assert list(reg["name"]) == ["tiny-run"]
    assert app.session_state["model.active"] == "tiny-run"
    cfg = artifacts.read_config(dirs["models"] / "tiny-run")
    assert any("kept **" in t and cfg.model.head in t for t in texts(app.caption))  # the selection is stated
    assert cfg.model.filters == 8 and cfg.model.input_length == 100 and cfg.train.epochs == 2
    # the name is now taken
    app.text_input(key="w.train.model_name").set_value("tiny-run")
    app.button(key=SUBMIT).click().run()
    assert any("already exists" in t for t in texts(app.error))


def _fake_running_job(dirs, epochs_done: int = 1, total: int = 5, val_auroc: float = 0.55) -> str:
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
                "val_auroc": val_auroc,
                "best_epoch": 1,
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


# ----------------------------------------------------------------------------- the form -> the job


class _FakeProc:
    """Stands in for the job's Popen: the job stays queued, nothing trains."""

    pid = 0

    def poll(self):
        return 0


@pytest.fixture
def no_launch(monkeypatch):
    monkeypatch.setattr(core_jobs, "launch", lambda folder, **kw: _FakeProc())


def _job_args(dirs) -> dict:
    (job,) = core_jobs.list_jobs(dirs["workspace"] / "jobs", kind="train")
    return job["args"]


def test_untouched_form_trains_with_the_dataclass_defaults(app, dirs, tiny_dataset, no_launch):
    goto(app, "train")
    assert app.checkbox(key="w.train.evoaug").value is AugmentConfig().enabled
    assert app.selectbox(key="w.train.strands").options == list(widgets.FIELD_CHOICES["strands"])
    app.button(key=SUBMIT).click().run()
    assert not app.error and not app.exception
    args = _job_args(dirs)
    assert args["train"] == config_to_dict(TrainConfig())
    assert args["augment"] == config_to_dict(AugmentConfig())
    assert from_dict(ModelConfig, args["model"]) == replace(ModelConfig(), input_length=100_000)


def test_form_settings_reach_the_job_args(app, dirs, tiny_dataset, no_launch):
    goto(app, "train")
    app.checkbox(key="w.train.evoaug").set_value(not AugmentConfig().enabled)
    app.number_input(key="w.train.aug.insert_max").set_value(12)
    app.number_input(key="w.train.aug.finetune_epochs").set_value(3)
    app.checkbox(key="w.train.aug.hard").set_value(not AugmentConfig().hard)
    app.multiselect(key="w.train.aug.augs").set_value(["insertion", "mutation"])
    app.selectbox(key="w.train.strands").set_value("random")
    app.selectbox(key="w.train.monitor").set_value("val_auroc")
    app.number_input(key="w.train.min_delta").set_value(0.01)
    app.selectbox(key="w.train.first_activation").set_value("exponential")
    app.selectbox(key="w.train.head").set_value("global_max")
    app.checkbox(key="w.train.batch_norm").set_value(not ModelConfig().batch_norm)
    app.button(key=SUBMIT).click().run()
    assert not app.error and not app.exception
    args = _job_args(dirs)
    aug = from_dict(AugmentConfig, args["augment"])
    assert aug == replace(
        AugmentConfig(),
        enabled=not AugmentConfig().enabled,
        insert_max=12,
        finetune_epochs=3,
        hard=not AugmentConfig().hard,
        augs=("insertion", "mutation"),
    )
    tc = from_dict(TrainConfig, args["train"])
    assert (tc.strands, tc.monitor, tc.min_delta) == ("random", "val_auroc", 0.01)
    mc = from_dict(ModelConfig, args["model"])
    assert (mc.first_activation, mc.head, mc.batch_norm) == ("exponential", "global_max", not ModelConfig().batch_norm)
    assert (mc.pad_left, mc.pad_right) == (0, 0)  # the job sets length and padding from the data and EvoAug


def test_evoaug_on_without_operations_is_an_input_error(app, dirs, tiny_dataset, no_launch):
    goto(app, "train")
    app.checkbox(key="w.train.evoaug").check()
    app.multiselect(key="w.train.aug.augs").set_value([])
    app.button(key=SUBMIT).click().run()
    assert any("no operation is chosen" in t for t in texts(app.error))
    assert core_jobs.list_jobs(dirs["workspace"] / "jobs", kind="train") == []


# ----------------------------------------------------------------------------- live curves and the early hint


def test_live_hint_when_validation_auroc_stays_at_chance(dirs, tiny_dataset):
    job_id = _fake_running_job(dirs, epochs_done=5, total=20, val_auroc=0.5)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    goto(at, "train")
    assert at.session_state["train.job_id"] == job_id
    hint = " ".join(texts(at.info))
    assert "near chance (0.5) after 5 epochs" in hint and "EvoAug" in hint


def test_no_live_hint_while_it_learns_or_too_early(dirs, tiny_dataset):
    _fake_running_job(dirs, epochs_done=4, total=20, val_auroc=0.5)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    goto(at, "train")
    assert not any("near chance" in t for t in texts(at.info))


def _epochs(vals: list[float], stage: str = "main", start: int = 1) -> list[dict]:
    return [
        {
            "epoch": start + i,
            "stage": stage,
            "loss": 0.7,
            "val_loss": 0.7 - 0.01 * (start + i),
            "auroc": 0.5,
            "val_auroc": v,
        }
        for i, v in enumerate(vals)
    ]


def test_not_learning_hint_logic():
    assert widgets.not_learning_hint(_epochs([0.5] * 4)) is None  # too early to tell
    msg = widgets.not_learning_hint(_epochs([0.5, 0.52, 0.51, 0.5, 0.54]))
    assert msg and "after 5 epochs" in msg and "0.54" in msg
    assert widgets.not_learning_hint(_epochs([0.5, 0.5, 0.5, 0.5, 0.56])) is None  # one good epoch is enough
    partial = [*_epochs([0.5] * 4), {"epoch": 5, "val_auroc": 0.5, "partial": True}]
    assert widgets.not_learning_hint(partial) is None  # a cut-short epoch does not count
    assert widgets.not_learning_hint([{"epoch": e, "val_auroc": None} for e in range(1, 9)]) is None


def test_best_epoch_and_finetune_are_marked():
    hist = _epochs([0.6, 0.7, 0.65]) + _epochs([0.66, 0.64], stage="finetune", start=4)
    assert widgets.best_epoch_of(hist) == 5  # lowest validation loss
    assert widgets.best_epoch_of(hist, monitor="val_auroc") == 2
    assert widgets.best_epoch_of(hist, best_epoch=3) == 3  # the job's own word wins
    assert widgets.best_epoch_of([]) is None
    loss, auc = widgets.history_figures(hist, best_epoch=3)
    for fig in (loss, auc):
        kinds = {sh.type: sh for sh in fig.layout.shapes}
        assert kinds["line"].x0 == 3 and kinds["rect"].x0 == 3.5 and kinds["rect"].x1 == 5.5
        notes = [a.text for a in fig.layout.annotations]
        assert "best epoch 3" in notes and "fine-tune" in notes
    loss, _ = widgets.history_figures(_epochs([0.6]))
    assert [sh.type for sh in loss.layout.shapes] == ["line"]


# ----------------------------------------------------------------------------- finished runs: verdict and baseline

BASE = {"auroc": 0.81, "auprc": 0.77, "accuracy": 0.74, "k": [3, 4], "n_test": 10, "evaluated_on": "test"}


def _fake_done_job(dirs, result: dict, history: list[dict], args: dict | None = None) -> str:
    folder = core_jobs.create_job(
        dirs["workspace"] / "jobs", "train", {"model_name": "done", "dataset_name": "x", **(args or {})}
    )
    job = json.loads((folder / "job.json").read_text())
    job.update(state="done", pid=None)
    (folder / "job.json").write_text(json.dumps(job))
    t0 = time.time() - 10
    lines = [{"event": "start", "epochs": len(history), "n_train": 40, "n_val": 10, "n_test": 10, "t": t0}]
    lines += [{"event": "epoch", "epochs": len(history), **h, "t": t0 + h["epoch"]} for h in history]
    (folder / "progress.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    (folder / "result.json").write_text(json.dumps(result))
    return folder.name


def _open_train(dirs):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    return goto(at, "train")


def test_finished_run_shows_kept_epoch_baseline_and_verdict(dirs, tiny_dataset):
    hist = _epochs([0.6, 0.7, 0.7, 0.72, 0.7])
    learning = {"status": "below_baseline", "message": "The CNN does not beat a k-mer count model."}
    metrics = {"auroc": 0.78, "auprc": 0.7, "accuracy": 0.7, "n": 10, "baseline_kmer": BASE, "learning": learning}
    _fake_done_job(dirs, {"model_path": None, "metrics": metrics, "epochs_run": 5, "best_epoch": 3}, hist)
    at = _open_train(dirs)
    assert "Training finished after 5 epochs; kept the weights of epoch 3 (lowest validation loss)." in texts(
        at.success
    )
    assert learning["message"] in texts(at.warning)
    table = next(d.value for d in at.dataframe if "model" in d.value.columns)
    assert list(table["model"]) == ["CNN", "k-mer baseline"]
    assert list(table["auROC"]) == ["0.780", "0.810"] and list(table["auPRC"]) == ["0.700", "0.770"]


def test_verdict_is_computed_when_only_the_baseline_was_saved(dirs, tiny_dataset, tmp_path):
    model = tmp_path / "old-model"
    model.mkdir()
    (model / "provenance.json").write_text(json.dumps({"best_epoch": 4}))
    metrics = {"auroc": 0.52, "auprc": 0.5, "accuracy": 0.5, "n": 10, "baseline_kmer": BASE}
    result = {"model_path": str(model), "model_name": "old-model", "metrics": metrics, "epochs_run": 6}
    _fake_done_job(dirs, result, _epochs([0.5] * 6), args={"train": {"monitor": "val_auroc"}})
    at = _open_train(dirs)
    assert any("kept the weights of epoch 4 (highest validation auROC)" in t for t in texts(at.success))
    assert any("has not learnt" in t for t in texts(at.error))


def test_older_result_without_baseline_or_verdict(dirs, tiny_dataset):
    metrics = {"auroc": 0.9, "auprc": 0.8, "accuracy": 0.8, "n": 10}
    _fake_done_job(dirs, {"model_path": None, "metrics": metrics, "epochs_run": 2}, _epochs([0.8, 0.9]))
    at = _open_train(dirs)
    assert "Training finished after 2 epochs." in texts(at.success)
    assert not at.warning and not at.error and not at.exception
    assert not any("model" in d.value.columns for d in at.dataframe)


def test_cross_validation_histories_get_no_single_best_epoch():
    hist = [{**h, "fold": f} for f in (0, 1) for h in _epochs([0.6, 0.7])]
    loss, auc = widgets.history_figures(hist)
    assert not loss.layout.shapes and not auc.layout.shapes
