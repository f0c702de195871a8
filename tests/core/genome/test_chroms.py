"""Tests of ``deepdife_core.genome.chroms`` (moved from ``tests/core/test_genome.py``)."""

import pytest

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.genome.registry import add_genome, load_genome
from deepdife_core.genome.synthetic import make_genome
from tests.core.genome.helpers import _assert_registry_empty


def test_chromosome_names_that_differ_are_detected_and_mapped(tmp_path, ws):
    fa, an, _ = make_genome(tmp_path / "in", annotation_prefix="")
    with pytest.raises(DeepDifEInputError, match=r"name chromosomes differently .*chrom_map 1=Chr1,2=Chr2,3=Chr3"):
        add_genome("G", fa, an)
    _assert_registry_empty(ws)
    info = add_genome("G", fa, an, chrom_map="1=Chr1,2=Chr2,Chr3=3")
    assert info["chrom_map"] == {"1": "Chr1", "2": "Chr2", "3": "Chr3"}
    assert set(load_genome("G").annotation["chrom"]) == {"Chr1", "Chr2", "Chr3"}
    assert add_genome("H", fa, an, chrom_map="auto")["n_genes"] == info["n_genes"]
    with pytest.raises(DeepDifEInputError, match=r"^chrom_map 9=Chr9: neither"):
        add_genome("K", fa, an, chrom_map="9=Chr9")


def test_annotation_chromosomes_absent_from_the_fasta_are_named(tmp_path, ws):
    fa, an, truth = make_genome(tmp_path / "in")
    an.write_text(an.read_text() + "ChrC\tx\tgene\t1\t100\t.\t+\t.\tID=ATCG00010\n")
    info = add_genome("G", fa, an)
    assert info["mismatches"]["annotation_only"] == ["ChrC"] and info["mismatches"]["genes_dropped"] == 1
    assert info["n_genes"] == truth["gene_id"].nunique()
