"""The ABRE oracle model shared by the interpret, experiments and variants tests.

One conv filter = the ABRE PWM ``ACGTGKC`` (score 7 on a match, bias -5.5), global max ->
logit ``2 * relu - 1``; it reads the forward strand only, so its output is known from the
string alone (:func:`abre_logit`).
"""

from __future__ import annotations

import numpy as np

from deepdife_core.config import ModelConfig

ABRE_PWM = ["A", "C", "G", "T", "G", "GT", "C"]  # ACGTGKC


def abre_config(length: int, pad: int = 0, **overrides) -> ModelConfig:
    """The oracle's config for ``length``-bp inputs padded by ``pad`` on each side (``overrides`` e.g. conjoin)."""
    k = len(ABRE_PWM)
    return ModelConfig(
        head="flatten",
        strand_shared=False,  # the filter reads the forward strand only
        input_length=length,
        pad_left=pad,
        pad_right=pad,
        n_conv=1,
        filters=2,
        kernel_size=k,
        pool_size=length + 2 * pad - k + 1,
        dense_units=(),
        dropout=0.0,
        l2=0.0,
        **overrides,
    )


def set_abre_weights(model):
    """Give a model built from :func:`abre_config` the oracle's weights; returns ``model``."""
    k = len(ABRE_PWM)
    kernel = np.zeros((k, 4, 2), dtype=np.float32)
    for j, bases in enumerate(ABRE_PWM):
        for b in bases:
            kernel[j, "ACGT".index(b), 0] = 1.0
    model.get_layer("conv_0").set_weights([kernel, np.array([-5.5, 0.0], dtype=np.float32)])
    model.get_layer("output").set_weights([np.array([[2.0], [0.0]], np.float32), np.array([-1.0], np.float32)])
    return model


def abre_logit(seq: str) -> float:
    """The oracle's logit computed from the string alone (independent of Keras)."""
    best = 0
    for p in range(len(seq) - 6):
        best = max(best, sum(seq[p + j] in bases for j, bases in enumerate(ABRE_PWM)))
    return 2.0 * max(best - 5.5, 0.0) - 1.0
