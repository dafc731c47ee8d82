"""Benchmark: single-factor log-OU kernel and the default world.

Prints path-steps per second and the ratio against a vectorised NumPy
implementation of the same model run in the same process. Run with
``python benches/bench_kernel.py [--paths N] [--steps H]``.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import geoscenario as gs

KERNEL_TOML = """
[world]
name = "log_ou_kernel"
[factors.potash_spot]
kind = "log_ou"
unit = "USD/t"
initial = 352.0
[scenarios.base]
probability = 1.0
potash_spot = { theta = 352.0, kappa = 0.4, sigma = 0.30 }
"""
S0, THETA, KAPPA, SIGMA, DT = 352.0, 352.0, 0.4, 0.30, 1.0 / 12.0


def numpy_log_ou(n: int, h: int, seed: int) -> np.ndarray:
    """Exact log-OU step, vectorised over paths, output (n, h + 1) C-contiguous."""
    rng = np.random.default_rng(seed)
    a = np.exp(-KAPPA * DT)
    b = np.log(THETA) * (1.0 - a)
    s = SIGMA * np.sqrt((1.0 - np.exp(-2.0 * KAPPA * DT)) / (2.0 * KAPPA))
    out = np.empty((n, h + 1))
    out[:, 0] = S0
    x = np.full(n, np.log(S0))
    z = np.empty(n)
    for t in range(h):
        rng.standard_normal(out=z)
        z *= s
        x *= a
        x += b
        x += z
        np.exp(x, out=out[:, t + 1])
    return out


def numpy_log_ou_time_major(n: int, h: int, seed: int) -> np.ndarray:
    """The same, generating all shocks at once in a (h, n) array: fewer, longer NumPy calls,
    but every shock held at once and a transposed copy at the end (slower than the per-step
    loop on the machines measured, for 1,000,000 × 252)."""
    rng = np.random.default_rng(seed)
    a = np.exp(-KAPPA * DT)
    b = np.log(THETA) * (1.0 - a)
    s = SIGMA * np.sqrt((1.0 - np.exp(-2.0 * KAPPA * DT)) / (2.0 * KAPPA))
    x = np.empty((h + 1, n))
    x[0] = np.log(S0)
    z = rng.standard_normal((h, n))
    for t in range(h):
        np.multiply(x[t], a, out=x[t + 1])
        x[t + 1] += b + s * z[t]
    np.exp(x, out=x)
    return np.ascontiguousarray(x.T)


@functools.cache
def _numba_kernel():
    """The Numba kernel, compiled once (None if numba is missing)."""
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(parallel=True, fastmath=False)
    def kernel(n, h, seed, per_path_seed, s0, a, b, s):
        out = np.empty((n, h + 1))
        np.random.seed(seed)
        for i in numba.prange(n):
            if per_path_seed:
                np.random.seed(seed + i)
            x = np.log(s0)
            out[i, 0] = s0
            for t in range(h):
                x = a * x + b + s * np.random.standard_normal()
                out[i, t + 1] = np.exp(x)
        return out

    return kernel


def numba_log_ou(n: int, h: int, seed: int, per_path_seed: bool):
    """The same kernel with Numba ``prange`` over paths (None if numba is missing).

    With ``per_path_seed`` every path reseeds numba's per-thread generator, so
    that a path's numbers do not depend on the thread that runs it (what
    reproducibility across thread counts needs); without it the generator is
    seeded once, which is faster but gives thread-dependent results.
    """
    kernel = _numba_kernel()
    if kernel is None:
        return None
    a = np.exp(-KAPPA * DT)
    b = np.log(THETA) * (1.0 - a)
    s = SIGMA * np.sqrt((1.0 - np.exp(-2.0 * KAPPA * DT)) / (2.0 * KAPPA))
    return lambda: kernel(n, h, seed, per_path_seed, S0, a, b, s)


def _fill_all_cores(out: np.ndarray) -> None:
    k = os.cpu_count() or 1
    bounds = np.linspace(0, len(out), k + 1).astype(int)
    with ThreadPoolExecutor(k) as ex:  # ndarray.fill releases the GIL
        list(ex.map(lambda i: out[bounds[i] : bounds[i + 1]].fill(1.0), range(k)))


def first_touch(n: int, h: int) -> np.ndarray:
    """Allocate the output's (n, h + 1) float64 array and write it once with
    every core: the memory cost of fresh output pages."""
    out = np.empty((n, h + 1))
    _fill_all_cores(out)
    return out


def rewrite(out: np.ndarray) -> np.ndarray:
    """Write an already resident array once with every core: the memory cost a
    repeated simulation pays (geoscenario reuses the pages of an output array
    released within the last 2 s)."""
    _fill_all_cores(out)
    return out


def timed(fn, *args, repeat: int = 2, **kw):
    """Best of ``repeat`` runs (the first can pay for fresh memory pages)."""
    best, out = float("inf"), None
    for _ in range(repeat):
        out = None
        t0 = time.perf_counter()
        out = fn(*args, **kw)
        best = min(best, time.perf_counter() - t0)
    return best, out


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--paths", type=int, default=1_000_000)
    p.add_argument("--steps", type=int, default=252)
    p.add_argument("--world-paths", type=int, default=1_000_000)
    args = p.parse_args()
    n, h = args.paths, args.steps
    print(f"CPU: {cpu_model()} · {os.cpu_count()} logical cores · numpy {np.__version__} · geoscenario {gs.__version__}")
    print(f"engine: {gs._core.SIMD} instructions, table look-ups by {'gathers' if gs._core.GATHERS else 'scalar loads'}")

    world = gs.World.from_toml(KERNEL_TOML)
    # warm-up: thread pool and a full-size allocation, so that first-touch page
    # faults of fresh memory (slow on virtual machines) hit neither side
    world.simulate(n, h, seed=0, progress=False)
    numpy_log_ou(n // 10, h, 0)

    t_np, ref = timed(numpy_log_ou, n, h, 1)
    del ref
    t_np2, ref = timed(numpy_log_ou_time_major, n, h, 1, repeat=1)
    del ref
    t_nb = {}
    for per_path in (True, False):
        nb = numba_log_ou(n, h, 1, per_path)
        if nb is not None:
            numba_log_ou(1000, h, 1, per_path)()  # compile
            t_nb[per_path], ref = timed(nb)
            del ref
    t_mem, ref = timed(first_touch, n, h)
    t_rewrite, ref = timed(rewrite, ref)
    del ref
    t1, sim = timed(world.simulate, n, h, seed=1, threads=1, progress=False)
    del sim
    t2, sim = timed(world.simulate, n, h, seed=1, progress=False)
    del sim
    # the same normals with nothing else computed or stored: the generator's share
    t_draw1, _ = timed(gs._core.shock_normals_sum, n, h, 1, threads=1)
    t_draw, _ = timed(gs._core.shock_normals_sum, n, h, 1)
    steps = n * h
    print(f"\nsingle-factor log-OU kernel, {n:,} paths × {h} steps, float64 output ({n * (h + 1) * 8 / 2**30:.2f} GiB)")
    print(f"  numpy (per-step, (n, h+1) output)   {t_np:8.3f} s  {steps / t_np / 1e6:9.1f} M path-steps/s")
    print(f"  numpy (all shocks at once)          {t_np2:8.3f} s  {steps / t_np2 / 1e6:9.1f} M path-steps/s")
    if t_nb:
        print(f"  numba prange, seeded per path       {t_nb[True]:8.3f} s  {steps / t_nb[True] / 1e6:9.1f} M path-steps/s")
        print(f"  numba prange, seeded once           {t_nb[False]:8.3f} s  {steps / t_nb[False] / 1e6:9.1f} M path-steps/s")
    else:
        print("  numba prange                        skipped: numba is not installed (pip install numba)")
    print(f"  geoscenario, 1 thread               {t1:8.3f} s  {steps / t1 / 1e6:9.1f} M path-steps/s")
    print(f"  geoscenario, all threads            {t2:8.3f} s  {steps / t2 / 1e6:9.1f} M path-steps/s")
    print(f"  ratio vs numpy (per-step):          {t_np / t2:6.1f}x")
    print(f"  ratio vs numpy (all shocks at once):{t_np2 / t2:6.1f}x")
    if t_nb:
        print(f"  ratio vs numba (seeded per path):   {t_nb[True] / t2:6.1f}x")
        print(f"  ratio vs numba (seeded once):       {t_nb[False] / t2:6.1f}x")
    print(f"  thread scaling 1 → {os.cpu_count()}:            {t1 / t2:6.2f}x")
    print(f"  floor: allocating the output and writing it once, on every core, takes {t_mem:.3f} s,")
    print(f"  writing it again once resident {t_rewrite:.3f} s")
    print(f"  floor: drawing the {steps:,} normals alone (Philox4x32-10 and the ziggurat, nothing")
    print(f"  else computed or stored) takes {t_draw:.3f} s on every core, {t_draw1:.3f} s on one thread:")
    print(f"  numpy (per-step) / that = {t_np / t_draw:.1f}x; 30x numpy (per-step) is {t_np / 30:.3f} s")

    m = args.world_paths
    default = gs.World.default()
    default.simulate(m // 10, 24, seed=0, progress=False)
    tw, sim = timed(default.simulate, m, 24, seed=1, progress=False)
    print(f"\ndefault world, {m:,} paths × 24 months, {len(sim.units)} series")
    print(f"  geoscenario                         {tw:8.3f} s  {m * 24 / tw / 1e6:9.1f} M path-months/s")


if __name__ == "__main__":
    main()
