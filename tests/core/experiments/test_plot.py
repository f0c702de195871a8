"""Tests of ``deepdife_core.experiments.plot`` (moved from ``tests/core/test_experiments.py``)."""

from __future__ import annotations

import pytest

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.experiments import ExperimentConfig
from deepdife_core.experiments.dose import dose_response
from tests.core.experiments.helpers import ABRE


def test_export_figures_draw_on_a_given_axes_or_their_own(oracle, bg):
    from matplotlib.figure import Figure

    from deepdife_core.experiments import plot as xplot

    b, _ = bg
    summary, _ = dose_response(oracle, b, ABRE, ExperimentConfig(max_copies=2, orientation="+"))
    fig = xplot.plot_dose(summary)
    assert isinstance(fig, Figure) and len(fig.axes[0].lines) >= 2
    own = Figure()
    ax = own.add_subplot()
    assert xplot.plot_dose(summary, ax) is own
    with pytest.raises(DeepDifEInputError, match="lacks"):
        xplot.plot_sweep(summary)
