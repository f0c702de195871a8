import gzip

import pandas as pd
import pytest

from deepdife_core.config import DatasetConfig
from deepdife_core.data import io
from deepdife_core.errors import DeepDifEInputError

FA = ">AT1G01010::Chr1:1-10(+)\nACGTACGTAC\n>AT1G01020.1 some gene\nacgtnnacgt\nAC\n>AT1G01030\nTTTTTTTTTT\n>AT1G01040\nGGGGCCCCAA\n"


@pytest.fixture
def fasta(tmp_path):
    p = tmp_path / "prom.fa"
    p.write_text(FA)
    return p


def test_read_fasta_plain_and_gz(tmp_path, fasta):
    recs = io.read_fasta(fasta)
    assert [r.id for r in recs] == ["AT1G01010::Chr1:1-10(+)", "AT1G01020.1", "AT1G01030", "AT1G01040"]
    assert recs[1].sequence == "ACGTNNACGTAC" and recs[1].line == 3
    gz = tmp_path / "prom.fa.gz"
    gz.write_bytes(gzip.compress(FA.replace("\n", "\r\n").encode()))
    assert [r.sequence for r in io.read_fasta(gz)] == [r.sequence for r in recs]


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("", "no FASTA records"),
        ("ACGT\n>a\nACGT\n", "line 1: sequence data before the first '>'"),
        (">a\nACGT\n>\nACGT\n", "line 3: empty FASTA header"),
        (">a\nACGT\n>b\n>c\nAC\n", r"record 2 \('b', line 3\): empty sequence"),
        (">a\nACGT\n>b\nACXGT\n", r"record 2 \('b', line 3\): 1 characters are not DNA \(e.g. 'X'\)"),
    ],
)
def test_read_fasta_errors(tmp_path, text, pattern):
    p = tmp_path / "bad.fa"
    p.write_text(text)
    with pytest.raises(DeepDifEInputError, match=pattern) as exc:
        io.read_fasta(p)
    assert str(exc.value).startswith("bad.fa")


def test_read_fasta_binary_and_missing(tmp_path):
    p = tmp_path / "x.fa"
    p.write_bytes(b"\x00\x01\x02garbage")
    with pytest.raises(DeepDifEInputError, match="binary data"):
        io.read_fasta(p)
    with pytest.raises(DeepDifEInputError, match="file not found"):
        io.read_fasta(tmp_path / "missing.fa")


def test_normalize_id():
    assert io.normalize_id("AT3G46120::Chr3:16938040-16938660(-)") == "AT3G46120"
    assert io.normalize_id("at3g46120.1") == "AT3G46120"
    assert io.coords_from_header("AT3G46120::Chr3:16938040-16938660(-)") == "Chr3:16938040-16938660(-)"


def test_labels_plus_fasta_matches_versions_and_locations(tmp_path, fasta):
    lab = tmp_path / "labels.tsv"
    lab.write_text("gene_id\tlabel\tfamily\nAT1G01010\t1\tF1\nat1g01020\t0\t\nAT1G01030.2\t1\tF1\nAT9G99999\t0\tF9\n")
    df, rep = io.dataset_from_labels(lab, fasta, cfg=DatasetConfig(length=12))
    assert df["gene_id"].tolist() == ["AT1G01010", "at1g01020", "AT1G01030.2"]
    assert df["sequence"].tolist() == ["NNACGTACGTAC", "ACGTNNACGTAC", "NNTTTTTTTTTT"]
    assert df["family"].tolist() == ["F1", "at1g01020", "F1"]
    assert df["coords"].iloc[0] == "Chr1:1-10(+)"
    assert rep.missing_sequence == ["AT9G99999"] and rep.padded == 2 and rep.unused_sequences == 1


def test_table_builder_trims_and_reports(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("gene_id,label,sequence\ng1,1,AAAACCCCGGGG\ng2,0,ACG\ng3,0,NNNNNNNNNA\n")
    df, rep = io.dataset_from_table(p, cfg=DatasetConfig(length=8, max_n_fraction=0.7))
    assert df["sequence"].tolist() == ["CCCCGGGG", "NNNNNACG"]
    assert rep.trimmed == 2 and rep.padded == 1 and rep.dropped_n == ["g3"] and rep.families_from_ids


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("gene_id,label\ng1,1\n", "no column 'sequence'"),
        ("gene_id,label,sequence\ng1,1,ACGT\ng2,yes,ACGT\n", r"line 3 \('g2'\): label is 'yes', not 0 or 1"),
        ("gene_id,label,sequence\ng1,1,ACGT\ng2,,ACGT\n", r"line 3 \('g2'\): label is empty"),
        ("gene_id,label,sequence\ng1,1,ACGT\ng1,0,ACGT\n", "line 3: duplicate gene ID 'g1' \\(also line 2\\)"),
        ("gene_id,label,sequence\ng1,1,ACGT\ng2,1,ACGT\n", r"every gene is responsive \(1\)"),
        ("gene_id,label,sequence\ng1,1,AC#T\ng2,0,ACGT\n", r"line 2 \('g1'\): 1 characters are not DNA"),
        ("gene_id,label,sequence\n", "header but no rows"),
        ("", "the file is empty"),
    ],
)
def test_table_errors(tmp_path, text, pattern):
    p = tmp_path / "t.csv"
    p.write_text(text)
    with pytest.raises(DeepDifEInputError, match=pattern):
        io.dataset_from_table(p, cfg=DatasetConfig(length=4))


def test_xlsx_table(tmp_path):
    p = tmp_path / "t.xlsx"
    pd.DataFrame({"gene_id": ["a", "b"], "label": [1, 0], "sequence": ["ACGT", "TTTT"]}).to_excel(p, index=False)
    df, _ = io.dataset_from_table(p, cfg=DatasetConfig(length=4))
    assert df["label"].tolist() == [1, 0]


def test_gene_lists(tmp_path, fasta):
    pos = tmp_path / "pos.txt"
    neg = tmp_path / "neg.txt"
    pos.write_text("gene_id\nAT1G01010\n AT1G01030.1 \n")
    neg.write_text("AT1G01020\n#comment\nAT1G01040\n")
    df, _ = io.dataset_from_gene_lists(pos, neg, fasta, cfg=DatasetConfig(length=10))
    assert dict(zip(df["gene_id"].str.strip(), df["label"], strict=True)) == {
        "AT1G01010": 1,
        "AT1G01030.1": 1,
        "AT1G01020": 0,
        "AT1G01040": 0,
    }
    neg.write_text("AT1G01010\n")
    with pytest.raises(DeepDifEInputError, match="in both lists"):
        io.dataset_from_gene_lists(pos, neg, fasta)


def test_ids_not_found(tmp_path, fasta):
    lab = tmp_path / "labels.csv"
    lab.write_text("gene_id,label\nX1,1\nX2,0\n")
    with pytest.raises(DeepDifEInputError, match="none of the 2 gene IDs"):
        io.dataset_from_labels(lab, fasta)


def test_de_table_thresholds(tmp_path, fasta):
    de = tmp_path / "de.tsv"
    de.write_text("gene\tlfc\tq\nAT1G01010\t2.5\t0.001\nAT1G01020\t0.1\t0.9\nAT1G01030\t0.8\t0.01\nAT1G01040\t-3\tNA\n")
    thr = io.DEThresholds(lfc_min=1, padj_max=0.05, lfc_neg_max=0.5, padj_neg_min=0.5)
    table = io.read_de_table(de, gene_col="gene", lfc_col="lfc", padj_col="q")
    assert io.classify_de(table, thr).tolist() == [1, 0, -1, -1]
    df, rep = io.dataset_from_de_table(
        de, fasta, gene_col="gene", lfc_col="lfc", padj_col="q", thresholds=thr, cfg=DatasetConfig(length=10)
    )
    assert df["label"].tolist() == [1, 0] and rep.excluded_grey_zone == 2
    de.write_text("gene\tlfc\tq\nAT1G01010\tbig\t0.001\n")
    with pytest.raises(DeepDifEInputError, match=r"line 2 \('AT1G01010'\): lfc is 'big', not a number"):
        io.read_de_table(de, gene_col="gene", lfc_col="lfc", padj_col="q")


def test_de_all_grey(tmp_path, fasta):
    de = tmp_path / "de.csv"
    de.write_text("gene_id,log2FoldChange,padj\nAT1G01010,0.8,0.2\n")
    with pytest.raises(DeepDifEInputError, match="grey zone"):
        io.dataset_from_de_table(de, fasta)


def test_labelled_fasta(tmp_path):
    p = tmp_path / "l.fa"
    p.write_text(">G1_1\nACGT\n>G2_0\nACGA\n")
    df, _ = io.dataset_from_labelled_fasta(p, cfg=DatasetConfig(length=4))
    assert df["gene_id"].tolist() == ["G1", "G2"] and df["label"].tolist() == [1, 0]
    p.write_text(">G1\nACGT\n")
    with pytest.raises(DeepDifEInputError, match="does not end in _0 or _1"):
        io.dataset_from_labelled_fasta(p)


def test_shared_ortholog_fasta(shared_data):
    df, rep = io.dataset_from_labelled_fasta(shared_data / "orthologs" / "aly.tss.fasta")
    assert len(df) == 1453 and set(df["label"]) == {0, 1} and rep.trimmed == 0
    recs = io.read_fasta(shared_data / "arabidopsis" / "example.fasta_c1")
    assert len(recs) == 989 and io.coords_from_header(recs[0].header).startswith("Chr1:")
    # alternative TSSs: one gene, several locations, all kept for prediction under their own identity
    pred = io.sequences_from_fasta(shared_data / "arabidopsis" / "example.fasta_c1", length=620)
    assert len(pred) == 989 and pred["gene_id"].is_unique and pred["coords"].is_unique
    assert "AT1G71960::Chr1:27085778-27086398(-)" in set(pred["gene_id"])
