"""Tests of ``deepdife_core.variants.score`` (moved from ``tests/core/test_variants.py``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deepdife_core.motifs.modisco import Motif, jaspar_plants
from deepdife_core.motifs.scan import prepare_database, scan_sequences
from deepdife_core.variants.score import motif_changes
from tests.core.variants.helpers import W1, W2, oracle_input, oracle_logit, rc, sigmoid


def test_scores_match_the_string_oracle(result):
    e = result.effects
    wins = {"G1": W1, "G2": W2}
    for row in e.itertuples():
        w = wins[row.gene_id]
        z0 = oracle_logit(oracle_input([], w))
        z1 = oracle_logit(oracle_input([(row.pos - 1, row.ref, row.alt)], w))
        assert row.delta_logit == pytest.approx(z1 - z0, abs=1e-5)
        assert row.p_ref == pytest.approx(sigmoid(z0), abs=1e-6)
        assert row.p_alt == pytest.approx(sigmoid(z1), abs=1e-6)
        assert row.p_ref_sd == 0.0
    top = e.reindex(e.delta_probability.abs().sort_values(ascending=False).index)
    assert list(zip(top.gene_id[:2], top.pos[:2], strict=True)) == [("G1", 263), ("G2", 1025)]
    # 7 of 7 ABRE bases (logit 2*1.5-1 = 2) -> 6 of 7 (2*0.5-1 = 0), and back for the created one
    assert e.set_index("pos").loc[263, "delta_logit"] == pytest.approx(-2.0)
    assert e.set_index("pos").loc[1025, "delta_logit"] == pytest.approx(2.0)


def test_motif_change_and_attribution(result):
    e = result.effects.set_index("pos")
    assert e.loc[263, "motifs_lost"] == "ABF1 (MA9999.1)" and e.loc[263, "motifs_gained"] == ""
    assert e.loc[1025, "motifs_gained"] == "ABF1 (MA9999.1)" and e.loc[1025, "motifs_lost"] == ""
    assert (e.drop(index=[263, 1025]).motifs_lost == "").all()
    # gradient x input at the ABRE's G: dense weight 2 x kernel 1; outside the max window: 0
    assert e.loc[263, "attribution"] == pytest.approx(2.0, abs=1e-5)
    assert e.loc[1051, "attribution"] == pytest.approx(0.0, abs=1e-6)


# ----------------------------------------------------------------------------- motif changes


def _motif_changes_reference(db, pairs, pvalue, *, group=64):
    """The motif-change column as computed before touching_hits: every context scanned, a table per hit."""
    if not pairs:
        return []
    seqs = [p[0] for p in pairs] + [p[1] for p in pairs]
    n = len(pairs)
    off = np.array([p[2] for p in pairs] * 2)
    span = np.array([p[3] for p in pairs] + [max(p[4], 1) for p in pairs])
    frames = []
    for g0 in range(0, len(seqs), group):
        part = seqs[g0 : g0 + group]
        bounds = np.concatenate([[0], np.cumsum([len(t) for t in part])])
        h = scan_sequences("".join(part), db, max_pvalue=pvalue)
        start, end = h["start"].to_numpy(), h["end"].to_numpy()
        k = np.searchsorted(bounds, start, side="right") - 1
        inside = end <= bounds[k + 1]
        h, k = h[inside], k[inside]
        frames.append(h.assign(seq_idx=k + g0, start=start[inside] - bounds[k], end=end[inside] - bounds[k]))
    hits = pd.concat(frames, ignore_index=True)
    idx = hits["seq_idx"].to_numpy()
    touch = (hits["start"].to_numpy() < off[idx] + span[idx]) & (hits["end"].to_numpy() > off[idx])
    hits = hits[touch]
    best = [{} for _ in range(2 * n)]
    for i, mid, name, p in zip(hits["seq_idx"], hits["motif_id"], hits["motif_name"], hits["p_value"], strict=True):
        if mid not in best[i] or p < best[i][mid][0]:
            best[i][mid] = (p, f"{name} ({mid})")
    out = []
    for k in range(n):
        ref, alt = best[k], best[n + k]
        lost = sorted(v for m, v in ref.items() if m not in alt)
        gained = sorted(v for m, v in alt.items() if m not in ref)
        out.append(("; ".join(v[1] for v in lost), "; ".join(v[1] for v in gained)))
    return out


def _random_alleles(rng, n, wmax, plants=()):
    """(ref_context, alt_context, offset, ref_len, alt_len) as score_chunk builds them, from random windows."""
    pairs = []
    for k in range(n):
        window = list(rng.choice(list("ACGTN" if k % 11 == 0 else "ACGT"), 200))
        if plants:  # a known site over the middle, so that many alleles break or make one
            word = plants[k % len(plants)]
            a = 100 - int(rng.integers(0, len(word)))
            window[a : a + len(word)] = word
        fwd = "".join(window)
        i = int(rng.integers(0, 200)) if k % 13 == 0 else 100  # some near the window's edges
        kind = k % 4
        r = 1 if kind < 2 else int(rng.integers(1, 8))
        ref = fwd[i : i + r]
        if kind < 2:
            alt = "ACGT"[("ACGT".index(ref) + 1 + k % 3) % 4] if ref in "ACGT" else "A"
        elif kind == 2:
            alt = ref[0] + "".join(rng.choice(list("ACGT"), int(rng.integers(1, 6))))  # insertion
        else:
            alt = ref[0]  # deletion
        left = fwd[max(i - wmax + 1, 0) : i]
        right = fwd[i + len(ref) : i + len(ref) + wmax - 1]
        if k % 17 == 0:
            left, ref, right = left.lower(), ref.lower(), right.lower()
        pairs.append((left + ref + right, left + alt + right, len(left), len(ref), len(alt)))
    return pairs


@pytest.fixture(scope="module")
def plants_db(tmp_path_factory):
    return prepare_database(jaspar_plants(cache_dir=tmp_path_factory.mktemp("motif_db")))


def test_motif_changes_match_the_scan_oracle_on_jaspar(plants_db):
    rng = np.random.default_rng(21)
    plants = [
        "".join("ACGT"[int(np.argmax(r))] for r in m.ppm) for m in plants_db.motifs[::40]
    ]  # consensus words of some JASPAR motifs
    pairs = _random_alleles(rng, 240, plants_db.max_width, plants)
    mine = motif_changes(plants_db, pairs, 1e-4, group=50)
    assert mine == _motif_changes_reference(plants_db, pairs, 1e-4)
    changed = sum(bool(a or b) for a, b in mine)
    assert changed > 60  # the comparison is not between empty columns
    assert motif_changes(plants_db, [], 1e-4) == []


def test_motif_changes_match_the_oracle_with_shared_ids_and_loose_threshold():
    rng = np.random.default_rng(4)
    motifs = [Motif(f"R{i}", f"r{i}", rng.dirichlet(np.ones(4) * 0.3, size=w)) for i, w in enumerate((3, 6, 8, 11, 15))]
    motifs.append(Motif("R2", "twin", rng.dirichlet(np.ones(4) * 0.3, size=7)))  # two motifs, one ID
    sdb = prepare_database(motifs)
    pairs = _random_alleles(rng, 300, sdb.max_width)
    for pv in (1e-2, 1e-3):
        mine = motif_changes(sdb, pairs, pv, group=33)
        assert mine == _motif_changes_reference(sdb, pairs, pv)
        assert sum(bool(a or b) for a, b in mine) > 30


def test_motif_changes_by_hand():
    """A planted ABRE (ACGTGGC) broken by an SNV at its G, and made by the reverse SNV; a second motif untouched."""
    ppm = np.full((7, 4), 0.01)
    ppm[np.arange(7), ["ACGT".index(c) for c in "ACGTGGC"]] = 0.97
    other = np.full((6, 4), 0.01)
    other[np.arange(6), ["ACGT".index(c) for c in "TTGACC"]] = 0.97
    sdb = prepare_database([Motif("MA9999.1", "ABF1", ppm), Motif("MA0001.1", "WRKY", other)])
    left, right = "ATATAACGT", "GCATTGACCAT"  # ABRE ACGTGGC over the allele; TTGACC on the right, untouched
    pairs = [
        (left + "G" + right, left + "A" + right, len(left), 1, 1),  # ACGTGGC -> ACGTAGC
        (left + "A" + right, left + "G" + right, len(left), 1, 1),  # made
        ("ATATATATAT" + "C" + "ATATATAT", "ATATATATAT" + "G" + "ATATATAT", 10, 1, 1),  # no site either side
    ]
    assert motif_changes(sdb, pairs, 1e-4) == [("ABF1 (MA9999.1)", ""), ("", "ABF1 (MA9999.1)"), ("", "")]
    # the context read as its reverse complement: the ABRE's reverse complement is found on the "-" strand
    ref, alt, off, *_ = pairs[0]
    assert motif_changes(sdb, [(rc(ref), rc(alt), len(ref) - off - 1, 1, 1)], 1e-4) == [("ABF1 (MA9999.1)", "")]
    assert motif_changes(sdb, pairs, 1e-4) == _motif_changes_reference(sdb, pairs, 1e-4)
