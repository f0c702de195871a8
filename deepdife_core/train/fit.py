"""Training: a seeded, deterministic loop around the DeepDifE CNN.

``fit`` trains one Keras model on one-hot arrays with Adam + binary cross-entropy,
early stopping and reduce-LR-on-plateau on the validation loss, and reports every
epoch (loss, val_loss, auroc, val_auroc, auprc, val_auprc, accuracy, lr, seconds)
to a ``progress`` callable; a chance guard keeps the learning rate and stops early
stopping while the model is no better than guessing (``TrainConfig.chance_patience``).
``train_dataset`` does the whole protocol on a dataset table: split by family, fit,
evaluate on the test part next to the k-mer baseline (:mod:`deepdife_core.train.baseline`)
with a learning verdict, save the model folder atomically (see
:mod:`deepdife_core.model.folder`).

Determinism: weight initialisers and dropout are seeded from ``TrainConfig.seed``;
batches are drawn with ``np.random.default_rng(seed)``.  Nothing touches global
random state, so the same seed and data give the same weights on CPU.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from deepdife_core.config import AugmentConfig, DatasetConfig, ModelConfig, PhyloConfig, RunConfig, TrainConfig
from deepdife_core.data.encode import one_hot, pad_one_hot
from deepdife_core.data.io import Orthologs, validate_training_set
from deepdife_core.data.split import grouped_kfold, grouped_split, split_from_column
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import check_name, fingerprint_dataset
from deepdife_core.model.cnn import Predictor, _keras, build_model, quiet_tensorflow
from deepdife_core.model.folder import save_model_folder
from deepdife_core.train import metrics as mt
from deepdife_core.train.augment import OrthologPool, build_ortholog_pool, make_evoaug
from deepdife_core.train.baseline import fit_kmer_baseline

Progress = Callable[[dict], None]
StopCheck = Callable[[], bool]


@dataclass
class FitResult:
    """A trained Keras model and its per-epoch history."""

    model: object
    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    stopped: bool = False


def _tf():

    quiet_tensorflow()
    import tensorflow as tf

    return tf


def random_reverse_complement(x, seed, rate: float = 0.5):
    """In-graph: replace each sequence of a one-hot batch by its reverse complement with probability ``rate``.

    Parameters
    ----------
    x : tf.Tensor
        One-hot ``(B, L, 4)``.
    seed : tf.Tensor
        Stateless random seed, int ``(2,)``.
    rate : float, optional
        Flip probability per sequence, default 0.5.

    Returns
    -------
    tf.Tensor
        ``(B, L, 4)``, same dtype.
    """
    tf = _tf()
    flip = tf.random.stateless_uniform((tf.shape(x)[0], 1, 1), seed=seed) < rate
    return tf.where(flip, tf.reverse(x, axis=[1, 2]), x)


def make_train_step(
    model, optimizer, *, augment: Callable | None = None, pad: tuple[int, int] = (0, 0), rc_rate: float = 0.0
):
    """Compiled one-batch update on unpadded one-hot ``(B, L, 4)``.

    In the graph: ``augment(x, seed)`` (which pads itself) or the model's N padding,
    then a random reverse complement with probability ``rc_rate``; binary cross-entropy
    plus the model's regularisation losses.

    Parameters
    ----------
    model : keras.Model
        The network being trained.
    optimizer : keras.optimizers.Optimizer
        Applies the gradients.
    augment : callable, optional
        ``augment(x, seed)`` from :func:`~deepdife_core.train.augment.make_evoaug`.
    pad : tuple of (int, int), optional
        (left, right) N rows added when there is no ``augment``, default ``(0, 0)``.
    rc_rate : float, optional
        Reverse-complement probability per sequence, default 0 (off).

    Returns
    -------
    callable
        ``step(x, y, seed)`` (a ``tf.function``) returning ``(loss, data_loss, p)``:
        total loss, cross-entropy and the ``(B, 1)`` predictions.
    """
    tf = _tf()
    keras = _keras()
    bce = keras.losses.BinaryCrossentropy()

    @tf.function(reduce_retracing=True)
    def step(x, y, seed):
        if augment is not None:
            x = augment(x, seed)
        elif pad != (0, 0):
            x = tf.pad(x, [[0, 0], [pad[0], pad[1]], [0, 0]])
        if rc_rate > 0:
            x = random_reverse_complement(x, seed + 1, rc_rate)
        with tf.GradientTape() as tape:
            p = model(x, training=True)
            data_loss = bce(y, p)
            loss = data_loss + (tf.add_n(model.losses) if model.losses else 0.0)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss, data_loss, p

    return step


def _predict_batches(model, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    tf = _tf()
    call = getattr(model, "_deepdife_infer", None)
    if call is None:
        call = tf.function(lambda t: model(t, training=False), reduce_retracing=True)
        model._deepdife_infer = call
    out = [np.asarray(call(x[i : i + batch_size]))[:, 0] for i in range(0, len(x), batch_size)]
    return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)


@dataclass
class _Stage:
    """One training stage (main, or the un-augmented fine-tune)."""

    name: str
    epochs: int
    learning_rate: float
    step: Callable
    pool: OrthologPool | None = None
    early_stopping: bool = True
    reduce_lr: bool = True


def _val_predict(model, xv: np.ndarray, conjoin: bool = True) -> np.ndarray:
    """Validation probabilities as the model predicts: conjoined (mean of both strands) or forward only."""
    fwd = _predict_batches(model, xv)
    if not conjoin:
        return fwd
    return (fwd + _predict_batches(model, np.ascontiguousarray(xv[:, ::-1, ::-1]))) / 2.0


def _monitored(tc: TrainConfig, val_loss: float, val_auroc: float | None) -> float:
    """The value early stopping and the LR plateau minimise."""
    if tc.monitor == "val_auroc":
        return -(val_auroc if val_auroc is not None else 0.5)
    return val_loss


def _run_stage(
    stage: _Stage,
    model,
    optimizer,
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    tc: TrainConfig,
    rng: np.random.Generator,
    history: list[dict],
    *,
    progress: Progress | None,
    should_stop: StopCheck | None,
    restore_best: bool,
    start_epoch: int = 0,
) -> tuple[int, bool]:
    """Run ``stage`` in place on ``model``; returns (best epoch, stopped by user).

    ``start_epoch`` is the epoch whose weights the model holds when the stage
    starts (the previous stage's best); it stays the best epoch unless this stage
    improves on it.

    With ``tc.strands == "both"`` an epoch is every training gene on both strands
    (2N sequences, shuffled together); else N sequences (as given for ``forward``,
    on a random strand for ``random``).  While the model is at chance (validation
    loss not ``chance_margin`` below the base-rate entropy) neither early stopping
    nor the LR plateau acts, for at most ``tc.chance_patience`` epochs.
    """
    xt, yt, xv, yv = data
    optimizer.learning_rate.assign(stage.learning_rate)
    lr = float(stage.learning_rate)
    n = len(xt)
    n_seq = 2 * n if tc.strands == "both" else n
    n_batches = int(np.ceil(n_seq / tc.batch_size))
    report_every = max(1, n_batches // 10)
    offset = len(history)
    if history and restore_best:  # a later stage must beat where it starts
        p0 = _val_predict(model, xv, tc.strands != "forward")
        best = _monitored(tc, mt.binary_cross_entropy(yv, p0) + _reg(model), mt.auroc(yv, p0))
    else:
        best = np.inf
    best_epoch, best_weights = (start_epoch or (history[-1]["epoch"] if history else 0)), model.get_weights()
    plateau_best = best
    wait_stop = wait_lr = 0
    stopped = False
    # the loss of always predicting the training base rate: a model above it has learnt nothing yet
    rate = float(np.clip(yt.mean(), 1e-6, 1 - 1e-6))
    chance_loss = -(rate * np.log(rate) + (1 - rate) * np.log(1 - rate))
    at_chance = tc.chance_patience > 0 and stage.name == "main"
    for e in range(1, stage.epochs + 1):
        epoch = offset + e
        t0 = time.perf_counter()
        order = rng.permutation(n_seq)
        seeds = rng.integers(0, 2**31 - 1, size=(n_batches, 2), dtype=np.int64)
        losses, preds, ys = [], [], []
        for b in range(n_batches):
            if should_stop is not None and should_stop():
                stopped = True
                break
            idx = order[b * tc.batch_size : (b + 1) * tc.batch_size]
            rows = idx % n
            xb = xt[rows] if stage.pool is None else stage.pool.sample(rows, xt[rows], rng)
            if n_seq > n:
                flip = idx >= n
                if flip.any():
                    xb = xb.copy()
                    xb[flip] = xb[flip, ::-1, ::-1]
            loss, _, p = stage.step(xb, yt[rows], seeds[b])
            losses.append(float(loss) * len(idx))
            preds.append(np.asarray(p)[:, 0])
            ys.append(yt[rows, 0])
            if progress is not None and (b + 1) % report_every == 0:
                progress({"event": "batch", "epoch": epoch, "batch": b + 1, "n_batches": n_batches})
        if stopped and not losses:
            break
        p_tr, y_tr = np.concatenate(preds), np.concatenate(ys)
        p_val = _val_predict(model, xv, tc.strands != "forward")
        val_loss = mt.binary_cross_entropy(yv, p_val) + _reg(model)
        val_auroc = mt.auroc(yv, p_val)
        rec = {
            "epoch": epoch,
            "stage": stage.name,
            "loss": sum(losses) / len(p_tr),
            "val_loss": val_loss,
            "auroc": mt.auroc(y_tr, p_tr),
            "val_auroc": val_auroc,
            "auprc": mt.auprc(y_tr, p_tr),
            "val_auprc": mt.auprc(yv, p_val),
            "accuracy": float(((p_tr >= 0.5) == y_tr).mean()),
            "val_accuracy": float(((p_val >= 0.5) == yv).mean()),
            "lr": lr,
            "seconds": round(time.perf_counter() - t0, 4),
        }
        if stopped:
            rec["partial"] = True  # cut short by a stop request after batch len(losses)
        history.append(rec)
        value = _monitored(tc, val_loss, val_auroc)
        if value < best:
            best, best_epoch, best_weights = value, epoch, model.get_weights()
            wait_stop = 0
        else:
            wait_stop += 1
        if value < plateau_best - tc.min_delta:  # Keras' ReduceLROnPlateau: improvement by min_delta
            plateau_best, wait_lr = value, 0
        else:
            wait_lr += 1
        if progress is not None:
            total = offset + stage.epochs
            progress({"event": "epoch", "epochs": total, "best_epoch": best_epoch, **rec})
        if stopped:
            break
        if at_chance and val_loss - _reg(model) < chance_loss - tc.chance_margin:
            at_chance, wait_stop, wait_lr = False, 0, 0  # it started to learn: the usual patience from here
            plateau_best = value
            rec["left_chance"] = True
        if at_chance:
            if e >= tc.chance_patience:
                break  # never left chance: the verdict will say so
            continue
        if stage.early_stopping and tc.early_stopping_patience and wait_stop >= tc.early_stopping_patience:
            break
        if stage.reduce_lr and tc.reduce_lr_patience and wait_lr >= tc.reduce_lr_patience and lr > tc.min_learning_rate:
            lr = max(lr * tc.reduce_lr_factor, tc.min_learning_rate)
            optimizer.learning_rate.assign(lr)
            wait_lr = 0
    if restore_best:
        model.set_weights(best_weights)
    return best_epoch, stopped


def _reg(model) -> float:
    return float(sum(float(v) for v in model.losses)) if model.losses else 0.0


def fit(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    *,
    model_cfg: ModelConfig | None = None,
    train_cfg: TrainConfig | None = None,
    augment_cfg: AugmentConfig | None = None,
    ortholog_pool: OrthologPool | None = None,
    finetune_epochs: int = 0,
    finetune_lr: float = 1e-4,
    restore_best: bool = True,
    progress: Progress | None = None,
    should_stop: StopCheck | None = None,
    model=None,
) -> FitResult:
    """Train one model.

    Parameters
    ----------
    x_train, x_val
        One-hot ``(N, input_length, 4)``; padding (and EvoAug) are applied here.
    y_train, y_val
        Labels ``(N,)`` in {0, 1}.
    model_cfg
        The architecture (default ``ModelConfig()``).
    train_cfg
        Optimiser, epochs, batch size, early stopping and learning-rate schedule
        (default ``TrainConfig()``).
    augment_cfg
        EvoAug; when enabled ``model_cfg`` must carry ``augment_cfg.padding``.
    ortholog_pool
        PhyloAug: orthologs aligned to the rows of ``x_train``.
    finetune_epochs, finetune_lr
        A second stage on un-augmented original genes (0 = none).
    restore_best
        Keep the weights of the epoch with the lowest validation loss (else the last).
    progress
        Called with ``{"event": "epoch", ...metrics}`` after every epoch and
        ``{"event": "batch", "epoch", "batch", "n_batches"}`` every few batches.
    should_stop
        Polled between batches; when it returns True training ends after restoring
        the best weights so far (``FitResult.stopped``).
    model
        Continue training this Keras model instead of building a new one.

    Returns
    -------
    FitResult
    """
    keras = _keras()
    model_cfg = model_cfg or ModelConfig()
    tc = train_cfg or TrainConfig()
    aug = augment_cfg or AugmentConfig()
    for name, arr in (("training", x_train), ("validation", x_val)):
        if arr.ndim != 3 or arr.shape[1:] != (model_cfg.input_length, 4):
            raise DeepDifEInputError(f"{name} data has shape {arr.shape}, expected (N, {model_cfg.input_length}, 4)")
    if len(x_train) == 0 or len(x_val) == 0:
        raise DeepDifEInputError("training and validation sets must not be empty")
    if len(np.unique(y_train)) < 2:
        raise DeepDifEInputError("the training split holds only one class; add genes of the other class")
    pad = (model_cfg.pad_left, model_cfg.pad_right)
    if aug.active and aug.padding != (0, 0) and aug.padding != pad:
        raise DeepDifEInputError(f"EvoAug insertion needs model padding {aug.padding}, the model has {pad}")
    xt = np.asarray(x_train, np.float32)
    xv = pad_one_hot(np.asarray(x_val, np.float32), *pad)
    yt = np.asarray(y_train, np.float32).reshape(-1, 1)
    yv = np.asarray(y_val, np.float32)
    if model is None:
        model = build_model(model_cfg, seed=tc.seed)
    optimizer = keras.optimizers.Adam(learning_rate=tc.learning_rate)
    optimizer.build(model.trainable_variables)
    evo = make_evoaug(aug, model_cfg.input_length) if aug.active else None
    # EvoAug's own RC replaces the plain random strand when it is on; "both" strands needs none
    plain_rc = tc.rc_augment if tc.strands == "random" else 0.0
    rc_rate = 0.0 if (evo is not None and "rc" in aug.active) else plain_rc
    stages = [
        _Stage(
            "main",
            tc.epochs,
            tc.learning_rate,
            make_train_step(model, optimizer, augment=evo, pad=pad, rc_rate=rc_rate),
            pool=ortholog_pool,
        )
    ]
    if finetune_epochs > 0:
        stages.append(
            _Stage(
                "finetune",
                finetune_epochs,
                finetune_lr,
                make_train_step(model, optimizer, augment=None, pad=pad, rc_rate=plain_rc),
                reduce_lr=False,
            )
        )
    rng = np.random.default_rng(tc.seed)
    history: list[dict] = []
    best_epoch, stopped = 0, False
    for stage in stages:
        best_epoch, stopped = _run_stage(
            stage,
            model,
            optimizer,
            (xt, yt, xv, yv),
            tc,
            rng,
            history,
            progress=progress,
            should_stop=should_stop,
            restore_best=restore_best,
            start_epoch=best_epoch,
        )
        if stopped:
            break
    return FitResult(model=model, history=history, best_epoch=best_epoch, stopped=stopped)


def _kept_value(tc: TrainConfig, res: FitResult) -> float:
    """The monitored validation value of the epoch whose weights ``res`` kept."""
    done = _finished_epochs(res.history)
    kept = [h for h in done if h["epoch"] == res.best_epoch] or done
    if not kept:
        return float("inf")
    return min(_monitored(tc, h["val_loss"], h.get("val_auroc")) for h in kept)


def fit_heads(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    *,
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    progress: Progress | None = None,
    should_stop: StopCheck | None = None,
    **fit_kw,
) -> tuple[FitResult, ModelConfig, dict]:
    """:func:`fit` for ``model_cfg.head`` and every head of ``train_cfg.try_heads``; keep the best on validation.

    Each candidate is trained with the same seed, split and schedule; the kept one has the
    best monitored value (``TrainConfig.monitor``, the validation loss by default) at the
    epoch whose weights it kept, ties to the earlier candidate.  A stop request ends the
    search: the candidates trained so far compete.

    Parameters
    ----------
    x_train, y_train, x_val, y_val
        As :func:`fit`.
    model_cfg : ModelConfig
        The architecture of the first candidate; the others differ only in ``head``.
    train_cfg : TrainConfig
        The schedule, with ``try_heads``.
    progress : callable, optional
        As :func:`fit`; with more than one candidate every event also carries ``head``,
        ``candidate`` (0-based) and ``n_candidates``.
    should_stop : callable, optional
        As :func:`fit`.
    **fit_kw
        Passed on to :func:`fit` (augmentation, ortholog pool, fine-tune).

    Returns
    -------
    tuple of (FitResult, ModelConfig, dict)
        The kept fit, its architecture, and ``{"kept": head, "monitor": ..., "candidates":
        [{"head", "value", "best_epoch", "epochs_run"}, ...]}`` (an empty dict when only one
        head was trained).
    """
    heads = list(dict.fromkeys((model_cfg.head, *train_cfg.try_heads)))
    best: tuple[float, FitResult, ModelConfig] | None = None
    tried: list[dict] = []
    for i, head in enumerate(heads):
        mc = replace(model_cfg, head=head)

        def tagged(event: dict, head: str = head, i: int = i) -> None:
            if progress is not None:
                progress(
                    {**event, "head": head, "candidate": i, "n_candidates": len(heads)} if len(heads) > 1 else event
                )

        res = fit(
            x_train,
            y_train,
            x_val,
            y_val,
            model_cfg=mc,
            train_cfg=train_cfg,
            progress=tagged,
            should_stop=should_stop,
            **fit_kw,
        )
        if res.stopped and not _finished_epochs(res.history) and best is not None:
            break  # stopped before this candidate finished an epoch: the earlier ones compete
        value = _kept_value(train_cfg, res)
        tried.append(
            {
                "head": head,
                "value": value,
                "best_epoch": res.best_epoch,
                "epochs_run": len(_finished_epochs(res.history)),
            }
        )
        if best is None or value < best[0]:
            best = (value, res, mc)
        if res.stopped:
            break
    assert best is not None
    stopped = res.stopped  # the last candidate trained: a stop request ends the search there
    _, res, mc = best
    if stopped and not res.stopped:
        res = replace(res, stopped=True)
    selection = {} if len(heads) == 1 else {"kept": mc.head, "monitor": train_cfg.monitor, "candidates": tried}
    return res, mc, selection


@dataclass
class TrainResult:
    """Outcome of :func:`train_dataset` / :func:`cross_validate`."""

    predictor: Predictor
    history: list[dict]
    metrics: dict
    split: dict[str, np.ndarray]
    config: RunConfig
    stopped: bool = False
    path: Path | None = None
    oof: pd.DataFrame | None = None
    refit_path: Path | None = None
    #: the epoch whose weights were kept (single runs; 0 when unknown)
    best_epoch: int = 0


def resolve_split(df: pd.DataFrame, tc: TrainConfig) -> tuple[dict[str, np.ndarray], str]:
    """The dataset's own ``split`` column if present, else a grouped random split.

    Parameters
    ----------
    df : pandas.DataFrame
        A training dataset table (``family``, ``label``, optional ``split``).
    tc : TrainConfig
        ``val_fraction``, ``test_fraction`` and ``seed`` of the random split.

    Returns
    -------
    tuple of (dict, str)
        ``{"train", "val", "test"}`` -> int64 row indices, and ``"column"`` or ``"grouped-random"``.
    """
    if "split" in df.columns and df["split"].astype(str).str.len().gt(0).all():
        return split_from_column(df), "column"
    parts = grouped_split(
        df["family"].to_numpy(),
        val_fraction=tc.val_fraction,
        test_fraction=tc.test_fraction,
        seed=tc.seed,
        labels=df["label"].to_numpy(),
    )
    return parts, "grouped-random"


def _model_cfg_for(
    df: pd.DataFrame, model_cfg: ModelConfig | None, aug: AugmentConfig, tc: TrainConfig
) -> tuple[ModelConfig, int]:
    length = int(df["sequence"].str.len().iloc[0])
    pad_l, pad_r = aug.padding
    mc = replace(model_cfg or ModelConfig(), input_length=length, pad_left=pad_l, pad_right=pad_r)
    return replace(mc, conjoin=tc.strands != "forward"), length


def _strand_aug(aug: AugmentConfig, tc: TrainConfig) -> AugmentConfig:
    """A forward-strand model never sees a reverse complement, not even from EvoAug."""
    if tc.strands == "forward" and "rc" in aug.augs:
        return replace(aug, augs=tuple(a for a in aug.augs if a != "rc"))
    return aug


def _dataset_cfg_for(dataset_cfg: DatasetConfig | None, length: int) -> DatasetConfig:
    """How the training sequences were fitted (saved with the model); its length must be theirs."""
    if dataset_cfg is None:
        return DatasetConfig(length=length)
    if dataset_cfg.length != length:
        raise DeepDifEInputError(
            f"the dataset settings say {dataset_cfg.length} bp but the sequences are {length} bp; "
            "rebuild the dataset with those settings or pass the ones it was built with"
        )
    return dataset_cfg


def _finetune(aug: AugmentConfig, phylo: PhyloConfig, has_pool: bool) -> tuple[int, float]:
    """(epochs, lr) of the un-augmented second stage, 0 epochs when none is asked for."""
    wants = []
    if aug.enabled and aug.finetune:
        wants.append((aug.finetune_epochs, aug.finetune_lr))
    if phylo.enabled and phylo.finetune and has_pool:
        wants.append((phylo.finetune_epochs, phylo.finetune_lr))
    if not wants:
        return 0, 1e-4
    return max(e for e, _ in wants), min(lr for _, lr in wants)


def _pool_for(
    df: pd.DataFrame, rows: np.ndarray, orthologs: Orthologs | None, phylo: PhyloConfig, length: int, pad_side: str
) -> OrthologPool | None:
    """Ortholog pool for the training rows ``rows`` only (no validation/test orthologs)."""
    if orthologs is None or not phylo.enabled:
        return None

    return build_ortholog_pool(
        df["gene_id"].to_numpy()[rows], orthologs.table, orthologs.one_hot(length, pad_side), rate=phylo.rate
    )


def _finished_epochs(history: list[dict]) -> list[dict]:
    """The epochs of ``history`` that ran to their end (not cut short by a stop request)."""
    return [h for h in history if not h.get("partial")]


def _check_out(out: str | Path | None, overwrite: bool) -> None:
    if out is None:
        return

    check_name(Path(out).name)
    if Path(out).exists() and not overwrite:
        raise DeepDifEInputError(f"{out} already exists; choose another name or pass overwrite=True")


def _provenance(df, parts, split_source, tc, dataset_name, history, extra) -> dict:

    prov = {
        "dataset": dataset_name,
        "dataset_fingerprint": fingerprint_dataset(df),
        "n_genes": len(df),
        "split_source": split_source,
        "split_sizes": {k: len(v) for k, v in parts.items()},
        "seed": tc.seed,
        "epochs_run": len(history),
    }
    prov.update(extra)
    return prov


def _split_table(df: pd.DataFrame, parts: dict[str, np.ndarray]) -> str:
    lab = np.full(len(df), "", dtype=object)
    for k, idx in parts.items():
        lab[idx] = k
    table = pd.DataFrame({"gene_id": df["gene_id"], "family": df["family"], "label": df["label"], "split": lab})
    return table.to_csv(index=False)


def _run_setup(df, model_cfg, train_cfg, augment_cfg, phylo_cfg, dataset_cfg, dataset_name, out, overwrite):
    """The checked table and the configs of one training run (:func:`train_dataset`, :func:`cross_validate`)."""
    tc = train_cfg or TrainConfig()
    aug = augment_cfg or AugmentConfig()
    phylo = phylo_cfg or PhyloConfig()
    df = validate_training_set(df, name=dataset_name or "dataset")
    aug = _strand_aug(aug, tc)
    mc, length = _model_cfg_for(df, model_cfg, aug, tc)
    dcfg = _dataset_cfg_for(dataset_cfg, length)
    _check_out(out, overwrite)
    return df, tc, aug, phylo, mc, length, dcfg


def train_dataset(
    df: pd.DataFrame,
    *,
    model_cfg: ModelConfig | None = None,
    train_cfg: TrainConfig | None = None,
    augment_cfg: AugmentConfig | None = None,
    phylo_cfg: PhyloConfig | None = None,
    orthologs: Orthologs | None = None,
    out: str | Path | None = None,
    dataset_name: str = "",
    progress: Progress | None = None,
    should_stop: StopCheck | None = None,
    overwrite: bool = False,
    provenance: dict | None = None,
    dataset_cfg: DatasetConfig | None = None,
) -> TrainResult:
    """Split ``df`` by family, train (EvoAug / PhyloAug as configured), evaluate on the test part, save to ``out``.

    When ``should_stop`` ends training before the first epoch finished, nothing is
    evaluated or saved: the result has ``stopped=True``, ``path=None``, empty metrics.
    A table of one class is refused.

    Parameters
    ----------
    df : pandas.DataFrame
        A training dataset table (``gene_id, label, family, sequence[, split]``), all
        sequences of one length ``L``.
    model_cfg : ModelConfig, optional
        The architecture (default ``ModelConfig()``; input length and padding set from the data
        and the augmentation).
    train_cfg : TrainConfig, optional
        Optimiser, epochs, early stopping, split fractions, seed (default ``TrainConfig()``).
    augment_cfg : AugmentConfig, optional
        EvoAug settings (default off).
    phylo_cfg : PhyloConfig, optional
        PhyloAug settings (default off); needs ``orthologs`` when on.
    orthologs : Orthologs, optional
        Ortholog pairs and sequences for PhyloAug.
    out : str or Path, optional
        Model folder to write (:func:`~deepdife_core.model.folder.save_model_folder`); None
        saves nothing.
    dataset_name : str, optional
        Name of the dataset, for messages and provenance.
    progress : callable, optional
        Called with an event dict (``"event": "batch"`` / ``"epoch"``, ...) as training goes.
    should_stop : callable, optional
        Polled during training; True ends it (e.g. :func:`stop_file_check`).
    overwrite : bool, optional
        Replace an existing ``out`` (default False).
    provenance : dict, optional
        Extra entries for ``provenance.json``.
    dataset_cfg : DatasetConfig, optional
        How the sequences were fitted (its length must be theirs); saved in ``config.json``
        so prediction fits new sequences the same way (default
        ``DatasetConfig(length=<their length>)``).

    Returns
    -------
    TrainResult
        Predictor, history, metrics (test or validation part: auROC, auPRC, ...,
        ``evaluated_on``, ``baseline_kmer``, ``learning``), the split, the run config and,
        when saved, ``path``.
    """
    df, tc, aug, phylo, mc, length, dcfg = _run_setup(
        df, model_cfg, train_cfg, augment_cfg, phylo_cfg, dataset_cfg, dataset_name, out, overwrite
    )
    parts, split_source = resolve_split(df, tc)
    x = one_hot(df["sequence"].tolist())
    y = df["label"].to_numpy()
    pool = _pool_for(df, parts["train"], orthologs, phylo, length, dcfg.pad_side)
    if progress is not None:
        progress(
            {
                "event": "start",
                "n_train": len(parts["train"]),
                "n_val": len(parts["val"]),
                "n_test": len(parts["test"]),
                "epochs": tc.epochs,
                "n_orthologs": 0 if pool is None else len(pool.x),
            }
        )
    ft_epochs, ft_lr = _finetune(aug, phylo, pool is not None)
    res, mc, selection = fit_heads(
        x[parts["train"]],
        y[parts["train"]],
        x[parts["val"]],
        y[parts["val"]],
        model_cfg=mc,
        train_cfg=tc,
        augment_cfg=aug,
        ortholog_pool=pool,
        finetune_epochs=ft_epochs,
        finetune_lr=ft_lr,
        progress=progress,
        should_stop=should_stop,
    )
    predictor = Predictor([res.model], mc)
    run_cfg = RunConfig(model=mc, train=tc, data=dcfg, augment=aug, phylo=phylo)
    if res.stopped and not _finished_epochs(res.history):
        # stopped before the first epoch finished: the weights have seen a few batches at most; save nothing
        return TrainResult(predictor, res.history, {}, parts, run_cfg, stopped=True)
    test = parts["test"] if len(parts["test"]) else parts["val"]
    metrics = mt.evaluate_predictions(y[test], predictor.predict(x[test]))
    metrics["evaluated_on"] = "test" if len(parts["test"]) else "val"
    metrics["baseline_kmer"] = _baseline(df, parts["train"], parts["val"], test, tc.seed, metrics["evaluated_on"])
    metrics["learning"] = mt.learning_verdict(metrics, res.history)
    if selection:
        metrics["head_selection"] = selection
    result = TrainResult(
        predictor, res.history, metrics, parts, run_cfg, stopped=res.stopped, best_epoch=res.best_epoch
    )
    if out is not None:
        extra = {"best_epoch": res.best_epoch, "stopped_early_by_user": res.stopped}
        if pool is not None:
            extra["phylo"] = {
                "orthologs_available": len(pool.x),
                "orthologs_used_per_species": pool.used,
                "train_genes_with_orthologs": int((pool.counts > 0).sum()),
            }
        extra.update(provenance or {})
        result.path = save_model_folder(
            out,
            models=[res.model],
            config=run_cfg,
            history=res.history,
            metrics=metrics,
            provenance=_provenance(df, parts, split_source, tc, dataset_name, res.history, extra),
            extra_files={"split.csv": _split_table(df, parts)},
            overwrite=overwrite,
        )
        predictor.path = result.path
    return result


def _baseline(df: pd.DataFrame, train: np.ndarray, val: np.ndarray, test: np.ndarray, seed: int, on: str) -> dict:
    """The k-mer logistic regression on the CNN's own split (see :mod:`deepdife_core.train.baseline`)."""
    seqs = df["sequence"].to_numpy()
    y = df["label"].to_numpy()
    return fit_kmer_baseline(seqs[train], y[train], seqs[val], y[val], seqs[test], y[test], seed=seed, evaluated_on=on)


def heldout_test(df: pd.DataFrame, tc: TrainConfig) -> tuple[np.ndarray, str]:
    """Row indices of the test part :func:`cross_validate` holds out, and where it came from.

    A ``split`` column with ``test`` rows wins (``"column"``); else a seeded grouped
    split of ``tc.test_fraction`` by family (``"grouped-random"``); else none
    (``"none"``).  Tuning (:mod:`deepdife_core.tune.study`) drops the same rows, so a
    study never sees the genes the final model is tested on.

    Parameters
    ----------
    df : pandas.DataFrame
        A training dataset table.
    tc : TrainConfig
        ``test_fraction`` and ``seed``.

    Returns
    -------
    tuple of (numpy.ndarray, str)
        int64 row indices ``(n_test,)`` and their source.
    """
    if "split" in df.columns and (df["split"] == "test").any():
        return np.flatnonzero(df["split"].to_numpy() == "test"), "column"
    if tc.test_fraction > 0:
        test = grouped_split(
            df["family"].to_numpy(),
            val_fraction=0.0,
            test_fraction=tc.test_fraction,
            seed=tc.seed,
            labels=df["label"].to_numpy(),
        )["test"]
        return np.asarray(test), "grouped-random"
    return np.zeros(0, np.int64), "none"


def cross_validate(
    df: pd.DataFrame,
    *,
    k: int = 5,
    model_cfg: ModelConfig | None = None,
    train_cfg: TrainConfig | None = None,
    augment_cfg: AugmentConfig | None = None,
    phylo_cfg: PhyloConfig | None = None,
    orthologs: Orthologs | None = None,
    refit: bool = False,
    out: str | Path | None = None,
    dataset_name: str = "",
    progress: Progress | None = None,
    should_stop: StopCheck | None = None,
    overwrite: bool = False,
    provenance: dict | None = None,
    dataset_cfg: DatasetConfig | None = None,
) -> TrainResult:
    """Grouped k-fold cross-validation; the fold models form an ensemble.

    A test part is held out first (the table's ``split == "test"`` genes, or a
    grouped ``test_fraction``); the rest is split into ``k`` GroupKFold folds by
    family.  Fold ``f`` trains on the other folds with early stopping on fold ``f``.
    Reports per-fold loss/auROC/auPRC/accuracy with mean and sd, out-of-fold
    predictions, and the test metrics of the ensemble (mean of fold probabilities).

    Parameters
    ----------
    df : pandas.DataFrame
        A training dataset table, as for :func:`train_dataset`.
    k : int, optional
        Number of folds, default 5.
    model_cfg, train_cfg, augment_cfg, phylo_cfg : optional
        As in :func:`train_dataset`.
    orthologs : Orthologs, optional
        As in :func:`train_dataset`.
    refit : bool, optional
        Also train a final single model on all non-test genes for the mean best epoch of
        the folds, saved next to the run as ``<out>_refit`` (default False).
    out : str or Path, optional
        Model folder of the fold ensemble (``folds/<k>/``); None saves nothing.
    dataset_name, progress, should_stop, overwrite, provenance : optional
        As in :func:`train_dataset`.
    dataset_cfg : DatasetConfig, optional
        Saved as in :func:`train_dataset`.

    Returns
    -------
    TrainResult
        The fold ensemble, metrics (with ``cv``: ``k``, per-fold metrics and their
        summary; ``refit`` with ``refit``), ``oof`` (out-of-fold predictions), ``path`` and
        ``refit_path`` when saved; ``stopped=True`` with empty metrics if stopped before
        any fold finished an epoch.
    """
    df, tc, aug, phylo, mc, length, dcfg = _run_setup(
        df, model_cfg, train_cfg, augment_cfg, phylo_cfg, dataset_cfg, dataset_name, out, overwrite
    )
    if refit and out is not None:
        _check_out(Path(str(out) + "_refit"), overwrite)
    n = len(df)
    test, split_source = heldout_test(df, tc)
    rest = np.setdiff1d(np.arange(n), test)
    folds = grouped_kfold(df["family"].to_numpy()[rest], k=k, seed=tc.seed)
    x = one_hot(df["sequence"].tolist())
    y = df["label"].to_numpy()
    ft_epochs, ft_lr = _finetune(aug, phylo, orthologs is not None and phylo.enabled)
    models, history, fold_metrics, best_epochs = [], [], [], []
    oof = np.full(n, np.nan)
    oof_fold = np.full(n, -1)
    stopped = False
    used: dict[str, int] = {}
    selection: dict = {}
    for f, (tr_local, va_local) in enumerate(folds):
        tr, va = rest[tr_local], rest[va_local]
        pool = _pool_for(df, tr, orthologs, phylo, length, dcfg.pad_side)

        def fold_progress(event: dict, f: int = f) -> None:
            if progress is not None:
                progress({**event, "fold": f, "n_folds": k})

        if progress is not None:
            progress(
                {
                    "event": "start",
                    "fold": f,
                    "n_folds": k,
                    "n_train": len(tr),
                    "n_val": len(va),
                    "n_test": len(test),
                    "epochs": tc.epochs,
                }
            )
        # the first fold chooses the head (TrainConfig.try_heads); the other folds train that one
        res, mc, chosen = fit_heads(
            x[tr],
            y[tr],
            x[va],
            y[va],
            model_cfg=mc,
            train_cfg=replace(tc, seed=tc.seed + f, try_heads=tc.try_heads if f == 0 else ()),
            augment_cfg=aug,
            ortholog_pool=pool,
            finetune_epochs=ft_epochs,
            finetune_lr=ft_lr,
            progress=fold_progress,
            should_stop=should_stop,
        )
        if res.stopped and not _finished_epochs(res.history):  # this fold never finished an epoch: no member
            stopped = True
            break
        selection = selection or chosen
        if pool is not None:
            for sp, c in pool.used.items():
                used[sp] = used.get(sp, 0) + c
        p_va = Predictor([res.model], mc).predict(x[va])
        oof[va], oof_fold[va] = p_va, f
        m = mt.evaluate_predictions(y[va], p_va, curves=False)
        fold_metrics.append(
            {
                "fold": f,
                "n_val": len(va),
                "best_epoch": res.best_epoch,
                **{key: m[key] for key in ("loss", "auroc", "auprc", "accuracy")},
            }
        )
        history.extend({**h, "fold": f} for h in res.history)
        models.append(res.model)
        best_epochs.append(res.best_epoch)
        if res.stopped:
            stopped = True
            break
    if not models:  # stopped before the first epoch of the first fold finished: nothing to evaluate or save
        run_cfg = RunConfig(model=mc, train=tc, data=dcfg, augment=aug, phylo=phylo, extra={"cv_folds": k})
        return TrainResult(Predictor([], mc), [], {}, {"train": rest, "test": test}, run_cfg, stopped=True)
    summary = {}
    for key in ("loss", "auroc", "auprc", "accuracy"):
        vals = np.array([fm[key] for fm in fold_metrics if fm[key] is not None], dtype=float)
        summary[key] = {
            "mean": float(vals.mean()) if len(vals) else None,
            "sd": float(vals.std(ddof=1)) if len(vals) > 1 else 0.0,
        }
    predictor = Predictor(models, mc)
    if len(test):
        metrics = mt.evaluate_predictions(y[test], predictor.predict(x[test]))
        metrics["evaluated_on"] = "test (ensemble of folds)"
    else:
        seen = ~np.isnan(oof)
        metrics = mt.evaluate_predictions(y[seen], oof[seen])
        metrics["evaluated_on"] = "out-of-fold"
    metrics["cv"] = {"k": k, "folds": fold_metrics, "summary": summary}
    if selection:
        metrics["head_selection"] = {**selection, "chosen_on": "fold 0"}
    tr0, va0 = rest[folds[0][0]], rest[folds[0][1]]  # the baseline picks its C on the first fold
    eval_rows = test if len(test) else va0
    metrics["baseline_kmer"] = _baseline(df, tr0, va0, eval_rows, tc.seed, "test" if len(test) else "fold 0")
    metrics["learning"] = mt.learning_verdict(metrics, history)
    parts = {"train": rest, "val": rest, "test": test}
    run_cfg = RunConfig(model=mc, train=tc, data=dcfg, augment=aug, phylo=phylo, extra={"cv_folds": k})
    oof_df = pd.DataFrame({"gene_id": df["gene_id"], "label": y, "fold": oof_fold, "probability": oof})
    oof_df = oof_df[oof_df["fold"] >= 0].reset_index(drop=True)
    result = TrainResult(predictor, history, metrics, parts, run_cfg, stopped=stopped, oof=oof_df)
    split_parts = {"train": rest, "test": test}
    extra = {"cv_folds": k, "best_epochs": best_epochs, "stopped_early_by_user": stopped}
    if used:
        extra["phylo"] = {"orthologs_used_per_species": used}
    extra.update(provenance or {})
    if out is not None:
        result.path = save_model_folder(
            out,
            models=models,
            config=run_cfg,
            history=history,
            metrics=metrics,
            provenance=_provenance(df, split_parts, split_source, tc, dataset_name, history, extra),
            extra_files={"oof.csv": oof_df.to_csv(index=False), "split.csv": _split_table(df, split_parts)},
            overwrite=overwrite,
        )
        predictor.path = result.path
    if refit and not stopped:
        n_epochs = max(1, round(float(np.mean(best_epochs))))
        pool = _pool_for(df, rest, orthologs, phylo, length, dcfg.pad_side)
        eval_idx = test if len(test) else rest
        res = fit(
            x[rest],
            y[rest],
            x[eval_idx],
            y[eval_idx],
            model_cfg=mc,
            train_cfg=replace(tc, epochs=n_epochs, early_stopping_patience=0, reduce_lr_patience=0),
            augment_cfg=aug,
            ortholog_pool=pool,
            finetune_epochs=ft_epochs,
            finetune_lr=ft_lr,
            restore_best=False,
            progress=progress,
            should_stop=should_stop,
        )
        refit_pred = Predictor([res.model], mc)
        refit_metrics = mt.evaluate_predictions(y[eval_idx], refit_pred.predict(x[eval_idx]))
        refit_metrics["evaluated_on"] = "test" if len(test) else "training data (no test part)"
        if out is not None:
            refit_out = Path(str(out) + "_refit")
            result.refit_path = save_model_folder(
                refit_out,
                models=[res.model],
                config=run_cfg,
                history=res.history,
                metrics=refit_metrics,
                provenance=_provenance(
                    df,
                    split_parts,
                    split_source,
                    tc,
                    dataset_name,
                    res.history,
                    {"refit_of": Path(out).name, "epochs_fixed": n_epochs},
                ),
                extra_files={"split.csv": _split_table(df, split_parts)},
                overwrite=overwrite,
            )
        result.metrics["refit"] = {k2: refit_metrics[k2] for k2 in ("auroc", "auprc", "accuracy", "evaluated_on")}
    return result


def stop_file_check(path: str | Path) -> StopCheck:
    """A ``should_stop`` that returns True once ``path`` exists (the job folder's ``stop`` file).

    Parameters
    ----------
    path : str or Path
        The stop file.

    Returns
    -------
    callable
        ``() -> bool``.
    """
    p = Path(path)
    return lambda: p.exists()


__all__ = ["FitResult", "Orthologs", "TrainResult", "cross_validate", "fit", "stop_file_check", "train_dataset"]
