"""Monte Carlo standard errors of the summary's means (``mean_se``, ``mean_return_se``).

A scenario's paths are independent draws in a block of fixed size (antithetic: its
pairs are), so its standard error is the sample standard deviation of the draws over
the square root of their number, and the overall row's is sqrt(Σ p_k² se_k²)
(MODEL.md §6). The references below are computed with NumPy from the paths.
"""

from __future__ import annotations

import math
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from conftest import N_SIGMA, single_factor_toml

import geoscenario as gs
from geoscenario.report import _fmt
from geoscenario.summary import make_job


def reference_se(x: np.ndarray, scenario: np.ndarray, probs: list[float], antithetic: bool) -> list[float]:
    """Each scenario's standard error of the mean of ``x``, then the overall one."""
    per = []
    for k in range(len(probs)):
        draws = x[scenario == k]
        if antithetic:
            draws = (draws[0::2] + draws[1::2]) / 2
        per.append(draws.std(ddof=1) / math.sqrt(len(draws)))
    return [*per, math.sqrt(sum((p * s) ** 2 for p, s in zip(probs, per)))]


@pytest.mark.parametrize("antithetic", [False, True])
def test_mean_se_is_the_standard_error_of_each_scenarios_draws(antithetic):
    sim = gs.World.default().simulate(6_000, seed=4, antithetic=antithetic)
    probs = list(sim.probabilities.values())
    table = sim.summary(["potash_spot", "bilateral_trade"])
    for name in ("potash_spot", "bilateral_trade"):
        want = reference_se(sim.paths(name)[:, -1], sim.scenario, probs, antithetic)
        got = table.loc[name, "mean_se"].to_numpy()
        np.testing.assert_allclose(got, want, rtol=1e-9)
    risk = sim.risk_table(0.95, ["direct_belarus"])
    nav = sim.paths("direct_belarus")[:, -1]
    want = reference_se(nav - 1.0, sim.scenario, probs, antithetic)
    np.testing.assert_allclose(risk.loc["direct_belarus", "mean_return_se"].to_numpy(), want, rtol=1e-9)
    # a probability's error is that of the mean of its indicator
    spot = (sim.paths("potash_spot")[:, -1] > 450.0).astype(float)
    got = table.loc["potash_spot", "p_above_se"].to_numpy()
    np.testing.assert_allclose(got, reference_se(spot, sim.scenario, probs, antithetic), rtol=1e-9)
    want = reference_se((nav < 1.0).astype(float), sim.scenario, probs, antithetic)
    np.testing.assert_allclose(risk.loc["direct_belarus", "p_loss_se"].to_numpy(), want, rtol=1e-9)


def test_antithetic_pairs_are_the_draws_not_the_paths():
    # a monotone function of the shocks: twins are negatively correlated, and the pairs'
    # standard error is well below what treating the paths as independent would give
    sim = gs.World.default().simulate(6_000, seed=4, antithetic=True)
    x = sim.paths("potash_spot")[:, -1]
    base = x[sim.scenario == 0]
    naive = base.std(ddof=1) / math.sqrt(len(base))
    assert sim.summary("potash_spot").loc[("potash_spot", "base"), "mean_se"] < 0.6 * naive


@pytest.mark.parametrize("antithetic", [False, True])
def test_mean_se_measures_the_spread_of_means_over_seeds(antithetic):
    # over R independent runs the means' standard deviation estimates the true standard
    # error with relative standard error about 1/sqrt(2(R − 1)); the reported errors'
    # root mean square must agree within N_SIGMA of that
    world, reps = gs.World.default(), 300
    rows = [world.simulate(2_000, seed=1_000 + seed, antithetic=antithetic).summary("potash_spot")
            .loc[("potash_spot", "all")] for seed in range(reps)]
    for value, error in (("mean", "mean_se"), ("p_above", "p_above_se")):
        spread = np.std([r[value] for r in rows], ddof=1)
        rms_se = math.sqrt(np.mean(np.square([r[error] for r in rows])))
        assert abs(spread / rms_se - 1.0) < N_SIGMA / math.sqrt(2 * (reps - 1)), (value, spread, rms_se)


@pytest.mark.parametrize("antithetic", [False, True])
def test_streamed_and_materialised_standard_errors_have_the_same_bits(antithetic):
    world = gs.World.default()
    sim = world.simulate(4_000, seed=9, antithetic=antithetic)
    res = world.simulate_summary(4_000, seed=9, antithetic=antithetic, series=["potash_spot", "direct_belarus"])
    a = res.table.loc["potash_spot", ["mean_se", "p_above_se"]].to_numpy()
    b = sim.summary("potash_spot")[["mean_se", "p_above_se"]].to_numpy()
    assert a.tobytes() == b.tobytes()
    ra = res.risk[["mean_return_se", "p_loss_se"]].to_numpy()
    rb = sim.risk_table(0.95, "direct_belarus")[["mean_return_se", "p_loss_se"]].to_numpy()
    assert ra.tobytes() == rb.tobytes()


def test_reweighted_paths_give_the_standard_error_under_their_new_weights():
    sim = gs.World.default().simulate(6_000, seed=4)
    new = {"base": 0.3, "bull": 0.3, "bear": 0.4}
    table = sim.reweight(new).summary("potash_spot")
    x = sim.paths("potash_spot")[:, -1]
    want = reference_se(x, sim.scenario, list(new.values()), False)
    np.testing.assert_allclose(table["mean_se"].to_numpy(), want, rtol=1e-9)
    want = reference_se((x > 450.0).astype(float), sim.scenario, list(new.values()), False)
    np.testing.assert_allclose(table["p_above_se"].to_numpy(), want, rtol=1e-9)


def test_a_mean_or_probability_a_view_pins_has_no_error():
    sim = gs.World.default().simulate(5_000, seed=2)
    post = sim.with_views([gs.View.mean("potash_spot", 420.0), gs.View.prob_above("bilateral_trade", 9.0, 0.4)])
    spot = post.summary("potash_spot").loc[("potash_spot", "all")]
    trade = post.summary("bilateral_trade", thresholds={"bilateral_trade": 9.0}).loc[("bilateral_trade", "all")]
    assert spot["mean"] == pytest.approx(420.0, rel=1e-9) and trade["p_above"] == pytest.approx(0.4, rel=1e-9)
    # (the rounding of sums over 5,000 paths: 1e-13 of the mean's prior error at most)
    prior = sim.summary("potash_spot").loc[("potash_spot", "all"), "mean_se"]
    assert spot["mean_se"] < 1e-9 * prior
    assert trade["p_above_se"] < 1e-9
    # the scenarios' means are not pinned: each keeps an error, as do the unviewed series
    assert (post.summary("potash_spot").xs("potash_spot")["mean_se"].drop("all") > 0.1 * prior).all()
    assert post.summary("bilateral_trade").loc[("bilateral_trade", "all"), "mean_se"] > 0


@pytest.mark.parametrize(("antithetic", "seeds"), [(False, 200), (True, 100)])
def test_a_posteriors_errors_measure_the_spread_of_its_means_over_seeds(antithetic, seeds):
    # the view pins E[spot at the horizon]; the spot 4 months earlier is correlated with it,
    # so its posterior mean varies less than its weights alone say (about 3 times less
    # variance here). Over independent runs, the mean of the reported errors² matches the
    # variance of the estimates: ln of their ratio has standard error about sqrt(2/(runs − 1))
    world = gs.World.default()
    est: dict[str, list[float]] = {"all": [], "base": [], "bear": []}
    se2: dict[str, list[float]] = {k: [] for k in est}
    for seed in range(seeds):
        post = world.simulate(2_000, seed=seed, antithetic=antithetic, progress=False).with_views(
            [gs.View.mean("potash_spot", 420.0)], progress=False)
        table = post.summary("potash_spot", month=20).xs("potash_spot")
        for k in est:
            est[k].append(table.loc[k, "mean"])
            se2[k].append(table.loc[k, "mean_se"] ** 2)
    for k in est:
        ratio = np.var(est[k], ddof=1) / np.mean(se2[k])
        assert abs(math.log(ratio)) < N_SIGMA * math.sqrt(2 / (seeds - 1)), (k, ratio)


def test_a_slack_view_leaves_the_errors_as_the_binding_views_alone_give():
    sim = gs.World.default().simulate(5_000, seed=3)
    pinned = gs.View.mean("potash_spot", 420.0)
    slack = gs.View.mean("bilateral_trade", 1e6, op="<=")  # far above every path: multiplier 0
    a = sim.with_views([pinned]).summary("potash_spot", month=20)
    b = sim.with_views([pinned, slack]).summary("potash_spot", month=20)
    assert sim.with_views([pinned, slack]).posterior["multipliers"][1] == 0.0
    np.testing.assert_allclose(b["mean_se"], a["mean_se"], rtol=1e-6)
    # and as a binding view, the same function would lower the spot's error
    c = sim.with_views([pinned, gs.View.mean("potash_spot", 420.0, month=20)]).summary("potash_spot", month=20)
    assert c.loc[("potash_spot", "all"), "mean_se"] < 1e-9 * a.loc[("potash_spot", "all"), "mean_se"]


def test_no_standard_error_without_independent_draws():
    world = gs.World.default()
    q = world.simulate(4_096, seed=1, qmc=True)
    assert q.summary("potash_spot")[["mean_se", "p_above_se"]].isna().all(axis=None)
    assert q.risk_table(0.95)[["mean_return_se", "p_loss_se"]].isna().all(axis=None)
    streamed = world.simulate_summary(4_096, seed=1, qmc=True, series="potash_spot").table
    assert streamed[["mean_se", "p_above_se"]].isna().all(axis=None)
    report = q.report()
    assert "Monte Carlo s.e." not in report
    # (and it says so, and where errors come from)
    assert "no Monte Carlo standard errors from one Sobol scramble" in report and "replicates=R" in report
    assert "Sobol scramble" not in world.simulate(4_096, seed=1).report()
    # one path per scenario (one pair under antithetic): no spread to measure
    assert world.simulate(3, seed=1).summary("potash_spot")["mean_se"].isna().all()
    assert world.simulate(6, seed=1, antithetic=True).summary("potash_spot")["mean_se"].isna().all()
    two = world.simulate(12, seed=1).summary("potash_spot")["mean_se"]  # 7, 3 and 2 paths
    assert np.isfinite(two).all()


def test_the_report_gives_each_series_overall_standard_error():
    sim = gs.World.default().simulate(5_000, seed=3)
    text = sim.report()
    row = sim.summary("potash_spot").loc[("potash_spot", "all")]
    se, pse = row[["mean_se", "p_above_se"]]
    # (the quantiles' errors as the report prints figures: 0.949, 1.02, 5.14)
    qse = "/".join(_fmt(row[f"{q}_se"]) for q in ("q05", "q50", "q95"))
    assert (f"potash_spot [USD/t] at 2027-06\n  Monte Carlo s.e. of the overall mean {se:.3g}, of its "
            f"5%/50%/95% {qse}, of P(>450) {pse:.2%}\n") in text
    overall = sim.risk_table(0.95).xs("all", level="scenario")
    worst, worst_p = overall["mean_return_se"].max(), overall["p_loss_se"].max()
    assert f"Monte Carlo s.e. of the overall mean returns: at most {worst:.2%}; of P(loss): at most {worst_p:.2%}\n" in text


def test_a_range_that_splits_an_antithetic_pair_is_refused():
    world = gs.World.default()
    job, *_ = make_job(world, 1_000, 24, 1, True, ["potash_spot"], 24, [0.5], None, None, False, None)
    first = job.next_pass()
    with pytest.raises(gs.ConfigError, match="splits an antithetic pair"):
        job.run(first, 1, 500, None, 2048, None)
    with pytest.raises(gs.ConfigError, match="splits an antithetic pair"):
        job.run(first, 0, 499, None, 2048, None)
    # an odd chunk size is rounded up: the pairs still fall whole into chunks
    assert job.run(first, 0, 500, None, 333, None) == job.run(first, 0, 500, None, 2048, None)


@pytest.mark.parametrize("antithetic", [False, True])
def test_a_stress_test_gives_the_standard_error_of_its_mean_pnl(antithetic):
    px = gs.data.equities_daily()[["ntr_adj_close", "spy_adj_close"]]
    res = gs.backtest(px, {"ntr_adj_close": 1.0, "spy_adj_close": -1.0})
    mapping = {"ntr_adj_close": "fertilizer_producers", "spy_adj_close": "global_equity"}
    sim = gs.World.default().simulate(4_000, seed=3, antithetic=antithetic)
    st = res.stress(sim, mapping)
    probs = list(sim.probabilities.values())
    want = reference_se(st.pnl, st.scenario, probs, antithetic)
    np.testing.assert_allclose(st.summary()["mean_return_se"].to_numpy(), want, rtol=1e-9)
    want = reference_se((st.pnl < 0).astype(float), st.scenario, probs, antithetic)
    np.testing.assert_allclose(st.summary()["p_loss_se"].to_numpy(), want, rtol=1e-9)
    q = res.stress(gs.World.default().simulate(4_096, seed=3, qmc=True), mapping)
    assert q.summary()["mean_return_se"].isna().all()


def test_a_prior_that_meets_the_views_keeps_its_estimates_but_gets_a_posteriors_errors():
    sim = gs.World.default().simulate(2_000, seed=1)
    prior = sim.summary("potash_spot").loc[("potash_spot", "all")]
    post = sim.with_views(gs.View.prob_above("potash_spot", 450.0, float(prior["p_above"])))
    assert post.posterior["iterations"] == 0 and post.weights.tobytes() == sim.weights.tobytes()
    row = post.summary("potash_spot").loc[("potash_spot", "all")]
    assert row[["mean", "std", "q05", "p_above"]].to_numpy().tobytes() == \
        prior[["mean", "std", "q05", "p_above"]].to_numpy().tobytes()
    assert row["p_above_se"] < 1e-9 < prior["p_above_se"]  # the view pins it
    assert 0 < row["mean_se"] < prior["mean_se"]  # the spot's mean is correlated with the indicator
    # as a stress test on the same posterior would count it: with the design, not the weights alone
    moved = sim.with_views(gs.View.prob_above("potash_spot", 450.0, float(prior["p_above"]) + 1e-7))
    assert row["mean_se"] == pytest.approx(moved.summary("potash_spot").loc[("potash_spot", "all"), "mean_se"],
                                           rel=1e-3)


def test_a_posterior_pickled_without_its_multipliers_still_leaves_slack_views_out():
    # posteriors pickled before the multipliers were kept have NaN ones: a slack inequality is
    # told from its posterior mean, off its bound
    sim = gs.World.default().simulate(3_000, seed=4)
    post = sim.with_views([gs.View.mean("potash_spot", 440.0), gs.View.mean("global_equity", 100.0, op=">=")])
    assert post.posterior["multipliers"][1] == 0.0
    state = pickle.loads(pickle.dumps(post)).__dict__.copy()
    assert "_design_cache" not in state  # (S⁻¹ is made again, not pickled)
    state["_posterior"] = {k: v for k, v in state["_posterior"].items()
                           if k not in ("kish_effective_scenarios", "max_weight", "multipliers")}
    old = object.__new__(gs.Simulation)
    old.__setstate__(state)
    assert np.isnan(old.posterior["multipliers"]).all()
    a, b = post.summary("global_equity"), old.summary("global_equity")
    np.testing.assert_allclose(b["mean_se"], a["mean_se"], rtol=1e-9)
    assert a.loc[("global_equity", "all"), "mean_se"] > 0.1


def test_a_posteriors_errors_have_the_same_bits_whatever_blas_threads(tmp_path):
    # 240 views: a LAPACK inverse of their covariance would follow BLAS's threads (it does from
    # about 200 on)
    script = tmp_path / "errors.py"
    script.write_text(
        "import hashlib, geoscenario as gs\n"
        "sim = gs.World.default().simulate(4_000, seed=6, progress=False)\n"
        "names = ['potash_spot', 'bilateral_trade', 'global_equity', 'hk_equity', 'eurobond_price',\n"
        "         'machinery_orders', 'malaszewicze_trains', 'middle_corridor_volume', 'digital_ruble_share',\n"
        "         'roadmap_projects_done']\n"
        "views = [gs.View.mean(n, float(sim.weights @ sim.paths(n)[:, m]) * 1.001, month=m)\n"
        "         for n in names for m in range(1, 25)]\n"
        "post = sim.with_views(views, progress=False)\n"
        "t = post.summary(['potash_spot', 'contract_price', 'dislocation'], month=20)\n"
        "print(len(views), hashlib.sha256(t[['mean_se', 'p_above_se']].to_numpy().tobytes()).hexdigest())\n",
        encoding="utf-8")
    out = []
    for threads in ("1", "2"):
        env = {**os.environ, "OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
        p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
        assert p.returncode == 0, p.stderr
        out.append(p.stdout)
    assert out[0].startswith("240 ") and out[0] == out[1]


def test_a_view_at_the_edge_of_its_range_restricts_the_paths_or_leaves_no_error():
    sim = gs.World.default().simulate(2_000, seed=1)
    x = sim.paths("potash_spot")[:, -1]
    # all the weight on the one path at the top: no spread left to estimate an error from
    with pytest.warns(UserWarning, match="effective paths"):
        post = sim.with_views(gs.View.mean("potash_spot", float(x.max())))
    assert math.isinf(post.posterior["multipliers"][0])
    table = post.summary(["potash_spot", "global_equity"])
    assert table["mean"].notna().all() and table["mean_se"].isna().all() and table["p_above_se"].isna().all()
    assert post.risk_table(0.95)[["mean_return_se", "p_loss_se"]].isna().all(axis=None)
    assert "Monte Carlo s.e." not in post.report()
    # P(spot > 450) = 1: the paths above 450 under their prior weights, a domain whose mean
    # has the error of those paths' own (weights as given, the restriction fixed by the paths)
    above = sim.with_views(gs.View.prob_above("potash_spot", 450.0, 1.0))
    assert math.isinf(above.posterior["multipliers"][0])
    row = above.summary("global_equity").loc[("global_equity", "all")]
    g = sim.paths("global_equity")[:, -1]
    w = np.where(x > 450.0, sim.weights, 0.0)
    parts = [(g[sim.scenario == k], w[sim.scenario == k]) for k in range(3)]
    assert row["mean_se"] == pytest.approx(gs.stats._mean_se(parts, float(w.sum()), False), rel=1e-9)
    # a level that leaves one bull path above it: bull's weight on one path has no error,
    # and so neither has the overall mean, which bull moves (as a prior scenario of one path)
    bull = np.sort(x[sim.scenario == 1])
    one = sim.with_views(gs.View.prob_above("potash_spot", float(bull[-2] + bull[-1]) / 2, 1.0))
    table = one.summary("global_equity").xs("global_equity")
    assert table["mean_se"].isna().loc[["bull", "all"]].all() and table["mean_se"].notna().loc[["base", "bear"]].all()


def test_a_stress_test_on_a_posterior_counts_the_views_fit():
    # a book long the global_equity asset alone, never rebalanced: its P&L is the factor's
    # growth, whose mean the view pins, so its mean P&L has no error left
    px = gs.data.equities_daily()[["ntr_adj_close", "spy_adj_close"]]
    res = gs.backtest(px, {"ntr_adj_close": 0.0, "spy_adj_close": 1.0})
    mapping = {"ntr_adj_close": "fertilizer_producers", "spy_adj_close": "global_equity"}
    sim = gs.World.default().simulate(4_000, seed=3)
    start = sim.paths("global_equity")[0, 0]
    post = sim.with_views([gs.View.mean("global_equity", 1.05 * start)])
    st = res.stress(post, mapping, rebalance="never")
    table = st.summary()
    assert table.loc["all", "mean_return"] == pytest.approx(0.05, rel=1e-9)
    as_given = reference_se(st.pnl, st.scenario, [1.0] * 3, False)  # (only its size matters here)
    assert table.loc["all", "mean_return_se"] < 1e-9 * as_given[0]
    assert (table["mean_return_se"].drop("all") > 1e-4).all()
    assert pickle.loads(pickle.dumps(st)).summary().equals(table)


def test_a_scenario_reweighted_to_zero_leaves_the_overall_error_finite():
    # 7 paths: base 4, bull 2, bear 1; bear's single path has no error, but weighs nothing
    sim = gs.World.default().simulate(7, seed=1)
    new = {"base": 0.5, "bull": 0.5, "bear": 0.0}
    got = sim.reweight(new).summary("potash_spot")["mean_se"]
    x = sim.paths("potash_spot")[:, -1]
    per = [x[sim.scenario == k].std(ddof=1) / math.sqrt(np.sum(sim.scenario == k)) for k in (0, 1)]
    assert got.loc[("potash_spot", "all")] == pytest.approx(math.sqrt(sum((0.5 * s) ** 2 for s in per)), rel=1e-9)


def test_a_long_title_puts_the_standard_error_on_its_own_line():
    toml = gs.World.default().to_toml().replace('unit = "trains/day"', 'unit = "trains per day, both directions, in total"')
    sim = gs.World.from_toml(toml).simulate(3_000, seed=1)
    row = sim.summary("malaszewicze_trains").loc[("malaszewicze_trains", "all")]
    qse = "/".join(_fmt(row[f"{q}_se"]) for q in ("q05", "q50", "q95"))
    lines = sim.report().splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith("malaszewicze_trains ["))
    assert lines[i].endswith("at 2027-06")
    assert lines[i + 1] == f"  Monte Carlo s.e. of the overall mean {row['mean_se']:.3g}, of its 5%/50%/95% {qse}"


def test_the_report_leaves_out_quantile_errors_it_does_not_have():
    # the median of a log-OU started at its mean is symmetric in the shocks: every
    # antithetic pair straddles it, and its error is unknown (NaN), not printed
    world = gs.World.from_toml(single_factor_toml("log_ou", "theta = 100.0, kappa = 0.4, sigma = 0.30"))
    for antithetic in (False, True):
        sim = world.simulate(1_000, seed=1, antithetic=antithetic)
        known = np.isfinite(sim.summary("x").loc[("x", "all"), "q50_se"])
        assert known != antithetic
        assert ("of its 5%/50%/95%" in sim.report()) == known


def test_a_stress_result_pickled_before_it_kept_how_paths_were_drawn_has_no_error():
    import pickle

    px = gs.data.equities_daily()[["ntr_adj_close", "spy_adj_close"]]
    res = gs.backtest(px, {"ntr_adj_close": 1.0, "spy_adj_close": -1.0})
    st = res.stress(gs.World.default().simulate(2_000, seed=3, antithetic=True),
                    {"ntr_adj_close": "fertilizer_producers", "spy_adj_close": "global_equity"})
    state = {k: v for k, v in st.__dict__.items() if k not in ("antithetic", "qmc")}
    old = type(st).__new__(type(st))
    old.__setstate__(state)
    assert old.summary()["mean_return_se"].isna().all()  # not the errors of independent paths
    again = pickle.loads(pickle.dumps(st))
    assert again.summary().equals(st.summary()) and np.isfinite(again.summary()["mean_return_se"]).all()


@pytest.mark.parametrize("pairs", [False, True])
def test_a_posteriors_error_is_the_same_whether_its_scenarios_paths_are_runs_or_interleaved(pairs):
    # blocks given as slices (each scenario one run of paths), and the same paths dealt out
    # in pairs across the scenarios, as masks and as indices: a scenario's paths keep their
    # order (so its antithetic pairs), and so the error keeps its bits
    from geoscenario import stats

    rng = np.random.default_rng(5)
    n, runs = 6_000, [(0, 2_000), (2_000, 2_600), (2_600, 6_000)]
    x, w = rng.normal(size=n), rng.random(n) / n
    ft = np.ascontiguousarray(np.vstack([x * 0.3 + rng.normal(size=n), (x > 0.5) - 0.3]))
    s_inv = np.array([[1.5, 0.2], [0.2, 4.0]])
    slices = [slice(a, b) for a, b in runs]
    owner = np.repeat(np.arange(3), [b - a for a, b in runs])
    # a scenario's k-th pair goes to the place of the k-th pair of a shuffled deal of all pairs
    deal = rng.permutation(np.repeat(np.arange(3), [(b - a) // 2 for a, b in runs]))
    place = np.empty(n, np.intp)
    for k in range(3):
        pairs_of_k = np.flatnonzero(deal == k)
        place[np.flatnonzero(owner == k)] = (2 * pairs_of_k[:, None] + np.arange(2)).ravel()
    xi, wi, fti = np.empty(n), np.empty(n), np.empty_like(ft)
    xi[place], wi[place], fti[:, place] = x, w, ft
    masks = [np.isin(np.arange(n), place[s]) for s in slices]
    assert not any(np.all(np.diff(np.flatnonzero(m)) == 1) for m in masks)  # really interleaved
    for g in (-1, 0, 2):
        mass = float(w.sum() if g < 0 else w[slices[g]].sum())
        want = stats._weighted_mean_se(x, w, slices, g, mass, pairs, (ft, s_inv))
        assert want > 0
        for blocks in (masks, [np.flatnonzero(m) for m in masks]):
            got = stats._weighted_mean_se(xi, wi, blocks, g, mass, pairs, (fti, s_inv))
            # (over all paths the group's mean is summed in the dealt order: its last bit may move)
            assert got == want if g >= 0 else got == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("pairs", [False, True])
def test_errors_found_together_have_the_bits_of_each_alone(pairs, monkeypatch):
    # the core takes a posterior's columns a batch at a time (3 here, so 8 columns make
    # three calls, the last one short), reading the weights and the views' functions once
    from geoscenario import stats

    monkeypatch.setattr(stats, "_COLUMNS", 3)
    rng = np.random.default_rng(11)
    n, runs = 40_000, [(0, 21_000), (21_000, 27_000), (27_000, 40_000)]  # (past one chunk of the core)
    x, w = rng.normal(size=n), rng.random(n) / n
    ft = np.ascontiguousarray(np.vstack([x * 0.3 + rng.normal(size=n), (x > 0.5) - 0.3]))
    s_inv = np.array([[1.5, 0.2], [0.2, 4.0]])
    blocks = [slice(a, b) for a, b in runs]
    columns = [x, np.ones(n), *((x <= c).astype(float) for c in (-1.0, 0.0, 2.0)), np.maximum(x - 1.0, 0.0),
               x**2, (x > 0.5).astype(float)]
    for g in (-1, 1):
        mass = float(w.sum() if g < 0 else w[blocks[g]].sum())
        together = stats._weighted_mean_ses(iter(columns), w, blocks, g, mass, pairs, (ft, s_inv))
        alone = [stats._core.calibrated_mean_se([c], w, (0, n) if g < 0 else runs[g], mass, ft, s_inv, runs, pairs)[0]
                 for c in columns]
        assert [v.hex() for v in together] == [v.hex() for v in alone]
        assert together[1] == 0.0 and all(v > 0 for i, v in enumerate(together) if i != 1)  # a constant has none
        # a scenario resting on one path: no error for any column
        thin = w.copy()
        thin[runs[2][0]:runs[2][1]] = 0.0
        thin[runs[2][0]] = 1.0
        assert all(math.isnan(v) for v in stats._weighted_mean_ses(columns, thin, blocks, g, mass, pairs, (ft, s_inv)))
