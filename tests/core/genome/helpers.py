"""Shared helpers and fixtures of the ``genome`` tests (moved from ``tests/core/test_genome.py``)."""

import gzip
import os

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as hst

from deepdife_core.cli.main import main
from deepdife_core.genome.registry import genomes_dir

_COMP = {"A": "T", "C": "G", "G": "C", "T": "A", "N": "N"}


def chromosomes(fa_path) -> dict[str, str]:
    with open(fa_path, "rb") as fh:
        opener = gzip.open if fh.read(2) == b"\x1f\x8b" else open
    out, name = {}, None
    with opener(fa_path, "rt") as fh:
        for line in fh:
            if line.startswith(">"):
                name = line[1:].split()[0]
                out[name] = []
            else:
                out[name].append(line.strip())
    return {k: "".join(v) for k, v in out.items()}


def oracle(chrom_seq: str, tss: int, strand: str, up: int, down: int) -> str:
    """The contract's window, base by base: + genome[tss-U, tss+D); - revcomp of genome[tss-D+1, tss+U+1)."""
    lo, hi = (tss - up, tss + down) if strand == "+" else (tss - down + 1, tss + up + 1)
    bases = [chrom_seq[i] if 0 <= i < len(chrom_seq) else "N" for i in range(lo, hi)]
    if strand == "-":
        bases = [_COMP[b] for b in reversed(bases)]
    return "".join(bases)


def expected_name(gene, chrom, clen, tss, strand, up, down):
    lo, hi = (tss - up, tss + down) if strand == "+" else (tss - down + 1, tss + up + 1)
    return f"{gene}::{chrom}:{max(lo, 0)}-{min(hi, clen)}({strand})"


def _assert_registry_empty(ws):
    root = genomes_dir()
    assert not root.exists() or os.listdir(root) == []


BAD_ANNOTATIONS = [
    (
        "Chr1\tx\texon\t1\t100\t.\t+\t.\tParent=t1\nChr1\tx\tCDS\t1\t90\t.\t+\t0\tParent=t1\n",
        "no gene, mRNA or transcript",
    ),
    (
        "Chr1\tx\tgene\t1\t100\t.\t+\t.\tID=G1\nChr2\tx\tgene\t5\t200\t.\t-\t.\tID=G1\n",
        "lines 1 and 2: duplicate gene ID 'G1'",
    ),
    (
        "Chr1\tx\tgene\t1\t100\t.\t+\t.\tID=G1\nChr1\tx\tgene\t300\t400\t.\t+\t.\tID=G1.1\n",
        "gene IDs 'G1' and 'G1.1' overlap",
    ),
    (
        "Chr1\tx\tgene\t1\t100\t.\t+\t.\tID=G1\nChr1\tx\tmRNA\t1\t100\t.\t+\t.\tID=T1;Parent=G1\n"
        "Chr1\tx\tmRNA\t1\t90\t.\t+\t.\tID=T1;Parent=G1\n",
        "duplicate transcript ID 'T1'",
    ),
    (
        "Chr1\tx\tgene\t1\t100\t.\t+\t.\tID=G1\nChr1\tx\tmRNA\t1\t100\t.\t-\t.\tID=T1;Parent=G1\n",
        "line 2: transcript 'T1' is on Chr1 (-)",
    ),
    ("Chr1\tx\tgene\tone\t100\t.\t+\t.\tID=G1\n", "line 1: start 'one'"),
    ("Chr1 x gene 1 100 . + . ID=G1\n", "fewer than 9 tab-separated columns"),
]


def run(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


_LINE = hst.lists(
    hst.sampled_from(
        [
            "Chr1",
            "1",
            "",
            "gene",
            "mRNA",
            "exon",
            "transcript",
            "10",
            "5",
            "-1",
            "x",
            "+",
            "-",
            ".",
            "ID=G1",
            "ID=G2;Parent=G1",
            'gene_id "G1"; transcript_id "T1";',
            "Parent=T9",
            "#",
            "\x00",
        ]
    ),
    min_size=0,
    max_size=10,
).map("\t".join)


_FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPDIFE_WORKSPACE", str(tmp_path / "ws"))
    return tmp_path / "ws"
