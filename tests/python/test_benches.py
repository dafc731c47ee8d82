"""Every benchmark in ``benches/`` (and the coverage study beside them) runs to the end at a small size.

The benchmarks are run by hand (their figures are quoted in the README), so a
change of the API they call would otherwise go unnoticed until the next
measurement: ``bench_allocation.py`` failed for many commits after
``views.strategy_returns`` gained a third result. Times are not checked here;
each run must exit with status 0 and print the line its figures come from.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHES = Path(__file__).resolve().parents[2] / "benches"

# small arguments for each benchmark, and text its output must contain
RUNS = {
    "bench_allocation.py": (["--paths", "5000", "--strategies", "6"], "minimum CVaR95% of 6 strategies"),
    "bench_backtest.py": (["--assets", "3", "--years", "2", "--repeat", "1"], "gs.backtest (end to end)"),
    "bench_calibrate.py": (["--days", "1000", "--repeat", "1", "--boot", "20"], "same draws: True"),
    "bench_kernel.py": (["--paths", "2000", "--steps", "12", "--world-paths", "2000"], "ratio vs numpy (per-step)"),
    "bench_memory.py": (["--paths", "2000", "--stream-paths", "20000"], "streamed summary, 20,000 paths"),
    "bench_qmc.py": (["--seeds", "2", "--months", "3"], "slope of log RMSE on log N, Sobol"),
    "bench_risk.py": (["--paths", "2000", "--views", "3", "--view-paths", "2000", "--mixes", "3",
                       "--mix-paths", "2000"], "statistics bit-identical: True"),
    "bench_world.py": (["--paths", "2000", "--months", "3"], "ratio vs numpy:"),
    "coverage_bootstrap.py": (["--series", "3", "--refits", "20"], "coverage of 95% intervals:"),
}

pytestmark = pytest.mark.skipif(not BENCHES.is_dir(), reason="benches/ is not next to the tests (an installed wheel)")


def test_every_benchmark_has_a_small_run():
    scripts = [*BENCHES.glob("bench_*.py"), *BENCHES.glob("coverage_*.py")]
    assert sorted(p.name for p in scripts) == sorted(RUNS)


# the coverage study's other modes, also run small
MODES = [
    ("coverage_bootstrap.py", ["--jumps", "--kappa", "1", "--months", "120", "--series", "2", "--refits", "10"],
     "κ = 1.0 with jumps"),
    ("coverage_bootstrap.py", ["--rho", "0.5", "--series", "3", "--refits", "20"], "coverage of 95% intervals of the beta"),
]


@pytest.mark.parametrize(("name", "args", "expected"), [(n, *RUNS[n]) for n in sorted(RUNS)] + MODES,
                         ids=[*sorted(RUNS), *(f"{n} {a[0]}" for n, a, _ in MODES)])
def test_benchmark_runs_at_a_small_size(name, args, expected):
    # one thread each for BLAS, so that the small runs do not oversubscribe the machine
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, str(BENCHES / name), *args], capture_output=True, text=True,
                         timeout=300, env=env, cwd=BENCHES.parent)
    assert run.returncode == 0, f"{name} failed:\n{run.stdout[-2000:]}\n{run.stderr[-4000:]}"
    assert expected in run.stdout, run.stdout[-2000:]
