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
//! Dimension 0 is the van der Corput sequence (all m_j = 1). Dimensions 1 to
//! 4,095 take their polynomials and initial numbers from the first rows of
//! Joe & Kuo's `new-joe-kuo-6.21201` table (S. Joe and F. Y. Kuo, "Constructing
//! Sobol sequences with better two-dimensional projections", SIAM J. Sci.
//! Comput. 30, 2008), kept in `new-joe-kuo-6.4096` in their format with their
//! licence. Their initial numbers were searched so that the two-dimensional
//! projections of the first points have small t-values (search criterion 6);
//! a test checks the table's polynomials against an enumeration of the
//! primitive polynomials and the t-values of its first dimensions. The points
//! are Owen-scrambled afterwards (see `scramble.rs`), which makes the whole
//! construction a randomised QMC rule whose estimates are unbiased; good
//! direction numbers make their variance small.

use std::sync::OnceLock;

/// Bits of a direction number (and of an unscrambled point).
pub(crate) const BITS: usize = 32;

/// Largest number of dimensions: the van der Corput dimension and the table's 4,095 rows
/// (every primitive polynomial of degree ≤ 15, 3,666 of them, and 429 of degree 16).
pub(crate) const MAX_DIM: usize = 4096;

/// Joe & Kuo's rows for dimensions 2 to 4,096 (1 to 4,095 here): `d s a m_1 … m_s`.
const JOE_KUO: &str = include_str!("new-joe-kuo-6.4096");

/// One dimension of the table: its polynomial (bit j = coefficient of x^j) and
/// m_1 … m_s (`m[j]`, entries past s zero).
struct Row {
    poly: u32,
    m: [u32; BITS + 1],
}

/// The table's rows, parsed once; row k − 1 is dimension k. (The embedded text is
/// fixed: a test reads every row of it, so the indexing below cannot fail.)
fn table() -> &'static [Row] {
    static ROWS: OnceLock<Vec<Row>> = OnceLock::new();
    ROWS.get_or_init(|| {
        JOE_KUO
            .lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
            .map(|l| {
                let v: Vec<u32> = l.split_ascii_whitespace().map(|x| x.parse().unwrap_or(0)).collect();
                let (s, a) = (v[1] as usize, v[2]);
                let mut m = [0u32; BITS + 1];
                m[1..=s].copy_from_slice(&v[3..3 + s]);
                Row {
                    poly: (1 << s) | (a << 1) | 1,
                    m,
                }
            })
            .collect()
    })
}

/// Degree of a polynomial stored with bit j = coefficient of x^j.
fn degree(p: u32) -> u32 {
    31 - p.leading_zeros()
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

/// The 32 direction numbers of dimension `dim` (< [`MAX_DIM`]) as 32-bit integers:
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
    let row = &table()[dim - 1];
    directions_from(row.poly, row.m)
}

/// Rows of the generator matrix: bit b of row r is digit r + 1 of v_{b+1}
/// (the matrix is upper triangular with a unit diagonal).
pub(crate) fn generator_rows(v: &[u32; BITS]) -> [u32; BITS] {
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
/// restricted to m columns, are linearly independent (the linear-algebra
/// characterisation of digital nets, Niederreiter 1992, ch. 4); then every
/// box [i/2^{k_1}, …) × [j/2^{k_2}, …) of volume 2^{t−m} holds 2^t points.
pub(crate) fn t_value(a: &[u32; BITS], b: &[u32; BITS], m: usize) -> u32 {
    let mask = if m == BITS { u32::MAX } else { (1u32 << m) - 1 };
    let mut w = [0u32; BITS];
    for j in 0..m {
        w[j] = b[j] & mask;
    }
    // tau = largest k_1 + k_2 with all smaller splits independent
    let mut tau = m;
    for (k1, &ak) in a.iter().enumerate().take(m) {
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
        let ar = ak & mask;
        for wj in w.iter_mut().take(m) {
            if (*wj >> k1) & 1 == 1 {
                *wj ^= ar;
            }
        }
    }
    (m - tau) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Joe–Kuo's initial numbers m_1..m_s for their dimensions 2 to 19 (1 to 18 here),
    /// typed from the published table: the parser must read the same.
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

    /// Joe–Kuo's (degree s, coefficient code a) for the same dimensions.
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
            if n.is_multiple_of(f) {
                out.push(f);
                while n.is_multiple_of(f) {
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

    #[test]
    fn table_has_every_dimension_with_odd_bounded_initial_numbers() {
        let ds: Vec<usize> = JOE_KUO
            .lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
            .map(|l| l.split_ascii_whitespace().next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(ds, (2..=MAX_DIM).collect::<Vec<_>>());
        assert_eq!(table().len(), MAX_DIM - 1);
        for dim in 0..MAX_DIM {
            let v = direction_numbers(dim);
            for (b, &vb) in v.iter().enumerate() {
                let j = b + 1;
                let mj = vb >> (BITS - j);
                assert_eq!(mj & 1, 1, "dim {dim}, j {j}");
                assert!(j == 32 || mj < (1u32 << j), "dim {dim}, j {j}");
            }
        }
    }

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
    fn table_polynomials_are_the_primitive_ones_in_order() {
        let table: Vec<u32> = table().iter().map(|r| r.poly).collect();
        assert_eq!(table, primitive_polynomials());
    }

    #[test]
    fn first_rows_read_as_published() {
        for (k, (&(s, a), m)) in JOE_KUO_POLY.iter().zip(JOE_KUO_M).enumerate() {
            let row = &table()[k];
            assert_eq!(degree(row.poly), s, "dimension {}", k + 1);
            assert_eq!((row.poly >> 1) & ((1 << (s - 1)) - 1), a, "dimension {}", k + 1);
            assert_eq!(row.m[1..=m.len()], m[..], "dimension {}", k + 1);
            assert!(row.m[m.len() + 1..].iter().all(|&x| x == 0));
        }
    }

    #[test]
    fn the_table_projects_better_than_random_initial_numbers() {
        // Σ over pairs of the first 100 dimensions of 2^t (Owen's variance bound grows
        // like 2^t), against the same polynomials with random odd m_j < 2^j
        let n = 100;
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut random_rows = vec![generator_rows(&direction_numbers(0))];
        for row in &table()[..n - 1] {
            let mut m = [0u32; BITS + 1];
            for (j, mj) in m.iter_mut().enumerate().take(degree(row.poly) as usize + 1).skip(1) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *mj = ((state >> (64 - j)) as u32) | 1;
            }
            random_rows.push(generator_rows(&directions_from(row.poly, m)));
        }
        let rows: Vec<_> = (0..n).map(|k| generator_rows(&direction_numbers(k))).collect();
        for m in [10, 14] {
            let score = |r: &[[u32; BITS]]| -> u64 {
                (0..n)
                    .flat_map(|a| (0..a).map(move |b| (a, b)))
                    .map(|(a, b)| 1u64 << t_value(&r[b], &r[a], m))
                    .sum()
            };
            let (ours, random) = (score(&rows), score(&random_rows));
            assert!(ours < random, "m {m}: {ours} vs random {random}");
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
                assert_eq!(
                    t_value(&generator_rows(&va), &generator_rows(&vb), m as usize),
                    counted(&va, &vb, m),
                    "({a}, {b}), m {m}"
                );
            }
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
