//! The world a user writes down: scenarios, factors, correlations and
//! derived series (MODEL.md §2–§4).
//!
//! A world is read from a generic tree ([`toml::Value`], which both TOML text
//! and Python dicts convert to) by [`parse::world_from_value`], which reports
//! every problem with the dotted path of the parameter. [`emit`] writes it
//! back; `parse(emit(w)) == w`.

pub mod emit;
pub mod parse;
pub mod schema;

pub use schema::idx as schema_idx;
pub use schema::{param_specs, ParamSpec, Rule};

/// The default world, "belarus_china_2025" (MODEL.md §1–§5).
pub const DEFAULT_WORLD_TOML: &str = include_str!("default_world.toml");

/// A calendar month, used only for labels and contract months.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YearMonth {
    pub year: i32,
    /// 1..=12
    pub month: u32,
}

impl YearMonth {
    /// The month `t` months after this one.
    pub fn plus(self, t: usize) -> YearMonth {
        let m0 = self.year as i64 * 12 + (self.month as i64 - 1) + t as i64;
        YearMonth {
            year: m0.div_euclid(12) as i32,
            month: (m0.rem_euclid(12) + 1) as u32,
        }
    }
}

impl std::fmt::Display for YearMonth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// How paths move between scenarios.
#[derive(Debug, Clone, PartialEq)]
pub enum RegimeMode {
    /// Each path stays in one scenario; non-base scenarios start at a random onset.
    Static,
    /// Monthly Markov chain over scenarios; `transition[i][j]` = P(j next | i now).
    Markov { transition: Vec<Vec<f64>> },
}

/// One named scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// Prior probability (static mode) or initial-regime probability (Markov mode).
    pub probability: f64,
    /// Onset month range, inclusive (non-base scenarios in static mode).
    pub onset: Option<(u32, u32)>,
    /// Parameters given for each factor (index = factor), in the order of
    /// [`param_specs`]; `None` means "inherit from the base scenario".
    pub given: Vec<Vec<Option<f64>>>,
}

/// How a factor evolves (MODEL.md §3).
#[derive(Debug, Clone, PartialEq)]
pub enum FactorKind {
    /// ln X is an Ornstein–Uhlenbeck process with Merton jumps.
    LogOu { initial: f64 },
    /// logit(X / scale) is an Ornstein–Uhlenbeck process with Merton jumps.
    LogitOu { initial: f64, scale: f64 },
    /// Geometric Brownian motion with expected growth rate g (plus optional jumps).
    Gbm { initial: f64 },
    /// Count of `total` items, each open one completing with probability h per month.
    Completion { total: u32, initial: u32 },
    /// Adoption curve s_max·(1 − e^{−r(t−L)⁺}) + noise, clipped to [0, 1].
    Adoption {
        lag_min: u32,
        lag_max: u32,
        rate: f64,
        noise: f64,
    },
    /// Price fixed once a year at a discount to the underlying's trailing mean (MODEL.md §4).
    Contract {
        underlying: usize,
        initial: f64,
        reset_month: u32,
        averaging: u32,
        noise: f64,
    },
}

impl FactorKind {
    /// The name used in configs.
    pub fn tag(&self) -> &'static str {
        match self {
            FactorKind::LogOu { .. } => "log_ou",
            FactorKind::LogitOu { .. } => "logit_ou",
            FactorKind::Gbm { .. } => "gbm",
            FactorKind::Completion { .. } => "completion",
            FactorKind::Adoption { .. } => "adoption",
            FactorKind::Contract { .. } => "contract",
        }
    }

    /// Whether the factor takes a Gaussian diffusion shock (and so a row of the correlation matrix).
    pub fn has_shock(&self) -> bool {
        matches!(
            self,
            FactorKind::LogOu { .. } | FactorKind::LogitOu { .. } | FactorKind::Gbm { .. }
        )
    }
}

/// One simulated factor.
#[derive(Debug, Clone, PartialEq)]
pub struct Factor {
    pub name: String,
    pub unit: String,
    pub description: String,
    pub kind: FactorKind,
}

/// A series computed from two others, path by path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DerivedKind {
    /// a − b
    Spread,
    /// 1 − b / a
    Discount,
    /// a / b
    Ratio,
}

impl DerivedKind {
    pub fn tag(&self) -> &'static str {
        match self {
            DerivedKind::Spread => "spread",
            DerivedKind::Discount => "discount",
            DerivedKind::Ratio => "ratio",
        }
    }
}

/// A derived series.
#[derive(Debug, Clone, PartialEq)]
pub struct Derived {
    pub name: String,
    pub unit: String,
    pub kind: DerivedKind,
    /// Indices of the two factors (a, b).
    pub of: (usize, usize),
}

/// A whole world.
#[derive(Debug, Clone, PartialEq)]
pub struct World {
    pub name: String,
    pub description: String,
    pub start: YearMonth,
    pub horizon_months: usize,
    pub base: usize,
    pub regimes: RegimeMode,
    pub scenarios: Vec<Scenario>,
    pub factors: Vec<Factor>,
    pub derived: Vec<Derived>,
    /// Off-diagonal correlations between shocked factors, by factor index.
    pub correlations: Vec<(usize, usize, f64)>,
    pub assets: Vec<Asset>,
    /// The sanctions freeze: entering this scenario costs each asset exposure × size (log).
    pub freeze: Option<Freeze>,
    pub strategies: Vec<Strategy>,
    /// Levels whose exceedance probability P(X > level) every summary reports unless
    /// told otherwise: (series name, level), in the order of the config.
    pub thresholds: Vec<(String, f64)>,
}

/// A tradable asset (MODEL.md §5): monthly log return
/// r_t = Σ_f β_f·Δln X_{f,t} + vol·sqrt(Δ)·ε_t − exposure·freeze·1{freeze starts at t}.
#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    pub name: String,
    pub description: String,
    /// (factor index, beta) on the factor level's monthly log change.
    pub betas: Vec<(usize, f64)>,
    /// Idiosyncratic volatility per sqrt(year).
    pub vol: f64,
    /// Sanctions exposure in [0, 1].
    pub sanctions_exposure: f64,
    /// Extra one-way trading cost of this asset, in bps of traded notional.
    pub cost_bps: f64,
}

/// The one-off loss of sanctioned commerce when a scenario starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Freeze {
    pub scenario: usize,
    /// Log loss per unit of sanctions exposure.
    pub size: f64,
}

/// Target weights on assets, rebalanced monthly; NAV starts at 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Strategy {
    pub name: String,
    pub description: String,
    /// (asset index, weight)
    pub weights: Vec<(usize, f64)>,
    /// One-way cost on traded notional, in bps.
    pub cost_bps: f64,
}

impl World {
    /// The embedded default world.
    pub fn default_world() -> World {
        parse::world_from_toml(DEFAULT_WORLD_TOML).expect("the embedded default world is valid")
    }

    /// Index of a factor by name.
    pub fn factor_index(&self, name: &str) -> Option<usize> {
        self.factors.iter().position(|f| f.name == name)
    }

    /// Index of a scenario by name.
    pub fn scenario_index(&self, name: &str) -> Option<usize> {
        self.scenarios.iter().position(|s| s.name == name)
    }

    /// The parameter `param` of factor `f` in scenario `s`, with inheritance from base.
    pub fn param(&self, s: usize, f: usize, param: usize) -> f64 {
        self.param_in_force(s, f, param).0
    }

    /// The parameter `param` of factor `f` in scenario `s` and where it comes from:
    /// `"given"` by the scenario, `"base"` (inherited from the base scenario) or
    /// `"default"` (the kind's default: nobody gives it).
    pub fn param_in_force(&self, s: usize, f: usize, param: usize) -> (f64, &'static str) {
        let own = self.scenarios[s].given[f][param];
        let base = self.scenarios[self.base].given[f][param];
        match (own, base) {
            (Some(v), _) => (v, "given"),
            (None, Some(v)) => (v, "base"),
            (None, None) => (param_specs(&self.factors[f].kind)[param].default, "default"),
        }
    }
}
