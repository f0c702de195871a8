"""Genome benchmark (issue 14): registering an Arabidopsis-sized genome and cutting every promoter.

Generated genome: 5 chromosomes, 120 Mb in all, 27,000 genes (1-3 transcripts each),
FASTA gzip-compressed, GFF3.  Each step runs in its own process so its peak resident
memory (``ru_maxrss``) is its own.  Targets: ``deepdife genome add`` <= 60 s and
<= 1 GB RSS on 2 cores; 27,000 promoters (500 + 100 bp) <= 10 s.  Compared in the
same run with the naive approach: Biopython ``SeqIO.to_dict`` of the whole genome in
memory, a line-by-line GFF parse, ``Seq`` slicing and ``reverse_complement``.  Writes
``bench/results/genome.json``.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import write_result

OUT = Path(__file__).resolve().parent / "results" / "genome.json"
CHROMS = (30_400_000, 19_700_000, 23_500_000, 18_600_000, 27_800_000)  # TAIR10-like, 120.0 Mb
N_GENES = 27_000
UP, DOWN = 500, 100


def _rss_mb() -> float:
    """Peak resident memory of this process (``VmHWM``; ``ru_maxrss`` would carry the parent's over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_add(ws: str, fasta: str, annotation: str) -> dict:
    os.environ["DEEPDIFE_WORKSPACE"] = ws
    from deepdife_core.genome.registry import add_genome

    base = _rss_mb()
    t0 = time.perf_counter()
    info = add_genome("bench", fasta, annotation)
    return {
        "seconds": time.perf_counter() - t0,
        "peak_rss_mb": _rss_mb(),
        "rss_after_imports_mb": base,
        "genes": info["n_genes"],
        "transcripts": info["n_transcripts"],
    }


def child_extract(ws: str) -> dict:
    os.environ["DEEPDIFE_WORKSPACE"] = ws
    from deepdife_core.genome.promoters import PromoterConfig
    from deepdife_core.genome.registry import load_genome

    t0 = time.perf_counter()
    g = load_genome("bench")
    records, report = g.promoters(None, PromoterConfig(upstream=UP, downstream=DOWN))
    secs = time.perf_counter() - t0
    return {
        "seconds": secs,
        "records": len(records),
        "padded": len(report.padded),
        "peak_rss_mb": _rss_mb(),
        "sample": {r.id: r.sequence for r in records[::997]},
    }


def child_naive(fasta: str, annotation: str) -> dict:
    """Load everything with Biopython, parse the GFF by hand, slice and reverse-complement."""
    import gzip

    from Bio import SeqIO

    t0 = time.perf_counter()
    with gzip.open(fasta, "rt") as fh:
        genome = SeqIO.to_dict(SeqIO.parse(fh, "fasta"))
    t_load = time.perf_counter() - t0
    genes = []
    with gzip.open(annotation, "rt") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            f = line.rstrip("\n").split("\t")
            if len(f) == 9 and f[2] == "gene":
                gid = dict(kv.split("=", 1) for kv in f[8].split(";"))["ID"]
                genes.append((gid, f[0], int(f[3]) - 1, int(f[4]), f[6]))
    out = {}
    for gid, chrom, start, end, strand in genes:
        seq = genome[chrom].seq
        n = len(seq)
        if strand == "+":
            lo, hi = start - UP, start + DOWN
        else:
            lo, hi = end - 1 - DOWN + 1, end - 1 + UP + 1
        s = "N" * max(0, -lo) + str(seq[max(lo, 0) : min(hi, n)]) + "N" * max(0, hi - n)
        if strand == "-":
            from Bio.Seq import Seq

            s = str(Seq(s).reverse_complement())
        out[f"{gid}::{chrom}:{max(lo, 0)}-{min(hi, n)}({strand})"] = s.upper()
    secs = time.perf_counter() - t0
    keys = list(out)[::997]
    return {
        "seconds": secs,
        "load_seconds": t_load,
        "records": len(out),
        "peak_rss_mb": _rss_mb(),
        "sample": {k: out[k] for k in keys},
    }


def _run(*args: str) -> dict:
    res = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(res.stderr[-2000:])
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> dict:
    from deepdife_core.genome.synthetic import make_genome

    with tempfile.TemporaryDirectory(prefix="bench-genome-") as tmp:
        t0 = time.perf_counter()
        fa, an, truth = make_genome(Path(tmp) / "in", chrom_lengths=CHROMS, n_genes=N_GENES, seed=0, compress="gzip")
        gen = time.perf_counter() - t0
        ws = str(Path(tmp) / "ws")
        add = _run("add", ws, str(fa), str(an))
        ext = _run("extract", ws)
        naive = _run("naive", str(fa), str(an))
        same = all(naive["sample"].get(k) == v for k, v in ext["sample"].items()) and len(ext["sample"]) > 20
    result = {
        "genome": {
            "chromosomes": len(CHROMS),
            "bp": sum(CHROMS),
            "genes": N_GENES,
            "transcripts": len(truth),
            "generate_seconds": round(gen, 1),
            "fasta": "gzip",
            "annotation": "gff3",
        },
        "register": {k: round(v, 2) if isinstance(v, float) else v for k, v in add.items()},
        "extract": {k: round(v, 2) if isinstance(v, float) else v for k, v in ext.items() if k != "sample"},
        "naive_biopython": {k: round(v, 2) if isinstance(v, float) else v for k, v in naive.items() if k != "sample"},
        "naive_equals_ours_on_sample": same,
        "targets": {"register_seconds": 60, "register_rss_mb": 1024, "extract_seconds": 10},
        "met": {
            "register_seconds": add["seconds"] <= 60,
            "register_rss": add["peak_rss_mb"] <= 1024,
            "extract_seconds": ext["seconds"] <= 10,
        },
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_average": os.getloadavg()},
    }
    return write_result(OUT, result)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        step, rest = sys.argv[2], sys.argv[3:]
        fn = {"add": child_add, "extract": child_extract, "naive": child_naive}[step]
        print(json.dumps(fn(*rest)))
    else:
        main()
