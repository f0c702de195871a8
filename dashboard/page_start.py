"""Start page: what each page does, in order, with one button each; the demo is one click from a gene.

``make run`` sets ``DEEPDIFE_DEMO_ON_START=1``: a first visit to an empty
workspace then saves the demo dataset, and a session without a chosen model
uses the bundled ``demo`` model, so the first page already has something to
explore.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from dashboard import cache, state, widgets
from dashboard.datasets import DEMO_NAME, ensure_demo_dataset, list_datasets
from dashboard.paths import models_dir

PAGES_DIR = Path(__file__).resolve().parents[1] / "pages"
#: environment switch set by ``make run``: load the demo on a first visit to an empty workspace
DEMO_ENV = "DEEPDIFE_DEMO_ON_START"
DEMO_MODEL = "demo"
#: (page script, button, what the page does), in the order a study goes
STEPS: list[tuple[str, str, str]] = [
    (
        "data.py",
        "Data",
        "Build a dataset: promoter sequences labelled responsive (1) or not (0), from a labelled "
        "FASTA, a table, two gene lists or a differential-expression table (files judged by content).",
    ),
    (
        "train.py",
        "Train",
        "Train a model on the active dataset in the background: EvoAug (on by default), "
        "PhyloAug with orthologs, cross-validation; follow the learning curves and the test metrics.",
    ),
    (
        "tune.py",
        "Tune",
        "Search the settings (learning rate, filters, augmentation rates, …) with Optuna; "
        "train a model with the best trial.",
    ),
    ("models.py", "Models", "The model registry: metrics, settings, rename, delete, download or import a model."),
    ("predict.py", "Predict", "Probabilities of responsiveness for the genes of a FASTA or a gene list."),
    (
        "saliency.py",
        "Saliency",
        "Which bases drive one gene's prediction (DeepSHAP, ISM), known motifs, and edits of the sequence.",
    ),
    (
        "motifs.py",
        "Motifs",
        "Discover the motifs the model uses across many genes (TF-MoDISco), match them to "
        "JASPAR, and open their genes in Saliency.",
    ),
    (
        "experiments.py",
        "Experiments",
        "Test motif hypotheses on the model: insert, sweep, space, dose, tile or ablate motifs across genes.",
    ),
    (
        "variants.py",
        "Variants",
        "Score the promoter variants of a VCF (accessions, EMS lines, edits) in a registered genome: "
        "Δ probability, motifs lost or gained, per sample.",
    ),
]


def demo_on_start() -> bool:
    """Whether this server was started to land on the demo (``DEEPDIFE_DEMO_ON_START=1``)."""
    return os.environ.get(DEMO_ENV, "") == "1"


def use_demo() -> tuple[str, str | None]:
    """Save the demo dataset if missing and make it, and the bundled demo model if present, active.

    Returns
    -------
    tuple of str and (str or None)
        The dataset's name and the model's name (None when the registry has no ``demo`` model).
    """
    name = ensure_demo_dataset()
    state.put(state.DATA_ACTIVE, name)
    model = DEMO_MODEL if DEMO_MODEL in set(cache.registry(models_dir())["name"]) else None
    if model is not None:
        state.put(state.MODEL_ACTIVE, model)
    return name, model


def first_visit() -> None:
    """On a server started by ``make run``: a first visit to an empty workspace lands on the demo."""
    if not demo_on_start() or state.get(state.START_DONE):
        return
    state.put(state.START_DONE, True)
    if not list_datasets():
        use_demo()
    elif state.get(state.MODEL_ACTIVE) is None and DEMO_MODEL in set(cache.registry(models_dir())["name"]):
        state.put(state.MODEL_ACTIVE, DEMO_MODEL)


@st.cache_data(show_spinner=False)
def demo_example() -> tuple[str, tuple[int, int]] | None:
    """A responsive demo gene with planted ABREs and the span of its first site ``[start, end)``."""
    from deepdife_core.data.demo import make_demo_dataset

    df = make_demo_dataset(2000, length=600)  # the generator and seed of the saved demo dataset
    hits = df[(df["label"] == 1) & (df["sites"].astype(str) != "")]
    if hits.empty:
        return None
    row = hits.iloc[0]
    start, end = (int(v) for v in str(row["sites"]).split(";")[0].split(":")[:2])
    return str(row["gene_id"]), (start, end)


def _open_demo_gene() -> None:
    example = demo_example()
    use_demo()
    if example is None:
        return
    gene, span = example
    state.put(state.SALIENCY_GENE, gene)
    state.put(state.SALIENCY_HIGHLIGHT, span)
    state.put(state.SALIENCY_HIGHLIGHT_GENE, gene)
    st.session_state["w.saliency.source"] = "Active dataset"


def render() -> None:
    """Draw the start page."""
    st.title("Start")
    st.markdown(
        "DeepDifE learns which promoters respond to a treatment (e.g. ABA) from their DNA sequence, and shows "
        "which bases and motifs the model relies on."
    )
    datasets = {d["name"] for d in list_datasets()}
    has_model = DEMO_MODEL in set(cache.registry(models_dir())["name"])
    active = state.get(state.DATA_ACTIVE)
    if active == DEMO_NAME and state.get(state.MODEL_ACTIVE) == DEMO_MODEL:
        st.success("The demo dataset and the demo model are active: 2000 synthetic promoters with planted ABREs.")
    with st.container(border=True):
        st.markdown("**Explore the demo**")
        c1, c2 = st.columns(2)
        if c1.button(
            "Open a demo gene with planted ABREs in Saliency",
            key="w.start.demo_gene",
            type="primary",
            icon=":material/insights:",
            disabled=not has_model,
            help=None if has_model else "The registry has no 'demo' model.",
        ):
            with widgets.user_errors():
                _open_demo_gene()
                st.switch_page(PAGES_DIR / "saliency.py")
        if c2.button(
            "Use the demo dataset and model",
            key="w.start.demo",
            icon=":material/science:",
            disabled=DEMO_NAME in datasets
            and active == DEMO_NAME
            and (not has_model or state.get(state.MODEL_ACTIVE) == DEMO_MODEL),
        ):
            with widgets.user_errors():
                use_demo()
                st.rerun()
    st.subheader("The pages, in order")
    for i, (script, title, what) in enumerate(STEPS, start=1):
        c1, c2 = st.columns([1, 4], vertical_alignment="center")
        c1.page_link(str(PAGES_DIR / script), label=f"{i}. {title}", icon=":material/arrow_forward:")
        c2.caption(what)
