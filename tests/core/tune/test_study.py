"""Hyperparameter tuning: search space, workers on SQLite and PostgreSQL, kill + resume, pruning, CLI.

Tiny data (120 genes x 100 bp, 2 folds x 2 epochs, a small fixed architecture)
so a trial takes about two seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import optuna
import pytest

from deepdife_core.config import AugmentConfig, ModelConfig, PhyloConfig, RunConfig, TrainConfig
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.tune import study as tune
from tests.core.tune.helpers import SMALL

SPACE = tune.SearchSpace().fix(**SMALL)  # searches learning_rate, dropout, l2
BASE = RunConfig(train=TrainConfig(epochs=2, early_stopping_patience=0, reduce_lr_patience=0))
TUNE = tune.TuneConfig(folds=2, startup_trials=2)


def states(name: str, storage: str) -> list[str]:
    return [t.state.name for t in optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False)]


# ----------------------------------------------------------------------------- space (no training)


def test_space_round_trip_fix_free_and_bounds():
    space = tune.SearchSpace()
    assert set(space.free_names) == set(tune.PARAM_NAMES) - {"phylo_rate"}
    again = tune.SearchSpace.from_dict(json.loads(json.dumps(space.to_dict())))
    assert again == space
    s2 = tune.SearchSpace.from_dict({"learning_rate": {"low": 1e-5, "high": 1e-1}, "filters": 32})
    assert s2.params["learning_rate"].log and s2.params["learning_rate"].low == 1e-5
    assert not s2.params["filters"].free and s2.params["filters"].value == 32
    assert "filters" not in s2.fix(filters=8).free_names and "filters" in s2.free("filters").free_names
    with pytest.raises(DeepDifEInputError, match="unknown tuning parameter 'momentum'"):
        tune.SearchSpace.from_dict({"momentum": 0.9})
    with pytest.raises(DeepDifEInputError, match="log-scaled"):
        tune.SearchSpace.from_dict({"l2": {"low": 0.0}})
    with pytest.raises(DeepDifEInputError, match="above upper bound"):
        tune.SearchSpace.from_dict({"dropout": {"low": 0.6, "high": 0.1}})
    with pytest.raises(DeepDifEInputError, match="longer than the sequences"):
        space.check_for(20, has_orthologs=False)
    with pytest.raises(DeepDifEInputError, match="orthologs"):
        space.free("phylo_rate").check_for(600, has_orthologs=False)
    with pytest.raises(DeepDifEInputError, match="metric"):
        tune.TuneConfig(metric="accuracy")
    assert isinstance(tune.make_pruner(tune.TuneConfig(pruner="hyperband"), BASE), optuna.pruners.HyperbandPruner)
    assert isinstance(tune.make_pruner(tune.TuneConfig(), BASE), optuna.pruners.MedianPruner)


def test_apply_params_maps_every_parameter():
    params = {
        "learning_rate": 0.01,
        "kernel_size": 10,
        "n_conv": 2,
        "filters": 32,
        "dropout": 0.1,
        "dense_units": 64,
        "batch_size": 64,
        "l2": 1e-5,
        "evoaug": True,
        "evoaug_strength": 0.5,
        "phylo_rate": 0.3,
    }
    mc, tc, aug, phylo = tune.apply_params(params, ModelConfig(), TrainConfig(), AugmentConfig(), PhyloConfig())
    assert (mc.kernel_size, mc.n_conv, mc.filters, mc.dropout, mc.l2) == (10, 2, 32, 0.1, 1e-5)
    assert mc.dense_units == (64, 32)
    assert (tc.learning_rate, tc.batch_size) == (0.01, 64)
    assert aug.enabled and aug.insert_max == 10 and aug.delete_max == 15 and aug.mutate_frac == pytest.approx(0.025)
    assert phylo.rate == 0.3


# ----------------------------------------------------------------------------- workers and storage


def test_two_workers_share_one_fresh_sqlite_study(table, tmp_path):
    ws = tmp_path / "ws"
    res = tune.run_study(
        "two", 4, data=table, workers=2, space=SPACE, tune=TUNE, base=BASE, workspace=ws, heartbeat_interval=2
    )
    assert res["counts"]["finished"] == 4 and res["counts"]["fail"] == 0 and res["counts"]["running"] == 0
    url = tune.default_storage("two", ws)
    assert (ws / "studies" / "two.db").exists()
    rec = json.loads((ws / "studies" / "two.json").read_text())
    assert (
        rec["storage"] == url and rec["data"] == str(table.resolve()) and rec["space"] == tune._plain(SPACE.to_dict())
    )
    df = tune.trials_table("two", workspace=ws)
    assert sorted(df["number"]) == [0, 1, 2, 3]
    assert set(df["state"]) <= {"COMPLETE", "PRUNED"}
    assert {"number", "state", "value", "params", "duration_s"} <= set(df.columns)
    assert df["duration_s"].notna().all() and "param_learning_rate" in df.columns
    best = tune.best_params("two", workspace=ws)
    assert set(best["params"]) == set(tune.PARAM_NAMES) and best["params"]["filters"] == 16


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    """A throw-away PostgreSQL server on 127.0.0.1 (initdb/pg_ctl as the postgres user when root)."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb is None:
        for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
            initdb, pg_ctl = str(d / "initdb"), str(d / "pg_ctl")
            break
    if not initdb or not Path(initdb).exists():
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    pytest.importorskip("psycopg2")
    root = Path(tempfile.mkdtemp(prefix="deepdife-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", _free_port()
    subprocess.run(
        [*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "postgres"], check=True, capture_output=True
    )
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def test_two_workers_on_postgresql(table, tmp_path, postgres_url):
    ws = tmp_path / "ws"
    res = tune.run_study(
        "pg",
        4,
        data=table,
        storage=postgres_url,
        workers=2,
        space=SPACE,
        tune=TUNE,
        base=BASE,
        workspace=ws,
        heartbeat_interval=2,
    )
    assert res["counts"]["finished"] == 4 and res["counts"]["fail"] == 0
    df = tune.trials_table("pg", postgres_url)
    assert sorted(df["number"]) == [0, 1, 2, 3]
    rec = tune.load_record("pg", ws)
    assert rec["storage"].startswith("postgresql+psycopg2://postgres@127.0.0.1")
    assert not list((ws / "studies").glob("*.db"))


def test_killed_worker_resumes_with_earlier_trials_intact(table, tmp_path):
    ws = tmp_path / "ws"
    base = RunConfig(train=TrainConfig(epochs=3, early_stopping_patience=0, reduce_lr_patience=0))
    rec = tune.prepare_study("kill", data=table, space=SPACE, tune=TUNE, base=base, workspace=ws)
    url = rec["storage_url"]
    proc = tune.spawn_worker("kill", 4, storage=url, workspace=ws, heartbeat_interval=1, grace_period=3, quiet=True)
    study = optuna.load_study(study_name="kill", storage=url)
    deadline = time.time() + 120
    try:
        while time.time() < deadline:
            trials = study.get_trials(deepcopy=False)
            done = [t for t in trials if t.state.is_finished()]
            running = [t for t in trials if t.state.name == "RUNNING" and t.intermediate_values]
            if done and running:
                break
            assert proc.poll() is None, "the worker ended before it could be killed"
            time.sleep(0.1)
        else:
            pytest.fail("no trial was caught mid-training")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    before = {t.number: (t.state.name, t.value, t.params) for t in study.get_trials() if t.state.is_finished()}
    killed = [t.number for t in study.get_trials() if t.state.name == "RUNNING"]
    assert len(killed) == 1
    # restart: the stale trial is failed after the grace period and its budget slot is run again
    tune.run_worker("kill", 4, storage=url, workspace=ws, heartbeat_interval=1, grace_period=3, quiet=True)
    after = {t.number: t for t in study.get_trials()}
    assert after[killed[0]].state.name == "FAIL"
    assert sum(t.state.name in ("COMPLETE", "PRUNED") for t in after.values()) == 4
    for number, (state, value, params) in before.items():
        assert (after[number].state.name, after[number].value, after[number].params) == (state, value, params)
    assert len({t.number for t in after.values()}) == len(after)


@pytest.mark.filterwarnings("ignore:Fixed parameter learning_rate")
def test_pruner_stops_a_trial_that_cannot_learn(table, tmp_path):
    ws = tmp_path / "ws"
    cfg = tune.TuneConfig(metric="loss", folds=2, startup_trials=2, warmup_steps=0, sampler="random")
    rec = tune.prepare_study("prune", data=table, space=SPACE, tune=cfg, base=BASE, workspace=ws)
    url = rec["storage_url"]
    study = optuna.load_study(study_name="prune", storage=url)
    for lr in (1e-3, 2e-3, 10.0):  # two sane trials, then a learning rate that blows up
        study.enqueue_trial({"learning_rate": lr, "dropout": 0.1, "l2": 1e-6})
    tune.run_worker("prune", 3, storage=url, workspace=ws, heartbeat_interval=2, quiet=True)
    trials = study.get_trials()
    assert [t.state.name for t in trials] == ["COMPLETE", "COMPLETE", "PRUNED"]
    assert trials[2].params["learning_rate"] == 10.0
    assert trials[2].user_attrs["epochs"] < trials[0].user_attrs["epochs"]
    assert trials[2].user_attrs["pruned_at"]["fold"] == 0


# ----------------------------------------------------------------------------- CLI
