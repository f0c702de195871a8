"""Experiments page in a real Chromium against a real server (pytest -m e2e).

"Does a second ABRE matter, and where": a spacing experiment of two ABREs on the demo model runs as a
job, its heat map and table appear, and the table downloads as CSV.
"""

from __future__ import annotations

import shutil
import time

import pandas as pd
import pytest

from tests.e2e.e2e_helpers import ROOT, choose, goto_page, open_with_demo, shot, wait_idle

pytestmark = pytest.mark.e2e
MODEL = "e2e-experiments-demo"
NAME = "e2e-spacing"
JOB_TIMEOUT = 180_000


def _number(main, label: str, value: int) -> None:
    box = main.get_by_role("spinbutton", name=label, exact=True).first
    box.fill(str(value))
    box.press("Enter")


def test_spacing_experiment_flow(server, browser, timings, tmp_path):
    target = server["models"] / MODEL
    if not target.exists():
        shutil.copytree(ROOT / "models" / "demo", target)
    ctx, page = open_with_demo(browser, server, downloads=True)
    goto_page(page, "Experiments")
    sidebar = page.locator('[data-testid="stSidebar"]')
    choose(page, sidebar, "Active model", MODEL)
    choose(page, sidebar, "Active dataset", "demo")
    main = page.locator('[data-testid="stMain"]')
    choose(page, main, "Experiment", "Spacing and orientation of two motifs")
    _number(main, "Largest gap (bp)", 20)
    wait_idle(page)
    name = main.get_by_role("textbox", name="Name of the results", exact=True)
    name.fill(NAME)
    name.press("Enter")
    wait_idle(page)
    t0 = time.perf_counter()
    main.locator("button", has_text="Run").first.click()
    page.get_by_text("Best pair: orientation").first.wait_for(timeout=JOB_TIMEOUT)
    page.get_by_text("CCACGTGGCA then CCACGTGGCA, 200 non-responsive promoters").first.wait_for()
    timings["experiments_spacing_200x21x4_s"] = time.perf_counter() - t0
    wait_idle(page)
    page.locator('[data-testid="stMain"] [data-testid="stPlotlyChart"]').first.wait_for()
    shot(page, "experiments")
    with page.expect_download() as dl:
        main.locator("button", has_text="Table (CSV)").first.click()
    path = tmp_path / "spacing.csv"
    dl.value.save_as(path)
    table = pd.read_csv(path)
    assert len(table) == 21 * 4 and set(table["orientation"]) == {"++", "+-", "-+", "--"}
    assert (server["workspace"] / "experiments" / NAME / "figure.svg").is_file()
    ctx.close()
