"""Export figures of the experiments (matplotlib; the page draws the same tables with plotly).

Every function takes an optional ``ax`` and returns the :class:`matplotlib.figure.Figure`
it drew on (no pyplot state).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.plot.figures import figure_axes

_PAIR_COLORS = {"++": "#d62728", "+-": "#1f77b4", "-+": "#2ca02c", "--": "#9467bd"}


def _need(df: pd.DataFrame, cols: tuple[str, ...], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DeepDifEInputError(f"{what}: the table lacks {', '.join(missing)}")


def _finish(fig, ax, title: str | None):
    """``fig`` once ``ax`` is tidied (no top/right spines, small ticks) and titled."""
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=8)
    if title:
        ax.set_title(title, fontsize=9, loc="left")
    return fig


def plot_insertion(table: pd.DataFrame, ax=None, *, value: str = "delta_probability", title: str | None = None):
    """Distribution of the per-gene effect of each motif (box + points); ``table`` has ``motif`` or one motif.

    Parameters
    ----------
    table
        The :func:`~deepdife_core.experiments.insert.insertion` table (with ``motif`` to compare several).
    ax
        Axes to draw on; default a new figure.
    value
        The plotted column.
    title
        Title (top left).

    Returns
    -------
    matplotlib.figure.Figure
        The box-and-points figure, one box per motif.
    """
    _need(table, (value,), "insertion plot")
    fig, ax = figure_axes(ax, (5.0, 3.2))
    groups = list(dict.fromkeys(table["motif"])) if "motif" in table.columns else ["motif"]
    data = [
        (table.loc[table["motif"] == m, value] if "motif" in table.columns else table[value]).to_numpy() for m in groups
    ]
    ax.boxplot(data, showfliers=False, widths=0.5)
    rng = np.random.default_rng(0)
    for i, d in enumerate(data, start=1):
        ax.scatter(i + rng.uniform(-0.15, 0.15, len(d)), d, s=5, alpha=0.4, color="#555555", lw=0)
        if len(d):
            ax.scatter([i], [np.mean(d)], marker="D", color="#d62728", s=18, zorder=3)
    ax.set_xticks(range(1, len(groups) + 1), groups, fontsize=8)
    ax.axhline(0, color="#999999", lw=0.8)
    ax.set_ylabel(value.replace("_", " "), fontsize=8)
    return _finish(fig, ax, title)


def plot_sweep(summary: pd.DataFrame, ax=None, *, value: str = "delta_probability", title: str | None = None):
    """Mean effect with its 95% CI band against the distance to the TSS (``pos_from_tss``).

    Parameters
    ----------
    summary
        The :func:`~deepdife_core.experiments.sweep.position_sweep` summary.
    value
        The summarised column: its mean and 95% CI are drawn.
    ax, title
        Axes to draw on and title, as for :func:`plot_insertion`.

    Returns
    -------
    matplotlib.figure.Figure
        The effect-by-distance-to-the-TSS figure.
    """
    cols = ("pos_from_tss", f"{value}_mean", f"{value}_ci_low", f"{value}_ci_high")
    _need(summary, cols, "sweep plot")
    fig, ax = figure_axes(ax, (6.5, 2.8))
    x = summary["pos_from_tss"].to_numpy()
    ax.fill_between(x, summary[cols[2]], summary[cols[3]], color="#d62728", alpha=0.2, lw=0, label="95% CI")
    ax.plot(x, summary[cols[1]], color="#d62728", lw=1.2, label="mean")
    ax.axhline(0, color="#999999", lw=0.8)
    ax.set_xlabel("motif start relative to the TSS (bp)", fontsize=8)
    ax.set_ylabel(f"mean {value.replace('_', ' ')}", fontsize=8)
    ax.legend(fontsize=7, frameon=False)
    return _finish(fig, ax, title)


def plot_spacing(summary: pd.DataFrame, ax=None, *, value: str = "delta_probability", title: str | None = None):
    """Heat map of the mean effect by spacing (x) and orientation pair (y).

    Parameters
    ----------
    summary
        The :func:`~deepdife_core.experiments.spacing.spacing_grid` summary.
    value
        The summarised column; its mean is the colour.
    ax, title
        Axes to draw on and title, as for :func:`plot_insertion`.

    Returns
    -------
    matplotlib.figure.Figure
        The gap-by-orientation heat map.
    """
    _need(summary, ("spacing", "orientation", f"{value}_mean"), "spacing plot")
    grid = summary.pivot(index="orientation", columns="spacing", values=f"{value}_mean")
    fig, ax = figure_axes(ax, (7.0, 2.4))
    im = ax.imshow(
        grid.to_numpy(),
        aspect="auto",
        cmap="RdBu_r",
        interpolation="nearest",
        vmin=-np.nanmax(np.abs(grid.to_numpy())),
        vmax=np.nanmax(np.abs(grid.to_numpy())),
    )
    ax.set_yticks(range(len(grid.index)), grid.index, fontsize=8)
    cols = grid.columns.to_numpy()
    ticks = np.linspace(0, len(cols) - 1, min(len(cols), 11)).round().astype(int)
    ax.set_xticks(ticks, cols[ticks], fontsize=8)
    ax.set_xlabel("gap between the two motifs (bp)", fontsize=8)
    ax.set_ylabel("orientations", fontsize=8)
    fig.colorbar(im, ax=ax, label=f"mean {value.replace('_', ' ')}", shrink=0.9)
    return _finish(fig, ax, title)


def plot_dose(summary: pd.DataFrame, ax=None, *, title: str | None = None):
    """Observed mean Δlogit by copy number (95% CI bars) beside the additive expectation.

    Parameters
    ----------
    summary
        The :func:`~deepdife_core.experiments.dose.dose_response` summary.
    ax, title
        Axes to draw on and title, as for :func:`plot_insertion`.

    Returns
    -------
    matplotlib.figure.Figure
        The dose-response figure, observed beside additive.
    """
    _need(summary, ("copies", "delta_logit_mean", "additive_logit_mean"), "dose plot")
    fig, ax = figure_axes(ax, (4.2, 3.0))
    c = summary["copies"].to_numpy()
    m = summary["delta_logit_mean"].to_numpy()
    err = np.vstack([m - summary["delta_logit_ci_low"].fillna(0), summary["delta_logit_ci_high"].fillna(0) - m])
    err = np.where(np.isfinite(err), np.abs(err), 0)
    ax.errorbar(c, m, yerr=err, marker="o", color="#d62728", capsize=3, lw=1.2, label="observed")
    ax.plot(c, summary["additive_logit_mean"], ls="--", marker="s", color="#555555", lw=1, label="additive")
    ax.set_xticks(c)
    ax.set_xlabel("copies", fontsize=8)
    ax.set_ylabel("mean Δ logit", fontsize=8)
    ax.legend(fontsize=7, frameon=False)
    return _finish(fig, ax, title)


def plot_tiling(table: pd.DataFrame, ax=None, *, top: int = 5, title: str | None = None):
    """Δ probability of every tiled window (bar at its centre); the ``top`` strongest losses labelled.

    Parameters
    ----------
    table
        The :func:`~deepdife_core.experiments.tile.tile_gene` table.
    top
        Windows of rank <= top are drawn in red.
    ax, title
        Axes to draw on and title, as for :func:`plot_insertion`.

    Returns
    -------
    matplotlib.figure.Figure
        The bar chart of the tiled windows.
    """
    _need(table, ("start", "end", "delta_probability", "rank", "pos_from_tss"), "tiling plot")
    fig, ax = figure_axes(ax, (6.5, 2.8))
    mid = (table["pos_from_tss"] + (table["end"] - table["start"]) / 2).to_numpy()
    width = float((table["end"] - table["start"]).iloc[0]) if len(table) else 1.0
    colors = np.where(table["rank"].to_numpy() <= top, "#d62728", "#1f77b4")
    ax.bar(mid, table["delta_probability"], width=width * 0.9, color=colors, alpha=0.7)
    ax.axhline(0, color="#999999", lw=0.8)
    ax.set_xlabel("window centre relative to the TSS (bp)", fontsize=8)
    ax.set_ylabel("Δ probability", fontsize=8)
    return _finish(fig, ax, title)


def plot_ablation(table: pd.DataFrame, ax=None, *, title: str | None = None):
    """Probability before vs after ablation, one point per gene (genes that lose responsiveness in red).

    Parameters
    ----------
    table
        The :func:`~deepdife_core.experiments.ablate.ablate_motif` table.
    ax, title
        Axes to draw on and title, as for :func:`plot_insertion`.

    Returns
    -------
    matplotlib.figure.Figure
        The before-against-after scatter of the genes.
    """
    _need(table, ("p_before", "p_after", "lost"), "ablation plot")
    fig, ax = figure_axes(ax, (3.6, 3.4))
    lost = table["lost"].to_numpy(dtype=bool)
    ax.scatter(table["p_before"][~lost], table["p_after"][~lost], s=6, alpha=0.5, color="#1f77b4", lw=0)
    ax.scatter(table["p_before"][lost], table["p_after"][lost], s=8, alpha=0.8, color="#d62728", lw=0, label="lost")
    ax.plot([0, 1], [0, 1], color="#999999", lw=0.8)
    ax.set_xlabel("probability before", fontsize=8)
    ax.set_ylabel("probability after", fontsize=8)
    ax.legend(fontsize=7, frameon=False)
    return _finish(fig, ax, title)
