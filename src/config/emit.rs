//! Writing a world back to a generic tree (and so to TOML or a Python dict).

use toml::{Table, Value};

use super::schema::param_specs;
use super::{DerivedKind, FactorKind, RegimeMode, World};

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

/// The world as a tree that [`super::parse::world_from_value`] reads back unchanged.
pub fn world_to_value(w: &World) -> Value {
    let mut root = Table::new();

    let mut wt = Table::new();
    wt.insert("name".into(), s(&w.name));
    if !w.description.is_empty() {
        wt.insert("description".into(), s(&w.description));
    }
    wt.insert("start".into(), s(&w.start.to_string()));
    wt.insert("horizon_months".into(), Value::Integer(w.horizon_months as i64));
    wt.insert("base_scenario".into(), s(&w.scenarios[w.base].name));
    let tag = match w.regimes {
        RegimeMode::Static => "static",
        RegimeMode::Markov { .. } => "markov",
    };
    wt.insert("regimes".into(), s(tag));
    root.insert("world".into(), Value::Table(wt));

    let mut ft = Table::new();
    for f in &w.factors {
        let mut t = Table::new();
        t.insert("kind".into(), s(f.kind.tag()));
        t.insert("unit".into(), s(&f.unit));
        if !f.description.is_empty() {
            t.insert("description".into(), s(&f.description));
        }
        match &f.kind {
            FactorKind::LogOu { initial } | FactorKind::Gbm { initial } => {
                t.insert("initial".into(), Value::Float(*initial));
            }
            FactorKind::LogitOu { initial, scale } => {
                t.insert("initial".into(), Value::Float(*initial));
                t.insert("scale".into(), Value::Float(*scale));
            }
            FactorKind::Completion { total, initial } => {
                t.insert("total".into(), Value::Integer(*total as i64));
                t.insert("initial".into(), Value::Integer(*initial as i64));
            }
            FactorKind::Adoption {
                lag_min,
                lag_max,
                rate,
                noise,
            } => {
                t.insert("lag_min".into(), Value::Integer(*lag_min as i64));
                t.insert("lag_max".into(), Value::Integer(*lag_max as i64));
                t.insert("rate".into(), Value::Float(*rate));
                t.insert("noise".into(), Value::Float(*noise));
            }
            FactorKind::Contract {
                underlying,
                initial,
                reset_month,
                averaging,
                noise,
            } => {
                t.insert("initial".into(), Value::Float(*initial));
                t.insert("underlying".into(), s(&w.factors[*underlying].name));
                t.insert("reset_month".into(), Value::Integer(*reset_month as i64));
                t.insert("averaging_months".into(), Value::Integer(*averaging as i64));
                t.insert("noise".into(), Value::Float(*noise));
            }
        }
        ft.insert(f.name.clone(), Value::Table(t));
    }
    root.insert("factors".into(), Value::Table(ft));

    if !w.derived.is_empty() {
        let mut dt = Table::new();
        for d in &w.derived {
            let mut t = Table::new();
            let kind = match d.kind {
                DerivedKind::Spread | DerivedKind::Discount | DerivedKind::Ratio => d.kind.tag(),
            };
            t.insert("kind".into(), s(kind));
            t.insert(
                "of".into(),
                Value::Array(vec![s(&w.factors[d.of.0].name), s(&w.factors[d.of.1].name)]),
            );
            t.insert("unit".into(), s(&d.unit));
            dt.insert(d.name.clone(), Value::Table(t));
        }
        root.insert("derived".into(), Value::Table(dt));
    }

    if !w.correlations.is_empty() {
        let mut ct = Table::new();
        for &(a, b, rho) in &w.correlations {
            let row = ct
                .entry(w.factors[a].name.clone())
                .or_insert_with(|| Value::Table(Table::new()));
            if let Value::Table(row) = row {
                row.insert(w.factors[b].name.clone(), Value::Float(rho));
            }
        }
        root.insert("correlations".into(), Value::Table(ct));
    }

    let mut st = Table::new();
    for sc in &w.scenarios {
        let mut t = Table::new();
        t.insert("probability".into(), Value::Float(sc.probability));
        if !sc.description.is_empty() {
            t.insert("description".into(), s(&sc.description));
        }
        if let Some((lo, hi)) = sc.onset {
            t.insert(
                "onset".into(),
                Value::Array(vec![Value::Integer(lo as i64), Value::Integer(hi as i64)]),
            );
        }
        for (fi, f) in w.factors.iter().enumerate() {
            let mut pt = Table::new();
            for (pi, spec) in param_specs(&f.kind).iter().enumerate() {
                if let Some(x) = sc.given[fi][pi] {
                    pt.insert(spec.name.into(), Value::Float(x));
                }
            }
            if !pt.is_empty() {
                t.insert(f.name.clone(), Value::Table(pt));
            }
        }
        st.insert(sc.name.clone(), Value::Table(t));
    }
    root.insert("scenarios".into(), Value::Table(st));

    if !w.assets.is_empty() {
        let mut at = Table::new();
        for a in &w.assets {
            let mut t = Table::new();
            if !a.description.is_empty() {
                t.insert("description".into(), s(&a.description));
            }
            let mut bt = Table::new();
            for &(f, b) in &a.betas {
                bt.insert(w.factors[f].name.clone(), Value::Float(b));
            }
            t.insert("betas".into(), Value::Table(bt));
            t.insert("vol".into(), Value::Float(a.vol));
            t.insert("sanctions_exposure".into(), Value::Float(a.sanctions_exposure));
            t.insert("cost_bps".into(), Value::Float(a.cost_bps));
            at.insert(a.name.clone(), Value::Table(t));
        }
        root.insert("assets".into(), Value::Table(at));
    }
    if let Some(fz) = &w.freeze {
        let mut t = Table::new();
        t.insert("scenario".into(), s(&w.scenarios[fz.scenario].name));
        t.insert("size".into(), Value::Float(fz.size));
        root.insert("freeze".into(), Value::Table(t));
    }
    if !w.strategies.is_empty() {
        let mut stt = Table::new();
        for st in &w.strategies {
            let mut t = Table::new();
            if !st.description.is_empty() {
                t.insert("description".into(), s(&st.description));
            }
            let mut wt = Table::new();
            for &(a, x) in &st.weights {
                wt.insert(w.assets[a].name.clone(), Value::Float(x));
            }
            t.insert("weights".into(), Value::Table(wt));
            t.insert("cost_bps".into(), Value::Float(st.cost_bps));
            stt.insert(st.name.clone(), Value::Table(t));
        }
        root.insert("strategies".into(), Value::Table(stt));
    }
    if !w.thresholds.is_empty() {
        let tt: Table = w
            .thresholds
            .iter()
            .map(|(k, v)| (k.clone(), Value::Float(*v)))
            .collect();
        root.insert("thresholds".into(), Value::Table(tt));
    }

    if let RegimeMode::Markov { transition } = &w.regimes {
        let mut tt = Table::new();
        for (i, row) in transition.iter().enumerate() {
            let mut r = Table::new();
            for (j, p) in row.iter().enumerate() {
                if *p != 0.0 {
                    r.insert(w.scenarios[j].name.clone(), Value::Float(*p));
                }
            }
            tt.insert(w.scenarios[i].name.clone(), Value::Table(r));
        }
        root.insert("transitions".into(), Value::Table(tt));
    }
    Value::Table(root)
}

/// The world as TOML text.
pub fn world_to_toml(w: &World) -> String {
    match world_to_value(w) {
        Value::Table(t) => toml::to_string(&t).unwrap_or_default(),
        _ => String::new(),
    }
}
