"""Ctrl-C and size limits.

A child process starts a long computation; SIGINT a second later must end it
with a ``KeyboardInterrupt`` traceback within a few seconds (the engine polls
for signals and cancels its workers), not run to completion or hang. Where the
work is cancellable, nothing keeps running once the exception is raised.
Requests beyond the limits are refused before any work with a message giving
the limit and the request.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import geoscenario as gs
import geoscenario._core as core

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

READY_TIMEOUT = 120.0  # import and set-up in the child, on a loaded machine
DELAY = 1.0  # seconds between the start of the computation and SIGINT
GRACE = 10.0  # seconds the child may take to stop after SIGINT

CHILD = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    import geoscenario as gs
    import geoscenario._core as core

    mode = sys.argv[1]
    world = gs.World.default()
    if mode == "simulate":
        # a few seconds of work on one thread (well past the SIGINT); the arrays are filled as it goes
        run = lambda: world.simulate(1_000_000, seed=0, threads=1, progress=False)
    elif mode == "simulate_all_threads":
        run = lambda: world.simulate(2_000_000, seed=0, progress=False)
    elif mode == "simulate_summary":
        run = lambda: world.simulate_summary(50_000_000, seed=0, progress=False)
    elif mode == "entropy_pooling":
        # 800 views on 100,000 scenarios: several Newton iterations of about a second
        rng = np.random.default_rng(0)
        n, k = 100_000, 800
        a = rng.random((k, n))
        b = a.mean(axis=1) + 0.001
        none2, none1 = np.empty((0, n)), np.empty(0)
        run = lambda: core.entropy_pooling(np.full(n, 1.0 / n), a, b, none2, none1)
    elif mode in ("calibrate_log_ou", "calibrate_gbm"):
        # a jump fit of 950 years of daily levels (log-OU with jumps, κ = 2): 7-9 s of
        # likelihoods on two threads, well past the SIGINT
        import pandas as pd
        rng = np.random.default_rng(0)
        n, b = 240_000, np.exp(-2.0 / 252)
        eps = rng.normal(0, 0.01, n) + rng.binomial(1, 0.01, n) * rng.normal(-0.02, 0.05, n)
        x = np.full(n, 4.6)
        for t in range(1, n):
            x[t] = 4.6 + b * (x[t - 1] - 4.6) + eps[t]
        levels = pd.Series(np.exp(x), index=pd.date_range("1800-01-01", periods=n, freq="D", unit="s"))
        fit = gs.calibrate.log_ou if mode == "calibrate_log_ou" else gs.calibrate.gbm
        run = lambda: fit(levels, jumps=True, dt=1 / 252)
    elif mode == "mean_cvar":
        # one programme of 256 strategies on 20,000 paths: about 20 s of solver iterations
        rng = np.random.default_rng(0)
        r = np.ascontiguousarray(rng.normal(0.01, 0.1, (20_000, 256)) + rng.normal(0, 0.05, (20_000, 1)))
        run = lambda: core.mean_cvar(r, np.full(20_000, 1 / 20_000), 0.95)
    elif mode == "efficient_frontier":
        rng = np.random.default_rng(0)
        r = np.ascontiguousarray(rng.normal(0.01, 0.1, (100_000, 4)))
        w = np.full(100_000, 1e-5)
        run = lambda: core.efficient_frontier(r, w, 0.95, 20)
    else:
        raise SystemExit(f"unknown mode {mode}")
    try:  # (a Ctrl-C right after READY, on a stalled machine, still reaches the handler)
        print("READY", flush=True)
        t0 = time.perf_counter()
        run()
    except KeyboardInterrupt:
        # CPU time of the whole process over the next half second: work left
        # running in the background would show here
        c0 = time.process_time()
        time.sleep(0.5)
        print(f"CPU_AFTER {time.process_time() - c0:.3f}", flush=True)
        raise
    print(f"FINISHED after {time.perf_counter() - t0:.1f} s", flush=True)
    """
)


def interrupt_child(mode: str) -> tuple[int, str, str, float]:
    """Start the child, SIGINT it DELAY seconds into the computation; return
    (returncode, stdout, stderr, seconds from SIGINT to exit)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(READY_TIMEOUT, proc.kill)
    watchdog.start()
    try:
        line = proc.stdout.readline() if proc.stdout else ""
    finally:
        watchdog.cancel()
    if line.strip() != "READY":
        out, err = proc.communicate(timeout=30)
        pytest.fail(f"{mode}: child did not start: {line!r} {out!r} {err[-2000:]!r}")
    time.sleep(DELAY)
    if proc.poll() is not None:
        out, err = proc.communicate()
        pytest.fail(
            f"{mode}: finished before SIGINT, make the workload longer: {out!r} {err[-500:]!r}"
        )
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=GRACE)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"{mode}: still running {GRACE} s after SIGINT (Ctrl-C does not stop it)")
    return proc.returncode, line + out, err, time.monotonic() - t0


@pytest.mark.parametrize("mode", ["simulate", "simulate_all_threads", "simulate_summary", "entropy_pooling",
                                  "calibrate_log_ou", "calibrate_gbm"])
def test_ctrl_c_stops_the_work(mode):
    code, out, err, waited = interrupt_child(mode)
    assert "FINISHED" not in out, f"{mode} ran to completion instead of stopping: {out}"
    assert "KeyboardInterrupt" in err, err[-2000:]
    assert "Traceback" in err and "PanicException" not in err, err[-2000:]
    assert code != 0
    assert waited < GRACE
    # the workers stopped: the idle process uses well under the 0.5 s (per busy
    # core) that work left running would add
    cpu = float(out.split("CPU_AFTER")[1].split()[0])
    assert cpu < 0.2, f"{mode}: {cpu:.2f} s of CPU in the 0.5 s after KeyboardInterrupt"


@pytest.mark.parametrize("mode", ["efficient_frontier", "mean_cvar"])
def test_ctrl_c_stops_optimisation(mode):
    """The mean–CVaR frontier (20 linear programmes on 100,000 paths, ~30 s), and one
    programme of many strategies (~20 s), stop on Ctrl-C at the solver's next iteration,
    and nothing keeps running."""
    code, out, err, waited = interrupt_child(mode)
    assert "FINISHED" not in out, out
    assert "KeyboardInterrupt" in err, err[-2000:]
    assert code != 0
    cpu = float(out.split("CPU_AFTER")[1].split()[0])
    assert cpu < 0.2, f"{cpu:.2f} s of CPU in the 0.5 s after KeyboardInterrupt"


# ======================================================================================= limits
LIMITS_CHILD = textwrap.dedent(
    """
    import json, sys, time
    import geoscenario as gs
    import geoscenario._core as core

    world = gs.World.default()
    MAX = int(core.MAX_PATHS)
    H = int(core.MAX_HORIZON)
    checks = {
        "max_paths": lambda: world.simulate(MAX, progress=False),
        "max_paths_minus_one": lambda: world.simulate(MAX - 1, progress=False),
        "over_max_paths": lambda: world.simulate(MAX + 1, progress=False),
        "long_horizon_memory": lambda: world.simulate(50_000_000, horizon_months=H, progress=False),
        "over_max_horizon": lambda: world.simulate(1_000, horizon_months=H + 1, progress=False),
        "summary_over_max_paths": lambda: world.simulate_summary(MAX + 1, progress=False),
        "summary_over_max_horizon": lambda: world.simulate_summary(
            1_000, horizon_months=H + 1, progress=False),
        "too_many_threads": lambda: world.simulate(1_000, threads=100_000, progress=False),
        "huge_chunk": lambda: world.simulate(1_000, chunk_paths=1 << 30, progress=False),
        "core_max_paths": lambda: world._core.simulate(MAX, 24, 0, False, None, 2048, 0, MAX, None),
        "core_shard_memory": lambda: world._core.simulate(
            MAX, 24, 0, False, None, 2048, 0, 10**11, None),
        "core_summary_job": lambda: core.SummaryJob.for_world(
            world._core, [], 24, MAX + 1, 24, 0, False),
    }
    for name, fn in checks.items():
        t0 = time.perf_counter()
        try:
            fn()
            rec = {"outcome": "ok"}
        except BaseException as e:
            rec = {"outcome": type(e).__name__, "message": str(e)[:500],
                   "path": getattr(e, "path", None), "memory": isinstance(e, MemoryError)}
        rec["seconds"] = time.perf_counter() - t0
        print(json.dumps({name: rec}), flush=True)
    """
)


@pytest.fixture(scope="module")
def limits() -> dict[str, dict]:
    proc = subprocess.run(
        [sys.executable, "-c", LIMITS_CHILD], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out: dict[str, dict] = {}
    for line in proc.stdout.splitlines():
        out.update(json.loads(line))
    return out


MAX = int(core.MAX_PATHS)
H = int(core.MAX_HORIZON)


@pytest.mark.parametrize(
    "name, cls, must_contain",
    [
        ("max_paths", "ResourceError", [f"{MAX:,} paths", "limit"]),
        ("max_paths_minus_one", "ResourceError", [f"{MAX - 1:,} paths", "limit"]),
        ("long_horizon_memory", "ResourceError", ["50,000,000 paths", f"{H + 1} months", "limit"]),
        ("core_max_paths", "ResourceError", [f"{MAX:,} paths", "limit"]),
        ("core_shard_memory", "ResourceError", [f"{10**11:,} paths", "limit"]),
        ("over_max_paths", "ConfigError", ["n_paths", str(MAX), str(MAX + 1)]),
        ("summary_over_max_paths", "ConfigError", ["n_paths", str(MAX), str(MAX + 1)]),
        ("core_summary_job", "ConfigError", ["n_paths", str(MAX), str(MAX + 1)]),
        ("over_max_horizon", "ConfigError", ["horizon_months", str(H), str(H + 1)]),
        ("summary_over_max_horizon", "ConfigError", ["horizon_months", str(H), str(H + 1)]),
        ("too_many_threads", "ConfigError", ["threads", "1024", "100000"]),
        ("huge_chunk", "ConfigError", ["chunk_paths", str(1 << 24), str(1 << 30)]),
    ],
)
def test_oversized_requests_are_refused_before_work(limits, name, cls, must_contain):
    rec = limits[name]
    assert rec["outcome"] == cls, rec
    for s in must_contain:
        assert s in rec["message"], (s, rec["message"])
    if cls == "ResourceError":
        assert rec["memory"], "ResourceError is a MemoryError"
        assert "needs" in rec["message"] and "available" in rec["message"], rec["message"]
    else:
        assert rec["path"] == must_contain[0], rec


def test_resource_error_class():
    assert issubclass(gs.ResourceError, MemoryError)
    assert issubclass(gs.ResourceError, gs.GeoscenarioError)
    with pytest.raises(gs.ResourceError, match=r"paths × \d+ months × \d+ series: needs .* limit"):
        gs.World.default().simulate(MAX, progress=False)
