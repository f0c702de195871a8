"""Variants page: score the promoter variants of a VCF with the active model, as a background job.

The scoring is :mod:`deepdife_core.variants` (``deepdife variants``), run by the job of
:mod:`deepdife_core.jobs.variants` into ``workspace/variants/<name>/``; the page follows the
job with :mod:`dashboard.job_panel`, then shows the effect table (filters, sortable),
Δlogit by distance to the TSS, the gene × sample matrix of per-sample mode, CSV
downloads (formulas neutralised) and a Saliency link per variant.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import uuid
import zlib
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlencode

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import jobs, sidebar, widgets
from dashboard.genomes import TSS_LABELS
from dashboard.job_panel import JobView, followed_job, is_live, run_name, scored_progress, show
from dashboard.motif_runs import saliency_url
from dashboard.paths import workspace_dir
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import check_name, export_csv, read_json, restore_formulas
from deepdife_core.genome.fasta import reverse_complement
from deepdife_core.genome.promoters import TSS_CHOICES, PromoterConfig
from deepdife_core.genome.registry import list_genomes
from deepdife_core.jobs import variants as variants_job
from deepdife_core.jobs.runner import read_events
from deepdife_core.variants import VariantConfig

JOB_KEY = "variants.job_id"
RUN_KEY = "variants.run"
MOTIF_DBS = {"jaspar-plants": "JASPAR CORE plants", "none": "none (no motif columns)"}
#: columns of the page's effect table, in this order (the download has every column)
SHOWN = [
    "gene_id",
    "chrom",
    "pos",
    "distance_to_tss",
    "ref",
    "alt",
    "p_ref",
    "p_alt",
    "delta_logit",
    "delta_probability",
    "motifs_lost",
    "motifs_gained",
    "n_samples",
    "samples",
    "saliency",
]
_P0, _V0 = PromoterConfig(), VariantConfig()
_md = widgets.md


def variants_dir() -> Path:
    """``workspace/variants`` (created)."""
    path = workspace_dir() / "variants"
    path.mkdir(parents=True, exist_ok=True)
    return path


# ----------------------------------------------------------------------------- starting


def check_vcf_bytes(head: bytes, name: str) -> None:
    """Refuse a file that does not start like a VCF (plain or gzip/bgzip), with a message naming it."""
    if head[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 4096)
        except zlib.error as exc:
            raise DeepDifEInputError(f"VCF {name}: a gzip file that cannot be read ({exc})") from exc
    text = head[:4096].decode("utf-8", errors="replace").lstrip("\ufeff")
    if not text.startswith("##fileformat=VCF") and not text.startswith("#CHROM"):
        raise DeepDifEInputError(
            f"{name} is not a VCF: a VCF starts with a '##fileformat=VCFv4.x' line (plain text, or bgzipped with tabix)"
        )


def _head(path: Path, n: int = 65536) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(n)


def start_run(
    *,
    name: str,
    model_path: str | Path,
    genome: str,
    vcf_upload: tuple[str, bytes] | None = None,
    vcf_path: str | None = None,
    genes: list[str] | None = None,
    samples: list[str] | None = None,
    per_sample: bool = False,
    promoter: PromoterConfig | None = None,
    config: VariantConfig | None = None,
) -> str:
    """Check the inputs and launch a variants job; returns its job id.

    Raises
    ------
    DeepDifEInputError
        Bad or taken name, no genome, no VCF, a file that is not a VCF, a missing server path.
    """
    check_name(name, "name of the results")
    out = variants_dir() / name
    if out.exists():
        raise DeepDifEInputError(f"results named {name!r} exist already; choose another name")
    for job in jobs.list_kind(variants_job.KIND):
        if is_live(job) and Path((job.get("args") or {}).get("out", "")).name == name:
            raise DeepDifEInputError(f"job {job['id']} is already writing results named {name!r}")
    if genome not in set(list_genomes()["name"]):
        raise DeepDifEInputError(f"genome {genome!r} is not registered; register it on the Data page (Genomes)")
    uploads = None
    if vcf_upload is not None:
        vcf_name, data = vcf_upload
        if not data:
            raise DeepDifEInputError(f"VCF {vcf_name}: the file is empty")
        check_vcf_bytes(data[:65536], vcf_name)
        uploads = workspace_dir() / "uploads" / f"variants-{uuid.uuid4().hex[:12]}"
        uploads.mkdir(parents=True, exist_ok=True)
        gz = data[:2] == b"\x1f\x8b"
        path = uploads / ("calls.vcf.gz" if gz else "calls.vcf")
        path.write_bytes(data)
    elif vcf_path and vcf_path.strip():
        path = Path(vcf_path.strip()).expanduser()
        if not path.is_file():
            raise DeepDifEInputError(f"{path}: no such file on the server; give the VCF's full path")
        vcf_name = path.name
        check_vcf_bytes(_head(path), vcf_name)
    else:
        raise DeepDifEInputError("give a VCF: upload one or type its path on the server")
    promoter, config = promoter or PromoterConfig(), config or VariantConfig()
    args = {
        "model_path": str(Path(model_path).resolve()),
        "model_name": Path(model_path).name,
        "genome": genome,
        "workspace": str(workspace_dir()),
        "vcf": str(path.resolve()),
        "vcf_name": vcf_name,
        "genes": genes or None,
        "samples": samples or None,
        "per_sample": bool(per_sample),
        "promoter": {"upstream": promoter.upstream, "downstream": promoter.downstream, "tss": promoter.tss},
        "config": {
            "max_indel": config.max_indel,
            "motif_db": config.motif_db,
            "motif_pvalue": config.motif_pvalue,
            "attribution": config.attribution,
            "batch_size": config.batch_size,
            "genes_per_chunk": config.genes_per_chunk,
        },
        "out": str(out),
        "uploads": str(uploads) if uploads else None,
    }
    try:
        return jobs.start_kind(variants_job.KIND, args)
    except BaseException:
        if uploads is not None:
            shutil.rmtree(uploads, ignore_errors=True)
        raise


def progress_of(events: list[dict]) -> tuple[float, str]:
    """Fraction done and a line of text from the job's events."""
    return scored_progress(
        events,
        lambda ev: (
            f"Scored the promoters of {int(ev['done']):,} of {int(ev['total']):,} genes "
            f"({int(ev.get('variants', 0)):,} variants so far)"
        ),
    )


# ----------------------------------------------------------------------------- form


def _split(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"[,\s]+", text or "") if s.strip()]


def _form(model_path: str) -> None:
    table = list_genomes()
    if table.empty:
        st.info("No genome is registered yet: register the genome FASTA + annotation on the **Data** page (Genomes).")
        return
    c1, c2, c3, c4 = st.columns(4)
    genome = c1.selectbox("Genome", table["name"].tolist(), key="w.variants.genome")
    up = c2.number_input("Upstream bp", 0, 100_000, _P0.upstream, step=50, key="w.variants.upstream")
    down = c3.number_input("Downstream bp", 0, 100_000, _P0.downstream, step=50, key="w.variants.downstream")
    tss_choices = list(TSS_CHOICES)  # "all": every TSS window of a gene, one record identity each
    tss = c4.selectbox(
        "TSS", tss_choices, index=tss_choices.index(_P0.tss), format_func=TSS_LABELS.get, key="w.variants.tss"
    )
    where = st.radio(
        "VCF",
        ["upload", "server"],
        format_func={"upload": "upload", "server": "path on the server"}.get,
        key="w.variants.where",
        horizontal=True,
    )
    upload, server_path = None, ""
    if where == "upload":
        upload = st.file_uploader(
            "VCF (plain .vcf, or bgzipped .vcf.gz; a plain file is indexed for you)", key="w.variants.vcf"
        )
    else:
        server_path = st.text_input(
            "VCF path on the server",
            key="w.variants.vcf_path",
            help="A .vcf or a bgzipped .vcf.gz (with its .tbi/.csi index, or it is indexed into a temp folder).",
        )
    c1, c2 = st.columns(2)
    genes_text = c1.text_area(
        "Genes (optional, one ID per line; empty = every gene)", key="w.variants.genes", height=100
    )
    genes_file = c1.file_uploader("…or a gene list file", key="w.variants.genes_file")
    samples_text = c2.text_input("Samples (optional, comma separated; empty = all)", key="w.variants.samples")
    per_sample = c2.checkbox(
        "Per sample: apply each sample's variants together (gene × sample matrix)", key="w.variants.per_sample"
    )
    db = c2.selectbox("Motifs lost / gained", list(MOTIF_DBS), format_func=MOTIF_DBS.get, key="w.variants.db")
    name = st.text_input(
        "Name of the results", f"variants-{datetime.now().strftime('%Y%m%d-%H%M%S')}", key="w.variants.name"
    )
    if st.button("Start", type="primary", key="w.variants.start", icon=":material/play_arrow:"):
        with widgets.user_errors():
            from deepdife_core.data.io import read_gene_list

            genes = None
            if genes_file is not None:
                genes = read_gene_list(genes_file.getvalue(), name=genes_file.name)
            elif genes_text.strip():
                genes = read_gene_list(genes_text.encode(), name="the gene list")
            job_id = start_run(
                name=name.strip(),
                model_path=model_path,
                genome=genome,
                vcf_upload=(upload.name, upload.getvalue()) if upload is not None else None,
                vcf_path=server_path,
                genes=genes,
                samples=_split(samples_text) or None,
                per_sample=per_sample,
                promoter=PromoterConfig(upstream=int(up), downstream=int(down), tss=tss),
                config=VariantConfig(motif_db="" if db == "none" else db),
            )
            st.session_state[JOB_KEY] = job_id
            st.rerun()


# ----------------------------------------------------------------------------- job panel


def _progress(job_id: str, job: dict) -> None:
    frac, text = progress_of(read_events(jobs.job_folder(job_id)))
    st.progress(frac, text=text)


def _on_end(job_id: str, job: dict) -> None:
    res = jobs.result(job_id) or {}
    if job["state"] == "done" and res.get("run_id"):
        st.session_state[RUN_KEY] = res["run_id"]


def _result(job_id: str, job: dict) -> None:
    res = jobs.result(job_id) or {}
    if job["state"] == "stopped":
        st.warning(f"Variant run {_md(run_name(job))} was stopped; nothing was saved.")
    else:
        st.success(
            f"Variant run {_md(res.get('run_id', run_name(job)))} finished: {int(res.get('n_variants', 0)):,} "
            f"variants scored ({jobs.format_seconds(res.get('seconds'))})."
        )


VIEW = JobView(
    noun="variant job",
    stop_key="w.variants.stop",
    title=lambda job: f"**Variant run {_md(run_name(job))}**",
    progress=_progress,
    result=_result,
    on_end=_on_end,
    stop_note="Stop requested: the job ends after the current chunk of genes; nothing is saved.",
    input_prefix=lambda job: f"Variant run {_md(run_name(job))}: ",
)


# ----------------------------------------------------------------------------- results


def list_runs() -> list[str]:
    """Finished runs (folders with an effect table), newest first."""
    runs = [p for p in variants_dir().iterdir() if p.is_dir() and not p.name.startswith(".")]
    runs = [p for p in runs if (p / variants_job.EFFECTS_FILE).is_file()]
    runs.sort(key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    return [p.name for p in runs]


def read_effects(folder: Path) -> pd.DataFrame:
    """The effect table of a run as values (the file's neutralised formulas restored)."""
    return restore_formulas(pd.read_csv(folder / variants_job.EFFECTS_FILE, keep_default_na=False, na_values=[""]))


def effect_view(
    effects: pd.DataFrame, model: str, dataset: str | None = None, *, run: str | None = None
) -> pd.DataFrame:
    """The page's table: :data:`SHOWN` columns, with a Saliency link per variant (site highlighted, variant applied).

    The link's ``edit`` holds REF and ALT as the model input reads them (reverse-complemented on a
    minus-strand gene); its genes come from ``run``'s reference promoters when the run has them
    (else from ``dataset``); a run written before the table had ``strand`` links the site only.
    """
    if run is not None and not (variants_dir() / run / variants_job.PROMOTERS_FILE).is_file():
        run = None
    if run is not None:
        dataset = None
    out = effects.copy()
    strands = out["strand"].astype(str) if "strand" in out.columns else pd.Series([""] * len(out), index=out.index)
    links = []
    for gene, wpos, ref, alt, strand in zip(
        out["gene_id"].astype(str),
        out["window_pos"],
        out["ref"].astype(str),
        out["alt"].astype(str),
        strands,
        strict=True,
    ):
        if int(wpos) >= 0:
            a, b = int(wpos), int(wpos) + max(len(ref), 1)
            edit = None
            if strand in ("+", "-"):
                r, v = (ref, alt) if strand == "+" else (reverse_complement(ref), reverse_complement(alt))
                edit = f"{a}-{a + len(r)}:{r}>{v}"
            links.append(saliency_url(model, gene, a, b, dataset=dataset, edit=edit, variants=run))
        else:  # the site was trimmed off the model's input: the gene without a highlight
            params = {"model": model, "gene": gene, **({"dataset": dataset} if dataset else {})}
            params.update({"variants": run} if run else {})
            links.append(f"saliency?{urlencode(params, quote_via=quote)}")
    out["saliency"] = links
    return out[[c for c in SHOWN if c in out.columns]]


def _html(value: object) -> str:
    return html.escape(str(value), quote=True)


def effect_figure(effects: pd.DataFrame) -> go.Figure:
    """Δlogit of every variant by its distance to the TSS (one trace per gene up to 12, else one)."""
    fig = go.Figure()
    genes = list(dict.fromkeys(effects["gene_id"].astype(str)))
    groups = [(g, effects[effects["gene_id"].astype(str) == g]) for g in genes] if len(genes) <= 12 else [("", effects)]
    for g, part in groups:
        # plotly renders a subset of HTML in hover texts and legends: the IDs are escaped
        text = [
            f"{_html(r.gene_id)} {_html(r.chrom)}:{r.pos} {_html(r.ref)}&gt;{_html(r.alt)}<br>"
            f"Δp {r.delta_probability:+.3f}"
            for r in part.itertuples()
        ]
        fig.add_trace(
            go.Scattergl(
                x=part["distance_to_tss"],
                y=part["delta_logit"],
                mode="markers",
                name=_html(g) if g else "variants",
                text=text,
                hoverinfo="text",
                marker=dict(size=7, opacity=0.8),
            )
        )
    fig.add_hline(y=0, line=dict(color="#888", width=1))
    fig.update_layout(
        title="Δlogit by distance to the TSS",
        xaxis_title="distance to the TSS (bp; negative = upstream)",
        yaxis_title="Δ logit (alt − ref)",
        height=360,
        margin=dict(l=50, r=20, t=50, b=40),
        showlegend=len(groups) > 1,
    )
    return fig


def _results() -> None:
    runs = list_runs()
    if not runs:
        st.caption("No variant run yet: choose a genome and a VCF above and press Start.")
        return
    current = st.session_state.get(RUN_KEY)
    run_id = st.selectbox(
        "Variant runs (newest first)",
        runs,
        index=runs.index(current) if current in runs else 0,
        key=f"w.variants.run.{current}",
    )
    st.session_state[RUN_KEY] = run_id
    folder = variants_dir() / run_id
    try:
        effects = read_effects(folder)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        st.warning(f"Run {_md(run_id)} cannot be read ({_md(exc)}); deleted or still being written?")
        return
    info = read_json(folder / variants_job.INFO_FILE, {}) or {}
    report = read_json(folder / variants_job.REPORT_FILE, {}) or {}
    st.subheader(_md(run_id))
    prom = info.get("promoter") or {}
    st.caption(
        f"model {_md(info.get('model', '?'))} · genome {_md(info.get('genome', '?'))} · VCF {_md(info.get('vcf', '?'))}"
        f" · {info.get('genes_scored', '?')} genes, {prom.get('upstream', '?')} bp upstream + "
        f"{prom.get('downstream', '?')} bp from the TSS · {info.get('seconds', '?')} s"
    )
    skipped = {
        "filtered (FILTER not PASS)": report.get("skipped_filtered", 0),
        "symbolic / structural": report.get("skipped_symbolic", 0),
        "indels too long": report.get("skipped_long_indel", 0),
        "partly outside a window": report.get("skipped_partly_outside_window", 0),
        "REF not the genome's": report.get("ref_mismatches", 0),
    }
    st.markdown(
        f"**{len(effects):,} variants scored** of {report.get('records_read', '?')} records read; skipped: "
        + ", ".join(f"{v} {k}" for k, v in skipped.items())
    )
    if report.get("ref_mismatch_examples"):
        st.warning(
            "REF alleles that disagree with the genome (not scored): "
            + _md(", ".join(report["ref_mismatch_examples"][:10]))
        )
    if info.get("genes_not_found"):
        st.warning("Genes not in the annotation: " + _md(", ".join(map(str, info["genes_not_found"][:20]))))
    if effects.empty:
        st.info("No variant of the VCF lies in the promoter windows of these genes.")
        return
    c1, c2, c3 = st.columns(3)
    min_dp = c1.number_input("Smallest |Δp| shown", 0.0, 1.0, 0.0, step=0.01, key=f"w.variants.min_dp.{run_id}")
    motif_only = c2.checkbox("Only variants that change a motif", key=f"w.variants.motif_only.{run_id}")
    gene_q = c3.text_input("Gene contains", key=f"w.variants.gene_q.{run_id}")
    view = effects[effects["delta_probability"].abs() >= float(min_dp)]
    if motif_only and {"motifs_lost", "motifs_gained"} <= set(view.columns):
        has = view["motifs_lost"].fillna("").astype(str).ne("") | view["motifs_gained"].fillna("").astype(str).ne("")
        view = view[has]
    if gene_q.strip():
        view = view[view["gene_id"].astype(str).str.contains(gene_q.strip(), case=False, regex=False)]
    view = view.reindex(view["delta_logit"].abs().sort_values(ascending=False).index)
    ds = sidebar.active_dataset()
    table = effect_view(view, str(info.get("model") or ""), dataset=ds["name"] if ds else None, run=run_id)
    widgets.chart(effect_figure(view) if len(view) else None, key=f"variants.fig.{run_id}")
    st.caption(
        f"{len(view):,} of {len(effects):,} variants, strongest |Δlogit| first; click a column to sort. "
        "The Saliency link opens the gene with the variant's site highlighted."
    )
    st.dataframe(
        table,
        hide_index=True,
        key=f"w.variants.table.{run_id}",
        column_config={
            "saliency": st.column_config.LinkColumn("Saliency", display_text="open ↗"),
            "p_ref": st.column_config.NumberColumn("p_ref", format="%.3f"),
            "p_alt": st.column_config.NumberColumn("p_alt", format="%.3f"),
            "delta_logit": st.column_config.NumberColumn("Δlogit", format="%+.3f"),
            "delta_probability": st.column_config.NumberColumn("Δp", format="%+.3f"),
            "n_samples": st.column_config.NumberColumn("carriers"),
        },
    )
    c1, c2, c3 = st.columns(3)
    c1.download_button(
        "Effects shown (CSV)",
        export_csv(view),
        file_name=f"{run_id}-effects.csv",
        mime="text/csv",
        key="w.variants.dl.view",
        on_click="ignore",
        icon=":material/download:",
    )
    c2.download_button(
        "All effects (CSV)",
        export_csv(effects),
        file_name=f"{run_id}-effects-all.csv",
        mime="text/csv",
        key="w.variants.dl.all",
        on_click="ignore",
        icon=":material/download:",
    )
    samples_path = folder / variants_job.SAMPLES_FILE
    if samples_path.is_file():
        from deepdife_core.variants.haplotypes import deltas

        matrix = restore_formulas(pd.read_csv(samples_path))
        c3.download_button(
            "Gene × sample (CSV)",
            export_csv(matrix),
            file_name=f"{run_id}-samples.csv",
            mime="text/csv",
            key="w.variants.dl.samples",
            on_click="ignore",
            icon=":material/download:",
        )
        st.markdown("**Gene × sample probabilities** (each sample's variants applied together)")
        st.dataframe(matrix, hide_index=True, key=f"w.variants.samples.{run_id}")
        with st.expander("Change from the reference (sample − reference)"):
            st.dataframe(deltas(matrix), hide_index=True, key=f"w.variants.deltas.{run_id}")
    with st.expander("Run details"):
        st.code(json.dumps({"run": info, "report": report}, indent=2), language="json")


def render() -> None:
    """Draw the Variants page."""
    st.title("Variants")
    st.caption(
        "Score the SNVs and short indels of a VCF that fall in promoter windows of a registered genome with the "
        "active model: reference and alternative probability, Δlogit, motifs lost or gained, carriers."
    )
    model_path = sidebar.active_model()
    if model_path is None:
        st.warning("Variant scoring needs a model: train one (Train page) or import one (Models page).")
    else:
        st.markdown(f"Model: **{_md(Path(model_path).name)}**")
        _form(model_path)
    job = followed_job(variants_job.KIND, JOB_KEY)
    if job is not None:
        show(VIEW, job)
    st.divider()
    with widgets.user_errors():
        _results()
