//! Times the risk table (4 strategies × 1,000,000 paths) and entropy pooling
//! (3 views on 1,000,000 scenarios): `cargo run --release --example risk_timing`.

use std::time::Instant;

use geoscenario::engine::Control;
use geoscenario::risk::risk_tables;
use geoscenario::views::{entropy_pooling, DEFAULT_MAX_ITER, DEFAULT_TOL};

/// Tiny deterministic generator: uniform in [0, 1) and standard normal (Box–Muller).
struct Lcg(u64);
impl Lcg {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

fn main() {
    let (n, s) = (1_000_000usize, 4usize);
    let mut g = Lcg(42);
    let probs = [0.55, 0.25, 0.20];
    let scenario: Vec<i64> = (0..n)
        .map(|i| {
            if i < 550_000 {
                0
            } else if i < 800_000 {
                1
            } else {
                2
            }
        })
        .collect();
    let counts = [550_000.0, 250_000.0, 200_000.0];
    let w: Vec<f64> = scenario
        .iter()
        .map(|&k| probs[k as usize] / counts[k as usize])
        .collect();
    let drift = [0.02, 0.08, -0.10];
    let pnl: Vec<f64> = (0..n * s)
        .map(|i| drift[scenario[i / s] as usize] + 0.15 * g.normal())
        .collect();

    let reps = 5;
    let mut best = f64::INFINITY;
    for _ in 0..reps {
        let t = Instant::now();
        let tables = risk_tables(&pnl, s, &w, &scenario, 3, 0.95).expect("risk table");
        best = best.min(t.elapsed().as_secs_f64());
        assert_eq!(tables.len(), s);
    }
    println!(
        "risk_table: {s} strategies x {n} paths, 3 scenarios: best of {reps} {:.3} s",
        best
    );

    // three views on 1,000,000 scenarios: E[x] = 0.05, P(x > 0.2) = 0.2, E[y] <= 0.9
    let x: Vec<f64> = (0..n).map(|_| 0.15 * g.normal()).collect();
    let y: Vec<f64> = x.iter().map(|v| (v / 0.15) * (v / 0.15) + 0.1 * g.normal()).collect();
    let ind: Vec<f64> = x.iter().map(|&v| if v > 0.2 { 1.0 } else { 0.0 }).collect();
    let prior = vec![1.0 / n as f64; n];
    let a_eq: Vec<f64> = x.iter().chain(&ind).copied().collect();
    let mut best = f64::INFINITY;
    let mut iters = 0;
    for _ in 0..reps {
        let t = Instant::now();
        let post = entropy_pooling(
            &prior,
            &a_eq,
            &[0.05, 0.2],
            &y,
            &[0.9],
            DEFAULT_MAX_ITER,
            DEFAULT_TOL,
            &Control::default(),
        )
        .expect("entropy pooling");
        best = best.min(t.elapsed().as_secs_f64());
        iters = post.iterations;
    }
    println!(
        "entropy_pooling: 3 views (2 equality, 1 inequality) x {n} scenarios: best of {reps} {:.3} s ({iters} Newton iterations)",
        best
    );
    println!("threads: {}", rayon::current_num_threads());
}
