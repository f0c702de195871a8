"""Variant effects: applied sequences and scores against an independent string oracle (ABRE model),
VCF edge cases (multi-allelic, filtered, symbolic, long indels, REF mismatch, contig names, unindexed),
per-sample haplotypes, Dask vs in-process identity, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pysam
import pytest

from deepdife_core.config import DatasetConfig, ModelConfig, RunConfig
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.genome.promoters import PromoterConfig
from deepdife_core.genome.registry import add_genome
from deepdife_core.model.cnn import Predictor, build_model
from deepdife_core.motifs.modisco import Motif, write_meme
from deepdife_core.variants import EFFECT_COLUMNS, VariantConfig
from deepdife_core.variants.run import score_variants, write_results

ABRE_PWM = ["A", "C", "G", "T", "G", "GT", "C"]  # ACGTGKC
L = 80
U, D = 70, 10
PROM = PromoterConfig(upstream=U, downstream=D)
COMP = str.maketrans("ACGTN", "TGCAN")


def rc(s: str) -> str:
    return s.translate(COMP)[::-1]


def oracle_cfg(length: int = L) -> ModelConfig:
    k = len(ABRE_PWM)
    return ModelConfig(
        head="flatten",
        input_length=length,
        pad_left=0,
        pad_right=0,
        n_conv=1,
        filters=2,
        kernel_size=k,
        pool_size=length - k + 1,
        dense_units=(),
        dropout=0.0,
        l2=0.0,
        conjoin=False,
        strand_shared=False,
    )


def oracle_model(length: int = L):
    """One conv filter = ABRE PWM (7 on a match, bias -5.5), global max -> logit 2*relu - 1 (forward strand)."""
    k = len(ABRE_PWM)
    model = build_model(oracle_cfg(length))
    kernel = np.zeros((k, 4, 2), dtype=np.float32)
    for j, bases in enumerate(ABRE_PWM):
        for b in bases:
            kernel[j, "ACGT".index(b), 0] = 1.0
    model.get_layer("conv_0").set_weights([kernel, np.array([-5.5, 0.0], dtype=np.float32)])
    model.get_layer("output").set_weights([np.array([[2.0], [0.0]], np.float32), np.array([-1.0], np.float32)])
    return model


def oracle_logit(seq: str) -> float:
    best = 0
    for p in range(len(seq) - 6):
        best = max(best, sum(seq[p + j] in bases for j, bases in enumerate(ABRE_PWM)))
    return 2.0 * max(best - 5.5, 0.0) - 1.0


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# genome: Chr1, AT background; G1 (+) TSS 300 with an ABRE at 260; G2 (-) TSS 999 with a near-ABRE (rc) at 1020
rng = np.random.default_rng(3)
BASES = list("".join(rng.choice(list("AT"), size=1400)))
BASES[258:268] = "CCACGTGGCA"  # the ABRE ACGTGGC at 260
BASES[1019:1029] = "TGCCAAGTGG"  # rc CCACTTGGCA: one base from the ABRE; pos0 1024 A->C creates its rc
GENOME = "".join(BASES)
# window G1: [230, 310) forward; window G2: [990, 1070) reverse-complemented
W1, W2 = (230, 310, "+", 300), (990, 1070, "-", 999)


def oracle_input(alleles: list[tuple[int, str, str]], win) -> str:
    """Edited window read on the gene's strand, fitted to L (5' trim / N pad): by string slicing."""
    lo, hi, strand, _ = win
    fwd = GENOME[lo:hi]
    for pos0, ref, alt in sorted(alleles, reverse=True):
        i = pos0 - lo
        assert fwd[i : i + len(ref)] == ref
        fwd = fwd[:i] + alt + fwd[i + len(ref) :]
    seq = rc(fwd) if strand == "-" else fwd
    return seq[-L:] if len(seq) >= L else "N" * (L - len(seq)) + seq


def b(pos0: int) -> str:
    return GENOME[pos0]


# (pos0, ref, alts, filter, samples' GT)
RECORDS = [
    (240, b(240), ["C", "G"], "PASS", ["0/1", "2/2", "0/0"]),  # multi-allelic
    (262, "G", ["A"], "PASS", ["1/1", "0/0", "0/1"]),  # destroys the ABRE of G1
    (275, b(275), ["<DEL>"], "PASS", ["0/1", "0/0", "0/0"]),  # symbolic
    (280, b(280), ["C"], "LowQual", ["1/1", "1/1", "1/1"]),  # filtered
    (285, b(285), [b(285) + "GGCC"], "PASS", ["0/0", "1/1", "0/0"]),  # insertion of 4 bp
    (290, GENOME[290:293], [b(290)], ".", ["0/0", "0/1", "1/1"]),  # deletion of 2 bp
    (295, b(295), [b(295) + "A" * 60], "PASS", ["1/1", "0/0", "0/0"]),  # 60-bp insertion: too long
    (305, "C" if b(305) != "C" else "G", ["A"], "PASS", ["0/1", "0/0", "0/0"]),  # REF mismatch
    (600, b(600), ["C"], "PASS", ["1/1", "1/1", "1/1"]),  # outside every window
    (1024, "A", ["C"], "PASS", ["0/0", "1/1", "0/1"]),  # creates the ABRE of G2
    (1050, b(1050), ["G"], "PASS", ["1/1", "0/0", "0/0"]),
]
SAMPLES = ["S1", "S2", "S3"]


def vcf_text(chrom: str = "Chr1", records=RECORDS) -> str:
    head = [
        "##fileformat=VCFv4.2",
        f"##contig=<ID={chrom},length={len(GENOME)}>",
        '##FILTER=<ID=LowQual,Description="low">',
        '##ALT=<ID=DEL,Description="deletion">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(SAMPLES),
    ]
    lines = [
        f"{chrom}\t{p + 1}\tv{p}\t{ref}\t{','.join(alts)}\t50\t{f}\t.\tGT\t" + "\t".join(gts)
        for p, ref, alts, f, gts in records
    ]
    return "\n".join(head + lines) + "\n"


def write_vcf(folder: Path, text: str, *, index: bool = True) -> Path:
    plain = folder / "calls.vcf"
    plain.write_text(text)
    if not index:
        return plain
    return Path(pysam.tabix_index(str(plain), preset="vcf", force=True))


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("vws")
    fa = root / "g.fa"
    fa.write_text(">Chr1\n" + "\n".join(GENOME[i : i + 60] for i in range(0, len(GENOME), 60)) + "\n")
    gff = root / "g.gff3"
    gff.write_text(
        "##gff-version 3\n"
        "Chr1\t.\tgene\t301\t600\t.\t+\t.\tID=G1\n"
        "Chr1\t.\tgene\t801\t1000\t.\t-\t.\tID=G2\n"
        "Chr1\t.\tgene\t1201\t1300\t.\t+\t.\tID=G3\n"
    )
    work = root / "workspace"
    add_genome("tiny", fa, gff, workspace=work)
    vcf = write_vcf(root, vcf_text())
    meme = root / "abre.meme"
    ppm = np.full((7, 4), 0.01)
    for j, c in enumerate("ACGTGGC"):
        ppm[j, "ACGT".index(c)] = 0.97
    write_meme([Motif("MA9999.1", "ABF1", ppm / ppm.sum(1, keepdims=True))], meme)
    folder = root / "model"
    from deepdife_core.model.folder import save_model_folder

    save_model_folder(
        folder, models=[oracle_model()], config=RunConfig(model=oracle_cfg(), data=DatasetConfig(length=L))
    )
    return {"root": root, "work": str(work), "vcf": vcf, "meme": str(meme), "model": folder}


@pytest.fixture(scope="module")
def result(ws):
    return score_variants(
        Predictor([oracle_model()], oracle_cfg()),
        "tiny",
        ws["vcf"],
        per_sample=True,
        promoter=PROM,
        config=VariantConfig(motif_db=ws["meme"], motif_pvalue=1e-3),
        workspace=ws["work"],
    )


EXPECTED = [  # (gene, pos0, ref, alt) in output order
    ("G1", 240, b(240), "C"),
    ("G1", 240, b(240), "G"),
    ("G1", 262, "G", "A"),
    ("G1", 285, b(285), b(285) + "GGCC"),
    ("G1", 290, GENOME[290:293], b(290)),
    ("G2", 1024, "A", "C"),
    ("G2", 1050, b(1050), "G"),
]


def test_rows_split_filter_and_skip(result):
    e = result.effects
    assert list(e.columns) == list(EFFECT_COLUMNS)
    assert list(zip(e.gene_id, e.pos - 1, e.ref, e.alt, strict=True)) == EXPECTED
    r = result.report
    assert (r.filtered, r.symbolic, r.long_indel, len(r.ref_mismatch)) == (1, 1, 1, 1)
    assert r.ref_mismatch[0].startswith("Chr1:306 REF")
    assert e.distance_to_tss.tolist() == [-60, -60, -38, -15, -10, 999 - 1024, 999 - 1050]


def test_scores_match_the_string_oracle(result):
    e = result.effects
    wins = {"G1": W1, "G2": W2}
    for row in e.itertuples():
        w = wins[row.gene_id]
        z0 = oracle_logit(oracle_input([], w))
        z1 = oracle_logit(oracle_input([(row.pos - 1, row.ref, row.alt)], w))
        assert row.delta_logit == pytest.approx(z1 - z0, abs=1e-5)
        assert row.p_ref == pytest.approx(sigmoid(z0), abs=1e-6)
        assert row.p_alt == pytest.approx(sigmoid(z1), abs=1e-6)
        assert row.p_ref_sd == 0.0
    top = e.reindex(e.delta_probability.abs().sort_values(ascending=False).index)
    assert list(zip(top.gene_id[:2], top.pos[:2], strict=True)) == [("G1", 263), ("G2", 1025)]
    # 7 of 7 ABRE bases (logit 2*1.5-1 = 2) -> 6 of 7 (2*0.5-1 = 0), and back for the created one
    assert e.set_index("pos").loc[263, "delta_logit"] == pytest.approx(-2.0)
    assert e.set_index("pos").loc[1025, "delta_logit"] == pytest.approx(2.0)


def test_motif_change_and_attribution(result):
    e = result.effects.set_index("pos")
    assert e.loc[263, "motifs_lost"] == "ABF1 (MA9999.1)" and e.loc[263, "motifs_gained"] == ""
    assert e.loc[1025, "motifs_gained"] == "ABF1 (MA9999.1)" and e.loc[1025, "motifs_lost"] == ""
    assert (e.drop(index=[263, 1025]).motifs_lost == "").all()
    # gradient x input at the ABRE's G: dense weight 2 x kernel 1; outside the max window: 0
    assert e.loc[263, "attribution"] == pytest.approx(2.0, abs=1e-5)
    assert e.loc[1051, "attribution"] == pytest.approx(0.0, abs=1e-6)


def test_jaspar_names_the_abre_binding_bzips(ws):
    r = score_variants(
        Predictor([oracle_model()], oracle_cfg()),
        "tiny",
        ws["vcf"],
        genes=["G1", "G2"],
        promoter=PROM,
        config=VariantConfig(motif_db="jaspar-plants", attribution=False),
        workspace=ws["work"],
    )
    e = r.effects.set_index("pos")
    lost = e.loc[263, "motifs_lost"].split("; ")
    gained = e.loc[1025, "motifs_gained"].split("; ")
    assert {"ABF1 (MA0570.3)", "ABI5 (MA0931.2)"} <= set(lost)
    assert "ABF1 (MA0570.3)" in gained
    assert not any(n.startswith("ABF1") for n in e.loc[263, "motifs_gained"].split("; "))


def test_carriers(result):
    e = result.effects
    assert e.allele_count.tolist() == [1, 2, 3, 2, 3, 3, 2]
    assert e.samples.tolist() == ["S1", "S2", "S1,S3", "S2", "S2,S3", "S2,S3", "S1"]


def test_per_sample_haplotypes(result):
    h = result.haplotypes
    assert list(h.columns) == ["gene_id", "reference", *SAMPLES]
    assert h.gene_id.tolist() == ["G1", "G2", "G3"]
    scored = [(p, ref, alts, gts) for p, ref, alts, f, gts in RECORDS if (p, ref) in {(x[1], x[2]) for x in EXPECTED}]
    for gi, (gene, win) in enumerate([("G1", W1), ("G2", W2)]):
        assert h.loc[gi, "reference"] == pytest.approx(sigmoid(oracle_logit(oracle_input([], win))), abs=1e-6)
        for k, s in enumerate(SAMPLES):
            mine = []
            for p, ref, alts, gts in scored:
                if not win[0] <= p < win[1]:
                    continue
                for a in {int(x) for x in gts[k].split("/")} - {0}:
                    mine.append((p, ref, alts[a - 1]))
            want = sigmoid(oracle_logit(oracle_input(mine, win)))
            assert h.loc[gi, s] == pytest.approx(want, abs=1e-6), (gene, s)


def test_unindexed_plain_vcf_gives_the_same_rows(ws, result, tmp_path):
    plain = write_vcf(tmp_path, vcf_text(), index=False)
    r = score_variants(
        Predictor([oracle_model()], oracle_cfg()),
        "tiny",
        plain,
        promoter=PROM,
        config=VariantConfig(motif_db=ws["meme"], motif_pvalue=1e-3),
        workspace=ws["work"],
    )
    pd.testing.assert_frame_equal(r.effects, result.effects)


def test_bad_inputs(ws, tmp_path):
    pred = Predictor([oracle_model()], oracle_cfg())
    other = tmp_path / "chr"
    other.mkdir()
    with pytest.raises(DeepDifEInputError, match=r"none of the genome's.*1 -> Chr1"):
        score_variants(
            pred,
            "tiny",
            write_vcf(other, vcf_text("1")),
            promoter=PROM,
            config=VariantConfig(motif_db=""),
            workspace=ws["work"],
        )
    bare = tmp_path / "bare"  # no ##contig lines: the index's names are checked
    bare.mkdir()
    text = "".join(x for x in vcf_text("1").splitlines(keepends=True) if not x.startswith("##contig"))
    with pytest.raises(DeepDifEInputError, match=r"its chromosomes \(1\)"):
        score_variants(pred, "tiny", write_vcf(bare, text), promoter=PROM, workspace=ws["work"])
    unsorted = tmp_path / "uns"
    unsorted.mkdir()
    with pytest.raises(DeepDifEInputError, match="bcftools sort"):
        score_variants(
            pred,
            "tiny",
            write_vcf(unsorted, vcf_text(records=RECORDS[::-1]), index=False),
            promoter=PROM,
            config=VariantConfig(motif_db=""),
            workspace=ws["work"],
        )
    with pytest.raises(DeepDifEInputError, match="no sample 'S9'"):
        score_variants(pred, "tiny", ws["vcf"], samples=["S9"], promoter=PROM, workspace=ws["work"])
    with pytest.raises(DeepDifEInputError, match="no such file"):
        score_variants(pred, "tiny", tmp_path / "none.vcf.gz", promoter=PROM, workspace=ws["work"])


def test_dask_two_workers_equal_in_process(ws, tmp_path):
    from distributed import Client, LocalCluster

    cfg = VariantConfig(motif_db=ws["meme"], motif_pvalue=1e-3, genes_per_chunk=1)
    kw = dict(per_sample=True, promoter=PROM, config=cfg, workspace=ws["work"])
    local = score_variants(ws["model"], "tiny", ws["vcf"], **kw)
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cl,
        Client(cl) as client,
    ):
        remote = score_variants(ws["model"], "tiny", ws["vcf"], dask=client, **kw)
    a, bb = tmp_path / "a.csv", tmp_path / "b.csv"
    write_results(local, a)
    write_results(remote, bb)
    assert a.read_bytes() == bb.read_bytes() and len(local.effects) == len(EXPECTED)
    assert Path(tmp_path / "a.samples.csv").read_bytes() == Path(tmp_path / "b.samples.csv").read_bytes()


def test_cli(ws, tmp_path, monkeypatch, capsys):
    from deepdife_core.cli.main import main

    monkeypatch.setenv("DEEPDIFE_WORKSPACE", ws["work"])
    genes = tmp_path / "ids.txt"
    genes.write_text("G2\nNOPE\n")
    out = tmp_path / "e.parquet"
    rc_ = main(
        [
            "variants",
            "--model",
            str(ws["model"]),
            "--genome",
            "tiny",
            "--vcf",
            str(ws["vcf"]),
            "--upstream",
            str(U),
            "--downstream",
            str(D),
            "--genes",
            str(genes),
            "--motif-db",
            ws["meme"],
            "--motif-pvalue",
            "1e-3",
            "--per-sample",
            "--out",
            str(out),
        ]
    )
    assert rc_ == 0
    e = pd.read_parquet(out)
    assert e.pos.tolist() == [1025, 1051] and e.motifs_gained.tolist()[0] == "ABF1 (MA9999.1)"
    rep = json.loads((tmp_path / "e.report.json").read_text())
    assert rep["genes_not_found"] == ["NOPE"] and rep["variants_scored"] == 2
    assert pd.read_csv(tmp_path / "e.samples.csv").gene_id.tolist() == ["G2"]
    assert (
        main(
            [
                "variants",
                "--model",
                str(ws["model"]),
                "--genome",
                "tiny",
                "--vcf",
                "x.vcf",
                "--out",
                str(tmp_path / "x.csv"),
            ]
        )
        == 2
    )
    assert "x.vcf: no such file" in capsys.readouterr().err
