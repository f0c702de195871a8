"""In-silico experiment benchmarks on the demo model (issue 16); writes ``bench/results/experiments.json``.

Targets on 2 cores: a 1,000-background insertion <= 1 s; a position sweep of 600 positions x
200 backgrounds <= 10 s; a 0-100 bp spacing x 4 orientations x 200 backgrounds heat map <= 15 s.
Also writes the README's figures ("does a second ABRE matter, and where") to docs/experiments/.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

from deepdife_core.data.demo import make_demo_dataset
from deepdife_core.experiments import ExperimentConfig, run_experiment
from deepdife_core.experiments.backgrounds import select_backgrounds
from deepdife_core.experiments.insert import insertion
from deepdife_core.experiments.sources import motif_source
from deepdife_core.experiments.spacing import spacing_grid
from deepdife_core.experiments.sweep import position_sweep
from deepdife_core.model.folder import load_model
from deepdife_core.plot.figures import save_figure

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "experiments.json"
FIGS = ROOT / "docs" / "experiments"


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> dict:
    model, df = load_model(ROOT / "models" / "demo"), make_demo_dataset()
    abre = motif_source("CCACGTGGCA")
    bg1000 = select_backgrounds(df, "non-responsive", 1000, seed=0)
    bg200 = select_backgrounds(df, "non-responsive", 200, seed=0)
    insertion(model, bg200, abre)  # warm-up: traces the model once
    _, t_insert = _timed(lambda: insertion(model, bg1000, abre, ExperimentConfig(orientation="both")))
    sweep_cfg = ExperimentConfig(step=1, orientation="+")
    (sweep, _), t_sweep = _timed(lambda: position_sweep(model, bg200, abre, sweep_cfg))
    spacing_cfg = ExperimentConfig(max_spacing=100, position=380)
    _, t_spacing = _timed(lambda: spacing_grid(model, bg200, abre, abre, spacing_cfg))
    ins = run_experiment(
        "insert",
        model,
        df,
        [abre, motif_source("TTGACC"), motif_source("CGCAGCTGAC")],
        ExperimentConfig(n_backgrounds=200, position=450),
    )
    dose = run_experiment("dose", model, df, [abre], ExperimentConfig(position=380))
    sweep10 = run_experiment("sweep", model, df, [abre], ExperimentConfig(step=10))
    spacing = run_experiment("spacing", model, df, [abre, abre], spacing_cfg)
    FIGS.mkdir(parents=True, exist_ok=True)
    for name, res in (("insert", ins), ("dose", dose), ("sweep", sweep10), ("spacing", spacing)):
        save_figure(res.figure(), FIGS / f"{name}.png")
    best = spacing.table.loc[spacing.table["delta_probability_mean"].idxmax()]
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "insert_1000_backgrounds_seconds": round(t_insert, 3),
        "insert_target_seconds": 1.0,
        "sweep_positions": len(sweep),
        "sweep_600x200_seconds": round(t_sweep, 3),
        "sweep_target_seconds": 10.0,
        "spacing_101x4x200_seconds": round(t_spacing, 3),
        "spacing_target_seconds": 15.0,
        "demo": {
            "insert_mean_delta_probability": ins.table.groupby("motif")["delta_probability"].mean().round(4).to_dict(),
            "dose_mean_delta_probability": dose.table["delta_probability_mean"].round(4).tolist(),
            "dose_mean_delta_logit": dose.table["delta_logit_mean"].round(3).tolist(),
            "dose_additive_logit": dose.table["additive_logit_mean"].round(3).tolist(),
            "sweep_best_pos_from_tss": int(
                sweep10.table.loc[sweep10.table["delta_probability_mean"].idxmax(), "pos_from_tss"]
            ),
            "spacing_best": {
                k: (v.item() if hasattr(v, "item") else v)
                for k, v in best[
                    ["spacing", "orientation", "position_b", "delta_probability_mean", "interaction_logit_mean"]
                ].items()
            },
        },
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2, default=str))
