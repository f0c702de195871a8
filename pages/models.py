"""Models page (wiring only; the body is dashboard.page_models)."""

from dashboard.page_models import render

render()
