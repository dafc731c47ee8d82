"""Weighted sample statistics (path weights from the scenario stratification).

Every function takes array-likes by position (NumPy arrays, lists, pandas
Series whatever their index; but two Series given together must share their
index, since pandas would align them by label) of real numbers: booleans count as 0 and 1, while
strings, dates (``datetime64``), durations, complex numbers and empty arrays are
refused with a :class:`~geoscenario.ConfigError` naming the argument. NumPy
masked arrays are refused too (their mask would be ignored): drop the masked
entries from ``x`` and ``w`` alike before calling. Quantiles invert the weighted empirical
distribution function: the q-quantile is the smallest sample x with
F_w(x) >= q (NumPy's ``method="inverted_cdf"``), so they are exact sample
values. F_w(x) >= q is tested with a relative tolerance of 1e-12, so that a level the
weights reach exactly (0.5 of two equal halves) is not missed by the rounding of the
cumulative sum; NumPy can then return the next sample value.

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

import decimal
import itertools
import math
import numbers
import sys
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np

from . import _core, _validate
from .errors import invalid

__all__ = ["weighted_mean", "weighted_std", "weighted_quantile", "prob_above"]


def _reals(name: str, a: object) -> np.ndarray:
    """``a`` as a float64 array if it holds real numbers (booleans are 0 and 1),
    else a ConfigError naming ``name``: strings, dates, durations and complex
    numbers would otherwise be parsed, counted in days or truncated silently."""
    if isinstance(a, np.ma.MaskedArray):
        raise invalid(name, "must not be a masked array (its mask would be ignored): "
                            "drop the masked entries from x and w alike first")
    try:
        arr = np.asarray(a)
    except (TypeError, ValueError, OverflowError):  # ragged nesting and the like
        raise invalid(name, f"must be an array of real numbers, got {type(a).__name__}") from None
    if arr.dtype.kind == "O":
        for i, v in enumerate(arr.flat):
            if not isinstance(v, (numbers.Real, decimal.Decimal, np.bool_)):
                raise invalid(name, f"must be an array of real numbers, got {type(v).__name__} {v!r} at position {i}")
            if isinstance(v, decimal.Decimal) and v.is_nan():  # a signalling NaN cannot even be converted
                raise invalid(name, f"must be finite, got {v!r} at position {i}")
    elif arr.dtype.kind not in "biuf":
        kind = {"M": "dates", "m": "durations", "c": "complex numbers", "U": "strings", "S": "bytes"}
        what = kind.get(arr.dtype.kind, "values")
        raise invalid(name, f"must be an array of real numbers, got {what} (dtype {arr.dtype})")
    try:
        return arr.astype(float, copy=False)
    except (TypeError, ValueError, OverflowError):  # e.g. an int beyond the double range
        raise invalid(name, "must be an array of finite real numbers, got a value beyond the double range") from None


def _samples(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_pair`'s arrays, checked: finite real values, weights >= 0 with a positive
    sum (the weights :func:`_scaled`)."""
    x, w = _pair(x, w)
    for name, a in (("x", x), ("w", w)):
        bad = np.flatnonzero(~np.isfinite(a))
        if bad.size:
            raise invalid(name, f"must be finite, got {a[bad[0]]} at position {bad[0]}")
    if (w < 0).any():
        i = int(np.argmax(w < 0))
        raise invalid("w", f"weights must be >= 0, got {w[i]} at position {i}")
    w = _scaled(w)
    if not w.sum() > 0:
        raise invalid("w", "weights must have a positive sum")
    return x, w


def _pair(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x and w as float64 arrays of one non-zero length, by position (a pandas
    Series' index is ignored, as NumPy would, but two Series must share it: pandas
    would align them); their values not checked."""
    pd = sys.modules.get("pandas")  # (imported already if a Series is given)
    if pd is not None and isinstance(x, pd.Series) and isinstance(w, pd.Series) and not x.index.equals(w.index):
        raise invalid("w", "is a Series whose index differs from x's: these statistics pair values by position, "
                           "where pandas would align them by label; align them first (w.reindex(x.index)) "
                           "or pass arrays")
    x, w = _reals("x", x), _reals("w", w)
    for name, a in (("x", x), ("w", w)):
        if a.size == 0:
            raise invalid(name, "is empty: give at least one sample")
    if x.ndim != 1:
        raise invalid("x", f"must be 1-D, got shape {x.shape}")
    if w.shape != x.shape:  # x is fine: the weights do not match it
        raise invalid("w", f"must be 1-D of the length of x, got shapes {w.shape} for w and {x.shape} for x")
    return x, w


def _scaled(w: np.ndarray) -> np.ndarray:
    """Weights ``w`` scaled by a power of two, max in [1/2, 1): every statistic here is
    invariant to the scale of w, and the scaling (exact) keeps Σw finite for weights near
    the largest double."""
    return np.ldexp(w, -_exponent(w))


def _exponent(a: np.ndarray) -> int:
    """e with max|a| in [2^(e−1), 2^e) (0 for an empty or all-zero array)."""
    top = float(np.abs(a).max()) if a.size else 0.0
    return int(np.frexp(top)[1]) if top > 0 else 0


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Σ a·b in a fixed order: NumPy's pairwise sum of the products. ``np.dot`` would
    hand the sum to BLAS, whose order (and so the last bits) depends on its threads."""
    return float(np.sum(a * b))


def weighted_mean(x: np.ndarray, w: np.ndarray) -> float:
    """Σ w·x / Σ w.

    Parameters
    ----------
    x
        Sample values, shape ``(n,)`` with n >= 1: real numbers (booleans count as 0
        and 1); strings, dates, complex numbers and masked arrays are refused.
    w
        Non-negative weights, shape ``(n,)``, with a positive sum (need not be normalised).

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from geoscenario import stats
    >>> x = np.array([1.0, 2.0, 3.0, 4.0])
    >>> stats.weighted_mean(x, np.array([0.1, 0.2, 0.3, 0.4]))
    3.0
    >>> stats.weighted_mean(x, np.ones(4))  # equal weights: the plain mean
    2.5
    """
    return _moments(*_pair(x, w), std=False)[0]


def _mean(x: np.ndarray, w: np.ndarray) -> float:
    """:func:`weighted_mean` of float64 arrays of one length (the internal callers')."""
    return _moments(x, w, std=False)[0]


def _moments(x: np.ndarray, w: np.ndarray, std: bool) -> tuple[float, float]:
    """The weighted mean and, with ``std``, standard deviation (else 0) of the float64
    arrays of :func:`_pair`, from the core (``_core.weighted_moments``): one parallel scan
    that checks the values and finds the powers of two that bring the largest |x| and w
    into [1/2, 1), so that no sum can overflow, then one pass per moment in fixed chunks
    (the same bits on any number of threads). Values that fail are named by
    :func:`_samples`."""
    got = _core.weighted_moments(np.ascontiguousarray(x), np.ascontiguousarray(w), std)
    if got is None:
        _samples(x, w)  # the value at fault, named
        raise invalid("w", "weights must have a positive sum")  # (what _samples lets pass: none)
    return got


def weighted_std(x: np.ndarray, w: np.ndarray) -> float:
    """Square root of the weighted second central moment (no small-sample correction).

    sqrt(Σ w (x − m)² / Σ w) with m the :func:`weighted_mean`.

    Parameters
    ----------
    x
        Sample values, shape ``(n,)`` with n >= 1: real numbers (booleans count as 0
        and 1); strings, dates, complex numbers and masked arrays are refused.
    w
        Non-negative weights, shape ``(n,)``, with a positive sum (need not be normalised).

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from geoscenario import stats
    >>> x = np.array([1.0, 2.0, 3.0, 4.0])
    >>> round(stats.weighted_std(x, np.array([0.1, 0.2, 0.3, 0.4])), 12)
    1.0
    >>> round(stats.weighted_std(x, np.ones(4)), 12) == round(float(np.std(x)), 12)  # ddof=0
    True
    """
    return _moments(*_pair(x, w), std=True)[1]


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float | Sequence[float] | np.ndarray) -> np.ndarray:
    """Smallest x with weighted CDF >= q, for each q (a relative tolerance of 1e-12
    absorbs the rounding of the cumulative sum at exact ties).

    The inverse of the weighted empirical distribution function (NumPy's
    ``method="inverted_cdf"``): every quantile is a sample value.

    Parameters
    ----------
    x
        Sample values, shape ``(n,)`` with n >= 1: real numbers (booleans count as 0
        and 1); strings, dates, complex numbers and masked arrays are refused.
    w
        Non-negative weights, shape ``(n,)``, with a positive sum (need not be normalised).
    q
        Quantile level(s) in [0, 1].

    Returns
    -------
    numpy.ndarray
        One sample value per level, shaped like ``q`` (a NumPy scalar for a scalar ``q``).

    Examples
    --------
    >>> import numpy as np
    >>> from geoscenario import stats
    >>> x = np.array([4.0, 1.0, 3.0, 2.0]); w = np.array([0.4, 0.1, 0.3, 0.2])
    >>> stats.weighted_quantile(x, w, [0.1, 0.5, 0.9]).tolist()
    [1.0, 3.0, 4.0]
    >>> float(stats.weighted_quantile(x, np.ones(4), 0.5))  # a tie at the median: the lower value
    2.0
    """
    x, w = _samples(x, w)
    qs = _validate.levels("q", q)  # real numbers only: not "0.5", True or a Decimal
    order = _argsort(x)
    return _sorted_quantile(x[order], w[order], qs)


def _sorted_quantile(xs: np.ndarray, ws: np.ndarray, qs: np.ndarray) -> np.ndarray:
    """:func:`weighted_quantile` of values sorted stably, ``xs``, with their nonnegative
    weights ``ws`` (scaled here by a power of two as :func:`_samples` scales them; weights
    it has scaled already are unchanged)."""
    return _cdf_quantile(xs, _scaled_cumsum(ws), qs)


def _scaled_cumsum(ws: np.ndarray) -> np.ndarray:
    """The running sums of weights ``ws`` scaled by a power of two (max in [1/2, 1)) that
    :func:`_cdf_quantile` reads quantiles from."""
    return _cumsum(_scaled(ws))


def _cdf_quantile(xs: np.ndarray, cw: np.ndarray, qs: np.ndarray) -> np.ndarray:
    """The quantiles at ``qs`` of values sorted stably, ``xs``, from ``cw``, the
    :func:`_scaled_cumsum` of their weights."""
    # a cumulative weight equal to q·total up to rounding counts as reaching it,
    # so that ties (equal weights within a scenario) pick the lower order
    # statistic; it must be positive, so that q = 0 is the smallest value with weight
    target = np.maximum(qs * cw[-1] * (1.0 - 1e-12), np.finfo(float).tiny)
    idx = np.searchsorted(cw, target, side="left")
    return xs[np.minimum(idx, len(xs) - 1)]


def _cumsum(w: np.ndarray) -> np.ndarray:
    """Running sums of ``w`` to about one rounding each: ``np.cumsum``'s, plus the running
    sum of the rounding error of each of its additions (found exactly, Knuth's TwoSum),
    then their running maximum (the corrected sums can step back by a rounding where a
    weight is below it). A plain running sum drifts by up to one rounding per term: over
    95,000 weights of 1e-5 it ended 2e-12 (relative) below 0.95 of the total, past the
    quantiles' tolerance of 1e-12. Computed in the core in one pass
    (``_core.compensated_cumsum``), with the bits of those NumPy operations."""
    return _core.compensated_cumsum(np.ascontiguousarray(w, dtype=float))


def _argsort(x: np.ndarray) -> np.ndarray:
    """``np.argsort(x, kind="stable")``, the same permutation, sorted on all threads in the
    core (``_core.argsort``)."""
    return _core.argsort(np.ascontiguousarray(x, dtype=float))


def _mean_se(parts: Sequence[tuple[np.ndarray, np.ndarray]], mass: float, pairs: bool) -> float:
    """The Monte Carlo standard error of a weighted mean over scenarios sampled in
    blocks of fixed size: ``parts`` holds each scenario's values and weights (its
    paths in order), ``mass`` the weights' total over all the parts. Within a
    scenario the independent draws are its paths, or under ``pairs`` (antithetic)
    its consecutive pairs; its variance is U/(U − 1)·Σ_u (Σ_{i∈u} w_i (x_i − m_k) / mass)²
    over its U draws, m_k its weighted mean (the weights taken as given), and the
    scenarios' variances add. With weights p_k/n_k this is sqrt(Σ (p_k/mass)² s_k²/U_k),
    s_k the draws' sample standard deviation. NaN when a scenario of positive weight
    has a single draw."""
    se2 = 0.0
    for x, w in parts:
        if not w.sum() > 0:
            continue
        e = w / mass * (x - _mean(x, w))
        if pairs:
            e = e[0::2] + e[1::2]
        if len(e) < 2:
            return math.nan
        se2 += len(e) / (len(e) - 1) * _dot(e, e)  # (a fixed order: np.dot's follows BLAS threads)
    return math.sqrt(se2)


def _weighted_mean_se(x: np.ndarray, w: np.ndarray, blocks: Sequence[slice | np.ndarray], g: int, mass: float,
                      pairs: bool, design: tuple[np.ndarray, np.ndarray] | None,
                      thin: Sequence[bool] | None = None) -> float:
    """The Monte Carlo standard error of the weighted mean of ``x`` over block ``g`` of
    ``blocks`` (the scenarios' paths; −1: all of them), of weight ``mass``: under weights
    taken as given (:func:`_mean_se`), or, given the ``design`` of a posterior's binding
    views (their functions centred at their posterior means, shape (k, n), and the inverse
    S⁻¹ of their posterior covariance), with the views' multipliers fitted to the same
    paths. The estimate's linearisation then adds to each path's term q_i d_i (d = (x − m)/mass
    on the group, 0 elsewhere) that of the multipliers λ: dm/dλ·δλ with dm/dλ = C = Σ q d (f − f̄)
    and δλ = −S⁻¹ Σ q (f − f̄), so z_i = q_i (d_i − (f_i − f̄)'S⁻¹C), the regression residual of
    a calibration estimator (Deville & Särndal 1992): a mean a view pins has error 0. The
    core computes the z_i and their spread over the blocks (``_core.calibrated_mean_se``).
    NaN when a scenario that moves the estimate has weights on fewer than 2 effective
    paths (:func:`_thin`; ``thin``: whether each block's weights are, when the caller
    has them, from :func:`_thin_blocks`)."""
    return _weighted_mean_ses([x], w, blocks, g, mass, pairs, design, thin)[0]


#: Columns whose errors under a posterior's design one call of the core computes (8 MB
#: each for 1,000,000 paths), reading the paths' weights and the views' functions once.
_COLUMNS = 8


def _weighted_mean_ses(columns: Iterable[np.ndarray], w: np.ndarray, blocks: Sequence[slice | np.ndarray], g: int,
                       mass: float, pairs: bool, design: tuple[np.ndarray, np.ndarray] | None,
                       thin: Sequence[bool] | None = None) -> list[float]:
    """:func:`_weighted_mean_se` of each of ``columns`` (made as they are read, at most
    :data:`_COLUMNS` at a time): under a ``design`` the core takes them together, each
    with the bits it has alone."""
    # (through the views' multipliers every scenario's paths move a posterior's estimates)
    members = range(len(blocks)) if g < 0 or design is not None else [g]
    if any(_thin(w[blocks[k]]) if thin is None else thin[k] for k in members):
        return [math.nan for _ in columns]
    if design is None:
        return [_mean_se([(x[blocks[k]], w[blocks[k]]) for k in members], mass, pairs) for x in columns]
    ft, s_inv = design
    perm, spans = _spans(blocks, len(w))
    if perm is not None:  # (blocks not each one run of paths: each made one, keeping its order)
        w, ft = w[perm], ft[:, perm]
    group = (0, len(w)) if g < 0 else spans[g]
    w, ft, s_inv = (np.ascontiguousarray(a, dtype=float) for a in (w, ft, s_inv))
    out: list[float] = []
    rest = iter(columns)
    while batch := [np.ascontiguousarray(x if perm is None else x[perm], dtype=float)
                    for x in itertools.islice(rest, _COLUMNS)]:
        out += _core.calibrated_mean_se(batch, w, group, mass, ft, s_inv, spans, pairs)
    return out


def _spans(blocks: Sequence[slice | np.ndarray], n: int) -> tuple[np.ndarray | None, list[tuple[int, int]]]:
    """``blocks`` of ``n`` paths (slices, boolean masks or indices) as runs (start, stop):
    (None, their runs) when each is one run of paths in order, else a permutation that
    places each block's paths in one run, in their order (the paths of no block after
    them all), and the runs in that order."""
    def indices(b: slice | np.ndarray) -> np.ndarray:
        if isinstance(b, slice):
            return np.arange(*b.indices(n))
        a = np.asarray(b)
        return np.flatnonzero(a) if a.dtype == bool else a.astype(np.intp)

    runs: list[tuple[int, int]] = []
    for b in blocks:
        if isinstance(b, slice) and b.step in (None, 1):
            start, stop, _ = b.indices(n)
            runs.append((start, max(start, stop)))
            continue
        i = indices(b)
        if len(i) and not (i[-1] - i[0] + 1 == len(i) and bool(np.all(np.diff(i) == 1))):
            break
        runs.append((int(i[0]), int(i[-1]) + 1) if len(i) else (0, 0))
    else:
        return None, runs
    idx = [indices(b) for b in blocks]
    rest = np.ones(n, bool)
    for i in idx:
        rest[i] = False
    perm = np.concatenate([*idx, np.flatnonzero(rest)])
    stops = np.cumsum([len(i) for i in idx])
    return perm, [(int(b - len(i)), int(b)) for i, b in zip(idx, stops)]


def _var_cvar_se(loss: np.ndarray, w: np.ndarray, blocks: Sequence[slice | np.ndarray], g: int, mass: float,
                 pairs: bool, design: tuple[np.ndarray, np.ndarray] | None, var: float,
                 alpha: float, thin: Sequence[bool] | None = None) -> tuple[float, float]:
    """The Monte Carlo standard errors of the VaR ``var`` and the CVaR at level ``alpha`` of
    ``loss`` over block ``g`` of ``blocks`` (−1: all paths), of weight ``mass``, as the
    streamed summary gives them under the run's own weights (docs/MODEL.md §6):

    - VaR: the error of the α-quantile of the loss (:func:`_quantile_se`);
    - CVaR = VaR + E[(L − VaR)+]/(1 − α): the error of the weighted mean of (L − VaR)+,
      over 1 − α (its derivative in VaR is 0 at the true VaR).

    ``design`` counts a posterior's fit to the same paths, and under antithetic ``pairs``
    the draws are the pairs, as for a mean. Both NaN when the VaR's error is not defined
    (a path of the group weighing more than the tail 1 − α, or a single draw at the VaR).
    ``thin``: as for :func:`_weighted_mean_se`."""
    sparsity = _quantile_sparsity(loss, w, blocks, g, pairs, var, alpha, 1.0 - alpha)
    if sparsity is None:
        return math.nan, math.nan
    below_se, excess_se = _weighted_mean_ses(((loss <= var).astype(float), np.maximum(loss - var, 0.0)), w, blocks,
                                             g, mass, pairs, design, thin)
    return below_se * sparsity, excess_se / (1.0 - alpha)


class _SortedGroup(NamedTuple):
    """A group's values sorted stably (``xs``), their shares of its weight in that order
    (``ws``) and the running sums of those (``cdf``), with the largest share and Kish's
    effective number of paths 1/Σ share² (summed in the paths' order)."""

    xs: np.ndarray
    ws: np.ndarray
    cdf: np.ndarray
    heaviest: float
    n_eff: float
    scaled_cdf: np.ndarray  # (the shares' :func:`_scaled_cumsum`, read by :func:`_cdf_quantile`)
    weights: np.ndarray  # the weights as given, in the order of ``xs`` (for :func:`_sorted_quantile`)


def _sorted_group(x: np.ndarray, w: np.ndarray, blocks: Sequence[slice | np.ndarray], g: int,
                  order: np.ndarray | None = None) -> _SortedGroup:
    """:class:`_SortedGroup` of block ``g`` of ``blocks`` (−1: all paths), read from ``order``,
    the stable sort of all of ``x``, when given (a block's paths in that order are their own
    stable sort)."""
    sel = slice(None) if g < 0 else blocks[g]
    wg = w[sel]
    total = np.sum(wg)
    shares = wg / total  # (Kish's count from shares: weights of 1e-200 would underflow when squared)
    if order is None:
        idx = _argsort(x[sel])
        xs, wr = x[sel][idx], wg[idx]
        ws = shares[idx]
    elif isinstance(sel, slice) and sel.step in (None, 1):  # a run of paths (all, or a scenario's): in the core
        start, stop, _ = sel.indices(len(x))
        xs, wr, ws = _core.gather_run(np.ascontiguousarray(x, dtype=float), np.ascontiguousarray(w, dtype=float),
                                      np.ascontiguousarray(order, dtype=np.int64), (start, max(start, stop)),
                                      float(total))
    else:
        member = np.zeros(len(x), bool)
        member[sel] = True
        idx = order[member[order]]
        xs, wr = x[idx], w[idx]
        ws = wr / total
    return _SortedGroup(xs, ws, _cumsum(ws), float(np.max(shares)), 1.0 / _dot(shares, shares), _scaled_cumsum(ws),
                        wr)


def _quantile_se(x: np.ndarray, w: np.ndarray, blocks: Sequence[slice | np.ndarray], g: int, mass: float,
                 pairs: bool, design: tuple[np.ndarray, np.ndarray] | None, value: float, level: float,
                 tail: float, group: _SortedGroup | None = None, thin: Sequence[bool] | None = None) -> float | None:
    """The Monte Carlo standard error of ``value``, the quantile at ``level`` of ``x`` over
    block ``g`` of ``blocks`` (−1: all paths), of weight ``mass``, as the streamed summary
    gives it under the run's own weights (docs/MODEL.md §6): the error of the share of the
    group's weight at or below it (the weighted mean of that indicator,
    :func:`_weighted_mean_se`) times the sparsity 1/f (Bahadur's representation of a
    quantile, :func:`_quantile_sparsity`).

    ``design`` counts a posterior's fit to the same paths, and under antithetic ``pairs``
    the draws are the pairs, as for a mean. None (no error, for the quantile nor for a CVaR
    built on it) where :func:`_quantile_sparsity` is None. ``group``: the group's
    :func:`_sorted_group`, when the caller has it for several levels; ``thin``: as for
    :func:`_weighted_mean_se`."""
    sparsity = _quantile_sparsity(x, w, blocks, g, pairs, value, level, tail, group)
    if sparsity is None:
        return None
    return _weighted_mean_se((x <= value).astype(float), w, blocks, g, mass, pairs, design, thin) * sparsity


def _quantile_sparsity(x: np.ndarray, w: np.ndarray, blocks: Sequence[slice | np.ndarray], g: int, pairs: bool,
                       value: float, level: float, tail: float, group: _SortedGroup | None = None) -> float | None:
    """The sparsity 1/f of :func:`_quantile_se` at ``value``, the quantile at ``level``
    of ``x`` over block ``g`` of ``blocks``, estimated by the secant of the weighted
    quantile function between the levels α − δ and α + δ (Hall and Sheather's δ for the
    group's Kish effective number of paths): the difference of the two sample values over
    the weight between them.

    None when the group's heaviest path weighs more than ``tail`` (1 − α for a VaR, the
    smaller of α and 1 − α for a quantile: the quantile is then one path's value, with
    nothing to estimate a spread from) or when both levels fall on the one path (or pair)
    at the quantile; 0 when they fall on an atom of several draws there (the quantile does
    not move), and NaN when every antithetic pair of a scenario straddles it (the share's
    first-order error is then 0, the quantile's is not)."""
    grp = _sorted_group(x, w, blocks, g) if group is None else group
    # (with a relative tolerance: a weight of 0.1 against 1 − 0.9 = 0.09999999999999998)
    if grp.heaviest > tail * (1.0 + 1e-12):
        return None
    d = _core.sparsity_bandwidth(level, grp.n_eff)
    xs, ws = grp.xs, grp.ws
    lo, hi = _cdf_quantile(xs, grp.scaled_cdf, np.array([level - d, level + d]))
    # the CDF at each value, its ties included
    f_lo, f_hi = grp.cdf[np.searchsorted(xs, [lo, hi], side="right") - 1]
    if hi > lo:
        sparsity = float(hi - lo) / float(f_hi - f_lo)
    elif np.count_nonzero((xs == lo) & (ws > 0)) > (2 if pairs else 1):
        sparsity = 0.0  # one value spans both levels, an atom of several draws: the quantile does not move
    else:  # a single draw spans them: nothing to estimate a spread from
        return None
    if pairs:
        below = x <= value
        if any(_straddled(below[blocks[k]], w[blocks[k]]) for k in (range(len(blocks)) if g < 0 else [g])):
            return math.nan  # every pair straddles the quantile: the share's first-order error is 0, not its own
    return sparsity


def _quantile_ses(x: np.ndarray, w: np.ndarray, blocks: Sequence[slice | np.ndarray], g: int, mass: float,
                  pairs: bool, design: tuple[np.ndarray, np.ndarray] | None, values: Sequence[float],
                  levels: Sequence[float], order: np.ndarray | None = None,
                  group: _SortedGroup | None = None, thin: Sequence[bool] | None = None) -> list[float]:
    """:func:`_quantile_se` of each of ``values``, the quantiles of ``x`` over block ``g`` at
    ``levels`` (each with the shorter tail min(q, 1 − q)), NaN where it has none; the group
    sorted once (from ``order``, the stable sort of all of ``x``, when given), or given as
    ``group``, its :func:`_sorted_group`, and the indicators' errors found together
    (:func:`_weighted_mean_ses`); ``thin``: as for :func:`_weighted_mean_se`."""
    if not levels:
        return []
    if group is None:
        group = _sorted_group(x, w, blocks, g, order)
    sparsity = [_quantile_sparsity(x, w, blocks, g, pairs, value, level, min(level, 1.0 - level), group)
                for value, level in zip(values, levels)]
    shares = iter(_weighted_mean_ses(((x <= value).astype(float) for value, s in zip(values, sparsity) if s is not None),
                                     w, blocks, g, mass, pairs, design, thin))
    return [math.nan if s is None else next(shares) * s for s in sparsity]


def _straddled(below: np.ndarray, w: np.ndarray) -> bool:
    """Whether a scenario of positive weight has paths on both sides of a quantile
    (``below``: 1 at or below it) and every antithetic pair one twin on each."""
    return bool(np.sum(w) > 0 and 0 < np.sum(below) < len(below) and np.all(below[0::2] != below[1::2]))


def _thin_blocks(w: np.ndarray, blocks: Sequence[slice | np.ndarray]) -> list[bool]:
    """:func:`_thin` of each block's weights: the same for every quantity of a run, which
    its summary checks once."""
    return [_thin(w[b]) for b in blocks]


def _thin(w: np.ndarray) -> bool:
    """Whether weights ``w`` of a positive total rest on fewer than 2 effective paths
    (Kish's (Σw)²/Σw² < 2): less than two draws' worth of spread to estimate an error from."""
    total = float(np.sum(w))
    # (two equal weights are two paths, whatever the rounding of their squares)
    return total > 0 and total * total < 2.0 * _dot(w, w) * (1.0 - 1e-12)


def _psd_ginv(a: np.ndarray, tol: float = 1e-10) -> np.ndarray:
    """A generalised inverse G of the symmetric positive semi-definite ``a`` (a G a = a), in
    a fixed order of operations: Cholesky with diagonal pivoting, stopped at the first
    pivot below ``tol`` times the largest diagonal entry (the rows and columns left are
    (nearly) combinations of those taken, and get 0), then the inverse of the pivots'
    block from its triangular factor. No LAPACK: its results depend on BLAS's threads."""
    k = a.shape[0]
    d = np.diag(a).astype(float)
    stop = tol * (d.max() if k else 0.0)
    chol = np.zeros((k, k))  # column j: the j-th pivot's column of the factor
    piv: list[int] = []
    for j in range(k):
        p = int(np.argmax(d))
        if not d[p] > stop:
            break
        col = a[:, p] - np.sum(chol[:, :j] * chol[p, :j], axis=1)
        chol[:, j] = col / math.sqrt(d[p])
        d -= chol[:, j] ** 2
        d[piv + [p]] = -np.inf  # (taken)
        piv.append(p)
    r = len(piv)
    low = chol[piv, :r]  # lower triangular: the pivots' block is low·lowᵀ
    inv = np.zeros((r, r))  # low⁻¹, row by row (forward substitution)
    for i in range(r):
        e = np.zeros(r)
        e[i] = 1.0
        inv[i] = (e - np.sum(low[i, :i, None] * inv[:i], axis=0)) / low[i, i]
    out = np.zeros((k, k))
    out[np.ix_(piv, piv)] = np.einsum("ji,jk->ik", inv, inv)  # (low·lowᵀ)⁻¹ = low⁻ᵀ low⁻¹
    return out


def prob_above(x: np.ndarray, w: np.ndarray, level: float) -> float:
    """P_w(X > level).

    The weight of the samples strictly above ``level`` over the total weight.

    Parameters
    ----------
    x
        Sample values, shape ``(n,)`` with n >= 1: real numbers (booleans count as 0
        and 1); strings, dates, complex numbers and masked arrays are refused.
    w
        Non-negative weights, shape ``(n,)``, with a positive sum (need not be normalised).
    level
        The threshold (samples equal to it do not count).

    Returns
    -------
    float
        In [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from geoscenario import stats
    >>> x = np.array([1.0, 2.0, 3.0, 4.0]); w = np.array([0.1, 0.2, 0.3, 0.4])
    >>> round(stats.prob_above(x, w, 2.5), 12)
    0.7
    >>> stats.prob_above(x, w, 4.0)  # strictly above
    0.0
    """
    x, w = _samples(x, w)
    if not _validate.is_real(level) or np.isnan(_validate.to_float(level)):
        raise invalid("level", f"must be a number, {_validate.got(level)}")
    return float(w[x > level].sum() / w.sum())
