"""Experiments page: insert, sweep, space, dose, tile and ablate motifs on the active model, as background jobs.

Every experiment runs in a job (:mod:`deepdife_core.experiments.job`) writing
``workspace/experiments/<name>/``; the page follows it, then draws its table with plotly
beside the table and the matplotlib export (SVG / PNG) to download.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import jobs, sidebar, state, widgets
from dashboard.job_panel import JobView, followed_job, is_live, run_name, scored_progress, show
from dashboard.paths import workspace_dir
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.experiments.config import (
    ABLATE_MODES,
    BACKGROUNDS,
    EXPERIMENTS,
    INSTANCES,
    TILE_MODES,
    ExperimentConfig,
)
from deepdife_core.experiments.runs import FIGURE_STEM, PER_GENE_FILE, TABLE_FILE, list_runs, read_run
from deepdife_core.files import check_name
from deepdife_core.jobs.runner import read_events

D = ExperimentConfig()
_md = widgets.md
TITLES = {
    "insert": "Insert a motif (compare motifs)",
    "sweep": "Position sweep (effect vs distance to the TSS)",
    "spacing": "Spacing and orientation of two motifs",
    "dose": "Dose: 0, 1, 2, 3 … copies",
    "tile": "Tiling deletion of one gene (CRISPR plan)",
    "ablate": "Ablate a motif in every gene",
}
HELP = {
    "motif": "An IUPAC consensus (ACGTGKC), a JASPAR plant matrix ID (MA0930.1) or TF name, "
    "or a pattern of a motif run (RUN:pos_0).",
    "background": "Promoters of the active dataset the motif is put into; 'shuffled' uses dinucleotide "
    "shuffles of non-responsive promoters.",
    "n_backgrounds": "How many background promoters (20 to 1,000).",
    "position": "0-based promoter position of the motif's first base; the TSS is at the promoter's 3' end.",
}


def experiments_dir() -> Path:
    """``workspace/experiments`` (created)."""
    path = workspace_dir() / "experiments"
    path.mkdir(parents=True, exist_ok=True)
    return path


# ----------------------------------------------------------------------------- starting


def start_experiment(
    kind: str,
    *,
    name: str,
    model_path: str | Path,
    dataset_name: str,
    dataset_path: str | Path,
    motifs: list[str],
    config: ExperimentConfig,
    gene: str | None = None,
) -> str:
    """Launch an experiment job; returns its job id.

    Raises
    ------
    DeepDifEInputError
        Bad name, an experiment of that name exists, or a motif is missing.
    """
    check_name(name, "experiment name")
    out = experiments_dir() / name
    if out.exists():
        raise DeepDifEInputError(f"an experiment named {name!r} already exists; choose another name")
    if kind not in EXPERIMENTS:
        raise DeepDifEInputError(f"unknown experiment {kind!r}")
    motifs = [m.strip() for m in motifs if m and m.strip()]
    # the inputs are checked here, so a typo is one message on the page rather than a failed job
    from deepdife_core.experiments.sources import motif_source

    for spec in motifs:
        motif_source(spec, cache_dir=workspace_dir() / "motif_db", motifs_root=workspace_dir() / "motifs")
    if kind == "tile":
        from dashboard import cache
        from deepdife_core.data.io import select_records

        if not (gene or "").strip():
            raise DeepDifEInputError("type the ID of the gene to tile")
        found, _ = select_records(cache.dataset_table(dataset_path), [gene.strip()])
        if found.empty:
            raise DeepDifEInputError(f"gene {gene.strip()!r} is not in dataset {dataset_name!r}; check the ID")
        if len(found) > 1:
            raise DeepDifEInputError(
                f"gene {gene.strip()!r} has {len(found)} records (TSSs) in dataset {dataset_name!r}: pick one of "
                f"{', '.join(map(str, found['gene_id'][:4]))}"
            )
        gene = str(found["gene_id"].iloc[0])
    args = {
        "kind": kind,
        "out": str(out),
        "model_path": str(Path(model_path).resolve()),
        "dataset_name": dataset_name,
        "dataset_path": str(Path(dataset_path).resolve()),
        "motifs": motifs,
        "config": config.to_dict(),
        "gene": gene,
        "db_cache": str(workspace_dir() / "motif_db"),
        "motifs_root": str(workspace_dir() / "motifs"),
    }
    return jobs.start_kind("experiment", args)


def progress_of(events: list[dict]) -> tuple[float, str]:
    """Fraction done and a line of text from a job's events."""
    return scored_progress(events, lambda ev: f"Scored {int(ev['done']):,} of {int(ev['total']):,} sequences")


# ----------------------------------------------------------------------------- figures (plotly)


def _layout(fig: go.Figure, title: str, x: str, y: str, height: int = 340) -> go.Figure:
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y, height=height, margin=dict(l=50, r=20, t=50, b=40))
    return fig


def experiment_figure(kind: str, table: pd.DataFrame, title: str = "") -> go.Figure:
    """The page's plotly figure of an experiment table (the same table as the download)."""
    if kind == "insert":
        fig = go.Figure()
        motifs = list(dict.fromkeys(table["motif"])) if "motif" in table.columns else [""]
        for m in motifs:
            part = table[table["motif"] == m] if m else table
            fig.add_trace(go.Box(y=part["delta_probability"], name=str(m), boxpoints="all", jitter=0.4, boxmean=True))
        return _layout(fig, title, "motif", "Δ probability")
    if kind == "sweep":
        x = table["pos_from_tss"]
        fig = go.Figure(
            [
                go.Scatter(x=x, y=table["delta_probability_ci_high"], line=dict(width=0), showlegend=False),
                go.Scatter(x=x, y=table["delta_probability_ci_low"], fill="tonexty", line=dict(width=0), name="95% CI"),
                go.Scatter(x=x, y=table["delta_probability_mean"], name="mean", line=dict(color="#d62728")),
            ]
        )
        return _layout(fig, title, "motif start relative to the TSS (bp)", "mean Δ probability")
    if kind == "spacing":
        grid = table.pivot(index="orientation", columns="spacing", values="delta_probability_mean")
        fig = go.Figure(
            go.Heatmap(
                z=grid.to_numpy(),
                x=grid.columns,
                y=grid.index,
                colorscale="RdBu",
                reversescale=True,
                zmid=0,
                colorbar=dict(title="mean Δp"),
            )
        )
        return _layout(fig, title, "gap between the motifs (bp)", "orientations", height=300)
    if kind == "dose":
        m = table["delta_logit_mean"]
        fig = go.Figure(
            [
                go.Scatter(
                    x=table["copies"],
                    y=m,
                    name="observed",
                    mode="lines+markers",
                    error_y=dict(
                        type="data",
                        symmetric=False,
                        array=(table["delta_logit_ci_high"] - m).fillna(0),
                        arrayminus=(m - table["delta_logit_ci_low"]).fillna(0),
                    ),
                ),
                go.Scatter(x=table["copies"], y=table["additive_logit_mean"], name="additive", line=dict(dash="dash")),
            ]
        )
        return _layout(fig, title, "copies", "mean Δ logit")
    if kind == "tile":
        mid = table["pos_from_tss"] + (table["end"] - table["start"]) / 2
        colors = ["#d62728" if r <= 5 else "#1f77b4" for r in table["rank"]]
        fig = go.Figure(go.Bar(x=mid, y=table["delta_probability"], marker_color=colors))
        return _layout(fig, title, "window centre relative to the TSS (bp)", "Δ probability")
    lost = table["lost"].astype(bool)
    fig = go.Figure(
        [
            go.Scattergl(
                x=table["p_before"][~lost],
                y=table["p_after"][~lost],
                mode="markers",
                name="kept",
                text=table["gene_id"][~lost],
                marker=dict(size=5, opacity=0.5),
            ),
            go.Scattergl(
                x=table["p_before"][lost],
                y=table["p_after"][lost],
                mode="markers",
                name="lost",
                text=table["gene_id"][lost],
                marker=dict(size=6, color="#d62728"),
            ),
        ]
    )
    return _layout(fig, title, "probability before", "probability after")


def headline(kind: str, table: pd.DataFrame) -> str:
    """One sentence of what the experiment found (numbers from ``table``)."""
    if kind == "insert":
        parts = (
            [f"{m}: Δp {g['delta_probability'].mean():+.3f}" for m, g in table.groupby("motif", sort=False)]
            if "motif" in table.columns
            else [f"Δp {table['delta_probability'].mean():+.3f}"]
        )
        return "Mean change of the probability — " + "; ".join(parts) + "."
    if kind == "sweep":
        best = table.loc[table["delta_probability_mean"].idxmax()]
        return (
            f"Strongest at {int(best['pos_from_tss'])} bp from the TSS: mean Δp {best['delta_probability_mean']:+.3f} "
            f"(95% CI {best['delta_probability_ci_low']:+.3f} to {best['delta_probability_ci_high']:+.3f})."
        )
    if kind == "spacing":
        best = table.loc[table["delta_probability_mean"].idxmax()]
        return (
            f"Best pair: orientation {best['orientation']} with a {int(best['spacing'])}-bp gap, mean Δp "
            f"{best['delta_probability_mean']:+.3f}; mean interaction {best['interaction_logit_mean']:+.2f} logit."
        )
    if kind == "dose":
        return (
            "Mean Δ logit by copies: "
            + ", ".join(
                f"{int(r.copies)}: {r.delta_logit_mean:+.2f} (additive {r.additive_logit_mean:+.2f})"
                for r in table.itertuples()
            )
            + "."
        )
    if kind == "tile":
        top = table.sort_values("rank").head(3)
        return (
            "Windows whose loss lowers the probability most: "
            + ", ".join(f"{int(r.start)}–{int(r.end)} (Δp {r.delta_probability:+.3f})" for r in top.itertuples())
            + "."
        )
    return (
        f"{int(table['lost'].sum())} of {len(table)} genes lose responsiveness; "
        f"{int((table['n_sites'] > 0).sum())} have a site."
    )


# ----------------------------------------------------------------------------- form


def _tss_picker(typed: str, dataset_path: str | Path | None, key: str) -> str:
    """The record to tile: ``typed`` itself, or the TSS picked when gene ``typed`` has several records.

    A gene with several records (alternative TSSs) in the active dataset gets a caption
    (``GENE has N records (TSSs)``) and a picker labelled ``GENE (N TSSs)`` of its record identities.
    """
    typed = (typed or "").strip()
    if not typed or dataset_path is None:
        return typed
    from dashboard import cache
    from deepdife_core.data.io import gene_of, select_records

    found, _ = select_records(cache.dataset_table(dataset_path), [typed])
    records = found["gene_id"].astype(str).tolist()
    if len(records) < 2:
        return typed
    gene = gene_of(records[0])
    st.caption(f"Gene {gene} has {len(records)} records (TSSs) in the dataset: pick the one to tile.")
    return st.selectbox(
        f"{gene} ({len(records)} TSSs)",
        records,
        format_func=lambda r: (
            f"TSS {records.index(r) + 1} of {len(records)}: " + (r.split("::", 1)[1] if "::" in r else r)
        ),
        key=key,
    )


def _form(kind: str, dataset_path: str | Path | None = None) -> tuple[list[str], ExperimentConfig, str | None]:
    """The inputs of experiment ``kind``: (motif specs, config, gene)."""
    p = f"w.experiments.{kind}"
    motifs: list[str] = []
    gene = None
    values: dict = {}
    c1, c2 = st.columns(2)
    if kind == "insert":
        text = c1.text_input(
            "Motifs to compare (comma separated)",
            "CCACGTGGCA, TTGACC, CGCAGCTGAC",
            key=f"{p}.motifs",
            help=HELP["motif"],
        )
        motifs = [t.strip() for t in text.split(",") if t.strip()]
    elif kind == "spacing":
        motifs = [
            c1.text_input("Motif A", "CCACGTGGCA", key=f"{p}.a", help=HELP["motif"]),
            c2.text_input("Motif B", "CCACGTGGCA", key=f"{p}.b", help=HELP["motif"]),
        ]
    elif kind != "tile":
        motifs = [
            c1.text_input(
                "Motif", "CCACGTGGCA" if kind != "ablate" else "ACGTGKC", key=f"{p}.motif", help=HELP["motif"]
            )
        ]
    if kind in ("insert", "sweep", "spacing", "dose"):
        c1, c2, c3, c4 = st.columns(4)
        values["background"] = c1.selectbox(
            "Background", BACKGROUNDS, index=BACKGROUNDS.index(D.background), key=f"{p}.bg", help=HELP["background"]
        )
        values["n_backgrounds"] = int(
            c2.number_input("Backgrounds", 1, 5000, D.n_backgrounds, key=f"{p}.n", help=HELP["n_backgrounds"])
        )
        values["orientation"] = c3.selectbox("Orientation", ("both", "+", "-"), key=f"{p}.ori")
        values["instance"] = c4.selectbox("Motif bases", INSTANCES, key=f"{p}.inst")
    if kind in ("insert", "spacing", "dose"):
        pos = st.number_input(
            "Position (0 = the 5' end; empty = the middle)",
            min_value=0,
            value=None,
            step=1,
            key=f"{p}.pos",
            help=HELP["position"],
        )
        values["position"] = None if pos is None else int(pos)
    if kind == "sweep":
        values["step"] = int(st.number_input("Step (bp)", 1, 200, D.step, key=f"{p}.step"))
    if kind == "spacing":
        values["max_spacing"] = int(st.number_input("Largest gap (bp)", 0, 400, D.max_spacing, key=f"{p}.smax"))
    if kind == "dose":
        c1, c2 = st.columns(2)
        values["max_copies"] = int(c1.number_input("Largest number of copies", 1, 10, D.max_copies, key=f"{p}.cmax"))
        values["copy_gap"] = int(c2.number_input("Gap between copies (bp)", 0, 200, D.copy_gap, key=f"{p}.gap"))
    if kind == "tile":
        c1, c2, c3, c4 = st.columns(4)
        gene = c1.text_input("Gene", key=f"{p}.gene", help="Its ID (or one record's GENE::Chr:start-end(strand)).")
        values["window"] = int(c2.number_input("Window (bp)", 1, 300, D.window, key=f"{p}.w"))
        values["step"] = int(c3.number_input("Step (bp)", 1, 300, D.step, key=f"{p}.step"))
        values["mode"] = c4.selectbox(
            "Replace with",
            TILE_MODES,
            key=f"{p}.mode",
            help="shuffle: dinucleotide shuffle; n: N; delete: remove it (3' end kept at the TSS)",
        )
        gene = _tss_picker(gene, dataset_path, f"{p}.tss")
    if kind == "ablate":
        c1, c2 = st.columns(2)
        values["background"] = c1.selectbox("Genes", ("all", "responsive", "non-responsive"), key=f"{p}.genes")
        values["mode"] = c2.selectbox("Replace sites with", ABLATE_MODES, key=f"{p}.mode")
    values["seed"] = int(st.number_input("Seed", 0, 2**31 - 1, D.seed, key=f"{p}.seed"))
    return motifs, ExperimentConfig(**values), gene


# ----------------------------------------------------------------------------- job panel


def _on_end(job_id: str, job: dict) -> None:
    res = jobs.result(job_id) or {}
    if job["state"] == "done" and res.get("run_id"):
        state.put(state.EXPERIMENTS_RUN, res["run_id"])  # open the new results


def _progress(job_id: str, job: dict) -> None:
    """The scoring progress bar, while the job works (a failed job shows only its message)."""
    if is_live(job):
        frac, text = progress_of(read_events(jobs.job_folder(job_id)))
        st.progress(frac, text=text)


def _result(job_id: str, job: dict) -> None:
    """A stopped job's note (a finished one is drawn by the results below)."""
    if job["state"] == "stopped":
        st.warning("The experiment was stopped; nothing was saved.")


VIEW = JobView(
    noun="experiment job",
    stop_key="w.experiments.stop",
    title=lambda job: f"**Experiment {_md(run_name(job))}**",
    progress=_progress,
    result=_result,
    on_end=_on_end,
    stop_note="Stop requested: the experiment ends after the current batch; nothing is saved.",
    internal_note="Details are in its log.txt.",
)


def _job_panel() -> None:
    job = followed_job("experiment", state.EXPERIMENTS_JOB_ID)
    if job is not None:
        show(VIEW, job)


# ----------------------------------------------------------------------------- results


def _results() -> None:
    runs = list_runs(experiments_dir())
    if not runs:
        st.caption("No experiment yet: choose one above and press Run.")
        return
    ids = [r["id"] for r in runs]
    current = state.get(state.EXPERIMENTS_RUN)
    run_id = st.selectbox(
        "Experiment results",
        ids,
        index=ids.index(current) if current in ids else 0,
        key=f"w.experiments.run.{current}",
        format_func=lambda i: f"{i} ({runs[ids.index(i)]['kind']})",
    )
    state.put(state.EXPERIMENTS_RUN, run_id)
    folder = experiments_dir() / run_id
    try:
        res = read_run(folder)
    except DeepDifEInputError as exc:
        st.warning(f"{_md(exc)} (deleted or still being written?)")
        return
    info = res.info
    st.subheader(_md(info.get("title") or run_id))
    st.caption(
        f"model {_md(info.get('model', '?'))} · dataset {_md(info.get('dataset', '?'))} · motifs "
        f"{_md(', '.join(m['name'] for m in info.get('motifs', [])) or '—')} · {info.get('seconds', '?')} s"
    )
    st.markdown(_md(headline(res.kind, res.table)))
    widgets.chart(experiment_figure(res.kind, res.table, ""), key=f"experiments.fig.{run_id}")
    st.dataframe(res.table, hide_index=True, key=f"experiments.table.{run_id}")
    c1, c2, c3, c4 = st.columns(4)
    c1.download_button(
        "Table (CSV)",
        (folder / TABLE_FILE).read_bytes(),
        file_name=f"{run_id}.csv",
        mime="text/csv",
        key="w.experiments.dl.csv",
        on_click="ignore",
        icon=":material/download:",
    )
    if (folder / PER_GENE_FILE).is_file():
        c2.download_button(
            "Per gene (CSV)",
            (folder / PER_GENE_FILE).read_bytes(),
            file_name=f"{run_id}-per-gene.csv",
            mime="text/csv",
            key="w.experiments.dl.genes",
            on_click="ignore",
            icon=":material/download:",
        )
    for col, ext, mime in ((c3, "svg", "image/svg+xml"), (c4, "png", "image/png")):
        path = folder / f"{FIGURE_STEM}.{ext}"
        if path.is_file():
            col.download_button(
                f"Figure ({ext.upper()})",
                path.read_bytes(),
                file_name=f"{run_id}.{ext}",
                mime=mime,
                key=f"w.experiments.dl.{ext}",
                on_click="ignore",
                icon=":material/download:",
            )


def render() -> None:
    """Draw the Experiments page."""
    st.title("Experiments")
    st.caption(
        "Ask the model causal questions: put motifs into real promoters, move them, pair them, "
        "add copies, or delete windows of a gene, and read the change of the predicted probability."
    )
    ds = sidebar.active_dataset()
    model_path = sidebar.active_model()
    if ds is None or model_path is None:
        st.warning("Experiments need an active dataset (Data page) and a model (Train or Models page).")
        _results()
        return
    kind = st.selectbox("Experiment", EXPERIMENTS, format_func=TITLES.get, key="w.experiments.kind")
    with widgets.user_errors():
        motifs, cfg, gene = _form(kind, ds["path"])
        name = st.text_input(
            "Name of the results",
            f"{kind}-{datetime.now().strftime('%Y%m%d-%H%M%S')}",
            key=f"w.experiments.name.{kind}",
        )
        if st.button("Run", type="primary", key="w.experiments.start", icon=":material/science:"):
            job_id = start_experiment(
                kind,
                name=name,
                model_path=model_path,
                dataset_name=ds["name"],
                dataset_path=ds["path"],
                motifs=motifs,
                config=cfg,
                gene=gene,
            )
            state.put(state.EXPERIMENTS_JOB_ID, job_id)
            st.rerun()
    _job_panel()
    st.divider()
    _results()
