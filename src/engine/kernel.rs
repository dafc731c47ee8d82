//! The per-path simulation kernel: a block of up to [`LANES`] paths at a
//! time, every output row written once.
//!
//! Draw addressing (see [`crate::rng::streams`]): shock j at step t is normal
//! `t·d + j` of stream SHOCKS; the onset month is uniform 0 of stream REGIME
//! and the Markov move into month t is uniform t; factor f's jump count at step
//! t is uniform t of `UNIFORM_BASE + f`, its i-th jump size normal
//! `(t << 16) | i` of `NORMAL_BASE + f`; completion, adoption and contract
//! draws use the same two streams of their own factor, indexed by month.

use crate::config::DerivedKind;
use crate::error::{CoreError, Result};
use crate::model::scenario::Allocation;
use crate::model::{Model, Regimes, Transform};
use crate::rng::{math, streams, PathRng};
use crate::simd::multiversion;

/// Paths simulated together, so that the recurrences of different paths overlap.
pub const LANES: usize = 8;

/// Per-thread scratch space, allocated once per chunk.
pub struct Scratch {
    shocks: Vec<f64>,
    jumps: Vec<f64>,
    uniforms: Vec<f64>,
    regimes: Vec<u8>,
    coef_a: Vec<f64>,
    /// Per lane, Δ ln level of every factor an asset uses (`dlog_slot` order, H each).
    dlog: Vec<f64>,
    /// Slot of factor f in `dlog`, or `usize::MAX` if no asset uses it.
    dlog_slot: Vec<usize>,
    /// Per slot: whether step 3 fills it from the factor's log state.
    dlog_from_state: Vec<bool>,
    /// Per month: a strategy's gross return and the numerator of its rebalancing cost.
    gross: Vec<f64>,
    turnover: Vec<f64>,
    /// Every strategy's monthly NAV growth factor 1 + R − cost (strategy-major, H each).
    growth: Vec<f64>,
    /// One path's steps t whose month t + 1 enters the freeze scenario.
    freeze_steps: Vec<usize>,
    /// Per lane, the month ranges [t0, t1) of constant regime.
    segments: Vec<Vec<(usize, usize)>>,
    /// One path's normals of a factor's own stream, months 0..=H.
    noise: Vec<f64>,
    /// Monthly simple returns e^r − 1 of every asset (asset-major, H each).
    asset_ret: Vec<f64>,
}

impl Scratch {
    pub fn new(model: &Model) -> Scratch {
        let h = model.horizon;
        Scratch {
            shocks: vec![0.0; LANES * h * model.n_shocks()],
            jumps: vec![0.0; LANES * h],
            uniforms: vec![0.0; LANES * h],
            regimes: vec![0; LANES * (h + 1)],
            coef_a: vec![0.0; LANES * h],
            dlog: vec![0.0; LANES * model.asset_factors.len() * h],
            dlog_slot: (0..model.n_factors)
                .map(|f| model.asset_factors.iter().position(|&g| g == f).unwrap_or(usize::MAX))
                .collect(),
            dlog_from_state: model.asset_factors.iter().map(|&f| model.log_state(f)).collect(),
            gross: vec![0.0; h],
            turnover: vec![0.0; h],
            growth: vec![0.0; model.strategies.len() * h],
            freeze_steps: Vec::with_capacity(h),
            noise: vec![0.0; h + 1],
            segments: (0..LANES).map(|_| Vec::with_capacity(4)).collect(),
            asset_ret: vec![0.0; model.assets.len() * h],
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
    while u > cdf && k < n {
        p *= ratio * (n - k) as f64 / (k + 1) as f64;
        k += 1;
        cdf += p;
    }
    k
}

/// Simulate global paths `first .. first + rows` into rows `0..rows` of `out`,
/// block by block; a series that goes non-finite is an error naming it.
pub fn simulate_rows(ctx: &Ctx, first: u64, rows: usize, scratch: &mut Scratch, out: &mut BlockOut) -> Result<()> {
    let mut row = 0;
    while row < rows {
        let lanes = LANES.min(rows - row);
        out.row0 = row;
        if let Some(o) = simulate_block(ctx, first + row as u64, lanes, scratch, out) {
            return Err(CoreError::Numerical(format!(
                "series {:?} became non-finite on path {}: the parameters are too extreme for this horizon",
                ctx.model.names[o],
                first + row as u64
            )));
        }
        row += lanes;
    }
    Ok(())
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
    pub fn simulate_block(ctx: &Ctx, first: u64, lanes: usize, scratch: &mut Scratch, out: &mut BlockOut) -> Option<usize> {
        simulate_block_generic(ctx, first, lanes, scratch, out)
    }
}

#[inline(always)]
fn simulate_block_generic(
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

    // 1. regime of every month, and the months [t0, t1) of constant regime
    //    shared by every diffusion
    for l in 0..lanes {
        let path = first + l as u64;
        let k = ctx.alloc.scenario_of(path as usize);
        let reg = &mut scratch.regimes[l * w..(l + 1) * w];
        match &model.regimes {
            Regimes::Static { onset } => {
                let tau = match onset[k] {
                    Some((lo, hi)) if k != model.base => rngs[l].uniform_int(streams::REGIME, 0, lo, hi) as usize,
                    _ => usize::MAX,
                };
                let on = tau.min(w);
                reg[..on].fill(model.base as u8);
                reg[on..].fill(k as u8);
                out.onset[out.row0 + l] = if tau == usize::MAX { -1 } else { tau as i64 };
                let seg = &mut scratch.segments[l];
                seg.clear();
                if (1..h).contains(&tau) {
                    seg.extend([(0, tau), (tau, h)]);
                } else {
                    seg.push((0, h));
                }
            }
            Regimes::Markov { cumulative } => {
                reg[0] = k as u8;
                for t in 1..w {
                    let u = rngs[l].uniform(streams::REGIME, t as u64);
                    let row = &cumulative[reg[t - 1] as usize];
                    let mut j = row.iter().position(|&c| u < c).unwrap_or(row.len() - 1);
                    // rounding can leave the last cumulative value below 1
                    while j > 0 && row[j] == row[j - 1] {
                        j -= 1;
                    }
                    reg[t] = j as u8;
                }
                out.onset[out.row0 + l] = -1;
                let seg = &mut scratch.segments[l];
                seg.clear();
                let mut t0 = 0;
                while t0 < h {
                    let t1 = reg[t0 + 1..h]
                        .iter()
                        .position(|&r| r != reg[t0])
                        .map_or(h, |p| t0 + 1 + p);
                    seg.push((t0, t1));
                    t0 = t1;
                }
            }
        }
        if let Some(rout) = out.regimes.as_deref_mut() {
            rout[(out.row0 + l) * w..(out.row0 + l + 1) * w].copy_from_slice(reg);
        }
    }

    // 2. correlated shocks, e_t = L z_t
    let hd = h * d;
    for (l, rng) in rngs.iter().enumerate() {
        let z = &mut scratch.shocks[l * hd..(l + 1) * hd];
        match ctx.qmc {
            Some(q) => q.fill(first + l as u64, z),
            None => rng.fill_normals(streams::SHOCKS, z),
        }
        // e = L z in place, last row first so that z_j (j <= i) is still unchanged;
        // rows equal to the identity's keep e_i = z_i
        if !model.chol_rows.is_empty() {
            for zt in z.chunks_exact_mut(d) {
                for (i, row) in &model.chol_rows {
                    zt[*i] = row.iter().fold(0.0, |e, &(j, lij)| e + lij * zt[j]);
                }
            }
        }
    }

    // 3. diffusions: x_{t+1} = a·x_t + b + s·e_t + jumps, onset jump on entering a regime.
    //    When a full block stays in one regime throughout (e.g. base-scenario paths),
    //    every step has the same coefficient a and the per-month coefficients are skipped.
    let r_first = scratch.regimes[0];
    let single =
        lanes == LANES && (0..lanes).all(|l| scratch.segments[l].len() == 1 && scratch.regimes[l * w] == r_first);
    for (q, df) in model.diffusions.iter().enumerate() {
        let f = df.factor;
        if df.has_jumps {
            for (l, rng) in rngs.iter().enumerate() {
                rng.fill_uniforms(streams::UNIFORM_BASE + f as u32, &mut scratch.uniforms[..h]);
                let reg = &scratch.regimes[l * w..(l + 1) * w];
                for (t, &r) in reg[..h].iter().enumerate() {
                    let st = &df.steps[r as usize];
                    let mut jsum = 0.0;
                    if st.jump_mean > 0.0 {
                        // Poisson(λΔ) by inversion, looked up in the tabulated sums
                        let n = df.jump_counts[r as usize].invert(scratch.uniforms[t]);
                        for i in 0..n {
                            let z = rng.normal(streams::NORMAL_BASE + f as u32, ((t as u64) << 16) | i as u64);
                            jsum += st.mu_j + st.sigma_j * z;
                        }
                    }
                    scratch.jumps[l * h + t] = jsum;
                }
            }
        }
        // x_{t+1} = a_t·x_t + c_t with c_t = b + s·e_t + onset + jumps: c_t is laid
        // into the output row at t + 1 (contiguous), a_t into a lane-major scratch row;
        // the recurrence then runs over the lanes together and overwrites c with x
        let series = &mut *out.series[f];
        let ca = &mut scratch.coef_a;
        for l in 0..lanes {
            let reg = &scratch.regimes[l * w..(l + 1) * w];
            let z = &scratch.shocks[l * hd..(l + 1) * hd];
            let r0w = (out.row0 + l) * w;
            let row = &mut series[r0w..r0w + w];
            let al = &mut ca[l * h..(l + 1) * h];
            // months [t0, t1) share one regime: a tight loop with fixed coefficients
            for &(t0, t1) in &scratch.segments[l] {
                let r0 = reg[t0];
                let st = &df.steps[r0 as usize];
                let (a, b, sd) = (st.a, st.b, st.s);
                if !single {
                    al[t0..t1].fill(a);
                }
                if d == 1 {
                    for (c, &e) in row[t0 + 1..t1 + 1].iter_mut().zip(&z[t0..t1]) {
                        *c = b + sd * e;
                    }
                } else {
                    for t in t0..t1 {
                        row[t + 1] = b + sd * z[t * d + q];
                    }
                }
                // entering a new regime at month t1 adds its onset jump to x_{t1}
                let r1 = reg[t1];
                if r1 != r0 {
                    row[t1] += df.steps[r1 as usize].onset;
                }
            }
            if df.has_jumps {
                let jumps = &scratch.jumps[l * h..(l + 1) * h];
                for (c, j) in row[1..].iter_mut().zip(jumps) {
                    *c += j;
                }
            }
        }
        let base = out.row0 * w;
        let mut x = [df.x0; LANES];
        if single {
            let a = df.steps[r_first as usize].a;
            for t in 0..h {
                for (l, xl) in x.iter_mut().enumerate() {
                    let i = base + l * w + t + 1;
                    *xl = a * *xl + series[i];
                    series[i] = *xl;
                }
            }
        } else if lanes == LANES {
            for t in 0..h {
                for l in 0..LANES {
                    let i = base + l * w + t + 1;
                    x[l] = ca[l * h + t] * x[l] + series[i];
                    series[i] = x[l];
                }
            }
        } else {
            for t in 0..h {
                for l in 0..lanes {
                    let i = base + l * w + t + 1;
                    x[l] = ca[l * h + t] * x[l] + series[i];
                    series[i] = x[l];
                }
            }
        }
        // an asset's log change of this factor is the change of its log state
        // (read by the strategies in step 8)
        let slot = scratch.dlog_slot[f];
        let log_change = !model.strategies.is_empty() && slot != usize::MAX && scratch.dlog_from_state[slot];
        let n_af = model.asset_factors.len();
        for l in 0..lanes {
            let r0w = (out.row0 + l) * w;
            let row = &mut series[r0w..r0w + w];
            row[0] = df.initial;
            let row = &mut row[1..];
            if log_change {
                let dl = &mut scratch.dlog[(l * n_af + slot) * h..(l * n_af + slot + 1) * h];
                dl[0] = row[0] - df.x0;
                for t in 1..h {
                    dl[t] = row[t] - row[t - 1];
                }
            }
            match df.transform {
                Transform::Log => row.iter_mut().for_each(|v| *v = math::exp(*v)),
                Transform::Logit { scale } => row.iter_mut().for_each(|v| *v = math::logistic(*v, scale)),
            }
        }
    }

    // 4. completion counters: the lanes advance month by month together, so
    //    that their (serial) counts overlap
    for c in &model.completions {
        let series = &mut *out.series[c.factor];
        let stream = streams::UNIFORM_BASE + c.factor as u32;
        for (l, rng) in rngs.iter().enumerate() {
            rng.fill_uniforms(stream, &mut scratch.uniforms[l * h..(l + 1) * h]);
            series[(out.row0 + l) * w] = c.initial as f64;
        }
        let mut done = [c.initial; LANES];
        for t in 0..h {
            for (l, rng) in rngs.iter().enumerate() {
                let r = scratch.regimes[l * w + t] as usize;
                let open = c.total - done[l];
                let u = scratch.uniforms[l * h + t];
                let tab = &c.tables[r][open as usize];
                done[l] += if tab.cdf.is_empty() {
                    binomial_inv(open, c.h[r], c.p0[r][open as usize], u, rng, stream, t)
                } else {
                    tab.invert(u)
                };
                series[(out.row0 + l) * w + t + 1] = done[l] as f64;
            }
        }
    }

    // 5. adoption curves: s_max·(1 − e^{−r(t−L)⁺}) + noise·Z_t, clipped to [0, 1]
    //    (Z_t is normal t of the factor's own stream)
    for a in &model.adoptions {
        for (l, rng) in rngs.iter().enumerate() {
            let lag = rng.uniform_int(streams::UNIFORM_BASE + a.factor as u32, 0, a.lag_min, a.lag_max) as usize;
            let noise = &mut scratch.noise[..w];
            if a.noise > 0.0 {
                rng.fill_normals(streams::NORMAL_BASE + a.factor as u32, noise);
            } else {
                noise.fill(0.0);
            }
            let row = &mut out.series[a.factor][(out.row0 + l) * w..(out.row0 + l + 1) * w];
            row[0] = 0.0;
            for t in 1..w {
                let s_max = a.s_max[scratch.regimes[l * w + t] as usize];
                let v = s_max * a.ramp[t.saturating_sub(lag)] + a.noise * noise[t];
                row[t] = v.clamp(0.0, 1.0);
            }
        }
    }

    // 6. contract prices: C = (1 − d)·mean(S_{t−m} … S_{t−1})·e^{ε} at each contract month
    for c in &model.contracts {
        let (under, row_all) = two_series(out.series, c.underlying, c.factor);
        for (l, rng) in rngs.iter().enumerate() {
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
                    let eps = if c.noise > 0.0 {
                        c.noise * rng.normal(streams::NORMAL_BASE + c.factor as u32, t as u64)
                    } else {
                        0.0
                    };
                    price = (1.0 - disc) * mean * math::exp(eps);
                }
                row[t] = price;
            }
        }
    }

    // 7. derived series
    for (j, dv) in model.derived.iter().enumerate() {
        let o = model.n_factors + j;
        for l in 0..lanes {
            let r0 = (out.row0 + l) * w;
            for t in 0..w {
                let a = out.series[dv.a][r0 + t];
                let b = out.series[dv.b][r0 + t];
                out.series[o][r0 + t] = match dv.kind {
                    DerivedKind::Spread => a - b,
                    DerivedKind::Discount => 1.0 - b / a,
                    DerivedKind::Ratio => a / b,
                };
            }
        }
    }

    // 8. assets and strategies (MODEL.md §5)
    if !model.strategies.is_empty() {
        let n_af = model.asset_factors.len();
        for (l, rng) in rngs.iter().enumerate() {
            let r0 = (out.row0 + l) * w;
            let dlog = &mut scratch.dlog[l * n_af * h..(l + 1) * n_af * h];
            for (slot, &f) in model.asset_factors.iter().enumerate() {
                if scratch.dlog_from_state[slot] {
                    continue; // filled from the log state in step 3
                }
                let row = &out.series[f][r0..r0 + w];
                for (t, dl) in dlog[slot * h..(slot + 1) * h].iter_mut().enumerate() {
                    *dl = math::ln(row[t + 1] / row[t]);
                }
            }
            let reg = &scratch.regimes[l * w..(l + 1) * w];
            scratch.freeze_steps.clear();
            if let Some(fs) = model.freeze_scenario {
                let fs = fs as u8;
                scratch
                    .freeze_steps
                    .extend((0..h).filter(|&t| reg[t + 1] == fs && reg[t] != fs));
            }
            for (ai, a) in model.assets.iter().enumerate() {
                let ret = &mut scratch.asset_ret[ai * h..(ai + 1) * h];
                if a.noise > 0.0 {
                    rng.fill_normals(streams::ASSET_BASE + ai as u32, ret);
                    ret.iter_mut().for_each(|v| *v *= a.noise);
                } else {
                    ret.fill(0.0);
                }
                for &(f, beta) in &a.betas {
                    let slot = scratch.dlog_slot[f];
                    for (r, dl) in ret.iter_mut().zip(&dlog[slot * h..(slot + 1) * h]) {
                        *r += beta * dl;
                    }
                }
                for &t in &scratch.freeze_steps {
                    ret[t] -= a.freeze_loss;
                }
                // log return → simple return
                ret.iter_mut().for_each(|v| *v = math::exp(*v) - 1.0);
            }
            for (si, st) in model.strategies.iter().enumerate() {
                // month t: gross return R = Σ w_i R_i (cash earns 0); the weights drift
                // to w_i (1 + R_i)/(1 + R), and trading back to w_i costs
                // Σ |w_i| c_i |R − R_i| / (1 + R) with c_i the strategy's plus the asset's cost
                let (gross, turnover) = (&mut scratch.gross, &mut scratch.turnover);
                gross.fill(0.0);
                turnover.fill(0.0);
                for &(a, x) in &st.weights {
                    let ret = &scratch.asset_ret[a * h..(a + 1) * h];
                    gross.iter_mut().zip(ret).for_each(|(g, r)| *g += x * r);
                }
                let mut entry = 0.0;
                for &(a, x) in &st.weights {
                    let c = x.abs() * (st.cost + model.assets[a].cost);
                    entry += c;
                    let ret = &scratch.asset_ret[a * h..(a + 1) * h];
                    for ((u, g), r) in turnover.iter_mut().zip(gross.iter()).zip(ret) {
                        *u += c * (g - r).abs();
                    }
                }
                for (u, g) in turnover.iter_mut().zip(gross.iter()) {
                    *u = if 1.0 + g > 0.0 { *u / (1.0 + g) } else { 0.0 };
                }
                // entering the positions costs like any trade
                turnover[0] += entry;
                let growth = &mut scratch.growth[si * h..(si + 1) * h];
                for ((x, g), cost) in growth.iter_mut().zip(gross.iter()).zip(turnover.iter()) {
                    *x = 1.0 + g - cost;
                }
            }
            // the NAVs, month by month, every strategy together (independent products
            // overlap); a NAV that reaches zero stays there (the strategy is wiped
            // out), and a NaN stays a NaN for the check below
            let n_s = model.strategies.len();
            let o0 = model.strategy_output(0);
            for s0 in (0..n_s).step_by(8) {
                let group = s0..n_s.min(s0 + 8);
                let mut nav = [1.0f64; 8];
                for si in group.clone() {
                    out.series[o0 + si][r0] = 1.0;
                }
                for t in 0..h {
                    for (si, v) in group.clone().zip(nav.iter_mut()) {
                        *v *= scratch.growth[si * h + t];
                        *v = if *v < 0.0 { 0.0 } else { *v };
                        out.series[o0 + si][r0 + t + 1] = *v;
                    }
                }
            }
        }
    }

    // 9. nothing non-finite leaves the engine
    let r0 = out.row0 * w;
    let r1 = (out.row0 + lanes) * w;
    (0..out.series.len()).find(|&o| !all_finite(&out.series[o][r0..r1]))
}

/// Whether every value is finite. A double is infinite or NaN exactly when its
/// exponent bits are all ones; adding one to the exponent then carries into the
/// sign bit. (Integer or-ing, unlike an early exit, vectorises.)
#[inline(always)]
fn all_finite(v: &[f64]) -> bool {
    const EXPONENT: u64 = 0x7FF0_0000_0000_0000;
    const ONE: u64 = 0x0010_0000_0000_0000;
    v.iter().fold(0u64, |acc, x| acc | ((x.to_bits() & EXPONENT) + ONE)) >> 63 == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{poisson_cdf, Completion, InversionTable};

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
