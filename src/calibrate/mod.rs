//! Calibration from history: the log-OU potash model by exact maximum
//! likelihood (with or without Merton jumps) and factor betas by OLS.
//!
//! - [`log_ou`]: x = ln S follows x_{t+1} = a + b·x_t + s·ε, the exact
//!   discretisation of the OU process (MODEL.md §3); its conditional MLE is the
//!   OLS fit of the AR(1), mapped to (κ, θ, σ) with delta-method errors.
//! - [`jumps`]: the same with N ~ Poisson(λΔ) log jumps ~ Normal(μ_J, σ_J)
//!   per step: MLE of the Gaussian-mixture transition density.
//! - [`gbm`](mod@gbm): a GBM factor's log returns with compensated Merton jumps,
//!   by the same mixture likelihood.
//! - [`ols`](mod@ols): betas of asset returns on factor returns, classical and
//!   Newey–West standard errors.
//!
//! Everything here is plain Rust; `src/python/calibrate.rs` is the binding.

pub mod gbm;
pub mod jumps;
pub mod log_ou;
pub mod ols;
mod optim;

pub use gbm::{fit_gbm_jumps, GbmFit, GBM_PARAM_NAMES};
pub use jumps::{fit_log_ou_jumps, JumpOptions};
pub use log_ou::{fit_log_ou, LogOuFit, PARAM_NAMES};
pub use ols::{newey_west_default_lags, ols, OlsFit};

use crate::error::{CoreError, Result};

/// Fewest observations a calibration accepts.
pub const MIN_OBS: usize = 24;

/// `x` as finite values, at least [`MIN_OBS`] of them, or an error naming `arg`.
pub(crate) fn check_finite(x: &[f64], arg: &str) -> Result<()> {
    if x.len() < MIN_OBS {
        return Err(CoreError::invalid(
            arg,
            format!("needs at least {MIN_OBS} observations, got {}", x.len()),
        ));
    }
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err(CoreError::invalid(
            arg,
            format!("observation {i} is {} (not finite)", x[i]),
        ));
    }
    Ok(())
}

/// Inverse of a symmetric positive-definite k×k matrix (row-major) by
/// Cholesky; `None` when it is not positive definite or a pivot falls below
/// 1e-12 of its diagonal entry (numerically singular).
pub(crate) fn spd_inverse(a: &[f64], k: usize) -> Option<Vec<f64>> {
    // A = L Lᵀ
    let mut l = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..=i {
            let mut s = a[i * k + j];
            for p in 0..j {
                s -= l[i * k + p] * l[j * k + p];
            }
            if i == j {
                // a pivot lost to rounding (relative to its diagonal) means numerically singular
                if !s.is_finite() || s <= 1e-12 * a[i * k + i] {
                    return None;
                }
                l[i * k + i] = s.sqrt();
            } else {
                l[i * k + j] = s / l[j * k + j];
            }
        }
    }
    // L⁻¹ by forward substitution, then A⁻¹ = L⁻ᵀ L⁻¹
    let mut li = vec![0.0; k * k];
    for c in 0..k {
        for i in c..k {
            let mut s = if i == c { 1.0 } else { 0.0 };
            for p in c..i {
                s -= l[i * k + p] * li[p * k + c];
            }
            li[i * k + c] = s / l[i * k + i];
        }
    }
    let mut inv = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..=i {
            let s: f64 = (i.max(j)..k).map(|p| li[p * k + i] * li[p * k + j]).sum();
            inv[i * k + j] = s;
            inv[j * k + i] = s;
        }
    }
    Some(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spd_inverse_of_a_known_matrix() {
        let a = [4.0, 2.0, 0.6, 2.0, 2.0, 0.5, 0.6, 0.5, 3.0];
        let inv = spd_inverse(&a, 3).expect("positive definite");
        for i in 0..3 {
            for j in 0..3 {
                let s: f64 = (0..3).map(|p| a[i * 3 + p] * inv[p * 3 + j]).sum();
                assert!((s - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
        assert!(spd_inverse(&[1.0, 2.0, 2.0, 1.0], 2).is_none());
    }

    #[test]
    fn short_or_non_finite_input_is_an_error_naming_the_argument() {
        let e = check_finite(&[1.0; 5], "series").unwrap_err();
        assert!(e.to_string().starts_with("series: needs at least 24"));
        let mut x = vec![1.0; 30];
        x[7] = f64::NAN;
        assert!(check_finite(&x, "series")
            .unwrap_err()
            .to_string()
            .contains("observation 7"));
    }
}
