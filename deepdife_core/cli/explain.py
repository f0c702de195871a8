"""``deepdife explain``: attributions of genes to an npz (+ optional SVG logos).

Registered by :func:`deepdife_core.cli.main.build_parser` through :func:`register`.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np

from deepdife_core.cli.common import (
    add_alt_tss_option,
    default_of,
    model_inputs,
    select_or_fail,
)
from deepdife_core.data import io
from deepdife_core.data.encode import one_hot
from deepdife_core.data.io import ALT_TSS_MODEL
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.interpret.explain import AttributionCache, ExplainConfig, explain, sample_background
from deepdife_core.model.folder import load_model, model_data_config
from deepdife_core.plot.figures import plot_gene, save_figure

_METHODS = {"deepshap": "deepshap", "ism": "ism", "gradxinput": "gradxinput"}


def register(sub, common: argparse.ArgumentParser) -> None:
    """Add the ``explain`` sub-command to ``sub`` (the ``deepdife`` sub-parsers).

    Parameters
    ----------
    sub : argparse._SubParsersAction
        ``deepdife``'s sub-parsers, which ``explain`` joins.
    common : argparse.ArgumentParser
        The parent parser of the common options (``--quiet``, ...).
    """
    e = sub.add_parser(
        "explain",
        parents=[common],
        help="attributions (DeepSHAP, ISM, gradient x input) of genes to an npz",
        description="Explain the model's logit for each gene on both strands. Writes gene_id, hypothetical, "
        "contrib (N, L, 4, forward coordinates, channels A/C/G/T) and probability to --out.",
    )
    e.add_argument("--model", required=True, help="model folder")
    e.add_argument("--fasta", help="promoter FASTA")
    e.add_argument("--data", help="dataset table")
    e.add_argument(
        "--genes",
        nargs="+",
        metavar="ID",
        help="explain only these genes (default: all); a gene ID selects all its records, GENE::Chr:start-end(strand) one",
    )

    add_alt_tss_option(e, ALT_TSS_MODEL)
    e.add_argument(
        "--method",
        choices=sorted(_METHODS),
        default=ExplainConfig.method,
        help="attribution method (default %(default)s)",
    )
    e.add_argument("--out", required=True, help="output .npz")
    e.add_argument("--plot", metavar="DIR", help="also write one SVG logo figure per gene into DIR")
    e.add_argument(
        "--window",
        type=int,
        default=default_of(plot_gene, "window"),
        help="bp per logo row in --plot figures (default %(default)s)",
    )
    e.add_argument(
        "--background",
        default=ExplainConfig.background,
        help="DeepSHAP references: 'shuffle' (dinucleotide shuffles of each gene, default), 'train' (random "
        "training genes of --data) or a FASTA of background sequences",
    )
    e.add_argument(
        "--n-background",
        type=int,
        default=ExplainConfig.n_background,
        help="DeepSHAP references per gene (default %(default)s)",
    )
    e.add_argument(
        "--seed",
        type=int,
        default=ExplainConfig.seed,
        help="seed of shuffles / background sample (default %(default)s)",
    )
    e.add_argument("--forward-only", action="store_true", help="explain the forward strand only")
    e.add_argument("--cache", metavar="DIR", help="attribution cache folder (e.g. workspace/attributions)")
    e.set_defaults(func=cmd_explain)


def _check_out(path: str) -> Path:
    out = Path(path)
    if out.suffix != ".npz":
        raise DeepDifEInputError(f"--out {out}: give a file name ending in .npz")
    if out.is_dir():
        raise DeepDifEInputError(f"--out {out} is a folder; give a file name")
    if not out.parent.exists():
        raise DeepDifEInputError(f"--out {out}: folder {out.parent} does not exist")
    return out


def _background(args: argparse.Namespace, df_all, fit) -> np.ndarray | None:

    if args.background == "shuffle":
        return None
    if args.method != "deepshap":
        raise DeepDifEInputError("--background only applies to --method deepshap")
    if args.background == "train":
        if not args.data:
            raise DeepDifEInputError("--background train needs --data (a dataset table with the training genes)")
        pool = df_all[df_all["split"] == "train"] if "split" in df_all.columns else df_all
        if pool.empty:
            raise DeepDifEInputError("--background train: the table has no genes with split 'train'")
        return sample_background(one_hot(pool["sequence"].tolist()), args.n_background, seed=args.seed)
    path = Path(args.background)
    if not path.is_file():
        raise DeepDifEInputError(f"--background {path}: use 'shuffle', 'train' or an existing FASTA file")
    seqs = io.sequences_from_fasta(path, length=fit.length, pad_side=fit.pad_side)
    if seqs.empty:
        raise DeepDifEInputError(f"--background {path}: no sequences")
    return one_hot(seqs["sequence"].tolist())


def _safe_name(gene_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", gene_id)[:150] or "gene"


def _file_names(gene_ids: list[str]) -> list[str]:
    """One distinct file name per record (``G::Chr1:1-9(+)`` and ``G::Chr1:1-9(-)`` differ only in strand)."""
    out: list[str] = []
    used: set[str] = set()
    for gid in gene_ids:
        base = _safe_name(gid.replace("(+)", "(plus)").replace("(-)", "(minus)"))
        name, k = base, 1
        while name.lower() in used:
            k += 1
            name = f"{base}-{k}"
        used.add(name.lower())
        out.append(name)
    return out


def cmd_explain(args: argparse.Namespace, rep) -> int:
    """Run ``deepdife explain``: attributions of the selected genes, saved as an ``.npz`` attribution file.

    With ``--plot`` one SVG per gene (forward and reverse logos) is written to that folder.

    Parameters
    ----------
    args : argparse.Namespace
        The ``explain`` options as parsed.
    rep : Reporter
        Progress lines on stderr.

    Returns
    -------
    int
        0 when ``explain`` is done; bad input raises, :func:`deepdife_core.cli.main.main` exits 2.
    """
    out = _check_out(args.out)
    if args.n_background < 1:
        raise DeepDifEInputError(f"--n-background must be >= 1, got {args.n_background}")
    if args.window < 10:
        raise DeepDifEInputError(f"--window must be >= 10 bp, got {args.window}")
    plot_dir = Path(args.plot) if args.plot else None
    if plot_dir is not None and plot_dir.exists() and not plot_dir.is_dir():
        raise DeepDifEInputError(f"--plot {plot_dir} is a file; give a folder")
    predictor = load_model(args.model)
    fit = model_data_config(predictor)
    df_all = model_inputs(args, fit, rep)
    df = select_or_fail(df_all, args.genes)
    background = _background(args, df_all, fit)
    cfg = ExplainConfig(
        method=_METHODS[args.method],
        n_background=args.n_background,
        seed=args.seed,
        strands="forward" if args.forward_only else "both",
    )
    cache = AttributionCache(args.cache) if args.cache else None
    rep.say(f"explaining {len(df)} gene(s) with {args.method} ({args.model})")
    X = one_hot(df["sequence"].tolist())
    res = explain(predictor, X, cfg, background=background, cache=cache)
    res.to_npz(out, df["gene_id"].to_numpy(dtype=str))
    if res.max_additivity_error is not None:
        rep.say(f"DeepSHAP additivity: max |sum(phi) - (f(x) - E f(ref))| = {res.max_additivity_error:.2e} (logit)")
    rep.say(f"wrote {out}")
    if plot_dir is not None:
        plot_dir.mkdir(parents=True, exist_ok=True)
        files = _file_names(df["gene_id"].tolist())
        for i, gid in enumerate(df["gene_id"]):
            fig = plot_gene(
                res.contrib_fwd[i],
                res.contrib_rev[i],
                window=args.window,
                gene_id=f"{gid}  {args.method}",
                probability=float(res.probability[i]),
            )
            save_figure(fig, plot_dir / f"{files[i]}.svg")
        rep.say(f"wrote {len(df)} SVG figure(s) to {plot_dir}")
    return 0
