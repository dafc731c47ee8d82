//! The weighted mean and standard deviation of a sample: `stats.weighted_mean`,
//! `stats.weighted_std`, a posterior's summary rows and the group mean of
//! [`super::influence`].
//!
//! One parallel scan checks the sample and finds the largest |x| and w, then
//! one pass per moment sums in the fixed chunks of [`crate::sum`], so that
//! every thread count gives the same bits. The sums run on x·2^a and w·2^b,
//! the powers of two that bring the largest of each into [1/2, 1) (exact
//! scalings): they cannot overflow, whatever the range of the values.

use std::ops::Range;

use rayon::prelude::*;

use crate::simd::multiversion;
use crate::sum::{lanes, sum_ranges, CHUNK};

/// The power of two 2^−(⌊log₂ t⌋ + 1) that brings `t` > 0 into [1/2, 1)
/// (within a rounding of log₂ at the ends; 1 for 0 and non-finite `t`).
fn unit_scale(t: f64) -> f64 {
    if t > 0.0 && t.is_finite() {
        2f64.powi((-(t.log2().floor() as i32) - 1).clamp(-1000, 1000))
    } else {
        1.0
    }
}

/// What a scan of a sample found: the largest |x| and w (NaNs passed over), and
/// whether every x and w is finite and every w ≥ 0.
struct Scan {
    top_x: f64,
    top_w: f64,
    clean: bool,
}

impl Scan {
    fn then(self, b: Scan) -> Scan {
        Scan {
            top_x: self.top_x.max(b.top_x),
            top_w: self.top_w.max(b.top_w),
            clean: self.clean && b.clean,
        }
    }
}

/// [`Scan`] of `x` and `w` (of one length), on all threads for long samples.
fn scan(x: &[f64], w: &[f64]) -> Scan {
    if x.len() <= CHUNK {
        return scan_chunk(x, w);
    }
    let none = || Scan {
        top_x: 0.0,
        top_w: 0.0,
        clean: true,
    };
    x.par_chunks(CHUNK)
        .zip(w.par_chunks(CHUNK))
        .map(|(x, w)| scan_chunk(x, w))
        .reduce(none, Scan::then)
}

multiversion! {
    /// [`Scan`] of `x` and `w` (of one length), in eight lanes that vectorise.
    fn scan_chunk(x: &[f64], w: &[f64]) -> Scan {
        // the largest |x| and w (NaNs passed over), the smallest w, and Σ (0·x + 0·w): NaN
        // once an x or w is not finite (arithmetic, which vectorises where booleans did not)
        let (mut tx, mut tw, mut low, mut nan) = ([0.0f64; 8], [0.0f64; 8], [0.0f64; 8], [0.0f64; 8]);
        let (cx, cw) = (x.chunks_exact(8), w.chunks_exact(8));
        let (rx, rw) = (cx.remainder(), cw.remainder());
        for (a, b) in cx.zip(cw) {
            for l in 0..8 {
                let (v, u) = (a[l].abs(), b[l]);
                tx[l] = if v > tx[l] { v } else { tx[l] };
                tw[l] = if u > tw[l] { u } else { tw[l] };
                low[l] = if u < low[l] { u } else { low[l] };
                nan[l] += a[l] * 0.0 + u * 0.0;
            }
        }
        for (l, (&a, &u)) in rx.iter().zip(rw).enumerate() {
            let v = a.abs();
            tx[l] = if v > tx[l] { v } else { tx[l] };
            tw[l] = if u > tw[l] { u } else { tw[l] };
            low[l] = if u < low[l] { u } else { low[l] };
            nan[l] += a * 0.0 + u * 0.0;
        }
        Scan {
            top_x: tx.into_iter().fold(0.0, f64::max),
            top_w: tw.into_iter().fold(0.0, f64::max),
            clean: low.iter().chain(&nan).all(|&v| v == 0.0),
        }
    }
}

/// Σ (w_i·sw)(x_i·sx) and Σ w_i·sw over the paths `r` ([`lane_sums`] of the fixed
/// chunks of [`crate::sum`], added in order), or with `dev = Some(m)` Σ (w_i·sw)(x_i·sx − m)²
/// in place of the first.
fn scaled_sums(x: &[f64], w: &[f64], r: Range<usize>, sx: f64, sw: f64, dev: Option<f64>) -> [f64; 2] {
    let parts = sum_ranges(r.len(), CHUNK, 2, |c, acc| {
        let c = r.start + c.start..r.start + c.end;
        let [a, b] = lane_sums(&x[c.clone()], &w[c], sx, sw, dev.is_some(), dev.unwrap_or(0.0));
        acc[0] += a;
        acc[1] += b;
    });
    [parts[0], parts[1]]
}

multiversion! {
    /// Σ v_i·(x_i·sx) (with `dev`: Σ v_i·(x_i·sx − m)²) and Σ v_i, v_i = w_i·sw, in the
    /// eight lanes of [`lanes`].
    fn lane_sums(x: &[f64], w: &[f64], sx: f64, sw: f64, dev: bool, m: f64) -> [f64; 2] {
        // (two loops, not a test of `dev` in one: each vectorises)
        if dev {
            lanes(x, w, |x, w| {
                let (v, y) = (w * sw, x * sx - m);
                [v * (y * y), v]
            })
        } else {
            lanes(x, w, |x, w| {
                let v = w * sw;
                [v * (x * sx), v]
            })
        }
    }
}

/// The weighted mean Σ w x / Σ w of `x` over the paths `r` (their values
/// finite, their weights ≥ 0 with a positive sum).
pub(crate) fn group_mean(x: &[f64], w: &[f64], r: Range<usize>) -> f64 {
    let s = scan(&x[r.clone()], &w[r.clone()]);
    let (sx, sw) = (unit_scale(s.top_x), unit_scale(s.top_w));
    let [wx, ws] = scaled_sums(x, w, r, sx, sw, None);
    wx / ws / sx
}

/// The weighted mean of `x` under the weights `w` (of its length) and, with
/// `std`, the square root of the weighted second central moment (no
/// small-sample correction; else 0): None if a value or weight is not finite,
/// a weight is negative, the weights sum to 0 or the lengths differ.
pub fn weighted_moments(x: &[f64], w: &[f64], std: bool) -> Option<(f64, f64)> {
    if x.len() != w.len() {
        return None;
    }
    let s = scan(x, w);
    if !s.clean {
        return None;
    }
    let (sx, sw) = (unit_scale(s.top_x), unit_scale(s.top_w));
    let [wx, ws] = scaled_sums(x, w, 0..x.len(), sx, sw, None);
    if ws <= 0.0 {
        return None;
    }
    let m = wx / ws; // the mean of x·sx
    if !std {
        return Some((m / sx, 0.0));
    }
    let [dev, _] = scaled_sums(x, w, 0..x.len(), sx, sw, Some(m));
    Some((m / sx, (dev / ws).sqrt() / sx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_match_the_formulas_on_any_thread_count() {
        // values over 600 orders of magnitude in scale and uneven weights, past one chunk
        let n = 3 * CHUNK + 5;
        let x: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1013) as f64 * 1e300 - 5e302).collect();
        let w: Vec<f64> = (0..n).map(|i| ((i * 104_729) % 97) as f64 * 1e-300).collect();
        let (m, sd) = weighted_moments(&x, &w, true).unwrap();
        // the formulas written out, on values scaled by hand
        let xs: Vec<f64> = x.iter().map(|v| v * 1e-303).collect();
        let ws: Vec<f64> = w.iter().map(|v| v * 1e300).collect();
        let tw: f64 = ws.iter().sum();
        let mean = xs.iter().zip(&ws).map(|(a, b)| a * b).sum::<f64>() / tw;
        let var = xs
            .iter()
            .zip(&ws)
            .map(|(a, b)| b * (a - mean) * (a - mean))
            .sum::<f64>()
            / tw;
        assert!((m * 1e-303 - mean).abs() <= 1e-12 * mean.abs(), "{m} {mean}");
        assert!((sd * 1e-303 - var.sqrt()).abs() <= 1e-12 * var.sqrt(), "{sd} {var}");
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let got = pool.install(|| weighted_moments(&x, &w, true).unwrap());
            assert_eq!(got.0.to_bits(), m.to_bits());
            assert_eq!(got.1.to_bits(), sd.to_bits());
        }
        // and on every vector tier (no fused multiply-add: the same operations)
        let _pinned = crate::simd::pin();
        for tier in [crate::simd::GENERIC, crate::simd::AVX2, crate::simd::AVX512] {
            let used = crate::simd::set_max_level(tier);
            let got = weighted_moments(&x, &w, true).unwrap();
            assert_eq!(
                (got.0.to_bits(), got.1.to_bits()),
                (m.to_bits(), sd.to_bits()),
                "tier {used}"
            );
        }
        // a value or weight that is not finite, a negative weight, weights that sum to 0
        for (i, bad_x, bad_w) in [
            (5, f64::NAN, 1.0),
            (n - 1, f64::INFINITY, 1.0),
            (CHUNK + 3, 1.0, -1e-300),
        ] {
            let (mut x2, mut w2) = (x.clone(), w.clone());
            x2[i] = bad_x;
            w2[i] = bad_w;
            assert!(weighted_moments(&x2, &w2, false).is_none(), "{i}");
        }
        assert!(weighted_moments(&x, &vec![0.0; n], false).is_none());
        assert!(weighted_moments(&x, &vec![f64::NAN; n], false).is_none());
    }
}
