//! Profile helper: the default world, all factors and strategies, 1 thread.
use geoscenario::{simulate, Control, Model, SimRequest, World};
use std::time::Instant;
fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let world = World::default_world();
    let model = Model::new(&world, 24).unwrap();
    let mut req = SimRequest::new(n, 1);
    req.threads = Some(1);
    for _ in 0..2 {
        let t = Instant::now();
        let out = simulate(&model, &req, &Control::default()).unwrap();
        let e = t.elapsed().as_secs_f64();
        println!(
            "{:.3}s {:.1} ns/path-month {}",
            e,
            e * 1e9 / (n as f64 * 24.0),
            out.series[0][777]
        );
    }
}
