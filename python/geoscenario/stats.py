"""Weighted sample statistics (path weights from the scenario stratification).

Quantiles invert the weighted empirical distribution function: the
q-quantile is the smallest sample x with F_w(x) >= q (NumPy's
``method="inverted_cdf"``), so they are exact sample values.

Examples
--------
>>> import numpy as np
>>> from geoscenario import stats
>>> x = np.array([1.0, 2.0, 3.0, 4.0]); w = np.array([0.1, 0.2, 0.3, 0.4])
>>> float(stats.weighted_mean(x, w))
3.0
>>> float(stats.weighted_quantile(x, w, 0.5))
3.0
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["weighted_mean", "weighted_std", "weighted_quantile", "prob_above"]


def weighted_mean(x: np.ndarray, w: np.ndarray) -> float:
    """Σ w·x / Σ w."""
    return float(np.dot(w, x) / w.sum())


def weighted_std(x: np.ndarray, w: np.ndarray) -> float:
    """Square root of the weighted second central moment (no small-sample correction)."""
    m = weighted_mean(x, w)
    return float(np.sqrt(np.dot(w, (x - m) ** 2) / w.sum()))


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float | Sequence[float] | np.ndarray) -> np.ndarray:
    """Smallest x with weighted CDF >= q, for each q (a relative tolerance of 1e-12
    absorbs the rounding of the cumulative sum at exact ties)."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    cw = np.cumsum(w[order])
    # a cumulative weight equal to q·total up to rounding counts as reaching it,
    # so that ties (equal weights within a scenario) pick the lower order statistic
    target = np.asarray(q, dtype=float) * cw[-1] * (1.0 - 1e-12)
    idx = np.searchsorted(cw, target, side="left")
    return xs[np.minimum(idx, len(xs) - 1)]


def prob_above(x: np.ndarray, w: np.ndarray, level: float) -> float:
    """P_w(X > level)."""
    return float(w[x > level].sum() / w.sum())
