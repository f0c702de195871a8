"""The experiments room's fixtures (defined in ``helpers.py``)."""

from tests.core.experiments.helpers import bg, demo_csv, oracle  # noqa: F401
