use geoscenario::rng::{math, PathRng};
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
    let t = Instant::now();
    let mut accu = 0u32;
    let rng = PathRng::new(1, 2, false);
    for b in 0..(n * h / 16) {
        let x = geoscenario::rng::philox_bench(&rng, 0, (b * 8) as u32);
        accu ^= x;
    }
    let e = t.elapsed().as_secs_f64();
    println!("philox only {:.2} ns/normal {}", e * 1e9 / (n * h) as f64, accu);
    let t = Instant::now();
    for _ in 0..n {
        for v in z.iter_mut() {
            *v = math::exp(*v * 0.01);
        }
    }
    let e = t.elapsed().as_secs_f64();
    println!("exp {:.2} ns {}", e * 1e9 / (n * h) as f64, z[3]);
}
#[allow(dead_code)]
fn _unused() {}
