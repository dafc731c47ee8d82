//! Maximum likelihood of a GBM factor with Merton jumps.
//!
//! Per step (MODEL.md §3) the log return of a `gbm` factor with jumps is
//!   r_t = ln X_{t+1} − ln X_t = cΔ + σ√Δ·ε + Σ_{k≤N} J_k,
//! N ~ Poisson(λΔ), J_k ~ Normal(μ_J, σ_J²), with the log drift
//! c = g − σ²/2 − λk, k = e^{μ_J + σ_J²/2} − 1: the jumps are compensated, so
//! E\[X_t\] = X_0·e^{g t}. The returns are independent, each with the Gaussian
//! mixture density of `jumps::merton_loglik`, truncated at `max_jumps` jumps.
//!
//! As for the log-OU jump fit (module `jumps`): Nelder–Mead in
//! u = (c, ln σ, ln λ, μ_J, ln σ_J) from the diffusion fit and a few jump
//! intensities, the vanishing penalty of Chen, Tan & Zhang (2008) on the
//! innovation variance σ²Δ against the returns' variance S, and standard errors
//! from the central-difference Hessian of the unpenalised log-likelihood, mapped
//! by the delta method (g through ∂g/∂u). Reported log-likelihoods are
//! unpenalised and are those of the log returns, as the diffusion fit's.

use super::jumps::{merton_loglik, on_box_edge};
use super::log_ou::log_levels;
use super::optim::{hessian, minimize};
use super::spd_inverse;
use crate::engine::Control;
use crate::error::{CoreError, Result};
use std::sync::atomic::Ordering;

/// Parameter names of [`GbmFit::params`], in order.
pub const GBM_PARAM_NAMES: [&str; 5] = ["g", "sigma", "lambda", "mu_j", "sigma_j"];

/// Result of [`fit_gbm_jumps`].
#[derive(Debug, Clone, PartialEq)]
pub struct GbmFit {
    /// (g, σ, λ, μ_J, σ_J) in [`GBM_PARAM_NAMES`] order.
    pub params: [f64; 5],
    /// Standard errors (NaN when the observed information is not positive definite).
    pub std_errs: [f64; 5],
    /// Log-likelihood of the n log returns (natural log, density of ln X).
    pub loglik: f64,
    /// Number of returns n (observations − 1).
    pub n_obs: usize,
    /// Step Δ in years.
    pub dt: f64,
    /// Likelihood evaluations.
    pub evaluations: usize,
    /// The optimiser met its tolerance.
    pub converged: bool,
    /// The observed information was positive definite (standard errors valid).
    pub hessian_ok: bool,
    /// Parameters whose estimate ended on the edge of the search region.
    pub at_bound: [bool; 5],
}

const LN_MIN: f64 = -12.0;

/// The model in u = (c, ln σ, ln λ, μ_J, ln σ_J).
struct Returns<'a> {
    r: &'a [f64],
    dt: f64,
    max_jumps: usize,
}

impl Returns<'_> {
    fn loglik(&self, u: &[f64; 5]) -> f64 {
        let (c, sigma, lambda, mu_j, sigma_j) = (u[0], u[1].exp(), u[2].exp(), u[3], u[4].exp());
        let (r, cdt) = (self.r, c * self.dt);
        merton_loglik(
            r.len(),
            |t| r[t] - cdt,
            sigma * sigma * self.dt,
            lambda * self.dt,
            mu_j,
            sigma_j,
            self.max_jumps,
        )
    }
}

/// g = c + σ²/2 + λ(e^{μ_J + σ_J²/2} − 1) and its gradient in u.
fn growth(u: &[f64; 5]) -> (f64, [f64; 5]) {
    let (c, sigma, lambda, mu_j, sigma_j) = (u[0], u[1].exp(), u[2].exp(), u[3], u[4].exp());
    let e = (mu_j + 0.5 * sigma_j * sigma_j).exp();
    let g = c + 0.5 * sigma * sigma + lambda * (e - 1.0);
    (
        g,
        [
            1.0,
            sigma * sigma,
            lambda * (e - 1.0),
            lambda * e,
            lambda * e * sigma_j * sigma_j,
        ],
    )
}

/// MLE of a GBM with compensated Merton jumps from positive levels observed
/// every `dt` years, the Poisson sum truncated at `max_jumps` (1..=50).
///
/// Errors: bad levels, `dt` or `max_jumps` (`ConfigError` naming them); returns
/// that do not vary, or an optimiser that never found a finite likelihood
/// (`Numerical`).
pub fn fit_gbm_jumps(levels: &[f64], dt: f64, max_jumps: usize, max_evals: usize, control: &Control) -> Result<GbmFit> {
    let x = log_levels(levels, dt)?;
    if !(1..=50).contains(&max_jumps) {
        return Err(CoreError::invalid(
            "max_jumps",
            format!("must be in [1, 50], got {max_jumps}"),
        ));
    }
    let r: Vec<f64> = x.windows(2).map(|p| p[1] - p[0]).collect();
    let n = r.len();
    let mean = r.iter().sum::<f64>() / n as f64;
    let var = r.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64;
    // (a log's rounding is ε·max(1, |x|): levels near 1 have logs near 0)
    let scale = x.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    if var.sqrt() <= 64.0 * f64::EPSILON * scale {
        return Err(CoreError::Numerical(
            "series: the log returns do not vary, so σ = 0 and the likelihood has no maximum".into(),
        ));
    }
    let model = Returns { r: &r, dt, max_jumps };
    // box: λΔ ≤ 2 keeps the truncated Poisson tail small; c within 50 a year of the
    // returns' own drift; σ, λ and σ_J within a world's ranges (as in `jumps::bounds`)
    let c0 = mean / dt;
    let lo = [c0 - 50.0, LN_MIN, LN_MIN, -5.0, LN_MIN];
    let hi = [c0 + 50.0, 10f64.ln(), super::jumps::ln_lambda_max(dt), 5.0, 5f64.ln()];
    let in_box = |u: &[f64; 5]| (0..5).all(|i| u[i] >= lo[i] && u[i] <= hi[i]);
    let a_n = 1.0 / (n as f64).sqrt();
    let as_u = |z: &[f64]| -> [f64; 5] { [z[0], z[1], z[2], z[3], z[4]] };
    let mut objective = |z: &[f64]| {
        let u = as_u(z);
        if !in_box(&u) {
            return f64::INFINITY;
        }
        let s2 = u[1].exp().powi(2) * dt;
        -(model.loglik(&u) - a_n * (var / s2 + (s2 / var).ln()))
    };

    let sig0 = (var / dt).sqrt();
    let s_d = var.sqrt();
    let starts: [(f64, f64, f64); 3] = [(0.8, 0.05, 3.0), (0.5, 0.25, 2.0), (0.25, 0.5, 1.5)];
    let mut best: Option<(Vec<f64>, f64, bool)> = None;
    let mut evals = 0usize;
    for (sig_frac, lam_step, sj_mult) in starts {
        let z0 = [
            c0,
            (sig_frac * sig0).ln().clamp(LN_MIN + 1.0, 2.0),
            (lam_step / dt).ln().clamp(LN_MIN + 1.0, hi[2] - 0.1),
            0.0,
            (sj_mult * s_d).ln().clamp(LN_MIN + 1.0, 1.5),
        ];
        let m = minimize(&mut objective, &z0, 0.3, max_evals, &control.cancel);
        if control.cancel.load(Ordering::Relaxed) {
            return Err(CoreError::Cancelled);
        }
        evals += m.evals;
        if best.as_ref().is_none_or(|b| m.f < b.1) {
            best = Some((m.x, m.f, m.converged));
        }
    }
    let (z, f_best, converged) = best.expect("three starts");
    if !f_best.is_finite() {
        return Err(CoreError::Numerical(
            "series: the jump likelihood is not finite anywhere the optimiser looked".into(),
        ));
    }
    let u = as_u(&z);

    let mut neg_ll = |z: &[f64]| -model.loglik(&as_u(z));
    let h = hessian(&mut neg_ll, &z);
    evals += 2 * 25 + 1;
    let (cov, hessian_ok) = match spd_inverse(&h, 5) {
        Some(inv) => (inv, true),
        None => (vec![f64::NAN; 25], false),
    };
    let (g, grad) = growth(&u);
    let mut var_g = 0.0;
    for i in 0..5 {
        for j in 0..5 {
            var_g += grad[i] * cov[i * 5 + j] * grad[j];
        }
    }
    let se_u = |i: usize| {
        let v = cov[i * 5 + i];
        if v >= 0.0 {
            v.sqrt()
        } else {
            f64::NAN
        }
    };
    let params = [g, u[1].exp(), u[2].exp(), u[3], u[4].exp()];
    let std_errs = [
        if var_g >= 0.0 { var_g.sqrt() } else { f64::NAN },
        params[1] * se_u(1), // d(e^u) = e^u du
        params[2] * se_u(2),
        se_u(3),
        params[4] * se_u(4),
    ];
    let at_bound = std::array::from_fn(|i| on_box_edge(&u, &lo, &hi, i));
    Ok(GbmFit {
        params,
        std_errs,
        loglik: model.loglik(&u),
        n_obs: n,
        dt,
        evaluations: evals,
        converged,
        hessian_ok,
        at_bound,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Uniforms and normals for the tests (a 64-bit LCG, Box–Muller), independent
    /// of the engine's generator.
    struct Lcg(u64);

    impl Lcg {
        fn unit(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }
        fn normal(&mut self) -> f64 {
            (-2.0 * self.unit().ln()).sqrt() * (2.0 * std::f64::consts::PI * self.unit()).cos()
        }
    }

    #[test]
    fn negligible_jumps_give_the_gaussian_likelihood_of_the_returns() {
        let r: Vec<f64> = (0..80).map(|i| 0.01 + 0.05 * ((i as f64) * 0.7).sin()).collect();
        let dt = 1.0 / 12.0;
        let model = Returns {
            r: &r,
            dt,
            max_jumps: 10,
        };
        let (c, sigma) = (0.1, 0.2f64);
        let u = [c, sigma.ln(), -12.0, 0.0, 0.1f64.ln()];
        let v = sigma * sigma * dt;
        let want: f64 = r
            .iter()
            .map(|&x| -0.5 * (2.0 * std::f64::consts::PI * v).ln() - (x - c * dt).powi(2) / (2.0 * v))
            .sum();
        // λΔ = e^{−12}/12: the jump terms change ℓ by about n·λΔ
        assert!((model.loglik(&u) - want).abs() < 1e-4, "{} vs {want}", model.loglik(&u));
    }

    #[test]
    fn growth_gradient_matches_central_differences() {
        let u = [0.03, 0.2f64.ln(), 2.0f64.ln(), -0.08, 0.06f64.ln()];
        let (_, grad) = growth(&u);
        for i in 0..5 {
            let h = 1e-6;
            let (mut up, mut dn) = (u, u);
            up[i] += h;
            dn[i] -= h;
            let fd = (growth(&up).0 - growth(&dn).0) / (2.0 * h);
            assert!((fd - grad[i]).abs() < 1e-8, "{i}: {fd} vs {}", grad[i]);
        }
    }

    #[test]
    fn a_simulated_merton_path_is_recovered_within_four_standard_errors() {
        // monthly, 200 years: g 0.08, σ 0.15, λ 2, μ_J −0.10, σ_J 0.05
        let (g, sigma, lambda, mu_j, sigma_j, dt) = (0.08, 0.15f64, 2.0, -0.10, 0.05f64, 1.0 / 12.0);
        let c = g - 0.5 * sigma * sigma - lambda * ((mu_j + 0.5 * sigma_j * sigma_j).exp() - 1.0);
        let mut rng = Lcg(7);
        let mut levels = vec![100.0f64];
        for t in 0..2400 {
            // the number of jumps: exponential gaps at rate λ within the step
            let (mut count, mut clock) = (0u32, -rng.unit().ln() / lambda);
            while clock <= dt {
                count += 1;
                clock -= rng.unit().ln() / lambda;
            }
            let jumps = count as f64 * mu_j + (count as f64).sqrt() * sigma_j * rng.normal();
            let r = c * dt + sigma * dt.sqrt() * rng.normal() + jumps;
            levels.push(levels[t] * r.exp());
        }
        let fit = fit_gbm_jumps(&levels, dt, 10, 40_000, &Control::default()).unwrap();
        assert!(fit.converged && fit.hessian_ok);
        for (i, want) in [g, sigma, lambda, mu_j, sigma_j].into_iter().enumerate() {
            let (got, se) = (fit.params[i], fit.std_errs[i]);
            assert!(se.is_finite() && se > 0.0, "{}: se {se}", GBM_PARAM_NAMES[i]);
            assert!(
                (got - want).abs() < 4.0 * se,
                "{}: {got} ± {se} vs {want}",
                GBM_PARAM_NAMES[i]
            );
        }
    }
}
