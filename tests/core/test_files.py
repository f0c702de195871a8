"""Tests of ``deepdife_core.files`` (moved from ``tests/core/model/test_folder.py``)."""

import pytest

from deepdife_core import files as _files
from deepdife_core.errors import DeepDifEInputError


def test_atomic_dir_leaves_nothing_on_failure(tmp_path):
    with pytest.raises(RuntimeError), _files.atomic_dir(tmp_path / "x") as tmp:
        (tmp / "model.keras").write_text("half")
        raise RuntimeError("crash while saving")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["../evil", "a/b", "", ".hidden", "x" * 101, "a..b"])
def test_bad_names_rejected(name):
    with pytest.raises(DeepDifEInputError):
        _files.check_name(name)
