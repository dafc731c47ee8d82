//! The Monte Carlo standard error of a posterior's weighted mean (entropy
//! pooling, docs/MODEL.md §6), counting the views' multipliers fitted to the
//! same paths: `stats._weighted_mean_se` of the Python layer, in a few
//! parallel passes over the paths instead of a dozen NumPy ones.
//!
//! On the group's paths G (a scenario, or all) of weight `mass`, with posterior
//! weights q, the estimate's linearisation gives each path the term
//!   z_i = q_i (d_i − (f_i − f̄)ᵀ S⁻¹ C),   d_i = [i ∈ G](x_i − m)/mass,
//!   C = Σ_i q_i d_i (f_i − f̄),
//! the regression residual of a calibration estimator (Deville & Särndal 1992),
//! where f_i − f̄ are the binding views' functions centred at their posterior
//! means and S their posterior covariance. The error is that of Σ_i z_i over
//! scenarios sampled in blocks of fixed size:
//!   sqrt(Σ_h U_h/(U_h − 1) Σ_{u∈h} (z_u − z̄_h)²)
//! over each block's U_h draws u (its paths, or its consecutive antithetic
//! pairs, z_u the pair's sum).

use std::ops::Range;

use rayon::prelude::*;

use crate::error::{CoreError, Result};
use crate::sum::{lanes, sum_ranges, CHUNK};

use super::weighted::group_mean;

/// The design of a posterior's binding views: their centred functions
/// `ft` (k rows of n, row-major) and S⁻¹ (k × k, row-major).
pub struct Design<'a> {
    pub ft: &'a [f64],
    pub k: usize,
    pub s_inv: &'a [f64],
}

/// Σ a_i·b_i in the eight lanes of [`lanes`].
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let b = &b[..a.len()];
    lanes(a.len(), |i| [a[i] * b[i]])[0]
}

/// Σ f(a_i) in the eight lanes of [`lanes`].
fn lane_sum(a: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    lanes(a.len(), |i| [f(a[i])])[0]
}

/// Count, mean and sum of squared deviations of some draws (Chan, Golub &
/// LeVeque 1983: two such summaries combine exactly), and whether any was not 0.
#[derive(Clone, Copy)]
struct Moments {
    n: f64,
    mean: f64,
    m2: f64,
    nonzero: bool,
}

impl Moments {
    /// Of the draws `e`, in two passes over them.
    fn of(e: &[f64]) -> Moments {
        let n = e.len() as f64;
        let mean = lane_sum(e, |v| v) / n;
        Moments {
            n,
            mean,
            m2: lane_sum(e, |v| (v - mean) * (v - mean)),
            nonzero: e.iter().any(|&v| v != 0.0),
        }
    }

    /// Of the draws of `self` and then `b`.
    fn then(self, b: Moments) -> Moments {
        if self.n == 0.0 {
            return b;
        }
        let n = self.n + b.n;
        let delta = b.mean - self.mean;
        Moments {
            n,
            mean: self.mean + delta * (b.n / n),
            m2: self.m2 + b.m2 + delta * delta * (self.n * b.n / n),
            nonzero: self.nonzero || b.nonzero,
        }
    }
}

/// The standard error of the weighted mean of `x` over the paths `group`
/// of weight `mass`, under the posterior weights `w` that `design` fitted
/// (module docs). `blocks` are the scenarios' paths, in order; `pairs`:
/// antithetic draws. NaN when a block that moves the estimate has a single draw.
///
/// Two passes over the paths, in the fixed chunks of [`crate::sum`] on all threads: C,
/// then each block's z_u summarised chunk by chunk (`Moments`), the chunks'
/// summaries combined in order.
#[allow(clippy::too_many_arguments)]
pub fn calibrated_mean_se(
    x: &[f64],
    w: &[f64],
    group: Range<usize>,
    mass: f64,
    design: &Design<'_>,
    blocks: &[Range<usize>],
    pairs: bool,
) -> Result<f64> {
    let n = x.len();
    let k = design.k;
    if w.len() != n || design.ft.len() != k * n || design.s_inv.len() != k * k {
        return Err(CoreError::invalid("design", "shapes do not match the paths"));
    }
    let outside = |r: &Range<usize>| r.start > r.end || r.end > n;
    if outside(&group) {
        return Err(CoreError::invalid("group", "must lie within the paths"));
    }
    if blocks.iter().any(outside) {
        return Err(CoreError::invalid("blocks", "must lie within the paths"));
    }
    let ft = |j: usize, r: &Range<usize>| &design.ft[j * n + r.start..j * n + r.end];
    let mean = group_mean(x, w, group.clone());
    // q_i d_i of the paths `r` (0 off the group)
    let own = |r: &Range<usize>, out: &mut Vec<f64>| {
        out.clear();
        out.resize(r.len(), 0.0);
        let (a, b) = (r.start.max(group.start), r.end.min(group.end));
        if a < b {
            let on = &mut out[a - r.start..b - r.start];
            for ((o, xi), wi) in on.iter_mut().zip(&x[a..b]).zip(&w[a..b]) {
                *o = wi * ((xi - mean) / mass);
            }
        }
    };
    // C_j = Σ_{i∈G} q_i d_i f_ji
    let g0 = group.start;
    let c = sum_ranges(group.len(), CHUNK, k, |r, acc| {
        let r = g0 + r.start..g0 + r.end;
        let mut wd = Vec::with_capacity(r.len());
        own(&r, &mut wd);
        for (j, a) in acc.iter_mut().enumerate() {
            *a += dot(&wd, ft(j, &r));
        }
    });
    // β = S⁻¹ C
    let beta: Vec<f64> = (0..k)
        .map(|j| (0..k).fold(0.0, |s, l| s + design.s_inv[j * k + l] * c[l]))
        .collect();
    let per = if pairs { 2 } else { 1 };
    let mut se2 = 0.0;
    for blk in blocks {
        let draws = blk.len() / per;
        let parts: Vec<Moments> = (0..draws.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                // z_i = q_i d_i − q_i Σ_j f_ji β_j of the chunk's paths
                let r = blk.start + c * CHUNK * per..blk.start + ((c + 1) * CHUNK).min(draws) * per;
                let mut fit = vec![0.0; r.len()];
                for (j, &b) in beta.iter().enumerate() {
                    for (v, f) in fit.iter_mut().zip(ft(j, &r)) {
                        *v += f * b;
                    }
                }
                let mut z = Vec::with_capacity(r.len());
                own(&r, &mut z);
                for ((v, f), q) in z.iter_mut().zip(&fit).zip(&w[r.clone()]) {
                    *v -= q * f;
                }
                if pairs {
                    let e: Vec<f64> = z.chunks_exact(2).map(|p| p[0] + p[1]).collect();
                    Moments::of(&e)
                } else {
                    Moments::of(&z)
                }
            })
            .collect();
        let m = parts.into_iter().fold(Moments::of(&[]), Moments::then);
        if !m.nonzero {
            continue; // the block does not move the estimate
        }
        if draws < 2 {
            return Ok(f64::NAN);
        }
        se2 += draws as f64 / (draws - 1) as f64 * m.m2;
    }
    Ok(se2.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The module docs' formula, term by term on one thread.
    #[allow(clippy::too_many_arguments)]
    fn direct(
        x: &[f64],
        w: &[f64],
        g: Range<usize>,
        mean: f64,
        mass: f64,
        ft: &[Vec<f64>],
        s_inv: &[f64],
        blocks: &[Range<usize>],
        pairs: bool,
    ) -> f64 {
        let k = ft.len();
        let d: Vec<f64> = (0..x.len())
            .map(|i| if g.contains(&i) { (x[i] - mean) / mass } else { 0.0 })
            .collect();
        let c: Vec<f64> = (0..k)
            .map(|j| (0..x.len()).map(|i| w[i] * d[i] * ft[j][i]).sum())
            .collect();
        let beta: Vec<f64> = (0..k).map(|j| (0..k).map(|l| s_inv[j * k + l] * c[l]).sum()).collect();
        let z: Vec<f64> = (0..x.len())
            .map(|i| w[i] * (d[i] - (0..k).map(|j| ft[j][i] * beta[j]).sum::<f64>()))
            .collect();
        let mut se2 = 0.0;
        for b in blocks {
            let e: Vec<f64> = if pairs {
                z[b.clone()].chunks(2).map(|p| p[0] + p[1]).collect()
            } else {
                z[b.clone()].to_vec()
            };
            let u = e.len() as f64;
            let m = e.iter().sum::<f64>() / u;
            se2 += u / (u - 1.0) * e.iter().map(|v| (v - m) * (v - m)).sum::<f64>();
        }
        se2.sqrt()
    }

    #[test]
    fn the_parallel_error_is_the_direct_formula_with_the_same_bits_on_any_threads() {
        let n = 3 * CHUNK + 2 * 777;
        let blocks = [0..CHUNK + 1000, CHUNK + 1000..2 * CHUNK + 554, 2 * CHUNK + 554..n];
        let x: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1013) as f64 / 101.3 - 4.0).collect();
        let w: Vec<f64> = (0..n)
            .map(|i| (1.0 + ((i * 31) % 17) as f64) / (9.0 * n as f64))
            .collect();
        let f: Vec<Vec<f64>> = vec![
            (0..n).map(|i| x[i] * 0.5 - 0.1).collect(),
            (0..n).map(|i| if x[i] > 1.0 { 0.7 } else { -0.3 }).collect(),
        ];
        let flat: Vec<f64> = f.concat();
        let s_inv = [2.0, 0.3, 0.3, 5.0];
        let design = Design {
            ft: &flat,
            k: 2,
            s_inv: &s_inv,
        };
        for (g, pairs) in [(0..n, false), (blocks[1].clone(), true), (blocks[2].clone(), false)] {
            let mass: f64 = w[g.clone()].iter().sum();
            let mean = g.clone().map(|i| w[i] * x[i]).sum::<f64>() / mass;
            let want = direct(&x, &w, g.clone(), mean, mass, &f, &s_inv, &blocks, pairs);
            let got = calibrated_mean_se(&x, &w, g.clone(), mass, &design, &blocks, pairs).unwrap();
            assert!((got - want).abs() < 1e-12 * want, "{got} vs {want}");
            for threads in [1, 2, 3] {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                let again = pool
                    .install(|| calibrated_mean_se(&x, &w, g.clone(), mass, &design, &blocks, pairs))
                    .unwrap();
                assert_eq!(again.to_bits(), got.to_bits(), "{threads} threads");
            }
        }
        // no views: the error of the group's own mean, from its block alone
        let none = Design {
            ft: &[],
            k: 0,
            s_inv: &[],
        };
        let g = blocks[1].clone();
        let mass: f64 = w[g.clone()].iter().sum();
        let mean = g.clone().map(|i| w[i] * x[i]).sum::<f64>() / mass;
        let got = calibrated_mean_se(&x, &w, g.clone(), mass, &none, &blocks, false).unwrap();
        assert!((got - direct(&x, &w, g, mean, mass, &[], &[], &blocks[1..2], false)).abs() < 1e-12 * got);
        assert!(calibrated_mean_se(&x, &w[1..], 0..n, 1.0, &design, &blocks, false).is_err());
    }
}
