"""Benchmark: the risk table of 4 strategies on 1,000,000 paths, and entropy
pooling with 3 views on 1,000,000 scenarios (target: each under 1 second), and
the posterior's summary against the prior's; then entropy pooling with many views
(``--views``, 500 probability views on 100,000 scenarios by default) against
Newton's method in NumPy on the same problem, with peak memory; then a risk table
of many buy-and-hold mixes
(``--mixes``, 200 on 100,000 paths by default) against the same statistics of
mix NAVs built in NumPy (the previous implementation); then ``gs.stats.weighted_mean``
and ``weighted_std`` of ``--paths`` values against ``np.average``.

Run with ``python benches/bench_risk.py [--paths N] [--views K] [--view-paths N]
[--mixes M] [--mix-paths N]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

import numpy as np

import geoscenario as gs

sys.path.insert(0, os.path.dirname(__file__))
from bench_kernel import cpu_model  # noqa: E402


def numpy_entropy_pooling(p: np.ndarray, a: np.ndarray, b: np.ndarray, tol: float) -> tuple[np.ndarray, int]:
    """Equality views E_q[a_j] = b_j by Newton's method on the dual
    φ(ν) = ln Σ p e^{ν·(a − b)} with Armijo backtracking, in NumPy (BLAS for the
    Hessian); stops when every view holds to ``tol`` of its scale."""
    d = a - b[:, None]
    scale = np.maximum(np.abs(a).max(axis=1), np.abs(b))
    lnp = np.log(p)
    nu = np.zeros(len(b))

    def phi(nu: np.ndarray) -> tuple[float, np.ndarray]:
        t = lnp + nu @ d
        m = t.max()
        e = np.exp(t - m)
        return m + np.log(e.sum()), e / e.sum()

    f, q = phi(nu)
    for it in range(200):
        g = d @ q
        if (np.abs(g) <= tol * scale).all():
            return q, it
        h = (d * q) @ d.T - np.outer(g, g)
        step = -np.linalg.solve(h, g)
        s = 1.0
        while True:
            f_new, q_new = phi(nu + s * step)
            if f_new <= f + 1e-4 * s * (g @ step) or s < 1e-10:
                break
            s *= 0.5
        nu, f, q = nu + s * step, f_new, q_new
    raise RuntimeError("numpy Newton did not converge")


def many_views(n: int, k: int) -> None:
    """k probability views P(x_j > c_j) = 1.02 × the prior's, on n equally weighted scenarios."""
    rng = np.random.default_rng(0)
    a = (rng.random((k, n)) > rng.random((k, 1))).astype(float)
    b = np.minimum(a.mean(axis=1) * 1.02, 0.999)
    prior = np.full(n, 1.0 / n)
    none2, none1 = np.empty((0, n)), np.empty(0)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    post = gs._core.entropy_pooling(prior, a, b, none2, none1)
    t_gs = time.perf_counter() - t0
    peak_gs = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    q_np, it_np = numpy_entropy_pooling(prior, a, b, 1e-10)
    t_np = time.perf_counter() - t0
    peak_np = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    gap = float(np.abs(np.asarray(post["q"]) - q_np).max() / q_np.max())
    print(f"\nentropy pooling, {k:,} probability views × {n:,} scenarios (views alone {a.nbytes / 2**20:,.0f} MiB)")
    print(f"  geoscenario   {t_gs:7.2f} s  {post['iterations']} Newton steps  peak RSS {peak_gs:,.0f} MB (from {base:,.0f} MB)")
    print(f"  numpy Newton  {t_np:7.2f} s  {it_np} Newton steps  peak RSS {peak_np:,.0f} MB (BLAS Hessian)")
    print(f"  ratio vs numpy: {t_np / t_gs:5.2f}x; largest posterior difference {gap:.1e} of the largest weight")


def numpy_mix_values(sim: gs.Simulation, reducers: list, t: int) -> np.ndarray:
    """Each reducer's values on the paths as the previous implementation built them:
    a mix's NAV summed in NumPy, its drawdowns by the core's ``max_drawdown``."""
    values = np.empty((len(reducers), sim.n_paths))
    for i, (*_, a, b, _q, _th, _cv, terms, drawdown) in enumerate(reducers):
        nav = np.ones((sim.n_paths, t + 1))
        for s, v in terms:
            nav += v * (sim.paths(s)[:, : t + 1] - 1.0)
        col = gs._core.max_drawdown(nav) if drawdown else nav[:, t]
        values[i] = a + b * col
    return values


def many_mixes(n: int, k: int) -> None:
    """A risk table of k random long-only mixes of the default world's strategies."""
    from geoscenario.summary import build_reducers, check_mixes

    sim = gs.World.default().simulate(n, seed=2, progress=False)
    names = list(sim.world.strategies)
    rng = np.random.default_rng(0)
    mixes = {f"mix{i}": dict(zip(names, rng.dirichlet(np.ones(len(names))))) for i in range(k)}
    t0 = time.perf_counter()
    sim.risk_table(0.95, [], mixes=mixes)
    t_gs = time.perf_counter() - t0
    t0 = time.perf_counter()
    h = sim.horizon_months
    reducers = build_reducers([], [], [0.05, 0.5, 0.95], {}, 0.95, check_mixes(mixes, names))
    job = gs._core.SummaryJob.for_world(sim.world._core, reducers, h, n, h, sim.seed, sim.antithetic)
    rows = gs._core.summarize_arrays(job, numpy_mix_values(sim, reducers, h), sim.scenario, list(sim.probabilities.values()))
    t_np = time.perf_counter() - t0
    same = rows == gs._core.summarize_arrays(job, job.values(sim._series), sim.scenario, list(sim.probabilities.values()))
    print(f"\nrisk table of {k:,} mixes × {n:,} paths (NAV at the horizon and maximum drawdown of each)")
    print(f"  geoscenario          {t_gs:7.2f} s")
    print(f"  NumPy-built NAVs     {t_np:7.2f} s  (the previous implementation)")
    print(f"  ratio: {t_np / t_gs:5.2f}x; statistics bit-identical: {same}")


def weighted_stats(n: int) -> None:
    """``gs.stats.weighted_mean`` and ``weighted_std`` of n values against the NumPy a quant
    would write (``np.average``), best of several runs each."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(n), rng.random(n)
    reps = max(1, 2_000_000 // n)

    def best(fn) -> float:
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(reps):
                fn()
            times.append((time.perf_counter() - t0) / reps)
        return min(times)

    def np_std() -> float:
        return float(np.sqrt(np.average((x - np.average(x, weights=w)) ** 2, weights=w)))

    rows = [("weighted_mean", best(lambda: gs.stats.weighted_mean(x, w)), best(lambda: np.average(x, weights=w))),
            ("weighted_std", best(lambda: gs.stats.weighted_std(x, w)), best(np_std))]
    gap = max(abs(gs.stats.weighted_mean(x, w) - np.average(x, weights=w)) / abs(np.average(x, weights=w)),
              abs(gs.stats.weighted_std(x, w) - np_std()) / np_std())
    print(f"\nweighted statistics of {n:,} values (checked for finite values and weights >= 0)")
    for name, t_gs, t_np in rows:
        print(f"  gs.stats.{name:14s} {t_gs * 1e3:8.3f} ms   np.average {t_np * 1e3:8.3f} ms   "
              f"ratio vs numpy: {t_np / t_gs:5.2f}x")
    print(f"  relative difference from numpy, the larger of the two: {gap:.1e}")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--paths", type=int, default=1_000_000)
    p.add_argument("--views", type=int, default=500)
    p.add_argument("--view-paths", type=int, default=100_000)
    p.add_argument("--mixes", type=int, default=200)
    p.add_argument("--mix-paths", type=int, default=100_000)
    args = p.parse_args()
    n = args.paths
    print(f"CPU: {cpu_model()} · {os.cpu_count()} logical cores · geoscenario {gs.__version__}")
    many_views(args.view_paths, args.views)  # first: peak memory is measured from a small process
    sim = gs.World.default().simulate(n, seed=1, progress=False)
    names = list(sim.world.strategies)
    r = np.ascontiguousarray(np.column_stack([sim.paths(s)[:, -1] - 1 for s in names]))
    w = np.ascontiguousarray(sim.weights)
    gs._core.risk_table(r, w, sim.scenario, 3, 0.95)  # warm-up
    t0 = time.perf_counter()
    gs._core.risk_table(r, w, sim.scenario, 3, 0.95)
    t_core = time.perf_counter() - t0
    t0 = time.perf_counter()
    sim.risk_table(0.95)
    t_table = time.perf_counter() - t0
    views = [
        gs.View.prob_above("potash_spot", 450, 0.30),
        gs.View.mean("bilateral_trade", 9.5),
        gs.View.mean("eurobond_price", 20.0, op=">="),
    ]
    t0 = time.perf_counter()
    post = sim.with_views(views, progress=False)
    t_views = time.perf_counter() - t0
    print(f"\nrisk, {len(names)} strategies × {n:,} paths")
    print(f"  core risk table (mean, std, VaR, CVaR, P(loss), tail shares)   {t_core:7.3f} s")
    print(f"  sim.risk_table (adds exact quantiles and per-path max drawdown) {t_table:7.3f} s")
    print(f"entropy pooling, 3 views × {n:,} scenarios                        {t_views:7.3f} s "
          f"({post.posterior['iterations']} Newton steps, effective scenarios "
          f"{post.posterior['effective_scenarios']:,.0f})")
    t0 = time.perf_counter()
    sim.summary(progress=False)
    t_prior = time.perf_counter() - t0
    t0 = time.perf_counter()
    post.summary(progress=False)
    t_post = time.perf_counter() - t0
    print(f"summary at the horizon: prior {t_prior:.3f} s, posterior {t_post:.3f} s ({t_post / t_prior:.1f}x the "
          "prior's: its standard errors count the views' fit)")
    many_mixes(args.mix_paths, args.mixes)
    weighted_stats(n)


if __name__ == "__main__":
    main()
