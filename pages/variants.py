"""Variants page (wiring only; the body is dashboard.page_variants)."""

from dashboard.page_variants import render

render()
