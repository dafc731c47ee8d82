//! Exact maximum likelihood of the log-OU model (no jumps).
//!
//! With x = ln S and step Δ the exact discretisation (MODEL.md §3) is the
//! Gaussian AR(1) x_{t+1} = a + b·x_t + s·ε with
//!   b = e^{−κΔ},  a = ln θ·(1 − b),  s² = σ²(1 − e^{−2κΔ})/(2κ).
//! Conditional on x_0 its MLE is OLS of x_{t+1} on (1, x_t) with s² = SSR/n.
//! The observed information at the MLE gives Cov(a, b) = s²(XᵀX)⁻¹,
//! Var(s) = s²/(2n), Cov((a, b), s) = 0; the delta method maps them to
//! (κ, θ, σ).

use super::check_finite;
use crate::error::{CoreError, Result};

/// Parameter order of [`LogOuFit::params`]: θ is a level (e^{long-run mean of ln S}).
pub const PARAM_NAMES: [&str; 6] = ["kappa", "theta", "sigma", "lambda", "mu_j", "sigma_j"];

/// A fitted log-OU model (with or without jumps).
#[derive(Debug, Clone, PartialEq)]
pub struct LogOuFit {
    /// (κ, θ, σ, λ, μ_J, σ_J) in [`PARAM_NAMES`] order; λ = μ_J = σ_J = 0 without jumps.
    pub params: [f64; 6],
    /// Standard errors (NaN for fixed parameters, for the jump parameters of a
    /// diffusion fit, and when the observed information is not positive definite).
    pub std_errs: [f64; 6],
    /// Which parameters were held fixed rather than estimated.
    pub fixed: [bool; 6],
    /// Whether the model has jumps.
    pub jumps: bool,
    /// m = ln θ (the long-run mean of ln S when the jumps have mean 0) and its
    /// standard error; with a held long-run mean, that error is the jumps' part only.
    pub log_mean: f64,
    pub log_mean_se: f64,
    /// ∂ ln θ / ∂(ln κ, ln θ, ln σ, ln λ, μ_J, ln σ_J): (0, 1, 0, 0, 0, 0) unless θ follows
    /// from a held long-run mean and the jumps (the caller's delta method for a held κ).
    pub ln_theta_grad: [f64; 6],
    /// AR(1) form (a, b, s) of the diffusion part.
    pub ar: [f64; 3],
    /// Log-likelihood of x_1..x_n given x_0 (natural log, density of ln S).
    pub loglik: f64,
    /// Number of transitions n (observations − 1).
    pub n_obs: usize,
    /// Step Δ in years.
    pub dt: f64,
    /// Likelihood evaluations (1 for the closed-form diffusion fit).
    pub evaluations: usize,
    /// The optimiser met its tolerance (always true for the diffusion fit).
    pub converged: bool,
    /// The observed information was positive definite (standard errors valid).
    pub hessian_ok: bool,
    /// Parameters whose estimate ended on the edge of the search region
    /// (e.g. κ → 0 or λ → 0): the likelihood has no interior maximum there.
    pub at_bound: [bool; 6],
}

/// Validate `dt` and positive finite levels, and return their logs.
pub(crate) fn log_levels(levels: &[f64], dt: f64) -> Result<Vec<f64>> {
    if !(dt.is_finite() && dt > 0.0 && dt <= 10.0) {
        return Err(CoreError::invalid(
            "dt",
            format!("must be a step in years in (0, 10], got {dt}"),
        ));
    }
    check_finite(levels, "series")?;
    if let Some(i) = levels.iter().position(|&v| v <= 0.0) {
        return Err(CoreError::invalid(
            "series",
            format!(
                "observation {i} is {} but the log-OU model needs positive levels",
                levels[i]
            ),
        ));
    }
    Ok(levels.iter().map(|v| v.ln()).collect())
}

/// The OLS fit of the AR(1) on log levels: (a, b, s², Sxx, x̄_0).
pub(crate) fn ar1_ols(x: &[f64]) -> Result<(f64, f64, f64, f64, f64)> {
    let n = (x.len() - 1) as f64;
    let (x0, x1) = (&x[..x.len() - 1], &x[1..]);
    let m0 = x0.iter().sum::<f64>() / n;
    let m1 = x1.iter().sum::<f64>() / n;
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for (u, v) in x0.iter().zip(x1) {
        sxx += (u - m0) * (u - m0);
        sxy += (u - m0) * (v - m1);
    }
    if sxx.is_nan() || sxx <= 0.0 || x0.iter().all(|v| *v == x0[0]) {
        let what = if x.iter().all(|v| *v == x[0]) {
            "is constant: nothing to fit"
        } else {
            "is constant but for its last value: nothing to fit"
        };
        return Err(CoreError::invalid("series", what));
    }
    let b = sxy / sxx;
    let a = m1 - b * m0;
    let ssr: f64 = x0.iter().zip(x1).map(|(u, v)| (v - a - b * u).powi(2)).sum();
    // the MLE of the innovation variance; residuals at the rounding of the logs leave no
    // variation to fit (κ came out 650 a year, σ 6e-14, for one move in 60 flat months),
    // as gbm says of log returns that do not vary (a log's rounding is ε·max(1, |x|):
    // levels near 1 have logs near 0)
    let s2 = ssr / n;
    let scale = x.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    if s2.is_nan() || s2.sqrt() <= 64.0 * f64::EPSILON * scale {
        return Err(CoreError::Numerical(
            "series: the AR(1) residuals are at the rounding of the log levels: each log level is an \
             exact linear function of the one before (a constant, a steady trend, or two levels in turn), \
             which leaves no noise to fit (σ = 0)"
                .into(),
        ));
    }
    if !(b > 0.0 && b < 1.0) {
        return Err(CoreError::Numerical(format!(
            "series: AR(1) coefficient b = {b:.6} is outside (0, 1), so no mean-reverting log-OU fits \
             (κ = −ln b / Δ would be {})",
            if b >= 1.0 { "≤ 0" } else { "undefined" }
        )));
    }
    Ok((a, b, s2, sxx, m0))
}

/// Exact MLE of the log-OU diffusion from positive levels observed every `dt` years.
///
/// Errors: fewer than 24 levels, a non-finite or non-positive level, a
/// constant series (`ConfigError` naming `series`), a bad `dt`, or an AR(1)
/// coefficient outside (0, 1), or so close to 1 that θ overflows (no mean
/// reversion: `Numerical`).
pub fn fit_log_ou(levels: &[f64], dt: f64) -> Result<LogOuFit> {
    let x = log_levels(levels, dt)?;
    let n = x.len() - 1;
    let nf = n as f64;
    let (a, b, s2, sxx, m0) = ar1_ols(&x)?;
    let s = s2.sqrt();
    // covariance of (a, b) and variance of s from the observed information
    let var_b = s2 / sxx;
    let var_a = s2 * (1.0 / nf + m0 * m0 / sxx);
    let cov_ab = -s2 * m0 / sxx;
    let var_s = s2 / (2.0 * nf);

    let kappa = -b.ln() / dt; // b = e^{−κΔ}
    let m = a / (1.0 - b); // a = m(1 − b)
    let g = 2.0 * kappa / (1.0 - b * b); // σ = s·sqrt(g)
    let sigma = s * g.sqrt();

    // delta method: partial derivatives with respect to (a, b, s)
    let dk_db = -1.0 / (b * dt);
    let (dm_da, dm_db) = (1.0 / (1.0 - b), a / ((1.0 - b) * (1.0 - b)));
    let dg_db = 2.0 * dk_db / (1.0 - b * b) + 4.0 * kappa * b / ((1.0 - b * b) * (1.0 - b * b));
    let (ds_db, ds_ds) = (s * dg_db / (2.0 * g.sqrt()), g.sqrt());

    let se_kappa = (dk_db * dk_db * var_b).sqrt();
    let se_m = (dm_da * dm_da * var_a + 2.0 * dm_da * dm_db * cov_ab + dm_db * dm_db * var_b).sqrt();
    let se_sigma = (ds_db * ds_db * var_b + ds_ds * ds_ds * var_s).sqrt();
    let theta = m.exp();
    if !(theta > 0.0 && theta.is_finite()) {
        return Err(CoreError::Numerical(format!(
            "series: AR(1) coefficient b = {b:.7} is so close to 1 (κ = {kappa:.3e} per year) that the \
             long-run level θ = exp(a/(1 − b)) = exp({m:.4e}) is beyond double precision: the series shows \
             no detectable mean reversion (a trend or a random walk)"
        )));
    }

    Ok(LogOuFit {
        params: [kappa, theta, sigma, 0.0, 0.0, 0.0],
        std_errs: [se_kappa, theta * se_m, se_sigma, f64::NAN, f64::NAN, f64::NAN],
        fixed: [false; 6],
        jumps: false,
        log_mean: m,
        log_mean_se: se_m,
        ln_theta_grad: [0.0, 1.0, 0.0, 0.0, 0.0, 0.0],
        ar: [a, b, s],
        // ℓ = −n/2 (ln(2π s²) + 1) at the MLE s² = SSR/n
        loglik: -0.5 * nf * ((2.0 * std::f64::consts::PI * s2).ln() + 1.0),
        n_obs: n,
        dt,
        evaluations: 1,
        converged: true,
        hessian_ok: true,
        at_bound: [false; 6],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ar_path(n: usize, a: f64, b: f64, s: f64) -> Vec<f64> {
        // deterministic pseudo-noise (a logistic map) is enough for algebraic checks
        let mut z = 0.123_f64;
        let mut x = vec![a / (1.0 - b)];
        for _ in 0..n {
            z = 3.99 * z * (1.0 - z);
            let last = *x.last().unwrap_or(&0.0);
            x.push(a + b * last + s * (z - 0.5));
        }
        x.iter().map(|v| v.exp()).collect()
    }

    #[test]
    fn maps_the_ar1_back_to_kappa_theta_sigma() {
        let dt = 1.0 / 12.0;
        let levels = ar_path(400, 0.2, 0.96, 0.05);
        let fit = fit_log_ou(&levels, dt).expect("fits");
        let [a, b, s] = fit.ar;
        assert!((fit.params[0] - (-b.ln() / dt)).abs() < 1e-12);
        assert!((fit.params[1].ln() - a / (1.0 - b)).abs() < 1e-12);
        let k = fit.params[0];
        let s_back = fit.params[2] * ((1.0 - (-2.0 * k * dt).exp()) / (2.0 * k)).sqrt();
        assert!((s_back - s).abs() < 1e-12);
        assert!(fit.std_errs[..3].iter().all(|v| v.is_finite() && *v > 0.0));
    }

    #[test]
    fn rejects_bad_input_with_the_argument_name() {
        let mut levels = ar_path(50, 0.2, 0.96, 0.05);
        assert!(fit_log_ou(&levels, 0.0).unwrap_err().to_string().starts_with("dt:"));
        levels[10] = -1.0;
        assert!(fit_log_ou(&levels, 1.0 / 12.0)
            .unwrap_err()
            .to_string()
            .starts_with("series:"));
        assert!(fit_log_ou(&[5.0; 30], 1.0 / 12.0)
            .unwrap_err()
            .to_string()
            .contains("constant"));
        // explosive: x_{t+1} = 1.1·x_t (+ a wobble), so b > 1
        let trend: Vec<f64> = (0..40)
            .map(|i| (0.01 * 1.1f64.powi(i) + 1e-3 * (i as f64).sin()).exp())
            .collect();
        assert!(matches!(fit_log_ou(&trend, 1.0 / 12.0), Err(CoreError::Numerical(_))));
    }
}
