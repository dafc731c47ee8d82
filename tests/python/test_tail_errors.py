"""Monte Carlo standard errors of VaR and CVaR (``var_se``, ``cvar_se``; MODEL.md §6).

The VaR's is Bahadur's linearisation: the error of the share of paths at or below it
times the sparsity 1/f(VaR), a difference quotient of quantiles at α ± δ with Hall and
Sheather's δ; the CVaR's is that of the mean excess loss (L − VaR)+ over 1 − α. The
checks: the errors match the spread of the estimates over independent runs; the streamed,
materialised and sharded tables agree bit for bit; an independent NumPy computation from
the paths gives the same numbers; and where no independent draws exist they are NaN.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from conftest import N_SIGMA

import geoscenario as gs
from geoscenario import _core, stats


def spread_over_seeds(tables: list, est: str, err: str) -> np.ndarray:
    """Per row, ln(variance of ``est`` over the runs / mean of ``err``²) and its tolerance."""
    values = np.array([t[est].to_numpy() for t in tables])
    se2 = np.array([t[err].to_numpy() for t in tables]) ** 2
    runs = len(tables)
    ratio = values.var(axis=0, ddof=1) / se2.mean(axis=0)
    # the sample variance's relative error, sqrt(2/(runs − 1)), and that of the mean of the
    # reported errors² (each its own sparsity estimate), added
    tol = N_SIGMA * np.sqrt(2 / (runs - 1) + se2.var(axis=0, ddof=1) / (runs * se2.mean(axis=0) ** 2))
    return np.log(ratio), tol


@pytest.mark.parametrize("antithetic", [False, True])
def test_var_and_cvar_errors_measure_their_spread_over_seeds(antithetic):
    world, runs = gs.World.default(), 200
    tables = [world.simulate(8_000, seed=500 + s, antithetic=antithetic, progress=False).risk_table(0.95)
              for s in range(runs)]
    for est, err in (("var", "var_se"), ("cvar", "cvar_se")):
        log_ratio, tol = spread_over_seeds(tables, est, err)
        bad = np.abs(log_ratio) >= tol
        assert not bad.any(), (est, tables[0].index[bad].tolist(), np.exp(log_ratio[bad]))


def posterior_tables(first_seed: int, table: Callable[[gs.Simulation], pd.DataFrame],
                     runs: int = 150) -> list[pd.DataFrame]:
    """``table`` of the posterior of 6,000 default-world paths under a view on the spot's
    mean (420), for each of ``runs`` seeds from ``first_seed``."""
    world = gs.World.default()
    return [table(world.simulate(6_000, seed=first_seed + s, progress=False).with_views(
        [gs.View.mean("potash_spot", 420.0)], progress=False)) for s in range(runs)]


def test_a_posteriors_var_and_cvar_errors_measure_their_spread_over_seeds():
    # the view moves the spot's mean, and so the weights of the commodity strategies' paths;
    # the errors count the weights' fit to the same paths
    tables = posterior_tables(900, lambda post: post.risk_table(0.9, ["commodities_arbitrage", "technology_transfer"]))
    for est, err in (("var", "var_se"), ("cvar", "cvar_se")):
        log_ratio, tol = spread_over_seeds(tables, est, err)
        assert (np.abs(log_ratio) < tol).all(), (est, np.exp(log_ratio))


def reference_errors(x: np.ndarray, scenario: np.ndarray, probs: list[float], group: int,
                     pairs: bool = False) -> tuple[np.ndarray, np.ndarray, Callable[[np.ndarray], float]]:
    """A group's values and weights, and the standard error of a stratified mean over it,
    written out with NumPy (the draws are the antithetic pairs' means under ``pairs``)."""
    ks = range(len(probs)) if group < 0 else [group]
    mass = sum(probs[k] for k in ks)

    def se(v: np.ndarray) -> float:
        draws = [v[scenario == k] for k in ks]
        if pairs:
            draws = [(d[0::2] + d[1::2]) / 2 for d in draws]
        return math.sqrt(sum((probs[k] / mass) ** 2 * d.var(ddof=1) / len(d) for k, d in zip(ks, draws)))

    inside = np.isin(scenario, list(ks))
    w = np.array([probs[k] / (scenario == k).sum() for k in scenario])[inside]
    return x[inside], w, se


def reference_quantile_se(x: np.ndarray, scenario: np.ndarray, probs: list[float], value: float,
                          level: float, group: int, pairs: bool = False) -> float:
    """A quantile's error from the paths, written out with NumPy: a stratified mean's error of
    the indicator x ≤ value times the sparsity from sorted values; NaN under antithetic
    ``pairs`` when a scenario's pairs all straddle the value (the indicator's mean is then
    exact, the quantile is not)."""
    xg, w, se = reference_errors(x, scenario, probs, group, pairs)
    below = x <= value
    for k in range(len(probs)) if group < 0 else [group]:
        b = below[scenario == k]
        if pairs and 0 < b.sum() < len(b) and (b[0::2] != b[1::2]).all():
            return math.nan
    n_eff = w.sum() ** 2 / (w ** 2).sum()
    z, zq = NormalDist().inv_cdf(level), NormalDist().inv_cdf(0.975)
    phi = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    d = min(n_eff ** (-1 / 3) * zq ** (2 / 3) * (1.5 * phi ** 2 / (2 * z * z + 1)) ** (1 / 3),
            min(level, 1 - level) / 2)
    order = np.argsort(xg, kind="stable")
    cdf = np.cumsum(w[order]) / w.sum()
    lo, hi = (xg[order][np.searchsorted(cdf, q * (1 - 1e-12))] for q in (level - d, level + d))
    # the secant of the quantile function: over the weight between the two values, ties included
    between = w[(xg > lo) & (xg <= hi)].sum() / w.sum()
    return se((x <= value).astype(float)) * (hi - lo) / between


def reference_var_cvar_se(loss: np.ndarray, scenario: np.ndarray, probs: list[float], var: float,
                          alpha: float, group: int, pairs: bool = False) -> tuple[float, float]:
    """The two errors from the paths, written out with NumPy: the VaR's as a quantile's, the
    CVaR's a stratified mean's error of (L − VaR)+ over 1 − α."""
    se = reference_errors(loss, scenario, probs, group, pairs)[2]
    return (reference_quantile_se(loss, scenario, probs, var, alpha, group, pairs),
            se(np.maximum(loss - var, 0.0)) / (1 - alpha))


@pytest.mark.parametrize("antithetic", [False, True])
def test_the_errors_are_those_computed_from_the_paths(antithetic):
    sim = gs.World.default().simulate(10_000, seed=12, antithetic=antithetic)
    probs = list(sim.probabilities.values())
    table = sim.risk_table(0.95, "infrastructure_beneficiaries").loc["infrastructure_beneficiaries"]
    loss = 1.0 - sim.paths("infrastructure_beneficiaries")[:, -1]
    for g, name in [*enumerate(sim.scenario_names), (-1, "all")]:
        row = table.loc[name]
        ref = reference_var_cvar_se(loss, sim.scenario, probs, row["var"], 0.95, g, antithetic)
        np.testing.assert_allclose([row["var_se"], row["cvar_se"]], ref, rtol=1e-9)
        assert row["var_se"] > 0 and row["cvar_se"] > 0


def test_the_bandwidth_is_hall_and_sheathers():
    for alpha, n in [(0.95, 200_000), (0.99, 5_000), (0.5, 1e9), (0.999, 100)]:
        z, zq = NormalDist().inv_cdf(alpha), NormalDist().inv_cdf(0.975)
        phi = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
        h = n ** (-1 / 3) * zq ** (2 / 3) * (1.5 * phi ** 2 / (2 * z * z + 1)) ** (1 / 3)
        assert _core.sparsity_bandwidth(alpha, n) == pytest.approx(min(h, (1 - alpha) / 2), rel=1e-12)
    assert _core.sparsity_bandwidth(0.999, 100) == pytest.approx(0.0005)  # capped inside (0, 1)
    assert math.isnan(_core.sparsity_bandwidth(1.0, 100)) and math.isnan(_core.sparsity_bandwidth(0.9, 0))


@pytest.mark.parametrize("antithetic", [False, True])
def test_a_general_weighting_gives_the_cores_errors_on_the_runs_own_weights(antithetic):
    # the Python path (posteriors, reweighting) computes the errors from sorted paths; on the
    # run's own weights it must give what the core's streamed finisher gives
    sim = gs.World.default().simulate(20_000, seed=3, antithetic=antithetic)
    core = sim.risk_table(0.9)
    general = copy.copy(sim)
    general.__dict__["_custom"] = np.array(sim.weights)  # the same weights, as a posterior's are held
    got = general.risk_table(0.9)
    assert not got.equals(core)  # (computed apart: not the same bits)
    np.testing.assert_allclose(got[["var_se", "cvar_se"]], core[["var_se", "cvar_se"]], rtol=1e-9)
    assert (core[["var_se", "cvar_se"]] > 0).all().all()


@pytest.mark.parametrize("antithetic", [False, True])
def test_streamed_and_materialised_errors_have_the_same_bits(antithetic):
    # (test_distributed's whole risk tables show a sharded run's are those of a local one)
    world = gs.World.default()
    sim = world.simulate(6_000, seed=9, antithetic=antithetic)
    res = world.simulate_summary(6_000, seed=9, antithetic=antithetic, chunk_paths=778,
                                 series=list(world.strategies))
    cols = ["var_se", "cvar_se"]
    ref = sim.risk_table(0.95)[cols].to_numpy()
    assert res.risk[cols].to_numpy().tobytes() == ref.tobytes()
    assert (ref > 0).all()


def test_no_error_without_independent_draws_and_replicates_give_their_spread():
    world = gs.World.default()
    assert world.simulate(4_096, seed=1, qmc=True).risk_table()[["var_se", "cvar_se"]].isna().all().all()
    res = world.simulate_summary(8 * 1_024, seed=2, qmc=True, replicates=8, progress=False)
    for est, err in (("var", "var_se"), ("cvar", "cvar_se")):
        reps = np.array([r.risk[est].to_numpy() for r in res.replicates])
        np.testing.assert_allclose(res.risk[err], reps.std(axis=0, ddof=1) / math.sqrt(8), rtol=1e-9)
        assert (res.risk[err] > 0).all() and all(r.risk[err].isna().all() for r in res.replicates)


def test_the_report_and_a_stress_test_give_the_errors():
    world = gs.World.default()
    text = world.simulate(20_000, seed=1).report()
    line = next(s for s in text.splitlines() if "s.e. of the overall VaR" in s)
    assert "of the overall CVaR: at most" in line and len(line) <= 100
    # (60 paths: a scenario's path weighs more than the worst 1%, and the errors are NaN)
    assert "s.e. of the overall VaR" not in world.simulate(60, seed=1).report(alpha=0.99)
    px = gs.data.equities_daily()[["ntr_adj_close", "spy_adj_close"]]
    res = gs.backtest(px, {"ntr_adj_close": 1.0, "spy_adj_close": -1.0})
    st = res.stress(world, {"ntr_adj_close": "fertilizer_producers", "spy_adj_close": "global_equity"},
                    n_paths=8_000)
    s = st.summary(0.95)
    probs = [float(s.loc[k, "probability"]) for k in st.scenario_names]
    for g, name in [*enumerate(st.scenario_names), (-1, "all")]:
        ref = reference_var_cvar_se(-st.pnl, st.scenario, probs, s.loc[name, "var"], 0.95, g)
        np.testing.assert_allclose(s.loc[name, ["var_se", "cvar_se"]].to_numpy(float), ref, rtol=1e-9)


LEVERED = """
[strategies.levered]
description = "4.5 times levered: its NAV reaches 0 on some paths"
weights = { fertilizer_producers = 4.5, global_equity = -4.5 }
cost_bps = 10.0
"""


def test_a_var_on_an_atom_has_error_0_and_a_tail_of_less_than_a_path_none():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (the paths that lost everything)
        world = gs.World.from_toml(_core.DEFAULT_WORLD_TOML + LEVERED)
        sim = world.simulate(4_000, seed=1, progress=False)
        ruined = float(np.sum(sim.weights[sim.paths("levered")[:, -1] == 0]))
        # a level inside the atom of losses of 1, α ± δ included: the VaR is 1 whatever the paths
        alpha = 1 - ruined / 3
        assert alpha - _core.sparsity_bandwidth(alpha, 4_000) > 1 - ruined
        table = sim.risk_table(alpha, "levered").loc["levered"]
        assert (table.loc["all", ["var", "cvar"]] == 1.0).all()
        assert (table.loc["all", ["var_se", "cvar_se"]] == 0.0).all()
        assert world.simulate_summary(4_000, seed=1, alpha=alpha, progress=False).risk.equals(sim.risk_table(alpha))
    # 60 paths at 99%: each path of a scenario weighs more than the 1% tail
    t = gs.World.default().simulate(60, seed=1).risk_table(0.99)
    assert t[["var_se", "cvar_se"]].isna().all().all() and t[["var", "cvar"]].notna().all().all()
    x = np.linspace(0.0, 1.0, 1_000)
    w = np.full(1_000, 1e-3)
    blocks = [slice(0, 1_000)]
    assert all(np.isnan(stats._var_cvar_se(x, w, blocks, 0, 1.0, False, None, 1.0, 0.9995)))
    assert all(np.isfinite(stats._var_cvar_se(x, w, blocks, 0, 1.0, False, None, 0.9, 0.9)))


def test_antithetic_twins_straddling_the_var_leave_its_error_unknown():
    # at the median each pair of a symmetric response has one twin on each side: the pairs'
    # shares below the VaR are all 1/2, their error 0, while the VaR itself varies
    sim = gs.World.default().simulate(100, seed=5000, antithetic=True)
    table = sim.risk_table(0.5, "direct_belarus").loc["direct_belarus"]
    loss = 1.0 - sim.paths("direct_belarus")[:, -1]
    below = loss[sim.scenario == 0] <= table.loc["base", "var"]
    assert (below[0::2] != below[1::2]).all()  # (the case at hand: every base pair straddles)
    assert np.isnan(table.loc["base", "var_se"]) and np.isnan(table.loc["all", "var_se"])
    assert np.isfinite(table.loc["base", "cvar_se"]) and table.loc["base", "cvar_se"] > 0
    # the Python path (a posterior's) says the same
    general = copy.copy(sim)
    general.__dict__["_custom"] = np.array(sim.weights)
    got = general.risk_table(0.5, "direct_belarus").loc["direct_belarus"]
    np.testing.assert_array_equal(np.isnan(got[["var_se", "cvar_se"]]), np.isnan(table[["var_se", "cvar_se"]]))


def test_a_path_weighing_exactly_the_tail_is_judged_alike_by_the_core_and_the_python_path():
    # 12 paths: the bear scenario's 2 paths weigh 0.1 each, against 1 − 0.9 = 0.09999999999999998
    sim = gs.World.default().simulate(12, seed=1)
    general = copy.copy(sim)
    general.__dict__["_custom"] = np.array(sim.weights)
    core, got = sim.risk_table(0.9), general.risk_table(0.9)
    assert np.isfinite(core.xs("all", level="scenario")["var_se"]).all()
    np.testing.assert_allclose(got[["var_se", "cvar_se"]], core[["var_se", "cvar_se"]], rtol=1e-9)


def test_an_atom_of_one_antithetic_pair_is_one_draw():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        world = gs.World.from_toml(_core.DEFAULT_WORLD_TOML + LEVERED)
        sim = world.simulate(80, seed=23, antithetic=True, progress=False)
    table = sim.risk_table(0.95, "levered").loc["levered"]
    bull = 1.0 - sim.paths("levered")[sim.scenario == 1, -1]
    assert table.loc["bull", "var"] == 1.0 and np.count_nonzero(bull == 1.0) == 2  # (one pair ruined)
    assert table.loc["bull", ["var_se", "cvar_se"]].isna().all()
