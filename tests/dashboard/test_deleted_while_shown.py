"""A model or dataset deleted (on disk, by another session or by hand) while a page shows it (issue 8)."""

from __future__ import annotations

import shutil

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.app import PAGES
from tests.dashboard.apptest_helpers import APP, TIMEOUT, goto, texts

PAGE_NAMES = [script.removesuffix(".py") for script, _, _ in PAGES]


@pytest.fixture
def shown(dirs, tiny_dataset, tiny_model) -> AppTest:
    """The app with the tiny dataset and model active."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["data.active"] == tiny_dataset
    assert at.session_state["model.active"] == tiny_model.name
    return at


def _sidebar_warnings(at: AppTest) -> list[str]:
    return texts(at.sidebar.warning)


@pytest.mark.parametrize("page", PAGE_NAMES)
def test_model_deleted_while_page_shows_it(shown, tiny_model, page):
    goto(shown, page)
    shutil.rmtree(tiny_model)
    shown.run()  # the next interaction / fragment refresh
    assert not shown.exception, [e.value for e in shown.exception]
    warnings = _sidebar_warnings(shown)
    assert any("model 'tiny-model' is no longer there" in w for w in warnings), warnings
    assert shown.session_state["model.active"] is None
    assert not any("something went wrong" in t for t in texts(shown.error))
    shown.run()  # said once, then the page goes on without it
    assert not shown.exception
    assert not _sidebar_warnings(shown)


@pytest.mark.parametrize("page", PAGE_NAMES)
def test_dataset_deleted_while_page_shows_it(shown, dirs, tiny_dataset, page):
    goto(shown, page)
    shutil.rmtree(dirs["workspace"] / "datasets" / tiny_dataset)
    shown.run()
    assert not shown.exception, [e.value for e in shown.exception]
    warnings = _sidebar_warnings(shown)
    assert any(f"dataset '{tiny_dataset}' is no longer there" in w for w in warnings), warnings
    assert shown.session_state["data.active"] is None
    assert not any("something went wrong" in t for t in texts(shown.error))
