"""The motifs room's fixtures (defined in ``helpers.py``)."""

from tests.core.motifs.helpers import db_cache, demo_inputs, jaspar  # noqa: F401
