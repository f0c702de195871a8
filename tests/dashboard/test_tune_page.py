"""Tune page: form errors, a real 2-trial study as a background job, reload, resume, stop, train-best.

Nothing in the core is patched.  The live-view test writes three finished trials
straight into a real study's storage (``study.add_trial``) and a job folder in
state ``running``, so the live panel can be checked without training; the other
tests run real studies (tiny data: 60 genes x 100 bp, 2 folds x 1 epoch, a small
fixed network).
"""

from __future__ import annotations

import json
import os
import time

import optuna
from streamlit.testing.v1 import AppTest

from dashboard import jobs as djobs
from dashboard import paths
from deepdife_core.jobs import runner as core_jobs
from deepdife_core.model import folder as artifacts
from deepdife_core.tune import study as tune
from tests.dashboard.apptest_helpers import APP, TIMEOUT, goto, texts

SUBMIT = "FormSubmitter:w.tune.form-Start study"
TRAIN_SUBMIT = "FormSubmitter:w.tune.train_form-Train with best parameters"
#: fixed at small values so a trial takes a second or two; learning_rate and dropout stay searched
SMALL = {"kernel_size": 8, "n_conv": 2, "filters": 8, "dense_units": 16, "batch_size": 20}


def _tune_page(at: AppTest) -> AppTest:
    return goto(at, "tune")


def _wait(job_id: str, timeout: float = 180) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline and djobs.read(job_id)["state"] in ("queued", "running"):
        time.sleep(1.0)
    return djobs.read(job_id)


def _log(dirs, job_id: str) -> str:
    return (dirs["workspace"] / "jobs" / job_id / "log.txt").read_text()[-3000:]


def _small_study_form(at: AppTest, name: str, trials: int = 2) -> None:
    at.text_input(key="w.tune.name").set_value(name)
    at.number_input(key="w.tune.trials").set_value(trials)
    at.number_input(key="w.tune.folds").set_value(2)
    at.number_input(key="w.tune.epochs").set_value(1)
    at.number_input(key="w.tune.patience").set_value(0)
    for pname, value in SMALL.items():
        at.checkbox(key=f"w.tune.p.{pname}.free").uncheck()
        at.number_input(key=f"w.tune.p.{pname}.value").set_value(value)
    for pname in ("l2", "evoaug", "evoaug_strength"):
        at.checkbox(key=f"w.tune.p.{pname}.free").uncheck()


def _trial_table(at: AppTest):
    return next(d.value for d in at.dataframe if "state" in d.value.columns)


def test_empty_page_and_studies_folder(app, dirs):
    _tune_page(app)
    assert any("No dataset yet" in t for t in texts(app.warning))
    assert "No studies yet." in texts(app.caption)
    # the dashboard and the core agree on where studies live
    assert paths.studies_dir() == tune.studies_dir() == dirs["workspace"].resolve() / "studies"


def test_bad_space_is_reported_readably(app, dirs, tiny_dataset):
    _tune_page(app)
    app.number_input(key="w.tune.p.dropout.low").set_value(0.6)
    app.number_input(key="w.tune.p.dropout.high").set_value(0.1)
    app.button(key=SUBMIT).click().run()
    errors = " ".join(texts(app.error))
    assert "'dropout'" in errors and "above upper bound" in errors, errors
    assert not app.exception
    app.number_input(key="w.tune.p.dropout.low").set_value(0.0)
    app.text_input(key="w.tune.p.filters.choices").set_value("16, many")
    app.button(key=SUBMIT).click().run()
    assert any("'filters'" in t and "not whole numbers" in t for t in texts(app.error))
    app.text_input(key="w.tune.p.filters.choices").set_value("16, 32")
    for name in tune.PARAM_NAMES:
        app.checkbox(key=f"w.tune.p.{name}.free").uncheck()
    app.button(key=SUBMIT).click().run()
    assert any("no parameter is searched" in t for t in texts(app.error))
    app.checkbox(key="w.tune.p.dropout.free").check()
    app.text_input(key="w.tune.name").set_value("../escape")
    app.button(key=SUBMIT).click().run()
    assert any("study name '../escape' is not allowed" in t for t in texts(app.error))
    assert djobs.list_kind("tune") == [] and not list(paths.studies_dir().glob("*.db"))


def test_existing_study_on_another_dataset_is_refused(app, dirs, tiny_dataset, tmp_path):
    from deepdife_core.data.demo import make_demo_dataset

    other = tmp_path / "other.csv"
    make_demo_dataset(60, length=100, seed=6)[["gene_id", "label", "family", "sequence"]].to_csv(other, index=False)
    tune.prepare_study("shared", data=other)  # the page's default settings, another table
    _tune_page(app)
    app.text_input(key="w.tune.name").set_value("shared")
    app.button(key=SUBMIT).click().run()
    errors = " ".join(texts(app.error))
    assert "study 'shared' was run on a different dataset" in errors, errors
    assert djobs.list_kind("tune") == []


def test_recorded_postgres_password_is_never_shown(app, dirs):
    folder = paths.studies_dir()
    rec = {"name": "remote", "storage": "postgresql://tuner:***@127.0.0.1:1/optuna", "data": "x.csv", "updated": "z"}
    (folder / "remote.json").write_text(json.dumps(rec))
    _tune_page(app)
    errors = " ".join(texts(app.error))
    assert "password not recorded" in errors and "\\*\\*\\*" in errors  # '***', escaped for markdown
    assert not app.exception


def _fake_live_study(dirs) -> str:
    """A real study with three finished trials written into its storage, and a 'running' job on it."""
    from dashboard.datasets import dataset_folder

    rec = tune.prepare_study("live", data=dataset_folder("tiny") / "data.csv")
    study = optuna.load_study(study_name="live", storage=rec["storage_url"])
    dist = {
        "learning_rate": optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True),
        "dropout": optuna.distributions.FloatDistribution(0.0, 0.5),
    }
    for lr, dr, value in ((1e-3, 0.1, 0.71), (3e-3, 0.3, 0.78), (5e-4, 0.2, None)):
        state = optuna.trial.TrialState.COMPLETE if value is not None else optuna.trial.TrialState.PRUNED
        study.add_trial(
            optuna.trial.create_trial(
                state=state,
                value=value,
                params={"learning_rate": lr, "dropout": dr},
                distributions=dist,
                intermediate_values={1: value or 0.5},
                user_attrs={"epochs": 2},
            )
        )
    study.ask(dist)  # a trial in flight (RUNNING, started now)
    time.sleep(0.05)
    folder = core_jobs.create_job(dirs["workspace"] / "jobs", "tune", {"study": "live", "trials": 5, "workers": 2})
    job = json.loads((folder / "job.json").read_text())
    job.update(state="running", pid=os.getpid())
    (folder / "job.json").write_text(json.dumps(job))
    return folder.name


def test_live_view_after_reload_and_stop(dirs, tiny_dataset):
    job_id = _fake_live_study(dirs)
    fresh = AppTest.from_file(str(APP), default_timeout=TIMEOUT)  # a new browser session finds the running study
    fresh.run()
    _tune_page(fresh)
    assert fresh.session_state["tune.study"] == "live"
    bar = fresh.get("progress")[0]
    assert "3 of 5 trials" in bar.proto.text and "2 complete, 1 pruned) · 1 running" in bar.proto.text
    table = _trial_table(fresh)
    assert list(table["number"]) == [3, 2, 1, 0]
    assert list(table["state"]) == ["RUNNING", "PRUNED", "COMPLETE", "COMPLETE"]
    assert table["value"].iloc[2] == 0.78 and "learning_rate=" in table["params"].iloc[1]
    assert 0 < table["duration_s"].iloc[0] < 60  # running for so long
    assert table["value"].iloc[[0, 1]].isna().all()  # no value for running or pruned trials
    assert any(m.label.startswith("Best auroc") and m.value == "0.7800" for m in fresh.metric)
    assert len(fresh.get("plotly_chart")) == 3  # history, parallel coordinates, importances
    assert not fresh.error
    # resuming a study that is running is refused, readably
    fresh.radio(key="w.tune.mode").set_value("Resume a study").run()
    fresh.number_input(key="w.tune.resume_trials.live").set_value(8)
    fresh.button(key="w.tune.resume").click().run()
    assert any("already running in job" in t for t in texts(fresh.error))
    fresh.button(key=f"w.tune.stop.{job_id}").click().run()
    assert (dirs["workspace"] / "jobs" / job_id / "stop").exists()
    assert any("Stop requested" in t for t in texts(fresh.info))


def test_one_completed_trial_has_no_importances(app, dirs, tiny_dataset):
    from dashboard.datasets import dataset_folder

    rec = tune.prepare_study("one", data=dataset_folder("tiny") / "data.csv")
    study = optuna.load_study(study_name="one", storage=rec["storage_url"])
    dist = {"learning_rate": optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True)}
    study.add_trial(optuna.trial.create_trial(value=0.6, params={"learning_rate": 1e-3}, distributions=dist))
    _tune_page(app)
    assert any("Parameter importances: need at least 2 completed trials" in t for t in texts(app.caption))
    assert len(app.get("plotly_chart")) == 2 and not app.error


def test_real_study_resume_and_train_best(app, dirs, tiny_dataset):
    _tune_page(app)
    _small_study_form(app, "real", trials=2)
    app.button(key=SUBMIT).click().run()
    assert not app.error and not app.exception, texts(app.error)
    job_id = app.session_state["tune.job_id"]
    assert app.session_state["tune.study"] == "real"
    assert (dirs["workspace"] / "studies" / "real.json").is_file()  # created before the job started
    assert app.button(key=f"w.tune.stop.{job_id}")  # the live panel
    job = _wait(job_id)
    assert job["state"] == "done", (job, _log(dirs, job_id))
    app.run()
    assert any("reached its number of trials" in t for t in texts(app.success))
    table = _trial_table(app)
    assert sorted(table["number"]) == [0, 1] and set(table["state"]) == {"COMPLETE"}
    assert table["duration_s"].notna().all()
    assert len(app.get("plotly_chart")) == 3
    best = tune.best_params("real")
    assert best["params"]["filters"] == 8 and best["value"] == table["value"].max()

    # a new browser session shows the same, read from storage
    fresh = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    fresh.run()
    _tune_page(fresh)
    assert list(_trial_table(fresh)["number"]) == [1, 0]
    assert any(m.value == f"{best['value']:.4f}" for m in fresh.metric)

    # resume to 3 trials: too small a budget is refused, a larger one runs one more trial
    app.radio(key="w.tune.mode").set_value("Resume a study").run()
    app.number_input(key="w.tune.resume_trials.real").set_value(2)
    app.button(key="w.tune.resume").click().run()
    assert any("has 2 finished trials already" in t for t in texts(app.error))
    app.number_input(key="w.tune.resume_trials.real").set_value(3)
    app.button(key="w.tune.resume").click().run()
    resume_id = app.session_state["tune.job_id"]
    assert resume_id != job_id and "space" not in djobs.read(resume_id)["args"]
    assert _wait(resume_id)["state"] == "done", _log(dirs, resume_id)
    app.run()
    assert sorted(_trial_table(app)["number"]) == [0, 1, 2]

    # train with the best parameters: a model in the registry whose provenance names the study
    app.text_input(key="w.tune.model_name.real").set_value("real-best")
    app.number_input(key="w.tune.train_epochs").set_value(1)
    app.button(key=TRAIN_SUBMIT).click().run()
    assert not app.error, texts(app.error)
    train_job = djobs.list_kind("tune_train")[0]
    assert _wait(train_job["id"])["state"] == "done", _log(dirs, train_job["id"])
    app.run()
    assert any("Model real-best is in the registry" in t for t in texts(app.success))
    assert list(artifacts.list_models(dirs["models"])["name"]) == ["real-best"]
    prov = json.loads((dirs["models"] / "real-best" / "provenance.json").read_text())
    best = tune.best_params("real")
    assert prov["tuning"]["study"] == "real" and prov["tuning"]["trial"] == best["trial"]
    assert prov["dataset"] == "tiny"
    cfg = artifacts.read_config(dirs["models"] / "real-best")
    assert cfg.model.filters == 8 and cfg.train.learning_rate == best["params"]["learning_rate"]
    # the name is taken now
    app.button(key=TRAIN_SUBMIT).click().run()
    assert any("already exists" in t for t in texts(app.error))
