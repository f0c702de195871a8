"""Motif runs for the Motifs page: start discovery jobs, list and read run folders, build the page's tables.

Streamlit-free (the page caches the reads through :mod:`dashboard.cache`).  A run is a
folder ``workspace/motifs/<run_id>/`` written by :func:`deepdife_core.motifs.modisco.run_motif_pipeline`
(``modisco.h5``, ``patterns.csv``, ``matches.csv``, ``seqlets.csv``, ``patterns.meme``,
``report.html``, ``run.json``, ``logos/``); hidden folders (``.tmp-*`` of a job that
is still writing or was killed) are never listed.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pandas as pd

from dashboard import jobs as djobs
from dashboard.constants import LIVE_STATES
from dashboard.paths import attributions_dir, models_dir, motifs_dir, workspace_dir
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import atomic_write_text, check_name, read_json
from deepdife_core.interpret.explain import ExplainConfig
from deepdife_core.motifs.modisco import LogoCache, MatchConfig, MotifConfig, MotifResult, read_meme, read_modisco_h5

#: files whose modification times decide whether a cached read of a run is stale
RUN_FILES = ("run.json", "patterns.csv", "matches.csv", "seqlets.csv", "modisco.h5")
#: (file, MIME type) offered as downloads
DOWNLOADS = (
    ("report.html", "text/html"),
    ("patterns.meme", "text/plain"),
    ("patterns.csv", "text/csv"),
    ("seqlets.csv", "text/csv"),
)
SIGN_LABEL = {"pos": "positive", "neg": "negative"}


# ----------------------------------------------------------------------------- folders


def run_folder(run_id: str) -> Path:
    """Folder of motif run ``run_id`` (the name is checked, so it cannot point outside ``workspace/motifs``)."""
    return motifs_dir() / check_name(run_id, "motif run name")


def db_cache_dir() -> Path:
    """``workspace/motif_db``: the JASPAR MEME cache and uploaded MEME files."""
    path = workspace_dir() / "motif_db"
    path.mkdir(parents=True, exist_ok=True)
    return path


def run_stamp(folder: str | Path) -> float:
    """Newest modification time of a run's data files (0 when the run is gone)."""
    stamps = []
    for name in RUN_FILES:
        try:
            stamps.append((Path(folder) / name).stat().st_mtime)
        except OSError:
            continue
    return max(stamps, default=0.0)


def _model_name(value: Any) -> str:
    return Path(str(value)).name if value else ""


def list_runs() -> list[dict[str, Any]]:
    """Complete motif runs in the workspace, newest first.

    Returns
    -------
    list of dict
        ``id, folder, created, n_patterns, n_genes, model, dataset, gene_set, database, attribution``.
    """
    out = []
    for folder in motifs_dir().iterdir():
        if folder.name.startswith(".") or not folder.is_dir() or not (folder / "patterns.csv").is_file():
            continue
        info = read_json(folder / "run.json", {}) or {}
        out.append(
            {
                "id": folder.name,
                "folder": str(folder),
                "created": str(info.get("created", "")),
                "n_patterns": info.get("n_patterns"),
                "n_genes": info.get("n_genes", info.get("n_sequences")),
                "model": _model_name(info.get("model")),
                "dataset": str(info.get("dataset") or Path(str(info.get("data", ""))).name),
                "gene_set": str(info.get("gene_set", "")),
                "database": str(info.get("database") or ""),
                "attribution": str(info.get("attribution", "")),
            }
        )
    out.sort(key=lambda r: (r["created"], r["id"]), reverse=True)
    return out


def run_label(run: dict[str, Any]) -> str:
    """One line naming a run in the runs selector."""
    bits = [run["id"], f"{run['n_patterns'] if run['n_patterns'] is not None else '?'} patterns"]
    if run["model"]:
        bits.append(f"model {run['model']}")
    if run["n_genes"]:
        bits.append(f"{run['n_genes']} genes")
    if run["created"]:
        bits.append(run["created"].replace("T", " "))
    return " · ".join(bits)


# ----------------------------------------------------------------------------- reading a run


@dataclass
class RunData:
    """A motif run read from disk: ``run.json``, the tables and the patterns (CWMs, for logos)."""

    folder: str
    info: dict
    patterns: pd.DataFrame
    matches: pd.DataFrame
    seqlets: pd.DataFrame
    result: MotifResult

    @property
    def model(self) -> str:
        return _model_name(self.info.get("model"))


def _read_csv(path: Path, **kwargs: Any) -> pd.DataFrame:
    from deepdife_core.files import restore_formulas

    try:
        # the run's tables are exports (formulas neutralised): read back the raw values
        return restore_formulas(pd.read_csv(path, keep_default_na=False, na_values=[""], **kwargs))
    except pd.errors.EmptyDataError:  # a run without patterns
        return pd.DataFrame()


def read_run(folder: str | Path) -> RunData:
    """Read a motif run folder.

    Raises
    ------
    DeepDifEInputError
        The folder is gone (deleted while shown) or is not a complete motif run.
    """
    folder = Path(folder)
    if not (folder / "patterns.csv").is_file():
        raise DeepDifEInputError(f"motif run {folder.name!r} is no longer there (deleted or renamed)")
    try:
        patterns = _read_csv(folder / "patterns.csv", dtype={"pattern": str, "best_match_id": str})
        matches = _read_csv(folder / "matches.csv", dtype={"match_id": str, "match_name": str, "pattern": str})
        seqlets = _read_csv(folder / "seqlets.csv", dtype={"gene_id": str, "pattern": str})
        result = read_modisco_h5(folder / "modisco.h5")
    except FileNotFoundError:
        raise DeepDifEInputError(f"motif run {folder.name!r} is no longer there (deleted or renamed)") from None
    info = read_json(folder / "run.json", {}) or {}
    return RunData(str(folder), info, patterns, matches, seqlets, result)


# ----------------------------------------------------------------------------- starting a job


def save_uploaded_meme(data: bytes, name: str) -> tuple[Path, int]:
    """Validate an uploaded MEME file (:func:`~deepdife_core.motifs.modisco.read_meme`) and keep it for the job.

    Returns
    -------
    tuple of pathlib.Path, int
        ``workspace/motif_db/uploads/<sha>-<name>.meme`` and the number of motifs.

    Raises
    ------
    DeepDifEInputError
        The file is not a valid DNA MEME motif file (the message names the line).
    """
    db = read_meme(data, name=name)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).stem)[:60] or "motifs"
    path = db_cache_dir() / "uploads" / f"{hashlib.sha256(data).hexdigest()[:12]}-{safe}.meme"
    if not path.is_file():
        atomic_write_text(path, data.decode("utf-8-sig"))
    return path, len(db)


def list_motif_jobs() -> list[dict]:
    """Motif-discovery jobs in the workspace, newest first."""
    return djobs.list_kind("motifs")


def start_discovery(
    *,
    run_id: str,
    model_path: str | Path,
    dataset_name: str,
    dataset_path: str | Path,
    gene_set: str = "all",
    genes: list[str] | None = None,
    motif_db: str | Path = "jaspar-plants",
    jaspar_release: str | None = None,
    config: MotifConfig | None = None,
    explain: ExplainConfig | None = None,
    top_k: int = MatchConfig.top_k,
    trim_threshold: float = MatchConfig.trim_threshold,
) -> str:
    """Launch a motif-discovery job (:func:`deepdife_core.jobs.motifs.run`); returns its job id.

    Raises
    ------
    DeepDifEInputError
        Bad run name, a run (or a running job) of that name exists, or bad settings.
    """
    check_name(run_id, "motif run name")
    out = motifs_dir() / run_id
    if out.exists():
        raise DeepDifEInputError(f"a motif run named {run_id!r} already exists; choose another name")
    for job in list_motif_jobs():
        if job["state"] in LIVE_STATES and Path((job.get("args") or {}).get("out", "")).name == run_id:
            raise DeepDifEInputError(f"motif job {job['id']} is already producing a run named {run_id!r}")
    if gene_set == "list" and not genes:
        raise DeepDifEInputError("the gene list is empty; upload or paste one gene ID per line")
    explain = explain or ExplainConfig()
    args = {
        "out": str(out),
        "model_path": str(Path(model_path).resolve()),
        "model_name": Path(model_path).name,
        "dataset_name": dataset_name,
        "dataset_path": str(Path(dataset_path).resolve()),
        "gene_set": gene_set,
        "genes": list(genes) if gene_set == "list" else None,
        "motif_db": str(motif_db),
        "jaspar_release": jaspar_release if str(motif_db) == "jaspar-plants" else None,
        "db_cache": str(db_cache_dir()),
        "attr_cache": str(attributions_dir()),
        "config": (config or MotifConfig()).to_dict(),
        "explain": {"method": explain.method, "n_background": explain.n_background, "seed": explain.seed},
        "top_k": int(top_k),
        "trim_threshold": float(trim_threshold),
    }
    return djobs.start_kind("motifs", args)


def model_exists(name: str) -> bool:
    """True when ``name`` is a model folder in the registry."""
    try:
        return bool(name) and (models_dir() / check_name(name)).is_dir()
    except DeepDifEInputError:
        return False


# ----------------------------------------------------------------------------- tables for the page


def _fmt_p(value: Any) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    return "" if math.isnan(v) else f"{v:.2g}"


def _match_text(row: pd.Series) -> str:
    family = row.get("family") or row.get("tf_class") or ""
    family = "" if isinstance(family, float) else str(family)
    bits = [str(row.get("match_name") or row.get("match_id")), family, f"q={_fmt_p(row.get('qvalue'))}"]
    bits.append(str(row.get("match_id")))
    return " · ".join(b for b in bits if b)


def pattern_view(run: RunData, *, signs: tuple[str, ...] = ("pos", "neg"), max_q: float = 1.0) -> pd.DataFrame:
    """The page's pattern table (no logos yet), filtered by sign and best-match q-value.

    ``max_q >= 1`` keeps every pattern (also those without a match); otherwise a
    pattern is kept when its best match has ``q <= max_q``.

    Returns
    -------
    pandas.DataFrame
        ``pattern, sign, seqlets, consensus, match 1..3, best q, responsive genes,
        non-responsive genes, odds ratio, Fisher p``.
    """
    pats = run.patterns
    cols = ["pattern", "sign", "seqlets", "consensus", "match 1", "match 2", "match 3", "best q"]
    enrich = "fisher_p" in pats.columns
    if enrich:
        cols += ["responsive genes", "non-responsive genes", "odds ratio", "Fisher p"]
    if pats.empty:
        return pd.DataFrame(columns=cols)
    keep = pats["sign"].isin(signs)
    if max_q < 1:
        keep &= pd.to_numeric(pats["best_match_qvalue"], errors="coerce").le(max_q)
    pats = pats[keep]
    m = run.matches
    rows = []
    for _, p in pats.iterrows():
        mine = m[m["pattern"] == p["pattern"]].sort_values("rank") if len(m) else m
        texts = [_match_text(r) for _, r in mine.head(3).iterrows()]
        row = {
            "pattern": p["pattern"],
            "sign": SIGN_LABEL.get(p["sign"], p["sign"]),
            "seqlets": int(p["n_seqlets"]),
            "consensus": p.get("consensus", ""),
            **{f"match {i + 1}": texts[i] if i < len(texts) else "" for i in range(3)},
            "best q": pd.to_numeric(p.get("best_match_qvalue"), errors="coerce"),
        }
        if enrich:
            row.update(
                {
                    "responsive genes": int(p["n_genes_responsive"]),
                    "non-responsive genes": int(p["n_genes_nonresponsive"]),
                    "odds ratio": float(p["odds_ratio"]),
                    "Fisher p": float(p["fisher_p"]),
                }
            )
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)


def logo_paths(run: RunData, names: list[str]) -> dict[str, tuple[Path, Path]]:
    """Forward and reverse CWM logo files of the patterns ``names``, drawn now only if missing.

    Logos live in the run's ``logos/`` folder (:class:`~deepdife_core.motifs.modisco.LogoCache`),
    so each is drawn at most once; nothing is drawn (or created) when the run is gone.
    """
    folder = Path(run.folder)
    if not folder.is_dir():
        raise DeepDifEInputError(f"motif run {folder.name!r} is no longer there (deleted or renamed)")
    trim = float(run.info.get("trim_threshold", MatchConfig.trim_threshold))
    cache = LogoCache(folder / "logos")
    by_name = {p.name: p for p in run.result.patterns}
    return {
        n: (cache.get(by_name[n], "fwd", trim_threshold=trim), cache.get(by_name[n], "rev", trim_threshold=trim))
        for n in names
        if n in by_name
    }


def saliency_url(
    model: str,
    gene: str,
    start: int,
    end: int,
    dataset: str | None = None,
    *,
    edit: str | None = None,
    variants: str | None = None,
) -> str:
    """Relative URL of the Saliency page showing ``gene`` of ``dataset`` with ``[start, end)`` highlighted.

    The link names the dataset, so a new tab (a new session) shows the gene from
    the run's dataset, not from whichever dataset would be active there. ``edit``
    (``START-END:REF>ALT``) is a variant the page applies to the gene's promoter;
    ``variants`` names a variant run whose reference promoters are the genes' source.
    """
    params = {"model": model, "gene": gene, "hl": f"{int(start)}-{int(end)}"}
    if edit:
        params["edit"] = edit
    if variants:
        params["variants"] = variants
    if dataset:
        params["dataset"] = dataset
    return f"saliency?{urlencode(params, quote_via=quote)}"


def seqlet_view(run: RunData, pattern: str) -> pd.DataFrame:
    """Seqlets of one pattern with a ``saliency`` link (the trimmed core highlighted)."""
    s = run.seqlets
    if s.empty:
        return pd.DataFrame(columns=["gene_id", "label", "start", "end", "strand", "pos_from_tss", "core", "saliency"])
    s = s[s["pattern"] == pattern]
    out = pd.DataFrame(
        {
            "gene_id": s["gene_id"].astype(str),
            "label": s["label"].astype(int),
            "start": s["start"].astype(int),
            "end": s["end"].astype(int),
            "strand": s["strand"],
            "pos_from_tss": s["pos_from_tss"].astype(int),
            "core": [f"{a}-{b}" for a, b in zip(s["core_start"], s["core_end"], strict=True)],
            "saliency": [
                saliency_url(run.model, g, a, b, dataset=str(run.info.get("dataset") or "") or None)
                for g, a, b in zip(s["gene_id"].astype(str), s["core_start"], s["core_end"], strict=True)
            ],
        }
    )
    return out.reset_index(drop=True)


def gene_view(run: RunData, pattern: str) -> pd.DataFrame:
    """Genes carrying a pattern: seqlet count, strands, positions and a link opening the first seqlet."""
    sv = seqlet_view(run, pattern)
    cols = ["gene_id", "label", "seqlets", "strands", "positions_from_tss", "highlight", "saliency"]
    if sv.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for gene, g in sv.groupby("gene_id", sort=False):
        g = g.sort_values("start")
        rows.append(
            {
                "gene_id": gene,
                "label": int(g["label"].iloc[0]),
                "seqlets": len(g),
                "strands": "".join(g["strand"]),
                "positions_from_tss": ", ".join(str(v) for v in g["pos_from_tss"]),
                "highlight": g["core"].iloc[0],
                "saliency": g["saliency"].iloc[0],
            }
        )
    return pd.DataFrame(rows, columns=cols).sort_values(["seqlets", "gene_id"], ascending=[False, True])


def strand_balance(seqlets: pd.DataFrame) -> dict[str, float]:
    """``plus``, ``minus`` seqlet counts and the two-sided binomial p of a 50:50 balance."""
    from scipy.stats import binomtest

    plus = int((seqlets["strand"] == "+").sum()) if len(seqlets) else 0
    minus = int((seqlets["strand"] == "-").sum()) if len(seqlets) else 0
    p = float(binomtest(plus, plus + minus, 0.5).pvalue) if plus + minus else float("nan")
    return {"plus": plus, "minus": minus, "p": p}


def highlight_of(run: RunData, pattern: str, gene: str) -> tuple[int, int] | None:
    """``(core_start, core_end)`` of the first seqlet of ``pattern`` in ``gene`` (None if it has none)."""
    s = run.seqlets
    if s.empty:
        return None
    s = s[(s["pattern"] == pattern) & (s["gene_id"].astype(str) == gene)].sort_values("start")
    if s.empty:
        return None
    return int(s["core_start"].iloc[0]), int(s["core_end"].iloc[0])


def default_run_name(model: str, gene_set: str, stamp: str) -> str:
    """``<model>-<gene set>-<stamp>``, made a valid folder name."""
    name = re.sub(r"[^A-Za-z0-9._-]", "-", f"{model}-{gene_set}-{stamp}").strip("-.") or "motifs"
    return name[:100]
