//! Nested uniform (Owen) scrambling by hashing.
//!
//! Owen (1995, "Randomly permuted (t,m,s)-nets and (t,s)-sequences") scrambles
//! digit j of a point with a random permutation chosen by digits 1..j−1: a
//! random binary tree of flips. Laine & Karras (2011, "Stratified sampling for
//! stochastic transparency") observed that on a *bit-reversed* integer an
//! operation where each bit only affects the bits above it (adding a seed,
//! multiplying by an odd number, `x ^= x·even`) flips every digit as a function
//! of the more significant digits only, which is exactly such a tree. Burley
//! (2020, "Practical Hash-based Owen Scrambling", JCGT 9(4)) made this the
//! standard nested-uniform scramble:
//!
//! owen(x) = reverse(LK(reverse(x), seed)).
//!
//! We use the better-mixing LK-style hash of N. Vegdahl ("Building a better LK
//! hash", 2021, also used by Blender Cycles) in place of Burley's original
//! constants. Being a bijection that maps each dyadic interval
//! [k/2^m, (k+1)/2^m) onto another, the scramble keeps every (t, m, s)-net
//! property of the Sobol' points exactly.
//!
//! Beyond 32 bits: point i < 2^32 has digits 33, 34, … equal to zero, and an
//! Owen scramble turns each of them into a random bit that depends on the
//! preceding digits. Digits 33..52 are therefore a random function of the
//! 32-bit prefix, drawn here as 20 bits of a hash of the scrambled prefix,
//! which extends the scramble to the full 52-bit mantissa of a double.

/// SplitMix64's finaliser (Stafford's "Mix13"), a strong 64-bit mixer.
#[inline(always)]
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// C. Wellons' `lowbias32` 32-bit integer hash (hash-prospector).
#[inline(always)]
fn lowbias32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7FEB_352D);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846C_A68B);
    x ^ (x >> 16)
}

/// Laine–Karras-style permutation (Vegdahl 2021): each output bit depends only
/// on the input bits below it and on the seed.
#[inline(always)]
fn lk_hash(mut x: u32, seed: u32) -> u32 {
    x ^= x.wrapping_mul(0x3D20_ADEA);
    x = x.wrapping_add(seed);
    x = x.wrapping_mul((seed >> 16) | 1);
    x ^= x.wrapping_mul(0x0552_6C56);
    x ^= x.wrapping_mul(0x53A2_2864);
    x
}

/// Nested uniform scramble of a 32-bit binary fraction (most significant bit = first digit).
#[inline(always)]
pub(crate) fn owen_scramble(x: u32, seed: u32) -> u32 {
    lk_hash(x.reverse_bits(), seed).reverse_bits()
}

/// The per-dimension keys of a scramble.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DimKey {
    /// Seed of the Laine–Karras permutation of digits 1..32.
    pub owen: u32,
    /// Key of the hash giving digits 33..52.
    pub tail: u32,
}

/// Keys of dimension `dim` under `seed`: a strong hash of (seed, dim), never `seed + dim`.
pub(crate) fn dim_key(seed: u64, dim: usize) -> DimKey {
    let s = mix64(seed ^ 0x6A09_E667_F3BC_C908);
    let h = mix64(s ^ mix64((dim as u64).wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15)));
    let t = mix64(h ^ 0xBB67_AE85_84CA_A73B);
    DimKey {
        owen: (h >> 32) as u32,
        tail: t as u32,
    }
}

/// The scrambled point as a double in (0, 1): (m + 1/2)/2^52 with m the 52
/// scrambled digits (32 from the Sobol' point, 20 drawn from its prefix).
#[inline(always)]
pub(crate) fn scrambled_unit(x: u32, key: DimKey) -> f64 {
    let xs = owen_scramble(x, key.owen);
    let tail = lowbias32(xs ^ key.tail) >> 12;
    let m = ((xs as u64) << 20) | tail as u64;
    // m < 2^52 converted exactly without a u64→f64 instruction (none in AVX2)
    let mf = f64::from_bits(0x4330_0000_0000_0000 | m) - 4_503_599_627_370_496.0;
    (mf + 0.5) * (1.0 / 4_503_599_627_370_496.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scramble_is_a_nested_bijection() {
        // on 2^12 inputs differing only in their top 12 bits, the scramble's top
        // 12 bits are a permutation, and inputs sharing a prefix keep sharing one
        for seed in [0u32, 1, 0xDEAD_BEEF] {
            let mut seen = vec![false; 1 << 12];
            for k in 0u32..(1 << 12) {
                let y = owen_scramble(k << 20, seed) >> 20;
                assert!(!seen[y as usize]);
                seen[y as usize] = true;
                let z = owen_scramble((k << 20) | 0x000F_FFFF, seed) >> 20;
                assert_eq!(y, z);
            }
        }
    }

    #[test]
    fn units_are_strictly_inside() {
        let key = dim_key(7, 3);
        for x in [0u32, 1, u32::MAX, 0x8000_0000] {
            let u = scrambled_unit(x, key);
            assert!(u > 0.0 && u < 1.0);
        }
    }

    #[test]
    fn keys_differ_across_dimensions_and_seeds() {
        assert_ne!(dim_key(1, 0), dim_key(1, 1));
        assert_ne!(dim_key(1, 0), dim_key(2, 0));
        assert_ne!(dim_key(0, 1), dim_key(1, 0));
    }
}
