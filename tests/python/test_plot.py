"""Unit tests of ``geoscenario.plot`` with matplotlib's Agg backend.

The drawing functions are checked through what they leave on the Axes: the
number of lines, collections and patches, the axis labels, and the plotted
numbers themselves, which must be the weighted statistics of
:mod:`geoscenario.stats` on the simulated paths.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import geoscenario as gs
import geoscenario.plot as gsplot

STRATEGIES = ["commodities_arbitrage", "technology_transfer"]


@pytest.fixture(scope="module")
def plt():
    mpl = pytest.importorskip("matplotlib", reason="gs.plot tests need matplotlib: pip install -e '.[test]'")
    mpl.use("Agg", force=True)
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def _masks(sim):
    return [(name, sim.scenario == k) for k, name in enumerate(sim.scenario_names)]


def _step_data(patch):
    data = patch.get_data()
    return np.asarray(data.values), np.asarray(data.edges)


# ---------------------------------------------------------------------------- import
def test_import_does_not_import_matplotlib():
    code = "import sys, geoscenario.plot; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_missing_matplotlib_raises_clear_import_error(sim, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install geoscenario\[plot\]"):
        gsplot.fan_chart(sim, "potash_spot")
    # computing without drawing still works
    assert gsplot.fan_quantiles(sim, "potash_spot").shape == (sim.horizon_months + 1, 3 * 5)


# ---------------------------------------------------------------------------- fan charts
def test_fan_chart_structure(sim, plt):
    ax = gsplot.fan_chart(sim, "potash_spot")
    assert len(ax.lines) == 3  # one median per scenario
    assert len(ax.collections) == 3 * 2  # 5-95 and 25-75 bands per scenario
    assert ax.get_xlabel() == "month"
    assert ax.get_ylabel() == "potash_spot (USD/t)"
    assert "potash_spot" in ax.get_title()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert all(any(name in t for t in legend) for name in sim.scenario_names)


def test_fan_chart_labels_a_few_months(sim, plt):
    ax = gsplot.fan_chart(sim, "potash_spot")
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert 3 <= len(labels) <= 8, labels  # 25 monthly labels overlapped


def test_scenario_bars_leave_out_groups_without_values(sim, plt):
    table = sim.summary(["potash_spot", "dislocation"], thresholds={"potash_spot": 450})
    ax = gsplot.scenario_bars(table, "p_above", percent=True)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["potash_spot"] and len(ax.patches) == 4
    with pytest.raises(gs.ConfigError, match="no value to plot") as err:
        gsplot.scenario_bars(sim.summary("dislocation", thresholds={}), "p_above")
    assert err.value.path == "column" and "'p_above' has no value" in str(err.value)
    # without a column, the table itself: empty, or nothing but NaN
    for df, message in [(pd.Series(dtype=float), "df: is empty"),
                        (pd.Series([np.nan] * 4, index=["base", "bull", "bear", "all"]), "df: has no value")]:
        with pytest.raises(gs.ConfigError, match=message) as err:
            gsplot.scenario_bars(df)
        assert err.value.path == "df"


def test_fan_chart_overall_and_even_quantiles(sim, plt):
    ax = gsplot.fan_chart(sim, "contract_price", by_scenario=False)
    assert len(ax.lines) == 1 and len(ax.collections) == 2
    ax = gsplot.fan_chart(sim, "contract_price", quantiles=(0.1, 0.9))
    assert len(ax.lines) == 0 and len(ax.collections) == 3


@pytest.mark.parametrize("by_scenario", [False, True])
def test_fan_chart_draws_many_bands_darker_inwards(sim, plt, by_scenario):
    # 18 levels, 9 bands: the opacity grew by 0.12 a band, past 1 from the eighth
    q = np.linspace(0.02, 0.98, 18)
    ax = gsplot.fan_chart(sim, "potash_spot", quantiles=q, by_scenario=by_scenario)
    alphas = [c.get_alpha() for c in ax.collections]
    assert len(alphas) == 9 * (3 if by_scenario else 1)
    for band in np.array(alphas).reshape(-1, 9):
        assert (np.diff(band) > 0).all() and 0 < band[0] and band[-1] <= 0.6 + 1e-12
    # a few bands keep their look: 0.18 and 0.30 overall
    ax = gsplot.fan_chart(sim, "potash_spot", by_scenario=False)
    assert [round(c.get_alpha(), 12) for c in ax.collections] == [0.18, 0.3]


def test_fan_chart_accepts_ax(sim, plt):
    fig, axes = plt.subplots(1, 2)
    assert gsplot.fan_chart(sim, "potash_spot", ax=axes[1]) is axes[1]
    assert len(axes[0].lines) == 0


@pytest.mark.parametrize("series", ["potash_spot", "roadmap_projects_done", "technology_transfer"])
def test_fan_chart_quantiles_are_weighted_quantiles(sim, plt, series):
    q = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
    data = sim.paths(series)
    ax = gsplot.fan_chart(sim, series, quantiles=q)
    table = gsplot.fan_quantiles(sim, series, q)
    assert list(table.index) == list(sim.months)
    for j, (name, m) in enumerate(_masks(sim)):
        x, w = data[m], sim.weights[m]
        expected = np.array([gs.stats.weighted_quantile(np.ascontiguousarray(x[:, t]), w, q)
                             for t in range(data.shape[1])])
        np.testing.assert_array_equal(table[name].to_numpy(), expected)
        # the median line of this scenario
        np.testing.assert_array_equal(np.asarray(ax.lines[j].get_ydata(), dtype=float), expected[:, 2])
        # the two bands of this scenario: their outlines are the quantile curves
        for i, band in enumerate(ax.collections[2 * j: 2 * j + 2]):
            ys = np.concatenate([p.vertices[:, 1] for p in band.get_paths()])
            assert np.isin(expected[:, i], ys).all()
            assert np.isin(expected[:, 4 - i], ys).all()


def test_fan_chart_overall_uses_the_weights(sim, plt):
    tilted = sim.reweight({"base": 0.2, "bull": 0.2, "bear": 0.6})
    ax = gsplot.fan_chart(tilted, "potash_spot", by_scenario=False)
    col = np.ascontiguousarray(sim.paths("potash_spot")[:, -1])
    median = ax.lines[0].get_ydata()[-1]
    assert median == gs.stats.weighted_quantile(col, tilted.weights, 0.5)
    assert median != gs.stats.weighted_quantile(col, sim.weights, 0.5)
    # conditional (per-scenario) fans do not depend on the probabilities
    pd.testing.assert_frame_equal(gsplot.fan_quantiles(tilted, "potash_spot"),
                                  gsplot.fan_quantiles(sim, "potash_spot"))


def test_fan_chart_rejects_bad_quantiles(sim, plt):
    with pytest.raises(ValueError, match="quantiles"):
        gsplot.fan_chart(sim, "potash_spot", quantiles=(0.5, 1.5))
    with pytest.raises(ValueError, match="not a series"):
        gsplot.fan_chart(sim, "no_such_series")


# ---------------------------------------------------------------------------- histograms
def test_horizon_hist_mixture(sim, plt):
    ax = gsplot.horizon_hist(sim, "dislocation", bins=60, level=0.0)
    assert len(ax.patches) == 4  # three scenarios and the overall density
    assert len(ax.lines) == 1  # the level
    assert ax.get_xlabel() == "dislocation (USD/t)" and ax.get_ylabel().startswith("density")
    assert ax.get_title() == f"dislocation at {sim.months[-1]:%Y-%m}"
    vals = [_step_data(p) for p in ax.patches]
    edges = vals[0][1]
    assert len(edges) == 61
    widths = np.diff(edges)
    # scenario curves add up to the overall one; areas are the probabilities inside the range
    np.testing.assert_allclose(sum(v for v, _ in vals[:3]), vals[3][0], rtol=1e-12, atol=1e-15)
    col = sim.paths("dislocation")[:, -1]
    for (_name, m), (v, _) in zip(_masks(sim), vals):
        inside = m & (col >= edges[0]) & (col <= edges[-1])
        assert np.isclose((v * widths).sum(), sim.weights[inside].sum())
    assert 0.99 < (vals[3][0] * widths).sum() <= 1.0 + 1e-12
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    p_bear = gs.stats.prob_above(col[sim.scenario == 2], sim.weights[sim.scenario == 2], 0.0)
    assert any(t.startswith("bear") and f"{p_bear:.1%}" in t for t in legend)


def test_horizon_hist_conditional_and_overall(sim, plt):
    ax = gsplot.horizon_hist(sim, "potash_spot", conditional=True, month="2026-06")
    assert len(ax.patches) == 3
    for p in ax.patches:
        v, e = _step_data(p)
        assert 0.99 < (v * np.diff(e)).sum() <= 1.0 + 1e-12
    assert "2026-06" in ax.get_title()
    ax = gsplot.horizon_hist(sim, "potash_spot", by_scenario=False, label="prior", color="tab:orange")
    assert len(ax.patches) == 1
    assert ax.get_legend().get_texts()[0].get_text() == "prior"


@pytest.mark.parametrize("bins", [np.int64(3), np.array(3)])
def test_horizon_hist_bins_take_any_integer_type(sim, plt, bins):
    steps = [[_step_data(p)[0] for p in gsplot.horizon_hist(sim, "potash_spot", bins=b).patches] for b in (bins, 3)]
    assert steps[0] and all(len(a) == 3 and np.array_equal(a, b) for a, b in zip(*steps))


def test_horizon_hist_integer_series_gets_integer_bins(sim, plt):
    ax = gsplot.horizon_hist(sim, "roadmap_projects_done", conditional=True)
    _, edges = _step_data(ax.patches[0])
    assert np.allclose(np.diff(edges), 1.0) and np.allclose(edges % 1.0, 0.5)


def test_horizon_hist_of_whole_numbers_beyond_2_53_draws_value_bins(plt):
    # every double above 2**53 is a whole number: not a count, and x + 0.5 is not a double
    world = gs.World.from_toml(
        '[factors.x]\nkind = "gbm"\nunit = "i"\ninitial = 1e12\n'
        '[scenarios.base]\nprobability = 1.0\nx = { g = 5.0, sigma = 0.0 }\n'
    )
    big = world.simulate(200, 24, seed=0, progress=False)
    x = big.paths("x")[:, -1]
    assert x[0] > 2.0**53 and np.ptp(x) == 0.0  # one whole number, far above 2**53
    ax = gsplot.horizon_hist(big, "x", bins=20)
    _, edges = _step_data(ax.patches[0])
    assert len(edges) >= 2 and np.all(np.diff(edges) > 0) and edges[0] < x[0] < edges[-1]


@pytest.mark.parametrize(
    "kwargs, path",
    [
        ({"bins": 0}, "bins"),
        ({"bins": 10**8}, "bins"),  # would allocate and draw for minutes
        ({"month": "1999-01"}, "month"),
        ({"value_range": (300.0, 300.0)}, "value_range"),  # zero width: every density 0/0
        ({"value_range": (500.0, 300.0)}, "value_range"),
        ({"value_range": (1.0,)}, "value_range"),
        ({"value_range": (1.0, float("nan"))}, "value_range"),
        ({"value_range": (-1e308, 1e308)}, "value_range"),  # the width overflows
        ({"value_range": (1e15, 1e15 + 1), "bins": 1000}, "value_range"),  # bins narrower than an ulp
        ({"value_range": np.array([1.0, 2.0, 3.0])}, "value_range"),
        ({"value_range": np.array([[1.0, 2.0]])}, "value_range"),
        ({"value_range": (1e6, 2e6)}, "value_range"),  # no path in it: an empty plot, drawn silently
        ({"color": "notacolor"}, "color"),
        ({"label": 3}, "label"),
        ({"level": "x"}, "level"),
        ({"level": float("inf")}, "level"),
    ],
)
def test_horizon_hist_rejects_bad_arguments(sim, plt, kwargs, path):
    with pytest.raises(gs.ConfigError) as err:
        gsplot.horizon_hist(sim, "potash_spot", **kwargs)
    assert err.value.path == path


def test_a_value_range_may_be_an_array_of_two(sim, plt):
    x = sim.paths("potash_spot")[:, -1]
    lo_hi = np.quantile(x, [0.01, 0.99])
    ax = gsplot.horizon_hist(sim, "potash_spot", value_range=lo_hi, bins=10, by_scenario=False)
    _, edges = _step_data(ax.patches[0])
    assert edges[0] == lo_hi[0] and edges[-1] == lo_hi[1]


def test_automatic_bins_narrower_than_an_ulp_merge():
    x = 1e15 + np.arange(5.0) / 4  # a spread of one unit in the last place (0.125) times 8
    edges = gsplot._edges(x, np.ones_like(x), 1000)
    assert np.isfinite(edges).all() and (np.diff(edges) > 0).all()
    assert edges[0] <= x.min() and edges[-1] >= 1e15 + 0.75 and 2 <= len(edges) <= 1001


@pytest.mark.parametrize("whis", [(0.5,), (0.9, 0.1), (0.05, 1.5)])
def test_nav_distribution_rejects_bad_whiskers(sim, plt, whis):
    with pytest.raises(gs.ConfigError) as err:
        gsplot.nav_distribution(sim, ["direct_belarus"], whis=whis)
    assert err.value.path == "whis"


# ---------------------------------------------------------------------------- what-ifs
def test_probability_curve_is_reweighting(sim, plt):
    probs = np.linspace(0.0, 0.6, 7)
    ax = gsplot.probability_curve(sim, "potash_spot", 450.0, "bear", probs=probs)
    assert len(ax.lines) == 3  # curve, prior, point at the prior
    curve = ax.lines[0]
    np.testing.assert_allclose(curve.get_xdata(), probs)
    col = sim.paths("potash_spot")[:, -1]
    cond = {name: gs.stats.prob_above(col[m], sim.weights[m], 450.0) for name, m in _masks(sim)}
    prior = sim.probabilities
    rest = 1.0 - prior["bear"]
    expected = [p * cond["bear"] + (1 - p) * sum(prior[k] / rest * cond[k] for k in ("base", "bull"))
                for p in probs]
    np.testing.assert_allclose(curve.get_ydata(), expected, rtol=1e-12, atol=1e-12)
    at_prior = sim.summary("potash_spot", thresholds={"potash_spot": 450.0}).loc[("potash_spot", "all"), "p_above"]
    assert np.isclose(ax.lines[2].get_ydata()[0], at_prior)
    assert ax.lines[1].get_xdata()[0] == pytest.approx(prior["bear"])
    assert ax.get_xlabel().startswith("P(bear)") and "450" in ax.get_ylabel()
    # under Markov regimes reweighting sets where paths start, not where they are
    markov = gs.World.default().with_params({
        "world.regimes": "markov", "scenarios.bull.onset": None, "scenarios.bear.onset": None,
        "transitions": {"base": {"base": 0.9, "bear": 0.1}, "bull": {"bull": 1.0}, "bear": {"bear": 1.0}}})
    ax = gsplot.probability_curve(markov.simulate(2_000, progress=False), "potash_spot", 450.0, "bear")
    assert ax.get_xlabel().startswith("P(starting in bear)") and "vs P(starting in bear)" in ax.get_title()


def test_probability_curve_of_a_posterior_keeps_its_views(sim, plt):
    view = gs.View.mean("potash_spot", 420.0)
    post = sim.with_views(view)
    probs = np.array([0.1, 0.3, 0.5])
    ax = gsplot.probability_curve(post, "potash_spot", 450.0, "bear", probs=probs)
    col = sim.paths("potash_spot")[:, -1]
    rest = 1.0 - sim.probabilities["bear"]
    for p, y in zip(probs, ax.lines[0].get_ydata()):
        q = {k: (p if k == "bear" else (1 - p) * v / rest) for k, v in sim.probabilities.items()}
        w = sim.reweight(q).with_views(view).weights
        assert abs(w @ col - 420.0) < 1e-6  # the view holds at this point
        assert y == pytest.approx(gs.stats.prob_above(col, w, 450.0), abs=1e-12)


def test_probability_curve_pinned_by_a_view_is_drawn_flat(sim, plt):
    # the view holds the probability at 30% whatever the prior: the axis spanned its 1e-13
    # of rounding, drawn as a steep rise
    post = sim.with_views(gs.View.prob_above("potash_spot", 450.0, 0.30))
    ax = gsplot.probability_curve(post, "potash_spot", 450.0, "bear", probs=[0.1, 0.2, 0.3])
    assert np.ptp(ax.lines[0].get_ydata()) < 1e-9
    lo, hi = ax.get_ylim()
    assert lo < 0.26 and hi > 0.34  # (±5 points)


def test_probability_curve_rejects_bad_arguments(sim, plt):
    with pytest.raises(ValueError, match="scenario"):
        gsplot.probability_curve(sim, "potash_spot", 450, "doom")
    with pytest.raises(ValueError, match="probs"):
        gsplot.probability_curve(sim, "potash_spot", 450, "bear", probs=[0.2, 1.2])
    only_bear = sim.reweight({"base": 0.0, "bull": 0.0, "bear": 1.0})
    with pytest.raises(ValueError, match="probability 1"):
        gsplot.probability_curve(only_bear, "potash_spot", 450, "bear")


def test_nav_distribution_boxes_are_weighted_quantiles(sim, plt):
    ax = gsplot.nav_distribution(sim, STRATEGIES)
    assert len(ax.patches) == len(STRATEGIES) * 4  # base, bull, bear, all
    assert ax.get_ylabel() == "terminal return NAV_H − 1"
    assert [t.get_text() for t in ax.get_xticklabels()] == STRATEGIES
    groups = [*_masks(sim), ("all", np.ones(sim.n_paths, dtype=bool))]
    for s, strategy in enumerate(STRATEGIES):
        ret = sim.paths(strategy)[:, -1] - 1.0
        for g, (_name, m) in enumerate(groups):
            q1, q3 = gs.stats.weighted_quantile(ret[m], sim.weights[m], np.array([0.25, 0.75]))
            ys = ax.patches[4 * s + g].get_path().vertices[:, 1]
            assert np.isclose(ys.min(), q1) and np.isclose(ys.max(), q3)


def test_nav_distribution_compares_simulations(sim, plt):
    tilted = sim.reweight({"base": 0.4, "bull": 0.2, "bear": 0.4})
    ax = gsplot.nav_distribution({"prior": sim, "tilted": tilted}, "technology_transfer")
    assert len(ax.patches) == 2 * 4
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["technology_transfer\nprior", "technology_transfer\ntilted"]
    ax = gsplot.nav_distribution(sim, STRATEGIES, by_scenario=False)
    assert len(ax.patches) == len(STRATEGIES)


def test_scenario_bars_inputs(sim, plt):
    table = sim.summary(["potash_spot", "dislocation"], thresholds={"potash_spot": 450, "dislocation": 100})
    ax = gsplot.scenario_bars(table, "p_above", percent=True)
    assert len(ax.patches) == 2 * 4
    assert ax.get_ylabel() == "p_above"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["potash_spot", "dislocation"]
    heights = [p.get_height() for p in ax.patches]
    # bars are drawn scenario by scenario, series within a scenario
    expected = [table.loc[(s, k), "p_above"] for k in ["base", "bull", "bear", "all"]
                for s in ["potash_spot", "dislocation"]]
    np.testing.assert_allclose(heights, expected)
    with pytest.raises(ValueError, match="column"):
        gsplot.scenario_bars(table)

    series = table.loc["potash_spot", "p_above"].rename("P(spot > 450)")
    ax = gsplot.scenario_bars(series)
    assert len(ax.patches) == 4 and ax.get_ylabel() == "P(spot > 450)"

    wide = pd.DataFrame({"base": [1.0, 2.0, 3.0], "bear": [0.5, 0.4, 0.3]}, index=pd.Index([1, 2, 3], name="x"))
    ax = gsplot.scenario_bars(wide)
    assert len(ax.patches) == 6 and ax.get_xlabel() == "x"


@pytest.mark.parametrize(
    "call, path",
    [
        (lambda sim: gsplot.fan_quantiles(sim, "potash_spot", "abc"), "quantiles"),
        (lambda sim: gsplot.fan_chart("not a simulation", "potash_spot"), "sim"),
        (lambda sim: gsplot.horizon_hist(None, "potash_spot"), "sim"),
        (lambda sim: gsplot.nav_distribution({"a": 1}, ["direct_belarus"]), "sim"),
        (lambda sim: gsplot.scenario_bars(sim.summary("potash_spot"), "nope"), "column"),
        (lambda sim: gsplot.scenario_bars([1, 2, 3]), "df"),
    ],
)
def test_plot_arguments_of_the_wrong_kind_name_the_argument(sim, plt, call, path):
    with pytest.raises(gs.ConfigError) as err:
        call(sim)
    assert err.value.path == path


# ---------------------------------------------------------------------------- argument checks
@pytest.mark.parametrize("strategies", ["potash_spot", "no_such_strategy", [], 5, ["direct_belarus", "dislocation"]])
def test_nav_distribution_takes_only_strategies(sim, plt, strategies):
    # a factor is not a strategy (its "return" NAV_H - 1 would be meaningless); none at all is no plot
    with pytest.raises(gs.ConfigError) as err:
        gsplot.nav_distribution(sim, strategies)
    assert err.value.path == "strategies"
    with pytest.raises(gs.ConfigError) as err:
        gsplot.nav_distribution({"a": sim, "b": sim}, strategies)
    assert err.value.path == "strategies"


def test_scenario_bars_refuses_non_numeric_data(sim, plt):
    table = sim.summary("potash_spot").assign(unit="USD/t")
    with pytest.raises(gs.ConfigError, match="'unit' must hold real numbers") as err:
        gsplot.scenario_bars(table, "unit")  # text: every bar would be NaN
    assert err.value.path == "column"
    with pytest.raises(gs.ConfigError) as err:
        gsplot.scenario_bars(table.loc["potash_spot"], "unit")  # indexed by scenario
    assert err.value.path == "column"
    with pytest.raises(gs.ConfigError) as err:
        gsplot.scenario_bars(table.loc["potash_spot"])  # every column, the unit among them
    assert err.value.path == "df"
    with pytest.raises(gs.ConfigError) as err:
        gsplot.scenario_bars(pd.Series(["a", "b"], index=["base", "bear"]))
    assert err.value.path == "df"
    with pytest.raises(gs.ConfigError) as err:  # dates would be drawn as nanoseconds
        gsplot.scenario_bars(pd.Series(pd.to_datetime(["2020-01-01", "2021-01-01"]), index=["base", "bear"]))
    assert err.value.path == "df"
    for bad in (np.inf, -np.inf):  # a bar off the axes, drawn as nothing
        with pytest.raises(gs.ConfigError, match="must hold finite numbers") as err:
            gsplot.scenario_bars(pd.Series([bad, 1.0], index=["base", "bear"]))
        assert err.value.path == "df"
    # numbers, a missing one included, still draw
    ax = gsplot.scenario_bars(pd.Series([0.25, np.nan], index=["base", "bear"]))
    assert len(ax.patches) == 2 and ax.patches[0].get_height() == 0.25


@pytest.mark.parametrize(
    "kwargs, path",
    [
        ({"level": "450"}, "level"),  # a string is not a number, even one that parses
        ({"level": True}, "level"),
        ({"value_range": ("100", "900")}, "value_range"),
        ({"by_scenario": "yes"}, "by_scenario"),
        ({"by_scenario": None}, "by_scenario"),
        ({"conditional": "no"}, "conditional"),
    ],
)
def test_horizon_hist_refuses_arguments_of_the_wrong_kind(sim, plt, kwargs, path):
    with pytest.raises(gs.ConfigError) as err:
        gsplot.horizon_hist(sim, "potash_spot", **kwargs)
    assert err.value.path == path


PLOTS = {
    "fan_chart": lambda sim, **kw: gsplot.fan_chart(sim, "potash_spot", **kw),
    "horizon_hist": lambda sim, **kw: gsplot.horizon_hist(sim, "potash_spot", **kw),
    "probability_curve": lambda sim, **kw: gsplot.probability_curve(sim, "potash_spot", 450, "bear", **kw),
    "nav_distribution": lambda sim, **kw: gsplot.nav_distribution(sim, "direct_belarus", **kw),
    "scenario_bars": lambda sim, **kw: gsplot.scenario_bars(sim.summary("potash_spot"), "mean", **kw),
}


@pytest.mark.parametrize("plot", list(PLOTS))
@pytest.mark.parametrize("ax", ["x", 0, np.zeros(2)])
def test_every_plot_refuses_an_ax_that_is_not_an_axes(sim, plt, plot, ax):
    with pytest.raises(gs.ConfigError) as err:
        PLOTS[plot](sim, ax=ax)
    assert err.value.path == "ax"
    assert plt.get_fignums() == []  # refused before any figure is made
    _, good = plt.subplots()
    assert PLOTS[plot](sim, ax=good) is good


@pytest.mark.parametrize(
    "call, path",
    [
        (lambda sim: gsplot.fan_chart(sim, "potash_spot", by_scenario="yes"), "by_scenario"),
        (lambda sim: gsplot.fan_quantiles(sim, "potash_spot", by_scenario=1), "by_scenario"),
        (lambda sim: gsplot.nav_distribution(sim, "direct_belarus", by_scenario="no"), "by_scenario"),
        (lambda sim: gsplot.scenario_bars(sim.summary("potash_spot"), "mean", percent="yes"), "percent"),
        (lambda sim: gsplot.scenario_bars(sim.summary("potash_spot"), "mean", annotate=None), "annotate"),
        (lambda sim: gsplot.fan_chart(sim, 5), "series"),
        (lambda sim: gsplot.fan_quantiles(sim, "no_such_series"), "series"),
        (lambda sim: gsplot.horizon_hist(sim, ["potash_spot"]), "series"),
        (lambda sim: gsplot.probability_curve(sim, "no_such_series", 450, "bear"), "series"),
        (lambda sim: gsplot.probability_curve(sim, "potash_spot", "450", "bear"), "level"),
        (lambda sim: gsplot.probability_curve(sim, "potash_spot", 450, ["bear"]), "scenario"),
    ],
)
def test_plot_flags_series_and_levels_of_the_wrong_kind_name_the_argument(sim, plt, call, path):
    with pytest.raises(gs.ConfigError) as err:
        call(sim)
    assert err.value.path == path


def test_fan_chart_with_one_quantile_draws_that_line(sim, plt):
    ax = gsplot.fan_chart(sim, "potash_spot", quantiles=[0.5])
    assert len(ax.lines) == 3 and len(ax.collections) == 0  # a median per scenario, no band
    assert ax.get_title() == "potash_spot: weighted median"
    assert all(t.get_text().endswith(", median") for t in ax.get_legend().get_texts())
    table = gsplot.fan_quantiles(sim, "potash_spot", [0.5])
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), table[("base", 0.5)].to_numpy())

    # a level other than 0.5 is not called the median
    ax = gsplot.fan_chart(sim, "potash_spot", quantiles=[0.3], by_scenario=False)
    assert len(ax.lines) == 1 and len(ax.collections) == 0
    assert ax.get_title() == "potash_spot: weighted 30% quantile"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["all (100%), 30% quantile"]
    ax = gsplot.fan_chart(sim, "potash_spot", quantiles=[0.025, 0.3, 0.975], by_scenario=False)
    assert ax.get_title() == "potash_spot: weighted quantile bands 2.5%–97.5%"
    assert ax.get_legend().get_texts()[0].get_text() == "all (100%), 30% quantile"


def test_fan_chart_counts_a_repeated_level_once(sim, plt):
    # (0.05, 0.05, 0.95) would pair 5% with 5% and draw the 95% line as the "median"
    ax = gsplot.fan_chart(sim, "potash_spot", quantiles=[0.05, 0.95, 0.05], by_scenario=False)
    assert len(ax.lines) == 0 and len(ax.collections) == 1
    table = gsplot.fan_quantiles(sim, "potash_spot", [0.95, 0.05, 0.95], by_scenario=False)
    assert table.columns.tolist() == [("all", 0.05), ("all", 0.95)]


# ---------------------------------------------------------------------------- colours
HORMUZ = """
[world]
name = "hormuz"
horizon_months = 6
[factors.brent]
kind = "log_ou"
unit = "USD/bbl"
initial = 80.0
[scenarios.calm]
probability = 0.5
brent = { theta = 80.0, kappa = 1.0, sigma = 0.3 }
[scenarios.harassment]
probability = 0.3
onset = [1, 3]
brent = { theta = 95.0 }
[scenarios.closure]
probability = 0.2
onset = [1, 3]
brent = { theta = 140.0 }
"""


def test_scenarios_of_ones_own_world_get_distinct_colours_that_persist(plt):
    """'calm' and 'harassment' once shared a colour (a hash of the name modulo 7)."""
    sim = gs.World.from_toml(HORMUZ).simulate(600, seed=1, progress=False)
    from matplotlib.colors import to_rgb

    fan = {ln.get_label().split(" (")[0]: to_rgb(ln.get_color()) for ln in gsplot.fan_chart(sim, "brent").lines}
    hist = {p.get_label().split(" (")[0]: to_rgb(p.get_edgecolor()) for p in gsplot.horizon_hist(sim, "brent").patches}
    bars = gsplot.scenario_bars(sim.summary(series="brent"), "mean")
    bar = {c.get_label(): to_rgb(c.patches[0].get_facecolor()) for c in bars.containers}
    names = ["calm", "harassment", "closure"]
    for colours in (fan, hist, bar):
        assert len({colours[n] for n in names}) == 3, colours
        assert [colours[n] for n in names] == [fan[n] for n in names]  # the same scenario, the same colour
    assert bar["all"] != bar["calm"]


def test_a_value_range_is_checked_against_the_paths_that_weigh(sim, plt):
    # bear's paths weigh nothing after the reweighting: the range holding only them is empty
    rw = sim.reweight({"base": 0.5, "bull": 0.5, "bear": 0.0})
    x = sim.paths("potash_spot")[:, -1]
    held = x[rw.weights > 0]
    lo = float(held.max()) * 1.0001
    assert (x > lo).any()  # bear paths lie there
    with pytest.raises(gs.ConfigError, match=rf"they lie in \[{held.min():.4g}, {held.max():.4g}\]"):
        gsplot.horizon_hist(rw, "potash_spot", value_range=(lo, float(x.max()) + 1.0))
