//! Micro-benchmark of the normal generator's parts (profiling helper).
use geoscenario::rng::PathRng;
use std::time::Instant;
fn main() {
    let n = 20_000usize;
    let h = 252;
    let mut z = vec![0.0; h];
    let t = Instant::now();
    let mut acc = 0.0;
    for p in 0..n {
        PathRng::new(1, p as u64, false).fill_normals(0, &mut z);
        acc += z[7];
    }
    let e = t.elapsed().as_secs_f64();
    println!("normals {:.2} ns/normal {}", e * 1e9 / (n * h) as f64, acc);
    let rng = PathRng::new(1, 2, false);
    let t = Instant::now();
    let mut accu = 0u64;
    for b in 0..(n * h / 64) {
        accu ^= geoscenario::rng::philox_bench(&rng, 0, (b * 32) as u32);
    }
    let e = t.elapsed().as_secs_f64();
    println!("philox words {:.2} ns/number {accu}", e * 1e9 / (n * h) as f64);
}
