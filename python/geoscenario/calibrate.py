"""Calibration from history: pandas in, pandas out, the estimation in the Rust core.

- :func:`log_ou`: the log-OU model of MODEL.md §3 (x = ln S,
  x_{t+1} = x_t e^{−κΔ} + ln θ (1 − e^{−κΔ}) + σ sqrt((1 − e^{−2κΔ})/(2κ)) Z)
  by exact maximum likelihood, optionally with Merton jumps;
- :func:`factor_betas`: OLS betas of asset returns on factor returns, with
  classical and Newey–West standard errors;
- :func:`calibrate_world` (also :meth:`World.calibrated`): a world whose potash
  and asset parameters come from history, with a table of what changed.

Examples
--------
>>> import geoscenario as gs
>>> fit = gs.calibrate.log_ou(gs.data.potash_monthly("2010-01", "2025-01"))
>>> round(float(fit.params["kappa"]), 2), round(float(fit.params["sigma"]), 2)
(0.39, 0.34)
"""

from __future__ import annotations

import copy
import math
import re
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import _bootstrap, _core, _progress, _two_step, _validate
from ._format import TableRepr, percent, table_html
from .errors import ConfigError, NumericalError, invalid, warn

if TYPE_CHECKING:
    from .world import World

__all__ = [
    "PARAMS",
    "BootstrapResult",
    "CalibratedWorld",
    "CalibrationResult",
    "calibrate_world",
    "factor_betas",
    "gbm",
    "log_ou",
    "logit_ou",
]

#: Parameters of the log-OU model in core order; ``theta`` is a level.
PARAMS: tuple[str, ...] = ("kappa", "theta", "sigma", "lambda", "mu_j", "sigma_j")
#: Parameters of a GBM factor (MODEL.md §3) and of its jumps (0 in a diffusion fit).
GBM_PARAMS: tuple[str, ...] = ("g", "sigma", "lambda", "mu_j", "sigma_j")
MIN_OBS = 24  # the core's calibrate::MIN_OBS
#: Parameters that are positive in every model (a bootstrap interval stops at 0).
POSITIVE: tuple[str, ...] = ("kappa", "theta", "sigma", "lambda", "sigma_j")
#: Kinds of bootstrap interval (:meth:`CalibrationResult.bootstrap`).
INTERVALS: tuple[str, ...] = ("studentized", "basic", "percentile")
#: Level of the likelihood-ratio test (χ²₃) below which ``calibrate_world`` keeps a jump
#: fit it was not told to keep.
JUMP_TEST_LEVEL = 0.05
#: Share of unchanged prices from which a fit's notes blame sticky quotes.
STICKY_SHARE = 0.1


# ============================================================================ input checks
def _period_starts(obj: Any) -> Any:
    """``obj`` (a Series or DataFrame) with a PeriodIndex read as the periods' first
    days, as monthly data often comes; otherwise ``obj`` itself."""
    if isinstance(obj.index, pd.PeriodIndex):
        return obj.set_axis(obj.index.to_timestamp(), axis=0)
    return obj


def _datetime_index(obj: Any, arg: str) -> pd.DatetimeIndex:
    idx = obj.index
    if not isinstance(idx, pd.DatetimeIndex):
        raise invalid(arg, f"must have a DatetimeIndex (or a PeriodIndex), got {type(idx).__name__}")
    if idx.hasnans:
        raise invalid(arg, "index has missing dates (NaT)")
    if not idx.is_unique or not idx.is_monotonic_increasing:
        raise invalid(arg, "index must be sorted in increasing order with unique dates")
    return idx


def _numeric_frame(obj: Any, arg: str, *, allow_series: bool = True) -> pd.DataFrame:
    """A float64 DataFrame from a Series or DataFrame with a valid DatetimeIndex (or a
    PeriodIndex, read as the periods' first days)."""
    if allow_series and isinstance(obj, pd.Series):
        frame = obj.to_frame(name=obj.name if obj.name is not None else arg)
    elif isinstance(obj, pd.DataFrame):
        frame = obj
    else:
        kinds = "a pandas Series or DataFrame" if allow_series else "a pandas DataFrame"
        raise invalid(arg, f"must be {kinds}, got {type(obj).__name__}")
    frame = _period_starts(frame)
    _datetime_index(frame, arg)
    if frame.shape[1] == 0:
        raise invalid(arg, "has no columns")
    if not frame.columns.is_unique:
        raise invalid(arg, "column names must be unique")
    for c, dtype in frame.dtypes.items():
        t = pd.api.types
        if not t.is_numeric_dtype(dtype) or t.is_bool_dtype(dtype) or t.is_complex_dtype(dtype):
            raise invalid(f"{arg}.{c}", f"must be real numbers, got dtype {dtype}")
    out = frame if (frame.dtypes == np.float64).all() else frame.astype("float64")
    vals = out.to_numpy()
    if np.isinf(vals).any():
        r, c = np.argwhere(np.isinf(vals))[0]
        # a Series is named as a missing value in it is (by the argument alone)
        where = arg if isinstance(obj, pd.Series) else f"{arg}.{out.columns[c]}"
        raise invalid(where, f"is infinite on {out.index[r].date()}")
    return out


def _valid_span(vals: np.ndarray, index: pd.DatetimeIndex, names: list[Any], arg: str, *,
                columns: bool = True) -> slice:
    """Rows from the first on which every column is valid to the last such row;
    a NaN inside that span is a ConfigError naming the date, and the column (``arg.column``)
    when ``columns`` (a frame's, not a Series')."""
    ok = ~np.isnan(vals)
    rows = ok.all(axis=1)
    if not rows.any():
        raise invalid(arg, "has no date on which every column has a value" if columns else "has no value")
    first, last = int(np.argmax(rows)), len(rows) - 1 - int(np.argmax(rows[::-1]))
    inner = ok[first : last + 1]
    if not inner.all():
        r, c = np.argwhere(~inner)[0]
        raise invalid(
            f"{arg}.{names[c]}" if columns else arg,
            f"is missing on {index[first + r].date()} between valid values (NaN is dropped only "
            "at the start and the end of a series; fill or drop it explicitly)",
        )
    return slice(first, last + 1)


def _step_years(idx: pd.DatetimeIndex, arg: str) -> float:
    """Δ in years of a regular index: months 1/12, quarters 1/4, years 1, weeks
    7/365.25, calendar days 1/365.25, business days 1/252, or 7/(5·365.25) over a year
    or so of every weekday (times the multiple; see :func:`_weekday_calendar`); or of a
    market's trading days (:func:`_trading_days`), 1/252; or of monthly data on trading days
    (:func:`_trading_months`), 1/12."""
    freq = idx.freq
    if freq is None and len(idx) >= 3:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            inferred = pd.infer_freq(idx)
        freq = pd.tseries.frequencies.to_offset(inferred) if inferred is not None else None
    if freq is None:
        if _trading_days(idx, arg):
            return 1.0 / 252.0
        if _trading_months(idx):
            return 1.0 / 12.0
        raise invalid(
            arg,
            "index is not regular (pandas cannot infer its frequency) nor a market's trading days or "
            "months; "
            "resample it to a regular frequency such as month starts ('MS'), or pass dt= in years "
            "per step",
        )
    o = pd.offsets
    per_year: float | None = None
    if isinstance(freq, (o.MonthBegin, o.MonthEnd, o.BusinessMonthBegin, o.BusinessMonthEnd)):
        per_year = 12.0
    elif isinstance(freq, (o.QuarterBegin, o.QuarterEnd, o.BQuarterBegin, o.BQuarterEnd)):
        per_year = 4.0
    elif isinstance(freq, (o.YearBegin, o.YearEnd, o.BYearBegin, o.BYearEnd)):
        per_year = 1.0
    elif isinstance(freq, o.Week):
        per_year = 365.25 / 7.0
    elif isinstance(freq, o.BusinessDay):
        per_year = WEEKDAYS_PER_YEAR if _weekday_calendar(idx) else 252.0
    elif isinstance(freq, o.Day):
        per_year = 365.25
    n = int(getattr(freq, "n", 1))
    if per_year is None or n <= 0:
        raise invalid(
            arg, f"frequency {freq.freqstr!r} is not supported; pass dt= in years per step"
        )
    return n / per_year


#: Longest gap, in calendar days, between the dates of a market's trading days: a week's
#: holiday between weekends (Tokyo's Golden Week of 2019, from 26 April to 7 May; Shanghai's
#: Lunar New Year of 2020, from 23 January to 3 February), with a day to spare.
TRADING_GAP_DAYS = 12

#: Least share of the weekdays between its first and last date that a market's trading
#: days hold, however short the span: 252 of 261 a year in New York; around a week's
#: holiday, 24 of 30 weekdays (every other trading day holds half, Mondays, Wednesdays
#: and Fridays 60%).
TRADING_SHARE = 0.75


def _trading_days(idx: pd.DatetimeIndex, arg: str) -> bool:
    """Whether the dates are a market's trading days: 252 a year by their spacing (as
    ``gs.backtest`` counts them, :func:`_periods_per_year`), at least ``TRADING_SHARE`` of
    the weekdays they span however short the span (every other trading day, or Mondays,
    Wednesdays and Fridays, are not), and no gap longer than ``TRADING_GAP_DAYS`` (a
    missing week or month is not a step)."""
    try:
        per_year = _periods_per_year(idx, arg)
    except ConfigError:
        return False
    days = _calendar_days(idx).unique()
    if per_year != 252.0 or len(days) < 2 or (days[1:] - days[:-1]).max() > pd.Timedelta(days=TRADING_GAP_DAYS):
        return False
    return len(days) >= TRADING_SHARE * _weekdays(days)


#: Least and most calendar days between two dates of monthly data taken on trading days (a
#: month's last or first trading day moves by up to three days around a weekend and a holiday).
TRADING_MONTH_DAYS = (23, 38)


def _trading_months(idx: pd.DatetimeIndex) -> bool:
    """Whether the dates are monthly data on a market's trading days, which pandas cannot
    name a frequency for where a holiday moves one (the last trading day of each month):
    one date in each of consecutive calendar months, each ``TRADING_MONTH_DAYS`` from the
    one before (not the first of one month and the last of the next)."""
    days = _calendar_days(idx)
    if len(days) < 3:
        return False
    months = days.year * 12 + days.month
    gaps = (days[1:] - days[:-1]).days
    lo, hi = TRADING_MONTH_DAYS
    return bool((np.diff(months) == 1).all() and (gaps >= lo).all() and (gaps <= hi).all())


#: Weekdays a year: the periods of a daily index that holds every weekday.
WEEKDAYS_PER_YEAR = 365.25 * 5 / 7


#: Days a run of every weekday must span to count as a weekday calendar (a calendar
#: year of them spans 360 or more): markets close for a holiday more often (New York
#: within 3 months, London within 4, Frankfurt and Paris within 8; only rare years
#: leave one of them a year without a weekday holiday).
WEEKDAY_CALENDAR_DAYS = 350


def _weekday_calendar(idx: pd.DatetimeIndex) -> bool:
    """Whether the dates are every weekday from Monday to Friday, and only those, over
    a year or so (``WEEKDAY_CALENDAR_DAYS``; as ``asfreq("B")`` or ``bdate_range``
    make): holidays filled in, so 260.9 of them a year, not a market's 252 trading days.
    Over a shorter span a trading calendar can miss no weekday (no holiday in it), so
    there it counts as one."""
    days = _calendar_days(idx).unique()
    if len(days) < 2 or (days[-1] - days[0]).days < WEEKDAY_CALENDAR_DAYS:
        return False
    return bool(len(days) == _weekdays(days) and not (days.day_of_week >= 5).any())


def _calendar_days(idx: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The dates of ``idx`` as calendar days, in their own time zone (midnight, tz-naive)."""
    return pd.DatetimeIndex(idx).tz_localize(None).normalize()


def _weekdays(days: pd.DatetimeIndex) -> int:
    """Weekdays from the first of the sorted dates ``days`` to the last, both included."""
    first, last = days[0].date(), days[-1].date()
    return int(np.busday_count(first, last)) + int(np.is_busday(last))


#: Largest periods_per_year: one-second bars around the clock in a leap year.
MAX_PERIODS_PER_YEAR = 366 * 86_400


def _periods_per_year(idx: pd.DatetimeIndex, arg: str, given: Any = None) -> float:
    """Periods per year of returns from the median spacing of the dates: ½–4 days →
    252 (business days; 365.25·5/7 over a year or so of every weekday, holidays
    included: :func:`_weekday_calendar`), or 365.25 / (the spacing in days) when a fifth of the dates or
    more fall on weekends (calendar days, as :func:`log_ou` and :func:`gbm` count a
    ``'D'`` or ``'2D'`` index), 5–9 → 52,
    27–33 → 12, 85–95 → 4, 350–380 → 1. Intraday spacing has no single convention
    (trading hours differ by market), so it needs ``given``.

    Over 90 days or more, the dates must also number that many a year, within
    ``DENSITY_TOLERANCE`` or a date and a half: every other trading day (126 a year) is no daily series,
    and a Sunday-to-Thursday week (261 a year, a fifth of its dates on a Sunday) is
    one of business days. Dates that match no convention need ``given``."""
    if given is not None:
        if not _validate.is_real(given):
            raise invalid("periods_per_year", f"must be a number, {_validate.got(given)}")
        if not 0 < _validate.to_float(given) <= MAX_PERIODS_PER_YEAR:  # NaN fails
            raise invalid("periods_per_year", f"must be in (0, {MAX_PERIODS_PER_YEAR:,}], got {given}")
        return _validate.to_float(given)
    if len(idx) < 2:
        raise invalid(arg, "needs at least two dates")
    # ticks of the index's own unit since the epoch, whatever its time zone (dates
    # before 1677 or after 2262 have no nanosecond timestamp)
    dates = pd.DatetimeIndex(idx)
    ticks_per_day = 86_400 * {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[dates.unit]
    ticks = dates.asi8
    days = float(np.median(np.diff(ticks))) / ticks_per_day
    if days <= 0.5:
        raise invalid(
            arg,
            f"median spacing of {days * 24:g} hours is intraday, which has no single annualisation "
            "(trading hours differ by market); pass periods_per_year=",
        )
    candidates = [p for lo, hi, p in ((0.5, 4, 252.0), (4, 9, 52.0), (27, 33, 12.0), (85, 95, 4.0), (350, 380, 1.0))
                  if lo < days <= hi]
    if 0.5 < days <= 4 and float(np.mean(dates.day_of_week >= 5)) >= 0.2:
        candidates.insert(0, 365.25 / days)  # calendar days (2/7 of them on weekends), one or a few apart
    if not candidates:
        raise invalid(
            arg,
            f"median spacing of {days:g} days is not daily, weekly, monthly, quarterly or annual; "
            "pass periods_per_year=",
        )
    span = float(ticks[-1] - ticks[0]) / ticks_per_day
    if candidates[0] == 252.0 and _weekday_calendar(dates):
        return WEEKDAYS_PER_YEAR
    if span < 90:
        return candidates[0]  # too short to count the dates a year
    per_year = (len(dates) - 1) / (span / 365.25)
    for p in candidates:
        # within 10%, or a date and a half of the count (a short series missing one date)
        if abs(per_year - p) * span / 365.25 <= max(DENSITY_TOLERANCE * p * span / 365.25, 1.5):
            return p
    raise invalid(
        arg,
        f"dates a median {days:g} days apart suggest {candidates[0]:g} periods a year, but there are "
        f"{per_year:.1f} a year ({len(dates):,} dates over {span / 365.25:.2f} years); pass periods_per_year=",
    )


#: How many times beyond the range of a level series the factor's initial level may be
#: before :func:`calibrate_world` warns of a series in another unit or scale.
UNIT_MISMATCH = 2.0


#: How far the dates a year may be from the convention their spacing suggests.
DENSITY_TOLERANCE = 0.1


def _levels(series: Any, arg: str) -> pd.Series:
    """A validated positive level series; leading and trailing NaN dropped."""
    if not isinstance(series, pd.Series):
        raise invalid(arg, f"must be a pandas Series of levels, got {type(series).__name__}")
    frame = _numeric_frame(series, arg)
    span = _valid_span(frame.to_numpy(), frame.index, list(frame.columns), arg, columns=False)
    s = frame.iloc[span, 0]
    if len(s) < MIN_OBS:
        raise invalid(arg, f"needs at least {MIN_OBS} observations, got {len(s)}")
    bad = np.flatnonzero(s.to_numpy() <= 0)
    if bad.size:
        raise invalid(
            arg,
            f"is {s.iloc[bad[0]]} on {s.index[bad[0]].date()}; the "
            "model needs positive levels",
        )
    return s


def _series_step(s: pd.Series, dt: Any) -> float:
    """The step in years of a level series: ``dt`` if given, else from its index."""
    step = _step_years(s.index, "series") if dt is None else _real("dt", dt)
    if not 1.0 / MAX_PERIODS_PER_YEAR <= step <= 10:  # a second to ten years (1e-300 gave κ ≈ 1e299)
        raise invalid("dt", f"must be a step in years in [1/{MAX_PERIODS_PER_YEAR:,} (a second), 10], got {step}")
    return step


def _real(name: str, value: Any) -> float:
    if not _validate.is_real(value):
        raise invalid(name, f"must be a number, {_validate.got(value)}")
    v = _validate.to_float(value)
    if not math.isfinite(v):
        raise invalid(name, f"must be finite, got {v}")
    return v


def _jumps_pass(fit: CalibrationResult) -> bool:
    """Whether a jump fit beats its diffusion: a maximum with standard errors (a positive
    definite observed information), the higher likelihood and AIC, and a likelihood-ratio
    test at :data:`JUMP_TEST_LEVEL` (χ² with the extra parameters, for nested fits)."""
    assert fit.diffusion is not None
    if not fit.jumps_preferred or not fit.extra.get("hessian_ok", True):
        return False
    k = fit.n_params - fit.diffusion.n_params
    return not _nested(fit) or k not in _CHI2 or _chi2_sf(fit.likelihood_ratio, k) < JUMP_TEST_LEVEL


#: Subscripts of the χ² degrees of freedom :func:`_chi2_sf` has closed forms for.
_CHI2 = {1: "₁", 2: "₂", 3: "₃"}


def _chi2_sf(x: float, k: int) -> float:
    """P(χ²_k > x) for k = 1, 2, 3: erfc(√(x/2)), e^{−x/2}, and
    erfc(√(x/2)) + √(2x/π)·e^{−x/2}."""
    if x <= 0:
        return 1.0
    if k == 1:
        return math.erfc(math.sqrt(x / 2.0))
    if k == 2:
        return math.exp(-x / 2.0)
    return math.erfc(math.sqrt(x / 2.0)) + math.sqrt(2.0 * x / math.pi) * math.exp(-x / 2.0)


def _nested(fit: CalibrationResult) -> bool:
    """Whether a jump fit's diffusion is the jump model at λ = 0: not when κ, θ, σ or λ
    was held at a value (the diffusion estimates them), but still when μ_J or σ_J was
    (they vanish with λ)."""
    if "fixed" not in fit.table.columns:
        return True
    held = fit.table.index[fit.table["fixed"] == "fixed"]
    return not any(p in held for p in ("kappa", "theta", "sigma", "lambda"))


# ============================================================================ results
class CalibrationResult(TableRepr):
    """Estimates, standard errors and fit statistics of one calibration.

    Attributes
    ----------
    model
        ``"log_ou"``, ``"log_ou_jumps"``, ``"logit_ou"``, ``"logit_ou_jumps"``, ``"gbm"``,
        ``"gbm_jumps"`` or ``"factor_betas"``.
    table
        Estimates: index ``parameter`` (log-OU) or ``(asset, parameter)``
        (betas); columns ``estimate``, ``std_err`` and, where relevant,
        ``std_err_nw`` (Newey–West) and ``fixed``. A new copy on each read (as
        ``fit_stats``): editing it changes neither :attr:`params` nor a bootstrap.
    loglik
        Log-likelihood of the log levels given the first one (log-OU and GBM fits; of
        the logits for a logit-OU fit).
    n_obs
        Transitions (log-OU) or observations (betas) used.
    dt
        Step in years (log-OU fits).
    periods_per_year
        Periods per year of the data (betas; 1/dt for log-OU).
    diffusion
        For a jump fit, the pure-diffusion fit of the same data.
    fit_stats
        Betas only: per asset ``r2``, ``resid_std`` (per period), ``vol``
        (annualised residual volatility) and ``n_obs``.
    notes
        Warnings and remarks, also shown by ``repr``.

    Examples
    --------
    >>> import geoscenario as gs
    >>> fit = gs.calibrate.log_ou(gs.data.potash_monthly("2010-01", "2025-01"))
    >>> fit.to_pandas().columns.tolist()
    ['estimate', 'std_err']
    """

    def __init__(
        self,
        model: str,
        table: pd.DataFrame,
        *,
        name: str,
        method: str,
        n_obs: int,
        start: pd.Timestamp,
        end: pd.Timestamp,
        dt: float | None = None,
        periods_per_year: float | None = None,
        loglik: float | None = None,
        n_params: int = 0,
        diffusion: CalibrationResult | None = None,
        fit_stats: pd.DataFrame | None = None,
        notes: list[str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.table = table
        self.name = name
        self.method = method
        self.n_obs = n_obs
        self.start = start
        self.end = end
        self.dt = dt
        self.periods_per_year = periods_per_year
        self.loglik = loglik
        self.n_params = n_params
        self.diffusion = diffusion
        self.fit_stats = fit_stats
        self.notes = list(notes or [])
        self.extra = dict(extra or {})
        # (fitter, data, keyword arguments) of a refit: the levels of a fit that bootstrap()
        # simulates, the (asset, factor) returns of a beta fit whose rows it resamples
        self._refit: tuple[str, Any, dict[str, Any]] | None = None

    def __getattribute__(self, name: str) -> Any:
        # the tables come out as copies (shallow under copy-on-write): editing one in place
        # (to show θ in other units, say) cannot change params, the repr or a bootstrap's refits
        value = object.__getattribute__(self, name)
        return _validate.private_copy(value) if name in ("table", "fit_stats") else value

    @property
    def params(self) -> pd.Series:
        """The estimates (``table["estimate"]``).

        Returns
        -------
        pandas.Series
            Indexed by parameter (log-OU) or by (asset, parameter) (betas).

        Examples
        --------
        >>> import geoscenario as gs
        >>> fit = gs.calibrate.log_ou(gs.data.potash_monthly("2010-01", "2025-01"))
        >>> fit.params.index.tolist()
        ['kappa', 'theta', 'sigma']
        >>> round(float(fit.params["kappa"]), 2), round(float(fit.params["sigma"]), 2)
        (0.39, 0.34)
        """
        return self.table["estimate"]

    @property
    def std_errors(self) -> pd.Series:
        """The standard errors (Newey–West where computed, else classical).

        Returns
        -------
        pandas.Series
            Aligned with :attr:`params`: ``table["std_err_nw"]`` where the fit has that
            column and a value in it (a beta fit's ``vol`` has none), else ``table["std_err"]``.

        Examples
        --------
        >>> import geoscenario as gs
        >>> fit = gs.calibrate.log_ou(gs.data.potash_monthly("2010-01", "2025-01"))
        >>> fit.std_errors.index.equals(fit.params.index)
        True
        >>> bool((fit.std_errors > 0).all())
        True
        >>> fit.std_errors.equals(fit.table["std_err"])  # no Newey–West column in a log-OU fit
        True
        """
        if "std_err_nw" in self.table:
            return self.table["std_err_nw"].fillna(self.table["std_err"])
        return self.table["std_err"]

    @property
    def aic(self) -> float:
        """2k − 2ℓ with k the number of estimated parameters (log-OU fits).

        Returns
        -------
        float
            Akaike's information criterion (lower is better); NaN without a likelihood
            (beta fits).

        Examples
        --------
        >>> import geoscenario as gs
        >>> fit = gs.calibrate.log_ou(gs.data.potash_monthly("2010-01", "2025-01"))
        >>> fit.n_params
        3
        >>> round(fit.aic, 9) == round(2 * fit.n_params - 2 * fit.loglik, 9)
        True
        """
        return float("nan") if self.loglik is None else 2.0 * self.n_params - 2.0 * self.loglik

    @property
    def bic(self) -> float:
        """k ln n − 2ℓ (log-OU fits).

        Returns
        -------
        float
            The Bayesian information criterion, n = ``n_obs`` (lower is better); NaN
            without a likelihood (beta fits).

        Examples
        --------
        >>> import math
        >>> import geoscenario as gs
        >>> fit = gs.calibrate.log_ou(gs.data.potash_monthly("2010-01", "2025-01"))
        >>> fit.n_obs
        180
        >>> round(fit.bic, 9) == round(fit.n_params * math.log(fit.n_obs) - 2 * fit.loglik, 9)
        True
        >>> bool(fit.bic > fit.aic)  # ln n > 2 penalises each parameter more
        True
        """
        if self.loglik is None:
            return float("nan")
        return self.n_params * math.log(self.n_obs) - 2.0 * self.loglik

    @property
    def likelihood_ratio(self) -> float:
        """2(ℓ_jumps − ℓ_diffusion) for a jump fit, else NaN.

        Returns
        -------
        float
            The likelihood-ratio statistic of the jump fit against its ``diffusion``.

        Examples
        --------
        >>> import geoscenario as gs
        >>> potash = gs.data.potash_monthly("2000-01", "2025-01")
        >>> fit = gs.calibrate.log_ou(potash, jumps=True, mean_reversion="ar1")
        >>> bool(fit.likelihood_ratio > 0)
        True
        >>> round(fit.likelihood_ratio, 9) == round(2 * (fit.loglik - fit.diffusion.loglik), 9)
        True
        >>> import math
        >>> math.isnan(fit.diffusion.likelihood_ratio)  # a diffusion fit has nothing to compare
        True
        """
        if self.diffusion is None or self.loglik is None or self.diffusion.loglik is None:
            return float("nan")
        return 2.0 * (self.loglik - self.diffusion.loglik)

    @property
    def jumps_preferred(self) -> bool | None:
        """For a jump fit: does it have the higher likelihood (and lower AIC) than the diffusion?

        Returns
        -------
        bool or None
            None for fits without jumps.

        Examples
        --------
        >>> import geoscenario as gs
        >>> potash = gs.data.potash_monthly("2000-01", "2025-01")
        >>> fit = gs.calibrate.log_ou(potash, jumps=True, mean_reversion="ar1")
        >>> fit.jumps_preferred
        True
        >>> bool(fit.aic < fit.diffusion.aic)
        True
        >>> print(fit.diffusion.jumps_preferred)
        None
        """
        if self.diffusion is None or self.loglik is None or self.diffusion.loglik is None:
            return None
        return bool(self.loglik > self.diffusion.loglik and self.aic < self.diffusion.aic)

    def bootstrap(
        self,
        n_boot: int = 500,
        *,
        seed: int = 0,
        level: float = 0.95,
        interval: str = "studentized",
        block: int | None = None,
        progress: bool | str = "auto",
    ) -> BootstrapResult:
        """Bootstrap confidence intervals, which do not lean on the asymptotic
        normality of the estimates: parametric for a level fit, by blocks of rows for betas.

        Simulates ``n_boot`` series from the fitted model (its exact transition, on the
        data's dates, from the first observed level: see ``geoscenario._bootstrap``),
        refits each with this fit's options (jumps, ``mean_reversion``, ``fixed``,
        ``dt``), and takes each parameter's interval from the refits' spread around
        the estimate. The ±1.96 SE intervals of ``table`` undercover in the samples
        calibration meets: over 200 simulated 15-year monthly series with κ = 0.4,
        those of κ covered 89% and of θ 76%, against 91% and 83% for the studentized
        bootstrap (the table in :class:`BootstrapResult`). With ``mean_reversion="ar1"``
        each refit redoes the first stage too (the fit's standard errors carry its
        error to first order, by Murphy and Topel's correction).

        A :func:`factor_betas` fit has no model of its returns to simulate: each
        replicate resamples its dates in circular blocks of ``block`` consecutive dates
        (Politis & Romano 1992), each date's asset and factor returns together, so that
        the serial dependence within a block survives, and refits with the fit's
        options (Newey–West lags, periods per year).

        Parameters
        ----------
        n_boot
            Number of replicates, simulated or resampled series (10 to 1,000,000). A diffusion refit takes about
            3 ms, a jump refit 0.04–0.07 s; jump refits run on all the core's worker threads at once (a
            progress bar shows after a second).
        seed
            Any integer in [0, 2**64): same seed, same intervals.
        level
            Confidence level of the two-sided intervals, in (0, 1).
        interval
            ``"studentized"`` (bootstrap-t: the quantiles of (θ* − θ̂)/se* scale the
            fit's own standard error), ``"basic"`` (2θ̂ − the refits' quantiles, which
            corrects the estimate's bias) or ``"percentile"`` (the refits' quantiles).
            Studentized intervals need standard errors: replicates whose refit has NaN
            errors are left out of them, and a parameter whose fit has a NaN error gets
            the basic interval (``table["interval"]`` says which).
        block
            A beta fit's block length in dates, 1 to n/2; default n^{1/3} rounded (5
            for 120 months). Longer blocks keep more of a strong persistence, at more
            noise; a block of 1 is the bootstrap of independent dates. Only for a beta
            fit. Fit the betas with ``newey_west=True``: a fit without it studentizes
            with classical errors, which ignore the serial dependence (84.5% coverage
            instead of 91% in the persistent case of :class:`BootstrapResult`).
        progress
            ``"auto"`` (a bar for runs longer than a second), ``True`` or ``False``.

        Returns
        -------
        BootstrapResult
            The intervals (``table``), the refits' estimates (``draws``) and how
            many replicates could not be refitted.

        Raises
        ------
        ConfigError
            A bad argument (``block`` for a fit that is not of betas, say).
        NumericalError
            Fewer than 10 replicates could be refitted.

        Examples
        --------
        >>> import geoscenario as gs
        >>> fit = gs.calibrate.log_ou(gs.data.potash_monthly("2010-01", "2025-01"))
        >>> boot = fit.bootstrap(200, seed=1)
        >>> boot.table.columns.tolist()
        ['estimate', 'std_err', 'boot_mean', 'boot_std', 'lower', 'upper', 'interval']
        >>> bool((boot.table["lower"] < fit.params).all() and (fit.params < boot.table["upper"]).all())
        True
        """
        spec = getattr(self, "_refit", None)
        if spec is None:
            raise invalid("bootstrap", "this fit was made by an older geoscenario (or restored from a pickle of one), "
                                       "which did not keep what a refit needs: fit the data again")
        n_boot = _validate.integer("n_boot", n_boot, 10, 1_000_000)
        seed = _validate.integer("seed", seed, 0, 2**64 - 1)
        level = _level(level)
        if not isinstance(interval, str) or interval not in INTERVALS:
            raise invalid("interval", f"must be one of {', '.join(map(repr, INTERVALS))}, got {interval!r}")
        _progress.check(progress)
        fitter, data, kwargs = spec
        if fitter == "factor_betas":
            n_rows = len(data[0])
            # at least two blocks: one block of all the dates only rotates them (the same betas)
            block = (max(1, round(n_rows ** (1 / 3))) if block is None
                     else _validate.integer("block", block, 1, max(1, n_rows // 2)))
        elif block is not None:
            raise invalid("block", "applies to a factor_betas fit, whose rows are resampled in blocks; this "
                                   f"{self.model} fit is simulated from its estimates")
        fitters: dict[str, Callable[..., CalibrationResult]] = {
            "log_ou": log_ou, "logit_ou": logit_ou, "gbm": gbm, "factor_betas": factor_betas}
        refit = fitters[fitter]
        names = self.params.index
        est = np.full((n_boot, len(names)), np.nan)
        se = np.full((n_boot, len(names)), np.nan)
        failures: list[str] = []
        # (the refits' notes are the replicates', not the user's data's: no warnings)
        with _progress.guard(_progress.display(progress, "bootstrap", unit="fits")) as show, \
                warnings.catch_warnings(), _Refits(refit, kwargs) as refits:
            warnings.simplefilter("ignore")
            for first in range(0, n_boot, _bootstrap.CHUNK):
                count = min(_bootstrap.CHUNK, n_boot - first)
                chunk: list[tuple[Any, ...]] = (
                    _bootstrap.block_rows(data, block, seed, first, count) if block is not None  # betas
                    else self._simulated(data, kwargs.get("scale"), seed, first, count))
                for r, fit in enumerate(refits(chunk)):
                    if isinstance(fit, str):
                        failures.append(fit)
                        continue
                    est[first + r] = fit.params.to_numpy()
                    se[first + r] = fit.std_errors.to_numpy()
                if show is not None:
                    show(first + count, n_boot)
        ok = ~np.isnan(est).any(axis=1)
        if ok.sum() < 10:
            made = "resampled" if block is not None else "simulated"
            raise NumericalError(
                f"bootstrap: only {int(ok.sum())} of {n_boot:,} {made} series could be refitted "
                f"(first failure: {failures[0] if failures else 'non-finite estimates'})"
            )
        index = pd.Index(np.flatnonzero(ok), name="replicate")
        return BootstrapResult(
            self,
            pd.DataFrame(est[ok], index=index, columns=names),
            pd.DataFrame(se[ok], index=index, columns=names),
            level=level,
            interval=interval,
            seed=seed,
            failures=failures,
            n_boot=n_boot,
        )

    def _simulated(self, levels: pd.Series, scale: float | None, seed: int, first: int,
                   count: int) -> list[tuple[pd.Series]]:
        """Replicates ``first`` to ``first + count − 1`` of a level fit: series simulated
        from its estimates (see ``geoscenario._bootstrap``), each as the refit's arguments."""
        params = {k: float(v) for k, v in self.params.items()}
        x = levels.to_numpy(dtype=np.float64)
        if scale is not None:  # a logit-OU fit simulates the odds X/(scale − X) by log-OU
            params["theta"] = float(self.extra["odds_theta"])
            x0 = math.log(x[0] / (scale - x[0]))
        else:
            x0 = math.log(x[0])
        paths = _bootstrap.log_paths("gbm" if self.model.startswith("gbm") else "log_ou", params, x0, len(x) - 1,
                                     float(self.dt), seed, first, count)  # type: ignore[arg-type]
        paths = scale / (1.0 + np.exp(-paths)) if scale is not None else np.exp(paths)
        return [(pd.Series(row, index=levels.index, name=levels.name),) for row in paths]

    def to_pandas(self) -> pd.DataFrame:
        """The estimates table (a copy).

        Returns
        -------
        pandas.DataFrame
            A log-OU fit: index ``parameter``; columns ``estimate`` and ``std_err``
            (and ``fixed``, for a jump fit: ``estimated``, ``fixed`` or ``ar1``: κ held
            at the AR(1) fit, θ from the AR(1) mean and the jumps). A
            beta fit: index (``asset``, ``parameter``), and ``std_err_nw`` too with
            Newey–West errors.

        Examples
        --------
        >>> import geoscenario as gs
        >>> fit = gs.calibrate.log_ou(gs.data.potash_monthly("2010-01", "2025-01"))
        >>> fit.to_pandas().index.tolist()
        ['kappa', 'theta', 'sigma']
        """
        return self.table

    def comparison(self) -> str:
        """One sentence comparing a jump fit's likelihood with the diffusion's ('' otherwise).

        Returns
        -------
        str
            Both log-likelihoods, the likelihood ratio with its χ² p-value and both
            AICs; also printed by ``repr``.

        Examples
        --------
        >>> import geoscenario as gs
        >>> potash = gs.data.potash_monthly("2000-01", "2025-01")
        >>> fit = gs.calibrate.log_ou(potash, jumps=True, mean_reversion="ar1")
        >>> fit.comparison().startswith("log-likelihood ")
        True
        >>> "the jump model has the higher likelihood" in fit.comparison()
        True
        >>> fit.diffusion.comparison()
        ''
        """
        if self.diffusion is None or self.loglik is None or self.diffusion.loglik is None:
            return ""
        lr = self.likelihood_ratio
        k = self.n_params - self.diffusion.n_params
        verdict = (
            "the jump model has the higher likelihood"
            if self.loglik > self.diffusion.loglik
            else "the jump model does NOT improve the likelihood"
        )
        if not _nested(self):  # e.g. κ held at 1 while the diffusion estimates it: no χ² test applies
            test = (f"LR = {lr:.2f}, not a test: with κ, θ, σ or λ held fixed the diffusion is not nested "
                    "in the jump model")
        else:
            ptxt = (f", χ²{_CHI2[k]} p = {_chi2_sf(lr, k):.2g} (conservative: λ = 0 is on the boundary)"
                    if k in _CHI2 else "")
            test = f"LR = {lr:.2f} on {k} extra parameters{ptxt}"
        return (
            f"log-likelihood {self.loglik:.3f} with jumps vs "
            f"{self.diffusion.loglik:.3f} for the pure "
            f"diffusion: {verdict} ({test}; "
            f"AIC {self.aic:.1f} vs {self.diffusion.aic:.1f})"
        )

    def _head_and_tail(self) -> tuple[str, list[str]]:
        """The repr's first line, and its lines after the table."""
        span = f"{self.start.date()}..{self.end.date()}"
        if self.dt is not None:
            what = f"{self.name} {span}, {self.n_obs} steps of {self.dt:.6g} y"
        else:
            what = f"{self.name} {span}, {self.n_obs} observations, {self.periods_per_year:g}/year"
        tail = []
        if self.loglik is not None:
            tail.append(f"log-likelihood {self.loglik:.3f}, AIC {self.aic:.1f}, BIC {self.bic:.1f}")
        if self.comparison():
            tail.append(self.comparison())
        return f"CalibrationResult({self.method}; {what})", tail + [f"note: {n}" for n in self.notes]


def _level(level: Any) -> float:
    """A confidence level: a real number in (0, 1)."""
    if not (_validate.is_real(level) and 0.0 < _validate.to_float(level) < 1.0):
        raise invalid("level", f"must be a number in (0, 1), {_validate.got(level)}")
    return _validate.to_float(level)


class _Refits:
    """A bootstrap's refits: ``refits(chunk)`` is each replicate's fit with the options
    ``kwargs``, or the message of its :class:`ConfigError` or :class:`NumericalError`, in
    the replicates' order. A jump refit spends its time in the core's optimiser, which
    lets go of the GIL, so jump refits run on as many threads as the core has workers (1.6-1.8
    times faster on 2); a diffusion or beta refit spends it in Python and runs in this
    thread. Each refit's bits do not depend on the threads. Leaving the ``with`` block
    (the last chunk, an error, Ctrl-C) cancels the refits not started and waits for those
    running."""

    def __init__(self, refit: Callable[..., CalibrationResult], kwargs: dict[str, Any]) -> None:
        self._refit, self._kwargs = refit, kwargs
        threads = _core.worker_threads() if kwargs.get("jumps") else 1
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="geoscenario-refit") if threads > 1 else None

    def _one(self, args: tuple[Any, ...]) -> CalibrationResult | str:
        try:
            return self._refit(*args, **self._kwargs)
        except (ConfigError, NumericalError) as e:
            return str(e)

    def __call__(self, chunk: Sequence[tuple[Any, ...]]) -> list[CalibrationResult | str]:
        return [self._one(args) for args in chunk] if self._pool is None else list(self._pool.map(self._one, chunk))

    def __enter__(self) -> _Refits:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


class BootstrapResult(TableRepr):
    """A bootstrap of a calibration (:meth:`CalibrationResult.bootstrap`): parametric
    for a level fit, by blocks of dates for betas.

    Attributes
    ----------
    fit
        The :class:`CalibrationResult` bootstrapped.
    draws
        The refits' estimates: one row per replicate refitted (index ``replicate``,
        the replicate's number), one column per parameter.
    draw_std_errs
        The refits' standard errors, aligned with ``draws`` (what studentized
        intervals divide by).
    level, interval, seed
        As passed to :meth:`~CalibrationResult.bootstrap`.
    n_boot
        Replicates simulated; ``n_failed`` of them could not be refitted.
    failures
        The error message of each replicate that could not be refitted.

    Notes
    -----
    Coverage of 95% intervals over 200 simulated 15-year monthly log-OU series
    (θ = 352, σ = 0.3), 200 refits each (``benches/coverage_bootstrap.py``; Monte Carlo
    error about ±1.5 points), for κ, θ and σ:

    ============  ===================  ===================
    interval      κ = 0.4              κ = 2
    ============  ===================  ===================
    studentized   91%, 83%, 92%        94%, 89%, 92%
    basic         96%, 75%, 91%        96%, 87%, 92%
    percentile    51%, 74%, 94%        84%, 85%, 92%
    ±1.96 SE      89%, 76%, 94%        96%, 88%, 93%
    ============  ===================  ===================

    The Monte Carlo error is larger away from 95% (about ±3 points at 75%). The
    studentized default improves θ's coverage (76% → 83% at κ = 0.4) and holds κ's and
    σ's; the basic interval is the one for κ; θ stays hard to bound in so short a
    sample (κT = 6), its estimate being e^{a/(1 − b)} with b near 1. The percentile
    interval inherits κ's upward bias.
    With jumps, well identified (κ = 1 over 25 years, σ = 0.2, λ = 3 a year, μ_J = −0.05,
    σ_J = 0.15; ``--jumps --kappa 1 --months 300``, 100 series, 100 refits each, Monte
    Carlo error ±2 to ±3 points), the bootstrap gains nothing: κ, θ, σ, λ, μ_J, σ_J
    covered 96%, 90%, 97%, 97%, 89%, 96% studentized, against 95%, 96%, 95%, 95%, 90%,
    92% for ±1.96 SE. Its use there is a short or sticky series, and a
    ``mean_reversion="ar1"`` fit, whose θ and κ errors are first-order and whose first
    stage makes κ skewed.

    The betas' block bootstrap, over 200 simulated regressions of 120 monthly returns
    y = 0.01 + 1.2 f + 0.5 u with f and u AR(1) (``--rho``), Newey–West fits, 200
    refits each in blocks of 5 (``--rho R --months 120``): the beta's 95% studentized interval covered 91%, 94%
    and 92% with ρ = 0.8, 0.5 and 0, against 86%, 93% and 91% for ±1.96 Newey–West
    SE (basic 85%, 92%, 93%; percentile 86%, 93%, 90%).

    The refits that fail are left out (a simulated series without mean reversion, or
    one that reverts within a step), which shifts κ's interval: ``n_failed`` counts
    them, and ``failures`` says why.

    Examples
    --------
    >>> import geoscenario as gs
    >>> fit = gs.calibrate.gbm(gs.data.potash_monthly("2010-01", "2025-01"))
    >>> boot = fit.bootstrap(100, seed=3, interval="percentile")
    >>> boot.n_boot, boot.n_failed, boot.draws.shape
    (100, 0, (100, 2))
    """

    __slots__ = ("draw_std_errs", "draws", "failures", "fit", "interval", "level", "n_boot", "seed")

    def __init__(
        self,
        fit: CalibrationResult,
        draws: pd.DataFrame,
        draw_std_errs: pd.DataFrame,
        *,
        level: float,
        interval: str,
        seed: int,
        failures: list[str],
        n_boot: int,
    ) -> None:
        self.fit = fit
        self.draws = draws
        self.draw_std_errs = draw_std_errs
        self.level = level
        self.interval = interval
        self.seed = seed
        self.failures = failures
        self.n_boot = n_boot

    @property
    def n_failed(self) -> int:
        """Replicates that could not be refitted (``n_boot − len(draws)``).

        Examples
        --------
        >>> import geoscenario as gs
        >>> boot = gs.calibrate.log_ou(gs.data.potash_monthly("2010-01", "2025-01")).bootstrap(50, seed=1)
        >>> boot.n_failed + len(boot.draws) == boot.n_boot == 50
        True
        """
        return self.n_boot - len(self.draws)

    @property
    def table(self) -> pd.DataFrame:
        """Per parameter: ``estimate`` and ``std_err`` (the fit's), ``boot_mean`` and
        ``boot_std`` of the refits, the interval's ``lower`` and ``upper`` bounds and its
        kind (:meth:`intervals` at this result's ``interval`` and ``level``).

        Examples
        --------
        >>> import geoscenario as gs
        >>> boot = gs.calibrate.log_ou(gs.data.potash_monthly("2010-01", "2025-01")).bootstrap(50, seed=1)
        >>> boot.table.loc["sigma", ["lower", "upper"]].between(0.25, 0.45).all()
        np.True_
        """
        return self.intervals()

    def intervals(self, interval: str | None = None, level: float | None = None) -> pd.DataFrame:
        """The :attr:`table` with another kind of interval or level, from the same refits.

        A parameter the fit held (``fixed``) is held in every refit too: its interval
        is the value itself. Bounds of positive parameters (κ, θ, σ, λ, σ_J, and a beta
        fit's ``vol``) stop at 0, and a logit-OU θ's at the scale.

        Parameters
        ----------
        interval
            ``"studentized"``, ``"basic"`` or ``"percentile"`` (see
            :meth:`CalibrationResult.bootstrap`); default this result's.
        level
            In (0, 1); default this result's.

        Returns
        -------
        pandas.DataFrame
            Index ``parameter``; columns ``estimate``, ``std_err``, ``boot_mean``,
            ``boot_std``, ``lower``, ``upper`` and ``interval``: the kind each row has,
            ``"basic"`` in place of ``"studentized"`` where the fit's standard error,
            or all but 9 of the refits', is NaN, and ``"fixed"`` for a held parameter.

        Examples
        --------
        >>> import geoscenario as gs
        >>> boot = gs.calibrate.log_ou(gs.data.potash_monthly("2010-01", "2025-01")).bootstrap(200, seed=1)
        >>> wide, narrow = boot.intervals("percentile", 0.95), boot.intervals("percentile", 0.5)
        >>> bool(((wide["upper"] - wide["lower"]) > (narrow["upper"] - narrow["lower"])).all())
        True
        """
        interval = self.interval if interval is None else interval
        if not isinstance(interval, str) or interval not in INTERVALS:
            raise invalid("interval", f"must be one of {', '.join(map(repr, INTERVALS))}, got {interval!r}")
        level = self.level if level is None else _level(level)
        est = self.fit.params.to_numpy(dtype=float)
        se = self.fit.std_errors.to_numpy(dtype=float)
        draws = self.draws.to_numpy()
        alpha = 1.0 - level
        q_lo, q_hi = np.quantile(draws, [alpha / 2, 1 - alpha / 2], axis=0)
        lower, upper = (q_lo, q_hi) if interval == "percentile" else (2 * est - q_hi, 2 * est - q_lo)
        kinds = np.full(est.size, "percentile" if interval == "percentile" else "basic", dtype=object)
        if interval == "studentized":
            t = (draws - est) / self.draw_std_errs.to_numpy()
            for j in range(est.size):
                tj = t[:, j][np.isfinite(t[:, j])]
                if np.isfinite(se[j]) and tj.size >= 10:  # else the basic interval, which needs no errors
                    t_lo, t_hi = np.quantile(tj, [alpha / 2, 1 - alpha / 2])
                    lower[j], upper[j], kinds[j] = est[j] - t_hi * se[j], est[j] - t_lo * se[j], interval
        # bounds of the parameter space: positive rates and scales, a logit-OU θ below its scale
        # (both bounds: a strong bias can push a whole basic or studentized interval past one)
        index = self.fit.params.index
        names = index.get_level_values(-1) if isinstance(index, pd.MultiIndex) else index
        # (a beta fit's rows are named after its factors too, which may be called "sigma")
        positive = names.isin(("vol",) if self.fit.model == "factor_betas" else POSITIVE)
        lower, upper = np.where(positive, np.maximum(lower, 0.0), lower), np.where(positive, np.maximum(upper, 0.0), upper)
        if self.fit.dt is not None and "lambda" in names:  # (a beta fit has no step)
            # a jump fit searches σ ≤ 10, λ ≤ min(2/Δ, 120), |μ_J| ≤ 5 and σ_J ≤ 5 (the core's
            # box, a world's limits): no refit lands beyond, though a studentized interval can
            caps = {"sigma": 10.0, "lambda": min(2.0 / float(self.fit.dt), 120.0), "mu_j": 5.0, "sigma_j": 5.0}
            cap = np.array([caps.get(q, np.inf) for q in names])
            floor = np.where(names == "mu_j", -5.0, -np.inf)
            lower, upper = np.clip(lower, floor, cap), np.clip(upper, floor, cap)
        scale = self.fit._refit[2].get("scale") if self.fit._refit is not None else None
        if scale is not None:
            theta = names == "theta"
            lower, upper = np.where(theta, np.minimum(lower, scale), lower), np.where(theta, np.minimum(upper, scale), upper)
        held = (draws == est).all(axis=0)
        lower, upper = np.where(held, est, lower), np.where(held, est, upper)
        kinds[held] = "fixed"
        return pd.DataFrame(
            {"estimate": est, "std_err": se, "boot_mean": draws.mean(axis=0),
             "boot_std": draws.std(axis=0, ddof=1), "lower": lower, "upper": upper, "interval": kinds},
            index=self.fit.params.index,
        )

    def to_pandas(self) -> pd.DataFrame:
        """The :attr:`table`.

        Returns
        -------
        pandas.DataFrame
            A new DataFrame each call: index ``parameter``, the columns of :meth:`intervals`.

        Examples
        --------
        >>> import geoscenario as gs
        >>> boot = gs.calibrate.gbm(gs.data.potash_monthly("2010-01", "2025-01")).bootstrap(50, seed=1)
        >>> boot.to_pandas().equals(boot.table), boot.to_pandas() is boot.to_pandas()
        (True, False)
        """
        return self.table

    def _head_and_tail(self) -> tuple[str, list[str]]:
        head = (f"BootstrapResult({self.fit.name}, {self.fit.model}: {self.n_boot:,} replicates, "
                f"{percent(self.level)} {self.interval} intervals, seed {self.seed})")
        made = "resampled" if self.fit.model == "factor_betas" else "simulated"
        tail = [f"note: {self.n_failed:,} of {self.n_boot:,} {made} series could not be refitted and are "
                f"left out (first: {self.failures[0]})"] if self.failures else []
        return head, tail


class CalibratedWorld:
    """A calibrated world and the table of the parameters the calibration set.

    Unpacks as ``(world, changes)``; ``fits`` holds the :class:`CalibrationResult`
    objects behind the changes.

    Attributes
    ----------
    world
        The new :class:`~geoscenario.World`.
    changes
        DataFrame indexed by parameter path (``scenarios.base.potash_spot.kappa``,
        ``assets.fertilizer_producers.betas.global_equity``, ...) with columns
        ``old`` (the value in force before, inherited or default included),
        ``new``, ``std_err`` and ``source`` (the estimator). A scenario that does
        not set a calibrated base parameter follows it: its row's source is
        ``"inherited from scenarios.<base>"`` (see :meth:`World.parameters`). A
        diffusion fit sets the factor's jumps to 0 (``std_err`` NaN), a row even
        where they were 0 already; ``repr`` counts the rows whose value changed.
    fits
        ``{"potash": CalibrationResult, "betas": CalibrationResult}`` (those computed),
        and ``"potash_jumps"``, a jump fit set aside because it did not beat the
        diffusion; the fit of ``levels`` is under ``"potash"`` whatever its factor.

    Examples
    --------
    >>> import geoscenario as gs
    >>> potash = gs.data.potash_monthly("2010-01", "2025-01")
    >>> cw = gs.World.default().calibrated(levels=potash)
    >>> type(cw).__name__, list(cw.fits), cw.world.name
    ('CalibratedWorld', ['potash'], 'belarus_china_2025')
    >>> world, changes = cw
    >>> world is cw.world is cw[0], changes is cw[1]
    (True, True)
    >>> world is cw.world, changes.index[0]
    (True, 'scenarios.base.potash_spot.kappa')
    >>> float(changes.loc["scenarios.base.potash_spot.kappa", "new"]) == world.to_dict()["scenarios"]["base"]["potash_spot"]["kappa"]
    True
    """

    __slots__ = ("changes", "fits", "world")

    def __init__(
        self, world: World, changes: pd.DataFrame, fits: dict[str, CalibrationResult]
    ) -> None:
        self.world = world
        self.changes = changes
        self.fits = fits

    def __iter__(self) -> Iterator[Any]:
        return iter((self.world, self.changes))

    def __len__(self) -> int:
        return 2

    def __getitem__(self, i: int | slice) -> Any:
        """``cw[0]`` is the world, ``cw[1]`` the changes, as for the tuple it unpacks as."""
        return (self.world, self.changes)[i]

    def to_pandas(self) -> pd.DataFrame:
        """A copy of :attr:`changes`: old and new value, standard error and source of each
        changed parameter, indexed by its path.

        Returns
        -------
        pandas.DataFrame
            Columns ``old``, ``new``, ``std_err``, ``source``; index ``parameter``.

        Examples
        --------
        >>> import geoscenario as gs
        >>> cw = gs.World.default().calibrated(levels=gs.data.potash_monthly("2010-01", "2025-01"))
        >>> df = cw.to_pandas()
        >>> df.columns.tolist(), df.equals(cw.changes), df is cw.changes
        (['old', 'new', 'std_err', 'source'], True, False)
        """
        return self.changes.copy()

    def __repr__(self) -> str:
        body = self.changes.to_string(float_format=lambda v: f"{v:.6g}")
        return "\n".join([self._head(), body, *self._doubts()])

    def _doubts(self) -> list[str]:
        """The notes of its fits that warn, and the Dickey–Fuller test's (which does not
        warn: it cannot reject a random walk in most 15-year series that do revert at
        κ = 0.5, but a κ written into the world is then the model's, not the data's)."""
        out: list[str] = []
        for name, fit in self.fits.items():
            for note in fit.notes:
                # (a jump fit set aside repeats its diffusion's notes on the same series)
                shown = any(line.endswith(f": {note}") for line in out)
                if not shown and any(mark in note for mark in (*_WARNING_NOTES, "cannot reject a random walk")):
                    out.append(f"note: {name}: {note}")
        return out

    def _head(self) -> str:
        # a diffusion fit sets the jumps to 0 whether or not they were: a row, not a change
        changed = int((self.changes["old"] != self.changes["new"]).sum())
        return f"CalibratedWorld({self.world.name!r}: {len(self.changes)} parameters set, {changed} changed)"

    def _repr_html_(self) -> str:
        """In a notebook: the first line of the repr, the changes as a table, then the notes
        of its fits that warn."""
        return table_html(self._head(), [("", self.changes)], self._doubts())


# ============================================================================ log-OU
def _finite(name: str, estimates: dict[str, float], std_errs: dict[str, float]) -> None:
    """Raise a NumericalError if a fit overflowed (inputs of extreme scale or step)."""
    for what, values in (("estimate", estimates), ("standard error", std_errs)):
        for p, v in values.items():
            if math.isinf(v):
                raise NumericalError(
                    f"the {what} of {p} for {name} overflows to {v}: the data's scale or time step "
                    "is outside what double precision can fit (rescale the series or check dt)"
                )


def _log_ou_result(
    raw: dict[str, Any],
    s: pd.Series,
    name: str,
    *,
    diffusion: CalibrationResult | None = None,
    first_stage: CalibrationResult | None = None,
    max_jumps: int = 10,
) -> CalibrationResult:
    jumps = bool(raw["jumps"])
    k = 6 if jumps else 3
    est = np.asarray(raw["params"][:k], dtype=float)
    se = np.asarray(raw["std_errs"][:k], dtype=float)
    _finite(name, dict(zip(PARAMS[:k], est)), dict(zip(PARAMS[:k], se)))
    fixed = np.asarray(raw["fixed"][:k], dtype=bool)
    cols: dict[str, Any] = {"estimate": est, "std_err": se}
    notes: list[str] = []
    method = (
        "log-OU with Merton jumps, exact transition density, penalised MLE"
        if jumps
        else "log-OU, exact MLE (AR(1) on log levels)"
    )
    if jumps:
        status = np.where(fixed, "fixed", "estimated").astype(object)
        if first_stage is not None:
            status[:2] = "ar1"
            se[0] = first_stage.table.at["kappa", "std_err"]
            # ln θ = m̄ − λΔμ_J/(1 − e^{−κΔ}): the first stage's errors in m̄ and in κ
            # (through the core's ∂lnθ/∂ln κ, over κ; the AR(1) mean and slope are
            # asymptotically independent), and the jumps' in their drift (the core's)
            dlt_dkappa = float(raw["ln_theta_grad"][0]) / float(est[0])
            se_mbar = float(first_stage.extra["log_mean_se"])
            se[1] = est[1] * math.sqrt(se_mbar**2 + (dlt_dkappa * float(se[0])) ** 2
                                       + float(raw["log_mean_se"]) ** 2)
            # σ and the jumps': the second stage's, plus the first stage's error it inherits
            # (Murphy and Topel 1985; the second stage alone covered μ_J 43% of the time)
            # (without a positive definite information the core's errors stay NaN, as its note says)
            free = [q for q in _two_step.STAGE_TWO if status[PARAMS.index(q)] == "estimated"]
            if free and raw["hessian_ok"]:
                two = _two_step.corrected(np.log(s.to_numpy(dtype=float)), float(raw["dt"]),
                                          tuple(first_stage.extra["ar"][:2]),
                                          {q: float(est[PARAMS.index(q)]) for q in _two_step.STAGE_TWO},
                                          free, max_jumps)
                for q, v in two.items():
                    se[PARAMS.index(q)] = v
                lost = [q for q, v in two.items() if math.isnan(v)]
                if lost:
                    notes.append(f"the jump stage's information is not positive definite where the two-step "
                                 f"errors are taken: the standard errors of {', '.join(lost)} are NaN")
            method += "; κ and the mean of ln X from the AR(1) fit"
            notes.append(
                "κ and the long-run mean of ln X are the AR(1) MLE given the first value (least "
                "squares on the logs: the first stage) and were "
                "held in the jump likelihood; θ follows from that mean and the jumps, "
                "ln θ = mean − λΔμ_J/(1 − e^{−κΔ}), since the model does not compensate them "
                "(MODEL.md §3), so that the simulated long-run mean of ln X is the data's; θ's "
                "standard error adds the first stage's errors in the mean and in κ to the jumps', "
                "and those of σ and the jumps add the first stage's error they inherit (Murphy and "
                "Topel 1985)"
            )
        cols["std_err"] = se
        cols["fixed"] = status
    table = pd.DataFrame(cols, index=pd.Index(list(PARAMS[:k]), name="parameter"))
    at_bound = [PARAMS[i] for i in range(k) if raw["at_bound"][i]]
    # many unchanged prices (sticky quotes) are the usual cause of a jump fit without an
    # interior maximum or errors: the notes say so only then
    zero = float(np.mean(np.diff(s.to_numpy(dtype=float)) == 0.0))
    held_mean = jumps and bool((status[:2] == "fixed").any())  # κ or θ held by the user: 'ar1' would conflict
    if at_bound:
        why = (f" ({zero:.0%} of the changes are exactly zero, as in sticky quoted prices, so jumps "
               "alone explain the moves)" if zero >= STICKY_SHARE else "")
        way_out = ("hold parameters with fixed=, or give a longer history" if first_stage is not None or held_mean
                   else "hold κ and the mean at the AR(1) fit with mean_reversion='ar1', or parameters with fixed=")
        notes.append(
            f"{', '.join(at_bound)} ended on the edge of the search region: no interior maximum"
            f"{why}; {way_out}"
        )
    # mean reversion too slow for the data to show: judged on the diffusion (AR(1)) fit,
    # since the joint jump likelihood drives κ towards 0 on sticky prices that do revert
    # (its own note says so); not when the user holds κ or θ
    span = float(raw["n_obs"]) * float(raw["dt"])  # years of data
    kappa = float(est[0]) if not jumps else (float(diffusion.params["kappa"]) if diffusion is not None else 0.0)
    if not held_mean and "kappa" not in at_bound and 0 < kappa * span < 0.1:
        notes.append(
            f"the mean reversion is too slow to identify: κ = {kappa:.3g} per year"
            f"{' in the diffusion fit' if jumps else ''}, a half-life of "
            f"{math.log(2) / kappa:.3g} years against {span:.3g} years of data (κT = {kappa * span:.2g}), "
            f"so θ = {est[1]:.4g} is not a level the data show (a trend or a random walk); fit a longer "
            "window, or hold κ and θ with jumps=True, fixed={...}"
        )
    # a random walk gives κ/SE > 2 about a quarter of the time: say when the data cannot
    # reject one (not when κ or θ is held, nor when κ is already too slow to identify)
    if not held_mean and not any("too slow to identify" in note for note in notes):
        note = _unit_root_note(s)
        if note:
            notes.append(note)
    # κ from an AR(1) fit (this one, or the first stage a jump fit holds it at) reads high
    # in short samples
    if first_stage is not None:
        ar1: tuple[float, int] | None = (float(first_stage.extra["ar"][1]), first_stage.n_obs)
    else:
        ar1 = None if jumps else (float(raw["ar"][1]), int(raw["n_obs"]))
    if ar1 is not None and "kappa" not in at_bound and kappa * span >= 0.1:
        note = _kendall_note(*ar1, float(raw["dt"]), kappa)
        if note:
            notes.append(note)
    if not raw["hessian_ok"]:
        advice = ""
        if jumps and first_stage is None and not held_mean and not any("mean_reversion=" in n for n in notes):
            advice = ("; mean_reversion='ar1' holds κ and the long-run mean at the AR(1) fit and "
                      "estimates the rest, the robust choice for sticky quoted prices"
                      + (f" ({zero:.0%} of the changes here are exactly zero)" if zero >= STICKY_SHARE else ""))
        notes.append(f"the observed information is not positive definite: standard errors are NaN{advice}")
    if not raw["converged"]:
        notes.append(
            f"the optimiser stopped after {raw['evaluations']} "
            "evaluations without meeting its tolerance"
        )
    n_free = int(k - fixed.sum()) + (2 if first_stage is not None else 0)
    return CalibrationResult(
        "log_ou_jumps" if jumps else "log_ou",
        table,
        name=name,
        method=method,
        n_obs=int(raw["n_obs"]),
        start=s.index[0],
        end=s.index[-1],
        dt=float(raw["dt"]),
        periods_per_year=1.0 / float(raw["dt"]),
        loglik=float(raw["loglik"]),
        n_params=n_free,
        diffusion=diffusion,
        notes=notes,
        extra={
            "log_mean": raw["log_mean"],
            "log_mean_se": raw["log_mean_se"],
            "ar": tuple(raw["ar"]),
            "evaluations": raw["evaluations"],
            "converged": raw["converged"],
            "at_bound": at_bound,
            "hessian_ok": raw["hessian_ok"],
        },
    )


def log_ou(
    series: pd.Series,
    *,
    jumps: bool = False,
    mean_reversion: str = "joint",
    fixed: Mapping[str, float] | None = None,
    dt: float | None = None,
    max_jumps: int = 10,
) -> CalibrationResult:
    """Fit the log-OU model (MODEL.md §3) to a level series by maximum likelihood on its
    exact transition density (penalised slightly with jumps, see below).

    Without jumps the exact discretisation is the Gaussian AR(1)
    x_{t+1} = a + b x_t + s ε on x = ln S, whose conditional MLE is OLS with
    s² = SSR/n; then κ = −ln b / Δ, θ = e^{a/(1−b)} (a level), σ = s sqrt(2κ/(1 − b²)),
    with standard errors from the observed information by the delta method.
    In short samples κ reads high: b is biased down by about (1 + 3b)/n in n steps
    (Kendall 1954), which puts κ too high by about 4/(κT) of itself over T years
    (in simulations with κ = 0.4, the mean estimate from 10 years of monthly data is
    0.95 and from 25 years 0.61). When Kendall's correction of b moves κ by 10% or
    more, ``notes`` says so and quotes the corrected κ; the estimate stays the MLE.
    With jumps the transition density is the Gaussian mixture
    Σ_n Pois(n; λΔ) φ(y; a + b x + n μ_J, s² + n σ_J²) (n ≤ ``max_jumps``),
    maximised numerically from the diffusion fit; errors from the numerical
    Hessian. A vanishing penalty (Chen, Tan & Zhang 2008),
    −n^(−1/2)·(S/s² + ln(s²/S)) with S the diffusion fit's s², keeps the mixture
    likelihood bounded on tied data; the estimates maximise the penalised
    likelihood, and the reported log-likelihoods (and so the likelihood ratio and
    AIC/BIC) are the unpenalised ones at those estimates.

    Parameters
    ----------
    series
        Positive levels with a regular ``DatetimeIndex`` (any frequency pandas
        can infer: monthly, quarterly, weekly, daily, business-daily), a market's
        trading days, or one trading day a month (each month's last, say).
        Leading and trailing NaN are dropped; a NaN in between is an error.
        At least 24 observations.
    jumps
        Fit Merton jumps too (λ per year, μ_J, σ_J of the log jump).
    mean_reversion
        With jumps: ``"joint"`` estimates all six parameters by MLE;
        ``"ar1"`` holds κ and the long-run mean m̄ of ln X at the AR(1)
        (diffusion) MLE and estimates σ, λ, μ_J, σ_J by MLE — the robust choice
        for sticky quoted series (e.g. the World Bank potash price, whose joint
        likelihood drives κ → 0). θ then follows from the jumps,
        ln θ = m̄ − λΔμ_J/(1 − e^{−κΔ}): the model does not compensate its jumps
        (MODEL.md §3), and the AR(1) intercept already carries their mean, so
        holding θ itself would count their drift twice. θ then inherits κ's
        small-sample bias through the 1/(1 − e^{−κΔ}) factor: in a simulation
        (400 months, κ = 1, λ = 3, μ_J = −0.2) its ±1.96 SE interval covered the
        true θ 82–84% of the time, against 93% for ``"joint"`` on the same data.
    fixed
        With jumps: ``{parameter: value}`` (or a Series so indexed) held instead of estimated
        (parameters ``kappa``, ``theta`` (level), ``sigma``, ``lambda``, ``mu_j``, ``sigma_j``).
    dt
        Step in years; default from the index frequency (monthly 1/12,
        quarterly 1/4, annual 1, weekly 7/365.25, daily 1/365.25, business daily 1/252;
        7/(5·365.25) when a year or so of dates holds every weekday, holidays filled in),
        or 1/252 for a market's trading days, holidays left out (about 252 dates a year,
        at least 75% of the weekdays they span and none more than 12 days apart, as
        ``gs.backtest`` counts them), or 1/12 for one date in each of consecutive months,
        23 to 38 days apart (a month's last trading day, which a holiday moves).
        Given explicitly, every step counts ``dt`` and the dates need only be
        increasing, at any spacing; the index is a ``DatetimeIndex`` either way.
    max_jumps
        Truncation of the Poisson sum.

    Returns
    -------
    CalibrationResult
        ``table`` indexed by parameter (``kappa``, ``theta``, ``sigma`` and, with
        jumps, ``lambda``, ``mu_j``, ``sigma_j``); a jump fit also holds the
        diffusion fit in ``diffusion`` and compares the likelihoods in its repr.

    Raises
    ------
    ConfigError
        Not a Series, no/irregular ``DatetimeIndex``, NaN inside the series,
        non-positive levels, fewer than 24 observations, bad ``fixed``.
    NumericalError
        No mean reversion in the data (AR(1) coefficient outside (0, 1), or so close
        to 1 that the long-run level θ overflows).

    Warns
    -----
    RuntimeWarning
        A fit to doubt, also in ``notes``: a parameter ended on the edge of the search
        region, the observed information is not positive definite (standard errors
        NaN), the optimiser stopped before its tolerance, the mean reversion is too
        slow for the data to show (κT < 0.1: a trend or a random walk), the AR(1)
        coefficient corrected for its small-sample bias (Kendall 1954) reaches 1, so
        the data cannot exclude a random walk (κ is then an upper estimate, and a
        κ/SE above 2 is no evidence of mean reversion). A Dickey–Fuller test that
        cannot reject a random walk at 5% is a note only: over 15 years it fails to
        reject in 80% of series that do revert at κ = 0.5 (39% at κ = 1).

    Examples
    --------
    >>> import geoscenario as gs
    >>> potash = gs.data.potash_monthly("2000-01", "2025-01")
    >>> fit = gs.calibrate.log_ou(potash, jumps=True, mean_reversion="ar1")
    >>> fit.jumps_preferred, round(float(fit.params["lambda"]), 1)
    (True, 4.4)
    """
    if not isinstance(jumps, (bool, np.bool_)):
        raise invalid("jumps", f"must be True or False, got {jumps!r}")
    if not isinstance(mean_reversion, str) or mean_reversion not in ("joint", "ar1"):
        raise invalid("mean_reversion", f"must be 'joint' or 'ar1', got {mean_reversion!r}")
    max_jumps = _validate.integer("max_jumps", max_jumps, 1, 50)
    s = _levels(series, "series")
    step = _series_step(s, dt)
    levels = _validate.owned(s.to_numpy(dtype=np.float64))
    name = str(series.name) if series.name is not None else "series"

    fixed_vals: list[float | None] = [None] * 6
    if fixed is not None:
        if not jumps:
            raise invalid("fixed", "applies to the jump model only (jumps=True)")
        fixed = _validate.keyed("fixed", fixed)
        if not isinstance(fixed, Mapping):
            raise invalid(
                "fixed", f"must be a dict (or pandas Series) of parameter to value, got {type(fixed).__name__}"
            )
        for key, value in fixed.items():
            if key not in PARAMS:
                raise invalid(f"fixed.{key}", f"is not a parameter ({', '.join(PARAMS)})")
            fixed_vals[PARAMS.index(key)] = _real(f"fixed.{key}", value)

    try:
        diffusion = _log_ou_result(_core.calibrate_log_ou(levels, step, False), s, name)
    except NumericalError as e:
        if jumps and (fixed_vals[0] is None) != (fixed_vals[1] is None):
            # the jump fit starts from the diffusion's fit unless it holds both
            other = "theta" if fixed_vals[0] is not None else "kappa"
            raise NumericalError(f"{e}; a jump fit that holds kappa and theta needs no diffusion fit: "
                                 f"give fixed.{other} too") from e
        if not (jumps and fixed_vals[0] is not None and fixed_vals[1] is not None):
            raise
        diffusion = None
    if diffusion is not None:
        diffusion._refit = ("log_ou", s, {"dt": step})
    if not jumps:
        assert diffusion is not None
        return _warn_notes(diffusion)

    first_stage = None
    log_mean = None
    if mean_reversion == "ar1":
        if diffusion is None:
            raise invalid(
                "mean_reversion", "'ar1' needs a mean-reverting AR(1) fit, which this series lacks"
            )
        for i in (0, 1):
            if fixed_vals[i] is not None:
                raise invalid(
                    f"fixed.{PARAMS[i]}", "conflicts with mean_reversion='ar1', which sets it: to hold "
                    f"{PARAMS[i]}, fit with mean_reversion='joint'"
                )
        # κ, and the long-run mean of ln X the AR(1) intercept gives (jumps included);
        # θ follows from that mean and the jumps
        fixed_vals[0] = float(diffusion.params["kappa"])
        log_mean = float(diffusion.extra["log_mean"])
        first_stage = diffusion
    try:
        raw = _core.calibrate_log_ou(levels, step, True, fixed_vals, int(max_jumps), log_mean)
    except ConfigError as e:
        if first_stage is None or e.path != "fixed.kappa":
            raise
        # the AR(1) κ that mean_reversion='ar1' holds, not one the caller gave
        rule = str(e).removeprefix("fixed.kappa: ").split(", got")[0]
        kappa = float(first_stage.params["kappa"])
        fast = kappa > 1.0
        raise NumericalError(
            f"{name}: the AR(1) fit's κ = {kappa:.6g} a year, which mean_reversion='ar1' holds, is "
            f"outside what the jump fit searches (κ {rule}): "
            + ("the series reverts within a step or two, so sample it less often (a longer step), "
               if fast else "the mean reversion is too slow to see, so give a longer history, ")
            + "or hold κ at a value of your own with fixed={'kappa': ...}"
        ) from None
    except NumericalError as e:
        slow = [n for n in (diffusion.notes if diffusion is not None else []) if "too slow to identify" in n]
        if slow:  # the likely cause, which the jump likelihood's failure does not show
            raise NumericalError(f"{e}; the diffusion fit says why: {slow[0]}") from None
        raise
    result = _log_ou_result(raw, s, name, diffusion=diffusion, first_stage=first_stage, max_jumps=max_jumps)
    result._refit = ("log_ou", s, {"jumps": True, "mean_reversion": mean_reversion,
                                   "fixed": None if fixed is None else dict(fixed), "dt": step,
                                   "max_jumps": max_jumps})
    return _warn_notes(result)


def logit_ou(
    series: pd.Series,
    scale: float = 1.0,
    *,
    jumps: bool = False,
    mean_reversion: str = "joint",
    fixed: Mapping[str, float] | None = None,
    dt: float | None = None,
    max_jumps: int = 10,
) -> CalibrationResult:
    """Maximum likelihood of a ``logit_ou`` factor: :func:`log_ou` of the odds.

    A ``logit_ou`` factor's x = logit(X / scale) = ln(X / (scale − X)) follows the
    log-OU model's exact step (MODEL.md §3), so the fit is :func:`log_ou` of the odds
    X / (scale − X), whose log is x; θ is then mapped back to a level,
    θ = scale · θ_odds / (1 + θ_odds), its standard error by the delta method
    (dθ/dθ_odds = scale / (1 + θ_odds)²). κ, σ and the jumps are in logit units, as
    the factor's parameters are.

    Parameters
    ----------
    series
        Levels strictly between 0 and ``scale``, as :func:`log_ou` takes them.
    scale
        The factor's ``scale``: the upper bound of its level.
    jumps, mean_reversion, fixed, dt, max_jumps
        As in :func:`log_ou` (``fixed.theta`` a level, as the result's).

    Returns
    -------
    CalibrationResult
        As :func:`log_ou`'s, with θ a level in (0, scale).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import geoscenario as gs
    >>> world = gs.World.from_dict({
    ...     "factors": {"share": {"kind": "logit_ou", "unit": "share", "initial": 0.2}},
    ...     "scenarios": {"base": {"probability": 1.0,
    ...                            "share": {"theta": 0.3, "kappa": 1.0, "sigma": 0.5}}},
    ...     "world": {"horizon_months": 600}})
    >>> x = world.simulate(1, seed=3, progress=False)["share"][0]
    >>> fit = gs.calibrate.logit_ou(pd.Series(x, index=pd.date_range("1976-01", periods=601, freq="MS")))
    >>> fit.params.index.tolist(), bool(0 < fit.params["theta"] < 1)
    (['kappa', 'theta', 'sigma'], True)
    """
    top = _real("scale", scale)
    if not 0.0 < top <= 1e12:
        raise invalid("scale", f"must be in (0, 1e12], got {scale!r}")
    s = _levels(series, "series")
    x = s.to_numpy(dtype=np.float64)
    out = np.flatnonzero(x >= top)
    if out.size:
        raise invalid("series", f"is {x[out[0]]} on {s.index[out[0]].date()}; a logit_ou factor's levels "
                                f"lie below its scale, {top:g}")
    fixed = user_fixed = _validate.keyed("fixed", fixed)  # a Series too: its θ is a level, turned into odds here
    if isinstance(fixed, Mapping) and "theta" in fixed:
        th = _real("fixed.theta", fixed["theta"])
        if not 0.0 < th < top:
            raise invalid("fixed.theta", f"must lie strictly between 0 and the scale {top:g}, got {th!r}")
        fixed = {**fixed, "theta": th / (top - th)}
    odds = pd.Series(x / (top - x), index=s.index, name=series.name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = log_ou(odds, jumps=jumps, mean_reversion=mean_reversion, fixed=fixed, dt=dt, max_jumps=max_jumps)
        except ConfigError as e:
            if e.path != "fixed.theta":
                raise
            # the search's bounds on the odds θ/(scale − θ), said of the level given
            bounds = re.search(r"must be in \[([^,\]]+), ([^\]]+)\]", str(e))
            if bounds is None:  # not the search's range (a conflict with 'ar1', say)
                raise
            lo, hi = float(bounds[1]), float(bounds[2])
            raise invalid("fixed.theta", f"must be in [{top * lo / (1 + lo):.6g}, {top * hi / (1 + hi):.6g}] "
                                         f"(the odds the fit searches, for scale {top:g}), got {th!r}") from None
    odds_theta = float(fit.table.at["theta", "estimate"])
    for w in caught:  # log_ou's warnings, in the logit's words
        text = _in_logits(str(w.message), odds_theta, top)
        warn(text.replace("log_ou:", "logit_ou:", 1), w.category)
    result = _odds_to_level(fit, top)
    step = float(fit.dt)  # type: ignore[arg-type]
    result._refit = ("logit_ou", s, {"scale": top, "jumps": jumps, "mean_reversion": mean_reversion,
                                     "fixed": None if user_fixed is None else dict(user_fixed), "dt": step,
                                     "max_jumps": max_jumps})
    if result.diffusion is not None:
        result.diffusion._refit = ("logit_ou", s, {"scale": top, "dt": step})
    return result


def _in_logits(text: str, odds_theta: float, scale: float) -> str:
    """A log-OU fit's text about the odds, in terms of the logit-OU factor's level X (θ
    quoted as the level scale·θ_odds/(1 + θ_odds), as the table gives it)."""
    level = scale * odds_theta / (1.0 + odds_theta)
    return (text.replace("ln θ", "logit(θ/scale)").replace("ln X", "logit(X/scale)")
            .replace("log levels", "logits").replace(f"θ = {odds_theta:.4g} ", f"θ = {level:.4g} "))


def _odds_to_level(fit: CalibrationResult, scale: float) -> CalibrationResult:
    """A log-OU fit of the odds X/(scale − X) as a logit-OU fit of X: θ mapped to a level."""
    table = fit.table.copy()
    t, se = float(table.at["theta", "estimate"]), float(table.at["theta", "std_err"])
    table.at["theta", "estimate"] = scale * t / (1.0 + t)
    table.at["theta", "std_err"] = scale * se / (1.0 + t) ** 2
    out = copy.copy(fit)
    out.model, out.table = fit.model.replace("log_ou", "logit_ou"), table
    out.extra = {**fit.extra, "odds_theta": t}  # θ as odds, exactly (its level may round to the scale)
    out.method = f"logit-OU, of the odds X/(scale − X), θ as a level: {_in_logits(fit.method, t, scale)}"
    out.notes = [_in_logits(n, t, scale) for n in fit.notes]
    if fit.diffusion is not None:
        out.diffusion = _odds_to_level(fit.diffusion, scale)
    return out


def gbm(
    series: pd.Series, *, jumps: bool = False, dt: float | None = None, max_jumps: int = 10
) -> CalibrationResult:
    """Exact maximum likelihood of a geometric Brownian motion (MODEL.md §3), with or
    without Merton jumps.

    The log returns r_t = ln X_{t+1} − ln X_t of a GBM are independent
    Normal((g − σ²/2)Δ, σ²Δ), so with m and v their sample mean and (1/n) variance,
    σ̂ = √(v/Δ) and ĝ = m/Δ + σ̂²/2. Standard errors from the information matrix:
    se(σ̂) = σ̂/√(2n) and se(ĝ) = √(σ̂²/(nΔ) + σ̂⁴/(2n)) (m and v are independent).
    g is the growth rate of the expected level, E[X_t] = X₀e^{gt}, as a ``gbm``
    factor's ``g`` is.

    With ``jumps=True`` the log returns are those of a ``gbm`` factor with jumps,
    r = (g − σ²/2 − λk)Δ + σ√Δ·ε + Σ_{i≤N} J_i with N ~ Poisson(λΔ),
    J ~ Normal(μ_J, σ_J²) and k = e^{μ_J + σ_J²/2} − 1 (compensated, so E[X_t] is
    still X₀e^{gt}): independent draws of a Gaussian mixture, fitted by penalised
    maximum likelihood as :func:`log_ou`'s jumps are (the Poisson sum truncated at
    ``max_jumps``), with standard errors from the observed information and g's by
    the delta method. ``diffusion`` is then the fit without jumps, so
    ``likelihood_ratio`` and ``comparison()`` say whether the jumps earn their
    three parameters.

    Parameters
    ----------
    series
        Positive levels with a regular ``DatetimeIndex``, as :func:`log_ou` takes
        them; at least 24 observations.
    jumps
        Fit Merton jumps too.
    dt
        Step in years; default from the index frequency (as in :func:`log_ou`).
    max_jumps
        Most jumps per step in the likelihood (1 to 50; with ``jumps``).

    Returns
    -------
    CalibrationResult
        ``table`` indexed by parameter: ``g``, ``sigma`` (and ``lambda``, ``mu_j``,
        ``sigma_j`` with jumps); the log-likelihood is that of the log returns.

    Raises
    ------
    ConfigError
        As :func:`log_ou`.
        A constant series is one too (nothing to fit).
    NumericalError
        The log returns do not vary (σ̂ = 0: no likelihood to maximise), as for an
        exactly exponential series.

    Examples
    --------
    >>> import geoscenario as gs
    >>> spy = gs.data.equities_daily("2018-01-01", "2024-12-31")["spy_adj_close"]
    >>> fit = gs.calibrate.gbm(spy.resample("MS").last())
    >>> fit.params.index.tolist(), round(float(fit.params["sigma"]), 2)
    (['g', 'sigma'], 0.18)
    >>> daily = gs.calibrate.gbm(spy, jumps=True, dt=1 / 252)  # trading days
    >>> daily.params.index.tolist(), daily.jumps_preferred
    (['g', 'sigma', 'lambda', 'mu_j', 'sigma_j'], True)
    >>> # daily fat tails read as about 63 small jumps a year on a 12% diffusion
    >>> round(float(daily.params["lambda"])), round(float(daily.params["sigma"]), 2)
    (63, 0.12)
    """
    if not isinstance(jumps, (bool, np.bool_)):
        raise invalid("jumps", f"must be True or False, got {jumps!r}")
    _validate.integer("max_jumps", max_jumps, 1, 50)
    s = _levels(series, "series")
    step = _series_step(s, dt)
    x = np.log(s.to_numpy(dtype=np.float64))
    r = np.diff(x)
    n = r.size
    m = math.fsum(r) / n
    v = math.fsum((r - m) ** 2) / n
    name = str(series.name) if series.name is not None else "series"
    if (x == x[0]).all():  # (as log_ou says it)
        raise invalid("series", "is constant: nothing to fit")
    # constant returns (an exactly exponential series) vary only by the rounding of the logs
    if not math.sqrt(v) > 64 * np.finfo(float).eps * max(1.0, float(np.abs(x).max())):  # logs near 0 too
        raise NumericalError("series: the log returns do not vary, so σ = 0 and the likelihood has "
                             "no maximum")
    sigma = math.sqrt(v / step)
    g = m / step + 0.5 * sigma * sigma
    est = {"g": g, "sigma": sigma}
    se = {"g": math.sqrt(sigma**2 / (n * step) + sigma**4 / (2 * n)), "sigma": sigma / math.sqrt(2 * n)}
    _finite(name, est, se)
    table = pd.DataFrame({"estimate": list(est.values()), "std_err": list(se.values())},
                         index=pd.Index(list(est), name="parameter"))
    diffusion = CalibrationResult(
        "gbm", table, name=name, method="GBM, exact MLE (normal log returns)", n_obs=n,
        start=s.index[0], end=s.index[-1], dt=step, periods_per_year=1.0 / step,
        loglik=-0.5 * n * (math.log(2.0 * math.pi * v) + 1.0), n_params=2,
    )
    diffusion._refit = ("gbm", s, {"dt": step})
    if not jumps:
        return diffusion
    raw = _core.calibrate_gbm_jumps(np.ascontiguousarray(s.to_numpy(dtype=np.float64)), step, max_jumps)
    est = dict(zip(GBM_PARAMS, map(float, raw["params"])))
    se = dict(zip(GBM_PARAMS, map(float, raw["std_errs"])))
    _finite(name, est, se)
    notes = []
    at_bound = [p for p, b in zip(GBM_PARAMS, raw["at_bound"]) if b]
    for p in at_bound:
        why = {
            "lambda": "no jumps the data show, or too many to tell from the diffusion; use the diffusion fit, "
                      "jumps=False",
            "sigma_j": "the jumps are all of about one size, μ_J (σ_J → 0), and σ_J's standard error does not hold",
        }.get(p, "no interior maximum")
        notes.append(f"{p} ended on the edge of the search region: {why}")
    if not raw["hessian_ok"]:
        zero = float(np.mean(np.diff(x) == 0.0))
        sticky = (f"; {zero:.0%} of the returns are exactly zero, as in sticky quoted prices, on which the "
                  "mixture likelihood has no maximum (σ → 0 on the ties, the jumps explaining every move)"
                  if zero >= STICKY_SHARE else "")
        notes.append(f"the observed information is not positive definite: standard errors are NaN{sticky}")
    if not raw["converged"]:
        notes.append(f"the optimiser stopped after {raw['evaluations']} evaluations without meeting its tolerance")
    result = CalibrationResult(
        "gbm_jumps",
        pd.DataFrame({"estimate": list(est.values()), "std_err": list(se.values())},
                     index=pd.Index(list(est), name="parameter")),
        name=name, method="GBM with compensated Merton jumps, mixture likelihood of the log returns, penalised MLE",
        n_obs=n, start=s.index[0], end=s.index[-1], dt=step, periods_per_year=1.0 / step,
        loglik=float(raw["loglik"]), n_params=5, diffusion=diffusion, notes=notes,
        extra={"evaluations": raw["evaluations"], "converged": raw["converged"], "at_bound": at_bound,
               "hessian_ok": raw["hessian_ok"]},
    )
    result._refit = ("gbm", s, {"jumps": True, "dt": step, "max_jumps": max_jumps})
    return _warn_notes(result, "gbm")


def _kendall_note(b: float, n: int, dt: float, kappa: float) -> str | None:
    """The note on κ's small-sample bias, if it is 10% or more.

    The OLS estimate b of an AR(1) coefficient with an estimated mean is biased
    down by about (1 + 3b)/n in n steps (Kendall 1954; Marriott & Pope 1954), so
    κ = −ln b/Δ reads high: by about 4/(κT) of itself over T years. The
    corrected coefficient b + (1 + 3b)/n gives the κ the note quotes.
    """
    shift = (1.0 + 3.0 * b) / n
    bc = b + shift
    head = (
        f"κ = {kappa:.3g} per year reads high in {n} steps: Kendall's (1954) correction of the "
        f"AR coefficient for its small-sample bias, b + (1 + 3b)/n = {b:.4f} + {shift:.4f}"
    )
    if bc >= 1.0:
        return f"{head} ≥ 1, cannot exclude a random walk; read κ as an upper estimate, or fit a longer window"
    corrected = -math.log(bc) / dt
    if corrected > 0.9 * kappa:
        return None
    return f"{head}, gives κ ≈ {corrected:.3g}; read κ as an upper estimate, or fit a longer window"


def _unit_root_note(s: pd.Series) -> str | None:
    """The note when the levels cannot reject a random walk in logs at 5%, or None.

    The Dickey–Fuller test (1979, no augmentation lags): τ = (b − 1)/SE(b) of the OLS fit
    ln X_t = a + b ln X_{t−1} + e_t, against MacKinnon's (2010, table 2, one variable
    with a constant) response surface for the 5% critical value in T steps,
    −2.86154 − 2.8903/T − 4.234/T² − 40.040/T³. Under a random walk κ's t-statistic
    is not normal: κ/SE exceeds 2 in about a quarter of random walks.
    """
    x = np.log(s.to_numpy(dtype=float))
    y, z = x[1:] - x[1:].mean(), x[:-1] - x[:-1].mean()
    t = len(y)
    szz = float(z @ z)
    if t < 3 or not szz > 0:
        return None
    b = float(z @ y) / szz
    resid = y - b * z
    se = math.sqrt(float(resid @ resid) / (t - 2) / szz)
    if not se > 0:
        return None
    tau = (b - 1.0) / se
    critical = -2.86154 - 2.8903 / t - 4.234 / t**2 - 40.040 / t**3
    if tau < critical:
        return None
    return (f"the data cannot reject a random walk at 5%: Dickey–Fuller τ = {tau:.2f} against {critical:.2f} "
            f"in {t} steps (MacKinnon 2010); κ's standard error is no test of mean reversion (a random walk "
            "gives κ/SE > 2 about a quarter of the time), so the mean reversion is the model's, not the data's")


_WARNING_NOTES = ("edge of the search region", "not positive definite", "without meeting its tolerance",
                  "too slow to identify", "cannot exclude a random walk")
"""Marks of the notes that make a fit doubtful (no interior maximum, NaN standard errors,
no convergence, mean reversion too slow for the data to show, or a random walk the
data cannot exclude): :func:`log_ou` also raises them as a ``RuntimeWarning``."""


def _warn_notes(result: CalibrationResult, fitter: str = "log_ou") -> CalibrationResult:
    for note in result.notes:
        if any(mark in note for mark in _WARNING_NOTES):
            warn(f"{fitter}: {note}", RuntimeWarning)
    return result


# ============================================================================ betas
def _aligned(
    asset_returns: Any, factor_returns: Any, align: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    if not isinstance(align, str) or align not in ("exact", "inner"):
        raise invalid("align", f"must be 'exact' or 'inner', got {align!r}")
    a = _numeric_frame(asset_returns, "asset_returns")
    f = _numeric_frame(factor_returns, "factor_returns")
    if str(a.index.tz) != str(f.index.tz):
        raise invalid(
            "factor_returns",
            f"dates are in time zone {f.index.tz} and asset_returns' in {a.index.tz}: use one",
        )
    if align == "exact":
        if not a.index.equals(f.index):
            n = min(len(a), len(f))
            diff = np.flatnonzero(a.index[:n] != f.index[:n])
            where = (
                f"first difference at row {diff[0]}: "
                f"{a.index[diff[0]].date()} vs {f.index[diff[0]].date()}"
                if diff.size
                else f"{len(a)} vs {len(f)} rows"
            )
            raise invalid(
                "factor_returns",
                f"index does not match asset_returns ({where}); align them, or pass align='inner' "
                "to use the dates both share",
            )
    else:
        idx = a.index.intersection(f.index)
        if len(idx) < MIN_OBS:
            raise invalid(
                "factor_returns",
                f"shares only {len(idx)} dates with asset_returns (need {MIN_OBS})",
            )
        a, f = a.loc[idx], f.loc[idx]
    vals = np.hstack([a.to_numpy(), f.to_numpy()])
    names = [f"asset_returns.{c}" for c in a.columns] + [f"factor_returns.{c}" for c in f.columns]
    ok = ~np.isnan(vals)
    rows = ok.all(axis=1)
    if not rows.any():
        raise invalid(
            "asset_returns",
            "no date has a value in every column of asset_returns and factor_returns",
        )
    first, last = int(np.argmax(rows)), len(rows) - 1 - int(np.argmax(rows[::-1]))
    inner = ok[first : last + 1]
    if not inner.all():
        r, c = np.argwhere(~inner)[0]
        arg, col = names[c].split(".", 1)
        raise invalid(
            f"{arg}.{col}",
            f"is missing on {a.index[first + r].date()} between "
            "valid values (NaN is dropped only at "
            "the start and the end; fill or drop it explicitly)",
        )
    return a.iloc[first : last + 1], f.iloc[first : last + 1]


def factor_betas(
    asset_returns: pd.DataFrame | pd.Series,
    factor_returns: pd.DataFrame | pd.Series,
    *,
    newey_west: bool = False,
    lags: int | None = None,
    periods_per_year: float | None = None,
    align: str = "exact",
) -> CalibrationResult:
    """OLS betas of each asset's returns on the factor returns (with an intercept).

    β = (ZᵀZ)⁻¹Zᵀy with z_t = (1, f_t); classical errors s²(ZᵀZ)⁻¹ with
    s² = SSR/(n − k); Newey–West (Bartlett kernel, no small-sample
    correction) errors optionally. The asset model of MODEL.md §5 uses
    monthly *log* returns of assets on log changes of the factors.

    Parameters
    ----------
    asset_returns
        Returns, one column per asset (a Series counts as one asset), DatetimeIndex.
    factor_returns
        Returns of the factors, one column each, DatetimeIndex.
    newey_west
        Add ``std_err_nw``, the Newey–West (1987) HAC standard errors.
    lags
        Newey–West lags; default ⌊4 (n/100)^{2/9}⌋.
    periods_per_year
        Annualisation of the residual volatility; default from the dates
        (daily 252, or 365.25·5/7 when a year or so of dates holds every weekday,
        holidays filled in, or 365.25 per day of spacing with weekends in the index; weekly 52,
        monthly 12, quarterly 4, annual 1; over 90 days or more the dates must number
        that many a year within 10% or 1.5 dates, else it must be given).
    align
        ``"exact"``: the two indexes must be equal (else ConfigError);
        ``"inner"``: use the dates both have. Then rows at the start or end
        where any column is NaN (e.g. from ``pct_change``) are dropped; a NaN in
        between is an error.

    Returns
    -------
    CalibrationResult
        ``table`` indexed by (asset, parameter) with parameters ``alpha``,
        one beta per factor column, and ``vol`` (annualised residual
        volatility, std. error vol/sqrt(2(n − k))); ``fit_stats`` per asset.

    Examples
    --------
    >>> import numpy as np, pandas as pd, geoscenario as gs
    >>> idx = pd.date_range("2015-01-01", periods=120, freq="MS")
    >>> rng = np.random.default_rng(0)
    >>> f = pd.DataFrame({"global_equity": rng.normal(0, 0.04, 120)}, index=idx)
    >>> y = (1.2 * f["global_equity"] + rng.normal(0, 0.02, 120)).rename("fert")
    >>> fit = gs.calibrate.factor_betas(y, f, newey_west=True)
    >>> round(float(fit.params["fert", "global_equity"]), 1)
    1.2
    """
    if not isinstance(newey_west, (bool, np.bool_)):
        raise invalid("newey_west", f"must be True or False, got {newey_west!r}")
    a, f = _aligned(asset_returns, factor_returns, align)
    names = [str(c) for c in f.columns]
    for c in names:
        if c in ("alpha", "vol") or names.count(c) > 1:
            raise invalid(
                f"factor_returns.{c}",
                "names a row of the table twice (factor names must be distinct and not 'alpha' or 'vol'): rename it",
            )
    assets = [str(c) for c in a.columns]
    for c in assets:  # 1 and "1" are one name in the table
        if assets.count(c) > 1:
            raise invalid(f"asset_returns.{c}", "names a row of the table twice (asset names must be distinct as text): rename it")
    for c in a.columns:
        col = a[c].to_numpy()
        if (col == col[0]).all():
            raise invalid(f"asset_returns.{c}", "is constant: there is no variation for the factors to explain")
    for arg, frame in (("asset_returns", a), ("factor_returns", f)):
        typical = frame.abs().median()
        for c in typical.index[typical.to_numpy(dtype=float) > 1.0]:
            warn(f"{arg}.{c}: its median size is {typical[c]:.4g}, a move of over 100% a period: these look "
                 "like price levels or percentages, not returns (log returns as fractions, 0.01 for 1%)")
    n = len(a)
    ppy = _periods_per_year(a.index, "asset_returns", periods_per_year)
    nw_lags = None
    if newey_west:
        if lags is None:
            nw_lags = int(_core.newey_west_lags(n))
        else:
            nw_lags = _validate.integer("lags", lags, 0, n - 1)
    elif lags is not None:
        raise invalid("lags", "applies only with newey_west=True")
    # the regressors in one order (by name) whatever the order of the columns, so that
    # the estimates' bits do not depend on it; the table keeps the order given
    order = sorted(range(len(names)), key=lambda i: names[i])
    # copies (the core reads them with the GIL released; the factors' by the reordering)
    raw = _core.calibrate_ols(
        _validate.owned(a.to_numpy(dtype=np.float64)),
        np.ascontiguousarray(f.to_numpy(dtype=np.float64)[:, order]), nw_lags,
    )
    back = [0, *(1 + np.argsort(order))]  # alpha, then the factors in the order given
    raw = {**raw, **{key: np.asarray(raw[key])[:, back] for key in ("coef", "std_err", "std_err_nw")
                     if raw.get(key) is not None}}
    k = f.shape[1] + 1
    params = ["alpha", *[str(c) for c in f.columns]]
    rows = []
    vol = np.asarray(raw["resid_std"]) * math.sqrt(ppy)
    for j, asset in enumerate(a.columns):
        _finite(str(asset), {**dict(zip(params, raw["coef"][j])), "vol": vol[j]},
                dict(zip(params, raw["std_err"][j])))
        for i, p in enumerate(params):
            row = {
                "asset": str(asset),
                "parameter": p,
                "estimate": raw["coef"][j, i],
                "std_err": raw["std_err"][j, i],
            }
            if nw_lags is not None:
                row["std_err_nw"] = raw["std_err_nw"][j, i]
            rows.append(row)
        vrow = {
            "asset": str(asset),
            "parameter": "vol",
            "estimate": vol[j],
            "std_err": vol[j] / math.sqrt(2.0 * (n - k)),
        }
        if nw_lags is not None:
            vrow["std_err_nw"] = np.nan
        rows.append(vrow)
    table = pd.DataFrame(rows).set_index(["asset", "parameter"])
    stats = pd.DataFrame(
        {"r2": raw["r2"], "resid_std": raw["resid_std"], "vol": vol, "n_obs": n},
        index=pd.Index([str(c) for c in a.columns], name="asset"),
    )
    method = "OLS betas" + (
        f", Newey–West errors with {nw_lags} lags" if nw_lags is not None else ""
    )
    result = CalibrationResult(
        "factor_betas",
        table,
        name=", ".join(map(str, a.columns)),
        method=method,
        n_obs=n,
        start=a.index[0],
        end=a.index[-1],
        periods_per_year=ppy,
        fit_stats=stats,
        extra={"nw_lags": nw_lags, "factors": [str(c) for c in f.columns]},
    )
    result._refit = ("factor_betas", (a.copy(), f.copy()),
                     {"newey_west": nw_lags is not None, "lags": nw_lags, "periods_per_year": ppy})
    return result


# ============================================================================ world
def _warn_reordered(in_force: pd.DataFrame, factor: str, scen: str, names: Sequence[str], param: str,
                    rows: list[dict[str, Any]]) -> None:
    """Warn when the fitted level ``param`` of ``scen`` (θ, or a gbm's g: where the scenario
    takes the factor) crosses the value another scenario sets for itself: the two
    scenarios' order is then reversed."""
    new = next(r["new"] for r in rows if r["parameter"] == f"scenarios.{scen}.{factor}.{param}")
    old = float(in_force.at[(scen, factor, param), "value"])
    crossed = [f"{other}'s {v:.4g}" for other in names if other != scen
               and in_force.at[(other, factor, param), "source"] == "given"
               and (old - (v := float(in_force.at[(other, factor, param), "value"]))) * (new - v) < 0]
    if crossed:
        label = "θ" if param == "theta" else param
        warn(f"{factor}: the fitted {label} of {scen} ({old:.4g} → {new:.4g}) crosses {' and '.join(crossed)}: "
             f"the scenarios' order is reversed, the others keeping their own values; to keep the order, "
             f"revise them with with_params")


def _warn_inherited_drift(world: World, factor: str, base: str, rows: list[dict[str, Any]],
                          inherited: list[dict[str, Any]], step: float) -> None:
    """Warn when scenarios that set their own θ inherit the base's new jumps: a log-OU
    factor does not compensate them (MODEL.md §3), so they move those scenarios' long-run
    level by e^{λΔμ_J/(1 − e^{−κΔ})}, which the change table does not show (a logit-OU
    factor's odds move so, and its level, the odds' y·scale/(1 + y), by less)."""
    new = {r["parameter"]: r["new"] for r in rows + inherited}
    in_force = world.parameters()
    kind = world.kinds[factor]
    scale = world.to_dict()["factors"][factor].get("scale") if kind == "logit_ou" else None

    def moved_level(theta: float, drift: float) -> float:
        """The long-run level's change, θ → θ·e^drift (of the odds, for a logit-OU factor)."""
        if scale is None:
            return math.expm1(drift)
        odds = theta / (scale - theta) * math.exp(drift)
        return scale * odds / (1.0 + odds) / theta - 1.0

    def value(p: str, scenario: str) -> float:  # in force after the calibration
        path = f"scenarios.{scenario}.{factor}.{p}"
        return float(new[path]) if path in new else float(in_force.at[(scenario, factor, p), "value"])

    moved = []
    for other in world.scenario_names:
        if other == base or in_force.at[(other, factor, "theta"), "source"] != "given":
            continue
        if f"scenarios.{other}.{factor}.mu_j" not in new and f"scenarios.{other}.{factor}.lambda" not in new:
            continue  # its jumps are its own
        kappa, lam, mu_j = value("kappa", other), value("lambda", other), value("mu_j", other)
        drift = lam * step * mu_j / -math.expm1(-kappa * step) if kappa > 0 else math.inf * mu_j
        if abs(drift) > 0.01:
            moved.append(f"{other} {moved_level(value('theta', other), drift):+.0%}" if math.isfinite(drift)
                         else f"{other} (κ = 0: a drift)")
    if moved:
        name = "a logit-OU factor does not compensate (they move its odds)" if scale is not None else \
            "a log-OU factor does not compensate"
        warn(f"{factor}: scenarios that set their own θ inherit the fitted jumps (λ {value('lambda', base):.3g}, "
             f"μ_J {value('mu_j', base):.3g}), which {name}: their long-run level "
             f"moves by {', '.join(moved)} from θ; set their mu_j (or θ) if θ is the long-run level they mean")


def calibrate_world(
    world: World,
    levels: pd.Series | None = None,
    asset_returns: pd.DataFrame | pd.Series | None = None,
    factor_returns: pd.DataFrame | None = None,
    *,
    potash: pd.Series | None = None,
    scenario: str | None = None,
    factor: str | None = None,
    jumps: bool | None = None,
    mean_reversion: str = "ar1",
    fixed: Mapping[str, float] | None = None,
    dt: float | None = None,
    max_jumps: int = 10,
    newey_west: bool = False,
    lags: int | None = None,
    periods_per_year: float | None = None,
    align: str = "exact",
) -> CalibratedWorld:
    """A world whose factor and asset parameters come from history (see :meth:`World.calibrated`).

    Parameters
    ----------
    world
        The world to start from.
    levels
        Level series of the factor ``factor`` (default ``"potash_spot"``). A ``log_ou`` factor: :func:`log_ou`
        sets ``scenarios.<scenario>.<factor>.{theta, kappa, sigma, lambda, mu_j,
        sigma_j}`` (without jumps λ = μ_J = σ_J = 0); a ``logit_ou`` factor the same
        by :func:`logit_ou`, with the factor's scale. A ``gbm`` factor: :func:`gbm`
        sets ``{g, sigma, lambda, mu_j, sigma_j}`` (its jumps compensated, so they
        leave E[X_t] = X₀e^{gt}; without jumps λ = μ_J = σ_J = 0).
    asset_returns, factor_returns
        Returns whose columns are named after the world's assets and factors
        (log returns, as MODEL.md §5): :func:`factor_betas` sets every
        ``assets.<asset>.betas.<factor>`` (betas on factors absent from
        ``factor_returns`` become 0) and ``assets.<asset>.vol`` (annualised
        residual volatility). The intercept is not part of the model and is
        only reported in ``fits["betas"]``.
    potash
        The former name of ``levels``, still accepted (give one of the two).
    scenario
        Scenario whose parameters of ``factor`` change (default: the base scenario).
    factor
        Name of the ``log_ou``, ``logit_ou`` or ``gbm`` factor ``levels`` calibrates
        (any factor of those kinds in a world of your own); default ``"potash_spot"``.
    jumps
        None (the default): fit the jumps, and keep them only if they beat the
        diffusion (standard errors that exist, the higher likelihood and AIC, and a
        likelihood-ratio test at 5%, χ²₃, conservative as λ = 0 is on the boundary); else the diffusion fit is
        used, with a warning, and the jump fit is in ``fits["potash_jumps"]``; with
        ``fixed``, whose values only the jump fit holds, the jump fit is kept.
        True: keep the jump fit; False: fit the diffusion. The same for a ``gbm``
        factor, by :func:`gbm`.
    mean_reversion
        As in :func:`log_ou`; the default ``"ar1"`` keeps κ and the long-run mean of
        ln X at the AR(1) MLE (least squares on the logs), robust to the sticky World Bank
        quotes.
    fixed, dt, max_jumps
        As in :func:`log_ou`: parameters held at given values, the time step in
        years (for an irregular index), the most jumps per step in the likelihood.
    newey_west, lags, periods_per_year, align
        As in :func:`factor_betas`; with ``newey_west`` the change table's
        ``std_err`` is the Newey–West one.

    Returns
    -------
    CalibratedWorld
        Unpacks as ``(world, changes)``.

    Examples
    --------
    >>> import geoscenario as gs
    >>> new, changes = gs.calibrate.calibrate_world(
    ...     gs.World.default(), levels=gs.data.potash_monthly("2010-01", "2025-01"))
    >>> round(float(changes.loc["scenarios.base.potash_spot.kappa", "new"]), 2)
    0.39
    """
    from .world import World

    if not isinstance(world, World):
        raise invalid("world", f"must be a geoscenario.World, got {type(world).__name__}")
    arg = "levels"  # the argument's name in messages: the one the caller used
    if potash is not None:
        if levels is not None:
            raise invalid("potash", "is the former name of levels: give one of the two")
        levels, arg = potash, "potash"
    if levels is None and asset_returns is None and factor_returns is None:
        raise invalid(
            "levels", "nothing to calibrate: give levels=, or asset_returns= with factor_returns="
        )
    if jumps is not None and not isinstance(jumps, (bool, np.bool_)):
        raise invalid("jumps", f"must be True, False or None (True for log-OU factors), got {jumps!r}")
    if not isinstance(mean_reversion, str) or mean_reversion not in ("joint", "ar1"):
        raise invalid("mean_reversion", f"must be 'joint' or 'ar1', got {mean_reversion!r}")
    _validate.integer("max_jumps", max_jumps, 1, 50)
    if (asset_returns is None) != (factor_returns is None):
        missing = "factor_returns" if factor_returns is None else "asset_returns"
        raise invalid(missing, "asset betas need both asset_returns and factor_returns")
    d = world.to_dict()
    names = world.scenario_names
    base = names[world._core.base_scenario]
    scen = base if scenario is None else scenario
    if scen not in names:
        raise invalid("scenario", f"{scen!r} is not a scenario ({', '.join(names)})")

    is_gbm = False  # the level series calibrates a gbm factor
    rows: list[dict[str, Any]] = []  # parameters set in the new world
    unit_warned = False  # the level series looks like another unit than the factor's
    inherited: list[dict[str, Any]] = []  # parameters that follow a changed base value
    fits: dict[str, CalibrationResult] = {}

    if levels is not None:
        kinds = world.kinds
        fitted_kinds = ("log_ou", "logit_ou", "gbm")
        fittable = [f for f, k in kinds.items() if k in fitted_kinds]
        which = f"(log_ou, logit_ou and gbm factors: {', '.join(fittable) or 'none'})"
        if factor is None and "potash_spot" not in kinds:
            raise invalid("factor", "the world has no factor 'potash_spot', the default: name the factor the levels "
                                    f"calibrate{f', e.g. factor={fittable[0]!r}' if fittable else ''} {which}")
        factor = "potash_spot" if factor is None else factor
        if not isinstance(factor, str) or factor not in kinds:
            raise invalid("factor", f"{factor!r} is not a factor of the world {which}")
        if kinds[factor] not in fitted_kinds:
            article = "an" if kinds[factor][0] in "aeiou" else "a"
            raise invalid("factor", f"{factor!r} is {article} {kinds[factor]} factor; a level series calibrates "
                                    f"a log_ou, logit_ou or gbm factor ({', '.join(fittable) or 'none'})")
        is_gbm = kinds[factor] == "gbm"
        if is_gbm and fixed is not None:
            raise invalid("fixed", f"applies to log_ou and logit_ou factors; {factor!r} is a gbm factor")
        ou_args: dict[str, Any] = {"jumps": True if jumps is None else jumps, "mean_reversion": mean_reversion,
                   "fixed": fixed, "dt": dt, "max_jumps": max_jumps}
        with warnings.catch_warnings(record=True) as caught:  # said below, for the fit kept
            warnings.simplefilter("always")
            try:
                if is_gbm:
                    fit = gbm(levels, jumps=ou_args["jumps"], dt=dt, max_jumps=max_jumps)
                elif kinds[factor] == "logit_ou":
                    fit = logit_ou(levels, d["factors"][factor].get("scale", 1.0), **ou_args)
                else:
                    fit = log_ou(levels, **ou_args)
            except ConfigError as e:  # log_ou names its argument `series`; here it is `levels`
                if e.path != "series" and not e.path.startswith("series."):
                    raise
                rule = str(e).removeprefix(f"{e.path}: ")
                raise invalid(arg + e.path.removeprefix("series"), rule) from None
            except NumericalError as e:
                if not str(e).startswith("series:"):
                    raise
                raise NumericalError(arg + str(e).removeprefix("series")) from None
        # jumps not asked for are kept only if the likelihood-ratio test prefers them (or
        # if parameters are held, which only the jump fit holds)
        held = fixed is not None and len(fixed) > 0  # (a dict or a Series)
        if jumps is None and not held and fit.diffusion is not None and not _jumps_pass(fit):
            rejected, fit = fit, fit.diffusion
            fits["potash_jumps"] = rejected
            caught = [w for w in caught if any(n in str(w.message) for n in fit.notes)]
            lr = rejected.likelihood_ratio
            k = rejected.n_params - fit.n_params
            test = f", χ²{_CHI2[k]} p = {_chi2_sf(lr, k):.2g}" if k in _CHI2 and _nested(rejected) else ""
            why = (f"does not beat the diffusion (LR = {lr:.2f}{test})" if rejected.extra.get("hessian_ok", True)
                   else f"is no maximum with standard errors ({next(n for n in rejected.notes if 'definite' in n)})")
            warn(f"{factor}: the jump fit {why}: the diffusion fit is used (λ = μ_J = σ_J = 0); pass jumps=True "
                 "to keep the jumps")
        for w in caught:
            warn(str(w.message), w.category)
        fits["potash"] = fit
        if not is_gbm:  # (a gbm fit reads returns, which have no unit)
            # today's level far outside every level of the data: a series in another unit or
            # scale, likely (a window that ends far from today, a crisis's, stays within)
            lv = _levels(levels, arg)
            lo, hi, initial = float(lv.min()), float(lv.max()), float(d["factors"][factor]["initial"])
            side, edge = ("above the highest", hi) if initial > hi else ("below the lowest", lo)
            if max(initial / hi, lo / initial) > UNIT_MISMATCH:
                unit_warned = True
                warn(f"{factor}: its initial level, {initial:.4g}, is {max(initial / hi, lo / initial):.3g} times "
                     f"{side} level of the data ({edge:.4g}): θ = {float(fit.params['theta']):.4g} is in the "
                     "data's unit; is the series in another unit or scale?")
        in_force = world.parameters()
        for p in GBM_PARAMS if is_gbm else PARAMS:
            if p in fit.table.index:
                new, se = float(fit.table.at[p, "estimate"]), float(fit.table.at[p, "std_err"])
            else:
                new, se = 0.0, float("nan")  # a pure diffusion: no jumps
            rows.append(
                {
                    "parameter": f"scenarios.{scen}.{factor}.{p}",
                    "old": float(in_force.at[(scen, factor, p), "value"]),
                    "new": new,
                    "std_err": se,
                    "source": fit.method,
                }
            )
            if scen != base:
                continue
            # scenarios that do not set p take the base's value: it changes for them too
            for other in names:
                # a scenario that inherits the base's value, or the default that the base
                # now overrides (an optional jump parameter nobody set), follows the new base
                source, old = in_force.at[(other, factor, p), "source"], float(in_force.at[(other, factor, p), "value"])
                if other != base and (source == "base" or (source == "default" and new != old)):
                    inherited.append(
                        {
                            "parameter": f"scenarios.{other}.{factor}.{p}",
                            "old": old,
                            "new": new,
                            "std_err": se,
                            "source": f"inherited from scenarios.{base}",
                        }
                    )
        _warn_reordered(in_force, factor, scen, names, "g" if is_gbm else "theta", rows)
        if not is_gbm and scen == base:
            _warn_inherited_drift(world, factor, base, rows, inherited, float(fit.dt or 0.0))

    if asset_returns is not None:
        assets = world.assets
        factors = [n for n, k in world.kinds.items() if k not in ("strategy", "spread", "discount")]
        a_cols = (
            [asset_returns.name]
            if isinstance(asset_returns, pd.Series)
            else list(getattr(asset_returns, "columns", []))
        )
        for c in a_cols:
            if c not in assets:
                raise invalid(
                    f"asset_returns.{c}", f"is not an asset of the world ({', '.join(assets)})"
                )
        f_cols = (
            [factor_returns.name]
            if isinstance(factor_returns, pd.Series)
            else list(getattr(factor_returns, "columns", []))
        )
        for c in f_cols:
            if c is None:
                raise invalid("factor_returns", "a Series must be named after the factor it holds")
            if c not in factors:
                raise invalid(
                    f"factor_returns.{c}", f"is not a factor of the world ({', '.join(factors)})"
                )
        fit = factor_betas(
            asset_returns,
            factor_returns,
            newey_west=newey_west,
            lags=lags,
            periods_per_year=periods_per_year,
            align=align,
        )
        fits["betas"] = fit
        se_col = "std_err_nw" if newey_west else "std_err"
        for asset in fit.fit_stats.index:  # type: ignore[union-attr]
            old_betas = dict(d["assets"][asset].get("betas", {}))
            fitted = fit.extra["factors"]
            for fname in [*fitted, *[f for f in old_betas if f not in fitted]]:
                if fname in fitted:
                    new, se = (
                        float(fit.table.at[(asset, fname), "estimate"]),
                        float(fit.table.at[(asset, fname), se_col]),
                    )
                else:
                    new, se = 0.0, float("nan")
                rows.append(
                    {
                        "parameter": f"assets.{asset}.betas.{fname}",
                        "old": float(old_betas.get(fname, 0.0)),  # an unlisted beta is 0
                        "new": new,
                        "std_err": se,
                        "source": fit.method,
                    }
                )
            rows.append(
                {
                    "parameter": f"assets.{asset}.vol",
                    "old": float(d["assets"][asset].get("vol", 0.0)),
                    "new": float(fit.table.at[(asset, "vol"), "estimate"]),
                    "std_err": float(fit.table.at[(asset, "vol"), "std_err"]),
                    "source": fit.method,
                }
            )

    try:
        with warnings.catch_warnings():
            if unit_warned:  # (said above: not again as the world's config warning)
                warnings.filterwarnings("ignore", f"factor {re.escape(str(factor))}: the long-run level theta")
            new_world = world.with_params({r["parameter"]: r["new"] for r in rows})
    except ConfigError as e:  # an estimate the world cannot take: say where it came from
        row = next((r for r in rows if r["parameter"] == e.path), None)
        if row is None:
            raise
        if not e.path.startswith("scenarios."):
            hint = "check that the returns are log returns per period, not percentages"
        elif is_gbm:
            hint = "give a longer history"
        else:
            hint = ("hold κ and the mean at the AR(1) fit with mean_reversion='ar1', " if mean_reversion != "ar1"
                    else "") + "fix parameters with fixed=, or give a longer history"
        # (the rule without its percent hint: an estimate is no percent typed by mistake)
        rule = str(e).removeprefix(f"{e.path}: ").split("; did you mean")[0]
        raise invalid(e.path, f"the fit ({row['source']}) estimates it outside the world's range: "
                      f"{rule}; {hint}") from None
    changes = pd.DataFrame(rows + inherited).set_index("parameter")
    return CalibratedWorld(new_world, changes, fits)
