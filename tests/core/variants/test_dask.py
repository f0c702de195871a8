"""Tests of ``deepdife_core.variants.dask`` (moved from ``tests/core/test_variants.py``)."""

from __future__ import annotations

from pathlib import Path

from deepdife_core.variants import VariantConfig
from deepdife_core.variants.run import score_variants, write_results
from tests.core.variants.helpers import EXPECTED, PROM


def test_dask_two_workers_equal_in_process(ws, tmp_path):
    from distributed import Client, LocalCluster

    cfg = VariantConfig(motif_db=ws["meme"], motif_pvalue=1e-3, genes_per_chunk=1)
    kw = dict(per_sample=True, promoter=PROM, config=cfg, workspace=ws["work"])
    local = score_variants(ws["model"], "tiny", ws["vcf"], **kw)
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cl,
        Client(cl) as client,
    ):
        remote = score_variants(ws["model"], "tiny", ws["vcf"], dask=client, **kw)
    a, bb = tmp_path / "a.csv", tmp_path / "b.csv"
    write_results(local, a)
    write_results(remote, bb)
    assert a.read_bytes() == bb.read_bytes() and len(local.effects) == len(EXPECTED)
    assert Path(tmp_path / "a.samples.csv").read_bytes() == Path(tmp_path / "b.samples.csv").read_bytes()
