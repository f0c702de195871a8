"""The sidebar: active dataset and model, switchable from every page."""

from __future__ import annotations

import streamlit as st

from dashboard import cache, state, widgets
from dashboard.datasets import list_datasets
from dashboard.paths import models_dir, workspace_dir


def active_dataset() -> dict | None:
    """The active dataset's entry of :func:`dashboard.datasets.list_datasets` (newest if none chosen)."""
    sets = list_datasets()
    if not sets:
        _gone("dataset", state.get(state.DATA_ACTIVE), None)
        state.put(state.DATA_ACTIVE, None)
        return None
    by_name = {d["name"]: d for d in sets}
    name = state.get(state.DATA_ACTIVE)
    if name not in by_name:
        _gone("dataset", name, sets[0]["name"])
        name = sets[0]["name"]
        state.put(state.DATA_ACTIVE, name)
    return by_name[name]


def active_model() -> str | None:
    """Folder path of the active model (newest if none chosen), or None when the registry is empty."""
    reg = cache.registry(models_dir())
    if reg.empty:
        _gone("model", state.get(state.MODEL_ACTIVE), None)
        state.put(state.MODEL_ACTIVE, None)
        return None
    name = state.get(state.MODEL_ACTIVE)
    if name not in set(reg["name"]):
        _gone("model", name, str(reg["name"].iloc[0]))
        name = str(reg["name"].iloc[0])
        state.put(state.MODEL_ACTIVE, name)
    return str(reg.loc[reg["name"] == name, "path"].iloc[0])


def _gone(kind: str, name: str | None, replacement: str | None) -> None:
    """Remember (for the sidebar to say) that the active ``kind`` ``name`` is no longer on disk."""
    if name is None:
        return
    name, replacement = widgets.md(name), replacement and widgets.md(replacement)  # shown as markdown
    then = f"'{replacement}' is active now" if replacement else f"no {kind} is active"
    state.put(state.SIDEBAR_NOTICE, f"The {kind} '{name}' is no longer there (deleted or renamed?); {then}.")


def _on_pick(key: str, widget: str) -> None:
    state.put(key, st.session_state[widget])


def render() -> None:
    """Draw the sidebar selectors for the active dataset and model."""
    with st.sidebar:
        st.markdown("### DeepDifE")
        ds = active_dataset()
        path = active_model()
        notice = state.flash(state.SIDEBAR_NOTICE)
        if notice:
            st.warning(notice, icon=":material/info:")
        for text in state.flash(state.URL_NOTICES) or []:  # refused choices of a link (already escaped)
            st.warning(text, icon=":material/link_off:")
        if ds is None:
            st.caption("No dataset yet: build one or load the demo on the **Data** page.")
        else:
            names = [d["name"] for d in list_datasets()]
            # the key follows the active value, so a change made elsewhere (a save, a page) is never overridden
            # by the widget's old value
            key = f"w.sidebar.dataset.{ds['name']}"
            st.selectbox(
                "Active dataset",
                names,
                index=names.index(ds["name"]),
                key=key,
                on_change=_on_pick,
                args=(state.DATA_ACTIVE, key),
            )
            c = ds["counts"]
            if c:
                st.caption(
                    f"{c.get('genes', '?')} genes: {c.get('responsive', '?')} responsive, "
                    f"{c.get('non_responsive', '?')} not; {c.get('length', '?')} bp"
                )
        if path is None:
            st.caption("No model yet: train one on the **Train** page or import one on **Models**.")
        else:
            reg = cache.registry(models_dir())
            names = list(reg["name"])
            key = f"w.sidebar.model.{state.get(state.MODEL_ACTIVE)}"
            st.selectbox(
                "Active model",
                names,
                index=names.index(state.get(state.MODEL_ACTIVE)),
                key=key,
                on_change=_on_pick,
                args=(state.MODEL_ACTIVE, key),
            )
            row = reg.loc[reg["name"] == state.get(state.MODEL_ACTIVE)].iloc[0]
            if row["test_auroc"] is not None and row["test_auroc"] == row["test_auroc"]:
                st.caption(  # the source comes from provenance.json (an imported zip's is user text)
                    f"test auROC {row['test_auroc']:.3f} · {widgets.md(row['input_length'])} bp · "
                    f"{widgets.md(row['source'])}"
                )
        st.divider()
        st.caption(f"Workspace: `{workspace_dir()}`  \nModels: `{models_dir()}`")
