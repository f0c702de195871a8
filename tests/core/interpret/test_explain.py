"""Attributions: oracle ABRE model, dinucleotide shuffle, ISM, cache, EvoAug padding, ensembles, CLI."""

from __future__ import annotations

import itertools
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepdife_core.config import ModelConfig
from deepdife_core.data.encode import decode, one_hot, reverse_complement
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.interpret import explain as E  # noqa: N812
from deepdife_core.model.cnn import Predictor, build_model
from tests.core.oracle import ABRE_PWM, abre_config, set_abre_weights

ROOT = Path(__file__).resolve().parents[3]
LENGTH = 60
SITE = 25


def oracle_predictor(pad: int = 0) -> Predictor:
    """One conv filter = ABRE PWM (score 7 on a match, bias -5.5); global max -> logit 2*relu - 1."""
    cfg = abre_config(LENGTH, pad)
    return Predictor([set_abre_weights(build_model(cfg))], cfg)


def pwm_scores(seq: str) -> np.ndarray:
    x = one_hot(seq)
    return np.array(
        [
            sum(x[p + j, ["ACGT".index(b) for b in bases]].sum() for j, bases in enumerate(ABRE_PWM))
            for p in range(len(seq) - 6)
        ]
    )


def planted(motif: str, seed: int = 0) -> str:
    """A random 60-bp sequence with ``motif`` at SITE and no other near-ABRE window on either strand."""
    rng = np.random.default_rng(seed)
    while True:
        s = list("".join(rng.choice(list("ACGT"), size=LENGTH)))
        s[SITE : SITE + len(motif)] = motif
        seq = "".join(s)
        fwd, rev = pwm_scores(seq), pwm_scores(reverse_complement(seq))
        fwd[SITE] = rev[LENGTH - SITE - 7] = 0
        if fwd.max() <= 4 and rev.max() <= 4:
            return seq


@pytest.fixture(scope="module")
def oracle():
    return oracle_predictor()


@pytest.fixture(scope="module")
def fwd_abre():
    return one_hot([planted("ACGTGGC", seed=1), planted("ACGTGTC", seed=2)])


@pytest.fixture(scope="module")
def rev_abre():
    return one_hot([planted(reverse_complement("ACGTGTC"), seed=3)])


# ----------------------------------------------------------------------------- oracle model


def test_oracle_predicts_the_motif(oracle, fwd_abre, rev_abre):
    fwd, rev = oracle.predict_strands(np.concatenate([fwd_abre, rev_abre]))
    np.testing.assert_allclose(fwd, 1 / (1 + np.exp(-np.array([2.0, 2.0, -1.0]))), rtol=1e-5)
    np.testing.assert_allclose(rev, 1 / (1 + np.exp(-np.array([-1.0, -1.0, 2.0]))), rtol=1e-5)


def test_deepshap_finds_forward_abre_and_is_additive(oracle, fwd_abre):
    res = E.deep_shap(oracle, fwd_abre, config=E.ExplainConfig(n_background=50))
    assert res.contrib.shape == res.hypothetical.shape == fwd_abre.shape
    assert res.contrib.dtype == np.float32
    for i in range(len(fwd_abre)):
        assert E.mass_inside(res.contrib[i], SITE, SITE + 7) >= 0.9
        assert E.mass_inside(res.contrib_fwd[i], SITE, SITE + 7) >= 0.9
    assert res.max_additivity_error < 1e-4
    # the sum rule on the reported arrays (no N in the input, so contrib carries all of phi)
    np.testing.assert_allclose(res.contrib.sum(axis=(1, 2)), res.logit - res.expected_logit, atol=1e-4)
    np.testing.assert_allclose(res.contrib, res.hypothetical * fwd_abre, atol=1e-7)


def test_reverse_strand_abre_is_found_by_the_rc_track(oracle, rev_abre):
    res = E.deep_shap(oracle, rev_abre, config=E.ExplainConfig(n_background=50))
    assert E.mass_inside(res.contrib_rev[0], SITE, SITE + 7) >= 0.9
    assert np.abs(res.contrib_rev[0]).sum() > 10 * np.abs(res.contrib_fwd[0]).sum()
    assert E.mass_inside(res.contrib[0], SITE, SITE + 7) >= 0.9
    assert res.max_additivity_error < 1e-4


def test_hypothetical_scores_match_the_projection_formula(oracle, fwd_abre):
    """hyp[l, i] = mean_b sum_c (e_i - r_b)[l, c] * m_b[l, c] (tfmodisco), checked with the explicit loop."""
    rng = np.random.default_rng(0)
    mult = rng.normal(size=(5, 8, 4))
    ref = one_hot(["".join(rng.choice(list("ACGT"), 8)) for _ in range(5)])
    loop = np.zeros((8, 4))
    for i in range(4):
        hypothetical = np.zeros((8, 4))
        hypothetical[:, i] = 1.0
        loop[:, i] = ((hypothetical[None] - ref) * mult).sum(-1).mean(0)
    np.testing.assert_allclose(E.hypothetical_from_multipliers(mult, ref), loop, atol=1e-12)


def test_contributions_agree_with_shap_values(oracle, fwd_abre):
    """Per-position sums equal shap's own DeepExplainer.shap_values with the same references."""
    import shap

    bg = one_hot([planted("AAAAAAA", seed=s) for s in range(8)])
    res = E.deep_shap(oracle, fwd_abre, background=bg, config=E.ExplainConfig(strands="forward"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sv = np.asarray(shap.DeepExplainer(E._tools(oracle.models[0]).logit, bg).shap_values(fwd_abre))[..., 0]
    np.testing.assert_allclose(sv.sum(-1), res.contrib_fwd.sum(-1), atol=1e-5)
    assert res.spec.startswith("deepshap-fixed8-")


def test_ism_finds_the_motif_and_zero_at_reference(oracle, fwd_abre, rev_abre):
    X = np.concatenate([fwd_abre, rev_abre])
    res = E.ism(oracle, X)
    assert res.hypothetical.shape == res.delta_probability.shape == X.shape
    assert np.all(res.hypothetical[X == 1] == 0) and np.all(res.delta_probability[X == 1] == 0)
    for i in range(len(X)):
        assert E.mass_inside(res.contrib[i], SITE, SITE + 7) >= 0.9
        assert E.mass_inside(res.hypothetical[i], SITE, SITE + 7) >= 0.9
    assert E.mass_inside(res.hypothetical_rev[2], SITE, SITE + 7) >= 0.9


def test_gradxinput_finds_the_motif(oracle, fwd_abre):
    res = E.grad_x_input(oracle, fwd_abre)
    assert res.contrib.shape == fwd_abre.shape
    assert E.mass_inside(res.contrib[0], SITE, SITE + 7) >= 0.9


# ----------------------------------------------------------------------------- dinucleotide shuffle


def test_shuffle_preserves_dinucleotides_and_is_seeded():
    seqs = [planted("ACGTGGC", seed=4), "NN" + planted("ACGTGGC", seed=5)[2:-3] + "NNN"]
    x = one_hot(seqs)
    s1 = E.dinucleotide_shuffle(x, 20, seed=7)
    assert s1.shape == (2, 20, LENGTH, 4) and s1.dtype == np.float32
    np.testing.assert_array_equal(E.dinucleotide_counts(s1), np.repeat(E.dinucleotide_counts(x)[:, None], 20, 1))
    np.testing.assert_array_equal(s1, E.dinucleotide_shuffle(x, 20, seed=7))
    assert not np.array_equal(s1, E.dinucleotide_shuffle(x, 20, seed=8))
    assert len({decode(s) for s in s1[0]}) > 15  # the shuffles differ from each other
    # a sequence's shuffles do not depend on the batch it comes in
    np.testing.assert_array_equal(E.dinucleotide_shuffle(x[1], 20, seed=7), s1[1])


@settings(max_examples=25, deadline=None)
@given(st.text(alphabet="ACGTN", min_size=3, max_size=40), st.integers(0, 2**16))
def test_shuffle_property(seq, seed):
    x = one_hot(seq)
    s = E.dinucleotide_shuffle(x, 4, seed=seed)
    np.testing.assert_array_equal(E.dinucleotide_counts(s), np.repeat(E.dinucleotide_counts(x)[None], 4, 0))
    assert all(d[0] == seq[0] and d[-1] == seq[-1] for d in map(decode, s))


def test_shuffle_is_uniform_over_dinucleotide_preserving_sequences():
    seq = "AACCAGCA"
    target = Counter(itertools.pairwise(seq))
    valid = {
        "".join(p) for p in itertools.permutations(seq) if p[0] == seq[0] and Counter(itertools.pairwise(p)) == target
    }
    draws = Counter(decode(s) for s in E.dinucleotide_shuffle(one_hot(seq), 3000, seed=1))
    assert set(draws) == valid
    expected = 3000 / len(valid)
    assert max(abs(c - expected) for c in draws.values()) < 0.25 * expected


# ----------------------------------------------------------------------------- ISM vs single predictions


def test_ism_matches_single_predictions():
    cfg = ModelConfig(
        head="flatten", input_length=80, n_conv=2, filters=8, kernel_size=6, pool_size=4, dense_units=(16,)
    )
    pred = Predictor([build_model(cfg, seed=3)], cfg)
    x = one_hot(planted("ACGTGGC", seed=6) + "ACGTACGTACGTACGTACGT")[None]
    res = E.ism(pred, x)
    base_prob = pred.predict(x)
    from deepdife_core.model.cnn import logit_model

    lm = logit_model(pred.models[0])

    def conj_logit(v):
        return float((np.asarray(lm(v))[0, 0] + np.asarray(lm(v[:, ::-1, ::-1].copy()))[0, 0]) / 2)

    for pos, base in [(0, 1), (17, 2), (SITE + 3, 0), (79, 3)]:
        if x[0, pos, base] == 1:
            base = (base + 1) % 4
        mut = x.copy()
        mut[0, pos] = 0
        mut[0, pos, base] = 1
        assert res.delta_probability[0, pos, base] == pytest.approx(pred.predict(mut)[0] - base_prob[0], abs=1e-5)
        assert res.hypothetical[0, pos, base] == pytest.approx(conj_logit(mut) - conj_logit(x), abs=1e-4)


# ----------------------------------------------------------------------------- cache


def test_cache_hit_returns_identical_arrays_without_recomputing(oracle, fwd_abre, tmp_path, monkeypatch):
    cache = E.AttributionCache(tmp_path / "attr")
    cfg = E.ExplainConfig(n_background=20)
    first = E.deep_shap(oracle, fwd_abre, config=cfg, cache=cache)
    assert (cache.hits, cache.misses) == (0, 2)
    files = list((tmp_path / "attr").rglob("*.npz"))
    assert len(files) == 2 and E.model_fingerprint(oracle) in str(files[0])

    def boom(*args, **kwargs):
        raise AssertionError("recomputed a cached gene")

    monkeypatch.setattr(E, "_compute", boom)
    again = E.deep_shap(oracle, fwd_abre[::-1], config=cfg, cache=cache)
    assert cache.hits == 2
    for name in ("hypothetical", "contrib", "contrib_fwd", "contrib_rev", "probability", "additivity_error"):
        np.testing.assert_array_equal(getattr(again, name), getattr(first, name)[::-1])
    monkeypatch.undo()
    # another method / background is another key
    E.deep_shap(oracle, fwd_abre[:1], config=E.ExplainConfig(n_background=20, seed=1), cache=cache)
    assert cache.misses == 3


# ----------------------------------------------------------------------------- EvoAug padding, ensembles


def test_evoaug_padding_is_applied_and_stripped(fwd_abre):
    padded = oracle_predictor(pad=10)
    assert padded.config.network_length == LENGTH + 20
    shap_res = E.deep_shap(padded, fwd_abre, config=E.ExplainConfig(n_background=20))
    for res in (shap_res, E.ism(padded, fwd_abre), E.grad_x_input(padded, fwd_abre)):
        assert res.contrib.shape == res.hypothetical.shape == (2, LENGTH, 4)
        assert E.mass_inside(res.contrib[0], SITE, SITE + 7) >= 0.9
    assert shap_res.max_additivity_error < 1e-4


def test_ensemble_averages_members_with_spread():
    cfg = ModelConfig(
        head="flatten", input_length=50, n_conv=2, filters=4, kernel_size=5, pool_size=3, dense_units=(8,)
    )
    members = [build_model(cfg, seed=s) for s in (1, 2)]
    ens = Predictor(members, cfg)
    x = one_hot([planted("ACGTGGC", seed=7)[:50], planted("ACGTGTC", seed=8)[:50]])
    bg = one_hot([planted("AAAA", seed=s)[:50] for s in (9, 10, 11)])
    for fn, kw in ((E.grad_x_input, {}), (E.ism, {}), (E.deep_shap, {"background": bg})):
        whole = fn(ens, x, **kw)
        single = [fn(Predictor([m], cfg), x, **kw) for m in members]
        stack = np.stack([s.contrib for s in single])
        np.testing.assert_allclose(whole.contrib, stack.mean(0), atol=1e-6)
        np.testing.assert_allclose(whole.contrib_std, stack.std(0), atol=1e-6)
        assert whole.n_members == 2 and whole.contrib_std.max() > 0
        np.testing.assert_allclose(whole.probability, ens.predict(x), atol=1e-6)


def test_bad_inputs_raise_input_errors(oracle, fwd_abre):
    with pytest.raises(DeepDifEInputError, match="expects 60 bp"):
        E.ism(oracle, np.zeros((1, 50, 4), np.float32))
    with pytest.raises(DeepDifEInputError, match="background"):
        E.deep_shap(oracle, fwd_abre, background=np.zeros((3, 40, 4), np.float32))
    with pytest.raises(DeepDifEInputError, match="method"):
        E.ExplainConfig(method="lime")


# ----------------------------------------------------------------------------- CLI


@pytest.mark.parametrize(
    ("head", "strand_shared"),
    [
        ("global_region", False),
        ("region_max", False),
        ("global_max", False),
        ("flatten", False),
        ("global_region", True),
    ],
)
def test_every_head_is_explained_additively(head, strand_shared):
    """DeepSHAP works on every network head and the strand-shared first layer (fast engine or shap's)."""
    from tests.conftest import random_seqs

    cfg = ModelConfig(input_length=120, head=head, filters=8, dense_units=(8,), strand_shared=strand_shared)
    pred = Predictor([build_model(cfg, seed=2)], cfg)
    x = one_hot(random_seqs(3, 120, seed=5))
    attr = E.explain(pred, x, E.ExplainConfig(method="deepshap", n_background=8))
    assert attr.contrib.shape == (3, 120, 4)
    assert np.abs(attr.additivity_error).max() < 1e-4
