"""Benchmark: peak memory of a materialised run and of a streamed summary.

Each case runs in a fresh subprocess and reports its peak RSS
(``resource.getrusage``). Targets: materialised peak RSS ≤ 1.2 × the output
arrays' bytes + 150 MB; 100,000,000 paths × 24 months of the default world
summarised in under 500 MB.

Run with ``python benches/bench_memory.py [--paths N] [--stream-paths N]``
(the default streamed case, 1e8 paths, takes several minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

CHILD = r"""
import json, resource, sys, time
import geoscenario as gs
mode, n = sys.argv[1], int(sys.argv[2])
world = gs.World.default()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
t0 = time.perf_counter()
if mode == "materialised":
    sim = world.simulate(n, 24, seed=1, progress=False)
    out_bytes = sum(sim.paths(s).nbytes for s in sim.units) + sim.weights.nbytes + sim.scenario.nbytes
else:
    res = world.simulate_summary(n, 24, seed=1, progress=False)
    out_bytes = 0
elapsed = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"peak": peak, "base": base, "out": out_bytes, "elapsed": elapsed}))
"""


def run(mode: str, n: int) -> dict:
    p = subprocess.run([sys.executable, "-c", CHILD, mode, str(n)], capture_output=True, text=True, check=True)
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--paths", type=int, default=1_000_000)
    ap.add_argument("--stream-paths", type=int, default=100_000_000)
    args = ap.parse_args()
    mb = 2**20
    r = run("materialised", args.paths)
    limit = 1.2 * r["out"] + 150 * mb
    print(f"materialised, {args.paths:,} paths × 24 months: output {r['out'] / mb:,.0f} MB, "
          f"peak RSS {r['peak'] / mb:,.0f} MB (interpreter + imports {r['base'] / mb:,.0f} MB), "
          f"limit 1.2 × output + 150 MB = {limit / mb:,.0f} MB -> {'OK' if r['peak'] <= limit else 'OVER'}; "
          f"{r['elapsed']:.2f} s")
    t0 = time.perf_counter()
    s = run("stream", args.stream_paths)
    print(f"streamed summary, {args.stream_paths:,} paths × 24 months: peak RSS {s['peak'] / mb:,.0f} MB "
          f"(limit 500 MB -> {'OK' if s['peak'] <= 500 * mb else 'OVER'}); {s['elapsed']:.1f} s "
          f"({time.perf_counter() - t0:.1f} s with start-up)")


if __name__ == "__main__":
    main()
