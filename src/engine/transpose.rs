//! Lane-major values of a block of paths into the paths' output rows.
//!
//! The kernel computes month by month over the paths of a block together
//! (`src[t][l]`); the output is row-major per path. On AVX-512 the copy runs
//! through 8×8 register transposes; elsewhere it is a plain strided copy.
//! Large outputs are first built in a cache-resident stage and then copied out
//! with non-temporal stores ([`stream_copy`]), which write whole cache lines
//! without first reading them from memory.

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

/// `dst = src`, the whole 64-byte lines of `dst` written with non-temporal
/// stores (they skip reading each line into the cache before writing it);
/// call [`stream_fence`] before other threads read `dst`.
#[inline]
pub fn stream_copy(src: &[f64], dst: &mut [f64]) {
    assert_eq!(src.len(), dst.len());
    #[cfg(target_arch = "x86_64")]
    {
        // doubles before the first line boundary, then whole lines
        let head = ((64 - dst.as_ptr() as usize % 64) % 64 / 8).min(dst.len());
        let body = (dst.len() - head) / 8 * 8;
        dst[..head].copy_from_slice(&src[..head]);
        let (s, d) = (src[head..].as_ptr(), dst[head..].as_mut_ptr());
        // SAFETY (both branches): the accesses lie in `head..head + body` of both
        // slices, and `d` is 64-byte aligned. AVX-512 runs only on CPUs detected
        // to have it; SSE2 is part of x86_64.
        if crate::simd::level() == crate::simd::AVX512 {
            unsafe { x86::stream_lines_avx512(s, d, body / 8) };
        } else {
            unsafe {
                use std::arch::x86_64::{_mm_loadu_pd, _mm_stream_pd};
                for i in (0..body).step_by(2) {
                    _mm_stream_pd(d.add(i), _mm_loadu_pd(s.add(i)));
                }
            }
        }
        dst[head + body..].copy_from_slice(&src[head + body..]);
    }
    #[cfg(not(target_arch = "x86_64"))]
    dst.copy_from_slice(src);
}

/// Order the non-temporal stores of [`stream_copy`] before later stores.
#[inline]
pub fn stream_fence() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE is part of x86_64.
    unsafe {
        std::arch::x86_64::_mm_sfence()
    };
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// `lines` 64-byte lines from `src` to the 64-byte aligned `dst`, with
    /// non-temporal stores. The caller checked the bounds and the alignment.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn stream_lines_avx512(src: *const f64, dst: *mut f64, lines: usize) {
        for i in 0..lines {
            _mm512_stream_pd(dst.add(8 * i), _mm512_loadu_pd(src.add(8 * i)));
        }
    }

    /// [`super::store_rows`] of the whole groups of eight months, for all eight
    /// lanes; returns the months stored. The caller checked the bounds.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn store_rows_avx512(src: &[[f64; 8]], dst: &mut [f64], w: usize) -> usize {
        let groups = src.len() / 8;
        let out = dst.as_mut_ptr();
        for g in 0..groups {
            let r: [__m512d; 8] = std::array::from_fn(|i| _mm512_loadu_pd(src[8 * g + i].as_ptr()));
            // pairs of rows interleaved; then the even and the odd 128-bit blocks
            // of two registers, twice, after which column l holds r0[l] … r7[l]
            let pairs = |a, b| (_mm512_unpacklo_pd(a, b), _mm512_unpackhi_pd(a, b));
            let halves = |a, b| (_mm512_shuffle_f64x2::<0x88>(a, b), _mm512_shuffle_f64x2::<0xDD>(a, b));
            let [(t0, t1), (t2, t3), (t4, t5), (t6, t7)] =
                [(0, 1), (2, 3), (4, 5), (6, 7)].map(|(i, j)| pairs(r[i], r[j]));
            let [(s0, s1), (s2, s3), (s4, s5), (s6, s7)] =
                [(t0, t2), (t1, t3), (t4, t6), (t5, t7)].map(|(a, b)| halves(a, b));
            let [(c0, c4), (c1, c5), (c2, c6), (c3, c7)] =
                [(s0, s4), (s2, s6), (s1, s5), (s3, s7)].map(|(a, b)| halves(a, b));
            let col = [c0, c1, c2, c3, c4, c5, c6, c7];
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
        let _pinned = simd::pin();
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
    }
}
