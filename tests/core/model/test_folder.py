import numpy as np
import pytest

from deepdife_core import files as _files
from deepdife_core.config import ModelConfig, RunConfig
from deepdife_core.errors import ArtifactError
from deepdife_core.model import folder as _folder
from deepdife_core.model.cnn import build_model

CFG = ModelConfig(input_length=60, kernel_size=6)


def _save(root, name="m", **kw):
    return _folder.save_model_folder(root / name, models=[build_model(CFG)], config=RunConfig(model=CFG), **kw)


def test_crash_during_save_keeps_old_model(tmp_path, monkeypatch):
    folder = _save(tmp_path, metrics={"auroc": 0.7})

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(_folder, "atomic_write_json", boom)
    with pytest.raises(OSError):
        _save(tmp_path, overwrite=True, metrics={"auroc": 0.9})
    assert _files.read_json(folder / "metrics.json") == {"auroc": 0.7}
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


def test_registry_lists_only_complete_models(tmp_path):
    _save(tmp_path, "a")
    _save(tmp_path, "b")
    (tmp_path / ".tmp-c-1234").mkdir()
    (tmp_path / "notes").mkdir()
    assert sorted(_folder.list_models(tmp_path)["name"]) == ["a", "b"]
    _folder.delete_model(tmp_path / "a")
    _folder.rename_model(tmp_path / "b", "b2")
    assert _folder.list_models(tmp_path)["name"].tolist() == ["b2"]


def test_ensemble_folder_round_trip(tmp_path):
    models = [build_model(CFG, seed=s) for s in (1, 2, 3)]
    folder = _folder.save_model_folder(tmp_path / "cv", models=models, config=RunConfig(model=CFG))
    assert sorted(p.name for p in (folder / "folds").iterdir()) == ["0", "1", "2"]
    pred = _folder.load_model(folder)
    assert len(pred.models) == 3
    x = np.random.default_rng(0).random((3, 60, 4)).astype(np.float32)
    np.testing.assert_allclose(pred.predict_members(x)[1], pred.predict_members(x)[1])


def test_unsafe_lambda_model_refused(tmp_path):
    import keras

    inp = keras.Input((60, 4))
    out = keras.layers.Lambda(lambda t: t[:, :1, 0])(inp)
    m = keras.Model(inp, out)
    folder = tmp_path / "evil"
    folder.mkdir()
    m.save(folder / "model.keras")
    _files.atomic_write_json(folder / "config.json", {"model": {"input_length": 60, "kernel_size": 6}})
    with pytest.raises(ArtifactError, match="cannot be loaded safely"):
        _folder.load_model(folder)


def test_missing_folder(tmp_path):
    with pytest.raises(ArtifactError, match="does not exist"):
        _folder.load_model(tmp_path / "nope")
