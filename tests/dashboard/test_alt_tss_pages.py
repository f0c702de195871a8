"""Repeated gene IDs (alternative TSSs) on the Predict, Saliency, Data and Motifs pages (AppTest).

The uploads are the tiny dataset's promoters with the first two genes listed twice
(a second TSS), with coordinates (``GENE::Chr:start-end(strand)``) and without
(``GENE#k``).  Every page keeps or collapses them by the one ``alt_tss`` rule of
:mod:`deepdife_core.data.io`.
"""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard import state
from tests.dashboard.apptest_helpers import goto, texts

CASES = ("coords", "no_coords")


def repeated_fasta(table: pd.DataFrame, n: int, *, coords: bool) -> bytes:
    """The first ``n`` genes as FASTA, genes 0 and 1 with a second record (their reversed sequence)."""
    out = []
    for i, row in enumerate(table.head(n).itertuples()):
        chrom, rest = row.coords.split(":")
        out.append(f">{row.gene_id}::{row.coords}\n" if coords else f">{row.gene_id}\n")
        out.append(f"{row.sequence}\n")
        if i < 2:
            out.append(f">{row.gene_id}::{chrom}:9{rest}\n" if coords else f">{row.gene_id} second TSS\n")
            out.append(f"{row.sequence[::-1]}\n")
    return "".join(out).encode()


def _names(table: pd.DataFrame, case: str) -> tuple[str, str]:
    g, c = table["gene_id"].iloc[0], table["coords"].iloc[0]
    chrom, rest = c.split(":")
    if case == "coords":
        return f"{g}::{c}", f"{g}::{chrom}:9{rest}"
    return f"{g}#1", f"{g}#2"


@pytest.mark.parametrize("case", CASES)
def test_predict_page_keeps_every_record(case, app, tiny_model, tiny_table):
    goto(app, "predict")
    fa = repeated_fasta(tiny_table, 8, coords=case == "coords")
    app.file_uploader(key="w.predict.fasta").set_value(("rep.fa", fa, "text/plain"))
    app.run()
    app.button(key="w.predict.run").click().run()
    assert not app.error and not app.exception
    table = app.dataframe[0].value
    assert len(table) == 10 and table["gene_id"].is_unique
    assert set(_names(tiny_table, case)) <= set(table["gene_id"])
    assert any("2 genes have several records (alternative TSSs" in t for t in texts(app.caption))
    # the heading counts records and genes (Saliency counts genes), issue 17
    assert any(t.startswith("10 records of 8 genes") for t in texts(app.subheader))
    # the option: only the first record of each gene
    app.toggle(key="w.predict.alt_tss").set_value(False).run()
    app.button(key="w.predict.run").click().run()
    table = app.dataframe[0].value
    assert len(table) == 8 and tiny_table["gene_id"].iloc[0] in set(table["gene_id"])
    assert any(t.startswith("8 genes ·") for t in texts(app.subheader))
    # a gene list brings every record of a listed gene
    app.toggle(key="w.predict.alt_tss").set_value(True).run()
    app.radio(key="w.predict.mode").set_value("A gene list + FASTA").run()
    genes = f"{tiny_table['gene_id'].iloc[0]}\n{tiny_table['gene_id'].iloc[3]}\n".encode()
    app.file_uploader(key="w.predict.genes").set_value(("g.txt", genes, "text/plain"))
    app.run()
    app.button(key="w.predict.run").click().run()
    assert not app.error
    assert sorted(app.dataframe[0].value["gene_id"]) == sorted(
        [*_names(tiny_table, case), tiny_table["gene_id"].iloc[3]]
    )


@pytest.mark.parametrize("case", CASES)
def test_saliency_gene_picker_shows_the_tsss_and_picks_a_record(case, app, tiny_model, tiny_table):
    goto(app, "saliency")
    fa = repeated_fasta(tiny_table, 6, coords=case == "coords")
    app.file_uploader(key="w.saliency.fasta").set_value(("rep.fa", fa, "text/plain"))
    app.run()
    assert not app.error and not app.exception
    gene, first, second = tiny_table["gene_id"].iloc[0], *_names(tiny_table, case)
    pick = app.selectbox(key="w.saliency.gene")
    assert pick.options[0] == f"{gene} (2 TSSs)" and len(pick.options) == 6  # one entry per gene
    assert pick.options[2] == tiny_table["gene_id"].iloc[2]
    assert any("2 genes have several records (alternative TSSs" in t for t in texts(app.caption))
    assert app.session_state[state.SALIENCY_GENE] == first
    tss = app.selectbox(key="w.saliency.record")
    assert len(tss.options) == 2 and tss.options[0].startswith("TSS 1 of 2")
    if case == "coords":
        assert tss.options[1] == f"TSS 2 of 2: {second.split('::')[1]}"
    p_first = next(m.value for m in app.metric if m.label == "P(responsive), both strands")
    tss.set_value(second).run()
    assert not app.exception and app.session_state[state.SALIENCY_GENE] == second
    assert next(m.value for m in app.metric if m.label == "P(responsive), both strands") != p_first
    # a plain gene ID (a deep link, another page) opens the gene's first record
    app.session_state[state.SALIENCY_GENE] = gene.lower()
    app.run()
    assert app.session_state[state.SALIENCY_GENE] == first and not app.warning
    # a single-record gene has no TSS picker
    app.selectbox(key="w.saliency.gene").set_value(tiny_table["gene_id"].iloc[3]).run()
    assert not [s for s in app.selectbox if s.key == "w.saliency.record"]


@pytest.mark.parametrize("case", CASES)
def test_data_page_collapses_by_default_and_keeps_all_on_request(case, app, dirs, tiny_table):
    from dashboard.datasets import list_datasets

    app.radio(key="w.data.source").set_value("lists").run()
    app.number_input(key="w.data.cfg.length").set_value(100)
    pos = "\n".join(tiny_table.loc[tiny_table["label"] == 1, "gene_id"]).encode()
    neg = "\n".join(tiny_table.loc[tiny_table["label"] == 0, "gene_id"]).encode()
    app.file_uploader(key="w.data.list_pos").set_value(("up.txt", pos, "text/plain"))
    app.file_uploader(key="w.data.list_neg").set_value(("down.txt", neg, "text/plain"))
    fa = repeated_fasta(tiny_table, 60, coords=case == "coords")
    app.file_uploader(key="w.data.list_fasta").set_value(("p.fa", fa, "text/plain"))
    app.run()
    app.button(key="w.data.build_lists").click().run()
    assert not app.error and not app.exception
    assert {m.label: m.value for m in app.metric}["Genes"] == "60"
    assert any("2 genes have several records" in t and "2 left out" in t for t in texts(app.info))
    app.radio(key="w.data.alt_tss").set_value("all").run()
    app.button(key="w.data.build_lists").click().run()
    assert {m.label: m.value for m in app.metric}["Genes"] == "62"
    assert any("all kept" in t for t in texts(app.info))
    app.text_input(key="w.data.save_name").set_value("tss")
    next(b for b in app.button if "Save" in str(b.label)).click().run()
    saved = next(d for d in list_datasets() if d["name"] == "tss")
    assert saved["counts"]["genes"] == 62 and saved["counts"]["distinct_genes"] == 60
    assert saved["counts"]["genes_with_several_records"] == 2
    df = pd.read_csv(saved["path"])
    assert set(_names(tiny_table, case)) <= set(df["gene_id"])
    assert (df.loc[df["gene_id"].isin(_names(tiny_table, case)), "family"] == tiny_table["gene_id"].iloc[0]).all()


def test_motif_gene_list_selects_records(tiny_table):
    """The Motifs page's gene list (job_motifs.select_genes): a gene ID brings all its records, an identity one."""
    from deepdife_core.data import io as dio
    from deepdife_core.jobs.motifs import select_genes

    fa = repeated_fasta(tiny_table, 10, coords=True)
    df = dio.sequences_from_fasta(fa, length=100).assign(label=1)
    first, second = _names(tiny_table, "coords")
    sel, note = select_genes(df, "list", genes=[tiny_table["gene_id"].iloc[0], tiny_table["gene_id"].iloc[4]])
    assert sel["gene_id"].tolist() == [first, second, tiny_table["gene_id"].iloc[4]] and note == "3 listed genes"
    sel, _ = select_genes(df, "list", genes=[second, tiny_table["gene_id"].iloc[4], "NOPE"])
    assert sel["gene_id"].tolist() == [second, tiny_table["gene_id"].iloc[4]]


@pytest.mark.parametrize("case", CASES)
def test_motifs_page_preview_counts_records_and_genes(case, app, tiny_model, tiny_table):
    """The Motifs page's preview says how many records of how many genes, and that repeated genes are kept."""
    from dashboard.datasets import save_dataset
    from deepdife_core.data import io as dio

    fa = repeated_fasta(tiny_table, 8, coords=case == "coords")
    df = dio.sequences_from_fasta(fa, length=len(tiny_table["sequence"].iloc[0]))
    labels = dict(zip(tiny_table["gene_id"], tiny_table["label"], strict=True))
    genes = df["gene_id"].map(dio.gene_of)
    save_dataset(df.assign(label=genes.map(labels), family=genes), "rep", {"source": {"kind": "test"}})
    goto(app, "motifs")
    assert not app.exception
    shown = texts(app.caption)
    assert "10 records of 8 genes (2 genes have several records (alternative TSSs), all kept): " + (
        "all genes of the dataset."
    ) in shown or any(t.startswith("10 records of 8 genes (2 genes have several records") for t in shown), shown
