"""Main flows in a real Chromium against a real server (pytest -m e2e)."""

from __future__ import annotations

import time

import pytest

from tests.e2e.e2e_helpers import goto_page, shot, wait_idle

pytestmark = pytest.mark.e2e
TRAIN_TIMEOUT = 480_000  # a default run trains two networks (head selection); two sessions share 2 cores
POINTS = '[data-testid="stPlotlyChart"] .scatterlayer .trace .points path'


def _open(browser, url):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    t0 = time.perf_counter()
    page.goto(url + "/data")  # a visit lands on the Start page; these flows begin on Data
    page.locator("h1", has_text="Data").first.wait_for()
    wait_idle(page)
    return ctx, page, time.perf_counter() - t0


def _wait_main_text(page, text: str, timeout: float = 60_000) -> None:
    """Wait until the visible text of the main area contains ``text``."""
    page.wait_for_function(
        "t => (document.querySelector('[data-testid=\"stMain\"]') || {innerText: ''}).innerText.includes(t)",
        arg=text,
        timeout=timeout,
    )


def _start_training(page, model_name: str, epochs: int = 2) -> float:
    main = page.locator('[data-testid="stMain"]')
    name = main.get_by_role("textbox", name="Model name", exact=True).first
    name.fill(model_name)
    ep = main.get_by_role("spinbutton", name="Epochs", exact=True).first
    ep.fill(str(epochs))
    ep.press("Tab")
    t0 = time.perf_counter()
    main.locator("button", has_text="Start training").first.click()
    return t0


def test_demo_train_registry_predict(server, browser, timings, tmp_path):
    ctx, page, first_render = _open(browser, server["url"])
    timings["open_to_first_page_s"] = first_render
    page.locator("button", has_text="Load the demo dataset").first.click()
    page.get_by_text("Demo dataset loaded").wait_for()
    wait_idle(page)
    shot(page, "data")

    timings["page_switch_s"] = goto_page(page, "Train")
    t0 = _start_training(page, "e2e-model")
    page.locator(POINTS).first.wait_for(timeout=TRAIN_TIMEOUT)
    timings["start_to_first_epoch_point_s"] = time.perf_counter() - t0
    shot(page, "train-live")
    page.get_by_text("Training finished").wait_for(timeout=TRAIN_TIMEOUT)
    wait_idle(page)
    assert page.get_by_text("e2e-model").first.is_visible()
    page.get_by_text("Confusion matrix").first.wait_for()
    shot(page, "train-done")

    goto_page(page, "Models")
    shot(page, "models")
    _wait_main_text(page, "dataset demo")
    _wait_main_text(page, "e2e-model")
    page.get_by_text("Download as zip").first.wait_for()
    shot(page, "models")
    assert (server["models"] / "e2e-model" / "model.keras").is_file()

    goto_page(page, "Predict")
    fasta = tmp_path / "query.fa"
    from deepdife_core.data.demo import make_demo_dataset

    df = make_demo_dataset(30, seed=99)
    fasta.write_text("".join(f">{g}\n{s}\n" for g, s in zip(df["gene_id"], df["sequence"], strict=True)))
    page.locator('[data-testid="stMain"] [data-testid="stFileUploader"] input[type="file"]').first.set_input_files(
        str(fasta)
    )
    page.get_by_text("query.fa").first.wait_for()
    wait_idle(page)
    page.locator('[data-testid="stMain"] button', has_text="Predict").last.click()
    page.get_by_text("30 genes · model e2e-model").wait_for(timeout=120_000)
    wait_idle(page)
    with page.expect_download() as dl_info:
        page.locator("button", has_text="Download CSV").first.click()
    target = tmp_path / "predictions.csv"
    dl_info.value.save_as(target)
    lines = target.read_text().splitlines()
    assert lines[0].startswith("gene_id,probability,predicted_class,forward,reverse") and len(lines) == 31
    shot(page, "predict")
    ctx.close()


def test_two_sessions_train_at_once_without_mixing(server, browser):
    from deepdife_core.model import folder as artifacts

    sessions = []
    for name in ("e2e-left", "e2e-right"):
        ctx, page, _ = _open(browser, server["url"])
        if not (server["workspace"] / "datasets" / "demo").exists():
            page.locator("button", has_text="Load the demo dataset").first.click()
            page.get_by_text("Demo dataset loaded").wait_for()
        goto_page(page, "Train")
        _start_training(page, name)
        page.get_by_text(f"{name}** —").or_(page.get_by_text(f"{name} —")).first.wait_for(timeout=60_000)
        sessions.append((name, ctx, page))
    for name, _ctx, page in sessions:
        page.get_by_text("Training finished").wait_for(timeout=TRAIN_TIMEOUT)
        wait_idle(page)
        # the finished panel is drawn in steps (a rerun makes the new model active): wait for its registry line
        _wait_main_text(page, f"Model {name} is in the registry", timeout=120_000)
        text = page.locator('[data-testid="stMain"]').inner_text()
        other = "e2e-right" if name == "e2e-left" else "e2e-left"
        assert f"Model {name} is in the registry" in text
        assert f"Model {other} is in the registry" not in text
        # this session's new model becomes its active model
        page.wait_for_function(
            "t => { const sb = document.querySelector('[data-testid=\"stSidebar\"]');"
            " return sb.textContent.includes(t) || [...sb.querySelectorAll('input')].some(i => i.value === t); }",
            arg=name,
        )
    shot(sessions[1][2], "train-two-sessions")
    names = set(artifacts.list_models(server["models"])["name"])
    assert {"e2e-left", "e2e-right"} <= names
    for _name, ctx, _page in sessions:
        ctx.close()
