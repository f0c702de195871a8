"""The CNN (Keras 3, Conv1D on one-hot ``(N, L, 4)``) and prediction.

Architecture (every number is a :class:`~deepdife_core.config.ModelConfig` field)::

    Conv1D(filters, kernel_size, valid, first_activation) -> MaxPool(pool_size) -> Dropout
      (strand_shared: each filter = max of itself and its reverse complement, per position)
    (n_conv - 1) x [Conv1D(filters / 2**(i-1), conv_kernel, stride conv_stride, same, relu) -> Dropout]
    head: Flatten | GlobalMaxPool | max within region_bp windows + Flatten
    dense_units x Dense(relu) (Dropout after the first) -> Dense(1, sigmoid)

with optional batch normalisation before every hidden activation.  The default
is the regional network (``n_conv=1``, strand-shared filters, ``head="global_region"``,
one dense layer of 64); DeepDifE's network is ``n_conv=3``, ``head="flatten"``, dense 256 + 128
(:data:`~deepdife_core.config.DEEPDIFE_MODEL`).  All kernels carry an L2 penalty.
Predictions of a both-strand model (``ModelConfig.conjoin``) are *conjoined*
post hoc: the probability of a gene is the mean of the outputs on the forward and
the reverse-complement strand; a forward-strand model predicts from the promoter
as given.

A :class:`Predictor` bundles one or more Keras models (fold ensembles) with their
:class:`~deepdife_core.config.ModelConfig`; it pads inputs to the network length
itself, so callers always pass ``(N, input_length, 4)``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np

from deepdife_core.config import ModelConfig
from deepdife_core.data.encode import pad_one_hot, reverse_complement
from deepdife_core.errors import DeepDifEInputError

_TF_READY = False


def quiet_tensorflow() -> None:
    """Import TensorFlow/Keras with its C++ start-up log lines (oneDNN, CPU features) silenced.

    Those lines are written to file descriptor 2 before TF's own log settings
    apply; biologists reading the CLI output only need our messages.  Python
    exceptions still propagate.
    """
    global _TF_READY
    if _TF_READY:
        return
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            import tensorflow as tf

            tf.constant(1.0) + 1.0  # triggers the CPU-feature log line
            import keras  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    _TF_READY = True


_LAYERS: dict = {}


def _keras():
    quiet_tensorflow()
    import keras

    if not _LAYERS:
        _LAYERS["StrandMaxConv1D"] = _strand_max_conv(keras)
    return keras


def _strand_max_conv(keras):
    """The class of a Conv1D whose filters read both strands (registered once, so model.keras loads it)."""

    @keras.saving.register_keras_serializable(package="deepdife")
    class StrandMaxConv1D(keras.layers.Conv1D):
        """Conv1D whose every filter scores both strands: ``max(conv(x, W), conv(x, rc(W)))`` per position.

        The reverse-complement score at a position is the filter run on the
        reverse-complemented input, flipped back, so positions stay anchored at
        the TSS while a motif is found in either orientation by the same weights.
        One-hot channels are A, C, G, T: the complement is the channel axis reversed.
        """

        def call(self, inputs):
            ops = keras.ops
            fwd = super().call(inputs)
            rev = super().call(ops.flip(ops.flip(inputs, axis=1), axis=2))
            return ops.maximum(fwd, ops.flip(rev, axis=1))

    return StrandMaxConv1D


def build_model(cfg: ModelConfig | None = None, *, seed: int = 0):
    """Build (uncompiled) the DeepDifE CNN.

    Parameters
    ----------
    cfg
        Architecture; defaults to :class:`ModelConfig()`.
    seed
        Seed of the weight initialisers and dropout masks (local, no global state).

    Returns
    -------
    keras.Model
        Input ``(None, cfg.network_length, 4)``, output ``(None, 1)`` sigmoid.
    """
    keras = _keras()
    layers = keras.layers
    cfg = cfg or ModelConfig()
    reg = keras.regularizers.L2(cfg.l2) if cfg.l2 > 0 else None
    counter = iter(range(10_000))

    def init():
        return keras.initializers.GlorotUniform(seed=seed * 1000 + next(counter))

    filters = cfg.conv_filters()
    inputs = keras.Input((cfg.network_length, 4), name="one_hot")

    def norm(x, name):
        return layers.BatchNormalization(name=name)(x) if cfg.batch_norm else x

    first = _LAYERS["StrandMaxConv1D"] if cfg.strand_shared else layers.Conv1D
    x = first(
        filters[0],
        cfg.kernel_size,
        padding="valid",
        activation=None if cfg.batch_norm else cfg.first_activation,
        kernel_initializer=init(),
        kernel_regularizer=reg,
        name="conv_0",
    )(inputs)
    if cfg.batch_norm:
        x = layers.Activation(cfg.first_activation, name="conv_0_act")(norm(x, "bn_0"))
    x = layers.MaxPooling1D(cfg.pool_size, name="pool_0")(x)
    x = layers.Dropout(cfg.dropout, seed=seed * 1000 + 101, name="dropout_0")(x)
    for i in range(1, cfg.n_conv):
        x = layers.Conv1D(
            filters[i],
            cfg.conv_kernel,
            strides=cfg.conv_stride,
            padding="same",
            activation=None if cfg.batch_norm else "relu",
            kernel_initializer=init(),
            kernel_regularizer=reg,
            name=f"conv_{i}",
        )(x)
        if cfg.batch_norm:
            x = layers.Activation("relu", name=f"conv_{i}_act")(norm(x, f"bn_{i}"))
        x = layers.Dropout(cfg.dropout, seed=seed * 1000 + 101 + i, name=f"dropout_{i}")(x)
    if cfg.head == "global_max":  # a one-window MaxPooling1D: shap's DeepExplainer fails on GlobalMaxPooling1D
        x = layers.Flatten(name="flatten")(layers.MaxPooling1D(int(x.shape[1]), name="global_max")(x))
    elif cfg.head in ("region_max", "global_region"):
        steps = int(x.shape[1])
        window = max(1, min(steps, round(cfg.region_bp * steps / cfg.network_length)))
        regions = layers.Flatten(name="flatten")(layers.MaxPooling1D(window, padding="same", name="region_max")(x))
        if cfg.head == "global_region":
            # the global maximum as a one-window MaxPooling1D: a MaxPool op, which shap's DeepExplainer explains
            # (its handler for GlobalMaxPooling1D's Max op fails on this shape)
            whole = layers.Flatten(name="flatten_global")(layers.MaxPooling1D(steps, name="global_max")(x))
            x = layers.Concatenate(name="global_region")([whole, regions])
        else:
            x = regions
    else:
        x = layers.Flatten(name="flatten")(x)
    for j, units in enumerate(cfg.dense_units):
        x = layers.Dense(
            units,
            activation=None if cfg.batch_norm else "relu",
            kernel_initializer=init(),
            kernel_regularizer=reg,
            name=f"dense_{j}",
        )(x)
        if cfg.batch_norm:
            x = layers.Activation("relu", name=f"dense_{j}_act")(norm(x, f"bn_dense_{j}"))
        if j == 0:
            x = layers.Dropout(cfg.dropout, seed=seed * 1000 + 201, name="dropout_dense")(x)
    outputs = layers.Dense(1, activation="sigmoid", kernel_initializer=init(), kernel_regularizer=reg, name="output")(x)
    return keras.Model(inputs, outputs, name="deepdife")


def logit_model(model):
    """A model sharing ``model``'s weights whose output is the pre-sigmoid logit.

    Parameters
    ----------
    model : keras.Model
        A network whose last layer is the sigmoid dense output (kernel and bias).

    Returns
    -------
    keras.Model
        Same inputs, output ``(batch, 1)`` logits, named ``<model.name>_logit``.
    """
    keras = _keras()
    last = model.layers[-1]
    penultimate = last.input
    w = last.kernel
    b = last.bias
    out = keras.ops.matmul(penultimate, w) + b
    return keras.Model(model.inputs, out, name=model.name + "_logit")


def _batched_call(model, x: np.ndarray, batch_size: int) -> np.ndarray:
    out = []
    for start in range(0, len(x), batch_size):
        out.append(np.asarray(model(x[start : start + batch_size], training=False)))
    if not out:
        return np.zeros((0,), dtype=np.float32)
    return np.concatenate(out)[:, 0]


@dataclass
class Predictor:
    """Keras model(s) + architecture config, ready to predict on ``(N, input_length, 4)``.

    Attributes
    ----------
    models
        One Keras model, or several (a fold ensemble whose probabilities are averaged).
    config
        The architecture, including the inference padding.
    path
        The model folder it was loaded from, if any.
    """

    models: Sequence
    config: ModelConfig
    path: Path | None = None

    def prepare(self, x: np.ndarray) -> np.ndarray:
        """Validate a one-hot batch and add the inference padding.

        Parameters
        ----------
        x : numpy.ndarray
            One-hot ``(N, input_length, 4)``, or one sequence ``(input_length, 4)``.

        Returns
        -------
        numpy.ndarray
            float32 ``(N, network_length, 4)``: ``pad_left`` / ``pad_right`` N rows added.

        Raises
        ------
        DeepDifEInputError
            If ``x`` is not one-hot shaped or its length is not the model's ``input_length``.
        """
        x = np.asarray(x, dtype=np.float32)
        if x.ndim == 2:
            x = x[None]
        if x.ndim != 3 or x.shape[-1] != 4:
            raise DeepDifEInputError(f"expected one-hot input (N, L, 4), got shape {x.shape}")
        if x.shape[1] != self.config.input_length:
            raise DeepDifEInputError(
                f"sequences are {x.shape[1]} bp but the model expects {self.config.input_length} bp; "
                "rebuild the dataset with that length"
            )
        return pad_one_hot(x, self.config.pad_left, self.config.pad_right)

    def predict_strands(self, x: np.ndarray, *, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """Forward and reverse-complement probabilities (ensemble mean).

        Parameters
        ----------
        x : numpy.ndarray
            One-hot ``(N, input_length, 4)``.
        batch_size : int, optional
            Sequences per forward pass, default 256.

        Returns
        -------
        tuple of (numpy.ndarray, numpy.ndarray)
            ``(fwd, rev)``, each float32 ``(N,)``.
        """
        xp = self.prepare(x)
        xr = np.ascontiguousarray(reverse_complement(xp))
        fwd = np.mean([_batched_call(m, xp, batch_size) for m in self.models], axis=0)
        rev = np.mean([_batched_call(m, xr, batch_size) for m in self.models], axis=0)
        return fwd, rev

    def combine(self, fwd: np.ndarray, rev: np.ndarray) -> np.ndarray:
        """The model's probability from its strand outputs: their mean, or the forward one if not conjoined.

        Parameters
        ----------
        fwd, rev : numpy.ndarray
            Forward and reverse-complement probabilities, ``(N,)``.

        Returns
        -------
        numpy.ndarray
            ``(N,)`` probabilities.
        """
        return (np.asarray(fwd) + np.asarray(rev)) / 2.0 if self.config.conjoin else np.asarray(fwd)

    def predict(self, x: np.ndarray, *, conjoin: bool = True, batch_size: int = 256) -> np.ndarray:
        """Probabilities: mean of both strands if ``conjoin`` (and the model is conjoined), else forward.

        Parameters
        ----------
        x : numpy.ndarray
            One-hot ``(N, input_length, 4)`` (or one ``(input_length, 4)`` sequence).
        conjoin : bool, optional
            Average with the reverse complement when the model is conjoined (default True).
        batch_size : int, optional
            Sequences per forward pass, default 256.

        Returns
        -------
        numpy.ndarray
            float32 ``(N,)`` probabilities, averaged over the ensemble members.
        """
        if not (conjoin and self.config.conjoin):
            xp = self.prepare(x)
            return np.mean([_batched_call(m, xp, batch_size) for m in self.models], axis=0)
        fwd, rev = self.predict_strands(x, batch_size=batch_size)
        return self.combine(fwd, rev)

    def predict_members(self, x: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
        """Probabilities of every ensemble member (conjoined as the model predicts).

        Parameters
        ----------
        x, batch_size : numpy.ndarray, int
            As for :meth:`predict_strands`.

        Returns
        -------
        numpy.ndarray
            float32 ``(n_members, N)``.
        """
        xp = self.prepare(x)
        if not self.config.conjoin:
            return np.stack([_batched_call(m, xp, batch_size) for m in self.models])
        xr = np.ascontiguousarray(reverse_complement(xp))
        return np.stack(
            [(_batched_call(m, xp, batch_size) + _batched_call(m, xr, batch_size)) / 2.0 for m in self.models]
        )


# ----------------------------------------------------------------------------- legacy import


def legacy_config(json_path: str | Path) -> ModelConfig:
    """Read the architecture of a published DeepDifE model (Keras 2 JSON, Conv2D on (L, 4, 1)).

    The JSON is parsed as data only (no deserialisation of code).  The published
    model takes 620 rows: 600 bp plus 10 EvoAug padding rows on each side.

    Parameters
    ----------
    json_path : str or Path
        DeepDifE's ``model_*.json``.

    Returns
    -------
    ModelConfig
        The architecture, with its input length and padding.

    Raises
    ------
    DeepDifEInputError
        If the file is not a Keras model JSON or its layer list is malformed or unsupported.
    """
    path = Path(json_path)
    try:
        spec = json.loads(path.read_text())
        layers = spec["config"]["layers"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DeepDifEInputError(f"{path.name}: not a Keras model JSON ({exc}); give DeepDifE's model_*.json") from exc
    try:
        return _legacy_from_layers(layers, path.name)
    except DeepDifEInputError:
        raise
    except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
        raise DeepDifEInputError(
            f"{path.name}: malformed layer list ({type(exc).__name__}: {exc}); give DeepDifE's model_*.json"
        ) from exc


def _legacy_from_layers(layers: list, name: str) -> ModelConfig:
    """The :class:`ModelConfig` of a Keras 2 layer list (raises on any malformed entry)."""
    convs = [lay["config"] for lay in layers if lay.get("class_name") == "Conv2D"]
    pools = [lay["config"] for lay in layers if lay.get("class_name") == "MaxPooling2D"]
    denses = [lay["config"] for lay in layers if lay.get("class_name") == "Dense"]
    drops = [lay["config"] for lay in layers if lay.get("class_name") == "Dropout"]
    shape = None
    for lay in layers:
        shape = lay["config"].get("batch_input_shape") or shape
        if shape:
            break
    if not convs or not pools or len(denses) < 2 or shape is None:
        raise DeepDifEInputError(
            f"{name}: expected DeepDifE's Conv2D/MaxPooling2D/Dense layout, found "
            f"{[lay.get('class_name') for lay in layers]}"
        )
    network_length = int(shape[1])
    pad = 10 if network_length == 620 else 0
    l2 = 0.0
    reg = convs[0].get("kernel_regularizer") or {}
    if isinstance(reg, dict):
        l2 = float((reg.get("config") or {}).get("l2", 0.0))
    return ModelConfig(
        input_length=network_length - 2 * pad,
        pad_left=pad,
        pad_right=pad,
        n_conv=len(convs),
        filters=int(convs[0]["filters"]),
        kernel_size=int(convs[0]["kernel_size"][0]),
        pool_size=int(pools[0]["pool_size"][0]),
        conv_kernel=int(convs[1]["kernel_size"][0]) if len(convs) > 1 else 6,
        conv_stride=int(convs[1]["strides"][0]) if len(convs) > 1 else 6,
        dropout=float(drops[0]["rate"]) if drops else 0.25,
        dense_units=tuple(int(d["units"]) for d in denses[:-1]),
        l2=round(l2, 12),
        first_activation="relu",
        head="flatten",
        batch_norm=False,
        strand_shared=False,
        conjoin=True,
    )


def _h5_kernels(weights_path: Path) -> list[tuple[str, dict[str, np.ndarray]]]:
    """Kernel/bias arrays of every layer in a Keras 2 HDF5 weights file, in layer order."""
    import h5py

    try:
        f = h5py.File(weights_path, "r")
    except OSError as exc:
        raise DeepDifEInputError(f"{weights_path.name}: not an HDF5 weights file ({exc})") from exc
    with f:
        root = f.get("model_weights", f)
        names = [n.decode() if isinstance(n, bytes) else n for n in root.attrs.get("layer_names", list(root.keys()))]
        out = []
        for name in names:
            group = root[name]
            wnames = [w.decode() if isinstance(w, bytes) else w for w in group.attrs.get("weight_names", [])]
            if not wnames:
                continue
            arrays = {}
            for w in wnames:
                key = w.split("/")[-1].split(":")[0]
                arrays[key] = np.asarray(group[w])
            out.append((name, arrays))
    return out


def import_legacy(json_path: str | Path, weights_path: str | Path):
    """Rebuild a published DeepDifE model as a Conv1D Keras 3 model.

    Conv2D kernels ``(k, 4, 1, f)`` / ``(k, 1, c, f)`` become Conv1D kernels
    ``(k, 4, f)`` / ``(k, c, f)``; dense layers are copied unchanged.

    Parameters
    ----------
    json_path : str or Path
        DeepDifE's ``model_*.json`` (architecture, see :func:`legacy_config`).
    weights_path : str or Path
        The matching HDF5 weights file.

    Returns
    -------
    Predictor
        With the published padding (10 N rows each side for a 620-row model).

    Raises
    ------
    DeepDifEInputError
        If the weights do not match the layers the JSON describes.
    """
    cfg = legacy_config(json_path)
    model = build_model(cfg)
    weights = _h5_kernels(Path(weights_path))
    targets = [lay for lay in model.layers if lay.weights]
    if len(weights) != len(targets):
        raise DeepDifEInputError(
            f"{Path(weights_path).name}: {len(weights)} weighted layers, but the JSON describes {len(targets)}"
        )
    for layer, (name, arrays) in zip(targets, weights, strict=True):
        kernel, bias = arrays.get("kernel"), arrays.get("bias")
        if kernel is None or bias is None:
            raise DeepDifEInputError(f"{Path(weights_path).name}: layer {name!r} lacks kernel/bias")
        if kernel.ndim == 4:  # Conv2D (k, w, c, f) -> Conv1D
            k, w, c, f = kernel.shape
            kernel = kernel.reshape(k, w * c, f)
        expected = tuple(layer.kernel.shape)
        if kernel.shape != expected:
            raise DeepDifEInputError(
                f"{Path(weights_path).name}: layer {name!r} kernel {kernel.shape} does not fit {expected}"
            )
        layer.set_weights([kernel, bias])
    return Predictor([model], cfg)
