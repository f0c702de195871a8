"""The DeepDifE Streamlit dashboard (``make run`` starts ``dashboard/app.py``).

Layers: ``pages/*.py`` (thin wiring) -> ``dashboard`` (state, caches, jobs,
widgets, page bodies) -> ``deepdife_core``.  TensorFlow is imported only lazily,
inside the functions that load or build models.
"""
