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
    """Mean binary cross-entropy of probabilities ``p`` against labels ``y``.

    Parameters
    ----------
    y : numpy.ndarray
        ``(N,)`` labels in {0, 1}.
    p : numpy.ndarray
        ``(N,)`` probabilities, clipped to ``[eps, 1 - eps]``.
    eps : float, optional
        Clipping bound, default 1e-7.

    Returns
    -------
    float
        The mean loss (natural log).
    """
    p = np.clip(np.asarray(p, dtype=np.float64), eps, 1 - eps)
    y = np.asarray(y, dtype=np.float64)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _two_class_score(metric, y: np.ndarray, p: np.ndarray) -> float | None:
    """``metric(y, p)`` as a float, or None when ``y`` has fewer than two classes."""
    y = np.asarray(y)
    if len(np.unique(y)) < 2:
        return None
    return float(metric(y, p))


def auroc(y: np.ndarray, p: np.ndarray) -> float | None:
    """Area under the ROC curve.

    Parameters
    ----------
    y : numpy.ndarray
        ``(N,)`` labels in {0, 1}.
    p : numpy.ndarray
        ``(N,)`` scores.

    Returns
    -------
    float or None
        The auROC, or None when ``y`` has fewer than two classes.
    """
    from sklearn.metrics import roc_auc_score

    return _two_class_score(roc_auc_score, y, p)


def auprc(y: np.ndarray, p: np.ndarray) -> float | None:
    """Area under the precision-recall curve (average precision).

    Parameters
    ----------
    y, p : numpy.ndarray
        ``(N,)`` labels in {0, 1} and ``(N,)`` scores, as for :func:`auroc`.

    Returns
    -------
    float or None
        The auPRC, or None when ``y`` has fewer than two classes.
    """
    from sklearn.metrics import average_precision_score

    return _two_class_score(average_precision_score, y, p)


def evaluate_predictions(y: np.ndarray, p: np.ndarray, *, threshold: float = 0.5, curves: bool = True) -> dict:
    """auROC, auPRC, accuracy, precision, recall, loss, confusion matrix and ROC/PR points.

    Parameters
    ----------
    y : numpy.ndarray
        True labels ``(N,)`` in {0, 1}.
    p : numpy.ndarray
        Predicted probabilities ``(N,)``.
    threshold : float, optional
        Probability from which a prediction counts as 1, default 0.5.
    curves : bool, optional
        Add ``roc_curve`` and ``pr_curve`` (at most 200 ``[x, y]`` points each) when both
        classes are present (default True).

    Returns
    -------
    dict
        ``n``, ``n_positive``, ``auroc``, ``auprc`` (None with one class), ``accuracy``,
        ``precision``, ``recall``, ``loss`` (None when empty), ``threshold``,
        ``confusion_matrix`` (``tn, fp, fn, tp``) and the curves.
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


#: a CNN whose validation auROC never got past this has not learnt
NOT_LEARNING_AUROC = 0.6
#: the CNN must beat the k-mer baseline by at least this much to count as better
BASELINE_MARGIN = 0.0


def learning_verdict(metrics: dict, history: list[dict] | None = None) -> dict:
    """Did the model learn?  Compare it with chance and with the k-mer baseline.

    Parameters
    ----------
    metrics
        A model folder's ``metrics.json`` content (``auroc`` and, if present, ``baseline_kmer``).
    history
        The epoch records (``val_auroc``); the best validation auROC is checked too.

    Returns
    -------
    dict
        ``{"status": "learnt" | "below_baseline" | "not_learning", "message": str,
        "cnn_auroc", "baseline_auroc", "best_val_auroc"}``; ``message`` is one plain
        sentence for the CLI and the pages, with what to try when the status is not ``learnt``.
    """
    cnn = metrics.get("auroc")
    base = (metrics.get("baseline_kmer") or {}).get("auroc")
    vals = [h.get("val_auroc") for h in (history or []) if h.get("val_auroc") is not None]
    best_val = max(vals) if vals else None
    out = {"cnn_auroc": cnn, "baseline_auroc": base, "best_val_auroc": best_val}
    on = metrics.get("evaluated_on", "test")
    if cnn is None:
        return {**out, "status": "unknown", "message": f"no auROC on the {on} genes (one class only)."}
    worst = min(cnn, best_val) if best_val is not None else cnn
    if worst < NOT_LEARNING_AUROC:
        msg = (
            f"The model has not learnt: {on} auROC {cnn:.3f}"
            + (f", best validation auROC {best_val:.3f}" if best_val is not None else "")
            + " (0.5 = chance). Its saliency maps and motifs are noise. Try EvoAug, more epochs "
            "(a larger patience), more genes, or check the labels."
        )
        return {**out, "status": "not_learning", "message": msg}
    if base is not None and cnn <= base + BASELINE_MARGIN:
        msg = (
            f"The CNN ({on} auROC {cnn:.3f}) does not beat a k-mer count model ({base:.3f}) on the same genes: "
            "it has learnt no more than word counts. Try EvoAug, more genes, the exponential first layer, "
            "or trust the simpler model."
        )
        return {**out, "status": "below_baseline", "message": msg}
    gain = f", k-mer baseline {base:.3f}" if base is not None else ""
    return {**out, "status": "learnt", "message": f"The model has learnt: {on} auROC {cnn:.3f}{gain}."}
