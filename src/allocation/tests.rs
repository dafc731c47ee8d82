use super::*;
use crate::engine::Control;
use std::sync::atomic::Ordering;

/// The flag of problems nobody cancels.
static NEVER: AtomicBool = AtomicBool::new(false);

/// Tiny deterministic LCG in [0, 1).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `fast` is the whole programme's optimum `whole` to solver accuracy.
fn assert_same_optimum(fast: &Allocation, whole: &Allocation) {
    assert!(
        (fast.cvar - whole.cvar).abs() < 1e-9 * whole.cvar.abs().max(1.0),
        "{fast:?} vs {whole:?}"
    );
    for (a, b) in fast.weights.iter().zip(&whole.weights) {
        assert!((a - b).abs() < 1e-6, "{:?} vs {:?}", fast.weights, whole.weights);
    }
}

/// n scenarios of m uniform asset returns, asset j with spread 0.2(1 + j) and mean 0.01 j.
fn uniform_returns(seed: u64, n: usize, m: usize) -> Vec<f64> {
    let mut g = Lcg(seed);
    (0..n * m)
        .map(|k| (g.next() - 0.5) * 0.2 * (1.0 + (k % m) as f64) + 0.01 * (k % m) as f64)
        .collect()
}

#[test]
fn single_asset_lp_cvar_is_the_sample_cvar() {
    let mut g = Lcg(7);
    // rounded to a grid so that ties occur
    let r: Vec<f64> = (0..300).map(|_| ((g.next() - 0.45) * 20.0).round() / 100.0).collect();
    let w: Vec<f64> = (0..300).map(|_| 0.5 + g.next()).collect();
    for alpha in [0.5, 0.9, 0.95, 0.99] {
        let a = mean_cvar(&r, 1, &w, alpha, Objective::MinCvar, &Control::default()).unwrap();
        let (var, cvar) = var_cvar(&r, &w, alpha).unwrap();
        assert_eq!(a.weights, vec![1.0]);
        assert!(
            (a.lp_cvar - cvar).abs() < 1e-8,
            "alpha {alpha}: {} vs {cvar}",
            a.lp_cvar
        );
        assert_eq!(a.cvar, cvar);
        assert_eq!(a.var, var);
    }
}

#[test]
fn target_above_the_best_asset_is_rejected() {
    let r = [0.01, 0.02, -0.01, 0.03, 0.0, 0.01];
    let e = mean_cvar(&r, 2, &[1.0; 3], 0.9, Objective::TargetReturn(0.5), &Control::default()).unwrap_err();
    assert!(
        matches!(e, CoreError::Invalid { ref path, .. } if path == "target_return"),
        "{e:?}"
    );
    let e = mean_cvar(
        &r,
        2,
        &[1.0; 3],
        0.9,
        Objective::RiskAversion(-1.0),
        &Control::default(),
    )
    .unwrap_err();
    assert!(matches!(e, CoreError::Invalid { ref path, .. } if path == "risk_aversion"));
    let e = mean_cvar(&r, 4, &[1.0; 3], 0.9, Objective::MinCvar, &Control::default()).unwrap_err();
    assert!(matches!(e, CoreError::Invalid { ref path, .. } if path == "returns"));
}

#[test]
fn max_target_puts_everything_in_the_best_asset() {
    let r = [0.01, 0.02, -0.01, 0.03, 0.0, 0.01];
    let a = mean_cvar(
        &r,
        2,
        &[1.0; 3],
        0.9,
        Objective::TargetReturn(0.02),
        &Control::default(),
    )
    .unwrap();
    assert_eq!(a.weights, vec![0.0, 1.0]);
}

#[test]
fn a_target_below_every_return_is_the_least_cvar() {
    // no long-only mix returns less than the worst asset's mean: a target there binds
    // nowhere, however far below (−1e12 made the solver stop without progress)
    let r = uniform_returns(5, 400, 3);
    let w = vec![1.0; 400];
    let least = mean_cvar(&r, 3, &w, 0.95, Objective::MinCvar, &Control::default()).unwrap();
    for target in [-0.5, -1e9, -1e12, -1e300, f64::MIN] {
        let a = mean_cvar(&r, 3, &w, 0.95, Objective::TargetReturn(target), &Control::default()).unwrap();
        assert_same_optimum(&a, &least);
    }
}

#[test]
fn frontier_runs_from_min_cvar_to_max_return() {
    let mut g = Lcg(3);
    let m = 3;
    let r: Vec<f64> = (0..100 * m)
        .map(|i| (g.next() - 0.5) * 0.1 + 0.01 * (i % m) as f64)
        .collect();
    let w = vec![1.0; 100];
    let pts = efficient_frontier(&r, m, &w, 0.9, 5, &Control::default()).unwrap();
    let min = mean_cvar(&r, m, &w, 0.9, Objective::MinCvar, &Control::default()).unwrap();
    assert!((pts[0].allocation.cvar - min.cvar).abs() < 1e-7);
    for pair in pts.windows(2) {
        assert!(pair[1].allocation.expected_return >= pair[0].allocation.expected_return - 1e-9);
        assert!(pair[1].allocation.cvar >= pair[0].allocation.cvar - 1e-7);
    }
    for pt in &pts {
        assert!((pt.allocation.weights.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(pt.allocation.expected_return >= pt.target_return - 1e-8);
    }
}

#[test]
fn constraint_generation_finds_the_whole_programme_s_optimum() {
    // above FULL_LP_ROWS the programme is solved on the scenarios that can
    // matter; its optimum must be the whole programme's (to solver accuracy),
    // with some zero weights among the paths
    let mut g = Lcg(11);
    let (n, m) = (FULL_LP_ROWS + 20_001, 4);
    let r: Vec<f64> = (0..n * m)
        .map(|k| {
            let (a, b) = (g.next(), g.next());
            let z = (-2.0 * a.max(1e-300).ln()).sqrt() * (std::f64::consts::TAU * b).cos();
            0.01 * (k % m) as f64 + 0.05 * (1.0 + (k % m) as f64) * z
        })
        .collect();
    let w: Vec<f64> = (0..n).map(|i| if i % 97 == 0 { 0.0 } else { 0.5 + g.next() }).collect();
    let prob = Problem::new(&r, m, &w, 0.95, &NEVER).unwrap();
    let all = vec![true; m];
    // from the equal-weight mix and from poor guesses (single assets), as the
    // frontier's points start from mixes of the minimum-CVaR portfolio and the best asset
    let guesses: [Option<&[f64]>; 3] = [None, Some(&[1.0, 0.0, 0.0, 0.0]), Some(&[0.0, 0.0, 0.0, 1.0])];
    for (lambda, target) in [(0.0, None), (0.7, None), (0.0, Some(0.02))] {
        let whole = lp::solve(&prob, &all, lambda, target).unwrap();
        for guess in guesses {
            let fast = prob.lp(&all, lambda, target, guess).unwrap();
            assert_same_optimum(&fast, &whole);
            assert!((fast.lp_cvar - whole.lp_cvar).abs() < 1e-8);
        }
    }
}

#[test]
fn frontier_by_constraint_generation_matches_the_whole_programme() {
    // above FULL_LP_ROWS each point starts from a guessed tail; its optimum
    // must still be the whole programme's at the same target
    let (n, m) = (3 * FULL_LP_ROWS, 3);
    let r = uniform_returns(5, n, m);
    let w = vec![1.0; n];
    let prob = Problem::new(&r, m, &w, 0.95, &NEVER).unwrap();
    let all = vec![true; m];
    let pts = efficient_frontier(&r, m, &w, 0.95, 4, &Control::default()).unwrap();
    for pt in &pts[..3] {
        let whole = lp::solve(&prob, &all, 0.0, Some(pt.target_return)).unwrap();
        assert_same_optimum(&pt.allocation, &whole);
    }
}

#[test]
fn solver_noise_in_the_weights_becomes_zero() {
    // interior-point weights of excluded assets are ±1e-14-sized, not 0
    let r = [0.01, 0.02, -0.01, 0.03, 0.0, 0.01, 0.02, -0.02, 0.01, 0.0, 0.01, 0.02];
    let prob = Problem::new(&r, 4, &[1.0; 3], 0.9, &NEVER).unwrap();
    let a = prob
        .finish(vec![0.5, 2e-14, 0.5 - 2e-14, -1e-13], 0.0, 0.0, "Solved".into(), 1)
        .unwrap();
    assert_eq!((a.weights[1], a.weights[3]), (0.0, 0.0));
    assert!((a.weights[0] - 0.5).abs() < 1e-13 && (a.weights[0] + a.weights[2] - 1.0).abs() < 1e-15);
}

#[test]
fn constraint_generation_covers_the_tail_s_probability_under_a_posterior() {
    // a posterior can put almost no probability on the largest losses; the
    // restricted programme must still hold the tail's probability (else it is
    // unbounded) and reach the whole programme's optimum
    let (n, m) = (10 * FULL_LP_ROWS, 3);
    let r = uniform_returns(3, n, m);
    // the worst 30% of equal-weight outcomes get weight 1e-6 each
    let eq: Vec<f64> = r.chunks(m).map(|row| row.iter().sum::<f64>() / m as f64).collect();
    let mut sorted = eq.clone();
    sorted.sort_by(f64::total_cmp);
    let cut = sorted[3 * n / 10];
    let w: Vec<f64> = eq.iter().map(|&v| if v < cut { 1e-6 } else { 1.0 }).collect();
    let prob = Problem::new(&r, m, &w, 0.95, &NEVER).unwrap();
    let all = vec![true; m];
    for (lambda, target) in [(0.0, None), (0.5, None), (0.0, Some(0.012))] {
        let whole = lp::solve(&prob, &all, lambda, target).unwrap();
        let fast = prob.lp(&all, lambda, target, None).unwrap();
        assert_same_optimum(&fast, &whole);
    }
}

#[test]
fn levels_past_the_smallest_weight_give_the_minimax_mix() {
    // CVaR_α is the largest loss for every α ≥ 1 − p_min: at α = 1 − 2⁻⁵³ the
    // programme (1 / (1 − α) ≈ 9e15) stalled; it now solves at the same optimum
    let (n, m) = (400, 3);
    let r = uniform_returns(11, n, m);
    let w = vec![1.0; n];
    let at = |alpha: f64| mean_cvar(&r, m, &w, alpha, Objective::MinCvar, &Control::default()).unwrap();
    let edge = at(1.0 - 0.5 / n as f64);
    for alpha in [1.0 - 1e-9, 1.0 - 1e-12, 1.0 - f64::EPSILON / 2.0] {
        let a = at(alpha);
        assert_same_optimum(&a, &edge);
        // the reported CVaR is the mix's largest loss
        let worst = (0..n)
            .map(|i| -(0..m).map(|j| r[i * m + j] * a.weights[j]).sum::<f64>())
            .fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(a.cvar, worst, "{alpha}");
    }
    let pts = efficient_frontier(&r, m, &w, 1.0 - f64::EPSILON / 2.0, 4, &Control::default()).unwrap();
    assert_eq!(pts.len(), 4);
}

#[test]
fn a_cancelled_allocation_stops_and_the_frontier_counts_its_points() {
    // enough scenarios for constraint generation (rounds checked one by one)
    let (n, m) = (20_000, 3);
    let mut g = Lcg(17);
    let r: Vec<f64> = (0..n * m)
        .map(|i| g.next() * 0.4 - 0.19 + 0.01 * (i % m) as f64)
        .collect();
    let w = vec![1.0; n];
    let stopped = Control::default();
    stopped.cancel.store(true, Ordering::Relaxed);
    let e = mean_cvar(&r, m, &w, 0.95, Objective::MinCvar, &stopped).unwrap_err();
    assert!(matches!(e, CoreError::Cancelled), "{e}");
    let e = efficient_frontier(&r, m, &w, 0.95, 5, &stopped).unwrap_err();
    assert!(matches!(e, CoreError::Cancelled), "{e}");
    assert_eq!(stopped.paths_done.load(Ordering::Relaxed), 0, "no point was solved");
    // not cancelled: every point solved and counted
    let control = Control::default();
    let pts = efficient_frontier(&r, m, &w, 0.95, 5, &control).unwrap();
    assert_eq!(control.paths_done.load(Ordering::Relaxed), 5);
    for p in &pts {
        assert!((p.allocation.weights.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!(p.allocation.expected_return >= p.target_return - 1e-9);
    }
}

#[test]
fn the_sample_s_optimum_holds_the_whole_programme_s_tail_among_its_largest_losses() {
    // 24 long/short mixes of 5 factors: the equal-weight mix's largest losses
    // miss much of the optimum's tail, and the second programme held almost
    // every scenario; the optimum on a sample must find the tail in the first
    let (n, m, k) = (4 * FULL_LP_ROWS, 24, 5);
    let mut g = Lcg(17);
    let mut normal = || {
        let (a, b) = (g.next(), g.next());
        (-2.0 * a.max(1e-300).ln()).sqrt() * (std::f64::consts::TAU * b).cos()
    };
    let loadings: Vec<f64> = (0..k * m).map(|_| 0.3 * normal()).collect();
    let mut r = vec![0.0; n * m];
    for row in r.chunks_mut(m) {
        let f: Vec<f64> = (0..k).map(|_| 0.1 * normal()).collect();
        for (j, v) in row.iter_mut().enumerate() {
            *v = 0.005 + (0..k).map(|q| f[q] * loadings[q * m + j]).sum::<f64>() + 0.02 * normal();
        }
    }
    let w = vec![1.0; n];
    let prob = Problem::new(&r, m, &w, 0.95, &NEVER).unwrap();
    let all = vec![true; m];
    let best = lp::solve(&prob, &all, 0.0, None).unwrap();
    let loss = |x: &[f64], i: usize| -r[i * m..(i + 1) * m].iter().zip(x).map(|(a, b)| a * b).sum::<f64>();
    let tail: Vec<usize> = (0..n).filter(|&i| loss(&best.weights, i) > best.zeta + 1e-9).collect();
    let size = 2 * (n / 20) + 2_000; // the first programme's scenarios (see `Problem::lp`)
    let covered = |x: &[f64]| {
        let mut by_loss: Vec<f64> = (0..n).map(|i| loss(x, i)).collect();
        by_loss.sort_by(|a, b| b.total_cmp(a));
        let cut = by_loss[size - 1];
        tail.iter().filter(|&&i| loss(x, i) >= cut).count()
    };
    let equal = vec![1.0 / m as f64; m];
    // the premise: from the equal-weight mix, the first programme misses scenarios of the tail
    assert!(covered(&equal) < tail.len(), "{} of {}", covered(&equal), tail.len());
    let guess = prob.sample_guess(&all, 0.0, None, GUESS_ROWS.min(size)).unwrap();
    assert_eq!(
        covered(&guess),
        tail.len(),
        "{} of the tail's {} scenarios",
        covered(&guess),
        tail.len()
    );
    let fast = prob.lp(&all, 0.0, None, None).unwrap();
    assert_same_optimum(&fast, &best);
}

#[test]
fn the_sample_draws_scenarios_in_proportion_to_probability() {
    let (n, m) = (10_000, 2);
    let r = uniform_returns(9, n, m);
    // equal weights: every (n/count)-th scenario, each with probability 1/count
    let prob = Problem::new(&r, m, &[1.0; 10_000], 0.95, &NEVER).unwrap();
    let s = prob.sample(4_000);
    let every: Vec<usize> = (0..4_000).map(|k| ((k as f64 + 0.5) * 2.5) as usize).collect();
    assert_eq!(s.rows, every);
    assert!(s.p.iter().all(|&p| p == 1.0 / 4_000.0));
    // almost all the probability on three paths: they carry it in the sample too
    let mut w = vec![1e-12; n];
    for i in [17, n / 3, n - 5] {
        w[i] = 1.0;
    }
    let prob = Problem::new(&r, m, &w, 0.95, &NEVER).unwrap();
    let s = prob.sample(4_000);
    let heavy: f64 = s
        .rows
        .iter()
        .zip(&s.p)
        .filter(|(&i, _)| w[i] == 1.0)
        .map(|(_, p)| p)
        .sum();
    assert!(heavy > 0.999, "{heavy}");
    assert!((s.p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
}
