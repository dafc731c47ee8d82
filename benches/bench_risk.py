"""Benchmark: the risk table of 4 strategies on 1,000,000 paths, and entropy
pooling with 3 views on 1,000,000 scenarios (target: each under 1 second).

Run with ``python benches/bench_risk.py [--paths N]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

import geoscenario as gs

sys.path.insert(0, os.path.dirname(__file__))
from bench_kernel import cpu_model  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--paths", type=int, default=1_000_000)
    n = p.parse_args().paths
    print(f"CPU: {cpu_model()} · {os.cpu_count()} logical cores · geoscenario {gs.__version__}")
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
    post = sim.with_views(views)
    t_views = time.perf_counter() - t0
    print(f"\nrisk, {len(names)} strategies × {n:,} paths")
    print(f"  core risk table (mean, std, VaR, CVaR, P(loss), tail shares)   {t_core:7.3f} s")
    print(f"  sim.risk_table (adds exact quantiles and per-path max drawdown) {t_table:7.3f} s")
    print(f"entropy pooling, 3 views × {n:,} scenarios                        {t_views:7.3f} s "
          f"({post.posterior['iterations']} Newton steps, effective scenarios "
          f"{post.posterior['effective_scenarios']:,.0f})")


if __name__ == "__main__":
    main()
