"""Variants page in a real Chromium against a real server (pytest -m e2e, issue 15).

A generated genome is registered, a plain VCF of promoter SNVs is given by its server path, the demo model
scores it as a job, and the effect table, the figure and the run's success line appear.
"""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest

from dashboard import page_variants
from deepdife_core.genome.registry import add_genome
from deepdife_core.genome.synthetic import make_genome
from tests.e2e.e2e_helpers import ROOT, choose, goto_page, open_with_demo, shot, wait_idle

pytestmark = pytest.mark.e2e
MODEL = "e2e-variants-demo"
GENOME = "e2eVariants"
JOB_TIMEOUT = 180_000


def _read_fasta(path) -> dict[str, str]:
    seqs: dict[str, list[str]] = {}
    name = None
    for line in path.read_text().splitlines():
        if line.startswith(">"):
            name = line[1:].split()[0]
            seqs[name] = []
        elif name is not None:
            seqs[name].append(line.strip())
    return {k: "".join(v).upper() for k, v in seqs.items()}


def _vcf(path, fasta, truth) -> int:
    """A plain, sorted VCF: one SNV 50 bp upstream of each gene's TSS (REF from the genome)."""
    seqs = _read_fasta(fasta)
    rows = []
    for r in truth.drop_duplicates("gene_id").itertuples():
        pos0 = r.start - 50 if r.strand == "+" else r.end - 1 + 50
        seq = seqs[r.chrom]
        if 0 <= pos0 < len(seq) and seq[pos0] in "ACGT":
            ref = seq[pos0]
            alt = "A" if ref != "A" else "C"
            rows.append((r.chrom, pos0 + 1, ref, alt))
    order = list(seqs)
    rows.sort(key=lambda x: (order.index(x[0]), x[1]))
    head = ["##fileformat=VCFv4.2", *(f"##contig=<ID={c},length={len(s)}>" for c, s in seqs.items())]
    head.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
    body = [f"{c}\t{p}\t.\t{ref}\t{alt}\t50\tPASS\t." for c, p, ref, alt in rows]
    path.write_text("\n".join(head + body) + "\n")
    return len(rows)


def test_variants_flow(server, browser, tmp_path):
    target = server["models"] / MODEL
    if not target.exists():
        shutil.copytree(ROOT / "models" / "demo", target)
    fa, an, truth = make_genome(tmp_path / "g", chrom_lengths=(9000, 8000), n_genes=12, seed=5)
    if not (server["workspace"] / "genomes" / GENOME).exists():
        add_genome(GENOME, fa, an, workspace=server["workspace"])
    vcf = tmp_path / "calls.vcf"
    n = _vcf(vcf, fa, truth)
    assert n >= 4
    ctx, page = open_with_demo(browser, server)
    try:
        goto_page(page, "Variants")
        sidebar = page.locator('[data-testid="stSidebar"]')
        choose(page, sidebar, "Active model", MODEL)
        main = page.locator('[data-testid="stMain"]')
        choose(page, main, "Genome", GENOME)
        choose(page, main, "Motifs lost / gained", "none (no motif columns)")
        main.locator('[data-testid="stRadio"]', has_text="VCF").first.locator(
            "label", has_text="path on the server"
        ).first.click()
        wait_idle(page)
        box = main.get_by_role("textbox", name="VCF path on the server", exact=True)
        box.fill(str(vcf))
        box.press("Enter")
        wait_idle(page)
        name = main.get_by_role("textbox", name="Name of the results", exact=True)
        name.fill("e2e-variants")
        name.press("Enter")
        wait_idle(page)
        main.locator("button", has_text="Start").first.click()
        page.get_by_text(re.compile(r"Variant run e2e-variants finished: \d+ variants scored")).first.wait_for(
            timeout=JOB_TIMEOUT
        )
        wait_idle(page)
        page.get_by_text(re.compile(r"\d+ of \d+ variants, strongest")).first.wait_for()
        main.locator('[data-testid="stDataFrame"]').first.wait_for()
        main.locator('[data-testid="stPlotlyChart"]').first.wait_for()
        shot(page, "variants")
        # a row's Saliency link (built as the page builds it): the run's reference promoter, the variant applied
        effects = pd.read_csv(server["workspace"] / "variants" / "e2e-variants" / "effects.csv")
        top = effects[effects["window_pos"] >= 0].sort_values("delta_logit", key=abs, ascending=False).iloc[0]
        link = page_variants.effect_view(pd.DataFrame([top]), MODEL)["saliency"].iloc[0]
        link += "&variants=e2e-variants"  # what the page adds for a run with reference promoters (its folder here)
        page.goto(f"{server['url']}/{link}")
        page.get_by_text("Genes from variant run e2e-variants").first.wait_for(timeout=120_000)
        page.get_by_text("Variant P(responsive)").first.wait_for(timeout=120_000)
        assert not page.get_by_text("was not applied").count()
        shot(page, "variants-saliency")
    finally:
        ctx.close()
    assert (server["workspace"] / "variants" / "e2e-variants" / "effects.csv").is_file()
