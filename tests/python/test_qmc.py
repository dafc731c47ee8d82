"""Quasi-Monte Carlo: scrambled Sobol shocks with a Brownian bridge."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import geoscenario as gs

ONE_FACTOR = """
[factors.s]
kind = "log_ou"
initial = 352.0
[scenarios.base]
probability = 1.0
s = { theta = 480.0, kappa = 0.6, sigma = 0.40 }
"""


def exact_mean(t_years: float) -> float:
    """E[S_T] of the log-OU without jumps: exp(m + v/2) (MODEL.md §3)."""
    kap, sig = 0.6, 0.4
    m = np.log(352) * np.exp(-kap * t_years) + np.log(480) * (1 - np.exp(-kap * t_years))
    v = sig**2 * (1 - np.exp(-2 * kap * t_years)) / (2 * kap)
    return float(np.exp(m + v / 2))


def test_qmc_error_falls_faster_than_monte_carlo():
    world = gs.World.from_toml(ONE_FACTOR)
    truth = exact_mean(2.0)
    sizes = [2**10, 2**12, 2**14]
    rmse = {True: [], False: []}
    for qmc in (True, False):
        for n in sizes:
            err = [world.simulate(n, 24, seed=s, qmc=qmc, progress=False).paths("s")[:, -1].mean() - truth
                   for s in range(16)]
            rmse[qmc].append(float(np.sqrt(np.mean(np.square(err)))))
    slope_q = np.polyfit(np.log(sizes), np.log(rmse[True]), 1)[0]
    slope_m = np.polyfit(np.log(sizes), np.log(rmse[False]), 1)[0]
    assert slope_q < -0.75, rmse
    assert -0.8 < slope_m < -0.2, rmse  # plain MC: N^(-1/2), estimated from 16 seeds
    assert rmse[True][-1] < rmse[False][-1] / 10


def test_qmc_on_the_whole_default_world_is_unbiased_over_scrambles():
    # jumps, onsets, scenarios, assets and strategy NAVs: the mean over 64 independent
    # scrambles of the weighted horizon mean, against a large plain-MC run, within 4
    # combined standard errors (each scramble's estimate is unbiased; their spread gives
    # the QMC side's error)
    world = gs.World.default()
    names = ["potash_spot", "global_equity", "direct_belarus", "infrastructure_beneficiaries"]
    est = {n: [] for n in names}
    for seed in range(64):
        sim = world.simulate(1_024, seed=seed, qmc=True, progress=False)
        for n in names:
            est[n].append(float(sim.weights @ sim.paths(n)[:, -1]))
    plain = world.simulate(200_000, seed=12_345, progress=False)
    for n in names:
        x, w = plain.paths(n)[:, -1], plain.weights
        # stratified by scenario: the variance of the weighted mean sums the scenarios'
        var_plain = sum((w[plain.scenario == k].sum() ** 2) * x[plain.scenario == k].var(ddof=1)
                        / (plain.scenario == k).sum() for k in range(len(plain.scenario_names)))
        q = np.array(est[n])
        se = np.sqrt(q.var(ddof=1) / q.size + var_plain)
        assert abs(q.mean() - w @ x) <= 4 * se, (n, q.mean(), w @ x, se)


def test_qmc_is_unbiased_and_reproducible():
    world = gs.World.default()
    a = world.simulate(4_096, seed=3, qmc=True, threads=1)
    b = world.simulate(4_096, seed=3, qmc=True, chunk_paths=77)
    for name in a.units:
        assert np.array_equal(a.paths(name), b.paths(name))
    c = world.simulate(4_096, seed=4, qmc=True)
    assert not np.array_equal(a.paths("potash_spot"), c.paths("potash_spot"))
    s1 = world.simulate_summary(4_096, seed=3, qmc=True, progress=False)
    assert a.summary().equals(s1.table)


def test_qmc_rejects_antithetic():
    with pytest.raises(gs.ConfigError, match="qmc"):
        gs.World.default().simulate(1_024, qmc=True, antithetic=True)


def test_qmc_names_the_horizon_beyond_the_sobol_dimensions():
    world = gs.World.default()
    with pytest.raises(gs.ConfigError, match="at most 512 months") as err:
        world.simulate(1_024, 1_200, qmc=True)
    assert err.value.path == "horizon_months"
    assert world.simulate(64, 512, qmc=True, progress=False).horizon_months == 512


@pytest.mark.parametrize("n, near", [(1_000, "512 or 1024"), (3, "2 or 4"), (4_097, "4096 or 8192")])
def test_qmc_warns_about_a_path_count_that_is_not_a_power_of_two(n, near):
    world = gs.World.default()
    with pytest.warns(UserWarning, match=f"qmc=True with n_paths={n}, not a power of two.* {near} paths"):
        sim = world.simulate(n, 12, qmc=True, progress=False)
    with pytest.warns(UserWarning, match=f"n_paths={n}, not a power of two"):
        summary = world.simulate_summary(n, 12, qmc=True, progress=False)
    assert sim.summary().equals(summary.table)  # still the same run, only warned about
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        world.simulate(n, 12, qmc=False, progress=False)
        world.simulate(1 << n.bit_length(), 12, qmc=True, progress=False)
        world.simulate_summary(1 << n.bit_length(), 12, qmc=True, progress=False)
        with pytest.raises(gs.ConfigError, match="antithetic"):  # an error, and no warning first
            world.simulate(n, 12, qmc=True, antithetic=True, progress=False)
