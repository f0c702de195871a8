"""Tests of ``deepdife_core.genome.job``: the background job that adds a genome to the registry."""

import pytest

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.genome.job import run
from deepdife_core.genome.registry import list_genomes
from deepdife_core.genome.synthetic import make_genome


class _Writer:
    def __init__(self):
        self.events = []

    def event(self, e):
        self.events.append(e)


def test_job_adds_the_genome_says_its_stage_and_removes_the_uploads(tmp_path):
    uploads = tmp_path / "uploads"
    fa, an, truth = make_genome(uploads, seed=1)
    w = _Writer()
    args = {
        "name": "G",
        "fasta": str(fa),
        "annotation": str(an),
        "fasta_name": "tair.fa",
        "annotation_name": "tair.gff3",
        "workspace": str(tmp_path / "ws"),
        "uploads": str(uploads),
    }
    state, result = run(w, args)
    assert state == "done" and result["genome"] == "G" and result["info"]["name"] == "G"
    assert result["info"]["n_genes"] == truth["gene_id"].nunique() == 24
    assert w.events == [{"event": "stage", "text": "indexing tair.fa and parsing tair.gff3"}]
    assert not uploads.exists()
    assert list_genomes(tmp_path / "ws")["name"].tolist() == ["G"]


def test_a_failed_job_still_removes_the_uploads(tmp_path):
    uploads = tmp_path / "uploads"
    fa, an, _ = make_genome(uploads, seed=1)
    an.write_text("Chr1 x gene 1 100 . + . ID=G1\n")
    args = {"name": "G", "fasta": str(fa), "annotation": str(an), "fasta_name": "a.fa", "annotation_name": "a.gff3"}
    with pytest.raises(DeepDifEInputError, match="fewer than 9 tab-separated columns"):
        run(_Writer(), {**args, "workspace": str(tmp_path / "ws"), "uploads": str(uploads)})
    assert not uploads.exists()
