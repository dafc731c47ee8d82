//! The simulation kernel: a block of up to [`LANES`] paths at a time, every
//! output row written once.
//!
//! Within a block, most work runs month by month over the block's paths
//! together, each quantity a `[f64; LANES]` (one vector register on AVX-512):
//! the shocks and their Cholesky mix, the jump counts, the diffusion
//! recurrences, the completion counts, the asset returns and the strategy NAVs.
//! Adoption curves and contract prices run path by path. Every path computes
//! exactly the numbers it would alone,
//! so that the results do not depend on the block a path falls in.
//!
//! Draw addressing (see [`crate::rng::streams`]): shock j at step t is normal
//! `t·d + j` of stream SHOCKS; the onset month is uniform 0 of stream REGIME
//! and the Markov move into month t is uniform t; factor f's jump count at step
//! t is uniform t of `UNIFORM_BASE + f`, its i-th jump size normal
//! `(t << 16) | i` of `NORMAL_BASE + f`; completion, adoption and contract
//! draws use the same two streams of their own factor, indexed by month.

use super::transpose::{store_rows, stream_copy, stream_fence};
use crate::config::DerivedKind;
use crate::error::{CoreError, Result};
use crate::model::scenario::Allocation;
use crate::model::{Completion, Model, Regimes, Transform};
use crate::rng::across::{PathsRng, CHAINS, WIDTH};
use crate::rng::{math, streams, uniform_int, PathRng};
use crate::simd::{multiversion, GENERIC};

/// Paths simulated together, so that the recurrences of different paths overlap
/// and their per-month arithmetic fills one vector register.
pub const LANES: usize = WIDTH;

/// One value per lane of a block.
type Lanes = [f64; LANES];

/// Per-thread scratch space, allocated once per chunk.
pub struct Scratch {
    /// Correlated shocks: `shocks[t·d + j]` is shock j of step t.
    shocks: Vec<Lanes>,
    /// One path's quasi-random shocks (QMC only).
    qmc_shocks: Vec<f64>,
    /// A diffusion's jump sum of every step.
    jumps: Vec<Lanes>,
    /// A diffusion's jump count of every step.
    jump_n: Vec<[u32; LANES]>,
    /// The jump sizes to draw: (step, index among the step's jumps).
    jump_sizes: Vec<(usize, u32)>,
    /// Per lane, the regime of every month (`l·(H + 1) + t`).
    regimes: Vec<u8>,
    /// Per month, the regime of every lane (the lanes past the block's repeat its last).
    regime_t: Vec<[u8; LANES]>,
    /// Per month: whether some lane's regime differs from the month before.
    changed: Vec<bool>,
    /// A diffusion's state x_t of every step (then its level).
    states: Vec<Lanes>,
    /// Δ ln level of every factor an asset uses, per month (`dlog_slot` order, H each).
    dlog: Vec<Lanes>,
    /// Slot of factor f in `dlog`, or `usize::MAX` if no asset uses it.
    dlog_slot: Vec<usize>,
    /// Per slot: whether step 3 fills it from the factor's log state.
    dlog_from_state: Vec<bool>,
    /// Per lane, the steps t whose month t + 1 enters the freeze scenario.
    freeze_steps: Vec<Vec<usize>>,
    /// Lane-major random numbers of one stream, months 0..=H.
    draws: Vec<Lanes>,
    /// Per lane, the log changes of one factor's row (`l·H + t`).
    row_logs: Vec<f64>,
    /// Monthly simple returns e^r − 1 of every asset (asset-major, H each).
    asset_ret: Vec<Lanes>,
    /// The block's rows of every output series (`LANES·(H + 1)` each) when
    /// [`Ctx::stream_out`]: written and read here, then copied out once
    /// (allocated on first use).
    stage: Vec<f64>,
}

impl Scratch {
    pub fn new(model: &Model) -> Scratch {
        let h = model.horizon;
        Scratch {
            shocks: vec![[0.0; LANES]; h * model.n_shocks()],
            qmc_shocks: vec![0.0; h * model.n_shocks()],
            jumps: vec![[0.0; LANES]; h],
            jump_n: vec![[0; LANES]; h],
            jump_sizes: Vec::new(),
            regimes: vec![0; LANES * (h + 1)],
            regime_t: vec![[0; LANES]; h + 1],
            changed: vec![false; h + 1],
            states: vec![[0.0; LANES]; h],
            dlog: vec![[0.0; LANES]; model.asset_factors.len() * h],
            dlog_slot: (0..model.n_factors)
                .map(|f| model.asset_factors.iter().position(|&g| g == f).unwrap_or(usize::MAX))
                .collect(),
            dlog_from_state: model.asset_factors.iter().map(|&f| model.log_state(f)).collect(),
            freeze_steps: (0..LANES).map(|_| Vec::with_capacity(4)).collect(),
            draws: vec![[0.0; LANES]; h + 1],
            row_logs: vec![0.0; LANES * h],
            asset_ret: vec![[0.0; LANES]; model.assets.len() * h],
            stage: Vec::new(),
        }
    }
}

/// Where a block writes: the chunk's output slices and per-path records.
pub struct BlockOut<'a, 'b> {
    /// One slice per output series, `rows × (H + 1)` for the whole chunk.
    pub series: &'a mut [&'b mut [f64]],
    /// Row of the block's first path inside the chunk.
    pub row0: usize,
    /// Per path of the chunk: onset month (static mode, −1 if none).
    pub onset: &'a mut [i64],
    /// Per path of the chunk × (H + 1): regime index (Markov mode only).
    pub regimes: Option<&'a mut [u8]>,
}

/// Fixed inputs of a simulation.
pub struct Ctx<'a> {
    pub model: &'a Model,
    pub alloc: &'a Allocation,
    pub seed: u64,
    pub antithetic: bool,
    /// Scrambled Sobol shocks (with a Brownian bridge) instead of pseudo-random ones.
    pub qmc: Option<&'a crate::qmc::QmcShocks>,
    /// Build each block's rows in [`Scratch`] and copy them to the output with
    /// stores that bypass the cache: for outputs much larger than the cache,
    /// which nothing reads before the simulation ends.
    pub stream_out: bool,
}

/// Binomial(n, h) by inversion of `u`, given p0 = (1 − h)^n; Bernoulli sums when p0 underflows.
#[inline]
fn binomial_inv(n: u32, h: f64, p0: f64, u: f64, rng: &PathRng, stream: u32, t: usize) -> u32 {
    if n == 0 || h <= 0.0 {
        return 0;
    }
    if h >= 1.0 {
        return n;
    }
    if p0 < 1e-290 {
        return (0..n)
            .filter(|&j| rng.uniform(stream, ((t as u64) << 16) | (1 << 15) | j as u64) < h)
            .count() as u32;
    }
    let ratio = h / (1.0 - h);
    let (mut k, mut p, mut cdf) = (0u32, p0, p0);
    while u > cdf && k < n && !Completion::tail_done(k, n, h, p, cdf) {
        p *= ratio * (n - k) as f64 / (k + 1) as f64;
        k += 1;
        cdf += p;
    }
    k
}

/// Static regimes of a block's lanes: lane l runs regime `from` before month
/// `tau[l]` and regime `to[l]` from then on (`tau[l]` = `usize::MAX`: never).
#[derive(Clone, Copy)]
struct Onsets {
    from: u8,
    to: [u8; LANES],
    tau: [usize; LANES],
}

/// One diffusion's paths through a block: x_{t+1} = a·x_t + c_t.
struct Recurrence<'s> {
    df: &'s crate::model::Diffusion,
    /// The diffusion's shock among the `d` of a step.
    q: usize,
    d: usize,
    shocks: &'s [Lanes],
    jumps: &'s [Lanes],
    /// Static mode: the lanes' two regimes and onset months.
    onsets: Option<Onsets>,
    regime_t: &'s [[u8; LANES]],
    changed: &'s [bool],
}

impl Recurrence<'_> {
    /// The coefficients a, b, s of `regimes`, lane by lane.
    #[inline(always)]
    fn coefficients(&self, regimes: &[u8; LANES]) -> (Lanes, Lanes, Lanes) {
        let (mut a, mut b, mut s) = ([0.0; LANES], [0.0; LANES], [0.0; LANES]);
        for (l, &r) in regimes.iter().enumerate() {
            let st = &self.df.steps[r as usize];
            (a[l], b[l], s[l]) = (st.a, st.b, st.s);
        }
        (a, b, s)
    }

    /// The levels of x_{t+1} into `states[t]` (`level(x, out)` maps a month's
    /// lanes), and the log changes x_{t+1} − x_t into `dlog[t]` if asked.
    ///
    /// With static regimes each month selects, lane by lane, between the
    /// coefficients of the two regimes (no branch). Otherwise the coefficients
    /// are gathered again in the months where some lane's regime changes.
    #[inline(always)]
    fn run(&self, states: &mut [Lanes], mut dlog: Option<&mut [Lanes]>, level: impl Fn(&Lanes, &mut Lanes)) {
        let (df, d, q) = (self.df, self.d, self.q);
        let (mut a, mut b, mut s) = self.coefficients(&self.regime_t[0]);
        // static mode: the coefficients of the regimes entered, and the jump of entering
        let (from, to, onset) = match self.onsets {
            Some(o) => (
                self.coefficients(&[o.from; LANES]),
                self.coefficients(&o.to),
                std::array::from_fn::<f64, LANES, _>(|l| df.steps[o.to[l] as usize].onset),
            ),
            None => ((a, b, s), (a, b, s), [0.0; LANES]),
        };
        let mut x = [df.x0; LANES];
        for (t, out) in states.iter_mut().enumerate() {
            let mut c = [0.0; LANES];
            if let Some(o) = self.onsets {
                for l in 0..LANES {
                    let after = t >= o.tau[l];
                    a[l] = if after { to.0[l] } else { from.0[l] };
                    b[l] = if after { to.1[l] } else { from.1[l] };
                    s[l] = if after { to.2[l] } else { from.2[l] };
                }
                let e = &self.shocks[t * d + q];
                for l in 0..LANES {
                    c[l] = b[l] + s[l] * e[l];
                    // entering the new regime in month t + 1 adds its onset jump to x_{t+1}
                    if t + 1 == o.tau[l] {
                        c[l] += onset[l];
                    }
                }
            } else {
                if self.changed[t] {
                    (a, b, s) = self.coefficients(&self.regime_t[t]);
                }
                let e = &self.shocks[t * d + q];
                for l in 0..LANES {
                    c[l] = b[l] + s[l] * e[l];
                }
                if self.changed[t + 1] {
                    let (now, next) = (&self.regime_t[t], &self.regime_t[t + 1]);
                    for l in 0..LANES {
                        if next[l] != now[l] {
                            c[l] += df.steps[next[l] as usize].onset;
                        }
                    }
                }
            }
            if df.has_jumps {
                for (cl, j) in c.iter_mut().zip(&self.jumps[t]) {
                    *cl += j;
                }
            }
            let mut xn = [0.0; LANES];
            for l in 0..LANES {
                xn[l] = a[l] * x[l] + c[l];
            }
            if let Some(dl) = dlog.as_deref_mut() {
                for l in 0..LANES {
                    dl[t][l] = xn[l] - x[l];
                }
            }
            x = xn;
            level(&xn, out);
        }
    }
}

/// Simulate global paths `first .. first + rows` into rows `0..rows` of `out`,
/// block by block; a series that goes non-finite is an error naming it.
pub fn simulate_rows(ctx: &Ctx, first: u64, rows: usize, scratch: &mut Scratch, out: &mut BlockOut) -> Result<()> {
    // with `stream_out`, each block is built in the stage (cache-resident, where
    // the block's own reads of its outputs find it), then copied out with
    // non-temporal stores
    let w = ctx.model.horizon + 1;
    let mut stage = Vec::new();
    if ctx.stream_out {
        stage = std::mem::take(&mut scratch.stage);
        stage.resize(ctx.model.n_outputs() * LANES * w, 0.0);
    }
    let mut staged: Vec<&mut [f64]> = stage.chunks_exact_mut(LANES * w).collect();
    let mut result = Ok(());
    let mut row = 0;
    while row < rows {
        let lanes = LANES.min(rows - row);
        let bad = if ctx.stream_out {
            let rows_of = row * w..(row + lanes) * w;
            let mut block = BlockOut {
                series: &mut staged,
                row0: 0,
                onset: &mut out.onset[row..row + lanes],
                regimes: out.regimes.as_deref_mut().map(|r| &mut r[rows_of.clone()]),
            };
            let bad = simulate_block(ctx, first + row as u64, lanes, scratch, &mut block);
            for (src, dst) in staged.iter().zip(out.series.iter_mut()) {
                stream_copy(&src[..lanes * w], &mut dst[rows_of.clone()]);
            }
            bad
        } else {
            out.row0 = row;
            simulate_block(ctx, first + row as u64, lanes, scratch, out)
        };
        if let Some(bad) = bad {
            // the block's first path with a value that is not finite (the earlier blocks
            // had none: the chunk's first failing path), its first such month, and the
            // first series failing then
            let first_month = |o: usize, l: usize| {
                let path = &out.series[o][(row + l) * w..(row + l + 1) * w];
                path.iter().position(|v| !v.is_finite())
            };
            let at = (0..lanes).find_map(|l| {
                (0..out.series.len())
                    .filter_map(|o| first_month(o, l).map(|t| (t, o)))
                    .min()
                    .map(|(t, o)| (l, t, o))
            });
            let o = at.map_or(bad, |(_, _, o)| o);
            let at = at.map(|(l, t, _)| (l, t));
            let name = &ctx.model.names[o];
            result = Err(CoreError::Numerical(match at {
                Some((l, 0)) => format!(
                    "series {name:?} is not finite at month 0 on path {}: its initial value, from the factors' \
                     `initial` levels, overflows (a ratio or product of extreme levels)",
                    first + (row + l) as u64
                ),
                Some((l, t)) => format!(
                    "series {name:?} became non-finite at month {t} on path {}: the parameters are too extreme \
                     for this horizon",
                    first + (row + l) as u64
                ),
                None => format!(
                    "series {name:?} became non-finite on path {}: the parameters are too extreme for this horizon",
                    first + row as u64
                ),
            }));
            break;
        }
        row += lanes;
    }
    if ctx.stream_out {
        stream_fence();
        drop(staged);
        scratch.stage = stage;
    }
    result
}

/// [`math::exp`] of every lane, written out in the instructions of tier
/// `TIER` (AVX2 or AVX-512) so that its table is read with scalar loads, not
/// with the gathers the compiler would choose; the same bits. The callers use
/// the compiler's loop when gathers are asked for ([`crate::simd::gathers`]),
/// choosing outside their loops.
///
/// # Safety
/// The CPU must have the instructions of `TIER`.
#[inline(always)]
#[deny(unsafe_op_in_unsafe_fn)]
unsafe fn exp_lanes<const TIER: u8>(x: &Lanes) -> Lanes {
    #[cfg(target_arch = "x86_64")]
    {
        if TIER == crate::simd::AVX512 {
            // SAFETY: the caller's CPU has AVX-512.
            return unsafe { math::exp8_avx512(x) };
        }
        if TIER == crate::simd::AVX2 {
            // SAFETY: the caller's CPU has AVX2.
            return unsafe { math::exp8_avx2(x) };
        }
    }
    x.map(math::exp)
}

/// Read series `a` while writing series `b` (a ≠ b).
fn two_series<'s>(series: &'s mut [&mut [f64]], a: usize, b: usize) -> (&'s [f64], &'s mut [f64]) {
    debug_assert_ne!(a, b);
    if a < b {
        let (lo, hi) = series.split_at_mut(b);
        (&*lo[a], &mut *hi[0])
    } else {
        let (lo, hi) = series.split_at_mut(a);
        (&*hi[0], &mut *lo[b])
    }
}

multiversion! {
    /// Simulate global paths `first .. first + lanes` into `out`. Returns the index
    /// of an output series that went non-finite, if any.
    pub fn simulate_block(ctx: &Ctx, first: u64, lanes: usize, scratch: &mut Scratch, out: &mut BlockOut) -> Option<usize>
        => simulate_block_generic
}

/// [`simulate_block`] compiled for instruction set tier `TIER` (see
/// [`crate::simd`]).
///
/// # Safety
/// The CPU must have the instructions of `TIER` (its dispatch checks).
#[inline(always)]
#[deny(unsafe_op_in_unsafe_fn)]
unsafe fn simulate_block_generic<const TIER: u8>(
    ctx: &Ctx,
    first: u64,
    lanes: usize,
    scratch: &mut Scratch,
    out: &mut BlockOut,
) -> Option<usize> {
    let model = ctx.model;
    let h = model.horizon;
    let w = h + 1;
    let d = model.n_shocks();
    // the lanes' streams, on the stack (no allocation per block)
    let all_rngs: [PathRng; LANES] = std::array::from_fn(|l| PathRng::new(ctx.seed, first + l as u64, ctx.antithetic));
    let rngs = &all_rngs[..lanes];
    let prng = PathsRng::new(rngs);

    // 1. regime of every month, lane by lane, then month by month (`regime_t`)
    let draws = &mut scratch.draws[..w];
    match model.regimes {
        Regimes::Static { .. } => draws[0] = prng.uniform(streams::REGIME, 0),
        Regimes::Markov { .. } => prng.fill_uniforms(streams::REGIME, draws),
    }
    let mut onsets = Onsets {
        from: model.base as u8,
        to: [model.base as u8; LANES],
        tau: [usize::MAX; LANES],
    };
    for l in 0..lanes {
        let path = first + l as u64;
        let k = ctx.alloc.scenario_of(path as usize);
        let reg = &mut scratch.regimes[l * w..(l + 1) * w];
        match &model.regimes {
            Regimes::Static { onset } => {
                let tau = match onset[k] {
                    Some((lo, hi)) if k != model.base => uniform_int(draws[0][l], lo, hi) as usize,
                    _ => usize::MAX,
                };
                let on = tau.min(w);
                reg[..on].fill(model.base as u8);
                reg[on..].fill(k as u8);
                (onsets.to[l], onsets.tau[l]) = (k as u8, tau);
                out.onset[out.row0 + l] = if tau == usize::MAX { -1 } else { tau as i64 };
            }
            Regimes::Markov { cumulative } => {
                reg[0] = k as u8;
                for t in 1..w {
                    let u = draws[t][l];
                    let row = &cumulative[reg[t - 1] as usize];
                    let mut j = row.iter().position(|&c| u < c).unwrap_or(row.len() - 1);
                    // rounding can leave the last cumulative value below 1
                    while j > 0 && row[j] == row[j - 1] {
                        j -= 1;
                    }
                    reg[t] = j as u8;
                }
                out.onset[out.row0 + l] = -1;
            }
        }
        if let Some(rout) = out.regimes.as_deref_mut() {
            rout[(out.row0 + l) * w..(out.row0 + l + 1) * w].copy_from_slice(reg);
        }
    }
    // the lanes past the block repeat its last path
    for l in lanes..LANES {
        (onsets.to[l], onsets.tau[l]) = (onsets.to[lanes - 1], onsets.tau[lanes - 1]);
    }
    // the regimes month by month: in static mode straight from the onsets
    // (one vector select a month), otherwise lane by lane
    match model.regimes {
        Regimes::Static { .. } => {
            for (t, rt) in scratch.regime_t.iter_mut().enumerate() {
                *rt = std::array::from_fn(|l| if t >= onsets.tau[l] { onsets.to[l] } else { onsets.from });
            }
        }
        Regimes::Markov { .. } => {
            for l in 0..LANES {
                let reg = &scratch.regimes[l.min(lanes - 1) * w..][..w];
                for (rt, &r) in scratch.regime_t.iter_mut().zip(reg) {
                    rt[l] = r;
                }
            }
        }
    }
    // (a block whose lanes all stay in one regime runs the plain recurrence)
    let onsets = match model.regimes {
        Regimes::Static { .. } if onsets.tau.iter().any(|&t| t < w) => Some(onsets),
        _ => None,
    };

    // 2. correlated shocks, e_t = L z_t
    let shocks = &mut scratch.shocks[..h * d];
    match ctx.qmc {
        Some(q) => {
            let z = &mut scratch.qmc_shocks;
            for l in 0..LANES {
                q.fill(first + l.min(lanes - 1) as u64, z);
                for (e, &v) in shocks.iter_mut().zip(z.iter()) {
                    e[l] = v;
                }
            }
        }
        None => prng.fill_normals(streams::SHOCKS, shocks),
    }
    // e = L z in place, last row first so that z_j (j <= i) is still unchanged;
    // rows equal to the identity's keep e_i = z_i
    if !model.chol_rows.is_empty() {
        for zt in shocks.chunks_exact_mut(d) {
            for (i, row) in &model.chol_rows {
                let mut e = [0.0; LANES];
                for &(j, lij) in row {
                    for (el, zl) in e.iter_mut().zip(&zt[j]) {
                        *el += lij * zl;
                    }
                }
                zt[*i] = e;
            }
        }
    }

    // 3. diffusions: x_{t+1} = a·x_t + c_t with c_t = b + s·e_t (+ the onset jump
    //    on entering a regime) (+ jumps), the coefficients those of the lane's
    //    regime in month t; the lanes advance month by month together.
    //    `changed[t]`: some lane's regime in month t differs from month t − 1.
    let changed = &mut scratch.changed;
    changed[0] = false;
    for (c, months) in changed[1..].iter_mut().zip(scratch.regime_t.windows(2)) {
        *c = months[1] != months[0];
    }
    let changed = &*changed;
    // exp written out in the tier's instructions (`exp_lanes`) unless gathers are asked for
    let own_exp = TIER != GENERIC && !crate::simd::gathers();
    for (q, df) in model.diffusions.iter().enumerate() {
        let f = df.factor;
        let jumps = &mut scratch.jumps[..h];
        if df.has_jumps {
            // Poisson(λΔ) counts by inversion of uniform t. A lane draws no jump
            // when u ≤ P(N = 0) of its regime (nearly always), so the tables are
            // only looked up in the lanes that jump.
            let draws = &mut scratch.draws[..h];
            prng.fill_uniforms(streams::UNIFORM_BASE + f as u32, draws);
            let no_jump = |t: usize| -> Lanes { std::array::from_fn(|l| df.no_jump[scratch.regime_t[t][l] as usize]) };
            let mut p0 = no_jump(0);
            let (counts, sizes) = (&mut scratch.jump_n, &mut scratch.jump_sizes);
            sizes.clear();
            for (t, (n, u)) in counts.iter_mut().zip(draws.iter()).enumerate() {
                if changed[t] {
                    p0 = no_jump(t);
                }
                *n = [0; LANES];
                if !(0..LANES).fold(false, |any, l| any | (u[l] > p0[l])) {
                    continue;
                }
                for l in 0..LANES {
                    if u[l] > p0[l] {
                        n[l] = df.jump_counts[scratch.regime_t[t][l] as usize].invert(u[l]);
                    }
                }
                sizes.extend((0..n.iter().copied().max().unwrap_or(0)).map(|i| (t, i)));
            }
            // the i-th jump size of month t is normal (t << 16) | i; a batch of
            // them is drawn together
            jumps.fill([0.0; LANES]);
            for batch in sizes.chunks(CHAINS) {
                // (a short last batch repeats its last draw)
                let index = |k: usize| {
                    let (t, i) = batch[k.min(batch.len() - 1)];
                    ((t as u64) << 16) | i as u64
                };
                let z = prng.normals_at::<CHAINS>(streams::NORMAL_BASE + f as u32, std::array::from_fn(index));
                for (&(t, i), z) in batch.iter().zip(&z) {
                    for l in 0..LANES {
                        if i < counts[t][l] {
                            let st = &df.steps[scratch.regime_t[t][l] as usize];
                            jumps[t][l] += st.mu_j + st.sigma_j * z[l];
                        }
                    }
                }
            }
        }
        // an asset's log change of this factor is the change of its log state
        // (read by the strategies in step 8)
        let slot = scratch.dlog_slot[f];
        let log_change = !model.strategies.is_empty() && slot != usize::MAX && scratch.dlog_from_state[slot];
        let dlog = if log_change {
            Some(&mut scratch.dlog[slot * h..(slot + 1) * h])
        } else {
            None
        };
        let path = Recurrence {
            df,
            q,
            d,
            shocks,
            jumps,
            onsets,
            regime_t: &scratch.regime_t,
            changed,
        };
        let states = &mut scratch.states[..h];
        // one copy of the loop per transform (the level is computed in the same
        // pass: its work overlaps the recurrence's latency); see `exp_lanes`
        match df.transform {
            // SAFETY: this copy of the kernel runs on CPUs with the instructions of TIER.
            Transform::Log if own_exp => path.run(states, dlog, |x, out| *out = unsafe { exp_lanes::<TIER>(x) }),
            Transform::Log => path.run(states, dlog, |x, out| {
                for (o, &x) in out.iter_mut().zip(x) {
                    *o = math::exp(x);
                }
            }),
            Transform::Logit { scale } => path.run(states, dlog, |x, out| {
                for (o, &x) in out.iter_mut().zip(x) {
                    *o = math::logistic(x, scale);
                }
            }),
        }
        let series = &mut *out.series[f];
        for l in 0..lanes {
            series[(out.row0 + l) * w] = df.initial;
        }
        store_rows(states, &mut series[out.row0 * w + 1..], w, lanes);
    }

    // 4. completion counters: the lanes advance month by month together, so
    //    that their (serial) counts overlap
    for c in &model.completions {
        let series = &mut *out.series[c.factor];
        let stream = streams::UNIFORM_BASE + c.factor as u32;
        let draws = &mut scratch.draws[..h];
        prng.fill_uniforms(stream, draws);
        for l in 0..lanes {
            series[(out.row0 + l) * w] = c.initial as f64;
        }
        let mut done = [c.initial; LANES];
        let counts = &mut scratch.states[..h];
        for (t, (count, u)) in counts.iter_mut().zip(draws.iter()).enumerate() {
            let regime = &scratch.regime_t[t];
            for l in 0..LANES {
                let r = regime[l] as usize;
                let open = c.total - done[l];
                let tab = &c.tables[r][open as usize];
                done[l] += if tab.cdf.is_empty() {
                    binomial_inv(open, c.h[r], c.p0[r][open as usize], u[l], &all_rngs[l], stream, t)
                } else {
                    tab.invert(u[l])
                };
            }
            *count = done.map(|n| n as f64);
        }
        store_rows(counts, &mut series[out.row0 * w + 1..], w, lanes);
    }

    // 5. adoption curves: s_max·(1 − e^{−r(t−L)⁺}) + noise·Z_t, clipped to [0, 1]
    //    (Z_t is normal t of the factor's own stream)
    for a in &model.adoptions {
        let lag_u = prng.uniform(streams::UNIFORM_BASE + a.factor as u32, 0);
        let noise = &mut scratch.draws[..w];
        if a.noise > 0.0 {
            prng.fill_normals(streams::NORMAL_BASE + a.factor as u32, noise);
        } else {
            noise.fill([0.0; LANES]);
        }
        let lag: [usize; LANES] = std::array::from_fn(|l| uniform_int(lag_u[l], a.lag_min, a.lag_max) as usize);
        let shares = &mut scratch.states[..h];
        for (t, share) in (1..w).zip(shares.iter_mut()) {
            let regime = &scratch.regime_t[t];
            for l in 0..LANES {
                let s_max = a.s_max[regime[l] as usize];
                let v = s_max * a.ramp[t.saturating_sub(lag[l])] + a.noise * noise[t][l];
                share[l] = v.clamp(0.0, 1.0);
            }
        }
        let series = &mut *out.series[a.factor];
        for l in 0..lanes {
            series[(out.row0 + l) * w] = 0.0;
        }
        store_rows(shares, &mut series[out.row0 * w + 1..], w, lanes);
    }

    // 6. contract prices: C = (1 − d)·mean(S_{t−m} … S_{t−1})·e^{ε} at each contract month
    for c in &model.contracts {
        let (under, row_all) = two_series(out.series, c.underlying, c.factor);
        // e^{ε} of every contract month, over the lanes at once (ε = noise·Z_t,
        // Z_t normal t of the factor's stream; e^0 = 1 without noise)
        let growth = &mut scratch.draws[..w];
        for (t, g) in growth.iter_mut().enumerate().filter(|&(t, _)| c.reset[t]) {
            *g = if c.noise > 0.0 {
                let z = prng.normal(streams::NORMAL_BASE + c.factor as u32, t as u64);
                std::array::from_fn(|l| math::exp(c.noise * z[l]))
            } else {
                [1.0; LANES]
            };
        }
        #[allow(clippy::needless_range_loop)] // l: a lane of `growth`, a row of the outputs
        for l in 0..lanes {
            let r0 = (out.row0 + l) * w;
            let under = &under[r0..r0 + w];
            let row = &mut row_all[r0..r0 + w];
            let mut price = c.initial;
            row[0] = price;
            for t in 1..w {
                if c.reset[t] {
                    let lo = t.saturating_sub(c.averaging);
                    let mean = under[lo..t].iter().sum::<f64>() / (t - lo) as f64;
                    let disc = c.discount[scratch.regimes[l * w + t] as usize];
                    price = (1.0 - disc) * mean * growth[t][l];
                }
                row[t] = price;
            }
        }
    }

    // 7. derived series (of two factors), over the block's rows at once
    let block = out.row0 * w..(out.row0 + lanes) * w;
    let (factors, derived) = out.series.split_at_mut(model.n_factors);
    for (dv, o) in model.derived.iter().zip(derived.iter_mut()) {
        let (a, b) = (&factors[dv.a][block.clone()], &factors[dv.b][block.clone()]);
        let o = &mut o[block.clone()];
        match dv.kind {
            DerivedKind::Spread => o.iter_mut().zip(a).zip(b).for_each(|((o, a), b)| *o = a - b),
            DerivedKind::Discount => o.iter_mut().zip(a).zip(b).for_each(|((o, a), b)| *o = 1.0 - b / a),
            DerivedKind::Ratio => o.iter_mut().zip(a).zip(b).for_each(|((o, a), b)| *o = a / b),
        }
    }

    // 8. assets and strategies (MODEL.md §5), month by month over the lanes
    //    together (lanes past `lanes` compute numbers that are never written)
    if !model.strategies.is_empty() {
        let dlog = &mut scratch.dlog;
        for (slot, &f) in model.asset_factors.iter().enumerate() {
            if scratch.dlog_from_state[slot] {
                continue; // filled from the log state in step 3
            }
            // ln(S_{t+1} / S_t) along each row (a contiguous, vectorised loop),
            // then into the lanes
            let series = &*out.series[f];
            let row_logs = &mut scratch.row_logs;
            for l in 0..lanes {
                let row = &series[(out.row0 + l) * w..][..w];
                for (d, s) in row_logs[l * h..(l + 1) * h].iter_mut().zip(row.windows(2)) {
                    *d = math::ln(s[1] / s[0]);
                }
            }
            for (t, dl) in dlog[slot * h..(slot + 1) * h].iter_mut().enumerate() {
                for (l, d) in dl.iter_mut().enumerate() {
                    *d = row_logs[l.min(lanes - 1) * h + t];
                }
            }
        }
        let freeze_steps = &mut scratch.freeze_steps;
        for (l, steps) in freeze_steps.iter_mut().enumerate().take(lanes) {
            steps.clear();
            if let Some(fs) = model.freeze_scenario {
                let (fs, reg) = (fs as u8, &scratch.regimes[l * w..(l + 1) * w]);
                steps.extend((0..h).filter(|&t| reg[t + 1] == fs && reg[t] != fs));
            }
        }
        for (ai, a) in model.assets.iter().enumerate() {
            let ret = &mut scratch.asset_ret[ai * h..(ai + 1) * h];
            if a.noise > 0.0 {
                prng.fill_normals(streams::ASSET_BASE + ai as u32, ret);
                for z in ret.as_flattened_mut() {
                    *z *= a.noise;
                }
            } else {
                ret.fill([0.0; LANES]);
            }
            for &(f, beta) in &a.betas {
                let slot = scratch.dlog_slot[f];
                let dl = dlog[slot * h..(slot + 1) * h].as_flattened();
                for (r, d) in ret.as_flattened_mut().iter_mut().zip(dl) {
                    *r += beta * d;
                }
            }
            for (l, steps) in freeze_steps.iter().enumerate().take(lanes) {
                for &t in steps {
                    ret[t][l] -= a.freeze_loss;
                }
            }
            // log return → simple return
            if own_exp {
                for v in ret.iter_mut() {
                    // SAFETY: as in step 3.
                    let e = unsafe { exp_lanes::<TIER>(v) };
                    for (v, e) in v.iter_mut().zip(e) {
                        *v = e - 1.0;
                    }
                }
            } else {
                for v in ret.as_flattened_mut() {
                    *v = math::exp(*v) - 1.0;
                }
            }
        }
        for (si, st) in model.strategies.iter().enumerate() {
            // month t (MODEL.md §5), per unit of NAV at the start of the month: the
            // gross return is R = Σ w_i R_i (cash earns 0); position i has grown to
            // w_i (1 + R_i) and its target is w_i (1 + R), so trading back costs
            // Σ c_i |w_i| |R − R_i| with c_i the strategy's plus the asset's cost;
            // entering the positions in month 0 costs like any trade. The NAV grows
            // by 1 + R − cost; one that reaches zero stays there, +0 (the strategy
            // is wiped out), and a NaN stays a NaN for the check below.
            let entry = st.entry;
            let series = &mut *out.series[model.strategy_output(si)];
            let mut nav = [1.0f64; LANES];
            for l in 0..lanes {
                series[(out.row0 + l) * w] = 1.0;
            }
            for t in 0..h {
                let ret = |a: usize| &scratch.asset_ret[a * h + t];
                let mut gross = [0.0f64; LANES];
                for &(a, x, _) in &st.positions {
                    for (g, r) in gross.iter_mut().zip(ret(a)) {
                        *g += x * r;
                    }
                }
                let mut turnover = [0.0f64; LANES];
                for &(a, _, c) in &st.positions {
                    for ((u, g), r) in turnover.iter_mut().zip(&gross).zip(ret(a)) {
                        *u += c * (g - r).abs();
                    }
                }
                for l in 0..LANES {
                    let g = gross[l];
                    let mut u = turnover[l];
                    if t == 0 {
                        u += entry;
                    }
                    let v = nav[l] * (1.0 + g - u);
                    // (a wiped-out NAV times a loss is −0: it stays +0)
                    nav[l] = if v <= 0.0 { 0.0 } else { v };
                }
                scratch.states[t] = nav;
            }
            store_rows(&scratch.states[..h], &mut series[out.row0 * w + 1..], w, lanes);
        }
    }

    // 9. nothing non-finite leaves the engine
    let r0 = out.row0 * w;
    let r1 = (out.row0 + lanes) * w;
    (0..out.series.len()).find(|&o| !all_finite(&out.series[o][r0..r1]))
}

/// Whether every value is finite. A double is infinite or NaN exactly when its
/// exponent bits are all ones; adding one to the exponent then carries into the
/// sign bit. (Integer or-ing, unlike an early exit, vectorises; eight
/// accumulators let it fill a whole register.)
#[inline(always)]
fn all_finite(v: &[f64]) -> bool {
    const EXPONENT: u64 = 0x7FF0_0000_0000_0000;
    const ONE: u64 = 0x0010_0000_0000_0000;
    let flag = |x: &f64| (x.to_bits() & EXPONENT) + ONE;
    let mut acc = [0u64; 8];
    let lines = v.chunks_exact(8);
    let rest = lines.remainder().iter().fold(0, |a, x| a | flag(x));
    for line in lines {
        for (a, x) in acc.iter_mut().zip(line) {
            *a |= flag(x);
        }
    }
    acc.iter().fold(rest, |a, b| a | b) >> 63 == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{poisson_cdf, InversionTable};

    /// Poisson(mean) by inversion of the uniform `u`: the loop the tables replace.
    fn poisson_inv(u: f64, mean: f64, p0: f64) -> u32 {
        let (mut k, mut p, mut cdf) = (0u32, p0, p0);
        while u > cdf && k < 10_000 {
            k += 1;
            p *= mean / k as f64;
            cdf += p;
            if p == 0.0 {
                break;
            }
        }
        k
    }

    /// Uniforms on a grid, at every tabulated value and next to it, and the extremes.
    fn probes(cdf: &[f64]) -> Vec<f64> {
        let u_max = 1.0 - 1.0 / 9_007_199_254_740_992.0;
        let mut us: Vec<f64> = (1..4096).map(|i| i as f64 / 4096.0).collect();
        for &q in cdf {
            if q > 0.0 && q < 1.0 {
                us.extend([q, f64::from_bits(q.to_bits() - 1), f64::from_bits(q.to_bits() + 1)]);
            }
        }
        us.extend([f64::MIN_POSITIVE, 0.5 / 4_503_599_627_370_496.0, u_max]);
        us.retain(|&u| u > 0.0 && u < 1.0);
        us
    }

    #[test]
    fn tabulated_poisson_inversion_equals_the_loop() {
        for mean in [1e-9, 0.01, 0.125, 1.0, 5.0, 10.0, 100.0] {
            let p0 = math::exp(-mean);
            let tab = InversionTable::new(poisson_cdf(mean, p0));
            for u in probes(&tab.cdf) {
                assert_eq!(tab.invert(u), poisson_inv(u, mean, p0), "mean = {mean}, u = {u:e}");
                // the kernel skips the table when u <= P(N = 0)
                assert_eq!(tab.invert(u) == 0, u <= tab.cdf[0], "mean = {mean}, u = {u:e}");
            }
        }
        assert!(poisson_cdf(0.0, 1.0).is_empty());
    }

    #[test]
    fn tabulated_binomial_inversion_equals_the_loop() {
        let rng = PathRng::new(1, 2, false);
        for h in [1e-6f64, 0.01, 0.03, 0.2, 0.5, 0.93] {
            for n in [1u32, 2, 7, 70, 256] {
                let p0 = (1.0 - h).powi(n as i32);
                let cdf = Completion::tabulate(n, h, p0);
                if cdf.is_empty() {
                    assert!(p0 < 1e-290, "n = {n}, h = {h}");
                    continue;
                }
                let tab = InversionTable::new(cdf);
                for u in probes(&tab.cdf) {
                    assert_eq!(
                        tab.invert(u),
                        binomial_inv(n, h, p0, u, &rng, 0, 0),
                        "n = {n}, h = {h}, u = {u:e}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_uniform_above_the_rounded_binomial_sum_draws_the_end_of_the_tail_not_n() {
        // Binomial(n, h) with p0 as the model computes it: for many large n and h the
        // running sum ends below the largest uniform, which then lies beyond every sum
        let rng = PathRng::new(1, 2, false);
        let u_max = 1.0 - 1.0 / 9_007_199_254_740_992.0;
        let cases = [2_000u32, 5_000, 10_000]
            .into_iter()
            .flat_map(|n| (1..60).map(move |i| (n, i as f64 / 61.0)));
        let short = cases.filter_map(|(n, h): (u32, f64)| {
            let p0 = math::exp(n as f64 * math::ln(1.0 - h));
            let (mut p, mut cdf) = (p0, p0);
            for k in 0..n {
                p *= h / (1.0 - h) * (n - k) as f64 / (k + 1) as f64;
                cdf += p;
            }
            (p0 > 1e-290 && cdf < u_max).then_some((n, h, p0))
        });
        let short: Vec<_> = short.collect();
        assert!(
            short.len() > 10,
            "{} totals whose sums end below 1 − 2^-53",
            short.len()
        );
        for (n, h, p0) in short {
            let k = binomial_inv(n, h, p0, u_max, &rng, 0, 0);
            // mean nh, sd sqrt(nh(1 − h)): the tail ends some 8 to 40 sd out, far from n
            let (mean, sd) = (n as f64 * h, (n as f64 * h * (1.0 - h)).sqrt());
            assert!(
                (k as f64) > mean + 8.0 * sd && (k as f64) < mean + 40.0 * sd,
                "n = {n}, h = {h}, k = {k}"
            );
            // a uniform inside the sum draws as before: the median
            let median = binomial_inv(n, h, p0, 0.5, &rng, 0, 0) as f64;
            assert!((median - mean).abs() <= 1.0, "n = {n}, median {median}");
        }
        // every uniform up to the final sum draws what the whole loop draws: probes at
        // each running sum of the tail and one ulp either side
        let full = |n: u32, h: f64, p0: f64, u: f64| {
            let (mut k, mut p, mut cdf) = (0u32, p0, p0);
            while u > cdf && k < n {
                p *= h / (1.0 - h) * (n - k) as f64 / (k + 1) as f64;
                k += 1;
                cdf += p;
            }
            k
        };
        for n in [300u32, 1_000, 5_000] {
            for h in [0.0164f64, 0.0984, 0.3, 0.7] {
                let p0 = math::exp(n as f64 * math::ln(1.0 - h));
                let (mut p, mut sums) = (p0, vec![p0]);
                for k in 0..n {
                    p *= h / (1.0 - h) * (n - k) as f64 / (k + 1) as f64;
                    sums.push(sums[k as usize] + p);
                }
                let last = sums[n as usize];
                for &q in &sums[(n as f64 * h) as usize..] {
                    for u in [f64::from_bits(q.to_bits() - 1), q, f64::from_bits(q.to_bits() + 1)] {
                        if u > 0.0 && u < 1.0 && u <= last {
                            assert_eq!(
                                binomial_inv(n, h, p0, u, &rng, 0, 0),
                                full(n, h, p0, u),
                                "n = {n}, h = {h}, u = {u:e}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn finiteness_check_finds_every_non_finite_value() {
        let finite = [
            0.0,
            -0.0,
            1.0,
            -1.5e308,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            5e-324,
            -5e-324,
        ];
        assert!(all_finite(&finite));
        assert!(all_finite(&[]));
        for bad in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN, -f64::NAN] {
            for at in 0..finite.len() {
                let mut v = finite.to_vec();
                v[at] = bad;
                assert!(!all_finite(&v), "{bad} at {at}");
            }
        }
    }
}
