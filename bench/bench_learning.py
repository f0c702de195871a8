"""Learning benchmark: does `deepdife train` learn rules we know are in the data? (issue 12)

Tasks (``deepdife_core.data.tasks``, 2,500 genes of 600 bp on a 2nd-order Markov
background fitted on DeepDifE's 1,978 Arabidopsis promoters, families of 1-4
point-mutated copies, 3% label noise): ``presence``, ``count``, ``cooccur``,
``position``; plus real data: ``aly`` (A. lyrata promoters, a grouped 80/20 split
by Arabidopsis ID) and ``cross_species`` (train on A. lyrata, test on the
C. rubella promoters of Arabidopsis genes never seen in training).

Every task has one fixed grouped split (train / val / test = 70 / 10 / 20 by
family, seed 0) shared by every protocol and seed, an oracle where the rule is
known (the task's own score, e.g. the ABRE count) and the k-mer baseline
(``deepdife_core.train.baseline``).  Protocols (``PROTOCOLS``): ``default`` is what
``deepdife train`` does with no options; the others change one thing.  Each runs
with seeds 0, 1, 2: test auROC / auPRC mean ± sd, epochs run, best epoch, wall
time.  Results: ``bench/results/learning.json``.

``python bench/bench_learning.py [--tasks count,position] [--protocols default,original] [--seeds 0,1]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from deepdife_core.config import DEEPDIFE_MODEL, AugmentConfig, ModelConfig, RunConfig, TrainConfig  # noqa: E402
from deepdife_core.data import tasks  # noqa: E402
from deepdife_core.data.split import grouped_split  # noqa: E402
from deepdife_core.train import metrics as mt  # noqa: E402
from deepdife_core.train.baseline import fit_kmer_baseline  # noqa: E402
from deepdife_core.train.fit import train_dataset  # noqa: E402

SHARED = HERE.parent.parent / "shared" / "data" / "deepdife"
OUT = HERE / "results" / "learning.json"
SEEDS = (0, 1, 2)
DEFAULT = RunConfig()

PREVIOUS_TRAIN = {
    "strands": "random",
    "early_stopping_patience": 10,
    "reduce_lr_factor": 0.2,
    "min_learning_rate": 1e-6,
    "chance_patience": 0,
    "try_heads": (),
}
ORIGINAL_TRAIN = {"strands": "both", "chance_patience": 0, "try_heads": ()}
#: one network per run, the configured head (no head selection)
ONE_HEAD = {"try_heads": ()}

#: name -> (ModelConfig changes, TrainConfig changes, AugmentConfig changes, use DeepDifE's network)
PROTOCOLS: dict[str, tuple[dict, dict, dict, bool]] = {
    "default": ({}, {}, {}, False),
    # the default before head selection: the global_region head only (``TrainConfig.try_heads=()``)
    "default_single_head": ({}, ONE_HEAD, {}, False),
    # the loop before issue 12: DeepDifE's network, one random strand per epoch, patience 10, LR x0.2, no EvoAug
    "previous": ({}, PREVIOUS_TRAIN, {"enabled": False}, True),
    "previous_evoaug": ({}, PREVIOUS_TRAIN, {"enabled": True}, True),
    # DeepDifE's recipe: its network, both strands, patience 20, LR x0.1 / 5, EvoAug + 5 fine-tune epochs
    "original": ({}, ORIGINAL_TRAIN, {}, True),
    "original_no_evoaug": ({}, ORIGINAL_TRAIN, {"enabled": False}, True),
    "original_random_strand": ({}, {**ORIGINAL_TRAIN, "strands": "random"}, {}, True),
    "original_forward": ({}, {**ORIGINAL_TRAIN, "strands": "forward"}, {}, True),
    "original_chance_guard": ({}, {**ONE_HEAD, "strands": "both"}, {}, True),
    # the single-head default (global_region) with one thing changed
    "default_both_strands": ({}, {**ONE_HEAD, "strands": "both"}, {}, False),
    "default_no_evoaug": ({}, ONE_HEAD, {"enabled": False}, False),
    "default_patience_10": ({}, {**ONE_HEAD, "early_stopping_patience": 10}, {}, False),
    "default_no_chance_guard": ({}, {**ONE_HEAD, "chance_patience": 0}, {}, False),
    "default_region_max": ({"head": "region_max"}, ONE_HEAD, {}, False),
    "default_two_conv": ({"n_conv": 2, "conv_stride": 1}, ONE_HEAD, {}, False),
    "default_exponential": ({"first_activation": "exponential"}, ONE_HEAD, {}, False),
    "default_batch_norm": ({"batch_norm": True}, ONE_HEAD, {}, False),
    "default_flatten": ({"head": "flatten"}, ONE_HEAD, {}, False),
    "default_strand_shared_off": ({"strand_shared": False}, ONE_HEAD, {}, False),
    "default_two_conv_region_200": ({"n_conv": 2, "conv_stride": 1, "region_bp": 200}, ONE_HEAD, {}, False),
    "default_region_200": ({"region_bp": 200}, ONE_HEAD, {}, False),
    "default_global_max": ({"head": "global_max"}, ONE_HEAD, {}, False),
    # a second convolution (receptive field ~45 bp: both elements of a close pair at once) under the global maximum
    "default_two_conv_global_max": ({"n_conv": 2, "conv_stride": 1, "head": "global_max"}, ONE_HEAD, {}, False),
}


def configs(name: str, seed: int) -> tuple[ModelConfig, TrainConfig, AugmentConfig]:
    m, t, a, deepdife = PROTOCOLS[name]
    base = replace(DEFAULT.model, **DEEPDIFE_MODEL) if deepdife else DEFAULT.model
    return replace(base, **m), replace(DEFAULT.train, seed=seed, **t), replace(DEFAULT.augment, **a)


def with_split(df: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    parts = grouped_split(
        df["family"].to_numpy(), val_fraction=0.1, test_fraction=0.2, seed=seed, labels=df["label"].to_numpy()
    )
    lab = np.empty(len(df), dtype=object)
    for k, idx in parts.items():
        lab[idx] = k
    return df.assign(split=lab)


def chain() -> np.ndarray:
    from deepdife_core.data.io import read_fasta

    files = [SHARED / "arabidopsis" / f"example.fasta_{c}" for c in ("c1", "c2")]
    if not all(f.exists() for f in files):
        print("  ../shared not found: AT-rich i.i.d. background instead of the fitted Markov chain")
        return tasks.at_rich_chain()
    return tasks.fit_markov([r.sequence for f in files for r in read_fasta(f)], order=2)


def synthetic(name: str, bg: np.ndarray) -> pd.DataFrame:
    return with_split(tasks.make_task(name, n_genes=2500, chain=bg, seed=0))


def real_aly() -> pd.DataFrame | None:
    from deepdife_core.data.io import dataset_from_labelled_fasta, read_ortholog_table

    if not (SHARED / "orthologs" / "aly.tss.fasta").exists():
        return None
    df, _ = dataset_from_labelled_fasta(SHARED / "orthologs" / "aly.tss.fasta")
    ath = read_ortholog_table(SHARED / "orthologs" / "ath_aly.txt")
    to_at = dict(zip(ath["ortholog_id"].str.upper(), ath["gene_id"].str.upper(), strict=False))
    df["family"] = df["gene_id"].str.upper().map(to_at).fillna(df["gene_id"])
    parts = grouped_split(df["family"].to_numpy(), val_fraction=0.1, test_fraction=0.2, seed=0)
    lab = np.empty(len(df), dtype=object)
    for k, idx in parts.items():
        lab[idx] = k
    return df.assign(split=lab)


def cross_species() -> pd.DataFrame | None:
    """Train/val on A. lyrata; test = C. rubella promoters whose Arabidopsis gene is in no training family."""
    from deepdife_core.data.io import dataset_from_labelled_fasta, read_ortholog_table

    if not (SHARED / "orthologs" / "cru.tss.fasta").exists():
        return None
    aly = real_aly()
    cru, _ = dataset_from_labelled_fasta(SHARED / "orthologs" / "cru.tss.fasta")
    ath = read_ortholog_table(SHARED / "orthologs" / "ath_cru.txt")
    to_at = dict(zip(ath["ortholog_id"].str.upper(), ath["gene_id"].str.upper(), strict=False))
    cru["family"] = cru["gene_id"].str.upper().map(to_at).fillna(cru["gene_id"])
    held = set(aly.loc[aly["split"] == "test", "family"])
    seen = set(aly.loc[aly["split"] != "test", "family"])
    cru = cru[cru["family"].isin(held) | ~cru["family"].isin(seen)].assign(split="test")
    return pd.concat([aly[aly["split"] != "test"], cru], ignore_index=True)


def baseline_for(df: pd.DataFrame, seed: int = 0) -> dict:
    s, y = df["sequence"].to_numpy(), df["label"].to_numpy()
    idx = {k: np.flatnonzero(df["split"].to_numpy() == k) for k in ("train", "val", "test")}
    return fit_kmer_baseline(
        s[idx["train"]], y[idx["train"]], s[idx["val"]], y[idx["val"]], s[idx["test"]], y[idx["test"]], seed=seed
    )


def run(df: pd.DataFrame, protocol: str, seed: int) -> dict:
    mc, tc, aug = configs(protocol, seed)
    t0 = time.perf_counter()
    res = train_dataset(df, model_cfg=mc, train_cfg=tc, augment_cfg=aug)
    wall = time.perf_counter() - t0
    best = int(np.argmin([h["val_loss"] for h in res.history])) + 1 if res.history else 0
    return {
        "protocol": protocol,
        "seed": seed,
        "auroc": res.metrics["auroc"],
        "auprc": res.metrics["auprc"],
        "epochs_run": len(res.history),
        "best_epoch_by_val_loss": best,
        "wall_s": round(wall, 1),
        # head selection (TrainConfig.try_heads): the kept head and each candidate's validation value
        "head": res.config.model.head,
        "head_selection": res.metrics.get("head_selection"),
    }


def summarise(runs: list[dict]) -> dict:
    def ms(key):
        v = np.array([r[key] for r in runs], dtype=float)
        return {"mean": round(float(v.mean()), 4), "sd": round(float(v.std(ddof=1)) if len(v) > 1 else 0.0, 4)}

    return {"auroc": ms("auroc"), "auprc": ms("auprc"), "epochs_run": ms("epochs_run"), "wall_s": ms("wall_s")}


def markdown(results: dict) -> str:
    """The README table: one row per task, oracle / k-mer baseline / every protocol as mean ± sd."""
    tasks_ = results["tasks"]
    protos: list[str] = []
    for t in tasks_.values():
        protos += [p for p in t["protocols"] if p not in protos]
    head = "| task | genes (test) | oracle | k-mer baseline | " + " | ".join(protos) + " |"
    rows = [head, "| --- " * (4 + len(protos)) + "|"]
    for name, t in tasks_.items():
        cells = [
            name,
            f"{t['n_genes']} ({t['n_test']})",
            "—" if t.get("oracle_auroc") is None else f"{t['oracle_auroc']:.3f}",
            f"{t['baseline_kmer']['auroc']:.3f}",
        ]
        for p in protos:
            r = t["protocols"].get(p)
            cells.append(
                "—"
                if r is None
                else f"{r['auroc']['mean']:.3f} ± {r['auroc']['sd']:.3f} ({r['epochs_run']['mean']:.0f} ep, "
                f"{r['wall_s']['mean']:.0f} s)"
            )
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default=",".join((*tasks.TASKS, "aly", "cross_species")))
    ap.add_argument("--protocols", default="default,previous,original")
    ap.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv if argv is not None else ([] if __name__ == "bench" else None))
    seeds = [int(s) for s in args.seeds.split(",")]
    bg = None
    results: dict = {"seeds": seeds, "cpu_count": os.cpu_count(), "tasks": {}}
    out = Path(args.out)
    if out.exists():  # keep tasks measured earlier (the script can be run task by task)
        results["tasks"] = json.loads(out.read_text()).get("tasks", {})
    for task in args.tasks.split(","):
        if task in tasks.TASKS:
            bg = chain() if bg is None else bg
            df = synthetic(task, bg)
        else:
            df = {"aly": real_aly, "cross_species": cross_species}[task]()
            if df is None:
                print(f"== {task}: ../shared not found, skipped")
                continue
        test = df["split"].to_numpy() == "test"
        entry = results["tasks"].setdefault(task, {"protocols": {}})
        entry.update(
            {
                "n_genes": len(df),
                "n_test": int(test.sum()),
                "positive_fraction": round(float(df["label"].mean()), 3),
                "baseline_kmer": {k: baseline_for(df)[k] for k in ("auroc", "auprc", "C", "k")},
            }
        )
        if "score" in df.columns:
            entry["oracle_auroc"] = mt.auroc(df["label"].to_numpy()[test], df["score"].to_numpy()[test])
        print(
            f"== {task}: {len(df)} genes, oracle {entry.get('oracle_auroc')}, k-mer {entry['baseline_kmer']['auroc']:.3f}"
        )
        for protocol in args.protocols.split(","):
            runs = []
            for seed in seeds:
                r = run(df, protocol, seed)
                runs.append(r)
                print(
                    f"   {protocol:<24} seed {seed}: auROC {r['auroc']:.3f}  epochs {r['epochs_run']:>3}  {r['wall_s']:.0f} s",
                    flush=True,
                )
            entry["protocols"][protocol] = {"runs": runs, **summarise(runs)}
            s = entry["protocols"][protocol]["auroc"]
            print(f"   {protocol:<24} auROC {s['mean']:.3f} ± {s['sd']:.3f}", flush=True)
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n")
        out.with_suffix(".md").write_text(markdown(results))
    return results


if __name__ == "__main__":
    main()
