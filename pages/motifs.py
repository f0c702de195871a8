"""Motifs page (wiring only; the body is dashboard.page_motifs)."""

from dashboard.page_motifs import render

render()
