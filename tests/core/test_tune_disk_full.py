"""Issue 19 point 6: tuning on a full disk ends in one line, like every other command.

The full disk is simulated where SQLite reports it: the storage's commit of a finished
trial raises SQLAlchemy's ``OperationalError`` wrapping ``sqlite3``'s "database or disk is
full" (for a worker process, a spawned one exits with :data:`tune.DISK_FULL_EXIT`).
"""

from __future__ import annotations

import errno
import json
import sqlite3
import subprocess
from pathlib import Path

import optuna
import pytest
import sqlalchemy.exc

from deepdife_core.cli.main import main
from deepdife_core.tune import study as tune

SMALL = {"n_conv": 1, "filters": 8, "dense_units": 8, "kernel_size": 8, "evoaug": False, "batch_size": 32}


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> Path:
    from deepdife_core.data.demo import make_demo_dataset

    path = tmp_path_factory.mktemp("tune_full") / "tiny.csv"
    make_demo_dataset(80, length=80, seed=4)[["gene_id", "label", "family", "sequence"]].to_csv(path, index=False)
    return path


def _full(*args, **kwargs):
    raise sqlalchemy.exc.OperationalError(
        "UPDATE trials SET state=?", {}, sqlite3.OperationalError("database or disk is full")
    )


def _tune_args(table: Path) -> list[str]:
    fixes = [x for k, v in SMALL.items() for x in ("--fix", f"{k}={json.dumps(v)}")]
    return ["tune", "--data", str(table), "--study", "full", "--trials", "3", "--epochs", "1", "--folds", "2", *fixes]


def test_tune_on_a_full_disk_says_so_in_one_line(table, tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("DEEPDIFE_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setattr(optuna.storages.RDBStorage, "set_trial_state_values", _full)
    code = main(_tune_args(table))
    err = capfd.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2
    assert len(lines) == 1, err
    assert lines[0].startswith("error: cannot write study 'full'") and "the disk is full" in lines[0]
    assert "Traceback" not in err and "sqlalchemy" not in err.lower()


def test_a_full_disk_before_any_trial_is_one_line_too(table, tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("DEEPDIFE_WORKSPACE", str(tmp_path / "ws"))

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(optuna, "create_study", no_space)
    code = main(_tune_args(table))
    err = capfd.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "the disk is full" in err, err


def test_spawned_workers_that_find_the_disk_full_are_reported_once(table, tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("DEEPDIFE_WORKSPACE", str(tmp_path / "ws"))

    class Done:
        def wait(self):
            return tune.DISK_FULL_EXIT

        def poll(self):
            return tune.DISK_FULL_EXIT

    monkeypatch.setattr(tune, "spawn_worker", lambda *a, **k: Done())
    code = main([*_tune_args(table), "--workers", "2"])
    err = capfd.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "the disk is full" in err, err


def test_a_worker_process_on_a_full_disk_exits_quietly_with_its_code(monkeypatch, capsys):
    def full(*a, **k):
        raise tune.disk_full_error("s", "sqlite:///x.db")

    monkeypatch.setattr(tune, "run_worker", full)
    monkeypatch.setenv(tune.WORKER_ENV, "1")
    assert tune._worker_main(["worker", "--study", "s", "--trials", "1"]) == tune.DISK_FULL_EXIT
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "exc",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        sqlite3.OperationalError("database or disk is full"),
        sqlalchemy.exc.OperationalError("INSERT", {}, sqlite3.OperationalError("database or disk is full")),
        RuntimeError("wrapped"),
    ],
)
def test_disk_full_sees_through_wrappers(exc):
    if isinstance(exc, RuntimeError):
        exc.__cause__ = OSError(errno.EDQUOT, "Disk quota exceeded")
    assert tune.disk_full(exc)
    assert not tune.disk_full(ValueError("x")) and not tune.disk_full(subprocess.TimeoutExpired("c", 1))
