"""Run one experiment by name, and write / read its results folder (tables, figures, run.json)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from deepdife_core.data.encode import one_hot
from deepdife_core.data.io import select_records
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.experiments import ablate, backgrounds, dose, insert, spacing, sweep, tile
from deepdife_core.experiments import plot as xplot
from deepdife_core.experiments.config import EXPERIMENTS, ExperimentConfig
from deepdife_core.files import atomic_dir, atomic_write_csv, atomic_write_json
from deepdife_core.plot.figures import save_figure

TABLE_FILE = "table.csv"
PER_GENE_FILE = "per_gene.csv"
RUN_FILE = "run.json"
FIGURE_STEM = "figure"


@dataclass
class ExperimentResult:
    """What :func:`run_experiment` returns.

    Attributes
    ----------
    kind
        One of :data:`~deepdife_core.experiments.config.EXPERIMENTS`.
    table
        The table of the CLI contract (insert / ablate: per gene; sweep, spacing, dose: per
        condition; tile: per window).
    per_gene
        Per-gene values behind a summary (sweep, spacing, dose), else None.
    info
        JSON-able description (motifs, backgrounds, config, seconds).
    """

    kind: str
    table: pd.DataFrame
    per_gene: pd.DataFrame | None = None
    info: dict = field(default_factory=dict)

    def figure(self, ax=None):
        """Draw the export figure of this result (matplotlib), as :func:`figure_of` does.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; without one a new Figure is made.

        Returns
        -------
        matplotlib.figure.Figure
            The figure of ``table`` for this result's ``kind``.
        """
        return figure_of(self.kind, self.table, ax=ax, title=self.info.get("title"))


def figure_of(kind: str, table: pd.DataFrame, ax=None, title: str | None = None):
    """The matplotlib figure of an experiment's table.

    Parameters
    ----------
    kind
        The experiment.
    table
        Its :attr:`ExperimentResult.table`.
    ax, title
        Axes to draw on (default a new figure) and a title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plots = {
        "insert": xplot.plot_insertion,
        "sweep": xplot.plot_sweep,
        "spacing": xplot.plot_spacing,
        "dose": xplot.plot_dose,
        "tile": xplot.plot_tiling,
        "ablate": xplot.plot_ablation,
    }
    if kind not in plots:
        raise DeepDifEInputError(f"unknown experiment {kind!r}; choose from {', '.join(EXPERIMENTS)}")
    return plots[kind](table, ax, title=title)


def _gene_row(df: pd.DataFrame, gene: str) -> pd.Series:
    """The one row of ``df`` that ``gene`` names: a gene with one record, or one record's identity.

    Parameters
    ----------
    df : pandas.DataFrame
        A dataset table with ``gene_id`` (record identities).
    gene : str
        A gene ID or a record identity (``GENE::Chr:start-end(strand)``, ``GENE#k``).

    Returns
    -------
    pandas.Series
        The row.

    Raises
    ------
    DeepDifEInputError
        ``gene`` is empty, not in ``df``, or a gene with several records (alternative
        TSSs); the message names its records.
    """
    if not gene:
        raise DeepDifEInputError("the tiling experiment needs a gene: give its ID")
    sel, _missing = select_records(df, [gene])
    if sel.empty:
        raise DeepDifEInputError(f"gene {gene!r} is not in the dataset; check the ID")
    if len(sel) > 1:
        raise DeepDifEInputError(
            f"gene {gene!r} has {len(sel)} records (alternative TSSs): give one of "
            f"{', '.join(map(str, sel['gene_id'][:4]))}"
        )
    return sel.iloc[0]


def run_experiment(
    kind: str,
    predictor,
    df: pd.DataFrame,
    motifs: list,
    config: ExperimentConfig | None = None,
    *,
    gene: str | None = None,
    pad_side: str = "left",
    progress=None,
    should_stop=None,
) -> ExperimentResult:
    """Run experiment ``kind`` on dataset table ``df`` (fitted to the model).

    Parameters
    ----------
    kind
        ``insert`` (one or more motifs, compared), ``sweep``, ``spacing`` (two motifs: A, B),
        ``dose``, ``tile`` (``gene``; no motif) or ``ablate`` (every gene of ``df`` of the
        background class, or all genes with ``background="all"``).
    predictor
        The model.
    df
        ``gene_id, sequence[, label, coords]``.
    motifs
        :class:`~deepdife_core.experiments.sources.MotifSource` list.
    config
        The options.
    gene, pad_side
        Tile: the gene and how the dataset was fitted (for genomic coordinates).
    progress, should_stop
        See :func:`~deepdife_core.experiments.scoring.score_lazily`.

    Returns
    -------
    ExperimentResult
    """
    cfg = config or ExperimentConfig()
    if kind not in EXPERIMENTS:
        raise DeepDifEInputError(f"unknown experiment {kind!r}; choose from {', '.join(EXPERIMENTS)}")
    need = {"insert": 1, "sweep": 1, "spacing": 2, "dose": 1, "tile": 0, "ablate": 1}[kind]
    if len(motifs) < need or (kind in ("sweep", "dose", "ablate") and len(motifs) != 1):
        raise DeepDifEInputError(
            f"the {kind} experiment needs {'two motifs (A and B)' if need == 2 else 'one motif' if need else 'no motif'}"
            f", got {len(motifs)}"
        )
    t0 = time.perf_counter()
    info: dict = {"kind": kind, "config": cfg.to_dict(), "motifs": [_motif_info(m) for m in motifs]}
    per_gene = None
    if kind == "tile":
        row = _gene_row(df, gene or "")
        x = one_hot([str(row["sequence"])])[0]
        table = tile.tile_gene(
            predictor,
            str(row["gene_id"]),
            x,
            cfg,
            coords=row.get("coords") or None,
            pad_side=pad_side,
            progress=progress,
            should_stop=should_stop,
        )
        info.update(gene=str(row["gene_id"]), title=f"{row['gene_id']}: {cfg.window}-bp windows, {cfg.mode}")
    elif kind == "ablate":
        sel = df if cfg.background in ("all", "shuffled") else df.iloc[backgrounds._class_rows(df, cfg.background)]
        labels = pd.to_numeric(sel["label"], errors="coerce").fillna(-1) if "label" in sel.columns else None
        table = ablate.ablate_motif(
            predictor,
            sel["gene_id"].astype(str).tolist(),
            one_hot(sel["sequence"].astype(str).tolist()),
            motifs[0],
            cfg,
            labels=None if labels is None else labels.to_numpy(dtype=np.int64),
            progress=progress,
            should_stop=should_stop,
        )
        info.update(
            n_genes=len(table),
            n_with_sites=int((table["n_sites"] > 0).sum()),
            n_lost=int(table["lost"].sum()),
            title=f"{motifs[0].name} sites ablated ({cfg.mode}) in {len(table)} genes",
        )
    else:
        bg = backgrounds.select_backgrounds(
            df, cfg.background, cfg.n_backgrounds, seed=cfg.seed, shuffle_of=cfg.shuffle_of
        )
        info.update(n_backgrounds=len(bg), background=cfg.background)
        kw = {"progress": progress, "should_stop": should_stop}
        if kind == "insert":
            table = insert.compare_insertions(predictor, bg, motifs, cfg, **kw)
            info["title"] = f"insertion into {len(bg)} {cfg.background} promoters"
        elif kind == "sweep":
            table, per_gene = sweep.position_sweep(predictor, bg, motifs[0], cfg, **kw)
            info["title"] = f"{motifs[0].name} every {cfg.step} bp in {len(bg)} {cfg.background} promoters"
        elif kind == "spacing":
            table, per_gene = spacing.spacing_grid(predictor, bg, motifs[0], motifs[1], cfg, **kw)
            info["title"] = f"{motifs[0].name} then {motifs[1].name}, {len(bg)} {cfg.background} promoters"
        else:
            table, per_gene = dose.dose_response(predictor, bg, motifs[0], cfg, **kw)
            info["title"] = f"copies of {motifs[0].name} in {len(bg)} {cfg.background} promoters"
    info["seconds"] = round(time.perf_counter() - t0, 3)
    return ExperimentResult(kind, table, per_gene, info)


def _motif_info(m) -> dict:
    return {"name": m.name, "kind": m.kind, "spec": m.spec, "consensus": m.consensus, "width": m.width}


def save_run(folder: str | Path, result: ExperimentResult, meta: dict | None = None, *, overwrite: bool = False):
    """Write ``table.csv``, ``per_gene.csv`` (if any), ``figure.svg``, ``figure.png`` and ``run.json`` atomically.

    Parameters
    ----------
    folder
        The results folder to create (written as a hidden temp folder, then renamed).
    result
        What :func:`run_experiment` returned.
    meta
        Added to ``run.json`` (model, dataset, job id).
    overwrite
        Replace an existing folder.

    Returns
    -------
    pathlib.Path
        The folder.
    """
    with atomic_dir(folder, overwrite=overwrite) as tmp:
        atomic_write_csv(result.table, tmp / TABLE_FILE)
        if result.per_gene is not None:
            atomic_write_csv(result.per_gene, tmp / PER_GENE_FILE)
        fig = result.figure()
        save_figure(fig, tmp / f"{FIGURE_STEM}.svg")
        save_figure(fig, tmp / f"{FIGURE_STEM}.png")
        atomic_write_json(
            tmp / RUN_FILE, {**result.info, **(meta or {}), "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
        )
    return Path(folder)


def read_run(folder: str | Path) -> ExperimentResult:
    """Read an experiment folder written by :func:`save_run`.

    Parameters
    ----------
    folder
        The folder.

    Returns
    -------
    ExperimentResult
        ``info`` is its ``run.json``.
    """
    folder = Path(folder)
    try:
        info = json.loads((folder / RUN_FILE).read_text())
        table = pd.read_csv(folder / TABLE_FILE, keep_default_na=True)
    except (OSError, ValueError) as exc:
        raise DeepDifEInputError(f"{folder.name}: not a complete experiment folder ({exc})") from exc
    per_gene = pd.read_csv(folder / PER_GENE_FILE) if (folder / PER_GENE_FILE).is_file() else None
    return ExperimentResult(str(info.get("kind")), table, per_gene, info)


def list_runs(root: str | Path) -> list[dict]:
    """The experiment folders under ``root``.

    Parameters
    ----------
    root
        E.g. ``workspace/experiments``.

    Returns
    -------
    list of dict
        ``{"id", "folder", "kind", "created", "title"}``, newest first.
    """
    root = Path(root)
    out = []
    if not root.is_dir():
        return out
    for f in root.iterdir():
        if f.name.startswith(".") or not (f / RUN_FILE).is_file():
            continue
        try:
            info = json.loads((f / RUN_FILE).read_text())
        except (OSError, ValueError):
            continue
        out.append(
            {
                "id": f.name,
                "folder": str(f),
                "kind": info.get("kind"),
                "created": info.get("created", ""),
                "title": info.get("title", ""),
            }
        )
    out.sort(key=lambda r: (r["created"], r["id"]), reverse=True)
    return out
