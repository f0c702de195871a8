"""Mean, standard deviation and 95% confidence interval of effects (per group)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

#: the columns :func:`summarize` adds for a value column ``v``
STAT_SUFFIXES = ("mean", "sd", "ci_low", "ci_high")


def mean_ci(values: np.ndarray, confidence: float = 0.95) -> dict[str, float]:
    """Mean, sample sd (ddof 1) and Student-t confidence interval of the mean.

    Parameters
    ----------
    values
        ``(n,)`` effects (NaN ignored).
    confidence
        Coverage of the interval.

    Returns
    -------
    dict
        ``n, mean, sd, ci_low, ci_high`` (sd and the interval are NaN for n < 2; for n >= 2
        the interval is ``mean -/+ t(1 - (1 - confidence)/2, n - 1) * sd / sqrt(n)``).
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    n = len(v)
    if n == 0:
        return {"n": 0, "mean": np.nan, "sd": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    mean = float(v.mean())
    if n < 2:
        return {"n": 1, "mean": mean, "sd": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    sd = float(v.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sd / np.sqrt(n)
    return {"n": n, "mean": mean, "sd": sd, "ci_low": mean - half, "ci_high": mean + half}


def summarize(df: pd.DataFrame, by: Sequence[str], columns: Sequence[str], *, confidence: float = 0.95) -> pd.DataFrame:
    """One row per group of ``by`` with ``n`` and ``<col>_mean, <col>_sd, <col>_ci_low, <col>_ci_high``.

    Parameters
    ----------
    df
        Long table (one row per gene and condition).
    by
        Grouping columns (kept, in order of first appearance).
    columns
        Value columns summarised with :func:`mean_ci`.
    confidence
        Coverage of the intervals.

    Returns
    -------
    pandas.DataFrame
    """
    rows = []
    for key, part in df.groupby(list(by), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by, key, strict=True))
        for col in columns:
            s = mean_ci(part[col].to_numpy(), confidence)
            row["n"] = s["n"]
            for suffix in STAT_SUFFIXES:
                row[f"{col}_{suffix}"] = s[suffix]
        rows.append(row)
    return pd.DataFrame(rows)
