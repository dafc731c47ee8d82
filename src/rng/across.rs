//! The random numbers of [`WIDTH`] paths at once, lane-major: number `i` of a
//! stream for every path of a kernel block in one `[f64; WIDTH]`, so that the
//! kernel's per-month arithmetic runs over the paths in one vector register.
//!
//! The numbers are those of [`PathRng`], bit for bit: the same Philox blocks
//! (the paths differ in the counter's first two words), the same conversion
//! to uniforms and the same ziggurat arithmetic. Blocks of different paths
//! are independent, so the Philox rounds of a whole block of paths advance
//! together in vector lanes. The functions are `#[inline(always)]`: they take
//! the instruction set of the (multiversioned) kernel they are inlined into.

use super::{locate, philox_rounds, slow_normal, unit_of, word, ziggurat_fast, PathRng};
use crate::simd::multiversion;

/// Paths per block.
pub const WIDTH: usize = 8;

/// Philox blocks advanced together (four words each: a quarter of the vector
/// register file at AVX-512, so that the round latencies overlap): the batch
/// size to give [`PathsRng::normals_at`].
pub const CHAINS: usize = 4;

/// The generators of the paths of one block, lane by lane.
#[derive(Clone, Copy, Debug)]
pub struct PathsRng {
    key: [u32; 2],
    lo: [u64; WIDTH],
    hi: [u64; WIDTH],
    sign: [f64; WIDTH],
    /// Some lane's sign is −1 (antithetic pairs): the normals are multiplied by it.
    flip: bool,
}

impl PathsRng {
    /// The paths of `rngs` (at most [`WIDTH`], at least one); missing lanes
    /// repeat the last path, and their numbers are to be ignored.
    pub fn new(rngs: &[PathRng]) -> PathsRng {
        let last = rngs[rngs.len() - 1];
        let at = |l: usize| rngs.get(l).copied().unwrap_or(last);
        let sign = std::array::from_fn(|l| at(l).sign);
        PathsRng {
            key: last.key,
            lo: std::array::from_fn(|l| at(l).path_lo as u64),
            hi: std::array::from_fn(|l| at(l).path_hi as u64),
            sign,
            flip: sign.iter().any(|&s| s != 1.0),
        }
    }

    /// Philox4x32-10 of block `blocks[c]` of `stream` for every path, as the
    /// block's two words: `[c][half][lane]`.
    ///
    /// On AVX-512 and AVX2 the rounds run in registers; elsewhere the words of
    /// all blocks and paths sit in flat arrays (counter `c·WIDTH + l`) for
    /// `philox_rounds`.
    #[inline(always)]
    fn words<const C: usize>(&self, stream: u32, blocks: [u32; C]) -> [[[u64; WIDTH]; 2]; C] {
        let mut w = [[[0u64; WIDTH]; 2]; C];
        #[cfg(target_arch = "x86_64")]
        {
            use super::x86;
            match crate::simd::level() {
                // SAFETY: a tier is only selected on CPUs that have its instructions.
                crate::simd::AVX512 => {
                    unsafe { x86::across_words_avx512::<C>(self.key, &self.lo, &self.hi, stream, blocks, &mut w) };
                    return w;
                }
                crate::simd::AVX2 => {
                    unsafe { x86::across_words_avx2::<C>(self.key, &self.lo, &self.hi, stream, blocks, &mut w) };
                    return w;
                }
                _ => {}
            }
        }
        let (mut x0, mut x1) = ([self.lo; C], [self.hi; C]);
        let mut x2 = [[stream as u64; WIDTH]; C];
        let mut x3 = [[0u64; WIDTH]; C];
        for (x, &b) in x3.iter_mut().zip(&blocks) {
            *x = [b as u64; WIDTH];
        }
        let (x0, x1) = (x0.as_flattened_mut(), x1.as_flattened_mut());
        let (x2, x3) = (x2.as_flattened_mut(), x3.as_flattened_mut());
        philox_rounds([x0, x1, x2, x3], self.key);
        for (c, [w0, w1]) in w.iter_mut().enumerate() {
            for (l, (v0, v1)) in w0.iter_mut().zip(w1.iter_mut()).enumerate() {
                let j = c * WIDTH + l;
                *v0 = word(x0[j], x1[j]);
                *v1 = word(x2[j], x3[j]);
            }
        }
        w
    }

    /// The uniforms of each of the blocks, `[c][half][lane]`.
    #[inline(always)]
    fn units<const C: usize>(&self, stream: u32, blocks: [u32; C]) -> [[[f64; WIDTH]; 2]; C] {
        self.words(stream, blocks).map(|half| half.map(|w| w.map(unit_of)))
    }

    /// The normals of each of the blocks, `[c][half][lane]`: the fast
    /// ziggurat step of every word, then the slow path of the few it leaves.
    #[inline(always)]
    fn normal_pairs<const C: usize>(&self, stream: u32, blocks: [u32; C]) -> [[[f64; WIDTH]; 2]; C] {
        let w = self.words(stream, blocks);
        let mut z = [[[0.0; WIDTH]; 2]; C];
        let fail = ziggurat_fast(w.as_flattened().as_flattened(), z.as_flattened_mut().as_flattened_mut());
        if fail != 0 {
            self.finish(stream, blocks, &w, &mut z, fail);
        }
        if self.flip {
            for zc in z.iter_mut() {
                for zh in zc.iter_mut() {
                    for (v, s) in zh.iter_mut().zip(&self.sign) {
                        *v *= s;
                    }
                }
            }
        }
        z
    }

    /// The slow ziggurat path of the words of `normal_pairs` whose bits are set
    /// in `fail` (bit `16c + 8·half + lane`).
    #[cold]
    #[inline(never)]
    fn finish<const C: usize>(
        &self,
        stream: u32,
        blocks: [u32; C],
        w: &[[[u64; WIDTH]; 2]; C],
        z: &mut [[[f64; WIDTH]; 2]; C],
        mut fail: u64,
    ) {
        while fail != 0 {
            let k = fail.trailing_zeros() as usize;
            fail &= fail - 1;
            let (c, half, l) = (k / (2 * WIDTH), k / WIDTH % 2, k % WIDTH);
            let b = blocks[c] as u64;
            // number of the first half of block b: 16·(b / 8) + b mod 8
            let index = ((b >> 3) << 4 | (b & 7)) + (WIDTH * half) as u64;
            let (lo, hi) = (self.lo[l] as u32, self.hi[l] as u32);
            z[c][half][l] = slow_normal(w[c][half][l], self.key, lo, hi, stream, index);
        }
    }

    /// Uniform `index` of `stream` on every path.
    #[inline(always)]
    pub fn uniform(&self, stream: u32, index: u64) -> [f64; WIDTH] {
        let (b, second) = locate(index);
        self.units(stream, [b])[0][second as usize]
    }

    /// Normal `index` of `stream` on every path.
    #[inline(always)]
    pub fn normal(&self, stream: u32, index: u64) -> [f64; WIDTH] {
        self.normals_at(stream, [index])[0]
    }

    /// Normals `indices[k]` of `stream` on every path, their Philox blocks
    /// advanced together (one at a time, each would wait on its rounds'
    /// latency).
    #[inline(always)]
    pub fn normals_at<const C: usize>(&self, stream: u32, indices: [u64; C]) -> [[f64; WIDTH]; C] {
        let at = indices.map(locate);
        let z = self.normal_pairs(stream, at.map(|(b, _)| b));
        std::array::from_fn(|k| z[k][at[k].1 as usize])
    }

    /// Uniforms `0..out.len()` of `stream`: `out[i]` holds number i of every path.
    #[inline(always)]
    pub fn fill_uniforms(&self, stream: u32, out: &mut [[f64; WIDTH]]) {
        self.fill::<false>(stream, out);
    }

    /// Normals `0..out.len()` of `stream`: `out[i]` holds number i of every path.
    #[inline(always)]
    pub fn fill_normals(&self, stream: u32, out: &mut [[f64; WIDTH]]) {
        self.fill::<true>(stream, out);
    }

    /// Normals (`NORMAL`) or uniforms `0..out.len()` of `stream`, [`CHAINS`]
    /// blocks at a time. Number i sits in one half of one block ([`locate`]):
    /// blocks are visited in order and only the halves below `out.len()` are
    /// stored. (No closures here: a closure would not be inlined, and would
    /// lose the instruction set of the kernel.)
    #[inline(always)]
    fn fill<const NORMAL: bool>(&self, stream: u32, out: &mut [[f64; WIDTH]]) {
        let n = out.len() as u64;
        // blocks in use: every block of a whole group of 16 numbers, then the
        // first `n mod 16` blocks of the last (partial) group, capped at 8
        let blocks = (n >> 4) * 8 + (n & 15).min(8);
        let mut b0 = 0u32;
        while (b0 as u64) < blocks {
            let batch: [u32; CHAINS] = std::array::from_fn(|c| b0 + c as u32);
            let z = if NORMAL {
                self.normal_pairs(stream, batch)
            } else {
                self.units(stream, batch)
            };
            for (c, zc) in z.iter().enumerate() {
                let b = (b0 + c as u32) as u64;
                // number of the first half of block b: 16·(b / 8) + b mod 8
                let i = ((b >> 3) << 4) | (b & 7);
                for (half, zh) in zc.iter().enumerate() {
                    let at = i + 8 * half as u64;
                    if at < n {
                        out[at as usize] = *zh;
                    }
                }
            }
            b0 += CHAINS as u32;
        }
    }
}

multiversion! {
    /// The sum of normals `0..steps` of `stream` over paths `first..first + n`
    /// of `seed` (not antithetic), drawn [`WIDTH`] paths at a time as the
    /// kernel draws them, and nothing else computed or stored: the random
    /// numbers' share of a simulation's time. Each lane sums rows `k mod 4`
    /// in accumulator k; the lanes' totals are added in path order.
    pub fn normals_sum(seed: u64, first: u64, n: u64, stream: u32, steps: usize) -> f64 {
        let mut rows = vec![[0.0; WIDTH]; steps];
        let mut total = 0.0;
        let mut p = 0;
        while p < n {
            let lanes = (n - p).min(WIDTH as u64) as usize;
            let rngs: [PathRng; WIDTH] = std::array::from_fn(|l| PathRng::new(seed, first + p + l as u64, false));
            PathsRng::new(&rngs[..lanes]).fill_normals(stream, &mut rows);
            // four accumulators per lane, so that the additions do not wait on each other
            let mut acc = [[0.0; WIDTH]; 4];
            for four in rows.chunks(4) {
                for (a, row) in acc.iter_mut().zip(four) {
                    for (a, z) in a.iter_mut().zip(row) {
                        *a += z;
                    }
                }
            }
            total += (0..lanes).map(|l| (acc[0][l] + acc[1][l]) + (acc[2][l] + acc[3][l])).sum::<f64>();
            p += lanes as u64;
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::tests::tiers_and_look_ups;

    /// Normals and uniforms filled, then one of each drawn alone, then a batch of normals.
    type Draws = (
        Vec<[f64; WIDTH]>,
        Vec<[f64; WIDTH]>,
        [f64; WIDTH],
        [f64; WIDTH],
        [[f64; WIDTH]; CHAINS],
    );

    /// Indices of the batch of normals: scattered over blocks and halves.
    fn batch(n: usize) -> [u64; CHAINS] {
        [(3 << 16) | 9, n as u64, 0, (1 << 16) | 1]
    }

    multiversion! {
        /// The kernel's view: every helper inlined into a multiversioned function.
        fn draws(rngs: &PathsRng, n: usize, stream: u32) -> Draws {
            let (mut z, mut u) = (vec![[0.0; WIDTH]; n], vec![[0.0; WIDTH]; n]);
            rngs.fill_normals(stream, &mut z);
            rngs.fill_uniforms(stream + 1, &mut u);
            let one = (rngs.normal(stream, n as u64 + 3), rngs.uniform(stream + 1, n as u64 + 5));
            (z, u, one.0, one.1, rngs.normals_at(stream, batch(n)))
        }
    }

    #[test]
    fn normals_sum_adds_each_paths_scalar_draws() {
        // whole and partial blocks of paths, rows in whole and partial groups of four,
        // paths whose high counter word is set
        for (first, n, steps) in [(0u64, 8u64, 4usize), (5, 19, 7), (1 << 33, 3, 1), (40, 2_100, 30)] {
            let want: f64 = (first..first + n)
                .map(|p| {
                    let r = PathRng::new(11, p, false);
                    (0..steps as u64).map(|i| r.normal(2, i)).sum::<f64>()
                })
                .sum();
            let got = normals_sum(11, first, n, 2, steps);
            let tol = 1e-13 * (n as usize * steps) as f64;
            assert!((got - want).abs() <= tol, "{first}, {n}, {steps}: {got} against {want}");
        }
    }

    #[test]
    fn lanes_equal_each_paths_scalar_draws_on_every_tier() {
        use crate::simd;
        let _pinned = simd::pin();
        for antithetic in [false, true] {
            // a full block, a partial one, and paths whose high counter word is set
            for (first, lanes) in [(0u64, WIDTH), (1 << 33, 5), (77, 1)] {
                let paths: Vec<PathRng> = (0..lanes)
                    .map(|l| PathRng::new(99, first + l as u64, antithetic))
                    .collect();
                let block = PathsRng::new(&paths);
                for (tier, gather) in tiers_and_look_ups() {
                    let used = simd::set_max_level(tier);
                    simd::set_gathers(gather);
                    for n in [1, 7, 8, 9, 16, 17, 24, 25, 33, 40, 192, 2_000] {
                        let (z, u, z1, u1, zs) = draws(&block, n, 5);
                        for (l, p) in paths.iter().enumerate() {
                            for i in 0..n {
                                let want = p.normal(5, i as u64).to_bits();
                                assert_eq!(
                                    z[i][l].to_bits(),
                                    want,
                                    "tier {used}/{gather}, n {n}, normal {i}, lane {l}"
                                );
                                let want = p.uniform(6, i as u64).to_bits();
                                assert_eq!(u[i][l].to_bits(), want, "tier {used}, n {n}, uniform {i}, lane {l}");
                            }
                            assert_eq!(z1[l].to_bits(), p.normal(5, n as u64 + 3).to_bits());
                            assert_eq!(u1[l].to_bits(), p.uniform(6, n as u64 + 5).to_bits());
                            for (zk, &i) in zs.iter().zip(&batch(n)) {
                                assert_eq!(zk[l].to_bits(), p.normal(5, i).to_bits(), "batch normal {i}");
                            }
                        }
                    }
                }
            }
        }
    }
}
