//! Reading a world from a generic tree, with every error naming its parameter path.

use toml::{Table, Value};

use super::schema::param_specs;
use super::{Derived, DerivedKind, Factor, FactorKind, RegimeMode, Scenario, World, YearMonth};
use crate::error::{CoreError, Result};
use crate::linalg;

/// Largest config text accepted (bytes).
pub const MAX_CONFIG_BYTES: usize = 16 * 1024 * 1024;
/// Limits on the size of a world.
pub const MAX_FACTORS: usize = 256;
pub const MAX_SCENARIOS: usize = 64;
pub const MAX_HORIZON: usize = 1200;
/// The smallest positive scenario probability: the weights p / n of a
/// scenario's paths stay far from underflow for any number of paths.
pub const MIN_PROBABILITY: f64 = 1e-200;
const RESERVED_SCENARIO_KEYS: [&str; 3] = ["probability", "description", "onset"];
/// Names the result tables use for their own columns and rows (`onset` and `regime`
/// are columns of `Simulation.to_pandas` beside the series).
const RESERVED_NAMES: [&str; 8] = [
    "all", "scenario", "weight", "path", "month", "strategy", "onset", "regime",
];
/// The columns next to the strategies' weights in an allocation or a frontier.
const RESERVED_STRATEGY_NAMES: [&str; 4] = ["target_return", "expected_return", "cvar", "var"];

/// `name` (None: the path's last key) is not `a_kind` (e.g. "a factor"): the
/// error lists the `kinds` there are (`names`), so that a typo shows its fix.
fn unknown<S: AsRef<str>>(
    path: &str,
    name: Option<&str>,
    (a_kind, kinds): (&str, &str),
    names: impl IntoIterator<Item = S>,
) -> CoreError {
    let what = name.map(|n| format!("{n:?} ")).unwrap_or_default();
    let names: Vec<S> = names.into_iter().collect();
    let names: Vec<&str> = names.iter().map(|n| n.as_ref()).collect();
    let listed = if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    };
    let typed = name.unwrap_or_else(|| last_key(path));
    let hint = did_you_mean(typed, &names);
    CoreError::invalid(path, format!("{what}is not {a_kind}{hint} ({kinds}: {listed})"))
}

/// The last key of a dotted `path`.
fn last_key(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

/// `": did you mean \"x\"?"` when `x`, one of `names`, is within a quarter of the
/// longer name's length of `typed` in edits (a character inserted, deleted, replaced,
/// or two neighbours swapped); the closest such name, the first of equals; else `""`.
fn did_you_mean(typed: &str, names: &[&str]) -> String {
    let typed: Vec<char> = typed.chars().collect();
    names
        .iter()
        .filter_map(|n| {
            let cand: Vec<char> = n.chars().collect();
            let d = edit_distance(&typed, &cand);
            (d > 0 && 4 * d <= typed.len().max(cand.len())).then_some((d, n))
        })
        .min_by_key(|&(d, _)| d)
        .map(|(_, n)| format!(": did you mean {n:?}?"))
        .unwrap_or_default()
}

/// Edits from `a` to `b`: insertions, deletions, replacements and swaps of two
/// neighbours (the optimal string alignment distance).
fn edit_distance(a: &[char], b: &[char]) -> usize {
    // rows i − 2, i − 1 and i of the table of distances between prefixes
    let mut rows = [
        vec![0; b.len() + 1],
        vec![0; b.len() + 1],
        (0..=b.len()).collect::<Vec<usize>>(),
    ];
    for i in 1..=a.len() {
        rows.rotate_left(1);
        rows[2][0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[1][j] + 1).min(rows[2][j - 1] + 1).min(rows[1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[0][j - 2] + 1);
            }
            rows[2][j] = d;
        }
    }
    rows[2][b.len()]
}

const FACTOR: (&str, &str) = ("a factor", "factors");
const SCENARIO: (&str, &str) = ("a scenario", "scenarios");

/// Whether an asset may load on a factor of this kind: betas apply to log changes,
/// so the factor's level must stay positive.
fn takes_betas(kind: &FactorKind) -> bool {
    matches!(
        kind,
        FactorKind::LogOu { .. } | FactorKind::LogitOu { .. } | FactorKind::Gbm { .. } | FactorKind::Contract { .. }
    )
}

/// A simulation horizon in months, 1..=[`MAX_HORIZON`].
pub fn check_horizon(horizon: usize) -> Result<()> {
    if horizon == 0 || horizon > MAX_HORIZON {
        return Err(CoreError::invalid(
            "horizon_months",
            format!("must be an integer in [1, {MAX_HORIZON}], got {horizon}"),
        ));
    }
    Ok(())
}

/// Parse TOML text into a validated world.
pub fn world_from_toml(text: &str) -> Result<World> {
    if text.len() > MAX_CONFIG_BYTES {
        return Err(CoreError::invalid(
            "config",
            format!("text is {} bytes, the limit is {MAX_CONFIG_BYTES}", text.len()),
        ));
    }
    let table: Table = toml::from_str(text)
        .map_err(|e| CoreError::invalid("config", format!("not valid TOML: {}", toml_error(&e))))?;
    world_from_value(&Value::Table(table))
}

/// The parser's own lines (the line quoted, a caret under the column), at most 8 and
/// each at most about 200 characters: a config on one huge line is not quoted whole.
/// Past column 150 the quoted line and the caret's are shown from 100 characters
/// before the caret, so the caret still stands under the column it names.
fn toml_error(e: &toml::de::Error) -> String {
    const WIDTH: usize = 200;
    let text = e.to_string();
    let lines: Vec<Vec<char>> = text.lines().take(8).map(|l| l.chars().collect()).collect();
    // the gutter ("12 | ") ends 2 characters after its bar
    let gutter = |l: &[char]| l.iter().position(|&c| c == '|').map(|p| (p + 2).min(l.len()));
    let caret = lines
        .iter()
        .find_map(|l| gutter(l).and_then(|g| l[g..].iter().position(|&c| c == '^').map(|i| g + i)));
    let shown: Vec<String> = lines
        .iter()
        .map(|l| {
            let (g, start) = match (gutter(l), caret) {
                (Some(g), Some(c)) if c > 150 && l.len() > g => (g, c - 100),
                _ => (0, 0),
            };
            let (head, body) = if start > g {
                (
                    l[..g].iter().chain(['…'].iter()).collect::<String>(),
                    &l[start.min(l.len())..],
                )
            } else {
                (String::new(), &l[..])
            };
            let mut out = head + &body.iter().take(WIDTH).collect::<String>();
            if body.len() > WIDTH {
                out.push('…');
            }
            out
        })
        .collect();
    shown.join("\n")
}

fn join(path: &str, key: &str) -> String {
    // keys that a dotted path cannot show are quoted; very long ones are cut
    let plain = !key.is_empty()
        && !key
            .chars()
            .any(|c| c == '.' || c == '"' || c.is_whitespace() || c.is_control());
    let mut shown: String = key.chars().take(200).collect();
    if shown.len() < key.len() {
        shown.push('…');
    }
    let shown = if plain { shown } else { format!("{shown:?}") };
    if path.is_empty() {
        shown
    } else {
        format!("{path}.{shown}")
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a datetime",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

fn as_table<'a>(v: &'a Value, path: &str) -> Result<&'a Table> {
    v.as_table()
        .ok_or_else(|| CoreError::invalid(path, format!("must be a table, got {}", type_name(v))))
}

/// The keys every factor's own table may hold.
const COMMON_FACTOR_KEYS: [&str; 3] = ["kind", "unit", "description"];

/// The keys of a factor's own table besides [`COMMON_FACTOR_KEYS`], by kind (None
/// for an unknown kind).
fn factor_keys(tag: &str) -> Option<&'static [&'static str]> {
    Some(match tag {
        "log_ou" | "gbm" => &["initial"],
        "logit_ou" => &["initial", "scale"],
        "completion" => &["total", "initial"],
        "adoption" => &["lag_min", "lag_max", "rate", "noise"],
        "contract" => &["initial", "underlying", "reset_month", "averaging_months", "noise"],
        _ => return None,
    })
}

/// The per-scenario parameters of a factor kind, by its tag.
fn scenario_params(tag: &str) -> &'static [super::schema::ParamSpec] {
    super::schema::KINDS
        .iter()
        .find(|(k, _)| *k == tag)
        .map_or(&[], |(_, specs)| *specs)
}

/// [`check_keys`] of factor `name`'s table of kind `tag`, saying where a
/// per-scenario parameter goes when it is given here.
fn check_factor_keys(t: &Table, path: &str, name: &str, tag: &str, own: &[&str], base: &str) -> Result<()> {
    let params = scenario_params(tag);
    for key in t.keys() {
        if !own.contains(&key.as_str()) && params.iter().any(|s| s.name == key) {
            return Err(CoreError::invalid(
                join(path, key),
                format!(
                    "is a per-scenario parameter of a {tag} factor, not a key of the factor: give it in the \
                     scenarios' tables, as [scenarios.{base}.{name}] {key} = ... (the other scenarios inherit \
                     the base's value unless they set their own)"
                ),
            ));
        }
    }
    let allowed: Vec<&str> = COMMON_FACTOR_KEYS.iter().chain(own).copied().collect();
    check_keys(t, path, &allowed)
}

fn check_keys(t: &Table, path: &str, allowed: &[&str]) -> Result<()> {
    for key in t.keys() {
        if !allowed.contains(&key.as_str()) {
            return Err(CoreError::invalid(
                join(path, key),
                format!(
                    "unknown key{} (expected one of: {})",
                    did_you_mean(key, allowed),
                    allowed.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn number(v: &Value, path: &str) -> Result<f64> {
    match v {
        Value::Float(x) => Ok(*x),
        Value::Integer(i) => Ok(*i as f64),
        _ => Err(CoreError::invalid(
            path,
            format!("must be a number, got {}", type_name(v)),
        )),
    }
}

fn get_number(t: &Table, path: &str, key: &str) -> Result<Option<f64>> {
    t.get(key).map(|v| number(v, &join(path, key))).transpose()
}

/// An integer, or a float with no fractional part (`24.0`): the rule of every integer key.
fn whole(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(i) => Some(*i),
        Value::Float(x) if x.is_finite() && x.fract() == 0.0 && x.abs() < 9e15 => Some(*x as i64),
        _ => None,
    }
}

fn get_int(t: &Table, path: &str, key: &str, lo: i64, hi: i64) -> Result<Option<i64>> {
    let Some(v) = t.get(key) else { return Ok(None) };
    let p = join(path, key);
    let i = match whole(v) {
        Some(i) => i,
        None => {
            return Err(CoreError::invalid(
                p,
                format!("must be an integer, got {}", type_name(v)),
            ))
        }
    };
    if i < lo || i > hi {
        return Err(CoreError::invalid(
            p,
            format!("must be an integer in [{lo}, {hi}], got {i}"),
        ));
    }
    Ok(Some(i))
}

fn get_string(t: &Table, path: &str, key: &str) -> Result<Option<String>> {
    match t.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => {
            if s.len() > 4096 {
                Err(CoreError::invalid(join(path, key), "must be at most 4096 bytes"))
            } else {
                Ok(Some(s.clone()))
            }
        }
        Some(v) => Err(CoreError::invalid(
            join(path, key),
            format!("must be a string, got {}", type_name(v)),
        )),
    }
}

fn require<T>(v: Option<T>, path: &str, key: &str) -> Result<T> {
    v.ok_or_else(|| CoreError::invalid(join(path, key), "is required"))
}

fn check_finite_in(v: f64, path: &str, lo: f64, hi: f64, open_lo: bool) -> Result<f64> {
    let ok = v.is_finite() && if open_lo { v > lo } else { v >= lo } && v <= hi;
    if ok {
        Ok(v)
    } else {
        let b = if open_lo { "(" } else { "[" };
        let hint = super::schema::percent_hint(v, lo, hi, |x| if open_lo { x > lo } else { x >= lo } && x <= hi);
        Err(CoreError::invalid(
            path,
            format!("must be a finite number in {b}{lo}, {hi}], got {v}{hint}"),
        ))
    }
}

/// A name usable as a factor, scenario or series name.
pub fn check_name(name: &str, path: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(CoreError::invalid(
            path,
            "names must be 1–64 characters of ASCII letters, digits and '_', not starting with a digit",
        ))
    }
}

/// A name usable for a strategy in any world (a name, not a reserved word);
/// its config path `strategies.<name>`.
pub fn check_strategy_name(name: &str) -> Result<String> {
    let path = join("strategies", name);
    check_name(name, &path)?;
    if RESERVED_NAMES.contains(&name) || RESERVED_STRATEGY_NAMES.contains(&name) {
        return Err(CoreError::invalid(&path, "has the name of a series or a reserved word"));
    }
    Ok(path)
}

/// A month "YYYY-MM" from 1900-01 to 2100-12 (so that every simulated month,
/// up to 100 years later, is a date pandas can hold).
fn parse_month(s: &str, path: &str) -> Result<YearMonth> {
    let bad = || {
        CoreError::invalid(
            path,
            format!("must be a month \"YYYY-MM\" from 1900-01 to 2100-12, got {s:?}"),
        )
    };
    let (y, m) = s.split_once('-').ok_or_else(bad)?;
    let digits = |t: &str, n: usize| t.len() == n && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(y, 4) || !digits(m, 2) {
        return Err(bad());
    }
    let year: i32 = y.parse().map_err(|_| bad())?;
    let month: u32 = m.parse().map_err(|_| bad())?;
    if !(1900..=2100).contains(&year) || !(1..=12).contains(&month) {
        return Err(bad());
    }
    Ok(YearMonth { year, month })
}

/// Build and validate a world from a generic tree.
pub fn world_from_value(root: &Value) -> Result<World> {
    let root = as_table(root, "config")?;
    check_keys(
        root,
        "",
        &[
            "world",
            "factors",
            "scenarios",
            "correlations",
            "derived",
            "transitions",
            "assets",
            "freeze",
            "strategies",
            "thresholds",
        ],
    )?;

    // [world]
    let empty = Table::new();
    let w = match root.get("world") {
        Some(v) => as_table(v, "world")?,
        None => &empty,
    };
    check_keys(
        w,
        "world",
        &[
            "name",
            "description",
            "start",
            "horizon_months",
            "base_scenario",
            "regimes",
        ],
    )?;
    let name = get_string(w, "world", "name")?.unwrap_or_else(|| "custom".into());
    let description = get_string(w, "world", "description")?.unwrap_or_default();
    // a TOML date (`start = 2025-06-01`) is the month it lies in, as a date from Python is
    let start = match w.get("start") {
        Some(Value::Datetime(d)) => match d.date {
            Some(date) => parse_month(&format!("{:04}-{:02}", date.year, date.month), "world.start")?,
            None => {
                return Err(CoreError::invalid(
                    "world.start",
                    "must be a month \"YYYY-MM\" (a string) or a date, got a time of day",
                ))
            }
        },
        Some(Value::String(s)) => parse_month(s, "world.start")?,
        Some(v) => {
            return Err(CoreError::invalid(
                "world.start",
                format!("must be a month \"YYYY-MM\" or a date, got {}", type_name(v)),
            ))
        }
        None => YearMonth { year: 2025, month: 6 },
    };
    let horizon_months = get_int(w, "world", "horizon_months", 1, MAX_HORIZON as i64)?.unwrap_or(24) as usize;
    let regimes_tag = get_string(w, "world", "regimes")?.unwrap_or_else(|| "static".into());
    if regimes_tag != "static" && regimes_tag != "markov" {
        return Err(CoreError::invalid(
            "world.regimes",
            format!("must be \"static\" or \"markov\", got {regimes_tag:?}"),
        ));
    }

    let factors = parse_factors(root)?;
    let scenarios_tbl = as_table(require(root.get("scenarios"), "", "scenarios")?, "scenarios")?;
    if scenarios_tbl.is_empty() {
        return Err(CoreError::invalid("scenarios", "must define at least one scenario"));
    }
    let base_name = match get_string(w, "world", "base_scenario")? {
        Some(b) => b,
        None => scenarios_tbl.keys().next().cloned().unwrap_or_default(),
    };
    let base = scenarios_tbl
        .keys()
        .position(|k| *k == base_name)
        .ok_or_else(|| unknown("world.base_scenario", Some(&base_name), SCENARIO, scenarios_tbl.keys()))?;
    let scenarios = parse_scenarios(scenarios_tbl, &factors, base, regimes_tag == "static")?;

    let regimes = if regimes_tag == "markov" {
        let t = require(root.get("transitions"), "", "transitions")
            .map_err(|_| CoreError::invalid("transitions", "is required when world.regimes = \"markov\""))?;
        RegimeMode::Markov {
            transition: parse_transitions(as_table(t, "transitions")?, &scenarios)?,
        }
    } else {
        if root.contains_key("transitions") {
            return Err(CoreError::invalid(
                "transitions",
                "only allowed when world.regimes = \"markov\"",
            ));
        }
        RegimeMode::Static
    };

    let derived = match root.get("derived") {
        Some(v) => parse_derived(as_table(v, "derived")?, &factors)?,
        None => Vec::new(),
    };
    let correlations = match root.get("correlations") {
        Some(v) => parse_correlations(as_table(v, "correlations")?, &factors)?,
        None => Vec::new(),
    };

    let assets = match root.get("assets") {
        Some(v) => parse_assets(as_table(v, "assets")?, &factors)?,
        None => Vec::new(),
    };
    let freeze = match root.get("freeze") {
        Some(v) => {
            let t = as_table(v, "freeze")?;
            check_keys(t, "freeze", &["scenario", "size"])?;
            let sname = require(get_string(t, "freeze", "scenario")?, "freeze", "scenario")?;
            let scenario = scenarios.iter().position(|s| s.name == sname).ok_or_else(|| {
                unknown(
                    "freeze.scenario",
                    Some(&sname),
                    SCENARIO,
                    scenarios.iter().map(|s| &s.name),
                )
            })?;
            if scenario == base && matches!(regimes, RegimeMode::Static) {
                return Err(CoreError::invalid(
                    "freeze.scenario",
                    format!("{sname:?} is the base scenario, which no path enters with static regimes: name the scenario whose onset freezes commerce"),
                ));
            }
            let size = get_number(t, "freeze", "size")?.unwrap_or(0.5);
            let size = check_finite_in(size, "freeze.size", 0.0, 10.0, false)?;
            Some(super::Freeze { scenario, size })
        }
        None => None,
    };
    let strategies = match root.get("strategies") {
        Some(v) => parse_strategies(as_table(v, "strategies")?, &assets, &factors, &derived)?,
        None => Vec::new(),
    };
    let thresholds = match root.get("thresholds") {
        Some(v) => parse_thresholds(as_table(v, "thresholds")?, &factors, &derived, &strategies)?,
        None => Vec::new(),
    };

    let world = World {
        name,
        description,
        start,
        horizon_months,
        base,
        regimes,
        scenarios,
        factors,
        derived,
        correlations,
        assets,
        freeze,
        strategies,
        thresholds,
    };
    // the correlation matrix must factorise
    linalg::correlation_cholesky(&world)?;
    Ok(world)
}

/// `[thresholds]`: series name = level, for every series (factor, derived series or
/// strategy NAV); a level is any finite number in the series' unit.
fn parse_thresholds(
    t: &Table,
    factors: &[Factor],
    derived: &[Derived],
    strategies: &[super::Strategy],
) -> Result<Vec<(String, f64)>> {
    let series: Vec<&str> = factors
        .iter()
        .map(|f| f.name.as_str())
        .chain(derived.iter().map(|d| d.name.as_str()))
        .chain(strategies.iter().map(|s| s.name.as_str()))
        .collect();
    let mut out = Vec::with_capacity(t.len());
    for (key, v) in t {
        let path = join("thresholds", key);
        if !series.contains(&key.as_str()) {
            return Err(unknown(&path, None, ("a series", "series"), &series));
        }
        let level = number(v, &path)?;
        if !level.is_finite() {
            return Err(CoreError::invalid(
                path,
                format!("must be a finite number, got {level}"),
            ));
        }
        out.push((key.clone(), level));
    }
    // in the series' order, whatever the order written
    out.sort_by_key(|(key, _)| series.iter().position(|s| *s == key.as_str()));
    Ok(out)
}

fn parse_factors(root: &Table) -> Result<Vec<Factor>> {
    // the base scenario's name, for the hint of a parameter given in a factor's table
    // (one of the scenarios: world.base_scenario is checked later)
    let scenarios = root.get("scenarios").and_then(Value::as_table);
    let base = root
        .get("world")
        .and_then(Value::as_table)
        .and_then(|w| w.get("base_scenario"))
        .and_then(Value::as_str)
        .filter(|b| scenarios.is_some_and(|s| s.contains_key(*b)))
        .or_else(|| scenarios.and_then(|t| t.keys().next()).map(String::as_str))
        .unwrap_or("base");
    let ft = as_table(require(root.get("factors"), "", "factors")?, "factors")?;
    if ft.is_empty() {
        return Err(CoreError::invalid("factors", "must define at least one factor"));
    }
    if ft.len() > MAX_FACTORS {
        return Err(CoreError::invalid("factors", format!("at most {MAX_FACTORS} factors")));
    }
    let names: Vec<&String> = ft.keys().collect();
    let mut out = Vec::with_capacity(ft.len());
    for (name, v) in ft {
        let path = join("factors", name);
        check_name(name, &path)?;
        if RESERVED_SCENARIO_KEYS.contains(&name.as_str()) || RESERVED_NAMES.contains(&name.as_str()) {
            return Err(CoreError::invalid(
                &path,
                "is a reserved word, choose another factor name",
            ));
        }
        let t = as_table(v, &path)?;
        let kind_tag = require(get_string(t, &path, "kind")?, &path, "kind")?;
        if let Some(own) = factor_keys(&kind_tag) {
            check_factor_keys(t, &path, name, &kind_tag, own, base)?;
        }
        let level = |t: &Table| -> Result<f64> {
            let x = require(get_number(t, &path, "initial")?, &path, "initial")?;
            check_finite_in(x, &join(&path, "initial"), 0.0, 1e12, true)
        };
        let kind = match kind_tag.as_str() {
            "log_ou" => {
                FactorKind::LogOu { initial: level(t)? }
            }
            "gbm" => {
                FactorKind::Gbm { initial: level(t)? }
            }
            "logit_ou" => {
                let scale = get_number(t, &path, "scale")?.unwrap_or(1.0);
                let scale = check_finite_in(scale, &join(&path, "scale"), 0.0, 1e12, true)?;
                let initial = require(get_number(t, &path, "initial")?, &path, "initial")?;
                if !(initial > 0.0 && initial < scale) {
                    return Err(CoreError::invalid(
                        join(&path, "initial"),
                        format!("must be strictly between 0 and scale = {scale}, got {initial}"),
                    ));
                }
                FactorKind::LogitOu { initial, scale }
            }
            "completion" => {
                let total = require(get_int(t, &path, "total", 1, 10_000)?, &path, "total")? as u32;
                let initial = get_int(t, &path, "initial", 0, total as i64)?.unwrap_or(0) as u32;
                FactorKind::Completion { total, initial }
            }
            "adoption" => {
                let lag_min = get_int(t, &path, "lag_min", 0, MAX_HORIZON as i64)?.unwrap_or(0) as u32;
                let lag_max = get_int(t, &path, "lag_max", 0, MAX_HORIZON as i64)?.unwrap_or(lag_min as i64) as u32;
                if lag_min > lag_max {
                    // naming the other bound: either may be the one just edited
                    return Err(CoreError::invalid(
                        join(&path, "lag_max"),
                        format!("must not be below lag_min ({lag_min}), got {lag_max}"),
                    ));
                }
                let rate = get_number(t, &path, "rate")?.unwrap_or(0.1);
                let rate = check_finite_in(rate, &join(&path, "rate"), 0.0, 100.0, false)?;
                let noise = get_number(t, &path, "noise")?.unwrap_or(0.0);
                let noise = check_finite_in(noise, &join(&path, "noise"), 0.0, 1.0, false)?;
                FactorKind::Adoption { lag_min, lag_max, rate, noise }
            }
            "contract" => {
                let initial = level(t)?;
                let und = require(get_string(t, &path, "underlying")?, &path, "underlying")?;
                let underlying = names.iter().position(|n| **n == und).ok_or_else(|| {
                    // (the factors are not parsed yet: their kinds are read from the table)
                    let kind = |n: &str| ft.get(n).and_then(|f| f.get("kind")).and_then(Value::as_str);
                    let spots = names.iter().filter(|n| matches!(kind(n), Some("log_ou" | "logit_ou" | "gbm")));
                    unknown(&join(&path, "underlying"), Some(&und), ("a factor", "factors with a diffusion shock"), spots)
                })?;
                let reset_month = get_int(t, &path, "reset_month", 1, 12)?.unwrap_or(6) as u32;
                let averaging = get_int(t, &path, "averaging_months", 1, 12)?.unwrap_or(3) as u32;
                let noise = get_number(t, &path, "noise")?.unwrap_or(0.0);
                let noise = check_finite_in(noise, &join(&path, "noise"), 0.0, 1.0, false)?;
                FactorKind::Contract { underlying, initial, reset_month, averaging, noise }
            }
            other => {
                return Err(CoreError::invalid(
                    join(&path, "kind"),
                    format!(
                        "unknown factor kind {other:?} (expected one of: log_ou, logit_ou, gbm, completion, adoption, contract)"
                    ),
                ))
            }
        };
        out.push(Factor {
            name: name.clone(),
            unit: get_string(t, &path, "unit")?.unwrap_or_default(),
            description: get_string(t, &path, "description")?.unwrap_or_default(),
            kind,
        });
    }
    // contract underlyings must be diffusions (positive levels, simulated before the contract)
    for f in &out {
        if let FactorKind::Contract { underlying, .. } = f.kind {
            if !out[underlying].kind.has_shock() {
                return Err(CoreError::invalid(
                    format!("factors.{}.underlying", f.name),
                    "must be a log_ou, logit_ou or gbm factor",
                ));
            }
        }
    }
    Ok(out)
}

fn parse_scenarios(st: &Table, factors: &[Factor], base: usize, static_mode: bool) -> Result<Vec<Scenario>> {
    if st.len() > MAX_SCENARIOS {
        return Err(CoreError::invalid(
            "scenarios",
            format!("at most {MAX_SCENARIOS} scenarios"),
        ));
    }
    let mut out = Vec::with_capacity(st.len());
    for (k, (name, v)) in st.iter().enumerate() {
        let path = join("scenarios", name);
        check_name(name, &path)?;
        if RESERVED_NAMES.contains(&name.as_str()) {
            return Err(CoreError::invalid(
                &path,
                "is a reserved word, choose another scenario name",
            ));
        }
        let t = as_table(v, &path)?;
        let mut given: Vec<Vec<Option<f64>>> = factors.iter().map(|f| vec![None; param_specs(&f.kind).len()]).collect();
        for (key, val) in t {
            if RESERVED_SCENARIO_KEYS.contains(&key.as_str()) {
                continue;
            }
            let fpath = join(&path, key);
            let Some(fi) = factors.iter().position(|f| f.name == *key) else {
                let fnames: Vec<&str> = factors.iter().map(|f| f.name.as_str()).collect();
                let keys = ["probability", "description", "onset"];
                let both: Vec<&str> = keys.iter().chain(&fnames).copied().collect();
                return Err(CoreError::invalid(
                    fpath,
                    format!(
                        "unknown key or factor{} (keys: {}; factors: {})",
                        did_you_mean(key, &both),
                        keys.join(", "),
                        fnames.join(", ")
                    ),
                ));
            };
            let ft = as_table(val, &fpath)?;
            let specs = param_specs(&factors[fi].kind);
            let allowed: Vec<&str> = specs.iter().map(|s| s.name).collect();
            for (pkey, pval) in ft {
                let ppath = join(&fpath, pkey);
                let Some(pi) = specs.iter().position(|s| s.name == *pkey) else {
                    let tag = factors[fi].kind.tag();
                    let mut own = COMMON_FACTOR_KEYS.iter().chain(factor_keys(tag).unwrap_or(&[]));
                    let hint = if own.any(|k| k == pkey) {
                        format!(
                            "; {pkey} is a key of the factor itself, the same in every scenario: give it in \
                             [factors.{key}]"
                        )
                    } else {
                        String::new()
                    };
                    return Err(CoreError::invalid(
                        ppath,
                        format!(
                            "unknown parameter for a {tag} factor{} (expected one of: {}){hint}",
                            did_you_mean(pkey, &allowed),
                            allowed.join(", ")
                        ),
                    ));
                };
                let x = number(pval, &ppath)?;
                specs[pi]
                    .rule
                    .check(x)
                    .map_err(|rule| CoreError::invalid(&ppath, rule))?;
                if let FactorKind::LogitOu { scale, .. } = factors[fi].kind {
                    if specs[pi].name == "theta" && x >= scale {
                        return Err(CoreError::invalid(
                            ppath,
                            format!("must be below the factor's scale = {scale}, got {x}"),
                        ));
                    }
                }
                given[fi][pi] = Some(x);
            }
        }
        // (`+ 0.0`: a probability of −0.0 is 0, not a "-0%" in the world's repr)
        let probability = require(get_number(t, &path, "probability")?, &path, "probability")? + 0.0;
        if !(0.0..=1.0).contains(&probability) {
            let hint = super::schema::percent_hint(probability, 0.0, 1.0, |x| (0.0..=1.0).contains(&x));
            return Err(CoreError::invalid(
                join(&path, "probability"),
                format!("must be a probability in [0, 1], got {probability}{hint}"),
            ));
        }
        if probability > 0.0 && probability < MIN_PROBABILITY {
            return Err(CoreError::invalid(
                join(&path, "probability"),
                format!("must be 0 or at least {MIN_PROBABILITY:e}, got {probability:e}"),
            ));
        }
        let onset = match t.get("onset") {
            None => None,
            Some(v) => {
                let opath = join(&path, "onset");
                let arr = v
                    .as_array()
                    .filter(|a| a.len() == 2)
                    .ok_or_else(|| CoreError::invalid(&opath, "must be an array [first, last] of two month numbers"))?;
                let mut m = [0u32; 2];
                for (i, x) in arr.iter().enumerate() {
                    let i64v = whole(x)
                        .filter(|i| (1..=MAX_HORIZON as i64).contains(i))
                        .ok_or_else(|| {
                            CoreError::invalid(
                                &opath,
                                format!("months must be integers in [1, {MAX_HORIZON}], got {x}"),
                            )
                        })?;
                    m[i] = i64v as u32;
                }
                if m[0] > m[1] {
                    return Err(CoreError::invalid(
                        &opath,
                        format!("first ({}) must not exceed last ({})", m[0], m[1]),
                    ));
                }
                Some((m[0], m[1]))
            }
        };
        if k == base && onset.is_some() {
            return Err(CoreError::invalid(
                join(&path, "onset"),
                "the base scenario has no onset",
            ));
        }
        if static_mode && k != base && onset.is_none() {
            return Err(CoreError::invalid(
                join(&path, "onset"),
                "is required for a non-base scenario: [first, last] month of the uniform onset",
            ));
        }
        out.push(Scenario {
            name: name.clone(),
            description: get_string(t, &path, "description")?.unwrap_or_default(),
            probability,
            onset,
            given,
        });
    }
    // the base scenario must give every required parameter
    for (fi, f) in factors.iter().enumerate() {
        for (pi, spec) in param_specs(&f.kind).iter().enumerate() {
            if spec.required && out[base].given[fi][pi].is_none() {
                return Err(CoreError::invalid(
                    format!("scenarios.{}.{}.{}", out[base].name, f.name, spec.name),
                    format!("is required in the base scenario ({})", spec.doc),
                ));
            }
        }
    }
    let total: f64 = out.iter().map(|s| s.probability).sum();
    if (total - 1.0).abs() > 1e-9 {
        return Err(CoreError::invalid(
            "scenarios.*.probability",
            format!("probabilities must sum to 1 within 1e-9, got {total}"),
        ));
    }
    Ok(out)
}

fn parse_transitions(t: &Table, scenarios: &[Scenario]) -> Result<Vec<Vec<f64>>> {
    let k = scenarios.len();
    let mut m = vec![vec![0.0; k]; k];
    for key in t.keys() {
        if !scenarios.iter().any(|s| s.name == *key) {
            return Err(unknown(
                &join("transitions", key),
                None,
                SCENARIO,
                scenarios.iter().map(|s| &s.name),
            ));
        }
    }
    for (i, s) in scenarios.iter().enumerate() {
        let path = join("transitions", &s.name);
        let row = as_table(
            t.get(&s.name)
                .ok_or_else(|| CoreError::invalid(&path, "every scenario needs a row of transition probabilities"))?,
            &path,
        )?;
        for (key, v) in row {
            let p = join(&path, key);
            let j = scenarios
                .iter()
                .position(|s| s.name == *key)
                .ok_or_else(|| unknown(&p, None, SCENARIO, scenarios.iter().map(|s| &s.name)))?;
            let x = number(v, &p)?;
            if !(0.0..=1.0).contains(&x) {
                let hint = super::schema::percent_hint(x, 0.0, 1.0, |x| (0.0..=1.0).contains(&x));
                return Err(CoreError::invalid(
                    p,
                    format!("must be a probability in [0, 1], got {x}{hint}"),
                ));
            }
            m[i][j] = x + 0.0;
        }
        let sum: f64 = m[i].iter().sum();
        if (sum - 1.0).abs() > 1e-9 {
            return Err(CoreError::invalid(
                path,
                format!("row must sum to 1 within 1e-9, got {sum}"),
            ));
        }
    }
    Ok(m)
}

fn parse_derived(dt: &Table, factors: &[Factor]) -> Result<Vec<Derived>> {
    let mut out: Vec<Derived> = Vec::new();
    for (name, v) in dt {
        let path = join("derived", name);
        check_name(name, &path)?;
        if RESERVED_NAMES.contains(&name.as_str()) {
            return Err(CoreError::invalid(
                &path,
                "is a reserved word, choose another series name",
            ));
        }
        if factors.iter().any(|f| f.name == *name) {
            return Err(CoreError::invalid(&path, "has the name of a factor"));
        }
        let t = as_table(v, &path)?;
        check_keys(t, &path, &["kind", "of", "unit"])?;
        let kind_tag = require(get_string(t, &path, "kind")?, &path, "kind")?;
        let kind = match kind_tag.as_str() {
            "spread" => DerivedKind::Spread,
            "discount" => DerivedKind::Discount,
            "ratio" => DerivedKind::Ratio,
            other => {
                return Err(CoreError::invalid(
                    join(&path, "kind"),
                    format!("unknown derived kind {other:?} (expected spread, discount or ratio)"),
                ))
            }
        };
        let opath = join(&path, "of");
        let of = require(t.get("of"), &path, "of")?
            .as_array()
            .filter(|a| a.len() == 2)
            .ok_or_else(|| CoreError::invalid(&opath, "must be an array of two factor names"))?;
        let mut idx = [0usize; 2];
        for (i, x) in of.iter().enumerate() {
            let n = x
                .as_str()
                .ok_or_else(|| CoreError::invalid(&opath, "must be an array of two factor names"))?;
            idx[i] = factors
                .iter()
                .position(|f| f.name == n)
                .ok_or_else(|| unknown(&opath, Some(n), FACTOR, factors.iter().map(|f| &f.name)))?;
        }
        // the divisor must stay positive: counts and adoption shares start at or reach 0
        let divisor = match kind {
            DerivedKind::Spread => None,
            DerivedKind::Discount => Some(idx[0]),
            DerivedKind::Ratio => Some(idx[1]),
        };
        if let Some(d) = divisor {
            let f = &factors[d];
            if matches!(f.kind, FactorKind::Completion { .. } | FactorKind::Adoption { .. }) {
                return Err(CoreError::invalid(
                    &opath,
                    format!(
                        "{:?} (kind {}) can be 0, and a {} divides by it (a discount divides by its first factor, a ratio by its second)",
                        f.name,
                        f.kind.tag(),
                        kind.tag()
                    ),
                ));
            }
        }
        out.push(Derived {
            name: name.clone(),
            unit: get_string(t, &path, "unit")?.unwrap_or_default(),
            kind,
            of: (idx[0], idx[1]),
        });
    }
    Ok(out)
}

fn parse_correlations(ct: &Table, factors: &[Factor]) -> Result<Vec<(usize, usize, f64)>> {
    let find = |name: &str, path: &str| -> Result<usize> {
        let i = factors.iter().position(|f| f.name == name).ok_or_else(|| {
            let shocked = factors.iter().filter(|f| f.kind.has_shock()).map(|f| &f.name);
            unknown(path, None, ("a factor", "factors with a diffusion shock"), shocked)
        })?;
        if !factors[i].kind.has_shock() {
            return Err(CoreError::invalid(
                path,
                format!("a {} factor has no diffusion shock to correlate", factors[i].kind.tag()),
            ));
        }
        Ok(i)
    };
    let mut out: Vec<(usize, usize, f64)> = Vec::new();
    for (a, v) in ct {
        let apath = join("correlations", a);
        let ia = find(a, &apath)?;
        for (b, x) in as_table(v, &apath)? {
            let p = join(&apath, b);
            let ib = find(b, &p)?;
            if ia == ib {
                return Err(CoreError::invalid(
                    p,
                    "a factor's correlation with itself is 1 by definition",
                ));
            }
            let rho = number(x, &p)?;
            if !(-1.0..=1.0).contains(&rho) {
                let hint = super::schema::percent_hint(rho, -1.0, 1.0, |x| (-1.0..=1.0).contains(&x));
                return Err(CoreError::invalid(
                    p,
                    format!("must be a correlation in [-1, 1], got {rho}{hint}"),
                ));
            }
            if out
                .iter()
                .any(|&(i, j, _)| (i == ia && j == ib) || (i == ib && j == ia))
            {
                return Err(CoreError::invalid(p, "this pair is given twice"));
            }
            out.push((ia, ib, rho));
        }
    }
    // one form for one model: each pair under the factor that comes first, pairs in
    // factor order (the matrix, and so every draw, is the same either way)
    for pair in out.iter_mut() {
        if pair.0 > pair.1 {
            (pair.0, pair.1) = (pair.1, pair.0);
        }
    }
    out.sort_by_key(|&(i, j, _)| (i, j));
    Ok(out)
}

/// Largest number of assets and strategies.
pub const MAX_ASSETS: usize = 256;
/// Largest |weight| of an asset in a strategy, in units of NAV.
pub const MAX_WEIGHT: f64 = 100.0;
/// Largest cost on traded notional, in basis points (100%).
pub const MAX_COST_BPS: f64 = 10_000.0;

fn parse_assets(at: &Table, factors: &[Factor]) -> Result<Vec<super::Asset>> {
    if at.len() > MAX_ASSETS {
        return Err(CoreError::invalid("assets", format!("at most {MAX_ASSETS} assets")));
    }
    let mut out = Vec::new();
    for (name, v) in at {
        let path = join("assets", name);
        check_name(name, &path)?;
        let t = as_table(v, &path)?;
        check_keys(
            t,
            &path,
            &["description", "betas", "vol", "sanctions_exposure", "cost_bps"],
        )?;
        let bpath = join(&path, "betas");
        let bt = as_table(require(t.get("betas"), &path, "betas")?, &bpath)?;
        let mut betas = Vec::new();
        for (f, b) in bt {
            let p = join(&bpath, f);
            let fi = factors.iter().position(|x| x.name == *f).ok_or_else(|| {
                let levels = factors.iter().filter(|x| takes_betas(&x.kind)).map(|x| &x.name);
                unknown(
                    &p,
                    None,
                    ("a factor", "log_ou, logit_ou, gbm and contract factors"),
                    levels,
                )
            })?;
            if !takes_betas(&factors[fi].kind) {
                return Err(CoreError::invalid(
                    &p,
                    "betas apply to log changes of positive levels: use a log_ou, logit_ou, gbm or contract factor",
                ));
            }
            let beta = check_finite_in(number(b, &p)?, &p, -100.0, 100.0, false)?;
            betas.push((fi, beta));
        }
        // summed in the factors' order, so that the order the betas are written in
        // (a TOML table has none) does not change the bits of the asset's returns
        betas.sort_by_key(|&(fi, _)| fi);
        let vol = check_finite_in(
            get_number(t, &path, "vol")?.unwrap_or(0.0),
            &join(&path, "vol"),
            0.0,
            10.0,
            false,
        )?;
        let exposure = check_finite_in(
            get_number(t, &path, "sanctions_exposure")?.unwrap_or(0.0),
            &join(&path, "sanctions_exposure"),
            0.0,
            1.0,
            false,
        )?;
        let cost_bps = check_finite_in(
            get_number(t, &path, "cost_bps")?.unwrap_or(0.0),
            &join(&path, "cost_bps"),
            0.0,
            MAX_COST_BPS,
            false,
        )?;
        out.push(super::Asset {
            name: name.clone(),
            description: get_string(t, &path, "description")?.unwrap_or_default(),
            betas,
            vol,
            sanctions_exposure: exposure,
            cost_bps,
        });
    }
    Ok(out)
}

fn parse_strategies(
    st: &Table,
    assets: &[super::Asset],
    factors: &[Factor],
    derived: &[Derived],
) -> Result<Vec<super::Strategy>> {
    if st.len() > MAX_ASSETS {
        return Err(CoreError::invalid(
            "strategies",
            format!("at most {MAX_ASSETS} strategies"),
        ));
    }
    let mut out = Vec::new();
    for (name, v) in st {
        let path = check_strategy_name(name)?;
        let clash = if factors.iter().any(|f| f.name == *name) {
            Some("factors")
        } else if derived.iter().any(|d| d.name == *name) {
            Some("derived")
        } else {
            None
        };
        if let Some(table) = clash {
            return Err(CoreError::invalid(
                &path,
                format!("has the name of the series [{table}.{name}] (a strategy's NAV is a series too): rename one"),
            ));
        }
        let t = as_table(v, &path)?;
        check_keys(t, &path, &["description", "weights", "cost_bps"])?;
        let wpath = join(&path, "weights");
        let wt = as_table(require(t.get("weights"), &path, "weights")?, &wpath)?;
        if wt.is_empty() {
            return Err(CoreError::invalid(wpath, "must give at least one asset weight"));
        }
        let mut weights = Vec::new();
        for (a, x) in wt {
            let p = join(&wpath, a);
            let ai = assets
                .iter()
                .position(|y| y.name == *a)
                .ok_or_else(|| unknown(&p, None, ("an asset", "assets"), assets.iter().map(|y| &y.name)))?;
            weights.push((ai, check_finite_in(number(x, &p)?, &p, -MAX_WEIGHT, MAX_WEIGHT, false)?));
        }
        // in the assets' order, whatever the order written: the same sums, the same world
        weights.sort_by_key(|&(ai, _)| ai);
        let cost_bps = check_finite_in(
            get_number(t, &path, "cost_bps")?.unwrap_or(10.0),
            &join(&path, "cost_bps"),
            0.0,
            MAX_COST_BPS,
            false,
        )?;
        out.push(super::Strategy {
            name: name.clone(),
            description: get_string(t, &path, "description")?.unwrap_or_default(),
            weights,
            cost_bps,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_name_is_offered_its_closest_fix() {
        let d = |a: &str, b: &str| edit_distance(&a.chars().collect::<Vec<_>>(), &b.chars().collect::<Vec<_>>());
        assert_eq!((d("", "ab"), d("theta", "theta"), d("thetaa", "theta")), (2, 0, 1));
        assert_eq!((d("bsae", "base"), d("kapa", "kappa"), d("sigma", "mu_j")), (1, 1, 5));
        assert_eq!(d("ab", "ba"), 1); // a swap, where replacements would take 2
        let scenarios = ["base", "bull", "bear"];
        assert_eq!(did_you_mean("bsae", &scenarios), ": did you mean \"base\"?");
        assert_eq!(did_you_mean("beer", &scenarios), ": did you mean \"bear\"?"); // 1 edit, before "base"'s 2
        assert_eq!(did_you_mean("bxxr", &scenarios), ""); // 2 edits of 4 letters: too far
        assert_eq!(did_you_mean("base", &scenarios), ""); // (not misspelt: used elsewhere than a name it is)
        let err = unknown("world.base_scenario", Some("bsae"), SCENARIO, scenarios).to_string();
        assert!(
            err.ends_with("\"bsae\" is not a scenario: did you mean \"base\"? (scenarios: base, bull, bear)"),
            "{err}"
        );
        let err = unknown("scenarios.bera", None, SCENARIO, scenarios).to_string();
        assert!(
            err.ends_with("is not a scenario: did you mean \"bear\"? (scenarios: base, bull, bear)"),
            "{err}"
        );
    }
}
