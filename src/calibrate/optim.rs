//! Derivative-free minimisation (Nelder–Mead with restarts) and a
//! central-difference Hessian, for the likelihoods of this module.

use std::sync::atomic::{AtomicBool, Ordering};

/// Outcome of [`minimize`].
#[derive(Debug, Clone)]
pub(crate) struct Minimum {
    pub x: Vec<f64>,
    pub f: f64,
    pub evals: usize,
    pub converged: bool,
}

/// Nelder–Mead (Nelder & Mead 1965; coefficients 1, 2, ½, ½) from `x0` with
/// an initial simplex of side `step`. Non-finite values count as +∞, so a
/// function may refuse points outside its domain by returning NaN or ∞.
/// Stops, unconverged, at the first iteration after `cancel` is set.
fn nelder_mead<F: FnMut(&[f64]) -> f64>(
    f: &mut F,
    x0: &[f64],
    step: f64,
    max_evals: usize,
    cancel: &AtomicBool,
) -> Minimum {
    const FTOL: f64 = 1e-13;
    const XTOL: f64 = 1e-10;
    let d = x0.len();
    let mut evals = 0usize;
    let mut eval = |x: &[f64], evals: &mut usize| {
        *evals += 1;
        let v = f(x);
        if v.is_finite() {
            v
        } else {
            f64::INFINITY
        }
    };
    let mut pts: Vec<Vec<f64>> = Vec::with_capacity(d + 1);
    pts.push(x0.to_vec());
    for i in 0..d {
        let mut p = x0.to_vec();
        p[i] += step;
        pts.push(p);
    }
    let mut vals: Vec<f64> = pts.iter().map(|p| eval(p, &mut evals)).collect();
    let mut order: Vec<usize> = (0..=d).collect();
    let mut centroid = vec![0.0; d];
    let mut trial = vec![0.0; d];
    let mut trial2 = vec![0.0; d];
    let mut converged = false;
    while evals < max_evals && !cancel.load(Ordering::Relaxed) {
        order.sort_by(|&i, &j| vals[i].total_cmp(&vals[j]));
        let (best, worst, second) = (order[0], order[d], order[d - 1]);
        let spread = vals[worst] - vals[best];
        let size = pts
            .iter()
            .map(|p| p.iter().zip(&pts[best]).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max))
            .fold(0.0, f64::max);
        if vals[best].is_finite() && spread <= FTOL * (1.0 + vals[best].abs()) && size <= XTOL {
            converged = true;
            break;
        }
        centroid.iter_mut().for_each(|c| *c = 0.0);
        for &i in &order[..d] {
            for (c, p) in centroid.iter_mut().zip(&pts[i]) {
                *c += p / d as f64;
            }
        }
        // reflection
        for k in 0..d {
            trial[k] = centroid[k] + (centroid[k] - pts[worst][k]);
        }
        let fr = eval(&trial, &mut evals);
        if fr < vals[best] {
            // expansion
            for k in 0..d {
                trial2[k] = centroid[k] + 2.0 * (centroid[k] - pts[worst][k]);
            }
            let fe = eval(&trial2, &mut evals);
            if fe < fr {
                pts[worst].copy_from_slice(&trial2);
                vals[worst] = fe;
            } else {
                pts[worst].copy_from_slice(&trial);
                vals[worst] = fr;
            }
            continue;
        }
        if fr < vals[second] {
            pts[worst].copy_from_slice(&trial);
            vals[worst] = fr;
            continue;
        }
        // contraction (outside if the reflection improved on the worst, else inside)
        let outside = fr < vals[worst];
        for k in 0..d {
            let towards = if outside { trial[k] } else { pts[worst][k] };
            trial2[k] = centroid[k] + 0.5 * (towards - centroid[k]);
        }
        let fc = eval(&trial2, &mut evals);
        if fc < if outside { fr } else { vals[worst] } {
            pts[worst].copy_from_slice(&trial2);
            vals[worst] = fc;
            continue;
        }
        // shrink towards the best point
        let xb = pts[best].clone();
        for &i in &order[1..] {
            for k in 0..d {
                pts[i][k] = xb[k] + 0.5 * (pts[i][k] - xb[k]);
            }
            vals[i] = eval(&pts[i], &mut evals);
        }
    }
    let best = (0..=d).min_by(|&i, &j| vals[i].total_cmp(&vals[j])).unwrap_or(0);
    Minimum {
        x: pts[best].clone(),
        f: vals[best],
        evals,
        converged,
    }
}

/// Nelder–Mead restarted from its own optimum (with a fresh simplex) until a
/// restart no longer improves the value, which guards against the method's
/// premature collapse. Stops at the first iteration after `cancel` is set (the
/// caller, which set it on Ctrl-C, discards the result).
pub(crate) fn minimize<F: FnMut(&[f64]) -> f64>(
    f: &mut F,
    x0: &[f64],
    step: f64,
    max_evals: usize,
    cancel: &AtomicBool,
) -> Minimum {
    let mut best = nelder_mead(f, x0, step, max_evals, cancel);
    let mut evals = best.evals;
    for _ in 0..20 {
        if evals >= max_evals || cancel.load(Ordering::Relaxed) {
            break;
        }
        let next = nelder_mead(f, &best.x, step * 0.2, max_evals - evals, cancel);
        evals += next.evals;
        let improved = best.f - next.f;
        if next.f < best.f {
            best = Minimum { evals, ..next };
        }
        let tol = 1e-11 * (1.0 + best.f.abs());
        if improved.is_nan() || improved <= tol {
            // a restart that no longer improves confirms the optimum
            best.converged = best.converged || improved.abs() <= tol;
            break;
        }
    }
    best.evals = evals;
    best
}

/// Central-difference Hessian (row-major d×d) of `f` at `x`, steps
/// h_i = 1e-4·max(1, |x_i|).
pub(crate) fn hessian<F: FnMut(&[f64]) -> f64>(f: &mut F, x: &[f64]) -> Vec<f64> {
    let d = x.len();
    let h: Vec<f64> = x.iter().map(|v| 1e-4 * v.abs().max(1.0)).collect();
    let f0 = f(x);
    let mut p = x.to_vec();
    let mut out = vec![0.0; d * d];
    for i in 0..d {
        p[i] = x[i] + h[i];
        let fp = f(&p);
        p[i] = x[i] - h[i];
        let fm = f(&p);
        p[i] = x[i];
        out[i * d + i] = (fp - 2.0 * f0 + fm) / (h[i] * h[i]);
        for j in 0..i {
            let mut corner = |si: f64, sj: f64, p: &mut Vec<f64>| {
                p[i] = x[i] + si * h[i];
                p[j] = x[j] + sj * h[j];
                let v = f(p);
                p[i] = x[i];
                p[j] = x[j];
                v
            };
            let v = (corner(1.0, 1.0, &mut p) - corner(1.0, -1.0, &mut p) - corner(-1.0, 1.0, &mut p)
                + corner(-1.0, -1.0, &mut p))
                / (4.0 * h[i] * h[j]);
            out[i * d + j] = v;
            out[j * d + i] = v;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_rosenbrock_minimum() {
        let mut f = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let m = minimize(&mut f, &[-1.2, 1.0], 0.5, 20_000, &AtomicBool::new(false));
        assert!((m.x[0] - 1.0).abs() < 1e-5 && (m.x[1] - 1.0).abs() < 1e-5, "{m:?}");
        assert!(m.converged);
    }

    #[test]
    fn a_cancelled_minimisation_stops_at_its_next_iteration() {
        let cancel = AtomicBool::new(false);
        let mut calls = 0;
        let mut f = |x: &[f64]| {
            calls += 1;
            if calls == 50 {
                cancel.store(true, Ordering::Relaxed);
            }
            (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2)
        };
        let m = minimize(&mut f, &[-1.2, 1.0], 0.5, 20_000, &cancel);
        // an iteration evaluates at most d + 1 = 3 points (a shrink)
        assert!(!m.converged && (50..=53).contains(&m.evals), "{m:?}");
    }

    #[test]
    fn hessian_of_a_quadratic_is_exact() {
        let mut f = |x: &[f64]| 3.0 * x[0] * x[0] + 2.0 * x[0] * x[1] + 0.5 * x[1] * x[1] + x[2];
        let h = hessian(&mut f, &[0.3, -2.0, 5.0]);
        let want = [6.0, 2.0, 0.0, 2.0, 1.0, 0.0, 0.0, 0.0, 0.0];
        for (a, b) in h.iter().zip(want) {
            assert!((a - b).abs() < 1e-5, "{h:?}");
        }
    }
}
