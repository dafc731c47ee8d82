"""Not a speed benchmark: the coverage study quoted in ``BootstrapResult``'s notes.

Simulates log-OU series with known κ, θ = 352, σ = 0.3, fits each, bootstraps the
fit, and prints how often each kind of 95% interval (and ±1.96 SE) covers the truth.
Run with ``python benches/coverage_bootstrap.py [--kappa 0.4] [--months 180]
[--series 200] [--refits 200]`` (about 2 minutes on 2 cores).

With ``--jumps``, the same with Merton jumps (λ = 3 a year, μ_J = −0.05, σ_J = 0.15,
σ = 0.2) fitted by ``log_ou(..., jumps=True)``; ``--start``/``--stop`` run a share of
the series (the same series whatever the share), to spread a slow study over processes.

With ``--rho R``, the same for the Newey–West betas of ``factor_betas`` and their
block bootstrap instead: monthly returns y = 0.01 + 1.2 f + u with a factor f and a
residual u both AR(1) with coefficient R (unit innovations, u's scaled by 0.5).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import geoscenario as gs
from geoscenario import _bootstrap

THETA, SIGMA, DT = 352.0, 0.3, 1.0 / 12.0


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--kappa", type=float, default=0.4)
    p.add_argument("--months", type=int, default=None, help="default 180, or 120 with --rho")
    p.add_argument("--series", type=int, default=200)
    p.add_argument("--refits", type=int, default=200)
    p.add_argument("--rho", type=float, default=None)
    p.add_argument("--jumps", action="store_true")
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--stop", type=int, default=None)
    args = p.parse_args()
    warnings.simplefilter("ignore")
    if args.months is None:
        args.months = 180 if args.rho is None else 120
    if args.rho is not None:
        return betas(args)
    truth = pd.Series({"kappa": args.kappa, "theta": THETA, "sigma": SIGMA})
    if args.jumps:
        truth = pd.Series({"kappa": args.kappa, "theta": THETA, "sigma": 0.2, "lambda": 3.0, "mu_j": -0.05,
                           "sigma_j": 0.15})
    idx = pd.date_range("2000-01-01", periods=args.months + 1, freq="MS")
    rng = np.random.default_rng(12345)
    hits = {k: pd.Series(0.0, index=truth.index) for k in ("studentized", "basic", "percentile", "±1.96 SE")}
    done = failed = 0
    t0 = time.perf_counter()
    for r in range(args.series if args.stop is None else args.stop):
        # a stationary start, then the exact transition (replicate streams far from the bootstrap's)
        x0 = np.log(THETA) + SIGMA / np.sqrt(2 * args.kappa) * rng.standard_normal()
        if r < args.start:
            continue
        x = _bootstrap.log_paths("log_ou", truth.to_dict(), x0, args.months, DT, 10**9 + r, 0, 1)[0]
        try:
            fit = gs.calibrate.log_ou(pd.Series(np.exp(x), index=idx), jumps=args.jumps)
        except gs.NumericalError:
            continue
        boot = fit.bootstrap(args.refits, seed=r, progress=False)
        failed += boot.n_failed
        done += 1
        hits["±1.96 SE"] += ((fit.params - truth).abs() <= 1.96 * fit.std_errors).astype(float)
        for kind in ("studentized", "basic", "percentile"):
            table = boot.intervals(kind)
            hits[kind] += ((table["lower"] <= truth) & (truth <= table["upper"])).astype(float)
    print(f"κ = {args.kappa}{' with jumps' if args.jumps else ''}, {args.months} months, {done} series fitted "
          f"(from series {args.start}), {args.refits} refits each "
          f"({failed} refits failed), {time.perf_counter() - t0:.0f} s")
    print("coverage of 95% intervals:")
    print(pd.DataFrame({k: v / done for k, v in hits.items()}).T.round(3).to_string())
    print("hits:", {k: v.astype(int).to_dict() for k, v in hits.items()})


def ar1(rng: np.random.Generator, rho: float, n: int) -> np.ndarray:
    """n values of a stationary AR(1) with unit innovations (after a burn-in of 200)."""
    e = rng.standard_normal(n + 200)
    x = np.empty(n + 200)
    x[0] = e[0] / np.sqrt(1 - rho * rho)
    for t in range(1, n + 200):
        x[t] = rho * x[t - 1] + e[t]
    return x[200:]


def betas(args: argparse.Namespace) -> None:
    idx = pd.date_range("2000-01-01", periods=args.months, freq="MS")
    rng = np.random.default_rng(54321)
    kinds = ("studentized", "basic", "percentile", "±1.96 SE (Newey–West)")
    hits = dict.fromkeys(kinds, 0)
    t0 = time.perf_counter()
    for r in range(args.series):
        f = ar1(rng, args.rho, args.months)
        y = 0.01 + 1.2 * f + 0.5 * ar1(rng, args.rho, args.months)
        fit = gs.calibrate.factor_betas(pd.DataFrame({"y": y}, index=idx), pd.DataFrame({"f": f}, index=idx),
                                        newey_west=True)
        boot = fit.bootstrap(args.refits, seed=r, progress=False)
        est, se = fit.params[("y", "f")], fit.std_errors[("y", "f")]
        hits[kinds[-1]] += abs(est - 1.2) <= 1.96 * se
        for kind in kinds[:3]:
            row = boot.intervals(kind).loc[("y", "f")]
            hits[kind] += row["lower"] <= 1.2 <= row["upper"]
    print(f"betas: ρ = {args.rho}, {args.months} months, {args.series} series, {args.refits} refits each "
          f"(blocks of {round(args.months ** (1 / 3))}), {time.perf_counter() - t0:.0f} s")
    print("coverage of 95% intervals of the beta:")
    for kind in kinds:
        print(f"  {kind:24s} {hits[kind] / args.series:.3f}")


if __name__ == "__main__":
    main()
