//! Entropy pooling (Meucci 2008, "Fully Flexible Views"): the posterior
//! scenario probabilities closest to the prior in relative entropy that
//! satisfy linear views (MODEL.md §6).
//!
//! Primal: `min_q Σ_i q_i ln(q_i / p_i)` s.t. `A_eq q = b_eq`, `A_ie q ≤ b_ie`,
//! `Σ q = 1`, `q ≥ 0`. Dual (one multiplier per view, `c = (b_eq, b_ie)`):
//! `q_i(ν) = p_i exp(ν·a_i) / Z(ν)`, minimise `φ(ν) = ln Σ_i p_i exp(ν·a_i) − ν·c`
//! over `ν_ie ≤ 0`, with `∇φ = E_q[a] − c` and `∇²φ = Cov_q(a)`. We take
//! projected Newton steps (Bertsekas 1982: ε-active bound set, Armijo search
//! along the projection arc) on views standardised to `(a_j − b_j) / s_j`.
//!
//! Views that pin the posterior to the edge of a view function's range
//! (`E[f] = min f`, `P(X > c) = 0`, …) have no finite multiplier; they are
//! solved exactly by removing the scenarios they exclude (multiplier ±∞).
//! Infeasible views are reported, individually when a single view is out of
//! range, otherwise with a Farkas certificate found along the Newton path or,
//! when the solve fails without one, by a linear programme (`farkas`).

mod dual;
mod farkas;
mod hessian;

use rayon::prelude::*;
use std::sync::atomic::Ordering;

use crate::engine::Control;
use crate::error::{CoreError, Result};
use crate::sum::sum_by;
use dual::{Dual, Eval};

/// Default iteration limit of the Newton solver.
pub const DEFAULT_MAX_ITER: usize = 200;
/// Default tolerance on each view, relative to the view's scale.
pub const DEFAULT_TOL: f64 = 1e-10;
/// Distance from the edge of a view function's range, relative to the size of the
/// values there, at which a target counts as the edge (pinning the support): rounding.
const EDGE_ROUNDING: f64 = 4.0 * f64::EPSILON;
/// Largest number of views.
pub const MAX_VIEWS: usize = 1000;

/// The posterior of an entropy-pooling problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Posterior {
    /// Posterior probabilities, `q_i ≥ 0`, `Σ q = 1`.
    pub q: Vec<f64>,
    /// `KL(q‖p) = Σ_i q_i ln(q_i / p_i)` (p the normalised prior).
    pub relative_entropy: f64,
    /// `exp(−Σ_i q_i ln q_i)`, the effective number of scenarios.
    pub effective_scenarios: f64,
    /// Newton iterations taken.
    pub iterations: usize,
    /// Every view holds to `tol · scale_j` (always true for a returned posterior).
    pub converged: bool,
    /// Multipliers `ν` (equality views first, then inequality views) in the
    /// units of the view functions: `q_i ∝ p_i exp(Σ_j ν_j a_ji)`. Inequality
    /// multipliers are `≤ 0`; a view holding at the edge of its range has ±∞.
    pub multipliers: Vec<f64>,
}

/// One view after preprocessing.
#[derive(Debug, Clone, Copy)]
struct View<'a> {
    /// The view function over all scenarios.
    a: &'a [f64],
    b: f64,
    /// Inequality `E[a] ≤ b` (else equality).
    ineq: bool,
    /// The size tolerances are relative to (`view_scale`).
    scale: f64,
    /// Label for messages, `a_eq[j]` or `a_ie[j]`.
    index: usize,
}

impl View<'_> {
    fn label(&self) -> String {
        format!("{}[{}]", if self.ineq { "a_ie" } else { "a_eq" }, self.index)
    }
}

/// Posterior probabilities by entropy pooling.
///
/// `prior`: n nonnegative weights with a positive sum (normalised to `p`).
/// `a_eq`: `k_eq × n` row-major (one view function per row) with targets
/// `b_eq` (`E_q[a_eq[j]] = b_eq[j]`); `a_ie`, `b_ie` likewise for
/// `E_q[a_ie[j]] ≤ b_ie[j]`. A probability view `P_q(X > c) = b` is the
/// equality view with the indicator `a_i = 1{x_i > c}`.
///
/// Converged means `|E_q[a_j] − b_j| ≤ tol · scale_j` for equality views and
/// `E_q[a_j] − b_j ≤ tol · scale_j` for inequality views (or, if larger, within
/// the rounding of that sum, `ROUNDING · E_q|a_j − b_j|`), with
/// `scale_j = max(median_i |a_ji|, |b_j|)` over scenarios with positive prior
/// (the median of the nonzero |a_ji| when that median is 0; see `view_scale`).
/// With no views, `q = p`.
///
/// Errors: `CoreError::Invalid` for malformed input (naming `prior`, `a_eq`,
/// `b_eq`, `a_ie`, `b_ie`, `max_iter` or `tol`); `CoreError::Numerical` for
/// infeasible views (naming the view when one alone is infeasible) and for
/// no convergence within `max_iter` Newton iterations.
///
/// `control.cancel` stops it within one chunk of scenarios
/// (`CoreError::Cancelled`), and `control.paths_done` counts its Newton
/// iterations as they finish.
#[allow(clippy::too_many_arguments)]
pub fn entropy_pooling(
    prior: &[f64],
    a_eq: &[f64],
    b_eq: &[f64],
    a_ie: &[f64],
    b_ie: &[f64],
    max_iter: usize,
    tol: f64,
    control: &Control,
) -> Result<Posterior> {
    let n = prior.len();
    if n == 0 {
        return Err(CoreError::invalid("prior", "must not be empty"));
    }
    let total = crate::risk::check_weights(prior, n, "prior")?;
    if max_iter == 0 {
        return Err(CoreError::invalid("max_iter", "must be at least 1"));
    }
    if !(f64::EPSILON..1.0).contains(&tol) {
        return Err(CoreError::invalid(
            "tol",
            format!("must be in [2.220446e-16, 1) (no tighter check is possible in double precision), got {tol}"),
        ));
    }
    check_views(a_eq, b_eq, n, "a_eq", "b_eq")?;
    check_views(a_ie, b_ie, n, "a_ie", "b_ie")?;
    let (k_eq, k_ie) = (b_eq.len(), b_ie.len());

    let p: Vec<f64> = if total == 1.0 {
        prior.to_vec()
    } else {
        prior.par_iter().map(|w| w / total).collect()
    };
    if k_eq + k_ie == 0 {
        let entropy = -sum_by(p.len(), |i| [if p[i] > 0.0 { p[i] * p[i].ln() } else { 0.0 }])[0];
        return Ok(Posterior {
            q: p,
            relative_entropy: 0.0,
            effective_scenarios: entropy.exp(),
            iterations: 0,
            converged: true,
            multipliers: vec![],
        });
    }

    let mut views: Vec<View> = Vec::with_capacity(k_eq + k_ie);
    for (j, &b) in b_eq.iter().enumerate() {
        views.push(View {
            a: &a_eq[j * n..(j + 1) * n],
            b,
            ineq: false,
            scale: 0.0,
            index: j,
        });
    }
    for (j, &b) in b_ie.iter().enumerate() {
        views.push(View {
            a: &a_ie[j * n..(j + 1) * n],
            b,
            ineq: true,
            scale: 0.0,
            index: j,
        });
    }
    let mut support: Vec<bool> = p.par_iter().map(|&v| v > 0.0).collect();
    let mut multipliers = vec![0.0; views.len()];
    // scale of each view over the prior's support
    views
        .par_iter_mut()
        .for_each(|v| v.scale = view_scale(v.a, v.b, &support));

    // views at the edge of their range pin the support; repeat until stable
    let mut pinned = vec![false; views.len()];
    let mut restricted = false;
    loop {
        let mut changed = false;
        for (j, v) in views.iter().enumerate() {
            if pinned[j] {
                continue;
            }
            let (lo, hi) = range(v.a, &support);
            let slack = tol * v.scale;
            // only a target at the edge up to rounding is the edge: one inside the range,
            // however close, is met by tilting (Newton stops within `tol` of it), which
            // keeps more weight off the edge than pinning the support there would
            let near_lo = EDGE_ROUNDING * lo.abs().max(v.b.abs());
            let near_hi = EDGE_ROUNDING * hi.abs().max(v.b.abs());
            if v.b < lo - slack || (!v.ineq && v.b > hi + slack) {
                return Err(out_of_range(v, lo, hi, restricted));
            }
            if lo == hi || (v.ineq && hi <= v.b) {
                // constant view at its target, or an inequality no posterior can break
                pinned[j] = true;
                changed = true;
            } else if v.b <= lo + near_lo {
                // E[a] ≤ lo, or E[a] = lo < max: only scenarios with a = lo may keep weight
                restrict(&mut support, |i| v.a[i] <= lo);
                restricted = true;
                multipliers[j] = f64::NEG_INFINITY;
                (pinned[j], changed) = (true, true);
            } else if !v.ineq && v.b >= hi - near_hi {
                restrict(&mut support, |i| v.a[i] >= hi);
                restricted = true;
                multipliers[j] = f64::INFINITY;
                (pinned[j], changed) = (true, true);
            }
        }
        if !changed {
            break;
        }
    }

    let active: Vec<usize> = (0..views.len()).filter(|&j| !pinned[j]).collect();
    let lnp: Vec<f64> = p
        .par_iter()
        .zip(&support)
        .map(|(&v, &s)| if s { v.ln() } else { f64::NEG_INFINITY })
        .collect();
    let (q, ln_q, iterations) = if active.is_empty() {
        let z = sum_by(lnp.len(), |i| [if lnp[i].is_finite() { lnp[i].exp() } else { 0.0 }])[0];
        let ln_z = z.ln();
        let ln_q: Vec<f64> = lnp.par_iter().map(|&l| l - ln_z).collect();
        let q: Vec<f64> = ln_q.par_iter().map(|&l| l.exp()).collect();
        (q, ln_q, 0)
    } else {
        let sel: Vec<View> = active.iter().map(|&j| views[j]).collect();
        let dual = Dual::new(&sel, &lnp, &control.cancel);
        let (nu, iterations) = match newton(&dual, &sel, max_iter, tol, control) {
            Ok(solved) => solved,
            // a solve that failed without naming a conflict: the views may still conflict
            Err(CoreError::Numerical(msg)) if !msg.starts_with("infeasible") => {
                let conflict = farkas::conflicting(&sel, &support, control);
                return Err(match conflict {
                    _ if dual.cancelled() => CoreError::Cancelled,
                    Some(js) => jointly_infeasible(js.iter().map(|&j| &sel[j])),
                    None => CoreError::Numerical(msg),
                });
            }
            Err(e) => return Err(e),
        };
        for ((&j, &v), &s) in active.iter().zip(&nu).zip(&dual.s) {
            multipliers[j] = v / s; // back to the units of the view function
        }
        let (q, ln_q) = dual.posterior(&nu);
        if dual.cancelled() {
            return Err(CoreError::Cancelled);
        }
        (q, ln_q, iterations)
    };
    // the prior meets the views as it stands: it is the posterior, bit for bit
    // (relative entropy exactly 0, which callers may test)
    let unchanged = iterations == 0 && !restricted;
    let ln_q: &[f64] = if unchanged { &lnp } else { &ln_q };
    let q = if unchanged { p } else { q };

    let [kl, ent] = sum_by(q.len(), |i| {
        if q[i] > 0.0 {
            [q[i] * (ln_q[i] - lnp[i]), -q[i] * ln_q[i]]
        } else {
            [0.0, 0.0]
        }
    });
    Ok(Posterior {
        q,
        relative_entropy: kl.max(0.0),
        effective_scenarios: ent.exp(),
        iterations,
        converged: true,
        multipliers,
    })
}

/// Shape and finiteness of one block of views.
fn check_views(a: &[f64], b: &[f64], n: usize, a_name: &str, b_name: &str) -> Result<()> {
    let k = b.len();
    if k > MAX_VIEWS {
        return Err(CoreError::invalid(
            b_name,
            format!("at most {MAX_VIEWS} views, got {k}"),
        ));
    }
    if a.len() != k * n {
        return Err(CoreError::invalid(
            a_name,
            format!(
                "must have shape ({k}, {n}) (one row per entry of {b_name}, one column per scenario), got {} values",
                a.len()
            ),
        ));
    }
    if let Some(j) = b.iter().position(|v| !v.is_finite()) {
        return Err(CoreError::invalid(
            b_name,
            format!("must be finite, got {} at index {j}", b[j]),
        ));
    }
    if let Some(i) = crate::scan::first_where(a, |v| !v.is_finite()) {
        return Err(CoreError::invalid(
            a_name,
            format!("must be finite, got {} at row {}, column {}", a[i], i / n, i % n),
        ));
    }
    Ok(())
}

/// `(min, max)` of a view function over the support.
fn range(a: &[f64], support: &[bool]) -> (f64, f64) {
    a.par_iter()
        .zip(support)
        .filter(|(_, &s)| s)
        .map(|(&v, _)| (v, v))
        .reduce(
            || (f64::INFINITY, f64::NEG_INFINITY),
            |x, y| (x.0.min(y.0), x.1.max(y.1)),
        )
}

/// A view's scale, the size its tolerances are relative to: `max(m, |b|)` with m
/// the median of |a| over the support, or, when most of the values are 0, the
/// median of the nonzero |a| (an indicator's 1, say).
///
/// Not `max |a|`: a function whose values span many orders of magnitude (a level
/// with a heavy right tail) would make `tol · max |a|` larger than the target
/// itself, and a posterior missing the target by all of it would count as holding.
/// The median is the size of the function's typical values, which a posterior
/// meeting the target keeps.
fn view_scale(a: &[f64], b: f64, support: &[bool]) -> f64 {
    let mut mags: Vec<f64> = a
        .iter()
        .zip(support)
        .filter(|(_, &s)| s)
        .map(|(&x, _)| x.abs())
        .collect();
    let mut typical = median(&mut mags);
    if typical == 0.0 {
        // (the selection reordered `mags`; the nonzero values are the same)
        mags.retain(|&x| x > 0.0);
        typical = median(&mut mags);
    }
    typical.max(b.abs())
}

/// The median of `x` (the mean of the two middle values for an even count; 0 if
/// empty), reordering `x`.
fn median(x: &mut [f64]) -> f64 {
    let n = x.len();
    if n == 0 {
        return 0.0;
    }
    let (left, &mut upper, _) = x.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        return upper;
    }
    let lower = left.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    0.5 * (lower + upper)
}

/// Drop from the support every scenario failing `keep`.
fn restrict(support: &mut [bool], keep: impl Fn(usize) -> bool + Sync) {
    support.par_iter_mut().enumerate().for_each(|(i, s)| *s = *s && keep(i));
}

/// The error for a view outside the range of its function.
/// `restricted`: whether earlier views at their edge removed scenarios.
fn out_of_range(v: &View, lo: f64, hi: f64, restricted: bool) -> CoreError {
    let others = if restricted {
        " on the scenarios the other views leave possible"
    } else {
        ""
    };
    let what = if v.ineq {
        format!("E[f] <= {}", v.b)
    } else {
        format!("E[f] = {}", v.b)
    };
    CoreError::Numerical(format!(
        "infeasible view {}: {what} is impossible, the view function ranges over [{lo}, {hi}]{others}",
        v.label()
    ))
}

/// Projected Newton on the standardised dual; returns the standardised
/// multipliers and the iteration count.
/// Stops with `CoreError::Cancelled` after an evaluation that `dual` cut short.
fn newton(dual: &Dual, views: &[View], max_iter: usize, tol: f64, control: &Control) -> Result<(Vec<f64>, usize)> {
    let k = views.len();
    let ineq: Vec<bool> = views.iter().map(|v| v.ineq).collect();
    // tolerance on the standardised gradient E_q[(a_j − b_j)/s_j]
    let tol_j: Vec<f64> = views.iter().zip(&dual.s).map(|(v, s)| tol * v.scale / s).collect();
    let mut nu = vec![0.0; k];
    let mut ev = dual.eval(&nu, true);
    let mut iter = 0;
    loop {
        if dual.cancelled() {
            return Err(CoreError::Cancelled);
        }
        if converged(&ev.g, &nu, &ineq, &tolerances(&tol_j, &ev)) {
            break;
        }
        certificate(&ev, &nu, views)?;
        if iter == max_iter {
            let worst = (0..k)
                .map(|j| {
                    (
                        j,
                        if ineq[j] { ev.g[j].max(0.0) } else { ev.g[j].abs() } * dual.s[j] / views[j].scale,
                    )
                })
                .fold((0, 0.0), |a, b| if b.1 > a.1 { b } else { a });
            return Err(CoreError::Numerical(format!(
                "entropy pooling did not converge in {max_iter} Newton iterations: view {} is off by {:.3e} of its scale \
                 (tolerance {tol:e}); the views may be nearly infeasible",
                views[worst.0].label(),
                worst.1
            )));
        }
        iter += 1;

        // ε-active inequality multipliers (at the bound 0, gradient pushing outward)
        let pg: f64 = (0..k)
            .map(|j| {
                if ineq[j] {
                    (nu[j] - (nu[j] - ev.g[j]).min(0.0)).abs()
                } else {
                    ev.g[j].abs()
                }
            })
            .sum();
        let eps = pg.min(1e-3);
        let fixed: Vec<bool> = (0..k).map(|j| ineq[j] && nu[j] >= -eps && ev.g[j] < 0.0).collect();
        let free: Vec<usize> = (0..k).filter(|&j| !fixed[j]).collect();
        let mut d = vec![0.0; k];
        if !free.is_empty() {
            let step = newton_step(&ev.h, &ev.g, &free, k)
                .ok_or_else(|| CoreError::Numerical("entropy pooling: the view covariance is not finite".into()))?;
            for (&j, s) in free.iter().zip(step) {
                d[j] = s;
            }
        }
        for j in 0..k {
            if fixed[j] {
                d[j] = -nu[j]; // the projection sends these to the bound
            }
        }

        // Armijo along the Newton direction; where the Hessian has underflowed (an
        // overshoot that put all the weight on one side of a view) that step is so long
        // that no halving reaches descent, so the step capped at max(1, |ν|∞) follows,
        // then the projected gradient
        let mut accepted = armijo(dual, &ev, &nu, &d, &ineq)?;
        let longest = d.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let reach = nu.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        if accepted.is_none() && longest > reach {
            let capped: Vec<f64> = d.iter().map(|v| v * (reach / longest)).collect();
            accepted = armijo(dual, &ev, &nu, &capped, &ineq)?;
        }
        if accepted.is_none() {
            let steepest: Vec<f64> = (0..k).map(|j| if fixed[j] { -nu[j] } else { -ev.g[j] }).collect();
            accepted = armijo(dual, &ev, &nu, &steepest, &ineq)?;
        }
        match accepted {
            Some((trial, cand)) => {
                nu = trial;
                ev = if cand.h.is_empty() { dual.eval(&nu, true) } else { cand };
            }
            None => {
                return Err(CoreError::Numerical(format!(
                    "entropy pooling stalled after {iter} Newton iterations (no descent along the Newton direction \
                     or the gradient); the views may be nearly infeasible or degenerate"
                )))
            }
        }
        if nu.iter().any(|v| !v.is_finite() || v.abs() > 1e14) {
            return Err(CoreError::Numerical(
                "entropy pooling diverged: the multipliers grow without bound, the views are jointly infeasible or \
                 pin the posterior to the edge of what they allow"
                    .into(),
            ));
        }
        control.paths_done.fetch_add(1, Ordering::Relaxed);
    }
    Ok((nu, iter))
}

/// Armijo search along the projection arc ν(t) = P(ν + t d), t = 1, ½, … down to
/// 1e-14: the accepted multipliers and their evaluation, or None.
fn armijo(dual: &Dual, ev: &Eval, nu: &[f64], d: &[f64], ineq: &[bool]) -> Result<Option<(Vec<f64>, Eval)>> {
    const SIGMA: f64 = 1e-4;
    let k = nu.len();
    let mut t = 1.0;
    loop {
        let trial: Vec<f64> = (0..k)
            .map(|j| {
                if ineq[j] {
                    (nu[j] + t * d[j]).min(0.0)
                } else {
                    nu[j] + t * d[j]
                }
            })
            .collect();
        let slope: f64 = (0..k).map(|j| ev.g[j] * (trial[j] - nu[j])).sum();
        let cand = dual.eval(&trial, t == 1.0);
        if dual.cancelled() {
            return Err(CoreError::Cancelled);
        }
        let tiny = 1e-13 * (1.0 + ev.phi.abs());
        // near the optimum φ differences drown in rounding: take the full Newton step
        if cand.phi <= ev.phi + SIGMA * slope || (t == 1.0 && -slope <= tiny && cand.phi <= ev.phi + tiny) {
            return Ok(Some((trial, cand)));
        }
        t *= 0.5;
        if t < 1e-14 {
            return Ok(None);
        }
    }
}

/// Relative rounding of `E_q[d]` as [`Dual::eval`] sums it, in units of `E_q|d|`.
const ROUNDING: f64 = 1024.0 * f64::EPSILON;

/// Each view's tolerance on `E_q[d]`, `tol_j`, or the rounding of that expectation if
/// larger: a function with large values of both signs that cancel (a heavy-tailed
/// spread) cannot be checked more closely than `ROUNDING · E_q|d|`.
fn tolerances(tol_j: &[f64], ev: &Eval) -> Vec<f64> {
    debug_assert_eq!(ev.g_abs.len(), tol_j.len(), "an evaluation with the Hessian");
    tol_j
        .iter()
        .zip(&ev.g_abs)
        .map(|(&t, &a)| t.max(ROUNDING * a))
        .collect()
}

/// Every view holds to tolerance and the inequality multipliers are optimal.
fn converged(g: &[f64], nu: &[f64], ineq: &[bool], tol_j: &[f64]) -> bool {
    (0..g.len()).all(|j| {
        if ineq[j] {
            // feasible, and complementary: a slack view has multiplier 0
            g[j] <= tol_j[j] && (nu[j] == 0.0 || g[j] >= -tol_j[j])
        } else {
            g[j].abs() <= tol_j[j]
        }
    })
}

/// Farkas certificate of joint infeasibility: with `ν_ie ≤ 0`, every feasible
/// `q` has `Σ_i q_i ν·d_i ≥ 0` (d the standardised views); if instead
/// `max_i ν·d_i < 0` over the support, no feasible `q` exists.
fn certificate(ev: &Eval, nu: &[f64], views: &[View]) -> Result<()> {
    let norm: f64 = nu.iter().map(|v| v.abs()).sum();
    if norm > 0.0 && ev.t_max < -1e-9 * norm {
        return Err(jointly_infeasible(
            (0..nu.len()).filter(|&j| nu[j].abs() > 1e-6 * norm).map(|j| &views[j]),
        ));
    }
    Ok(())
}

/// The error for `views`, each possible alone, that cannot hold together.
fn jointly_infeasible<'v, 'a: 'v>(views: impl Iterator<Item = &'v View<'a>>) -> CoreError {
    let labels: Vec<String> = views.map(View::label).collect();
    CoreError::Numerical(format!(
        "infeasible views: {} cannot hold together (each is possible alone, no posterior satisfies them jointly)",
        labels.join(", ")
    ))
}

/// Solve `(H_FF + δI) d_F = −g_F` by Cholesky, raising the ridge δ until the
/// factorisation succeeds.
fn newton_step(h: &[f64], g: &[f64], free: &[usize], k: usize) -> Option<Vec<f64>> {
    let f = free.len();
    let sub: Vec<f64> = free
        .iter()
        .flat_map(|&r| free.iter().map(move |&c| h[r * k + c]))
        .collect();
    let rhs: Vec<f64> = free.iter().map(|&j| -g[j]).collect();
    let diag_max = (0..f).map(|i| sub[i * f + i]).fold(0.0f64, f64::max);
    if !diag_max.is_finite() {
        return None;
    }
    // relative to the Hessian: on a view standardised by a small scale its entries can be
    // 1e-18, and an absolute ridge would shorten every step ten-thousandfold
    let mut delta = if diag_max > 0.0 { 1e-14 * diag_max } else { 1e-14 };
    for _ in 0..40 {
        if let Some(x) = cholesky_solve(&sub, &rhs, f, delta) {
            return Some(x);
        }
        delta *= 100.0;
    }
    None
}

/// `(A + δI) x = b` for symmetric `A` (f × f) by Cholesky; None if not PD.
fn cholesky_solve(a: &[f64], b: &[f64], f: usize, delta: f64) -> Option<Vec<f64>> {
    let mut l = vec![0.0; f * f];
    for j in 0..f {
        let mut diag = a[j * f + j] + delta;
        for c in 0..j {
            diag -= l[j * f + c] * l[j * f + c];
        }
        if diag.is_nan() || diag <= 0.0 {
            return None;
        }
        let ljj = diag.sqrt();
        l[j * f + j] = ljj;
        for i in (j + 1)..f {
            let mut v = a[i * f + j];
            for c in 0..j {
                v -= l[i * f + c] * l[j * f + c];
            }
            l[i * f + j] = v / ljj;
        }
    }
    let mut y = b.to_vec();
    for i in 0..f {
        for c in 0..i {
            y[i] -= l[i * f + c] * y[c];
        }
        y[i] /= l[i * f + i];
    }
    for i in (0..f).rev() {
        for c in (i + 1)..f {
            y[i] -= l[c * f + i] * y[c];
        }
        y[i] /= l[i * f + i];
    }
    Some(y)
}

#[cfg(test)]
mod tests;
