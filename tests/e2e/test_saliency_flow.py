"""Saliency page in a real Chromium against a real server (pytest -m e2e).

Deep link, search a gene, zoom, edit a base, download the SVG; the time from choosing a gene
to its track drawn in the browser (warm server) goes to bench/results/saliency_browser.json.
The committed demo model is copied into the server's registry (training it here would take minutes).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import time
from pathlib import Path

import pytest

from tests.e2e.e2e_helpers import ROOT, open_with_demo, shot, wait_idle

pytestmark = pytest.mark.e2e
BENCH = ROOT / "bench" / "results" / "saliency_browser.json"
MODEL = "e2e-saliency-demo"
TARGET_S = 2.0
PLOT = '[data-testid="stMain"] [data-testid="stPlotlyChart"] .js-plotly-plot'


def _drawn(page, gene: str, timeout: float = 120_000, **extra) -> None:
    """Wait until the track figure in the page is the one of ``gene`` (its layout.meta) and painted."""
    page.wait_for_function(
        """([sel, gene, extra]) => {
            const gd = document.querySelector(sel);
            if (!gd || !gd.layout || !gd.layout.meta || gd.layout.meta.gene !== gene) return false;
            for (const [k, v] of Object.entries(extra)) if (gd.layout.meta[k] !== v) return false;
            return gd.querySelectorAll('.scatterlayer .trace').length > 0;
        }""",
        arg=[PLOT, gene, extra],
        timeout=timeout,
    )


def _x_range(page) -> list[float]:
    return page.evaluate(f"() => document.querySelector('{PLOT}').layout.xaxis.range.slice()")


def _search(page, gene: str) -> float:
    """Type a gene ID in the search box and press Enter; seconds until its track is drawn."""
    wait_idle(page)  # a run still drawing the page below the figure would re-render the box over our typing
    box = page.locator('[data-testid="stMain"]').get_by_role("textbox", name="Search by gene ID")
    box.fill(gene)
    t0 = time.perf_counter()
    box.press("Enter")
    _drawn(page, gene)
    return time.perf_counter() - t0


@pytest.fixture(scope="module")
def demo_genes(server) -> dict:
    """The demo dataset's responsive genes with their planted ABRE sites (same generator and seed)."""
    from deepdife_core.data.demo import make_demo_dataset

    df = make_demo_dataset(2000, length=600)
    pos = df[(df["label"] == 1) & (df["sites"] != "")].reset_index(drop=True)
    target = server["models"] / MODEL
    if not target.exists():
        shutil.copytree(ROOT / "models" / "demo", target)
    return {"table": pos}


def test_saliency_page_in_the_browser(server, browser, demo_genes, tmp_path):
    ctx, page = open_with_demo(browser, server, width=1500, height=2000, downloads=True)

    genes = demo_genes["table"]
    first = genes.iloc[0]
    s0, e0, _ = first["sites"].split(";")[0].split(":")
    s0, e0 = int(s0), int(e0)

    # ---- deep link: model, gene and a highlighted site; the view zooms to it (cold: TF, shap, JASPAR load)
    t0 = time.perf_counter()
    page.goto(f"{server['url']}/saliency?model={MODEL}&gene={first['gene_id']}&hl={s0}-{e0}")
    page.locator("h1", has_text="Saliency").first.wait_for()
    _drawn(page, first["gene_id"], timeout=240_000)
    cold = time.perf_counter() - t0
    wait_idle(page)
    lo, hi = _x_range(page)
    assert lo <= s0 - 0.5 and hi >= e0 - 0.5 and hi - lo < 100, (lo, hi)
    assert page.locator(f"{PLOT} .shapelayer path").count() > 0  # the shaded highlight
    main = page.locator('[data-testid="stMain"]')
    assert "Highlighted: positions" in main.inner_text()

    # ---- search genes by ID (warm server; new genes: computed; a gene seen before: from the disk cache)
    warmup = _search(page, genes["gene_id"].iloc[6])  # the first full-promoter view after the deep link
    fresh = [_search(page, g) for g in genes["gene_id"].iloc[1:6]]
    wait_idle(page)
    cached = [_search(page, g) for g in genes["gene_id"].iloc[1:4]]
    wait_idle(page)
    gene = genes.iloc[3]
    assert gene["gene_id"] in main.inner_text()
    # the whole promoter after a search (the deep link's highlight belonged to the other gene)
    lo, hi = _x_range(page)
    assert (lo, hi) == (-0.5, 599.5)

    # ---- zoom: drag a box over the forward track (y is fixed, so it zooms x)
    drag = page.locator(f"{PLOT} .draglayer .nsewdrag").nth(1)  # rows: motifs, forward, reverse, ISM
    drag.scroll_into_view_if_needed()
    box = drag.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 0.55 * box["width"], y)
    page.mouse.down()
    page.mouse.move(box["x"] + 0.62 * box["width"], y, steps=8)
    page.mouse.move(box["x"] + 0.70 * box["width"], y, steps=8)
    page.mouse.up()
    page.wait_for_function(
        f"() => {{ const r = document.querySelector('{PLOT}').layout.xaxis.range; return r[1] - r[0] < 150; }}"
    )
    zlo, zhi = _x_range(page)
    assert 300 < zlo < zhi < 450, (zlo, zhi)
    shot(page, "saliency-zoom")

    # ---- edit a base: the new probability and the difference track at once
    seq = gene["sequence"]
    pos = next(p for p in range(int(gene["sites"].split(":")[0]), 600) if seq[p] != "A")
    position = main.get_by_role("spinbutton", name="Position")
    position.fill(str(pos))
    position.press("Tab")
    wait_idle(page)
    assert _x_range(page) == [zlo, zhi]  # a redraw of the same gene and window keeps the user's zoom
    main.locator("button", has_text="Change the base").first.click()
    page.get_by_text("Variant P(responsive)").first.wait_for(timeout=120_000)
    _drawn(page, gene["gene_id"], variant=True)
    wait_idle(page)
    assert f"1 base changed: {pos} {seq[pos]}→A" in main.inner_text()
    ytitles = page.evaluate(
        f"() => {{ const l = document.querySelector('{PLOT}').layout;"
        " return Object.keys(l).filter(k => k.startsWith('yaxis')).map(k => (l[k].title || {}).text); }"
    )
    assert "Δ contribution" in ytitles

    # ---- download the publication SVG
    with page.expect_download(timeout=120_000) as dl_info:
        main.locator("button", has_text="Figure (SVG)").first.click()
    target = tmp_path / "figure.svg"
    dl_info.value.save_as(target)
    text = target.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text[:2000] and text.rstrip().endswith("</svg>")
    assert dl_info.value.suggested_filename.endswith(".svg")
    page.mouse.move(10, 10)
    shot(page, "saliency")
    ctx.close()

    BENCH.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "benchmark": "saliency_browser",
        "what": "seconds from pressing Enter in the gene search box to the gene's track figure drawn in Chromium "
        "(plotly layout updated, traces painted); warm server, demo model (600 bp), DeepSHAP with 100 "
        "dinucleotide shuffles + ISM heat map + JASPAR plant scan",
        "new_gene_seconds": [round(t, 3) for t in fresh],
        "new_gene_median_s": round(statistics.median(fresh), 3),
        "new_gene_max_s": round(max(fresh), 3),
        "cached_gene_seconds": [round(t, 3) for t in cached],
        "cached_gene_median_s": round(statistics.median(cached), 3),
        "first_view_cold_s": round(cold, 3),
        "first_search_after_cold_view_s": round(warmup, 3),
        "target_s": TARGET_S,
        "meets_target": statistics.median(fresh) <= TARGET_S,
        "every_new_gene_within_target": max(fresh) <= TARGET_S,
        "cached_within_target": max(cached) <= TARGET_S,
        "notes": "2 shared CPU cores (other processes running); new gene = DeepSHAP ~0.1 s + ISM ~0.3 s on the "
        "server, the rest is the Streamlit round trip and Plotly drawing (~0.2 s, of which the heat map ~0.1 s)",
        "cpus": os.cpu_count(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    BENCH.write_text(json.dumps(result, indent=2) + "\n")
    assert Path(BENCH).is_file()
