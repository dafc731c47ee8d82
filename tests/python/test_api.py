"""The public Python API: round trips, user-defined factors, array contracts,
pandas views, reprs and the command line."""

from __future__ import annotations

import copy
import html
import itertools
import os
import pickle
import re
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import DT, N_SIGMA, assert_bit_identical, assert_mean_close
from hypothesis import given, settings
from hypothesis import strategies as st

import geoscenario as gs

SUMMARY_COLUMNS = ["probability", "mean", "mean_se", "std", "q05", "q05_se", "q50", "q50_se", "q95", "q95_se", "threshold",
                   "p_above", "p_above_se"]


# ============================================================================ round trips
def test_toml_round_trip_gives_identical_simulations(default_world, tmp_path):
    text = default_world.to_toml()
    w2 = gs.World.from_toml(text)
    assert w2 == default_world and hash(w2) == hash(default_world)
    assert w2.to_toml() == text, "to_toml is a fixed point"
    # also through a file, by pathlib.Path and by str
    f = tmp_path / "world.toml"
    assert default_world.to_toml(f) == text
    assert f.read_text(encoding="utf-8") == text
    for src in (f, str(f)):
        w3 = gs.World.from_toml(src)
        assert w3 == default_world
    a = default_world.simulate(2_000, 24, seed=31)
    b = gs.World.from_toml(f).simulate(2_000, 24, seed=31)
    assert_bit_identical(a, b)


def test_a_correlation_pair_written_either_way_round_gives_an_equal_world(default_world):
    d = default_world.to_dict()
    rho = d["correlations"].pop("potash_spot")["global_equity"]
    d["correlations"]["global_equity"]["potash_spot"] = rho  # the pair the other way round
    d["correlations"] = dict(reversed(d["correlations"].items()))  # and the rows in another order
    w = gs.World.from_dict(d)
    assert w == default_world and hash(w) == hash(default_world) and w.to_dict() == default_world.to_dict()
    assert_bit_identical(w.simulate(500, seed=3), default_world.simulate(500, seed=3))
    # with_params replaces a pair written either way round (the default TOML writes this
    # one under the later factor)
    for path in ("correlations.middle_corridor_volume.bilateral_trade", "correlations.bilateral_trade.middle_corridor_volume"):
        changed = default_world.with_params({path: 0.3})
        assert changed.to_dict()["correlations"]["bilateral_trade"] == {"middle_corridor_volume": 0.3}
    with pytest.raises(gs.ConfigError, match="this pair is given twice"):
        default_world.with_params({"correlations.middle_corridor_volume.bilateral_trade": 0.3,
                                   "correlations.bilateral_trade.middle_corridor_volume": 0.3})


def test_dict_round_trip(default_world):
    d = default_world.to_dict()
    assert isinstance(d, dict) and set(d) >= {"world", "factors", "scenarios", "correlations", "derived"}
    w2 = gs.World.from_dict(d)
    assert w2.to_dict() == d
    assert w2 == default_world
    # the dict is a copy: changing it does not change the world
    d["scenarios"]["bear"]["potash_spot"]["theta"] = 1.0
    assert default_world.to_dict()["scenarios"]["bear"]["potash_spot"]["theta"] == 480.0
    assert_bit_identical(default_world.simulate(500, 6, seed=2), w2.simulate(500, 6, seed=2))


def test_worlds_and_simulations_pickle_and_deep_copy(default_world):
    # joblib, multiprocessing and notebook caches pickle them
    import copy
    import pickle

    changed = default_world.with_params({"scenarios.bear.potash_spot.theta": 610.0})
    for w in (default_world, changed):
        for back in (pickle.loads(pickle.dumps(w)), copy.deepcopy(w)):
            assert type(back) is gs.World and back == w and back is not w
    assert pickle.loads(pickle.dumps(changed)) != default_world
    sim = changed.simulate(500, seed=4, progress=False).reweight({"base": 0.5, "bull": 0.2, "bear": 0.3})
    for back in (pickle.loads(pickle.dumps(sim)), copy.deepcopy(sim)):
        assert back.world == changed and back.probabilities == sim.probabilities
        assert_bit_identical(back, sim)
        assert not any(back.paths(name).flags.writeable for name in sim.units)
        assert not back.scenario.flags.writeable
        pd.testing.assert_frame_equal(back.summary(), sim.summary())
        pd.testing.assert_frame_equal(back.risk_table(), sim.risk_table())


def test_markov_world_round_trips(markov_world):
    assert gs.World.from_toml(markov_world.to_toml()) == markov_world
    assert gs.World.from_dict(markov_world.to_dict()).to_dict() == markov_world.to_dict()
    a = markov_world.simulate(600, 12, seed=4)
    b = gs.World.from_toml(markov_world.to_toml()).simulate(600, 12, seed=4)
    assert_bit_identical(a, b)


finite = dict(allow_nan=False, allow_infinity=False)


@pytest.mark.filterwarnings(r"ignore:factor \S+. the long-run level theta")  # (extreme θ on purpose)
@settings(max_examples=30, deadline=None)
@given(
    theta=st.floats(1e-6, 1e12, **finite),
    sigma=st.floats(0.0, 10.0, **finite),
    kappa=st.floats(0.0, 1000.0, **finite),
    g=st.floats(-5.0, 5.0, **finite),
    p_bear=st.just(0.0) | st.floats(gs._core.MIN_PROBABILITY, 0.45, **finite),
    onset=st.tuples(st.integers(1, 1200), st.integers(0, 50)),
    desc=st.text(max_size=20),
)
def test_round_trip_property(default_world, theta, sigma, kappa, g, p_bear, onset, desc):
    w = default_world.with_params(
        {
            "scenarios.bear.potash_spot.theta": theta,
            "scenarios.bear.potash_spot.sigma": sigma,
            "scenarios.bull.potash_spot.kappa": kappa,
            "scenarios.bear.global_equity.g": g,
            "scenarios.bear.probability": p_bear,
            "scenarios.base.probability": 0.75 - p_bear,
            "scenarios.bull.onset": [onset[0], min(1200, onset[0] + onset[1])],
            "scenarios.bull.description": desc,
        }
    )
    w_toml = gs.World.from_toml(w.to_toml())
    w_dict = gs.World.from_dict(w.to_dict())
    assert w_toml.to_dict() == w.to_dict() == w_dict.to_dict()
    bear = w_toml.to_dict()["scenarios"]["bear"]
    assert bear["potash_spot"]["theta"] == theta and bear["potash_spot"]["sigma"] == sigma
    assert bear["global_equity"]["g"] == g
    assert w_toml.to_dict()["scenarios"]["bull"].get("description", "") == desc


def test_with_params_is_immutable_and_accepts_kwargs(default_world):
    w = default_world.with_params(
        {"scenarios.base.probability": 0.5}, scenarios__bear__probability=0.25, scenarios__bear__potash_spot__theta=520
    )
    assert w.probabilities == {"base": 0.5, "bull": 0.25, "bear": 0.25}
    assert w.to_dict()["scenarios"]["bear"]["potash_spot"]["theta"] == 520.0
    assert default_world.probabilities == {"base": 0.55, "bull": 0.25, "bear": 0.2}
    assert w != default_world
    assert default_world.with_params() == default_world
    # a row of a grid of parameters, indexed by path (NumPy values)
    grid = pd.DataFrame({"scenarios.base.probability": [0.5, 0.45], "scenarios.bear.probability": [0.25, 0.3],
                         "scenarios.bear.potash_spot.theta": [520, 480]})
    assert default_world.with_params(grid.iloc[0]) == w
    with pytest.raises(gs.ConfigError) as err:
        default_world.with_params(pd.Series([0.5, 0.4], index=["scenarios.base.probability"] * 2))
    assert err.value.path == "scenarios.base.probability" and str(err.value).endswith("is given twice")
    # a missing value of a nullable column is not a removal (Series.to_dict makes it None)
    row = grid.convert_dtypes().iloc[0].copy()
    row["scenarios.bear.potash_spot.theta"] = pd.NA
    with pytest.raises(gs.ConfigError, match="is missing") as err:
        default_world.with_params(row)
    assert err.value.path == "scenarios.bear.potash_spot.theta"


def test_a_missing_value_in_a_series_for_a_dict_is_named_as_missing(default_world):
    sim = default_world.simulate(300, seed=1, progress=False)
    probs = pd.Series({"base": 0.55, "bull": pd.NA, "bear": 0.2}, dtype="Float64")
    with pytest.raises(gs.ConfigError, match="<NA>") as err:
        sim.reweight(probs)
    assert err.value.path == "probabilities.bull"
    with pytest.raises(gs.ConfigError, match="<NA>") as err:
        gs.Strategy("x", pd.Series({"hk_equity": pd.NA}, dtype="Float64"))
    assert err.value.path == "strategies.x.weights.hk_equity"


def test_with_params_merges_a_table_into_the_one_at_its_path(default_world):
    bear = default_world.to_dict()["scenarios"]["bear"]["potash_spot"]
    w = default_world.with_params({"scenarios.bear.potash_spot": {"theta": 520}})
    assert w == default_world.with_params({"scenarios.bear.potash_spot.theta": 520})
    assert w.to_dict()["scenarios"]["bear"]["potash_spot"] == {**bear, "theta": 520.0}
    # nested tables too: the eurobond keeps its sanctions exposure and costs
    eurobond = default_world.to_dict()["assets"]["belarus_eurobond"]
    w = default_world.with_params({"assets.belarus_eurobond": {"betas": {"eurobond_price": 0.9}}})
    assert w.to_dict()["assets"]["belarus_eurobond"] == {**eurobond, "betas": {**eurobond["betas"], "eurobond_price": 0.9}}
    assert default_world.with_params({"thresholds": {}}) == default_world


def test_with_params_none_removes_a_key_or_a_table(default_world):
    d = default_world.to_dict()
    w = default_world.with_params({"scenarios.bear.potash_spot.lambda": None})
    expected = {k: v for k, v in d["scenarios"]["bear"]["potash_spot"].items() if k != "lambda"}
    assert w.to_dict()["scenarios"]["bear"]["potash_spot"] == expected
    # the removed parameter is inherited from the base scenario again
    assert w == gs.World.from_dict({**d, "scenarios": {**d["scenarios"], "bear": {
        **d["scenarios"]["bear"], "potash_spot": expected}}})
    # a correlation pair, named either way round; a row left empty goes with it
    a, row = next((a, row) for a, row in d["correlations"].items() if len(row) == 1)
    (b,) = row
    for key in (f"correlations.{a}.{b}", f"correlations.{b}.{a}"):
        w = default_world.with_params({key: None})
        assert w.correlations.loc[a, b] == w.correlations.loc[b, a] == 0.0
        assert a not in w.to_dict()["correlations"]
    # a row of pairs, and a pair of that row set the other way round in the same call
    w = default_world.with_params({f"correlations.{a}": None, f"correlations.{b}.{a}": 0.3})
    assert w.correlations.loc[a, b] == 0.3 and w.to_dict()["correlations"][a] == {b: 0.3}
    with pytest.raises(gs.ConfigError, match=f"is given twice \\(also removed with 'correlations.{a}'\\)"):
        default_world.with_params({f"correlations.{b}.{a}": None, f"correlations.{a}": None})
    with pytest.raises(gs.ConfigError, match="is not set in this world"):  # not in the row removed
        default_world.with_params({f"correlations.{a}": None, f"correlations.hk_equity.{a}": None})
    # a whole scenario, with the table that names it
    with pytest.warns(UserWarning, match="sanctions_exposure, which has no effect"):
        w = default_world.with_params(scenarios__bear=None, freeze=None, scenarios__base__probability=0.75)
    assert w.scenario_names == ["base", "bull"] and "freeze" not in w.to_dict()
    # converting to Markov regimes: the onsets go, and no warning is left
    markov = {"world.regimes": "markov", **{f"transitions.{s}.{s}": 1.0 for s in d["scenarios"]}}
    with pytest.warns(UserWarning, match="'scenarios.bull.onset': None, 'scenarios.bear.onset': None"):
        default_world.with_params(markov)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        default_world.with_params({**markov, "scenarios.bull.onset": None, "scenarios.bear.onset": None})
    # a world's warning is said when it is made, not again for its copies, its
    # simulations' pickles or the changes made to it that leave it standing
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        copy.deepcopy(w), pickle.loads(pickle.dumps(w)), pickle.loads(pickle.dumps(w.simulate(100, progress=False)))
        w.with_params({"scenarios.bull.potash_spot.theta": 500.0})
        w.with_strategies(gs.Strategy("s", {"hk_equity": 1.0}))
    with pytest.warns(UserWarning, match="scenarios bull have an onset"):  # a new one is said
        w.with_params({"world.regimes": "markov", "transitions.base.base": 1.0, "transitions.bull.bull": 1.0})


@pytest.mark.parametrize("path", ["scenarios.bull.nope", "scenarios.zzz.onset", "scenarios.base.onset",
                                  "correlations.potash_spot.hk_equity"])
def test_with_params_none_names_a_key_that_is_not_set(default_world, path):
    with pytest.raises(gs.ConfigError, match="is not set in this world") as err:
        default_world.with_params({path: None})
    assert err.value.path == path


def test_with_params_none_on_a_required_key_is_refused_by_validation(default_world):
    with pytest.raises(gs.ConfigError, match="is required") as err:
        default_world.with_params({"scenarios.bull.onset": None})
    assert err.value.path == "scenarios.bull.onset"


@pytest.mark.parametrize(
    "args, kwargs, path",
    [
        ([{"scenarios.bear.potash_spot.theta": 400}], {"scenarios__bear__potash_spot__theta": 500},
         "scenarios.bear.potash_spot.theta"),
        ([{"scenarios.bear.potash_spot": {"theta": 1}, "scenarios.bear.potash_spot.theta": 2}], {},
         "scenarios.bear.potash_spot.theta"),
        ([{"scenarios.bear.potash_spot.theta": 1, "scenarios.bear.potash_spot.theta.x": 2}], {},
         "scenarios.bear.potash_spot.theta"),
        ([{"world.horizon_months": 12, "world": {"horizon_months": 36}}], {}, "world.horizon_months"),
        ([{"scenarios.bear.potash_spot": {1: 2}}], {}, "scenarios.bear.potash_spot"),
        # a correlation pair named both ways round, set or removed
        ([{"correlations.potash_spot.global_equity": 0.1}], {"correlations__global_equity__potash_spot": 0.2},
         "correlations.global_equity.potash_spot"),
        ([{"correlations.potash_spot.global_equity": None, "correlations.global_equity.potash_spot": None}], {},
         "correlations.global_equity.potash_spot"),
    ],
)
def test_with_params_refuses_a_path_given_twice(default_world, args, kwargs, path):
    with pytest.raises(gs.ConfigError) as err:
        default_world.with_params(*args, **kwargs)
    assert err.value.path == path


@pytest.mark.parametrize("overrides", ["scenarios.bear.potash_spot.theta=5", [("scenarios.bear.probability", 0.3)], 3,
                                       {"": 1.0}, {3: 1.0}])
def test_with_params_refuses_overrides_that_are_not_a_mapping(default_world, overrides):
    with pytest.raises(gs.ConfigError) as err:
        default_world.with_params(overrides)
    assert err.value.path == "overrides"


def test_the_package_lists_its_public_names():
    names = dir(gs)
    assert set(gs.__all__) <= set(names) and "plot" in names and "annotations" not in names
    for name in gs.__all__:
        assert getattr(gs, name) is not None
    # what a public method returns is public too
    assert gs.StressResult is type(gs.backtest(gs.data.equities_daily()[["ntr_adj_close"]], {"ntr_adj_close": 1.0})
                                   .stress(gs.World.default(), {"ntr_adj_close": "fertilizer_producers"}, n_paths=100))
    calibrated = gs.World.default().calibrated(levels=gs.data.potash_monthly("2010-01", "2025-01"), jumps=False)
    assert gs.CalibratedWorld is type(calibrated)
    assert gs.BootstrapResult is type(calibrated.fits["potash"].bootstrap(10, progress=False))


# ============================================================================ world properties
def test_world_properties(default_world):
    w = default_world
    assert w.name == "belarus_china_2025"
    assert w.horizon_months == 24
    assert w.scenario_names == ["base", "bull", "bear"]
    assert w.probabilities == {"base": 0.55, "bull": 0.25, "bear": 0.20}
    assert list(w.units) == [
        "potash_spot", "contract_price", "bilateral_trade", "malaszewicze_trains", "middle_corridor_volume",
        "machinery_orders", "roadmap_projects_done", "digital_ruble_share", "eurobond_price", "global_equity",
        "hk_equity", "dislocation", "discount", "commodities_arbitrage", "infrastructure_beneficiaries",
        "technology_transfer", "direct_belarus",
    ]
    assert w.units["potash_spot"] == "USD/t" and w.units["discount"] == "fraction"
    # the factors alone: as many as the repr counts
    assert list(w.factors) == list(w.units)[:11] and "11 factors" in repr(w)
    assert w.factors == {k: w.units[k] for k in w.factors}
    assert w.kinds["potash_spot"] == "log_ou" and w.kinds["contract_price"] == "contract"
    assert w.kinds["eurobond_price"] == "logit_ou" and w.kinds["dislocation"] == "spread"
    assert w.kinds["roadmap_projects_done"] == "completion" and w.kinds["digital_ruble_share"] == "adoption"
    assert isinstance(gs.__version__, str) and gs.__version__


def test_world_header_accessors(default_world, markov_world):
    w = default_world.with_params({"world.start": "2023-11"})
    assert w.start == w.simulate(10, seed=0).months[0] == pd.Timestamp("2023-11-01")
    assert default_world.base_scenario == "base"
    # the base scenario, by name, when it is not the first
    d = default_world.to_dict()
    d["world"]["base_scenario"] = "bull"
    d["scenarios"]["base"]["onset"] = d["scenarios"]["bull"].pop("onset")
    assert gs.World.from_dict(d).base_scenario == "bull"
    assert w.description == default_world.to_dict()["world"]["description"] != ""
    assert default_world.regimes == "static" and default_world.transitions is None
    assert markov_world.regimes == "markov"
    t = markov_world.transitions
    assert list(t.index) == list(t.columns) == markov_world.scenario_names
    assert t.loc["bull", "bear"] == 0.05 and t.loc["bear", "bull"] == 0.0  # an entry not given is 0
    assert np.allclose(t.sum(axis=1), 1.0, atol=1e-12, rtol=0)


def test_a_correlation_matrix_and_series_are_config_tables(default_world):
    # the matrix World.correlations gives goes back in: from_dict reads its pairs
    w = default_world.with_params({"correlations.hk_equity.potash_spot": -0.3})
    d = w.to_dict()
    assert gs.World.from_dict({**d, "correlations": w.correlations}) == w
    assert w.with_params(correlations=w.correlations) == w  # zero pairs stay unwritten
    # with_params sets every pair of the matrix's factors (zeros included), the others kept
    r = w.correlations
    r.loc["potash_spot", "hk_equity"] = r.loc["hk_equity", "potash_spot"] = 0.0
    r.loc["potash_spot", "global_equity"] = r.loc["global_equity", "potash_spot"] = 0.25
    new = w.with_params(correlations=r)
    assert new.correlations.equals(r)
    part = r.loc[["potash_spot", "hk_equity"], ["potash_spot", "hk_equity"]]
    kept = w.with_params(correlations=part).correlations
    assert kept.loc["potash_spot", "hk_equity"] == 0.0 and kept.loc["global_equity", "hk_equity"] == 0.6
    # a scenario's parameters of a factor as a Series: from_dict reads it as the table,
    # with_params merges it key by key
    base = pd.Series(d["scenarios"]["base"]["potash_spot"])
    d2 = copy.deepcopy(d)
    d2["scenarios"]["base"]["potash_spot"] = base
    assert gs.World.from_dict(d2) == w
    merged = w.with_params({"scenarios.bear.potash_spot": pd.Series({"theta": 520.0})})
    assert merged.to_dict()["scenarios"]["bear"]["potash_spot"] == {**d["scenarios"]["bear"]["potash_spot"],
                                                                    "theta": 520.0}
    # what a matrix cannot be, named
    asym = r.copy()
    asym.loc["potash_spot", "hk_equity"] = 0.1
    with pytest.raises(gs.ConfigError, match="not symmetric: 0.1 here, 0.0") as err:
        gs.World.from_dict({**d, "correlations": asym})
    assert err.value.path == "correlations.potash_spot.hk_equity"
    diag = r.copy()
    diag.loc["hk_equity", "hk_equity"] = 0.9
    with pytest.raises(gs.ConfigError, match="diagonal") as err:
        w.with_params(correlations=diag)
    assert err.value.path == "correlations.hk_equity.hk_equity"
    with pytest.raises(gs.ConfigError, match="same factors") as err:
        gs.World.from_dict({**d, "correlations": r.iloc[:, :3]})
    assert err.value.path == "correlations"
    nan = r.copy()
    nan.loc["potash_spot", "hk_equity"] = nan.loc["hk_equity", "potash_spot"] = np.nan
    with pytest.raises(gs.ConfigError) as err:
        gs.World.from_dict({**d, "correlations": nan})
    assert err.value.path == "correlations.potash_spot.hk_equity"
    # a factor the world lacks is refused even where its correlations are all 0
    typo = pd.DataFrame(np.eye(2), index=["potash_spott", "hk_equity"], columns=["potash_spott", "hk_equity"])
    for build in (lambda m: gs.World.from_dict({**d, "correlations": m}), lambda m: w.with_params(correlations=m)):
        with pytest.raises(gs.ConfigError, match="is not a factor") as err:
            build(typo)
        assert err.value.path == "correlations.potash_spott"
        with pytest.raises(gs.ConfigError, match="must hold numbers") as err:
            build(r.astype(str))
        assert err.value.path == "correlations"
    with pytest.raises(gs.ConfigError, match="only as the correlation matrix") as err:
        gs.World.from_dict({**d, "scenarios": pd.DataFrame(d["scenarios"])})
    assert err.value.path == "scenarios"
    dup = pd.Series([0.3, 0.4], index=["probability", "probability"])
    with pytest.raises(gs.ConfigError, match="given twice") as err:
        gs.World.from_dict({**d, "scenarios": {**d["scenarios"], "bear": dup}})
    assert err.value.path == "scenarios.bear.probability"


def test_a_keyword_with_single_underscores_is_told_about_double_ones(default_world):
    with pytest.raises(gs.ConfigError, match="keywords use '__' for dots") as err:
        default_world.with_params(scenarios_base_probability=0.5)
    assert err.value.path == "scenarios_base_probability"
    for call in (lambda: default_world.with_params({"scenarios_base_probability": 0.5}),  # a path, not a keyword
                 lambda: default_world.with_params(foo=1)):  # no underscore to double
        with pytest.raises(gs.ConfigError) as err:
            call()
        assert "'__'" not in str(err.value)


def test_world_correlations_matrix(default_world):
    w = default_world.with_params({"correlations.hk_equity.potash_spot": -0.3})
    r = w.correlations
    shocked = [n for n, k in w.kinds.items() if k in ("log_ou", "logit_ou", "gbm")]
    assert list(r.index) == list(r.columns) == shocked
    assert "contract_price" not in r.index and "roadmap_projects_done" not in r.index
    assert (r.to_numpy() == r.to_numpy().T).all() and (np.diag(r) == 1.0).all()
    # every pair the config gives, under whichever factor it is written, and 0 elsewhere
    given = {(a, b): rho for a, row in w.to_dict()["correlations"].items() for b, rho in row.items()}
    assert given[("potash_spot", "hk_equity")] == -0.3
    for a in shocked:
        for b in shocked:
            if a != b:
                assert r.loc[a, b] == given.get((a, b), given.get((b, a), 0.0)), (a, b)
    # the matrix the simulation draws with: the sample correlation of the monthly log
    # returns of two GBM factors with no jumps is the configured one within 4 standard errors
    # (within one scenario: the scenarios' different drifts correlate the mixture)
    sim = w.simulate(20_000, seed=3)
    base = sim.scenario == 0
    x = np.diff(np.log(sim.paths("global_equity")[base]), axis=1)[:, 0]
    y = np.diff(np.log(sim.paths("hk_equity")[base]), axis=1)[:, 0]
    rho = r.loc["global_equity", "hk_equity"]
    se = (1 - rho**2) / np.sqrt(len(x))
    assert abs(np.corrcoef(x, y)[0, 1] - rho) < 4 * se


def test_a_simulation_is_subscripted_by_series_name(sim):
    for name in sim.units:
        assert name in sim and sim[name] is sim.paths(name)
    assert "nope" not in sim and 3 not in sim
    with pytest.raises(TypeError):
        iter(sim)
    for key in ("potash", 3, None):
        with pytest.raises(KeyError) as ei:
            sim[key]
        err = ei.value
        # the same error as paths(): a ConfigError naming `name`, its message unquoted
        assert isinstance(err, gs.ConfigError) and isinstance(err, gs.UnknownNameError) and err.path == "name"
        assert str(err).startswith(f"name: {key!r} is not a series (series: potash_spot, ")


def test_world_horizon_is_the_default_of_simulate(default_world):
    w = default_world.with_params({"world.horizon_months": 36, "world.start": "2024-01"})
    s = w.simulate(100, seed=0)
    assert s.horizon_months == 36 and s.paths("potash_spot").shape == (100, 37)
    assert s.months[0] == pd.Timestamp("2024-01-01") and s.months[-1] == pd.Timestamp("2027-01-01")


# ============================================================================ user-defined factors
USER_FACTOR = """

[factors.my_index]
kind = "gbm"
unit = "pts"
initial = 250.0
description = "my own index"

[correlations.my_index]
global_equity = 0.5

[scenarios.base.my_index]
g = 0.08
sigma = 0.10

[scenarios.bull.my_index]
g = 0.20
sigma = 0.12

[scenarios.bear.my_index]
g = -0.10
sigma = 0.25
onset_jump = -0.3
"""


def test_user_added_factor_in_a_toml_file(default_world, tmp_path):
    f = tmp_path / "my_world.toml"
    f.write_text(default_world.to_toml() + USER_FACTOR, encoding="utf-8")
    w = gs.World.from_toml(f)
    assert w.factors["my_index"] == "pts" and w.kinds["my_index"] == "gbm"
    sim = w.simulate(20_000, seed=17)
    assert sim.factors["my_index"] == "pts" and sim.units["my_index"] == "pts"
    base_names = list(default_world.units)
    assert list(sim.units) == [*base_names[:-6], "my_index", *base_names[-6:]]
    assert list(sim.factors) == [*default_world.factors, "my_index"]
    x = sim.paths("my_index")
    assert x.shape == (20_000, 25) and np.all(x[:, 0] == 250.0) and np.all(x > 0)
    names = sim.scenario_names
    base = sim.scenario == names.index("base")
    bull = sim.scenario == names.index("bull")
    # base paths: plain GBM with the base parameters
    assert_mean_close(x[base, -1], 250.0 * np.exp(0.08 * 2.0), "base E[X_T]")
    # bull paths: base growth before tau, bull growth after (no onset jump), so
    # E[X_T | tau] = X0 exp(g_base tau dt + g_bull (H - tau) dt)
    tau = sim.onset[bull]
    cond = 250.0 * np.exp(0.08 * tau * DT + 0.20 * (24 - tau) * DT)
    assert_mean_close(x[bull, -1] / cond, 1.0, "bull E[X_T / E[X_T | tau]]")
    # the correlation with global_equity shows in base monthly log increments
    r1 = np.diff(np.log(x[base]), axis=1).ravel()
    r2 = np.diff(np.log(sim.paths("global_equity")[base]), axis=1).ravel()
    rho = np.corrcoef(r1, r2)[0, 1]
    assert abs(rho - 0.5) <= N_SIGMA * (1 - 0.25) / np.sqrt(r1.size)
    # summary and the pandas view know it
    assert ("my_index", "all") in sim.summary().index
    assert "my_index" in sim.to_pandas(month=-1).columns
    # the file round-trips with the new factor
    assert gs.World.from_toml(w.to_toml()) == w


def test_user_world_from_scratch_with_derived_ratio(tmp_path):
    text = textwrap.dedent(
        """
        [world]
        name = "mine"
        start = "2030-01"
        horizon_months = 6

        [factors.a]
        kind = "gbm"
        unit = "USD"
        initial = 10.0

        [factors.b]
        kind = "log_ou"
        unit = "EUR"
        initial = 5.0

        [derived.a_over_b]
        kind = "ratio"
        of = ["a", "b"]
        unit = "USD/EUR"

        [scenarios.only]
        probability = 1.0
        a = { g = 0.0, sigma = 0.1 }
        b = { theta = 5.0, kappa = 1.0, sigma = 0.1 }
        """
    )
    w = gs.World.from_toml(text)
    assert w.name == "mine" and w.scenario_names == ["only"]
    s = w.simulate(50, seed=0)
    assert list(s.units) == ["a", "b", "a_over_b"]
    assert s.units == {"a": "USD", "b": "EUR", "a_over_b": "USD/EUR"}
    assert s.factors == {"a": "USD", "b": "EUR"}
    assert np.array_equal(s.paths("a_over_b"), s.paths("a") / s.paths("b"))
    assert str(s.months[0].date()) == "2030-01-01" and len(s.months) == 7
    assert s.counts == {"only": 50} and np.all(s.onset == -1) and s.regimes is None
    # no potash_spot: no default threshold
    assert s.summary()["threshold"].isna().all()


# ============================================================================ arrays
def test_paths_are_float64_c_contiguous_readonly_and_not_copied(sim):
    for name in sim.units:
        a = sim.paths(name)
        assert isinstance(a, np.ndarray)
        assert a.dtype == np.float64
        assert a.flags.c_contiguous
        assert a.shape == (sim.n_paths, sim.horizon_months + 1)
        assert sim.paths(name) is a, "repeated calls return the same object"
        assert not a.flags.writeable
        with pytest.raises(ValueError):
            a[0, 0] = 1.0
    assert sim.scenario.shape == (sim.n_paths,) and np.issubdtype(sim.scenario.dtype, np.integer)
    assert sim.onset.shape == (sim.n_paths,) and np.issubdtype(sim.onset.dtype, np.integer)
    assert not sim.scenario.flags.writeable and not sim.onset.flags.writeable
    assert not sim.weights.flags.writeable


def test_max_drawdown_is_read_only_so_the_risk_table_cannot_be_corrupted(sim):
    strat = next(iter(sim.world.strategies))
    before = sim.risk_table().loc[(strat, "all"), "max_drawdown"]
    dd = sim.max_drawdown(strat)
    assert not dd.flags.writeable
    with pytest.raises(ValueError):
        dd[:] = 0.0
    assert sim.risk_table().loc[(strat, "all"), "max_drawdown"] == before
    dd.copy()[:] = 0.0  # a copy is the caller's


def test_months_index(sim):
    m = sim.months
    assert isinstance(m, pd.DatetimeIndex)
    assert len(m) == sim.horizon_months + 1 == 25
    assert m[0] == pd.Timestamp("2025-06-01") and m[-1] == pd.Timestamp("2027-06-01")
    assert all(d.day == 1 for d in m)
    assert list(m) == list(pd.date_range("2025-06-01", periods=25, freq="MS"))
    assert m.name == "month"


def test_simulation_attributes(sim, default_world):
    assert sim.n_paths == 20_000 and sim.horizon_months == 24 and sim.seed == 0 and not sim.antithetic
    assert sim.world == default_world
    assert sim.scenario_names == default_world.scenario_names
    assert sim.factors == default_world.factors
    assert sim.probabilities == default_world.probabilities
    assert sim.elapsed >= 0
    assert sum(sim.counts.values()) == sim.n_paths
    with pytest.raises(TypeError):
        gs.Simulation()


def test_a_simulations_record_is_read_only(default_world):
    import pickle

    sim = default_world.simulate(1_000, seed=3, progress=False)
    for name, value in (("n_paths", 5), ("world", gs.World.default()), ("seed", 1), ("horizon_months", 3),
                        ("scenario", None), ("posterior", {}), ("qmc", True)):
        with pytest.raises(AttributeError, match=f"Simulation.{name} is read-only"):
            setattr(sim, name, value)
    assert sim.n_paths == 1_000 and sim.summary("potash_spot").attrs["n_paths"] == 1_000
    sim.note = "a user's own attribute"  # other names stay free
    back = pickle.loads(pickle.dumps(sim))
    assert back.note == sim.note and back.n_paths == 1_000


def test_progress_does_not_change_results(default_world, capsys):
    a = default_world.simulate(1_000, 6, seed=3, progress=False)
    b = default_world.simulate(1_000, 6, seed=3, progress=True)
    c = default_world.simulate(1_000, 6, seed=3, progress="auto")
    assert_bit_identical(a, b)
    assert_bit_identical(a, c)


# ============================================================================ pandas views
def test_a_scenario_of_one_path_has_no_spread_in_either_summary():
    world = gs.World.default()
    sim = world.simulate(3, seed=0, progress=False)  # one path per scenario
    table = sim.summary("potash_spot")
    assert (table.loc[("potash_spot", ["base", "bull", "bear"]), "std"] == 0.0).all()
    x = sim.paths("potash_spot")[:, -1]
    assert table.loc[("potash_spot", "all"), "std"] == pytest.approx(gs.stats.weighted_std(x, sim.weights), rel=1e-9)
    assert table.equals(world.simulate_summary(3, seed=0, series="potash_spot", progress=False).table)


def test_summary_layout(sim):
    s = sim.summary()
    assert list(s.index.names) == ["series", "scenario"]
    assert list(s.columns) == SUMMARY_COLUMNS
    assert list(s.index.get_level_values("series").unique()) == list(sim.units)
    assert len(s) == len(sim.units) * 4
    for name in sim.units:
        assert list(s.loc[name].index) == ["base", "bull", "bear", "all"]
        assert s.attrs["units"][name] == sim.units[name]
    assert list(s.attrs["units"]) == list(sim.units)
    assert (s.dtypes == np.float64).all()  # tables subtract: a reweighting's change
    change = sim.reweight({"base": 0.4, "bull": 0.2, "bear": 0.4}).summary() - s
    assert (change.xs("base", level="scenario")["mean"] == 0).all()  # per-scenario rows stay
    np.testing.assert_allclose(s.xs("all", level="scenario")["probability"], 1.0, rtol=1e-12)
    assert s.loc[("potash_spot", "all"), "threshold"] == 450.0
    assert s["threshold"].drop("potash_spot", level="series").isna().all()
    assert ((s["q05"] <= s["q50"]) & (s["q50"] <= s["q95"])).all()
    one = sim.summary("potash_spot", thresholds={"potash_spot": 500.0})
    assert list(one.index.get_level_values("series").unique()) == ["potash_spot"]
    x, w = sim.paths("potash_spot")[:, -1], sim.weights
    np.testing.assert_allclose(one.loc[("potash_spot", "all"), "p_above"], w[x > 500].sum(), rtol=1e-12)
    # a pandas Series of levels by series works as the dict does
    assert sim.summary("potash_spot", thresholds=pd.Series({"potash_spot": 500.0})).equals(one)
    two = sim.summary(["dislocation", "discount"])
    assert list(two.index.get_level_values("series").unique()) == ["dislocation", "discount"]


def test_to_pandas_long(sim):
    df = sim.to_pandas()
    n, w = sim.n_paths, sim.horizon_months + 1
    assert df.shape == (n * w, 3 + len(sim.units))
    assert list(df.columns) == ["scenario", "weight", "onset", *sim.units]
    assert df.attrs["units"] == sim.units
    assert list(df.index.names) == ["path", "month"]
    assert isinstance(df["scenario"].dtype, pd.CategoricalDtype)
    assert list(df["scenario"].cat.categories) == sim.scenario_names
    # row (path i, month t) holds paths[i, t]
    i, t = 12_345, 7
    row = df.loc[(i, sim.months[t])]
    assert row["potash_spot"] == sim.paths("potash_spot")[i, t]
    assert row["weight"] == sim.weights[i]
    assert row["scenario"] == sim.scenario_names[sim.scenario[i]]
    assert row["onset"] == sim.onset[i]
    assert np.array_equal(df["eurobond_price"].to_numpy().reshape(n, w), sim.paths("eurobond_price"))
    assert np.array_equal(df["onset"].to_numpy().reshape(n, w), np.repeat(sim.onset[:, None], w, axis=1))
    one = sim.to_pandas("potash_spot")
    assert one.shape == (n * w, 4)


def test_to_pandas_one_month(sim):
    df = sim.to_pandas(month=-1)
    assert df.shape == (sim.n_paths, 3 + len(sim.units))
    assert np.array_equal(df["onset"].to_numpy(), sim.onset) and df["onset"].dtype == np.int64
    assert df.attrs == {"month": "2027-06", "units": sim.units}
    assert df.index.name == "path"
    assert np.array_equal(df["potash_spot"].to_numpy(), sim.paths("potash_spot")[:, -1])
    assert np.array_equal(df["weight"].to_numpy(), sim.weights)
    assert list(df["scenario"].astype(str)) == [sim.scenario_names[k] for k in sim.scenario]
    a = sim.to_pandas(["potash_spot", "discount"], month="2026-06")
    assert list(a.columns) == ["scenario", "weight", "onset", "potash_spot", "discount"]
    assert np.array_equal(a["discount"].to_numpy(), sim.paths("discount")[:, 12])
    pd.testing.assert_frame_equal(sim.to_pandas("potash_spot", month=0), sim.to_pandas("potash_spot", month=-25))


def test_to_pandas_gives_the_regime_of_each_month_under_markov_regimes(markov_world):
    sim = markov_world.simulate(2_000, 12, seed=4, progress=False)
    names = sim.scenario_names
    at = sim.to_pandas("potash_spot", month=6)
    assert at.columns.tolist() == ["scenario", "weight", "regime", "potash_spot"]
    assert list(at["regime"].cat.categories) == names
    assert np.array_equal(at["regime"].cat.codes.to_numpy(), sim.regimes[:, 6])
    assert (at["regime"].astype(str) != at["scenario"].astype(str)).any()  # scenario is the month-0 regime
    long = sim.to_pandas("potash_spot")
    assert np.array_equal(long["regime"].cat.codes.to_numpy().reshape(sim.regimes.shape), sim.regimes)
    assert np.array_equal(long.xs(sim.months[0], level="month")["regime"].cat.codes.to_numpy(), sim.scenario)


# ============================================================================ reprs
def test_a_streamed_summary_shows_its_tables_in_a_notebook(default_world):
    res = default_world.simulate_summary(2_000, seed=1, progress=False)
    page = res._repr_html_()
    assert page.startswith(f"<p><code>SummaryResult(2,000 paths at 2027-06: {len(default_world.units)} series, 4 strategies")
    assert page.count("<table") == 2 and "potash_spot" in page and "direct_belarus" in page
    alone = default_world.simulate_summary(2_000, seed=1, series=["potash_spot"], progress=False)
    assert alone._repr_html_().count("<table") == 1 and "direct_belarus" not in alone._repr_html_()
    # mixes are counted as mixes, not as strategies
    mixed = default_world.simulate_summary(2_000, seed=1, series=[], progress=False,
                                           mixes={"m": {"direct_belarus": 1.0}})
    assert ": 0 series, 0 strategies, 1 mix, " in repr(mixed)
    # without a risk table (alpha=None) the strategies' NAVs are still series
    navs = default_world.simulate_summary(2_000, seed=1, alpha=None, progress=False)
    assert f": {len(default_world.units)} series, no risk table, " in repr(navs)
    assert ", 4 strategies, 1 mix, " in repr(pickle.loads(pickle.dumps(default_world.simulate_summary(
        2_000, seed=1, progress=False, mixes={"m": {"direct_belarus": 1.0}}))))
    # to_pandas is a copy to edit, as every to_pandas is: the result keeps its numbers
    df = alone.to_pandas()
    mean = alone.table.loc[("potash_spot", "all"), "mean"]
    df.loc[("potash_spot", "all"), "mean"] = -1.0
    df.attrs["units"]["potash_spot"] = "?"
    assert alone.table.loc[("potash_spot", "all"), "mean"] == mean and alone.table.attrs["units"]["potash_spot"] == "USD/t"
    # and so are its tables: an edit for display changes neither the result nor its repr
    text, table, risk = repr(res), res.table, res.risk
    table.loc[("potash_spot", "all"), "mean"] = -1.0
    risk["cvar"] = 0.0
    table.attrs["month"] = "?"
    assert table.loc[("potash_spot", "all"), "mean"] == -1.0  # the caller's copy did change
    assert res.table.loc[("potash_spot", "all"), "mean"] == res.to_pandas().loc[("potash_spot", "all"), "mean"] > 0
    assert (res.risk["cvar"] > 0).all() and res.table.attrs["month"] == "2027-06" and repr(res) == text


def test_a_world_shows_its_series_parameters_and_strategies_in_a_notebook(default_world):
    page = default_world._repr_html_()
    assert page.startswith(f"<p><code>{html.escape(repr(default_world))}</code></p><p>series</p>")
    assert page.count("<table") == 3 and page.endswith("<p>starts 2025-06, horizon 24 months</p>")
    # the parameter table is parameters() by scenario, rows and columns in config order
    section = page.split("<p>parameters by scenario</p>")[1].split("<p>strategies</p>")[0]
    cells = re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", section)
    assert cells[2:5] == default_world.scenario_names == ["base", "bull", "bear"]
    p = default_world.parameters()["value"]
    row = cells.index("potash_spot")  # first row: its factor, its first parameter, one value per scenario
    assert cells[row + 1:row + 5] == ["theta", *(f"{p.loc[(s, 'potash_spot', 'theta')]:g}" for s in cells[2:5])]
    # a world with one factor, no derived series and no strategies draws one parameter table
    tiny = gs.World.from_toml('[factors.x]\nkind = "gbm"\ninitial = 5.0\n'
                              '[scenarios.base]\nprobability = 1.0\nx = { g = 0.1, sigma = 0.2 }\n')
    page = tiny._repr_html_()
    assert page.count("<table") == 2 and "<p>strategies</p>" not in page and ">5</td>" in page


def test_a_markov_world_shows_its_regimes_and_transitions(default_world, markov_world):
    # its probabilities are those of the first month's regime, and paths move by the matrix
    starting = ", ".join(f"{k} {p:.0%}" for k, p in markov_world.probabilities.items())
    assert repr(markov_world).endswith(f"; Markov regimes, starting {starting})")
    assert "Markov" not in repr(default_world) and "transitions" not in default_world._repr_html_()
    page = markov_world._repr_html_()
    section = page.split("<p>monthly regime transitions (from row to column)</p>")[1].split("<p>strategies</p>")[0]
    cells = re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", section)
    t = markov_world.transitions
    row = cells.index(t.index[0], len(t.columns) + 2)  # past the header rows
    assert cells[row + 1:row + 1 + len(t.columns)] == [f"{v:g}" for v in t.iloc[0]]
    text = repr(markov_world.simulate(1_000, seed=1, progress=False)).splitlines()
    assert text[1].startswith("  starting regimes: ")


def test_simulations_allocations_backtests_and_stresses_draw_tables_in_a_notebook(sim, markov_world):
    def cells(page: str) -> list[str]:
        return re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", page)

    # a simulation: its run, then its scenarios' probabilities and paths, then its series
    page = sim._repr_html_()
    text = repr(sim)
    head = text.split("\n")[0]
    assert page.startswith(f"<p><code>{html.escape(head)})</code></p><p>scenarios:</p>"), page[:300]
    c = cells(page)
    for name, p, n in zip(sim.scenario_names, sim.probabilities.values(), sim._counts):
        at = c.index(name)
        assert c[at + 1:at + 3] == [f"{p:g}", str(n)]
    assert page.count("<table") == 1 and "<p>strategies: commodities_arbitrage, " in page
    post = sim.with_views([gs.View.mean("bilateral_trade", 9.5)], progress=False)
    page = post._repr_html_()
    assert "<p>posterior: 1 view (relative entropy " in page
    assert cells(page)[cells(page).index("bear") + 1] == f"{post.probabilities['bear']:g}"  # the posterior's
    assert "<p>starting regimes:</p>" in markov_world.simulate(500, seed=1, progress=False)._repr_html_()
    # an allocation: its figures, then every strategy's weight
    a = sim.allocate()
    page = a._repr_html_()
    assert page.startswith(f"<p><code>Allocation(E[return] {a.expected_return:.2%}, CVaR 95% {a.cvar:.2%}, "
                           f"VaR 95% {a.var:.2%})</code></p>")
    c = cells(page)
    assert [c[c.index(k) + 1] for k in a.weights.index] == [f"{v:.6g}" for v in a.weights]
    assert page.endswith(f"<p>solver: {html.escape(a.status)}</p>")
    # a backtest: its first line, its metrics and final weights, then the drawdown's dates
    px = gs.data.equities_daily("2019-01-01", "2021-12-31")[["ntr_adj_close", "spy_adj_close"]]
    res = gs.backtest(px, {"ntr_adj_close": 0.5, "spy_adj_close": 0.5}, rebalance="monthly")
    page = res._repr_html_()
    assert page.startswith(f"<p><code>{html.escape(repr(res).splitlines()[0])}</code></p>")
    c = cells(page)
    row = c.index("metrics")
    names = c[1:c.index("metrics")]
    assert names[:3] == ["cagr", "vol", "sharpe"] and c[row + 1:row + 1 + len(names)] == [
        f"{float(res.metrics[k]):.6g}" for k in names]
    final = c.index(f"final ({res.equity.index[-1].date()})")
    assert c[final + 1:final + 3] == [f"{v:.6g}" for v in res.weights.iloc[-1]]
    assert page.endswith(f"recovered {res.metrics['recovery_date'].date()}</p>") and "ruined" not in page
    # a stress: its position, then its summary by scenario
    st_ = res.stress(sim, {"ntr_adj_close": "fertilizer_producers", "spy_adj_close": "global_equity"})
    page = st_._repr_html_()
    assert page.startswith(f"<p><code>{html.escape(repr(st_).split(': mean ')[0])}</code></p>")
    c = cells(page)
    summary = st_.summary()
    at = c.index("all", c.index("scenario"))
    assert c[at + 1:at + 3] == [f"{v:.6g}" for v in summary.loc["all"].iloc[:2]]


def test_reprs(sim, default_world):
    r = repr(default_world)
    assert r.startswith("World(") and "belarus_china_2025" in r
    assert "11 factors" in r and "2 derived" in r
    assert "base 55%" in r and "bull 25%" in r and "bear 20%" in r
    s = repr(sim)
    assert s.startswith("Simulation(") and "belarus_china_2025" in s
    assert "20,000 paths" in s and f"× {sim.horizon_months} months," in s and sim.horizon_months == 24 and "seed=0" in s
    assert "base 55% (11,000)" in s and "bull 25% (5,000)" in s and "bear 20% (4,000)" in s
    assert "potash_spot" in s and "discount" in s
    assert "antithetic" in repr(default_world.simulate(10, 2, antithetic=True))
    rw = sim.reweight({"base": 0.5, "bull": 0.25, "bear": 0.25})
    assert "base 50% (11,000)" in repr(rw)
    odd = sim.reweight({"base": 0.125, "bull": 0.5, "bear": 0.375})  # not rounded to whole percents
    assert "base 12.5% (11,000)" in repr(odd) and "bear 37.5% (4,000)" in repr(odd)
    # a short leg shows, and the CVaR level as given
    short = gs.Allocation(pd.Series({"commodities_arbitrage": 1.5, "direct_belarus": -0.5}), 0.1, 0.2, 0.15, 0.975, "by hand")
    assert repr(short) == (
        "Allocation(E[return] 10.00%, CVaR 97.5% 20.00%; commodities_arbitrage 150.0%, direct_belarus -50.0%)"
    )
    assert repr(gs.Allocation(pd.Series({"direct_belarus": 0.0}), 0.0, 0.0, 0.0, 0.95, "by hand")).endswith(
        "; no position)"
    )
    assert "qmc" not in s and "posterior" not in s and "posterior" not in repr(rw)
    assert "seed=4, qmc\n" in repr(default_world.simulate(64, 2, seed=4, qmc=True))
    post = sim.with_views([gs.View.prob_above("potash_spot", 450, 0.3), gs.View.mean("bilateral_trade", 8.0)])
    entropy, effective = post.posterior["relative_entropy"], post.posterior["effective_scenarios"]
    assert f"\n  posterior: 2 views (relative entropy {entropy:.3g}, {effective:,.0f} effective scenarios)\n" in repr(post)
    # one line per part, at most 100 columns, the series grouped by kind in the world's order
    lines = s.splitlines()
    assert max(map(len, lines)) <= 100 and lines[1].startswith("  scenarios: base 55%")
    assert [ln.split(":")[0] for ln in lines if ln.startswith("  ") and not ln.startswith("   ")] == [
        "  scenarios", "  factors", "  derived", "  strategies"]
    assert "\n  derived: dislocation, discount\n" in s
    named = re.sub(r"^\s+(factors|derived|strategies): ", "", "\n".join(lines[2:]), flags=re.M)
    assert [t for t in re.split(r"[,\s]+", named.rstrip(")")) if t] == list(sim.units)
    # long names and a long run line stay within 100 columns, broken between entries only
    long = default_world.with_params({"world.name": "n" * 64}).with_strategies(
        gs.Strategy("x" * 60, {"hk_equity": 1.0}), gs.Strategy("y" * 8, {"hk_equity": 1.0}))
    text = repr(long.simulate(1_000, 2, seed=2**64 - 1, antithetic=True, progress=False))
    assert max(map(len, text.splitlines())) <= 100 and text.endswith("yyyyyyyy)")
    assert "  1,000 paths × 2 months, seed=18446744073709551615, antithetic\n" in text
    assert "  scenarios: base 55% (550), bull 25% (250), bear 20% (200)\n" in text


def test_report_text(sim):
    text = sim.report()
    assert "belarus_china_2025" in text and "potash_spot [USD/t]" in text and "P(>450" in text
    assert "2025-06 → 2027-06" in text
    assert all(len(line) <= 100 for line in text.splitlines())
    strategies = set(sim.world.strategies)
    for name in sim.units:
        if name in strategies:
            assert f"  {name} " in text  # a row of the strategy table
        else:
            assert f"{name} [" in text
    assert "mean–CVaR 95% allocation" in text
    # every strategy keeps its label when the first scenario has no weight
    text = sim.reweight({"base": 0.0, "bull": 0.5, "bear": 0.5}).report()
    for name in strategies:
        assert f"  {name} " in text
    assert "views:" not in text and "posterior" not in text
    # a posterior's report says which views made its weights
    post = sim.with_views([gs.View.mean("potash_spot", 420.0), gs.View.prob_above("bilateral_trade", 9.5, 0.4, op=">=")])
    head = post.report().splitlines()[4:6]
    assert head[0] == "views: E[potash_spot] == 420 at horizon; P(bilateral_trade > 9.5) >= 0.4 at horizon"
    assert head[1].startswith("  every figure is posterior (entropy pooling: relative entropy ")


def test_a_markov_report_says_its_scenario_rows_are_regimes_at_month_0(sim, markov_world):
    note = "Markov regimes: each path is counted, and its rows below grouped, under its regime at month 0"
    assert note not in sim.report()
    text = markov_world.simulate(2_000, seed=1, progress=False).report()
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("scenarios: "))
    assert lines[at + 1] == "  " + note and len(lines[at + 1]) <= 100


def report_table(text: str, series: str) -> list[str]:
    """A series' table in a report: its header and its rows (after the title and the line of
    standard errors)."""
    section = text[text.index(f"{series} ["):].split("\n\n")[0].splitlines()
    return section[next(i for i, line in enumerate(section) if line.startswith("  scenario ")):]


def test_report_columns_hold_long_names(default_world):
    d = default_world.to_dict()
    d["scenarios"]["corridor_closed_for_good"] = d["scenarios"].pop("bear")
    d["freeze"]["scenario"] = "corridor_closed_for_good"
    d["strategies"]["a_strategy_with_a_name_of_forty_chars_x"] = d["strategies"].pop("direct_belarus")
    text = gs.World.from_dict(d).simulate(2_000, seed=1, progress=False).report()
    lines = text.splitlines()
    assert max(map(len, lines)) <= 100
    block = report_table(text, "potash_spot")
    assert len({len(line) for line in block}) == 1  # header and rows end in the same column
    assert any(line.startswith("  corridor_closed_for_good ") for line in block)
    # the table from its header (after the title and the line of standard errors)
    strat = text[text.index("  strategy "):].split("\n\n")[0].splitlines()
    assert len({len(line) for line in strat}) == 1 and not any(line.endswith("…") for line in strat)
    assert any(line.startswith("  a_strategy_with_a_name_of_f… ") for line in strat)  # cut, not shifted


def test_report_probabilities_neither_0_nor_1_never_print_as_either():
    from geoscenario.report import _prob

    assert [_prob(p) for p in (0.0, 0.0004, 0.0005, 0.25, 0.9994, 0.9996, 1.0)] == [
        "0.0%", "<0.1%", "0.1%", "25.0%", "99.9%", ">99.9%", "100.0%"]


def test_report_columns_hold_numbers_of_any_size(default_world):
    from geoscenario.report import _fmt

    for x in (0.001234, -1.5, 352.25, 12_345.6, -9.99e8, 1e9, -2.5e15, 1e308, -1.5e308, 0.0, -0.25,
              0.0344, -0.00012345, 1.2e-9, -5e-300):
        assert len(_fmt(x)) <= 11, x  # one space between 12-character columns
        # three significant digits however small (a series near 0.001 printed as 0.001 throughout)
        assert float(_fmt(x).replace(",", "")) == pytest.approx(x, rel=5e-3, abs=1e-300)
    # a huge threshold keeps the header and every row of the table in their columns
    for t, label in ((1e308, "P(>1e+308)"), (-1.5e308, "P(>-1.5e+308)"), (2e8, "P(>2e+08)"), (450, "P(>450)"),
                     (4000.0, "P(>4000)"), (0.25, "P(>0.25)")):
        text = default_world.with_params({"thresholds.potash_spot": t}).simulate(500, seed=1).report()
        block = report_table(text, "potash_spot")
        assert block[0].endswith(" " + label)
        assert len(block) == 5 and len({len(line) for line in block}) == 1 and max(map(len, text.splitlines())) <= 100


def test_report_wraps_what_does_not_fit_a_line():
    d = {"factors": {"x": {"kind": "log_ou", "initial": 100.0}},
         "scenarios": {"base": {"probability": 0.5, "x": {"theta": 100.0, "kappa": 0.5, "sigma": 0.2}},
                       **{f"scenario_{i}": {"probability": 0.05, "onset": [1, 6]} for i in range(10)}}}
    sim = gs.World.from_dict(d).simulate(1_000, seed=0)
    text = sim.report()
    assert max(map(len, text.splitlines())) <= 100
    head = text[text.index("scenarios: "):].split("\n\n")[0]
    assert len(head.splitlines()) > 1  # wrapped, not cut
    for name, n in sim.counts.items():
        assert f"{name} 5% ({n} paths)" in head or f"{name} 50% ({n} paths)" in head
    assert "x at " in text and "[]" not in text  # no unit: no brackets
    one = gs.World.from_dict({**d, "scenarios": {"base": d["scenarios"]["base"] | {"probability": 1.0}}})
    text = one.simulate(1, seed=0, horizon_months=1).report()
    assert "horizon 1 month (" in text and "base 100% (1 path)" in text


def test_report_escapes_control_characters_of_names_and_units(default_world, capsys):
    # a config's strings may hold anything printable by repr: the report neither breaks
    # its lines nor sends a terminal's escape sequences
    w = default_world.with_params({"world.name": "ok\x1b[2J\x07", "factors.potash_spot.unit": "USD/t\nfake\r"})
    text = w.simulate(500, seed=1).report()
    plain = default_world.simulate(500, seed=1).report()
    assert all(line.isprintable() for line in text.splitlines())
    assert len(text.splitlines()) == len(plain.splitlines())
    assert text.startswith("geoscenario · ok\\x1b[2J\\x07\n") and "potash_spot [USD/t\\nfake\\r] at " in text
    # a unit cut to the line is cut after its escapes, and the month kept
    long = default_world.with_params({"factors.potash_spot.unit": "\x07" * 10 + "u" * 60})
    line = next(ln for ln in long.simulate(500, seed=1).report().splitlines() if ln.startswith("potash_spot ["))
    assert line.endswith("…] at 2027-06") and len(line) <= 100 and line.startswith("potash_spot [\\x07")
    # ... and never inside an escape, which would read as another character
    for n in range(68, 76):
        unit = "u" * n + "\x07" * 10
        line = next(ln for ln in default_world.with_params({"factors.potash_spot.unit": unit}).simulate(
            200, seed=1).report().splitlines() if ln.startswith("potash_spot ["))
        kept = line[len("potash_spot ["):-len("] at 2027-06")]
        assert kept.endswith("…") and any(kept[:-1] == gs._format.printable(unit[:m]) for m in range(n + 10)), kept


# ============================================================================ environment
@pytest.mark.parametrize(
    ("name", "value", "warned"),
    [
        ("GEOSCENARIO_SIMD", "avx3", True),
        ("GEOSCENARIO_SIMD", "AVX2", True),
        ("GEOSCENARIO_HUGE_PAGES", "yes", True),
        ("GEOSCENARIO_GATHERS", "on", True),
        ("GEOSCENARIO_GATHERS", "0", False),
        ("GEOSCENARIO_SIMD", "generic", False),
        ("GEOSCENARIO_SIMD", "avx512", False),
        ("GEOSCENARIO_HUGE_PAGES", "0", False),
        ("GEOSCENARIO_HUGE_PAGES", "", False),
    ],
)
def test_import_warns_about_an_ignored_environment_value(name, value, warned):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEOSCENARIO_")}
    p = subprocess.run(
        [sys.executable, "-W", "default", "-c", "import geoscenario"],
        capture_output=True, text=True, timeout=60, env={**env, name: value},
    )
    assert p.returncode == 0, p.stderr
    if warned:
        assert f"RuntimeWarning: {name}={value!r} is not one of" in p.stderr
    else:
        assert "RuntimeWarning" not in p.stderr


# ============================================================================ command line
def run_cli(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "geoscenario", *args], capture_output=True, text=True, timeout=timeout
    )


def test_cli_default_world():
    p = run_cli("--paths", "2000", "--seed", "1")
    assert p.returncode == 0, p.stderr
    assert "potash_spot" in p.stdout and "P(>450" in p.stdout
    assert "paths 2,000" in p.stdout and "seed 1" in p.stdout
    for scen in ("base", "bull", "bear", "all"):
        assert f"  {scen} " in p.stdout


def test_cli_is_reproducible_except_run_time():
    a = run_cli("--paths", "1000", "--seed", "5", "--horizon", "12", "--threads", "1")
    b = run_cli("--paths", "1000", "--seed", "5", "--horizon", "12", "--threads", "2", "--antithetic")
    c = run_cli("--paths", "1000", "--seed", "5", "--horizon", "12", "--threads", "2")
    assert a.returncode == b.returncode == c.returncode == 0
    strip = lambda s: [ln for ln in s.splitlines() if "run time" not in ln]  # noqa: E731
    assert strip(a.stdout) == strip(c.stdout)
    assert strip(a.stdout) != strip(b.stdout)
    assert "antithetic" in b.stdout and "horizon 12 months" in a.stdout
    q = run_cli("--paths", "1024", "--seed", "5", "--horizon", "12", "--qmc")
    assert q.returncode == 0, q.stderr
    assert "Sobol QMC" in q.stdout and strip(q.stdout) != strip(c.stdout)
    assert q.stderr == ""
    q = run_cli("--paths", "1000", "--seed", "5", "--horizon", "12", "--qmc")
    assert q.returncode == 0 and q.stderr.startswith(
        "geoscenario: warning: --qmc with --paths 1000, not a power of two"), q.stderr


def test_cli_config_file(default_world, tmp_path):
    f = tmp_path / "custom.toml"
    f.write_text(
        (default_world.to_toml() + USER_FACTOR).replace('name = "belarus_china_2025"', 'name = "my_custom_world"'),
        encoding="utf-8",
    )
    p = run_cli("--config", str(f), "--paths", "1000", "--seed", "2")
    assert p.returncode == 0, p.stderr
    assert "my_custom_world" in p.stdout and "my_index [pts]" in p.stdout and "P(>450" in p.stdout


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--paths", "0"], "--paths: must be an integer"),
        (["--paths", "-5"], "--paths: must be an integer"),
        (["--paths", "100", "--horizon", "5000"], "--horizon: must be an integer"),
        (["--paths", "100", "--threads", "0"], "--threads: must be an integer"),
        (["--paths", "101", "--antithetic"], "--paths: must be even with --antithetic"),
        (["--paths", "100", "--qmc", "--antithetic"], "--qmc: cannot be combined with --antithetic"),
        (["--paths", "1024", "--qmc", "--horizon", "1200"], "--horizon: with --qmc, horizon × shocks = 1200 × 8"),
        (["--paths", "100", "--month", "2030-01"], "--month: '2030-01' is not a simulated month (2025-06 … 2027-06)"),
        (["--paths", "100", "--horizon", "6", "--month", "7"], "--month: must be an integer in [-7, 6], got 7"),
        (["--paths", "100", "--alpha", "0.05"], "--alpha: is the confidence level, in [0.5, 1)"),
        (["--paths", "100", "--alpha", "nan"], "--alpha: must be a confidence level in [0.5, 1)"),
        (["--paths", "100", "--alpha", "5%"], "--alpha: must be a number, the confidence level in [0.5, 1)"),
        (["--paths", "100", "--month", "²"], "--month: '²' is not a month"),
        (["--paths", "100", "--month=--5"], "--month: '--5' is not a month"),
        (["--paths", "100", "--horizon", "5000", "--month", "2026-06"], "--horizon: must be an integer"),
    ],
)
def test_cli_bad_arguments_exit_2(args, needle):
    # the error names the flag the user typed, not the Python parameter behind it
    p = run_cli(*args)
    assert p.returncode == 2
    assert p.stdout == ""
    assert p.stderr.startswith(f"geoscenario: error: {needle}")


def test_cli_bad_config_exit_2(tmp_path, default_world):
    f = tmp_path / "bad.toml"
    f.write_text(default_world.to_toml().replace("sigma = 0.4\n", "sigma = -0.4\n", 1), encoding="utf-8")
    p = run_cli("--config", str(f), "--paths", "100")
    assert p.returncode == 2 and "scenarios.bear.potash_spot.sigma" in p.stderr
    p = run_cli("--config", str(tmp_path / "missing.toml"), "--paths", "100")
    assert p.returncode == 2 and p.stderr.startswith("geoscenario: error: --config: ") and "missing.toml' does not exist" in p.stderr
    p = run_cli("--paths", "many")
    assert p.returncode == 2 and "--paths" in p.stderr
    # a file that is no TOML is named, as the flag that gave it
    (tmp_path / "broken.toml").write_text("[world\nname = 1\n", encoding="utf-8")
    p = run_cli("--config", str(tmp_path / "broken.toml"), "--paths", "100")
    assert p.returncode == 2 and p.stderr.startswith(f"geoscenario: error: --config {tmp_path / 'broken.toml'}: "
                                                     "not valid TOML"), p.stderr
    # more paths than memory: the streamed summary is named
    p = run_cli("--paths", "1000000000")
    assert p.returncode == 2 and p.stderr.startswith("geoscenario: error: 1,000,000,000 paths"), p.stderr
    assert "World.simulate_summary streams the paths" in p.stderr and "Traceback" not in p.stderr


def test_cli_warnings_are_the_commands_own_lines(tmp_path, default_world, capsys):
    f = tmp_path / "late.toml"
    default_world.with_params({"scenarios.bear.onset": [30, 40]}).to_toml(f)
    p = run_cli("--config", str(f), "--paths", "1000")
    assert p.returncode == 0
    assert p.stderr.startswith("geoscenario: warning: scenario 'bear' starts in months 30–40"), p.stderr
    assert "runpy" not in p.stderr and "UserWarning" not in p.stderr
    # called from Python, main prints the same line and leaves the warning machinery as it was
    import warnings

    from geoscenario.__main__ import main
    before = warnings.showwarning
    assert main(["--config", str(f), "--paths", "1000"]) == 0
    assert capsys.readouterr().err.startswith("geoscenario: warning: scenario 'bear' starts in months 30–40")
    assert warnings.showwarning is before


def test_cli_interrupt_and_write_failures_are_one_line(monkeypatch, capsys):
    from geoscenario.__main__ import main

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(gs.World, "simulate", interrupted)
    try:
        code = main(["--paths", "1000"])
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C left main as a KeyboardInterrupt traceback")
    assert code == 130
    assert capsys.readouterr().err == "geoscenario: interrupted\n"
    monkeypatch.undo()
    if os.path.exists("/dev/full"):  # a full disk
        p = subprocess.run(f"{sys.executable} -m geoscenario --paths 1000 > /dev/full", shell=True,
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 1
        assert p.stderr == "geoscenario: error: cannot write the report: No space left on device\n", p.stderr
    # a reader that stops early (| head) ends the command quietly
    p = subprocess.run(f"{sys.executable} -m geoscenario --paths 1000 | head -1", shell=True,
                       capture_output=True, text=True, timeout=60)
    assert p.stdout == "geoscenario · belarus_china_2025\n" and "Traceback" not in p.stderr, p.stderr


# ============================================================================ regressions
def test_from_toml_path_with_equals_sign(default_world, tmp_path):
    f = tmp_path / "seed=1.toml"
    default_world.to_toml(f)
    assert gs.World.from_toml(str(f)) == default_world
    # a missing file whose path has an "=" (and no .toml ending) is named as a path
    missing = tmp_path / "a=1" / "thesis.cfg"
    with pytest.raises(gs.ConfigError, match=r"is neither a TOML file nor TOML text: .*thesis.cfg' does not exist") as e:
        gs.World.from_toml(str(missing))
    assert e.value.path == "source"
    with pytest.raises(gs.ConfigError, match="is neither a TOML file nor TOML text: 'seed=1.cfg' does not exist"):
        gs.World.from_toml("seed=1.cfg")  # a relative name
    for text in ("x = ", 'world.name = "a/b', "x = 1 / 2", '[world] name = "a/b"'):  # bad TOML stays that
        with pytest.raises(gs.ConfigError, match="not valid TOML") as e:
            gs.World.from_toml(text)
        assert e.value.path == "config", text
    # the parser's lines as it wrote them: the caret stands under the column it names
    with pytest.raises(gs.ConfigError, match="line 4, column 8") as e:
        gs.World.from_toml('[world]\nname = "x"\n[factors.a]\nkind = log_ou\n')
    lines = str(e.value).splitlines()
    quoted = next(line for line in lines if line.endswith("kind = log_ou"))
    caret = next(line for line in lines if "^" in line)
    assert caret.index("^") == quoted.index("log_ou")
    # a config on one huge line is not quoted whole, and the caret still stands under
    # the column: the lines are shown from shortly before it
    for text, bad in (("x = [" + "1, " * 50_000 + "oops]", "oops"), ('x = "' + "a" * 300 + '" y', "y")):
        with pytest.raises(gs.ConfigError, match="not valid TOML") as e:
            gs.World.from_toml(text)
        lines = str(e.value).splitlines()
        assert max(map(len, lines)) <= 260
        quoted = next(line for line in lines if line.startswith("1 | "))
        caret = next(line for line in lines if "^" in line)
        assert quoted[caret.index("^"):].startswith(bad)


def test_scenario_named_all_is_rejected_or_distinguishable():
    text = textwrap.dedent(
        """
        [factors.x]
        kind = "gbm"
        unit = "i"
        initial = 100.0
        [scenarios.base]
        probability = 0.5
        x = { g = 0.0, sigma = 0.2 }
        [scenarios.all]
        probability = 0.5
        onset = [1, 2]
        """
    )
    try:
        w = gs.World.from_toml(text)
    except gs.ConfigError as e:
        assert "scenarios.all" in str(e)
        return
    s = w.simulate(100, 2, seed=0).summary()
    assert s.index.is_unique


@pytest.mark.parametrize("name", ["weight", "scenario"])
def test_factor_named_like_a_to_pandas_column(name):
    text = textwrap.dedent(
        f"""
        [factors.{name}]
        kind = "gbm"
        unit = "i"
        initial = 100.0
        [scenarios.base]
        probability = 1.0
        {name} = {{ g = 0.0, sigma = 0.2 }}
        """
    )
    try:
        w = gs.World.from_toml(text)
    except gs.ConfigError as e:
        assert f"factors.{name}" in str(e)
        return
    s = w.simulate(10, 2, seed=0)
    df = s.to_pandas(month=-1)
    assert len(df.columns) == 3
    assert np.array_equal(df["weight"].to_numpy(), s.weights)


def test_too_few_paths_error_names_n_paths(default_world):
    with pytest.raises(gs.ConfigError, match="at least one path: need at least 3, got 2") as err:
        default_world.simulate(2, 2, seed=0)
    assert err.value.path == "n_paths" and "prior was 0" not in str(err.value)


# ============================================================================ arguments as users write them
def test_quantile_labels_name_the_level_computed(sim):
    levels = [np.float32(0.05), 0.4999999, 0.5, 0.999999999, 1.0]
    t = sim.summary("potash_spot", quantiles=levels)
    labels = ["q05", "q49.99999", "q50", "q99.9999999", "q100"]
    assert [c for c in t.columns if c.startswith("q")] == [c for q in labels for c in (q, f"{q}_se")]
    # a float32 level is its decimal value, as its label says
    same = sim.summary("potash_spot", quantiles=[0.05])
    assert t["q05"].equals(same["q05"])


def test_quantile_level_zero_is_the_minimum_and_labels_are_distinct(default_world, sim):
    levels = [0.0, 0.0001, 0.001, 0.12, 0.125, 0.5, 1.0]
    t = sim.summary("potash_spot", quantiles=levels)
    labels = ["q00", "q0.01", "q0.1", "q12", "q12.5", "q50", "q100"]
    assert [c for c in t.columns if c.startswith("q") and not c.endswith("_se")] == labels
    x, w, scen = sim.paths("potash_spot")[:, -1], sim.weights, sim.scenario
    for k, name in enumerate(sim.scenario_names):
        xs = x[scen == k]
        assert t.loc[("potash_spot", name), "q00"] == xs.min()
        assert t.loc[("potash_spot", name), "q100"] == xs.max()
        for q, lab in zip(levels, labels):
            assert t.loc[("potash_spot", name), lab] == gs.stats.weighted_quantile(xs, w[scen == k], q)
    streamed = default_world.simulate_summary(sim.n_paths, seed=sim.seed, series="potash_spot",
                                              quantiles=levels, progress=False)
    assert streamed.table[labels].equals(t[labels])
    assert sim.summary("potash_spot", quantiles=0.5).columns.tolist() == sim.summary(
        "potash_spot", quantiles=[0.5]).columns.tolist()
    for bad in ([0.5, 0.5], None, "0.5", [0.1, 2.0]):
        with pytest.raises(gs.ConfigError, match="quantiles"):
            sim.summary("potash_spot", quantiles=bad)


def test_weighted_statistics_take_series_by_position(sim):
    df = sim.to_pandas(["potash_spot"], month=-1)
    bear = df[df["scenario"] == "bear"].sort_values("potash_spot", ascending=False)
    x, w = bear["potash_spot"].to_numpy(), bear["weight"].to_numpy()
    assert gs.stats.weighted_quantile(bear["potash_spot"], bear["weight"], 0.5) == gs.stats.weighted_quantile(x, w, 0.5)
    assert gs.stats.weighted_std(list(x), list(w)) == gs.stats.weighted_std(x, w)
    assert gs.stats.prob_above(bear["potash_spot"], bear["weight"], 450.0) == gs.stats.prob_above(x, w, 450.0)
    for bad_w in (w[:-1], 1.0, np.ones((len(x), 1))):
        with pytest.raises(gs.ConfigError, match="length of x") as err:
            gs.stats.weighted_mean(x, bad_w)
        assert err.value.path == "w"
    with pytest.raises(gs.ConfigError, match="1-D") as err:
        gs.stats.weighted_mean(np.ones((2, 2)), np.ones((2, 2)))
    assert err.value.path == "x"


def test_months_are_indices_labels_or_dates(sim):
    ref = sim.summary("potash_spot", month=12)
    assert ref.attrs == {"month": "2026-06", "n_paths": sim.n_paths, "units": {"potash_spot": "USD/t"}}  # a table says which month it is
    assert sim.risk_table(0.99).attrs["alpha"] == 0.99
    for m in (sim.months[12], sim.months[12].to_pydatetime(), np.datetime64(sim.months[12], "D"),
              "2026-06", "2026-06-17", -13, pd.Period("2026-06", "M"), pd.Period("2026-06-17", "D")):
        assert sim.summary("potash_spot", month=m).equals(ref), m
    assert sim.to_pandas("potash_spot", month=sim.months[12]).equals(sim.to_pandas("potash_spot", month=12))
    for bad in ("2040-01", "June", pd.Timestamp("2000-01-01"), 2.5, 25, pd.Period("2026Q2"), pd.Period("2040-01", "M")):
        with pytest.raises(gs.ConfigError, match="month"):
            sim.summary("potash_spot", month=bad)


@pytest.mark.parametrize(("value", "says"), [
    ("02/01/2026", "does not start with the year"),  # pandas: February; a European: 2 January
    ("13/01/2026", "does not start with the year"),  # pandas: January (13 cannot be a month)
    ("1.2.26", "does not start with the year"),
    ("06/2026", "does not start with the year"),
    ("2026Q2", "is a quarter, not a month"),  # pandas: April
    ("2026-q2", "is a quarter, not a month"),
    ("2026-02-30", "is not a date: day is out of range for month"),  # February is simulated
    (np.datetime64("2026", "Y"), "spans more than one month"),  # pandas: January, as world.start refuses
])
def test_a_month_string_that_pandas_would_guess_is_refused(sim, value, says):
    for call in (lambda: sim.month_index(value), lambda: sim.summary("potash_spot", month=value),
                 lambda: sim.with_views(gs.View.mean("potash_spot", 400.0, month=value))):
        with pytest.raises(gs.ConfigError, match=re.escape(f"{value!r} {says}")) as e:
            call()
        assert e.value.path.endswith("month")
    # the same month written year first, or as a label or a date, is taken
    for fine in ("2026-06", "2026-06-02", "2026/06/02", "20260602", "June 2026", "2 June 2026"):
        assert sim.month_index(fine) == 12, fine


def test_names_of_series_and_strategies_are_checked(sim):
    for call, param in (
        (lambda: sim.summary([]), "series"),
        (lambda: sim.summary(5), "series"),
        (lambda: sim.summary(["potash_spot", "potash_spot"]), "series"),
        (lambda: sim.to_pandas(["nope"]), "series"),
        (lambda: sim.risk_table(strategies=["potash_spot"]), "strategies"),
        (lambda: sim.risk_table(strategies=[]), "strategies"),
        (lambda: sim.allocate(strategies=["direct_belarus", "direct_belarus"]), "strategies"),
    ):
        with pytest.raises(gs.ConfigError) as e:
            call()
        assert e.value.path == param
    one = sim.allocate(strategies="direct_belarus")  # one name, not its letters
    assert one.weights.index.tolist() == ["direct_belarus"]


def test_open_ended_progress_counts_and_closes_at_the_final_count(monkeypatch, capsys):
    """Newton iterations have a limit, not a total: a count per line in a log, no
    percentage, the engine's closing (limit, limit) call ignored, finish() at the count."""
    from geoscenario._progress import Progress

    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    bar = Progress("entropy pooling", delay=0.0, unit="Newton iterations", open_ended=True)
    for done in (0, 1, 1, 2):
        bar(done, 200)
    bar(200, 200)
    bar.finish(3)
    lines = capsys.readouterr().err.splitlines()
    assert [ln.split(": ")[1].split(" Newton")[0] for ln in lines] == ["0", "1", "2", "3"]
    assert "%" not in "".join(lines) and "200" not in "".join(lines)
    quiet = Progress("entropy pooling", delay=60.0, open_ended=True)  # a quick solve shows nothing
    quiet(1, 200)
    quiet(200, 200)
    quiet.finish(1)
    assert capsys.readouterr().err == ""


def test_progress_true_shows_even_a_run_that_ends_at_once(monkeypatch, capsys):
    from geoscenario._progress import Progress

    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    shown = Progress(delay=0.0)
    shown(1_000, 1_000)  # the only call of a quick run
    assert capsys.readouterr().err.strip() == "simulating: 100% (1,000/1,000 paths)"
    clock = itertools.count(10.0, 0.1)  # (a real clock can read a stalled machine's 1 s)
    monkeypatch.setattr("geoscenario._progress.time.perf_counter", lambda: next(clock))
    solve = Progress("entropy pooling", delay=0.0, unit="Newton iterations", open_ended=True)
    solve(200, 200)  # a solve quicker than the engine's first report: only its closing call
    solve.finish(4)
    assert capsys.readouterr().err.strip() == "entropy pooling: 4 Newton iterations (0 s)"
    monkeypatch.undo()
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    auto = Progress(delay=60.0)
    auto(1_000, 1_000)
    assert capsys.readouterr().err == ""


def test_frontier_progress_is_checked_and_changes_nothing(default_world):
    sim = default_world.simulate(2_000, seed=5, progress=False)
    a = sim.efficient_frontier(n_points=4, progress=False)
    b = sim.efficient_frontier(n_points=4, progress=True)
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(gs.ConfigError) as e:
        sim.efficient_frontier(n_points=4, progress="always")
    assert e.value.path == "progress"


def test_with_views_progress_is_checked_and_changes_nothing(default_world):
    sim = default_world.simulate(2_000, seed=5, progress=False)
    view = gs.View.prob_above("potash_spot", 400, 0.4)
    a = sim.with_views(view, progress=False)
    b = sim.with_views(view, progress=True)
    assert np.array_equal(a.weights, b.weights)
    with pytest.raises(gs.ConfigError) as e:
        sim.with_views(view, progress="yes")
    assert e.value.path == "progress"


def test_a_posteriors_statistics_count_their_quantities_on_a_progress_line(default_world, monkeypatch, capsys):
    # a posterior's errors are computed over every path for one quantity at a time: at a
    # million paths its summary takes seconds, and shows the quantities done
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # the plain line
    sim = default_world.simulate(2_000, seed=5, progress=False)
    post = sim.with_views(gs.View.prob_above("potash_spot", 400, 0.4), progress=False)
    capsys.readouterr()
    quiet = post.summary(["potash_spot", "bilateral_trade"], progress=False), post.risk_table(progress=False)
    assert capsys.readouterr().err == ""
    shown = post.summary(["potash_spot", "bilateral_trade"], progress=True), post.risk_table(progress=True)
    err = capsys.readouterr().err
    # (a quantity: a value per path, a series' or a strategy's return or drawdown)
    assert "summarising:   0% (0/2 quantities)" in err and "summarising: 100% (2/2 quantities)" in err
    assert len(re.findall(r"summarising: 100% \((\d+)/\1 quantities\)", err)) == 2
    for a, b in zip(quiet, shown):
        pd.testing.assert_frame_equal(a, b)
    # a report of the posterior passes its choice on
    assert post.report(progress=False) == post.report(progress=True)
    err = capsys.readouterr().err
    assert err.count("summarising: 100%") == 2 and post.report(progress=False) and capsys.readouterr().err == ""
    # a prior's are the core's, at once: "auto" shows nothing
    sim.summary()
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("bad", [1, 0, 1.0, "yes", "", None, [True]])
def test_progress_takes_auto_or_a_bool_only(default_world, bad):
    """1 and 0 equal True and False in Python, but are not accepted as them."""
    sim = default_world.simulate(300, seed=1, progress=np.True_)  # a NumPy bool is a bool
    for call in (
        lambda: default_world.simulate(300, seed=1, progress=bad),
        lambda: default_world.simulate_summary(300, seed=1, progress=bad),
        lambda: sim.with_views(gs.View.prob_above("potash_spot", 400, 0.4), progress=bad),
        lambda: sim.efficient_frontier(n_points=3, progress=bad),
        lambda: sim.summary(progress=bad),
        lambda: sim.risk_table(progress=bad),
        lambda: sim.report(progress=bad),
    ):
        with pytest.raises(gs.ConfigError) as e:
            call()
        assert e.value.path == "progress"


def test_plain_progress_in_a_log_writes_a_line_per_quarter(monkeypatch, capsys):
    from geoscenario._progress import Progress

    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # as if tqdm were not installed
    bar = Progress(delay=0.0)
    for done in range(0, 1_001, 10):
        bar(done, 1_000)
    lines = capsys.readouterr().err.splitlines()
    assert [ln.split(":")[1].split("%")[0].strip() for ln in lines] == ["0", "25", "50", "75", "100"]
    assert "\r" not in "".join(lines)


def test_an_interrupted_call_ends_its_progress_line(monkeypatch, capsys):
    from geoscenario import _progress

    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    monkeypatch.setattr(_progress, "_is_terminal", lambda stream: True)  # a line rewritten in place
    with pytest.raises(KeyboardInterrupt):
        with _progress.guard(_progress.Progress(delay=0.0)) as bar:
            bar(250, 1_000)
            raise KeyboardInterrupt
    err = capsys.readouterr().err
    assert err == "\rsimulating:  25% (250/1,000 paths)\n"  # the traceback starts on a line of its own
    done = _progress.Progress(delay=0.0)
    with _progress.guard(done) as bar:  # a call that ends well leaves nothing to close
        bar(1_000, 1_000)
    assert capsys.readouterr().err == "\rsimulating: 100% (1,000/1,000 paths)\n"


def test_a_display_that_cannot_write_does_not_fail_the_run(default_world):
    # no stderr (pythonw, a service) or a closed one: the run completes, its bits unchanged
    child = textwrap.dedent("""
        import sys, numpy as np, geoscenario as gs
        w = gs.World.default()
        ref = w.simulate(3_000, seed=2, progress=False)
        for stderr in (None, open(__import__("os").devnull, "w")):
            if stderr is not None:
                stderr.close()
            sys.stderr = stderr
            for run in (lambda: w.simulate(3_000, seed=2, progress=True),
                        lambda: w.simulate_summary(3_000, seed=2, progress=True)):
                got = run()
            assert np.array_equal(w.simulate(3_000, seed=2, progress=True).paths("potash_spot"),
                                  ref.paths("potash_spot"))
            post = ref.with_views(gs.View.mean("potash_spot", 400.0), progress=True)
            ref.efficient_frontier(n_points=3, progress=True)
        print("OK")
    """)
    p = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and p.stdout.strip() == "OK", p.stdout + p.stderr


def test_a_callback_that_raises_cancels_the_work():
    # the error comes back at once, the workers cancelled (not run to the end holding the
    # GIL): after the raise, the process uses a small part of the CPU time of a whole run
    world = gs.World.default()
    core, n = world._core, 400_000
    run = lambda cb: core.simulate(n, 24, 0, False, 1, int(gs._core.DEFAULT_CHUNK), 0, n, cb, False)  # noqa: E731
    run(None)  # the first run also maps its output memory: time the second
    c0 = time.process_time()
    run(None)
    full = time.process_time() - c0
    raised_at: list[tuple[int, float]] = []

    def fail(done, total):
        raised_at.append((done, time.process_time()))
        raise ValueError("display broke")

    with pytest.raises(ValueError, match="display broke"):
        run(fail)
    after = time.process_time() - raised_at[0][1]
    if raised_at[0][0] >= n:  # a machine that ends the run before its first report (0.1 s)
        pytest.skip("the run ended before the engine's first progress report")
    assert len(raised_at) == 1  # raised once, mid-run
    assert after < 0.25 * full, (after, full)


# ---------------------------------------------------------------------------- warnings
def _warnings_of(fn) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [w for w in caught if issubclass(w.category, UserWarning)]


def test_a_scenario_that_cannot_start_within_the_horizon_is_warned_about(default_world):
    # bull starts in months 3..12: a 2-month run never leaves the base scenario on its paths
    for run in (
        lambda: default_world.simulate(200, 2, seed=0, progress=False),
        lambda: default_world.simulate_summary(200, 2, seed=0, progress=False),
    ):
        (w,) = _warnings_of(run)
        assert "'bull' starts in months 3–12, after the 2-month horizon" in str(w.message)
        assert w.filename == __file__  # attributed to the caller's line
    assert _warnings_of(lambda: default_world.simulate(200, 3, seed=0, progress=False)) == []
    sim = default_world.simulate(300, 2, seed=0, progress=False)
    bull = sim.scenario_names.index("bull")
    assert np.all(sim.onset[sim.scenario == bull] > 2)  # what the warning says
    # zero probability: no paths, nothing to warn about
    quiet = default_world.with_params(
        {"scenarios.bull.probability": 0.0, "scenarios.base.probability": 0.8}
    )
    assert _warnings_of(lambda: quiet.simulate(200, 2, seed=0, progress=False)) == []
    # a run refused (an odd count of antithetic paths) says why, and warns about nothing
    for run in (default_world.simulate, default_world.simulate_summary):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(gs.ConfigError, match="must be even"):
                run(201, 2, seed=0, antithetic=True, progress=False)
        assert caught == []


def test_a_sanctions_exposure_without_a_freeze_is_warned_about(default_world):
    d = default_world.to_dict()
    del d["freeze"]
    (w,) = _warnings_of(lambda: gs.World.from_dict(d))
    exposed = [a for a, s in d["assets"].items() if s.get("sanctions_exposure", 0) > 0]
    assert exposed and f"assets {', '.join(exposed)} have a sanctions_exposure" in str(w.message)
    assert w.filename == __file__
    for a in exposed:
        d["assets"][a]["sanctions_exposure"] = 0.0
    assert _warnings_of(lambda: gs.World.from_dict(d)) == []
    assert _warnings_of(gs.World.default) == []


def test_views_that_leave_few_effective_paths_are_warned_about(default_world):
    sim = default_world.simulate(4_000, seed=3, progress=False)
    # a "25% return" written as a NAV of 0.25: a 75% loss, far in the tail
    (w,) = _warnings_of(lambda: sim.with_views(gs.View.mean("commodities_arbitrage", 0.25)))
    assert re.search(r"effective paths \([\d.]+ by Kish's count\), against 4,000 \(4,000\) in the prior",
                     str(w.message))
    assert "commodities_arbitrage is a NAV (1 at month 0)" in str(w.message)
    post = sim.with_views(gs.View.mean("commodities_arbitrage", 1.01))
    assert post.posterior["effective_scenarios"] > 0.01 * 4_000
    assert _warnings_of(lambda: sim.with_views(gs.View.mean("commodities_arbitrage", 1.01))) == []


def test_sibling_methods_take_strategies_in_the_same_place(sim):
    pair = ["commodities_arbitrage", "direct_belarus"]
    a = sim.allocate(0.9, pair)
    assert list(a.weights.index) == pair and a.weights.equals(sim.allocate(0.9, strategies=pair).weights)
    assert list(sim.risk_table(0.9, pair).index.get_level_values(0).unique()) == pair
    assert len(sim) == sim.n_paths


def test_one_row_per_path_frames_say_their_month(sim):
    df = sim.to_pandas("potash_spot", month=-1)
    assert df.attrs["month"] == f"{sim.months[-1]:%Y-%m}"
    assert sim.to_pandas("potash_spot", month="2026-01").attrs["month"] == "2026-01"


def test_reprs_and_messages_in_plain_english(default_world):
    one = gs.World.from_dict({**default_world.to_dict(), "strategies": {
        "s": {"weights": {"global_equity": 1.0}}}})
    assert "1 strategy;" in repr(one) and "4 strategies;" in repr(default_world)
    sim = default_world.simulate(500, seed=0, progress=False)
    with pytest.raises(gs.ConfigError, match=r"in \[0\.5, 1\)"):
        sim.risk_table(alpha=95)


# ---------------------------------------------------------------- thresholds in the config
def test_summary_thresholds_come_from_the_worlds_config():
    world = gs.World.default()
    assert world.thresholds == {"potash_spot": 450.0}
    sim = world.simulate(2_000, seed=3, progress=False)
    row = sim.summary("potash_spot").loc[("potash_spot", "all")]
    x = sim.paths("potash_spot")[:, -1]
    assert row["threshold"] == 450.0
    assert row["p_above"] == pytest.approx(float(sim.weights @ (x > 450.0)), rel=1e-12)
    # a world that declares none reports none, whatever its series are called
    bare = gs.World.from_dict({k: v for k, v in world.to_dict().items() if k != "thresholds"})
    assert bare.thresholds == {}
    assert bare.simulate(500, seed=1, progress=False).summary("potash_spot")["p_above"].isna().all()
    # any series, derived series and strategy NAVs included, through overrides and TOML
    more = world.with_params({"thresholds.dislocation": -25, "thresholds.direct_belarus": 1.0})
    assert more.thresholds == {"potash_spot": 450.0, "dislocation": -25.0, "direct_belarus": 1.0}
    assert gs.World.from_toml(more.to_toml()).thresholds == more.thresholds
    names = ["dislocation", "direct_belarus", "bilateral_trade"]
    table = more.simulate(1_000, seed=2, progress=False).summary(names)
    assert table.xs("all", level="scenario")["threshold"].tolist()[:2] == [-25.0, 1.0]
    assert np.isnan(table.loc[("bilateral_trade", "all"), "threshold"])
    assert more.simulate_summary(1_000, seed=2, series=names, progress=False).table.equals(table)
    # a call's own thresholds replace the config's; {} asks for none
    assert sim.summary("potash_spot", thresholds={})["p_above"].isna().all()


@pytest.mark.parametrize(
    "toml, path",
    [
        ('[thresholds]\nnope = 1.0', "thresholds.nope"),
        ('[thresholds]\nspot = inf', "thresholds.spot"),
        ('[thresholds]\nspot = "450"', "thresholds.spot"),
        ('thresholds = 450.0', "thresholds"),
    ],
)
def test_bad_config_thresholds_are_named(toml, path):
    text = f"""{toml}
[factors.spot]
kind = "log_ou"
unit = "USD/t"
initial = 350.0
[scenarios.base]
probability = 1.0
spot = {{ theta = 350.0, kappa = 0.5, sigma = 0.2 }}
"""
    with pytest.raises(gs.ConfigError) as err:
        gs.World.from_toml(text)
    assert err.value.path == path


def test_the_report_explains_its_tail_column(default_world):
    text = default_world.simulate(2_000, seed=1, progress=False).report()
    legend = "  tail: the scenario's share of the overall CVaR tail (the worst 5% of outcomes)\n"
    assert legend in text and text.index(legend) < text.index("P(loss)    tail")


def test_cli_json_holds_the_reports_tables(default_world, capsys):
    import json

    from geoscenario.__main__ import main

    assert main(["--paths", "2000", "--seed", "3", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    sim = default_world.simulate(2_000, seed=3, progress=False)
    assert (doc["paths"], doc["seed"], doc["month"], doc["qmc"]) == (2_000, 3, "2027-06", False)
    assert doc["scenarios"]["bear"] == {"probability": 0.2, "paths": 400}
    strategies = list(default_world.strategies)
    summary = pd.DataFrame(doc["summary"]).set_index(["series", "scenario"]).astype(float)
    want = sim.summary([s for s in sim.units if s not in strategies])
    pd.testing.assert_frame_equal(summary, want, check_exact=True, check_names=True, check_flags=False)
    risk = pd.DataFrame(doc["risk"]).set_index(["strategy", "scenario"]).astype(float)
    pd.testing.assert_frame_equal(risk, sim.risk_table(0.95), check_exact=True)
    assert doc["summary"][4]["threshold"] is None  # NaN (contract_price has none) as null
    assert (doc["alpha"], doc["start"]) == (0.95, "2025-06")
    a = sim.allocate(0.95)
    assert doc["allocation"] == {"weights": {k: float(v) for k, v in a.weights.items()},
                                 "expected_return": a.expected_return, "var": a.var, "cvar": a.cvar}
    assert main(["--paths", "2000", "--seed", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == doc  # no run time: the same document


def test_cli_reports_at_the_month_and_level_asked_for(default_world, capsys):
    import json

    from geoscenario.__main__ import main

    sim = default_world.simulate(2_000, seed=3, progress=False)
    assert main(["--paths", "2000", "--seed", "3", "--month", "2026-06", "--alpha", "0.99"]) == 0
    text = capsys.readouterr().out
    strip = lambda s: [ln for ln in s.splitlines() if "run time" not in ln]  # noqa: E731
    assert strip(text.removesuffix("\n")) == strip(sim.report(month=12, alpha=0.99))  # (print's newline)
    assert "potash_spot [USD/t] at 2026-06" in text and "at 2027-06" not in text.split("strategies:")[0]
    assert "strategies: return to 2026-06 (NAV − 1), VaR/CVaR 99% of the loss" in text
    assert "(the worst 1% of outcomes)" in text
    assert "  of the returns to the horizon, 2027-06" in text  # allocate's are to the horizon
    assert max(len(ln) for ln in sim.report(month=3, alpha=0.9999999).splitlines()) <= 100
    # the figures are those of the month: the bear row of the spot's table at month 12
    bear = sim.summary("potash_spot", month=12).loc[("potash_spot", "bear")]
    row = next(ln for ln in text.split("potash_spot [USD/t]")[1].splitlines() if ln.startswith("  bear"))
    assert row.split()[1:4] == [f"{bear['mean']:.1f}", f"{bear['q05']:.1f}", f"{bear['q50']:.1f}"]
    assert main(["--paths", "2000", "--seed", "3", "--month", "12", "--alpha", "0.99", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["month"], doc["alpha"]) == ("2026-06", 0.99)
    risk = pd.DataFrame(doc["risk"]).set_index(["strategy", "scenario"]).astype(float)
    pd.testing.assert_frame_equal(risk, sim.risk_table(0.99, month=12), check_exact=True)
    assert main(["--paths", "2000", "--seed", "3", "--month", " +12 ", "--alpha", " 0.99"]) == 0
    assert strip(capsys.readouterr().out.removesuffix("\n")) == strip(sim.report(month=12, alpha=0.99))
    assert main(["--paths", "2000", "--seed", "3", "--month", "-1"]) == 0
    assert strip(capsys.readouterr().out.removesuffix("\n")) == strip(sim.report())  # -1: the horizon


def test_cli_a_summary_that_overflows_is_a_one_line_error(tmp_path, capsys):
    from geoscenario.__main__ import main

    # growth of e^(5·100) a path: its values overflow the summary's sums of squares
    f = tmp_path / "huge.toml"
    f.write_text(textwrap.dedent("""
        [world]
        name = "huge"
        horizon_months = 1200
        [factors.px]
        kind = "gbm"
        initial = 1e12
        [scenarios.a]
        probability = 1.0
        px = { g = 5, sigma = 0.5 }
    """))
    for extra in ([], ["--json"]):
        assert main(["--config", str(f), "--paths", "100", *extra]) == 2
        err = capsys.readouterr().err
        assert err.startswith("geoscenario: error: px:") and err.count("\n") == 1 and "Traceback" not in err


def test_a_unit_too_long_for_a_title_is_cut_not_the_month(default_world):
    toml = default_world.to_toml().replace('unit = "trains/day"', f'unit = "{"u" * 90}"')
    text = gs.World.from_toml(toml).simulate(2_000, seed=1, progress=False).report()
    title = next(line for line in text.splitlines() if line.startswith("malaszewicze_trains ["))
    assert title.endswith("…] at 2027-06") and len(title) == 100
