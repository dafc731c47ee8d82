//! Bindings of `crate::calibrate` and `crate::backtest`: copy the (small) NumPy
//! inputs, run the core without the GIL, hand results back without copies.
//! The pandas layer (`geoscenario/calibrate.py`, `backtest.py`) validates
//! labels and dates; these functions only convert and delegate.

use numpy::{IntoPyArray, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::errors::to_pyerr;
use super::input::owned2;
use crate::backtest::{self, BacktestInput};
use crate::calibrate::{self, JumpOptions};
use crate::engine::Control;
use crate::error::CoreError;

/// A copy of a contiguous 1-D input (read without the GIL: see `input`).
fn contiguous(arr: &PyReadonlyArray1<'_, f64>, arg: &str) -> Result<Vec<f64>, CoreError> {
    arr.as_slice()
        .map(<[f64]>::to_vec)
        .map_err(|_| CoreError::invalid(arg, "must be a contiguous float64 array"))
}

/// The statistics every likelihood fit (`LogOuFit`, `GbmFit`) returns, by the same names.
macro_rules! set_fit_stats {
    ($out:expr, $fit:expr) => {
        $out.set_item("loglik", $fit.loglik)?;
        $out.set_item("n_obs", $fit.n_obs)?;
        $out.set_item("dt", $fit.dt)?;
        $out.set_item("evaluations", $fit.evaluations)?;
        $out.set_item("converged", $fit.converged)?;
        $out.set_item("hessian_ok", $fit.hessian_ok)?;
    };
}

/// Fit the log-OU model (exact MLE; with Merton jumps if `jumps`) to positive
/// levels observed every `dt` years. `fixed`: six optional values
/// (kappa, theta, sigma, lambda, mu_j, sigma_j) held instead of estimated.
/// `log_mean`: the long-run mean of ln X held instead of θ, which then follows
/// from it and the jumps (the `"ar1"` mode).
#[pyfunction]
#[pyo3(signature = (levels, dt, jumps=false, fixed=None, max_jumps=10, log_mean=None))]
pub fn calibrate_log_ou<'py>(
    py: Python<'py>,
    levels: PyReadonlyArray1<'py, f64>,
    dt: f64,
    jumps: bool,
    fixed: Option<Vec<Option<f64>>>,
    max_jumps: usize,
    log_mean: Option<f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let x = contiguous(&levels, "series").map_err(|e| to_pyerr(py, e))?;
    let mut opts = JumpOptions {
        max_jumps,
        log_mean,
        ..JumpOptions::default()
    };
    if let Some(f) = fixed {
        if f.len() != 6 {
            return Err(to_pyerr(
                py,
                CoreError::invalid("fixed", format!("needs 6 entries, got {}", f.len())),
            ));
        }
        opts.fixed.copy_from_slice(&f);
    }
    // a jump fit of a long daily series runs for seconds: Ctrl-C stops it
    let control = Control::default();
    let fit = super::run_interruptible(py, &control, 0, None, || {
        if jumps {
            calibrate::fit_log_ou_jumps(&x, dt, &opts, &control)
        } else {
            calibrate::fit_log_ou(&x, dt)
        }
    })?;
    let out = PyDict::new(py);
    out.set_item("names", calibrate::PARAM_NAMES.to_vec())?;
    out.set_item("params", fit.params.to_vec())?;
    out.set_item("std_errs", fit.std_errs.to_vec())?;
    out.set_item("fixed", fit.fixed.to_vec())?;
    out.set_item("at_bound", fit.at_bound.to_vec())?;
    out.set_item("jumps", fit.jumps)?;
    out.set_item("log_mean", fit.log_mean)?;
    out.set_item("log_mean_se", fit.log_mean_se)?;
    out.set_item("ln_theta_grad", fit.ln_theta_grad.to_vec())?;
    out.set_item("ar", fit.ar.to_vec())?;
    set_fit_stats!(out, fit);
    Ok(out)
}

/// Fit a GBM with compensated Merton jumps (exact MLE of its log returns) to
/// positive levels observed every `dt` years.
#[pyfunction]
#[pyo3(signature = (levels, dt, max_jumps=10))]
pub fn calibrate_gbm_jumps<'py>(
    py: Python<'py>,
    levels: PyReadonlyArray1<'py, f64>,
    dt: f64,
    max_jumps: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let x = contiguous(&levels, "series").map_err(|e| to_pyerr(py, e))?;
    let control = Control::default();
    let fit = super::run_interruptible(py, &control, 0, None, || {
        calibrate::fit_gbm_jumps(&x, dt, max_jumps, 40_000, &control)
    })?;
    let out = PyDict::new(py);
    out.set_item("names", calibrate::GBM_PARAM_NAMES.to_vec())?;
    out.set_item("params", fit.params.to_vec())?;
    out.set_item("std_errs", fit.std_errs.to_vec())?;
    out.set_item("at_bound", fit.at_bound.to_vec())?;
    set_fit_stats!(out, fit);
    Ok(out)
}

/// OLS of every column of `y` (n × m) on an intercept and the columns of `x`
/// (n × p); Newey–West errors with `nw_lags` lags when given.
#[pyfunction]
#[pyo3(signature = (y, x, nw_lags=None))]
pub fn calibrate_ols<'py>(
    py: Python<'py>,
    y: PyReadonlyArray2<'py, f64>,
    x: PyReadonlyArray2<'py, f64>,
    nw_lags: Option<usize>,
) -> PyResult<Bound<'py, PyDict>> {
    let yv = owned2(&y, "y").map_err(|e| to_pyerr(py, e))?;
    let xv = owned2(&x, "x").map_err(|e| to_pyerr(py, e))?;
    let fit = super::detached(py, || calibrate::ols(yv.view(), xv.view(), nw_lags)).map_err(|e| to_pyerr(py, e))?;
    let shape = (fit.m, fit.k);
    let arr = |v: Vec<f64>| ndarray::Array2::from_shape_vec(shape, v);
    let bad = |e: ndarray::ShapeError| to_pyerr(py, CoreError::Numerical(e.to_string()));
    let out = PyDict::new(py);
    out.set_item("coef", arr(fit.coef).map_err(bad)?.into_pyarray(py))?;
    out.set_item("std_err", arr(fit.std_err).map_err(bad)?.into_pyarray(py))?;
    match fit.std_err_nw {
        Some(v) => out.set_item("std_err_nw", arr(v).map_err(bad)?.into_pyarray(py))?,
        None => out.set_item("std_err_nw", py.None())?,
    }
    out.set_item("nw_lags", fit.nw_lags)?;
    out.set_item("resid_std", fit.resid_std.into_pyarray(py))?;
    out.set_item("r2", fit.r2.into_pyarray(py))?;
    out.set_item("n", fit.n)?;
    Ok(out)
}

/// The default Newey–West lag ⌊4 (n/100)^{2/9}⌋.
#[pyfunction]
pub fn newey_west_lags(n: usize) -> usize {
    calibrate::newey_west_default_lags(n)
}

/// Run the backtest loop on prices (T × N), rebalance rows, target weights
/// (R × N) and per-asset costs in bps.
#[pyfunction]
pub fn backtest_run<'py>(
    py: Python<'py>,
    prices: PyReadonlyArray2<'py, f64>,
    rebalance: Vec<usize>,
    targets: PyReadonlyArray2<'py, f64>,
    cost_bps: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let cost = contiguous(&cost_bps, "cost_bps").map_err(|e| to_pyerr(py, e))?;
    let prices = owned2(&prices, "prices").map_err(|e| to_pyerr(py, e))?;
    let targets = owned2(&targets, "targets").map_err(|e| to_pyerr(py, e))?;
    let input = BacktestInput {
        prices: prices.view(),
        rebalance: &rebalance,
        targets: targets.view(),
        cost_bps: &cost,
    };
    let res = super::detached(py, || backtest::run(&input)).map_err(|e| to_pyerr(py, e))?;
    let out = PyDict::new(py);
    out.set_item("equity", res.equity.into_pyarray(py))?;
    out.set_item("returns", res.returns.into_pyarray(py))?;
    out.set_item("turnover", res.turnover.into_pyarray(py))?;
    out.set_item("costs", res.costs.into_pyarray(py))?;
    out.set_item("positions", res.positions.into_pyarray(py))?;
    out.set_item("cash", res.cash.into_pyarray(py))?;
    Ok(out)
}
