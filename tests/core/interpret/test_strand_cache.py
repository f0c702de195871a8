"""Strand probabilities stored with the attributions: a cached gene needs no model call (issue 17)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from deepdife_core.data.encode import one_hot
from deepdife_core.interpret import explain as E  # noqa: N812
from deepdife_core.model.cnn import Predictor

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def demo():
    """The demo model and three genes of the demo dataset (600 bp)."""
    from deepdife_core.data.demo import make_demo_dataset
    from deepdife_core.model.folder import load_model

    seqs = make_demo_dataset()["sequence"].iloc[:3].str.upper().tolist()
    return load_model(ROOT / "models" / "demo"), one_hot(seqs)


@pytest.mark.parametrize("method", ["gradxinput", "ism"])
def test_strand_probabilities_are_the_models_and_come_from_the_cache(demo, method, tmp_path, monkeypatch):
    pred, x = demo
    fwd, rev = pred.predict_strands(x)
    cfg = E.ExplainConfig(method=method)
    store = E.AttributionCache(tmp_path)
    first = E.explain(pred, x, cfg, cache=store)
    np.testing.assert_array_equal(first.probability_fwd, fwd)
    np.testing.assert_array_equal(first.probability_rev, rev)
    np.testing.assert_array_equal(first.probability, pred.predict(x))  # as before: the conjoined value

    def no_model(*args, **kwargs):
        raise AssertionError("the model was called for a cached gene")

    for name in ("predict_strands", "predict", "predict_members"):
        monkeypatch.setattr(Predictor, name, no_model)
    monkeypatch.setattr(E, "_compute", no_model)
    again = E.explain(pred, x[::-1], cfg, cache=E.AttributionCache(tmp_path))
    np.testing.assert_array_equal(again.probability_fwd, fwd[::-1])
    np.testing.assert_array_equal(again.probability_rev, rev[::-1])


def test_files_written_before_the_strands_were_stored_still_read(demo, tmp_path):
    pred, x = demo
    cfg = E.ExplainConfig(method="gradxinput")
    store = E.AttributionCache(tmp_path)
    first = E.explain(pred, x, cfg, cache=store)
    # the first gene's file as an older version wrote it: no strand probabilities
    name = store.path(E.model_fingerprint(pred), E.background_spec(cfg), x[0]).name
    (old,) = tmp_path.rglob(name)  # (the demo model is a forward-strand one: its spec is gradxinput-fwdonly)
    with np.load(old) as d:
        arrays = {k: d[k] for k in d.files if k not in ("probability_fwd", "probability_rev")}
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    old.write_bytes(buf.getvalue())
    mixed = E.explain(pred, x, cfg, cache=E.AttributionCache(tmp_path))  # old + new files in one batch
    assert mixed.probability_fwd is None and mixed.probability_rev is None
    np.testing.assert_array_equal(mixed.contrib, first.contrib)
    np.testing.assert_array_equal(mixed.probability, first.probability)
    alone = E.explain(pred, x[1:], cfg, cache=E.AttributionCache(tmp_path))
    np.testing.assert_array_equal(alone.probability_fwd, first.probability_fwd[1:])


def test_the_npz_export_holds_the_strands(demo, tmp_path):
    pred, x = demo
    attr = E.explain(pred, x[:1], E.ExplainConfig(method="gradxinput"))
    with np.load(attr.to_npz(tmp_path / "a.npz", ["g1"])) as d:
        np.testing.assert_array_equal(d["probability_fwd"], attr.probability_fwd)
        np.testing.assert_array_equal(d["probability_rev"], attr.probability_rev)
