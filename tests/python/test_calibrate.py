"""gs.calibrate and gs.data: log-OU MLE (with and without jumps), factor betas,
World.calibrated, against hand-written NumPy references and simulated series
with known parameters (fixed seeds, 4-standard-error tolerances)."""

from __future__ import annotations

import datetime
import doctest
import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import N_SIGMA

import geoscenario as gs
from geoscenario import calibrate as cal

DT = 1.0 / 12.0
PARAMS = ["kappa", "theta", "sigma", "lambda", "mu_j", "sigma_j"]


# ---------------------------------------------------------------------------- references
def ar1_reference(levels: np.ndarray, dt: float) -> dict[str, float]:
    """Independent NumPy fit: OLS of x_{t+1} on (1, x_t) by lstsq, sigma² = SSR/n
    (statsmodels AutoReg's MLE convention), delta-method errors by a numerical Jacobian."""
    x = np.log(levels)
    y, X = x[1:], np.column_stack([np.ones(len(x) - 1), x[:-1]])
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    n = len(y)
    s2 = resid @ resid / n
    cov = np.zeros((3, 3))
    cov[:2, :2] = s2 * np.linalg.inv(X.T @ X)
    cov[2, 2] = s2 / (2 * n)

    def g(v: np.ndarray) -> np.ndarray:
        a, b, s = v
        k = -np.log(b) / dt
        return np.array([k, np.exp(a / (1 - b)), s * np.sqrt(2 * k / (1 - b * b))])

    v0 = np.array([coef[0], coef[1], math.sqrt(s2)])
    jac = np.zeros((3, 3))
    for j in range(3):
        h = 1e-6 * max(abs(v0[j]), 1e-3)
        up, dn = v0.copy(), v0.copy()
        up[j] += h
        dn[j] -= h
        jac[:, j] = (g(up) - g(dn)) / (2 * h)
    est = g(v0)
    se = np.sqrt(np.diag(jac @ cov @ jac.T))
    loglik = -0.5 * n * (math.log(2 * math.pi * s2) + 1)
    return {"kappa": est[0], "theta": est[1], "sigma": est[2], "se": se, "loglik": loglik}


def simulate_levels(
    seed: int, n: int, p: dict[str, float], dt: float = DT, freq: str = "MS"
) -> pd.Series:
    """Exact log-OU (+ Merton jumps) path simulated with NumPy."""
    rng = np.random.default_rng(seed)
    k, th, sig = p["kappa"], p["theta"], p["sigma"]
    lam, mu_j, sig_j = p.get("lambda", 0.0), p.get("mu_j", 0.0), p.get("sigma_j", 0.0)
    b = math.exp(-k * dt)
    a = math.log(th) * (1 - b)
    s = sig * math.sqrt((1 - b * b) / (2 * k))
    counts = rng.poisson(lam * dt, n)
    jumps = counts * mu_j + np.sqrt(counts) * sig_j * rng.standard_normal(n)
    z = rng.standard_normal(n)
    x = np.empty(n + 1)
    x[0] = math.log(th)
    for t in range(n):
        x[t + 1] = a + b * x[t] + s * z[t] + jumps[t]
    idx = pd.date_range("1950-01-01", periods=n + 1, freq=freq)
    return pd.Series(np.exp(x), index=idx, name="sim")


def ols_reference(
    y: np.ndarray, x: np.ndarray, lags: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Betas, classical and Newey–West (Bartlett, no correction) errors, residual std."""
    n = len(y)
    Z = np.column_stack([np.ones(n), x])
    beta = np.linalg.solve(Z.T @ Z, Z.T @ y)
    u = y - Z @ beta
    k = Z.shape[1]
    inv = np.linalg.inv(Z.T @ Z)
    s2 = u @ u / (n - k)
    se = np.sqrt(np.diag(s2 * inv))
    zu = Z * u[:, None]
    S = zu.T @ zu
    for lag in range(1, lags + 1):
        G = zu[lag:].T @ zu[:-lag]
        S += (1 - lag / (lags + 1)) * (G + G.T)
    se_nw = np.sqrt(np.diag(inv @ S @ inv))
    return beta, se, se_nw, math.sqrt(s2)


# ---------------------------------------------------------------------------- data
def test_loaders_return_indexed_pandas_objects():
    s = gs.data.potash_monthly()
    assert isinstance(s, pd.Series) and s.name == "potash_usd_t"
    assert isinstance(s.index, pd.DatetimeIndex) and s.index.freqstr == "MS"
    assert s.index[0] == pd.Timestamp("1960-01-01") and s.index[-1] == pd.Timestamp("2025-01-01")
    assert s["2022-04-01"] == 1202.0 and s["2021-06-01"] == 462.5
    df = gs.data.fertilizer_prices_monthly("2010-01", "2010-12")
    assert len(df) == 12 and "urea_usd_t" in df and df.dtypes.eq("float64").all()
    eq = gs.data.equities_daily()
    assert eq.shape == (1556, 6) and isinstance(eq.index, pd.DatetimeIndex)
    assert eq.index.is_monotonic_increasing and not eq.isna().any().any()
    with pytest.raises(gs.ConfigError, match="^start:"):
        gs.data.potash_monthly(start="not a date")


@pytest.mark.parametrize("start, end, path", [(2010, None, "start"), (None, 5, "end"), ("2999", None, "start"),
                                              (pd.NaT, None, "start"), (None, "1500-01", "end"),
                                              ("", None, "start"), (None, "NaT", "end"), ("nan", None, "start")])
def test_loader_dates_are_dates(start, end, path):
    # a number would be read as nanoseconds since 1970; years past 2260 overflow pandas
    with pytest.raises(gs.ConfigError) as err:
        gs.data.potash_monthly(start, end)
    assert err.value.path == path


@pytest.mark.parametrize(
    "start, end, path, rule",
    [("2030-01", None, "start", "no data from '2030-01' to None: the data cover 1960-01-01"),
     (None, "1950-12", "end", "no data from None to '1950-12'"),
     ("2024-01-01", "2018-01-01", "end", "'2018-01-01' is before start '2024-01-01'")],
)
def test_loader_ranges_without_data_are_errors(start, end, path, rule):
    # an empty table would only fail later, far from the mistake
    with pytest.raises(gs.ConfigError) as err:
        gs.data.potash_monthly(start, end)
    assert err.value.path == path and str(err.value).startswith(f"{path}: {rule}")
    with pytest.raises(gs.ConfigError, match=r"^end: no data .* the data cover 2018-01-02 … 2024-03-08"):
        gs.data.equities_daily("2019-01-05", "2019-01-06")  # a weekend


@pytest.mark.parametrize("end", ["2020-06", "2020/06", "Jun 2020", "2020.06", "June 2020", "2020-6"])
def test_a_loaders_end_keeps_the_whole_period_it_names_as_pandas_does(end):
    # every spelling of a month keeps all of that month (a non-ISO one used to stop at the 1st)
    eq = gs.data.equities_daily()
    got = gs.data.equities_daily("2020-05-15", end)
    assert got.equals(eq.loc["2020-05-15":"2020-06-30"]) and got.index[-1] == pd.Timestamp("2020-06-30")
    start = gs.data.equities_daily(end, "2020-07-10")
    assert start.equals(eq.loc["2020-06-01":"2020-07-10"])


def test_a_loaders_bounds_may_be_periods_or_0d_datetime_arrays():
    # a Period stands for its whole span, as its string does
    eq = gs.data.equities_daily()
    got = gs.data.equities_daily(pd.Period("2020-05", "M"), pd.Period("2020Q2"))
    assert got.equals(eq.loc["2020-05-01":"2020-06-30"])
    day = np.array(np.datetime64("2020-05-15"))
    assert gs.data.equities_daily(day, "2020-06").equals(eq.loc["2020-05-15":"2020-06-30"])


def test_a_loaders_quarter_and_year_are_whole_periods():
    assert gs.data.potash_monthly("2010-01", "2010Q4").equals(gs.data.potash_monthly("2010-01", "2010-12"))
    assert len(gs.data.potash_monthly("2010Q2", "2010Q3")) == 6 and len(gs.data.potash_monthly("2011", "2011")) == 12


def test_loader_dates_may_carry_a_time_zone():
    utc = gs.data.equities_daily(pd.Timestamp("2020-01-01", tz="UTC"), datetime.date(2020, 12, 31))
    assert utc.equals(gs.data.equities_daily("2020", "2020")) and len(utc) > 250
    # a date string with an offset is read as its local date and time, like a Timestamp
    assert gs.data.equities_daily("2020-01-01T00:00:00+09:00", "2020-12-31").equals(utc)


def test_loader_words_for_dates_are_named():
    # "today" is a date, after the data end: the error names the argument and the cover
    with pytest.raises(gs.ConfigError) as err:
        gs.data.potash_monthly("today")
    assert err.value.path == "start" and "the data cover" in str(err.value)


# ---------------------------------------------------------------------------- log-OU
def test_ar1_on_real_potash_2010_2025_matches_numpy_reference():
    s = gs.data.potash_monthly("2010-01", "2025-01")
    fit = gs.calibrate.log_ou(s)
    ref = ar1_reference(s.to_numpy(), DT)
    for i, p in enumerate(["kappa", "theta", "sigma"]):
        assert fit.params[p] == pytest.approx(ref[p], rel=1e-6, abs=1e-6), p
        assert fit.table.at[p, "std_err"] == pytest.approx(ref["se"][i], rel=1e-6), p
    assert fit.loglik == pytest.approx(ref["loglik"], rel=1e-9)
    # the numbers of MODEL.md §3
    assert round(fit.params["kappa"], 2) == 0.39 and round(fit.params["sigma"], 2) == 0.34
    assert fit.dt == DT and fit.n_obs == 180


def test_editing_a_fits_tables_changes_neither_its_estimates_nor_its_bootstrap():
    fit = gs.calibrate.log_ou(gs.data.potash_monthly("2010-01", "2025-01"))
    theta, text = float(fit.params["theta"]), repr(fit)
    before = fit.bootstrap(20, seed=0, progress=False).table
    table = fit.table
    table.loc["theta", "estimate"] /= 1000  # θ shown in USD/kg, say
    assert table.at["theta", "estimate"] == pytest.approx(theta / 1000)  # the caller's copy did change
    assert fit.params["theta"] == theta and fit.to_pandas().at["theta", "estimate"] == theta and repr(fit) == text
    assert fit.bootstrap(20, seed=0, progress=False).table.equals(before)
    betas = gs.calibrate.factor_betas(*_regression_frames(1, rho=0.5))
    stats = betas.fit_stats
    stats.iloc[0, 0] = -1.0
    assert betas.fit_stats.iloc[0, 0] != -1.0


@pytest.mark.parametrize("seed", range(8))
def test_diffusion_recovers_parameters_within_4_se(seed):
    truth = {"kappa": 0.8, "theta": 300.0, "sigma": 0.3}
    fit = gs.calibrate.log_ou(simulate_levels(seed, 600, truth))
    for p, v in truth.items():
        est, se = fit.params[p], fit.table.at[p, "std_err"]
        assert abs(est - v) <= N_SIGMA * se, f"{p}: {est} vs {v} (SE {se})"


@pytest.mark.parametrize("seed", range(3))
def test_jump_model_recovers_all_parameters_within_4_se(seed):
    truth = {
        "kappa": 1.0,
        "theta": 300.0,
        "sigma": 0.15,
        "lambda": 3.0,
        "mu_j": 0.05,
        "sigma_j": 0.15,
    }
    fit = gs.calibrate.log_ou(simulate_levels(100 + seed, 1200, truth), jumps=True)
    assert not fit.notes, fit.notes
    for p, v in truth.items():
        est, se = fit.params[p], fit.table.at[p, "std_err"]
        assert np.isfinite(se) and abs(est - v) <= N_SIGMA * se, f"{p}: {est} vs {v} (SE {se})"
    assert fit.jumps_preferred


@pytest.mark.filterwarnings("ignore:log_ou.*cannot exclude a random walk:RuntimeWarning")
def test_quarterly_and_weekly_steps_come_from_the_index():
    q = gs.data.potash_monthly("1990-01", "2025-01").resample("QS").mean()
    fit = gs.calibrate.log_ou(q)
    assert fit.dt == 0.25
    assert fit.params["kappa"] == pytest.approx(
        ar1_reference(q.to_numpy(), 0.25)["kappa"], rel=1e-9
    )
    w = simulate_levels(
        3, 1500, {"kappa": 2.0, "theta": 50.0, "sigma": 0.4}, dt=7 / 365.25, freq="W-FRI"
    )
    fw = gs.calibrate.log_ou(w)
    assert fw.dt == pytest.approx(7 / 365.25)
    assert abs(fw.params["kappa"] - 2.0) <= N_SIGMA * fw.table.at["kappa", "std_err"]
    # a PeriodIndex, as monthly and quarterly data often come, is read as the periods' starts
    for levels in (q, gs.data.potash_monthly("2010-01", "2025-01")):
        by_period = gs.calibrate.log_ou(levels.to_period())
        pd.testing.assert_frame_equal(by_period.table, gs.calibrate.log_ou(levels).table)


def _gbm_world(g: float, sigma: float, months: int) -> gs.World:
    return gs.World.from_dict({
        "world": {"name": "one_gbm", "horizon_months": months},
        "factors": {"index": {"kind": "gbm", "unit": "pts", "initial": 100.0}},
        "scenarios": {"base": {"probability": 1.0, "index": {"g": g, "sigma": sigma}}},
    })


def test_gbm_fit_is_the_closed_form_mle_and_recovers_the_simulated_parameters():
    g, sigma = 0.08, 0.25
    x = _gbm_world(g, sigma, 1_200).simulate(1, seed=21, progress=False)["index"][0]
    levels = pd.Series(x, index=pd.date_range("1925-01-01", periods=x.size, freq="MS"), name="index")
    fit = gs.calibrate.gbm(levels)
    # the MLE in closed form: r ~ Normal((g − σ²/2)Δ, σ²Δ)
    r, dt = np.diff(np.log(x)), 1 / 12
    s2 = r.var()  # the MLE's 1/n variance
    assert fit.params["sigma"] == pytest.approx(math.sqrt(s2 / dt), rel=1e-12)
    assert fit.params["g"] == pytest.approx(r.mean() / dt + s2 / dt / 2, rel=1e-12)
    assert fit.loglik == pytest.approx(float(np.sum(-0.5 * np.log(2 * np.pi * s2) - (r - r.mean()) ** 2 / (2 * s2))),
                                       rel=1e-12)
    assert fit.n_obs == 1_200 and fit.dt == pytest.approx(dt) and list(fit.table.columns) == ["estimate", "std_err"]
    # and within 4 standard errors of the parameters simulated (100 years of months)
    for name, true in (("g", g), ("sigma", sigma)):
        assert abs(fit.params[name] - true) <= N_SIGMA * fit.table.at[name, "std_err"], name
    # the standard errors are those of the information matrix
    n = r.size
    assert fit.table.at["sigma", "std_err"] == pytest.approx(fit.params["sigma"] / math.sqrt(2 * n), rel=1e-12)
    monthly = pd.date_range("2020-01-01", periods=40, freq="MS")
    with pytest.raises(gs.NumericalError, match="do not vary"):
        gs.calibrate.gbm(pd.Series(np.geomspace(1, 2, 40), index=monthly))
    for jumps in (False, True):  # a constant series is bad input, as for log_ou
        for fit in (gs.calibrate.gbm, gs.calibrate.log_ou):
            with pytest.raises(gs.ConfigError, match="is constant: nothing to fit") as ei:
                fit(pd.Series(np.full(40, 7.0), index=monthly), jumps=jumps)
            assert ei.value.path == "series"
    with pytest.raises(gs.ConfigError) as ei:
        gs.calibrate.gbm(levels.to_numpy())
    assert ei.value.path == "series"


def test_a_level_series_calibrates_a_gbm_factor_of_the_world():
    spy = gs.data.equities_daily("2018-01-01", "2024-12-31")["spy_adj_close"].resample("MS").last()
    world0 = gs.World.default().with_params({"scenarios.base.global_equity": {"lambda": 2.0, "mu_j": -0.05}})
    world, changes = world0.calibrated(spy, factor="global_equity", jumps=False)
    fit = gs.calibrate.gbm(spy)
    base = world.to_dict()["scenarios"]["base"]["global_equity"]
    assert base["g"] == fit.params["g"] and base["sigma"] == fit.params["sigma"]
    assert base["lambda"] == base["mu_j"] == base["sigma_j"] == 0.0  # a GBM fit without jumps
    assert changes.at["scenarios.base.global_equity.lambda", "old"] == 2.0
    assert changes.at["scenarios.base.global_equity.g", "std_err"] == fit.table.at["g", "std_err"]
    # with jumps kept: every parameter from the jump fit (of a DataFrame's column, a
    # strided view, as of a Series of its own)
    frame = gs.data.equities_daily("2018-01-01", "2024-12-31").resample("MS").last()
    assert not frame["spy_adj_close"].to_numpy().flags["C_CONTIGUOUS"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        jumpy, jump_changes = world0.calibrated(frame["spy_adj_close"], factor="global_equity", jumps=True)
        jump_fit = gs.calibrate.gbm(spy, jumps=True)
    base = jumpy.to_dict()["scenarios"]["base"]["global_equity"]
    assert [base[p] for p in ("g", "sigma", "lambda", "mu_j", "sigma_j")] == jump_fit.params.tolist()
    assert jump_changes.at["scenarios.base.global_equity.lambda", "std_err"] == jump_fit.table.at["lambda", "std_err"]
    with pytest.raises(gs.ConfigError, match="log_ou, logit_ou or gbm factor") as ei:
        world0.calibrated(potash=spy, factor="digital_ruble_share")
    assert ei.value.path == "factor" and "an adoption factor" in str(ei.value)


def _merton_world(g: float, sigma: float, lam: float, mu_j: float, sigma_j: float, months: int) -> gs.World:
    return gs.World.from_dict({
        "world": {"name": "one_merton", "horizon_months": months},
        "factors": {"index": {"kind": "gbm", "unit": "pts", "initial": 100.0}},
        "scenarios": {"base": {"probability": 1.0, "index": {
            "g": g, "sigma": sigma, "lambda": lam, "mu_j": mu_j, "sigma_j": sigma_j}}},
    })


def _merton_loglik(r: np.ndarray, dt: float, g: float, sigma: float, lam: float, mu_j: float, sigma_j: float,
                   max_jumps: int = 10) -> float:
    """Log-likelihood of log returns of a GBM with compensated Merton jumps (MODEL.md §3),
    written out here: Σ_t ln Σ_n Pois(n; λΔ)·φ(r_t; cΔ + nμ_J, σ²Δ + nσ_J²)."""
    c = g - sigma**2 / 2 - lam * (math.exp(mu_j + sigma_j**2 / 2) - 1)
    n = np.arange(max_jumps + 1)
    log_pois = -lam * dt + n * math.log(lam * dt) - np.array([math.lgamma(k + 1) for k in n])
    var = sigma**2 * dt + n * sigma_j**2
    e = r[:, None] - c * dt - n * mu_j
    terms = log_pois - 0.5 * np.log(2 * np.pi * var) - e**2 / (2 * var)
    top = terms.max(axis=1, keepdims=True)
    return float(np.sum(top[:, 0] + np.log(np.exp(terms - top).sum(axis=1))))


def test_a_gbm_jump_fit_recovers_simulated_merton_paths_with_honest_standard_errors():
    # 24 paths of 100 years of months, about 100 jumps each, simulated by the engine
    true = {"g": 0.08, "sigma": 0.12, "lambda": 1.0, "mu_j": -0.15, "sigma_j": 0.05}
    paths = _merton_world(*true.values(), 1_200).simulate(24, seed=123, progress=False)["index"]
    index = pd.date_range("1925-01-01", periods=paths.shape[1], freq="MS")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a path may end a parameter on its bound
        fits = [gs.calibrate.gbm(pd.Series(x, index=index), jumps=True) for x in paths]
    est = np.array([f.params.to_numpy() for f in fits])
    se = np.array([f.table["std_err"].to_numpy() for f in fits])
    spread = est.std(axis=0, ddof=1)
    for k, (name, value) in enumerate(true.items()):
        # consistent: the mean estimate within 4 standard errors of the mean
        assert abs(est[:, k].mean() - value) <= N_SIGMA * spread[k] / math.sqrt(len(fits)), name
        # the observed information's errors are the estimates' spread (within the 24-path
        # sampling error of that spread, and the mixture's finite-sample 10-20%)
        assert 0.5 < np.median(se[:, k]) / spread[k] < 1.5, (name, np.median(se[:, k]), spread[k])
    fit = fits[0]
    assert fit.model == "gbm_jumps" and fit.params.index.tolist() == list(true) and fit.n_params == 5
    # the log-likelihood is the mixture's, at the estimates
    r = np.diff(np.log(paths[0]))
    assert fit.loglik == pytest.approx(_merton_loglik(r, 1 / 12, *fit.params.tolist()), rel=1e-10)
    # against the diffusion fit: the jumps are needed here
    levels = pd.Series(paths[0], index=index)
    assert fit.diffusion is not None and fit.diffusion.table.equals(gs.calibrate.gbm(levels).table)
    assert fit.jumps_preferred and fit.likelihood_ratio > 30
    with pytest.raises(gs.ConfigError) as ei:
        gs.calibrate.gbm(levels, jumps="yes")
    assert ei.value.path == "jumps"
    with pytest.raises(gs.ConfigError) as ei:
        gs.calibrate.gbm(levels, jumps=True, max_jumps=0)
    assert ei.value.path == "max_jumps"


def test_gbm_jump_notes_say_what_a_boundary_or_a_missing_maximum_means():
    # jumps all of one size (σ_J = 0.001): σ_J ends on its bound, which says nothing
    # against the jumps themselves (LR > 80)
    x = _merton_world(0.05, 0.2, 1.0, -0.2, 0.001, 600).simulate(1, seed=0, progress=False)["index"][0]
    levels = pd.Series(x, index=pd.date_range("1970-01", periods=x.size, freq="MS"))
    with pytest.warns(RuntimeWarning, match="gbm: sigma_j ended on the edge") as caught:
        fit = gs.calibrate.gbm(levels, jumps=True)
    assert fit.extra["at_bound"] == ["sigma_j"] and fit.likelihood_ratio > 80
    assert "jumps are all of about one size" in str(caught[0].message) and "jumps=False" not in str(caught[0].message)
    # sticky quotes (61% of the monthly potash changes are 0): no maximum, said as such,
    # and calibrated() does not keep such jumps unless told to
    potash = gs.data.potash_monthly("2000-01", "2025-01")
    with pytest.warns(RuntimeWarning, match="not positive definite"):
        sticky = gs.calibrate.gbm(potash, jumps=True)
    (note,) = [n for n in sticky.notes if "definite" in n]
    assert f"{np.mean(np.diff(np.log(potash.to_numpy())) == 0):.0%} of the returns are exactly zero" in note
    assert sticky.likelihood_ratio > 100  # the test alone would have kept them
    with pytest.warns(UserWarning, match="the jump fit is no maximum with standard errors"):
        cw = gs.World.default().calibrated(potash, factor="global_equity")
    assert cw.world.to_dict()["scenarios"]["base"]["global_equity"]["lambda"] == 0.0
    assert cw.fits["potash_jumps"].model == "gbm_jumps"


def test_calibrated_keeps_gbm_jumps_only_when_they_beat_the_diffusion():
    world_of = {"jumps": _merton_world(0.08, 0.15, 3.0, -0.08, 0.04, 1_200),
                "none": _gbm_world(0.08, 0.15, 1_200)}
    kept = {}
    for kind, world in world_of.items():
        x = world.simulate(1, seed=8, progress=False)["index"][0]
        levels = pd.Series(x, index=pd.date_range("1925-01-01", periods=x.size, freq="MS"))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cw = world.calibrated(levels, factor="index")
        base = cw.world.to_dict()["scenarios"]["base"]["index"]
        kept[kind] = base["lambda"]
        if kind == "jumps":
            assert base["lambda"] == cw.fits["potash"].params["lambda"] > 0 and "potash_jumps" not in cw.fits
        else:  # the diffusion fit, with a warning, and the jump fit set aside
            assert base["lambda"] == 0.0 and cw.fits["potash"].model == "gbm"
            assert cw.fits["potash_jumps"].model == "gbm_jumps"
            assert any("does not beat the diffusion" in str(w.message) for w in caught)
    assert kept["jumps"] > 0 and kept["none"] == 0.0


def test_a_logit_ou_fit_quotes_theta_as_the_level_its_table_gives():
    # a logit random walk: the "too slow to identify" note and warning name θ, which
    # they quoted on the odds scale (8.6e-16) while the table gives the level (8.6e-14)
    idx = pd.date_range("2000-01", periods=121, freq="MS")
    rng = np.random.default_rng(247)
    x = math.log(0.3 / 0.7) + np.r_[0, np.cumsum(0.3 * math.sqrt(1 / 12) * rng.standard_normal(120))]
    with pytest.warns(RuntimeWarning, match="too slow to identify") as caught:
        fit = gs.calibrate.logit_ou(pd.Series(100 / (1 + np.exp(-x)), index=idx), scale=100.0)
    theta = fit.params["theta"]
    note = next(n for n in fit.notes if "too slow" in n)
    assert f"θ = {theta:.4g} is not a level" in note
    assert any(f"θ = {theta:.4g} is not a level" in str(w.message) for w in caught)
    odds = theta / (100 - theta)
    assert f"{odds:.4g}" not in note


def test_a_world_of_your_own_is_told_to_name_the_factor_its_levels_calibrate():
    world = gs.World.from_dict({
        "world": {"name": "oil"},
        "factors": {"brent": {"kind": "log_ou", "unit": "USD/bbl", "initial": 80.0}},
        "scenarios": {"base": {"probability": 1.0, "brent": {"theta": 75.0, "kappa": 0.5, "sigma": 0.3}}},
    })
    brent = gs.data.fertilizer_prices_monthly()["brent_usd_bbl"].loc["2000":]
    with pytest.raises(gs.ConfigError, match="no factor 'potash_spot', the default.*factor='brent'") as err:
        world.calibrated(brent)
    assert err.value.path == "factor"
    with pytest.raises(gs.ConfigError, match="^factor: 'potash_spot' is not a factor of the world") as err:
        world.calibrated(brent, factor="potash_spot")  # named, not the default
    with pytest.raises(TypeError, match=r"'brent'.*calibrated\(levels, factor='brent'\)"):
        world.calibrated(brent=brent)
    with pytest.raises(TypeError, match="unexpected keyword argument 'direct_belarus'$"):  # not a factor
        gs.World.default().calibrated(direct_belarus=brent)
    with pytest.raises(TypeError, match="unexpected keyword argument 'jump'$"):
        world.calibrated(brent, factor="brent", jump=False)
    new, changes = world.calibrated(brent, factor="brent", jumps=False)
    assert new.to_dict()["scenarios"]["base"]["brent"]["kappa"] == changes.loc["scenarios.base.brent.kappa", "new"]


def test_a_logit_ou_fit_is_the_log_ou_fit_of_the_odds_with_theta_as_a_level():
    params = {"theta": 30.0, "kappa": 1.5, "sigma": 0.4}
    world = gs.World.from_dict({
        "world": {"name": "one_share", "horizon_months": 1_200},
        "factors": {"premium": {"kind": "logit_ou", "unit": "bp", "initial": 20.0, "scale": 200.0}},
        "scenarios": {"base": {"probability": 1.0, "premium": params}},
    })
    x = world.simulate(1, seed=17, progress=False)["premium"][0]
    levels = pd.Series(x, index=pd.date_range("1925-01-01", periods=x.size, freq="MS"), name="premium")
    fit = gs.calibrate.logit_ou(levels, 200.0)
    odds = gs.calibrate.log_ou(levels / (200.0 - levels))
    assert fit.params["kappa"] == odds.params["kappa"] and fit.params["sigma"] == odds.params["sigma"]
    t, se = odds.params["theta"], odds.table.at["theta", "std_err"]
    assert fit.params["theta"] == pytest.approx(200.0 * t / (1 + t), rel=1e-14)
    assert fit.table.at["theta", "std_err"] == pytest.approx(200.0 * se / (1 + t) ** 2, rel=1e-14)
    assert fit.loglik == odds.loglik and fit.model == "logit_ou"
    # the simulated parameters, within 4 standard errors (100 years of months)
    for name, true in params.items():
        assert abs(fit.params[name] - true) <= N_SIGMA * fit.table.at[name, "std_err"], name
    # a jump fit maps its diffusion fit's θ too, and a fixed θ is a level (these paths have
    # no jumps: the fits warn that σ_J ends on the edge of the search region)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        jumpy = gs.calibrate.logit_ou(levels, 200.0, jumps=True, mean_reversion="ar1")
        held = gs.calibrate.logit_ou(levels, 200.0, jumps=True, fixed={"kappa": 1.5, "theta": 30.0})
        # a Series of held parameters is the same dict: its θ a level too
        as_series = gs.calibrate.logit_ou(levels, 200.0, jumps=True, fixed=pd.Series({"kappa": 1.5, "theta": 30.0}))
    assert jumpy.diffusion.params["theta"] == fit.params["theta"]
    assert held.params["theta"] == pytest.approx(30.0, rel=1e-14)
    assert as_series.params.equals(held.params)
    # and the world takes it, with the factor's scale
    d = world.to_dict()
    calibrated, changes = world.calibrated(potash=levels, factor="premium", jumps=False)
    assert calibrated.to_dict()["scenarios"]["base"]["premium"]["theta"] == fit.params["theta"]
    assert changes.at["scenarios.base.premium.kappa", "new"] == fit.params["kappa"] and d == world.to_dict()
    for bad, path in ((levels.where(levels.index != levels.index[5], 200.0), "series"), (levels, "scale")):
        with pytest.raises(gs.ConfigError) as ei:
            gs.calibrate.logit_ou(bad, 200.0 if path == "series" else -1.0)
        assert ei.value.path == path


@pytest.mark.parametrize("k", [1, 2, 3])
def test_the_chi2_tail_is_that_of_a_sum_of_k_squared_normals(k):
    z2 = (np.random.default_rng(k).standard_normal((1_000_000, k)) ** 2).sum(axis=1)
    for x in (0.5, 2.0, 6.0, 11.0):
        p = float(np.mean(z2 > x))
        se = math.sqrt(max(p * (1 - p), 1e-12) / z2.size)
        assert abs(cal._chi2_sf(x, k) - p) <= N_SIGMA * se + 1e-6, (k, x)
    assert cal._chi2_sf(0.0, k) == 1.0


def test_a_jump_fit_with_mu_j_or_sigma_j_held_is_still_tested_against_the_diffusion():
    potash = gs.data.potash_monthly("2010-01", "2025-01")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        held_mu = gs.calibrate.log_ou(potash, jumps=True, fixed={"mu_j": 0.0})
        held_kappa = gs.calibrate.log_ou(potash, jumps=True, fixed={"kappa": 1.0})
    # λ → 0 still gives the diffusion: nested, with the two free jump parameters
    k = held_mu.n_params - held_mu.diffusion.n_params
    assert k == 2 and cal._nested(held_mu)
    assert f"on 2 extra parameters, χ²₂ p = {cal._chi2_sf(held_mu.likelihood_ratio, 2):.2g}" in held_mu.comparison()
    # κ held while the diffusion estimates it: no test
    assert not cal._nested(held_kappa) and "not a test" in held_kappa.comparison()


def test_jumps_not_asked_for_are_kept_only_if_they_beat_the_diffusion():
    # a logit-OU path without jumps: the jump fit's likelihood gain is noise
    world = gs.World.default()
    alone = world.with_params({"scenarios.base.probability": 1.0, "scenarios.bull.probability": 0.0,
                               "scenarios.bear.probability": 0.0})
    x = alone.simulate(1, 600, seed=3, progress=False)["eurobond_price"][0]
    levels = pd.Series(x, index=pd.date_range("1976-01", periods=x.size, freq="MS"))
    with pytest.warns(UserWarning, match="the jump fit does not beat the diffusion") as caught:
        cw = world.calibrated(potash=levels, factor="eurobond_price")
    rejected = cw.fits["potash_jumps"]
    lr = rejected.likelihood_ratio
    assert cal._chi2_sf(lr, 3) >= cal.JUMP_TEST_LEVEL and f"LR = {lr:.2f}" in str(caught[0].message)
    diffusion = gs.calibrate.logit_ou(levels, 100.0)
    for p in ("kappa", "theta", "sigma"):
        assert cw.changes.at[f"scenarios.base.eurobond_price.{p}", "new"] == diffusion.params[p]
    for p in ("lambda", "mu_j", "sigma_j"):
        assert cw.changes.at[f"scenarios.base.eurobond_price.{p}", "new"] == 0.0
    # asked for, they are kept; on potash 2010–2025, where they pass the test, they are kept too
    with pytest.warns(UserWarning, match="inherit the fitted jumps") as caught:  # (the bull and bear's own θ)
        forced = world.calibrated(potash=levels, factor="eurobond_price", jumps=True)
    assert forced.changes.at["scenarios.base.eurobond_price.lambda", "new"] == rejected.params["lambda"] > 0
    # a logit-OU factor's jumps move its odds by e^{λΔμ_J/(1 − e^{−κΔ})}: the level moves less
    said = next(str(w.message) for w in caught if "inherit" in str(w.message))
    assert "which a logit-OU factor does not compensate (they move its odds)" in said
    in_force = forced.world.parameters()["value"]
    for other in ("bull", "bear"):
        theta, k, lam, mu = (in_force[(other, "eurobond_price", q)] for q in ("theta", "kappa", "lambda", "mu_j"))
        odds = theta / (100.0 - theta) * math.exp(lam / 12 * mu / -math.expm1(-k / 12))
        if f"{other} " in said:
            assert f"{other} {100.0 * odds / (1 + odds) / theta - 1:+.0%}" in said, (other, said)
    potash = gs.calibrate.log_ou(gs.data.potash_monthly("2010-01", "2025-01"), jumps=True, mean_reversion="ar1")
    assert cal._chi2_sf(potash.likelihood_ratio, 3) < cal.JUMP_TEST_LEVEL
    kept = world.calibrated(potash=gs.data.potash_monthly("2010-01", "2025-01"))
    assert kept.changes.at["scenarios.base.potash_spot.lambda", "new"] == potash.params["lambda"]
    assert "potash_jumps" not in kept.fits


def test_a_level_series_far_from_the_factors_initial_level_is_warned_of():
    # Brent in USD/bbl calibrating potash in USD/t: θ in the wrong unit, and a factor that
    # reverts from 352 towards it, without a word
    brent = gs.data.fertilizer_prices_monthly()["brent_usd_bbl"]["2010":"2024"]
    with pytest.warns(UserWarning, match=r"potash_spot: its initial level, 352, is (\d\.\d+) times above the "
                                         r"highest level of the data \((\d+\.?\d*)\)") as caught:
        gs.World.default().calibrated(brent, jumps=False)
    said = next(str(w.message) for w in caught if "times above" in str(w.message))
    assert f"{352 / brent.max():.3g} times above" in said and "is the series in another unit or scale?" in said
    # the world's own series, a crisis window that ends far above today's level (for the
    # bear), and a gbm factor (returns have no unit) say nothing of it
    potash = gs.data.potash_monthly()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (notes of the fits)
        warnings.simplefilter("error", UserWarning)
        warnings.filterwarnings("ignore", "potash_spot: the fitted θ of base", UserWarning)  # (crosses the bull's)
        gs.World.default().calibrated(potash["2010-01":"2025-01"])
        gs.World.default().calibrated(potash["2005":"2022-06"], scenario="bear", jumps=False)
        gs.World.default().calibrated(brent, factor="global_equity")


def test_a_fitted_level_that_crosses_another_scenarios_is_warned_of():
    # the bull's θ (330) was set below the base's (352); fitted, the base's is 296: the
    # bull now takes potash higher than the base, which the change table does not say
    potash = gs.data.potash_monthly("2010-01", "2025-01")
    with pytest.warns(UserWarning, match=r"potash_spot: the fitted θ of base \(352 → (\d+\.\d)\) crosses "
                                         r"bull's 330: the scenarios' order is reversed") as caught:
        world, changes = gs.World.default().calibrated(potash)
    said = next(str(w.message) for w in caught if "crosses" in str(w.message))
    assert f"→ {changes.at['scenarios.base.potash_spot.theta', 'new']:.4g})" in said
    assert "bear" not in said  # (480, above both)
    # a gbm factor's g: the base's 0.06 fitted to SPY's 0.129 crosses the bull's 0.07
    spy = gs.data.equities_daily()["spy_adj_close"].resample("ME").last()
    with pytest.warns(UserWarning, match=r"global_equity: the fitted g of base \(0\.06 → 0\.12\d+\) crosses bull's 0\.07"):
        gs.World.default().calibrated(spy, factor="global_equity", jumps=False)
    # nothing crossed, nothing said: the bull set below the new base, or a scenario that
    # takes the base's value rather than its own
    d = gs.World.default().to_dict()
    del d["scenarios"]["bull"]["potash_spot"]["theta"]
    for world in (gs.World.default().with_params({"scenarios.bull.potash_spot.theta": 250.0}), gs.World.from_dict(d)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            world.calibrated(potash)
        assert not [str(w.message) for w in caught if "crosses" in str(w.message)]


def test_scenarios_that_inherit_the_fitted_jumps_are_warned_of_their_drift():
    # the bull sets its own θ but inherits λ and μ_J: uncompensated, they move its long-run
    # level by e^{λΔμ_J/(1 − e^{−κΔ})}, which the change table does not show
    d = gs.World.default().to_dict()
    d["scenarios"]["bull"]["potash_spot"] = {"theta": 400.0}
    world = gs.World.from_dict(d)
    potash = gs.data.potash_monthly("2000-01", "2025-01")
    with pytest.warns(UserWarning, match=r"potash_spot: scenarios that set their own θ inherit") as caught:
        new, changes = world.calibrated(potash=potash)
    p = {k: changes.at[f"scenarios.bull.potash_spot.{k}", "new"] for k in ("kappa", "lambda", "mu_j")}
    drift = p["lambda"] / 12 * p["mu_j"] / -math.expm1(-p["kappa"] / 12)
    said = [str(w.message) for w in caught if "inherit" in str(w.message)]
    assert len(said) == 1 and f"bull {math.exp(drift) - 1:+.0%}" in said[0] and "bear" not in said[0]
    # the bear keeps its own jumps: no warning without such a scenario
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.filterwarnings("ignore", "potash_spot: the fitted θ of base", UserWarning)  # (crosses the bull's)
        gs.World.default().calibrated(potash=potash)


@pytest.mark.parametrize("scale", [1e-250, 1e-20, 1e20, 1e250])
def test_jump_model_does_not_depend_on_the_price_unit(scale):
    # ln(c·S) = ln c + ln S: only θ scales, by c. The search box of ln θ used to be
    # fixed at [−50, 50], so prices quoted in units beyond e^50 could not be fitted.
    s = gs.data.potash_monthly("2000-01", "2025-01")
    ref = gs.calibrate.log_ou(s, jumps=True, mean_reversion="ar1").params
    got = gs.calibrate.log_ou(s * scale, jumps=True, mean_reversion="ar1").params
    assert got["kappa"] == pytest.approx(ref["kappa"], rel=1e-9)  # the AR(1) slope
    # the others to the optimiser's tolerance (its path differs in rounding); θ too,
    # since it follows from the AR(1) mean and the jumps
    assert got["theta"] / scale == pytest.approx(ref["theta"], rel=1e-4)
    for p in ["sigma", "lambda", "mu_j", "sigma_j"]:
        assert got[p] == pytest.approx(ref[p], rel=1e-4), p


def test_an_ar1_jump_fit_simulates_at_the_long_run_mean_of_the_data():
    # The AR(1) intercept carries the jumps' mean: a world holding θ at the AR(1) value
    # and adding jumps of mean μ_J drifted to e^{λΔμ_J/(1 − e^{−κΔ})} of it (+24% on the
    # 2000–2025 fit). Simulated 50 years out, E[ln X] is the AR(1)'s long-run mean.
    s = gs.data.potash_monthly("2000-01", "2025-01")
    fit = gs.calibrate.log_ou(s, jumps=True, mean_reversion="ar1")
    params = {k: float(v) for k, v in fit.params.items()}
    world = gs.World.from_dict({
        "world": {"name": "potash_alone", "horizon_months": 600},
        "factors": {"potash": {"kind": "log_ou", "unit": "USD/t", "initial": float(s.iloc[-1])}},
        "scenarios": {"base": {"probability": 1.0, "potash": params}},
    })
    x = np.log(world.simulate(4_000, seed=11, progress=False)["potash"][:, -1])
    target = math.log(fit.diffusion.params["theta"])
    # (the start's pull, e^{−κT} of ln X₀ − target, is below 1e-3 here)
    assert abs(x.mean() - target) <= N_SIGMA * x.std(ddof=1) / math.sqrt(x.size)
    # the drift the old θ carried is far outside that
    drift = params["lambda"] * fit.dt * params["mu_j"] / -math.expm1(-params["kappa"] * fit.dt)
    assert drift > 10 * N_SIGMA * x.std(ddof=1) / math.sqrt(x.size)


def test_the_two_step_standard_errors_cover_sigma_and_the_jumps():
    # mean_reversion="ar1" holds the AR(1) fit's intercept and slope in the jump likelihood;
    # that likelihood's own errors ignore theirs, and ±1.96 of them covered μ_J 43% and σ
    # 65% of the time in series simulated from the potash fit. Murphy and Topel's
    # correction: 100 such series of 180 months, seeded; 95% ± 4 binomial SEs (2.2 points)
    from geoscenario import _two_step

    potash = gs.data.potash_monthly("2010-01", "2025-01")
    fit = gs.calibrate.log_ou(potash, jumps=True, mean_reversion="ar1")
    # the per-step densities the correction differentiates are the fit's likelihood
    a, b, _ = fit.diffusion.extra["ar"]
    steps = _two_step.step_logliks(np.log(potash.to_numpy()), fit.dt, a, b,
                                   {q: float(fit.params[q]) for q in _two_step.STAGE_TWO}, 10)
    assert steps.sum() == pytest.approx(fit.loglik, rel=1e-12)
    truth = {k: float(v) for k, v in fit.params.items()}
    world = gs.World.from_dict({
        "world": {"horizon_months": 180},
        "factors": {"p": {"kind": "log_ou", "initial": float(potash.iloc[0])}},
        "scenarios": {"base": {"probability": 1.0, "p": truth}},
    })
    sim = world.simulate(100, seed=9, progress=False)
    idx = pd.date_range("2010-01-01", periods=181, freq="MS")
    est, se = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an edge of the search now and then
        for path in sim["p"]:
            f = gs.calibrate.log_ou(pd.Series(np.asarray(path), index=idx), jumps=True, mean_reversion="ar1")
            est.append([f.params[q] for q in _two_step.STAGE_TWO])
            se.append([f.std_errors[q] for q in _two_step.STAGE_TWO])
    est, se = np.array(est), np.array(se)
    z = (est - np.array([truth[q] for q in _two_step.STAGE_TWO])) / se
    cover = np.mean(np.abs(z) < 1.96, axis=0)
    floor = 0.95 - N_SIGMA * math.sqrt(0.95 * 0.05 / len(z))
    assert (cover >= floor).all(), dict(zip(_two_step.STAGE_TWO, cover))
    # not by inflating them: the median error is the estimates' spread, within the 4-SE
    # band of a standard deviation from 100 draws (±4/√200 ≈ 28%)
    ratio = np.median(se, axis=0) / est.std(axis=0, ddof=1)
    band = N_SIGMA / math.sqrt(2 * (len(est) - 1))
    assert (np.abs(ratio - 1) <= band).all(), dict(zip(_two_step.STAGE_TWO, ratio))


def test_a_two_step_error_that_cannot_be_taken_is_said_to_be_nan(monkeypatch):
    from geoscenario import _two_step

    def singular(x, dt, ar, params, free, max_jumps):
        return {q: math.nan if q == "lambda" else 0.01 for q in free}

    monkeypatch.setattr(_two_step, "corrected", singular)
    with pytest.warns(RuntimeWarning, match="two-step errors are taken: the standard errors of lambda are NaN"):
        fit = gs.calibrate.log_ou(gs.data.potash_monthly("2010-01", "2025-01"), jumps=True, mean_reversion="ar1")
    assert math.isnan(fit.std_errors["lambda"]) and fit.std_errors["sigma"] == 0.01


def test_a_jump_stage_without_positive_definite_information_keeps_every_error_nan():
    # a short rounded series whose σ_J ends on its bound: the core's information is not
    # positive definite and its note says the errors are NaN, so the table must not show
    # two-step errors taken from that information
    rng = np.random.default_rng(39)
    b = math.exp(-0.4 / 12)
    sd = 0.045 * math.sqrt((1 - b * b) / 0.8)
    x = [math.log(300)]
    for _ in range(59):
        k = rng.poisson(20 / 12)
        x.append((1 - b) * math.log(300) + b * x[-1] + sd * rng.standard_normal() + 0.005 * k
                 + 0.13 * math.sqrt(k) * rng.standard_normal())
    s = pd.Series(np.exp(x), index=pd.date_range("2010-01-01", periods=60, freq="MS")).round(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = gs.calibrate.log_ou(s, jumps=True, mean_reversion="ar1")
    said = [str(w.message) for w in caught]
    assert any("not positive definite: standard errors are NaN" in m for m in said), said
    assert not any("two-step" in m for m in said), said
    assert not fit.extra["hessian_ok"]
    assert fit.table.loc[["theta", "sigma", "lambda", "mu_j", "sigma_j"], "std_err"].isna().all()


def test_jump_model_beats_diffusion_on_real_potash_2000_2025_and_says_so():
    s = gs.data.potash_monthly("2000-01", "2025-01")
    fit = gs.calibrate.log_ou(s, jumps=True, mean_reversion="ar1")
    assert fit.diffusion is not None and fit.loglik > fit.diffusion.loglik
    assert fit.jumps_preferred and fit.likelihood_ratio > 0
    text = repr(fit)
    assert "the jump model has the higher likelihood" in text
    assert f"{fit.loglik:.3f}" in text and f"{fit.diffusion.loglik:.3f}" in text
    # κ is the AR(1) value, with the AR(1) standard error, and so is the model's long-run
    # mean of ln X, ln θ + λΔμ_J/(1 − e^{−κΔ}) (MODEL.md §3: the jumps are not compensated)
    assert fit.params["kappa"] == fit.diffusion.params["kappa"]
    assert fit.table.at["kappa", "std_err"] == fit.diffusion.table.at["kappa", "std_err"]
    p = fit.params
    drift = p["lambda"] * fit.dt * p["mu_j"] / -math.expm1(-p["kappa"] * fit.dt)
    assert math.log(p["theta"]) + drift == pytest.approx(math.log(fit.diffusion.params["theta"]), abs=1e-12)
    # θ's error adds the first stage's in that mean and in κ (through ln θ's slope in κ,
    # here by central differences) to the jumps' in their drift (the core's delta method)
    def ln_theta(kappa):
        return math.log(fit.diffusion.params["theta"]) - p["lambda"] * fit.dt * p["mu_j"] / -math.expm1(-kappa * fit.dt)

    h = 1e-6 * p["kappa"]
    slope = (ln_theta(p["kappa"] + h) - ln_theta(p["kappa"] - h)) / (2 * h)
    se_mean = fit.diffusion.table.at["theta", "std_err"] / fit.diffusion.params["theta"]  # of ln θ_AR(1)
    se_kappa = fit.table.at["kappa", "std_err"]
    want = p["theta"] * math.sqrt(se_mean**2 + (slope * se_kappa) ** 2 + fit.extra["log_mean_se"] ** 2)
    assert fit.table.at["theta", "std_err"] == pytest.approx(want, rel=1e-6)
    assert abs(slope * se_kappa) > se_mean / 2  # κ's term matters on this sticky series
    assert list(fit.table["fixed"]) == [
        "ar1",
        "ar1",
        "estimated",
        "estimated",
        "estimated",
        "estimated",
    ]
    # the joint MLE is higher still, but κ → 0 on this sticky series: a warning says so,
    # and another that the standard errors are NaN there
    with pytest.warns(RuntimeWarning) as caught:
        joint = gs.calibrate.log_ou(s, jumps=True)
    said = [str(w.message) for w in caught]
    assert any("edge of the search region" in m for m in said), said
    assert any("not positive definite" in m for m in said), said
    # it blames sticky quotes (most changes are zero here), which a last two years with
    # none zero do not get
    assert any("% of the changes are exactly zero" in m for m in said), said
    with pytest.warns(RuntimeWarning, match="edge of the search region") as caught:
        gs.calibrate.log_ou(gs.data.potash_monthly("2023-02", "2025-01"), jumps=True)
    assert not any("exactly zero" in str(w.message) for w in caught)
    assert joint.loglik >= fit.loglik and "the jump model has the higher likelihood" in repr(joint)


def test_a_fit_without_standard_errors_warns():
    # the joint jump MLE on potash since 2010 has an observed information that is not
    # positive definite: the NaN standard errors come with a warning, not only a note
    potash = gs.data.potash_monthly("2010-01", "2025-01")
    with pytest.warns(RuntimeWarning, match="not positive definite: standard errors are NaN") as caught:
        fit = gs.calibrate.log_ou(potash, jumps=True)
    # attributed to the caller's line, not to the package
    assert {w.filename for w in caught} == {__file__}
    assert fit.table["std_err"].isna().all()
    assert any("not positive definite" in note for note in fit.notes)
    # and points to the fit that has them (47% of these quotes are unchanged)
    said = " ".join(str(w.message) for w in caught)
    assert "mean_reversion='ar1'" in said and "(47% of the changes here are exactly zero)" in said, said
    held = gs.calibrate.log_ou(potash, jumps=True, mean_reversion="ar1")
    assert held.table["std_err"].notna().all()
    # but not when θ is held, which 'ar1' would set (it refuses fixed θ)
    with pytest.warns(RuntimeWarning, match="not positive definite") as caught:
        gs.calibrate.log_ou(potash, jumps=True, fixed={"theta": 300.0})
    assert not any("mean_reversion=" in str(w.message) for w in caught)


def test_fixed_parameters_are_held():
    s = simulate_levels(
        5,
        600,
        {"kappa": 1.0, "theta": 300.0, "sigma": 0.15, "lambda": 3.0, "mu_j": 0.0, "sigma_j": 0.1},
    )
    fit = gs.calibrate.log_ou(s, jumps=True, fixed={"mu_j": 0.0, "kappa": 1.0})
    assert fit.params["mu_j"] == 0.0 and fit.params["kappa"] == 1.0
    assert np.isnan(fit.table.at["mu_j", "std_err"]) and fit.table.at["mu_j", "fixed"] == "fixed"
    assert fit.n_params == 4
    # the diffusion estimates κ, so it is not nested in this model: no χ² test is quoted
    text = fit.comparison()
    assert "not nested" in text and "p =" not in text and "extra parameters" not in text
    every = dict(fit.params)
    held = gs.calibrate.log_ou(s, jumps=True, fixed=every)
    assert held.n_params == 0 and "not nested" in held.comparison() and "extra parameters" not in held.comparison()
    # without fixed parameters the test is quoted on the 3 jump parameters
    free = gs.calibrate.log_ou(s, jumps=True)
    assert "on 3 extra parameters, χ²₃ p = " in free.comparison()


def test_leading_and_trailing_nan_are_dropped():
    s = gs.data.potash_monthly("2010-01", "2025-01")
    padded = pd.concat(
        [
            pd.Series([np.nan] * 3, index=pd.date_range("2009-10-01", periods=3, freq="MS")),
            s,
            pd.Series([np.nan], index=[pd.Timestamp("2025-02-01")]),
        ]
    ).rename("potash_usd_t")
    a, b = gs.calibrate.log_ou(s), gs.calibrate.log_ou(padded)
    assert a.params.equals(b.params) and b.start == s.index[0]


@pytest.mark.parametrize(
    "make, path, message",
    [
        (lambda s: s.where(s.index != "2015-06-01"), "series", "missing on 2015-06-01"),
        (lambda s: s.iloc[:20], "series", "at least 24"),
        (lambda s: s.reset_index(drop=True), "series", "DatetimeIndex"),
        (lambda s: s.drop(s.index[[5, 40, 41]]), "series", "not regular"),
        (lambda s: s.to_frame(), "series", "pandas Series"),
        (lambda s: s.where(s.index != "2012-01-01", -5.0), "series", "positive"),
        (lambda s: s.iloc[::-1], "series", "sorted"),
        (lambda s: s.astype(str), "series", "real numbers"),
    ],
)
def test_bad_series_raise_config_error_naming_the_argument(make, path, message):
    s = gs.data.potash_monthly("2010-01", "2025-01")
    with pytest.raises(gs.ConfigError, match=message) as err:
        gs.calibrate.log_ou(make(s))
    assert err.value.path.startswith(path)


def test_a_markets_trading_days_step_a_252nd_of_a_year_as_in_a_backtest():
    # holidays left out, pandas infers no frequency: the dates are still a market's
    # trading days, which gs.backtest counts 252 a year; a calibration counts them so too
    s = gs.data.equities_daily()["spy_adj_close"]
    assert s.index.freq is None and pd.infer_freq(s.index) is None
    assert gs.backtest(s.to_frame(), {"spy_adj_close": 1.0}).periods_per_year == 252.0
    for fit in (gs.calibrate.gbm, gs.calibrate.log_ou):
        assert fit(s).params.equals(fit(s, dt=1 / 252).params)
    def without(start, end):  # the dates strictly between two
        return s.drop(s.index[(s.index > start) & (s.index < end)])

    def same_as_252nd(x):
        return gs.calibrate.gbm(x).params.equals(gs.calibrate.gbm(x, dt=1 / 252).params)

    # a week's holiday between weekends (Golden Week in Tokyo, Lunar New Year in Shanghai)
    # is still a step, 12 days long
    assert same_as_252nd(without("2019-09-13", "2019-09-25"))
    # as is a short stretch with its holidays: Thanksgiving to the new year, or six
    # weekdays of Golden Week in a month and a half
    short = s["2019-11-20":"2020-01-03"]
    assert len(short) == 30 and same_as_252nd(short)
    golden = s["2019-04-08":"2019-05-24"].drop(pd.bdate_range("2019-04-29", "2019-05-06"), errors="ignore")
    assert len(golden) == 28 and same_as_252nd(golden)  # (28 of 35 weekdays: Good Friday too)
    # a longer gap is not, nor every other trading day, nor Mondays, Wednesdays and
    # Fridays, over a span too short to count the dates a year
    monday_wednesday_friday = s[s.index.dayofweek.isin([0, 2, 4])]
    for gappy in (without("2019-09-13", "2019-09-26"), s.iloc[::2], s.iloc[:60:2], monday_wednesday_friday,
                  monday_wednesday_friday.iloc[:30]):
        with pytest.raises(gs.ConfigError, match="nor a market's trading days") as err:
            gs.calibrate.gbm(gappy)
        assert err.value.path == "series"


def test_monthly_data_on_trading_days_steps_a_12th_of_a_year():
    # the last trading day of each month: a holiday moves one (Good Friday 2018-03-30,
    # so 03-29), and pandas infers no frequency; the first trading days likewise
    spy = gs.data.equities_daily()["spy_adj_close"]
    months = spy.index.to_period("M")
    last, first = spy.groupby(months).tail(1).iloc[:-1], spy.groupby(months).head(1)  # (the data end mid-month)
    for monthly in (last, first):
        assert pd.infer_freq(monthly.index) is None
        for fit in (gs.calibrate.gbm, gs.calibrate.log_ou):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # (Kendall's doubt of κ)
                assert fit(monthly).params.equals(fit(monthly, dt=1 / 12).params)
    # a month missing, a month's first date after another's last, the mid-month end of
    # the data: not a month's step
    for gappy in (last.drop(last.index[5]), pd.concat([first.iloc[:10], last.iloc[10:]]),
                  spy.groupby(months).tail(1)):
        with pytest.raises(gs.ConfigError, match="nor a market's trading days or months") as err:
            gs.calibrate.gbm(gappy)
        assert err.value.path == "series"


def test_bad_options_raise_config_error():
    s = gs.data.potash_monthly("2010-01", "2025-01")
    with pytest.raises(gs.ConfigError) as err:
        gs.calibrate.log_ou(s, jumps=True, fixed={"speed": 1.0})
    assert err.value.path == "fixed.speed"
    with pytest.raises(gs.ConfigError) as err:
        gs.calibrate.log_ou(s, jumps=True, fixed={"sigma": -1.0})
    assert err.value.path == "fixed.sigma"
    with pytest.raises(gs.ConfigError, match="jumps=True"):
        gs.calibrate.log_ou(s, fixed={"sigma": 0.1})
    with pytest.raises(gs.ConfigError) as err:
        gs.calibrate.log_ou(s, jumps=True, mean_reversion="ar1", fixed={"kappa": 1.0})
    assert err.value.path == "fixed.kappa"
    with pytest.raises(gs.ConfigError) as err:
        gs.calibrate.log_ou(s, mean_reversion="sometimes")
    assert err.value.path == "mean_reversion"
    for bad_dt in (-1, 0, 1e-300, 11):
        with pytest.raises(gs.ConfigError) as err:
            gs.calibrate.log_ou(s, dt=bad_dt)
        assert err.value.path == "dt"


@pytest.mark.parametrize("key, value, interval", [
    ("lambda", 30.0, r"\[6.1442e-06, 24\] for this fit \(λ ≤ 120 a year and λΔ ≤ 2, with Δ = 0.083333 years\)"),
    ("lambda", 1e-6, r"\[6.1442e-06, 24\]"),
    ("kappa", 1e6, r"\[6.1442e-06, 1096.6\]"),
    ("sigma", 20.0, r"\[6.1442e-06, 10\]"),
    ("sigma_j", 8.0, r"\[6.1442e-06, 5\]"),
])
def test_a_held_value_outside_the_search_region_names_it_and_the_region(key, value, interval):
    # (it once left the likelihood infinite everywhere, blamed on the series)
    s = gs.data.potash_monthly("2005-01", "2025-01")
    with pytest.raises(gs.ConfigError, match=f"must be in {interval}.*, got ") as err:
        gs.calibrate.log_ou(s, jumps=True, fixed={key: value})
    assert err.value.path == f"fixed.{key}"


def test_an_ar1_kappa_beyond_the_jump_search_names_mean_reversion_not_fixed():
    # daily white noise: an AR(1) κ of about 1,540 a year, which mean_reversion='ar1'
    # holds; the caller held nothing, so the error is no `fixed.kappa`
    x = np.random.default_rng(0).normal(0, 0.02, 1500)
    s = pd.Series(100 * np.exp(x), pd.bdate_range("2015-01-01", periods=1500))
    assert gs.calibrate.log_ou(s).params["kappa"] > 1_100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(gs.NumericalError, match=r"the AR\(1\) fit's κ = 15\d\d\.\d+ a year, which "
                           r"mean_reversion='ar1' holds, is outside what the jump fit searches \(κ must be in "
                           r"\[6.1442e-06, 1096.6\] for this fit\): the series reverts within a step or two, "
                           r"so sample it less often \(a longer step\), or hold κ at a value of your own with "
                           r"fixed=\{'kappa': ...\}"):
            gs.calibrate.log_ou(s, jumps=True, mean_reversion="ar1")


def test_a_fit_stays_inside_the_ranges_a_world_takes():
    # one ×1e6 outlier: the jump size's spread runs to its edge, now a world's 5 (not e² ≈ 7.39)
    idx = pd.date_range("2000-01-01", periods=240, freq="MS")
    levels = 100 * np.exp(0.1 * np.cumsum(np.random.default_rng(5).normal(0, 0.05, 240)))
    levels[100] *= 1e6
    with pytest.warns(RuntimeWarning, match="edge of the search region"):
        fit = gs.calibrate.gbm(pd.Series(levels, idx), jumps=True)
    assert fit.params["sigma_j"] == pytest.approx(5.0, rel=1e-3) and fit.params["sigma"] <= 10.0
    # a held λ at the region's edge is fitted around
    s = gs.data.potash_monthly("2005-01", "2025-01")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert gs.calibrate.log_ou(s, jumps=True, fixed={"lambda": 24.0}).params["lambda"] == 24.0


def test_an_estimate_outside_the_worlds_range_is_no_percent_typed_by_mistake():
    # a drift of 8 a year: the range [-5, 5] is said, without "did you mean 0.08?"
    idx = pd.date_range("2000-01-01", periods=240, freq="MS")
    levels = pd.Series(100 * np.exp(np.cumsum(np.random.default_rng(5).normal(8 / 12, 0.01, 240))), idx)
    world = gs.World.from_dict({"factors": {"eq": {"kind": "gbm", "initial": 100.0}},
                                "scenarios": {"base": {"probability": 1.0, "eq": {"g": 0.05, "sigma": 0.2}}}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(gs.ConfigError, match=r"outside the world's range: must be in \[-5, 5\], got 7\.9\d*; give") as err:
            world.calibrated(levels, factor="eq")
    assert err.value.path == "scenarios.base.eq.g" and "did you mean" not in str(err.value)


def test_explosive_series_is_a_numerical_error():
    idx = pd.date_range("2000-01-01", periods=40, freq="MS")
    s = pd.Series(np.exp(0.01 * 1.1 ** np.arange(40) + 1e-3 * np.sin(np.arange(40))), index=idx)
    with pytest.raises(gs.NumericalError, match="outside"):
        gs.calibrate.log_ou(s)


@pytest.mark.parametrize("jumps", [False, True])
def test_a_trending_series_is_said_to_lack_mean_reversion(jumps):
    # a steady trend: b just below 1, so θ = exp(a/(1 − b)) is far beyond double precision;
    # the error says why, whatever the series' scale
    idx = pd.date_range("2000-01-01", periods=60, freq="MS")
    s = pd.Series(np.exp(0.05 * np.arange(60) + np.random.default_rng(0).normal(0, 1e-4, 60)), index=idx)
    for scale in (1.0, 1e-3):
        with pytest.raises(gs.NumericalError, match=r"so close to 1 .* no detectable mean reversion"):
            gs.calibrate.log_ou(s * scale, jumps=jumps)


def test_a_mean_reversion_too_slow_for_the_data_is_said_to_be_so():
    # a trend with more noise: θ = 3e280 fits in a double, but κT = 0.005 shows nothing
    idx = pd.date_range("2000-01-01", periods=60, freq="MS")
    s = pd.Series(np.exp(0.05 * np.arange(60) + np.random.default_rng(2).normal(0, 0.0026, 60)), index=idx)
    for scale in (1.0, 1e-3, 1e6):
        with pytest.warns(RuntimeWarning, match=r"too slow to identify: κ = .* half-life of .* years against 4\.9"):
            fit = gs.calibrate.log_ou(s * scale)
        assert fit.params["kappa"] * 59 / 12 < 0.1 and any("too slow" in n for n in fit.notes)
    with pytest.raises(gs.NumericalError, match="the diffusion fit says why: the mean reversion is too slow"):
        gs.calibrate.log_ou(s, jumps=True)
    # a real, mean-reverting series says nothing of the kind, even where the joint jump
    # likelihood drives κ near 0 (sticky prices; the diffusion fit shows the reversion),
    # nor when the user holds θ
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = gs.calibrate.log_ou(gs.data.potash_monthly("2010-01", "2025-01"))
    assert not any("too slow" in n for n in fit.notes)
    sticky = gs.data.potash_monthly("2016-01", "2019-12")
    for kwargs in ({}, {"fixed": {"theta": 240.0}}):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its other notes (NaN standard errors)
            joint = gs.calibrate.log_ou(sticky, jumps=True, **kwargs)
        assert joint.params["kappa"] * 4 < 0.1 and not any("too slow" in n for n in joint.notes)


def _ar1_levels(rng, n: int, kappa: float, sigma: float = 0.3, dt: float = 1 / 12) -> pd.Series:
    """Exact log-OU levels around 352 (MODEL.md §3), n steps from the stationary law."""
    b = np.exp(-kappa * dt)
    s = sigma * np.sqrt((1 - b * b) / (2 * kappa))
    x = np.empty(n + 1)
    x[0] = np.log(352.0) + s / np.sqrt(1 - b * b) * rng.standard_normal()
    for t, z in enumerate(rng.standard_normal(n)):
        x[t + 1] = np.log(352.0) * (1 - b) + b * x[t] + s * z
    return pd.Series(np.exp(x), index=pd.date_range("1990-01-31", periods=n + 1, freq="ME"))


def test_a_random_walk_the_data_cannot_reject_is_shown_by_the_calibrated_world():
    # κ/SE > 2 in about a quarter of random walks: the Dickey–Fuller note was only in
    # fit.notes, and calibrated() wrote κ without showing it. It is no warning: over 15
    # years the test fails to reject in most series that do revert (80% at κ = 0.5)
    potash = gs.data.potash_monthly("2010-01", "2025-01")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        cw = gs.World.default().calibrated(potash=potash)
    assert any("Dickey–Fuller τ = -1.71" in n for n in cw.fits["potash"].notes)
    assert "\nnote: potash: the data cannot reject a random walk at 5%: Dickey–Fuller τ = -1.71" in repr(cw)
    assert repr(cw).count("cannot reject a random walk") == 1  # once per series, whichever fits say it
    assert "<p>note: potash: the data cannot reject a random walk" in cw._repr_html_()
    # a world calibrated to series that revert visibly shows no such line
    reverting = _ar1_levels(np.random.default_rng(1), 300, kappa=3.0)
    assert "note:" not in repr(gs.World.default().calibrated(potash=reverting, jumps=False))


def test_levels_that_vary_only_by_rounding_are_refused_and_messages_say_what_was_given():
    idx = pd.date_range("2000-01-01", periods=60, freq="MS")
    # one move then flat months, or noise at the rounding of the logs: κ came out 650 a
    # year with σ = 6e-14 (gbm refuses log returns that vary no more than that)
    noise = 1e-14 * np.random.default_rng(0).standard_normal(60)
    for levels in (np.r_[101.0, np.full(59, 100.0)], 100 * (1 + noise), 1 + noise):  # (logs near 0 too)
        with pytest.raises(gs.NumericalError, match="residuals are at the rounding of the log levels"):
            gs.calibrate.log_ou(pd.Series(levels, index=idx))
    for jumps in (False, True):  # gbm's guard, scaled alike (1 + noise: σ = 0, or g = 14 with jumps)
        with pytest.raises(gs.NumericalError, match="the log returns do not vary"):
            gs.calibrate.gbm(pd.Series(1 + noise, index=idx), jumps=jumps)
    # a series flat but for its last value is not called constant
    with pytest.raises(gs.ConfigError, match="is constant but for its last value") as err:
        gs.calibrate.log_ou(pd.Series(np.r_[np.full(59, 100.0), 101.0], index=idx))
    assert err.value.path == "series"
    # a NaN inside a Series is the series' (a frame's names its column)
    gap = pd.Series(np.exp(np.random.default_rng(1).normal(0, 0.05, 60)), index=idx)
    gap.iloc[30] = np.nan
    with pytest.raises(gs.ConfigError, match="is missing on 2002-07-01") as err:
        gs.calibrate.log_ou(gap)
    assert err.value.path == "series"
    # logit_ou: a held θ outside the search is reported as the level given, not its odds
    rng = np.random.default_rng(1)
    x = [math.log(1.5)]
    for _ in range(120):
        x.append(math.log(1.5) * (1 - math.exp(-1 / 12)) + math.exp(-1 / 12) * x[-1] + 0.1 * rng.standard_normal())
    share = pd.Series(50 / (1 + np.exp(-np.array(x))), index=pd.date_range("2000-01-01", periods=121, freq="MS"))
    with pytest.raises(gs.ConfigError, match=r"must be in \[9\.6\d*e-21, 50\] .* for scale 50\), got 1e-30$") as err:
        gs.calibrate.logit_ou(share, 50.0, jumps=True, fixed={"theta": 1e-30})
    assert err.value.path == "fixed.theta"
    # ... and other refusals of a held θ as log_ou says them (an IndexError once)
    with pytest.raises(gs.ConfigError, match="conflicts with mean_reversion='ar1'") as err:
        gs.calibrate.logit_ou(share, 50.0, jumps=True, fixed={"theta": 30.0}, mean_reversion="ar1")
    assert err.value.path == "fixed.theta"


def test_kappa_reads_high_in_short_samples_as_kendall_says():
    # E[b̂] ≈ b − (1 + 3b)/n for the OLS AR(1) coefficient of a stationary series with an
    # estimated mean (Kendall 1954): over 300 series of 120 months b̂ falls short of b (by
    # 12.5 standard errors here), and the correction the note uses brings its mean back
    # within 4 (κ = 1, so that no series has b̂ ≥ 1 and none is left out)
    kappa, n = 1.0, 120
    b = np.exp(-kappa / 12)
    rng = np.random.default_rng(5)
    raw, corrected = [], []
    for _ in range(300):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = gs.calibrate.log_ou(_ar1_levels(rng, n, kappa))
        bh = fit.extra["ar"][1]
        raw.append(bh)
        corrected.append(bh + (1 + 3 * bh) / fit.n_obs)
    raw, corrected = np.array(raw), np.array(corrected)
    se = raw.std(ddof=1) / np.sqrt(len(raw))
    assert b - raw.mean() > 4 * se
    assert abs(corrected.mean() - b) < 4 * se
    # the note quotes that correction's κ, here on the shipped potash series
    fit = gs.calibrate.log_ou(gs.data.potash_monthly("2010-01", "2025-01"))
    bh, n_obs = fit.extra["ar"][1], fit.n_obs
    want = -np.log(bh + (1 + 3 * bh) / n_obs) * 12
    (note,) = [x for x in fit.notes if "Kendall" in x]
    assert f"gives κ ≈ {want:.3g};" in note and f"κ = {fit.params['kappa']:.3g} per year" in note
    assert round(want, 2) == 0.13  # docs/MODEL.md §3
    # a jump fit with κ from the AR(1) stage carries the same note; a long sample none
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        jumps = gs.calibrate.log_ou(gs.data.potash_monthly("2010-01", "2025-01"), jumps=True, mean_reversion="ar1")
    assert note in jumps.notes
    long = gs.calibrate.log_ou(_ar1_levels(np.random.default_rng(6), 3000, 0.4))
    assert not any("Kendall" in x for x in long.notes)


def test_the_kappa_note_says_when_the_correction_reaches_a_random_walk():
    # b̂ + (1 + 3b̂)/n ≥ 1: no corrected κ to quote, and a warning (κ/SE may still read
    # as "significant" on a random walk)
    for seed in range(50):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit = gs.calibrate.log_ou(_ar1_levels(np.random.default_rng(seed), 60, 0.3))
        bh = fit.extra["ar"][1]
        if bh + (1 + 3 * bh) / fit.n_obs >= 1 and fit.params["kappa"] * 5 >= 0.1:
            (note,) = [x for x in fit.notes if "Kendall" in x]
            assert "cannot exclude a random walk" in note and "gives κ" not in note
            assert [str(w.message) for w in caught if w.category is RuntimeWarning] == [f"log_ou: {note}"]
            return
        assert not any("cannot exclude" in str(w.message) for w in caught)
    pytest.fail("no seed gave a corrected coefficient of 1 or more")


# ---------------------------------------------------------------------------- betas
def _regression_frames(seed: int, n: int = 240, rho: float = 0.0):
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2000-01-01", periods=n, freq="MS")
    f = pd.DataFrame(
        rng.normal(0, 0.04, (n, 2)), index=idx, columns=["global_equity", "potash_spot"]
    )
    u = np.zeros(n)
    e = rng.normal(0, 0.02, n)
    for t in range(1, n):
        u[t] = rho * u[t - 1] + e[t]
    y = pd.DataFrame(
        {
            "a1": 0.001 + 1.2 * f["global_equity"] + 0.22 * f["potash_spot"] + u,
            "a2": -0.5 * f["global_equity"] + 0.02 * rng.standard_normal(n),
        },
        index=idx,
    )
    return y, f


def test_factor_betas_match_numpy_ols_and_newey_west():
    y, f = _regression_frames(1, rho=0.5)
    fit = gs.calibrate.factor_betas(y, f, newey_west=True)
    lags = math.floor(4 * (len(y) / 100) ** (2 / 9))
    assert fit.extra["nw_lags"] == lags
    for col in y:
        beta, se, se_nw, sd = ref = ols_reference(y[col].to_numpy(), f.to_numpy(), lags)
        del ref
        t = fit.table.loc[col]
        got = t.loc[["alpha", "global_equity", "potash_spot"]]
        np.testing.assert_allclose(got["estimate"], beta, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(got["std_err"], se, rtol=1e-10)
        np.testing.assert_allclose(got["std_err_nw"], se_nw, rtol=1e-10)
        assert t.at["vol", "estimate"] == pytest.approx(sd * math.sqrt(12), rel=1e-12)
    assert fit.periods_per_year == 12
    fit4 = gs.calibrate.factor_betas(y, f, newey_west=True, lags=4)
    np.testing.assert_allclose(
        fit4.table.loc["a1", "std_err_nw"].iloc[:3],
        ols_reference(y["a1"].to_numpy(), f.to_numpy(), 4)[2],
        rtol=1e-10,
    )


@pytest.mark.parametrize("seed", range(5))
def test_factor_betas_recover_true_betas_within_4_se(seed):
    y, f = _regression_frames(10 + seed, rho=0.3)
    fit = gs.calibrate.factor_betas(y, f, newey_west=True)
    for (asset, p), truth in {
        ("a1", "global_equity"): 1.2,
        ("a1", "potash_spot"): 0.22,
        ("a2", "global_equity"): -0.5,
    }.items():
        est, se = fit.table.at[(asset, p), "estimate"], fit.table.at[(asset, p), "std_err_nw"]
        assert abs(est - truth) <= N_SIGMA * se


def test_factor_betas_warn_of_levels_given_as_returns():
    # monthly closes where the returns should be: an alpha of 54 and a vol of 5,865%
    # with no word of it; real returns (and percentages of a percent) say nothing
    m = gs.data.equities_daily()[["ntr_adj_close", "spy_adj_close"]].resample("ME").last()
    lr = np.log(m).diff().dropna()
    with pytest.warns(UserWarning, match=r"asset_returns\.ntr_adj_close: its median size is 49\.\d+, .* price levels"):
        gs.calibrate.factor_betas(m.loc[lr.index, "ntr_adj_close"], lr[["spy_adj_close"]])
    with pytest.warns(UserWarning, match=r"factor_returns\.spy_adj_close: .* or percentages"):
        gs.calibrate.factor_betas(lr["ntr_adj_close"], 100 * lr[["spy_adj_close"]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gs.calibrate.factor_betas(lr["ntr_adj_close"], lr[["spy_adj_close"]])


def test_fertilizer_betas_reproduce_model_defaults():
    """MODEL.md §5 (D): NTR/MOS basket on SPY and potash, 2018-02..2024-02: 1.23, 0.22, 0.29."""
    m = gs.data.equities_daily().resample("MS").last()
    lr = np.log(m).diff()
    basket = lr[["ntr_adj_close", "mos_adj_close"]].mean(axis=1).rename("fertilizer_producers")
    factors = pd.DataFrame(
        {
            "global_equity": lr["spy_adj_close"],
            "potash_spot": np.log(gs.data.potash_monthly()).diff(),
        }
    )
    y, f = basket.loc["2018-02":"2024-02"], factors.loc["2018-02":"2024-02"]
    fit = gs.calibrate.factor_betas(y, f)
    t = fit.table.loc["fertilizer_producers", "estimate"]
    assert round(t["global_equity"], 2) == 1.23 and round(t["potash_spot"], 2) == 0.22
    assert abs(t["vol"] - 0.29) < 0.01


def test_misaligned_and_nan_returns():
    y, f = _regression_frames(2)
    with pytest.raises(gs.ConfigError, match="does not match") as err:
        gs.calibrate.factor_betas(y, f.iloc[1:])
    assert err.value.path == "factor_returns"
    shifted = f.copy()
    shifted.index = shifted.index + pd.offsets.MonthEnd(0)
    with pytest.raises(gs.ConfigError, match="first difference at row 0"):
        gs.calibrate.factor_betas(y, shifted)
    # dates in two time zones: said so, whichever alignment
    for align in ("exact", "inner"):
        with pytest.raises(gs.ConfigError, match="time zone") as err:
            gs.calibrate.factor_betas(y, f.tz_localize("UTC"), align=align)
        assert err.value.path == "factor_returns"
    # align="inner" uses the shared dates
    inner = gs.calibrate.factor_betas(y, f.iloc[5:], align="inner")
    assert inner.n_obs == len(y) - 5
    # leading NaN rows (as from pct_change) are dropped, interior NaN is an error
    lead = y.copy()
    lead.iloc[0] = np.nan
    assert gs.calibrate.factor_betas(lead, f).n_obs == len(y) - 1
    hole = y.copy()
    hole.iloc[50, 1] = np.nan
    with pytest.raises(gs.ConfigError, match="missing on") as err:
        gs.calibrate.factor_betas(hole, f)
    assert err.value.path == "asset_returns.a2"
    with pytest.raises(gs.ConfigError) as err:
        gs.calibrate.factor_betas(y.reset_index(drop=True), f)
    assert err.value.path == "asset_returns"
    with pytest.raises(gs.ConfigError, match="collinear"):
        gs.calibrate.factor_betas(y, f.assign(potash_spot=2 * f["global_equity"]))
    with pytest.raises(gs.ConfigError, match="at least 24"):
        gs.calibrate.factor_betas(y.iloc[:10], f.iloc[:10])


# ---------------------------------------------------------------------------- worlds
def test_world_calibrated_reports_changes_and_builds_the_world():
    world = gs.World.default()
    potash = gs.data.potash_monthly("2000-01", "2025-01")
    y, f = _regression_frames(3)
    y = y[["a1"]].rename(columns={"a1": "fertilizer_producers"})
    new, changes = world.calibrated(
        potash=potash, asset_returns=y, factor_returns=f[["global_equity"]]
    )
    assert isinstance(new, gs.World) and list(changes.columns) == [
        "old",
        "new",
        "std_err",
        "source",
    ]
    d, old = new.to_dict(), world.to_dict()
    base = d["scenarios"]["base"]["potash_spot"]
    for p in PARAMS:
        row = changes.loc[f"scenarios.base.potash_spot.{p}"]
        assert base[p] == pytest.approx(row["new"], rel=1e-12)
        assert row["old"] == old["scenarios"]["base"]["potash_spot"][p]
    assert d["scenarios"]["bear"] == old["scenarios"]["bear"]  # base scenario only
    fert = d["assets"]["fertilizer_producers"]
    assert fert["betas"]["potash_spot"] == 0.0  # not in factor_returns: zero, and reported
    assert changes.at["assets.fertilizer_producers.betas.potash_spot", "old"] == 0.22
    assert fert["betas"]["global_equity"] == pytest.approx(
        changes.at["assets.fertilizer_producers.betas.global_equity", "new"]
    )
    assert fert["vol"] == pytest.approx(changes.at["assets.fertilizer_producers.vol", "new"])
    cw = world.calibrated(potash=potash)
    assert set(cw.fits) == {"potash"} and f"{len(cw.changes)} parameters set, " in repr(cw)
    assert len(cw) == 2 and cw[0] is cw.world and cw[1] is cw.changes and cw[-1] is cw.changes
    assert tuple(cw) == cw[:]
    new.simulate(500, seed=1, progress=False)  # the calibrated world runs


def test_world_calibrated_without_jumps_zeroes_them_and_validates():
    world = gs.World.default()
    potash = gs.data.potash_monthly("2010-01", "2025-01")
    new, changes = world.calibrated(potash=potash, jumps=False, scenario="bull")
    assert new.to_dict()["scenarios"]["bull"]["potash_spot"]["lambda"] == 0.0
    assert new.to_dict()["scenarios"]["bull"]["potash_spot"]["kappa"] == pytest.approx(
        0.3915, abs=1e-4
    )
    assert changes.index[0] == "scenarios.bull.potash_spot.kappa"
    y, f = _regression_frames(4)
    with pytest.raises(gs.ConfigError) as err:
        world.calibrated(asset_returns=y, factor_returns=f)
    assert err.value.path == "asset_returns.a1"
    with pytest.raises(gs.ConfigError) as err:
        world.calibrated(
            asset_returns=y.rename(columns={"a1": "kazakh_logistics", "a2": "hk_equity"})
        )
    assert err.value.path == "factor_returns"
    with pytest.raises(gs.ConfigError) as err:
        world.calibrated(potash=potash, scenario="sideways")
    assert err.value.path == "scenario"
    with pytest.raises(gs.ConfigError) as err:  # a completion factor has no level dynamics to fit
        world.calibrated(potash=potash, factor="roadmap_projects_done")
    assert err.value.path == "factor"
    # errors about the level series name the argument the caller gave: `levels`
    # (given by name or position) or its former name `potash`
    for bad in (potash.to_frame(), potash.iloc[:5], -potash):
        for call, name in ((lambda b: world.calibrated(potash=b), "potash"),
                           (lambda b: world.calibrated(levels=b), "levels"),
                           (lambda b: world.calibrated(b), "levels")):
            with pytest.raises(gs.ConfigError) as err:
                call(bad)
            assert err.value.path == name and str(err.value).startswith(f"{name}: ")
    with pytest.raises(gs.ConfigError) as err:
        world.calibrated()
    assert err.value.path == "levels" and "give levels=" in str(err.value)
    with pytest.raises(gs.ConfigError) as err:
        world.calibrated(potash, potash=potash)
    assert err.value.path == "potash" and "former name of levels" in str(err.value)
    # the two names are one argument
    by_name = world.calibrated(levels=potash, jumps=False)
    old_name = world.calibrated(potash=potash, jumps=False)
    assert by_name.world == old_name.world == world.calibrated(potash, jumps=False).world
    assert by_name.changes.equals(old_name.changes)
    # a fit the world cannot take names the parameter, the fit and a way out: the joint MLE
    # on 2000-2025 drives κ to ~0, which puts θ (the long-run mean) near 1e24
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(gs.ConfigError) as err:
            world.calibrated(potash=gs.data.potash_monthly("2000-01"), mean_reversion="joint", jumps=True)
        # not asked to keep the jumps, it keeps the diffusion: that fit has no maximum
        # (NaN standard errors), whatever its likelihood
        kept = world.calibrated(potash=gs.data.potash_monthly("2000-01"), mean_reversion="joint")
    assert kept.fits["potash"].model == "log_ou" and not kept.fits["potash_jumps"].extra["hessian_ok"]
    assert err.value.path == "scenarios.base.potash_spot.theta"
    message = str(err.value)
    assert "the fit (log-OU" in message and "mean_reversion='ar1'" in message
    assert re.search(r"got \d\.\d+e\+\d\d;", message), message  # not 25 digits


def _inheriting_world() -> tuple[gs.World, dict]:
    """The default world with bear's potash kappa and jump parameters left to the base."""
    d = gs.World.default().to_dict()
    for p in ("kappa", "lambda", "mu_j", "sigma_j"):
        del d["scenarios"]["bear"]["potash_spot"][p]
    return gs.World.from_dict(d), d


def test_parameters_are_the_values_in_force_and_say_where_they_come_from():
    world, d = _inheriting_world()
    params = world.parameters()
    defaults = {(kind, name): dflt for kind, name, _, dflt, _, _ in gs._core.PARAMETER_SPECS}
    kinds = world.kinds
    assert params.index.names == ["scenario", "factor", "parameter"]
    assert params["value"].dtype == np.float64
    seen = set()
    for (scen, factor, p), (value, source) in params.iterrows():
        seen.add((scen, factor, p))
        own = d["scenarios"][scen].get(factor, {}).get(p)
        base = d["scenarios"]["base"].get(factor, {}).get(p)
        if own is not None:
            assert (value, source) == (own, "given")
        elif base is not None:
            assert (value, source) == (base, "base")
        else:
            assert (value, source) == (defaults[(kinds[factor], p)], "default")
    # every scenario lists every parameter of every factor's kind
    expected = {
        (scen, factor, name)
        for scen in world.scenario_names
        for factor, kind in kinds.items()
        for k, name, *_ in gs._core.PARAMETER_SPECS
        if k == kind
    }
    assert seen == expected and len(params) == len(expected)
    assert params.loc[("bear", "potash_spot", "kappa")].to_dict() == {"value": 0.4, "source": "base"}
    # the inherited values are the ones simulated: writing them out changes no bit
    explicit = world.with_params(
        {
            f"scenarios.bear.potash_spot.{p}": d["scenarios"]["base"]["potash_spot"][p]
            for p in ("kappa", "lambda", "mu_j", "sigma_j")
        }
    )
    assert explicit != world
    a = world.simulate(2_000, seed=5, progress=False).paths("potash_spot")
    b = explicit.simulate(2_000, seed=5, progress=False).paths("potash_spot")
    assert np.array_equal(a, b)


def test_calibrating_the_base_reports_the_scenarios_that_inherit():
    world, _ = _inheriting_world()
    potash = gs.data.potash_monthly("2000-01", "2025-01")
    with pytest.warns(UserWarning, match="bear [+]"):  # its own θ, the base's new jumps
        new, changes = world.calibrated(potash=potash)
    inherited = changes[changes["source"] == "inherited from scenarios.base"]
    assert list(inherited.index) == [
        f"scenarios.bear.potash_spot.{p}" for p in ("kappa", "lambda", "mu_j", "sigma_j")
    ]
    before, after = world.parameters(), new.parameters()
    for path, row in changes.iterrows():
        _, scen, factor, p = path.split(".")
        assert row["old"] == before.at[(scen, factor, p), "value"]
        assert row["new"] == pytest.approx(after.at[(scen, factor, p), "value"], rel=1e-12)
        base_row = changes.loc[f"scenarios.base.{factor}.{p}"]
        if path in inherited.index:
            assert row["new"] == base_row["new"] and after.at[(scen, factor, p), "source"] == "base"
    # bear still inherits: the new world does not write the values into it
    assert "kappa" not in new.to_dict()["scenarios"]["bear"]["potash_spot"]
    # calibrating bear itself shows the inherited value it replaces as `old`
    own = world.calibrated(potash=potash, scenario="bear").changes
    assert own.at["scenarios.bear.potash_spot.lambda", "old"] == 0.5
    assert not own["source"].str.startswith("inherited").any()


def test_a_jump_parameter_left_at_its_default_follows_the_calibrated_base_and_is_reported():
    # nobody sets bull's (or base's) jumps: bull had the default 0, and follows the base's fit
    d = gs.World.default().to_dict()
    for scen in ("base", "bull"):
        for p in ("lambda", "mu_j", "sigma_j"):
            del d["scenarios"][scen]["potash_spot"][p]
    world = gs.World.from_dict(d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fit's own notes
        new, changes = world.calibrated(potash=gs.data.potash_monthly("2010-01", "2025-01"))
    after = new.parameters()
    for p in ("lambda", "mu_j", "sigma_j"):
        row = changes.loc[f"scenarios.bull.potash_spot.{p}"]
        assert row["old"] == 0.0 and row["source"] == "inherited from scenarios.base"
        assert row["new"] == after.at[("bull", "potash_spot", p), "value"] == changes.at[f"scenarios.base.potash_spot.{p}", "new"]
    assert after.at[("bull", "potash_spot", "lambda"), "value"] > 0
    # a fit without jumps leaves the default 0 where it was: no row for an unchanged value
    _, flat = world.calibrated(potash=gs.data.potash_monthly("2010-01", "2025-01"), jumps=False)
    assert not any(".bull." in i for i in flat.index)


def test_a_failed_calibration_names_the_argument_given():
    with pytest.raises(gs.NumericalError, match=r"^potash: AR\(1\) coefficient"):
        gs.World.default().calibrated(potash=gs.data.potash_monthly("2020-01", "2021-12"))
    f = pd.DataFrame({"global_equity": np.random.default_rng(0).normal(0, 0.04, 60)},
                     index=pd.date_range("2015-01-01", periods=60, freq="MS"))
    a = (1.2 * f["global_equity"]).rename("fertilizer_producers") + np.random.default_rng(1).normal(0, 0.02, 60)
    for series, path in ((f["global_equity"].rename("foo"), "factor_returns.foo"),
                         (f["global_equity"].rename(None), "factor_returns")):
        with pytest.raises(gs.ConfigError) as err:
            gs.World.default().calibrated(asset_returns=a, factor_returns=series)
        assert err.value.path == path
    twice = pd.concat([a.rename(1), a.rename("1")], axis=1)
    with pytest.raises(gs.ConfigError, match="names a row of the table twice") as err:
        gs.calibrate.factor_betas(twice, f)
    assert err.value.path == "asset_returns.1"


# ---------------------------------------------------------------------------- docs
@pytest.mark.parametrize("module", [cal, gs.data])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


def test_world_calibrated_docstring_runs():
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in finder.find(gs.World.calibrated, "World.calibrated", globs={}):
        runner.run(test)
    assert runner.failures == 0 and runner.tries > 0


@pytest.mark.parametrize("factor", ["alpha", "vol"])
def test_factor_betas_refuse_a_factor_named_like_a_table_row(factor):
    idx = pd.date_range("2015-01-31", periods=60, freq="ME")
    rng = np.random.default_rng(3)
    f = pd.DataFrame({factor: rng.normal(size=60), "m": rng.normal(size=60)}, index=idx)
    a = pd.DataFrame({"y": rng.normal(size=60)}, index=idx)
    with pytest.raises(gs.ConfigError) as err:
        gs.calibrate.factor_betas(a, f)
    assert err.value.path == f"factor_returns.{factor}"
    with pytest.raises(gs.ConfigError) as err:  # nothing to explain: R² would be 0/0
        gs.calibrate.factor_betas(a.assign(y=0.01), f.rename(columns={factor: "g"}))
    assert err.value.path == "asset_returns.y"


def test_betas_do_not_depend_on_the_order_of_the_columns():
    # regressors in another order gave estimates 7e-16 apart, and so another world
    m = np.log(gs.data.equities_daily()).resample("ME").last().diff().dropna()
    assets = pd.DataFrame({"fertilizer_producers": 0.5 * (m["ntr_adj_close"] + m["mos_adj_close"]),
                           "hk_equity": m["cf_adj_close"]})
    factors = pd.DataFrame({"global_equity": m["spy_adj_close"], "potash_spot": m["ipi_adj_close"],
                            "hk_equity": m["icl_adj_close"]})
    one = gs.calibrate.factor_betas(assets, factors, newey_west=True).to_pandas()
    other = gs.calibrate.factor_betas(assets[assets.columns[::-1]], factors[factors.columns[::-1]],
                                      newey_west=True).to_pandas()
    assert other.index.get_level_values("parameter")[:4].tolist() == ["alpha", "hk_equity", "potash_spot",
                                                                       "global_equity"]  # the order given
    assert other.loc[one.index].equals(one)
    world = gs.World.default()
    a = world.calibrated(asset_returns=assets, factor_returns=factors)
    b = world.calibrated(asset_returns=assets[assets.columns[::-1]], factor_returns=factors[factors.columns[::-1]])
    assert a.world == b.world


def test_a_random_walk_fit_says_the_data_cannot_reject_one():
    # κ/SE > 2 on about a quarter of random walks, which reads as evidence of mean
    # reversion; a fit whose data cannot reject a random walk (Dickey–Fuller at 5%)
    # says so, and those left without the note are about the test's size, 5%
    rng = np.random.default_rng(0)
    idx = pd.date_range("2000-01", periods=121, freq="MS")
    n, silent = 200, 0
    note = "the data cannot reject a random walk at 5%"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for _ in range(n):
            walk = pd.Series(np.exp(5.5 + np.cumsum(np.r_[0.0, rng.normal(0, 0.3 / np.sqrt(12), 120)])), index=idx)
            try:
                fit = gs.calibrate.log_ou(walk)
            except gs.NumericalError:  # an AR coefficient of 1 or more: no κ at all
                continue
            significant = fit.params["kappa"] / fit.std_errors["kappa"] > 2
            silent += significant and not any(note in x for x in fit.notes)
    assert silent <= n * 0.05 + 4 * np.sqrt(n * 0.05 * 0.95), silent  # 4 binomial standard errors
    # a mean reversion the data show (κ = 2 over 25 years) has no such note; nor has a held κ
    k, dt = 2.0, 1 / 12
    a = np.exp(-k * dt)
    x = [5.5]
    for z in rng.normal(size=300):
        x.append(5.5 + a * (x[-1] - 5.5) + 0.3 * np.sqrt((1 - a * a) / (2 * k)) * z)
    ou = pd.Series(np.exp(x), index=pd.date_range("2000-01", periods=301, freq="MS"))
    assert not any(note in x for x in gs.calibrate.log_ou(ou).notes)
    potash = gs.data.potash_monthly("2000-01", "2025-01")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert any(note in x for x in gs.calibrate.log_ou(potash).notes)  # τ = −1.72 against −2.87
        held = gs.calibrate.log_ou(potash, jumps=True, fixed={"kappa": 0.4})
    assert not any(note in x for x in held.notes)


# 500 business days hold every weekday over two years: a weekday calendar, 365.25·5/7 a year
@pytest.mark.parametrize(("freq", "per_year"), [("D", 365.25), ("2D", 182.625), ("3D", 121.75),
                                               ("B", 365.25 * 5 / 7)])
def test_betas_annualise_calendar_days_as_the_level_fits_do(freq, per_year):
    # a 'D' index of returns (weekends included) was annualised with 252 periods, while
    # log_ou and gbm count 365.25 on the same index: vols differed by √(365.25/252)
    rng = np.random.default_rng(1)
    idx = pd.date_range("2020-01-01", periods=500, freq=freq)
    f = pd.DataFrame({"potash_spot": rng.normal(0, 0.01, 500)}, index=idx)
    a = pd.DataFrame({"nutrien": 0.5 * f["potash_spot"] + rng.normal(0, 0.01, 500)}, index=idx)
    fit = gs.calibrate.factor_betas(a, f)
    prices = pd.Series(np.exp(np.cumsum(rng.normal(0, 0.01, 500))), index=idx)
    assert gs.calibrate.gbm(prices).periods_per_year == per_year
    assert fit.periods_per_year == per_year


def test_calibrated_repr_counts_only_values_that_changed():
    """A diffusion fit of global_equity sets its jumps to 0, which they were: 5 rows, 2 changes."""
    spy = gs.data.equities_daily()["spy_adj_close"].resample("MS").last()
    with pytest.warns(UserWarning, match="the jump fit does not beat the diffusion"):
        cw = gs.World.default().calibrated(spy, factor="global_equity")
    assert len(cw.changes) == 5
    assert (cw.changes.loc[[f"scenarios.base.global_equity.{p}" for p in ("lambda", "mu_j", "sigma_j")],
                           ["old", "new"]] == 0).all().all()
    assert repr(cw).splitlines()[0] == "CalibratedWorld('belarus_china_2025': 5 parameters set, 2 changed)"


def test_an_infinite_value_in_a_series_is_named_as_a_missing_one_is():
    idx = pd.date_range("2010-01-01", periods=60, freq="MS")
    x = pd.Series(np.linspace(100.0, 200.0, 60), index=idx, name="potash")
    for bad, says in ((np.nan, "is missing on 2010-11-01"), (np.inf, "is infinite on 2010-11-01")):
        y = x.copy()
        y.iloc[10] = bad
        with pytest.raises(gs.ConfigError, match=says) as e:
            gs.calibrate.log_ou(y)
        assert e.value.path == "series"  # (an infinity named it series.potash)


def test_a_steady_trend_is_said_to_leave_no_noise_to_fit():
    # the levels vary 3-fold: "the levels do not vary enough" misled
    idx = pd.date_range("2010-01-01", periods=120, freq="MS")
    with pytest.raises(gs.NumericalError, match="exact linear function of the one before"):
        gs.calibrate.log_ou(pd.Series(np.exp(0.01 * np.arange(120)), index=idx))


def test_held_parameters_keep_the_jump_fit_that_holds_them():
    # jumps=None keeps the jumps only if they beat the diffusion; the diffusion holds no
    # parameter, so a fit asked to hold θ kept the jumps' test and silently fitted θ
    potash = gs.data.potash_monthly()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        free, _ = gs.World.default().calibrated(potash, mean_reversion="joint")
        held, changes = gs.World.default().calibrated(potash, fixed=pd.Series({"theta": 320.0}),
                                                      mean_reversion="joint")
    assert free.to_dict()["scenarios"]["base"]["potash_spot"].get("lambda", 0.0) == 0.0  # (the test rejects them)
    assert changes.at["scenarios.base.potash_spot.theta", "new"] == 320.0
    assert held.to_dict()["scenarios"]["base"]["potash_spot"]["theta"] == 320.0
    assert changes.at["scenarios.base.potash_spot.lambda", "new"] > 0


def test_messages_name_the_fix_for_held_parameters_and_say_what_a_series_lacks():
    # κ held alone: the jump fit still starts from the diffusion's, which this
    # alternating series refuses (b < 0); holding θ too skips it
    idx = pd.date_range("2000-01-01", periods=120, freq="MS")
    rng, x = np.random.default_rng(3), np.zeros(120)
    for t in range(1, 120):
        x[t] = -0.5 * x[t - 1] + 0.05 * rng.standard_normal()
    s = pd.Series(np.exp(x), index=idx)
    with pytest.raises(gs.NumericalError, match=r"is outside \(0, 1\).*: give fixed\.theta too$"):
        gs.calibrate.log_ou(s, jumps=True, fixed={"kappa": 5.0})
    with pytest.raises(gs.NumericalError, match="give fixed.kappa too$"):
        gs.calibrate.log_ou(s, jumps=True, fixed={"theta": 1.0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (σ_j at the edge of its region)
        assert gs.calibrate.log_ou(s, jumps=True, fixed={"kappa": 5.0, "theta": 1.0}).params["kappa"] == 5.0
    # θ held under the AR(1) mean reversion: the message names the other one
    with pytest.raises(gs.ConfigError, match="to hold theta, fit with mean_reversion='joint'$") as err:
        gs.calibrate.log_ou(gs.data.potash_monthly("2010-01", "2025-01"), jumps=True, mean_reversion="ar1",
                            fixed={"theta": 320.0})
    assert err.value.path == "fixed.theta"
    # two levels in turn: an exact linear function, neither constant nor a trend
    with pytest.raises(gs.NumericalError, match=r"\(a constant, a steady trend, or two levels in turn\)"):
        gs.calibrate.log_ou(pd.Series(np.tile([100.0, 101.0], 60), index=idx))
    # a Series without a value has no columns to speak of
    for empty in (pd.Series(np.nan, index=idx), pd.Series([], index=pd.DatetimeIndex([]), dtype=float)):
        with pytest.raises(gs.ConfigError, match="^series: has no value$"):
            gs.calibrate.log_ou(empty)


def test_newey_west_std_errors_fall_back_to_classical_where_there_is_none():
    eq = gs.data.equities_daily()
    m = np.log(eq.resample("MS").last()).diff()
    fit = gs.calibrate.factor_betas(m[["ntr_adj_close"]], m[["spy_adj_close"]], newey_west=True)
    nw, classical = fit.table["std_err_nw"], fit.table["std_err"]
    assert np.isnan(nw.loc[("ntr_adj_close", "vol")])  # no Newey–West error for the residual vol
    assert fit.std_errors.loc[("ntr_adj_close", "vol")] == classical.loc[("ntr_adj_close", "vol")] > 0
    beta = ("ntr_adj_close", "spy_adj_close")
    assert fit.std_errors.loc[beta] == nw.loc[beta] != classical.loc[beta]
    # so the bootstrap studentizes vol too
    boot = fit.bootstrap(100, seed=0, progress=False)
    assert (boot.table["interval"] == "studentized").all()
