//! Scrambled Sobol' shocks with a Brownian bridge: structure, marginals and
//! the convergence rate against plain Monte Carlo.

use geoscenario::qmc::{inv_norm, QmcShocks};
use geoscenario::rng::PathRng;

#[test]
fn first_dimension_is_van_der_corput() {
    let q = QmcShocks::new(1, 4, 1).unwrap();
    let mut indices: Vec<u64> = (0..5000).collect();
    indices.extend([123_456_789, (1 << 32) - 1, 0xDEAD_BEEF]);
    for i in indices {
        // radical inverse in base 2: digit b of i becomes digit b + 1 of the fraction
        let mut phi = 0.0;
        let mut scale = 0.5;
        let mut n = i;
        while n > 0 {
            phi += (n & 1) as f64 * scale;
            scale *= 0.5;
            n >>= 1;
        }
        let x = q.sobol_bits(i, 0).unwrap();
        assert_eq!(x as f64 / 4_294_967_296.0, phi, "i = {i}");
    }
}

#[test]
fn second_dimension_is_the_classical_sobol_sequence() {
    // 0, 1/2, 3/4, 1/4, 5/8, 1/8, 3/8, 7/8 in natural (non Gray-code) order
    let q = QmcShocks::new(1, 2, 1).unwrap();
    let x: Vec<f64> = (0..8)
        .map(|i| q.sobol_bits(i, 1).unwrap() as f64 / 4_294_967_296.0)
        .collect();
    assert_eq!(x, [0.0, 0.5, 0.75, 0.25, 0.625, 0.125, 0.375, 0.875]);
}

#[test]
fn scrambled_points_are_stratified() {
    // each of the first 2^m points in its own interval [k/2^m, (k+1)/2^m),
    // for the first 8 dimensions and every later 37th
    let m = 10;
    let n = 1usize << m;
    for seed in [0u64, 7, 0xFFFF_FFFF_FFFF] {
        let q = QmcShocks::new(seed, 252, 4).unwrap();
        for dim in (0..8).chain((8..q.dim()).step_by(37)) {
            let mut hit = vec![false; n];
            for i in 0..n as u64 {
                let u = q.uniform(i, dim);
                assert!(u > 0.0 && u < 1.0);
                let k = (u * n as f64) as usize;
                assert!(!hit[k], "seed {seed}, dim {dim}: two points in interval {k}");
                hit[k] = true;
            }
        }
        // later blocks of 2^m points are nets too (a (0, 1)-sequence in each dimension)
        let mut hit = vec![false; n];
        for i in 5 * n as u64..6 * n as u64 {
            let k = (q.uniform(i, 3) * n as f64) as usize;
            assert!(!hit[k]);
            hit[k] = true;
        }
    }
}

#[test]
fn first_two_dimensions_are_a_scrambled_zero_two_net() {
    // Sobol' dimensions 1–2 form a (0, 2)-sequence: each elementary box
    // [a/2^k, (a+1)/2^k) × [b/2^(m−k), (b+1)/2^(m−k)) holds exactly one of the
    // first 2^m points, and scrambling keeps it
    let m = 8;
    let n = 1usize << m;
    let q = QmcShocks::new(99, 2, 1).unwrap();
    for k in 0..=m {
        let mut hit = vec![false; n];
        for i in 0..n as u64 {
            let a = (q.uniform(i, 0) * (1u64 << k) as f64) as usize;
            let b = (q.uniform(i, 1) * (1u64 << (m - k)) as f64) as usize;
            let cell = (a << (m - k)) | b;
            assert!(!hit[cell], "k = {k}");
            hit[cell] = true;
        }
    }
}

#[test]
fn normal_quantile_known_values() {
    let close = |a: f64, b: f64| (a - b).abs() <= 4.0 * f64::EPSILON * b.abs();
    assert!(close(inv_norm(0.975), 1.959963984540054));
    assert!(close(inv_norm(0.025), -1.959963984540054));
    assert!(close(inv_norm(1e-10), -6.361340902404056));
    // the double nearest 1 − 1e-10 is 1 − 1.0000000827e-10 (mpmath: 6.36134088969742186)
    assert!(close(inv_norm(1.0 - 1e-10), 6.361340889697422));
    assert_eq!(inv_norm(0.5), 0.0);
    // exact symmetry where 1 − u is exact, down to the 2^-33 tails and beyond
    for e in [2, 5, 10, 20, 33, 40, 52] {
        let u = (2.0f64).powi(-e);
        assert_eq!(inv_norm(u), -inv_norm(1.0 - u), "2^-{e}");
        assert!(inv_norm(u) < inv_norm(u * 1.5));
    }
    // Φ^{-1}(2^-33) from mpmath
    assert!(close(inv_norm(2f64.powi(-33)), -6.337957754553789));
}

fn moments(q: &QmcShocks, n: usize) -> (Vec<f64>, Vec<f64>) {
    let dim = q.dim();
    let mut z = vec![0.0; dim];
    let mut sum = vec![0.0; dim];
    let mut cross = vec![0.0; dim * dim];
    for i in 0..n as u64 {
        q.fill(i, &mut z);
        for a in 0..dim {
            sum[a] += z[a];
            for b in 0..=a {
                cross[a * dim + b] += z[a] * z[b];
            }
        }
    }
    let nf = n as f64;
    let mean: Vec<f64> = sum.iter().map(|s| s / nf).collect();
    let mut cov = vec![0.0; dim * dim];
    for a in 0..dim {
        for b in 0..=a {
            cov[a * dim + b] = cross[a * dim + b] / nf - mean[a] * mean[b];
        }
    }
    (mean, cov)
}

#[test]
fn bridge_shocks_have_zero_mean_and_identity_covariance() {
    let (h, d, n) = (24, 3, 1usize << 14);
    let q = QmcShocks::new(2024, h, d).unwrap();
    let (mean, cov) = moments(&q, n);
    let dim = h * d;
    let nf = n as f64;
    let mut worst: f64 = 0.0;
    for a in 0..dim {
        // standard errors of plain Monte Carlo: 1/√n for a mean and an
        // off-diagonal covariance, √(2/n) for a variance
        let se = 1.0 / nf.sqrt();
        assert!(mean[a].abs() < 4.0 * se, "mean of {a}: {}", mean[a]);
        worst = worst.max(mean[a].abs() / se);
        for b in 0..=a {
            let (target, se) = if a == b {
                (1.0, (2.0 / nf).sqrt())
            } else {
                (0.0, 1.0 / nf.sqrt())
            };
            let dev = (cov[a * dim + b] - target).abs() / se;
            worst = worst.max(dev);
            assert!(
                dev < 4.0,
                "cov({a}, {b}) = {} (t-step {}, {})",
                cov[a * dim + b],
                a / d,
                b / d
            );
        }
    }
    println!("largest deviation: {worst:.2} standard errors");
}

#[test]
fn increments_sum_to_the_end_point_of_the_first_dimensions() {
    let (h, d) = (24, 3);
    let q = QmcShocks::new(11, h, d).unwrap();
    let mut z = vec![0.0; h * d];
    for i in [0u64, 1, 2, 3, 1000, 65_535, 4_000_000_000] {
        q.fill(i, &mut z);
        for j in 0..d {
            let total: f64 = (0..h).map(|t| z[t * d + j]).sum();
            // Sobol' dimension j builds W_j(H) = √H·Φ^{-1}(u)
            let end = (h as f64).sqrt() * inv_norm(q.uniform(i, j));
            assert!(
                (total - end).abs() < 1e-12 * end.abs().max(1.0),
                "i {i}, shock {j}: {total} vs {end}"
            );
        }
    }
}

#[test]
fn non_power_of_two_horizons_and_reproducibility() {
    for (h, d) in [(1, 1), (3, 2), (7, 1), (252, 1), (24, 8), (12, 11)] {
        let q = QmcShocks::new(3, h, d).unwrap();
        let q2 = QmcShocks::new(3, h, d).unwrap();
        let other = QmcShocks::new(4, h, d).unwrap();
        let (mut a, mut b, mut c) = (vec![0.0; h * d], vec![0.0; h * d], vec![0.0; h * d]);
        for i in [0u64, 5, 1 << 20, (1 << 32) - 1] {
            q.fill(i, &mut a);
            q2.fill(i, &mut b);
            other.fill(i, &mut c);
            assert!(a.iter().all(|x| x.is_finite()));
            assert_eq!(a, b);
            assert_ne!(a, c);
        }
    }
}

#[test]
fn every_instruction_set_tier_gives_the_same_bits() {
    use geoscenario::simd;
    let q = QmcShocks::new(8, 37, 5).unwrap();
    let best = simd::set_max_level(simd::AVX512);
    let fill_all = || {
        let mut out = vec![0.0; 200 * q.dim()];
        for (i, row) in out.chunks_mut(q.dim()).enumerate() {
            q.fill(i as u64 * 7919, row);
        }
        out
    };
    let reference = fill_all();
    for tier in [simd::GENERIC, simd::AVX2, simd::AVX512] {
        let used = simd::set_max_level(tier);
        let out = fill_all();
        assert!(
            out.iter().zip(&reference).all(|(a, b)| a.to_bits() == b.to_bits()),
            "tier {used}"
        );
    }
    simd::set_max_level(best);
}

/// Least-squares slope of ln y against ln x.
fn log_slope(x: &[f64], y: &[f64]) -> f64 {
    let lx: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let ly: Vec<f64> = y.iter().map(|v| v.ln()).collect();
    let n = lx.len() as f64;
    let (mx, my) = (lx.iter().sum::<f64>() / n, ly.iter().sum::<f64>() / n);
    let sxy: f64 = lx.iter().zip(&ly).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = lx.iter().map(|a| (a - mx) * (a - mx)).sum();
    sxy / sxx
}

/// RMSE over `seeds` replicates of the means of f(shocks) over the first n
/// points, for each n in `sizes` (nested prefixes of one run per seed).
fn rmse_table(
    sizes: &[usize],
    seeds: u64,
    truth: f64,
    mut shocks: impl FnMut(u64, u64, &mut [f64]),
    f: impl Fn(&[f64]) -> f64,
    dim: usize,
) -> Vec<f64> {
    let nmax = *sizes.iter().max().unwrap();
    let mut sq = vec![0.0; sizes.len()];
    let mut z = vec![0.0; dim];
    for s in 0..seeds {
        let mut acc = 0.0;
        let mut next = 0;
        for i in 0..nmax {
            shocks(s, i as u64, &mut z);
            acc += f(&z);
            if i + 1 == sizes[next] {
                let err = acc / sizes[next] as f64 - truth;
                sq[next] += err * err;
                next += 1;
            }
        }
    }
    sq.iter().map(|v| (v / seeds as f64).sqrt()).collect()
}

#[test]
fn qmc_converges_faster_than_monte_carlo() {
    // E[exp(σ·ΣZ/√H)] = exp(σ²/2): a lognormal terminal value of H = 24 steps.
    // QMC: RMSE over 16 scramble seeds. MC: over 256 seeds, so that its slope
    // is known to ±0.023 (one standard error: ln RMSE from R replicates has
    // standard error 1/√(2R), and the regression divides it by √Σ(ln N − mean)²
    // = 1.96); with 16 replicates that would be ±0.09.
    let (h, sigma, qmc_seeds, mc_seeds) = (24usize, 0.3f64, 16u64, 256u64);
    let sizes = [1usize << 10, 1 << 12, 1 << 14];
    let truth = (sigma * sigma / 2.0).exp();
    let f = |z: &[f64]| (sigma * z.iter().sum::<f64>() / (h as f64).sqrt()).exp();
    let qs: Vec<QmcShocks> = (0..qmc_seeds)
        .map(|s| QmcShocks::new(1000 + s, h, 1).unwrap())
        .collect();
    let qmc = rmse_table(&sizes, qmc_seeds, truth, |s, i, z| qs[s as usize].fill(i, z), f, h);
    let mc = rmse_table(
        &sizes,
        mc_seeds,
        truth,
        |s, i, z| PathRng::new(1000 + s, i, false).fill_normals(0, z),
        f,
        h,
    );
    let nf: Vec<f64> = sizes.iter().map(|&n| n as f64).collect();
    let (slope_qmc, slope_mc) = (log_slope(&nf, &qmc), log_slope(&nf, &mc));
    println!(
        "{:>7} {:>12} {:>12} {:>12} {:>12}",
        "N", "RMSE QMC", "RMSE MC", "QMC·√N", "MC·√N"
    );
    for k in 0..sizes.len() {
        let r = nf[k].sqrt();
        println!(
            "{:>7} {:>12.3e} {:>12.3e} {:>12.3e} {:>12.3e}",
            sizes[k],
            qmc[k],
            mc[k],
            qmc[k] * r,
            mc[k] * r
        );
    }
    println!("fitted slope of ln RMSE on ln N: QMC {slope_qmc:.3}, MC {slope_mc:.3}");
    for k in 1..sizes.len() {
        assert!(
            qmc[k] * nf[k].sqrt() < qmc[k - 1] * nf[k - 1].sqrt(),
            "QMC RMSE·√N must fall"
        );
    }
    // QMC: −0.7 is about 4 standard errors (±0.09) above the slope measured, ≈ −1.04
    assert!(slope_qmc < -0.7, "QMC slope {slope_qmc}");
    // MC: −1/2 within 4 standard errors
    assert!((slope_mc + 0.5).abs() < 4.0 * 0.023, "MC slope {slope_mc}");
    assert!(qmc.iter().zip(&mc).all(|(q, m)| q < m));
}

#[test]
fn qmc_beats_monte_carlo_on_a_path_dependent_payoff() {
    // the mean over the path of exp(σ·W(t)/√H) uses every bridge dimension
    // and 3 independent shocks per step: E = mean_t exp(σ²t/(2H))
    let (h, d, sigma, qmc_seeds, mc_seeds) = (24usize, 3usize, 0.3f64, 16u64, 256u64);
    let sizes = [1usize << 10, 1 << 12, 1 << 14];
    let truth = (1..=h)
        .map(|t| (sigma * sigma * t as f64 / (2.0 * h as f64)).exp())
        .sum::<f64>()
        / h as f64;
    let f = |z: &[f64]| {
        let mut w = [0.0; 3];
        let mut acc = 0.0;
        for t in 0..h {
            for j in 0..d {
                w[j] += z[t * d + j];
            }
            acc += (sigma * (w[0] + w[1] + w[2]) / (3.0 * h as f64).sqrt()).exp();
        }
        acc / h as f64
    };
    let qs: Vec<QmcShocks> = (0..qmc_seeds).map(|s| QmcShocks::new(500 + s, h, d).unwrap()).collect();
    let qmc = rmse_table(&sizes, qmc_seeds, truth, |s, i, z| qs[s as usize].fill(i, z), f, h * d);
    let mc = rmse_table(
        &sizes,
        mc_seeds,
        truth,
        |s, i, z| PathRng::new(500 + s, i, false).fill_normals(0, z),
        f,
        h * d,
    );
    let nf: Vec<f64> = sizes.iter().map(|&n| n as f64).collect();
    println!("path-dependent (H = {h}, d = {d}):");
    for k in 0..sizes.len() {
        println!("{:>7} QMC {:.3e}  MC {:.3e}", sizes[k], qmc[k], mc[k]);
    }
    println!("slopes: QMC {:.3}, MC {:.3}", log_slope(&nf, &qmc), log_slope(&nf, &mc));
    assert!(log_slope(&nf, &qmc) < -0.7);
    assert!(qmc[2] < mc[2]);
}
