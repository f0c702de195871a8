"""A fast DeepLIFT-rescale engine with exactly the rules of shap's TensorFlow DeepExplainer.

Why
---
``shap.DeepExplainer`` (``shap/explainers/_deep/deep_tf.py``) explains a batch that
holds the input ``x`` tiled ``B`` times in its first half and the ``B`` references in
its second half, and back-propagates *both* halves through its overridden gradients.
For one gene that is ``2 B`` forward and ``2 B`` backward rows although ``x`` is the
same row ``B`` times.  This engine forwards ``x`` once (one row per gene), forwards
the ``B`` references and back-propagates only the ``B`` reference rows, broadcasting
the activations of ``x`` against those of each reference in the rules.

Rules (shap's multipliers of the reference half of its joint batch)
-------------------------------------------------------------------
Linear ops (convolution, dense, bias, flatten, dropout at inference, padding) pass
their plain gradients.  With ``dz = z_x - z_r`` the difference of an op's inputs
and ``y`` its outputs:

* element-wise nonlinearities (``relu, sigmoid, tanh, softplus, elu, selu,
  exponential``; shap's ``nonlinearity_1d``)::

      m_in = where(|dz| < 1e-6, plain gradient at z_r, m_out * ((y_x - y_r) / dz))

* max pooling (shap's ``maxpool``), ``c = max(y_x, y_r)``::

      m_in = where(|dz| < 1e-7, 0,
                   (route_x(m_out * (c - y_r)) + route_r(m_out * (y_x - c))) / dz)

  where ``route_x`` / ``route_r`` send each window's value to the window's first
  maximum in ``x`` / in the reference (TensorFlow's ``MaxPoolGrad``).

Shap routes the input half with *its own* upstream multipliers; they equal the
reference half's except where a nonlinearity falls back to the plain gradient with
``x`` and the reference on different sides of a kink within 1e-6 of each other (a
float32 round-off-sized difference at most).

Speed
-----
The first block of a DeepDifE CNN (``Conv1D -> relu -> MaxPooling1D``) holds almost
all the work.  Its rules are evaluated in one XLA-compiled element-wise pass (the
activation followed by a non-overlapping pool: the two rules fused, as dense masks of
each window's first maximum), and the gradient of a stride-1 ``valid`` ``Conv1D`` is
one matrix product plus an overlap-add, also compiled with XLA (3x cheaper than
TensorFlow's ``Conv2DBackpropInput`` on CPU; same sums, another order).  Everything
else is plain TensorFlow under one ``tf.function`` per model.

The explained output is the pre-sigmoid logit (:func:`deepdife_core.model.cnn.logit_model`):
the last layer's activation is dropped.  :func:`supports` says whether a model is
made only of layers the engine knows; :mod:`deepdife_core.interpret.explain` falls back to
shap otherwise.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from deepdife_core.errors import DeepDifEInputError

#: Keras activations the engine handles (each is a single TensorFlow op shap rescales, or none).
ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "softplus", "elu", "selu", "exponential")
#: Layer classes the engine handles.
LAYERS = ("InputLayer", "Conv1D", "Dense", "MaxPooling1D", "Dropout", "Flatten", "Activation", "Identity")

_RESCALE_EPS = 1e-6  # shap nonlinearity_1d: below this |dz| the plain gradient is used
_POOL_EPS = 1e-7  # shap maxpool: below this |dz| the multiplier is 0

# ----------------------------------------------------------------------------- model analysis


@dataclass(frozen=True)
class _Step:
    """One stage of the network.

    ``kind``: ``"linear"`` (plain gradient), ``"conv"`` (stride-1 valid Conv1D, XLA
    gradient), ``"act"`` (rescale), ``"maxpool"`` (shap's pool rule) or ``"actpool"``
    (an activation followed by a non-overlapping pool, both rules fused).
    """

    kind: str
    layer: Any = None
    activation: str = ""


def _activation_name(fn) -> str | None:
    """Name of a built-in Keras activation function we handle, or ``None``."""
    import keras

    if fn is None:
        return "linear"
    for name in ACTIVATIONS:
        if fn is keras.activations.get(name):
            return name
    return None


def _chain(model) -> list:
    """The model's layers in order if they form one chain input -> ... -> output.

    Raises
    ------
    DeepDifEInputError
        Naming the operation or layer that breaks the chain.
    """
    import keras

    try:
        n_in, n_out = len(model.inputs), len(model.outputs)
    except (AttributeError, ValueError) as exc:
        raise DeepDifEInputError(f"model {model.name!r} is not built ({exc})") from exc
    if n_in != 1 or n_out != 1:
        raise DeepDifEInputError(f"model {model.name!r} has {n_in} inputs / {n_out} outputs; use engine='shap'")
    if isinstance(model, keras.Sequential):
        return list(model.layers)
    layers = [op for op in model.operations if not isinstance(op, keras.layers.InputLayer)]
    for op in layers:
        if not isinstance(op, keras.layers.Layer):
            raise DeepDifEInputError(f"operation {op.name!r} ({type(op).__name__}) is not a layer; use engine='shap'")
    prev = model.inputs[0]
    for layer in layers:
        nodes = [n for n in layer._inbound_nodes if any(t is prev for t in n.input_tensors)]
        if len(nodes) != 1 or len(nodes[0].input_tensors) != 1 or len(nodes[0].output_tensors) != 1:
            raise DeepDifEInputError(f"layer {layer.name!r} is not fed by the previous layer alone; use engine='shap'")
        prev = nodes[0].output_tensors[0]
    if prev is not model.outputs[0]:
        raise DeepDifEInputError(f"model {model.name!r}: the output is not the end of its layer chain")
    return layers


def _check_layer(layer) -> str:
    """The layer's class name if the engine supports its configuration, else raise."""
    kind = type(layer).__name__
    if kind not in LAYERS:
        raise DeepDifEInputError(
            f"layer {layer.name!r} ({kind}) is not supported by the DeepLIFT engine; use engine='shap'"
        )
    if kind in ("Conv1D", "Dense"):
        if getattr(layer, "lora_enabled", False) or getattr(layer, "quantization_mode", None):
            raise DeepDifEInputError(f"layer {layer.name!r} is LoRA-enabled or quantized; use engine='shap'")
        if layer.compute_dtype != "float32":
            raise DeepDifEInputError(f"layer {layer.name!r} computes in {layer.compute_dtype}; use engine='shap'")
    if kind in ("Conv1D", "MaxPooling1D") and layer.data_format != "channels_last":
        raise DeepDifEInputError(f"layer {layer.name!r} is channels_first; use engine='shap'")
    return kind


def _simple_conv(layer) -> bool:
    """A stride-1, undilated, ungrouped ``valid`` Conv1D (its gradient is a matmul + overlap-add)."""
    return (
        layer.padding == "valid"
        and tuple(layer.strides) == (1,)
        and tuple(layer.dilation_rate) == (1,)
        and layer.groups == 1
    )


def _non_overlapping(layer) -> bool:
    """Whether a pooling layer's windows tile its input (``valid``, stride = window)."""
    return layer.padding == "valid" and tuple(layer.strides) == tuple(layer.pool_size)


def _plan(model) -> list[_Step]:
    """Translate a model into engine steps (the last layer's activation dropped), or raise.

    Raises
    ------
    DeepDifEInputError
        Naming the first layer (or activation) the engine does not support.
    """
    layers = _chain(model)
    if not layers or type(layers[-1]).__name__ != "Dense":
        raise DeepDifEInputError(f"model {model.name!r} must end with a Dense layer (its logit is explained)")
    in_shape, out_shape = tuple(model.inputs[0].shape[1:]), tuple(model.outputs[0].shape[1:])
    if len(in_shape) != 2 or out_shape != (1,):
        raise DeepDifEInputError(
            f"model {model.name!r} maps {in_shape} to {out_shape}; the engine explains (L, C) -> (1,) models"
        )
    steps: list[_Step] = []
    for i, layer in enumerate(layers):
        kind = _check_layer(layer)
        if kind in ("Conv1D", "Dense"):
            steps.append(_Step("conv" if kind == "Conv1D" and _simple_conv(layer) else "linear", layer))
            if i == len(layers) - 1:
                continue  # the logit: the output activation is not applied
        elif kind == "MaxPooling1D":
            if steps and steps[-1].kind == "act" and _non_overlapping(layer):
                steps[-1] = _Step("actpool", layer, steps[-1].activation)
            else:
                steps.append(_Step("maxpool", layer))
            continue
        elif kind == "Flatten":
            steps.append(_Step("linear", layer))
            continue
        elif kind != "Activation":
            continue  # InputLayer, Dropout (identity at inference), Identity
        name = _activation_name(layer.activation)
        if name is None:
            raise DeepDifEInputError(
                f"layer {layer.name!r}: activation {getattr(layer.activation, '__name__', layer.activation)!r} "
                "is not supported by the DeepLIFT engine; use engine='shap'"
            )
        if name != "linear":
            steps.append(_Step("act", layer, name))
    return steps


def unsupported_reason(model) -> str | None:
    """Why the engine cannot explain ``model`` (naming the layer), or ``None`` if it can.

    Parameters
    ----------
    model : keras.Model
        The network to check.

    Returns
    -------
    str or None
        The error message of the first unsupported layer, or None.
    """
    try:
        _plan(model)
    except DeepDifEInputError as exc:
        return str(exc)
    return None


def supports(model) -> bool:
    """Whether :func:`deeplift_multipliers` can explain ``model`` (a chain of supported layers).

    Parameters
    ----------
    model : keras.Model
        The network to check.

    Returns
    -------
    bool
        True when every layer is supported.
    """
    return unsupported_reason(model) is None


# ----------------------------------------------------------------------------- TensorFlow pieces


def _linear(layer, h):
    """The linear part of a layer (no activation), with the same ops as the layer's own ``call``."""
    from keras import ops

    kind = type(layer).__name__
    if kind == "Conv1D":
        out = layer.convolution_op(h, layer.kernel)
        if layer.use_bias:
            out = ops.add(out, ops.reshape(layer.bias, (1, 1, layer.filters)))
        return out
    if kind == "Dense":
        out = ops.matmul(h, layer.kernel)
        if layer.bias is not None:
            out = ops.add(out, layer.bias)
        return out
    return layer(h, training=False)  # Flatten


def _activation(name: str, z):
    import keras

    return keras.activations.get(name)(z)


def _plain_grad(name: str, dy, z, y):
    """TensorFlow's registered gradient of the activation op at input ``z`` (output ``y``)."""
    import tensorflow as tf

    if name == "relu":
        return tf.raw_ops.ReluGrad(gradients=dy, features=y)
    if name == "sigmoid":
        return tf.raw_ops.SigmoidGrad(y=y, dy=dy)
    if name == "tanh":
        return tf.raw_ops.TanhGrad(y=y, dy=dy)
    if name == "softplus":
        return tf.raw_ops.SoftplusGrad(gradients=dy, features=z)
    if name == "elu":
        return tf.raw_ops.EluGrad(gradients=dy, outputs=y)
    if name == "selu":
        return tf.raw_ops.SeluGrad(gradients=dy, outputs=y)
    return dy * y  # exponential


def _split(t, B):
    """``(G * B, ...)`` -> ``(G, B, ...)``."""
    import tensorflow as tf

    return tf.reshape(t, tf.concat([[-1, B], tf.shape(t)[1:]], 0))


def _merge(t):
    """``(G, B, ...)`` -> ``(G * B, ...)``."""
    import tensorflow as tf

    return tf.reshape(t, tf.concat([[-1], tf.shape(t)[2:]], 0))


def _rescale(name: str, zx, yx, B):
    """Activation ``name`` of the references with shap's rescale gradient against ``x``'s ``zx``/``yx``."""
    import tensorflow as tf

    @tf.custom_gradient
    def act(zr):
        yr = _activation(name, zr)

        def grad(dy):
            dz = zx[:, None] - _split(zr, B)
            rescaled = _split(dy, B) * ((yx[:, None] - _split(yr, B)) / dz)
            plain = _split(_plain_grad(name, dy, zr, yr), B)
            return _merge(tf.where(tf.abs(dz) < _RESCALE_EPS, plain, rescaled))

        return yr, grad

    return act


def _route(layer, h, y, g):
    """TensorFlow's MaxPool gradient: each window's ``g`` sent to the window's first maximum of ``h``."""
    import tensorflow as tf

    (k,), (s,) = layer.pool_size, layer.strides
    out = tf.raw_ops.MaxPoolGrad(
        orig_input=tf.expand_dims(h, 1),
        orig_output=tf.expand_dims(y, 1),
        grad=tf.expand_dims(g, 1),
        ksize=[1, 1, k, 1],
        strides=[1, 1, s, 1],
        padding=layer.padding.upper(),
    )
    return tf.squeeze(out, 1)


def _maxpool(layer, hx, yx, B):
    """Max pooling of the references with shap's ``maxpool`` rule against ``x``'s ``hx``/``yx`` (any layout)."""
    import tensorflow as tf

    @tf.custom_gradient
    def pool(hr):
        yr = layer(hr)

        def grad(dy):
            yr_, dy_ = _split(yr, B), _split(dy, B)
            cross = tf.maximum(yx[:, None], yr_)
            xpos = _route(
                layer,
                _merge(tf.broadcast_to(hx[:, None], tf.shape(_split(hr, B)))),
                _merge(tf.broadcast_to(yx[:, None], tf.shape(yr_))),
                _merge(dy_ * (cross - yr_)),
            )
            rpos = _route(layer, hr, yr, _merge(dy_ * (yx[:, None] - cross)))
            dh = hx[:, None] - _split(hr, B)
            return _merge(tf.where(tf.abs(dh) < _POOL_EPS, tf.zeros_like(dh), _split(xpos + rpos, B) / dh))

        return yr, grad

    return pool


def _windows(t, k: int):
    """``(N, L, C)`` -> ``(N, L // k, k, C)`` (the pooled part; tail rows dropped)."""
    import tensorflow as tf

    n_win = tf.shape(t)[1] // k
    return tf.reshape(t[:, : n_win * k], tf.stack([tf.shape(t)[0], n_win, k, tf.shape(t)[2]]))


def _first_max(h4, y, k: int):
    """Mask ``(N, W, k, C)`` of each window's first maximum (where TensorFlow's MaxPoolGrad routes)."""
    import tensorflow as tf

    j = tf.range(k)[None, None, :, None]
    first = tf.reduce_min(tf.where(h4 == y[:, :, None], j, k), axis=2)
    return j == first[:, :, None]


def _relu_pool(zr, k: int):
    """``max_pool(relu(zr))`` over non-overlapping windows of ``k`` (XLA-compiled: one pass, no relu array)."""
    import tensorflow as tf

    return tf.reduce_max(tf.nn.relu(_windows(zr, k)), axis=2)


def _actpool_grad(name: str, k: int, zx, hx, yx, zr, hr, yr, dy):
    """Multipliers of the activation's input ``(N_r, L, C)``: shap's maxpool then rescale rule, densely.

    ``hr`` may be ``None`` for relu (recomputed).  ``x``'s arrays have ``G`` rows, the
    references' ``G * B``.  Positions outside every window get 0.
    """
    import tensorflow as tf

    B = tf.shape(zr)[0] // tf.shape(zx)[0]
    if hr is None:
        hr = tf.nn.relu(zr)
    zx4, hx4 = _windows(zx, k)[:, None], _windows(hx, k)[:, None]  # (G, 1, W, k, C)
    zr4, hr4 = _split(_windows(zr, k), B), _split(_windows(hr, k), B)  # (G, B, W, k, C)
    yr_, dy_ = _split(yr, B), _split(dy, B)
    cross = tf.maximum(yx[:, None], yr_)
    gx = (dy_ * (cross - yr_))[:, :, :, None]
    gr = (dy_ * (yx[:, None] - cross))[:, :, :, None]
    mx = _first_max(_windows(hx, k), yx, k)[:, None]
    mr = _split(_first_max(_windows(hr, k), yr, k), B)
    routed = tf.where(mx, gx, tf.zeros_like(gx)) + tf.where(mr, gr, tf.zeros_like(gr))
    dh = hx4 - hr4
    mh = tf.where(tf.abs(dh) < _POOL_EPS, tf.zeros_like(dh), routed / dh)
    dz = zx4 - zr4
    m = tf.where(tf.abs(dz) < _RESCALE_EPS, _plain_grad(name, mh, zr4, hr4), mh * (dh / dz))
    m = tf.reshape(m, tf.concat([[-1, tf.shape(m)[2] * k], tf.shape(zr)[2:]], 0))
    return tf.pad(m, [[0, 0], [0, tf.shape(zr)[1] - tf.shape(m)[1]], [0, 0]])


def _conv_input_grad(dz, kernel):
    """Gradient of a stride-1 ``valid`` Conv1D w.r.t. its input: ``dz (N, Lz, F)`` -> ``(N, Lz + K - 1, Cin)``.

    ``(N Lz, F) @ (F, K Cin)`` then the ``K`` shifted slices are added (overlap-add).
    """
    import tensorflow as tf

    K, cin, f = kernel.shape
    n, lz = tf.shape(dz)[0], tf.shape(dz)[1]
    w = tf.reshape(tf.transpose(kernel, [2, 0, 1]), (f, K * cin))
    p = tf.reshape(tf.matmul(tf.reshape(dz, (-1, f)), w), tf.stack([n, lz, K, cin]))
    out = tf.pad(p[:, :, 0], [[0, 0], [0, K - 1], [0, 0]])
    for j in range(1, K):
        out = out + tf.pad(p[:, :, j], [[0, 0], [j, K - 1 - j], [0, 0]])
    return out


class _Compiled:
    """The XLA-compiled pieces of one engine (compiled per input shape on first use)."""

    def __init__(self) -> None:
        import tensorflow as tf

        self._tf = tf
        self._fns: dict = {}

    def get(self, key, fn):
        if key not in self._fns:
            self._fns[key] = self._tf.function(fn, jit_compile=True, reduce_retracing=True)
        return self._fns[key]


def _conv(layer, xla: _Compiled):
    """A stride-1 valid Conv1D of the references whose input gradient is the XLA matmul + overlap-add."""
    import tensorflow as tf
    from keras import ops

    kernel = tf.convert_to_tensor(layer.kernel)
    bias = tf.convert_to_tensor(layer.bias) if layer.use_bias else None
    grad_fn = xla.get(("conv", layer.name), _conv_input_grad)

    @tf.custom_gradient
    def conv(h):
        out = layer.convolution_op(h, kernel)
        if bias is not None:
            out = ops.add(out, ops.reshape(bias, (1, 1, layer.filters)))

        def grad(dz, variables=None):
            # the weights are not explained: no gradient for them (the tape does not watch them)
            return grad_fn(dz, kernel), [None] * len(variables or ())

        return out, grad

    return conv


def _actpool(name: str, layer, x_saved, xla: _Compiled):
    """Activation + non-overlapping max pooling of the references, with shap's two rules fused (XLA)."""
    import tensorflow as tf

    zx, hx, yx = x_saved
    (k,) = layer.pool_size
    grad_fn = xla.get(("actpool", name, k), lambda *a: _actpool_grad(name, k, *a))
    relu_pool = xla.get(("relupool", k), lambda z: _relu_pool(z, k))

    @tf.custom_gradient
    def actpool(zr):
        if name == "relu":
            yr, hr = relu_pool(zr), None
        else:
            hr = _activation(name, zr)
            yr = layer(hr)

        def grad(dy):
            return grad_fn(zx, hx, yx, zr, hr, yr, dy)

        return yr, grad

    return actpool


def _forward_x(steps: list[_Step], x) -> list[tuple]:
    """Activations of the inputs ``x`` per step (what the rules compare the references with)."""
    saved = []
    h = x
    for step in steps:
        if step.kind in ("linear", "conv"):
            out = _linear(step.layer, h)
            saved.append((h, out))
        elif step.kind == "act":
            out = _activation(step.activation, h)
            saved.append((h, out))
        elif step.kind == "maxpool":
            out = step.layer(h)
            saved.append((h, out))
        else:  # actpool
            a = _activation(step.activation, h)
            out = step.layer(a)
            saved.append((h, a, out))
        h = out
    return saved


def _build(model):
    """One ``tf.function`` ``(x, refs) -> (multipliers, logit_x, logit_refs)`` for ``model``."""
    import tensorflow as tf

    steps = _plan(model)
    xla = _Compiled()

    @tf.function(reduce_retracing=True)
    def run(x, refs):
        B = tf.shape(refs)[1]
        saved = _forward_x(steps, x)
        r = _merge(refs)
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(r)
            h = r
            for step, xs in zip(steps, saved, strict=True):
                if step.kind == "linear":
                    h = _linear(step.layer, h)
                elif step.kind == "conv":
                    h = _conv(step.layer, xla)(h)
                elif step.kind == "act":
                    h = _rescale(step.activation, *xs, B)(h)
                elif step.kind == "maxpool":
                    h = _maxpool(step.layer, *xs, B)(h)
                else:
                    h = _actpool(step.activation, step.layer, xs, xla)(h)
            logit_r = h[:, 0]
        mult = tape.gradient(logit_r, r)
        return tf.reshape(mult, tf.shape(refs)), saved[-1][-1][:, 0], tf.reshape(logit_r, tf.shape(refs)[:2])

    return run


_ENGINES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _engine(model):
    fn = _ENGINES.get(model)
    if fn is None:
        fn = _build(model)
        _ENGINES[model] = fn
    return fn


# ----------------------------------------------------------------------------- public API


def deeplift(
    model, x: np.ndarray, references: np.ndarray, *, batch_size: int = 800
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Multipliers and logits of ``model``'s pre-sigmoid logit (shap DeepExplainer's rules).

    Parameters
    ----------
    model
        A Keras model made of supported layers (see :func:`supports`).
    x
        ``(G, Lp, 4)`` inputs at the network length (padding included).
    references
        ``(G, B, Lp, 4)``: ``B`` references per input.
    batch_size
        Reference rows per model call (``max(1, batch_size // B)`` inputs at a time).

    Returns
    -------
    mult, logit_x, logit_ref
        ``(G, B, Lp, 4)`` float32 multipliers of the logit with respect to each
        reference's input (``sum((x - r_b) * mult_b) = logit(x) - logit(r_b)``),
        ``(G,)`` logits of the inputs and ``(G, B)`` of the references.

    Raises
    ------
    DeepDifEInputError
        Shapes that do not fit, or a model with an unsupported layer (named).
    """
    x = np.asarray(x, dtype=np.float32)
    references = np.asarray(references, dtype=np.float32)
    if x.ndim != 3 or references.ndim != 4 or references.shape[0] != x.shape[0] or references.shape[2:] != x.shape[1:]:
        raise DeepDifEInputError(
            f"expected inputs (G, L, 4) and references (G, B, L, 4), got {x.shape} and {references.shape}"
        )
    if batch_size < 1:
        raise DeepDifEInputError(f"batch_size must be >= 1, got {batch_size}")
    fn = _engine(model)  # raises for an unsupported model
    expected = tuple(model.inputs[0].shape[1:])
    if any(e is not None and e != a for e, a in zip(expected, x.shape[1:], strict=True)):
        raise DeepDifEInputError(f"the model takes inputs {expected}, got rows of shape {x.shape[1:]}")
    G, B = references.shape[:2]
    if G == 0 or B == 0:
        return np.zeros(references.shape, np.float32), np.zeros((G,), np.float32), np.zeros((G, B), np.float32)
    per_call = max(1, batch_size // B)
    parts = [fn(x[s : s + per_call], references[s : s + per_call]) for s in range(0, G, per_call)]
    mult, logit_x, logit_ref = (np.concatenate([np.asarray(p[i]) for p in parts]) for i in range(3))
    return mult, logit_x, logit_ref


def deeplift_multipliers(model, x: np.ndarray, references: np.ndarray, *, batch_size: int = 800) -> np.ndarray:
    """DeepLIFT-rescale multipliers of the logit; see :func:`deeplift`.

    Parameters
    ----------
    model : keras.Model
        A Keras model made of supported layers (see :func:`supports`).
    x : numpy.ndarray
        ``(G, Lp, 4)`` inputs at the network length (padding included).
    references : numpy.ndarray
        ``(G, B, Lp, 4)``: ``B`` references per input.
    batch_size : int, optional
        Reference rows per model call, default 800.

    Returns
    -------
    numpy.ndarray
        float32 ``(G, B, Lp, 4)`` multipliers (the first output of :func:`deeplift`).
    """
    return deeplift(model, x, references, batch_size=batch_size)[0]
