"""Classification metrics on probabilities (pure numpy / scikit-learn)."""

from __future__ import annotations

import numpy as np


def _curve_points(x: np.ndarray, y: np.ndarray, n: int = 200) -> list[list[float]]:
    """Down-sample a curve to at most ``n`` points (keeps ends), rounded for JSON."""
    if len(x) > n:
        idx = np.unique(np.linspace(0, len(x) - 1, n).round().astype(int))
        x, y = x[idx], y[idx]
    return [[round(float(a), 5), round(float(b), 5)] for a, b in zip(x, y, strict=True)]


def binary_cross_entropy(y: np.ndarray, p: np.ndarray, eps: float = 1e-7) -> float:
    p = np.clip(np.asarray(p, dtype=np.float64), eps, 1 - eps)
    y = np.asarray(y, dtype=np.float64)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def auroc(y: np.ndarray, p: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y)
    if len(np.unique(y)) < 2:
        return None
    return float(roc_auc_score(y, p))


def auprc(y: np.ndarray, p: np.ndarray) -> float | None:
    from sklearn.metrics import average_precision_score

    y = np.asarray(y)
    if len(np.unique(y)) < 2:
        return None
    return float(average_precision_score(y, p))


def evaluate_predictions(y: np.ndarray, p: np.ndarray, *, threshold: float = 0.5, curves: bool = True) -> dict:
    """auROC, auPRC, accuracy, precision, recall, loss, confusion matrix and ROC/PR points.

    Parameters
    ----------
    y
        True labels ``(N,)`` in {0, 1}.
    p
        Predicted probabilities ``(N,)``.
    """
    from sklearn.metrics import precision_recall_curve, roc_curve

    y = np.asarray(y).astype(int)
    p = np.asarray(p, dtype=np.float64)
    pred = (p >= threshold).astype(int)
    tp = int(((pred == 1) & (y == 1)).sum())
    tn = int(((pred == 0) & (y == 0)).sum())
    fp = int(((pred == 1) & (y == 0)).sum())
    fn = int(((pred == 0) & (y == 1)).sum())
    out: dict = {
        "n": len(y),
        "n_positive": int(y.sum()),
        "auroc": auroc(y, p),
        "auprc": auprc(y, p),
        "accuracy": float((pred == y).mean()) if len(y) else None,
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "loss": binary_cross_entropy(y, p) if len(y) else None,
        "threshold": threshold,
        "confusion_matrix": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
    }
    if curves and len(np.unique(y)) == 2:
        fpr, tpr, _ = roc_curve(y, p)
        prec, rec, _ = precision_recall_curve(y, p)
        out["roc_curve"] = _curve_points(fpr, tpr)
        out["pr_curve"] = _curve_points(rec[::-1], prec[::-1])
    return out
