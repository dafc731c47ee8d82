//! Stratified allocation of paths to scenarios (MODEL.md §2).

use crate::error::{CoreError, Result};

/// How the global path range is split among scenarios: scenario k owns the
/// contiguous block `offsets[k] .. offsets[k] + counts[k]`, each path weighing
/// `p_k / counts[k]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    pub counts: Vec<usize>,
    pub offsets: Vec<usize>,
    /// Antithetic pairs: paths 2i and 2i + 1 are twins, in the same scenario.
    pub pairs: bool,
}

impl Allocation {
    /// Largest-remainder rounding of `n_paths · p_k`, at least one path (or
    /// antithetic pair) for every scenario with p_k > 0 when there are enough
    /// paths. With antithetic sampling the allocation is done in pairs so that
    /// a pair never straddles two scenarios.
    pub fn new(probs: &[f64], n_paths: usize, antithetic: bool) -> Result<Allocation> {
        let unit = if antithetic { 2 } else { 1 };
        if antithetic && n_paths % 2 == 1 {
            return Err(CoreError::invalid(
                "n_paths",
                format!("must be even with antithetic=True, got {n_paths}"),
            ));
        }
        let units = n_paths / unit;
        let k = probs.len();
        let positive = probs.iter().filter(|&&p| p > 0.0).count();
        if units < positive {
            return Err(CoreError::invalid(
                "n_paths",
                format!(
                    "must give every scenario with positive probability at least one {}: need at least {}, got {n_paths}",
                    if antithetic { "antithetic pair" } else { "path" },
                    positive * unit
                ),
            ));
        }
        let quotas: Vec<f64> = probs.iter().map(|p| p * units as f64).collect();
        let mut counts: Vec<usize> = quotas.iter().map(|q| q.floor() as usize).collect();
        let mut assigned: usize = counts.iter().sum();
        // probabilities may sum to a little over 1 (within the config's 1e-9): on runs of
        // billions of paths their floors can then exceed the paths; the largest give back
        while assigned > units {
            let j = (0..k).max_by_key(|&j| (counts[j], std::cmp::Reverse(j))).unwrap_or(0);
            counts[j] -= 1;
            assigned -= 1;
        }
        let mut order: Vec<usize> = (0..k).collect();
        // largest fractional part first; ties to the earlier scenario
        order.sort_by(|&a, &b| {
            let fa = quotas[a] - quotas[a].floor();
            let fb = quotas[b] - quotas[b].floor();
            fb.partial_cmp(&fa).unwrap_or(std::cmp::Ordering::Equal).then(a.cmp(&b))
        });
        for &i in order.iter().take(units.saturating_sub(assigned)) {
            counts[i] += 1;
        }
        // every scenario with positive probability gets at least one unit
        {
            for i in 0..k {
                if probs[i] > 0.0 && counts[i] == 0 {
                    let donor = (0..k).max_by_key(|&j| (counts[j], std::cmp::Reverse(j))).unwrap_or(0);
                    counts[donor] -= 1;
                    counts[i] += 1;
                }
            }
        }
        let counts: Vec<usize> = counts.iter().map(|c| c * unit).collect();
        let mut offsets = Vec::with_capacity(k);
        let mut acc = 0;
        for &c in &counts {
            offsets.push(acc);
            acc += c;
        }
        if acc != n_paths {
            return Err(CoreError::invalid(
                "n_paths",
                format!("the scenarios' paths add up to {acc}, not {n_paths} (probabilities far from summing to 1)"),
            ));
        }
        Ok(Allocation {
            counts,
            offsets,
            pairs: antithetic,
        })
    }

    /// The scenario of global path `path`.
    #[inline]
    pub fn scenario_of(&self, path: usize) -> usize {
        // offsets are sorted; the last scenario whose block starts at or before `path`
        // and is non-empty
        let mut k = 0;
        for (i, &o) in self.offsets.iter().enumerate() {
            if o <= path && self.counts[i] > 0 {
                k = i;
            }
        }
        k
    }

    /// Path weight of each scenario under probabilities `probs`: p_k / n_k (0 for empty strata).
    pub fn weights(&self, probs: &[f64]) -> Vec<f64> {
        self.counts
            .iter()
            .zip(probs)
            .map(|(&n, &p)| if n > 0 { p / n as f64 } else { 0.0 })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_a_little_over_one_still_fill_exactly_n_paths() {
        // floors of 0.7500000008·2^40 and 0.25·2^40 already exceed 2^40 by 880 paths
        let n = 1usize << 40;
        for probs in [[0.750_000_000_8, 0.25, 1e-10], [0.55 + 5e-10, 0.25 + 4e-10, 0.20]] {
            let a = Allocation::new(&probs, n, false).unwrap();
            assert_eq!(a.counts.iter().sum::<usize>(), n, "{probs:?}");
            assert!(a.counts.iter().all(|&c| c > 0));
            assert_eq!(a.offsets[2] + a.counts[2], n);
        }
    }

    #[test]
    fn largest_remainder_and_minimum_one() {
        let a = Allocation::new(&[0.55, 0.25, 0.20], 200_000, false).unwrap();
        assert_eq!(a.counts, vec![110_000, 50_000, 40_000]);
        let a = Allocation::new(&[0.55, 0.25, 0.20], 7, false).unwrap();
        assert_eq!(a.counts.iter().sum::<usize>(), 7);
        assert_eq!(a.counts, vec![4, 2, 1]);
        let a = Allocation::new(&[0.98, 0.01, 0.01], 3, false).unwrap();
        assert_eq!(a.counts, vec![1, 1, 1]);
        let a = Allocation::new(&[0.5, 0.5, 0.0], 10, true).unwrap();
        assert_eq!(a.counts, vec![6, 4, 0]);
        assert!(Allocation::new(&[1.0], 3, true).is_err());
    }

    #[test]
    fn scenario_of_follows_blocks() {
        let a = Allocation::new(&[0.5, 0.0, 0.5], 10, false).unwrap();
        assert_eq!(a.counts, vec![5, 0, 5]);
        let s: Vec<usize> = (0..10).map(|i| a.scenario_of(i)).collect();
        assert_eq!(s, vec![0, 0, 0, 0, 0, 2, 2, 2, 2, 2]);
    }
}
