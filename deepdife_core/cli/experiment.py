"""``deepdife experiment insert|sweep|spacing|dose|tile|ablate``: in-silico experiments on a model.

Registered by :func:`deepdife_core.cli.main.build_parser` through :func:`register`.  Option
defaults are the fields of :class:`deepdife_core.experiments.config.ExperimentConfig`.
"""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

from deepdife_core.cli.common import check_out_file
from deepdife_core.data.io import load_dataset
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.experiments.config import (
    ABLATE_MODES,
    BACKGROUNDS,
    INSTANCES,
    SHUFFLE_CLASSES,
    TILE_MODES,
    ExperimentConfig,
)
from deepdife_core.experiments.runs import figure_of, run_experiment
from deepdife_core.experiments.sources import motif_source
from deepdife_core.files import atomic_write_csv
from deepdife_core.model.folder import load_model, model_data_config
from deepdife_core.motifs.modisco import DEFAULT_DB_CACHE
from deepdife_core.plot.figures import save_figure

_D = ExperimentConfig()
_HELP = {
    "insert": "insert a motif at one position of N background promoters (one row per gene)",
    "sweep": "insert a motif every --step bp: effect vs distance to the TSS (one row per position)",
    "spacing": "two motifs at every gap 0..--max-spacing in 4 orientation pairs (one row per gap and pair)",
    "dose": "0..--max-copies copies of a motif beside the additive expectation (one row per copy number)",
    "tile": "replace every --window bp window of one gene: a CRISPR tiling table (one row per window)",
    "ablate": "destroy every site of a motif in every gene and report who loses responsiveness (one row per gene)",
}


def _opt(p, flag: str, name: str, kind: type, text: str, **kw) -> None:
    p.add_argument(flag, type=kind, default=getattr(_D, name), help=f"{text} (default %(default)s)", **kw)


def register(sub, common: argparse.ArgumentParser) -> None:
    """Add the ``experiment`` command group to ``sub`` (the ``deepdife`` sub-parsers).

    Parameters
    ----------
    sub : argparse._SubParsersAction
        ``deepdife``'s sub-parsers, which the ``experiment`` group joins.
    common : argparse.ArgumentParser
        The parent parser of the common options (``--quiet``, ...).
    """
    e = sub.add_parser(
        "experiment", parents=[common], help="in-silico experiments: insert, sweep, space, dose, tile and ablate motifs"
    )
    es = e.add_subparsers(dest="experiment_command", required=True, metavar="EXPERIMENT")
    for kind, text in _HELP.items():
        p = es.add_parser(kind, parents=[common], help=text, description=text[0].upper() + text[1:] + ".")
        p.add_argument("--model", required=True, help="model folder")
        p.add_argument("--data", required=True, help="dataset table (gene_id, label, sequence[, coords])")
        p.add_argument("--out", required=True, help="output CSV")
        p.add_argument("--figure", help="also write the figure (.svg or .png)")
        if kind in ("sweep", "spacing", "dose"):
            p.add_argument("--per-gene", help="also write the per-gene values behind the summary (CSV)")
        _opt(p, "--seed", "seed", int, "seed of backgrounds, sampled motifs and shuffles")
        _opt(p, "--batch-size", "batch_size", int, "sequences per model call")
        p.add_argument("--jaspar-release", help="JASPAR release for JASPAR IDs / names (default: newest shipped)")
        p.add_argument("--db-cache", default=str(DEFAULT_DB_CACHE), help="JASPAR MEME cache (default %(default)s)")
        p.add_argument(
            "--motifs-root", default="workspace/motifs", help="motif runs for RUN:pos_0 (default %(default)s)"
        )
        if kind != "tile":
            p.add_argument(
                "--motif",
                required=True,
                action="append" if kind == "insert" else "store",
                help="IUPAC consensus (ACGTGKC), JASPAR ID (MA0930.1) or name, or a motif run pattern RUN:pos_0"
                + (" (repeat to compare motifs)" if kind == "insert" else ""),
            )
        if kind == "spacing":
            p.add_argument("--motif2", required=True, help="the second motif (same forms as --motif)")
        if kind in ("insert", "sweep", "spacing", "dose"):
            _opt(p, "--background", "background", str, "background promoters", choices=BACKGROUNDS)
            _opt(
                p,
                "--shuffle-of",
                "shuffle_of",
                str,
                "class shuffled for --background shuffled",
                choices=SHUFFLE_CLASSES,
            )
            _opt(p, "--n", "n_backgrounds", int, "background promoters (20 to 1,000 is typical)")
            _opt(
                p, "--orientation", "orientation", str, "+, - or both (the mean of the two)", choices=("+", "-", "both")
            )
            _opt(p, "--instance", "instance", str, "consensus bases, or one draw per background", choices=INSTANCES)
        if kind in ("insert", "spacing", "dose"):
            p.add_argument(
                "--position",
                type=int,
                default=_D.position,
                help="0-based promoter position of the (first) motif's first base (default: the middle)",
            )
        if kind in ("sweep", "tile"):
            _opt(p, "--step", "step", int, "bp between tested positions / window starts")
        if kind == "spacing":
            _opt(p, "--max-spacing", "max_spacing", int, "largest gap between the motifs in bp")
        if kind == "dose":
            _opt(p, "--max-copies", "max_copies", int, "largest number of copies")
            _opt(p, "--copy-gap", "copy_gap", int, "bp between copies")
        if kind == "tile":
            p.add_argument(
                "--gene", required=True, help="the gene (its ID, or GENE::Chr:start-end(strand) of a record)"
            )
            _opt(p, "--window", "window", int, "window width in bp (10-100)")
            _opt(
                p,
                "--mode",
                "mode",
                str,
                "shuffle (dinucleotide), n, or delete (3' end kept at the TSS)",
                choices=TILE_MODES,
            )
            _opt(p, "--n-shuffles", "n_shuffles", int, "shuffles averaged per window")
        if kind == "ablate":
            p.add_argument(
                "--genes",
                choices=("all", "responsive", "non-responsive"),
                default="all",
                help="genes whose sites are ablated (default %(default)s)",
            )
            _opt(p, "--mode", "mode", str, "what replaces a site", choices=ABLATE_MODES)
            _opt(p, "--n-shuffles", "n_shuffles", int, "shuffles averaged per gene")
            _opt(p, "--max-pvalue", "max_pvalue", float, "FIMO p-value of a matrix motif's sites")
            _opt(p, "--threshold", "threshold", float, "probability from which a gene is called responsive")
        p.set_defaults(func=cmd_experiment, experiment_kind=kind)


def config_from_args(args: argparse.Namespace) -> ExperimentConfig:
    """Build the :class:`ExperimentConfig` of parsed options (fields not on this sub-command keep their defaults).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options of an ``experiment`` sub-command.

    Returns
    -------
    ExperimentConfig
        The experiment settings.
    """
    names = {f.name for f in fields(ExperimentConfig)}
    alias = {"n": "n_backgrounds"}
    values = {}
    for key, value in vars(args).items():
        name = alias.get(key, key)
        if name in names:
            values[name] = value
    if args.experiment_kind == "ablate":
        values["background"] = args.genes
    return ExperimentConfig(**values)


def cmd_experiment(args: argparse.Namespace, rep) -> int:
    """Run ``deepdife experiment <kind>``: an in-silico experiment written as a table.

    The motifs are read from JASPAR, a MEME file or a motif run; the table goes to
    ``--out``, per-gene values to ``--per-gene`` and a figure (.svg/.png/.pdf) to
    ``--figure`` when given.

    Parameters
    ----------
    args : argparse.Namespace
        The ``experiment <kind>`` options as parsed.
    rep : Reporter
        Progress lines on stderr.

    Returns
    -------
    int
        0 when ``experiment <kind>`` is done; bad input raises, :func:`deepdife_core.cli.main.main` exits 2.
    """
    kind = args.experiment_kind
    out = check_out_file(args.out)
    fig_path = check_out_file(args.figure) if args.figure else None
    if fig_path is not None and fig_path.suffix.lower() not in (".svg", ".png", ".pdf"):
        raise DeepDifEInputError(f"--figure {fig_path}: give a .svg, .png or .pdf file name")
    per_gene_path = check_out_file(args.per_gene) if getattr(args, "per_gene", None) else None
    cfg = config_from_args(args)
    specs = []
    if kind != "tile":
        specs = list(args.motif) if isinstance(args.motif, list) else [args.motif]
    if kind == "spacing":
        specs.append(args.motif2)
    motifs = [
        motif_source(s, release=args.jaspar_release, cache_dir=args.db_cache, motifs_root=args.motifs_root)
        for s in specs
    ]
    for m in motifs:
        rep.say(f"motif {m.name}: {m.width} bp, consensus {m.consensus}")
    predictor = load_model(args.model)
    fit = model_data_config(predictor)
    df = load_dataset(args.data, cfg=fit)

    def progress(event: dict) -> None:
        if event.get("event") == "scored" and event["done"] == event["total"]:
            rep.say(f"scored {event['total']:,} sequences")

    res = run_experiment(
        kind, predictor, df, motifs, cfg, gene=getattr(args, "gene", None), pad_side=fit.pad_side, progress=progress
    )
    atomic_write_csv(res.table, out)
    if per_gene_path is not None and res.per_gene is not None:
        atomic_write_csv(res.per_gene, per_gene_path)
    if fig_path is not None:
        save_figure(figure_of(kind, res.table, title=res.info.get("title")), fig_path)
    rep.say(f"{kind}: {len(res.table)} rows in {res.info['seconds']:.1f} s; wrote {Path(out)}")
    return 0
