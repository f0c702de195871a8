"""Tests of ``deepdife_core.genome.synthetic``: the seeded genome + annotation the genome tests are built on."""

import gzip

import pandas as pd

from deepdife_core.genome.synthetic import make_genome
from tests.core.genome.helpers import chromosomes


def test_files_truth_and_seed(tmp_path):
    fa, an, truth = make_genome(tmp_path / "a", chrom_lengths=(900, 800), n_genes=5, seed=3, line_width=60)
    assert (fa.name, an.name) == ("genome.fa", "genes.gff3")
    seqs = chromosomes(fa)
    assert {k: len(v) for k, v in seqs.items()} == {"Chr1": 900, "Chr2": 800}
    assert set("".join(seqs.values())) <= set("ACGT")
    assert max(len(x) for x in fa.read_text().splitlines() if not x.startswith(">")) == 60
    assert list(truth.columns) == ["gene_id", "transcript_id", "chrom", "strand", "start", "end"]
    assert truth["gene_id"].unique().tolist() == ["AT1G000010", "AT1G000020", "AT2G000030", "AT2G000040", "AT2G000050"]
    # the first genes of a chromosome sit at its ends, on fixed strands (edge windows are padded with N)
    first = truth.groupby("gene_id", sort=False).first()
    assert first["strand"].tolist()[:2] == ["+", "-"] and first["strand"].tolist()[2:4] == ["+", "-"]
    assert (truth["start"] < truth["end"]).all() and (truth["start"] >= 0).all()
    again = make_genome(tmp_path / "b", chrom_lengths=(900, 800), n_genes=5, seed=3, line_width=60)
    pd.testing.assert_frame_equal(truth, again[2])
    assert again[0].read_bytes() == fa.read_bytes() and again[1].read_bytes() == an.read_bytes()
    assert make_genome(tmp_path / "c", chrom_lengths=(900, 800), n_genes=5, seed=4)[0].read_bytes() != fa.read_bytes()


def test_annotation_lines_follow_the_truth(tmp_path):
    fa, an, truth = make_genome(tmp_path, chrom_lengths=(900,), n_genes=2, seed=1, annotation="gtf", compress="gzip")
    assert (fa.name, an.name) == ("genome.fa.gz", "genes.gtf.gz")
    lines = gzip.decompress(an.read_bytes()).decode().splitlines()
    assert lines[0] == "#!genome-build synthetic"
    tx = [x.split("\t") for x in lines if "\ttranscript\t" in x]
    assert [(int(c[3]) - 1, int(c[4]), c[6]) for c in tx] == list(
        zip(truth["start"], truth["end"], truth["strand"], strict=True)
    )
    assert all(f'transcript_id "{t}"' in c[8] for c, t in zip(tx, truth["transcript_id"], strict=True))


def test_annotation_prefix_differs_from_the_fasta(tmp_path):
    _, an, truth = make_genome(tmp_path, chrom_lengths=(900, 800, 700), n_genes=3, annotation_prefix="")
    chroms = {x.split("\t")[0] for x in an.read_text().splitlines()[1:]}
    assert chroms == {"1", "2", "3"} and set(truth["chrom"]) == {"Chr1", "Chr2", "Chr3"}
