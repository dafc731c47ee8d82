"""CalibrationResult.bootstrap: the simulated series against the models' closed-form
moments, the intervals against their formulas, reproducibility, coverage, refusals
(fixed seeds, 4-standard-error tolerances)."""

from __future__ import annotations

import html
import math
import pickle
import threading
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import N_SIGMA

import geoscenario as gs
from geoscenario import _bootstrap

DT = 1.0 / 12.0


def monthly(x: np.ndarray, start: str = "2000-01-01") -> pd.Series:
    return pd.Series(x, index=pd.date_range(start, periods=len(x), freq="MS"), name="level")


def simulated_log_ou(kappa: float, theta: float, sigma: float, n: int, seed: int) -> pd.Series:
    """An exact log-OU series by a plain NumPy loop (not the module under test)."""
    rng = np.random.default_rng(seed)
    b = math.exp(-kappa * DT)
    s = sigma * math.sqrt((1 - b * b) / (2 * kappa))
    x = np.empty(n + 1)
    x[0] = math.log(theta) + sigma / math.sqrt(2 * kappa) * rng.standard_normal()
    for t in range(n):
        x[t + 1] = math.log(theta) * (1 - b) + b * x[t] + s * rng.standard_normal()
    return monthly(np.exp(x))


def assert_moments(sample: np.ndarray, mean: float, var: float) -> None:
    """Sample mean and variance within N_SIGMA standard errors (the variance's from the
    sample's fourth central moment, which jumps make heavy)."""
    m, v = sample.mean(), sample.var(ddof=1)
    m4 = np.mean((sample - m) ** 4)
    assert abs(m - mean) <= N_SIGMA * math.sqrt(var / sample.size), (m, mean)
    assert abs(v - var) <= N_SIGMA * math.sqrt((m4 - v * v) / sample.size), (v, var)


# ---------------------------------------------------------------------------- simulated series
@pytest.mark.parametrize("jumps", [False, True])
def test_log_ou_replicates_have_the_transition_moments(jumps: bool) -> None:
    """x_n of x_{t+1} = ln θ(1−b) + b x_t + N μ_J + sqrt(s² + Nσ_J²) ε (the mixture the
    likelihood maximises): mean b^n x0 + c(1 − b^n)/(1 − b) with c = ln θ(1−b) + λΔμ_J,
    variance (s² + λΔ(μ_J² + σ_J²))(1 − b^{2n})/(1 − b²)."""
    p = {"kappa": 0.8, "theta": 300.0, "sigma": 0.25}
    if jumps:
        p |= {"lambda": 3.0, "mu_j": -0.1, "sigma_j": 0.2}
    lam, mu_j, sd_j = p.get("lambda", 0.0), p.get("mu_j", 0.0), p.get("sigma_j", 0.0)
    x0, n, reps = math.log(420.0), 24, 20_000
    x = _bootstrap.log_paths("log_ou", p, x0, n, DT, 7, 0, reps)
    b = math.exp(-p["kappa"] * DT)
    s2 = p["sigma"] ** 2 * (1 - b * b) / (2 * p["kappa"])
    c = math.log(p["theta"]) * (1 - b) + lam * DT * mu_j
    v = s2 + lam * DT * (mu_j**2 + sd_j**2)
    assert (x[:, 0] == x0).all()
    assert_moments(x[:, n], b**n * x0 + c * (1 - b**n) / (1 - b), v * (1 - b ** (2 * n)) / (1 - b * b))
    assert_moments(x[:, 1], b * x0 + c, v)


@pytest.mark.parametrize("jumps", [False, True])
def test_gbm_replicates_are_compensated(jumps: bool) -> None:
    """ln X_n − ln X_0 has mean n(g − σ²/2 − λk)Δ + nλΔμ_J and variance n(σ² + λ(μ_J² + σ_J²))Δ,
    and E[X_n/X_0] = e^{g nΔ} (the jumps compensated, k = e^{μ_J + σ_J²/2} − 1)."""
    p = {"g": 0.05, "sigma": 0.3}
    if jumps:
        p |= {"lambda": 2.0, "mu_j": -0.15, "sigma_j": 0.1}
    lam, mu_j, sd_j = p.get("lambda", 0.0), p.get("mu_j", 0.0), p.get("sigma_j", 0.0)
    k = math.exp(mu_j + sd_j**2 / 2) - 1
    n, reps = 36, 20_000
    r = _bootstrap.log_paths("gbm", p, 0.0, n, DT, 11, 0, reps)[:, n]
    assert_moments(r, n * DT * (p["g"] - p["sigma"] ** 2 / 2 - lam * k + lam * mu_j),
                   n * DT * (p["sigma"] ** 2 + lam * (mu_j**2 + sd_j**2)))
    growth = np.exp(r)
    assert abs(growth.mean() - math.exp(p["g"] * n * DT)) <= N_SIGMA * growth.std() / math.sqrt(reps)


def test_a_replicate_depends_on_the_seed_and_its_number_only() -> None:
    fit = gs.calibrate.log_ou(simulated_log_ou(1.0, 300.0, 0.3, 120, 1))
    small, large = fit.bootstrap(30, seed=5, progress=False), fit.bootstrap(70, seed=5, progress=False)
    assert small.draws.to_numpy().tobytes() == large.draws.iloc[:30].to_numpy().tobytes()
    again = fit.bootstrap(30, seed=5, progress=False)
    pd.testing.assert_frame_equal(again.table, small.table, check_exact=True)
    other = fit.bootstrap(30, seed=6, progress=False)
    assert not np.array_equal(other.draws.to_numpy(), small.draws.to_numpy())
    restored = pickle.loads(pickle.dumps(fit)).bootstrap(30, seed=5, progress=False)
    pd.testing.assert_frame_equal(restored.table, small.table, check_exact=True)
    assert pickle.loads(pickle.dumps(small)).table.equals(small.table)


# ---------------------------------------------------------------------------- intervals
def test_intervals_follow_their_formulas() -> None:
    fit = gs.calibrate.log_ou(simulated_log_ou(0.5, 300.0, 0.3, 150, 2))
    boot = fit.bootstrap(150, seed=1, progress=False)
    est, se = fit.params.to_numpy(), fit.std_errors.to_numpy()
    d, dse = boot.draws.to_numpy(), boot.draw_std_errs.to_numpy()
    lo, hi = np.quantile(d, [0.05, 0.95], axis=0)
    t_lo, t_hi = np.quantile((d - est) / dse, [0.05, 0.95], axis=0)
    expected = {
        "percentile": (lo, hi),
        "basic": (2 * est - hi, 2 * est - lo),
        "studentized": (est - t_hi * se, est - t_lo * se),
    }
    for kind, (lower, upper) in expected.items():
        table = fit.bootstrap(150, seed=1, level=0.9, interval=kind, progress=False).table
        pd.testing.assert_frame_equal(boot.intervals(kind, 0.9), table, check_exact=True)
        np.testing.assert_allclose(table["lower"], np.maximum(lower, 0.0), rtol=1e-12)
        np.testing.assert_allclose(table["upper"], upper, rtol=1e-12)
    table = boot.table
    np.testing.assert_array_equal(table["estimate"], est)
    np.testing.assert_allclose(table["boot_mean"], d.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(table["boot_std"], d.std(axis=0, ddof=1), rtol=1e-12)
    assert boot.to_pandas().equals(table)
    assert (table["interval"] == "studentized").all()


def test_a_slow_reversion_keeps_kappa_interval_at_zero() -> None:
    """Potash 2010–2025: κ's studentized interval would reach below 0, and stops there."""
    fit = gs.calibrate.log_ou(gs.data.potash_monthly("2010-01", "2025-01"))
    boot = fit.bootstrap(200, seed=1, progress=False)
    est, se = float(fit.params["kappa"]), float(fit.std_errors["kappa"])
    t = ((boot.draws["kappa"] - est) / boot.draw_std_errs["kappa"]).to_numpy()
    assert est - np.quantile(t, 0.975) * se < 0  # the unclipped bound
    assert boot.table.at["kappa", "lower"] == 0.0
    assert (boot.table["lower"] >= 0).all()


def test_bounds_stay_in_order_and_in_the_parameter_space() -> None:
    """A 4-year random walk: κ's refits are biased far upwards, which pushed the basic and
    studentized upper bounds of κ and θ below 0 (and below their clipped lower bounds)."""
    rng = np.random.default_rng(89)
    x = math.log(300) + np.cumsum(np.r_[0, 0.3 * math.sqrt(DT) * rng.standard_normal(48)])
    with pytest.warns(RuntimeWarning, match="too slow to identify"):
        fit = gs.calibrate.log_ou(monthly(np.exp(x)))
    boot = fit.bootstrap(60, seed=0, progress=False)
    for kind in ("studentized", "basic", "percentile"):
        table = boot.intervals(kind)
        assert (table["lower"] <= table["upper"]).all(), (kind, table)
        assert (table[["lower", "upper"]] >= 0).all().all(), (kind, table)


def test_a_jump_fit_interval_stays_in_the_search_box() -> None:
    """λ's refits end at most at λΔ = 2 (24 a year monthly), where their errors explode; the
    studentized upper bound of λ reached 307 a year, past what any refit or world takes."""
    rng = np.random.default_rng(1)
    lo, b = math.log(1.5), math.exp(-1 / 12)
    x = [lo]
    for _ in range(300):
        x.append(lo * (1 - b) + b * x[-1] + 0.5 * math.sqrt((1 - b * b) / 2) * rng.standard_normal()
                 + (rng.random() < 0.25) * rng.normal(-0.1, 0.2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # λ on the edge of the search region
        fit = gs.calibrate.gbm(monthly(50 / (1 + np.exp(-np.array(x)))), jumps=True)
        boot = fit.bootstrap(100, seed=1, progress=False)
    caps = pd.Series({"sigma": 10.0, "lambda": 24.0, "sigma_j": 5.0})
    for kind in ("studentized", "basic", "percentile"):
        table = boot.intervals(kind)
        assert (table.loc[caps.index, "upper"] <= caps).all(), (kind, table)
        assert (table["lower"] <= table["upper"]).all(), (kind, table)
    assert boot.draws["lambda"].max() <= 24.0 and boot.table.at["lambda", "upper"] == 24.0
    # so is μ_J, in [−5, 5] both ways: refits spread past it give the edges, not beyond
    mu = boot.fit.params["mu_j"]
    boot.draws["mu_j"] = mu + 1e3 * (boot.draws["mu_j"] - mu)
    for kind in ("basic", "percentile"):
        table = boot.intervals(kind)
        assert table.at["mu_j", "lower"] == -5.0 and table.at["mu_j", "upper"] == 5.0, (kind, table)


def test_large_samples_agree_with_the_information_matrix() -> None:
    """100 years of monthly data: the refits' spread is the asymptotic standard error
    (within 4 SE of a standard deviation from 300 draws, plus 10% for the asymptotics)."""
    fit = gs.calibrate.log_ou(simulated_log_ou(2.0, 300.0, 0.3, 1200, 3))
    boot = fit.bootstrap(300, seed=2, progress=False)
    rel = boot.table["boot_std"] / boot.table["std_err"]
    assert ((rel - 1).abs() <= N_SIGMA / math.sqrt(2 * 299) + 0.1).all(), rel
    bias = (boot.table["boot_mean"] - boot.table["estimate"]) / boot.table["std_err"]
    assert (bias.abs() <= 0.5).all(), bias


def test_studentized_intervals_cover_theta() -> None:
    """40 series of 15 years with κ = 2: the 95% studentized intervals cover the true
    parameters at least 95% − 4 SE of the time (SE of a coverage over 40 series)."""
    truth = pd.Series({"kappa": 2.0, "theta": 300.0, "sigma": 0.3})
    hits = pd.Series(0.0, index=truth.index)
    for i in range(40):
        fit = gs.calibrate.log_ou(simulated_log_ou(*truth, 180, 100 + i))
        table = fit.bootstrap(100, seed=i, progress=False).table
        hits += ((table["lower"] <= truth) & (truth <= table["upper"])).astype(float)
    assert (hits / 40 >= 0.95 - N_SIGMA * math.sqrt(0.95 * 0.05 / 40)).all(), hits / 40


# ---------------------------------------------------------------------------- other models
def test_jump_fit_refits_with_its_options() -> None:
    """mean_reversion='ar1' refits the AR(1) κ each time; a fixed parameter stays fixed."""
    potash = gs.data.potash_monthly("2000-01", "2025-01")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = gs.calibrate.log_ou(potash, jumps=True, mean_reversion="ar1", fixed={"sigma_j": 0.13})
    boot = fit.bootstrap(12, seed=0, progress=False)
    assert list(boot.draws.columns) == ["kappa", "theta", "sigma", "lambda", "mu_j", "sigma_j"]
    assert (boot.draws["sigma_j"] == 0.13).all()
    assert boot.table.at["sigma_j", "lower"] == boot.table.at["sigma_j", "upper"] == 0.13
    assert boot.table.at["sigma_j", "interval"] == "fixed"
    # the refits hold what the fit held, not what the caller's dict says later
    fixed = {"sigma_j": 0.13}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = gs.calibrate.log_ou(potash, jumps=True, mean_reversion="ar1", fixed=fixed)
    fixed["sigma_j"] = 0.3
    assert (fit.bootstrap(12, seed=0, progress=False).draws["sigma_j"] == 0.13).all()
    assert boot.draws["kappa"].nunique() == len(boot.draws)
    assert np.isfinite(boot.draws.to_numpy()).all()
    assert "12 replicates" in repr(boot)


def test_logit_fit_stays_below_its_scale() -> None:
    x = _bootstrap.log_paths("log_ou", {"kappa": 1.5, "theta": 0.25, "sigma": 0.6}, math.log(0.3), 150, DT, 4, 0, 1)
    shares = monthly(100.0 / (1.0 + np.exp(-x[0])))
    fit = gs.calibrate.logit_ou(shares, scale=100.0)
    boot = fit.bootstrap(60, seed=0, interval="percentile", progress=False)
    assert (boot.draws["theta"] < 100).all() and (boot.draws["theta"] > 0).all()
    assert 0 < boot.table.at["theta", "lower"] < boot.table.at["theta", "upper"] <= 100
    # the refits centre on the fit (a level θ simulated as odds would centre elsewhere)
    t = boot.table
    assert ((t["boot_mean"] - t["estimate"]).abs() <= 3 * t["boot_std"]).all(), t
    # θ as odds, kept exactly: a level that rounds to the scale still simulates
    assert fit.extra["odds_theta"] == pytest.approx(fit.params["theta"] / (100 - fit.params["theta"]), rel=1e-12)
    assert fit.diffusion is None and fit.model == "logit_ou"


def test_gbm_jump_fit_bootstraps() -> None:
    with pytest.warns(RuntimeWarning, match="not positive definite"):  # sticky quotes: σ_J's error is NaN
        fit = gs.calibrate.gbm(gs.data.potash_monthly("2010-01", "2025-01"), jumps=True)
    boot = fit.bootstrap(10, seed=0, interval="basic", progress=False)
    assert list(boot.table.index) == ["g", "sigma", "lambda", "mu_j", "sigma_j"]
    # the fit's errors are NaN: no studentized interval, the basic one instead
    assert fit.std_errors.isna().all()
    studentized = fit.bootstrap(10, seed=0, progress=False).table
    pd.testing.assert_frame_equal(studentized, boot.table, check_exact=True)
    assert (studentized["interval"] == "basic").all() and studentized[["lower", "upper"]].notna().all().all()
    assert boot.n_boot == 10 and len(boot.draws) == 10 - boot.n_failed


def test_jump_refits_run_on_threads_with_the_results_of_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """A jump fit's refits run on as many threads as the core has workers (3 here); the
    draws, their errors and the failures, in the replicates' order, are those of one thread."""
    with pytest.warns(RuntimeWarning, match="not positive definite"):
        fit = gs.calibrate.gbm(gs.data.potash_monthly("2010-01", "2025-01"), jumps=True)
    real, names = gs.calibrate.gbm, set()

    def failing_when_risen(series: pd.Series, **kwargs: object) -> gs.calibrate.CalibrationResult:
        names.add(threading.current_thread().name)
        if series.iloc[-1] > series.iloc[0]:  # (a property of the replicate, not of the order of the refits)
            raise gs.NumericalError(f"rose to {series.iloc[-1]:.17g}")
        return real(series, **kwargs)

    monkeypatch.setattr(gs.calibrate, "gbm", failing_when_risen)
    runs = {}
    for threads in (3, 1):
        monkeypatch.setattr(gs.calibrate._core, "worker_threads", lambda threads=threads: threads)
        names.clear()
        runs[threads] = fit.bootstrap(40, seed=4, progress=False), set(names)
    (on_three, three), (on_one, one) = runs[3], runs[1]
    assert len(three) > 1 and all(name.startswith("geoscenario-refit") for name in three), three
    assert one == {threading.current_thread().name}
    pd.testing.assert_frame_equal(on_three.draws, on_one.draws, check_exact=True)
    pd.testing.assert_frame_equal(on_three.draw_std_errs, on_one.draw_std_errs, check_exact=True)
    assert on_three.failures == on_one.failures and 5 <= on_three.n_failed <= 30


# ---------------------------------------------------------------------------- refusals
def test_beta_fits_and_bad_arguments_are_refused() -> None:
    fit = gs.calibrate.log_ou(simulated_log_ou(1.0, 300.0, 0.3, 60, 1))
    for kwargs, path in [
        ({"n_boot": 5}, "n_boot"),
        ({"n_boot": 100.0}, "n_boot"),
        ({"seed": -1}, "seed"),
        ({"level": 1.0}, "level"),
        ({"level": "0.9"}, "level"),
        ({"interval": "bca"}, "interval"),
        ({"progress": "yes"}, "progress"),
    ]:
        if "level" in kwargs or "interval" in kwargs:  # the same rules for another look at the refits
            with pytest.raises(gs.ConfigError, match=f"^{path}: "):
                fit.bootstrap(10, progress=False).intervals(**kwargs)
        with pytest.raises(gs.ConfigError, match=f"^{path}: "):
            fit.bootstrap(**kwargs)
    with pytest.raises(gs.ConfigError, match="^block: applies to a factor_betas fit"):
        fit.bootstrap(block=5)
    returns = gs.data.equities_daily("2019-01-01", "2021-12-31").pct_change().dropna()
    betas = gs.calibrate.factor_betas(returns[["ntr_adj_close"]], returns[["spy_adj_close"]])
    for block in (0, len(returns) // 2 + 1, len(returns), 2.0):  # one block only rotates the dates
        with pytest.raises(gs.ConfigError, match="^block: must be an integer"):
            betas.bootstrap(block=block)
    del fit._refit  # as a fit pickled by an older version
    with pytest.raises(gs.ConfigError, match="^bootstrap: this fit was made by an older geoscenario"):
        fit.bootstrap()


def test_failed_refits_are_counted_and_too_many_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refits that raise are left out and counted; fewer than 10 good ones is an error."""
    fit = gs.calibrate.log_ou(simulated_log_ou(1.0, 300.0, 0.3, 60, 1))
    real, calls = gs.calibrate.log_ou, []

    def every_other(series: pd.Series, **kwargs: object) -> gs.calibrate.CalibrationResult:
        calls.append(1)
        if len(calls) % 2:
            raise gs.NumericalError(f"refit {len(calls)} failed")
        return real(series, **kwargs)

    monkeypatch.setattr(gs.calibrate, "log_ou", every_other)
    boot = fit.bootstrap(20, seed=0, progress=False)
    assert (boot.n_boot, boot.n_failed, len(boot.draws)) == (20, 10, 10)
    assert list(boot.draws.index) == list(range(1, 20, 2))
    assert "note: 10 of 20 simulated series could not be refitted and are left out (first: refit 1 failed)" in repr(boot)
    assert len(boot.failures) == boot.n_failed
    with pytest.raises(gs.NumericalError, match=r"only 9 of 19 simulated series could be refitted \(first failure: refit 1"):
        calls.clear()
        fit.bootstrap(19, seed=0, progress=False)


def test_every_fit_a_user_meets_bootstraps_with_its_own_options() -> None:
    """The diffusion inside a jump fit, a fit World.calibrated kept, `fixed` given as a
    Series, and an explicit dt on irregular dates (business days with holidays)."""
    potash = gs.data.potash_monthly("2000-01", "2025-01")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        jump_fit = gs.calibrate.log_ou(potash, jumps=True, mean_reversion="ar1",
                                       fixed=pd.Series({"sigma_j": 0.13}))
        cw = gs.World.default().calibrated(potash=potash["2010":])
    inner = jump_fit.diffusion.bootstrap(20, seed=0, progress=False)
    assert list(inner.draws.columns) == ["kappa", "theta", "sigma"]
    pd.testing.assert_frame_equal(  # the diffusion's refits are those of a diffusion fit of the same data
        inner.draws, gs.calibrate.log_ou(potash).bootstrap(20, seed=0, progress=False).draws, check_exact=True)
    assert (jump_fit.bootstrap(12, seed=0, progress=False).draws["sigma_j"] == 0.13).all()
    kept = cw.fits["potash"]
    assert kept.bootstrap(12, seed=0, progress=False).draws.columns.equals(kept.params.index)

    days = pd.bdate_range("2020-01-01", periods=400).delete([17, 80, 81, 250])  # holidays
    x = _bootstrap.log_paths("log_ou", {"kappa": 3.0, "theta": 50.0, "sigma": 0.4}, math.log(55.0),
                             len(days) - 1, 1 / 252, 3, 0, 1)[0]
    fit = gs.calibrate.log_ou(pd.Series(np.exp(x), index=days), dt=1 / 252)
    boot = fit.bootstrap(40, seed=0, progress=False)
    assert fit.dt == 1 / 252 and np.isfinite(boot.draws.to_numpy()).all()
    t = boot.table
    assert ((t["boot_mean"] - t["estimate"]).abs() <= 3 * t["boot_std"]).all(), t


def test_calibration_results_draw_as_tables_in_a_notebook() -> None:
    """_repr_html_: the repr's first line (escaped), the table as pandas draws it, the notes."""
    potash = gs.data.potash_monthly("2000-01", "2025-01")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = gs.calibrate.log_ou(potash, jumps=True, mean_reversion="ar1")
        cw = gs.World.default().calibrated(potash=potash["2010":])
    boot = fit.diffusion.bootstrap(20, seed=0, level=0.975, progress=False)
    assert repr(boot).startswith("BootstrapResult(potash_usd_t, log_ou: 20 replicates, 97.5% studentized")
    for obj, table in ((fit, fit.table), (boot, boot.table), (cw, cw.changes)):
        page = obj._repr_html_()
        head = repr(obj).splitlines()[0]
        assert page.startswith(f"<p><code>{html.escape(head)}</code></p>"), page[:200]
        assert page.count("<table") == 1
        for label in table.index:
            assert f"<th>{html.escape(str(label))}</th>" in page
    assert all(f"<p>{html.escape('note: ' + n)}</p>" in fit._repr_html_() for n in fit.notes)
    assert f"<p>{html.escape(fit.comparison())}</p>" in fit._repr_html_()


# ---------------------------------------------------------------------------- betas
def beta_data(n: int, rho: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Monthly returns y = 0.01 + 1.2 f + 0.5 u, f and u AR(1) with coefficient rho."""
    rng = np.random.default_rng(seed)

    def ar1() -> np.ndarray:
        e = rng.standard_normal(n + 100)
        x = np.empty(n + 100)
        x[0] = e[0]
        for t in range(1, n + 100):
            x[t] = rho * x[t - 1] + e[t]
        return x[100:]

    f = ar1()
    idx = pd.date_range("2000-01-01", periods=n, freq="MS")
    return pd.DataFrame({"y": 0.01 + 1.2 * f + 0.5 * ar1()}, index=idx), pd.DataFrame({"f": f}, index=idx)


def test_beta_replicates_are_circular_blocks_of_whole_dates() -> None:
    y, f = beta_data(23, 0.0, 1)
    reps = _bootstrap.block_rows((y, f), 4, 9, 0, 50)
    assert reps[0][0].index.equals(y.index) and reps[0][1].columns.equals(f.columns)
    pos = {v: i for i, v in enumerate(y["y"])}
    for yb, fb in reps:
        rows = np.array([pos[v] for v in yb["y"]])
        np.testing.assert_array_equal(fb["f"].to_numpy(), f["f"].to_numpy()[rows])  # a date's returns together
        for start in range(0, 23, 4):  # each block: consecutive dates, wrapping round the end
            block = rows[start:start + 4]
            np.testing.assert_array_equal(block, (block[0] + np.arange(len(block))) % 23)
    # circular: blocks wrap from the last date to the first, so the first and last dates are
    # drawn as often as the middle ones (a block of 4 covers a date with probability 4/23;
    # 6 blocks a replicate, 2,000 replicates: each count 2,000 ± 4 SE)
    rows = np.stack([[pos[v] for v in yb["y"]] for yb, _ in _bootstrap.block_rows((y, f), 4, 9, 0, 2_000)])
    assert ((rows[:, :-1] == 22) & (rows[:, 1:] == 0)).any()
    counts = np.bincount(rows.ravel(), minlength=23)
    assert (np.abs(counts - 2_000) <= N_SIGMA * math.sqrt(2_000 * 6 * 4 / 23 * 19 / 23)).all(), counts
    again = _bootstrap.block_rows((y, f), 4, 9, 7, 3)
    assert all(a[0].equals(b[0]) for a, b in zip(again, reps[7:10]))


def test_beta_bootstrap_agrees_with_the_standard_errors_on_independent_data() -> None:
    """Independent returns over 1,000 months: the refits' spread of the beta is its
    standard error (4 SE of a standard deviation from 300 draws, plus 10%), and the
    intervals hold the estimate."""
    y, f = beta_data(1000, 0.0, 2)
    fit = gs.calibrate.factor_betas(y, f, newey_west=True)
    boot = fit.bootstrap(300, seed=0, progress=False)
    row = boot.table.loc[("y", "f")]
    assert abs(row["boot_std"] / row["std_err"] - 1) <= N_SIGMA / math.sqrt(2 * 299) + 0.1, row
    assert row["lower"] < row["estimate"] < row["upper"] and row["interval"] == "studentized"
    # a vol has no Newey–West error: its classical one studentizes it
    assert boot.table.loc[("y", "vol"), "interval"] == "studentized"
    assert boot.table.loc[("y", "vol"), "std_err"] == fit.table.loc[("y", "vol"), "std_err"] > 0
    assert (boot.table.loc[("y", "vol"), ["lower", "upper"]] > 0).all()
    assert boot.draws.columns.equals(fit.params.index)
    small = fit.bootstrap(40, seed=0, progress=False)
    assert small.draws.to_numpy().tobytes() == boot.draws.iloc[:40].to_numpy().tobytes()
    pd.testing.assert_frame_equal(pickle.loads(pickle.dumps(fit)).bootstrap(40, seed=0, progress=False).table,
                                  small.table, check_exact=True)


def test_a_factor_named_like_a_parameter_keeps_its_negative_beta() -> None:
    """Only a beta fit's vol is positive: a factor called "sigma" is a beta like any other."""
    y, f = beta_data(120, 0.0, 4)
    fit = gs.calibrate.factor_betas(-y, f.rename(columns={"f": "sigma"}), newey_west=True)
    row = fit.bootstrap(100, seed=0, progress=False).table.loc[("y", "sigma")]
    assert row["estimate"] < 0 and row["lower"] < row["estimate"] < row["upper"] < 0, row


@pytest.mark.filterwarnings("ignore:.*its median size:UserWarning")  # unit-scale returns, ρ = 0.9
def test_block_bootstrap_widens_the_interval_of_a_persistent_regression() -> None:
    """Strongly persistent factor and residual (ρ = 0.9): longer blocks keep more of the
    dependence, and the beta's refits spread more than with blocks of one date (the iid
    bootstrap), which ignores it."""
    y, f = beta_data(240, 0.9, 3)
    fit = gs.calibrate.factor_betas(y, f, newey_west=True)
    spread = {b: fit.bootstrap(300, seed=1, block=b, progress=False).table.at[("y", "f"), "boot_std"]
              for b in (1, 12)}
    assert spread[12] > 1.2 * spread[1], spread
