//! Calibration and backtest core: parameter recovery from series simulated
//! with the crate's generator (fixed seeds, 4-standard-error tolerances),
//! OLS and Newey–West against direct formulas, and the backtest loop against
//! a hand-written recursion.

// Index loops mirror the textbook formulas they check.
#![allow(clippy::needless_range_loop)]

use geoscenario::backtest::{run, BacktestInput};
use geoscenario::calibrate::{fit_log_ou, fit_log_ou_jumps, newey_west_default_lags, ols, JumpOptions, PARAM_NAMES};
use geoscenario::engine::Control;
use geoscenario::rng::PathRng;
use geoscenario::CoreError;
use ndarray::Array2;

const N_SE: f64 = 4.0;
const DT: f64 = 1.0 / 12.0;

/// Levels of a log-OU (+ Merton jumps) path by the exact discretisation.
fn simulate(seed: u64, n: usize, p: [f64; 6], dt: f64) -> Vec<f64> {
    let [kappa, theta, sigma, lambda, mu_j, sigma_j] = p;
    let rng = PathRng::new(seed, 0, false);
    let b = (-kappa * dt).exp();
    let a = theta.ln() * (1.0 - b);
    let s = sigma * ((1.0 - b * b) / (2.0 * kappa)).sqrt();
    let mean = lambda * dt;
    let mut x = theta.ln();
    let mut out = vec![x.exp()];
    let mut jump_index = 0u64;
    for t in 0..n as u64 {
        // Poisson(λΔ) by inversion
        let u = rng.uniform(1, t);
        let (mut k, mut pk) = (0u32, (-mean).exp());
        let mut cdf = pk;
        while u > cdf && k < 50 {
            k += 1;
            pk *= mean / k as f64;
            cdf += pk;
        }
        let mut jumps = 0.0;
        for _ in 0..k {
            jumps += mu_j + sigma_j * rng.normal(2, jump_index);
            jump_index += 1;
        }
        x = a + b * x + s * rng.normal(0, t) + jumps;
        out.push(x.exp());
    }
    out
}

fn assert_within(fit_params: &[f64; 6], se: &[f64; 6], truth: &[f64; 6], which: &[usize], what: &str) {
    for &i in which {
        let z = (fit_params[i] - truth[i]) / se[i];
        assert!(
            se[i].is_finite() && z.abs() <= N_SE,
            "{what}: {} = {} vs true {} (SE {}, z = {z:.2})",
            PARAM_NAMES[i],
            fit_params[i],
            truth[i],
            se[i]
        );
    }
}

#[test]
fn diffusion_fit_recovers_kappa_theta_sigma() {
    let truth = [0.8, 300.0, 0.30, 0.0, 0.0, 0.0];
    for seed in 1..=10u64 {
        let levels = simulate(seed, 600, truth, DT);
        let fit = fit_log_ou(&levels, DT).expect("fits");
        assert_within(&fit.params, &fit.std_errs, &truth, &[0, 1, 2], &format!("seed {seed}"));
        assert!(!fit.jumps && fit.n_obs == 600);
    }
}

#[test]
fn diffusion_fit_works_at_any_step() {
    // weekly data: Δ = 1/52
    let truth = [2.0, 50.0, 0.40, 0.0, 0.0, 0.0];
    let levels = simulate(77, 2000, truth, 1.0 / 52.0);
    let fit = fit_log_ou(&levels, 1.0 / 52.0).expect("fits");
    assert_within(&fit.params, &fit.std_errs, &truth, &[0, 1, 2], "weekly");
}

#[test]
fn jump_fit_recovers_all_six_parameters() {
    let truth = [1.0, 300.0, 0.15, 3.0, 0.05, 0.15];
    for seed in 1..=4u64 {
        let levels = simulate(100 + seed, 1200, truth, DT);
        let fit = fit_log_ou_jumps(&levels, DT, &JumpOptions::default(), &Control::default()).expect("fits");
        assert!(fit.converged && fit.hessian_ok, "seed {seed}: {fit:?}");
        assert_within(
            &fit.params,
            &fit.std_errs,
            &truth,
            &[0, 1, 2, 3, 4, 5],
            &format!("seed {seed}"),
        );
        let diffusion = fit_log_ou(&levels, DT).expect("fits");
        assert!(
            fit.loglik > diffusion.loglik,
            "jumps must raise the likelihood on jump data"
        );
    }
}

#[test]
fn jump_fit_with_fixed_mean_reversion_holds_them() {
    let truth = [1.0, 300.0, 0.15, 3.0, 0.05, 0.15];
    let levels = simulate(9, 1200, truth, DT);
    let opts = JumpOptions {
        fixed: [Some(1.0), Some(300.0), None, None, None, None],
        ..JumpOptions::default()
    };
    let fit = fit_log_ou_jumps(&levels, DT, &opts, &Control::default()).expect("fits");
    assert_eq!(&fit.params[..2], &[1.0, 300.0]);
    assert!(fit.std_errs[0].is_nan() && fit.std_errs[1].is_nan());
    assert_eq!(fit.fixed, [true, true, false, false, false, false]);
    assert_within(&fit.params, &fit.std_errs, &truth, &[2, 3, 4, 5], "fixed κ, θ");
}

#[test]
fn jump_fit_stays_finite_on_a_sticky_quoted_series() {
    // a price quoted in steps: most monthly changes are exactly zero
    let raw = simulate(5, 300, [0.5, 300.0, 0.3, 0.0, 0.0, 0.0], DT);
    let levels: Vec<f64> = raw.iter().map(|v| (v / 25.0).round() * 25.0).collect();
    let fit = fit_log_ou_jumps(&levels, DT, &JumpOptions::default(), &Control::default()).expect("fits");
    assert!(fit.loglik.is_finite() && fit.params.iter().all(|v| v.is_finite()));
}

#[test]
fn bad_series_are_config_errors_naming_the_argument() {
    let mut levels = simulate(3, 100, [0.8, 300.0, 0.3, 0.0, 0.0, 0.0], DT);
    levels[50] = f64::NAN;
    for e in [
        fit_log_ou(&levels, DT).unwrap_err(),
        fit_log_ou_jumps(&levels, DT, &JumpOptions::default(), &Control::default()).unwrap_err(),
    ] {
        assert!(matches!(&e, CoreError::Invalid { path, .. } if path == "series"), "{e}");
    }
    let e = fit_log_ou(&levels[..10], DT).unwrap_err();
    assert!(e.to_string().starts_with("series: needs at least 24"), "{e}");
}

/// AR(1) errors u_t = ρ u_{t−1} + e_t for the Newey–West checks.
fn regression_data(seed: u64, n: usize, rho: f64) -> (Array2<f64>, Array2<f64>) {
    let rng = PathRng::new(seed, 0, false);
    let x = Array2::from_shape_fn((n, 2), |(t, j)| rng.normal(10 + j as u32, t as u64));
    let mut u = 0.0;
    let mut y = Array2::zeros((n, 1));
    for t in 0..n {
        u = rho * u + 0.05 * rng.normal(20, t as u64);
        y[[t, 0]] = 0.01 + 1.2 * x[[t, 0]] + 0.22 * x[[t, 1]] + u;
    }
    (y, x)
}

#[test]
fn ols_recovers_betas_within_4_standard_errors() {
    for seed in 1..=5u64 {
        let (y, x) = regression_data(seed, 500, 0.0);
        let fit = ols(y.view(), x.view(), Some(newey_west_default_lags(500))).expect("fits");
        for (i, truth) in [0.01, 1.2, 0.22].iter().enumerate() {
            for se in [fit.std_err[i], fit.std_err_nw.as_ref().expect("asked")[i]] {
                assert!(
                    (fit.coef[i] - truth).abs() <= N_SE * se,
                    "seed {seed} coef {i}: {fit:?}"
                );
            }
        }
        assert!((fit.resid_std[0] - 0.05).abs() < 0.01);
    }
}

#[test]
fn newey_west_matches_the_direct_sandwich() {
    let (y, x) = regression_data(42, 120, 0.6);
    let lags = 5;
    let fit = ols(y.view(), x.view(), Some(lags)).expect("fits");
    // direct: residuals from the fitted betas, S built term by term, inverse by Cramer's rule (3×3)
    let n = 120;
    let z = |t: usize| [1.0, x[[t, 0]], x[[t, 1]]];
    let u: Vec<f64> = (0..n)
        .map(|t| y[[t, 0]] - (0..3).map(|i| fit.coef[i] * z(t)[i]).sum::<f64>())
        .collect();
    let mut ztz = [[0.0; 3]; 3];
    let mut s = [[0.0; 3]; 3];
    for t in 0..n {
        for a in 0..3 {
            for b in 0..3 {
                ztz[a][b] += z(t)[a] * z(t)[b];
                s[a][b] += u[t] * u[t] * z(t)[a] * z(t)[b];
            }
        }
    }
    for l in 1..=lags {
        let w = 1.0 - l as f64 / (lags as f64 + 1.0);
        for t in l..n {
            for a in 0..3 {
                for b in 0..3 {
                    s[a][b] += w * u[t] * u[t - l] * (z(t)[a] * z(t - l)[b] + z(t - l)[a] * z(t)[b]);
                }
            }
        }
    }
    let m = ztz;
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    let mut inv = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            let (r0, r1) = ([1, 0, 0][j], [2, 2, 1][j]);
            let (c0, c1) = ([1, 0, 0][i], [2, 2, 1][i]);
            let minor = m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
            inv[i][j] = if (i + j) % 2 == 0 { minor } else { -minor } / det;
        }
    }
    let nw = fit.std_err_nw.expect("asked");
    for i in 0..3 {
        let mut v = 0.0;
        for a in 0..3 {
            for b in 0..3 {
                v += inv[i][a] * s[a][b] * inv[b][i];
            }
        }
        assert!(
            (nw[i] - v.sqrt()).abs() <= 1e-12 * v.sqrt(),
            "coef {i}: {} vs {}",
            nw[i],
            v.sqrt()
        );
    }
    // positively autocorrelated errors: HAC errors exceed the classical ones on the intercept
    assert!(nw[0] > fit.std_err[0]);
}

#[test]
fn backtest_matches_a_direct_recursion() {
    let (t_len, n) = (300, 4);
    let rng = PathRng::new(7, 0, false);
    let mut prices = Array2::zeros((t_len, n));
    for j in 0..n {
        let mut p = 50.0 + 10.0 * j as f64;
        for t in 0..t_len {
            p *= (0.01 * rng.normal(j as u32, t as u64)).exp();
            prices[[t, j]] = p;
        }
    }
    let rebalance: Vec<usize> = (0..t_len).step_by(21).collect();
    let targets = Array2::from_shape_fn((rebalance.len(), n), |(r, j)| {
        [0.6, -0.3, 0.4, 0.2][j] + 0.01 * r as f64
    });
    let cost = [10.0, 5.0, 20.0, 0.0];
    let out = run(&BacktestInput {
        prices: prices.view(),
        rebalance: &rebalance,
        targets: targets.view(),
        cost_bps: &cost,
    })
    .expect("runs");
    // direct: weights drift as w_i·R_i / Σ w·R + cash between rebalances
    let mut equity = 1.0;
    let mut h = vec![0.0; n];
    let mut cash = 1.0;
    let mut r = 0;
    for t in 0..t_len {
        if t > 0 {
            for j in 0..n {
                h[j] *= prices[[t, j]] / prices[[t - 1, j]];
            }
        }
        equity = cash + h.iter().sum::<f64>();
        if r < rebalance.len() && rebalance[r] == t {
            let c: f64 = (0..n)
                .map(|j| cost[j] * 1e-4 * (targets[[r, j]] * equity - h[j]).abs())
                .sum();
            for j in 0..n {
                h[j] = targets[[r, j]] * equity;
            }
            cash = equity - h.iter().sum::<f64>() - c;
            equity -= c;
            r += 1;
        }
        assert!((out.equity[t] - equity).abs() <= 1e-13 * equity, "row {t}");
    }
    assert!(equity > 0.0);
}

#[test]
fn backtest_sells_a_delisted_asset_and_keeps_its_weight_in_cash() {
    let prices = ndarray::array![[10.0, 5.0], [11.0, 6.0], [12.0, f64::NAN], [13.0, f64::NAN]];
    let targets = ndarray::array![[0.5, 0.5], [0.5, 0.5]];
    let out = run(&BacktestInput {
        prices: prices.view(),
        rebalance: &[0, 3],
        targets: targets.view(),
        cost_bps: &[0.0, 0.0],
    })
    .expect("runs");
    // row 2: the second holding (0.5·6/5 = 0.6) goes to cash
    assert!((out.cash[2] - 0.6).abs() < 1e-15);
    assert_eq!(out.positions[[3, 1]], 0.0);
    assert!((out.cash[3] - (out.equity[3] - out.positions[[3, 0]])).abs() < 1e-15);
}
