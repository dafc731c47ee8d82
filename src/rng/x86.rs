//! [`word_pairs`](super) in x86 vector registers: Philox4x32-10 of many blocks,
//! their words joined into 64-bit numbers.
//!
//! Each 32-bit Philox word sits in the low half of a 64-bit lane, so that the
//! 32×32→64 products are single `vpmuludq`s. The high halves are never
//! cleared between rounds: `vpmuludq` reads only the low halves, and the high
//! halves reach no output (the final words are masked). The chains of a fill's
//! groups advance round by round together, so that their latencies overlap.
//! The results are the bits of [`super::philox4x32`] and [`super::word`].

use super::across::WIDTH;
use super::{ziggurat, PathRng, GROUPS, LANES, M0, M1, W0, W1};
use std::arch::x86_64::*;

/// The entries `x[i], x[i + 1]` of word `ws[k]`'s layer i, as one 128-bit
/// load (the two widths a ziggurat step compares sit side by side).
macro_rules! pair {
    ($x:ident, $ws:ident, $k:literal) => {
        _mm_loadu_pd($x[($ws[$k] & ziggurat::LAYER_MASK) as usize..][..2].as_ptr())
    };
}

/// The first and the second entries of the pairs `p[0..4]`, each in lane
/// order: lanes (0, 2) and (1, 3) side by side, so that the in-lane unpacks
/// put them in order. (A plain inline function: it compiles to three
/// instructions inside the `#[target_feature]` functions that use it.)
#[inline(always)]
pub(super) unsafe fn unzip4(p: [__m128d; 4]) -> (__m256d, __m256d) {
    let a = _mm256_set_m128d(p[2], p[0]);
    let b = _mm256_set_m128d(p[3], p[1]);
    (_mm256_unpacklo_pd(a, b), _mm256_unpackhi_pd(a, b))
}

/// [`unzip4`] of eight pairs: the even lanes' pairs in one register, the odd
/// lanes' in the other.
#[inline(always)]
pub(super) unsafe fn unzip8(p: [__m128d; 8]) -> (__m512d, __m512d) {
    let a = _mm512_insertf64x4::<1>(
        _mm512_castpd256_pd512(_mm256_set_m128d(p[2], p[0])),
        _mm256_set_m128d(p[6], p[4]),
    );
    let b = _mm512_insertf64x4::<1>(
        _mm512_castpd256_pd512(_mm256_set_m128d(p[3], p[1])),
        _mm256_set_m128d(p[7], p[5]),
    );
    (_mm512_unpacklo_pd(a, b), _mm512_unpackhi_pd(a, b))
}

/// The largest [`Words::BATCH`].
const MAX_BATCH: usize = 4;

/// One vector register of 64-bit lanes. The methods are plain inline
/// functions: they compile to single instructions inside the
/// `#[target_feature]` functions below, and are not called anywhere else.
trait Words: Copy {
    /// Lanes per register.
    const WIDTH: usize;
    /// Chains advanced together: as many as the register file holds (four words each).
    const BATCH: usize;
    unsafe fn splat(x: u64) -> Self;
    /// Lanes `x[..WIDTH]`.
    unsafe fn load(x: &[u64]) -> Self;
    /// Lanes `first, first + 1, …` (32-bit wrapping).
    #[inline(always)]
    unsafe fn counters(first: u32) -> Self {
        let c: [u64; 8] = std::array::from_fn(|j| first.wrapping_add(j as u32) as u64);
        Self::load(&c)
    }
    /// Low half of each lane times the low half of `m`'s, as 64 bits.
    unsafe fn mul_lo(self, m: Self) -> Self;
    unsafe fn shr32(self) -> Self;
    unsafe fn xor3(self, b: Self, c: Self) -> Self;
    /// `word(hi, lo)` of every lane (their low halves), into `dst[..WIDTH]`.
    unsafe fn store_words(hi: Self, lo: Self, dst: &mut [u64]);
    /// [`ziggurat::fast`] of the words `w[..WIDTH]` with the layers' widths `x`:
    /// the signed candidates into `dst[..WIDTH]`, and a set bit for each lane
    /// not accepted. The widths `x[i]`, `x[i + 1]` of each lane's layer are
    /// read with two gathers or with one 128-bit load per lane (`gather`, see
    /// [`crate::simd::gathers`]): the same values.
    unsafe fn ziggurat(w: &[u64], x: &[f64; ziggurat::LAYERS + 1], dst: &mut [f64], gather: bool) -> u64;
}

impl Words for __m256i {
    const WIDTH: usize = 4;
    const BATCH: usize = 2;
    #[inline(always)]
    unsafe fn splat(x: u64) -> Self {
        _mm256_set1_epi64x(x as i64)
    }
    #[inline(always)]
    unsafe fn load(x: &[u64]) -> Self {
        _mm256_loadu_si256(x[..4].as_ptr() as *const __m256i)
    }
    #[inline(always)]
    unsafe fn mul_lo(self, m: Self) -> Self {
        _mm256_mul_epu32(self, m)
    }
    #[inline(always)]
    unsafe fn shr32(self) -> Self {
        _mm256_srli_epi64::<32>(self)
    }
    #[inline(always)]
    unsafe fn xor3(self, b: Self, c: Self) -> Self {
        _mm256_xor_si256(_mm256_xor_si256(self, b), c)
    }
    #[inline(always)]
    unsafe fn store_words(hi: Self, lo: Self, dst: &mut [u64]) {
        let w = _mm256_or_si256(
            _mm256_slli_epi64::<32>(hi),
            _mm256_and_si256(lo, Self::splat(0xFFFF_FFFF)),
        );
        _mm256_storeu_si256(dst[..4].as_mut_ptr() as *mut __m256i, w);
    }
    #[inline(always)]
    unsafe fn ziggurat(ws: &[u64], x: &[f64; ziggurat::LAYERS + 1], dst: &mut [f64], gather: bool) -> u64 {
        let w = Self::load(ws);
        let (xi, next) = if gather {
            // layer indices below LAYERS: both gathers stay inside the table's LAYERS + 1 entries
            let i = _mm256_and_si256(w, Self::splat(ziggurat::LAYER_MASK));
            (
                _mm256_i64gather_pd::<8>(x.as_ptr(), i),
                _mm256_i64gather_pd::<8>(x[1..].as_ptr(), i),
            )
        } else {
            unzip4([pair!(x, ws, 0), pair!(x, ws, 1), pair!(x, ws, 2), pair!(x, ws, 3)])
        };
        let m = _mm256_or_si256(Self::splat(0x4330_0000_0000_0000), _mm256_srli_epi64::<12>(w));
        let u = _mm256_mul_pd(
            _mm256_sub_pd(_mm256_castsi256_pd(m), _mm256_set1_pd(TWO52)),
            _mm256_set1_pd(1.0 / TWO52),
        );
        let c = _mm256_mul_pd(u, xi);
        let ok = _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_LT_OQ>(c, next)) as u64;
        let sign = _mm256_slli_epi64::<SIGN_SHIFT>(_mm256_and_si256(w, Self::splat(ziggurat::SIGN_BIT)));
        _mm256_storeu_pd(dst[..4].as_mut_ptr(), _mm256_or_pd(c, _mm256_castsi256_pd(sign)));
        !ok & 0xF
    }
}

impl Words for __m512i {
    const WIDTH: usize = 8;
    const BATCH: usize = 4;
    #[inline(always)]
    unsafe fn splat(x: u64) -> Self {
        _mm512_set1_epi64(x as i64)
    }
    #[inline(always)]
    unsafe fn load(x: &[u64]) -> Self {
        _mm512_loadu_epi64(x[..8].as_ptr() as *const i64)
    }
    #[inline(always)]
    unsafe fn mul_lo(self, m: Self) -> Self {
        _mm512_mul_epu32(self, m)
    }
    #[inline(always)]
    unsafe fn shr32(self) -> Self {
        _mm512_srli_epi64::<32>(self)
    }
    #[inline(always)]
    unsafe fn xor3(self, b: Self, c: Self) -> Self {
        // 0x96: the truth table of a ^ b ^ c
        _mm512_ternarylogic_epi64::<0x96>(self, b, c)
    }
    #[inline(always)]
    unsafe fn store_words(hi: Self, lo: Self, dst: &mut [u64]) {
        // 0xF8: the truth table of a | (b & c)
        let w = _mm512_ternarylogic_epi64::<0xF8>(_mm512_slli_epi64::<32>(hi), lo, Self::splat(0xFFFF_FFFF));
        _mm512_storeu_epi64(dst[..8].as_mut_ptr() as *mut i64, w);
    }
    #[inline(always)]
    unsafe fn ziggurat(ws: &[u64], x: &[f64; ziggurat::LAYERS + 1], dst: &mut [f64], gather: bool) -> u64 {
        let w = Self::load(ws);
        let (xi, next) = if gather {
            // layer indices below LAYERS: both gathers stay inside the table's LAYERS + 1 entries
            let i = _mm512_and_si512(w, Self::splat(ziggurat::LAYER_MASK));
            (
                _mm512_i64gather_pd::<8>(i, x.as_ptr()),
                _mm512_i64gather_pd::<8>(i, x[1..].as_ptr()),
            )
        } else {
            unzip8([
                pair!(x, ws, 0),
                pair!(x, ws, 1),
                pair!(x, ws, 2),
                pair!(x, ws, 3),
                pair!(x, ws, 4),
                pair!(x, ws, 5),
                pair!(x, ws, 6),
                pair!(x, ws, 7),
            ])
        };
        let m = _mm512_or_si512(Self::splat(0x4330_0000_0000_0000), _mm512_srli_epi64::<12>(w));
        let u = _mm512_mul_pd(
            _mm512_sub_pd(_mm512_castsi512_pd(m), _mm512_set1_pd(TWO52)),
            _mm512_set1_pd(1.0 / TWO52),
        );
        let c = _mm512_mul_pd(u, xi);
        let ok = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(c, next) as u64;
        let sign = _mm512_slli_epi64::<{ SIGN_SHIFT as u32 }>(_mm512_and_si512(w, Self::splat(ziggurat::SIGN_BIT)));
        _mm512_storeu_pd(
            dst[..8].as_mut_ptr(),
            _mm512_castsi512_pd(_mm512_or_si512(_mm512_castpd_si512(c), sign)),
        );
        !ok & 0xFF
    }
}

/// 2^52.
const TWO52: f64 = 4_503_599_627_370_496.0;
/// Moves the ziggurat's sign bit to the double's.
const SIGN_SHIFT: i32 = 63 - ziggurat::LAYERS.trailing_zeros() as i32;

/// `fn $body<V: Words, const C: usize>(…) { … }`, the generic body of both
/// tiers, and `$avx2`, `$avx512`: the body compiled for each tier, with the
/// register type of the tier (four and eight 64-bit lanes).
macro_rules! tiers {
    (
        $(#[$m:meta])*
        unsafe fn $body:ident<$v:ident: Words, const $c:ident: usize>($($arg:ident: $ty:ty),* $(,)?) $block:block
        => $avx2:ident, $avx512:ident
    ) => {
        $(#[$m])*
        #[inline(always)]
        unsafe fn $body<$v: Words, const $c: usize>($($arg: $ty),*) $block

        #[doc = concat!("[`", stringify!($body), "`] on AVX2.")]
        #[target_feature(enable = "avx2")]
        pub(super) unsafe fn $avx2<const $c: usize>($($arg: $ty),*) {
            $body::<__m256i, $c>($($arg),*)
        }

        #[doc = concat!("[`", stringify!($body), "`] on AVX-512.")]
        #[target_feature(enable = "avx512f")]
        pub(super) unsafe fn $avx512<const $c: usize>($($arg: $ty),*) {
            $body::<__m512i, $c>($($arg),*)
        }
    };
}

tiers! {
    /// [`super::word_pairs`]: chain c holds blocks `block0 + c·WIDTH ..`, and its
    /// words go to `w1`, `w2` from position `c·WIDTH`; the chains run in batches.
    unsafe fn word_pairs_in<V: Words, const G: usize>(
        rng: &PathRng,
        stream: u32,
        block0: u32,
        w1: &mut [u64; LANES * GROUPS],
        w2: &mut [u64; LANES * GROUPS],
    ) {
        let chains = G * LANES / V::WIDTH;
        for first in (0..chains).step_by(V::BATCH) {
            let n = V::BATCH.min(chains - first);
            let mut x = [
                [V::splat(rng.path_lo as u64); MAX_BATCH],
                [V::splat(rng.path_hi as u64); MAX_BATCH],
                [V::splat(stream as u64); MAX_BATCH],
                [V::splat(0); MAX_BATCH],
            ];
            for (i, x3) in x[3].iter_mut().enumerate().take(n) {
                *x3 = V::counters(block0.wrapping_add(((first + i) * V::WIDTH) as u32));
            }
            rounds(&mut x, n, rng.key);
            let [x0, x1, x2, x3] = x;
            for i in 0..n {
                let at = (first + i) * V::WIDTH;
                V::store_words(x0[i], x1[i], &mut w1[at..]);
                V::store_words(x2[i], x3[i], &mut w2[at..]);
            }
        }
    } => word_pairs_avx2, word_pairs_avx512
}

/// The ten Philox rounds of the first `n` chains of `x` (words `x[0..4][chain]`).
#[inline(always)]
unsafe fn rounds<V: Words>(x: &mut [[V; MAX_BATCH]; 4], n: usize, key: [u32; 2]) {
    let (m0, m1) = (V::splat(M0 as u64), V::splat(M1 as u64));
    let [x0, x1, x2, x3] = x;
    let [mut k0, mut k1] = key;
    for _ in 0..10 {
        let (kk0, kk1) = (V::splat(k0 as u64), V::splat(k1 as u64));
        for i in 0..n {
            let p0 = x0[i].mul_lo(m0);
            let p1 = x2[i].mul_lo(m1);
            x0[i] = p1.shr32().xor3(x1[i], kk0);
            x2[i] = p0.shr32().xor3(x3[i], kk1);
            x1[i] = p1;
            x3[i] = p0;
        }
        k0 = k0.wrapping_add(W0);
        k1 = k1.wrapping_add(W1);
    }
}

tiers! {
    /// [`super::across::PathsRng`]'s words: block `blocks[c]` of `stream` for
    /// the paths whose counter words are `lo`, `hi`, into `w[c][half][path]`.
    /// A block's paths take `WIDTH / V::WIDTH` registers (chains).
    #[allow(clippy::needless_range_loop)] // chain i's four words sit in four arrays
    unsafe fn across_words_in<V: Words, const C: usize>(
        key: [u32; 2],
        lo: &[u64; WIDTH],
        hi: &[u64; WIDTH],
        stream: u32,
        blocks: [u32; C],
        w: &mut [[[u64; WIDTH]; 2]; C],
    ) {
        let per = WIDTH / V::WIDTH;
        let chains = C * per;
        for first in (0..chains).step_by(V::BATCH) {
            let n = V::BATCH.min(chains - first);
            let mut x = [[V::splat(stream as u64); MAX_BATCH]; 4];
            for i in 0..n {
                let (c, at) = ((first + i) / per, (first + i) % per * V::WIDTH);
                x[0][i] = V::load(&lo[at..]);
                x[1][i] = V::load(&hi[at..]);
                x[3][i] = V::splat(blocks[c] as u64);
            }
            rounds(&mut x, n, key);
            for i in 0..n {
                let (c, at) = ((first + i) / per, (first + i) % per * V::WIDTH);
                V::store_words(x[0][i], x[1][i], &mut w[c][0][at..]);
                V::store_words(x[2][i], x[3][i], &mut w[c][1][at..]);
            }
        }
    } => across_words_avx2, across_words_avx512
}

/// [`ziggurat::fast`] of every word of `w` (a multiple of 8, at most 64): the
/// signed candidates into `z`; bit k of the result is set when word k is not
/// accepted.
#[inline(always)]
unsafe fn ziggurat_in<V: Words>(w: &[u64], z: &mut [f64]) -> u64 {
    let x = &ziggurat::TABLES.x;
    let gather = crate::simd::gathers();
    let mut fail = 0;
    for k in (0..w.len()).step_by(V::WIDTH) {
        fail |= V::ziggurat(&w[k..], x, &mut z[k..], gather) << k;
    }
    fail
}

/// [`ziggurat_in`] on AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn ziggurat_avx2(w: &[u64], z: &mut [f64]) -> u64 {
    ziggurat_in::<__m256i>(w, z)
}

/// [`ziggurat_in`] on AVX-512.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn ziggurat_avx512(w: &[u64], z: &mut [f64]) -> u64 {
    ziggurat_in::<__m512i>(w, z)
}
