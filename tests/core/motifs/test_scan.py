"""Known-motif scanning (deepdife_core.motifs.scan): planted motifs, exact p-values, threshold, agreement with FIMO."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.motifs.modisco import Motif, MotifDatabase
from deepdife_core.motifs.scan import (
    HIT_COLUMNS,
    log_odds,
    null_survival,
    prepare_database,
    pvalue_of_score,
    scan_sequence,
    scan_sequences,
    touching_hits,
    touching_snv_hits,
)

COMP = str.maketrans("ACGT", "TGCA")


def revcomp(s: str) -> str:
    return s.translate(COMP)[::-1]


def consensus_motif(word: str, mid: str, strength: float = 0.91) -> Motif:
    ppm = np.full((len(word), 4), (1 - strength) / 3)
    ppm[np.arange(len(word)), ["ACGT".index(c) for c in word]] = strength
    return Motif(mid, f"name-{mid}", ppm, tf_class="test class")


def random_dna(n: int, seed: int) -> str:
    return "".join(np.random.default_rng(seed).choice(list("ACGT"), n))


@pytest.fixture(scope="module")
def db():
    # a non-palindromic 12-mer and a second, unrelated motif
    return prepare_database(
        MotifDatabase("test", (consensus_motif("TGACTTAGCCAT", "M1"), consensus_motif("GGGATTTCCA", "M2")))
    )


def test_planted_motif_found_on_both_strands(db):
    seq = list(random_dna(300, seed=1))
    seq[50:62] = "TGACTTAGCCAT"
    seq[200:212] = revcomp("TGACTTAGCCAT")
    seq = "".join(seq)
    hits = scan_sequence(seq, db, max_pvalue=1e-5)
    m1 = hits[hits["motif_id"] == "M1"].sort_values("start")
    assert list(m1["start"]) == [50, 200]
    assert list(m1["end"]) == [62, 212]
    assert list(m1["strand"]) == ["+", "-"]
    # the site is read in the motif's orientation
    assert list(m1["site"]) == ["TGACTTAGCCAT", "TGACTTAGCCAT"]
    assert (m1["motif_name"] == "name-M1").all() and (m1["tf_class"] == "test class").all()
    # a perfect 12-mer: p = 4^-12 (the only word scoring that high)
    assert m1["p_value"].iloc[0] == pytest.approx(4.0**-12, rel=1e-6)
    assert list(hits.columns) == [c for c in HIT_COLUMNS if c != "seq_idx"]


def test_pvalue_threshold_respected_and_monotone(db):
    seqs = [random_dna(500, seed=s) for s in range(4)]
    loose = scan_sequences(seqs, db, max_pvalue=1e-2)
    strict = scan_sequences(seqs, db, max_pvalue=1e-3)
    assert len(loose) > len(strict) > 0
    assert (loose["p_value"] <= 1e-2).all() and (strict["p_value"] <= 1e-3).all()
    key = ["seq_idx", "motif_id", "start", "strand"]
    both = strict.merge(loose, on=key, suffixes=("", "_loose"))
    assert len(both) == len(strict)  # every strict hit is a loose hit, with the same p-value
    np.testing.assert_allclose(both["p_value"], both["p_value_loose"])
    assert set(map(tuple, loose.loc[loose["p_value"] <= 1e-3, key].to_numpy())) == set(
        map(tuple, strict[key].to_numpy())
    )
    # higher score, smaller p-value (within a motif and strand)
    for _, grp in loose.groupby(["motif_id", "strand"]):
        g = grp.sort_values("score")
        assert (np.diff(g["p_value"].to_numpy()) <= 1e-15).all()
    # sorted by sequence then p-value
    assert loose["seq_idx"].is_monotonic_increasing
    for _, grp in loose.groupby("seq_idx"):
        assert grp["p_value"].is_monotonic_increasing


def test_pvalues_are_exact_against_enumeration():
    """P(S >= s) under uniform bases, by enumerating all 4^5 words of a 5-bp motif."""
    rng = np.random.default_rng(3)
    ppm = rng.dirichlet(np.ones(4) * 0.7, size=5)
    motif = Motif("R", "random", ppm)
    sdb = prepare_database([motif], both_strands=False)
    ints = np.round(log_odds(ppm) / 0.1).astype(int)
    words = np.array(list(itertools.product(range(4), repeat=5)))
    totals = ints[np.arange(5), words].sum(axis=1)
    low, sf = null_survival(ints)
    for b in range(int(totals.min()), int(totals.max()) + 1):
        assert sf[b - low] == pytest.approx(np.mean(totals >= b), abs=1e-12)
    # scanning every word reports its exact score and the p-value of its bin
    seqs = ["".join("ACGT"[i] for i in w) for w in words[:200]]
    hits = scan_sequences(seqs, sdb, max_pvalue=1.0)
    assert len(hits) == 200
    real = log_odds(ppm)[np.arange(5), words[:200]].sum(axis=1)
    np.testing.assert_allclose(hits.sort_values("seq_idx")["score"], real, rtol=1e-12)
    expect = pvalue_of_score(sdb, np.zeros(200, dtype=int), real)
    np.testing.assert_allclose(hits.sort_values("seq_idx")["p_value"], expect)


def test_n_scores_zero_and_windows_stay_inside():
    sdb = prepare_database([consensus_motif("ACGTAC", "M")], both_strands=False)
    hits = scan_sequence("NNACGTACNN", sdb, max_pvalue=1.0)
    assert hits["start"].between(0, 4).all() and (hits["end"] <= 10).all()
    top = hits.iloc[0]
    assert (top["start"], top["site"]) == (2, "ACGTAC")
    # a window with N: the N adds 0
    lo = log_odds(consensus_motif("ACGTAC", "M").ppm)
    with_n = hits[hits["start"] == 0].iloc[0]
    assert with_n["score"] == pytest.approx(lo[2, 0] + lo[3, 1] + lo[4, 2] + lo[5, 3])
    # one-hot input gives the same hits as the string
    from deepdife_core.data.encode import one_hot

    pd.testing.assert_frame_equal(scan_sequence(one_hot("NNACGTACNN"), sdb, max_pvalue=1.0), hits)


def test_ragged_strings_and_empty_result(db):
    hits = scan_sequences(["TGACTTAGCCAT", "AC", "AAAA" + "TGACTTAGCCAT"], db, max_pvalue=1e-6)
    assert sorted(zip(hits["seq_idx"], hits["start"], strict=True)) == [(0, 0), (2, 4)]
    none = scan_sequences(["ACGT"], db, max_pvalue=1e-6)
    assert none.empty and list(none.columns) == list(HIT_COLUMNS)


def test_bad_input_is_a_readable_error(db):
    with pytest.raises(DeepDifEInputError, match=r"sequence 2: 1 characters are not DNA \(e.g. 'X'\)"):
        scan_sequences(["ACGT", "ACXT"], db)
    with pytest.raises(DeepDifEInputError, match="max_pvalue must be in"):
        scan_sequences(["ACGT"], db, max_pvalue=0)
    with pytest.raises(DeepDifEInputError, match="empty"):
        prepare_database(MotifDatabase("none", ()))
    with pytest.raises(DeepDifEInputError, match=r"motif 1 \('B'\): the PPM must be \(W, 4\)"):
        prepare_database([Motif("B", "bad", np.ones((3, 5)) / 5)])
    with pytest.raises(DeepDifEInputError, match="prepare_database"):
        scan_sequences(["ACGT"], MotifDatabase("raw", ()))


def test_agrees_with_memelite_fimo():
    """Same scores and p-values as memelite's FIMO on random motifs and sequences."""
    from memelite import fimo

    rng = np.random.default_rng(7)
    motifs = [Motif(f"R{i}", "", rng.dirichlet(np.ones(4) * 0.4, size=w)) for i, w in enumerate((8, 11, 15, 20))]
    sdb = prepare_database(motifs)
    x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (3, 2000))]
    mine = scan_sequences(x, sdb, max_pvalue=1e-3)
    ref = pd.concat(fimo({m.id: m.ppm.T for m in motifs}, x.transpose(0, 2, 1), threshold=1e-3))
    ref = ref.rename(columns={"motif_name": "motif_id", "sequence_name": "seq_idx", "p-value": "p_ref"})
    ref["seq_idx"] = ref["seq_idx"].astype(int)
    assert len(ref) > 20
    both = mine.merge(ref, on=["seq_idx", "motif_id", "start", "strand"], suffixes=("", "_ref"))
    np.testing.assert_allclose(both["score"], both["score_ref"], rtol=1e-6)
    np.testing.assert_allclose(both["p_value"], both["p_ref"], rtol=1e-6)
    # FIMO compares scores with a bin threshold: only hits at the threshold's edge may differ
    assert len(both) >= 0.95 * max(len(mine), len(ref))
    only_mine = mine.merge(ref, on=["seq_idx", "motif_id", "start", "strand"], how="left", indicator=True)
    assert (only_mine.loc[only_mine["_merge"] == "left_only", "p_value"] > 0.5e-3).all()


def test_jaspar_plants_finds_a_planted_abre(tmp_path):
    """The offline JASPAR CORE plants collection puts a bZIP/ABF hit on a planted G-box ABRE."""
    from deepdife_core.motifs.modisco import jaspar_plants

    sdb = prepare_database(jaspar_plants(cache_dir=tmp_path))
    seq = list(random_dna(600, seed=11))
    seq[400:410] = "CCACGTGGCA"
    hits = scan_sequence("".join(seq), sdb, max_pvalue=1e-4)
    on_site = hits[(hits["start"] < 410) & (hits["end"] > 400)]
    assert len(on_site) >= 1
    assert on_site["tf_class"].str.contains("Basic leucine zipper", case=False).any()


def _touching_oracle(seqs, offsets, spans, sdb, max_pvalue):
    """scan_sequences on each sequence alone, hits overlapping [offset, offset + span) kept."""
    out = set()
    for i, (seq, off, span) in enumerate(zip(seqs, offsets, spans, strict=True)):
        h = scan_sequence(seq, sdb, max_pvalue=max_pvalue) if seq else pd.DataFrame(columns=HIT_COLUMNS)
        h = h[(h["start"] < off + span) & (h["end"] > off)]
        out |= {(i, r.motif_id, r.strand, r.start, r.end, r.score, r.p_value) for r in h.itertuples()}
    return out


def _as_set(h, sdb):
    return {
        (i, sdb.motifs[sdb.strand_motif[m]].id, sdb.strand[m], s, s + sdb.widths[m], sc, p)
        for i, m, s, sc, p in zip(h.seq_idx, h.matrix, h.start, h.score, h.p_value, strict=True)
    }


def test_touching_hits_are_the_scan_hits_over_the_span():
    """Same sites, scores (bit for bit) and p-values as scan_sequences, for narrow, wide and duplicate-ID motifs."""
    rng = np.random.default_rng(5)
    widths = (3, 4, 5, 7, 9, 12, 16, 21)
    motifs = [Motif(f"R{i}", f"r{i}", rng.dirichlet(np.ones(4) * 0.3, size=w)) for i, w in enumerate(widths)]
    motifs.append(Motif("R1", "twin", rng.dirichlet(np.ones(4) * 0.3, size=6)))
    sdb = prepare_database(motifs)
    seqs, offs, spans = [], [], []
    for k in range(300):
        n = int(rng.integers(0, 70))
        s = "".join(rng.choice(list("ACGTN" if k % 5 == 0 else "ACGT"), n))
        seqs.append(s.lower() if k % 7 == 0 else s)
        offs.append(int(rng.integers(0, max(n, 1))))
        spans.append(int(rng.integers(1, 6)) if k % 3 == 0 else 1)
    for pv, least in ((0.2, 1000), (1e-2, 30)):
        h = touching_hits(seqs, offs, spans, sdb, max_pvalue=pv, group=37)
        mine = _as_set(h, sdb)
        assert len(mine) > least
        assert mine == _touching_oracle(seqs, offs, spans, sdb, pv)
        assert (h.p_value <= pv).all()


def test_touching_hits_plant_and_errors(db):
    seq = random_dna(40, seed=2)
    seq = seq[:10] + "TGACTTAGCCAT" + seq[22:]
    h = touching_hits([seq, seq, seq], [15, 0, 21], [1, 10, 1], db, max_pvalue=1e-5)
    m1 = [
        (i, int(s))
        for i, m, s in zip(h.seq_idx, h.matrix, h.start, strict=True)
        if db.motifs[db.strand_motif[m]].id == "M1"
    ]
    # the site [10, 22) touches 15 and 21, not [0, 10)
    assert sorted(set(m1)) == [(0, 10), (2, 10)]
    with pytest.raises(DeepDifEInputError, match="not DNA"):
        touching_hits(["ACGT", "ACXT"], [0, 0], [1, 1], db)
    with pytest.raises(DeepDifEInputError, match="one entry per sequence"):
        touching_hits(["ACGT"], [0, 1], [1], db)
    empty = touching_hits([], [], [], db)
    assert len(empty.seq_idx) == 0


def test_touching_snv_hits_are_those_of_both_sequences():
    rng = np.random.default_rng(8)
    motifs = [Motif(f"R{i}", f"r{i}", rng.dirichlet(np.ones(4) * 0.3, size=w)) for i, w in enumerate((4, 6, 9, 13, 22))]
    sdb = prepare_database(motifs)
    seqs, offs, alts = [], [], []
    for k in range(250):
        n = int(rng.integers(1, 60))
        s = "".join(rng.choice(list("ACGTN" if k % 6 == 0 else "ACGT"), n))
        seqs.append(s.lower() if k % 9 == 0 else s)
        offs.append(int(rng.integers(0, n)))
        alts.append(str(rng.choice(list("ACGTN"))))
    swapped = [s[:o] + a + s[o + 1 :] for s, o, a in zip(seqs, offs, alts, strict=True)]
    ones = np.ones(len(seqs), dtype=int)
    ref, alt = touching_snv_hits(seqs, offs, alts, sdb, max_pvalue=0.05, group=64)
    assert _as_set(ref, sdb) == _as_set(touching_hits(seqs, offs, ones, sdb, max_pvalue=0.05), sdb)
    assert _as_set(alt, sdb) == _as_set(touching_hits(swapped, offs, ones, sdb, max_pvalue=0.05), sdb)
    assert _as_set(ref, sdb) != _as_set(alt, sdb) and len(_as_set(alt, sdb)) > 200
    with pytest.raises(DeepDifEInputError, match="inside its sequence"):
        touching_snv_hits(["ACGT"], [4], ["A"], sdb)
