//! Profile helper: the single-factor log-OU kernel, 1 thread.
use geoscenario::config::parse::world_from_toml;
use geoscenario::{simulate, Control, Model, SimRequest};
use std::time::Instant;
fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let toml = "[factors.s]\nkind = \"log_ou\"\ninitial = 352.0\n[scenarios.base]\nprobability = 1.0\ns = { theta = 352.0, kappa = 0.4, sigma = 0.3 }\n";
    let world = world_from_toml(toml).unwrap();
    let model = Model::new(&world, 252).unwrap();
    let mut req = SimRequest::new(n, 1);
    req.threads = Some(1);
    for _ in 0..2 {
        let t = Instant::now();
        let out = simulate(&model, &req, &Control::default()).unwrap();
        let e = t.elapsed().as_secs_f64();
        println!(
            "{:.3}s {:.2} ns/step {}",
            e,
            e * 1e9 / (n as f64 * 252.0),
            out.series[0][777]
        );
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
        println!("{}", meminfo.lines().find(|l| l.starts_with("AnonHuge")).unwrap());
    }
}
