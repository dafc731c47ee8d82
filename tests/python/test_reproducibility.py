"""MODEL.md §7 reproducibility: the same seed gives the same bits whatever the
thread count or chunking; antithetic twins mirror each other's shocks."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from conftest import DT, assert_bit_identical, single_factor_toml, toml_world

import geoscenario as gs
from geoscenario import _core

N = 3_000
H = 24


@pytest.fixture(scope="module", params=[False, True], ids=["plain", "antithetic"])
def reference(request, default_world):
    """(antithetic flag, reference simulation with default threads and chunking)."""
    anti = request.param
    return anti, default_world.simulate(N, H, seed=123, antithetic=anti)


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_bit_identical_across_thread_counts(default_world, reference, threads):
    anti, ref = reference
    other = default_world.simulate(N, H, seed=123, antithetic=anti, threads=threads)
    assert_bit_identical(ref, other)


@pytest.mark.parametrize("chunk_paths", [1, 7, 100, 4096])
def test_bit_identical_across_chunk_sizes(default_world, reference, chunk_paths):
    anti, ref = reference
    other = default_world.simulate(N, H, seed=123, antithetic=anti, threads=2, chunk_paths=chunk_paths)
    assert_bit_identical(ref, other)


def test_same_seed_identical_different_seed_different(default_world):
    a = default_world.simulate(2_000, 12, seed=7)
    b = default_world.simulate(2_000, 12, seed=7)
    c = default_world.simulate(2_000, 12, seed=8)
    assert_bit_identical(a, b)
    # scenario allocation is deterministic (stratified), the draws are not
    assert np.array_equal(a.scenario, c.scenario)
    for name in ("potash_spot", "global_equity", "eurobond_price", "roadmap_projects_done"):
        x, y = a.paths(name), c.paths(name)
        assert np.array_equal(x[:, 0], y[:, 0]), "t = 0 is the initial state"
        assert not np.array_equal(x, y), name
    # continuous series differ on (essentially) every path at t = 1
    frac_diff = np.mean(a.paths("potash_spot")[:, 1] != c.paths("potash_spot")[:, 1])
    assert frac_diff > 0.99
    # onset months differ on a sizeable share of the non-base paths
    nonbase = a.onset >= 0
    assert np.array_equal(nonbase, c.onset >= 0)
    assert np.mean(a.onset[nonbase] != c.onset[nonbase]) > 0.5


def test_seed_edges_accepted_and_distinct(default_world):
    lo = default_world.simulate(200, 3, seed=0)
    hi = default_world.simulate(200, 3, seed=2**64 - 1)
    assert lo.seed == 0 and hi.seed == 2**64 - 1
    assert not np.array_equal(lo.paths("potash_spot"), hi.paths("potash_spot"))
    # the two 32-bit halves of the seed both matter
    a = default_world.simulate(200, 3, seed=1)
    b = default_world.simulate(200, 3, seed=1 << 32)
    assert not np.array_equal(a.paths("potash_spot"), b.paths("potash_spot"))


def test_path_streams_depend_on_seed_and_path_not_seed_plus_index():
    """Path i's numbers depend on (seed, global path index) only; never seed + i."""
    w = gs.World.from_toml(single_factor_toml("gbm", "g = 0.05, sigma = 0.3"))
    big = w.simulate(1_000, 12, seed=5)
    small = w.simulate(400, 12, seed=5)
    # a one-scenario world has a trivial allocation: the first rows coincide
    assert np.array_equal(big.paths("x")[:400], small.paths("x"))
    # with a seed + i scheme, (seed 5, path 1) would equal (seed 6, path 0)
    shifted = w.simulate(1_000, 12, seed=6)
    x5, x6 = big.paths("x"), shifted.paths("x")
    assert not np.any(np.all(x5[1:] == x6[:-1], axis=1))
    assert not np.any(np.all(x5[:-1] == x6[1:], axis=1))
    # and no two paths of one simulation share their draws
    assert np.unique(x5[:, 1]).size == x5.shape[0]


def test_antithetic_twins_mirror_gbm_log_paths():
    """kappa-free GBM: ln S_2j + ln S_2j+1 = 2 (ln S0 + (g - sigma^2/2) t) exactly."""
    g, sigma, s0 = 0.0, 0.2, 100.0
    w = gs.World.from_toml(single_factor_toml("gbm", f"g = {g}, sigma = {sigma}", initial=f"initial = {s0}"))
    h = 36
    s = w.simulate(2_000, h, seed=11, antithetic=True)
    assert s.antithetic
    x = np.log(s.paths("x"))
    t = np.arange(h + 1)
    expected = 2.0 * (np.log(s0) + (g - 0.5 * sigma**2) * DT * t)
    np.testing.assert_allclose(x[0::2] + x[1::2], np.broadcast_to(expected, x[0::2].shape), rtol=0, atol=1e-12)
    # the twins really move (not a degenerate zero-shock world)
    assert np.std(x[0::2, -1] - x[1::2, -1]) > 0.1


def test_the_benchmark_floor_draws_exactly_the_shocks_of_a_simulation():
    """``_core.shock_normals_sum`` (bench_kernel's floor) adds the normals a one-shock world
    draws: with g = sigma^2 / 2 and sigma = 1 a GBM's ln S_H is sum_t z_t / sqrt(12)."""
    w = gs.World.from_toml(single_factor_toml("gbm", "g = 0.5, sigma = 1.0", initial="initial = 1.0"))
    for n, h in [(1_000, 12), (5_003, 7)]:  # one chunk; three chunks of 2,048 paths, the last partial
        want = np.log(w.simulate(n, h, seed=7).paths("x")[:, -1]).sum() * np.sqrt(12.0)
        got = [_core.shock_normals_sum(n, h, 7, threads=t) for t in (1, 2)]
        assert got[0] == got[1]  # same bits whatever the thread count
        # rounding of exp, log and the scale: ~1e-15 per path; another seed is off by ~sqrt(n h)
        assert got[0] == pytest.approx(want, rel=0, abs=1e-11 * n)
        assert abs(_core.shock_normals_sum(n, h, 8) - want) > 1.0


def test_antithetic_twins_mirror_log_ou_shocks():
    """Log-OU without jumps is linear in the shocks: twin deviations from the mean path cancel."""
    kappa, theta, sigma, s0 = 0.7, 50.0, 0.25, 30.0
    w = gs.World.from_toml(
        single_factor_toml(
            "log_ou", f"theta = {theta}, kappa = {kappa}, sigma = {sigma}", initial=f"initial = {s0}"
        )
    )
    h = 24
    s = w.simulate(1_000, h, seed=3, antithetic=True)
    x = np.log(s.paths("x"))
    t = np.arange(h + 1) * DT
    mean_path = np.log(s0) * np.exp(-kappa * t) + np.log(theta) * (1 - np.exp(-kappa * t))
    np.testing.assert_allclose(
        x[0::2] + x[1::2], np.broadcast_to(2 * mean_path, x[0::2].shape), rtol=0, atol=1e-11
    )


def test_antithetic_pairs_share_scenario_and_onset(default_world):
    s = default_world.simulate(2_000, 24, seed=2, antithetic=True)
    assert np.array_equal(s.scenario[0::2], s.scenario[1::2])
    assert np.array_equal(s.onset[0::2], s.onset[1::2])
    assert all(c % 2 == 0 for c in s.counts.values())
    # uniform-driven series are shared by the twins (only normals are negated)
    rp = s.paths("roadmap_projects_done")
    assert np.array_equal(rp[0::2], rp[1::2])


def test_markov_world_bit_identical_across_threads_and_chunks(markov_world):
    ref = markov_world.simulate(N, H, seed=99)
    assert ref.regimes is not None
    for threads, chunk in [(1, None), (2, 7), (4, 1), (2, 4096)]:
        kwargs = {} if chunk is None else {"chunk_paths": chunk}
        other = markov_world.simulate(N, H, seed=99, threads=threads, **kwargs)
        assert_bit_identical(ref, other)
    anti = markov_world.simulate(N, H, seed=99, antithetic=True, threads=1)
    anti2 = markov_world.simulate(N, H, seed=99, antithetic=True, threads=4, chunk_paths=7)
    assert_bit_identical(anti, anti2)
    # antithetic twins share their regime path (regime draws are uniforms)
    assert np.array_equal(anti.regimes[0::2], anti.regimes[1::2])


def test_world_copies_simulate_identically(default_world):
    """A world rebuilt from its own TOML or dict simulates the same bits."""
    a = default_world.simulate(1_000, 12, seed=4)
    b = gs.World.from_toml(default_world.to_toml()).simulate(1_000, 12, seed=4)
    c = gs.World.from_dict(default_world.to_dict()).simulate(1_000, 12, seed=4)
    assert_bit_identical(a, b)
    assert_bit_identical(a, c)


def test_simulations_compare_equal_when_every_array_has_the_same_bits(default_world):
    a = default_world.simulate(1_000, 12, seed=4, progress=False)
    again = gs.World.from_toml(default_world.to_toml()).simulate(1_000, 12, seed=4, progress=False)
    restored = pickle.loads(pickle.dumps(a))
    assert a == again == restored and hash(a) == hash(again) == hash(restored) and len({a, again, restored}) == 1
    # any other run, weights or views
    for other in (default_world.simulate(1_000, 12, seed=5, progress=False),
                  default_world.simulate(1_000, 11, seed=4, progress=False),
                  default_world.simulate(1_000, 12, seed=4, antithetic=True, progress=False),
                  default_world.with_params({"scenarios.bear.potash_spot.theta": 481}).simulate(1_000, 12, seed=4,
                                                                                               progress=False),
                  a.reweight({"base": 0.5, "bull": 0.3, "bear": 0.2}),
                  a.with_views([gs.View.mean("bilateral_trade", 9.5)], progress=False)):
        assert a != other and other != a
    assert a == a.reweight(default_world.probabilities)  # the same weights
    assert a != "a simulation" and a.__eq__(1) is NotImplemented
    # one path's value in one month, changed by the smallest step, makes another simulation
    state = a.__getstate__()
    x = np.array(state["_series"]["potash_spot"])
    x[517, 6] = np.nextafter(x[517, 6], np.inf)
    state["_series"] = {**state["_series"], "potash_spot": x}
    nudged = type(a).__new__(type(a))
    nudged.__setstate__(state)
    assert a != nudged and hash(a) == hash(nudged)


def test_toml_world_helper_matches_from_toml():
    # guards the helper used by other modules
    text = single_factor_toml("gbm", "g = 0.0, sigma = 0.1")
    assert toml_world(text) == gs.World.from_toml(text)


_POSTERIOR_SCRIPT = r"""
import hashlib, sys
import numpy as np
import geoscenario as gs
sim = gs.World.default().simulate(100_000, seed=7, threads=1, progress=False)
x = sim.paths("potash_spot")[:, -1]
out = []
for views in ([gs.View.prob_above("potash_spot", 450, 0.35)],
              [gs.View.prob_above("potash_spot", float(np.quantile(x, 0.3)), 1.0)]):  # pins the support
    post = sim.with_views(views)
    a = post.allocate(0.95)
    risk = post.risk_table(0.95)
    summary = post.summary(["potash_spot", "direct_belarus"]).to_numpy(dtype=float)
    for arr in (post.weights, summary, np.array([post.posterior["relative_entropy"], post.posterior["effective_scenarios"]]),
                a.weights.to_numpy(), np.array([a.cvar, a.var]), risk.to_numpy(dtype=float)):
        out.append(hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()[:16])
prior = sim.risk_table(0.95).to_numpy(dtype=float)
out.append(hashlib.sha256(prior.tobytes()).hexdigest()[:16])
print(" ".join(out))
"""


def test_posteriors_allocations_and_risk_are_bit_identical_across_thread_counts():
    # views, allocation and risk run on rayon's global pool, and the weighted statistics
    # of posteriors (and the risk table's mean drawdown) are NumPy sums: every sum has a
    # fixed order, whatever the rayon or BLAS threads (above 65,536 paths the first once
    # depended on rayon's threads; np.dot's sums depended on BLAS's)
    import os
    import subprocess
    import sys

    runs = {}
    for threads in ("1", "2", "3"):
        env = {**os.environ, "RAYON_NUM_THREADS": threads}
        env.update({v: threads for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")})
        res = subprocess.run([sys.executable, "-c", _POSTERIOR_SCRIPT], env=env, capture_output=True,
                             text=True, timeout=600)
        assert res.returncode == 0, res.stderr
        runs[threads] = res.stdout.split()
    assert len(runs["1"]) == 13
    assert runs["1"] == runs["2"] == runs["3"], runs


@pytest.mark.parametrize("world", ["default", "markov"])
def test_large_outputs_written_with_non_temporal_stores_equal_small_shards(default_world, markov_world, world):
    """Outputs of 64 MiB or more are written with non-temporal stores (on x86-64),
    smaller ones through the cache: a large run equals its shards, bit for bit."""
    w = default_world if world == "default" else markov_world
    core, n, h = w._core, 26_000, 24
    assert core.output_bytes(n, h) >= 64 << 20 > core.output_bytes(n // 2, h)
    whole = core.simulate(n, h, 5, False, 2, 1_001, 0, n, None)
    parts = [core.simulate(n, h, 5, False, 2, 1_001, a, b, None) for a, b in [(0, 9_999), (9_999, n)]]
    for name, x in whole["series"].items():
        joined = np.concatenate([p["series"][name] for p in parts])
        assert np.array_equal(x.view(np.uint64), joined.view(np.uint64)), name
    for key in ("scenario", "onset") + (("regimes",) if world == "markov" else ()):
        assert np.array_equal(whole[key], np.concatenate([p[key] for p in parts])), key


# ---------------------------------------------------------------------------- order
# Orders that say nothing about the thesis must not change a bit: the order the views,
# the strategies to allocate across, or an asset's betas are given in.
def test_a_posterior_does_not_depend_on_the_order_of_its_views(default_world):
    sim = default_world.simulate(20_000, seed=21, threads=1, progress=False)
    views = [gs.View.mean("potash_spot", 400.0, month=6), gs.View.mean("global_equity", 112.0, month=12),
             gs.View.prob_above("potash_spot", 450, 0.3, op="<="), gs.View.mean("bilateral_trade", 8.5, op=">=")]
    ref = sim.with_views(views)
    for order in ([3, 2, 1, 0], [1, 0, 3, 2], [2, 0, 3, 1]):
        post = sim.with_views([views[i] for i in order])
        assert np.array_equal(post.weights, ref.weights), order
        assert post.posterior["relative_entropy"] == ref.posterior["relative_entropy"]
        assert post.posterior["views"] == tuple(views[i] for i in order)  # as given


def test_an_allocation_does_not_depend_on_the_order_of_its_strategies(default_world):
    sim = default_world.simulate(5_000, seed=3, progress=False)
    names = list(sim.world.strategies)
    ref, back = sim.allocate(0.95, names), sim.allocate(0.95, names[::-1])
    assert back.weights.index.tolist() == names[::-1]  # in the order given
    assert np.array_equal(back.weights[names].to_numpy(), ref.weights.to_numpy())
    assert (back.expected_return, back.cvar, back.var) == (ref.expected_return, ref.cvar, ref.var)
    f, g = sim.efficient_frontier(0.9, 4, names), sim.efficient_frontier(0.9, 4, names[::-1])
    assert g.columns[4:].tolist() == names[::-1] and g[f.columns].equals(f)


def test_an_assets_returns_do_not_depend_on_the_order_of_its_betas(default_world):
    d = default_world.to_dict()
    for asset in d["assets"].values():
        asset["betas"] = dict(reversed(asset["betas"].items()))
    world = gs.World.from_dict(d)
    assert world == default_world
    a, b = (w.simulate(3_000, seed=5, progress=False) for w in (default_world, world))
    for name in default_world.strategies:
        assert np.array_equal(a.paths(name), b.paths(name)), name


def test_a_world_does_not_depend_on_the_order_of_a_strategys_weights_or_its_thresholds(default_world):
    # (CONFIG.md §2: they are read in the order of the assets and series they name)
    weights = {"hk_equity": 0.3, "fertilizer_producers": 0.45, "belarus_eurobond": 0.35, "global_equity": -0.1}
    worlds = []
    for order in (list(weights), sorted(weights), list(reversed(weights))):
        d = default_world.to_dict()
        d["strategies"]["mixed"] = {"weights": {a: weights[a] for a in order}, "cost_bps": 7.0}
        d["thresholds"] = dict({"mixed": 1.1, "potash_spot": 450.0, "bilateral_trade": 9.0}.items()
                                if order[0] == "hk_equity" else
                                [("bilateral_trade", 9.0), ("potash_spot", 450.0), ("mixed", 1.1)])
        worlds.append(gs.World.from_dict(d))
    assert worlds[0] == worlds[1] == worlds[2] and len({hash(w) for w in worlds}) == 1
    assert list(worlds[0].strategies["mixed"].weights) == [a for a in default_world.assets if a in weights]
    assert list(worlds[0].thresholds) == ["potash_spot", "bilateral_trade", "mixed"]
    a, b = (w.simulate(2_000, seed=5, progress=False) for w in (worlds[0], worlds[2]))
    assert np.array_equal(a.paths("mixed"), b.paths("mixed"))


def test_what_adding_a_factor_or_asset_or_moving_a_scenario_changes(default_world):
    """CONFIG.md §2: a diffusion factor added at the end changes every diffusion shock; a
    completion factor or an asset added at the end changes nothing; scenarios moved keep
    the first scenario's paths only."""
    base = default_world.simulate(2_000, 12, seed=3, progress=False)

    def run(edit):
        d = default_world.to_dict()
        edit(d)
        return gs.World.from_dict(d).simulate(2_000, 12, seed=3, progress=False)

    def same(a, b, name):
        return np.array_equal(a.paths(name), b.paths(name))

    def add_factor(spec, params):
        def edit(d):
            d["factors"]["extra"] = spec
            d["scenarios"]["base"]["extra"] = params
        return edit

    gbm = run(add_factor({"kind": "gbm", "unit": "x", "initial": 1.0}, {"g": 0.0, "sigma": 0.2}))
    assert not same(base, gbm, "potash_spot") and not same(base, gbm, "global_equity")
    assert same(base, gbm, "roadmap_projects_done")  # no Gaussian shocks of its own
    d = default_world.to_dict()
    done = next(f for f, spec in d["factors"].items() if spec["kind"] == "completion")
    completion = run(add_factor(d["factors"][done], d["scenarios"]["base"][done]))
    asset = run(lambda d: d["assets"].update(extra={"betas": {"global_equity": 1.0}, "vol": 0.2}))
    for name in base.units:
        assert same(base, completion, name) and same(base, asset, name), name

    moved = run(lambda d: d.update(scenarios={k: d["scenarios"][k] for k in ("base", "bear", "bull")}))
    for k, name in enumerate(base.scenario_names):
        mine, theirs = base.scenario == k, moved.scenario == moved.scenario_names.index(name)
        assert np.array_equal(base.paths("potash_spot")[mine], moved.paths("potash_spot")[theirs]) == (k == 0), name


def test_a_streamed_summary_has_the_same_bits_whatever_the_threads_and_chunks(default_world):
    runs = [default_world.simulate_summary(3_001, seed=9, threads=t, chunk_paths=c, progress=False,
                                           mixes={"m": {"direct_belarus": 0.5, "technology_transfer": 0.5}})
            for t, c in ((1, 2048), (2, 50), (3, 777))]
    for other in runs[1:]:
        assert other.table.equals(runs[0].table) and other.risk.equals(runs[0].risk)


_TIER_SCRIPT = r"""
import hashlib
import numpy as np
import geoscenario as gs
from geoscenario import _core
sim = gs.World.default().simulate(20_000, seed=11, progress=False)
h = hashlib.sha256()
for name in sim.units:
    h.update(np.ascontiguousarray(sim.paths(name)).tobytes())
h.update(sim.scenario.tobytes())
print(_core.SIMD, _core.GATHERS, h.hexdigest())
"""


def _tier_run(env: dict[str, str]) -> tuple[str, str, str]:
    import os
    import subprocess
    import sys

    base = {k: v for k, v in os.environ.items() if not k.startswith("GEOSCENARIO_")}
    res = subprocess.run([sys.executable, "-c", _TIER_SCRIPT], env={**base, **env},
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    simd, gathers, digest = res.stdout.split()
    return simd, gathers, digest


@pytest.fixture(scope="module")
def generic_run() -> tuple[str, str]:
    """The generic tier's digest, and the best tier this CPU has."""
    simd, gathers, digest = _tier_run({"GEOSCENARIO_SIMD": "generic", "GEOSCENARIO_GATHERS": "0"})
    assert (simd, gathers, len(digest)) == ("generic", "False", 64)
    return digest, _tier_run({})[0]


@pytest.mark.parametrize("simd", ["avx2", "avx512"])
def test_every_instruction_set_and_table_look_up_gives_the_same_bits(simd, generic_run):
    # the ziggurat's table look-ups are scalar loads by default, vector gathers with
    # GEOSCENARIO_GATHERS=1: both, on every tier the CPU has (a tier it lacks falls back to
    # the best it has, which the module reports)
    generic_digest, best = generic_run
    rank = ["generic", "avx2", "avx512"]
    want = rank[min(rank.index(simd), rank.index(best))]
    for gathers, env in (("False", {}), ("False", {"GEOSCENARIO_GATHERS": "0"}), ("True", {"GEOSCENARIO_GATHERS": "1"})):
        got = _tier_run({"GEOSCENARIO_SIMD": simd, **env})
        assert got == (want, gathers, generic_digest), (simd, env)
