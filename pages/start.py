"""Start page (wiring only; the body is dashboard.page_start)."""

from dashboard.page_start import render

render()
