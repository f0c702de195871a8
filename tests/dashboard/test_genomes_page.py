"""Data page, Genomes section (issue 14): register an uploaded or server-side genome as a job, see its
chromosomes, counts and mismatches, and build gene-list / DE-table datasets from it without a promoter FASTA."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

from dashboard import jobs
from deepdife_core.genome.registry import genomes_dir, list_genomes
from deepdife_core.genome.synthetic import make_genome
from tests.dashboard.apptest_helpers import texts


def _wait_for_job(app, timeout: float = 120.0) -> dict:
    job_id = app.session_state["genomes.job"]
    t0 = time.time()
    while time.time() - t0 < timeout:
        job = jobs.read(job_id)
        if job and job["state"] not in ("queued", "running"):
            app.run()
            return job
        time.sleep(0.3)
    raise AssertionError("genome registration job did not finish")


@pytest.fixture
def genome_files(tmp_path):
    fa, an, truth = make_genome(tmp_path / "in", chrom_lengths=(9000, 8000, 7000), n_genes=30, seed=7, compress="gzip")
    return fa, an, truth


def _frame(app, *cols):
    """The first dataframe on the page with these columns."""
    return next(d.value for d in app.dataframe if set(cols) <= set(d.value.columns))


def _register_upload(app, name, fa, an, chrom_map=""):
    app.text_input(key="w.genomes.name").set_value(name)
    app.file_uploader(key="w.genomes.fa").set_value((fa.name, fa.read_bytes(), "application/gzip"))
    app.file_uploader(key="w.genomes.an").set_value((an.name, an.read_bytes(), "application/gzip"))
    app.text_input(key="w.genomes.chrom_map").set_value(chrom_map)
    app.run()
    app.button(key="w.genomes.register").click().run()
    assert not app.exception, [e.value for e in app.exception]
    return _wait_for_job(app)


def test_register_an_upload_shows_counts_chromosomes_and_mismatches(app, dirs, tmp_path):
    fa, an, truth = make_genome(tmp_path / "in", seed=8, compress="plain")
    an.write_text(an.read_text() + "ChrC\tx\tgene\t1\t100\t.\t+\t.\tID=ATCG00010\n")
    job = _register_upload(app, "TAIR10", fa, an)
    assert job["state"] == "done", job
    assert any("Registered genome TAIR10: 3 chromosomes, 24 genes" in t for t in texts(app.success))
    table = _frame(app, "name", "genes", "transcripts")
    assert table["name"].tolist() == ["TAIR10"] and int(table["genes"].iloc[0]) == 24
    assert int(table["transcripts"].iloc[0]) == len(truth)
    chroms = _frame(app, "name", "length", "genes")
    assert chroms["name"].tolist() == ["Chr1", "Chr2", "Chr3"] and chroms["length"].tolist() == [6000, 4000, 5000]
    warns = texts(app.warning)
    assert any("Annotation chromosomes not in the FASTA: ChrC (1 genes left out)" in w for w in warns)
    # uploads were removed with the job; only the genome folder is in the registry
    assert sorted(p.name for p in genomes_dir().iterdir()) == ["TAIR10"]
    app.button(key="w.genomes.remove").click().run()
    assert list_genomes().empty and not app.exception


def test_chromosome_names_that_differ_are_named_and_fixed_with_a_map(app, dirs, tmp_path):
    fa, an, _ = make_genome(tmp_path / "in", annotation_prefix="", compress="gzip")
    job = _register_upload(app, "g1", fa, an)
    assert job["state"] == "failed" and job["error_kind"] == "input"
    errs = texts(app.error)
    assert any("name chromosomes differently" in e and "chrom_map 1=Chr1,2=Chr2,3=Chr3" in e for e in errs), errs
    assert list_genomes().empty and [p.name for p in genomes_dir().iterdir()] == []
    job = _register_upload(app, "g1", fa, an, chrom_map="auto")
    assert job["state"] == "done"
    assert any("Chromosome names mapped: 1 → Chr1" in w for w in texts(app.warning))


def test_server_side_pair_and_a_missing_path(app, dirs, genome_files):
    fa, an, _ = genome_files
    app.text_input(key="w.genomes.name").set_value("srv")
    app.radio(key="w.genomes.where").set_value("server").run()
    app.text_input(key="w.genomes.fa_path").set_value(str(fa) + ".nope")
    app.text_input(key="w.genomes.an_path").set_value(str(an)).run()
    app.button(key="w.genomes.register").click().run()
    assert any("no such file on the server" in e for e in texts(app.error))
    app.text_input(key="w.genomes.fa_path").set_value(str(fa)).run()
    app.button(key="w.genomes.register").click().run()
    assert _wait_for_job(app)["state"] == "done"
    assert list_genomes()["name"].tolist() == ["srv"]


def _registered(app, genome_files):
    fa, an, truth = genome_files
    assert _register_upload(app, "TAIR10", fa, an)["state"] == "done"
    return truth


def test_gene_lists_with_a_registered_genome_build_and_save(app, dirs, genome_files):
    truth = _registered(app, genome_files)
    genes = truth["gene_id"].unique().tolist()
    app.radio(key="w.data.source").set_value("lists").run()
    app.radio(key="w.data.list_src.mode").set_value("genome").run()
    assert "w.data.list_fasta" not in [u.key for u in app.get("file_uploader")]  # no promoter FASTA asked for
    app.number_input(key="w.data.list_src.upstream").set_value(450)
    app.number_input(key="w.data.list_src.downstream").set_value(150)
    up = ("\n".join(genes[:14]) + "\nAT9G99999\n").encode()
    app.file_uploader(key="w.data.list_pos").set_value(("up.txt", up, "text/plain"))
    app.file_uploader(key="w.data.list_neg").set_value(("flat.txt", "\n".join(genes[14:]).encode(), "text/plain"))
    app.run()
    app.button(key="w.data.build_lists").click().run()
    assert not app.error and not app.exception, texts(app.error)
    prev = app.session_state["data.preview"]
    df = prev["df"]
    assert prev["report"]["missing_sequence"] == ["AT9G99999"]
    assert "cut from genome TAIR10 (450 bp upstream + 150 downstream" in prev["summary"]
    assert df["sequence"].str.len().eq(600).all() and df["coords"].str.match(r"Chr\d:\d+-\d+\([+-]\)").all()
    app.text_input(key="w.data.save_name").set_value("from-genome")
    app.button(key="FormSubmitter:w.data.save_form-Save dataset").click().run()
    meta = json.loads((dirs["workspace"] / "datasets" / "from-genome" / "dataset.json").read_text())
    assert meta["source"]["genome"] == "TAIR10" and meta["source"]["upstream"] == 450
    saved = pd.read_csv(dirs["workspace"] / "datasets" / "from-genome" / "data.csv")
    assert len(saved) == len(df)


def test_de_table_with_a_registered_genome_and_the_genomic_axis(app, dirs, genome_files):
    from dashboard.saliency_widgets import genomic_positions, parse_coords

    truth = _registered(app, genome_files)
    genes = truth["gene_id"].unique().tolist()
    rows = [f"{g},{4.0 if i < 12 else 0.1},{0.001 if i < 12 else 0.9}" for i, g in enumerate(genes)]
    app.radio(key="w.data.source").set_value("de").run()
    app.radio(key="w.data.de_src.mode").set_value("genome").run()
    app.selectbox(key="w.data.de_src.tss").set_value("all").run()
    app.file_uploader(key="w.data.de").set_value(("de.csv", ("gene,lfc,padj\n" + "\n".join(rows)).encode(), "text/csv"))
    app.run()
    app.button(key="w.data.build_de").click().run()
    assert not app.error and not app.exception, texts(app.error)
    df = app.session_state["data.preview"]["df"]
    assert set(df["label"]) == {0, 1}
    # the Saliency page's genomic axis: position U (the TSS) of a record is its gene's TSS (1-based)
    fa_seqs = {}
    for r in truth.drop_duplicates("gene_id").itertuples():
        row = df[df["gene_id"] == r.gene_id]
        if row.empty:
            continue
        c = parse_coords(row["coords"].iloc[0])
        pos = genomic_positions(c, 600, pad_side="left")
        tss = r.start if r.strand == "+" else r.end - 1
        if c.length == 600:
            assert pos[500] == tss + 1, (r.gene_id, c)
            fa_seqs[r.gene_id] = pos
    assert len(fa_seqs) >= 10
    assert np.all([(p[1:] - p[:-1] != 0).all() for p in fa_seqs.values()])
