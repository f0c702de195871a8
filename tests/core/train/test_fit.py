import json
from dataclasses import replace

import numpy as np
import pytest

from deepdife_core.config import AugmentConfig, ModelConfig, TrainConfig
from deepdife_core.data.encode import one_hot
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.model.folder import list_models, load_model, read_history
from deepdife_core.train.fit import fit, train_dataset

FAST = TrainConfig(epochs=3, batch_size=32, seed=5, early_stopping_patience=0, reduce_lr_patience=0)
NO_EVO = AugmentConfig(enabled=False)


def test_same_seed_same_model(tiny_df):
    a = train_dataset(tiny_df, train_cfg=FAST)
    b = train_dataset(tiny_df, train_cfg=FAST)
    x = one_hot(tiny_df["sequence"].tolist())
    np.testing.assert_array_equal(a.predictor.predict(x), b.predictor.predict(x))
    for wa, wb in zip(a.predictor.models[0].get_weights(), b.predictor.models[0].get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    c = train_dataset(tiny_df, train_cfg=TrainConfig(epochs=3, batch_size=32, seed=6))
    assert not np.array_equal(a.predictor.predict(x), c.predictor.predict(x))


def test_history_progress_and_saved_folder(tiny_df, tmp_path):
    events = []
    res = train_dataset(
        tiny_df, train_cfg=FAST, augment_cfg=NO_EVO, out=tmp_path / "m", progress=events.append, dataset_name="tiny"
    )
    epochs = [e for e in events if e["event"] == "epoch"]
    for cand in (0, 1):  # head selection: each network reports its own epochs
        assert [e["epoch"] for e in epochs if e["candidate"] == cand] == [1, 2, 3]
    for key in ("loss", "val_loss", "auroc", "val_auroc", "lr", "seconds"):
        assert key in epochs[0]
    folder = tmp_path / "m"
    assert {p.name for p in folder.iterdir()} >= {
        "model.keras",
        "config.json",
        "history.jsonl",
        "metrics.json",
        "provenance.json",
        "split.csv",
    }
    assert len(read_history(folder)) == 3
    prov = json.loads((folder / "provenance.json").read_text())
    assert prov["seed"] == 5 and prov["dataset"] == "tiny" and "keras" in prov["versions"]
    metrics = json.loads((folder / "metrics.json").read_text())
    assert set(metrics) >= {"auroc", "auprc", "accuracy", "confusion_matrix", "roc_curve", "pr_curve"}
    loaded = load_model(folder)
    x = one_hot(tiny_df["sequence"].tolist()[:10])
    np.testing.assert_allclose(loaded.predict(x), res.predictor.predict(x), rtol=1e-6)
    reg = list_models(tmp_path)
    assert reg["name"].tolist() == ["m"] and reg["test_auroc"].iloc[0] == pytest.approx(metrics["auroc"])


def test_split_column_is_honoured(tiny_df):
    df = tiny_df.copy()
    fam = df["family"].astype("category").cat.codes
    df["split"] = np.where(fam % 5 == 0, "test", np.where(fam % 5 == 1, "val", "train"))
    res = train_dataset(df, train_cfg=TrainConfig(epochs=1, batch_size=64))
    assert set(res.split["test"]) == set(np.flatnonzero(df["split"] == "test"))


def test_stop_request_keeps_best_weights_and_marks_stopped(tiny_df, tmp_path):
    calls = {"n": 0}

    def stop_after_two_epochs():
        calls["n"] += 1
        return calls["n"] > 2 * 6  # 6 batches per epoch at batch 32

    res = train_dataset(
        tiny_df,
        train_cfg=TrainConfig(epochs=50, batch_size=32),
        out=tmp_path / "s",
        should_stop=stop_after_two_epochs,
    )
    assert res.stopped and 1 <= len(res.history) <= 3
    assert json.loads((tmp_path / "s" / "provenance.json").read_text())["stopped_early_by_user"] is True


def test_early_stopping(tiny_df):
    res = train_dataset(
        tiny_df, train_cfg=TrainConfig(epochs=200, batch_size=32, early_stopping_patience=2, learning_rate=0.05)
    )
    assert len(res.history) < 200


def test_learns_planted_signal():
    from deepdife_core.data.demo import make_demo_dataset

    df = make_demo_dataset(600, length=300, seed=2)[["gene_id", "label", "family", "sequence"]]
    res = train_dataset(df, train_cfg=TrainConfig(epochs=40, seed=1, test_fraction=0.2))
    assert res.metrics["auroc"] > 0.85


def test_fit_validates_shapes():
    x = np.zeros((10, 50, 4), np.float32)
    with pytest.raises(DeepDifEInputError, match="expected"):
        fit(x, np.arange(10) % 2, x, np.arange(10) % 2, model_cfg=ModelConfig(input_length=60))
    with pytest.raises(DeepDifEInputError, match="only one class"):
        fit(x, np.zeros(10), x, np.zeros(10), model_cfg=ModelConfig(input_length=50, kernel_size=6))


def _position_task():
    from deepdife_core.data.tasks import make_task

    return make_task("position", n_genes=700, length=300, label_noise=0.0, seed=4).drop(columns=["score", "true_label"])


def test_default_loop_learns_a_position_rule():
    """Regression (issue 12): the loop before it (one random strand per epoch, DeepDifE's network, patience 10,
    LR x0.2) stayed at chance on this task (test auROC 0.5); the default must learn it."""
    df = _position_task()
    res = train_dataset(df, train_cfg=TrainConfig(seed=0, test_fraction=0.2))
    assert res.metrics["auroc"] > 0.8
    assert res.metrics["learning"]["status"] == "learnt"
    assert res.predictor.config.conjoin is False  # a forward-strand model predicts from the promoter as given


def test_chance_guard_keeps_the_learning_rate_until_the_model_leaves_chance(tiny_df):
    events = []
    shuffled = tiny_df.assign(label=np.random.default_rng(0).permutation(tiny_df["label"].to_numpy()))
    tc = TrainConfig(
        epochs=12, batch_size=64, reduce_lr_patience=1, early_stopping_patience=1, chance_patience=8, try_heads=()
    )
    res = train_dataset(shuffled, train_cfg=tc, augment_cfg=AugmentConfig(enabled=False), progress=events.append)
    lrs = [e["lr"] for e in events if e["event"] == "epoch"]
    left = [h["epoch"] for h in res.history if h.get("left_chance")]
    if not left:  # labels are noise: it never leaves chance, keeps its step and stops after chance_patience
        assert len(lrs) == 8 and set(lrs) == {tc.learning_rate}
    assert res.metrics["learning"]["status"] != "learnt" or res.metrics["auroc"] > 0.6


def test_head_selection_keeps_the_network_with_the_lower_validation_loss(tiny_df, tmp_path):
    """Each candidate head is trained with the same seed and split; the kept one is the lower validation loss,
    identical to training that head alone, and its head is what config.json says."""
    tc = TrainConfig(epochs=4, batch_size=32, seed=5, early_stopping_patience=0, reduce_lr_patience=0)
    both = train_dataset(
        tiny_df, train_cfg=replace(tc, try_heads=("global_max",)), augment_cfg=NO_EVO, out=tmp_path / "m"
    )
    sel = both.metrics["head_selection"]
    assert [c["head"] for c in sel["candidates"]] == ["global_region", "global_max"] and sel["monitor"] == "val_loss"
    alone = {
        h: train_dataset(
            tiny_df, model_cfg=ModelConfig(head=h), train_cfg=replace(tc, try_heads=()), augment_cfg=NO_EVO
        )
        for h in ("global_region", "global_max")
    }
    for c in sel["candidates"]:  # each candidate's kept validation loss is that of the head trained alone
        kept = [h for h in alone[c["head"]].history if h["epoch"] == c["best_epoch"]]
        assert c["value"] == pytest.approx(kept[0]["val_loss"], rel=1e-6)
        assert "head_selection" not in alone[c["head"]].metrics
    winner = min(sel["candidates"], key=lambda c: c["value"])["head"]
    assert sel["kept"] == winner == both.config.model.head
    x = one_hot(tiny_df["sequence"].tolist())
    np.testing.assert_allclose(both.predictor.predict(x), alone[winner].predictor.predict(x), rtol=1e-6)
    saved = json.loads((tmp_path / "m" / "config.json").read_text())
    assert saved["model"]["head"] == winner and saved["train"]["try_heads"] == ["global_max"]
    assert json.loads((tmp_path / "m" / "metrics.json").read_text())["head_selection"]["kept"] == winner


def test_head_selection_tags_progress_and_a_stop_ends_the_search(tiny_df):
    events = []
    calls = {"n": 0}

    def stop_in_the_first_network():
        calls["n"] += 1
        return calls["n"] > 2 * 6  # 6 batches per epoch at batch 32: the first network's third epoch

    res = train_dataset(
        tiny_df,
        train_cfg=TrainConfig(epochs=50, batch_size=32),
        augment_cfg=NO_EVO,
        progress=events.append,
        should_stop=stop_in_the_first_network,
    )
    epochs = [e for e in events if e["event"] == "epoch"]
    assert {(e["head"], e["candidate"], e["n_candidates"]) for e in epochs} == {("global_region", 0, 2)}
    assert res.stopped and res.metrics["head_selection"]["kept"] == "global_region"
    assert len(res.metrics["head_selection"]["candidates"]) == 1


def test_try_heads_is_checked_and_old_configs_read_back_without_it():
    from deepdife_core.config import config_from_dict, original_recipe

    with pytest.raises(DeepDifEInputError, match="try_heads must name heads"):
        TrainConfig(try_heads=("global_mean",))
    assert TrainConfig(try_heads=["flatten"]).try_heads == ("flatten",)
    old = config_from_dict({"model": {"head": "global_region"}, "train": {"strands": "forward", "seed": 1}})
    assert old.train.try_heads == ()  # a model folder written before head selection trained one head
    assert original_recipe()[1].try_heads == ()  # DeepDifE's recipe trains its own network only
