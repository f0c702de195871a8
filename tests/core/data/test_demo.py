"""Tests of ``deepdife_core.data.demo``: the seeded synthetic demo dataset (planted ABREs)."""

import pandas as pd

from deepdife_core.data.demo import ABRE, demo_fasta_records, make_demo_dataset

_COMP = str.maketrans("ACGT", "TGCA")


def test_same_seed_same_table_other_seed_other_sequences():
    a = make_demo_dataset(30, length=120, seed=3)
    pd.testing.assert_frame_equal(a, make_demo_dataset(30, length=120, seed=3))
    assert a["sequence"].tolist() != make_demo_dataset(30, length=120, seed=4)["sequence"].tolist()


def test_table_contract():
    df = make_demo_dataset(40, length=150, seed=1, label_noise=0.0)
    assert list(df.columns) == ["gene_id", "label", "family", "sequence", "coords", "sites", "true_label"]
    assert len(df) == 40 and df["gene_id"].is_unique
    assert df["sequence"].str.len().eq(150).all() and df["sequence"].str.fullmatch("[ACGT]+").all()
    assert (df["label"] == df["true_label"]).all()  # no label noise asked for
    assert df["gene_id"].iloc[0].startswith("SYN") and df["gene_id"].iloc[0].endswith("G00010")
    assert df["coords"].str.fullmatch(r"Chr[1-5]:\d+-\d+\([+-]\)").all()
    starts_ends = df["coords"].str.extract(r":(\d+)-(\d+)").astype(int)
    assert (starts_ends[1] - starts_ends[0]).eq(150).all()
    # families have at most five members and share one label
    assert df.groupby("family").size().max() <= 5
    assert df.groupby("family")["true_label"].nunique().eq(1).all()


def test_recorded_sites_hold_an_abre_on_their_strand():
    df = make_demo_dataset(60, length=300, seed=2)
    n = 0
    for seq, sites in zip(df["sequence"], df["sites"], strict=True):
        for site in filter(None, sites.split(";")):
            lo, hi, strand = site.split(":")
            word = seq[int(lo) : int(hi)]
            if strand == "-":
                word = word.translate(_COMP)[::-1]
            assert word in ABRE, site
            n += 1
    assert n > 0
    responsive = df[df["true_label"] == 1]
    per_gene = responsive["sites"].str.split(";").str.len()
    assert (per_gene.min(), per_gene.max(), len(responsive)) == (2, 4, 34)  # 2-4 planted sites per responsive gene


def test_fasta_records_name_gene_and_coordinates():
    df = make_demo_dataset(3, length=50, seed=5)
    recs = demo_fasta_records(df)
    assert recs == [(f"{g}::{c}", s) for g, c, s in zip(df["gene_id"], df["coords"], df["sequence"], strict=True)]
    assert recs[0] == ("SYN3G00010::Chr3:3196798-3196848(-)", "TGAACCAATGACTTTCCGAGATAGTATTATCAGTTAAATCTAATGGAATA")
    assert [r[0] for r in recs[1:]] == [
        "SYN3G00020::Chr3:10939441-10939491(-)",
        "SYN3G00030::Chr3:11235545-11235595(+)",
    ]
