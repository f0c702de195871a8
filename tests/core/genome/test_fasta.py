"""Tests of ``deepdife_core.genome.fasta`` (moved from ``tests/core/test_genome.py``)."""

import gzip
import os

import pytest
from hypothesis import given
from hypothesis import strategies as hst

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.genome.promoters import PromoterConfig
from deepdife_core.genome.registry import add_genome, genomes_dir, list_genomes, load_genome
from deepdife_core.genome.synthetic import make_genome
from tests.core.genome.helpers import _FUZZ, _assert_registry_empty


def test_truncated_gzip_and_non_genome_fastas_are_refused(tmp_path, ws):
    fa, an, _ = make_genome(tmp_path / "in", compress="gzip")
    cut = tmp_path / "cut.fa.gz"
    cut.write_bytes(fa.read_bytes()[: len(fa.read_bytes()) // 2])
    with pytest.raises(DeepDifEInputError, match=r"cut.fa.gz: truncated or corrupt gzip"):
        add_genome("G", cut, an)
    _assert_registry_empty(ws)
    cut_an = tmp_path / "cut.gff3.gz"
    cut_an.write_bytes(an.read_bytes()[:-20])
    with pytest.raises(DeepDifEInputError, match=r"cut.gff3.gz: corrupt gzip"):
        add_genome("G", fa, cut_an)
    add_genome("G", fa, an)
    recs, _ = load_genome("G").promoters(None, PromoterConfig())
    prom = tmp_path / "promoters.fa"
    prom.write_text("".join(f">{r.header}\n{r.sequence}\n" for r in recs))
    with pytest.raises(DeepDifEInputError, match=r"promoters.fa: 24 records of at most 600 bp .* not a genome"):
        add_genome("P", prom, an)
    bad = tmp_path / "bad.fa"
    bad.write_text(">Chr1\nACGTXACGT\n")
    with pytest.raises(DeepDifEInputError, match=r"bad.fa, line 2 \(record 'Chr1'\): 'X' is not a base"):
        add_genome("B", bad, an)
    short = tmp_path / "short.fa"
    short.write_text(">Chr1\n" + "A" * 200_000 + "\n>Chr2\nACGT\n>Chr3\nACGT\n")
    with pytest.raises(DeepDifEInputError, match="same assembly"):
        add_genome("S", short, an)
    assert list_genomes()["name"].tolist() == ["G"]
    assert [p for p in os.listdir(genomes_dir()) if p != "G"] == []


def test_a_genome_over_the_size_cap_is_refused(tmp_path, ws, monkeypatch):
    fa, an, _ = make_genome(tmp_path / "in", compress="gzip")  # 15,000 bp
    monkeypatch.setenv("DEEPDIFE_MAX_GENOME_MB", str(14_000 / 1024**2))
    with pytest.raises(DeepDifEInputError, match=r"genome.fa.gz: more than 0 MB of sequence, the limit for a genome"):
        add_genome("G", fa, an)
    _assert_registry_empty(ws)
    monkeypatch.setenv("DEEPDIFE_MAX_GENOME_MB", str(16_000 / 1024**2))
    assert add_genome("G", fa, an)["n_genes"] == 24


@_FUZZ
@given(body=hst.binary(max_size=200) | hst.text("ACGTN>\n xZ", max_size=200).map(str.encode), gz=hst.booleans())
def test_fuzzed_fastas_index_or_raise_one_input_error(tmp_path, body, gz):
    from deepdife_core.genome.fasta import write_indexed

    path = tmp_path / "fuzz.fa"
    path.write_bytes(gzip.compress(body)[:-3] if gz and body else body)
    dest = tmp_path / "out.fa.gz"
    try:
        chroms = write_indexed(path, dest)
    except DeepDifEInputError as exc:
        assert "fuzz.fa" in str(exc)
    else:
        assert chroms and all(n > 0 for _, n in chroms)
