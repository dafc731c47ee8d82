//! Profiling helper, one thread, `runs` runs (the first pays for fresh pages):
//! `cargo run --release --example profile -- kernel|world [n_paths] [runs]`.
use geoscenario::config::parse::world_from_toml;
use geoscenario::{simulate, Control, Model, SimRequest, World};
use std::time::Instant;

fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "world".into());
    let n: u64 = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let runs: usize = std::env::args().nth(3).and_then(|a| a.parse().ok()).unwrap_or(2);
    let (world, horizon) = if which == "kernel" {
        let toml = "[factors.s]\nkind = \"log_ou\"\ninitial = 352.0\n[scenarios.base]\nprobability = 1.0\n\
                    s = { theta = 352.0, kappa = 0.4, sigma = 0.3 }\n";
        (world_from_toml(toml).expect("valid"), 252)
    } else {
        (World::default_world(), 24)
    };
    let model = Model::new(&world, horizon).expect("compiles");
    let mut req = SimRequest::new(n, 1);
    req.threads = Some(1);
    for _ in 0..runs {
        let t = Instant::now();
        let out = simulate(&model, &req, &Control::default()).expect("simulates");
        let e = t.elapsed().as_secs_f64();
        println!(
            "{which}: {e:.3} s, {:.2} ns per path-step ({})",
            e * 1e9 / (n as f64 * horizon as f64),
            out.series[0][7]
        );
    }
}
