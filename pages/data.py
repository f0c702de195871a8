"""Data page (wiring only; the body is dashboard.page_data)."""

from dashboard.page_data import render

render()
