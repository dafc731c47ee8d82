//! Summaries without materialised paths: weighted moments, exact quantiles,
//! threshold probabilities and CVaR at one month, by scenario and overall.
//!
//! The statistics are computed from mergeable partial states over path
//! ranges ([`Partial`]), so a range can be split across threads, processes
//! or machines and the merged result has the same bits as one pass over all
//! paths: moments use canonical pairwise sums ([`dyadic`]), counts are
//! integers, and quantiles are found exactly by narrowing the bin that holds
//! each one ([`bins`]): the first pass counts values on a grid laid over a
//! pilot sample's range, and the second collects the values of each
//! quantile's bin (a bin with too many values is first cut into finer bins
//! by another pass). Every pass re-simulates its paths from the
//! counter-based streams, so memory stays bounded whatever the path count.
//!
//! Means and standard deviations take two passes, as the textbook two-pass
//! variance: the first pass's sums give each scenario's mean c, and the
//! collecting pass sums (v − c) and (v − c)² (so no digits cancel however far
//! the values lie from zero or from each other); the groups combine scenarios
//! by the law of total variance.

pub mod bins;
pub mod dyadic;
pub mod quantile;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;

use rayon::prelude::*;

use crate::engine::kernel::{self, BlockOut, Ctx, Scratch};
use crate::engine::memory::refuse_beyond_memory;
use crate::engine::{Control, SimRequest};
use crate::error::{CoreError, Result};
use crate::model::scenario::Allocation;
use crate::model::Model;
use bins::{contains, grid_bins, pilot_runs, sub_bin, sub_window, BinMap, Window, SUB_BINS};
use dyadic::{take_u64, DyadicSum};
use quantile::{cdf, effective_paths, key, sparsity_bandwidth, target, unkey};

/// Distinct keys (about 160 MB) the windows of a collecting pass may expect to hold
/// together, and each window that holds a VaR on its own (weighed alone, so that its
/// CVaR does not depend on the other series: [`Finisher::next_pass`]); above it,
/// windows are cut finer first. A pass of many VaR windows may hold more, within the
/// memory its check allows.
const COLLECT_BUDGET: u64 = 1 << 22;

/// Copies of a pass's histograms or collected values alive at its peak when its
/// partials travel as bytes (to and from workers): the accumulator, its bytes, the
/// Python bytes object, the copy read back, the merged partial and slack.
pub const HIST_COPIES: u128 = 6;

/// The same when the pass runs in place ([`summarize`], `SummaryJob.run_current`): the
/// accumulator, a collecting pass's keys again as the statistics sort them (their
/// per-scenario counts in a vector each: about 1.6 copies), and slack. The simulation's
/// own buffers are counted besides ([`working_bytes`]).
pub const LOCAL_COPIES: u128 = 3;

/// At most this many bytes of reduced values per wave of chunks (a wave of 64 chunks
/// keeps the threads busy; fewer chunks keep memory bounded with many series).
const WAVE_BYTES: usize = 256 << 20;

/// Paths per chunk and per wave of chunks: a wave holds whole chunks, at most 64 and at
/// least two per thread, their values within [`WAVE_BYTES`]; with many series the chunks
/// shrink (to 64 paths at the least) so that two per thread still fit. Chunks are
/// absorbed in path order whatever their size, so results depend on neither.
fn wave_layout(chunk_paths: usize, reducers: usize, threads: usize) -> (usize, u64) {
    let per_path = reducers.max(1) * std::mem::size_of::<f64>();
    let least = (2 * threads).clamp(1, 64);
    let chunk = chunk_paths
        .clamp(1, 1 << 14)
        .min((WAVE_BYTES / (least * per_path)).max(64));
    (
        chunk,
        (chunk * (WAVE_BYTES / (chunk * per_path)).clamp(least, 64)) as u64,
    )
}

/// [`wave_layout`] of a run on `threads` threads, whose chunks hold whole antithetic
/// pairs under `antithetic` (the range starts at an even path).
fn run_layout(chunk_paths: usize, reducers: usize, threads: usize, antithetic: bool) -> (usize, u64) {
    let (chunk, wave) = wave_layout(chunk_paths, reducers, threads);
    match antithetic && chunk % 2 == 1 {
        true => (chunk + 1, wave / chunk as u64 * (chunk as u64 + 1)),
        false => (chunk, wave),
    }
}

/// Bytes a run of `req`'s range on `threads` threads holds besides its partial: a
/// wave's reduced values and scenarios, all held until the wave is absorbed (at most
/// the range's), and each busy thread's chunk of paths (every series, every month).
pub fn working_bytes(model: &Model, spec: &SummarySpec, req: &SimRequest, threads: usize) -> u128 {
    let (chunk, wave) = run_layout(req.chunk_paths, spec.reducers.len(), threads, req.antithetic);
    let paths = req.end.saturating_sub(req.start).max(1);
    let (wave, rows) = (wave.min(paths) as u128, (chunk as u64).min(paths) as u128);
    let busy = (threads as u128).min(paths.div_ceil(chunk as u64) as u128);
    let per_path = (spec.reducers.len() * std::mem::size_of::<f64>() + 1) as u128;
    let path = (model.n_outputs() * (model.horizon + 1) * std::mem::size_of::<f64>()) as u128;
    wave * per_path + busy * rows * path
}

/// [`working_bytes`] of a request's run (on its threads, or the pool's).
pub fn request_working_bytes(model: &Model, spec: &SummarySpec, req: &SimRequest) -> u128 {
    working_bytes(model, spec, req, req.threads.unwrap_or_else(rayon::current_num_threads))
}

/// The grid of a first pass's `maps` (they share it: [`grid_bins`] of the run's size
/// when the pass comes from [`first_pass`]).
pub fn grid_of(maps: &[BinMap]) -> usize {
    maps.first().map_or(0, |m| m.grid)
}

/// Refuse a summary whose first-pass histograms on a grid of `grid` bins (a count per
/// bin, summarised quantity and scenario; [`grid_bins`] of the run's size), `copies`
/// of them at once and `working` bytes besides (a run's buffers, [`working_bytes`]),
/// would not fit in the memory available, before they are allocated.
pub fn check_memory(model: &Model, spec: &SummarySpec, grid: usize, copies: u128, working: u128) -> Result<()> {
    let (j, k) = (spec.reducers.len(), model.n_scenarios);
    let bins = grid + 2;
    let hist = (j as u128) * (k as u128) * (bins as u128) * std::mem::size_of::<u64>() as u128;
    refuse_beyond_memory(hist, copies, working, |size| {
        format!(
            "a summary of {j} quantities (a series each; a strategy or mix of a risk table three: its \
             return, loss and drawdown) over {k} scenarios ({}; summarise fewer series or strategies per \
             call)",
            sizes(Some(format!("{size} of histograms per copy")), working)
        )
    })
}

/// A `Resource` error if the values of `j` reducers on `n` paths (one double each,
/// as a materialised summary computes them) exceed the memory available, counting
/// the released output buffers the allocation reuses or frees first.
pub fn check_values_memory(j: usize, n: usize) -> Result<()> {
    let bytes = (j as u128) * (n as u128) * std::mem::size_of::<f64>() as u128;
    let avail = crate::engine::memory::available_memory().map(|a| a + crate::engine::buffer::cached_bytes());
    match avail {
        Some(avail) if bytes > avail => Err(CoreError::Resource {
            what: format!(
                "the values of {j} quantities (a series each; a strategy or mix of a risk table three) \
                 on {n} paths (summarise fewer series, strategies or mixes per call)"
            ),
            needed: crate::error::human_bytes(bytes),
            limit: format!("{} available", crate::error::human_bytes(avail)),
        }),
        _ => Ok(()),
    }
}

/// Bytes a collected key takes in a pass's maps (a B-tree entry of two u64 with
/// its share of the node), for weighing collecting against cutting finer.
const KEY_BYTES: f64 = 40.0;

/// Bytes a collected antithetic pair takes in a pass's maps (a B-tree entry of three
/// u64 with its share of the node).
const PAIR_KEY_BYTES: f64 = 60.0;

/// One summarised quantity: v = a + b·x with x series `output` at the summary month,
/// or, for a buy-and-hold mix of NAVs (`mix` not empty), x = 1 + Σ_j w_j (NAV_j − 1);
/// with `drawdown`, x is instead that NAV's maximum drawdown over months 0 to the
/// summary month, max_t (1 − NAV_t / max_{s≤t} NAV_s), as [`crate::risk::max_drawdown`].
#[derive(Debug, Clone, PartialEq)]
pub struct Reducer {
    pub name: String,
    pub output: usize,
    /// A mix's (output, weight) terms, in the order summed; empty for one series.
    pub mix: Vec<(usize, f64)>,
    /// Summarise the NAV's maximum drawdown to the month, not its value there.
    pub drawdown: bool,
    pub a: f64,
    pub b: f64,
    /// Quantile levels reported for it.
    pub quantiles: Vec<f64>,
    /// Levels c for P(v > c).
    pub thresholds: Vec<f64>,
    /// CVaR levels α (v read as a loss): CVaR_α = VaR_α + E[(v − VaR_α)+]/(1 − α).
    pub cvar: Vec<f64>,
}

impl Reducer {
    /// Whether the first pass fills its histogram: not for a reducer without quantiles
    /// or CVaR (a mean drawdown), which has no use for it.
    pub fn has_histogram(&self) -> bool {
        !(self.quantiles.is_empty() && self.cvar.is_empty())
    }

    /// The series' value, or a mix's NAV, given each output's value. A mix is summed
    /// from 1 term by term in the order given, the order of `Simulation.mix_nav`, so
    /// that streamed and materialised mixes have the same bits.
    #[inline]
    fn nav(&self, x: impl Fn(usize) -> f64) -> f64 {
        if self.mix.is_empty() {
            x(self.output)
        } else {
            self.mix.iter().fold(1.0, |v, &(j, w)| v + w * (x(j) - 1.0))
        }
    }

    /// The values summarised on `out.len()` paths, given each output's value on each
    /// path at each month (`x(output, path, month)`): a + b·x at `month`, or
    /// a + b·(maximum drawdown to `month`).
    pub fn values(&self, x: impl Fn(usize, usize, usize) -> f64, month: usize, out: &mut [f64]) {
        self.values_of(|r, m| self.nav(|o| x(o, r, m)), month, out);
    }

    /// [`Reducer::values`] given the series' value, or the mix's NAV, on each path at
    /// each month (`nav(path, month)`, as `Reducer::nav` computes it).
    pub fn values_of(&self, nav: impl Fn(usize, usize) -> f64, month: usize, out: &mut [f64]) {
        if self.drawdown {
            crate::risk::drawdowns_into(month + 1, nav, out);
            for v in out.iter_mut() {
                *v = self.a + self.b * *v;
            }
        } else {
            for (r, v) in out.iter_mut().enumerate() {
                *v = self.a + self.b * nav(r, month);
            }
        }
    }
}

/// What to summarise.
#[derive(Debug, Clone, PartialEq)]
pub struct SummarySpec {
    pub month: usize,
    pub reducers: Vec<Reducer>,
}

/// Statistics of one reducer in one group (a scenario, or all paths).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupStats {
    pub mass: f64,
    pub mean: f64,
    /// The Monte Carlo standard error of `mean` (see [`Finisher::finish`]).
    pub mean_se: f64,
    pub std: f64,
    pub quantiles: Vec<f64>,
    /// The Monte Carlo standard error of each quantile (see [`Finisher::finish`]).
    pub quantiles_se: Vec<f64>,
    pub p_above: Vec<f64>,
    /// The Monte Carlo standard error of each `p_above`.
    pub p_above_se: Vec<f64>,
    /// (VaR, CVaR) per CVaR level.
    pub var_cvar: Vec<(f64, f64)>,
    /// The Monte Carlo standard errors of each (VaR, CVaR) (see [`Finisher::finish`]).
    pub var_cvar_se: Vec<(f64, f64)>,
    /// Per CVaR level, the group's share of the overall tail (1 for all paths): the
    /// worst values of total probability 1 − α, split as [`crate::risk::risk_table`]
    /// splits them.
    pub tail_share: Vec<f64>,
}

/// A quantile search in progress: reducer, group (None = all), level; the
/// window of keys that holds the answer, the per-scenario counts below it
/// and the number of values inside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub reducer: usize,
    pub group: Option<usize>,
    pub level: f64,
    pub window: Window,
    /// Per scenario, the values below the window (kept for the group's scenarios only).
    pub below: Vec<u64>,
    pub inside: u64,
    /// A VaR (its level one of the reducer's CVaR levels): its window needs the sums
    /// above it, for the CVaR.
    pub var: bool,
}

/// Which pass a partial belongs to.
#[derive(Debug, Clone, PartialEq)]
pub enum Pass {
    /// Moments, threshold counts, and each reducer's histogram on its first-pass grid.
    Moments(Vec<BinMap>),
    /// Histograms of the sub-bins of each (reducer, window).
    Refine(Vec<(usize, Window)>),
    /// The keys inside each (reducer, window), the moments about the centres
    /// (one per (reducer, scenario), reducer-major), and the sums above each
    /// window whose flag is set (a window that holds a VaR, for its CVaR and
    /// their standard errors); the last flag: antithetic pairs, whose twins are
    /// then also counted together around those windows.
    Collect(Vec<(usize, Window)>, Vec<f64>, Vec<bool>, bool),
}

impl Pass {
    /// Serialise (for shipping to workers), behind a header naming the version that wrote it
    /// (and no job: [`Pass::to_bytes_for`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_bytes_for(0)
    }

    /// Serialise, behind a header naming the version that wrote it and `job`, the
    /// fingerprint of the summary job it belongs to ([`Pass::from_bytes_for`] checks it).
    pub fn to_bytes_for(&self, job: u64) -> Vec<u8> {
        let mut out = header(PASS_MAGIC, job);
        self.write(&mut out);
        out
    }

    /// The pass's fields, appended to `out` (no header).
    fn write(&self, out: &mut Vec<u8>) {
        let word = |out: &mut Vec<u8>, w: u64| out.extend_from_slice(&w.to_le_bytes());
        match self {
            Pass::Moments(maps) => {
                word(out, 1);
                word(out, maps.len() as u64);
                for m in maps {
                    word(out, m.lo.to_bits());
                    word(out, m.scale.to_bits());
                    word(out, m.grid as u64);
                    word(out, m.atom_bins.len() as u64);
                    for &(k, count) in &m.atom_bins {
                        word(out, k);
                        word(out, count);
                    }
                }
            }
            Pass::Refine(t) | Pass::Collect(t, ..) => {
                word(out, if matches!(self, Pass::Refine(_)) { 2 } else { 3 });
                word(out, t.len() as u64);
                for &(r, (lo, hi)) in t {
                    word(out, r as u64);
                    word(out, lo);
                    word(out, hi);
                }
                if let Pass::Collect(_, centers, tails, pairs) = self {
                    word(out, centers.len() as u64);
                    for c in centers {
                        word(out, c.to_bits());
                    }
                    word(out, tails.len() as u64);
                    for &flag in tails {
                        word(out, flag as u64);
                    }
                    word(out, *pairs as u64);
                }
            }
        }
    }

    /// Inverse of [`Pass::write`], from the front of `b`.
    fn read(b: &mut &[u8]) -> Option<Pass> {
        let tag = take_u64(b)?;
        let n = take_u64(b)? as usize;
        if n > b.len() / 16 {
            return None;
        }
        if tag == 1 {
            let maps = (0..n)
                .map(|_| {
                    let lo = f64::from_bits(take_u64(b)?);
                    let scale = f64::from_bits(take_u64(b)?);
                    let grid = usize::try_from(take_u64(b)?).ok()?;
                    let runs = usize::try_from(take_u64(b)?).ok()?;
                    if runs > b.len() / 16 {
                        return None;
                    }
                    let atom_bins = (0..runs)
                        .map(|_| Some((take_u64(b)?, take_u64(b)?)))
                        .collect::<Option<Vec<_>>>()?;
                    Some(BinMap {
                        lo,
                        scale,
                        grid,
                        atom_bins,
                    })
                })
                .collect::<Option<Vec<_>>>()?;
            return Some(Pass::Moments(maps));
        }
        let t = (0..n)
            .map(|_| Some((take_u64(b)? as usize, (take_u64(b)?, take_u64(b)?))))
            .collect::<Option<Vec<_>>>()?;
        match tag {
            2 => Some(Pass::Refine(t)),
            3 => {
                let m = take_u64(b)? as usize;
                if m > b.len() / 8 {
                    return None;
                }
                let centers = (0..m).map(|_| Some(f64::from_bits(take_u64(b)?)));
                let centers = centers.collect::<Option<Vec<_>>>()?;
                let m = take_u64(b)? as usize;
                if m > b.len() / 8 {
                    return None;
                }
                let flag = |b: &mut &[u8]| match take_u64(b)? {
                    0 => Some(false),
                    1 => Some(true),
                    _ => None,
                };
                let tails = (0..m).map(|_| flag(b)).collect::<Option<Vec<_>>>()?;
                Some(Pass::Collect(t, centers, tails, flag(b)?))
            }
            _ => None,
        }
    }

    /// Inverse of [`Pass::to_bytes`], whatever job the bytes name.
    pub fn from_bytes(bytes: &[u8]) -> Result<Pass> {
        Pass::from_bytes_for(bytes, None)
    }

    /// Inverse of [`Pass::to_bytes_for`]: given `job`, bytes of another job are refused.
    pub fn from_bytes_for(bytes: &[u8], job: Option<u64>) -> Result<Pass> {
        let mut b = bytes;
        read_header(&mut b, PASS_MAGIC, "pass", job)?;
        match Pass::read(&mut b) {
            Some(p) if b.is_empty() => Ok(p),
            _ => Err(not_serialised("pass")),
        }
    }
}

/// Mergeable state of one pass over a path range.
#[derive(Debug, Clone, PartialEq)]
pub struct Partial {
    pub start: u64,
    pub end: u64,
    pub pass: Pass,
    k: usize,
    j: usize,
    /// Per reducer and scenario: in the first pass, sums of (v − shift) and
    /// (v − shift)²; collecting, sums of (v − c) and (v − c)² about the centre c.
    sums: Vec<DyadicSum>,
    /// First pass: per reducer, its thresholds' counts of v > c by scenario
    /// (`[ci * K + k]`), then its thresholds' counts of antithetic pairs whose twins
    /// are both above (`[(T + ci) * K + k]`, T thresholds; 0 without pairs).
    /// Collecting under antithetic pairs: per target and scenario, the pairs whose
    /// twins are both below the window.
    counts: Vec<u64>,
    /// First pass: reducer × scenario × (its map's) bins counts; refining: target × scenario × SUB_BINS.
    /// (u64: a scenario of billions of paths can put more than 2^32 in one bin)
    hist: Vec<u64>,
    /// Collecting: per target and scenario, the count of each key inside the window.
    values: Vec<BTreeMap<u64, u64>>,
    /// Collecting: per target and scenario, above the window: the sum of (v − shift), the
    /// count and the sum of (v − shift)²; under antithetic pairs, then over the pairs
    /// whose twins a, b are both above it: the sums of (a − shift)(b − shift) and of
    /// (a − shift) + (b − shift) and their count.
    tail: Vec<DyadicSum>,
    /// Collecting, under antithetic pairs: per target and scenario, the pairs (keys of
    /// both twins, in path order) with a twin inside the window, counted.
    pair_keys: Vec<BTreeMap<(u64, u64), u64>>,
}

/// The sums above a window that a collecting pass keeps per scenario (see
/// [`Partial`]'s `tail`): 3, and 3 more over antithetic pairs.
fn tail_dim(pairs: bool) -> usize {
    if pairs {
        6
    } else {
        3
    }
}

fn n_thresholds(spec: &SummarySpec) -> usize {
    spec.reducers.iter().map(|r| r.thresholds.len()).sum()
}

/// Cut `s` into consecutive pieces of the given lengths.
fn split_lengths<T>(mut s: &mut [T], lengths: impl Iterator<Item = usize>) -> Vec<&mut [T]> {
    let mut out = Vec::new();
    for n in lengths {
        let (head, rest) = std::mem::take(&mut s).split_at_mut(n);
        out.push(head);
        s = rest;
    }
    out
}

/// What every reducer's share reads while absorbing a wave of rows.
struct ShareCtx<'a> {
    spec: &'a SummarySpec,
    shifts: &'a [f64],
    /// The collecting pass's centres (empty in other passes).
    centers: &'a [f64],
    /// The first pass's maps (empty in later passes).
    maps: &'a [BinMap],
    /// The wave's values, reducer by reducer (J × rows).
    vals: &'a [f64],
    rows: usize,
    k_n: usize,
    runs: &'a [(usize, usize, usize, u64)],
    /// Antithetic pairs (twins 2i and 2i + 1).
    pairs: bool,
}

/// The parts of a [`Partial`] that belong to reducer `i`: its per-scenario
/// sums, its threshold counts (collecting: its windows' counts of antithetic pairs
/// below them), its histograms, and its targets' values, tail sums and pairs' keys.
/// Shares are disjoint, so reducers absorb in parallel, each over the rows in path
/// order (the same bits as one reducer after the other).
struct Share<'a> {
    i: usize,
    sums: &'a mut [DyadicSum],
    counts: &'a mut [u64],
    hist: &'a mut [u64],
    values: &'a mut [BTreeMap<u64, u64>],
    tail: &'a mut [DyadicSum],
    pair_keys: &'a mut [BTreeMap<(u64, u64), u64>],
    targets: &'a [(usize, Window)],
    /// Collecting: whether each target's window needs the sums above it.
    tails: &'a [bool],
}

impl Share<'_> {
    /// This share's reducer's values.
    fn column<'c>(&self, c: &ShareCtx<'c>) -> &'c [f64] {
        &c.vals[self.i * c.rows..(self.i + 1) * c.rows]
    }

    /// First pass: moments, threshold counts and the histogram on the grid.
    fn moments(self, c: &ShareCtx) {
        let (i, k_n, col) = (self.i, c.k_n, self.column(c));
        let shift = c.shifts[i];
        let red = &c.spec.reducers[i];
        let thresholds = &red.thresholds;
        let map = &c.maps[i];
        let counted = red.has_histogram();
        let mut leaves = Vec::new();
        let th = thresholds.len();
        for &(r0, len, k, local) in c.runs {
            leaves.clear();
            // (runs start at even paths under antithetic pairs: see `collect`)
            let mut twin = f64::NAN;
            for (r, &v) in col[r0..r0 + len].iter().enumerate() {
                let d = v - shift;
                leaves.extend_from_slice(&[d, d * d]);
                let second = c.pairs && r % 2 == 1;
                for (ci, &t) in thresholds.iter().enumerate() {
                    if v > t {
                        self.counts[ci * k_n + k] += 1;
                        if second && twin > t {
                            self.counts[(th + ci) * k_n + k] += 1;
                        }
                    }
                }
                twin = v;
                if counted {
                    self.hist[k * map.bins() + map.bin(v)] += 1;
                }
            }
            self.sums[k].extend_run(local, &mut leaves);
        }
    }

    /// Refining: histograms of the sub-bins of each target's window.
    fn refine(self, c: &ShareCtx) {
        let (k_n, col) = (c.k_n, self.column(c));
        for &(r0, len, k, _) in c.runs {
            for &v in &col[r0..r0 + len] {
                let kv = key(v);
                if let Some(ti) = self.window_of(kv) {
                    self.hist[(ti * k_n + k) * SUB_BINS + sub_bin(self.targets[ti].1, kv)] += 1;
                }
            }
        }
    }

    /// Collecting: the keys inside each target's window, and the sums above
    /// it that CVaR needs (every path is a leaf, zero at or below the window,
    /// so that the sums stay compact); under antithetic pairs, the pairs with
    /// both twins below each window and, by their keys, those with a twin inside it.
    fn collect(self, c: &ShareCtx) {
        let (i, k_n, col) = (self.i, c.k_n, self.column(c));
        let shift = c.shifts[i];
        let cvar = self.tails.contains(&true);
        let mut leaves = Vec::new();
        // under pairs, per scenario: the pairs whose larger twin lies below window t but
        // not below window t − 1, at [t * K + k] (a running sum over t at the end)
        let mut below_from = vec![0u64; if c.pairs { (self.targets.len() + 1) * k_n } else { 0 }];
        for &(r0, len, k, local) in c.runs {
            let center = c.centers[i * k_n + k];
            leaves.clear();
            // a run starts at an even index under antithetic pairs (scenario blocks,
            // chunks and shards start at even paths), so each pair is in one run
            debug_assert!(!c.pairs || local % 2 == 0);
            let run = &col[r0..r0 + len];
            let (mut twin, mut twin_window) = (0.0, None);
            for (r, &v) in run.iter().enumerate() {
                let kv = key(v);
                let window = self.window_of(kv);
                if let Some(ti) = window {
                    *self.values[ti * k_n + k].entry(kv).or_insert(0) += 1;
                }
                let d = v - center;
                // the second of a pair carries the product of the pair's deviations
                let second = c.pairs && r % 2 == 1;
                let cross = if second { twin * d } else { 0.0 };
                leaves.extend_from_slice(&[d, d * d, cross]);
                if second {
                    let ka = key(run[r - 1]);
                    let top = ka.max(kv);
                    below_from[self.targets.partition_point(|&(_, w)| w.0 <= top) * k_n + k] += 1;
                    // the pair's keys in each window that holds a twin
                    for ti in [twin_window, window.filter(|&w| Some(w) != twin_window)]
                        .into_iter()
                        .flatten()
                    {
                        *self.pair_keys[ti * k_n + k].entry((ka, kv)).or_insert(0) += 1;
                    }
                }
                (twin, twin_window) = (d, window);
            }
            self.sums[k].extend_run(local, &mut leaves);
            if !cvar {
                continue;
            }
            let dim = tail_dim(c.pairs);
            for (ti, &(_, w)) in self.targets.iter().enumerate() {
                if !self.tails[ti] {
                    continue;
                }
                leaves.clear();
                for (r, &v) in run.iter().enumerate() {
                    let (d, kv) = (v - shift, key(v));
                    let mut leaf = [0.0; 6];
                    if kv > w.1 {
                        leaf[..3].copy_from_slice(&[d, 1.0, d * d]);
                    }
                    // the second of a pair carries the terms of a pair with both twins above
                    if c.pairs && r % 2 == 1 {
                        let (a, ka) = (run[r - 1], key(run[r - 1]));
                        if ka > w.1 && kv > w.1 {
                            let da = a - shift;
                            leaf[3..6].copy_from_slice(&[da * d, da + d, 1.0]);
                        }
                    }
                    leaves.extend_from_slice(&leaf[..dim]);
                }
                self.tail[ti * k_n + k].extend_run(local, &mut leaves);
            }
        }
        // the pairs below each window: those whose larger twin lies below it or an earlier one
        if c.pairs {
            for k in 0..k_n {
                let mut total = 0;
                for t in 0..self.targets.len() {
                    total += below_from[t * k_n + k];
                    self.counts[t * k_n + k] += total;
                }
            }
        }
    }

    /// The target whose window holds key `kv` (a reducer's windows are
    /// disjoint and sorted).
    #[inline]
    fn window_of(&self, kv: u64) -> Option<usize> {
        let ti = self.targets.partition_point(|&(_, w)| w.1 < kv);
        (ti < self.targets.len() && contains(self.targets[ti].1, kv)).then_some(ti)
    }
}

impl Partial {
    /// An empty partial of `pass` over `start..start`.
    pub fn empty(spec: &SummarySpec, k: usize, pass: Pass, start: u64) -> Partial {
        let j = spec.reducers.len();
        let (sums, counts, hist, values, tail, pair_keys) = match &pass {
            Pass::Moments(maps) => (
                (0..j * k).map(|_| DyadicSum::new(2)).collect(),
                vec![0; 2 * k * n_thresholds(spec)],
                vec![0u64; maps.iter().map(|m| k * m.bins()).sum()],
                Vec::new(),
                Vec::new(),
                Vec::new(),
            ),
            Pass::Refine(t) => (
                Vec::new(),
                Vec::new(),
                vec![0u64; t.len() * k * SUB_BINS],
                Vec::new(),
                Vec::new(),
                Vec::new(),
            ),
            Pass::Collect(t, _, _, pairs) => (
                // Σd, Σd² and Σ of the products of antithetic twins' deviations
                (0..j * k).map(|_| DyadicSum::new(3)).collect(),
                // per window and scenario, the antithetic pairs below it
                vec![0; if *pairs { t.len() * k } else { 0 }],
                Vec::new(),
                vec![BTreeMap::new(); t.len() * k],
                // per window and scenario, the sums above it (see `tail`)
                (0..t.len() * k).map(|_| DyadicSum::new(tail_dim(*pairs))).collect(),
                vec![BTreeMap::new(); if *pairs { t.len() * k } else { 0 }],
            ),
        };
        Partial {
            start,
            end: start,
            pass,
            k,
            j,
            sums,
            counts,
            hist,
            values,
            tail,
            pair_keys,
        }
    }

    /// Add the values of paths `first..` (reducer by reducer: J × rows) with
    /// their scenarios. Every reducer owns disjoint parts of the state (see
    /// [`Share`]), so the reducers absorb in parallel.
    fn absorb(
        &mut self,
        spec: &SummarySpec,
        alloc: &Allocation,
        shifts: &[f64],
        first: u64,
        vals: &[f64],
        scen: &[u8],
    ) {
        let (j, k_n) = (self.j, self.k);
        let rows = vals.len() / j.max(1);
        debug_assert_eq!(first, self.end);
        // maximal runs of one scenario: (first row, rows, scenario, local index of the first row)
        let mut runs = Vec::new();
        let mut r = 0;
        while r < rows {
            let k = scen[r] as usize;
            let len = scen[r..].iter().take_while(|&&x| x as usize == k).count();
            runs.push((r, len, k, first + r as u64 - alloc.offsets[k] as u64));
            r += len;
        }
        let Partial {
            pass,
            sums,
            counts,
            hist,
            values,
            tail,
            pair_keys,
            ..
        } = self;
        let pass = &*pass;
        let (targets, maps): (&[(usize, Window)], &[BinMap]) = match pass {
            Pass::Moments(maps) => (&[], maps),
            Pass::Refine(t) | Pass::Collect(t, ..) => (t, &[]),
        };
        let (centers, tails, pairs): (&[f64], &[bool], bool) = match pass {
            Pass::Collect(_, centers, tails, pairs) => (centers, tails, *pairs),
            _ => (&[], &[], false),
        };
        // each reducer's number of targets (the list is sorted by reducer)
        let per: Vec<usize> = (0..j).map(|i| targets.iter().filter(|t| t.0 == i).count()).collect();
        // each reducer's lengths in the parts of the state, for this pass
        let (m, rf, co) = match pass {
            Pass::Moments(_) => (1, 0, 0),
            Pass::Refine(_) => (0, 1, 0),
            Pass::Collect(..) => (0, 0, 1),
        };
        let th = |i: usize| spec.reducers[i].thresholds.len();
        let sums = split_lengths(sums, (0..j).map(|_| (m + co) * k_n));
        let counts = split_lengths(
            counts,
            (0..j).map(|i| 2 * m * th(i) * k_n + if pairs { co * per[i] * k_n } else { 0 }),
        );
        let hist = split_lengths(
            hist,
            (0..j).map(|i| maps.get(i).map_or(0, |map| m * k_n * map.bins()) + rf * per[i] * k_n * SUB_BINS),
        );
        let values = split_lengths(values, (0..j).map(|i| co * per[i] * k_n));
        let tail = split_lengths(tail, (0..j).map(|i| co * per[i] * k_n));
        let pair_keys = split_lengths(pair_keys, (0..j).map(|i| if pairs { co * per[i] * k_n } else { 0 }));
        let mut firsts = vec![0; j + 1];
        for i in 0..j {
            firsts[i + 1] = firsts[i] + per[i];
        }
        let shares: Vec<Share> = (sums.into_iter().zip(counts).zip(hist))
            .zip(values.into_iter().zip(tail).zip(pair_keys))
            .enumerate()
            .map(|(i, (((sums, counts), hist), ((values, tail), pair_keys)))| Share {
                i,
                sums,
                counts,
                hist,
                values,
                tail,
                pair_keys,
                targets: &targets[firsts[i]..firsts[i + 1]],
                tails: tails.get(firsts[i]..firsts[i + 1]).unwrap_or(&[]),
            })
            .collect();
        let ctx = ShareCtx {
            spec,
            shifts,
            centers,
            maps,
            vals,
            rows,
            k_n,
            runs: &runs,
            pairs: alloc.pairs,
        };
        shares.into_par_iter().for_each(|sh| match pass {
            Pass::Moments(_) => sh.moments(&ctx),
            Pass::Refine(_) => sh.refine(&ctx),
            Pass::Collect(..) => sh.collect(&ctx),
        });
        self.end = first + rows as u64;
    }

    /// Check that the partial has the layout `spec` gives its pass (a
    /// partial read from bytes may come from another job).
    pub fn check_layout(&self, spec: &SummarySpec, k: usize) -> Result<()> {
        // the pass first: its targets size the empty partial built to compare with
        validate_pass(spec, k, &self.pass)
            .map_err(|_| CoreError::invalid("partial", "does not belong to this summary job"))?;
        let e = Partial::empty(spec, k, self.pass.clone(), self.start);
        let dims = |v: &[DyadicSum]| v.iter().map(DyadicSum::dim).collect::<Vec<_>>();
        if self.k != e.k
            || self.j != e.j
            || self.counts.len() != e.counts.len()
            || self.hist.len() != e.hist.len()
            || self.values.len() != e.values.len()
            || dims(&self.sums) != dims(&e.sums)
            || dims(&self.tail) != dims(&e.tail)
            || self.pair_keys.len() != e.pair_keys.len()
        {
            return Err(CoreError::invalid("partial", "does not belong to this summary job"));
        }
        Ok(())
    }

    /// Join the partial of the range that follows this one.
    pub fn merge(&mut self, other: &Partial) -> Result<()> {
        if self.end != other.start || self.pass != other.pass || self.k != other.k || self.j != other.j {
            return Err(CoreError::invalid(
                "partials",
                format!(
                    "cannot join range {}..{} with {}..{}: partials must be adjacent and of the same pass",
                    self.start, self.end, other.start, other.end
                ),
            ));
        }
        for (a, b) in self.sums.iter_mut().zip(&other.sums) {
            a.append(b);
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        for (a, b) in self.hist.iter_mut().zip(&other.hist) {
            *a += b;
        }
        for (a, b) in self.values.iter_mut().zip(&other.values) {
            for (&kv, &c) in b {
                *a.entry(kv).or_insert(0) += c;
            }
        }
        for (a, b) in self.tail.iter_mut().zip(&other.tail) {
            a.append(b);
        }
        for (a, b) in self.pair_keys.iter_mut().zip(&other.pair_keys) {
            for (&kv, &c) in b {
                *a.entry(kv).or_insert(0) += c;
            }
        }
        self.end = other.end;
        Ok(())
    }

    /// Serialise to bytes (for shipping between processes), naming no job
    /// ([`Partial::to_bytes_for`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_bytes_for(0)
    }

    /// Serialise to bytes, naming `job`, the fingerprint of the summary job whose pass
    /// it ran ([`Partial::from_bytes_for`] checks it).
    pub fn to_bytes_for(&self, job: u64) -> Vec<u8> {
        let mut out = header(PARTIAL_MAGIC, job);
        for v in [self.start, self.end, self.k as u64, self.j as u64] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        self.pass.write(&mut out);
        out.extend_from_slice(&(self.sums.len() as u64).to_le_bytes());
        for s in &self.sums {
            s.write(&mut out);
        }
        out.extend_from_slice(&(self.counts.len() as u64).to_le_bytes());
        for a in &self.counts {
            out.extend_from_slice(&a.to_le_bytes());
        }
        out.extend_from_slice(&(self.hist.len() as u64).to_le_bytes());
        for h in &self.hist {
            out.extend_from_slice(&h.to_le_bytes());
        }
        write_counts(&mut out, &self.values, |&kv| [kv].to_vec());
        out.extend_from_slice(&(self.tail.len() as u64).to_le_bytes());
        for s in &self.tail {
            s.write(&mut out);
        }
        write_counts(&mut out, &self.pair_keys, |&(ka, kb)| [ka, kb].to_vec());
        out
    }

    /// Inverse of [`Partial::to_bytes`], whatever job the bytes name.
    pub fn from_bytes(bytes: &[u8]) -> Result<Partial> {
        Partial::from_bytes_for(bytes, None)
    }

    /// Inverse of [`Partial::to_bytes_for`]: given `job`, bytes of another job are refused.
    pub fn from_bytes_for(bytes: &[u8], job: Option<u64>) -> Result<Partial> {
        let bad = || not_serialised("partial");
        let mut buf: &[u8] = bytes;
        let b = &mut buf;
        read_header(b, PARTIAL_MAGIC, "partial", job)?;
        let start = take_u64(b).ok_or_else(bad)?;
        let end = take_u64(b).ok_or_else(bad)?;
        let k = take_u64(b).ok_or_else(bad)? as usize;
        let j = take_u64(b).ok_or_else(bad)? as usize;
        if k > 64 || j > 1 << 16 || start > end {
            return Err(bad());
        }
        let pass = Pass::read(b).ok_or_else(bad)?;
        let ns = take_u64(b).ok_or_else(bad)? as usize;
        // a DyadicSum takes at least 16 bytes: no allocation beyond the input's size
        if ns > j * k || ns > b.len() / 16 {
            return Err(bad());
        }
        let mut sums = Vec::with_capacity(ns);
        for _ in 0..ns {
            sums.push(DyadicSum::read(b).ok_or_else(bad)?);
        }
        let na = take_u64(b).ok_or_else(bad)? as usize;
        if na > b.len() / 8 {
            return Err(bad());
        }
        let mut counts = Vec::with_capacity(na);
        for _ in 0..na {
            counts.push(take_u64(b).ok_or_else(bad)?);
        }
        let nh = take_u64(b).ok_or_else(bad)? as usize;
        if nh > b.len() / 8 {
            return Err(bad());
        }
        let hist: Vec<u64> = b[..nh * 8]
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect();
        *b = &b[nh * 8..];
        let values = read_counts(b, 1, take_u64).ok_or_else(bad)?;
        let n_tail = take_u64(b).ok_or_else(bad)? as usize;
        if n_tail > b.len() / 16 {
            return Err(bad());
        }
        let mut tail = Vec::with_capacity(n_tail);
        for _ in 0..n_tail {
            tail.push(DyadicSum::read(b).ok_or_else(bad)?);
        }
        let pair_keys = read_counts(b, 2, |b| Some((take_u64(b)?, take_u64(b)?))).ok_or_else(bad)?;
        if !b.is_empty() {
            return Err(bad());
        }
        Ok(Partial {
            start,
            end,
            pass,
            k,
            j,
            sums,
            counts,
            hist,
            values,
            tail,
            pair_keys,
        })
    }
}

/// The sum of `counts`, None if it overflows u64.
fn checked_total(counts: impl IntoIterator<Item = u64>) -> Option<u64> {
    counts.into_iter().try_fold(0u64, u64::checked_add)
}

/// The first word of a serialised pass, and of a serialised partial.
const PASS_MAGIC: &[u8; 8] = b"gs.pass\0";
const PARTIAL_MAGIC: &[u8; 8] = b"gs.part\0";

/// The layout of passes and partials; with the package's version, in the header of
/// every serialised one, so that a worker and its driver running different versions
/// (different layouts, or different paths from the same seed) refuse each other's
/// bytes saying so, rather than merge them.
const BYTES_FORMAT: u64 = 3;

/// `magic`, then the format, then the package's version (its length, then its bytes),
/// then `job`, the fingerprint of the summary job (0: none named).
fn header(magic: &[u8; 8], job: u64) -> Vec<u8> {
    let version = env!("CARGO_PKG_VERSION").as_bytes();
    let mut out = magic.to_vec();
    out.extend_from_slice(&BYTES_FORMAT.to_le_bytes());
    out.extend_from_slice(&(version.len() as u64).to_le_bytes());
    out.extend_from_slice(version);
    out.extend_from_slice(&job.to_le_bytes());
    out
}

/// The error for bytes that are not a serialised summary `what` (a pass or a partial),
/// named by that parameter.
fn not_serialised(what: &str) -> CoreError {
    CoreError::invalid(what, format!("not a serialised summary {what}"))
}

/// Read a [`header`] of `magic` from the front of `b`: an error naming `what` (the
/// parameter) unless it is this version's and, given `job`, names that job.
fn read_header(b: &mut &[u8], magic: &[u8; 8], what: &str, job: Option<u64>) -> Result<()> {
    let not = || not_serialised(what);
    let (head, rest) = b.split_at_checked(8).ok_or_else(not)?;
    if head != magic {
        return Err(not());
    }
    *b = rest;
    let format = take_u64(b).ok_or_else(not)?;
    let len = take_u64(b).ok_or_else(not)?;
    let version = match usize::try_from(len) {
        Ok(len) if len <= 64 && len <= b.len() => {
            let (v, rest) = b.split_at(len);
            *b = rest;
            String::from_utf8_lossy(v).into_owned()
        }
        _ => return Err(not()),
    };
    let ours = env!("CARGO_PKG_VERSION");
    if version != ours {
        return Err(CoreError::invalid(
            what,
            format!(
                "a summary {what} of geoscenario {version:?} (format {format}), and this is {ours:?} \
                 (format {BYTES_FORMAT}): run the same version on the client and every worker"
            ),
        ));
    }
    if format != BYTES_FORMAT {
        return Err(CoreError::invalid(
            what,
            format!(
                "a summary {what} in format {format} from another build of geoscenario {ours:?}, which \
                 reads format {BYTES_FORMAT}: install the same build on the client and every worker"
            ),
        ));
    }
    let named = take_u64(b).ok_or_else(not)?;
    if job.is_some_and(|j| j != named) {
        return Err(CoreError::invalid(
            what,
            format!(
                "a summary {what} of another job (another world, seed, number of paths, horizon, month, \
                 series or option): run and merge each job's passes and partials with that job"
            ),
        ));
    }
    Ok(())
}

/// The fingerprint of a summary job, as its headers name it: FNV-1a (64 bits) of `text`,
/// the job's arguments written out; never 0, which names no job (a hash of 0 is 1).
pub fn job_fingerprint(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in text.as_bytes() {
        h ^= byte as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h.max(1)
}

// a header's version must be one `read_header` accepts
const _: () = assert!(env!("CARGO_PKG_VERSION").len() <= 64);

/// Write maps of counted keys (a collecting pass's keys inside its windows, or its
/// antithetic pairs' keys): their number, then each map's length and entries, a key's
/// `words` and then its count.
fn write_counts<K>(out: &mut Vec<u8>, maps: &[BTreeMap<K, u64>], words: impl Fn(&K) -> Vec<u64>) {
    out.extend_from_slice(&(maps.len() as u64).to_le_bytes());
    for map in maps {
        out.extend_from_slice(&(map.len() as u64).to_le_bytes());
        for (key, c) in map {
            for w in words(key).into_iter().chain([*c]) {
                out.extend_from_slice(&w.to_le_bytes());
            }
        }
    }
}

/// Inverse of [`write_counts`] from the front of `b`, for keys of `words` words read by
/// `read`; None unless the bytes hold them (no allocation beyond the input's size).
fn read_counts<K: Ord>(
    b: &mut &[u8],
    words: usize,
    read: impl Fn(&mut &[u8]) -> Option<K>,
) -> Option<Vec<BTreeMap<K, u64>>> {
    let n = take_u64(b)? as usize;
    if n > b.len() / 8 {
        return None;
    }
    let mut maps = Vec::with_capacity(n);
    for _ in 0..n {
        let m = take_u64(b)? as usize;
        if m > b.len() / (8 * (words + 1)) {
            return None;
        }
        let mut map = BTreeMap::new();
        for _ in 0..m {
            let key = read(b)?;
            map.insert(key, take_u64(b)?);
        }
        maps.push(map);
    }
    Some(maps)
}

/// Simulate paths `req.start..req.end` and reduce them for `pass`, refused if `copies`
/// ([`HIST_COPIES`] or [`LOCAL_COPIES`]) of its histograms (a first pass's, or a refining
/// pass's sub-bins; the keys a collecting pass will hold are the finisher's estimate,
/// not the pass's) and the run's [`working_bytes`] (on the threads it runs on) would not
/// fit in the memory available.
pub fn run_pass(
    model: &Model,
    spec: &SummarySpec,
    req: &SimRequest,
    pass: Pass,
    control: &Control,
    copies: u128,
) -> Result<Partial> {
    req.validate_summary(model)?;
    validate_spec(model, spec)?;
    validate_pass(spec, model.n_scenarios, &pass)?;
    if matches!(pass, Pass::Collect(.., pairs) if pairs != req.antithetic) {
        // (its sums above the windows are sized for the twins it counts, or not)
        return Err(CoreError::invalid("pass", "not a pass of this summary job"));
    }
    let alloc = Allocation::new(&model.probabilities, req.n_paths as usize, req.antithetic)?;
    let shifts = shifts(model, spec);
    let work = || -> Result<Partial> {
        let threads = rayon::current_num_threads();
        let working = working_bytes(model, spec, req, threads);
        match &pass {
            // the grid the pass carries (that of the run's size when it comes from first_pass)
            Pass::Moments(maps) => check_memory(model, spec, grid_of(maps), copies, working)?,
            // (the keys a collecting pass will hold are the finisher's estimate, not the pass's:
            // here, its run's buffers)
            _ => check_pass_memory(&pass, model.n_scenarios, 0.0, copies, working)?,
        }
        let qmc = req.qmc_shocks(model)?;
        let ctx = req.ctx(model, &alloc, qmc.as_ref());
        let (chunk, wave) = run_layout(req.chunk_paths, spec.reducers.len(), threads, req.antithetic);
        let mut acc = Partial::empty(spec, model.n_scenarios, pass.clone(), req.start);
        let mut wave_start = req.start;
        while wave_start < req.end {
            let wave_end = (wave_start + wave).min(req.end);
            let n_chunks = ((wave_end - wave_start) as usize).div_ceil(chunk);
            let results: Vec<Result<(Vec<f64>, Vec<u8>)>> = (0..n_chunks)
                .into_par_iter()
                .map(|c| {
                    if control.cancel.load(Ordering::Relaxed) {
                        return Err(CoreError::Cancelled);
                    }
                    let first = wave_start + (c * chunk) as u64;
                    let rows = (chunk as u64).min(wave_end - first) as usize;
                    let r = chunk_values(&ctx, spec, first, rows);
                    control.paths_done.fetch_add(rows as u64, Ordering::Relaxed);
                    r
                })
                .collect();
            for (c, r) in results.into_iter().enumerate() {
                let (vals, scen) = r?;
                acc.absorb(spec, &alloc, &shifts, wave_start + (c * chunk) as u64, &vals, &scen);
            }
            wave_start = wave_end;
        }
        Ok(acc)
    };
    crate::engine::on_threads(req.threads, work)
}

/// The reduced values (J × rows) and scenarios of paths `first..first + rows`.
fn chunk_values(ctx: &Ctx, spec: &SummarySpec, first: u64, rows: usize) -> Result<(Vec<f64>, Vec<u8>)> {
    let model = ctx.model;
    let w = model.horizon + 1;
    // the chunk's paths live in per-thread buffers reused from chunk to chunk,
    // so that streaming touches no fresh memory after the first chunk; they are
    // not cleared, since the kernel writes every element (as in the output buffers
    // a simulation reuses)
    thread_local! {
        static BUFFERS: std::cell::RefCell<Vec<Vec<f64>>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let mut series: Vec<Vec<f64>> = BUFFERS.with(|b| std::mem::take(&mut *b.borrow_mut()));
    series.resize_with(model.n_outputs(), Vec::new);
    series.truncate(model.n_outputs());
    for s in series.iter_mut() {
        s.resize(rows * w, 0.0);
    }
    let result = chunk_values_into(ctx, spec, first, rows, &mut series);
    BUFFERS.with(|b| *b.borrow_mut() = series);
    result
}

fn chunk_values_into(
    ctx: &Ctx,
    spec: &SummarySpec,
    first: u64,
    rows: usize,
    series: &mut [Vec<f64>],
) -> Result<(Vec<f64>, Vec<u8>)> {
    let model = ctx.model;
    let w = model.horizon + 1;
    let mut slices: Vec<&mut [f64]> = series.iter_mut().map(|s| s.as_mut_slice()).collect();
    let mut onset = vec![0i64; rows];
    let mut scratch = Scratch::new(model);
    let mut out = BlockOut {
        series: &mut slices,
        row0: 0,
        onset: &mut onset,
        regimes: None,
    };
    kernel::simulate_rows(ctx, first, rows, &mut scratch, &mut out)?;
    let j = spec.reducers.len();
    let mut vals = vec![0.0; rows * j];
    for (i, red) in spec.reducers.iter().enumerate() {
        red.values(
            |o, r, m| series[o][r * w + m],
            spec.month,
            &mut vals[i * rows..(i + 1) * rows],
        );
    }
    let scen = (0..rows)
        .map(|r| ctx.alloc.scenario_of((first + r as u64) as usize) as u8)
        .collect();
    Ok((vals, scen))
}

pub(crate) fn validate_spec(model: &Model, spec: &SummarySpec) -> Result<()> {
    if spec.month > model.horizon {
        return Err(CoreError::invalid(
            "month",
            format!("must be in [0, {}], got {}", model.horizon, spec.month),
        ));
    }
    if spec.reducers.is_empty() || spec.reducers.len() > 4096 {
        return Err(CoreError::invalid(
            "series",
            "give between 1 and 4096 series to summarise",
        ));
    }
    let navs: Vec<usize> = (0..model.strategies.len()).map(|s| model.strategy_output(s)).collect();
    let max = crate::config::parse::MAX_WEIGHT;
    for r in &spec.reducers {
        if r.output >= model.n_outputs() || r.mix.iter().any(|&(o, _)| o >= model.n_outputs()) {
            return Err(CoreError::invalid("series", format!("{:?} is not a series", r.name)));
        }
        // a mix is of strategy NAVs, each weight bounded as a strategy's asset weights are
        if r.mix
            .iter()
            .any(|&(o, w)| !navs.contains(&o) || w.is_nan() || w.abs() > max)
        {
            return Err(CoreError::invalid(
                "mixes",
                format!("{:?} must weigh strategies, each weight in [-{max}, {max}]", r.name),
            ));
        }
        for &q in &r.quantiles {
            if !(0.0..=1.0).contains(&q) {
                return Err(CoreError::invalid("quantiles", format!("must be in [0, 1], got {q}")));
            }
        }
        for &a in &r.cvar {
            if !(a > 0.0 && a < 1.0) {
                return Err(CoreError::invalid("alpha", format!("must be in (0, 1), got {a}")));
            }
        }
        // a drawdown needs a positive NAV at month 0: a strategy's or a mix's (both start at 1)
        if r.drawdown && r.mix.is_empty() && !navs.contains(&r.output) {
            return Err(CoreError::invalid(
                "series",
                format!("{:?}: a drawdown is of a strategy's NAV or a mix", r.name),
            ));
        }
        if r.thresholds.iter().any(|c| c.is_nan()) {
            return Err(CoreError::invalid("thresholds", "must not be NaN"));
        }
        if !(r.a.is_finite() && r.b.is_finite()) {
            return Err(CoreError::invalid(
                "series",
                format!(
                    "{:?}: a and b of v = a + b·x must be finite, got {} and {}",
                    r.name, r.a, r.b
                ),
            ));
        }
    }
    Ok(())
}

/// A pass must fit `spec`: a grid per reducer, or targets naming reducers of
/// `spec` in the sorted order [`Finisher`] gives them (reducers absorb their
/// own runs of the list), with nonempty windows, disjoint within a reducer.
fn validate_pass(spec: &SummarySpec, k: usize, pass: &Pass) -> Result<()> {
    let ok = match pass {
        // one grid for every reducer (the finisher reads the histograms by it)
        Pass::Moments(maps) => {
            maps.len() == spec.reducers.len() && maps.iter().all(|m| m.is_valid() && m.grid == maps[0].grid)
        }
        Pass::Refine(t) | Pass::Collect(t, ..) => {
            // at most a window per (level, group) of each reducer, each level counting three
            // (α ± δ): a pass with more (corrupted bytes) would size histograms by its count
            let mut per = vec![0usize; spec.reducers.len()];
            for &(r, _) in t {
                if let Some(n) = per.get_mut(r) {
                    *n += 1;
                }
            }
            let within = per
                .iter()
                .zip(&spec.reducers)
                .all(|(&n, r)| n <= 3 * (r.quantiles.len() + r.cvar.len()) * (k + 1));
            // sorted, and a reducer's windows disjoint; a centre per (reducer, scenario)
            within
                && t.windows(2)
                    .all(|w| w[0].0 < w[1].0 || (w[0].0 == w[1].0 && w[0].1 .1 < w[1].1 .0))
                && t.iter().all(|&(r, w)| r < spec.reducers.len() && w.0 <= w.1)
                && match pass {
                    Pass::Collect(_, c, tails, _) => {
                        c.len() == spec.reducers.len() * k
                            && c.iter().all(|x| x.is_finite())
                            && tails.len() == t.len()
                            // (only a reducer with CVaR levels has sums above its windows)
                            && t.iter().zip(tails).all(|(&(r, _), &f)| !f || !spec.reducers[r].cvar.is_empty())
                    }
                    _ => true,
                }
        }
    };
    if ok {
        Ok(())
    } else {
        Err(CoreError::invalid("pass", "not a pass of this summary job"))
    }
}

/// Each reducer's value at t = 0 (the same on every path), subtracted before summing squares.
pub fn shifts(model: &Model, spec: &SummarySpec) -> Vec<f64> {
    let init = model.initial_values();
    let mut out = [0.0];
    spec.reducers
        .iter()
        .map(|r| {
            r.values(|o, _, _| init[o], 0, &mut out);
            out[0]
        })
        .collect()
}

impl SimRequest {
    /// Limits of a streaming request (no output memory is needed).
    pub fn validate_summary(&self, _model: &Model) -> Result<()> {
        if self.n_paths == 0 || self.n_paths > crate::engine::MAX_PATHS {
            return Err(CoreError::invalid(
                "n_paths",
                format!(
                    "must be an integer in [1, {}], got {}",
                    crate::engine::MAX_PATHS,
                    self.n_paths
                ),
            ));
        }
        if self.start > self.end || self.end > self.n_paths {
            return Err(CoreError::invalid(
                "paths",
                format!("range {}..{} is not inside 0..{}", self.start, self.end, self.n_paths),
            ));
        }
        if self.chunk_paths == 0 {
            return Err(CoreError::invalid("chunk_paths", "must be positive"));
        }
        if self.antithetic && (self.start % 2 == 1 || self.end % 2 == 1) {
            // a pair's twins are summarised together (their standard error)
            return Err(CoreError::invalid(
                "paths",
                format!(
                    "range {}..{} splits an antithetic pair: with antithetic=True a range starts and ends at an even path",
                    self.start, self.end
                ),
            ));
        }
        crate::engine::check_threads(self.threads)?;
        self.validate_qmc()
    }
}

/// The first of `bins` histogram bins (counts `hist(scenario, bin)`) after
/// which the group's CDF, starting from the counts below the target's
/// window, reaches the target level; the counts below that bin, and the
/// number of values in it (of every scenario).
///
/// Only the counts of the group's scenarios are carried (those of a scenario's
/// own row: one), since the others do not enter its CDF: the scan costs one
/// addition per bin for a scenario, not one per scenario.
fn first_bin_reaching(
    p: &[f64],
    n: &[u64],
    t: &Target,
    bins: usize,
    hist: impl Fn(usize, usize) -> u64,
) -> (usize, Vec<u64>, u64) {
    let tau = target(p, n, t.level, t.group);
    let members: Vec<usize> = match t.group {
        Some(g) => vec![g],
        None => (0..p.len()).collect(),
    };
    let mut counts = t.below.clone();
    for b in 0..bins {
        for &k in &members {
            counts[k] += hist(k, b);
        }
        if cdf(p, n, &counts, t.group) >= tau || b == bins - 1 {
            for &k in &members {
                counts[k] -= hist(k, b);
            }
            return (b, counts, (0..p.len()).map(|k| hist(k, b)).sum());
        }
    }
    unreachable!("a histogram has at least one bin")
}

/// [`first_bin_reaching`] for every target of `ts` at once, all of one reducer and
/// group and starting from the same counts below the same histogram (as after the
/// first pass): one walk over the bins, meeting the targets in order of level (the
/// CDF and the target grow with the counts and the level), instead of one walk each.
fn first_bins_reaching(
    p: &[f64],
    n: &[u64],
    ts: &[Target],
    bins: usize,
    hist: impl Fn(usize, usize) -> u64,
) -> Vec<(usize, Vec<u64>, u64)> {
    let Some(t0) = ts.first() else {
        return Vec::new();
    };
    debug_assert!(ts
        .iter()
        .all(|t| (t.reducer, t.group, &t.below) == (t0.reducer, t0.group, &t0.below)));
    let taus: Vec<f64> = ts.iter().map(|t| target(p, n, t.level, t.group)).collect();
    let mut order: Vec<usize> = (0..ts.len()).collect();
    order.sort_by(|&a, &b| taus[a].total_cmp(&taus[b]));
    let members: Vec<usize> = match t0.group {
        Some(g) => vec![g],
        None => (0..p.len()).collect(),
    };
    let mut out = vec![(0, Vec::new(), 0); ts.len()];
    let mut next = order.into_iter().peekable();
    let mut counts = t0.below.clone();
    for b in 0..bins {
        for &k in &members {
            counts[k] += hist(k, b);
        }
        let f = cdf(p, n, &counts, t0.group);
        while let Some(&i) = next.peek() {
            if !(f >= taus[i] || b == bins - 1) {
                break;
            }
            let mut below = counts.clone();
            for &k in &members {
                below[k] -= hist(k, b);
            }
            out[i] = (b, below, (0..p.len()).map(|k| hist(k, b)).sum());
            next.next();
        }
        if next.peek().is_none() {
            break;
        }
    }
    out
}

/// Bytes of a refining pass's histograms: SUB_BINS counts per window and scenario.
fn refine_bytes(windows: usize, scenarios: usize) -> f64 {
    windows as f64 * scenarios as f64 * (SUB_BINS * std::mem::size_of::<u64>()) as f64
}

/// Refuse a refining or collecting pass over `scenarios` scenarios if `copies` of what
/// it holds (its sub-bin histograms, or `collected` bytes of the keys it collects) and
/// `working` bytes of its run would not fit in the memory available.
fn check_pass_memory(pass: &Pass, scenarios: usize, collected: f64, copies: u128, working: u128) -> Result<()> {
    let (windows, bytes, what) = match pass {
        Pass::Refine(t) => (t.len(), refine_bytes(t.len(), scenarios), "sub-bin histograms"),
        Pass::Collect(t, ..) => (t.len(), collected, "collected values"),
        Pass::Moments(_) => return Ok(()),
    };
    refuse_beyond_memory(bytes as u128, copies, working, |size| {
        // (a collecting pass run by a worker knows only its buffers: the keys are the client's estimate)
        let copy = (bytes > 0.0).then(|| format!("{size} of {what} per copy"));
        format!(
            "a summary's pass over {windows} windows of values around its quantiles ({}; ask for fewer \
             quantile levels, series or strategies per call)",
            sizes(copy, working)
        )
    })
}

/// The sizes a memory refusal gives: one `copy`'s (if any), and the run's `working` bytes
/// (if any).
fn sizes(copy: Option<String>, working: u128) -> String {
    let run = (working > 0).then(|| {
        format!(
            "{} of the run's buffers: a wave of reduced values and each thread's chunk of paths, less on \
             fewer threads or chunk_paths",
            crate::error::human_bytes(working)
        )
    });
    [copy, run].into_iter().flatten().collect::<Vec<_>>().join(", and ")
}

/// A quantile found: of reducer `reducer` at level `alpha` in group `group` (None =
/// all), its `value`, its window's index in the collecting pass's list, and each
/// scenario's count of values at or below it.
struct Quantile {
    reducer: usize,
    group: Option<usize>,
    alpha: f64,
    value: f64,
    window: usize,
    at_most: Vec<u64>,
}

/// A scenario's terms in the standard errors of a VaR and its CVaR
/// ([`Finisher::var_cvar_se`]): over its paths, Σ e and Σ e² of the excess
/// e = (v − VaR)+; under antithetic pairs, Σ e_a·e_b over its pairs and the
/// count of pairs with both twins at or below the VaR (0 otherwise).
struct Excess {
    k: usize,
    sum: f64,
    sum_sq: f64,
    cross: f64,
    both_at_most: u64,
}

/// Each target's index by (reducer, group, bits of its level).
type TargetIndex = HashMap<(usize, Option<usize>, u64), usize>;

/// The state of a whole summary between passes.
#[derive(Debug, Clone)]
pub struct Finisher {
    pub p: Vec<f64>,
    pub n: Vec<u64>,
    pub shifts: Vec<f64>,
    /// Each (reducer, scenario)'s mean after the first pass: the centres of
    /// the collecting pass's moments (the shift until then).
    pub centers: Vec<f64>,
    pub targets: Vec<Target>,
    /// Distinct keys a collecting pass may expect before windows are cut finer.
    pub budget: u64,
    /// Bytes a collected key is taken to cost when weighing collecting against
    /// cutting windows finer (40 by default; infinite: cut whenever over budget).
    pub key_bytes: f64,
    /// Each reducer's first-pass map, whose pilot's atoms tell the keys a window holds.
    maps: Vec<BinMap>,
    /// The distinct keys the windows of the last pass chosen are expected to hold.
    expected_keys: f64,
    /// Antithetic pairs: a scenario's standard error is that of its pairs' means.
    pairs: bool,
    /// Bytes a run of the next pass holds besides its partial, as its caller sets them
    /// ([`working_bytes`] of its runs; 0 over materialised values, or where the passes
    /// run elsewhere).
    pub working: u128,
}

impl Finisher {
    pub fn new(model: &Model, spec: &SummarySpec, n_paths: u64, antithetic: bool) -> Result<Finisher> {
        let alloc = Allocation::new(&model.probabilities, n_paths as usize, antithetic)?;
        Ok(Finisher::with(&model.probabilities, &alloc, shifts(model, spec), spec))
    }

    /// The finisher of `spec` over the paths of `alloc`: a quantile search
    /// per reducer, group (each non-empty scenario, then all) and level, the
    /// levels α ± δ of each quantile and CVaR level α among them (for the standard error
    /// of its quantile or VaR, [`Finisher::quantile_se`]).
    fn with(p: &[f64], alloc: &Allocation, shifts: Vec<f64>, spec: &SummarySpec) -> Finisher {
        let k_n = p.len();
        let n: Vec<u64> = alloc.counts.iter().map(|&c| c as u64).collect();
        let mut targets = Vec::new();
        for (ri, r) in spec.reducers.iter().enumerate() {
            for g in (0..k_n).filter(|&k| alloc.counts[k] > 0).map(Some).chain([None]) {
                let n_eff = effective_paths(p, &n, g);
                let sides: Vec<f64> = r
                    .quantiles
                    .iter()
                    .chain(&r.cvar)
                    .flat_map(|&a| {
                        let d = sparsity_bandwidth(a, n_eff);
                        [a - d, a + d]
                    })
                    .filter(|l| l.is_finite())
                    .collect();
                for &q in r.quantiles.iter().chain(&r.cvar).chain(&sides) {
                    targets.push(Target {
                        var: r.cvar.contains(&q),
                        reducer: ri,
                        group: g,
                        level: q,
                        window: (0, u64::MAX),
                        below: vec![0; k_n],
                        inside: alloc.counts.iter().sum::<usize>() as u64,
                    });
                }
            }
        }
        Finisher {
            p: p.to_vec(),
            n,
            centers: shifts.iter().flat_map(|&s| std::iter::repeat_n(s, k_n)).collect(),
            shifts,
            targets,
            budget: COLLECT_BUDGET,
            key_bytes: KEY_BYTES,
            maps: Vec::new(),
            expected_keys: 0.0,
            pairs: alloc.pairs,
            working: 0,
        }
    }

    /// After the first pass: each target's bin on its reducer's grid; returns the next pass.
    pub fn after_moments(&mut self, part: &Partial) -> Pass {
        let k_n = part.k;
        let Pass::Moments(maps) = &part.pass else {
            return Pass::Collect(Vec::new(), self.centers.clone(), Vec::new(), self.pairs);
        };
        self.maps = maps.clone();
        for (i, c) in self.centers.iter_mut().enumerate() {
            let (r, k) = (i / k_n, i % k_n);
            let mean = self.shifts[r] + part.sums[i].total()[0] / self.n[k] as f64;
            if self.n[k] > 0 && mean.is_finite() {
                *c = mean;
            }
        }
        // the targets of one reducer and group are consecutive, and all start below the
        // whole histogram: each run of them is found in one walk over the bins
        let mut start = 0;
        while start < self.targets.len() {
            let (r, g) = (self.targets[start].reducer, self.targets[start].group);
            let len = self.targets[start..]
                .iter()
                .take_while(|t| (t.reducer, t.group) == (r, g))
                .count();
            let run = &mut self.targets[start..start + len];
            let bins = maps[r].bins();
            let hist = |k: usize, b: usize| part.hist[(r * k_n + k) * bins + b];
            let found = first_bins_reaching(&self.p, &self.n, run, bins, hist);
            for (t, (found, below, inside)) in run.iter_mut().zip(found) {
                t.window = maps[r].window(found);
                (t.below, t.inside) = (below, inside);
            }
            start += len;
        }
        self.next_pass()
    }

    /// After a refining pass: each target's sub-bin of its window; returns the next pass.
    pub fn after_refine(&mut self, part: &Partial) -> Pass {
        let k_n = part.k;
        let Pass::Refine(list) = &part.pass else {
            return Pass::Collect(Vec::new(), self.centers.clone(), Vec::new(), self.pairs);
        };
        for t in &mut self.targets {
            // (sorted by windows(); a window the pass did not cut keeps its counts)
            let Ok(ti) = list.binary_search(&(t.reducer, t.window)) else {
                continue;
            };
            let hist = |k: usize, b: usize| part.hist[(ti * k_n + k) * SUB_BINS + b];
            let (found, below, inside) = first_bin_reaching(&self.p, &self.n, t, SUB_BINS, hist);
            t.window = sub_window(t.window, found);
            (t.below, t.inside) = (below, inside);
        }
        self.next_pass()
    }

    /// Collect the windows' keys if they fit the budget, if no window can be cut
    /// finer, or if cutting would take more memory than collecting; otherwise cut
    /// them. A window of n values is expected to hold n distinct keys, or, if it
    /// holds atoms of the pilot, those and n × the share of the pilot's values in it
    /// that are not atoms ([`BinMap::expected_keys`]): a count's integers do not look
    /// like n keys, nor the values beside a ruined NAV's 0 like a few.
    ///
    /// A window that holds a VaR is weighed by its own keys alone, the others together:
    /// its CVaR's tail sum splits at the window's top (the paths above it summed in path
    /// order, the keys inside it in key order), so that window must not depend on the
    /// other series of the summary for the CVaR to have the same bits in any of them (a
    /// risk table of one strategy, and a streamed summary of every series). The windows a
    /// pass cuts finer are those that can be; the others keep theirs.
    fn next_pass(&mut self) -> Pass {
        let (list, keys) = self.windows_and_keys();
        let tails = self.tails(&list);
        self.expected_keys = keys.iter().sum();
        let can_cut = |w: Window| w.1 - w.0 >= SUB_BINS as u64;
        // cut windows finer only where that takes less memory than collecting their keys:
        // many targets, each with a few too many keys, are collected (their sub-bin
        // histograms, a count per sub-bin and scenario, would outweigh the keys)
        let worth = |windows: usize, keys: f64| {
            keys > self.budget as f64 && refine_bytes(windows, self.p.len()) < keys * self.key_bytes
        };
        let pooled = list
            .iter()
            .zip(&tails)
            .filter(|&(&(_, w), &tail)| !tail && can_cut(w))
            .count();
        let pooled_keys: f64 = keys
            .iter()
            .zip(&tails)
            .filter(|&(_, &tail)| !tail)
            .map(|(k, _)| k)
            .sum();
        let cut_pooled = pooled > 0 && worth(pooled, pooled_keys);
        let cut: Vec<(usize, Window)> = list
            .iter()
            .zip(&tails)
            .zip(&keys)
            .filter(|&((&(_, w), &tail), &k)| can_cut(w) && if tail { worth(1, k) } else { cut_pooled })
            .map(|((&x, _), _)| x)
            .collect();
        if cut.is_empty() {
            Pass::Collect(list, self.centers.clone(), tails, self.pairs)
        } else {
            Pass::Refine(cut)
        }
    }

    /// Whether the counts of `part`, the merged partial of all the job's paths for its
    /// pass, add up: each reducer's first-pass histogram holds each scenario's paths once
    /// (none, for a reducer without one: [`Reducer::has_histogram`]), and each window of
    /// a refining or collecting pass the values the pass before found inside it. If not,
    /// what does not add up: the partial holds other paths (another job's shard) or
    /// altered counts, and would give quantiles of values that were never drawn.
    pub fn check_counts(&self, spec: &SummarySpec, part: &Partial) -> std::result::Result<(), String> {
        let k_n = part.k;
        let name = |r: usize| spec.reducers.get(r).map_or("?", |red| red.name.as_str());
        let count = |c: Option<u64>| c.map_or("more than 2^64".into(), |c| c.to_string());
        match &part.pass {
            Pass::Moments(maps) => {
                let mut at = 0;
                for (r, map) in maps.iter().enumerate() {
                    let counted = spec.reducers.get(r).is_some_and(Reducer::has_histogram);
                    for k in 0..k_n {
                        let bins = part.hist.get(at..at + map.bins()).unwrap_or(&[]);
                        at += map.bins();
                        let got = checked_total(bins.iter().copied());
                        let paths = if counted {
                            self.n.get(k).copied().unwrap_or(0)
                        } else {
                            0
                        };
                        if got != Some(paths) {
                            return Err(format!(
                                "the histogram of {:?} counts {} paths of scenario {k}, where {paths} belong",
                                name(r),
                                count(got)
                            ));
                        }
                    }
                }
            }
            Pass::Refine(list) | Pass::Collect(list, ..) => {
                let first = self.first_targets();
                for (ti, &(r, w)) in list.iter().enumerate() {
                    let Some(inside) = first.get(&(r, w)).map(|t| t.inside) else {
                        return Err(format!("a window of {:?} that the pass before did not lay", name(r)));
                    };
                    let got = match &part.pass {
                        Pass::Refine(_) => {
                            let sub = part.hist.get(ti * k_n * SUB_BINS..(ti + 1) * k_n * SUB_BINS);
                            checked_total(sub.unwrap_or(&[]).iter().copied())
                        }
                        _ => {
                            let maps = part.values.get(ti * k_n..(ti + 1) * k_n).unwrap_or(&[]);
                            checked_total(maps.iter().flat_map(|m| m.values().copied()))
                        }
                    };
                    if got != Some(inside) {
                        return Err(format!(
                            "a window of {:?} counts {} values, where the pass before found {inside}",
                            name(r),
                            count(got)
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The pass after `part`, a first or refining pass, refused if `copies` of what it
    /// holds, and the [`working`](Finisher::working) bytes of its run, would not fit in
    /// the memory available. All or nothing: refused, the
    /// finisher is left as it was, so that the same partial can be fed again.
    pub fn next_after(&mut self, part: &Partial, copies: u128) -> Result<Pass> {
        let mut moved = self.clone();
        let next = match part.pass {
            Pass::Moments(_) => moved.after_moments(part),
            _ => moved.after_refine(part),
        };
        moved.check_next(&next, copies, self.working)?;
        *self = moved;
        Ok(next)
    }

    /// Refuse the pass just chosen, `next`, if `copies` of what it holds (its sub-bin
    /// histograms, or the keys it collects) and `working` bytes of its run would not
    /// fit in the memory available.
    pub fn check_next(&self, next: &Pass, copies: u128, working: u128) -> Result<()> {
        let bytes = match next {
            Pass::Collect(_, _, _, pairs) => self.collect_bytes(*pairs),
            _ => 0.0, // (a refining pass's size is the pass's own)
        };
        check_pass_memory(next, self.p.len(), bytes, copies, working)
    }

    /// The bytes a collecting pass over the windows of the last pass chosen is expected to
    /// take: their keys and, under antithetic `pairs`, the pairs with a twin inside them,
    /// taken to be as many as the keys (fewer where twins share a window, more beside an
    /// atom, whose few keys have twins of many values).
    fn collect_bytes(&self, pairs: bool) -> f64 {
        let pair_bytes = if pairs { PAIR_KEY_BYTES } else { 0.0 };
        self.expected_keys * (KEY_BYTES.min(self.key_bytes) + pair_bytes)
    }

    /// The targets' distinct windows, and the keys each is expected to hold.
    fn windows_and_keys(&self) -> (Vec<(usize, Window)>, Vec<f64>) {
        let list = self.windows();
        let first = self.first_targets();
        let keys = list
            .iter()
            .map(|x| match first.get(x) {
                Some(t) => match self.maps.get(t.reducer) {
                    Some(map) => map.expected_keys(t.window, t.inside),
                    None => t.inside as f64,
                },
                None => 0.0,
            })
            .collect();
        (list, keys)
    }

    /// Each (reducer, window)'s first target, for one look-up per window rather than a
    /// search of the targets (the targets of a window share its counts).
    fn first_targets(&self) -> HashMap<(usize, Window), &Target> {
        let mut first = HashMap::new();
        for t in &self.targets {
            first.entry((t.reducer, t.window)).or_insert(t);
        }
        first
    }

    /// Whether each window of `list` (from [`Finisher::windows`]) holds a VaR.
    fn tails(&self, list: &[(usize, Window)]) -> Vec<bool> {
        let mut out = vec![false; list.len()];
        for t in self.targets.iter().filter(|t| t.var) {
            if let Ok(i) = list.binary_search(&(t.reducer, t.window)) {
                out[i] = true;
            }
        }
        out
    }

    fn windows(&self) -> Vec<(usize, Window)> {
        let mut v: Vec<(usize, Window)> = self.targets.iter().map(|t| (t.reducer, t.window)).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The squared Monte Carlo standard error of a scenario's mean over its `n`
    /// paths, whose deviations from the centre have mean `d`, population
    /// variance `var`, sum of squares `sum_d2` and, under antithetic pairs, sum of
    /// the twins' products `sum_cross`: var / (n − 1) for independent paths (the
    /// sample variance over n), and the same of the n/2 pairs' means under
    /// antithetic pairs, whose twins are not independent. NaN for a single path
    /// or pair, which has no spread to measure.
    fn squared_se(&self, n: u64, var: f64, d: f64, sum_d2: f64, sum_cross: f64) -> f64 {
        if !self.pairs {
            return if n > 1 { var / (n - 1) as f64 } else { f64::NAN };
        }
        let units = n / 2;
        if units < 2 {
            return f64::NAN;
        }
        // a pair's mean deviation is (d_a + d_b)/2: Σ of its squares is (Σd² + 2Σd_a·d_b)/4
        let v = (sum_d2 + 2.0 * sum_cross) / (2 * n) as f64 - d * d;
        if v >= 0.0 || v.is_nan() {
            v / (units - 1) as f64
        } else {
            0.0
        }
    }

    /// [`Finisher::squared_se`] of a scenario's share of its `n` paths above a level:
    /// `above` of them, and `both` antithetic pairs with both twins above (a draw is a
    /// pair, whose mean is 0, 1/2 or 1). NaN for a single path or pair.
    fn squared_se_of_share(&self, n: u64, above: u64, both: u64) -> f64 {
        // an indicator I has I² = I: its deviations from 0 have Σd² = above, Σd_a·d_b = both
        let share = above as f64 / n as f64;
        self.squared_se(n, share * (1.0 - share), share, above as f64, both as f64)
    }

    /// After the collecting pass: every statistic, `[reducer][group]` with group K = all paths.
    pub fn finish(&self, spec: &SummarySpec, moments: &Partial, collected: &Partial) -> Vec<Vec<GroupStats>> {
        let k_n = moments.k;
        let Pass::Collect(list, centers, ..) = &collected.pass else {
            return Vec::new();
        };
        // each window's distinct keys in order, with their per-scenario counts
        let windows: Vec<Vec<(u64, Vec<u64>)>> = (0..list.len())
            .map(|ti| {
                let mut all: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
                for k in 0..k_n {
                    for (&kv, &c) in &collected.values[ti * k_n + k] {
                        all.entry(kv).or_insert_with(|| vec![0; k_n])[k] += c;
                    }
                }
                all.into_iter().collect()
            })
            .collect();
        // each (reducer, scenario)'s mean, variance and squared standard error of the
        // mean, from the moments about its centre
        let scenario_moments: Vec<(f64, f64, f64)> = collected
            .sums
            .iter()
            .zip(centers)
            .enumerate()
            .map(|(i, (s, &c))| {
                let n = self.n[i % k_n];
                let t = s.total();
                let (d, d2) = (t[0] / n as f64, t[1] / n as f64);
                // (not `max(0.0)`, which would turn the NaN of an overflowed d·d into 0)
                let var = d2 - d * d;
                let var = if n > 1 && (var >= 0.0 || var.is_nan()) {
                    var
                } else {
                    0.0
                };
                (c + d, var, self.squared_se(n, var, d, t[1], t[2]))
            })
            .collect();
        // each target by (reducer, group, level), the first of a level given twice
        let mut index = TargetIndex::new();
        for (i, t) in self.targets.iter().enumerate() {
            index.entry((t.reducer, t.group, t.level.to_bits())).or_insert(i);
        }
        let mut out = Vec::new();
        let mut t_off = 0;
        for (ri, r) in spec.reducers.iter().enumerate() {
            let splits: Vec<Vec<f64>> = r
                .cvar
                .iter()
                .map(|&alpha| self.tail_split(ri, alpha, list, &windows, collected, &index))
                .collect();
            let mut per_group = Vec::new();
            for g in (0..k_n).map(Some).chain([None]) {
                let members: Vec<usize> = (0..k_n)
                    .filter(|&k| self.n[k] > 0 && g.is_none_or(|x| x == k))
                    .collect();
                let mass: f64 = members.iter().map(|&k| self.p[k]).sum();
                let shift = self.shifts[ri];
                // law of total variance over the group's scenarios, each weighing
                // p_k / mass (exactly 1 for a scenario's own row, whose statistics
                // then do not depend on the probabilities)
                let of = |k: usize| scenario_moments[ri * k_n + k];
                let (mut mean, mut var) = if mass > 0.0 { (0.0, 0.0) } else { (f64::NAN, f64::NAN) };
                for &k in &members {
                    mean += self.p[k] / mass * of(k).0;
                }
                // the scenarios' path counts are fixed (stratified sampling), so the
                // group mean's variance is Σ (p_k / mass)² se_k²
                let mut se2 = if mass > 0.0 { 0.0 } else { f64::NAN };
                for &k in &members {
                    let (m, v, s2) = of(k);
                    var += self.p[k] / mass * (v + (m - mean) * (m - mean));
                    if self.p[k] > 0.0 {
                        // (a scenario reweighted to 0 adds nothing, even the NaN of one path)
                        se2 += (self.p[k] / mass) * (self.p[k] / mass) * s2;
                    }
                }
                let (mut p_above, mut p_above_se) = (Vec::new(), Vec::new());
                let th = r.thresholds.len();
                for ci in 0..th {
                    let mut pa = if mass > 0.0 { 0.0 } else { f64::NAN };
                    let mut pa_se2 = pa;
                    for &k in &members {
                        let above = moments.counts[(t_off + ci) * k_n + k];
                        pa += self.p[k] / mass * (above as f64 / self.n[k] as f64);
                        if self.p[k] > 0.0 {
                            let both = moments.counts[(t_off + th + ci) * k_n + k];
                            pa_se2 += (self.p[k] / mass)
                                * (self.p[k] / mass)
                                * self.squared_se_of_share(self.n[k], above, both);
                        }
                    }
                    p_above.push(pa);
                    p_above_se.push(pa_se2.sqrt());
                }
                let find = |level: f64| self.quantile(ri, g, level, list, &windows, &index);
                let (mut quantiles, mut quantiles_se) = (Vec::new(), Vec::new());
                for &q in &r.quantiles {
                    let (value, ti, at_most) = find(q);
                    quantiles.push(value);
                    let se = match ti {
                        Some(ti) if !value.is_nan() => {
                            let draws: Vec<(usize, u64)> = members
                                .iter()
                                .map(|&k| (k, self.pairs_at_most(collected, ti, k, value)))
                                .collect();
                            let at = Quantile {
                                reducer: ri,
                                group: g,
                                alpha: q,
                                value,
                                window: ti,
                                at_most,
                            };
                            let tail = q.min(1.0 - q);
                            self.quantile_se(&at, tail, mass, &draws, list, &windows, &index)
                        }
                        _ => None,
                    };
                    quantiles_se.push(se.unwrap_or(f64::NAN));
                }
                let (mut var_cvar, mut var_cvar_se) = (Vec::new(), Vec::new());
                for &alpha in &r.cvar {
                    let (var_a, Some(ti), at_most) = find(alpha) else {
                        var_cvar.push((f64::NAN, f64::NAN));
                        var_cvar_se.push((f64::NAN, f64::NAN));
                        continue;
                    };
                    // E[(v − VaR)+] = Σ_k p_k/n_k Σ_{v_i > VaR} (v_i − VaR)
                    let mut excess = 0.0;
                    let mut excesses = Vec::with_capacity(members.len());
                    for &k in &members {
                        let tl = collected.tail[ti * k_n + k].total();
                        let (sum_shifted, count, sum_sq) = (tl[0], tl[1], tl[2]);
                        let gap = shift - var_a;
                        let mut e_k = sum_shifted + count * gap;
                        // Σ (v − VaR)² = Σ (v − shift)² + 2 (shift − VaR) Σ (v − shift) + count (shift − VaR)²
                        let mut e2_k = sum_sq + 2.0 * gap * sum_shifted + count * gap * gap;
                        for (kv, c) in &windows[ti] {
                            let v = unkey(*kv);
                            if v > var_a {
                                e_k += c[k] as f64 * (v - var_a);
                                e2_k += c[k] as f64 * (v - var_a) * (v - var_a);
                            }
                        }
                        excess += self.p[k] / mass * (e_k / self.n[k] as f64);
                        let mut cross = 0.0;
                        if self.pairs {
                            // pairs with both twins above the window: Σ (a − VaR)(b − VaR) from
                            // the sums about the shift; the others by their keys
                            cross = tl[3] + gap * tl[4] + gap * gap * tl[5];
                            for (&(ka, kb), &c) in &collected.pair_keys[ti * k_n + k] {
                                let (a, b) = (unkey(ka), unkey(kb));
                                if a > var_a && b > var_a {
                                    cross += c as f64 * (a - var_a) * (b - var_a);
                                }
                            }
                        }
                        excesses.push(Excess {
                            k,
                            sum: e_k,
                            sum_sq: e2_k,
                            cross,
                            both_at_most: self.pairs_at_most(collected, ti, k, var_a),
                        });
                    }
                    let excess = if mass > 0.0 { excess } else { f64::NAN };
                    var_cvar.push((var_a, var_a + excess / (1.0 - alpha)));
                    let at = Quantile {
                        reducer: ri,
                        group: g,
                        alpha,
                        value: var_a,
                        window: ti,
                        at_most,
                    };
                    var_cvar_se.push(self.var_cvar_se(&at, mass, &excesses, list, &windows, &index));
                }
                let tail_share = match g {
                    None => vec![if mass > 0.0 { 1.0 } else { f64::NAN }; r.cvar.len()],
                    Some(k) => splits.iter().map(|s| s[k]).collect(),
                };
                per_group.push(GroupStats {
                    mass,
                    mean,
                    mean_se: se2.sqrt(),
                    std: var.sqrt(),
                    quantiles,
                    quantiles_se,
                    p_above,
                    p_above_se,
                    var_cvar,
                    var_cvar_se,
                    tail_share,
                });
            }
            t_off += 2 * r.thresholds.len();
            out.push(per_group);
        }
        out
    }

    /// The Monte Carlo standard errors of a group's VaR and CVaR at level α, `at`
    /// (of mass `mass`, with each member scenario's terms in `excesses`), from the
    /// linearisations of the two estimators (docs/MODEL.md §6):
    ///
    /// - VaR (Bahadur): VaR^ − VaR ≈ (α − F^(VaR)) / f(VaR), so its error is that of
    ///   the share F^(VaR) of the group's values at or below it (a stratified mean of
    ///   an indicator, as `p_above_se`) times the sparsity 1/f, estimated by the
    ///   secant of the quantile function between its levels α ∓ δ, Hall and Sheather's
    ///   δ ([`sparsity_bandwidth`]): (Q(α + δ) − Q(α − δ)) over the weight between the
    ///   two values (2δ up to the steps of the empirical CDF);
    /// - CVaR = VaR + E[(v − VaR)+] / (1 − α), whose derivative in VaR is 0 at the
    ///   true VaR: its error is that of the stratified mean of (v − VaR)+, over 1 − α.
    ///
    /// Under antithetic pairs the draws are the pairs, as for a mean. NaN for a group
    /// without mass, when its heaviest path weighs more than the tail 1 − α (the VaR is
    /// one path's value) and for a scenario of a single path (or pair); the VaR's is 0
    /// when both levels α ∓ δ fall on an atom of several draws at the VaR (both NaN on
    /// one draw), and NaN when every antithetic pair of a scenario straddles the VaR (its
    /// share's first-order error is then 0, the VaR's is not).
    fn var_cvar_se(
        &self,
        at: &Quantile,
        mass: f64,
        excesses: &[Excess],
        list: &[(usize, Window)],
        windows: &[Vec<(u64, Vec<u64>)>],
        index: &TargetIndex,
    ) -> (f64, f64) {
        let draws: Vec<(usize, u64)> = excesses.iter().map(|x| (x.k, x.both_at_most)).collect();
        let Some(var_se) = self.quantile_se(at, 1.0 - at.alpha, mass, &draws, list, windows, index) else {
            return (f64::NAN, f64::NAN);
        };
        let mut se2_excess = 0.0;
        for x in excesses.iter().filter(|x| self.p[x.k] > 0.0) {
            let (w, n) = (self.p[x.k] / mass, self.n[x.k]);
            let (m, m2) = (x.sum / n as f64, x.sum_sq / n as f64);
            let var = m2 - m * m;
            let var = if var >= 0.0 || var.is_nan() { var } else { 0.0 };
            se2_excess += w * w * self.squared_se(n, var, m, x.sum_sq, x.cross);
        }
        (var_se, se2_excess.sqrt() / (1.0 - at.alpha))
    }

    /// The Monte Carlo standard error of a group's quantile `at` (Bahadur, as the VaR's
    /// in [`Finisher::var_cvar_se`]): the error of the share of the group's weight at or
    /// below it, times the secant of the quantile function between its levels α ∓ δ.
    /// `draws` holds each member scenario and, under antithetic pairs, its count of pairs
    /// with both twins at or below the quantile. None (no error for the quantile, nor for
    /// a CVaR built on it) for a group without mass, when its heaviest path weighs more
    /// than `tail` (the quantile is then one path's value: 1 − α for a VaR, the smaller
    /// of α and 1 − α for a quantile) or when a single draw spans α ∓ δ; 0 when an atom of
    /// several draws spans them; NaN when every antithetic pair of a scenario straddles
    /// the quantile (the share's first-order error is then 0, the quantile's is not).
    #[allow(clippy::too_many_arguments)]
    fn quantile_se(
        &self,
        at: &Quantile,
        tail: f64,
        mass: f64,
        draws: &[(usize, u64)],
        list: &[(usize, Window)],
        windows: &[Vec<(u64, Vec<u64>)>],
        index: &TargetIndex,
    ) -> Option<f64> {
        let (ri, g, alpha, at_most) = (at.reducer, at.group, at.alpha, &at.at_most);
        let live = || draws.iter().filter(|&&(k, _)| self.p[k] > 0.0);
        // a group whose heaviest path weighs more than the tail: its quantile is one
        // path's value, with nothing to estimate a spread from
        let heaviest = live()
            .map(|&(k, _)| self.p[k] / mass / self.n[k] as f64)
            .fold(0.0, f64::max);
        // (with a relative tolerance: a weight of 0.1 against 1 − 0.9 = 0.09999999999999998)
        if mass.is_nan() || mass <= 0.0 || heaviest > tail * (1.0 + 1e-12) {
            return None;
        }
        let mut se2_share = 0.0;
        // antithetic twins that straddle the quantile, every one of them (at the median of
        // a symmetric response): the share's first-order error vanishes, not the quantile's
        let mut straddled = false;
        for &(k, both) in live() {
            let (w, n) = (self.p[k] / mass, self.n[k]);
            let s2 = self.squared_se_of_share(n, at_most[k], both);
            straddled |= self.pairs && s2 == 0.0 && 0 < at_most[k] && at_most[k] < n;
            se2_share += w * w * s2;
        }
        // the secant of the quantile function between its levels α ∓ δ: the difference of
        // the two values over the weight between them (2δ up to the steps of the CDF)
        let d = sparsity_bandwidth(alpha, effective_paths(&self.p, &self.n, g));
        let (lo, _, c_lo) = self.quantile(ri, g, alpha - d, list, windows, index);
        let (hi, _, c_hi) = self.quantile(ri, g, alpha + d, list, windows, index);
        if lo.is_nan() || hi.is_nan() {
            return None;
        }
        let sparsity = if hi > lo {
            let f = |counts: &[u64]| cdf(&self.p, &self.n, counts, g);
            (hi - lo) / ((f(&c_hi) - f(&c_lo)) / mass)
        } else {
            // one value spans both levels: an atom of several paths (the quantile does not
            // move), or a single path
            let key_at = key(at.value);
            let paths: u64 = windows[at.window]
                .iter()
                .filter(|(kv, _)| *kv == key_at)
                .flat_map(|(_, c)| live().map(|&(k, _)| c[k]))
                .sum();
            // (more than one draw: two twins are one pair)
            if paths <= if self.pairs { 2 } else { 1 } {
                return None;
            }
            0.0
        };
        Some(if straddled {
            f64::NAN
        } else {
            se2_share.sqrt() * sparsity
        })
    }

    /// Under antithetic pairs, scenario k's pairs with both twins at or below `v`, a value
    /// inside window `ti` of the collecting pass `collected` (the pairs both below the
    /// window are counted there, those with a twin inside it by their keys); 0 without pairs.
    fn pairs_at_most(&self, collected: &Partial, ti: usize, k: usize, v: f64) -> u64 {
        if !self.pairs {
            return 0;
        }
        let at = ti * collected.k + k;
        let mut both = collected.counts[at];
        for (&(ka, kb), &c) in &collected.pair_keys[at] {
            if unkey(ka) <= v && unkey(kb) <= v {
                both += c;
            }
        }
        both
    }

    /// The exact quantile of reducer `ri` at `level` in group `g` (None = all), read
    /// from its window's collected keys, with the window's index in the collecting
    /// pass's `list` (None: no such target) and each scenario's count of values at or
    /// below it (those the group's CDF counts; empty if there is no such target).
    fn quantile(
        &self,
        ri: usize,
        g: Option<usize>,
        level: f64,
        list: &[(usize, Window)],
        windows: &[Vec<(u64, Vec<u64>)>],
        index: &TargetIndex,
    ) -> (f64, Option<usize>, Vec<u64>) {
        let Some(t) = index.get(&(ri, g, level.to_bits())).map(|&i| &self.targets[i]) else {
            return (f64::NAN, None, Vec::new());
        };
        let ti = list.binary_search(&(ri, t.window)).unwrap_or(0); // sorted by windows()
        let tau = target(&self.p, &self.n, level, g);
        let mut counts = t.below.clone();
        for (kv, c) in &windows[ti] {
            for (a, b) in counts.iter_mut().zip(c) {
                *a += b;
            }
            if cdf(&self.p, &self.n, &counts, g) >= tau {
                return (unkey(*kv), Some(ti), counts);
            }
        }
        (f64::NAN, Some(ti), counts)
    }

    /// Each scenario's share of reducer `ri`'s overall tail at level α: every path
    /// with v > VaR_α, plus the part of the VaR atom that makes the tail's probability
    /// 1 − α ([`crate::risk::table::tail_shares`], as the sorted risk table splits it).
    fn tail_split(
        &self,
        ri: usize,
        alpha: f64,
        list: &[(usize, Window)],
        windows: &[Vec<(u64, Vec<u64>)>],
        collected: &Partial,
        index: &TargetIndex,
    ) -> Vec<f64> {
        let k_n = self.p.len();
        let (var_a, Some(ti), _) = self.quantile(ri, None, alpha, list, windows, index) else {
            return vec![f64::NAN; k_n];
        };
        let members: Vec<usize> = (0..k_n).filter(|&k| self.n[k] > 0).collect();
        let mass: f64 = members.iter().map(|&k| self.p[k]).sum();
        let (mut above, mut atom) = (vec![0.0; k_n], vec![0.0; k_n]);
        for &k in &members {
            // the values above the window, counted by the collecting pass, then the window's
            let (mut n_above, mut n_atom) = (collected.tail[ti * k_n + k].total()[1], 0u64);
            for (kv, c) in &windows[ti] {
                let v = unkey(*kv);
                if v > var_a {
                    n_above += c[k] as f64;
                } else if v == var_a {
                    n_atom += c[k];
                }
            }
            let w = self.p[k] / mass / self.n[k] as f64;
            (above[k], atom[k]) = (w * n_above, w * n_atom as f64);
        }
        crate::risk::table::tail_shares(&above, &atom, alpha)
    }
}

/// The first pass of a summary of `req.n_paths` paths: each reducer's grid
/// over its values on the pilot paths ([`pilot_runs`]), simulated here; refused
/// if `copies` of its histograms and `working` bytes of a run would not fit (as in
/// [`run_pass`]).
pub fn first_pass(model: &Model, spec: &SummarySpec, req: &SimRequest, copies: u128, working: u128) -> Result<Pass> {
    validate_spec(model, spec)?;
    // the caller merges this pass's histograms: refuse them here, before the pilot runs
    check_memory(model, spec, grid_bins(req.n_paths), copies, working)?;
    let alloc = Allocation::new(&model.probabilities, req.n_paths as usize, req.antithetic)?;
    let qmc = req.qmc_shocks(model)?;
    let ctx = req.ctx(model, &alloc, qmc.as_ref());
    let mut pilot = vec![Vec::new(); spec.reducers.len()];
    for (first, rows) in pilot_runs(req.n_paths) {
        let rows = rows as usize;
        let (vals, _) = chunk_values(&ctx, spec, first, rows)?;
        for (i, p) in pilot.iter_mut().enumerate() {
            p.extend_from_slice(&vals[i * rows..(i + 1) * rows]);
        }
    }
    let grid = grid_bins(req.n_paths);
    Ok(Pass::Moments(
        pilot
            .into_iter()
            .map(|p| BinMap::from_pilot(p.into_iter(), grid))
            .collect(),
    ))
}

/// Every pass over `req`'s range in this process.
pub fn summarize(
    model: &Model,
    spec: &SummarySpec,
    req: &SimRequest,
    control: &Control,
) -> Result<Vec<Vec<GroupStats>>> {
    let mut fin = Finisher::new(model, spec, req.n_paths, req.antithetic)?;
    fin.working = request_working_bytes(model, spec, req);
    let run = |pass| run_pass(model, spec, req, pass, control, LOCAL_COPIES);
    let moments = run(first_pass(model, spec, req, LOCAL_COPIES, fin.working)?)?;
    let mut pass = fin.next_after(&moments, LOCAL_COPIES)?;
    while let Pass::Refine(_) = pass {
        pass = fin.next_after(&run(pass)?, LOCAL_COPIES)?;
    }
    let collected = run(pass)?;
    Ok(fin.finish(spec, &moments, &collected))
}

/// The same statistics from materialised values (J × n, reducer by reducer:
/// `vals[i * n + r]` is reducer i on path r) and scenarios: identical bits to
/// [`summarize`] over the same paths.
pub fn summarize_values(
    spec: &SummarySpec,
    probabilities: &[f64],
    alloc: &Allocation,
    shifts: &[f64],
    vals: &[f64],
    scen: &[u8],
) -> Result<Vec<Vec<GroupStats>>> {
    let k = probabilities.len();
    let mut fin = Finisher::with(probabilities, alloc, shifts.to_vec(), spec);
    let (j, n) = (spec.reducers.len(), scen.len());
    // each pass absorbs the paths in blocks, each block reducer by reducer (J × rows)
    let run = |pass: Pass| {
        let mut part = Partial::empty(spec, k, pass, 0);
        let mut block = Vec::new();
        for (b, sc) in scen.chunks(4096).enumerate() {
            let r0 = b * 4096;
            block.clear();
            for i in 0..j {
                block.extend_from_slice(&vals[i * n + r0..i * n + r0 + sc.len()]);
            }
            part.absorb(spec, alloc, shifts, r0 as u64, &block, sc);
        }
        part
    };
    // the grids from the same pilot paths as a streamed summary's
    let maps = (0..j)
        .map(|i| {
            let pilot = pilot_runs(n as u64)
                .into_iter()
                .flat_map(|(first, rows)| first as usize..(first + rows) as usize)
                .map(|r| vals[i * n + r]);
            BinMap::from_pilot(pilot, grid_bins(n as u64))
        })
        .collect();
    let moments = run(Pass::Moments(maps));
    let mut pass = fin.next_after(&moments, LOCAL_COPIES)?;
    while let Pass::Refine(_) = pass {
        pass = fin.next_after(&run(pass), LOCAL_COPIES)?;
    }
    let collected = run(pass);
    Ok(fin.finish(spec, &moments, &collected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_cut_finer_only_where_that_takes_less_memory_than_collecting() {
        // one scenario; windows over budget in all (5,000,000 keys), in few wide
        // windows or in many narrow ones
        let spec = SummarySpec {
            month: 1,
            reducers: vec![],
        };
        let alloc = Allocation::new(&[1.0], 1 << 30, false).unwrap();
        let mut fin = Finisher::with(&[1.0], &alloc, vec![], &spec);
        let windows = |count: u64, inside: u64| -> Vec<Target> {
            (0..count)
                .map(|i| Target {
                    reducer: 0,
                    group: None,
                    level: 0.5,
                    window: (i << 32, (i << 32) + (1 << 20)),
                    below: vec![0],
                    inside,
                    var: false,
                })
                .collect()
        };
        // 1,000 windows: 32 MB of sub-bin counts against 200 MB of keys
        fin.targets = windows(1_000, 5_000);
        let next = fin.next_pass();
        assert!(matches!(next, Pass::Refine(ref t) if t.len() == 1_000));
        // 100,000 windows: 3.3 GB of sub-bin counts against 200 MB of keys
        fin.targets = windows(100_000, 50);
        let next = fin.next_pass();
        assert!(matches!(next, Pass::Collect(ref t, ..) if t.len() == 100_000));
        // 200 MB of keys fit
        assert!(fin.check_next(&next, 1, 0).is_ok());
        // within the budget: collected, however few the windows
        fin.targets = windows(1, 1_000);
        assert!(matches!(fin.next_pass(), Pass::Collect(..)));
        // a pass too large for any machine is refused with its size, not attempted
        fin.targets = windows(10, 1 << 50);
        fin.next_pass(); // the keys the windows are expected to hold
        match fin.check_next(&Pass::Collect(fin.windows(), vec![], vec![], false), 1, 0) {
            Err(CoreError::Resource { what, .. }) => assert!(what.contains("over 10 windows"), "{what}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_collecting_pass_under_antithetic_pairs_counts_the_pairs_it_keeps() {
        // every window keeps the pairs with a twin inside it (for its quantile's or VaR's
        // error), taken to be as many as its keys: in the pass's memory beside the keys
        let spec = SummarySpec {
            month: 1,
            reducers: vec![],
        };
        for pairs in [false, true] {
            let alloc = Allocation::new(&[1.0], 1 << 20, pairs).unwrap();
            let mut fin = Finisher::with(&[1.0], &alloc, vec![], &spec);
            fin.targets = (0..3u64)
                .map(|i| Target {
                    reducer: 0,
                    group: None,
                    level: 0.25 * (i + 1) as f64,
                    window: (i << 32, (i << 32) + 10),
                    below: vec![0],
                    inside: 1_000 * (i + 1),
                    var: i == 2,
                })
                .collect();
            let next = fin.next_pass();
            let Pass::Collect(_, _, ref tails, p) = next else {
                panic!("{next:?}")
            };
            assert_eq!((tails.clone(), p), (vec![false, false, true], pairs));
            let per_key = if pairs { KEY_BYTES + PAIR_KEY_BYTES } else { KEY_BYTES };
            assert_eq!(fin.collect_bytes(p), 6_000.0 * per_key);
            // a count's windows hold few distinct keys, and few distinct pairs
            // (each window's pilot values: an atom 999 times, another value once)
            let atom_bins = (0..3u64)
                .flat_map(|i| [((i << 32) + 5, 999), ((i << 32) + 6, 1)])
                .collect();
            fin.maps = vec![BinMap {
                lo: 0.0,
                scale: 1.0,
                grid: bins::MIN_GRID_BINS,
                atom_bins,
            }];
            fin.next_pass();
            assert_eq!(fin.collect_bytes(p), (3.0 + 6.0) * per_key);
        }
    }

    #[test]
    fn histogram_counts_beyond_u32_survive_merges_and_bytes() {
        // 1.5·2^32 paths of one scenario in one bin, twice: u32 counters wrapped
        let reducer = Reducer {
            name: "x".into(),
            output: 0,
            mix: vec![],
            drawdown: false,
            a: 0.0,
            b: 1.0,
            quantiles: vec![0.5],
            thresholds: vec![],
            cvar: vec![],
        };
        let spec = SummarySpec {
            month: 1,
            reducers: vec![reducer],
        };
        let pass = Pass::Moments(vec![BinMap {
            lo: 0.0,
            scale: 1.0,
            grid: bins::MIN_GRID_BINS,
            atom_bins: Vec::new(),
        }]);
        let many = 3u64 << 31;
        let mut a = Partial::empty(&spec, 1, pass.clone(), 0);
        a.end = many;
        a.hist[7] = many;
        let mut b = Partial::empty(&spec, 1, pass, many);
        b.end = 2 * many;
        b.hist[7] = many;
        a.merge(&b).unwrap();
        assert_eq!(a.hist[7], 3u64 << 32);
        let back = Partial::from_bytes(&a.to_bytes()).unwrap();
        assert_eq!(back.hist, a.hist);
    }

    #[test]
    fn bytes_name_the_version_that_wrote_them() {
        let pass = Pass::Collect(vec![(0, (3, 9))], vec![1.5], vec![false], false);
        let part = Partial::empty(
            &SummarySpec {
                month: 1,
                reducers: vec![],
            },
            1,
            pass.clone(),
            0,
        );
        let (pb, qb) = (pass.to_bytes(), part.to_bytes());
        let version = env!("CARGO_PKG_VERSION");
        // magic, format, the version's length and bytes, the job (0: none named)
        let len = 32 + version.len();
        assert_eq!(&pb[..8], b"gs.pass\0");
        assert_eq!(&qb[..8], b"gs.part\0");
        assert_eq!(pb[..len][8..], qb[..len][8..]);
        assert_eq!(&pb[24..len - 8], version.as_bytes());
        assert_eq!(&pb[len - 8..len], &0u64.to_le_bytes());
        assert_eq!(Pass::from_bytes(&pb).unwrap(), pass);
        assert_eq!(Partial::from_bytes(&qb).unwrap().pass, pass);
        let message = |r: Result<()>| match r {
            Err(CoreError::Invalid { path, rule }) => format!("{path}: {rule}"),
            other => panic!("{other:?}"),
        };
        // another version, or another format: refused naming both
        let mut other = pb.clone();
        other.splice(16..len - 8, 4u64.to_le_bytes().into_iter().chain(*b"9.9."));
        assert_eq!(
            message(Pass::from_bytes(&other).map(drop)),
            format!(
                "pass: a summary pass of geoscenario \"9.9.\" (format {BYTES_FORMAT}), and this is \
                 {version:?} (format {BYTES_FORMAT}): run the same version on the client and every worker"
            )
        );
        let mut other = qb.clone();
        other[8] ^= 1;
        assert_eq!(
            message(Partial::from_bytes(&other).map(drop)),
            format!(
                "partial: a summary partial in format {} from another build of geoscenario {version:?}, \
                 which reads format {BYTES_FORMAT}: install the same build on the client and every worker",
                BYTES_FORMAT ^ 1
            )
        );
        // a partial is not a pass, bytes without a header or cut in it are neither
        let not = |what: &str| format!("{what}: not a serialised summary {what}");
        assert_eq!(message(Pass::from_bytes(&qb).map(drop)), not("pass"));
        assert_eq!(message(Partial::from_bytes(&pb).map(drop)), not("partial"));
        assert_eq!(message(Pass::from_bytes(&pb[len..]).map(drop)), not("pass"));
        for cut in [0, 7, 8, 15, 16, 23, len - 9, len - 8, len - 1] {
            assert_eq!(message(Pass::from_bytes(&pb[..cut]).map(drop)), not("pass"), "{cut}");
        }
        let mut long = pb.clone();
        long[16..24].copy_from_slice(&65u64.to_le_bytes());
        assert_eq!(message(Pass::from_bytes(&long).map(drop)), not("pass"));
        // bytes naming a job are read by that job only; read for any job, by every one
        let (pj, qj) = (pass.to_bytes_for(7), part.to_bytes_for(7));
        assert_eq!(&pj[len - 8..len], &7u64.to_le_bytes());
        assert_eq!(Pass::from_bytes_for(&pj, Some(7)).unwrap(), pass);
        assert_eq!(Partial::from_bytes_for(&qj, Some(7)).unwrap().pass, pass);
        assert_eq!(Pass::from_bytes(&pj).unwrap(), pass);
        let another = |what: &str| {
            format!(
                "{what}: a summary {what} of another job (another world, seed, number of paths, horizon, month, \
                 series or option): run and merge each job's passes and partials with that job"
            )
        };
        for job in [Some(8), Some(1)] {
            assert_eq!(message(Pass::from_bytes_for(&pj, job).map(drop)), another("pass"));
            assert_eq!(message(Partial::from_bytes_for(&qj, job).map(drop)), another("partial"));
        }
        // (bytes that name no job are another job's for a job that has a fingerprint)
        assert_eq!(message(Pass::from_bytes_for(&pb, Some(7)).map(drop)), another("pass"));
        assert_eq!(job_fingerprint("a"), job_fingerprint("a"));
        assert!(job_fingerprint("a") != job_fingerprint("b") && job_fingerprint("") != 0);
    }

    /// The scan as first written: every scenario's counts carried through every bin.
    fn first_bin_reaching_by_every_count(
        p: &[f64],
        n: &[u64],
        t: &Target,
        bins: usize,
        hist: impl Fn(usize, usize) -> u64,
    ) -> (usize, Vec<u64>, u64) {
        let tau = target(p, n, t.level, t.group);
        let mut counts = t.below.clone();
        for b in 0..bins {
            let before = counts.clone();
            for (k, c) in counts.iter_mut().enumerate() {
                *c += hist(k, b);
            }
            if cdf(p, n, &counts, t.group) >= tau || b == bins - 1 {
                return (
                    b,
                    before.clone(),
                    counts.iter().sum::<u64>() - before.iter().sum::<u64>(),
                );
            }
        }
        unreachable!()
    }

    #[test]
    fn the_bin_scan_finds_what_carrying_every_scenarios_counts_finds() {
        // sparse random histograms over 5 scenarios (one empty), every level and group
        let (k_n, bins) = (5, 300);
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let hist: Vec<u64> = (0..k_n * bins)
            .map(|i| {
                if i / bins == 3 || next() % 3 != 0 {
                    0
                } else {
                    next() % 50
                }
            })
            .collect();
        let n: Vec<u64> = (0..k_n)
            .map(|k| hist[k * bins..(k + 1) * bins].iter().sum::<u64>() + 4)
            .collect();
        let p = [0.4, 0.1, 0.25, 0.0, 0.25];
        let at = |k: usize, b: usize| hist[k * bins + b];
        for group in (0..k_n).map(Some).chain([None]) {
            let target_at = |level: f64| Target {
                reducer: 0,
                group,
                level,
                window: (0, 0),
                below: vec![1, 0, 2, 0, 1],
                inside: 0,
                var: false,
            };
            for level in [0.0, 1e-9, 0.01, 0.3, 0.5, 0.77, 0.999, 1.0] {
                let t = target_at(level);
                let (b0, below0, inside0) = first_bin_reaching_by_every_count(&p, &n, &t, bins, at);
                let (b1, below1, inside1) = first_bin_reaching(&p, &n, &t, bins, at);
                assert_eq!((b1, inside1), (b0, inside0), "{group:?} {level}");
                // the counts that enter the group's CDF, which is all the later passes read
                let members: Vec<usize> = (0..k_n).filter(|&k| group.is_none_or(|g| g == k)).collect();
                for &k in &members {
                    assert_eq!(below1[k], below0[k], "{group:?} {level} {k}");
                }
                assert_eq!(
                    cdf(&p, &n, &below1, group).to_bits(),
                    cdf(&p, &n, &below0, group).to_bits()
                );
            }
            // all the levels of the group in one walk, unsorted, with ties
            let levels = [0.77, 0.0, 0.5, 1.0, 0.01, 0.5, 0.999, 1e-9, 0.3];
            let ts: Vec<Target> = levels.iter().map(|&level| target_at(level)).collect();
            let walked = first_bins_reaching(&p, &n, &ts, bins, at);
            for (t, got) in ts.iter().zip(walked) {
                assert_eq!(got, first_bin_reaching(&p, &n, t, bins, at), "{group:?} {}", t.level);
            }
        }
    }

    #[test]
    fn waves_hold_whole_chunks_within_their_byte_budget() {
        // the report's series: chunks as asked (at most 2^14 paths), 64 a wave
        assert_eq!(wave_layout(16_384, 17, 2), (16_384, 64 * 16_384));
        assert_eq!(wave_layout(1 << 20, 17, 2), (16_384, 64 * 16_384));
        assert_eq!(wave_layout(7, 0, 2), (7, 64 * 7));
        // 300 series: fewer chunks a wave, within the budget
        let (chunk, wave) = wave_layout(16_384, 300, 2);
        assert!(chunk == 16_384 && wave.is_multiple_of(16_384) && (4..64).contains(&(wave / 16_384)));
        assert!(wave as usize * 300 * 8 <= WAVE_BYTES);
        // many series on many threads: smaller chunks, two a thread, still within the budget
        for (series, threads) in [(1_000, 16), (4_096, 64), (4_096, 1)] {
            let (chunk, wave) = wave_layout(16_384, series, threads);
            assert!(wave as usize / chunk >= (2 * threads).min(64), "{series} {threads}");
            assert!(wave as usize * series * 8 <= WAVE_BYTES, "{series} {threads}");
        }
        // past what 64-path chunks hold: the floor of 64 paths, two chunks a thread
        assert_eq!(wave_layout(16_384, 1 << 20, 4), (64, 8 * 64));
    }

    #[test]
    fn standard_errors_are_those_of_each_scenarios_independent_draws() {
        // two scenarios of 6 and 4 paths, values with a twin structure: each pair sums
        // to about 10 (negatively correlated twins, as antithetic pairs are)
        let vals = [3.0, 7.5, 1.0, 8.0, 6.0, 4.5, 2.0, 9.0, 4.0, 5.0];
        let p = [0.6, 0.4];
        let spec = SummarySpec {
            month: 0,
            reducers: vec![Reducer {
                name: "x".into(),
                output: 0,
                mix: Vec::new(),
                drawdown: false,
                a: 0.0,
                b: 1.0,
                quantiles: vec![0.5],
                thresholds: vec![4.25],
                cvar: Vec::new(),
            }],
        };
        let scen = [0u8, 0, 0, 0, 0, 0, 1, 1, 1, 1];
        // the sample variance of `draws` over their number
        let se2 = |draws: &[f64]| {
            let m = draws.iter().sum::<f64>() / draws.len() as f64;
            draws.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / ((draws.len() - 1) * draws.len()) as f64
        };
        for pairs in [false, true] {
            let alloc = Allocation::new(&p, 10, pairs).unwrap();
            assert_eq!(alloc.counts, [6, 4]);
            let stats = summarize_values(&spec, &p, &alloc, &[0.0], &vals, &scen).unwrap();
            let draws = |k: usize| -> Vec<f64> {
                let v = if k == 0 { &vals[..6] } else { &vals[6..] };
                if pairs {
                    v.chunks(2).map(|t| (t[0] + t[1]) / 2.0).collect()
                } else {
                    v.to_vec()
                }
            };
            let want = [se2(&draws(0)), se2(&draws(1))];
            for k in 0..2 {
                let got = stats[0][k].mean_se;
                assert!((got * got - want[k]).abs() <= 1e-12 * want[k], "{pairs} {k}: {got}");
            }
            let all = stats[0][2].mean_se;
            let want_all = p[0] * p[0] * want[0] + p[1] * p[1] * want[1];
            assert!((all * all - want_all).abs() <= 1e-12 * want_all, "{pairs}: {all}");
            // P(x > 4.25): the error of the mean of the indicator, by the same draws
            let above = |k: usize| -> Vec<f64> {
                let v = if k == 0 { &vals[..6] } else { &vals[6..] };
                let i: Vec<f64> = v.iter().map(|&x| if x > 4.25 { 1.0 } else { 0.0 }).collect();
                if pairs {
                    i.chunks(2).map(|t| (t[0] + t[1]) / 2.0).collect()
                } else {
                    i
                }
            };
            for (k, group) in stats[0].iter().take(2).enumerate() {
                let (got, want) = (group.p_above_se[0], se2(&above(k)));
                assert!(
                    (got * got - want).abs() <= 1e-12 * want.max(1e-300),
                    "{pairs} {k}: {got} {want}"
                );
            }
        }
        // a scenario of a single draw has none, nor has the overall mean
        let alloc = Allocation::new(&p, 4, true).unwrap();
        assert_eq!(alloc.counts, [2, 2]);
        let stats = summarize_values(&spec, &p, &alloc, &[0.0], &vals[..4], &[0, 0, 1, 1]).unwrap();
        assert!(stats[0].iter().all(|g| g.mean_se.is_nan() && g.mean.is_finite()));
    }

    #[test]
    fn a_cdf_of_one_scenario_has_the_bits_of_the_sum_over_all() {
        let (p, n, c) = ([0.3, 0.45, 0.25], [7u64, 3, 0], [2u64, 1, 0]);
        for g in 0..3 {
            let mut sum = 0.0;
            for k in 0..3 {
                if n[k] > 0 && k == g {
                    sum += p[k] * c[k] as f64 / n[k] as f64;
                }
            }
            assert_eq!(cdf(&p, &n, &c, Some(g)).to_bits(), sum.to_bits());
        }
    }
}
