//! Profile helper: a streamed summary of the default world.
use geoscenario::summary::{summarize, Reducer, SummarySpec};
use geoscenario::{Control, Model, SimRequest, World};
use std::time::Instant;
fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let world = World::default_world();
    let model = Model::new(&world, 24).unwrap();
    let reducers = (0..model.n_outputs())
        .map(|o| Reducer {
            name: model.names[o].clone(),
            output: o,
            mix: vec![],
            drawdown: false,
            a: 0.0,
            b: 1.0,
            quantiles: vec![0.05, 0.5, 0.95],
            thresholds: vec![],
            cvar: vec![],
        })
        .collect();
    let spec = SummarySpec { month: 24, reducers };
    let t = Instant::now();
    let res = summarize(&model, &spec, &SimRequest::new(n, 1), &Control::default()).unwrap();
    println!(
        "{n} paths: {:.2} s, mean potash {}",
        t.elapsed().as_secs_f64(),
        res[0][3].mean
    );
}
