"""Benchmark: Merton jump fits of a long daily series (``calibrate.gbm(jumps=True)`` and
``calibrate.log_ou(jumps=True)``) against the same likelihood in vectorised NumPy.

A jump fit maximises the Poisson mixture likelihood (``src/calibrate/jumps.rs``)
over thousands of evaluations. The baseline evaluates that likelihood, truncated
at the same ten jumps, as a NumPy log-sum-exp over an (n, 11) array of component
terms; the benchmark times one such evaluation and prints what the fit's own
number of evaluations would cost in NumPy (the optimiser's own work left out, in
the baseline's favour), and both log-likelihoods at the fit, which agree.

Then a bootstrap of jump fits of the World Bank monthly potash price (2010-2025): its
refits run on the core's worker threads, against the previous implementation, which
refitted one replicate after another (the same refits, the same draws).
Run with ``python benches/bench_calibrate.py [--days N] [--boot N]``.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np
import pandas as pd

import geoscenario as gs

MAX_JUMPS = 10


def mixture_loglik(resid: np.ndarray, s2: float, lambda_dt: float, mu_j: float, sigma_j: float) -> float:
    """Σ_t ln Σ_{k≤10} Pois(k; λΔ)·φ(r_t; k·μ_J, s² + k·σ_J²) in NumPy (docs/MODEL.md §3)."""
    k = np.arange(MAX_JUMPS + 1)
    v = s2 + k * sigma_j**2
    log_pois = -lambda_dt + k * math.log(lambda_dt) - np.cumsum(np.log(np.maximum(k, 1)))
    terms = (log_pois - 0.5 * np.log(2 * np.pi * v)) - (resid[:, None] - k * mu_j) ** 2 / (2 * v)
    top = terms.max(axis=1)
    return float(np.sum(top + np.log(np.exp(terms - top[:, None]).sum(axis=1))))


def timed(repeat: int, f, *args, **kwargs) -> tuple[float, object]:
    """The fastest of ``repeat`` calls ``f(*args, **kwargs)`` and its last result."""
    best, out = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f(*args, **kwargs)
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--days", type=int, default=50_000, help="daily log returns of the series")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--boot", type=int, default=200, help="replicates of each bootstrap")
    args = p.parse_args()
    rng = np.random.default_rng(1)
    n = args.days
    # σ = 16% a year, about 2.5 jumps a year of mean −2% and sd 5%
    r = 0.0002 + 0.01 * rng.standard_normal(n) + (rng.random(n) < 0.01) * rng.normal(-0.02, 0.05, n)
    levels = pd.Series(100 * np.exp(np.r_[0.0, np.cumsum(r)]),
                       index=pd.bdate_range("1900-01-01", periods=n + 1, unit="s"))
    dt = 1 / 252
    print(f"{n:,} daily log returns, Poisson sum truncated at {MAX_JUMPS} jumps")
    for kind in ("gbm", "log_ou"):
        fitter = getattr(gs.calibrate, kind)
        seconds, fit = timed(args.repeat, fitter, levels, jumps=True, dt=dt)
        evals = fit.extra["evaluations"]
        x = np.log(levels.to_numpy())
        prm = fit.params
        lam_dt, mu_j, sig_j = prm["lambda"] * dt, prm["mu_j"], prm["sigma_j"]
        if kind == "gbm":
            # the log drift c = g − σ²/2 − λ(e^{μ_J + σ_J²/2} − 1) of the compensated jumps
            c = prm["g"] - prm["sigma"] ** 2 / 2 - prm["lambda"] * math.expm1(mu_j + sig_j**2 / 2)
            resid, s2 = np.diff(x) - c * dt, prm["sigma"] ** 2 * dt
        else:
            a, b, s = fit.extra["ar"]
            resid, s2 = x[1:] - a - b * x[:-1], s * s
        one, ll = timed(args.repeat, mixture_loglik, resid, s2, lam_dt, mu_j, sig_j)
        print(f"  calibrate.{kind}(jumps=True): {seconds:.3f} s for {evals:,} likelihood evaluations "
              f"({seconds / evals * 1e3:.3f} ms each, optimiser included)")
        print(f"    NumPy mixture likelihood: {one * 1e3:.3f} ms each, {one * evals:.2f} s for {evals:,}: "
              f"ratio vs numpy {one * evals / seconds:.1f}x; log-likelihoods {fit.loglik:.6f} vs {ll:.6f}")
    bootstrap(args.boot, args.repeat)


def bootstrap(n_boot: int, repeat: int) -> None:
    """A jump fit's bootstrap on the core's threads against its refits one after another."""
    potash = gs.data.potash_monthly("2010-01", "2025-01")
    core_threads = gs._core.worker_threads
    threads = core_threads()
    print(f"bootstrap({n_boot:,}) of jump fits of {len(potash)} monthly potash prices, {threads} worker threads")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (sticky quoted prices: some errors are NaN)
        for kind in ("gbm", "log_ou"):
            fit = getattr(gs.calibrate, kind)(potash, jumps=True)
            seconds, boot = timed(repeat, fit.bootstrap, n_boot, seed=1, progress=False)
            gs._core.worker_threads = lambda: 1  # the previous implementation: one refit at a time
            try:
                one, serial = timed(repeat, fit.bootstrap, n_boot, seed=1, progress=False)
            finally:
                gs._core.worker_threads = core_threads
            same = boot.draws.equals(serial.draws) and boot.failures == serial.failures
            print(f"  {kind}(jumps=True).bootstrap: {seconds:.2f} s; refits one after another {one:.2f} s: "
                  f"ratio vs serial {one / seconds:.2f}x; same draws: {same}")


if __name__ == "__main__":
    main()
