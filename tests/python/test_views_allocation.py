"""Views, allocation, reweighting and streaming summaries through the public API."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import geoscenario as gs


@pytest.fixture(scope="module")
def sim5k():
    return gs.World.default().simulate(5_000, seed=11)


def test_views_hold_and_posterior_is_a_distribution(sim5k):
    views = [
        gs.View.prob_above("potash_spot", 450, 0.30),
        gs.View.mean("bilateral_trade", 9.5),
        gs.View.mean("eurobond_price", 20.0, op=">="),
    ]
    post = sim5k.with_views(views)
    q, p = post.weights, sim5k.weights
    assert np.all(q > 0) and abs(q.sum() - 1) < 1e-12
    spot = sim5k.paths("potash_spot")[:, -1]
    assert abs(q @ (spot > 450) - 0.30) < 1e-9
    assert abs(q @ sim5k.paths("bilateral_trade")[:, -1] - 9.5) < 1e-9
    assert q @ sim5k.paths("eurobond_price")[:, -1] >= 20.0 - 1e-9
    kl = float(np.sum(q * np.log(q / p)))
    assert post.posterior["relative_entropy"] == pytest.approx(kl, rel=1e-9, abs=1e-12)
    assert post.posterior["effective_scenarios"] == pytest.approx(np.exp(-np.sum(q * np.log(q))), rel=1e-9)
    # statistics read under the posterior
    row = post.summary("potash_spot").loc[("potash_spot", "all")]
    assert row["p_above"] == pytest.approx(0.30, abs=1e-9)


def test_no_views_is_the_prior_and_infeasible_views_raise(sim5k):
    post = sim5k.with_views([])
    np.testing.assert_array_equal(post.weights, sim5k.weights)
    with pytest.raises(gs.NumericalError, match="infeasible"):
        sim5k.with_views([gs.View.mean("potash_spot", 1e6)])
    # the message names the user's view and the range that rules it out
    x = sim5k.paths("bilateral_trade")[:, -1]
    with pytest.raises(gs.NumericalError) as e:
        sim5k.with_views([gs.View.mean("potash_spot", 400), gs.View.mean("bilateral_trade", 2 * x.max(), op=">=")])
    assert str(e.value).startswith("infeasible view views[1], View(E[bilateral_trade] >= ")
    assert f"bilateral_trade ranges over [{x.min():g}, {x.max():g}] on the simulated paths" in str(e.value)
    with pytest.raises(gs.NumericalError, match=r"views\[0\].*none of the simulated paths has potash_spot > 1e\+06"):
        sim5k.with_views([gs.View.prob_above("potash_spot", 1e6, 0.5)])
    with pytest.raises(gs.ConfigError, match="view.value"):
        gs.View.prob_above("potash_spot", 450, 1.5)


@pytest.mark.parametrize(
    ("view", "path"),
    [
        (gs.View.mean("potash_spto", 400.0), "views[1].series"),
        (gs.View.mean("potash_spot", 400.0, month=99), "views[1].month"),
        (gs.View.prob_above("potash_spot", 450.0, 0.3, month="2031-01"), "views[1].month"),
    ],
)
def test_a_bad_view_is_named_by_its_position_and_field(sim5k, view, path):
    ok = gs.View.mean("bilateral_trade", 9.0)
    with pytest.raises(gs.ConfigError) as e:
        sim5k.with_views([ok, view])
    assert e.value.path == path and str(e.value).endswith(f"in {view!r}")


def test_mean_cvar_matches_a_grid_over_the_simplex():
    sim = gs.World.default().simulate(600, seed=5)
    names = ["commodities_arbitrage", "infrastructure_beneficiaries", "direct_belarus"]
    alloc = sim.allocate(0.9, strategies=names)
    r = np.column_stack([sim.paths(s)[:, -1] - 1 for s in names])
    w = sim.weights

    def cvar(x):
        loss = -(r @ x)
        _, c = gs._core.var_cvar(np.ascontiguousarray(-loss), np.ascontiguousarray(w), 0.9)
        return c

    step = 0.02
    best = min(
        cvar(np.array([a, b, 1 - a - b]))
        for a, b in itertools.product(np.arange(0, 1 + 1e-9, step), repeat=2)
        if a + b <= 1 + 1e-9
    )
    assert alloc.cvar <= best + 1e-9
    # within grid tolerance: CVaR is Lipschitz in the weights with constant max |r|
    assert alloc.cvar >= best - step * np.abs(r).max() * 2
    assert abs(alloc.weights.sum() - 1) < 1e-9 and (alloc.weights >= -1e-12).all()


def test_reweighting_equals_resimulating_within_4_standard_errors():
    world = gs.World.default()
    q = {"base": 0.3, "bull": 0.2, "bear": 0.5}
    n = 60_000
    a = world.simulate(n, seed=1).reweight(q)
    b = world.with_params({f"scenarios.{k}.probability": v for k, v in q.items()}).simulate(n, seed=2)
    for name in ("potash_spot", "commodities_arbitrage", "eurobond_price"):
        xa, xb = a.paths(name)[:, -1], b.paths(name)[:, -1]
        ma, mb = a.weights @ xa, b.weights @ xb
        # variance of a stratified weighted mean: Σ_k p_k² s_k² / n_k
        def var_of_mean(s, name=name):
            x = s.paths(name)[:, -1]
            v = 0.0
            for k, scen in enumerate(s.scenario_names):
                xk = x[s.scenario == k]
                v += s.probabilities[scen] ** 2 * xk.var(ddof=1) / xk.size
            return v
        se = np.sqrt(var_of_mean(a) + var_of_mean(b))
        assert abs(ma - mb) < 4 * se, (name, ma, mb, se)


def test_risk_table_var_le_cvar_and_streaming_equals_materialised():
    world = gs.World.default()
    for n, anti in [(3_001, False), (4_000, True)]:
        sim = world.simulate(n, seed=21, antithetic=anti)
        streamed = world.simulate_summary(n, seed=21, antithetic=anti, chunk_paths=97)
        assert sim.summary().equals(streamed.table)
        cols = list(streamed.risk.columns)
        assert sim.risk_table()[cols].equals(streamed.risk)
        risk = streamed.risk
        assert (risk["var"] <= risk["cvar"] + 1e-12).all()


@pytest.mark.parametrize(
    "thresholds, path",
    [
        ({"potash_spot": float("inf")}, "thresholds.potash_spot"),
        ({"nope": 1.0}, "thresholds.nope"),
        ({"potash_spot": "x"}, "thresholds.potash_spot"),
        ({"potash_spot": 10**400}, "thresholds.potash_spot"),
        ([1.0, 2.0], "thresholds"),
    ],
)
def test_posterior_summary_checks_thresholds_as_the_prior_does(sim5k, thresholds, path):
    post = sim5k.with_views(gs.View.mean("potash_spot", 400.0))
    for s in (sim5k, post):
        with pytest.raises(gs.ConfigError) as err:
            s.summary("potash_spot", thresholds=thresholds)
        assert err.value.path == path
