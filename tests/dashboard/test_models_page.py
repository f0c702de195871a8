"""Models page: registry table, details, compare, rename, delete, download, zip import, legacy import."""

from __future__ import annotations

import io
import json
import shutil
import zipfile

import pandas as pd
import pytest

from dashboard import widgets
from dashboard.model_io import import_model_zip, zip_model_folder
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.model import folder as artifacts
from tests.dashboard.apptest_helpers import goto, texts

ZIP_SUBMIT = "FormSubmitter:w.models.import_zip_form-Import zip"
LEGACY_SUBMIT = "FormSubmitter:w.models.legacy_form-Import published model"


def _problems(app) -> list[str]:
    """Errors on the page other than a model's "has not learnt" verdict (the tiny test model learns little)."""
    return [t for t in texts(app.error) if "has not learnt" not in t]


def test_empty_registry(app):
    goto(app, "models")
    assert any("registry is empty" in t for t in texts(app.info))


def test_table_details_and_download(app, tiny_model):
    goto(app, "models")
    table = app.dataframe[0].value
    assert list(table["name"]) == ["tiny-model"] and table["test_auroc"].notna().all()
    assert len(app.get("plotly_chart")) >= 5  # loss, auROC, ROC, PR, confusion
    assert {"auROC", "auPRC"} <= {m.label for m in app.metric}
    dl = app.get("download_button")[0]
    assert dl.proto.label == "Download as zip"
    data = zip_model_folder(tiny_model)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "tiny-model/model.keras" in names and "tiny-model/config.json" in names


def test_registry_says_whether_a_model_learnt(app, tiny_model):
    """The baseline auROC and "learnt?" columns come from metrics.json; older folders show blanks."""
    metrics = json.loads((tiny_model / "metrics.json").read_text())
    assert metrics["baseline_kmer"] and metrics["learning"]["status"]  # a fresh model has both
    old = tiny_model.parent / "old-model"
    shutil.copytree(tiny_model, old)
    older = {k: v for k, v in metrics.items() if k not in ("baseline_kmer", "learning")}
    (old / "metrics.json").write_text(json.dumps(older))
    mid = tiny_model.parent / "mid-model"  # a baseline but no verdict: the page computes it
    shutil.copytree(tiny_model, mid)
    (mid / "history.jsonl").write_text(
        "".join(json.dumps({"epoch": e, "val_loss": 0.5, "val_auroc": 0.9}) + "\n" for e in (1, 2))
    )
    (mid / "metrics.json").write_text(
        json.dumps({**older, "auroc": 0.95, "baseline_kmer": {**metrics["baseline_kmer"], "auroc": 0.97}})
    )
    goto(app, "models")
    table = app.dataframe[0].value.set_index("name")
    assert {"baseline_auroc", "learnt"} <= set(table.columns)
    row = table.loc["tiny-model"]
    assert row["baseline_auroc"] == pytest.approx(metrics["baseline_kmer"]["auroc"])
    assert row["learnt"] == widgets.LEARNT_LABELS[metrics["learning"]["status"]]
    assert pd.isna(table.loc["old-model", "baseline_auroc"]) and pd.isna(table.loc["old-model", "learnt"])
    assert table.loc["mid-model", "learnt"] == "no better than k-mers"
    assert table.loc["mid-model", "baseline_auroc"] == pytest.approx(0.97)
    assert not app.exception


def test_details_show_the_verdict_and_the_baseline(app, tiny_model):
    metrics = json.loads((tiny_model / "metrics.json").read_text())
    app.session_state["model.active"] = "tiny-model"
    goto(app, "models")
    shown = texts(app.success) + texts(app.warning) + texts(app.error)
    assert metrics["learning"]["message"] in shown
    cmp = next(d.value for d in app.dataframe if "model" in d.value.columns)
    assert list(cmp["model"]) == ["CNN", "k-mer baseline"]


def test_compare_two_models(app, tiny_model):
    shutil.copytree(tiny_model, tiny_model.parent / "tiny-copy")
    goto(app, "models")
    assert len(app.multiselect(key="w.models.compare").value) == 2
    cmp = app.dataframe[-1].value
    assert set(cmp["model"]) == {"tiny-model", "tiny-copy"}


def test_rename_and_delete_with_confirmation(app, dirs, tiny_model):
    goto(app, "models")
    app.text_input(key="w.models.new_name").set_value("bad/name")
    app.button(key="FormSubmitter:w.models.rename_form-Rename").click().run()
    assert any("is not allowed" in t for t in texts(app.error))
    app.text_input(key="w.models.new_name").set_value("renamed")
    app.button(key="FormSubmitter:w.models.rename_form-Rename").click().run()
    assert any("Renamed 'tiny-model' to 'renamed'" in t for t in texts(app.success))
    assert list(artifacts.list_models(dirs["models"])["name"]) == ["renamed"]
    assert app.button(key="w.models.delete").disabled  # needs the confirmation first
    app.checkbox(key="w.models.confirm_delete").check().run()
    app.button(key="w.models.delete").click().run()
    assert any("Deleted model 'renamed'" in t for t in texts(app.success))
    assert artifacts.list_models(dirs["models"]).empty


def test_import_zip_round_trip(app, dirs, tiny_model):
    data = zip_model_folder(tiny_model)
    goto(app, "models")
    app.file_uploader(key="w.models.zip").set_value(("shared-model.zip", data, "application/zip"))
    app.button(key=ZIP_SUBMIT).click().run()
    assert not _problems(app) and not app.exception
    assert any("Imported model 'shared-model'" in t for t in texts(app.success))
    assert set(artifacts.list_models(dirs["models"])["name"]) == {"tiny-model", "shared-model"}
    assert not [p for p in dirs["models"].iterdir() if p.name.startswith(".")]  # no temp folders left


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in entries.items():
            zf.writestr(name, content)
    return buf.getvalue()


def test_import_zip_rejects_zip_slip_in_the_page(app, dirs):
    evil = _zip({"config.json": b"{}", "model.keras": b"x", "../../escape.txt": b"owned"})
    goto(app, "models")
    app.file_uploader(key="w.models.zip").set_value(("evil.zip", evil, "application/zip"))
    app.button(key=ZIP_SUBMIT).click().run()
    assert any("unsafe path '../../escape.txt'" in t for t in texts(app.error))
    assert not (dirs["models"].parent / "escape.txt").exists()
    assert not (dirs["models"] / "evil").exists()


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"/abs/config.json": b"{}"}, "unsafe path"),
        ({"m/config.json": b"{}"}, "needs config.json and model.keras"),
        ({"config.json": b"{}", "model.keras": b"not a keras file"}, "does not load"),
    ],
)
def test_import_zip_validation(tmp_path, entries, message):
    with pytest.raises(DeepDifEInputError, match=message):
        import_model_zip(_zip(entries), "m", tmp_path)
    assert not list(tmp_path.iterdir())  # the temp folder is gone


def test_import_zip_rejects_links_and_non_zips(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("model.keras")
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc/passwd")
        zf.writestr("config.json", "{}")
    with pytest.raises(DeepDifEInputError, match="link"):
        import_model_zip(buf.getvalue(), "m", tmp_path)
    with pytest.raises(DeepDifEInputError, match="not a zip file"):
        import_model_zip(b"plain text", "m", tmp_path)


def test_legacy_import_bad_json_is_readable(app):
    goto(app, "models")
    app.file_uploader(key="w.models.legacy_json").set_value(("model_single.json", b"{nope", "application/json"))
    app.file_uploader(key="w.models.legacy_h5").set_value(("weights_single.h5", b"nope", "application/octet-stream"))
    app.button(key=LEGACY_SUBMIT).click().run()
    assert any("not a Keras model JSON" in t for t in texts(app.error))
    assert not app.exception


@pytest.mark.shared
def test_legacy_import_published_model(app, dirs, shared_data):
    goto(app, "models")
    app.file_uploader(key="w.models.legacy_json").set_value(
        ("model_single.json", (shared_data / "model_single.json").read_bytes(), "application/json")
    )
    app.file_uploader(key="w.models.legacy_h5").set_value(
        ("weights_single.h5", (shared_data / "weights_single.h5").read_bytes(), "application/octet-stream")
    )
    app.button(key=LEGACY_SUBMIT).click().run()
    assert not _problems(app) and not app.exception
    reg = artifacts.list_models(dirs["models"])
    row = reg.loc[reg["name"] == "deepdife-published"].iloc[0]
    assert row["source"] == "legacy-import" and row["input_length"] == 600
    pred = artifacts.load_model(row["path"])
    assert pred.config.pad_left == pred.config.pad_right == 10
