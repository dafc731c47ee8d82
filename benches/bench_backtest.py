"""Benchmark: backtest of 50 assets × 20 years of daily prices, monthly rebalancing.

Times ``gs.backtest`` (validation, schedule, Rust loop, metrics) and the Rust
loop alone, against a plain pandas implementation of the same rules (holding
periods vectorised with ``DataFrame`` arithmetic, metrics with pandas) run in
the same process on the same data, and checks that both give the same equity
curve. Run with ``python benches/bench_backtest.py [--assets N] [--years Y]``.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import platform
import time

import numpy as np
import pandas as pd

import geoscenario as gs
from geoscenario import _core

bt = importlib.import_module("geoscenario.backtest")


def make_prices(n_assets: int, years: int, seed: int = 0) -> pd.DataFrame:
    """GBM prices on business days (252 a year), one column per asset."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2000-01-03", periods=252 * years)
    vol = rng.uniform(0.15, 0.45, n_assets) / math.sqrt(252)
    r = rng.standard_normal((len(dates), n_assets)) * vol + 0.06 / 252 - 0.5 * vol**2
    return pd.DataFrame(
        100 * np.exp(np.cumsum(r, axis=0)),
        index=dates,
        columns=[f"a{i:02d}" for i in range(n_assets)],
    )


def pandas_backtest(
    px: pd.DataFrame, weights: pd.Series, cost_bps: float
) -> tuple[pd.Series, pd.Series]:
    """The same rules in pandas: rebalance on the first date and each month's last
    trading day (not the final date); holdings drift as h·P_t/P_rebalance."""
    idx = px.index
    last = pd.Series(idx, index=idx).groupby([idx.year, idx.month]).max()
    dates = sorted({idx[0], *last.tolist()} - {idx[-1]})
    c = cost_bps / 1e4
    equity = pd.Series(np.nan, index=idx)
    h = pd.Series(0.0, index=px.columns)
    cash = 1.0
    for k, d in enumerate(dates):
        pre = cash + h.sum()
        target = weights * pre
        traded = (target - h).abs().sum()
        cash = pre - target.sum() - c * traded
        h = target
        equity[d] = pre - c * traded
        end = dates[k + 1] if k + 1 < len(dates) else None
        seg = px.loc[d:end].iloc[1:]
        grown = seg.div(px.loc[d]).mul(h)
        equity[seg.index] = grown.sum(axis=1) + cash
        if end is not None:
            h = grown.loc[end]
    r = equity.pct_change().dropna()
    years = (idx[-1] - idx[0]).days / 365.25
    dd = 1 - equity / equity.cummax()
    q = r.quantile(0.05)
    metrics = {
        "cagr": (equity.iloc[-1] / equity.iloc[0]) ** (1 / years) - 1,
        "sharpe": r.mean() / r.std() * math.sqrt(252),
        "max_drawdown": dd.max(),
        "cvar_95": -r[r <= q].mean(),
    }
    return equity, pd.Series(metrics)


def best_of(f, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--assets", type=int, default=50)
    ap.add_argument("--years", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    px = make_prices(args.assets, args.years)
    rng = np.random.default_rng(1)
    w = pd.Series(rng.normal(0, 1, args.assets), index=px.columns)
    w = w / w.abs().sum() * 1.5  # long-short, gross 150%
    weights = w.to_dict()

    res = gs.backtest(px, weights, rebalance="monthly", cost_bps=10)
    ref, _ = pandas_backtest(px, w, 10.0)
    err = float(np.max(np.abs(res.equity.to_numpy() / ref.to_numpy() - 1)))

    rows = [
        0,
        *[
            int(i)
            for i in np.flatnonzero(
                px.index.to_period("M").asi8[1:] != px.index.to_period("M").asi8[:-1]
            )
        ],
    ]
    rows = [r for r in rows if r < len(px) - 1]
    arr = np.ascontiguousarray(px.to_numpy())
    mat = np.ascontiguousarray(np.tile(w.to_numpy(), (len(rows), 1)))
    costs = np.full(args.assets, 10.0)

    t_gs = best_of(lambda: gs.backtest(px, weights, rebalance="monthly", cost_bps=10), args.repeat)
    t_core = best_of(lambda: _core.backtest_run(arr, rows, mat, costs), args.repeat)
    t_pd = best_of(lambda: pandas_backtest(px, w, 10.0), max(1, args.repeat // 2))

    print(
        "# backtest benchmark — "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, pandas {pd.__version__}, NumPy {np.__version__}"
    )
    print(
        f"data: {args.assets} assets × {len(px):,} business days ({args.years} years), "
        f"{len(res.rebalance_dates)} monthly rebalances, 10 bps; best of {args.repeat}"
    )
    print(f"max relative difference of the equity curves (gs vs pandas): {err:.2e}")
    print(f"{'implementation':<36}{'time':>12}{'vs pandas':>12}")
    print(f"{'pandas (periods vectorised)':<36}{t_pd * 1e3:>10.1f}ms{1.0:>11.1f}x")
    print(f"{'gs.backtest (end to end)':<36}{t_gs * 1e3:>10.1f}ms{t_pd / t_gs:>11.1f}x")
    print(
        f"{'Rust loop only (_core.backtest_run)':<36}{t_core * 1e3:>10.2f}ms{t_pd / t_core:>11.1f}x"
    )


if __name__ == "__main__":
    main()
