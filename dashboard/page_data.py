"""Data page: build a dataset from uploads (or the demo), preview it, save it to the workspace."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import cache, genomes, state, widgets
from dashboard.datasets import delete_dataset, ensure_demo_dataset, list_datasets, rename_dataset, save_dataset
from dashboard.uploads import check_text, table_upload
from deepdife_core.data import io as dio
from deepdife_core.data.encode import n_fraction
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import check_name, export_csv

SOURCES = {
    "fasta": "Labelled FASTA (>GENE_1 / >GENE_0)",
    "table": "Labelled table (CSV / TSV / XLSX)",
    "lists": "Two gene lists + promoter FASTA or genome",
    "de": "Differential-expression table + promoter FASTA or genome",
}
ALT_TSS_KEY = "w.data.alt_tss"
ALT_TSS_LABELS = {
    "first": "First record of each gene (the others are counted)",
    "all": "Every record, named GENE::Chr:start-end(strand)",
}


def _alt() -> str:
    """The page's ``alt_tss`` choice (default: the dataset builders' ``ALT_TSS_DATASET``)."""
    return st.session_state.get(ALT_TSS_KEY) or dio.ALT_TSS_DATASET


def _bytes(upload, what: str = "a FASTA file") -> tuple[bytes, str]:
    """An upload's bytes and name; a workbook, archive or binary file where text is expected is refused."""
    data, name = upload.getvalue(), upload.name
    check_text(data, name, what)
    return data, name


def _table_bytes(upload) -> tuple[bytes, str]:
    """A table upload judged by its content (a workbook is read as one whatever its name)."""
    return table_upload(upload.getvalue(), upload.name)


def _found(columns: list[str], *candidates: str) -> int | None:
    """Index of the column named (or containing) one of ``candidates``; None when none is."""
    lower = [c.lower() for c in columns]
    for cand in candidates:
        if cand in lower:
            return lower.index(cand)
    for cand in candidates:
        for i, c in enumerate(lower):
            if cand in c:
                return i
    return None


def _guess(columns: list[str], *candidates: str) -> int:
    lower = [c.lower() for c in columns]
    for cand in candidates:
        for i, c in enumerate(lower):
            if c == cand:
                return i
    for cand in candidates:
        for i, c in enumerate(lower):
            if cand in c:
                return i
    return 0


def _fasta_extras(fasta: bytes, fasta_name: str, df: pd.DataFrame) -> dict[str, Any]:
    """Raw lengths of the records used, and IDs present more than once in the FASTA."""
    recs = cache.fasta_lengths(fasta, fasta_name)
    first = recs.drop_duplicates("key").set_index("key")["length"]
    keys = df["gene_id"].map(dio.normalize_id)
    dups = recs.loc[recs["key"].duplicated(keep=False), "id"].tolist()
    return {"raw_lengths": keys.map(first).dropna().astype(int).tolist(), "fasta_duplicates": dups}


def _set_preview(
    df: pd.DataFrame, report: dio.BuildReport, meta: dict, extras: dict | None = None, *, cfg=None
) -> None:
    """Show the built table; ``cfg`` (how it was fitted) goes into ``dataset.json`` as ``config``.

    Training saves that config with the model, so prediction fits new sequences the same way.
    """
    if cfg is not None:
        meta = {
            **meta,
            "config": {"length": cfg.length, "pad_side": cfg.pad_side, "max_n_fraction": cfg.max_n_fraction},
        }
    state.put(
        state.DATA_PREVIEW,
        {"df": df, "report": report.to_dict(), "summary": report.summary(), "meta": meta, **(extras or {})},
    )


def _source_fasta(cfg) -> None:
    up = st.file_uploader("Promoter FASTA with labelled headers", key="w.data.fasta_labelled")
    st.caption("Headers like `>AT1G01010_1` (responsive) or `>AT1G01020_0` (not responsive). Plain or gzip.")
    if up is not None and st.button("Build preview", key="w.data.build_fasta", type="primary"):
        with widgets.user_errors():
            data, name = _bytes(up)
            df, rep = dio.dataset_from_labelled_fasta(data, cfg=cfg, name=name, alt_tss=_alt())
            _set_preview(
                df,
                rep,
                {"source": {"kind": "labelled-fasta", "fasta": name}},
                _fasta_extras(data, name, df.assign(gene_id=df["gene_id"] + "_" + df["label"].astype(str))),
                cfg=cfg,
            )


NO_SEQUENCE = "(none: sequences from the FASTA)"


def _source_table(cfg) -> None:
    up = st.file_uploader("Labelled table", key="w.data.table")
    st.caption(
        "Columns for the gene ID, the label (1 = responsive, 0 = not) and the sequence; optional `family` and "
        "`split`. Without a sequence column, also upload the promoter FASTA. CSV, TSV or XLSX (judged by content)."
    )
    fa = st.file_uploader("Promoter FASTA (only if the table has no sequence column)", key="w.data.table_fasta")
    if up is None:
        return
    raw = None
    with widgets.user_errors():
        data, name = _table_bytes(up)
        raw = cache.raw_table(data, name)
    if raw is None:
        return
    cols = [str(c) for c in raw.columns]
    lower = [c.lower() for c in cols]
    c1, c2, c3 = st.columns(3)
    # a role no column is named for starts empty: the user picks it (never a silent first column)
    gcol = c1.selectbox(
        "Gene ID column",
        cols,
        index=_found(cols, "gene_id", "gene", "id"),
        placeholder="pick the gene ID column",
        key="w.data.table_gene",
        help="The column with the gene IDs (named gene_id in the dataset).",
    )
    lcol = c2.selectbox(
        "Label column (1 / 0)",
        cols,
        index=_found(cols, "label", "responsive", "class"),
        placeholder="pick the label column",
        key="w.data.table_label",
        help="1 = responsive, 0 = not responsive.",
    )
    seq_options = [NO_SEQUENCE, *cols]
    scol = c3.selectbox(
        "Sequence column",
        seq_options,
        index=lower.index("sequence") + 1 if "sequence" in lower else 0,
        key="w.data.table_seq",
        help="The promoter sequences; without one, the sequences come from the promoter FASTA.",
    )
    if not st.button("Build preview", key="w.data.build_table", type="primary"):
        return
    with widgets.user_errors():
        for col, role, what in ((gcol, "gene_id", "gene ID"), (lcol, "label", "label")):
            if col is None:
                raise DeepDifEInputError(f"{name}: no column named '{role}'; pick the {what} column above")
        roles = [gcol, lcol] + ([] if scol == NO_SEQUENCE else [scol])
        if len(set(roles)) < len(roles):
            raise DeepDifEInputError("pick a different column for the gene ID, the label and the sequence")
        picked = {gcol: "gene_id", lcol: "label"} | ({} if scol == NO_SEQUENCE else {scol: "sequence"})
        # the picked columns get the dataset's names; other columns of those names step aside
        clash = [c for c in cols if c.lower() in {"gene_id", "label", "sequence"} and c not in picked]
        table = raw.drop(columns=clash).rename(columns=picked)
        if scol == NO_SEQUENCE and "sequence" in {c.lower() for c in table.columns}:
            table = table.drop(columns=[c for c in table.columns if c.lower() == "sequence"])
        renamed = any(src.lower() != dst for src, dst in picked.items()) or bool(clash)
        # the file itself when nothing was renamed (so messages keep its own line numbers)
        tdata = table.to_csv(index=False).encode() if renamed else data
        if not renamed and scol == NO_SEQUENCE and "sequence" in lower:
            tdata, renamed = table.to_csv(index=False).encode(), True
        tname = f"{up.name} (picked columns, as CSV)" if renamed else name  # the name tells the reader the format
        if scol != NO_SEQUENCE:
            df, rep = dio.dataset_from_table(io.BytesIO(tdata), cfg=cfg, name=tname, alt_tss=_alt())
            extras = {
                "raw_lengths": table["sequence"].fillna("").str.strip().str.len().tolist(),
                "fasta_duplicates": [],
            }
            meta = {"source": {"kind": "table", "table": name}}
        else:
            if fa is None:
                raise DeepDifEInputError(
                    f"{name}: no sequence column picked; upload the promoter FASTA as well, or pick the sequence column"
                )
            fdata, fname = _bytes(fa)
            df, rep = dio.dataset_from_labels(
                io.BytesIO(tdata), fdata, cfg=cfg, labels_name=tname, fasta_name=fname, alt_tss=_alt()
            )
            extras = _fasta_extras(fdata, fname, df)
            meta = {"source": {"kind": "labels+fasta", "table": name, "fasta": fname}}
        _set_preview(df, rep, meta, extras, cfg=cfg)


def _source_lists(cfg) -> None:
    c1, c2 = st.columns(2)
    pos = c1.file_uploader("Responsive genes (one ID per line)", key="w.data.list_pos")
    neg = c2.file_uploader("Non-responsive genes (one ID per line)", key="w.data.list_neg")
    mode, src = genomes.promoter_picker("w.data.list_src")
    fa = st.file_uploader("Promoter FASTA", key="w.data.list_fasta") if mode == "fasta" else None
    if (
        pos is not None
        and neg is not None
        and (fa is not None or src is not None)
        and st.button("Build preview", key="w.data.build_lists", type="primary")
    ):
        with widgets.user_errors():
            (pdata, pname), (ndata, nname) = _bytes(pos, "a gene list"), _bytes(neg, "a gene list")
            fdata, fname = _bytes(fa) if fa is not None else (None, src.name)
            df, rep = dio.dataset_from_gene_lists(
                pdata, ndata, fdata, cfg=cfg, names=(pname, nname, fname), alt_tss=_alt(), promoters=src
            )
            where = {"fasta": fname} if fa is not None else genomes.source_meta(src)
            _set_preview(
                df,
                rep,
                {"source": {"kind": "gene-lists", "responsive": pname, "non_responsive": nname, **where}},
                _fasta_extras(fdata, fname, df) if fa is not None else None,
                cfg=cfg,
            )


def _source_de(cfg) -> None:
    up = st.file_uploader("Differential-expression table (e.g. DESeq2 results)", key="w.data.de")
    mode, src = genomes.promoter_picker("w.data.de_src")
    fa = st.file_uploader("Promoter FASTA", key="w.data.de_fasta") if mode == "fasta" else None
    if up is None:
        st.caption("Upload a table with a gene column, a log2 fold-change column and an adjusted p-value column.")
        return
    with widgets.user_errors():
        data, name = _table_bytes(up)
        raw = cache.raw_table(data, name)
        cols = list(raw.columns)
        c1, c2, c3 = st.columns(3)
        gcol = c1.selectbox("Gene ID column", cols, index=_guess(cols, "gene_id", "gene", "id"), key="w.data.de_gene")
        lcol = c2.selectbox(
            "log2FC column", cols, index=_guess(cols, "log2foldchange", "log2fc", "logfc", "lfc"), key="w.data.de_lfc"
        )
        pcol = c3.selectbox(
            "Adjusted p column", cols, index=_guess(cols, "padj", "fdr", "adj.p.val", "qvalue"), key="w.data.de_padj"
        )
        de = cache.de_table(data, name, gcol, lcol, pcol)
        th = widgets.de_threshold_inputs("w.data.th")
        cls = dio.classify_de(de, th)
        counts = {
            "responsive": int((cls == 1).sum()),
            "non-responsive": int((cls == 0).sum()),
            "excluded": int((cls == -1).sum()),
        }
        m1, m2, m3 = st.columns(3)
        m1.metric("Responsive", counts["responsive"])
        m2.metric("Non-responsive", counts["non-responsive"])
        m3.metric("Excluded (grey zone)", counts["excluded"])
        widgets.chart(widgets.class_balance_figure(counts), key="data.de_counts")
        if (fa is not None or src is not None) and st.button("Build preview", key="w.data.build_de", type="primary"):
            fdata, fname = _bytes(fa) if fa is not None else (None, src.name)
            df, rep = dio.dataset_from_de_table(
                io.BytesIO(data),
                fdata,
                gene_col=gcol,
                lfc_col=lcol,
                padj_col=pcol,
                thresholds=th,
                cfg=cfg,
                de_name=name,
                fasta_name=fname,
                alt_tss=_alt(),
                promoters=src,
            )
            meta = {
                "source": {
                    "kind": "de-table",
                    "table": name,
                    **({"fasta": fname} if fa is not None else genomes.source_meta(src)),
                    "columns": {"gene": gcol, "log2fc": lcol, "padj": pcol},
                },
                "thresholds": th.__dict__,
            }
            _set_preview(df, rep, meta, _fasta_extras(fdata, fname, df) if fa is not None else None, cfg=cfg)


def _preview() -> None:
    prev = state.get(state.DATA_PREVIEW)
    if not prev:
        return
    df: pd.DataFrame = prev["df"]
    st.subheader("Preview")
    st.info(widgets.md(prev["summary"]))  # the notes can quote gene IDs
    counts = {"responsive": int((df["label"] == 1).sum()), "non-responsive": int((df["label"] == 0).sum())}
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Genes", len(df))
    c2.metric("Responsive", counts["responsive"])
    c3.metric("Non-responsive", counts["non-responsive"])
    c4.metric("Families", int(df["family"].nunique()))
    st.dataframe(
        df.assign(sequence=df["sequence"].str.slice(0, 60) + "…").head(500), hide_index=True, key="data.preview_table"
    )
    g1, g2, g3 = st.columns(3)
    with g1:
        widgets.chart(widgets.class_balance_figure(counts), key="data.balance")
    with g2:
        lengths = prev.get("raw_lengths") or df["sequence"].str.len().tolist()
        widgets.chart(widgets.histogram(lengths, "Sequence length before fitting", "bp"), key="data.lengths")
    with g3:
        widgets.chart(
            widgets.histogram(n_fraction(df["sequence"].tolist()), "N fraction (fitted)", "fraction N"),
            key="data.nfrac",
        )
    rep = prev["report"]
    fam = df.groupby("family").size()
    e1, e2, e3 = st.columns(3)
    with e1.expander(f"Genes without sequence ({len(rep['missing_sequence'])})"):
        st.text(", ".join(rep["missing_sequence"][:300]) or "none")  # gene IDs are user text, never markdown
    with e2.expander(f"Duplicate IDs in the FASTA ({len(prev.get('fasta_duplicates') or [])})"):
        st.text(", ".join((prev.get("fasta_duplicates") or [])[:300]) or "none")
    with e3.expander(f"Families ({len(fam)}; largest {int(fam.max())})"):
        st.dataframe(fam.sort_values(ascending=False).rename("genes").reset_index().head(200), hide_index=True)
    with st.form("w.data.save_form"):
        default = prev["meta"].get("suggested_name", "")
        name = st.text_input(
            "Dataset name", value=default, key="w.data.save_name", help="Letters, digits, '.', '_' or '-'."
        )
        if st.form_submit_button("Save dataset", type="primary"):
            with widgets.user_errors():
                check_name(name.strip(), "dataset name")
                meta = {**prev["meta"], "report": rep}
                save_dataset(df, name.strip(), meta)
                state.put(state.DATA_ACTIVE, name.strip())
                state.put(state.DATA_PREVIEW, None)
                state.put(
                    state.DATA_FLASH, f"Saved dataset '{widgets.md(name.strip())}' ({len(df)} genes); it is now active."
                )
                st.rerun()


def _saved() -> None:
    sets = list_datasets()
    if not sets:
        return
    st.subheader("Saved datasets")
    rows = [
        {
            "name": d["name"],
            "created": d["created"],
            **{k: v for k, v in d["counts"].items()},
            "source": (d["meta"].get("source") or {}).get("kind", ""),
        }
        for d in sets
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="data.saved_table")
    _manage(sets)


def _busy(ds: dict) -> str | None:
    """The id of a live job that reads dataset ``ds`` (it must not be renamed or deleted under it)."""
    from dashboard import jobs
    from dashboard.constants import LIVE_STATES
    from deepdife_core.jobs import runner as core_jobs

    folder = str(Path(ds["path"]).resolve().parent)
    for job in core_jobs.list_jobs(jobs.jobs_dir()):
        where = str((job.get("args") or {}).get("dataset_path") or "")
        if job["state"] in LIVE_STATES and where and str(Path(where).resolve().parent) == folder:
            return job["id"]
    return None


def _refuse_if_busy(ds: dict) -> None:
    job = _busy(ds)
    if job is not None:
        raise DeepDifEInputError(f"job {job} is reading dataset {ds['name']!r}; wait for it to end or stop it first")


def _manage(sets: list[dict]) -> None:
    """Preview, download, rename or delete one saved dataset."""
    names = [d["name"] for d in sets]
    active = state.get(state.DATA_ACTIVE)
    with st.expander("Manage a saved dataset: preview, download, rename, delete", icon=":material/folder_open:"):
        name = st.selectbox(
            "Dataset", names, index=names.index(active) if active in names else 0, key="w.data.manage_pick"
        )
        ds = next(d for d in sets if d["name"] == name)
        table = None
        with widgets.user_errors():
            table = cache.dataset_table(ds["path"])
        if table is None:
            return
        c = ds["counts"]
        st.caption(
            f"{len(table)} records · {c.get('responsive', '?')} responsive · {c.get('non_responsive', '?')} not · "
            f"{c.get('length', '?')} bp · created {widgets.md(ds['created'])}"
        )
        st.dataframe(
            table.assign(sequence=table["sequence"].str.slice(0, 60) + "…").head(200),
            hide_index=True,
            key="data.manage_table",
        )
        c1, c2, c3 = st.columns(3)
        c1.download_button(
            "Download data.csv",
            data=lambda: export_csv(cache.dataset_table(ds["path"])).encode(),
            file_name=f"{name}.csv",
            mime="text/csv",
            key="w.data.manage_download",
            on_click="ignore",
            icon=":material/download:",
        )
        new = c2.text_input("New name", key="w.data.manage_new_name", placeholder="letters, digits, . _ -")
        if c2.button("Rename", key="w.data.manage_rename", icon=":material/edit:", disabled=not new.strip()):
            with widgets.user_errors():
                _refuse_if_busy(ds)
                rename_dataset(name, new.strip())
                if active == name:
                    state.put(state.DATA_ACTIVE, new.strip())
                state.put(state.DATA_FLASH, f"Renamed dataset '{widgets.md(name)}' to '{widgets.md(new.strip())}'.")
                st.rerun()
        sure = c3.checkbox(f"Yes, delete {widgets.md(name)}", key="w.data.manage_sure")
        if c3.button("Delete", key="w.data.manage_delete", icon=":material/delete:", disabled=not sure):
            with widgets.user_errors():
                _refuse_if_busy(ds)
                delete_dataset(name)
                if active == name:
                    state.put(state.DATA_ACTIVE, None)
                state.put(state.DATA_FLASH, f"Deleted dataset '{widgets.md(name)}'.")
                st.rerun()


def render() -> None:
    """Draw the data page."""
    st.title("Data")
    st.caption("Build a dataset of promoter sequences labelled responsive (1) or not (0), then save it by name.")
    msg = state.flash(state.DATA_FLASH)
    if msg:
        st.success(msg)
    if st.button(
        "Load the demo dataset",
        key="w.data.demo",
        icon=":material/science:",
        help="2000 synthetic promoters with planted ABA-response elements (not real biology).",
    ):
        with widgets.user_errors(), st.spinner("Generating the demo dataset…"):
            name = ensure_demo_dataset()
            state.put(state.DATA_ACTIVE, name)
            state.put(state.DATA_FLASH, "Demo dataset loaded; it is now the active dataset.")
            st.rerun()
    source = st.radio("Build from", list(SOURCES), format_func=SOURCES.get, key="w.data.source", horizontal=True)
    cfg = widgets.dataset_config_inputs("w.data.cfg")
    st.radio(
        "Genes listed more than once (alternative TSSs)",
        list(ALT_TSS_LABELS),
        index=list(ALT_TSS_LABELS).index(dio.ALT_TSS_DATASET),
        format_func=ALT_TSS_LABELS.get,
        key=ALT_TSS_KEY,
        horizontal=True,
        help="Training datasets use the first record of each gene by default; every record keeps all TSSs, "
        "in one family so that a split never separates them.",
    )
    {"fasta": _source_fasta, "table": _source_table, "lists": _source_lists, "de": _source_de}[source](cfg)
    _preview()
    _saved()
    genomes.section()
