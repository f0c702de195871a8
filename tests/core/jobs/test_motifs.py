"""The Motifs page's background job (deepdife_core.jobs.motifs): end to end, gene sets, stop, killed job.

A 3-epoch model on the 240-gene, 300-bp ``tiny_df`` (trained once per module, ~5 s);
gradient x input attributions; TF-MoDISco with its defaults (~10 s per run).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.jobs import runner as jobs
from deepdife_core.jobs.motifs import select_genes, summarize_progress
from deepdife_core.motifs.modisco import read_meme, read_modisco_h5

RUN_FILES = ("modisco.h5", "patterns.csv", "patterns.meme", "seqlets.csv", "report.html", "run.json")


@pytest.fixture(scope="module")
def setup(tmp_path_factory, tiny_df):
    """A trained tiny model, the dataset table on disk, a JASPAR cache (built once)."""
    from deepdife_core.config import ModelConfig, TrainConfig
    from deepdife_core.motifs.modisco import jaspar_plants
    from deepdife_core.train.fit import train_dataset

    base = tmp_path_factory.mktemp("jobmotifs")
    model = base / "models" / "tiny"
    train_dataset(
        tiny_df,
        model_cfg=ModelConfig(filters=8, kernel_size=8, dense_units=(16,)),
        train_cfg=TrainConfig(epochs=3, batch_size=20, seed=1),
        out=model,
        dataset_name="tiny",
    )
    data = base / "datasets" / "tiny" / "data.csv"
    data.parent.mkdir(parents=True)
    tiny_df.to_csv(data, index=False)
    jaspar_plants(cache_dir=base / "motif_db")
    return {"base": base, "model": model, "data": data, "db_cache": base / "motif_db"}


def _args(setup, out: Path, **over) -> dict:
    args = {
        "out": str(out),
        "model_path": str(setup["model"]),
        "model_name": "tiny",
        "dataset_path": str(setup["data"]),
        "dataset_name": "tiny",
        "gene_set": "all",
        "motif_db": "jaspar-plants",
        "db_cache": str(setup["db_cache"]),
        "attr_cache": str(out.parent.parent / "attributions"),
        "config": {},
        "explain": {"method": "gradxinput"},
    }
    args.update(over)
    return args


def _job(tmp_path, setup, name: str = "run1", **over) -> tuple[Path, Path]:
    out = tmp_path / "motifs" / name
    folder = jobs.create_job(tmp_path / "jobs", "motifs", _args(setup, out, **over))
    return folder, out


def _visible(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if not p.name.startswith(".")) if root.exists() else []


def test_job_end_to_end(tmp_path, setup, tiny_df):
    folder, out = _job(tmp_path, setup)
    assert jobs.run_job(folder) == 0, (folder / "log.txt").read_text() if (folder / "log.txt").exists() else ""
    job = jobs.read_job(folder)
    assert job["state"] == "done"
    res = jobs.read_result(folder)
    assert res["run_id"] == "run1" and Path(res["folder"]) == out and res["n_genes"] == len(tiny_df)
    for name in RUN_FILES:
        assert (out / name).is_file(), name
    assert not list(out.parent.glob(".tmp-*"))
    pats = pd.read_csv(out / "patterns.csv") if res["n_patterns"] else pd.DataFrame()
    assert len(pats) == res["n_patterns"] == len(read_modisco_h5(out / "modisco.h5").patterns)
    assert res["n_patterns"] >= 1  # this model and data give patterns at the defaults
    seq = pd.read_csv(out / "seqlets.csv", dtype={"gene_id": str})
    assert set(seq["gene_id"]) <= set(tiny_df["gene_id"])
    assert seq.groupby("pattern").size().to_dict() == dict(zip(pats["pattern"], pats["n_seqlets"], strict=True))
    assert [m.id for m in read_meme(out / "patterns.meme").motifs] == list(pats["pattern"])
    assert {"fisher_p", "n_genes_responsive", "best_match_qvalue"} <= set(pats.columns)
    info = pd.read_json(out / "run.json", typ="series")
    assert info["model"] == "tiny" and info["gene_set"] == "all" and info["job_id"] == folder.name
    assert "JASPAR" in info["database"]
    # the events tell the page the whole story, and the progress summary ends at 100 %
    events = jobs.read_events(folder)
    kinds = [e["event"] for e in events]
    for k in ("stage", "genes", "attributions", "modisco_start", "modisco_done", "tomtom_start", "done", "end"):
        assert k in kinds, k
    fractions = [summarize_progress(events[: i + 1]).fraction for i in range(len(events))]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert "Attributions (gradxinput)" in summarize_progress(events[: kinds.index("attributions") + 1]).text
    # attributions went to the cache: a second run on the test genes reads them all from there
    folder2, out2 = _job(tmp_path, setup, "run2", gene_set="test")
    assert not out2.exists()
    assert jobs.run_job(folder2) == 0
    attr = [e for e in jobs.read_events(folder2) if e["event"] == "attributions"]
    assert attr[-1]["hits"] == attr[-1]["total"] == jobs.read_result(folder2)["n_genes"]
    split = pd.read_csv(setup["model"] / "split.csv", dtype={"gene_id": str})
    assert attr[-1]["total"] == int((split["split"] == "test").sum())


def test_existing_run_and_bad_meme_fail_with_a_message(tmp_path, setup):
    (tmp_path / "motifs" / "run1").mkdir(parents=True)
    folder, _ = _job(tmp_path, setup)
    assert jobs.run_job(folder) == 2
    job = jobs.read_job(folder)
    assert job["error_kind"] == "input" and "already exists" in job["error"]

    bad = tmp_path / "bad.meme"
    bad.write_text("MEME version 4\n\nALPHABET= ACGU\n")
    folder = jobs.create_job(tmp_path / "jobs", "motifs", _args(setup, tmp_path / "m2" / "r", motif_db=str(bad)))
    assert jobs.run_job(folder) == 2
    assert jobs.read_job(folder)["error"].startswith("bad.meme, line 3: alphabet")
    assert not (tmp_path / "m2" / "r").exists()


def test_stop_before_start_saves_nothing(tmp_path, setup):
    folder, out = _job(tmp_path, setup)
    jobs.request_stop(folder)
    assert jobs.run_job(folder) == 0
    assert jobs.read_job(folder)["state"] == "stopped"
    res = jobs.read_result(folder)
    assert res["stopped"] and res["run_id"] is None
    assert not out.exists()


@pytest.mark.parametrize("at_event", ["attributions", "modisco_start"])
def test_stop_during_the_run_leaves_no_run(tmp_path, setup, monkeypatch, at_event):
    """The stop file appears while the job runs (during the attributions / during TF-MoDISco)."""
    import deepdife_core.jobs.motifs as jm

    monkeypatch.setitem(jm.CHUNK, "gradxinput", 50)  # several chunks, so a stop lands between two
    original = jobs._JobWriter.event

    def event(self, ev):
        original(self, ev)
        if ev.get("event") == at_event:
            jobs.request_stop(self.folder)

    monkeypatch.setattr(jobs._JobWriter, "event", event)
    folder, out = _job(tmp_path, setup)
    assert jobs.run_job(folder) == 0
    assert jobs.read_job(folder)["state"] == "stopped"
    assert not out.exists() and _visible(out.parent) == []
    assert not list(out.parent.glob(".tmp-*")) if out.parent.exists() else True
    kinds = [e["event"] for e in jobs.read_events(folder)]
    assert "done" not in kinds and kinds[-1] == "end"
    if at_event == "attributions":
        assert kinds.count("attributions") == 1 and "modisco_start" not in kinds
    else:
        assert "stopping" in kinds


def test_predicted_responsive_gene_set(tmp_path, setup, tiny_df, monkeypatch):
    """The job predicts every gene and keeps those with probability >= 0.5 (stopped right after, to stay fast)."""
    from deepdife_core.data.encode import one_hot
    from deepdife_core.model.folder import load_model

    original = jobs._JobWriter.event

    def event(self, ev):
        original(self, ev)
        if ev.get("event") == "genes":
            jobs.request_stop(self.folder)

    monkeypatch.setattr(jobs._JobWriter, "event", event)
    folder, out = _job(tmp_path, setup, gene_set="predicted")
    assert jobs.run_job(folder) == 0 and jobs.read_job(folder)["state"] == "stopped"
    genes = next(e for e in jobs.read_events(folder) if e["event"] == "genes")
    prob = load_model(setup["model"]).predict(one_hot(tiny_df["sequence"].tolist()))
    assert genes["n_genes"] == int((prob >= 0.5).sum()) and "predicted responsive" in genes["note"]
    assert genes["n_responsive"] == int(tiny_df["label"].to_numpy()[prob >= 0.5].sum())
    assert not out.exists()


def test_killed_job_leaves_no_run(tmp_path, setup):
    """SIGKILL in the middle of TF-MoDISco: nothing appears in the motifs folder, the job reads as failed."""
    folder, out = _job(tmp_path, setup)
    proc = jobs.launch(folder)
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            if any(e["event"] == "modisco_start" for e in jobs.read_events(folder)):
                break
            assert proc.poll() is None, (folder / "log.txt").read_text()
            time.sleep(0.2)
        else:
            pytest.fail("the job never reached TF-MoDISco")
        assert list(out.parent.glob(".tmp-run1-*"))  # the run being written is hidden
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert not out.exists() and _visible(out.parent) == []
    job = jobs.read_job(folder)
    assert job["state"] == "failed" and job["error_kind"] == "lost"


# ----------------------------------------------------------------------------- gene sets (no model needed)


def _df(n: int = 10, split: bool = False) -> pd.DataFrame:
    df = pd.DataFrame(
        {"gene_id": [f"AT1G0{i}0" for i in range(n)], "label": [i % 2 for i in range(n)], "sequence": ["ACGT"] * n}
    )
    if split:
        df["split"] = ["test" if i < 4 else "train" for i in range(n)]
    return df


def test_select_genes_sets(tmp_path):
    df = _df()
    assert len(select_genes(df, "all")[0]) == 10
    sel, note = select_genes(_df(split=True), "test")
    assert list(sel["gene_id"]) == [f"AT1G0{i}0" for i in range(4)] and "split column" in note
    # no split column: the model folder's split.csv
    pd.DataFrame({"gene_id": ["AT1G010", "AT1G020", "AT1G030"], "split": ["test", "test", "train"]}).to_csv(
        tmp_path / "split.csv", index=False
    )
    assert list(select_genes(df, "test", model_folder=tmp_path)[0]["gene_id"]) == ["AT1G010", "AT1G020"]
    with pytest.raises(DeepDifEInputError, match="test split is unknown"):
        select_genes(df, "test", model_folder=tmp_path / "nothing")
    prob = np.linspace(0, 1, 10)
    assert list(select_genes(df, "predicted", probability=prob)[0]["gene_id"]) == [f"AT1G0{i}0" for i in range(5, 10)]
    with pytest.raises(DeepDifEInputError, match="predicts no gene"):
        select_genes(df, "predicted", probability=np.zeros(10))
    # lists: versions and case are ignored, missing genes are named
    sel, note = select_genes(df, "list", genes=["at1g010.1", "AT1G020", "AT9G99990"])
    assert list(sel["gene_id"]) == ["AT1G010", "AT1G020"] and "AT9G99990" in note
    with pytest.raises(DeepDifEInputError, match="none of the 1 listed genes"):
        select_genes(df, "list", genes=["XYZ"])
    with pytest.raises(DeepDifEInputError, match="needs many"):
        select_genes(df, "list", genes=["AT1G010"])
    with pytest.raises(DeepDifEInputError, match="not known"):
        select_genes(df, "some")
