"""Motif benchmarks: TF-MoDISco lite discovery, TOMTOM against JASPAR plants, logo drawing and cached reload.

Writes ``bench/results/motifs.json``.  Targets (issue 6): discovery on 2,000 genes x
600 bp with the attributions given <= 3 min on 2 cores; TOMTOM of all patterns
against JASPAR CORE plants <= 2 s; the second (cached) load of the pattern
table's logos <= 2 s.  Attributions (gradient x input of the demo model on the
2,000 demo genes) are computed beforehand and not timed.  TOMTOM is timed on
its first call in this process (numba kernels loaded from numba's on-disk cache;
the very first call on a machine compiles them, tens of seconds, reported as
``first_call_seconds``) and warm.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from pathlib import Path

from _report import write_result

from deepdife_core.data.demo import make_demo_dataset
from deepdife_core.data.encode import one_hot
from deepdife_core.interpret.explain import ExplainConfig, explain
from deepdife_core.model.folder import load_model
from deepdife_core.motifs.modisco import LogoCache, MotifConfig, discover_motifs, jaspar_plants, match_motifs

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "motifs.json"


def main() -> dict:
    df = make_demo_dataset()  # 2,000 genes x 600 bp, the demo model's data
    X = one_hot(df["sequence"].tolist())
    t0 = time.perf_counter()
    attr = explain(load_model(ROOT / "models" / "demo"), X, ExplainConfig(method="gradxinput"))
    attr_seconds = time.perf_counter() - t0

    t0 = time.perf_counter()
    res = discover_motifs(attr.hypothetical, X, MotifConfig())
    discovery = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        db = jaspar_plants(cache_dir=tmp)
        db_build = time.perf_counter() - t0
        t0 = time.perf_counter()
        db = jaspar_plants(cache_dir=tmp)
        db_cached = time.perf_counter() - t0

        t0 = time.perf_counter()
        matches = match_motifs(res.patterns, db)
        tomtom_first = time.perf_counter() - t0
        t0 = time.perf_counter()
        match_motifs(res.patterns, db)
        tomtom_warm = time.perf_counter() - t0

        logos = LogoCache(Path(tmp) / "logos")
        t0 = time.perf_counter()
        for p in res.patterns:
            for strand in ("fwd", "rev"):
                logos.get_bytes(p, strand)
        draw = time.perf_counter() - t0
        reload = LogoCache(Path(tmp) / "logos")
        t0 = time.perf_counter()
        for p in res.patterns:
            for strand in ("fwd", "rev"):
                reload.get_bytes(p, strand)
        cached = time.perf_counter() - t0
        assert reload.drawn == 0

    best = matches[matches["rank"] == 1].set_index("pattern")
    patterns = [
        {
            "pattern": p.name,
            "n_seqlets": p.n_seqlets,
            "consensus": p.consensus(),
            "best_match": f"{best.loc[p.name, 'match_id']} {best.loc[p.name, 'match_name']}",
            "qvalue": float(best.loc[p.name, "qvalue"]),
        }
        for p in res.patterns
    ]
    result = {
        "benchmark": "motifs",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "input": {"n_genes": len(X), "length": int(X.shape[1]), "attributions": "gradxinput (demo model)"},
        "attribution_seconds_untimed": round(attr_seconds, 2),
        "discovery": {
            "seconds": round(discovery, 2),
            "n_patterns": len(res.patterns),
            "n_seqlets": res.n_seqlets,
            "target_seconds": 180,
            "meets_target": discovery <= 180,
        },
        "jaspar": {"n_motifs": len(db), "build_seconds": round(db_build, 3), "cached_seconds": round(db_cached, 3)},
        "tomtom": {
            "n_patterns": len(res.patterns),
            "first_call_seconds": round(tomtom_first, 3),
            "warm_seconds": round(tomtom_warm, 3),
            "target_seconds": 2,
            "meets_target": tomtom_first <= 2,
        },
        "logos": {
            "n_logos": 2 * len(res.patterns),
            "draw_seconds": round(draw, 3),
            "cached_load_seconds": round(cached, 4),
            "target_cached_seconds": 2,
            "meets_target": cached <= 2,
        },
        "patterns": patterns,
    }
    return write_result(OUT, result)


if __name__ == "__main__":
    main()
