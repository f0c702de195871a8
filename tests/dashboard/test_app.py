"""App shell: navigation, sidebar, folders from the environment, layering rules."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.dashboard.apptest_helpers import ROOT, goto, texts


def test_app_opens_on_data_page_with_empty_sidebar(app, dirs):
    assert texts(app.title) == ["Data"]
    captions = " ".join(texts(app.sidebar.caption))
    assert "No dataset yet" in captions and "No model yet" in captions
    assert str(dirs["workspace"]) in captions and str(dirs["models"]) in captions
    assert (dirs["workspace"] / "datasets").is_dir()


def test_every_page_renders_without_errors(app):
    for page, title in (
        ("start", "Start"),
        ("train", "Train"),
        ("models", "Models"),
        ("predict", "Predict"),
        ("data", "Data"),
    ):
        goto(app, page)
        assert texts(app.title) == [title]
        assert not app.error


def test_sidebar_switches_active_dataset(app, tiny_table):
    from dashboard.datasets import save_dataset

    save_dataset(tiny_table, "first", {})
    save_dataset(tiny_table.head(40), "second", {})
    app.run()
    box = app.sidebar.selectbox[0]
    assert set(box.options) == {"first", "second"}
    box.set_value("first").run()
    assert app.session_state["data.active"] == "first"
    goto(app, "train")  # the choice survives a page switch
    assert app.session_state["data.active"] == "first"
    assert "`first`" in " ".join(texts(app.markdown))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_pages_are_thin_and_never_import_tensorflow():
    for page in (ROOT / "pages").glob("*.py"):
        mods = _imports(page)
        assert not any(m.split(".")[0] in ("tensorflow", "keras") for m in mods), page
        assert all(m.startswith("dashboard") for m in mods), (page, mods)
        assert len(page.read_text().splitlines()) < 15
    for mod in (ROOT / "dashboard").glob("*.py"):
        top = {m.split(".")[0] for m in _imports(mod)}
        assert not top & {"tensorflow", "keras"}, mod  # TF only via deepdife_core, lazily


def test_core_job_runner_never_imports_streamlit():
    assert "streamlit" not in {m.split(".")[0] for m in _imports(ROOT / "deepdife_core" / "jobs" / "runner.py")}
