"""Export figures: functions accept ax=None / an Axes and return the Figure."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.plot import figures as plot


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


def test_gene_figure_of_a_span_with_the_variant_track():
    fwd, rev = track(250), track(250, seed=1)
    diff = track(250, seed=2) * 0.1
    fig = plot.plot_gene(fwd, rev, window=50, span=(40, 160), diff=diff, title="G$1 p = 0.5")
    # 120 bp in rows of 50: 40-90, 90-140, 140-160; three tracks each
    assert len(fig.axes) == 3 * 3
    assert [ax.get_xlim() for ax in fig.axes[::3]] == [(39.5, 89.5), (89.5, 139.5), (139.5, 159.5)]
    assert [ax.get_ylabel() for ax in fig.axes[:3]] == ["forward 40-90", "reverse 40-90", "variant − ref 40-90"]
    # the strand tracks share one y scale, from the drawn part only (an oracle on the stacked letters)
    lo = min(0.0, np.minimum(fwd[40:160], 0).sum(1).min(), np.minimum(rev[40:160], 0).sum(1).min())
    hi = max(np.maximum(fwd[40:160], 0).sum(1).max(), np.maximum(rev[40:160], 0).sum(1).max())
    pad = 0.05 * (hi - lo)
    assert fig.axes[0].get_ylim() == pytest.approx((lo - pad, hi + pad))
    assert fig.axes[1].get_ylim() == fig.axes[0].get_ylim()
    assert fig._suptitle.get_text() == r"G\$1 p = 0.5"
    with pytest.raises(DeepDifEInputError, match="empty span"):
        plot.plot_gene(fwd, rev, span=(200, 200))
    with pytest.raises(DeepDifEInputError, match="variant difference"):
        plot.plot_gene(fwd, rev, diff=track(10))


def _tick_labels(ax) -> list[tuple[float, str]]:
    return [(t, label.get_text()) for t, label in zip(ax.get_xticks(), ax.get_xticklabels(), strict=True)]


def test_gene_figure_labels_its_axis_in_the_given_coordinates():
    fwd, rev = track(250), track(250, seed=1)
    # default: promoter positions, no axis label (as before `positions` existed)
    fig = plot.plot_gene(fwd, rev, window=100, span=(40, 160))
    fig.draw_without_rendering()
    ticks = _tick_labels(fig.axes[0])
    assert ticks and all(label == f"{t:.0f}" for t, label in ticks if 39.5 <= t <= 139.5)
    assert fig.axes[-1].get_xlabel() == "" and fig.axes[0].get_ylabel() == "forward 40-140"

    # distance to the TSS: promoter position p is p - 250
    fig = plot.plot_gene(
        fwd, rev, window=100, span=(40, 160), positions=np.arange(250) - 250, xlabel="distance to the TSS (bp)"
    )
    first = _tick_labels(fig.axes[0])
    assert first == [(p, str(p - 250)) for p in range(40, 140, 10)]  # round values -210, -200, ... -120
    second = _tick_labels(fig.axes[2])  # the second row, 140-160: a finer step
    assert len(second) >= 3 and all(140 <= t < 160 and label == str(int(t) - 250) for t, label in second)
    assert fig.axes[0].get_ylabel() == "forward -210–-111" and fig.axes[2].get_ylabel() == "forward -110–-91"
    assert fig.axes[-1].get_xlabel() == "distance to the TSS (bp)"
    assert fig.axes[0].get_xlim() == (39.5, 139.5)  # the letters stay at promoter positions

    # a minus-strand promoter: genomic coordinates run down along it
    end = 10_451
    fig = plot.plot_gene(fwd, rev, window=None, span=(0, 200), positions=end - np.arange(250), xlabel="Chr1 position")
    ticks = _tick_labels(fig.axes[0])
    assert len(ticks) >= 5 and all(label == f"{end - int(t):,}" for t, label in ticks)
    values = [end - int(t) for t, _ in ticks]
    assert values == sorted(values, reverse=True) and all(v % 20 == 0 for v in values)
    with pytest.raises(DeepDifEInputError, match="positions"):
        plot.plot_gene(fwd, rev, positions=np.arange(10))
