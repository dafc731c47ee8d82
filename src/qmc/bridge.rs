//! Brownian bridge construction of a path on the unit grid t = 0, 1, …, H.
//!
//! The first normal builds the end point, W(H) = sqrt(H)·Z_0; each later one
//! fills the middle of a gap between two points already built, from the
//! conditional law of a Brownian motion (Glasserman, "Monte Carlo Methods in
//! Financial Engineering", 2004, §3.1.2):
//!
//! W(t_l) | W(t_a), W(t_b) ~ N( ((t_b − t_l)·W(t_a) + (t_l − t_a)·W(t_b)) / (t_b − t_a),
//!                              (t_l − t_a)(t_b − t_l) / (t_b − t_a) ).
//!
//! Gaps are filled breadth-first, left to right, at t_l = t_a + ⌊(t_b − t_a)/2⌋:
//! for H = 2^n this is the standard order T, T/2, T/4, 3T/4, T/8, …; for other
//! H it is the general construction of Jäckel ("Monte Carlo Methods in
//! Finance", 2002, §10.8.3). The first normals, which QMC integrates best,
//! thus carry the large-scale moves of the path (Moskowitz & Caflisch 1996).

/// One step of the construction: W\[point\] from its neighbours and one normal.
#[derive(Clone, Copy, Debug)]
struct Step {
    /// Point built (0-based: point p is time p + 1).
    point: usize,
    /// Left neighbour's point, or `None` for W(0) = 0.
    left: Option<usize>,
    /// Right neighbour's point (always built before).
    right: usize,
    w_left: f64,
    w_right: f64,
    sd: f64,
}

/// The construction order and weights of an H-step bridge, fixed once.
#[derive(Clone, Debug)]
pub(crate) struct Bridge {
    /// Steps 1..H in construction order (step 0, W(H) = sqrt(H)·Z_0, is implicit).
    steps: Vec<Step>,
    horizon: usize,
    sqrt_horizon: f64,
}

impl Bridge {
    /// The bridge over `horizon ≥ 1` unit steps.
    pub(crate) fn new(horizon: usize) -> Bridge {
        let mut steps = Vec::with_capacity(horizon.saturating_sub(1));
        // breadth-first queue of gaps (t_a, t_b) between built times
        let mut queue = std::collections::VecDeque::new();
        queue.push_back((0usize, horizon));
        while let Some((ta, tb)) = queue.pop_front() {
            if tb - ta < 2 {
                continue;
            }
            let tl = ta + (tb - ta) / 2;
            let (a, l, b) = (ta as f64, tl as f64, tb as f64);
            steps.push(Step {
                point: tl - 1,
                left: ta.checked_sub(1),
                right: tb - 1,
                w_left: (b - l) / (b - a),
                w_right: (l - a) / (b - a),
                sd: ((l - a) * (b - l) / (b - a)).sqrt(),
            });
            queue.push_back((ta, tl));
            queue.push_back((tl, tb));
        }
        Bridge {
            steps,
            horizon,
            sqrt_horizon: (horizon as f64).sqrt(),
        }
    }

    /// Point (0-based) built by normal k of the construction.
    pub(crate) fn point_of(&self, k: usize) -> usize {
        if k == 0 {
            self.horizon - 1
        } else {
            self.steps[k - 1].point
        }
    }

    /// In place, for each of `d` interleaved paths: on entry `w[p*d + j]` holds
    /// the normal that builds point p of path j; on exit it holds the unit
    /// increment W_j(p + 1) − W_j(p).
    #[inline(always)]
    pub(crate) fn apply(&self, w: &mut [f64], d: usize) {
        let h = self.horizon;
        debug_assert_eq!(w.len(), h * d);
        let end = (h - 1) * d;
        for x in &mut w[end..end + d] {
            *x *= self.sqrt_horizon;
        }
        for s in &self.steps {
            let (l, r) = (s.point * d, s.right * d);
            match s.left {
                Some(a) => {
                    let a = a * d;
                    for j in 0..d {
                        w[l + j] = (s.w_left * w[a + j] + s.w_right * w[r + j]) + s.sd * w[l + j];
                    }
                }
                None => {
                    for j in 0..d {
                        w[l + j] = s.w_right * w[r + j] + s.sd * w[l + j];
                    }
                }
            }
        }
        // increments, last step first
        for p in (1..h).rev() {
            let (prev, cur) = w[(p - 1) * d..(p + 1) * d].split_at_mut(d);
            for (c, v) in cur.iter_mut().zip(prev.iter()) {
                *c -= *v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_of_two_order_is_standard() {
        let b = Bridge::new(8);
        let times: Vec<usize> = (0..8).map(|k| b.point_of(k) + 1).collect();
        assert_eq!(times, [8, 4, 2, 6, 1, 3, 5, 7]);
    }

    #[test]
    fn every_point_is_built_once_from_built_neighbours() {
        for h in 1..=70 {
            let b = Bridge::new(h);
            let mut built = vec![false; h];
            for k in 0..h {
                let p = b.point_of(k);
                assert!(!built[p], "h {h}");
                if k > 0 {
                    let s = b.steps[k - 1];
                    assert!(built[s.right] && s.left.is_none_or(|a| built[a]));
                }
                built[p] = true;
            }
            assert!(built.iter().all(|&x| x));
        }
    }

    #[test]
    fn bridge_covariance_is_brownian() {
        // the linear map z → W has W Wᵀ = min(s, t): check by pushing unit vectors
        let h = 13;
        let b = Bridge::new(h);
        let mut cols = Vec::new();
        for k in 0..h {
            let mut w = vec![0.0; h];
            w[b.point_of(k)] = 1.0;
            b.apply(&mut w, 1);
            // back to levels
            let mut lvl = 0.0;
            for x in &mut w {
                lvl += *x;
                *x = lvl;
            }
            cols.push(w);
        }
        for s in 0..h {
            for t in 0..h {
                let c: f64 = cols.iter().map(|w| w[s] * w[t]).sum();
                assert!((c - (s.min(t) + 1) as f64).abs() < 1e-12, "({s}, {t}): {c}");
            }
        }
    }
}
