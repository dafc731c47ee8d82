"""Monte Carlo standard errors of the summaries' quantiles (``q05_se`` …; MODEL.md §6).

A quantile's error is Bahadur's linearisation, as a VaR's: the error of the share of
the group's weight at or below it times the sparsity 1/f, a difference quotient of the
quantiles at q ± δ with Hall and Sheather's δ. The checks: the errors match the spread of
the estimates over independent runs; an independent NumPy computation from the paths
gives the same numbers; streamed, materialised and general (posterior) computations
agree; and where no independent draws exist, or a single path is the quantile, they are
NaN.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from test_tail_errors import posterior_tables, reference_quantile_se, spread_over_seeds

import geoscenario as gs
from geoscenario import stats

SERIES = ["potash_spot", "contract_price", "bilateral_trade", "malaszewicze_trains"]
QCOLS = ["q05", "q50", "q95"]


def positive_or_straddled(errors, antithetic: bool) -> bool:
    """Every error positive, but under antithetic pairs a median's, which is NaN where the
    twins of a scenario all straddle it (a symmetric response)."""
    ok = errors > 0
    if antithetic:
        ok["q50_se"] |= errors["q50_se"].isna()
    return bool(ok.all().all())


@pytest.mark.parametrize("antithetic", [False, True])
def test_quantile_errors_measure_their_spread_over_seeds(antithetic):
    world, runs = gs.World.default(), 200
    tables = [world.simulate(4_000, seed=700 + s, antithetic=antithetic, progress=False).summary(SERIES)
              for s in range(runs)]
    for q in QCOLS:
        log_ratio, tol = spread_over_seeds(tables, q, f"{q}_se")
        bad = np.abs(log_ratio) >= tol
        assert not bad.any(), (q, tables[0].index[bad].tolist(), np.exp(log_ratio[bad]))
        # NaN only where antithetic twins straddle a symmetric response's median
        assert np.isfinite(log_ratio).all() or (antithetic and q == "q50"), q


def test_a_posteriors_quantile_errors_measure_their_spread_over_seeds():
    # the view moves the spot's mean: the errors count the weights' fit to the same paths
    tables = posterior_tables(1_900, lambda post: post.summary(["potash_spot", "contract_price"],
                                                               quantiles=[0.1, 0.5, 0.9]))
    for q in ("q10", "q50", "q90"):
        log_ratio, tol = spread_over_seeds(tables, q, f"{q}_se")
        assert (np.abs(log_ratio) < tol).all(), (q, np.exp(log_ratio))


@pytest.mark.parametrize("antithetic", [False, True])
def test_the_errors_are_those_computed_from_the_paths(antithetic):
    sim = gs.World.default().simulate(10_000, seed=21, antithetic=antithetic)
    probs = list(sim.probabilities.values())
    levels = [0.05, 0.25, 0.5, 0.95]
    table = sim.summary("potash_spot", quantiles=levels).loc["potash_spot"]
    x = sim.paths("potash_spot")[:, -1]
    for g, name in [*enumerate(sim.scenario_names), (-1, "all")]:
        row = table.loc[name]
        for level, col in zip(levels, ["q05", "q25", "q50", "q95"]):
            ref = reference_quantile_se(x, sim.scenario, probs, row[col], level, g, antithetic)
            assert row[f"{col}_se"] == pytest.approx(ref, rel=1e-9, nan_ok=True), (name, col)
            # (NaN only where antithetic twins all straddle a symmetric response's median)
            assert row[f"{col}_se"] > 0 or (antithetic and col == "q50")


def test_the_risk_tables_return_quantiles_have_their_errors():
    # a strategy's return quantiles, from its NAV at the month; the stress test's P&L alike
    sim = gs.World.default().simulate(8_000, seed=4)
    probs = list(sim.probabilities.values())
    table = sim.risk_table(0.95, "direct_belarus", month=12).loc["direct_belarus"]
    r = sim.paths("direct_belarus")[:, 12] - 1.0
    for g, name in [*enumerate(sim.scenario_names), (-1, "all")]:
        for level, col in zip([0.05, 0.5, 0.95], QCOLS):
            ref = reference_quantile_se(r, sim.scenario, probs, table.loc[name, col], level, g)
            assert table.loc[name, f"{col}_se"] == pytest.approx(ref, rel=1e-9), (name, col)


def test_a_stress_tests_quantile_errors_are_those_computed_from_its_pnl():
    px = gs.data.equities_daily()[["ntr_adj_close", "spy_adj_close"]]
    res = gs.backtest(px, {"ntr_adj_close": 1.0, "spy_adj_close": -1.0})
    st = res.stress(gs.World.default(), {"ntr_adj_close": "fertilizer_producers",
                                         "spy_adj_close": "global_equity"}, n_paths=6_000, seed=2)
    s = st.summary()
    probs = [float(s.loc[n, "probability"]) for n in st.scenario_names]
    for g, name in [*enumerate(st.scenario_names), (-1, "all")]:
        for level, col in zip([0.05, 0.5, 0.95], QCOLS):
            ref = reference_quantile_se(st.pnl, st.scenario, probs, s.loc[name, col], level, g)
            assert s.loc[name, f"{col}_se"] == pytest.approx(ref, rel=1e-9), (name, col)
    assert list(s.columns[4:10]) == ["q05", "q05_se", "q50", "q50_se", "q95", "q95_se"]


@pytest.mark.parametrize("antithetic", [False, True])
def test_a_general_weighting_gives_the_cores_errors_on_the_runs_own_weights(antithetic):
    sim = gs.World.default().simulate(20_000, seed=5, antithetic=antithetic)
    cols = [f"{q}_se" for q in QCOLS]
    general = copy.copy(sim)
    general.__dict__["_custom"] = np.array(sim.weights)  # the same weights, as a posterior's are held
    for table in (lambda s: s.summary(SERIES), lambda s: s.risk_table(0.9)):
        core, got = table(sim), table(general)
        np.testing.assert_allclose(got[cols], core[cols], rtol=1e-9)
        assert positive_or_straddled(core[cols], antithetic)


@pytest.mark.parametrize("antithetic", [False, True])
def test_streamed_and_materialised_errors_have_the_same_bits(antithetic):
    world = gs.World.default()
    sim = world.simulate(6_000, seed=19, antithetic=antithetic)
    series = SERIES + list(world.strategies)
    res = world.simulate_summary(6_000, seed=19, antithetic=antithetic, chunk_paths=778, series=series)
    cols = [f"{q}_se" for q in QCOLS]
    for got, ref in ((res.table, sim.summary(series)), (res.risk, sim.risk_table(0.95))):
        assert got[cols].to_numpy().tobytes() == ref[cols].to_numpy().tobytes()
        assert positive_or_straddled(ref[cols], antithetic)


def test_quasi_monte_carlo_errors_come_from_replicates():
    world = gs.World.default()
    one = world.simulate(4_096, seed=1, qmc=True).summary(SERIES)
    assert one[[f"{q}_se" for q in QCOLS]].isna().all().all()
    pooled = world.simulate_summary(4 * 2_048, seed=1, qmc=True, replicates=4, series=SERIES)
    parts = np.array([r.table["q95"].to_numpy() for r in pooled.replicates])
    np.testing.assert_allclose(pooled.table["q95_se"], parts.std(axis=0, ddof=1) / 2, rtol=1e-12)
    np.testing.assert_allclose(pooled.table["q95"], parts.mean(axis=0), rtol=1e-12)


def test_the_extreme_levels_and_a_single_path_have_no_error():
    # the minimum and the maximum are one path's values; so is a quantile whose tail is
    # lighter than the heaviest path
    sim = gs.World.default().simulate(400, seed=3)
    table = sim.summary("potash_spot", quantiles=[0.0, 0.001, 0.5, 1.0]).loc["potash_spot"]
    assert table[["q00_se", "q0.1_se", "q100_se"]].isna().all().all()
    assert (table["q50_se"] > 0).all()


def test_an_atom_of_several_draws_does_not_move():
    # values at exactly one level on more than 2δ of the weight: the quantile is the atom
    x = np.r_[np.zeros(600), np.linspace(1.0, 2.0, 400)]
    w = np.full(1_000, 1e-3)
    blocks = [slice(0, 1_000)]
    assert stats._quantile_se(x, w, blocks, 0, 1.0, False, None, 0.0, 0.3, 0.3) == 0.0
    # the same level on continuous values has a positive error
    y = np.linspace(0.0, 1.0, 1_000)
    assert stats._quantile_se(y, w, blocks, 0, 1.0, False, None, 0.3, 0.3, 0.3) > 0
    # an atom of three draws too; but a single path heavier than the quantile's tail is the quantile
    z = np.r_[0.0, np.full(3, 5.0)]
    assert stats._quantile_se(z, np.full(4, 0.25), [slice(0, 4)], 0, 1.0, False, None, 5.0, 0.6, 0.4) == 0.0
    heavy = np.array([0.1, 0.6, 0.15, 0.15])
    assert stats._quantile_se(np.arange(4.0), heavy, [slice(0, 4)], 0, 1.0, False, None, 1.0, 0.5, 0.5) is None


def test_the_columns_follow_their_quantiles():
    sim = gs.World.default().simulate(2_000, seed=8)
    cols = sim.summary("potash_spot").columns.tolist()
    assert cols[4:10] == ["q05", "q05_se", "q50", "q50_se", "q95", "q95_se"]
    risk = sim.risk_table(0.95).columns.tolist()
    assert risk[4:10] == ["q05", "q05_se", "q50", "q50_se", "q95", "q95_se"]
    assert math.isnan(sim.summary("potash_spot", quantiles=[1.0]).iloc[0]["q100_se"])


def test_a_group_read_from_the_sort_of_all_paths_is_its_own_sort():
    # each way of reading a scenario's paths in sorted order (its own stable sort; the stable
    # sort of all paths gathered in the core for a run of paths, or through a mask for other
    # blocks) gives the same arrays, bit for bit, ties and -0.0 included
    rng = np.random.default_rng(8)
    n = 150_000  # (past one chunk of the core's gather)
    x = np.round(rng.normal(size=n), 2)  # many ties
    x[::97] = -0.0
    w = rng.random(n) / n
    runs = [slice(0, 70_000), slice(70_000, 70_001), slice(70_001, n)]
    order = stats._argsort(x)
    for g in (-1, 0, 1, 2):
        own = stats._sorted_group(x, w, runs, g)
        for blocks in (runs, [np.arange(n)[s] for s in runs]):
            read = stats._sorted_group(x, w, blocks, g, order)
            for field in ("xs", "ws", "cdf", "scaled_cdf", "weights"):
                a, b = getattr(own, field), getattr(read, field)
                assert a.shape == b.shape and a.tobytes() == b.tobytes(), (g, field)
            assert (own.heaviest, own.n_eff) == (read.heaviest, read.n_eff)
