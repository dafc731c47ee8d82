"""Benchmark: the minimum-CVaR allocation of the four strategies and a 20-point
mean–CVaR frontier, against the same Rockafellar–Uryasev programme solved by
SciPy's HiGHS (``scipy.optimize.linprog``) in the same run.

Run with ``python benches/bench_allocation.py [--paths N ...]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

import geoscenario as gs
from geoscenario.views import strategy_returns

sys.path.insert(0, os.path.dirname(__file__))
from bench_kernel import cpu_model  # noqa: E402

ALPHA = 0.95


def scipy_min_cvar(r: np.ndarray, p: np.ndarray, alpha: float) -> tuple[np.ndarray, float]:
    """min ζ + Σ p_i u_i / (1 − α) s.t. u_i ≥ −R_i·x − ζ, u ≥ 0, x ≥ 0, Σx = 1
    (Rockafellar and Uryasev 2000, eq. 17) with variables (x, ζ, u)."""
    from scipy import sparse
    from scipy.optimize import linprog

    n, m = r.shape
    c = np.concatenate([np.zeros(m), [1.0], p / (1.0 - alpha)])
    a_ub = sparse.hstack([sparse.csr_matrix(-r), -np.ones((n, 1)), -sparse.identity(n)], format="csr")
    a_eq = np.concatenate([np.ones(m), [0.0], np.zeros(n)])[None, :]
    bounds = [(0, None)] * m + [(None, None)] + [(0, None)] * n
    res = linprog(c, A_ub=a_ub, b_ub=np.zeros(n), A_eq=a_eq, b_eq=[1.0], bounds=bounds, method="highs")
    if res.status != 0:
        raise RuntimeError(res.message)
    return res.x[:m], float(res.fun)


def many_strategies(world: gs.World, m: int) -> gs.World:
    """The world with m long/short strategies of random positions in its assets."""
    rng = np.random.default_rng(0)
    picks = [dict(zip(world.assets, rng.normal(0.0, 0.3, len(world.assets)))) for _ in range(m)]
    return world.with_strategies(*[gs.Strategy(f"s{i}", p) for i, p in enumerate(picks)], replace=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--paths", type=int, nargs="+", default=[20_000, 50_000])
    ap.add_argument("--strategies", type=int, nargs="+", default=[40],
                    help="also solve worlds of this many random long/short strategies")
    args = ap.parse_args()
    print(f"CPU: {cpu_model()} · {os.cpu_count()} logical cores · geoscenario {gs.__version__}")
    try:
        import scipy
    except ImportError:
        scipy = None
        print("scipy is not installed: the HiGHS comparison is skipped")
    default = gs.World.default()
    for world in [default, *(many_strategies(default, m) for m in args.strategies)]:
        bench(world, args.paths, scipy is not None)


def bench(world: gs.World, paths: list[int], highs: bool) -> None:
    """Time the minimum-CVaR weights and a 20-point frontier of `world`'s strategies."""
    print(f"\nminimum CVaR{ALPHA:.0%} of {len(world.strategies)} strategies, and a 20-point frontier")
    print(f"{'paths':>9} {'geoscenario':>12} {'HiGHS':>9} {'ratio':>7} {'|ΔCVaR|':>9} {'frontier':>9}")
    for n in paths:
        sim = world.simulate(n, seed=1, progress=False)
        t0 = time.perf_counter()
        a = sim.allocate(alpha=ALPHA)
        t_gs = time.perf_counter() - t0
        t0 = time.perf_counter()
        sim.efficient_frontier(alpha=ALPHA, n_points=20, progress=False)
        t_front = time.perf_counter() - t0
        if not highs:
            print(f"{n:>9,} {t_gs:>10.3f} s {'-':>9} {'-':>7} {'-':>9} {t_front:>7.2f} s")
            continue
        _, r, _ = strategy_returns(sim, None)
        t0 = time.perf_counter()
        _, cvar = scipy_min_cvar(r, sim.weights / sim.weights.sum(), ALPHA)
        t_hi = time.perf_counter() - t0
        gap = abs(float(a.cvar) - cvar)
        print(f"{n:>9,} {t_gs:>10.3f} s {t_hi:>7.3f} s {t_hi / t_gs:>6.1f}x {gap:>9.1e} {t_front:>7.2f} s")


if __name__ == "__main__":
    main()
