"""Attributions ("saliency") of DeepDifE models: DeepSHAP, in-silico mutagenesis, gradient × input.

Contract (see ``ARCHITECTURE.md``, *Attributions*)
-------------------------------------------------
Every method returns an :class:`Attributions` whose arrays are ``float32``
``(N, L, 4)`` on *forward* coordinates of the caller's input (``L =
config.input_length``; the EvoAug inference padding is added before the model and
stripped afterwards).  Channels are A, C, G, T.

* ``hypothetical``: the contribution each of the four bases *would* make at each
  position; ``contrib = hypothetical * one_hot`` (the actual contributions).
* ``*_fwd``: explaining the model on the forward strand; ``*_rev``: explaining it
  on the reverse complement, mapped back onto forward coordinates
  (``a[:, ::-1, ::-1]``); the plain fields are their mean, i.e. the explanation of
  the *conjoined* prediction (the mean of the two strands' logits).
* All methods explain the **pre-sigmoid logit** (:func:`deepdife_core.model.cnn.logit_model`),
  where DeepSHAP is additive and effects of different sites add up.
* Ensembles: every array is the mean over members; ``contrib_std`` /
  ``hypothetical_std`` hold the spread (population std over members).

DeepSHAP implementation
-----------------------
``shap.DeepExplainer`` (TensorFlow backend, unmodified) computes DeepLIFT-rescale
multipliers ``m`` for a batch that holds the inputs in its first half and the
paired references in its second half; ``shap_values`` then returns
``mean_b (x - r_b) * m_b``.  Hypothetical scores need the multipliers themselves,
which ``shap_values`` does not return, so we make the same two calls it makes
(``explainer.phi_symbolic(0)`` and ``explainer.run``) and project them like
tfmodisco's ``combine_mult_and_diffref`` / DeepDifE::

    hyp[l, i] = mean_b( sum_c (e_i[c] - r_b[l, c]) * m_b[l, c] )
              = mean_b( m_b[l, i] - <r_b[l], m_b[l]> )

No shap internals are patched.  One explainer is built per Keras model and
reused for every background: the references travel in the batch, so the
per-gene dinucleotide-shuffled backgrounds, a random sample of training genes and
an uploaded set all use the same traced graph (building an explainer per gene
would re-trace the TensorFlow graph, ~0.5 s each).  Several genes and both strands
go into one call (``config.batch_size`` rows).

By default (``ExplainConfig.engine = "auto"``) the multipliers come from
:mod:`deepdife_core.interpret.deeplift`, which applies shap's DeepExplainer rules but
forwards each input once and back-propagates only the references (same values to
float32 round-off, ~4-5x less CPU; ``tests/core/test_deeplift.py`` uses shap as
the oracle); models with a layer it does not support fall back to shap, and
``engine="shap"`` forces shap.
"""

from __future__ import annotations

import hashlib
import io
import json
import warnings
import weakref
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from deepdife_core.data.encode import one_hot_batch, pad_one_hot
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import atomic_write_bytes
from deepdife_core.interpret import deeplift
from deepdife_core.model.cnn import _keras, logit_model

METHODS = ("deepshap", "ism", "gradxinput")
BACKGROUNDS = ("shuffle", "fixed")
ENGINES = ("auto", "shap", "deeplift")

# ----------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class ExplainConfig:
    """Hyperparameters of an attribution run.

    Attributes
    ----------
    method
        ``"deepshap"``, ``"ism"`` or ``"gradxinput"``.
    n_background
        DeepSHAP references per gene (dinucleotide shuffles, or the size of a
        sample of training genes).
    background
        ``"shuffle"``: per-gene dinucleotide-shuffled copies (seeded by ``seed`` and
        the sequence itself, so a gene always gets the same references);
        ``"fixed"``: one background array shared by all genes (a random sample of
        training genes, or an uploaded set), given to the function separately.
    seed
        Seed of the shuffles.
    batch_size
        Rows (sequences) per model call; bounds memory.
    strands
        ``"both"`` (conjoined, default) or ``"forward"`` (the reverse track is
        then a copy of the forward one).
    engine
        DeepSHAP multipliers: ``"auto"`` (default; :mod:`deepdife_core.interpret.deeplift`, the
        fast engine with shap's rules, when it supports the model, else shap),
        ``"shap"`` (always ``shap.DeepExplainer``) or ``"deeplift"`` (the fast engine,
        or an error naming the layer it does not support).  Same results to float32
        round-off, so the cache spec does not include it.
    """

    method: str = "deepshap"
    n_background: int = 100
    background: str = "shuffle"
    seed: int = 0
    batch_size: int = 1600
    strands: str = "both"
    engine: str = "auto"

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise DeepDifEInputError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.background not in BACKGROUNDS:
            raise DeepDifEInputError(f"background must be 'shuffle' or 'fixed', got {self.background!r}")
        if self.n_background < 1:
            raise DeepDifEInputError(f"n_background must be >= 1, got {self.n_background}")
        if self.batch_size < 4:
            raise DeepDifEInputError(f"batch_size must be >= 4, got {self.batch_size}")
        if self.strands not in ("both", "forward"):
            raise DeepDifEInputError(f"strands must be 'both' or 'forward', got {self.strands!r}")
        if self.engine not in ENGINES:
            raise DeepDifEInputError(f"engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")


# ----------------------------------------------------------------------------- result


@dataclass(frozen=True)
class Attributions:
    """Attributions of ``N`` sequences; arrays ``(N, L, 4)`` float32 on forward coordinates.

    Attributes
    ----------
    hypothetical, contrib
        Conjoined (mean of strands; ensemble mean) hypothetical and actual contributions.
    hypothetical_fwd, hypothetical_rev, contrib_fwd, contrib_rev
        Per strand; the reverse track is mapped back onto forward coordinates.
    logit
        ``(N,)`` conjoined logit of the input (mean over strands and members).
    probability
        ``(N,)`` conjoined probability (mean of the strands' sigmoid outputs).
    probability_fwd, probability_rev
        ``(N,)`` the model's probability of the forward strand and of the reverse complement
        (:meth:`~deepdife_core.model.cnn.Predictor.predict_strands`, ensemble mean), so a cached gene
        needs no model call to show them; ``None`` in cache files written before they were stored.
    method, spec
        The method and the cache spec (method + background), e.g. ``deepshap-shuffle100-seed0``.
    expected_logit
        DeepSHAP: ``(N,)`` mean logit of the references (conjoined).
    additivity_error
        DeepSHAP: ``(N,)`` worst ``|sum(phi) - (f(x) - mean f(background))|`` over
        strands and members, in logit units.
    delta_probability
        ISM: ``(N, L, 4)`` change of the conjoined probability (``hypothetical`` holds
        the change of the conjoined logit); 0 at the reference base.
    contrib_std, hypothetical_std
        Spread over ensemble members (zeros for a single model).
    """

    hypothetical: np.ndarray
    contrib: np.ndarray
    hypothetical_fwd: np.ndarray
    hypothetical_rev: np.ndarray
    contrib_fwd: np.ndarray
    contrib_rev: np.ndarray
    logit: np.ndarray
    probability: np.ndarray
    method: str
    spec: str
    expected_logit: np.ndarray | None = None
    additivity_error: np.ndarray | None = None
    delta_probability: np.ndarray | None = None
    contrib_std: np.ndarray | None = None
    hypothetical_std: np.ndarray | None = None
    probability_fwd: np.ndarray | None = None
    probability_rev: np.ndarray | None = None
    n_members: int = 1

    def __len__(self) -> int:
        return len(self.contrib)

    @property
    def max_additivity_error(self) -> float | None:
        """Worst additivity error over all genes (DeepSHAP), else ``None``.

        Returns
        -------
        float or None
            ``max(additivity_error)`` in logit units; None without (or with empty) errors.
        """
        if self.additivity_error is None or not len(self.additivity_error):
            return None
        return float(np.max(self.additivity_error))

    def to_npz(self, path: str | Path, gene_id: np.ndarray | list[str]) -> Path:
        """Write the attributions as an npz, atomically.

        The file holds ``gene_id`` ``(N,)`` str, ``method`` and ``spec`` (0-d str), and every
        array field that is set: ``hypothetical``, ``contrib`` and the per-strand tracks
        ``(N, L, 4)``, ``logit`` and ``probability`` ``(N,)``, and the method's extras.

        Parameters
        ----------
        path : str or Path
            The ``.npz`` file to write.
        gene_id : numpy.ndarray or list of str
            ``(N,)`` gene (record) IDs, one per explained sequence.

        Returns
        -------
        Path
            ``path``.

        Raises
        ------
        DeepDifEInputError
            If the number of IDs is not the number of attributions.
        """
        gene_id = np.asarray(gene_id, dtype=str)
        if len(gene_id) != len(self):
            raise DeepDifEInputError(f"{len(gene_id)} gene IDs for {len(self)} attributions")
        arrays = {"gene_id": gene_id, "method": np.asarray(self.method), "spec": np.asarray(self.spec)}
        for name in _ARRAY_FIELDS:
            value = getattr(self, name)
            if value is not None:
                arrays[name] = value
        return _atomic_savez(Path(path), arrays)


_ARRAY_FIELDS = tuple(f.name for f in fields(Attributions) if f.name not in ("method", "spec", "n_members"))


def _atomic_savez(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    _atomic_write_bytes(path, buf.getvalue())
    return path


# ----------------------------------------------------------------------------- dinucleotide shuffle

_N_TOKENS = 5  # A, C, G, T, N (all-zero row)


def tokens_from_one_hot(x: np.ndarray) -> np.ndarray:
    """Integer tokens (0-3 = A, C, G, T; 4 = N) of a one-hot array.

    Parameters
    ----------
    x : numpy.ndarray
        One-hot ``(..., L, 4)`` to turn into tokens.

    Returns
    -------
    numpy.ndarray
        int8 ``(..., L)``; an all-zero row gives 4.
    """
    x = np.asarray(x)
    return np.where(x.max(axis=-1) > 0, x.argmax(axis=-1), 4).astype(np.int8)


def one_hot_from_tokens(tokens: np.ndarray) -> np.ndarray:
    """Inverse of :func:`tokens_from_one_hot`.

    Parameters
    ----------
    tokens : numpy.ndarray
        Integer tokens ``(..., L)`` in 0-4.

    Returns
    -------
    numpy.ndarray
        float32 one-hot ``(..., L, 4)``; token 4 (N) gives an all-zero row.
    """
    eye = np.vstack([np.eye(4, dtype=np.float32), np.zeros((1, 4), dtype=np.float32)])
    return eye[np.asarray(tokens, dtype=np.intp)]


def sequence_seed(tokens: np.ndarray) -> int:
    """A 64-bit integer derived from a token sequence (so a gene's shuffles do not depend on its batch).

    Parameters
    ----------
    tokens : numpy.ndarray
        Integer tokens ``(L,)`` (as int8).

    Returns
    -------
    int
        The first 8 bytes of the tokens' SHA-1, little-endian.
    """
    return int.from_bytes(hashlib.sha1(np.ascontiguousarray(tokens, dtype=np.int8).tobytes()).digest()[:8], "little")


def _last_edges(src: np.ndarray, dst: np.ndarray, final: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Random last exit edge of every vertex forming an arborescence into ``final`` (Altschul-Erickson).

    Returns ``(n, 5)`` edge indices (``-1`` for the final vertex and absent ones).
    Each vertex independently picks one of its out-edges uniformly; the choice is
    kept only if following the picked edges from every vertex reaches ``final``
    (no cycle); rejected rows are drawn again.
    """
    out = np.full((n, _N_TOKENS), -1, dtype=np.int64)
    vertices = [v for v in range(_N_TOKENS) if v != final and np.any(src == v)]
    if not vertices:
        return out
    edges_of = {v: np.flatnonzero(src == v) for v in vertices}
    todo = np.arange(n)
    while len(todo):
        pick = np.full((len(todo), _N_TOKENS), -1, dtype=np.int64)
        nxt = np.tile(np.arange(_N_TOKENS), (len(todo), 1))  # successor under the last edges
        for v in vertices:
            e = edges_of[v][rng.integers(0, len(edges_of[v]), size=len(todo))]
            pick[:, v] = e
            nxt[:, v] = dst[e]
        node = np.tile(np.asarray(vertices), (len(todo), 1))
        for _ in range(_N_TOKENS):
            node = np.take_along_axis(nxt, node, axis=1)
        ok = np.all(node == final, axis=1)
        out[todo[ok]] = pick[ok]
        todo = todo[~ok]
    return out


def _shuffle_plan(tokens: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Successor tokens of each vertex in random order, last edge last, for ``n`` shuffles of one sequence.

    Returns
    -------
    succ
        ``(n, L-1)`` destination tokens of the edges, grouped by source vertex.
    starts
        ``(5,)`` offset of each source vertex's group in ``succ``.
    """
    src, dst = tokens[:-1], tokens[1:]
    keys = rng.random((n, len(src)))
    last = _last_edges(src, dst, int(tokens[-1]), n, rng)
    rows = np.repeat(np.arange(n), _N_TOKENS)
    flat = last.ravel()
    keep = flat >= 0
    keys[rows[keep], flat[keep]] = 2.0  # the last edge of each vertex sorts last in its group
    order = np.argsort(src[None, :] * 4.0 + keys, axis=1, kind="stable")
    succ = dst[order]
    starts = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=_N_TOKENS))[:-1]])
    return succ, starts


def _eulerian_walks(first: np.ndarray, succ: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Walk all ``M`` edge plans at once: ``first (M,)``, ``succ (M, L-1)``, ``starts (M, 5)`` -> tokens ``(M, L)``."""
    M, E = succ.shape
    out = np.empty((M, E + 1), dtype=np.int8)
    out[:, 0] = first
    cur = first.astype(np.intp)
    counters = np.zeros(M * _N_TOKENS, dtype=np.intp)
    row5 = np.arange(M) * _N_TOKENS
    rowE = np.arange(M) * E
    starts_flat = starts.ravel().astype(np.intp)
    succ_flat = succ.ravel()
    for j in range(1, E + 1):
        slot = row5 + cur
        cur = succ_flat[rowE + starts_flat[slot] + counters[slot]].astype(np.intp)
        counters[slot] += 1
        out[:, j] = cur
    return out


def dinucleotide_shuffle(x: np.ndarray, n_shuffles: int, *, seed: int = 0) -> np.ndarray:
    """Dinucleotide-preserving shuffles (Altschul-Erickson, uniform over Eulerian paths).

    Parameters
    ----------
    x
        One-hot ``(L, 4)`` or ``(N, L, 4)``; all-zero (N) rows are shuffled as a fifth letter.
    n_shuffles
        Shuffles per sequence.
    seed
        Seed; each sequence's generator is seeded by ``(seed, hash of the sequence)``,
        so a sequence's shuffles are the same whatever batch it comes in.

    Returns
    -------
    numpy.ndarray
        float32 ``(N, n_shuffles, L, 4)`` (or ``(n_shuffles, L, 4)`` for 2-D input), with the
        same first and last base and the same dinucleotide counts as each input.
    """
    x, single = one_hot_batch(x)
    if n_shuffles < 1:
        raise DeepDifEInputError(f"n_shuffles must be >= 1, got {n_shuffles}")
    tokens = tokens_from_one_hot(x)
    N, L = tokens.shape
    if L < 3:
        out = np.repeat(x[:, None].astype(np.float32), n_shuffles, axis=1)
        return out[0] if single else out
    succ = np.empty((N, n_shuffles, L - 1), dtype=np.int8)
    starts = np.empty((N, n_shuffles, _N_TOKENS), dtype=np.intp)
    for i in range(N):
        rng = np.random.default_rng([seed, sequence_seed(tokens[i])])
        succ[i], starts[i] = _shuffle_plan(tokens[i], n_shuffles, rng)
    first = np.repeat(tokens[:, 0], n_shuffles)
    walks = _eulerian_walks(first, succ.reshape(N * n_shuffles, L - 1), starts.reshape(N * n_shuffles, _N_TOKENS))
    out = one_hot_from_tokens(walks.reshape(N, n_shuffles, L))
    return out[0] if single else out


def dinucleotide_counts(x: np.ndarray) -> np.ndarray:
    """Counts of the 25 dinucleotides (A, C, G, T, N squared) of each sequence.

    Parameters
    ----------
    x : numpy.ndarray
        One-hot ``(..., L, 4)`` whose dinucleotides are counted.

    Returns
    -------
    numpy.ndarray
        int ``(..., 5, 5)``: entry ``[a, b]`` counts token ``a`` followed by token ``b``.
    """
    t = tokens_from_one_hot(x).astype(np.intp)
    pair = t[..., :-1] * _N_TOKENS + t[..., 1:]
    flat = pair.reshape(-1, pair.shape[-1])
    counts = np.stack([np.bincount(row, minlength=_N_TOKENS**2) for row in flat])
    return counts.reshape(*pair.shape[:-1], _N_TOKENS, _N_TOKENS)


def sample_background(pool: np.ndarray, n: int, *, seed: int = 0) -> np.ndarray:
    """DeepDifE's background: ``n`` sequences drawn without replacement from ``pool``.

    Parameters
    ----------
    pool : numpy.ndarray
        One-hot ``(M, L, 4)``, non-empty.
    n : int
        Number of sequences (at most ``M`` are drawn).
    seed : int, optional
        Seed of the draw, default 0.

    Returns
    -------
    numpy.ndarray
        float32 ``(min(n, M), L, 4)``, in pool order.

    Raises
    ------
    DeepDifEInputError
        If ``pool`` is not a non-empty ``(M, L, 4)`` array.
    """
    pool = np.asarray(pool, dtype=np.float32)
    if pool.ndim != 3 or pool.shape[-1] != 4 or not len(pool):
        raise DeepDifEInputError(f"the background pool must be a non-empty one-hot array (M, L, 4), got {pool.shape}")
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(pool), size=min(n, len(pool)), replace=False)
    return pool[np.sort(idx)]


# ----------------------------------------------------------------------------- per-model tools


@dataclass
class _Tools:
    """Per-Keras-model helpers, built once and reused (weakly keyed by the model)."""

    logit: Any  # keras.Model -> (N, 1) logits
    logit_fn: Any  # tf.function x -> (N,) logits
    grad_fn: Any  # tf.function x -> d logit / dx
    explainer: Any = None  # shap TFDeep explainer, built lazily
    fingerprint: str = ""


_TOOLS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _tools(model) -> _Tools:
    tools = _TOOLS.get(model)
    if tools is None:
        keras = _keras()
        import tensorflow as tf

        raw = logit_model(model)
        # shap reads the explained output from the model's last *layer*; the logit is made of
        # ops, so end the graph with an Identity layer (no weights, gradients pass through).
        logit = keras.Model(raw.inputs, keras.layers.Identity(name="logit")(raw.outputs[0]), name=raw.name)

        @tf.function(reduce_retracing=True)
        def logit_fn(x):
            return logit(x, training=False)[:, 0]

        @tf.function(reduce_retracing=True)
        def grad_fn(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = tf.reduce_sum(logit(x, training=False))
            return tape.gradient(y, x)

        tools = _Tools(logit=logit, logit_fn=logit_fn, grad_fn=grad_fn)
        _TOOLS[model] = tools
    return tools


def _explainer(model, network_length: int):
    tools = _tools(model)
    if tools.explainer is None:
        import shap

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # the data only sets shap's own expected_value; references are passed per call
            explainer = shap.DeepExplainer(tools.logit, np.zeros((1, network_length, 4), dtype=np.float32))
        tools.explainer = explainer.explainer
    return tools.explainer


def model_fingerprint(predictor) -> str:
    """SHA-256 (16 hex digits) of every member's weights and the architecture config.

    Parameters
    ----------
    predictor : Predictor
        One model or an ensemble; each member's weight hash is remembered on the model.

    Returns
    -------
    str
        16 lowercase hex digits.
    """
    h = hashlib.sha256()
    h.update(json.dumps(asdict(predictor.config), sort_keys=True, default=list).encode())
    for model in predictor.models:
        tools = _tools(model)
        if not tools.fingerprint:
            m = hashlib.sha256()
            for w in model.get_weights():
                m.update(str(w.shape).encode())
                m.update(np.ascontiguousarray(w).tobytes())
            tools.fingerprint = m.hexdigest()
        h.update(tools.fingerprint.encode())
    return h.hexdigest()[:16]


def _batched(fn, x: np.ndarray, batch_size: int) -> np.ndarray:
    out = [np.asarray(fn(x[s : s + batch_size])) for s in range(0, len(x), batch_size)]
    return np.concatenate(out) if out else np.zeros((0,), dtype=np.float32)


def _rc(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x[..., ::-1, ::-1])


# ----------------------------------------------------------------------------- validation


def _check_input(predictor, X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float32)
    if X.ndim == 2:
        X = X[None]
    if X.ndim != 3 or X.shape[-1] != 4:
        raise DeepDifEInputError(f"expected one-hot input (N, L, 4), got shape {X.shape}")
    L = predictor.config.input_length
    if X.shape[1] != L:
        raise DeepDifEInputError(
            f"sequences are {X.shape[1]} bp but the model expects {L} bp; rebuild the dataset with that length"
        )
    return X


def _check_background(predictor, background: np.ndarray) -> np.ndarray:
    bg = np.asarray(background, dtype=np.float32)
    L = predictor.config.input_length
    if bg.ndim != 3 or bg.shape[-1] != 4 or bg.shape[1] != L or not len(bg):
        raise DeepDifEInputError(
            f"the background must be one-hot sequences (B, {L}, 4) of the model's length, got shape {bg.shape}"
        )
    return bg


def _pad(predictor, x: np.ndarray) -> np.ndarray:
    cfg = predictor.config
    if x.ndim == 4:
        n, b = x.shape[:2]
        return pad_one_hot(x.reshape(n * b, *x.shape[2:]), cfg.pad_left, cfg.pad_right).reshape(n, b, -1, 4)
    return pad_one_hot(x, cfg.pad_left, cfg.pad_right)


def _strip(predictor, a: np.ndarray) -> np.ndarray:
    cfg = predictor.config
    return np.ascontiguousarray(a[..., cfg.pad_left : cfg.pad_left + cfg.input_length, :], dtype=np.float32)


def background_spec(config: ExplainConfig, background: np.ndarray | None = None) -> str:
    """Cache spec of a method + background, e.g. ``deepshap-shuffle100-seed0`` or ``ism-both``.

    Parameters
    ----------
    config : ExplainConfig
        Method, strands, number of shuffles and seed.
    background : numpy.ndarray, optional
        A fixed DeepSHAP reference set ``(B, L, 4)``; its hash goes into the spec.

    Returns
    -------
    str
        ``<method>-both`` / ``<method>-fwdonly`` for ISM and gradients;
        ``deepshap-shuffle<n>-seed<s>`` or ``deepshap-fixed<B>-<hash12>`` (plus ``-fwdonly``)
        for DeepSHAP.
    """
    strands = "" if config.strands == "both" else "-fwdonly"
    if config.method != "deepshap":
        return f"{config.method}{strands or '-both'}"
    if background is None:
        return f"deepshap-shuffle{config.n_background}-seed{config.seed}{strands}"
    digest = hashlib.sha256(np.ascontiguousarray(background, dtype=np.float32).tobytes()).hexdigest()[:12]
    return f"deepshap-fixed{len(background)}-{digest}{strands}"


# ----------------------------------------------------------------------------- DeepSHAP


def hypothetical_from_multipliers(mult: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Project DeepLIFT multipliers onto every possible base (tfmodisco's ``combine_mult_and_diffref``).

    Parameters
    ----------
    mult, reference
        ``(..., B, L, 4)`` multipliers and the references they were computed against.

    Returns
    -------
    numpy.ndarray
        ``(..., L, 4)``: ``mean_b(mult[b, l, i] - sum_c reference[b, l, c] * mult[b, l, c])``, the
        contribution base ``i`` at ``l`` would make relative to the references.
    """
    return (mult - np.sum(reference * mult, axis=-1, keepdims=True)).mean(axis=-3)


def _multipliers(model, xs: np.ndarray, bgs: np.ndarray, config: ExplainConfig) -> tuple[np.ndarray, ...]:
    """DeepLIFT-rescale multipliers ``(S, G, B, Lp, 4)`` of the logit, the inputs' ``(S, G)`` and references' logits.

    ``config.engine`` picks :func:`deepdife_core.interpret.deeplift.deeplift` (one input row and
    ``B`` reference rows per gene; it returns the logits of its forward pass) or shap's
    DeepExplainer, whose batch holds the inputs (each repeated ``B`` times) in its first
    half and the references in its second.
    """
    S, G, B = bgs.shape[:3]
    if config.engine != "shap":
        reason = deeplift.unsupported_reason(model)
        if reason is None:
            x, refs = xs.reshape(-1, *xs.shape[2:]), bgs.reshape(-1, *bgs.shape[2:])  # (S G, [B,] Lp, 4)
            mult, logit, ref = deeplift.deeplift(model, x, refs, batch_size=config.batch_size)
            return mult.reshape(bgs.shape), logit.reshape(S, G), ref.reshape(S, G, B)
        if config.engine == "deeplift":
            raise DeepDifEInputError(reason)
    te = _explainer(model, xs.shape[2])
    tiled = np.broadcast_to(xs[:, :, None], bgs.shape).reshape(-1, *xs.shape[2:])
    joint = np.concatenate([tiled, bgs.reshape(-1, *xs.shape[2:])])
    mult = te.run(te.phi_symbolic(0), te.model_inputs, [joint])[0][len(tiled) :].reshape(bgs.shape)
    tools = _tools(model)
    logit = np.asarray(tools.logit_fn(xs.reshape(-1, *xs.shape[2:]))).reshape(S, G)
    ref = np.asarray(tools.logit_fn(bgs.reshape(-1, *xs.shape[2:]))).reshape(S, G, B)
    return mult, logit, ref


def _deepshap_member(model, xp: np.ndarray, bgp: np.ndarray, config: ExplainConfig) -> dict[str, np.ndarray]:
    """DeepSHAP of one model on padded inputs ``xp (G, Lp, 4)`` with references ``bgp (G, B, Lp, 4)``.

    Both strands and all ``G`` genes go into one call (see :func:`_multipliers`).
    """
    strands = [(xp, bgp)]
    if config.strands == "both":
        strands.append((_rc(xp), _rc(bgp)))
    xs = np.stack([s[0] for s in strands])  # (S, G, Lp, 4)
    bgs = np.stack([s[1] for s in strands])  # (S, G, B, Lp, 4)
    mult, logit, ref = _multipliers(model, xs, bgs, config)
    hyp = hypothetical_from_multipliers(mult, bgs)  # (S, G, Lp, 4)
    phi_sum = ((xs[:, :, None] - bgs) * mult).sum(axis=(-1, -2)).mean(axis=-1)  # (S, G)
    ref = ref.mean(axis=-1)
    return {"hyp": hyp, "logit": logit, "expected": ref, "error": np.abs(phi_sum - (logit - ref))}


def _shuffled_references(X: np.ndarray, config: ExplainConfig) -> np.ndarray:
    return dinucleotide_shuffle(X, config.n_background, seed=config.seed)


def _compute_deepshap(predictor, X: np.ndarray, config: ExplainConfig, background: np.ndarray | None) -> dict:
    """Per member and strand: hypothetical ``(M, S, N, L, 4)``, logits and errors."""
    B = config.n_background if background is None else len(background)
    genes_per_call = max(1, config.batch_size // (4 * B))
    members = []
    for model in predictor.models:
        parts = []
        for s in range(0, len(X), genes_per_call):
            chunk = X[s : s + genes_per_call]
            if background is None:
                bg = _shuffled_references(chunk, config)
            else:
                bg = np.broadcast_to(background[None], (len(chunk), *background.shape))
            parts.append(_deepshap_member(model, _pad(predictor, chunk), _pad(predictor, bg), config))
        members.append({k: np.concatenate([p[k] for p in parts], axis=1) for k in parts[0]})
    return _assemble_strands(predictor, X, members, config)


def _assemble_strands(predictor, X: np.ndarray, members: list[dict], config: ExplainConfig) -> dict:
    """Map the reverse track to forward coordinates, strip the padding, stack members."""
    hyp = []
    for m in members:
        fwd = _strip(predictor, m["hyp"][0])
        rev = _strip(predictor, _rc(m["hyp"][1])) if config.strands == "both" else fwd
        hyp.append(np.stack([fwd, rev]))
    out = {"hyp": np.stack(hyp)}  # (M, 2, N, L, 4)
    for key in ("logit", "expected", "error", "delta_prob"):
        if key in members[0]:
            vals = np.stack([m[key] for m in members])
            if config.strands != "both" and vals.shape[1] == 1:
                vals = np.concatenate([vals, vals], axis=1)
            out[key] = vals
    return out


# ----------------------------------------------------------------------------- ISM


def _ism_variants(xp: np.ndarray, pad_left: int, length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All single-base substitutions of one padded sequence ``(Lp, 4)``.

    Returns the variants ``(V, Lp, 4)`` and their positions / bases (``(V,)``, unpadded
    coordinates); the reference base is skipped, N rows get all four bases.
    """
    pos = np.repeat(np.arange(length), 4)
    base = np.tile(np.arange(4), length)
    keep = xp[pos + pad_left, base] == 0
    pos, base = pos[keep], base[keep]
    variants = np.repeat(xp[None], len(pos), axis=0)
    rows = np.arange(len(pos))
    variants[rows, pos + pad_left] = 0.0
    variants[rows, pos + pad_left, base] = 1.0
    return variants, pos, base


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _compute_ism(predictor, X: np.ndarray, config: ExplainConfig) -> dict:
    """Δ logit of every substitution per member and strand, in one batched call per sequence."""
    cfg = predictor.config
    L = cfg.input_length
    S = 2 if config.strands == "both" else 1
    members = []
    for model in predictor.models:
        fn = _tools(model).logit_fn
        hyp = np.zeros((S, len(X), L, 4), dtype=np.float32)
        dprob = np.zeros((len(X), L, 4), dtype=np.float32)
        logit = np.zeros((S, len(X)), dtype=np.float32)
        for i, xp in enumerate(_pad(predictor, X)):
            variants, pos, base = _ism_variants(xp, cfg.pad_left, L)
            batch = np.concatenate([xp[None], variants])
            if S == 2:
                batch = np.concatenate([batch, _rc(batch)])
            z = _batched(fn, batch, config.batch_size).reshape(S, -1)
            delta = z[:, 1:] - z[:, :1]  # (S, V)
            hyp[:, i, pos, base] = delta
            logit[:, i] = z[:, 0]
            p = _sigmoid(z.astype(np.float64)).mean(axis=0)
            dprob[i, pos, base] = p[1:] - p[0]
        # the mutations were made on the forward strand, so both tracks are on forward coordinates
        if S == 1:
            hyp, logit = np.concatenate([hyp, hyp]), np.concatenate([logit, logit])
        members.append({"hyp": hyp, "logit": logit, "delta_prob": dprob})
    out = {k: np.stack([m[k] for m in members]) for k in ("hyp", "logit", "delta_prob")}
    return out


def ism_contrib(delta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Importance of the reference base: minus the mean effect of replacing it, on the reference channel.

    Parameters
    ----------
    delta : numpy.ndarray
        ``(N, L, 4)`` effect of each substitution (0 at the reference).
    x : numpy.ndarray
        One-hot ``(N, L, 4)``.

    Returns
    -------
    numpy.ndarray
        float32 ``(N, L, 4)``: ``-sum(delta) / 3`` on the reference channel, 0 elsewhere
        and on N rows.
    """
    called = x.sum(axis=-1, keepdims=True) > 0
    mean_alt = delta.sum(axis=-1, keepdims=True) / 3.0
    return np.where(called, -mean_alt * x, 0.0).astype(np.float32)


# ----------------------------------------------------------------------------- gradient x input


def _compute_gradxinput(predictor, X: np.ndarray, config: ExplainConfig) -> dict:
    members = []
    xp = _pad(predictor, X)
    S = 2 if config.strands == "both" else 1
    batch = np.concatenate([xp, _rc(xp)]) if S == 2 else xp
    for model in predictor.models:
        tools = _tools(model)
        grad = _batched(tools.grad_fn, batch, config.batch_size).reshape(S, *xp.shape)
        logit = _batched(tools.logit_fn, batch, config.batch_size).reshape(S, len(X))
        members.append({"hyp": grad, "logit": logit})
    return _assemble_strands(predictor, X, members, config)


# ----------------------------------------------------------------------------- combine


def _finish(predictor, X: np.ndarray, raw: dict, config: ExplainConfig, spec: str) -> Attributions:
    """Average members and strands into an :class:`Attributions`."""
    hyp = raw["hyp"].astype(np.float32)  # (M, 2, N, L, 4)
    if config.method == "ism":
        contrib = np.stack([np.stack([ism_contrib(h, X) for h in m]) for m in hyp])
    else:
        contrib = hyp * X[None, None]
    member_hyp = hyp.mean(axis=1)
    member_con = contrib.mean(axis=1)
    logit = raw["logit"].mean(axis=(0, 1))
    expected = error = dprob = None
    if "expected" in raw:
        expected = raw["expected"].mean(axis=(0, 1)).astype(np.float32)
        error = raw["error"].max(axis=(0, 1)).astype(np.float32)
    if "delta_prob" in raw:
        dprob = raw["delta_prob"].mean(axis=0).astype(np.float32)
    # one pass per strand gives the probability (as predictor.predict) and both strands' values
    fwd, rev = predictor.predict_strands(X)
    return Attributions(
        hypothetical=member_hyp.mean(axis=0),
        contrib=member_con.mean(axis=0),
        hypothetical_fwd=hyp[:, 0].mean(axis=0),
        hypothetical_rev=hyp[:, 1].mean(axis=0),
        contrib_fwd=contrib[:, 0].mean(axis=0),
        contrib_rev=contrib[:, 1].mean(axis=0),
        logit=logit.astype(np.float32),
        probability=np.asarray(predictor.combine(fwd, rev), dtype=np.float32),
        method=config.method,
        spec=spec,
        expected_logit=expected,
        additivity_error=error,
        delta_probability=dprob,
        contrib_std=member_con.std(axis=0),
        hypothetical_std=member_hyp.std(axis=0),
        probability_fwd=np.asarray(fwd, dtype=np.float32),
        probability_rev=np.asarray(rev, dtype=np.float32),
        n_members=len(predictor.models),
    )


def _compute(predictor, X: np.ndarray, config: ExplainConfig, background: np.ndarray | None) -> Attributions:
    spec = background_spec(config, background)
    if config.method == "deepshap":
        raw = _compute_deepshap(predictor, X, config, background)
    elif config.method == "ism":
        raw = _compute_ism(predictor, X, config)
    else:
        raw = _compute_gradxinput(predictor, X, config)
    return _finish(predictor, X, raw, config, spec)


def explain(
    predictor,
    X: np.ndarray,
    config: ExplainConfig | None = None,
    *,
    background: np.ndarray | None = None,
    cache: AttributionCache | None = None,
) -> Attributions:
    """Attributions of ``X (N, input_length, 4)`` with ``config.method``.

    Parameters
    ----------
    predictor
        A :class:`~deepdife_core.model.cnn.Predictor` (one model or an ensemble).
    X
        One-hot inputs on the caller's coordinates (no padding).
    config
        Method and hyperparameters (default DeepSHAP, 100 dinucleotide shuffles).
    background
        DeepSHAP only: a fixed reference set ``(B, input_length, 4)`` (a sample of training
        genes, or an uploaded set); ``None`` uses ``config.background``.
    cache
        An :class:`AttributionCache`; genes already explained are read, not recomputed.

    Returns
    -------
    Attributions
    """
    config = config or ExplainConfig()
    if not getattr(predictor.config, "conjoin", True) and config.strands != "forward":
        # a forward-strand model (positions anchored at the TSS) is explained as it predicts
        config = replace(config, strands="forward")
    X = _check_input(predictor, X)
    if background is not None:
        if config.method != "deepshap":
            raise DeepDifEInputError(f"a background set only applies to DeepSHAP, not {config.method}")
        background = _check_background(predictor, background)
        config = replace(config, background="fixed")
    elif config.background == "fixed":
        raise DeepDifEInputError("background='fixed' needs a background array (a sample of genes or an uploaded set)")
    if cache is None:
        return _compute(predictor, X, config, background)
    return cache.explain(predictor, X, config, background)


def deep_shap(
    predictor,
    X: np.ndarray,
    *,
    background: str | np.ndarray = "shuffle",
    config: ExplainConfig | None = None,
    cache: AttributionCache | None = None,
) -> Attributions:
    """DeepSHAP (``shap.DeepExplainer``) of the **pre-sigmoid logit**, both strands.

    Parameters
    ----------
    predictor
        Model or fold ensemble; members are explained separately and averaged.
    X
        ``(N, input_length, 4)`` one-hot.
    background
        ``"shuffle"`` (default): ``config.n_background`` dinucleotide shuffles of each
        input; or an array ``(B, input_length, 4)`` shared by all genes (see
        :func:`sample_background` for DeepDifE's random sample of training genes).
    config
        ``n_background``, ``seed``, ``batch_size``, ``strands``.
    cache
        An :class:`AttributionCache`; genes already explained are read, not recomputed.

    Returns
    -------
    Attributions
        ``hypothetical`` (multipliers projected onto every base), ``contrib`` (= hypothetical ×
        one-hot), per-strand tracks, ``expected_logit`` and ``additivity_error`` (the
        DeepSHAP sum rule ``sum(phi) = f(x) - mean f(references)``, logit units).
    """
    config = replace(config or ExplainConfig(), method="deepshap")
    if isinstance(background, str):
        if background != "shuffle":
            raise DeepDifEInputError(f"background must be 'shuffle' or an array, got {background!r}")
        return explain(predictor, X, replace(config, background="shuffle"), cache=cache)
    return explain(predictor, X, config, background=background, cache=cache)


def ism(
    predictor, X: np.ndarray, *, config: ExplainConfig | None = None, cache: AttributionCache | None = None
) -> Attributions:
    """In-silico mutagenesis: every single-base substitution, one batched call per sequence.

    Parameters
    ----------
    predictor : Predictor
        One model or an ensemble.
    X : numpy.ndarray
        One-hot ``(N, input_length, 4)`` (no padding).
    config : ExplainConfig, optional
        Settings; ``method`` is set to ``"ism"``.
    cache : AttributionCache, optional
        Genes already explained are read, not recomputed.

    Returns
    -------
    Attributions
        ``hypothetical`` = Δ conjoined logit ``(N, L, 4)`` (0 at the reference base);
        ``delta_probability`` = Δ conjoined probability; ``contrib`` = minus the mean
        Δ logit of the three substitutions, on the reference base; per-strand Δ logits in
        ``hypothetical_fwd`` / ``hypothetical_rev``.
    """
    return explain(predictor, X, replace(config or ExplainConfig(), method="ism"), cache=cache)


def grad_x_input(
    predictor, X: np.ndarray, *, config: ExplainConfig | None = None, cache: AttributionCache | None = None
) -> Attributions:
    """Gradient × input of the logit (fast preview), both strands combined.

    Parameters
    ----------
    predictor, X, cache : Predictor, numpy.ndarray, AttributionCache
        As for :func:`ism`.
    config : ExplainConfig, optional
        Settings; ``method`` is set to ``"gradxinput"``.

    Returns
    -------
    Attributions
        ``hypothetical`` is the gradient ``(N, L, 4)``, ``contrib`` the gradient × one-hot.
    """
    return explain(predictor, X, replace(config or ExplainConfig(), method="gradxinput"), cache=cache)


# ----------------------------------------------------------------------------- cache

_PER_GENE = (
    "hypothetical",
    "contrib",
    "hypothetical_fwd",
    "hypothetical_rev",
    "contrib_fwd",
    "contrib_rev",
    "logit",
    "probability",
    "expected_logit",
    "additivity_error",
    "delta_probability",
    "contrib_std",
    "hypothetical_std",
    "probability_fwd",
    "probability_rev",
)


class AttributionCache:
    """Attributions on disk, one npz per gene: ``<root>/<model_hash>/<spec>/<seq_hash[:2]>/<seq_hash>.npz``.

    The key is (hash of the model weights + architecture, method + background spec,
    hash of the sequence); files are written atomically.  ``hits`` / ``misses`` count
    genes served from disk / computed.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.hits = 0
        self.misses = 0

    def path(self, model_hash: str, spec: str, x: np.ndarray) -> Path:
        """The cache file of one sequence.

        Parameters
        ----------
        model_hash : str
            :func:`model_fingerprint` of the model.
        spec : str
            :func:`background_spec` of the method and background.
        x : numpy.ndarray
            One-hot ``(L, 4)`` of the sequence.

        Returns
        -------
        Path
            ``<root>/<model_hash>/<spec>/<key[:2]>/<key>.npz``, ``key`` the first 32 hex digits
            of the SHA-256 of the sequence's tokens.
        """
        key = hashlib.sha256(tokens_from_one_hot(x).tobytes()).hexdigest()[:32]
        return self.root / model_hash / spec / key[:2] / f"{key}.npz"

    def _read(self, path: Path) -> dict[str, np.ndarray] | None:
        try:
            with np.load(path) as data:
                return {k: data[k] for k in data.files}
        except (OSError, ValueError, EOFError):
            return None

    def explain(self, predictor, X: np.ndarray, config: ExplainConfig, background: np.ndarray | None) -> Attributions:
        """Read cached genes, compute the others (in one batch), store them, return all in input order.

        Parameters
        ----------
        predictor : Predictor
            One model or an ensemble.
        X : numpy.ndarray
            One-hot ``(N, input_length, 4)``.
        config : ExplainConfig
            Method and hyperparameters.
        background : numpy.ndarray or None
            A fixed DeepSHAP reference set ``(B, input_length, 4)``, or None.

        Returns
        -------
        Attributions
            For all ``N`` genes; ``hits`` / ``misses`` count the genes read / computed.
        """
        model_hash = model_fingerprint(predictor)
        spec = background_spec(config, background)
        paths = [self.path(model_hash, spec, x) for x in X]
        found = [self._read(p) if p.exists() else None for p in paths]
        todo = [i for i, f in enumerate(found) if f is None]
        self.hits += len(X) - len(todo)
        self.misses += len(todo)
        if todo:
            fresh = _compute(predictor, X[todo], config, background)
            for j, i in enumerate(todo):
                arrays = {k: np.asarray(getattr(fresh, k)[j]) for k in _PER_GENE if getattr(fresh, k) is not None}
                buf = io.BytesIO()
                np.savez(buf, **arrays)
                _atomic_write_bytes(paths[i], buf.getvalue())
                found[i] = arrays
        # a field missing from any gene (a file written before it was stored) is None for the batch
        stacked = {k: np.stack([f[k] for f in found]) for k in _PER_GENE if all(k in f for f in found)}
        return Attributions(
            method=config.method,
            spec=spec,
            n_members=len(predictor.models),
            **{k: stacked.get(k) for k in _PER_GENE},
        )


def _atomic_write_bytes(path: Path, data: bytes) -> None:

    atomic_write_bytes(path, data)


# ----------------------------------------------------------------------------- helpers for callers


def top_window(contrib: np.ndarray, width: int = 10) -> np.ndarray:
    """Start of the ``width``-bp window with the largest summed contribution, per gene.

    Parameters
    ----------
    contrib : numpy.ndarray
        Contributions ``(N, L, 4)``.
    width : int, optional
        Window width in bp, default 10.

    Returns
    -------
    numpy.ndarray
        int ``(N,)`` start positions.
    """
    per_pos = np.asarray(contrib).sum(axis=-1)
    csum = np.concatenate([np.zeros((len(per_pos), 1)), np.cumsum(per_pos, axis=1)], axis=1)
    window = csum[:, width:] - csum[:, :-width]
    return window.argmax(axis=1)


def mass_inside(contrib: np.ndarray, start: int, end: int) -> float:
    """Fraction of the absolute attribution mass of one gene inside ``[start, end)``.

    Parameters
    ----------
    contrib : numpy.ndarray
        Contributions ``(L, 4)`` of one gene.
    start, end : int
        The half-open position range.

    Returns
    -------
    float
        In [0, 1]; 0.0 when the gene has no attribution mass.
    """
    a = np.abs(np.asarray(contrib)).sum(axis=-1)
    total = a.sum()
    return float(a[start:end].sum() / total) if total > 0 else 0.0
