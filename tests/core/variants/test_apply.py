"""Tests of ``deepdife_core.variants.apply``: alleles put into a window, model inputs and allele spans."""

import numpy as np

from deepdife_core.variants.apply import apply_alleles, model_input, model_span
from deepdife_core.variants.vcf import Allele


def allele(pos0: int, ref: str, alt: str) -> Allele:
    return Allele("Chr1", pos0, ref, alt, f"v{pos0}", np.zeros(0, dtype=np.int8), 0)


def test_apply_snv_insertion_deletion_in_position_order():
    fwd = "AAAACCCCGGGGTTTT"  # window genome[100:116]
    assert apply_alleles(fwd, 100, []) == fwd
    assert apply_alleles(fwd, 100, [allele(100, "A", "G")]) == "GAAACCCCGGGGTTTT"
    assert apply_alleles(fwd, 100, [allele(103, "A", "ATT")]) == "AAAATTCCCCGGGGTTTT"
    assert apply_alleles(fwd, 100, [allele(107, "CGG", "C")]) == "AAAACCCCGGTTTT"
    both = [allele(115, "T", "C"), allele(101, "A", "T")]  # given out of order
    assert apply_alleles(fwd, 100, both) == "ATAACCCCGGGGTTTC"


def test_an_allele_inside_an_earlier_deletion_is_skipped():
    fwd = "ACGTACGTAC"
    dels = [allele(2, "GTAC", "G"), allele(3, "T", "A")]
    assert apply_alleles(fwd, 0, dels) == "ACGGTAC"


def test_model_input_reverse_complements_minus_and_fits_the_length():
    assert model_input("AACG", "+", 6) == "NNAACG"
    assert model_input("AACG", "-", 6) == "NNCGTT"
    assert model_input("AACG", "+", 6, pad_side="right") == "AACGNN"
    assert model_input("AAACCCGGG", "+", 4) == "CGGG"  # the TSS-proximal 3' end is kept


def test_model_span_maps_genome_positions_to_model_columns():
    # window [100, 110) of width 10 in a model input of 12 (padded by 2 on the left)
    assert model_span(103, 1, 100, 10, "+", 12) == (5, 6)
    assert model_span(103, 2, 100, 10, "-", 12) == (7, 9)  # reverse strand: columns counted from the end
    assert model_span(103, 1, 100, 10, "+", 12, pad_side="right") == (3, 4)
    # a longer window trimmed to the model length: spans outside give (0, 0)
    assert model_span(100, 1, 100, 10, "+", 8) == (0, 0)
    assert model_span(101, 3, 100, 10, "+", 8) == (0, 2)
