//! Statistical and rule tests of the engine against closed forms (MODEL.md §3–§4).
//! Tolerances are 4 standard errors of the estimator, seeds are fixed.

use geoscenario::config::parse::world_from_toml;
use geoscenario::{simulate, Control, Model, SimOutput, SimRequest};

fn run(toml: &str, n: u64, horizon: usize, seed: u64) -> (Model, SimOutput) {
    let world = world_from_toml(toml).expect("valid test world");
    let model = Model::new(&world, horizon).expect("compiles");
    let out = simulate(&model, &SimRequest::new(n, seed), &Control::default()).expect("simulates");
    (model, out)
}

fn moments(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    let v = x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1.0);
    (m, v)
}

fn terminal(out: &SimOutput, series: usize) -> Vec<f64> {
    let w = out.horizon + 1;
    out.series[series].chunks_exact(w).map(|row| row[w - 1]).collect()
}

const ONE_FACTOR: &str = r#"
[factors.s]
kind = "log_ou"
unit = "USD/t"
initial = 352.0
[scenarios.base]
probability = 1.0
s = { theta = 480.0, kappa = 0.6, sigma = 0.40 }
"#;

#[test]
fn log_ou_matches_closed_form_conditional_moments() {
    // ln S_T | ln S_0 ~ N(x0 e^{-κT} + ln θ (1 − e^{-κT}), σ²(1 − e^{−2κT})/(2κ))
    let (n, h) = (200_000u64, 24usize);
    let (_, out) = run(ONE_FACTOR, n, h, 11);
    let logs: Vec<f64> = terminal(&out, 0).iter().map(|s| s.ln()).collect();
    let (m, v) = moments(&logs);
    let (kappa, sigma, t) = (0.6f64, 0.40f64, h as f64 / 12.0);
    let mean = 352f64.ln() * (-kappa * t).exp() + 480f64.ln() * (1.0 - (-kappa * t).exp());
    let var = sigma * sigma * (1.0 - (-2.0 * kappa * t).exp()) / (2.0 * kappa);
    let nf = n as f64;
    assert!((m - mean).abs() < 4.0 * (var / nf).sqrt(), "mean {m} vs {mean}");
    assert!(
        (v - var).abs() < 4.0 * var * (2.0 / (nf - 1.0)).sqrt(),
        "var {v} vs {var}"
    );
}

#[test]
fn kappa_zero_is_the_random_walk_limit() {
    let toml = ONE_FACTOR.replace("kappa = 0.6", "kappa = 0.0");
    let (n, h) = (100_000u64, 12usize);
    let (_, out) = run(&toml, n, h, 5);
    let logs: Vec<f64> = terminal(&out, 0).iter().map(|s| s.ln() - 352f64.ln()).collect();
    let (m, v) = moments(&logs);
    let var = 0.16 * h as f64 / 12.0;
    let nf = n as f64;
    assert!(m.abs() < 4.0 * (var / nf).sqrt(), "mean {m}");
    assert!((v - var).abs() < 4.0 * var * (2.0 / nf).sqrt(), "var {v} vs {var}");
}

#[test]
fn jump_counts_match_lambda_t() {
    // κ = σ = 0 and unit jumps without dispersion: ln S_T − ln S_0 counts the jumps,
    // which are Poisson(λT): mean and variance λT.
    let toml = r#"
[factors.s]
kind = "log_ou"
initial = 100.0
[scenarios.base]
probability = 1.0
s = { theta = 100.0, kappa = 0.0, sigma = 0.0, lambda = 1.5, mu_j = 1.0, sigma_j = 0.0 }
"#;
    let (n, h) = (100_000u64, 24usize);
    let (_, out) = run(toml, n, h, 3);
    let counts: Vec<f64> = terminal(&out, 0).iter().map(|s| (s / 100.0).ln().round()).collect();
    let lt = 1.5 * h as f64 / 12.0;
    let (m, v) = moments(&counts);
    let nf = n as f64;
    assert!((m - lt).abs() < 4.0 * (lt / nf).sqrt(), "mean count {m} vs {lt}");
    // Var of the sample variance of a Poisson: (μ4 − σ⁴)/n with μ4 = λ(1 + 3λ)
    let se_v = ((lt * (1.0 + 3.0 * lt) - lt * lt) / nf).sqrt();
    assert!((v - lt).abs() < 4.0 * se_v, "var count {v} vs {lt}");
    assert!(counts.iter().all(|c| *c >= 0.0 && c.fract() == 0.0));
}

const CONTRACT: &str = r#"
[world]
start = "2025-06"
[factors.spot]
kind = "log_ou"
initial = 352.0
[factors.contract]
kind = "contract"
initial = 273.0
underlying = "spot"
reset_month = 6
averaging_months = 3
noise = 0.0
[scenarios.base]
probability = 1.0
spot = { theta = 352.0, kappa = 0.4, sigma = 0.3, lambda = 0.5, sigma_j = 0.1 }
contract = { discount = 0.22 }
"#;

#[test]
fn contract_price_resets_only_at_contract_months_and_follows_the_rule() {
    let h = 30usize;
    let (_, out) = run(CONTRACT, 2_000, h, 9);
    let w = h + 1;
    for (spot, c) in out.series[0].chunks_exact(w).zip(out.series[1].chunks_exact(w)) {
        assert_eq!(c[0], 273.0);
        for t in 1..w {
            // start 2025-06: June is t = 12 and t = 24
            if t % 12 == 0 {
                let mean = (spot[t - 3] + spot[t - 2] + spot[t - 1]) / 3.0;
                let expected = (1.0 - 0.22) * mean;
                assert!((c[t] - expected).abs() <= 1e-12 * expected, "reset at {t}");
            } else {
                assert_eq!(c[t], c[t - 1], "no reset at {t}");
            }
        }
    }
}

#[test]
fn contract_noise_is_lognormal_with_the_given_sigma() {
    let toml = CONTRACT.replace("noise = 0.0", "noise = 0.03");
    let h = 12usize;
    let n = 50_000u64;
    let (_, out) = run(&toml, n, h, 13);
    let w = h + 1;
    let eps: Vec<f64> = out.series[0]
        .chunks_exact(w)
        .zip(out.series[1].chunks_exact(w))
        .map(|(s, c)| (c[12] / (0.78 * (s[9] + s[10] + s[11]) / 3.0)).ln())
        .collect();
    let (m, v) = moments(&eps);
    let nf = n as f64;
    assert!(m.abs() < 4.0 * 0.03 / nf.sqrt(), "mean {m}");
    assert!((v - 0.0009).abs() < 4.0 * 0.0009 * (2.0 / nf).sqrt(), "var {v}");
}

#[test]
fn identical_bits_for_any_thread_count_chunking_and_sharding() {
    let world = geoscenario::World::default_world();
    let model = Model::new(&world, 24).unwrap();
    let n = 5_003u64;
    let base = simulate(&model, &SimRequest::new(n, 42), &Control::default()).unwrap();
    for (threads, chunk) in [(1, 1), (2, 7), (3, 64), (4, 4096)] {
        let mut req = SimRequest::new(n, 42);
        req.threads = Some(threads);
        req.chunk_paths = chunk;
        let out = simulate(&model, &req, &Control::default()).unwrap();
        assert_eq!(out.series, base.series, "threads {threads} chunk {chunk}");
        assert_eq!(out.onset, base.onset);
    }
    // shards of the global path range concatenate to the whole run
    let w = 25;
    for cut in [1u64, 2_750, 3_000, 5_002] {
        let mut a = SimRequest::new(n, 42);
        a.end = cut;
        let mut b = SimRequest::new(n, 42);
        b.start = cut;
        let (ra, rb) = (
            simulate(&model, &a, &Control::default()).unwrap(),
            simulate(&model, &b, &Control::default()).unwrap(),
        );
        for s in 0..base.series.len() {
            let mut joined = ra.series[s].clone();
            joined.extend_from_slice(&rb.series[s]);
            assert_eq!(joined, base.series[s], "cut {cut} series {s}");
            assert_eq!(joined.len(), n as usize * w);
        }
    }
}

#[test]
fn non_temporal_stores_give_the_same_bits_and_errors() {
    // rows of 25 and 253 doubles (block regions start anywhere in a cache line),
    // partial blocks (chunks of 1, 7 and 13 paths), jumps, onsets, contracts,
    // derived series and strategies (which read the block's outputs back)
    let jumps = ONE_FACTOR.replace(
        "sigma = 0.40 }",
        "sigma = 0.40, lambda = 2.0, mu_j = -0.1, sigma_j = 0.2 }",
    );
    assert_ne!(jumps, ONE_FACTOR);
    let worlds = [
        (geoscenario::World::default_world(), 24),
        (world_from_toml(ONE_FACTOR).unwrap(), 252),
        (world_from_toml(&jumps).unwrap(), 61),
    ];
    for (world, horizon) in worlds {
        let model = Model::new(&world, horizon).unwrap();
        // (plain, antithetic and quasi-random shocks)
        for (n, threads, chunk, mode) in [
            (1_003u64, 2, 13, 0),
            (517, 1, 1, 0),
            (64, 3, 7, 1),
            (5, 1, 2048, 2),
            (300, 2, 9, 2),
        ] {
            let mut req = SimRequest::new(n, 9);
            req.threads = Some(threads);
            req.chunk_paths = chunk;
            req.antithetic = mode == 1;
            req.qmc = mode == 2;
            req.stream_out = Some(false);
            let cached = simulate(&model, &req, &Control::default()).unwrap();
            req.stream_out = Some(true);
            let streamed = simulate(&model, &req, &Control::default()).unwrap();
            assert_eq!(
                streamed.series, cached.series,
                "h {horizon}, n {n}, chunk {chunk}, mode {mode}"
            );
            assert_eq!(streamed.onset, cached.onset);
        }
    }
    // an overflow is reported on the same path either way
    let blow_up = ONE_FACTOR.replace(
        "theta = 480.0, kappa = 0.6, sigma = 0.40",
        "theta = 100.0, kappa = 0.0, sigma = 0.0, lambda = 120.0, mu_j = 5.0",
    );
    let model = Model::new(&world_from_toml(&blow_up).unwrap(), 24).unwrap();
    let errors = [false, true].map(|stream| {
        let mut req = SimRequest::new(40, 0);
        req.stream_out = Some(stream);
        simulate(&model, &req, &Control::default()).unwrap_err().to_string()
    });
    assert_eq!(errors[0], errors[1]);
    // named by the first path that overflows, at the first month it does (jumps of +5
    // in ln x, 10 a month: past ln f64::MAX ≈ 709.8 within two years, never at month 0)
    // the number between `after` and `before` in the message
    let number = |after: &str, before: char| -> usize {
        errors[1]
            .split(after)
            .nth(1)
            .and_then(|rest| rest.split(before).next())
            .and_then(|m| m.parse().ok())
            .unwrap_or_else(|| panic!("{}", errors[1]))
    };
    let month = number("became non-finite at month ", ' ');
    assert!((1..=24).contains(&month), "{}", errors[1]);
    let path = number(" on path ", ':') as u64;
    // and it is the first: the paths before it are finite, and it is to the month before
    let paths = |start: u64, end: u64, h: usize| {
        let model = Model::new(&world_from_toml(&blow_up).unwrap(), h).unwrap();
        let mut req = SimRequest::new(40, 0);
        (req.start, req.end) = (start, end);
        simulate(&model, &req, &Control::default())
    };
    assert!(path == 0 || paths(0, path, 24).is_ok());
    assert!(paths(path, path + 1, month - 1).is_ok());
    assert!(paths(path, path + 1, month).is_err());
}

#[test]
fn oversized_requests_are_refused_before_allocating() {
    let world = geoscenario::World::default_world();
    let model = Model::new(&world, 1200).unwrap();
    let err = simulate(&model, &SimRequest::new(1 << 36, 0), &Control::default()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("needs") && msg.contains("TiB"), "{msg}");
}

#[test]
fn cancellation_stops_a_run() {
    let world = geoscenario::World::default_world();
    let model = Model::new(&world, 24).unwrap();
    let control = Control::default();
    control.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
    let err = simulate(&model, &SimRequest::new(100_000, 0), &control).unwrap_err();
    assert_eq!(err, geoscenario::CoreError::Cancelled);
}

#[test]
fn every_instruction_set_tier_gives_the_same_bits() {
    use geoscenario::simd;
    let world = geoscenario::World::default_world();
    let model = Model::new(&world, 24).unwrap();
    let best = simd::set_max_level(simd::AVX512);
    let reference = simulate(&model, &SimRequest::new(1_001, 8), &Control::default()).unwrap();
    for tier in [simd::GENERIC, simd::AVX2, simd::AVX512] {
        let used = simd::set_max_level(tier);
        assert!(used <= tier.max(simd::GENERIC));
        for stream in [false, true] {
            let mut req = SimRequest::new(1_001, 8);
            req.stream_out = Some(stream);
            let out = simulate(&model, &req, &Control::default()).unwrap();
            assert_eq!(
                out.series, reference.series,
                "tier {used}, non-temporal stores {stream}"
            );
        }
    }
    simd::set_max_level(best);
}
