//! A chunk's share of the dual's Hessian, `H += (E D) Dᵀ` over its scenarios
//! (`E = diag(e)`): the lower triangle only (the caller mirrors it).
//!
//! On AVX-512 the products run in a register-blocked kernel: both operands
//! are packed so that, scenario by scenario, [`MR`] rows of `E D` and [`NR`]
//! rows of `D` are contiguous, and an `MR × NR` tile of `H` accumulates in 24
//! registers with fused multiply-adds (two vector loads and twelve broadcasts
//! per scenario). Elsewhere, and for fewer than [`MIN_TILED`] views, the
//! panels go through `ndarray`'s matrix product.
//! Either way every entry sums its scenarios in a fixed order, so the result
//! does not depend on the thread count (it may differ in the last bits
//! between the two paths).

use ndarray::linalg::general_mat_mul;
use ndarray::{s, ArrayView2, ArrayViewMut2, ShapeBuilder};

/// Rows of `E D` per tile.
const MR: usize = 12;
/// Rows of `D` (columns of `H`) per tile: two registers of eight.
const NR: usize = 16;
/// Fewer views than this take the portable path: their tiles would be mostly
/// padding (and packing them mostly zeroing).
const MIN_TILED: usize = 2 * NR;
/// Rows of `H` per matrix product on the portable path.
const PANEL: usize = 128;

/// Buffers kept across chunks: `E D` (portable path) or both packed operands.
#[derive(Default)]
pub(super) struct Packs {
    a: Vec<f64>,
    b: Vec<f64>,
}

/// `h[r][c] += Σ_{p < len} e[p] · d[r·stride + p] · d[c·stride + p]` for
/// `c ≤ r < k`, each term summed as `(e[p]·d_rp)·d_cp` (`h` is k × k row-major;
/// entries above the diagonal may change too).
pub(super) fn add_lower(e: &[f64], d: &[f64], k: usize, len: usize, stride: usize, h: &mut [f64], packs: &mut Packs) {
    assert!(len <= stride && e.len() >= len && h.len() == k * k);
    assert!(k == 0 || d.len() >= (k - 1) * stride + len);
    #[cfg(target_arch = "x86_64")]
    if k >= MIN_TILED && crate::simd::level() == crate::simd::AVX512 {
        // SAFETY: the tier is only selected on CPUs with AVX-512
        unsafe { add_lower_avx512(e, d, k, len, stride, h, packs) };
        return;
    }
    add_lower_portable(e, d, k, len, stride, h, &mut packs.a);
}

/// [`add_lower`] by panels of rows through `ndarray`'s matrix product, `E D`
/// formed in `ed` (the caller checked the shapes).
fn add_lower_portable(e: &[f64], d: &[f64], k: usize, len: usize, stride: usize, h: &mut [f64], ed: &mut Vec<f64>) {
    ed.clear();
    ed.resize(k * len, 0.0);
    for (row, out) in ed.chunks_exact_mut(len.max(1)).take(k).enumerate() {
        for ((o, &ep), &dv) in out.iter_mut().zip(e).zip(&d[row * stride..row * stride + len]) {
            *o = ep * dv;
        }
    }
    let view = |x, s| ArrayView2::from_shape((k, len).strides((s, 1)), x);
    let (Ok(ed), Ok(d), Ok(mut h)) = (
        view(&ed[..], len.max(1)),
        view(d, stride),
        ArrayViewMut2::from_shape((k, k), h),
    ) else {
        unreachable!("the caller checked the shapes");
    };
    for r0 in (0..k).step_by(PANEL) {
        let r1 = (r0 + PANEL).min(k);
        let mut hp = h.slice_mut(s![r0..r1, 0..r1]);
        general_mat_mul(
            1.0,
            &ed.slice(s![r0..r1, ..]),
            &d.slice(s![0..r1, ..]).t(),
            1.0,
            &mut hp,
        );
    }
}

/// [`add_lower`] on AVX-512: pack both operands (`E D` formed as it is
/// packed), then the tiles (the caller checked the shapes).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn add_lower_avx512(
    e: &[f64],
    d: &[f64],
    k: usize,
    len: usize,
    stride: usize,
    h: &mut [f64],
    packs: &mut Packs,
) {
    pack(d, Some(e), k, len, stride, MR, &mut packs.a);
    pack(d, None, k, len, stride, NR, &mut packs.b);
    tiles_avx512(&packs.a, &packs.b, k, len, h);
}

/// Rows `x[r·stride ..][..len]`, each value times `e[p]` if given, in blocks of
/// `width` rows, scenario-major within a block:
/// `out[(blk·len + p)·width + r % width] = e[p]·x[r·stride + p]`, rows past `k` zero.
fn pack(x: &[f64], e: Option<&[f64]>, k: usize, len: usize, stride: usize, width: usize, out: &mut Vec<f64>) {
    out.clear();
    out.resize(k.div_ceil(width) * width * len, 0.0);
    for r in 0..k {
        let (blk, lane) = (r / width, r % width);
        let block = &mut out[blk * len * width..(blk + 1) * len * width];
        let row = &x[r * stride..r * stride + len];
        match e {
            Some(e) => {
                for (p, (&v, &ep)) in row.iter().zip(e).enumerate() {
                    block[p * width + lane] = ep * v;
                }
            }
            None => {
                for (p, &v) in row.iter().enumerate() {
                    block[p * width + lane] = v;
                }
            }
        }
    }
}

/// The tiles on or below the diagonal of `h` from the packs of [`pack`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn tiles_avx512(a: &[f64], b: &[f64], k: usize, len: usize, h: &mut [f64]) {
    use std::arch::x86_64::*;
    for i0 in (0..k).step_by(MR) {
        let ap = &a[i0 * len..(i0 + MR) * len];
        let last = (i0 + MR).min(k) - 1;
        for j0 in (0..=last).step_by(NR) {
            let bp = &b[j0 * len..(j0 + NR) * len];
            let mut acc = [[_mm512_setzero_pd(); 2]; MR];
            for p in 0..len {
                let b0 = _mm512_loadu_pd(bp[p * NR..].as_ptr());
                let b1 = _mm512_loadu_pd(bp[p * NR + 8..].as_ptr());
                let ar = &ap[p * MR..(p + 1) * MR];
                for (acc, &av) in acc.iter_mut().zip(ar) {
                    let av = _mm512_set1_pd(av);
                    acc[0] = _mm512_fmadd_pd(av, b0, acc[0]);
                    acc[1] = _mm512_fmadd_pd(av, b1, acc[1]);
                }
            }
            for (r, acc) in acc.iter().enumerate() {
                let i = i0 + r;
                if i >= k {
                    break;
                }
                let mut tile = [0.0; NR];
                _mm512_storeu_pd(tile.as_mut_ptr(), acc[0]);
                _mm512_storeu_pd(tile[8..].as_mut_ptr(), acc[1]);
                let cols = NR.min(i + 1 - j0.min(i + 1));
                for (hv, t) in h[i * k + j0..][..cols].iter_mut().zip(&tile) {
                    *hv += t;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_triangle_matches_the_direct_sums_on_both_paths() {
        // (the paths are called directly: switching the global tier would race
        // with other tests whose views must give the same bits run after run)
        for (k, len, stride) in [
            (1, 1, 1),
            (5, 3, 4),
            (12, 7, 7),
            (13, 17, 20),
            (40, 33, 40),
            (150, 64, 70),
        ] {
            let x = |s: u64, i: usize| ((i as u64 * 2_654_435_761 + s * 97) % 1_000) as f64 / 500.0 - 1.0;
            let e: Vec<f64> = (0..len).map(|p| x(1, p) + 1.0).collect();
            let d: Vec<f64> = (0..k * stride).map(|i| x(2, i)).collect();
            let mut paths: Vec<(&str, Vec<f64>)> = Vec::new();
            let (mut h, mut ed) = (vec![0.5; k * k], Vec::new());
            add_lower_portable(&e, &d, k, len, stride, &mut h, &mut ed);
            add_lower_portable(&e, &d, k, len, stride, &mut h, &mut ed); // accumulates
            paths.push(("portable", h));
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx512f") {
                let (mut h, mut packs) = (vec![0.5; k * k], Packs::default());
                // SAFETY: the CPU has AVX-512
                unsafe {
                    add_lower_avx512(&e, &d, k, len, stride, &mut h, &mut packs);
                    add_lower_avx512(&e, &d, k, len, stride, &mut h, &mut packs);
                }
                paths.push(("avx512", h));
            }
            for (name, h) in &paths {
                for r in 0..k {
                    for c in 0..=r {
                        let want = (0..len)
                            .map(|p| e[p] * d[r * stride + p] * d[c * stride + p])
                            .sum::<f64>()
                            * 2.0
                            + 0.5;
                        let got = h[r * k + c];
                        assert!(
                            (got - want).abs() <= 1e-12 * (1.0 + want.abs()),
                            "{name} k {k} ({r}, {c}): {got} vs {want}"
                        );
                    }
                }
            }
        }
    }
}
