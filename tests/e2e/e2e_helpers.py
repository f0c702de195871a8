"""Helpers for the real-browser tests (imported as ``e2e_helpers``)."""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "tests" / "artifacts" / "screenshots"


def wait_idle(page, timeout: float = 30_000) -> None:
    """Wait until Streamlit's 'running' indicator is gone."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    # a fragment refresh may show it again and again; the caller's own waits decide
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_selector('[data-testid="stStatusWidget"]', state="hidden", timeout=timeout)


def choose(page, container, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox labelled exactly ``label`` inside ``container``."""
    exact = page.locator('[data-testid="stWidgetLabel"]', has_text=re.compile(f"^{re.escape(label)}$"))
    box = container.locator('[data-testid="stSelectbox"]').filter(has=exact).first
    box.get_by_role("combobox").first.click()
    page.get_by_role("option", name=option, exact=True).first.click()
    wait_idle(page)


def goto_page(page, title: str, timeout: float = 60_000) -> float:
    """Click a sidebar navigation link; returns seconds until the page's title is shown."""
    t0 = time.perf_counter()
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    page.locator("h1", has_text=title).first.wait_for(timeout=timeout)
    wait_idle(page)
    return time.perf_counter() - t0


def shot(page, name: str) -> None:
    """Full-page screenshot into tests/artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def open_with_demo(browser, server: dict, *, width: int = 1500, height: int = 1400, downloads: bool = False):
    """A new browser context on the app's Data page, with the demo dataset loaded (once per server).

    Returns ``(context, page)``; the caller closes the context.
    """
    ctx = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=downloads)
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    page.goto(server["url"] + "/data")  # a visit lands on the Start page; these flows begin on Data
    page.locator("h1", has_text="Data").first.wait_for()
    wait_idle(page)
    if not (server["workspace"] / "datasets" / "demo").exists():
        page.locator("button", has_text="Load the demo dataset").first.click()
        page.get_by_text("Demo dataset loaded").wait_for()
        wait_idle(page)
    return ctx, page
