"""Benchmark: error of quasi-Monte Carlo (scrambled Sobol with a Brownian
bridge) against plain Monte Carlo on E[S_T] of a log-OU without jumps, whose
closed form is exp(m + v/2) (MODEL.md §3), and the cost per path of each.

Prints the RMSE over independent seeds at each N, the fitted slope of
log RMSE on log N (plain MC: −1/2) and the time of one run of each kind.
Run with ``python benches/bench_qmc.py [--seeds K]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

import geoscenario as gs

# the one-factor world and its closed-form E[S_T], shared with the tests
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "python"))
from test_qmc import ONE_FACTOR, exact_mean  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=int, default=32)
    p.add_argument("--months", type=int, default=24)
    args = p.parse_args()
    world = gs.World.from_toml(ONE_FACTOR)
    h = args.months
    truth = exact_mean(h / 12)
    sizes = [2**k for k in range(10, 17, 2)]
    print(f"E[S_T] at T = {h} months: exact {truth:.6f}; RMSE over {args.seeds} seeds")
    print(f"{'N':>8} {'MC RMSE':>12} {'QMC RMSE':>12} {'ratio':>8}")
    rmse: dict[bool, list[float]] = {False: [], True: []}
    for n in sizes:
        for qmc in (False, True):
            err = [
                world.simulate(n, h, seed=s, qmc=qmc, progress=False).paths("s")[:, -1].mean() - truth
                for s in range(args.seeds)
            ]
            rmse[qmc].append(float(np.sqrt(np.mean(np.square(err)))))
        print(f"{n:>8,} {rmse[False][-1]:>12.3e} {rmse[True][-1]:>12.3e} {rmse[False][-1] / rmse[True][-1]:>7.1f}x")
    for qmc, name in ((False, "plain MC"), (True, "Sobol + Owen + bridge")):
        slope = np.polyfit(np.log(sizes), np.log(rmse[qmc]), 1)[0]
        print(f"  slope of log RMSE on log N, {name:<22} {slope:6.2f}")
    n = 1 << 20  # a power of two, as QMC wants
    for qmc in (False, True):
        world.simulate(n // 16, h, seed=0, qmc=qmc, progress=False)
        t0 = time.perf_counter()
        world.simulate(n, h, seed=1, qmc=qmc, progress=False)
        dt = time.perf_counter() - t0
        print(f"  {'QMC' if qmc else 'MC '} {n:,} paths × {h} months: {dt:.3f} s")


if __name__ == "__main__":
    main()
