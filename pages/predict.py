"""Predict page (wiring only; the body is dashboard.page_predict)."""

from dashboard.page_predict import render

render()
