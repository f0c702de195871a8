"""Training: a seeded, deterministic loop around the DeepDifE CNN.

``fit`` trains one Keras model on one-hot arrays with Adam + binary cross-entropy,
early stopping and reduce-LR-on-plateau on the validation loss, and reports every
epoch (loss, val_loss, auroc, val_auroc, auprc, val_auprc, accuracy, lr, seconds)
to a ``progress`` callable.  ``train_dataset`` does the whole protocol on a
dataset table: split by family, fit, evaluate on the test part, save the model
folder atomically (see :mod:`deepdife_core.artifacts`).

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

from deepdife_core import metrics as mt
from deepdife_core.config import DatasetConfig, ModelConfig, RunConfig, TrainConfig
from deepdife_core.encode import one_hot, pad_one_hot
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.model import Predictor, _keras, build_model

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
    from deepdife_core.model import quiet_tensorflow

    quiet_tensorflow()
    import tensorflow as tf

    return tf


def random_reverse_complement(x, seed, rate: float = 0.5):
    """In-graph: replace each sequence of a one-hot batch by its reverse complement with probability ``rate``."""
    tf = _tf()
    flip = tf.random.stateless_uniform((tf.shape(x)[0], 1, 1), seed=seed) < rate
    return tf.where(flip, tf.reverse(x, axis=[1, 2]), x)


def make_train_step(model, optimizer, *, augment: Callable | None = None, rc_rate: float = 0.0):
    """Compiled one-batch update: returns (total loss, data loss, predictions).

    ``augment(x, seed)`` runs first (in the graph), then a random reverse complement
    with probability ``rc_rate``.
    """
    tf = _tf()
    keras = _keras()

    bce = keras.losses.BinaryCrossentropy()

    @tf.function(reduce_retracing=True)
    def step(x, y, seed):
        if augment is not None:
            x = augment(x, seed)
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


def fit(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    *,
    model_cfg: ModelConfig | None = None,
    train_cfg: TrainConfig | None = None,
    progress: Progress | None = None,
    should_stop: StopCheck | None = None,
    augment: Callable | None = None,
    model=None,
) -> FitResult:
    """Train one model.

    Parameters
    ----------
    x_train, x_val
        One-hot ``(N, input_length, 4)``; the model's padding is added here.
    y_train, y_val
        Labels ``(N,)`` in {0, 1}.
    progress
        Called with ``{"event": "epoch", ...metrics}`` after every epoch and
        ``{"event": "batch", "epoch", "batch", "n_batches"}`` every few batches.
    should_stop
        Polled between batches; when it returns True training ends after restoring
        the best weights so far (``FitResult.stopped``).
    augment
        Optional in-graph ``f(x, seed) -> x`` applied to every training batch.
    model
        Continue training this Keras model instead of building a new one.

    Returns
    -------
    FitResult
        The model holds the weights of the epoch with the lowest validation loss.
    """
    keras = _keras()
    model_cfg = model_cfg or ModelConfig()
    tc = train_cfg or TrainConfig()
    for name, arr in (("training", x_train), ("validation", x_val)):
        if arr.ndim != 3 or arr.shape[1:] != (model_cfg.input_length, 4):
            raise DeepDifEInputError(f"{name} data has shape {arr.shape}, expected (N, {model_cfg.input_length}, 4)")
    if len(x_train) == 0 or len(x_val) == 0:
        raise DeepDifEInputError("training and validation sets must not be empty")
    if len(np.unique(y_train)) < 2:
        raise DeepDifEInputError("the training split holds only one class; add genes of the other class")
    xt = pad_one_hot(np.asarray(x_train, np.float32), model_cfg.pad_left, model_cfg.pad_right)
    xv = pad_one_hot(np.asarray(x_val, np.float32), model_cfg.pad_left, model_cfg.pad_right)
    yt = np.asarray(y_train, np.float32).reshape(-1, 1)
    yv = np.asarray(y_val, np.float32)

    if model is None:
        model = build_model(model_cfg, seed=tc.seed)
    optimizer = keras.optimizers.Adam(learning_rate=tc.learning_rate)
    optimizer.build(model.trainable_variables)
    step = make_train_step(model, optimizer, augment=augment, rc_rate=tc.rc_augment)
    rng = np.random.default_rng(tc.seed)
    n = len(xt)
    n_batches = int(np.ceil(n / tc.batch_size))
    report_every = max(1, n_batches // 10)

    history: list[dict] = []
    best_loss, best_epoch, best_weights = np.inf, 0, model.get_weights()
    wait_stop = wait_lr = 0
    lr = float(tc.learning_rate)
    stopped = False
    for epoch in range(1, tc.epochs + 1):
        t0 = time.perf_counter()
        order = rng.permutation(n)
        seeds = rng.integers(0, 2**31 - 1, size=(n_batches, 2), dtype=np.int64)
        losses, preds, ys = [], [], []
        for b in range(n_batches):
            if should_stop is not None and should_stop():
                stopped = True
                break
            idx = order[b * tc.batch_size : (b + 1) * tc.batch_size]
            loss, _, p = step(xt[idx], yt[idx], seeds[b])
            losses.append(float(loss) * len(idx))
            preds.append(np.asarray(p)[:, 0])
            ys.append(yt[idx, 0])
            if progress is not None and (b + 1) % report_every == 0:
                progress({"event": "batch", "epoch": epoch, "batch": b + 1, "n_batches": n_batches})
        if stopped and not losses:
            break
        p_tr, y_tr = np.concatenate(preds), np.concatenate(ys)
        p_val = _predict_batches(model, xv)
        reg = float(sum(float(v) for v in model.losses)) if model.losses else 0.0
        val_loss = mt.binary_cross_entropy(yv, p_val) + reg
        rec = {
            "epoch": epoch,
            "loss": sum(losses) / len(p_tr),
            "val_loss": val_loss,
            "auroc": mt.auroc(y_tr, p_tr),
            "val_auroc": mt.auroc(yv, p_val),
            "auprc": mt.auprc(y_tr, p_tr),
            "val_auprc": mt.auprc(yv, p_val),
            "accuracy": float(((p_tr >= 0.5) == y_tr).mean()),
            "val_accuracy": float(((p_val >= 0.5) == yv).mean()),
            "lr": lr,
            "seconds": round(time.perf_counter() - t0, 4),
        }
        history.append(rec)
        if val_loss < best_loss - 1e-6:
            best_loss, best_epoch, best_weights = val_loss, epoch, model.get_weights()
            wait_stop = wait_lr = 0
        else:
            wait_stop += 1
            wait_lr += 1
        if progress is not None:
            progress({"event": "epoch", "epochs": tc.epochs, "best_epoch": best_epoch, **rec})
        if stopped:
            break
        if tc.early_stopping_patience and wait_stop >= tc.early_stopping_patience:
            break
        if tc.reduce_lr_patience and wait_lr >= tc.reduce_lr_patience and lr > tc.min_learning_rate:
            lr = max(lr * tc.reduce_lr_factor, tc.min_learning_rate)
            optimizer.learning_rate.assign(lr)
            wait_lr = 0
    model.set_weights(best_weights)
    return FitResult(model=model, history=history, best_epoch=best_epoch, stopped=stopped)


@dataclass
class TrainResult:
    """Outcome of :func:`train_dataset`."""

    predictor: Predictor
    history: list[dict]
    metrics: dict
    split: dict[str, np.ndarray]
    config: RunConfig
    stopped: bool = False
    path: Path | None = None


def resolve_split(df: pd.DataFrame, tc: TrainConfig) -> tuple[dict[str, np.ndarray], str]:
    """The dataset's own ``split`` column if present, else a grouped random split."""
    from deepdife_core.split import grouped_split, split_from_column

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


def train_dataset(
    df: pd.DataFrame,
    *,
    model_cfg: ModelConfig | None = None,
    train_cfg: TrainConfig | None = None,
    out: str | Path | None = None,
    dataset_name: str = "",
    progress: Progress | None = None,
    should_stop: StopCheck | None = None,
    overwrite: bool = False,
    provenance: dict | None = None,
) -> TrainResult:
    """Split ``df`` by family, train, evaluate on the test part and (optionally) save to ``out``."""
    from deepdife_core.artifacts import fingerprint_dataset, save_model_folder
    from deepdife_core.io import validate_dataset

    tc = train_cfg or TrainConfig()
    df = validate_dataset(df)
    length = int(df["sequence"].str.len().iloc[0])
    mc = replace(model_cfg or ModelConfig(), input_length=length)
    if out is not None:
        from deepdife_core.artifacts import check_name

        check_name(Path(out).name)
        if Path(out).exists() and not overwrite:
            raise DeepDifEInputError(f"{out} already exists; choose another --out or pass --overwrite")
    parts, split_source = resolve_split(df, tc)
    x = one_hot(df["sequence"].tolist())
    y = df["label"].to_numpy()
    if progress is not None:
        progress(
            {
                "event": "start",
                "n_train": len(parts["train"]),
                "n_val": len(parts["val"]),
                "n_test": len(parts["test"]),
                "epochs": tc.epochs,
            }
        )
    res = fit(
        x[parts["train"]],
        y[parts["train"]],
        x[parts["val"]],
        y[parts["val"]],
        model_cfg=mc,
        train_cfg=tc,
        progress=progress,
        should_stop=should_stop,
    )
    predictor = Predictor([res.model], mc)
    test = parts["test"] if len(parts["test"]) else parts["val"]
    metrics = mt.evaluate_predictions(y[test], predictor.predict(x[test]))
    metrics["evaluated_on"] = "test" if len(parts["test"]) else "val"
    run_cfg = RunConfig(model=mc, train=tc, data=DatasetConfig(length=length))
    result = TrainResult(predictor, res.history, metrics, parts, run_cfg, stopped=res.stopped)
    if out is not None:
        split_table = pd.DataFrame(
            {
                "gene_id": df["gene_id"],
                "family": df["family"],
                "label": df["label"],
                "split": _split_labels(len(df), parts),
            }
        )
        prov = {
            "dataset": dataset_name,
            "dataset_fingerprint": fingerprint_dataset(df),
            "n_genes": len(df),
            "split_source": split_source,
            "split_sizes": {k: len(v) for k, v in parts.items()},
            "seed": tc.seed,
            "epochs_run": len(res.history),
            "best_epoch": res.best_epoch,
            "stopped_early_by_user": res.stopped,
        }
        prov.update(provenance or {})
        result.path = save_model_folder(
            out,
            models=[res.model],
            config=run_cfg,
            history=res.history,
            metrics=metrics,
            provenance=prov,
            extra_files={"split.csv": split_table.to_csv(index=False)},
            overwrite=overwrite,
        )
        predictor.path = result.path
    return result


def _split_labels(n: int, parts: dict[str, np.ndarray]) -> np.ndarray:
    lab = np.full(n, "", dtype=object)
    for k, idx in parts.items():
        lab[idx] = k
    return lab


def stop_file_check(path: str | Path) -> StopCheck:
    """A ``should_stop`` that returns True once ``path`` exists (the job folder's ``stop`` file)."""
    p = Path(path)
    return lambda: p.exists()


__all__ = ["FitResult", "TrainResult", "fit", "stop_file_check", "train_dataset"]
