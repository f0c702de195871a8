"""The fast DeepLIFT engine against shap's DeepExplainer (the oracle), on the DeepDifE architectures."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from deepdife_core.config import DEEPDIFE_MODEL, ModelConfig
from deepdife_core.data.encode import one_hot
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.interpret import deeplift as D  # noqa: N812
from deepdife_core.interpret import explain as E  # noqa: N812
from deepdife_core.model.cnn import Predictor, _keras, build_model, import_legacy
from tests.conftest import random_seqs


def _cfg(**kw) -> ModelConfig:
    """DeepDifE's chain network (the engine explains chains; the regional default falls back to shap)."""
    return ModelConfig(**{**DEEPDIFE_MODEL, **kw})


RTOL = 1e-5  # float32: relative to the largest multiplier of the batch
ADDITIVITY = 1e-4  # logit units


def genes(n: int, length: int, seed: int) -> np.ndarray:
    """Seeded random genes; the first carries a poly-A run (equal conv outputs: max-pool ties)."""
    seqs = random_seqs(n, length, seed=seed)
    run = min(40, length // 3)
    seqs[0] = seqs[0][:10] + "A" * run + seqs[0][10 + run :]
    return one_hot(seqs)


def shap_and_engine(predictor: Predictor, X: np.ndarray, n_background: int, seed: int = 0):
    """Both engines' multipliers and logits on the padded inputs and shuffled references (both strands)."""
    cfg = E.ExplainConfig(n_background=n_background, seed=seed)
    xp = E._pad(predictor, X)
    bgp = E._pad(predictor, E.dinucleotide_shuffle(X, n_background, seed=seed))
    xs, bgs = np.stack([xp, E._rc(xp)]), np.stack([bgp, E._rc(bgp)])
    model = predictor.models[0]
    shap = E._multipliers(model, xs, bgs, replace(cfg, engine="shap"))
    fast = E._multipliers(model, xs, bgs, replace(cfg, engine="deeplift"))
    return xs, bgs, shap, fast


def assert_close(actual: np.ndarray, expected: np.ndarray, rtol: float = RTOL) -> None:
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * float(np.abs(expected).max()))


def check_against_shap(predictor: Predictor, X: np.ndarray, n_background: int) -> None:
    xs, bgs, (m_shap, logit_shap, ref_shap), (m_fast, logit_fast, ref_fast) = shap_and_engine(
        predictor, X, n_background
    )
    assert m_fast.shape == bgs.shape and m_fast.dtype == np.float32
    assert np.abs(m_shap).max() > 0
    assert_close(m_fast, m_shap)
    assert_close(E.hypothetical_from_multipliers(m_fast, bgs), E.hypothetical_from_multipliers(m_shap, bgs))
    np.testing.assert_allclose(logit_fast, logit_shap, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ref_fast, ref_shap, rtol=1e-6, atol=1e-6)
    # DeepSHAP's sum rule, per reference: sum((x - r_b) * m_b) = logit(x) - logit(r_b)
    phi = ((xs[:, :, None] - bgs) * m_fast).sum(axis=(-1, -2))
    np.testing.assert_allclose(phi, logit_fast[..., None] - ref_fast, atol=ADDITIVITY)


@pytest.fixture(scope="module")
def published(shared_data):
    js, h5 = shared_data / "model_single.json", shared_data / "weights_single.h5"
    if not (js.exists() and h5.exists()):
        pytest.skip("the published model is not in ../shared/data/deepdife")
    return import_legacy(js, h5)


def test_published_model_matches_shap(published):
    assert D.supports(published.models[0])
    check_against_shap(published, genes(2, published.config.input_length, seed=1), n_background=10)


def test_published_model_explain_engines_agree(published):
    X = genes(2, published.config.input_length, seed=2)
    base = E.ExplainConfig(n_background=12, seed=3)
    fast = E.explain(published, X, replace(base, engine="deeplift"))
    slow = E.explain(published, X, replace(base, engine="shap"))
    for name in ("hypothetical", "contrib", "hypothetical_fwd", "hypothetical_rev", "contrib_fwd", "contrib_rev"):
        assert_close(getattr(fast, name), getattr(slow, name))
    np.testing.assert_allclose(fast.logit, slow.logit, rtol=1e-6)
    np.testing.assert_allclose(fast.expected_logit, slow.expected_logit, rtol=1e-6, atol=1e-6)
    assert fast.max_additivity_error < ADDITIVITY
    # the sum of the conjoined contributions is the conjoined logit minus the references' mean logit
    np.testing.assert_allclose(fast.contrib.sum(axis=(1, 2)), fast.logit - fast.expected_logit, atol=ADDITIVITY)
    assert fast.spec == slow.spec == E.background_spec(base)


def test_random_build_model_with_maxpool_matches_shap():
    cfg = _cfg(
        input_length=150,
        filters=16,
        kernel_size=9,
        pool_size=4,
        n_conv=3,
        conv_kernel=4,
        conv_stride=2,
        dense_units=(24, 12),
        dropout=0.3,
    )
    predictor = Predictor([build_model(cfg, seed=7)], cfg)
    assert [s.kind for s in D._plan(predictor.models[0])][:2] == ["conv", "actpool"]
    check_against_shap(predictor, genes(3, cfg.input_length, seed=4), n_background=16)


def test_evoaug_padded_model_matches_shap():
    """10 + 10 all-zero rows: windows identical in the input and every reference (fallback branches)."""
    cfg = _cfg(
        input_length=90,
        pad_left=10,
        pad_right=10,
        filters=8,
        kernel_size=6,
        pool_size=5,
        dense_units=(16,),
        dropout=0.0,
    )
    predictor = Predictor([build_model(cfg, seed=11)], cfg)
    check_against_shap(predictor, genes(2, cfg.input_length, seed=5), n_background=20)
    X = genes(2, cfg.input_length, seed=6)
    base = E.ExplainConfig(n_background=10)
    fast = E.explain(predictor, X, replace(base, engine="deeplift"))
    slow = E.explain(predictor, X, replace(base, engine="shap"))
    assert fast.contrib.shape == (2, cfg.input_length, 4)
    assert_close(fast.hypothetical, slow.hypothetical)
    assert fast.max_additivity_error < ADDITIVITY


def other_rules_model(length: int = 64, seed: int = 0):
    """A Sequential chain with the rules the DeepDifE CNN does not use: tanh/elu/sigmoid/softplus,
    an activation not followed by a pool, an overlapping pool, a 'same' strided conv, an Activation layer."""
    keras = _keras()
    init = keras.initializers.GlorotUniform
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((length, 4)),
            layers.Conv1D(6, 5, activation="tanh", kernel_initializer=init(seed), bias_initializer="ones"),
            layers.Conv1D(6, 3, activation="relu", kernel_initializer=init(seed + 1), bias_initializer="ones"),
            layers.MaxPooling1D(4, strides=2),
            layers.Conv1D(5, 3, strides=2, padding="same", kernel_initializer=init(seed + 2)),
            layers.Activation("elu"),
            layers.MaxPooling1D(3),
            layers.Flatten(),
            layers.Dense(8, activation="softplus", kernel_initializer=init(seed + 3)),
            layers.Dense(6, activation="sigmoid", kernel_initializer=init(seed + 4)),
            layers.Dense(1, activation="sigmoid", kernel_initializer=init(seed + 5)),
        ]
    )


def test_other_activations_and_pool_layouts_match_shap():
    """With 6 + 6 padding rows: the windows inside the padding are equal in input and references,
    so the rescale rule falls back to the plain gradient there (tanh, then relu)."""
    cfg = _cfg(input_length=60, pad_left=6, pad_right=6, kernel_size=5)
    model = other_rules_model(cfg.network_length)
    kinds = [s.kind for s in D._plan(model)]
    assert kinds == [
        "conv",
        "act",
        "conv",
        "act",
        "maxpool",
        "linear",
        "actpool",
        "linear",
        "linear",
        "act",
        "linear",
        "act",
        "linear",
    ]
    check_against_shap(Predictor([model], cfg), genes(2, cfg.input_length, seed=8), n_background=10)


def test_every_activation_before_a_pool_matches_shap():
    """The fused activation + pool rule (XLA) for each supported activation but relu."""
    keras = _keras()
    blocks = []
    for i, act in enumerate(("sigmoid", "tanh", "softplus", "selu", "exponential", "elu")):
        init = keras.initializers.RandomNormal(stddev=0.3, seed=20 + i)
        blocks += [keras.layers.Conv1D(4, 3, activation=act, kernel_initializer=init), keras.layers.MaxPooling1D(2)]
    model = keras.Sequential([keras.Input((200, 4)), *blocks, keras.layers.Flatten(), keras.layers.Dense(1)])
    assert [s.kind for s in D._plan(model)].count("actpool") == 6
    cfg = _cfg(input_length=180, pad_left=10, pad_right=10, kernel_size=3)
    check_against_shap(Predictor([model], cfg), genes(2, cfg.input_length, seed=12), n_background=10)


def test_unsupported_layer_falls_back_to_shap(monkeypatch):
    keras = _keras()
    model = keras.Sequential(
        [
            keras.Input((40, 4)),
            keras.layers.Conv1D(4, 5, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(1)),
            keras.layers.AveragePooling1D(2, name="avg"),
            keras.layers.Flatten(),
            keras.layers.Dense(1, activation="sigmoid", kernel_initializer=keras.initializers.GlorotUniform(2)),
        ]
    )
    assert not D.supports(model)
    assert "'avg' (AveragePooling1D)" in D.unsupported_reason(model)
    predictor = Predictor([model], _cfg(input_length=40, kernel_size=5))
    X = genes(2, 40, seed=9)
    cfg = E.ExplainConfig(n_background=8)
    with pytest.raises(DeepDifEInputError, match=r"'avg' .*engine='shap'"):
        E.explain(predictor, X, replace(cfg, engine="deeplift"))
    slow = E.explain(predictor, X, replace(cfg, engine="shap"))

    def no_engine(*args, **kwargs):
        raise AssertionError("the engine was called for an unsupported model")

    monkeypatch.setattr(D, "deeplift", no_engine)
    auto = E.explain(predictor, X, cfg)
    np.testing.assert_array_equal(auto.hypothetical, slow.hypothetical)
    assert auto.max_additivity_error < ADDITIVITY


def test_unsupported_activation_and_graph_are_named():
    keras = _keras()
    gelu = keras.Sequential(
        [
            keras.Input((30, 4)),
            keras.layers.Conv1D(3, 4, activation="gelu", name="c"),
            keras.layers.Flatten(),
            keras.layers.Dense(1),
        ]
    )
    assert "'c': activation 'gelu'" in D.unsupported_reason(gelu)
    inp = keras.Input((30, 4))
    a, b = keras.layers.Conv1D(3, 4)(inp), keras.layers.Conv1D(3, 4, name="branch")(inp)
    out = keras.layers.Dense(1)(keras.layers.Flatten()(keras.layers.Add()([a, b])))
    assert not D.supports(keras.Model(inp, out))
    no_dense = keras.Sequential([keras.Input((30, 4)), keras.layers.Conv1D(3, 4), keras.layers.Flatten()])
    assert "must end with a Dense layer" in D.unsupported_reason(no_dense)
    per_position = keras.Sequential([keras.Input((30, 4)), keras.layers.Dense(1)])
    assert "maps (30, 4) to (30, 1)" in D.unsupported_reason(per_position)
    assert "is not built" in D.unsupported_reason(keras.Sequential([keras.layers.Dense(1)]))


def test_batching_does_not_change_results_and_inputs_are_checked():
    cfg = _cfg(input_length=80, filters=8, kernel_size=7, pool_size=3, dense_units=(8,))
    model = build_model(cfg, seed=2)
    rng = np.random.default_rng(0)
    x = one_hot(random_seqs(5, 80, seed=3))
    refs = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (5, 6, 80))]
    whole = D.deeplift(model, x, refs, batch_size=10_000)
    parts = D.deeplift(model, x, refs, batch_size=12)  # 2 genes per call
    for a, b in zip(whole, parts, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(D.deeplift_multipliers(model, x, refs, batch_size=12), parts[0])
    tools = E._tools(model)
    np.testing.assert_allclose(whole[1], np.asarray(tools.logit_fn(x)), rtol=1e-6, atol=1e-6)
    with pytest.raises(DeepDifEInputError, match=r"references \(G, B, L, 4\)"):
        D.deeplift(model, x, refs[:3])
    with pytest.raises(DeepDifEInputError, match=r"takes inputs \(80, 4\)"):
        D.deeplift(model, x[:, :70], refs[:, :, :70])
    with pytest.raises(DeepDifEInputError, match="batch_size"):
        D.deeplift(model, x, refs, batch_size=0)
    empty = D.deeplift_multipliers(model, x[:0], refs[:0])
    assert empty.shape == (0, 6, 80, 4)


def test_engine_option_is_validated_and_not_part_of_the_cache_key():
    with pytest.raises(DeepDifEInputError, match="engine must be one of auto, shap, deeplift"):
        E.ExplainConfig(engine="fast")
    assert E.ExplainConfig().engine == "auto"
    for engine in E.ENGINES:
        cfg = E.ExplainConfig(engine=engine)
        assert E.background_spec(cfg) == "deepshap-shuffle100-seed0"
