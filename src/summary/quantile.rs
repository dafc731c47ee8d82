//! Exact quantiles of stratified samples, shared by the materialised and the
//! streaming summaries so that both return the same sample value.
//!
//! With path weights p_k / n_k, the weighted distribution function of a group
//! of scenarios G is F_G(x) = Σ_{k∈G} p_k·c_k(x)/n_k, where c_k(x) counts the
//! scenario-k paths with value ≤ x, evaluated from integer counts in a fixed
//! order. The q-quantile is the smallest sample value with
//! F_G(x) ≥ q·P_G·(1 − 1e-12) (P_G = Σ_{k∈G} p_k): the inverse of the
//! weighted empirical CDF, the tolerance absorbing the rounding of the
//! products at exact ties.

/// Order-preserving map of a finite double to an unsigned key.
#[inline]
pub fn key(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

/// Inverse of [`key`].
#[inline]
pub fn unkey(k: u64) -> f64 {
    if k >> 63 == 1 {
        f64::from_bits(k & !(1 << 63))
    } else {
        f64::from_bits(!k)
    }
}

/// The group's weighted CDF from counts: Σ_{k∈G} p_k·c_k/n_k.
#[inline]
pub fn cdf(p: &[f64], n: &[u64], counts: &[u64], group: Option<usize>) -> f64 {
    if let Some(g) = group {
        // the one term of the sum below, with its bits (0.0 + x is x)
        return if n[g] > 0 {
            0.0 + p[g] * counts[g] as f64 / n[g] as f64
        } else {
            0.0
        };
    }
    let mut f = 0.0;
    for k in 0..p.len() {
        if n[k] > 0 {
            f += p[k] * counts[k] as f64 / n[k] as f64;
        }
    }
    f
}

/// The level F must reach for the q-quantile of the group: q·P_G·(1 − 1e-12),
/// and at least the smallest positive double, so that F counts one path and
/// q = 0 gives the smallest value; infinite for a group without probability
/// mass, whose quantiles are NaN.
pub fn target(p: &[f64], n: &[u64], q: f64, group: Option<usize>) -> f64 {
    let mut mass = 0.0;
    for k in 0..p.len() {
        if n[k] > 0 && group.is_none_or(|g| g == k) {
            mass += p[k];
        }
    }
    if mass > 0.0 {
        (q * mass * (1.0 - 1e-12)).max(f64::MIN_POSITIVE)
    } else {
        f64::INFINITY
    }
}

/// Exact quantiles of values `x` (with scenario `s`) by sorting.
pub fn quantiles_sorted(x: &[f64], s: &[u8], p: &[f64], n: &[u64], qs: &[f64], group: Option<usize>) -> Vec<f64> {
    let mut idx: Vec<(u64, u8)> = x
        .iter()
        .zip(s)
        .filter(|(_, &k)| group.is_none_or(|g| g == k as usize))
        .map(|(&v, &k)| (key(v), k))
        .collect();
    idx.sort_unstable();
    let mut out = Vec::with_capacity(qs.len());
    for &q in qs {
        let tau = target(p, n, q, group);
        let mut counts = vec![0u64; p.len()];
        let mut answer = match idx.last() {
            Some(l) if tau.is_finite() => unkey(l.0),
            _ => f64::NAN,
        };
        let mut i = 0;
        while i < idx.len() {
            let kv = idx[i].0;
            while i < idx.len() && idx[i].0 == kv {
                counts[idx[i].1 as usize] += 1;
                i += 1;
            }
            if cdf(p, n, &counts, group) >= tau {
                answer = unkey(kv);
                break;
            }
        }
        out.push(answer);
    }
    out
}

/// Half-width δ of the difference quotient (Q(α + δ) − Q(α − δ)) / 2δ that
/// estimates the sparsity 1/f(Q(α)) in the standard error of an α-quantile
/// (Siddiqui 1960): Hall and Sheather's (1988) bandwidth for `n_eff`
/// effective paths,
///
/// δ = n^(−1/3) z^(2/3) [1.5 φ(Φ⁻¹(α))² / (2 Φ⁻¹(α)² + 1)]^(1/3), z = Φ⁻¹(0.975),
///
/// at most min(α, 1 − α)/2 so that both levels stay inside (0, 1). NaN for
/// α outside (0, 1) or no effective path.
pub fn sparsity_bandwidth(alpha: f64, n_eff: f64) -> f64 {
    if !(alpha > 0.0 && alpha < 1.0 && n_eff > 0.0) {
        return f64::NAN;
    }
    let x = crate::qmc::invnorm::inv_norm(alpha);
    let z = crate::qmc::invnorm::inv_norm(0.975);
    let phi = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let h = n_eff.powf(-1.0 / 3.0) * z.powf(2.0 / 3.0) * (1.5 * phi * phi / (2.0 * x * x + 1.0)).cbrt();
    h.min(alpha.min(1.0 - alpha) / 2.0)
}

/// Kish's effective number of paths of a group of scenarios G under path weights
/// p_k / n_k: 1 / Σ_{k∈G} (p_k / P_G)² / n_k with P_G = Σ_{k∈G} p_k (n_k for a
/// scenario's own group; the shares p_k / P_G, not p_k, are squared, so that a
/// probability of 1e-200 does not underflow); NaN for a group without mass.
pub fn effective_paths(p: &[f64], n: &[u64], group: Option<usize>) -> f64 {
    let member = |k: usize| n[k] > 0 && p[k] > 0.0 && group.is_none_or(|g| g == k);
    let mass: f64 = (0..p.len()).filter(|&k| member(k)).map(|k| p[k]).sum();
    if mass > 0.0 {
        let sq: f64 = (0..p.len())
            .filter(|&k| member(k))
            .map(|k| (p[k] / mass) * (p[k] / mass) / n[k] as f64)
            .sum();
        1.0 / sq
    } else {
        f64::NAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_preserve_order() {
        let xs = [-1e300, -2.5, -1e-300, -0.0, 0.0, 1e-300, 3.0, 1e300];
        for w in xs.windows(2) {
            assert!(key(w[0]) < key(w[1]));
            assert_eq!(unkey(key(w[0])).to_bits(), w[0].to_bits());
        }
    }

    #[test]
    fn equal_weight_median_is_the_lower_middle_value() {
        let x: Vec<f64> = (1..=12).map(|i| i as f64).collect();
        let s = vec![0u8; 12];
        let q = quantiles_sorted(&x, &s, &[1.0], &[12], &[0.5, 0.05, 1.0], None);
        assert_eq!(q, vec![6.0, 1.0, 12.0]);
    }

    #[test]
    fn level_zero_is_the_smallest_value_and_a_massless_group_has_none() {
        let x = [3.0, -1.0, 7.0, 2.0];
        let s = [0u8, 1, 1, 0];
        let q = quantiles_sorted(&x, &s, &[0.5, 0.5], &[2, 2], &[0.0], None);
        assert_eq!(q, vec![-1.0]);
        let q = quantiles_sorted(&x, &s, &[1.0, 0.0], &[2, 2], &[0.0, 0.5, 1.0], Some(1));
        assert!(q.iter().all(|v| v.is_nan()));
    }

    #[test]
    fn effective_paths_are_kishs_count_even_for_tiny_probabilities() {
        let n = [1_000u64, 500, 0, 250];
        // a scenario's own group: its paths, whatever its probability
        for p in [0.3, 1e-200] {
            let probs = [0.5, p, 0.2, 0.2];
            assert!((effective_paths(&probs, &n, Some(1)) - 500.0).abs() < 1e-9);
        }
        // all: (Σp)² / Σ p²/n over the scenarios with paths and probability
        let probs = [0.5, 0.3, 0.2, 0.0];
        let kish = 0.8f64.powi(2) / (0.25 / 1_000.0 + 0.09 / 500.0);
        assert!((effective_paths(&probs, &n, None) - kish).abs() < 1e-9 * kish);
        assert!(effective_paths(&probs, &n, Some(3)).is_nan());
        assert!(effective_paths(&probs, &n, Some(2)).is_nan());
    }

    #[test]
    fn the_bandwidth_shrinks_as_n_to_the_minus_one_third_and_stays_inside_the_unit_interval() {
        let h = sparsity_bandwidth(0.95, 1e6);
        assert!((sparsity_bandwidth(0.95, 8e6) * 2.0 - h).abs() < 1e-15);
        for alpha in [0.5, 0.9, 0.99, 0.999_999] {
            for n in [1.0, 10.0, 1e3, 1e12] {
                let d = sparsity_bandwidth(alpha, n);
                assert!(d > 0.0 && d <= alpha.min(1.0 - alpha) / 2.0, "{alpha} {n} {d}");
            }
        }
        for (alpha, n) in [(1.0, 10.0), (0.0, 10.0), (0.9, 0.0), (f64::NAN, 10.0), (0.9, f64::NAN)] {
            assert!(sparsity_bandwidth(alpha, n).is_nan());
        }
    }
}
