//! Sorting and running sums for the weighted statistics of the Python layer
//! (`geoscenario.stats`): the same results, bit for bit, as the NumPy code
//! they replace, in less time.

use std::ops::Range;

use rayon::prelude::*;

/// Values below which [`argsort`] sorts on one thread.
const PARALLEL_MIN: usize = 1 << 15;

/// The order key of a double: unsigned integers in the order of the values,
/// NumPy's order: −0.0 equal to +0.0, every NaN after +∞ and equal to the others.
fn key(v: f64) -> u64 {
    if v.is_nan() {
        return u64::MAX;
    }
    let bits = (v + 0.0).to_bits(); // (−0.0 + 0.0 is +0.0)
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// The stable ascending sort of `x` as indices: NumPy's
/// `np.argsort(x, kind="stable")`, the same permutation (equal values, −0.0 and
/// +0.0 among them, keep their order; NaNs come last, in their order). Sorts
/// (key, index) pairs, whose order is total, on all threads.
pub fn argsort(x: &[f64]) -> Vec<i64> {
    let mut pairs: Vec<(u64, u64)> = x.iter().enumerate().map(|(i, &v)| (key(v), i as u64)).collect();
    if pairs.len() >= PARALLEL_MIN {
        pairs.par_sort_unstable();
    } else {
        pairs.sort_unstable();
    }
    pairs.into_iter().map(|(_, i)| i as i64).collect()
}

/// Running sums of `w` to about one rounding each, as `stats._cumsum` computes
/// them in NumPy, with its bits: the plain running sums s_i, plus the running sum
/// of each addition's rounding error (Knuth's TwoSum), then a running maximum
/// (the corrected sums can step back by a rounding where a weight is below it).
pub fn compensated_cumsum(w: &[f64]) -> Vec<f64> {
    let Some((&first, rest)) = w.split_first() else {
        return Vec::new();
    };
    // written by index into a zeroed vector: a push's possible reallocation is a call
    // that made the compiler keep s, err and top on the stack, at 3 times the time
    let mut out = vec![0.0; w.len()];
    out[0] = first;
    let (mut s, mut err, mut top) = (first, 0.0f64, first);
    for (o, &b) in out[1..].iter_mut().zip(rest) {
        let t = s + b;
        // TwoSum of s + b = t, in NumPy's order: (s − (t − bb)) + (b − bb), bb = t − s
        let bb = t - s;
        err += (s - (t - bb)) + (b - bb);
        s = t;
        let v = t + err;
        // np.maximum.accumulate: a NaN, once met, stays; of equal values (±0) the first
        top = if v > top || (v.is_nan() && !top.is_nan()) {
            v
        } else {
            top
        };
        *o = top;
    }
    out
}

/// The entries of `order` (the paths in sorted order) that fall in the paths `run`,
/// in their order: their values `x[i]`, weights `w[i]` and shares `w[i] / total`, each
/// as NumPy's `x[idx]`, `w[idx]` and `w[idx] / total` give it. In fixed chunks of
/// `order` on all threads: the entries of each chunk counted, then written to their
/// place.
pub fn gather_run(x: &[f64], w: &[f64], order: &[i64], run: Range<usize>, total: f64) -> [Vec<f64>; 3] {
    const CHUNK: usize = 1 << 16;
    // (an index outside the run, a negative one included, is passed over: none is read)
    let inside = |i: i64| usize::try_from(i).is_ok_and(|i| run.contains(&i));
    let counts: Vec<usize> = order
        .par_chunks(CHUNK)
        .map(|c| c.iter().filter(|&&i| inside(i)).count())
        .collect();
    let len = counts.iter().sum();
    let mut out = [vec![0.0; len], vec![0.0; len], vec![0.0; len]];
    let [xs, ws, shares] = &mut out;
    let (mut xs, mut ws, mut shares) = (&mut xs[..], &mut ws[..], &mut shares[..]);
    let mut parts = Vec::with_capacity(counts.len());
    for &k in &counts {
        let (a, rest_x) = std::mem::take(&mut xs).split_at_mut(k);
        let (b, rest_w) = std::mem::take(&mut ws).split_at_mut(k);
        let (c, rest_s) = std::mem::take(&mut shares).split_at_mut(k);
        parts.push((a, b, c));
        (xs, ws, shares) = (rest_x, rest_w, rest_s);
    }
    parts
        .into_par_iter()
        .zip(order.par_chunks(CHUNK))
        .for_each(|((a, b, c), chunk)| {
            let picked = chunk.iter().filter(|&&i| inside(i)).map(|&i| i as usize);
            for (((a, b), c), i) in a.iter_mut().zip(b.iter_mut()).zip(c.iter_mut()).zip(picked) {
                (*a, *b, *c) = (x[i], w[i], w[i] / total);
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argsort_is_stable_and_puts_nans_last() {
        let x = [
            2.0,
            f64::NAN,
            -0.0,
            1.0,
            0.0,
            -f64::NAN,
            1.0,
            f64::NEG_INFINITY,
            -0.0,
            f64::INFINITY,
        ];
        assert_eq!(argsort(&x), [7, 2, 4, 8, 3, 6, 0, 9, 1, 5]);
        // a long run of ties on all threads keeps its order
        let y: Vec<f64> = (0..3 * PARALLEL_MIN).map(|i| (i % 5) as f64).collect();
        let order = argsort(&y);
        for w in order.windows(2) {
            let (a, b) = (w[0] as usize, w[1] as usize);
            assert!(y[a] < y[b] || (y[a] == y[b] && a < b), "{a} {b}");
        }
    }

    #[test]
    fn the_compensated_cumsum_recovers_what_a_plain_one_loses() {
        // 95,000 weights of 1e-5: a plain running sum drifts from k·1e-5 by ~1e-12
        let w = vec![1e-5; 95_000];
        let s = compensated_cumsum(&w);
        let plain: f64 = w.iter().sum();
        let exact = 0.95;
        assert!((s[94_999] - exact).abs() <= 2.0 * f64::EPSILON * exact, "{}", s[94_999]);
        assert!((plain - exact).abs() > 1e3 * f64::EPSILON * exact, "{plain}");
        assert!(s.windows(2).all(|p| p[1] >= p[0]));
    }

    #[test]
    fn a_run_gathered_from_the_order_is_numpys_selection() {
        let n = 3 * (1 << 16) + 777; // (several chunks of the gather, the last one short)
        let x: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1013) as f64 - 500.0).collect();
        let w: Vec<f64> = (0..n).map(|i| 1.0 + (i % 7) as f64).collect();
        let order = argsort(&x);
        for run in [0..n, 1000..70_000, 5..5, n - 1..n] {
            let total = 3.7;
            let [xs, ws, shares] = gather_run(&x, &w, &order, run.clone(), total);
            let idx: Vec<usize> = order.iter().map(|&i| i as usize).filter(|i| run.contains(i)).collect();
            assert_eq!(xs, idx.iter().map(|&i| x[i]).collect::<Vec<_>>());
            assert_eq!(ws, idx.iter().map(|&i| w[i]).collect::<Vec<_>>());
            assert_eq!(shares, idx.iter().map(|&i| w[i] / total).collect::<Vec<_>>());
            assert!(xs.windows(2).all(|p| p[0] <= p[1]));
        }
        // indices outside the paths are passed over, not read
        let [xs, ..] = gather_run(&x, &w, &[-1, 3, n as i64 + 5, 2], 0..n, 1.0);
        assert_eq!(xs, vec![x[3], x[2]]);
    }
}
