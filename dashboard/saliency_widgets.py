"""Plotly figures of the Saliency page: attribution tracks (letters or bars), ISM heat map, motif boxes.

Streamlit-free and TensorFlow-free: pure functions of numpy arrays and tables, so
they are tested without a server.  Positions are **promoter coordinates** (0-based
index into the model's input sequence); axis labels may show other coordinates
(distance to the TSS, genomic) through :class:`AxisLabels`, made from the page's
:class:`dashboard.coordinates.CoordinateSystem` (the one place that converts them).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.coordinates import (  # noqa: F401  (genomic_positions, parse_coords: re-exported)
    CoordinateSystem,
    Coords,
    genomic_positions,
    parse_coords,
)
from deepdife_core.plot.figures import ALPHABET, COLORS

STRAND_COLORS = {"+": "#3949ab", "-": "#ef6c00"}
HIGHLIGHT_COLOR = "#fdd835"
#: letters are drawn for windows up to this many bp; wider windows fall back to bars
MAX_LETTER_WINDOW = 1500
#: at most this many motif lanes are drawn (hits that do not fit are left out and counted)
MAX_LANES = 8


# ----------------------------------------------------------------------------- coordinates


@dataclass(frozen=True)
class AxisLabels:
    """How the x axis is labelled: a title and a label for each promoter position (``None``: the position)."""

    title: str
    labels: tuple[str, ...] | None = None
    #: how a promoter range ``[start, end)`` is written (``None``: ``start-end``)
    span: Callable[[int, int], str] | None = None

    def label(self, pos: int) -> str:
        return str(pos) if self.labels is None else self.labels[pos]

    def range(self, start: int, end: int) -> str:
        return f"{start}-{end}" if self.span is None else self.span(start, end)


def axis_labels(mode: str, length: int, *, coords: Coords | None = None, pad_side: str = "left") -> AxisLabels:
    """Axis labelling for ``mode`` = ``"promoter"``, ``"tss"`` (distance to the TSS) or ``"genomic"``."""
    return system_axis(CoordinateSystem.make(mode, length, coords=coords, pad_side=pad_side))


def system_axis(system: CoordinateSystem) -> AxisLabels:
    """The axis of a :class:`~dashboard.coordinates.CoordinateSystem`: its title and position labels."""
    return AxisLabels(system.title, system.labels(), system.span)


def _nice_step(span: int, target: int = 10) -> int:
    raw = max(1.0, span / target)
    mag = 10 ** int(np.floor(np.log10(raw)))
    return int(next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw))


# ----------------------------------------------------------------------------- letters


#: outline points closer than this (in the unit box of a letter) to the simplified outline are dropped
GLYPH_TOLERANCE = 0.015


def simplify_polygon(points: np.ndarray, tolerance: float) -> np.ndarray:
    """Ramer-Douglas-Peucker: the points of a polyline ``(n, 2)`` needed to stay within ``tolerance`` of it.

    The first and last points are kept (a closed outline stays closed).
    """
    points = np.asarray(points, dtype=float)
    if len(points) < 3:
        return points
    keep = np.zeros(len(points), dtype=bool)
    keep[[0, -1]] = True
    stack = [(0, len(points) - 1)]
    while stack:
        i, j = stack.pop()
        if j - i < 2:
            continue
        a, b = points[i], points[j]
        seg = b - a
        rel = points[i + 1 : j] - a
        norm = float(np.hypot(*seg))
        dist = np.abs(seg[0] * rel[:, 1] - seg[1] * rel[:, 0]) / norm if norm > 0 else np.hypot(rel[:, 0], rel[:, 1])
        k = int(np.argmax(dist))
        if dist[k] > tolerance:
            keep[i + 1 + k] = True
            stack += [(i, i + 1 + k), (i + 1 + k, j)]
    return points[keep]


@lru_cache(maxsize=8)
def glyph_polygons(letter: str) -> tuple[np.ndarray, ...]:
    """Outline polygons of a bold sans-serif letter, scaled to the unit box ``[0, 1]²``.

    Simplified to within :data:`GLYPH_TOLERANCE` of the font's outline: C and G have ~40 points, which
    600 positions × 2-3 tracks make the bulk of the figure the browser draws; about half of them suffice.
    """
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    path = TextPath((0, 0), letter, size=1, prop=FontProperties(family="DejaVu Sans", weight="bold"))
    polys = [np.asarray(p, dtype=float) for p in path.to_polygons()]
    pts = np.concatenate(polys)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    return tuple(simplify_polygon((p - lo) / (hi - lo), GLYPH_TOLERANCE) for p in polys)


def _template(letter: str) -> np.ndarray:
    """The letter's polygons as one ``(T, 2)`` array, each polygon closed and followed by a NaN row."""
    rows = []
    for p in glyph_polygons(letter):
        rows += [p, p[:1], np.full((1, 2), np.nan)]
    return np.concatenate(rows)


def stack_track(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Floor and ceiling ``(L, 4)`` of each base's letter: positives stacked up, negatives down.

    The largest absolute value sits next to the axis (logomaker's order for one
    non-zero base per position, and a stable order otherwise).
    """
    a = np.asarray(a, dtype=float)
    order = np.argsort(-np.abs(a), axis=1, kind="stable")
    v = np.take_along_axis(a, order, axis=1)
    up = np.cumsum(np.where(v > 0, v, 0.0), axis=1)
    down = np.cumsum(np.where(v < 0, v, 0.0), axis=1)
    floor_s = np.where(v > 0, up - v, down)
    ceil_s = np.where(v > 0, up, down - v)
    floor, ceil = np.empty_like(a), np.empty_like(a)
    np.put_along_axis(floor, order, floor_s, axis=1)
    np.put_along_axis(ceil, order, ceil_s, axis=1)
    return floor, ceil


def letter_traces(a: np.ndarray, start: int, *, min_fraction: float = 0.005, width: float = 0.9) -> list[go.Scatter]:
    """One filled scatter trace per base drawing its letters scaled to the values of ``a (n, 4)``.

    ``a`` covers positions ``start .. start + n - 1``; values below ``min_fraction``
    of the largest are not drawn (invisible anyway).
    """
    a = np.asarray(a, dtype=float)
    floor, ceil = stack_track(a)
    cutoff = min_fraction * (float(np.abs(a).max()) if a.size else 0.0)
    traces = []
    for b, letter in enumerate(ALPHABET):
        idx = np.flatnonzero((np.abs(a[:, b]) > cutoff) & (a[:, b] != 0))
        tpl = _template(letter)
        if len(idx):
            x = (start + idx)[:, None] - width / 2 + width * tpl[None, :, 0]
            y = floor[idx, b][:, None] + (ceil[idx, b] - floor[idx, b])[:, None] * tpl[None, :, 1]
            x, y = np.round(x.ravel(), 3).astype(np.float32), np.round(y.ravel(), 6).astype(np.float32)
        else:
            x = y = np.zeros(0, dtype=np.float32)
        traces.append(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                fill="toself",
                fillcolor=COLORS[letter],
                line={"width": 0, "color": COLORS[letter]},
                name=letter,
                legendgroup=letter,
                hoverinfo="skip",
                showlegend=False,
            )
        )
    return traces


def bar_traces(a: np.ndarray, start: int, axis: AxisLabels | None = None) -> list[go.Bar]:
    """Stacked bars (one trace per base) of ``a (n, 4)`` at positions ``start ..`` (hover in ``axis``'s labels)."""
    x = np.arange(start, start + len(a))
    labels = [axis.label(int(p)) for p in x] if axis is not None and axis.labels is not None else None
    where = "%{customdata}" if labels is not None else "%{x}"
    return [
        go.Bar(
            x=x,
            y=np.asarray(a[:, b], dtype=np.float32),
            name=letter,
            legendgroup=letter,
            marker={"color": COLORS[letter], "line": {"width": 0}},
            width=0.9,
            showlegend=False,
            customdata=labels,
            hovertemplate=f"{where} {letter}: %{{y:.4f}}<extra></extra>",
        )
        for b, letter in enumerate(ALPHABET)
    ]


def _hover_trace(a: np.ndarray, start: int, seq: str, axis: AxisLabels, name: str) -> go.Scatter:
    """Invisible markers carrying one hover label per position (base, value, coordinate)."""
    n = len(a)
    pos = np.arange(start, start + n)
    total = np.asarray(a, dtype=float).sum(axis=1)
    text = [
        f"{axis.label(p)} · {seq[p]} · {name} {t:+.4f}" if axis.labels is not None else f"{p} · {seq[p]} · {t:+.4f}"
        for p, t in zip(pos, total, strict=True)
    ]
    return go.Scatter(
        x=pos,
        y=total.astype(np.float32),
        mode="markers",
        marker={"size": 6, "opacity": 0},
        hovertext=text,
        hoverinfo="text",
        showlegend=False,
        name=name,
    )


# ----------------------------------------------------------------------------- motif boxes


def assign_lanes(starts: np.ndarray, ends: np.ndarray, *, gap: int = 1) -> np.ndarray:
    """Greedy lanes for intervals ``[start, end)`` so that boxes in one lane do not overlap (by start)."""
    order = np.argsort(starts, kind="stable")
    lane_end: list[int] = []
    lanes = np.zeros(len(starts), dtype=np.int64)
    for i in order:
        for k, e in enumerate(lane_end):
            if starts[i] >= e + gap:
                lanes[i], lane_end[k] = k, ends[i]
                break
        else:
            lanes[i] = len(lane_end)
            lane_end.append(ends[i])
    return lanes


def motif_traces(hits: pd.DataFrame, axis: AxisLabels | None = None) -> tuple[list[go.Scatter], int, int]:
    """Labelled boxes of motif hits in lanes (one filled trace per strand, one label trace).

    The hover text gives each hit's range in ``axis``'s coordinates (default: promoter positions).

    Returns the traces, the number of lanes used and the number of hits left out
    (beyond :data:`MAX_LANES`).
    """
    if hits is None or hits.empty:
        return [], 0, 0
    lanes = assign_lanes(hits["start"].to_numpy(), hits["end"].to_numpy())
    shown = lanes < MAX_LANES
    h = hits.assign(lane=lanes)[shown]
    traces: list[go.Scatter] = []
    for strand, color in STRAND_COLORS.items():
        part = h[h["strand"] == strand]
        if part.empty:
            continue
        x0 = part["start"].to_numpy() - 0.5
        x1 = part["end"].to_numpy() - 0.5
        y0 = -part["lane"].to_numpy() - 0.9
        y1 = -part["lane"].to_numpy() - 0.1
        nan = np.full(len(part), np.nan)
        xs = np.stack([x0, x1, x1, x0, x0, nan], axis=1).ravel()
        ys = np.stack([y0, y0, y1, y1, y0, nan], axis=1).ravel()
        traces.append(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                fill="toself",
                fillcolor=color,
                opacity=0.35,
                line={"width": 1, "color": color},
                hoverinfo="skip",
                showlegend=False,
                name=f"motifs {strand}",
            )
        )
    labels = [html.escape(str(n) or str(i)) for n, i in zip(h["motif_name"], h["motif_id"], strict=True)]
    axis = axis or AxisLabels("")
    hover = [
        html.escape(f"{i} {n} ({s}) {axis.range(int(a), int(b))} · p = {p:.1e} · {site}")
        for i, n, s, a, b, p, site in zip(
            h["motif_id"], h["motif_name"], h["strand"], h["start"], h["end"], h["p_value"], h["site"], strict=True
        )
    ]
    traces.append(
        go.Scatter(
            x=(h["start"].to_numpy() + h["end"].to_numpy() - 1) / 2,
            y=-h["lane"].to_numpy() - 0.5,
            mode="text",
            text=labels,
            textfont={"size": 10, "color": "#212121"},
            hovertext=hover,
            hoverinfo="text",
            showlegend=False,
            name="motif hits",
        )
    )
    return traces, int(min(lanes.max() + 1, MAX_LANES)), int((~shown).sum())


# ----------------------------------------------------------------------------- the figure


def _ylim(*tracks: np.ndarray) -> tuple[float, float]:
    lo = min(float(np.minimum(t, 0).sum(axis=1).min()) for t in tracks if len(t))
    hi = max(float(np.maximum(t, 0).sum(axis=1).max()) for t in tracks if len(t))
    if hi <= lo:
        lo, hi = -1.0, 1.0
    pad = 0.06 * (hi - lo)
    return lo - pad, hi + pad


def saliency_figure(
    fwd: np.ndarray,
    rev: np.ndarray,
    sequence: str,
    *,
    window: tuple[int, int] | None = None,
    view: str = "letters",
    diff: np.ndarray | None = None,
    ism: np.ndarray | None = None,
    ism_label: str = "Δ logit",
    hits: pd.DataFrame | None = None,
    highlight: tuple[int, int] | None = None,
    axis: AxisLabels | None = None,
    value_label: str = "contribution",
    meta: dict | None = None,
    revision: str | None = None,
) -> go.Figure:
    """The interactive view of one gene, all rows on one shared x axis (promoter coordinates).

    Parameters
    ----------
    fwd, rev
        ``(L, 4)`` contributions explaining the forward strand and the reverse
        complement (on forward coordinates).
    sequence
        The ``L``-bp sequence (hover labels).
    window
        ``[start, end)`` drawn (default: all); zoom and pan work inside it.
    view
        ``"letters"`` (letters scaled by contribution) or ``"bars"``; windows wider
        than :data:`MAX_LETTER_WINDOW` bp are drawn as bars.
    diff
        ``(L, 4)`` variant minus reference contributions: an extra row.
    ism
        ``(L, 4)`` in-silico mutagenesis effects: a heat map row (A, C, G, T).
    hits
        Motif hits (``start, end, strand, motif_id, motif_name, p_value, site``): boxes in lanes on top.
    highlight
        ``[start, end)`` shaded on every row.
    axis
        Labels of the x axis (:func:`axis_labels`).
    meta
        Stored in ``layout.meta`` (not drawn); the browser tests read which gene is drawn from it.
    revision
        Plotly ``uirevision``: while it stays the same, a zoom made by the user survives redraws
        (e.g. after an edit of the sequence).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    L = len(fwd)
    s, e = window or (0, L)
    s, e = max(0, int(s)), min(L, int(e))
    axis = axis or AxisLabels("position in the promoter (bp, 0-based)")
    if view == "letters" and e - s > MAX_LETTER_WINDOW:
        view = "bars"
    shown_hits = hits[(hits["end"] > s) & (hits["start"] < e)] if hits is not None else None
    motif, n_lanes, _ = motif_traces(shown_hits, axis)
    rows: list[tuple[str, float]] = []
    if motif:
        rows.append(("motifs", 0.08 + 0.035 * n_lanes))
    rows += [("forward", 0.3), ("reverse", 0.3)]
    if diff is not None:
        rows.append(("variant − reference", 0.25))
    if ism is not None:
        rows.append(("ISM", 0.18))
    fig = make_subplots(
        rows=len(rows),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.025,
        row_heights=[h for _, h in rows],
    )
    row_of = {name: i + 1 for i, (name, _) in enumerate(rows)}
    # traces, axes and shapes are collected and given to plotly at once: each add_trace / update_yaxes /
    # add_vrect call validates and walks the whole figure (most of the build time of the page's figure)
    traces: list = []
    trace_rows: list[int] = []
    axes: dict[str, dict] = {}

    def yaxis(r: int) -> dict:
        return axes.setdefault(f"yaxis{'' if r == 1 else r}", {})

    def xaxis(r: int) -> dict:
        return axes.setdefault(f"xaxis{'' if r == 1 else r}", {})

    def add(trs, r: int) -> None:
        traces.extend(trs)
        trace_rows.extend([r] * len(trs))

    ylim = _ylim(fwd[s:e], rev[s:e])
    for name, a in (("forward", fwd), ("reverse", rev), ("variant − reference", diff)):
        if a is None:
            continue
        r = row_of[name]
        add(letter_traces(a[s:e], s) if view == "letters" else bar_traces(a[s:e], s, axis), r)
        if view == "letters":
            add([_hover_trace(a[s:e], s, sequence, axis, name)], r)
        yaxis(r).update(
            title={"text": "Δ " + value_label if name.startswith("variant") else f"{name}"},
            range=list(ylim if name != "variant − reference" else _ylim(a[s:e])),
            fixedrange=True,
            zeroline=True,
            zerolinecolor="#9e9e9e",
        )
    if motif:
        add(motif, row_of["motifs"])
        yaxis(row_of["motifs"]).update(
            range=[-n_lanes - 0.05, 0.05],
            showticklabels=False,
            title={"text": "motifs"},
            fixedrange=True,
            showgrid=False,
        )
    if ism is not None:
        r = row_of["ISM"]
        z = np.asarray(ism[s:e], dtype=np.float32).T
        lim = float(np.abs(z).max()) or 1.0
        lo, hi = fig.get_subplot(r, 1).yaxis.domain
        add(
            [
                go.Heatmap(
                    z=z,
                    x=np.arange(s, e),
                    y=list(ALPHABET),
                    colorscale="RdBu_r",
                    zmid=0.0,
                    zmin=-lim,
                    zmax=lim,
                    colorbar={
                        "title": {"text": ism_label, "side": "right"},
                        "thickness": 10,
                        "len": hi - lo,
                        "y": (lo + hi) / 2,
                        "yanchor": "middle",
                    },
                    customdata=None if axis.labels is None else [[axis.label(p) for p in range(s, e)]] * 4,
                    hovertemplate=("%{x}" if axis.labels is None else "%{customdata}")
                    + " → %{y}: %{z:.4f}<extra>ISM</extra>",
                    name="ISM",
                )
            ],
            r,
        )
        yaxis(r).update(title={"text": "ISM"}, fixedrange=True, autorange="reversed")
    fig.add_traces(traces, rows=trace_rows, cols=[1] * len(traces))
    shapes = []
    if highlight is not None:
        hs, he = highlight
        if he > s and hs < e:
            for r in range(1, len(rows) + 1):
                shapes.append(
                    {
                        "type": "rect",
                        "xref": f"x{'' if r == 1 else r}",
                        "yref": f"y{'' if r == 1 else r} domain",
                        "x0": max(hs, s) - 0.5,
                        "x1": min(he, e) - 0.5,
                        "y0": 0,
                        "y1": 1,
                        "fillcolor": HIGHLIGHT_COLOR,
                        "opacity": 0.25,
                        "line": {"width": 0},
                        "layer": "below",
                    }
                )
    for r in range(1, len(rows) + 1):
        xaxis(r).update(range=[s - 0.5, e - 0.5], showgrid=False)
    bottom = xaxis(len(rows))
    bottom["title"] = {"text": axis.title}
    if axis.labels is not None:
        # other coordinates are labels of promoter positions: ticks at round steps of the window (plotly's own
        # ticks, used for promoter positions, follow the zoom; narrow the window for finer labels here)
        step = _nice_step(e - s)
        ticks = [p for p in range(s - s % step, e, step) if s <= p < e]
        bottom.update(tickmode="array", tickvals=ticks, ticktext=[axis.label(p) for p in ticks])
    fig.update_layout(axes, shapes=shapes or None)
    fig.update_layout(
        height=int(140 + 150 * sum(h for _, h in rows) / 0.3),
        margin={"l": 70, "r": 30, "t": 20, "b": 50},
        barmode="relative",
        bargap=0.0,
        dragmode="zoom",
        hovermode="closest",
        plot_bgcolor="white",
        showlegend=False,
        meta=meta,
        uirevision=revision,
    )
    return fig
