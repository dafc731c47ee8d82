"""Views, allocation, reweighting and streaming summaries through the public API."""

from __future__ import annotations

import itertools
import math
import pickle
import re
import warnings

import numpy as np
import pandas as pd
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


@pytest.mark.parametrize("quantile", [0.25, 0.5, 0.75])
def test_a_mean_view_on_a_heavy_tailed_level_is_met_not_put_on_one_path(quantile):
    # σ = 6 over two years: the level spans 1e-16 to 1e13; E[x] at a quantile of the
    # paths was taken for the minimum (all weight on one path, reported converged)
    w = gs.World.from_dict({
        "factors": {"x": {"kind": "log_ou", "initial": 1.0}},
        "scenarios": {"base": {"probability": 1.0, "x": {"theta": 1.0, "kappa": 0.0, "sigma": 6.0}}},
    })
    sim = w.simulate(4_000, seed=0)
    x = sim.paths("x")[:, -1]
    assert x.max() / x.min() > 1e25
    target = float(np.quantile(x, quantile))
    post = sim.with_views([gs.View.mean("x", target)])
    scale = max(float(np.median(np.abs(x))), target)  # the documented scale
    assert abs(np.sum(post.weights * x) - target) <= 1e-10 * scale
    assert post.posterior["effective_scenarios"] > 1_000


@pytest.mark.parametrize("share, target", [(0.01, 0.99), (0.01, 0.95), (0.001, 0.9)])
def test_a_probability_view_on_a_thin_tail_has_its_closed_form(share, target):
    # one indicator view: q = p·v/P(A) on the event A, p·(1 − v)/(1 − P(A)) off it. Such
    # views "stalled" (the first Newton step overshoots to where the curvature underflows)
    sim = gs.World.default().simulate(20_000, seed=4, progress=False)
    p, x = sim.weights, sim.paths("eurobond_price")[:, 1]
    threshold = float(np.quantile(x, 1 - share))
    a = x > threshold
    exact = np.where(a, p * target / p[a].sum(), p * (1 - target) / p[~a].sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # few effective paths, as it should say
        post = sim.with_views(gs.View.prob_above("eurobond_price", threshold, target, month=1), progress=False)
    np.testing.assert_allclose(post.weights, exact, rtol=1e-8)


def test_the_multipliers_tilt_the_prior_and_price_each_view(sim5k):
    # q ∝ p·exp(Σ λ_j f_j), in the order the views were given, and λ_j = ∂KL/∂b_j
    spot = sim5k.paths("potash_spot")[:, -1]
    trade = sim5k.paths("bilateral_trade")[:, -1]
    p = sim5k.weights

    def views(b_spot: float, b_trade: float, b_prob: float) -> list[gs.View]:
        return [gs.View.mean("potash_spot", b_spot), gs.View.mean("bilateral_trade", b_trade, op=">="),
                gs.View.prob_above("potash_spot", 450, b_prob)]

    post = sim5k.with_views(views(420.0, 9.8, 0.3))
    lam = post.posterior["multipliers"]
    assert len(lam) == 3 and lam[1] > 0  # a binding ">=": raising its value costs entropy
    f = np.vstack([spot, trade, (spot > 450).astype(float)])
    log_tilt = np.log(post.weights / p) - np.asarray(lam) @ f
    assert np.ptp(log_tilt) < 1e-7 * np.abs(np.asarray(lam) @ f).max()
    # the envelope theorem, by central differences of the relative entropy
    for j, h in ((0, 0.05), (1, 0.002), (2, 0.0005)):
        up, down = [list((420.0, 9.8, 0.3)) for _ in range(2)]
        up[j] += h
        down[j] -= h
        kl = [sim5k.with_views(views(*b)).posterior["relative_entropy"] for b in (up, down)]
        assert (kl[0] - kl[1]) / (2 * h) == pytest.approx(lam[j], rel=1e-3), j
    # views given in another order keep their own multipliers
    again = sim5k.with_views(views(420.0, 9.8, 0.3)[::-1]).posterior["multipliers"]
    assert again == lam[::-1]
    # a slack inequality has none (+0.0, also when its sign was turned)
    (slack,) = sim5k.with_views(gs.View.mean("bilateral_trade", 0.0, op=">=")).posterior["multipliers"]
    assert slack == 0.0 and math.copysign(1.0, slack) == 1.0
    # a posterior pickled before these were kept gains them, its multipliers unknown
    state = dict(post.__dict__)
    state["_posterior"] = {k: v for k, v in state["_posterior"].items()
                           if k not in ("multipliers", "kish_effective_scenarios", "max_weight")}
    old = object.__new__(type(post))
    old.__setstate__(state)
    info = old.posterior
    assert info["kish_effective_scenarios"] == pytest.approx(post.posterior["kish_effective_scenarios"], rel=1e-12)
    assert info["max_weight"] == post.posterior["max_weight"]
    assert len(info["multipliers"]) == 3 and all(math.isnan(v) for v in info["multipliers"])


def test_half_the_weight_on_one_path_is_reported_and_warned():
    # exp(entropy) counts 283 paths of 20,000 here (no warning at 1%); Kish's 1/Σq² counts 4
    sim = gs.World.default().simulate(20_000, seed=3, progress=False)
    x = sim.paths("potash_spot")[:, -1]
    with pytest.warns(UserWarning, match=r"effective paths \(4\.0 by Kish's count\), against 20,000 \(20,000\)"):
        post = sim.with_views(gs.View.prob_above("potash_spot", float(np.sort(x)[-2]), 0.5), progress=False)
    q = post.weights
    info = post.posterior
    assert info["effective_scenarios"] > 0.01 * 20_000
    assert info["kish_effective_scenarios"] == pytest.approx(1 / np.sum(q**2), rel=1e-12)
    assert info["max_weight"] == q.max() == pytest.approx(0.5, rel=1e-9)


def test_views_that_differ_never_print_alike(sim5k):
    a, b = gs.View.mean("potash_spot", 420.0004), gs.View.mean("potash_spot", 420.0001)
    assert repr(a) == "View(E[potash_spot] == 420.0004 at horizon)" and repr(a) != repr(b)
    assert repr(gs.View.prob_above("potash_spot", 450, 0.25)) == "View(P(potash_spot > 450) == 0.25 at horizon)"
    assert repr(gs.View.mean("potash_spot", 1 / 3)) == "View(E[potash_spot] == 0.3333333333333333 at horizon)"
    with pytest.raises(gs.InfeasibleViewsError, match=r"420\.0004 at horizon\), views\[1\] .*420\.0001 at"):
        sim5k.with_views([a, b])
    # the reason names the threshold as the view does
    top = float(sim5k.paths("potash_spot")[:, -1].max()) * 1.000001
    with pytest.raises(gs.InfeasibleViewsError, match=f"has potash_spot > {re.escape(repr(top))}$"):
        sim5k.with_views(gs.View.prob_above("potash_spot", top, 0.1))


def test_a_return_given_for_a_nav_view_is_refused_with_the_hint(sim5k):
    with pytest.raises(gs.InfeasibleViewsError, match=r"; commodities_arbitrage is a NAV \(1 at month 0\): a view of a return r is on 1 \+ r$"):
        sim5k.with_views(gs.View.mean("commodities_arbitrage", 0.05))
    with pytest.raises(gs.InfeasibleViewsError) as err:  # a level is no NAV
        sim5k.with_views(gs.View.mean("potash_spot", 0.05))
    assert "NAV" not in str(err.value)


def test_a_views_month_by_index_or_label_gives_the_same_bits(sim5k):
    label = sim5k.months[6].strftime("%Y-%m")
    # (the rows were ordered by the month as written: "'2025-12'" before "3", but 3 before 6)
    for spelled in (6, label):
        post = sim5k.with_views([gs.View.mean("potash_spot", 380.0, month=3),
                                 gs.View.mean("potash_spot", 400.0, month=spelled)])
        if spelled == 6:
            ref = post.weights
        else:
            assert np.array_equal(post.weights, ref)


def test_a_posterior_that_puts_all_mass_in_one_scenario_gives_it_probability_one():
    # P(trade > 7) = 0 leaves only bear paths; their posterior weights sum to 1 + 1.6e-14
    # in floating point with these seeds, and a probability may not exceed 1
    w = gs.World.default()
    for seed in (19, 28):
        post = w.simulate(3_000 + 7 * seed, seed=seed).with_views([gs.View.prob_above("bilateral_trade", 7.0, 0.0)])
        bear = post.scenario == w.scenario_names.index("bear")
        assert post.weights[bear].sum() > 1.0  # the rounding this guards against
        p = post.probabilities
        assert p["bear"] == 1.0 and 0.0 <= p["base"] < 1e-12 and 0.0 <= p["bull"] < 1e-12


@pytest.mark.parametrize("op", [">=", "<="])
def test_an_inequality_view_binds_only_when_the_prior_breaks_it(sim5k, op):
    x = sim5k.paths("potash_spot")[:, -1]
    mean = float(sim5k.weights @ x)
    sign = 1.0 if op == ">=" else -1.0
    slack = sim5k.with_views(gs.View.mean("potash_spot", mean - sign * 20.0, op=op))
    assert slack.posterior["iterations"] == 0 and np.array_equal(slack.weights, sim5k.weights)
    assert slack.posterior["relative_entropy"] == 0.0
    binding = sim5k.with_views(gs.View.mean("potash_spot", mean + sign * 20.0, op=op))
    # on its bound, as an equality view gives: the closest distribution meets it exactly
    assert binding.weights @ x == pytest.approx(mean + sign * 20.0, abs=1e-6)
    equal = sim5k.with_views(gs.View.mean("potash_spot", mean + sign * 20.0))
    np.testing.assert_allclose(binding.weights, equal.weights, rtol=1e-6, atol=1e-15)
    # and the other way round it is no equality: the view beyond the prior's mean is slack
    assert not np.array_equal(slack.weights, sim5k.with_views(gs.View.mean("potash_spot", mean - sign * 20.0)).weights)


def test_views_at_the_edge_of_their_range_hold_in_the_posterior(sim5k):
    """A probability of 1 or 0, or a mean at the smallest value, leaves weight only on
    the paths that meet it: no Newton iteration, but the weights move all the same."""
    spot = sim5k.paths("potash_spot")[:, -1]
    above = (spot > 450).astype(float)
    trade = sim5k.paths("bilateral_trade")[:, -1]
    lowest = float(spot.min())
    cases = [
        ([gs.View.prob_above("potash_spot", 450, 1.0)], above, 1.0),
        ([gs.View.prob_above("potash_spot", 450, 0.0, op="<=")], above, 0.0),
        ([gs.View.mean("potash_spot", lowest, op="<=")], spot, lowest),
        # an edge view and a view the restricted prior already meets: still no iteration
        ([gs.View.prob_above("potash_spot", 450, 1.0), gs.View.mean("bilateral_trade", 1.0, op=">=")], above, 1.0),
    ]
    for views, f, target in cases:
        if target == lowest:  # one path keeps all the weight, and the user hears of it
            with pytest.warns(UserWarning, match="1.0 effective paths"):
                post = sim5k.with_views(views)
        else:
            post = sim5k.with_views(views)
        q = post.weights
        assert q @ f == pytest.approx(target, abs=1e-12), views
        assert post.posterior["iterations"] == 0 and post.posterior["converged"]
        assert q[f != target].sum() == 0.0  # only paths that meet the view keep weight
        assert q @ trade >= 1.0
        kl = float(np.sum(q[q > 0] * np.log(q[q > 0] / sim5k.weights[q > 0])))
        assert post.posterior["relative_entropy"] == pytest.approx(kl, rel=1e-12) and kl > 0
        assert post.summary("potash_spot").loc[("potash_spot", "all"), "mean"] == pytest.approx(q @ spot, rel=1e-12)


def test_no_views_is_the_prior_and_infeasible_views_raise(sim5k):
    assert sim5k.with_views([]) is sim5k and sim5k.with_views([]).posterior is None
    post = sim5k.with_views(gs.View.mean("potash_spot", 400))
    assert post.with_views(()) is post
    with pytest.raises(gs.ConfigError) as ei:  # its arguments are checked all the same
        sim5k.with_views([], max_iter=-5)
    assert ei.value.path == "max_iter"
    with pytest.raises(gs.NumericalError, match="infeasible"):
        sim5k.with_views([gs.View.mean("potash_spot", 1e6)])
    # the message names the user's view and the range that rules it out; an impossible
    # view is bad input, so a ValueError naming it, and a NumericalError as before
    x = sim5k.paths("bilateral_trade")[:, -1]
    with pytest.raises(gs.InfeasibleViewsError) as e:
        sim5k.with_views([gs.View.mean("potash_spot", 400), gs.View.mean("bilateral_trade", 2 * x.max(), op=">=")])
    assert isinstance(e.value, ValueError) and isinstance(e.value, gs.NumericalError) and e.value.path == "views[1]"
    assert str(e.value).startswith("views[1]: View(E[bilateral_trade] >= ")
    assert f"bilateral_trade ranges over [{x.min():g}, {x.max():g}] on the simulated paths" in str(e.value)
    # a target just outside the range: the range has the digits that show it
    near = x.min() * (1 - 1e-8)
    with pytest.raises(gs.InfeasibleViewsError) as e:
        sim5k.with_views([gs.View.mean("bilateral_trade", near)])
    lo = re.search(r"ranges over \[(\S+),", str(e.value))[1]
    assert float(lo) > near, str(e.value)  # with 6 digits it read as the target itself
    # views possible alone that cannot hold together: the path is all the views
    with pytest.raises(gs.ConfigError, match=r"^views: views\[0\] View\(E\[potash_spot\] >= 380 at horizon\), "
                                             r"views\[1\] View\(E\[potash_spot\] <= 360 at horizon\) "
                                             r"cannot hold together") as joint:
        sim5k.with_views([gs.View.mean("potash_spot", 380, op=">="), gs.View.mean("potash_spot", 360, op="<=")])
    assert joint.value.path == "views"
    with pytest.raises(gs.NumericalError, match=r"views\[0\].*none of the simulated paths has potash_spot > 1e\+06"):
        sim5k.with_views([gs.View.prob_above("potash_spot", 1e6, 0.5)])
    with pytest.raises(gs.ConfigError, match="view.value"):
        gs.View.prob_above("potash_spot", 450, 1.5)
    with pytest.raises(gs.ConfigError) as err:  # the bad probability first, then the missing threshold
        gs.View("potash_spot", "prob", 1.5)
    assert err.value.path == "view.value"
    # paths of zero prior weight exist but cannot carry a view: the message says which paths it means
    bear = sim5k.scenario_names.index("bear")
    level = float(sim5k.paths("potash_spot")[sim5k.scenario != bear, -1].max())
    assert (sim5k.paths("potash_spot")[:, -1] > level).any()
    no_bear = sim5k.reweight({"base": 0.7, "bull": 0.3, "bear": 0.0})
    with pytest.raises(gs.NumericalError, match="none of the paths of positive prior weight has potash_spot > "):
        no_bear.with_views([gs.View.prob_above("potash_spot", level, 0.3)])


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


def test_a_target_return_and_a_risk_aversion_move_the_allocation_as_they_should():
    sim = gs.World.default().simulate(600, seed=5, progress=False)
    names = ["commodities_arbitrage", "infrastructure_beneficiaries", "direct_belarus"]
    r = np.column_stack([sim.paths(s)[:, -1] - 1 for s in names])
    w = sim.weights
    means = w @ r

    def cvar(x):
        _, c = gs._core.var_cvar(np.ascontiguousarray(r @ x), np.ascontiguousarray(w), 0.9)
        return c

    low = sim.allocate(0.9, names)
    target = 0.5 * (low.expected_return + means.max())
    aimed = sim.allocate(0.9, names, target_return=target)
    assert aimed.expected_return >= target - 1e-9 and aimed.cvar >= low.cvar - 1e-12
    assert np.abs(aimed.weights.to_numpy() - low.weights.to_numpy()).max() > 0.05
    # no risk aversion buys the best mean alone
    greedy = sim.allocate(0.9, names, risk_aversion=0)
    assert greedy.weights[names[int(np.argmax(means))]] == 1.0
    # a moderate one: no point of a grid over the simplex does better on E − γ·CVaR
    gamma, step = 2.0, 0.02
    mid = sim.allocate(0.9, names, risk_aversion=gamma)
    x = mid.weights[names].to_numpy()
    assert mid.cvar == pytest.approx(cvar(x), abs=1e-12) and mid.expected_return == pytest.approx(means @ x, abs=1e-12)
    grid = max(means @ np.array([a, b, 1 - a - b]) - gamma * cvar(np.array([a, b, 1 - a - b]))
               for a, b in itertools.product(np.arange(0, 1 + 1e-9, step), repeat=2) if a + b <= 1 + 1e-9)
    assert mid.expected_return - gamma * mid.cvar >= grid - 1e-9
    assert not np.allclose(mid.weights, low.weights, atol=1e-3)
    # more risk aversion, less risk and less return: down to the least CVaR
    path = [sim.allocate(0.9, names, risk_aversion=g) for g in (0, 0.5, 2.0, 8.0, 1e6)]
    for a, b in itertools.pairwise(path):
        assert b.cvar <= a.cvar + 1e-9 and b.expected_return <= a.expected_return + 1e-9
    assert path[0].cvar > path[-1].cvar + 0.01
    assert path[-1].cvar == pytest.approx(low.cvar, abs=1e-6)
    # the limits: the largest return below 1e-6 (the programme's scaling), the least CVaR at ∞
    assert sim.allocate(0.9, names, risk_aversion=1e-9).weights.equals(greedy.weights)
    least = sim.allocate(0.9, names, risk_aversion=np.inf)
    assert least.weights.equals(low.weights) and least.cvar == low.cvar
    for bad in (-1.0, -np.inf, np.nan):
        with pytest.raises(gs.ConfigError) as ei:
            sim.allocate(0.9, names, risk_aversion=bad)
        assert ei.value.path == "risk_aversion"


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
        # every column, the tail shares and mean drawdowns included, with the same bits
        assert {"tail_share", "max_drawdown"} <= set(streamed.risk.columns)
        assert sim.risk_table().equals(streamed.risk)
        # to an earlier month too (drawdowns then run to that month)
        at12 = world.simulate_summary(n, seed=21, antithetic=anti, month=12, series=["direct_belarus"])
        assert sim.risk_table(strategies="direct_belarus", month=12).equals(at12.risk)
        assert not at12.risk["max_drawdown"].equals(streamed.risk.loc[["direct_belarus"], "max_drawdown"])
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


def _weighted_cvar(loss: np.ndarray, p: np.ndarray, alpha: float) -> float:
    """Mean of the worst 1 − α of the probability mass of ``loss`` (exact, with the atom split)."""
    order = np.argsort(-loss, kind="stable")
    lo, q = loss[order], p[order] / p.sum()
    tail = 1.0 - alpha
    before = np.concatenate([[0.0], np.cumsum(q)[:-1]])
    take = np.clip(tail - before, 0.0, q)
    return float(take @ lo / tail)


def test_allocation_under_a_posterior_beats_every_other_portfolio_at_scale():
    # above 4,000 scenarios the programme is solved by constraint generation; a
    # posterior that puts little probability on the largest losses once left
    # the restricted programme unbounded ("DualInfeasible")
    sim = gs.World.default().simulate(50_000, seed=0)
    post = sim.with_views(gs.View.mean("direct_belarus", 1.2))
    names = list(post.world.strategies)
    r = np.column_stack([post.paths(s)[:, -1] - 1.0 for s in names])  # NAV starts at 1
    a = post.allocate(0.95)
    best = _weighted_cvar(-(r @ a.weights), post.weights, 0.95)
    assert abs(best - a.cvar) < 1e-9
    rng = np.random.default_rng(4)
    others = np.vstack([np.eye(len(names)), rng.dirichlet(np.ones(len(names)), 40)])
    for x in others:
        assert best <= _weighted_cvar(-(r @ x), post.weights, 0.95) + 1e-9, x


def test_allocations_compare_by_value(sim5k):
    import collections.abc
    import copy
    import pickle

    a, b = sim5k.allocate(0.95), sim5k.allocate(0.95)
    assert a == b and a in [b]
    for c in (pickle.loads(pickle.dumps(a)), copy.deepcopy(a)):
        assert c == a
    with pytest.raises(TypeError, match="unhashable type: 'Allocation'"):  # its weights are a mutable Series
        hash(a)
    assert not isinstance(a, collections.abc.Hashable)
    assert a != sim5k.allocate(0.9) and a != "an allocation"
    shuffled = gs.Allocation(a.weights.iloc[::-1], a.expected_return, a.cvar, a.var, a.alpha, a.status)
    assert shuffled != a  # the same weights in another order are another table


def test_an_allocations_weights_cannot_be_changed_from_outside(sim5k):
    a = sim5k.allocate(0.95)
    before = sim5k.risk_table(0.95, [], mixes={"m": a})
    w = a.weights
    w /= 2.0  # a what-if on "my copy"
    w["direct_belarus"] = 5.0
    assert a.weights.sum() == pytest.approx(1.0, abs=1e-9) and a.weights.max() < 1.0
    assert sim5k.risk_table(0.95, [], mixes={"m": a}).equals(before)
    # one built by hand keeps its own copy of the caller's Series
    s = pd.Series({"commodities_arbitrage": 0.5, "direct_belarus": 0.5})
    b = gs.Allocation(s, 0.1, 0.2, 0.15, 0.95, "Solved")
    s["direct_belarus"] = 50.0
    assert b.weights.to_dict() == {"commodities_arbitrage": 0.5, "direct_belarus": 0.5}


def test_a_views_month_may_be_a_0d_integer_array(sim5k):
    v = gs.View.mean("potash_spot", 400.0, month=np.array(12))
    assert v == gs.View.mean("potash_spot", 400.0, month=12) and type(v.month) is int
    with pytest.raises(gs.ConfigError) as err:
        gs.View.mean("potash_spot", 400.0, month=np.array([12]))
    assert err.value.path == "view.month"


def test_an_allocation_as_pandas_is_a_frontier_row(sim5k):
    a = sim5k.allocate(0.9)
    s = a.to_pandas()
    front = sim5k.efficient_frontier(0.9, n_points=2, progress=False)
    assert s.index.tolist() == front.columns[1:].tolist() and s.name == "alpha=0.9" and s.dtype == float
    # the frontier's attrs say what the risk table's say
    assert front.attrs == sim5k.risk_table(0.9).attrs and front.index.name == "point"
    assert (s["expected_return"], s["cvar"], s["var"]) == (a.expected_return, a.cvar, a.var)
    pd.testing.assert_series_equal(s[a.weights.index], a.weights.astype(float), check_names=False)


def test_a_frontier_over_one_strategy_says_it_is_one_point(sim5k, recwarn):
    with pytest.warns(UserWarning, match=r"^a frontier over one strategy is one point, all in 'direct_belarus': "
                                         r"its 3 rows are equal; give two or more strategies$"):
        front = sim5k.efficient_frontier(0.9, n_points=3, strategies=["direct_belarus"], progress=False)
    assert (front["direct_belarus"] == 1.0).all() and front["expected_return"].nunique() == 1
    # two strategies: no word
    recwarn.clear()
    sim5k.efficient_frontier(0.9, n_points=3, strategies=["direct_belarus", "technology_transfer"], progress=False)
    assert not [w for w in recwarn if "one point" in str(w.message)]


def test_reweighting_a_posterior_pools_its_views_again_over_the_new_prior(sim5k):
    x = sim5k.paths("potash_spot")[:, -1]
    q = {"base": 0.4, "bull": 0.2, "bear": 0.4}
    post = sim5k.with_views(gs.View.mean("potash_spot", 420.0))
    moved = post.reweight(q)
    assert moved.posterior is not None and moved.posterior["views"] == post.posterior["views"]
    assert abs(moved.weights @ x - 420.0) < 1e-9 * 420
    # the same as reweighting the prior first, then pooling
    direct = sim5k.reweight(q).with_views(gs.View.mean("potash_spot", 420.0))
    np.testing.assert_array_equal(moved.weights, direct.weights)
    # views added to a posterior join its own, before and after reweighting alike
    chain = post.with_views(gs.View.prob_above("potash_spot", 450, 0.3)).reweight(q)
    again = direct.with_views(gs.View.prob_above("potash_spot", 450, 0.3))
    np.testing.assert_array_equal(chain.weights, again.weights)


def test_reweighting_a_posterior_pools_again_with_its_progress_choice(sim5k, monkeypatch):
    # with_views(progress=False) then reweight (as plot.probability_curve does at every
    # point) re-pooled with progress="auto": a bar the caller had turned off
    from geoscenario import views as views_module

    asked = []
    pool = views_module.entropy_pool

    def recording(sim, views, max_iter, tol, progress):
        asked.append(progress)
        return pool(sim, views, max_iter, tol, progress)

    monkeypatch.setattr(views_module, "entropy_pool", recording)
    q = {"base": 0.4, "bull": 0.2, "bear": 0.4}
    for choice in (False, True, "auto"):
        asked.clear()
        sim5k.with_views(gs.View.mean("potash_spot", 420.0), progress=choice).reweight(q).reweight(q)
        assert asked == [choice] * 3, (choice, asked)


def test_views_added_to_a_posterior_all_hold_and_its_record_is_a_copy(sim5k):
    x = sim5k.paths("potash_spot")[:, -1]
    y = sim5k.paths("bilateral_trade")[:, -1]
    v1, v2 = gs.View.mean("potash_spot", 450.0), gs.View.mean("bilateral_trade", 9.5)
    post = sim5k.with_views(v1)
    both = post.with_views([v2])
    # both views hold (pooling over the posterior alone would let the potash mean drift)
    assert abs(both.weights @ x - 450.0) < 1e-9 * 450 and abs(both.weights @ y - 9.5) < 1e-9 * 9.5
    assert both.posterior["views"] == (v1, v2) and "posterior: 2 views" in repr(both)
    np.testing.assert_array_equal(both.weights, sim5k.with_views([v1, v2]).weights)
    # an added view is numbered after the posterior's own
    with pytest.raises(gs.ConfigError) as err:
        post.with_views([v2, "v3"])
    assert err.value.path == "views[2]"
    # changing the record changes nothing: the views are a tuple, the dict a copy
    record = post.posterior
    with pytest.raises(AttributeError):
        record["views"].append(v2)
    record["tol"], record["views"] = 0.5, (v2,)
    assert post.posterior["views"] == (v1,) and post.posterior["tol"] == 1e-10
    moved = post.reweight({"base": 0.4, "bull": 0.2, "bear": 0.4})
    assert abs(moved.weights @ x - 450.0) < 1e-9 * 450 and moved.posterior["views"] == (v1,)
    # a posterior pickled when the record was a plain attribute with a list of views
    old = {k: v for k, v in post.__dict__.items() if k != "_posterior"}
    old["posterior"] = {**post._posterior, "views": [v1]}
    back = object.__new__(type(post))
    back.__setstate__(old)
    assert back.posterior["views"] == (v1,)
    np.testing.assert_array_equal(back.with_views(v2).weights, both.weights)
    # nor can the weights be made writeable and changed under the statistics
    for s in (sim5k, post):
        with pytest.raises(ValueError):
            s.weights.flags.writeable = True


def test_reweight_accepts_float32_probabilities_and_normalises_them(sim5k):
    p32 = {k: np.float32(v) for k, v in sim5k.probabilities.items()}
    assert abs(sum(float(v) for v in p32.values()) - 1.0) > 1e-9  # float32 rounding
    r = sim5k.reweight(p32)
    assert r.probabilities == sim5k.probabilities  # each the decimal it prints as
    thirds = sim5k.reweight(dict.fromkeys(sim5k.probabilities, np.float32(1 / 3)))  # 3 × 0.33333334
    assert sum(thirds.probabilities.values()) == pytest.approx(1.0, abs=1e-15)
    assert thirds.weights.sum() == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(gs.ConfigError, match="within 1e-06") as err:
        sim5k.reweight({"base": 0.55, "bull": 0.25, "bear": 0.2 + 1e-5})
    assert err.value.path == "probabilities"


@pytest.mark.parametrize("alpha", [0.05, 0.01, 0.49])
def test_a_tail_probability_given_as_alpha_is_refused_with_a_hint(sim5k, alpha):
    for call in (sim5k.risk_table, sim5k.allocate, lambda alpha: sim5k.efficient_frontier(alpha, n_points=3)):
        with pytest.raises(gs.ConfigError, match=f"did you mean {1 - alpha:g}") as err:
            call(alpha)
        assert err.value.path == "alpha"
    sim5k.risk_table(0.5)  # the lowest level accepted


def test_the_tightest_view_tolerance_is_the_one_the_error_quotes(sim5k):
    view = gs.View.mean("potash_spot", 410.0)
    with pytest.raises(gs.ConfigError, match=r"must be a number in \[2\.2e-16, 1\)") as err:
        sim5k.with_views(view, tol=2.1e-16)
    assert err.value.path == "tol"
    eps = np.finfo(float).eps
    post = sim5k.with_views(view, tol=2.2e-16)  # the bound quoted, just below the epsilon: the epsilon
    assert post.posterior["tol"] == eps
    assert np.array_equal(post.weights, sim5k.with_views(view, tol=eps).weights)


def test_a_loose_view_tolerance_keeps_the_prior_when_it_already_holds(sim5k):
    x = sim5k.paths("potash_spot")[:, -1]
    target = float(sim5k.weights @ x) * 0.9
    loose = sim5k.with_views(gs.View.mean("potash_spot", target), tol=0.5)
    # within tol·max|x| of the prior's mean: the prior is the closest posterior
    assert np.array_equal(loose.weights, sim5k.weights)  # the prior's own weights
    assert loose.posterior["iterations"] == 0 and loose.posterior["converged"]
    assert loose.summary().equals(sim5k.summary()) and loose.risk_table().equals(sim5k.risk_table())
    assert loose.probabilities == sim5k.probabilities
    tight = sim5k.with_views(gs.View.mean("potash_spot", target), tol=1e-4)
    assert abs(tight.weights @ x - target) <= 1e-4 * np.abs(x).max()
    assert tight.posterior["effective_scenarios"] > 0.5 * sim5k.n_paths


def test_posterior_var_is_the_inverted_cdf_quantile_even_on_blocks_of_equal_weights():
    # probability views give blocks of equal posterior weights, so the CDF can reach α
    # up to rounding; the VaR is then that sample, as gs.stats and the prior's table say
    sim = gs.World.default().simulate(2_000, seed=8)
    x = sim.paths("potash_spot")[:, -1]
    post = sim.with_views(gs.View.prob_above("potash_spot", float(np.quantile(x, 0.9)), 0.6))
    for alpha in (0.9, 0.95, 0.99):
        risk = post.risk_table(alpha)
        for strat in post.world.strategies:
            loss = 1.0 - post.paths(strat)[:, -1]
            expected = float(gs.stats.weighted_quantile(loss, post.weights, alpha))
            assert risk.loc[(strat, "all"), "var"] == expected, (strat, alpha)


def test_view_series_must_be_a_name_and_views_are_capped(sim5k):
    with pytest.raises(gs.ConfigError) as err:
        gs.View(["potash_spot"], "mean", 400.0)
    assert err.value.path == "view.series"
    many = [gs.View.mean("potash_spot", 400.0, op="<=")] * 1_001
    with pytest.raises(gs.ConfigError, match="at most 1,000 views") as err:
        sim5k.with_views(many)
    assert err.value.path == "views"


def _mix_reference(sim, weights, alpha, month=-1):
    """A mix's statistics to ``month`` computed independently: its NAV Σ w_s NAV_s plus
    cash, the lower-tail CVaR by sorting (the notebook's formula), drawdowns from cummax."""
    nav = np.ones((sim.n_paths, sim.horizon_months + 1))
    for s, v in weights.items():
        nav += v * (sim.paths(s) - 1.0)
    nav = nav[:, : (month % nav.shape[1]) + 1]
    r, w = nav[:, -1] - 1.0, sim.weights
    order = np.argsort(r, kind="stable")
    tail = np.clip((1 - alpha) - (np.cumsum(w[order]) - w[order]), 0.0, w[order])
    dd = 1.0 - nav / np.maximum.accumulate(nav, axis=1)
    return {"mean_return": float(w @ r) / w.sum(), "cvar": float(-(tail @ r[order]) / (1 - alpha)),
            "p_loss": float(w[r < 0].sum()), "max_drawdown": float(w @ dd.max(axis=1))}


@pytest.mark.parametrize("posterior", [False, True])
def test_a_mix_in_the_risk_table_is_its_nav_summarised(sim5k, posterior):
    sim = sim5k.with_views([gs.View.mean("potash_spot", 420.0)]) if posterior else sim5k
    alloc = sim.allocate(0.9)
    mixes = {
        "min_cvar": alloc,
        "long_short": pd.Series({"infrastructure_beneficiaries": 1.5, "direct_belarus": -0.8}),
        "alone": {"technology_transfer": 1.0},
    }
    table = sim.risk_table(0.9, ["technology_transfer"], mixes=mixes)
    assert table.index.get_level_values("strategy").unique().tolist() == ["technology_transfer", *mixes]
    for name, weights in mixes.items():
        w = dict(weights.weights if name == "min_cvar" else weights)
        ref, row = _mix_reference(sim, w, 0.9), table.loc[(name, "all")]
        for col, value in ref.items():
            assert row[col] == pytest.approx(value, rel=1e-10, abs=1e-13), (name, col)
        assert row["probability"] == pytest.approx(1.0, rel=1e-12)
    # the optimiser's CVaR and mean are those of the mix it chose
    assert table.loc[("min_cvar", "all"), "cvar"] == pytest.approx(alloc.cvar, rel=1e-10)
    assert table.loc[("min_cvar", "all"), "mean_return"] == pytest.approx(alloc.expected_return, rel=1e-10)
    # a strategy held alone is that strategy's own rows, tail shares and quantiles included
    diff = (table.loc["alone"] - table.loc["technology_transfer"]).abs().to_numpy()
    assert diff.max() < 1e-12
    # mixes alone
    only = sim.risk_table(0.9, [], mixes={"alone": mixes["alone"]})
    assert only.index.get_level_values("strategy").unique().tolist() == ["alone"]
    assert np.array_equal(only.to_numpy(), table.loc[["alone"]].to_numpy(), equal_nan=True)


def _tail_shares(r, w, scen, k, alpha):
    """Each scenario's share of the worst 1 − α of the probability, ties at the boundary
    split in proportion to weight (a reference written from the definition)."""
    order = np.argsort(r, kind="stable")
    left, share, i = 1.0 - alpha, np.zeros(k), 0
    while left > 1e-15:
        tie = order[i:][r[order[i:]] == r[order[i]]]
        take = min(w[tie].sum(), left)
        np.add.at(share, scen[tie], take * w[tie] / w[tie].sum())
        left -= take
        i += len(tie)
    return share / (1.0 - alpha)


@pytest.mark.parametrize("posterior", [False, True])
def test_every_scenario_row_of_the_risk_table_against_a_reference(sim5k, posterior):
    sim = sim5k.with_views([gs.View.mean("potash_spot", 420.0)]) if posterior else sim5k
    table, w, k = sim.risk_table(0.9), sim.weights, len(sim.scenario_names)
    for strat in sim.world.strategies:
        nav = sim.paths(strat)
        dd = (1.0 - nav / np.maximum.accumulate(nav, axis=1)).max(axis=1)
        shares = _tail_shares(nav[:, -1] - 1.0, w, sim.scenario, k, 0.9)
        for s, name in enumerate(sim.scenario_names):
            blk = sim.scenario == s
            row = table.loc[(strat, name)]
            assert row["max_drawdown"] == pytest.approx(w[blk] @ dd[blk] / w[blk].sum(), rel=1e-12), (strat, name)
            assert row["tail_share"] == pytest.approx(shares[s], abs=1e-9), (strat, name)
        assert table.loc[(strat, "all"), "tail_share"] == 1.0
        assert table.loc[(strat, "all"), "max_drawdown"] == pytest.approx(w @ dd / w.sum(), rel=1e-12)


@pytest.mark.parametrize("posterior", [False, True])
def test_risk_to_a_month_before_the_horizon(sim5k, posterior):
    sim = sim5k.with_views([gs.View.mean("potash_spot", 420.0)]) if posterior else sim5k
    table = sim.risk_table(0.9, ["direct_belarus"], mixes={"m": {"technology_transfer": 0.6}}, month=12)
    assert table.attrs["month"] == "2026-06"
    for name, weights in (("direct_belarus", {"direct_belarus": 1.0}), ("m", {"technology_transfer": 0.6})):
        ref = _mix_reference(sim, weights, 0.9, month=12)
        for col, want in ref.items():
            assert table.loc[(name, "all"), col] == pytest.approx(want, rel=1e-12, abs=1e-15), (name, col)
    assert sim.risk_table(0.9, month=-1).equals(sim.risk_table(0.9))
    assert (sim.risk_table(0.9, month=0)[["mean_return", "var", "max_drawdown"]] == 0).all().all()


def test_streamed_risk_to_a_month_is_the_materialised_one():
    world = gs.World.default()
    sim = world.simulate(4_001, seed=3, progress=False)
    streamed = world.simulate_summary(4_001, seed=3, month="2026-06", alpha=0.9, chunk_paths=333,
                                      progress=False).risk
    assert sim.risk_table(0.9, month="2026-06")[list(streamed.columns)].equals(streamed)


@pytest.mark.parametrize("posterior", [False, True])
def test_reducers_taken_a_batch_at_a_time_give_the_same_bits(sim5k, posterior, monkeypatch):
    # the values of every reducer on every path were held at once: 3 rows per mix, 24 GB
    # for 1,000 mixes on 1,000,000 paths; now REDUCE_BYTES of them at a time
    from geoscenario import simulation

    sim = sim5k.with_views(gs.View.mean("potash_spot", 420.0)) if posterior else sim5k
    rng = np.random.default_rng(0)
    strategies = list(sim.world.strategies)
    mixes = {f"m{i}": dict(zip(strategies, rng.dirichlet(np.ones(len(strategies))))) for i in range(12)}
    whole = (sim.risk_table(0.9, mixes=mixes), sim.summary(quantiles=[0.1, 0.5]))
    for rows in (1, 5):
        monkeypatch.setattr(simulation, "REDUCE_BYTES", 8 * sim.n_paths * rows)
        pd.testing.assert_frame_equal(sim.risk_table(0.9, mixes=mixes), whole[0], check_exact=True)
        pd.testing.assert_frame_equal(sim.summary(quantiles=[0.1, 0.5]), whole[1], check_exact=True)


def test_mix_nav_is_one_plus_the_weighted_excess_of_the_strategies(sim5k):
    nav = sim5k.mix_nav({"commodities_arbitrage": 0.25, "direct_belarus": 0.5})
    want = 1.0 + 0.25 * (sim5k.paths("commodities_arbitrage") - 1) + 0.5 * (sim5k.paths("direct_belarus") - 1)
    assert nav.shape == want.shape and np.abs(nav - want).max() < 1e-14
    assert (nav[:, 0] == 1.0).all()


def test_a_mixs_bits_do_not_depend_on_the_order_of_its_weights(sim5k):
    weights = {"technology_transfer": 0.1, "commodities_arbitrage": 0.7, "direct_belarus": -0.3}
    backwards = dict(reversed(weights.items()))
    nav = sim5k.mix_nav(weights)
    assert np.array_equal(nav, sim5k.mix_nav(backwards))
    assert np.array_equal(nav, sim5k.mix_nav(pd.Series(backwards)))
    # summed in the order given, the two orders differ in the last bits: the order is fixed
    one = 1.0 + sum(w * (sim5k.paths(s) - 1.0) for s, w in weights.items())
    other = 1.0 + sum(w * (sim5k.paths(s) - 1.0) for s, w in backwards.items())
    assert not np.array_equal(one, other)
    a = sim5k.risk_table(0.95, [], mixes={"m": weights})
    b = sim5k.risk_table(0.95, [], mixes={"m": backwards})
    assert np.array_equal(a.to_numpy(), b.to_numpy(), equal_nan=True)


@pytest.mark.parametrize(
    "kwargs, path",
    [
        ({"mixes": [("a", {"direct_belarus": 1.0})]}, "mixes"),
        ({"mixes": {"direct_belarus": {"direct_belarus": 1.0}}}, "mixes"),
        ({"mixes": {"": {"direct_belarus": 1.0}}}, "mixes"),
        ({"mixes": {"m": {"nope": 1.0}}}, "mixes['m']"),
        ({"mixes": {"m": {"direct_belarus": float("nan")}}}, "mixes['m']"),
        ({"mixes": {"m": {"direct_belarus": "1"}}}, "mixes['m']"),
        ({"mixes": {"m": {}}}, "mixes['m']"),
        ({"mixes": {"m": [0.5, 0.5]}}, "mixes['m']"),
        ({"mixes": {"m": pd.Series([0.5, 0.5], index=["direct_belarus"] * 2)}}, "mixes['m'].direct_belarus"),
        ({"strategies": []}, "strategies"),
    ],
)
def test_bad_mixes_are_named(sim5k, kwargs, path):
    with pytest.raises(gs.ConfigError) as err:
        sim5k.risk_table(0.95, **kwargs)
    assert err.value.path == path


def test_a_mix_row_does_not_depend_on_the_mixs_name_and_keeps_tiny_weights_exact(sim5k):
    # the core sums squares about a series' month-0 value: a mix's is 1, as a NAV's
    weights = {"direct_belarus": 1e-9}
    rows = [sim5k.risk_table(0.95, [], mixes={name: weights}).loc[name] for name in ("m", "discount", "potash")]
    assert all(np.array_equal(r.to_numpy(), rows[0].to_numpy(), equal_nan=True) for r in rows)
    ref = _mix_reference(sim5k, weights, 0.95)
    for col in ("mean_return", "cvar"):
        assert rows[0].loc["all", col] == pytest.approx(ref[col], rel=1e-12), col


def test_mix_weights_are_bounded_as_strategy_weights_are(sim5k):
    from geoscenario.simulation import MAX_MIXES
    from geoscenario.strategy import MAX_WEIGHT

    with pytest.raises(gs.ConfigError) as err:
        sim5k.risk_table(0.95, [], mixes={"m": {"direct_belarus": 2 * MAX_WEIGHT}})
    assert err.value.path == "mixes['m']"
    with pytest.raises(gs.ConfigError) as err:
        sim5k.mix_nav({"direct_belarus": -1e308})
    assert err.value.path == "weights"
    many = {f"m{i}": {"direct_belarus": 1.0} for i in range(MAX_MIXES + 1)}
    with pytest.raises(gs.ConfigError) as err:
        sim5k.risk_table(0.95, [], mixes=many)
    assert err.value.path == "mixes"


@pytest.mark.parametrize("n, antithetic", [(3_001, False), (4_000, True)])
def test_streamed_mixes_have_the_bits_of_materialised_ones(n, antithetic):
    world = gs.World.default()
    sim = world.simulate(n, seed=21, antithetic=antithetic, progress=False)
    mixes = {"min_cvar": sim.allocate(0.9), "long_short": {"infrastructure_beneficiaries": 1.5, "direct_belarus": -0.8}}
    streamed = world.simulate_summary(n, seed=21, antithetic=antithetic, chunk_paths=97, alpha=0.9, mixes=mixes,
                                      progress=False).risk
    assert streamed.index.get_level_values("strategy").unique().tolist()[-2:] == list(mixes)
    assert sim.risk_table(0.9, mixes=mixes).equals(streamed)
    with pytest.raises(gs.ConfigError) as err:
        world.simulate_summary(100, alpha=None, mixes=mixes, progress=False)
    assert err.value.path == "mixes"
    # series=[]: the mixes' rows alone, as risk_table(alpha, [], mixes=...)
    alone = world.simulate_summary(n, seed=21, antithetic=antithetic, series=[], alpha=0.9, mixes=mixes,
                                   progress=False)
    assert alone.table.empty and alone.risk.equals(streamed.loc[list(mixes)])


@pytest.mark.parametrize("posterior", [False, True])
def test_mix_names_that_look_like_internal_labels_keep_their_own_rows(posterior):
    # a mix may be named "<strategy>:drawdown" or "<mix>:loss": each row keeps its own
    # drawdowns and tail, as a reference from the NAVs says, and as the streamed table
    world = gs.World.default()
    sim = world.simulate(2_000, seed=0, progress=False)
    if posterior:
        sim = sim.with_views(gs.View.mean("potash_spot", 420.0))
    mixes = {"a": {"technology_transfer": 1.0}, "a:drawdown": {"direct_belarus": 1.0},
             "direct_belarus:drawdown": {"technology_transfer": 0.5}, "a:loss": {"direct_belarus": -0.5}}
    table = sim.risk_table(0.95, ["direct_belarus"], mixes=mixes)
    w = sim.weights
    for name, weights in [("direct_belarus", {"direct_belarus": 1.0}), *mixes.items()]:
        nav = sim.mix_nav(weights)
        dd = (1.0 - nav / np.maximum.accumulate(nav, axis=1)).max(axis=1)
        row = table.loc[(name, "all")]
        assert row["max_drawdown"] == pytest.approx(w @ dd / w.sum(), rel=1e-12), name
        assert row["mean_return"] == pytest.approx(w @ (nav[:, -1] - 1.0) / w.sum(), rel=1e-12), name
    if not posterior:
        streamed = world.simulate_summary(2_000, seed=0, series=["direct_belarus"], mixes=mixes,
                                          progress=False)
        assert table.equals(streamed.risk)


@pytest.mark.parametrize("terms", [[("potash_spot", 1.0)], [("direct_belarus", 1e308)],
                                   [("direct_belarus", float("nan"))]])
def test_the_core_refuses_a_mix_of_other_than_strategies_or_of_unbounded_weight(terms):
    from geoscenario import _core

    reducer = ("m:loss", "m", 1.0, -1.0, [], [0.0], [0.95], terms, False)
    with pytest.raises(gs.ConfigError) as err:
        _core.SummaryJob.for_world(gs.World.default()._core, [reducer], 24, 100, 24, 0, False)
    assert err.value.path == "mixes"


def test_the_core_computes_reducer_values_only_from_paths_of_the_jobs_shape():
    from geoscenario import _core

    world = gs.World.default()
    sim = world.simulate(500, seed=2, progress=False)
    # a mix's terms in the strategies' order, the order mix_nav sums them in
    reducers = [("m:drawdown", "m", 0.0, 1.0, [], [], [], [("technology_transfer", 0.5), ("direct_belarus", 0.5)],
                 True), ("potash_spot", "potash_spot", 0.0, 1.0, [0.5], [], [], [], False)]
    job = _core.SummaryJob.for_world(world._core, reducers, 12, 500, 24, 2, False)
    values = job.values(sim._series)
    nav = sim.mix_nav({"direct_belarus": 0.5, "technology_transfer": 0.5})[:, :13]
    assert np.array_equal(values[0], (1.0 - nav / np.maximum.accumulate(nav, axis=1)).max(axis=1))
    assert np.array_equal(values[1], sim["potash_spot"][:, 12])
    with pytest.raises(gs.ConfigError, match='has no "potash_spot"') as err:
        job.values({k: v for k, v in sim._series.items() if k != "potash_spot"})
    assert err.value.path == "series"
    with pytest.raises(gs.ConfigError, match=r"must have shape \(500, 25\), got \(500, 13\)"):
        job.values({**sim._series, "potash_spot": np.ascontiguousarray(sim["potash_spot"][:, :13])})
    # paths in another layout, or writable (an unpickled run's), are read at the months needed
    other = {k: np.asfortranarray(v) for k, v in sim._series.items()}
    assert np.array_equal(job.values(other), values)
    assert np.array_equal(job.values(pickle.loads(pickle.dumps(sim))._series), values)


@pytest.mark.parametrize("series", ["potash_spot", "dislocation"])
def test_the_core_refuses_the_drawdown_of_a_series_other_than_a_nav(series):
    # a drawdown divides by the running peak: it is of a strategy's NAV or a mix (both
    # start at 1), not of a price or a spread that may start at or below 0
    from geoscenario import _core

    world = gs.World.default()
    assert series in world.units
    reducer = (f"{series}:drawdown", series, 0.0, 1.0, [], [], [], [], True)
    with pytest.raises(gs.ConfigError, match="drawdown") as err:
        _core.SummaryJob.for_world(world._core, [reducer], 24, 100, 24, 0, False)
    assert err.value.path == "series"
    ok = ("d", "direct_belarus", 0.0, 1.0, [], [], [], [], True)
    assert _core.SummaryJob.for_world(world._core, [ok], 24, 100, 24, 0, False) is not None


@pytest.mark.parametrize("series", ["roadmap_projects_done", "potash_spot"])
def test_posterior_summary_quantiles_are_each_scenario_s_weighted_quantiles(sim5k, series):
    # the posterior summary sorts all the paths once and reads each scenario's paths in
    # that order; the quantiles must be those of each scenario's own paths and weights,
    # also on a count series whose many ties carry unequal posterior weights
    x = sim5k.paths(series)[:, -1]
    post = sim5k.with_views([gs.View.prob_above("potash_spot", 400.0, 0.6),
                             gs.View.mean("bilateral_trade", 9.5)])
    levels = [0.0, 0.01, 0.25, 0.5, 0.9, 0.999, 1.0]
    t = post.summary(series, quantiles=levels)
    labels = [c for c in t.columns if c.startswith("q") and not c.endswith("_se")]
    w, scen = post.weights, post.scenario
    assert len(np.unique(w)) > 100  # a posterior: weights differ within scenarios
    for k, name in [*enumerate(post.scenario_names), (-1, "all")]:
        m = scen == k if k >= 0 else np.ones(len(x), bool)
        expected = gs.stats.weighted_quantile(x[m], w[m], levels)
        assert t.loc[(series, name), labels].tolist() == expected.tolist(), name


@pytest.mark.parametrize("series", ["potash_spot", "bilateral_trade", "middle_corridor_volume", "machinery_orders"])
@pytest.mark.parametrize("ops", [(">=", "<="), ("==", "==")])
def test_views_far_apart_on_one_series_are_named_as_conflicting(sim5k, series, ops):
    # E[x] at its 90% quantile and at its 10% quantile: the Newton multipliers grew
    # without bound and the error was a NumericalError naming no view ("diverged")
    x = sim5k.paths(series)[:, -1]
    hi, lo = float(np.quantile(x, 0.9)), float(np.quantile(x, 0.1))
    views = [gs.View.mean(series, hi, op=ops[0]), gs.View.mean(series, lo, op=ops[1])]
    with pytest.raises(gs.InfeasibleViewsError) as e:
        sim5k.with_views(views)
    assert e.value.path == "views"
    assert str(e.value).startswith(f"views: views[0] {views[0]!r}, views[1] {views[1]!r} cannot hold together")
