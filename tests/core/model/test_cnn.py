import numpy as np
import pytest

from deepdife_core.config import DEEPDIFE_MODEL, ModelConfig
from deepdife_core.data.encode import one_hot, reverse_complement
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.model.cnn import Predictor, build_model, import_legacy, logit_model
from tests.conftest import random_seqs


def test_default_is_the_regional_network():
    m = build_model(ModelConfig(input_length=600))
    convs = [lay for lay in m.layers if "Conv1D" in lay.__class__.__name__]
    assert [c.filters for c in convs] == [64] and convs[0].kernel_size == (12,)
    assert convs[0].__class__.__name__ == "StrandMaxConv1D"  # filters read both strands
    # 589 conv positions -> pool 6 -> 98 steps -> windows of round(100 * 98 / 600) = 16 steps -> 7 regions x 64
    assert m.get_layer("flatten").output.shape[1] == 7 * 64
    assert [lay.units for lay in m.layers if lay.__class__.__name__ == "Dense"] == [64, 1]
    both = build_model(ModelConfig(input_length=600, head="global_region"))
    assert both.get_layer("global_region").output.shape[1] == 64 + 7 * 64


def test_architecture_follows_config():
    cfg = ModelConfig(input_length=600, **{**DEEPDIFE_MODEL, "n_conv": 4})
    m = build_model(cfg)
    convs = [lay for lay in m.layers if lay.__class__.__name__ == "Conv1D"]
    assert [c.filters for c in convs] == [64, 64, 32, 16]
    assert convs[0].kernel_size == (12,) and convs[0].padding == "valid"
    assert all(c.strides == (6,) and c.padding == "same" for c in convs[1:])
    dense = [lay.units for lay in m.layers if lay.__class__.__name__ == "Dense"]
    assert dense == [256, 128, 1]
    assert m.input_shape == (None, 600, 4) and m.output_shape == (None, 1)
    assert all(float(c.kernel_regularizer.l2) == pytest.approx(1e-6) for c in convs)


def test_same_seed_same_initial_weights():
    a, b, c = (build_model(ModelConfig(input_length=100), seed=s) for s in (1, 1, 2))
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a.get_weights()[0], c.get_weights()[0])


def test_conjoined_prediction_is_strand_symmetric():
    cfg = ModelConfig(input_length=120, pad_left=5, pad_right=5)
    pred = Predictor([build_model(cfg, seed=3)], cfg)
    x = one_hot(random_seqs(8, 120, seed=1))
    fwd, rev = pred.predict_strands(x)
    np.testing.assert_allclose(pred.predict(x), (fwd + rev) / 2, rtol=1e-6)
    np.testing.assert_allclose(pred.predict(reverse_complement(x)), pred.predict(x), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(pred.predict(x, conjoin=False), fwd, rtol=1e-6)
    with pytest.raises(DeepDifEInputError, match="model expects 120 bp"):
        pred.predict(one_hot(random_seqs(2, 100)))


def test_ensemble_is_mean_of_members():
    cfg = ModelConfig(input_length=60, kernel_size=6)
    m1, m2 = build_model(cfg, seed=1), build_model(cfg, seed=2)
    x = one_hot(random_seqs(5, 60, seed=2))
    ens = Predictor([m1, m2], cfg)
    members = ens.predict_members(x)
    np.testing.assert_allclose(ens.predict(x), members.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(members[0], Predictor([m1], cfg).predict(x), rtol=1e-6)


def test_logit_model_matches_sigmoid():
    cfg = ModelConfig(input_length=60, kernel_size=6)
    m = build_model(cfg, seed=4)
    x = one_hot(random_seqs(4, 60, seed=3))
    p = np.asarray(m(x))[:, 0]
    z = np.asarray(logit_model(m)(x))[:, 0]
    np.testing.assert_allclose(1 / (1 + np.exp(-z)), p, rtol=1e-5)


PUBLISHED = [0.1541, 0.8881, 0.8259, 0.8478, 0.7203]


@pytest.mark.shared
def test_legacy_import_reproduces_published_predictions(shared_data):
    from deepdife_core.data.io import read_fasta

    pred = import_legacy(shared_data / "model_single.json", shared_data / "weights_single.h5")
    assert pred.config.input_length == 600 and pred.config.pad_left == pred.config.pad_right == 10
    recs = read_fasta(shared_data / "orthologs" / "aly.tss.fasta")[:5]
    p = pred.predict(one_hot([r.sequence for r in recs]), conjoin=False)
    np.testing.assert_allclose(p, PUBLISHED, atol=1e-3)


def test_legacy_import_rejects_bad_files(tmp_path, shared_data):
    bad = tmp_path / "m.json"
    bad.write_text("{not json")
    with pytest.raises(DeepDifEInputError, match=r"m\.json: not a Keras model JSON"):
        import_legacy(bad, shared_data / "weights_single.h5")
    h5 = tmp_path / "w.h5"
    h5.write_bytes(b"not hdf5")
    with pytest.raises(DeepDifEInputError, match=r"w\.h5: not an HDF5 weights file"):
        import_legacy(shared_data / "model_single.json", h5)


@pytest.mark.parametrize(
    "spec",
    [
        {"config": {"layers": [1]}},
        {"config": {"layers": [{"class_name": "Conv2D"}]}},
        {"config": {"layers": [{"class_name": "Conv2D", "config": {"filters": "x"}}]}},
        {"config": {"layers": "not a list"}},
    ],
)
def test_legacy_config_rejects_malformed_layers(tmp_path, spec):
    import json

    from deepdife_core.errors import DeepDifEInputError
    from deepdife_core.model.cnn import legacy_config

    path = tmp_path / "model_single.json"
    path.write_text(json.dumps(spec))
    with pytest.raises(DeepDifEInputError, match=r"model_single\.json"):
        legacy_config(path)


def test_strand_shared_filters_score_both_strands_at_tss_anchored_positions(tmp_path):
    """conv_0 of a strand-shared model gives the same map for a promoter and its reverse complement, flipped."""
    from deepdife_core.model.cnn import _keras

    keras = _keras()
    cfg = ModelConfig(input_length=100, region_bp=20, filters=8, strand_shared=True)
    m = build_model(cfg, seed=1)
    x = one_hot(random_seqs(3, 100, seed=0))
    conv = keras.Model(m.inputs, m.get_layer("conv_0").output)
    fwd, rev = np.asarray(conv(x)), np.asarray(conv(reverse_complement(x)))[:, ::-1]
    np.testing.assert_allclose(fwd, rev, atol=1e-6)
    # each position = max(filter, its reverse complement) on the forward strand, by hand
    w, b = (np.asarray(v) for v in m.get_layer("conv_0").weights)
    win = np.lib.stride_tricks.sliding_window_view(x[0], 12, axis=0).transpose(0, 2, 1)  # (89, 12, 4)
    by_hand = np.maximum(np.einsum("pkc,kcf->pf", win, w), np.einsum("pkc,kcf->pf", win, w[::-1, ::-1])) + b
    np.testing.assert_allclose(fwd[0], np.maximum(by_hand, 0), atol=1e-5)
    # forward-only prediction still depends on the orientation of the promoter (positions are anchored)
    m.save(tmp_path / "m.keras")
    back = keras.saving.load_model(tmp_path / "m.keras", compile=False, safe_mode=True)
    np.testing.assert_allclose(np.asarray(back(x)), np.asarray(m(x)), atol=1e-6)
