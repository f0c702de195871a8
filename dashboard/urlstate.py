"""Session choices mirrored in the URL query, so a reload, a bookmark or a new tab keeps them.

The choices are the active dataset (``dataset``), the active model (``model``),
the gene shown on the Saliency page (``gene``) and the coordinate system of
positions (``coords``: ``promoter``, ``tss`` or ``genomic``). At the start of a
run :func:`read` applies the query values this session has never written itself
(a new session — reload, new tab, shared link — applies them all); a value it
wrote before is never read back, since the browser's URL can lag a run behind
and a lagging value must not undo the user's last choice. A dataset or model
that is not on disk is refused with a notice and the current choice stays. At the end of a run :func:`write` writes the
session's choices back. Page-specific, one-shot values (``hl``, a highlighted
range) are read and removed by their page.
"""

from __future__ import annotations

import streamlit as st

from dashboard import cache, state, widgets
from dashboard.datasets import list_datasets
from dashboard.paths import models_dir

#: query name -> session key
URL_KEYS: dict[str, str] = {
    "dataset": state.DATA_ACTIVE,
    "model": state.MODEL_ACTIVE,
    "gene": state.SALIENCY_GENE,
    "coords": state.SALIENCY_COORDS,
}
#: coordinate systems a URL may name
COORDS = ("promoter", "tss", "genomic")
#: what this session wrote into the URL last ({query name: value})
PUBLISHED = "url.published"
#: every value this session has written into the URL ({query name: set of values}): the browser's URL can
#: lag a run behind, and a value written before is never read back as a new choice
WRITTEN = "url.written"


def read() -> dict[str, str]:
    """Apply the URL's choices that this session has never written itself; returns those applied.

    The applied values are also kept under :data:`dashboard.state.URL_INCOMING`
    for the pages (the Saliency page shows a linked gene from the dataset).
    """
    qp = st.query_params
    applied: dict[str, str] = {}
    written = st.session_state.get(WRITTEN) or {}
    notices: list[str] = []
    for name, key in URL_KEYS.items():
        value = qp.get(name)
        if not value or value in written.get(name, ()):
            continue
        if name == "dataset" and value not in {d["name"] for d in list_datasets()}:
            notices.append(f"The link's dataset {widgets.md(value)} is not in the workspace; keeping the active one.")
            continue
        if name == "model" and value not in set(cache.registry(models_dir())["name"]):
            notices.append(
                f"The link's model {widgets.md(value)} is not in the registry; showing the active model instead."
            )
            continue
        if name == "coords" and value not in COORDS:
            notices.append(f"The link's coordinates {widgets.md(value)} are not one of {', '.join(COORDS)}; ignored.")
            continue
        state.put(key, value)
        applied[name] = value
    state.put(state.URL_INCOMING, applied)
    if notices:
        state.put(state.URL_NOTICES, notices)
    return applied


def write() -> None:
    """Write the session's choices into the URL query (other query values are left alone)."""
    qp = st.query_params
    want = {name: str(v) for name, key in URL_KEYS.items() if (v := state.get(key)) not in (None, "")}
    others = {k: qp.get_all(k) for k in qp if k not in URL_KEYS}
    # sent on every run, even when unchanged: a click on the page navigation gives the browser a URL without
    # the query, while the server still believes it holds the values
    qp.from_dict({**others, **want})
    st.session_state[PUBLISHED] = want
    written = st.session_state.get(WRITTEN) or {}
    for name, value in want.items():
        written.setdefault(name, set()).add(value)
    st.session_state[WRITTEN] = written
