//! The entropy-pooling dual function and its derivatives, evaluated in fixed
//! chunks of scenarios across rayon and summed in chunk order, so results are
//! bit-identical whatever the thread count.
//!
//! With standardised views `d_ji = (a_ji − b_j) / s_j` and `t_i = ν·d_i`:
//! `φ(ν) = ln Σ_i p_i e^{t_i}`, `∇φ = E_q[d]`, `∇²φ = E_q[d dᵀ] − E_q[d] E_q[d]ᵀ`,
//! with `q_i = p_i e^{t_i} / Σ_j p_j e^{t_j}` computed with a max shift.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, ShapeBuilder};
use rayon::prelude::*;

use super::View;

/// φ and its derivatives at one ν.
#[derive(Debug, Clone)]
pub(super) struct Eval {
    pub phi: f64,
    /// `∇φ = E_q[d]` (k).
    pub g: Vec<f64>,
    /// `∇²φ = Cov_q(d)` (k × k row-major), empty if not requested.
    pub h: Vec<f64>,
    /// `max_i t_i` over the support (for the infeasibility certificate).
    pub t_max: f64,
}

/// The standardised dual of one problem.
pub(super) struct Dual<'a> {
    rows: Vec<&'a [f64]>,
    b: Vec<f64>,
    /// Standardising scale `s_j = max_i |a_ji − b_j|` over the support.
    pub s: Vec<f64>,
    /// `ln p_i`, `−∞` off the support.
    lnp: &'a [f64],
    chunk: usize,
}

/// One chunk's unnormalised sums, relative to the chunk's own shift `m`.
struct Partial {
    m: f64,
    z: f64,
    g: Vec<f64>,
    h: Vec<f64>,
    t_max: f64,
}

/// Per-thread buffers: standardised views, `e_i d_ji`, `t`, `e`.
struct Scratch {
    d: Vec<f64>,
    ed: Vec<f64>,
    t: Vec<f64>,
    e: Vec<f64>,
}

impl<'a> Dual<'a> {
    pub fn new(views: &[View<'a>], lnp: &'a [f64], support: &[bool]) -> Dual<'a> {
        let k = views.len();
        let s = views
            .iter()
            .map(|v| {
                v.a.par_iter()
                    .zip(support)
                    .filter(|(_, &on)| on)
                    .map(|(&x, _)| (x - v.b).abs())
                    .reduce(|| 0.0, f64::max)
            })
            .collect();
        Dual {
            rows: views.iter().map(|v| v.a).collect(),
            b: views.iter().map(|v| v.b).collect(),
            s,
            lnp,
            chunk: ((1 << 15) / k.max(1)).clamp(256, 8192),
        }
    }

    fn k(&self) -> usize {
        self.rows.len()
    }

    fn scratch(&self) -> Scratch {
        let k = self.k();
        Scratch {
            d: vec![0.0; k * self.chunk],
            ed: Vec::new(),
            t: vec![0.0; self.chunk],
            e: vec![0.0; self.chunk],
        }
    }

    /// Fill `sc.d` and `sc.t` for scenarios `i0..i0+len`.
    fn fill(&self, nu: &[f64], i0: usize, len: usize, sc: &mut Scratch) {
        let c = self.chunk;
        sc.t[..len].fill(0.0);
        for (j, row) in self.rows.iter().enumerate() {
            let (b, inv_s, nu_j) = (self.b[j], 1.0 / self.s[j], nu[j]);
            let d = &mut sc.d[j * c..j * c + len];
            for ((dv, &a), t) in d.iter_mut().zip(&row[i0..i0 + len]).zip(&mut sc.t[..len]) {
                *dv = (a - b) * inv_s;
                *t += nu_j * *dv;
            }
        }
    }

    fn chunk_sums(&self, nu: &[f64], hess: bool, ci: usize, sc: &mut Scratch) -> Partial {
        let (k, c) = (self.k(), self.chunk);
        let i0 = ci * c;
        let len = c.min(self.lnp.len() - i0);
        self.fill(nu, i0, len, sc);
        let lnp = &self.lnp[i0..i0 + len];
        let mut m = f64::NEG_INFINITY;
        let mut t_max = f64::NEG_INFINITY;
        for (&lp, &t) in lnp.iter().zip(&sc.t[..len]) {
            if lp > f64::NEG_INFINITY {
                m = m.max(lp + t);
                t_max = t_max.max(t);
            }
        }
        let mut part = Partial {
            m,
            z: 0.0,
            g: vec![0.0; k],
            h: Vec::new(),
            t_max,
        };
        if m == f64::NEG_INFINITY {
            if hess {
                part.h = vec![0.0; k * k];
            }
            return part;
        }
        for ((e, &lp), &t) in sc.e[..len].iter_mut().zip(lnp).zip(&sc.t[..len]) {
            *e = if lp > f64::NEG_INFINITY {
                (lp + t - m).exp()
            } else {
                0.0
            };
        }
        let e = &sc.e[..len];
        part.z = sum(e);
        for j in 0..k {
            part.g[j] = dot(e, &sc.d[j * c..j * c + len]);
        }
        if hess {
            sc.ed.resize(k * c, 0.0);
            for j in 0..k {
                for ((o, &ei), &dv) in sc.ed[j * c..j * c + len]
                    .iter_mut()
                    .zip(e)
                    .zip(&sc.d[j * c..j * c + len])
                {
                    *o = ei * dv;
                }
            }
            // Σ_i e_i d_i d_iᵀ = (E D) Dᵀ over the chunk: one matrix product
            let view = |buf| ArrayView2::from_shape((k, len).strides((c, 1)), buf);
            part.h = match (view(&sc.ed[..]), view(&sc.d[..])) {
                (Ok(ed), Ok(d)) => {
                    let mut h = Array2::<f64>::zeros((k, k));
                    general_mat_mul(1.0, &ed, &d.t(), 0.0, &mut h);
                    (0..k * k)
                        .map(|jl| 0.5 * (h[[jl / k, jl % k]] + h[[jl % k, jl / k]]))
                        .collect()
                }
                _ => (0..k * k)
                    .map(|jl| {
                        let (j, l) = (jl / k, jl % k);
                        dot(&sc.ed[j * c..j * c + len], &sc.d[l * c..l * c + len])
                    })
                    .collect(),
            };
        }
        part
    }

    /// φ, ∇φ and (if `hess`) ∇²φ at `nu` (standardised multipliers).
    pub fn eval(&self, nu: &[f64], hess: bool) -> Eval {
        let k = self.k();
        let n_chunks = self.lnp.len().div_ceil(self.chunk);
        let parts: Vec<Partial> = (0..n_chunks)
            .into_par_iter()
            .map_init(|| self.scratch(), |sc, ci| self.chunk_sums(nu, hess, ci, sc))
            .collect();
        let m = parts.iter().map(|p| p.m).fold(f64::NEG_INFINITY, f64::max);
        let mut z = 0.0;
        let mut g = vec![0.0; k];
        let mut h = if hess { vec![0.0; k * k] } else { Vec::new() };
        let mut t_max = f64::NEG_INFINITY;
        for p in &parts {
            t_max = t_max.max(p.t_max);
            if p.m == f64::NEG_INFINITY {
                continue;
            }
            let f = (p.m - m).exp();
            z += f * p.z;
            for (gj, pj) in g.iter_mut().zip(&p.g) {
                *gj += f * pj;
            }
            for (hj, pj) in h.iter_mut().zip(&p.h) {
                *hj += f * pj;
            }
        }
        for gj in g.iter_mut() {
            *gj /= z;
        }
        if hess {
            for j in 0..k {
                for l in 0..k {
                    h[j * k + l] = h[j * k + l] / z - g[j] * g[l];
                }
            }
        }
        Eval {
            phi: m + z.ln(),
            g,
            h,
            t_max,
        }
    }

    /// The posterior `q` and `ln q` at `nu` (standardised multipliers).
    pub fn posterior(&self, nu: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let ev = self.eval(nu, false);
        let ln_z = ev.phi; // ln Σ p e^t
        let n = self.lnp.len();
        let mut ln_q = vec![0.0; n];
        ln_q.par_chunks_mut(self.chunk).enumerate().for_each_init(
            || self.scratch(),
            |sc, (ci, out)| {
                let i0 = ci * self.chunk;
                self.fill(nu, i0, out.len(), sc);
                for ((o, &lp), &t) in out.iter_mut().zip(&self.lnp[i0..]).zip(&sc.t) {
                    *o = lp + t - ln_z;
                }
            },
        );
        let q = ln_q.par_iter().map(|&l| l.exp()).collect();
        (q, ln_q)
    }
}

/// `Σ x` with four accumulators (fixed order, vectorisable).
fn sum(x: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let mut it = x.chunks_exact(4);
    for c in &mut it {
        for r in 0..4 {
            acc[r] += c[r];
        }
    }
    let tail: f64 = it.remainder().iter().sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `Σ x_i y_i` with four accumulators (fixed order, vectorisable).
fn dot(x: &[f64], y: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let mut ix = x.chunks_exact(4);
    let mut iy = y.chunks_exact(4);
    for (a, b) in (&mut ix).zip(&mut iy) {
        for r in 0..4 {
            acc[r] += a[r] * b[r];
        }
    }
    let tail: f64 = ix.remainder().iter().zip(iy.remainder()).map(|(a, b)| a * b).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}
