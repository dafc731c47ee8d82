//! Streaming summaries equal the materialised ones, whatever the sharding.

use geoscenario::model::scenario::Allocation;
use geoscenario::summary::{
    first_pass, run_pass, summarize, summarize_values, working_bytes, Finisher, GroupStats, Partial, Pass, Reducer,
    SummarySpec, HIST_COPIES,
};
use geoscenario::{simulate, Control, Model, SimRequest, World};

/// The loss 1 − x of series `output` (no statistics asked for yet).
fn loss_of(name: impl Into<String>, output: usize) -> Reducer {
    Reducer {
        name: name.into(),
        output,
        mix: vec![],
        drawdown: false,
        a: 1.0,
        b: -1.0,
        quantiles: vec![],
        thresholds: vec![],
        cvar: vec![],
    }
}

fn spec(model: &Model) -> SummarySpec {
    let mut reducers: Vec<Reducer> = model
        .names
        .iter()
        .enumerate()
        .map(|(o, name)| Reducer {
            name: name.clone(),
            output: o,
            mix: vec![],
            drawdown: false,
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
            thresholds: vec![0.0],
            cvar: vec![0.95, 0.99],
            ..loss_of(format!("{}:loss", model.names[o]), o)
        });
    }
    // a long/short mix of the first two strategies' NAVs, as a loss
    if model.strategies.len() >= 2 {
        let (o0, o1) = (model.strategy_output(0), model.strategy_output(1));
        reducers.push(Reducer {
            mix: vec![(o0, 0.6), (o1, -0.4)],
            quantiles: vec![0.05, 0.5],
            thresholds: vec![0.0],
            cvar: vec![0.95],
            ..loss_of("mix:loss", o0)
        });
    }
    // the maximum drawdowns of a strategy's NAV and of the mix
    if model.strategies.len() >= 2 {
        let (o0, o1) = (model.strategy_output(0), model.strategy_output(1));
        for (name, mix) in [("dd", vec![]), ("mix:dd", vec![(o0, 0.6), (o1, -0.4)])] {
            reducers.push(Reducer {
                name: name.into(),
                output: o1,
                mix,
                drawdown: true,
                a: 0.0,
                b: 1.0,
                quantiles: vec![0.5],
                thresholds: vec![0.1],
                cvar: vec![],
            });
        }
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
            // a mix's NAV summed from 1 term by term, as `Simulation.mix_nav` sums it
            let nav: Vec<f64> = (0..=spec.month)
                .map(|m| {
                    let at = |o: usize| out.series[o][p * w + m];
                    let mut x = if r.mix.is_empty() { at(r.output) } else { 1.0 };
                    for &(o, weight) in &r.mix {
                        x += weight * (at(o) - 1.0);
                    }
                    x
                })
                .collect();
            let x = if r.drawdown {
                geoscenario::risk::max_drawdown(&nav).unwrap()
            } else {
                nav[spec.month]
            };
            vals[i * n as usize + p] = r.a + r.b * x;
        }
    }
    let scen: Vec<u8> = out.scenario.iter().map(|&s| s as u8).collect();
    let alloc = Allocation::new(&model.probabilities, n as usize, antithetic).unwrap();
    let shifts = geoscenario::summary::shifts(model, spec);
    summarize_values(spec, &model.probabilities, &alloc, &shifts, &vals, &scen).expect("fits in memory")
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
        // (as printed: every double's shortest round-trip digits, and NaN equal to NaN,
        // the standard errors of VaR and CVaR under antithetic pairs)
        assert_eq!(format!("{streamed:?}"), format!("{reference:?}"));
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

/// A request for paths `0..n` (or antithetic pairs).
fn request(n: u64, seed: u64, antithetic: bool) -> SimRequest {
    let mut req = SimRequest::new(n, seed);
    req.antithetic = antithetic;
    req
}

/// Every pass of a summary run shard by shard through bytes, as workers would.
fn sharded(
    model: &Model,
    spec: &SummarySpec,
    req: &SimRequest,
    shard: u64,
    budget: Option<u64>,
) -> (Vec<Vec<GroupStats>>, usize) {
    let n = req.n_paths;
    let mut fin = Finisher::new(model, spec, n, req.antithetic).unwrap();
    if let Some(b) = budget {
        fin.budget = b;
        fin.key_bytes = f64::INFINITY; // cut whenever over budget, however many windows
    }
    let mut pass = first_pass(model, spec, req, HIST_COPIES, 0).unwrap();
    let mut moments = None;
    for passes in 1.. {
        let mut acc: Option<Partial> = None;
        let mut s = 0;
        while s < n {
            let mut part = req.clone();
            part.start = s;
            part.end = (s + shard).min(n);
            let p = run_pass(
                model,
                spec,
                &part,
                Pass::from_bytes(&pass.to_bytes()).unwrap(),
                &Control::default(),
                HIST_COPIES,
            );
            let p = Partial::from_bytes(&p.unwrap().to_bytes()).unwrap();
            match acc.as_mut() {
                None => acc = Some(p),
                Some(a) => a.merge(&p).unwrap(),
            }
            s += shard;
        }
        let merged = acc.unwrap();
        // every pass's counts add up to the paths, or to those the pass before found
        fin.check_counts(spec, &merged).unwrap();
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
    for (n, antithetic, shards) in [
        (7_777u64, false, [1_000u64, 2_501, 3_889]),
        (7_778, true, [1_000, 2_502, 3_890]),
    ] {
        let req = request(n, 9, antithetic);
        let whole = summarize(&model, &spec, &req, &Control::default()).unwrap();
        for shard in shards {
            let (got, passes) = sharded(&model, &spec, &req, shard, None);
            // (as printed: NaN equal to NaN, a scenario of a single pair's errors)
            assert_eq!(format!("{got:?}"), format!("{whole:?}"), "shard {shard}");
            assert_eq!(passes, 2, "the first pass's bins are narrow enough to collect");
        }
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
    for (n, antithetic) in [(5_003u64, false), (5_004, true)] {
        let req = request(n, 2, antithetic);
        let whole = summarize(&model, &spec, &req, &Control::default()).unwrap();
        let (got, passes) = sharded(&model, &spec, &req, 1_700, Some(0));
        assert!(passes >= 4, "{passes} passes");
        let close = |x: f64, y: f64, tol: f64| (x.is_nan() && y.is_nan()) || (x - y).abs() <= tol * y.abs().max(1e-300);
        for (a, b) in got.iter().flatten().zip(whole.iter().flatten()) {
            assert_eq!((a.mass, a.mean, a.std), (b.mass, b.mean, b.std));
            assert_eq!((&a.quantiles, &a.p_above), (&b.quantiles, &b.p_above));
            assert_eq!(a.tail_share, b.tail_share, "the tail counts are the same integers");
            // the quantiles' errors from the same counts and quantiles (NaN where antithetic
            // twins all straddle a median)
            assert_eq!(a.quantiles_se.len(), b.quantiles_se.len());
            for (x, y) in a.quantiles_se.iter().zip(&b.quantiles_se) {
                assert!(close(*x, *y, 1e-12), "{x} {y}");
            }
            for ((x, y), (xe, ye)) in a
                .var_cvar
                .iter()
                .zip(&b.var_cvar)
                .zip(a.var_cvar_se.iter().zip(&b.var_cvar_se))
            {
                assert_eq!(x.0, y.0);
                assert!((x.1 - y.1).abs() <= 1e-12 * y.1.abs().max(1.0), "{x:?} {y:?}");
                // the VaR's error from the same counts and quantiles; the CVaR's from sums
                // taken in other windows
                assert!(close(xe.0, ye.0, 1e-12) && close(xe.1, ye.1, 1e-9), "{xe:?} {ye:?}");
            }
        }
    }
}

#[test]
fn a_ruined_navs_atom_is_collected_not_cut_pass_after_pass() {
    // a 9 times levered NAV is 0 on about 89% of the paths: the window of its 0 holds
    // most values but one key, so it is collected at once, while the windows beside it,
    // of continuous values, hold as many keys as values (a share of distinct values
    // over the whole pilot had cut the atom's window until it could not be cut)
    let toml = format!(
        "{}\n[strategies.levered]\ndescription = \"levered\"\n\
         weights = {{ fertilizer_producers = 9.0, global_equity = -9.0 }}\ncost_bps = 10.0\n",
        geoscenario::config::DEFAULT_WORLD_TOML
    );
    let world = geoscenario::config::parse::world_from_toml(&toml).unwrap();
    let model = Model::new(&world, 24).unwrap();
    let s = model.strategies.len() - 1;
    let spec = SummarySpec {
        month: 24,
        reducers: vec![Reducer {
            quantiles: vec![0.05, 0.5, 0.95],
            cvar: vec![0.95],
            ..loss_of("levered:loss", model.strategy_output(s))
        }],
    };
    let n = 20_000;
    let req = request(n, 4, false);
    let whole = summarize(&model, &spec, &req, &Control::default()).unwrap();
    let atom = &whole[0][whole[0].len() - 1];
    assert_eq!(atom.quantiles[1], 1.0, "the median loss is the whole NAV");
    assert!(atom.quantiles[0] < 1.0, "the 5% quantile is beside the atom");
    // a budget of 200 keys: the first pass's windows beside the atom hold some 1,500
    // values, so a pass cuts the windows finer; then the atom's, of some 17,800 values
    // but one key, is collected (taken as a tenth of the pilot's values being distinct,
    // its 1,950 keys had been cut again and again, until its window could not be cut:
    // 7 passes)
    let (got, passes) = sharded(&model, &spec, &req, 7_000, Some(200));
    assert_eq!(format!("{got:?}"), format!("{whole:?}"));
    assert_eq!(passes, 3, "the windows are cut once, then collected");
}

#[test]
fn a_collecting_pass_for_the_other_kind_of_draws_is_refused() {
    // its sums above the windows are sized for antithetic twins, or not: a job of the
    // other kind refuses it (an error, not an index out of range)
    let world = World::default_world();
    let model = Model::new(&world, 12).unwrap();
    let spec = spec(&model);
    for antithetic in [false, true] {
        let req = request(2_000, 3, antithetic);
        let mut fin = Finisher::new(&model, &spec, 2_000, antithetic).unwrap();
        let first = run_pass(
            &model,
            &spec,
            &req,
            first_pass(&model, &spec, &req, HIST_COPIES, 0).unwrap(),
            &Control::default(),
            HIST_COPIES,
        );
        let Pass::Collect(t, c, tails, pairs) = fin.after_moments(&first.unwrap()) else {
            panic!("the first pass's bins are narrow enough to collect")
        };
        assert_eq!(pairs, antithetic);
        assert!(run_pass(
            &model,
            &spec,
            &req,
            Pass::Collect(t.clone(), c.clone(), tails.clone(), pairs),
            &Control::default(),
            HIST_COPIES
        )
        .is_ok());
        assert!(run_pass(
            &model,
            &spec,
            &req,
            Pass::Collect(t, c, tails, !pairs),
            &Control::default(),
            HIST_COPIES
        )
        .is_err());
    }
}

#[test]
fn tail_shares_split_the_tail_as_the_sorted_risk_table() {
    // each scenario's share of the overall CVaR tail, from the exact quantile's window
    // and the counts above it, against the risk table's sort; on the strategies'
    // losses and on the same losses rounded to 0.05 (atoms of thousands of paths
    // straddling the VaR, split across scenarios)
    let world = World::default_world();
    let model = Model::new(&world, 24).unwrap();
    let n = 20_001usize;
    let out = simulate(&model, &SimRequest::new(n as u64, 3), &Control::default()).unwrap();
    let alloc = Allocation::new(&model.probabilities, n, false).unwrap();
    let k_n = model.n_scenarios;
    let w: Vec<f64> = out
        .scenario
        .iter()
        .map(|&k| model.probabilities[k as usize] / alloc.counts[k as usize] as f64)
        .collect();
    let scen: Vec<u8> = out.scenario.iter().map(|&k| k as u8).collect();
    let levels = [0.9, 0.95, 0.99];
    let mut atoms_seen = 0;
    for s in 0..model.strategies.len() {
        let o = model.strategy_output(s);
        let (cols, h) = (model.horizon + 1, model.horizon);
        let loss: Vec<f64> = (0..n).map(|p| 1.0 - out.series[o][p * cols + h]).collect();
        for rounded in [false, true] {
            let vals: Vec<f64> = if rounded {
                loss.iter().map(|l| (l * 20.0).round() / 20.0).collect()
            } else {
                loss.clone()
            };
            let spec = SummarySpec {
                month: h,
                reducers: vec![Reducer {
                    cvar: levels.to_vec(),
                    ..loss_of("loss", o)
                }],
            };
            let stats =
                summarize_values(&spec, &model.probabilities, &alloc, &[0.0], &vals, &scen).expect("fits in memory");
            let pnl: Vec<f64> = vals.iter().map(|l| -l).collect();
            for (li, &alpha) in levels.iter().enumerate() {
                let rows = geoscenario::risk::risk_table(&pnl, &w, &out.scenario, k_n, alpha).unwrap();
                let var = rows[k_n].var;
                atoms_seen += usize::from(vals.iter().filter(|&&v| v == var).count() > 1);
                let mut sum = 0.0;
                for k in 0..k_n {
                    let (got, want) = (stats[0][k].tail_share[li], rows[k].tail_share);
                    assert!(
                        (got - want).abs() <= 1e-12,
                        "{s} {rounded} {alpha} scenario {k}: {got} {want}"
                    );
                    sum += got;
                }
                assert!((sum - 1.0).abs() <= 1e-12);
                assert_eq!(stats[0][k_n].tail_share[li], 1.0);
                assert_eq!(stats[0][k_n].var_cvar[li].0, var, "the same VaR");
            }
        }
    }
    assert!(
        atoms_seen >= 4,
        "the rounded losses put atoms at the VaR ({atoms_seen})"
    );
}

#[test]
fn a_partial_whose_counts_do_not_add_up_is_refused() {
    // the pass's own shard 0..4000, then paths 4000..7777 of a job of 9,000 paths (same
    // seed, same pass): adjacent ranges of one pass merge, but the second's paths are
    // allocated to scenarios as 9,000 paths are, so the scenarios' counts do not add up
    let world = World::default_world();
    let model = Model::new(&world, 12).unwrap();
    let spec = spec(&model);
    let (n, seed) = (7_777u64, 3);
    let mut fin = Finisher::new(&model, &spec, n, false).unwrap();
    let mut pass = first_pass(&model, &spec, &request(n, seed, false), HIST_COPIES, 0).unwrap();
    let shard = |pass: &Pass, job: u64, start: u64, end: u64| {
        let mut req = request(job, seed, false);
        (req.start, req.end) = (start, end);
        run_pass(&model, &spec, &req, pass.clone(), &Control::default(), HIST_COPIES).unwrap()
    };
    for first_words in [
        "the histogram of \"potash_spot\" counts ",
        "a window of \"potash_spot\" counts ",
    ] {
        let mut own = shard(&pass, n, 0, 4_000);
        own.merge(&shard(&pass, n, 4_000, n)).unwrap();
        fin.check_counts(&spec, &own).unwrap();
        let mut mixed = shard(&pass, n, 0, 4_000);
        mixed.merge(&shard(&pass, 9_000, 4_000, n)).unwrap();
        let err = fin.check_counts(&spec, &mixed).unwrap_err();
        assert!(err.starts_with(first_words), "{err}");
        if let Pass::Moments(_) = pass {
            // then the collecting pass (the windows are few: no refining pass)
            pass = fin.after_moments(&own);
            assert!(matches!(pass, Pass::Collect(..)));
        }
    }
}

#[test]
fn a_pass_refused_for_memory_leaves_the_finisher_as_it_was() {
    // refused, the next pass is laid out again from the same partial: the quantile
    // searches must not have moved on (a retry laid out a wrong pass silently)
    let world = World::default_world();
    let model = Model::new(&world, 12).unwrap();
    let spec = spec(&model);
    let req = request(5_003, 2, false);
    let mut fin = Finisher::new(&model, &spec, req.n_paths, false).unwrap();
    fin.budget = 0; // cut every window finer, whatever the windows: a refining pass
    fin.key_bytes = f64::INFINITY;
    let pass = first_pass(&model, &spec, &req, HIST_COPIES, 0).unwrap();
    let moments = run_pass(&model, &spec, &req, pass, &Control::default(), HIST_COPIES).unwrap();
    let fresh = fin.clone();
    let err = fin.next_after(&moments, 1 << 100).unwrap_err().to_string();
    assert!(err.starts_with("a summary's pass over "), "{err}");
    let refine = fin.next_after(&moments, HIST_COPIES).unwrap();
    assert_eq!(refine, fresh.clone().next_after(&moments, HIST_COPIES).unwrap());
    assert!(matches!(refine, Pass::Refine(_)));
    // and after a refining pass
    let refined = run_pass(&model, &spec, &req, refine, &Control::default(), HIST_COPIES).unwrap();
    let moved = fin.clone();
    assert!(fin.next_after(&refined, 1 << 100).is_err());
    fin.check_counts(&spec, &refined).unwrap();
    let next = fin.next_after(&refined, HIST_COPIES).unwrap();
    assert_eq!(next, moved.clone().next_after(&refined, HIST_COPIES).unwrap());
}

#[test]
fn a_shard_is_charged_the_buffers_of_its_own_paths() {
    // a run holds a wave of reduced values and each busy thread's chunk of paths; a
    // worker's shard smaller than a wave holds only its own paths' (a shard of 1,000
    // paths charged a wave of 131,072 was refused on a small worker)
    let world = World::default_world();
    let model = Model::new(&world, 12).unwrap();
    let spec = spec(&model);
    let (j, path) = (spec.reducers.len() as u128, (model.n_outputs() * 13 * 8) as u128);
    let mut req = request(1_000_000, 1, false);
    // a wave of 64 chunks of 2,048 paths, and two threads' chunks
    assert_eq!(
        working_bytes(&model, &spec, &req, 2),
        64 * 2048 * (8 * j + 1) + 2 * 2048 * path
    );
    (req.start, req.end) = (0, 1_000);
    // its 1,000 paths' values, and one thread's chunk of them
    assert_eq!(
        working_bytes(&model, &spec, &req, 2),
        1_000 * (8 * j + 1) + 1_000 * path
    );
}

#[test]
fn a_cvar_has_the_same_bits_whatever_other_series_cut_their_windows() {
    // a strategy's loss alone, and beside every factor: the factors' windows hold more
    // keys than the budget and are cut finer by more passes, the VaR's window (within
    // the budget on its own) is not, so its CVaR's tail sum splits at the same value
    let world = World::default_world();
    let model = Model::new(&world, 12).unwrap();
    let all = spec(&model);
    let loss = |r: &Reducer| r.name.ends_with(":loss") && r.mix.is_empty();
    let alone = SummarySpec {
        month: all.month,
        reducers: all.reducers.iter().filter(|r| loss(r)).take(1).cloned().collect(),
    };
    let mut beside = all.clone();
    beside
        .reducers
        .retain(|r| r.mix.is_empty() && (!r.name.contains(':') || r.name == alone.reducers[0].name));
    let at = beside
        .reducers
        .iter()
        .position(|r| r.name == alone.reducers[0].name)
        .unwrap();
    for antithetic in [false, true] {
        let req = request(6_000, 4, antithetic);
        let (a, passes_alone) = sharded(&model, &alone, &req, 2_500, Some(300));
        let (b, passes_beside) = sharded(&model, &beside, &req, 2_500, Some(300));
        assert!(
            passes_alone == 2 && passes_beside > 2,
            "the factors' windows are cut, the loss's are not"
        );
        assert!(a[0]
            .iter()
            .all(|g| g.var_cvar.iter().all(|(v, c)| v.is_finite() && c.is_finite())));
        assert_eq!(format!("{:?}", a[0]), format!("{:?}", b[at]));
    }
}
