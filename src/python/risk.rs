//! Bindings of the risk measures, entropy-pooling views and mean–CVaR
//! allocation: check array layouts, borrow the data, run the core without the
//! GIL and hand results to NumPy.

use std::borrow::Cow;

use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::errors::to_pyerr;
use super::input::{in_place, slice1, slice2};
use super::run_interruptible;
use crate::allocation::{self, Objective};
use crate::engine::Control;
use crate::error::CoreError;
use crate::{risk, views};

fn matrix<'py>(py: Python<'py>, data: Vec<f64>, rows: usize, cols: usize) -> PyResult<Bound<'py, PyArray2<f64>>> {
    ndarray::Array2::from_shape_vec((rows, cols), data)
        .map(|a| a.into_pyarray(py))
        .map_err(|e| to_pyerr(py, CoreError::Numerical(e.to_string())))
}

/// Risk tables of S strategies: `pnl` is (n, S), `weights` (n), `scenario` (n)
/// indices in `[0, n_scenarios)`. Returns a dict of 1-D columns in long
/// format, `S × (n_scenarios + 1)` rows ordered by strategy then scenario
/// (scenario `n_scenarios` = all paths): strategy, scenario, probability,
/// mean, std, var, cvar, prob_loss, tail_share.
#[pyfunction]
#[pyo3(signature = (pnl, weights, scenario, n_scenarios, alpha))]
pub fn risk_table<'py>(
    py: Python<'py>,
    pnl: PyReadonlyArray2<'py, f64>,
    weights: PyReadonlyArray1<'py, f64>,
    scenario: PyReadonlyArray1<'py, i64>,
    n_scenarios: usize,
    alpha: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let (pnl, _, s) = slice2(&pnl, "pnl").map_err(|e| to_pyerr(py, e))?;
    let w = slice1(&weights, "weights").map_err(|e| to_pyerr(py, e))?;
    let scen = slice1(&scenario, "scenario").map_err(|e| to_pyerr(py, e))?;
    let tables = super::detached(py, || risk::risk_tables(&pnl, s, &w, &scen, n_scenarios, alpha))
        .map_err(|e| to_pyerr(py, e))?;
    let rows: Vec<(usize, &risk::RiskRow)> = tables
        .iter()
        .enumerate()
        .flat_map(|(st, t)| t.iter().map(move |r| (st, r)))
        .collect();
    let out = PyDict::new(py);
    out.set_item(
        "strategy",
        rows.iter()
            .map(|(st, _)| *st as i64)
            .collect::<Vec<_>>()
            .into_pyarray(py),
    )?;
    out.set_item(
        "scenario",
        rows.iter()
            .map(|(_, r)| r.scenario as i64)
            .collect::<Vec<_>>()
            .into_pyarray(py),
    )?;
    type Column = (&'static str, fn(&risk::RiskRow) -> f64);
    let columns: [Column; 7] = [
        ("probability", |r| r.probability),
        ("mean", |r| r.mean),
        ("std", |r| r.std),
        ("var", |r| r.var),
        ("cvar", |r| r.cvar),
        ("prob_loss", |r| r.prob_loss),
        ("tail_share", |r| r.tail_share),
    ];
    for (name, get) in columns {
        out.set_item(
            name,
            rows.iter().map(|(_, r)| get(r)).collect::<Vec<_>>().into_pyarray(py),
        )?;
    }
    Ok(out)
}

/// `(VaR_α, CVaR_α)` of the loss `−pnl` under path weights.
#[pyfunction]
#[pyo3(signature = (pnl, weights, alpha))]
pub fn var_cvar(
    py: Python<'_>,
    pnl: PyReadonlyArray1<'_, f64>,
    weights: PyReadonlyArray1<'_, f64>,
    alpha: f64,
) -> PyResult<(f64, f64)> {
    let x = slice1(&pnl, "pnl").map_err(|e| to_pyerr(py, e))?;
    let w = slice1(&weights, "weights").map_err(|e| to_pyerr(py, e))?;
    super::detached(py, || risk::var_cvar(&x, &w, alpha)).map_err(|e| to_pyerr(py, e))
}

/// Hall and Sheather's half-width δ of the sparsity estimate in a VaR's standard
/// error at level `alpha` over `n_eff` effective paths (the streamed summary's).
#[pyfunction]
pub fn sparsity_bandwidth(alpha: f64, n_eff: f64) -> f64 {
    crate::summary::quantile::sparsity_bandwidth(alpha, n_eff)
}

/// `np.argsort(x, kind="stable")`, the same permutation, on all threads.
#[pyfunction]
pub fn argsort<'py>(py: Python<'py>, x: PyReadonlyArray1<'py, f64>) -> PyResult<Bound<'py, numpy::PyArray1<i64>>> {
    let x = slice1(&x, "x").map_err(|e| to_pyerr(py, e))?;
    Ok(super::detached(py, || crate::sort::argsort(&x)).into_pyarray(py))
}

/// `x[idx]`, `w[idx]` and `w[idx] / total` of the contiguous `x` and `w`, for `idx` the
/// entries of `order` in the paths `run` = (start, stop), in their order (`sort::gather_run`).
/// Read in place with the GIL held, as `calibrated_mean_se`, on all threads.
#[pyfunction]
#[allow(clippy::type_complexity)]
pub fn gather_run<'py>(
    py: Python<'py>,
    x: PyReadonlyArray1<'py, f64>,
    w: PyReadonlyArray1<'py, f64>,
    order: PyReadonlyArray1<'py, i64>,
    run: (usize, usize),
    total: f64,
) -> PyResult<(
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
)> {
    let read = |e| to_pyerr(py, e);
    let (x, w) = (in_place(&x, "x").map_err(read)?, in_place(&w, "w").map_err(read)?);
    let order = in_place(&order, "order").map_err(read)?;
    if w.len() != x.len() || run.0 > run.1 || run.1 > x.len() {
        return Err(to_pyerr(
            py,
            CoreError::invalid("run", "must lie within the paths of x and w"),
        ));
    }
    let [xs, ws, shares] = crate::pool::install(|| crate::sort::gather_run(x, w, order, run.0..run.1, total));
    Ok((xs.into_pyarray(py), ws.into_pyarray(py), shares.into_pyarray(py)))
}

/// `stats._cumsum`'s compensated running sums of the contiguous `w`, with its
/// bits. One sequential pass, read in place with the GIL held as NumPy's
/// `cumsum` is (a copy for a release of the GIL would cost as much again).
#[pyfunction]
pub fn compensated_cumsum<'py>(
    py: Python<'py>,
    w: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, numpy::PyArray1<f64>>> {
    let w = in_place(&w, "w").map_err(|e| to_pyerr(py, e))?;
    Ok(crate::sort::compensated_cumsum(w).into_pyarray(py))
}

/// `stats.weighted_mean` and `stats.weighted_std` of the contiguous `x` and `w`
/// (`risk::weighted`): (mean, std), std 0 unless asked for; None if a value or a
/// weight is not finite, a weight is negative or the weights sum to 0 (the caller
/// says which). Read in place with the GIL held, as `calibrated_mean_se`, on all
/// threads past one chunk of paths.
#[pyfunction]
#[pyo3(signature = (x, w, std=false))]
pub fn weighted_moments(
    py: Python<'_>,
    x: PyReadonlyArray1<'_, f64>,
    w: PyReadonlyArray1<'_, f64>,
    std: bool,
) -> PyResult<Option<(f64, f64)>> {
    let read = |e| to_pyerr(py, e);
    let (x, w) = (in_place(&x, "x").map_err(read)?, in_place(&w, "w").map_err(read)?);
    if x.len() != w.len() {
        return Err(to_pyerr(py, CoreError::invalid("w", "must have the length of x")));
    }
    let moments = || risk::weighted::weighted_moments(x, w, std);
    Ok(if x.len() > crate::sum::CHUNK {
        crate::pool::install(moments)
    } else {
        moments()
    })
}

/// The standard errors of a posterior's weighted means of the columns `xs`
/// over the paths `group` = (start, stop), counting the views' fit
/// (`risk::influence`): `ft` the binding views' centred functions (k × n),
/// `s_inv` (k × k), `blocks` the scenarios' (start, stop).
///
/// It reads its (contiguous) arrays in place and keeps the GIL for its
/// milliseconds, so that no Python code can write them meanwhile: the statistics
/// call it hundreds of times on a posterior, and copies of the arrays (32 MB
/// for a million paths and two views) cost more than the work.
#[pyfunction]
#[pyo3(signature = (xs, w, group, mass, ft, s_inv, blocks, pairs))]
#[allow(clippy::too_many_arguments)]
pub fn calibrated_mean_se(
    py: Python<'_>,
    xs: Vec<PyReadonlyArray1<'_, f64>>,
    w: PyReadonlyArray1<'_, f64>,
    group: (usize, usize),
    mass: f64,
    ft: PyReadonlyArray2<'_, f64>,
    s_inv: PyReadonlyArray2<'_, f64>,
    blocks: Vec<(usize, usize)>,
    pairs: bool,
) -> PyResult<Vec<f64>> {
    let read = |e| to_pyerr(py, e);
    let xs = xs
        .iter()
        .map(|x| in_place(x, "xs"))
        .collect::<Result<Vec<_>, _>>()
        .map_err(read)?;
    let w = in_place(&w, "w").map_err(read)?;
    let design = risk::influence::Design {
        ft: in_place(&ft, "ft").map_err(read)?,
        k: ft.shape()[0],
        s_inv: in_place(&s_inv, "s_inv").map_err(read)?,
    };
    let blocks: Vec<std::ops::Range<usize>> = blocks.into_iter().map(|(a, b)| a..b).collect();
    crate::pool::install(|| {
        risk::influence::calibrated_mean_se(&xs, w, group.0..group.1, mass, &design, &blocks, pairs)
    })
    .map_err(|e| to_pyerr(py, e))
}

/// Maximum drawdown of each row of an (n, T) NAV array.
#[pyfunction]
pub fn max_drawdown<'py>(
    py: Python<'py>,
    nav: PyReadonlyArray2<'py, f64>,
) -> PyResult<Bound<'py, numpy::PyArray1<f64>>> {
    let (data, n, t) = slice2(&nav, "nav").map_err(|e| to_pyerr(py, e))?;
    let dd = super::detached(py, || risk::max_drawdown_rows(&data, n, t)).map_err(|e| to_pyerr(py, e))?;
    Ok(dd.into_pyarray(py))
}

/// Views as (data, rows) with the shape rules `(len(b), n)`.
type Block<'a> = (Cow<'a, [f64]>, Cow<'a, [f64]>);

fn view_block<'a>(
    a: &'a PyReadonlyArray2<'_, f64>,
    b: &'a PyReadonlyArray1<'_, f64>,
    n: usize,
    a_name: &str,
    b_name: &str,
) -> Result<Block<'a>, CoreError> {
    let bs = slice1(b, b_name)?;
    let (data, rows, cols) = slice2(a, a_name)?;
    if rows != bs.len() || (rows > 0 && cols != n) {
        return Err(CoreError::invalid(
            a_name,
            format!("must have shape ({}, {n}) (one row per entry of {b_name}, one column per scenario), got ({rows}, {cols})", bs.len()),
        ));
    }
    Ok((data, bs))
}

/// Entropy pooling: the posterior closest to `prior` in relative entropy with
/// `a_eq @ q = b_eq` and `a_ie @ q <= b_ie` (`a_*` of shape (k, n)). Returns a
/// dict: q, relative_entropy, effective_scenarios, iterations, converged,
/// multipliers (equality views first). Runs without the GIL on copies of the
/// arrays (see `input`); Ctrl-C stops it with KeyboardInterrupt; `progress` (if
/// given) is called as `progress(newton_iterations_done, max_iter)` about ten
/// times a second.
#[pyfunction]
#[pyo3(signature = (prior, a_eq, b_eq, a_ie, b_ie, max_iter=views::DEFAULT_MAX_ITER, tol=views::DEFAULT_TOL, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn entropy_pooling<'py>(
    py: Python<'py>,
    prior: PyReadonlyArray1<'py, f64>,
    a_eq: PyReadonlyArray2<'py, f64>,
    b_eq: PyReadonlyArray1<'py, f64>,
    a_ie: PyReadonlyArray2<'py, f64>,
    b_ie: PyReadonlyArray1<'py, f64>,
    max_iter: usize,
    tol: f64,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let p = slice1(&prior, "prior").map_err(|e| to_pyerr(py, e))?;
    let (ae, be) = view_block(&a_eq, &b_eq, p.len(), "a_eq", "b_eq").map_err(|e| to_pyerr(py, e))?;
    let (ai, bi) = view_block(&a_ie, &b_ie, p.len(), "a_ie", "b_ie").map_err(|e| to_pyerr(py, e))?;
    let control = Control::default();
    let post = run_interruptible(py, &control, max_iter as u64, progress.as_ref(), || {
        views::entropy_pooling(&p, &ae, &be, &ai, &bi, max_iter, tol, &control)
    })?;
    let out = PyDict::new(py);
    out.set_item("q", post.q.into_pyarray(py))?;
    out.set_item("relative_entropy", post.relative_entropy)?;
    out.set_item("effective_scenarios", post.effective_scenarios)?;
    out.set_item("iterations", post.iterations)?;
    out.set_item("converged", post.converged)?;
    out.set_item("multipliers", post.multipliers.into_pyarray(py))?;
    Ok(out)
}

fn allocation_dict<'py>(py: Python<'py>, a: allocation::Allocation) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("weights", a.weights.into_pyarray(py))?;
    out.set_item("cvar", a.cvar)?;
    out.set_item("expected_return", a.expected_return)?;
    out.set_item("var", a.var)?;
    out.set_item("zeta", a.zeta)?;
    out.set_item("lp_cvar", a.lp_cvar)?;
    out.set_item("status", a.status)?;
    out.set_item("iterations", a.iterations)?;
    Ok(out)
}

/// Mean–CVaR weights on (n, m) scenario returns: maximise μ·x − γ CVaR
/// (`risk_aversion` = γ), minimise CVaR subject to μ·x ≥ `target_return`, or (neither
/// given) minimise CVaR; Ctrl-C stops it before its next linear programme.
/// Returns a dict: weights, cvar, expected_return, var,
/// zeta, lp_cvar, status, iterations.
#[pyfunction]
#[pyo3(signature = (returns, weights, alpha, risk_aversion=None, target_return=None))]
pub fn mean_cvar<'py>(
    py: Python<'py>,
    returns: PyReadonlyArray2<'py, f64>,
    weights: PyReadonlyArray1<'py, f64>,
    alpha: f64,
    risk_aversion: Option<f64>,
    target_return: Option<f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let (r, _, m) = slice2(&returns, "returns").map_err(|e| to_pyerr(py, e))?;
    let w = slice1(&weights, "weights").map_err(|e| to_pyerr(py, e))?;
    let objective = match (risk_aversion, target_return) {
        (None, None) => Objective::MinCvar,
        (Some(l), None) => Objective::RiskAversion(l),
        (None, Some(t)) => Objective::TargetReturn(t),
        (Some(_), Some(_)) => {
            return Err(to_pyerr(
                py,
                CoreError::invalid("target_return", "give either risk_aversion or target_return, not both"),
            ))
        }
    };
    let control = Control::default();
    let a = run_interruptible(py, &control, 1, None, || {
        allocation::mean_cvar(&r, m, &w, alpha, objective, &control)
    })?;
    allocation_dict(py, a)
}

/// The mean–CVaR efficient frontier on (n, m) scenario returns, `n_points`
/// from the minimum-CVaR portfolio to the largest expected return. Returns a
/// dict of arrays: target_return, expected_return, cvar, var (n_points),
/// weights (n_points, m), and a list status. Ctrl-C stops it before its next
/// linear programme; `progress` (if given) is called as
/// `progress(points_done, n_points)` about ten times a second.
#[pyfunction]
#[pyo3(signature = (returns, weights, alpha, n_points=20, progress=None))]
pub fn efficient_frontier<'py>(
    py: Python<'py>,
    returns: PyReadonlyArray2<'py, f64>,
    weights: PyReadonlyArray1<'py, f64>,
    alpha: f64,
    n_points: usize,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let (r, _, m) = slice2(&returns, "returns").map_err(|e| to_pyerr(py, e))?;
    let w = slice1(&weights, "weights").map_err(|e| to_pyerr(py, e))?;
    let control = Control::default();
    let pts = run_interruptible(py, &control, n_points as u64, progress.as_ref(), || {
        allocation::efficient_frontier(&r, m, &w, alpha, n_points, &control)
    })?;
    let col = |f: fn(&allocation::FrontierPoint) -> f64| pts.iter().map(f).collect::<Vec<f64>>();
    let out = PyDict::new(py);
    out.set_item("target_return", col(|p| p.target_return).into_pyarray(py))?;
    out.set_item(
        "expected_return",
        col(|p| p.allocation.expected_return).into_pyarray(py),
    )?;
    out.set_item("cvar", col(|p| p.allocation.cvar).into_pyarray(py))?;
    out.set_item("var", col(|p| p.allocation.var).into_pyarray(py))?;
    let flat: Vec<f64> = pts.iter().flat_map(|p| p.allocation.weights.iter().copied()).collect();
    out.set_item("weights", matrix(py, flat, pts.len(), m)?)?;
    out.set_item(
        "status",
        pts.iter().map(|p| p.allocation.status.clone()).collect::<Vec<_>>(),
    )?;
    Ok(out)
}
