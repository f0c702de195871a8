"""The ``deepdife`` command line.

Every command validates its inputs before doing work and writes its outputs
atomically.  Bad input ends with exit code 2 and one line ``error: ...`` on
stderr (no traceback); progress goes to stderr unless ``--quiet``.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import re
import sys
from contextlib import ExitStack, suppress
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from deepdife_core.cli import experiment as cli_experiment
from deepdife_core.cli import explain as cli_explain
from deepdife_core.cli import genome as cli_genome
from deepdife_core.cli import motifs as cli_motifs
from deepdife_core.cli import tune as cli_tune
from deepdife_core.cli import variants as cli_variants
from deepdife_core.cli.common import (
    Reporter,
    add_alt_tss_option,
    check_out_file,
    default_of,
    model_inputs,
    short_path,
)
from deepdife_core.cli.genome import add_genome_options, promoter_source
from deepdife_core.config import (
    FIRST_ACTIVATIONS,
    HEADS,
    MONITORS,
    STRANDS,
    AugmentConfig,
    DatasetConfig,
    ModelConfig,
    PhyloConfig,
    TrainConfig,
    original_recipe,
)
from deepdife_core.data import io
from deepdife_core.data import io as io_defaults
from deepdife_core.data.demo import demo_fasta_records, make_demo_dataset
from deepdife_core.data.encode import one_hot
from deepdife_core.data.io import DECOMPRESSED_ENV, read_orthologs, write_fasta
from deepdife_core.errors import DeepDifEError, DeepDifEInputError
from deepdife_core.files import STORAGE_ERRNOS, atomic_write_json, check_name, claim_output, now_iso, write_export_csv
from deepdife_core.jobs.tune import tuning_provenance
from deepdife_core.model.cnn import import_legacy, legacy_config
from deepdife_core.model.folder import (
    check_network_size,
    imported_run_config,
    load_model,
    model_data_config,
    save_model_folder,
)
from deepdife_core.streaming import StreamConfig, predict_fasta_to_csv
from deepdife_core.train.baseline import fit_kmer_baseline
from deepdife_core.train.fit import cross_validate, train_dataset
from deepdife_core.train.metrics import auroc, evaluate_predictions, learning_verdict
from deepdife_core.tune.study import apply_params, best_params

# ----------------------------------------------------------------------------- helpers


def _dataset_cfg(args: argparse.Namespace):

    return DatasetConfig(length=args.length, pad_side=args.pad_side, max_n_fraction=args.max_n)


def _load_table(path: str, fasta: str | None, cfg=None):
    """A dataset table from ``--data`` (full table, or labels when ``--fasta`` is given)."""
    if fasta:
        df, _ = io.dataset_from_labels(path, fasta, cfg=cfg)
        return df
    if cfg is not None:
        df, _ = io.dataset_from_table(path, cfg=cfg)
        return df
    return io.load_dataset(path)


def _train_table(args: argparse.Namespace):
    """``(table, DatasetConfig or None)`` for ``train``: how the sequences were fitted is saved with the model.

    With ``--fasta`` the table is built here with ``--length/--pad-side/--max-n``; a built
    table keeps the settings recorded in its manifest (``dataset build --manifest``), if any.
    """
    given = [
        o
        for o, v in (("--length", args.length), ("--pad-side", args.pad_side), ("--max-n", args.max_n))
        if v is not None
    ]
    if not args.fasta:
        if given:
            raise DeepDifEInputError(
                f"{given[0]} applies with --fasta (building from a labels table); a built table keeps the "
                "settings it was built with (dataset build ... --manifest records them)"
            )
        return io.load_dataset(args.data), io.read_dataset_config(args.data)
    d = DatasetConfig()
    cfg = DatasetConfig(
        length=d.length if args.length is None else args.length,
        pad_side=args.pad_side or d.pad_side,
        max_n_fraction=d.max_n_fraction if args.max_n is None else args.max_n,
    )
    df, _ = io.dataset_from_labels(args.data, args.fasta, cfg=cfg)
    return df, cfg


def _add_length_opts(p: argparse.ArgumentParser, *, defaults: bool = True) -> None:
    """``--length/--pad-side/--max-n``; with ``defaults=False`` they default to None (``train --fasta``)."""
    when = "" if defaults else "with --fasta: "
    d = DatasetConfig()  # the defaults are its fields
    p.add_argument(
        "--length",
        type=int,
        default=d.length if defaults else None,
        help=f"{when}fixed sequence length L (default {d.length})",
    )
    p.add_argument(
        "--pad-side",
        choices=["left", "right"],
        default=d.pad_side if defaults else None,
        help=f"{when}where short sequences get N padding and long ones are trimmed; 'left' (5') keeps the TSS end "
        f"(default {d.pad_side})",
    )
    p.add_argument(
        "--max-n",
        type=float,
        default=d.max_n_fraction if defaults else None,
        help=f"{when}drop sequences with a larger N fraction (default {d.max_n_fraction})",
    )


# ----------------------------------------------------------------------------- commands


def cmd_dataset_build(args: argparse.Namespace, rep: Reporter) -> int:
    """Run ``deepdife dataset build``: make a dataset table from exactly one kind of input.

    The inputs are ``--table``, ``--labels`` + ``--fasta``, ``--responsive`` +
    ``--non-responsive`` + ``--fasta``, ``--de`` + ``--fasta`` or ``--labelled-fasta``
    (``--genome`` may replace ``--fasta``); the table is written to ``--out``
    (with ``--manifest`` also a ``.json`` manifest: config, report, summary).

    Parameters
    ----------
    args : argparse.Namespace
        The ``dataset build`` options as parsed.
    rep : Reporter
        Progress lines on stderr.

    Returns
    -------
    int
        0 when ``dataset build`` is done; bad input raises, :func:`deepdife_core.cli.main.main` exits 2.
    """
    out = check_out_file(args.out)
    cfg = _dataset_cfg(args)
    modes = [
        bool(args.table),
        bool(args.labels),
        bool(args.responsive or args.non_responsive),
        bool(args.de),
        bool(args.labelled_fasta),
    ]
    if sum(modes) != 1:
        raise DeepDifEInputError(
            "give exactly one input: --table, --labels + --fasta, --responsive + --non-responsive + --fasta, "
            "--de + --fasta, or --labelled-fasta"
        )
    needs_fasta = args.labels or args.responsive or args.non_responsive or args.de
    if args.genome and args.fasta:
        raise DeepDifEInputError("give either --fasta (promoters) or --genome (cut them from a registered genome)")
    if args.genome and not needs_fasta:
        raise DeepDifEInputError("--genome applies to --labels, --responsive/--non-responsive and --de inputs")
    if needs_fasta and not (args.fasta or args.genome):
        raise DeepDifEInputError(
            "this input needs the promoter sequences: add --fasta FILE or --genome NAME (deepdife genome add)"
        )

    src = promoter_source(args)
    alt = args.alt_tss
    if args.table:
        df, report = io.dataset_from_table(args.table, cfg=cfg, alt_tss=alt)
    elif args.labels:
        df, report = io.dataset_from_labels(args.labels, args.fasta, cfg=cfg, alt_tss=alt, promoters=src)
    elif args.labelled_fasta:
        df, report = io.dataset_from_labelled_fasta(args.labelled_fasta, cfg=cfg, alt_tss=alt)
    elif args.de:
        thr = io.DEThresholds(
            lfc_min=args.lfc_min,
            padj_max=args.padj_max,
            lfc_neg_max=args.lfc_neg_max,
            padj_neg_min=args.padj_neg_min,
            direction=args.direction,
        )
        df, report = io.dataset_from_de_table(
            args.de,
            args.fasta,
            gene_col=args.gene_col,
            lfc_col=args.lfc_col,
            padj_col=args.padj_col,
            thresholds=thr,
            cfg=cfg,
            alt_tss=alt,
            promoters=src,
        )
    else:
        if not (args.responsive and args.non_responsive):
            raise DeepDifEInputError("give both --responsive and --non-responsive gene lists")
        df, report = io.dataset_from_gene_lists(
            args.responsive, args.non_responsive, args.fasta, cfg=cfg, alt_tss=alt, promoters=src
        )
    write_export_csv(df, out)  # a table for people too: formulas neutralised, read back as it was
    if args.manifest:
        atomic_write_json(
            out.with_suffix(".json"),
            {
                "created": now_iso(),
                "length": cfg.length,
                "pad_side": cfg.pad_side,
                "config": {"length": cfg.length, "pad_side": cfg.pad_side, "max_n_fraction": cfg.max_n_fraction},
                "report": report.to_dict(),
                "summary": io.summarize(df),
            },
        )
    rep.say(report.summary())
    rep.say(f"wrote {len(df)} genes to {out}")
    return 0


def cmd_dataset_check(args: argparse.Namespace, rep: Reporter) -> int:
    """Run ``deepdife dataset check``: print the summary of a dataset table as JSON on stdout.

    Parameters
    ----------
    args : argparse.Namespace
        The ``dataset check`` options as parsed.
    rep : Reporter
        Progress lines on stderr.

    Returns
    -------
    int
        0 when ``dataset check`` is done; bad input raises, :func:`deepdife_core.cli.main.main` exits 2.
    """
    df = io.load_dataset(args.file)
    summary = io.summarize(df)
    if summary["n_families"] == summary["n_genes"]:
        summary["note"] = "each gene is its own family (no family column or all distinct)"
    print(json.dumps(summary, indent=2))
    return 0


def _heads_list(text: str) -> tuple[str, ...]:
    """``--try-heads`` as a tuple: comma-separated head names, ``none`` (or nothing) for none."""
    names = tuple(h.strip() for h in str(text).split(",") if h.strip())
    return () if names in ((), ("none",)) else names


def _train_cfgs(args: argparse.Namespace):

    tc = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        val_fraction=args.val_fraction,
        test_fraction=args.test_fraction,
        early_stopping_patience=args.patience,
        reduce_lr_patience=args.lr_patience,
        reduce_lr_factor=args.lr_factor,
        min_learning_rate=args.min_lr,
        min_delta=args.min_delta,
        strands=args.strands,
        monitor=args.monitor,
        chance_patience=args.chance_patience,
        rc_augment=args.rc_augment,
        try_heads=_heads_list(args.try_heads),
    )
    mc = replace(
        ModelConfig(),
        n_conv=args.n_conv,
        filters=args.filters,
        kernel_size=args.kernel_size,
        dropout=args.dropout,
        first_activation=args.first_activation,
        head=args.head,
        region_bp=args.region_bp,
        batch_norm=args.batch_norm,
        strand_shared=args.strand_shared,
    )
    aug = AugmentConfig(
        enabled=args.evoaug,
        augs=tuple(a.strip() for a in args.evoaug_augs.split(",") if a.strip()),
        rc_prob=args.evoaug_rc,
        insert_max=args.insert_max,
        delete_max=args.delete_max,
        shift_max=args.shift_max,
        mutate_frac=args.mutate_frac,
        noise_std=args.noise_std,
        max_augs_per_seq=args.max_augs,
        hard=not args.soft_augs,
        finetune=args.finetune,
        finetune_epochs=args.finetune_epochs,
        finetune_lr=args.finetune_lr,
    )
    if args.recipe == "deepdife":
        mc, tc, aug = original_recipe(mc, tc, aug)
    phylo = PhyloConfig(
        enabled=bool(args.orthologs),
        rate=args.phylo_rate,
        finetune=args.phylo_finetune,
        finetune_epochs=args.finetune_epochs,
        finetune_lr=args.finetune_lr,
    )
    return mc, tc, aug, phylo


def cmd_train(args: argparse.Namespace, rep: Reporter) -> int:
    """Run ``deepdife train``: train a model (or cross-validate) into the model folder ``--out``.

    The output names (``--out`` and, with ``--refit --cv``, ``<out>_refit``) are claimed
    before any work, so a second run with the same ``--out`` is refused.

    Parameters
    ----------
    args : argparse.Namespace
        The ``train`` options as parsed.
    rep : Reporter
        Progress lines on stderr.

    Returns
    -------
    int
        0 when ``train`` is done; bad input raises, :func:`deepdife_core.cli.main.main` exits 2.
    """
    out = Path(args.out)
    check_name(out.name)
    if out.exists() and not args.overwrite:
        raise DeepDifEInputError(f"--out {out} already exists; choose another name or pass --overwrite")
    with ExitStack() as claims:
        # the output names are claimed before any work: a second run with the same --out is refused now
        claims.enter_context(claim_output(out, overwrite=args.overwrite))
        if args.refit and args.cv:
            claims.enter_context(claim_output(Path(str(out) + "_refit"), overwrite=args.overwrite))
        return _train_claimed(args, rep, out)


def _train_claimed(args: argparse.Namespace, rep: Reporter, out: Path) -> int:

    if args.refit and not args.cv:
        raise DeepDifEInputError("--refit needs --cv K (it refits on all training genes after cross-validation)")
    if args.ortholog_fasta and not args.orthologs:
        raise DeepDifEInputError("--ortholog-fasta needs --orthologs TABLE (gene_id, ortholog_id[, species])")
    if args.storage and not args.from_study:
        raise DeepDifEInputError("--storage needs --from-study NAME")
    mc, tc, aug, phylo = _train_cfgs(args)
    provenance = None
    if args.from_study:
        best = best_params(args.from_study, args.storage)
        mc, tc, aug, phylo = apply_params(best["params"], mc, tc, aug, phylo)
        provenance = tuning_provenance(best)
        rep.say(f"using trial {best['trial']} of study {args.from_study} ({best['metric']} {best['value']:.4f})")
    df, dataset_cfg = _train_table(args)
    orthologs = read_orthologs(args.orthologs, args.ortholog_fasta or []) if args.orthologs else None
    common = dict(
        model_cfg=mc,
        train_cfg=tc,
        augment_cfg=aug,
        phylo_cfg=phylo,
        orthologs=orthologs,
        out=out,
        dataset_name=Path(args.data).name,
        progress=rep,
        overwrite=args.overwrite,
        provenance=provenance,
        dataset_cfg=dataset_cfg,
    )
    if args.cv:
        res = cross_validate(df, k=args.cv, refit=args.refit, **common)
        s = res.metrics["cv"]["summary"]
        rep.say(
            f"{args.cv}-fold CV: auROC {s['auroc']['mean']:.4f} ± {s['auroc']['sd']:.4f}, "
            f"auPRC {s['auprc']['mean']:.4f} ± {s['auprc']['sd']:.4f}"
        )
    else:
        res = train_dataset(df, **common)
    m = res.metrics
    sel = m.get("head_selection")
    if sel:
        tried = ", ".join(f"{c['head']} {abs(c['value']):.4f}" for c in sel["candidates"])
        rep.say(f"head selection on the validation genes ({sel['monitor']}): {tried}; kept {sel['kept']}")
    rep.say(f"{m['evaluated_on']}: auROC {m['auroc']:.4f}  auPRC {m['auprc']:.4f}  accuracy {m['accuracy']:.4f}")
    base = m.get("baseline_kmer")
    if base and base.get("auroc") is not None:
        rep.say(f"k-mer baseline (same genes): auROC {base['auroc']:.4f}  auPRC {base['auprc']:.4f}")
    verdict = m.get("learning")
    if verdict:
        # the verdict is printed even with --quiet: a model that has not learnt must never pass silently
        print(("" if verdict["status"] == "learnt" else "warning: ") + verdict["message"], file=sys.stderr)
    rep.say(f"model saved to {res.path}" + (f" (refit: {res.refit_path})" if res.refit_path else ""))
    return 0


def _predict_inputs(args: argparse.Namespace, predictor, rep: Reporter | None = None):

    # fitted like the model's training sequences (length, pad side, N limit)
    return model_inputs(args, model_data_config(predictor), rep)


def cmd_predict(args: argparse.Namespace, rep: Reporter) -> int:
    """Run ``deepdife predict``: write per-gene probabilities of a model to ``--out``.

    The table has ``gene_id``, ``probability``, ``prediction`` (``probability >=
    --threshold``), the two strands' probabilities and ``label`` when the input has
    one; ``--fasta`` without ``--data`` is streamed in chunks.

    Parameters
    ----------
    args : argparse.Namespace
        The ``predict`` options as parsed.
    rep : Reporter
        Progress lines on stderr.

    Returns
    -------
    int
        0 when ``predict`` is done; bad input raises, :func:`deepdife_core.cli.main.main` exits 2.
    """
    out = check_out_file(args.out)
    predictor = load_model(args.model)
    if args.fasta and not args.data:
        return _predict_fasta_stream(args, predictor, out, rep)
    df = _predict_inputs(args, predictor, rep)
    rep.say(f"predicting {len(df)} sequences with {args.model}")
    fwd, rev = predictor.predict_strands(one_hot(df["sequence"].tolist()))
    prob = predictor.combine(fwd, rev)
    res = pd.DataFrame(
        {
            "gene_id": df["gene_id"],
            "probability": prob.round(6),
            "prediction": (prob >= args.threshold).astype(int),
            "probability_forward": fwd.round(6),
            "probability_reverse": rev.round(6),
        }
    )
    if "label" in df.columns:
        res["label"] = df["label"].values
    write_export_csv(res, out)
    rep.say(f"wrote {out}")
    return 0


def _predict_fasta_stream(args: argparse.Namespace, predictor, out: Path, rep: Reporter) -> int:
    """``predict --fasta``: read, encode, predict and write in chunks (memory bounded whatever the size)."""

    def progress(done: int, total: int) -> None:
        rep.say(f"  {done:,} of {total:,} sequences predicted")

    rep.say(f"predicting {args.fasta} with {args.model} in chunks of {StreamConfig().chunk_records:,}")
    report = predict_fasta_to_csv(
        predictor,
        args.fasta,
        out,
        config=StreamConfig(threshold=args.threshold),
        alt_tss=args.alt_tss,
        progress=progress,
    )
    if report.repeated_genes:
        rep.say(report.records_note())
    rep.say(f"wrote {out}")
    return 0


def cmd_evaluate(args: argparse.Namespace, rep: Reporter) -> int:
    """Run ``deepdife evaluate``: print a model's metrics on a labelled table as JSON.

    With ``--split`` only that split is evaluated; the k-mer baseline is evaluated on
    the genes neither model was trained on and a learning verdict is added (a
    warning on stderr when the model did not learn).

    Parameters
    ----------
    args : argparse.Namespace
        The ``evaluate`` options as parsed.
    rep : Reporter
        Progress lines on stderr.

    Returns
    -------
    int
        0 when ``evaluate`` is done; bad input raises, :func:`deepdife_core.cli.main.main` exits 2.
    """
    predictor = load_model(args.model)
    df = _load_table(args.data, args.fasta, cfg=model_data_config(predictor))
    df_all = df
    if args.split:
        if "split" not in df.columns:
            raise DeepDifEInputError(f"--split {args.split}: {args.data} has no split column")
        df = df[df["split"] == args.split]
        if df.empty:
            raise DeepDifEInputError(f"--split {args.split}: no genes in that split")
    p = predictor.predict(one_hot(df["sequence"].tolist()))
    metrics = evaluate_predictions(df["label"].to_numpy(), p, curves=args.curves)
    metrics["baseline_kmer"] = _evaluate_baseline(Path(args.model), df_all, df, p)
    base = metrics["baseline_kmer"]
    if base is not None and base.get("cnn_auroc") is not None:
        on = base["evaluated_on"]
        metrics["learning"] = learning_verdict({"auroc": base["cnn_auroc"], "baseline_kmer": base, "evaluated_on": on})
        if metrics["learning"]["status"] != "learnt":
            print("warning: " + metrics["learning"]["message"], file=sys.stderr)
    print(json.dumps(metrics, indent=2))
    return 0


def _evaluate_baseline(model_dir: Path, full, evaluated, p) -> dict | None:
    """The k-mer baseline beside ``evaluate``, on genes neither model was trained on.

    The model folder's ``split.csv`` names its training / validation genes; those
    found in the table train the baseline (C picked on the validation genes), and
    both models are scored on the evaluated genes outside them (``cnn_auroc`` is the
    CNN's auROC on exactly those).  When that is not possible the baseline recorded
    at training time is returned (``fitted_on`` says which).
    """
    recorded = None
    with suppress(OSError, ValueError, AttributeError):
        recorded = json.loads((model_dir / "metrics.json").read_text()).get("baseline_kmer")
    if recorded:
        recorded = {**recorded, "fitted_on": "recorded at training (the model's own test genes)"}
    try:
        roles = pd.read_csv(model_dir / "split.csv", dtype=str, keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError):
        return recorded
    lookup = dict(zip(roles["gene_id"], roles["split"], strict=False))
    role = full["gene_id"].map(lookup)
    train, val = full[role == "train"], full[role == "val"]
    held = ~evaluated["gene_id"].map(lookup).isin(["train", "val"]).to_numpy()
    ev = evaluated[held]
    if len(train) < 10 or train["label"].nunique() < 2 or ev["label"].nunique() < 2:
        return recorded
    if len(val) == 0 or val["label"].nunique() < 2:
        val = train
    res = fit_kmer_baseline(
        train["sequence"].to_numpy(),
        train["label"].to_numpy(),
        val["sequence"].to_numpy(),
        val["label"].to_numpy(),
        ev["sequence"].to_numpy(),
        ev["label"].to_numpy(),
        evaluated_on=f"{len(ev)} evaluated genes not used in training",
    )
    cnn = auroc(ev["label"].to_numpy(), np.asarray(p)[held])
    return {**res, "cnn_auroc": cnn, "fitted_on": f"the model's {len(train)} training genes found in this table"}


def cmd_import_legacy(args: argparse.Namespace, rep: Reporter) -> int:
    """Run ``deepdife import-legacy``: turn a legacy Keras JSON + weights model into a model folder.

    Parameters
    ----------
    args : argparse.Namespace
        The ``import-legacy`` options as parsed.
    rep : Reporter
        Progress lines on stderr.

    Returns
    -------
    int
        0 when ``import-legacy`` is done; bad input raises, :func:`deepdife_core.cli.main.main` exits 2.
    """
    out = Path(args.out)
    check_name(out.name)
    if out.exists() and not args.overwrite:
        raise DeepDifEInputError(f"--out {out} already exists; choose another name or pass --overwrite")
    check_network_size(legacy_config(args.json), Path(args.json).name)  # before TensorFlow allocates it
    predictor = import_legacy(args.json, args.weights)
    cfg = imported_run_config(predictor.config)
    save_model_folder(
        out,
        models=list(predictor.models),
        config=cfg,
        overwrite=args.overwrite,
        provenance={
            "source": "legacy-import",
            "legacy_json": Path(args.json).name,
            "legacy_weights": Path(args.weights).name,
        },
    )
    rep.say(
        f"imported {Path(args.json).name} ({predictor.config.network_length} rows, "
        f"padding {predictor.config.pad_left}+{predictor.config.pad_right}) to {out}"
    )
    return 0


def cmd_demo(args: argparse.Namespace, rep: Reporter) -> int:
    """Run ``deepdife demo``: write a synthetic dataset table (and optionally its FASTA).

    Parameters
    ----------
    args : argparse.Namespace
        The ``demo`` options as parsed.
    rep : Reporter
        Progress lines on stderr.

    Returns
    -------
    int
        0 when ``demo`` is done; bad input raises, :func:`deepdife_core.cli.main.main` exits 2.
    """
    out = check_out_file(args.out)
    df = make_demo_dataset(args.n_genes, length=args.length, seed=args.seed)
    write_export_csv(df, out)
    if args.fasta:
        write_fasta(demo_fasta_records(df), check_out_file(args.fasta))
    rep.say(f"wrote {len(df)} synthetic genes ({int(df['label'].sum())} responsive) to {out}")
    return 0


# ----------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    """Build the ``deepdife`` argument parser with every command group.

    Returns
    -------
    argparse.ArgumentParser
        The parser; each sub-command sets ``func`` (``cmd_*(args, rep) -> int``).
    """

    def shared_options(top: bool) -> argparse.ArgumentParser:
        """``--quiet`` and ``--max-decompressed-mb``, before or after the sub-command.

        The sub-commands' copies default to "not given" (``SUPPRESS``), so they never
        overwrite a value given before the sub-command (``deepdife -q demo ...``).
        """
        keep = {} if top else {"default": argparse.SUPPRESS}
        opts = argparse.ArgumentParser(add_help=False)
        opts.add_argument("--quiet", "-q", action="store_true", help="no progress output on stderr", **keep)
        opts.add_argument(
            "--max-decompressed-mb",
            type=float,
            metavar="MB",
            help="the most a compressed input (.gz, .xlsx, parquet) may unpack to, in MB "
            "(default $DEEPDIFE_MAX_DECOMPRESSED_MB, else 512)",
            **keep,
        )
        return opts

    common = shared_options(top=False)
    p = argparse.ArgumentParser(
        prog="deepdife",
        parents=[shared_options(top=True)],
        description="Train and explain promoter CNNs that classify differentially expressed genes.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ds = sub.add_parser("dataset", help="build or check a dataset table", parents=[common])
    ds_sub = ds.add_subparsers(dest="dataset_command", required=True, metavar="ACTION")
    b = ds_sub.add_parser(
        "build",
        parents=[common],
        help="build a dataset table from your files",
        description="Build a dataset table (gene_id, label, family, sequence) from one kind of input.",
    )
    b.add_argument("--table", help="CSV/TSV/XLSX with gene_id, label, sequence [, family, split]")
    b.add_argument("--labels", help="table with gene_id, label [, family] (needs --fasta)")
    b.add_argument("--responsive", help="gene list, one ID per line: label 1 (needs --non-responsive, --fasta)")
    b.add_argument("--non-responsive", help="gene list, one ID per line: label 0")
    b.add_argument("--de", help="differential-expression table (needs --fasta)")
    b.add_argument("--labelled-fasta", help="FASTA with >GENEID_LABEL headers (label 0/1)")
    b.add_argument("--fasta", help="promoter FASTA (plain or .gz); IDs like AT1G01010::Chr1:1-600(+) match AT1G01010")
    de0 = io.DEThresholds()  # the DE defaults: its fields and dataset_from_de_table's column names

    def de_col(flag: str, name: str, text: str) -> None:
        b.add_argument(flag, default=default_of(io.dataset_from_de_table, name), help=f"{text} (default %(default)s)")

    de_col("--gene-col", "gene_col", "DE table: gene ID column")
    de_col("--lfc-col", "lfc_col", "DE table: log2 fold-change column")
    de_col("--padj-col", "padj_col", "DE table: adjusted p-value column")
    b.add_argument(
        "--lfc-min", type=float, default=de0.lfc_min, help="responsive if |log2FC| >= this (default %(default)s)"
    )
    b.add_argument("--padj-max", type=float, default=de0.padj_max, help="... and padj <= this (default %(default)s)")
    b.add_argument(
        "--lfc-neg-max",
        type=float,
        default=de0.lfc_neg_max,
        help="non-responsive if |log2FC| <= this (default %(default)s)",
    )
    b.add_argument(
        "--padj-neg-min", type=float, default=de0.padj_neg_min, help="... and padj >= this (default %(default)s)"
    )
    b.add_argument(
        "--direction",
        choices=["both", "up", "down"],
        default=de0.direction,
        help="which DE direction is responsive (default %(default)s)",
    )

    add_genome_options(b)
    _add_length_opts(b)
    add_alt_tss_option(b, io_defaults.ALT_TSS_DATASET)
    b.add_argument("--manifest", action="store_true", help="also write OUT.json with the build report")
    b.add_argument("--out", required=True, help="output CSV")
    b.set_defaults(func=cmd_dataset_build)
    c = ds_sub.add_parser("check", parents=[common], help="summarise a dataset table")
    c.add_argument("file", help="dataset table (CSV/TSV/XLSX)")
    c.set_defaults(func=cmd_dataset_check)

    t = sub.add_parser(
        "train",
        parents=[common],
        help="train a model and save it to a model folder",
        description="Train the DeepDifE CNN. A 'split' column in the table is honoured; otherwise genes are split "
        "by family at random (seeded).",
    )
    t.add_argument("--data", required=True, help="dataset table, or a labels table with --fasta")
    t.add_argument("--fasta", help="promoter FASTA when --data is a labels table")
    _add_length_opts(t, defaults=False)
    t.add_argument("--out", required=True, help="model folder, e.g. models/my_model")
    t.add_argument("--overwrite", action="store_true", help="replace an existing model folder")
    tc0, mc0, aug0 = TrainConfig(), ModelConfig(), AugmentConfig()

    def opt(group, flag: str, cfg, name: str, kind: type, text: str, **kw) -> None:
        """An option whose default is the config dataclass field (one source of defaults)."""
        group.add_argument(flag, type=kind, default=getattr(cfg, name), help=f"{text} (default %(default)s)", **kw)

    t.add_argument(
        "--recipe",
        choices=("default", "deepdife"),
        default="default",
        help="deepdife: DeepDifE's own network and schedule (3 convolutions + flatten, both strands, EvoAug, "
        "no chance guard); it replaces the matching options (default %(default)s)",
    )
    opt(t, "--epochs", tc0, "epochs", int, "maximum epochs")
    opt(t, "--batch-size", tc0, "batch_size", int, "batch size")
    opt(t, "--learning-rate", tc0, "learning_rate", float, "Adam learning rate")
    opt(t, "--seed", tc0, "seed", int, "random seed")
    opt(t, "--val-fraction", tc0, "val_fraction", float, "validation fraction")
    opt(t, "--test-fraction", tc0, "test_fraction", float, "test fraction")
    opt(t, "--patience", tc0, "early_stopping_patience", int, "early-stopping patience in epochs")
    opt(t, "--lr-patience", tc0, "reduce_lr_patience", int, "reduce-LR-on-plateau patience")
    opt(t, "--lr-factor", tc0, "reduce_lr_factor", float, "learning-rate factor on a plateau")
    opt(t, "--min-lr", tc0, "min_learning_rate", float, "smallest learning rate")
    opt(t, "--min-delta", tc0, "min_delta", float, "smallest improvement that resets the LR plateau")
    opt(
        t,
        "--strands",
        tc0,
        "strands",
        str,
        "forward: the promoter as given (positions anchored at the TSS); both: every gene on both strands "
        "each epoch, predictions conjoined (DeepDifE); random: one random strand per epoch",
        choices=STRANDS,
    )
    opt(t, "--monitor", tc0, "monitor", str, "what early stopping and the kept weights follow", choices=MONITORS)
    opt(t, "--chance-patience", tc0, "chance_patience", int, "epochs allowed at chance before stopping (0 = off)")
    opt(t, "--rc-augment", tc0, "rc_augment", float, "with --strands random: probability of the reverse strand")
    opt(t, "--n-conv", mc0, "n_conv", int, "convolution layers")
    opt(t, "--filters", mc0, "filters", int, "filters of the first convolution")
    opt(t, "--kernel-size", mc0, "kernel_size", int, "first convolution kernel size")
    opt(t, "--dropout", mc0, "dropout", float, "dropout rate")
    opt(
        t,
        "--first-activation",
        mc0,
        "first_activation",
        str,
        "activation of the first convolution",
        choices=FIRST_ACTIVATIONS,
    )
    opt(
        t,
        "--head",
        mc0,
        "head",
        str,
        "region_max / flatten keep motif positions; global_max ignores them",
        choices=HEADS,
    )
    opt(t, "--region-bp", mc0, "region_bp", int, "window of the region_max head in bp")
    t.add_argument(
        "--try-heads",
        default=",".join(tc0.try_heads) or "none",
        help="comma-separated heads also trained after --head with the same seed and split; the run keeps "
        "the one with the best validation loss ('none': --head only; default %(default)s)",
    )
    t.add_argument(
        "--batch-norm",
        action=argparse.BooleanOptionalAction,
        default=mc0.batch_norm,
        help="batch normalisation after convolutions and dense layers (default %(default)s)",
    )
    t.add_argument(
        "--strand-shared",
        action=argparse.BooleanOptionalAction,
        default=mc0.strand_shared,
        help="first-layer filters read both strands, positions stay TSS-anchored (default %(default)s)",
    )
    g = t.add_argument_group("EvoAug (evolution-inspired augmentation; defaults are DeepDifE's)")
    g.add_argument(
        "--evoaug",
        action=argparse.BooleanOptionalAction,
        default=aug0.enabled,
        help="EvoAug during training, then an un-augmented fine-tune (default %(default)s)",
    )
    g.add_argument(
        "--evoaug-augs",
        default=",".join(aug0.augs),
        help="comma-separated operations (also: inversion); default %(default)s",
    )
    opt(g, "--evoaug-rc", aug0, "rc_prob", float, "reverse-complement probability")
    opt(g, "--insert-max", aug0, "insert_max", int, "max inserted bases")
    opt(g, "--delete-max", aug0, "delete_max", int, "max deleted bases")
    opt(g, "--shift-max", aug0, "shift_max", int, "max translocation shift")
    opt(g, "--mutate-frac", aug0, "mutate_frac", float, "fraction of bases mutated")
    opt(g, "--noise-std", aug0, "noise_std", float, "Gaussian noise sd")
    opt(g, "--max-augs", aug0, "max_augs_per_seq", int, "augmentations per sequence")
    g.add_argument("--soft-augs", action="store_true", help="up to --max-augs per sequence instead of exactly")
    g.add_argument(
        "--finetune",
        action=argparse.BooleanOptionalAction,
        default=aug0.finetune,
        help="the un-augmented fine-tune stage after EvoAug (default %(default)s)",
    )
    opt(g, "--finetune-epochs", aug0, "finetune_epochs", int, "fine-tune epochs")
    opt(g, "--finetune-lr", aug0, "finetune_lr", float, "fine-tune learning rate")
    g = t.add_argument_group("PhyloAug (swap training genes for their orthologs)")
    g.add_argument("--orthologs", help="table gene_id<TAB>ortholog_id[<TAB>species]; turns PhyloAug on")
    g.add_argument("--ortholog-fasta", nargs="+", help="FASTA file(s) with the orthologs' promoters")
    g.add_argument(
        "--phylo-rate",
        type=float,
        default=PhyloConfig().rate,
        help="swap probability per gene and batch (default %(default)s)",
    )
    g.add_argument("--phylo-finetune", action="store_true", help="fine-tune on the original genes afterwards")
    g = t.add_argument_group("cross-validation")
    g.add_argument("--cv", type=int, default=0, help="K-fold grouped cross-validation; the folds form an ensemble")
    g.add_argument("--refit", action="store_true", help="with --cv: also train one model on all training genes")
    g = t.add_argument_group("tuned hyperparameters")
    g.add_argument(
        "--from-study",
        metavar="NAME",
        help="use the best parameters of tuning study NAME (they replace the matching options above)",
    )
    g.add_argument("--storage", help="with --from-study: the study's storage URL (default: recorded in the workspace)")
    t.set_defaults(func=cmd_train)

    pr = sub.add_parser("predict", parents=[common], help="predict probabilities with a model")
    pr.add_argument("--model", required=True, help="model folder")
    pr.add_argument("--fasta", help="promoter FASTA")
    pr.add_argument("--data", help="dataset table")
    pr.add_argument(
        "--threshold", type=float, default=StreamConfig().threshold, help="class threshold (default %(default)s)"
    )
    add_alt_tss_option(pr, io_defaults.ALT_TSS_MODEL)
    pr.add_argument("--out", required=True, help="output CSV: gene_id, probability, prediction, ...")
    pr.set_defaults(func=cmd_predict)

    ev = sub.add_parser("evaluate", parents=[common], help="metrics of a model on a labelled table (JSON on stdout)")
    ev.add_argument("--model", required=True, help="model folder")
    ev.add_argument("--data", required=True, help="dataset table, or labels table with --fasta")
    ev.add_argument("--fasta", help="promoter FASTA when --data is a labels table")
    ev.add_argument("--split", choices=["train", "val", "test"], help="evaluate only genes of this split")
    ev.add_argument("--curves", action="store_true", help="include ROC and PR curve points")
    ev.set_defaults(func=cmd_evaluate)

    il = sub.add_parser("import-legacy", parents=[common], help="import a published DeepDifE model (JSON + H5)")
    il.add_argument("--json", required=True, help="model_single.json")
    il.add_argument("--weights", required=True, help="weights_single.h5")
    il.add_argument("--out", required=True, help="model folder to create")
    il.add_argument("--overwrite", action="store_true", help="replace an existing model folder")
    il.set_defaults(func=cmd_import_legacy)

    d = sub.add_parser("demo", parents=[common], help="write the bundled synthetic demo dataset")
    d.add_argument("--out", required=True, help="output CSV (a labelled dataset table)")
    d.add_argument("--fasta", help="also write the promoters as FASTA")
    for flag, name, text in (
        ("--n-genes", "n_genes", "number of genes"),
        ("--length", "length", "sequence length"),
        ("--seed", "seed", "generator seed"),
    ):
        d.add_argument(
            flag, type=int, default=default_of(make_demo_dataset, name), help=f"{text} (default %(default)s)"
        )
    d.set_defaults(func=cmd_demo)

    cli_explain.register(sub, common)

    cli_tune.register(sub, common)

    cli_motifs.register(sub, common)

    cli_genome.register(sub, common)

    cli_experiment.register(sub, common)

    cli_variants.register(sub, common)
    return p


#: the library's words for a parameter -> the flag that sets it.  Library errors speak of values
#: (``n_trials must be >= 1, got 0``, ``... or pass overwrite=True``); :func:`flag_words` says
#: them in the command line's words (``--trials must be >= 1, got 0``, ``... or pass --overwrite``).
PARAMETER_FLAGS = {
    "n_trials": "--trials",  # run_study
    "workers must": "--workers must",  # run_study (a plain word: only as the subject of "must")
    "data=": "--data ",  # run_study / prepare_study: data=TABLE
    "storage=": "--storage ",  # storage=URL
    "another study name": "another --study name",  # run_study's name
    "orthologs=...": "--orthologs",  # the ortholog table and FASTA of a study
    "fastas=": "--ortholog-fasta ",  # read_orthologs: fastas=FILE
    "spec=jaspar-plants": "--motif-db jaspar-plants",  # load_motif_database
    "overwrite=True": "--overwrite",  # files.claim_output, train_dataset, save_model_folder, ...
    f"{DECOMPRESSED_ENV}=MB": f"{DECOMPRESSED_ENV}=MB (deepdife --max-decompressed-mb MB)",  # io: a bomb's limit
    "chrom_map": "--chrom-map",  # genome.chroms: the annotation -> FASTA chromosome names
    "upstream and downstream must": "--upstream and --downstream must",  # PromoterConfig
    "upstream + downstream is over": "--upstream + --downstream is over",
    "upstream=": "--upstream ",
    "downstream=": "--downstream ",
    "tss=": "--tss ",
    "region=": "--region ",
    "register it first (a name, the genome FASTA and its annotation)": (  # genome.registry.load_genome
        "add it with deepdife genome add --name NAME --fasta GENOME.fa --annotation GENES.gff3"
    ),
    "max_indel": "--max-indel",  # VariantConfig
    "motif_pvalue": "--motif-pvalue",
    "batch_size and genes_per_chunk must": "--batch-size and --genes-per-chunk must",
    "per_sample": "--per-sample",  # variants.run.score_variants
    "dask needs": "--dask needs",  # score_variants / variants.dask
    "dask=": "--dask ",
    "out=": "--out ",  # variants.run.write_results
    "try_heads must": "--try-heads must",  # TrainConfig
}

#: one of the keys, as a word of its own (after a space, a bracket or the start; not inside a path or flag)
_PARAMETER_WORD = re.compile(
    "|".join(
        rf"(?<![^\s(]){re.escape(key)}" + ("" if key[-1] in "=." else r"(?![\w/.-])")
        for key in sorted(PARAMETER_FLAGS, key=len, reverse=True)
    )
)


def flag_words(message: str) -> str:
    """A library message in the command line's words: its parameters named by their flags.

    Parameters
    ----------
    message : str
        The library's message, e.g. ``"n_trials must be >= 1, got 0"``.

    Returns
    -------
    str
        ``message`` with every :data:`PARAMETER_FLAGS` key replaced by its flag
        (``"--trials must be >= 1, got 0"``); text that names no parameter is unchanged.
    """
    return _PARAMETER_WORD.sub(lambda m: PARAMETER_FLAGS[m.group(0)], message)


#: errno -> what the user is told when a path of theirs cannot be used (one line, exit code 2)
_PATH_ERRNOS = {
    errno.ENAMETOOLONG: "the file name is too long; use a shorter path",
    errno.EBUSY: "the path is in use (a mount point or a folder in use); choose another --out",
    errno.ELOOP: "too many symbolic links in the path",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "is a folder, not a file",
    errno.ENOTEMPTY: "the folder is not empty; choose another --out",
    **STORAGE_ERRNOS,  # the disk full, permission denied, ...: as the library says them
}


def _set_decompression_limit(args: argparse.Namespace) -> None:
    """``--max-decompressed-mb`` as ``$DEEPDIFE_MAX_DECOMPRESSED_MB`` (seen by the readers and by workers)."""
    mb = getattr(args, "max_decompressed_mb", None)
    if mb is None:
        return
    if not 0 < mb < float("inf"):
        raise DeepDifEInputError(f"--max-decompressed-mb must be a positive number of MB, got {mb}")
    os.environ[DECOMPRESSED_ENV] = repr(float(mb))


def main(argv: list[str] | None = None) -> int:
    """Run the ``deepdife`` command line.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit code: the command's (0), 2 for an input error, a bad value or a path
        error (one line ``error: ...`` on stderr), 130 when interrupted.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    rep = Reporter(getattr(args, "quiet", False))
    try:
        _set_decompression_limit(args)
        return int(args.func(args, rep) or 0)
    except (DeepDifEError, ValueError) as exc:
        msg = flag_words(str(exc).splitlines()[0]) if str(exc) else type(exc).__name__
        if not isinstance(exc, DeepDifEError):
            msg = f"invalid value: {msg}"
        print(f"error: {msg}", file=sys.stderr)
        return 2
    except OSError as exc:
        reason = _PATH_ERRNOS.get(exc.errno)
        if reason is None:
            raise
        where = exc.filename if exc.filename is not None else ""
        print(f"error: {short_path(where)}: {reason}" if where != "" else f"error: {reason}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
