"""The Variants page's background job (deepdife_core.jobs.variants), run in this process by the runner.

The genome, VCF and ABRE oracle model of ``tests/core/variants/helpers.py``: three genes, seven
scorable alleles (two in G1's and G2's windows change the ABRE), three samples.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from deepdife_core.data.io import read_fasta
from deepdife_core.genome.fasta import reverse_complement
from deepdife_core.jobs import runner as jobs
from deepdife_core.jobs import variants as variants_job
from tests.core.variants.helpers import (
    EXPECTED,
    D,
    U,
    add_tiny_genome,
    save_oracle_model,
    vcf_text,
    write_vcf,
)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """Genome ``tiny`` in a workspace, the oracle model folder and a tabix-indexed VCF (built once)."""
    root = tmp_path_factory.mktemp("jobvariants")
    work = root / "workspace"
    add_tiny_genome(root, work)
    model = root / "models" / "oracle"
    save_oracle_model(model)
    (root / "vcf").mkdir()
    return {"root": root, "work": work, "model": model, "vcf": write_vcf(root / "vcf", vcf_text())}


def _args(setup, out: Path, **over) -> dict:
    args = {
        "model_path": str(setup["model"]),
        "model_name": "oracle",
        "genome": "tiny",
        "workspace": str(setup["work"]),
        "vcf": str(setup["vcf"]),
        "vcf_name": "calls.vcf.gz",
        "genes": None,
        "samples": None,
        "per_sample": True,
        "promoter": {"upstream": U, "downstream": D, "tss": "gene"},
        "config": {"motif_db": ""},
        "out": str(out),
        "uploads": None,
    }
    return {**args, **over}


def _run(setup, name: str, *, stop: bool = False, **over) -> tuple[Path, dict, Path]:
    out = setup["work"] / "variants" / name
    folder = jobs.create_job(setup["root"] / "jobs", variants_job.KIND, _args(setup, out, **over))
    if stop:
        jobs.request_stop(folder)
    jobs.run_job(folder)
    return folder, jobs.read_job(folder), out


def test_variants_is_a_job_kind_of_the_runner():
    assert jobs.RUNNERS[variants_job.KIND] == "deepdife_core.jobs.variants:run"
    assert jobs._resolve_runner(variants_job.KIND) is variants_job.run


def test_a_run_writes_its_folder_events_and_result(setup):
    uploads = setup["root"] / "uploads-1"
    uploads.mkdir()
    (uploads / "calls.vcf").write_text("uploaded")
    folder, job, out = _run(setup, "v1", uploads=str(uploads))
    assert job["state"] == "done", (folder / jobs.LOG_FILE).read_text()
    events = jobs.read_events(folder)
    assert [e["text"] for e in events if e["event"] == "stage"] == [
        "Reading genome tiny…",
        "Indexing VCF calls.vcf.gz…",
    ]
    scored = [e for e in events if e["event"] == "scored"]
    assert [(e["done"], e["total"]) for e in scored] == [(1, 3), (2, 3), (3, 3)]  # one chunk per gene (<= STEPS)
    assert scored[-1]["variants"] == len(EXPECTED)
    result = jobs.read_result(folder)
    assert result["run_id"] == "v1" and result["out"] == str(out) and result["n_variants"] == len(EXPECTED)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [
            variants_job.EFFECTS_FILE,
            variants_job.SAMPLES_FILE,
            variants_job.REPORT_FILE,
            variants_job.INFO_FILE,
            variants_job.PROMOTERS_FILE,
        ]
    )
    effects = pd.read_csv(out / variants_job.EFFECTS_FILE)
    assert [(r.gene_id, r.pos - 1) for r in effects.itertuples()] == [(g, p) for g, p, _, _ in EXPECTED]
    samples = pd.read_csv(out / variants_job.SAMPLES_FILE)
    assert list(samples.columns) == ["gene_id", "reference", "S1", "S2", "S3"] and len(samples) == 3
    info = json.loads((out / variants_job.INFO_FILE).read_text())
    assert info["model"] == "oracle" and info["genes_scored"] == 3 and info["genes_asked"] is None
    assert info["variants_scored"] == len(EXPECTED) and info["promoter"] == {
        "upstream": U,
        "downstream": D,
        "tss": "gene",
    }
    report = json.loads((out / variants_job.REPORT_FILE).read_text())
    assert report["variants_scored"] == len(EXPECTED)
    # the reference model inputs: one record per gene with a variant, holding every REF where window_pos says
    # (reverse-complemented on a minus-strand gene), each the model's length
    promoters = {r.id.split("::")[0]: r.sequence for r in read_fasta(out / variants_job.PROMOTERS_FILE)}
    assert sorted(promoters) == sorted(set(effects["gene_id"]))
    assert {len(s) for s in promoters.values()} == {U + D}
    for r in effects.itertuples():
        ref = r.ref if r.strand == "+" else reverse_complement(r.ref)
        assert promoters[r.gene_id][r.window_pos : r.window_pos + len(ref)] == ref, r
    assert not uploads.exists()  # the uploaded VCF goes with the job


def test_a_gene_list_is_matched_and_its_unknown_ids_recorded(setup):
    folder, job, out = _run(setup, "v2", genes=["G2", "NOPE"], per_sample=False)
    assert job["state"] == "done", (folder / jobs.LOG_FILE).read_text()
    info = json.loads((out / variants_job.INFO_FILE).read_text())
    assert info["genes_asked"] == 2 and info["genes_scored"] == 1 and info["genes_not_found"] == ["NOPE"]
    assert set(pd.read_csv(out / variants_job.EFFECTS_FILE)["gene_id"]) == {"G2"}
    assert not (out / variants_job.SAMPLES_FILE).exists()


def test_no_known_gene_is_an_input_error(setup):
    _, job, out = _run(setup, "v3", genes=["NOPE"])
    assert job["state"] == "failed" and job["error_kind"] == "input"
    assert job["error"] == "none of the 1 gene IDs (e.g. 'NOPE') is in genome 'tiny'"
    assert not out.exists()


def test_a_stop_before_the_first_chunk_saves_nothing(setup):
    folder, job, out = _run(setup, "v4", stop=True)
    assert job["state"] == "stopped"
    assert jobs.read_result(folder) == {"stopped": True, "note": "stopped before the end; nothing was saved"}
    assert not out.exists()
    assert [e["event"] for e in jobs.read_events(folder) if e["event"] == "scored"] == []
