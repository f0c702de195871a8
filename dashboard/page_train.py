"""Train page: a config form, a background training job, live progress and the final metrics."""

from __future__ import annotations

import zlib
from datetime import datetime
from pathlib import Path

import streamlit as st

from dashboard import jobs, sidebar, state, widgets
from dashboard.constants import LIVE_STATES, state_words
from dashboard.job_panel import JobView, show
from dashboard.paths import models_dir
from deepdife_core.config import PhyloConfig
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import read_json


def _default_model_name(dataset: str) -> str:
    return f"{dataset}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def _start_form(ds: dict) -> None:
    with st.form("w.train.form"):
        st.markdown(
            f"**Dataset:** `{ds['name']}` — {ds['counts'].get('genes', '?')} genes, "
            f"{ds['counts'].get('length', '?')} bp"
        )
        name = st.text_input(
            "Model name",
            value=_default_model_name(ds["name"]),
            key="w.train.model_name",
            help="The folder name of the new model in the registry.",
        )
        cfgs = None
        with widgets.user_errors():
            cfgs = widgets.train_config_form("w.train")
        extra = _phylo_and_cv_inputs()
        submitted = st.form_submit_button("Start training", type="primary", icon=":material/play_arrow:")
    if submitted and cfgs is not None:
        with widgets.user_errors():
            phylo, orthologs = None, None
            if extra["phylo"]:
                if extra["table"] is None:
                    raise DeepDifEInputError("PhyloAug needs the ortholog table: upload it, or switch PhyloAug off")
                orthologs = jobs.save_ortholog_uploads(
                    (extra["table"].name, extra["table"].getvalue()), [(f.name, f.getvalue()) for f in extra["fastas"]]
                )
                phylo = PhyloConfig(enabled=True, rate=extra["rate"], finetune=extra["finetune"])
            job_id = jobs.start_training(
                ds["name"],
                ds["path"],
                name.strip(),
                *cfgs,
                phylo_cfg=phylo,
                orthologs=orthologs,
                cv=extra["cv"],
                refit=extra["refit"],
            )
            state.put(state.TRAIN_JOB_ID, job_id)
            # only a job started in this session makes its model active when it ends
            state.put(state.TRAIN_STARTED, [*(state.get(state.TRAIN_STARTED) or []), job_id])
            st.rerun()


def _phylo_and_cv_inputs() -> dict:
    """PhyloAug (ortholog table + FASTA uploads) and cross-validation inputs (inside the form).

    Defaults are :class:`~deepdife_core.config.PhyloConfig`'s; the options are
    ``deepdife train --orthologs/--ortholog-fasta/--phylo-rate/--phylo-finetune/--cv/--refit``.
    """
    d = PhyloConfig()
    out: dict = {}
    with st.expander("PhyloAug: learn from orthologs too"):
        out["phylo"] = st.checkbox(
            "Use orthologs (PhyloAug)",
            value=d.enabled,
            key="w.train.phylo",
            help="At each batch a training gene is swapped, with the probability below, for one of its orthologs "
            "from another species (Duncan, Mitchell & Moses 2024). Orthologs of validation and test genes are "
            "never used. (deepdife train --orthologs)",
        )
        out["table"] = st.file_uploader(
            "Ortholog table (gene_id, ortholog_id[, species])",
            key="w.train.ortholog_table",
            help="One row per pair, tab- or comma-separated. Without a species column the species is the name of "
            "the FASTA that holds the ortholog.",
        )
        out["fastas"] = (
            st.file_uploader(
                "Orthologs' promoter FASTA (one or more)",
                accept_multiple_files=True,
                key="w.train.ortholog_fastas",
                help="Promoters of the orthologs, fitted to the model's length like the training genes. "
                "(--ortholog-fasta)",
            )
            or []
        )
        c1, c2 = st.columns(2)
        out["rate"] = float(
            c1.number_input(
                "Swap probability per gene and batch",
                0.0,
                1.0,
                float(d.rate),
                0.05,
                key="w.train.phylo_rate",
                help="(--phylo-rate)",
            )
        )
        out["finetune"] = c2.checkbox(
            "Fine-tune on the original genes afterwards",
            value=d.finetune,
            key="w.train.phylo_finetune",
            help="A few more epochs on the genes themselves after PhyloAug. (--phylo-finetune)",
        )
    with st.expander("Cross-validation: several models, one per fold"):
        c1, c2 = st.columns(2)
        out["cv"] = int(
            c1.number_input(
                "Number of folds (0 = one model)",
                0,
                20,
                0,
                1,
                key="w.train.cv",
                help="K-fold grouped cross-validation on the genes outside the test part: K models whose average "
                "is the saved model (an ensemble), with out-of-fold scores. (--cv K)",
            )
        )
        out["refit"] = c2.checkbox(
            "Also train one model on all training genes (refit)",
            value=False,
            key="w.train.refit",
            help="After cross-validation, one more model saved as '<name>_refit'. (--refit)",
        )
    return out


def _job_label(job: dict) -> str:
    args = job.get("args") or {}
    return f"{args.get('model_name', '?')} · {state_words(job['state'])} · {job['id']}"


def _pick_job() -> dict | None:
    """The job the page follows: the session's job, else the newest running one; the user can switch."""
    all_jobs = jobs.list_train_jobs()
    if not all_jobs:
        return None
    by_id = {j["id"]: j for j in all_jobs}
    current = state.get(state.TRAIN_JOB_ID)
    if current not in by_id:
        running = [j for j in all_jobs if j["state"] in LIVE_STATES]
        current = (running or all_jobs)[0]["id"]
        state.put(state.TRAIN_JOB_ID, current)
    ids = list(by_id)
    # the key follows the labels too: the browser keeps a selectbox's old option texts while its key stays
    # the same, which showed a finished run as "queued"
    stamp = zlib.crc32("|".join(_job_label(j) for j in all_jobs).encode())
    key = f"w.train.job_pick.{current}.{stamp:08x}"
    st.selectbox(
        "Training runs (newest first)",
        ids,
        index=ids.index(current),
        format_func=lambda i: _job_label(by_id[i]),
        key=key,
        on_change=lambda: state.put(state.TRAIN_JOB_ID, st.session_state[key]),
    )
    return by_id[current]


def _monitor(job: dict) -> str:
    """What the job's early stopping followed (``val_loss`` unless its train config says otherwise)."""
    return str(((job.get("args") or {}).get("train") or {}).get("monitor") or "val_loss")


def _best_epoch(res: dict) -> int | None:
    """The epoch whose weights the finished job kept: the result's, else the model's provenance."""
    if res.get("best_epoch"):
        return int(res["best_epoch"])
    if res.get("model_path"):
        prov = read_json(Path(res["model_path"]) / "provenance.json", {}) or {}
        if prov.get("best_epoch"):
            return int(prov["best_epoch"])
    return None


def _progress_panel(
    job_id: str, job: dict, best_epoch: int | None = None, kept_head: str | None = None
) -> jobs.TrainProgress:
    """Progress bar, sizes, learning curves (kept epoch marked) and, while live, the not-learning hint.

    After a head selection the curves are those of the kept network (``kept_head``).
    """
    prog = jobs.train_progress(job_id, job)
    live = job["state"] in LIVE_STATES
    if not live and kept_head and prog.by_head.get(kept_head):
        prog.history = prog.by_head[kept_head]
    best = prog.best_epoch if live else (best_epoch or prog.best_epoch)
    st.progress(*progress_text(prog, job["state"], best, _monitor(job)))
    if prog.sizes:
        st.caption(
            f"Genes: {prog.sizes.get('train', 0)} train · {prog.sizes.get('val', 0)} validation · "
            f"{prog.sizes.get('test', 0)} test"
        )
    c1, c2 = st.columns(2)
    loss, auc = widgets.history_figures(prog.history, best_epoch=best, monitor=_monitor(job))
    with c1:
        widgets.chart(loss, key=f"train.loss.{job_id}")
    with c2:
        widgets.chart(auc, key=f"train.auc.{job_id}")
    if live:
        hint = widgets.not_learning_hint(prog.history)
        if hint:
            st.info(hint)
    return prog


def progress_text(
    prog: jobs.TrainProgress, job_state: str, best_epoch: int | None, monitor: str = "val_loss"
) -> tuple[float, str]:
    """The progress bar's fraction and words: live epoch i of n with ETA, or how a finished job ended.

    Early stopping usually ends a run before its maximum number of epochs: the
    bar of an ended job is full and says how many epochs ran of the maximum and
    which epoch's weights were kept.
    """
    if job_state in LIVE_STATES:
        if not prog.epochs:
            return 0.0, "Starting: loading the data and TensorFlow…"
        net = (
            f"Network {prog.candidate + 1} of {prog.n_candidates} (summary: {widgets.md(prog.head or '?')}) · "
            if prog.n_candidates > 1
            else ""
        )
        return prog.fraction, (
            f"{net}Epoch {prog.epoch} of {prog.epochs} · elapsed {jobs.format_seconds(prog.elapsed_s)} · "
            f"ETA {jobs.format_seconds(prog.eta_s)}"
        )
    ran = len(prog.history)
    if not ran:
        return 0.0, f"{state_words(job_state).capitalize()} before the first epoch"
    kept = f"; kept the weights of epoch {best_epoch} ({widgets.monitor_words(monitor)})" if best_epoch else ""
    why = ""
    if job_state == "done" and prog.epochs and prog.epoch < prog.epochs:
        why = f" of at most {prog.epochs} (early stopping ended it)"
    elif prog.epochs:
        why = f" of at most {prog.epochs}"
    return 1.0 if job_state == "done" else prog.fraction, (
        f"{state_words(job_state).capitalize()}: {ran} epoch{'s' if ran != 1 else ''} run{why}{kept} · "
        f"took {jobs.format_seconds(prog.elapsed_s)}"
    )


def head_selection_text(selection: dict) -> str:
    """One sentence on a head selection (``metrics["head_selection"]``): each network's validation value, the kept one."""
    word = widgets.monitor_words(selection.get("monitor", "val_loss"))
    tried = ", ".join(
        f"{widgets.md(c['head'])} {abs(float(c['value'])):.3f} (epoch {c['best_epoch']})"
        for c in selection.get("candidates", [])
    )
    return (
        f"Trained one network per motif summary with the same genes and seed ({word}: {tried}) and kept "
        f"**{widgets.md(selection.get('kept', '?'))}**; the curves are its own."
    )


def _title(job: dict) -> str:
    return f"**{widgets.md((job.get('args') or {}).get('model_name', ''))}**"


def _finished(job_id: str, job: dict) -> None:
    args = job.get("args") or {}
    res = jobs.result(job_id) or {}
    model_name = res.get("model_name", "")
    on_disk = bool(res.get("model_path")) and bool(model_name) and (models_dir() / model_name).is_dir()
    # once per job, the model a job of this session trained becomes the active one (opening the page in
    # another session, or after a reload, never switches the active model by itself)
    if (
        on_disk
        and job_id in (state.get(state.TRAIN_STARTED) or [])
        and job_id not in (state.get(state.TRAIN_ACTIVATED) or [])
    ):
        state.put(state.TRAIN_ACTIVATED, [*(state.get(state.TRAIN_ACTIVATED) or []), job_id])
        if state.get(state.MODEL_ACTIVE) != model_name:
            state.put(state.MODEL_ACTIVE, model_name)
            st.rerun()  # redraw the sidebar with the new active model
    best = _best_epoch(res)
    kept = f"epoch {best} ({widgets.monitor_words(_monitor(job))})" if best else ""
    if job["state"] == "stopped":
        st.warning(
            f"Training was stopped; the model keeps the best weights seen so far{f', those of {kept}' if kept else ''}."
            if res.get("model_path")
            else "Training was stopped before it began; no model was saved."
        )
    else:
        st.success(
            f"Training finished after {res.get('epochs_run', '?')} epochs"
            + (f"; kept the weights of {kept}." if kept else ".")
        )
    if res.get("model_path"):
        st.markdown(
            f"Model **{widgets.md(res.get('model_name', args.get('model_name')))}** is in the registry "
            f"(`{widgets.md(res['model_path'])}`); see the **Models** page."
        )
    if on_disk and state.get(state.MODEL_ACTIVE) != model_name:
        st.button(
            f"Make {widgets.md(model_name)} the active model",
            key=f"w.train.activate.{job_id}",
            on_click=state.put,
            args=(state.MODEL_ACTIVE, model_name),
            icon=":material/check_circle:",
        )
    metrics = res.get("metrics") or {}
    selection = metrics.get("head_selection") or {}
    prog = _progress_panel(job_id, job, best, selection.get("kept"))
    if selection:
        st.caption(head_selection_text(selection))
    if metrics:
        st.subheader(f"Test metrics ({widgets.md(metrics.get('evaluated_on', 'test'))})")
        widgets.show_verdict(widgets.learning_of(metrics, prog.history))
        widgets.metric_row(metrics)
        widgets.baseline_comparison(metrics, key=f"train.baseline.{job_id}")
        roc, pr = widgets.roc_pr_figures(metrics)
        c1, c2, c3 = st.columns(3)
        with c1:
            widgets.chart(roc, key=f"train.roc.{job_id}")
        with c2:
            widgets.chart(pr, key=f"train.pr.{job_id}")
        with c3:
            widgets.chart(widgets.confusion_figure(metrics), key=f"train.cm.{job_id}")


def render() -> None:
    """Draw the train page."""
    st.title("Train")
    ds = sidebar.active_dataset()
    if ds is None:
        st.warning("No dataset yet: build one or load the demo on the Data page first.")
    else:
        _start_form(ds)
    st.divider()
    job = _pick_job()
    if job is None:
        st.caption("No training runs yet.")
        return
    show(VIEW, job)


VIEW = JobView(
    noun="training job",
    stop_key="w.train.stop",
    title=_title,
    progress=lambda job_id, job: _progress_panel(job_id, job),
    result=_finished,
    stop_label="Stop training",
    stop_note="Stop requested: training ends after the current batch and keeps the best weights.",
)
