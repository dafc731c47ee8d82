//! Risk measures, entropy-pooling views and mean–CVaR allocation against
//! independent computations (MODEL.md §6): the Rockafellar–Uryasev LP against
//! the sorted sample, the views against their constraints, the allocation
//! against a brute-force grid over the simplex.

use geoscenario::allocation::{efficient_frontier, mean_cvar, Objective};
use geoscenario::engine::Control;
use geoscenario::risk::{max_drawdown, max_drawdown_rows, risk_table, risk_tables, var_cvar};
use geoscenario::views::{entropy_pooling, DEFAULT_MAX_ITER, DEFAULT_TOL};
use geoscenario::CoreError;

/// Tiny deterministic generator (Knuth's MMIX LCG), uniform in [0, 1).
struct Lcg(u64);
impl Lcg {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, k: usize) -> usize {
        ((self.uniform() * k as f64) as usize).min(k - 1)
    }
    /// A sample with many ties: values on a coarse grid.
    fn ticks(&mut self, n: usize, levels: usize, scale: f64) -> Vec<f64> {
        (0..n)
            .map(|_| (self.below(levels) as f64 - levels as f64 / 2.0) * scale)
            .collect()
    }
    /// Weights in [0, 2) with some exact zeros.
    fn weights(&mut self, n: usize) -> Vec<f64> {
        (0..n)
            .map(|_| {
                if self.uniform() < 0.1 {
                    0.0
                } else {
                    2.0 * self.uniform()
                }
            })
            .collect()
    }
}

/// CVaR straight from the definition: the mean of the worst losses carrying
/// weight 1 − α, with the VaR atom split.
fn cvar_by_sorting(pnl: &[f64], w: &[f64], alpha: f64) -> f64 {
    let total: f64 = w.iter().sum();
    let mut pairs: Vec<(f64, f64)> = pnl.iter().zip(w).map(|(p, w)| (-p, w / total)).collect();
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0)); // worst loss first
    let mut left = 1.0 - alpha;
    let mut acc = 0.0;
    for (l, p) in pairs {
        let take = p.min(left);
        acc += take * l;
        left -= take;
        if left <= 0.0 {
            break;
        }
    }
    acc / (1.0 - alpha)
}

#[test]
fn lp_cvar_equals_the_sorted_sample_cvar() {
    let mut g = Lcg(2024);
    for case in 0..20 {
        let n = 50 + 37 * case;
        let pnl = g.ticks(n, 15 + case, 0.01);
        let w = if case % 2 == 0 { vec![1.0; n] } else { g.weights(n) };
        for alpha in [0.8, 0.9, 0.95, 0.975] {
            let (var, cvar) = var_cvar(&pnl, &w, alpha).unwrap();
            let lp = mean_cvar(&pnl, 1, &w, alpha, Objective::MinCvar, &Control::default()).unwrap();
            let sorted = cvar_by_sorting(&pnl, &w, alpha);
            assert!(
                (lp.lp_cvar - cvar).abs() < 1e-8,
                "case {case} alpha {alpha}: LP {} vs sample {cvar}",
                lp.lp_cvar
            );
            assert!(
                (sorted - cvar).abs() < 1e-12,
                "case {case} alpha {alpha}: sorted {sorted} vs {cvar}"
            );
            assert!(var <= cvar);
        }
    }
}

#[test]
fn var_never_exceeds_cvar() {
    let mut g = Lcg(99);
    for case in 0..200 {
        let n = 1 + g.below(60);
        let pnl: Vec<f64> = if case % 3 == 0 {
            g.ticks(n, 4, 1.0)
        } else {
            (0..n).map(|_| g.uniform() - 0.5).collect()
        };
        let mut w = g.weights(n);
        w[g.below(n)] = 1.0;
        let alpha = 0.01 + 0.98 * g.uniform();
        let (var, cvar) = var_cvar(&pnl, &w, alpha).unwrap();
        assert!(var <= cvar, "case {case}: VaR {var} > CVaR {cvar}");
    }
}

#[test]
fn risk_table_rows_agree_with_subsamples_and_shares_sum_to_one() {
    let mut g = Lcg(5);
    let (n, s, k) = (3000, 3, 4);
    let pnl = g.ticks(n * s, 40, 0.005);
    let w = g.weights(n);
    let scen: Vec<i64> = (0..n).map(|_| g.below(k) as i64).collect();
    let alpha = 0.9;
    let tables = risk_tables(&pnl, s, &w, &scen, k, alpha).unwrap();
    for (st, table) in tables.iter().enumerate() {
        let col: Vec<f64> = (0..n).map(|i| pnl[i * s + st]).collect();
        assert_eq!(table, &risk_table(&col, &w, &scen, k, alpha).unwrap());
        let shares: f64 = table[..k].iter().map(|r| r.tail_share).sum();
        assert!((shares - 1.0).abs() < 1e-12, "shares sum to {shares}");
        let mass: f64 = table[..k].iter().map(|r| r.probability).sum();
        assert!((mass - 1.0).abs() < 1e-12);
        for (sc, row) in table.iter().enumerate() {
            let keep: Vec<usize> = (0..n).filter(|&i| sc == k || scen[i] as usize == sc).collect();
            let x: Vec<f64> = keep.iter().map(|&i| col[i]).collect();
            let wk: Vec<f64> = keep.iter().map(|&i| w[i]).collect();
            let (var, cvar) = var_cvar(&x, &wk, alpha).unwrap();
            assert_eq!(row.var, var);
            assert!((row.cvar - cvar).abs() < 1e-12);
            assert!(row.var <= row.cvar);
        }
        // the tail share of a scenario is its weight among the worst 1 − α of losses
        let total: f64 = w.iter().sum();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| col[a].total_cmp(&col[b]));
        let mut left = 1.0 - alpha;
        let mut share = vec![0.0; k];
        let mut i = 0;
        while left > 1e-15 {
            // ties at the boundary are split in proportion to weight
            let v = col[order[i]];
            let tie: Vec<usize> = order[i..].iter().copied().take_while(|&j| col[j] == v).collect();
            let tie_w: f64 = tie.iter().map(|&j| w[j] / total).sum();
            let take = tie_w.min(left);
            for &j in &tie {
                if tie_w > 0.0 {
                    share[scen[j] as usize] += take * (w[j] / total) / tie_w;
                }
            }
            left -= take;
            i += tie.len();
        }
        for sc in 0..k {
            assert!((table[sc].tail_share - share[sc] / (1.0 - alpha)).abs() < 1e-9);
        }
    }
}

#[test]
fn max_drawdown_rows_match_the_single_row_version() {
    let mut g = Lcg(11);
    let (n, t) = (500, 25);
    let mut nav = vec![0.0; n * t];
    for r in 0..n {
        let mut v = 1.0;
        for c in 0..t {
            nav[r * t + c] = v;
            v *= 1.0 + 0.1 * (g.uniform() - 0.5);
        }
    }
    let dd = max_drawdown_rows(&nav, n, t).unwrap();
    for r in 0..n {
        assert_eq!(dd[r], max_drawdown(&nav[r * t..(r + 1) * t]).unwrap());
        assert!((0.0..1.0).contains(&dd[r]));
    }
}

fn expect(q: &[f64], a: &[f64]) -> f64 {
    q.iter().zip(a).map(|(q, a)| q * a).sum()
}

#[test]
fn entropy_pooling_satisfies_views_and_reports_its_entropy() {
    let mut g = Lcg(31);
    for case in 0..10 {
        let n = 200 + 300 * case;
        let x: Vec<f64> = (0..n).map(|_| g.uniform() * 2.0 - 1.0).collect();
        let y: Vec<f64> = x.iter().map(|v| v * v + 0.2 * g.uniform()).collect();
        let ind: Vec<f64> = x.iter().map(|&v| if v > 0.3 { 1.0 } else { 0.0 }).collect();
        let prior: Vec<f64> = (0..n).map(|_| 0.5 + g.uniform()).collect();
        let total: f64 = prior.iter().sum();
        let p: Vec<f64> = prior.iter().map(|v| v / total).collect();
        let (bx, bi, by) = (0.05 * case as f64 - 0.2, 0.2 + 0.02 * case as f64, 0.3);
        let a_eq: Vec<f64> = x.iter().chain(&ind).copied().collect();
        let post = entropy_pooling(
            &prior,
            &a_eq,
            &[bx, bi],
            &y,
            &[by],
            DEFAULT_MAX_ITER,
            DEFAULT_TOL,
            &Control::default(),
        )
        .unwrap();
        assert!(post.converged);
        assert!((expect(&post.q, &x) - bx).abs() < 1e-9);
        assert!((expect(&post.q, &ind) - bi).abs() < 1e-9);
        assert!(expect(&post.q, &y) <= by + 1e-9);
        assert!(post.q.iter().all(|&q| q > 0.0));
        assert!((post.q.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let kl: f64 = post.q.iter().zip(&p).map(|(q, p)| q * (q / p).ln()).sum();
        assert!(
            (kl - post.relative_entropy).abs() < 1e-10,
            "KL {kl} vs {}",
            post.relative_entropy
        );
        let h: f64 = -post.q.iter().map(|q| q * q.ln()).sum::<f64>();
        assert!((h.exp() - post.effective_scenarios).abs() < 1e-8 * h.exp());
        assert!(post.multipliers[2] <= 0.0);
    }
}

#[test]
fn many_views_with_active_and_slack_inequalities() {
    let mut g = Lcg(8);
    let (n, k) = (5000, 12);
    let f: Vec<f64> = (0..n * k).map(|_| g.uniform()).collect();
    let prior = vec![1.0; n];
    // every view function has mean ≈ 0.5 under the prior: alternate binding and slack bounds
    let b: Vec<f64> = (0..k).map(|j| if j % 2 == 0 { 0.47 } else { 0.6 }).collect();
    let post = entropy_pooling(
        &prior,
        &f[..n * 2],
        &[0.52, 0.49],
        &f[n * 2..],
        &b[2..],
        DEFAULT_MAX_ITER,
        DEFAULT_TOL,
        &Control::default(),
    )
    .unwrap();
    assert!((expect(&post.q, &f[..n]) - 0.52).abs() < 1e-9);
    assert!((expect(&post.q, &f[n..2 * n]) - 0.49).abs() < 1e-9);
    for j in 2..k {
        let e = expect(&post.q, &f[j * n..(j + 1) * n]);
        assert!(e <= b[j] + 1e-9);
        let nu = post.multipliers[j];
        assert!(nu <= 0.0);
        // complementary slackness
        assert!(nu == 0.0 || (e - b[j]).abs() < 1e-9, "view {j}: nu {nu}, E {e}");
    }
}

#[test]
fn no_views_give_the_prior() {
    let prior = [0.1, 0.2, 0.3, 0.4];
    let post = entropy_pooling(&prior, &[], &[], &[], &[], 10, 1e-10, &Control::default()).unwrap();
    assert_eq!(post.q, prior.to_vec());
    assert_eq!(post.relative_entropy, 0.0);
    assert_eq!(post.iterations, 0);
}

#[test]
fn infeasible_views_raise_numerical_errors() {
    let x = [0.0, 1.0, 2.0, 3.0, 4.0];
    let p = [0.2; 5];
    for (a_eq, b_eq, a_ie, b_ie) in [
        (x.to_vec(), vec![4.5], vec![], vec![]),
        (x.to_vec(), vec![-0.1], vec![], vec![]),
        (vec![], vec![], x.to_vec(), vec![-1.0]),
        // E[x] = 3 with E[x] ≤ 2
        (x.to_vec(), vec![3.0], x.to_vec(), vec![2.0]),
        // E[x] = 1 and P(x ≥ 3) = 0.5 (which forces E[x] ≥ 1.5)
        (
            [x.as_slice(), &[0.0, 0.0, 0.0, 1.0, 1.0]].concat(),
            vec![1.0, 0.5],
            vec![],
            vec![],
        ),
    ] {
        let e = entropy_pooling(&p, &a_eq, &b_eq, &a_ie, &b_ie, 100, 1e-10, &Control::default()).unwrap_err();
        assert!(
            matches!(e, CoreError::Numerical(ref m) if m.contains("infeasible")),
            "{e:?}"
        );
    }
}

/// CVaR_α of the portfolio x, from the sample.
fn portfolio_cvar(r: &[f64], m: usize, w: &[f64], alpha: f64, x: &[f64]) -> f64 {
    let pnl: Vec<f64> = r
        .chunks(m)
        .map(|row| row.iter().zip(x).map(|(a, b)| a * b).sum())
        .collect();
    var_cvar(&pnl, w, alpha).unwrap().1
}

#[test]
fn mean_cvar_matches_a_grid_over_the_simplex() {
    let mut g = Lcg(77);
    let (n, m, alpha) = (200, 3, 0.9);
    // three assets: low, medium and high risk and return
    let r: Vec<f64> = (0..n * m)
        .map(|i| {
            let j = i % m;
            0.01 * (j as f64 + 1.0) + (0.05 + 0.1 * j as f64) * (g.uniform() - 0.5)
        })
        .collect();
    let w = g.weights(n);
    let total: f64 = w.iter().sum();
    let mu: Vec<f64> = (0..m)
        .map(|j| (0..n).map(|i| w[i] * r[i * m + j]).sum::<f64>() / total)
        .collect();
    let r_max = r.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let mut grid = Vec::new();
    for i in 0..=100 {
        for j in 0..=(100 - i) {
            let x = [i as f64 / 100.0, j as f64 / 100.0, (100 - i - j) as f64 / 100.0];
            let ret: f64 = x.iter().zip(&mu).map(|(a, b)| a * b).sum();
            grid.push((x, portfolio_cvar(&r, m, &w, alpha, &x), ret));
        }
    }
    // risk aversion γ: maximise E − γ·CVaR
    for gamma in [0.0, 0.1, 0.5, 2.0, 10.0] {
        let a = mean_cvar(&r, m, &w, alpha, Objective::RiskAversion(gamma), &Control::default()).unwrap();
        let lp_obj = a.expected_return - gamma * a.cvar;
        let grid_obj = grid
            .iter()
            .map(|(_, c, e)| e - gamma * c)
            .fold(f64::NEG_INFINITY, f64::max);
        // the LP optimum is no worse than any grid point, and the grid's nearest
        // point (L1 distance ≤ 0.02) is within the Lipschitz bound of it
        let tol = 0.02 * (r_max + gamma * r_max);
        assert!(
            lp_obj >= grid_obj - 1e-9,
            "gamma {gamma}: LP {lp_obj} < grid {grid_obj}"
        );
        assert!(lp_obj - grid_obj <= tol, "gamma {gamma}: LP {lp_obj}, grid {grid_obj}");
        assert!((a.weights.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(a.weights.iter().all(|&v| v >= 0.0));
        assert!(
            (a.lp_cvar - a.cvar).abs() < 1e-7,
            "LP CVaR {} vs sample {}",
            a.lp_cvar,
            a.cvar
        );
        assert!(a.var <= a.cvar);
    }
    for target in [mu[0], 0.5 * (mu[1] + mu[2]), mu[2] - 1e-4] {
        let a = mean_cvar(&r, m, &w, alpha, Objective::TargetReturn(target), &Control::default()).unwrap();
        assert!(a.expected_return >= target - 1e-9);
        let grid_best = grid
            .iter()
            .filter(|(_, _, e)| *e >= target)
            .map(|(_, c, _)| *c)
            .fold(f64::INFINITY, f64::min);
        assert!(
            a.cvar <= grid_best + 1e-9,
            "target {target}: LP {} > grid {grid_best}",
            a.cvar
        );
    }
    let e = mean_cvar(
        &r,
        m,
        &w,
        alpha,
        Objective::TargetReturn(mu[2] + 1e-3),
        &Control::default(),
    )
    .unwrap_err();
    assert!(matches!(e, CoreError::Invalid { ref path, .. } if path == "target_return"));

    let front = efficient_frontier(&r, m, &w, alpha, 8, &Control::default()).unwrap();
    assert_eq!(front.len(), 8);
    let min_cvar = grid.iter().map(|(_, c, _)| *c).fold(f64::INFINITY, f64::min);
    assert!(front[0].allocation.cvar <= min_cvar + 1e-9);
    assert!((front[7].target_return - mu[2]).abs() < 1e-15);
    for pair in front.windows(2) {
        assert!(pair[1].allocation.cvar >= pair[0].allocation.cvar - 1e-9);
        assert!(pair[1].allocation.expected_return >= pair[0].allocation.expected_return - 1e-9);
    }
}

#[test]
fn views_feasible_only_on_the_boundary_converge() {
    // E[x] = 1 and P(x ≥ 3) = 1/3 hold only with all weight on x ∈ {0, 3}
    let x = [0.0, 1.0, 2.0, 3.0, 4.0];
    let ind = [0.0, 0.0, 0.0, 1.0, 1.0];
    let r = entropy_pooling(
        &[0.2; 5],
        &[x.as_slice(), &ind].concat(),
        &[1.0, 1.0 / 3.0],
        &[],
        &[],
        200,
        1e-10,
        &Control::default(),
    );
    let post = r.unwrap();
    assert!((expect(&post.q, &x) - 1.0).abs() < 1e-9);
    assert!((expect(&post.q, &ind) - 1.0 / 3.0).abs() < 1e-9);
}

#[test]
fn random_feasible_view_sets_converge() {
    let mut g = Lcg(4242);
    for case in 0..60 {
        let n = 20 + g.below(3000);
        let k_eq = g.below(5);
        let k_ie = g.below(5);
        let k = k_eq + k_ie;
        // view functions: mixtures of smooth, skewed and indicator functions
        let a: Vec<f64> = (0..k * n)
            .map(|i| match (i / n) % 3 {
                0 => g.uniform() * 4.0 - 2.0,
                1 => (3.0 * g.uniform()).exp(),
                _ => (g.uniform() < 0.2) as u8 as f64,
            })
            .collect();
        let prior: Vec<f64> = (0..n).map(|_| g.uniform()).collect();
        // targets: expectations under a random reference distribution r, so the views are feasible
        let r: Vec<f64> = (0..n).map(|_| g.uniform().powi(3)).collect();
        let rs: f64 = r.iter().sum();
        let mut b: Vec<f64> = (0..k).map(|j| expect(&r, &a[j * n..(j + 1) * n]) / rs).collect();
        for bj in b[k_eq..].iter_mut() {
            *bj += 0.05 * g.uniform() * bj.abs();
        }
        let post = entropy_pooling(
            &prior,
            &a[..k_eq * n],
            &b[..k_eq],
            &a[k_eq * n..],
            &b[k_eq..],
            200,
            1e-10,
            &Control::default(),
        )
        .unwrap_or_else(|e| panic!("case {case} (n {n}, {k_eq} eq, {k_ie} ie): {e}"));
        for j in 0..k {
            let row = &a[j * n..(j + 1) * n];
            let scale = row.iter().fold(b[j].abs(), |m, v| m.max(v.abs()));
            let e = expect(&post.q, row) - b[j];
            if j < k_eq {
                assert!(e.abs() <= 1e-9 * scale, "case {case} view {j}: off by {e}");
            } else {
                assert!(e <= 1e-9 * scale, "case {case} view {j}: off by {e}");
            }
        }
        assert!((post.q.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
}
