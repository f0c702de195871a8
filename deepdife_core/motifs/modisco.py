"""Motif discovery (TF-MoDISco lite), motif databases (JASPAR, MEME files) and TOMTOM matching.

Pipeline
--------
1. :func:`discover_motifs` runs modisco-lite 3 (``modiscolite.tfmodisco.TFMoDISco``)
   on hypothetical contributions and one-hot sequences, both ``(N, L, 4)``
   channels-last (A, C, G, T) -- the layout of the Python API; modisco-lite's
   *CLI* reads channels-first ``(N, 4, L)`` npz files and transposes them.
   :meth:`MotifResult.save_hdf5` writes modisco-lite's own HDF5 layout through
   ``modiscolite.io.save_hdf5``, so ``modisco report`` reads our files.
2. :func:`match_motifs` compares the patterns with a :class:`MotifDatabase`
   (:func:`jaspar_plants` or :func:`read_meme`) with TOMTOM as implemented by
   memelite (in-process; the MEME suite binary is not needed).
3. :func:`seqlet_table` / :func:`pattern_enrichment`: where each pattern occurs
   and whether it is enriched in responsive genes.
4. :func:`run_motif_pipeline` writes a motif run folder (see ``ARCHITECTURE.md``):
   ``modisco.h5``, ``patterns.csv``, ``patterns.meme``, ``seqlets.csv``,
   ``report.html``, ``logos/`` and ``run.json``, into a temp folder renamed at the end.

CWM -> PPM trimming (used for TOMTOM, ``patterns.meme`` and the logos)
----------------------------------------------------------------------
A pattern has a CWM (mean contribution of its aligned seqlets, ``(W, 4)``) and
a PPM (mean one-hot of the same seqlets: the base frequencies of the seqlets'
sequences).  Its flanks carry little contribution, so before matching we keep
the span from the first to the last position whose total absolute
contribution ``sum_b |CWM[i, b]|`` is at least ``trim_threshold`` (default 0.3,
modisco-lite's report value) times the maximum over positions.  The query
matrix is then, with ``ppm_source="seqlets"`` (default), the PPM rows of that
span (the seqlets' base frequencies, as ``modisco report`` does); with
``ppm_source="cwm"``, the CWM rows of the span multiplied by the pattern's sign,
clipped at 0 and normalised to sum 1 per position (rows with no signal become
uniform).

Positions
---------
Seqlet ``start``/``end`` are 0-based, end-exclusive, forward-strand coordinates
of the pattern's full width (including its flanks) in the input sequence.
Promoters end at the TSS, so ``pos_from_tss = start - L`` (negative upstream).
``core_start``/``core_end`` are the trimmed span's coordinates.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import re
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import atomic_dir, atomic_write_json, atomic_write_text, write_export_csv
from deepdife_core.interpret.explain import _atomic_write_bytes
from deepdife_core.motifs.report import render_report

__all__ = [
    "DEFAULT_DB_CACHE",
    "MATCH_COLUMNS",
    "PATTERN_GROUPS",
    "SEQLET_COLUMNS",
    "LogoCache",
    "Motif",
    "MotifConfig",
    "MotifDatabase",
    "MotifResult",
    "MotifRun",
    "Pattern",
    "discover_motifs",
    "draw_cwm_logo",
    "format_meme",
    "jaspar_plants",
    "jaspar_releases",
    "load_motif_database",
    "match_motifs",
    "pattern_enrichment",
    "pattern_table",
    "patterns_to_motifs",
    "read_meme",
    "read_modisco_h5",
    "run_motif_pipeline",
    "seqlet_table",
    "trim_span",
    "write_meme",
]

Progress = Callable[[dict], None] | None

PATTERN_GROUPS = ("pos_patterns", "neg_patterns")
DEFAULT_DB_CACHE = Path("workspace") / "motif_db"

# ----------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class MatchConfig:
    """How discovered patterns are trimmed, named and matched to a motif database.

    Every function of this module that trims a CWM or matches patterns takes its
    defaults from these fields, and a motif run records them in ``run.json``.
    """

    #: TOMTOM matches kept per pattern (best first)
    top_k: int = 3
    #: a CWM position is kept when its contribution is at least this fraction of the maximum
    trim_threshold: float = 0.3
    #: the PPM TOMTOM compares: ``seqlets`` (base counts of the seqlets) or ``cwm`` (normalised CWM)
    ppm_source: str = "seqlets"

    def __post_init__(self) -> None:
        if int(self.top_k) != self.top_k or self.top_k < 1:
            raise DeepDifEInputError(f"top_k must be an integer >= 1, got {self.top_k}")
        if not 0 < self.trim_threshold < 1:
            raise DeepDifEInputError(f"trim_threshold must be in (0, 1), got {self.trim_threshold}")
        if self.ppm_source not in ("seqlets", "cwm"):
            raise DeepDifEInputError(f"ppm_source must be 'seqlets' or 'cwm', got {self.ppm_source!r}")


@dataclass(frozen=True)
class MotifConfig:
    """Parameters of a TF-MoDISco run (names follow modisco-lite's where they map one to one).

    Attributes
    ----------
    max_seqlets_per_metacluster
        Seqlets kept per sign (modisco ``-n``; default 2,000 as in modisco-lite's CLI).
    sliding_window_size
        Width of the window whose summed contribution picks seqlets (modisco ``-s``; 20).
    flank_size
        Bases added on each side of a seqlet window (modisco ``-f``; 5).
    window
        Central window of the sequences used, in bp (modisco ``-w``); ``None`` (default)
        uses the whole promoter.  Seqlet coordinates stay on the full sequence.
    n_leiden_runs
        Leiden clusterings per step (modisco ``-l``; 2).
    trim_to_window_size
        Pattern width after the first trimming (modisco ``-t``; 30).
    initial_flank_to_add, final_flank_to_add
        Flanks added to patterns (modisco ``-x`` / ``-y``; 10 / 0).
    target_seqlet_fdr
        FDR of the seqlet threshold against a Laplace null (0.05, as modisco's CLI).
    min_metacluster_size
        A sign with this many seqlets or fewer is skipped (100).
    final_min_cluster_size
        Smallest reported pattern, in seqlets (20).
    seed
        modisco-lite fixes its own random seeds (Leiden seeds ``0..n_leiden_runs-1``,
        ``RandomState(1234)`` subsamples), so the result depends on the input order only.
        ``seed`` > 0 shuffles the gene order given to modisco with this seed (which decides
        the seqlets kept under ``max_seqlets_per_metacluster`` and the Leiden node order);
        ``0`` (default) keeps the caller's order.  Seqlets always refer to the caller's order.
    """

    max_seqlets_per_metacluster: int = 2000
    sliding_window_size: int = 20
    flank_size: int = 5
    window: int | None = None
    n_leiden_runs: int = 2
    trim_to_window_size: int = 30
    initial_flank_to_add: int = 10
    final_flank_to_add: int = 0
    target_seqlet_fdr: float = 0.05
    min_metacluster_size: int = 100
    final_min_cluster_size: int = 20
    seed: int = 0

    def __post_init__(self) -> None:
        ints = {
            "max_seqlets_per_metacluster": 1,
            "sliding_window_size": 4,
            "flank_size": 0,
            "n_leiden_runs": 1,
            "trim_to_window_size": 4,
            "initial_flank_to_add": 0,
            "final_flank_to_add": 0,
            "min_metacluster_size": 1,
            "final_min_cluster_size": 1,
            "seed": 0,
        }
        for name, low in ints.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
                raise DeepDifEInputError(f"{name} must be an integer >= {low}, got {value!r}")
        if self.window is not None and (not isinstance(self.window, int | np.integer) or self.window < 1):
            raise DeepDifEInputError(f"window must be a positive number of bp or None, got {self.window!r}")
        if not 0 < self.target_seqlet_fdr < 1:
            raise DeepDifEInputError(f"target_seqlet_fdr must be in (0, 1), got {self.target_seqlet_fdr}")

    def to_dict(self) -> dict:
        """Return the fields as a JSON-able dict (recorded in ``run.json`` and ``modisco.h5``).

        Returns
        -------
        dict
            Field name -> value.
        """
        return asdict(self)


# ----------------------------------------------------------------------------- patterns


@dataclass
class Pattern:
    """One modisco pattern.

    Attributes
    ----------
    name
        ``"pos_patterns.pattern_0"`` (modisco-lite's group and pattern name).
    sign
        ``"pos"`` or ``"neg"``.
    ppm, cwm, hypothetical
        ``(W, 4)``: base frequencies of the aligned seqlets, their mean
        contribution and mean hypothetical contribution.
    seqlets
        ``example_idx, start, end, is_revcomp`` (input order, forward coordinates).
    """

    name: str
    sign: str
    ppm: np.ndarray
    cwm: np.ndarray
    hypothetical: np.ndarray
    seqlets: pd.DataFrame

    @property
    def n_seqlets(self) -> int:
        """The number of seqlets in the pattern.

        Returns
        -------
        int
            ``len(seqlets)``.
        """
        return len(self.seqlets)

    @property
    def short_name(self) -> str:
        """The short name: ``pos_0`` for ``pos_patterns.pattern_0``.

        Returns
        -------
        str
            ``<sign>_<index>``.
        """
        return f"{self.sign}_{self.name.rsplit('_', 1)[-1]}"

    def trim_span(self, threshold: float = MatchConfig.trim_threshold) -> tuple[int, int]:
        """Find ``[start, end)`` of the positions with ``sum |CWM| >= threshold * max`` (first to last).

        Parameters
        ----------
        threshold : float
            Fraction of the largest per-position contribution a kept position reaches.

        Returns
        -------
        tuple of int
            ``(start, end)`` into the pattern's ``W`` positions, end exclusive.
        """
        return trim_span(self.cwm, threshold)

    def query_ppm(
        self, threshold: float = MatchConfig.trim_threshold, source: str = MatchConfig.ppm_source
    ) -> np.ndarray:
        """Build the trimmed ``(w, 4)`` PPM used for TOMTOM and ``patterns.meme`` (see the module docstring).

        Parameters
        ----------
        threshold : float
            CWM trimming threshold (:meth:`trim_span`).
        source : str
            ``"seqlets"``: the seqlets' base frequencies; ``"cwm"``: the CWM of the pattern's
            sign clipped at 0 and normalised per position.

        Returns
        -------
        numpy.ndarray
            float64 ``(w, 4)`` rows summing to 1 (a row without signal is uniform, 0.25).

        Raises
        ------
        DeepDifEInputError
            For an unknown ``source``.
        """
        s, e = self.trim_span(threshold)
        if source == "seqlets":
            ppm = np.asarray(self.ppm[s:e], dtype=np.float64)
        elif source == "cwm":
            sgn = 1.0 if self.sign == "pos" else -1.0
            ppm = np.clip(sgn * np.asarray(self.cwm[s:e], dtype=np.float64), 0, None)
        else:
            raise DeepDifEInputError(f"ppm_source must be 'seqlets' or 'cwm', got {source!r}")
        tot = ppm.sum(axis=1, keepdims=True)
        ppm = np.where(tot > 0, ppm / np.where(tot > 0, tot, 1), 0.25)
        return ppm

    def consensus(self, threshold: float = MatchConfig.trim_threshold) -> str:
        """Give the most frequent base per trimmed position (lower case when its frequency < 0.5).

        Parameters
        ----------
        threshold : float
            CWM trimming threshold (:meth:`trim_span`).

        Returns
        -------
        str
            ``w`` letters of ``ACGTacgt``.
        """
        ppm = self.query_ppm(threshold)
        return "".join("ACGT"[j] if row[j] >= 0.5 else "acgt"[j] for row, j in zip(ppm, ppm.argmax(1), strict=True))

    def fingerprint(self) -> str:
        """Hash the pattern's CWM and name (names logo files, so a changed pattern is drawn again).

        Returns
        -------
        str
            The first 12 hex digits of a SHA-1 of the float32 CWM and the name.
        """
        h = hashlib.sha1(np.ascontiguousarray(self.cwm, dtype=np.float32).tobytes())
        h.update(self.name.encode())
        return h.hexdigest()[:12]


def trim_span(cwm: np.ndarray, threshold: float = MatchConfig.trim_threshold) -> tuple[int, int]:
    """Find the span ``[start, end)`` from the first to the last position with ``sum_b |cwm| >= threshold * max``.

    Parameters
    ----------
    cwm : numpy.ndarray
        ``(W, 4)`` contribution weight matrix.
    threshold : float
        Fraction of the largest per-position ``sum |cwm|`` a kept position reaches.

    Returns
    -------
    tuple of int
        ``(start, end)``, end exclusive; ``(0, W)`` when the CWM is all zero or empty.
    """
    score = np.abs(np.asarray(cwm, dtype=np.float64)).sum(axis=1)
    if not len(score) or score.max() <= 0:
        return 0, len(score)
    keep = np.flatnonzero(score >= threshold * score.max())
    return int(keep[0]), int(keep[-1]) + 1


@dataclass
class MotifResult:
    """Result of :func:`discover_motifs`.

    ``patterns`` lists positive patterns first, each sign in modisco's order;
    ``raw`` holds modisco-lite's objects (``None`` after :func:`read_modisco_h5`).
    """

    patterns: list[Pattern]
    config: MotifConfig
    n_sequences: int
    length: int
    n_seqlets: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    raw: tuple[Any, Any] | None = None

    def pattern(self, name: str) -> Pattern:
        """Find a pattern by its full or short name.

        Parameters
        ----------
        name : str
            ``"pos_patterns.pattern_0"`` or ``"pos_0"``.

        Returns
        -------
        Pattern
            The first pattern with that name.

        Raises
        ------
        DeepDifEInputError
            If no pattern has that name.
        """
        for p in self.patterns:
            if name in (p.name, p.short_name):
                return p
        raise DeepDifEInputError(f"no pattern {name!r}; have {', '.join(p.name for p in self.patterns) or 'none'}")

    def save_hdf5(self, path: str | Path) -> Path:
        """Write modisco-lite's HDF5 layout (``pos_patterns/pattern_0/{sequence, contrib_scores, ...}``).

        The config, number of sequences and length are added as ``deepdife_*`` attributes.

        Parameters
        ----------
        path : str or pathlib.Path
            The ``.h5`` file to write.

        Returns
        -------
        pathlib.Path
            ``path``.

        Raises
        ------
        DeepDifEInputError
            If the result was read from a file (it has no modisco-lite objects).
        """
        import h5py
        import modiscolite

        if self.raw is None:
            raise DeepDifEInputError("this result was read from a file; copy that file instead")
        path = Path(path)
        pos, neg = self.raw
        window = self.config.window or self.length
        modiscolite.io.save_hdf5(str(path), pos, neg, window)
        with h5py.File(path, "a") as fh:  # save_hdf5 leaves its handle to the garbage collector
            fh.attrs["deepdife_config"] = json.dumps(self.config.to_dict())
            fh.attrs["deepdife_n_sequences"] = self.n_sequences
            fh.attrs["deepdife_length"] = self.length
        return path


def _check_arrays(hypothetical: np.ndarray, one_hot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    hyp = np.asarray(hypothetical)
    x = np.asarray(one_hot)
    for name, a in (("hypothetical", hyp), ("one_hot", x)):
        if a.ndim != 3 or a.shape[-1] != 4:
            if a.ndim == 3 and a.shape[1] == 4:
                raise DeepDifEInputError(
                    f"{name} has shape {a.shape}: channels-first (N, 4, L) is modisco-lite's CLI layout; "
                    "give (N, L, 4) (transpose with a.transpose(0, 2, 1))"
                )
            raise DeepDifEInputError(f"{name} must be an array (N, L, 4), got shape {a.shape}")
    if hyp.shape != x.shape:
        raise DeepDifEInputError(f"hypothetical {hyp.shape} and one_hot {x.shape} differ in shape")
    if not len(x):
        raise DeepDifEInputError("no sequences to search for motifs")
    if not np.all(np.isfinite(hyp)):
        raise DeepDifEInputError("the attributions contain NaN or infinite values")
    return hyp.astype(np.float32, copy=False), x.astype(np.float32, copy=False)


def _remap_seqlets(patterns: Iterable[Any], order: np.ndarray, offset: int, seen: set[int]) -> None:
    """Map modisco's example indices/coordinates back to the caller's (each Seqlet object once)."""
    for pat in patterns or []:
        for s in pat.seqlets:
            if id(s) in seen:
                continue
            seen.add(id(s))
            s.example_idx = int(order[s.example_idx])
            s.start += offset
            s.end += offset
        if getattr(pat, "subclusters", None) is not None:
            _remap_seqlets(pat.subcluster_to_subpattern.values(), order, offset, seen)


def _pattern_from_raw(group: str, idx: int, pat: Any) -> Pattern:
    seqlets = pd.DataFrame(
        {
            "example_idx": np.array([s.example_idx for s in pat.seqlets], dtype=np.int64),
            "start": np.array([s.start for s in pat.seqlets], dtype=np.int64),
            "end": np.array([s.end for s in pat.seqlets], dtype=np.int64),
            "is_revcomp": np.array([bool(s.is_revcomp) for s in pat.seqlets], dtype=bool),
        }
    )
    return Pattern(
        name=f"{group}.pattern_{idx}",
        sign=group[:3],
        ppm=np.asarray(pat.sequence, dtype=np.float32),
        cwm=np.asarray(pat.contrib_scores, dtype=np.float32),
        hypothetical=np.asarray(pat.hypothetical_contribs, dtype=np.float32),
        seqlets=seqlets,
    )


def discover_motifs(
    hypothetical: np.ndarray,
    one_hot: np.ndarray,
    config: MotifConfig | None = None,
    *,
    progress: Progress = None,
) -> MotifResult:
    """Run modisco-lite on hypothetical contributions.

    Parameters
    ----------
    hypothetical
        ``(N, L, 4)`` hypothetical contributions (e.g. ``Attributions.hypothetical``);
        the actual contributions are ``hypothetical * one_hot``.
    one_hot
        ``(N, L, 4)`` one-hot sequences (channels A, C, G, T last).
    config
        :class:`MotifConfig`.
    progress
        Called with ``{"event": "modisco_start" | "modisco_done", ...}``.

    Returns
    -------
    MotifResult
    """
    import modiscolite

    config = config or MotifConfig()
    hyp, x = _check_arrays(hypothetical, one_hot)
    N, L, _ = x.shape
    offset = 0
    if config.window is not None and config.window < L:
        offset = (L - config.window) // 2
        hyp, x = hyp[:, offset : offset + config.window], x[:, offset : offset + config.window]
    width = x.shape[1]
    if width < config.sliding_window_size + 2 * config.flank_size:
        raise DeepDifEInputError(
            f"sequences of {width} bp are shorter than the seqlet window "
            f"({config.sliding_window_size} + 2 x {config.flank_size} flank)"
        )
    order = np.arange(N)
    if config.seed:
        order = np.random.default_rng(config.seed).permutation(N)
        hyp, x = hyp[order], x[order]
    hyp, x = np.ascontiguousarray(hyp), np.ascontiguousarray(x)
    _emit(progress, event="modisco_start", n_sequences=N, length=L, window=width)
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        pos, neg = modiscolite.tfmodisco.TFMoDISco(
            one_hot=x,
            hypothetical_contribs=hyp,
            sliding_window_size=config.sliding_window_size,
            flank_size=config.flank_size,
            min_metacluster_size=config.min_metacluster_size,
            max_seqlets_per_metacluster=config.max_seqlets_per_metacluster,
            target_seqlet_fdr=config.target_seqlet_fdr,
            n_leiden_runs=config.n_leiden_runs,
            trim_to_window_size=config.trim_to_window_size,
            initial_flank_to_add=config.initial_flank_to_add,
            final_flank_to_add=config.final_flank_to_add,
            final_min_cluster_size=config.final_min_cluster_size,
        )
    seconds = time.perf_counter() - t0
    _remap_seqlets([*(pos or []), *(neg or [])], order, offset, set())
    patterns = [_pattern_from_raw("pos_patterns", i, p) for i, p in enumerate(pos or [])]
    patterns += [_pattern_from_raw("neg_patterns", i, p) for i, p in enumerate(neg or [])]
    counts = {"pos": sum(p.n_seqlets for p in patterns if p.sign == "pos")}
    counts["neg"] = sum(p.n_seqlets for p in patterns if p.sign == "neg")
    _emit(progress, event="modisco_done", n_patterns=len(patterns), seconds=round(seconds, 2))
    return MotifResult(patterns, config, N, L, counts, seconds, (pos, neg))


def read_modisco_h5(path: str | Path) -> MotifResult:
    """Read a modisco-lite HDF5 file (ours or ``modisco motifs``'s) into a :class:`MotifResult`.

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.h5`` file.

    Returns
    -------
    MotifResult
        Its patterns (ppm, cwm, hypothetical float32 ``(W, 4)``, seqlets), the saved
        config (default without one), number of sequences and length; ``raw`` is None.

    Raises
    ------
    DeepDifEInputError
        If the file is missing, not HDF5 or lacks a pattern's datasets.
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise DeepDifEInputError(f"{path}: no such file")
    try:
        fh = h5py.File(path, "r")
    except OSError as exc:
        raise DeepDifEInputError(f"{path}: not an HDF5 file ({exc})") from None
    patterns = []
    with fh:
        for group in PATTERN_GROUPS:
            if group not in fh:
                continue
            names = sorted(fh[group].keys(), key=lambda k: int(k.rsplit("_", 1)[-1]))
            for name in names:
                g = fh[group][name]
                try:
                    s = g["seqlets"]
                    seqlets = pd.DataFrame(
                        {
                            "example_idx": np.asarray(s["example_idx"][:], dtype=np.int64),
                            "start": np.asarray(s["start"][:], dtype=np.int64),
                            "end": np.asarray(s["end"][:], dtype=np.int64),
                            "is_revcomp": np.asarray(s["is_revcomp"][:], dtype=bool),
                        }
                    )
                    patterns.append(
                        Pattern(
                            name=f"{group}.{name}",
                            sign=group[:3],
                            ppm=np.asarray(g["sequence"][:], dtype=np.float32),
                            cwm=np.asarray(g["contrib_scores"][:], dtype=np.float32),
                            hypothetical=np.asarray(g["hypothetical_contribs"][:], dtype=np.float32),
                            seqlets=seqlets,
                        )
                    )
                except KeyError as exc:
                    raise DeepDifEInputError(f"{path}: {group}/{name} lacks {exc}; not a modisco-lite file") from None
        cfg_json = fh.attrs.get("deepdife_config")
        config = MotifConfig(**json.loads(cfg_json)) if cfg_json is not None else MotifConfig()
        n = int(fh.attrs.get("deepdife_n_sequences", 0))
        length = int(fh.attrs.get("deepdife_length", fh.attrs.get("window_size", 0)))
    counts = {sign: sum(p.n_seqlets for p in patterns if p.sign == sign) for sign in ("pos", "neg")}
    return MotifResult(patterns, config, n, length, counts)


# ----------------------------------------------------------------------------- motif databases


@dataclass(frozen=True)
class Motif:
    """A database motif: ``ppm`` ``(W, 4)`` rows summing to 1 (A, C, G, T)."""

    id: str
    name: str
    ppm: np.ndarray
    tf_class: str = ""
    family: str = ""
    nsites: int | None = None

    @property
    def label(self) -> str:
        """The motif's display label: ``"<id> <name>"`` (the id alone without a distinct name).

        Returns
        -------
        str
            The label.
        """
        return f"{self.id} {self.name}".strip() if self.name and self.name != self.id else self.id


@dataclass(frozen=True)
class MotifDatabase:
    """A named list of motifs (``source``: the file or ``JASPAR2026 CORE plants``)."""

    name: str
    motifs: tuple[Motif, ...]
    source: str = ""

    def __len__(self) -> int:
        return len(self.motifs)

    def by_id(self, motif_id: str) -> Motif:
        """Find a motif by its identifier.

        Parameters
        ----------
        motif_id : str
            The motif ID (e.g. ``MA0123.1``).

        Returns
        -------
        Motif
            The first motif with that ID.

        Raises
        ------
        KeyError
            If no motif has that ID.
        """
        for m in self.motifs:
            if m.id == motif_id:
                return m
        raise KeyError(motif_id)


def _fmt(v: float) -> str:
    return f"{v:.6f}"


def format_meme(motifs: Sequence[Motif], *, background: Sequence[float] = (0.25, 0.25, 0.25, 0.25)) -> str:
    """Format ``motifs`` as MEME minimal motif format (version 4) text.

    Parameters
    ----------
    motifs : sequence of Motif
        The motifs; IDs must be non-empty and without spaces.
    background : sequence of float
        Background frequencies of A, C, G, T.

    Returns
    -------
    str
        The MEME text (``nsites`` 20 where a motif has none).

    Raises
    ------
    DeepDifEInputError
        For an empty motif ID or one with spaces.
    """
    bg = " ".join(f"{b} {_fmt(v)}" for b, v in zip("ACGT", background, strict=True))
    out = ["MEME version 4", "", "ALPHABET= ACGT", "", "strands: + -", "", "Background letter frequencies", bg, ""]
    for m in motifs:
        ppm = np.asarray(m.ppm, dtype=np.float64)
        if re.search(r"\s", m.id) or not m.id:
            raise DeepDifEInputError(f"motif ID {m.id!r} must be non-empty and contain no spaces")
        alt = f" {' '.join(m.name.split())}" if m.name and m.name != m.id else ""
        nsites = m.nsites if m.nsites else 20
        out.append(f"MOTIF {m.id}{alt}")
        out.append(f"letter-probability matrix: alength= 4 w= {len(ppm)} nsites= {nsites} E= 0")
        out.extend(" ".join(_fmt(v) for v in row) for row in ppm)
        out.append("")
    return "\n".join(out)


def write_meme(motifs: Sequence[Motif], path: str | Path, **kwargs: Any) -> Path:
    """Write ``motifs`` as a MEME file, atomically.

    Parameters
    ----------
    motifs : sequence of Motif
        The motifs.
    path : str or pathlib.Path
        The file to write.
    **kwargs
        Passed to :func:`format_meme` (``background``).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    atomic_write_text(path, format_meme(motifs, **kwargs))
    return Path(path)


_NUM = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _meme_text(source: str | Path | bytes, name: str | None) -> tuple[str, str]:
    if isinstance(source, bytes | bytearray):
        raw, label = bytes(source), name or "uploaded MEME file"
    else:
        path = Path(source)
        label = name or path.name
        if not path.is_file():
            raise DeepDifEInputError(f"{path}: no such MEME file")
        raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig"), label
    except UnicodeDecodeError:
        raise DeepDifEInputError(f"{label}: not a text file (MEME motif files are plain text)") from None


def read_meme(source: str | Path | bytes, *, name: str | None = None, tolerance: float = 0.1) -> MotifDatabase:
    """Parse a MEME (minimal) motif file: ``MOTIF id [alt name]`` + ``letter-probability matrix`` blocks.

    Rows are renormalised to sum 1; a row summing to more than ``tolerance`` away
    from 1, a non-DNA alphabet, a truncated matrix or a motif without matrix
    raise :class:`DeepDifEInputError` naming the file and line.

    Parameters
    ----------
    source : str, pathlib.Path or bytes
        A file path or the file's bytes (an upload).
    name : str, optional
        Name of the database and of the file in messages (default: the file name,
        ``"uploaded MEME file"`` for bytes).
    tolerance : float
        How far from 1 a matrix row may sum.

    Returns
    -------
    MotifDatabase
        The motifs in file order, PPMs float64 ``(W, 4)``.

    Raises
    ------
    DeepDifEInputError
        For a missing, empty, non-text or malformed file or one without motifs.
    """
    text, label = _meme_text(source, name)
    lines = text.splitlines()
    if not any(ln.strip() for ln in lines):
        raise DeepDifEInputError(f"{label}: the file is empty")
    first = next(i for i, ln in enumerate(lines) if ln.strip())
    if not lines[first].strip().startswith("MEME version"):
        raise DeepDifEInputError(
            f"{label}, line {first + 1}: expected 'MEME version ...' as the first line, got {lines[first].strip()[:40]!r}"
        )
    motifs: list[Motif] = []
    ids: set[str] = set()
    cur: dict[str, Any] | None = None  # motif being read

    def finish(lineno: int) -> None:
        if cur is None:
            return
        if cur["width"] is None:
            raise DeepDifEInputError(
                f"{label}, line {cur['line']}: MOTIF {cur['id']} has no 'letter-probability matrix' block"
            )
        if len(cur["rows"]) < cur["width"]:
            raise DeepDifEInputError(
                f"{label}, line {lineno}: MOTIF {cur['id']} is truncated: {len(cur['rows'])} of "
                f"w= {cur['width']} matrix rows"
            )
        ppm = np.asarray(cur["rows"], dtype=np.float64)
        ppm /= ppm.sum(axis=1, keepdims=True)
        motifs.append(Motif(cur["id"], cur["name"], ppm, nsites=cur["nsites"]))

    for i, raw_line in enumerate(lines):
        lineno = i + 1
        ln = raw_line.strip()
        if not ln:
            continue
        if ln.startswith("ALPHABET"):
            alpha = ln.split("=", 1)[1].strip() if "=" in ln else ""
            if alpha.split()[0:1] != ["ACGT"] and not alpha.upper().startswith("DNA"):
                raise DeepDifEInputError(
                    f"{label}, line {lineno}: alphabet {alpha[:30]!r} is not DNA; DeepDifE needs ALPHABET= ACGT"
                )
            continue
        if ln.startswith("MOTIF"):
            finish(lineno)
            parts = ln.split()
            if len(parts) < 2:
                raise DeepDifEInputError(f"{label}, line {lineno}: MOTIF without an identifier")
            mid = parts[1]
            if mid in ids:
                raise DeepDifEInputError(f"{label}, line {lineno}: motif ID {mid!r} occurs twice")
            ids.add(mid)
            cur = {"id": mid, "name": " ".join(parts[2:]), "line": lineno, "width": None, "rows": [], "nsites": None}
            continue
        if cur is None:
            continue  # header lines: strands, background, ...
        if ln.startswith("letter-probability matrix"):
            if cur["width"] is not None:
                raise DeepDifEInputError(f"{label}, line {lineno}: second matrix for MOTIF {cur['id']}")
            alen = re.search(r"alength=\s*(\d+)", ln)
            if alen and int(alen.group(1)) != 4:
                raise DeepDifEInputError(
                    f"{label}, line {lineno}: alength= {alen.group(1)}; DeepDifE needs DNA motifs (alength= 4)"
                )
            w = re.search(r"\bw=\s*(\d+)", ln)
            if not w or int(w.group(1)) < 1:
                raise DeepDifEInputError(f"{label}, line {lineno}: MOTIF {cur['id']}: matrix header lacks 'w= <width>'")
            cur["width"] = int(w.group(1))
            ns = re.search(r"nsites=\s*([0-9.eE+]+)", ln)
            with contextlib.suppress(ValueError, OverflowError):  # 'nsites= .' or 'nsites= 1e999' is just ignored
                cur["nsites"] = int(float(ns.group(1))) if ns else None
            continue
        if cur["width"] is None or len(cur["rows"]) >= cur["width"]:
            continue  # URL lines, log-odds blocks, comments between motifs
        values = ln.split()
        if not all(_NUM.match(v) for v in values):
            raise DeepDifEInputError(
                f"{label}, line {lineno}: MOTIF {cur['id']} is truncated or malformed: expected "
                f"{cur['width']} rows of 4 probabilities, got {ln[:40]!r} after {len(cur['rows'])}"
            )
        if len(values) != 4:
            raise DeepDifEInputError(
                f"{label}, line {lineno}: MOTIF {cur['id']}: {len(values)} values in a matrix row; "
                "DNA motifs need 4 (A C G T)"
            )
        row = [float(v) for v in values]
        if min(row) < 0 or abs(sum(row) - 1) > tolerance:
            raise DeepDifEInputError(
                f"{label}, line {lineno}: MOTIF {cur['id']}: row sums to {sum(row):.3f} (with negatives: "
                f"{min(row) < 0}); a letter-probability row must hold 4 probabilities summing to 1"
            )
        cur["rows"].append(row)
    finish(len(lines))
    if not motifs:
        raise DeepDifEInputError(f"{label}: no MOTIF entries found")
    return MotifDatabase(name=label, motifs=tuple(motifs), source=str(source) if not isinstance(source, bytes) else "")


def jaspar_releases() -> list[str]:
    """List the JASPAR releases shipped with pyjaspar, newest first.

    Returns
    -------
    list of str
        E.g. ``['JASPAR2026', 'JASPAR2024', ...]``.
    """
    import pyjaspar

    return sorted(pyjaspar.jaspar_releases, reverse=True)


def _release_name(release: int | str | None) -> str:
    shipped = jaspar_releases()
    if release is None:
        return shipped[0]
    text = str(release).strip().upper()
    rel = text if text.startswith("JASPAR") else f"JASPAR{text}"
    if rel not in shipped:
        raise DeepDifEInputError(
            f"JASPAR release {release!r} is not shipped; choose one of {', '.join(r[6:] for r in shipped)}"
        )
    return rel


def _fetch_jaspar(release: str, tax_group: str) -> list[Motif]:

    from pyjaspar import jaspardb

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        db = jaspardb(release=release)
        found = db.fetch_motifs(collection="CORE", tax_group=[tax_group], all_versions=False)
    motifs = []
    for m in found:
        counts = np.array([m.counts[b] for b in "ACGT"], dtype=np.float64).T
        ppm = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1e-12)
        motifs.append(
            Motif(
                id=m.matrix_id,
                name=m.name,
                ppm=ppm,
                tf_class="; ".join(m.tf_class or []),
                family="; ".join(m.tf_family or []),
                nsites=round(float(counts.sum(axis=1).max())) or None,
            )
        )
    return sorted(motifs, key=lambda m: m.id)


def jaspar_plants(
    release: int | str | None = None, *, cache_dir: str | Path | None = DEFAULT_DB_CACHE, tax_group: str = "plants"
) -> MotifDatabase:
    """Load the JASPAR CORE motifs of a taxonomic group (latest version of each matrix), offline from pyjaspar.

    The first call per release writes ``<cache_dir>/jaspar<year>_core_<group>.meme`` and a
    ``.json`` sidecar (names, TF class, family); later calls read those (~0.1 s instead of ~4 s).
    ``cache_dir=None`` skips the cache.

    Parameters
    ----------
    release : int or str, optional
        The release (``2024``, ``"JASPAR2024"``; default: the newest shipped).
    cache_dir : str or pathlib.Path, optional
        Cache folder (``workspace/motif_db``); ``None``: no cache.
    tax_group : str
        The JASPAR taxonomic group.

    Returns
    -------
    MotifDatabase
        Named ``"<release> CORE <group>"``, motifs sorted by ID with name, TF class and family.

    Raises
    ------
    DeepDifEInputError
        For a release that is not shipped or a group without motifs.
    """
    rel = _release_name(release)
    stem = f"{rel.lower()}_core_{tax_group}"
    label = f"{rel} CORE {tax_group}"
    if cache_dir is not None:
        meme, meta = Path(cache_dir) / f"{stem}.meme", Path(cache_dir) / f"{stem}.json"
        if meme.is_file() and meta.is_file():
            try:
                info = json.loads(meta.read_text())
                db = read_meme(meme)
                motifs = tuple(
                    Motif(m.id, info[m.id]["name"], m.ppm, info[m.id]["tf_class"], info[m.id]["family"], m.nsites)
                    for m in db.motifs
                )
                return MotifDatabase(label, motifs, str(meme))
            except (DeepDifEInputError, KeyError, ValueError):
                pass  # a damaged cache is rebuilt
    motifs = _fetch_jaspar(rel, tax_group)
    if not motifs:
        raise DeepDifEInputError(f"{label}: no motifs")
    if cache_dir is not None:
        write_meme(motifs, meme)
        atomic_write_json(meta, {m.id: {"name": m.name, "tf_class": m.tf_class, "family": m.family} for m in motifs})
    return MotifDatabase(label, tuple(motifs), str(meme) if cache_dir is not None else rel)


def load_motif_database(
    spec: str | Path = "jaspar-plants",
    *,
    release: int | str | None = None,
    cache_dir: str | Path | None = DEFAULT_DB_CACHE,
) -> MotifDatabase:
    """Load ``"jaspar-plants"`` (JASPAR CORE plants, ``release``) or the MEME file at ``spec``.

    Parameters
    ----------
    spec : str or pathlib.Path
        ``"jaspar-plants"`` or the path of a MEME file.
    release : int or str, optional
        The JASPAR release (only with ``"jaspar-plants"``).
    cache_dir : str or pathlib.Path, optional
        JASPAR cache folder (see :func:`jaspar_plants`).

    Returns
    -------
    MotifDatabase
        The motifs.

    Raises
    ------
    DeepDifEInputError
        For a release with a MEME file, or a path that is not a file.
    """
    if str(spec) == "jaspar-plants":
        return jaspar_plants(release, cache_dir=cache_dir)
    if release is not None:
        raise DeepDifEInputError("a JASPAR release only applies to spec=jaspar-plants")
    path = Path(spec)
    if not path.is_file():
        raise DeepDifEInputError(f"motif database {spec!r}: give 'jaspar-plants' or an existing MEME file")
    return read_meme(path)


# ----------------------------------------------------------------------------- TOMTOM


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values of each row of ``p``."""
    p = np.asarray(p, dtype=np.float64)
    n = p.shape[-1]
    order = np.argsort(p, axis=-1)
    ranked = np.take_along_axis(p, order, axis=-1) * n / np.arange(1, n + 1)
    q_sorted = np.minimum.accumulate(ranked[..., ::-1], axis=-1)[..., ::-1]
    q = np.empty_like(q_sorted)
    np.put_along_axis(q, order, np.minimum(q_sorted, 1.0), axis=-1)
    return q


MATCH_COLUMNS = [
    "pattern",
    "rank",
    "match_id",
    "match_name",
    "tf_class",
    "family",
    "pvalue",
    "evalue",
    "qvalue",
    "offset",
    "overlap",
    "strand",
]


def match_motifs(
    patterns: Sequence[Pattern],
    database: MotifDatabase,
    *,
    top_k: int = MatchConfig.top_k,
    trim_threshold: float = MatchConfig.trim_threshold,
    ppm_source: str = MatchConfig.ppm_source,
) -> pd.DataFrame:
    """Run TOMTOM (memelite, in-process) of each pattern's trimmed PPM against ``database``.

    p-values are TOMTOM's complete-score p-values; ``evalue = p * n_targets``;
    ``qvalue`` is Benjamini-Hochberg over all targets of a query (as MEME's tomtom).

    Parameters
    ----------
    patterns : sequence of Pattern
        The query patterns.
    database : MotifDatabase
        The target motifs.
    top_k : int
        Matches kept per pattern.
    trim_threshold : float
        CWM trimming threshold of the queries (:meth:`Pattern.query_ppm`).
    ppm_source : str
        ``"seqlets"`` or ``"cwm"`` (:meth:`Pattern.query_ppm`).

    Returns
    -------
    pandas.DataFrame
        ``top_k`` rows per pattern (best first), columns :data:`MATCH_COLUMNS`;
        ``strand`` is ``+`` when the target matches the pattern as given.

    Raises
    ------
    DeepDifEInputError
        If ``top_k < 1`` or the database is empty.
    """
    from memelite import tomtom

    if top_k < 1:
        raise DeepDifEInputError(f"top_k must be >= 1, got {top_k}")
    if not patterns:
        return pd.DataFrame(columns=MATCH_COLUMNS)
    if not len(database):
        raise DeepDifEInputError(f"motif database {database.name}: no motifs")
    queries = [p.query_ppm(trim_threshold, ppm_source).T.copy() for p in patterns]
    targets = [np.ascontiguousarray(m.ppm.T, dtype=np.float64) for m in database.motifs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pv, _scores, offsets, overlaps, strands = tomtom(queries, targets)
    pv = np.clip(np.nan_to_num(np.asarray(pv, dtype=np.float64), nan=1.0), 0.0, 1.0)
    qv = _bh(pv)
    k = min(top_k, len(targets))
    rows = []
    for i, pat in enumerate(patterns):
        best = np.argsort(pv[i], kind="stable")[:k]
        for rank, j in enumerate(best, start=1):
            m = database.motifs[j]
            rows.append(
                {
                    "pattern": pat.name,
                    "rank": rank,
                    "match_id": m.id,
                    "match_name": m.name,
                    "tf_class": m.tf_class,
                    "family": m.family,
                    "pvalue": float(pv[i, j]),
                    "evalue": float(pv[i, j] * len(targets)),
                    "qvalue": float(qv[i, j]),
                    "offset": int(offsets[i, j]),
                    "overlap": int(overlaps[i, j]),
                    "strand": "+" if int(strands[i, j]) == 0 else "-",
                }
            )
    return pd.DataFrame(rows, columns=MATCH_COLUMNS)


# ----------------------------------------------------------------------------- seqlets, enrichment

SEQLET_COLUMNS = [
    "pattern",
    "sign",
    "gene_id",
    "example_idx",
    "start",
    "end",
    "strand",
    "pos_from_tss",
    "core_start",
    "core_end",
    "label",
]


def seqlet_table(
    patterns: Sequence[Pattern],
    gene_ids: Sequence[str],
    *,
    length: int,
    labels: Sequence[int] | None = None,
    trim_threshold: float = MatchConfig.trim_threshold,
) -> pd.DataFrame:
    """Tabulate one row per seqlet: ``pattern, sign, gene_id, example_idx, start, end, strand, pos_from_tss, ...``.

    ``pos_from_tss = start - length`` (the promoter ends at the TSS); ``core_*`` is the
    trimmed span on forward coordinates; ``label`` is ``-1`` without labels.

    Parameters
    ----------
    patterns : sequence of Pattern
        The patterns (seqlets refer to sequences by ``example_idx``).
    gene_ids : sequence of str
        ``(N,)`` gene IDs of the sequences, in input order.
    length : int
        The promoter length ``L``.
    labels : sequence of int, optional
        ``(N,)`` 0/1 labels of the sequences.
    trim_threshold : float
        CWM trimming threshold of the ``core_*`` span.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SEQLET_COLUMNS`, patterns in the given order.

    Raises
    ------
    DeepDifEInputError
        If the labels or gene IDs do not cover the sequences the seqlets refer to.
    """
    gene_ids = np.asarray(gene_ids, dtype=object)
    lab = np.full(len(gene_ids), -1, dtype=np.int64) if labels is None else np.asarray(labels, dtype=np.int64)
    if len(lab) != len(gene_ids):
        raise DeepDifEInputError(f"{len(lab)} labels for {len(gene_ids)} genes")
    parts = []
    for p in patterns:
        s = p.seqlets
        if len(s) and s["example_idx"].max() >= len(gene_ids):
            raise DeepDifEInputError(
                f"{p.name}: seqlets refer to sequence {int(s['example_idx'].max())}, but only {len(gene_ids)} "
                "gene IDs were given"
            )
        a, b = p.trim_span(trim_threshold)
        rc = s["is_revcomp"].to_numpy(dtype=bool)
        start, end = s["start"].to_numpy(), s["end"].to_numpy()
        idx = s["example_idx"].to_numpy()
        parts.append(
            pd.DataFrame(
                {
                    "pattern": p.name,
                    "sign": p.sign,
                    "gene_id": gene_ids[idx] if len(idx) else np.array([], dtype=object),
                    "example_idx": idx,
                    "start": start,
                    "end": end,
                    "strand": np.where(rc, "-", "+"),
                    "pos_from_tss": start - int(length),
                    "core_start": np.where(rc, end - b, start + a),
                    "core_end": np.where(rc, end - a, start + b),
                    "label": lab[idx] if len(idx) else np.array([], dtype=np.int64),
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=SEQLET_COLUMNS)
    return pd.concat(parts, ignore_index=True)[SEQLET_COLUMNS]


def pattern_enrichment(seqlets: pd.DataFrame, labels: Sequence[int], patterns: Sequence[str]) -> pd.DataFrame:
    """Compare, per pattern, genes with >= 1 seqlet among responsive (label 1) vs non-responsive genes; Fisher exact test.

    Parameters
    ----------
    seqlets : pandas.DataFrame
        :func:`seqlet_table` output (``pattern``, ``example_idx``).
    labels : sequence of int
        ``(N,)`` 0/1 labels indexed by ``example_idx``.
    patterns : sequence of str
        The pattern names to test, in output order.

    Returns
    -------
    pandas.DataFrame
        ``pattern, n_genes_responsive, n_genes_nonresponsive, frac_responsive,
        frac_nonresponsive, odds_ratio, fisher_p`` (two-sided; NaN when a class is empty).
    """
    from scipy.stats import fisher_exact

    lab = np.asarray(labels, dtype=np.int64)
    n1, n0 = int((lab == 1).sum()), int((lab == 0).sum())
    rows = []
    for name in patterns:
        sel = seqlets[seqlets["pattern"] == name]
        genes = np.unique(sel["example_idx"].to_numpy())
        g_lab = lab[genes] if len(genes) else np.array([], dtype=np.int64)
        a, b = int((g_lab == 1).sum()), int((g_lab == 0).sum())
        if n1 and n0:
            res = fisher_exact([[a, n1 - a], [b, n0 - b]])
            odds, p = float(res.statistic), float(res.pvalue)
        else:
            odds, p = math.nan, math.nan
        rows.append(
            {
                "pattern": name,
                "n_genes_responsive": a,
                "n_genes_nonresponsive": b,
                "frac_responsive": a / n1 if n1 else math.nan,
                "frac_nonresponsive": b / n0 if n0 else math.nan,
                "odds_ratio": odds,
                "fisher_p": p,
            }
        )
    return pd.DataFrame(rows)


def pattern_table(
    result: MotifResult,
    matches: pd.DataFrame | None = None,
    enrichment: pd.DataFrame | None = None,
    *,
    trim_threshold: float = MatchConfig.trim_threshold,
) -> pd.DataFrame:
    """Build ``patterns.csv``: ``pattern, sign, n_seqlets, best_match_id, best_match_name, best_match_qvalue``, more.

    Parameters
    ----------
    result : MotifResult
        The discovered patterns.
    matches : pandas.DataFrame, optional
        :func:`match_motifs` output; its rank-1 match fills the ``best_match_*`` columns.
    enrichment : pandas.DataFrame, optional
        :func:`pattern_enrichment` output, merged on ``pattern``.
    trim_threshold : float
        CWM trimming threshold of ``consensus``, ``trim_start``/``trim_end`` and
        ``total_contribution``.

    Returns
    -------
    pandas.DataFrame
        One row per pattern (also ``best_match_pvalue``, ``best_match_family``,
        ``best_match_class``, ``consensus``, ``width``, ``trim_start``, ``trim_end``,
        ``total_contribution`` and the enrichment columns).
    """
    rows = []
    for p in result.patterns:
        s, e = p.trim_span(trim_threshold)
        row = {
            "pattern": p.name,
            "sign": p.sign,
            "n_seqlets": p.n_seqlets,
            "best_match_id": "",
            "best_match_name": "",
            "best_match_qvalue": math.nan,
            "best_match_pvalue": math.nan,
            "best_match_family": "",
            "best_match_class": "",
            "consensus": p.consensus(trim_threshold),
            "width": len(p.cwm),
            "trim_start": s,
            "trim_end": e,
            "total_contribution": float(p.cwm[s:e].sum()),
        }
        if matches is not None and len(matches):
            m = matches[(matches["pattern"] == p.name) & (matches["rank"] == 1)]
            if len(m):
                m = m.iloc[0]
                row.update(
                    best_match_id=m["match_id"],
                    best_match_name=m["match_name"],
                    best_match_qvalue=m["qvalue"],
                    best_match_pvalue=m["pvalue"],
                    best_match_family=m["family"],
                    best_match_class=m["tf_class"],
                )
        rows.append(row)
    df = pd.DataFrame(rows)
    if enrichment is not None and len(enrichment) and len(df):
        df = df.merge(enrichment, on="pattern", how="left")
    return df


def patterns_to_motifs(
    patterns: Sequence[Pattern], *, trim_threshold: float = MatchConfig.trim_threshold
) -> list[Motif]:
    """Turn the trimmed PPMs into :class:`Motif` objects (for ``patterns.meme``).

    Parameters
    ----------
    patterns : sequence of Pattern
        The patterns.
    trim_threshold : float
        CWM trimming threshold (:meth:`Pattern.query_ppm`).

    Returns
    -------
    list of Motif
        ID the pattern's name, name its consensus, ``nsites`` its number of seqlets.
    """
    return [
        Motif(id=p.name, name=p.consensus(trim_threshold), ppm=p.query_ppm(trim_threshold), nsites=p.n_seqlets)
        for p in patterns
    ]


# ----------------------------------------------------------------------------- logos


class LogoCache:
    """CWM logos drawn once with logomaker and kept as files under ``root`` (``logos/`` of a run).

    The file name holds the pattern name, strand and a hash of the CWM, so a
    changed pattern is drawn again.  ``drawn`` counts logos drawn by this object.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.drawn = 0

    def path(self, pattern: Pattern, strand: str = "fwd", fmt: str = "png") -> Path:
        """Build the logo file's path: pattern name, strand and CWM fingerprint.

        Parameters
        ----------
        pattern : Pattern
            The pattern.
        strand : str
            ``"fwd"`` or ``"rev"`` (reverse complement).
        fmt : str
            ``"png"`` or ``"svg"``.

        Returns
        -------
        pathlib.Path
            ``<root>/<name>.cwm.<strand>.<fingerprint>.<fmt>`` (not necessarily on disk).

        Raises
        ------
        DeepDifEInputError
            For an unknown strand or format.
        """
        if strand not in ("fwd", "rev"):
            raise DeepDifEInputError(f"strand must be 'fwd' or 'rev', got {strand!r}")
        if fmt not in ("png", "svg"):
            raise DeepDifEInputError(f"logo format must be 'png' or 'svg', got {fmt!r}")
        return self.root / f"{pattern.name}.cwm.{strand}.{pattern.fingerprint()}.{fmt}"

    def get(
        self,
        pattern: Pattern,
        strand: str = "fwd",
        fmt: str = "png",
        *,
        trim_threshold: float = MatchConfig.trim_threshold,
    ) -> Path:
        """Return the logo file, drawn now (and counted in ``drawn``) if it is not on disk yet.

        Parameters
        ----------
        pattern : Pattern
            The pattern.
        strand : str
            ``"fwd"`` or ``"rev"``.
        fmt : str
            ``"png"`` or ``"svg"``.
        trim_threshold : float
            CWM trimming threshold of the drawn span (:func:`draw_cwm_logo`).

        Returns
        -------
        pathlib.Path
            The logo file.
        """
        path = self.path(pattern, strand, fmt)
        if not path.is_file():
            data = draw_cwm_logo(pattern, strand, fmt=fmt, trim_threshold=trim_threshold)

            _atomic_write_bytes(path, data)
            self.drawn += 1
        return path

    def get_bytes(self, pattern: Pattern, strand: str = "fwd", fmt: str = "png") -> bytes:
        """Return the logo file's bytes (drawn first if needed, see :meth:`get`).

        Parameters
        ----------
        pattern, strand, fmt : Pattern, str, str
            As for :meth:`path`.

        Returns
        -------
        bytes
            The encoded image.
        """
        return self.get(pattern, strand, fmt).read_bytes()


def draw_cwm_logo(
    pattern: Pattern,
    strand: str = "fwd",
    *,
    fmt: str = "png",
    trim_threshold: float = MatchConfig.trim_threshold,
    pad: int = 4,
) -> bytes:
    """Draw the trimmed (+ ``pad`` bp) forward or reverse-complement CWM as a logomaker logo, encoded as PNG/SVG.

    Parameters
    ----------
    pattern : Pattern
        The pattern whose ``(W, 4)`` CWM is drawn.
    strand : str
        ``"fwd"`` or ``"rev"`` (reverse complement).
    fmt : str
        Image format, ``"png"`` or ``"svg"``.
    trim_threshold : float
        CWM trimming threshold (:func:`trim_span`).
    pad : int
        bp drawn on each side of the trimmed span (within the CWM).

    Returns
    -------
    bytes
        The encoded image.
    """
    import logomaker
    from matplotlib.figure import Figure

    cwm = np.asarray(pattern.cwm, dtype=np.float64)
    if strand == "rev":
        cwm = cwm[::-1, ::-1]
    s, e = trim_span(cwm, trim_threshold)
    s, e = max(s - pad, 0), min(e + pad, len(cwm))
    df = pd.DataFrame(cwm[s:e], columns=list("ACGT"))
    fig = Figure(figsize=(max(2.0, 0.22 * len(df)), 1.3), dpi=100)
    ax = fig.add_subplot(111)
    logomaker.Logo(df, ax=ax)
    ax.axhline(0, color="#888888", lw=0.5)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_xticks([])
    ax.tick_params(labelsize=6)
    lo, hi = min(df.clip(upper=0).sum(axis=1).min(), 0), max(df.clip(lower=0).sum(axis=1).max(), 1e-9)
    ax.set_ylim(lo, hi)
    fig.tight_layout(pad=0.2)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt)
    return buf.getvalue()


# ----------------------------------------------------------------------------- pipeline


def _emit(progress: Progress, **event: Any) -> None:
    if progress is not None:
        event.setdefault("time", round(time.time(), 3))
        progress(event)


@dataclass
class MotifRun:
    """What :func:`run_motif_pipeline` wrote (``folder``) and the tables it holds."""

    folder: Path
    result: MotifResult
    patterns: pd.DataFrame
    matches: pd.DataFrame
    seqlets: pd.DataFrame
    database: str


def run_motif_pipeline(
    hypothetical: np.ndarray,
    one_hot: np.ndarray,
    gene_ids: Sequence[str],
    out: str | Path,
    *,
    labels: Sequence[int] | None = None,
    config: MotifConfig | None = None,
    database: MotifDatabase | None = None,
    top_k: int = MatchConfig.top_k,
    trim_threshold: float = MatchConfig.trim_threshold,
    overwrite: bool = False,
    meta: dict | None = None,
    progress: Progress = None,
) -> MotifRun:
    """Discover, match, tabulate and report; write the run folder ``out`` atomically.

    The folder holds ``modisco.h5``, ``patterns.csv``, ``matches.csv``, ``seqlets.csv``,
    ``patterns.meme``, ``logos/`` (forward and reverse CWM logos), ``report.html`` and
    ``run.json``; it appears only when complete (:func:`deepdife_core.files.atomic_dir`).

    Parameters
    ----------
    hypothetical : numpy.ndarray
        float ``(N, L, 4)`` hypothetical contributions.
    one_hot : numpy.ndarray
        float ``(N, L, 4)`` one-hot sequences.
    gene_ids : sequence of str
        ``(N,)`` gene IDs, in the arrays' order.
    out : str or pathlib.Path
        The run folder to create.
    labels : sequence of int, optional
        ``(N,)`` 0/1 labels; with them patterns get a Fisher enrichment test.
    config : MotifConfig, optional
        TF-MoDISco settings (default: ``MotifConfig()``).
    database : MotifDatabase, optional
        Motifs to match with TOMTOM (``None``: no matches).
    top_k : int
        TOMTOM matches kept per pattern.
    trim_threshold : float
        CWM trimming threshold used throughout.
    overwrite : bool
        Replace an existing ``out``.
    meta : dict, optional
        Model, data, attribution method, ...: goes into ``run.json`` and the report header.
    progress : callable, optional
        Gets the events ``modisco_start``, ``modisco_done``, ``tomtom_start``,
        ``logos_start`` and ``done`` (each with ``time``).

    Returns
    -------
    MotifRun
        The folder, the :class:`MotifResult` and the patterns, matches and seqlets tables.

    Raises
    ------
    DeepDifEInputError
        For bad arrays or gene IDs / labels that do not match the sequences.
    """
    config = config or MotifConfig()
    gene_ids = [str(g) for g in gene_ids]
    _, x = _check_arrays(hypothetical, one_hot)
    if len(gene_ids) != len(x):
        raise DeepDifEInputError(f"{len(gene_ids)} gene IDs for {len(x)} sequences")
    if labels is not None:
        labels = np.asarray(labels, dtype=np.int64)
        if len(labels) != len(x):
            raise DeepDifEInputError(f"{len(labels)} labels for {len(x)} sequences")
    t0 = time.perf_counter()
    with atomic_dir(out, overwrite=overwrite) as tmp:
        result = discover_motifs(hypothetical, x, config, progress=progress)
        result.save_hdf5(tmp / "modisco.h5")
        _emit(progress, event="tomtom_start", n_patterns=len(result.patterns), n_motifs=len(database or ()))
        matches = (
            match_motifs(result.patterns, database, top_k=top_k, trim_threshold=trim_threshold)
            if database is not None
            else pd.DataFrame(columns=MATCH_COLUMNS)
        )
        seqlets = seqlet_table(
            result.patterns, gene_ids, length=x.shape[1], labels=labels, trim_threshold=trim_threshold
        )
        enrichment = (
            pattern_enrichment(seqlets, labels, [p.name for p in result.patterns]) if labels is not None else None
        )
        table = pattern_table(result, matches, enrichment, trim_threshold=trim_threshold)
        # tables people open in a spreadsheet: gene IDs starting with = + - @ neutralised
        # (dashboard.motif_runs reads them back restored; modisco.h5 / the report keep the raw values)
        write_export_csv(table, tmp / "patterns.csv")
        write_export_csv(matches, tmp / "matches.csv")
        write_export_csv(seqlets, tmp / "seqlets.csv")
        write_meme(patterns_to_motifs(result.patterns, trim_threshold=trim_threshold), tmp / "patterns.meme")
        _emit(progress, event="logos_start", n_logos=2 * len(result.patterns))
        logos = LogoCache(tmp / "logos")
        for p in result.patterns:
            for strand in ("fwd", "rev"):
                logos.get(p, strand, trim_threshold=trim_threshold)
        info = {
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "n_sequences": len(x),
            "length": int(x.shape[1]),
            "n_patterns": len(result.patterns),
            "modisco_seconds": round(result.seconds, 2),
            "config": config.to_dict(),
            "database": database.name if database is not None else None,
            "n_database_motifs": len(database) if database is not None else 0,
            "top_k": top_k,
            "trim_threshold": trim_threshold,
            **(meta or {}),
        }
        html = render_report(result.patterns, table, matches, seqlets, logos, info=info)
        atomic_write_text(tmp / "report.html", html)
        info["seconds"] = round(time.perf_counter() - t0, 2)
        atomic_write_json(tmp / "run.json", info)
    folder = Path(out)
    _emit(progress, event="done", folder=str(folder), n_patterns=len(result.patterns), seconds=info["seconds"])
    return MotifRun(folder, result, table, matches, seqlets, info["database"] or "")
