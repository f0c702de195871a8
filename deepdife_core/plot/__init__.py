"""Figures: saliency logos, learning curves and motif logos (matplotlib).

Module: :mod:`.figures`.  Every plot function takes ``ax=None`` (a new figure
otherwise) and returns the figure; export (SVG/PNG/PDF) goes through
:func:`.figures.save_figure`, which writes atomically.
"""
