"""Running geoscenario on a Dask cluster (``pip install geoscenario[dask]``).

The global path range is split into shards; each shard runs on a worker
(the Rust core releases the GIL) and returns a mergeable partial state.
Partials are merged in shard order, by tasks on the workers (a tree, so the
client receives one partial per pass), with canonical pairwise sums and integer
counts, so the result has the same bits as a local run with the same seed
and path count, whatever the shard size, the number of workers or the order
in which they finish. Failed shards (a worker that dies) are retried.

Point it at an existing cluster with ``Client("tcp://scheduler:8786")``, or
at a batch system through ``dask_jobqueue`` (e.g. ``SLURMCluster``) or
Kubernetes (``dask_kubernetes.operator.KubeCluster``); see the README.

Examples
--------
A small in-process cluster gives the bits of the local run:

>>> import geoscenario as gs
>>> from distributed import Client, LocalCluster
>>> cluster = LocalCluster(n_workers=1, processes=False, dashboard_address=None)
>>> client = Client(cluster)
>>> res = gs.distributed.simulate_summary(gs.World.default(), 4_000, client=client, shard_paths=1_000)
>>> res.table.equals(gs.World.default().simulate_summary(4_000).table)
True
>>> client.close(); cluster.close()

On a real cluster, the same call scales to millions of paths:

>>> client = Client("tcp://scheduler:8786")  # doctest: +SKIP
>>> res = gs.distributed.simulate_summary(gs.World.default(), 10_000_000, client=client)  # doctest: +SKIP
"""

from __future__ import annotations

import collections
import itertools
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import _core, _progress, _validate, summary
from ._format import count
from .errors import ConfigError, ResourceError, invalid, warn
from .simulation import _timing
from .summary import (
    QUANTILES,
    SummaryResult,
    check_quantiles,
    check_replicates,
    check_thresholds,
    pass_label,
    replicate_job,
    ruin_probability,
    run_all,
    run_seeds,
)
from .world import World, _world_from_toml_text

__all__ = ["simulate_summary", "simulate_horizon", "sweep", "shards"]

MAX_SHARDS = 100_000
"""Most tasks one call submits (a scheduler slows down long before a million tasks)."""

MAX_GRID_POINTS = 10_000
"""Most points a :func:`sweep` grid may have."""


def shards(n_paths: int, shard_paths: int) -> list[tuple[int, int]]:
    """The global path ranges [start, end) of each shard.

    Parameters
    ----------
    n_paths
        Total number of paths.
    shard_paths
        Paths per shard (the last shard holds the remainder).

    Returns
    -------
    list of (int, int)
        Consecutive, non-overlapping ranges covering ``0..n_paths``.

    Examples
    --------
    >>> from geoscenario.distributed import shards
    >>> shards(10, 4)
    [(0, 4), (4, 8), (8, 10)]
    >>> shards(6, 10)
    [(0, 6)]
    """
    n = _validate.integer("n_paths", n_paths, 0, int(_core.MAX_PATHS))
    step = _validate.integer("shard_paths", shard_paths, 1, int(_core.MAX_PATHS))
    count = -(-n // step)
    if count > MAX_SHARDS:
        raise invalid(
            "shard_paths",
            f"{n:,} paths in shards of {step:,} make {count:,} tasks, more than {MAX_SHARDS:,}: "
            f"use shard_paths >= {-(-n // MAX_SHARDS):,}",
        )
    return [(s, min(s + step, n)) for s in range(0, n, step)]


def _threads(name: str, value: int | None) -> int | None:
    """Threads per task on a worker: None (all of the worker's) or an integer in [1, 1024]."""
    return None if value is None else _validate.integer(name, value, 1, 1024)


def _run_shard(job: Any, pass_bytes: bytes, start: int, end: int, threads: int | None) -> bytes:
    return job.run(pass_bytes, start, end, threads, 2048, None)


def _check_run(world: World, n: int, h: int, seed: int, antithetic: bool, qmc: bool) -> None:
    """The run-level rules (paths per scenario, antithetic pairs, QMC, the horizon),
    checked here by a run of an empty range of paths rather than on every worker,
    whose failures would be retried."""
    world._core.simulate(n, h, seed, antithetic, None, int(_core.DEFAULT_CHUNK), 0, 0, None, qmc)


def _check_world(world: Any) -> None:
    if not isinstance(world, World):
        raise invalid("world", f"must be a geoscenario World, got {type(world).__name__}")


def _client(client: Any) -> Any:
    if client is None:
        try:
            from distributed import get_client
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("geoscenario.distributed needs dask: pip install geoscenario[dask]") from e
        try:
            return get_client()
        except ValueError:  # dask's "No global client found and no address provided"
            raise invalid("client", "no Dask client is running: pass client=, or start one first "
                                    "(distributed.Client() starts a local cluster)") from None
    if not all(callable(getattr(client, m, None)) for m in ("submit", "gather", "nthreads")):
        raise invalid("client", f"must be a distributed.Client, got {type(client).__name__}")
    return client


FAN = 8
"""Partials a merge task on a worker joins (more would hold more of them in one
worker's memory at once; fewer make more tasks and move more data between workers:
with 2, a local run of 20 shards took a third longer than merging on the client)."""


def _merge_parts(job: Any, *parts: bytes) -> bytes:
    return job.merge(list(parts))


def _merged_pass(client: Any, job: Any, pass_bytes: bytes, ranges: list[tuple[int, int]],
                 threads: int | None, retries: int, cb: _progress.Progress | None = None) -> bytes:
    """One pass over all shards, merged on the workers as the shards finish; ``cb(done,
    total)``, if given, counts the paths of the shards done, in shard order.

    A partial holds its pass's whole grid (about 0.5 MB per series and scenario whatever the
    shard's size), so neither are the shards all submitted at once nor do their partials
    travel to the client: at most two shards per worker thread are queued or held ahead
    of the oldest, and the partials are merged by tasks on the workers in a tree over
    the shard order (a base-``FAN`` counter: ``FAN`` merged runs of one size merge into
    one), so that the client receives one partial per pass and the merges run in
    parallel.
    ``job.merge`` joins adjacent ranges in order, exactly (sums are kept by chunk), so
    any tree over the shard order gives the bits of merging them all from the left.
    """
    from distributed import wait

    window = max(2, 2 * sum(client.nthreads().values()))
    todo = iter(ranges)

    def submit(fn: Any, *args: Any) -> Any:
        return client.submit(fn, job, *args, retries=retries, pure=False)

    pending = collections.deque(submit(_run_shard, pass_bytes, a, b, threads)
                                for a, b in itertools.islice(todo, window))
    runs: list[tuple[int, Any]] = []  # (shards merged, a power of FAN; the future), in shard order
    part = None
    done, total = 0, sum(b - a for a, b in ranges)
    try:
        for a, b in ranges:  # (waited for in their order)
            part = pending.popleft()
            wait([part])  # the oldest shard (held on its worker), whoever finished first
            if part.status == "error":
                part.result()  # its error, after its retries
            runs.append((1, part))
            done += b - a
            if cb is not None:
                cb(done, total)
            # FAN runs of one size: one run of FAN times that size (a base-FAN counter)
            while len(runs) >= FAN and all(r[0] == runs[-1][0] for r in runs[-FAN:]):
                # (no local name holds the merged futures: an error's traceback keeps this
                # frame, which would keep their partials on the workers)
                merged = (runs[-1][0] * FAN, submit(_merge_parts, *(f for _, f in runs[-FAN:])))
                del runs[-FAN:]
                runs.append(merged)
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(submit(_run_shard, pass_bytes, *nxt, threads))
        last = runs[0][1] if len(runs) == 1 else submit(_merge_parts, *(f for _, f in runs))
        runs = [(0, last)]
        return last.result()
    finally:
        # an error or an interrupt: drop the tasks (the failed shard's too)
        _cancel([*pending, *(f for _, f in runs), *([part] if part is not None else [])])


def _cancel(futures: list[Any]) -> None:
    """Cancel each of ``futures``, whatever fails: on a cluster that has gone away a
    cancellation raises too, and must neither replace the error being raised nor leave
    the other futures uncancelled."""
    for f in futures:
        try:
            f.cancel()
        except Exception:  # (a closed client: its tasks are gone with it)
            pass


def _gather(client: Any, futures: list[Any], cb: _progress.Progress | None = None,
            sizes: Sequence[int] = ()) -> list[Any]:
    """``client.gather(futures)``; on an error or an interrupt the tasks are cancelled and
    the list emptied: the traceback keeps the caller's frame, whose list would otherwise
    keep every finished result on the workers (and the unfinished ones running) until
    the next error in a notebook. ``cb(done, total)``, if given, counts the ``sizes`` of
    the tasks as they finish (the first failed one raises its error then)."""
    try:
        if cb is not None:
            from distributed import as_completed

            size = {f.key: k for f, k in zip(futures, sizes)}
            done, total = 0, sum(sizes)
            for f in as_completed(futures):
                if f.status == "error":
                    f.result()  # its error, after its retries
                done += size[f.key]
                cb(done, total)
        return client.gather(futures)
    except BaseException:
        _cancel(futures)
        futures.clear()
        raise


def simulate_summary(
    world: World,
    n_paths: int,
    *,
    client: Any = None,
    shard_paths: int | None = None,
    horizon_months: int | None = None,
    seed: int = 0,
    antithetic: bool = False,
    series: str | Sequence[str] | None = None,
    month: int | str | None = None,
    quantiles: Sequence[float] = QUANTILES,
    thresholds: Mapping[str, float] | None = None,
    alpha: float | None = 0.95,
    threads_per_shard: int | None = 1,
    retries: int = 3,
    qmc: bool = False,
    mixes: Mapping[str, Any] | None = None,
    replicates: int | None = None,
    progress: bool | str = "auto",
) -> SummaryResult:
    """:meth:`World.simulate_summary` with the paths split across Dask workers.

    Parameters
    ----------
    world
        The world to simulate.
    n_paths
        Number of paths.
    client
        A ``distributed.Client`` (default: the current one).
    shard_paths
        Paths per task (default: about 4 tasks per worker thread, at least 10,000 paths;
        with ``antithetic`` an odd number is rounded up, so that no pair is split). Each
        task returns its pass's whole grid, about 0.5 MB per series and scenario however
        few paths it ran, so shards much smaller than the default mostly move grids.
    horizon_months, seed, antithetic, series, month, quantiles, thresholds, alpha, qmc, mixes, replicates
        As in :meth:`World.simulate_summary` (risk rows, mixes' included, at ``month``; the
        replicates run one after the other, each split into shards).
    threads_per_shard
        Threads each task uses inside its worker.
    retries
        Times a failed task (e.g. on a worker that died) is resubmitted.
    progress
        ``"auto"`` shows on the client the paths of each pass's finished shards (counted
        in shard order) for a pass longer than a second; ``True`` always, ``False`` never.

    Returns
    -------
    SummaryResult
        The same bits as ``world.simulate_summary(n_paths, seed=seed, ...)``.

    Raises
    ------
    ConfigError
        With ``path`` ``"pass"`` or ``"partial"`` if a worker runs another geoscenario
        version than the client (the message names both): the passes and partials they
        exchange carry the version that wrote them, and the fingerprint of their job, so
        that one job's bytes are never run or merged by another.

    Examples
    --------
    >>> import geoscenario as gs
    >>> from distributed import Client, LocalCluster
    >>> cluster = LocalCluster(n_workers=1, processes=False, dashboard_address=None)
    >>> client = Client(cluster)
    >>> world = gs.World.default()
    >>> res = gs.distributed.simulate_summary(world, 5_000, client=client, shard_paths=2_000,
    ...                                       seed=1, series=["potash_spot", "direct_belarus"])
    >>> local = world.simulate_summary(5_000, seed=1, series=["potash_spot", "direct_belarus"])
    >>> res.table.equals(local.table), res.risk.equals(local.risk)  # the bits of the local run
    (True, True)
    >>> client.close(); cluster.close()
    """
    _check_world(world)
    client = _client(client)
    n, h, s, anti = _validate.run_args(world.horizon_months, n_paths, horizon_months, seed, antithetic)
    t = _validate.month(month, h, world._core.month_labels(h))
    q = _validate.flag("qmc", qmc)
    rep = check_replicates(replicates, n, q)
    m = n if rep is None else n // rep  # the paths of each run
    seeds = run_seeds(s, rep)
    if shard_paths is None:
        n_threads = max(1, sum(client.nthreads().values()))
        shard_paths = max(10_000, -(-m // (4 * n_threads)))
    shard = _validate.integer("shard_paths", shard_paths, 1, int(_core.MAX_PATHS))
    r = _validate.integer("retries", retries, 0, 100)
    threads_per_shard = _threads("threads_per_shard", threads_per_shard)
    _progress.check(progress)
    job_args = (anti, series, t, quantiles, thresholds, alpha, q, mixes)  # (make_job's, after the seed)
    job, reducers, _, qs = replicate_job(world, m, rep, h, seeds[0], *job_args)
    # antithetic twins in one shard: their pair's mean enters the standard errors
    try:
        ranges = shards(m, shard + (shard % 2 if anti else 0))
    except ConfigError as e:
        if rep is None:
            raise
        # (the paths are each replicate's, not the n_paths asked for)
        raise invalid("shard_paths", f"{str(e).split(': ', 1)[-1]} (in each of the {rep} replicates)") from e
    _validate.late_onsets(world, h)
    _validate.qmc_paths(q, m, rep)

    def passes(job: Any, i: int) -> None:
        step = 0
        while (p := job.next_pass()) is not None:
            step += 1
            with _progress.guard(_progress.display(progress, pass_label(step, i, rep))) as cb:
                job.advance(_merged_pass(client, job, p, ranges, threads_per_shard, r, cb))

    res = run_all(world, job, seeds, s, passes, m, h, job_args, reducers, qs)
    _validate.ruined(res._ruined, res.month)
    return res


def _horizon_shard(toml: str, n: int, h: int, seed: int, anti: bool, start: int, end: int,
                   names: list[str], t: int, threads: int | None, qmc: bool = False) -> dict[str, np.ndarray]:
    core = _core.CoreWorld.from_toml(toml)
    raw = core.simulate(n, h, seed, anti, threads, 2048, start, end, None, qmc)
    out = {name: np.ascontiguousarray(raw["series"][name][:, t]) for name in names}
    out["__scenario__"] = raw["scenario"]
    out["__onset__"] = raw["onset"]
    if raw["regimes"] is not None:
        out["__regime__"] = np.ascontiguousarray(raw["regimes"][:, t])
    return out


def simulate_horizon(
    world: World,
    n_paths: int,
    *,
    client: Any = None,
    shard_paths: int | None = 100_000,
    horizon_months: int | None = None,
    seed: int = 0,
    antithetic: bool = False,
    series: str | Sequence[str] | None = None,
    month: int | str | None = None,
    threads_per_shard: int | None = 1,
    retries: int = 3,
    qmc: bool = False,
    progress: bool | str = "auto",
) -> pd.DataFrame:
    """Values of every path at one month, simulated in shards on the cluster.

    Only the chosen month of each series travels back from the workers, so the
    memory of the client grows with ``n_paths × len(series)``, not with the horizon.

    Parameters
    ----------
    world
        The world to simulate.
    n_paths
        Number of paths.
    client
        A ``distributed.Client`` (default: the current one).
    shard_paths
        Paths per task (``None``: the default, 100,000).
    horizon_months, seed, antithetic
        As in :meth:`World.simulate`.
    series
        Series to return (default: all).
    month
        Month index (negative from the end), label ``"YYYY-MM"`` or date; default the horizon.
    threads_per_shard
        Threads each task uses inside its worker.
    retries
        Times a failed task is resubmitted.
    qmc
        Sobol points with Owen scrambling and a Brownian bridge, as in :meth:`World.simulate`.
    progress
        ``"auto"`` shows the paths of the shards done on the client for a run longer than
        a second; ``True`` always, ``False`` never.

    Returns
    -------
    pandas.DataFrame
        One row per path (index ``path``) with ``scenario``, ``weight``, ``onset``
        (or ``regime`` under Markov regimes) and one column per series: the same
        bits as ``world.simulate(...).to_pandas(month=...)``, attrs included.

    Examples
    --------
    >>> import geoscenario as gs
    >>> from distributed import Client, LocalCluster
    >>> cluster = LocalCluster(n_workers=1, processes=False, dashboard_address=None)
    >>> client = Client(cluster)
    >>> world = gs.World.default()
    >>> df = gs.distributed.simulate_horizon(world, 3_000, client=client, shard_paths=1_000,
    ...                                      seed=2, series="potash_spot")
    >>> df.shape, df.columns.tolist()
    ((3000, 4), ['scenario', 'weight', 'onset', 'potash_spot'])
    >>> df.equals(world.simulate(3_000, seed=2).to_pandas("potash_spot", month=-1))
    True
    >>> client.close(); cluster.close()
    """
    _check_world(world)
    client = _client(client)
    n, h, s, anti = _validate.run_args(world.horizon_months, n_paths, horizon_months, seed, antithetic)
    t = _validate.month(month, h, world._core.month_labels(h))
    shard = _validate.integer("shard_paths", 100_000 if shard_paths is None else shard_paths, 1, int(_core.MAX_PATHS))
    names = _validate.names("series", series, list(world.units))
    r = _validate.integer("retries", retries, 0, 100)
    threads_per_shard = _threads("threads_per_shard", threads_per_shard)
    q = _validate.flag("qmc", qmc)
    _progress.check(progress)
    _check_gather(n, len(names))
    _check_run(world, n, h, s, anti, q)
    _validate.late_onsets(world, h)
    _validate.qmc_paths(q, n)
    toml = world.to_toml()
    ranges = shards(n, shard)
    futures = [
        client.submit(_horizon_shard, toml, n, h, s, anti, a, b, names, t, threads_per_shard, q,
                      retries=r, pure=False)
        for a, b in ranges
    ]
    with _progress.guard(_progress.display(progress)) as cb:
        parts = _gather(client, futures, cb, [b - a for a, b in ranges])
    scen = np.concatenate([p["__scenario__"] for p in parts])
    counts = np.bincount(scen, minlength=len(world.scenario_names))
    probs = np.array(list(world.probabilities.values()))
    per = np.divide(probs, counts, out=np.zeros_like(probs), where=counts > 0)
    regime = np.concatenate([p["__regime__"] for p in parts]) if "__regime__" in parts[0] else None
    df = pd.DataFrame({
        "scenario": pd.Categorical.from_codes(scen, categories=world.scenario_names),
        "weight": per[scen],
        **_timing(np.concatenate([p["__onset__"] for p in parts]), regime, world.scenario_names),
    })
    for nm in names:
        df[nm] = np.concatenate([p[nm] for p in parts])
    df.index.name = "path"
    label = world._core.month_labels(h)[t]
    df.attrs.update(month=label, units={nm: world.units[nm] for nm in names})
    # as World.simulate warns: the strategies returned whose NAV is 0 at the month
    _validate.ruined({nm: ruin_probability(df[nm], df["weight"]) for nm in names if nm in world.strategies}, label)
    return df


def _check_gather(n: int, n_series: int) -> None:
    """Refuse a horizon table the client could not hold: n rows of the series, the
    weight and the scenario, gathered once and concatenated once."""
    need = 2 * n * (8 * (n_series + 1) + 1)
    try:
        ram = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return
    if need > ram:
        raise ResourceError(
            f"{n:,} paths × {n_series} series gathered on the client: needs {need / 2**30:,.2f} GiB, "
            f"more than this machine's {ram / 2**30:,.2f} GiB of memory (use simulate_summary, "
            "or fewer series or paths)"
        )


def _sweep_point(toml: str, n: int, h: int | None, seed: int, series: list[str] | None,
                 quantiles: Sequence[float], thresholds: Mapping[str, float] | None,
                 alpha: float | None, threads: int | None, antithetic: bool = False,
                 month: int | None = None, qmc: bool = False) -> tuple[pd.DataFrame, dict[str, float]]:
    """A grid point's table, and the probability that each of its strategies lost
    everything (for the client to warn of: a worker's warnings are not seen)."""
    # (quietly: the client's world said its warnings when it was made)
    res = summary.simulate_summary(_world_from_toml_text(toml), n, h, seed, antithetic, threads, series=series,
                                   month=month, quantiles=quantiles, thresholds=thresholds, alpha=alpha,
                                   chunk_paths=None, progress=False, qmc=qmc, warn=False)
    return res.table, res._ruined


def sweep(
    world: World,
    grid: Mapping[str, Sequence[Any]],
    n_paths: int,
    *,
    client: Any = None,
    horizon_months: int | None = None,
    seed: int = 0,
    antithetic: bool = False,
    series: str | Sequence[str] | None = None,
    month: int | str | None = None,
    quantiles: Sequence[float] = QUANTILES,
    thresholds: Mapping[str, float] | None = None,
    threads_per_point: int | None = 1,
    retries: int = 3,
    qmc: bool = False,
    progress: bool | str = "auto",
) -> pd.DataFrame:
    """Summaries of many worlds, one Dask task per point of a parameter grid.

    Parameters
    ----------
    world
        The world every grid point starts from.
    grid
        ``{"scenarios.bear.potash_spot.theta": [450, 520], "scenarios.bear.potash_spot.sigma": [0.3, 0.4]}``:
        every combination is a world built with :meth:`World.with_params`. Probabilities,
        which must sum to one, change together as a tuple of paths with tuples of values,
        e.g. ``{("scenarios.base.probability", "scenarios.bear.probability"): [(.6, .15), (.5, .25)]}``.

    n_paths
        Paths per grid point.
    client
        A ``distributed.Client`` (default: the current one).
    horizon_months, seed, antithetic, qmc
        As in :meth:`World.simulate`; every point uses the same seed (common random
        numbers: points differ by their parameters, not by their draws), except in
        probabilities: the paths are dealt to the scenarios in blocks, in proportion to
        their probabilities, so a grid over probabilities changes the draws of every
        scenario from the first one whose share changed. To compare probabilities on the
        same draws, reweight one simulation (:meth:`Simulation.reweight`).
    series, month, quantiles, thresholds
        As in :meth:`World.simulate_summary`; without ``thresholds`` each point reports
        its own world's ``[thresholds]`` (a grid over ``"thresholds.<series>"`` varies them).
        ``month`` is checked against every point's months (a grid may change the horizon
        or the start).
    threads_per_point
        Threads each task uses inside its worker.
    retries
        Times a failed task is resubmitted.
    progress
        ``"auto"`` shows the grid points done on the client for a sweep longer than a
        second; ``True`` always, ``False`` never.

    Returns
    -------
    pandas.DataFrame
        Tidy: one row per (grid point, series, scenario) with the grid parameters as columns.

    Examples
    --------
    >>> import geoscenario as gs
    >>> from distributed import Client, LocalCluster
    >>> cluster = LocalCluster(n_workers=1, processes=False, dashboard_address=None)
    >>> client = Client(cluster)
    >>> grid = {"scenarios.bear.potash_spot.theta": [450.0, 520.0]}
    >>> df = gs.distributed.sweep(gs.World.default(), grid, 2_000, client=client,
    ...                           series="potash_spot", seed=1)
    >>> len(df), df.columns[:3].tolist()  # 2 points x (3 scenarios + "all")
    (8, ['scenarios.bear.potash_spot.theta', 'series', 'scenario'])
    >>> bear = df[df["scenario"] == "bear"].set_index("scenarios.bear.potash_spot.theta")["mean"]
    >>> bool(bear[520.0] > bear[450.0])  # same seed, higher long-run level: higher bear mean
    True
    >>> client.close(); cluster.close()
    """
    _check_world(world)
    _progress.check(progress)
    client = _client(client)
    if not isinstance(grid, Mapping) or not grid:
        raise invalid("grid", "must be a non-empty dict of parameter path to a list of values")
    keys = list(grid)
    values = []
    for k in keys:
        v = grid[k]
        if not _validate.is_sequence(v):  # a set too: the grid's order would change from run to run
            raise invalid(f"grid.{k}", f"must be a list of values, got {type(v).__name__} {v!r}")
        v = list(v)
        if isinstance(k, tuple):  # a list of tuples, one value per path of the key
            for point in v:
                if isinstance(point, (str, bytes)) or not isinstance(point, Sequence) or len(point) != len(k):
                    raise invalid(f"grid.{k}", f"every value must be a tuple of {len(k)} values, got {point!r}")
        values.append(v)
    seen: set[Any] = set()
    for k in keys:  # one path in two keys: the later would silently win
        for path in k if isinstance(k, tuple) else (k,):
            if path in seen:
                raise invalid(f"grid.{path}", "is given twice: give each parameter path in one key of the grid")
            seen.add(path)
    if any(len(v) == 0 for v in values):
        raise invalid("grid", "every parameter needs at least one value")
    size = int(np.prod([len(v) for v in values], dtype=object))
    if size > MAX_GRID_POINTS:
        raise invalid("grid", f"has {size:,} points, more than {MAX_GRID_POINTS:,}")
    n, h, s, anti = _validate.run_args(world.horizon_months, n_paths, horizon_months, seed, antithetic)
    h_point = None if horizon_months is None else h  # a grid may change the world's horizon
    q = _validate.flag("qmc", qmc)
    points, tomls, months = [], [], []
    said: set[str] = set()  # a late scenario is warned of once for the grid, not at each point
    said_config: set[tuple[type[Warning], str]] = set()  # and a config warning once per subject
    for combo in itertools.product(*values):
        changes: dict[str, Any] = {}
        for k, v in zip(keys, combo):
            if isinstance(k, tuple):
                changes.update(dict(zip(k, v)))
            else:
                changes[k] = v
        try:  # validated here, not on the workers, whose failures would be retried
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                point = world.with_params(changes)
            for w in caught:  # (a θ in another unit at several points: said at the first)
                subject = (w.category, str(w.message).split(":", 1)[0])
                if subject not in said_config:
                    said_config.add(subject)
                    warn(str(w.message), w.category)
            hp = point.horizon_months if h_point is None else h_point
            _check_run(point, n, hp, s, anti, q)
            months.append(_validate.month(month, hp, point._core.month_labels(hp)))
            tomls.append(point.to_toml())
        except ConfigError as e:
            hint = ("; paths that must change together, as probabilities that sum to 1, "
                    "go in one key: a tuple of paths with tuples of values") if "sum to 1" in str(e) else ""
            path = "grid" if e.path == "overrides" else e.path  # a grid key that is no parameter path
            raise invalid(path, f"{str(e).split(': ', 1)[-1]}, at the grid point {changes}{hint}") from None
        points.append(changes)
        _validate.late_onsets(point, hp, said)
    _validate.qmc_paths(q, n)
    names = None if series is None else _validate.names("series", series, list(world.units))
    # given thresholds are checked here; without them each point reports its own
    # world's [thresholds] (a grid may change them)
    th = None if thresholds is None else check_thresholds(thresholds, names or list(world.units), {})
    qs = check_quantiles(quantiles)
    r = _validate.integer("retries", retries, 0, 100)
    threads_per_point = _threads("threads_per_point", threads_per_point)
    futures = [
        client.submit(_sweep_point, toml, n, h_point, s, names, qs, th,
                      None, threads_per_point, anti, t, q, retries=r, pure=False)
        for toml, t in zip(tomls, months)
    ]
    with _progress.guard(_progress.display(progress, "sweep", unit="grid points")) as cb:
        results = _gather(client, futures, cb, [1] * len(futures))
    frames, ruined = [], []
    for changes, (table, lost) in zip(points, results):
        if any(p > 0 for p in lost.values()):
            ruined.append((changes, table.attrs["month"], lost))
        df = table.reset_index()
        for i, (k, v) in enumerate(changes.items()):  # the grid's paths first, in its order
            # a list value (an onset window) is one cell per row, not a column of its items
            df.insert(i, k, pd.Series([v] * len(df), dtype=object) if isinstance(v, (list, tuple)) else v)
        frames.append(df)
    if ruined:  # one warning for the grid: the first such point, and how many there are
        changes, label, lost = ruined[0]
        more = f" (and at {count(len(ruined) - 1, 'more grid point')})" if len(ruined) > 1 else ""
        _validate.ruined(lost, f"{label} at the grid point {changes}{more}")
    return pd.concat(frames, ignore_index=True)
