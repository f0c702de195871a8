"""Models page: the registry, details and curves, compare, rename, delete, download, import."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import cache, sidebar, state, widgets
from dashboard.model_io import import_legacy_files, import_model_zip
from dashboard.paths import models_dir
from deepdife_core.model import folder as artifacts

TABLE_COLUMNS = [
    "name",
    "created",
    "dataset",
    "test_auroc",
    "test_auprc",
    "baseline_auroc",
    "learnt",
    "input_length",
    "n_conv",
    "kernel_size",
    "learning_rate",
    "epochs_run",
    "members",
    "source",
]


def _verdict(path: str, metrics: dict) -> dict | None:
    """The model's ``learning`` verdict (computed for folders that have only the k-mer baseline)."""
    if "learning" in metrics or "baseline_kmer" not in metrics:
        return widgets.learning_of(metrics)
    return widgets.learning_of(metrics, cache.history(path))


def _with_learning(reg: pd.DataFrame) -> pd.DataFrame:
    """The registry plus ``baseline_auroc`` (k-mer baseline, same test genes) and ``learnt`` (from metrics.json;
    empty for older models without a baseline)."""
    base, learnt = [], []
    for path in reg["path"]:
        metrics = cache.model_info(str(path))["metrics"]
        b = metrics.get("baseline_kmer")
        base.append(b.get("auroc") if isinstance(b, dict) else None)
        verdict = _verdict(str(path), metrics)
        learnt.append(widgets.LEARNT_LABELS.get(verdict.get("status"), "unknown") if verdict else None)
    return reg.assign(baseline_auroc=pd.Series(base, index=reg.index, dtype=float), learnt=learnt)


def _details(reg: pd.DataFrame) -> None:
    names = list(reg["name"])
    active = state.get(state.MODEL_ACTIVE)
    name = st.selectbox("Model", names, index=names.index(active) if active in names else 0, key="w.models.pick")
    path = str(reg.loc[reg["name"] == name, "path"].iloc[0])
    info = cache.model_info(path)
    metrics, prov, cfg = info["metrics"], info["provenance"], info["config"]
    st.caption(
        # provenance.json comes with an imported zip: every value is user text
        f"Created {widgets.md(prov.get('created', '?'))} · dataset {widgets.md(prov.get('dataset') or '—')} · "
        f"source {widgets.md(prov.get('source', 'trained'))} · seed {widgets.md(prov.get('seed', '—'))}"
    )
    hist = cache.history(path)
    if metrics:
        widgets.show_verdict(_verdict(path, metrics))
        widgets.metric_row(metrics)
        widgets.baseline_comparison(metrics, key="models.baseline")
    if hist:
        monitor = (cfg.get("train") or {}).get("monitor") or "val_loss"
        loss, auc = widgets.history_figures(hist, best_epoch=prov.get("best_epoch"), monitor=monitor)
        c1, c2 = st.columns(2)
        with c1:
            widgets.chart(loss, key="models.loss")
        with c2:
            widgets.chart(auc, key="models.auc")
    else:
        st.caption("No training history (an imported model).")
    roc, pr = widgets.roc_pr_figures(metrics)
    cm = widgets.confusion_figure(metrics)
    if roc or pr or cm:
        c1, c2, c3 = st.columns(3)
        with c1:
            widgets.chart(roc, key="models.roc")
        with c2:
            widgets.chart(pr, key="models.pr")
        with c3:
            widgets.chart(cm, key="models.cm")
    with st.expander("Configuration"):
        st.json(cfg, expanded=False)
    c1, c2, c3 = st.columns(3)
    with c1:
        if st.button("Use as active model", key="w.models.activate"):
            state.put(state.MODEL_ACTIVE, name)
            st.rerun()
        st.download_button(
            "Download as zip",
            data=cache.model_zip(path),
            file_name=f"{name}.zip",
            mime="application/zip",
            key="w.models.download",
            on_click="ignore",
            icon=":material/download:",
        )
    with c2, st.form("w.models.rename_form"):
        new = st.text_input("New name", value=name, key="w.models.new_name")
        if st.form_submit_button("Rename"):
            with widgets.user_errors():
                target = artifacts.rename_model(path, new.strip())
                if state.get(state.MODEL_ACTIVE) == name:
                    state.put(state.MODEL_ACTIVE, target.name)
                state.put(state.MODELS_FLASH, f"Renamed '{widgets.md(name)}' to '{widgets.md(target.name)}'.")
                st.rerun()
    with c3:
        sure = st.checkbox(f"Yes, delete '{widgets.md(name)}' permanently", key="w.models.confirm_delete")
        if st.button("Delete model", key="w.models.delete", disabled=not sure, type="primary"):
            with widgets.user_errors():
                artifacts.delete_model(path)
                if state.get(state.MODEL_ACTIVE) == name:
                    state.put(state.MODEL_ACTIVE, None)
                state.put(state.MODELS_FLASH, f"Deleted model '{widgets.md(name)}'.")
                st.rerun()


def _compare(reg: pd.DataFrame) -> None:
    names = list(reg["name"])
    picked = st.multiselect("Models to compare", names, default=names[:2], max_selections=4, key="w.models.compare")
    if len(picked) < 2:
        st.caption("Pick two models.")
        return
    paths = {n: str(reg.loc[reg["name"] == n, "path"].iloc[0]) for n in picked}
    rows = []
    for n, p in paths.items():
        m = cache.model_info(p)["metrics"]
        rows.append(
            {
                "model": n,
                **{k: m.get(k) for k in ("auroc", "auprc", "accuracy", "loss", "n")},
                "evaluated_on": m.get("evaluated_on"),
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="models.compare_table")
    hists = {n: cache.history(p) for n, p in paths.items()}
    c1, c2 = st.columns(2)
    with c1:
        widgets.chart(widgets.compare_figure(hists, "val_loss", "Validation loss"), key="models.cmp_loss")
    with c2:
        widgets.chart(widgets.compare_figure(hists, "val_auroc", "Validation auROC"), key="models.cmp_auc")


def evaluate_on(model_path: str, table: pd.DataFrame) -> dict:
    """Metrics of a model on a labelled table (as ``deepdife evaluate``): sequences fitted as the model's.

    Parameters
    ----------
    model_path
        The model folder.
    table
        Rows with ``gene_id``, ``label`` (0/1) and ``sequence``.

    Returns
    -------
    dict
        :func:`deepdife_core.train.metrics.evaluate_predictions` of the model's probabilities, with
        ``n_genes``.
    """
    from deepdife_core.data.encode import one_hot, pad_or_trim
    from deepdife_core.errors import DeepDifEInputError
    from deepdife_core.train.metrics import evaluate_predictions

    table = table[table["label"].astype(str).isin(["0", "1"])]
    if table.empty or table["label"].astype(int).nunique() < 2:
        raise DeepDifEInputError("the dataset needs both responsive (1) and non-responsive (0) genes to be scored")
    pred = cache.predictor(model_path)
    fit = artifacts.model_data_config(pred)
    seqs = [pad_or_trim(str(s), int(pred.config.input_length), side=fit.pad_side) for s in table["sequence"]]
    p = pred.predict(one_hot(seqs))
    metrics = evaluate_predictions(table["label"].astype(int).to_numpy(), p)
    metrics["n_genes"] = len(table)
    return metrics


def _evaluate(reg: pd.DataFrame) -> None:
    """Score a model on any saved dataset (e.g. the published model, whose test auROC is unknown)."""
    from dashboard.datasets import list_datasets

    sets = list_datasets()
    if not sets:
        st.caption("No saved dataset to evaluate on: build one on the Data page.")
        return
    names = list(reg["name"])
    active = state.get(state.MODEL_ACTIVE)
    c1, c2 = st.columns(2)
    model = c1.selectbox("Model", names, index=names.index(active) if active in names else 0, key="w.models.eval_model")
    ds_names = [d["name"] for d in sets]
    dactive = state.get(state.DATA_ACTIVE)
    ds_name = c2.selectbox(
        "Dataset", ds_names, index=ds_names.index(dactive) if dactive in ds_names else 0, key="w.models.eval_ds"
    )
    row = reg.loc[reg["name"] == model].iloc[0]
    if str(row.get("dataset") or "") == ds_name:
        st.caption(
            f"{widgets.md(model)} was trained on {widgets.md(ds_name)}: its training genes are scored too, so these "
            "figures are optimistic; the test metrics in Details are the fair ones."
        )
    if st.button("Evaluate", key="w.models.eval_go", icon=":material/fact_check:"):
        with widgets.user_errors(), st.spinner("Predicting every gene of the dataset…"):
            ds = next(d for d in sets if d["name"] == ds_name)
            metrics = evaluate_on(str(row["path"]), cache.dataset_table(ds["path"]))
            st.session_state["models.eval"] = {"model": model, "dataset": ds_name, "metrics": metrics}
    res = st.session_state.get("models.eval")
    if res and res["model"] == model and res["dataset"] == ds_name:
        m = res["metrics"]
        st.markdown(f"**{widgets.md(model)} on {widgets.md(ds_name)}** ({m['n_genes']} genes)")
        widgets.metric_row(m)
        roc, pr = widgets.roc_pr_figures(m)
        e1, e2 = st.columns(2)
        with e1:
            widgets.chart(roc, key="models.eval_roc")
        with e2:
            widgets.chart(pr, key="models.eval_pr")


def _import() -> None:
    c1, c2 = st.columns(2)
    with c1, st.form("w.models.import_zip_form", clear_on_submit=True):
        st.markdown("**Import a model zip** (exported from this dashboard)")
        up = st.file_uploader("Model zip", type=["zip"], key="w.models.zip")
        name = st.text_input("Name in the registry (default: the zip's name)", key="w.models.zip_name")
        if st.form_submit_button("Import zip"):
            with widgets.user_errors():
                if up is None:
                    st.error("Choose a zip file first.")
                else:
                    target_name = name.strip() or Path(up.name).stem
                    with st.spinner("Checking and loading the model…"):
                        target = import_model_zip(up.getvalue(), target_name, models_dir(), filename=up.name)
                    state.put(state.MODELS_FLASH, f"Imported model '{widgets.md(target.name)}'.")
                    st.rerun()
    with c2, st.form("w.models.legacy_form", clear_on_submit=True):
        st.markdown("**Import the published DeepDifE model** (Keras 2 files)")
        js = st.file_uploader("model_single.json", type=["json"], key="w.models.legacy_json")
        h5 = st.file_uploader("weights_single.h5", type=["h5", "hdf5"], key="w.models.legacy_h5")
        name = st.text_input("Name in the registry", value="deepdife-published", key="w.models.legacy_name")
        if st.form_submit_button("Import published model"):
            with widgets.user_errors():
                if js is None or h5 is None:
                    st.error("Upload both the model JSON and the weights file.")
                else:
                    with st.spinner("Rebuilding the published model…"):
                        target = import_legacy_files(js.getvalue(), h5.getvalue(), name.strip(), models_dir())
                    state.put(state.MODELS_FLASH, f"Imported the published model as '{widgets.md(target.name)}'.")
                    st.rerun()


def render() -> None:
    """Draw the models page."""
    st.title("Models")
    msg = state.flash(state.MODELS_FLASH)
    if msg:
        st.success(msg)
    sidebar.active_model()
    reg = _with_learning(cache.registry(models_dir()))
    if reg.empty:
        st.info("The registry is empty: train a model on the Train page or import one below.")
    else:
        st.dataframe(
            reg[TABLE_COLUMNS],
            hide_index=True,
            key="models.table",
            column_config={
                "test_auroc": st.column_config.NumberColumn("test auROC", format="%.3f"),
                "test_auprc": st.column_config.NumberColumn("test auPRC", format="%.3f"),
                "baseline_auroc": st.column_config.NumberColumn(
                    "baseline auROC",
                    format="%.3f",
                    help="Test auROC of a k-mer logistic regression trained on the same split.",
                ),
                "learnt": st.column_config.TextColumn(
                    "learnt?", help="Did the CNN beat chance and the k-mer baseline? See the model's details."
                ),
            },
        )
        tab_details, tab_compare, tab_eval = st.tabs(["Details", "Compare", "Evaluate on a dataset"])
        with tab_details:
            _details(reg)
        with tab_compare:
            _compare(reg)
        with tab_eval:
            _evaluate(reg)
    st.divider()
    _import()
