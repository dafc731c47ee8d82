"""Strategy NAVs against an independent NumPy implementation of MODEL.md §5."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pandas as pd
import pytest

import geoscenario as gs


def nav_reference(sim: gs.Simulation, world: gs.World, name: str, freeze: float = 0.5) -> np.ndarray:
    """NAV of a strategy whose assets have no idiosyncratic noise, recomputed from factor paths."""
    d = world.to_dict()
    assets = d["assets"]
    strat = d["strategies"][name]
    n, w = sim.n_paths, sim.horizon_months + 1
    fz = d.get("freeze", {}).get("scenario")
    fz_idx = sim.scenario_names.index(fz) if fz else None
    # month of entering the freeze scenario (static mode: the onset month)
    enter = np.zeros((n, w - 1), bool)
    if fz_idx is not None:
        rows = np.where((sim.scenario == fz_idx) & (sim.onset >= 1) & (sim.onset <= sim.horizon_months))[0]
        enter[rows, sim.onset[rows] - 1] = True
    simple = {}
    for a in strat["weights"]:
        spec = assets[a]
        assert spec.get("vol", 0.0) == 0.0
        r = np.zeros((n, w - 1))
        for f, beta in spec["betas"].items():
            r += beta * np.diff(np.log(sim.paths(f)), axis=1)
        r -= enter * spec.get("sanctions_exposure", 0.0) * freeze
        simple[a] = np.expm1(r)
    cost = {a: strat["cost_bps"] * 1e-4 + assets[a].get("cost_bps", 0.0) * 1e-4 for a in strat["weights"]}
    wts = strat["weights"]
    nav = np.ones((n, w))
    entry = sum(abs(x) * cost[a] for a, x in wts.items())
    for t in range(w - 1):
        # per unit of the month's starting NAV: position a grew to x (1 + R_a), its
        # target is x (1 + R), and each unit traded back costs cost[a]
        gross = sum(x * simple[a][:, t] for a, x in wts.items())
        paid = sum(cost[a] * np.abs(x * (1 + gross) - x * (1 + simple[a][:, t])) for a, x in wts.items())
        paid = paid + (entry if t == 0 else 0.0)
        nav[:, t + 1] = np.maximum(nav[:, t] * (1 + gross - paid), 0.0)
    return nav


def test_default_strategy_navs_start_at_one_and_are_finite(sim):
    for name in gs.World.default().strategies:
        nav = sim.paths(name)
        assert nav.shape == (sim.n_paths, sim.horizon_months + 1)
        assert np.all(nav[:, 0] == 1.0) and np.all(np.isfinite(nav)) and np.all(nav >= 0)


@pytest.mark.parametrize(
    "name", ["commodities_arbitrage", "technology_transfer", "direct_belarus", "levered"]
)
def test_nav_matches_numpy_reference_without_idiosyncratic_noise(name):
    d = gs.World.default().to_dict()
    for spec in d["assets"].values():
        spec["vol"] = 0.0
    # costs weigh most when leverage is high and monthly returns large
    d["strategies"]["levered"] = {
        "weights": {"hk_heavy_equipment": 4.0, "hk_equity": -4.0},
        "cost_bps": 50.0,
    }
    world = gs.World.from_dict(d)
    sim = world.simulate(4_000, seed=3)
    ref = nav_reference(sim, world, name)
    np.testing.assert_allclose(sim.paths(name), ref, rtol=1e-11, atol=1e-14)


def _eurobond_world(size: float | None = None, markov: bool = False) -> gs.World:
    """The default world with one strategy, all in the Eurobond (exposure 1), no noise or costs."""
    d = gs.World.default().to_dict()
    for spec in d["assets"].values():
        spec["vol"] = 0.0
    d["strategies"] = {"eurobond": {"weights": {"belarus_eurobond": 1.0}, "cost_bps": 0.0}}
    d["assets"]["belarus_eurobond"]["cost_bps"] = 0.0
    if size is not None:
        d["freeze"]["size"] = size
    if markov:
        d["world"]["regimes"] = "markov"
        for s in ("bull", "bear"):  # Markov regimes have no onset
            del d["scenarios"][s]["onset"]
        d["transitions"] = {"base": {"base": 0.8, "bull": 0.1, "bear": 0.1},
                            "bull": {"base": 0.2, "bull": 0.7, "bear": 0.1},
                            "bear": {"base": 0.3, "bull": 0.1, "bear": 0.6}}
    return gs.World.from_dict(d)


def _freeze_ratio(sim: gs.Simulation) -> np.ndarray:
    """The NAV's monthly growth over the bond's: 1, except where the freeze charges it."""
    nav, bond = sim.paths("eurobond"), sim.paths("eurobond_price")
    return nav[:, 1:] / nav[:, :-1] / (bond[:, 1:] / bond[:, :-1])


@pytest.mark.parametrize("size", [None, 0.2, 2.0])
def test_freeze_hits_sanctioned_assets_at_the_bear_onset_only(size):
    sim = _eurobond_world(size).simulate(3_000, seed=4, progress=False)
    ratio = _freeze_ratio(sim)
    bear = sim.scenario_names.index("bear")
    rows = np.where((sim.scenario == bear) & (sim.onset <= sim.horizon_months))[0]
    assert rows.size > 0
    expected = np.ones_like(ratio)
    expected[rows, sim.onset[rows] - 1] = np.exp(-(0.5 if size is None else size))  # e = 1
    np.testing.assert_allclose(ratio, expected, rtol=1e-12)


def test_under_markov_regimes_the_freeze_charges_every_entry():
    sim = _eurobond_world(markov=True).simulate(3_000, seed=4, progress=False)
    bear = sim.scenario_names.index("bear")
    in_bear = sim.regimes == bear
    entries = in_bear[:, 1:] & ~in_bear[:, :-1]  # the step into month t, from outside
    assert (entries.sum(axis=1) >= 2).any() and in_bear[:, 0].any()  # re-entries, and starts in bear
    np.testing.assert_allclose(_freeze_ratio(sim), np.where(entries, np.exp(-0.5), 1.0), rtol=1e-12)


@pytest.mark.parametrize("vol", [0.1, 0.45])
def test_an_assets_own_volatility_is_its_vol_per_root_year(vol):
    # betas of 0, no costs, weight 1: the NAV's monthly log growth is vol·√Δ·ε
    d = gs.World.default().to_dict()
    d["assets"]["own"] = {"betas": {"global_equity": 0.0}, "vol": vol, "cost_bps": 0.0}
    d["strategies"] = {"own": {"weights": {"own": 1.0}, "cost_bps": 0.0}}
    sim = gs.World.from_dict(d).simulate(20_000, 12, seed=6, progress=False)
    r = np.diff(np.log(sim.paths("own")), axis=1).ravel()
    n, want = r.size, vol**2 / 12
    assert abs(r.mean()) < 4 * np.sqrt(want / n)
    assert abs(r.var(ddof=1) - want) < 4 * want * np.sqrt(2 / (n - 1))  # normal shocks


def test_a_wiped_out_nav_stays_at_plus_zero():
    # 30 × a bond: most paths are wiped out, and a zero NAV times a later loss is −0 in
    # floating point, which summaries would print as "-0.0"
    world = gs.World.default().with_strategies(gs.Strategy("lev", {"belarus_eurobond": 30.0}))
    with pytest.warns(RuntimeWarning, match="strategy lost everything") as caught:
        sim = world.simulate(3_000, seed=0)
    nav = sim.paths("lev")
    zero = nav == 0.0
    assert zero[:, -1].mean() > 0.5 and not np.signbit(nav[zero]).any()
    # once zero, zero for good
    first = np.where(zero.any(axis=1), zero.argmax(axis=1), nav.shape[1])
    assert all(zero[i, first[i]:].all() for i in range(len(nav)))
    # the warning names the strategy and the probability of those paths, by the horizon
    p = gs._format.percent(float(sim.weights[zero[:, -1]].sum()))
    assert len(caught) == 1 and f"by 2027-06: 'lev' with probability {p}." in str(caught[0].message)


def test_a_run_warns_of_each_strategy_that_lost_everything_and_only_of_those(recwarn):
    world = gs.World.default().with_strategies(gs.Strategy("lev", {"belarus_eurobond": 30.0}),
                                               gs.Strategy("short", {"hk_equity": -40.0}))
    sim = world.simulate(2_000, seed=3, horizon_months=12)
    # the streamed summary says the same, to its month, with the same probabilities
    res = world.simulate_summary(2_000, seed=3, horizon_months=12, month=6, progress=False)
    messages = [str(w.message) for w in recwarn if w.category is RuntimeWarning]
    assert len(messages) == 2 and all(m.startswith("strategies lost everything") for m in messages)
    for m, t in zip(messages, (12, 6)):
        for name in ("lev", "short"):
            p = gs._format.percent(float(sim.weights[sim.paths(name)[:, t] <= 2.0**-54].sum()))
            assert f"{name!r} with probability {p}" in m and sim.months[t].strftime("%Y-%m") in m
        assert not any(s in m for s in gs.World.default().strategies)
    assert res.risk.loc[("lev", "all"), "max_drawdown"] > 0.5
    # without a risk table (alpha=None) the summary still counts them, and says the same
    recwarn.clear()
    plain = world.simulate_summary(2_000, seed=3, horizon_months=12, month=6, alpha=None, progress=False)
    assert [str(w.message) for w in recwarn if w.category is RuntimeWarning] == messages[1:]
    assert plain.table.equals(res.table) and plain.risk.empty
    # a NAV that ends below 2^-54 of the capital (not 0) counts as lost in both runs alike
    tiny = gs.World.default().with_strategies(gs.Strategy("s46", {"belarus_eurobond": 4.6}), replace=True)
    recwarn.clear()
    nav = tiny.simulate(4_000, horizon_months=120, seed=0).paths("s46")[:, -1]
    tiny.simulate_summary(4_000, 120, seed=0, progress=False)
    assert ((nav > 0) & (nav <= 2.0**-54)).any()
    first, second = (str(w.message) for w in recwarn if w.category is RuntimeWarning)
    assert first == second
    # the default strategies never lose everything: no warning
    recwarn.clear()
    gs.World.default().simulate(2_000, seed=3)
    gs.World.default().simulate_summary(2_000, seed=3, progress=False)
    assert not [w for w in recwarn if w.category is RuntimeWarning]


def test_custom_strategy_from_python():
    s = gs.Strategy("fert_only", {"fertilizer_producers": 1.0}, cost_bps=0)
    world = gs.World.default().with_strategies(s)
    assert "fert_only" in world.strategies and world.strategies["fert_only"] == s
    sim = world.simulate(2_000, seed=1)
    assert sim.paths("fert_only").shape == (2_000, 25)
    with pytest.raises(gs.ConfigError, match="strategies.bad.weights.nope"):
        gs.World.default().with_strategies(gs.Strategy("bad", {"nope": 1.0}))
    with pytest.raises(gs.ConfigError, match="strategies.bad.weights.global_equity"):
        gs.Strategy("bad", {"global_equity": "x"})


def test_a_strategys_weights_may_be_a_series_indexed_by_asset():
    weights = pd.Series({"fertilizer_producers": 1.0, "global_equity": -1.2})
    s = gs.Strategy("fert_hedged", weights)
    assert s == gs.Strategy("fert_hedged", weights.to_dict()) and type(s.weights["global_equity"]) is float
    base = gs.World.default()
    sim = base.with_strategies(s).simulate(500, seed=2, progress=False)
    ref = base.simulate(500, seed=2, progress=False)
    np.testing.assert_array_equal(sim.paths("fert_hedged"), ref.paths("commodities_arbitrage"))
    with pytest.raises(gs.ConfigError) as err:  # to_dict would silently keep the last
        gs.Strategy("x", pd.Series([1.0, 2.0], index=["hk_equity", "hk_equity"]))
    assert err.value.path == "strategies.x.weights.hk_equity" and str(err.value).endswith("is given twice")
    with pytest.raises(gs.ConfigError, match="non-empty dict"):
        gs.Strategy("x", pd.Series(dtype=float))


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"cost_bps": -5}, "strategies.bad.cost_bps"),
        ({"cost_bps": 10_000.5}, "strategies.bad.cost_bps"),
        ({"weights": {"global_equity": 100.5}}, "strategies.bad.weights.global_equity"),
        ({"weights": {"global_equity": -101}}, "strategies.bad.weights.global_equity"),
        # a description is text (an array raised NumPy's "truth value is ambiguous", and
        # 0 or [] were kept as no description)
        ({"description": np.array([1, 2])}, "strategies.bad.description"),
        ({"description": 0}, "strategies.bad.description"),
        ({"description": []}, "strategies.bad.description"),
        ({"description": "\ud800"}, "strategies.bad.description"),
    ],
)
def test_a_strategy_outside_the_configs_bounds_is_refused_when_made(kwargs, path):
    # the same bounds as a world's config, checked at once rather than by with_strategies
    args = {"weights": {"global_equity": 1.0}, **kwargs}
    with pytest.raises(gs.ConfigError) as err:
        gs.Strategy("bad", **args)
    assert err.value.path == path
    edge = {"weights": {"global_equity": -100.0}, "cost_bps": 10_000.0}
    assert "bad" in gs.World.default().with_strategies(gs.Strategy("bad", **edge)).strategies


def test_strategies_compare_by_value_and_are_not_hashable():
    import collections.abc

    a = gs.Strategy("x", {"hk_equity": 1.0, "global_equity": 0.5}, cost_bps=5)
    assert a == gs.Strategy("x", {"global_equity": 0.5, "hk_equity": 1.0}, cost_bps=5, description="d")
    assert not isinstance(a, collections.abc.Hashable)
    with pytest.raises(TypeError, match="unhashable type: 'Strategy'"):
        hash(a)
    # its weights cannot change after the checks, and it still pickles and copies
    with pytest.raises(TypeError):
        a.weights["hk_equity"] = 50.0  # type: ignore[index]
    for b in (pickle.loads(pickle.dumps(a)), copy.deepcopy(a)):
        assert b == a
        with pytest.raises(TypeError):
            b.weights.update(hk_equity=50.0)


@pytest.mark.parametrize("name", ["1x", "a-b", "all", "cvar", "target_return", "x" * 65])
def test_a_strategy_name_the_config_would_refuse_is_refused_when_made(name):
    with pytest.raises(gs.ConfigError) as err:
        gs.Strategy(name, {"global_equity": 1.0})
    assert err.value.path == f"strategies.{name}"
    with pytest.raises(gs.ConfigError) as err:  # the same rule as a world's config
        gs.World.default().with_params({f"strategies.{name}": {"weights": {"global_equity": 1.0}}})
    assert err.value.path == f"strategies.{name}"


def test_a_worlds_strategies_carry_their_descriptions_and_give_the_world_back():
    w = gs.World.default()
    tables = w.to_dict()["strategies"]
    assert all(s.description == tables[name]["description"] != "" for name, s in w.strategies.items())
    again = w.with_strategies(*w.strategies.values(), replace=True)
    assert again == w and again.to_dict() == w.to_dict()


def test_a_strategy_of_the_same_name_replaces_it_in_place_and_twice_is_an_error():
    w = gs.World.default()
    bonds = gs.Strategy("direct_belarus", {"belarus_eurobond": 1.0})
    w2 = w.with_strategies(bonds)
    assert list(w2.strategies) == list(w.strategies) and w2.strategies["direct_belarus"] == bonds
    with pytest.raises(gs.ConfigError) as err:
        w.with_strategies(gs.Strategy("x", {"global_equity": 1.0}), gs.Strategy("x", {"hk_equity": 1.0}))
    assert err.value.path == "strategies.x" and str(err.value).endswith("is given twice")
    with pytest.raises(gs.ConfigError) as err:  # a flag is True or False, as everywhere
        w.with_strategies(bonds, replace=1)
    assert err.value.path == "replace"


def test_many_strategies_give_the_bits_of_one():
    """Beyond eight strategies the NAVs take a second code path; every copy of a
    strategy must still give its NAV bit for bit."""
    base = gs.World.default().strategies["technology_transfer"]
    copies = [gs.Strategy(f"copy_{i}", base.weights, cost_bps=base.cost_bps) for i in range(11)]
    world = gs.World.default().with_strategies(*copies)
    sim = world.simulate(3_000, seed=5, progress=False)
    ref = sim.paths("technology_transfer")
    assert len(world.strategies) == 15
    for c in copies:
        np.testing.assert_array_equal(sim.paths(c.name), ref)


def test_a_strategy_lost_on_every_path_is_lost_with_probability_100_percent():
    # the weights' sum rounds below 1 (0.9999999999999999): the warning gives their share,
    # as the risk table's p_loss and the streamed summary do
    world = gs.World.default().with_strategies(gs.Strategy("lev", {"global_equity": 100.0, "hk_equity": 100.0}))
    with pytest.warns(RuntimeWarning, match="strategy lost everything") as caught:
        sim = world.simulate(200, seed=0, horizon_months=12, progress=False)
    assert (sim.paths("lev")[:, -1] == 0).all() and sim.weights.sum() < 1.0
    assert "'lev' with probability 100%." in str(caught[0].message)
    assert sim.risk_table().loc[("lev", "all"), "p_loss"] == 1.0
