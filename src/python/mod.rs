//! The Python binding layer: converts arguments, delegates to the core, and
//! hands results to NumPy without copying. Nothing here computes.

mod calibrate;
mod convert;
mod errors;
mod input;
mod risk;
mod summary;

use std::sync::atomic::Ordering;
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use ndarray::Array2;
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::config::{emit, param_specs, parse, World};
use crate::engine::{self, Control, SimRequest};
use crate::model::Model;
use errors::to_pyerr;

/// Run `f` on another thread without the GIL. Ctrl-C sets `control.cancel`
/// and raises KeyboardInterrupt; `progress(done, total)` is called about ten
/// times a second and once at the end.
pub(crate) fn run_interruptible<T: Send>(
    py: Python<'_>,
    control: &Control,
    total: u64,
    progress: Option<&Bound<'_, PyAny>>,
    f: impl FnOnce() -> crate::Result<T> + Send,
) -> PyResult<T> {
    let result = std::thread::scope(|scope| -> PyResult<T> {
        let (tx, rx) = mpsc::channel();
        let rx = Mutex::new(rx);
        scope.spawn(move || {
            let _ = tx.send(crate::pool::install(f));
        });
        // Ctrl-C, or an error of the progress display: cancel the workers and wait for
        // them without the GIL, then raise (the scope would otherwise join them holding it)
        let stop = |e: PyErr| -> PyResult<T> {
            control.cancel.store(true, Ordering::Relaxed);
            py.detach(|| {
                if let Ok(r) = rx.lock() {
                    let _ = r.recv();
                }
            });
            Err(e)
        };
        loop {
            if let Some(done) = wait_tick(py, &rx) {
                return done;
            }
            if let Err(e) = py.check_signals() {
                return stop(e);
            }
            if let Some(cb) = progress {
                if let Err(e) = cb.call1((control.paths_done.load(Ordering::Relaxed), total)) {
                    return stop(e);
                }
            }
        }
    })?;
    if let Some(cb) = progress {
        cb.call1((total, total))?;
    }
    Ok(result)
}

/// `py.detach(f)` on this process's worker threads (see [`crate::pool`]).
pub(crate) fn detached<T: Send>(py: Python<'_>, f: impl FnOnce() -> T + Send) -> T {
    py.detach(|| crate::pool::install(f))
}

/// Wait up to 100 ms without the GIL for the worker's result: `None` if it is
/// not there yet, otherwise the result (an error if the worker died).
fn wait_tick<T: Send>(py: Python<'_>, rx: &Mutex<mpsc::Receiver<crate::Result<T>>>) -> Option<PyResult<T>> {
    let got = py.detach(|| match rx.lock() {
        Ok(r) => r.recv_timeout(Duration::from_millis(100)),
        Err(_) => Err(mpsc::RecvTimeoutError::Disconnected),
    });
    match got {
        Ok(r) => Some(r.map_err(|e| to_pyerr(py, e))),
        Err(mpsc::RecvTimeoutError::Disconnected) => Some(Err(to_pyerr(
            py,
            crate::CoreError::Numerical("worker thread failed".into()),
        ))),
        Err(mpsc::RecvTimeoutError::Timeout) => None,
    }
}

/// (name, [(asset, weight)], cost_bps) of a strategy.
type StrategyInfo = (String, Vec<(String, f64)>, f64);

/// Bytes of released output arrays kept for reuse (freed within a few seconds).
#[pyfunction]
fn cached_output_bytes() -> u128 {
    engine::buffer::cached_bytes()
}

/// The number of worker threads the calls from Python run on (`RAYON_NUM_THREADS`,
/// else the CPUs this process may use).
#[pyfunction]
fn worker_threads() -> usize {
    crate::pool::install(rayon::current_num_threads)
}

/// Let released output arrays wait `seconds` (0 to 3600) for reuse by the next
/// simulation of their size, from now on; the previous time (2 s unless changed).
#[pyfunction]
fn set_output_keep(py: Python<'_>, seconds: f64) -> PyResult<f64> {
    if !(0.0..=3600.0).contains(&seconds) {
        let e = crate::CoreError::invalid("seconds", format!("must be in [0, 3600], got {seconds}"));
        return Err(to_pyerr(py, e));
    }
    Ok(engine::buffer::set_keep(std::time::Duration::from_secs_f64(seconds)).as_secs_f64())
}

/// Memory this process can get now, in bytes: the least of the machine's `MemAvailable`, its
/// memory cgroup's headroom (a container's limit) and `ulimit -v`'s (None if unknown).
#[pyfunction]
fn available_memory() -> Option<u128> {
    engine::memory::available_memory()
}

/// The sum of the shocks a one-shock world draws for `n_paths` paths over
/// `horizon` months, with nothing else computed or stored: the random
/// numbers' share of a simulation's time, the benchmarks' floor (see
/// `engine::shock_normals_sum`). Runs without the GIL; Ctrl-C cancels.
#[pyfunction]
#[pyo3(signature = (n_paths, horizon, seed, threads=None))]
fn shock_normals_sum(py: Python<'_>, n_paths: u64, horizon: usize, seed: u64, threads: Option<usize>) -> PyResult<f64> {
    let control = Control::default();
    run_interruptible(py, &control, n_paths, None, || {
        engine::shock_normals_sum(seed, n_paths, horizon, threads, &control)
    })
}

/// Check `name` as a strategy name in any world: a ConfigError naming
/// `strategies.<name>` otherwise (the rules of a world's config).
#[pyfunction]
fn check_strategy_name(py: Python<'_>, name: &str) -> PyResult<()> {
    crate::config::parse::check_strategy_name(name)
        .map(|_| ())
        .map_err(|e| to_pyerr(py, e))
}

/// The memory of one output array of `simulate`: the array's base object.
/// When the last array or view on it goes, the buffer is released for reuse
/// by the next simulation of the same size (see `engine::buffer`).
#[pyclass(frozen, module = "geoscenario._core")]
struct OutputBuffer {
    data: Vec<f64>,
}

impl OutputBuffer {
    /// A read-only `shape` array over `data`, owned by a new `OutputBuffer`.
    fn into_array<'py>(
        py: Python<'py>,
        mut data: Vec<f64>,
        shape: (usize, usize),
    ) -> PyResult<Bound<'py, numpy::PyArray2<f64>>> {
        if shape.0.checked_mul(shape.1) != Some(data.len()) {
            return Err(to_pyerr(
                py,
                crate::CoreError::Numerical(format!("{} values cannot take the shape {shape:?}", data.len())),
            ));
        }
        // NumPy may write through the array: its pointer comes from a mutable borrow,
        // taken before `data` moves into the owner (a move leaves the heap block in place)
        let ptr = data.as_mut_ptr();
        let owner = Bound::new(py, OutputBuffer { data })?;
        // SAFETY: `ptr` addresses the `shape.0 · shape.1` values of the buffer `owner`
        // holds (checked above; a Vec's length fits an isize), which nothing else reads
        // or writes while the array lives: the class is frozen, never reallocates its
        // buffer, and is dropped only after the array and all its views.
        let view = unsafe { ndarray::ArrayView2::from_shape_ptr(shape, ptr.cast_const()) };
        // SAFETY: as above; the array's base is `owner`.
        let array = unsafe { numpy::PyArray2::borrow_from_array(&view, owner.clone().into_any()) };
        // read-only from the start: no writable view of it can exist, so an input that is
        // one of its views may be read without a copy with the GIL released (`input`)
        array.getattr("flags")?.setattr("writeable", false)?;
        Ok(array)
    }
}

impl Drop for OutputBuffer {
    fn drop(&mut self) {
        engine::buffer::release(std::mem::take(&mut self.data));
    }
}

/// A validated world (the core's half of `geoscenario.World`).
#[pyclass(frozen, module = "geoscenario._core", name = "CoreWorld")]
pub struct CoreWorld {
    world: World,
}

impl CoreWorld {
    pub(crate) fn world(&self) -> &World {
        &self.world
    }
}

#[pymethods]
impl CoreWorld {
    /// The embedded default world.
    #[staticmethod]
    fn default() -> Self {
        CoreWorld {
            world: World::default_world(),
        }
    }

    /// Parse and validate TOML text.
    #[staticmethod]
    fn from_toml(py: Python<'_>, text: &str) -> PyResult<Self> {
        let world = parse::world_from_toml(text).map_err(|e| to_pyerr(py, e))?;
        Ok(CoreWorld { world })
    }

    /// Validate a nested dict.
    #[staticmethod]
    fn from_dict(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        let value = convert::py_to_value(obj, "config").map_err(|e| to_pyerr(py, e))?;
        let world = parse::world_from_value(&value).map_err(|e| to_pyerr(py, e))?;
        Ok(CoreWorld { world })
    }

    /// TOML text that `from_toml` reads back to the same world.
    fn to_toml(&self) -> String {
        emit::world_to_toml(&self.world)
    }

    /// A nested dict that `from_dict` reads back to the same world.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::value_to_py(py, &emit::world_to_value(&self.world))
    }

    #[getter]
    fn name(&self) -> &str {
        &self.world.name
    }

    #[getter]
    fn horizon_months(&self) -> usize {
        self.world.horizon_months
    }

    #[getter]
    fn scenario_names(&self) -> Vec<String> {
        self.world.scenarios.iter().map(|s| s.name.clone()).collect()
    }

    #[getter]
    fn probabilities(&self) -> Vec<f64> {
        self.world.scenarios.iter().map(|s| s.probability).collect()
    }

    #[getter]
    fn base_scenario(&self) -> usize {
        self.world.base
    }

    /// (name, unit, kind) of every factor.
    #[getter]
    fn factors(&self) -> Vec<(String, String, String)> {
        self.world
            .factors
            .iter()
            .map(|f| (f.name.clone(), f.unit.clone(), f.kind.tag().to_string()))
            .collect()
    }

    /// (name, unit, kind) of every derived series.
    #[getter]
    fn derived(&self) -> Vec<(String, String, String)> {
        self.world
            .derived
            .iter()
            .map(|d| (d.name.clone(), d.unit.clone(), d.kind.tag().to_string()))
            .collect()
    }

    /// (name, {asset: weight}, cost_bps) of every strategy.
    #[getter]
    fn strategies(&self) -> Vec<StrategyInfo> {
        self.world
            .strategies
            .iter()
            .map(|s| {
                let w = s
                    .weights
                    .iter()
                    .map(|&(a, x)| (self.world.assets[a].name.clone(), x))
                    .collect();
                (s.name.clone(), w, s.cost_bps)
            })
            .collect()
    }

    /// (scenario, factor, parameter, value, source) of every per-scenario factor
    /// parameter in force, scenario by scenario in config order; `source` is
    /// "given" (set by the scenario), "base" (inherited from the base scenario)
    /// or "default" (the kind's default, nobody set it).
    fn parameters(&self) -> Vec<(String, String, &'static str, f64, &'static str)> {
        let w = &self.world;
        let mut out = Vec::new();
        for (si, s) in w.scenarios.iter().enumerate() {
            for (fi, f) in w.factors.iter().enumerate() {
                for (pi, spec) in param_specs(&f.kind).iter().enumerate() {
                    let (value, source) = w.param_in_force(si, fi, pi);
                    out.push((s.name.clone(), f.name.clone(), spec.name, value, source));
                }
            }
        }
        out
    }

    /// Names of the tradable assets.
    #[getter]
    fn assets(&self) -> Vec<String> {
        self.world.assets.iter().map(|a| a.name.clone()).collect()
    }

    /// Month labels "YYYY-MM" for t = 0..=horizon.
    fn month_labels(&self, py: Python<'_>, horizon: usize) -> PyResult<Vec<String>> {
        parse::check_horizon(horizon).map_err(|e| to_pyerr(py, e))?;
        Ok((0..=horizon).map(|t| self.world.start.plus(t).to_string()).collect())
    }

    /// Bytes a simulation of `n_paths` paths over `horizon` months returns.
    fn output_bytes(&self, py: Python<'_>, n_paths: u64, horizon: usize) -> PyResult<u128> {
        let model = Model::new(&self.world, horizon).map_err(|e| to_pyerr(py, e))?;
        Ok(engine::output_bytes(&model, n_paths))
    }

    /// Simulate global paths `start..end` of an `n_paths` simulation.
    ///
    /// Runs without the GIL; Ctrl-C cancels with KeyboardInterrupt; `progress`
    /// (if given) is called as `progress(paths_done, paths_total)` about ten
    /// times a second.
    #[pyo3(signature = (n_paths, horizon, seed, antithetic, threads, chunk_paths, start, end, progress=None, qmc=false))]
    #[allow(clippy::too_many_arguments)]
    fn simulate<'py>(
        &self,
        py: Python<'py>,
        n_paths: u64,
        horizon: usize,
        seed: u64,
        antithetic: bool,
        threads: Option<usize>,
        chunk_paths: usize,
        start: u64,
        end: u64,
        progress: Option<Bound<'py, PyAny>>,
        qmc: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let model = Model::new(&self.world, horizon).map_err(|e| to_pyerr(py, e))?;
        let req = SimRequest {
            n_paths,
            start,
            end,
            seed,
            antithetic,
            threads,
            chunk_paths,
            qmc,
            stream_out: None,
        };
        req.validate(&model).map_err(|e| to_pyerr(py, e))?;
        let control = Control::default();
        let total = end - start;
        let result = run_interruptible(py, &control, total, progress.as_ref(), || {
            engine::simulate(&model, &req, &control)
        })?;
        let n = (result.end - result.start) as usize;
        let w = result.horizon + 1;
        let out = PyDict::new(py);
        let series = PyDict::new(py);
        for (name, data) in model.names.iter().zip(result.series) {
            series.set_item(name, OutputBuffer::into_array(py, data, (n, w))?)?;
        }
        out.set_item("series", series)?;
        out.set_item("units", PyList::new(py, &model.units)?)?;
        out.set_item("scenario", result.scenario.into_pyarray(py))?;
        out.set_item("onset", result.onset.into_pyarray(py))?;
        match result.regimes {
            Some(r) => {
                let arr = Array2::from_shape_vec((n, w), r)
                    .map_err(|e| to_pyerr(py, crate::CoreError::Numerical(e.to_string())))?;
                out.set_item("regimes", arr.into_pyarray(py))?;
            }
            None => out.set_item("regimes", py.None())?,
        }
        out.set_item("counts", result.allocation.counts.clone())?;
        out.set_item("offsets", result.allocation.offsets.clone())?;
        Ok(out)
    }
}

/// The compiled half of geoscenario.
#[pymodule]
mod _core {
    use pyo3::prelude::*;

    #[pymodule_export]
    use super::calibrate::{backtest_run, calibrate_gbm_jumps, calibrate_log_ou, calibrate_ols, newey_west_lags};
    #[pymodule_export]
    use super::risk::{
        argsort, calibrated_mean_se, compensated_cumsum, efficient_frontier, entropy_pooling, gather_run, max_drawdown,
        mean_cvar, risk_table, sparsity_bandwidth, var_cvar, weighted_moments,
    };
    #[pymodule_export]
    use super::summary::{summarize_arrays, SummaryJob};
    #[pymodule_export]
    use super::{
        available_memory, cached_output_bytes, check_strategy_name, set_output_keep, shock_normals_sum, worker_threads,
        CoreWorld,
    };

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        m.add("MAX_PATHS", crate::engine::MAX_PATHS)?;
        m.add("MAX_HORIZON", crate::config::parse::MAX_HORIZON)?;
        m.add("MIN_PROBABILITY", crate::config::parse::MIN_PROBABILITY)?;
        m.add("MAX_VIEWS", crate::views::MAX_VIEWS)?;
        m.add("MAX_WEIGHT", crate::config::parse::MAX_WEIGHT)?;
        m.add("MAX_COST_BPS", crate::config::parse::MAX_COST_BPS)?;
        m.add("DEFAULT_CHUNK", crate::engine::DEFAULT_CHUNK)?;
        m.add("DEFAULT_WORLD_TOML", crate::config::DEFAULT_WORLD_TOML)?;
        // (kind, parameter, required in the base scenario, default, allowed interval, meaning)
        let specs: Vec<_> = crate::config::schema::KINDS
            .iter()
            .flat_map(|&(kind, specs)| {
                specs
                    .iter()
                    .map(move |p| (kind, p.name, p.required, p.default, p.rule.interval(), p.doc))
            })
            .collect();
        m.add("PARAMETER_SPECS", specs)?;
        // the engine's choices, read from the CPU and the environment once, here
        // under the GIL rather than lazily in a worker thread
        m.add("SIMD", crate::simd::name(crate::simd::level()))?;
        m.add("GATHERS", crate::simd::gathers())?;
        Ok(())
    }
}
