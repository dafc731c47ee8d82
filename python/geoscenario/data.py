"""Real market series shipped with geoscenario (see ``data/README.md`` for sources and licences).

The files are read from the installed package with :mod:`importlib.resources`,
never from the working directory.

Examples
--------
>>> import geoscenario as gs
>>> s = gs.data.potash_monthly("2010-01", "2025-01")
>>> s.name, len(s), s.index.freqstr
('potash_usd_t', 181, 'MS')
"""

from __future__ import annotations

import datetime
from importlib import resources

import numpy as np
import pandas as pd

from .errors import invalid

__all__ = ["equities_daily", "fertilizer_prices_monthly", "potash_monthly"]

_FERTILIZERS = "worldbank_pink_sheet_fertilizers_monthly.csv"
_EQUITIES = "equities_daily_2018_2024.csv"


def _read(name: str) -> pd.DataFrame:
    with resources.files("geoscenario").joinpath("data").joinpath(name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh)


def _bound(arg: str, value: str | datetime.date | np.datetime64) -> pd.Timestamp:
    """A slice bound as a zone-free timestamp (the data are dated in local market time).

    A date string stands for its whole period, as in pandas' partial-string indexing: a
    start is the period's first instant and an end its last, so ``"2010"``,
    ``"2010/06"``, ``"Jun 2010"`` and ``"2010Q2"`` keep all of their year, month or
    quarter; so does a ``pandas.Period``. A date, a timestamp or a word such as
    ``"today"`` is that instant.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind == "M":
        value = value[()]  # a 0-d datetime64 array is its date
    # a number would be read as nanoseconds since 1970: only dates and date strings
    if not isinstance(value, (str, datetime.date, np.datetime64, pd.Period)):
        raise invalid(arg, f"must be a date such as '2010-01', got {value!r}")
    bad = f"must be a date such as '2010-01' (years 1679–2260), got {value!r}"
    ts: pd.Timestamp | None = None

    def edge(period: pd.Period) -> pd.Timestamp:
        try:  # (pandas 2 gives a period's edges in nanoseconds, which end in 2262)
            return period.start_time if arg == "start" else period.end_time
        except (OverflowError, ValueError):  # OutOfBoundsDatetime is a ValueError
            raise invalid(arg, bad) from None

    if isinstance(value, pd.Period):
        ts = edge(value)
    elif isinstance(value, str):
        try:
            period = pd.Period(value.strip())
        except (TypeError, ValueError):  # DateParseError and OutOfBoundsDatetime are ValueErrors
            period = None
        if period is pd.NaT:  # "", "NaT", "nan"
            raise invalid(arg, bad)
        if period is not None:
            ts = edge(period)
    if ts is None:
        try:
            ts = pd.Timestamp(value)
        except (TypeError, ValueError):
            raise invalid(arg, bad) from None
    if ts is pd.NaT or not 1678 < ts.year < 2261:
        raise invalid(arg, bad)
    return ts.tz_localize(None)


def _slice(obj, start: str | pd.Timestamp | None, end: str | pd.Timestamp | None):
    stamps = [None if v is None else _bound(arg, v) for arg, v in (("start", start), ("end", end))]
    out = obj.loc[stamps[0] : stamps[1]]
    if len(out) == 0 and len(obj) > 0:  # an empty table is a mistake, not a result
        first, last = obj.index[0], obj.index[-1]
        cover = f"the data cover {first:%Y-%m-%d} … {last:%Y-%m-%d}"
        if stamps[0] is not None and stamps[1] is not None and stamps[0] > stamps[1]:
            raise invalid("end", f"{end!r} is before start {start!r}")
        arg = "end" if start is None or len(obj.loc[stamps[0] :]) > 0 else "start"
        raise invalid(arg, f"no data from {start!r} to {end!r}: {cover}")
    return out


def fertilizer_prices_monthly(
    start: str | pd.Timestamp | None = None, end: str | pd.Timestamp | None = None
) -> pd.DataFrame:
    """World Bank Pink Sheet fertilizer prices, monthly averages, nominal USD.

    Parameters
    ----------
    start, end
        Optional first and last month to keep (inclusive), e.g. ``"2010-01"``; a string
        keeps its whole period, as pandas' partial-string indexing does (``"2010"``,
        ``"2010Q2"``, ``"Jun 2010"``).

    Returns
    -------
    pandas.DataFrame
        Index ``month`` (month-start ``DatetimeIndex``, ``freq="MS"``), 1960-01
        to 2025-01; columns ``potash_usd_t``, ``dap_usd_t``, ``tsp_usd_t``,
        ``urea_usd_t``, ``phosphate_rock_usd_t``, ``natural_gas_europe_usd_mmbtu``,
        ``brent_usd_bbl``, ``fertilizer_index_2010_100``; NaN where a month was
        not published.

    Examples
    --------
    >>> import geoscenario as gs
    >>> df = gs.data.fertilizer_prices_monthly()
    >>> str(df.index[0].date()), float(df.loc["2022-04-01", "potash_usd_t"])
    ('1960-01-01', 1202.0)
    """
    df = _read(_FERTILIZERS)
    idx = pd.DatetimeIndex(pd.to_datetime(df.pop("month"), format="%Y-%m"), name="month")
    df.index = idx
    df = df.astype("float64")
    df.index.freq = "MS"
    out = _slice(df, start, end)
    if len(out) > 1:
        out.index.freq = "MS"
    return out


def potash_monthly(
    start: str | pd.Timestamp | None = None, end: str | pd.Timestamp | None = None
) -> pd.Series:
    """World Bank potassium chloride (potash) spot price, USD per metric ton, monthly.

    Parameters
    ----------
    start, end
        Optional first and last month to keep (inclusive); a string keeps its whole
        period (``"2010"``, ``"2010Q2"``, ``"Jun 2010"``).

    Returns
    -------
    pandas.Series
        Name ``potash_usd_t``, month-start ``DatetimeIndex`` (``freq="MS"``).

    Examples
    --------
    >>> import geoscenario as gs
    >>> s = gs.data.potash_monthly()
    >>> float(s["2021-06-01"]), float(s["2022-04-01"])
    (462.5, 1202.0)
    """
    return fertilizer_prices_monthly(start, end)["potash_usd_t"]


def equities_daily(
    start: str | pd.Timestamp | None = None, end: str | pd.Timestamp | None = None
) -> pd.DataFrame:
    """Daily adjusted closes of fertilizer producers and SPY, 2018-01-02 to 2024-03-08.

    Parameters
    ----------
    start, end
        Optional first and last date to keep (inclusive); a string keeps its whole
        period (``"2020"``, ``"2020Q2"``, ``"2020/06"``).

    Returns
    -------
    pandas.DataFrame
        Index ``date`` (trading days, ``DatetimeIndex``); columns
        ``ntr_adj_close`` (Nutrien), ``mos_adj_close`` (Mosaic), ``cf_adj_close``
        (CF Industries), ``ipi_adj_close`` (Intrepid Potash), ``icl_adj_close``
        (ICL Group), ``spy_adj_close`` (SPDR S&P 500 ETF).

    Examples
    --------
    >>> import geoscenario as gs
    >>> px = gs.data.equities_daily()
    >>> px.shape, str(px.index[-1].date())
    ((1556, 6), '2024-03-08')
    """
    df = _read(_EQUITIES)
    df.index = pd.DatetimeIndex(pd.to_datetime(df.pop("date"), format="%Y-%m-%d"), name="date")
    return _slice(df.astype("float64"), start, end)
