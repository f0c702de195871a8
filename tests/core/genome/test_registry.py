"""Tests of ``deepdife_core.genome.registry`` (moved from ``tests/core/test_genome.py``)."""

import numpy as np
import pandas as pd

from deepdife_core.data.io import dataset_from_de_table, dataset_from_gene_lists
from deepdife_core.genome.promoters import PromoterConfig
from deepdife_core.genome.registry import GenomePromoters, add_genome, load_genome
from deepdife_core.genome.synthetic import make_genome
from tests.core.genome.helpers import run


def test_labels_table_with_a_genome(tmp_path, ws, capsys):
    fa, an, truth = make_genome(tmp_path / "in", chrom_lengths=(9000, 8000, 7000), n_genes=30, seed=12)
    add_genome("G", fa, an)
    genes = truth["gene_id"].unique().tolist()
    labels = tmp_path / "labels.csv"
    labels.write_text("gene_id,label\n" + "".join(f"{g}.1,{i % 2}\n" for i, g in enumerate(genes)))
    code, _, err = run(["dataset", "build", "--labels", labels, "--genome", "G", "--out", tmp_path / "d.csv"], capsys)
    assert code == 0, err
    d = pd.read_csv(tmp_path / "d.csv")
    recs = {r.id.split("::")[0]: r.sequence for r in load_genome("G").promoters(genes, PromoterConfig())[0]}
    assert len(d) >= 20 and all(
        recs[g.removesuffix(".1")] == s for g, s in zip(d["gene_id"], d["sequence"], strict=True)
    )


def test_dataset_builders_take_a_genome_instead_of_a_fasta(tmp_path, ws):
    fa, an, truth = make_genome(tmp_path / "in", chrom_lengths=(9000, 8000, 7000), n_genes=30, seed=4)
    add_genome("G", fa, an)
    genes = truth["gene_id"].unique().tolist()
    up = tmp_path / "up.txt"
    up.write_text("\n".join(genes[:12]) + "\n")
    flat = tmp_path / "flat.txt"
    flat.write_text("\n".join([*genes[12:], "AT9G00000"]) + "\n")
    src = GenomePromoters("G", PromoterConfig(upstream=500, downstream=100))
    df, report = dataset_from_gene_lists(up, flat, None, promoters=src)
    assert report.missing_sequence == ["AT9G00000"]
    assert any("cut from genome G" in n for n in report.notes)
    assert "1 gene IDs are not in the annotation: AT9G00000." in report.notes  # named, not only counted
    recs = {r.id.split("::")[0]: r for r in load_genome("G").promoters(genes, PromoterConfig())[0]}
    mostly_n = sorted(g for g in genes if recs[g].sequence.count("N") > 300)
    assert sorted(report.dropped_n) == mostly_n and len(mostly_n) >= 2  # edge genes past a chromosome start
    kept = [g for g in genes if g not in mostly_n]
    assert df.set_index("gene_id")["sequence"].to_dict() == {g: recs[g].sequence for g in kept}
    assert df.set_index("gene_id")["coords"].to_dict() == {g: recs[g].id.split("::")[1] for g in kept}
    # every TSS, each record named by the repeated-gene-ID rule, all in one family per gene
    src_all = GenomePromoters("G", PromoterConfig(tss="all"))
    df_all, rep_all = dataset_from_gene_lists(up, flat, None, promoters=src_all, alt_tss="all")
    n_tss = truth.assign(t=np.where(truth["strand"] == "+", truth["start"], truth["end"] - 1))
    assert len(df_all) + len(rep_all.dropped_n) == n_tss.drop_duplicates(["gene_id", "t"]).shape[0]
    assert rep_all.repeated_genes == int((n_tss.drop_duplicates(["gene_id", "t"])["gene_id"].value_counts() > 1).sum())
    multi = df_all[df_all["gene_id"].str.contains("::")]
    assert len(multi) and (multi["family"] == multi["gene_id"].str.split("::").str[0]).all()
    de = tmp_path / "de.tsv"
    de.write_text(
        "gene\tlfc\tp\n"
        + "".join(f"{g}\t{3 if i < 10 else 0.1}\t{0.001 if i < 10 else 0.9}\n" for i, g in enumerate(genes))
    )
    df_de, _ = dataset_from_de_table(de, None, gene_col="gene", lfc_col="lfc", padj_col="p", promoters=src)
    assert df_de["gene_id"].tolist() == kept and int(df_de["label"].sum()) == len([g for g in genes[:10] if g in kept])
