//! Streaming summaries equal the materialised ones, whatever the sharding.

use geoscenario::model::scenario::Allocation;
use geoscenario::summary::{
    first_pass, run_pass, summarize, summarize_values, Finisher, GroupStats, Partial, Pass, Reducer, SummarySpec,
};
use geoscenario::{simulate, Control, Model, SimRequest, World};

fn spec(model: &Model) -> SummarySpec {
    let mut reducers: Vec<Reducer> = model
        .names
        .iter()
        .enumerate()
        .map(|(o, name)| Reducer {
            name: name.clone(),
            output: o,
            mix: vec![],
            a: 0.0,
            b: 1.0,
            quantiles: vec![0.05, 0.5, 0.95],
            thresholds: vec![450.0],
            cvar: vec![],
        })
        .collect();
    for s in 0..model.strategies.len() {
        let o = model.strategy_output(s);
        reducers.push(Reducer {
            name: format!("{}:loss", model.names[o]),
            output: o,
            mix: vec![],
            a: 1.0,
            b: -1.0,
            quantiles: vec![],
            thresholds: vec![0.0],
            cvar: vec![0.95, 0.99],
        });
    }
    // a long/short mix of the first two strategies' NAVs, as a loss
    if model.strategies.len() >= 2 {
        let (o0, o1) = (model.strategy_output(0), model.strategy_output(1));
        reducers.push(Reducer {
            name: "mix:loss".into(),
            output: o0,
            mix: vec![(o0, 0.6), (o1, -0.4)],
            a: 1.0,
            b: -1.0,
            quantiles: vec![0.05, 0.5],
            thresholds: vec![0.0],
            cvar: vec![0.95],
        });
    }
    SummarySpec {
        month: model.horizon,
        reducers,
    }
}

fn materialised(
    model: &Model,
    spec: &SummarySpec,
    n: u64,
    seed: u64,
    antithetic: bool,
) -> Vec<Vec<geoscenario::summary::GroupStats>> {
    let mut req = SimRequest::new(n, seed);
    req.antithetic = antithetic;
    let out = simulate(model, &req, &Control::default()).unwrap();
    let w = model.horizon + 1;
    let j = spec.reducers.len();
    let mut vals = vec![0.0; n as usize * j];
    for (i, r) in spec.reducers.iter().enumerate() {
        for p in 0..n as usize {
            let at = |o: usize| out.series[o][p * w + spec.month];
            // a mix's NAV summed from 1 term by term, as `Simulation.mix_nav` sums it
            let mut x = if r.mix.is_empty() { at(r.output) } else { 1.0 };
            for &(o, weight) in &r.mix {
                x += weight * (at(o) - 1.0);
            }
            vals[p * j + i] = r.a + r.b * x;
        }
    }
    let scen: Vec<u8> = out.scenario.iter().map(|&s| s as u8).collect();
    let alloc = Allocation::new(&model.probabilities, n as usize, antithetic).unwrap();
    let init = model.initial_values();
    let shifts: Vec<f64> = spec.reducers.iter().map(|r| r.value(|o| init[o])).collect();
    summarize_values(spec, &model.probabilities, &alloc, &shifts, &vals, &scen)
}

#[test]
fn streaming_equals_materialised_bit_for_bit() {
    let world = World::default_world();
    let model = Model::new(&world, 24).unwrap();
    let spec = spec(&model);
    for (n, anti) in [(20_001u64, false), (9_998, true)] {
        let reference = materialised(&model, &spec, n, 5, anti);
        let mut req = SimRequest::new(n, 5);
        req.antithetic = anti;
        req.chunk_paths = 333;
        let streamed = summarize(&model, &spec, &req, &Control::default()).unwrap();
        assert_eq!(streamed, reference);
        // sanity: VaR <= CVaR, quantiles ordered
        for r in &streamed {
            for g in r {
                for &(v, c) in &g.var_cvar {
                    assert!(v <= c + 1e-12);
                }
                for q in g.quantiles.windows(2) {
                    assert!(q[0] <= q[1]);
                }
            }
        }
    }
}

/// Every pass of a summary run shard by shard through bytes, as workers would.
fn sharded(
    model: &Model,
    spec: &SummarySpec,
    n: u64,
    seed: u64,
    shard: u64,
    budget: Option<u64>,
) -> (Vec<Vec<GroupStats>>, usize) {
    let mut fin = Finisher::new(model, spec, n, false).unwrap();
    if let Some(b) = budget {
        fin.budget = b;
    }
    let mut pass = first_pass(model, spec, &SimRequest::new(n, seed)).unwrap();
    let mut moments = None;
    for passes in 1.. {
        let mut acc: Option<Partial> = None;
        let mut s = 0;
        while s < n {
            let mut req = SimRequest::new(n, seed);
            req.start = s;
            req.end = (s + shard).min(n);
            let p = run_pass(
                model,
                spec,
                &req,
                Pass::from_bytes(&pass.to_bytes()).unwrap(),
                &Control::default(),
            );
            let p = Partial::from_bytes(&p.unwrap().to_bytes()).unwrap();
            match acc.as_mut() {
                None => acc = Some(p),
                Some(a) => a.merge(&p).unwrap(),
            }
            s += shard;
        }
        let merged = acc.unwrap();
        pass = match &merged.pass {
            Pass::Moments(_) => fin.after_moments(&merged),
            Pass::Refine(_) => fin.after_refine(&merged),
            Pass::Collect(..) => return (fin.finish(spec, moments.as_ref().unwrap(), &merged), passes),
        };
        if moments.is_none() {
            moments = Some(merged);
        }
    }
    unreachable!()
}

#[test]
fn shards_of_any_size_merge_to_the_same_bits() {
    let world = World::default_world();
    let model = Model::new(&world, 12).unwrap();
    let spec = spec(&model);
    let n = 7_777u64;
    let whole = summarize(&model, &spec, &SimRequest::new(n, 9), &Control::default()).unwrap();
    for shard in [1_000u64, 2_501, 3_889] {
        let (got, passes) = sharded(&model, &spec, n, 9, shard, None);
        assert_eq!(got, whole, "shard {shard}");
        assert_eq!(passes, 2, "the first pass's bins are narrow enough to collect");
    }
}

#[test]
fn windows_cut_finer_when_the_collection_budget_is_small() {
    // a zero budget makes every window be cut until it cannot be: the
    // refining passes must find the same quantiles, the moments and
    // probabilities are the same bits, CVaR sums its tail in other windows
    let world = World::default_world();
    let model = Model::new(&world, 12).unwrap();
    let spec = spec(&model);
    let n = 5_003u64;
    let whole = summarize(&model, &spec, &SimRequest::new(n, 2), &Control::default()).unwrap();
    let (got, passes) = sharded(&model, &spec, n, 2, 1_700, Some(0));
    assert!(passes >= 4, "{passes} passes");
    for (a, b) in got.iter().flatten().zip(whole.iter().flatten()) {
        assert_eq!((a.mass, a.mean, a.std), (b.mass, b.mean, b.std));
        assert_eq!((&a.quantiles, &a.p_above), (&b.quantiles, &b.p_above));
        for (x, y) in a.var_cvar.iter().zip(&b.var_cvar) {
            assert_eq!(x.0, y.0);
            assert!((x.1 - y.1).abs() <= 1e-12 * y.1.abs().max(1.0), "{x:?} {y:?}");
        }
    }
}
