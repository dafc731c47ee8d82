//! Per-kind parameter tables: names, defaults and the rules they must obey.

use super::FactorKind;
use crate::error::number;

/// A validation rule for one number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// lo <= v <= hi
    Closed(f64, f64),
    /// lo < v <= hi
    LeftOpen(f64, f64),
    /// lo <= v < hi
    RightOpen(f64, f64),
}

impl Rule {
    /// The allowed interval in mathematical notation, e.g. `[0, 10]` or `(0, 1000000000000]`.
    pub fn interval(&self) -> String {
        match *self {
            Rule::Closed(lo, hi) => format!("[{}, {}]", number(lo), number(hi)),
            Rule::LeftOpen(lo, hi) => format!("({}, {}]", number(lo), number(hi)),
            Rule::RightOpen(lo, hi) => format!("[{}, {})", number(lo), number(hi)),
        }
    }

    /// `Err(rule text)` if `v` breaks the rule (NaN always does).
    pub fn check(&self, v: f64) -> Result<(), String> {
        if !v.is_finite() {
            return Err(format!("must be a finite number, got {v}"));
        }
        let ok = match *self {
            Rule::Closed(lo, hi) => lo <= v && v <= hi,
            Rule::LeftOpen(lo, hi) => lo < v && v <= hi,
            Rule::RightOpen(lo, hi) => lo <= v && v < hi,
        };
        if ok {
            Ok(())
        } else {
            let (lo, hi) = self.bounds();
            let hint = percent_hint(v, lo, hi, |x| self.check(x).is_ok());
            Err(format!("must be in {}, got {}{hint}", self.interval(), number(v)))
        }
    }

    fn bounds(&self) -> (f64, f64) {
        match *self {
            Rule::Closed(lo, hi) | Rule::LeftOpen(lo, hi) | Rule::RightOpen(lo, hi) => (lo, hi),
        }
    }
}

/// `"; did you mean 0.3? ..."` when `v`, outside bounds `lo`, `hi` of at most 10 in
/// size and from 2 to 100 in size, reads as a percent of an allowed fraction (30 for
/// 0.3, −30 for −0.3), else empty (1.5 for a probability is no 1.5%). The fraction is
/// rounded to 12 decimals: 33.3 gives 0.333, not 0.33299999999999996.
pub fn percent_hint(v: f64, lo: f64, hi: f64, allowed: impl Fn(f64) -> bool) -> String {
    let x = (v / 100.0 * 1e12).round() / 1e12;
    if lo.abs().max(hi.abs()) <= 10.0 && (2.0..=100.0).contains(&v.abs()) && allowed(x) {
        format!("; did you mean {}? (a fraction, not a percent: 0.3 is 30%)", number(x))
    } else {
        String::new()
    }
}

/// One per-scenario parameter of a factor kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamSpec {
    pub name: &'static str,
    /// Must the base scenario give it?
    pub required: bool,
    /// Value when nobody gives it.
    pub default: f64,
    pub rule: Rule,
    pub doc: &'static str,
}

const fn req(name: &'static str, rule: Rule, doc: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        required: true,
        default: f64::NAN,
        rule,
        doc,
    }
}

const fn opt(name: &'static str, default: f64, rule: Rule, doc: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        required: false,
        default,
        rule,
        doc,
    }
}

/// Largest jump intensity per year (keeps the Poisson inversion exact and fast).
pub const MAX_LAMBDA: f64 = 120.0;

const JUMPS: [ParamSpec; 4] = [
    opt("lambda", 0.0, Rule::Closed(0.0, MAX_LAMBDA), "jump intensity per year"),
    opt(
        "mu_j",
        0.0,
        Rule::Closed(-5.0, 5.0),
        "mean jump of x (ln X, or the logit for logit_ou)",
    ),
    opt("sigma_j", 0.0, Rule::Closed(0.0, 5.0), "st. dev. of the jump of x"),
    opt(
        "onset_jump",
        0.0,
        Rule::Closed(-10.0, 10.0),
        "jump added to x when the scenario starts",
    ),
];

const OU: [ParamSpec; 7] = [
    req(
        "theta",
        Rule::LeftOpen(0.0, 1e12),
        "mean-reversion level, in the factor's unit (the long-run level when the jumps have mean 0)",
    ),
    req("kappa", Rule::Closed(0.0, 1000.0), "mean-reversion speed per year"),
    req("sigma", Rule::Closed(0.0, 10.0), "volatility per sqrt(year)"),
    JUMPS[0],
    JUMPS[1],
    JUMPS[2],
    JUMPS[3],
];

const GBM: [ParamSpec; 6] = [
    req(
        "g",
        Rule::Closed(-5.0, 5.0),
        "expected growth rate of the level per year",
    ),
    req("sigma", Rule::Closed(0.0, 10.0), "volatility per sqrt(year)"),
    JUMPS[0],
    JUMPS[1],
    JUMPS[2],
    JUMPS[3],
];

const COMPLETION: [ParamSpec; 1] = [req(
    "h",
    Rule::Closed(0.0, 1.0),
    "monthly completion probability of each open item",
)];

const ADOPTION: [ParamSpec; 1] = [req("s_max", Rule::Closed(0.0, 1.0), "saturation share")];

const CONTRACT: [ParamSpec; 1] = [req(
    "discount",
    Rule::RightOpen(-1.0, 1.0),
    "discount d to the trailing mean at each reset (negative: a premium)",
)];

/// Index of each parameter inside its kind's table.
pub mod idx {
    pub const THETA: usize = 0;
    pub const KAPPA: usize = 1;
    pub const OU_SIGMA: usize = 2;
    pub const OU_JUMPS: usize = 3;
    pub const G: usize = 0;
    pub const GBM_SIGMA: usize = 1;
    pub const GBM_JUMPS: usize = 2;
    // offsets inside the jump block
    pub const LAMBDA: usize = 0;
    pub const MU_J: usize = 1;
    pub const SIGMA_J: usize = 2;
    pub const ONSET: usize = 3;
}

/// Every factor kind's config tag with its per-scenario parameters.
pub const KINDS: [(&str, &[ParamSpec]); 6] = [
    ("log_ou", &OU),
    ("logit_ou", &OU),
    ("gbm", &GBM),
    ("completion", &COMPLETION),
    ("adoption", &ADOPTION),
    ("contract", &CONTRACT),
];

/// The per-scenario parameters of a factor kind.
pub fn param_specs(kind: &FactorKind) -> &'static [ParamSpec] {
    match kind {
        FactorKind::LogOu { .. } | FactorKind::LogitOu { .. } => &OU,
        FactorKind::Gbm { .. } => &GBM,
        FactorKind::Completion { .. } => &COMPLETION,
        FactorKind::Adoption { .. } => &ADOPTION,
        FactorKind::Contract { .. } => &CONTRACT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_lists_every_factor_kind_with_its_parameters() {
        let kinds = [
            FactorKind::LogOu { initial: 1.0 },
            FactorKind::LogitOu {
                initial: 0.5,
                scale: 1.0,
            },
            FactorKind::Gbm { initial: 1.0 },
            FactorKind::Completion { total: 1, initial: 0 },
            FactorKind::Adoption {
                lag_min: 0,
                lag_max: 0,
                rate: 0.1,
                noise: 0.0,
            },
            FactorKind::Contract {
                underlying: 0,
                initial: 1.0,
                reset_month: 1,
                averaging: 1,
                noise: 0.0,
            },
        ];
        assert_eq!(kinds.len(), KINDS.len());
        for (kind, (tag, specs)) in kinds.iter().zip(KINDS) {
            assert_eq!(kind.tag(), tag);
            // the same table (NaN defaults compare by their bits)
            let key = |p: &ParamSpec| (p.name, p.required, p.default.to_bits(), p.rule, p.doc);
            let a: Vec<_> = param_specs(kind).iter().map(key).collect();
            assert_eq!(a, specs.iter().map(key).collect::<Vec<_>>(), "{tag}");
        }
    }

    #[test]
    fn rule_messages_show_the_interval() {
        assert_eq!(Rule::LeftOpen(0.0, 2.5).interval(), "(0, 2.5]");
        assert_eq!(
            Rule::Closed(0.0, 1.0).check(1.5),
            Err("must be in [0, 1], got 1.5".into())
        );
        assert_eq!(
            Rule::RightOpen(0.0, 1.0).check(1.0),
            Err("must be in [0, 1), got 1".into())
        );
        assert!(Rule::Closed(0.0, 1.0).check(f64::NAN).is_err());
        assert_eq!(Rule::Closed(0.0, 1.0).check(1.0), Ok(()));
        // far from 1, as Python writes them (not 25 digits or 1e-300 in full)
        assert_eq!(
            Rule::LeftOpen(0.0, 1e12).check(1.333203758927858e24),
            Err("must be in (0, 1000000000000], got 1.333203758927858e+24".into())
        );
        assert_eq!(
            Rule::LeftOpen(1e-5, 1.0).check(-2.5e-300),
            Err("must be in (1e-05, 1], got -2.5e-300".into())
        );
        assert_eq!(Rule::Closed(0.0, 1e16).interval(), "[0, 1e+16]");
        // a percent where a fraction belongs gets the fraction as a hint
        assert_eq!(
            Rule::Closed(0.0, 10.0).check(30.0),
            Err("must be in [0, 10], got 30; did you mean 0.3? (a fraction, not a percent: 0.3 is 30%)".into())
        );
        assert!(Rule::Closed(0.0, 1.0)
            .check(33.3)
            .unwrap_err()
            .ends_with("did you mean 0.333? (a fraction, not a percent: 0.3 is 30%)"));
        assert!(Rule::Closed(-2.0, 2.0)
            .check(-30.0)
            .unwrap_err()
            .ends_with("did you mean -0.3? (a fraction, not a percent: 0.3 is 30%)"));
        for (rule, v) in [
            (Rule::Closed(0.0, 10.0), 150.0),    // not a percent
            (Rule::Closed(0.0, 1000.0), 2000.0), // a bound too wide to tell
            (Rule::LeftOpen(0.5, 10.0), 20.0),   // 0.2 is no better
            (Rule::Closed(0.0, 1.0), 1.5),       // no 1.5%
        ] {
            assert!(!rule.check(v).unwrap_err().contains("did you mean"), "{rule:?} {v}");
        }
    }
}
