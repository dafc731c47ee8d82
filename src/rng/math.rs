//! Branch-free elementary functions for the hot loops.
//!
//! `ln` is fdlibm/musl's `e_log.c` rewritten without branches; `exp` looks up
//! a 256-entry table, which vectorised loops read with gathers. Both loop
//! bodies auto-vectorise. They use only IEEE-754 basic operations (no fused
//! multiply-add), so a vectorised and a scalar build give bit-identical
//! results. Both are within one ulp of the C library on the ranges used here.

// The coefficients of `ln` are quoted digit for digit from fdlibm.
#![allow(clippy::excessive_precision)]

use super::exp_table::{EXP_HI, EXP_LO, EXP_TABLE};

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

/// N/ln 2 for the table's N = 256 steps per octave.
const EXP_N_LN2: f64 = 369.329_930_467_574_6;
/// [`ROUND_MAGIC`] plus 1023·256: the exponent bias comes with the rounding.
const EXP_MAGIC: f64 = ROUND_MAGIC + 1023.0 * 256.0;
/// ln2/256 split: the high part has 20 significant bits, so that k·EXP_C_HI is
/// exact for |k| < 2^33.
const EXP_C_HI: f64 = 0.002_707_604_318_857_193;
const EXP_C_LO: f64 = 1.855_205_093_371_747e-9;

/// 2^(j/256)·e^r from the table entry `hi + lo`: hi + (lo + hi·(e^r − 1)).
#[inline(always)]
fn exp_finish(r: f64, hi: f64, lo: f64) -> f64 {
    const C3: f64 = 1.0 / 6.0;
    const C4: f64 = 1.0 / 24.0;
    const C5: f64 = 1.0 / 120.0;
    let r2 = r * r;
    let q = r + r2 * (0.5 + r * C3 + r2 * (C4 + r * C5));
    hi + (lo + hi * q)
}

/// The saturated results outside [-708, 709.78].
#[inline(always)]
fn exp_saturate(x: f64, v: f64) -> f64 {
    let v = if x > 709.78 { f64::INFINITY } else { v };
    if x < -708.0 {
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
