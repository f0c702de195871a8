"""``deepdife motifs``: attributions -> TF-MoDISco lite -> TOMTOM -> motif run folder.

Registered by :func:`deepdife_core.cli.main.build_parser` through :func:`register`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from deepdife_core.cli.common import add_alt_tss_option, default_of, model_inputs, select_or_fail
from deepdife_core.data.encode import one_hot
from deepdife_core.data.io import ALT_TSS_MODEL
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import check_name, claim_output
from deepdife_core.interpret.explain import AttributionCache, ExplainConfig, explain
from deepdife_core.model.folder import load_model, model_data_config
from deepdife_core.motifs.modisco import MatchConfig, MotifConfig, load_motif_database, run_motif_pipeline


def register(sub, common: argparse.ArgumentParser) -> None:
    """Add the ``motifs`` sub-command to ``sub`` (the ``deepdife`` sub-parsers).

    Parameters
    ----------
    sub : argparse._SubParsersAction
        ``deepdife``'s sub-parsers, which ``motifs`` joins.
    common : argparse.ArgumentParser
        The parent parser of the common options (``--quiet``, ...).
    """
    m = sub.add_parser(
        "motifs",
        parents=[common],
        help="discover motifs (TF-MoDISco lite) in a model's attributions and match them to a database",
        description="Explain the genes (reading cached attributions where present), run TF-MoDISco lite on the "
        "hypothetical contributions, match the patterns to a motif database with TOMTOM (memelite) and write "
        "modisco.h5, patterns.csv, patterns.meme, seqlets.csv, report.html and logos/ into --out.",
    )
    m.add_argument("--model", required=True, help="model folder")
    m.add_argument("--data", help="dataset table (labels give per-pattern enrichment)")
    m.add_argument("--fasta", help="promoter FASTA (instead of --data; no enrichment)")
    m.add_argument(
        "--genes",
        nargs="+",
        metavar="ID",
        help="only these genes (default: all); a gene ID selects all its records, GENE::Chr:start-end(strand) one",
    )

    add_alt_tss_option(m, ALT_TSS_MODEL)
    m.add_argument("--split", choices=["train", "val", "test"], help="only genes of this split of --data")
    m.add_argument("--out", required=True, help="motif run folder to create, e.g. workspace/motifs/run1")
    m.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")
    g = m.add_argument_group("attributions")
    g.add_argument(
        "--method", choices=["deepshap", "gradxinput", "ism"], default=ExplainConfig.method, help="default: %(default)s"
    )
    g.add_argument(
        "--n-background",
        type=int,
        default=ExplainConfig.n_background,
        help="DeepSHAP shuffles per gene (default %(default)s)",
    )
    g.add_argument(
        "--seed", type=int, default=ExplainConfig.seed, help="seed of the DeepSHAP shuffles (default %(default)s)"
    )
    g.add_argument(
        "--cache",
        help="attribution cache folder (default $DEEPDIFE_WORKSPACE/attributions, else ./workspace/attributions)",
    )
    g.add_argument("--no-cache", action="store_true", help="do not read or write the attribution cache")
    g = m.add_argument_group("motif database")
    g.add_argument(
        "--motif-db",
        default=default_of(load_motif_database, "spec"),
        help="'jaspar-plants' (JASPAR CORE plants) or a MEME file (default %(default)s)",
    )
    g.add_argument("--jaspar-release", help="JASPAR release, e.g. 2024 (default: the newest shipped)")
    g.add_argument(
        "--db-cache", help="JASPAR MEME cache (default $DEEPDIFE_WORKSPACE/motif_db, else ./workspace/motif_db)"
    )
    g.add_argument("--top-k", type=int, default=MatchConfig.top_k, help="matches per pattern (default %(default)s)")
    g.add_argument(
        "--trim-threshold",
        type=float,
        default=MatchConfig.trim_threshold,
        help="CWM trimming fraction (default %(default)s)",
    )
    g = m.add_argument_group("TF-MoDISco lite")
    mc0 = MotifConfig()  # the TF-MoDISco defaults are its fields
    g.add_argument(
        "--max-seqlets",
        type=int,
        default=mc0.max_seqlets_per_metacluster,
        help="seqlets per metacluster (default %(default)s)",
    )
    g.add_argument(
        "--sliding-window", type=int, default=mc0.sliding_window_size, help="seqlet window (default %(default)s)"
    )
    g.add_argument("--flank", type=int, default=mc0.flank_size, help="seqlet flank (default %(default)s)")
    g.add_argument("--window", type=int, default=mc0.window, help="central window in bp (default: whole sequence)")
    g.add_argument("--n-leiden", type=int, default=mc0.n_leiden_runs, help="Leiden runs (default %(default)s)")
    g.add_argument(
        "--modisco-seed",
        type=int,
        default=mc0.seed,
        help="gene-order shuffle seed (default %(default)s: input order)",
    )
    m.set_defaults(func=cmd_motifs)


def _progress(rep):
    def say(event: dict) -> None:
        kind = event.get("event")
        if kind == "modisco_start":
            rep.say(f"TF-MoDISco lite on {event['n_sequences']} sequences of {event['length']} bp")
        elif kind == "modisco_done":
            rep.say(f"  {event['n_patterns']} pattern(s) in {event['seconds']:.1f} s")
        elif kind == "tomtom_start" and event.get("n_motifs"):
            rep.say(f"TOMTOM against {event['n_motifs']} motifs")
        elif kind == "logos_start":
            rep.say(f"drawing {event['n_logos']} logos")

    return say


def _workspace() -> Path:
    """``$DEEPDIFE_WORKSPACE`` or ``./workspace``: where the caches go unless an option names a folder."""
    return Path(os.environ.get("DEEPDIFE_WORKSPACE", "workspace")).expanduser()


def cmd_motifs(args: argparse.Namespace, rep) -> int:
    """Run ``deepdife motifs``: TF-MoDISco + TOMTOM motif discovery into a motif run folder.

    Parameters
    ----------
    args : argparse.Namespace
        The ``motifs`` options as parsed.
    rep : Reporter
        Progress lines on stderr.

    Returns
    -------
    int
        0 when ``motifs`` is done; bad input raises, :func:`deepdife_core.cli.main.main` exits 2.
    """
    out = Path(args.out)
    check_name(out.name, "--out folder name")  # also refuses DIR/.. and '.', which cannot be replaced
    here = Path.cwd().resolve()
    if out.resolve() == here or out.resolve() in here.parents:
        raise DeepDifEInputError(f"--out {out} is the current folder or holds it; give a new folder for the run")
    if out.exists() and not out.is_dir():
        raise DeepDifEInputError(f"--out {out} is a file; give a folder")
    if out.exists() and not args.overwrite:
        raise DeepDifEInputError(f"--out {out} already exists; add --overwrite or choose another folder")
    if args.n_background < 1:
        raise DeepDifEInputError(f"--n-background must be >= 1, got {args.n_background}")
    if not 0 < args.trim_threshold < 1:
        raise DeepDifEInputError(f"--trim-threshold must be in (0, 1), got {args.trim_threshold}")
    if args.top_k < 1:
        raise DeepDifEInputError(f"--top-k must be >= 1, got {args.top_k}")
    args.cache = args.cache or str(_workspace() / "attributions")
    args.db_cache = args.db_cache or str(_workspace() / "motif_db")
    # the run's name is claimed before minutes of work: a second run with the same --out is refused now
    with claim_output(out, overwrite=args.overwrite):
        return _motifs_claimed(args, rep, out)


def _motifs_claimed(args: argparse.Namespace, rep, out: Path) -> int:

    cfg = MotifConfig(
        max_seqlets_per_metacluster=args.max_seqlets,
        sliding_window_size=args.sliding_window,
        flank_size=args.flank,
        window=args.window,
        n_leiden_runs=args.n_leiden,
        seed=args.modisco_seed,
    )
    # the database first: a bad MEME file fails before minutes of attributions
    database = load_motif_database(args.motif_db, release=args.jaspar_release, cache_dir=args.db_cache)
    rep.say(f"motif database: {database.name} ({len(database)} motifs)")

    predictor = load_model(args.model)
    df = model_inputs(args, model_data_config(predictor), rep)
    if args.split:
        if not args.data or "split" not in df.columns:
            raise DeepDifEInputError("--split needs --data with a 'split' column")
        df = df[df["split"] == args.split]
    df = select_or_fail(df, args.genes)
    if len(df) < 2:
        raise DeepDifEInputError(f"{len(df)} gene(s) selected; motif discovery needs many (hundreds) of genes")
    X = one_hot(df["sequence"].tolist())
    ecfg = ExplainConfig(method=args.method, n_background=args.n_background, seed=args.seed)
    cache = None if args.no_cache else AttributionCache(args.cache)
    rep.say(f"attributions ({args.method}) of {len(df)} genes" + ("" if cache is None else f", cache {args.cache}"))
    attr = explain(predictor, X, ecfg, cache=cache)
    if cache is not None:
        rep.say(f"  {cache.hits} from the cache, {cache.misses} computed")
    labels = None
    if "label" in df.columns and df["label"].notna().all():
        labels = df["label"].to_numpy(dtype=np.int64)
    meta = {
        "model": str(args.model),
        "data": str(args.data or args.fasta),
        "n_genes": len(df),
        "attribution": attr.spec,
    }
    run = run_motif_pipeline(
        attr.hypothetical,
        X,
        df["gene_id"].tolist(),
        out,
        labels=labels,
        config=cfg,
        database=database,
        top_k=args.top_k,
        trim_threshold=args.trim_threshold,
        overwrite=args.overwrite,
        meta=meta,
        progress=_progress(rep),
    )
    for _, row in run.patterns.iterrows():
        q = row["best_match_qvalue"]
        match = f"{row['best_match_id']} {row['best_match_name']} (q={q:.2g})" if row["best_match_id"] else "-"
        rep.say(f"  {row['pattern']}: {row['n_seqlets']} seqlets, {row['consensus']}, best match {match}")
    rep.say(f"wrote {run.folder}")
    return 0
