//! Running a compiled world: path ranges split across rayon, bit-identical
//! results whatever the thread count, chunk size or shard boundaries.

pub mod buffer;
pub mod kernel;
pub mod memory;
mod transpose;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::error::{grouped, human_bytes, CoreError, Result};
use crate::model::scenario::Allocation;
use crate::model::{Model, Regimes};
use kernel::{BlockOut, Ctx, Scratch};

/// Largest number of paths in one world (2^40).
pub const MAX_PATHS: u64 = 1 << 40;
/// Default paths per parallel work item.
pub const DEFAULT_CHUNK: usize = 2048;

/// Outputs at least this large are written with non-temporal stores (see
/// [`kernel::Ctx::stream_out`]): well past any cache, so caching the lines
/// being written would only cost the reads that fill them.
pub const STREAM_OUT_BYTES: u128 = 64 << 20;

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimRequest {
    /// Paths in the whole (possibly sharded) simulation; fixes the stratification.
    pub n_paths: u64,
    /// Global path range simulated here (the whole range unless sharding).
    pub start: u64,
    pub end: u64,
    pub seed: u64,
    pub antithetic: bool,
    /// None = rayon's global pool.
    pub threads: Option<usize>,
    pub chunk_paths: usize,
    /// Quasi-Monte Carlo shocks: scrambled Sobol points with a Brownian bridge.
    pub qmc: bool,
    /// Write the output with non-temporal stores ([`kernel::Ctx::stream_out`]);
    /// None: on x86-64 when it is at least [`STREAM_OUT_BYTES`]. Either way the
    /// bits are the same.
    pub stream_out: Option<bool>,
}

impl SimRequest {
    /// All `n_paths` paths.
    pub fn new(n_paths: u64, seed: u64) -> SimRequest {
        SimRequest {
            n_paths,
            start: 0,
            end: n_paths,
            seed,
            antithetic: false,
            threads: None,
            chunk_paths: DEFAULT_CHUNK,
            qmc: false,
            stream_out: None,
        }
    }

    /// Check the request against the limits; `model` fixes the output size.
    pub fn validate(&self, model: &Model) -> Result<()> {
        check_n_paths(self.n_paths)?;
        if self.start > self.end || self.end > self.n_paths {
            return Err(CoreError::invalid(
                "paths",
                format!("range {}..{} is not inside 0..{}", self.start, self.end, self.n_paths),
            ));
        }
        check_threads(self.threads)?;
        self.validate_qmc()?;
        if self.chunk_paths == 0 || self.chunk_paths > (1 << 24) {
            return Err(CoreError::invalid(
                "chunk_paths",
                format!("must be in [1, {}], got {}", 1 << 24, self.chunk_paths),
            ));
        }
        let needed = output_bytes(model, self.end - self.start);
        if let Some(avail) = memory::available_memory() {
            // released output buffers are freed or reused before allocating
            let avail = avail + buffer::cached_bytes();
            if needed > avail {
                return Err(CoreError::Resource {
                    what: format!(
                        "{} paths × {} months × {} series",
                        grouped(self.end - self.start),
                        model.horizon + 1,
                        model.n_outputs()
                    ),
                    needed: human_bytes(needed),
                    limit: format!("{} available", human_bytes(avail)),
                });
            }
        }
        Ok(())
    }
}

impl SimRequest {
    /// QMC needs one Sobol point per path and excludes antithetic pairs.
    pub fn validate_qmc(&self) -> Result<()> {
        if self.qmc && self.antithetic {
            return Err(CoreError::invalid(
                "qmc",
                "cannot be combined with antithetic=True (scrambled Sobol points are already balanced)",
            ));
        }
        if self.qmc && self.n_paths > crate::qmc::QmcShocks::MAX_POINTS {
            return Err(CoreError::invalid(
                "n_paths",
                format!(
                    "must be at most {} with qmc=True, got {}",
                    crate::qmc::QmcShocks::MAX_POINTS,
                    self.n_paths
                ),
            ));
        }
        Ok(())
    }

    /// The QMC shock generator of this request, if any.
    pub fn qmc_shocks(&self, model: &Model) -> Result<Option<crate::qmc::QmcShocks>> {
        if !self.qmc || model.n_shocks() == 0 {
            return Ok(None);
        }
        crate::qmc::QmcShocks::new(self.seed, model.horizon, model.n_shocks()).map(Some)
    }

    /// The kernel's context for this request's paths, allocated by `alloc`.
    pub fn ctx<'a>(&self, model: &'a Model, alloc: &'a Allocation, qmc: Option<&'a crate::qmc::QmcShocks>) -> Ctx<'a> {
        Ctx {
            model,
            alloc,
            seed: self.seed,
            antithetic: self.antithetic,
            qmc,
            stream_out: false,
        }
    }
}

/// Paths in a simulation: 1..=[`MAX_PATHS`].
fn check_n_paths(n: u64) -> Result<()> {
    if n == 0 || n > MAX_PATHS {
        return Err(CoreError::invalid(
            "n_paths",
            format!("must be an integer in [1, {MAX_PATHS}], got {n}"),
        ));
    }
    Ok(())
}

/// Worker threads: None (all cores) or 1..=1024.
pub fn check_threads(threads: Option<usize>) -> Result<()> {
    match threads {
        Some(t) if t == 0 || t > 1024 => Err(CoreError::invalid("threads", format!("must be in [1, 1024], got {t}"))),
        _ => Ok(()),
    }
}

/// Bytes of the arrays a simulation of `n` paths returns.
pub fn output_bytes(model: &Model, n: u64) -> u128 {
    let w = (model.horizon + 1) as u128;
    let n = n as u128;
    let series = model.n_outputs() as u128 * n * w * 8;
    let regimes = if matches!(model.regimes, Regimes::Markov { .. }) {
        n * w
    } else {
        0
    };
    series + regimes + n * 16
}

/// Cancellation and progress shared with the caller's thread.
#[derive(Debug, Default)]
pub struct Control {
    pub cancel: AtomicBool,
    pub paths_done: AtomicU64,
}

/// A caller's cancel flag for a solver's termination callback, which Clarabel
/// requires to be `'static`.
pub(crate) struct CancelFlag(*const AtomicBool);

// SAFETY: the pointer is only read, through an AtomicBool (Sync), and only while
// the flag is alive (the contract of `CancelFlag::new`).
unsafe impl Send for CancelFlag {}
unsafe impl Sync for CancelFlag {}

impl CancelFlag {
    /// # Safety
    /// `flag` must outlive every use of the result: drop the solver holding it
    /// while `flag` is still borrowed.
    pub(crate) unsafe fn new(flag: &AtomicBool) -> CancelFlag {
        CancelFlag(flag)
    }

    pub(crate) fn is_set(&self) -> bool {
        // SAFETY: the flag outlives every solver that reads it (`CancelFlag::new`).
        unsafe { (*self.0).load(Ordering::Relaxed) }
    }
}

/// The simulated paths of `start..end`.
#[derive(Debug)]
pub struct SimOutput {
    pub start: u64,
    pub end: u64,
    pub horizon: usize,
    /// One `(end − start) × (H + 1)` row-major array per output series.
    pub series: Vec<Vec<f64>>,
    /// Scenario index (static) or initial regime (Markov) of every path.
    pub scenario: Vec<i64>,
    /// Onset month of every path (−1: none).
    pub onset: Vec<i64>,
    /// Regime of every path and month (Markov mode).
    pub regimes: Option<Vec<u8>>,
    pub allocation: Allocation,
}

/// Simulate `req` under `model`.
pub fn simulate(model: &Model, req: &SimRequest, control: &Control) -> Result<SimOutput> {
    req.validate(model)?;
    let alloc = Allocation::new(&model.probabilities, req.n_paths as usize, req.antithetic)?;
    on_threads(req.threads, || run(model, req, alloc, control))
}

/// `f` on a pool of `threads` workers (None: the current pool); a pool the
/// system cannot start (memory, a limit on threads) is a resource error.
pub(crate) fn on_threads<R: Send>(threads: Option<usize>, f: impl FnOnce() -> Result<R> + Send) -> Result<R> {
    match threads {
        Some(t) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .map_err(|e| CoreError::Resource {
                    what: format!("a pool of worker threads ({e})"),
                    needed: format!("{t} threads"),
                    limit: "what the system could start".into(),
                })?;
            pool.install(f)
        }
        None => f(),
    }
}

/// The sum of the shocks a one-shock world draws for `n_paths` paths over
/// `horizon` months (normals `0..horizon` of stream SHOCKS of every path), with
/// nothing else computed or written: the random numbers' share of the time
/// of a simulation, which the benchmarks print as a floor. The sum is the
/// same whatever the thread count: chunks of [`DEFAULT_CHUNK`] paths, added
/// in order.
pub fn shock_normals_sum(
    seed: u64,
    n_paths: u64,
    horizon: usize,
    threads: Option<usize>,
    control: &Control,
) -> Result<f64> {
    check_n_paths(n_paths)?;
    crate::config::parse::check_horizon(horizon)?;
    check_threads(threads)?;
    let (chunk, chunks) = (DEFAULT_CHUNK as u64, n_paths.div_ceil(DEFAULT_CHUNK as u64));
    // chunks a group at a time, so that the chunks' sums take bounded memory
    const GROUP: u64 = 1024;
    on_threads(threads, || {
        let mut total = 0.0;
        for g in (0..chunks).step_by(GROUP as usize) {
            let sums: Vec<f64> = (g..chunks.min(g + GROUP))
                .into_par_iter()
                .map(|c| {
                    let first = c * chunk;
                    let n = chunk.min(n_paths - first);
                    if control.cancel.load(Ordering::Relaxed) {
                        return Err(CoreError::Cancelled);
                    }
                    let sum = crate::rng::across::normals_sum(seed, first, n, crate::rng::streams::SHOCKS, horizon);
                    control.paths_done.fetch_add(n, Ordering::Relaxed);
                    Ok(sum)
                })
                .collect::<Result<_>>()?;
            total = sums.iter().fold(total, |t, s| t + s);
        }
        Ok(total)
    })
}

/// One chunk's output slices: series, onset months, Markov regimes.
type ChunkWork<'a> = (Vec<&'a mut [f64]>, &'a mut [i64], Option<&'a mut [u8]>);

fn run(model: &Model, req: &SimRequest, alloc: Allocation, control: &Control) -> Result<SimOutput> {
    let n = (req.end - req.start) as usize;
    let w = model.horizon + 1;
    let markov = matches!(model.regimes, Regimes::Markov { .. });
    // every element is written by the kernel: reused buffers need no clearing
    let mut series = buffer::outputs(model.n_outputs(), n * w)?;
    let mut onset = vec![0i64; n];
    let mut regimes = if markov { Some(buffer::zeroed_u8(n * w)?) } else { None };
    let chunk = req.chunk_paths;
    let n_chunks = n.div_ceil(chunk);

    // split every output into per-chunk slices
    let mut work: Vec<ChunkWork> = Vec::with_capacity(n_chunks);
    let mut per_series: Vec<std::slice::ChunksMut<f64>> = series.iter_mut().map(|s| s.chunks_mut(chunk * w)).collect();
    let mut onset_chunks = onset.chunks_mut(chunk);
    let mut regime_chunks = regimes.as_mut().map(|r| r.chunks_mut(chunk * w));
    for _ in 0..n_chunks {
        let slices: Vec<&mut [f64]> = per_series.iter_mut().filter_map(|it| it.next()).collect();
        let on = onset_chunks.next().unwrap_or_default();
        let rg = regime_chunks.as_mut().and_then(|it| it.next());
        work.push((slices, on, rg));
    }

    let qmc = req.qmc_shocks(model)?;
    let mut ctx = req.ctx(model, &alloc, qmc.as_ref());
    // (elsewhere the stage would only add a copy: the stores are plain ones)
    ctx.stream_out = req
        .stream_out
        .unwrap_or_else(|| cfg!(target_arch = "x86_64") && output_bytes(model, n as u64) >= STREAM_OUT_BYTES);
    // A failing chunk (a series that is not finite) stops the chunks after it, but
    // those before it still run: the error reported is the first chunk's, so that it
    // names the same path whatever the threads.
    let earliest_bad = AtomicUsize::new(usize::MAX);
    let failure: Mutex<Option<(usize, CoreError)>> = Mutex::new(None);
    let cancelled = AtomicBool::new(false);
    work.into_par_iter().enumerate().for_each(|(c, (mut slices, on, rg))| {
        if control.cancel.load(Ordering::Relaxed) {
            cancelled.store(true, Ordering::Relaxed);
            return;
        }
        if c > earliest_bad.load(Ordering::Relaxed) {
            return;
        }
        let first = req.start + (c * chunk) as u64;
        let rows = on.len();
        let mut scratch = Scratch::new(model);
        let mut out = BlockOut {
            series: &mut slices,
            row0: 0,
            onset: on,
            regimes: rg,
        };
        match kernel::simulate_rows(&ctx, first, rows, &mut scratch, &mut out) {
            Ok(()) => {
                control.paths_done.fetch_add(rows as u64, Ordering::Relaxed);
            }
            Err(e) => {
                earliest_bad.fetch_min(c, Ordering::Relaxed);
                let mut f = failure.lock().unwrap_or_else(|p| p.into_inner());
                if f.as_ref().is_none_or(|(k, _)| c < *k) {
                    *f = Some((c, e));
                }
            }
        }
    });
    let failure = failure.into_inner().unwrap_or_else(|p| p.into_inner());
    if cancelled.into_inner() || failure.is_some() {
        // cancelled or failed: the output buffers go back for reuse, as those of a
        // finished run do (unmapping gigabytes here would hold up the caller)
        series.into_iter().for_each(buffer::release);
        return Err(match failure {
            Some((_, e)) if !control.cancel.load(Ordering::Relaxed) => e,
            _ => CoreError::Cancelled,
        });
    }

    let scenario = (req.start..req.end)
        .map(|p| alloc.scenario_of(p as usize) as i64)
        .collect();
    Ok(SimOutput {
        start: req.start,
        end: req.end,
        horizon: model.horizon,
        series,
        scenario,
        onset,
        regimes,
        allocation: alloc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shocks_sum_adds_the_chunks_in_order_whatever_the_threads() {
        // more than one group of chunks, the last chunk partial
        let n = 1025 * DEFAULT_CHUNK as u64 + 77;
        let control = Control::default();
        let mut want = 0.0;
        for first in (0..n).step_by(DEFAULT_CHUNK) {
            let m = (DEFAULT_CHUNK as u64).min(n - first);
            want += crate::rng::across::normals_sum(5, first, m, crate::rng::streams::SHOCKS, 2);
        }
        for threads in [Some(1), Some(3), None] {
            let got = shock_normals_sum(5, n, 2, threads, &control).unwrap();
            assert_eq!(got.to_bits(), want.to_bits(), "{threads:?}");
        }
        assert_eq!(control.paths_done.load(Ordering::Relaxed), 3 * n);
        // bad input is an error naming the parameter
        for (n, h, t, path) in [
            (0, 2, None, "n_paths"),
            (1, 0, None, "horizon_months"),
            (1, 2, Some(0), "threads"),
        ] {
            match shock_normals_sum(5, n, h, t, &control) {
                Err(CoreError::Invalid { path: p, .. }) => assert_eq!(p, path),
                other => panic!("{other:?}"),
            }
        }
        control.cancel.store(true, Ordering::Relaxed);
        assert!(matches!(
            shock_normals_sum(5, n, 2, None, &control),
            Err(CoreError::Cancelled)
        ));
    }
}
