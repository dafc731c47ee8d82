"""Calls from many Python threads at once: the engine releases the GIL and
shares nothing mutable between calls, so 8 threads calling ``simulate``,
``simulate_summary`` and the risk functions concurrently get exactly the bits
of the same calls made one after another.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import assert_bit_identical

import geoscenario as gs
import geoscenario._core as core

N_THREADS = 8
N_PATHS = 4_096


def run_concurrently(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call on its own thread, all released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def start(fn: Callable[[], Any]) -> Any:
        barrier.wait()
        return fn()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(start, fn) for fn in calls]
        return [f.result(timeout=600) for f in futures]


@pytest.fixture(scope="module")
def worlds(default_world: gs.World, markov_world: gs.World) -> dict[str, gs.World]:
    return {"default": default_world, "markov": markov_world}


def _simulate_calls(worlds: dict[str, gs.World]) -> list[Callable[[], gs.Simulation]]:
    """8 different requests: two worlds, repeated and distinct seeds, thread counts, antithetic."""
    specs = [
        ("default", 0, None, False, False),
        ("default", 0, None, False, False),  # the same request twice at once
        ("default", 1, 1, False, False),
        ("default", 2, 2, True, False),
        ("markov", 0, None, False, False),
        ("markov", 3, 1, True, False),
        ("default", 2**64 - 1, 2, False, False),
        ("default", 5, 2, False, True),  # randomised QMC
    ]
    return [
        (
            lambda w=worlds[name], s=seed, t=thr, a=anti, q=qmc: w.simulate(
                N_PATHS, horizon_months=12, seed=s, threads=t, antithetic=a, qmc=q, progress=False
            )
        )
        for name, seed, thr, anti, qmc in specs
    ]


def test_simulate_from_8_threads_is_identical_to_sequential(worlds):
    calls = _simulate_calls(worlds)
    assert len(calls) == N_THREADS
    sequential = [fn() for fn in calls]
    for _ in range(2):  # twice, to give races two chances
        concurrent = run_concurrently(calls)
        for a, b in zip(sequential, concurrent):
            assert_bit_identical(a, b)
            for name in a.units:
                assert b.paths(name).shape == (N_PATHS, 13)
                assert np.isfinite(b.paths(name)).all()


def _frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_simulate_summary_from_8_threads_is_identical_to_sequential(worlds):
    specs = [("default", s % 3, thr) for s, thr in zip(range(6), [None, 1, 2, None, 1, 2])]
    specs += [("markov", 0, None), ("markov", 0, 2)]
    calls = [
        (
            lambda w=worlds[name], s=seed, t=thr: w.simulate_summary(
                N_PATHS, horizon_months=12, seed=s, threads=t, progress=False
            )
        )
        for name, seed, thr in specs
    ]
    sequential = [fn() for fn in calls]
    concurrent = run_concurrently(calls)
    for a, b in zip(sequential, concurrent):
        _frames_equal(a.table, b.table)
        _frames_equal(a.risk, b.risk)
        assert len(a.table) and np.isfinite(a.table["mean"].to_numpy(dtype=float)).all()


@pytest.fixture(scope="module")
def sims(worlds) -> list[gs.Simulation]:
    return [worlds["default"].simulate(N_PATHS, seed=s, progress=False) for s in range(2)]


def _risk_calls(sims: list[gs.Simulation]) -> list[tuple[str, Callable[[], Any]]]:
    sim = sims[0]
    names = list(sim.world.strategies)
    r = np.ascontiguousarray(np.column_stack([sim.paths(s)[:, -1] - 1.0 for s in names]))
    w = np.ascontiguousarray(sim.weights)
    scen = np.ascontiguousarray(sim.scenario)
    nav = np.ascontiguousarray(sim.paths(names[0]))
    views = [gs.View.prob_above("potash_spot", 450, 0.30), gs.View.mean("bilateral_trade", 9.5)]
    return [
        ("risk_table", lambda: sim.risk_table(0.95)),
        ("risk_table_other", lambda: sims[1].risk_table(0.99)),
        ("core.risk_table", lambda: core.risk_table(r, w, scen, len(sim.scenario_names), 0.95)),
        ("core.var_cvar", lambda: core.var_cvar(np.ascontiguousarray(r[:, 0]), w, 0.9)),
        ("core.max_drawdown", lambda: core.max_drawdown(nav)),
        ("allocate", lambda: sim.allocate(0.95).weights),
        ("efficient_frontier", lambda: sim.efficient_frontier(0.95, n_points=3)),
        ("with_views", lambda: sim.with_views(views).weights),
    ]


def _same(a: Any, b: Any) -> None:
    if isinstance(a, pd.DataFrame):
        _frames_equal(a, b)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, check_exact=True)
    elif isinstance(a, np.ndarray):
        assert a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k])
    else:
        assert a == b


def test_risk_views_and_allocation_from_8_threads_are_identical_to_sequential(sims):
    named = _risk_calls(sims)
    assert len(named) == N_THREADS
    calls = [fn for _, fn in named]
    sequential = [fn() for fn in calls]
    concurrent = run_concurrently(calls)
    for (name, _), a, b in zip(named, sequential, concurrent):
        try:
            _same(a, b)
        except AssertionError as e:  # pragma: no cover - diagnostic
            raise AssertionError(
                f"{name}: concurrent result differs from the sequential one"
            ) from e


def test_mixed_calls_from_threads_while_simulating(worlds, sims):
    """Simulations and risk calls interleaved on 8 threads, two rounds."""
    risk = _risk_calls(sims)
    sims_calls = _simulate_calls(worlds)
    calls = [fn for _, fn in risk[:4]] + sims_calls[:4]
    sequential = [fn() for fn in calls]
    concurrent = run_concurrently(calls)
    for a, b in zip(sequential, concurrent):
        if isinstance(a, gs.Simulation):
            assert_bit_identical(a, b)
        else:
            _same(a, b)


# ========================================================================== the GIL is released
def _python_progress_during(fn: Callable[[], Any]) -> tuple[int, float]:
    """Run ``fn`` on this thread while another Python thread ticks; return the ticks seen in
    the middle 60% of the call and the call's duration.

    A call that held the GIL throughout would leave no tick inside its middle; one that
    releases it lets the ticker run (it sleeps 1 ms between ticks).
    """
    ticks: list[float] = []
    stop = threading.Event()

    def ticker() -> None:
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.001)

    t = threading.Thread(target=ticker, daemon=True)
    t.start()
    while not ticks:
        time.sleep(0.001)
    t0 = time.monotonic()
    fn()
    t1 = time.monotonic()
    stop.set()
    t.join()
    lo, hi = t0 + 0.2 * (t1 - t0), t1 - 0.2 * (t1 - t0)
    return sum(lo <= x <= hi for x in ticks), t1 - t0


@pytest.mark.parametrize(
    "what",
    ["simulate", "simulate_summary", "risk_table", "mean_cvar", "entropy_pooling"],
)
def test_gil_is_released_during_long_calls(default_world, what):
    rng = np.random.default_rng(0)
    if what == "simulate":

        def fn() -> Any:
            return default_world.simulate(250_000, seed=0, threads=1, progress=False)
    elif what == "simulate_summary":

        def fn() -> Any:
            return default_world.simulate_summary(80_000, seed=0, threads=1, progress=False)
    elif what == "risk_table":
        n = 4_000_000
        r = rng.normal(0.0, 0.1, (n, 2))
        w = np.full(n, 1.0 / n)
        scen = (np.arange(n) % 3).astype(np.int64)

        def fn() -> Any:
            return core.risk_table(r, w, scen, 3, 0.95)
    elif what == "entropy_pooling":
        n, k = 50_000, 300  # a few Newton iterations of about 0.1 s
        a = rng.random((k, n))
        b = a.mean(axis=1) + 0.002
        none2, none1 = np.empty((0, n)), np.empty(0)

        def fn() -> Any:
            return core.entropy_pooling(np.full(n, 1.0 / n), a, b, none2, none1)
    else:
        n = 1_000_000  # about 1 s: constraint generation makes smaller programmes too quick to watch
        r = np.ascontiguousarray(rng.normal(0.01, 0.1, (n, 4)))
        w = np.full(n, 1.0 / n)

        def fn() -> Any:
            return core.mean_cvar(r, w, 0.95)

    ticks, seconds = _python_progress_during(fn)
    if seconds < 0.2:
        pytest.skip(f"{what} finished in {seconds:.3f} s: too quick to observe")
    assert ticks >= 3, f"{what}: no Python thread ran during the middle of a {seconds:.2f} s call"


# ------------------------------------------------------------------ inputs written meanwhile
class _Writer:
    """A thread that keeps writing ``a few values`` of an array until stopped."""

    def __init__(self, write: Callable[[], None]) -> None:
        self.stop = False
        self.thread = threading.Thread(target=self._loop, args=(write,), daemon=True)

    def _loop(self, write: Callable[[], None]) -> None:
        while not self.stop:
            write()

    def __enter__(self) -> _Writer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop = True
        self.thread.join()


def _calls_for(seconds: float, call: Callable[[], Any]) -> list[Any]:
    """The outcomes (a result, or the exception's type name) of ``call`` repeated for ``seconds``."""
    out: list[Any] = []
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds or len(out) < 5:
        try:
            out.append(call())
        except BaseException as e:  # a PanicException is not an Exception
            if isinstance(e, KeyboardInterrupt):
                raise
            out.append(type(e).__name__)
    return out


def test_an_input_written_by_another_thread_during_a_call_is_read_as_one_snapshot():
    # the engine reads inputs without the GIL: it must read a copy taken with the GIL
    # held, so that each call sees the array either before or after a write (of one
    # element: atomic under the GIL, where NumPy may release it in the middle of a
    # block). Entropy pooling reads its view matrix in every Newton step: read in
    # place, a value that changes between steps gives neither posterior
    n = 400_000
    rng = np.random.default_rng(1)
    prior, a, b = np.full(n, 1.0 / n), rng.standard_normal((1, n)), np.array([0.3])
    none, no_b = np.zeros((0, n)), np.zeros(0)
    k, orig = 7, float(a[0, 7])

    def posterior() -> bytes:
        return core.entropy_pooling(prior, a, b, none, no_b)["q"].tobytes()

    def flip() -> None:
        a[0, k] = 50.0
        a[0, k] = orig

    ref = posterior()
    a[0, k] = 50.0
    flipped = posterior()
    a[0, k] = orig
    assert ref != flipped
    with _Writer(flip):
        seen = _calls_for(1.5, posterior)
    assert sum(s not in (ref, flipped) for s in seen) == 0, f"{len(seen)} calls"
    # a scenario index checked once and then used: out of range while the check ran
    # after it, it must give the check's error, not a panic
    n = 1_000_000
    pnl, w, scen = rng.standard_normal((n, 1)), np.ones(n), np.zeros(n, dtype=np.int64)

    def bad_index() -> None:
        scen[-1] = 1_000_000_000
        scen[-1] = 0

    with _Writer(bad_index):
        seen = _calls_for(1.5, lambda: core.risk_table(pnl, w, scen, 2, 0.95))
    assert all(isinstance(s, dict) or s == "ConfigError" for s in seen), {s for s in seen if isinstance(s, str)}


def test_a_simulations_own_arrays_are_read_in_place():
    # the engine's output arrays cannot be written from Python: the risk functions
    # read them without a copy, and what they compute is the same either way
    sim = gs.World.default().simulate(20_000, seed=3, progress=False)
    nav = sim.paths("commodities_arbitrage")
    with pytest.raises(ValueError, match="read-only"):
        nav[0, 0] = 0.0
    assert np.array_equal(core.max_drawdown(nav), core.max_drawdown(nav.copy()))
    x = nav[:, -1] - 1.0
    assert core.var_cvar(x, np.asarray(sim.weights), 0.95) == core.var_cvar(x.copy(), sim.weights.copy(), 0.95)
