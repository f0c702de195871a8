"""Motifs page in a real Chromium against a real server (pytest -m e2e).

Start a discovery job on 400 demo genes (pasted gene list, gradient x input), watch it finish,
see the pattern table, open a pattern and jump to one of its genes on the Saliency page.
The committed demo model is copied into the server's registry.  The time to reopen the run
(page switch back to Motifs until the pattern table is drawn) goes to bench/results/dashboard.json.
"""

from __future__ import annotations

import shutil
import time

import pandas as pd
import pytest

from tests.e2e.e2e_helpers import ROOT, choose, goto_page, open_with_demo, shot, wait_idle

pytestmark = pytest.mark.e2e
MODEL = "e2e-motifs-demo"
RUN = "e2e-motif-run"
N_GENES = 400
JOB_TIMEOUT = 300_000
TABLE = '[data-testid="stMain"] [data-testid="stDataFrame"]'


def _wait_main_text(page, text: str, timeout: float = 60_000) -> None:
    page.wait_for_function(
        "t => (document.querySelector('[data-testid=\"stMain\"]') || {innerText: ''}).innerText.includes(t)",
        arg=text,
        timeout=timeout,
    )


def test_motif_discovery_flow(server, browser, timings):
    from deepdife_core.data.demo import make_demo_dataset

    target = server["models"] / MODEL
    if not target.exists():
        shutil.copytree(ROOT / "models" / "demo", target)
    genes = make_demo_dataset()["gene_id"].iloc[:N_GENES].tolist()

    ctx, page = open_with_demo(browser, server, width=1500, height=1400, downloads=True)

    goto_page(page, "Motifs")
    sidebar = page.locator('[data-testid="stSidebar"]')
    choose(page, sidebar, "Active model", MODEL)
    choose(page, sidebar, "Active dataset", "demo")
    main = page.locator('[data-testid="stMain"]')
    main.get_by_text("A list of genes").first.click()
    wait_idle(page)
    area = main.get_by_role("textbox", name="Paste gene IDs (one per line)")
    area.fill("\n".join(genes))
    area.press("Control+Enter")
    main.get_by_text(f"{N_GENES} genes: {N_GENES} listed genes").first.wait_for()
    wait_idle(page)
    choose(page, main, "Attributions", "Gradient × input (fast preview)")
    name = main.get_by_role("textbox", name="Run name")
    name.fill(RUN)
    name.press("Enter")
    wait_idle(page)
    main.locator("button", has_text="Start discovery").first.click()

    # live progress, then the finished run opens by itself
    page.locator('[data-testid="stMain"] [data-testid="stProgress"]').first.wait_for()
    shot(page, "motifs-live")
    page.get_by_text(f"Discovery run {RUN} finished").wait_for(timeout=JOB_TIMEOUT)
    wait_idle(page)
    page.locator(TABLE).first.wait_for()
    shot(page, "motifs-run")
    for text in ("Patterns", "Pattern detail", "Best match q-value at most"):
        _wait_main_text(page, text)
    assert (server["workspace"] / "motifs" / RUN / "report.html").is_file()
    shot(page, "motifs-run")

    # reopen instantly: switch away and back, time until the pattern table is drawn
    goto_page(page, "Data")
    t0 = time.perf_counter()
    page.locator('[data-testid="stSidebarNav"] a', has_text="Motifs").first.click()
    page.locator(TABLE).first.wait_for()
    page.locator(f"{TABLE} canvas").first.wait_for()
    timings["motifs_reopen_pattern_table_s"] = time.perf_counter() - t0
    wait_idle(page)

    # open a pattern: its detail (seqlets, TSS histogram, genes)
    pats = pd.read_csv(server["workspace"] / "motifs" / RUN / "patterns.csv").set_index("pattern")
    for name in [*pats.index[1:], "pos_patterns.pattern_0"]:
        choose(page, main, "Pattern", name)
        _wait_main_text(page, f"All {pats.loc[name, 'n_seqlets']:,} seqlets")
    main.get_by_text("Genes carrying the pattern").first.wait_for()
    main.get_by_text("Seqlet positions relative to the TSS").first.wait_for()
    assert "Strand balance" in main.inner_text()
    shot(page, "motifs-pattern")

    # jump to a gene: the Saliency page opens it with the seqlet highlighted
    main.locator("button", has_text="Open in Saliency").first.click()
    page.locator("h1", has_text="Saliency").first.wait_for(timeout=120_000)
    _wait_main_text(page, "Highlighted: positions", timeout=240_000)
    seq = pd.read_csv(server["workspace"] / "motifs" / RUN / "seqlets.csv", dtype={"gene_id": str})
    carriers = seq[seq["pattern"] == "pos_patterns.pattern_0"].sort_values("start")
    text = main.inner_text()
    shown = [g for g in dict.fromkeys(carriers["gene_id"]) if g in text]
    assert shown, "the Saliency page shows none of the pattern's genes"
    first = carriers[carriers["gene_id"] == shown[0]].iloc[0]
    assert f"{first['core_start']}" in text  # the highlighted seqlet's start
    shot(page, "motifs-to-saliency")
    assert "/saliency" in page.url
    ctx.close()
