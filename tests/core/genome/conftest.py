"""The genome room's fixtures (defined in ``helpers.py``)."""

from tests.core.genome.helpers import ws  # noqa: F401
