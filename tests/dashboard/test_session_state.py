"""State that never lies (issue 17): choices in the URL, no model switch on opening Train, plain job states,
a finished run's bar, highlights that stay with their gene, run names that follow the model."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboard import jobs as djobs
from dashboard import state
from dashboard.constants import LIVE_STATES, REFRESH_S, state_words
from deepdife_core.jobs import runner as core_jobs
from tests.dashboard.apptest_helpers import APP, TIMEOUT, goto, texts


def _fresh(**query: str) -> AppTest:
    """A new browser session (a reload or a new tab) opened on a URL with ``query``."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _two_datasets(tiny_table):
    from dashboard.datasets import save_dataset

    save_dataset(tiny_table, "first", {})
    time.sleep(0.01)
    save_dataset(tiny_table.head(40), "second", {})


def _second_model(dirs, tiny_model) -> str:
    shutil.copytree(tiny_model, dirs["models"] / "zz-newer")
    return "zz-newer"


def test_choices_are_written_to_the_url_and_survive_a_reload(dirs, tiny_table, tiny_model):
    _two_datasets(tiny_table)
    at = _fresh()
    default = at.session_state[state.DATA_ACTIVE]
    other = "first" if default == "second" else "second"
    assert at.query_params["dataset"] == default and at.query_params["model"] == "tiny-model"
    at.sidebar.selectbox[0].set_value(other).run()
    assert at.query_params["dataset"] == other
    goto(at, "train")  # a page switch keeps them in the URL
    assert at.query_params["dataset"] == other
    # a reload is a new session on the same URL: the choice comes back, not the newest dataset
    again = _fresh(dataset=other, model="tiny-model")
    assert again.session_state[state.DATA_ACTIVE] == other
    assert again.sidebar.selectbox[0].value == other
    assert not again.warning


def test_a_link_to_a_missing_dataset_or_model_is_refused_visibly(dirs, tiny_table, tiny_model):
    _two_datasets(tiny_table)
    at = _fresh(dataset="gone", model="no-such", coords="sideways")
    warns = " ".join(texts(at.sidebar.warning))
    assert "dataset gone is not in the workspace" in warns
    assert "model no-such is not in the registry" in warns
    assert "coordinates sideways" in warns
    assert at.session_state[state.MODEL_ACTIVE] == "tiny-model"
    assert at.session_state[state.DATA_ACTIVE] in ("first", "second")
    # the refused values are replaced by the session's real choices in the URL
    assert at.query_params["model"] == "tiny-model" and "coords" not in at.query_params


def _finished_job(dirs, model_name: str, *, epochs_run: int, max_epochs: int, best: int) -> str:
    folder = core_jobs.create_job(dirs["workspace"] / "jobs", "train", {"model_name": model_name, "dataset_name": "x"})
    job = json.loads((folder / "job.json").read_text())
    job.update(state="done")
    (folder / "job.json").write_text(json.dumps(job))
    t0 = time.time() - 60
    lines = [{"event": "start", "epochs": max_epochs, "n_train": 40, "n_val": 10, "n_test": 10, "t": t0}]
    for e in range(1, epochs_run + 1):
        lines.append(
            {
                "event": "epoch",
                "epoch": e,
                "epochs": max_epochs,
                "loss": 0.6,
                "val_loss": 0.6,
                "best_epoch": min(e, best),
            }
        )
        lines[-1]["t"] = t0 + e
    (folder / "progress.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    result = {
        "model_name": model_name,
        "model_path": str(dirs["models"] / model_name),
        "epochs_run": epochs_run,
        "best_epoch": best,
    }
    (folder / "result.json").write_text(json.dumps(result))
    return folder.name


def test_opening_train_in_a_new_session_keeps_the_active_model(dirs, tiny_dataset, tiny_model):
    newer = _second_model(dirs, tiny_model)
    job_id = _finished_job(dirs, newer, epochs_run=12, max_epochs=100, best=7)
    at = _fresh(model="tiny-model")
    goto(at, "train")
    assert at.session_state[state.TRAIN_JOB_ID] == job_id  # the newest run is shown…
    assert at.session_state[state.MODEL_ACTIVE] == "tiny-model"  # …but the active model is not switched
    assert at.query_params["model"] == "tiny-model"
    goto(at, "saliency")
    assert at.session_state[state.MODEL_ACTIVE] == "tiny-model"
    # switching is the user's choice, with a button
    goto(at, "train")
    at.button(key=f"w.train.activate.{job_id}").click().run()
    assert at.session_state[state.MODEL_ACTIVE] == newer


def test_a_finished_run_says_finished_and_which_epoch_was_kept(dirs, tiny_dataset, tiny_model):
    job_id = _finished_job(dirs, "tiny-model", epochs_run=12, max_epochs=100, best=7)
    at = _fresh()
    goto(at, "train")
    box = next(s for s in at.selectbox if s.label.startswith("Training runs"))
    assert box.options == [f"tiny-model · finished · {job_id}"]
    bar = at.get("progress")[0]
    assert bar.proto.value == 100  # a full bar, not 12 %
    assert "Finished: 12 epochs run of at most 100 (early stopping ended it); kept the weights of epoch 7" in (
        bar.proto.text
    )
    assert any("Training finished after 12 epochs; kept the weights of epoch 7" in t for t in texts(at.success))


def test_a_queued_run_is_relabelled_when_it_ends(dirs, tiny_dataset, tiny_model, monkeypatch):
    folder = core_jobs.create_job(dirs["workspace"] / "jobs", "train", {"model_name": "q", "dataset_name": "x"})
    at = _fresh()
    goto(at, "train")
    box = next(s for s in at.selectbox if s.label.startswith("Training runs"))
    assert box.options == [f"q · waiting to start · {folder.name}"]
    job = json.loads((folder / "job.json").read_text())
    job.update(state="stopped")
    (folder / "job.json").write_text(json.dumps(job))
    at.run()
    box = next(s for s in at.selectbox if s.label.startswith("Training runs"))
    assert box.options == [f"q · stopped · {folder.name}"]
    assert any("stopped before it began" in t for t in texts(at.warning))


def test_constants_are_defined_once():
    from dashboard import job_panel, motif_runs, page_data, page_predict, page_saliency, page_train, tune_view

    assert LIVE_STATES == ("queued", "running") and REFRESH_S > 0
    for m in (page_data, page_predict, page_saliency):  # uploads are judged by content, not by name
        assert "type=FASTA_TYPES" not in Path(m.__file__).read_text() and not hasattr(m, "FASTA_TYPES")
    assert all(m.LIVE_STATES is LIVE_STATES for m in (motif_runs, tune_view, job_panel, page_train))
    assert state_words("done") == "finished" and state_words("queued") == "waiting to start"
    assert state_words("odd") == "odd"
    assert set(core_jobs.STATES) <= set(__import__("dashboard.constants").constants.STATE_WORDS)
    assert djobs.format_seconds(61) == "1 min 01 s"


def test_job_panels_share_one_component():
    from dashboard import genomes, job_panel, page_experiments, page_motifs, page_train, page_tune

    views = (
        page_train.VIEW,
        page_tune.STUDY_VIEW,
        page_tune.TRAIN_VIEW,
        page_motifs.VIEW,
        page_experiments.VIEW,
        genomes.VIEW,
    )
    assert all(isinstance(v, job_panel.JobView) for v in views)
    # no page has its own refreshing fragment, Stop button or failure message any more
    for mod in (page_train, page_tune, page_motifs, page_experiments, genomes):
        text = Path(mod.__file__).read_text()
        assert "st.fragment" not in text and "STOP_FILE" not in text and "jobs.stop(" not in text, mod.__name__
        assert "st.fragment" not in Path(mod.__file__).read_text(), mod.__name__


def test_a_highlight_stays_with_its_gene_and_source(app, tiny_model, tiny_dataset, tiny_table):
    from tests.dashboard.apptest_helpers import fasta_bytes

    gene, other = tiny_table["gene_id"].iloc[5], tiny_table["gene_id"].iloc[8]
    app.session_state[state.SALIENCY_GENE] = gene
    app.session_state[state.SALIENCY_HIGHLIGHT] = (60, 70)
    app.session_state[state.SALIENCY_HIGHLIGHT_GENE] = gene
    goto(app, "saliency")
    assert any("Highlighted: positions 60-70" in c for c in texts(app.caption))
    # another source holding the same gene: the highlight (found on the dataset's gene) goes
    app.radio(key="w.saliency.source").set_value("Uploaded FASTA").run()
    app.file_uploader(key="w.saliency.fasta").set_value(("mine.fa", fasta_bytes(tiny_table, 10), "text/plain"))
    app.run()
    assert gene in " ".join(t.value for t in app.text) and "mine.fa" in " ".join(t.value for t in app.text)
    assert not any("Highlighted" in c for c in texts(app.caption))
    assert app.session_state[state.SALIENCY_HIGHLIGHT] is None
    # a highlight that belongs to another gene is never drawn on this one
    app.radio(key="w.saliency.source").set_value("Active dataset").run()
    app.session_state[state.SALIENCY_GENE] = other
    app.session_state[state.SALIENCY_HIGHLIGHT] = (60, 70)
    app.session_state[state.SALIENCY_HIGHLIGHT_GENE] = gene
    app.run()
    assert not any("Highlighted" in c for c in texts(app.caption))
    assert not any("Ignoring the highlight" in w for w in texts(app.warning))
    assert app.session_state[state.SALIENCY_HIGHLIGHT] is None
    spec = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert not [s for s in spec["layout"].get("shapes", []) if s["type"] == "rect"]


def test_the_coordinate_choice_survives_pages_and_reloads(dirs, tiny_model, tiny_dataset, tiny_table):
    at = _fresh()
    goto(at, "saliency")
    at.radio(key="w.saliency.axis").set_value("tss").run()
    assert at.session_state[state.SALIENCY_COORDS] == "tss" and at.query_params["coords"] == "tss"
    goto(at, "train")
    goto(at, "saliency")
    assert at.radio(key="w.saliency.axis").value == "tss"
    gene = tiny_table["gene_id"].iloc[4]
    again = _fresh(coords="tss", gene=gene, dataset="tiny", model="tiny-model")
    goto(again, "saliency")
    assert again.radio(key="w.saliency.axis").value == "tss"
    assert again.session_state[state.SALIENCY_GENE] == gene
    assert gene in " ".join(t.value for t in again.text)


def test_the_motif_run_name_follows_the_model(dirs, tiny_dataset, tiny_model):
    newer = _second_model(dirs, tiny_model)
    at = _fresh(model="tiny-model")
    goto(at, "motifs")
    first = at.text_input(key="w.motifs.run_name").value
    assert first.startswith("tiny-model")
    at.sidebar.selectbox[1].set_value(newer).run()
    assert at.text_input(key="w.motifs.run_name").value.startswith(newer)
    # a name the user typed is kept
    at.text_input(key="w.motifs.run_name").set_value("mine").run()
    at.sidebar.selectbox[1].set_value("tiny-model").run()
    assert at.text_input(key="w.motifs.run_name").value == "mine"


def test_saliency_links_name_the_dataset():
    from urllib.parse import parse_qs, urlparse

    from dashboard.motif_runs import saliency_url
    from dashboard.page_saliency import deep_link

    q = parse_qs(urlparse(saliency_url("m 1", "G&1", 3, 9, dataset="aly")).query)
    assert q == {"model": ["m 1"], "gene": ["G&1"], "hl": ["3-9"], "dataset": ["aly"]}
    assert deep_link("m", "G", None, dataset="d b") == "saliency?model=m&gene=G&dataset=d+b"
