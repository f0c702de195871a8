"""Tune page: configure and start (or resume) an Optuna study as a background job, watch it, train the best model."""

from __future__ import annotations

import os
from datetime import datetime

import streamlit as st

from dashboard import cache, jobs, sidebar, state, tune_view, widgets
from dashboard.constants import LIVE_STATES
from dashboard.job_panel import JobView, failure, show
from deepdife_core.config import TrainConfig
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.tune import study as tune

MODES = ("New study", "Resume a study")
METRIC_LABELS = {"auroc": "auROC (maximise)", "loss": "validation loss (minimise)"}
PRUNER_LABELS = {"median": "median (default)", "hyperband": "Hyperband", "none": "none"}
SAMPLER_LABELS = {"tpe": "TPE (default)", "random": "random"}


# ----------------------------------------------------------------------------- start / resume


def _param_row(name: str, p: tune.Param) -> dict:
    """One row of the search-space form; returns the raw values for :func:`tune_view.space_from_form`."""
    key = f"w.tune.p.{name}"
    c0, c1, c2, c3, c4 = st.columns([2.2, 1, 2.2, 2.2, 2.2], vertical_alignment="center")
    scale = " · log scale" if p.log else (f" · step {p.step}" if p.step and p.step > 1 else "")
    c0.markdown(f"`{name}`", help=tune_view.PARAM_HELP[name] + scale)
    fixed_only = name in tune_view.FIXED_ONLY
    free = c1.checkbox(
        f"Search {name}",
        value=p.free and not fixed_only,
        key=f"{key}.free",
        disabled=fixed_only,
        label_visibility="collapsed",
    )
    out: dict = {"free": free}
    if p.kind == "categorical":
        if isinstance(p.value, bool):
            labels = {"off": False, "on": True}
            picked = c2.multiselect(
                f"{name} choices",
                list(labels),
                default=[k for k, v in labels.items() if v in p.choices],
                key=f"{key}.choices",
                label_visibility="collapsed",
            )
            out["choices"] = [labels[k] for k in picked]
            out["value"] = c4.checkbox(
                f"{name} fixed value", value=bool(p.value), key=f"{key}.value", label_visibility="collapsed"
            )
        else:
            out["choices"] = c2.text_input(
                f"{name} choices",
                tune_view.format_choices(p.choices),
                key=f"{key}.choices",
                label_visibility="collapsed",
                help="Whole numbers separated by commas.",
            )
            out["value"] = int(
                c4.number_input(
                    f"{name} fixed value",
                    value=int(p.value),
                    min_value=1,
                    step=1,
                    key=f"{key}.value",
                    label_visibility="collapsed",
                )
            )
        return out
    if p.kind == "int":
        for col, field in ((c2, "low"), (c3, "high"), (c4, "value")):
            out[field] = int(
                col.number_input(
                    f"{name} {field}",
                    value=int(getattr(p, field)),
                    step=1,
                    key=f"{key}.{field}",
                    label_visibility="collapsed",
                )
            )
        return out
    fmt = "%.2e" if p.log or name == "l2" else "%.3f"
    for col, field in ((c2, "low"), (c3, "high"), (c4, "value")):
        out[field] = float(
            col.number_input(
                f"{name} {field}",
                value=float(getattr(p, field)),
                format=fmt,
                step=None if p.log else 0.05,
                key=f"{key}.{field}",
                label_visibility="collapsed",
            )
        )
    return out


def _space_inputs() -> dict[str, dict]:
    st.markdown(
        "**Search space**: tick *Search* to tune a parameter between *from* and *to* (or over the choices); "
        "untick it to fix it at the value on the right."
    )
    heads = st.columns([2.2, 1, 2.2, 2.2, 2.2])
    for col, text in zip(heads, ("parameter", "search", "from / choices", "to", "fixed value"), strict=True):
        col.caption(text)
    return {name: _param_row(name, p) for name, p in tune_view.default_params().items()}


def _new_form(ds: dict) -> None:
    d_tune, d_base = tune.TuneConfig(), tune.default_base()
    with st.form("w.tune.form"):
        st.markdown(
            f"**Dataset:** `{ds['name']}` — {ds['counts'].get('genes', '?')} genes, "
            f"{ds['counts'].get('length', '?')} bp"
        )
        c1, c2, c3 = st.columns(3)
        name = c1.text_input(
            "Study name",
            value=f"{ds['name']}-tune-{datetime.now().strftime('%Y%m%d-%H%M%S')}",
            key="w.tune.name",
            help="Letters, digits, '.', '_' or '-'. An existing name with the same settings and data is resumed.",
        )
        trials = c2.number_input("Trials", 1, 10_000, 20, key="w.tune.trials", help="Trials of the study in total.")
        workers = c3.number_input(
            "Parallel workers",
            1,
            max(1, os.cpu_count() or 1),
            1,
            key="w.tune.workers",
            help="Local worker processes sharing the study (each trains one trial at a time).",
        )
        c1, c2, c3 = st.columns(3)
        metric = c1.selectbox(
            "Objective",
            list(tune.METRICS),
            format_func=METRIC_LABELS.get,
            key="w.tune.metric",
            help="Mean grouped cross-validation validation auROC or loss over the folds.",
        )
        pruner = c2.selectbox(
            "Pruner",
            list(tune.PRUNERS),
            format_func=PRUNER_LABELS.get,
            key="w.tune.pruner",
            help="Stops trials whose per-epoch validation value is worse than the others' (after the start-up trials).",
        )
        sampler = c3.selectbox("Sampler", list(tune.SAMPLERS), format_func=SAMPLER_LABELS.get, key="w.tune.sampler")
        c1, c2, c3, c4 = st.columns(4)
        folds = c1.number_input("CV folds", 2, 10, d_tune.folds, key="w.tune.folds", help="Grouped folds per trial.")
        epochs = c2.number_input(
            "Epochs per fold", 1, 1000, d_base.train.epochs, key="w.tune.epochs", help="Maximum epochs per fold."
        )
        patience = c3.number_input(
            "Early-stopping patience",
            0,
            1000,
            d_base.train.early_stopping_patience,
            key="w.tune.patience",
            help="Epochs without a better validation loss before a fold stops (0 = never).",
        )
        seed = c4.number_input("Seed", 0, 2**31 - 1, d_tune.seed, key="w.tune.seed", help="Sampler and split seed.")
        with st.expander(f"Search space ({len(tune.PARAM_NAMES)} parameters)"):
            values = _space_inputs()
        with st.expander("PhyloAug orthologs (every trial swaps genes for orthologs; phylo_rate can be searched)"):
            o_table = st.file_uploader("Ortholog table (gene_id, ortholog_id[, species])", key="w.tune.ortholog_table")
            o_fastas = (
                st.file_uploader(
                    "Orthologs' promoter FASTA (one or more)", accept_multiple_files=True, key="w.tune.ortholog_fastas"
                )
                or []
            )
        submitted = st.form_submit_button("Start study", type="primary", icon=":material/play_arrow:")
    if not submitted:
        return
    with widgets.user_errors():
        space = tune_view.space_from_form(values)
        settings = tune.TuneConfig(metric=metric, folds=int(folds), pruner=pruner, sampler=sampler, seed=int(seed))
        base = tune_view.base_config(epochs=int(epochs), patience=int(patience), seed=int(seed))
        orthologs = None
        if o_table is not None or o_fastas:
            if o_table is None:
                raise DeepDifEInputError("the ortholog FASTA needs the ortholog table as well: upload it")
            orthologs = jobs.save_ortholog_uploads(
                (o_table.name, o_table.getvalue()), [(f.name, f.getvalue()) for f in o_fastas]
            )
        with st.spinner("Creating the study…"):
            job_id = tune_view.start_study(
                name.strip(),
                data=ds["path"],
                space=space,
                settings=settings,
                base=base,
                trials=int(trials),
                workers=int(workers),
                orthologs=orthologs,
            )
        state.put(state.TUNE_JOB_ID, job_id)
        state.put(state.TUNE_STUDY, name.strip())
        st.rerun()


def _resume_form(records: list[dict]) -> None:
    names = [r["name"] for r in records]
    current = state.get(state.TUNE_STUDY)
    name = st.selectbox(
        "Study to resume", names, index=names.index(current) if current in names else 0, key="w.tune.resume_study"
    )
    rec = next(r for r in records if r["name"] == name)
    done = None
    with widgets.user_errors():
        done = tune_view.counts(tune_view.trials(name, tune_view.storage_url(name)))["finished"]
    if done is None:
        return
    st.caption(
        f"{done} trials finished · objective {rec.get('metric')} · {rec.get('n_genes', '?')} genes. "
        "Resuming keeps the study's data, search space and settings."
    )
    c1, c2 = st.columns(2)
    trials = c1.number_input(
        "Trials in total", 1, 10_000, done + 10, key=f"w.tune.resume_trials.{name}", help="The study's new budget."
    )
    workers = c2.number_input("Parallel workers", 1, max(1, os.cpu_count() or 1), 1, key="w.tune.resume_workers")
    if st.button("Resume study", type="primary", icon=":material/play_arrow:", key="w.tune.resume"):
        with widgets.user_errors():
            job_id = tune_view.resume_study(name, trials=int(trials), workers=int(workers))
            state.put(state.TUNE_JOB_ID, job_id)
            state.put(state.TUNE_STUDY, name)
            st.rerun()


def _start_panel(ds: dict | None, records: list[dict]) -> None:
    mode = st.radio("Start", MODES, horizontal=True, key="w.tune.mode", label_visibility="collapsed")
    if mode == MODES[1]:
        if records:
            _resume_form(records)
        else:
            st.caption("No studies to resume yet.")
    elif ds is None:
        st.warning("No dataset yet: build one or load the demo on the Data page first.")
    else:
        _new_form(ds)


# ----------------------------------------------------------------------------- one study


def _pick_study(records: list[dict]) -> str:
    names = [r["name"] for r in records]
    current = state.get(state.TUNE_STUDY)
    if current not in names:
        current = names[0]
        state.put(state.TUNE_STUDY, current)
    key = f"w.tune.study_pick.{current}"
    st.selectbox(
        "Studies (newest first)",
        names,
        index=names.index(current),
        key=key,
        on_change=lambda: state.put(state.TUNE_STUDY, st.session_state[key]),
    )
    return current


def _followed_job(name: str) -> dict | None:
    """The session's tuning job if it works on ``name``, else the study's newest tuning job."""
    found = tune_view.jobs_of(name)
    current = state.get(state.TUNE_JOB_ID)
    mine = next((j for j in found if j["id"] == current), None)
    return mine or (found[0] if found else None)


def _study_result(job_id: str, job: dict) -> None:
    """The study job's final state as a message."""
    if job["state"] == "stopped":
        st.warning(
            "The study was stopped. Finished trials are kept; a trial that was running is marked failed "
            "and run again when you resume the study."
        )
    elif job["state"] == "done":
        st.success("The study reached its number of trials.")


def _study_title(job: dict) -> str:
    args = job.get("args") or {}
    return (
        f"**{widgets.md(args.get('study', ''))}** · {widgets.md(args.get('workers', 1))} worker(s) · "
        f"job `{widgets.md(job['id'])}`"
    )


def _study_progress(job_id: str, job: dict) -> None:
    with widgets.user_errors():
        _study_view(str((job.get("args") or {}).get("study", "")), job)


STUDY_VIEW = JobView(
    noun="tuning job",
    stop_key="w.tune.stop",
    title=_study_title,
    progress=_study_progress,
    result=_study_result,
    stop_label="Stop study",
    stop_note="Stop requested: the workers end after the current batch; the trial they were running is marked "
    "failed and run again when you resume the study.",
    internal_note="Finished trials are kept; details are in the job folder's log.txt, please report the job id.",
)


def _best_card(best: dict | None) -> None:
    with st.container(border=True):
        if best is None:
            st.markdown("**Best trial**")
            st.caption("No completed trial yet.")
            return
        c1, c2 = st.columns([1, 3])
        c1.metric(
            f"Best {best['metric']} ({'max' if best['direction'] == 'maximize' else 'min'})",
            f"{best['value']:.4f}",
            help="Mean over the cross-validation folds.",
        )
        c1.caption(f"trial {best['trial']}")
        rows = [{"parameter": k, "value": str(tune_view.fmt_value(v))} for k, v in best["params"].items()]
        c2.dataframe(rows, hide_index=True, width="stretch", height=min(420, 36 + 35 * len(rows)))


def _study_view(name: str, job: dict | None) -> None:
    """Counts, best-trial card, trial table and Optuna figures, all read from the study's storage."""
    rec = tune_view.record(name)
    if rec is None:
        st.warning(f"The record of study {widgets.md(repr(name))} is gone.")
        return
    url = tune_view.storage_url(name)
    table = tune_view.trials(name, url)
    c = tune_view.counts(table)
    target = (job.get("args") or {}).get("trials") if job else None
    base = rec.get("base", {}).get("train", {})
    st.caption(
        f"Objective: mean {rec.get('tune', {}).get('folds', '?')}-fold validation {rec.get('metric')} · "
        f"pruner {rec.get('tune', {}).get('pruner')} · sampler {rec.get('tune', {}).get('sampler')} · "
        f"up to {base.get('epochs', '?')} epochs per fold · {rec.get('n_tuning_genes', '?')} of "
        f"{rec.get('n_genes', '?')} genes (the test part is never seen)"
    )
    st.text(f"Storage: {rec.get('storage', '')}")
    line = (
        f"{c['finished']} trials finished ({c['complete']} complete, {c['pruned']} pruned) · "
        f"{c['running']} running · {c['fail']} failed"
    )
    if target:
        st.progress(min(1.0, c["finished"] / target), text=f"{c['finished']} of {target} trials · " + line)
    else:
        st.caption(line)
    _best_card(tune_view.best(name, url))
    st.markdown("**Trials**")
    if table.empty:
        st.caption("No trials yet: the first one starts once a worker has loaded TensorFlow.")
    else:
        st.dataframe(
            tune_view.trials_display(table),
            hide_index=True,
            width="stretch",
            column_config={
                "number": st.column_config.NumberColumn("trial"),
                "value": st.column_config.NumberColumn(rec.get("metric", "value"), format="%.4f"),
                "duration_s": st.column_config.NumberColumn("duration (s)", format="%.1f"),
                "epochs": st.column_config.NumberColumn("epochs (all folds)"),
                "params": st.column_config.TextColumn("params", width="large"),
            },
            key=f"w.tune.trials.{name}",
        )
    figs = cache.tune_figures(name, url, tune_view.table_stamp(table))
    c1, c2 = st.columns(2)
    for col, key, title in (
        (c1, "history", "Optimisation history"),
        (c2, "parallel", "Parallel coordinates"),
    ):
        with col:
            if figs[key] is None:
                st.caption(f"{title}: {figs['notes'][key]}.")
            else:
                widgets.chart(figs[key], key=f"tune.{key}.{name}")
    if figs["importances"] is None:
        st.caption(f"Parameter importances: {figs['notes']['importances']}.")
    else:
        widgets.chart(figs["importances"], key=f"tune.importances.{name}")


# ----------------------------------------------------------------------------- train with the best parameters


def _train_progress(job_id: str, job: dict) -> None:
    prog = jobs.train_progress(job_id, job)
    name = widgets.md((job.get("args") or {}).get("model_name"))
    text = (
        f"Training {name}: epoch {prog.epoch} of {prog.epochs} · elapsed {jobs.format_seconds(prog.elapsed_s)}"
        if prog.epochs
        else f"Training {name}: loading the data and TensorFlow…"
    )
    st.progress(prog.fraction, text=text)


def _train_result(job_id: str, job: dict) -> None:
    res = jobs.result(job_id) or {}
    if res.get("model_path"):
        metrics = res.get("metrics") or {}
        auroc = metrics.get("auroc")
        st.success(
            f"Model {widgets.md(res.get('model_name'))} is in the registry (trial {widgets.md(res.get('trial'))} "
            f"of study {widgets.md((job.get('args') or {}).get('study', ''))}"
            + (f"; test auROC {auroc:.3f}" if isinstance(auroc, float) else "")
            + "); see the Models page."
        )
    elif job["state"] == "stopped":
        st.warning("Training was stopped before it began; no model was saved.")


TRAIN_VIEW = JobView(
    noun="training job",
    stop_key="w.tune.train_stop",
    title=lambda job: f"**{widgets.md((job.get('args') or {}).get('model_name', ''))}**",
    progress=_train_progress,
    result=_train_result,
    stop_label="Stop training",
    stop_note="Stop requested: training ends after the current batch and keeps the best weights.",
)


def _train_best(name: str) -> None:
    st.subheader("Train with the best parameters")
    train_jobs = tune_view.jobs_of(name, tune_view.TRAIN_KIND)
    last = train_jobs[0] if train_jobs else None
    if last is not None:
        show(TRAIN_VIEW, last)
        if last["state"] in LIVE_STATES:
            return
    with st.form("w.tune.train_form"):
        st.caption(
            "One model on the study's dataset with the best trial's parameters and the study's seed and test part; "
            "its provenance records the study."
        )
        c1, c2, c3 = st.columns(3)
        model_name = c1.text_input("Model name", value=f"{name}-best", key=f"w.tune.model_name.{name}")
        epochs = c2.number_input("Epochs", 1, 10_000, TrainConfig().epochs, key="w.tune.train_epochs")
        patience = c3.number_input(
            "Early-stopping patience", 0, 10_000, TrainConfig().early_stopping_patience, key="w.tune.train_patience"
        )
        submitted = st.form_submit_button("Train with best parameters", icon=":material/model_training:")
    if submitted:
        with widgets.user_errors():
            tune_view.start_train_best(name, model_name=model_name, epochs=int(epochs), patience=int(patience))
            st.rerun()


# ----------------------------------------------------------------------------- page


def render() -> None:
    """Draw the tune page."""
    st.title("Tune")
    st.caption(
        "Search hyperparameters with Optuna: every trial is scored by grouped cross-validation on the genes "
        "outside the test part, and bad trials are pruned early. Studies are saved in the workspace and "
        "can be resumed; `deepdife tune` works on the same studies."
    )
    ds = sidebar.active_dataset()
    records = tune_view.studies()
    _start_panel(ds, records)
    st.divider()
    if not records:
        st.caption("No studies yet.")
        return
    name = _pick_study(records)
    job = _followed_job(name)
    if job is not None and job["state"] in LIVE_STATES:
        show(STUDY_VIEW, job)
        return
    if job is not None and job["state"] == "failed":
        failure(STUDY_VIEW, job)
    elif job is not None:
        _study_result(job["id"], job)
    with widgets.user_errors():
        _study_view(name, job)
        if tune_view.best(name, tune_view.storage_url(name)) is not None:
            _train_best(name)
