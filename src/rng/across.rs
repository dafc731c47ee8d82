//! The random numbers of [`WIDTH`] paths at once, lane-major: number `i` of a
//! stream for every path of a kernel block in one `[f64; WIDTH]`, so that the
//! kernel's per-month arithmetic runs over the paths in one vector register.
//!
//! The numbers are those of [`PathRng`], bit for bit: the same Philox blocks
//! (the paths differ in the counter's first two words), the same conversion
//! to uniforms and the same Box–Muller arithmetic. Blocks of different paths
//! are independent, so the Philox rounds of a whole block of paths advance
//! together in vector lanes. The functions are `#[inline(always)]`: they take
//! the instruction set of the (multiversioned) kernel they are inlined into.

use super::{box_muller_r, locate, math, philox_rounds, to_unit, PathRng};

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
}

impl PathsRng {
    /// The paths of `rngs` (at most [`WIDTH`], at least one); missing lanes
    /// repeat the last path, and their numbers are to be ignored.
    pub fn new(rngs: &[PathRng]) -> PathsRng {
        let last = rngs[rngs.len() - 1];
        let at = |l: usize| rngs.get(l).copied().unwrap_or(last);
        PathsRng {
            key: last.key,
            lo: std::array::from_fn(|l| at(l).path_lo as u64),
            hi: std::array::from_fn(|l| at(l).path_hi as u64),
            sign: std::array::from_fn(|l| at(l).sign),
        }
    }

    /// Philox4x32-10 of block `blocks[c]` of `stream` for every path, converted
    /// to the block's two uniforms: `[c][half][lane]`.
    ///
    /// On AVX-512 and AVX2 the rounds run in registers; elsewhere the words of
    /// all blocks and paths sit in flat arrays (counter `c·WIDTH + l`) for
    /// `philox_rounds`.
    #[inline(always)]
    fn units<const C: usize>(&self, stream: u32, blocks: [u32; C]) -> [[[f64; WIDTH]; 2]; C] {
        #[cfg(target_arch = "x86_64")]
        {
            use super::x86;
            let mut u = [[[0.0; WIDTH]; 2]; C];
            match crate::simd::level() {
                // SAFETY: a tier is only selected on CPUs that have its instructions.
                crate::simd::AVX512 => {
                    unsafe { x86::across_units_avx512::<C>(self.key, &self.lo, &self.hi, stream, blocks, &mut u) };
                    return u;
                }
                crate::simd::AVX2 => {
                    unsafe { x86::across_units_avx2::<C>(self.key, &self.lo, &self.hi, stream, blocks, &mut u) };
                    return u;
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
        let mut u = [[[0.0; WIDTH]; 2]; C];
        for (c, [u0, u1]) in u.iter_mut().enumerate() {
            for (l, (v0, v1)) in u0.iter_mut().zip(u1.iter_mut()).enumerate() {
                let j = c * WIDTH + l;
                *v0 = to_unit(x0[j], x1[j]);
                *v1 = to_unit(x2[j], x3[j]);
            }
        }
        u
    }

    /// The two Box–Muller normals of each of the blocks, `[c][half][lane]`.
    #[inline(always)]
    fn normal_pairs<const C: usize>(&self, stream: u32, blocks: [u32; C]) -> [[[f64; WIDTH]; 2]; C] {
        let u = self.units(stream, blocks);
        // the blocks' radii, then their angles: each loop runs over all the
        // blocks, so that their (long) dependency chains interleave
        let mut r = [[0.0; WIDTH]; C];
        for (rc, [u1, _]) in r.iter_mut().zip(&u) {
            for l in 0..WIDTH {
                rc[l] = self.sign[l] * box_muller_r(u1[l]);
            }
        }
        let mut z = [[[0.0; WIDTH]; 2]; C];
        for ((zc, [_, u2]), rc) in z.iter_mut().zip(&u).zip(&r) {
            for l in 0..WIDTH {
                let (s, co) = math::sincos_2pi(u2[l]);
                zc[0][l] = rc[l] * co;
                zc[1][l] = rc[l] * s;
            }
        }
        z
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::multiversion;

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
    fn lanes_equal_each_paths_scalar_draws_on_every_tier() {
        use crate::simd;
        let best = simd::set_max_level(simd::AVX512);
        for antithetic in [false, true] {
            // a full block, a partial one, and paths whose high counter word is set
            for (first, lanes) in [(0u64, WIDTH), (1 << 33, 5), (77, 1)] {
                let paths: Vec<PathRng> = (0..lanes)
                    .map(|l| PathRng::new(99, first + l as u64, antithetic))
                    .collect();
                let block = PathsRng::new(&paths);
                for tier in [simd::GENERIC, simd::AVX2, simd::AVX512] {
                    let used = simd::set_max_level(tier);
                    for n in [1, 7, 8, 9, 16, 17, 24, 25, 33, 40, 192] {
                        let (z, u, z1, u1, zs) = draws(&block, n, 5);
                        for (l, p) in paths.iter().enumerate() {
                            for i in 0..n {
                                let want = p.normal(5, i as u64).to_bits();
                                assert_eq!(z[i][l].to_bits(), want, "tier {used}, n {n}, normal {i}, lane {l}");
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
        simd::set_max_level(best);
    }
}
