"""DeepDifE core: promoter-sequence CNNs for differential-expression classification.

The science library behind the ``deepdife`` command and the Streamlit dashboard.
It never imports Streamlit.  TensorFlow/Keras is imported lazily by the modules
that need it (``model``, ``train``, ``artifacts``), so data handling stays light.
"""

from deepdife_core.errors import DeepDifEError, DeepDifEInputError

__all__ = ["DeepDifEError", "DeepDifEInputError", "__version__"]
__version__ = "0.1.0"
