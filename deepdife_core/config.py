"""Frozen configuration objects.

Every hyperparameter is a typed field with a default.  The configs of a model are
saved next to it in ``config.json`` (see :mod:`deepdife_core.model.folder`) and read
back with :func:`config_from_dict`, so a model folder always says how it was built.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, replace
from typing import Any

from deepdife_core.errors import DeepDifEInputError


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise DeepDifEInputError(msg)


FIRST_ACTIVATIONS = ("relu", "exponential")
HEADS = ("flatten", "global_max", "region_max", "global_region")
STRANDS = ("both", "random", "forward")
MONITORS = ("val_loss", "val_auroc")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the CNN.

    The defaults are the *regional* network that won the learning benchmark
    (``bench/bench_learning.py``): one Conv1D(64, 12) motif layer whose filters read both
    strands (``strand_shared``), max-pool 6, each
    filter's maximum over the whole promoter beside its maximum within every 100-bp
    window (``head="global_region"``), one dense layer of 64.  DeepDifE's own network (3 convolutions, flatten, dense
    256 + 128) is :data:`DEEPDIFE_MODEL` / :func:`original_recipe`; published
    models import as that.

    The network sees one-hot input ``(N, input_length + pad_left + pad_right, 4)``;
    callers give ``(N, input_length, 4)`` and :mod:`deepdife_core.model.cnn` adds the
    ``pad_left``/``pad_right`` all-zero rows (EvoAug models are trained on sequences
    that grew by insertions, the published model used 10 + 10).
    """

    input_length: int = 600
    pad_left: int = 0
    pad_right: int = 0
    n_conv: int = 1
    filters: int = 64
    kernel_size: int = 12
    pool_size: int = 6
    conv_kernel: int = 6
    conv_stride: int = 6
    dropout: float = 0.25
    dense_units: tuple[int, ...] = (64,)
    l2: float = 1e-6
    #: activation of the first convolution: ``relu`` (DeepDifE) or ``exponential``
    #: (Koo & Ploenzke 2021: filters that read as motifs, better on small data)
    first_activation: str = "relu"
    #: how the convolutions reach the dense layers: ``flatten`` (DeepDifE; keeps position)
    #: ``global_max`` (max over positions: position-free, far fewer weights) or ``region_max``
    #: (max within windows of ``region_bp``, then flatten: where a motif is, to ``region_bp``)
    #: or ``global_region`` (both side by side)
    head: str = "global_region"
    #: window of the ``region_max`` head in bp
    region_bp: int = 100
    #: every first-layer filter reads both strands (the max of the filter and its reverse
    #: complement at each position): one set of weights per motif in either orientation, while
    #: positions stay anchored at the TSS (unlike training on both strands)
    strand_shared: bool = True
    #: batch normalisation after every convolution and hidden dense layer
    batch_norm: bool = False
    #: prediction = mean of the forward and reverse-complement outputs (post-hoc conjoining);
    #: off for models trained on the forward strand only (``TrainConfig.strands="forward"``),
    #: whose positions are anchored at the TSS
    conjoin: bool = True

    def __post_init__(self) -> None:
        _check(
            self.first_activation in FIRST_ACTIVATIONS,
            f"first_activation must be one of {', '.join(FIRST_ACTIVATIONS)}, got {self.first_activation!r}",
        )
        _check(self.head in HEADS, f"head must be one of {', '.join(HEADS)}, got {self.head!r}")
        _check(self.region_bp >= 1, f"region_bp must be >= 1, got {self.region_bp}")
        _check(self.input_length > 0, f"input_length must be > 0, got {self.input_length}")
        _check(self.pad_left >= 0 and self.pad_right >= 0, "pad_left/pad_right must be >= 0")
        _check(self.n_conv >= 1, f"n_conv must be >= 1, got {self.n_conv}")
        _check(self.filters >= 1, f"filters must be >= 1, got {self.filters}")
        _check(self.kernel_size >= 1, f"kernel_size must be >= 1, got {self.kernel_size}")
        _check(
            self.kernel_size <= self.network_length,
            f"kernel_size {self.kernel_size} is longer than the input ({self.network_length})",
        )
        _check(0.0 <= self.dropout < 1.0, f"dropout must be in [0, 1), got {self.dropout}")
        _check(self.l2 >= 0, f"l2 must be >= 0, got {self.l2}")
        _check(all(u >= 1 for u in self.dense_units), f"dense_units must be >= 1, got {self.dense_units}")
        object.__setattr__(self, "dense_units", tuple(int(u) for u in self.dense_units))

    @property
    def network_length(self) -> int:
        """Length of the sequence axis the Keras model sees.

        Returns
        -------
        int
            ``input_length + pad_left + pad_right`` (bp).
        """
        return self.input_length + self.pad_left + self.pad_right

    def conv_filters(self) -> list[int]:
        """Filters of every convolution: first ``filters``, then ``filters / 2**(i-1)``.

        Returns
        -------
        list of int
            One filter count per convolution layer (``n_conv`` entries, each at least 1).
        """
        return [self.filters] + [max(1, self.filters // 2 ** (i - 1)) for i in range(1, self.n_conv)]


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (Adam + binary cross-entropy).

    The schedule is DeepDifE's (``train_model_tutorial.ipynb``): early stopping on
    the validation loss with patience 20 keeps the best weights, and the learning
    rate drops by 10x after 5 epochs without an improvement of ``min_delta``.
    By default an epoch shows every training promoter as given (``strands="forward"``,
    5' end to the TSS), so the model can learn where a motif sits relative to the
    TSS; DeepDifE showed both strands (``strands="both"``), which makes "near the
    TSS" and "far from it" the same thing.  Validation predictions are computed as
    the model predicts (conjoined for both-strand models).
    """

    epochs: int = 100
    batch_size: int = 100
    learning_rate: float = 1e-3
    early_stopping_patience: int = 20
    reduce_lr_patience: int = 5
    reduce_lr_factor: float = 0.1
    min_learning_rate: float = 1e-7
    #: smallest drop of the monitored value that counts as an improvement for the LR plateau
    min_delta: float = 1e-4
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    seed: int = 0
    #: ``both``: every epoch shows each training gene forward and reverse-complemented
    #: (DeepDifE); ``random``: one strand per gene and epoch, reverse with ``rc_augment``;
    #: ``forward``: the promoter as given only (5' -> TSS), so the model can learn where a
    #: motif sits relative to the TSS; such a model predicts from the forward strand
    #: (``ModelConfig.conjoin`` off)
    strands: str = "forward"
    #: with ``strands="random"``: probability that a gene is shown reverse-complemented
    rc_augment: float = 0.5
    #: what early stopping, the LR plateau and the kept weights follow
    monitor: str = "val_loss"
    #: while the model does no better than a constant guess on the validation genes
    #: (validation loss not ``chance_margin`` below the base-rate entropy), the learning
    #: rate is not reduced and early stopping waits up to this many epochs: small promoter
    #: sets often sit at chance for a while, and shrinking the step there locks them in
    chance_patience: int = 50
    chance_margin: float = 0.01
    #: other heads (``ModelConfig.head`` values) trained with the same seed and split after
    #: the configured one; the run keeps the network with the best monitored validation
    #: value and saves its head in ``config.json``.  No head wins every task of the learning
    #: benchmark (window maxima learn position rules, the global maximum alone learns
    #: "A and B present"), so by default both are tried; ``()`` trains the configured head only
    try_heads: tuple[str, ...] = ("global_max",)

    def __post_init__(self) -> None:
        object.__setattr__(self, "try_heads", tuple(self.try_heads))
        bad = [h for h in self.try_heads if h not in HEADS]
        _check(not bad, f"try_heads must name heads out of {', '.join(HEADS)}, got {bad[:1]}")
        _check(0 <= self.rc_augment <= 1, f"rc_augment must be in [0, 1], got {self.rc_augment}")
        _check(self.strands in STRANDS, f"strands must be one of {', '.join(STRANDS)}, got {self.strands!r}")
        _check(self.monitor in MONITORS, f"monitor must be one of {', '.join(MONITORS)}, got {self.monitor!r}")
        _check(self.min_delta >= 0, f"min_delta must be >= 0, got {self.min_delta}")
        _check(self.chance_patience >= 0, f"chance_patience must be >= 0, got {self.chance_patience}")
        _check(self.chance_margin >= 0, f"chance_margin must be >= 0, got {self.chance_margin}")
        _check(self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}")
        _check(self.batch_size >= 1, f"batch size must be >= 1, got {self.batch_size}")
        _check(self.learning_rate > 0, f"learning rate must be > 0, got {self.learning_rate}")
        _check(self.early_stopping_patience >= 0, "early_stopping_patience must be >= 0")
        _check(self.reduce_lr_patience >= 0, "reduce_lr_patience must be >= 0")
        _check(0 < self.reduce_lr_factor <= 1, f"reduce_lr_factor must be in (0, 1], got {self.reduce_lr_factor}")
        _check(0 < self.val_fraction < 1, f"validation fraction must be in (0, 1), got {self.val_fraction}")
        _check(0 <= self.test_fraction < 1, f"test fraction must be in [0, 1), got {self.test_fraction}")
        _check(
            self.val_fraction + self.test_fraction < 0.9,
            f"validation + test fractions ({self.val_fraction} + {self.test_fraction}) leave too little to train on",
        )


EVOAUG_OPS = ("inversion", "deletion", "translocation", "insertion", "rc", "mutation", "noise")


@dataclass(frozen=True)
class AugmentConfig:
    """EvoAug (Lee et al. 2023): evolution-inspired augmentations applied in the training graph.

    Each training sequence gets up to ``max_augs_per_seq`` of the operations in
    ``augs`` (exactly that many when ``hard``), drawn per batch from a seeded
    generator and applied in the fixed order of :data:`EVOAUG_OPS`.  With
    ``insertion`` on, every sequence grows to ``L + insert_max`` (sequences
    without an insertion are centred with N rows), so the model is built for that
    length and inference pads inputs the same way (``ModelConfig.pad_left/right``).
    The defaults are DeepDifE's: RC 0.5, insertion 0-20, deletion 0-30,
    translocation 0-20, mutation 5%, Gaussian noise, 2 augmentations, hard; EvoAug
    is on by default (the learning benchmark: without it the network memorises).
    A forward-strand model (``TrainConfig.strands="forward"``) drops ``rc``.
    """

    enabled: bool = True
    augs: tuple[str, ...] = ("deletion", "translocation", "insertion", "rc", "mutation", "noise")
    rc_prob: float = 0.5
    insert_max: int = 20
    delete_max: int = 30
    shift_max: int = 20
    mutate_frac: float = 0.05
    noise_std: float = 0.2
    invert_min: int = 10
    invert_max: int = 30
    max_augs_per_seq: int = 2
    hard: bool = True
    #: second stage on un-augmented data with a lower learning rate (EvoAug's protocol)
    finetune: bool = True
    finetune_epochs: int = 5
    finetune_lr: float = 1e-4

    def __post_init__(self) -> None:
        object.__setattr__(self, "augs", tuple(self.augs))
        bad = [a for a in self.augs if a not in EVOAUG_OPS]
        _check(not bad, f"unknown augmentation {bad[:1]}; choose from {', '.join(EVOAUG_OPS)}")
        _check(0 <= self.rc_prob <= 1, f"rc_prob must be in [0, 1], got {self.rc_prob}")
        for name in ("insert_max", "delete_max", "shift_max", "invert_min", "invert_max", "finetune_epochs"):
            _check(getattr(self, name) >= 0, f"{name} must be >= 0, got {getattr(self, name)}")
        _check(self.invert_min <= self.invert_max, "invert_min must be <= invert_max")
        _check(0 <= self.mutate_frac <= 1, f"mutate_frac must be in [0, 1], got {self.mutate_frac}")
        _check(self.noise_std >= 0, f"noise_std must be >= 0, got {self.noise_std}")
        _check(self.max_augs_per_seq >= 1, f"max_augs_per_seq must be >= 1, got {self.max_augs_per_seq}")
        _check(self.finetune_lr > 0, f"finetune_lr must be > 0, got {self.finetune_lr}")

    @property
    def active(self) -> tuple[str, ...]:
        """Operations that are on, in application order.

        Returns
        -------
        tuple of str
            The EvoAug operations of ``augs`` in :data:`EVOAUG_OPS` order; empty when ``enabled`` is false.
        """
        return tuple(op for op in EVOAUG_OPS if op in self.augs) if self.enabled else ()

    @property
    def padding(self) -> tuple[int, int]:
        """The (left, right) N rows the model needs around an ``L``-bp input.

        Returns
        -------
        tuple of (int, int)
            ``(insert_max // 2, insert_max - insert_max // 2)`` when insertion is active, else ``(0, 0)``.
        """
        if "insertion" not in self.active or self.insert_max == 0:
            return (0, 0)
        return (self.insert_max // 2, self.insert_max - self.insert_max // 2)


@dataclass(frozen=True)
class PhyloConfig:
    """PhyloAug (Duncan, Mitchell & Moses 2024): swap training genes for their orthologs.

    At batch time each training gene is replaced, with probability ``rate``, by
    one of its orthologs drawn at random (then shown on a random strand).
    Orthologs of validation/test genes are never used.
    """

    enabled: bool = False
    rate: float = 0.7
    finetune: bool = False
    finetune_epochs: int = 5
    finetune_lr: float = 1e-4

    def __post_init__(self) -> None:
        _check(0 <= self.rate <= 1, f"phylo rate must be in [0, 1], got {self.rate}")
        _check(self.finetune_epochs >= 0, "finetune_epochs must be >= 0")
        _check(self.finetune_lr > 0, f"finetune_lr must be > 0, got {self.finetune_lr}")


@dataclass(frozen=True)
class DatasetConfig:
    """How raw sequences were fitted to a fixed length."""

    length: int = 600
    pad_side: str = "left"
    max_n_fraction: float = 0.5

    def __post_init__(self) -> None:
        _check(self.length > 0, f"length must be > 0, got {self.length}")
        _check(self.pad_side in ("left", "right"), f"pad_side must be 'left' or 'right', got {self.pad_side!r}")
        _check(0 <= self.max_n_fraction <= 1, f"max_n_fraction must be in [0, 1], got {self.max_n_fraction}")


#: DeepDifE's architecture (``src/diff_expression_model.py``), as :class:`ModelConfig` fields
DEEPDIFE_MODEL: dict[str, Any] = {
    "n_conv": 3,
    "filters": 64,
    "kernel_size": 12,
    "pool_size": 6,
    "conv_kernel": 6,
    "conv_stride": 6,
    "dropout": 0.25,
    "dense_units": (256, 128),
    "first_activation": "relu",
    "head": "flatten",
    "batch_norm": False,
    "strand_shared": False,
    "conjoin": True,
}
#: fields that configs written before these options existed did not store, with what they meant then
_BEFORE_OPTIONS = {
    "model": {"head": "flatten", "first_activation": "relu", "batch_norm": False, "conjoin": True},
    "train": {"strands": "random", "monitor": "val_loss", "chance_patience": 0},
}
#: fields added later still, with the value every config written before them meant
_ADDED_LATER = {"model": {"strand_shared": False}, "train": {"try_heads": ()}}


def original_recipe(
    model: ModelConfig | None = None, train: TrainConfig | None = None, augment: AugmentConfig | None = None
) -> tuple[ModelConfig, TrainConfig, AugmentConfig]:
    """DeepDifE's recipe on top of the given configs: its network, both strands, EvoAug + fine-tune.

    Early stopping and the LR plateau act from the first epoch, as in DeepDifE's
    notebooks (``chance_patience=0``).

    Parameters
    ----------
    model, train, augment
        Configs whose other fields are kept (defaults when None).

    Returns
    -------
    tuple of ModelConfig, TrainConfig, AugmentConfig
    """
    m = replace(model or ModelConfig(), **DEEPDIFE_MODEL)
    t = replace(train or TrainConfig(), strands="both", chance_patience=0, try_heads=())
    a = replace(augment or AugmentConfig(), enabled=True)
    return m, t, a


@dataclass(frozen=True)
class RunConfig:
    """Everything saved in a model folder's ``config.json``."""

    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    data: DatasetConfig = field(default_factory=DatasetConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    phylo: PhyloConfig = field(default_factory=PhyloConfig)
    extra: dict[str, Any] = field(default_factory=dict)


CONFIG_CLASSES: dict[str, type] = {
    "model": ModelConfig,
    "train": TrainConfig,
    "data": DatasetConfig,
    "augment": AugmentConfig,
    "phylo": PhyloConfig,
}


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """Plain JSON-able dict of a (nested) config dataclass.

    Parameters
    ----------
    cfg : dataclass instance
        A config dataclass (e.g. :class:`RunConfig`), possibly holding other configs.

    Returns
    -------
    dict
        ``dataclasses.asdict(cfg)`` with every tuple turned into a list.
    """
    out = dataclasses.asdict(cfg)
    return _tuples_to_lists(out)


def _tuples_to_lists(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _tuples_to_lists(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_tuples_to_lists(v) for v in obj]
    return obj


def from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Build config ``cls`` from a dict, ignoring unknown keys (forward compatible).

    Parameters
    ----------
    cls : type
        A config dataclass.
    data : dict or None
        Field values; lists become tuples, keys that are not fields of ``cls`` are dropped,
        missing fields take their defaults.

    Returns
    -------
    object
        An instance of ``cls``.
    """
    names = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in (data or {}).items():
        if key not in names:
            continue
        if isinstance(value, list):
            value = tuple(value)
        kwargs[key] = value
    return cls(**kwargs)


def config_from_dict(data: dict[str, Any]) -> RunConfig:
    """Inverse of :func:`config_to_dict` for a :class:`RunConfig`.

    Sections written before some fields existed are read with those fields' old meaning.

    Parameters
    ----------
    data : dict
        A dict as written to ``config.json``: one sub-dict per config section plus ``extra``.

    Returns
    -------
    RunConfig
        The run config; missing sections and fields take their defaults.
    """
    parts = {}
    for name, cls in CONFIG_CLASSES.items():
        section = dict(data.get(name) or {})
        legacy = _BEFORE_OPTIONS.get(name, {})
        if section and legacy and not any(k in section for k in legacy):
            section = {**legacy, **section}  # written before these fields existed: keep their old meaning
        if section:
            section = {**_ADDED_LATER.get(name, {}), **section}
        parts[name] = from_dict(cls, section)
    return RunConfig(**parts, extra=dict(data.get("extra", {})))
