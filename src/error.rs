//! The core's one error type. The Python layer maps each variant to an
//! exception class in `src/python/errors.rs`.

use thiserror::Error;

/// Everything that can go wrong in the core.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CoreError {
    /// A parameter (config entry or call argument) breaks a rule. `path` is the
    /// dotted parameter path, e.g. `scenarios.bear.potash_spot.sigma`.
    #[error("{path}: {rule}")]
    Invalid { path: String, rule: String },

    /// A request that would exceed a limit (memory, size) before any work starts.
    #[error("{what}: needs {needed}, limit {limit}")]
    Resource {
        what: String,
        needed: String,
        limit: String,
    },

    /// A numerical procedure failed (non-finite output, no convergence, infeasible views).
    #[error("{0}")]
    Numerical(String),

    /// The caller asked to stop (Ctrl-C).
    #[error("interrupted")]
    Cancelled,
}

impl CoreError {
    /// An invalid-parameter error.
    pub fn invalid(path: impl Into<String>, rule: impl Into<String>) -> Self {
        CoreError::Invalid {
            path: path.into(),
            rule: rule.into(),
        }
    }
}

/// Result alias used across the core.
pub type Result<T> = std::result::Result<T, CoreError>;

/// `v` as Python writes a float (as in messages about parameters): plain
/// from 1e-4 up to 1e16, with an exponent outside (`1.3e+24`, `1e-05`), not
/// the 25 digits of `{}`.
pub fn number(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 || !v.is_finite() || (1e-4..1e16).contains(&a) {
        return format!("{v}");
    }
    let s = format!("{v:e}");
    match s.split_once('e') {
        Some((m, e)) => match e.strip_prefix('-') {
            Some(e) => format!("{m}e-{e:0>2}"),
            None => format!("{m}e+{e:0>2}"),
        },
        None => s,
    }
}

/// `n` with a comma between groups of three digits, as Python's `f"{n:,}"` (the
/// counts in messages read as the Python side writes them).
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes in human units, for messages.
pub fn human_bytes(bytes: u128) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.2} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::grouped;

    #[test]
    fn counts_are_grouped_in_threes_as_python_writes_them() {
        for (n, text) in [
            (0u64, "0"),
            (999, "999"),
            (1_000, "1,000"),
            (12_345, "12,345"),
            (1_000_000_000, "1,000,000,000"),
            (1_099_511_627_776, "1,099,511,627,776"),
            (u64::MAX, "18,446,744,073,709,551,615"),
        ] {
            assert_eq!(grouped(n), text);
        }
    }
}
