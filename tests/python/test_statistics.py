"""Statistical and exact checks of the model (MODEL.md §2–§4).

Expectations come from closed forms or from independent NumPy computations;
statistical tolerances are 4 standard errors estimated from the sample.
"""

from __future__ import annotations

import textwrap
import warnings
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from conftest import (
    DT,
    N_SIGMA,
    assert_mean_close,
    sample_var_se,
    single_factor_toml,
    toml_world,
)

import geoscenario as gs
from geoscenario import stats

NUMPY2 = int(np.__version__.split(".")[0]) >= 2


# ============================================================================ diffusions
@pytest.mark.parametrize("t", [6, 24])
def test_log_ou_mean_and_variance_of_log_level(t):
    kappa, theta, sigma, s0 = 0.8, 50.0, 0.3, 30.0
    w = gs.World.from_toml(
        single_factor_toml("log_ou", f"theta = {theta}, kappa = {kappa}, sigma = {sigma}", initial=f"initial = {s0}")
    )
    sim = w.simulate(20_000, 24, seed=1)
    x = np.log(sim.paths("x")[:, t])
    T = t * DT
    mean = np.log(s0) * np.exp(-kappa * T) + np.log(theta) * (1 - np.exp(-kappa * T))
    var = sigma**2 * (1 - np.exp(-2 * kappa * T)) / (2 * kappa)
    assert_mean_close(x, mean, "E[ln S_T]")
    n = x.size
    assert abs(x.var(ddof=1) - var) <= N_SIGMA * np.sqrt(2.0 / n) * var, (x.var(ddof=1), var)


def test_log_ou_jumps_are_not_compensated_so_their_mean_shifts_the_long_run_level():
    """Merton jumps add to x as MODEL.md §3 writes them: with E[jump] = λΔμ_J per step the
    mean of ln S follows m_{t+1} = a·m_t + (1 − a)·ln θ + λΔμ_J (a = e^{−κΔ}), so it tends
    to ln θ + λΔμ_J/(1 − a) ≈ ln θ + λμ_J/κ, not to ln θ (the bear potash spot's 480
    settles near 480·e^{0.2})."""
    kappa, theta, sigma, lam, mu_j, sigma_j, s0 = 0.6, 480.0, 0.4, 1.5, 0.08, 0.12, 352.0
    w = gs.World.from_toml(single_factor_toml(
        "log_ou", f"theta = {theta}, kappa = {kappa}, sigma = {sigma}, lambda = {lam}, mu_j = {mu_j}, "
        f"sigma_j = {sigma_j}", initial=f"initial = {s0}"))
    h = 120
    x = np.log(w.simulate(20_000, h, seed=5).paths("x")[:, -1])
    a = np.exp(-kappa * DT)
    level = np.log(theta) + lam * DT * mu_j / (1 - a)
    mean = np.log(s0) * a**h + level * (1 - a**h)
    var = (sigma**2 / (2 * kappa) + lam * DT * (mu_j**2 + sigma_j**2) / (1 - a**2)) * (1 - a ** (2 * h))
    assert_mean_close(x, mean, "E[ln S_T]")
    v, se = sample_var_se(x)
    assert abs(v - var) <= N_SIGMA * se, (v, var, se)
    assert x.mean() - np.log(theta) > 0.15  # far above ln θ: the shift is no rounding


@pytest.mark.filterwarnings(r"ignore:factor \S+. the long-run level theta")  # (extreme θ on purpose)
# κ = 0, and κ so small that 2κΔ is subnormal (where 1 − e^{−2κΔ} loses every digit)
@pytest.mark.parametrize("kappa", [0.0, 1e-322, 5e-324])
def test_log_ou_kappa_zero_is_a_random_walk_in_logs(kappa):
    sigma, s0 = 0.4, 20.0
    w = gs.World.from_toml(
        single_factor_toml("log_ou", f"theta = 999.0, kappa = {kappa!r}, sigma = {sigma}", initial=f"initial = {s0}")
    )
    sim = w.simulate(20_000, 24, seed=2)
    x = np.log(sim.paths("x")[:, -1])
    T = 24 * DT
    assert_mean_close(x, np.log(s0), "E[ln S_T] (kappa = 0: theta is irrelevant)")
    var = sigma**2 * T
    assert abs(x.var(ddof=1) - var) <= N_SIGMA * np.sqrt(2.0 / x.size) * var


def test_logit_ou_mean_and_variance_of_logit():
    kappa, theta, sigma, b0, scale = 0.5, 30.0, 0.4, 17.5, 100.0
    w = gs.World.from_toml(
        single_factor_toml(
            "logit_ou",
            f"theta = {theta}, kappa = {kappa}, sigma = {sigma}",
            initial=f"initial = {b0}",
            extra_factor_keys=f"scale = {scale}",
        )
    )
    sim = w.simulate(20_000, 24, seed=3)
    b = sim.paths("x")
    assert np.all((b > 0) & (b < scale))
    q = b[:, -1] / scale
    x = np.log(q / (1 - q))
    logit = lambda v: np.log(v / scale / (1 - v / scale))  # noqa: E731
    T = 2.0
    mean = logit(b0) * np.exp(-kappa * T) + logit(theta) * (1 - np.exp(-kappa * T))
    var = sigma**2 * (1 - np.exp(-2 * kappa * T)) / (2 * kappa)
    assert_mean_close(x, mean, "E[logit(B_T/scale)]")
    assert abs(x.var(ddof=1) - var) <= N_SIGMA * np.sqrt(2.0 / x.size) * var


def test_gbm_expected_level_and_log_moments():
    g, sigma, x0 = 0.10, 0.30, 100.0
    w = gs.World.from_toml(single_factor_toml("gbm", f"g = {g}, sigma = {sigma}", initial=f"initial = {x0}"))
    sim = w.simulate(20_000, 24, seed=4)
    X = sim.paths("x")
    for t in (1, 12, 24):
        assert_mean_close(X[:, t], x0 * np.exp(g * t * DT), f"E[X_{t}]")
    lx = np.log(X[:, -1])
    T = 2.0
    assert_mean_close(lx, np.log(x0) + (g - sigma**2 / 2) * T, "E[ln X_T]")
    var = sigma**2 * T
    assert abs(lx.var(ddof=1) - var) <= N_SIGMA * np.sqrt(2.0 / lx.size) * var


def test_gbm_with_jumps_keeps_the_expected_level_and_compensates_the_log_drift():
    """Merton (1976): ln X_T − ln X_0 = (g − σ²/2 − λk)T + σW_T + Σ jumps, k = e^{μ+σ_J²/2} − 1."""
    g, sigma, lam, mu_j, sigma_j, x0 = 0.05, 0.15, 3.0, -0.08, 0.10, 100.0
    w = gs.World.from_toml(
        single_factor_toml(
            "gbm",
            f"g = {g}, sigma = {sigma}, lambda = {lam}, mu_j = {mu_j}, sigma_j = {sigma_j}",
            initial=f"initial = {x0}",
        )
    )
    sim = w.simulate(40_000, 24, seed=6)
    X = sim.paths("x")
    for t in (1, 12, 24):
        assert_mean_close(X[:, t], x0 * np.exp(g * t * DT), f"E[X_{t}]")
    T, k = 2.0, np.expm1(mu_j + sigma_j**2 / 2)
    y = np.log(X[:, -1] / x0)
    assert_mean_close(y, (g - sigma**2 / 2 - lam * k + lam * mu_j) * T, "E[ln X_T/X_0]")
    var, se = sample_var_se(y)
    assert abs(var - (sigma**2 + lam * (mu_j**2 + sigma_j**2)) * T) <= N_SIGMA * se


def test_merton_jumps_compound_poisson_moments():
    """sigma = kappa = 0: ln S_T - ln S_0 is a compound Poisson sum of N(mu_j, sigma_j) jumps."""
    lam, mu_j, sigma_j = 6.0, 0.05, 0.10
    w = gs.World.from_toml(
        single_factor_toml(
            "log_ou",
            f"theta = 100.0, kappa = 0.0, sigma = 0.0, lambda = {lam}, mu_j = {mu_j}, sigma_j = {sigma_j}",
        )
    )
    sim = w.simulate(20_000, 24, seed=5)
    y = np.log(sim.paths("x")[:, -1] / 100.0)
    lt = lam * 2.0
    assert_mean_close(y, lt * mu_j, "E[sum of jumps]")
    var, se = sample_var_se(y)
    assert abs(var - lt * (sigma_j**2 + mu_j**2)) <= N_SIGMA * se
    # P(no jump in two years) = exp(-lambda T): those paths do not move at all; with
    # lambda T of order 1 (here 12 would leave 0.1 such paths of 20,000 to count)
    rare = gs.World.from_toml(single_factor_toml(
        "log_ou", f"theta = 100.0, kappa = 0.0, sigma = 0.0, lambda = 0.5, mu_j = {mu_j}, sigma_j = {sigma_j}"))
    y0 = np.log(rare.simulate(20_000, 24, seed=5).paths("x")[:, -1] / 100.0)
    p0, expected = np.mean(np.abs(y0) < 1e-12), np.exp(-0.5 * 2.0)  # exp(ln 100) is 100 to a rounding
    assert abs(p0 - expected) <= N_SIGMA * np.sqrt(expected * (1 - expected) / y0.size)


# ============================================================================ onset
ONSET_TOML = """
[world]
name = "onset"
horizon_months = 24

[factors.x]
kind = "gbm"
unit = "index"
initial = 100.0

[factors.y]
kind = "log_ou"
unit = "level"
initial = 50.0

[scenarios.base]
probability = 0.6
x = { g = 0.0, sigma = 0.0 }
y = { theta = 50.0, kappa = 0.0, sigma = 0.0 }

[scenarios.bear]
probability = 0.4
onset = [3, 10]
x = { g = 0.12, sigma = 0.0, onset_jump = -0.2 }
"""


def test_onset_semantics_are_exact():
    """Base parameters before tau, the onset jump at tau, scenario parameters after (MODEL.md §2)."""
    w = toml_world(ONSET_TOML)
    sim = w.simulate(2_000, seed=3)
    assert sim.counts == {"base": 1_200, "bear": 800}
    tau = sim.onset
    bear = sim.scenario == 1
    assert np.all(tau[~bear] == -1)
    assert np.all((tau[bear] >= 3) & (tau[bear] <= 10))
    t = np.arange(25)[None, :]
    after = t >= tau[:, None]
    expected = np.where(after, -0.2 + 0.12 * DT * (t - tau[:, None]), 0.0)
    expected[~bear] = 0.0
    np.testing.assert_allclose(np.log(sim.paths("x") / 100.0), expected, rtol=0, atol=1e-12)
    # y inherits the base parameters in bear (no own entry, no onset jump): constant
    np.testing.assert_allclose(sim.paths("y"), 50.0, rtol=1e-15)


def test_onset_month_is_uniform_on_its_range(sim):
    """Default world: bull onset ~ U{3..12}, bear onset ~ U{1..12}, base has none."""
    names = sim.scenario_names
    base = names.index("base")
    assert np.all(sim.onset[sim.scenario == base] == -1)
    for name, (lo, hi) in {"bull": (3, 12), "bear": (1, 12)}.items():
        tau = sim.onset[sim.scenario == names.index(name)]
        assert tau.min() >= lo and tau.max() <= hi
        months = np.arange(lo, hi + 1)
        freq = np.array([np.mean(tau == m) for m in months])
        p = 1.0 / months.size
        se = np.sqrt(p * (1 - p) / tau.size)
        assert np.all(np.abs(freq - p) <= N_SIGMA * se), (name, freq)


# ============================================================================ completion / adoption
@pytest.mark.parametrize("t", [6, 24])
def test_completion_is_binomial(t):
    total, h = 70, 0.03
    w = gs.World.from_toml(
        single_factor_toml("completion", f"h = {h}", initial="initial = 0", extra_factor_keys=f"total = {total}")
    )
    sim = w.simulate(20_000, 24, seed=6)
    done = sim.paths("x")
    assert np.all(done == np.round(done))
    assert np.all(np.diff(done, axis=1) >= 0)
    assert np.all((done >= 0) & (done <= total))
    assert np.all(done[:, 0] == 0)
    p = 1 - (1 - h) ** t
    mean, var = total * p, total * p * (1 - p)
    d = done[:, t]
    assert_mean_close(d, mean, f"E[done_{t}]")
    v, se = sample_var_se(d)
    assert abs(v - var) <= N_SIGMA * se, (v, var, se)


def test_completion_with_initial_and_certain_completion():
    w = gs.World.from_toml(
        single_factor_toml("completion", "h = 1.0", initial="initial = 4", extra_factor_keys="total = 9")
    )
    done = w.simulate(50, 3, seed=0).paths("x")
    assert np.all(done[:, 0] == 4) and np.all(done[:, 1:] == 9)
    w0 = gs.World.from_toml(
        single_factor_toml("completion", "h = 0.0", initial="initial = 4", extra_factor_keys="total = 9")
    )
    assert np.all(w0.simulate(50, 3, seed=0).paths("x") == 4)


def adoption_world(s_max: float, lag_min: int, lag_max: int, rate: float, noise: float) -> gs.World:
    extra = f"lag_min = {lag_min}\nlag_max = {lag_max}\nrate = {rate}\nnoise = {noise}"
    return gs.World.from_toml(single_factor_toml("adoption", f"s_max = {s_max}", initial="", extra_factor_keys=extra))


def test_adoption_curve_without_noise_matches_a_uniform_lag():
    s_max, rate, lag_min, lag_max, h = 0.4, 0.15, 1, 7, 24
    share = adoption_world(s_max, lag_min, lag_max, rate, 0.0).simulate(20_000, h, seed=7).paths("x")
    t = np.arange(h + 1)
    lags = np.arange(lag_min, lag_max + 1)
    curves = s_max * (1 - np.exp(-rate * np.maximum(t[None, :] - lags[:, None], 0.0)))  # (L, H+1)
    match = np.array([np.all(np.abs(share - c) <= 1e-12, axis=1) for c in curves])  # (L, n)
    assert np.all(match.sum(axis=0) == 1), "every path follows exactly one lag's curve"
    freq = match.mean(axis=1)
    p = 1 / lags.size
    assert np.all(np.abs(freq - p) <= N_SIGMA * np.sqrt(p * (1 - p) / share.shape[0])), freq


def test_adoption_noise_is_independent_normal_of_sd_noise_around_the_curve():
    # far from the bounds nothing is clipped: share_t − curve_t = noise · Z_t, fresh each month
    s_max, rate, noise, h = 0.5, 0.2, 0.03, 24
    share = adoption_world(s_max, 0, 0, rate, noise).simulate(20_000, h, seed=9, progress=False).paths("x")
    t = np.arange(1, h + 1)
    resid = share[:, 7:] - s_max * (1 - np.exp(-rate * t[6:]))  # curve ≥ 0.37: 12 sd from 0
    z = resid.ravel()
    assert abs(z.mean()) <= N_SIGMA * noise / np.sqrt(z.size)
    var, se = sample_var_se(z)
    assert abs(var - noise**2) <= N_SIGMA * se
    lag1 = np.corrcoef(resid[:, :-1].ravel(), resid[:, 1:].ravel())[0, 1]  # not cumulative
    assert abs(lag1) <= N_SIGMA / np.sqrt(resid[:, 1:].size)


def test_adoption_noise_is_clipped_to_unit_interval():
    share = adoption_world(1.0, 0, 0, 0.5, 0.5).simulate(5_000, 24, seed=8).paths("x")
    assert np.all((share >= 0) & (share <= 1))
    assert np.any(share[:, 1:] == 0.0) and np.any(share[:, 1:] == 1.0)
    assert np.all(share[:, 0] == 0.0)


def test_default_world_ranges(sim):
    share = sim.paths("digital_ruble_share")
    assert np.all((share >= 0.0) & (share <= 1.0))
    eb = sim.paths("eurobond_price")
    assert np.all((eb > 0.0) & (eb < 100.0))
    for name in sim.units:
        assert np.all(np.isfinite(sim.paths(name))), name
    for name in ("potash_spot", "bilateral_trade", "malaszewicze_trains", "global_equity", "hk_equity",
                 "middle_corridor_volume", "machinery_orders", "contract_price"):
        assert np.all(sim.paths(name) > 0), name


def test_default_world_initial_state(sim, default_world):
    d = default_world.to_dict()["factors"]
    for name, spec in d.items():
        if "initial" in spec:
            assert np.all(sim.paths(name)[:, 0] == spec["initial"]), name
    assert np.all(sim.paths("digital_ruble_share")[:, 0] == 0.0)
    # the implied discount at t = 0 is 1 - 273/352
    assert np.allclose(sim.paths("discount")[:, 0], 1 - 273 / 352, rtol=1e-15)


# ============================================================================ correlations
CORR_TOML = """
[world]
name = "corr"
horizon_months = 24

[factors.a]
kind = "gbm"
unit = "index"
initial = 100.0

[factors.done]
kind = "completion"
unit = "items"
total = 10

[factors.b]
kind = "gbm"
unit = "index"
initial = 100.0

[factors.c]
kind = "log_ou"
unit = "level"
initial = 10.0

[correlations.a]
b = 0.6

[correlations.c]
b = -0.4

[scenarios.base]
probability = 1.0
a = { g = 0.0, sigma = 0.2 }
b = { g = 0.0, sigma = 0.2 }
c = { theta = 10.0, kappa = 0.0, sigma = 0.2 }
done = { h = 0.1 }
"""


def test_correlation_of_monthly_log_increments():
    """Shocks are correlated through the matrix; a non-diffusion factor in between is skipped."""
    sim = toml_world(CORR_TOML).simulate(5_000, seed=9)
    inc = {k: np.diff(np.log(sim.paths(k)), axis=1).ravel() for k in ("a", "b", "c")}
    n = inc["a"].size
    # each increment is sigma sqrt(dt) Z (+ a constant drift)
    for k in ("a", "b", "c"):
        v = inc[k].var(ddof=1)
        assert abs(v - 0.04 * DT) <= N_SIGMA * np.sqrt(2.0 / n) * 0.04 * DT, k
    for (p, q), rho in {("a", "b"): 0.6, ("b", "c"): -0.4, ("a", "c"): 0.0}.items():
        r = np.corrcoef(inc[p], inc[q])[0, 1]
        se = (1 - rho**2) / np.sqrt(n)
        assert abs(r - rho) <= N_SIGMA * se, (p, q, r, rho)


def test_perfect_correlation_is_accepted_and_gives_identical_paths():
    text = textwrap.dedent(
        """
        [factors.a]
        kind = "gbm"
        unit = "i"
        initial = 100.0
        [factors.b]
        kind = "gbm"
        unit = "i"
        initial = 100.0
        [correlations.a]
        b = 1.0
        [scenarios.base]
        probability = 1.0
        a = { g = 0.05, sigma = 0.3 }
        b = { g = 0.05, sigma = 0.3 }
        """
    )
    sim = gs.World.from_toml(text).simulate(500, 12, seed=1)
    assert np.array_equal(sim.paths("a"), sim.paths("b"))


def test_default_world_equity_correlation(sim):
    """global_equity–hk_equity shocks: 0.6 (months before any onset, base parameters)."""
    ge = np.diff(np.log(sim.paths("global_equity")), axis=1)
    hk = np.diff(np.log(sim.paths("hk_equity")), axis=1)
    base = sim.scenario == sim.scenario_names.index("base")
    x, y = ge[base].ravel(), hk[base].ravel()
    r = np.corrcoef(x, y)[0, 1]
    assert abs(r - 0.6) <= N_SIGMA * (1 - 0.36) / np.sqrt(x.size), r


# ============================================================================ Markov regimes
def test_markov_transition_frequencies(markov_world):
    sim = markov_world.simulate(5_000, 24, seed=10)
    R = sim.regimes
    assert R.shape == (5_000, 25) and R.dtype == np.uint8
    assert np.array_equal(R[:, 0], sim.scenario), "initial regime = stratified scenario"
    assert np.all(sim.onset == -1)
    names = sim.scenario_names
    P = np.zeros((3, 3))
    for src, row in markov_world.to_dict()["transitions"].items():
        for dst, p in row.items():
            P[names.index(src), names.index(dst)] = p
    assert np.allclose(P.sum(axis=1), 1.0)
    counts = np.zeros((3, 3))
    np.add.at(counts, (R[:, :-1].ravel(), R[:, 1:].ravel()), 1)
    n_i = counts.sum(axis=1, keepdims=True)
    assert np.all(n_i > 1_000)
    freq = counts / n_i
    se = np.sqrt(P * (1 - P) / n_i)
    assert np.all(np.abs(freq - P) <= N_SIGMA * se + 1e-15), (freq, P)
    # a zero-probability move never happens
    assert counts[names.index("bear"), names.index("bull")] == 0


# calm and crisis regimes, every path starting calm; a deterministic level that drops
# by 30% on each entry into the crisis
MARKOV_TOML = textwrap.dedent(
    """
    [world]
    regimes = "markov"
    horizon_months = 24
    [factors.x]
    kind = "gbm"
    unit = "i"
    initial = 100.0
    [scenarios.calm]
    probability = 1.0
    x = { g = 0.0, sigma = 0.0 }
    [scenarios.crisis]
    probability = 0.0
    x = { g = 0.0, sigma = 0.0, onset_jump = -0.3 }
    [transitions.calm]
    calm = 0.8
    crisis = 0.2
    [transitions.crisis]
    calm = 0.5
    crisis = 0.5
    """
)


def test_markov_onset_jump_on_entering_regime():
    w = gs.World.from_toml(MARKOV_TOML)
    sim = w.simulate(2_000, seed=12)
    R = sim.regimes.astype(int)
    assert sim.counts == {"calm": 2_000, "crisis": 0}
    entries = np.cumsum(np.concatenate([np.zeros((R.shape[0], 1)), (np.diff(R, axis=1) == 1)], axis=1), axis=1)
    expected = np.log(100.0) - 0.3 * entries
    np.testing.assert_allclose(np.log(sim.paths("x")), expected, rtol=0, atol=1e-12)
    assert entries[:, -1].max() > 1


def test_markov_onset_is_ignored_and_warned_about():
    plain = gs.World.from_toml(MARKOV_TOML)
    with pytest.warns(UserWarning, match=r"scenarios crisis have an onset, which has no effect"):
        timed = gs.World.from_toml(MARKOV_TOML.replace("[scenarios.crisis]\n", "[scenarios.crisis]\nonset = [5, 9]\n"))
    assert timed.to_dict()["scenarios"]["crisis"]["onset"] == [5, 9]
    a, b = plain.simulate(3_000, seed=4), timed.simulate(3_000, seed=4)
    assert np.array_equal(a.regimes, b.regimes) and np.array_equal(a.paths("x"), b.paths("x"))
    # regimes do change before month 5: the onset window would have forbidden that
    assert np.any(a.regimes[:, 1:5] != a.regimes[:, :1])


# ============================================================================ contract price
CONTRACT_TOML = """
[world]
name = "contract"
start = "2025-06"
horizon_months = 36

[factors.spot]
kind = "log_ou"
unit = "USD/t"
initial = 352.0

[factors.contract]
kind = "contract"
unit = "USD/t"
initial = 273.0
underlying = "spot"
reset_month = 6
averaging_months = 3
noise = 0.0

[scenarios.base]
probability = 1.0
spot = { theta = 400.0, kappa = 0.4, sigma = 0.3, lambda = 0.5, sigma_j = 0.1 }
contract = { discount = 0.22 }
"""


def _reset_months(sim: gs.Simulation, month: int) -> list[int]:
    return [t for t, m in enumerate(sim.months) if t >= 1 and m.month == month]


def test_contract_price_resets_exactly():
    sim = toml_world(CONTRACT_TOML).simulate(4_000, seed=13)
    S, C = sim.paths("spot"), sim.paths("contract")
    resets = _reset_months(sim, 6)
    assert resets == [12, 24, 36]
    assert np.all(C[:, 0] == 273.0)
    for t in range(1, 37):
        if t not in resets:
            assert np.array_equal(C[:, t], C[:, t - 1]), f"contract moved at t={t}"
    for t in resets:
        expected = (1 - 0.22) * S[:, t - 3 : t].mean(axis=1)
        np.testing.assert_allclose(C[:, t], expected, rtol=1e-12)
    # a negative discount is a premium over the mean, up to d = −1 (twice the mean)
    for d in (-0.15, -1.0):
        sim = toml_world(CONTRACT_TOML).with_params({"scenarios.base.contract.discount": d}).simulate(500, seed=13)
        S, C = sim.paths("spot"), sim.paths("contract")
        for t in resets:
            np.testing.assert_allclose(C[:, t], (1 - d) * S[:, t - 3 : t].mean(axis=1), rtol=1e-12)
        assert (C[:, 12] > S[:, 9:12].mean(axis=1)).all()


def test_contract_reset_month_follows_start_month():
    w = toml_world(CONTRACT_TOML).with_params({"world.start": "2025-01", "factors.contract.reset_month": 3})
    sim = w.simulate(500, 30, seed=1)
    resets = _reset_months(sim, 3)
    assert resets == [2, 14, 26]
    S, C = sim.paths("spot"), sim.paths("contract")
    # at t = 2 only two months of history exist: the mean of S_0 and S_1
    np.testing.assert_allclose(C[:, 2], 0.78 * S[:, 0:2].mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(C[:, 14], 0.78 * S[:, 11:14].mean(axis=1), rtol=1e-12)
    assert np.array_equal(C[:, 1], C[:, 0]) and np.array_equal(C[:, 13], C[:, 2])


def test_contract_discount_is_that_of_the_regime_at_the_reset():
    """Two scenarios with onset straddling t=12: d is the bear one only if tau <= 12."""
    w = toml_world(CONTRACT_TOML).with_params(
        {
            "scenarios.base.probability": 0.5,
            "scenarios.bear.probability": 0.5,
            "scenarios.bear.onset": [6, 18],
            "scenarios.bear.contract.discount": 0.35,
        }
    )
    sim = w.simulate(4_000, 24, seed=14)
    S, C = sim.paths("spot"), sim.paths("contract")
    bear = sim.scenario == sim.scenario_names.index("bear")
    for t in (12, 24):
        active_bear = bear & (sim.onset <= t)
        d = np.where(active_bear, 0.35, 0.22)
        np.testing.assert_allclose(C[:, t], (1 - d) * S[:, t - 3 : t].mean(axis=1), rtol=1e-12)
    assert 0 < np.sum(bear & (sim.onset > 12)) < bear.sum()


def test_contract_noise_is_lognormal_with_its_sigma(sim):
    """Default world: ln(C_t / ((1 - d) mean S)) ~ N(0, 0.03^2) at each reset."""
    S, C = sim.paths("potash_spot"), sim.paths("contract_price")
    disc = {"base": 0.22, "bull": 0.18, "bear": 0.35}
    d = np.array([disc[n] for n in sim.scenario_names])[sim.scenario]
    # bull onset <= 12, bear onset <= 12: every non-base path is in its scenario at t = 12
    for t in (12, 24):
        eps = np.log(C[:, t] / ((1 - d) * S[:, t - 3 : t].mean(axis=1)))
        assert_mean_close(eps, 0.0, f"noise mean at {t}")
        assert abs(eps.var(ddof=1) - 0.03**2) <= N_SIGMA * np.sqrt(2 / eps.size) * 0.03**2
    for t in range(1, 25):
        if t not in (12, 24):
            assert np.array_equal(C[:, t], C[:, t - 1])


def test_derived_series_are_exact(sim):
    S, C = sim.paths("potash_spot"), sim.paths("contract_price")
    assert np.array_equal(sim.paths("dislocation"), S - C)
    assert np.array_equal(sim.paths("discount"), 1 - C / S)


def test_ratio_derived_series():
    w = toml_world(CONTRACT_TOML).with_params(
        {"derived.r.kind": "ratio", "derived.r.of": ["spot", "contract"], "derived.r.unit": "x"}
    )
    sim = w.simulate(300, 12, seed=0)
    assert np.array_equal(sim.paths("r"), sim.paths("spot") / sim.paths("contract"))
    assert sim.units["r"] == "x"


# ============================================================================ weights / reweighting
def test_weights_sum_to_one_and_follow_strata(sim, default_world):
    w = sim.weights
    assert w.dtype == np.float64 and w.shape == (sim.n_paths,)
    assert abs(w.sum() - 1.0) < 1e-12
    for k, name in enumerate(sim.scenario_names):
        block = sim.scenario == k
        assert np.all(w[block] == default_world.probabilities[name] / sim.counts[name])
        assert block.sum() == sim.counts[name]
    # strata are contiguous blocks in scenario order
    assert np.all(np.diff(sim.scenario) >= 0)


def _largest_remainder(probs, n, unit=1):
    """Reference: largest-remainder rounding (ties to the earlier scenario), >= 1 unit when possible."""
    units = n // unit
    quotas = [p * units for p in probs]
    counts = [int(np.floor(q)) for q in quotas]
    order = sorted(range(len(probs)), key=lambda i: (-(quotas[i] - np.floor(quotas[i])), i))
    for i in order[: units - sum(counts)]:
        counts[i] += 1
    if units >= sum(p > 0 for p in probs):
        for i, p in enumerate(probs):
            if p > 0 and counts[i] == 0:
                donor = max(range(len(probs)), key=lambda j: (counts[j], -j))
                counts[donor] -= 1
                counts[i] += 1
    return [c * unit for c in counts]


@pytest.mark.parametrize(
    "n, antithetic, expected",
    [
        (200_000, False, [110_000, 50_000, 40_000]),
        (20_000, False, [11_000, 5_000, 4_000]),
        (7, False, [4, 2, 1]),
        (3, False, [1, 1, 1]),
        (1_001, False, [551, 250, 200]),
        (10, True, [6, 2, 2]),
        (3_002, True, [1_652, 750, 600]),
    ],
)
def test_stratified_counts_are_largest_remainder(default_world, n, antithetic, expected):
    probs = list(default_world.probabilities.values())
    assert _largest_remainder(probs, n, 2 if antithetic else 1) == expected
    s = default_world.simulate(n, 1, seed=0, antithetic=antithetic)
    assert list(s.counts.values()) == expected
    assert abs(s.weights.sum() - 1.0) < 1e-12
    assert np.array_equal(np.bincount(s.scenario, minlength=3), expected)


def test_stratification_gives_every_positive_scenario_a_path(default_world):
    w = default_world.with_params(
        {"scenarios.base.probability": 0.98, "scenarios.bull.probability": 0.01, "scenarios.bear.probability": 0.01}
    )
    s = w.simulate(3, 1, seed=0)
    assert s.counts == {"base": 1, "bull": 1, "bear": 1}
    s = w.simulate(50, 1, seed=0)
    assert s.counts == {"base": 48, "bull": 1, "bear": 1}
    assert abs(s.weights.sum() - 1.0) < 1e-12


def test_zero_probability_scenario_gets_no_paths(default_world):
    w = default_world.with_params(
        {"scenarios.base.probability": 0.5, "scenarios.bull.probability": 0.5, "scenarios.bear.probability": 0.0}
    )
    s = w.simulate(1_000, 2, seed=0)
    assert s.counts == {"base": 500, "bull": 500, "bear": 0}
    # summary skips the empty stratum
    scen = s.summary("potash_spot").index.get_level_values("scenario").tolist()
    assert scen == ["base", "bull", "all"]
    with pytest.raises(gs.ConfigError, match="probabilities.bear"):
        s.reweight({"base": 0.4, "bull": 0.4, "bear": 0.2})


def _exact_weighted_quantile(x, scen, probs_by_k, counts_by_k, q):
    """Smallest x with weighted CDF >= q, computed exactly (rationals) for weights p_k / n_k.

    Returns ``(value, tie_next)``: ``tie_next`` is the next larger sample with more
    weight when the CDF hits q exactly at ``value`` (an exact tie), else None.
    A float estimate finds the crossing; exact cumulative weights (Fractions of the
    per-scenario cumulative counts) then settle it.
    """
    order = np.argsort(x, kind="stable")
    xs, sc = x[order], scen[order]
    ks = sorted(set(sc.tolist()))
    # probabilities as the decimals the user wrote (0.55 = 11/20), like q below
    wk = {k: Fraction(repr(float(probs_by_k[k]))) / counts_by_k[k] for k in ks}
    cum = {k: np.cumsum(sc == k) for k in ks}
    total = sum(wk[k] * int(cum[k][-1]) for k in ks)
    target = Fraction(repr(q)) * total  # q as the decimal the user wrote (0.05 = 1/20)

    def cw(i):
        return sum(wk[k] * int(cum[k][i]) for k in ks)

    wtab = np.zeros(int(sc.max()) + 1)
    for k in ks:
        wtab[k] = float(wk[k])
    i = int(min(np.searchsorted(np.cumsum(wtab[sc]), float(target)), xs.size - 1))
    while i > 0 and cw(i - 1) >= target:
        i -= 1
    while i < xs.size - 1 and cw(i) < target:
        i += 1
    tie_next = None
    if cw(i) == target:
        j = i + 1
        while j < xs.size - 1 and cw(j) == target:
            j += 1
        if j < xs.size:
            tie_next = xs[j]
    return xs[i], tie_next


def _check_summary_against_reference(s: gs.Simulation, series, thresholds, *, rows=None):
    """Compare s.summary(...) at the horizon with an independent weighted computation.

    Quantiles must equal the exact inverted-CDF sample value, ties included.
    """
    names = s.scenario_names
    counts = [s.counts[n] for n in names]
    probs = [s.probabilities[n] for n in names]
    w = np.array([p / c if c else 0.0 for p, c in zip(probs, counts)])[s.scenario]
    summ = s.summary(series, thresholds=thresholds)
    n_checked = 0
    for name in series:
        x = s.paths(name)[:, -1]
        level = thresholds.get(name)
        for k, scen in [*enumerate(names), (-1, "all")]:
            if rows is not None and scen not in rows:
                continue
            sel = np.ones(x.size, bool) if k < 0 else s.scenario == k
            xs, ws = x[sel], w[sel]
            if ws.sum() == 0:
                assert (name, scen) not in summ.index
                continue
            row = summ.loc[(name, scen)]
            mean = np.sum(ws * xs) / np.sum(ws)
            np.testing.assert_allclose(row["mean"], mean, rtol=1e-12)
            np.testing.assert_allclose(row["std"], np.sqrt(np.sum(ws * (xs - mean) ** 2) / np.sum(ws)), rtol=1e-9)
            np.testing.assert_allclose(row["probability"], ws.sum(), rtol=1e-12)
            for qq, col in [(0.05, "q05"), (0.50, "q50"), (0.95, "q95")]:
                exact, tie_next = _exact_weighted_quantile(xs, s.scenario[sel], probs, counts, qq)
                assert row[col] == exact, (name, scen, col, row[col], exact)
                if NUMPY2 and tie_next is None:
                    # NumPy's own weighted inverted_cdf rounds exact ties upwards
                    assert row[col] == np.quantile(xs, qq, weights=ws, method="inverted_cdf")
                n_checked += 1
            if level is None:
                assert np.isnan(row["p_above"]) and np.isnan(row["threshold"])
            else:
                assert row["threshold"] == level
                np.testing.assert_allclose(row["p_above"], ws[xs > level].sum() / ws.sum(), rtol=1e-12)
    return n_checked


SUMMARY_SERIES = ["potash_spot", "dislocation", "eurobond_price"]
SUMMARY_THRESHOLDS = {"potash_spot": 450.0, "eurobond_price": 20.0}


@pytest.mark.parametrize("q", [{"base": 0.4, "bull": 0.2, "bear": 0.4}, {"base": 0.1, "bull": 0.1, "bear": 0.8}])
def test_reweight_summary_matches_hand_computation(sim, q):
    rw = sim.reweight(q)
    assert rw.probabilities == q
    assert rw.n_paths == sim.n_paths and rw.paths("potash_spot") is sim.paths("potash_spot")
    assert sim.probabilities == {"base": 0.55, "bull": 0.25, "bear": 0.2}, "the original is unchanged"
    w = np.array([q[n] / sim.counts[n] for n in sim.scenario_names])[sim.scenario]
    np.testing.assert_array_equal(rw.weights, w)
    assert abs(rw.weights.sum() - 1.0) < 1e-12
    # with unequal weights the overall quantiles are (almost surely) not ties: strictly checked
    assert _check_summary_against_reference(rw, SUMMARY_SERIES, SUMMARY_THRESHOLDS) >= 3


def test_summary_with_prior_weights_matches_hand_computation(sim):
    _check_summary_against_reference(sim, SUMMARY_SERIES, SUMMARY_THRESHOLDS)


def _one_factor_world(scenarios: str, initial: float, kind: str = "log_ou") -> gs.World:
    with warnings.catch_warnings():  # (levels far from θ on purpose)
        warnings.filterwarnings("ignore", "factor x: the long-run level theta")
        return gs.World.from_toml(
            f'[factors.x]\nkind = "{kind}"\nunit = "i"\ninitial = {initial!r}\n' + textwrap.dedent(scenarios)
        )


@pytest.mark.parametrize(
    "world, n, h",
    [
        # the horizon's values sit ~1e6 from the initial value, 1e-7 apart
        (_one_factor_world("[scenarios.base]\nprobability = 1.0\nx = { theta = 1.0, kappa = 50.0, sigma = 1e-6 }", 1e6), 5_000, 24),
        # one scenario's values ~1e-12, the other's ~1
        (
            _one_factor_world(
                """
                [scenarios.base]
                probability = 0.5
                x = { theta = 1e-12, kappa = 1000.0, sigma = 0.3 }
                [scenarios.bear]
                probability = 0.5
                onset = [1, 1]
                x = { theta = 1.0 }
                """,
                1.0,
            ),
            2_000,
            2,
        ),
    ],
)
def test_summary_moments_keep_their_digits_far_from_the_initial_value(world, n, h):
    sim = world.simulate(n, h, seed=0, progress=False)
    table = sim.summary("x")
    streamed = world.simulate_summary(n, h, seed=0, progress=False).table
    pd.testing.assert_frame_equal(table, streamed)
    x, w = sim.paths("x")[:, -1], sim.weights
    for k, name in enumerate(sim.scenario_names):
        xk = x[sim.scenario == k]
        # NumPy's two-pass moments of equally weighted paths
        assert table.loc[("x", name), "mean"] == pytest.approx(xk.mean(), rel=1e-12, abs=0)
        assert table.loc[("x", name), "std"] == pytest.approx(xk.std(), rel=1e-9, abs=0)
    mean = np.sum(w * x) / np.sum(w)
    std = np.sqrt(np.sum(w * (x - mean) ** 2) / np.sum(w))
    assert table.loc[("x", "all"), "mean"] == pytest.approx(mean, rel=1e-12, abs=0)
    assert table.loc[("x", "all"), "std"] == pytest.approx(std, rel=1e-9, abs=0)


def test_summary_std_of_a_series_without_randomness_is_zero():
    world = _one_factor_world("[scenarios.base]\nprobability = 1.0\nx = { g = 0.5, sigma = 0.0 }", 100.0, "gbm")
    sim = world.simulate(999, 24, seed=1, progress=False)
    assert np.ptp(sim.paths("x")[:, -1]) == 0.0
    row = sim.summary("x").loc[("x", "all")]
    assert row["std"] == 0.0 and row["mean"] == sim.paths("x")[0, -1]


def test_reweight_with_a_zero_probability_scenario(sim):
    rw = sim.reweight({"base": 0.5, "bull": 0.5, "bear": 0.0})
    assert np.all(rw.weights[sim.scenario == sim.scenario_names.index("bear")] == 0.0)
    idx = rw.summary("potash_spot").index.get_level_values("scenario").tolist()
    assert idx == ["base", "bull", "all"]
    _check_summary_against_reference(rw, ["potash_spot"], {"potash_spot": 450.0}, rows=("all",))


def test_p_above_is_strict_on_a_series_with_ties(default_world):
    # a count series takes each value on many paths: P(X > level) leaves out the level
    world = default_world
    sim = world.simulate(20_000, seed=2, progress=False)
    x, w = sim.paths("roadmap_projects_done")[:, -1], sim.weights
    level = float(np.median(x))
    assert w[x == level].sum() > 0.01  # an atom at the level
    th = {"roadmap_projects_done": level}
    table = sim.summary("roadmap_projects_done", thresholds=th)
    streamed = world.simulate_summary(20_000, seed=2, series="roadmap_projects_done", thresholds=th,
                                      alpha=None, progress=False).table
    for t in (table, streamed):
        assert t.loc[("roadmap_projects_done", "all"), "p_above"] == pytest.approx(w[x > level].sum(), rel=1e-12)
        bear = sim.scenario == sim.scenario_names.index("bear")
        assert t.loc[("roadmap_projects_done", "bear"), "p_above"] == pytest.approx(np.mean(x[bear] > level), rel=1e-12)


def test_reweight_moves_only_the_overall_row(default_world):
    """Per-scenario means/stds/tails depend on the paths only (to the bit); reweighting
    moves the 'all' row."""
    s = default_world.simulate(4_000, 12, seed=21)
    q = {"base": 0.2, "bull": 0.3, "bear": 0.5}
    rw = s.reweight(q)
    a, b = s.summary("potash_spot"), rw.summary("potash_spot")
    ra, rb = s.risk_table(0.9), rw.risk_table(0.9)
    for scen in ("base", "bull", "bear"):
        for col in ("mean", "std", "p_above"):
            assert a.loc[("potash_spot", scen), col] == b.loc[("potash_spot", scen), col], (scen, col)
        for strat in s.world.strategies:
            for col in ("mean_return", "std", "var", "cvar", "p_loss", "max_drawdown"):
                assert ra.loc[(strat, scen), col] == rb.loc[(strat, scen), col], (strat, scen, col)
        assert b.loc[("potash_spot", scen), "probability"] == pytest.approx(q[scen], rel=1e-12)
    # the overall mean is the probability-weighted mean of the scenario means
    means = b.xs("potash_spot").loc[["base", "bull", "bear"], "mean"].to_numpy()
    np.testing.assert_allclose(b.loc[("potash_spot", "all"), "mean"], means @ [0.2, 0.3, 0.5], rtol=1e-12)
    # reweighting back restores the original table
    back = rw.reweight(dict(s.probabilities)).summary("potash_spot")
    pd.testing.assert_frame_equal(back, a)


def test_reweight_leaves_per_scenario_quantiles_unchanged(default_world):
    s = default_world.simulate(4_000, 12, seed=21)
    rw = s.reweight({"base": 0.2, "bull": 0.3, "bear": 0.5})
    a, b = s.summary("potash_spot"), rw.summary("potash_spot")
    for scen in ("base", "bull", "bear"):
        x = s.paths("potash_spot")[s.scenario == s.scenario_names.index(scen), -1]
        for q, col in [(0.05, "q05"), (0.50, "q50"), (0.95, "q95")]:
            exact = np.quantile(x, q, method="inverted_cdf")  # equal weights within a stratum
            assert a.loc[("potash_spot", scen), col] == exact, (scen, col, "prior")
            assert b.loc[("potash_spot", scen), col] == exact, (scen, col, "reweighted")


def test_summary_at_month_label_and_index(sim):
    by_label = sim.summary("potash_spot", month="2026-06")
    by_index = sim.summary("potash_spot", month=12)
    by_neg = sim.summary("potash_spot", month=-13)
    pd.testing.assert_frame_equal(by_label, by_index)
    pd.testing.assert_frame_equal(by_neg, by_index)
    x = sim.paths("potash_spot")[:, 12]
    np.testing.assert_allclose(by_index.loc[("potash_spot", "all"), "mean"], np.dot(sim.weights, x), rtol=1e-12)
    at0 = sim.summary("potash_spot", month=0)
    np.testing.assert_allclose(at0["mean"], 352.0, rtol=1e-14)
    assert np.all(at0["q05"] == 352.0) and np.all(at0["q95"] == 352.0) and np.all(at0["p_above"] == 0.0)
    np.testing.assert_allclose(at0["std"], 0.0, atol=1e-10)


def test_stats_module_matches_definitions():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(1_001)
    w = rng.uniform(0.1, 2.0, x.size)
    assert np.isclose(stats.weighted_mean(x, w), np.average(x, weights=w), rtol=1e-13)
    m = np.average(x, weights=w)
    assert np.isclose(stats.weighted_std(x, w), np.sqrt(np.average((x - m) ** 2, weights=w)), rtol=1e-12)
    assert stats.prob_above(x, w, 0.3) == pytest.approx(w[x > 0.3].sum() / w.sum(), rel=1e-13)
    qs = np.array([0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
    got = stats.weighted_quantile(x, w, qs)
    order = np.argsort(x)
    cdf = np.cumsum(w[order]) / w.sum()
    ref = np.array([x[order][np.argmax(cdf >= q)] for q in qs])
    np.testing.assert_array_equal(got, ref)
    if NUMPY2:
        np.testing.assert_array_equal(got, np.quantile(x, qs, weights=w, method="inverted_cdf"))


def test_weighted_quantile_exact_at_ties_with_equal_weights():
    x = np.arange(12.0)
    w = np.full(12, 1 / 12)
    # F_w(5.0) = 6/12 = 0.5 exactly, so the median is 5.0
    assert stats.weighted_quantile(x, w, 0.5) == 5.0 == np.quantile(x, 0.5, method="inverted_cdf")


@pytest.mark.parametrize(
    "x, w, path",
    [
        ([1.0, 2.0], [0.0, 0.0], "w"),  # no weight at all: every statistic would be 0/0
        ([1.0, 2.0], [1.0, -0.5], "w"),
        ([1.0, 2.0], [1.0, np.nan], "w"),
        ([1.0, 2.0], [1.0, np.inf], "w"),
        ([1.0, np.nan], [1.0, 1.0], "x"),
        (["a", "b"], [1.0, 1.0], "x"),
        ([], [], "x"),  # no sample: named as x, the data (see test_stats_name_empty_input)
    ],
)
def test_stats_refuse_what_would_be_a_silent_nan(x, w, path):
    for f in (stats.weighted_mean, stats.weighted_std, lambda x, w: stats.weighted_quantile(x, w, 0.5),
              lambda x, w: stats.prob_above(x, w, 0.0)):
        with pytest.raises(gs.ConfigError) as err:
            f(x, w)  # array-likes, as NumPy takes them
        assert err.value.path == path


STATS = {
    "weighted_mean": stats.weighted_mean,
    "weighted_std": stats.weighted_std,
    "weighted_quantile": lambda x, w: stats.weighted_quantile(x, w, 0.5),
    "prob_above": lambda x, w: stats.prob_above(x, w, 1.5),
}


@pytest.mark.parametrize("f", list(STATS))
@pytest.mark.parametrize("x, w", [([], []), (np.array([]), np.array([])), (pd.Series([], dtype=float), [])])
def test_stats_name_empty_input(f, x, w):
    with pytest.raises(gs.ConfigError, match="empty") as err:
        STATS[f](x, w)
    assert err.value.path == "x"
    with pytest.raises(gs.ConfigError, match="empty") as err:
        STATS[f]([1.0, 2.0], [])
    assert err.value.path == "w"


@pytest.mark.parametrize("f", list(STATS))
@pytest.mark.parametrize(
    "bad, what",
    [
        (["1", "2", "3"], "strings"),  # numeric strings are not parsed, in any function
        (np.array(["1.5", "2", "3"]), "strings"),
        (pd.Series(["1", "2", "3"]), "str"),  # object dtype
        ([1.0, "2", 3.0], "strings"),
        (np.array([1.0, 2.0, 3.0], dtype=object).astype(str).astype(object), "str"),
        (np.array(["2020-01-01", "2021-01-01", "2022-01-01"], dtype="datetime64[D]"), "dates"),
        (pd.Series(pd.to_datetime(["2020-01-01", "2021-01-01", "2022-01-01"])), "dates"),
        (np.array([1, 2, 3], dtype="timedelta64[D]"), "durations"),
        (np.array([1 + 1j, 2, 3]), "complex"),  # the imaginary part would be dropped
    ],
)
def test_stats_take_only_real_numbers(f, bad, what):
    with pytest.raises(gs.ConfigError, match="real numbers") as err:
        STATS[f](bad, [1.0, 1.0, 1.0])
    assert err.value.path == "x" and what in str(err.value)
    with pytest.raises(gs.ConfigError, match="real numbers") as err:
        STATS[f]([1.0, 2.0, 3.0], bad)
    assert err.value.path == "w"


@pytest.mark.parametrize("f", list(STATS))
def test_stats_still_take_numbers_of_every_kind(f):
    from decimal import Decimal

    w = [1.0, 1.0, 2.0]
    ref = STATS[f](np.array([1.0, 2.0, 3.0]), np.array(w))
    for x in ([1, 2, 3], np.array([1, 2, 3], dtype=np.int32), np.array([1.0, 2.0, 3.0], dtype=np.float32),
              pd.Series([1.0, 2.0, 3.0], index=[7, 8, 9]), pd.Series([1.0, 2.0, 3.0], dtype="Float64"),
              np.array([Fraction(1), 2, Decimal(3)], dtype=object)):
        assert STATS[f](x, w) == ref
    # booleans count as 0 and 1: the weighted mean of an indicator is a probability
    assert stats.weighted_mean(np.array([True, False, True]), w) == 0.75
    # NumPy's booleans too, also among other numbers
    assert stats.weighted_mean(np.array([np.True_, False, 1], dtype=object), w) == 0.75


@pytest.mark.parametrize("f", list(STATS))
@pytest.mark.parametrize("nan", ["NaN", "sNaN"])
def test_stats_name_a_decimal_nan(f, nan):
    from decimal import Decimal

    with pytest.raises(gs.ConfigError, match="must be finite") as err:
        STATS[f](np.array([1, Decimal(nan), 3], dtype=object), [1.0, 1.0, 1.0])
    assert err.value.path == "x" and "position 1" in str(err.value)


@pytest.mark.parametrize("f", list(STATS))
def test_stats_refuse_masked_arrays(f):
    # the mask would be ignored: mean([1, (masked) 100]) would come out 50.5, not 1
    masked = np.ma.array([1.0, 100.0], mask=[False, True])
    with pytest.raises(gs.ConfigError, match="masked") as err:
        STATS[f](masked, [1.0, 1.0])
    assert err.value.path == "x"
    with pytest.raises(gs.ConfigError, match="masked") as err:
        STATS[f]([1.0, 100.0], np.ma.array([1.0, 1.0], mask=[False, True]))
    assert err.value.path == "w"
    keep = ~np.ma.getmaskarray(masked)  # what the message asks for: drop the masked entries
    assert stats.weighted_mean(masked.data[keep], np.ones(2)[keep]) == 1.0


@pytest.mark.parametrize("q", ["0.5", ["0.1", "0.9"], True])
def test_weighted_quantile_levels_are_numbers(q):
    with pytest.raises(gs.ConfigError) as err:
        stats.weighted_quantile(np.arange(3.0), np.ones(3), q)
    assert err.value.path == "q"


def test_stats_are_exact_near_the_largest_double():
    # Σw and (x − m)² would overflow; the answers are plain
    big = np.array([1e308, 1e308])
    assert stats.prob_above([1.0, 2.0], big, 1.5) == 0.5
    assert stats.weighted_quantile([1.0, 2.0], big, 0.5) == 1.0
    assert stats.weighted_mean([1.0, 2.0], big) == 1.5
    assert stats.weighted_std([1e200, -1e200], [1.0, 1.0]) == 1e200
    assert stats.weighted_mean([1e308, 1e308], [1.0, 3.0]) == 1e308


@pytest.mark.parametrize("n", [1, 7, 16_384, 16_385, 100_003])  # one chunk of the core's sums, more
@pytest.mark.parametrize("scale", [1e-300, 1.0, 1e300])
def test_weighted_mean_and_std_agree_with_numpy_at_any_length_and_scale(n, scale):
    rng = np.random.default_rng(n)
    x = (rng.standard_normal(n) + 3.0) * scale
    w = rng.random(n) * rng.choice([1e-200, 1.0, 1e200])
    w[rng.random(n) < 0.1] = 0.0
    w[0] = w.max() if w.max() > 0 else 1.0  # (a positive sum)
    # NumPy on values brought near 1 (its sums of the raw values would under- or overflow)
    xs, ws = x / scale, w / w.max()
    mean = np.average(xs, weights=ws)
    std = np.sqrt(np.average((xs - mean) ** 2, weights=ws))
    assert stats.weighted_mean(x, w) == pytest.approx(mean * scale, rel=1e-13, abs=0.0)
    # (a spread of 0 comes out as a rounding of the mean's size)
    assert stats.weighted_std(x, w) == pytest.approx(std * scale, rel=1e-10, abs=1e-15 * abs(mean) * scale)


@pytest.mark.parametrize("fn", [stats.weighted_mean, stats.weighted_std])
def test_long_samples_name_their_first_bad_value(fn):
    # the core's parallel scan finds that a value is bad; the message names the first
    n = 100_000
    x, w = np.linspace(-1.0, 1.0, n), np.ones(n)
    for name, pos, bad in (("x", 70_000, np.inf), ("x", 20_000, np.nan), ("w", 99_998, np.nan),
                           ("w", 16_384, -1e-300)):
        a, b = x.copy(), w.copy()
        (a if name == "x" else b)[pos : pos + 2] = bad  # two: the first is named
        with pytest.raises(gs.ConfigError, match=f"at position {pos}$") as err:
            fn(a, b)
        assert err.value.path == name
    with pytest.raises(gs.ConfigError, match="positive sum") as err:
        fn(x, np.zeros(n))
    assert err.value.path == "w"


@pytest.mark.parametrize("q", [1.5, -0.1, np.nan, [0.5, 2.0]])
def test_weighted_quantile_levels_must_be_probabilities(q):
    with pytest.raises(gs.ConfigError) as err:
        stats.weighted_quantile(np.arange(3.0), np.ones(3), q)
    assert err.value.path == "q"
    with pytest.raises(gs.ConfigError) as err:
        stats.prob_above(np.arange(3.0), np.ones(3), np.nan)
    assert err.value.path == "level"

def test_summary_median_of_one_scenario_world_is_inverted_cdf():
    w = gs.World.from_toml(single_factor_toml("gbm", "g = 0.0, sigma = 0.3"))
    s = w.simulate(12, 6, seed=0)
    x = s.paths("x")[:, -1]
    assert s.summary("x").loc[("x", "all"), "q50"] == np.quantile(x, 0.5, method="inverted_cdf")


def test_reweight_takes_a_series_of_probabilities(sim):
    q = {"base": 0.4, "bull": 0.2, "bear": 0.4}
    np.testing.assert_array_equal(sim.reweight(pd.Series(q)).weights, sim.reweight(q).weights)


@pytest.mark.parametrize("n", [100_000, 200_000])
@pytest.mark.parametrize("weight", [1e-5, 0.1, 1 / 3, 3.3])
def test_quantiles_of_equal_weights_are_order_statistics_at_every_level(n, weight):
    # with n equal weights the CDF reaches q exactly at the (q·n)-th value when q·n is a
    # whole number; a plain running sum of the weights drifts below q·total by more than
    # the 1e-12 tolerance, and the quantile (the VaR of the stress summaries and
    # posterior risk tables) was the next value
    x = np.random.default_rng(n).standard_normal(n)
    w = np.full(n, weight)
    for q in (0.5, 0.9, 0.95, 0.975, 0.99, 0.995, 0.999):
        expected = np.quantile(x, q, method="inverted_cdf")
        assert expected == np.sort(x)[round(q * n) - 1]
        assert stats.weighted_quantile(x, w, q) == expected, q
        var, _ = gs._core.var_cvar(-x, w, q)
        assert var == expected, q


def test_two_series_with_different_indexes_are_refused_not_paired_by_position():
    x = pd.Series([3.0, 1.0, 2.0], index=["c", "a", "b"])
    w = pd.Series([1.0, 0.0, 0.0], index=["b", "a", "c"])
    for fn in (stats.weighted_mean, stats.weighted_std, lambda x, w: stats.weighted_quantile(x, w, 0.5),
               lambda x, w: stats.prob_above(x, w, 1.5)):
        with pytest.raises(gs.ConfigError, match=r"^w: is a Series whose index differs from x's") as err:
            fn(x, w)
        assert err.value.path == "w"
    # aligned, or given positionally as an array, they are read by position
    assert stats.weighted_mean(x, w.reindex(x.index)) == 2.0 == (x * w).sum() / w.sum()
    assert stats.weighted_mean(x, w.to_numpy()) == 3.0


def _numpy_compensated_cumsum(w):
    """The compensated running sums of stats._cumsum written in NumPy: the plain running
    sums plus the running sum of each addition's TwoSum error, then a running maximum."""
    s = np.cumsum(w)
    if s.size < 2:
        return s
    a, b, t = s[:-1], w[1:], s[1:]
    bb = t - a
    err = np.cumsum((a - (t - bb)) + (b - bb))
    s[1:] = t + err
    return np.maximum.accumulate(s)


@pytest.mark.parametrize("n", [0, 1, 2, 7, 1_000, 100_003])
def test_the_core_sort_and_running_sums_have_numpys_bits(n):
    rng = np.random.default_rng(n)
    x = np.round(rng.normal(size=n), 1)  # many ties
    if n >= 7:
        x[:7] = [np.nan, -0.0, 0.0, np.inf, -np.inf, -np.nan, 0.0]
    rng.shuffle(x)
    assert np.array_equal(stats._argsort(x), np.argsort(x, kind="stable"))
    w = rng.random(n) * (rng.random(n) < 0.8) * 10.0 ** rng.integers(-300, 300, n)
    assert np.array_equal(stats._cumsum(w).view(np.int64), _numpy_compensated_cumsum(w).view(np.int64))
