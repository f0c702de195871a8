"""Bad files uploaded on the Data page, in a real Chromium: a readable message, the workspace unchanged."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.e2e.e2e_helpers import goto_page, shot, wait_idle

pytestmark = pytest.mark.e2e

MAIN = '[data-testid="stMain"]'
ALERT = f'{MAIN} [data-testid="stAlert"]'
BUG_TEXT = "Your data and models are safe"  # the apology shown for a bug (never expected here)


def _snapshot(folder: Path) -> dict[str, int]:
    """Relative path -> size of every file under ``folder`` (the datasets in the workspace)."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*") if p.is_file()}


def _open_data_page(browser, url):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    page.goto(url + "/data")  # a visit lands on the Start page; these flows begin on Data
    page.locator("h1", has_text="Data").first.wait_for()
    wait_idle(page)
    return ctx, page


#: radio label -> the label of the first file uploader that mode shows (proof the mode switched)
UPLOADER_LABEL = {
    "Labelled FASTA": "Promoter FASTA with labelled headers",
    "Labelled table": "Labelled table",
    "Two gene lists": "Responsive genes (one ID per line)",
}


def _choose_source(page, label: str) -> None:
    page.locator(f'{MAIN} [data-testid="stRadio"] label', has_text=label).first.click()
    page.locator(f'{MAIN} [data-testid="stFileUploader"]', has_text=UPLOADER_LABEL[label]).first.wait_for()
    wait_idle(page)


def _upload(page, index: int, path: Path) -> None:
    page.locator(f'{MAIN} [data-testid="stFileUploader"] input[type="file"]').nth(index).set_input_files(str(path))
    page.get_by_text(path.name).first.wait_for()
    wait_idle(page)


def _build_and_read_error(page, fragment: str) -> str:
    """Click Build preview; the text of the alert that names ``fragment`` (the bad file)."""
    page.locator(f"{MAIN} button", has_text="Build preview").first.click()
    wait_idle(page)
    alert = page.locator(ALERT).filter(has_text=fragment).first
    alert.wait_for()
    return alert.inner_text()


CASES = [
    # (source radio label, files, fragments the message must contain)
    (
        "Labelled FASTA",
        {"garbage.fa": b"\x00\x01\x02\xff\xfe binary \x89PNG\r\n"},
        ["garbage.fa"],
    ),
    (
        "Labelled FASTA",
        {"letters.fa": b">AT1G01010_1\nACGTXXXXACGT\n>AT1G01020_0\nACGTACGT\n"},
        ["letters.fa", "AT1G01010"],
    ),
    (
        "Labelled FASTA",
        {"gz.fa.gz": gzip.compress(b">AT1G01010_7\nACGTACGT\n>AT1G01020_0\nACGTACGT\n")},
        ["gz.fa.gz"],
    ),
    (
        "Labelled table",
        {"labels.csv": b"gene_id,label,sequence\nAT1G01010,yes,ACGT\nAT1G01020,no,ACGT\n"},
        ["labels.csv", "label"],
    ),
    (
        "Labelled table",
        {"nogene.tsv": b"name\tlabel\tsequence\nAT1G01010\t1\tACGT\n"},
        ["nogene.tsv", "gene_id"],
    ),
    (
        "Two gene lists",
        {
            "up.txt": b"AT9G99990\nAT9G99991\n",
            "down.txt": b"AT9G99992\n",
            "prom.fa": b">AT1G01010::Chr1:1-600(+)\nACGTACGTACGT\n",
        },
        ["prom.fa"],
    ),
]


@pytest.mark.parametrize(("source", "files", "fragments"), CASES, ids=[next(iter(c[1])) for c in CASES])
def test_bad_upload_shows_message_and_leaves_workspace(server, browser, tmp_path, source, files, fragments):
    datasets = server["workspace"] / "datasets"
    before = _snapshot(datasets)
    ctx, page = _open_data_page(browser, server["url"])
    try:
        _choose_source(page, source)
        for i, (name, data) in enumerate(files.items()):
            path = tmp_path / name
            path.write_bytes(data)
            _upload(page, i, path)
        text = _build_and_read_error(page, fragments[0])
        shot(page, f"bad-upload-{next(iter(files))}")
        for frag in fragments:
            assert frag in text, (frag, text)
        assert BUG_TEXT not in text
        assert "Traceback" not in page.locator(MAIN).inner_text()
        # no preview and no save form appeared; nothing was written to the workspace
        assert page.get_by_text("Save dataset").count() == 0
        assert _snapshot(datasets) == before
        # the page still works: switching away and back is fine
        goto_page(page, "Train")
        goto_page(page, "Data")
    finally:
        ctx.close()
