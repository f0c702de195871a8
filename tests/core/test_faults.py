"""Faults (issue 8): a training job killed with SIGKILL, a save that hits a full disk or an
unwritable folder, a stop before the first epoch, file permissions of written artifacts.

What must hold: no half-written model appears in the registry listing, the job reads
as failed (lost), a new job works afterwards, write failures are one clear
:class:`~deepdife_core.errors.DeepDifEInputError` and earlier artifacts stay intact.
Motif and tuning jobs are covered with their own job modules.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from deepdife_core import files as _files
from deepdife_core.config import ModelConfig, RunConfig, TrainConfig
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.jobs import runner as core_jobs
from deepdife_core.model import folder as _folder

ROOT = Path(__file__).resolve().parents[2]
CFG = ModelConfig(input_length=60, kernel_size=6, filters=4, dense_units=(4,))
SMALL_NET = {"filters": 8, "kernel_size": 8, "dense_units": [16]}


@pytest.fixture(scope="module")
def small_df() -> pd.DataFrame:
    """80 synthetic genes of 100 bp (seeded): a few batches per epoch."""
    from deepdife_core.data.demo import make_demo_dataset

    return make_demo_dataset(80, length=100, seed=21)[["gene_id", "label", "family", "sequence"]]


def _save(root: Path, name: str = "m", **kw) -> Path:
    from deepdife_core.model.cnn import build_model

    return _folder.save_model_folder(root / name, models=[build_model(CFG)], config=RunConfig(model=CFG), **kw)


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


# ----------------------------------------------------------------------------- kill -9


def test_sigkill_of_a_training_job_leaves_no_model_and_reads_as_lost(tmp_path, small_df):
    """kill -9 mid-training: no model (nor temp folder) in the registry, the job reads failed/lost, a rerun works."""
    data = tmp_path / "d.csv"
    small_df.to_csv(data, index=False)
    models, jobs_root = tmp_path / "models", tmp_path / "jobs"
    args = {
        "dataset_path": str(data),
        "models_root": str(models),
        "model_name": "victim",
        "model": SMALL_NET,
        "train": {"epochs": 500, "batch_size": 10, "early_stopping_patience": 0, "reduce_lr_patience": 0},
    }
    folder, proc = core_jobs.start_job(jobs_root, "train", args)
    try:
        _wait_for(
            lambda: any(e.get("event") == "epoch" for e in core_jobs.read_events(folder)) or proc.poll() is not None,
            180,
            "the first epoch",
        )
        assert proc.poll() is None, (folder / "log.txt").read_text()
        assert core_jobs.read_job(folder)["state"] == "running"
        os.killpg(proc.pid, signal.SIGKILL)  # the job runs in its own session: its group is its pid
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    job = core_jobs.read_job(folder)
    assert job["state"] == "failed" and job["error_kind"] == "lost"
    assert core_jobs.read_result(folder) is None
    assert _folder.list_models(models).empty
    assert not models.exists() or [p.name for p in models.iterdir()] == []  # not even a temp folder
    # a new job on the same data and name works
    args["train"] = {**args["train"], "epochs": 1}
    assert core_jobs.run_job(core_jobs.create_job(jobs_root, "train", args)) == 0
    assert _folder.list_models(models)["name"].tolist() == ["victim"]
    assert [j["state"] for j in core_jobs.list_jobs(jobs_root)] in (["done", "failed"], ["failed", "done"])


SAVE_THEN_HANG = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    from deepdife_core.model import folder as _folder
    from deepdife_core.config import ModelConfig, RunConfig
    from deepdife_core.model.cnn import build_model

    real = _folder.atomic_write_json
    def slow(path, obj):  # model.keras is on disk, the JSON files are not: hang here
        print("saving", flush=True)
        time.sleep(600)
    _folder.atomic_write_json = slow  # the name save_model_folder calls
    cfg = ModelConfig(input_length=60, kernel_size=6, filters=4, dense_units=(4,))
    _folder.save_model_folder({target!r}, models=[build_model(cfg)], config=RunConfig(model=cfg), overwrite=True)
    """
)


def test_sigkill_while_saving_never_shows_half_a_model(tmp_path):
    """A process killed in the middle of writing a model folder leaves the old model listed, unchanged."""
    models = tmp_path / "models"
    old = _save(models, "m", metrics={"auroc": 0.7})
    before = _tree(old)
    proc = subprocess.Popen(
        [sys.executable, "-c", SAVE_THEN_HANG.format(root=str(ROOT), target=str(old))],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "saving"
        temp = [p for p in models.iterdir() if p.name.startswith(".tmp-m-")]
        assert len(temp) == 1 and (temp[0] / "model.keras").is_file()  # half a model exists, hidden
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    reg = _folder.list_models(models)
    assert reg["name"].tolist() == ["m"] and reg["test_auroc"].tolist() == [0.7]
    assert _tree(old) == before
    assert _folder.load_model(old).config == CFG


# ----------------------------------------------------------------------------- full disk / unwritable folder


FILL_DISK = textwrap.dedent(
    """
    import resource, signal, sys
    sys.path.insert(0, {root!r})
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    from deepdife_core.model import folder as _folder
    from deepdife_core.config import ModelConfig, RunConfig
    from deepdife_core.errors import DeepDifEInputError
    from deepdife_core.model.cnn import build_model

    cfg = ModelConfig(input_length=60, kernel_size=6, filters=4, dense_units=(4,))
    model = build_model(cfg, seed=5)
    resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, resource.RLIM_INFINITY))  # the kernel refuses bigger files
    try:
        _folder.save_model_folder({target!r}, models=[model], config=RunConfig(model=cfg), overwrite=True,
                                    metrics={{"auroc": 0.99}})
    except DeepDifEInputError as exc:
        print("INPUT-ERROR", exc)
    """
)


def test_a_write_the_kernel_refuses_is_a_clear_error_and_keeps_the_old_model(tmp_path):
    """A real failed write (RLIMIT_FSIZE: the kernel returns EFBIG, works even as root) while saving a model."""
    models = tmp_path / "models"
    old = _save(models, "m", metrics={"auroc": 0.7})
    before = _tree(old)
    size = (old / "model.keras").stat().st_size
    out = subprocess.run(
        [sys.executable, "-c", FILL_DISK.format(root=str(ROOT), target=str(old), limit=size // 2)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    line = out.stdout.strip().splitlines()[-1]
    assert line.startswith("INPUT-ERROR cannot write") and "larger than this system allows" in line, line
    assert "Traceback" not in out.stdout
    assert _tree(old) == before
    assert [p.name for p in models.iterdir()] == ["m"]  # no temp folder left
    assert _folder.list_models(models)["test_auroc"].tolist() == [0.7]


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES, errno.EROFS])
def test_full_disk_or_unwritable_while_writing_json_keeps_the_old_model(tmp_path, monkeypatch, code):
    """The same through the atomic writer's flush to disk (fsync raises like a full disk would)."""
    models = tmp_path / "models"
    old = _save(models, "m", metrics={"auroc": 0.7})
    before = _tree(old)

    def fail(fd):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(DeepDifEInputError, match=r"cannot write .*(disk is full|permission denied|read-only)") as exc:
        _save(models, "m", metrics={"auroc": 0.9}, overwrite=True)
    assert "\n" not in str(exc.value) and "nothing was changed" in str(exc.value)
    monkeypatch.undo()
    assert _tree(old) == before
    assert [p.name for p in models.iterdir()] == ["m"]
    # a new model elsewhere in the same registry is not affected either
    assert _folder.list_models(models)["test_auroc"].tolist() == [0.7]


def test_keras_save_failing_with_enospc_is_a_clear_error(tmp_path):
    from deepdife_core.model.cnn import build_model

    models = tmp_path / "models"
    old = _save(models, "m")
    before = _tree(old)
    model = build_model(CFG)

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    model.save = full
    with pytest.raises(DeepDifEInputError, match="the disk is full"):
        _folder.save_model_folder(old, models=[model], config=RunConfig(model=CFG), overwrite=True)
    assert _tree(old) == before and [p.name for p in models.iterdir()] == ["m"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions (the EFBIG/ENOSPC tests cover root)")
def test_read_only_registry_is_a_clear_error(tmp_path):
    models = tmp_path / "models"
    old = _save(models, "m")
    before = _tree(old)
    models.chmod(0o555)
    try:
        with pytest.raises(DeepDifEInputError, match="permission denied"):
            _save(models, "m2")
        with pytest.raises(DeepDifEInputError, match="permission denied"):
            _save(models, "m", overwrite=True)
    finally:
        models.chmod(0o755)
    assert _tree(old) == before and [p.name for p in models.iterdir()] == ["m"]


def test_training_job_on_a_full_disk_fails_with_a_message(tmp_path, small_df, monkeypatch):
    """Through the job runner: state failed, error_kind input, a readable message; no model, no temp folder."""
    data = tmp_path / "d.csv"
    small_df.to_csv(data, index=False)
    models = tmp_path / "models"
    earlier = _save(models, "earlier")
    before = _tree(earlier)
    folder = core_jobs.create_job(
        tmp_path / "jobs",
        "train",
        {
            "dataset_path": str(data),
            "models_root": str(models),
            "model_name": "new",
            "model": SMALL_NET,
            "train": {"epochs": 1, "batch_size": 40},
        },
    )
    real_fsync = os.fsync

    def fsync_full(fd):  # the disk fills up while the model folder is written; job files still fit
        if any(p.name.startswith(".tmp-new-") for p in models.iterdir()):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_full)
    assert core_jobs.run_job(folder) == 2
    monkeypatch.undo()
    job = core_jobs.read_job(folder)
    assert job["state"] == "failed" and job["error_kind"] == "input"
    assert job["error"].startswith("cannot write") and "the disk is full" in job["error"]
    assert [e["event"] for e in core_jobs.read_events(folder)][-1] == "error"
    assert sorted(p.name for p in models.iterdir()) == ["earlier"]
    assert _tree(earlier) == before


def test_dataset_save_on_a_full_disk_keeps_the_old_dataset(tmp_path, monkeypatch, small_df):
    from dashboard.datasets import dataset_folder, list_datasets, save_dataset

    monkeypatch.setenv("DEEPDIFE_WORKSPACE", str(tmp_path / "ws"))
    save_dataset(small_df, "set", {"source": {"kind": "test"}})
    before = _tree(dataset_folder("set"))
    real_fsync = os.fsync

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(DeepDifEInputError, match="the disk is full"):
        save_dataset(small_df.head(20), "set", {"source": {"kind": "test"}}, overwrite=True)
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert _tree(dataset_folder("set")) == before
    assert [d["name"] for d in list_datasets()] == ["set"]
    assert [p.name for p in dataset_folder("set").parent.iterdir()] == ["set"]


# ----------------------------------------------------------------------------- stop before the first epoch, permissions


def test_stop_before_the_first_epoch_saves_no_model(tmp_path, small_df):
    """A stop request that arrives before any epoch finished: result stopped, no model folder, no metrics."""
    from deepdife_core.train.fit import train_dataset

    calls = {"n": 0}

    def stop_at_second_batch() -> bool:
        calls["n"] += 1
        return calls["n"] >= 2

    res = train_dataset(
        small_df,
        model_cfg=ModelConfig(**{**SMALL_NET, "dense_units": (16,)}),
        train_cfg=TrainConfig(epochs=5, batch_size=10),
        out=tmp_path / "models" / "early",
        should_stop=stop_at_second_batch,
    )
    assert res.stopped and res.path is None and res.metrics == {}
    assert [h.get("partial") for h in res.history] == [True]  # one batch of the first epoch ran, then the stop
    assert not (tmp_path / "models").exists() or not list((tmp_path / "models").iterdir())


def test_cross_validation_stopped_before_an_epoch_keeps_no_untrained_member(tmp_path, small_df):
    """CV: a stop before any epoch saves nothing; a stop at the start of fold 1 keeps only fold 0's model."""
    from deepdife_core.train.fit import cross_validate

    common = {
        "k": 2,
        "model_cfg": ModelConfig(**{**SMALL_NET, "dense_units": (16,)}),
        "train_cfg": TrainConfig(epochs=1, batch_size=20),
    }
    res = cross_validate(small_df, out=tmp_path / "none", should_stop=lambda: True, **common)
    assert res.stopped and res.path is None and res.metrics == {} and not (tmp_path / "none").exists()
    seen: dict[str, bool] = {"fold1": False}

    def progress(event: dict) -> None:
        if event.get("event") == "start" and event.get("fold") == 1:
            seen["fold1"] = True

    res = cross_validate(small_df, out=tmp_path / "one", progress=progress, should_stop=lambda: seen["fold1"], **common)
    assert res.stopped and res.path == tmp_path / "one"
    assert [fm["fold"] for fm in res.metrics["cv"]["folds"]] == [0]
    assert len(_folder.load_model(res.path).models) == 1
    assert set(res.oof["fold"]) == {0}


def test_stopped_job_before_first_epoch_reports_no_model(tmp_path, small_df):
    """Through the job runner: the stop file appears after the start event, before the first epoch ends."""
    import threading

    data = tmp_path / "d.csv"
    small_df.to_csv(data, index=False)
    args = {
        "dataset_path": str(data),
        "models_root": str(tmp_path / "models"),
        "model_name": "m",
        "model": SMALL_NET,
        "train": {"epochs": 3, "batch_size": 10},
    }
    folder = core_jobs.create_job(tmp_path / "jobs", "train", args)
    stop_file = folder / core_jobs.STOP_FILE

    def stopper() -> None:  # as soon as training has started (start event), ask it to stop
        deadline = time.time() + 120
        while time.time() < deadline and not any(e.get("event") == "start" for e in core_jobs.read_events(folder)):
            time.sleep(0.005)
        stop_file.touch()

    from deepdife_core.train import fit as train_mod

    real_fit = train_mod.fit

    def fit_after_stop(*a, **k):  # make sure the stop file exists before the first batch (no race)
        _wait_for(stop_file.exists, 60, "the stop file")
        return real_fit(*a, **k)

    t = threading.Thread(target=stopper)
    t.start()
    try:
        train_mod.fit = fit_after_stop
        assert core_jobs.run_job(folder) == 0
    finally:
        train_mod.fit = real_fit
        t.join()
    assert core_jobs.read_job(folder)["state"] == "stopped"
    res = core_jobs.read_result(folder)
    assert res["stopped"] is True and res["model_path"] is None and res["epochs_run"] == 0
    assert "no model was saved" in res["note"]
    assert not (tmp_path / "models" / "m").exists()


def test_written_files_get_normal_permissions(tmp_path):
    """Atomic writes used to leave mkstemp's 0600; files now get 0666 minus the umask (0644 with umask 022)."""
    old = os.umask(0o022)
    try:
        _files.atomic_write_text(tmp_path / "a.txt", "x")
        _files.atomic_write_json(tmp_path / "b.json", {"a": 1})
        folder = _save(tmp_path / "models", "m")
        os.umask(0o027)
        _files.atomic_write_text(tmp_path / "c.txt", "x")
    finally:
        os.umask(old)
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(tmp_path / "a.txt") == 0o644 and mode(tmp_path / "b.json") == 0o644
    assert mode(tmp_path / "c.txt") == 0o640
    assert {mode(p) for p in folder.iterdir() if p.is_file()} == {0o644}
    assert mode(folder) == 0o755
    assert json.loads((tmp_path / "b.json").read_text()) == {"a": 1}


def test_imported_model_folder_gets_normal_permissions(tmp_path):
    """An imported zip lands as a normal folder (mkdtemp's 0700 would hide it from other users of the server)."""
    from dashboard.model_io import import_model_zip, zip_model_folder

    old = os.umask(0o022)
    try:
        src = _save(tmp_path / "src", "m")
        target = import_model_zip(zip_model_folder(src), "copy", tmp_path / "models")
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    assert {stat.S_IMODE(p.stat().st_mode) for p in target.iterdir() if p.is_file()} == {0o644}
