//! Summaries without materialised paths: weighted moments, exact quantiles,
//! threshold probabilities and CVaR at one month, by scenario and overall.
//!
//! The statistics are computed from mergeable partial states over path
//! ranges ([`Partial`]), so a range can be split across threads, processes
//! or machines and the merged result has the same bits as one pass over all
//! paths: moments use canonical pairwise sums ([`dyadic`]), counts are
//! integers, and quantiles are found exactly by three passes that narrow
//! the order-preserving key of the answer (16 bits, then 12 more, then the
//! values of that 28-bit bin). Every pass re-simulates its paths from the
//! counter-based streams, so memory stays bounded whatever the path count.

pub mod dyadic;
pub mod quantile;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use rayon::prelude::*;

use crate::engine::kernel::{self, BlockOut, Ctx, Scratch};
use crate::engine::{Control, SimRequest};
use crate::error::{CoreError, Result};
use crate::model::scenario::Allocation;
use crate::model::Model;
use dyadic::{take_u64, DyadicSum};
use quantile::{cdf, key, target, unkey};

const BINS1: usize = 1 << 16;
const BINS2: usize = 1 << 12;

/// One summarised quantity: v = a + b·(series `output` at the summary month).
#[derive(Debug, Clone, PartialEq)]
pub struct Reducer {
    pub name: String,
    pub output: usize,
    pub a: f64,
    pub b: f64,
    /// Quantile levels reported for it.
    pub quantiles: Vec<f64>,
    /// Levels c for P(v > c).
    pub thresholds: Vec<f64>,
    /// CVaR levels α (v read as a loss): CVaR_α = VaR_α + E[(v − VaR_α)+]/(1 − α).
    pub cvar: Vec<f64>,
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
    pub std: f64,
    pub quantiles: Vec<f64>,
    pub p_above: Vec<f64>,
    /// (VaR, CVaR) per CVaR level.
    pub var_cvar: Vec<(f64, f64)>,
}

/// A quantile search in progress: reducer, group (None = all), level, key prefix, counts below it.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub reducer: usize,
    pub group: Option<usize>,
    pub level: f64,
    pub prefix: u64,
    pub below: Vec<u64>,
}

/// Which pass a partial belongs to.
#[derive(Debug, Clone, PartialEq)]
pub enum Pass {
    /// Moments, threshold counts, 16-bit key histograms.
    Moments,
    /// 12-bit histograms inside each target's 16-bit bin.
    Refine(Vec<(usize, u64)>),
    /// Values (with per-scenario counts) inside each target's 28-bit bin, and tail sums above it.
    Collect(Vec<(usize, u64)>),
}

/// Mergeable state of one pass over a path range.
#[derive(Debug, Clone, PartialEq)]
pub struct Partial {
    pub start: u64,
    pub end: u64,
    pub pass: Pass,
    k: usize,
    j: usize,
    /// Pass 1: per scenario, sums of (v − shift) and (v − shift)² for every reducer.
    sums: Vec<DyadicSum>,
    /// Pass 1: per scenario and (reducer, threshold): count of v > c.
    above: Vec<u64>,
    /// Pass 1: reducer × scenario × 2^16 counts; pass 2: target × scenario × 2^12.
    hist: Vec<u32>,
    /// Pass 3: per target, key → per-scenario counts.
    values: Vec<BTreeMap<u64, Vec<u64>>>,
    /// Pass 3: per target and scenario, sum of (v − shift) and count above the bin.
    tail: Vec<DyadicSum>,
}

fn n_thresholds(spec: &SummarySpec) -> usize {
    spec.reducers.iter().map(|r| r.thresholds.len()).sum()
}

impl Partial {
    /// An empty partial of `pass` over `start..start`.
    pub fn empty(spec: &SummarySpec, k: usize, pass: Pass, start: u64) -> Partial {
        let j = spec.reducers.len();
        let (sums, above, hist, values, tail) = match &pass {
            Pass::Moments => (
                (0..k).map(|_| DyadicSum::new(2 * j)).collect(),
                vec![0; k * n_thresholds(spec)],
                vec![0u32; j * k * BINS1],
                Vec::new(),
                Vec::new(),
            ),
            Pass::Refine(t) => (
                Vec::new(),
                Vec::new(),
                vec![0u32; t.len() * k * BINS2],
                Vec::new(),
                Vec::new(),
            ),
            Pass::Collect(t) => (
                Vec::new(),
                Vec::new(),
                Vec::new(),
                vec![BTreeMap::new(); t.len()],
                (0..t.len() * k).map(|_| DyadicSum::new(2)).collect(),
            ),
        };
        Partial {
            start,
            end: start,
            pass,
            k,
            j,
            sums,
            above,
            hist,
            values,
            tail,
        }
    }

    /// Add the values of paths `first..` (row-major rows × J) with their scenarios.
    fn absorb(
        &mut self,
        spec: &SummarySpec,
        alloc: &Allocation,
        shifts: &[f64],
        first: u64,
        vals: &[f64],
        scen: &[u8],
    ) {
        let j = self.j;
        let k_n = self.k;
        debug_assert_eq!(first, self.end);
        let mut leaf = vec![0.0; 2 * j];
        for (r, row) in vals.chunks_exact(j).enumerate() {
            let path = first + r as u64;
            let k = scen[r] as usize;
            let local = path - alloc.offsets[k] as u64;
            match &self.pass {
                Pass::Moments => {
                    for (i, &v) in row.iter().enumerate() {
                        let d = v - shifts[i];
                        leaf[2 * i] = d;
                        leaf[2 * i + 1] = d * d;
                    }
                    self.sums[k].push(local, &leaf);
                    let mut t = 0;
                    let nt = self.above.len() / k_n.max(1);
                    for (i, red) in spec.reducers.iter().enumerate() {
                        for &c in &red.thresholds {
                            if row[i] > c {
                                self.above[k * nt + t] += 1;
                            }
                            t += 1;
                        }
                    }
                    for (i, &v) in row.iter().enumerate() {
                        let b = (key(v) >> 48) as usize;
                        self.hist[(i * k_n + k) * BINS1 + b] += 1;
                    }
                }
                Pass::Refine(targets) => {
                    for (ti, &(red, prefix)) in targets.iter().enumerate() {
                        let kv = key(row[red]);
                        if kv >> 48 == prefix {
                            let b = ((kv >> 36) & 0xFFF) as usize;
                            self.hist[(ti * k_n + k) * BINS2 + b] += 1;
                        }
                    }
                }
                Pass::Collect(targets) => {
                    for (ti, &(red, prefix)) in targets.iter().enumerate() {
                        let v = row[red];
                        let kv = key(v);
                        let top = kv >> 36;
                        if top == prefix {
                            self.values[ti].entry(kv).or_insert_with(|| vec![0; k_n])[k] += 1;
                        }
                        // tail sums serve CVaR only; every path is a leaf (zero below
                        // the bin) so that the sum stays compact
                        if !spec.reducers[red].cvar.is_empty() {
                            let leaf = if top > prefix {
                                [v - shifts[red], 1.0]
                            } else {
                                [0.0, 0.0]
                            };
                            self.tail[ti * k_n + k].push(local, &leaf);
                        }
                    }
                }
            }
        }
        self.end = first + (vals.len() / j.max(1)) as u64;
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
        for (a, b) in self.above.iter_mut().zip(&other.above) {
            *a += b;
        }
        for (a, b) in self.hist.iter_mut().zip(&other.hist) {
            *a += b;
        }
        for (a, b) in self.values.iter_mut().zip(&other.values) {
            for (kv, counts) in b {
                let e = a.entry(*kv).or_insert_with(|| vec![0; counts.len()]);
                for (x, y) in e.iter_mut().zip(counts) {
                    *x += y;
                }
            }
        }
        for (a, b) in self.tail.iter_mut().zip(&other.tail) {
            a.append(b);
        }
        self.end = other.end;
        Ok(())
    }

    /// Serialise to bytes (for shipping between processes).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for v in [self.start, self.end, self.k as u64, self.j as u64] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        let (tag, targets): (u64, &[(usize, u64)]) = match &self.pass {
            Pass::Moments => (1, &[]),
            Pass::Refine(t) => (2, t),
            Pass::Collect(t) => (3, t),
        };
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&(targets.len() as u64).to_le_bytes());
        for &(r, p) in targets {
            out.extend_from_slice(&(r as u64).to_le_bytes());
            out.extend_from_slice(&p.to_le_bytes());
        }
        out.extend_from_slice(&(self.sums.len() as u64).to_le_bytes());
        for s in &self.sums {
            s.write(&mut out);
        }
        out.extend_from_slice(&(self.above.len() as u64).to_le_bytes());
        for a in &self.above {
            out.extend_from_slice(&a.to_le_bytes());
        }
        out.extend_from_slice(&(self.hist.len() as u64).to_le_bytes());
        for h in &self.hist {
            out.extend_from_slice(&h.to_le_bytes());
        }
        out.extend_from_slice(&(self.values.len() as u64).to_le_bytes());
        for m in &self.values {
            out.extend_from_slice(&(m.len() as u64).to_le_bytes());
            for (kv, counts) in m {
                out.extend_from_slice(&kv.to_le_bytes());
                for c in counts {
                    out.extend_from_slice(&c.to_le_bytes());
                }
            }
        }
        out.extend_from_slice(&(self.tail.len() as u64).to_le_bytes());
        for s in &self.tail {
            s.write(&mut out);
        }
        out
    }

    /// Inverse of [`Partial::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Partial> {
        let bad = || CoreError::invalid("partial", "not a serialised summary partial");
        let mut buf: &[u8] = bytes;
        let b = &mut buf;
        let start = take_u64(b).ok_or_else(bad)?;
        let end = take_u64(b).ok_or_else(bad)?;
        let k = take_u64(b).ok_or_else(bad)? as usize;
        let j = take_u64(b).ok_or_else(bad)? as usize;
        let tag = take_u64(b).ok_or_else(bad)?;
        let nt = take_u64(b).ok_or_else(bad)? as usize;
        if k > 64 || j > 1 << 16 || nt > 1 << 20 || start > end {
            return Err(bad());
        }
        let mut targets = Vec::with_capacity(nt);
        for _ in 0..nt {
            let r = take_u64(b).ok_or_else(bad)? as usize;
            targets.push((r, take_u64(b).ok_or_else(bad)?));
        }
        let pass = match tag {
            1 => Pass::Moments,
            2 => Pass::Refine(targets),
            3 => Pass::Collect(targets),
            _ => return Err(bad()),
        };
        let ns = take_u64(b).ok_or_else(bad)? as usize;
        if ns > 64 {
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
        let mut above = Vec::with_capacity(na);
        for _ in 0..na {
            above.push(take_u64(b).ok_or_else(bad)?);
        }
        let nh = take_u64(b).ok_or_else(bad)? as usize;
        if nh > b.len() / 4 {
            return Err(bad());
        }
        let hist: Vec<u32> = b[..nh * 4]
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        *b = &b[nh * 4..];
        let nv = take_u64(b).ok_or_else(bad)? as usize;
        if nv > 1 << 20 {
            return Err(bad());
        }
        let mut values = Vec::with_capacity(nv);
        for _ in 0..nv {
            let m = take_u64(b).ok_or_else(bad)? as usize;
            if m > b.len() / 8 {
                return Err(bad());
            }
            let mut map = BTreeMap::new();
            for _ in 0..m {
                let kv = take_u64(b).ok_or_else(bad)?;
                let mut counts = Vec::with_capacity(k);
                for _ in 0..k {
                    counts.push(take_u64(b).ok_or_else(bad)?);
                }
                map.insert(kv, counts);
            }
            values.push(map);
        }
        let n_tail = take_u64(b).ok_or_else(bad)? as usize;
        if n_tail > 1 << 24 {
            return Err(bad());
        }
        let mut tail = Vec::with_capacity(n_tail);
        for _ in 0..n_tail {
            tail.push(DyadicSum::read(b).ok_or_else(bad)?);
        }
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
            above,
            hist,
            values,
            tail,
        })
    }
}

/// Simulate paths `req.start..req.end` and reduce them for `pass`.
pub fn run_pass(model: &Model, spec: &SummarySpec, req: &SimRequest, pass: Pass, control: &Control) -> Result<Partial> {
    req.validate_summary(model)?;
    validate_spec(model, spec)?;
    let alloc = Allocation::new(&model.probabilities, req.n_paths as usize, req.antithetic)?;
    let shifts = shifts(model, spec);
    let work = || -> Result<Partial> {
        let qmc = req.qmc_shocks(model)?;
        let ctx = Ctx {
            model,
            alloc: &alloc,
            seed: req.seed,
            antithetic: req.antithetic,
            qmc: qmc.as_ref(),
        };
        let chunk = req.chunk_paths.min(1 << 14);
        let mut acc = Partial::empty(spec, model.n_scenarios, pass.clone(), req.start);
        let wave = 64 * chunk as u64;
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
    match req.threads {
        Some(t) => rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .map_err(|e| CoreError::Numerical(format!("could not start {t} threads: {e}")))?
            .install(work),
        None => work(),
    }
}

/// The reduced values (rows × J) and scenarios of paths `first..first + rows`.
fn chunk_values(ctx: &Ctx, spec: &SummarySpec, first: u64, rows: usize) -> Result<(Vec<f64>, Vec<u8>)> {
    let model = ctx.model;
    let w = model.horizon + 1;
    // the chunk's paths live in per-thread buffers reused from chunk to chunk,
    // so that streaming touches no fresh memory after the first chunk
    thread_local! {
        static BUFFERS: std::cell::RefCell<Vec<Vec<f64>>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let mut series: Vec<Vec<f64>> = BUFFERS.with(|b| std::mem::take(&mut *b.borrow_mut()));
    series.resize_with(model.n_outputs(), Vec::new);
    series.truncate(model.n_outputs());
    for s in series.iter_mut() {
        s.clear();
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
        let s = &series[red.output];
        for r in 0..rows {
            vals[r * j + i] = red.a + red.b * s[r * w + spec.month];
        }
    }
    let scen = (0..rows)
        .map(|r| ctx.alloc.scenario_of((first + r as u64) as usize) as u8)
        .collect();
    Ok((vals, scen))
}

fn validate_spec(model: &Model, spec: &SummarySpec) -> Result<()> {
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
    for r in &spec.reducers {
        if r.output >= model.n_outputs() {
            return Err(CoreError::invalid("series", format!("{:?} is not a series", r.name)));
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
        if r.thresholds.iter().any(|c| c.is_nan()) {
            return Err(CoreError::invalid("thresholds", "must not be NaN"));
        }
    }
    Ok(())
}

/// Each reducer's value at t = 0 (the same on every path), subtracted before summing squares.
fn shifts(model: &Model, spec: &SummarySpec) -> Vec<f64> {
    let init = model.initial_values();
    spec.reducers.iter().map(|r| r.a + r.b * init[r.output]).collect()
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
        self.validate_qmc()
    }
}

/// The first of `bins` histogram bins (counts `hist(scenario, bin)`) after
/// which the group's CDF, starting from the counts below the target's
/// prefix, reaches the target level; and the counts below that bin.
fn first_bin_reaching(
    p: &[f64],
    n: &[u64],
    t: &Target,
    bins: usize,
    hist: impl Fn(usize, usize) -> u32,
) -> (usize, Vec<u64>) {
    let tau = target(p, n, t.level, t.group);
    let mut counts = t.below.clone();
    for b in 0..bins {
        let before = counts.clone();
        for (k, c) in counts.iter_mut().enumerate() {
            *c += hist(k, b) as u64;
        }
        if cdf(p, n, &counts, t.group) >= tau {
            return (b, before);
        }
    }
    (bins - 1, counts)
}

/// The state of a whole summary between passes.
#[derive(Debug, Clone)]
pub struct Finisher {
    pub p: Vec<f64>,
    pub n: Vec<u64>,
    pub shifts: Vec<f64>,
    pub targets: Vec<Target>,
}

impl Finisher {
    pub fn new(model: &Model, spec: &SummarySpec, n_paths: u64, antithetic: bool) -> Result<Finisher> {
        let alloc = Allocation::new(&model.probabilities, n_paths as usize, antithetic)?;
        let mut targets = Vec::new();
        for (ri, r) in spec.reducers.iter().enumerate() {
            let groups: Vec<Option<usize>> = (0..model.n_scenarios)
                .filter(|&k| alloc.counts[k] > 0)
                .map(Some)
                .chain([None])
                .collect();
            for g in groups {
                for &q in r.quantiles.iter().chain(&r.cvar) {
                    targets.push(Target {
                        reducer: ri,
                        group: g,
                        level: q,
                        prefix: 0,
                        below: vec![0; model.n_scenarios],
                    });
                }
            }
        }
        Ok(Finisher {
            p: model.probabilities.clone(),
            n: alloc.counts.iter().map(|&c| c as u64).collect(),
            shifts: shifts(model, spec),
            targets,
        })
    }

    /// After pass 1: the 16-bit bin of every target; returns pass 2.
    pub fn after_moments(&mut self, part: &Partial) -> Pass {
        let k_n = part.k;
        for t in &mut self.targets {
            let hist = |k: usize, b: usize| part.hist[(t.reducer * k_n + k) * BINS1 + b];
            let (found, below) = first_bin_reaching(&self.p, &self.n, t, BINS1, hist);
            t.prefix = found as u64;
            t.below = below;
        }
        Pass::Refine(self.distinct())
    }

    /// After pass 2: the 28-bit bin of every target; returns pass 3.
    pub fn after_refine(&mut self, part: &Partial) -> Pass {
        let k_n = part.k;
        let Pass::Refine(list) = &part.pass else {
            return Pass::Collect(Vec::new());
        };
        for t in &mut self.targets {
            let ti = list.iter().position(|&x| x == (t.reducer, t.prefix)).unwrap_or(0);
            let hist = |k: usize, b: usize| part.hist[(ti * k_n + k) * BINS2 + b];
            let (found, below) = first_bin_reaching(&self.p, &self.n, t, BINS2, hist);
            t.prefix = (t.prefix << 12) | found as u64;
            t.below = below;
        }
        Pass::Collect(self.distinct())
    }

    fn distinct(&self) -> Vec<(usize, u64)> {
        let mut v: Vec<(usize, u64)> = self.targets.iter().map(|t| (t.reducer, t.prefix)).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// After pass 3: every statistic, `[reducer][group]` with group K = all paths.
    pub fn finish(&self, spec: &SummarySpec, moments: &Partial, collected: &Partial) -> Vec<Vec<GroupStats>> {
        let k_n = moments.k;
        let Pass::Collect(list) = &collected.pass else {
            return Vec::new();
        };
        let totals: Vec<Vec<f64>> = moments.sums.iter().map(|s| s.total()).collect();
        let nt = moments.above.len() / k_n.max(1);
        let mut out = Vec::new();
        let mut t_off = 0;
        for (ri, r) in spec.reducers.iter().enumerate() {
            let mut per_group = Vec::new();
            for g in (0..k_n).map(Some).chain([None]) {
                let members: Vec<usize> = (0..k_n)
                    .filter(|&k| self.n[k] > 0 && g.is_none_or(|x| x == k))
                    .collect();
                let mass: f64 = members.iter().map(|&k| self.p[k]).sum();
                let shift = self.shifts[ri];
                let (mut m1, mut m2) = (0.0, 0.0);
                for &k in &members {
                    m1 += self.p[k] * totals[k][2 * ri] / self.n[k] as f64;
                    m2 += self.p[k] * totals[k][2 * ri + 1] / self.n[k] as f64;
                }
                let (m1, m2) = if mass > 0.0 {
                    (m1 / mass, m2 / mass)
                } else {
                    (f64::NAN, f64::NAN)
                };
                let var = (m2 - m1 * m1).max(0.0);
                let mut p_above = Vec::new();
                for (ci, _) in r.thresholds.iter().enumerate() {
                    let mut pa = 0.0;
                    for &k in &members {
                        pa += self.p[k] * moments.above[k * nt + t_off + ci] as f64 / self.n[k] as f64;
                    }
                    p_above.push(if mass > 0.0 { pa / mass } else { f64::NAN });
                }
                let find = |level: f64| -> (f64, Option<&Target>) {
                    let t = self
                        .targets
                        .iter()
                        .find(|t| t.reducer == ri && t.group == g && t.level == level);
                    match t {
                        None => (f64::NAN, None),
                        Some(t) => {
                            let ti = list.iter().position(|&x| x == (ri, t.prefix)).unwrap_or(0);
                            let tau = target(&self.p, &self.n, level, g);
                            let mut counts = t.below.clone();
                            let mut ans = f64::NAN;
                            for (kv, c) in &collected.values[ti] {
                                for (a, b) in counts.iter_mut().zip(c) {
                                    *a += b;
                                }
                                if cdf(&self.p, &self.n, &counts, g) >= tau {
                                    ans = unkey(*kv);
                                    break;
                                }
                            }
                            (ans, Some(t))
                        }
                    }
                };
                let quantiles: Vec<f64> = r.quantiles.iter().map(|&q| find(q).0).collect();
                let mut var_cvar = Vec::new();
                for &alpha in &r.cvar {
                    let (var_a, t) = find(alpha);
                    let Some(t) = t else {
                        var_cvar.push((f64::NAN, f64::NAN));
                        continue;
                    };
                    let ti = list.iter().position(|&x| x == (ri, t.prefix)).unwrap_or(0);
                    // E[(v − VaR)+] = Σ_k p_k/n_k Σ_{v_i > VaR} (v_i − VaR)
                    let mut excess = 0.0;
                    for &k in &members {
                        let tl = collected.tail[ti * k_n + k].total();
                        let (sum_shifted, count) = (tl[0], tl[1]);
                        let mut e_k = sum_shifted + count * (shift - var_a);
                        for (kv, c) in &collected.values[ti] {
                            let v = unkey(*kv);
                            if v > var_a {
                                e_k += c[k] as f64 * (v - var_a);
                            }
                        }
                        excess += self.p[k] * e_k / self.n[k] as f64;
                    }
                    let excess = if mass > 0.0 { excess / mass } else { f64::NAN };
                    var_cvar.push((var_a, var_a + excess / (1.0 - alpha)));
                }
                per_group.push(GroupStats {
                    mass,
                    mean: shift + m1,
                    std: var.sqrt(),
                    quantiles,
                    p_above,
                    var_cvar,
                });
            }
            t_off += r.thresholds.len();
            out.push(per_group);
        }
        out
    }
}

/// All three passes over `req`'s range in this process.
pub fn summarize(
    model: &Model,
    spec: &SummarySpec,
    req: &SimRequest,
    control: &Control,
) -> Result<Vec<Vec<GroupStats>>> {
    let mut fin = Finisher::new(model, spec, req.n_paths, req.antithetic)?;
    let moments = run_pass(model, spec, req, Pass::Moments, control)?;
    let pass2 = fin.after_moments(&moments);
    let refined = run_pass(model, spec, req, pass2, control)?;
    let pass3 = fin.after_refine(&refined);
    let collected = run_pass(model, spec, req, pass3, control)?;
    Ok(fin.finish(spec, &moments, &collected))
}

/// The same statistics from materialised values (n × J row-major) and scenarios:
/// identical bits to [`summarize`] over the same paths.
pub fn summarize_values(
    spec: &SummarySpec,
    probabilities: &[f64],
    alloc: &Allocation,
    shifts: &[f64],
    vals: &[f64],
    scen: &[u8],
) -> Vec<Vec<GroupStats>> {
    let k = probabilities.len();
    let fin_p = probabilities.to_vec();
    let n: Vec<u64> = alloc.counts.iter().map(|&c| c as u64).collect();
    let mut fin = Finisher {
        p: fin_p,
        n,
        shifts: shifts.to_vec(),
        targets: Vec::new(),
    };
    for (ri, r) in spec.reducers.iter().enumerate() {
        for g in (0..k).filter(|&x| alloc.counts[x] > 0).map(Some).chain([None]) {
            for &q in r.quantiles.iter().chain(&r.cvar) {
                fin.targets.push(Target {
                    reducer: ri,
                    group: g,
                    level: q,
                    prefix: 0,
                    below: vec![0; k],
                });
            }
        }
    }
    let mut moments = Partial::empty(spec, k, Pass::Moments, 0);
    moments.absorb(spec, alloc, shifts, 0, vals, scen);
    let pass2 = fin.after_moments(&moments);
    let mut refined = Partial::empty(spec, k, pass2, 0);
    refined.absorb(spec, alloc, shifts, 0, vals, scen);
    let pass3 = fin.after_refine(&refined);
    let mut collected = Partial::empty(spec, k, pass3, 0);
    collected.absorb(spec, alloc, shifts, 0, vals, scen);
    fin.finish(spec, &moments, &collected)
}
