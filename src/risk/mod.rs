//! Weighted risk statistics of simulated samples (MODEL.md §6).
//!
//! Every statistic takes a sample `x` and path weights `w` (nonnegative, with
//! a positive sum; they are normalised internally, so `p_i = w_i / Σ_j w_j`).
//! Losses are `L = −pnl`. Quantiles use the inverted CDF, and VaR/CVaR are
//! exact for discrete samples: ties and a fractional weight at the VaR atom
//! are handled by the Rockafellar–Uryasev formula.
//!
//! The per-scenario table with each scenario's share of the CVaR tail lives in
//! [`table`].

pub mod influence;
pub mod table;
pub mod weighted;

use rayon::prelude::*;

use crate::error::{CoreError, Result};

pub use table::{risk_table, risk_tables, RiskRow};

/// Check a sample: non-empty, every value finite.
pub(crate) fn check_sample(x: &[f64], name: &str) -> Result<()> {
    if x.is_empty() {
        return Err(CoreError::invalid(name, "must not be empty"));
    }
    match crate::scan::first_where(x, |v| !v.is_finite()) {
        Some(i) => Err(CoreError::invalid(
            name,
            format!("must be finite, got {} at index {i}", x[i]),
        )),
        None => Ok(()),
    }
}

/// Check path weights against a sample of length `n`; returns `Σ w`.
///
/// Rules: `len(w) = n`, every `w_i` finite and `≥ 0`, `Σ w > 0`.
pub(crate) fn check_weights(w: &[f64], n: usize, name: &str) -> Result<f64> {
    if w.len() != n {
        return Err(CoreError::invalid(
            name,
            format!("must have length {n} (one weight per sample), got {}", w.len()),
        ));
    }
    if let Some(i) = crate::scan::first_where(w, |v| !v.is_finite() || *v < 0.0) {
        return Err(CoreError::invalid(
            name,
            format!("must be finite and nonnegative, got {} at index {i}", w[i]),
        ));
    }
    let total = crate::sum::sum(w);
    if !(total > 0.0 && total.is_finite()) {
        return Err(CoreError::invalid(
            name,
            format!("must have a positive finite sum, got {total}"),
        ));
    }
    Ok(total)
}

/// Check a tail level `alpha ∈ (0, 1)`.
pub(crate) fn check_alpha(alpha: f64) -> Result<()> {
    if alpha > 0.0 && alpha < 1.0 {
        Ok(())
    } else {
        Err(CoreError::invalid("alpha", format!("must be in (0, 1), got {alpha}")))
    }
}

/// The (value, weight) pairs with positive weight, sorted by value.
fn sorted_pairs(x: &[f64], w: &[f64]) -> Vec<(f64, f64)> {
    // `+ 0.0` maps −0.0 to +0.0 so that equal values sort together
    let mut pairs: Vec<(f64, f64)> = x
        .iter()
        .zip(w)
        .filter(|(_, &wi)| wi > 0.0)
        .map(|(&xi, &wi)| (xi + 0.0, wi))
        .collect();
    if pairs.len() > 1 << 15 {
        pairs.par_sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    } else {
        pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    }
    pairs
}

/// Inverted-CDF quantile of sorted positive-weight pairs: the first `x_(i)`
/// with `Σ_{j≤i} w_(j) ≥ q · Σ_j w_(j) · (1 − 1e-12)` (the last one if rounding
/// leaves none). The relative tolerance is the summaries' and `gs.stats`'
/// (`summary::quantile`): a CDF that reaches q up to rounding reaches q, as it
/// does exactly for equal weights in any order. The sums are compensated
/// ([`Compensated`]), so that their own rounding stays far below the tolerance:
/// a plain running sum of 95,000 weights of 1e-5 ended 2e-12 (relative) below
/// 0.95 of the total, and the VaR at 0.95 of 100,000 equal weights was the
/// 95,001st loss, not the 95,000th.
fn quantile_sorted(pairs: &[(f64, f64)], q: f64) -> f64 {
    let mut total = Compensated::default();
    pairs.iter().for_each(|p| total.add(p.1));
    let target = q * total.value() * (1.0 - 1e-12);
    let mut cum = Compensated::default();
    for &(x, w) in pairs {
        cum.add(w);
        if cum.value() >= target {
            return x;
        }
    }
    // the last value (NaN for no values: the callers check their weights first)
    pairs.last().map_or(f64::NAN, |p| p.0)
}

/// A running sum with Neumaier's compensation (Neumaier, "Rundungsfehleranalyse
/// einiger Verfahren zur Summation endlicher Summen", ZAMM 54, 1974): the
/// rounding error of each addition is found exactly and added up apart, so the
/// value is within about one rounding of the exact sum of nonnegative terms
/// (a plain running sum of n terms drifts by up to n roundings).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Compensated {
    sum: f64,
    err: f64,
}

impl Compensated {
    pub(crate) fn add(&mut self, x: f64) {
        let t = self.sum + x;
        self.err += if self.sum.abs() >= x.abs() {
            (self.sum - t) + x
        } else {
            (x - t) + self.sum
        };
        self.sum = t;
    }

    pub(crate) fn value(&self) -> f64 {
        self.sum + self.err
    }
}

/// Weighted mean: `m = Σ_i w_i x_i / Σ_i w_i` ([`weighted`]).
pub fn mean(x: &[f64], w: &[f64]) -> Result<f64> {
    Ok(moments(x, w, false)?.0)
}

/// Weighted standard deviation without small-sample correction:
/// `s = sqrt(Σ_i w_i (x_i − m)² / Σ_i w_i)`, `m` the weighted mean ([`weighted`]).
pub fn std(x: &[f64], w: &[f64]) -> Result<f64> {
    Ok(moments(x, w, true)?.1)
}

/// [`weighted::weighted_moments`] of a checked sample.
fn moments(x: &[f64], w: &[f64], std: bool) -> Result<(f64, f64)> {
    check_sample(x, "x")?;
    check_weights(w, x.len(), "weights")?;
    weighted::weighted_moments(x, w, std).ok_or_else(|| CoreError::invalid("weights", "must have a positive sum"))
}

/// Weighted quantile by the inverted CDF: the smallest sample value `x` with
/// `F(x) = Σ_{x_i ≤ x} w_i / Σ_i w_i ≥ q`, over samples with positive weight.
/// `q ∈ [0, 1]`; `q = 0` gives the smallest such value.
pub fn quantile(x: &[f64], w: &[f64], q: f64) -> Result<f64> {
    check_sample(x, "x")?;
    check_weights(w, x.len(), "weights")?;
    if !(0.0..=1.0).contains(&q) {
        return Err(CoreError::invalid("q", format!("must be in [0, 1], got {q}")));
    }
    Ok(quantile_sorted(&sorted_pairs(x, w), q))
}

/// Value at risk and conditional value at risk of a P&L sample at level `alpha`.
///
/// With losses `L = −pnl`: `VaR_α = F_L⁻¹(α)` (inverted-CDF α-quantile of `L`)
/// and, after Rockafellar–Uryasev,
/// `CVaR_α = VaR_α + E_w[(L − VaR_α)⁺] / (1 − α)`,
/// which is exact for discrete samples, with ties and with the fractional
/// weight of the VaR atom. `alpha ∈ (0, 1)`; returns `(VaR, CVaR)`, `VaR ≤ CVaR`.
pub fn var_cvar(pnl: &[f64], w: &[f64], alpha: f64) -> Result<(f64, f64)> {
    check_sample(pnl, "pnl")?;
    let total = check_weights(w, pnl.len(), "weights")?;
    check_alpha(alpha)?;
    let loss: Vec<f64> = pnl.iter().map(|p| -p + 0.0).collect();
    let var = quantile_sorted(&sorted_pairs(&loss, w), alpha);
    // CVaR = VaR + E[(L − VaR)⁺] / (1 − α) (Rockafellar–Uryasev), written as the
    // convex combination λ·E[L | L > VaR] + (1 − λ)·VaR with λ = P(L > VaR) / (1 − α)
    // and normalised weights: it stays finite however large the weights and the
    // losses (w_i·(L_i − VaR) could overflow)
    let (mut mass, mut tail) = (0.0, 0.0);
    for (&l, &wi) in loss.iter().zip(w) {
        if l > var {
            let p = wi / total;
            mass += p;
            tail += p * l;
        }
    }
    let cvar = if mass > 0.0 {
        let lambda = (mass / (1.0 - alpha)).min(1.0);
        lambda * (tail / mass) + (1.0 - lambda) * var
    } else {
        var
    };
    Ok((var, cvar.max(var)))
}

/// Probability of a loss: `P_w(pnl < 0) = Σ_{pnl_i < 0} w_i / Σ_i w_i`.
pub fn prob_loss(pnl: &[f64], w: &[f64]) -> Result<f64> {
    check_sample(pnl, "pnl")?;
    let total = check_weights(w, pnl.len(), "weights")?;
    Ok(pnl
        .iter()
        .zip(w)
        .filter(|(p, _)| **p < 0.0)
        .map(|(_, wi)| wi)
        .sum::<f64>()
        / total)
}

/// Maximum drawdown of one NAV path: `max_t (1 − NAV_t / max_{s≤t} NAV_s)`.
///
/// Rules: at least one value, all finite, `NAV_0 > 0` (so the running peak is
/// positive). A path that never falls has drawdown 0; a NAV reaching 0 has 1.
pub fn max_drawdown(nav: &[f64]) -> Result<f64> {
    check_sample(nav, "nav")?;
    if nav[0] <= 0.0 {
        return Err(CoreError::invalid(
            "nav",
            format!("the first value must be positive, got {}", nav[0]),
        ));
    }
    Ok(drawdown_row(nav))
}

/// `max_t (1 − NAV_t / peak_t)` for a validated row.
fn drawdown_row(nav: &[f64]) -> f64 {
    let mut out = [0.0];
    drawdowns_into(nav.len(), |_, m| nav[m], &mut out);
    out[0]
}

/// The larger of `a` and `b` in one comparison (the chains of running maxima below
/// are latency-bound): `a` when `b` is NaN, as `f64::max`; `a` is never NaN here.
#[inline(always)]
fn larger(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}

/// Paths `r0..r0 + L` of [`drawdowns_into`], advanced month by month together.
#[inline(always)]
fn drawdown_lanes<const L: usize>(r0: usize, len: usize, nav: &impl Fn(usize, usize) -> f64, out: &mut [f64]) {
    let mut peak = [0.0; L];
    for (i, p) in peak.iter_mut().enumerate() {
        *p = nav(r0 + i, 0);
    }
    let mut dd = [0.0f64; L];
    for m in 0..len {
        for i in 0..L {
            let v = nav(r0 + i, m);
            peak[i] = larger(peak[i], v);
            dd[i] = larger(dd[i], 1.0 - v / peak[i]);
        }
    }
    out[r0..r0 + L].copy_from_slice(&dd);
}

/// The maximum drawdowns `max_m (1 − NAV_m / max_{s≤m} NAV_s)` of `out.len()` NAV
/// paths over months `0..len`, `nav(r, m)` being path r's NAV at month m (the first
/// positive). Eight paths advance together, so that eight independent chains of
/// running maxima hide the division's latency (4× faster than path by path in cache);
/// each result has the bits of its path computed alone. Streamed summaries use it
/// too, so that their drawdowns have the bits of [`max_drawdown_rows`].
pub(crate) fn drawdowns_into(len: usize, nav: impl Fn(usize, usize) -> f64, out: &mut [f64]) {
    let n = out.len();
    if len == 0 {
        out.fill(0.0);
        return;
    }
    let mut r = 0;
    while r + 8 <= n {
        drawdown_lanes::<8>(r, len, &nav, out);
        r += 8;
    }
    while r < n {
        drawdown_lanes::<1>(r, len, &nav, out);
        r += 1;
    }
}

/// Maximum drawdown of each row of an `(n, t)` row-major NAV array (see
/// [`max_drawdown`]), rows split across rayon; returns `n` values.
pub fn max_drawdown_rows(nav: &[f64], n: usize, t: usize) -> Result<Vec<f64>> {
    if t == 0 {
        return Err(CoreError::invalid("nav", "must have at least one column"));
    }
    if nav.len() != n.saturating_mul(t) {
        return Err(CoreError::invalid(
            "nav",
            format!("has {} values, expected {n} × {t}", nav.len()),
        ));
    }
    if let Some(i) = crate::scan::first_where(nav, |v| !v.is_finite()) {
        return Err(CoreError::invalid(
            "nav",
            format!("must be finite, got {} at row {}, column {}", nav[i], i / t, i % t),
        ));
    }
    if let Some(r) = crate::scan::first_index(n, |r| nav[r * t] <= 0.0) {
        return Err(CoreError::invalid(
            "nav",
            format!(
                "the first value of each row must be positive, got {} at row {r}",
                nav[r * t]
            ),
        ));
    }
    let mut out = vec![0.0; n];
    out.par_chunks_mut(256).enumerate().for_each(|(c, o)| {
        let rows = &nav[c * 256 * t..];
        drawdowns_into(t, |r, m| rows[r * t + m], o);
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_is_the_inverted_cdf() {
        let x = [3.0, 1.0, 2.0, 2.0, 5.0];
        let w = [1.0, 1.0, 1.0, 1.0, 1.0];
        assert_eq!(quantile(&x, &w, 0.0).unwrap(), 1.0);
        assert_eq!(quantile(&x, &w, 0.2).unwrap(), 1.0);
        assert_eq!(quantile(&x, &w, 0.21).unwrap(), 2.0);
        assert_eq!(quantile(&x, &w, 0.6).unwrap(), 2.0);
        assert_eq!(quantile(&x, &w, 0.61).unwrap(), 3.0);
        assert_eq!(quantile(&x, &w, 1.0).unwrap(), 5.0);
        // zero weights never become the quantile
        assert_eq!(quantile(&[0.0, 9.0], &[0.0, 1.0], 0.0).unwrap(), 9.0);
    }

    #[test]
    fn mean_and_std_are_weighted() {
        let x = [1.0, 3.0];
        let w = [3.0, 1.0];
        assert!((mean(&x, &w).unwrap() - 1.5).abs() < 1e-15);
        // variance = 0.75·0.25 + 0.25·2.25 = 0.75
        assert!((std(&x, &w).unwrap() - 0.75f64.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn var_cvar_stays_finite_for_huge_weights_and_losses() {
        // w_i·(L_i − VaR) overflowed here (a case found by the fuzz test). VaR is the
        // gain's loss (its mass falls short of 1/2 by less than the quantile's 1e-12
        // allowance); the tail above it is the zero loss, of mass 1/2, so CVaR = 0
        let (var, cvar) = var_cvar(
            &[0.0, 5.857427807082481e291],
            &[3.0690828706222276e16, 3.0690828706160892e16],
            0.5,
        )
        .unwrap();
        assert_eq!(
            (var, cvar),
            (-5.857427807082481e291, 0.0),
            "VaR is the gain, the tail mean the zero loss"
        );
        // losses ±1e308: CVaR at 0.5 is the larger loss, without overflowing L − VaR
        let (var, cvar) = var_cvar(&[1e308, -1e308], &[1.0, 1.0], 0.5).unwrap();
        assert_eq!((var, cvar), (-1e308, 1e308));
        // the same sample scaled by 2^-900 gives the same answer scaled (no overflow path)
        let s = 2f64.powi(-900);
        let (v2, c2) = var_cvar(&[1e308 * s, -1e308 * s], &[1.0, 1.0], 0.5).unwrap();
        assert_eq!((v2, c2), (-1e308 * s, 1e308 * s));
    }

    #[test]
    fn var_cvar_with_a_fractional_atom() {
        // losses 1, 2, 3, 4 with probability 1/4 each; alpha = 0.6:
        // VaR = 3 (F(2) = 0.5 < 0.6 ≤ F(3) = 0.75); the tail of mass 0.4 holds
        // 0.25 at 4 and 0.15 at 3: CVaR = (4·0.25 + 3·0.15)/0.4 = 3.625
        let pnl = [-1.0, -2.0, -3.0, -4.0];
        let w = [1.0; 4];
        let (var, cvar) = var_cvar(&pnl, &w, 0.6).unwrap();
        assert_eq!(var, 3.0);
        assert!((cvar - 3.625).abs() < 1e-14);
        // at an exact CDF step the tail is the atoms above
        let (var, cvar) = var_cvar(&pnl, &w, 0.75).unwrap();
        assert_eq!(var, 3.0);
        assert!((cvar - 4.0).abs() < 1e-14);
    }

    #[test]
    fn equal_weights_reach_a_level_at_its_order_statistic() {
        // 100,000 weights of 1e-5 (n·α whole): the CDF reaches 0.95 at the 95,000th
        // loss; a plain running sum fell 2e-12 (relative) short and took the next
        let n = 100_000;
        let loss: Vec<f64> = (0..n).map(|i| ((i * 7_919) % n) as f64).collect(); // 0..n shuffled
        let pnl: Vec<f64> = loss.iter().map(|l| -l).collect();
        for (weight, q) in [(1e-5, 0.95), (1e-5, 0.99), (0.1, 0.5), (1.0 / 3.0, 0.9)] {
            let w = vec![weight; n];
            let k = (q * n as f64).round();
            assert_eq!(var_cvar(&pnl, &w, q).unwrap().0, k - 1.0, "{weight} {q}");
            assert_eq!(quantile(&loss, &w, q).unwrap(), k - 1.0, "{weight} {q}");
        }
    }

    #[test]
    fn a_compensated_sum_holds_what_a_plain_one_drops() {
        let mut c = Compensated::default();
        let mut plain = 0.0;
        for x in std::iter::once(1.0).chain(std::iter::repeat_n(1e-16, 1_000)) {
            c.add(x);
            plain += x;
        }
        assert_eq!(plain, 1.0); // each 1e-16 is below half an ulp of 1
        assert_eq!(c.value(), 1.0 + 1e-13);
    }

    #[test]
    fn bad_input_names_the_parameter() {
        let e = var_cvar(&[1.0, f64::NAN], &[1.0, 1.0], 0.9).unwrap_err();
        assert!(matches!(e, CoreError::Invalid { ref path, .. } if path == "pnl"));
        let e = var_cvar(&[1.0, 2.0], &[1.0, -1.0], 0.9).unwrap_err();
        assert!(matches!(e, CoreError::Invalid { ref path, .. } if path == "weights"));
        let e = var_cvar(&[1.0, 2.0], &[0.0, 0.0], 0.9).unwrap_err();
        assert!(matches!(e, CoreError::Invalid { ref path, .. } if path == "weights"));
        let e = var_cvar(&[1.0, 2.0], &[1.0, 1.0], 1.0).unwrap_err();
        assert!(matches!(e, CoreError::Invalid { ref path, .. } if path == "alpha"));
        let e = quantile(&[], &[], 0.5).unwrap_err();
        assert!(matches!(e, CoreError::Invalid { ref path, .. } if path == "x"));
        let e = max_drawdown_rows(&[1.0, 2.0, 0.0, 1.0], 2, 2).unwrap_err();
        assert!(matches!(e, CoreError::Invalid { ref path, .. } if path == "nav"));
    }

    #[test]
    fn drawdown_of_known_paths() {
        assert_eq!(max_drawdown(&[1.0, 2.0, 1.0, 3.0, 2.4]).unwrap(), 0.5);
        assert_eq!(max_drawdown(&[1.0, 1.1, 1.2]).unwrap(), 0.0);
        let rows = max_drawdown_rows(&[1.0, 0.5, 1.0, 2.0, 1.5, 3.0], 2, 3).unwrap();
        assert_eq!(rows, vec![0.5, 0.25]);
    }

    #[test]
    fn drawdowns_eight_at_a_time_have_the_bits_of_one_path_alone() {
        // 8 + 8 + 3 paths (the eight-path lanes and the tail), against the definition
        // computed path by path with f64::max
        let (n, t) = (19, 13);
        let mut x = 0.37_f64;
        let nav: Vec<f64> = (0..n * t)
            .map(|i| {
                x = (x * 3.9 * (1.0 - x)).clamp(1e-9, 1.0 - 1e-9); // logistic map, chaotic
                if i % t == 0 {
                    1.0
                } else {
                    0.5 + x
                }
            })
            .collect();
        let got = max_drawdown_rows(&nav, n, t).unwrap();
        let mut out = vec![0.0; n];
        drawdowns_into(t, |r, m| nav[r * t + m], &mut out);
        for r in 0..n {
            let row = &nav[r * t..(r + 1) * t];
            let (mut peak, mut want) = (row[0], 0.0_f64);
            for &v in row {
                peak = peak.max(v);
                want = want.max(1.0 - v / peak);
            }
            assert!(want > 0.0);
            assert_eq!(got[r].to_bits(), want.to_bits(), "row {r}");
            assert_eq!(out[r].to_bits(), want.to_bits(), "row {r}");
        }
    }

    #[test]
    fn prob_loss_counts_strict_losses() {
        assert_eq!(prob_loss(&[-1.0, 0.0, 1.0, -2.0], &[1.0, 1.0, 1.0, 1.0]).unwrap(), 0.5);
    }
}
