//! The entropy-pooling dual function and its derivatives, evaluated in fixed
//! chunks of scenarios, the chunks summed in order within a fixed number of
//! tasks run across rayon and the tasks' sums in task order, so results are
//! bit-identical whatever the thread count. The tasks' number keeps their
//! Hessian partials within a fixed memory budget however many scenarios there are.
//!
//! With standardised views `d_ji = (a_ji − b_j) / s_j` and `t_i = ν·d_i`:
//! `φ(ν) = ln Σ_i p_i e^{t_i}`, `∇φ = E_q[d]`, `∇²φ = E_q[d dᵀ] − E_q[d] E_q[d]ᵀ`,
//! with `q_i = p_i e^{t_i} / Σ_j p_j e^{t_j}` computed with a max shift.

use ndarray::Array2;
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{hessian, View};

/// φ and its derivatives at one ν.
#[derive(Debug, Clone)]
pub(super) struct Eval {
    pub phi: f64,
    /// `∇φ = E_q[d]` (k).
    pub g: Vec<f64>,
    /// `E_q[|d|]` (k; empty without the Hessian): the size of the terms `g` sums, so
    /// of its rounding.
    pub g_abs: Vec<f64>,
    /// `∇²φ = Cov_q(d)` (k × k row-major), empty if not requested.
    pub h: Vec<f64>,
    /// `max_i t_i` over the support (for the infeasibility certificate).
    pub t_max: f64,
}

/// The standardised dual of one problem.
pub(super) struct Dual<'a> {
    rows: Vec<&'a [f64]>,
    b: Vec<f64>,
    /// Standardising scale `s_j`, the view's scale (`view_scale`): not
    /// `max_i |a_ji − b_j|`, under which the typical values of a function with a
    /// heavy tail would all be about 0 and Newton would crawl.
    pub s: Vec<f64>,
    /// `ln p_i`, `−∞` off the support.
    lnp: &'a [f64],
    chunk: usize,
    /// Set by the caller to stop: evaluations then skip their remaining chunks.
    cancel: &'a AtomicBool,
}

/// A task's unnormalised sums `z = Σ e_i`, `g = Σ e_i d_i`, `h = Σ e_i d_i d_iᵀ`
/// (lower triangle; k × k, or empty without the Hessian) with
/// `e_i = p_i e^{t_i − m}`, and `max t_i` over its scenarios in the support.
struct Partial {
    m: f64,
    z: f64,
    g: Vec<f64>,
    /// Σ e_i |d_ji|, for the rounding floor of `g`
    g_abs: Vec<f64>,
    h: Array2<f64>,
    t_max: f64,
}

/// Bytes the tasks' Hessian partials may take together (k = 1,000 views: 8 tasks).
const HESSIAN_BUDGET: usize = 64 << 20;
/// At most this many tasks (enough to balance many cores when views are few).
const MAX_TASKS: usize = 64;

/// Per-thread buffers: standardised views, `t`, `e`, and the Hessian's.
struct Scratch {
    d: Vec<f64>,
    t: Vec<f64>,
    e: Vec<f64>,
    packs: hessian::Packs,
}

impl<'a> Dual<'a> {
    pub fn new(views: &[View<'a>], lnp: &'a [f64], cancel: &'a AtomicBool) -> Dual<'a> {
        let k = views.len();
        let s = views.iter().map(|v| v.scale).collect();
        Dual {
            rows: views.iter().map(|v| v.a).collect(),
            b: views.iter().map(|v| v.b).collect(),
            s,
            lnp,
            chunk: ((1 << 15) / k.max(1)).clamp(256, 8192),
            cancel,
        }
    }

    /// Whether the caller asked to stop (the last evaluation may be incomplete).
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    fn k(&self) -> usize {
        self.rows.len()
    }

    fn scratch(&self) -> Scratch {
        let k = self.k();
        Scratch {
            d: vec![0.0; k * self.chunk],
            t: vec![0.0; self.chunk],
            e: vec![0.0; self.chunk],
            packs: hessian::Packs::default(),
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

    /// Tasks of consecutive chunks that [`Dual::eval`] sums in parallel: a
    /// function of the scenario and view counts only (never of the thread
    /// count), with their Hessian partials together within [`HESSIAN_BUDGET`].
    fn tasks(&self, n_chunks: usize) -> usize {
        let k = self.k().max(1);
        (HESSIAN_BUDGET / (8 * k * k)).clamp(1, MAX_TASKS).min(n_chunks.max(1))
    }

    /// Add chunk `ci`'s sums to the task's `part`. Its terms `e_i = p_i e^{t_i}`
    /// are taken relative to the largest `ln p_i + t_i` the task has met (when
    /// the chunk raises it, the sums so far are scaled down first), so `e_i ≤ 1`.
    fn add_chunk(&self, nu: &[f64], ci: usize, sc: &mut Scratch, part: &mut Partial) {
        let (k, c) = (self.k(), self.chunk);
        let i0 = ci * c;
        let len = c.min(self.lnp.len() - i0);
        self.fill(nu, i0, len, sc);
        let lnp = &self.lnp[i0..i0 + len];
        let mut m = f64::NEG_INFINITY;
        for (&lp, &t) in lnp.iter().zip(&sc.t[..len]) {
            if lp > f64::NEG_INFINITY {
                m = m.max(lp + t);
                part.t_max = part.t_max.max(t);
            }
        }
        if m == f64::NEG_INFINITY {
            return; // no scenario of the chunk is in the support
        }
        if m > part.m {
            let f = (part.m - m).exp();
            part.z *= f;
            part.g.iter_mut().for_each(|v| *v *= f);
            part.g_abs.iter_mut().for_each(|v| *v *= f);
            part.h.iter_mut().for_each(|v| *v *= f);
            part.m = m;
        }
        for ((e, &lp), &t) in sc.e[..len].iter_mut().zip(lnp).zip(&sc.t[..len]) {
            *e = if lp > f64::NEG_INFINITY {
                (lp + t - part.m).exp()
            } else {
                0.0
            };
        }
        let e = &sc.e[..len];
        part.z += sum(e);
        for (j, g) in part.g.iter_mut().enumerate() {
            *g += dot(e, &sc.d[j * c..j * c + len]);
        }
        // (empty unless the Hessian is asked for: only the iterates Newton tests need it)
        for (j, g_abs) in part.g_abs.iter_mut().enumerate() {
            *g_abs += dot_abs(e, &sc.d[j * c..j * c + len]);
        }
        if part.h.is_empty() {
            return;
        }
        // Σ_i e_i d_i d_iᵀ = (E D) Dᵀ, its lower triangle (`eval` mirrors it)
        let h = part.h.as_slice_mut().expect("a standard-layout matrix");
        hessian::add_lower(e, &sc.d, k, len, c, h, &mut sc.packs);
    }

    /// φ, ∇φ and (if `hess`) ∇²φ at `nu` (standardised multipliers).
    pub fn eval(&self, nu: &[f64], hess: bool) -> Eval {
        let k = self.k();
        let n_chunks = self.lnp.len().div_ceil(self.chunk);
        let per = n_chunks.div_ceil(self.tasks(n_chunks)).max(1);
        let parts: Vec<Partial> = (0..n_chunks.div_ceil(per))
            .into_par_iter()
            .map_init(
                || self.scratch(),
                |sc, task| {
                    let mut part = Partial {
                        m: f64::NEG_INFINITY,
                        z: 0.0,
                        g: vec![0.0; k],
                        g_abs: if hess { vec![0.0; k] } else { Vec::new() },
                        h: if hess {
                            Array2::zeros((k, k))
                        } else {
                            Array2::zeros((0, 0))
                        },
                        t_max: f64::NEG_INFINITY,
                    };
                    for ci in task * per..((task + 1) * per).min(n_chunks) {
                        if self.cancelled() {
                            break;
                        }
                        self.add_chunk(nu, ci, sc, &mut part);
                    }
                    part
                },
            )
            .collect();
        let m = parts.iter().map(|p| p.m).fold(f64::NEG_INFINITY, f64::max);
        let mut z = 0.0;
        let mut g = vec![0.0; k];
        let mut g_abs = if hess { vec![0.0; k] } else { Vec::new() };
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
            for (gj, pj) in g_abs.iter_mut().zip(&p.g_abs) {
                *gj += f * pj;
            }
            for (hj, pj) in h.iter_mut().zip(&p.h) {
                *hj += f * pj;
            }
        }
        for gj in g.iter_mut().chain(g_abs.iter_mut()) {
            *gj /= z;
        }
        if hess {
            for j in 0..k {
                for l in 0..=j {
                    let v = h[j * k + l] / z - g[j] * g[l];
                    (h[j * k + l], h[l * k + j]) = (v, v);
                }
            }
        }
        Eval {
            phi: m + z.ln(),
            g,
            g_abs,
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

/// `Σ x_i |y_i|` with four accumulators (fixed order, vectorisable).
fn dot_abs(x: &[f64], y: &[f64]) -> f64 {
    dot_by(x, y, f64::abs)
}

/// `Σ x_i y_i` with four accumulators (fixed order, vectorisable).
fn dot(x: &[f64], y: &[f64]) -> f64 {
    dot_by(x, y, |v| v)
}

/// `Σ x_i f(y_i)` with four accumulators.
#[inline(always)]
fn dot_by(x: &[f64], y: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let mut acc = [0.0; 4];
    let mut ix = x.chunks_exact(4);
    let mut iy = y.chunks_exact(4);
    for (a, b) in (&mut ix).zip(&mut iy) {
        for r in 0..4 {
            acc[r] += a[r] * f(b[r]);
        }
    }
    let tail: f64 = ix.remainder().iter().zip(iy.remainder()).map(|(a, &b)| a * f(b)).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}
