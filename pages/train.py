"""Train page (wiring only; the body is dashboard.page_train)."""

from dashboard.page_train import render

render()
