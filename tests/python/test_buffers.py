"""Output memory reuse: the arrays of a simulation that Python has let go of are
handed to the next simulation of the same size, which writes over every element,
and are freed within seconds when nothing reuses them."""

from __future__ import annotations

import ctypes
import gc
import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest
from test_hostile import ALL_KINDS, ALL_KINDS_MARKOV

import geoscenario as gs
from geoscenario import _core


@pytest.fixture(autouse=True)
def _kept_long():
    """Released arrays wait a minute for reuse here, not 2 s: a machine stalled for 2 s
    between a release and the run meant to reuse it (a loaded CI VM) freed them."""
    before = _core.set_output_keep(60.0)
    yield
    _core.set_output_keep(before)


def _paths(world: gs.World) -> int:
    """Paths for series of about 6 MB at the world's horizon (4 MB or more are kept)."""
    return (6 << 20) // ((world.horizon_months + 1) * 8) // 2 * 2  # even: antithetic pairs


def _address(a: np.ndarray) -> int:
    return int(a.__array_interface__["data"][0])


def _reused_run_equals_fresh(world: gs.World, antithetic: bool = False, qmc: bool = False) -> None:
    n = _paths(world)
    if qmc:  # a power of two, as QMC wants, above the 4 MB kept
        n = 1 << n.bit_length()
    h = world.horizon_months
    fresh = world.simulate(n, seed=2, antithetic=antithetic, qmc=qmc, progress=False)  # kept alive
    # memory full of NaN, released: a value the kernel failed to write would stay NaN
    # (all-ones bytes, written under NumPy: the engine's arrays are read-only)
    raw = world._core.simulate(n, h, 1, antithetic, None, int(_core.DEFAULT_CHUNK), 0, n, None, qmc)
    for a in raw["series"].values():
        ctypes.memset(_address(a), 0xFF, a.nbytes)
        assert np.isnan(a).all()
    addresses = {_address(a) for a in raw["series"].values()}
    del raw, a
    gc.collect()
    assert _core.cached_output_bytes() >= len(addresses) * n * (h + 1) * 8
    again = world.simulate(n, seed=2, antithetic=antithetic, qmc=qmc, progress=False)
    # the new run got the released memory and wrote all of it
    assert {_address(again.paths(s)) for s in again.units} == addresses
    for s in fresh.units:
        np.testing.assert_array_equal(again.paths(s), fresh.paths(s), strict=True, err_msg=s)


@pytest.mark.parametrize(
    "kw",
    [{}, {"antithetic": True}, {"qmc": True}],
    ids=["plain", "antithetic", "qmc"],
)
def test_reused_memory_gives_the_bits_of_fresh_memory(kw: dict[str, bool]) -> None:
    _reused_run_equals_fresh(gs.World.default(), **kw)


def test_reuse_covers_every_factor_kind_and_markov_regimes(markov_world):
    _reused_run_equals_fresh(gs.World.from_dict(ALL_KINDS))
    _reused_run_equals_fresh(markov_world)


def test_memory_in_use_is_never_reused():
    world = gs.World.default()
    a = world.simulate(_paths(world), seed=1, progress=False)
    view = a.paths("potash_spot")[:10]  # a view keeps its array's memory
    kept = _address(view)
    del a
    gc.collect()
    b = world.simulate(_paths(world), seed=2, progress=False)
    assert _address(b.paths("potash_spot")) != kept
    assert view.base is not None
    assert np.all(view > 0)


def _wait_until_all_freed() -> None:
    deadline = time.monotonic() + 20.0  # kept 2 s; generous for a loaded machine
    while _core.cached_output_bytes() > 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _core.cached_output_bytes() == 0


def test_released_memory_is_freed_within_seconds():
    world = gs.World.default()
    sim = world.simulate(_paths(world), seed=3, progress=False)
    del sim
    gc.collect()
    assert _core.cached_output_bytes() > 0
    assert _core.set_output_keep(2.0) == 60.0  # the default time, for what is kept already too
    _wait_until_all_freed()


@pytest.mark.parametrize("bad", [-1.0, 3601.0, float("nan"), float("inf")])
def test_the_keep_time_is_checked(bad):
    with pytest.raises(gs.ConfigError, match=r"seconds: must be in \[0, 3600\]") as err:
        _core.set_output_keep(bad)
    assert err.value.path == "seconds"
    assert _core.set_output_keep(60.0) == 60.0  # unchanged


def test_a_cancelled_run_hands_its_memory_back_for_reuse():
    # (freeing it at once would hold up the caller: unmapping 1.4 GB took 0.15 s)
    world = gs.World.default()
    core, n, h = world._core, 400_000, world.horizon_months
    done_at: list[int] = []

    def fail(done: int, total: int) -> None:
        done_at.append(done)
        raise ValueError("stop")

    gc.collect()
    _core.set_output_keep(0.0)  # what earlier tests released goes at once
    _wait_until_all_freed()
    _core.set_output_keep(60.0)
    with pytest.raises(ValueError, match="stop"):
        core.simulate(n, h, 0, False, 1, int(_core.DEFAULT_CHUNK), 0, n, fail, False)
    if done_at[0] >= n:  # a machine that ends the run before its first report (0.1 s)
        pytest.skip("the run ended before the engine's first progress report")
    assert _core.cached_output_bytes() >= len(world.units) * n * (h + 1) * 8


THP = "/sys/kernel/mm/transparent_hugepage/enabled"
HUGE_CHILD = """
import geoscenario as gs
sim = gs.World.default().simulate(40_000, seed=0, progress=False)  # 17 arrays of 8 MB
with open("/proc/self/smaps_rollup") as f:
    kb = [int(line.split()[1]) for line in f if line.startswith("AnonHugePages:")]
print(kb[0] if kb else -1)
"""


def _thp_mode() -> str | None:
    try:
        with open(THP) as f:
            text = f.read()
    except OSError:
        return None
    return text[text.index("[") + 1 : text.index("]")] if "[" in text else None


@pytest.mark.skipif(_thp_mode() != "madvise", reason="needs transparent huge pages on request (madvise)")
def test_huge_pages_only_when_asked_for():
    """GEOSCENARIO_HUGE_PAGES=1 puts the output arrays on transparent huge pages;
    by default they use ordinary pages (huge ones made first runs slower)."""

    def huge_kb(env: dict[str, str]) -> int:
        child_env = {k: v for k, v in os.environ.items() if k != "GEOSCENARIO_HUGE_PAGES"} | env
        out = subprocess.run([sys.executable, "-c", HUGE_CHILD], env=child_env, capture_output=True,
                             text=True, timeout=120, check=True)
        return int(out.stdout.split()[-1])

    default = huge_kb({})
    if default == -1:
        pytest.skip("the kernel does not report AnonHugePages")
    assert default == 0
    # (the kernel may fall back to small pages when memory is fragmented; most are huge)
    assert huge_kb({"GEOSCENARIO_HUGE_PAGES": "1"}) >= 17 * 8 * 1024 // 2


def test_a_long_table_that_does_not_fit_is_refused_before_allocating(monkeypatch):
    import tracemalloc

    from geoscenario import simulation

    sim = gs.World.default().simulate(20_000, seed=0)
    need = 20_000 * 25 * (8 * 17 + 49)  # the documented estimate, 92.5 MB
    monkeypatch.setattr(simulation, "_available_memory", lambda: need - 1)
    tracemalloc.start()
    with pytest.raises(gs.ResourceError) as ei:
        sim.to_pandas()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1_000_000  # refused before building anything
    assert str(ei.value).startswith("20,000 paths × 25 months × 17 series as a long table: needs 0.09 GiB")
    # what fits still works: fewer series, or one month
    assert sim.to_pandas("potash_spot").shape == (20_000 * 25, 4)
    assert sim.to_pandas(month=-1).shape[0] == 20_000


#: Put before a child's code: ``limit(headroom)`` then limits its address space to what it
#: has and ``headroom`` bytes more (as ``ulimit -v`` does, which MemAvailable does not show).
LIMIT = """
import resource


def limit(headroom):
    with open("/proc/self/status") as f:
        vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (vm + headroom, resource.RLIM_INFINITY))
"""


def run_limited(child, *args, timeout=600, env=None):
    """The output of ``child`` (code after :data:`LIMIT`) run with ``args``: a request
    beyond its limit is refused or runs, and never aborts the process on a failed
    allocation."""
    out = subprocess.run([sys.executable, "-c", child, *map(str, args)], capture_output=True, text=True,
                         timeout=timeout, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


LIMITED_CHILD = LIMIT + """
import geoscenario as gs
sim = gs.World.default().simulate(100_000, seed=0, progress=False)  # 340 MB
limit(200 * 2**20)
assert sim.to_pandas(month=-1).shape[0] == 100_000  # 17 columns of 100,000 rows fit
try:
    sim.to_pandas()  # about 460 MB more
except gs.ResourceError as e:
    print("refused:", e)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS as Linux counts it")
def test_a_long_table_beyond_an_address_space_limit_is_a_resource_error():
    # a limit MemAvailable does not show (ulimit -v, a container): numpy's MemoryError
    # becomes the package's ResourceError with the size needed
    out = run_limited(LIMITED_CHILD, timeout=120)
    assert "refused: 100,000 paths × 25 months × 17 series as a long table: needs 0.43 GiB" in out


SIM_LIMITED_CHILD = LIMIT + """
import geoscenario as gs
world = gs.World.default()
world.simulate(1_000, seed=0, progress=False)  # the engine and its threads started
limit(2**30)
print("available:", gs._core.available_memory())
for run in (lambda: world.simulate(1_000_000, seed=0, progress=False),  # 3.4 GB of paths
            lambda: world.simulate_summary(1 << 20, series=[], mixes={f"m{i}": {"direct_belarus": 1.0}
                                                                        for i in range(200)}, progress=False)):
    try:
        run()
    except gs.ResourceError as e:
        print("refused:", e)
print("small:", world.simulate(10_000, seed=0, progress=False).n_paths)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS as Linux counts it")
def test_requests_beyond_an_address_space_limit_are_refused_before_allocating():
    # ulimit -v, which MemAvailable does not show, counts as memory available: the
    # requests are refused up front with the sizes, not when an allocation fails
    out = run_limited(SIM_LIMITED_CHILD, timeout=120)
    available = int(out.split("available: ")[1].split()[0])
    assert 0 < available <= 2**30
    refused = [line for line in out.splitlines() if line.startswith("refused:")]
    assert len(refused) == 2, out
    assert refused[0].startswith("refused: 1,000,000 paths × 25 months × 17 series: needs 3.18 GiB, limit ")
    assert refused[1].startswith("refused: a summary of 600 quantities")
    assert all(line.endswith(" available") for line in refused), refused
    assert "small: 10000" in out


SUMMARY_LIMITED_CHILD = LIMIT + """
import sys
import geoscenario as gs
from geoscenario import summary
mixes, n, headroom = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
world = gs.World.default()
mixes = {f"m{i}": {"direct_belarus": 1.0} for i in range(mixes)}  # three quantities each
world.simulate_summary(20_000, series=[], mixes=mixes, progress=False)  # the engine and its threads started
limit(headroom * 2**20)
try:
    res = world.simulate_summary(n, series=[], mixes=mixes, progress=False)
    print("in place:", res.n_paths, len(res.risk), res.risk.loc[list(mixes)[-1]].notna().all().all())
except gs.ResourceError as e:
    print("refused in place:", e)
job = summary.make_job(world, n, 24, 0, False, [], 24, [0.5], None, 0.95, False, mixes)[0]
try:
    job.next_pass()  # to ship to workers
except gs.ResourceError as e:
    print("refused shipped:", e)
"""


def run_limited_summary(mixes, n_paths, headroom_mib):
    # (on two threads whatever the machine: the buffers counted grow with the threads)
    return run_limited(SUMMARY_LIMITED_CHILD, mixes, n_paths, headroom_mib, env={**os.environ, "RAYON_NUM_THREADS": "2"})


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS as Linux counts it")
def test_a_summary_run_in_place_is_refused_only_beyond_the_copies_it_holds():
    # in place, a pass holds its histograms once (three copies are asked for, with slack,
    # and the simulation's buffers); shipped to workers as bytes, six: 1.25 GiB takes the
    # first, not the second
    out = run_limited_summary(50, 1 << 20, 1280)
    assert f"in place: {1 << 20} 200 True" in out, out  # 50 mixes × 4 groups
    refused = [line for line in out.splitlines() if line.startswith("refused")]
    assert len(refused) == 1 and refused[0].startswith("refused shipped: a summary of 150 quantities"), out
    assert "(225.01 MiB of histograms per copy; " in refused[0], refused
    # six copies (1.32 GiB), and not a run's buffers (the process ships the pass to its
    # workers, each of which checks its own run)
    assert "): needs 1.32 GiB, limit " in refused[0], refused


WORKER_LIMITED_CHILD = LIMIT + """
import geoscenario as gs
from geoscenario import summary
world = gs.World.default()
mixes = {f"m{i}": {"direct_belarus": 1.0} for i in range(300)}  # 900 quantities
job = summary.make_job(world, 1 << 17, 24, 0, False, [], 24, [0.5], None, 0.95, False, mixes)[0]
job.run_current(2)  # the first pass, here
later = job.next_pass()  # a refining or collecting pass, for a worker
limit(200 * 2**20)
try:
    job.run(later, 0, 1 << 17, 2)
except gs.ResourceError as e:
    print("refused:", e)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS as Linux counts it")
def test_a_worker_refuses_a_later_pass_whose_run_does_not_fit():
    # a refining or collecting pass is checked where it runs too: its wave of 36,864
    # paths' values (253 MiB) does not fit in 200 MiB
    out = run_limited(WORKER_LIMITED_CHILD)
    assert out.startswith("refused: a summary's pass over "), out
    assert "quantiles (266.44 MiB of the run's buffers: a wave of reduced values" in out, out


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS as Linux counts it")
def test_a_summary_accepted_for_memory_runs_to_its_end():
    # few paths and many quantities: a wave of their values (up to 256 MiB) outweighs the
    # histograms (169 MiB a copy), and is counted; a run that was accepted with too little
    # room for it aborted the process on a failed allocation
    out = run_limited_summary(300, 1 << 17, 450)
    assert "refused in place: a summary of 900 quantities" in out, out
    # three copies (506 MiB), a wave of 36,864 paths' values (253 MiB) and each of the two
    # threads' chunk of paths (6.6 MiB)
    assert "refused in place: a summary of 900 quantities" in out and "): needs 772.82 MiB, limit " in out, out
    assert "(168.79 MiB of histograms per copy, and 266.44 MiB of the run's buffers: " in out, out
    out = run_limited_summary(300, 1 << 17, 900)
    assert f"in place: {1 << 17} 1200 True" in out, out


MIXES_LIMITED_CHILD = LIMIT + """
import numpy as np
import geoscenario as gs
sim = gs.World.default().simulate(100_000, seed=0, progress=False)  # 340 MB
names = list(sim.world.strategies)
w = np.random.default_rng(0).dirichlet(np.ones(4), size=1_000)
mixes = {f"m{i}": dict(zip(names, row)) for i, row in enumerate(w)}
sim.risk_table(mixes={"m0": mixes["m0"]})  # the engine and its threads started
limit(800 * 2**20)
few = {k: mixes[k] for k in list(mixes)[:200]}
for _ in range(3):  # again and again: the last call's released values are reused
    print("200 mixes:", len(sim.risk_table(mixes=few)))
print("1000 mixes:", len(sim.risk_table(mixes=mixes)))  # 256 MB of values at a time
from geoscenario import simulation
simulation.REDUCE_BYTES = 1 << 40  # all at once, as before
try:
    sim.risk_table(mixes=mixes)
except gs.ResourceError as e:
    print("refused:", e)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS as Linux counts it")
def test_a_risk_table_of_many_mixes_reads_their_values_in_place_and_refuses_what_does_not_fit():
    # 200 mixes: 612 quantities' values (467 MB) fit in 800 MB once, not twice (they were
    # copied), call after call (a released buffer is reused, not held beside a new one);
    # 1,000 mixes' 2.2 GiB fit 256 MB at a time, and all at once are refused with the
    # size, not an aborted process
    out = run_limited(MIXES_LIMITED_CHILD, timeout=300)
    # (200 mixes + 4 strategies) × (3 scenarios + all)
    assert out.count("200 mixes: 816") == 3, out
    assert "1000 mixes: 4016" in out, out
    assert "refused: the values of 3012 quantities (a series each; a strategy or mix of a risk table three) " \
           "on 100000 paths (summarise fewer series, strategies or mixes per call): needs 2.24 GiB" in out, out


def test_reducer_values_are_read_only_on_an_engine_buffer():
    from geoscenario.summary import QUANTILES, build_reducers

    sim = gs.World.default().simulate(2_000, seed=0, progress=False)
    reducers = build_reducers(["potash_spot"], ["direct_belarus"], QUANTILES, {}, 0.95)
    job = gs._core.SummaryJob.for_world(sim.world._core, reducers, 24, 2_000, 24, 0, False, False)
    values = job.values(sim._series)
    assert not values.flags.writeable and type(values.base).__name__ == "OutputBuffer"
    with pytest.raises(ValueError):
        values.flags.writeable = True
    # read in place or copied, the same statistics
    rows = gs._core.summarize_arrays(job, values, sim.scenario, sim._probs)
    assert rows == gs._core.summarize_arrays(job, values.copy(), sim.scenario, sim._probs)


def test_engine_arrays_are_read_only_from_birth_and_only_they_are_read_in_place():
    # an array of the core's own is read-only when it is made, so no writable view of it
    # can exist for another thread to write while the engine reads it without the GIL
    world = gs.World.default()
    raw = world._core.simulate(1_000, 3, 1, False, None, int(_core.DEFAULT_CHUNK), 0, 1_000, None, False)
    x = raw["series"]["potash_spot"]
    assert not x.flags.writeable and type(x.base).__name__ == "OutputBuffer"
    with pytest.raises(ValueError):
        x.flags.writeable = True
    # a read-only Fortran-order view of one is copied, not read as if its rows were
    # contiguous (the summary of a transposed view was of the wrong numbers)
    from geoscenario.summary import QUANTILES, build_reducers

    reducers = build_reducers(["potash_spot"], [], QUANTILES, {}, None)
    job = _core.SummaryJob.for_world(world._core, reducers, 3, 1_000, 3, 1, False, False)
    fortran = x.T.copy().T
    fortran.flags.writeable = False
    flat = x.reshape(-1).reshape(4, 1_000).T  # (1000, 4) of the wrong values, F-order, read-only
    assert not flat.flags.c_contiguous and not flat.flags.writeable
    for arr in (fortran, flat):
        np.testing.assert_array_equal(job.values({"potash_spot": arr}),
                                      job.values({"potash_spot": np.ascontiguousarray(arr)}))


@pytest.mark.skipif(sys.platform != "linux", reason="the memory check reads /proc; elsewhere 8 TiB may be overcommitted")
def test_a_broadcast_input_too_large_to_copy_is_refused_not_aborted():
    # numpy.broadcast_to holds one value under a shape of terabytes: the core copies its
    # inputs before it reads them without the GIL, and an allocation that fails aborts
    script = (
        "import numpy as np\n"
        "import geoscenario as gs\n"
        "from geoscenario import _core\n"
        "for call in (lambda: _core.calibrate_ols(np.broadcast_to(0.0, (2**40, 1)), np.zeros((3, 1))),\n"
        "             lambda: _core.backtest_run(np.broadcast_to(1.0, (2**40, 2)), [0], np.full((1, 2), 0.5),\n"
        "                                        np.zeros(2))):\n"
        "    try:\n"
        "        call()\n"
        "    except gs.ResourceError as e:\n"
        "        print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith("a copy of y (1099511627776 values) for the engine: needs 8.00 TiB")
    assert lines[1].startswith("a copy of prices (2199023255552 values) for the engine: needs 16.00 TiB")


def _many_scenarios(k: int) -> gs.World:
    """One GBM factor, one asset and one strategy under ``k`` equally likely scenarios."""
    scenarios = {f"s{i}": {"probability": 1.0 / k, "x": {"g": 0.01 * i, "sigma": 0.2}} for i in range(k)}
    for i in range(1, k):
        scenarios[f"s{i}"]["onset"] = [1, 6]
    return gs.World.from_dict({
        "world": {"name": "many", "horizon_months": 6},
        "factors": {"x": {"kind": "gbm", "unit": "index", "initial": 100.0}},
        "scenarios": scenarios,
        "assets": {"a": {"betas": {"x": 1.0}}},
        "strategies": {"long": {"weights": {"a": 1.0}}},
    })


def test_a_summary_whose_histograms_do_not_fit_is_refused_before_any_path_is_simulated():
    # the first pass keeps a histogram per summarised quantity and scenario (65,538 counts
    # each from 2^20 paths), copied on its way through the merge: 1,000 mixes over 64
    # scenarios need about 200 GB, which is refused with the size instead of ending in the
    # OOM killer
    world = _many_scenarios(64)
    n = 1 << 20
    hist = 1_001 * 64 * 65_538 * 8
    available = _core.available_memory()
    if available is None or 6 * hist <= available:
        pytest.skip(f"this machine has {available} bytes available, more than the {6 * hist} to refuse")
    mixes = {f"m{i}": {"long": 1.0 + i / 1000} for i in range(1_000)}
    with pytest.raises(gs.ResourceError, match=r"a summary of \d+ quantities .* over 64 scenarios .*summarise fewer") as err:
        world.simulate_summary(n, series="long", mixes=mixes, progress=False)
    # the histograms of the quantities named, at a bin per 16 paths (the most)
    j = int(re.search(r"a summary of (\d+) quantities", str(err.value)).group(1))
    assert f"({j * 64 * 65_538 * 8 / 2**30:.2f} GiB of histograms per copy" in str(err.value)
    # with fewer paths the grid is coarser (a bin per 16 paths, 1,024 at the least), and so
    # are the histograms: 40 mixes (120 quantities) over 64 scenarios from 1,000 paths take
    # 63 MB a copy, not the 3.8 GB of a 65,538-bin grid
    few = {f"m{i}": {"long": 1.0 + i / 1000} for i in range(40)}
    res = world.simulate_summary(1_000, series=[], mixes=few, progress=False)
    assert res.risk.shape[0] == 40 * 65 and res.risk["cvar"].notna().all()
    # a modest request of the same world runs
    assert world.simulate_summary(1_000, series="long", progress=False).table.shape[0] == 65


def test_a_summary_of_many_series_streams_in_smaller_waves_with_the_same_bits():
    # 100 mixes, 300 summarised values per path: a wave of 64 chunks of 16,384 paths
    # would hold 2.5 GB of them, so a wave holds 6 chunks (256 MB); the chunks are
    # absorbed in path order all the same
    world = gs.World.default()
    mixes = {f"m{i}": {"commodities_arbitrage": 0.5, "technology_transfer": i / 100} for i in range(100)}
    n = 6 * 16_384 + 77  # two waves, the second partial
    streamed = world.simulate_summary(n, seed=4, series=[], mixes=mixes, progress=False)
    some = {name: mixes[name] for name in ("m0", "m37", "m99")}
    materialised = world.simulate(n, seed=4, progress=False).risk_table(0.95, [], mixes=some)
    assert streamed.risk.loc[list(some)].equals(materialised)


@pytest.mark.filterwarnings("ignore:scenarios bear have an onset")
@pytest.mark.parametrize("kinds", [ALL_KINDS, ALL_KINDS_MARKOV], ids=["every kind", "markov"])
def test_a_summary_writes_over_its_reused_chunk_buffers(kinds):
    # a streamed summary simulates chunk after chunk into per-thread buffers it does not
    # clear: a value the kernel failed to write would be the last chunk's, which another
    # chunk size or thread count puts elsewhere, so the bits would differ between them
    world = gs.World.from_dict(kinds)
    runs = [world.simulate_summary(3_001, seed=9, threads=t, chunk_paths=c, progress=False)
            for t, c in ((1, 2048), (2, 50), (1, 777))]
    for other in runs[1:]:
        assert other.table.equals(runs[0].table) and other.risk.equals(runs[0].risk)
    # and they are those of the materialised run, on fresh memory
    sim = world.simulate(3_001, seed=9, progress=False)
    for name in world.factors:
        assert sim.summary(name).loc[name].equals(runs[0].table.loc[name]), name
