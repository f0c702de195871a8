"""Uploads judged by content in a real Chromium (issue 17): DeepDifE's own ``example.fasta_c1`` is accepted
(the browser no longer refuses it by its ending), a workbook in the FASTA box is refused with a visible message."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from tests.e2e.e2e_helpers import shot, wait_idle

pytestmark = pytest.mark.e2e
MAIN = '[data-testid="stMain"]'


def test_files_are_judged_by_content(fresh_server, browser, tmp_path):
    server = fresh_server  # its own server: uploads are lost on a server the flows before it keep busy
    from deepdife_core.data.demo import make_demo_dataset

    df = make_demo_dataset(40, length=600, seed=4)
    fasta = tmp_path / "example.fasta_c1"
    fasta.write_text(
        "".join(f">{g}_{lab}\n{s}\n" for g, lab, s in zip(df["gene_id"], df["label"], df["sequence"], strict=True))
    )
    book = tmp_path / "genes.fa"
    buf = io.BytesIO()
    pd.DataFrame({"gene_id": ["G1"], "label": [1]}).to_excel(buf, index=False)
    book.write_bytes(buf.getvalue())

    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    page.goto(server["url"] + "/data")
    page.locator("h1", has_text="Data").first.wait_for()
    wait_idle(page)
    box = page.locator(f'{MAIN} [data-testid="stFileUploader"] input[type="file"]').first
    box.set_input_files(str(fasta))
    page.get_by_text("example.fasta_c1").first.wait_for()
    wait_idle(page)
    assert "not allowed" not in page.locator(MAIN).inner_text()
    page.locator(f"{MAIN} button", has_text="Build preview").first.click()
    page.locator(f'{MAIN} [data-testid="stMetric"]', has_text="Genes").first.wait_for()
    wait_idle(page)
    assert "40" in page.locator(f'{MAIN} [data-testid="stMetric"]', has_text="Genes").first.inner_text()
    shot(page, "upload-by-content")

    box.set_input_files(str(book))
    page.get_by_text("genes.fa").first.wait_for()
    wait_idle(page)
    page.locator(f"{MAIN} button", has_text="Build preview").first.click()
    alert = page.locator(f'{MAIN} [data-testid="stAlert"]').filter(has_text="this is an Excel workbook").first
    alert.wait_for()
    assert alert.is_visible() and "genes.fa" in alert.inner_text()
    ctx.close()
