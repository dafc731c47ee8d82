"""Quasi-Monte Carlo: scrambled Sobol shocks with a Brownian bridge."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

import geoscenario as gs
from geoscenario.summary import replicate_seed

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


# ---------------------------------------------------------------- randomised QMC: replicates
def test_each_replicate_is_the_qmc_summary_under_its_own_seed() -> None:
    world = gs.World.default()
    res = world.simulate_summary(4 * 1_024, seed=5, qmc=True, replicates=4, progress=False)
    assert [r.seed for r in res.replicates] == [replicate_seed(5, i) for i in range(4)]
    for i, rep in enumerate(res.replicates):
        alone = world.simulate_summary(1_024, seed=replicate_seed(5, i), qmc=True, progress=False)
        assert rep.n_paths == 1_024
        assert rep.table.equals(alone.table)
        assert rep.risk.equals(alone.risk)
    assert len({r.seed for r in res.replicates}) == 4 and res.seed == 5 and res.n_paths == 4_096


def test_estimates_average_the_replicates_and_errors_are_their_spread() -> None:
    res = gs.World.default().simulate_summary(8 * 512, seed=2, qmc=True, replicates=8, progress=False)
    for attr, est, err in [("table", "mean", "mean_se"), ("table", "p_above", "p_above_se"),
                           ("risk", "mean_return", "mean_return_se"), ("risk", "p_loss", "p_loss_se")]:
        reps = np.array([getattr(r, attr)[est].to_numpy() for r in res.replicates])  # (R, rows)
        pooled = getattr(res, attr)
        ok = ~np.isnan(reps).any(axis=0)
        assert ok.sum() > 3
        np.testing.assert_allclose(pooled[est].to_numpy()[ok], reps.mean(axis=0)[ok], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(pooled[err].to_numpy()[ok], reps.std(axis=0, ddof=1)[ok] / np.sqrt(8),
                                   rtol=1e-9, atol=1e-15)
        assert (pooled[err].to_numpy()[ok] > 0).any()
    for col in ["q05", "q50", "q95", "probability"]:
        reps = np.array([r.table[col].to_numpy() for r in res.replicates])
        np.testing.assert_allclose(res.table[col].to_numpy(), reps.mean(axis=0), rtol=1e-12)
    for col in ["var", "cvar", "tail_share", "max_drawdown"]:
        reps = np.array([r.risk[col].to_numpy() for r in res.replicates])
        np.testing.assert_allclose(res.risk[col].to_numpy(), reps.mean(axis=0), rtol=1e-12)
    assert (res.risk["var"] <= res.risk["cvar"]).all()
    assert res.table.index.equals(res.replicates[0].table.index)
    assert res.table.columns.equals(res.replicates[0].table.columns)
    assert res.risk.index.equals(res.replicates[0].risk.index)
    assert res.table.attrs["replicates"] == 8 and res.table.attrs["n_paths"] == 4_096
    assert res.risk.attrs["alpha"] == 0.95


def test_the_pooled_std_is_that_of_all_the_replicates_paths() -> None:
    # the law of total variance is exact for replicates of equal size: the pooled std is the
    # (weighted, population) std of the concatenated paths of the replicates' simulations
    world = gs.World.default()
    r, m = 4, 1_000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (1,000 is not a power of two)
        res = world.simulate_summary(r * m, seed=9, qmc=True, replicates=r, progress=False,
                                     series=["potash_spot", "direct_belarus"])
        sims = [world.simulate(m, seed=replicate_seed(9, i), qmc=True, progress=False) for i in range(r)]
    for name in ["potash_spot", "direct_belarus"]:
        x = np.concatenate([s.paths(name)[:, -1] for s in sims])
        w = np.concatenate([s.weights for s in sims]) / r
        scen = np.concatenate([s.scenario for s in sims])
        for k, label in [*enumerate(sims[0].scenario_names), (-1, "all")]:
            sel = np.ones(x.size, bool) if k < 0 else scen == k
            wk = w[sel] / w[sel].sum()
            mean = wk @ x[sel]
            std = np.sqrt(wk @ (x[sel] - mean) ** 2)
            row = res.table.loc[(name, label)]
            assert row["mean"] == pytest.approx(mean, rel=1e-12)
            assert row["std"] == pytest.approx(std, rel=1e-9)


def test_replicate_errors_measure_the_spread_of_the_estimate_over_seeds() -> None:
    # E[S_T] of a log-OU without jumps has a closed form: over 64 independent replicated runs
    # (8 scrambles of 256 points each), the mean squared error of the pooled mean against it
    # is what the reported errors² say on average. ln of that ratio has standard error about
    # sqrt(2/64 + 2/(64·7)) = 0.19 (64 errors; 64·7 degrees of freedom of the errors²):
    # within 4 of those. Errors of independent paths would be ~25 times too large (ln 3.2).
    world = gs.World.from_toml(ONE_FACTOR)
    truth = exact_mean(2.0)
    err, se2 = [], []
    for seed in range(64):
        row = world.simulate_summary(8 * 256, 24, seed=seed, qmc=True, replicates=8, alpha=None,
                                     progress=False).table.loc[("s", "all")]
        err.append(row["mean"] - truth)
        se2.append(row["mean_se"] ** 2)
    ratio = np.mean(np.square(err)) / np.mean(se2)
    assert abs(np.log(ratio)) < 4 * np.sqrt(2 / 64 + 2 / (64 * 7)), ratio
    # and the scrambles do their work: far below the error of as many plain Monte Carlo paths
    plain = world.simulate_summary(2_048, 24, seed=0, alpha=None, progress=False).table.loc[("s", "all")]
    assert np.sqrt(np.mean(se2)) < plain["mean_se"] / 5


def test_a_replicated_run_has_the_same_bits_whatever_the_threads_and_chunks() -> None:
    world = gs.World.default()
    a = world.simulate_summary(4_096, seed=3, qmc=True, replicates=4, threads=1, progress=False)
    b = world.simulate_summary(4_096, seed=3, qmc=True, replicates=4, threads=2, chunk_paths=77,
                               progress=False)
    assert a.table.equals(b.table) and a.risk.equals(b.risk)
    c = world.simulate_summary(4_096, seed=4, qmc=True, replicates=4, progress=False)
    assert not a.table.equals(c.table)


def test_a_replicated_result_pickles_and_says_what_it_pooled() -> None:
    res = gs.World.default().simulate_summary(2_048, seed=1, qmc=True, replicates=2, series="potash_spot",
                                              alpha=None, progress=False)
    assert repr(res).startswith("SummaryResult(2,048 paths in 2 QMC replicates at 2027-06: 1 series")
    back = pickle.loads(pickle.dumps(res))
    assert back.table.equals(res.table) and len(back.replicates) == 2
    assert back.replicates[1].table.equals(res.replicates[1].table)
    one = gs.World.default().simulate_summary(1_024, seed=1, qmc=True, series="potash_spot", alpha=None,
                                              progress=False)
    assert one.replicates == [] and "replicates" not in repr(one)
    assert one.table["mean_se"].isna().all()
    assert isinstance(res.to_pandas(), pd.DataFrame) and res.to_pandas().equals(res.table)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"replicates": 8}, "replicates: need qmc=True"),
    ({"replicates": 1, "qmc": True}, r"replicates: must be an integer in \[2, 1024\], got 1"),
    ({"replicates": 2_048, "qmc": True}, r"replicates: must be an integer in \[2, 1024\], got 2048"),
    ({"replicates": 8.0, "qmc": True}, "replicates: must be an integer, got float 8.0"),
    ({"replicates": True, "qmc": True}, "replicates: must be an integer, got bool"),
    ({"replicates": 3, "qmc": True}, r"replicates: must divide n_paths \(4,096\) into replicates of "
                                     r"equal size, got 3 \(4,096 = 1,365 × 3 \+ 1\)"),
    ({"replicates": 4, "qmc": True, "antithetic": True}, "qmc"),
])
def test_bad_replicates_are_refused_naming_the_parameter(kwargs: dict, match: str) -> None:
    with pytest.raises(gs.ConfigError, match=match):
        gs.World.default().simulate_summary(4_096, progress=False, **kwargs)


def test_replicates_too_small_for_the_scenarios_are_the_replicates_fault_and_empty_tables_say_so() -> None:
    with pytest.raises(gs.ConfigError, match=r"replicates: 4 replicates of 1 path each \(4 paths\): each "
                                             r"replicate must give every scenario .* need at least 3, got 1"):
        gs.World.default().simulate_summary(4, qmc=True, replicates=4, progress=False)
    res = gs.World.default().simulate_summary(4_096, qmc=True, replicates=4, alpha=None, series="potash_spot",
                                              progress=False)
    assert len(res.risk) == 0 and res.risk.attrs["n_paths"] == 4_096 and res.risk.attrs["replicates"] == 4


def test_replicates_of_a_size_not_a_power_of_two_warn_once() -> None:
    with pytest.warns(UserWarning, match=r"replicates=3 of 1000 paths \(n_paths=3000\), not a power of "
                                         r"two: .* than with 512 or 1024 paths a replicate") as rec:
        gs.World.default().simulate_summary(3_000, qmc=True, replicates=3, alpha=None,
                                            series="potash_spot", progress=False)
    assert sum("power of two" in str(w.message) for w in rec) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gs.World.default().simulate_summary(3_072, qmc=True, replicates=3, alpha=None,
                                            series="potash_spot", progress=False)
