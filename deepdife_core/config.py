"""Frozen configuration objects.

Every hyperparameter is a typed field with a default.  The configs of a model are
saved next to it in ``config.json`` (see :mod:`deepdife_core.artifacts`) and read
back with :func:`config_from_dict`, so a model folder always says how it was built.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from deepdife_core.errors import DeepDifEInputError


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise DeepDifEInputError(msg)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the DeepDifE CNN.

    The network sees one-hot input ``(N, input_length + pad_left + pad_right, 4)``;
    callers give ``(N, input_length, 4)`` and :mod:`deepdife_core.model` adds the
    ``pad_left``/``pad_right`` all-zero rows (EvoAug models are trained on sequences
    that grew by insertions, the published model used 10 + 10).
    """

    input_length: int = 600
    pad_left: int = 0
    pad_right: int = 0
    n_conv: int = 3
    filters: int = 64
    kernel_size: int = 12
    pool_size: int = 6
    conv_kernel: int = 6
    conv_stride: int = 6
    dropout: float = 0.25
    dense_units: tuple[int, ...] = (256, 128)
    l2: float = 1e-6

    def __post_init__(self) -> None:
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
        """Length of the sequence axis the Keras model sees."""
        return self.input_length + self.pad_left + self.pad_right

    def conv_filters(self) -> list[int]:
        """Filters of every convolution: first ``filters``, then ``filters / 2**(i-1)``."""
        return [self.filters] + [max(1, self.filters // 2 ** (i - 1)) for i in range(1, self.n_conv)]


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (Adam + binary cross-entropy)."""

    epochs: int = 100
    batch_size: int = 100
    learning_rate: float = 1e-3
    early_stopping_patience: int = 10
    reduce_lr_patience: int = 5
    reduce_lr_factor: float = 0.2
    min_learning_rate: float = 1e-6
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    seed: int = 0
    #: probability that a training sequence is shown as its reverse complement;
    #: conjoined prediction averages both strands, so the model should see both
    rc_augment: float = 0.5

    def __post_init__(self) -> None:
        _check(0 <= self.rc_augment <= 1, f"rc_augment must be in [0, 1], got {self.rc_augment}")
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
    translocation 0-20, mutation 5%, Gaussian noise, 2 augmentations, hard.
    """

    enabled: bool = False
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
        """Operations that are on, in application order."""
        return tuple(op for op in EVOAUG_OPS if op in self.augs) if self.enabled else ()

    @property
    def padding(self) -> tuple[int, int]:
        """(left, right) N rows the model needs around an ``L``-bp input."""
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
    """Plain JSON-able dict of a (nested) config dataclass."""
    out = dataclasses.asdict(cfg)
    return _tuples_to_lists(out)


def _tuples_to_lists(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _tuples_to_lists(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_tuples_to_lists(v) for v in obj]
    return obj


def from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Build config ``cls`` from a dict, ignoring unknown keys (forward compatible)."""
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
    """Inverse of :func:`config_to_dict` for a :class:`RunConfig`."""
    parts = {name: from_dict(cls, data.get(name, {})) for name, cls in CONFIG_CLASSES.items()}
    return RunConfig(**parts, extra=dict(data.get("extra", {})))
