"""Models page: evaluate a model on another saved dataset (issue 17)."""

from __future__ import annotations

import pytest
from sklearn.metrics import roc_auc_score

from tests.dashboard.apptest_helpers import goto, texts


def test_evaluate_a_model_on_a_saved_dataset(app, tiny_model, tiny_dataset, tiny_table):
    from dashboard.datasets import save_dataset
    from deepdife_core.data.demo import make_demo_dataset
    from deepdife_core.data.encode import one_hot
    from deepdife_core.model.folder import load_model

    other = make_demo_dataset(80, length=100, seed=21)[["gene_id", "label", "family", "sequence"]]
    save_dataset(other, "other", {})
    goto(app, "models")
    app.selectbox(key="w.models.eval_model").set_value("tiny-model")
    app.selectbox(key="w.models.eval_ds").set_value("other").run()
    app.button(key="w.models.eval_go").click().run()
    # (the tiny model's Details tab says it has not learnt: that verdict is the only message)
    assert not app.exception and all("has not learnt" in t for t in texts(app.error)), texts(app.error)
    p = load_model(tiny_model).predict(one_hot(other["sequence"].tolist()))
    want = roc_auc_score(other["label"].to_numpy(), p)  # an independent oracle
    tiles = {m.label: m.value for m in app.metric}
    assert float(tiles["auROC"]) == pytest.approx(want, abs=1e-3)
    assert tiles["Genes evaluated"] == "80"
    assert any("tiny-model on other" in t for t in texts(app.markdown))
    # the model's own training dataset: the page says the figures are optimistic
    app.selectbox(key="w.models.eval_ds").set_value("tiny").run()
    assert any("was trained on tiny" in t for t in texts(app.caption))
