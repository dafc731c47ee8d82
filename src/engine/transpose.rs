//! Lane-major values of a block of paths into the paths' output rows.
//!
//! The kernel computes month by month over the paths of a block together
//! (`src[t][l]`); the output is row-major per path. On AVX-512 the copy runs
//! through 8×8 register transposes; elsewhere it is a plain strided copy.

/// `dst[l·w + t] = src[t][l]` for every month t of `src` and lanes `l < lanes`.
#[inline(always)]
pub fn store_rows(src: &[[f64; 8]], dst: &mut [f64], w: usize, lanes: usize) {
    assert!(lanes <= 8 && src.len() <= w && (lanes == 0 || dst.len() >= (lanes - 1) * w + src.len()));
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if lanes == 8 && crate::simd::level() == crate::simd::AVX512 {
        // SAFETY: the tier was detected on this CPU; the bounds were checked above.
        unsafe { done = x86::store_rows_avx512(src, dst, w) };
    }
    for (t, v) in src.iter().enumerate().skip(done) {
        for (l, x) in v.iter().enumerate().take(lanes) {
            dst[l * w + t] = *x;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// [`super::store_rows`] of the whole groups of eight months, for all eight
    /// lanes; returns the months stored. The caller checked the bounds.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn store_rows_avx512(src: &[[f64; 8]], dst: &mut [f64], w: usize) -> usize {
        let groups = src.len() / 8;
        let out = dst.as_mut_ptr();
        for g in 0..groups {
            let row = |i: usize| src[8 * g + i].as_ptr();
            let r = [
                _mm512_loadu_pd(row(0)),
                _mm512_loadu_pd(row(1)),
                _mm512_loadu_pd(row(2)),
                _mm512_loadu_pd(row(3)),
                _mm512_loadu_pd(row(4)),
                _mm512_loadu_pd(row(5)),
                _mm512_loadu_pd(row(6)),
                _mm512_loadu_pd(row(7)),
            ];
            // pairs of rows interleaved, then 128-bit blocks gathered twice:
            // column l ends up holding r0[l] … r7[l]
            let t = [
                _mm512_unpacklo_pd(r[0], r[1]),
                _mm512_unpackhi_pd(r[0], r[1]),
                _mm512_unpacklo_pd(r[2], r[3]),
                _mm512_unpackhi_pd(r[2], r[3]),
                _mm512_unpacklo_pd(r[4], r[5]),
                _mm512_unpackhi_pd(r[4], r[5]),
                _mm512_unpacklo_pd(r[6], r[7]),
                _mm512_unpackhi_pd(r[6], r[7]),
            ];
            // s[k]: from t[k] and t[k + 2] (k in 0, 1, 4, 5), even or odd 128-bit blocks
            let s = [
                _mm512_shuffle_f64x2::<0x88>(t[0], t[2]),
                _mm512_shuffle_f64x2::<0xDD>(t[0], t[2]),
                _mm512_shuffle_f64x2::<0x88>(t[1], t[3]),
                _mm512_shuffle_f64x2::<0xDD>(t[1], t[3]),
                _mm512_shuffle_f64x2::<0x88>(t[4], t[6]),
                _mm512_shuffle_f64x2::<0xDD>(t[4], t[6]),
                _mm512_shuffle_f64x2::<0x88>(t[5], t[7]),
                _mm512_shuffle_f64x2::<0xDD>(t[5], t[7]),
            ];
            let col = [
                _mm512_shuffle_f64x2::<0x88>(s[0], s[4]),
                _mm512_shuffle_f64x2::<0x88>(s[2], s[6]),
                _mm512_shuffle_f64x2::<0x88>(s[1], s[5]),
                _mm512_shuffle_f64x2::<0x88>(s[3], s[7]),
                _mm512_shuffle_f64x2::<0xDD>(s[0], s[4]),
                _mm512_shuffle_f64x2::<0xDD>(s[2], s[6]),
                _mm512_shuffle_f64x2::<0xDD>(s[1], s[5]),
                _mm512_shuffle_f64x2::<0xDD>(s[3], s[7]),
            ];
            for (l, c) in col.iter().enumerate() {
                _mm512_storeu_pd(out.add(l * w + 8 * g), *c);
            }
        }
        8 * groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd;

    #[test]
    fn rows_equal_the_strided_copy_on_every_tier() {
        let best = simd::set_max_level(simd::AVX512);
        for tier in [simd::GENERIC, simd::AVX2, simd::AVX512] {
            simd::set_max_level(tier);
            for h in [1, 7, 8, 9, 16, 24, 25, 252] {
                let src: Vec<[f64; 8]> = (0..h).map(|t| std::array::from_fn(|l| (t * 8 + l) as f64)).collect();
                let w = h + 3;
                for lanes in 1..=8 {
                    let mut dst = vec![-1.0; 8 * w];
                    store_rows(&src, &mut dst, w, lanes);
                    for (i, v) in dst.iter().enumerate() {
                        let (l, t) = (i / w, i % w);
                        let want = if l < lanes && t < h { src[t][l] } else { -1.0 };
                        assert_eq!(*v, want, "tier {tier}, h {h}, lanes {lanes}, lane {l}, month {t}");
                    }
                }
            }
        }
        simd::set_max_level(best);
    }
}
