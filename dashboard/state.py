"""Session-state keys (namespaced ``"<page>.<what>"``) and their idempotent initialisation.

Everything a page must remember across reruns and page switches lives under one
of these keys; widget keys are separate (``"w.<page>.<what>"``) because Streamlit
drops the state of widgets that are not rendered.  Things that must survive a
browser reload (datasets, models, jobs) live on disk, not here; the session's choices
(dataset, model, gene, coordinates) are mirrored in the URL query by
:mod:`dashboard.urlstate`.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

#: the dataset the pages work on (name of a folder under workspace/datasets)
DATA_ACTIVE = "data.active"
#: the dataset built from uploads but not saved yet: {"df", "report", "meta", "raw_lengths", ...}
DATA_PREVIEW = "data.preview"
#: message shown once after a save / demo load
DATA_FLASH = "data.flash"
#: the model the pages work on (name of a folder under the models root)
MODEL_ACTIVE = "model.active"
#: training job followed by the train page
TRAIN_JOB_ID = "train.job_id"
#: training jobs started in this session (only their models become active by themselves, once)
TRAIN_STARTED = "train.started"
#: the finished jobs of this session whose model was made active (done once per job)
TRAIN_ACTIVATED = "train.activated"
#: last prediction: {"model", "table", "source"}
PREDICT_RESULT = "predict.result"
#: models page: message shown once after rename / delete / import
MODELS_FLASH = "models.flash"
#: sidebar: one-shot notice that the active dataset / model vanished from disk
SIDEBAR_NOTICE = "sidebar.notice"
#: saliency page: gene shown, the list stepped through, a highlighted range (start, end) in
#: promoter coordinates (0-based, end exclusive), e.g. a seqlet opened from the Motifs page.
#: The page also reads the URL query parameters ``model``, ``gene`` and ``hl=START-END``.
SALIENCY_GENE = "saliency.gene"
SALIENCY_GENE_LIST = "saliency.gene_list"
SALIENCY_HIGHLIGHT = "saliency.highlight"
#: coordinate system of positions on the Saliency page: "promoter" (0-based), "tss" or "genomic"
SALIENCY_COORDS = "saliency.coords"
#: the gene the highlight belongs to (a highlight never follows the user to another gene or source)
SALIENCY_HIGHLIGHT_GENE = "saliency.highlight_gene"
#: URL query choices applied in this run ({query name: value}) and one-shot notices about refused ones
URL_INCOMING = "url.incoming"
URL_NOTICES = "url.notices"
#: the first-visit demo check (``make run``) was done in this session
START_DONE = "start.done"
#: motifs page: discovery job followed, motif run opened, pattern opened
MOTIFS_JOB_ID = "motifs.job_id"
MOTIFS_RUN = "motifs.run"
MOTIFS_PATTERN = "motifs.pattern"
#: tune page: tuning job followed, study shown
TUNE_JOB_ID = "tune.job_id"
TUNE_STUDY = "tune.study"
#: experiments page: experiment job followed, experiment run shown
EXPERIMENTS_JOB_ID = "experiments.job_id"
EXPERIMENTS_RUN = "experiments.run"

DEFAULTS: dict[str, Any] = {
    DATA_ACTIVE: None,
    DATA_PREVIEW: None,
    DATA_FLASH: None,
    MODEL_ACTIVE: None,
    TRAIN_JOB_ID: None,
    TRAIN_STARTED: None,
    TRAIN_ACTIVATED: None,
    PREDICT_RESULT: None,
    MODELS_FLASH: None,
    SIDEBAR_NOTICE: None,
    SALIENCY_GENE: None,
    SALIENCY_GENE_LIST: None,
    SALIENCY_HIGHLIGHT: None,
    SALIENCY_COORDS: None,
    SALIENCY_HIGHLIGHT_GENE: None,
    URL_INCOMING: None,
    URL_NOTICES: None,
    START_DONE: None,
    MOTIFS_JOB_ID: None,
    MOTIFS_RUN: None,
    MOTIFS_PATTERN: None,
    TUNE_JOB_ID: None,
    TUNE_STUDY: None,
    EXPERIMENTS_JOB_ID: None,
    EXPERIMENTS_RUN: None,
}


def init() -> None:
    """Set every key to its default if it is not set yet (safe to call on every run)."""
    for key, value in DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = value


def get(key: str, default: Any = None) -> Any:
    """``st.session_state.get`` for one of the keys above."""
    return st.session_state.get(key, default)


def put(key: str, value: Any) -> None:
    """Set one of the keys above."""
    st.session_state[key] = value


def flash(key: str) -> Any:
    """Read and clear a one-shot message key."""
    value = st.session_state.get(key)
    st.session_state[key] = None
    return value
