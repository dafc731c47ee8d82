"""Child processes forked after the engine has run (``multiprocessing`` forks by
default on Linux before Python 3.14) get the same results as the parent and never
hang: the engine's threads and kept memory belong to the process that made them,
and a forked child makes its own."""

from __future__ import annotations

import multiprocessing as mp

import numpy as np
import pytest

import geoscenario as gs

pytestmark = [
    pytest.mark.skipif("fork" not in mp.get_all_start_methods(), reason="needs fork()"),
    # forking a process with threads is what this test is about
    pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning"),
]

N = 40_000  # 8 MB series: kept for reuse in the parent


def _figures(seed: int) -> tuple[float, float, float, float]:
    """Each parallel entry point once: simulate, the risk table, max drawdown,
    and a streamed summary."""
    sim = gs.World.default().simulate(N, seed=seed, progress=False)
    spot = float(sim.paths("potash_spot")[:, -1].mean())
    cvar = float(sim.risk_table()["cvar"].iloc[0])
    dd = float(sim.max_drawdown("commodities_arbitrage").mean())
    summ = gs.World.default().simulate_summary(N, seed=seed, series="potash_spot", progress=False)
    return spot, cvar, dd, float(summ.table["mean"].iloc[0])


def test_forked_children_match_the_parent_and_do_not_hang():
    expected = [_figures(s) for s in (0, 1)]  # the parent has its threads and kept memory now
    released = gs.World.default().simulate(N, seed=5, progress=False)
    del released  # kept for reuse in the parent while the children run
    with mp.get_context("fork").Pool(2) as pool:
        got = pool.map_async(_figures, [0, 1]).get(timeout=300)
    np.testing.assert_array_equal(np.array(got), np.array(expected))
