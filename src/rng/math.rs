//! Branch-free elementary functions for the hot loops.
//!
//! The kernels are the fdlibm/musl algorithms (`e_exp.c`, `e_log.c`,
//! `k_sin.c`, `k_cos.c`) rewritten without branches or table look-ups so that
//! loops over slices of them auto-vectorise. They use only IEEE-754 basic
//! operations (no fused multiply-add), so a vectorised and a scalar build give
//! bit-identical results. Accuracy is that of fdlibm: below one ulp on the
//! ranges used here.

// The coefficients are quoted digit for digit from fdlibm.
#![allow(clippy::excessive_precision)]

/// 1.5 * 2^52: adding it rounds a double with |x| < 2^51 to an integer held in
/// the low mantissa bits (round half to even).
const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;

const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-01;
const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
const INV_LN2: f64 = std::f64::consts::LOG2_E;

/// e^x, fdlibm `e_exp.c` without branches; x is clamped to [-708, 709] and
/// results outside that range saturate to 0 or +inf.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    const P1: f64 = 1.666_666_666_666_660_190_37e-01;
    const P2: f64 = -2.777_777_777_701_559_338_42e-03;
    const P3: f64 = 6.613_756_321_437_934_361_17e-05;
    const P4: f64 = -1.653_390_220_546_525_153_90e-06;
    const P5: f64 = 4.138_136_797_057_238_460_39e-08;
    let xc = x.clamp(-708.0, 709.0);
    // k = round(x / ln 2); x = k ln2 + r, |r| <= ln2 / 2
    let t = xc * INV_LN2 + ROUND_MAGIC;
    let kf = t - ROUND_MAGIC;
    let hi = xc - kf * LN2_HI;
    let lo = kf * LN2_LO;
    let r = hi - lo;
    let z = r * r;
    let c = r - z * (P1 + z * (P2 + z * (P3 + z * (P4 + z * P5))));
    let y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    // 2^k from the integer in the low bits of t
    let k_bits = t.to_bits().wrapping_add(1023);
    let scale = f64::from_bits(k_bits << 52);
    let v = y * scale;
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

/// sin r and cos r for |r| <= pi/4 (fdlibm kernels `k_sin.c`, `k_cos.c`).
#[inline(always)]
fn sincos_kernel(x: f64) -> (f64, f64) {
    const S1: f64 = -1.666_666_666_666_663_243_48e-01;
    const S2: f64 = 8.333_333_333_322_489_461_24e-03;
    const S3: f64 = -1.984_126_982_985_794_931_34e-04;
    const S4: f64 = 2.755_731_370_707_006_767_89e-06;
    const S5: f64 = -2.505_076_025_340_686_341_95e-08;
    const S6: f64 = 1.589_690_995_211_550_102_21e-10;
    const C1: f64 = 4.166_666_666_666_660_190_37e-02;
    const C2: f64 = -1.388_888_888_887_410_957_49e-03;
    const C3: f64 = 2.480_158_728_947_672_941_78e-05;
    const C4: f64 = -2.755_731_435_139_066_330_35e-07;
    const C5: f64 = 2.087_572_321_298_174_827_90e-09;
    const C6: f64 = -1.135_964_755_778_819_482_65e-11;
    let z = x * x;
    let w = z * z;
    let rs = S2 + z * (S3 + z * S4) + z * w * (S5 + z * S6);
    let sin = x + z * x * (S1 + z * rs);
    let rc = z * (C1 + z * (C2 + z * C3)) + w * w * (C4 + z * (C5 + z * C6));
    let hz = 0.5 * z;
    let one_minus = 1.0 - hz;
    let cos = one_minus + (((1.0 - one_minus) - hz) + z * rc);
    (sin, cos)
}

/// (sin 2πu, cos 2πu) for u in [0, 1), with exact argument reduction in u.
#[inline(always)]
pub fn sincos_2pi(u: f64) -> (f64, f64) {
    const FRAC_PI_2: f64 = std::f64::consts::FRAC_PI_2;
    // 2πu = (q + f)·π/2 with q an integer and f in [-1/2, 1/2]; 4u is exact.
    let t = 4.0 * u + ROUND_MAGIC;
    let q = t.to_bits() & 3;
    let f = 4.0 * u - (t - ROUND_MAGIC);
    let (s, c) = sincos_kernel(f * FRAC_PI_2);
    let swap = q & 1 == 1;
    let (s1, c1) = if swap { (c, -s) } else { (s, c) };
    let neg = q & 2 == 2;
    if neg {
        (-s1, -c1)
    } else {
        (s1, c1)
    }
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
        let mut x = -700.0;
        while x < 700.0 {
            assert!(ulps(exp(x), x.exp()) <= 1, "exp({x})");
            x += 0.137_1;
        }
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(800.0), f64::INFINITY);
        assert_eq!(exp(-800.0), 0.0);
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

    #[test]
    fn sincos_matches_std() {
        for i in 0..100_000 {
            let u = (i as f64 + 0.5) / 100_000.0;
            let (s, c) = sincos_2pi(u);
            // std needs the rounded argument 2πu, itself off by up to ~1e-15
            let th = 2.0 * std::f64::consts::PI * u;
            assert!((s - th.sin()).abs() < 2e-15, "sin at {u}");
            assert!((c - th.cos()).abs() < 2e-15, "cos at {u}");
        }
    }
}
