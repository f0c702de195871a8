"""State across reloads, new tabs and pages in a real Chromium (pytest -m e2e), issue 17.

A Motifs-page link opened in a new tab shows its gene from the link's dataset (not from the newest
dataset a new session would pick); a reload keeps the dataset, model, gene and coordinate choice
(they live in the URL query); opening the Train page beside a finished run of another session does
not switch the active model.
"""

from __future__ import annotations

import json
import shutil

import pytest

from deepdife_core.jobs import runner as core_jobs
from tests.e2e.e2e_helpers import ROOT, goto_page, open_with_demo, shot, wait_idle

pytestmark = pytest.mark.e2e
MODEL = "e2e-state-demo"
NEWER = "e2e-state-newer"
PLOT = '[data-testid="stMain"] [data-testid="stPlotlyChart"] .js-plotly-plot'


def _drawn(page, gene: str, timeout: float = 240_000) -> None:
    page.wait_for_function(
        """([sel, gene]) => {
            const gd = document.querySelector(sel);
            return !!(gd && gd.layout && gd.layout.meta && gd.layout.meta.gene === gene);
        }""",
        arg=[PLOT, gene],
        timeout=timeout,
    )


def _sidebar_choice(page, label: str, where: str = "stSidebar") -> str:
    """Label and shown value of a selectbox (the value may sit in the combobox's input)."""
    box = page.locator(f'[data-testid="{where}"] [data-testid="stSelectbox"]').filter(has_text=label).first
    values = [i.input_value() for i in box.locator("input").all()]
    return " ".join([box.text_content() or "", *values])


def _main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


@pytest.fixture(scope="module")
def setup(server):
    """Two models (copies of the committed demo model) and a second dataset newer than the demo."""
    from deepdife_core.data.demo import make_demo_dataset

    for name in (MODEL, NEWER):
        if not (server["models"] / name).exists():
            shutil.copytree(ROOT / "models" / "demo", server["models"] / name)
    df = make_demo_dataset(2000, length=600)
    pos = df[(df["label"] == 1) & (df["sites"] != "")].reset_index(drop=True)
    return {"genes": pos}


def test_links_reloads_and_pages_keep_the_choices(server, browser, setup, monkeypatch):
    from dashboard.datasets import save_dataset
    from deepdife_core.data.demo import make_demo_dataset

    ctx, _page = open_with_demo(browser, server)  # saves the demo dataset
    ctx.close()
    monkeypatch.setenv("DEEPDIFE_WORKSPACE", str(server["workspace"]))
    other = make_demo_dataset(300, length=600, seed=11)  # other genes: the linked gene is not in it
    save_dataset(other[["gene_id", "label", "family", "sequence", "coords"]], "zz-other", {})
    try:
        _check_links_reloads_and_pages(server, browser, setup)
    finally:  # the server is shared by the e2e modules: leave its newest dataset and model as they were
        shutil.rmtree(server["workspace"] / "datasets" / "zz-other", ignore_errors=True)
        shutil.rmtree(server["models"] / NEWER, ignore_errors=True)
        shutil.rmtree(server["models"] / MODEL, ignore_errors=True)


def _check_links_reloads_and_pages(server, browser, setup) -> None:
    from dashboard.motif_runs import saliency_url

    gene = setup["genes"].iloc[2]
    s, e, _ = gene["sites"].split(";")[0].split(":")
    link = saliency_url(MODEL, gene["gene_id"], int(s), int(e), dataset="demo")  # as the Motifs tables build it

    # ---- a new tab (a new session) opened on a Motifs link
    ctx = browser.new_context(viewport={"width": 1500, "height": 1800})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{server['url']}/{link}")
    page.locator("h1", has_text="Saliency").first.wait_for()
    _drawn(page, gene["gene_id"])
    wait_idle(page)
    text = _main_text(page)
    assert "is not in dataset" not in text and f"Highlighted: positions {s}-{e}" in text
    assert "demo" in _sidebar_choice(page, "Active dataset")
    assert MODEL in _sidebar_choice(page, "Active model")
    assert "dataset=demo" in page.url and f"gene={gene['gene_id']}" in page.url and "hl=" not in page.url
    shot(page, "state-link-new-tab")

    # ---- the coordinate choice, then a reload: everything comes back
    page.locator('[data-testid="stExpander"] summary', has_text="Method and display").first.click()
    page.locator('[data-testid="stMain"] label', has_text="Distance to the TSS").first.click()
    page.wait_for_function("() => location.search.includes('coords=tss')")
    wait_idle(page)
    page.reload()
    page.locator("h1", has_text="Saliency").first.wait_for()
    _drawn(page, gene["gene_id"])
    wait_idle(page)
    assert "demo" in _sidebar_choice(page, "Active dataset") and MODEL in _sidebar_choice(page, "Active model")
    page.locator('[data-testid="stExpander"] summary', has_text="Method and display").first.click()
    tss = page.locator('[data-testid="stMain"] [data-testid="stRadio"] label', has_text="Distance to the TSS").first
    assert tss.locator("input").is_checked()

    # ---- a finished training run of another session: opening Train does not switch the active model
    # (first waiting to start, then finished while the page is open: the runs list must follow)
    folder = core_jobs.create_job(server["workspace"] / "jobs", "train", {"model_name": NEWER, "dataset_name": "demo"})
    goto_page(page, "Train")
    page.wait_for_function(
        "t => [...document.querySelectorAll('[data-testid=\"stMain\"] input')].some(i => i.value.includes(t))"
        " || document.querySelector('[data-testid=\"stMain\"]').innerText.includes(t)",
        arg=f"{NEWER} · waiting to start",
    )
    result = {"model_name": NEWER, "model_path": str(server["models"] / NEWER), "epochs_run": 3, "best_epoch": 2}
    (folder / "result.json").write_text(json.dumps(result))
    job = json.loads((folder / "job.json").read_text())
    job.update(state="done")
    (folder / "job.json").write_text(json.dumps(job))
    page.get_by_text("Training finished after 3 epochs").first.wait_for()
    wait_idle(page)
    assert f"{NEWER} · finished · {folder.name}" in _sidebar_choice(page, "Training runs", where="stMain")
    assert MODEL in _sidebar_choice(page, "Active model")
    assert f"model={MODEL}" in page.url
    goto_page(page, "Saliency")
    _drawn(page, gene["gene_id"])
    assert MODEL in _sidebar_choice(page, "Active model")
    shot(page, "state-after-train-page")
    ctx.close()
