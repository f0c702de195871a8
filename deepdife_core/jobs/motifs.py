"""Background job of the Motifs page: attributions -> TF-MoDISco lite -> TOMTOM -> motif run folder.

A runner of :data:`deepdife_core.jobs.runner.RUNNERS` (kind ``"motifs"``), run inside the job
process ``python -m deepdife_core.jobs.runner run <folder>``: ``run(writer, args) -> (state, result)``.

``args``
--------
``out``             absolute path of the motif run folder to create (``workspace/motifs/<run_id>``)
``model_path``      model folder; ``model_name`` its registry name (recorded in ``run.json``)
``dataset_path``    dataset table (``data.csv``); ``dataset_name`` its name
``gene_set``        ``"all"``, ``"test"``, ``"predicted"`` or ``"list"`` (see :func:`select_genes`)
``genes``           gene IDs for ``gene_set="list"``
``motif_db``        ``"jaspar-plants"`` or the path of a MEME file; ``jaspar_release`` (optional)
``db_cache``        JASPAR MEME cache folder (``workspace/motif_db``)
``attr_cache``      attribution cache folder (``workspace/attributions``), or None for no cache
``config``          :class:`~deepdife_core.motifs.modisco.MotifConfig` fields
``explain``         :class:`~deepdife_core.interpret.explain.ExplainConfig` fields (method, n_background, seed)
``top_k``, ``trim_threshold``   TOMTOM matches per pattern (3) and CWM trimming (0.3)

Progress events (``progress.jsonl``)
------------------------------------
``{"event": "stage", "stage", "text"}`` at each step (database, model, genes, attributions,
modisco, tomtom, logos, report); ``{"event": "genes", "n_genes", "n_responsive", ...}``;
``{"event": "attributions", "done", "total", "hits"}`` after each chunk of genes; the
events of :func:`deepdife_core.motifs.modisco.run_motif_pipeline` (``modisco_start``,
``modisco_done``, ``tomtom_start``, ``logos_start``, ``done``).  :func:`summarize_progress`
turns them into a fraction and a line of text for the page.

Stop and crashes
----------------
The ``stop`` file is checked before each step, after every chunk of attributions and
at each pipeline event (TF-MoDISco itself cannot be interrupted).  The run folder is
built in a hidden temp folder beside ``out`` and renamed when complete
(:func:`deepdife_core.files.atomic_dir`), so a stopped, failed or killed job never
leaves a run in ``workspace/motifs`` (only a hidden ``.tmp-*`` folder when killed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from deepdife_core.data.encode import one_hot
from deepdife_core.data.io import load_dataset, select_records
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import check_name
from deepdife_core.interpret.explain import AttributionCache, ExplainConfig, explain
from deepdife_core.model.folder import load_model, model_data_config
from deepdife_core.motifs.modisco import MatchConfig, MotifConfig, load_motif_database, run_motif_pipeline

GENE_SETS = {
    "all": "all genes of the dataset",
    "test": "the test split",
    "predicted": "genes predicted responsive (probability >= 0.5)",
    "list": "a list of genes",
}
#: genes per attribution call between progress events / stop checks
CHUNK = {"deepshap": 32, "ism": 32, "gradxinput": 512}
#: share of the progress bar of each step (attributions dominate with DeepSHAP)
_WEIGHTS = {"prepare": 0.05, "attributions": 0.65, "modisco": 0.2, "finish": 0.1}


class _StopRequestedError(Exception):
    """Raised inside the pipeline's progress callable when a stop was requested."""


# ----------------------------------------------------------------------------- gene sets


def _test_genes(df: pd.DataFrame, model_folder: str | Path | None) -> tuple[list[str], str]:
    """Test genes: the dataset's ``split`` column, else the model's ``split.csv``."""
    if "split" in df.columns and df["split"].astype(str).eq("test").any():
        return df.loc[df["split"].astype(str) == "test", "gene_id"].tolist(), "the dataset's split column"
    split = Path(model_folder) / "split.csv" if model_folder is not None else None
    if split is None or not split.is_file():
        raise DeepDifEInputError(
            "the test split is unknown: the dataset has no 'split' column and the model folder has no split.csv "
            "(an imported model); choose all genes, predicted responsive genes or a gene list"
        )
    table = pd.read_csv(split, dtype={"gene_id": str}, keep_default_na=False)
    if "gene_id" not in table.columns or "split" not in table.columns:
        raise DeepDifEInputError(f"{split}: expected columns gene_id and split")
    return table.loc[table["split"] == "test", "gene_id"].tolist(), f"the model's split ({split.name})"


def select_genes(
    df: pd.DataFrame,
    gene_set: str,
    *,
    genes: list[str] | None = None,
    model_folder: str | Path | None = None,
    probability: np.ndarray | None = None,
) -> tuple[pd.DataFrame, str]:
    """Select the rows of the dataset ``df`` in a gene set, in the dataset's order.

    Parameters
    ----------
    df : pandas.DataFrame
        Dataset table (``gene_id``, ``label``, ``sequence``[, ``split``]).
    gene_set : str
        ``"all"``; ``"test"`` (the ``split`` column if it has test genes, else the model
        folder's ``split.csv``); ``"predicted"`` (``probability >= 0.5``); ``"list"``
        (``genes``, matched like gene lists elsewhere: gene versions and case are
        ignored; a gene ID selects all its records (alternative TSSs), a record
        identity ``GENE::Chr:start-end(strand)`` that one).
    genes : list of str, optional
        The gene IDs of ``gene_set="list"`` (blank entries ignored).
    model_folder : str or pathlib.Path, optional
        Model folder whose ``split.csv`` gives the test genes of ``gene_set="test"``
        when ``df`` has no test split.
    probability : numpy.ndarray, optional
        ``(N,)`` float predicted probabilities aligned with ``df`` (``gene_set="predicted"``).

    Returns
    -------
    selected : pandas.DataFrame
        The selected rows (index reset).
    note : str
        A sentence describing the selection (and what was missing).

    Raises
    ------
    DeepDifEInputError
        For an unknown gene set, an empty or unmatched selection, or fewer than 2 genes.
    """
    if gene_set not in GENE_SETS:
        raise DeepDifEInputError(f"gene set {gene_set!r} is not known; choose one of {', '.join(GENE_SETS)}")
    note = GENE_SETS[gene_set]
    if gene_set == "all":
        sel = df
    elif gene_set == "test":
        ids, source = _test_genes(df, model_folder)
        wanted = set(ids)
        sel = df[df["gene_id"].isin(wanted)]
        if sel.empty:
            raise DeepDifEInputError(
                f"none of the {len(wanted)} test genes of {source} is in this dataset; "
                "was the model trained on another dataset? Choose another gene set"
            )
        note = f"the {len(sel)} test genes of {source}"
    elif gene_set == "predicted":
        if probability is None or len(probability) != len(df):
            raise DeepDifEInputError("predicted responsive genes need one probability per gene of the dataset")
        sel = df[np.asarray(probability) >= 0.5]
        if sel.empty:
            raise DeepDifEInputError("the model predicts no gene of this dataset as responsive (probability >= 0.5)")
        note = f"the {len(sel)} genes predicted responsive (probability >= 0.5)"
    else:
        listed = [str(g).strip() for g in (genes or []) if str(g).strip()]
        if not listed:
            raise DeepDifEInputError("the gene list is empty; give one gene ID per line")
        sel, missing = select_records(df, listed)
        sel = df.loc[sorted(sel.index)]  # the dataset's order
        if sel.empty:
            raise DeepDifEInputError(
                f"none of the {len(set(listed))} listed genes is in the dataset (e.g. {', '.join(missing[:3])}); "
                "check that both use the same gene IDs"
            )
        note = f"{len(sel)} listed genes"
        if missing:
            note += f" ({len(missing)} not in the dataset, e.g. {', '.join(missing[:3])})"
    if len(sel) < 2:
        raise DeepDifEInputError(f"{len(sel)} gene selected; motif discovery needs many (hundreds) of genes")
    return sel.reset_index(drop=True), note


# ----------------------------------------------------------------------------- progress


@dataclass(frozen=True)
class MotifProgress:
    """What the page shows about a running job: ``fraction`` in [0, 1], a line of ``text``."""

    fraction: float
    text: str
    stage: str = ""
    n_genes: int = 0


def summarize_progress(events: list[dict]) -> MotifProgress:
    """Compute the fraction done and the current step's text from a job's ``progress.jsonl`` events.

    Parameters
    ----------
    events : list of dict
        The job's events in order (:func:`deepdife_core.jobs.runner.read_events`).

    Returns
    -------
    MotifProgress
        ``fraction`` in [0, 1] (steps weighted: prepare 5%, attributions 65%,
        TF-MoDISco 20%, finish 10%), the text of the latest step, its stage and
        the number of selected genes.
    """
    frac, text, stage, n_genes = 0.0, "Starting: loading TensorFlow and the model…", "", 0
    prep, attr, modisco = _WEIGHTS["prepare"], _WEIGHTS["attributions"], _WEIGHTS["modisco"]
    t_modisco = None
    for ev in events:
        kind = ev.get("event")
        if kind == "stage":
            stage, text = str(ev.get("stage", "")), str(ev.get("text", text))
            if stage in ("database", "model", "genes"):
                frac = max(frac, prep * {"database": 0.2, "model": 0.5, "genes": 0.8}[stage])
        elif kind == "genes":
            n_genes = int(ev.get("n_genes", 0))
            frac = max(frac, prep)
        elif kind == "attributions":
            total = max(int(ev.get("total", 1)), 1)
            done = int(ev.get("done", 0))
            frac = max(frac, prep + attr * done / total)
            text = f"Attributions ({ev.get('method', '')}): {done:,} of {total:,} genes"
            if ev.get("hits"):
                text += f" ({int(ev['hits']):,} from the cache)"
        elif kind == "modisco_start":
            frac, stage, t_modisco = max(frac, prep + attr), "modisco", ev.get("t")
            text = (
                f"TF-MoDISco: finding and clustering seqlets in {int(ev.get('n_sequences', 0)):,} sequences "
                "(no finer progress; about 30 s per 2,000 genes)"
            )
        elif kind == "modisco_done":
            frac = max(frac, prep + attr + modisco)
            text = f"TF-MoDISco found {ev.get('n_patterns', 0)} pattern(s) in {float(ev.get('seconds', 0)):.0f} s"
        elif kind == "tomtom_start":
            frac, stage = max(frac, prep + attr + modisco + 0.02), "tomtom"
            text = f"TOMTOM: matching {ev.get('n_patterns', 0)} pattern(s) to {ev.get('n_motifs', 0)} known motifs"
        elif kind == "logos_start":
            frac, stage = max(frac, prep + attr + modisco + 0.05), "logos"
            text = f"Drawing {ev.get('n_logos', 0)} logos and writing the report"
        elif kind == "done":
            frac, stage = 1.0, "done"
            text = f"Done: {ev.get('n_patterns', 0)} pattern(s)"
        elif kind == "stopping":
            text = "Stopping after the current step…"
    if stage == "modisco" and t_modisco is not None and events:
        text += f" · {time.time() - float(t_modisco):.0f} s so far"
    return MotifProgress(min(frac, 1.0), text, stage, n_genes)


# ----------------------------------------------------------------------------- runner


def _attributions(predictor, X: np.ndarray, ecfg, cache, writer) -> np.ndarray | None:
    """Hypothetical contributions ``(N, L, 4)`` in chunks (progress + stop checks); None when stopped."""
    step = CHUNK.get(ecfg.method, 64)
    parts, hits = [], 0
    for start in range(0, len(X), step):
        if writer.stop_requested():
            return None
        h0 = cache.hits if cache is not None else 0
        attr = explain(predictor, X[start : start + step], ecfg, cache=cache)
        hits += (cache.hits - h0) if cache is not None else 0
        parts.append(np.asarray(attr.hypothetical, dtype=np.float32))
        done = min(start + step, len(X))
        writer.event({"event": "attributions", "done": done, "total": len(X), "hits": hits, "method": ecfg.method})
    return np.concatenate(parts, axis=0)


def _stopped(note: str) -> tuple[str, dict]:
    return "stopped", {"run_id": None, "folder": None, "stopped": True, "note": note}


def run(writer, args: dict[str, Any]) -> tuple[str, dict]:
    """Run one motif discovery (see the module docstring for ``args`` and the events).

    Parameters
    ----------
    writer : _JobWriter
        The job's writer (events, ``stop_requested()``, ``folder``).
    args : dict
        The job's arguments (see the module docstring).

    Returns
    -------
    state : str
        ``"done"`` or ``"stopped"``.
    result : dict
        ``{"run_id", "folder", "n_patterns", "n_genes", "database", "seconds", "stopped": False}``
        when done, ``{"run_id": None, "folder": None, "stopped": True, "note"}`` when stopped.

    Raises
    ------
    DeepDifEInputError
        For missing arguments, an existing run name or a bad gene selection.
    """
    t0 = time.perf_counter()
    for key in ("out", "model_path", "dataset_path"):
        if not args.get(key):
            raise DeepDifEInputError(f"the motif job needs '{key}'")
    out = Path(args["out"])
    check_name(out.name, "motif run name")
    if out.exists():
        raise DeepDifEInputError(f"a motif run named {out.name!r} already exists; choose another name")
    cfg = MotifConfig(**(args.get("config") or {}))
    ecfg = ExplainConfig(**(args.get("explain") or {}))
    match = MatchConfig(
        top_k=int(args.get("top_k", MatchConfig.top_k)),
        trim_threshold=float(args.get("trim_threshold", MatchConfig.trim_threshold)),
    )

    # the database first: a bad MEME file fails before minutes of attributions
    writer.event({"event": "stage", "stage": "database", "text": "Loading the motif database…"})
    database = load_motif_database(
        args.get("motif_db") or "jaspar-plants", release=args.get("jaspar_release"), cache_dir=args.get("db_cache")
    )
    if writer.stop_requested():
        return _stopped("stopped before the attributions began")

    writer.event({"event": "stage", "stage": "model", "text": "Loading the model and the dataset…"})
    model_folder = Path(args["model_path"])
    predictor = load_model(model_folder)
    # fitted like the model's training sequences; labels may be of one class (e.g. only responsive genes)
    df = load_dataset(args["dataset_path"], cfg=model_data_config(predictor))

    gene_set = str(args.get("gene_set", "all"))
    writer.event({"event": "stage", "stage": "genes", "text": f"Selecting {GENE_SETS.get(gene_set, gene_set)}…"})
    probability = None
    if gene_set == "predicted":
        probability = predictor.predict(one_hot(df["sequence"].tolist()))
    sel, note = select_genes(df, gene_set, genes=args.get("genes"), model_folder=model_folder, probability=probability)
    labels = sel["label"].to_numpy(dtype=np.int64) if "label" in sel.columns else None
    writer.event(
        {
            "event": "genes",
            "n_genes": len(sel),
            "n_responsive": int((labels == 1).sum()) if labels is not None else None,
            "note": note,
        }
    )
    if writer.stop_requested():
        return _stopped("stopped before the attributions began")

    X = one_hot(sel["sequence"].tolist())
    cache = AttributionCache(args["attr_cache"]) if args.get("attr_cache") else None
    writer.event(
        {"event": "stage", "stage": "attributions", "text": f"Attributions ({ecfg.method}) of {len(sel):,} genes…"}
    )
    hyp = _attributions(predictor, X, ecfg, cache, writer)
    if hyp is None:
        return _stopped("stopped during the attributions (those computed are kept in the attribution cache)")

    def progress(event: dict) -> None:
        writer.event(event)
        if event.get("event") != "done" and writer.stop_requested():
            writer.event({"event": "stopping"})
            raise _StopRequestedError

    meta = {
        "model": args.get("model_name") or model_folder.name,
        "model_path": str(model_folder),
        "dataset": args.get("dataset_name") or Path(args["dataset_path"]).parent.name,
        "dataset_path": str(args["dataset_path"]),
        "gene_set": gene_set,
        "gene_set_note": note,
        "n_genes": len(sel),
        "attribution": f"{ecfg.method}" + (f" ({ecfg.n_background} references)" if ecfg.method == "deepshap" else ""),
        "job_id": writer.folder.name,
        "source": "dashboard",
    }
    try:
        run_ = run_motif_pipeline(
            hyp,
            X,
            sel["gene_id"].tolist(),
            out,
            labels=labels,
            config=cfg,
            database=database,
            top_k=match.top_k,
            trim_threshold=match.trim_threshold,
            meta=meta,
            progress=progress,
        )
    except _StopRequestedError:
        return _stopped("stopped during motif discovery; no run was saved")
    return "done", {
        "run_id": out.name,
        "folder": str(run_.folder),
        "n_patterns": len(run_.result.patterns),
        "n_genes": len(sel),
        "database": run_.database,
        "seconds": round(time.perf_counter() - t0, 2),
        "stopped": False,
    }
