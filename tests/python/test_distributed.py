"""Dask: sharded runs are bit-identical to local runs, and survive a dying worker."""

from __future__ import annotations

import collections
import math
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import numpy as np
import pytest

import geoscenario as gs

distributed = pytest.importorskip("distributed", reason="dask.distributed is part of the test extra")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
    )
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.mark.parametrize("antithetic", [False, True])
def test_sharded_summary_is_bit_identical_to_local(client, antithetic):
    world = gs.World.default()
    n = 20_002
    local = world.simulate_summary(n, seed=4, antithetic=antithetic, progress=False)
    # odd shard sizes (rounded up under antithetic, which keeps pairs whole) and sizes that
    # split scenario strata (none divides 11,001)
    for shard in (3_333, 5_000, 20_002):
        dist = gs.distributed.simulate_summary(world, n, client=client, shard_paths=shard, seed=4,
                                               antithetic=antithetic)
        assert dist.table.equals(local.table), shard
        assert dist.risk.equals(local.risk), shard
        # a streamed run records its run time, as a local one does
        assert dist.elapsed > 0 and f", {dist.elapsed:.2f} s)" in repr(dist)


def test_sharded_runs_count_their_progress_on_the_client(client, monkeypatch, capsys):
    """progress=True: each summary pass counts the paths of its finished shards, up to all of
    them, under the local run's names for its passes; a horizon table counts paths, a sweep
    its grid points; the results do not change."""
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # the plain line, one per quarter in a log
    world = gs.World.default()
    run = dict(seed=3, series="potash_spot", alpha=None)

    def lines() -> list[str]:
        return capsys.readouterr().err.splitlines()

    for replicates, n in ((None, 6_000), (2, 4_096)):
        extra = {} if replicates is None else {"qmc": True, "replicates": replicates}
        quiet = gs.distributed.simulate_summary(world, n, client=client, shard_paths=1_000, progress=False,
                                                **run, **extra)
        assert lines() == []
        shown = gs.distributed.simulate_summary(world, n, client=client, shard_paths=1_000, progress=True,
                                                **run, **extra)
        assert shown.table.equals(quiet.table)
        got = lines()
        world.simulate_summary(n, progress=True, **run, **extra)
        passes = list(dict.fromkeys(ln.split(": ")[0] for ln in lines()))  # the local run's, in order
        assert passes and list(dict.fromkeys(ln.split(": ")[0] for ln in got)) == passes
        each = n if replicates is None else n // replicates
        for name in passes:
            counts = [int(ln.split("(")[1].split("/")[0].replace(",", "")) for ln in got if ln.startswith(name + ":")]
            assert counts == sorted(counts) and counts[-1] == each, (name, counts)
            assert all(c % 1_000 == 0 or c == each for c in counts)  # whole shards
            assert f"{name}: 100% ({each:,}/{each:,} paths)" in got
    df = gs.distributed.simulate_horizon(world, 3_001, client=client, shard_paths=999, seed=8,
                                         series="potash_spot", progress=True)
    assert df.equals(world.simulate(3_001, seed=8).to_pandas("potash_spot", month=-1))
    assert lines()[-1] == "simulating: 100% (3,001/3,001 paths)"
    grid = {"scenarios.bear.potash_spot.theta": [450.0, 480.0, 520.0]}
    got = gs.distributed.sweep(world, grid, 1_000, client=client, series="potash_spot", progress=True)
    assert got.equals(gs.distributed.sweep(world, grid, 1_000, client=client, series="potash_spot", progress=False))
    out = lines()
    assert out[-1] == "sweep: 100% (3/3 grid points)" and all(ln.startswith("sweep: ") for ln in out)


@pytest.mark.parametrize("fn", ["simulate_summary", "simulate_horizon", "sweep"])
@pytest.mark.parametrize("bad", [1, "yes", None])
def test_progress_is_checked_before_any_task(fn, bad):
    args = ({"scenarios.bear.potash_spot.theta": [450.0]},) if fn == "sweep" else ()
    with pytest.raises(gs.ConfigError, match="must be 'auto', True or False") as err:
        getattr(gs.distributed, fn)(gs.World.default(), *args, 1_000, client=_NoCluster(), progress=bad)
    assert err.value.path == "progress"


def test_sharded_horizon_values_equal_the_local_simulation(client):
    world = gs.World.default()
    got = gs.distributed.simulate_horizon(world, 4_001, client=client, shard_paths=999, seed=8,
                                          series=["potash_spot", "direct_belarus"])
    ref = world.simulate(4_001, seed=8).to_pandas(["potash_spot", "direct_belarus"], month=-1)
    assert got.equals(ref)
    # None is the default shard size, as in simulate_summary
    got = gs.distributed.simulate_horizon(world, 4_001, client=client, shard_paths=None, seed=8,
                                          series=["potash_spot", "direct_belarus"])
    assert got.equals(ref)


def test_sharded_qmc_values_equal_the_local_simulation(client):
    world = gs.World.default()
    got = gs.distributed.simulate_horizon(world, 4_096, client=client, shard_paths=1_000, seed=3,
                                          series="potash_spot", month=12, qmc=True)
    local = world.simulate(4_096, seed=3, qmc=True).to_pandas("potash_spot", month=12)
    assert got.equals(local)
    assert not got.equals(world.simulate(4_096, seed=3).to_pandas("potash_spot", month=12))


def test_sharded_qmc_replicates_have_the_bits_of_the_local_run(client):
    world = gs.World.default()
    got = gs.distributed.simulate_summary(world, 4 * 1_024, client=client, shard_paths=300, seed=3, qmc=True,
                                          replicates=4, series=["potash_spot", "direct_belarus"])
    local = world.simulate_summary(4 * 1_024, seed=3, qmc=True, replicates=4,
                                   series=["potash_spot", "direct_belarus"], progress=False)
    assert got.table.equals(local.table) and got.risk.equals(local.risk)
    assert len(got.replicates) == 4 and got.table["mean_se"].gt(0).all()
    with pytest.raises(gs.ConfigError, match="replicates: need qmc=True"):
        gs.distributed.simulate_summary(world, 4_096, client=client, replicates=4)


def test_distributed_runs_warn_of_strategies_that_lost_everything_as_local_runs_do(client, recwarn):
    world = gs.World.default().with_strategies(gs.Strategy("lev", {"belarus_eurobond": 4.0}))
    local = world.simulate(3_000, seed=0, horizon_months=12)
    p = gs._format.percent(float(local.weights[local.paths("lev")[:, -1] <= 2.0**-54].sum()))
    assert p not in ("0%", "100%")
    recwarn.clear()

    def lost() -> list[str]:
        out = [str(w.message) for w in recwarn if w.category is RuntimeWarning]
        recwarn.clear()
        return out

    gs.distributed.simulate_horizon(world, 3_000, client=client, shard_paths=1_000, seed=0, horizon_months=12)
    (m,) = lost()
    assert m.startswith("strategy lost everything (NAV 0) by 2026-06:") and f"'lev' with probability {p}." in m
    # a horizon table without the strategy cannot tell
    gs.distributed.simulate_horizon(world, 3_000, client=client, seed=0, horizon_months=12, series="potash_spot")
    assert lost() == []
    # a summary without a risk table (alpha=None) still counts them, locally and on the cluster
    world.simulate_summary(3_000, 12, seed=0, alpha=None, progress=False)
    gs.distributed.simulate_summary(world, 3_000, client=client, shard_paths=1_000, seed=0,
                                    horizon_months=12, alpha=None)
    assert lost() == [m, m]
    # a sweep warns once, naming the first grid point that lost and how many others did
    grid = {"strategies.lev.weights.belarus_eurobond": [1.0, 4.0, 40.0]}
    gs.distributed.sweep(world, grid, 3_000, client=client, seed=0, horizon_months=12)
    (m,) = lost()
    assert "by 2026-06 at the grid point {'strategies.lev.weights.belarus_eurobond': 4.0} (and at 1 more grid point):" in m
    assert f"'lev' with probability {p}." in m
    gs.distributed.sweep(world, {"strategies.lev.weights.belarus_eurobond": [0.5, 1.0]}, 3_000, client=client, seed=0)
    assert lost() == []


def test_sweep_returns_a_tidy_frame(client):
    world = gs.World.default()
    grid = {
        ("scenarios.base.probability", "scenarios.bear.probability"): [(0.55, 0.20), (0.45, 0.30)],
        "scenarios.bear.potash_spot.theta": [450.0, 520.0],
    }
    df = gs.distributed.sweep(world, grid, 4_000, client=client, series="potash_spot", seed=1)
    assert len(df) == 4 * 4  # grid points x (3 scenarios + all)
    assert df.columns[:5].tolist() == ["scenarios.base.probability", "scenarios.bear.probability",
                                       "scenarios.bear.potash_spot.theta", "series", "scenario"]  # the grid's order
    assert "p_above" in df.columns
    # each point equals a local run of the same world
    one = df[(df["scenarios.bear.probability"] == 0.30) & (df["scenarios.bear.potash_spot.theta"] == 520.0)]
    w = world.with_params({"scenarios.base.probability": 0.45, "scenarios.bear.probability": 0.30,
                           "scenarios.bear.potash_spot.theta": 520.0})
    ref = w.simulate_summary(4_000, seed=1, series="potash_spot", alpha=None, progress=False).table
    np.testing.assert_array_equal(one["mean"].to_numpy(), ref["mean"].to_numpy())


@pytest.mark.parametrize("run", [{"antithetic": True, "month": "2026-12"}, {"qmc": True, "month": 6}])
def test_a_sweep_point_is_a_local_run_with_the_same_run_arguments(client, run):
    world = gs.World.default()
    grid = {"scenarios.bear.potash_spot.theta": [450.0, 520.0]}
    df = gs.distributed.sweep(world, grid, 4_096, client=client, series="potash_spot", seed=5, **run)
    for theta in (450.0, 520.0):
        got = df[df["scenarios.bear.potash_spot.theta"] == theta]
        ref = world.with_params({"scenarios.bear.potash_spot.theta": theta}).simulate_summary(
            4_096, seed=5, series="potash_spot", alpha=None, progress=False, **run).table
        np.testing.assert_array_equal(got["mean"].to_numpy(), ref["mean"].to_numpy())
        np.testing.assert_array_equal(got["q95"].to_numpy(), ref["q95"].to_numpy())
    # the run arguments change the draws: a plain run at the horizon differs
    plain = gs.distributed.sweep(world, grid, 4_096, client=client, series="potash_spot", seed=5)
    assert not np.array_equal(plain["mean"].to_numpy(), df["mean"].to_numpy())


def test_distributed_mixes_have_the_bits_of_a_local_run(client):
    world = gs.World.default()
    mixes = {"half": {"commodities_arbitrage": 0.5, "technology_transfer": 0.5}}
    res = gs.distributed.simulate_summary(world, 6_000, client=client, shard_paths=2_500, seed=4,
                                          series="direct_belarus", mixes=mixes)
    local = world.simulate_summary(6_000, seed=4, series="direct_belarus", mixes=mixes, progress=False)
    assert res.risk.index.get_level_values("strategy").unique().tolist() == ["direct_belarus", "half"]
    assert res.risk.equals(local.risk)


def test_a_sweep_over_thresholds_reports_each_points_own(client):
    world = gs.World.default()
    df = gs.distributed.sweep(world, {"thresholds.potash_spot": [300.0, 600.0]}, 2_000, client=client,
                              series="potash_spot", seed=3)
    for level in (300.0, 600.0):
        got = df[df["thresholds.potash_spot"] == level]
        assert (got["threshold"] == level).all()
        ref = world.with_params({"thresholds.potash_spot": level}).simulate_summary(
            2_000, seed=3, series="potash_spot", alpha=None, progress=False).table
        np.testing.assert_array_equal(got["p_above"].to_numpy(), ref["p_above"].to_numpy())


def test_sweep_over_a_list_valued_parameter_keeps_each_value_in_one_cell(client):
    world = gs.World.default()
    windows = [[1, 3], [6, 12]]
    df = gs.distributed.sweep(world, {"scenarios.bear.onset": windows}, 2_000, client=client,
                              series="potash_spot", seed=2)
    assert len(df) == 2 * 4 and df["scenarios.bear.onset"].tolist() == [[1, 3]] * 4 + [[6, 12]] * 4
    early = df[df["scenarios.bear.onset"].map(lambda w: w == [1, 3])]
    ref = world.with_params({"scenarios.bear.onset": [1, 3]}).simulate_summary(
        2_000, seed=2, series="potash_spot", alpha=None, progress=False).table
    np.testing.assert_array_equal(early["mean"].to_numpy(), ref["mean"].to_numpy())


def test_a_worker_killed_mid_run_is_replaced_and_the_result_is_identical(client):
    world = gs.World.default()
    n = 120_000
    local = world.simulate_summary(n, seed=6, series=["potash_spot", "commodities_arbitrage"], progress=False)
    pids = client.run(os.getpid)
    address, victim = sorted(pids.items(), key=lambda kv: kv[1])[0]
    killed = threading.Event()

    def kill_soon():
        # as soon as the victim works on a shard of the run (whatever the machine's speed)
        deadline = time.monotonic() + 60.0
        while not client.processing(workers=[address]).get(address) and time.monotonic() < deadline:
            time.sleep(0.005)
        os.kill(victim, signal.SIGKILL)
        killed.set()

    threading.Thread(target=kill_soon, daemon=True).start()
    dist = gs.distributed.simulate_summary(world, n, client=client, shard_paths=4_000, seed=6,
                                           series=["potash_spot", "commodities_arbitrage"])
    assert killed.is_set(), "the run finished before the worker was killed; make it longer"
    assert victim not in client.run(os.getpid).values()
    assert dist.table.equals(local.table)
    assert dist.risk.equals(local.risk)


class _NoCluster:
    """A client that fails the test if anything is submitted: bad requests are refused first."""

    def submit(self, *args, **kwargs):
        raise AssertionError("a refused request reached the cluster")

    gather = submit

    def nthreads(self):
        return {"tcp://nowhere:1": 1}


class _CountingClient:
    """A client that records how many of its tasks were alive at each submission."""

    def __init__(self, client):
        self.client, self.peak, self.submitted = client, 0, 0
        self.tasks: collections.Counter[str] = collections.Counter()  # submissions by function

    def nthreads(self):
        return self.client.nthreads()

    def gather(self, *args, **kwargs):
        return self.client.gather(*args, **kwargs)

    def submit(self, *args, **kwargs):
        self.peak = max(self.peak, len(self.client.futures))
        self.submitted += 1
        self.tasks[args[0].__name__] += 1
        return self.client.submit(*args, **kwargs)


def test_small_shards_are_merged_as_they_finish_with_few_tasks_alive(client):
    # every partial holds its pass's whole grid, so 1-path shards all alive at
    # once took gigabytes; they are now queued two per worker thread, and merged on
    # the workers in a tree over the shard order (fewer than FAN merged runs of each
    # size alive, and one partial per pass to the client)
    world = gs.World.default()
    local = world.simulate_summary(601, seed=2, series="potash_spot", progress=False)
    counting = _CountingClient(client)
    dist = gs.distributed.simulate_summary(world, 601, client=counting, shard_paths=7, seed=2,
                                           series="potash_spot")
    assert dist.table.equals(local.table)
    shards, merges = counting.tasks["_run_shard"], counting.tasks["_merge_parts"]
    passes = shards // 86
    assert passes >= 2 and shards == 86 * passes  # two passes or more over 86 shards
    # 86 = 1·8² + 2·8 + 6 with FAN = 8: 11 merges of 8 runs leave 1 + 2 + 6 runs, merged once
    assert gs.distributed.FAN == 8 and merges == 12 * passes
    levels = math.ceil(math.log(86, 8))
    assert counting.peak <= 2 * sum(client.nthreads().values()) + (8 - 1) * (levels + 1) + 1


def test_a_failing_shard_leaves_no_partial_behind(monkeypatch):
    # the error's traceback keeps the merging frame: no name in it may hold the
    # futures of merged partials (8 of them stayed on the workers), nor the failed one
    import gc

    # (in this process, where the patch below reaches the workers; any free port, as the
    # module's cluster may hold the default one)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                       dashboard_address=":0", silence_logs=50)
    client = distributed.Client(cluster)
    run_shard = gs.distributed._run_shard

    def failing(job, pass_bytes, start, end, threads):
        if start == 40:
            raise RuntimeError("shard 20 failed")
        return run_shard(job, pass_bytes, start, end, threads)

    monkeypatch.setattr(gs.distributed, "_run_shard", failing)
    try:
        with pytest.raises(RuntimeError, match="shard 20 failed") as ei:
            gs.distributed.simulate_summary(gs.World.default(), 130, client=client, shard_paths=2, seed=3,
                                            series="potash_spot", retries=0)
        assert ei.value.__traceback__ is not None  # (kept, as a notebook keeps the last error)
        deadline = time.monotonic() + 10.0
        while client.futures and time.monotonic() < deadline:
            gc.collect()
            time.sleep(0.05)
        assert not client.futures, list(client.futures)
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def local_client():
    """A cluster in this process (patched functions reach its workers; any free port)."""
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                       dashboard_address=":0", silence_logs=50)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _no_futures_left(client) -> None:
    import gc

    deadline = time.monotonic() + 10.0
    while client.futures and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.05)
    assert not client.futures, list(client.futures)


@pytest.mark.parametrize("fn", ["simulate_horizon", "sweep"])
def test_a_failing_task_of_a_horizon_table_or_sweep_cancels_the_others(monkeypatch, local_client, fn):
    # the error's traceback keeps the caller's frame and its list of futures: every other
    # shard (or grid point) went on running and stayed on the workers until the next error
    name = "_horizon_shard" if fn == "simulate_horizon" else "_sweep_point"
    task = getattr(gs.distributed, name)

    def failing(*args, **kwargs):
        # the second shard (paths 20..40), or the grid point at θ = 401.125
        if args[5] == 20 if fn == "simulate_horizon" else "401.125" in args[0]:
            raise RuntimeError("task 1 failed")
        time.sleep(0.2)
        return task(*args, **kwargs)

    monkeypatch.setattr(gs.distributed, name, failing)
    world = gs.World.default()
    with pytest.raises(RuntimeError, match="task 1 failed") as ei:
        if fn == "simulate_horizon":
            gs.distributed.simulate_horizon(world, 400, client=local_client, shard_paths=20, seed=1, retries=0)
        else:
            gs.distributed.sweep(world, {"scenarios.bear.potash_spot.theta": [400.125 + i for i in range(20)]}, 200,
                                 client=local_client, seed=1, series="potash_spot", retries=0)
    assert ei.value.__traceback__ is not None  # (kept, as a notebook keeps the last error)
    _no_futures_left(local_client)


def test_cancelling_on_a_closed_client_keeps_the_error_and_cancels_every_future():
    class Future:
        def __init__(self, fails: bool) -> None:
            self.fails, self.cancelled = fails, False

        def cancel(self) -> None:
            self.cancelled = True
            if self.fails:  # as distributed's ClosedClientError
                raise RuntimeError("Client is closed. Can't send cancel-keys message.")

    futures = [Future(True), Future(False), Future(True)]
    gs.distributed._cancel(futures)
    assert all(f.cancelled for f in futures)


def test_a_sweep_warns_of_a_run_once_not_at_every_point(local_client):
    # on a cluster in this process the workers' warnings reach the user: each grid point
    # repeated the client's warning that a scenario starts after the horizon. Counted under
    # "always": under "default" the once-per-line held only while no worker thread changed
    # the filters. The tasks an earlier test cancelled may still run on this cluster,
    # entering pandas' catch_warnings in its threads: wait for them to end first
    deadline = time.monotonic() + 30.0
    while any(local_client.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    grid = {"scenarios.bear.potash_spot.theta": [450.0, 480.0, 520.0]}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gs.distributed.sweep(gs.World.default(), grid, 500, client=local_client, seed=1, horizon_months=2,
                             series="potash_spot")
    late = [w for w in caught if "starts in months" in str(w.message)]
    assert len(late) == 1, [str(w.message) for w in late]
    # a level in another unit at two points is said at the first
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gs.distributed.sweep(gs.World.default(), {"scenarios.bear.potash_spot.theta": [35200.0, 36000.0]}, 500,
                             client=local_client, seed=1, horizon_months=2, series="potash_spot")
    units = [str(w.message) for w in caught if "another unit" in str(w.message)]
    assert len(units) == 1 and "(bear 35200)" in units[0], units


@pytest.mark.parametrize("bad", [object(), "tcp://scheduler:8786"])
def test_the_client_must_be_a_client(bad):
    with pytest.raises(gs.ConfigError, match="distributed.Client") as err:
        gs.distributed.simulate_summary(gs.World.default(), 1_000, client=bad)
    assert err.value.path == "client"


def test_requests_too_large_are_refused_before_any_task():
    world = gs.World.default()
    with pytest.raises(gs.ConfigError, match="shard_paths >= 100") as err:
        gs.distributed.shards(10_000_000, 1)
    assert err.value.path == "shard_paths"
    assert len(gs.distributed.shards(10_000_000, 100)) == gs.distributed.MAX_SHARDS
    with pytest.raises(gs.ConfigError) as err:
        gs.distributed.simulate_summary(world, 2**40, shard_paths=1, client=_NoCluster())
    assert err.value.path == "shard_paths"
    # under replicates, the paths counted are each replicate's
    with pytest.raises(gs.ConfigError, match=r"^shard_paths: 2,097,152 paths in shards of 1 make 2,097,152 tasks, "
                                             r"more than [\d,]+: use shard_paths >= \d+ \(in each of the 4 replicates\)$"):
        gs.distributed.simulate_summary(world, 4 * 2**21, shard_paths=1, qmc=True, replicates=4, client=_NoCluster())
    with pytest.raises(gs.ResourceError, match="GiB"):
        gs.distributed.simulate_horizon(world, 10**12, shard_paths=10**8, client=_NoCluster())
    grid = {f"scenarios.bear.potash_spot.{p}": list(np.linspace(0.1, 0.5, 11)) for p in ("kappa", "sigma", "lambda", "sigma_j")}
    with pytest.raises(gs.ConfigError, match="14,641 points") as err:
        gs.distributed.sweep(world, grid, 100, client=_NoCluster())
    assert err.value.path == "grid"


@pytest.mark.parametrize("value", [[0.4], [(0.4, 0.3, 0.2)], ["ab"]])
def test_sweep_tuple_keys_need_one_value_per_path(value):
    key = ("scenarios.bear.potash_spot.kappa", "scenarios.bear.potash_spot.sigma")
    with pytest.raises(gs.ConfigError, match="tuple of 2") as err:
        gs.distributed.sweep(gs.World.default(), {key: value}, 100, client=_NoCluster())
    assert err.value.path.startswith("grid.")


def test_sweep_names_the_grid_point_a_world_fails_at():
    grid = {"scenarios.bear.probability": [0.2, 0.3]}
    with pytest.raises(gs.ConfigError, match="at the grid point .* one key: a tuple of paths") as err:
        gs.distributed.sweep(gs.World.default(), grid, 100, client=_NoCluster())
    assert err.value.path == "scenarios.*.probability"
    # a key that is no parameter path is the grid's fault (once reported as with_params' "overrides")
    for grid in ({5: [1, 2]}, {"": [1]}):
        with pytest.raises(gs.ConfigError, match="^grid: parameter paths must be non-empty strings") as err:
            gs.distributed.sweep(gs.World.default(), grid, 100, client=_NoCluster())
        assert err.value.path == "grid"


def test_no_client_is_a_config_error_saying_how_to_start_one():
    # in a fresh process: this one has the session's client as its default
    code = textwrap.dedent("""
        import geoscenario as gs
        try:
            gs.distributed.simulate_summary(gs.World.default(), 100)
        except gs.ConfigError as e:
            print(e.path, "|", e)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.startswith("client | client: no Dask client is running"), out.stdout + out.stderr


@pytest.mark.parametrize(
    "grid",
    [
        {"scenarios.bear.potash_spot.theta": [450.0],
         ("scenarios.bear.potash_spot.theta", "scenarios.bear.potash_spot.sigma"): [(500.0, 0.3)]},
        {("scenarios.bear.potash_spot.theta", "scenarios.bear.potash_spot.theta"): [(500.0, 450.0)]},
    ],
)
def test_sweep_refuses_a_path_in_two_keys(grid):
    with pytest.raises(gs.ConfigError, match="given twice") as err:
        gs.distributed.sweep(gs.World.default(), grid, 100, client=_NoCluster())
    assert err.value.path == "grid.scenarios.bear.potash_spot.theta"


def test_errors_cross_to_the_client_as_themselves():
    # Dask ships a worker's exception with tblib's pickling, which rebuilt
    # ResourceError through MemoryError.__new__ and failed
    import pickle

    import tblib.pickling_support

    errors = []
    for bad in (lambda: gs.World.default().simulate(2**36, 24), lambda: gs.World.default().simulate(0)):
        with pytest.raises(gs.GeoscenarioError) as err:
            bad()
        errors.append(err.value)
    for e in errors:
        tblib.pickling_support.install(e)
        back = pickle.loads(pickle.dumps(e))
        assert type(back) is type(e) and str(back) == str(e)
        assert getattr(back, "path", None) == getattr(e, "path", None)


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"thresholds": {"potash_spot": float("nan")}}, "thresholds.potash_spot"),
        ({"thresholds": {"no_such_series": 1.0}}, "thresholds.no_such_series"),
        ({"series": "potash_spot", "thresholds": {"bilateral_trade": 9.0}}, "thresholds.bilateral_trade"),
        ({"horizon_months": 0}, "horizon_months"),
        ({"seed": -1}, "seed"),
        ({"month": "2040-01"}, "month"),
        ({"month": 25}, "month"),
        ({"antithetic": "yes"}, "antithetic"),
        ({"qmc": 1}, "qmc"),
        ({"qmc": True, "antithetic": True}, "qmc"),
    ],
)
def test_sweep_checks_its_arguments_before_any_task(kwargs, path):
    grid = {"scenarios.bear.potash_spot.theta": [450.0, 520.0]}
    with pytest.raises(gs.ConfigError) as err:
        gs.distributed.sweep(gs.World.default(), grid, 100, client=_NoCluster(), **kwargs)
    assert err.value.path == path


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"n_paths": 2}, "n_paths"),  # fewer paths than scenarios
        ({"n_paths": 1_001, "antithetic": True}, "n_paths"),  # antithetic pairs
        ({"qmc": True, "antithetic": True}, "qmc"),
    ],
)
@pytest.mark.parametrize("fn", ["simulate_summary", "simulate_horizon"])
def test_run_level_rules_are_checked_before_any_task(fn, kwargs, path):
    args = {"n_paths": 1_000, **kwargs}
    with pytest.raises(gs.ConfigError) as err:
        getattr(gs.distributed, fn)(gs.World.default(), client=_NoCluster(), **args)
    assert err.value.path == path


def test_a_sweeps_run_level_rules_are_checked_at_every_point_before_any_task():
    # a failure on the workers would be retried there, point by point
    grid = {"scenarios.bear.potash_spot.theta": [450.0, 520.0]}
    with pytest.raises(gs.ConfigError, match=r"need at least 3, got 2, at the grid point") as err:
        gs.distributed.sweep(gs.World.default(), grid, 2, client=_NoCluster())
    assert err.value.path == "n_paths"
    # a point whose world gains a scenario with paths to give (the others pass)
    world = gs.World.default().with_params({"scenarios.bull.probability": 0.0, "scenarios.base.probability": 0.8})
    probs = ("scenarios.base.probability", "scenarios.bull.probability")
    with pytest.raises(gs.ConfigError, match=r"need at least 3, got 2, at the grid point .*0\.6") as err:
        gs.distributed.sweep(world, {probs: [(0.6, 0.2)]}, 2, client=_NoCluster())


@pytest.mark.parametrize("fn", ["simulate_summary", "simulate_horizon"])
def test_the_world_must_be_a_world(fn):
    with pytest.raises(gs.ConfigError) as err:
        getattr(gs.distributed, fn)("belarus_china_2025", 1_000, client=_NoCluster())
    assert err.value.path == "world"
