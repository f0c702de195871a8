"""Tune page in a real Chromium against a real server: start a 3-trial study on the demo data, watch it fill."""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.e2e_helpers import goto_page, open_with_demo, shot, wait_idle

pytestmark = pytest.mark.e2e
STUDY_TIMEOUT_S = 420
MAIN = '[data-testid="stMain"]'


def _main_text(page) -> str:
    return page.locator(MAIN).inner_text()


def _grid_rows(page) -> int:
    """Data rows of the trial table (the grid's accessible row count, header excluded)."""
    grids = page.locator(f'{MAIN} [data-testid="stDataFrame"] [role="grid"]')
    best = 0
    for i in range(grids.count()):
        text = grids.nth(i).inner_text()
        if "state" in text and "params" in text:
            best = max(best, int(grids.nth(i).get_attribute("aria-rowcount") or 1) - 1)
    return best


def _untick(page, name: str) -> None:
    """Untick a Streamlit checkbox by clicking its label (the input itself is visually hidden)."""
    from playwright.sync_api import expect

    box = page.get_by_role("checkbox", name=name, exact=True)
    label = page.locator(f'{MAIN} [data-testid="stCheckbox"] label').filter(has=box)
    label.scroll_into_view_if_needed()
    label.click()
    expect(box).not_to_be_checked()


def test_three_trial_study_on_the_demo_data(server, browser, timings):
    from deepdife_core.tune import study as tune

    ctx, page = open_with_demo(browser, server, width=1500, height=1100)
    goto_page(page, "Tune")

    main = page.locator(MAIN)
    main.get_by_role("textbox", name="Study name", exact=True).fill("e2e-study")
    for label, value in (("Trials", 3), ("CV folds", 2), ("Epochs per fold", 1), ("Early-stopping patience", 0)):
        box = main.get_by_role("spinbutton", name=label, exact=True).first
        box.fill(str(value))
        box.press("Tab")
    main.get_by_text(re.compile(r"^Search space \(\d+ parameters\)")).first.click()
    # a small, fast search: EvoAug off (no fine-tuning stage), one conv layer count
    for pname in ("evoaug", "n_conv"):
        _untick(page, f"Search {pname}")
    t0 = time.perf_counter()
    main.locator("button", has_text="Start study").first.click()
    main.get_by_role("button", name=re.compile("Stop study")).wait_for(timeout=60_000)

    seen: list[int] = []
    deadline = time.time() + STUDY_TIMEOUT_S
    shot_taken = False
    while time.time() < deadline:
        text = _main_text(page)
        m = re.search(r"(\d+) of 3 trials", text)
        if m and (not seen or int(m.group(1)) != seen[-1]):
            seen.append(int(m.group(1)))
        if seen and seen[-1] >= 1 and not shot_taken:
            timings["tune_start_to_first_trial_s"] = time.perf_counter() - t0
            page.locator(f'{MAIN} [data-testid="stProgress"]').first.scroll_into_view_if_needed()
            shot(page, "tune-live")
            shot_taken = True
        if "The study reached its number of trials" in text:
            break
        time.sleep(1.0)
    else:
        pytest.fail(f"the study did not finish; counts seen {seen}; page:\n{_main_text(page)[-2000:]}")
    timings["tune_three_trials_s"] = time.perf_counter() - t0
    wait_idle(page)
    # the table filled while the study ran (at least one intermediate count was shown)
    assert any(0 < n < 3 for n in seen), seen
    page.locator(f'{MAIN} [data-testid="stPlotlyChart"]').nth(1).wait_for()
    page.wait_for_function(
        '() => [...document.querySelectorAll(\'[data-testid="stMain"] [data-testid="stDataFrame"]\')].length >= 2'
    )
    deadline = time.time() + 60  # the grid draws after the fragment's last rerun
    while _grid_rows(page) != 3 and time.time() < deadline:
        time.sleep(0.5)
    assert _grid_rows(page) == 3
    assert "Best auroc" in _main_text(page)
    page.locator(f'{MAIN} [data-testid="stPlotlyChart"]').first.scroll_into_view_if_needed()
    shot(page, "tune-done")
    table = tune.trials_table("e2e-study", workspace=server["workspace"])
    assert sorted(table["number"]) == [0, 1, 2]
    assert set(table["state"]) <= {"COMPLETE", "PRUNED"}
    ctx.close()
