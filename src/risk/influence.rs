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
use crate::simd::multiversion;
use crate::sum::{lanes, sum_ranges, CHUNK};

use super::weighted::group_mean;

/// The design of a posterior's binding views: their centred functions
/// `ft` (k rows of n, row-major) and S⁻¹ (k × k, row-major).
pub struct Design<'a> {
    pub ft: &'a [f64],
    pub k: usize,
    pub s_inv: &'a [f64],
}

multiversion! {
    /// Σ a_i·b_i in the eight lanes of [`lanes`].
    fn dot(a: &[f64], b: &[f64]) -> f64 {
        lanes(a, b, |x, y| [x * y])[0]
    }
}

multiversion! {
    /// Σ e_i and, with `dev`, Σ (e_i − m)² in the eight lanes of [`lanes`].
    fn lane_sum(e: &[f64], dev: bool, m: f64) -> f64 {
        // (two loops, not a test of `dev` in one: each vectorises)
        if dev {
            lanes(e, e, |v, _| [(v - m) * (v - m)])[0]
        } else {
            lanes(e, e, |v, _| [v])[0]
        }
    }
}

multiversion! {
    /// q_i d_i = w_i (x_i − mean)/mass into `out` (of the length of `x` and `w`).
    fn weighted_deviations(out: &mut [f64], x: &[f64], w: &[f64], mean: f64, mass: f64) -> () {
        for ((o, xi), wi) in out.iter_mut().zip(x).zip(w) {
            *o = wi * ((xi - mean) / mass);
        }
    }
}

multiversion! {
    /// `z` ← the fit Σ_j f_ji β_j of a chunk's paths, row j of the views' functions
    /// at `f[j·stride..]`, summed in the order of the rows.
    fn fitted(z: &mut [f64], f: &[f64], stride: usize, beta: &[f64]) -> () {
        z.fill(0.0);
        let len = z.len();
        for (j, b) in beta.iter().enumerate() {
            for (v, fj) in z.iter_mut().zip(&f[j * stride..j * stride + len]) {
                *v += fj * b;
            }
        }
    }
}

multiversion! {
    /// `z` (holding the fit) ← q_i d_i − q_i·z_i, with q_i d_i = w_i (x_i − mean)/mass on
    /// the paths `on` and 0 elsewhere (`x` and `w`: the chunk's values and weights).
    fn residuals(z: &mut [f64], x: &[f64], w: &[f64], on: Range<usize>, mean: f64, mass: f64) -> () {
        let len = z.len();
        for r in [0..on.start, on.end..len] {
            for (v, wi) in z[r.clone()].iter_mut().zip(&w[r]) {
                *v = 0.0 - wi * *v;
            }
        }
        for ((v, xi), wi) in z[on.clone()].iter_mut().zip(&x[on.clone()]).zip(&w[on]) {
            *v = wi * ((xi - mean) / mass) - wi * *v;
        }
    }
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
        let mean = lane_sum(e, false, 0.0) / n;
        Moments {
            n,
            mean,
            m2: lane_sum(e, true, mean),
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

/// The standard error of the weighted mean of each of the columns `xs` over the
/// paths `group` of weight `mass`, under the posterior weights `w` that `design`
/// fitted (module docs). `blocks` are the scenarios' paths, in order; `pairs`:
/// antithetic draws. NaN for a column when a block that moves its estimate has a
/// single draw.
///
/// Each column's mean in its own pass (`group_mean`); then two passes over the
/// paths for all the columns at once, in the fixed chunks of [`crate::sum`] on all
/// threads: each column's C, then each block's z_u summarised chunk by chunk
/// (`Moments`), the chunks' summaries combined in order. A chunk's views'
/// functions and weights are read from memory once for all the columns, and each
/// column's sums are those it would have alone, so its bits do not depend on the
/// other columns.
#[allow(clippy::too_many_arguments)]
pub fn calibrated_mean_se(
    xs: &[&[f64]],
    w: &[f64],
    group: Range<usize>,
    mass: f64,
    design: &Design<'_>,
    blocks: &[Range<usize>],
    pairs: bool,
) -> Result<Vec<f64>> {
    let n = w.len();
    let k = design.k;
    if xs.iter().any(|x| x.len() != n) || design.ft.len() != k * n || design.s_inv.len() != k * k {
        return Err(CoreError::invalid("design", "shapes do not match the paths"));
    }
    let outside = |r: &Range<usize>| r.start > r.end || r.end > n;
    if outside(&group) {
        return Err(CoreError::invalid("group", "must lie within the paths"));
    }
    if blocks.iter().any(outside) {
        return Err(CoreError::invalid("blocks", "must lie within the paths"));
    }
    let m = xs.len();
    let ft = |j: usize, r: &Range<usize>| &design.ft[j * n + r.start..j * n + r.end];
    let means: Vec<f64> = xs.iter().map(|x| group_mean(x, w, group.clone())).collect();
    // C_cj = Σ_{i∈G} q_i d_ci f_ji, column by column within each chunk
    let g0 = group.start;
    let c = sum_ranges(group.len(), CHUNK, m * k, |r, acc| {
        let r = g0 + r.start..g0 + r.end;
        let mut wd = vec![0.0; r.len()];
        for (col, acc) in acc.chunks_exact_mut(k.max(1)).enumerate().take(m) {
            weighted_deviations(&mut wd, &xs[col][r.clone()], &w[r.clone()], means[col], mass);
            for (j, a) in acc.iter_mut().enumerate() {
                *a += dot(&wd, ft(j, &r));
            }
        }
    });
    // β_c = S⁻¹ C_c
    let beta: Vec<Vec<f64>> = (0..m)
        .map(|col| {
            let c = &c[col * k..(col + 1) * k];
            (0..k)
                .map(|j| (0..k).fold(0.0, |s, l| s + design.s_inv[j * k + l] * c[l]))
                .collect()
        })
        .collect();
    let per = if pairs { 2 } else { 1 };
    let mut se2 = vec![0.0f64; m];
    for blk in blocks {
        let draws = blk.len() / per;
        let parts: Vec<Vec<Moments>> = (0..draws.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let r = blk.start + c * CHUNK * per..blk.start + ((c + 1) * CHUNK).min(draws) * per;
                // the group's paths within the chunk, counted from its start
                let on = r.start.max(group.start).min(r.end) - r.start..r.end.min(group.end).max(r.start) - r.start;
                let mut z = vec![0.0; r.len()];
                (0..m)
                    .map(|col| {
                        // z_i = q_i d_i − q_i Σ_j f_ji β_j of the chunk's paths
                        // (the views' functions from the chunk's first path on; none without views)
                        fitted(&mut z, &design.ft[r.start.min(design.ft.len())..], n, &beta[col]);
                        residuals(&mut z, &xs[col][r.clone()], &w[r.clone()], on.clone(), means[col], mass);
                        if pairs {
                            let e: Vec<f64> = z.chunks_exact(2).map(|p| p[0] + p[1]).collect();
                            Moments::of(&e)
                        } else {
                            Moments::of(&z)
                        }
                    })
                    .collect()
            })
            .collect();
        for (col, se2) in se2.iter_mut().enumerate() {
            if se2.is_nan() {
                continue;
            }
            let mom = parts.iter().map(|p| p[col]).fold(Moments::of(&[]), Moments::then);
            if !mom.nonzero {
                continue; // the block does not move the estimate
            }
            *se2 = if draws < 2 {
                f64::NAN
            } else {
                *se2 + draws as f64 / (draws - 1) as f64 * mom.m2
            };
        }
    }
    Ok(se2.into_iter().map(f64::sqrt).collect())
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
            let got = calibrated_mean_se(&[&x], &w, g.clone(), mass, &design, &blocks, pairs).unwrap()[0];
            assert!((got - want).abs() < 1e-12 * want, "{got} vs {want}");
            for threads in [1, 2, 3] {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                let again = pool
                    .install(|| calibrated_mean_se(&[&x], &w, g.clone(), mass, &design, &blocks, pairs))
                    .unwrap()[0];
                assert_eq!(again.to_bits(), got.to_bits(), "{threads} threads");
            }
        }
        // columns computed together: each one's bits alone (a constant column has error 0)
        let above: Vec<f64> = x.iter().map(|&v| if v > 0.5 { 1.0 } else { 0.0 }).collect();
        let ones = vec![1.0; n];
        for (g, pairs) in [(0..n, false), (blocks[1].clone(), true)] {
            let mass: f64 = w[g.clone()].iter().sum();
            let together =
                calibrated_mean_se(&[&above, &x, &ones], &w, g.clone(), mass, &design, &blocks, pairs).unwrap();
            for (col, got) in [&above, &x, &ones].iter().zip(&together) {
                let alone = calibrated_mean_se(&[col], &w, g.clone(), mass, &design, &blocks, pairs).unwrap()[0];
                assert_eq!(got.to_bits(), alone.to_bits());
            }
            assert!(together[0] > 0.0 && together[2] == 0.0, "{together:?}");
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
        let got = calibrated_mean_se(&[&x], &w, g.clone(), mass, &none, &blocks, false).unwrap()[0];
        assert!((got - direct(&x, &w, g, mean, mass, &[], &[], &blocks[1..2], false)).abs() < 1e-12 * got);
        assert!(calibrated_mean_se(&[&x], &w[1..], 0..n, 1.0, &design, &blocks, false).is_err());
    }
}
