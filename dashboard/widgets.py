"""Shared widgets: forms that return core config objects, plot panels (plotly), error display.

Nothing here imports TensorFlow.
"""

from __future__ import annotations

import logging
import re
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
from deepdife_core.config import (
    EVOAUG_OPS,
    FIRST_ACTIVATIONS,
    HEADS,
    MONITORS,
    STRANDS,
    AugmentConfig,
    DatasetConfig,
    ModelConfig,
    TrainConfig,
)
from deepdife_core.data.io import DEThresholds
from deepdife_core.errors import ArtifactError, DeepDifEInputError

log = logging.getLogger("deepdife.dashboard")

CLASS_COLORS = {"responsive": "#d62728", "non-responsive": "#1f77b4", "excluded": "#9e9e9e"}


# ----------------------------------------------------------------------------- user text in markdown

#: always markup in Streamlit's markdown (emphasis, code, links and images, HTML, tables, strike, math, entities)
_MD_ALWAYS = re.compile(r"([\\`*\[\]<>|~$&])")
#: ``_`` opens emphasis unless it sits between two letters or digits (``gene_id`` stays as it is)
_MD_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
#: block markup at the start of a line: headings, lists, setext / thematic rules, ordered lists
_MD_LINE_START = re.compile(r"^(\d*)([#+=-]|(?<=\d)[.)])", re.M)
#: what GFM turns into a link even when escaped (``http://``, ``www.``, e-mail addresses): a word joiner breaks it
_MD_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=[wW]{3})(?=\.)|(?=@)")
_WORD_JOINER = "\u2060"


def md(value: object) -> str:
    """``value`` as literal text inside Streamlit markdown (``st.error``, ``st.caption``, labels, ...).

    Every piece of user-controlled text (file names, FASTA headers, gene IDs, URL query
    values, an imported model's provenance, error messages that quote any of them) goes
    through this before it reaches a markdown-rendering element, so an upload can never
    make a page show formatting, a link or an image (which the browser would fetch).
    Markup characters are backslash-escaped, each line is stripped (no indented code
    blocks), and ``://``, ``www.`` and ``@`` get an invisible word joiner: GFM links
    those even when escaped.
    """
    lines = [ln.strip() for ln in str(value).replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    text = "\n".join(lines)
    text = _MD_ALWAYS.sub(r"\\\1", text)
    text = _MD_UNDERSCORE.sub(r"\\_", text)
    text = _MD_LINE_START.sub(r"\1\\\2", text)
    return _MD_AUTOLINK.sub(_WORD_JOINER, text)


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
        st.error(md(exc))  # the message quotes file names, headers, IDs: shown as text, never as markup
    except Exception as exc:
        show_bug(log_bug(exc))


# ----------------------------------------------------------------------------- forms

TRAIN_HELP = {
    "epochs": "Maximum passes over the training genes; early stopping usually ends sooner.",
    "batch_size": "Genes per gradient step.",
    "learning_rate": "Adam step size.",
    "early_stopping_patience": "Stop after this many epochs without a better monitored value (0 = never).",
    "reduce_lr_patience": "Divide the learning rate after this many epochs without improvement (0 = never).",
    "reduce_lr_factor": "Factor applied to the learning rate on a plateau.",
    "min_learning_rate": "The learning rate is never reduced below this.",
    "min_delta": "Smallest drop of the monitored value that counts as an improvement for the learning-rate plateau.",
    "val_fraction": "Share of gene families used for validation (early stopping).",
    "test_fraction": "Share of gene families held out for the final test metrics.",
    "seed": "Random seed: the same seed and data give the same model.",
    "strands": (
        "forward: the promoter as given (5' end to the TSS), so the model can learn where a motif sits "
        "relative to the TSS; both: every epoch shows each gene forward and reverse-complemented (DeepDifE); "
        "random: one random strand per epoch"
    ),
    "chance_patience": (
        "While the model is no better than guessing the base rate, the learning rate is not cut and "
        "training waits up to this many epochs for it to start learning (0 = off)."
    ),
    "chance_margin": "How far below the guessing loss the validation loss must fall to count as learning.",
    "try_heads": (
        "After the summary chosen under Network architecture, train a network with each of these "
        "summaries too (same seed and genes) and keep the one that does best on the validation genes. "
        "Window maxima learn where a motif sits; the global maximum alone learns 'motif A and motif B "
        "both present'. Each extra summary adds one training run; pick none to train only the chosen one."
    ),
    "rc_augment": "With strands = random: probability of showing a training gene as its reverse complement.",
    "monitor": (
        "What early stopping, the learning-rate plateau and the kept weights follow: "
        "val_loss (lowest validation loss, DeepDifE) or val_auroc (highest validation auROC)."
    ),
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
    "first_activation": "relu (DeepDifE) or exponential (filters that read as motifs)",
    "head": (
        "region_max: each filter's maximum per window of region bp (where a motif is, coarsely); "
        "flatten keeps where a motif is (DeepDifE); global_max ignores position; global_region: both"
    ),
    "region_bp": "Window of the region_max head in bp.",
    "batch_norm": "Batch normalisation after every convolution and hidden dense layer.",
    "strand_shared": (
        "Every motif filter reads both strands (itself and its reverse complement) while positions "
        "stay anchored at the TSS: a motif is learnt once for either orientation."
    ),
}
AUGMENT_HELP = {
    "enabled": (
        "EvoAug (Lee et al. 2023): every training batch gets random evolution-like changes "
        "(insertions, deletions, shifts, mutations, noise), then a short fine-tune on the original genes. "
        "Helps most on small datasets; the first epochs often stay near chance."
    ),
    "augs": "Which EvoAug operations may be applied to a training gene.",
    "rc_prob": "Probability of the reverse-complement operation.",
    "insert_max": "Longest random insertion (bp); the model input grows by this many N rows.",
    "delete_max": "Longest random deletion (bp).",
    "shift_max": "Largest translocation (circular shift, bp).",
    "mutate_frac": "Share of positions mutated at random.",
    "noise_std": "Standard deviation of the Gaussian noise added to the one-hot input.",
    "invert_min": "Shortest inversion (bp).",
    "invert_max": "Longest inversion (bp).",
    "max_augs_per_seq": "At most this many operations per gene and batch.",
    "hard": "Apply exactly max augs per seq operations (else a random number up to it).",
    "finetune": "After the augmented stage, train a few more epochs on the original genes at a lower rate.",
    "finetune_epochs": "Epochs of the fine-tune stage.",
    "finetune_lr": "Learning rate of the fine-tune stage.",
}
#: options of the str fields (selectboxes); the configs check the same tuples
FIELD_CHOICES: dict[str, tuple[str, ...]] = {
    "strands": STRANDS,
    "monitor": MONITORS,
    "first_activation": FIRST_ACTIVATIONS,
    "head": HEADS,
    "try_heads": HEADS,
}
_FLOAT_FMT = {
    "learning_rate": "%.6f",
    "min_learning_rate": "%.8f",
    "reduce_lr_factor": "%.3f",
    "min_delta": "%.6f",
    "l2": "%.2e",
    "finetune_lr": "%.6f",
}
_NOT_IN_FORM = {
    ModelConfig: ("input_length", "pad_left", "pad_right", "conjoin"),  # conjoin follows the strands setting
    AugmentConfig: ("enabled", "augs"),
}


#: plain-language labels of config fields (the technical name is added to the help text)
PLAIN_LABELS: dict[str, str] = {
    "n_conv": "Convolution layers",
    "filters": "Motif detectors (filters)",
    "kernel_size": "Motif width (bp)",
    "pool_size": "Pooling width (bp)",
    "conv_kernel": "Width of the extra convolutions (bp)",
    "conv_stride": "Step of the extra convolutions (bp)",
    "dropout": "Dropout (share of units switched off)",
    "dense_units": "Dense layer sizes",
    "l2": "Weight penalty (L2)",
    "first_activation": "First-layer activation",
    "head": "How motif hits are summarised",
    "region_bp": "Region size for the summary (bp)",
    "strand_shared": "Same motif detectors on both strands",
    "batch_norm": "Batch normalisation",
    "batch_size": "Genes per batch",
    "early_stopping_patience": "Stop after this many epochs without improvement",
    "reduce_lr_patience": "Lower the learning rate after this many epochs without improvement",
    "reduce_lr_factor": "Learning-rate reduction factor",
    "min_learning_rate": "Lowest learning rate",
    "min_delta": "Smallest change counted as improvement",
    "val_fraction": "Share of genes for validation",
    "test_fraction": "Share of genes for the test",
    "seed": "Random seed",
    "strands": "Strands read",
    "rc_augment": "Also train on the reverse strand (share)",
    "monitor": "Early stopping follows",
    "chance_patience": "Give up after this many epochs at chance level",
    "chance_margin": "Margin below the guessing loss",
    "try_heads": "Also try these summaries, keep the best",
    "rc_prob": "Reverse-strand probability",
    "insert_max": "Longest random insertion (bp)",
    "delete_max": "Longest deletion (bp)",
    "shift_max": "Largest shift (bp)",
    "mutate_frac": "Share of bases mutated",
    "noise_std": "Noise added (standard deviation)",
    "invert_min": "Shortest inverted stretch (bp)",
    "invert_max": "Longest inverted stretch (bp)",
    "max_augs_per_seq": "Augmentations per sequence",
    "hard": "Apply exactly that many augmentations",
    "finetune": "Fine-tune on the original genes afterwards",
    "finetune_epochs": "Fine-tune epochs",
    "finetune_lr": "Fine-tune learning rate",
}


def _label(name: str) -> str:
    """The plain-language label of a config field (its name, spelt out, when there is none)."""
    return PLAIN_LABELS.get(name) or name.replace("_", " ").capitalize()


def _with_name(help_text: str, name: str) -> str:
    """The help text followed by the field's technical name (as in the model's config.json)."""
    tech = f"Technical name: `{name}` (in config.json)."
    return f"{help_text} {tech}".strip()


def _number(label: str, default: float | int, key: str, help_text: str, fmt: str | None = None):
    if isinstance(default, bool):
        return st.checkbox(label, value=default, key=key, help=help_text)
    if isinstance(default, int):
        return int(st.number_input(label, value=default, step=1, key=key, help=help_text))
    return float(st.number_input(label, value=float(default), key=key, help=help_text, format=fmt or "%.4f"))


def _field_input(name: str, default, key: str, help_text: str):
    """One input for a config field: selectbox (str with choices), checkbox (bool), number, text.

    Tuples with choices (``try_heads``) get a multiselect; fields of another type (tuples other than
    ``dense_units``) are not shown: their default is returned.
    """
    label = _label(name)
    help_text = _with_name(help_text, name)
    if isinstance(default, str):
        options = list(FIELD_CHOICES.get(name, ()))
        if not options:
            return st.text_input(label, value=default, key=key, help=help_text)
        if default not in options:
            options.insert(0, default)
        return st.selectbox(label, options, index=options.index(default), key=key, help=help_text)
    if isinstance(default, (bool, int, float)):
        return _number(label, default, key, help_text, _FLOAT_FMT.get(name))
    if isinstance(default, tuple) and name in FIELD_CHOICES:
        return tuple(st.multiselect(label, list(FIELD_CHOICES[name]), default=list(default), key=key, help=help_text))
    return default


def _field_grid(names: list[str], default, prefix: str, help_map: dict[str, str]) -> dict:
    """Inputs for the fields ``names`` of the config instance ``default`` in three columns; returns name -> value."""
    out: dict = {}
    cols = st.columns(3)
    for i, name in enumerate(names):
        with cols[i % 3]:
            out[name] = _field_input(name, getattr(default, name), f"{prefix}.{name}", help_map.get(name, ""))
    return out


def train_config_form(prefix: str = "w.train") -> tuple[ModelConfig, TrainConfig, AugmentConfig]:
    """Inputs for every :class:`TrainConfig`, :class:`ModelConfig` and :class:`AugmentConfig` field
    (call inside ``st.form``).  Defaults are the dataclasses' own.

    Returns
    -------
    tuple of ModelConfig, TrainConfig, AugmentConfig
        Built from the inputs; invalid combinations raise ``DeepDifEInputError``.  The
        ModelConfig's ``input_length`` is a placeholder: training sets it (and the
        EvoAug padding) from the dataset and the AugmentConfig.
    """
    tc_default, mc_default, aug_default = TrainConfig(), ModelConfig(), AugmentConfig()
    basic = ["epochs", "batch_size", "learning_rate", "val_fraction", "test_fraction", "seed"]
    tvals = _field_grid(basic, tc_default, prefix, TRAIN_HELP)
    with st.expander("Optimisation details"):
        rest = [f.name for f in fields(TrainConfig) if f.name not in basic]
        tvals.update(_field_grid(rest, tc_default, prefix, TRAIN_HELP))
    avals: dict = {
        "enabled": st.checkbox(
            "EvoAug", value=aug_default.enabled, key=f"{prefix}.evoaug", help=AUGMENT_HELP["enabled"]
        )
    }
    with st.expander("EvoAug settings (used when EvoAug is on)"):
        avals["augs"] = tuple(
            st.multiselect(
                "Operations",
                list(EVOAUG_OPS),
                default=[a for a in EVOAUG_OPS if a in aug_default.augs],
                key=f"{prefix}.aug.augs",
                help=AUGMENT_HELP["augs"],
            )
        )
        names = [f.name for f in fields(AugmentConfig) if f.name not in _NOT_IN_FORM[AugmentConfig]]
        avals.update(_field_grid(names, aug_default, f"{prefix}.aug", AUGMENT_HELP))
    mvals: dict = {}
    with st.expander("Network architecture"):
        names = [f.name for f in fields(ModelConfig) if f.name not in _NOT_IN_FORM[ModelConfig]]
        cols = st.columns(3)
        for i, name in enumerate(names):
            with cols[i % 3]:
                default = getattr(mc_default, name)
                if name == "dense_units":
                    mvals[name] = st.text_input(
                        "Dense units", ", ".join(map(str, default)), key=f"{prefix}.{name}", help=MODEL_HELP[name]
                    )
                else:
                    mvals[name] = _field_input(name, default, f"{prefix}.{name}", MODEL_HELP.get(name, ""))
    return _build_configs(mvals, tvals, avals)


def _build_configs(
    mvals: dict, tvals: dict, avals: dict | None = None
) -> tuple[ModelConfig, TrainConfig, AugmentConfig]:
    text = str(mvals.get("dense_units", "256, 128"))
    try:
        units = tuple(int(u) for u in text.replace(";", ",").split(",") if u.strip())
    except ValueError as exc:
        raise DeepDifEInputError(f"dense units {text!r}: give whole numbers separated by commas") from exc
    if not units:
        raise DeepDifEInputError("dense units: give at least one layer size, e.g. 256, 128")
    mvals = {**mvals, "dense_units": units}
    avals = dict(avals or {})
    if avals.get("enabled") and "augs" in avals and not avals["augs"]:
        raise DeepDifEInputError("EvoAug is on but no operation is chosen; pick at least one or turn EvoAug off")
    # input_length is set from the dataset at training time; a long placeholder keeps the kernel check quiet
    return ModelConfig(input_length=100_000, **mvals), TrainConfig(**tvals), AugmentConfig(**avals)


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
    """Sliders for :class:`~deepdife_core.data.io.DEThresholds`."""
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


#: the Train page's early hint: this many finished epochs with the best validation auROC below ...
HINT_MIN_EPOCHS = 5
#: ... this value (0.5 = chance)
HINT_MAX_VAL_AUROC = 0.55
_MONITOR_WORDS = {"val_loss": "lowest validation loss", "val_auroc": "highest validation auROC"}


def monitor_words(monitor: str | None) -> str:
    """``lowest validation loss`` / ``highest validation auROC``: how the kept epoch was chosen."""
    return _MONITOR_WORDS.get(monitor or "val_loss", f"best {monitor}")


def _finished(history: list[dict]) -> list[dict]:
    return [h for h in history if not h.get("partial") and h.get("epoch") is not None]


def best_epoch_of(history: list[dict], best_epoch: int | None = None, monitor: str = "val_loss") -> int | None:
    """The epoch whose weights are (or will be) kept.

    ``best_epoch`` (from the latest progress event or the model's provenance) wins;
    else the epoch with the lowest validation loss (highest validation auROC for
    ``monitor="val_auroc"``); None when no epoch has the value.
    """
    if best_epoch:
        return int(best_epoch)
    key = "val_auroc" if monitor == "val_auroc" else "val_loss"
    rows = [h for h in _finished(history) if isinstance(h.get(key), (int, float)) and np.isfinite(h[key])]
    if not rows:
        return None
    pick = max if key == "val_auroc" else min
    return int(pick(rows, key=lambda h: h[key])["epoch"])


def not_learning_hint(
    history: list[dict], *, min_epochs: int = HINT_MIN_EPOCHS, threshold: float = HINT_MAX_VAL_AUROC
) -> str | None:
    """A plain-words warning while training when validation auROC is still near chance, else None.

    Shown after at least ``min_epochs`` finished epochs whose best validation auROC is below ``threshold``.
    """
    done = _finished(history)
    vals = [h["val_auroc"] for h in done if isinstance(h.get("val_auroc"), (int, float))]
    if len(done) < min_epochs or not vals or max(vals) >= threshold:
        return None
    return (
        f"Not learning yet: validation auROC is still near chance (0.5) after {len(done)} epochs "
        f"(best so far {max(vals):.2f}). Runs with EvoAug often sit at chance for the first epochs, so give it time; "
        "but if it stays there, the model will not be usable. What to try: turn EvoAug on, more epochs or a larger "
        "early-stopping patience, more genes, or check that the labels are right."
    )


def history_figures(
    history: list[dict], label: str = "", *, best_epoch: int | None = None, monitor: str = "val_loss"
) -> tuple[go.Figure, go.Figure]:
    """Loss and auROC per epoch (train and validation), one figure each.

    The kept epoch (:func:`best_epoch_of`) is marked with a vertical line and the
    fine-tune stage, if any, is shaded (neither for a history of several cross-validation folds).
    """
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
    if len({h.get("fold") for h in history}) > 1:  # cross-validation folds: no single kept epoch or stage
        return loss, auc
    ft = [h["epoch"] for h in history if h.get("stage") == "finetune" and h.get("epoch") is not None]
    best = best_epoch_of(history, best_epoch, monitor) if history else None
    for fig in (loss, auc):
        if ft:
            fig.add_vrect(
                x0=min(ft) - 0.5,
                x1=max(ft) + 0.5,
                fillcolor="#2ca02c",
                opacity=0.08,
                line_width=0,
                annotation_text="fine-tune",
                annotation_position="top left",
            )
        if best is not None:
            fig.add_vline(
                x=best,
                line_dash="dot",
                line_color="#555",
                annotation_text=f"best epoch {best}",
                annotation_position="top right",
            )
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


# ----------------------------------------------------------------------------- did it learn?

#: the registry's "learnt?" column per ``learning.status``
LEARNT_LABELS = {
    "learnt": "yes",
    "below_baseline": "no better than k-mers",
    "not_learning": "no",
    "unknown": "unknown",
}


def learning_of(metrics: dict | None, history: list[dict] | None = None) -> dict | None:
    """The ``learning`` verdict of a run: ``metrics["learning"]``, else computed when the
    k-mer baseline is there (:func:`deepdife_core.train.metrics.learning_verdict`); None for older runs."""
    if not metrics:
        return None
    verdict = metrics.get("learning")
    if isinstance(verdict, dict) and verdict.get("status"):
        return verdict
    if isinstance(metrics.get("baseline_kmer"), dict) and metrics.get("auroc") is not None:
        from deepdife_core.train.metrics import learning_verdict

        return learning_verdict(metrics, history)
    return None


def show_verdict(verdict: dict | None) -> None:
    """``st.success`` (learnt), ``st.warning`` (below the k-mer baseline), ``st.error`` (not learning)."""
    if not verdict:
        return
    # metrics.json comes with an imported zip: the message is shown as text
    status, msg = verdict.get("status"), md(verdict.get("message") or "")
    if status == "learnt":
        st.success(msg)
    elif status == "below_baseline":
        st.warning(msg)
    elif status == "not_learning":
        st.error(msg)
    elif msg:
        st.info(msg)


def _fmt(val) -> str:
    return "—" if not isinstance(val, (int, float)) or isinstance(val, bool) else f"{val:.3f}"


def baseline_table(metrics: dict) -> pd.DataFrame | None:
    """CNN vs k-mer baseline (auROC, auPRC, accuracy) on the same genes; None without a baseline."""
    base = metrics.get("baseline_kmer")
    if not isinstance(base, dict):
        return None
    rows = [
        {"model": "CNN", **{k: _fmt(metrics.get(k)) for k in ("auroc", "auprc", "accuracy")}},
        {"model": "k-mer baseline", **{k: _fmt(base.get(k)) for k in ("auroc", "auprc", "accuracy")}},
    ]
    return pd.DataFrame(rows).rename(columns={"auroc": "auROC", "auprc": "auPRC", "accuracy": "accuracy"})


def baseline_comparison(metrics: dict, key: str) -> None:
    """The CNN next to the k-mer logistic regression trained on the same split (nothing for older runs)."""
    table = baseline_table(metrics)
    if table is None:
        return
    base = metrics["baseline_kmer"]
    st.markdown("**CNN vs k-mer baseline**")
    st.dataframe(table, hide_index=True, key=key)
    ks = base.get("k")
    k_text = ", ".join(map(str, ks)) if isinstance(ks, (list, tuple)) else str(ks or "?")
    st.caption(
        f"The baseline is a logistic regression on k-mer counts (k = {md(k_text)}) trained on the same training "
        f"genes and scored on the same {md(base.get('n_test', '?'))} {md(base.get('evaluated_on', 'test'))} genes. "
        "A CNN that does not beat it has learnt no more than word counts."
    )


def chart(fig: go.Figure | None, key: str | None = None) -> None:
    """``st.plotly_chart`` at container width (nothing for None)."""
    if fig is not None:
        st.plotly_chart(fig, width="stretch", key=key)
