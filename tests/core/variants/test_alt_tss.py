"""Variants at alternative TSSs (issue 18): ``tss="all"`` scores each variant against every TSS window.

Genome ``multi``: :data:`~tests.core.variants.helpers.GENOME` with gene GM (+) whose transcripts start
at 301 (TSS 300, window [230, 310)) and 1041 (TSS 1040, window [970, 1050)); each window is a record
named ``GM::Chr1:lo-hi(+)`` as ``deepdife promoters --tss all`` names them.  The expected effects are
the string oracle on the window cut by slicing.
"""

from __future__ import annotations

import pandas as pd
import pytest

from deepdife_core.cli.main import main
from deepdife_core.data.io import records_from_fasta
from deepdife_core.genome.promoters import PromoterConfig
from deepdife_core.genome.registry import add_genome
from deepdife_core.jobs import runner as jobs
from deepdife_core.jobs import variants as variants_job
from deepdife_core.model.cnn import Predictor
from deepdife_core.variants import VariantConfig
from deepdife_core.variants.run import score_variants
from tests.core.variants.helpers import (
    GENOME,
    D,
    U,
    oracle_cfg,
    oracle_input,
    oracle_logit,
    oracle_model,
    save_oracle_model,
    sigmoid,
    vcf_text,
    write_vcf,
)

T1, T2 = (230, 310, "+", 300), (970, 1050, "+", 1040)
ID1, ID2 = "GM::Chr1:230-310(+)", "GM::Chr1:970-1050(+)"
#: (record, window, pos0, ref, alt) in output order: the VCF's scorable alleles inside each window
WANT = [
    (ID1, T1, 240, GENOME[240], "C"),
    (ID1, T1, 240, GENOME[240], "G"),
    (ID1, T1, 262, "G", "A"),
    (ID1, T1, 285, GENOME[285], GENOME[285] + "GGCC"),
    (ID1, T1, 290, GENOME[290:293], GENOME[290]),
    (ID2, T2, 1024, "A", "C"),
]


def add_multi_genome(folder, workspace) -> None:
    """Register genome ``multi`` (Chr1 = GENOME; gene GM + with transcripts at 301 and 1041) in ``workspace``."""
    fa = folder / "g.fa"
    fa.write_text(">Chr1\n" + "\n".join(GENOME[i : i + 60] for i in range(0, len(GENOME), 60)) + "\n")
    gff = folder / "g.gff3"
    gff.write_text(
        "##gff-version 3\n"
        "Chr1\t.\tgene\t301\t1200\t.\t+\t.\tID=GM\n"
        "Chr1\t.\tmRNA\t301\t1200\t.\t+\t.\tID=GM.1;Parent=GM\n"
        "Chr1\t.\tmRNA\t1041\t1200\t.\t+\t.\tID=GM.2;Parent=GM\n"
    )
    add_genome("multi", fa, gff, workspace=workspace)


@pytest.fixture(scope="module")
def multi(tmp_path_factory):
    root = tmp_path_factory.mktemp("multitss")
    work = root / "workspace"
    add_multi_genome(root, work)
    (root / "vcf").mkdir()
    model = root / "model"
    save_oracle_model(model)
    return {"root": root, "work": work, "vcf": write_vcf(root / "vcf", vcf_text()), "model": model}


def _check(effects: pd.DataFrame) -> None:
    got = list(zip(effects["gene_id"], effects["pos"] - 1, effects["ref"], effects["alt"], strict=True))
    assert got == [(r, p, ref, alt) for r, _, p, ref, alt in WANT]
    for row, (_, win, p, ref, alt) in zip(effects.itertuples(), WANT, strict=True):
        assert row.p_ref == pytest.approx(sigmoid(oracle_logit(oracle_input([], win))), abs=1e-6)
        assert row.p_alt == pytest.approx(sigmoid(oracle_logit(oracle_input([(p, ref, alt)], win))), abs=1e-6)
        assert row.distance_to_tss == p - win[3]


def test_tss_all_scores_every_window_under_its_record_identity(multi):
    pred = Predictor([oracle_model()], oracle_cfg())
    kw = {"config": VariantConfig(motif_db="", attribution=False), "workspace": str(multi["work"])}
    r = score_variants(pred, "multi", multi["vcf"], promoter=PromoterConfig(upstream=U, downstream=D, tss="all"), **kw)
    _check(r.effects)
    # one TSS: the gene ID, the first transcript's window only
    one = score_variants(pred, "multi", multi["vcf"], promoter=PromoterConfig(upstream=U, downstream=D), **kw)
    assert one.effects["gene_id"].tolist() == ["GM"] * 5


def test_cli_variants_tss_all(multi, capsys, monkeypatch):
    out = multi["root"] / "cli.csv"
    argv = ["variants", "--model", multi["model"], "--genome", "multi", "--vcf", multi["vcf"], "--out", out]
    argv += ["--upstream", U, "--downstream", D, "--tss", "all", "--motif-db", "none", "--no-attribution"]
    monkeypatch.setenv("DEEPDIFE_WORKSPACE", str(multi["work"]))
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == 0, err
    _check(pd.read_csv(out))


def test_job_writes_every_window_to_promoters_fa(multi):
    out = multi["work"] / "variants" / "alt"
    args = {
        "model_path": str(multi["model"]),
        "model_name": "oracle",
        "genome": "multi",
        "workspace": str(multi["work"]),
        "vcf": str(multi["vcf"]),
        "vcf_name": "calls.vcf.gz",
        "genes": None,
        "samples": None,
        "per_sample": False,
        "promoter": {"upstream": U, "downstream": D, "tss": "all"},
        "config": {"motif_db": "", "attribution": False},
        "out": str(out),
        "uploads": None,
    }
    folder = jobs.create_job(multi["root"] / "jobs", variants_job.KIND, args)
    jobs.run_job(folder)
    assert jobs.read_job(folder)["state"] == "done", (folder / "log.txt").read_text()
    _check(pd.read_csv(out / variants_job.EFFECTS_FILE))
    df, _ = records_from_fasta(out / variants_job.PROMOTERS_FILE, length=80)
    assert df["gene_id"].tolist() == [ID1, ID2]  # read back: the effect table's record identities
    assert df["sequence"].tolist() == [oracle_input([], T1), oracle_input([], T2)]
