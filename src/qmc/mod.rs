//! Quasi-Monte Carlo shocks: scrambled Sobol' points with a Brownian bridge
//! (MODEL.md §7, "Sobol with Owen scrambling and a Brownian bridge").
//!
//! Path i of a run with `horizon` = H steps and `d` shocks per step receives
//! the D = H·d coordinates of Sobol' point i, transformed in four stages:
//!
//! 1. **Sobol' point** x_i ∈ [0, 1)^D, computed directly from the bits of i
//!    (x_i^{(k)} = ⊕_b i_b·v_{k,b}, see `sobol.rs`), so that any path can be
//!    computed alone, on any thread or machine.
//! 2. **Owen scrambling** (nested uniform scramble, Owen 1995) by the hash of
//!    Laine & Karras (2011) / Burley (2020), keyed by a strong hash of
//!    (seed, dimension), extended to 52 random digits:
//!    u = (m + 1/2)/2^52 ∈ (0, 1), see `scramble.rs`. Each u is uniform over
//!    the scrambles, so estimates are unbiased, and independent seeds give
//!    independent replicates for error bars. For smooth integrands the
//!    variance of a mean over N = 2^m points falls like N^{-3}(log N)^{D−1}
//!    (Owen 1997) instead of N^{-1}; after Φ^{-1} integrands are unbounded and
//!    the rate is lower: in `tests/qmc.rs` the RMSE of a lognormal mean falls
//!    like N^{-1.0} against N^{-0.5} for plain Monte Carlo.
//! 3. **Normal quantile** z = Φ^{-1}(u) by Wichura's AS 241 ([`inv_norm`]).
//! 4. **Brownian bridge** per shock j (see `bridge.rs`): Sobol' dimension
//!    k·d + j is the k-th normal of shock j's bridge, so the first d
//!    dimensions (the best equidistributed ones) build the d end points
//!    W_j(H) = sqrt(H)·z, the next d the mid points, and so on (bisection
//!    order T, T/2, T/4, 3T/4, …; the general construction when H is not a
//!    power of two). The output is the unit increment
//!    out[t·d + j] = W_j(t + 1) − W_j(t) (Δ = 1), i.i.d. N(0, 1) over the
//!    scrambles, like the shocks of [`crate::rng::PathRng`].
//!
//! Reproducibility (MODEL.md §7): point i depends only on (seed, i, H, d) and
//! the build, never on threads or chunking; every instruction-set tier of
//! [`crate::simd`] gives the same bits.
//!
//! The direction numbers are Joe & Kuo's (`new-joe-kuo-6.21201`, see `sobol.rs`)
//! in every dimension.

mod bridge;
pub(crate) mod invnorm;
mod scramble;
mod sobol;

pub use invnorm::inv_norm;

use crate::error::{CoreError, Result};
use crate::simd::multiversion;
use bridge::Bridge;
#[cfg(test)] // (the tests' reproducible inputs)
pub(crate) use scramble::mix64;
use scramble::DimKey;
use sobol::BITS;

/// Largest dimension H·d of a [`QmcShocks`].
pub const MAX_DIM: usize = sobol::MAX_DIM;

/// Dimensions processed together in [`QmcShocks::fill`] (stack buffers).
const CHUNK: usize = 64;

/// Standard normal shocks for path `i` from a scrambled Sobol point, with a
/// Brownian bridge over the time steps of each shock.
///
/// ```
/// use geoscenario::qmc::QmcShocks;
/// let q = QmcShocks::new(42, 24, 3).unwrap();
/// let mut z = vec![0.0; 24 * 3];
/// q.fill(7, &mut z); // z[t * 3 + j]: shock j of step t for path 7
/// assert!(z.iter().all(|x| x.is_finite()));
/// ```
#[derive(Clone)]
pub struct QmcShocks {
    horizon: usize,
    d: usize,
    dim: usize,
    /// Direction numbers, bit-major: `v[b * dim + k]` is XOR-ed into dimension
    /// k when bit b of the point index is set.
    v: Vec<u32>,
    /// Scramble keys per dimension.
    keys: Vec<DimKey>,
    /// Output slot of Sobol' dimension k: point·d + shock of the normal it feeds.
    dest: Vec<usize>,
    bridge: Bridge,
}

impl std::fmt::Debug for QmcShocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QmcShocks")
            .field("horizon", &self.horizon)
            .field("d", &self.d)
            .field("dim", &self.dim)
            .finish_non_exhaustive()
    }
}

impl QmcShocks {
    /// Largest number of points (2^32).
    pub const MAX_POINTS: u64 = 1 << 32;

    /// Shocks for `horizon ≥ 1` steps of `d ≥ 1` shocks each, scrambled by `seed`.
    ///
    /// The dimension horizon·d must not exceed [`MAX_DIM`] (4096).
    pub fn new(seed: u64, horizon: usize, d: usize) -> Result<QmcShocks> {
        if horizon == 0 {
            return Err(CoreError::invalid("qmc.horizon", "must be at least 1"));
        }
        if d == 0 {
            return Err(CoreError::invalid("qmc.shocks", "must be at least 1"));
        }
        let dim = match horizon.checked_mul(d) {
            Some(n) if n <= MAX_DIM => n,
            _ => {
                return Err(CoreError::invalid(
                    "horizon_months",
                    format!(
                        "with qmc=True, horizon × shocks = {horizon} × {d} exceeds the {MAX_DIM} Sobol \
                         dimensions available: at most {} months with this world's {d} shocks",
                        MAX_DIM / d
                    ),
                ))
            }
        };
        let mut v = vec![0u32; BITS * dim];
        for k in 0..dim {
            for (b, &vb) in sobol::direction_numbers(k).iter().enumerate() {
                v[b * dim + k] = vb;
            }
        }
        let keys = (0..dim).map(|k| scramble::dim_key(seed, k)).collect();
        let bridge = Bridge::new(horizon);
        let dest = (0..dim).map(|k| bridge.point_of(k / d) * d + k % d).collect();
        Ok(QmcShocks {
            horizon,
            d,
            dim,
            v,
            keys,
            dest,
            bridge,
        })
    }

    /// Steps H.
    pub fn horizon(&self) -> usize {
        self.horizon
    }

    /// Shocks per step d.
    pub fn shocks(&self) -> usize {
        self.d
    }

    /// Dimension H·d (the length of `fill`'s output).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Unscrambled Sobol' coordinate `dim` of point `i` as a 32-bit binary
    /// fraction (the point is x/2^32), or `None` if `i ≥ 2^32` or `dim` is out of range.
    pub fn sobol_bits(&self, i: u64, dim: usize) -> Option<u32> {
        if i >= Self::MAX_POINTS || dim >= self.dim {
            return None;
        }
        Some(self.raw(i as u32, dim))
    }

    #[inline(always)]
    fn raw(&self, i: u32, dim: usize) -> u32 {
        let mut x = 0u32;
        let mut bits = i;
        while bits != 0 {
            let b = bits.trailing_zeros() as usize;
            x ^= self.v[b * self.dim + dim];
            bits &= bits - 1;
        }
        x
    }

    /// Scrambled uniform of Sobol' dimension `dim` for point `i`, in (0, 1);
    /// NaN if `i ≥ 2^32` or `dim ≥ self.dim()`.
    ///
    /// `fill` feeds Φ^{-1} of this value to the bridge: the uniforms of
    /// dimension k·d + j drive shock j.
    pub fn uniform(&self, i: u64, dim: usize) -> f64 {
        match self.sobol_bits(i, dim) {
            Some(x) => scramble::scrambled_unit(x, self.keys[dim]),
            None => f64::NAN,
        }
    }

    /// Fill `out` (length horizon·d, `out[t*d + j]` = shock j of step t) with
    /// the standard normals of point `i < 2^32`.
    ///
    /// With `i ≥ 2^32` or the wrong length, `out` is filled with NaN (use
    /// [`QmcShocks::try_fill`] for an error instead).
    pub fn fill(&self, i: u64, out: &mut [f64]) {
        if i >= Self::MAX_POINTS || out.len() != self.dim {
            out.fill(f64::NAN);
            return;
        }
        fill_dispatch(self, i as u32, out)
    }

    /// [`QmcShocks::fill`] that refuses an out-of-range point or a wrong length.
    pub fn try_fill(&self, i: u64, out: &mut [f64]) -> Result<()> {
        if i >= Self::MAX_POINTS {
            return Err(CoreError::invalid(
                "qmc.point",
                format!("index {i} is not below 2^32 = {}", Self::MAX_POINTS),
            ));
        }
        if out.len() != self.dim {
            return Err(CoreError::invalid(
                "qmc.out",
                format!("length {} differs from horizon × shocks = {}", out.len(), self.dim),
            ));
        }
        fill_dispatch(self, i as u32, out);
        Ok(())
    }
}

multiversion! {
    fn fill_dispatch(q: &QmcShocks, i: u32, out: &mut [f64]) -> () {
        fill_generic(q, i, out)
    }
}

#[inline(always)]
fn fill_generic(q: &QmcShocks, i: u32, out: &mut [f64]) {
    let dim = q.dim;
    let mut x = [0u32; CHUNK];
    let mut z = [0.0f64; CHUNK];
    let mut c0 = 0;
    while c0 < dim {
        let len = CHUNK.min(dim - c0);
        let x = &mut x[..len];
        let z = &mut z[..len];
        // 1. Sobol': XOR of the direction numbers of the set bits of i
        x.fill(0);
        let mut bits = i;
        while bits != 0 {
            let b = bits.trailing_zeros() as usize;
            let row = &q.v[b * dim + c0..b * dim + c0 + len];
            for (xk, &vk) in x.iter_mut().zip(row) {
                *xk ^= vk;
            }
            bits &= bits - 1;
        }
        // 2.–3. scramble to (0, 1), then Φ^{-1}
        for ((zk, &xk), &key) in z.iter_mut().zip(x.iter()).zip(&q.keys[c0..c0 + len]) {
            *zk = inv_norm(scramble::scrambled_unit(xk, key));
        }
        // to the bridge slot of each normal
        for (&zk, &slot) in z.iter().zip(&q.dest[c0..c0 + len]) {
            out[slot] = zk;
        }
        c0 += len;
    }
    // 4. bridge, in place, vectorised across the d shocks
    q.bridge.apply(out, q.d);
}

/// Maintenance: the largest 2-D t-value at 2^m points over all pairs of the
/// first `n` dimensions (`examples/sobol_table.rs`).
#[doc(hidden)]
pub fn max_pair_t_value(n: usize, m: usize) -> u32 {
    let rows: Vec<_> = (0..n)
        .map(|k| sobol::generator_rows(&sobol::direction_numbers(k)))
        .collect();
    let mut t = 0;
    for a in 0..n {
        for b in 0..a {
            t = t.max(sobol::t_value(&rows[b], &rows[a], m));
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_shapes_are_refused() {
        assert!(matches!(QmcShocks::new(0, 0, 1), Err(CoreError::Invalid { .. })));
        assert!(matches!(QmcShocks::new(0, 1, 0), Err(CoreError::Invalid { .. })));
        assert!(matches!(QmcShocks::new(0, 4097, 1), Err(CoreError::Invalid { .. })));
        assert!(matches!(
            QmcShocks::new(0, usize::MAX, 2),
            Err(CoreError::Invalid { .. })
        ));
        assert!(QmcShocks::new(0, 4096, 1).is_ok());
    }

    #[test]
    fn fill_equals_bridge_of_the_uniforms() {
        let q = QmcShocks::new(5, 7, 2).unwrap();
        let mut out = vec![0.0; 14];
        q.fill(12_345, &mut out);
        // rebuild: normals to slots, bridge
        let mut w = vec![0.0; 14];
        for k in 0..14 {
            w[q.dest[k]] = inv_norm(q.uniform(12_345, k));
        }
        q.bridge.apply(&mut w, 2);
        assert_eq!(out, w);
    }

    #[test]
    fn bad_calls_do_not_panic() {
        let q = QmcShocks::new(5, 3, 1).unwrap();
        let mut out = vec![0.0; 2];
        q.fill(0, &mut out);
        assert!(out.iter().all(|x| x.is_nan()));
        let mut out = vec![0.0; 3];
        q.fill(QmcShocks::MAX_POINTS, &mut out);
        assert!(out.iter().all(|x| x.is_nan()));
        assert!(q.try_fill(QmcShocks::MAX_POINTS, &mut out).is_err());
        assert!(q.try_fill(0, &mut [0.0; 4]).is_err());
        assert!(q.try_fill(QmcShocks::MAX_POINTS - 1, &mut out).is_ok());
        assert!(q.uniform(0, 3).is_nan());
        assert_eq!(q.sobol_bits(1, 3), None);
    }
}
