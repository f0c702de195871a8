"""Saliency page: why the model calls a gene responsive, base by base, on both strands.

A gene of the active dataset (or of an uploaded FASTA) is explained with DeepSHAP,
ISM or gradient × input (:mod:`deepdife_core.interpret.explain`, cached on disk under
``workspace/attributions``), drawn as interactive letter / bar tracks with the ISM
heat map and known JASPAR plant motifs (:mod:`deepdife_core.motifs.scan`) on one shared
axis, and can be edited to see the new probability and the difference track.

One coordinate choice (promoter position, distance to the TSS, or genomic when the
record has coordinates; ``coords`` in the URL) governs the window slider, the edit
positions, the motif-hit table, the highlight, the plot axis, the exported figure's axis and the
figure downloads' file names: the page keeps
promoter positions and converts them in one place, :mod:`dashboard.coordinates`.

Deep links: ``saliency?model=NAME&gene=ID&hl=START-END`` (promoter coordinates,
0-based, end exclusive) and ``&edit=START-END:REF>ALT`` (a variant applied to the
gene's promoter, as the Variants page links it: the edit box and the difference track
show it); ``hl`` and ``edit`` are applied once and removed from the URL.
The session keys ``state.SALIENCY_GENE`` / ``SALIENCY_GENE_LIST`` / ``SALIENCY_HIGHLIGHT``
do the same from other pages.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import cache, sidebar, state, widgets
from dashboard import saliency_widgets as sw
from dashboard.coordinates import MODES, CoordinateSystem, genomic_positions, parse_coords
from dashboard.paths import attributions_dir, motif_hits_dir, workspace_dir
from deepdife_core.data import io as dio
from deepdife_core.data.encode import invalid_characters, one_hot, pad_or_trim
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import check_name, export_csv
from deepdife_core.interpret.explain import (
    AttributionCache,
    Attributions,
    ExplainConfig,
    background_spec,
    dinucleotide_shuffle,
    explain,
    model_fingerprint,
    sample_background,
)
from deepdife_core.jobs.variants import PROMOTERS_FILE
from deepdife_core.model.folder import model_data_config

METHODS = {"DeepSHAP": "deepshap", "ISM": "ism", "Gradient × input": "gradxinput"}
BACKGROUNDS = ("Dinucleotide shuffles", "Training genes (random sample)", "Uploaded FASTA")
SOURCES = ("Active dataset", "Uploaded FASTA")
AXES = MODES
PVALUES = (1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6)
DEFAULT_PVALUE = 1e-5
MAX_HITS = 60
MAX_OPTIONS = 3000
SOURCE_KEY = "w.saliency.source"
#: the last ``hl`` of the URL applied (a lagging URL does not bring a cleared highlight back)
HL_SEEN = "saliency.hl_seen"
#: a link's ``edit`` seen already, and the one waiting for its gene: ``(gene or None, (start, end, ref, alt))``
EDIT_SEEN = "saliency.edit_seen"
PENDING_EDIT = "saliency.pending_edit"
#: the variant run whose reference promoters are the gene source (a Variants page link), or None
VARIANT_RUN = "saliency.variant_run"
GENE_KEY = "w.saliency.gene"
RECORD_KEY = "w.saliency.record"
#: TensorFlow / shap state is shared by every session of the server: one explanation at a time
_LOCK = threading.Lock()
#: a file the page appends one JSON line per timed part of each script run to (``bench/bench_load.py``)
PROFILE_ENV = "DEEPDIFE_PROFILE"
_PROFILE_LOCK = threading.Lock()


# ----------------------------------------------------------------------------- small pure helpers


def _md(text: object) -> str:
    """User text (gene IDs, file names, the link's query values) made literal inside Streamlit markdown."""
    return widgets.md(text)


def _key(*parts: object) -> str:
    return hashlib.sha1("\x1f".join(map(str, parts)).encode()).hexdigest()[:12]


def parse_highlight(text: str, length: int | None = None) -> tuple[int, int]:
    """``"START-END"`` (0-based, end exclusive) -> ``(start, end)``; checked against ``length`` if given."""
    m = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", str(text))
    if m is None:
        raise DeepDifEInputError(f"highlight {text!r}: give START-END in promoter positions, e.g. hl=120-132")
    start, end = int(m[1]), int(m[2])
    return check_highlight((start, end), length)


def check_highlight(hl: object, length: int | None = None) -> tuple[int, int]:
    """A ``(start, end)`` range with ``0 <= start < end (<= length)``."""
    try:
        start, end = (int(v) for v in hl)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise DeepDifEInputError(f"highlight {hl!r}: give two positions (start, end)") from None
    if not 0 <= start < end or (length is not None and end > length):
        limit = f" within 0-{length}" if length is not None else ""
        raise DeepDifEInputError(f"highlight {start}-{end}: give START < END{limit} (0-based, end exclusive)")
    return start, end


def clean_sequence(text: str) -> str:
    """A pasted sequence without a FASTA header, white space or digits, upper case."""
    lines = [ln for ln in str(text).splitlines() if not ln.lstrip().startswith(">")]
    return re.sub(r"[\s\d]+", "", "".join(lines)).upper()


def check_variant(text: str, length: int) -> str:
    """Validate a pasted variant: DNA letters only and exactly ``length`` bp."""
    seq = clean_sequence(text)
    bad = invalid_characters(seq)
    if bad:
        n = sum(seq.count(c) for c in bad)
        raise DeepDifEInputError(
            f"variant sequence: {n} characters are not DNA (e.g. {bad[0]!r}); use A/C/G/T/N (IUPAC codes count as N)"
        )
    if len(seq) != length:
        raise DeepDifEInputError(
            f"variant sequence: {len(seq)} bp, but the model reads {length} bp; paste the whole promoter "
            "or edit single bases / ranges instead"
        )
    return seq


def apply_edit(sequence: str, start: int, end: int, replacement: str) -> str:
    """Replace ``sequence[start:end]`` by ``replacement`` (same length, or one letter repeated to fill it)."""
    rep = clean_sequence(replacement)
    if not 0 <= start < end <= len(sequence):
        raise DeepDifEInputError(f"range {start}-{end}: give 0 <= start < end <= {len(sequence)}")
    if not rep:
        raise DeepDifEInputError("give the new base(s), e.g. A, or N to mask the range")
    bad = invalid_characters(rep)
    if bad:
        raise DeepDifEInputError(f"replacement {replacement!r}: {bad[0]!r} is not DNA; use A/C/G/T/N")
    if len(rep) == 1:
        rep = rep * (end - start)
    if len(rep) != end - start:
        raise DeepDifEInputError(
            f"replacement of {len(rep)} bp for a {end - start}-bp range ({start}-{end}); give {end - start} "
            "letters or one letter to fill the range (the model's input length is fixed)"
        )
    return sequence[:start] + rep + sequence[end:]


def parse_variant_edit(text: str) -> tuple[int, int, str, str]:
    """``"START-END:REF>ALT"`` (a link's ``edit``: promoter positions, 0-based, end exclusive) -> its parts."""
    m = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*:\s*([A-Za-z]+)\s*>\s*([A-Za-z]*)\s*", str(text))
    if m is None:
        raise DeepDifEInputError(
            f"variant {text!r}: give START-END:REF>ALT in promoter positions, e.g. edit=262-263:G>A"
        )
    start, end, ref, alt = int(m[1]), int(m[2]), m[3].upper(), m[4].upper()
    if end - start != len(ref):
        raise DeepDifEInputError(f"variant {text!r}: the range {start}-{end} holds {end - start} bp, REF {len(ref)}")
    for allele in (ref, alt):
        bad = invalid_characters(allele)
        if bad:
            raise DeepDifEInputError(f"variant {text!r}: {bad[0]!r} is not DNA; use A/C/G/T/N")
    return start, end, ref, alt


def apply_variant(sequence: str, edit: tuple[int, int, str, str], *, pad_side: str) -> str:
    """``sequence`` with ``REF`` at ``[start, end)`` replaced by ``ALT``, fitted back to its length.

    An indel changes the length: the result is trimmed or N-padded on ``pad_side`` (the model's
    :class:`~deepdife_core.config.DatasetConfig`), as the variant scoring fits the edited window.
    Raises :class:`DeepDifEInputError` when the sequence does not hold ``REF`` there (another
    promoter than the one the variant was scored on).
    """
    start, end, ref, alt = edit
    if end > len(sequence) or sequence[start:end].upper() != ref:
        found = sequence[start:end] or "nothing"
        raise DeepDifEInputError(
            f"the variant {ref}>{alt} at {start}-{end}: this promoter has {found} there, not {ref} "
            "(it is not the promoter the variant was scored on); the variant was not applied"
        )
    return pad_or_trim(sequence[:start] + alt + sequence[end:], len(sequence), side=pad_side)


def changed_positions(reference: str, variant: str) -> np.ndarray:
    """Positions where two equal-length sequences differ."""
    a = np.frombuffer(reference.encode(), dtype=np.uint8)
    b = np.frombuffer(variant.encode(), dtype=np.uint8)
    return np.flatnonzero(a != b)


def deep_link(model: str, gene: str, highlight: tuple[int, int] | None = None, dataset: str | None = None) -> str:
    """The page's relative URL for a model, gene, highlighted range and (last) the dataset the gene is in."""
    params = {"model": model, "gene": gene}
    if highlight is not None:
        params["hl"] = f"{highlight[0]}-{highlight[1]}"
    if dataset:
        params["dataset"] = dataset
    return "saliency?" + urllib.parse.urlencode(params)


# ----------------------------------------------------------------------------- data


@dataclass(frozen=True)
class GeneSource:
    """Where the genes come from: ``label`` for messages, ``table`` = ``gene_id, sequence[, label, coords, split]``."""

    label: str
    table: pd.DataFrame


@dataclass(frozen=True)
class Explained:
    """Everything computed for one sequence."""

    attr: Attributions
    forward: float
    reverse: float
    ism: Attributions | None = None
    #: the model's probability is the mean of both strands (else the forward one)
    conjoin: bool = True

    @property
    def probability(self) -> float:
        return (self.forward + self.reverse) / 2.0 if self.conjoin else self.forward


def per_base_table(
    sequence: str,
    ref: Explained,
    *,
    genomic: np.ndarray | None = None,
    variant: str | None = None,
    diff: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per position: bases, contributions (both strands), hypothetical scores, ISM, variant difference."""
    a = ref.attr
    df = pd.DataFrame({"position": np.arange(len(sequence))})
    if genomic is not None:
        df["genomic"] = np.where(genomic > 0, genomic, pd.NA)
    df["base"] = list(sequence)
    df["contrib"] = a.contrib[0].sum(axis=1)
    df["contrib_forward"] = a.contrib_fwd[0].sum(axis=1)
    df["contrib_reverse"] = a.contrib_rev[0].sum(axis=1)
    for b, letter in enumerate("ACGT"):
        df[f"hypothetical_{letter}"] = a.hypothetical[0][:, b]
    if ref.ism is not None:
        for b, letter in enumerate("ACGT"):
            df[f"ism_dlogit_{letter}"] = ref.ism.hypothetical[0][:, b]
        if ref.ism.delta_probability is not None:
            for b, letter in enumerate("ACGT"):
                df[f"ism_dprob_{letter}"] = ref.ism.delta_probability[0][:, b]
    if variant is not None and diff is not None:
        df["variant_base"] = list(variant)
        df["variant_minus_reference"] = diff.sum(axis=1)
    return df


def npz_bytes(attr: Attributions, gene_id: str) -> bytes:
    """The ``deepdife explain`` npz of one gene (``gene_id, hypothetical, contrib, probability``, per-strand tracks)."""
    with tempfile.TemporaryDirectory() as tmp:
        return attr.to_npz(Path(tmp) / "attributions.npz", [gene_id]).read_bytes()


def export_figure(
    fwd: np.ndarray,
    rev: np.ndarray,
    *,
    window: tuple[int, int],
    title: str,
    diff: np.ndarray | None = None,
    sites: list[tuple[int, int]] | None = None,
    row_bp: int = 200,
    system: CoordinateSystem | None = None,
):
    """Publication figure of a window: :func:`deepdife_core.plot.figures.plot_gene` (as ``deepdife explain --plot``).

    ``window`` and ``sites`` are promoter positions; the x axis shows ``system``'s values (default: promoter
    positions, as ``deepdife explain --plot``).
    """
    from deepdife_core.plot.figures import plot_gene

    extra = {}
    if system is not None and system.mode != "promoter":
        extra = {"positions": system.values(), "xlabel": system.title}
    return plot_gene(fwd, rev, window=row_bp, span=window, diff=diff, sites=sites or (), title=title, **extra)


def figure_bytes(make: Callable[[], object], fmt: str) -> bytes:
    """Render a matplotlib figure factory to SVG / PNG bytes."""
    import io

    buf = io.BytesIO()
    make().savefig(buf, format=fmt, dpi=200 if fmt == "png" else None)
    return buf.getvalue()


def background_pool(table: pd.DataFrame, model_path: str) -> tuple[pd.DataFrame, str]:
    """The training genes of ``table`` (the model's ``split.csv``, else a ``split`` column, else all genes)."""
    split_csv = Path(model_path) / "split.csv"
    if split_csv.is_file():
        try:
            split = pd.read_csv(split_csv, dtype={"gene_id": str}, keep_default_na=False)
            train = set(split.loc[split["split"] == "train", "gene_id"])
        except (OSError, ValueError, KeyError):
            train = set()
        pool = table[table["gene_id"].isin(train)]
        if len(pool):
            return pool, "training genes of the model"
    if "split" in table.columns and (table["split"] == "train").any():
        return table[table["split"] == "train"], "genes with split 'train'"
    return table, "all genes (no training split recorded)"


# ----------------------------------------------------------------------------- profile (bench/bench_load.py)


class Profile:
    """Seconds spent in the parts of one script run of the page, for ``$DEEPDIFE_PROFILE``.

    Without the variable nothing is timed or written. With it, :meth:`write` appends one JSON line per
    part (``run``, ``gene``, ``part``, ``seconds``, ``cpu`` (CPU seconds of the script's thread: the rest of
    ``seconds`` is waiting, for the GIL, the cores or a lock), ``t_start``, ``t_end``: wall-clock seconds of
    the run) plus ``part = "script"`` for the whole page; each line is one ``write`` of an append-mode file under a
    lock, so lines of concurrent sessions do not interleave.
    """

    def __init__(self, path: str | None) -> None:
        self.path = path or None
        self.run = uuid.uuid4().hex[:12]
        self.gene: str | None = None
        self.parts: list[dict] = []
        self._t0 = time.perf_counter()
        self._cpu0 = time.thread_time()
        self._wall0 = time.time()

    @classmethod
    def from_env(cls) -> Profile:
        return cls(os.environ.get(PROFILE_ENV))

    @contextlib.contextmanager
    def part(self, name: str, **extra: object) -> Iterator[dict]:
        """Time the block as part ``name``; the yielded dict takes more fields (e.g. ``bytes``)."""
        info: dict = {"part": name, **extra}
        t, cpu = time.perf_counter(), time.thread_time()
        try:
            yield info  # fields added after the block are written too
        finally:
            if self.path is not None:
                info["seconds"] = time.perf_counter() - t
                info["cpu"] = time.thread_time() - cpu
                self.parts.append(info)

    def write(self) -> None:
        if self.path is None:
            return
        total = time.perf_counter() - self._t0
        head = {"run": self.run, "gene": self.gene, "t_start": self._wall0, "t_end": self._wall0 + total}
        script = {"part": "script", "seconds": total, "cpu": time.thread_time() - self._cpu0}
        lines = [{**head, **p} for p in [*self.parts, script]]
        text = "".join(json.dumps(line) + "\n" for line in lines)
        with _PROFILE_LOCK, contextlib.suppress(OSError), open(self.path, "a", encoding="utf-8") as fh:
            fh.write(text)


# ----------------------------------------------------------------------------- computations (TensorFlow)


def explain_sequence(
    pred,
    sequence: str,
    config: ExplainConfig,
    *,
    background: np.ndarray | None = None,
    with_ism: bool = False,
) -> Explained:
    """Attributions (disk cache), strand probabilities and optionally ISM of one sequence.

    Kept in memory for the server's sessions (a gene shown again, by anyone, is not read again), keyed by the
    predictor object, the cache folder, the sequence, the settings and the background's bytes. Attributions
    that are all on disk are read outside the TensorFlow lock, and the strand probabilities come with them
    (``Attributions.probability_fwd`` / ``_rev``), so a cached gene needs no model call and sessions reading
    cached genes do not queue behind one computing a new gene (only a cache file written before the strand
    probabilities were stored asks the model for them).
    """
    root = attributions_dir()
    bg_key = None if background is None else _figure_key(np.asarray(background))
    key = (id(pred), str(root), sequence, config, bg_key, bool(with_ism))

    def compute() -> tuple[object, Explained]:
        x = one_hot(sequence)[None]
        store = AttributionCache(root)
        ism_config = replace(config, method="ism")
        wanted = [(config, background)] + ([(ism_config, None)] if with_ism and config.method != "ism" else [])
        model_hash = model_fingerprint(pred)
        on_disk = all(store.path(model_hash, background_spec(c, b), x[0]).is_file() for c, b in wanted)
        with contextlib.nullcontext() if on_disk else _LOCK:
            attr = explain(pred, x, config, background=background, cache=store)
            ism = None
            if with_ism:
                ism = attr if config.method == "ism" else explain(pred, x, ism_config, cache=store)
        if attr.probability_fwd is not None and attr.probability_rev is not None:
            fwd, rev = attr.probability_fwd, attr.probability_rev
        else:
            with _LOCK:
                fwd, rev = pred.predict_strands(x)
        conjoin = bool(getattr(pred.config, "conjoin", True))
        return pred, Explained(attr, float(fwd[0]), float(rev[0]), ism, conjoin=conjoin)

    # the entry holds the predictor, so its id cannot name another model while the entry is kept
    return _EXPLAINED.get(key, compute)[1]


# ----------------------------------------------------------------------------- deep links


def _apply_query_params() -> None:
    """React to a link: a linked gene is shown from the active dataset; ``hl`` is applied once and removed.

    ``dataset``, ``model``, ``gene`` and ``coords`` are applied (and kept in the
    URL) by :mod:`dashboard.urlstate` for every page.
    """
    incoming = state.get(state.URL_INCOMING) or {}
    hl = st.query_params.get("hl")
    if "hl" in st.query_params:
        del st.query_params["hl"]
    if hl and hl == st.session_state.get(HL_SEEN):
        hl = None  # the browser's URL still showed a highlight applied before
    run = st.query_params.get("variants")
    if "variants" in st.query_params:
        del st.query_params["variants"]
    if "gene" in incoming or hl:  # a linked gene (a highlight's too) is shown from the active dataset
        st.session_state[SOURCE_KEY] = SOURCES[0]
        state.put(state.SALIENCY_HIGHLIGHT, None)
        # ... or from the reference promoters of the variant run the link names
        st.session_state[VARIANT_RUN] = run or None
    edit = st.query_params.get("edit")
    if "edit" in st.query_params:
        del st.query_params["edit"]
    if edit and edit == st.session_state.get(EDIT_SEEN):
        edit = None
    if edit:
        st.session_state[EDIT_SEEN] = edit
        try:
            st.session_state[PENDING_EDIT] = (incoming.get("gene"), parse_variant_edit(edit))
        except DeepDifEInputError as exc:
            st.warning(f"Ignoring the link's variant: {_md(exc)}")
    if hl:
        st.session_state[HL_SEEN] = hl
        try:
            state.put(state.SALIENCY_HIGHLIGHT, parse_highlight(hl))
            state.put(state.SALIENCY_HIGHLIGHT_GENE, incoming.get("gene") or state.get(state.SALIENCY_GENE))
        except DeepDifEInputError as exc:
            st.warning(f"Ignoring the link's highlight: {_md(exc)}")  # the message quotes the URL's value


# ----------------------------------------------------------------------------- widgets


def _no_model_message() -> None:
    st.warning(
        "No model yet: train one on the **Train** page (after loading the demo or your data on the **Data** "
        "page), or import one on the **Models** page."
    )


def _variant_run_source(run: str, length: int, pad_side: str) -> GeneSource | None:
    """The reference promoters of variant run ``run`` (its :data:`PROMOTERS_FILE`), or None (said why)."""
    try:
        path = workspace_dir() / "variants" / check_name(run, "variant run") / PROMOTERS_FILE
    except DeepDifEInputError:
        path = None
    if path is None or not path.is_file():
        st.session_state[VARIANT_RUN] = None
        st.warning(f"Variant run {_md(run)} has no reference promoters here; showing the active dataset.")
        return None
    c1, c2 = st.columns([4, 1])
    c1.caption(
        f"Genes from variant run {_md(run)}: the reference promoters its variants were scored on "
        "(cut from its genome and fitted to the model)."
    )
    c2.button(
        "Use the dataset",
        key="w.saliency.leave_variant_run",
        on_click=lambda: st.session_state.__setitem__(VARIANT_RUN, None),
        help="Show genes of the active dataset (or an uploaded FASTA) instead.",
    )
    table = None
    with widgets.user_errors():
        table = cache.fasta_sequences(path.read_bytes(), f"variant run {run}", length, pad_side)
    return None if table is None else GeneSource(f"variant run {run}", table)


def _gene_source(length: int, pad_side: str) -> GeneSource | None:
    run = st.session_state.get(VARIANT_RUN)
    if run:
        src = _variant_run_source(str(run), length, pad_side)
        if src is not None or st.session_state.get(VARIANT_RUN):
            return src
    ds = sidebar.active_dataset()
    options = SOURCES if ds is not None else SOURCES[1:]
    if st.session_state.get(SOURCE_KEY) not in options:
        st.session_state[SOURCE_KEY] = options[0]
    choice = st.radio("Genes from", options, key=SOURCE_KEY, horizontal=True)
    if ds is None:
        st.info("No dataset yet: load the demo or build one on the **Data** page, or upload a promoter FASTA here.")
    if choice == SOURCES[0] and ds is not None:
        try:
            table = cache.dataset_table(ds["path"])
        except (OSError, ValueError):
            st.error(f"Dataset {_md(ds['name'])} can no longer be read (was it deleted?); choose another one.")
            return None
        lengths = table["sequence"].str.len().unique() if len(table) else []
        if len(lengths) and int(lengths[0]) != length:
            st.error(
                f"Dataset {_md(ds['name'])} has {int(lengths[0])}-bp sequences but the model reads {length} bp: "
                "choose a matching dataset or model in the sidebar, or upload a FASTA (it is fitted to the model)."
            )
            return None
        return GeneSource(f"dataset {ds['name']}", table)
    up = st.file_uploader("Promoter FASTA", key="w.saliency.fasta")
    if up is None:
        st.caption(f"Sequences are fitted to the model's {length} bp (trimmed or N-padded on the {pad_side} side).")
        return None
    table = None
    with widgets.user_errors():
        table = cache.fasta_sequences(up.getvalue(), up.name, length, pad_side)
    if table is None:
        return None
    return GeneSource(up.name, table)


def _records_caption(groups: dict[str, list[str]]) -> None:
    """Say how many genes have several records (alternative TSSs) and how to pick one."""
    multi = [g for g, recs in groups.items() if len(recs) > 1]
    if multi:
        n = sum(len(groups[g]) for g in multi)
        st.caption(
            f"{len(multi)} genes have several records (alternative TSSs, {n} records, e.g. "
            f"{_md(multi[0])}); every record is kept: pick the gene, then its TSS."
        )


def gene_option_label(rep: str, groups: dict[str, list[str]], gene: dict[str, str]) -> str:
    """How the gene picker shows the first record ``rep`` of a gene: ``AT1G71960 (2 TSSs)`` or the ID itself."""
    n = len(groups[gene[rep]])
    return f"{gene[rep]} ({n} TSSs)" if n > 1 else rep


def record_option_label(record: str, records: list[str]) -> str:
    """How the TSS picker shows one record of a gene: its coordinates (or number) and its rank."""
    where = record.split("::", 1)[1] if "::" in record else f"record {records.index(record) + 1}"
    return f"TSS {records.index(record) + 1} of {len(records)}: {where}"


def _set_gene(gene: str) -> None:
    if gene != state.get(state.SALIENCY_GENE):
        _clear_highlight()
    state.put(state.SALIENCY_GENE, gene)


def _on_pick(widget: str) -> None:
    _set_gene(st.session_state[widget])


def _lookup(by_key: dict[str, str], q: str) -> str | None:
    """The record whose identity is ``q`` (any case), else the first record of the gene ``q``."""
    return by_key.get(str(q).strip().upper()) or by_key.get(dio.normalize_id(q))


def _on_search(by_key: dict[str, str]) -> None:
    q = str(st.session_state.get("w.saliency.search", "")).strip()
    if not q:
        return
    match = _lookup(by_key, q)
    if match is None:
        hits = [g for g in by_key.values() if q.upper() in g.upper()]
        match = hits[0] if len(hits) == 1 else None
    if match is not None:
        _set_gene(match)


def _step(delta: int) -> None:
    genes = state.get(state.SALIENCY_GENE_LIST) or []
    cur = state.get(state.SALIENCY_GENE)
    i = genes.index(cur) if cur in genes else -1
    j = min(max(i + delta, 0), len(genes) - 1)
    if genes:
        _set_gene(genes[j])


def _clear_list() -> None:
    state.put(state.SALIENCY_GENE_LIST, None)


def _gene_list_panel(ids: list[str], by_key: dict[str, str]) -> None:
    current = state.get(state.SALIENCY_GENE_LIST) or []
    with st.expander("Step through a list of genes", expanded=False, icon=":material/list:"):
        text = st.text_area("Gene IDs, one per line", key="w.saliency.list_text", height=100)
        up = st.file_uploader("…or a gene list file", type=["txt", "csv", "tsv", "list"], key="w.saliency.list_file")
        c1, c2 = st.columns(2)
        use = c1.button("Use this list", key="w.saliency.list_use", icon=":material/playlist_add_check:")
        c2.button("Clear the list", key="w.saliency.list_clear", on_click=_clear_list, disabled=not current)
        if use:
            with widgets.user_errors():
                raw = up.getvalue() if up is not None else text.encode()
                wanted = dio.read_gene_list(raw, name=up.name if up is not None else "pasted list")
                # a gene ID brings every record (TSS) of the gene, a record identity that one
                sel, missing = dio.select_records(pd.DataFrame({"gene_id": ids}), wanted)
                found = sel["gene_id"].tolist()
                if not found:
                    raise DeepDifEInputError(
                        f"none of the {len(wanted)} listed genes is among the {len(ids)} genes shown here; "
                        "check the IDs and the gene source"
                    )
                if missing:
                    st.warning(
                        f"{len(missing)} listed genes are not here and are skipped (e.g. "
                        f"{_md(', '.join(missing[:5]))})."
                    )
                state.put(state.SALIENCY_GENE_LIST, found)
                _set_gene(found[0])


def _pick_gene(src: GeneSource) -> pd.Series | None:
    """Search box, suggestions, list stepping; returns the chosen row of the gene table."""
    table = src.table
    ids = table["gene_id"].astype(str).tolist()
    if not ids:
        st.warning(f"{_md(src.label)} has no genes.")
        return None
    by_key = {dio.normalize_id(g): g for g in reversed(ids)}  # first occurrence wins
    by_key.update({g.upper(): g for g in ids})  # a record identity (GENE::Chr:start-end(strand)) picks itself
    groups = dio.record_groups(ids)  # alternative TSSs: one gene, several records
    gene = {r: g for g, recs in groups.items() for r in recs}
    first = {r: groups[gene[r]][0] for r in ids}
    _records_caption(groups)
    _gene_list_panel(ids, by_key)
    cur = state.get(state.SALIENCY_GENE)
    if cur not in set(ids):
        match = _lookup(by_key, cur) if cur else None
        if cur and match is None:
            st.warning(f"Gene {_md(cur)} is not in {_md(src.label)}; showing {_md(ids[0])} instead.")
        cur = match or ids[0]
        state.put(state.SALIENCY_GENE, cur)
    labels = dict(zip(table["gene_id"], table["label"], strict=True)) if "label" in table.columns else {}
    c1, c2 = st.columns([1, 2])
    q = c1.text_input(
        "Search by gene ID",
        key="w.saliency.search",
        placeholder="ID or part of one",
        on_change=_on_search,
        args=(by_key,),
        help="Type a gene ID (versions and '::location' suffixes are ignored) or a part of one; "
        "the list on the right shows the matches.",
    )
    options = [recs[0] for recs in groups.values()]  # one entry per gene: its first record
    if q.strip():
        options = list(dict.fromkeys(first[g] for g in ids if q.strip().upper() in g.upper()))
        if not options:
            c1.caption(f"No gene ID contains {_md(q.strip())}.")
    if len(options) > MAX_OPTIONS:
        c1.caption(f"Showing the first {MAX_OPTIONS} of {len(options)} genes; refine the search.")
        options = options[:MAX_OPTIONS]
    if first[cur] not in options:
        options = [first[cur], *options]
    # one fixed key whose value follows the page's gene: a key that changed with the gene would leave stale
    # widgets in the browser whose old values could fire on_change later
    st.session_state[GENE_KEY] = first[cur]
    c2.selectbox(
        f"Gene ({len(ids)} in {_md(src.label)})",
        options,
        key=GENE_KEY,
        on_change=_on_pick,
        args=(GENE_KEY,),
        format_func=lambda g: gene_option_label(g, groups, gene) + (f" · label {labels[g]}" if g in labels else ""),
    )
    records = groups[gene[cur]]
    if len(records) > 1:  # the gene's alternative TSSs: pick one record
        st.session_state[RECORD_KEY] = cur
        c2.selectbox(
            f"TSS of {gene[cur]} ({len(records)} records)",
            records,
            key=RECORD_KEY,
            on_change=_on_pick,
            args=(RECORD_KEY,),
            format_func=lambda r: record_option_label(r, records),
        )
    genes = state.get(state.SALIENCY_GENE_LIST) or []
    genes = [g for g in genes if g in set(ids)]
    if genes:
        i = genes.index(cur) if cur in genes else -1
        b1, b2, b3 = st.columns([1, 1, 4])
        b1.button(
            "Previous", key="w.saliency.prev", on_click=_step, args=(-1,), disabled=i <= 0, icon=":material/arrow_back:"
        )
        b2.button(
            "Next",
            key="w.saliency.next",
            on_click=_step,
            args=(1,),
            disabled=i >= len(genes) - 1,
            icon=":material/arrow_forward:",
        )
        b3.caption(f"Gene {i + 1} of {len(genes)} in the list" if i >= 0 else f"{len(genes)} genes in the list")
    return table.iloc[ids.index(cur)]


def _background(method: str, src: GeneSource, model_path: str, length: int, pad_side: str):
    """The DeepSHAP background chosen in the settings: ``(array or None, description)``."""
    if method != "deepshap":
        return None, ""
    choice = st.session_state.get("w.saliency.background", BACKGROUNDS[0])
    n = int(st.session_state.get("w.saliency.n_background", 100))
    if choice == BACKGROUNDS[1]:
        pool, what = background_pool(src.table, model_path)
        bg = sample_background(one_hot(pool["sequence"].tolist()), n, seed=0)
        return bg, f"{len(bg)} random {what} of {src.label}"
    if choice == BACKGROUNDS[2]:
        up = st.session_state.get("w.saliency.bg_fasta")
        if up is None:
            raise DeepDifEInputError("upload a background FASTA, or choose another DeepSHAP background")
        seqs = cache.fasta_sequences(up.getvalue(), up.name, length, pad_side)
        x = one_hot(seqs["sequence"].tolist())
        bg = sample_background(x, n, seed=0) if len(x) > n else x
        return bg, f"{len(bg)} sequences of {up.name}"
    return None, f"{n} dinucleotide shuffles of the gene"


def _settings(has_coords: bool) -> dict:
    """Method, background, view and motif settings (values live in their widget keys)."""
    with st.expander("Method and display", expanded=False, icon=":material/tune:"):
        c1, c2, c3 = st.columns(3)
        method = METHODS[
            c1.radio(
                "Attribution method",
                list(METHODS),
                key="w.saliency.method",
                horizontal=True,
                help="DeepSHAP: exact per-base shares of the logit; ISM: effect of every single-base change; "
                "gradient × input: a fast first look.",
            )
        ]
        if method == "deepshap":
            bg = c1.radio("DeepSHAP references", BACKGROUNDS, key="w.saliency.background")
            c1.number_input("Number of references", 10, 500, 100, 10, key="w.saliency.n_background")
            if bg == BACKGROUNDS[2]:
                c1.file_uploader("Background FASTA", key="w.saliency.bg_fasta")
        view = c2.radio("Track", ["Letters", "Bars"], key="w.saliency.view", horizontal=True)
        axes = [k for k in AXES if k != "genomic" or has_coords]
        # the choice is the session's (kept in the URL); a gene without coordinates shows promoter positions
        chosen = state.get(state.SALIENCY_COORDS) or "promoter"
        st.session_state["w.saliency.axis"] = chosen if chosen in axes else "promoter"
        axis = c2.radio(
            "Coordinates",
            axes,
            format_func=AXES.get,
            key="w.saliency.axis",
            horizontal=True,
            on_change=lambda: state.put(state.SALIENCY_COORDS, st.session_state["w.saliency.axis"]),
        )
        show_ism = c2.toggle("ISM heat map", value=True, key="w.saliency.ism")
        ism_values = c2.radio(
            "ISM values",
            ["Δ logit", "Δ probability"],
            key="w.saliency.ism_values",
            help="Change of the model's output when the base is replaced: in logit units (the units of the "
            "tracks; not squashed for genes predicted near 0 or 1) or in probability.",
            horizontal=True,
            disabled=not show_ism,
        )
        show_motifs = c3.toggle("Known motifs (JASPAR CORE plants)", value=True, key="w.saliency.motifs")
        pvalue = c3.select_slider(
            "Motif p-value at most",
            options=list(PVALUES),
            value=DEFAULT_PVALUE,
            format_func=lambda p: f"{p:.0e}",
            key="w.saliency.pvalue",
            disabled=not show_motifs,
            help="FIMO-style p-value of a motif match against uniform random DNA. With ~900 motifs on both "
            "strands of 600 bp, 1e-4 gives ~100 chance hits per gene, 1e-5 about 10.",
        )
    return {
        "method": method,
        "view": view.lower(),
        "axis": axis if axis in axes else "promoter",
        "ism": show_ism,
        "ism_values": ism_values,
        "motifs": show_motifs,
        "pvalue": float(pvalue),
    }


class Memo:
    """A small thread-safe LRU of computed values shared by the server's sessions (values are never mutated)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], object]):
        """The value kept for ``key``, else ``make()`` (kept, the least recently used one dropped)."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


#: motif hits of a sequence (scanning ~900 JASPAR motifs is a good part of a gene switch)
_HITS = Memo(256)
#: plotly figures of a view: a rerun that changes nothing drawn (an edit position, a download) reuses one
_FIGURES = Memo(32)
#: explained sequences (attributions, strand probabilities, ISM) of every session
_EXPLAINED = Memo(64)


def _motif_hits(sequence: str, pvalue: float) -> pd.DataFrame | None:
    """The page's hit table of ``sequence``: scanned once, then read from ``workspace/motif_hits`` (any server)."""
    from deepdife_core.motifs.hitcache import MotifHitCache

    db = cache.scan_database()

    def scan() -> pd.DataFrame:
        hits = MotifHitCache(motif_hits_dir()).scan(sequence, db, max_pvalue=pvalue)
        # a palindromic motif matches both strands at one place: keep the better one
        hits = hits.sort_values("p_value", kind="stable").drop_duplicates(["motif_id", "start", "end"])
        return hits.head(MAX_HITS).reset_index(drop=True)

    # keyed by the database object too (a new motif database is a new object of cache.scan_database); the
    # entry holds the object, so its id cannot name another database while the entry is kept
    return _HITS.get((id(db), sequence, float(pvalue)), lambda: (db, scan()))[1]


def _figure_key(*parts: object) -> str:
    """A digest of the figure's inputs (arrays by their bytes)."""
    h = hashlib.sha1()
    for p in parts:
        if isinstance(p, np.ndarray):
            h.update(f"{p.dtype}{p.shape}".encode())
            h.update(np.ascontiguousarray(p).tobytes())
        elif isinstance(p, pd.DataFrame):
            h.update(pd.util.hash_pandas_object(p, index=True).values.tobytes())
            h.update(repr(list(p.columns)).encode())
        else:
            h.update(repr(p).encode())
        h.update(b"\x1f")
    return h.hexdigest()


def _metrics(ref: Explained, label: object) -> None:
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(
        "P(responsive), both strands" if ref.conjoin else "P(responsive), promoter as given", f"{ref.probability:.3f}"
    )
    c2.metric("Forward strand", f"{ref.forward:.3f}")
    c3.metric("Reverse strand", f"{ref.reverse:.3f}")
    if label is None or (isinstance(label, float) and np.isnan(label)) or str(label) == "":
        c4.metric("Label", "unknown")
    else:
        c4.metric("Label", "responsive (1)" if int(label) == 1 else "not responsive (0)")


def _coord_key(key: str, system: CoordinateSystem) -> str:
    """The widget key of a control holding values of ``system``: a new widget in another system
    (promoter positions keep the plain ``key``)."""
    return key if system.mode == "promoter" else f"{key}.{system.key}"


def _window(system: CoordinateSystem, highlight: tuple[int, int] | None, gene_key: str) -> tuple[int, int]:
    """The drawn window ``[start, end)`` in promoter positions, chosen on a slider in ``system``'s values.

    The window is kept in promoter positions, so switching the coordinates keeps the same bases.
    """
    length = system.length
    if highlight is not None:
        s, e = highlight
        pad = max(15, e - s)
        default = (max(0, s - pad), min(length, e + pad))
    else:
        default = (max(0, length - 1000), length)
    kept = f"saliency.window.{gene_key}.{highlight}"
    s, e = st.session_state.get(kept, default)
    lo, hi = system.range_bounds()
    win = st.slider(
        f"Window ({system.unit})",
        lo,
        hi,
        value=system.range_to_user(s, e),
        key=f"w.saliency.window.{gene_key}.{highlight}.{system.key}",
        help=f"The part of the promoter drawn ({system.convention}); zoom (drag) and pan inside the figure too.",
    )
    s, e = system.range_from_user(int(win[0]), int(win[1]))
    if e - s < 5:
        s, e = max(0, min(s, length - 5)), min(length, max(s, 0) + 5)
    st.session_state[kept] = (s, e)
    return s, e


def _position_input(column, key: str, system: CoordinateSystem, default: int) -> int:
    """The edit position: a number input in ``system``'s values; returns the promoter position.

    The promoter position is kept, so switching the coordinates shows the same base in the new values.
    """
    kept = f"saliency.pos.{key}"
    lo, hi = system.position_bounds()
    value = system.to_user(int(st.session_state.get(kept, default)))
    got = column.number_input(
        "Position", lo, hi, min(max(value, lo), hi), 1, key=_coord_key(key, system), help=system.unit
    )
    pos = system.from_user(int(got))
    st.session_state[kept] = pos
    return pos


def _range_inputs(col_from, col_to, system: CoordinateSystem, default: tuple[int, int]) -> tuple[int, int]:
    """The edit range: From / To number inputs in ``system``'s values; returns the promoter range ``[start, end)``.

    Genomic values are the first and last base (low to high, so on a minus-strand promoter From is its
    3'-most base); promoter and TSS values end one past the last base. The promoter range is kept.
    """
    kept = "saliency.range"
    start, end = st.session_state.get(kept, default)
    a, b = system.range_to_user(start, end)
    if system.inclusive:
        (lo_a, hi_a), (lo_b, hi_b) = system.position_bounds(), system.position_bounds()
    else:
        lo_a, hi_a = system.to_user(0), system.to_user(system.length - 1)
        lo_b, hi_b = system.to_user(1), system.to_user(system.length)
    a = col_from.number_input(
        "From", lo_a, hi_a, min(max(a, lo_a), hi_a), 1, key=_coord_key("w.saliency.range_start", system)
    )
    b = col_to.number_input(
        "To (incl.)" if system.inclusive else "To (excl.)",
        lo_b,
        hi_b,
        min(max(b, lo_b), hi_b),
        1,
        key=_coord_key("w.saliency.range_end", system),
        help=system.convention,
    )
    start, end = system.range_from_user(int(a), int(b))
    st.session_state[kept] = (start, end)
    return start, end


def _clear_highlight() -> None:
    state.put(state.SALIENCY_HIGHLIGHT, None)
    state.put(state.SALIENCY_HIGHLIGHT_GENE, None)


def _owned_highlight(gene: str, src: GeneSource) -> tuple[int, int] | None:
    """The highlight if it belongs to ``gene`` of the active dataset; else it is dropped (never shown stale).

    A highlight comes from a link or the Motifs page for one gene of a dataset;
    a highlight set without its gene belongs to the first gene it is shown on.
    """
    highlight = state.get(state.SALIENCY_HIGHLIGHT)
    if highlight is None:
        return None
    owner = state.get(state.SALIENCY_HIGHLIGHT_GENE)
    if owner is None:
        owner = gene
        state.put(state.SALIENCY_HIGHLIGHT_GENE, gene)
    if owner != gene or not src.label.startswith(("dataset ", "variant run ")):
        _clear_highlight()
        return None
    return highlight


# ----------------------------------------------------------------------------- the page


def render() -> None:
    """Draw the saliency page (timed into ``$DEEPDIFE_PROFILE`` when it is set)."""
    prof = Profile.from_env()
    try:
        _render(prof)
    finally:
        prof.write()


def _render(prof: Profile) -> None:
    st.title("Saliency")
    _apply_query_params()
    path = sidebar.active_model()
    if path is None:
        _no_model_message()
        return
    name = Path(path).name
    pred = None
    with widgets.user_errors():
        pred = cache.predictor(path)
    if pred is None:
        st.info("Choose another model in the sidebar.")
        return
    length = int(pred.config.input_length)
    pad_side = model_data_config(pred).pad_side  # how the model's training sequences were fitted
    members = len(pred.models)
    st.caption(
        f"Model **{_md(name)}** ({length} bp{f', ensemble of {members} fold models' if members > 1 else ''}); "
        "switch it in the sidebar."
    )
    src = _gene_source(length, pad_side)
    if src is None:
        return
    row = _pick_gene(src)
    if row is None:
        return
    gene = str(row["gene_id"])
    prof.gene = gene
    sequence = str(row["sequence"]).upper()
    coords = parse_coords(row.get("coords")) if "coords" in row.index else None
    head = st.container()
    opts = _settings(coords is not None)
    system = CoordinateSystem.make(opts["axis"], length, coords=coords, pad_side=pad_side)
    gene_key = _key(src.label, gene)

    highlight = _owned_highlight(gene, src)
    if highlight is not None:
        try:
            highlight = check_highlight(highlight, length)
        except DeepDifEInputError as exc:
            st.warning(f"Ignoring the highlight: {_md(exc)}")
            highlight = None

    config = ExplainConfig(
        method=opts["method"], n_background=int(st.session_state.get("w.saliency.n_background", 100))
    )
    ref = None
    with widgets.user_errors():
        background, bg_text = _background(opts["method"], src, path, length, pad_side)
        with st.spinner("Explaining the gene…"), prof.part("attributions"):
            ref = explain_sequence(pred, sequence, config, background=background, with_ism=opts["ism"])
    if ref is None:
        return
    with head:
        st.text(f"{gene}  ·  {src.label}" + (f"  ·  {row['coords']}" if coords is not None else ""))
        _metrics(ref, row.get("label"))
        notes = [next(k for k, v in METHODS.items() if v == opts["method"])]
        if bg_text:
            notes.append(f"references: {bg_text}")
        if ref.attr.max_additivity_error is not None:
            notes.append(f"additivity error {ref.attr.max_additivity_error:.1e} (logit)")
        if members > 1 and ref.attr.contrib_std is not None:
            spread = float(np.abs(ref.attr.contrib_std).mean())
            notes.append(f"mean of {members} fold models (mean spread {spread:.2e})")
        st.caption(" · ".join(notes))
    if highlight is not None:
        h1, h2 = st.columns([4, 1])
        h1.caption(f"Highlighted: {system.range_text(*highlight)} (shaded; {system.convention}).")
        h2.button("Clear highlight", key="w.saliency.clear_hl", on_click=_clear_highlight)
    window = _window(system, highlight, gene_key)
    fig_box = st.container()
    hits_box = st.container()

    # ---- edit the sequence (computed before the figure, drawn below it)
    st.subheader("Edit the sequence")
    vkey = f"w.saliency.variant.{gene_key}"
    if vkey not in st.session_state:
        st.session_state[vkey] = sequence
    pending = st.session_state.get(PENDING_EDIT)
    if pending is not None and pending[0] in (None, gene):
        del st.session_state[PENDING_EDIT]  # a link's variant (Variants page) is applied once, to its gene
        with widgets.user_errors():
            st.session_state[vkey] = apply_variant(sequence, pending[1], pad_side=pad_side)
    e1, e2 = st.columns(2)
    with e1:
        a, b = st.columns(2)
        pos = _position_input(a, "w.saliency.edit_pos", system, highlight[0] if highlight else 0)
        base = b.selectbox("New base", list("ACGTN"), key="w.saliency.edit_base")
        if st.button("Change the base", key="w.saliency.edit_go", icon=":material/edit:"):
            with widgets.user_errors():
                current = check_variant(st.session_state[vkey], length)
                st.session_state[vkey] = apply_edit(current, int(pos), int(pos) + 1, base)
    with e2:
        a, b, c = st.columns([1, 1, 2])
        r0, r1 = _range_inputs(a, b, system, highlight if highlight else (0, 1))
        rep = c.text_input(
            "Replace with",
            key="w.saliency.range_text",
            help="As many letters as the range, or one letter to fill it (N masks it).",
        )
        if st.button("Replace the range", key="w.saliency.range_go", icon=":material/find_replace:"):
            with widgets.user_errors():
                current = check_variant(st.session_state[vkey], length)
                if r0 >= r1:
                    raise DeepDifEInputError(f"range: give a From before To ({system.convention})")
                st.session_state[vkey] = apply_edit(current, int(r0), int(r1), rep)
    st.text_area(
        "Variant sequence (edit it here or paste a whole variant)",
        key=vkey,
        height=110,
    )
    st.button(
        "Reset to the reference",
        key="w.saliency.reset",
        on_click=lambda: st.session_state.__setitem__(vkey, sequence),
        icon=":material/restart_alt:",
    )
    variant = var = diff = None
    with widgets.user_errors():
        variant = check_variant(st.session_state[vkey], length)
        if variant == sequence:
            variant = None
        else:
            vbg = background
            if opts["method"] == "deepshap" and background is None:
                # the variant is explained against the reference's shuffles: the difference is the edit's effect only
                vbg = dinucleotide_shuffle(one_hot(sequence), config.n_background, seed=config.seed)
            with st.spinner("Explaining the variant…"):
                var = explain_sequence(pred, variant, config, background=vbg)
            # (the reference's own shuffles are the same arrays, so its attributions need no recomputing)
            diff = var.attr.contrib[0] - ref.attr.contrib[0]
    if variant is not None and var is not None:
        changed = changed_positions(sequence, variant)
        v1, v2, v3 = st.columns(3)
        v1.metric("Variant P(responsive)", f"{var.probability:.3f}", delta=f"{var.probability - ref.probability:+.3f}")
        v2.metric("Variant forward", f"{var.forward:.3f}", delta=f"{var.forward - ref.forward:+.3f}")
        v3.metric("Variant reverse", f"{var.reverse:.3f}", delta=f"{var.reverse - ref.reverse:+.3f}")
        shown = ", ".join(f"{system.label(p)} {sequence[p]}→{variant[p]}" for p in changed[:12])
        noun = "base" if len(changed) == 1 else "bases"
        st.caption(f"{len(changed)} {noun} changed: {shown}{' …' if len(changed) > 12 else ''}")

    # ---- motif hits
    hits = None
    if opts["motifs"]:
        with widgets.user_errors(), prof.part("motifs"):
            hits = _motif_hits(sequence, opts["pvalue"])

    # ---- the figure
    axis = sw.system_axis(system)
    ism = None
    if ref.ism is not None:
        ism = ref.ism.delta_probability[0] if opts["ism_values"] == "Δ probability" else ref.ism.hypothetical[0]
    with prof.part("figure"):
        figure_args = {
            "window": window,
            "view": opts["view"],
            "diff": diff,
            "ism": ism,
            "ism_label": opts["ism_values"],
            "hits": hits,
            "highlight": highlight,
            "axis": axis,
            "meta": {"gene": gene, "method": opts["method"], "window": list(window), "variant": variant is not None},
            "revision": f"{gene_key}-{window}-{opts['view']}-{system.mode}",
        }
        fwd, rev = ref.attr.contrib_fwd[0], ref.attr.contrib_rev[0]
        key = _figure_key(fwd, rev, sequence, system.key, *(figure_args[k] for k in sorted(figure_args) if k != "axis"))
        fig = _FIGURES.get(key, lambda: sw.saliency_figure(fwd, rev, sequence, **figure_args))
    with fig_box:
        with prof.part("serialise") as info:  # plotly's JSON of the figure into the page's message
            st.plotly_chart(
                fig,
                key="saliency.tracks",
                config={"scrollZoom": True, "displaylogo": False, "toImageButtonOptions": {"format": "svg"}},
            )
        if prof.path is not None:
            info["bytes"] = len(fig.to_json())
        if opts["view"] == "letters" and window[1] - window[0] > sw.MAX_LETTER_WINDOW:
            st.caption(f"Windows over {sw.MAX_LETTER_WINDOW} bp are drawn as bars; narrow the window for letters.")
    with hits_box:
        if hits is not None:
            with st.expander(f"Known-motif hits: {len(hits)} with p ≤ {opts['pvalue']:.0e}", icon=":material/pattern:"):
                if hits.empty:
                    st.caption("No JASPAR plant motif passes this p-value; raise it with the slider.")
                else:
                    show = system.hits_table(
                        hits[
                            ["motif_id", "motif_name", "tf_class", "start", "end", "strand", "p_value", "score", "site"]
                        ]
                    )
                    st.caption(f"Positions: {_md(system.unit)} ({system.convention}).")
                    st.dataframe(show, hide_index=True, key=f"saliency.hits.{system.mode}")

    # ---- downloads
    genomic = genomic_positions(coords, length, pad_side=pad_side) if coords is not None else None
    sites = [highlight] if highlight else []
    title = f"{gene}  {opts['method']}  p = {ref.probability:.3f}"

    def make_figure():
        return export_figure(fwd, rev, window=window, title=title, diff=diff, sites=sites, system=system)

    stem = re.sub(r"[^A-Za-z0-9._-]", "_", gene)[:100] or "gene"
    drawn = system.file_part(*window)  # the window in the chosen coordinates
    st.subheader("Downloads")
    d1, d2, d3, d4 = st.columns(4)
    d1.download_button(
        "Figure (SVG)",
        data=lambda: figure_bytes(make_figure, "svg"),
        file_name=f"{stem}-{opts['method']}-{drawn}.svg",
        mime="image/svg+xml",
        key="w.saliency.dl_svg",
        on_click="ignore",
        icon=":material/download:",
    )
    d2.download_button(
        "Figure (PNG)",
        data=lambda: figure_bytes(make_figure, "png"),
        file_name=f"{stem}-{opts['method']}-{drawn}.png",
        mime="image/png",
        key="w.saliency.dl_png",
        on_click="ignore",
        icon=":material/download:",
    )
    d3.download_button(
        "Per-base scores (CSV)",
        data=lambda: export_csv(per_base_table(sequence, ref, genomic=genomic, variant=variant, diff=diff)),
        file_name=f"{stem}-{opts['method']}.csv",
        mime="text/csv",
        key="w.saliency.dl_csv",
        on_click="ignore",
        icon=":material/download:",
    )
    d4.download_button(
        "Attributions (npz)",
        data=lambda: npz_bytes(ref.attr, gene),
        file_name=f"{stem}-{opts['method']}.npz",
        mime="application/octet-stream",
        key="w.saliency.dl_npz",
        on_click="ignore",
        icon=":material/download:",
    )
    if src.label.startswith("dataset "):
        st.caption("Link to this view: ")
        st.code(deep_link(name, gene, highlight, dataset=src.label.removeprefix("dataset ")), language=None)
