"""Motifs page: start a TF-MoDISco discovery job, follow it, browse motif runs, patterns and their genes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import cache, jobs, motif_runs, sidebar, state, widgets
from dashboard.datasets import list_datasets
from dashboard.job_panel import JobView, followed_job, run_name, show
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.interpret.explain import ExplainConfig
from deepdife_core.jobs.motifs import GENE_SETS, select_genes, summarize_progress
from deepdife_core.jobs.runner import read_events
from deepdife_core.motifs.modisco import MatchConfig, MotifConfig, jaspar_releases

#: (model, gene set, name) of the default run name filled in last
RUN_NAME_AUTO = "motifs.run_name_auto"
SALIENCY_PAGE = Path(__file__).resolve().parents[1] / "pages" / "saliency.py"
METHODS = {
    "deepshap": "DeepSHAP (accurate; ~0.3 s per gene on 2 cores)",
    "gradxinput": "Gradient × input (fast preview)",
    "ism": "In-silico mutagenesis (~0.3 s per gene)",
}
SECONDS_PER_GENE = {"deepshap": 0.3, "ism": 0.3, "gradxinput": 0.002}
MOTIF_HELP = {
    "max_seqlets_per_metacluster": "Seqlets kept per sign (positive / negative) for clustering (modisco -n).",
    "sliding_window_size": "Width in bp of the window whose summed contribution picks seqlets (modisco -s).",
    "flank_size": "Bases added on each side of a seqlet window (modisco -f).",
    "window": "Central part of the promoters searched, in bp (modisco -w); 0 = the whole sequence.",
    "n_leiden_runs": "Leiden clusterings per step; more runs are steadier and slower (modisco -l).",
    "seed": "0 keeps the gene order; another value shuffles the genes given to TF-MoDISco with this seed.",
    "min_metacluster_size": "A sign with this many seqlets or fewer is skipped; lower it for small gene sets.",
    "final_min_cluster_size": "Smallest reported pattern, in seqlets; lower it for small gene sets.",
}
Q_OPTIONS = [1e-4, 1e-3, 0.01, 0.05, 0.1, 1.0]
_md = widgets.md  # user-derived names are shown as text, never as markup


# ----------------------------------------------------------------------------- start form


def _gene_list_input() -> list[str] | None:
    """Gene IDs pasted or uploaded (None when nothing was given)."""
    from deepdife_core.data.io import read_gene_list

    c1, c2 = st.columns(2)
    pasted = c1.text_area("Paste gene IDs (one per line)", key="w.motifs.genes_text", height=120)
    up = c2.file_uploader("…or upload a gene list", type=["txt", "csv", "tsv", "list"], key="w.motifs.genes_file")
    if up is not None:
        return read_gene_list(up.getvalue(), name=up.name)
    if pasted.strip():
        return read_gene_list(pasted.encode(), name="pasted gene list")
    return None


def _database_input() -> tuple[str | None, str | None]:
    """(``motif_db`` spec or None when an upload is missing/invalid, JASPAR release)."""
    kind = st.radio(
        "Motif database",
        ["JASPAR CORE plants", "Upload a MEME file"],
        horizontal=True,
        key="w.motifs.db_kind",
        help="Patterns are matched to known motifs with TOMTOM. JASPAR ships with DeepDifE (offline).",
    )
    if kind == "JASPAR CORE plants":
        releases = jaspar_releases()
        rel = st.selectbox(
            "JASPAR release",
            releases,
            index=0,
            key="w.motifs.jaspar_release",
            help="Releases shipped with pyjaspar; the newest is the default.",
        )
        return "jaspar-plants", rel
    up = st.file_uploader(
        "MEME motif file",
        type=["meme", "txt"],
        key="w.motifs.meme",
        help="MEME minimal motif format (version 4, DNA), e.g. DeepDifE's JASPAR + CisBP file.",
    )
    if up is None:
        st.caption("Upload a MEME file to start.")
        return None, None
    try:
        path, n = motif_runs.save_uploaded_meme(up.getvalue(), up.name)
    except DeepDifEInputError as exc:
        st.error(_md(exc))
        return None, None
    st.caption(f"{n:,} motifs read from the uploaded file.")
    return str(path), None


def _motif_config_inputs() -> dict:
    d = MotifConfig()
    vals: dict = {}
    with st.expander("TF-MoDISco parameters"):
        cols = st.columns(3)
        main = ("max_seqlets_per_metacluster", "sliding_window_size", "flank_size", "window", "n_leiden_runs", "seed")
        for i, name in enumerate(main):
            default = 0 if name == "window" else getattr(d, name)
            vals[name] = int(
                cols[i % 3].number_input(
                    name.replace("_", " ").capitalize(),
                    min_value=0,
                    value=int(default),
                    step=1,
                    key=f"w.motifs.{name}",
                    help=MOTIF_HELP[name],
                )
            )
        c1, c2, c3 = st.columns(3)
        for col, name in ((c1, "min_metacluster_size"), (c2, "final_min_cluster_size")):
            vals[name] = int(
                col.number_input(
                    name.replace("_", " ").capitalize(),
                    min_value=0,
                    value=int(getattr(d, name)),
                    step=1,
                    key=f"w.motifs.{name}",
                    help=MOTIF_HELP[name],
                )
            )
        vals["top_k"] = int(
            c3.number_input(
                "Matches per pattern",
                min_value=1,
                max_value=10,
                value=MatchConfig.top_k,
                key="w.motifs.top_k",
                help="TOMTOM top-k.",
            )
        )
    vals["window"] = vals["window"] or None
    return vals


def _preview(ds: dict, model_path: str, gene_set: str, genes: list[str] | None) -> int | None:
    """Number of genes the job will use (None for predicted genes, decided by the job)."""
    if gene_set == "predicted":
        st.caption("The job first predicts every gene of the dataset and keeps those with probability ≥ 0.5.")
        return None
    if gene_set == "list" and not genes:
        return 0
    df = cache.dataset_table(ds["path"])
    sel, note = select_genes(df, gene_set, genes=genes, model_folder=model_path)
    st.caption(f"{_records_count(sel['gene_id'])}: {_md(note)}.")  # the note names listed gene IDs (user input)
    return len(sel)


def _records_count(ids: pd.Series) -> str:
    """``N genes``, or ``N records of M genes (K genes have several records (alternative TSSs), all kept)``."""
    from deepdife_core.data.io import record_groups

    groups = record_groups(ids.astype(str))
    multi = sum(len(r) > 1 for r in groups.values())
    if not multi:
        return f"{len(ids):,} genes"
    return (
        f"{len(ids):,} records of {len(groups):,} genes ({multi:,} genes have several records "
        "(alternative TSSs), all kept)"
    )


def _start_form(ds: dict, model_path: str) -> None:
    model = Path(model_path).name
    st.markdown(f"**Model** {_md(model)} · **dataset** {_md(ds['name'])} (change them in the sidebar)")
    gene_set = st.radio(
        "Genes",
        list(GENE_SETS),
        format_func=lambda k: GENE_SETS[k].capitalize(),
        horizontal=True,
        key="w.motifs.gene_set",
    )
    genes = None
    n_genes = None
    ok = True
    with widgets.user_errors():
        ok = False
        if gene_set == "list":
            genes = _gene_list_input()
        n_genes = _preview(ds, model_path, gene_set, genes)
        ok = n_genes is None or n_genes >= 2
    c1, c2, c3 = st.columns(3)
    method = c1.selectbox("Attributions", list(METHODS), format_func=METHODS.get, key="w.motifs.method")
    n_bg = 100
    if method == "deepshap":
        n_bg = int(
            c2.number_input(
                "DeepSHAP references per gene",
                min_value=1,
                max_value=1000,
                value=100,
                key="w.motifs.n_background",
                help="Dinucleotide shuffles of each gene used as references (DeepDifE uses 100).",
            )
        )
    if n_genes:
        c3.caption(
            f"Attributions of {n_genes:,} genes take about "
            f"{jobs.format_seconds(n_genes * SECONDS_PER_GENE[method])} (genes already explained with the same "
            "settings are read from the attribution cache)."
        )
        if n_genes < 200:
            st.caption(
                "Few genes: TF-MoDISco may find no pattern with the defaults; lower the minimum sizes "
                "under TF-MoDISco parameters."
            )
    motif_db, release = _database_input()
    params = _motif_config_inputs()
    key = "w.motifs.run_name"
    # the default name follows the model and gene set until the user types a name of their own
    auto = st.session_state.get(RUN_NAME_AUTO)
    current = st.session_state.get(key)
    if not current or (auto is not None and current == auto[2] and tuple(auto[:2]) != (model, gene_set)):
        fresh = motif_runs.default_run_name(model, gene_set, datetime.now().strftime("%Y%m%d-%H%M%S"))
        st.session_state[key] = fresh
        st.session_state[RUN_NAME_AUTO] = (model, gene_set, fresh)
    name = st.text_input("Run name", key=key, help="The folder name of the run under workspace/motifs.")
    ready = ok and motif_db is not None
    if st.button(
        "Start discovery", key="w.motifs.start", type="primary", disabled=not ready, icon=":material/play_arrow:"
    ):
        with widgets.user_errors():
            top_k = params.pop("top_k")
            job_id = motif_runs.start_discovery(
                run_id=name.strip(),
                model_path=model_path,
                dataset_name=ds["name"],
                dataset_path=ds["path"],
                gene_set=gene_set,
                genes=genes,
                motif_db=motif_db,
                jaspar_release=release,
                config=MotifConfig(**params),
                explain=ExplainConfig(method=method, n_background=n_bg),
                top_k=top_k,
            )
            state.put(state.MOTIFS_JOB_ID, job_id)
            del st.session_state[key]  # the next run gets a fresh default name
            st.rerun()


# ----------------------------------------------------------------------------- job panel


def _on_end(job_id: str, job: dict) -> None:
    res = jobs.result(job_id) or {}
    if job["state"] == "done" and res.get("run_id"):
        state.put(state.MOTIFS_RUN, res["run_id"])  # open the new run
        state.put(state.MOTIFS_PATTERN, None)


def _progress(job_id: str, job: dict) -> None:
    prog = summarize_progress(read_events(jobs.job_folder(job_id)))
    st.progress(prog.fraction, text=prog.text)


def _result(job_id: str, job: dict) -> None:
    if job["state"] == "stopped":
        note = (jobs.result(job_id) or {}).get("note", "")
        st.warning(f"Discovery run {_md(run_name(job))} was stopped; no run was saved. {_md(note)}".strip())
    else:
        res = jobs.result(job_id) or {}
        st.success(
            f"Discovery run {_md(res.get('run_id', run_name(job)))} finished: {res.get('n_patterns', '?')} pattern(s) "
            f"in {res.get('n_genes', '?')} genes ({jobs.format_seconds(res.get('seconds'))})."
        )


VIEW = JobView(
    noun="motif job",
    stop_key="w.motifs.stop",
    title=lambda job: f"**Discovery run {_md(run_name(job))}**",
    progress=_progress,
    result=_result,
    on_end=_on_end,
    stop_note="Stop requested: the job ends after the current step (TF-MoDISco itself cannot be interrupted).",
    input_prefix=lambda job: f"Discovery run {_md(run_name(job))}: ",
)


def _job_panel() -> None:
    job = followed_job("motifs", state.MOTIFS_JOB_ID)
    if job is not None:
        show(VIEW, job)


# ----------------------------------------------------------------------------- runs


def _pick_run(runs: list[dict]) -> dict | None:
    by_id = {r["id"]: r for r in runs}
    current = state.get(state.MOTIFS_RUN)
    if current and current not in by_id:
        st.warning(f"Motif run '{_md(current)}' is no longer there (deleted or renamed); showing another one.")
        current = None
        state.put(state.MOTIFS_PATTERN, None)
    if not runs:
        state.put(state.MOTIFS_RUN, None)
        return None
    if current is None:
        current = runs[0]["id"]
        state.put(state.MOTIFS_RUN, current)
    ids = list(by_id)
    key = f"w.motifs.run_pick.{current}"

    def pick() -> None:
        state.put(state.MOTIFS_RUN, st.session_state[key])
        state.put(state.MOTIFS_PATTERN, None)

    st.selectbox(
        "Motif runs (newest first)",
        ids,
        index=ids.index(current),
        format_func=lambda i: motif_runs.run_label(by_id[i]),
        key=key,
        on_change=pick,
    )
    return by_id[current]


def _downloads(run: motif_runs.RunData) -> None:
    folder = Path(run.folder)
    cols = st.columns(len(motif_runs.DOWNLOADS))
    name = folder.name
    for col, (fname, mime) in zip(cols, motif_runs.DOWNLOADS, strict=True):
        try:
            data = (folder / fname).read_bytes()
        except OSError:
            continue
        col.download_button(
            fname,
            data=data,
            file_name=f"{name}-{fname}",
            mime=mime,
            key=f"w.motifs.dl.{fname}",
            on_click="ignore",
            icon=":material/download:",
        )


def _run_header(run: motif_runs.RunData) -> None:
    info = run.info
    bits = [
        f"model {run.model or '?'}",
        f"dataset {info.get('dataset') or info.get('data') or '?'}",
        f"{info.get('n_genes', info.get('n_sequences', '?'))} genes ({info.get('gene_set_note') or info.get('gene_set') or 'given'})",
        f"attributions {info.get('attribution', '?')}",
        f"database {info.get('database') or 'none'}",
        f"created {str(info.get('created', '?')).replace('T', ' ')}",
    ]
    st.text(" · ".join(str(b) for b in bits))
    _downloads(run)


def _on_table_select(names: list[str]) -> None:
    sel = st.session_state.get("w.motifs.pattern_table")
    rows = list(sel["selection"]["rows"]) if sel else []
    if rows and rows[0] < len(names):
        state.put(state.MOTIFS_PATTERN, names[rows[0]])


def _pattern_table(run: motif_runs.RunData) -> None:
    st.subheader("Patterns")
    if run.patterns.empty:
        st.info("TF-MoDISco found no pattern in this run. Try more genes or lower the minimum sizes.")
        return
    c1, c2 = st.columns(2)
    sign = c1.radio("Sign", ["both", "positive", "negative"], horizontal=True, key="w.motifs.sign")
    max_q = c2.select_slider(
        "Best match q-value at most",
        options=Q_OPTIONS,
        value=1.0,
        format_func=lambda q: "any (also unmatched)" if q >= 1 else f"{q:g}",
        key="w.motifs.max_q",
    )
    signs = {"both": ("pos", "neg"), "positive": ("pos",), "negative": ("neg",)}[sign]
    view = motif_runs.pattern_view(run, signs=signs, max_q=float(max_q))
    if view.empty:
        st.caption("No pattern passes these filters.")
        return
    logos = motif_runs.logo_paths(run, list(view["pattern"]))
    view.insert(3, "forward CWM", [cache.image_uri(logos[n][0]) for n in view["pattern"]])
    view.insert(4, "reverse CWM", [cache.image_uri(logos[n][1]) for n in view["pattern"]])
    names = list(view["pattern"])
    fmt = {c: st.column_config.NumberColumn(c, format="%.2e") for c in ("best q", "Fisher p")}
    st.dataframe(
        view,
        hide_index=True,
        key="w.motifs.pattern_table",
        on_select=lambda: _on_table_select(names),
        selection_mode="single-row",
        row_height=60,
        column_config={
            "forward CWM": st.column_config.ImageColumn("forward CWM", width="medium"),
            "reverse CWM": st.column_config.ImageColumn("reverse CWM", width="medium"),
            "odds ratio": st.column_config.NumberColumn("odds ratio", format="%.2f"),
            **fmt,
        },
    )
    st.caption(
        "Logos: contribution weight matrices on both strands. Matches: TF · family · TOMTOM q-value · database ID. "
        "Enrichment: genes with the pattern among responsive vs non-responsive genes (Fisher's exact test). "
        "Select a row (or pick below) to open a pattern."
    )


# ----------------------------------------------------------------------------- pattern detail


def _open_in_saliency(run: motif_runs.RunData, pattern: str, gene: str, carriers: list[str]) -> None:
    hl = motif_runs.highlight_of(run, pattern, gene)
    state.put(state.SALIENCY_GENE, gene)
    state.put(state.SALIENCY_GENE_LIST, carriers)
    state.put(state.SALIENCY_HIGHLIGHT, hl)
    state.put(state.SALIENCY_HIGHLIGHT_GENE, gene if hl is not None else None)
    params = {"gene": gene}
    if motif_runs.model_exists(run.model):
        state.put(state.MODEL_ACTIVE, run.model)
        params["model"] = run.model
    dataset = str(run.info.get("dataset") or "")
    if dataset in {d["name"] for d in list_datasets()}:
        state.put(state.DATA_ACTIVE, dataset)
        params["dataset"] = dataset
    if hl is not None:
        params["hl"] = f"{hl[0]}-{hl[1]}"
    st.switch_page(SALIENCY_PAGE, query_params=params)


def _pattern_detail(run: motif_runs.RunData) -> None:
    names = [p.name for p in run.result.patterns]
    if not names:
        return
    current = state.get(state.MOTIFS_PATTERN)
    if current not in names:
        current = names[0]
        state.put(state.MOTIFS_PATTERN, current)
    key = f"w.motifs.pattern_pick.{Path(run.folder).name}.{current}"
    st.subheader("Pattern detail")
    st.selectbox(
        "Pattern",
        names,
        index=names.index(current),
        key=key,
        on_change=lambda: state.put(state.MOTIFS_PATTERN, st.session_state[key]),
    )
    row = run.patterns[run.patterns["pattern"] == current]
    row = row.iloc[0] if len(row) else pd.Series(dtype=object)
    seqlets = run.seqlets[run.seqlets["pattern"] == current] if len(run.seqlets) else run.seqlets
    genes = motif_runs.gene_view(run, current)
    bal = motif_runs.strand_balance(seqlets)
    c = st.columns(5)
    c[0].metric("Seqlets", f"{len(seqlets):,}")
    c[1].metric("Genes", f"{len(genes):,}")
    if "n_genes_responsive" in row:
        c[2].metric("Responsive / not", f"{int(row['n_genes_responsive'])} / {int(row['n_genes_nonresponsive'])}")
        c[3].metric("Fisher p", f"{float(row['fisher_p']):.2g}")
    c[4].metric("Strands + / −", f"{bal['plus']} / {bal['minus']}", help="Seqlets on each strand of the promoter.")
    st.caption(
        f"Strand balance: {bal['plus']} forward, {bal['minus']} reverse (two-sided binomial p = {bal['p']:.2g} "
        "against 50:50)."
        + (f" Consensus {row['consensus']}." if "consensus" in row and isinstance(row["consensus"], str) else "")
    )
    logos = motif_runs.logo_paths(run, [current]).get(current)
    if logos:
        l1, l2 = st.columns(2)
        l1.image(str(logos[0]), caption="forward CWM")
        l2.image(str(logos[1]), caption="reverse CWM")
    m = run.matches[run.matches["pattern"] == current] if len(run.matches) else run.matches
    if len(m):
        st.dataframe(
            m[["rank", "match_id", "match_name", "family", "tf_class", "qvalue", "pvalue", "strand"]],
            hide_index=True,
            key="w.motifs.matches",
            column_config={
                "qvalue": st.column_config.NumberColumn("q-value", format="%.2e"),
                "pvalue": st.column_config.NumberColumn("p-value", format="%.2e"),
            },
        )
    if len(seqlets):
        label = seqlets["label"].map({1: "responsive", 0: "non-responsive"}).fillna("unlabelled")
        fig = widgets.histogram(
            seqlets["pos_from_tss"], "Seqlet positions relative to the TSS", "bp from the TSS (sequence end)", 40, label
        )
        fig.update_yaxes(title_text="seqlets")
        widgets.chart(fig, key="motifs.positions")
    link = st.column_config.LinkColumn("Saliency", display_text="open ↗", help="Open the gene on the Saliency page")
    st.markdown("**Genes carrying the pattern** (links open the Saliency page with the first seqlet highlighted)")
    st.dataframe(genes, hide_index=True, key="w.motifs.genes", column_config={"saliency": link})
    if len(genes):
        carriers = list(genes["gene_id"])
        c1, c2 = st.columns([3, 1])
        gene = c1.selectbox("Gene", carriers, key=f"w.motifs.gene_pick.{current}")
        if c2.button("Open in Saliency", key="w.motifs.open_saliency", icon=":material/insights:"):
            _open_in_saliency(run, current, gene, carriers)
    with st.expander(f"All {len(seqlets):,} seqlets"):
        st.dataframe(
            motif_runs.seqlet_view(run, current),
            hide_index=True,
            key="w.motifs.seqlets",
            column_config={"saliency": link},
        )


def _runs_section() -> None:
    runs = motif_runs.list_runs()
    picked = _pick_run(runs)
    if picked is None:
        st.caption("No motif runs yet: start a discovery above.")
        return
    try:
        run = cache.motif_run(picked["folder"])
        _run_header(run)
        _pattern_table(run)
        _pattern_detail(run)
    except DeepDifEInputError as exc:  # deleted (or damaged) while shown
        st.warning(f"{_md(exc)}. Pick another run.")
        state.put(state.MOTIFS_RUN, None)
        state.put(state.MOTIFS_PATTERN, None)


def render() -> None:
    """Draw the motifs page."""
    st.title("Motifs")
    ds = sidebar.active_dataset()
    model_path = sidebar.active_model()
    if model_path is None or ds is None:
        missing = " and ".join(
            x
            for x, gone in (
                ("a dataset (build one or load the demo on the Data page)", ds is None),
                ("a model (train one on the Train page, or import one on the Models page)", model_path is None),
            )
            if gone
        )
        st.info(f"Motif discovery needs {missing}. Earlier motif runs can still be browsed below.")
    else:
        with st.expander("New motif discovery", expanded=not motif_runs.list_runs(), icon=":material/add:"):
            _start_form(ds, model_path)
    _job_panel()
    st.divider()
    _runs_section()
