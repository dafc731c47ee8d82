//! Parallel searches of large slices for the first value breaking a rule.
//!
//! Input checks scan every value of arrays of hundreds of millions of values.
//! Searching element by element in parallel (`par_iter().position_first`) costs
//! several nanoseconds a value in rayon's splitting; here each block of
//! [`BLOCK`] values is searched in a plain loop and the blocks in parallel,
//! which leaves the memory bandwidth as the limit.

use rayon::prelude::*;

/// Values per block.
pub const BLOCK: usize = 1 << 14;

/// The index of the first value of `x` for which `bad` holds, if any.
pub fn first_where<T: Sync>(x: &[T], bad: impl Fn(&T) -> bool + Sync) -> Option<usize> {
    if x.len() <= BLOCK {
        return x.iter().position(bad);
    }
    x.par_chunks(BLOCK)
        .enumerate()
        .find_map_first(|(b, c)| c.iter().position(&bad).map(|i| b * BLOCK + i))
}

/// The first `i < n` for which `bad(i)` holds, if any (as [`first_where`], for
/// rules that read more than one slice, or a slice with a stride).
pub fn first_index(n: usize, bad: impl Fn(usize) -> bool + Sync) -> Option<usize> {
    if n <= BLOCK {
        return (0..n).find(|&i| bad(i));
    }
    (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .find_map_first(|b| (b * BLOCK..((b + 1) * BLOCK).min(n)).find(|&i| bad(i)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_bad_value_whatever_the_block() {
        let n = 5 * BLOCK + 17;
        for at in [0, 1, BLOCK - 1, BLOCK, 3 * BLOCK + 5, n - 1] {
            let mut x = vec![1.0_f64; n];
            x[at] = f64::NAN;
            x[n - 1] = f64::INFINITY; // a later bad value does not win
            let want = at.min(n - 1);
            assert_eq!(first_where(&x, |v| !v.is_finite()), Some(want));
            assert_eq!(first_index(n, |i| !x[i].is_finite()), Some(want));
        }
        let clean = vec![0.5_f64; n];
        assert_eq!(first_where(&clean, |v| !v.is_finite()), None);
        assert_eq!(first_index(n, |i| clean[i] > 1.0), None);
        assert_eq!(first_where(&[1.0, f64::NAN], |v: &f64| v.is_nan()), Some(1));
        assert_eq!(first_where(&[] as &[f64], |v| v.is_nan()), None);
    }
}
