use super::*;

fn ep(p: &[f64], a_eq: &[f64], b_eq: &[f64], a_ie: &[f64], b_ie: &[f64]) -> Result<Posterior> {
    entropy_pooling(
        p,
        a_eq,
        b_eq,
        a_ie,
        b_ie,
        DEFAULT_MAX_ITER,
        DEFAULT_TOL,
        &Control::default(),
    )
}

fn expect(q: &[f64], a: &[f64]) -> f64 {
    q.iter().zip(a).map(|(q, a)| q * a).sum()
}

/// E under q ∝ p e^{ν x} as a function of ν, and its root by bisection.
fn tilt_root(p: &[f64], x: &[f64], b: f64) -> f64 {
    let m = |nu: f64| {
        let w: Vec<f64> = p.iter().zip(x).map(|(p, x)| p * (nu * x).exp()).collect();
        expect(&w, x) / w.iter().sum::<f64>()
    };
    let (mut lo, mut hi) = (-50.0, 50.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if m(mid) < b {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[test]
fn one_mean_view_matches_the_exponential_tilt() {
    let x = [0.0, 1.0, 2.0, 3.0, 4.0];
    let p = [0.1, 0.2, 0.4, 0.2, 0.1];
    let post = ep(&p, &x, &[2.7], &[], &[]).unwrap();
    let nu = tilt_root(&p, &x, 2.7);
    assert!(
        (post.multipliers[0] - nu).abs() < 1e-9,
        "{} vs {nu}",
        post.multipliers[0]
    );
    assert!((expect(&post.q, &x) - 2.7).abs() < 1e-12);
    assert!((post.q.iter().sum::<f64>() - 1.0).abs() < 1e-14);
    let kl: f64 = post.q.iter().zip(&p).map(|(q, p)| q * (q / p).ln()).sum();
    assert!((kl - post.relative_entropy).abs() < 1e-13);
    let h: f64 = -post.q.iter().map(|q| q * q.ln()).sum::<f64>();
    assert!((h.exp() - post.effective_scenarios).abs() < 1e-12);
}

#[test]
fn a_probability_view_on_a_thin_tail_is_met_after_an_overshoot() {
    // P(A) = v for an event A of m paths in n: q = v/m on A, (1 − v)/(n − m) off it. The
    // first Newton step overshoots to where every weight sits on A and the curvature has
    // underflowed (1e-35); the next Newton step (−1e33) then found no Armijo descent at
    // any t ≥ 1e-14, and the solve "stalled" on 62 of 320 such views
    let n = 20_000;
    let p = vec![1.0 / n as f64; n];
    for (m, v) in [(200, 0.99), (20, 0.9), (20, 0.95), (20, 0.99), (200, 0.9), (2, 0.999)] {
        let a: Vec<f64> = (0..n).map(|i| if (i * 7919) % n < m { 1.0 } else { 0.0 }).collect();
        let post = ep(&p, &a, &[v], &[], &[]).unwrap_or_else(|e| panic!("m = {m}, v = {v}: {e}"));
        assert!((expect(&post.q, &a) - v).abs() < 1e-10, "m = {m}, v = {v}");
        for (q, a) in post.q.iter().zip(&a) {
            let exact = if *a > 0.0 {
                v / m as f64
            } else {
                (1.0 - v) / (n - m) as f64
            };
            assert!((q - exact).abs() <= 1e-8 * exact, "m = {m}, v = {v}: {q} vs {exact}");
        }
    }
}

#[test]
fn no_views_returns_the_prior() {
    let p = [0.25, 0.25, 0.5];
    let post = ep(&p, &[], &[], &[], &[]).unwrap();
    assert_eq!(post.q, p.to_vec());
    assert_eq!(post.relative_entropy, 0.0);
    let post = ep(&[1.0, 1.0, 2.0], &[], &[], &[], &[]).unwrap();
    assert_eq!(post.q, p.to_vec());
}

#[test]
fn slack_inequality_leaves_the_prior_and_binding_one_acts_as_equality() {
    let x = [0.0, 1.0, 2.0, 3.0];
    let p = [0.25; 4];
    // E[x] = 1.5 under p, so E[x] ≤ 2 is slack
    let post = ep(&p, &[], &[], &x, &[2.0]).unwrap();
    assert_eq!(post.multipliers, vec![0.0]);
    // the prior as it stands, bit for bit, and no distance from it
    assert_eq!(post.q, p.to_vec());
    assert_eq!((post.iterations, post.relative_entropy), (0, 0.0));
    // E[x] ≤ 1 binds: same as the equality view
    let ie = ep(&p, &[], &[], &x, &[1.0]).unwrap();
    let eq = ep(&p, &x, &[1.0], &[], &[]).unwrap();
    assert!(ie.multipliers[0] < 0.0);
    for (a, b) in ie.q.iter().zip(&eq.q) {
        assert!((a - b).abs() < 1e-12);
    }
}

#[test]
fn several_views_hold_together() {
    // deterministic pseudo-random scenarios
    let n = 500;
    let mut s = 12345u64;
    let mut u = || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let x: Vec<f64> = (0..n).map(|_| u() * 2.0 - 1.0).collect();
    let y: Vec<f64> = x.iter().map(|v| v * v + 0.3 * u()).collect();
    let ind: Vec<f64> = x.iter().map(|&v| if v > 0.5 { 1.0 } else { 0.0 }).collect();
    let p = vec![1.0; n];
    let a_eq: Vec<f64> = x.iter().chain(&ind).copied().collect();
    let post = ep(&p, &a_eq, &[0.1, 0.3], &y, &[0.3]).unwrap();
    assert!((expect(&post.q, &x) - 0.1).abs() < 1e-10);
    assert!((expect(&post.q, &ind) - 0.3).abs() < 1e-10);
    assert!(expect(&post.q, &y) <= 0.3 + 1e-10);
    assert!(post.q.iter().all(|&q| q > 0.0));
}

#[test]
fn edge_views_pin_the_support() {
    // P(bear) = 0 removes the bear scenarios exactly
    let bear = [0.0, 0.0, 1.0, 1.0];
    let x = [1.0, 2.0, 3.0, 4.0];
    let post = ep(&[0.25; 4], &[bear.as_slice(), &x].concat(), &[0.0, 1.6], &[], &[]).unwrap();
    assert_eq!(&post.q[2..], &[0.0, 0.0]);
    assert!((expect(&post.q, &x) - 1.6).abs() < 1e-12);
    assert_eq!(post.multipliers[0], f64::NEG_INFINITY);
    // the edge view alone: no Newton iteration, yet the weights move off the prior
    let post = ep(&[0.25; 4], &bear, &[0.0], &[], &[]).unwrap();
    assert_eq!(post.iterations, 0);
    assert_eq!(post.q, vec![0.5, 0.5, 0.0, 0.0]);
    assert!((post.relative_entropy - 2f64.ln()).abs() < 1e-15);
}

#[test]
fn a_loose_tolerance_never_pins_the_support_to_a_far_edge() {
    // |E_p[x] − 0.6| = 1.4 is within tol·scale = 0.8·2 (the scale is median |x| = 2),
    // so the prior already holds; the edge x = 0 is far (0.6 of a range of 4) and
    // must not take all the weight
    let x = [0.0, 1.0, 2.0, 3.0, 4.0];
    let p = [0.2; 5];
    let post = entropy_pooling(&p, &x, &[0.6], &[], &[], DEFAULT_MAX_ITER, 0.8, &Control::default()).unwrap();
    assert_eq!(post.q, p.to_vec());
    assert_eq!(post.iterations, 0);
    // tighter: the view is met to the tolerance by tilting, not by pinning
    for tol in [1e-3, 1e-6] {
        let post = entropy_pooling(&p, &x, &[0.6], &[], &[], DEFAULT_MAX_ITER, tol, &Control::default()).unwrap();
        assert!((expect(&post.q, &x) - 0.6).abs() <= tol * 2.0);
        assert!(post.q.iter().all(|&q| q > 0.0), "{:?}", post.q);
    }
}

/// exp(σ·Φ⁻¹(u)) at n evenly spaced u: a lognormal level with unit median.
fn lognormal_grid(n: usize, sigma: f64) -> Vec<f64> {
    (0..n)
        .map(|i| (sigma * crate::qmc::inv_norm((i as f64 + 0.5) / n as f64)).exp())
        .collect()
}

#[test]
fn targets_deep_in_a_heavy_lower_tail_are_met_by_tilting() {
    // σ = 10: values from 1e-17 to 1e17. The 1% quantile took an absolute Newton
    // ridge that shortened every step ten-thousandfold (no convergence in 5,000
    // iterations); the 0.1% quantile was taken for the minimum (one path, KL 9.9
    // against 6.4 at the optimum).
    let n = 20_000;
    let x = lognormal_grid(n, 10.0);
    let p = vec![1.0; n];
    for q in [0.001, 0.01, 0.02] {
        let target = x[(q * n as f64) as usize];
        let post = ep(&p, &x, &[target], &[], &[]).unwrap();
        let got = expect(&post.q, &x);
        let scale = target.max(1.0); // the median of |x| is 1
        assert!(
            (got - target).abs() <= 1e-10 * scale,
            "q {q}: E_q[x] = {got:e} for {target:e}"
        );
        assert!(post.iterations > 0 && post.multipliers[0].is_finite(), "q {q}: pinned");
        assert!(post.effective_scenarios > 10.0, "q {q}: {}", post.effective_scenarios);
    }
}

#[test]
fn a_view_whose_large_values_of_both_signs_cancel_converges_to_its_rounding() {
    // sinh(8z): typical values about 10, extremes ±1e13 of both signs. Within 1e-10 of
    // the median scale is below the rounding of E_q[x] itself (E_q|x| is about 1e9),
    // and Newton ran out of iterations on a feasible view.
    let n = 20_001;
    let x: Vec<f64> = (0..n)
        .map(|i| (8.0 * crate::qmc::inv_norm((i as f64 + 0.5) / n as f64)).sinh())
        .rev()
        .enumerate()
        .map(|(i, v)| if i % 7 == 0 { 3.0 * v } else { v }) // not symmetric
        .collect();
    let p = vec![1.0; n];
    let mean_abs = x.iter().map(|v| v.abs()).sum::<f64>() / n as f64;
    for target in [0.0, 1.0, -20.0] {
        let post = ep(&p, &x, &[target], &[], &[]).unwrap();
        let got = expect(&post.q, &x);
        // the rounding floor, 1024 ε · E_q|x − b|, and E_q|x| ≤ E_p|x| here
        assert!(
            (got - target).abs() <= 1024.0 * f64::EPSILON * (mean_abs + target.abs()),
            "{target}: {got}"
        );
        assert!(post.effective_scenarios > 1_000.0);
    }
}

#[test]
fn a_view_scale_is_the_median_size_of_its_values() {
    let all = [true; 6];
    // an indicator half of whose paths are 1: the median is 0.5 (not the upper median, 1)
    assert_eq!(view_scale(&[0.0, 1.0, 0.0, 1.0, 0.0, 1.0], 0.3, &all), 0.5);
    // mostly 0: the median of the nonzero values
    assert_eq!(view_scale(&[0.0, 0.0, 0.0, 0.0, 3.0, 5.0], 0.1, &all), 4.0);
    // the target when it is larger; only the support counts
    assert_eq!(
        view_scale(
            &[1.0, 2.0, 3.0, 100.0, 100.0, 100.0],
            2.5,
            &[true, true, true, false, false, false]
        ),
        2.5
    );
}

#[test]
fn a_tiny_target_on_a_function_mostly_zero_is_met() {
    // a count that is 0 on 90% of paths: the target 1e-100 overflowed the standardised
    // view (its scale was the target itself) or never converged
    let a: Vec<f64> = (0..1000)
        .map(|i| if i % 10 == 0 { 1.0 + (i / 10 % 3) as f64 } else { 0.0 })
        .collect();
    let p = vec![1.0; a.len()];
    for target in [1e-100, 1e-300, 5e-324] {
        let post = ep(&p, &a, &[target], &[], &[]).unwrap();
        assert!((expect(&post.q, &a) - target).abs() <= 1e-10 * 2.0, "{target:e}");
    }
}

#[test]
fn a_view_on_a_function_spanning_many_orders_of_magnitude_is_met_not_pinned() {
    // a lognormal level with σ = 6 at unit median: values from about 1e-13 to 1e13.
    // A tolerance relative to max |x| (1e13 · 1e-10 = 1e3) took the target 1 for the
    // minimum and put all the weight on one scenario; the target is the median here.
    let n = 4001;
    let x: Vec<f64> = (0..n)
        .map(|i| {
            let u = (i as f64 + 0.5) / n as f64;
            (6.0 * crate::qmc::inv_norm(u)).exp()
        })
        .collect();
    let p = vec![1.0; n];
    for target in [1.0, 0.01, 100.0] {
        let post = ep(&p, &x, &[target], &[], &[]).unwrap();
        let got = expect(&post.q, &x);
        assert!(
            (got - target).abs() <= 1e-10 * target.max(1.0),
            "target {target}: E_q[x] = {got:e}"
        );
        assert!(
            post.effective_scenarios > 100.0,
            "target {target}: {}",
            post.effective_scenarios
        );
        assert!(post.multipliers[0].is_finite());
    }
}

#[test]
fn infeasible_views_are_reported() {
    let x = [0.0, 1.0, 2.0, 3.0];
    let e = ep(&[0.25; 4], &x, &[3.5], &[], &[]).unwrap_err();
    match e {
        CoreError::Numerical(m) => {
            assert!(m.contains("a_eq[0]") && m.contains("infeasible"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    let e = ep(&[0.25; 4], &[], &[], &x, &[-1.0]).unwrap_err();
    assert!(
        matches!(e, CoreError::Numerical(ref m) if m.contains("a_ie[0]")),
        "{e:?}"
    );
    // E[x] = 0.5 and P(x ≥ 2) = 0.5 contradict each other (the second forces E[x] ≥ 1)
    let ind = [0.0, 0.0, 1.0, 1.0];
    let e = ep(&[0.25; 4], &[x.as_slice(), &ind].concat(), &[0.5, 0.5], &[], &[]).unwrap_err();
    match e {
        CoreError::Numerical(m) => assert!(m.contains("jointly"), "{m}"),
        other => panic!("{other:?}"),
    }
    // the same with an inequality
    let e = ep(&[0.25; 4], &x, &[0.5], &[0.0, 0.0, -1.0, -1.0], &[-0.5]).unwrap_err();
    assert!(
        matches!(e, CoreError::Numerical(ref m) if m.contains("jointly")),
        "{e:?}"
    );
    // "the other views" only when an earlier view removed scenarios: a constant
    // view at its target removes none
    let one = [1.0; 4];
    let e = ep(&[0.25; 4], &[one.as_slice(), &x].concat(), &[1.0, 3.5], &[], &[]).unwrap_err();
    assert!(
        matches!(e, CoreError::Numerical(ref m) if m.contains("a_eq[1]") && !m.contains("other views")),
        "{e:?}"
    );
    let low = [0.0, 0.0, 1.0, 1.0];
    let e = ep(&[0.25; 4], &[low.as_slice(), &x].concat(), &[0.0, 2.5], &[], &[]).unwrap_err();
    assert!(
        matches!(e, CoreError::Numerical(ref m) if m.contains("a_eq[1]") && m.contains("other views")),
        "{e:?}"
    );
}

#[test]
fn conflicting_views_on_a_heavy_tailed_level_are_named_not_diverged() {
    // E[x] ≥ its 90% quantile and E[x] ≤ its 10% quantile on a lognormal level: the
    // Newton multipliers grow without bound before the largest values let the path's
    // certificate show, and the programme of `farkas` names the two views
    let x = lognormal_grid(5_000, 0.6);
    let p = vec![1.0 / 5_000.0; 5_000];
    let (hi, lo) = (x[4_500], x[500]);
    let neg: Vec<f64> = x.iter().map(|v| -v).collect();
    for (a_eq, b_eq, a_ie, b_ie) in [
        (vec![], vec![], [neg.as_slice(), &x].concat(), vec![-hi, lo]),
        ([x.as_slice(), &x].concat(), vec![hi, lo], vec![], vec![]),
    ] {
        match ep(&p, &a_eq, &b_eq, &a_ie, &b_ie).unwrap_err() {
            CoreError::Numerical(m) => assert!(m.starts_with("infeasible views: ") && m.contains("jointly"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
    // views that hold together are no conflict: the programme finds no proof
    let views: Vec<View> = [hi, lo]
        .iter()
        .enumerate()
        .map(|(index, &b)| View {
            a: &x,
            b,
            ineq: true,
            scale: 1.0,
            index,
        })
        .collect();
    assert_eq!(
        farkas::conflicting(&views, &vec![true; x.len()], &Control::default()),
        None
    );
    let apart: Vec<View> = vec![
        View {
            b: -hi,
            a: &neg,
            ..views[0]
        },
        views[1],
    ];
    assert_eq!(
        farkas::conflicting(&apart, &vec![true; x.len()], &Control::default()),
        Some(vec![0, 1])
    );
}

#[test]
fn bad_input_names_the_argument() {
    let e = ep(&[0.5, 0.5], &[1.0, 2.0, 3.0], &[1.0], &[], &[]).unwrap_err();
    assert!(matches!(e, CoreError::Invalid { ref path, .. } if path == "a_eq"));
    let e = ep(&[0.5, 0.5], &[1.0, f64::NAN], &[1.0], &[], &[]).unwrap_err();
    assert!(matches!(e, CoreError::Invalid { ref path, .. } if path == "a_eq"));
    let e = ep(&[0.5, -0.5], &[], &[], &[], &[]).unwrap_err();
    assert!(matches!(e, CoreError::Invalid { ref path, .. } if path == "prior"));
    let e = ep(&[0.5, 0.5], &[], &[], &[1.0, 2.0], &[f64::NAN]).unwrap_err();
    assert!(matches!(e, CoreError::Invalid { ref path, .. } if path == "b_ie"));
    let e = entropy_pooling(&[0.5, 0.5], &[], &[], &[], &[], 0, 1e-10, &Control::default()).unwrap_err();
    assert!(matches!(e, CoreError::Invalid { ref path, .. } if path == "max_iter"));
}

/// A reproducible pseudo-random value in [0, 1) (a hash of `i`).
fn unit(i: u64) -> f64 {
    (crate::qmc::mix64(i) >> 11) as f64 / (1u64 << 53) as f64
}

/// Views on n scenarios whose prior weight grows with the index, so that each
/// chunk of a task raises the task's shift (the rescaling path), some
/// scenarios off the support; k views not a multiple of the Hessian's blocks.
fn wide_problem(n: usize, k: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<bool>) {
    let support: Vec<bool> = (0..n).map(|i| i % 97 != 5).collect();
    let lnp: Vec<f64> = (0..n)
        .map(|i| {
            if support[i] {
                (1.0 + 3.0 * i as f64 / n as f64).ln()
            } else {
                f64::NEG_INFINITY
            }
        })
        .collect();
    let a: Vec<f64> = (0..k * n).map(|i| unit(i as u64) + (i / n) as f64 * 0.01).collect();
    let b: Vec<f64> = (0..k).map(|j| 0.5 + j as f64 * 0.01).collect();
    (lnp, a, b, support)
}

#[test]
fn dual_derivatives_match_the_direct_sums_across_tasks_and_panels() {
    let (n, k) = (20_000, 140); // 79 chunks in 64 tasks: some tasks sum two chunks
    let (lnp, a, b, support) = wide_problem(n, k);
    let views: Vec<View> = (0..k)
        .map(|j| View {
            a: &a[j * n..(j + 1) * n],
            b: b[j],
            ineq: false,
            scale: 0.7,
            index: j,
        })
        .collect();
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let dual = Dual::new(&views, &lnp, &cancel);
    let nu: Vec<f64> = (0..k).map(|j| 0.5 * unit(1_000_000 + j as u64) - 0.25).collect();
    let ev = dual.eval(&nu, true);

    // the direct sums with the global shift, d_ji = (a_ji − b_j)/s_j
    let d = |i: usize, j: usize| (a[j * n + i] - b[j]) / dual.s[j];
    let t: Vec<f64> = (0..n).map(|i| (0..k).map(|j| nu[j] * d(i, j)).sum()).collect();
    let m = (0..n)
        .filter(|&i| support[i])
        .map(|i| lnp[i] + t[i])
        .fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = (0..n)
        .map(|i| if support[i] { (lnp[i] + t[i] - m).exp() } else { 0.0 })
        .collect();
    let z: f64 = e.iter().sum();
    let g: Vec<f64> = (0..k)
        .map(|j| (0..n).map(|i| e[i] * d(i, j)).sum::<f64>() / z)
        .collect();
    assert!(
        (ev.phi - (m + z.ln())).abs() < 1e-12 * (1.0 + ev.phi.abs()),
        "{} vs {}",
        ev.phi,
        m + z.ln()
    );
    for (j, (got, want)) in ev.g.iter().zip(&g).enumerate() {
        assert!((got - want).abs() < 1e-12, "g[{j}]: {got} vs {want}");
    }
    for j in (0..k).step_by(7).chain([127, 128, 139]) {
        for l in 0..k {
            let h = (0..n).map(|i| e[i] * d(i, j) * d(i, l)).sum::<f64>() / z - g[j] * g[l];
            assert!(
                (ev.h[j * k + l] - h).abs() < 1e-12,
                "h[{j}, {l}]: {} vs {h}",
                ev.h[j * k + l]
            );
            assert_eq!(ev.h[j * k + l], ev.h[l * k + j], "h symmetric at ({j}, {l})");
        }
    }
}

#[test]
fn wide_views_give_the_same_bits_on_any_thread_count() {
    let (n, k) = (20_000, 140);
    let (lnp, a, b, _) = wide_problem(n, k);
    let p: Vec<f64> = lnp.iter().map(|l| l.exp()).collect();
    // targets a little away from the prior's means, so that Newton has work to do
    let total: f64 = p.iter().sum();
    let b: Vec<f64> = (0..k)
        .map(|j| (0..n).map(|i| p[i] * a[j * n + i]).sum::<f64>() / total + 0.002 * (b[j] - 0.5))
        .collect();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let control = Control::default();
            let post = entropy_pooling(&p, &a, &b, &[], &[], DEFAULT_MAX_ITER, DEFAULT_TOL, &control).unwrap();
            // the control counts the Newton iterations
            assert_eq!(control.paths_done.load(Ordering::Relaxed), post.iterations as u64);
            post
        })
    };
    let one = run(1);
    assert!(one.iterations >= 2, "{} iterations", one.iterations);
    for j in 0..k {
        // within tol of the view's scale, max |a_j| < 2.4
        assert!(
            (expect(&one.q, &a[j * n..(j + 1) * n]) - b[j]).abs() <= DEFAULT_TOL * 2.4,
            "view {j}"
        );
    }
    for threads in [2, 3, 8] {
        let other = run(threads);
        assert_eq!(other.iterations, one.iterations);
        assert!(
            other.q.iter().zip(&one.q).all(|(x, y)| x.to_bits() == y.to_bits()),
            "{threads} threads"
        );
        assert!(other
            .multipliers
            .iter()
            .zip(&one.multipliers)
            .all(|(x, y)| x.to_bits() == y.to_bits()));
    }
}

#[test]
fn a_cancelled_solve_stops_with_cancelled() {
    let (n, k) = (5_000, 20);
    let (lnp, a, _, _) = wide_problem(n, k);
    let p: Vec<f64> = lnp.iter().map(|l| l.exp()).collect();
    let b: Vec<f64> = (0..k).map(|j| 0.5 + j as f64 * 0.01 + 0.001).collect();
    let control = Control::default();
    control.cancel.store(true, Ordering::Relaxed);
    let e = entropy_pooling(&p, &a, &b, &[], &[], DEFAULT_MAX_ITER, DEFAULT_TOL, &control).unwrap_err();
    assert!(matches!(e, CoreError::Cancelled), "{e}");
    assert_eq!(control.paths_done.load(Ordering::Relaxed), 0);
    // the same problem solves when not cancelled
    let post = entropy_pooling(&p, &a, &b, &[], &[], DEFAULT_MAX_ITER, DEFAULT_TOL, &Control::default()).unwrap();
    assert!(post.iterations >= 1);
}
