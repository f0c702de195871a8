"""The tune room's fixtures (defined in ``helpers.py``)."""

from tests.core.tune.helpers import table  # noqa: F401
