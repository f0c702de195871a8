"""``deepdife tune``: hyperparameter search with Optuna (run, best, trials).

Registered by :func:`deepdife_core.cli.main.build_parser` through :func:`register`.

``deepdife tune --data TABLE --study NAME [--storage URL] --trials N [--workers W]``
creates (or resumes) the study and runs W local worker processes until N trials
are finished; ``deepdife tune best --study NAME`` prints the best parameters as
JSON; ``deepdife tune trials --study NAME`` prints the trial table as CSV.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from deepdife_core.cli.common import default_of
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import export_csv
from deepdife_core.tune import study as tune
from deepdife_core.tune.study import METRICS, PARAM_NAMES, PRUNERS, SAMPLERS, SearchSpace, TuneConfig, default_base

ACTIONS = ("run", "best", "trials")


def register(sub, common: argparse.ArgumentParser) -> None:
    """Add the ``tune`` sub-command to ``sub`` (the ``deepdife`` sub-parsers).

    Parameters
    ----------
    sub : argparse._SubParsersAction
        ``deepdife``'s sub-parsers, which ``tune`` joins.
    common : argparse.ArgumentParser
        The parent parser of the common options (``--quiet``, ...).
    """
    t = sub.add_parser(
        "tune",
        parents=[common],
        help="search hyperparameters (Optuna; grouped CV objective, pruning, parallel workers)",
        description="Search hyperparameters by grouped cross-validation. ACTION 'run' (default) creates or resumes "
        "study NAME and runs trials until --trials are finished; 'best' prints the best parameters (JSON); "
        "'trials' prints the trial table (CSV). Storage: a SQLite file WORKSPACE/studies/NAME.db unless --storage "
        "gives an SQLAlchemy URL (e.g. postgresql://user:pw@host/db) shared by several processes or machines. "
        f"Parameters: {', '.join(PARAM_NAMES)}.",
    )
    t.add_argument("action", nargs="?", choices=ACTIONS, default="run", help="run (default), best or trials")
    t.add_argument("--study", required=True, help="study name (letters, digits, '.', '_', '-')")
    t.add_argument("--storage", help="SQLAlchemy URL; default: recorded for the study, else WORKSPACE/studies/NAME.db")
    t.add_argument("--workspace", help="workspace folder (default $DEEPDIFE_WORKSPACE or ./workspace)")
    g = t.add_argument_group("run")
    g.add_argument("--data", help="dataset table (optional when resuming a study recorded in the workspace)")
    g.add_argument("--trials", type=int, help="total trials of the study (complete + pruned) to reach")
    g.add_argument(
        "--workers",
        type=int,
        default=default_of(tune.run_study, "workers"),
        help="local worker processes (default %(default)s)",
    )
    # unset options keep TuneConfig's fields and default_base()'s epoch budget; the help shows those values
    t0, b0 = TuneConfig(), default_base().train
    g.add_argument(
        "--metric", choices=METRICS, help=f"objective: mean fold validation auroc or loss (default {t0.metric})"
    )
    g.add_argument("--folds", type=int, help=f"grouped CV folds per trial (default {t0.folds})")
    g.add_argument("--sampler", choices=SAMPLERS, help=f"tpe or random (default {t0.sampler})")
    g.add_argument("--pruner", choices=PRUNERS, help=f"median, hyperband or none (default {t0.pruner})")
    g.add_argument(
        "--startup-trials", type=int, help=f"random, never-pruned first trials (default {t0.startup_trials})"
    )
    g.add_argument(
        "--warmup-steps", type=int, help=f"no pruning before this epoch of the first fold (default {t0.warmup_steps})"
    )
    g.add_argument("--seed", type=int, help=f"sampler and split seed (default {t0.seed})")
    g.add_argument("--epochs", type=int, help=f"maximum epochs per fold (default {b0.epochs})")
    g.add_argument(
        "--patience", type=int, help=f"early-stopping patience within a fold (default {b0.early_stopping_patience})"
    )
    g.add_argument("--space", help="JSON file: {param: {low, high, log, choices, value, free}} merged over defaults")
    g.add_argument("--fix", action="append", default=[], metavar="NAME=VALUE", help="fix a parameter (repeatable)")
    g.add_argument("--free", action="append", default=[], metavar="NAME", help="search a parameter (repeatable)")
    g.add_argument("--orthologs", help="PhyloAug: ortholog table (gene_id, ortholog_id[, species])")
    g.add_argument("--ortholog-fasta", nargs="+", help="PhyloAug: FASTA file(s) of the orthologs' promoters")
    g.add_argument(
        "--heartbeat",
        type=int,
        default=default_of(tune.run_study, "heartbeat_interval"),
        help="worker heartbeat interval in seconds (default %(default)s)",
    )
    g.add_argument("--grace", type=int, help="a running trial without heartbeat for this long is failed (3x heartbeat)")
    g.add_argument("--fail-running", action="store_true", help="mark all RUNNING trials failed first (no live worker)")
    g.add_argument("--stop-file", help="stop when this file appears (the running trial is marked failed)")
    t.set_defaults(func=cmd_tune)


def _value(text: str):
    low = text.strip().lower()
    if low in ("true", "on", "yes"):
        return True
    if low in ("false", "off", "no"):
        return False
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _space(args: argparse.Namespace):

    if not (args.space or args.fix or args.free):
        return None
    space = SearchSpace()
    if args.space:
        path = Path(args.space)
        if not path.exists():
            raise DeepDifEInputError(f"--space {path}: file not found")
        try:
            space = SearchSpace.from_dict(json.loads(path.read_text()))
        except json.JSONDecodeError as exc:
            raise DeepDifEInputError(f"--space {path}: not valid JSON (line {exc.lineno})") from None
    fixed = {}
    for item in args.fix:
        if "=" not in item:
            raise DeepDifEInputError(f"--fix {item!r}: write NAME=VALUE, e.g. --fix learning_rate=0.001")
        k, v = item.split("=", 1)
        fixed[k.strip()] = _value(v)
    if fixed:
        space = space.fix(**fixed)
    if args.free:
        space = space.free(*[n.strip() for n in args.free])
    return space


def _tune_cfg(args: argparse.Namespace):

    given = {
        "metric": args.metric,
        "folds": args.folds,
        "sampler": args.sampler,
        "pruner": args.pruner,
        "startup_trials": args.startup_trials,
        "warmup_steps": args.warmup_steps,
        "seed": args.seed,
    }
    given = {k: v for k, v in given.items() if v is not None}
    return TuneConfig(**given) if given else None


def _base(args: argparse.Namespace):

    upd = {}
    if args.epochs is not None:
        upd["epochs"] = args.epochs
    if args.patience is not None:
        upd["early_stopping_patience"] = args.patience
    if args.seed is not None:
        upd["seed"] = args.seed
    if not upd:
        return None
    base = default_base()
    return replace(base, train=replace(base.train, **upd))


def cmd_tune(args: argparse.Namespace, rep) -> int:
    """Run ``deepdife tune``: an Optuna hyper-parameter study (new or resumed) with local workers.

    The actions ``best`` and ``trials`` print the best parameters (JSON) or the trials
    (CSV) of an existing study instead of running one.

    Parameters
    ----------
    args : argparse.Namespace
        The ``tune`` options as parsed.
    rep : Reporter
        Progress lines on stderr.

    Returns
    -------
    int
        0 when ``tune`` is done; bad input raises, :func:`deepdife_core.cli.main.main` exits 2.
    """
    if args.action == "best":
        print(json.dumps(tune.best_params(args.study, args.storage, workspace=args.workspace), indent=2))
        return 0
    if args.action == "trials":
        table = tune.trials_table(args.study, args.storage, workspace=args.workspace)

        print(export_csv(table.drop(columns=["params"])), end="")
        return 0
    if args.trials is None:
        raise DeepDifEInputError("tune needs --trials N (the total number of trials of the study)")
    if args.trials < 1 or args.workers < 1:
        raise DeepDifEInputError("--trials and --workers must be >= 1")
    if args.heartbeat < 1:
        raise DeepDifEInputError(f"--heartbeat must be >= 1 second, got {args.heartbeat}")
    if args.ortholog_fasta and not args.orthologs:
        raise DeepDifEInputError("--ortholog-fasta needs --orthologs TABLE")
    orthologs = None
    if args.orthologs:
        if not args.ortholog_fasta:
            raise DeepDifEInputError("PhyloAug needs the orthologs' promoter FASTA: add --ortholog-fasta FILE")
        for f in [args.orthologs, *args.ortholog_fasta]:
            if not Path(f).exists():
                raise DeepDifEInputError(f"{f}: file not found")
        orthologs = {
            "table": str(Path(args.orthologs).resolve()),
            "fasta": [str(Path(f).resolve()) for f in args.ortholog_fasta],
        }
    if args.data and not Path(args.data).exists():
        raise DeepDifEInputError(f"--data {args.data}: file not found")
    space, tune_cfg, base = _space(args), _tune_cfg(args), _base(args)
    res = tune.run_study(
        args.study,
        args.trials,
        data=args.data,
        storage=args.storage,
        workers=args.workers,
        space=space,
        tune=tune_cfg,
        base=base,
        orthologs=orthologs,
        workspace=args.workspace,
        heartbeat_interval=args.heartbeat,
        grace_period=args.grace,
        stop_file=args.stop_file,
        fail_running=args.fail_running,
        quiet=rep.quiet,
    )
    c = res["counts"]
    rep.say(f"study {args.study}: {c['complete']} complete, {c['pruned']} pruned, {c['fail']} failed")
    if res["best"]:
        b = res["best"]
        rep.say(f"best: trial {b['trial']} {b['metric']} {b['value']:.4f}; `deepdife tune best --study {args.study}`")
    return 0
