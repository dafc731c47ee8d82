//! The quality of the Sobol direction numbers: the largest 2-D t-value over all
//! pairs of the first n dimensions, at 2^m points.
//! `cargo run --release --example sobol_table -- [n]`.
fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(300);
    for m in [8usize, 10, 12, 14, 16] {
        println!(
            "first {n} dimensions, 2^{m} points: max pairwise t = {}",
            geoscenario::qmc::max_pair_t_value(n, m)
        );
    }
}
