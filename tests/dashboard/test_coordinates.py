"""dashboard.coordinates: the Saliency page's one conversion of promoter positions (exact values)."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.coordinates import CoordinateSystem, parse_coords

PLUS = parse_coords("Chr1:1000-1010(+)")  # bases 1,001 .. 1,010 (1-based)
MINUS = parse_coords("Chr2:500-510(-)")  # bases 510 .. 501 read 5'->3' on the minus strand


def make(mode, length=10, coords=None, pad_side="left"):
    return CoordinateSystem.make(mode, length, coords=coords, pad_side=pad_side)


def test_promoter_positions_are_the_identity():
    s = make("promoter", coords=PLUS)
    assert [s.to_user(p) for p in (0, 4, 9)] == [0, 4, 9] and s.from_user(7) == 7
    assert s.position_bounds() == (0, 9) and s.range_bounds() == (0, 10)
    assert s.range_to_user(2, 5) == (2, 5) and s.range_from_user(2, 5) == (2, 5)
    assert s.labels() is None and s.label(3) == "3" and s.key == "promoter"
    assert s.range_text(2, 5) == "positions 2-5" and s.convention == "0-based, end excluded"


def test_distance_to_the_tss():
    s = make("tss", 100)
    assert [s.to_user(p) for p in (0, 60, 99)] == [-100, -40, -1]  # the last base is 1 bp upstream of the TSS
    assert s.from_user(-40) == 60 and s.from_user(0) == 100
    assert s.position_bounds() == (-100, -1) and s.range_bounds() == (-100, 0)
    assert s.range_to_user(60, 70) == (-40, -30) and s.range_from_user(-40, -30) == (60, 70)
    assert s.labels()[:2] == ("-100", "-99") and s.labels()[-1] == "-1"
    assert s.range_text(60, 70) == "-40 to -30 bp from the TSS"
    # right padding: the record starts at position 0 and the TSS follows its last base
    short = make("tss", 12, PLUS, pad_side="right")
    assert short.tss == 10 and short.to_user(9) == -1 and short.to_user(11) == 1


def test_genomic_plus_strand():
    s = make("genomic", 10, PLUS)
    assert [s.to_user(p) for p in range(10)] == list(range(1001, 1011))
    assert s.from_user(1001) == 0 and s.from_user(1010) == 9
    assert s.position_bounds() == (1001, 1010) and s.range_bounds() == (1001, 1010)
    assert s.range_to_user(2, 5) == (1003, 1005)  # first and last base, both included
    assert s.range_from_user(1003, 1005) == (2, 5)
    assert s.label(0) == "1,001" and s.title == "Chr1 position (plus strand)"
    assert s.range_text(2, 5) == "Chr1:1,003-1,005 (plus strand)"
    assert s.convention == "1-based, both ends included"


def test_genomic_minus_strand_runs_down_the_chromosome():
    s = make("genomic", 10, MINUS)
    assert [s.to_user(p) for p in range(10)] == list(range(510, 500, -1))
    assert s.from_user(510) == 0 and s.from_user(501) == 9
    assert s.position_bounds() == (501, 510)
    # promoter bases 2, 3, 4 are genome bases 508, 507, 506: the range reads low to high
    assert s.range_to_user(2, 5) == (506, 508) and s.range_from_user(506, 508) == (2, 5)
    assert s.range_from_user(508, 506) == (2, 5)  # either order
    assert s.range_text(2, 5) == "Chr2:506-508 (minus strand)" and s.minus
    assert s.title == "Chr2 position ← 5' (minus strand)"


def test_genomic_with_trimming_and_padding():
    trimmed = make("genomic", 4, MINUS)  # the 3' end is kept: bases 504 .. 501
    assert [trimmed.to_user(p) for p in range(4)] == [504, 503, 502, 501] and trimmed.from_user(501) == 3
    padded = make("genomic", 12, PLUS)  # two N on the left
    assert [padded.label(p) for p in (0, 1, 2, 11)] == ["pad", "pad", "1,001", "1,010"]
    assert padded.to_user(0) == 999 and padded.from_user(999) == 0  # padding gets the coordinates it would have
    right = make("genomic", 12, MINUS, pad_side="right")
    assert [right.label(p) for p in (0, 9, 10)] == ["510", "501", "pad"]


def test_genomic_without_coordinates_falls_back_to_promoter_positions():
    assert make("genomic", 10, None).mode == "promoter" and make("sideways", 10).mode == "promoter"
    assert make(None, 10).mode == "promoter"


def test_each_system_has_its_own_widget_key():
    keys = {make(m, 10, c).key for m in ("promoter", "tss", "genomic") for c in (PLUS, MINUS)}
    assert len(keys) == 4 and "promoter" in keys and "tss.10" in keys


HITS = pd.DataFrame(
    {
        "motif_id": ["MA1", "MA2"],
        "start": [2, 0],
        "end": [5, 10],
        "strand": ["+", "-"],
        "p_value": [1e-5, 1e-6],
    }
)


def test_hits_table_in_every_system():
    pd.testing.assert_frame_equal(make("promoter", 10, PLUS).hits_table(HITS), HITS)
    tss = make("tss", 10).hits_table(HITS)
    assert list(tss.columns) == ["motif_id", "start_to_tss", "end_to_tss", "strand", "p_value"]
    assert tss["start_to_tss"].tolist() == [-8, -10] and tss["end_to_tss"].tolist() == [-5, 0]
    plus = make("genomic", 10, PLUS).hits_table(HITS)
    assert list(plus.columns) == [
        "motif_id",
        "chrom",
        "genomic_start",
        "genomic_end",
        "genomic_strand",
        "p_value",
    ]
    assert plus["genomic_start"].tolist() == [1003, 1001] and plus["genomic_end"].tolist() == [1005, 1010]
    assert plus["genomic_strand"].tolist() == ["+", "-"] and set(plus["chrom"]) == {"Chr1"}
    minus = make("genomic", 10, MINUS).hits_table(HITS)
    assert minus["genomic_start"].tolist() == [506, 501] and minus["genomic_end"].tolist() == [508, 510]
    assert minus["genomic_strand"].tolist() == ["-", "+"]  # a promoter's + strand is the genome's - strand
    assert HITS["start"].tolist() == [2, 0]  # the input is not changed
    empty = make("tss", 10).hits_table(HITS.iloc[:0])
    assert list(empty.columns) == ["motif_id", "start_to_tss", "end_to_tss", "strand", "p_value"]


@pytest.mark.parametrize("coords", [PLUS, MINUS])
@pytest.mark.parametrize("length,pad_side", [(10, "left"), (4, "left"), (12, "left"), (12, "right")])
def test_conversions_round_trip(coords, length, pad_side):
    for mode in ("promoter", "tss", "genomic"):
        s = make(mode, length, coords, pad_side)
        assert [s.from_user(s.to_user(p)) for p in range(length)] == list(range(length))
        for a, b in ((0, length), (1, 3), (length - 1, length)):
            assert s.range_from_user(*s.range_to_user(a, b)) == (a, b)
        lo, hi = s.position_bounds()
        assert sorted(s.to_user(p) for p in range(length)) == list(range(lo, hi + 1))


@pytest.mark.parametrize(
    ("mode", "coords", "pad_side", "length"),
    [
        ("promoter", None, "left", 10),
        ("tss", None, "left", 10),
        ("genomic", PLUS, "left", 10),
        ("genomic", MINUS, "left", 10),
        ("genomic", MINUS, "right", 14),
        ("genomic", PLUS, "left", 6),
    ],
)
def test_values_are_to_user_of_every_position(mode, coords, pad_side, length):
    s = make(mode, length, coords, pad_side)
    assert s.values().tolist() == [s.to_user(p) for p in range(length)]


def test_file_parts_are_the_shown_range_and_safe():
    assert make("promoter").file_part(2, 5) == "2-5"
    assert make("tss", 100).file_part(20, 60) == "tss-80_-40"
    assert make("genomic", coords=PLUS).file_part(2, 5) == "Chr1_1003-1005"
    assert make("genomic", coords=MINUS).file_part(2, 5) == "Chr2_506-508"  # low to high, both included
    odd = parse_coords("chr1/x|y:1000-1010(+)")
    assert make("genomic", coords=odd).file_part(0, 10) == "chr1_x_y_1001-1010"
