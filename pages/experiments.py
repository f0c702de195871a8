"""Experiments page (wiring only; the body is dashboard.page_experiments)."""

from dashboard.page_experiments import render

render()
