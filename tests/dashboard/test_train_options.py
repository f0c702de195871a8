"""Train page option groups (issue 17): PhyloAug with an ortholog table + FASTA uploads, cross-validation
and refit, with the core defaults; the job runs them through deepdife_core.train.fit (cross_validate)."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from dashboard import jobs as djobs
from deepdife_core.config import PhyloConfig
from deepdife_core.jobs import runner as core_jobs
from tests.dashboard.apptest_helpers import goto, texts

SUBMIT = "FormSubmitter:w.train.form-Start training"


def _orthologs(table, n: int = 20, seed: int = 3) -> tuple[bytes, bytes]:
    """Ortholog pairs for the first ``n`` genes and their promoters (each gene's with 10 % of bases changed)."""
    rng = np.random.default_rng(seed)
    rows, recs = ["gene_id\tortholog_id\tspecies"], []
    for g, s in zip(table["gene_id"].iloc[:n], table["sequence"].iloc[:n], strict=True):
        seq = np.array(list(s))
        hit = rng.random(len(seq)) < 0.1
        seq[hit] = rng.choice(list("ACGT"), int(hit.sum()))
        rows.append(f"{g}\tORTH_{g}\tcru")
        recs.append(f">ORTH_{g}\n{''.join(seq)}\n")
    return ("\n".join(rows) + "\n").encode(), "".join(recs).encode()


@pytest.fixture
def no_launch(monkeypatch):
    """The job process is replaced by a no-op: the test reads the job's arguments."""
    monkeypatch.setattr(core_jobs, "launch", lambda folder, **kw: subprocess.Popen(["true"]))


def test_defaults_come_from_the_configs(app, tiny_dataset):
    goto(app, "train")
    d = PhyloConfig()
    assert app.checkbox(key="w.train.phylo").value is d.enabled
    assert app.number_input(key="w.train.phylo_rate").value == pytest.approx(d.rate)
    assert app.checkbox(key="w.train.phylo_finetune").value is d.finetune
    assert app.number_input(key="w.train.cv").value == 0 and app.checkbox(key="w.train.refit").value is False


def test_phylo_cv_and_refit_reach_the_job(app, dirs, tiny_dataset, tiny_table, no_launch):
    table, fasta = _orthologs(tiny_table)
    goto(app, "train")
    app.text_input(key="w.train.model_name").set_value("phylo-cv")
    app.checkbox(key="w.train.phylo").check()
    app.file_uploader(key="w.train.ortholog_table").set_value(("pairs.tsv", table, "text/plain"))
    app.file_uploader(key="w.train.ortholog_fastas").set_value([("cru.fa", fasta, "text/plain")])
    app.number_input(key="w.train.phylo_rate").set_value(0.4)
    app.number_input(key="w.train.cv").set_value(3)
    app.checkbox(key="w.train.refit").check()
    app.button(key=SUBMIT).click().run()
    assert not app.error and not app.exception, texts(app.error)
    job = djobs.read(app.session_state["train.job_id"])
    a = job["args"]
    assert a["cv"] == 3 and a["refit"] is True
    assert a["phylo"]["enabled"] is True and a["phylo"]["rate"] == pytest.approx(0.4)
    assert a["orthologs"]["pairs"] == 20 and len(a["orthologs"]["fastas"]) == 1
    assert open(a["orthologs"]["fastas"][0], "rb").read() == fasta  # noqa: SIM115 - saved as uploaded


def test_option_mistakes_are_visible_errors(app, dirs, tiny_dataset, tiny_table, no_launch):
    goto(app, "train")
    app.checkbox(key="w.train.phylo").check()
    app.button(key=SUBMIT).click().run()
    assert any("PhyloAug needs the ortholog table" in t for t in texts(app.error))
    app.checkbox(key="w.train.phylo").uncheck()
    app.checkbox(key="w.train.refit").check()
    app.button(key=SUBMIT).click().run()
    assert any("refit needs cross-validation" in t for t in texts(app.error))
    app.checkbox(key="w.train.refit").uncheck()
    app.number_input(key="w.train.cv").set_value(1)
    app.button(key=SUBMIT).click().run()
    assert any("at least 2 folds" in t for t in texts(app.error))
    # orthologs whose IDs match no FASTA record: refused at Start, with the library's words
    table, _ = _orthologs(tiny_table)
    app.number_input(key="w.train.cv").set_value(0)
    app.checkbox(key="w.train.phylo").check()
    app.file_uploader(key="w.train.ortholog_table").set_value(("pairs.tsv", table, "text/plain"))
    app.file_uploader(key="w.train.ortholog_fastas").set_value([("other.fa", b">X1\nACGT\n", "text/plain")])
    app.button(key=SUBMIT).click().run()
    assert any("no ortholog in the table has a sequence" in t for t in texts(app.error))
    assert djobs.list_train_jobs() == []


@pytest.mark.slow
def test_the_job_runs_phyloaug_cross_validation_and_refit(dirs, tiny_dataset, tiny_table):
    """A real job process: 2-fold CV with PhyloAug on, refit; the fold ensemble and the refit are saved."""
    from dashboard.datasets import list_datasets
    from deepdife_core.config import AugmentConfig, ModelConfig, TrainConfig
    from deepdife_core.model.folder import read_config

    table, fasta = _orthologs(tiny_table)
    orth = djobs.save_ortholog_uploads(("pairs.tsv", table), [("cru.fa", fasta)])
    ds = next(d for d in list_datasets() if d["name"] == "tiny")
    job_id = djobs.start_training(
        "tiny",
        ds["path"],
        "cvm",
        ModelConfig(filters=8, kernel_size=8, dense_units=(16,)),
        TrainConfig(epochs=1, batch_size=20, seed=1),
        AugmentConfig(enabled=False),
        phylo_cfg=PhyloConfig(enabled=True, rate=0.5),
        orthologs=orth,
        cv=2,
        refit=True,
    )
    import time

    deadline = time.time() + 400
    while time.time() < deadline and djobs.read(job_id)["state"] in ("queued", "running"):
        time.sleep(1.0)
    job = djobs.read(job_id)
    log = (dirs["workspace"] / "jobs" / job_id / "log.txt").read_text()
    assert job["state"] == "done", (job, log)
    res = djobs.result(job_id)
    assert res["refit_path"].endswith("cvm_refit") and (dirs["models"] / "cvm_refit").is_dir()
    assert "cv" in res["metrics"] and len(res["metrics"]["cv"]["folds"]) == 2
    cfg = read_config(dirs["models"] / "cvm")
    assert cfg.phylo.enabled and cfg.phylo.rate == pytest.approx(0.5)
    assert json.loads((dirs["models"] / "cvm" / "provenance.json").read_text())["job_id"] == job_id


def test_plain_labels_with_the_technical_name_in_the_help(app, tiny_dataset):
    goto(app, "train")
    box = app.number_input(key="w.train.n_conv")
    assert box.label == "Convolution layers" and "Technical name: `n_conv`" in box.help
    assert app.number_input(key="w.train.l2").label == "Weight penalty (L2)"
    assert app.number_input(key="w.train.conv_kernel").label == "Width of the extra convolutions (bp)"
    assert app.number_input(key="w.train.kernel_size").label == "Motif width (bp)"
    labels = [w.label for w in app.number_input] + [w.label for w in app.selectbox]
    assert not any(lab in ("N conv", "Rc augment", "L2", "Conv kernel") for lab in labels)


def test_tune_searches_phylo_rate_only_with_orthologs(app, dirs, tiny_dataset, tiny_table, no_launch):
    from dashboard import paths
    from deepdife_core.tune import study as tune

    goto(app, "tune")
    app.checkbox(key="w.tune.p.phylo_rate.free").check()
    app.text_input(key="w.tune.name").set_value("phylo-study")
    app.button(key="FormSubmitter:w.tune.form-Start study").click().run()
    assert any("phylo_rate is searched but no orthologs are given" in t for t in texts(app.error))
    assert djobs.list_kind("tune") == []
    table, fasta = _orthologs(tiny_table)
    app.file_uploader(key="w.tune.ortholog_table").set_value(("pairs.tsv", table, "text/plain"))
    app.file_uploader(key="w.tune.ortholog_fastas").set_value([("cru.fa", fasta, "text/plain")])
    app.checkbox(key="w.tune.p.phylo_rate.free").check()
    app.button(key="FormSubmitter:w.tune.form-Start study").click().run()
    assert not app.exception and not app.error, texts(app.error)
    rec = tune.load_record("phylo-study", paths.workspace_dir())
    assert rec["orthologs"]["fasta"] and open(rec["orthologs"]["fasta"][0], "rb").read() == fasta  # noqa: SIM115
    assert rec["space"]["phylo_rate"]["free"] is True
    assert rec["base"]["phylo"]["enabled"] is True  # every trial swaps genes for orthologs
    assert len(djobs.list_kind("tune")) == 1
