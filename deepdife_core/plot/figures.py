"""Figures for export (matplotlib + logomaker), tangermeme style.

Every function takes an optional ``ax``; without one it makes its own
:class:`matplotlib.figure.Figure` (no pyplot state, safe in threads and servers).
It always returns the Figure the drawing is on.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import atomic_write_bytes

ALPHABET = ("A", "C", "G", "T")
#: DeepDifE / DeepLIFT logo colours
COLORS = {"A": "#109648", "C": "#255C99", "G": "#F7B32B", "T": "#D62839"}


def figure_axes(ax, figsize: tuple[float, float]):
    """The figure and axes to draw on: ``ax`` and its figure, else a new Figure with one axes.

    Parameters
    ----------
    ax : matplotlib.axes.Axes or None
        Axes to draw on; None makes a new (pyplot-free, constrained-layout) Figure.
    figsize : tuple of float
        ``(width, height)`` in inches of a new Figure.

    Returns
    -------
    figure, axes
        The :class:`~matplotlib.figure.Figure` and its axes.
    """
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _check_track(a: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    if a.ndim != 2 or a.shape[1] != 4:
        raise DeepDifEInputError(f"{name} must be (L, 4) (one gene), got shape {a.shape}")
    return a


def plot_attribution_logo(
    contrib: np.ndarray,
    ax=None,
    *,
    start: int = 0,
    end: int | None = None,
    title: str | None = None,
    ylim: tuple[float, float] | None = None,
    sites: Sequence[tuple[int, int]] = (),
    ylabel: str = "contribution",
) -> Figure:
    """Sequence logo of one gene's attributions ``(L, 4)`` over ``[start, end)``.

    Letter heights are the (signed) values; positions are labelled in the gene's
    coordinates.  ``sites`` (``(start, end)`` pairs) are shaded.

    Parameters
    ----------
    contrib : numpy.ndarray
        ``(L, 4)`` float attributions of one gene, channels A, C, G, T.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; without one a new Figure is made.
    start, end : int
        The drawn window ``[start, end)``, 0-based (``end`` ``None``: to the end;
        clipped to ``L``).
    title : str, optional
        Title shown at the axes' top left.
    ylim : tuple of float, optional
        ``(bottom, top)`` y limits (default: fitted to the drawn letters).
    sites : sequence of tuple of int
        ``(start, end)`` regions to shade grey.
    ylabel : str
        The y-axis label.

    Returns
    -------
    matplotlib.figure.Figure
        The figure the logo is drawn on (``ax``'s figure when given).

    Raises
    ------
    DeepDifEInputError
        If ``contrib`` is not ``(L, 4)`` or the window is empty.
    """
    a = _check_track(contrib, "contrib")
    end = a.shape[0] if end is None else min(end, a.shape[0])
    if not 0 <= start < end:
        raise DeepDifEInputError(f"empty window [{start}, {end}) for a {a.shape[0]}-bp track")
    fig, ax = figure_axes(ax, (max(4.0, (end - start) / 12), 1.8))
    _draw_glyphs(ax, a, start, end)
    for s, e in sites:
        if e > start and s < end:
            ax.axvspan(max(s, start) - 0.5, min(e, end) - 0.5, color="#999999", alpha=0.2, lw=0)
    ax.set_xlim(start - 0.5, end - 0.5)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, fontsize=9, loc="left")
    return fig


def _draw_glyphs(ax, a: np.ndarray, start: int, end: int) -> None:
    """Stack logomaker glyphs of the non-zero values (largest nearest the axis is logomaker's ``big_on_top``).

    ``logomaker.Logo`` makes a glyph for every cell, zeros included; contribution
    tracks have one non-zero base per position, so drawing only those is ~4x faster.
    """
    from logomaker import Glyph

    for p in range(start, end):
        vals = a[p]
        up, down = 0.0, 0.0
        for i in np.argsort(np.abs(vals))[::-1]:
            v = float(vals[i])
            if v == 0.0 or not np.isfinite(v):
                continue
            floor, ceiling = (up, up + v) if v > 0 else (down + v, down)
            if v > 0:
                up += v
            else:
                down += v
            Glyph(p, ALPHABET[i], floor=floor, ceiling=ceiling, ax=ax, color=COLORS[ALPHABET[i]], zorder=3)
    ax.axhline(0.0, color="black", lw=0.5, zorder=2)
    lo = min(0.0, float(np.minimum(a[start:end], 0).sum(axis=1).min()))
    hi = max(0.0, float(np.maximum(a[start:end], 0).sum(axis=1).max()))
    if hi > lo:
        ax.set_ylim(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))


def windows(length: int, window: int | None) -> list[tuple[int, int]]:
    """Split ``[0, length)`` into consecutive windows of at most ``window`` bp.

    Parameters
    ----------
    length : int
        Length of the track in bp.
    window : int or None
        Largest window size (``None`` or ``>= length``: one window).

    Returns
    -------
    list of tuple of int
        ``(start, end)`` pairs, 0-based, end exclusive, covering ``[0, length)``.

    Raises
    ------
    DeepDifEInputError
        If ``window < 1``.
    """
    if window is None or window >= length:
        return [(0, length)]
    if window < 1:
        raise DeepDifEInputError(f"window must be >= 1, got {window}")
    return [(s, min(s + window, length)) for s in range(0, length, window)]


def plot_gene(
    contrib_fwd: np.ndarray,
    contrib_rev: np.ndarray,
    *,
    window: int | None = 200,
    gene_id: str = "",
    probability: float | None = None,
    sites: Sequence[tuple[int, int]] = (),
    span: tuple[int, int] | None = None,
    diff: np.ndarray | None = None,
    title: str | None = None,
    positions: np.ndarray | None = None,
    xlabel: str | None = None,
) -> Figure:
    """DeepDifE-style figure of one gene: forward and reverse-strand logos, long genes in windows.

    Parameters
    ----------
    contrib_fwd, contrib_rev : numpy.ndarray
        ``(L, 4)`` contributions explaining the forward-strand input and the
        reverse-complement input (mapped onto forward coordinates).
    window : int or None
        Positions per row pair (``None``: the whole drawn part on one pair of rows).
    gene_id : str
        Shown in the title.
    probability : float, optional
        Predicted probability, shown in the title as ``(p = 0.123)``.
    sites : sequence of tuple of int
        ``(start, end)`` regions to shade (e.g. known motifs), 0-based promoter positions.
    span : tuple of int, optional
        ``(start, end)``: the part of the promoter drawn, 0-based, end exclusive
        (default: all of it); rows are windows of this part.
    diff : numpy.ndarray, optional
        ``(L, 4)`` variant − reference contributions drawn as a third track of
        each window, on its own y scale (default: none).
    title : str, optional
        The figure's title instead of ``gene_id`` and ``probability`` (shown as
        text: ``$`` is not read as mathtext).
    positions : numpy.ndarray, optional
        ``(L,)`` integers: the coordinate shown for each promoter position (e.g.
        the distance to the TSS, or genomic coordinates, which decrease along a
        minus-strand promoter).  The x ticks are then placed on round values of
        these coordinates and labelled with them, and each row's label gives its
        first and last base in them (default: promoter positions, 0-based; the
        drawing itself, ``span`` and ``sites`` stay in promoter positions).
    xlabel : str, optional
        Label of the bottom x axis (default: none).

    Returns
    -------
    matplotlib.figure.Figure
        ``2 x n_windows`` rows (``3 x n_windows`` with ``diff``); the strand
        tracks share one y scale.

    Raises
    ------
    DeepDifEInputError
        If a track is not ``(L, 4)``, the tracks differ in shape, the span is empty
        or ``positions`` is not ``(L,)`` integers.
    """
    fwd = _check_track(contrib_fwd, "contrib_fwd")
    rev = _check_track(contrib_rev, "contrib_rev")
    if fwd.shape != rev.shape:
        raise DeepDifEInputError(f"forward {fwd.shape} and reverse {rev.shape} tracks differ in shape")
    length = fwd.shape[0]
    s0, e0 = (0, length) if span is None else (int(span[0]), min(int(span[1]), length))
    if not 0 <= s0 < e0:
        raise DeepDifEInputError(f"empty span [{s0}, {e0}) for a {length}-bp track")
    tracks = [("forward", fwd), ("reverse", rev)]
    if diff is not None:
        d = _check_track(diff, "diff")
        if d.shape != fwd.shape:
            raise DeepDifEInputError(f"variant difference {d.shape} and tracks {fwd.shape} differ in shape")
        tracks.append(("variant − ref", d))
    coord = None if positions is None else _check_positions(positions, length)
    spans = [(s0 + a, s0 + b) for a, b in windows(e0 - s0, window)]
    width = max(6.0, min(24.0, (spans[0][1] - spans[0][0]) / 9))
    fig = Figure(figsize=(width, 1.5 * len(tracks) * len(spans) + 0.4), layout="constrained")
    axes = fig.subplots(len(tracks) * len(spans), 1, squeeze=False)[:, 0]
    shown = [t[s0:e0] for _, t in tracks[:2]]
    lo = min(0.0, *(float(np.minimum(t, 0).sum(axis=1).min()) for t in shown))
    hi = max(1e-9, *(float(np.maximum(t, 0).sum(axis=1).max()) for t in shown))
    pad = 0.05 * (hi - lo)
    k = 0
    for s, e in spans:
        where = f" {s}-{e}" if coord is None else f" {coord[s]:,}–{coord[e - 1]:,}"
        where = where if len(spans) > 1 else ""
        for name, t in tracks:
            ylim = (lo - pad, hi + pad) if name != "variant − ref" else None
            plot_attribution_logo(t, axes[k], start=s, end=e, ylim=ylim, sites=sites)
            axes[k].set_ylabel(f"{name}{where}", fontsize=8)
            if coord is not None:
                ticks = coordinate_ticks(coord, s, e)
                axes[k].set_xticks(ticks, [f"{coord[p]:,}" for p in ticks])
            k += 1
    if xlabel:
        axes[-1].set_xlabel(xlabel, fontsize=8)
    if title is None:
        title = gene_id or "gene"
        if probability is not None:
            title += f"  (p = {probability:.3f})"
    fig.suptitle(title.replace("$", r"\$"), fontsize=10, x=0.01, ha="left")
    return fig


def _check_positions(positions: np.ndarray, length: int) -> np.ndarray:
    p = np.asarray(positions)
    if p.shape != (length,) or not np.issubdtype(p.dtype, np.integer):
        raise DeepDifEInputError(f"positions must be ({length},) integers (one per position), got {p.dtype} {p.shape}")
    return p.astype(np.int64)


def coordinate_ticks(positions: np.ndarray, start: int, end: int, *, nbins: int = 10) -> list[int]:
    """Promoter positions in ``[start, end)`` whose coordinate is a round value (tick places).

    Parameters
    ----------
    positions : numpy.ndarray
        ``(L,)`` integer coordinate of each promoter position (increasing or decreasing).
    start, end : int
        The window ``[start, end)`` in promoter positions, 0-based.
    nbins : int
        About how many ticks (matplotlib's ``MaxNLocator``).

    Returns
    -------
    list of int
        Promoter positions, increasing, whose coordinates are multiples of one round step.
    """
    from matplotlib.ticker import MaxNLocator

    v = np.asarray(positions[start:end], dtype=np.int64)
    if not len(v):
        return []
    values = MaxNLocator(nbins=nbins, integer=True).tick_values(int(v.min()), int(v.max()))
    step = round(float(values[1] - values[0])) if len(values) > 1 else 1
    return (start + np.flatnonzero(v % max(step, 1) == 0)).tolist()


def plot_ism_heatmap(
    delta: np.ndarray,
    ax=None,
    *,
    start: int = 0,
    end: int | None = None,
    title: str | None = None,
    label: str = "Δ logit",
) -> Figure:
    """Heatmap of in-silico mutagenesis effects ``(L, 4)``: rows A, C, G, T, diverging colours around 0.

    Parameters
    ----------
    delta : numpy.ndarray
        ``(L, 4)`` float effects of each substitution (e.g. Δ logit).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; without one a new Figure is made.
    start, end : int
        The drawn window ``[start, end)``, 0-based (``end`` ``None``: to the end).
    title : str, optional
        Title shown at the axes' top left.
    label : str
        The colour bar's label.

    Returns
    -------
    matplotlib.figure.Figure
        The figure with the heatmap and a colour bar symmetric around 0.

    Raises
    ------
    DeepDifEInputError
        If ``delta`` is not ``(L, 4)`` or the window is empty.
    """
    d = _check_track(delta, "delta")
    end = d.shape[0] if end is None else min(end, d.shape[0])
    if not 0 <= start < end:
        raise DeepDifEInputError(f"empty window [{start}, {end}) for a {d.shape[0]}-bp track")
    fig, ax = figure_axes(ax, (max(4.0, (end - start) / 15), 1.8))
    lim = float(np.abs(d[start:end]).max()) or 1.0
    im = ax.imshow(
        d[start:end].T,
        aspect="auto",
        cmap="RdBu_r",
        vmin=-lim,
        vmax=lim,
        interpolation="nearest",
        extent=(start - 0.5, end - 0.5, 3.5, -0.5),
    )
    ax.set_yticks(range(4), ALPHABET)
    ax.tick_params(labelsize=7)
    fig.colorbar(im, ax=ax, label=label, shrink=0.8)
    if title:
        ax.set_title(title, fontsize=9, loc="left")
    return fig


def save_figure(fig: Figure, path: str | Path, *, fmt: str | None = None) -> Path:
    """Save ``fig`` atomically (temp file + rename).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to save.
    path : str or pathlib.Path
        Destination file.
    fmt : str, optional
        Image format (default: the suffix of ``path``, ``svg`` without one).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    fmt = fmt or path.suffix.lstrip(".") or "svg"
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt)
    atomic_write_bytes(path, buf.getvalue())
    return path
