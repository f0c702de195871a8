"""Tune page (wiring only; the body is dashboard.page_tune)."""

from dashboard.page_tune import render

render()
