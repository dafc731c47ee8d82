//! Parallel sums with the same bits for any number of threads.
//!
//! A rayon `sum`/`reduce` adds partial results in a tree whose shape depends on
//! how the work was split among threads, so its last bits change with the
//! thread count (and from run to run). Here the terms are cut into fixed chunks
//! of [`CHUNK`], each chunk is summed in order on some thread, and the chunk
//! sums are added in order: one summation order, whatever the threads.

use std::ops::Range;

use rayon::prelude::*;

/// Terms per chunk.
pub const CHUNK: usize = 1 << 14;

/// `Σ_{i<n} f(i)` for `K` sums at once, in the fixed order of the module docs.
pub fn sum_by<const K: usize>(n: usize, f: impl Fn(usize) -> [f64; K] + Sync) -> [f64; K] {
    let total = sum_ranges(n, CHUNK, K, |range, acc| {
        for i in range {
            for (a, v) in acc.iter_mut().zip(f(i)) {
                *a += v;
            }
        }
    });
    std::array::from_fn(|j| total[j])
}

/// `k` sums at once over the fixed chunks of `0..n` (each of `chunk` indices but
/// the last): `f(range, acc)` adds its chunk's terms into `acc` (`k` zeros) in
/// whatever fixed order it chooses, and the chunks' sums are added in order.
pub fn sum_ranges(n: usize, chunk: usize, k: usize, f: impl Fn(Range<usize>, &mut [f64]) + Sync) -> Vec<f64> {
    let size = chunk.max(1);
    let chunk_sum = |c: usize| {
        let mut acc = vec![0.0; k];
        f(c * size..((c + 1) * size).min(n), &mut acc);
        acc
    };
    let chunks = n.div_ceil(size);
    let parts: Vec<Vec<f64>> = if chunks > 1 {
        (0..chunks).into_par_iter().map(chunk_sum).collect()
    } else {
        (0..chunks).map(chunk_sum).collect()
    };
    let mut total = vec![0.0; k];
    for p in parts {
        for (t, v) in total.iter_mut().zip(p) {
            *t += v;
        }
    }
    total
}

/// `Σ_i f(a_i, b_i)` for `K` sums at once (`b` at least as long as `a`), in eight
/// interleaved partial sums (term i in lane i mod 8), the lanes added in order at the
/// end: a fixed order for a given length, the order within a chunk of [`sum_ranges`].
/// The terms are read in whole blocks of eight, with no index to check: a single sum
/// (a dot product) compiles to vector operations.
#[inline(always)]
pub fn lanes<const K: usize>(a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> [f64; K]) -> [f64; K] {
    let b = &b[..a.len()];
    // sum j's eight lanes side by side (a vector), not each lane's K sums
    let mut acc = [[0.0f64; 8]; K];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        // (sum by sum, each over the eight lanes: the loop order the compiler turns into
        // vector operations; lane by lane it left two sums scalar)
        for (j, acc) in acc.iter_mut().enumerate() {
            for (l, s) in acc.iter_mut().enumerate() {
                *s += f(x[l], y[l])[j];
            }
        }
    }
    for (l, (&x, &y)) in ra.iter().zip(rb).enumerate() {
        for (acc, v) in acc.iter_mut().zip(f(x, y)) {
            acc[l] += v;
        }
    }
    std::array::from_fn(|j| acc[j].iter().fold(0.0, |s, a| s + a))
}

/// `Σ x` in the fixed order of the module docs (for up to [`CHUNK`] terms: in index order).
pub fn sum(x: &[f64]) -> f64 {
    sum_by(x.len(), |i| [x[i]])[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bits_for_any_thread_count_and_in_order_for_one_chunk() {
        let x: Vec<f64> = (0..5 * CHUNK + 17)
            .map(|i| ((i * 7919) % 1000) as f64 * 1e-3 + 1e-9 * i as f64)
            .collect();
        let reference = sum(&x);
        for threads in [1, 2, 3, 7] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            for _ in 0..5 {
                assert_eq!(
                    pool.install(|| sum(&x)).to_bits(),
                    reference.to_bits(),
                    "{threads} threads"
                );
            }
        }
        let ordered: f64 = x.iter().sum();
        assert!((reference - ordered).abs() <= 1e-12 * ordered);
        assert_eq!(sum(&x[..CHUNK]).to_bits(), x[..CHUNK].iter().sum::<f64>().to_bits());
        let [a, b] = sum_by(x.len(), |i| [x[i], 2.0 * x[i]]);
        assert_eq!((a.to_bits(), b), (reference.to_bits(), 2.0 * reference));
    }
}
