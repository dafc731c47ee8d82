//! Sobol' direction numbers and the point of any index.
//!
//! Dimension k of the Sobol' sequence (Sobol' 1967; Bratley & Fox 1988,
//! ACM TOMS Algorithm 659) is built on a primitive polynomial over GF(2),
//!
//! p_k(x) = x^s + a_1 x^{s-1} + … + a_{s-1} x + 1,
//!
//! and odd initial numbers m_1 … m_s with m_j < 2^j. Later numbers follow the
//! recurrence
//!
//! m_j = 2 a_1 m_{j-1} ⊕ 2^2 a_2 m_{j-2} ⊕ … ⊕ 2^{s-1} a_{s-1} m_{j-s+1} ⊕ 2^s m_{j-s} ⊕ m_{j-s},
//!
//! and the direction numbers are v_j = m_j / 2^j. Point i has coordinate
//!
//! x_i = ⊕_{b ≥ 0} i_b · v_{b+1}   (i_b the bits of i),
//!
//! computed here directly from the bits of i (no Gray code, no sequential
//! state), so every point can be computed on its own. With 32-bit direction
//! numbers the first 2^32 points are exact 32-bit binary fractions.
//!
//! Dimension 0 is the van der Corput sequence (all m_j = 1). Dimensions 1 to 18
//! use the polynomials and initial numbers of Joe & Kuo's `new-joe-kuo-6.21201`
//! table (S. Joe and F. Y. Kuo, "Constructing Sobol sequences with better
//! two-dimensional projections", SIAM J. Sci. Comput. 30, 2008), i.e. every
//! polynomial of degree ≤ 6. Later dimensions are **not** Joe–Kuo's: their
//! primitive polynomials are found by brute force in increasing degree and
//! value (which is also Joe & Kuo's order, so dimension k uses the same
//! polynomial as their table) and their initial numbers come from a fixed
//! SplitMix64 stream per dimension, as in Sobol's and Bratley & Fox's original
//! constructions with "random" initial values. The points are Owen-scrambled
//! afterwards (see `scramble.rs`), which makes the whole construction a
//! randomised QMC rule whose estimates are unbiased whatever the direction
//! numbers; good initial numbers only make the variance smaller.

use std::sync::OnceLock;

/// Bits of a direction number (and of an unscrambled point).
pub(crate) const BITS: usize = 32;

/// Largest number of dimensions: every primitive polynomial of degree ≤ 15
/// (3,666 of them) plus 429 of degree 16, and the van der Corput dimension.
pub(crate) const MAX_DIM: usize = 4096;

/// Joe–Kuo (new-joe-kuo-6.21201) initial numbers m_1..m_s for their dimensions
/// 2 to 19, which are dimensions 1 to 18 here.
const JOE_KUO_M: [&[u32]; 18] = [
    &[1],
    &[1, 3],
    &[1, 3, 1],
    &[1, 1, 1],
    &[1, 1, 3, 3],
    &[1, 3, 5, 13],
    &[1, 1, 5, 5, 17],
    &[1, 1, 5, 5, 5],
    &[1, 1, 7, 11, 19],
    &[1, 1, 5, 1, 1],
    &[1, 1, 1, 3, 11],
    &[1, 3, 5, 5, 31],
    &[1, 3, 3, 9, 7, 49],
    &[1, 1, 1, 15, 21, 21],
    &[1, 3, 1, 13, 27, 49],
    &[1, 1, 1, 15, 7, 5],
    &[1, 3, 1, 15, 13, 25],
    &[1, 1, 5, 5, 19, 61],
];

/// Joe–Kuo's (degree s, coefficient code a) for the same dimensions; a test
/// checks that the brute-force enumeration reproduces them.
#[cfg(test)]
const JOE_KUO_POLY: [(u32, u32); 18] = [
    (1, 0),
    (2, 1),
    (3, 1),
    (3, 2),
    (4, 1),
    (4, 4),
    (5, 2),
    (5, 4),
    (5, 7),
    (5, 11),
    (5, 13),
    (5, 14),
    (6, 1),
    (6, 13),
    (6, 16),
    (6, 19),
    (6, 22),
    (6, 25),
];

/// Degree of a polynomial stored with bit j = coefficient of x^j.
fn degree(p: u32) -> u32 {
    31 - p.leading_zeros()
}

/// a·b mod p over GF(2), for a, b of degree < deg p (shift-and-add).
fn mulmod(a: u32, b: u32, p: u32) -> u32 {
    let s = degree(p);
    let mut r: u32 = 0;
    for bit in (0..s).rev() {
        r <<= 1;
        if (r >> s) & 1 == 1 {
            r ^= p;
        }
        if (b >> bit) & 1 == 1 {
            r ^= a;
        }
    }
    r
}

/// x^e mod p over GF(2).
fn powmod_x(mut e: u64, p: u32) -> u32 {
    let s = degree(p);
    // x reduced modulo p (x ≡ 1 when p = x + 1)
    let mut base: u32 = if s == 1 { 2 ^ p } else { 2 };
    let mut acc: u32 = 1;
    while e > 0 {
        if e & 1 == 1 {
            acc = mulmod(acc, base, p);
        }
        base = mulmod(base, base, p);
        e >>= 1;
    }
    acc
}

/// Distinct prime factors of n (trial division; n < 2^32).
fn prime_factors(mut n: u64) -> Vec<u64> {
    let mut out = Vec::new();
    let mut f = 2;
    while f * f <= n {
        if n % f == 0 {
            out.push(f);
            while n % f == 0 {
                n /= f;
            }
        }
        f += 1;
    }
    if n > 1 {
        out.push(n);
    }
    out
}

/// Whether p (degree s ≥ 1, constant term 1) is primitive: the order of x
/// modulo p is exactly 2^s − 1, i.e. x^(2^s−1) = 1 and x^((2^s−1)/r) ≠ 1 for
/// every prime r dividing 2^s − 1. (A reducible p has fewer than 2^s − 1
/// units modulo p, so it fails the test too.)
fn is_primitive(p: u32, factors: &[u64]) -> bool {
    let s = degree(p);
    let order = (1u64 << s) - 1;
    // x^(2^s) = x  ⇔  x^(2^s−1) = 1 (x is a unit since p(0) = 1); s squarings
    let x = powmod_x(1, p);
    let mut y = x;
    for _ in 0..s {
        y = mulmod(y, y, p);
    }
    y == x && factors.iter().all(|&r| powmod_x(order / r, p) != 1)
}

/// The first `MAX_DIM − 1` primitive polynomials in increasing degree and value.
pub(crate) fn primitive_polynomials() -> &'static [u32] {
    static POLYS: OnceLock<Vec<u32>> = OnceLock::new();
    POLYS.get_or_init(|| {
        let want = MAX_DIM - 1;
        let mut out = Vec::with_capacity(want);
        let mut s = 1u32;
        while out.len() < want {
            let factors = prime_factors((1u64 << s) - 1);
            let mut p = (1u32 << s) | 1;
            while p < (1u32 << (s + 1)) && out.len() < want {
                if is_primitive(p, &factors) {
                    out.push(p);
                }
                p += 2;
            }
            s += 1;
        }
        out
    })
}

/// SplitMix64 (Steele, Lea & Flood 2014): the fixed streams of candidate initial numbers.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        super::scramble::mix64(self.0)
    }
}

/// Candidate `c` of the initial numbers m_1..m_s of dimension `dim`: odd,
/// m_j < 2^j, drawn from a SplitMix64 stream keyed by (dim, c).
fn candidate_initial(dim: usize, c: u32, s: usize) -> [u32; BITS + 1] {
    let key = super::scramble::mix64((dim as u64) << 8 | c as u64);
    let mut rng = SplitMix64(key ^ 0x5EED_0F5A_B01D_1CE5);
    let mut m = [0u32; BITS + 1];
    for (j, mj) in m.iter_mut().enumerate().take(s.min(BITS) + 1).skip(1) {
        *mj = ((rng.next() >> (64 - j)) as u32) | 1;
    }
    m
}

/// Direction numbers from the polynomial p (degree s) and m_1..m_s.
fn directions_from(p: u32, mut m: [u32; BITS + 1]) -> [u32; BITS] {
    let s = degree(p) as usize;
    for j in s + 1..=BITS {
        let mut mj = m[j - s] ^ (m[j - s] << s);
        for r in 1..s {
            // a_r is the coefficient of x^{s−r}
            if (p >> (s - r)) & 1 == 1 {
                mj ^= m[j - r] << r;
            }
        }
        m[j] = mj;
    }
    let mut v = [0u32; BITS];
    for (b, vb) in v.iter_mut().enumerate() {
        let j = b + 1;
        *vb = m[j] << (BITS - j);
    }
    v
}

/// Initial numbers of dimension `dim` (any dimension).
fn initial_numbers(dim: usize) -> [u32; BITS + 1] {
    let mut m = [0u32; BITS + 1];
    if dim == 0 {
        m[1..].fill(1);
    } else if dim <= JOE_KUO_M.len() {
        m[1..=JOE_KUO_M[dim - 1].len()].copy_from_slice(JOE_KUO_M[dim - 1]);
    } else {
        let s = degree(primitive_polynomials()[dim - 1]) as usize;
        let c = CHOSEN.get(dim - JOE_KUO_M.len() - 1).copied().unwrap_or(0);
        m = candidate_initial(dim, c as u32, s);
    }
    m
}

/// The 32 direction numbers of dimension `dim` as 32-bit integers:
/// entry b is v_{b+1}·2^32, the number XOR-ed in when bit b of the index is set.
pub(crate) fn direction_numbers(dim: usize) -> [u32; BITS] {
    if dim == 0 {
        // van der Corput: v_j = 2^{-j}
        let mut v = [0u32; BITS];
        for (b, vb) in v.iter_mut().enumerate() {
            *vb = 1 << (BITS - 1 - b);
        }
        return v;
    }
    directions_from(primitive_polynomials()[dim - 1], initial_numbers(dim))
}

/// Rows of the generator matrix: bit b of row r is digit r + 1 of v_{b+1}
/// (the matrix is upper triangular with a unit diagonal).
fn generator_rows(v: &[u32; BITS]) -> [u32; BITS] {
    let mut rows = [0u32; BITS];
    for (b, &vb) in v.iter().enumerate() {
        for (r, row) in rows.iter_mut().enumerate().take(b + 1) {
            if (vb >> (BITS - 1 - r)) & 1 == 1 {
                *row |= 1 << b;
            }
        }
    }
    rows
}

/// t-value of the two-dimensional projection of the first 2^m points on two
/// dimensions with generator rows `a` and `b`: the smallest t such that for
/// every k_1 + k_2 = m − t the first k_1 rows of A and k_2 rows of B,
/// restricted to m columns, are linearly independent (Niederreiter 1992,
/// Thm 4.28); then every box [i/2^{k_1}, …) × [j/2^{k_2}, …) of volume 2^{t−m}
/// holds 2^t points.
fn t_value(a: &[u32; BITS], b: &[u32; BITS], m: usize) -> u32 {
    let mask = if m == BITS { u32::MAX } else { (1u32 << m) - 1 };
    let mut w = [0u32; BITS];
    for j in 0..m {
        w[j] = b[j] & mask;
    }
    // tau = largest k_1 + k_2 with all smaller splits independent
    let mut tau = m;
    for k1 in 0..m {
        if k1 >= tau {
            break;
        }
        // w = rows of B reduced modulo the first k1 rows of A (zero below bit k1);
        // the first j + 1 of them dependent ⇒ tau ≤ k1 + j
        let mut basis = [0u32; BITS];
        'rows: for (j, &wj) in w.iter().enumerate().take(tau - k1) {
            let mut x = wj;
            loop {
                if x == 0 {
                    tau = k1 + j;
                    break 'rows;
                }
                let p = x.trailing_zeros() as usize;
                if basis[p] == 0 {
                    basis[p] = x;
                    break;
                }
                x ^= basis[p];
            }
        }
        let ar = a[k1] & mask;
        for wj in w.iter_mut().take(m) {
            if (*wj >> k1) & 1 == 1 {
                *wj ^= ar;
            }
        }
    }
    (m - tau) as u32
}

/// Candidate index chosen for each dimension after the Joe–Kuo ones (19, 20, …).
/// Regenerate with `cargo test --release --lib qmc::sobol::tests::regenerate -- --ignored --nocapture`.
const CHOSEN: [u8; 581] = [22, 10, 37, 10, 37, 59, 55, 56, 22, 39, 36, 3, 33, 63, 0, 57, 54, 62, 10, 42, 42, 52, 7, 56, 61, 25, 27, 46, 35, 51, 51, 50,
35, 20, 38, 53, 60, 13, 15, 36, 39, 23, 44, 15, 22, 19, 8, 32, 29, 45, 30, 61, 39, 12, 12, 7, 28, 56, 9, 6, 1, 1, 8, 23,
6, 58, 28, 2, 62, 2, 47, 26, 52, 32, 62, 59, 2, 37, 61, 40, 29, 5, 53, 22, 27, 12, 47, 20, 19, 53, 44, 12, 28, 50, 35, 26,
60, 38, 36, 41, 46, 7, 55, 63, 25, 51, 12, 43, 0, 13, 12, 5, 0, 22, 48, 4, 51, 24, 12, 24, 31, 42, 37, 49, 21, 44, 50, 27,
43, 3, 36, 48, 33, 4, 47, 52, 6, 5, 30, 36, 24, 9, 16, 63, 48, 2, 25, 21, 26, 44, 16, 51, 2, 24, 27, 22, 13, 25, 42, 4,
3, 49, 3, 0, 54, 38, 0, 10, 52, 51, 56, 19, 59, 32, 4, 6, 20, 34, 28, 37, 50, 44, 17, 32, 61, 45, 10, 61, 31, 6, 11, 31,
47, 37, 60, 42, 17, 43, 56, 25, 62, 38, 60, 17, 2, 11, 54, 59, 10, 44, 58, 24, 56, 29, 22, 28, 35, 53, 41, 53, 40, 27, 16, 27,
52, 6, 10, 30, 35, 2, 57, 19, 17, 53, 16, 45, 38, 24, 30, 12, 18, 12, 34, 33, 37, 58, 61, 4, 51, 47, 11, 58, 11, 49, 38, 61,
19, 8, 21, 5, 21, 45, 43, 62, 10, 19, 22, 1, 56, 25, 37, 46, 36, 15, 52, 21, 54, 0, 41, 21, 19, 20, 42, 63, 20, 14, 15, 58,
28, 39, 27, 0, 24, 27, 49, 4, 63, 0, 7, 54, 15, 1, 22, 14, 5, 3, 21, 4, 55, 11, 41, 24, 31, 11, 52, 47, 11, 11, 56, 32,
38, 23, 32, 52, 7, 7, 5, 41, 48, 30, 1, 36, 3, 2, 58, 21, 20, 36, 2, 34, 14, 49, 40, 57, 10, 37, 26, 23, 13, 38, 36, 52,
34, 57, 34, 36, 30, 58, 54, 27, 25, 5, 49, 57, 21, 12, 8, 36, 21, 9, 41, 40, 23, 51, 26, 32, 57, 48, 2, 48, 35, 62, 2, 55,
60, 61, 43, 18, 61, 16, 27, 33, 12, 27, 6, 63, 33, 37, 1, 11, 30, 35, 15, 12, 0, 8, 54, 26, 50, 52, 36, 4, 24, 55, 56, 34,
34, 1, 31, 52, 48, 18, 52, 31, 31, 35, 24, 49, 26, 53, 22, 22, 41, 56, 26, 20, 29, 25, 3, 0, 13, 24, 54, 44, 6, 46, 4, 39,
9, 8, 23, 59, 13, 0, 21, 4, 6, 13, 17, 30, 19, 23, 36, 11, 38, 35, 25, 52, 40, 21, 52, 8, 30, 45, 3, 9, 45, 17, 16, 63,
51, 31, 5, 4, 41, 48, 52, 47, 25, 7, 61, 38, 14, 19, 19, 63, 48, 9, 36, 17, 11, 17, 4, 61, 43, 42, 18, 24, 41, 0, 61, 58,
4, 11, 20, 5, 52, 57, 61, 25, 62, 26, 62, 56, 10, 51, 19, 57, 36, 54, 3, 52, 45, 11, 63, 30, 2, 56, 22, 32, 27, 46, 34, 13,
39, 54, 47, 52, 23, 27, 55, 31, 6, 31, 10, 50, 45, 2, 62, 53, 41, 55, 28, 57, 6, 5, 58, 38, 24, 4, 22, 10, 8, 7, 59, 47,
34, 31, 7, 39, 0];

/// Candidates tried per dimension by the search.
#[cfg(test)]
fn search_candidates(dim: usize) -> u32 {
    if dim < 1024 {
        64
    } else {
        16
    }
}

/// The m (log2 of the number of points) at which the search scores t-values.
#[cfg(test)]
const SEARCH_M: [usize; 8] = [6, 8, 10, 12, 14, 16, 18, 20];

/// The candidate initial numbers for dimension `dim` that minimise
///
/// Σ_{l < dim} Σ_{m ∈ SEARCH_M} 2^{2·t_{l,dim}(m) − m},
///
/// with t_{l,dim}(m) the t-value of the 2-D projection on (l, dim) of the first
/// 2^m points. Owen's bound on the variance of a scrambled (t, m, s)-net
/// grows like 2^t; the extra 2^{t−m} makes a projection that collapses at
/// small m (t near m) cost far more than a moderate t at large m. This is a
/// simplified form of Joe & Kuo's (2008) search on 2-D t-values. `prev`
/// holds the generator rows of dimensions 0..dim. Returns (candidate, score).
#[cfg(test)]
fn choose_candidate(dim: usize, prev: &[[u32; BITS]]) -> (u32, u64) {
    use rayon::prelude::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    let p = primitive_polynomials()[dim - 1];
    let s = degree(p) as usize;
    let best = AtomicU64::new(u64::MAX);
    let scores: Vec<(u64, u32)> = (0..search_candidates(dim))
        .into_par_iter()
        .map(|c| {
            let rows = generator_rows(&directions_from(p, candidate_initial(dim, c, s)));
            let mut score = 0u64;
            for a in prev {
                for &m in &SEARCH_M {
                    let t = t_value(a, &rows, m) as usize;
                    score += 1u64 << (2 * t + 20 - m);
                }
                // partial scores only grow: a candidate already worse cannot win
                if score > best.load(Ordering::Relaxed) {
                    return (u64::MAX, c);
                }
            }
            best.fetch_min(score, Ordering::Relaxed);
            (score, c)
        })
        .collect();
    let (score, c) = scores.into_iter().min().unwrap_or((0, 0));
    (c, score)
}

/// The search for dimensions 19..n from scratch; returns the chosen candidates.
#[cfg(test)]
fn search(n: usize) -> Vec<u8> {
    let mut prev: Vec<[u32; BITS]> = (0..=JOE_KUO_M.len()).map(|k| generator_rows(&direction_numbers(k))).collect();
    let mut chosen = Vec::new();
    for dim in JOE_KUO_M.len() + 1..n {
        let (c, _) = choose_candidate(dim, &prev);
        chosen.push(c as u8);
        let p = primitive_polynomials()[dim - 1];
        prev.push(generator_rows(&directions_from(p, candidate_initial(dim, c, degree(p) as usize))));
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polynomial_counts_match_euler_phi() {
        // number of primitive polynomials of degree s is φ(2^s − 1)/s
        let polys = primitive_polynomials();
        let count = |s: u32| polys.iter().filter(|&&p| degree(p) == s).count();
        let expected = [1, 1, 2, 2, 6, 6, 18, 16, 48, 60, 176, 144, 630, 756, 1800];
        for (s, &e) in (1..=15).zip(expected.iter()) {
            assert_eq!(count(s), e, "degree {s}");
        }
        assert_eq!(polys.len(), MAX_DIM - 1);
    }

    #[test]
    fn enumeration_matches_joe_kuo_order() {
        let polys = primitive_polynomials();
        for (k, &(s, a)) in JOE_KUO_POLY.iter().enumerate() {
            let p = polys[k];
            assert_eq!(degree(p), s, "dimension {}", k + 1);
            assert_eq!((p >> 1) & ((1 << (s - 1)) - 1), a, "dimension {}", k + 1);
        }
    }

    #[test]
    fn initial_numbers_are_odd_and_bounded() {
        for dim in 0..200 {
            let v = direction_numbers(dim);
            for (b, &vb) in v.iter().enumerate() {
                let j = b + 1;
                let mj = vb >> (BITS - j);
                assert_eq!(mj & 1, 1, "dim {dim}, j {j}");
                assert!(mj < (1u64 << j) as u32 || j == 32);
            }
        }
    }

    #[test]
    fn fast_t_value_matches_box_counting() {
        // count points per elementary box of the first 2^m points
        fn counted(va: &[u32; BITS], vb: &[u32; BITS], m: u32) -> u32 {
            let pt = |v: &[u32; BITS], i: u32| (0..BITS).filter(|&b| (i >> b) & 1 == 1).fold(0u32, |x, b| x ^ v[b]);
            (0..=m)
                .find(|&t| {
                    (0..=m - t).all(|k| {
                        let mut cnt = vec![0u32; 1 << (m - t)];
                        (0..1u32 << m).all(|i| {
                            let ca = if k == 0 { 0 } else { pt(va, i) >> (32 - k) };
                            let kb = m - t - k;
                            let cb = if kb == 0 { 0 } else { pt(vb, i) >> (32 - kb) };
                            let c = ((ca << kb) | cb) as usize;
                            cnt[c] += 1;
                            cnt[c] <= 1 << t
                        })
                    })
                })
                .unwrap()
        }
        for (a, b) in [(0, 1), (3, 7), (10, 11), (5, 40), (26, 27), (100, 101)] {
            let (va, vb) = (direction_numbers(a), direction_numbers(b));
            for m in [4, 7, 10] {
                assert_eq!(t_value(&generator_rows(&va), &generator_rows(&vb), m as usize), counted(&va, &vb, m), "({a}, {b}), m {m}");
            }
        }
    }

    #[test]
    fn table_reproduces_the_search() {
        // the first dimensions of CHOSEN come out of `search` again
        let n = 120;
        assert_eq!(search(n)[..], CHOSEN[..n - JOE_KUO_M.len() - 1]);
    }

    /// Regenerates CHOSEN (minutes):
    /// `cargo test --release --lib qmc::sobol::tests::regenerate -- --ignored --nocapture`,
    /// then paste /tmp/sobol_chosen.txt.
    #[test]
    #[ignore]
    fn regenerate() {
        let chosen = search(MAX_DIM);
        let body: Vec<String> = chosen
            .chunks(32)
            .map(|ch| ch.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", "))
            .collect();
        std::fs::write("/tmp/sobol_chosen.txt", format!("[\n    {},\n]", body.join(",\n    "))).unwrap();
    }

    /// 2-D t-values of all pairs of the first `QMC_DIMS` dimensions (default 300).
    #[test]
    #[ignore]
    fn projection_report() {
        let n: usize = std::env::var("QMC_DIMS").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
        let rows: Vec<[u32; BITS]> = (0..n).map(|k| generator_rows(&direction_numbers(k))).collect();
        for m in [8usize, 10, 12, 14, 16, 20] {
            let (mut tmax, mut sum, mut half) = (0, 0.0, 0usize);
            for a in 0..n {
                for b in 0..a {
                    let t = t_value(&rows[b], &rows[a], m);
                    tmax = tmax.max(t);
                    sum += (1u64 << t) as f64;
                    half += (2 * t as usize >= m) as usize;
                }
            }
            let pairs = (n * (n - 1) / 2) as f64;
            println!("m {m:2}: max t {tmax:2}, mean 2^t {:7.3}, pairs with t >= m/2: {half}", sum / pairs);
        }
    }

    #[test]
    fn second_dimension_is_the_classical_one() {
        // m_j = 1, 3, 5, 15, 17, 51, ... for p(x) = x + 1
        let v = direction_numbers(1);
        let m: Vec<u32> = (0..6).map(|b| v[b] >> (31 - b)).collect();
        assert_eq!(m, [1, 3, 5, 15, 17, 51]);
    }
}
