"""The Data page's Genomes section and the "promoters from a registered genome" picker of its builders.

Registration runs as a background job (kind ``genome_add``, :mod:`deepdife_core.genome.job`):
uploads are copied to a hidden ``workspace/genomes/.uploads-*`` folder that the job deletes,
and the registry folder appears only when complete.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import jobs, widgets
from dashboard.job_panel import JobView, is_live, show
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import check_name
from deepdife_core.genome.promoters import REGIONS, TSS_CHOICES, PromoterConfig
from deepdife_core.genome.registry import GenomePromoters, genomes_dir, list_genomes, load_genome, remove_genome
from deepdife_core.jobs.runner import read_events

JOB_KEY = "genomes.job"
FASTA_UPLOAD_TYPES = ["fa", "fasta", "fna", "gz", "bgz", "txt"]
ANNOTATION_UPLOAD_TYPES = ["gff", "gff3", "gtf", "gz", "txt"]
SOURCE_LABELS = {"fasta": "an uploaded promoter FASTA", "genome": "a registered genome"}
TSS_LABELS = {
    "gene": "gene start",
    "first-transcript": "first transcript",
    "longest-transcript": "longest transcript",
    "all": "every distinct TSS (one record each)",
}
_P0 = PromoterConfig()


def promoter_picker(key: str) -> tuple[str, GenomePromoters | None]:
    """Where a builder's promoters come from: ``("fasta", None)`` or ``("genome", source)`` (None: none chosen).

    Parameters
    ----------
    key
        Widget key prefix.

    Returns
    -------
    tuple of str, GenomePromoters or None
        The choice and, for a genome, the promoter source the builders take as ``promoters=``.
    """
    mode = st.radio(
        "Promoter sequences from",
        list(SOURCE_LABELS),
        format_func=SOURCE_LABELS.get,
        key=f"{key}.mode",
        horizontal=True,
    )
    if mode == "fasta":
        return "fasta", None
    names = list_genomes()["name"].tolist()
    if not names:
        st.info("No genome is registered yet: register one in the Genomes section below.")
        return "genome", None
    c1, c2, c3, c4, c5 = st.columns(5)
    genome = c1.selectbox("Genome", names, key=f"{key}.genome")
    up = c2.number_input("Upstream bp", 0, 100_000, _P0.upstream, step=50, key=f"{key}.upstream")
    down = c3.number_input("Downstream bp", 0, 100_000, _P0.downstream, step=50, key=f"{key}.downstream")
    tss = c4.selectbox(
        "TSS", TSS_CHOICES, index=TSS_CHOICES.index(_P0.tss), format_func=TSS_LABELS.get, key=f"{key}.tss"
    )
    region = c5.selectbox("Region", REGIONS, index=REGIONS.index(_P0.region), key=f"{key}.region")
    st.caption(
        "Each record is upstream + downstream bp around the TSS, minus-strand genes reverse-complemented, "
        "N beyond a chromosome end; named GENE::Chr:start-end(strand). The dataset length is set above."
    )
    try:
        cfg = PromoterConfig(upstream=int(up), downstream=int(down), tss=tss, region=region)
    except DeepDifEInputError as exc:
        st.error(widgets.md(str(exc)))
        return "genome", None
    return "genome", GenomePromoters(genome, cfg)


def source_meta(src: GenomePromoters) -> dict:
    """What ``dataset.json`` records about promoters cut from a genome."""
    c = src.cfg
    return {"genome": src.genome, "upstream": c.upstream, "downstream": c.downstream, "tss": c.tss, "region": c.region}


def _describe(info: dict) -> list[str]:
    """Plain sentences about a registered genome's mismatches (empty when there are none)."""
    mm = info.get("mismatches") or {}
    out = []
    if info.get("chrom_map"):
        out.append("Chromosome names mapped: " + ", ".join(f"{a} → {b}" for a, b in info["chrom_map"].items()))
    if mm.get("annotation_only"):
        out.append(
            f"Annotation chromosomes not in the FASTA: {', '.join(mm['annotation_only'][:10])} "
            f"({mm.get('genes_dropped', 0)} genes left out)"
        )
    if mm.get("fasta_only"):
        out.append(f"FASTA records without genes: {', '.join(mm['fasta_only'][:10])}")
    return out


def _save_upload(upload, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex[:8]}.upload"  # the content, not the name, tells plain from gzip
    path.write_bytes(upload.getvalue())
    return path


def _start(name: str, fasta, annotation, chrom_map: str, server: tuple[str, str] | None) -> None:
    check_name(name, "genome name")
    if (genomes_dir() / name).exists():
        raise DeepDifEInputError(f"genome '{name}' is already registered; remove it first or choose another name")
    uploads = None
    if server is not None:
        fa_path, an_path = (Path(p.strip()).expanduser() for p in server)
        for p, what in ((fa_path, "genome FASTA"), (an_path, "annotation")):
            if not p.is_file():
                raise DeepDifEInputError(f"{p}: no such file on the server; give the {what}'s full path")
        fa_name, an_name = fa_path.name, an_path.name
    else:
        uploads = genomes_dir() / f".uploads-{uuid.uuid4().hex[:8]}"
        fa_path, an_path = _save_upload(fasta, uploads), _save_upload(annotation, uploads)
        fa_name, an_name = fasta.name, annotation.name
    args = {
        "name": name,
        "fasta": str(fa_path),
        "annotation": str(an_path),
        "fasta_name": fa_name,
        "annotation_name": an_name,
        "chrom_map": chrom_map.strip() or None,
        "workspace": str(genomes_dir().parent),
        "uploads": str(uploads) if uploads else None,
    }
    st.session_state[JOB_KEY] = jobs.start_kind("genome_add", args)


def _genome_name(job: dict) -> str:
    return (job.get("args") or {}).get("name", "") or job["id"]


def _stage(job_id: str, job: dict) -> None:
    """What the registration is doing (its latest stage event), while it works."""
    if is_live(job):
        stages = [e for e in read_events(jobs.job_folder(job_id)) if e.get("event") == "stage"]
        st.caption(widgets.md(str(stages[-1].get("text", ""))) if stages else "Starting…")


def _registered(job_id: str, job: dict) -> None:
    if job["state"] == "done":
        info = (jobs.result(job_id) or {}).get("info") or {}
        st.success(
            f"Registered genome {widgets.md(info.get('name', ''))}: {len(info.get('chromosomes', []))} chromosomes, "
            f"{info.get('n_genes', 0)} genes, {info.get('n_transcripts', 0)} transcripts."
        )


VIEW = JobView(
    noun="genome registration",
    stop_key="w.genomes.stop",
    title=lambda job: f"**Registering genome {widgets.md(_genome_name(job))}**",
    progress=_stage,
    result=_registered,
    stoppable=False,  # indexing and parsing is one call that cannot be interrupted
)


def _job_status() -> None:
    job_id = st.session_state.get(JOB_KEY)
    if not job_id:
        return
    try:
        job = jobs.read(job_id)
    except DeepDifEInputError:
        job = None
    if job is None:
        st.session_state.pop(JOB_KEY, None)
        return
    show(VIEW, job)


def section() -> None:
    """The Genomes section: registered genomes with their chromosomes and mismatches; register; remove."""
    st.subheader("Genomes")
    st.caption(
        "Register a genome FASTA with its GFF3/GTF annotation once; the gene-list and DE-table builders then cut "
        "promoters from it by gene ID (no promoter FASTA needed)."
    )
    table = list_genomes()
    if table.empty:
        st.caption("No genome registered.")
    else:
        st.dataframe(table, hide_index=True, key="data.genomes_table")
        pick = st.selectbox("Genome details", table["name"].tolist(), key="w.genomes.pick")
        with widgets.user_errors():
            info = load_genome(pick).info
            chroms = pd.DataFrame(info.get("chromosomes", []))
            st.dataframe(chroms, hide_index=True, key="data.genome_chroms")
            for line in _describe(info):
                st.warning(widgets.md(line))
            if st.button("Remove this genome", key="w.genomes.remove", icon=":material/delete:"):
                remove_genome(pick)
                st.rerun()
    with st.expander("Register a genome", expanded=table.empty):
        name = st.text_input("Name", key="w.genomes.name", placeholder="e.g. TAIR10")
        where = st.radio(
            "Files",
            ["upload", "server"],
            format_func={"upload": "upload", "server": "paths on the server"}.get,
            key="w.genomes.where",
            horizontal=True,
        )
        fa = an = None
        if where == "upload":
            fa = st.file_uploader("Genome FASTA (plain, gzip or bgzip)", type=FASTA_UPLOAD_TYPES, key="w.genomes.fa")
            an = st.file_uploader(
                "Annotation (GFF3 or GTF, plain or gzip)", type=ANNOTATION_UPLOAD_TYPES, key="w.genomes.an"
            )
        else:
            fa_path = st.text_input("Genome FASTA path", key="w.genomes.fa_path")
            an_path = st.text_input("Annotation path", key="w.genomes.an_path")
        chrom_map = st.text_input(
            "Chromosome map (only if the names differ)",
            key="w.genomes.chrom_map",
            placeholder="1=Chr1,2=Chr2 or auto",
        )
        ready = bool(name.strip()) and (
            (fa is not None and an is not None) if where == "upload" else bool(fa_path.strip() and an_path.strip())
        )
        if st.button("Register genome", key="w.genomes.register", type="primary", disabled=not ready):
            with widgets.user_errors():
                _start(name.strip(), fa, an, chrom_map, None if where == "upload" else (fa_path, an_path))
                st.rerun()
    _job_status()
