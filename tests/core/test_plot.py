"""Export figures: functions accept ax=None / an Axes and return the Figure."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from deepdife_core import plot
from deepdife_core.errors import DeepDifEInputError


def track(length: int = 120, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.eye(4)[rng.integers(0, 4, length)]
    return rng.normal(size=(length, 4)) * x


def test_logo_on_own_figure_and_given_axes(tmp_path):
    fig = plot.plot_attribution_logo(track(), start=10, end=60, title="g", sites=[(20, 30)])
    assert isinstance(fig, Figure) and fig.axes[0].get_xlim() == (9.5, 59.5)
    host = Figure()
    ax = host.add_subplot()
    assert plot.plot_attribution_logo(track(), ax=ax) is host
    out = plot.save_figure(fig, tmp_path / "logo.svg")
    assert out.read_text().lstrip().startswith(("<?xml", "<svg"))


def test_gene_figure_splits_long_genes_into_windows():
    fig = plot.plot_gene(track(250), track(250, seed=1), window=100, gene_id="AT1G01010", probability=0.8)
    assert len(fig.axes) == 2 * 3
    assert plot.windows(250, 100) == [(0, 100), (100, 200), (200, 250)]


def test_ism_heatmap_and_bad_shapes():
    fig = plot.plot_ism_heatmap(track(80))
    assert isinstance(fig, Figure)
    with pytest.raises(DeepDifEInputError):
        plot.plot_attribution_logo(np.zeros((10, 3)))
    with pytest.raises(DeepDifEInputError):
        plot.plot_gene(track(50), track(60))
