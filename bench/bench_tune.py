"""Tuning benchmark: trials per hour with 2 workers, and epochs saved by pruning.

Writes ``bench/results/tune.json``.  Data: the synthetic demo set, a 600-gene
subset of 600 bp (seed 7); every trial is a 3-fold grouped CV.

1. Throughput: a fresh SQLite study, 2 local worker processes, 6 trials of up to
   4 epochs per fold (default search space with EvoAug fixed off, TPE, median
   pruner).  Trials per hour = 6 / wall-clock seconds (worker start-up included).
2. Pruning: the same seeded random sampler (so both runs draw the same parameters)
   with the median pruner (3 start-up trials, no pruning before epoch 2) and with
   none: 10 trials x 3 folds x 6 epochs (no early stopping), one worker.  Compares
   the epochs trained in total and the best mean validation auROC.  Target: >= 30%
   fewer epochs at the same best value.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from pathlib import Path

import optuna
from _report import write_result

from deepdife_core.config import RunConfig, TrainConfig
from deepdife_core.data.demo import make_demo_dataset
from deepdife_core.tune import study as tune

OUT = Path(__file__).resolve().parent / "results" / "tune.json"
N_GENES, LENGTH = 600, 600


def _epochs(name: str, storage: str) -> tuple[int, dict]:
    study = optuna.load_study(study_name=name, storage=storage)
    trials = study.get_trials(deepcopy=False)
    states: dict[str, int] = {}
    for t in trials:
        states[t.state.name] = states.get(t.state.name, 0) + 1
    return sum(int(t.user_attrs.get("epochs", 0)) for t in trials), states


def bench_throughput(data: Path, root: Path) -> dict:
    space = tune.SearchSpace().fix(evoaug=False)
    base = RunConfig(train=TrainConfig(epochs=4, early_stopping_patience=2, reduce_lr_patience=0))
    cfg = tune.TuneConfig(folds=3, startup_trials=2)
    t0 = time.perf_counter()
    res = tune.run_study(
        "throughput", 6, data=data, workers=2, space=space, tune=cfg, base=base, workspace=root, quiet=True
    )
    wall = time.perf_counter() - t0
    df = tune.trials_table("throughput", workspace=root)
    return {
        "workers": 2,
        "trials": 6,
        "folds": 3,
        "max_epochs_per_fold": 4,
        "storage": "sqlite",
        "counts": res["counts"],
        "wall_seconds": round(wall, 1),
        "trials_per_hour": round(6 / wall * 3600, 1),
        "mean_trial_seconds": round(float(df["duration_s"].mean()), 2),
        "best_auroc": res["best"]["value"] if res["best"] else None,
    }


def bench_pruning(data: Path, root: Path, n_trials: int = 10) -> dict:
    space = tune.SearchSpace().fix(evoaug=False)
    base = RunConfig(train=TrainConfig(epochs=6, early_stopping_patience=0, reduce_lr_patience=0))
    out = {}
    for label, pruner in (("pruned", "median"), ("unpruned", "none")):
        cfg = tune.TuneConfig(folds=3, sampler="random", pruner=pruner, startup_trials=3, warmup_steps=2, seed=1)
        t0 = time.perf_counter()
        res = tune.run_study(
            f"prune-{label}", n_trials, data=data, space=space, tune=cfg, base=base, workspace=root, quiet=True
        )
        epochs, states = _epochs(f"prune-{label}", tune.default_storage(f"prune-{label}", root))
        out[label] = {
            "seconds": round(time.perf_counter() - t0, 1),
            "epochs": epochs,
            "states": states,
            "best_auroc": res["best"]["value"],
            "best_trial": res["best"]["trial"],
        }
    saved = 1 - out["pruned"]["epochs"] / out["unpruned"]["epochs"]
    same_best = abs(out["pruned"]["best_auroc"] - out["unpruned"]["best_auroc"]) < 1e-9
    return {
        "trials": n_trials,
        "folds": 3,
        "epochs_per_fold": 6,
        "sampler": "random (seed 1): the same parameters in both runs",
        "pruner": "median, 3 start-up trials, warm-up 2 epochs",
        **out,
        "epochs_saved_fraction": round(saved, 3),
        "same_best_value": same_best,
        "target_epochs_saved": 0.3,
        "meets_target": bool(saved >= 0.3 and same_best),
    }


def main() -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with tempfile.TemporaryDirectory(prefix="deepdife-bench-tune-") as tmp:
        root = Path(tmp)
        data = root / "demo600.csv"
        make_demo_dataset(N_GENES, length=LENGTH, seed=7)[["gene_id", "label", "family", "sequence"]].to_csv(
            data, index=False
        )
        result = {
            "benchmark": "tune",
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "data": f"synthetic demo, {N_GENES} genes x {LENGTH} bp (seed 7); 10% held out as test",
            "throughput": bench_throughput(data, root),
            "pruning": bench_pruning(data, root),
        }
    return write_result(OUT, result)


if __name__ == "__main__":
    main()
