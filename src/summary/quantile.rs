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
}
