"""The variants room's fixtures (defined in ``helpers.py``)."""

from tests.core.variants.helpers import result, ws  # noqa: F401
