//! The standard normal quantile Φ^{-1}(u) to full double precision.
//!
//! Wichura's algorithm AS 241, PPND16 (M. J. Wichura, "The percentage points of
//! the normal distribution", Applied Statistics 37(3), 477–484, 1988): three
//! rational approximations of degree 7/7, relative accuracy about 1e-16.
//!
//! - centre, |q| ≤ 0.425 with q = u − 1/2:  x = q·A(r)/B(r), r = 0.180625 − q²;
//! - tails, with r = sqrt(−ln min(u, 1−u)):
//!   x = ±C(r − 1.6)/D(r − 1.6) if r ≤ 5, else ±E(r − 5)/F(r − 5),
//!   negative for u < 1/2.
//!
//! The three regions are all evaluated and the right fraction selected
//! before one division, without branches, so that loops over slices
//! vectorise. Only IEEE basic operations, `sqrt` and the
//! crate's [`crate::rng::math::ln`] are used: every instruction-set tier gives
//! the same bits. Φ^{-1}(1 − u) = −Φ^{-1}(u) holds exactly when 1 − u is exact.

// The coefficients keep the digits Wichura published.
#![allow(clippy::excessive_precision)]

use crate::rng::math;

// Coefficients, highest degree first (Horner order). Numerators' degree-0
// terms last; denominators have a leading constant term 1.
const A: [f64; 8] = [
    2.509_080_928_730_122_672_7e3,
    3.343_057_558_358_812_810_5e4,
    6.726_577_092_700_870_085_3e4,
    4.592_195_393_154_987_145_7e4,
    1.373_169_376_550_946_112_5e4,
    1.971_590_950_306_551_442_7e3,
    1.331_416_678_917_843_774_5e2,
    3.387_132_872_796_366_608_0e0,
];
const B: [f64; 8] = [
    5.226_495_278_852_854_561_0e3,
    2.872_908_573_572_194_267_4e4,
    3.930_789_580_009_271_061_0e4,
    2.121_379_430_158_659_586_7e4,
    5.394_196_021_424_751_107_7e3,
    6.871_870_074_920_579_083_0e2,
    4.231_333_070_160_091_125_2e1,
    1.0,
];
const C: [f64; 8] = [
    7.745_450_142_783_414_076_40e-4,
    2.272_384_498_926_918_458_33e-2,
    2.417_807_251_774_506_117_70e-1,
    1.270_458_252_452_368_382_58e0,
    3.647_848_324_763_204_605_04e0,
    5.769_497_221_460_691_405_50e0,
    4.630_337_846_156_545_295_90e0,
    1.423_437_110_749_683_577_34e0,
];
const D: [f64; 8] = [
    1.050_750_071_644_416_843_24e-9,
    5.475_938_084_995_344_946_00e-4,
    1.519_866_656_361_645_719_66e-2,
    1.481_039_764_274_800_745_90e-1,
    6.897_673_349_851_000_045_50e-1,
    1.676_384_830_183_803_849_40e0,
    2.053_191_626_637_758_821_87e0,
    1.0,
];
const E: [f64; 8] = [
    2.010_334_399_292_288_132_65e-7,
    2.711_555_568_743_487_578_15e-5,
    1.242_660_947_388_078_438_60e-3,
    2.653_218_952_657_612_309_30e-2,
    2.965_605_718_285_048_912_30e-1,
    1.784_826_539_917_291_335_80e0,
    5.463_784_911_164_114_369_90e0,
    6.657_904_643_501_103_777_20e0,
];
const F: [f64; 8] = [
    2.044_263_103_389_939_785_64e-15,
    1.421_511_758_316_445_888_70e-7,
    1.846_318_317_510_054_681_80e-5,
    7.868_691_311_456_132_591_00e-4,
    1.487_536_129_085_061_485_25e-2,
    1.369_298_809_227_358_053_10e-1,
    5.998_322_065_558_879_376_90e-1,
    1.0,
];

/// c_0 r^7 + c_1 r^6 + … + c_7 (Horner).
#[inline(always)]
fn horner(c: &[f64; 8], r: f64) -> f64 {
    let mut s = c[0];
    for &ck in &c[1..] {
        s = s * r + ck;
    }
    s
}

/// Φ^{-1}(u), the standard normal quantile, for u in (0, 1).
///
/// Φ^{-1}(0) = −∞, Φ^{-1}(1) = +∞, and NaN outside [0, 1]. Subnormal u are
/// handled (Φ^{-1}(5e-324) ≈ −38.4). Relative error below 1e-15 (a few ulp)
/// against 60-digit references, from the centre to u = 1e-300.
#[inline(always)]
pub fn inv_norm(u: f64) -> f64 {
    const LN2: f64 = std::f64::consts::LN_2;
    const TWO54: f64 = 18_014_398_509_481_984.0;
    let q = u - 0.5;
    let central = q.abs() <= 0.425;
    // min(u, 1 − u); 1 − u is exact for u ≥ 1/2
    let p = if q < 0.0 { u } else { 1.0 - u };
    // ln p, scaling subnormals into the normal range first; a p ≤ 0 (u at or
    // outside the edges) gets a harmless argument, its result is replaced below
    let tiny = p < f64::MIN_POSITIVE;
    let ps = if tiny { p * TWO54 } else { p };
    let ps = if ps > 0.0 { ps } else { 0.5 };
    let lnp = math::ln(ps) - if tiny { 54.0 * LN2 } else { 0.0 };
    let t = (-lnp).sqrt();
    // all three regions, then one division of the selected fraction
    let rc = 0.180625 - q * q;
    let (num_c, den_c) = (q * horner(&A, rc), horner(&B, rc));
    let (num_m, den_m) = (horner(&C, t - 1.6), horner(&D, t - 1.6));
    let (num_f, den_f) = (horner(&E, t - 5.0), horner(&F, t - 5.0));
    let sign = if q < 0.0 { -1.0 } else { 1.0 };
    let (num_t, den_t) = if t > 5.0 { (num_f, den_f) } else { (num_m, den_m) };
    let (num, den) = if central { (num_c, den_c) } else { (sign * num_t, den_t) };
    let x = num / den;
    // edges: 0 → −∞, 1 → +∞, outside [0, 1] or NaN → NaN
    let x = if u == 0.0 { f64::NEG_INFINITY } else { x };
    let x = if u == 1.0 { f64::INFINITY } else { x };
    if (0.0..=1.0).contains(&u) {
        x
    } else {
        f64::NAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (u, Φ^{-1}(u)) from mpmath at 60 digits (exact binary u).
    const REFERENCE: [(f64, f64); 21] = [
        (1e-300, -37.047096299361199237),
        (1e-100, -21.273453560965324294),
        (1e-20, -9.2623400897984075796),
        (1e-10, -6.3613409024040561991),
        (5e-10, -6.10941020486939713),
        (1.1641532182693481e-10, -6.3379577545537892525),
        (1.1102230246251565e-16, -8.2095361516013868556),
        (1e-05, -4.2648907939228246102),
        (0.01, -2.3263478740408410931),
        (0.075, -1.4395314709384559349),
        (0.2, -0.84162123357291416552),
        (0.3, -0.52440051270804081597),
        (0.45, -0.12566134685507400616),
        (0.5, 0.0),
        (0.6, 0.25334710313579974132),
        (0.9, 1.2815515655446005935),
        (0.925, 1.4395314709384562291),
        (0.975, 1.9599639845400538556),
        (0.999, 3.0902323061678132778),
        (0.9999999998835847, 6.3379577545537892525),
        (0.9999999999999999, 8.2095361516013868556),
    ];

    #[test]
    fn matches_high_precision_reference() {
        for &(u, x) in REFERENCE.iter() {
            let got = inv_norm(u);
            let tol = 4.0 * f64::EPSILON * x.abs().max(1e-300);
            assert!(
                (got - x).abs() <= tol,
                "u = {u}: {got} vs {x}, rel {}",
                (got - x).abs() / x.abs()
            );
        }
    }

    #[test]
    fn coefficient_hash_sums_match_wichura() {
        // AS 241 publishes, per region, the sum of the coefficients' significands
        // (d.ddd… of d.ddd…e±k), the constant 1 of the denominator excluded
        let significand = |x: f64| x / 10f64.powi(x.log10().floor() as i32);
        let hash = |a: &[f64], b: &[f64]| -> f64 { a.iter().chain(&b[..7]).map(|&x| significand(x)).sum() };
        assert!((hash(&A, &B) - 55.883_192_880_614_901_443_9).abs() < 1e-12);
        assert!((hash(&C, &D) - 49.332_065_033_016_102_890_36).abs() < 1e-12);
        assert!((hash(&E, &F) - 47.525_833_175_492_896_716_29).abs() < 1e-12);
    }

    #[test]
    fn edges_and_symmetry() {
        assert_eq!(inv_norm(0.0), f64::NEG_INFINITY);
        assert_eq!(inv_norm(1.0), f64::INFINITY);
        assert!(inv_norm(-0.1).is_nan() && inv_norm(1.5).is_nan() && inv_norm(f64::NAN).is_nan());
        let sub = inv_norm(5e-324);
        assert!(sub < -38.0 && sub > -38.7, "{sub}");
        // exact symmetry whenever 1 − u is exact
        let mut w = 0.5_f64;
        while w > 1e-17 {
            let v = 1.0 - w;
            let u = 1.0 - v;
            assert_eq!(inv_norm(u), -inv_norm(v), "u = {u}");
            w *= 0.61;
        }
    }
}
