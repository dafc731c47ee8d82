"""Backtests of target-weight portfolios on historical prices (the loop runs in Rust).

The trading rules and the metrics' conventions are in the Notes of :func:`backtest`
(``help(gs.backtest)``). ``gs.backtest`` is that function, so
``import geoscenario.backtest as bt`` gives the function too: import this module's
other names with ``from geoscenario.backtest import metrics, StressResult``.

Examples
--------
>>> import geoscenario as gs
>>> px = gs.data.equities_daily()[["ntr_adj_close", "mos_adj_close", "spy_adj_close"]]
>>> res = gs.backtest(px, {"ntr_adj_close": 0.5, "mos_adj_close": 0.5, "spy_adj_close": -1.2})
>>> res.periods_per_year, len(res.rebalance_dates)
(252.0, 75)
"""

from __future__ import annotations

import datetime
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import _core, _validate, stats
from ._format import table_html
from .calibrate import _datetime_index, _numeric_frame, _period_starts, _periods_per_year
from .errors import NumericalError, ResourceError, invalid, warn
from .strategy import MAX_COST_BPS, MAX_WEIGHT

if TYPE_CHECKING:
    from .simulation import Simulation
    from .world import World

__all__ = ["BacktestResult", "StressResult", "backtest", "metrics"]

_PERIODS = {"daily": "D", "weekly": "W", "monthly": "M", "quarterly": "Q", "annual": "Y"}
_REBALANCE = (*_PERIODS, "never", "on_weights")
# pandas frequency strings (their anchor after "-" dropped; case matters: "ms" is a
# millisecond) and the rule that means the same
_ALIASES = {
    **dict.fromkeys(("D", "B", "C", "BD", "d", "b", "c"), "daily"),
    **dict.fromkeys(("W", "w"), "weekly"),
    **dict.fromkeys(("M", "ME", "MS", "BM", "BME", "BMS", "CBME", "CBMS"), "monthly"),
    **dict.fromkeys(("Q", "QE", "QS", "BQ", "BQE", "BQS"), "quarterly"),
    **dict.fromkeys(("Y", "YE", "YS", "A", "AS", "BA", "BAS", "BY", "BYE", "BYS"), "annual"),
}


# ============================================================================ metrics
def metrics(equity: pd.Series, periods_per_year: float, *, capital: float | None = None) -> pd.Series:
    """Performance metrics of an equity curve (conventions in the Notes of :func:`backtest`).

    Parameters
    ----------
    equity
        Equity values (positive at the start, never negative) on a ``DatetimeIndex``.
    periods_per_year
        Annualisation of the period returns: 252 for daily data (365.25 when weekends are
        in the index: calendar days), 12 for monthly.
    capital
        The capital invested at the first date, before that date's costs:
        ``total_return`` and ``cagr`` are measured from it, and it is the first
        high-water mark of ``max_drawdown``. Default: the first equity value.
        :func:`backtest` passes 1, so its ``total_return`` is net of every trade's
        costs, the first one's included.

    Returns
    -------
    pandas.Series
        ``start``, ``end``, ``years``, ``periods_per_year``, ``final_equity``,
        ``total_return``, ``cagr``, ``vol``, ``sharpe``, ``sortino``,
        ``max_drawdown`` with its dates (``peak_date``, ``trough_date``,
        ``recovery_date``), ``calmar``, ``var_95``, ``cvar_95``, ``ruin_date``
        (dtype object: dates and numbers). Several backtests side by side, one float or
        datetime column per metric:
        ``pd.DataFrame({name: res.metrics for name, res in runs.items()}).T.infer_objects()``.

    Examples
    --------
    >>> import pandas as pd
    >>> from geoscenario.backtest import metrics
    >>> idx = pd.date_range("2020-01-31", periods=4, freq="ME")
    >>> eq = pd.Series([1.0, 1.1, 0.99, 1.2], index=idx)
    >>> round(float(metrics(eq, 12)["max_drawdown"]), 6)
    0.1
    >>> round(float(metrics(eq, 12)["total_return"]), 12), round(float(metrics(eq, 12, capital=1.2)["total_return"]), 12)
    (0.2, 0.0)
    >>> table = pd.DataFrame({"a": metrics(eq, 12), "b": metrics(eq * 2, 12)}).T.infer_objects()
    >>> table["sharpe"].dtype.kind, table["trough_date"].dtype.kind  # float, datetime
    ('f', 'M')
    """
    if not isinstance(equity, pd.Series):
        raise invalid("equity", f"must be a pandas Series of equity values by date, got {type(equity).__name__}")
    equity = _period_starts(equity)
    _datetime_index(equity, "equity")  # the dates give the years of the CAGR
    if not _validate.is_real(periods_per_year):
        raise invalid("periods_per_year", f"must be a positive number, {_validate.got(periods_per_year)}")
    p = _validate.to_float(periods_per_year)
    if not (np.isfinite(p) and p > 0):
        raise invalid("periods_per_year", f"must be a positive number, got {periods_per_year!r}")
    if equity.dtype.kind not in "iuf":
        raise invalid("equity", f"must hold real numbers, got dtype {equity.dtype}")
    e = equity.to_numpy(dtype=float, na_value=np.nan)
    if len(e) == 0:
        raise invalid("equity", "is empty: metrics need at least one value")
    if not np.isfinite(e).all() or (e < 0).any():
        raise invalid("equity", "must be finite and >= 0 on every date")
    if e[0] <= 0:
        raise invalid("equity", f"starts at {e[0]!r}; returns are measured from a positive first value")
    if capital is None:
        c0 = float(e[0])
    elif _validate.is_finite_real(capital) and _validate.to_float(capital) > 0:
        c0 = _validate.to_float(capital)
    else:
        raise invalid("capital", f"must be a positive finite number, {_validate.got(capital)}")
    dates = equity.index
    # "no date" typed as a date, so that a table of several runs' metrics infers a datetime
    # column even when no run has that date (pd.NaT alone is no more a date than a duration)
    # (NumPy has no time zone: with one, pd.NaT, and any real date in a column types it)
    index = pd.DatetimeIndex(dates)
    no_date = pd.NaT if index.tz is not None else np.datetime64("NaT", index.unit)
    # a ruin (equity 0) ends the returns: the dead periods after it are no 0% returns
    dead = np.flatnonzero(e == 0.0)
    ruin = int(dead[0]) if dead.size else len(e)
    if ruin < len(e) and (e[ruin:] > 0).any():
        raise invalid("equity", f"is 0 on {dates[ruin].date()} and positive later: equity cannot come back "
                      "from 0 (new capital is a new curve)")
    live = e[: ruin + 1]  # through the ruin date, or the whole curve
    with np.errstate(over="ignore"):
        r = live[1:] / live[:-1] - 1.0
        growth = e[-1] / c0
    if not np.isfinite(r).all():
        raise invalid("equity", "grows beyond the double range between two dates: rescale it")
    if not np.isfinite(growth):
        raise invalid("capital", f"is {c0!r}: the growth to the last equity value {e[-1]!r} exceeds the double "
                      "range")
    years = (dates[-1] - dates[0]).total_seconds() / 86_400.0 / 365.25
    if years > 0 and growth > 0:
        log_cagr = math.log(growth) / years
        cagr = float(growth ** (1.0 / years) - 1.0) if log_cagr < 709.0 else float("inf")
    else:
        cagr = -1.0 if growth == 0 else float("nan")
    n = len(r)
    mean = float(r.mean()) if n else float("nan")
    with np.errstate(over="ignore"):  # squares of returns near 1e154 and up: rescaled below
        sd = float(r.std(ddof=1)) if n > 1 else float("nan")
        down = float(np.sqrt(np.mean(np.minimum(r, 0.0) ** 2))) if n else float("nan")
    if n > 1 and math.isinf(sd):
        big = float(np.abs(r).max())
        sd = big * float((r / big).std(ddof=1))
    # the high-water mark starts at the capital: a first trade's costs are a drawdown
    peak_run = np.maximum(np.maximum.accumulate(e), c0)
    dd = 1.0 - e / peak_run
    mdd = float(dd.max())
    if mdd > 0:
        trough = int(np.argmax(dd))
        peak = int(np.argmax(e[: trough + 1])) if peak_run[trough] > c0 else 0  # else the capital, first date
        back = np.flatnonzero(e[trough:] >= peak_run[trough])
        peak_date, trough_date = dates[peak], dates[trough]
        recovery_date = dates[trough + back[0]] if back.size else no_date
    else:
        peak_date = trough_date = recovery_date = no_date
    if n:
        # the loss quantile and the tail mean of the risk tables: the 5% tail of the
        # returns, a share of the observation at its edge included (Acerbi and Tasche)
        # (its VaR is the 95% quantile of the losses, the second-worst of 20; the metrics'
        # is −(the 5% quantile of the returns), the worst of 20, as documented)
        _, cvar95 = _core.var_cvar(np.ascontiguousarray(r, dtype=float), np.ones(n), 0.95)
        q = float(np.quantile(r, 0.05, method="inverted_cdf"))
        # (the tail mean is at least that loss in exact arithmetic: not an ulp below it
        # from the core's rounding, as it could be when the tail is one period)
        var95 = 0.0 - q  # +0.0 when flat
        cvar95 = max(0.0 + cvar95, var95)
    else:
        var95 = cvar95 = float("nan")

    def ratio(a: float, b: float) -> float:
        return a / b if b > 0 else float("nan")

    return pd.Series(
        {
            "start": dates[0],
            "end": dates[-1],
            "years": years,
            "periods_per_year": p,
            "final_equity": float(e[-1]),
            "total_return": growth - 1.0,
            "cagr": cagr,
            "vol": sd * math.sqrt(p),
            "sharpe": ratio(mean, sd) * math.sqrt(p),
            "sortino": ratio(mean, down) * math.sqrt(p),
            "max_drawdown": mdd,
            "peak_date": peak_date,
            "trough_date": trough_date,
            "recovery_date": recovery_date,
            "calmar": ratio(cagr, mdd),
            "var_95": var95,
            "cvar_95": cvar95,
            "ruin_date": dates[ruin] if ruin < len(e) else no_date,
        },
        dtype=object,
        name="metrics",
    )


# ============================================================================ inputs
def _dated(index: pd.Index) -> bool:
    """Whether an index holds dates (timestamps, periods or ``datetime.date`` objects)."""
    if isinstance(index, pd.DatetimeIndex | pd.PeriodIndex):
        return True
    return index.dtype == object and len(index) > 0 and all(isinstance(v, datetime.date) for v in index)


def _by_column(name: str, value: Any) -> Any:
    """A Series indexed by column name as the dict it stands for (other values as given)."""
    if name == "cost_bps" and isinstance(value, pd.DataFrame | pd.Series) and _dated(value.index):
        raise invalid(name, "costs do not vary over time: give a number, or a dict or Series of "
                      f"basis points indexed by column name, got a {type(value).__name__} indexed by dates")
    if not isinstance(value, pd.Series):
        return value
    if _dated(value.index):
        raise invalid(name, "a Series indexed by dates is one column over time: pass a DataFrame "
                      "(series.to_frame(column)) or a Series indexed by column name")
    return _validate.keyed(name, value)


def _targets(weights: Any, columns: list[Any]) -> pd.DataFrame | dict[Any, float]:
    if isinstance(weights, Mapping):
        out = {}
        for k, v in weights.items():
            if k not in columns:
                raise invalid(f"weights.{k}", "is not a column of prices")
            if not _validate.is_finite_real(v):
                raise invalid(f"weights.{k}", f"must be a finite number, {_validate.got(v)}")
            if abs(_validate.to_float(v)) > MAX_WEIGHT:
                raise invalid(f"weights.{k}", f"must be in [-{MAX_WEIGHT:g}, {MAX_WEIGHT:g}] (times equity), {_validate.got(v)}")
            out[k] = _validate.to_float(v)
        if not out:
            raise invalid("weights", "is empty")
        return out
    if isinstance(weights, pd.DataFrame):
        frame = _numeric_frame(weights, "weights", allow_series=False)
        for c in frame.columns:
            if c not in columns:
                raise invalid(f"weights.{c}", "is not a column of prices")
        if len(frame) == 0:
            raise invalid("weights", "has no rows")
        vals = frame.to_numpy()
        if np.isnan(vals).any():
            r, c = np.argwhere(np.isnan(vals))[0]
            raise invalid(
                f"weights.{frame.columns[c]}",
                f"is NaN on {frame.index[r].date()} (use 0 for no position)",
            )
        if (np.abs(vals) > MAX_WEIGHT).any():
            r, c = np.argwhere(np.abs(vals) > MAX_WEIGHT)[0]
            raise invalid(
                f"weights.{frame.columns[c]}",
                f"must be in [-{MAX_WEIGHT:g}, {MAX_WEIGHT:g}] (times equity), got {vals[r, c]!r} on {frame.index[r].date()}",
            )
        # a period's weights keep their periods: they are dated at its end once the
        # price dates are known (_at_period_ends)
        return frame.set_axis(weights.index, axis=0) if isinstance(weights.index, pd.PeriodIndex) else frame
    raise invalid(
        "weights",
        "must be a dict or Series of column to weight, or a DataFrame of "
        f"weights over time, got {type(weights).__name__}",
    )


def _costs(cost_bps: Any, held: list[Any], columns: list[Any]) -> np.ndarray:
    def one(name: str, v: Any) -> float:
        if not _validate.is_real(v) or not 0 <= _validate.to_float(v) <= MAX_COST_BPS:
            got = (repr(v) if _validate.is_real(v) or isinstance(v, str | type(None)) or v is pd.NA
                   else f"a {type(v).__name__}")
            raise invalid(name, f"must be a number of basis points in [0, {MAX_COST_BPS:g}], got {got}")
        return _validate.to_float(v)

    if isinstance(cost_bps, Mapping):
        unknown = [k for k in cost_bps if k not in columns]
        if unknown:  # a cost for a column not held is fine; one for no column is a typo
            raise invalid(f"cost_bps.{unknown[0]}", f"is not a column of prices ({', '.join(map(str, columns))})")
        out = []
        for c in held:
            if c not in cost_bps:
                raise invalid(f"cost_bps.{c}", "is missing: give a cost for every held column")
            out.append(one(f"cost_bps.{c}", cost_bps[c]))
        return np.asarray(out, dtype=float)
    return np.full(len(held), one("cost_bps", cost_bps))


def _window(
    vals: np.ndarray, index: pd.DatetimeIndex, held: list[Any], align: str
) -> tuple[int, int]:
    firsts, lasts = [], []
    for j, c in enumerate(held):
        ok = ~np.isnan(vals[:, j])
        if not ok.any():
            raise invalid(f"prices.{c}", "has no prices")
        first, last = int(np.argmax(ok)), len(ok) - 1 - int(np.argmax(ok[::-1]))
        gap = np.flatnonzero(~ok[first : last + 1])
        if gap.size:
            raise invalid(
                f"prices.{c}",
                f"is missing on {index[first + gap[0]].date()} between valid prices "
                "(fill or drop it explicitly; only leading and trailing NaN are handled)",
            )
        firsts.append(first)
        lasts.append(last)
    if align == "common":
        s, e = max(firsts), min(lasts)
        if s > e:
            a, b = held[int(np.argmax(firsts))], held[int(np.argmin(lasts))]
            raise invalid(
                "prices",
                f"histories do not overlap: {a} starts on {index[s].date()} after {b} ends on "
                f"{index[e].date()} (align='cash' holds missing assets in cash)",
            )
        span = max(lasts) - min(firsts) + 1
        if 2 * (e - s + 1) < span:  # most of the data left out: say why
            late, early = held[int(np.argmax(firsts))], held[int(np.argmin(lasts))]
            why = [f"{late} starts on {index[s].date()}"] if s > min(firsts) else []
            why += [f"{early} ends on {index[e].date()}"] if e < max(lasts) else []
            warn(
                f"align='common' keeps {e - s + 1} of the {span} dates with a price ({' and '.join(why)}); "
                "align='cash' runs over all of them, holding cash for a column without a price"
            )
        return s, e
    return min(firsts), max(lasts)


def _at_period_ends(targets: pd.DataFrame, dates: pd.DatetimeIndex) -> pd.DataFrame:
    """Weights by period dated at each period's end: its last price date, or the first
    after it when the period has none (a weight computed from a period's data is known
    only when the period ends; dated at its start, it would trade on data to come). Of
    periods that fall on one date, the last is kept."""
    periods = targets.index
    assert isinstance(periods, pd.PeriodIndex)
    local = dates.tz_localize(None) if dates.tz is not None else dates  # wall-clock periods
    last = local.searchsorted(periods.to_timestamp(how="end"), side="right") - 1
    within = (last >= 0) & (local[np.maximum(last, 0)] >= periods.to_timestamp(how="start"))
    at = np.where(within, last, last + 1)
    ends = pd.DatetimeIndex(
        # (a period after the prices is never traded: its end, at a real local time)
        [dates[i] if i < len(dates)
         else p.to_timestamp(how="end").tz_localize(dates.tz, ambiguous=False, nonexistent="shift_forward")
         for i, p in zip(at, periods)]
    )
    keep = ~ends.duplicated(keep="last")
    return targets[keep].set_axis(ends[keep], axis=0)


def _schedule(
    dates: pd.DatetimeIndex,
    rebalance: str,
    targets: pd.DataFrame | dict[Any, float],
    held: list[Any],
) -> tuple[list[int], np.ndarray]:
    t = len(dates)
    if rebalance == "never":
        rows = [0]
    elif rebalance == "on_weights":
        assert isinstance(targets, pd.DataFrame)
        pos = dates.searchsorted(targets.index, side="left")  # first date on or after each row
        keep: dict[int, int] = {}
        for i, r in enumerate(pos):
            if r < t:
                keep[int(r)] = i  # the latest weights row wins on a shared date
        rows = sorted(keep)
        mat = targets.reindex(columns=held, fill_value=0.0).to_numpy()[[keep[r] for r in rows]]
        return rows, np.ascontiguousarray(mat, dtype=float)
    else:
        local = dates.tz_localize(None) if dates.tz is not None else dates  # wall-clock periods, no warning
        per = local.to_period(_PERIODS[rebalance]).asi8
        ends = np.flatnonzero(per[1:] != per[:-1])  # last date of each period before the final one
        rows = sorted({0, *(int(i) for i in ends)})
    if isinstance(targets, pd.DataFrame):
        which = (
            targets.index.searchsorted(dates[rows], side="right") - 1
        )  # as-of: last row on or before
        mat = targets.reindex(columns=held, fill_value=0.0).to_numpy()[which]
    else:
        mat = np.tile([targets.get(c, 0.0) for c in held], (len(rows), 1))
    return rows, np.ascontiguousarray(mat, dtype=float)


# ============================================================================ results
#: BacktestResult's pandas attributes, handed out as copies.
_RESULT_TABLES = frozenset({"equity", "returns", "turnover", "costs", "positions", "weights", "cash", "metrics"})


class BacktestResult:
    """Equity curve, returns, turnover, positions and metrics of a backtest.

    Attributes
    ----------
    equity
        Equity after each date's trades and costs (capital 1 at the start).
    returns
        ``equity.pct_change()`` from the second date: NaN after a ruin (0/0), so that
        pandas statistics of it stop at the ruin, as :attr:`metrics` do.
    turnover
        Traded notional (buys plus sells, each costing ``cost_bps``) over the equity
        before costs, per date.
    costs
        Costs paid per date, as a fraction of the initial capital.
    positions
        Value held in each held column after each date's trades.
    weights
        ``positions / equity``.
    cash
        Cash after each date's trades.
    rebalance_dates
        Dates on which the portfolio traded to its targets.
    metrics
        :func:`metrics` of the equity curve plus ``turnover`` (per year) and ``costs``.
    periods_per_year
        252 for daily data (365.25 with weekends in the index, 260.9 with every weekday
        over a year or so), 12 for monthly, ...

    Examples
    --------
    >>> import geoscenario as gs
    >>> px = gs.data.equities_daily()[["ntr_adj_close", "spy_adj_close"]]
    >>> res = gs.backtest(px, {"ntr_adj_close": 1.0, "spy_adj_close": -1.0})
    >>> isinstance(res, gs.BacktestResult), res.rebalance, res.periods_per_year
    (True, 'monthly', 252.0)
    >>> len(res.equity), res.weights.columns.tolist()
    (1556, ['ntr_adj_close', 'spy_adj_close'])
    >>> res.rebalance_dates[0] == res.equity.index[0]  # the first trade is on the first date
    True
    >>> round(float(res.equity.iloc[0]), 12)  # 10 bps on 2.0 of traded notional
    0.998
    """

    equity: pd.Series
    returns: pd.Series
    turnover: pd.Series
    costs: pd.Series
    positions: pd.DataFrame
    weights: pd.DataFrame
    cash: pd.Series
    rebalance_dates: pd.DatetimeIndex
    metrics: pd.Series
    periods_per_year: float
    cost_bps: float
    rebalance: str
    align: str
    cost_desc: str


    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)

    def __getattribute__(self, name: str) -> Any:
        # the tables come out as copies (shallow under copy-on-write): editing one in place
        # cannot leave the metrics, the repr or to_pandas describing different data
        value = object.__getattribute__(self, name)
        if name in _RESULT_TABLES:
            return _validate.private_copy(value)
        return value

    @property
    def drawdown(self) -> pd.Series:
        """1 − equity / running peak, the peak starting at the capital of 1.

        Returns
        -------
        pandas.Series
            Named ``drawdown``, indexed like ``equity``; 0 at a new peak, the first
            trade's costs on the first date, its maximum is ``metrics["max_drawdown"]``
            (reached on ``metrics["trough_date"]``).

        Examples
        --------
        >>> import geoscenario as gs
        >>> px = gs.data.equities_daily()[["ntr_adj_close", "spy_adj_close"]]
        >>> res = gs.backtest(px, {"ntr_adj_close": 1.0, "spy_adj_close": -1.0})
        >>> dd = res.drawdown
        >>> dd.name, round(float(dd.iloc[0] - res.costs.iloc[0]), 15), bool(((dd >= 0) & (dd <= 1)).all())
        ('drawdown', 0.0, True)
        >>> round(float(dd.max()), 12) == round(float(res.metrics["max_drawdown"]), 12)
        True
        >>> dd.idxmax() == res.metrics["trough_date"]
        True
        """
        peak = self.equity.cummax().clip(lower=1.0)
        return (1.0 - self.equity / peak).rename("drawdown")

    def to_pandas(self) -> pd.DataFrame:
        """One row per date: ``equity``, ``return``, ``turnover``, ``cost``, ``cash``, ``drawdown``.

        Returns
        -------
        pandas.DataFrame
            Indexed by the backtest's dates; ``return`` is NaN on the first date and after a ruin.

        Examples
        --------
        >>> import geoscenario as gs
        >>> px = gs.data.equities_daily()[["ntr_adj_close", "spy_adj_close"]]
        >>> gs.backtest(px, {"ntr_adj_close": 1.0}).to_pandas().columns.tolist()
        ['equity', 'return', 'turnover', 'cost', 'cash', 'drawdown']
        """
        return pd.DataFrame(
            {
                "equity": self.equity,
                "return": self.returns.reindex(self.equity.index),
                "turnover": self.turnover,
                "cost": self.costs,
                "cash": self.cash,
                "drawdown": self.drawdown,
            }
        )

    def __repr__(self) -> str:
        m = self.metrics
        held = ", ".join(f"{c} {w:+.2f}" for c, w in self.weights.iloc[-1].items())
        return (
            f"BacktestResult({m['start'].date()}..{m['end'].date()}, {len(self.equity)} dates, "
            f"{len(self.rebalance_dates)} rebalances ({self.rebalance}), "
            f"{self.cost_desc}; final weights: {held})\n"
            + (f"  ruined on {m['ruin_date'].date()}: the equity is 0 from then on\n"
               if not pd.isna(m.get("ruin_date", pd.NaT)) else "")
            + f"  CAGR {m['cagr']:.2%}, vol {m['vol']:.2%}, Sharpe "
            f"{m['sharpe']:.2f}, Sortino {m['sortino']:.2f}, "
            f"Calmar {m['calmar']:.2f}\n"
            f"  max drawdown {m['max_drawdown']:.2%} "
            f"({_date(m['peak_date'])} → {_date(m['trough_date'])}, "
            f"recovered {_date(m['recovery_date'])}); "
            f"VaR95 {m['var_95']:.2%}, CVaR95 {m['cvar_95']:.2%} per period; "
            f"turnover {m['turnover']:.2f}/year, costs {m['costs']:.2%}"
        )

    def _repr_html_(self) -> str:
        """In a notebook: the repr's first line, the headline metrics and the final
        weights as tables, then the drawdown's dates (and the ruin's)."""
        lines = repr(self).splitlines()
        m = self.metrics
        figures = m[["cagr", "vol", "sharpe", "sortino", "calmar", "max_drawdown", "var_95", "cvar_95", "turnover",
                     "costs"]].astype(float).to_frame().T.rename(index={m.name: "metrics"})
        held = self.weights.iloc[[-1]].rename(index=lambda d: f"final ({d.date()})")
        dates = (f"max drawdown {m['max_drawdown']:.2%} from {_date(m['peak_date'])} to {_date(m['trough_date'])}, "
                 f"recovered {_date(m['recovery_date'])}")
        ruin = [ln.strip() for ln in lines[1:] if ln.startswith("  ruined")]
        return table_html(lines[0], [("", figures), ("", held)], [*ruin, dates])

    def stress(
        self,
        scenarios: World | Simulation,
        mapping: Mapping[Any, str],
        *,
        n_paths: int | None = None,
        horizon_months: int | None = None,
        seed: int | None = None,
        rebalance: str = "monthly",
    ) -> StressResult:
        """Forward P&L of the portfolio's current weights under simulated scenarios.

        Each held column is mapped to a world asset; the portfolio keeps its
        final weights (summed per asset; the rest in cash at 0%) and earns the
        simulated monthly asset returns e^{r} − 1, rebalanced monthly to those
        weights (``rebalance="monthly"``, the strategies' rule of MODEL.md §5) or
        bought and held (``"never"``), without costs. A book whose value reaches 0
        at a month end has lost everything and stays at 0 (a P&L of −1), as in a
        backtest. P&L is a fraction of the current equity; ``pnl_value`` scales it
        by the final equity.

        Parameters
        ----------
        scenarios
            A :class:`World` (simulated here with ``n_paths``, ``horizon_months``,
            ``seed``) or a :class:`Simulation`, whose world, paths, seed, horizon
            and scenario probabilities are reused (its world is re-simulated
            with the same seed to read the asset returns). The paths are simulated
            in ranges of 64 MB or more (``STRESS_RANGE_BYTES``; at least 8 MiB per
            series, ``STRESS_ARRAY_BYTES``), each dropped once its P&L is read: memory
            grows with ``n_paths`` by a few numbers per path, not by every series of
            every month.
        mapping
            ``{price column: world asset}`` (or a Series so indexed) for every column with
            a non-zero weight.
        n_paths, horizon_months, seed
            Of the simulation of a :class:`World`: default 20,000 paths, the world's
            horizon and seed 0. A :class:`Simulation` has its own; given with one,
            they must equal its (else a ``ConfigError`` naming the parameter).
        rebalance
            ``"monthly"`` (back to the weights every month) or ``"never"`` (buy and hold).

        Returns
        -------
        StressResult

        Raises
        ------
        NumericalError
            The backtest's equity reached 0 (``metrics["ruin_date"]``): nothing is left
            to stress.

        Examples
        --------
        >>> import geoscenario as gs
        >>> px = gs.data.equities_daily()[["ntr_adj_close", "spy_adj_close"]]
        >>> res = gs.backtest(px, {"ntr_adj_close": 1.0, "spy_adj_close": -1.0})
        >>> st = res.stress(gs.World.default(), {"ntr_adj_close": "fertilizer_producers",
        ...                                      "spy_adj_close": "global_equity"}, n_paths=2_000)
        >>> st.summary().index.tolist()
        ['base', 'bull', 'bear', 'all']
        """
        from .simulation import Simulation
        from .strategy import Strategy
        from .world import World

        if not isinstance(rebalance, str) or rebalance not in ("monthly", "never"):
            raise invalid("rebalance", f"must be 'monthly' or 'never', got {rebalance!r}")
        mapping = _validate.keyed("mapping", mapping)
        if not isinstance(mapping, Mapping):
            raise invalid(
                "mapping",
                f"must be a dict (or pandas Series) of price column to world asset, got {type(mapping).__name__}",
            )
        if isinstance(scenarios, Simulation):
            world = scenarios.world
            n, h, s, anti = (
                scenarios.n_paths,
                scenarios.horizon_months,
                scenarios.seed,
                scenarios.antithetic,
            )
            qmc = bool(getattr(scenarios, "qmc", False))
            # the same paths keep the simulation's own weights (e.g. a posterior from views)
            path_weights: np.ndarray | None = np.asarray(scenarios.weights)
            for name, given, own in (("n_paths", n_paths, n), ("horizon_months", horizon_months, h), ("seed", seed, s)):
                if given is not None and _validate.integer(name, given, 0, 2**64 - 1) != own:
                    raise invalid(name, f"is the Simulation's ({own:,}), {_validate.got(given)}: leave it out, or "
                                        "pass the World to simulate it anew")
        elif isinstance(scenarios, World):
            world, anti, qmc, path_weights = scenarios, False, False, None
            n = 20_000 if n_paths is None else n_paths
            s = 0 if seed is None else seed
            h = world.horizon_months if horizon_months is None else horizon_months
        else:
            raise invalid(
                "scenarios",
                f"must be a geoscenario World or Simulation, got {type(scenarios).__name__}",
            )
        ruin = self.metrics.get("ruin_date", pd.NaT)
        if not pd.isna(ruin):
            raise NumericalError(
                f"stress: the backtest's equity is 0 from {ruin.date()}: nothing is left invested, and a P&L "
                "as a fraction of no equity has no meaning"
            )
        w_now = self.weights.iloc[-1]
        per_asset: dict[str, float] = {}
        for col, w in w_now.items():
            if w == 0:
                continue
            if col not in mapping:
                raise invalid(f"mapping.{col}", f"has weight {w:+.4f} but no world asset")
            asset = mapping[col]
            if not isinstance(asset, str) or asset not in world.assets:
                raise invalid(
                    f"mapping.{col}",
                    f"{asset!r} is not an asset of the world ({', '.join(world.assets)})",
                )
            per_asset[asset] = per_asset.get(asset, 0.0) + float(w)
        names = {a: f"stress_asset_{i}" for i, a in enumerate(per_asset)}
        # each asset's growth, free of the strategy's and of the asset's own trading costs
        free = world.with_params({f"assets.{a}.cost_bps": 0.0 for a in per_asset})
        # (the world's own strategies are not simulated: nor warned about a second time)
        w2 = free.with_strategies(*[Strategy(names[a], {a: 1.0}, cost_bps=0.0) for a in per_asset], replace=True)
        n, h, s, anti = _validate.run_args(w2.horizon_months, n, h, s, anti)
        scenario, value, counts = _stress_paths(w2, n, h, s, anti, qmc, {names[a]: w for a, w in per_asset.items()},
                                                rebalance)
        if path_weights is None:  # the world's own stratified weights, as its simulation gives them
            per = np.array([(float(p) + 0.0) / c if c else 0.0 for p, c in zip(w2.probabilities.values(), counts)])
            path_weights = per[scenario]
        pnl = np.asarray(value, dtype=float) - 1.0
        return StressResult(
            pnl=pnl,
            pnl_value=pnl * float(self.equity.iloc[-1]),
            scenario=scenario,
            weights=path_weights,
            scenario_names=list(w2.probabilities),
            asset_weights=per_asset,
            horizon_months=h,
            rebalance=rebalance,
            antithetic=anti,
            qmc=qmc,
            _views_design=scenarios._view_design() if isinstance(scenarios, Simulation) else None,
        )


#: The memory of the paths that :meth:`BacktestResult.stress` simulates at once (every series
#: of its world over a range of paths; the result keeps one value per path).
STRESS_RANGE_BYTES = 64 << 20
#: The least memory of each series' array in a range: the core reuses (and backs with huge
#: pages) output arrays of 4 MiB and more, and a stress of ranges of smaller arrays took
#: twice as long, every range paying for fresh memory.
STRESS_ARRAY_BYTES = 8 << 20
#: Bytes a stress keeps per path: its value, P&L, P&L in money, weight and scenario, and
#: their scratch copies.
STRESS_PATH_BYTES = 48


def _stress_paths(world: Any, n_paths: int, horizon: int, seed: int, antithetic: bool, qmc: bool,
                  weights: Mapping[str, float], rebalance: str) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Each path's scenario and final value of a book holding ``weights`` of the NAVs of
    ``world``'s strategies (monthly rebalanced, or bought and held), and the scenarios' path
    counts. The paths are simulated in ranges of :data:`STRESS_RANGE_BYTES` or more (arrays
    of at least :data:`STRESS_ARRAY_BYTES`), each range's series dropped once its values
    are read: memory follows the range, not ``n_paths``, and a path's bits do not depend
    on the range that simulates it."""
    n, h = n_paths, horizon
    per_path = max(1, int(world._core.output_bytes(1024, h)) // 1024)
    # (even: an antithetic pair in one range)
    step = max(2, STRESS_RANGE_BYTES // per_path, STRESS_ARRAY_BYTES // (8 * (h + 1))) & ~1
    # refused before any path is simulated when the result cannot fit, as simulate() is:
    # per path its value, P&L, P&L in money and weight (8 bytes each) and scenario, with
    # a range of paths and its values
    need = STRESS_PATH_BYTES * n + per_path * min(n, step)
    available = _core.available_memory()
    if available is not None and need > available:
        raise ResourceError(
            f"stress of {n:,} paths × {h} months: needs {need / 2**30:,.2f} GiB, "
            f"{available / 2**30:,.2f} GiB available (use fewer paths: n_paths, or a smaller Simulation)"
        )
    scenario: np.ndarray | None = None
    value = np.empty(n)
    counts: list[int] = []
    with warnings.catch_warnings():  # a QMC path count was warned about when `scenarios` ran
        warnings.filterwarnings("ignore", "qmc=True with n_paths", UserWarning)
        for start in range(0, n, step):
            end = min(n, start + step)
            raw = world._core.simulate(n, h, seed, antithetic, None, int(_core.DEFAULT_CHUNK), start, end, None, qmc)
            nav = {name: raw["series"][name] for name in weights}
            flat = np.zeros(end - start)  # no position held at the end: the P&L is 0 on every path
            if rebalance == "never":
                # the book's value at each month end; one that reaches 0 has lost everything
                # and stays at 0, as in a backtest (a short leg cannot recover it later)
                marked = 1.0 + sum((w * (nav[a] / nav[a][:, :1] - 1.0) for a, w in weights.items()), flat[:, None])
                value[start:end] = np.where((marked > 0.0).all(axis=1), marked[:, -1], 0.0)
            else:
                v = np.ones(end - start)
                for t in range(1, h + 1):
                    step_t = sum((w * (nav[a][:, t] / nav[a][:, t - 1] - 1.0) for a, w in weights.items()), flat)
                    v = np.maximum(v * (1.0 + step_t), 0.0)
                value[start:end] = v
            if scenario is None:
                scenario = np.empty(n, dtype=raw["scenario"].dtype)
            scenario[start:end] = raw["scenario"]
            counts = list(raw["counts"])
            del raw, nav
        _validate.late_onsets(world, h)
    assert scenario is not None  # (n_paths >= 1)
    return scenario, value, counts


def _date(d: Any) -> str:
    return "never" if pd.isna(d) else str(pd.Timestamp(d).date())


class StressResult:
    """Forward P&L distribution of a backtested portfolio under simulated scenarios.

    Attributes
    ----------
    pnl
        P&L per simulated path over the horizon, as a fraction of current equity.
    pnl_value
        The same in units of the backtest's equity (initial capital 1).
    scenario, weights
        Each path's scenario index and probability weight.
    asset_weights
        The portfolio's current weight on each world asset.
    antithetic, qmc
        How the paths were drawn (as in :meth:`World.simulate`): they set the summary's
        standard errors (None in a result pickled by an earlier version: NaN errors).

    Returned by :meth:`BacktestResult.stress`.

    Examples
    --------
    >>> import geoscenario as gs
    >>> px = gs.data.equities_daily()[["ntr_adj_close", "spy_adj_close"]]
    >>> res = gs.backtest(px, {"ntr_adj_close": 1.0, "spy_adj_close": -1.0})
    >>> st = res.stress(gs.World.default(), {"ntr_adj_close": "fertilizer_producers",
    ...                                      "spy_adj_close": "global_equity"}, n_paths=2_000)
    >>> st.pnl.shape, st.horizon_months, st.rebalance
    ((2000,), 24, 'monthly')
    >>> list(st.asset_weights)
    ['fertilizer_producers', 'global_equity']
    >>> bool((st.pnl >= -1).all()), round(float(st.weights.sum()), 12)  # losses stop at the equity
    (True, 1.0)
    """

    pnl: np.ndarray
    pnl_value: np.ndarray
    scenario: np.ndarray
    weights: np.ndarray
    scenario_names: list[str]
    asset_weights: dict[str, float]
    horizon_months: int
    rebalance: str
    # None (unknown) in a result pickled before they were kept: its errors are NaN
    antithetic: bool | None = None
    qmc: bool | None = None

    def __init__(self, **kw: Any) -> None:
        # copies of writable arrays: the caller's own stay writable
        self.__setstate__({k: v.copy() if isinstance(v, np.ndarray) and v.flags.writeable else v
                           for k, v in kw.items()})

    def __getattribute__(self, name: str) -> Any:
        # the dict and list come out as copies: editing one cannot change the repr
        value = object.__getattribute__(self, name)
        return value.copy() if name in ("asset_weights", "scenario_names") else value

    def __setstate__(self, state: dict[str, Any]) -> None:
        # read-only arrays, as a simulation's, also when unpickled or deep-copied
        for key, value in state.items():
            if isinstance(value, np.ndarray) and value.flags.writeable:
                if not value.flags.owndata:
                    value = value.copy()  # not a view that its writable base could change
                value.flags.writeable = False
            self.__dict__[key] = value

    def _blocks(self) -> list[np.ndarray] | None:
        """Every scenario's paths (a mask each), the draws of the standard errors; None
        where there are none: quasi-Monte Carlo paths, and a result pickled before it kept
        how its paths were drawn."""
        if self.qmc or self.qmc is None or self.antithetic is None:
            return None
        return [self.scenario == j for j in range(len(self.scenario_names))]

    def _mean_se(self, x: np.ndarray, k: int, mass: float) -> float:
        """The Monte Carlo standard error of the weighted mean of ``x`` (a value per path)
        over scenario ``k`` (all for −1), as :meth:`Simulation.summary` gives it; NaN for
        quasi-Monte Carlo paths."""
        blocks = self._blocks()
        if blocks is None:
            return math.nan
        return stats._weighted_mean_se(x, self.weights, blocks, k, mass, bool(self.antithetic),
                                       getattr(self, "_views_design", None))

    def _var_cvar_se(self, k: int, mass: float, var: float, alpha: float) -> tuple[float, float]:
        """The Monte Carlo standard errors of scenario ``k``'s (all for −1) VaR ``var`` and
        CVaR at level ``alpha``, as :meth:`Simulation.risk_table` gives them; NaN for
        quasi-Monte Carlo paths (and in a result pickled before it kept how its paths were
        drawn)."""
        blocks = self._blocks()
        if blocks is None:
            return math.nan, math.nan
        return stats._var_cvar_se(-self.pnl, self.weights, blocks, k, mass, bool(self.antithetic),
                                  getattr(self, "_views_design", None), var, alpha)

    def _quantile_ses(self, k: int, mass: float, values: Sequence[float], levels: Sequence[float]) -> list[float]:
        """The Monte Carlo standard errors of scenario ``k``'s (all for −1) P&L quantiles
        ``values`` at ``levels``, as :meth:`Simulation.risk_table` gives them; NaN for
        quasi-Monte Carlo paths (and in a result pickled before it kept how its paths were
        drawn)."""
        blocks = self._blocks()
        if blocks is None:
            return [math.nan] * len(levels)
        return stats._quantile_ses(self.pnl, self.weights, blocks, k, mass, bool(self.antithetic),
                                   getattr(self, "_views_design", None), values, levels)

    def summary(self, alpha: float = 0.95) -> pd.DataFrame:
        """Weighted P&L statistics by scenario and overall (``"all"``), named as in
        :meth:`Simulation.risk_table`: probability, mean_return, mean_return_se (its Monte
        Carlo standard error, as there), std, q05, q05_se, q50, q50_se, q95, q95_se (the P&L's
        quantiles, with their standard errors, as there), var, var_se, cvar, cvar_se (of
        the loss, positive; exact with ties, with their standard errors, as there), p_loss,
        p_loss_se.

        Parameters
        ----------
        alpha
            Confidence level of VaR and CVaR, in [0.5, 1) (0.95: the worst 5%).

        Returns
        -------
        pandas.DataFrame
            One row per scenario of positive weight, then ``"all"`` (index
            ``scenario``); P&L as a fraction of the current equity.
            ``attrs["alpha"]`` is the level.

        Examples
        --------
        >>> import geoscenario as gs
        >>> px = gs.data.equities_daily()[["ntr_adj_close", "spy_adj_close"]]
        >>> res = gs.backtest(px, {"ntr_adj_close": 1.0, "spy_adj_close": -1.0})
        >>> st = res.stress(gs.World.default(), {"ntr_adj_close": "fertilizer_producers",
        ...                                      "spy_adj_close": "global_equity"}, n_paths=2_000)
        >>> s = st.summary()
        >>> s.index.tolist(), s.columns.tolist()
        (['base', 'bull', 'bear', 'all'], ['probability', 'mean_return', 'mean_return_se', 'std', 'q05', 'q05_se', 'q50', 'q50_se', 'q95', 'q95_se', 'var', 'var_se', 'cvar', 'cvar_se', 'p_loss', 'p_loss_se'])
        >>> round(float(s.loc["all", "probability"]), 12), bool((s["var"] <= s["cvar"]).all())
        (1.0, True)
        """
        from .summary import check_alpha, quantile_label

        alpha = check_alpha(alpha)
        rows = {}
        groups = [(k, name) for k, name in enumerate(self.scenario_names)]
        for k, name in [*groups, (-1, "all")]:
            mask = np.ones(len(self.pnl), bool) if k < 0 else self.scenario == k
            x, w = self.pnl[mask], self.weights[mask]
            if w.sum() <= 0:
                continue
            levels = (0.05, 0.5, 0.95)
            q = stats.weighted_quantile(x, w, np.array(levels))
            var, cvar = _core.var_cvar(np.ascontiguousarray(x, dtype=float),
                                       np.ascontiguousarray(w, dtype=float), alpha)
            var_se, cvar_se = self._var_cvar_se(k, float(w.sum()), var, alpha)
            row = {
                "probability": math.fsum(w),  # correctly rounded, as risk_table's
                "mean_return": stats.weighted_mean(x, w),
                "mean_return_se": self._mean_se(self.pnl, k, float(w.sum())),
                "std": stats.weighted_std(x, w),
            }
            for level, value, se in zip(levels, q, self._quantile_ses(k, float(w.sum()), q.tolist(), levels)):
                label = quantile_label(level)
                row[label] = float(value)
                row[f"{label}_se"] = se
            rows[name] = {
                **row,
                "var": 0.0 + var,  # no loss is +0.0
                "var_se": var_se,
                "cvar": 0.0 + cvar,
                "cvar_se": cvar_se,
                "p_loss": float(w[x < 0].sum() / w.sum()),
                "p_loss_se": self._mean_se((self.pnl < 0).astype(float), k, float(w.sum())),
            }
        out = pd.DataFrame.from_dict(rows, orient="index")
        out.index.name = "scenario"
        out.attrs["alpha"] = alpha
        return out

    def to_pandas(self) -> pd.DataFrame:
        """One row per path: ``scenario``, ``weight``, ``pnl``, ``pnl_value``.

        Returns
        -------
        pandas.DataFrame
            Index ``path``; ``scenario`` is categorical over the scenario names.

        Examples
        --------
        >>> import geoscenario as gs
        >>> px = gs.data.equities_daily()[["ntr_adj_close", "spy_adj_close"]]
        >>> res = gs.backtest(px, {"ntr_adj_close": 1.0, "spy_adj_close": -1.0})
        >>> st = res.stress(gs.World.default(), {"ntr_adj_close": "fertilizer_producers",
        ...                                      "spy_adj_close": "global_equity"}, n_paths=2_000)
        >>> df = st.to_pandas()
        >>> df.shape, df.columns.tolist(), df.index.name
        ((2000, 4), ['scenario', 'weight', 'pnl', 'pnl_value'], 'path')
        >>> df["scenario"].cat.categories.tolist()
        ['base', 'bull', 'bear']
        """
        return pd.DataFrame(
            {
                "scenario": pd.Categorical.from_codes(
                    self.scenario, categories=self.scenario_names
                ),
                "weight": self.weights,
                "pnl": self.pnl,
                "pnl_value": self.pnl_value,
            },
            index=pd.RangeIndex(len(self.pnl), name="path"),
        )

    def __repr__(self) -> str:
        s = self.summary().loc["all"]
        legs = ", ".join(f"{a} {w:+.2f}" for a, w in self.asset_weights.items()) or "no position"
        return (
            f"StressResult({len(self.pnl):,} paths, "
            f"{self.horizon_months} months, {self.rebalance}; {legs}): "
            f"mean {s['mean_return']:+.2%}, q05 {s['q05']:+.2%}, VaR95 "
            f"{s['var']:.2%}, CVaR95 {s['cvar']:.2%}, "
            f"P(loss) {s['p_loss']:.0%}"
        )

    def _repr_html_(self) -> str:
        """In a notebook: the position, then :meth:`summary`'s table, by scenario."""
        legs = ", ".join(f"{a} {w:+.2f}" for a, w in self.asset_weights.items()) or "no position"
        head = f"StressResult({len(self.pnl):,} paths, {self.horizon_months} months, {self.rebalance}; {legs})"
        return table_html(head, [("", self.summary())])


# ============================================================================ entry point
def backtest(
    prices: pd.DataFrame,
    weights: Mapping[Any, float] | pd.Series | pd.DataFrame,
    rebalance: str | None = None,
    cost_bps: float | Mapping[Any, float] | pd.Series = 10.0,
    *,
    align: str = "common",
    periods_per_year: float | None = None,
) -> BacktestResult:
    """Backtest target weights on a prices DataFrame (rules and metrics in the Notes below).

    Parameters
    ----------
    prices
        Daily or monthly prices (e.g. adjusted closes), one column per asset,
        sorted ``DatetimeIndex``.
    weights
        ``{column: weight}`` (a dict, or a Series indexed by column) held constant,
        or a DataFrame of target weights over time (rows dated, or indexed by periods
        and then dated at each period's end: Notes; columns a subset of the prices'
        columns).
    rebalance
        ``"daily"``, ``"weekly"``, ``"monthly"``, ``"quarterly"``, ``"annual"``,
        ``"never"`` or ``"on_weights"``; default ``"monthly"`` for constant weights and
        ``"on_weights"`` for a DataFrame.
    cost_bps
        One-way cost in basis points of traded notional (a number, or a dict or Series
        per held column).
    align
        ``"common"`` or ``"cash"``: how leading/trailing NaN and histories of
        different lengths are handled (Notes).
    periods_per_year
        Annualisation; default 252 for daily data (365.25 with weekends in the index,
        260.9 with every weekday over a year or so), 12
        for monthly, etc., from the spacing of the dates (Notes); dates that match no such
        convention (every other trading day) need it.

    Returns
    -------
    BacktestResult

    Raises
    ------
    ConfigError
        Bad prices (non-DatetimeIndex, unsorted, non-positive, NaN inside a
        held series, histories that do not overlap under ``align="common"``),
        unknown columns in ``weights``, bad ``rebalance`` or ``cost_bps``.

    Notes
    -----
    **Rules**

    - **Trading.** Capital 1 is invested at the close of the first date. On a
      rebalance date each holding is reset to ``weight × equity`` (equity before
      costs) and the cost ``cost_bps/1e4 × |traded notional|`` is paid from cash.
      Weights need not sum to 1: the remainder is cash, earning 0; negative
      weights are shorts. Between rebalances holdings drift with prices. Equity
      that reaches zero stays at zero (a first trade whose costs take the whole
      capital is an error).
    - **Rebalance dates.** The first date, then the last available date of each
      calendar period (``"daily"``, ``"weekly"``, ``"monthly"``, ``"quarterly"``,
      ``"annual"``), never the final date of the backtest; ``"never"`` buys and
      holds; ``"on_weights"`` (default for a weights DataFrame) trades on the first
      available date on or after each row of the weights. With a weights DataFrame
      and a calendar frequency the target is the last weights row dated on or
      before the rebalance date. The backtest starts at the first available date on
      or after the first weights row. A row of weights indexed by a ``pandas.Period``
      is dated at the period's end, its last price date (the first after it if it has
      none): a signal computed from a month's data is known at the month's last close,
      and dated at the month's start it would trade on prices yet to come. (Prices
      indexed by periods are dated at the periods' starts, so that monthly prices and
      monthly weights, both by period, trade each month's weights at its price.)
    - **Missing prices.** Only columns with a non-zero weight somewhere are used
      ("held"); the others may hold anything. A NaN between two valid prices of a
      held column is a ConfigError (fill or drop it yourself). Leading and trailing
      NaN follow ``align``:

      - ``"common"`` (default): the backtest runs over the dates on which every
        held column has a price (latest first price to earliest last price), with a
        warning naming the column when that leaves out more than half of the dates;
        histories that do not overlap are a ConfigError naming both columns.
      - ``"cash"``: it runs from the first price of any held column; a column
        not yet priced at a rebalance keeps its weight in cash and enters at the
        first rebalance after its first price; a column whose prices end is sold
        at its last price on the first date without one, when the backtest learns
        that it stopped (paying costs there), and its weight stays in cash.

    **Metrics**

    Returns are the equity's period-on-period changes from the second date on
    (``equity.pct_change()``); ``P`` periods per year: 252 for daily data (365.25 per day
    of spacing when weekends are in the index; 365.25·5/7 = 260.9 when a year or so
    of dates holds every weekday, holidays filled in), 52 weekly, 12 monthly (from the median
    spacing of the dates, or given). Over 90 days or more the dates must number that
    many a year within 10% or 1.5 dates (every other trading day, 126 a year, is no
    daily series), or ``periods_per_year`` must be given.

    - ``total_return`` = E_last / 1 − 1, net of every cost (the first trade's included);
      ``cagr`` = (E_last / 1)^(1/years) − 1 with years = calendar days / 365.25
      from the first date to the last (``inf`` when that exceeds the double range, as
      a gain annualised from minutes can). :func:`metrics` measures both from its
      ``capital`` (default: the curve's first value);
    - ``vol`` = std(r, ddof=1)·sqrt(P); ``sharpe`` = mean(r)/std(r, ddof=1)·sqrt(P)
      (zero risk-free rate); ``sortino`` = mean(r)/sqrt(mean(min(r, 0)²))·sqrt(P);
    - ``max_drawdown`` = max_t (1 − E_t / max(1, max_{s≤t} E_s)) (a positive fraction:
      the high-water mark starts at the capital, so that the first trade's costs count)
      with ``peak_date`` (first date of that peak; the first date for the capital),
      ``trough_date`` and ``recovery_date`` (first date back at the peak, NaT if never);
      ``calmar`` = cagr / max_drawdown;
    - ``var_95`` = −q with q the 5% ``inverted_cdf`` quantile of r (the worst of 20
      returns; the VaR of :meth:`StressResult.summary` and the risk tables is the 95%
      quantile of the losses, the second-worst of 20), ``cvar_95`` = the mean loss over
      the worst 5% of periods, a share of the period at the quantile included (losses
      positive; the tail mean those tables compute, never below ``var_95``);
    - ``turnover`` = traded notional per year as a fraction of equity, buys and sells
      both counted (Σ|Δ holdings| / equity before costs on each rebalance date, the
      initial trade included; a full switch from one asset to another is 2, and half
      of it is the one-way turnover some reports quote),
      ``costs`` = total costs as a fraction of the initial capital;
    - ``ruin_date``: the first date the equity is 0 (NaT if never). The returns r end
      there (its −100% is the last), so that the statistics do not count the dead
      periods after it as 0% returns; ``backtest`` warns.

    A ratio whose denominator is zero is NaN: ``sharpe`` and ``sortino`` of a flat
    curve (no volatility or no losing period), ``calmar`` without a drawdown, and
    ``vol``/``sharpe`` with a single return (std needs two).

    Examples
    --------
    >>> import geoscenario as gs
    >>> px = gs.data.equities_daily("2018-01-01", "2024-02-29")
    >>> res = gs.backtest(px, {"ntr_adj_close": 0.5, "mos_adj_close": 0.5, "spy_adj_close": -1.2},
    ...                   rebalance="monthly", cost_bps=10)
    >>> float(res.equity.iloc[0]) == 1 - 10e-4 * 2.2
    True
    """
    if not isinstance(prices, pd.DataFrame):
        raise invalid("prices", f"must be a pandas DataFrame, got {type(prices).__name__}")
    if not prices.columns.is_unique:
        raise invalid("prices", "column names must be unique")
    columns = list(prices.columns)
    weights, cost_bps = _by_column("weights", weights), _by_column("cost_bps", cost_bps)
    targets = _targets(weights, columns)
    if rebalance is None:
        rebalance = "on_weights" if isinstance(targets, pd.DataFrame) else "monthly"
    if not isinstance(rebalance, str) or rebalance not in _REBALANCE:
        alias = _ALIASES.get(rebalance.split("-")[0]) if isinstance(rebalance, str) else None
        hint = f" (for the pandas frequency {rebalance!r}, give {alias!r})" if alias else ""
        raise invalid("rebalance", f"must be one of {', '.join(_REBALANCE)}, got {rebalance!r}{hint}")
    if rebalance == "on_weights" and not isinstance(targets, pd.DataFrame):
        raise invalid("rebalance", "'on_weights' needs weights as a DataFrame over time")
    if not isinstance(align, str) or align not in ("common", "cash"):
        raise invalid("align", f"must be 'common' or 'cash', got {align!r}")
    if isinstance(targets, pd.DataFrame):
        held = [c for c in columns if c in targets.columns and (targets[c] != 0).any()]
    else:
        held = [c for c in columns if targets.get(c, 0.0) != 0.0]
    if not held:
        raise invalid("weights", "every weight is zero: nothing to backtest")
    p = _numeric_frame(prices[held], "prices", allow_series=False)  # the others may hold anything
    vals = p.to_numpy()
    if (vals <= 0).any():  # NaN compares False
        r, c = np.argwhere(vals <= 0)[0]
        raise invalid(
            f"prices.{held[c]}", f"is {vals[r, c]} on {p.index[r].date()}; prices must be > 0"
        )
    costs = _costs(cost_bps, held, columns)
    start, end = _window(vals, p.index, held, align)
    if isinstance(targets, pd.DataFrame):
        if isinstance(targets.index, pd.PeriodIndex):
            targets = _at_period_ends(targets, p.index)
        _datetime_index(targets, "weights")
        if str(targets.index.tz) != str(p.index.tz):
            raise invalid(
                "weights",
                f"dates are in time zone {targets.index.tz} and the prices' in {p.index.tz}: use one",
            )
        first = int(p.index.searchsorted(targets.index[0], side="left"))
        if first > end:
            raise invalid(
                "weights",
                f"first row {targets.index[0].date()} is after the last usable price date",
            )
        start = max(start, first)
    if end - start + 1 < 2:
        raise invalid(
            "prices", f"only {end - start + 1} usable date(s); a backtest needs at least 2"
        )
    window = _validate.owned(vals[start : end + 1])
    dates = pd.DatetimeIndex(p.index[start : end + 1])
    rows, mat = _schedule(dates, rebalance, targets, held)
    ppy = _periods_per_year(dates, "prices", periods_per_year)
    raw = _core.backtest_run(window, rows, mat, costs)
    eq = raw["equity"]
    if eq[0] <= 0:
        raise invalid(
            "cost_bps",
            f"the first trade's costs ({raw['costs'][0]:.6g}) use up the whole capital of 1: "
            "nothing is left to backtest",
        )
    if not np.isfinite(eq).all():
        i = int(np.argmax(~np.isfinite(eq)))
        raise invalid("prices", f"make the equity leave the double range on {dates[i].date()}: rescale them")
    equity = pd.Series(eq, index=dates, name="equity")
    positions = pd.DataFrame(raw["positions"], index=dates, columns=held)
    with np.errstate(invalid="ignore", divide="ignore"):
        w_now = np.where(eq[:, None] > 0, raw["positions"] / eq[:, None], 0.0)
    wts = pd.DataFrame(w_now, index=dates, columns=held)
    m = metrics(equity, ppy, capital=1.0)
    if not pd.isna(m["ruin_date"]):
        warn(f"the equity reached 0 on {m['ruin_date'].date()}: everything invested was lost, and the "
             "return statistics (vol, Sharpe, VaR, ...) use the returns up to that date", RuntimeWarning)
    years = float(m["years"])
    turnover = pd.Series(raw["turnover"], index=dates, name="turnover")
    cost_series = pd.Series(raw["costs"], index=dates, name="cost")
    m["turnover"] = float(turnover.sum() / years) if years > 0 else float("nan")
    m["costs"] = float(cost_series.sum())
    cost_desc = (
        f"{costs[0]:g} bps"
        if not isinstance(cost_bps, Mapping)
        else "costs " + ", ".join(f"{c} {v:g}" for c, v in zip(held, costs)) + " bps"
    )
    return BacktestResult(
        equity=equity,
        returns=pd.Series(raw["returns"][1:], index=dates[1:], name="return"),
        turnover=turnover,
        costs=cost_series,
        positions=positions,
        weights=wts,
        cash=pd.Series(raw["cash"], index=dates, name="cash"),
        rebalance_dates=dates[rows],
        rebalance=rebalance,
        cost_bps=cost_bps,
        cost_desc=cost_desc,
        periods_per_year=ppy,
        metrics=m,
        align=align,
    )
