//! A world compiled for simulation: per-regime step coefficients of every
//! factor, the shock Cholesky factor, and the scenario allocation rules.

pub mod scenario;

use crate::config::schema_idx as idx;
use crate::config::{DerivedKind, FactorKind, RegimeMode, World};
use crate::error::Result;
use crate::linalg;

/// Months per year of the simulation grid (Δ = 1/12).
pub const STEPS_PER_YEAR: f64 = 12.0;

/// How a diffusion's state x maps to its level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Transform {
    /// X = e^x
    Log,
    /// X = scale / (1 + e^{-x})
    Logit { scale: f64 },
}

/// One step x_{t+1} = a·x_t + b + s·Z (+ jumps) in one regime.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiffusionStep {
    pub a: f64,
    pub b: f64,
    pub s: f64,
    /// Poisson mean of the jump count per step, λΔ, and e^{-λΔ}.
    pub jump_mean: f64,
    pub jump_p0: f64,
    pub mu_j: f64,
    pub sigma_j: f64,
    /// Added to x on entering this regime.
    pub onset: f64,
}

impl DiffusionStep {
    /// Exact log-OU step (MODEL.md §3): a = e^{−κΔ}, b = x̄(1 − a),
    /// s = σ·sqrt((1 − e^{−2κΔ})/(2κ)), with the κ → 0 limit s = σ·sqrt(Δ).
    /// For 2κΔ < 1e-8 the variance is its series Δ(1 − κΔ), exact in doubles
    /// (the next term, Δ(2κΔ)²/6, is below half an ulp), where `exp_m1` of a
    /// subnormal 2κΔ would lose the diffusion.
    pub fn ou(kappa: f64, xbar: f64, sigma: f64, dt: f64) -> (f64, f64, f64) {
        let a = (-kappa * dt).exp();
        let x = 2.0 * kappa * dt;
        let var = if x >= 1e-8 {
            -(-x).exp_m1() / (2.0 * kappa)
        } else {
            dt * (1.0 - kappa * dt)
        };
        (a, xbar * (1.0 - a), sigma * var.sqrt())
    }

    /// Exact GBM step in logs: ln X_{t+1} = ln X_t + (g − σ²/2 − λk)Δ + σ·sqrt(Δ)·Z
    /// (+ jumps), with k = e^{μ_J + σ_J²/2} − 1 the mean relative jump, so that
    /// E\[X_t\] = X_0·e^{g·t} with or without jumps (MODEL.md §3: g is the expected
    /// growth rate of the level; the jumps are compensated, as in Merton 1976).
    pub fn gbm(g: f64, sigma: f64, lambda: f64, mu_j: f64, sigma_j: f64, dt: f64) -> (f64, f64, f64) {
        let k = (mu_j + 0.5 * sigma_j * sigma_j).exp_m1();
        (1.0, (g - 0.5 * sigma * sigma - lambda * k) * dt, sigma * dt.sqrt())
    }
}

/// A factor driven by a Gaussian shock.
#[derive(Debug, Clone)]
pub struct Diffusion {
    pub factor: usize,
    pub transform: Transform,
    pub initial: f64,
    pub x0: f64,
    pub steps: Vec<DiffusionStep>,
    pub has_jumps: bool,
    /// Per regime, the jump count's distribution function (empty without jumps).
    pub jump_counts: Vec<InversionTable>,
    /// Per regime, P(no jump in a step) as tabulated: a uniform at or below it
    /// draws no jump (+∞ without jumps).
    pub no_jump: Vec<f64>,
}

/// Completion counter: each of `total` items completes with probability h_r per month.
#[derive(Debug, Clone)]
pub struct Completion {
    pub factor: usize,
    pub total: u32,
    pub initial: u32,
    pub h: Vec<f64>,
    /// `p0[r][n]` = (1 − h_r)^n, the Binomial(n, h_r) mass at zero.
    pub p0: Vec<Vec<f64>>,
    /// `tables[r][n]`: Binomial(n, h_r) for inversion by table look-up.
    pub tables: Vec<Vec<InversionTable>>,
}

/// A discrete distribution function on 0, 1, …, tabulated for inversion.
#[derive(Debug, Clone)]
pub struct InversionTable {
    /// F(0), F(1), … summed term by term as an inversion loop would, up to the
    /// last value the loop can return (empty where not tabulated; see
    /// [`Completion::tabulate`] and [`poisson_cdf`]).
    pub cdf: Vec<f64>,
    /// `guide[j]` = #{k : F(k) < j/GUIDE}: the count for any u in [j/GUIDE, 1)
    /// is at least this, so a search for u starts there (Chen and Asau, 1974).
    pub guide: [u16; InversionTable::GUIDE],
}

impl InversionTable {
    pub const GUIDE: usize = 32;

    pub fn new(cdf: Vec<f64>) -> InversionTable {
        let guide = std::array::from_fn(|j| {
            let edge = j as f64 / Self::GUIDE as f64;
            cdf.iter().filter(|&&q| q < edge).count() as u16
        });
        InversionTable { cdf, guide }
    }

    /// The draw for the uniform u in (0, 1): the first k with u <= F(k), or the
    /// last tabulated k if there is none (the table must not be empty).
    #[inline(always)]
    pub fn invert(&self, u: f64) -> u32 {
        let mut k = self.guide[(u * Self::GUIDE as f64) as usize] as usize;
        while k < self.cdf.len() && self.cdf[k] < u {
            k += 1;
        }
        k.min(self.cdf.len() - 1) as u32
    }
}

/// The largest uniform the engine draws, 1 − 2^−53.
const U_MAX: f64 = 1.0 - 1.0 / 9_007_199_254_740_992.0;

/// Poisson(mean) as inversion sums it: p_0 = e^−mean, p_k = p_{k−1}·mean/k,
/// F(k) = F(k − 1) + p_k, up to the first k where F(k) reaches the largest
/// uniform, p_k underflows to 0 or k = 10,000; any u beyond F(k) there draws k.
/// Empty when mean = 0.
pub fn poisson_cdf(mean: f64, p0: f64) -> Vec<f64> {
    if mean <= 0.0 {
        return Vec::new();
    }
    let (mut p, mut cdf) = (p0, p0);
    let mut out = vec![cdf];
    let mut k = 0u32;
    while cdf < U_MAX && k < 10_000 {
        k += 1;
        p *= mean / k as f64;
        cdf += p;
        out.push(cdf);
        if p == 0.0 {
            break;
        }
    }
    out
}

impl Completion {
    /// Largest total whose distribution functions are tabulated.
    const TABULATE_MAX: u32 = 256;

    /// Whether the inversion of Binomial(n, h) stops at k, its term p_k and sum F(k)
    /// given: past the mean the terms only shrink, and once one no longer moves the
    /// sum none will, so the sum is final. A uniform above it (the sum can round below
    /// 1 − 2^−53 by ~1e-13 at large n) draws k, where the tail ends, not n; any other
    /// uniform draws what it drew before.
    #[inline(always)]
    pub fn tail_done(k: u32, n: u32, h: f64, p: f64, cdf: f64) -> bool {
        k as f64 > n as f64 * h && cdf + p == cdf
    }

    /// The running sums p_0, p_0 + p_1, … of Binomial(n, h) with p_0 = (1 − h)^n and
    /// p_{k+1} = p_k · (h/(1 − h)) · (n − k)/(k + 1), stopping at n, at the first sum
    /// not below the largest uniform 1 − 2^−53 (no draw can select a later term), or
    /// past the mean nh at the first term that no longer moves the sum
    /// ([`Completion::tail_done`]).
    /// Empty when the inversion loop is not used: n = 0, h ∉ (0, 1) or p_0 < 1e−290.
    pub fn tabulate(n: u32, h: f64, p0: f64) -> Vec<f64> {
        if n == 0 || h <= 0.0 || h >= 1.0 || p0 < 1e-290 || n > Self::TABULATE_MAX {
            return Vec::new();
        }
        let ratio = h / (1.0 - h);
        let (mut p, mut cdf) = (p0, p0);
        let mut out = vec![cdf];
        for k in 0..n {
            if cdf >= U_MAX || Self::tail_done(k, n, h, p, cdf) {
                break;
            }
            p *= ratio * (n - k) as f64 / (k + 1) as f64;
            cdf += p;
            out.push(cdf);
        }
        out
    }
}

/// Adoption curve.
#[derive(Debug, Clone)]
pub struct Adoption {
    /// `ramp[k]` = 1 − e^{−r·k}, k months after the lag.
    pub ramp: Vec<f64>,
    pub factor: usize,
    pub lag_min: u32,
    pub lag_max: u32,
    pub rate: f64,
    pub noise: f64,
    pub s_max: Vec<f64>,
}

/// Annual contract price.
#[derive(Debug, Clone)]
pub struct Contract {
    pub factor: usize,
    pub underlying: usize,
    pub initial: f64,
    pub averaging: usize,
    pub noise: f64,
    pub discount: Vec<f64>,
    /// `reset[t]` is true when month t is a contract month (t >= 1).
    pub reset: Vec<bool>,
}

/// How regimes evolve along a path.
#[derive(Debug, Clone)]
pub enum Regimes {
    Static {
        onset: Vec<Option<(u32, u32)>>,
    },
    /// Cumulative transition rows.
    Markov {
        cumulative: Vec<Vec<f64>>,
    },
}

/// A derived output series.
#[derive(Debug, Clone, Copy)]
pub struct DerivedSeries {
    pub kind: DerivedKind,
    pub a: usize,
    pub b: usize,
}

/// A tradable asset's monthly log return (MODEL.md §5).
#[derive(Debug, Clone)]
pub struct AssetModel {
    /// (factor, beta) on Δ ln level.
    pub betas: Vec<(usize, f64)>,
    /// vol·sqrt(Δ)
    pub noise: f64,
    /// Log loss when the freeze starts: exposure × freeze size.
    pub freeze_loss: f64,
    /// One-way cost per unit traded, as a fraction.
    pub cost: f64,
}

/// A strategy: target weights, monthly rebalancing, costs per unit traded.
#[derive(Debug, Clone)]
pub struct StrategyModel {
    /// (asset i, target weight w_i, c_i = |w_i|·(strategy cost + asset cost)):
    /// rebalancing back to w_i costs c_i·|R − R_i| per unit of the month's starting
    /// NAV (MODEL.md §5).
    pub positions: Vec<(usize, f64, f64)>,
    /// Entering the positions: Σ c_i.
    pub entry: f64,
}

/// The compiled world.
#[derive(Debug, Clone)]
pub struct Model {
    pub horizon: usize,
    pub dt: f64,
    pub base: usize,
    pub n_scenarios: usize,
    pub probabilities: Vec<f64>,
    pub regimes: Regimes,
    /// Cholesky factor of the shock correlation (d × d, row-major).
    pub chol: Vec<f64>,
    /// The rows i of the Cholesky factor that differ from the identity's, last
    /// row first, each with its non-zero entries (j, L_ij) in column order.
    pub chol_rows: Vec<(usize, Vec<(usize, f64)>)>,
    /// In shock order (shock j drives `diffusions[j]`).
    pub diffusions: Vec<Diffusion>,
    pub completions: Vec<Completion>,
    pub adoptions: Vec<Adoption>,
    pub contracts: Vec<Contract>,
    pub derived: Vec<DerivedSeries>,
    pub assets: Vec<AssetModel>,
    /// Scenario whose start triggers the sanctions freeze.
    pub freeze_scenario: Option<usize>,
    pub strategies: Vec<StrategyModel>,
    /// Factors whose log changes some asset uses.
    pub asset_factors: Vec<usize>,
    /// Output names and units: factors in config order, then derived series, then strategy NAVs.
    pub names: Vec<String>,
    pub units: Vec<String>,
    pub n_factors: usize,
}

impl Model {
    /// Compile `world` for a horizon of `horizon` months.
    pub fn new(world: &World, horizon: usize) -> Result<Model> {
        crate::config::parse::check_horizon(horizon)?;
        let dt = 1.0 / STEPS_PER_YEAR;
        let k = world.scenarios.len();
        let chol = linalg::correlation_cholesky(world)?;
        let shocked = linalg::shocked_factors(world);
        let d = shocked.len();
        let mut diffusions = Vec::new();
        let mut completions = Vec::new();
        let mut adoptions = Vec::new();
        let mut contracts = Vec::new();
        for (fi, f) in world.factors.iter().enumerate() {
            let p = |s: usize, i: usize| world.param(s, fi, i);
            match f.kind {
                FactorKind::LogOu { initial } | FactorKind::LogitOu { initial, .. } => {
                    let transform = match f.kind {
                        FactorKind::LogitOu { scale, .. } => Transform::Logit { scale },
                        _ => Transform::Log,
                    };
                    let to_x = |level: f64| match transform {
                        Transform::Log => level.ln(),
                        Transform::Logit { scale } => {
                            let q = level / scale;
                            (q / (1.0 - q)).ln()
                        }
                    };
                    let steps = (0..k)
                        .map(|s| {
                            let (a, b, sd) =
                                DiffusionStep::ou(p(s, idx::KAPPA), to_x(p(s, idx::THETA)), p(s, idx::OU_SIGMA), dt);
                            jumpy(a, b, sd, dt, |i| p(s, idx::OU_JUMPS + i))
                        })
                        .collect::<Vec<_>>();
                    diffusions.push(diffusion(fi, transform, initial, to_x(initial), steps));
                }
                FactorKind::Gbm { initial } => {
                    let steps = (0..k)
                        .map(|s| {
                            let jump = |i| p(s, idx::GBM_JUMPS + i);
                            let (a, b, sd) = DiffusionStep::gbm(
                                p(s, idx::G),
                                p(s, idx::GBM_SIGMA),
                                jump(idx::LAMBDA),
                                jump(idx::MU_J),
                                jump(idx::SIGMA_J),
                                dt,
                            );
                            jumpy(a, b, sd, dt, jump)
                        })
                        .collect::<Vec<_>>();
                    diffusions.push(diffusion(fi, Transform::Log, initial, initial.ln(), steps));
                }
                FactorKind::Completion { total, initial } => {
                    let h: Vec<f64> = (0..k).map(|s| p(s, 0)).collect();
                    let p0: Vec<Vec<f64>> = h
                        .iter()
                        .map(|&hr| {
                            let lnq = crate::rng::math::ln(1.0 - hr);
                            (0..=total).map(|n| crate::rng::math::exp(n as f64 * lnq)).collect()
                        })
                        .collect();
                    let tables = h
                        .iter()
                        .zip(&p0)
                        .map(|(&hr, p0r)| {
                            (0..=total)
                                .map(|n| InversionTable::new(Completion::tabulate(n, hr, p0r[n as usize])))
                                .collect()
                        })
                        .collect();
                    completions.push(Completion {
                        factor: fi,
                        total,
                        initial,
                        h,
                        p0,
                        tables,
                    })
                }
                FactorKind::Adoption {
                    lag_min,
                    lag_max,
                    rate,
                    noise,
                } => adoptions.push(Adoption {
                    ramp: (0..=horizon)
                        .map(|m| 1.0 - crate::rng::math::exp(-rate * m as f64))
                        .collect(),
                    factor: fi,
                    lag_min,
                    lag_max,
                    rate,
                    noise,
                    s_max: (0..k).map(|s| p(s, 0)).collect(),
                }),
                FactorKind::Contract {
                    underlying,
                    initial,
                    reset_month,
                    averaging,
                    noise,
                } => {
                    let reset = (0..=horizon)
                        .map(|t| t >= 1 && world.start.plus(t).month == reset_month)
                        .collect();
                    contracts.push(Contract {
                        factor: fi,
                        underlying,
                        initial,
                        averaging: averaging as usize,
                        noise,
                        discount: (0..k).map(|s| p(s, 0)).collect(),
                        reset,
                    })
                }
            }
        }
        debug_assert_eq!(diffusions.len(), d);
        let regimes = match &world.regimes {
            RegimeMode::Static => Regimes::Static {
                onset: world.scenarios.iter().map(|s| s.onset).collect(),
            },
            RegimeMode::Markov { transition } => Regimes::Markov {
                cumulative: transition
                    .iter()
                    .map(|row| {
                        let mut acc = 0.0;
                        row.iter()
                            .map(|p| {
                                acc += p;
                                acc
                            })
                            .collect()
                    })
                    .collect(),
            },
        };
        let mut names: Vec<String> = world.factors.iter().map(|f| f.name.clone()).collect();
        let mut units: Vec<String> = world.factors.iter().map(|f| f.unit.clone()).collect();
        for dv in &world.derived {
            names.push(dv.name.clone());
            units.push(dv.unit.clone());
        }
        for st in &world.strategies {
            names.push(st.name.clone());
            units.push("NAV".into());
        }
        let freeze_size = world.freeze.as_ref().map(|f| f.size).unwrap_or(0.0);
        let assets: Vec<AssetModel> = world
            .assets
            .iter()
            .map(|a| AssetModel {
                betas: a.betas.clone(),
                noise: a.vol * dt.sqrt(),
                freeze_loss: a.sanctions_exposure * freeze_size,
                cost: a.cost_bps * 1e-4,
            })
            .collect();
        let strategies: Vec<StrategyModel> = world
            .strategies
            .iter()
            .map(|st| {
                let cost = st.cost_bps * 1e-4;
                let positions: Vec<(usize, f64, f64)> = st
                    .weights
                    .iter()
                    .map(|&(a, x)| (a, x, x.abs() * (cost + assets[a].cost)))
                    .collect();
                let entry = positions.iter().fold(0.0, |e, p| e + p.2);
                StrategyModel { positions, entry }
            })
            .collect();
        let mut asset_factors: Vec<usize> = assets.iter().flat_map(|a| a.betas.iter().map(|b| b.0)).collect();
        asset_factors.sort_unstable();
        asset_factors.dedup();
        Ok(Model {
            horizon,
            dt,
            base: world.base,
            n_scenarios: k,
            probabilities: world.scenarios.iter().map(|s| s.probability).collect(),
            regimes,
            chol_rows: (0..d)
                .rev()
                .filter(|&i| (0..=i).any(|j| chol[i * d + j] != if i == j { 1.0 } else { 0.0 }))
                .map(|i| {
                    (
                        i,
                        (0..=i)
                            .filter(|&j| chol[i * d + j] != 0.0)
                            .map(|j| (j, chol[i * d + j]))
                            .collect(),
                    )
                })
                .collect(),
            chol,
            diffusions,
            completions,
            adoptions,
            contracts,
            derived: world
                .derived
                .iter()
                .map(|dv| DerivedSeries {
                    kind: dv.kind,
                    a: dv.of.0,
                    b: dv.of.1,
                })
                .collect(),
            assets,
            freeze_scenario: world.freeze.as_ref().map(|f| f.scenario),
            strategies,
            asset_factors,
            names,
            units,
            n_factors: world.factors.len(),
        })
    }

    /// Whether factor `f` is a diffusion with a log state (log-OU, GBM), whose
    /// log changes the kernel reads off that state.
    pub fn log_state(&self, f: usize) -> bool {
        self.diffusions
            .iter()
            .any(|d| d.factor == f && matches!(d.transform, Transform::Log))
    }

    /// Number of shocks per step.
    pub fn n_shocks(&self) -> usize {
        self.diffusions.len()
    }

    /// Every output's value at t = 0 (the same on every path).
    pub fn initial_values(&self) -> Vec<f64> {
        let mut v = vec![0.0; self.n_outputs()];
        for d in &self.diffusions {
            v[d.factor] = d.initial;
        }
        for c in &self.completions {
            v[c.factor] = c.initial as f64;
        }
        for c in &self.contracts {
            v[c.factor] = c.initial;
        }
        for (j, dv) in self.derived.iter().enumerate() {
            let (a, b) = (v[dv.a], v[dv.b]);
            v[self.n_factors + j] = match dv.kind {
                DerivedKind::Spread => a - b,
                DerivedKind::Discount => 1.0 - b / a,
                DerivedKind::Ratio => a / b,
            };
        }
        for s in 0..self.strategies.len() {
            v[self.strategy_output(s)] = 1.0;
        }
        v
    }

    /// Index of strategy `s` among the outputs.
    pub fn strategy_output(&self, s: usize) -> usize {
        self.n_factors + self.derived.len() + s
    }

    /// Number of output series (factors, derived, strategies).
    pub fn n_outputs(&self) -> usize {
        self.names.len()
    }
}

fn jumpy(a: f64, b: f64, s: f64, dt: f64, jump: impl Fn(usize) -> f64) -> DiffusionStep {
    let jump_mean = jump(idx::LAMBDA) * dt;
    DiffusionStep {
        a,
        b,
        s,
        jump_mean,
        jump_p0: (-jump_mean).exp(),
        mu_j: jump(idx::MU_J),
        sigma_j: jump(idx::SIGMA_J),
        onset: jump(idx::ONSET),
    }
}

fn diffusion(factor: usize, transform: Transform, initial: f64, x0: f64, steps: Vec<DiffusionStep>) -> Diffusion {
    let has_jumps = steps.iter().any(|s| s.jump_mean > 0.0);
    let jump_counts = steps
        .iter()
        .map(|s| InversionTable::new(poisson_cdf(s.jump_mean, s.jump_p0)))
        .collect::<Vec<_>>();
    let no_jump = jump_counts
        .iter()
        .map(|t| t.cdf.first().copied().unwrap_or(f64::INFINITY))
        .collect();
    Diffusion {
        factor,
        transform,
        initial,
        x0,
        steps,
        has_jumps,
        jump_counts,
        no_jump,
    }
}
