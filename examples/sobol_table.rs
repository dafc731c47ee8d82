//! Maintenance of the generated Sobol direction numbers: re-runs the search
//! (minutes) into /tmp/sobol_chosen.txt and prints the largest pairwise
//! t-values. `cargo run --release --example sobol_table -- [n]`.
fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(300);
    for m in [8usize, 10, 12, 14, 16] {
        println!(
            "first {n} dimensions, 2^{m} points: max pairwise t = {}",
            geoscenario::qmc::max_pair_t_value(n, m)
        );
    }
    let chosen = geoscenario::qmc::search_direction_table(n);
    let body: Vec<String> = chosen
        .chunks(32)
        .map(|ch| ch.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", "))
        .collect();
    std::fs::write("/tmp/sobol_chosen.txt", format!("[\n    {},\n]", body.join(",\n    "))).expect("write /tmp");
    println!("search for dimensions up to {n} written to /tmp/sobol_chosen.txt");
}
