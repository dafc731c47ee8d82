//! Branch-free elementary functions for the hot loops.
//!
//! `ln` is fdlibm/musl's `e_log.c` rewritten without branches; `exp` looks up
//! a 256-entry table, which vectorised loops read with gathers. Both loop
//! bodies auto-vectorise. They use only IEEE-754 basic operations (no fused
//! multiply-add), so a vectorised and a scalar build give bit-identical
//! results. Both are within one ulp of the C library on the ranges used here.
//!
//! [`exp8_avx512`] and [`exp8_avx2`] are `exp` of eight lanes written out in
//! vector instructions, the same operations in the same order (the same bits),
//! so that the kernel can read the table with scalar loads instead of gathers
//! ([`crate::simd::gathers`]).

// The coefficients of `ln` are quoted digit for digit from fdlibm.
#![allow(clippy::excessive_precision)]

use super::exp_table::{EXP_HI, EXP_LO, EXP_PAIRS, EXP_TABLE};

/// 1.5 * 2^52: adding it rounds a double with |x| < 2^51 to an integer held in
/// the low mantissa bits (round half to even).
const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;

const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-01;
const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;

/// e^x by table look-up: x = (256·e + j)·ln2/256 + r with |r| ≤ ln2/512,
/// e^x = 2^e · 2^(j/256) · e^r, the table entry a double-double and e^r − 1 a
/// degree-5 Taylor polynomial (truncation error below 4e-20). No division,
/// and in vectorised loops the two look-ups are gathers. The error is about
/// half an ulp; the tests hold it within one ulp of the C library.
///
/// Results below e^-708 are 0 and above e^709.78 are +inf (the largest
/// finite e^x is at x = 709.78271…); NaN stays NaN. Outside [-708, 709.78]
/// the arithmetic runs on unclamped x and its result is replaced.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    // t holds k + 1023·256 in its low bits, k = round(x·256/ln2)
    let t = x * EXP_N_LN2 + EXP_MAGIC;
    let kf = t - EXP_MAGIC;
    let r = (x - kf * EXP_C_HI) - kf * EXP_C_LO;
    let j = (t.to_bits() as usize) % EXP_TABLE;
    let y = exp_finish(r, EXP_HI[j], EXP_LO[j]);
    // 2^e: bits 8.. of t are e + 1023 plus a multiple of 2^43, which the shift drops
    let scale = f64::from_bits((t.to_bits() >> 8) << 52);
    exp_saturate(x, y * scale)
}

#[cfg(target_arch = "x86_64")]
pub use x86::{exp8_avx2, exp8_avx512};

/// [`exp`] of eight lanes in vector registers, operation for operation (no
/// fused multiply-add: the same bits), the table read with one 128-bit load of
/// each lane's (hi, lo) pair.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::super::x86::{unzip4, unzip8};
    use super::*;
    use std::arch::x86_64::*;

    /// The (hi, lo) pair of the table entry in the low byte of `t[k]`.
    macro_rules! pair {
        ($t:ident, $k:literal) => {
            _mm_loadu_pd(EXP_PAIRS.0[$t[$k] as usize % EXP_TABLE].as_ptr())
        };
    }

    /// [`exp`] of eight lanes on AVX-512.
    ///
    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub unsafe fn exp8_avx512(x: &[f64; 8]) -> [f64; 8] {
        let c = |v: f64| _mm512_set1_pd(v);
        let xv = _mm512_loadu_pd(x.as_ptr());
        let t = _mm512_add_pd(_mm512_mul_pd(xv, c(EXP_N_LN2)), c(EXP_MAGIC));
        let kf = _mm512_sub_pd(t, c(EXP_MAGIC));
        let r = _mm512_sub_pd(
            _mm512_sub_pd(xv, _mm512_mul_pd(kf, c(EXP_C_HI))),
            _mm512_mul_pd(kf, c(EXP_C_LO)),
        );
        let tb = _mm512_castpd_si512(t);
        let mut t = [0u64; 8];
        _mm512_storeu_si512(t.as_mut_ptr() as *mut __m512i, tb);
        let (hi, lo) = unzip8([
            pair!(t, 0),
            pair!(t, 1),
            pair!(t, 2),
            pair!(t, 3),
            pair!(t, 4),
            pair!(t, 5),
            pair!(t, 6),
            pair!(t, 7),
        ]);
        // exp_finish
        let r2 = _mm512_mul_pd(r, r);
        let p1 = _mm512_add_pd(c(0.5), _mm512_mul_pd(r, c(C3)));
        let p2 = _mm512_add_pd(c(C4), _mm512_mul_pd(r, c(C5)));
        let q = _mm512_add_pd(r, _mm512_mul_pd(r2, _mm512_add_pd(p1, _mm512_mul_pd(r2, p2))));
        let y = _mm512_add_pd(hi, _mm512_add_pd(lo, _mm512_mul_pd(hi, q)));
        let scale = _mm512_castsi512_pd(_mm512_slli_epi64::<52>(_mm512_srli_epi64::<8>(tb)));
        let v = _mm512_mul_pd(y, scale);
        // exp_saturate (ordered comparisons: a NaN keeps v)
        let v = _mm512_mask_blend_pd(_mm512_cmp_pd_mask::<_CMP_GT_OQ>(xv, c(EXP_MAX)), v, c(f64::INFINITY));
        let v = _mm512_mask_blend_pd(_mm512_cmp_pd_mask::<_CMP_LT_OQ>(xv, c(EXP_MIN)), v, c(0.0));
        let mut out = [0.0; 8];
        _mm512_storeu_pd(out.as_mut_ptr(), v);
        out
    }

    /// [`exp`] of eight lanes on AVX2, four at a time.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn exp8_avx2(x: &[f64; 8]) -> [f64; 8] {
        let c = |v: f64| _mm256_set1_pd(v);
        let mut out = [0.0; 8];
        for h in 0..2 {
            let xv = _mm256_loadu_pd(x[4 * h..].as_ptr());
            let t = _mm256_add_pd(_mm256_mul_pd(xv, c(EXP_N_LN2)), c(EXP_MAGIC));
            let kf = _mm256_sub_pd(t, c(EXP_MAGIC));
            let r = _mm256_sub_pd(
                _mm256_sub_pd(xv, _mm256_mul_pd(kf, c(EXP_C_HI))),
                _mm256_mul_pd(kf, c(EXP_C_LO)),
            );
            let tb = _mm256_castpd_si256(t);
            let mut t = [0u64; 4];
            _mm256_storeu_si256(t.as_mut_ptr() as *mut __m256i, tb);
            let (hi, lo) = unzip4([pair!(t, 0), pair!(t, 1), pair!(t, 2), pair!(t, 3)]);
            let r2 = _mm256_mul_pd(r, r);
            let p1 = _mm256_add_pd(c(0.5), _mm256_mul_pd(r, c(C3)));
            let p2 = _mm256_add_pd(c(C4), _mm256_mul_pd(r, c(C5)));
            let q = _mm256_add_pd(r, _mm256_mul_pd(r2, _mm256_add_pd(p1, _mm256_mul_pd(r2, p2))));
            let y = _mm256_add_pd(hi, _mm256_add_pd(lo, _mm256_mul_pd(hi, q)));
            let scale = _mm256_castsi256_pd(_mm256_slli_epi64::<52>(_mm256_srli_epi64::<8>(tb)));
            let v = _mm256_mul_pd(y, scale);
            let v = _mm256_blendv_pd(v, c(f64::INFINITY), _mm256_cmp_pd::<_CMP_GT_OQ>(xv, c(EXP_MAX)));
            let v = _mm256_blendv_pd(v, c(0.0), _mm256_cmp_pd::<_CMP_LT_OQ>(xv, c(EXP_MIN)));
            _mm256_storeu_pd(out[4 * h..].as_mut_ptr(), v);
        }
        out
    }
}

/// N/ln 2 for the table's N = 256 steps per octave.
const EXP_N_LN2: f64 = 369.329_930_467_574_6;
/// [`ROUND_MAGIC`] plus 1023·256: the exponent bias comes with the rounding.
const EXP_MAGIC: f64 = ROUND_MAGIC + 1023.0 * 256.0;
/// ln2/256 split: the high part has 20 significant bits, so that k·EXP_C_HI is
/// exact for |k| < 2^33.
const EXP_C_HI: f64 = 0.002_707_604_318_857_193;
const EXP_C_LO: f64 = 1.855_205_093_371_747e-9;

/// The Taylor coefficients of e^r − 1 past the quadratic term's.
const C3: f64 = 1.0 / 6.0;
const C4: f64 = 1.0 / 24.0;
const C5: f64 = 1.0 / 120.0;

/// Past these, e^x is +inf and 0.
const EXP_MAX: f64 = 709.78;
const EXP_MIN: f64 = -708.0;

/// 2^(j/256)·e^r from the table entry `hi + lo`: hi + (lo + hi·(e^r − 1)).
#[inline(always)]
fn exp_finish(r: f64, hi: f64, lo: f64) -> f64 {
    let r2 = r * r;
    let q = r + r2 * (0.5 + r * C3 + r2 * (C4 + r * C5));
    hi + (lo + hi * q)
}

/// The saturated results outside [-708, 709.78].
#[inline(always)]
fn exp_saturate(x: f64, v: f64) -> f64 {
    let v = if x > EXP_MAX { f64::INFINITY } else { v };
    if x < EXP_MIN {
        0.0
    } else {
        v
    }
}

/// ln x for a positive normal double, fdlibm `e_log.c` without branches.
#[inline(always)]
pub fn ln(x: f64) -> f64 {
    const LG1: f64 = 6.666_666_666_666_735_130e-01;
    const LG2: f64 = 3.999_999_999_940_941_908e-01;
    const LG3: f64 = 2.857_142_874_366_239_149e-01;
    const LG4: f64 = 2.222_219_843_214_978_396e-01;
    const LG5: f64 = 1.818_357_216_161_805_012e-01;
    const LG6: f64 = 1.531_383_769_920_937_332e-01;
    const LG7: f64 = 1.479_819_860_511_658_591e-01;
    let ix = x.to_bits();
    let mant = ix & 0x000F_FFFF_FFFF_FFFF;
    // i = 1 if the mantissa exceeds sqrt(2), which moves it to [sqrt(2)/2, sqrt(2))
    let i = (mant.wrapping_add(0x0009_5F64_0000_0000)) & 0x0010_0000_0000_0000;
    let k = ((ix >> 52) as i64 - 1023) + (i >> 52) as i64;
    let m = f64::from_bits(mant | (i ^ 0x3FF0_0000_0000_0000));
    let f = m - 1.0;
    // integer k to double via the magic constant (exact for |k| < 2^51)
    let dk = f64::from_bits(ROUND_MAGIC.to_bits().wrapping_add(k as u64)) - ROUND_MAGIC;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    dk * LN2_HI - ((hfsq - (s * (hfsq + r) + dk * LN2_LO)) - f)
}

/// Logistic function scale / (1 + e^{-x}).
#[inline(always)]
pub fn logistic(x: f64, scale: f64) -> f64 {
    scale / (1.0 + exp(-x))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    fn exp_matches_std_within_one_ulp() {
        let mut x = -708.0;
        while x < 709.78 {
            assert!(ulps(exp(x), x.exp()) <= 1, "exp({x})");
            x += 0.013_7;
        }
        // every table entry and both ends of its interval, near 0 and far out
        for k in -300_000i64..300_000 {
            let x = k as f64 * (std::f64::consts::LN_2 / 256.0) * (1.0 + 1e-3 * (k % 7) as f64);
            if (-708.0..=709.78).contains(&x) {
                assert!(ulps(exp(x), x.exp()) <= 1, "exp({x})");
            }
        }
        for x in [1e-300, -1e-300, 1e-10, -1e-10, 0.5, -0.5, 709.5, 709.78, -707.9] {
            assert!(ulps(exp(x), x.exp()) <= 1, "exp({x})");
        }
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(709.79), f64::INFINITY);
        assert_eq!(exp(800.0), f64::INFINITY);
        assert_eq!(exp(-708.1), 0.0);
        assert_eq!(exp(-800.0), 0.0);
        assert!(exp(f64::NAN).is_nan());
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn exp_of_eight_lanes_equals_exp_bit_for_bit() {
        use std::f64::consts::LN_2;
        let mut xs = vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            1e-300,
            -1e-300,
            EXP_MAX,
            EXP_MAX + 1e-9,
            EXP_MAX - 1e-9,
            EXP_MIN,
            EXP_MIN - 1e-9,
            EXP_MIN + 1e-9,
            800.0,
            -800.0,
            1e300,
            -1e300,
        ];
        let mut x = -720.0;
        while x < 720.0 {
            xs.push(x);
            x += 0.013_7;
        }
        // the midpoint of every table entry's interval, and points near it
        for k in -3_000i64..3_000 {
            xs.push(k as f64 * (LN_2 / 256.0) * (1.0 + 1e-3 * (k % 7) as f64));
        }
        while xs.len() % 8 != 0 {
            xs.push(0.5);
        }
        let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
        let (avx512, avx2) = (is_x86_feature_detected!("avx512f"), is_x86_feature_detected!("avx2"));
        for lanes in xs.chunks_exact(8) {
            let x: &[f64; 8] = lanes.try_into().unwrap();
            let want = x.map(exp);
            // SAFETY: each tier only where the CPU has it.
            let got = [
                avx2.then(|| unsafe { exp8_avx2(x) }),
                avx512.then(|| unsafe { exp8_avx512(x) }),
            ];
            for (tier, got) in ["avx2", "avx512"].iter().zip(got) {
                if let Some(got) = got {
                    for l in 0..8 {
                        assert!(
                            same(got[l], want[l]),
                            "{tier}: exp({}) = {} not {}",
                            x[l],
                            got[l],
                            want[l]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn exp_table_holds_two_to_the_j_over_256() {
        for j in 0..EXP_TABLE {
            let (hi, lo) = (EXP_HI[j], EXP_LO[j]);
            assert!(ulps(hi, (j as f64 / 256.0).exp2()) <= 1, "entry {j}");
            // the low part is below half an ulp of the high part
            assert!(lo.abs() <= 0.5 * (f64::from_bits(hi.to_bits() + 1) - hi), "entry {j}");
            // 2^(j/256)·2^((256 − j)/256) = 2, to double-double accuracy
            if j > 0 {
                let (h2, l2) = (EXP_HI[EXP_TABLE - j], EXP_LO[EXP_TABLE - j]);
                let prod = hi * h2;
                let err = (hi * h2 - prod) + hi * l2 + lo * h2;
                assert!((prod - 2.0 + err).abs() < 1e-30 + 4.0 * f64::EPSILON, "entry {j}");
            }
        }
    }

    #[test]
    fn ln_matches_std_within_one_ulp() {
        let mut u = 1e-17;
        while u < 1.0 {
            assert!(ulps(ln(u), u.ln()) <= 1, "ln({u})");
            u *= 1.013;
        }
        let mut x = 1.0;
        while x < 1e6 {
            assert!(ulps(ln(x), x.ln()) <= 1, "ln({x})");
            x *= 1.7;
        }
        assert_eq!(ln(1.0), 0.0);
    }
}
