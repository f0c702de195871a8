"""Saliency page (AppTest): a cached gene switch asks neither the motif scanner nor TensorFlow (issue 17).

A gene shown once leaves its attributions (with the strand probabilities) in ``workspace/attributions``
and its JASPAR hits in ``workspace/motif_hits``; a server that starts afresh (the page's in-memory memos
emptied) shows it again from those files alone: no scan, no model call, no wait on the TensorFlow lock.
"""

from __future__ import annotations

from collections import Counter

import pytest

from dashboard import state
from tests.dashboard.apptest_helpers import goto, texts

# the Saliency page tests' JASPAR export, copied into every test's workspace (one fixture pair, not two)
from tests.dashboard.test_saliency_page import jaspar_export, seeded_motif_db  # noqa: F401


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _forget_memos() -> None:
    """What a fresh server process starts with: no explained gene, hit table or figure in memory."""
    from dashboard import page_saliency as P  # noqa: N812

    for memo in (P._EXPLAINED, P._HITS, P._FIGURES):
        with memo._lock:
            memo._items.clear()


class _CountingLock:
    def __init__(self, counts: Counter) -> None:
        self.counts = counts

    def __enter__(self):
        self.counts["lock"] += 1
        return self

    def __exit__(self, *exc) -> None:
        return None


def test_a_cached_gene_switch_needs_no_scan_and_no_model(app, tiny_model, tiny_dataset, tiny_table, dirs, monkeypatch):
    import deepdife_core.motifs.hitcache as hitcache
    import deepdife_core.motifs.scan as scan
    from dashboard import page_saliency as P  # noqa: N812
    from deepdife_core.interpret import explain as E  # noqa: N812
    from deepdife_core.model.cnn import Predictor
    from tests.dashboard.test_saliency_page import _truth

    genes = list(tiny_table["gene_id"])
    _forget_memos()
    app.session_state[state.SALIENCY_GENE] = genes[0]
    goto(app, "saliency")
    assert not app.error and not app.exception, texts(app.error)
    app.selectbox(key="w.saliency.gene").set_value(genes[3]).run()  # both genes explained and scanned once
    assert not app.error and not app.exception
    assert len(list((dirs["workspace"] / "motif_hits").rglob("*.npz"))) == 2
    assert len(list((dirs["workspace"] / "attributions").rglob("*.npz"))) == 4  # DeepSHAP + ISM of each
    shown = {k: _metric(app, k) for k in ("P(responsive), both strands", "Forward strand", "Reverse strand")}
    hits_title = next(e.label for e in app.expander if e.label.startswith("Known-motif hits"))

    counts: Counter = Counter()

    def counted(name, real=None):
        def call(*args, **kwargs):
            counts[name] += 1
            return real(*args, **kwargs) if real is not None else None

        return call

    _forget_memos()
    monkeypatch.setattr(scan, "scan_sequence", counted("scan", scan.scan_sequence))
    monkeypatch.setattr(scan, "scan_sequences", counted("scan", scan.scan_sequences))
    monkeypatch.setattr(hitcache, "scan_sequence", counted("cache_scan", hitcache.scan_sequence))
    for name in ("predict_strands", "predict", "predict_members"):
        monkeypatch.setattr(Predictor, name, counted(name, getattr(Predictor, name)))
    monkeypatch.setattr(E, "_compute", counted("attributions", E._compute))
    monkeypatch.setattr(P, "_LOCK", _CountingLock(counts))

    app.selectbox(key="w.saliency.gene").set_value(genes[0]).run()  # cached: read from disk only
    app.selectbox(key="w.saliency.gene").set_value(genes[3]).run()
    assert not app.error and not app.exception
    assert app.session_state[state.SALIENCY_GENE] == genes[3]
    assert counts == Counter(), counts  # no scan, no model call, not even the TensorFlow lock
    assert {k: _metric(app, k) for k in shown} == shown
    assert next(e.label for e in app.expander if e.label.startswith("Known-motif hits")) == hits_title
    fwd, rev = _truth(tiny_model, [tiny_table["sequence"].iloc[3]])
    assert float(_metric(app, "Forward strand")) == pytest.approx(fwd[0], abs=1e-3)
    assert float(_metric(app, "Reverse strand")) == pytest.approx(rev[0], abs=1e-3)

    # a new gene is still explained and scanned (and only then is the lock taken)
    app.selectbox(key="w.saliency.gene").set_value(genes[5]).run()
    assert not app.error and not app.exception
    assert counts["cache_scan"] == 1 and counts["attributions"] == 2 and counts["lock"] >= 1
