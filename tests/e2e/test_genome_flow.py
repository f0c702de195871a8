"""Issue 14 in a real Chromium: register a genome FASTA + GFF3 on the Data page, then build a dataset from two
gene lists with promoters cut from it (no promoter FASTA), and save it."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from deepdife_core.genome.synthetic import make_genome
from tests.e2e.e2e_helpers import shot, wait_idle

pytestmark = pytest.mark.e2e

MAIN = '[data-testid="stMain"]'


def _upload(page, label: str, path) -> None:
    # a rerun that is still drawing the form (after a radio switch) can replace the uploader under the
    # file just given: give it once more after the page settles
    for attempt in range(2):
        box = page.locator(f'{MAIN} [data-testid="stFileUploader"]', has_text=label).first
        box.locator('input[type="file"]').set_input_files(str(path))
        try:
            box.get_by_text(path.name).first.wait_for(timeout=20_000)
            break
        except Exception:
            if attempt:
                shot(page, "genome_upload_debug")
                raise
            wait_idle(page)
    wait_idle(page)


def _radio(page, group: str, option: str) -> None:
    page.locator(f'{MAIN} [data-testid="stRadio"]', has_text=group).first.locator(
        "label", has_text=option
    ).first.click()
    wait_idle(page)


def test_register_genome_and_build_from_gene_lists(browser, fresh_server, tmp_path):
    server = fresh_server  # its own server: uploads here were lost on a server busy with the flows before it
    fa, an, truth = make_genome(tmp_path / "in", chrom_lengths=(9000, 8000, 7000), n_genes=30, seed=9)
    genes = truth["gene_id"].unique().tolist()
    up, flat = tmp_path / "up.txt", tmp_path / "flat.txt"
    up.write_text("\n".join(genes[:15]) + "\n")
    flat.write_text("\n".join(genes[15:]) + "\n")
    ctx = browser.new_context(viewport={"width": 1400, "height": 1200})
    page = ctx.new_page()
    page.set_default_timeout(90_000)
    try:
        page.goto(server["url"] + "/data")
        page.locator("h1", has_text="Data").first.wait_for()
        wait_idle(page)
        page.get_by_role("heading", name="Genomes").first.wait_for()
        page.get_by_label("Name", exact=True).fill("e2eTAIR")
        page.keyboard.press("Tab")
        _upload(page, "Genome FASTA", fa)
        _upload(page, "Annotation (GFF3 or GTF", an)
        page.locator(f"{MAIN} button", has_text="Register genome").first.click()
        page.get_by_text("Registered genome e2eTAIR: 3 chromosomes, 30 genes").first.wait_for(timeout=120_000)
        shot(page, "genome_registered")
        _radio(page, "Build from", "Two gene lists")
        _radio(page, "Promoter sequences from", "a registered genome")
        _upload(page, "Responsive genes", up)
        _upload(page, "Non-responsive genes", flat)
        page.locator(f"{MAIN} button", has_text="Build preview").first.click()
        page.get_by_role("heading", name="Preview").first.wait_for()
        wait_idle(page)
        assert page.get_by_text("cut from genome e2eTAIR").count() >= 1
        shot(page, "genome_dataset_preview")
        page.locator(f'{MAIN} input[aria-label="Dataset name"]').first.fill("from-genome-e2e")
        page.keyboard.press("Tab")
        wait_idle(page)
        page.locator(f"{MAIN} button", has_text="Save dataset").first.click()
        # the flash names the dataset ("Saved datasets", the table's heading, is always there)
        page.get_by_text("Saved dataset 'from").first.wait_for()
    finally:
        ctx.close()
    folder = server["workspace"] / "datasets" / "from-genome-e2e"
    meta = json.loads((folder / "dataset.json").read_text())
    assert meta["source"]["genome"] == "e2eTAIR"
    df = pd.read_csv(folder / "data.csv")
    assert len(df) >= 20 and df["coords"].str.contains("::").sum() == 0 and df["coords"].notna().all()
