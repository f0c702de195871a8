"""Predict page: a model, a FASTA (or gene list + FASTA) -> probabilities table, histogram, CSV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import cache, state, widgets
from dashboard.paths import models_dir
from deepdife_core.data import io as dio
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import export_csv


def predict_table(
    path: str,
    fasta: bytes,
    fasta_name: str,
    genes: list[str] | None = None,
    *,
    alt_tss: str = dio.ALT_TSS_MODEL,
) -> pd.DataFrame:
    """Conjoined and per-strand probabilities of every FASTA record (optionally only ``genes``).

    A gene listed more than once (alternative TSSs) gives one row per record, named
    ``GENE::Chr:start-end(strand)`` (``GENE#k`` without coordinates), or only its first
    record with ``alt_tss="first"`` (:func:`deepdife_core.data.io.records_from_fasta`).

    Returns
    -------
    pandas.DataFrame
        ``gene_id, probability, predicted_class, forward, reverse[, coords]``, highest probability first.
    """
    from deepdife_core.data.encode import one_hot
    from deepdife_core.model.folder import model_data_config

    pred = cache.predictor(path)
    fit = model_data_config(pred)  # the model's saved DatasetConfig: fitted like its training sequences
    seqs = dio.sequences_from_fasta(fasta, length=fit.length, pad_side=fit.pad_side, name=fasta_name, alt_tss=alt_tss)
    if genes is not None:
        seqs, missing = dio.select_records(seqs, genes)  # a gene ID brings every record (TSS) of the gene
        seqs = seqs.reset_index(drop=True)
        if seqs.empty:
            raise DeepDifEInputError(
                f"none of the {len(set(genes))} listed genes is in {fasta_name}; check that both use the same gene IDs"
            )
        if missing:
            st.warning(
                f"{len(missing)} listed genes have no sequence in {widgets.md(fasta_name)} "
                f"(e.g. {widgets.md(', '.join(missing[:5]))}); they are left out."
            )
    fwd, rev = pred.predict_strands(one_hot(seqs["sequence"].tolist()))
    prob = pred.combine(fwd, rev)
    out = pd.DataFrame(
        {
            "gene_id": seqs["gene_id"],
            "probability": np.round(prob, 5),
            "predicted_class": (prob >= 0.5).astype(int),
            "forward": np.round(fwd, 5),
            "reverse": np.round(rev, 5),
        }
    )
    if "coords" in seqs.columns:
        out["coords"] = seqs["coords"]
    return out.sort_values("probability", ascending=False, kind="stable").reset_index(drop=True)


def render() -> None:
    """Draw the predict page."""
    st.title("Predict")
    reg = cache.registry(models_dir())
    if reg.empty:
        st.warning("No model yet: train one on the Train page or import one on the Models page.")
        return
    names = list(reg["name"])
    active = state.get(state.MODEL_ACTIVE)
    name = st.selectbox("Model", names, index=names.index(active) if active in names else 0, key="w.predict.model")
    row = reg.loc[reg["name"] == name].iloc[0]
    side = (cache.model_info(str(row["path"]))["config"].get("data") or {}).get("pad_side", "left")
    end = "TSS-distal (5')" if side == "left" else "3' (TSS)"
    st.caption(
        f"Input length {row['input_length']} bp: longer promoters are trimmed and shorter ones padded "
        f"with N at the {end} end, as the model's training sequences were."
    )
    mode = st.radio("Genes", ["All sequences in a FASTA", "A gene list + FASTA"], horizontal=True, key="w.predict.mode")
    fa = st.file_uploader("Promoter FASTA", key="w.predict.fasta")
    genes_up = None
    if mode != "All sequences in a FASTA":
        genes_up = st.file_uploader(
            "Gene list (one ID per line)", type=["txt", "csv", "tsv", "list"], key="w.predict.genes"
        )
    keep_all = st.toggle(
        "Every TSS of a gene listed more than once",
        value=dio.ALT_TSS_MODEL == "all",
        key="w.predict.alt_tss",
        help="On: each record of a repeated gene ID (alternative TSSs) is predicted, named "
        "GENE::Chr:start-end(strand) (GENE#k without coordinates). Off: only the first record of each gene.",
    )
    ready = fa is not None and (genes_up is not None or mode == "All sequences in a FASTA")
    if st.button(
        "Predict", key="w.predict.run", type="primary", disabled=not ready, icon=":material/online_prediction:"
    ):
        with widgets.user_errors(), st.spinner("Predicting…"):
            genes = dio.read_gene_list(genes_up.getvalue(), name=genes_up.name) if genes_up is not None else None
            alt = "all" if keep_all else "first"
            table = predict_table(str(row["path"]), fa.getvalue(), fa.name, genes, alt_tss=alt)
            state.put(state.PREDICT_RESULT, {"model": name, "source": fa.name, "table": table})
    res = state.get(state.PREDICT_RESULT)
    if not res:
        return
    table: pd.DataFrame = res["table"]
    groups = dio.record_groups(table["gene_id"])
    # records and genes differ when genes have alternative TSSs: say both (Saliency counts genes)
    what = f"{len(table)} genes" if len(groups) == len(table) else f"{len(table)} records of {len(groups)} genes"
    st.subheader(f"{what} · model {widgets.md(res['model'])} · {widgets.md(res['source'])}")
    multi = {g: r for g, r in groups.items() if len(r) > 1}
    if multi:
        st.caption(
            f"{len(multi)} genes have several records (alternative TSSs, up to {max(map(len, multi.values()))} "
            "each); each record is a row, named GENE::Chr:start-end(strand) (GENE#k without coordinates)."
        )
    c1, c2, c3 = st.columns(3)
    c1.metric("Predicted responsive", int(table["predicted_class"].sum()))
    c2.metric("Predicted not responsive", int((table["predicted_class"] == 0).sum()))
    c3.metric("Mean probability", f"{table['probability'].mean():.3f}")
    st.dataframe(
        table,
        hide_index=True,
        key="predict.table",
        column_config={
            "probability": st.column_config.ProgressColumn("probability", min_value=0.0, max_value=1.0, format="%.3f")
        },
    )
    widgets.chart(
        widgets.histogram(table["probability"], "Conjoined probability", "P(responsive)", nbins=20), key="predict.hist"
    )
    st.download_button(
        "Download CSV",
        data=export_csv(table).encode(),  # formulas neutralised for spreadsheets
        file_name=f"predictions-{res['model']}.csv",
        mime="text/csv",
        key="w.predict.download",
        on_click="ignore",
        icon=":material/download:",
    )
