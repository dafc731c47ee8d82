//! Maximum likelihood of the log-OU model with Merton jumps.
//!
//! Per step (MODEL.md §3) x_{t+1} = a + b·x_t + s·ε + Σ_{k≤N} J_k with
//! N ~ Poisson(λΔ), J_k ~ Normal(μ_J, σ_J²), so the transition density is the
//! Gaussian mixture
//!   f(y | x) = Σ_{n=0}^{n_max} Pois(n; λΔ)·φ(y; a + b·x + n·μ_J, s² + n·σ_J²),
//! truncated at n_max jumps (default 10).
//!
//! The jumps are not compensated, so the long-run mean of x is not ln θ but
//!   m̄ = ln θ + λΔμ_J / (1 − e^{−κΔ}).
//! Holding m̄ (at an AR(1) fit's a/(1 − b), whose intercept already carries the
//! jumps' mean) makes θ follow from the jumps: ln θ = m̄ − λΔμ_J/(1 − e^{−κΔ}).
//!
//! The likelihood is maximised by Nelder–Mead in
//! u = (ln κ, ln θ, ln σ, ln λ, μ_J, ln σ_J) from the diffusion fit and a few
//! jump intensities, and standard errors come from the central-difference
//! Hessian of the log-likelihood in u, mapped to the parameters by the delta
//! method.
//!
//! A Gaussian mixture's likelihood is unbounded when a component's variance
//! tends to zero on tied residuals (sticky quoted prices such as the World
//! Bank potash series, 61% of whose monthly changes 2000–2025 are exactly
//! zero). The objective therefore carries the vanishing penalty of Chen, Tan
//! & Zhang (2008, Statistica Sinica 18, "Inference for normal mixtures in
//! mean and variance"): −a_n·(S/s² + ln(s²/S)) with a_n = n^{−1/2} and S the
//! diffusion fit's innovation variance. It keeps the maximiser finite and is
//! O(n^{−1/2}) against a log-likelihood of order n, so estimates and standard
//! errors are asymptotically those of the MLE. Reported log-likelihoods are
//! unpenalised.

use super::log_ou::{ar1_ols, log_levels, LogOuFit, PARAM_NAMES};
use super::optim::{hessian, minimize};
use super::spd_inverse;
use crate::engine::Control;
use crate::error::{CoreError, Result};
use crate::rng::math;
use crate::simd::multiversion;
use std::sync::atomic::Ordering;

/// Options of [`fit_log_ou_jumps`].
#[derive(Debug, Clone, PartialEq)]
pub struct JumpOptions {
    /// Parameters held at a value instead of estimated, in
    /// [`PARAM_NAMES`] order (κ, θ as a level, σ, λ, μ_J, σ_J).
    pub fixed: [Option<f64>; 6],
    /// Truncation of the Poisson sum (1..=50).
    pub max_jumps: usize,
    /// The long-run mean m̄ of x = ln X held (instead of θ, which then follows
    /// from it and the jumps); `fixed[1]` must then be None.
    pub log_mean: Option<f64>,
    /// Likelihood evaluations allowed per optimiser start.
    pub max_evals: usize,
}

impl Default for JumpOptions {
    fn default() -> Self {
        JumpOptions {
            fixed: [None; 6],
            max_jumps: 10,
            log_mean: None,
            max_evals: 40_000,
        }
    }
}

// box of the search in u = (ln κ, m, ln σ, ln λ, μ_J, ln σ_J); outside, the objective is +∞
const LN_MIN: f64 = -12.0;

/// Lower and upper corners of the search box in u. λΔ ≤ 2 keeps the
/// truncated Poisson tail below 1e-5. The model is the same for a series
/// scaled by any constant, save θ: the box of m = ln θ holds [−50, 50] and
/// reaches 50 past the series' mean log level `centre` either way. σ, λ and σ_J
/// stay within the ranges a world takes (σ ≤ 10, λ ≤ 120, σ_J ≤ 5); κ runs to
/// e^7 ≈ 1097 a year, a little past a world's 1000 (where a fit says so).
fn bounds(dt: f64, centre: f64) -> ([f64; 6], [f64; 6]) {
    (
        [LN_MIN, (centre - 50.0).min(-50.0), LN_MIN, LN_MIN, -5.0, LN_MIN],
        [
            7.0,
            (centre + 50.0).max(50.0),
            10f64.ln(),
            ln_lambda_max(dt),
            5.0,
            5f64.ln(),
        ],
    )
}

/// The largest ln λ a fit searches: λΔ ≤ 2, and λ ≤ 120 a year as in a world.
pub(super) fn ln_lambda_max(dt: f64) -> f64 {
    (2.0 / dt).min(120.0).ln()
}

/// `Err` naming `fixed.<name>` when a held value lies outside the search box
/// `lo..hi` (u-coordinates: logs except μ_J), which would leave the likelihood
/// infinite everywhere the optimiser looks.
fn check_fixed_in_box(fixed: &[Option<f64>; 6], lo: &[f64; 6], hi: &[f64; 6], dt: f64) -> Result<()> {
    let short = |v: f64| crate::error::number(format!("{v:.4e}").parse().unwrap_or(v));
    let names = PARAM_NAMES;
    for (i, v) in fixed.iter().enumerate() {
        let Some(v) = *v else { continue };
        let (u, is_log) = if names[i] == "mu_j" { (v, false) } else { (v.ln(), true) };
        if u >= lo[i] && u <= hi[i] {
            continue;
        }
        let at = |b: f64| short(if is_log { b.exp() } else { b });
        let why = if names[i] == "lambda" {
            format!(" (λ ≤ 120 a year and λΔ ≤ 2, with Δ = {} years)", short(dt))
        } else {
            String::new()
        };
        return Err(CoreError::invalid(
            format!("fixed.{}", names[i]),
            format!(
                "must be in [{}, {}] for this fit{why}, got {}",
                at(lo[i]),
                at(hi[i]),
                crate::error::number(v)
            ),
        ));
    }
    Ok(())
}

fn in_box(u: &[f64; 6], lo: &[f64; 6], hi: &[f64; 6]) -> bool {
    (0..6).all(|i| u[i] >= lo[i] && u[i] <= hi[i])
}

/// The transition model in u-coordinates.
struct Mixture<'a> {
    x: &'a [f64],
    dt: f64,
    max_jumps: usize,
    /// m̄ held: ln θ follows from it and the jumps instead of being `u[1]`
    log_mean: Option<f64>,
}

impl Mixture<'_> {
    /// Innovation variance s² of the diffusion part (exact OU step).
    fn s2(&self, u: &[f64; 6]) -> f64 {
        let (kappa, sigma) = (u[0].exp(), u[2].exp());
        // s² = σ²(1 − e^{−2κΔ})/(2κ)
        sigma * sigma * (-(-2.0 * kappa * self.dt).exp_m1()) / (2.0 * kappa)
    }

    /// ln θ: `u[1]`, or from the held long-run mean m̄ and the jumps' drift.
    fn ln_theta(&self, u: &[f64; 6]) -> f64 {
        match self.log_mean {
            None => u[1],
            // ln θ = m̄ − λΔμ_J / (1 − e^{−κΔ})
            Some(mbar) => mbar - u[3].exp() * self.dt * u[4] / -(-u[0].exp() * self.dt).exp_m1(),
        }
    }

    /// ∂ ln θ / ∂u with the long-run mean held (zero otherwise but for ∂/∂`u[1]` = 1):
    /// with c = λΔ/(1 − b), b = e^{−κΔ}: ∂/∂μ_J = −c, ∂/∂ln λ = −cμ_J,
    /// ∂/∂ln κ = cμ_J·κΔb/(1 − b).
    fn ln_theta_grad(&self, u: &[f64; 6]) -> [f64; 6] {
        let mut grad = [0.0f64; 6];
        if self.log_mean.is_none() {
            grad[1] = 1.0;
            return grad;
        }
        let (kappa, lambda) = (u[0].exp(), u[3].exp());
        let b = (-kappa * self.dt).exp();
        let c = lambda * self.dt / (1.0 - b);
        grad[0] = c * u[4] * kappa * self.dt * b / (1.0 - b);
        grad[3] = -c * u[4];
        grad[4] = -c;
        grad
    }

    /// Log-likelihood of x_1..x_n given x_0.
    fn loglik(&self, u: &[f64; 6]) -> f64 {
        let (kappa, m, lambda, mu_j, sigma_j) = (u[0].exp(), self.ln_theta(u), u[3].exp(), u[4], u[5].exp());
        let b = (-kappa * self.dt).exp();
        let a = m * (-(-kappa * self.dt).exp_m1()); // a = m(1 − e^{−κΔ})
        let x = self.x;
        let resid = |t: usize| x[t + 1] - a - b * x[t];
        merton_loglik(
            x.len() - 1,
            resid,
            self.s2(u),
            lambda * self.dt,
            mu_j,
            sigma_j,
            self.max_jumps,
        )
    }
}

/// Residuals per block of [`mixture_block`]: small enough that a block's
/// terms stay in the first-level cache, long enough to vectorise.
const BLOCK: usize = 64;

/// Residuals per task of the parallel sum: 32 blocks, so that a daily series of
/// a few decades splits into enough tasks to keep every thread busy.
const CHUNK: usize = 32 * BLOCK;

/// A mixture component whose terms all lie more than `SKIP` below their
/// residuals' largest term is left out of the sum: e^{−40} < 2^{−57}.
const SKIP: f64 = 40.0;

/// Σ_t ln Σ_{n=0}^{max_jumps} Pois(n; λΔ)·φ(r_t; n·μ_J, s² + n·σ_J²): the
/// log-likelihood of the `n` residuals `resid(0..n)`, each a Normal(0, s²)
/// innovation plus a Poisson(λΔ) number of Normal(μ_J, σ_J²) jumps
/// (`max_jumps` ≤ 50).
///
/// Each residual's mixture is summed stably as top + ln Σ_n e^{ℓ_n − top}
/// with top = max_n ℓ_n; blocks of [`BLOCK`] residuals run vectorised, and
/// chunks of [`CHUNK`] residuals are summed in order ([`crate::sum`]), so the
/// value has the same bits for any number of threads.
pub(super) fn merton_loglik(
    n: usize,
    resid: impl Fn(usize) -> f64 + Sync,
    s2: f64,
    lambda_dt: f64,
    mu_j: f64,
    sigma_j: f64,
    max_jumps: usize,
) -> f64 {
    let k = max_jumps + 1;
    let mut c = [0.0f64; 51]; // ln Pois(n) − ½ ln(2π v_n)
    let mut w = [0.0f64; 51]; // 1 / (2 v_n)
    let mut log_fact = 0.0;
    for n in 0..k {
        if n > 0 {
            log_fact += (n as f64).ln();
        }
        let v = s2 + n as f64 * sigma_j * sigma_j;
        c[n] = -lambda_dt + n as f64 * lambda_dt.ln() - log_fact - 0.5 * (2.0 * std::f64::consts::PI * v).ln();
        w[n] = 0.5 / v;
    }
    crate::sum::sum_ranges(n, CHUNK, 1, |range, acc| {
        let mut r = [0.0f64; BLOCK];
        let mut terms = vec![[0.0f64; BLOCK]; k];
        for start in range.clone().step_by(BLOCK) {
            let len = BLOCK.min(range.end - start);
            for (i, v) in r[..len].iter_mut().enumerate() {
                *v = resid(start + i);
            }
            acc[0] += mixture_block(&r[..len], &c[..k], &w[..k], mu_j, &mut terms);
        }
    })[0]
}

multiversion! {
    /// Σ_i ln Σ_n e^{c_n − w_n (r_i − n·μ_J)²} over a block of at most
    /// [`BLOCK`] residuals, in index order.
    fn mixture_block(r: &[f64], c: &[f64], w: &[f64], mu_j: f64, terms: &mut [[f64; BLOCK]]) -> f64 {
        let len = r.len();
        let mut top = [f64::NEG_INFINITY; BLOCK];
        for (n, row) in terms.iter_mut().enumerate() {
            let (cn, wn, shift) = (c[n], w[n], n as f64 * mu_j);
            for i in 0..len {
                let e = r[i] - shift;
                let t = cn - wn * e * e;
                row[i] = t;
                top[i] = top[i].max(t);
            }
        }
        // a component whose every term lies e^40 below its residual's top adds less than
        // 2^-57 of a sum that is at least 1: dropped (its terms are at most c_n)
        let floor = top[..len].iter().fold(f64::INFINITY, |m, &t| m.min(t)) - SKIP;
        let mut sum = [0.0f64; BLOCK];
        for (row, _) in terms.iter().zip(c).filter(|(_, &cn)| cn >= floor) {
            for i in 0..len {
                sum[i] += math::exp(row[i] - top[i]);
            }
        }
        let mut acc = 0.0;
        for i in 0..len {
            // sum ≥ 1 (the top term is e^0), so ln's argument is a positive normal
            acc += top[i] + math::ln(sum[i]);
        }
        acc
    }
}

/// Whether coordinate `i` of an optimum `u` ended on the search box `lo..hi` (within
/// 1e-3 of an edge): not an interior maximum, reported as `at_bound`.
pub(super) fn on_box_edge(u: &[f64], lo: &[f64], hi: &[f64], i: usize) -> bool {
    (u[i] - lo[i]).abs() < 1e-3 || (hi[i] - u[i]).abs() < 1e-3
}

fn check_fixed(fixed: &[Option<f64>; 6]) -> Result<()> {
    for (i, v) in fixed.iter().enumerate() {
        let Some(v) = *v else { continue };
        let name = PARAM_NAMES[i];
        let ok = match i {
            4 => v.is_finite() && v.abs() <= 5.0,
            _ => v.is_finite() && v > 0.0,
        };
        if !ok {
            let rule = if i == 4 {
                "a finite number in [-5, 5]"
            } else {
                "a finite number > 0"
            };
            return Err(CoreError::invalid(
                format!("fixed.{name}"),
                format!("must be {rule}, got {v}"),
            ));
        }
    }
    Ok(())
}

/// MLE of the log-OU model with Merton jumps from positive levels observed
/// every `dt` years. Parameters in `opts.fixed` are held at their values.
///
/// Errors: as [`super::fit_log_ou`], plus a bad fixed value or `max_jumps`
/// (`ConfigError`), and an optimiser that never found a finite likelihood
/// (`Numerical`).
pub fn fit_log_ou_jumps(levels: &[f64], dt: f64, opts: &JumpOptions, control: &Control) -> Result<LogOuFit> {
    let x = log_levels(levels, dt)?;
    if !(1..=50).contains(&opts.max_jumps) {
        return Err(CoreError::invalid(
            "max_jumps",
            format!("must be in [1, 50], got {}", opts.max_jumps),
        ));
    }
    check_fixed(&opts.fixed)?;
    if let Some(mbar) = opts.log_mean {
        if opts.fixed[1].is_some() {
            return Err(CoreError::invalid("fixed.theta", "conflicts with a held long-run mean"));
        }
        if !mbar.is_finite() {
            return Err(CoreError::invalid("log_mean", format!("must be finite, got {mbar}")));
        }
    }
    let n = x.len() - 1;
    let x_mean = x.iter().sum::<f64>() / x.len() as f64;
    let (lo, hi) = bounds(dt, x_mean);
    check_fixed_in_box(&opts.fixed, &lo, &hi, dt)?;
    let model = Mixture {
        x: &x,
        dt,
        max_jumps: opts.max_jumps,
        log_mean: opts.log_mean,
    };

    // diffusion start (κ_d, m_d, σ_d) and its innovation variance S for the penalty
    let (k0, m0, sig0, s2_d) = match ar1_ols(&x) {
        Ok((a, b, s2, _, _)) => {
            let k = -b.ln() / dt;
            (k, a / (1.0 - b), (s2 * 2.0 * k / (1.0 - b * b)).sqrt(), s2)
        }
        Err(e) => {
            if opts.fixed[0].is_none() || opts.fixed[1].is_none() {
                return Err(e);
            }
            let d: Vec<f64> = x.windows(2).map(|p| p[1] - p[0]).collect();
            let md = d.iter().sum::<f64>() / n as f64;
            let v = d.iter().map(|v| (v - md) * (v - md)).sum::<f64>() / n as f64;
            (1.0, x_mean, (v / dt).sqrt(), v)
        }
    };
    let s_d = s2_d.sqrt();
    let a_n = 1.0 / (n as f64).sqrt();

    // held: the fixed values, and θ when the long-run mean is held
    let mut held = opts.fixed.map(|v| v.is_some());
    held[1] |= opts.log_mean.is_some();
    let free: Vec<usize> = (0..6).filter(|&i| !held[i]).collect();
    let mut base = [0.0f64; 6];
    for (i, v) in opts.fixed.iter().enumerate() {
        if let Some(v) = *v {
            base[i] = if i == 4 { v } else { v.ln() }; // u-coordinates: logs except μ_J
        }
    }
    let assemble = |z: &[f64]| {
        let mut u = base;
        for (k, &i) in free.iter().enumerate() {
            u[i] = z[k];
        }
        u
    };
    let mut objective = |z: &[f64]| {
        let u = assemble(z);
        if !in_box(&u, &lo, &hi) {
            return f64::INFINITY;
        }
        let s2 = model.s2(&u);
        let penalty = -a_n * (s2_d / s2 + (s2 / s2_d).ln());
        -(model.loglik(&u) + penalty)
    };

    // starts: the diffusion fit with a few jump intensities and sizes
    let ln_lambda_max = hi[3];
    let starts: [(f64, f64, f64); 3] = [(0.8, 0.05, 3.0), (0.5, 0.25, 2.0), (0.25, 0.5, 1.5)];
    let mut best: Option<(Vec<f64>, f64, usize, bool)> = None;
    let mut evals = 0usize;
    for (sig_frac, lam_step, sj_mult) in starts {
        let u0 = [
            k0.ln().clamp(LN_MIN + 1.0, 6.0),
            m0,
            (sig_frac * sig0).ln().clamp(LN_MIN + 1.0, 2.0),
            (lam_step / dt).ln().clamp(LN_MIN + 1.0, ln_lambda_max - 0.1),
            0.0,
            (sj_mult * s_d).ln().clamp(LN_MIN + 1.0, 1.5),
        ];
        let z0: Vec<f64> = free.iter().map(|&i| u0[i]).collect();
        if z0.is_empty() {
            break;
        }
        let m = minimize(&mut objective, &z0, 0.3, opts.max_evals, &control.cancel);
        if control.cancel.load(Ordering::Relaxed) {
            return Err(CoreError::Cancelled);
        }
        evals += m.evals;
        if best.as_ref().is_none_or(|b| m.f < b.1) {
            best = Some((m.x, m.f, m.evals, m.converged));
        }
    }
    let (z, f_best, converged) = match best {
        Some((z, f, _, c)) => (z, f, c),
        None => (Vec::new(), objective(&[]), true), // everything fixed
    };
    if !f_best.is_finite() {
        return Err(CoreError::Numerical(
            "series: the jump likelihood is not finite anywhere the optimiser looked".into(),
        ));
    }
    let u = assemble(&z);

    // observed information in the free u-coordinates (unpenalised log-likelihood)
    let mut neg_ll = |z: &[f64]| {
        let u = assemble(z);
        -model.loglik(&u)
    };
    let d = free.len();
    let (cov_u, hessian_ok) = if d == 0 {
        (Vec::new(), true)
    } else {
        let h = hessian(&mut neg_ll, &z);
        evals += 2 * d * d + 1;
        match spd_inverse(&h, d) {
            Some(inv) => (inv, true),
            None => (vec![f64::NAN; d * d], false),
        }
    };
    let mut se_u = [f64::NAN; 6];
    for (k, &i) in free.iter().enumerate() {
        let v = cov_u[k * d + k];
        se_u[i] = if v >= 0.0 { v.sqrt() } else { f64::NAN };
    }
    let nat = |i: usize| if i == 1 || i == 4 { u[i] } else { u[i].exp() };
    let m = model.ln_theta(&u);
    let theta = m.exp();
    let grad = model.ln_theta_grad(&u);
    if opts.log_mean.is_some() {
        // ln θ's standard error by the delta method through the free ones of κ, λ and
        // μ_J (the held mean's own error, and a held κ's, are the caller's: they come
        // from another fit)
        let mut var = 0.0;
        for (k, &i) in free.iter().enumerate() {
            for (l, &j) in free.iter().enumerate() {
                var += grad[i] * cov_u[k * d + l] * grad[j];
            }
        }
        se_u[1] = if var >= 0.0 { var.sqrt() } else { f64::NAN };
    }
    let mut params = [0.0; 6];
    let mut std_errs = [f64::NAN; 6];
    for i in 0..6 {
        params[i] = if i == 1 { theta } else { nat(i) };
        // d(e^u) = e^u du; θ = e^m; μ_J is linear
        std_errs[i] = match i {
            4 => se_u[i],
            _ => params[i] * se_u[i],
        };
    }
    // fixed values are reported exactly as given
    for (i, v) in opts.fixed.iter().enumerate() {
        if let Some(v) = *v {
            params[i] = v;
        }
    }
    // a free coordinate that ended on the search box is not an interior maximum
    let mut at_bound = [false; 6];
    for &i in &free {
        at_bound[i] = on_box_edge(&u, &lo, &hi, i);
    }
    let kappa = u[0].exp();
    let b = (-kappa * dt).exp();
    Ok(LogOuFit {
        params,
        std_errs,
        fixed: held,
        jumps: true,
        log_mean: m,
        log_mean_se: se_u[1],
        ln_theta_grad: grad,
        ar: [m * (1.0 - b), b, model.s2(&u).sqrt()],
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
    use crate::simd;

    #[test]
    fn mixture_with_negligible_jumps_matches_the_gaussian_ar1() {
        let x: Vec<f64> = (0..60).map(|i| 5.0 + 0.1 * ((i as f64) * 0.7).sin()).collect();
        let model = Mixture {
            x: &x,
            dt: 1.0 / 12.0,
            max_jumps: 10,
            log_mean: None,
        };
        let u = [0.5f64.ln(), 5.0, 0.3f64.ln(), -12.0, 0.0, 0.1f64.ln()];
        let (kappa, dt) = (0.5f64, 1.0 / 12.0);
        let b = (-kappa * dt).exp();
        let s2 = 0.09 * (1.0 - b * b) / (2.0 * kappa);
        let want: f64 = x
            .windows(2)
            .map(|p| {
                let r = p[1] - 5.0 * (1.0 - b) - b * p[0];
                -0.5 * (2.0 * std::f64::consts::PI * s2).ln() - r * r / (2.0 * s2)
            })
            .sum();
        // λΔ = e^{−12}/12: the jump terms change ℓ by about n·λΔ
        assert!((model.loglik(&u) - want).abs() < 1e-4, "{} vs {want}", model.loglik(&u));
    }

    #[test]
    fn a_held_long_run_mean_sets_theta_through_the_jumps_drift() {
        let x: Vec<f64> = (0..80).map(|i| 5.0 + 0.2 * ((i as f64) * 0.7).sin()).collect();
        let dt = 1.0 / 12.0;
        let held = Mixture {
            x: &x,
            dt,
            max_jumps: 10,
            log_mean: Some(5.1),
        };
        let free = Mixture { log_mean: None, ..held };
        // κ = 0.5, λ = 3, μ_J = 0.04: ln θ = 5.1 − λΔμ_J/(1 − e^{−κΔ})
        let mut u = [0.5f64.ln(), 0.0, 0.2f64.ln(), 3.0f64.ln(), 0.04, 0.1f64.ln()];
        let ln_theta = 5.1 - 3.0 * dt * 0.04 / (1.0 - (-0.5 * dt).exp());
        assert!((held.ln_theta(&u) - ln_theta).abs() < 1e-12);
        let l_held = held.loglik(&u);
        // the delta method's gradient against central differences of ln θ
        let grad = held.ln_theta_grad(&u);
        for i in [0, 3, 4] {
            let h = 1e-6;
            let (mut up, mut down) = (u, u);
            up[i] += h;
            down[i] -= h;
            let numeric = (held.ln_theta(&up) - held.ln_theta(&down)) / (2.0 * h);
            assert!(
                (grad[i] - numeric).abs() < 1e-7 * (1.0 + numeric.abs()),
                "{i}: {} vs {numeric}",
                grad[i]
            );
        }
        assert_eq!(grad[2] + grad[5] + grad[1], 0.0);
        u[1] = ln_theta;
        assert_eq!(l_held, free.loglik(&u));

        // the fit keeps the identity, and counts θ as held
        let levels: Vec<f64> = x.iter().map(|v| v.exp()).collect();
        let mut opts = JumpOptions {
            log_mean: Some(5.1),
            ..JumpOptions::default()
        };
        opts.fixed[0] = Some(0.5);
        let fit = fit_log_ou_jumps(&levels, dt, &opts, &Control::default()).unwrap();
        let [kappa, theta, _, lambda, mu_j, _] = fit.params;
        let drift = lambda * dt * mu_j / (1.0 - (-kappa * dt).exp());
        assert!((theta.ln() + drift - 5.1).abs() < 1e-12, "{theta} {drift}");
        assert_eq!(fit.fixed, [true, true, false, false, false, false]);
        assert!(fit.std_errs[1].is_finite() || !fit.hessian_ok);
        opts.fixed[1] = Some(150.0);
        let e = fit_log_ou_jumps(&levels, dt, &opts, &Control::default()).unwrap_err();
        assert!(e.to_string().starts_with("fixed.theta:"), "{e}");
    }

    /// ln Σ_n Pois(n; λΔ)·φ(r; nμ_J, s² + nσ_J²) of one residual, term by term.
    fn direct(r: f64, s2: f64, lambda_dt: f64, mu_j: f64, sigma_j: f64, max_jumps: usize) -> f64 {
        let mut density = 0.0;
        let mut pois = (-lambda_dt).exp();
        for n in 0..=max_jumps {
            if n > 0 {
                pois *= lambda_dt / n as f64;
            }
            let v = s2 + n as f64 * sigma_j * sigma_j;
            let e = r - n as f64 * mu_j;
            density += pois * (-e * e / (2.0 * v)).exp() / (2.0 * std::f64::consts::PI * v).sqrt();
        }
        density.ln()
    }

    #[test]
    fn the_blocked_likelihood_is_the_direct_sum_with_the_same_bits_on_any_threads() {
        // residuals of a few hundred blocks, some far in the tails, and a last block cut short
        let n = 7 * CHUNK + 3 * BLOCK + 5;
        let resid = |t: usize| {
            let u = ((t * 7919 + 13) % 10_007) as f64 / 10_007.0 - 0.5;
            if t.is_multiple_of(97) {
                0.4 * u - 0.1
            } else {
                0.03 * u
            }
        };
        for (lambda_dt, max_jumps) in [(1e-4, 10), (0.05, 10), (1.5, 30), (2.0, 1)] {
            let (s2, mu_j, sigma_j) = (1e-4, -0.08, 0.12);
            let want: f64 = (0..n)
                .map(|t| direct(resid(t), s2, lambda_dt, mu_j, sigma_j, max_jumps))
                .sum();
            let got = merton_loglik(n, resid, s2, lambda_dt, mu_j, sigma_j, max_jumps);
            assert!(
                (got - want).abs() < 1e-11 * want.abs(),
                "λΔ {lambda_dt}: {got} vs {want}"
            );
            for threads in [1, 2, 3] {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                let again = pool.install(|| merton_loglik(n, resid, s2, lambda_dt, mu_j, sigma_j, max_jumps));
                assert_eq!(again.to_bits(), got.to_bits(), "{threads} threads");
            }
            // and on every vector tier (no fused multiply-add: the same operations)
            let _pinned = simd::pin();
            for tier in [simd::GENERIC, simd::AVX2, simd::AVX512] {
                let used = simd::set_max_level(tier);
                let again = merton_loglik(n, resid, s2, lambda_dt, mu_j, sigma_j, max_jumps);
                assert_eq!(again.to_bits(), got.to_bits(), "tier {used}");
            }
        }
    }

    #[test]
    fn bad_fixed_values_name_the_parameter() {
        let levels: Vec<f64> = (0..40).map(|i| 300.0 + 20.0 * ((i as f64) * 0.9).sin()).collect();
        let mut opts = JumpOptions::default();
        opts.fixed[2] = Some(-1.0);
        let e = fit_log_ou_jumps(&levels, 1.0 / 12.0, &opts, &Control::default()).unwrap_err();
        assert!(e.to_string().starts_with("fixed.sigma:"), "{e}");
        opts.fixed[2] = None;
        opts.max_jumps = 0;
        assert!(fit_log_ou_jumps(&levels, 1.0 / 12.0, &opts, &Control::default())
            .unwrap_err()
            .to_string()
            .starts_with("max_jumps:"));
    }
}
