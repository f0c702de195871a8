"""Start page (issue 17): a visit lands on it; `make run` (DEEPDIFE_DEMO_ON_START=1) lands on the demo."""

from __future__ import annotations

import shutil

from streamlit.testing.v1 import AppTest

from dashboard import state
from dashboard.page_start import DEMO_ENV, STEPS
from tests.dashboard.apptest_helpers import APP, ROOT, TIMEOUT, texts


def _visit() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_visit_lands_on_the_start_page_with_one_button_per_page(dirs, monkeypatch):
    monkeypatch.delenv(DEMO_ENV, raising=False)
    at = _visit()
    assert texts(at.title) == ["Start"]
    links = [e for e in at.get("page_link")]
    assert [link.proto.label for link in links] == [f"{i}. {t}" for i, (_, t, _) in enumerate(STEPS, start=1)]
    assert [t for _, t, _ in STEPS] == [
        "Data",
        "Train",
        "Tune",
        "Models",
        "Predict",
        "Saliency",
        "Motifs",
        "Experiments",
        "Variants",
    ]
    # without `make run`'s switch nothing is written to the workspace by itself
    assert not (dirs["workspace"] / "datasets" / "demo").exists()
    assert at.session_state[state.DATA_ACTIVE] is None


def _with_demo_model(dirs) -> None:
    dirs["models"].mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "models" / "demo", dirs["models"] / "demo")


def test_make_run_lands_on_the_demo_dataset_and_model(dirs, monkeypatch, tiny_model):
    _with_demo_model(dirs)
    monkeypatch.setenv(DEMO_ENV, "1")
    at = _visit()
    assert (dirs["workspace"] / "datasets" / "demo" / "data.csv").is_file()
    assert at.session_state[state.DATA_ACTIVE] == "demo"
    assert at.session_state[state.MODEL_ACTIVE] == "demo"  # the demo model, not the newest one
    assert any("demo dataset and the demo model are active" in t for t in texts(at.success))
    assert at.query_params["dataset"] == "demo" and at.query_params["model"] == "demo"
    assert "No dataset yet" not in " ".join(texts(at.sidebar.caption))


def test_one_click_to_a_gene_with_planted_abres(dirs, monkeypatch):
    from deepdife_core.data.demo import make_demo_dataset

    _with_demo_model(dirs)
    monkeypatch.delenv(DEMO_ENV, raising=False)
    at = _visit()
    at.button(key="w.start.demo_gene").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert texts(at.title) == ["Saliency"]
    df = make_demo_dataset(2000, length=600)
    row = df[(df["label"] == 1) & (df["sites"] != "")].iloc[0]
    start, end = (int(v) for v in row["sites"].split(";")[0].split(":")[:2])
    assert at.session_state[state.SALIENCY_GENE] == row["gene_id"]
    assert any(f"Highlighted: positions {start}-{end}" in c for c in texts(at.caption))
    assert at.session_state[state.DATA_ACTIVE] == "demo" and at.session_state[state.MODEL_ACTIVE] == "demo"
