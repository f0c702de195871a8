"""Issue 17 in a real Chromium: one coordinate choice governs the Saliency page's controls (pytest -m e2e).

A link with ``coords=tss`` opens a gene with a highlighted ABRE: the highlight, the window slider, the edit
position and the plot axis speak of distances to the TSS; switching to genomic coordinates turns the same
base into its genome coordinate (the edit position typed before is kept), and a reload keeps the choice.
"""

from __future__ import annotations

import re
import shutil

import pytest

from dashboard.coordinates import parse_coords
from tests.e2e.e2e_helpers import ROOT, open_with_demo, shot, wait_idle

pytestmark = pytest.mark.e2e
MODEL = "e2e-coords-demo"
MAIN = '[data-testid="stMain"]'
PLOT = f"{MAIN} [data-testid='stPlotlyChart'] .js-plotly-plot"
LENGTH = 600


def _drawn(page, gene: str, timeout: float = 240_000) -> None:
    page.wait_for_function(
        """([sel, gene]) => {
            const gd = document.querySelector(sel);
            return !!(gd && gd.layout && gd.layout.meta && gd.layout.meta.gene === gene
                      && gd.querySelectorAll('.scatterlayer .trace').length > 0);
        }""",
        arg=[PLOT, gene],
        timeout=timeout,
    )


def _axis_title(page) -> str:
    """The title of the figure's bottom x axis (the one that carries the coordinates)."""
    return page.evaluate(
        """sel => {
            const l = document.querySelector(sel).layout;
            const t = Object.keys(l).filter(k => k.startsWith('xaxis')).map(k => (l[k].title || {}).text);
            return t.filter(Boolean).join('|');
        }""",
        PLOT,
    )


def _position(page):
    return page.locator(MAIN).get_by_role("spinbutton", name="Position").first


def _choose_coords(page, option: str) -> None:
    summary = page.locator(f'{MAIN} [data-testid="stExpander"] summary', has_text="Method and display").first
    if page.locator(f'{MAIN} [data-testid="stRadio"] label', has_text=option).count() == 0 or not (
        page.locator(f'{MAIN} [data-testid="stRadio"] label', has_text=option).first.is_visible()
    ):
        summary.click()
    page.locator(f'{MAIN} [data-testid="stRadio"] label', has_text=option).first.click()


def test_one_coordinate_choice_in_the_browser(server, browser):
    from deepdife_core.data.demo import make_demo_dataset

    target = server["models"] / MODEL
    if not target.exists():
        shutil.copytree(ROOT / "models" / "demo", target)
    df = make_demo_dataset(2000, length=LENGTH)
    gene = df[(df["label"] == 1) & (df["sites"] != "")].iloc[4]
    s, e, _ = gene["sites"].split(";")[0].split(":")
    s, e = int(s), int(e)
    c = parse_coords(gene["coords"])
    assert c is not None and c.length == LENGTH

    def genome(p: int) -> int:  # 1-based genome base of promoter position p, by hand
        return c.end - p if c.strand == "-" else c.start + 1 + p

    ctx, page = open_with_demo(browser, server, width=1500, height=2000)
    try:
        page.goto(f"{server['url']}/saliency?model={MODEL}&gene={gene['gene_id']}&dataset=demo&hl={s}-{e}&coords=tss")
        page.locator("h1", has_text="Saliency").first.wait_for()
        _drawn(page, gene["gene_id"])
        wait_idle(page)
        main = page.locator(MAIN)
        text = main.inner_text()
        assert f"Highlighted: {s - LENGTH} to {e - LENGTH} bp from the TSS" in text, text[:2000]
        assert "Window (bp from the TSS)" in text
        assert _axis_title(page) == "distance to the TSS (bp)"
        assert _position(page).input_value() == str(s - LENGTH)  # the highlight's first base
        # an edit position typed as a distance to the TSS
        _position(page).fill("-100")
        _position(page).press("Tab")
        wait_idle(page)
        shot(page, "coords-tss")

        _choose_coords(page, "Genomic")
        page.wait_for_function("() => location.search.includes('coords=genomic')")
        page.wait_for_function(
            "t => document.querySelector('[data-testid=\"stMain\"]').innerText.includes(t)",
            arg=f"Window ({c.chrom}, 1-based)",
        )
        wait_idle(page)
        text = main.inner_text()
        lo, hi = sorted((genome(s), genome(e - 1)))
        assert f"Highlighted: {c.chrom}:{lo:,}-{hi:,}" in text, text[:2000]
        assert _axis_title(page).startswith(f"{c.chrom} position")
        assert _position(page).input_value() == str(genome(LENGTH - 100))  # the same base, in the genome
        assert re.search(r"1-based, both ends included", text)
        shot(page, "coords-genomic")

        page.reload()
        page.locator("h1", has_text="Saliency").first.wait_for()
        _drawn(page, gene["gene_id"])
        wait_idle(page)
        assert f"Window ({c.chrom}, 1-based)" in main.inner_text()
        assert _axis_title(page).startswith(f"{c.chrom} position") and "coords=genomic" in page.url
    finally:
        ctx.close()
        shutil.rmtree(target, ignore_errors=True)  # the server is shared: leave its registry as it was
