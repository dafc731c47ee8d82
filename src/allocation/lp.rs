//! The Rockafellar–Uryasev linear programme in Clarabel's standard form
//! `min qᵀz` s.t. `A z + s = b`, `s ∈ K`, with `z = (x_allowed, ζ, u)`.
//!
//! Rows of `A` (cones: one zero-cone row, then nonnegative-cone rows):
//! - `Σ x = 1`                                   (zero cone)
//! - `−μ·x ≤ −target`                            (target form only)
//! - `−R_i·x − ζ − u_i ≤ 0` for each scenario i  (u_i ≥ loss_i − ζ)
//! - `−u_i ≤ 0`
//! - `−x_j ≤ 0`
//!
//! `A` is assembled column by column in compressed sparse column form: each
//! asset column holds its n returns, `ζ` a column of −1, each `u_i` two −1.

use std::panic::{catch_unwind, AssertUnwindSafe};

use clarabel::algebra::CscMatrix;
use clarabel::solver::{DefaultSettingsBuilder, DefaultSolver, IPSolver, NonnegativeConeT, SolverStatus, ZeroConeT};

use super::{Allocation, Problem};
use crate::engine::CancelFlag;
use crate::error::{CoreError, Result};

/// Solve the programme over the `allowed` assets (the others get weight 0),
/// with risk aversion `lambda` or a return `target`. The solver checks the
/// problem's cancel flag at each iteration (a solve of many paths and
/// strategies runs for seconds).
pub(super) fn solve(prob: &Problem, allowed: &[bool], lambda: f64, target: Option<f64>) -> Result<Allocation> {
    let cols: Vec<usize> = (0..prob.m).filter(|&j| allowed[j]).collect();
    let (ma, n) = (cols.len(), prob.rows.len());
    let has_t = target.is_some() as usize;
    // row offsets
    let row_t = 1;
    let row_ru = 1 + has_t;
    let row_u = row_ru + n;
    let row_x = row_u + n;
    let n_rows = row_x + ma;
    let n_vars = ma + 1 + n;
    let (zeta_col, u0) = (ma, ma + 1);

    let nnz = ma * (n + 2 + has_t) + n + 2 * n;
    let mut colptr = Vec::with_capacity(n_vars + 1);
    let mut rowval = Vec::with_capacity(nnz);
    let mut nzval = Vec::with_capacity(nnz);
    colptr.push(0);
    for (c, &j) in cols.iter().enumerate() {
        rowval.push(0);
        nzval.push(1.0);
        if has_t == 1 {
            rowval.push(row_t);
            nzval.push(-prob.mu[j]);
        }
        for (r, &i) in prob.rows.iter().enumerate() {
            rowval.push(row_ru + r);
            nzval.push(-prob.r[i * prob.m + j]);
        }
        rowval.push(row_x + c);
        nzval.push(-1.0);
        colptr.push(rowval.len());
    }
    rowval.extend(row_ru..row_ru + n);
    nzval.extend(std::iter::repeat_n(-1.0, n));
    colptr.push(rowval.len());
    for r in 0..n {
        rowval.extend([row_ru + r, row_u + r]);
        nzval.extend([-1.0, -1.0]);
        colptr.push(rowval.len());
    }
    let a = CscMatrix::new(n_rows, n_vars, colptr, rowval, nzval);

    let mut b = vec![0.0; n_rows];
    b[0] = 1.0;
    if let Some(t) = target {
        b[row_t] = -t;
    }
    let tail = 1.0 / (1.0 - prob.alpha_lp);
    let mut q = vec![0.0; n_vars];
    for (c, &j) in cols.iter().enumerate() {
        q[c] = -lambda * prob.mu[j];
    }
    q[zeta_col] = 1.0;
    for (r, &pi) in prob.p.iter().enumerate() {
        q[u0 + r] = pi * tail;
    }
    let p = CscMatrix::<f64>::zeros((n_vars, n_vars));
    let cones = [ZeroConeT(1), NonnegativeConeT(n_rows - 1)];
    let settings = DefaultSettingsBuilder::default()
        .verbose(false)
        .max_iter(400)
        .tol_gap_abs(1e-11)
        .tol_gap_rel(1e-11)
        .tol_feas(1e-11)
        .tol_ktratio(1e-9)
        .build()
        .map_err(|e| CoreError::Numerical(format!("mean-CVaR: solver settings: {e}")))?;

    let run = catch_unwind(AssertUnwindSafe(|| {
        let mut solver = DefaultSolver::new(&p, &q, &a, &b, &cones, settings)
            .map_err(|e| CoreError::Numerical(format!("mean-CVaR: solver setup failed: {e}")))?;
        // SAFETY: the solver is dropped within this closure, while `prob.cancel` is borrowed
        let flag = unsafe { CancelFlag::new(prob.cancel) };
        solver.set_termination_callback(move |_| flag.is_set());
        solver.solve();
        Ok(solver.solution)
    }))
    .map_err(|_| CoreError::Numerical("mean-CVaR: the LP solver failed unexpectedly".into()))?;
    let sol = run?;

    match sol.status {
        SolverStatus::Solved | SolverStatus::AlmostSolved => {}
        SolverStatus::CallbackTerminated => return Err(CoreError::Cancelled),
        SolverStatus::PrimalInfeasible | SolverStatus::AlmostPrimalInfeasible if target.is_some() => {
            return Err(CoreError::invalid(
                "target_return",
                format!(
                    "{} is not attainable by a long-only, fully invested portfolio",
                    target.unwrap_or(f64::NAN)
                ),
            ))
        }
        s => {
            return Err(CoreError::Numerical(format!(
                "mean-CVaR: the LP solver stopped with status {s}"
            )))
        }
    }
    let mut x = vec![0.0; prob.m];
    for (c, &j) in cols.iter().enumerate() {
        x[j] = sol.x[c];
    }
    let zeta = sol.x[zeta_col];
    let lp_cvar = zeta + tail * prob.p.iter().zip(&sol.x[u0..]).map(|(pi, u)| pi * u).sum::<f64>();
    prob.finish(x, zeta, lp_cvar, sol.status.to_string(), sol.iterations)
}
