//! Streaming summaries from Python: a job object whose passes can run here
//! or on remote workers (it pickles to its constructor arguments).

use std::sync::{Arc, OnceLock};

use numpy::PyUntypedArrayMethods;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

use super::errors::to_pyerr;
use super::{run_interruptible, CoreWorld};
use crate::config::{emit, parse, World};
use crate::engine::{Control, SimRequest};
use crate::model::Model;
use crate::summary::{
    check_memory, first_pass, grid_of, job_fingerprint, request_working_bytes, run_pass, Finisher, Partial, Pass,
    Reducer, SummarySpec, HIST_COPIES, LOCAL_COPIES,
};

/// (name, series, a, b, quantiles, thresholds, CVaR levels, mix, drawdown): a mix's
/// terms are (strategy, weight) pairs, and its `series` is empty; with `drawdown` the
/// reducer summarises the NAV's maximum drawdown to the month.
type ReducerArgs = (
    String,
    String,
    f64,
    f64,
    Vec<f64>,
    Vec<f64>,
    Vec<f64>,
    Vec<(String, f64)>,
    bool,
);

/// A streaming summary of `n_paths` paths of a world, pass by pass.
#[pyclass(module = "geoscenario._core")]
pub struct SummaryJob {
    world: World,
    reducers: Vec<ReducerArgs>,
    month: usize,
    n_paths: u64,
    horizon: usize,
    seed: u64,
    antithetic: bool,
    qmc: bool,
    model: Arc<Model>,
    spec: Arc<SummarySpec>,
    /// The fingerprint of the job's arguments, which its passes' and partials' bytes
    /// name, so that another job's are refused ([`SummaryJob::id`]); computed when bytes
    /// are first written or read (a job run in place ships none).
    id: OnceLock<u64>,
    finisher: Finisher,
    /// The pass to run next (the first is laid out when first asked for).
    pass: Option<Pass>,
    moments: Option<Partial>,
    result: Option<Vec<Vec<crate::summary::GroupStats>>>,
}

fn build_spec(model: &Model, reducers: &[ReducerArgs], month: usize) -> crate::Result<SummarySpec> {
    let mut out = Vec::new();
    let position = |series: &str| {
        model
            .names
            .iter()
            .position(|n| n == series)
            .ok_or_else(|| crate::CoreError::invalid("series", format!("{series:?} is not a series")))
    };
    for (name, series, a, b, quantiles, thresholds, cvar, terms, drawdown) in reducers {
        let mix = terms
            .iter()
            .map(|(s, w)| Ok((position(s)?, *w)))
            .collect::<crate::Result<Vec<_>>>()?;
        out.push(Reducer {
            name: name.clone(),
            output: if mix.is_empty() { position(series)? } else { mix[0].0 },
            mix,
            drawdown: *drawdown,
            a: *a,
            b: *b,
            quantiles: quantiles.clone(),
            thresholds: thresholds.clone(),
            cvar: cvar.clone(),
        });
    }
    Ok(SummarySpec { month, reducers: out })
}

impl SummaryJob {
    #[allow(clippy::too_many_arguments)]
    fn build(
        world: World,
        reducers: Vec<ReducerArgs>,
        month: usize,
        n_paths: u64,
        horizon: usize,
        seed: u64,
        antithetic: bool,
        qmc: bool,
    ) -> crate::Result<SummaryJob> {
        let model = Model::new(&world, horizon)?;
        let spec = build_spec(&model, &reducers, month)?;
        let finisher = Finisher::new(&model, &spec, n_paths, antithetic)?;
        let job = SummaryJob {
            world,
            reducers,
            month,
            n_paths,
            horizon,
            seed,
            antithetic,
            qmc,
            model: Arc::new(model),
            spec: Arc::new(spec),
            id: OnceLock::new(),
            finisher,
            pass: None,
            moments: None,
            result: None,
        };
        job.request().validate_summary(&job.model)?;
        // the reducers too, at once rather than when the first pass runs
        crate::summary::validate_spec(&job.model, &job.spec)?;
        Ok(job)
    }

    /// The job's fingerprint ([`job_fingerprint`]) of its world as emitted, whatever text
    /// it was read from (as a worker unpickling the job is given it, `__getnewargs__`),
    /// and of its other arguments.
    fn id(&self) -> u64 {
        *self.id.get_or_init(|| {
            let (toml, reducers) = (emit::world_to_toml(&self.world), &self.reducers);
            let (month, n_paths, horizon, seed) = (self.month, self.n_paths, self.horizon, self.seed);
            let (antithetic, qmc) = (self.antithetic, self.qmc);
            job_fingerprint(&format!(
                "{toml}\n{reducers:?}|{month}|{n_paths}|{horizon}|{seed}|{antithetic}|{qmc}"
            ))
        })
    }

    /// A request for all of the job's paths.
    fn request(&self) -> SimRequest {
        let mut req = SimRequest::new(self.n_paths, self.seed);
        req.antithetic = self.antithetic;
        req.qmc = self.qmc;
        req
    }

    /// The pass to run next; the first is laid out over its pilot paths when first asked
    /// for, refused if `copies` of its histograms and `working` bytes of a run would not
    /// fit in memory.
    fn current(&mut self, copies: u128, working: u128) -> crate::Result<&Pass> {
        let pass = match self.pass.take() {
            Some(p) => p,
            None => first_pass(&self.model, &self.spec, &self.request(), copies, working)?,
        };
        Ok(self.pass.insert(pass))
    }

    /// Take the partial of the whole range for the current pass: lay out the next pass,
    /// or finish the summary after the collecting pass. `here`: the request the partial's
    /// pass ran here with (the next runs alike), or None when it came as bytes (from
    /// workers).
    fn feed(&mut self, part: Partial, here: Option<&SimRequest>) -> crate::Result<()> {
        let (copies, working) = match here {
            Some(req) => (LOCAL_COPIES, request_working_bytes(&self.model, &self.spec, req)),
            None => (HIST_COPIES, 0),
        };
        self.finisher.working = working;
        let current = self.current(copies, working)?.clone();
        if part.start != 0 || part.end != self.n_paths || part.pass != current {
            let what = if part.pass == current {
                format!("paths {}..{}", part.start, part.end)
            } else {
                "a partial of another pass".to_string()
            };
            return Err(crate::CoreError::invalid(
                "merged",
                format!("expected the current pass over paths 0..{}, got {what}", self.n_paths),
            ));
        }
        self.finisher
            .check_counts(&self.spec, &part)
            .map_err(|what| match here {
                None => crate::CoreError::invalid(
                    "merged",
                    format!("{what}: not a partial of this job's paths (a shard of another job, or altered counts)"),
                ),
                // a pass run here adds up unless the engine has a bug
                Some(_) => crate::CoreError::Numerical(format!("internal error, please report it: {what}")),
            })?;
        match current {
            Pass::Moments(_) | Pass::Refine(_) => {
                // (refused for memory, the finisher is left as it was: the same partial
                // can be fed again)
                self.pass = Some(self.finisher.next_after(&part, copies)?);
                if matches!(part.pass, Pass::Moments(_)) {
                    self.moments = Some(part);
                }
            }
            Pass::Collect(..) => {
                let moments = self
                    .moments
                    .as_ref()
                    .ok_or_else(|| crate::CoreError::invalid("merged", "passes fed out of order"))?;
                self.result = Some(self.finisher.finish(&self.spec, moments, &part));
            }
        }
        Ok(())
    }
}

#[pymethods]
impl SummaryJob {
    #[new]
    #[pyo3(signature = (world_toml, reducers, month, n_paths, horizon, seed, antithetic, qmc=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        world_toml: String,
        reducers: Vec<ReducerArgs>,
        month: usize,
        n_paths: u64,
        horizon: usize,
        seed: u64,
        antithetic: bool,
        qmc: bool,
    ) -> PyResult<Self> {
        let world = parse::world_from_toml(&world_toml).map_err(|e| to_pyerr(py, e))?;
        SummaryJob::build(world, reducers, month, n_paths, horizon, seed, antithetic, qmc).map_err(|e| to_pyerr(py, e))
    }

    /// Build a job for `world` (a CoreWorld), without parsing TOML (its fingerprint
    /// hashes the world as emitted).
    #[staticmethod]
    #[pyo3(signature = (world, reducers, month, n_paths, horizon, seed, antithetic, qmc=false))]
    #[allow(clippy::too_many_arguments)]
    fn for_world(
        py: Python<'_>,
        world: &CoreWorld,
        reducers: Vec<ReducerArgs>,
        month: usize,
        n_paths: u64,
        horizon: usize,
        seed: u64,
        antithetic: bool,
        qmc: bool,
    ) -> PyResult<Self> {
        SummaryJob::build(
            world.world().clone(),
            reducers,
            month,
            n_paths,
            horizon,
            seed,
            antithetic,
            qmc,
        )
        .map_err(|e| to_pyerr(py, e))
    }

    /// Constructor arguments, so that workers rebuild the job by unpickling.
    fn __getnewargs__(&self) -> (String, Vec<ReducerArgs>, usize, u64, usize, u64, bool, bool) {
        (
            emit::world_to_toml(&self.world),
            self.reducers.clone(),
            self.month,
            self.n_paths,
            self.horizon,
            self.seed,
            self.antithetic,
            self.qmc,
        )
    }

    /// The pass to run next (bytes), or None when the summary is complete.
    fn next_pass<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        if self.result.is_some() {
            return Ok(None);
        }
        let pass = self.current(HIST_COPIES, 0).map_err(|e| to_pyerr(py, e))?.clone();
        // (a pass laid out to run here was checked for fewer copies than shipping makes;
        // this process holds its bytes and the partials', not a run's buffers)
        let checked = match &pass {
            Pass::Moments(maps) => check_memory(&self.model, &self.spec, grid_of(maps), HIST_COPIES, 0),
            _ => self.finisher.check_next(&pass, HIST_COPIES, 0),
        };
        checked.map_err(|e| to_pyerr(py, e))?;
        Ok(Some(PyBytes::new(py, &pass.to_bytes_for(self.id()))))
    }

    /// Run `pass` over global paths `start..end`; returns the partial as bytes.
    #[pyo3(signature = (pass_bytes, start, end, threads=None, chunk_paths=2048, progress=None))]
    #[allow(clippy::too_many_arguments)]
    fn run<'py>(
        &self,
        py: Python<'py>,
        pass_bytes: &[u8],
        start: u64,
        end: u64,
        threads: Option<usize>,
        chunk_paths: usize,
        progress: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let pass = Pass::from_bytes_for(pass_bytes, Some(self.id())).map_err(|e| to_pyerr(py, e))?;
        let mut req = self.request();
        req.start = start;
        req.end = end;
        req.threads = threads;
        req.chunk_paths = chunk_paths;
        let control = Control::default();
        let (model, spec) = (self.model.clone(), self.spec.clone());
        let part = run_interruptible(py, &control, end.saturating_sub(start), progress.as_ref(), || {
            run_pass(&model, &spec, &req, pass, &control, HIST_COPIES)
        })?;
        Ok(PyBytes::new(py, &part.to_bytes_for(self.id())))
    }

    /// Run the current pass over all the job's paths here and feed its partial, without
    /// the trip through bytes that [`run`](Self::run) and [`advance`](Self::advance) take
    /// for remote workers: a partial's histograms or collected values are never held
    /// twice, and a pass is refused for memory only if three copies would not fit (with
    /// the simulation's buffers), not six. Same bits as
    /// `advance(run(next_pass(), 0, n_paths, ...))`.
    #[pyo3(signature = (threads=None, chunk_paths=2048, progress=None))]
    fn run_current(
        slf: &Bound<'_, Self>,
        threads: Option<usize>,
        chunk_paths: usize,
        progress: Option<Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let py = slf.py();
        // the job is borrowed only before and after the pass, not while it runs without
        // the GIL (a progress callback, or another thread, may read it meanwhile)
        let (model, spec, pass, req, n) = {
            // (a job in use by another thread is a RuntimeError, as for any method)
            let mut job = slf.try_borrow_mut()?;
            if job.result.is_some() {
                return Err(to_pyerr(
                    py,
                    crate::CoreError::invalid("run_current", "the summary is complete"),
                ));
            }
            let mut req = job.request();
            req.threads = threads;
            req.chunk_paths = chunk_paths;
            let working = request_working_bytes(&job.model, &job.spec, &req);
            let pass = job.current(LOCAL_COPIES, working).map_err(|e| to_pyerr(py, e))?.clone();
            (job.model.clone(), job.spec.clone(), pass, req, job.n_paths)
        };
        let control = Control::default();
        let part = run_interruptible(py, &control, n, progress.as_ref(), || {
            run_pass(&model, &spec, &req, pass, &control, LOCAL_COPIES)
        })?;
        slf.try_borrow_mut()?
            .feed(part, Some(&req))
            .map_err(|e| to_pyerr(py, e))
    }

    /// Join partials of adjacent ranges, in range order.
    fn merge<'py>(&self, py: Python<'py>, parts: Vec<Vec<u8>>) -> PyResult<Bound<'py, PyBytes>> {
        let mut it = parts.iter();
        let first = it
            .next()
            .ok_or_else(|| to_pyerr(py, crate::CoreError::invalid("parts", "give at least one partial")))?;
        let read = |b: &[u8]| {
            let p = Partial::from_bytes_for(b, Some(self.id()))?;
            p.check_layout(&self.spec, self.model.n_scenarios)?;
            Ok(p)
        };
        let mut acc = read(first).map_err(|e| to_pyerr(py, e))?;
        for b in it {
            let p = read(b).map_err(|e| to_pyerr(py, e))?;
            acc.merge(&p).map_err(|e| to_pyerr(py, e))?;
        }
        Ok(PyBytes::new(py, &acc.to_bytes_for(self.id())))
    }

    /// Feed the merged partial of the whole range for the current pass.
    fn advance(&mut self, py: Python<'_>, merged: &[u8]) -> PyResult<()> {
        Partial::from_bytes_for(merged, Some(self.id()))
            .and_then(|p| p.check_layout(&self.spec, self.model.n_scenarios).map(|()| p))
            .and_then(|p| self.feed(p, None))
            .map_err(|e| to_pyerr(py, e))
    }

    /// The statistics: one dict per (reducer, group); group = scenario index or -1 for all.
    fn result<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let res = self
            .result
            .as_ref()
            .ok_or_else(|| to_pyerr(py, crate::CoreError::invalid("result", "the summary has passes left")))?;
        stats_to_py(py, &self.spec, self.model.n_scenarios, res, self.qmc)
    }

    /// Whether every pass has been fed (the statistics are ready).
    #[getter]
    fn complete(&self) -> bool {
        self.result.is_some()
    }

    /// Scenario path counts of the stratified allocation.
    #[getter]
    fn counts(&self) -> Vec<u64> {
        self.finisher.n.clone()
    }

    /// Every reducer's value on each path of a materialised run of the job (J × n,
    /// reducer by reducer, as [`summarize_arrays`] takes them): `series` maps output
    /// names to their `(n_paths, horizon + 1)` paths, in any layout (a simulation's
    /// own paths are read without a copy; others are copied at the months read). Each
    /// series' or mix's NAV (once for all its reducers) and each maximum drawdown are
    /// computed here as a streamed summary computes them, so the two have the same bits.
    /// The array is read-only, on an engine output buffer: [`summarize_arrays`] reads
    /// it without a copy.
    fn values<'py>(&self, py: Python<'py>, series: &Bound<'py, PyDict>) -> PyResult<Bound<'py, numpy::PyArray2<f64>>> {
        let (n, w, j) = (self.n_paths as usize, self.horizon + 1, self.spec.reducers.len());
        let (spec, month) = (&self.spec, self.spec.month);
        // the distinct series and mixes read (a mix's return, loss and drawdown share its
        // NAV, computed once per block), and the months each is read at: 0..=month where a
        // drawdown runs over it, else the month alone
        let mut sources: Vec<(usize, &[(usize, f64)])> = Vec::new();
        let mut readers: Vec<Vec<usize>> = Vec::new(); // each source's reducers
        let mut months_of = Vec::new();
        for (i, red) in spec.reducers.iter().enumerate() {
            // what the reducer's NAV reads: its series, or its mix's terms
            let source = match red.mix.is_empty() {
                true => (red.output, &[][..]),
                false => (usize::MAX, &red.mix[..]),
            };
            let k = sources.iter().position(|s| *s == source).unwrap_or_else(|| {
                sources.push(source);
                readers.push(Vec::new());
                months_of.push(1);
                sources.len() - 1
            });
            readers[k].push(i);
            if red.drawdown {
                months_of[k] = month + 1;
            }
        }
        // each output read, from the first month any source reads it at
        let mut from: Vec<Option<usize>> = vec![None; self.model.names.len()];
        for (&(output, mix), &width) in sources.iter().zip(&months_of) {
            let outputs = if mix.is_empty() {
                vec![output]
            } else {
                mix.iter().map(|&(o, _)| o).collect()
            };
            for o in outputs {
                from[o] = Some(from[o].map_or(month + 1 - width, |f| f.min(month + 1 - width)));
            }
        }
        let mut arrays = Vec::new();
        for (o, first) in from.iter().enumerate().filter_map(|(o, f)| f.map(|f| (o, f))) {
            let name = &self.model.names[o];
            let item = series
                .get_item(name)?
                .ok_or_else(|| to_pyerr(py, crate::CoreError::invalid("series", format!("has no {name:?}"))))?;
            arrays.push((o, first, item.extract::<numpy::PyReadonlyArray2<'py, f64>>()?));
        }
        let mut cols = vec![(std::borrow::Cow::Borrowed(&[][..]), 0, 0); self.model.names.len()];
        for (o, first, arr) in &arrays {
            let shape = arr.shape();
            if shape != [n, w] {
                return Err(to_pyerr(
                    py,
                    crate::CoreError::invalid(
                        "series",
                        format!(
                            "{:?} must have shape ({n}, {w}), got ({}, {})",
                            self.model.names[*o], shape[0], shape[1]
                        ),
                    ),
                ));
            }
            cols[*o] =
                super::input::columns(arr, *first..month + 1, &self.model.names[*o]).map_err(|e| to_pyerr(py, e))?;
        }
        crate::summary::check_values_memory(j, n).map_err(|e| to_pyerr(py, e))?;
        // a released buffer of this size first (the last call's, say): every value is
        // written below
        let mut out = crate::engine::buffer::outputs(1, j * n)
            .map_err(|e| to_pyerr(py, e))?
            .pop()
            .unwrap_or_default();
        // blocks of paths (their months of every series read in L2), each block's
        // values of every reducer: `by_block[c][i]` is reducer i on block c's paths
        const ROWS: usize = 512;
        let mut by_block: Vec<Vec<&mut [f64]>> = (0..n.div_ceil(ROWS)).map(|_| Vec::with_capacity(j)).collect();
        for row in out.chunks_mut(n.max(1)) {
            for (c, part) in row.chunks_mut(ROWS).enumerate() {
                by_block[c].push(part);
            }
        }
        super::detached(py, || {
            use rayon::prelude::*;
            by_block.into_par_iter().enumerate().for_each(|(c, mut parts)| {
                let r0 = c * ROWS;
                let rows = parts.first().map_or(0, |p| p.len());
                // source by source (the block's series stay in cache): its NAV on the
                // block's paths, months 0..=month or the month alone, then its reducers
                let mut nav = Vec::with_capacity(rows * (month + 1));
                for (k, readers) in readers.iter().enumerate() {
                    let width = months_of[k];
                    let from = month + 1 - width;
                    // the path's months `from..=month` of output o
                    let months = |o: usize, r: usize| {
                        let (data, stride, first) = &cols[o];
                        &data[(r0 + r) * stride + from - first..][..width]
                    };
                    nav.clear();
                    match sources[k] {
                        (o, []) => (0..rows).for_each(|r| nav.extend_from_slice(months(o, r))),
                        (_, mix) => {
                            // summed from 1 term by term, as `Reducer::nav` sums a mix: the same bits
                            nav.resize(rows * width, 1.0);
                            for &(o, w) in mix {
                                for (r, row) in nav.chunks_exact_mut(width).enumerate() {
                                    for (v, x) in row.iter_mut().zip(months(o, r)) {
                                        *v += w * (x - 1.0);
                                    }
                                }
                            }
                        }
                    }
                    for &i in readers {
                        spec.reducers[i].values_of(|r, m| nav[r * width + m - from], month, parts[i]);
                    }
                }
            });
        });
        let arr = super::OutputBuffer::into_array(py, out, (j, n))?;
        arr.getattr("flags")?.setattr("writeable", false)?;
        Ok(arr)
    }
}

/// The job's statistics computed from materialised values (J × n: one row per
/// reducer of the job, in order, one column per path) with scenario probabilities
/// `probabilities`: the same bits as the streaming passes over the same paths.
#[pyfunction]
pub fn summarize_arrays<'py>(
    py: Python<'py>,
    job: &SummaryJob,
    values: numpy::PyReadonlyArray2<'py, f64>,
    scenario: numpy::PyReadonlyArray1<'py, i64>,
    probabilities: Vec<f64>,
) -> PyResult<Bound<'py, PyList>> {
    let j = job.spec.reducers.len();
    let shape = values.as_array().shape().to_vec();
    let n = job.n_paths as usize;
    if shape != [j, n] {
        return Err(to_pyerr(
            py,
            crate::CoreError::invalid("values", format!("must have shape ({j}, {n}), got {shape:?}")),
        ));
    }
    // borrowed from `SummaryJob::values`' read-only buffer, else copied
    let (vals, _, _) = super::input::slice2(&values, "values").map_err(|e| to_pyerr(py, e))?;
    let scen_i = scenario
        .as_slice()
        .map_err(|_| to_pyerr(py, crate::CoreError::invalid("scenario", "must be contiguous")))?;
    if scen_i.len() != n {
        return Err(to_pyerr(
            py,
            crate::CoreError::invalid(
                "scenario",
                format!("must have the job's {n} paths, got {}", scen_i.len()),
            ),
        ));
    }
    if probabilities.len() != job.model.n_scenarios {
        return Err(to_pyerr(
            py,
            crate::CoreError::invalid(
                "probabilities",
                format!(
                    "must have the job's {} scenarios, got {}",
                    job.model.n_scenarios,
                    probabilities.len()
                ),
            ),
        ));
    }
    let k = job.model.n_scenarios;
    if let Some((i, s)) = scen_i.iter().enumerate().find(|(_, &s)| !(0..k as i64).contains(&s)) {
        return Err(to_pyerr(
            py,
            crate::CoreError::invalid(
                "scenario",
                format!("must hold scenario indices in [0, {k}), got {s} at {i}"),
            ),
        ));
    }
    if let Some(p) = probabilities.iter().find(|p| !(0.0..=1.0).contains(*p)) {
        return Err(to_pyerr(
            py,
            crate::CoreError::invalid("probabilities", format!("must be probabilities in [0, 1], got {p}")),
        ));
    }
    let scen: Vec<u8> = scen_i.iter().map(|&s| s as u8).collect();
    let alloc = crate::model::scenario::Allocation::new(&job.model.probabilities, n, job.antithetic)
        .map_err(|e| to_pyerr(py, e))?;
    // each path's scenario is the job's: the sums are indexed by the path's place in its block
    let mismatch = (0..k).find(|&s| {
        scen[alloc.offsets[s]..alloc.offsets[s] + alloc.counts[s]]
            .iter()
            .any(|&x| x as usize != s)
    });
    if let Some(s) = mismatch {
        return Err(to_pyerr(
            py,
            crate::CoreError::invalid(
                "scenario",
                format!("does not give scenario {s} the job's block of paths"),
            ),
        ));
    }
    // the histograms of a pass run in place (over values already in memory: no wave)
    let grid = crate::summary::bins::grid_bins(scen.len() as u64);
    check_memory(&job.model, &job.spec, grid, LOCAL_COPIES, 0).map_err(|e| to_pyerr(py, e))?;
    let shifts = crate::summary::shifts(&job.model, &job.spec);
    let spec = job.spec.clone();
    let res = super::detached(py, || {
        crate::summary::summarize_values(&spec, &probabilities, &alloc, &shifts, &vals, &scen)
    })
    .map_err(|e| to_pyerr(py, e))?;
    stats_to_py(py, &spec, job.model.n_scenarios, &res, job.qmc)
}

/// One dict per (reducer, group); group = scenario index, or −1 for all paths.
/// A quasi-Monte Carlo run has no standard error (its paths are not independent;
/// an error estimate needs independent randomisations): NaN.
fn stats_to_py<'py>(
    py: Python<'py>,
    spec: &SummarySpec,
    k: usize,
    res: &[Vec<crate::summary::GroupStats>],
    qmc: bool,
) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for (ri, groups) in res.iter().enumerate() {
        for (g, st) in groups.iter().enumerate() {
            let d = PyDict::new(py);
            d.set_item("reducer", &spec.reducers[ri].name)?;
            d.set_item("group", if g == k { -1 } else { g as i64 })?;
            d.set_item("mass", st.mass)?;
            d.set_item("mean", st.mean)?;
            d.set_item("mean_se", if qmc { f64::NAN } else { st.mean_se })?;
            d.set_item("std", st.std)?;
            d.set_item("quantiles", st.quantiles.clone())?;
            let quantiles_se = if qmc {
                vec![f64::NAN; st.quantiles_se.len()]
            } else {
                st.quantiles_se.clone()
            };
            d.set_item("quantiles_se", quantiles_se)?;
            d.set_item("p_above", st.p_above.clone())?;
            let p_above_se = if qmc {
                vec![f64::NAN; st.p_above_se.len()]
            } else {
                st.p_above_se.clone()
            };
            d.set_item("p_above_se", p_above_se)?;
            d.set_item("var_cvar", st.var_cvar.clone())?;
            let var_cvar_se = if qmc {
                vec![(f64::NAN, f64::NAN); st.var_cvar_se.len()]
            } else {
                st.var_cvar_se.clone()
            };
            d.set_item("var_cvar_se", var_cvar_se)?;
            d.set_item("tail_share", st.tail_share.clone())?;
            out.append(d)?;
        }
    }
    Ok(out)
}
