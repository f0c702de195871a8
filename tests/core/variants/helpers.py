"""Shared helpers and fixtures of the ``variants`` tests (moved from ``tests/core/test_variants.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pysam
import pytest

from deepdife_core.config import DatasetConfig, ModelConfig, RunConfig
from deepdife_core.genome.promoters import PromoterConfig
from deepdife_core.genome.registry import add_genome
from deepdife_core.model.cnn import Predictor, build_model
from deepdife_core.model.folder import save_model_folder
from deepdife_core.motifs.modisco import Motif, write_meme
from deepdife_core.variants import VariantConfig
from deepdife_core.variants.run import score_variants
from tests.core.oracle import ABRE_PWM, abre_config, abre_logit, set_abre_weights  # noqa: F401

L = 80


U, D = 70, 10


PROM = PromoterConfig(upstream=U, downstream=D)


COMP = str.maketrans("ACGTN", "TGCAN")


def rc(s: str) -> str:
    return s.translate(COMP)[::-1]


def oracle_cfg(length: int = L) -> ModelConfig:
    return abre_config(length, conjoin=False)


def oracle_model(length: int = L):
    """One conv filter = ABRE PWM (7 on a match, bias -5.5), global max -> logit 2*relu - 1 (forward strand)."""
    return set_abre_weights(build_model(oracle_cfg(length)))


oracle_logit = abre_logit


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


EXPECTED = [  # (gene, pos0, ref, alt) in output order
    ("G1", 240, b(240), "C"),
    ("G1", 240, b(240), "G"),
    ("G1", 262, "G", "A"),
    ("G1", 285, b(285), b(285) + "GGCC"),
    ("G1", 290, GENOME[290:293], b(290)),
    ("G2", 1024, "A", "C"),
    ("G2", 1050, b(1050), "G"),
]


def add_tiny_genome(folder: Path, workspace: Path) -> None:
    """Register genome ``tiny`` (Chr1 = :data:`GENOME`; G1 +, G2 -, G3 +) in ``workspace``, its files in ``folder``."""
    fa = folder / "g.fa"
    fa.write_text(">Chr1\n" + "\n".join(GENOME[i : i + 60] for i in range(0, len(GENOME), 60)) + "\n")
    gff = folder / "g.gff3"
    gff.write_text(
        "##gff-version 3\n"
        "Chr1\t.\tgene\t301\t600\t.\t+\t.\tID=G1\n"
        "Chr1\t.\tgene\t801\t1000\t.\t-\t.\tID=G2\n"
        "Chr1\t.\tgene\t1201\t1300\t.\t+\t.\tID=G3\n"
    )
    add_genome("tiny", fa, gff, workspace=workspace)


def save_oracle_model(folder: Path) -> None:
    """Save :func:`oracle_model` as a model folder (fitting sequences to ``L`` bp)."""
    save_model_folder(
        folder, models=[oracle_model()], config=RunConfig(model=oracle_cfg(), data=DatasetConfig(length=L))
    )


@pytest.fixture(scope="package")
def ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("vws")
    work = root / "workspace"
    add_tiny_genome(root, work)
    vcf = write_vcf(root, vcf_text())
    meme = root / "abre.meme"
    ppm = np.full((7, 4), 0.01)
    for j, c in enumerate("ACGTGGC"):
        ppm[j, "ACGT".index(c)] = 0.97
    write_meme([Motif("MA9999.1", "ABF1", ppm / ppm.sum(1, keepdims=True))], meme)
    folder = root / "model"
    save_oracle_model(folder)
    return {"root": root, "work": str(work), "vcf": vcf, "meme": str(meme), "model": folder}


@pytest.fixture(scope="package")
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
