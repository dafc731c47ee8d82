//! Standard normals by the ziggurat method (Marsaglia and Tsang, "The ziggurat
//! method for generating random variables", J. Stat. Softw. 5(8), 2000), in
//! the form of Doornik ("An improved ziggurat method to generate normal random
//! samples", 2005), with 1,024 layers of equal area V under f(x) = e^{−x²/2}
//! (rather than the usual 256: the tables still fit in the L1 cache, and
//! about three times fewer words leave the fast path).
//!
//! A normal takes one 64-bit word w: its low 10 bits pick layer i, bit 10 the
//! sign, its top 52 bits a uniform u in [0, 1). The candidate is `x = u·X[i]`;
//! when `x < X[i+1]` it lies under the curve and is the answer (99.6% of words,
//! a few vector operations). Otherwise [`slow`] decides: in the base layer
//! (i = 0) x fell in the tail beyond R, sampled by Marsaglia's exponential
//! method; in a wedge, x is accepted when a uniform height under the layer is
//! below f(x), and else the draw restarts. The words these need come from a
//! separate Philox block per attempt (see `super::retry_words`), so normal i of a
//! stream stays addressable on its own.
//!
//! The tables are built once from [`math::exp`], [`math::ln`] and the correctly
//! rounded square root: the same bits on every platform and instruction set.

use super::math;
use std::sync::LazyLock;

/// Layers.
pub(super) const LAYERS: usize = 1024;
/// The word's bits that pick the layer.
pub(super) const LAYER_MASK: u64 = LAYERS as u64 - 1;
/// The word's sign bit.
pub(super) const SIGN_BIT: u64 = LAYERS as u64;
/// Where the tail begins, `X[1]`: the R for which the top layer, up to f(0) = 1,
/// has area V too (solved by bisection).
const R: f64 = 4.038_849_846_109_505;
/// The area of every layer: R·f(R) + ∫_R^∞ f = R·f(R) + sqrt(π/2)·erfc(R/√2).
const V: f64 = 0.001_226_324_646_353_085_2;
/// Attempts after the first before [`slow`] gives up and returns its last
/// candidate (the chance of reaching it is below 2^-500).
pub(super) const MAX_ATTEMPTS: u32 = 127;

/// The layers' widths `x` (`x[0] = V / f(R)`, `x[1] = R`, …, `x[LAYERS] = 0`) and
/// the density at them, `f[i] = e^{−x[i]²/2}`.
pub(super) struct Tables {
    pub(super) x: [f64; LAYERS + 1],
    pub(super) f: [f64; LAYERS + 1],
}

fn density(x: f64) -> f64 {
    math::exp(-0.5 * x * x)
}

/// Every layer i ≥ 1 has area V: `x[i]·(f(x[i+1]) − f(x[i])) = V`.
pub(super) static TABLES: LazyLock<Tables> = LazyLock::new(|| {
    let mut x = [0.0; LAYERS + 1];
    x[0] = V / density(R);
    x[1] = R;
    for i in 2..LAYERS {
        x[i] = (-2.0 * math::ln(V / x[i - 1] + density(x[i - 1]))).sqrt();
    }
    let f = std::array::from_fn(|i| density(x[i]));
    Tables { x, f }
});

/// The uniform in [0, 1) of a word's top 52 bits (exact: m·2^-52 with m < 2^52).
#[inline(always)]
fn top_unit(w: u64) -> f64 {
    super::top_bits(w) * (1.0 / 4_503_599_627_370_496.0)
}

/// The candidate of word `w`, signed, and whether it is accepted outright.
#[inline(always)]
pub(super) fn fast(w: u64, t: &Tables) -> (f64, bool) {
    let i = (w & LAYER_MASK) as usize;
    let x = top_unit(w) * t.x[i];
    let ok = x < t.x[i + 1];
    (
        f64::from_bits(x.to_bits() | ((w & SIGN_BIT) << (63 - LAYERS.trailing_zeros()))),
        ok,
    )
}

/// The normal of word `w` when [`fast`] did not accept it; `retry(k)` gives
/// attempt k's two words.
#[cold]
#[inline(never)]
pub(super) fn slow(w: u64, retry: &dyn Fn(u32) -> [u64; 2]) -> f64 {
    let t = &*TABLES;
    let mut w = w;
    let mut k = 0;
    loop {
        let i = (w & LAYER_MASK) as usize;
        let signed = |v: f64| if w & SIGN_BIT != 0 { -v } else { v };
        let x = top_unit(w) * t.x[i];
        if x < t.x[i + 1] || k > MAX_ATTEMPTS {
            return signed(x);
        }
        let [a, b] = retry(k);
        k += 1;
        if i == 0 {
            // the tail beyond R: x = −ln(u1)/R, y = −ln(u2), accepted when 2y > x²
            let (mut a, mut b) = (a, b);
            loop {
                let xt = -math::ln(super::unit_of(a)) / R;
                let y = -math::ln(super::unit_of(b));
                if y + y > xt * xt || k > MAX_ATTEMPTS {
                    return signed(R + xt);
                }
                [a, b] = retry(k);
                k += 1;
            }
        }
        // a wedge: a uniform height between f(x[i]) and f(x[i+1])
        if t.f[i] + super::unit_of(a) * (t.f[i + 1] - t.f[i]) < density(x) {
            return signed(x);
        }
        w = b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::PathRng;

    #[test]
    fn layers_have_equal_area_and_close_at_the_mode() {
        let t = &*TABLES;
        assert_eq!(t.x[1], R);
        assert_eq!(t.x[LAYERS], 0.0);
        assert_eq!(t.f[LAYERS], 1.0);
        for i in 1..LAYERS - 1 {
            assert!(t.x[i + 1] < t.x[i], "layer {i}");
            let area = t.x[i] * (t.f[i + 1] - t.f[i]);
            assert!((area / V - 1.0).abs() < 1e-9, "layer {i}: area {area}");
        }
        // the top layer, up to f(0) = 1, has area V too: R and V are consistent
        let top = t.x[LAYERS - 1] * (1.0 - t.f[LAYERS - 1]);
        assert!((top / V - 1.0).abs() < 1e-9, "top layer {top}");
        // the base layer: rectangle R·f(R) plus the tail, V = x[0]·f(R)
        assert!((t.x[0] * t.f[1] / V - 1.0).abs() < 1e-15);
        // and V is that area: R·f(R) + ∫_R^∞ f
        let v = R * t.f[1] + integral(R, R + 12.0, 1 << 16);
        assert!((v - V).abs() < 1e-15, "{v} against {V}");
    }

    /// ∫_a^b g(x) dx by Simpson's rule on `n` (even) intervals.
    fn simpson(a: f64, b: f64, n: usize, g: impl Fn(f64) -> f64) -> f64 {
        let h = (b - a) / n as f64;
        let f = |i: usize| g(a + i as f64 * h);
        let inner: f64 = (1..n).map(|i| if i % 2 == 1 { 4.0 * f(i) } else { 2.0 * f(i) }).sum();
        (f(0) + inner + f(n)) * h / 3.0
    }

    /// ∫_a^b e^{−x²/2} dx on `n` intervals.
    fn integral(a: f64, b: f64, n: usize) -> f64 {
        simpson(a, b, n, density)
    }

    #[test]
    fn normals_pass_a_chi_square_test_on_fine_bins_and_in_the_tail() {
        // 2^26 normals in 146 cells: bins of width 1/16 on [-4.5, 4.5] and the two
        // tails. A wedge or tail accepted wrongly moves about 0.1% of the mass,
        // which would add hundreds to the statistic.
        let (paths, per) = (256u64, 1usize << 18);
        let (lo, width, bins) = (-4.5, 1.0 / 16.0, 144usize);
        let mut counts = vec![0u64; bins + 2];
        let mut beyond_r = 0u64;
        let mut z = vec![0.0; per];
        for p in 0..paths {
            PathRng::new(2026, p, false).fill_normals(3, &mut z);
            for &v in &z {
                let cell = ((v - lo) / width).floor();
                let cell = if cell < 0.0 {
                    bins
                } else if cell >= bins as f64 {
                    bins + 1
                } else {
                    cell as usize
                };
                counts[cell] += 1;
                beyond_r += (v.abs() > R) as u64;
            }
        }
        let n = (paths as usize * per) as f64;
        let norm = (2.0 * std::f64::consts::PI).sqrt();
        let tail = integral(-lo, -lo + 12.0, 4096) / norm;
        let mut chi2 = 0.0;
        for (k, &c) in counts.iter().enumerate() {
            let p = if k < bins {
                let a = lo + k as f64 * width;
                integral(a, a + width, 64) / norm
            } else {
                tail
            };
            chi2 += (c as f64 - n * p).powi(2) / (n * p);
        }
        // 145 degrees of freedom: mean 145, standard deviation sqrt(290) = 17
        let df = (bins + 1) as f64;
        assert!(
            chi2 < df + 4.0 * (2.0 * df).sqrt(),
            "chi-square {chi2} on {df} degrees of freedom"
        );
        // the exponential tail method beyond R: 2·P(Z > R)·n draws
        let p = 2.0 * integral(R, R + 12.0, 4096) / norm;
        let sd = (n * p * (1.0 - p)).sqrt();
        assert!(
            (beyond_r as f64 - n * p).abs() < 4.0 * sd,
            "{beyond_r} beyond R, expected {}",
            n * p
        );
    }

    #[test]
    fn the_tail_follows_the_normal_beyond_r() {
        // words of the base layer whose candidate lies beyond R go to the tail
        // sampler; its draws minus R have the conditional mean and variance of
        // Z − R given Z > R (4 standard errors)
        let t = &*TABLES;
        let rng = PathRng::new(5, 6, false);
        let first = (R / t.x[0] * 4_503_599_627_370_496.0).ceil() as u64;
        let span = (1u64 << 52) - first;
        let n = 200_000u64;
        let (mut s1, mut s2) = (0.0, 0.0);
        for i in 0..n {
            let m = first + (rng.uniform(0, i) * span as f64) as u64;
            let w = (m.min((1 << 52) - 1) << 12) | ((i & 1) << LAYERS.trailing_zeros());
            assert!(!fast(w, t).1);
            let z = slow(w, &|k| crate::rng::retry_words(rng.key, 1, 2, 3, i, k));
            assert!(z.abs() > R && (z < 0.0) == (i & 1 == 1), "draw {i}: {z}");
            let e = z.abs() - R;
            (s1, s2) = (s1 + e, s2 + e * e);
        }
        let (mean, var) = (s1 / n as f64, s2 / n as f64 - (s1 / n as f64).powi(2));
        // exact moments of Z − R given Z > R
        let q = integral(R, R + 12.0, 1 << 14);
        let m1 = simpson(R, R + 12.0, 1 << 14, |x| (x - R) * density(x)) / q;
        let m2 = simpson(R, R + 12.0, 1 << 14, |x| (x - R).powi(2) * density(x)) / q;
        let (mu, v) = (m1, m2 - m1 * m1);
        assert!(
            (mean - mu).abs() < 4.0 * (v / n as f64).sqrt(),
            "mean {mean} against {mu}"
        );
        // Var of the sample variance: (μ4 − σ⁴)/n, with μ4 ≤ 9σ⁴ for this law
        assert!(
            (var - v).abs() < 4.0 * (8.0 * v * v / n as f64).sqrt(),
            "variance {var} against {v}"
        );
    }
}
