"""Peak memory of `deepdife predict --fasta` on a large FASTA (issue 19: bounded memory, <= 2 GB any size).

A seeded synthetic FASTA of ``N_RECORDS`` promoters (600 bp, 80-column lines, every 50th gene with a
second TSS) is written to a temp folder; `deepdife predict` runs as a child process with the demo model;
the child's peak resident memory (``ru_maxrss``) and wall time go to ``bench/results/predict_memory.json``.
A measurement, not a test: run with ``python bench/bench_predict_memory.py [N_RECORDS]``.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
N_RECORDS = 260_000
LENGTH = 600


def write_fasta(path: Path, n: int, seed: int = 0) -> int:
    rng = np.random.default_rng(seed)
    bases = np.frombuffer(b"ACGT", dtype=np.uint8)
    with path.open("w") as fh:
        for start in range(0, n, 10_000):
            block = bases[rng.integers(0, 4, size=(min(10_000, n - start), LENGTH))]
            for k, row in enumerate(block):
                i = start + k
                gene = f"AT{i // 50 * 50 if i % 50 == 1 else i:07d}"
                head = f"{gene}::Chr1:{i * 1000}-{i * 1000 + LENGTH}(+)"
                seq = row.tobytes().decode()
                fh.write(f">{head}\n" + "\n".join(seq[j : j + 80] for j in range(0, LENGTH, 80)) + "\n")
    return path.stat().st_size


def main(n: int = N_RECORDS) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        fasta = Path(tmp) / "big.fa"
        size = write_fasta(fasta, n)
        out = Path(tmp) / "preds.csv"
        cmd = [sys.executable, "-m", "deepdife_core.cli.main", "predict", "--model", str(ROOT / "models" / "demo")]
        cmd += ["--fasta", str(fasta), "--out", str(out), "-q"]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, check=False)
        wall = time.perf_counter() - t0
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        rows = sum(1 for _ in out.open()) - 1 if out.exists() else 0
    result = {
        "records": n,
        "fasta_mb": round(size / 1024**2, 1),
        "rows_written": rows,
        "exit_code": proc.returncode,
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "wall_s": round(wall, 1),
        "target_peak_rss_mb": 2048,
    }
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "predict_memory.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else N_RECORDS)
