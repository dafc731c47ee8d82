//! Time of QmcShocks::fill against the pseudo-random fill, per dimension.
//! `cargo run --release --example qmc_fill`.
use geoscenario::qmc::QmcShocks;
use geoscenario::rng::PathRng;

fn main() {
    for (h, d) in [(24usize, 1usize), (24, 8), (252, 1), (60, 11), (1024, 4)] {
        let q = QmcShocks::new(1, h, d).expect("valid sizes");
        let mut z = vec![0.0; h * d];
        let n = (20_000_000 / (h * d)).max(1000) as u64;
        let mut guard = 0.0;
        let t0 = std::time::Instant::now();
        for i in 0..n {
            q.fill(i, &mut z);
            guard += z[0];
        }
        let qmc = t0.elapsed().as_secs_f64() / (n as f64 * (h * d) as f64) * 1e9;
        let t0 = std::time::Instant::now();
        for i in 0..n {
            PathRng::new(1, i, false).fill_normals(0, &mut z);
            guard += z[0];
        }
        let mc = t0.elapsed().as_secs_f64() / (n as f64 * (h * d) as f64) * 1e9;
        std::hint::black_box(guard);
        println!(
            "H = {h:4}, d = {d:2}: QMC {qmc:6.2} ns/dim, Philox {mc:6.2} ns/dim, ratio {:.2}",
            qmc / mc
        );
    }
}
