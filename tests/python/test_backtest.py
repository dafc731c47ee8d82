"""gs.backtest: the Rust loop and the metrics against an independent pandas
computation on the shipped NTR/MOS/SPY prices, the documented NaN and
alignment rules, and the stress overlay."""

from __future__ import annotations

import copy
import doctest
import importlib
import math
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

import geoscenario as gs

bt_module = importlib.import_module("geoscenario.backtest")  # gs.backtest is the function

REL = 1e-9
COLS = ["ntr_adj_close", "mos_adj_close", "spy_adj_close"]
ARB = {
    "ntr_adj_close": 0.5,
    "mos_adj_close": 0.5,
    "spy_adj_close": -1.2,
}  # MODEL.md §5 commodities_arbitrage
MAPPING = {
    "ntr_adj_close": "fertilizer_producers",
    "mos_adj_close": "fertilizer_producers",
    "spy_adj_close": "global_equity",
}


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return gs.data.equities_daily()[COLS]


# ---------------------------------------------------------------------------- references
def month_end_dates(idx: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """First date, then the last trading day of each month except the final date."""
    last = pd.Series(idx, index=idx).groupby([idx.year, idx.month]).max()
    dates = pd.DatetimeIndex(sorted({idx[0], *last.tolist()} - {idx[-1]}))
    return dates


def pandas_backtest(
    px: pd.DataFrame, weights: pd.DataFrame, cost_bps: float
) -> tuple[pd.Series, pd.Series]:
    """Equity and turnover by whole holding periods: between rebalances a holding
    is h·P_t/P_{rebalance}. ``weights`` is indexed by the rebalance dates."""
    c = cost_bps / 1e4
    equity = pd.Series(np.nan, index=px.index)
    turnover = pd.Series(0.0, index=px.index)
    h = pd.Series(0.0, index=px.columns)
    cash = 1.0
    dates = list(weights.index)
    for k, d in enumerate(dates):
        pre = cash + h.sum()
        target = weights.loc[d] * pre
        traded = (target - h).abs().sum()
        cash = pre - target.sum() - c * traded
        h = target
        equity[d] = pre - c * traded
        turnover[d] = traded / pre
        end = dates[k + 1] if k + 1 < len(dates) else None
        seg = px.loc[d:end].iloc[1:]  # (d, next rebalance]
        grown = seg.div(px.loc[d]).mul(h)
        equity[seg.index] = grown.sum(axis=1) + cash
        if end is not None:
            h = grown.loc[end]
    return equity, turnover


def pandas_metrics(equity: pd.Series, periods: float, capital: float = 1.0) -> dict[str, object]:
    r = equity.pct_change().dropna()
    years = (equity.index[-1] - equity.index[0]).days / 365.25
    cagr = (equity.iloc[-1] / capital) ** (1 / years) - 1
    dd = 1 - equity / equity.cummax()
    trough = dd.idxmax()
    peak = equity.loc[:trough].idxmax()
    srt = r.sort_values()
    q = srt.iloc[math.ceil(round(0.05 * len(r), 9)) - 1]
    # expected shortfall: the worst 5% of the periods, k = 0.05·n of them, the one at the
    # edge counted for its fraction k − ⌊k⌋ (Acerbi and Tasche 2002)
    k = 0.05 * len(r)
    whole = math.floor(k)
    es = -(srt.iloc[:whole].sum() + (k - whole) * (srt.iloc[whole] if whole < len(r) else 0.0)) / k
    return {
        "cagr": cagr,
        "vol": r.std() * math.sqrt(periods),
        "sharpe": r.mean() / r.std() * math.sqrt(periods),
        "sortino": r.mean() / math.sqrt((r.clip(upper=0) ** 2).mean()) * math.sqrt(periods),
        "max_drawdown": dd.max(),
        "peak_date": peak,
        "trough_date": trough,
        "calmar": cagr / dd.max(),
        "var_95": -q,
        "cvar_95": es,
        "total_return": equity.iloc[-1] / capital - 1,
    }


def assert_metrics_equal(res: gs.BacktestResult, ref: dict[str, object]) -> None:
    for key, want in ref.items():
        got = res.metrics[key]
        if isinstance(want, pd.Timestamp):
            assert got == want, key
        else:
            assert got == pytest.approx(want, rel=REL, abs=1e-15), key


# ---------------------------------------------------------------------------- against pandas
@pytest.mark.parametrize(
    "weights, start, end",
    [
        ({"ntr_adj_close": 0.4, "mos_adj_close": 0.3, "spy_adj_close": 0.3}, None, None),
        (ARB, "2018-01-01", "2024-12-31"),  # the hedged commodities-arbitrage portfolio, 2018–2024
    ],
)
def test_backtest_and_metrics_equal_an_independent_pandas_computation(prices, weights, start, end):
    px = prices.loc[start:end]
    res = gs.backtest(px, weights, rebalance="monthly", cost_bps=10)
    dates = month_end_dates(px.index)
    assert res.rebalance_dates.equals(dates)
    w = pd.DataFrame([weights] * len(dates), index=dates)[COLS]
    equity, turnover = pandas_backtest(px, w, 10.0)
    np.testing.assert_allclose(res.equity.to_numpy(), equity.to_numpy(), rtol=REL)
    np.testing.assert_allclose(res.turnover.to_numpy(), turnover.to_numpy(), rtol=REL, atol=1e-15)
    np.testing.assert_allclose(
        res.returns.to_numpy(), equity.pct_change().dropna().to_numpy(), rtol=1e-7, atol=1e-13
    )
    assert res.periods_per_year == 252
    assert_metrics_equal(res, pandas_metrics(equity, 252))
    years = (px.index[-1] - px.index[0]).days / 365.25
    assert res.metrics["turnover"] == pytest.approx(turnover.sum() / years, rel=REL)


def test_dates_without_a_nanosecond_timestamp_are_annualised_from_their_spacing():
    # pandas 3 holds dates before 1677 or after 2262 in coarser units; their spacing gives
    # the periods per year as for any other dates
    rng = np.random.default_rng(3)
    for start, freq, periods in (("1600-01-01", "YS", 1), ("2250-01-01", "MS", 12)):
        idx = pd.date_range(start, periods=60, freq=freq, unit="s")
        px = pd.DataFrame(np.exp(np.cumsum(rng.normal(0, 0.1, (60, 2)), axis=0)), index=idx, columns=["a", "b"])
        res = gs.backtest(px, {"a": 0.5, "b": 0.5}, rebalance="never")
        assert res.periods_per_year == periods
        ref = gs.backtest(px, {"a": 0.5, "b": 0.5}, rebalance="never", periods_per_year=periods)
        assert res.metrics.equals(ref.metrics)
        f = px.pct_change().dropna()
        fit = gs.calibrate.factor_betas(f["a"], f[["b"]])
        assert fit.params.equals(gs.calibrate.factor_betas(f["a"], f[["b"]], periods_per_year=periods).params)


def test_the_dates_a_year_confirm_the_annualisation_their_spacing_suggests(prices):
    # every other trading day is 2 days apart as daily data is, but 126 a year: annualised
    # with 252, its vol came out √2 too high; Tuesdays and Thursdays looked weekly
    px = prices[["spy_adj_close"]]
    w = {"spy_adj_close": 1.0}
    for sparse in (px.iloc[::2], px.iloc[::3], px[px.index.day_of_week.isin([1, 3])]):
        with pytest.raises(gs.ConfigError, match="a year .* pass periods_per_year=") as e:
            gs.backtest(sparse, w, rebalance="never")
        assert e.value.path == "prices"
        per_year = (len(sparse) - 1) / ((sparse.index[-1] - sparse.index[0]).days / 365.25)
        res = gs.backtest(sparse, w, rebalance="never", cost_bps=0, periods_per_year=per_year)
        r = sparse["spy_adj_close"].pct_change().dropna()
        assert res.metrics["vol"] == pytest.approx(r.std() * np.sqrt(per_year), rel=1e-9)
    # a Sunday-to-Thursday week has a fifth of its dates on a weekend, yet counts business days
    idx = pd.bdate_range("2019-01-06", periods=1_000, freq="C", weekmask="Sun Mon Tue Wed Thu")
    sun_thu = pd.DataFrame({"spy_adj_close": px["spy_adj_close"].to_numpy()[:1_000]}, index=idx)
    assert gs.backtest(sun_thu, w, rebalance="never").periods_per_year == 252
    # the conventions themselves are unchanged; holidays filled forward make every weekday a
    # period, 260.9 a year (annualised by 252, their variance came out 3.4% low), but not
    # in a stretch too short to tell a weekday calendar from a market's (Paris and Frankfurt
    # trade every weekday from May to Christmas)
    filled = px.asfreq("B").ffill()
    for frame, per_year in ((px, 252), (filled, 365.25 * 5 / 7), (filled.loc["2019"], 365.25 * 5 / 7),
                            (filled.loc["2023-05-02":"2023-12-22"], 252), (px.asfreq("D").ffill(), 365.25),
                            (px.asfreq("2D").ffill(), 365.25 / 2), (px.resample("W-FRI").last(), 52),
                            (px.resample("ME").last(), 12), (px.resample("QE").last(), 4),
                            (px.iloc[:40:2], 252)):  # under 90 days: too short to count
        assert gs.backtest(frame, w, rebalance="never").periods_per_year == per_year
    # a short series missing one date is still what its spacing says (10% of 8 months is
    # under one date: a date and a half of slack)
    monthly, quarterly = px.resample("ME").last(), px.resample("QE").last()
    for frame, per_year in ((monthly.iloc[:9].drop(monthly.index[4]), 12),
                            (quarterly.iloc[:6].drop(quarterly.index[2]), 4)):
        assert gs.backtest(frame, w, rebalance="never").periods_per_year == per_year


def test_monthly_prices_use_12_periods_and_a_weights_frame(prices):
    monthly = prices.resample("ME").last()
    wdates = pd.DatetimeIndex(["2018-01-31", "2020-06-30", "2022-03-31"])
    w = pd.DataFrame(
        {
            "ntr_adj_close": [0.5, 0.8, 0.2],
            "mos_adj_close": [0.5, 0.0, 0.6],
            "spy_adj_close": [-1.0, -0.5, -0.8],
        },
        index=wdates,
    )
    res = gs.backtest(monthly, w, rebalance="quarterly", cost_bps=5)
    assert res.periods_per_year == 12
    # quarter ends, the target being the last weights row on or before each of them
    idx = monthly.index
    q = idx[((idx.month % 3 == 0) | (idx == idx[0])) & (idx != idx[-1])]
    assert res.rebalance_dates.equals(q)
    targets = w.reindex(q, method="ffill")
    equity, _ = pandas_backtest(monthly, targets, 5.0)
    np.testing.assert_allclose(res.equity.to_numpy(), equity.to_numpy(), rtol=REL)
    assert_metrics_equal(res, pandas_metrics(equity, 12))
    # on_weights (the default for a DataFrame): trade only on the weights' dates
    res2 = gs.backtest(monthly, w, cost_bps=5)
    assert res2.rebalance_dates.equals(wdates)
    equity2, _ = pandas_backtest(monthly, w, 5.0)
    np.testing.assert_allclose(res2.equity.to_numpy(), equity2.to_numpy(), rtol=REL)


def test_frequencies_and_buy_and_hold(prices):
    px = prices.loc["2019-01-01":"2019-12-31"]
    weekly = gs.backtest(px, ARB, rebalance="weekly", cost_bps=0)
    assert len(weekly.rebalance_dates) == px.index.to_period("W").nunique()
    hold = gs.backtest(px, {"ntr_adj_close": 1.0}, rebalance="never", cost_bps=0)
    np.testing.assert_allclose(
        hold.equity.to_numpy(),
        (px["ntr_adj_close"] / px["ntr_adj_close"].iloc[0]).to_numpy(),
        rtol=1e-13,
    )
    daily = gs.backtest(px, {"ntr_adj_close": 1.0}, rebalance="daily", cost_bps=0)
    np.testing.assert_allclose(daily.equity.to_numpy(), hold.equity.to_numpy(), rtol=1e-12)
    assert len(daily.rebalance_dates) == len(px) - 1
    assert hold.metrics["costs"] == 0.0 and hold.metrics["turnover"] > 0  # the initial trade


def test_result_objects(prices):
    res = gs.backtest(prices, ARB)
    df = res.to_pandas()
    assert isinstance(df.index, pd.DatetimeIndex) and list(df.columns) == [
        "equity",
        "return",
        "turnover",
        "cost",
        "cash",
        "drawdown",
    ]
    assert np.isnan(df["return"].iloc[0]) and df["equity"].equals(res.equity)
    np.testing.assert_allclose(
        (res.positions.sum(axis=1) + res.cash).to_numpy(), res.equity.to_numpy(), rtol=1e-12
    )
    # after the first trade the holdings are w·1 and the equity 1 − costs
    np.testing.assert_allclose(
        res.weights.iloc[0].to_numpy(), np.array(list(ARB.values())) / (1 - 10e-4 * 2.2), rtol=1e-12
    )
    text = repr(res)
    assert "CAGR" in text and "max drawdown" in text and "Sharpe" in text
    assert res.metrics["max_drawdown"] == pytest.approx(res.drawdown.max(), rel=1e-12)


def test_editing_a_result_table_does_not_change_the_result(prices):
    res = gs.backtest(prices, ARB)
    final, cagr = float(res.equity.iloc[-1]), float(res.metrics["cagr"])
    with warnings.catch_warnings():  # pandas 3 warns that the edit is lost: that is the point
        warnings.simplefilter("ignore")
        equity = res.equity
        equity.iloc[-1] = 999.0
        res.weights.iloc[0, 0] = 7.0
        res.metrics["cagr"] = 1.0
    assert equity.iloc[-1] == 999.0  # the caller's copy did change
    assert res.equity.iloc[-1] == res.to_pandas()["equity"].iloc[-1] == final
    assert res.weights.iloc[0, 0] != 7.0 and res.metrics["cagr"] == cagr


# ------------------------------------------------------------------ NaN and alignment rules
def test_leading_nan_common_alignment_starts_at_the_shared_history(prices):
    px = prices.copy()
    px.loc[:"2019-03-15", "mos_adj_close"] = np.nan
    res = gs.backtest(px, ARB)
    trimmed = gs.backtest(prices.loc["2019-03-18":], ARB)
    assert res.equity.index[0] == pd.Timestamp("2019-03-18")
    np.testing.assert_allclose(res.equity.to_numpy(), trimmed.equity.to_numpy(), rtol=1e-14)
    # a column with no weight may have any NaN
    px2 = prices.assign(other=np.where(np.arange(len(prices)) % 7 == 0, np.nan, 1.0))
    assert gs.backtest(px2, ARB).equity.equals(gs.backtest(prices, ARB).equity)


def test_common_alignment_that_leaves_out_most_dates_says_why(prices):
    px = prices.copy()
    px.iloc[100:, px.columns.get_loc("mos_adj_close")] = np.nan  # prices end after 100 dates
    with pytest.warns(UserWarning, match=rf"keeps 100 of the {len(px)} dates with a price \(mos_adj_close ends on "
                                         rf"{px.index[99].date()}\); align='cash' runs over all of them"):
        res = gs.backtest(px, ARB)
    assert len(res.equity) == 100
    px.iloc[:, px.columns.get_loc("mos_adj_close")] = prices["mos_adj_close"]
    px.iloc[: len(px) // 2 + 10, px.columns.get_loc("ntr_adj_close")] = np.nan  # starts late: over half gone
    with pytest.warns(UserWarning, match=r"\(ntr_adj_close starts on "):
        gs.backtest(px, ARB)
    with warnings.catch_warnings():  # less than half left out: no warning
        warnings.simplefilter("error")
        gs.backtest(px.iloc[len(px) // 3:], ARB)
        gs.backtest(px, ARB, align="cash")


def test_leading_nan_cash_alignment_holds_cash_until_listing(prices):
    px = prices.copy()
    px.loc[:"2019-03-15", "mos_adj_close"] = np.nan
    res = gs.backtest(px, ARB, align="cash", cost_bps=0)
    assert res.equity.index[0] == prices.index[0]
    before = res.positions.loc[:"2019-03-28", "mos_adj_close"]
    assert (before == 0).all()
    entry = res.rebalance_dates[res.rebalance_dates >= "2019-03-18"][0]
    assert entry == pd.Timestamp("2019-03-29")
    assert res.weights.loc[entry, "mos_adj_close"] == pytest.approx(0.5, rel=1e-12)
    # until then the 0.5 weight sits in cash: equity moves with NTR and SPY only
    seg = prices.loc[:"2018-01-31"]
    want = (
        1
        + 0.5 * (seg["ntr_adj_close"] / seg["ntr_adj_close"].iloc[0] - 1)
        - 1.2 * (seg["spy_adj_close"] / seg["spy_adj_close"].iloc[0] - 1)
    )
    np.testing.assert_allclose(
        res.equity.loc[:"2018-01-31"].to_numpy(), want.to_numpy(), rtol=1e-12
    )


def test_non_overlapping_histories(prices):
    px = prices.copy()
    px.loc["2020-01-01":, "ntr_adj_close"] = np.nan
    px.loc[:"2020-06-30", "mos_adj_close"] = np.nan
    with pytest.raises(gs.ConfigError, match="do not overlap") as err:
        gs.backtest(px, ARB)
    assert err.value.path == "prices"
    res = gs.backtest(px, ARB, align="cash", cost_bps=10)
    assert res.equity.index[0] == prices.index[0] and res.equity.index[-1] == prices.index[-1]
    # NTR is sold on its first missing date and never held again
    gone = px.index[px.index >= "2020-01-01"][0]
    assert (res.positions.loc[gone:, "ntr_adj_close"] == 0).all()
    assert res.costs.loc[gone] > 0


def test_nan_inside_a_series_is_an_error(prices):
    px = prices.copy()
    px.loc["2021-05-12", "spy_adj_close"] = np.nan
    for align in ("common", "cash"):
        with pytest.raises(gs.ConfigError, match="2021-05-12") as err:
            gs.backtest(px, ARB, align=align)
        assert err.value.path == "prices.spy_adj_close"


@pytest.mark.parametrize(
    "kwargs, path",
    [
        ({"weights": {"xyz": 1.0}}, "weights.xyz"),
        ({"weights": {"ntr_adj_close": float("nan")}}, "weights.ntr_adj_close"),
        ({"weights": {"ntr_adj_close": 0.0}}, "weights"),
        ({"weights": [0.5, 0.5]}, "weights"),
        ({"weights": pd.Series({"ntr_adj_close": 0.5, "xyz": 0.5})}, "weights.xyz"),
        ({"weights": pd.Series([0.5, 0.5], index=["ntr_adj_close"] * 2)}, "weights.ntr_adj_close"),
        ({"weights": pd.Series(0.5, index=pd.date_range("2020-01-01", periods=3))}, "weights"),
        ({"cost_bps": pd.Series({"ntr_adj_close": 5})}, "cost_bps.mos_adj_close"),
        ({"rebalance": "fortnightly"}, "rebalance"),
        ({"rebalance": "on_weights"}, "rebalance"),
        ({"cost_bps": -1}, "cost_bps"),
        ({"cost_bps": {"ntr_adj_close": 5}}, "cost_bps.mos_adj_close"),
        ({"cost_bps": {**dict.fromkeys(COLS, 5), "ntr_adj_clsoe": 5}}, "cost_bps.ntr_adj_clsoe"),
        ({"align": "outer"}, "align"),
        ({"periods_per_year": 0}, "periods_per_year"),
    ],
)
def test_bad_arguments_name_the_argument(prices, kwargs, path):
    args = {"weights": ARB, **kwargs}
    weights = args.pop("weights")
    with pytest.raises(gs.ConfigError) as err:
        gs.backtest(prices, weights, **args)
    assert err.value.path == path


@pytest.mark.parametrize("alias, rule", [("M", "monthly"), ("ME", "monthly"), ("BME", "monthly"),
                                         ("W-FRI", "weekly"), ("QS", "quarterly"), ("YE", "annual"),
                                         ("A", "annual"), ("B", "daily"), ("CBMS", "monthly"),
                                         ("d", "daily"), ("w-fri", "weekly")])
def test_a_pandas_frequency_for_rebalance_names_the_rule_to_give(prices, alias, rule):
    with pytest.raises(gs.ConfigError, match=f"for the pandas frequency {alias!r}, give {rule!r}") as err:
        gs.backtest(prices, ARB, rebalance=alias)
    assert err.value.path == "rebalance"
    # the rule it names runs (semi-months have no rule, and no hint)
    assert gs.backtest(prices, ARB, rebalance=rule).rebalance == rule
    for other in ("SM", "ms", "h"):  # a semi-month, a millisecond, an hour: no rule
        with pytest.raises(gs.ConfigError, match=f"got {other!r}$"):
            gs.backtest(prices, ARB, rebalance=other)


def test_bad_prices_name_the_argument(prices):
    with pytest.raises(gs.ConfigError) as err:
        gs.backtest(prices.reset_index(drop=True), ARB)
    assert err.value.path == "prices"
    with pytest.raises(gs.ConfigError, match="sorted"):
        gs.backtest(prices.iloc[::-1], ARB)
    neg = prices.copy()
    neg.iloc[10, 0] = -1.0
    with pytest.raises(gs.ConfigError) as err:
        gs.backtest(neg, ARB)
    assert err.value.path == "prices.ntr_adj_close"
    w = pd.DataFrame({"ntr_adj_close": [1.0]}, index=pd.DatetimeIndex(["2030-01-01"]))
    with pytest.raises(gs.ConfigError) as err:
        gs.backtest(prices, w)
    assert err.value.path == "weights"
    with pytest.raises(gs.ConfigError) as err:
        gs.backtest(prices, pd.DataFrame({"ntr_adj_close": [np.nan]}, index=prices.index[:1]))
    assert err.value.path == "weights.ntr_adj_close"


# ---------------------------------------------------------------------------- metrics and stress
def test_var_95_is_the_worst_return_of_twenty_and_cvar_95_the_tail_mean():
    # 0.05·n whole: the 5% inverted-cdf quantile of 20 returns is the worst (the risk
    # tables' VaR of the losses is the second-worst: the metrics keep their convention)
    rng = np.random.default_rng(5)
    for n in (20, 21, 40, 60):
        r = rng.normal(0.01, 0.05, n)
        eq = pd.Series(np.r_[1.0, np.cumprod(1 + r)], index=pd.date_range("2020-01-31", periods=n + 1, freq="ME"))
        m = bt_module.metrics(eq, 12)
        srt = np.sort(eq.pct_change().dropna().to_numpy())
        assert m["var_95"] == -srt[math.ceil(round(0.05 * n, 9)) - 1], n
        k = 0.05 * n
        whole = math.floor(k)
        assert m["cvar_95"] == pytest.approx(-(srt[:whole].sum() + (k - whole) * srt[whole]) / k, rel=1e-12), n
    # a tail of one period: the tail mean is that loss, never an ulp below the VaR
    for seed in range(50):
        r = np.random.default_rng(seed).normal(0.001, 0.02, 20)
        eq = pd.Series(np.r_[1.0, np.cumprod(1 + r)], index=pd.bdate_range("2020-01-01", periods=21))
        m = bt_module.metrics(eq, 252)
        assert m["cvar_95"] >= m["var_95"] and m["cvar_95"] == pytest.approx(m["var_95"], rel=1e-14), seed


def test_metrics_by_hand():
    idx = pd.to_datetime(["2020-01-31", "2020-02-29", "2020-03-31", "2020-04-30", "2020-05-31"])
    eq = pd.Series([1.0, 1.2, 0.9, 0.96, 1.3], index=idx)
    m = bt_module.metrics(eq, 12)
    r = np.array([0.2, -0.25, 0.96 / 0.9 - 1, 1.3 / 0.96 - 1])
    assert m["max_drawdown"] == pytest.approx(0.25)
    assert (m["peak_date"], m["trough_date"], m["recovery_date"]) == (idx[1], idx[2], idx[4])
    assert m["var_95"] == pytest.approx(0.25) and m["cvar_95"] == pytest.approx(0.25)
    assert m["sharpe"] == pytest.approx(r.mean() / r.std(ddof=1) * math.sqrt(12))
    assert m["sortino"] == pytest.approx(r.mean() / math.sqrt(0.25**2 / 4) * math.sqrt(12))
    years = (idx[-1] - idx[0]).days / 365.25
    assert m["cagr"] == pytest.approx(1.3 ** (1 / years) - 1)
    assert m["calmar"] == pytest.approx(m["cagr"] / 0.25)
    assert m["total_return"] == pytest.approx(0.3)
    # measured from a capital of 1.25 invested before the first value
    m2 = bt_module.metrics(eq, 12, capital=1.25)
    assert m2["total_return"] == pytest.approx(1.3 / 1.25 - 1)
    assert m2["cagr"] == pytest.approx((1.3 / 1.25) ** (1 / years) - 1)
    assert m2["sharpe"] == m["sharpe"]
    # ... which is the first high-water mark: 1.25 → 0.9, back above it on the last date
    assert m2["max_drawdown"] == pytest.approx(1 - 0.9 / 1.25)
    assert (m2["peak_date"], m2["trough_date"], m2["recovery_date"]) == (idx[0], idx[2], idx[4])
    for bad in (0, -1.0, float("nan"), float("inf"), "1", True):
        with pytest.raises(gs.ConfigError) as err:
            bt_module.metrics(eq, 12, capital=bad)
        assert err.value.path == "capital"
    # a capital so small that the growth from it overflows is the capital's fault
    with pytest.raises(gs.ConfigError, match="exceeds the double range") as err:
        bt_module.metrics(eq, 12, capital=1e-320)
    assert err.value.path == "capital"


def test_the_first_trade_costs_are_a_drawdown_from_the_capital():
    # prices rise every day, 100 bps to buy: the equity starts at 0.99 and never gets back
    # to the capital of 1, a drawdown of 1% from the first date that does not recover
    idx = pd.bdate_range("2021-01-04", periods=60)
    px = pd.DataFrame({"a": 100 * 1.0001 ** np.arange(60)}, index=idx)
    res = gs.backtest(px, {"a": 1.0}, rebalance="never", cost_bps=100)
    m = res.metrics
    assert res.equity.iloc[0] == pytest.approx(0.99) and res.equity.iloc[-1] < 1
    assert m["max_drawdown"] == pytest.approx(0.01, rel=1e-12)
    assert (m["peak_date"], m["trough_date"]) == (idx[0], idx[0]) and pd.isna(m["recovery_date"])
    assert m["calmar"] == pytest.approx(m["cagr"] / 0.01)
    np.testing.assert_allclose(res.drawdown.to_numpy(), 1 - res.equity.to_numpy(), rtol=1e-12)
    # once it passes 1 the drawdown is measured from its own peaks again
    jump = px.copy()
    jump.iloc[1:] *= 1.02
    up = gs.backtest(jump, {"a": 1.0}, rebalance="never", cost_bps=100)
    assert up.equity.iloc[1] > 1 and up.drawdown.iloc[1:].max() == 0
    assert up.metrics["max_drawdown"] == pytest.approx(0.01, rel=1e-12)
    assert up.metrics["recovery_date"] == idx[1]
    # side by side (the documented recipe), every date column is one of dates, even with
    # no run ruined and none recovered: a bare pd.NaT made an object column
    table = pd.DataFrame({"a": m, "b": res.metrics}).T.infer_objects()
    for col in ("peak_date", "trough_date", "recovery_date", "ruin_date"):
        assert table[col].dtype.kind == "M", (col, table[col].dtype)
    assert table["ruin_date"].isna().all() and table["recovery_date"].isna().all()
    # with a time zone, the dates keep it (NumPy's NaT has none: pandas' is used there)
    ny = gs.backtest(px.tz_localize("America/New_York"), {"a": 1.0}, rebalance="never", cost_bps=100)
    table = pd.DataFrame({"a": ny.metrics, "b": ny.metrics}).T.infer_objects()
    assert table["peak_date"].dtype.kind == "M" and str(table["peak_date"].dt.tz) == "America/New_York"


def test_total_return_and_cagr_are_net_of_the_first_trade_cost():
    # buy and hold 1.5 of equity in one asset at 20 bps: cash = 1 - 1.5 - 0.003 from the first date
    idx = pd.to_datetime(["2021-01-29", "2021-07-30", "2022-01-31"])
    px = pd.DataFrame({"a": [100.0, 90.0, 120.0]}, index=idx)
    res = gs.backtest(px, {"a": 1.5}, rebalance="never", cost_bps=20, periods_per_year=2)
    final = 1.5 * 1.2 + (1.0 - 1.5 - 1.5 * 20e-4)
    assert res.equity.iloc[0] == pytest.approx(1.0 - 1.5 * 20e-4)
    assert res.metrics["final_equity"] == pytest.approx(final)
    assert res.metrics["total_return"] == pytest.approx(final - 1.0)
    years = (idx[-1] - idx[0]).days / 365.25
    assert res.metrics["cagr"] == pytest.approx(final ** (1 / years) - 1)
    assert res.metrics["costs"] == pytest.approx(1.5 * 20e-4)


def test_ruin_gives_full_loss_metrics_and_costs_that_eat_the_capital_are_an_error(prices):
    # a position that loses everything: equity reaches zero and stays there
    idx = pd.bdate_range("2021-01-04", periods=6)
    px = pd.DataFrame({"a": [100.0, 110.0, 40.0, 30.0, 35.0, 36.0]}, index=idx)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = gs.backtest(px, {"a": 2.0}, rebalance="daily", cost_bps=0)
    # one warning, the ruin's (no division warnings)
    assert [str(w.message)[:40] for w in caught] == ["the equity reached 0 on 2021-01-06: ever"]
    assert res.equity.iloc[-1] == 0.0
    assert res.metrics["total_return"] == -1.0 and res.metrics["cagr"] == -1.0
    assert res.metrics["max_drawdown"] == 1.0
    # the statistics stop at the ruin: returns +20% (2 × 10%) and −100%, not three more
    # 0%; the returns after it are pct_change's NaN, so pandas' statistics stop there too
    m, live = res.metrics, np.array([0.2, -1.0])
    assert res.returns.equals(res.equity.pct_change().iloc[1:].rename("return"))
    np.testing.assert_allclose(res.returns.iloc[:2], live, rtol=1e-12)
    assert res.returns.iloc[2:].isna().all()
    assert res.returns.std() * np.sqrt(252) == pytest.approx(m["vol"], rel=1e-12)
    assert m["ruin_date"] == idx[2] and "ruined on 2021-01-06" in repr(res)
    assert m["sharpe"] == pytest.approx(live.mean() / live.std(ddof=1) * np.sqrt(252), rel=1e-12)
    assert m["vol"] == pytest.approx(live.std(ddof=1) * np.sqrt(252), rel=1e-12)
    assert m["var_95"] == pytest.approx(1.0) and m["cvar_95"] == pytest.approx(1.0)
    assert pd.isna(gs.backtest(px, {"a": 0.5}, rebalance="daily").metrics["ruin_date"])
    # nothing is left to stress (its P&L would read 0 on every path: no risk)
    with pytest.raises(gs.NumericalError, match="^stress: the backtest's equity is 0 from 2021-01-06"):
        res.stress(gs.World.default(), {"a": "global_equity"}, n_paths=100)
    # a ruin at the second date leaves one return: no volatility, a VaR of the whole loss
    idx = pd.period_range("2020-01", periods=4, freq="M")  # periods: their first days
    m = bt_module.metrics(pd.Series([1.0, 0.0, 0.0, 0.0], index=idx), 12)
    assert m["ruin_date"] == pd.Timestamp("2020-02-01") and m["var_95"] == 1.0 and np.isnan(m["vol"])
    # the first trade's costs alone exceed the capital
    with pytest.raises(gs.ConfigError, match="capital") as err:
        gs.backtest(prices, {"ntr_adj_close": 50.0, "mos_adj_close": -49.0}, cost_bps=10_000)
    assert err.value.path == "cost_bps"


@pytest.mark.parametrize("rebalance", ["never", "monthly"])
def test_stress_of_a_portfolio_that_ends_flat_is_zero_on_every_path(prices, rebalance):
    wd = pd.DataFrame({"ntr_adj_close": [1.0, 0.0]}, index=[prices.index[0], pd.Timestamp("2023-01-03")])
    st = gs.backtest(prices, wd).stress(
        gs.World.default(), {"ntr_adj_close": "fertilizer_producers"}, n_paths=500, rebalance=rebalance
    )
    assert st.pnl.shape == (500,) and (st.pnl == 0).all()
    s = st.summary().loc["all"]
    assert s["var"] == 0.0 and math.copysign(1.0, s["var"]) == 1.0  # +0, not −0
    assert len(st.to_pandas()) == 500 and "no position" in repr(st)

@pytest.mark.parametrize("values", [[0.0, 1.0], [1.0, np.nan], [1.0, -0.5], [], [1.0, 0.0, 1.0, 2.0]])
def test_metrics_refuse_an_equity_curve_they_cannot_measure(values):
    eq = pd.Series(values, index=pd.date_range("2020-01-31", periods=len(values), freq="ME"), dtype=float)
    with pytest.raises(gs.ConfigError) as err:
        bt_module.metrics(eq, 12)
    assert err.value.path == "equity"

def test_stress_overlay_applies_current_weights_to_simulated_asset_returns(prices):
    res = gs.backtest(prices, ARB)
    w = res.weights.iloc[-1]
    world = gs.World.default()
    st = res.stress(world, MAPPING, n_paths=3_000, horizon_months=12, seed=3)
    assert st.asset_weights["fertilizer_producers"] == pytest.approx(
        w["ntr_adj_close"] + w["mos_adj_close"]
    )
    assert st.asset_weights["global_equity"] == pytest.approx(w["spy_adj_close"])
    # the weights and names come out as copies: editing them leaves the result (its repr) alone
    shown = repr(st)
    st.asset_weights["global_equity"] = 9.0
    st.scenario_names.append("x")
    assert repr(st) == shown and st.scenario_names == world.scenario_names
    # independent: NAVs of one-asset strategies, monthly rebalanced to the same weights
    legs = {
        a: gs.Strategy(f"leg_{i}", {a: 1.0}, cost_bps=0.0) for i, a in enumerate(st.asset_weights)
    }
    sim = world.with_strategies(*legs.values(), replace=True).simulate(
        3_000, 12, seed=3, progress=False
    )
    value = np.ones(3_000)
    for t in range(1, 13):
        value *= 1 + sum(
            wa * (sim.paths(legs[a].name)[:, t] / sim.paths(legs[a].name)[:, t - 1] - 1)
            for a, wa in st.asset_weights.items()
        )
    np.testing.assert_allclose(st.pnl, value - 1, rtol=1e-12, atol=1e-14)
    # the mapping as a Series (a column of a lookup table) is the same dict
    by_series = res.stress(world, pd.Series(MAPPING), n_paths=3_000, horizon_months=12, seed=3)
    np.testing.assert_array_equal(by_series.pnl, st.pnl)
    summary = st.summary()
    assert list(summary.index) == ["base", "bull", "bear", "all"]
    assert summary.loc["all", "probability"] == pytest.approx(1.0)
    assert (summary["cvar"] >= summary["var"] - 1e-12).all()
    assert st.to_pandas().shape == (3_000, 4) and "VaR95" in repr(st)
    # a Simulation is reused with its probabilities
    sim0 = world.simulate(3_000, 12, seed=3, progress=False).reweight(
        {"base": 0.2, "bull": 0.2, "bear": 0.6}
    )
    st2 = res.stress(sim0, MAPPING)
    np.testing.assert_allclose(st2.pnl, st.pnl, rtol=1e-12, atol=1e-14)
    assert st2.summary().loc["bear", "probability"] == pytest.approx(0.6)
    # ... with its own size, horizon and seed: others given with it are refused, not ignored
    np.testing.assert_array_equal(res.stress(sim0, MAPPING, n_paths=3_000, horizon_months=12, seed=3).pnl, st2.pnl)
    for name, value in (("n_paths", 50), ("horizon_months", 6), ("seed", 4)):
        with pytest.raises(gs.ConfigError, match="is the Simulation's") as err:
            res.stress(sim0, MAPPING, **{name: value})
        assert err.value.path == name
    for name, value in (("n_paths", 3_000.0), ("seed", np.float64(3))):  # integers, as for a World
        with pytest.raises(gs.ConfigError, match="must be an integer") as err:
            res.stress(sim0, MAPPING, **{name: value})
        assert err.value.path == name
    with pytest.raises(gs.ConfigError) as err:
        res.stress(world, {"ntr_adj_close": "fertilizer_producers"})
    assert err.value.path == "mapping.mos_adj_close"
    with pytest.raises(gs.ConfigError) as err:
        res.stress(world, {**MAPPING, "spy_adj_close": "sp500"})
    assert err.value.path == "mapping.spy_adj_close"


def test_a_bought_and_held_book_that_reaches_zero_stays_there(prices):
    # 4× the miner against −3× the market, held 36 months: some paths go through 0
    # and would come back; the book lost everything when it reached 0, as in a backtest
    res = gs.backtest(prices.iloc[:40], {"ntr_adj_close": 4.0, "spy_adj_close": -3.0}, cost_bps=0,
                      rebalance="never")
    assert res.equity.iloc[-1] > 0
    world = gs.World.default()
    st = res.stress(world, MAPPING, n_paths=3_000, horizon_months=36, seed=5, rebalance="never")
    legs = {a: gs.Strategy(f"leg_{i}", {a: 1.0}, cost_bps=0.0) for i, a in enumerate(st.asset_weights)}
    sim = world.with_strategies(*legs.values(), replace=True).simulate(3_000, 36, seed=5, progress=False)
    marked = 1.0 + sum(wa * (sim.paths(legs[a].name) / sim.paths(legs[a].name)[:, :1] - 1.0)
                       for a, wa in st.asset_weights.items())
    # a world's own strategies are not simulated again, nor warned about (a ruined one here)
    ruined = world.with_strategies(gs.Strategy("lev", {"belarus_eurobond": 30.0}))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        again = res.stress(ruined, MAPPING, n_paths=3_000, horizon_months=36, seed=5, rebalance="never")
    np.testing.assert_array_equal(again.pnl, st.pnl)
    through_zero = (marked <= 0).any(axis=1)
    back = through_zero & (marked[:, -1] > 0)
    assert back.sum() >= 10  # paths that would have come back
    assert (st.pnl[through_zero] == -1.0).all()
    np.testing.assert_allclose(st.pnl[~through_zero], marked[~through_zero, -1] - 1.0, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("alpha", [0.95, 0.9])
def test_stress_statistics_are_the_risk_table_of_the_same_book(prices, alpha):
    res = gs.backtest(prices, ARB)
    world = gs.World.default()
    st = res.stress(world, MAPPING, n_paths=4_000, horizon_months=12, seed=5)
    # the same book as a world strategy without costs, monthly rebalanced to the same weights
    free = world.with_params({f"assets.{a}.cost_bps": 0.0 for a in st.asset_weights})
    book = gs.Strategy("book", st.asset_weights, cost_bps=0.0)
    sim = free.with_strategies(book).simulate(4_000, 12, seed=5, progress=False)
    np.testing.assert_allclose(st.pnl, sim.paths("book")[:, -1] - 1.0, rtol=1e-12, atol=1e-13)
    got = st.summary(alpha)
    ref = sim.risk_table(alpha, "book").loc["book"]
    assert got.attrs["alpha"] == alpha and list(got.index) == list(ref.index)
    for col in ("probability", "mean_return", "std", "q05", "q50", "q95", "var", "cvar", "p_loss"):
        np.testing.assert_allclose(got[col], ref[col], rtol=1e-9, atol=1e-12, err_msg=col)
    # the scenario probabilities are the exact (correctly rounded) sums of the weights, as there
    assert got["probability"].tolist() == ref["probability"].tolist() == [
        math.fsum(st.weights[st.scenario == k]) for k in range(3)] + [1.0]
    # the P&L arrays are read-only, like a simulation's paths, also unpickled or copied
    for copy_of in (lambda x: x, lambda x: pickle.loads(pickle.dumps(x)), copy.deepcopy):
        again = copy_of(st)
        for a in (again.pnl, again.pnl_value, again.weights, again.scenario):
            with pytest.raises(ValueError, match="read-only"):
                a[0] = 0
        assert again.summary(alpha).equals(got)
    # built by hand, it copies the caller's arrays rather than freezing them
    mine = np.zeros(3)
    assert gs.StressResult(pnl=mine).pnl.flags.writeable is False and mine.flags.writeable


def test_stress_charges_no_trading_costs(prices):
    res = gs.backtest(prices, ARB)
    mapping = {**MAPPING, "spy_adj_close": "belarus_eurobond"}
    world = gs.World.default()
    assert world.to_dict()["assets"]["belarus_eurobond"]["cost_bps"] > 0
    free = world.with_params({"assets.belarus_eurobond.cost_bps": 0.0})
    costly = res.stress(world, mapping, n_paths=2_000, horizon_months=6, seed=4)
    np.testing.assert_array_equal(
        costly.pnl, res.stress(free, mapping, n_paths=2_000, horizon_months=6, seed=4).pnl
    )


def test_docstring_examples_run():
    result = doctest.testmod(bt_module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


@pytest.mark.parametrize(
    "equity",
    [[1.0, 1.1], pd.Series([1.0, 1.1]), pd.DataFrame({"a": [1.0, 1.1]}), pd.Series(["1", "2"])],
    ids=["list", "range-index", "frame", "strings"],
)
def test_metrics_need_a_numeric_series_by_date(equity):
    if isinstance(equity, pd.Series) and not pd.api.types.is_float_dtype(equity.dtype):
        equity.index = pd.date_range("2020-01-31", periods=2, freq="ME")
    with pytest.raises(gs.ConfigError) as err:
        bt_module.metrics(equity, 12)
    assert err.value.path == "equity"


def test_a_cost_for_a_column_not_held_is_accepted(prices):
    costs = dict.fromkeys(COLS, 5.0)
    a = gs.backtest(prices, {"ntr_adj_close": 1.0}, cost_bps=costs)
    b = gs.backtest(prices, {"ntr_adj_close": 1.0}, cost_bps=5.0)
    np.testing.assert_array_equal(a.equity.to_numpy(), b.equity.to_numpy())


def test_series_of_weights_and_costs_are_the_dicts_they_stand_for(prices):
    costs = {c: 5.0 + i for i, c in enumerate(COLS)}
    a = gs.backtest(prices, pd.Series(ARB), cost_bps=pd.Series(costs))
    b = gs.backtest(prices, ARB, cost_bps=costs)
    pd.testing.assert_series_equal(a.equity, b.equity)
    assert a.rebalance == b.rebalance == "monthly" and a.cost_desc == b.cost_desc


def test_costs_over_time_are_refused_with_what_to_give_instead(prices):
    over_time = (pd.Series(5.0, index=prices.index), pd.DataFrame({"ntr_adj_close": 5.0}, index=prices.index),
                 pd.Series(5.0, index=prices.index.to_period("D")), pd.Series(5.0, index=list(prices.index.date)))
    for costs in over_time:
        with pytest.raises(gs.ConfigError, match="costs do not vary over time: give a number, or a dict or Series") as err:
            gs.backtest(prices, ARB, cost_bps=costs)
        assert err.value.path == "cost_bps"
    with pytest.raises(gs.ConfigError, match=r"got a DataFrame$"):  # named, not printed whole
        gs.backtest(prices, ARB, cost_bps=pd.DataFrame({"x": range(500)}))


def test_columns_not_held_may_hold_anything(prices):
    odd = prices.assign(note="x", flag=True, when=prices.index, big=np.inf)
    a = gs.backtest(odd, ARB, rebalance="monthly")
    b = gs.backtest(prices, ARB, rebalance="monthly")
    np.testing.assert_array_equal(a.equity.to_numpy(), b.equity.to_numpy())
    with pytest.raises(gs.ConfigError) as err:
        gs.backtest(odd, {**ARB, "note": 0.1})
    assert err.value.path == "prices.note"


def test_prices_that_overflow_the_equity_are_named():
    idx = pd.date_range("2020-01-31", periods=3, freq="ME")
    for px, cost in (([1e-300, 1e300, 1e-300], 10), ([1.0, 1e-300, 1e300], 0)):
        with pytest.raises(gs.ConfigError, match="double range") as err:
            gs.backtest(pd.DataFrame({"a": px}, index=idx), {"a": 1.0}, cost_bps=cost)
        assert err.value.path == "prices"


def test_minute_bars_and_overflowing_equity():
    idx = pd.date_range("2024-01-02 09:30", periods=3, freq="min")
    px = pd.DataFrame({"a": [100.0, 101.0, 102.0]}, index=idx)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = gs.backtest(px, {"a": 1.0}, "never", 0, periods_per_year=252 * 390)
    assert res.periods_per_year == 252 * 390
    assert res.metrics["cagr"] == math.inf  # a 2% gain in two minutes, annualised
    assert res.metrics["total_return"] == pytest.approx(0.02)
    two = pd.date_range("2020-01-31", periods=2, freq="ME")
    with pytest.raises(gs.ConfigError, match="double range") as err:
        bt_module.metrics(pd.Series([1e-300, 1e300], index=two), 12)
    assert err.value.path == "equity"
    with pytest.raises(gs.ConfigError, match="real numbers") as err:
        bt_module.metrics(pd.Series([1 + 0j, 2 + 0j], index=two), 12)
    assert err.value.path == "equity"
    nullable = bt_module.metrics(pd.Series([1.0, 1.1], index=two, dtype="Float64"), 12)
    assert nullable["total_return"] == pytest.approx(0.1)


def test_intraday_prices_need_an_explicit_annualisation(prices):
    hourly = prices.iloc[:200].copy()
    hourly.index = pd.date_range("2024-01-02 09:00", periods=200, freq="h")
    with pytest.raises(gs.ConfigError, match="intraday") as err:
        gs.backtest(hourly, ARB)
    assert err.value.path == "prices"
    res = gs.backtest(hourly, ARB, rebalance="daily", periods_per_year=252 * 7)
    assert res.periods_per_year == 252 * 7
    # "daily" trades on the first bar, then on each calendar day's last bar (not the final one)
    days = hourly.index.normalize()
    last_bars = hourly.index[:-1][days[:-1] != days[1:]]
    assert res.rebalance_dates.equals(hourly.index[:1].append(last_bars))
    assert len(res.rebalance_dates) == 1 + 200 // 24


def test_weights_by_period_trade_at_the_period_end_not_its_start(prices):
    # a month's signal, computed from its closes, was dated at the month's first day and
    # traded there: a month of look-ahead
    month_end = prices.resample("ME").last()
    signal = (month_end.pct_change() > 0).astype(float).iloc[1:]
    by_period = signal.set_axis(signal.index.to_period("M"))
    res = gs.backtest(prices, by_period, cost_bps=10)
    last_close = prices.index.to_series().groupby(prices.index.to_period("M")).max()
    ends = pd.DatetimeIndex(last_close.loc[by_period.index].to_numpy())
    assert (ends.to_period("M") == by_period.index).all()  # within each month: no look-ahead
    assert res.rebalance_dates.equals(ends)
    same = gs.backtest(prices, signal.set_axis(ends), cost_bps=10)
    pd.testing.assert_series_equal(res.equity, same.equity)
    # calendar rebalancing sees each period's row on its last trading day too
    monthly = gs.backtest(prices, by_period, rebalance="monthly", cost_bps=10)
    pd.testing.assert_series_equal(monthly.equity, gs.backtest(prices, signal.set_axis(ends), rebalance="monthly",
                                                               cost_bps=10).equity)
    # monthly prices by period with monthly weights by period: each month's weights at its price
    prices_by_period = month_end.set_axis(month_end.index.to_period("M"))
    res_m = gs.backtest(prices_by_period, by_period, cost_bps=10)
    assert res_m.rebalance_dates.equals(by_period.index.to_timestamp())
    # a period without a price date trades on the first after it; periods sharing it keep the last
    weekly = pd.DataFrame({"spy_adj_close": [0.2, 0.4, 0.6]}, index=pd.period_range("2019-03-04", periods=3, freq="W"))
    res_w = gs.backtest(prices_by_period, weekly, cost_bps=0)
    assert res_w.rebalance_dates.equals(pd.DatetimeIndex(["2019-04-01"]))
    assert res_w.weights["spy_adj_close"].iloc[0] == 0.6
    # prices with a time zone: a period after them ends at a local time that exists
    # (2024-04-06 23:59:59.999 happens twice in Santiago)
    santiago = prices.loc["2023"].tz_localize("America/Santiago")
    late = pd.DataFrame({"spy_adj_close": [0.5, 0.6]}, index=pd.PeriodIndex(["2023-06-30", "2024-04-06"], freq="D"))
    res_tz = gs.backtest(santiago, late, cost_bps=0)
    assert res_tz.rebalance_dates.equals(pd.DatetimeIndex(["2023-06-30"]).tz_localize("America/Santiago"))


@pytest.mark.parametrize("ppy", [float("nan"), -12, 0, "x", True])
def test_metrics_need_a_positive_number_of_periods_per_year(ppy):
    eq = pd.Series([1.0, 1.1, 1.2], index=pd.date_range("2020-01-31", periods=3, freq="ME"))
    with pytest.raises(gs.ConfigError) as err:
        bt_module.metrics(eq, ppy)
    assert err.value.path == "periods_per_year"


def test_time_zones_must_agree_and_an_aware_index_gives_the_naive_result(prices):
    wd = pd.DataFrame({"ntr_adj_close": [1.0, 0.5]}, index=pd.to_datetime(["2019-01-02", "2023-01-03"]))
    with pytest.raises(gs.ConfigError, match="time zone") as err:
        gs.backtest(prices.tz_localize("UTC"), wd)
    assert err.value.path == "weights"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        aware = gs.backtest(prices.tz_localize("UTC"), wd.tz_localize("UTC"))
    naive = gs.backtest(prices, wd)
    np.testing.assert_array_equal(aware.equity.to_numpy(), naive.equity.to_numpy())
    # calendar rebalancing of an aware index: the same dates, no warning from pandas
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        aware = gs.backtest(prices.tz_localize("Europe/Minsk"), ARB, rebalance="monthly")
    naive = gs.backtest(prices, ARB, rebalance="monthly")
    np.testing.assert_array_equal(aware.equity.to_numpy(), naive.equity.to_numpy())


def test_metrics_of_huge_returns_stay_finite_and_consistent():
    # a one-day data error: returns near 1e160, whose squares overflow a double
    idx = pd.date_range("2020-01-01", periods=6, freq="D")
    equity = pd.Series([1.0, 1.0, 1e160, 1e160, 1.0, 1.0], index=idx)
    m = bt_module.metrics(equity, 252)
    r = equity.to_numpy()[1:] / equity.to_numpy()[:-1] - 1.0
    big = np.abs(r).max()
    sd = big * np.std(r / big, ddof=1)
    assert m["vol"] == pytest.approx(sd * np.sqrt(252), rel=1e-12)
    assert m["sharpe"] == pytest.approx(r.mean() * 252 / (sd * np.sqrt(252)), rel=1e-12)
    assert m["sharpe"] > 0.1


@pytest.mark.parametrize("rebalance", ["monthly", "never"])
def test_a_stress_simulated_in_many_ranges_of_paths_has_the_bits_of_one_range(prices, rebalance, monkeypatch):
    # the paths are simulated in ranges of a bounded memory, each range dropped once read;
    # ranges of a few paths split scenarios, antithetic pairs and QMC points between them
    res = gs.backtest(prices, ARB)
    world = gs.World.default()
    sources = [world, world.simulate(1_001, 12, seed=4, progress=False),
               world.simulate(1_000, 12, seed=4, antithetic=True, progress=False),
               world.simulate(1_024, 12, seed=4, qmc=True, progress=False)]
    whole = [res.stress(src, MAPPING, rebalance=rebalance, **({"n_paths": 999} if src is world else {}))
             for src in sources]
    monkeypatch.setattr(bt_module, "STRESS_RANGE_BYTES", 8_000)
    monkeypatch.setattr(bt_module, "STRESS_ARRAY_BYTES", 8)
    for src, one in zip(sources, whole):
        cut = res.stress(src, MAPPING, rebalance=rebalance, **({"n_paths": 999} if src is world else {}))
        for attr in ("pnl", "weights", "scenario"):
            assert np.array_equal(getattr(cut, attr), getattr(one, attr)), attr
        assert cut.scenario.dtype == one.scenario.dtype and repr(cut) == repr(one)
    assert bt_module.STRESS_RANGE_BYTES // world._core.output_bytes(1, 12) < 10  # (ranges of a few paths)


def test_a_stress_that_cannot_fit_is_refused_before_it_simulates(prices):
    res = gs.backtest(prices, ARB)
    with pytest.raises(gs.ResourceError, match=r"stress of 10,000,000,000 paths × 24 months: needs [\d,.]+ GiB"):
        res.stress(gs.World.default(), MAPPING, n_paths=10**10)


def test_stressing_a_qmc_simulation_does_not_warn_again_about_its_path_count(prices):
    world = gs.World.default()
    with pytest.warns(UserWarning, match="qmc=True with n_paths=1000, not a power of two"):
        sim = world.simulate(1_000, 12, seed=3, qmc=True, progress=False)
    res = gs.backtest(prices, ARB)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        st = res.stress(sim, MAPPING)
    assert st.pnl.shape == (1_000,)
