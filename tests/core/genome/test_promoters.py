"""Tests of ``deepdife_core.genome.promoters`` (moved from ``tests/core/test_genome.py``)."""

import pytest

from deepdife_core.data.io import record_ids
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.genome.promoters import PromoterConfig
from deepdife_core.genome.registry import add_genome, load_genome
from deepdife_core.genome.synthetic import make_genome
from tests.core.genome.helpers import _COMP, chromosomes, expected_name, oracle


@pytest.mark.parametrize(("fmt", "compress"), [("gff3", "plain"), ("gtf", "plain"), ("gff3", "bgzip"), ("gtf", "gzip")])
def test_every_tss_window_matches_the_slice_and_reverse_complement_oracle(tmp_path, ws, fmt, compress):
    fa, an, truth = make_genome(tmp_path / "in", annotation=fmt, compress=compress, seed=1)
    info = add_genome("G", fa, an)
    assert (info["n_genes"], info["n_transcripts"]) == (truth["gene_id"].nunique(), len(truth))
    assert [c["name"] for c in info["chromosomes"]] == ["Chr1", "Chr2", "Chr3"]
    seqs = chromosomes(fa)
    up, down = 300, 120
    records, report = load_genome("G").promoters(None, PromoterConfig(upstream=up, downstream=down, tss="all"))
    got = {r.id: r.sequence for r in records}
    want = {}
    for r in truth.itertuples():
        tss = r.start if r.strand == "+" else r.end - 1
        key = expected_name(r.gene_id, r.chrom, len(seqs[r.chrom]), tss, r.strand, up, down)
        want.setdefault(key, oracle(seqs[r.chrom], tss, r.strand, up, down))
    assert got == want
    assert all(len(s) == up + down for s in got.values())
    # the generated edge genes run off both ends, on both strands; every padded window is reported
    padded = {k for k, s in want.items() if "N" in s}
    assert len(padded) >= 6 and set(report.padded) == padded
    # records of one gene follow the repeated-gene-ID rule (GENE::Chr:start-end(strand))
    ids = [r.id for r in records]
    genes = [i.split("::")[0] for i in ids]
    assert record_ids(genes, [i.split("::")[1] for i in ids]) == [
        i if genes.count(g) > 1 else g for i, g in zip(ids, genes, strict=True)
    ]


def test_tss_choices_pick_the_gene_first_and_longest_transcript(tmp_path, ws):
    fa, an, truth = make_genome(tmp_path / "in", seed=2)
    add_genome("G", fa, an)
    g = load_genome("G")
    seqs = chromosomes(fa)
    multi = truth.groupby("gene_id").filter(lambda d: len(d) > 1)["gene_id"].iloc[0]
    t = truth[truth["gene_id"] == multi]
    strand, chrom = t["strand"].iloc[0], t["chrom"].iloc[0]
    first = t.iloc[0]
    longest = t.loc[(t["end"] - t["start"]).idxmax()]
    for choice, row in (("gene", first), ("first-transcript", first), ("longest-transcript", longest)):
        (rec,), _ = g.promoters([multi], PromoterConfig(upstream=40, downstream=10, tss=choice))
        tss = row["start"] if strand == "+" else row["end"] - 1
        assert rec.sequence == oracle(seqs[chrom], tss, strand, 40, 10), choice
    # transcript IDs and versions name their gene
    recs, rep = g.promoters([t["transcript_id"].iloc[-1], multi.lower() + ".7"], PromoterConfig(tss="gene"))
    assert len(recs) == 1 and rep.missing == []


def test_terminator_window_and_both(tmp_path, ws):
    fa, an, truth = make_genome(tmp_path / "in", seed=3)
    add_genome("G", fa, an)
    seqs = chromosomes(fa)
    r = truth.iloc[0]
    (rec,), _ = load_genome("G").promoters([r.gene_id], PromoterConfig(upstream=30, downstream=20, region="terminator"))
    gene = truth[truth["gene_id"] == r.gene_id]
    s, e = gene["start"].min(), gene["end"].max()  # transcript 1 spans the gene
    c = seqs[r.chrom]
    if r.strand == "+":
        want = "".join(c[i] if 0 <= i < len(c) else "N" for i in range(e - 30, e + 20))
    else:
        want = "".join(_COMP[c[i]] if 0 <= i < len(c) else "N" for i in reversed(range(s - 20, s + 30)))
    assert rec.sequence == want
    (both,), _ = load_genome("G").promoters([r.gene_id], PromoterConfig(upstream=30, downstream=20, region="both"))
    assert len(both.sequence) == 100 and both.sequence.endswith(want)


def test_genes_absent_from_the_annotation_are_listed_and_the_rest_goes_on(tmp_path, ws):
    fa, an, truth = make_genome(tmp_path / "in")
    add_genome("G", fa, an)
    genes = truth["gene_id"].unique()[:3].tolist()
    recs, rep = load_genome("G").promoters([*genes, "AT9G99999", "nope"], PromoterConfig())
    assert len(recs) == 3 and rep.missing == ["AT9G99999", "nope"] and rep.n_requested == 5
    assert "2 not in the annotation (AT9G99999, nope)" in rep.summary()
    with pytest.raises(DeepDifEInputError, match=r"none of the 1 gene IDs .* is in genome 'G'"):
        load_genome("G").promoters(["nope"], PromoterConfig())
