//! Factor betas by ordinary least squares with classical and Newey–West
//! (HAC) standard errors.
//!
//! Each target column y is regressed on z_t = (1, x_t): β = (ZᵀZ)⁻¹Zᵀy.
//! Classical: Cov β = s²(ZᵀZ)⁻¹ with s² = SSR/(n − k).
//! Newey–West (1987): Cov β = (ZᵀZ)⁻¹ S (ZᵀZ)⁻¹ with the Bartlett-weighted
//!   S = Σ_t u_t² z_t z_tᵀ + Σ_{l=1}^{L} (1 − l/(L+1)) Σ_{t>l} u_t u_{t−l} (z_t z_{t−l}ᵀ + z_{t−l} z_tᵀ),
//! without a small-sample correction (statsmodels' `cov_type="HAC"` with
//! `use_correction=False`); default L = ⌊4 (n/100)^{2/9}⌋.

use ndarray::{Array2, ArrayView1, ArrayView2};

use super::{spd_inverse, MIN_OBS};
use crate::error::{CoreError, Result};

/// Betas of every target column on the same regressors.
#[derive(Debug, Clone, PartialEq)]
pub struct OlsFit {
    /// Observations.
    pub n: usize,
    /// Coefficients per target: the intercept, then one per regressor.
    pub k: usize,
    /// Targets.
    pub m: usize,
    /// m × k, row-major; column 0 is the intercept.
    pub coef: Vec<f64>,
    /// Classical standard errors, m × k.
    pub std_err: Vec<f64>,
    /// Newey–West standard errors, m × k (when asked for).
    pub std_err_nw: Option<Vec<f64>>,
    /// Lags of the Newey–West estimator (0 when not asked for).
    pub nw_lags: usize,
    /// Residual standard deviation sqrt(SSR/(n − k)) per target (per period).
    pub resid_std: Vec<f64>,
    /// R² per target.
    pub r2: Vec<f64>,
}

/// ⌊4 (n/100)^{2/9}⌋, the usual automatic Newey–West lag.
pub fn newey_west_default_lags(n: usize) -> usize {
    (4.0 * (n as f64 / 100.0).powf(2.0 / 9.0)).floor() as usize
}

/// The power of two that brings the largest |value| into [1, 2) (1 for a
/// column of zeros; at most 2^1020 either way).
fn pow2_scale(v: ArrayView1<f64>) -> f64 {
    let m = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if m == 0.0 {
        return 1.0;
    }
    let e = ((m.to_bits() >> 52) as i32 - 1023).clamp(-1020, 1020);
    f64::from_bits(((1023 - e) as u64) << 52)
}

fn check(a: &ArrayView2<f64>, arg: &str) -> Result<()> {
    for ((i, j), v) in a.indexed_iter() {
        if !v.is_finite() {
            return Err(CoreError::invalid(
                arg,
                format!("row {i}, column {j} is {v} (not finite)"),
            ));
        }
    }
    Ok(())
}

/// Regress every column of `y` (n × m) on an intercept and the columns of `x`
/// (n × p). `nw_lags`: `Some(L)` adds Newey–West errors with L lags.
///
/// Errors (`ConfigError`): different row counts, fewer than 24 rows or not
/// more rows than coefficients, non-finite values (naming `asset_returns` or
/// `factor_returns`), and collinear or constant regressors.
pub fn ols(y: ArrayView2<f64>, x: ArrayView2<f64>, nw_lags: Option<usize>) -> Result<OlsFit> {
    let (n, m) = y.dim();
    let p = x.ncols();
    let k = p + 1;
    if x.nrows() != n {
        return Err(CoreError::invalid(
            "factor_returns",
            format!("has {} rows but asset_returns has {n}", x.nrows()),
        ));
    }
    if m == 0 {
        return Err(CoreError::invalid("asset_returns", "has no columns"));
    }
    if p == 0 {
        return Err(CoreError::invalid("factor_returns", "has no columns"));
    }
    if n < MIN_OBS.max(k + 1) {
        return Err(CoreError::invalid(
            "asset_returns",
            format!("needs at least {} observations, got {n}", MIN_OBS.max(k + 1)),
        ));
    }
    check(&y, "asset_returns")?;
    check(&x, "factor_returns")?;
    if let Some(l) = nw_lags {
        if l >= n {
            return Err(CoreError::invalid(
                "lags",
                format!("must be below the {n} observations, got {l}"),
            ));
        }
    }

    // Every column is scaled by a power of two, its largest value into [1, 2),
    // and the results scaled back: the cross-products cannot overflow or
    // underflow whatever the returns' units (1e±300 included). Powers of two
    // commute with rounding, so on ordinary data every result keeps its bits.
    // `scale[i]` multiplies z_i: the intercept's is 1.
    let scale: Vec<f64> = std::iter::once(1.0)
        .chain(x.columns().into_iter().map(pow2_scale))
        .collect();
    let x = Array2::from_shape_fn((n, p), |(t, i)| x[[t, i]] * scale[i + 1]);

    // ZᵀZ with z_t = (1, x_t)
    let z = |t: usize, i: usize| if i == 0 { 1.0 } else { x[[t, i - 1]] };
    let mut ztz = vec![0.0; k * k];
    for t in 0..n {
        for i in 0..k {
            let zi = z(t, i);
            for j in 0..=i {
                ztz[i * k + j] += zi * z(t, j);
            }
        }
    }
    for i in 0..k {
        for j in 0..i {
            ztz[j * k + i] = ztz[i * k + j];
        }
    }
    let inv = spd_inverse(&ztz, k)
        .ok_or_else(|| CoreError::invalid("factor_returns", "columns are collinear or constant (ZᵀZ is singular)"))?;

    let mut fit = OlsFit {
        n,
        k,
        m,
        coef: vec![0.0; m * k],
        std_err: vec![0.0; m * k],
        std_err_nw: nw_lags.map(|_| vec![0.0; m * k]),
        nw_lags: nw_lags.unwrap_or(0),
        resid_std: vec![0.0; m],
        r2: vec![0.0; m],
    };
    let mut u = vec![0.0; n];
    let mut zty = vec![0.0; k];
    let mut s = vec![0.0; k * k];
    for j in 0..m {
        let dy = pow2_scale(y.column(j));
        let yj: Vec<f64> = y.column(j).iter().map(|v| v * dy).collect();
        zty.iter_mut().for_each(|v| *v = 0.0);
        for (t, &yt) in yj.iter().enumerate() {
            for (i, v) in zty.iter_mut().enumerate() {
                *v += z(t, i) * yt;
            }
        }
        let beta: Vec<f64> = (0..k).map(|i| (0..k).map(|l| inv[i * k + l] * zty[l]).sum()).collect();
        let ybar = yj.iter().sum::<f64>() / n as f64;
        let (mut ssr, mut sst) = (0.0, 0.0);
        for t in 0..n {
            u[t] = yj[t] - (0..k).map(|i| beta[i] * z(t, i)).sum::<f64>();
            ssr += u[t] * u[t];
            sst += (yj[t] - ybar).powi(2);
        }
        let s2 = ssr / (n - k) as f64;
        // back to the data's units: β_i and its errors scale by scale[i] / dy
        for i in 0..k {
            fit.coef[j * k + i] = beta[i] * scale[i] / dy;
            fit.std_err[j * k + i] = (s2 * inv[i * k + i]).sqrt() * scale[i] / dy;
        }
        fit.resid_std[j] = s2.sqrt() / dy;
        fit.r2[j] = if sst > 0.0 { 1.0 - ssr / sst } else { f64::NAN };

        if let (Some(lags), Some(out)) = (nw_lags, fit.std_err_nw.as_mut()) {
            // S = Σ_l w_l Σ_t u_t u_{t−l} (z_t z_{t−l}ᵀ + z_{t−l} z_tᵀ), w_0 counted once
            s.iter_mut().for_each(|v| *v = 0.0);
            for l in 0..=lags {
                let w = 1.0 - l as f64 / (lags as f64 + 1.0);
                for t in l..n {
                    let uu = w * u[t] * u[t - l];
                    for a in 0..k {
                        for b in 0..k {
                            let g = z(t, a) * z(t - l, b);
                            s[a * k + b] += if l == 0 {
                                uu * g
                            } else {
                                uu * (g + z(t - l, a) * z(t, b))
                            };
                        }
                    }
                }
            }
            // Cov = inv S inv; only the diagonal is needed
            for i in 0..k {
                let mut v = 0.0;
                for a in 0..k {
                    for b in 0..k {
                        v += inv[i * k + a] * s[a * k + b] * inv[b * k + i];
                    }
                }
                out[j * k + i] = v.max(0.0).sqrt() * scale[i] / dy;
            }
        }
    }
    let values = [&fit.coef, &fit.std_err, &fit.resid_std];
    if values.iter().any(|v| v.iter().any(|x| !x.is_finite())) {
        return Err(CoreError::invalid(
            "asset_returns",
            "the betas or their errors overflow: the asset and factor returns' scales are too far apart",
        ));
    }
    Ok(fit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn exact_linear_data_gives_exact_betas() {
        let n = 40;
        let x = Array2::from_shape_fn((n, 2), |(t, j)| ((t * (j + 3)) as f64 * 0.37).sin());
        let y = Array2::from_shape_fn((n, 1), |(t, _)| {
            0.5 + 1.2 * x[[t, 0]] - 0.3 * x[[t, 1]] + 1e-3 * ((t as f64) * 1.7).cos()
        });
        let fit = ols(y.view(), x.view(), Some(3)).expect("fits");
        assert!((fit.coef[1] - 1.2).abs() < 1e-2 && (fit.coef[2] + 0.3).abs() < 1e-2);
        assert!(fit.std_err_nw.is_some() && fit.r2[0] > 0.99);
    }

    #[test]
    fn default_lags_follow_the_rule() {
        assert_eq!(newey_west_default_lags(100), 4);
        assert_eq!(newey_west_default_lags(74), 3);
        assert_eq!(newey_west_default_lags(1000), 6);
    }

    #[test]
    fn collinear_regressors_are_an_error() {
        let x = Array2::from_shape_fn((30, 2), |(t, j)| (t as f64) * (j + 1) as f64);
        let y = Array2::from_shape_fn((30, 1), |(t, _)| t as f64);
        let e = ols(y.view(), x.view(), None).unwrap_err();
        assert!(e.to_string().starts_with("factor_returns:"), "{e}");
    }

    #[test]
    fn any_units_give_the_same_fit() {
        let n = 60;
        let x = Array2::from_shape_fn((n, 2), |(t, j)| ((t * (j + 3)) as f64 * 0.37).sin());
        let y = Array2::from_shape_fn((n, 2), |(t, j)| {
            0.5 + 1.2 * x[[t, 0]] - 0.3 * x[[t, 1]] + (0.1 + j as f64) * ((t as f64) * 1.7).cos()
        });
        let base = ols(y.view(), x.view(), Some(3)).expect("fits");
        // powers of two commute with rounding: the fit scales bit for bit
        let (cx, cy) = (2f64.powi(-40), 2f64.powi(30));
        let fit = ols((&y * cy).view(), (&x * cx).view(), Some(3)).expect("fits");
        for i in 0..base.coef.len() {
            let f = if i % 3 == 0 { cy } else { cy / cx };
            assert_eq!(fit.coef[i], base.coef[i] * f, "coefficient {i}");
            assert_eq!(fit.std_err[i], base.std_err[i] * f, "error {i}");
            assert_eq!(
                fit.std_err_nw.as_ref().unwrap()[i],
                base.std_err_nw.as_ref().unwrap()[i] * f
            );
        }
        assert_eq!(fit.r2, base.r2);
        // returns in units of 1e±300 (their cross-products would overflow or underflow)
        for (cx, cy) in [(1e300, 1e300), (1e-300, 1e-300), (1e-300, 1e-290), (1e300, 1e295)] {
            let fit = ols((&y * cy).view(), (&x * cx).view(), None).expect("fits");
            for i in 0..base.coef.len() {
                let f = if i % 3 == 0 { cy } else { cy / cx };
                let want = base.coef[i] * f;
                assert!((fit.coef[i] - want).abs() <= 1e-12 * want.abs(), "{cx} {cy}: {i}");
            }
            for (a, b) in fit.r2.iter().zip(&base.r2) {
                assert!((a - b).abs() < 1e-12);
            }
        }
        // betas beyond the largest double are an error, not inf
        let e = ols((&y * 1e300).view(), (&x * 1e-300).view(), None).unwrap_err();
        assert!(e.to_string().starts_with("asset_returns:"), "{e}");
    }
}
