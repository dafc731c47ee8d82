//! Whether views can hold together, decided by a linear programme when the
//! Newton solve fails.
//!
//! With each view standardised to `d_i = (a_i − b) / scale` over the scenarios of
//! the support, the views hold for some posterior q (`q ≥ 0`, `Σ q = 1`) when
//! `Σ q_i d_i = 0` for equalities and `≤ 0` for inequalities. By Farkas' lemma
//! no such q exists exactly when some `ν` with `ν_j ≥ 0` on the inequalities has
//! `ν·d_i > 0` on every scenario (then `Σ q_i ν·d_i` would be both positive and,
//! for a q meeting the views, at most 0). The programme
//!
//! `max t` s.t. `ν·d_i ≥ t` for every scenario i, `−1 ≤ ν_j ≤ 1`, `ν_j ≥ 0` on
//! inequalities, `t ≤ 1`
//!
//! finds the best such `ν`: `t > 0` proves the views infeasible, and the views
//! with `ν_j ≠ 0` are the ones that cannot hold together. The Newton path finds
//! this `ν` only in the limit: on a heavy-tailed view function (a price) the
//! largest values keep `max_i ν·d_i` above 0 until the multipliers pass any
//! bound (`E[X] ≥ 900` and `E[X] ≤ 800` ended as "diverged").

use std::panic::{catch_unwind, AssertUnwindSafe};

use clarabel::algebra::CscMatrix;
use clarabel::solver::{DefaultSettingsBuilder, DefaultSolver, IPSolver, NonnegativeConeT, SolverStatus};

use super::View;
use crate::engine::{CancelFlag, Control};

/// The smallest `t` (in standardised units, views of size about 1) that proves
/// infeasibility: far above the solver's tolerances, far below any real conflict.
const PROOF: f64 = 1e-6;

/// The views (their indices in `views`) that cannot hold together on the
/// scenarios of `support`, or None if the programme finds no proof (the views
/// hold together, or the solver did not solve it to its full tolerances: a proof
/// from an "almost solved" programme could be the solver's slack). The caller
/// checks its cancel flag afterwards.
pub(super) fn conflicting(views: &[View], support: &[bool], control: &Control) -> Option<Vec<usize>> {
    let k = views.len();
    let rows: Vec<usize> = (0..support.len()).filter(|&i| support[i]).collect();
    let m = rows.len();
    // variables (ν_0 … ν_{k−1}, t); rows: m scenarios, then per view ν_j ≤ 1 and
    // −ν_j ≤ 1 (or −ν_j ≤ 0 on an inequality), then t ≤ 1; every row `A z + s = b, s ≥ 0`
    let n_rows = m + 2 * k + 1;
    let mut colptr = Vec::with_capacity(k + 2);
    let mut rowval = Vec::with_capacity((m + 2) * (k + 1));
    let mut nzval = Vec::with_capacity((m + 2) * (k + 1));
    colptr.push(0);
    for (j, v) in views.iter().enumerate() {
        let scale = if v.scale > 0.0 { v.scale } else { 1.0 };
        for (r, &i) in rows.iter().enumerate() {
            rowval.push(r); // −ν·d_i + t ≤ 0
            nzval.push(-(v.a[i] - v.b) / scale);
        }
        rowval.extend([m + 2 * j, m + 2 * j + 1]);
        nzval.extend([1.0, -1.0]);
        colptr.push(rowval.len());
    }
    rowval.extend(0..m);
    nzval.extend(std::iter::repeat_n(1.0, m));
    rowval.push(m + 2 * k);
    nzval.push(1.0);
    colptr.push(rowval.len());
    let a = CscMatrix::new(n_rows, k + 1, colptr, rowval, nzval);
    let mut b = vec![0.0; n_rows];
    for (j, v) in views.iter().enumerate() {
        b[m + 2 * j] = 1.0;
        b[m + 2 * j + 1] = if v.ineq { 0.0 } else { 1.0 };
    }
    b[m + 2 * k] = 1.0;
    let mut q = vec![0.0; k + 1];
    q[k] = -1.0; // max t
    let p = CscMatrix::<f64>::zeros((k + 1, k + 1));
    let settings = DefaultSettingsBuilder::default()
        .verbose(false)
        .max_iter(200)
        .build()
        .ok()?;
    let cones = [NonnegativeConeT(n_rows)];
    let solution = catch_unwind(AssertUnwindSafe(|| {
        let mut solver = DefaultSolver::new(&p, &q, &a, &b, &cones, settings).ok()?;
        // SAFETY: the solver is dropped within this closure, while `control` is borrowed
        let flag = unsafe { CancelFlag::new(&control.cancel) };
        solver.set_termination_callback(move |_| flag.is_set());
        solver.solve();
        Some(solver.solution)
    }))
    .ok()??;
    if solution.status != SolverStatus::Solved || solution.x[k] <= PROOF {
        return None;
    }
    let nu = &solution.x[..k];
    let largest = nu.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    Some((0..k).filter(|&j| nu[j].abs() > 1e-6 * largest).collect())
}
