import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deepdife_core.data.encode import decode, invalid_characters, one_hot, pad_or_trim, reverse_complement
from deepdife_core.errors import DeepDifEInputError

dna = st.text(alphabet="ACGTN", min_size=1, max_size=60)


def test_one_hot_order_and_n_rows():
    x = one_hot("ACGTNacgtR")
    assert x.dtype == np.float32 and x.shape == (10, 4)
    np.testing.assert_array_equal(x[:4], np.eye(4))
    np.testing.assert_array_equal(x[5:9], np.eye(4))  # lower case
    assert x[4].sum() == 0 and x[9].sum() == 0  # N and IUPAC R are all-zero rows


def test_one_hot_batch_shape_and_length_fitting():
    x = one_hot(["ACG", "TTTTTT"], length=4)
    assert x.shape == (2, 4, 4)
    assert decode(x) == ["NACG", "TTTT"]


def test_one_hot_rejects_mixed_lengths():
    with pytest.raises(DeepDifEInputError, match="different lengths"):
        one_hot(["ACG", "ACGT"])


@given(st.lists(dna, min_size=1, max_size=5).map(lambda xs: [s.ljust(60, "A")[:60] for s in xs]))
def test_decode_round_trip(seqs):
    assert decode(one_hot(seqs)) == seqs


@given(dna)
def test_reverse_complement_of_array_matches_string(seq):
    np.testing.assert_array_equal(reverse_complement(one_hot(seq)), one_hot(reverse_complement(seq)))
    assert reverse_complement(reverse_complement(seq)) == seq


def test_reverse_complement_is_flip_of_both_axes():
    x = one_hot(["AACGT", "GGGTA"])
    np.testing.assert_array_equal(reverse_complement(x), x[:, ::-1, ::-1])
    assert decode(reverse_complement(x)) == ["ACGTT", "TACCC"]


def test_pad_or_trim_keeps_tss_end():
    assert pad_or_trim("AACCGGTT", 4) == "GGTT"
    assert pad_or_trim("ACG", 5) == "NNACG"
    assert pad_or_trim("AACCGGTT", 4, side="right") == "AACC"
    assert pad_or_trim("ACG", 5, side="right") == "ACGNN"
    with pytest.raises(DeepDifEInputError):
        pad_or_trim("ACG", 0)


def test_invalid_characters():
    assert invalid_characters("ACGTNRYacgt") == []
    assert invalid_characters("ACXGZ1") == ["1", "X", "Z"]


def test_invalid_characters_names_non_ascii_letters():
    from deepdife_core.data.encode import invalid_characters

    assert invalid_characters("ACGTſ") == ["ſ"]
    assert invalid_characters("ACGTé?") == ["?", "é"]
    assert invalid_characters("acgtnRY") == []


@given(st.text(alphabet="ACGTN", min_size=1, max_size=80))
def test_reverse_complement_matches_biopython(seq):
    """Biopython is the independent oracle of our one-hot reverse complement (N stays N)."""
    from Bio.Seq import Seq

    want = str(Seq(seq).reverse_complement())
    assert decode(reverse_complement(one_hot(seq)[None]))[0] == want
