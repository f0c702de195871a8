"""Shared widgets: forms that return core config objects, plot panels (plotly), error display.

Nothing here imports TensorFlow.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard.paths import logs_dir
from deepdife_core.config import DatasetConfig, ModelConfig, TrainConfig
from deepdife_core.errors import ArtifactError, DeepDifEInputError
from deepdife_core.io import DEThresholds

log = logging.getLogger("deepdife.dashboard")

CLASS_COLORS = {"responsive": "#d62728", "non-responsive": "#1f77b4", "excluded": "#9e9e9e"}


# ----------------------------------------------------------------------------- errors


def log_bug(exc: BaseException) -> str:
    """Write the traceback of an unexpected error to ``workspace/logs/dashboard.log``; returns a reference id."""
    ref = uuid.uuid4().hex[:8]
    try:
        with open(logs_dir() / "dashboard.log", "a", encoding="utf-8") as fh:
            fh.write(f"\n[{datetime.now(UTC).isoformat(timespec='seconds')}] ref {ref}\n")
            fh.write("".join(traceback.format_exception(exc)))
    except OSError:
        log.exception("could not write the dashboard log (ref %s)", ref)
    return ref


def show_bug(ref: str) -> None:
    """The short apology shown instead of a traceback."""
    st.error(
        f"Sorry, something went wrong inside DeepDifE (reference {ref}). "
        "Your data and models are safe; please try again, and report the reference if it happens again."
    )


@contextmanager
def user_errors() -> Iterator[None]:
    """Show input errors as ``st.error`` with their message and bugs as a short apology; never a traceback.

    Streamlit's own control flow (rerun / stop) is a ``BaseException`` and passes through.
    """
    try:
        yield
    except (DeepDifEInputError, ArtifactError) as exc:
        st.error(str(exc))
    except Exception as exc:
        show_bug(log_bug(exc))


# ----------------------------------------------------------------------------- forms

TRAIN_HELP = {
    "epochs": "Maximum passes over the training genes; early stopping usually ends sooner.",
    "batch_size": "Genes per gradient step.",
    "learning_rate": "Adam step size.",
    "early_stopping_patience": "Stop after this many epochs without a better validation loss (0 = never).",
    "reduce_lr_patience": "Divide the learning rate after this many epochs without improvement (0 = never).",
    "reduce_lr_factor": "Factor applied to the learning rate on a plateau.",
    "min_learning_rate": "The learning rate is never reduced below this.",
    "val_fraction": "Share of gene families used for validation (early stopping).",
    "test_fraction": "Share of gene families held out for the final test metrics.",
    "seed": "Random seed: the same seed and data give the same model.",
    "rc_augment": "Probability of showing a training gene as its reverse complement.",
}
MODEL_HELP = {
    "n_conv": "Number of convolution layers.",
    "filters": "Filters of the first convolution (motif detectors).",
    "kernel_size": "Width in bp of the first convolution's filters (motif length).",
    "pool_size": "Max-pooling width after the first convolution.",
    "conv_kernel": "Kernel width of the later convolutions.",
    "conv_stride": "Stride of the later convolutions.",
    "dropout": "Dropout rate after each convolution and dense layer.",
    "dense_units": "Units of the dense layers, comma separated (e.g. 256, 128).",
    "l2": "L2 penalty on all kernels.",
}
_TRAIN_FLOAT_FMT = {"learning_rate": "%.6f", "min_learning_rate": "%.8f", "reduce_lr_factor": "%.3f"}


def _number(label: str, default: float | int, key: str, help_text: str, fmt: str | None = None):
    if isinstance(default, bool):
        return st.checkbox(label, value=default, key=key, help=help_text)
    if isinstance(default, int):
        return int(st.number_input(label, value=default, step=1, key=key, help=help_text))
    return float(st.number_input(label, value=float(default), key=key, help=help_text, format=fmt or "%.4f"))


def train_config_form(prefix: str = "w.train") -> tuple[ModelConfig, TrainConfig]:
    """Inputs for every :class:`TrainConfig` and :class:`ModelConfig` field (call inside ``st.form``).

    Returns
    -------
    tuple of ModelConfig, TrainConfig
        Built from the inputs; invalid combinations raise ``DeepDifEInputError``.
    """
    tc_default, mc_default = TrainConfig(), ModelConfig()
    tvals: dict = {}
    basic = ("epochs", "batch_size", "learning_rate", "val_fraction", "test_fraction", "seed")
    cols = st.columns(3)
    for i, name in enumerate(basic):
        with cols[i % 3]:
            tvals[name] = _number(
                name.replace("_", " ").capitalize(),
                getattr(tc_default, name),
                f"{prefix}.{name}",
                TRAIN_HELP[name],
                _TRAIN_FLOAT_FMT.get(name),
            )
    with st.expander("Optimisation details"):
        cols = st.columns(3)
        rest = [f.name for f in fields(TrainConfig) if f.name not in basic]
        for i, name in enumerate(rest):
            with cols[i % 3]:
                tvals[name] = _number(
                    name.replace("_", " ").capitalize(),
                    getattr(tc_default, name),
                    f"{prefix}.{name}",
                    TRAIN_HELP.get(name, ""),
                    _TRAIN_FLOAT_FMT.get(name),
                )
    mvals: dict = {}
    with st.expander("Network architecture"):
        cols = st.columns(3)
        names = [f.name for f in fields(ModelConfig) if f.name not in ("input_length", "pad_left", "pad_right")]
        for i, name in enumerate(names):
            with cols[i % 3]:
                default = getattr(mc_default, name)
                if name == "dense_units":
                    text = st.text_input(
                        "Dense units", ", ".join(map(str, default)), key=f"{prefix}.{name}", help=MODEL_HELP[name]
                    )
                    mvals[name] = text
                else:
                    mvals[name] = _number(
                        name.replace("_", " ").capitalize(),
                        default,
                        f"{prefix}.{name}",
                        MODEL_HELP[name],
                        "%.2e" if name == "l2" else None,
                    )
    return _build_configs(mvals, tvals)


def _build_configs(mvals: dict, tvals: dict) -> tuple[ModelConfig, TrainConfig]:
    text = str(mvals.get("dense_units", "256, 128"))
    try:
        units = tuple(int(u) for u in text.replace(";", ",").split(",") if u.strip())
    except ValueError as exc:
        raise DeepDifEInputError(f"dense units {text!r}: give whole numbers separated by commas") from exc
    if not units:
        raise DeepDifEInputError("dense units: give at least one layer size, e.g. 256, 128")
    mvals = {**mvals, "dense_units": units}
    # input_length is set from the dataset at training time; a long placeholder keeps the kernel check quiet
    return ModelConfig(input_length=100_000, **mvals), TrainConfig(**tvals)


def dataset_config_inputs(prefix: str) -> DatasetConfig:
    """Length / padding / N-limit inputs for building a dataset."""
    d = DatasetConfig()
    with st.expander("Sequence length settings"):
        c1, c2, c3 = st.columns(3)
        length = c1.number_input(
            "Sequence length (bp)",
            min_value=20,
            max_value=20000,
            value=d.length,
            step=10,
            key=f"{prefix}.length",
            help="Every promoter is padded with N or trimmed to this length, keeping the TSS-proximal end.",
        )
        side = c2.selectbox(
            "Pad / trim side",
            ["left", "right"],
            key=f"{prefix}.pad_side",
            help="'left' = sequences end at the TSS (upstream promoters): padding and trimming happen on the left.",
        )
        max_n = c3.slider(
            "Max N fraction",
            0.0,
            1.0,
            d.max_n_fraction,
            0.05,
            key=f"{prefix}.max_n",
            help="Genes whose fitted sequence has more N than this are dropped.",
        )
    return DatasetConfig(length=int(length), pad_side=side, max_n_fraction=float(max_n))


def de_threshold_inputs(prefix: str) -> DEThresholds:
    """Sliders for :class:`~deepdife_core.io.DEThresholds`."""
    d = DEThresholds()
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Responsive (label 1)**")
        lfc_min = st.slider("|log2FC| at least", 0.0, 5.0, d.lfc_min, 0.1, key=f"{prefix}.lfc_min")
        padj_max = st.select_slider(
            "adjusted p at most",
            options=[0.001, 0.005, 0.01, 0.05, 0.1, 0.2],
            value=d.padj_max,
            key=f"{prefix}.padj_max",
        )
        direction = st.radio(
            "Direction",
            ["both", "up", "down"],
            horizontal=True,
            key=f"{prefix}.direction",
            help="Count only up-regulated, only down-regulated, or both as responsive.",
        )
    with c2:
        st.markdown("**Non-responsive (label 0)**")
        lfc_neg_max = st.slider("|log2FC| at most", 0.0, 5.0, d.lfc_neg_max, 0.1, key=f"{prefix}.lfc_neg_max")
        padj_neg_min = st.slider("adjusted p at least", 0.0, 1.0, d.padj_neg_min, 0.05, key=f"{prefix}.padj_neg_min")
    return DEThresholds(
        lfc_min=float(lfc_min),
        padj_max=float(padj_max),
        lfc_neg_max=float(lfc_neg_max),
        padj_neg_min=float(padj_neg_min),
        direction=direction,
    )


# ----------------------------------------------------------------------------- plots


def _layout(fig: go.Figure, title: str, x: str, y: str, height: int = 320) -> go.Figure:
    fig.update_layout(
        title=title,
        xaxis_title=x,
        yaxis_title=y,
        height=height,
        margin={"l": 50, "r": 20, "t": 50, "b": 45},
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def history_figures(history: list[dict], label: str = "") -> tuple[go.Figure, go.Figure]:
    """Loss and auROC per epoch (train and validation), one figure each."""
    epochs = [h.get("epoch") for h in history]
    pre = f"{label} " if label else ""
    loss = go.Figure()
    auc = go.Figure()
    for key, name, dash in (("loss", "train", None), ("val_loss", "validation", "dash")):
        loss.add_scatter(
            x=epochs, y=[h.get(key) for h in history], mode="lines+markers", name=pre + name, line={"dash": dash}
        )
    for key, name, dash in (("auroc", "train", None), ("val_auroc", "validation", "dash")):
        auc.add_scatter(
            x=epochs, y=[h.get(key) for h in history], mode="lines+markers", name=pre + name, line={"dash": dash}
        )
    _layout(loss, "Loss", "epoch", "binary cross-entropy")
    _layout(auc, "auROC", "epoch", "auROC")
    auc.update_yaxes(range=[0, 1.02])
    return loss, auc


def compare_figure(histories: dict[str, list[dict]], key: str, title: str) -> go.Figure:
    """One metric (e.g. ``val_auroc``) per epoch for several models."""
    fig = go.Figure()
    for name, hist in histories.items():
        fig.add_scatter(x=[h.get("epoch") for h in hist], y=[h.get(key) for h in hist], mode="lines+markers", name=name)
    return _layout(fig, title, "epoch", key)


def roc_pr_figures(metrics: dict) -> tuple[go.Figure | None, go.Figure | None]:
    """ROC and precision-recall curves from ``metrics.json`` points (None when absent)."""
    roc = pr = None
    if metrics.get("roc_curve"):
        pts = np.asarray(metrics["roc_curve"])
        roc = go.Figure()
        roc.add_scatter(x=pts[:, 0], y=pts[:, 1], mode="lines", name=f"auROC {metrics.get('auroc', 0):.3f}")
        roc.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dot", "color": "grey"}, name="chance")
        _layout(roc, "ROC curve (test)", "false positive rate", "true positive rate")
    if metrics.get("pr_curve"):
        pts = np.asarray(metrics["pr_curve"])
        pr = go.Figure()
        pr.add_scatter(x=pts[:, 0], y=pts[:, 1], mode="lines", name=f"auPRC {metrics.get('auprc', 0):.3f}")
        if metrics.get("n"):
            base = metrics.get("n_positive", 0) / metrics["n"]
            pr.add_scatter(x=[0, 1], y=[base, base], mode="lines", line={"dash": "dot", "color": "grey"}, name="chance")
        _layout(pr, "Precision-recall (test)", "recall", "precision")
    return roc, pr


def confusion_figure(metrics: dict) -> go.Figure | None:
    """Confusion matrix heat map at threshold 0.5."""
    cm = metrics.get("confusion_matrix")
    if not cm:
        return None
    z = [[cm["tn"], cm["fp"]], [cm["fn"], cm["tp"]]]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=["predicted 0", "predicted 1"],
            y=["true 0", "true 1"],
            text=z,
            texttemplate="%{text}",
            colorscale="Blues",
            showscale=False,
        )
    )
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, "Confusion matrix (threshold 0.5)", "", "", height=300)


def histogram(values, title: str, x: str, nbins: int = 40, color=None) -> go.Figure:
    """A plain histogram (``color`` = optional group labels of the values)."""
    fig = go.Figure()
    values = pd.Series(values)
    if color is None:
        fig.add_histogram(x=values, nbinsx=nbins)
    else:
        color = pd.Series(color, index=values.index)
        for name in pd.unique(color):
            fig.add_histogram(
                x=values[color == name],
                nbinsx=nbins,
                name=str(name),
                opacity=0.7,
                marker_color=CLASS_COLORS.get(str(name)),
            )
        fig.update_layout(barmode="overlay")
    return _layout(fig, title, x, "genes", height=300)


def class_balance_figure(counts: dict[str, int]) -> go.Figure:
    """Bar chart of genes per class."""
    names = list(counts)
    fig = go.Figure(
        go.Bar(
            x=names,
            y=[counts[n] for n in names],
            text=[counts[n] for n in names],
            marker_color=[CLASS_COLORS.get(n, "#555") for n in names],
        )
    )
    return _layout(fig, "Class balance", "", "genes", height=300)


def metric_row(metrics: dict) -> None:
    """Test auROC / auPRC / accuracy / n as ``st.metric`` tiles."""
    cols = st.columns(4)
    for col, (key, label) in zip(
        cols,
        (("auroc", "auROC"), ("auprc", "auPRC"), ("accuracy", "Accuracy"), ("n", "Genes evaluated")),
        strict=True,
    ):
        val = metrics.get(key)
        col.metric(label, "—" if val is None else (f"{val:.3f}" if isinstance(val, float) else str(val)))


def chart(fig: go.Figure | None, key: str | None = None) -> None:
    """``st.plotly_chart`` at container width (nothing for None)."""
    if fig is not None:
        st.plotly_chart(fig, width="stretch", key=key)
