"""Helpers every ``deepdife`` command group shares: progress lines, output paths, model inputs.

The command modules (:mod:`.main`, :mod:`.explain`, :mod:`.motifs`, ...) import these;
this module imports none of them, so the command line has no import cycle.
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import time
from pathlib import Path

from deepdife_core.data import io
from deepdife_core.data.io import ALT_TSS_MODES, select_records
from deepdife_core.errors import DeepDifEInputError


def default_of(func, name: str):
    """The default of parameter ``name`` of ``func``: an option's default read from the function it feeds.

    Parameters
    ----------
    func : callable
        The library function the option is passed to, e.g. ``make_demo_dataset``.
    name : str
        The name of its parameter, e.g. ``"n_genes"``.

    Returns
    -------
    object
        The default in ``func``'s signature (``2000`` for ``make_demo_dataset``'s ``n_genes``).

    Raises
    ------
    KeyError
        If ``func`` has no parameter ``name``.
    ValueError
        If the parameter has no default.
    """
    value = inspect.signature(func).parameters[name].default
    if value is inspect.Parameter.empty:
        raise ValueError(f"{func.__qualname__}() has no default for {name!r}")
    return value


class Reporter:
    """Progress lines on stderr (silenced by ``--quiet``)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.t0 = time.perf_counter()

    def say(self, msg: str) -> None:
        """Print ``msg`` as one line on stderr unless quiet.

        Parameters
        ----------
        msg : str
            The line to print.
        """
        if not self.quiet:
            print(msg, file=sys.stderr, flush=True)

    def __call__(self, event: dict) -> None:
        """Print a training progress event (``start``, ``batch`` on a terminal, ``epoch``) unless quiet.

        Parameters
        ----------
        event : dict
            A progress event of :func:`deepdife_core.train.fit.train_dataset`; other kinds are ignored.
        """
        if self.quiet:
            return
        kind = event.get("event")
        if kind == "start":
            self.say(
                f"training on {event['n_train']} genes (validation {event['n_val']}, test {event['n_test']}), "
                f"up to {event['epochs']} epochs"
            )
        elif kind == "batch" and sys.stderr.isatty():
            print(
                f"\r  epoch {event['epoch']}: batch {event['batch']}/{event['n_batches']}",
                end="",
                file=sys.stderr,
                flush=True,
            )
        elif kind == "epoch":
            va = event.get("val_auroc")
            net = f"[{event['head']} {event['candidate'] + 1}/{event['n_candidates']}] " if "candidate" in event else ""
            print(
                f"\r  {net}epoch {event['epoch']}/{event['epochs']}: loss {event['loss']:.4f} "
                f"val_loss {event['val_loss']:.4f} val_auROC {va if va is None else round(va, 4)} "
                f"lr {event['lr']:.2g} ({event['seconds']:.2f} s)",
                file=sys.stderr,
                flush=True,
            )


def check_out_file(path: str) -> Path:
    """Check an ``--out`` file path before any work is done.

    Parameters
    ----------
    path : str
        The output file path.

    Returns
    -------
    pathlib.Path
        ``path`` as a Path.

    Raises
    ------
    DeepDifEInputError
        If the path is a folder, its folder does not exist, or it (or its file name) is too long.
    """
    out = Path(path)
    try:
        is_dir, parent_ok = out.is_dir(), out.parent.is_dir()
    except OSError as exc:  # e.g. ENAMETOOLONG, before any work
        raise DeepDifEInputError(f"--out {short_path(out)}: {os.strerror(exc.errno or 0)}; use a shorter path") from exc
    if is_dir:
        raise DeepDifEInputError(f"--out {out} is a folder; give a file name")
    if not parent_ok:
        raise DeepDifEInputError(f"--out {out}: folder {out.parent} does not exist")
    if len(out.name.encode()) > 255:
        raise DeepDifEInputError(f"--out {short_path(out)}: the file name is too long; use a shorter path")
    return out


def short_path(path: object, keep: int = 80) -> str:
    """Shorten a long path for a message, keeping its start and end.

    Parameters
    ----------
    path : object
        The path (anything with a ``str``).
    keep : int
        The most characters kept; longer texts keep ``keep // 2`` at each end around ``…``.

    Returns
    -------
    str
        The path, shortened when longer than ``keep``.
    """
    text = str(path)
    return text if len(text) <= keep else text[: keep // 2] + "…" + text[-keep // 2 :]


def add_alt_tss_option(p: argparse.ArgumentParser, default: str) -> None:
    """Add ``--alt-tss all|first``: what to do with genes that have several records (alternative TSSs).

    The defaults come from :mod:`deepdife_core.data.io` (``ALT_TSS_MODEL`` for commands that
    run a model, ``ALT_TSS_DATASET`` for ``dataset build``).

    Parameters
    ----------
    p : argparse.ArgumentParser
        The command's parser.
    default : str
        The option's default (one of ``ALT_TSS_MODES``).
    """
    p.add_argument(
        "--alt-tss",
        choices=ALT_TSS_MODES,
        default=default,
        help="genes listed more than once (alternative TSSs): 'all' keeps every record, named "
        "GENE::Chr:start-end(strand) (GENE#k without coordinates); 'first' keeps the first record of each "
        "gene (default %(default)s)",
    )


def model_inputs(args: argparse.Namespace, fit, rep: Reporter | None = None):
    """Read the records of ``--fasta`` or ``--data`` for a model, fitted with ``fit`` (the model's DatasetConfig).

    Genes with several records (alternative TSSs) are kept or collapsed by ``--alt-tss``
    (:func:`deepdife_core.data.io.records_from_fasta`); ``rep`` is told what was done.  A table
    needs ``gene_id`` and ``sequence``; labels are optional and may be of one class.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options with ``fasta``, ``data`` and optionally ``alt_tss``.
    fit : DatasetConfig
        How sequences are fitted (``length``, ``pad_side``).
    rep : Reporter, optional
        Told about genes with several records.

    Returns
    -------
    pandas.DataFrame
        The records (``gene_id``, ``sequence``[, ``label``]), sequences fitted to ``fit.length``.

    Raises
    ------
    DeepDifEInputError
        Unless exactly one of ``--fasta`` and ``--data`` is given, or for a bad input file.
    """
    if bool(args.fasta) == bool(args.data):
        raise DeepDifEInputError("give either --fasta or --data")
    alt = getattr(args, "alt_tss", io.ALT_TSS_MODEL)
    if args.fasta:
        df, report = io.records_from_fasta(args.fasta, length=fit.length, pad_side=fit.pad_side, alt_tss=alt)
    else:
        df, report = io.records_from_table(args.data, cfg=fit, alt_tss=alt)
    if rep is not None and report.repeated_genes:
        rep.say(report.records_note())
    return df


def select_or_fail(df, genes: list[str] | None):
    """Select the records ``--genes`` asks for (:func:`deepdife_core.data.io.select_records`), in that order.

    Parameters
    ----------
    df : pandas.DataFrame
        Records with ``gene_id``.
    genes : list of str or None
        Gene IDs or record identities (``None``: all records).

    Returns
    -------
    pandas.DataFrame
        The selected records.

    Raises
    ------
    DeepDifEInputError
        If any requested gene is not in ``df``.
    """
    sel, missing = select_records(df, genes)
    if missing:
        raise DeepDifEInputError(
            f"{len(missing)} gene(s) not in the input: {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}"
        )
    return sel
