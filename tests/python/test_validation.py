"""MODEL.md §7 validation: every bad parameter is a ConfigError (a ValueError)
whose message names the dotted parameter path; oversized requests are a
ResourceError (a MemoryError) refused before allocating."""

from __future__ import annotations

import datetime
import difflib
import math
import re
import resource
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import geoscenario as gs

NUMPY2 = int(np.__version__.split(".")[0]) >= 2
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
DEFAULT = gs.World.default()


def assert_config_error(excinfo, path: str) -> None:
    err = excinfo.value
    assert isinstance(err, gs.ConfigError)
    assert isinstance(err, ValueError) and isinstance(err, gs.GeoscenarioError)
    msg = str(err)
    assert path in msg, f"{path!r} not in {msg!r}"
    assert msg.startswith(path + ":"), msg
    assert err.path == path
    assert len(msg) > len(path) + 3, "the message also states the rule"


def raises_at(path: str, fn, *args, **kwargs) -> gs.ConfigError:
    with pytest.raises(gs.ConfigError) as ei:
        fn(*args, **kwargs)
    assert_config_error(ei, path)
    return ei.value


def invalid_floats(lo: float, hi: float, *, open_lo: bool = False, open_hi: bool = False):
    """Floats (with NaN and ±inf) that break lo <= v <= hi (or the open variants)."""

    def bad(v: float) -> bool:
        if not math.isfinite(v):
            return True
        return v < lo or v > hi or (open_lo and v == lo) or (open_hi and v == hi)

    return st.floats(allow_nan=True, allow_infinity=True).filter(bad)


def valid_floats(lo: float, hi: float, *, open_lo: bool = False, open_hi: bool = False):
    return st.floats(min_value=lo, max_value=hi, exclude_min=open_lo, exclude_max=open_hi, allow_nan=False)


# ============================================================================ per-parameter rules
# (dotted path in the default world, lo, hi, open_lo, open_hi) — the rules of MODEL.md §3 / the schema
RULES = [
    ("scenarios.bear.potash_spot.sigma", 0.0, 10.0, False, False),
    ("scenarios.base.potash_spot.kappa", 0.0, 1000.0, False, False),
    ("scenarios.bull.potash_spot.theta", 0.0, 1e12, True, False),
    ("scenarios.bear.potash_spot.lambda", 0.0, 120.0, False, False),
    ("scenarios.bear.potash_spot.mu_j", -5.0, 5.0, False, False),
    ("scenarios.bear.potash_spot.sigma_j", 0.0, 5.0, False, False),
    ("scenarios.bear.potash_spot.onset_jump", -10.0, 10.0, False, False),
    ("scenarios.bear.bilateral_trade.sigma", 0.0, 10.0, False, False),
    ("scenarios.base.machinery_orders.g", -5.0, 5.0, False, False),
    ("scenarios.bull.hk_equity.sigma", 0.0, 10.0, False, False),
    ("scenarios.bear.eurobond_price.kappa", 0.0, 1000.0, False, False),
    ("scenarios.bear.roadmap_projects_done.h", 0.0, 1.0, False, False),
    ("scenarios.bull.digital_ruble_share.s_max", 0.0, 1.0, False, False),
    ("scenarios.bear.contract_price.discount", -1.0, 1.0, False, True),
    ("factors.potash_spot.initial", 0.0, 1e12, True, False),
    ("factors.global_equity.initial", 0.0, 1e12, True, False),
    ("factors.contract_price.noise", 0.0, 1.0, False, False),
    ("factors.digital_ruble_share.rate", 0.0, 100.0, False, False),
    ("factors.digital_ruble_share.noise", 0.0, 1.0, False, False),
    ("correlations.global_equity.hk_equity", -1.0, 1.0, False, False),
]


@pytest.mark.parametrize("path, lo, hi, open_lo, open_hi", RULES, ids=[r[0] for r in RULES])
def test_invalid_number_raises_config_error_naming_path(path, lo, hi, open_lo, open_hi):
    @SETTINGS
    @given(v=invalid_floats(lo, hi, open_lo=open_lo, open_hi=open_hi))
    @example(v=float("nan"))
    @example(v=float("inf"))
    @example(v=float("-inf"))
    def check(v):
        raises_at(path, DEFAULT.with_params, {path: v})

    check()


@pytest.mark.parametrize("path, lo, hi, open_lo, open_hi", RULES[:8] + RULES[11:14], ids=[r[0] for r in RULES[:8] + RULES[11:14]])
@pytest.mark.filterwarnings(r"ignore:factor \S+. the long-run level theta")  # (extreme θ on purpose)
def test_valid_numbers_are_accepted(path, lo, hi, open_lo, open_hi):
    @settings(max_examples=25, deadline=None)
    @given(v=valid_floats(lo, hi, open_lo=open_lo, open_hi=open_hi))
    def check(v):
        w = DEFAULT.with_params({path: v})
        node = w.to_dict()
        for part in path.split("."):
            node = node[part]
        assert node == v

    check()


@SETTINGS
@given(v=invalid_floats(0.0, 10.0))
@example(v=float("nan"))
def test_invalid_sigma_in_toml_text(v):
    """The same rule through TOML text (nan/inf are TOML literals)."""
    lit = "nan" if math.isnan(v) else ("inf" if v == math.inf else "-inf" if v == -math.inf else repr(v))
    text = DEFAULT.to_toml()
    marker = "[scenarios.bear.potash_spot]\n"
    assert marker in text
    head, tail = text.split(marker, 1)
    tail = re.sub(r"(?m)^sigma = .*$", f"sigma = {lit}", tail, count=1)
    with pytest.raises(gs.ConfigError) as ei:
        gs.World.from_toml(head + marker + tail)
    assert_config_error(ei, "scenarios.bear.potash_spot.sigma")


@SETTINGS
@given(p=invalid_floats(0.0, 1.0))
def test_probability_outside_unit_interval(p):
    raises_at("scenarios.bear.probability", DEFAULT.with_params, {"scenarios.bear.probability": p})


@pytest.mark.parametrize("path, value, hint", [
    ("scenarios.bear.probability", 20, "0.2"),
    ("scenarios.bear.potash_spot.sigma", 35, "0.35"),
    ("scenarios.base.global_equity.g", 80, "0.8"),
    ("scenarios.base.global_equity.g", -30, "-0.3"),
    ("scenarios.bear.probability", 33.3, "0.333"),
    ("scenarios.bear.potash_spot.kappa", 2000, None),  # κ's bound is wide: no guess
    ("assets.hk_heavy_equipment.vol", 30, "0.3"),
    ("scenarios.bear.probability", 1.5, None),  # not a percent
    ("correlations.potash_spot.global_equity", 40, "0.4"),
    ("correlations.potash_spot.global_equity", -35, "-0.35"),
    ("scenarios.bear.probability", 250, None),
])
def test_a_percent_where_a_fraction_belongs_gets_the_fraction_as_a_hint(path, value, hint):
    with pytest.raises(gs.ConfigError) as ei:
        DEFAULT.with_params({path: value})
    assert ei.value.path == path
    if hint is None:
        assert "did you mean" not in str(ei.value)
    else:
        assert str(ei.value).endswith(f"got {value}; did you mean {hint}? (a fraction, not a percent: 0.3 is 30%)")


@SETTINGS
@given(p=(st.just(0.0) | st.floats(gs._core.MIN_PROBABILITY, 1.0)).filter(lambda p: abs(p - 0.2) > 1e-6))
def test_probabilities_not_summing_to_one(p):
    with pytest.raises(gs.ConfigError) as ei:
        DEFAULT.with_params({"scenarios.bear.probability": p})
    msg = str(ei.value)
    assert "probability" in msg and "sum to 1" in msg
    assert ei.value.path == "scenarios.*.probability"


def test_probabilities_summing_to_one_within_tolerance_accepted():
    w = DEFAULT.with_params({"scenarios.bear.probability": 0.2 + 5e-10})
    assert w.probabilities["bear"] == pytest.approx(0.2 + 5e-10)
    raises_at("scenarios.*.probability", DEFAULT.with_params, {"scenarios.bear.probability": 0.2 + 2e-9})


@SETTINGS
@given(v=invalid_floats(0.0, 1.0))
def test_markov_transition_probability_rules(v):
    base = {
        "world.regimes": "markov",
        "transitions.base.base": 0.9,
        "transitions.base.bear": 0.1,
        "transitions.bull.bull": 1.0,
        "transitions.bear.bear": 1.0,
        "scenarios.bull.onset": None,  # Markov regimes have no onset
        "scenarios.bear.onset": None,
    }
    DEFAULT.with_params(base)  # valid
    raises_at("transitions.base.bull", DEFAULT.with_params, {**base, "transitions.base.bull": v})


def test_markov_transition_rows_must_sum_to_one_and_be_complete():
    base = {"world.regimes": "markov", "transitions.bull.bull": 1.0, "transitions.bear.bear": 1.0}
    raises_at("transitions.base", DEFAULT.with_params, {**base, "transitions.base.base": 0.9})
    raises_at("transitions.base", DEFAULT.with_params, base)  # missing row
    raises_at("transitions.base.nope", DEFAULT.with_params, {**base, "transitions.base.base": 1.0, "transitions.base.nope": 0.0})
    raises_at("transitions.nope", DEFAULT.with_params, {**base, "transitions.base.base": 1.0, "transitions.nope.base": 1.0})
    raises_at("transitions", DEFAULT.with_params, {"world.regimes": "markov"})
    # transitions are only allowed in Markov mode
    raises_at("transitions", DEFAULT.with_params, {"transitions.base.base": 1.0})


# ============================================================================ correlations
def test_non_psd_correlation_is_rejected():
    text = textwrap.dedent(
        """
        [factors.a]
        kind = "gbm"
        unit = "i"
        initial = 1.0
        [factors.b]
        kind = "gbm"
        unit = "i"
        initial = 1.0
        [factors.c]
        kind = "gbm"
        unit = "i"
        initial = 1.0
        [correlations.a]
        b = 0.9
        c = -0.9
        [correlations.b]
        c = 0.9
        [scenarios.base]
        probability = 1.0
        a = { g = 0.0, sigma = 0.1 }
        b = { g = 0.0, sigma = 0.1 }
        c = { g = 0.0, sigma = 0.1 }
        """
    )
    with pytest.raises(gs.ConfigError) as ei:
        gs.World.from_toml(text)
    assert_config_error(ei, "correlations")
    assert str(ei.value).endswith('not positive semi-definite: the correlations of "a", "b" and "c" '
                                  "(0.9, -0.9 and 0.9) cannot hold together")
    # the same matrix with a consistent sign is fine
    gs.World.from_toml(text.replace("c = -0.9", "c = 0.9"))


def test_non_psd_correlation_in_default_world():
    raises_at(
        "correlations",
        DEFAULT.with_params,
        {
            "correlations.potash_spot.global_equity": 0.9,
            "correlations.potash_spot.hk_equity": -0.9,
            "correlations.global_equity.hk_equity": 0.9,
        },
    )


def test_a_correlation_set_impossible_with_two_others_names_the_three():
    # potash and trade perfectly correlated must correlate alike with every other factor:
    # the message names the three factors whose correlations conflict, not the factor
    # where the factorisation of the whole matrix happens to fail
    pairs = DEFAULT.correlations
    with pytest.raises(gs.ConfigError) as ei:
        DEFAULT.with_params({"correlations.potash_spot.bilateral_trade": 1.0})
    assert ei.value.path == "correlations"
    names = re.search(r'correlations of "(\w+)", "(\w+)" and "(\w+)" \(([-\d.e]+), ([-\d.e]+) and ([-\d.e]+)\)',
                      str(ei.value))
    assert names is not None, str(ei.value)
    a, b, c = names.group(1, 2, 3)
    assert {"potash_spot", "bilateral_trade"} <= {a, b, c}
    other = ({a, b, c} - {"potash_spot", "bilateral_trade"}).pop()
    assert pairs.loc["potash_spot", other] != pairs.loc["bilateral_trade", other]
    got = [float(x) for x in names.group(4, 5, 6)]
    want = [1.0 if {x, y} == {"potash_spot", "bilateral_trade"} else pairs.loc[x, y] for x, y in ((a, b), (a, c), (b, c))]
    assert got == want


def test_correlation_structure_errors():
    raises_at("correlations.nope", DEFAULT.with_params, {"correlations.nope.potash_spot": 0.1})
    raises_at("correlations.potash_spot.nope", DEFAULT.with_params, {"correlations.potash_spot.nope": 0.1})
    raises_at("correlations.potash_spot.potash_spot", DEFAULT.with_params, {"correlations.potash_spot.potash_spot": 0.5})
    raises_at(
        "correlations.potash_spot.roadmap_projects_done",
        DEFAULT.with_params,
        {"correlations.potash_spot.roadmap_projects_done": 0.1},
    )
    # the same pair given in both orders in one config (with_params replaces it instead)
    d = DEFAULT.to_dict()
    d["correlations"]["hk_equity"] = {"global_equity": 0.6}
    raises_at("correlations.hk_equity.global_equity", gs.World.from_dict, d)
    raises_at("correlations.potash_spot.global_equity", DEFAULT.with_params, {"correlations.potash_spot.global_equity": "0.1"})


# ============================================================================ unknown names and keys
@pytest.mark.parametrize(
    "path",
    [
        "bogus",
        "world.bogus",
        "factors.potash_spot.bogus",
        "factors.contract_price.theta",
        "scenarios.bear.potash_spot.bogus",
        "scenarios.bear.potash_spot.g",  # a gbm parameter on a log_ou factor
        "scenarios.base.global_equity.theta",  # a log_ou parameter on a gbm factor
        "scenarios.bear.not_a_factor",
        "derived.dislocation.bogus",
    ],
)
def test_unknown_key_anywhere(path):
    value = {"theta": 1.0} if path == "scenarios.bear.not_a_factor" else 1.0
    raises_at(path, DEFAULT.with_params, {path: value})


def test_a_parameter_in_the_wrong_table_says_where_it_belongs():
    err = raises_at("factors.potash_spot.theta", DEFAULT.with_params, {"factors.potash_spot.theta": 300.0})
    assert str(err).endswith("is a per-scenario parameter of a log_ou factor, not a key of the factor: give it "
                             "in the scenarios' tables, as [scenarios.base.potash_spot] theta = ... (the other "
                             "scenarios inherit the base's value unless they set their own)")
    # named after the world's base scenario
    calm = DEFAULT.to_toml().replace('"base"', '"calm"').replace("scenarios.base", "scenarios.calm")
    with pytest.raises(gs.ConfigError, match=r"as \[scenarios\.calm\.contract_price\] discount = "):
        gs.World.from_toml(calm.replace("[factors.contract_price]\n", "[factors.contract_price]\ndiscount = 0.1\n"))
    # a base_scenario that names no scenario (its own error comes later): the first is named
    with pytest.raises(gs.ConfigError, match=r"as \[scenarios\.base\.potash_spot\] theta = "):
        gs.World.from_toml(DEFAULT.to_toml().replace('base_scenario = "base"', 'base_scenario = "baes"')
                           .replace("[factors.potash_spot]\n", "[factors.potash_spot]\ntheta = 300.0\n"))
    err = raises_at("scenarios.bear.potash_spot.initial", DEFAULT.with_params,
                    {"scenarios.bear.potash_spot.initial": 300.0})
    assert str(err).endswith("; initial is a key of the factor itself, the same in every scenario: give it in "
                             "[factors.potash_spot]")
    # a key that belongs nowhere gets no such hint
    err = raises_at("scenarios.bear.potash_spot.bogus", DEFAULT.with_params, {"scenarios.bear.potash_spot.bogus": 1.0})
    assert "key of the factor itself" not in str(err)


def test_a_level_in_another_unit_is_warned_of_once():
    # θ in cents against an initial level in dollars, a contract's price in another unit than
    # its spot's: valid numbers, silently simulated
    with pytest.warns(UserWarning, match=r"factor potash_spot: the long-run level theta \(bear 35200\) differs "
                                         r"from the initial level 352 by a factor of more than 30: .*\(USD/t\)"):
        cents = DEFAULT.with_params({"scenarios.bear.potash_spot.theta": 35200.0})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cents.with_params({"scenarios.bear.probability": 0.3, "scenarios.base.probability": 0.45})  # said once
        DEFAULT.with_params({"scenarios.bear.potash_spot.theta": 352.0 * 29})  # within the ratio
        DEFAULT.with_params({"factors.contract_price.initial": 352.0 * 2.9})
    with pytest.warns(UserWarning, match="the initial contract price 3520 is 10 times its underlying potash_spot's"):
        DEFAULT.with_params({"factors.contract_price.initial": 3520.0})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # θ is any placeholder where κ is 0
        DEFAULT.with_params({f"scenarios.{s}.potash_spot.kappa": 0.0 for s in DEFAULT.scenario_names}
                            | {"scenarios.base.potash_spot.theta": 1.0})
    # a calibration that warned of the series' unit does not warn of it again as the world's
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        DEFAULT.calibrated(gs.data.potash_monthly("2010-01", "2025-01"), factor="bilateral_trade", jumps=False)
    units = [str(w.message) for w in caught if "another unit" in str(w.message)]
    assert len(units) == 1 and units[0].startswith("bilateral_trade: its initial level, 8.1,"), units


def test_a_bad_onset_month_is_quoted():
    err = raises_at("scenarios.bear.onset", DEFAULT.with_params, {"scenarios.bear.onset": [0, 12]})
    assert str(err).endswith("months must be integers in [1, 1200], got 0")


@pytest.mark.parametrize(
    ("key", "table", "existing"),
    [
        ("scenarios.baer.potash_spot.theta", "scenarios.baer", "base, bull, bear"),
        ("scenarios.baer.probability", "scenarios.baer", "base, bull, bear"),
        ("factors.potash_spto.sigma", "factors.potash_spto", "potash_spot, contract_price"),
        ("strategies.direct_belaru.cost_bps", "strategies.direct_belaru", "direct_belarus"),
        # complete without more: a new asset used by nothing, a new strategy's series
        ("assets.fertiliser_producers.betas.potash_spot", "assets.fertiliser_producers", "fertilizer_producers"),
        ("strategies.direct_belaruss.weights.belarus_eurobond", "strategies.direct_belaruss", "direct_belarus"),
    ],
)
def test_a_misspelled_name_is_named_as_not_in_the_world(key, table, existing):
    # a path into a name the world lacks, close to one it has, is a misspelling, whether
    # or not the new table it would start is complete: the error names it, the name
    # meant and the existing ones
    with pytest.raises(gs.ConfigError) as err:
        DEFAULT.with_params({key: 1.0})
    assert err.value.path == table
    kind, name = table.split(".")
    meant = difflib.get_close_matches(name, existing.split(", "), n=1)[0]
    assert str(err.value).startswith(f"{table}: {name!r} is not a")
    assert f"of this world: did you mean {meant!r}? ({kind}: " in str(err.value)
    assert existing in str(err.value)
    assert f"give its whole table: with_params({{{table!r}: {{...}}}})" in str(err.value)
    # the same through a keyword
    with pytest.raises(gs.ConfigError, match="is not a"):
        DEFAULT.with_params(**{key.replace(".", "__"): 1.0})


def test_a_new_table_is_added_whole_or_by_paths_unlike_any_name():
    # given as a table, a new asset or strategy is added, even with a name close to
    # another's; by paths, with a name unlike any; an incomplete one is named with what
    # it lacks
    w = DEFAULT.with_params({"assets.fertilizer_producer": {"betas": {"potash_spot": 0.5}, "vol": 0.2}},
                            strategies={"new_strategy": {"weights": {"fertilizer_producer": 1.0}}})
    assert list(w.assets)[-1] == "fertilizer_producer" and list(w.strategies)[-1] == "new_strategy"
    assert w.simulate(50, seed=0, progress=False).paths("new_strategy").shape == (50, w.horizon_months + 1)
    w = DEFAULT.with_params({"strategies.short_equity.weights.global_equity": -1.0})
    assert list(w.strategies)[-1] == "short_equity"
    # two new names alike are compared with the world's names, not with each other
    w = DEFAULT.with_params({"assets.emerging_a.betas.potash_spot": 0.3, "assets.emerging_b.betas.potash_spot": 0.3})
    assert list(w.assets)[-2:] == ["emerging_a", "emerging_b"]
    # a misspelling inside a table given higher up is one too
    for typo in ({"assets": {"fertiliser_producers": {"betas": {"potash_spot": 0.3}}}},
                  {"assets.fertiliser_producers.betas": {"potash_spot": 0.3}}):
        err = raises_at("assets.fertiliser_producers", DEFAULT.with_params, typo)
        assert "did you mean 'fertilizer_producers'?" in str(err)
    err = raises_at("assets.fertiliser_producers", DEFAULT.with_params,
                    assets={"fertiliser_producers": {"betas": {"potash_spot": 0.3}}})
    with pytest.raises(gs.ConfigError) as err:
        DEFAULT.with_params({"scenarios.baer": {"potash_spot": {"theta": 1.0}}})
    assert err.value.path == "scenarios.baer" and "a new one needs more" in str(err.value)
    assert "is required" in str(err.value)


def test_a_keyword_that_cannot_name_a_name_with_double_underscores_says_so():
    w = DEFAULT.with_params({"strategies.lev__x": {"weights": {"belarus_eurobond": 1.0}},
                             "factors.tail_": {"kind": "gbm", "unit": "x", "initial": 1.0},
                             "scenarios.base.tail_": {"g": 0.0, "sigma": 0.1}})
    hint = "a keyword reads every '__' as a dot and cannot name {}: give the dotted path in a dict instead"
    err = raises_at("strategies.lev.x", w.with_params, strategies__lev__x__cost_bps=5)
    assert str(err).endswith(hint.format("'lev__x'"))
    err = raises_at("scenarios.base.tail", w.with_params, scenarios__base__tail___g=0.1)
    assert str(err).endswith(hint.format("'tail_'"))
    # a misspelling that no such name explains gets no hint; the dotted path works
    assert "a keyword reads" not in str(raises_at("scenarios.base.potsh", w.with_params, scenarios__base__potsh__g=0.1))
    assert w.with_params({"scenarios.base.tail_.g": 0.1}).parameters().loc[("base", "tail_", "g"), "value"] == 0.1


def test_unknown_names_in_references():
    raises_at("world.base_scenario", DEFAULT.with_params, {"world.base_scenario": "nope"})
    raises_at("factors.contract_price.underlying", DEFAULT.with_params, {"factors.contract_price.underlying": "nope"})
    raises_at(
        "factors.contract_price.underlying",
        DEFAULT.with_params,
        {"factors.contract_price.underlying": "roadmap_projects_done"},
    )
    raises_at("derived.dislocation.of", DEFAULT.with_params, {"derived.dislocation.of": ["potash_spot", "nope"]})
    raises_at("derived.dislocation.kind", DEFAULT.with_params, {"derived.dislocation.kind": "product"})
    # a discount divides by its first factor, a ratio by its second: never by a count or a share
    for kind, of in (("discount", ["digital_ruble_share", "potash_spot"]), ("ratio", ["potash_spot", "roadmap_projects_done"])):
        raises_at("derived.x.of", DEFAULT.with_params, {"derived.x": {"kind": kind, "of": of}})
        DEFAULT.with_params({"derived.x": {"kind": kind, "of": of[::-1]}})  # the other way round divides by the spot
    raises_at("derived.potash_spot", DEFAULT.with_params, {"derived.potash_spot": {"kind": "spread", "of": ["potash_spot", "contract_price"]}})
    raises_at("factors.potash_spot.kind", DEFAULT.with_params, {"factors.potash_spot.kind": "ou"})
    raises_at("world.regimes", DEFAULT.with_params, {"world.regimes": "dynamic"})
    # a name that is not there: the message lists the ones that are, wherever it is given
    # (only those that may stand there: a correlation and a contract's underlying need a
    # diffusion shock, a beta a positive level)
    factors = ", ".join(DEFAULT.factors)
    shocked = ", ".join(f for f, k in DEFAULT.kinds.items() if k in ("log_ou", "logit_ou", "gbm"))
    levels = ", ".join(f for f, k in DEFAULT.kinds.items() if k in ("log_ou", "logit_ou", "gbm", "contract"))
    assert shocked != factors and levels not in (factors, shocked)
    for path, value, listed in (
        ("factors.contract_price.underlying", "potash", f"(factors with a diffusion shock: {shocked})"),
        ("derived.dislocation.of", ["potash", "contract_price"], f"(factors: {factors})"),
        ("correlations.potash.global_equity", 0.1, f"(factors with a diffusion shock: {shocked})"),
        ("assets.fertilizer_producers.betas.potash", 1.0, f"(log_ou, logit_ou, gbm and contract factors: {levels})"),
    ):
        err = raises_at(path.removesuffix(".global_equity"), DEFAULT.with_params, {path: value})
        assert str(err).endswith(f"is not a factor {listed}"), err
    # and a world with none of them says so
    lone = {"factors": {"done": {"kind": "completion", "unit": "projects", "initial": 0.0, "total": 10.0}},
            "scenarios": {"base": {"probability": 1.0, "done": {"h": 0.1}}},
            "correlations": {"done": {"x": 0.1}}}
    assert str(raises_at("correlations.done", gs.World.from_dict, lone)).endswith(
        "a completion factor has no diffusion shock to correlate")
    lone["correlations"] = {"x": {"done": 0.1}}
    assert str(raises_at("correlations.x", gs.World.from_dict, lone)).endswith(
        "is not a factor (factors with a diffusion shock: none)")
    err = raises_at("world.base_scenario", DEFAULT.with_params, {"world.base_scenario": "bsae"})
    assert str(err).endswith('"bsae" is not a scenario: did you mean "base"? (scenarios: base, bull, bear)')


def test_a_misspelt_name_is_offered_its_fix():
    # in a config (keys, parameters, names of scenarios and factors) and in a call
    for change, path, fix in [
        ({"scenarios.base.potash_spot.thetaa": 300.0}, "scenarios.base.potash_spot.thetaa",
         ': unknown parameter for a log_ou factor: did you mean "theta"? (expected one of: theta, '),
        ({"factors.potash_spot.initail": 3.0}, "factors.potash_spot.initail", ': unknown key: did you mean "initial"?'),
        ({"world.base_scenario": "baer"}, "world.base_scenario", ': "baer" is not a scenario: did you mean "bear"?'),
        ({"world.horizon_month": 12}, "world.horizon_month", ': unknown key: did you mean "horizon_months"?'),
        ({"scenarios.base.potsh_spot.theta": 300.0}, "scenarios.base.potsh_spot",
         ': unknown key or factor: did you mean "potash_spot"? (keys: probability, description, onset; factors: '),
    ]:
        assert str(raises_at(path, DEFAULT.with_params, change)).startswith(path + fix)
    sim = DEFAULT.simulate(500, seed=0, progress=False)
    assert str(raises_at("series", sim.summary, "potash_spto")).startswith(
        "series: 'potash_spto' is not a series: did you mean 'potash_spot'? (series: potash_spot, ")
    assert str(raises_at("probabilities.bul", sim.reweight, {"base": 0.5, "bul": 0.3, "bear": 0.2})) == (
        "probabilities.bul: is not a scenario: did you mean 'bull'? (scenarios: base, bull, bear)")
    # nothing offered when no name is close
    for change, path in [({"world.zzz": 1}, "world.zzz"), ({"world.base_scenario": "up"}, "world.base_scenario")]:
        assert "did you mean" not in str(raises_at(path, DEFAULT.with_params, change))
    assert "did you mean" not in str(raises_at("series", sim.summary, "zzz"))


@pytest.mark.parametrize("name", ["1abc", "a-b", "", "x" * 65, "año"])
def test_bad_names(name):
    d = DEFAULT.to_dict()
    d["factors"][name] = {"kind": "gbm", "unit": "i", "initial": 1.0}
    with pytest.raises(gs.ConfigError) as ei:
        gs.World.from_dict(d)
    assert_config_error(ei, f"factors.{name}" if name else 'factors.""')


@pytest.mark.parametrize("name", ["probability", "onset", "description"])
def test_reserved_factor_names(name):
    d = DEFAULT.to_dict()
    d["factors"][name] = {"kind": "gbm", "unit": "i", "initial": 1.0}
    with pytest.raises(gs.ConfigError) as ei:
        gs.World.from_dict(d)
    assert_config_error(ei, f"factors.{name}")


@pytest.mark.parametrize("name", ["target_return", "expected_return", "cvar", "var", "all", "potash_spot"])
def test_strategy_names_that_would_collide_in_a_result_are_refused(name):
    # a strategy "cvar" put its weights in the frontier's cvar column
    with pytest.raises(gs.ConfigError) as ei:
        DEFAULT.with_strategies(gs.Strategy(name, {"hk_equity": 1.0}))
    assert_config_error(ei, f"strategies.{name}")
    if name == "potash_spot":  # the series it clashes with is named, and where it is
        assert "has the name of the series [factors.potash_spot]" in str(ei.value)


def test_a_strategy_named_like_a_derived_series_says_which():
    d = DEFAULT.to_dict()
    d["derived"]["direct_belarus"] = d["derived"]["dislocation"]
    with pytest.raises(gs.ConfigError, match=r"has the name of the series \[derived\.direct_belarus\] \(a "
                                             r"strategy's NAV is a series too\): rename one") as ei:
        gs.World.from_dict(d)
    assert ei.value.path == "strategies.direct_belarus"


@pytest.mark.parametrize("name", ["onset", "regime"])
@pytest.mark.parametrize("table", ["factors", "derived", "strategies", "scenarios"])
def test_names_of_the_timing_columns_are_reserved(table, name):
    # a series "onset" or "regime" replaced that column of Simulation.to_pandas
    d = DEFAULT.to_dict()
    entry = {
        "factors": {"kind": "gbm", "unit": "i", "initial": 1.0},
        "derived": {"kind": "ratio", "of": ["potash_spot", "contract_price"]},
        "strategies": {"weights": {"hk_equity": 1.0}},
        "scenarios": {"probability": 0.0},
    }[table]
    d.setdefault(table, {})[name] = entry
    with pytest.raises(gs.ConfigError) as ei:
        gs.World.from_dict(d)
    assert_config_error(ei, f"{table}.{name}")


# ============================================================================ wrong types
@pytest.mark.parametrize(
    "path",
    [
        "scenarios.bear.potash_spot.sigma",
        "scenarios.bear.probability",
        "factors.potash_spot.initial",
        "world.horizon_months",
        "correlations.global_equity.hk_equity",
        "factors.roadmap_projects_done.total",
    ],
)
@pytest.mark.parametrize("value", ["0.3", True, [0.3], {"x": 0.3}, None], ids=["str", "bool", "list", "dict", "None"])
def test_wrong_type_where_number(path, value):
    if value is None:
        d = DEFAULT.to_dict()
        node = d
        parts = path.split(".")
        for p in parts[:-1]:
            node = node[p]
        node[parts[-1]] = None
        with pytest.raises(gs.ConfigError) as ei:
            gs.World.from_dict(d)
        # None has no TOML equivalent: the error must still name the parameter
        assert path in str(ei.value)
        return
    raises_at(path, DEFAULT.with_params, {path: value})


@pytest.mark.parametrize(
    "path, value",
    [
        ("world.name", 3),
        ("world.start", 202506),
        ("factors.potash_spot.kind", 1),
        ("factors.potash_spot.unit", 1.0),
        ("scenarios.bear.description", ["a"]),
        ("world.horizon_months", 2.5),
        ("factors.roadmap_projects_done.total", 70.5),
    ],
)
def test_wrong_type_elsewhere(path, value):
    raises_at(path, DEFAULT.with_params, {path: value})


def test_wrong_type_for_tables():
    d = DEFAULT.to_dict()
    d["scenarios"]["bear"]["potash_spot"] = 3.0
    with pytest.raises(gs.ConfigError) as ei:
        gs.World.from_dict(d)
    assert_config_error(ei, "scenarios.bear.potash_spot")
    d = DEFAULT.to_dict()
    d["factors"]["potash_spot"] = "log_ou"
    with pytest.raises(gs.ConfigError) as ei:
        gs.World.from_dict(d)
    assert_config_error(ei, "factors.potash_spot")
    with pytest.raises(gs.ConfigError):
        gs.World.from_dict([1, 2])
    with pytest.raises(gs.ConfigError) as ei:
        gs.World.from_toml("[world\nname = 1")
    assert_config_error(ei, "config")


def test_world_value_paths_are_not_tables():
    raises_at("scenarios.bear.probability", DEFAULT.with_params, {"scenarios.bear.probability.x": 1.0})


def test_numpy_scalars_are_numbers():
    w = DEFAULT.with_params({"scenarios.bear.potash_spot.sigma": np.float64(0.5), "world.horizon_months": np.int64(12)})
    assert w.horizon_months == 12
    raises_at("scenarios.bear.potash_spot.sigma", DEFAULT.with_params, {"scenarios.bear.potash_spot.sigma": np.float32("nan")})


# ============================================================================ onset
@pytest.mark.parametrize(
    "value",
    [[0, 12], [12, 3], [3], [3, 12, 20], "3-12", [3.5, 12], [1, 1201], [-1, 5], 3, ["3", "12"], []],
    ids=repr,
)
def test_bad_onset(value):
    raises_at("scenarios.bear.onset", DEFAULT.with_params, {"scenarios.bear.onset": value})


def test_onset_required_for_non_base_and_forbidden_on_base():
    raises_at("scenarios.base.onset", DEFAULT.with_params, {"scenarios.base.onset": [1, 2]})
    d = DEFAULT.to_dict()
    del d["scenarios"]["bull"]["onset"]
    with pytest.raises(gs.ConfigError) as ei:
        gs.World.from_dict(d)
    assert_config_error(ei, "scenarios.bull.onset")
    # a different base scenario: bear becomes the base and must drop its onset
    raises_at(
        "scenarios.bear.onset",
        DEFAULT.with_params,
        {"world.base_scenario": "bear", "scenarios.base.onset": [1, 2]},
    )


def test_a_freeze_on_the_base_scenario_is_refused_with_static_regimes():
    # no path enters the base scenario, so the freeze would never fire
    with pytest.raises(gs.ConfigError) as ei:
        DEFAULT.with_params({"freeze.scenario": "base"})
    assert_config_error(ei, "freeze.scenario")
    assert "base scenario" in str(ei.value)
    assert DEFAULT.with_params({"freeze.scenario": "bull"}).to_dict()["freeze"]["scenario"] == "bull"


# ============================================================================ missing parameters
@pytest.mark.parametrize(
    "factor, param",
    [
        ("potash_spot", "theta"),
        ("potash_spot", "kappa"),
        ("potash_spot", "sigma"),
        ("global_equity", "g"),
        ("roadmap_projects_done", "h"),
        ("digital_ruble_share", "s_max"),
        ("contract_price", "discount"),
    ],
)
def test_base_scenario_missing_parameter(factor, param):
    d = DEFAULT.to_dict()
    del d["scenarios"]["base"][factor][param]
    with pytest.raises(gs.ConfigError) as ei:
        gs.World.from_dict(d)
    assert_config_error(ei, f"scenarios.base.{factor}.{param}")
    assert "required" in str(ei.value)


def test_base_scenario_missing_factor_table():
    d = DEFAULT.to_dict()
    del d["scenarios"]["base"]["global_equity"]
    with pytest.raises(gs.ConfigError) as ei:
        gs.World.from_dict(d)
    assert str(ei.value).startswith("scenarios.base.global_equity.")


def test_non_base_scenarios_inherit_missing_parameters():
    d = DEFAULT.to_dict()
    del d["scenarios"]["bear"]["potash_spot"]["theta"]
    w = gs.World.from_dict(d)  # inherits theta from base
    assert "theta" not in w.to_dict()["scenarios"]["bear"]["potash_spot"]


@pytest.mark.parametrize(
    "path",
    ["factors", "scenarios", "scenarios.bear.probability", "factors.potash_spot.kind", "factors.potash_spot.initial",
     "factors.contract_price.underlying", "derived.dislocation.of"],
)
def test_missing_required_keys(path):
    d = DEFAULT.to_dict()
    node = d
    parts = path.split(".")
    for p in parts[:-1]:
        node = node[p]
    del node[parts[-1]]
    with pytest.raises(gs.ConfigError) as ei:
        gs.World.from_dict(d)
    assert path in str(ei.value)


def test_empty_factor_and_scenario_tables():
    d = DEFAULT.to_dict()
    d["factors"] = {}
    with pytest.raises(gs.ConfigError, match=r"^factors: "):
        gs.World.from_dict(d)
    d = DEFAULT.to_dict()
    d["scenarios"] = {}
    with pytest.raises(gs.ConfigError, match=r"^scenarios: must define at least one scenario"):
        gs.World.from_dict(d)
    d["world"].pop("base_scenario", None)  # not even a base scenario named to blame
    with pytest.raises(gs.ConfigError, match=r"^scenarios: must define at least one scenario"):
        gs.World.from_dict(d)


def test_logit_ou_level_rules():
    raises_at("factors.eurobond_price.initial", DEFAULT.with_params, {"factors.eurobond_price.initial": 100.0})
    raises_at("factors.eurobond_price.initial", DEFAULT.with_params, {"factors.eurobond_price.initial": 0.0})
    raises_at("scenarios.bull.eurobond_price.theta", DEFAULT.with_params, {"scenarios.bull.eurobond_price.theta": 100.0})
    raises_at("factors.eurobond_price.scale", DEFAULT.with_params, {"factors.eurobond_price.scale": -1.0})


def test_integer_factor_settings():
    raises_at("factors.roadmap_projects_done.total", DEFAULT.with_params, {"factors.roadmap_projects_done.total": 0})
    raises_at("factors.roadmap_projects_done.initial", DEFAULT.with_params, {"factors.roadmap_projects_done.initial": 71})
    raises_at("factors.contract_price.reset_month", DEFAULT.with_params, {"factors.contract_price.reset_month": 13})
    raises_at("factors.contract_price.averaging_months", DEFAULT.with_params, {"factors.contract_price.averaging_months": 0})
    raises_at("factors.digital_ruble_share.lag_max", DEFAULT.with_params, {"factors.digital_ruble_share.lag_max": 0})
    # a lag_min raised above lag_max: the message names the bound that conflicts (it read
    # "must be an integer in [10, 1200], got 7", a range from the parameter not named)
    with pytest.raises(gs.ConfigError, match=r"lag_max: must not be below lag_min \(10\), got 7"):
        DEFAULT.with_params({"factors.digital_ruble_share.lag_min": 10})
    raises_at("world.horizon_months", DEFAULT.with_params, {"world.horizon_months": 1201})
    raises_at("world.start", DEFAULT.with_params, {"world.start": "2025-13"})
    raises_at("world.start", DEFAULT.with_params, {"world.start": "June 2025"})
    for odd in ("9999-12", "1800-01", "+202-01", "2025-+1", "2025-1", "２０２５-06"):
        raises_at("world.start", DEFAULT.with_params, {"world.start": odd})
    months = DEFAULT.with_params({"world.start": "2100-12"}).simulate(10, 1200, seed=0).months
    assert months[-1] == pd.Timestamp("2200-12-01")


# ============================================================================ simulate arguments
@pytest.mark.parametrize(
    "kwargs, path",
    [
        ({"n_paths": 0}, "n_paths"),
        ({"n_paths": -1}, "n_paths"),
        ({"n_paths": 1.5}, "n_paths"),
        ({"n_paths": True}, "n_paths"),
        ({"n_paths": "10"}, "n_paths"),
        ({"n_paths": None}, "n_paths"),
        ({"n_paths": 2**40 + 1}, "n_paths"),
        ({"horizon_months": 0}, "horizon_months"),
        ({"horizon_months": 5000}, "horizon_months"),
        ({"horizon_months": 1201}, "horizon_months"),
        ({"horizon_months": 12.0}, "horizon_months"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**64}, "seed"),
        ({"seed": 1.0}, "seed"),
        ({"seed": "0"}, "seed"),
        ({"threads": 0}, "threads"),
        ({"threads": -2}, "threads"),
        ({"threads": 1025}, "threads"),
        ({"threads": 2.0}, "threads"),
        ({"chunk_paths": 0}, "chunk_paths"),
        ({"chunk_paths": 2**24 + 1}, "chunk_paths"),
        ({"antithetic": 1}, "antithetic"),
        ({"antithetic": "yes"}, "antithetic"),
        ({"antithetic": True, "n_paths": 11}, "n_paths"),
        ({"progress": "sometimes"}, "progress"),
    ],
    ids=repr,
)
def test_bad_simulate_arguments(kwargs, path):
    args = {"n_paths": 10, "horizon_months": 2, **kwargs}
    raises_at(path, DEFAULT.simulate, **args)


@SETTINGS
@given(
    n=st.one_of(
        st.integers(max_value=0),
        st.integers(min_value=2**40 + 1),
        st.floats(allow_nan=True),
        st.text(max_size=5),
        st.booleans(),
    )
)
def test_bad_n_paths_property(n):
    raises_at("n_paths", DEFAULT.simulate, n, 1)


@SETTINGS
@given(seed=st.one_of(st.integers(max_value=-1), st.integers(min_value=2**64), st.floats(), st.booleans()))
def test_bad_seed_property(seed):
    raises_at("seed", DEFAULT.simulate, 4, 1, seed=seed)


@SETTINGS
@given(h=st.one_of(st.integers(max_value=0), st.integers(min_value=1201), st.floats(), st.booleans()))
def test_bad_horizon_property(h):
    raises_at("horizon_months", DEFAULT.simulate, 4, h)


def test_valid_simulate_argument_types_accepted():
    s = DEFAULT.simulate(np.int64(6), np.int32(2), seed=np.uint64(2**64 - 1), threads=np.int8(1), antithetic=True)
    assert s.n_paths == 6 and s.horizon_months == 2 and s.seed == 2**64 - 1 and s.antithetic
    assert type(s.n_paths) is int and type(s.seed) is int


def test_numpy_bool_accepted_for_antithetic():
    s = DEFAULT.simulate(6, 2, antithetic=np.bool_(True))
    assert s.antithetic is True


# ============================================================================ other call arguments
def test_bad_reweight_probabilities(small_sim):
    sim = small_sim
    raises_at("probabilities.nope", sim.reweight, {"base": 0.5, "bull": 0.3, "bear": 0.2, "nope": 0.0})
    raises_at("probabilities.bear", sim.reweight, {"base": 0.5, "bull": 0.5})
    raises_at("probabilities.bear", sim.reweight, {"base": 0.5, "bull": 0.5, "bear": float("nan")})
    raises_at("probabilities.bear", sim.reweight, {"base": 0.5, "bull": 0.5, "bear": "0"})
    raises_at("probabilities.bull", sim.reweight, {"base": 0.5, "bull": 1.5, "bear": -1.0})
    raises_at("probabilities", sim.reweight, {"base": 0.5, "bull": 0.3, "bear": 0.3})
    # a Series naming a scenario twice: its last value would win
    twice = pd.Series([0.55, 0.25, 0.2, 0.2], index=["base", "bull", "bear", "bear"])
    assert "given twice" in str(raises_at("probabilities.bear", sim.reweight, twice))


@pytest.mark.parametrize("p", [5e-324, 1e-310, 1e-201])
def test_tiny_positive_probabilities_are_refused(small_sim, p):
    # their paths' weights p / n underflowed: NaN quantiles, a wrong mean
    err = raises_at("probabilities.bull", small_sim.reweight, {"base": 1 - p, "bull": p, "bear": 0.0})
    assert "at least 1e-200" in str(err)
    world = DEFAULT.with_params({"scenarios.base.probability": 0.8, "scenarios.bull.probability": 0.0})
    raises_at("scenarios.bull.probability", world.with_params, {"scenarios.bull.probability": p})


def test_a_scenarios_statistics_do_not_depend_on_its_probability(small_sim):
    cols = ["mean", "std", "q05", "q50", "q95", "p_above"]
    ref = small_sim.summary("potash_spot").loc[("potash_spot", "bull"), cols].astype(float)
    drop = ["probability", "tail_share"]  # (the scenario's share of the whole tail)
    risk_ref = small_sim.risk_table().xs("bull", level="scenario").drop(columns=drop)
    tiny = small_sim.reweight({"base": 1 - 1e-200, "bull": 1e-200, "bear": 0.0})
    got = tiny.summary("potash_spot").loc[("potash_spot", "bull"), cols].astype(float)
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    risk = tiny.risk_table().xs("bull", level="scenario").drop(columns=drop)
    np.testing.assert_allclose(risk.to_numpy(float), risk_ref.to_numpy(float), rtol=1e-12)


@SETTINGS
@given(p=invalid_floats(0.0, 1.0))
def test_bad_reweight_probability_property(small_sim, p):
    raises_at("probabilities.bull", small_sim.reweight, {"base": 0.5, "bull": p, "bear": 0.5})


def test_bad_series_and_month(small_sim):
    sim = small_sim
    raises_at("name", sim.paths, "nope")
    raises_at("series", sim.summary, "nope")  # the parameter of summary and to_pandas is `series`
    raises_at("series", sim.to_pandas, ["potash_spot", "nope"])
    raises_at("month", sim.summary, "potash_spot", month=25)
    raises_at("month", sim.summary, "potash_spot", month=-26)
    raises_at("month", sim.summary, "potash_spot", month="2030-01")
    raises_at("month", sim.summary, "potash_spot", month=1.0)
    raises_at("month", sim.to_pandas, "potash_spot", month=True)
    # a year alone names no month (it would read as January); a compact date does
    for bad in ("2026", "12"):
        assert "give an index (an int) or 'YYYY-MM'" in str(raises_at("month", sim.summary, "potash_spot", month=bad))
    pd.testing.assert_frame_equal(sim.summary("potash_spot", month="20260315"), sim.summary("potash_spot", month="2026-03"))
    # a view's month has the wrong type as soon as the view is made, not when applied
    for bad in (3.0, [1], True):
        raises_at("view.month", gs.View.mean, "potash_spot", 400.0, month=bad)
    assert gs.View.mean("potash_spot", 400.0, month=np.int64(3)) == gs.View.mean("potash_spot", 400.0, month=3)
    # and a month that does not exist, or is no month, whatever the simulation
    for bad, why in (("2026-13", "its month is not 1 to 12"), ("2026-02-30", "is not a date"), ("abc", "is not a month"),
                     ("2026Q2", "is a quarter"), ("2026", "give an index"), (pd.Period("2026Q1"), "spans more")):
        assert why in str(raises_at("view.month", gs.View.mean, "potash_spot", 400.0, month=bad)), bad
        assert why in str(raises_at("month", sim.summary, "potash_spot", month=bad)), bad
    assert repr(gs.View.mean("potash_spot", 400.0, month=pd.Timestamp("2026-06-15"))).endswith(" at 2026-06-15)")
    old = gs.View.mean("potash_spot", 400.0)
    object.__setattr__(old, "month", pd.NaT)  # (a view pickled before months were checked when made)
    assert repr(old).endswith(" at NaT)")


def test_bad_sources(tmp_path):
    assert "'/definitely/not/here.toml' does not exist" in str(
        raises_at("source", gs.World.from_toml, "/definitely/not/here.toml"))
    (tmp_path / "d.toml").mkdir()  # a directory named like a file
    assert "d.toml' is a directory" in str(raises_at("source", gs.World.from_toml, str(tmp_path / "d.toml")))
    raises_at("source", gs.World.from_toml, 42)
    raises_at("config", gs.World.from_dict, "not a dict")
    assert "File name too long" in str(raises_at("source", gs.World.from_toml, "a" * 5000 + ".toml"))
    # and without the extension, and to write (the checks before the read raised OSError)
    assert "File name too long" in str(raises_at("source", gs.World.from_toml, "a" * 300))
    assert "File name too long" in str(raises_at("path", DEFAULT.to_toml, "a" * 300))
    # one line with neither a key nor a table was meant as a path, not as TOML text
    assert "'my_world.cfg' does not exist" in str(raises_at("source", gs.World.from_toml, "my_world.cfg"))
    assert "is a directory" in str(raises_at("source", gs.World.from_toml, str(tmp_path)))
    assert "not a regular file" in str(raises_at("source", gs.World.from_toml, "/dev/null"))
    assert "lone surrogate" in str(raises_at("source", gs.World.from_toml, '[world]\nname = "\ud800"'))
    raises_at("path", DEFAULT.to_toml, 123)
    assert "is a directory" in str(raises_at("path", DEFAULT.to_toml, tmp_path))
    raises_at("path", DEFAULT.to_toml, tmp_path / "missing" / "world.toml")


@pytest.mark.parametrize("value", [np.True_, np.False_])
@pytest.mark.parametrize(
    ("key", "kind"),
    [("world.horizon_months", "an integer"), ("scenarios.base.potash_spot.sigma", "a number")],
)
def test_numpy_booleans_are_booleans_in_configs(key, kind, value):
    err = raises_at(key, DEFAULT.with_params, {key: value})
    assert f"must be {kind}, got a boolean" in str(err)


def test_lone_surrogates_in_configs_are_named():
    err = raises_at("world.name", DEFAULT.with_params, {"world.name": "a\ud800"})
    assert "lone surrogate" in str(err)
    d = DEFAULT.to_dict()
    d["scenarios"]["b\udfff"] = {"probability": 0.0}
    assert "lone surrogate" in str(raises_at("scenarios", gs.World.from_dict, d))


def test_complex_prices_and_returns_are_refused():
    potash = gs.data.potash_monthly()["2010":]
    raises_at(f"series.{potash.name}", gs.calibrate.log_ou, potash.astype(complex) + 1j)
    prices = gs.data.equities_daily()[["ntr_adj_close", "spy_adj_close"]].iloc[:300]
    bad = prices.astype({"spy_adj_close": complex})
    err = raises_at("prices.spy_adj_close", gs.backtest, bad, {"ntr_adj_close": 0.5, "spy_adj_close": 0.5})
    assert "real numbers" in str(err)


# ============================================================================ the core module
@pytest.mark.parametrize("horizon", [0, 1201, 2**40, 2**63])
def test_core_refuses_horizons_before_allocating(horizon):
    # the public calls check them first; the core no longer aborts on them
    core = DEFAULT._core
    raises_at("horizon_months", core.month_labels, horizon)
    raises_at("horizon_months", core.output_bytes, 1_000, horizon)


def test_core_summary_of_arrays_checks_scenarios_and_probabilities():
    from geoscenario.summary import QUANTILES, make_job

    job, reducers, _, _ = make_job(DEFAULT, 100, 24, 0, False, "potash_spot", 24, QUANTILES, None, None, False)
    values = np.ones((len(reducers), 100))
    ok = np.repeat(np.arange(3), [55, 25, 20]).astype(np.int64)  # the job's blocks of paths
    for bad in (3, 7, -1):
        scenario = ok.copy()
        scenario[50] = bad
        err = raises_at("scenario", gs._core.summarize_arrays, job, values, scenario, [0.55, 0.25, 0.2])
        assert f"got {bad} at 50" in str(err)
    raises_at("probabilities", gs._core.summarize_arrays, job, values, ok, [float("nan"), 0.25, 0.2])
    # a length that does not match names the argument that has it
    err = raises_at("probabilities", gs._core.summarize_arrays, job, values, ok, [1.0])
    assert str(err).endswith("must have the job's 3 scenarios, got 1")
    err = raises_at("scenario", gs._core.summarize_arrays, job, values, ok[:99], [0.55, 0.25, 0.2])
    assert str(err).endswith("must have the job's 100 paths, got 99")
    assert len(gs._core.summarize_arrays(job, values, ok, [0.55, 0.25, 0.2])) > 0


# ============================================================================ resources
def test_too_large_request_is_refused_before_allocating():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    with pytest.raises(gs.ResourceError) as ei:
        DEFAULT.simulate(2**39, 1200, seed=0)
    err = ei.value
    assert isinstance(err, MemoryError) and isinstance(err, gs.GeoscenarioError)
    assert not isinstance(err, ValueError)
    msg = str(err)
    assert "needs" in msg
    m = re.search(r"needs ([0-9.,]+) (B|KiB|MiB|GiB|TiB|PiB)", msg)
    assert m, msg
    # the size stated is the size of the output: 17 series x 2^39 paths x 1201 months x 8 bytes
    scale = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "PiB": 2**50}[m.group(2)]
    stated = float(m.group(1).replace(",", "")) * scale
    expected = len(DEFAULT.units) * 2**39 * 1201 * 8
    assert stated == pytest.approx(expected, rel=0.01)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert after - before < 100 * 1024, "refusing must not allocate"


@pytest.mark.parametrize("n, h", [(2**40, 1200), (2**36, 24)])
def test_other_oversized_requests(n, h):
    with pytest.raises(gs.ResourceError, match="needs"):
        DEFAULT.simulate(n, h)


@pytest.fixture(scope="module")
def small_sim():
    return DEFAULT.simulate(1_000, 24, seed=0)


def test_non_finite_output_is_a_numerical_error():
    """Valid but extreme parameters that overflow are reported, never returned as inf."""
    text = textwrap.dedent(
        """
        [factors.x]
        kind = "log_ou"
        unit = "i"
        initial = 100.0
        [scenarios.base]
        probability = 1.0
        x = { theta = 100.0, kappa = 0.0, sigma = 0.0, lambda = 120.0, mu_j = 5.0 }
        """
    )
    w = gs.World.from_toml(text)  # every parameter is inside its rule
    with pytest.raises(gs.NumericalError) as ei:
        w.simulate(16, 24, seed=0)
    assert isinstance(ei.value, ArithmeticError) and isinstance(ei.value, gs.GeoscenarioError)
    assert '"x"' in str(ei.value) and "non-finite" in str(ei.value)
    # a short horizon is fine: ln x grows by about 50 a month, below the overflow threshold
    s = w.simulate(16, 6, seed=0)
    assert np.all(np.isfinite(s.paths("x")))


# ============================================================================ odd but valid types
def test_fractions_and_numpy_scalars_are_stored_as_floats(default_world):
    from fractions import Fraction

    v = gs.View.prob_above("potash_spot", np.float32(450), Fraction(1, 3))
    assert type(v.value) is float and type(v.threshold) is float and "0.333333" in repr(v)
    s = gs.Strategy("s", {"global_equity": 1}, cost_bps=Fraction(5))
    assert type(s.cost_bps) is float and repr(s).endswith("5 bps)")
    sim = default_world.simulate(1_000, seed=0, progress=False)
    with pytest.raises(gs.NumericalError, match=r"is infeasible"):  # its message formats the view
        sim.with_views(gs.View.mean("potash_spot", Fraction(10**6)))


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda sim: sim.summary(np.array("potash_spot")), "series"),
        # (a 0-d array of a number is that number: one level)
        (lambda sim: sim.summary("potash_spot", quantiles=np.array("0.5")), "quantiles"),
        (lambda sim: sim.allocate(strategies=np.array("direct_belarus")), "strategies"),
        (lambda sim: sim.with_views(np.array(gs.View.mean("potash_spot", 400.0), dtype=object)), "views"),
    ],
)
def test_a_0d_array_where_a_list_is_expected_is_named(default_world, call, path):
    sim = default_world.simulate(1_000, seed=0, progress=False)
    with pytest.raises(gs.ConfigError) as ei:
        call(sim)
    assert ei.value.path == path


def test_an_empty_source_and_a_bare_dict_are_named():
    for blank in ("", "  "):  # an empty TOML text, like an empty file
        with pytest.raises(gs.ConfigError, match="^factors: is required"):
            gs.World.from_toml(blank)
    with pytest.raises(gs.ConfigError) as ei:
        gs.World({"world": {}})
    assert ei.value.path == "core" and "World.from_dict" in str(ei.value)


def test_calibrated_takes_the_time_step_its_error_advises():
    potash = gs.data.potash_monthly("2010-01", "2025-01")
    gappy = potash.drop(potash.index[[5, 17, 40]])
    with pytest.raises(gs.ConfigError, match="pass dt=") as ei:
        gs.World.default().calibrated(potash=gappy)
    assert ei.value.path == "potash"
    _, changes = gs.World.default().calibrated(potash=gappy, dt=1 / 12)
    direct = gs.calibrate.log_ou(gappy, jumps=True, mean_reversion="ar1", dt=1 / 12)
    assert changes.at["scenarios.base.potash_spot.sigma", "new"] == direct.table.at["sigma", "estimate"]


def test_onset_months_are_integers_like_every_other_integer_key(default_world):
    whole = default_world.with_params({"scenarios.bear.onset": [2.0, 9.0]})
    assert whole == default_world.with_params({"scenarios.bear.onset": [2, 9]})
    with pytest.raises(gs.ConfigError) as ei:
        default_world.with_params({"scenarios.bear.onset": [2.5, 9]})
    assert_config_error(ei, "scenarios.bear.onset")


def test_an_array_is_the_list_of_its_items(default_world):
    as_list = default_world.with_params({"scenarios.bear.onset": [3, 9]})
    assert as_list.to_dict()["scenarios"]["bear"]["onset"] != default_world.to_dict()["scenarios"]["bear"]["onset"]
    for array in (np.array([3, 9]), np.array([3, 9], dtype=np.uint8), np.array([3.0, 9.0], dtype=np.float32)):
        assert default_world.with_params({"scenarios.bear.onset": array}) == as_list
    raises_at("scenarios.bear.onset", default_world.with_params, {"scenarios.bear.onset": np.array(["3", "9"])})
    raises_at("scenarios.bear.onset", default_world.with_params, {"scenarios.bear.onset": np.array([3.5, 9.0])})
    err = raises_at("scenarios.bear.onset", default_world.with_params,
                    {"scenarios.bear.onset": np.ma.array([3, 9], mask=[False, True])})
    assert "masked" in str(err)
    # a masked array that hides nothing is its values; a matrix is its one row (not a
    # matrix of a matrix, ... to the nesting limit)
    assert default_world.with_params({"scenarios.bear.onset": np.ma.array([3, 9])}) == as_list
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)  # NumPy's, on making a matrix
        matrix = np.matrix([3, 9])
    err = raises_at("scenarios.bear.onset", default_world.with_params, {"scenarios.bear.onset": matrix})
    assert "nesting" not in str(err)


@pytest.mark.parametrize(
    "value",
    [pd.Timestamp("2026-03-01"), pd.Timestamp("2026-03-31 23:59", tz="Europe/Minsk"), datetime.date(2026, 3, 15),
     datetime.datetime(2026, 3, 1, 12), np.datetime64("2026-03"), np.datetime64("2026-03-17T08:00:00.000"),
     pd.Period("2026-03", "M"), pd.Period("2026-03-09", "D")],
    ids=repr,
)
def test_a_date_is_the_month_it_lies_in(default_world, value):
    # as Simulation.month_index reads a date
    w = default_world.with_params({"world.start": value})
    assert w == default_world.with_params({"world.start": "2026-03"})
    assert w.to_dict()["world"]["start"] == "2026-03"


def test_a_toml_date_is_the_month_it_lies_in(default_world):
    text = default_world.to_toml()
    line = next(x for x in text.splitlines() if x.startswith("start = "))
    for date in ("2026-03-15", "2026-03-01T08:00:00", "2026-03-31 23:59:59+03:00"):
        w = gs.World.from_toml(text.replace(line, f"start = {date}"))
        assert w == default_world.with_params({"world.start": "2026-03"}), date
    for bad, says in (("08:00:00", "a time of day"), ("1899-12-31", "1900-01 to 2100-12")):
        with pytest.raises(gs.ConfigError, match=says) as ei:
            gs.World.from_toml(text.replace(line, f"start = {bad}"))
        assert ei.value.path == "world.start"


@pytest.mark.parametrize(
    ("value", "says"),
    [(pd.NaT, "NaT"), (np.datetime64("NaT", "ns"), "NaT"), (pd.Period("2026Q1"), "spans more than one month"),
     (pd.Period("2026", "Y"), "spans more than one month"), (np.datetime64("2026", "Y"), "spans more than one month"),
     (pd.Timestamp("1850-01-01"), "1900-01 to 2100-12"), (5, 'a month "YYYY-MM" or a date')],
    ids=repr,
)
def test_a_date_that_names_no_one_month_is_refused(default_world, value, says):
    err = raises_at("world.start", default_world.with_params, {"world.start": value})
    assert says in str(err)


@pytest.mark.parametrize(
    "value",
    [np.complex128(0.3 + 5j), np.array("0.3"), np.bytes_(b"1"), np.array(True), np.timedelta64(12, "D")],
    ids=["complex", "0d-str", "bytes", "0d-bool", "timedelta"],
)
def test_config_numbers_must_be_real_numbers(default_world, value):
    # these convert to float in Python, losing a part or changing meaning: refused
    with pytest.raises(gs.ConfigError) as ei:
        default_world.with_params({"scenarios.bear.potash_spot.sigma": value})
    assert_config_error(ei, "scenarios.bear.potash_spot.sigma")


@pytest.mark.parametrize(
    "value", [np.array(0.3), np.float64(0.3), np.array(0.3, dtype=np.float32), np.float32(0.3), np.float16(0.3)]
)
def test_config_numbers_may_be_numpy_scalars_and_0d_arrays(default_world, value):
    # a float16 or float32 is the decimal it prints as (float32 0.3 is 0.3, not 0.30000001)
    w = default_world.with_params({"scenarios.bear.potash_spot.sigma": value})
    assert w.to_dict()["scenarios"]["bear"]["potash_spot"]["sigma"] == 0.3


def test_sets_are_refused_where_order_makes_the_result(small_sim):
    # a set of strings is iterated in an order that changes with the interpreter's hash seed
    err = raises_at("series", small_sim.summary, {"potash_spot", "bilateral_trade"})
    assert "not a set" in str(err)
    raises_at("strategies", small_sim.risk_table, 0.95, frozenset({"direct_belarus"}))
    raises_at("quantiles", small_sim.summary, "potash_spot", quantiles={0.05, 0.5})
    raises_at("views", small_sim.with_views, {gs.View.mean("potash_spot", 400.0)})
    # a mapping's keys come in the mapping's order: they are a list of names
    world = small_sim.world
    keys = small_sim.summary(world.factors.keys()).index.get_level_values("series").unique()
    assert list(keys) == list(world.factors)
    rows = small_sim.risk_table(strategies=world.strategies.keys()).index.get_level_values(0).unique()
    assert list(rows) == list(world.strategies)


@pytest.mark.parametrize("bad", [pd.NA, np.array(["monthly", "daily"]), None, 3])
def test_choices_refuse_what_is_not_one_of_their_strings(small_sim, bad):
    px = pd.DataFrame({"a": [1.0, 1.1, 1.2]}, index=pd.date_range("2020-01-31", periods=3, freq="ME"))
    potash = gs.data.potash_monthly("2015-01", "2020-01")
    r = potash.pct_change().dropna().rename("fertilizer_producers").to_frame()
    calls = {
        "rebalance": lambda: gs.backtest(px, {"a": 1.0}, rebalance=bad if bad is not None else 0),
        "align": lambda: gs.backtest(px, {"a": 1.0}, align=bad),
        "mean_reversion": lambda: gs.calibrate.log_ou(potash, jumps=True, mean_reversion=bad),
        "view.op": lambda: gs.View.mean("potash_spot", 400.0, op=bad),
        "view.kind": lambda: gs.View("potash_spot", bad, 400.0),
    }
    for path, call in calls.items():
        raises_at(path, call)
    raises_at("align", gs.calibrate.factor_betas, r, r.rename(columns={"fertilizer_producers": "x"}), align=bad)


def test_hand_built_objects_are_checked_where_they_enter(small_sim):
    from geoscenario.report import render

    raises_at("view.threshold", gs.View, "potash_spot", "mean", 400.0, threshold=450.0)
    raises_at("sim", render, None)
    raises_at("sim", gs.View.mean("potash_spot", 400.0).function, gs.World.default())
    w = pd.Series({"direct_belarus": 1.0})
    raises_at("expected_return", gs.Allocation, w, float("nan"), 0.1, 0.1, 0.95, "x")
    raises_at("alpha", gs.Allocation, w, 0.1, 0.1, 0.1, 7, "x")
    raises_at("weights", gs.Allocation, {"direct_belarus": 1.0}, 0.1, 0.1, 0.1, 0.95, "x")
    raises_at("weights", gs.Allocation, pd.Series([np.nan], index=["direct_belarus"]), 0.1, 0.1, 0.1, 0.95, "x")
    manual = gs.Allocation(w, 0.1, 0.2, 0.1, 0.95, "by hand")
    assert small_sim.risk_table(0.95, [], mixes={"m": manual}).equals(
        small_sim.risk_table(0.95, [], mixes={"m": {"direct_belarus": 1.0}}))
    # the hint for a tail probability given as the level, not for a level of nothing
    assert "did you mean 0.95?" in str(raises_at("alpha", small_sim.risk_table, 0.05))
    assert "did you mean" not in str(raises_at("alpha", small_sim.risk_table, 1e-300))


def test_float32_probabilities_in_the_config_sum_to_one(default_world):
    p = {f"scenarios.{k}.probability": np.float32(v) for k, v in default_world.probabilities.items()}
    assert float(np.float32(0.55)) + float(np.float32(0.25)) + float(np.float32(0.2)) != 1.0
    assert default_world.with_params(p) == default_world


# ---------------------------------------------------------------- one rule for numbers
# Every numeric parameter takes a real number in any of these types, with the same
# result as the float, and refuses the others with an error naming the parameter.
def _real_forms(x: float) -> dict:
    from fractions import Fraction

    return {"int" if x == int(x) else "float": int(x) if x == int(x) else x, "Fraction": Fraction(x),
            "np.float64": np.float64(x), "np.float32": np.float32(x), "0-d array": np.array(x)}


def _not_real_forms(x: float) -> dict:
    from decimal import Decimal

    return {"bool": True, "Decimal": Decimal(repr(x)), "str": repr(x), "complex": complex(x),
            "1-d array": np.array([x]), "list": [x]}


@pytest.fixture(scope="module")
def numeric_calls():
    from geoscenario.backtest import metrics

    world = gs.World.default()
    sim = world.simulate(2_000, seed=5, progress=False)
    s = "potash_spot"
    eq = pd.Series([1.0, 1.1, 0.99, 1.2], index=pd.date_range("2020-01-31", periods=4, freq="ME"))
    sigma = "scenarios.bear.potash_spot.sigma"
    px = pd.DataFrame({"a": [1.0, 1.1, 1.05, 1.2]}, index=eq.index)
    potash = gs.data.potash_monthly("2015-01", "2020-01")
    # parameter: (a value every form holds exactly, the call)
    return {
        "alpha": (0.75, lambda v: sim.risk_table(v, "direct_belarus")),
        "quantiles": (0.5, lambda v: sim.summary(s, quantiles=[v])),
        f"thresholds.{s}": (450.0, lambda v: sim.summary(s, thresholds={s: v})),
        "probabilities.bull": (0.25, lambda v: sim.reweight({"base": 0.5, "bull": v, "bear": 0.25}).weights),
        "view.value": (400.0, lambda v: gs.View.mean(s, v)),
        "tol": (2.0**-30, lambda v: sim.with_views([gs.View.mean(s, 400.0)], tol=v).weights),
        sigma: (0.25, lambda v: world.with_params({sigma: v}).to_dict()),
        "level": (1.5, lambda v: gs.stats.prob_above([1.0, 2.0], [1.0, 1.0], v)),
        "periods_per_year": (12.0, lambda v: metrics(eq, v)),
        "strategies.s.cost_bps": (10.0, lambda v: gs.Strategy("s", {"hk_equity": 1.0}, cost_bps=v)),
        "cost_bps": (10.0, lambda v: gs.backtest(px, {"a": 0.5}, cost_bps=v).equity),
        "view.threshold": (450.0, lambda v: gs.View.prob_above(s, v, 0.25)),
        "target_return": (0.0625, lambda v: sim.allocate(0.9, target_return=v).weights),
        "mixes['m']": (0.5, lambda v: sim.risk_table(0.9, [], mixes={"m": {"direct_belarus": v}})),
        "dt": (0.0625, lambda v: gs.calibrate.log_ou(potash, dt=v).table),
    }


def _same(a, b) -> bool:
    if isinstance(a, (pd.DataFrame, pd.Series)):
        return a.equals(b)
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


@pytest.mark.parametrize("form", ["int", "Fraction", "np.float64", "np.float32", "0-d array"])
def test_every_numeric_parameter_takes_every_real_type_alike(numeric_calls, form):
    for param, (x, call) in numeric_calls.items():
        forms = _real_forms(x)
        if form == "int" and form not in forms:
            continue
        assert _same(call(forms[form]), call(x)), (param, form)


@pytest.mark.parametrize("form", ["bool", "Decimal", "str", "complex", "1-d array", "list"])
def test_every_numeric_parameter_refuses_what_is_not_a_real_number(numeric_calls, form):
    for param, (x, call) in numeric_calls.items():
        with pytest.raises(gs.ConfigError) as err:
            call(_not_real_forms(x)[form])
        assert err.value.path == param, (param, form, str(err.value))
        # a Decimal prints as a number, so the message says what is wrong with it
        assert form != "Decimal" or "Decimal" in str(err.value).replace(repr(_not_real_forms(x)[form]), ""), \
            (param, str(err.value))


@pytest.mark.parametrize("value", [12, np.int64(12), np.uint8(12), np.array(12)])
def test_integer_parameters_take_integers_of_any_type(value):
    # (``n_paths``, ``seed``, ``threads`` and the rest go through the same check)
    sim = gs.World.default().simulate(50, value, seed=1, progress=False)
    assert sim.horizon_months == 12


# a whole float is refused, as NumPy refuses ``size=12.0``
@pytest.mark.parametrize("value", [12.0, np.float64(12), np.array(12.0), True, np.array([12]), "12"])
def test_integer_parameters_refuse_what_is_not_an_integer(value):
    raises_at("horizon_months", gs.World.default().simulate, 50, value, seed=1, progress=False)


@pytest.mark.parametrize("quantiles", [[True], ["0.5"], [0.5, "0.9"], [], 0.5j, [None]])
def test_plot_quantile_levels_follow_the_rule_for_numbers(quantiles):
    sim = gs.World.default().simulate(200, seed=1, progress=False)
    raises_at("quantiles", gs.plot.fan_quantiles, sim, "potash_spot", quantiles)


@pytest.mark.filterwarnings("ignore:log_ou:RuntimeWarning")  # the jump fit's own doubts, not the point here
@pytest.mark.parametrize("value", [np.int64(3), np.array(3)])
def test_every_integer_parameter_takes_a_0d_integer_array(value):
    potash = gs.data.potash_monthly("2010-01", "2020-01")
    assert gs.calibrate.log_ou(potash, jumps=True, max_jumps=value).table.equals(
        gs.calibrate.log_ou(potash, jumps=True, max_jumps=3).table)
    r = potash.pct_change().dropna()
    frame = pd.DataFrame({"a": r, "b": r.shift(1).fillna(0.0) + r})
    fit = gs.calibrate.factor_betas(frame[["b"]], frame[["a"]], newey_west=True, lags=value)
    assert fit.table.equals(gs.calibrate.factor_betas(frame[["b"]], frame[["a"]], newey_west=True, lags=3).table)
    # (and gs.plot.horizon_hist's bins: test_plot.py)


@pytest.mark.parametrize("q", ["0.5", True, [True, 0.5], np.array(0.5, dtype=object).astype(str), 0.5j,
                               np.ma.masked, [[0.5], [0.2, 0.3]]])
def test_quantile_levels_of_stats_follow_the_rule_for_numbers(q):
    from decimal import Decimal

    raises_at("q", gs.stats.weighted_quantile, [1.0, 2.0, 3.0], [1.0, 1.0, 1.0], q)
    raises_at("q", gs.stats.weighted_quantile, [1.0, 2.0], [1.0, 1.0], Decimal("0.5"))


@pytest.mark.parametrize("kind", ["Decimal", "complex", "str"])
def test_a_level_that_is_no_real_number_is_called_that_not_out_of_range(kind):
    from decimal import Decimal

    v = {"Decimal": Decimal("0.95"), "complex": 0.95 + 0j, "str": "0.95"}[kind]
    sim = gs.World.default().simulate(200, seed=1, progress=False)
    err = raises_at("alpha", sim.risk_table, v)
    assert "must be a real number" in str(err) and f"got a {kind}" in str(err), str(err)
    err = raises_at("q", gs.stats.weighted_quantile, [1.0, 2.0], [1.0, 1.0], [0.5, v])
    assert "real numbers" in str(err) and f"is a {kind}" in str(err), str(err)
    err = raises_at("q", gs.stats.weighted_quantile, [1.0, 2.0], [1.0, 1.0], [0.5, None])
    assert "None is a NoneType" in str(err), str(err)


def test_a_float32_level_is_the_decimal_it_prints_as_everywhere():
    x, w = np.linspace(0.0, 1.0, 101), np.ones(101)
    f32 = np.float32(0.05)
    assert gs.stats.weighted_quantile(x, w, f32) == gs.stats.weighted_quantile(x, w, 0.05)
    assert np.array_equal(gs.stats.weighted_quantile(x, w, np.array([f32, np.float32(0.5)])),
                          gs.stats.weighted_quantile(x, w, [0.05, 0.5]))
    sim = gs.World.default().simulate(2_000, seed=1, progress=False)
    assert sim.risk_table(np.float32(0.95)).equals(sim.risk_table(0.95))
    assert sim.risk_table(np.float32(0.95)).attrs["alpha"] == 0.95
    fan = gs.plot.fan_quantiles(sim, "potash_spot", [f32], by_scenario=False)
    assert fan.equals(gs.plot.fan_quantiles(sim, "potash_spot", [0.05], by_scenario=False))


def test_a_float32_number_is_the_decimal_it_prints_as_in_every_entry_point(default_world):
    # as the config reads it: a strategy built in Python equals the one set by with_params
    f32 = np.float32(0.2)
    s = gs.Strategy("x", {"global_equity": f32, "hk_equity": np.float16(-0.1)}, cost_bps=np.float32(12.3))
    assert s.weights == {"global_equity": 0.2, "hk_equity": -0.1} and s.cost_bps == 12.3
    by_hand = default_world.with_strategies(s)
    by_params = default_world.with_params({"strategies.x.weights.global_equity": f32,
                                           "strategies.x.weights.hk_equity": np.float16(-0.1),
                                           "strategies.x.cost_bps": np.float32(12.3)})
    assert by_hand == by_params
    sim = default_world.simulate(500, seed=1, progress=False)
    mix = {"commodities_arbitrage": f32, "direct_belarus": np.float32(0.8)}
    assert sim.mix_nav(mix).tobytes() == sim.mix_nav({"commodities_arbitrage": 0.2, "direct_belarus": 0.8}).tobytes()
    with pytest.raises(gs.ConfigError, match=r"must be in \[0, 1\], got 1\.01$"):  # as printed, too
        gs.View.prob_above("potash_spot", 1.0, np.float32(1.01))
    view = gs.View.prob_above("potash_spot", np.float32(450.1), np.float32(0.3))
    assert (view.threshold, view.value) == (450.1, 0.3) and gs.View.mean("potash_spot", np.float16(400.5)).value == 400.5


@pytest.mark.parametrize("masked", [np.ma.masked, np.ma.array(450.0, mask=True), np.ma.array(450.0, mask=False)])
def test_a_masked_number_is_refused_where_a_number_is_expected(masked):
    sim = gs.World.default().simulate(300, seed=1, progress=False)
    raises_at("thresholds.potash_spot", gs.World.default().with_params, {"thresholds.potash_spot": masked})
    raises_at("thresholds.potash_spot", sim.summary, "potash_spot", thresholds={"potash_spot": masked})
    raises_at("view.value", gs.View.mean, "potash_spot", masked)


def test_thresholds_given_twice_in_a_series_are_refused():
    sim = gs.World.default().simulate(300, seed=1, progress=False)
    raises_at("thresholds.potash_spot", sim.summary, "potash_spot",
              thresholds=pd.Series([1.0, 2.0], index=["potash_spot"] * 2))


def test_replacing_strategies_drops_the_thresholds_of_those_removed():
    world = gs.World.default().with_params({"thresholds.direct_belarus": 1.0})
    new = gs.Strategy("x", {"hk_equity": 1.0})
    assert world.with_strategies(new, replace=True).thresholds == {"potash_spot": 450.0}
    assert world.with_strategies(new).thresholds == {"potash_spot": 450.0, "direct_belarus": 1.0}


def test_a_probability_of_minus_zero_is_zero(default_world, markov_world):
    # −0.0 is a valid probability (it equals 0), but it showed as "-0%" and kept its sign
    w = default_world.with_params({"scenarios.bear.probability": -0.0, "scenarios.base.probability": 0.75})
    assert math.copysign(1.0, w.probabilities["bear"]) == 1.0 and "-0%" not in repr(w)
    sim = default_world.simulate(1_000, seed=1, progress=False)
    r = sim.reweight({"base": 0.75, "bull": 0.25, "bear": -0.0})
    assert math.copysign(1.0, r.probabilities["bear"]) == 1.0 and "-0%" not in r.report()
    m = markov_world.with_params({"transitions.bull.bear": -0.0, "transitions.bull.bull": 0.9})
    assert math.copysign(1.0, m.transitions.loc["bull", "bear"]) == 1.0


def test_a_lone_surrogate_in_a_strategy_or_mix_name_is_refused_by_name(default_world):
    """UTF-8 cannot encode it: once a bare UnicodeEncodeError from the core."""
    with pytest.raises(gs.ConfigError, match=r"^name: is not valid Unicode text \(a lone surrogate at character 0\)"):
        gs.Strategy("\ud800", {"global_equity": 1.0})
    sim = default_world.simulate(200, seed=0, progress=False)
    for mixes, at in (({"\ud800": {"direct_belarus": 1.0}}, 0), ({"m\ud800": {"direct_belarus": 1.0}}, 1)):
        with pytest.raises(gs.ConfigError, match=rf"^mixes: is not valid Unicode text \(a lone surrogate at character {at}\)"):
            sim.risk_table(strategies=[], mixes=mixes)


def test_an_integer_beyond_64_bits_is_named_as_one_whatever_its_type():
    # a NumPy unsigned integer past 2**63 was called "a float"
    for big in (2**63, np.uint64(2**63), np.uint64(2**64 - 1), np.array(np.uint64(2**63))):
        with pytest.raises(gs.ConfigError, match=r"total: integer \d+ does not fit in 64 bits"):
            DEFAULT.with_params({"factors.roadmap_projects_done.total": big})


def test_a_two_dimensional_quantile_array_is_refused_by_its_shape(sim):
    # its rows read as levels, and the error echoed them as a 1-D array
    with pytest.raises(gs.ConfigError, match=r"quantiles: must be a 1-D sequence of levels, got an array of "
                                             r"shape \(1, 2\)"):
        sim.summary("potash_spot", quantiles=np.array([[0.1, 0.9]]))


def test_a_numpy_string_name_becomes_a_plain_str():
    s = gs.Strategy(np.str_("s"), {"hk_equity": 1.0}, description=np.str_("d"))
    assert type(s.name) is str and type(s.description) is str and "np.str_" not in repr(s)
