//! The crate's one source of randomness (MODEL.md §7).
//!
//! Every random number is addressed by `(seed, path, stream, index)` and
//! computed by the counter-based generator Philox4x32-10 (Salmon et al.,
//! "Parallel random numbers: as easy as 1, 2, 3", SC 2011) with the seed as the
//! key and `(path, stream, index / 2)` as the counter. A path's numbers
//! therefore do not depend on which thread, chunk or machine simulates it,
//! nor on the order in which it draws them.
//!
//! Each number takes one half of a Philox block, a 64-bit word: uniforms are
//! its top 52 bits, strictly inside (0, 1); normals come from the word by the
//! ziggurat method (module `ziggurat`), whose rare second looks draw from Philox
//! blocks of their own.

pub mod across;
mod exp_table;
pub mod math;
#[cfg(target_arch = "x86_64")]
mod x86;
mod ziggurat;

use crate::simd::multiversion;

/// Stream ids shared by the whole engine. Per-factor streams add the factor's
/// index to the base.
pub mod streams {
    /// Diffusion shocks: index `t * d + j` for step t and shock j.
    pub const SHOCKS: u32 = 0;
    /// Scenario timing: index 0 is the onset month, index t the Markov draw at t.
    pub const REGIME: u32 = 1;
    /// Factor f's uniforms: `UNIFORM_BASE + f`.
    pub const UNIFORM_BASE: u32 = 0x100;
    /// Factor f's own normals (jump sizes, noise): `NORMAL_BASE + f`.
    pub const NORMAL_BASE: u32 = 0x1_0000;
    /// Asset-level idiosyncratic normals: `ASSET_BASE + a`.
    pub const ASSET_BASE: u32 = 0x2_0000;
}

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

/// Philox4x32-10 on one counter.
#[inline(always)]
pub fn philox4x32(key: [u32; 2], ctr: [u32; 4]) -> [u32; 4] {
    let [mut k0, mut k1] = key;
    let [mut x0, mut x1, mut x2, mut x3] = ctr;
    for _ in 0..10 {
        let p0 = (M0 as u64) * (x0 as u64);
        let p1 = (M1 as u64) * (x2 as u64);
        let (hi0, lo0) = ((p0 >> 32) as u32, p0 as u32);
        let (hi1, lo1) = ((p1 >> 32) as u32, p1 as u32);
        x0 = hi1 ^ x1 ^ k0;
        x1 = lo1;
        x2 = hi0 ^ x3 ^ k1;
        x3 = lo0;
        k0 = k0.wrapping_add(W0);
        k1 = k1.wrapping_add(W1);
    }
    [x0, x1, x2, x3]
}

/// The 64-bit word of two 32-bit Philox words (each in the low half of a u64).
#[inline(always)]
fn word(hi: u64, lo: u64) -> u64 {
    (hi << 32) | (lo & 0xFFFF_FFFF)
}

/// The top 52 bits m of a word as a double, exactly, without a u64→f64
/// instruction (which has no AVX2 form): the double with bits of 2^52 + m,
/// minus 2^52.
#[inline(always)]
fn top_bits(w: u64) -> f64 {
    f64::from_bits(0x4330_0000_0000_0000 | (w >> 12)) - 4_503_599_627_370_496.0
}

/// The uniform in (0, 1) of a word: (m + 1/2) / 2^52 with m its top 52 bits.
#[inline(always)]
fn unit_of(w: u64) -> f64 {
    (top_bits(w) + 0.5) * (1.0 / 4_503_599_627_370_496.0)
}

/// The normal of word `w`, number `index` of `stream` on the path whose
/// counter words are `lo`, `hi` (unsigned: the antithetic sign is the caller's).
#[inline(always)]
fn normal_of(w: u64, key: [u32; 2], lo: u32, hi: u32, stream: u32, index: u64) -> f64 {
    let (z, ok) = ziggurat::fast(w, &ziggurat::TABLES);
    if ok {
        z
    } else {
        slow_normal(w, key, lo, hi, stream, index)
    }
}

/// [`normal_of`] for a word the fast step did not accept.
fn slow_normal(w: u64, key: [u32; 2], lo: u32, hi: u32, stream: u32, index: u64) -> f64 {
    ziggurat::slow(w, &|k| retry_words(key, lo, hi, stream, index, k))
}

/// [`ziggurat::fast`] of every word of `w` (a multiple of 8, at most 64): the
/// signed candidates into `z`; bit k of the result is set when word k needs
/// the slow path ([`slow_normal`]).
#[inline(always)]
fn ziggurat_fast(w: &[u64], z: &mut [f64]) -> u64 {
    assert!(w.len() <= 64 && w.len().is_multiple_of(8) && z.len() >= w.len());
    #[cfg(target_arch = "x86_64")]
    {
        match crate::simd::level() {
            // SAFETY: a tier is only selected on CPUs that have its instructions.
            crate::simd::AVX512 => return unsafe { x86::ziggurat_avx512(w, z) },
            crate::simd::AVX2 => return unsafe { x86::ziggurat_avx2(w, z) },
            _ => {}
        }
    }
    let t = &*ziggurat::TABLES;
    let mut fail = 0;
    for (k, (&wk, zk)) in w.iter().zip(z.iter_mut()).enumerate() {
        let (v, ok) = ziggurat::fast(wk, t);
        *zk = v;
        fail |= (!ok as u64) << k;
    }
    fail
}

/// Attempt k's two words for the ziggurat's slow path of normal `index` of
/// `stream`: a Philox block whose stream word has bit 31 set (no stream's
/// counter does: they are below 2^24) and the attempt in bits 24..31, and whose
/// last word is the index (below 2^32, as [`locate`] requires).
#[inline(always)]
fn retry_words(key: [u32; 2], lo: u32, hi: u32, stream: u32, index: u64, k: u32) -> [u64; 2] {
    debug_assert!(stream < 1 << 24 && index >> 32 == 0 && k <= ziggurat::MAX_ATTEMPTS);
    let x = philox4x32(key, [lo, hi, (1 << 31) | (k << 24) | stream, index as u32]);
    [word(x[0] as u64, x[1] as u64), word(x[2] as u64, x[3] as u64)]
}

/// Blocks processed together by the vectorised fills.
const LANES: usize = 8;

/// Where number `index` of a stream lives: its Philox block and which half.
/// Numbers come in groups of 16 drawn from 8 consecutive blocks: the first 8
/// take the first half of each block, the next 8 the second half, so that the
/// vectorised fills store contiguously.
#[inline(always)]
fn locate(index: u64) -> (u32, bool) {
    ((((index >> 4) << 3) | (index & 7)) as u32, (index >> 3) & 1 == 1)
}

/// The random numbers of one simulated path.
///
/// With antithetic sampling, paths `2j` and `2j + 1` share the numbers of
/// pair `j`; the odd one negates every normal (uniforms are shared).
#[derive(Clone, Copy, Debug)]
pub struct PathRng {
    key: [u32; 2],
    path_lo: u32,
    path_hi: u32,
    sign: f64,
}

impl PathRng {
    /// The stream of global path `path` under `seed`.
    pub fn new(seed: u64, path: u64, antithetic: bool) -> Self {
        let (base, sign) = if antithetic {
            (path >> 1, if path & 1 == 1 { -1.0 } else { 1.0 })
        } else {
            (path, 1.0)
        };
        PathRng {
            key: [seed as u32, (seed >> 32) as u32],
            path_lo: base as u32,
            path_hi: (base >> 32) as u32,
            sign,
        }
    }

    /// Word number `index` of `stream`.
    #[inline(always)]
    fn word(&self, stream: u32, index: u64) -> u64 {
        let (b, second) = locate(index);
        let x = philox4x32(self.key, [self.path_lo, self.path_hi, stream, b]);
        if second {
            word(x[2] as u64, x[3] as u64)
        } else {
            word(x[0] as u64, x[1] as u64)
        }
    }

    /// Uniform number `index` of `stream`, in (0, 1).
    #[inline]
    pub fn uniform(&self, stream: u32, index: u64) -> f64 {
        unit_of(self.word(stream, index))
    }

    /// Standard normal number `index` of `stream` (negated on the antithetic twin).
    #[inline]
    pub fn normal(&self, stream: u32, index: u64) -> f64 {
        let w = self.word(stream, index);
        self.sign * normal_of(w, self.key, self.path_lo, self.path_hi, stream, index)
    }

    /// A uniform integer in `lo..=hi` from uniform `index` of `stream`.
    #[inline]
    pub fn uniform_int(&self, stream: u32, index: u64, lo: u32, hi: u32) -> u32 {
        uniform_int(self.uniform(stream, index), lo, hi)
    }

    /// Normals `0..out.len()` of `stream`, vectorised across blocks.
    pub fn fill_normals(&self, stream: u32, out: &mut [f64]) {
        fill_normals_dispatch(self, stream, out)
    }

    /// Uniforms `0..out.len()` of `stream`.
    pub fn fill_uniforms(&self, stream: u32, out: &mut [f64]) {
        fill_uniforms_dispatch(self, stream, out)
    }
}

/// The integer in `lo..=hi` that the uniform `u` picks.
#[inline]
pub fn uniform_int(u: f64, lo: u32, hi: u32) -> u32 {
    let span = (hi - lo) as f64 + 1.0;
    let k = (u * span) as u32;
    lo + k.min(hi - lo)
}

multiversion! {
    fn fill_uniforms_dispatch(rng: &PathRng, stream: u32, out: &mut [f64]) -> () {
        fill_grouped(&Uniforms(rng, stream), out)
    }
}

/// A fill of numbers 0, 1, … of one stream, computed in chunks of groups of
/// 16 numbers from 8 consecutive Philox blocks (see [`locate`]).
trait GroupFill {
    /// Numbers `0..dst.len()` (at most 16·G) of blocks `block0 .. block0 + LANES·G`,
    /// in stream order.
    fn chunk<const G: usize>(&self, block0: u32, dst: &mut [f64]);
}

/// Fill `out` in chunks of `GROUPS` groups; a shorter last chunk computes only
/// the groups it needs, in one pass (their Philox rounds overlap).
#[inline(always)]
fn fill_grouped(f: &impl GroupFill, out: &mut [f64]) {
    const N: usize = LANES * GROUPS;
    let (chunks, rest) = out.as_chunks_mut::<{ 2 * N }>();
    let mut block0: u32 = 0;
    for chunk in chunks {
        f.chunk::<GROUPS>(block0, chunk);
        block0 += N as u32;
    }
    match rest.len().div_ceil(2 * LANES) {
        0 => {}
        1 => f.chunk::<1>(block0, rest),
        2 => f.chunk::<2>(block0, rest),
        3 => f.chunk::<3>(block0, rest),
        _ => f.chunk::<GROUPS>(block0, rest),
    }
}

/// Uniforms of one path and stream.
struct Uniforms<'a>(&'a PathRng, u32);

impl GroupFill for Uniforms<'_> {
    #[inline(always)]
    fn chunk<const G: usize>(&self, block0: u32, dst: &mut [f64]) {
        let (mut w1, mut w2) = ([0u64; LANES * GROUPS], [0u64; LANES * GROUPS]);
        word_pairs::<G>(self.0, self.1, block0, &mut w1, &mut w2);
        // per group of 16: the first halves of its 8 blocks, then the second halves
        for (g, part) in dst.chunks_mut(2 * LANES).enumerate() {
            for (j, v) in part.iter_mut().enumerate() {
                *v = unit_of(if j < LANES {
                    w1[g * LANES + j]
                } else {
                    w2[g * LANES + j - LANES]
                });
            }
        }
    }
}

/// The two words of each of blocks `block0 .. block0 + LANES·G`: `w1` from the
/// first half of each block, `w2` from the second, in block order.
#[inline(always)]
fn word_pairs<const G: usize>(
    rng: &PathRng,
    stream: u32,
    block0: u32,
    w1: &mut [u64; LANES * GROUPS],
    w2: &mut [u64; LANES * GROUPS],
) {
    #[cfg(target_arch = "x86_64")]
    {
        match crate::simd::level() {
            // SAFETY: a tier is only selected on CPUs that have its instructions.
            crate::simd::AVX512 => return unsafe { x86::word_pairs_avx512::<G>(rng, stream, block0, w1, w2) },
            crate::simd::AVX2 => return unsafe { x86::word_pairs_avx2::<G>(rng, stream, block0, w1, w2) },
            _ => {}
        }
    }
    for g in 0..G {
        let [x0, x1, x2, x3] = philox_lanes(rng, stream, block0 + (g * LANES) as u32);
        for j in 0..LANES {
            w1[g * LANES + j] = word(x0[j], x1[j]);
            w2[g * LANES + j] = word(x2[j], x3[j]);
        }
    }
}

/// Philox4x32-10 of blocks `block0 .. block0 + LANES` of one path and stream.
#[inline(always)]
fn philox_lanes(rng: &PathRng, stream: u32, block0: u32) -> [[u64; LANES]; 4] {
    // 32-bit words in u64 lanes: the 32×32→64 products become vector multiplies
    // (vpmuludq) and every value stays below 2^32.
    let mut x0 = [rng.path_lo as u64; LANES];
    let mut x1 = [rng.path_hi as u64; LANES];
    let mut x2 = [stream as u64; LANES];
    let mut x3 = [0u64; LANES];
    for (j, c) in x3.iter_mut().enumerate() {
        *c = block0.wrapping_add(j as u32) as u64;
    }
    philox_rounds([&mut x0, &mut x1, &mut x2, &mut x3], rng.key);
    [x0, x1, x2, x3]
}

/// The ten Philox4x32 rounds of many counters at once, word w of counter j in
/// `x[w][j]` (the low half of a u64): one simple loop per round, which
/// vectorises along the counters.
#[inline(always)]
fn philox_rounds(x: [&mut [u64]; 4], key: [u32; 2]) {
    const LO: u64 = 0xFFFF_FFFF;
    let [x0, x1, x2, x3] = x;
    let n = x0.len();
    let (x1, x2, x3) = (&mut x1[..n], &mut x2[..n], &mut x3[..n]);
    let (mut k0, mut k1) = (key[0] as u64, key[1] as u64);
    for _ in 0..10 {
        for j in 0..n {
            let p0 = (x0[j] & LO) * M0 as u64;
            let p1 = (x2[j] & LO) * M1 as u64;
            let n0 = (p1 >> 32) ^ x1[j] ^ k0;
            let n2 = (p0 >> 32) ^ x3[j] ^ k1;
            x1[j] = p1 & LO;
            x3[j] = p0 & LO;
            x0[j] = n0;
            x2[j] = n2;
        }
        k0 = (k0 + W0 as u64) & LO;
        k1 = (k1 + W1 as u64) & LO;
    }
}

multiversion! {
    /// Benchmark hook: the exclusive or of the words of blocks `block0 .. block0 + 32`
    /// (Philox alone: an exclusive or does not wait on the one before it, where
    /// a sum of doubles in order would add its own latency to every number).
    #[doc(hidden)]
    pub fn philox_bench(rng: &PathRng, stream: u32, block0: u32) -> u64 {
        let (mut w1, mut w2) = ([0u64; LANES * GROUPS], [0u64; LANES * GROUPS]);
        word_pairs::<GROUPS>(rng, stream, block0, &mut w1, &mut w2);
        w1.iter().zip(&w2).fold(0, |x, (&a, &b)| x ^ a ^ b)
    }
}

multiversion! {
    fn fill_normals_dispatch(rng: &PathRng, stream: u32, out: &mut [f64]) -> () {
        fill_grouped(&Normals(rng, stream), out)
    }
}

/// Groups of 16 numbers converted per pass: the Philox words of all of them
/// first, then their conversion (two simple loops vectorise better than one
/// fused loop).
const GROUPS: usize = 4;
// `fill_grouped` matches on 1..GROUPS groups
const _: () = assert!(GROUPS == 4);

/// Normals of one path and stream (negated on the antithetic twin).
struct Normals<'a>(&'a PathRng, u32);

impl GroupFill for Normals<'_> {
    #[inline(always)]
    fn chunk<const G: usize>(&self, block0: u32, dst: &mut [f64]) {
        let (rng, stream) = (self.0, self.1);
        let (mut w1, mut w2) = ([0u64; LANES * GROUPS], [0u64; LANES * GROUPS]);
        word_pairs::<G>(rng, stream, block0, &mut w1, &mut w2);
        let (mut z1, mut z2) = ([0.0f64; LANES * GROUPS], [0.0f64; LANES * GROUPS]);
        let n = LANES * G;
        let fail = [ziggurat_fast(&w1[..n], &mut z1), ziggurat_fast(&w2[..n], &mut z2)];
        // number of the first half of block `block0`
        let first = 16 * (block0 as u64 / LANES as u64);
        for (h, (w, z)) in [(&w1, &mut z1), (&w2, &mut z2)].into_iter().enumerate() {
            let mut bits = fail[h];
            while bits != 0 {
                let k = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let index = first + (16 * (k / LANES) + LANES * h + k % LANES) as u64;
                z[k] = slow_normal(w[k], rng.key, rng.path_lo, rng.path_hi, stream, index);
            }
        }
        // per group of 16: the first halves of its 8 blocks, then the second halves
        for (g, part) in dst.chunks_mut(2 * LANES).enumerate() {
            for (j, v) in part.iter_mut().enumerate() {
                let z = if j < LANES {
                    z1[g * LANES + j]
                } else {
                    z2[g * LANES + j - LANES]
                };
                *v = rng.sign * z;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn philox_known_answer() {
        // Random123 known-answer tests for philox4x32_10.
        assert_eq!(
            philox4x32([0, 0], [0, 0, 0, 0]),
            [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]
        );
        assert_eq!(
            philox4x32(
                [0xa409_3822, 0x299f_31d0],
                [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344]
            ),
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1]
        );
    }

    /// Every instruction set tier, with the ziggurat's table look-ups as
    /// gathers and as scalar loads (the generic tier has no gathers).
    pub(crate) fn tiers_and_look_ups() -> [(u8, bool); 5] {
        use crate::simd::{AVX2, AVX512, GENERIC};
        [
            (GENERIC, false),
            (AVX2, false),
            (AVX2, true),
            (AVX512, false),
            (AVX512, true),
        ]
    }

    #[test]
    fn fills_equal_scalar_draws_on_every_tier() {
        // (other tests may run meanwhile on the tier and look-ups set here: they all
        // give the same bits)
        use crate::simd;
        let rng = PathRng::new(42, 123_456_789_012, false);
        let _pinned = simd::pin();
        for (tier, gather) in tiers_and_look_ups() {
            let used = simd::set_max_level(tier);
            simd::set_gathers(gather);
            // whole chunks of 64 and tails of one to four groups of 16
            // (5,000 normals take the ziggurat's slow path about 20 times)
            for len in [1, 15, 16, 17, 31, 33, 48, 49, 63, 64, 65, 137, 200, 5_000] {
                let mut z = vec![0.0; len];
                rng.fill_normals(7, &mut z);
                for (i, &v) in z.iter().enumerate() {
                    let want = rng.normal(7, i as u64).to_bits();
                    assert_eq!(v.to_bits(), want, "tier {used}/{gather}, normal {i} of {len}");
                }
            }
            for len in [1, 8, 9, 16, 24, 41, 64, 65, 200] {
                let mut u = vec![0.0; len];
                rng.fill_uniforms(3, &mut u);
                for (i, &v) in u.iter().enumerate() {
                    let want = rng.uniform(3, i as u64).to_bits();
                    assert_eq!(v.to_bits(), want, "tier {used}, uniform {i} of {len}");
                    assert!(v > 0.0 && v < 1.0);
                }
            }
        }
    }

    #[test]
    fn antithetic_twin_negates_normals_and_shares_uniforms() {
        let a = PathRng::new(9, 10, true);
        let b = PathRng::new(9, 11, true);
        for i in 0..50 {
            assert_eq!(a.normal(0, i), -b.normal(0, i));
            assert_eq!(a.uniform(1, i), b.uniform(1, i));
        }
    }

    #[test]
    fn normals_have_unit_moments() {
        // mean, variance and kurtosis within 4 standard errors
        let n = 400_000usize;
        let mut z = vec![0.0; n];
        PathRng::new(1, 2, false).fill_normals(0, &mut z);
        let nf = n as f64;
        let mean = z.iter().sum::<f64>() / nf;
        let m2 = z.iter().map(|v| v * v).sum::<f64>() / nf;
        let m4 = z.iter().map(|v| v.powi(4)).sum::<f64>() / nf;
        assert!(mean.abs() < 4.0 / nf.sqrt(), "mean {mean}");
        assert!((m2 - 1.0).abs() < 4.0 * (2.0 / nf).sqrt(), "var {m2}");
        assert!((m4 - 3.0).abs() < 4.0 * (96.0 / nf).sqrt(), "m4 {m4}");
    }
}
