//! The bins that narrow an exact quantile down, pass after pass.
//!
//! Every bin is a *window*: an inclusive range of order-preserving keys
//! ([`key`]), so a window holds the values between two doubles. The first
//! pass bins each reducer's values on a grid laid over the range of a small
//! pilot sample ([`BinMap`]), fine enough that the bin holding a quantile
//! usually has a few thousand values at most, which the next pass collects;
//! the grid has about one bin per 16 paths ([`grid_bins`]), so a summary of
//! few paths keeps small histograms. A window
//! holding too many is cut into [`SUB_BINS`] equal key ranges instead
//! ([`sub_bin`]) and narrowed again. Each map is monotone, so the counts
//! below a bin and inside it locate the quantile exactly, whatever the
//! distribution.

use super::quantile::{key, unkey};

/// Most grid bins of a first pass (plus one below and one above the grid).
pub const MAX_GRID_BINS: usize = 1 << 16;
/// Fewest grid bins of a first pass.
pub const MIN_GRID_BINS: usize = 1 << 10;

/// The first pass's grid bins for a run of `n_paths` paths: the power of two
/// nearest above n/16, within [`MIN_GRID_BINS`, `MAX_GRID_BINS`]. The results
/// do not depend on it (the passes after it narrow every quantile down to its
/// exact value whatever the grid), only the histograms' size and the values
/// a bin holds; being a function of the run's size, it is the same in every
/// shard and for the same paths summarised from memory.
pub fn grid_bins(n_paths: u64) -> usize {
    (n_paths / 16)
        .max(1)
        .checked_next_power_of_two()
        .map_or(MAX_GRID_BINS, |b| (b as usize).clamp(MIN_GRID_BINS, MAX_GRID_BINS))
}
/// Sub-bins of a window that a refining pass cuts.
pub const SUB_BINS: usize = 1 << 12;
/// Paths in the pilot sample that lays the first pass's grid.
pub const PILOT_PATHS: u64 = 4096;
/// Pilot paths per run of consecutive paths (one kernel block).
const PILOT_RUN: u64 = 8;

/// An inclusive range of keys `lo..=hi`.
pub type Window = (u64, u64);

/// A monotone map of values to first-pass bins: bin 0 below `lo` (and
/// negative NaNs), bins 1..=`grid` of width 1/`scale` from `lo`, bin
/// `grid` + 1 above the grid (and positive NaNs). An atom is a value the
/// pilot holds more than once (a count's integer, a capped share's cap, the
/// 0 of a ruined NAV), which a window holds many times but stores once.
#[derive(Debug, Clone, PartialEq)]
pub struct BinMap {
    pub lo: f64,
    pub scale: f64,
    /// Grid bins, a power of two in [`MIN_GRID_BINS`, `MAX_GRID_BINS`].
    pub grid: usize,
    /// The pilot's values in the bins that hold an atom: each key once, with its
    /// count, in increasing order.
    pub atom_bins: Vec<(u64, u64)>,
}

impl BinMap {
    /// The grid of `grid` bins over the range of `pilot` (a flat grid with one
    /// bin at its value if the pilot is constant; everything above it if it is empty).
    pub fn from_pilot(pilot: impl Iterator<Item = f64>, grid: usize) -> BinMap {
        let mut keys: Vec<u64> = pilot.filter(|v| v.is_finite()).map(key).collect();
        keys.sort_unstable();
        let (Some(&first), Some(&last)) = (keys.first(), keys.last()) else {
            return BinMap {
                lo: 0.0,
                scale: 0.0,
                grid,
                atom_bins: Vec::new(),
            };
        };
        let (lo, hi) = (unkey(first), unkey(last));
        let scale = grid as f64 / (hi - lo);
        let map = BinMap {
            lo,
            scale: if scale.is_finite() { scale } else { 0.0 },
            grid,
            atom_bins: Vec::new(),
        };
        // each distinct key with its count, then the bins that hold a repeated one
        let runs: Vec<(u64, u64)> = keys.chunk_by(|a, b| a == b).map(|r| (r[0], r.len() as u64)).collect();
        let bin_of = |r: &(u64, u64)| map.bin(unkey(r.0));
        let atom_bins = runs
            .chunk_by(|a, b| bin_of(a) == bin_of(b))
            .filter(|bin| bin.iter().any(|r| r.1 > 1))
            .flatten()
            .copied()
            .collect();
        BinMap { atom_bins, ..map }
    }

    /// The distinct keys a window `w` holding `inside` values is expected to hold: all of
    /// them, unless it holds atoms; then those atoms, and `inside` times the share of the
    /// pilot's values in `w` that the pilot holds only once (the values that are not
    /// atoms). Taken from the pilot's values in the window, not in its bin, the estimate
    /// still holds once the window is cut finer: an atom's sub-window keeps the atom and
    /// few of the other values.
    pub fn expected_keys(&self, w: Window, inside: u64) -> f64 {
        let from = self.atom_bins.partition_point(|a| a.0 < w.0);
        let held = &self.atom_bins[from..from + self.atom_bins[from..].partition_point(|a| a.0 <= w.1)];
        let atoms = held.iter().filter(|a| a.1 > 1).count();
        if atoms == 0 {
            return inside as f64;
        }
        let once = held.iter().filter(|a| a.1 == 1).count() as f64;
        let values: u64 = held.iter().map(|a| a.1).sum();
        (atoms as f64 + inside as f64 * once / values as f64).min(inside as f64)
    }

    /// A valid map has a finite `lo`, a finite, nonnegative `scale`, its atoms' bins
    /// in increasing order with positive counts, and a grid size [`grid_bins`] may give.
    pub fn is_valid(&self) -> bool {
        self.lo.is_finite()
            && self.scale.is_finite()
            && self.scale >= 0.0
            && self.atom_bins.windows(2).all(|a| a[0].0 < a[1].0)
            && self.atom_bins.iter().all(|a| a.1 > 0)
            && self.grid.is_power_of_two()
            && (MIN_GRID_BINS..=MAX_GRID_BINS).contains(&self.grid)
    }

    /// Histogram bins per scenario: the grid's, and one below and one above it.
    pub fn bins(&self) -> usize {
        self.grid + 2
    }

    /// The bin of `v`: nondecreasing in `key(v)` over all doubles.
    #[inline]
    pub fn bin(&self, v: f64) -> usize {
        if v.is_nan() {
            return if v.is_sign_negative() { 0 } else { self.grid + 1 };
        }
        if v < self.lo {
            return 0;
        }
        let x = (v - self.lo) * self.scale;
        if x >= self.grid as f64 {
            self.grid + 1
        } else {
            x as usize + 1
        }
    }

    /// The keys of the values in bin `b`.
    pub fn window(&self, b: usize) -> Window {
        // the first key whose bin is at least `b` (2^64 if none)
        let first = |b: usize| -> u128 {
            let (mut lo, mut hi) = (0u128, 1u128 << 64);
            while lo < hi {
                let mid = (lo + hi) / 2;
                if self.bin(unkey(mid as u64)) >= b {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            lo
        };
        let (a, z) = (first(b), first(b + 1));
        (a.min(u64::MAX as u128) as u64, (z.max(1) - 1) as u64)
    }
}

/// The sub-bin (of [`SUB_BINS`]) of key `k` inside window `w`.
#[inline]
pub fn sub_bin(w: Window, k: u64) -> usize {
    let span = (w.1 - w.0) as u128 + 1;
    ((k - w.0) as u128 * SUB_BINS as u128 / span) as usize
}

/// The keys of sub-bin `s` of window `w` (empty, hi < lo, when the window
/// has fewer keys than sub-bins).
pub fn sub_window(w: Window, s: usize) -> Window {
    let span = (w.1 - w.0) as u128 + 1;
    // k is in sub-bin s iff s·span ≤ (k − lo)·SUB_BINS < (s + 1)·span
    let start = |s: usize| (s as u128 * span).div_ceil(SUB_BINS as u128);
    let (a, z) = (start(s), start(s + 1));
    (w.0 + a as u64, (w.0 as u128 + z - 1) as u64)
}

/// Whether key `k` is inside window `w`.
#[inline]
pub fn contains(w: Window, k: u64) -> bool {
    w.0 <= k && k <= w.1
}

/// The pilot paths of `n`: runs of consecutive paths spread evenly over
/// 0..n, as (first path, count); all paths when n ≤ [`PILOT_PATHS`].
pub fn pilot_runs(n: u64) -> Vec<(u64, u64)> {
    if n <= PILOT_PATHS {
        return vec![(0, n)];
    }
    let runs = PILOT_PATHS / PILOT_RUN;
    (0..runs).map(|m| (m * (n / runs), PILOT_RUN)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Vec<f64> {
        let mut v = vec![
            f64::NEG_INFINITY,
            -1e300,
            -2.5,
            -0.0,
            0.0,
            1e-300,
            0.999_999,
            1.0,
            1.0 + 1e-12,
            3.0,
            1e300,
            f64::INFINITY,
        ];
        v.extend((0..2000).map(|i| -5.0 + i as f64 * 0.0071));
        v
    }

    #[test]
    fn bins_are_monotone_and_windows_hold_exactly_their_bins() {
        for map in [MIN_GRID_BINS, MAX_GRID_BINS].into_iter().flat_map(|g| {
            [
                BinMap::from_pilot([-3.0, 2.0, 0.5].into_iter(), g),
                BinMap::from_pilot([1.0, 1.0].into_iter(), g),
                BinMap::from_pilot(std::iter::empty(), g),
                BinMap::from_pilot([-1e308, 1e308].into_iter(), g),
            ]
        }) {
            assert!(map.is_valid());
            let mut v = values();
            v.sort_by_key(|&x| key(x));
            for w in v.windows(2) {
                assert!(map.bin(w[0]) <= map.bin(w[1]), "{map:?} {w:?}");
            }
            for &x in &v {
                let b = map.bin(x);
                assert!(
                    contains(map.window(b), key(x)),
                    "{map:?} {x} bin {b} {:?}",
                    map.window(b)
                );
                if b > 0 {
                    assert!(!contains(map.window(b - 1), key(x)));
                }
                assert!(!contains(map.window(b + 1), key(x)));
            }
            assert_eq!(map.window(0).0, 0);
            assert_eq!(map.window(map.grid + 1).1, u64::MAX);
        }
    }

    #[test]
    fn the_grid_has_a_bin_per_16_paths_within_its_bounds() {
        assert_eq!(grid_bins(0), MIN_GRID_BINS);
        assert_eq!(grid_bins(16 * 1024), 1024);
        assert_eq!(grid_bins(16 * 1024 + 16), 2048);
        assert_eq!(grid_bins(200_000), 16_384);
        assert_eq!(grid_bins(1_000_000), MAX_GRID_BINS);
        assert_eq!(grid_bins(u64::MAX), MAX_GRID_BINS);
        let n: Vec<u64> = (0..64).map(|s| 1u64 << s).collect();
        assert!(n.windows(2).all(|w| grid_bins(w[0]) <= grid_bins(w[1])));
        let bad = BinMap {
            grid: 3000,
            ..BinMap::from_pilot([0.0, 1.0].into_iter(), 2048)
        };
        assert!(!bad.is_valid());
    }

    #[test]
    fn the_pilot_tells_atoms() {
        let counts = BinMap::from_pilot((0..1000).map(|i| (i % 10) as f64), MIN_GRID_BINS);
        assert_eq!(
            counts.atom_bins,
            (0..10).map(|i| (key(i as f64), 100)).collect::<Vec<_>>()
        );
        let w = counts.window(counts.bin(3.0));
        assert_eq!(counts.expected_keys(w, 1_000_000), 1.0);
        let smooth = BinMap::from_pilot((0..1000).map(|i| i as f64 * 0.37), MIN_GRID_BINS);
        assert!(smooth.atom_bins.is_empty());
        assert_eq!(smooth.expected_keys((0, u64::MAX), 5000), 5000.0);
        // a ruined NAV: 0 nine times in ten, the rest continuous; the window of 0 holds
        // one key, the windows beside it as many keys as values
        let nav: Vec<f64> = (0..4000)
            .map(|i| if i % 10 == 0 { 0.01 + i as f64 * 1e-4 } else { 0.0 })
            .collect();
        let ruined = BinMap::from_pilot(nav.into_iter(), MIN_GRID_BINS);
        assert_eq!(
            ruined.atom_bins,
            vec![(key(0.0), 3600)],
            "the bin of 0 holds no other pilot value"
        );
        assert!(ruined.is_valid());
        assert_eq!(ruined.expected_keys(ruined.window(ruined.bin(0.0)), 900_000), 1.0);
        assert_eq!(ruined.expected_keys(ruined.window(ruined.bin(0.2)), 900), 900.0);
        // one bin of 0, 0 and 0.5 (the pilot's top value above it): a third of its
        // values are not the atom; once cut finer, the sub-window of 0 holds 0 alone and
        // the one of 0.5 no atom
        let wide = BinMap {
            grid: MIN_GRID_BINS,
            ..BinMap::from_pilot([0.0, 0.0, 0.5, 1.0].into_iter(), 1)
        };
        assert_eq!(wide.atom_bins, vec![(key(0.0), 2), (key(0.5), 1)]);
        assert_eq!(wide.expected_keys((0, key(0.75)), 999), 334.0);
        assert_eq!(wide.expected_keys((0, key(0.25)), 999), 1.0);
        assert_eq!(wide.expected_keys((key(0.25), key(0.75)), 999), 999.0);
        // (an empty sub-window holds nothing)
        assert_eq!(wide.expected_keys((key(0.0) + 1, key(0.0)), 0), 0.0);
        let unsorted = BinMap {
            atom_bins: vec![(5, 2), (3, 1)],
            ..wide.clone()
        };
        assert!(!unsorted.is_valid());
        assert!(!BinMap {
            atom_bins: vec![(5, 0)],
            ..wide
        }
        .is_valid());
    }

    #[test]
    fn sub_windows_tile_their_window() {
        for w in [(0u64, u64::MAX), (17, 17 + 5000), (100, 100 + 4095), (5, 9)] {
            let mut next = w.0 as u128;
            for s in 0..SUB_BINS {
                let sw = sub_window(w, s);
                if sw.1 < sw.0 {
                    continue; // an empty sub-bin of a narrow window
                }
                assert_eq!(sw.0 as u128, next);
                assert_eq!(sub_bin(w, sw.0), s);
                assert_eq!(sub_bin(w, sw.1), s);
                next = sw.1 as u128 + 1;
            }
            assert_eq!(next, w.1 as u128 + 1);
        }
    }

    #[test]
    fn pilot_runs_are_inside_and_disjoint() {
        for n in [1u64, 4096, 4097, 100_000, 1 << 40] {
            let runs = pilot_runs(n);
            let total: u64 = runs.iter().map(|r| r.1).sum();
            assert_eq!(total, n.min(PILOT_PATHS));
            for w in runs.windows(2) {
                assert!(w[0].0 + w[0].1 <= w[1].0);
            }
            assert!(runs.last().is_some_and(|r| r.0 + r.1 <= n));
        }
    }
}
