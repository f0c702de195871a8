"""Saliency page (wiring only; the body is dashboard.page_saliency)."""

from dashboard.page_saliency import render

render()
