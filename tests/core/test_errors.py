"""Tests of ``deepdife_core.errors``: one hierarchy, input errors are also ``ValueError``."""

import pytest

from deepdife_core.errors import ArtifactError, DeepDifEError, DeepDifEInputError


def test_input_errors_are_deepdife_errors_and_value_errors():
    err = DeepDifEInputError("data.csv, line 3: 'X' is not a base")
    assert isinstance(err, DeepDifEError) and isinstance(err, ValueError)
    assert str(err) == "data.csv, line 3: 'X' is not a base"
    with pytest.raises(ValueError, match="line 3"):
        raise err


def test_artifact_errors_are_deepdife_errors_but_not_input_errors():
    err = ArtifactError("models/m: no model.keras")
    assert isinstance(err, DeepDifEError) and not isinstance(err, ValueError)
    assert not isinstance(err, DeepDifEInputError)
    assert [c.__name__ for c in ArtifactError.__mro__[:3]] == ["ArtifactError", "DeepDifEError", "Exception"]
