"""Repeated gene IDs (alternative TSSs): one record identity and one ``alt_tss`` option everywhere.

The identity of a record is its gene ID when the gene has one record, else
``GENE::Chr:start-end(strand)`` from the record's coordinates, else ``GENE#k``.
Prediction, explanation and motif discovery keep every record (``alt_tss="all"``);
dataset builders keep the first record of each gene and report how many were left
out (``alt_tss="first"``).  Each CLI command is run on a FASTA with repeated IDs,
with and without coordinates.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deepdife_core.cli.main import main
from deepdife_core.config import DatasetConfig
from deepdife_core.data import io
from deepdife_core.errors import DeepDifEInputError

ROOT = Path(__file__).resolve().parents[2]
DEMO_MODEL = ROOT / "models" / "demo"

#: AT1G71960 at two TSSs (as in DeepDifE's example.fasta_c1), two genes with one record each
WITH_COORDS = (
    ">AT1G71960::Chr1:27085778-27086398(-)\nACGTACGTAA\n"
    ">AT1G01020::Chr1:100-110(+)\nTTTTACGTAC\n"
    ">AT1G71960::Chr1:27084428-27085048(-)\nGGGGACGTAG\n"
    ">AT1G01030::Chr1:200-210(+)\nCCCCACGTAT\n"
)
#: the same gene twice without coordinates (GENE#k)
NO_COORDS = (
    ">AT1G71960\nACGTACGTAA\n>AT1G01020\nTTTTACGTAC\n>AT1G71960 second TSS\nGGGGACGTAG\n>AT1G01030\nCCCCACGTAT\n"
)
IDS_WITH = ["AT1G71960::Chr1:27085778-27086398(-)", "AT1G01020", "AT1G71960::Chr1:27084428-27085048(-)", "AT1G01030"]
IDS_WITHOUT = ["AT1G71960#1", "AT1G01020", "AT1G71960#2", "AT1G01030"]
CASES = {"coords": (WITH_COORDS, IDS_WITH), "no_coords": (NO_COORDS, IDS_WITHOUT)}


def run(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


# ----------------------------------------------------------------------------- the rule


def test_record_ids_rule():
    assert io.record_ids(["G1", "G2"]) == ["G1", "G2"]
    assert io.record_ids(["G", "H", "G"], ["Chr1:1-9(+)", None, "Chr1:20-29(+)"]) == [
        "G::Chr1:1-9(+)",
        "H",
        "G::Chr1:20-29(+)",
    ]
    assert io.record_ids(["G", "G", "G"]) == ["G#1", "G#2", "G#3"]
    # coordinates missing for one record, or the same twice: numbered
    assert io.record_ids(["G", "G"], ["Chr1:1-9(+)", None]) == ["G#1", "G#2"]
    assert io.record_ids(["G", "G"], ["Chr1:1-9(+)", "Chr1:1-9(+)"]) == ["G#1", "G#2"]
    # one gene across case and versions; coordinates may sit in the ID itself
    assert io.record_ids(["at1g1.1", "AT1G1.2"]) == ["at1g1.1#1", "AT1G1.2#2"]
    assert io.record_ids(["G::Chr1:1-9(+)", "G::Chr1:20-29(+)"]) == ["G::Chr1:1-9(+)", "G::Chr1:20-29(+)"]


@pytest.mark.parametrize("ids", [IDS_WITH, IDS_WITHOUT])
def test_record_ids_read_back_as_themselves(ids):
    assert io.record_ids(ids) == ids
    assert [io.gene_of(r) for r in ids] == ["AT1G71960", "AT1G01020", "AT1G71960", "AT1G01030"]
    assert io.normalize_id(ids[0]) == "AT1G71960"


def test_record_ids_are_unique_even_for_odd_ids():
    # 'G#2' beside a plain 'G' is a record of gene G: the group is renumbered rather than clashing
    assert io.record_ids(["G#2", "H", "G"]) == ["G#1", "H", "G#2"]
    # identities already unique (a saved table whose G#1 was dropped) read back as themselves
    assert io.record_ids(["G#2", "G#3", "H"]) == ["G#2", "G#3", "H"]
    assert io.record_ids(["G#2", "G::Chr1:1-9(+)", "H"]) == ["G#2", "G::Chr1:1-9(+)", "H"]
    odd = ["g", "G", "G.1", "g::Chr1:1-2(+)", "G#1", "x", "X#7"]
    ids = io.record_ids(odd, [None, "Chr2:1-2(+)", None, None, None, None, None])
    assert len({i.upper() for i in ids}) == len(ids)


def test_alt_tss_value_checked():
    with pytest.raises(DeepDifEInputError, match=r"alt-tss 'some'.*'all'.*'first'"):
        io.sequences_from_fasta(WITH_COORDS.encode(), length=10, alt_tss="some")
    assert io.ALT_TSS_MODEL == "all" and io.ALT_TSS_DATASET == "first"


def test_groups_and_selection():
    groups = io.record_groups(IDS_WITH)
    assert groups == {"AT1G71960": [IDS_WITH[0], IDS_WITH[2]], "AT1G01020": ["AT1G01020"], "AT1G01030": ["AT1G01030"]}
    df = pd.DataFrame({"gene_id": IDS_WITH, "sequence": list("ABCD")})
    sel, missing = io.select_records(df, ["AT1G01030", "at1g71960", "NOPE"])
    assert sel["gene_id"].tolist() == ["AT1G01030", IDS_WITH[0], IDS_WITH[2]] and missing == ["NOPE"]
    sel, _ = io.select_records(df, [IDS_WITH[2]])
    assert sel["gene_id"].tolist() == [IDS_WITH[2]]
    sel, _ = io.select_records(df, None)
    assert len(sel) == 4


# ----------------------------------------------------------------------------- readers


@pytest.mark.parametrize("case", sorted(CASES))
def test_fasta_for_a_model_keeps_every_record(case):
    text, ids = CASES[case]
    assert [r.id.split("::")[0] for r in io.read_fasta(text.encode())].count("AT1G71960") == 2  # no error
    df, rep = io.records_from_fasta(text.encode(), length=10, name="p.fa")
    assert df["gene_id"].tolist() == ids
    assert rep.repeated_genes == 1 and rep.alternatives_left_out == 0 and rep.n_kept == 4
    assert "1 genes have several records (alternative TSSs): all kept" in rep.records_note()
    first, rep = io.records_from_fasta(text.encode(), length=10, name="p.fa", alt_tss="first")
    assert first["gene_id"].tolist() == ["AT1G71960", "AT1G01020", "AT1G01030"]
    assert first["sequence"].iloc[0] == "ACGTACGTAA" and rep.alternatives_left_out == 1
    assert "the first record of each is used, 1 left out" in rep.records_note()


@pytest.mark.parametrize("case", sorted(CASES))
def test_dataset_builders_collapse_by_default_and_keep_all_on_request(case, tmp_path):
    text, ids = CASES[case]
    fa = tmp_path / "p.fa"
    fa.write_text(text)
    labels = tmp_path / "labels.csv"
    labels.write_text("gene_id,label\nAT1G71960,1\nAT1G01020,0\nAT1G01030,0\n")
    cfg = DatasetConfig(length=10)
    df, rep = io.dataset_from_labels(labels, fa, cfg=cfg)
    assert df["gene_id"].tolist() == ["AT1G71960", "AT1G01020", "AT1G01030"]
    assert df["sequence"].iloc[0] == "ACGTACGTAA"  # the first record
    assert rep.repeated_genes == 1 and rep.alternatives_left_out == 1 and rep.unused_sequences == 1
    assert "the first record of each is used, 1 left out" in rep.summary()
    df, rep = io.dataset_from_labels(labels, fa, cfg=cfg, alt_tss="all")
    assert df["gene_id"].tolist() == [ids[0], ids[2], "AT1G01020", "AT1G01030"]
    assert df["label"].tolist() == [1, 1, 0, 0] and df["family"].tolist()[:2] == ["AT1G71960"] * 2
    assert rep.unused_sequences == 0 and "all kept" in rep.summary()
    # the same through gene lists and a DE table
    up, flat = tmp_path / "up.txt", tmp_path / "flat.txt"
    up.write_text("AT1G71960\n")
    flat.write_text("AT1G01020\nAT1G01030\n")
    df, rep = io.dataset_from_gene_lists(up, flat, fa, cfg=cfg)
    assert len(df) == 3 and rep.alternatives_left_out == 1
    de = tmp_path / "de.csv"
    de.write_text("gene_id,log2FoldChange,padj\nAT1G71960,3,0.001\nAT1G01020,0.1,0.9\nAT1G01030,0,1\n")
    df, rep = io.dataset_from_de_table(de, fa, cfg=cfg, alt_tss="all")
    assert len(df) == 4 and rep.repeated_genes == 1


def test_labelled_fasta_and_tables(tmp_path):
    fa = tmp_path / "l.fa"
    fa.write_text(">G_1\nACGT\n>H_0\nACGA\n>G_1\nACGG\n")
    df, rep = io.dataset_from_labelled_fasta(fa, cfg=DatasetConfig(length=4))
    assert df["gene_id"].tolist() == ["G", "H"] and rep.alternatives_left_out == 1
    df, _ = io.dataset_from_labelled_fasta(fa, cfg=DatasetConfig(length=4), alt_tss="all")
    assert df["gene_id"].tolist() == ["G#1", "H", "G#2"] and df["family"].tolist() == ["G", "H", "G"]
    fa.write_text(">G_1\nACGT\n>H_0\nACGA\n>G_0\nACGG\n")
    with pytest.raises(DeepDifEInputError, match=r"record 3 \('G_0', line 5\): duplicate gene ID 'G' \(also record 1"):
        io.dataset_from_labelled_fasta(fa, cfg=DatasetConfig(length=4))
    t = tmp_path / "t.csv"
    t.write_text("gene_id,label,sequence,coords\nG,1,ACGT,Chr1:1-4(+)\nH,0,ACGA,\nG,1,ACGG,Chr1:9-12(+)\n")
    df, rep = io.dataset_from_table(t, cfg=DatasetConfig(length=4))
    assert df["gene_id"].tolist() == ["G", "H"] and rep.alternatives_left_out == 1
    df = io.sequences_from_table(t, cfg=DatasetConfig(length=4))
    assert df["gene_id"].tolist() == ["G::Chr1:1-4(+)", "H", "G::Chr1:9-12(+)"]


def test_saved_dataset_with_every_record_reads_back_unchanged(tmp_path):
    fa = tmp_path / "p.fa"
    fa.write_text(WITH_COORDS)
    labels = tmp_path / "labels.csv"
    labels.write_text("gene_id,label\nAT1G71960,1\nAT1G01020,0\nAT1G01030,0\n")
    df, _ = io.dataset_from_labels(labels, fa, cfg=DatasetConfig(length=10), alt_tss="all")
    df.to_csv(tmp_path / "d.csv", index=False)
    back = io.load_dataset(tmp_path / "d.csv")
    assert back["gene_id"].tolist() == df["gene_id"].tolist()
    assert back["family"].tolist() == df["family"].tolist()


def test_dataset_without_a_first_record_reads_back_and_predicts_unchanged(tmp_path, capsys):
    # G's first record is all N (dropped): the table keeps G#2, G#3, and reads back as it was saved
    fa = tmp_path / "p.fa"
    seqs = ["".join(np.random.default_rng(i).choice(list("ACGT"), 600)) for i in range(4)]
    fa.write_text(f">G\n{'N' * 600}\n>H\n{seqs[0]}\n>G\n{seqs[1]}\n>G\n{seqs[2]}\n>K\n{seqs[3]}\n")
    labels = tmp_path / "labels.csv"
    labels.write_text("gene_id,label\nG,1\nH,0\nK,0\n")
    df, report = io.dataset_from_labels(labels, fa, cfg=DatasetConfig(length=600), alt_tss="all")
    assert df["gene_id"].tolist() == ["G#2", "G#3", "H", "K"] and df["family"].tolist() == ["G", "G", "H", "K"]
    summary = report.summary()
    assert summary.startswith("4 records of 3 genes kept (input: 3); 1 dropped for too many N"), summary
    assert "each gene is its own group (its records share it)" in summary
    df.to_csv(tmp_path / "d.csv", index=False)
    assert io.load_dataset(tmp_path / "d.csv")["gene_id"].tolist() == ["G#2", "G#3", "H", "K"]
    code = main(
        ["predict", "--model", str(DEMO_MODEL), "--data", str(tmp_path / "d.csv"), "--out", str(tmp_path / "p.csv")]
    )
    capsys.readouterr()
    assert code == 0 and pd.read_csv(tmp_path / "p.csv")["gene_id"].tolist() == ["G#2", "G#3", "H", "K"]


# ----------------------------------------------------------------------------- every CLI command


@pytest.fixture
def demo_files(tmp_path):
    """Demo promoters (600 bp) as FASTA, the first three genes twice: with and without coordinates."""
    from deepdife_core.data.demo import make_demo_dataset

    df = make_demo_dataset(24, length=600, seed=5)
    with_c, without = [], []
    for i, (g, c, s) in enumerate(zip(df["gene_id"], df["coords"], df["sequence"], strict=True)):
        with_c.append(f">{g}::{c}\n{s}\n")
        without.append(f">{g}\n{s}\n")
        if i < 3:
            chrom, rest = c.split(":")
            with_c.append(f">{g}::{chrom}:9{rest}\n{s[::-1]}\n")
            without.append(f">{g} another TSS\n{s[::-1]}\n")
    (tmp_path / "coords.fa").write_text("".join(with_c))
    (tmp_path / "no_coords.fa").write_text("".join(without))
    df[["gene_id", "label"]].to_csv(tmp_path / "labels.csv", index=False)
    return tmp_path, df


@pytest.mark.parametrize("case", ["coords", "no_coords"])
def test_cli_every_command_on_repeated_ids(case, demo_files, capsys):
    tmp, demo = demo_files
    fa = tmp / f"{case}.fa"
    first = demo["gene_id"].iloc[0]
    labelled = f"{first}::" if case == "coords" else f"{first}#"
    # dataset build: first record of each gene, the count reported; --alt-tss all keeps them
    code, _, err = run(
        ["dataset", "build", "--labels", tmp / "labels.csv", "--fasta", fa, "--out", tmp / "d.csv"], capsys
    )
    assert code == 0 and "3 genes have several records" in err and "3 left out" in err, err
    assert pd.read_csv(tmp / "d.csv")["gene_id"].is_unique and len(pd.read_csv(tmp / "d.csv")) == 24
    argv = ["dataset", "build", "--labels", tmp / "labels.csv", "--fasta", fa, "--out", tmp / "all.csv", "--alt-tss"]
    code, _, err = run([*argv, "all", "--manifest"], capsys)
    built = pd.read_csv(tmp / "all.csv")
    assert code == 0 and len(built) == 27 and built["gene_id"].str.startswith(labelled).sum() == 2
    assert json.loads((tmp / "all.json").read_text())["report"]["repeated_genes"] == 3
    code, out, _ = run(["dataset", "check", tmp / "all.csv"], capsys)
    assert code == 0 and json.loads(out)["n_genes"] == 27
    # predict: every record, under its identity
    code, _, err = run(["predict", "--model", DEMO_MODEL, "--fasta", fa, "--out", tmp / "p.csv"], capsys)
    pred = pd.read_csv(tmp / "p.csv")
    assert code == 0 and len(pred) == 27 and pred["gene_id"].is_unique and "all kept" in err
    assert pred["gene_id"].str.startswith(labelled).sum() == 2
    code, _, _ = run(
        ["predict", "--model", DEMO_MODEL, "--fasta", fa, "--out", tmp / "p1.csv", "--alt-tss", "first"], capsys
    )
    assert code == 0 and len(pd.read_csv(tmp / "p1.csv")) == 24
    code, _, _ = run(["predict", "--model", DEMO_MODEL, "--data", tmp / "all.csv", "--out", tmp / "p2.csv"], capsys)
    assert code == 0 and pd.read_csv(tmp / "p2.csv")["gene_id"].tolist() == built["gene_id"].tolist()
    # evaluate with a labels table + the FASTA (a training dataset: first records)
    code, out, _ = run(["evaluate", "--model", DEMO_MODEL, "--data", tmp / "labels.csv", "--fasta", fa], capsys)
    assert code == 0 and "auroc" in json.loads(out)
    # explain: a gene ID selects all its records; plots get one file each
    argv = ["explain", "--model", DEMO_MODEL, "--fasta", fa, "--method", "gradxinput", "--out", tmp / "a.npz"]
    code, _, err = run([*argv, "--genes", first, demo["gene_id"].iloc[5], "--plot", tmp / "svg"], capsys)
    assert code == 0, err
    ids = np.load(tmp / "a.npz")["gene_id"].tolist()
    assert len(ids) == 3 and ids[0].startswith(labelled) and ids[1].startswith(labelled)
    assert len(list((tmp / "svg").glob("*.svg"))) == 3
    code, _, err = run([*argv, "--genes", pred["gene_id"].iloc[1]], capsys)
    assert code == 0 and np.load(tmp / "a.npz")["gene_id"].tolist() == [pred["gene_id"].iloc[1]]


@pytest.mark.parametrize("case", ["coords", "no_coords"])
def test_cli_experiments_on_repeated_ids(case, demo_files, capsys):
    """tile refuses a gene with several records (naming them) and takes a record identity; ablate and insert
    keep every record under its identity."""
    tmp, demo = demo_files
    first = demo["gene_id"].iloc[0]
    argv = ["dataset", "build", "--labels", tmp / "labels.csv", "--fasta", tmp / f"{case}.fa", "--out"]
    code, _, err = run([*argv, tmp / "all.csv", "--alt-tss", "all"], capsys)
    assert code == 0, err
    built = pd.read_csv(tmp / "all.csv")
    records = [r for r in built["gene_id"] if io.gene_of(r) == first]
    c = demo["coords"].iloc[0]
    chrom, rest = c.split(":")
    want = [f"{first}::{c}", f"{first}::{chrom}:9{rest}"] if case == "coords" else [f"{first}#1", f"{first}#2"]
    assert records == want
    base = ["--model", DEMO_MODEL, "--data", tmp / "all.csv"]
    tile = ["experiment", "tile", *base, "--window", "100", "--step", "100"]
    code, _, err = run([*tile, "--gene", first.lower(), "--out", tmp / "t.csv"], capsys)
    assert code != 0 and f"has 2 records (alternative TSSs): give one of {want[0]}, {want[1]}" in err, err
    assert not (tmp / "t.csv").exists()
    code, _, err = run([*tile, "--gene", want[1], "--out", tmp / "t.csv"], capsys)
    assert code == 0, err
    tiles = pd.read_csv(tmp / "t.csv")
    assert len(tiles) == 6, tiles
    code, _, err = run(
        ["experiment", "ablate", *base, "--motif", "ACGTGKC", "--out", tmp / "a.csv"],
        capsys,
    )
    assert code == 0, err
    per = pd.read_csv(tmp / "a.csv")
    assert sorted(per["gene_id"]) == sorted(built["gene_id"]), per.head()
    code, _, err = run(
        [
            "experiment",
            "insert",
            *base,
            "--motif",
            "CACGTG",
            "--background",
            "all",
            "--n",
            "27",
            "--out",
            tmp / "i.csv",
        ],
        capsys,
    )
    assert code == 0, err
    inserted = pd.read_csv(tmp / "i.csv")
    assert sorted(inserted["gene_id"]) == sorted(built["gene_id"]), inserted.head()


@pytest.mark.slow
@pytest.mark.parametrize("case", ["coords", "no_coords"])
def test_cli_motifs_on_repeated_ids(case, demo_files, tmp_path_factory, capsys):
    tmp, _ = demo_files
    db = tmp_path_factory.mktemp("motif_db")
    out = tmp / "run"
    argv = ["motifs", "--model", DEMO_MODEL, "--fasta", tmp / f"{case}.fa", "--method", "gradxinput"]
    argv += ["--no-cache", "--db-cache", db, "--out", out]
    code, _, err = run(argv, capsys)
    assert code == 0, err
    assert "3 genes have several records" in err and "attributions (gradxinput) of 27 genes" in err
    assert json.loads((out / "run.json").read_text())["n_genes"] == 27
    seqlets = pd.read_csv(out / "seqlets.csv")
    assert set(seqlets["gene_id"]) <= set(io.sequences_from_fasta(tmp / f"{case}.fa", length=600)["gene_id"])


# ----------------------------------------------------------------------------- DeepDifE's own example files


@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.parametrize("which", ["example.fasta_c1", "example.fasta_c2"])
def test_motifs_on_the_tfmodisco_notebook_input(which, shared_data, tmp_path, capsys):
    """`deepdife motifs --fasta` on the first 101 records of each example file (the notebook's input), ~30 s each.

    ``example.fasta_c1`` lists AT1G58190, AT1G71960 and AT2G02695 twice among them.
    """
    lines = (shared_data / "arabidopsis" / which).read_text().splitlines(keepends=True)
    heads = [i for i, line in enumerate(lines) if line.startswith(">")]
    fa = tmp_path / "first101.fa"
    fa.write_text("".join(lines[: heads[101]]))
    model = tmp_path / "published"
    legacy = ["import-legacy", "--json", shared_data / "model_single.json"]
    assert run([*legacy, "--weights", shared_data / "weights_single.h5", "--out", model, "-q"], capsys)[0] == 0
    meme = shared_data / "jaspar_cisbp_other_source_no_high_similarity_tfbs_annot.meme"
    out = tmp_path / "run"
    code, _, err = run(
        ["motifs", "--model", model, "--fasta", fa, "--motif-db", meme, "--no-cache", "--out", out], capsys
    )
    assert code == 0, err
    assert json.loads((out / "run.json").read_text())["n_genes"] == 101
    assert (out / "report.html").is_file() and (out / "modisco.h5").is_file()
    names = io.sequences_from_fasta(fa, length=600)["gene_id"]
    assert names.is_unique and len(names) == 101
    if which.endswith("c1"):
        assert "3 genes have several records" in err
        assert "AT1G71960::Chr1:27085778-27086398(-)" in set(names)
    assert set(pd.read_csv(out / "seqlets.csv")["gene_id"]) <= set(names)
