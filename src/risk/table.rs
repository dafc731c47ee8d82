//! The per-scenario risk table of one or several strategies, with each
//! scenario's share of the overall CVaR tail.
//!
//! One sort of the losses per strategy serves every row: walking the sorted
//! losses with one running weight per scenario finds each scenario's VaR and
//! the overall VaR in the same pass. Strategies run in parallel.

use rayon::prelude::*;

use super::{check_alpha, check_sample, check_weights, Compensated};
use crate::error::{CoreError, Result};

/// Largest number of scenarios a table accepts.
pub const MAX_SCENARIOS: usize = 1 << 20;

/// One row of a risk table: the statistics of a strategy's P&L conditional on
/// one scenario (or on all paths, `scenario == n_scenarios`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RiskRow {
    /// Scenario index; `n_scenarios` for the row over all paths.
    pub scenario: usize,
    /// Probability mass `P(scenario = k) = Σ_{s_i = k} w_i / Σ_i w_i` (1 for "all").
    pub probability: f64,
    /// Conditional weighted mean of the P&L.
    pub mean: f64,
    /// Conditional weighted standard deviation (no small-sample correction).
    pub std: f64,
    /// Conditional VaR_α of the loss `−pnl` (inverted-CDF α-quantile).
    pub var: f64,
    /// Conditional CVaR_α = VaR_α + E[(L − VaR_α)⁺ | k] / (1 − α).
    pub cvar: f64,
    /// Conditional probability of a loss, `P(pnl < 0 | k)`.
    pub prob_loss: f64,
    /// Share of the overall CVaR_α tail carried by the scenario (1 for "all").
    pub tail_share: f64,
}

/// The risk table of one strategy: one row per scenario `0..n_scenarios`, then
/// the row over all paths (see [`RiskRow`]).
///
/// The overall tail is the set of worst losses carrying total weight `1 − α`:
/// every path with `L > VaR_α` plus the fraction `(F(VaR_α) − α) / P(L = VaR_α)`
/// of the weight at the VaR atom (split across scenarios in proportion to
/// their weight at the atom). `tail_share_k = tail weight from k / (1 − α)`,
/// so the shares sum to 1. A scenario with no weight gets probability 0,
/// share 0 and NaN statistics.
pub fn risk_table(pnl: &[f64], w: &[f64], scenario: &[i64], n_scenarios: usize, alpha: f64) -> Result<Vec<RiskRow>> {
    Ok(risk_tables(pnl, 1, w, scenario, n_scenarios, alpha)?
        .pop()
        .unwrap_or_default())
}

/// The risk tables of `n_strategies` strategies whose P&L is an `(n, S)`
/// row-major array (`pnl[i * S + s]` = path `i`, strategy `s`); one table per
/// strategy as in [`risk_table`]. Strategies run in parallel.
pub fn risk_tables(
    pnl: &[f64],
    n_strategies: usize,
    w: &[f64],
    scenario: &[i64],
    n_scenarios: usize,
    alpha: f64,
) -> Result<Vec<Vec<RiskRow>>> {
    if n_strategies == 0 {
        return Err(CoreError::invalid("pnl", "must have at least one strategy column"));
    }
    check_sample(pnl, "pnl")?;
    if !pnl.len().is_multiple_of(n_strategies) {
        return Err(CoreError::invalid(
            "pnl",
            format!("has {} values, not a multiple of {n_strategies} strategies", pnl.len()),
        ));
    }
    let n = pnl.len() / n_strategies;
    if n > u32::MAX as usize {
        return Err(CoreError::invalid(
            "pnl",
            format!("at most {} paths per table, got {n}", u32::MAX),
        ));
    }
    let total = check_weights(w, n, "weights")?;
    check_alpha(alpha)?;
    if n_scenarios == 0 || n_scenarios > MAX_SCENARIOS {
        return Err(CoreError::invalid(
            "n_scenarios",
            format!("must be in [1, {MAX_SCENARIOS}], got {n_scenarios}"),
        ));
    }
    if scenario.len() != n {
        return Err(CoreError::invalid(
            "scenario",
            format!("must have length {n} (one index per path), got {}", scenario.len()),
        ));
    }
    let bad = |s: &i64| *s < 0 || *s >= n_scenarios as i64;
    if let Some(i) = crate::scan::first_where(scenario, bad) {
        return Err(CoreError::invalid(
            "scenario",
            format!(
                "must hold indices in [0, {n_scenarios}), got {} at index {i}",
                scenario[i]
            ),
        ));
    }
    let scen: Vec<u32> = scenario.par_iter().map(|&s| s as u32).collect();
    let p: Vec<f64> = w.par_iter().map(|&wi| wi / total).collect();
    let mut mass = vec![Compensated::default(); n_scenarios];
    for (&k, &pi) in scen.iter().zip(&p) {
        mass[k as usize].add(pi);
    }
    let mass: Vec<f64> = mass.iter().map(Compensated::value).collect();
    let shared = Shared {
        p: &p,
        scen: &scen,
        mass: &mass,
        alpha,
    };
    Ok((0..n_strategies)
        .into_par_iter()
        .map(|s| {
            let loss: Vec<f64> = pnl.iter().skip(s).step_by(n_strategies).map(|x| -x + 0.0).collect();
            shared.table(&loss)
        })
        .collect())
}

/// Each scenario's share of the overall tail of probability 1 − α, given the
/// probability it puts above the overall VaR and at it: all of the first, and the
/// part of the atom at the VaR that completes 1 − α (F(VaR) − α = (1 − α) − P(L > VaR),
/// within [0, P(L = VaR)]), split in proportion to the scenarios' probability at the
/// atom. The shares sum to 1.
pub(crate) fn tail_shares(above: &[f64], atom: &[f64], alpha: f64) -> Vec<f64> {
    let p_above: f64 = above.iter().sum();
    let p_atom: f64 = atom.iter().sum();
    let frac = ((1.0 - alpha) - p_above).clamp(0.0, p_atom);
    let tail: Vec<f64> = (above.iter().zip(atom))
        .map(|(&a, &t)| a + if p_atom > 0.0 { frac * t / p_atom } else { 0.0 })
        .collect();
    let total: f64 = tail.iter().sum();
    tail.iter().map(|t| t / total).collect()
}

/// Inputs common to every strategy of a table.
struct Shared<'a> {
    /// Normalised weights.
    p: &'a [f64],
    scen: &'a [u32],
    /// Probability of each scenario.
    mass: &'a [f64],
    alpha: f64,
}

impl Shared<'_> {
    /// The table of one strategy from its losses `L = −pnl`.
    fn table(&self, loss: &[f64]) -> Vec<RiskRow> {
        let (p, scen, mass, alpha) = (self.p, self.scen, self.mass, self.alpha);
        let k_all = mass.len();
        let rows = k_all + 1;

        // moments: mean and P(loss) per scenario (index k_all = all paths)
        let mut sum = vec![0.0; rows];
        let mut lossp = vec![0.0; rows];
        for ((&l, &pi), &k) in loss.iter().zip(p).zip(scen) {
            sum[k as usize] += pi * l;
            if l > 0.0 {
                lossp[k as usize] += pi;
            }
        }
        sum[k_all] = sum[..k_all].iter().sum();
        lossp[k_all] = lossp[..k_all].iter().sum();
        let mass_of = |k: usize| if k == k_all { 1.0 } else { mass[k] };
        let mean_loss: Vec<f64> = (0..rows).map(|k| sum[k] / mass_of(k)).collect();
        let mut ss = vec![0.0; rows];
        for ((&l, &pi), &k) in loss.iter().zip(p).zip(scen) {
            let (d, d_all) = (l - mean_loss[k as usize], l - mean_loss[k_all]);
            ss[k as usize] += pi * d * d;
            ss[k_all] += pi * d_all * d_all;
        }

        // one sort; VaR_k = first sorted loss of scenario k with cum_k ≥ α·mass_k, up to the
        // relative 1e-12 of `quantile_sorted`, the sums compensated as there (a plain running
        // sum of 100,000 equal weights stopped one loss past the 0.95 quantile)
        let mut order: Vec<(f64, u32)> = loss.iter().enumerate().map(|(i, &l)| (l, i as u32)).collect();
        order.par_sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut cum = vec![Compensated::default(); rows];
        let mut var: Vec<Option<f64>> = vec![None; rows];
        let mut last = vec![f64::NAN; rows];
        let mut open = rows;
        for &(l, i) in &order {
            let pi = p[i as usize];
            if pi <= 0.0 {
                continue;
            }
            for k in [scen[i as usize] as usize, k_all] {
                cum[k].add(pi);
                last[k] = l;
                if var[k].is_none() && cum[k].value() >= alpha * mass_of(k) * (1.0 - 1e-12) {
                    var[k] = Some(l);
                    open -= 1;
                }
            }
            if open == 0 {
                break;
            }
        }
        // rounding can leave cum_k a hair below α·mass_k: the largest loss is then the quantile
        let var: Vec<f64> = (0..rows).map(|k| var[k].unwrap_or(last[k])).collect();

        // excess over VaR per scenario, and the overall tail split by scenario
        let v_all = var[k_all];
        let mut excess = vec![0.0; rows];
        let mut above = vec![0.0; k_all];
        let mut atom = vec![0.0; k_all];
        for ((&l, &pi), &k) in loss.iter().zip(p).zip(scen) {
            let k = k as usize;
            excess[k] += pi * (l - var[k]).max(0.0);
            excess[k_all] += pi * (l - v_all).max(0.0);
            if l > v_all {
                above[k] += pi;
            } else if l == v_all {
                atom[k] += pi;
            }
        }
        let shares = tail_shares(&above, &atom, alpha);

        (0..rows)
            .map(|k| {
                let m = mass_of(k);
                if m <= 0.0 {
                    return RiskRow {
                        scenario: k,
                        probability: 0.0,
                        mean: f64::NAN,
                        std: f64::NAN,
                        var: f64::NAN,
                        cvar: f64::NAN,
                        prob_loss: f64::NAN,
                        tail_share: 0.0,
                    };
                }
                let cvar = var[k] + excess[k] / (m * (1.0 - alpha));
                RiskRow {
                    scenario: k,
                    probability: m,
                    mean: -mean_loss[k],
                    std: (ss[k] / m).sqrt(),
                    var: var[k],
                    cvar: cvar.max(var[k]),
                    prob_loss: lossp[k] / m,
                    tail_share: if k == k_all { 1.0 } else { shares[k] },
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::{mean, prob_loss, std, var_cvar};

    #[test]
    fn rows_match_the_single_sample_statistics() {
        let pnl = [0.5, -1.0, 2.0, -3.0, 1.0, -1.0, 0.0, 4.0];
        let w = [1.0, 2.0, 1.0, 1.0, 3.0, 1.0, 2.0, 1.0];
        let scen = [0, 1, 0, 1, 2, 2, 0, 1];
        let alpha = 0.7;
        let rows = risk_table(&pnl, &w, &scen, 3, alpha).unwrap();
        assert_eq!(rows.len(), 4);
        for (k, row) in rows.iter().enumerate() {
            let pick = |v: &[f64]| -> Vec<f64> {
                (0..pnl.len())
                    .filter(|&i| k == 3 || scen[i] as usize == k)
                    .map(|i| v[i])
                    .collect()
            };
            let (x, wk) = (pick(&pnl), pick(&w));
            let (var, cvar) = var_cvar(&x, &wk, alpha).unwrap();
            assert_eq!(row.scenario, k);
            assert!((row.probability - wk.iter().sum::<f64>() / 12.0).abs() < 1e-15);
            assert!((row.mean - mean(&x, &wk).unwrap()).abs() < 1e-14);
            assert!((row.std - std(&x, &wk).unwrap()).abs() < 1e-14);
            assert_eq!(row.var, var);
            assert!((row.cvar - cvar).abs() < 1e-14);
            assert!((row.prob_loss - prob_loss(&x, &wk).unwrap()).abs() < 1e-15);
        }
        let shares: f64 = rows[..3].iter().map(|r| r.tail_share).sum();
        assert!((shares - 1.0).abs() < 1e-14);
    }

    #[test]
    fn equal_weights_put_every_row_s_var_at_its_order_statistic() {
        // 100,000 weights of 1e-5 in one scenario: the all-paths row summed its running
        // probability against α·1 and stopped one loss late (the scenario's row, whose mass
        // drifted as its sum did, was right)
        let n = 100_000;
        let pnl: Vec<f64> = (0..n).map(|i| -(((i * 7_919) % n) as f64)).collect(); // losses 0..n shuffled
        let scen = vec![0i64; n];
        for (weight, alpha) in [(1e-5, 0.95), (1.0, 0.9), (0.1, 0.99), (1.0 / 3.0, 0.95)] {
            let rows = risk_table(&pnl, &vec![weight; n], &scen, 1, alpha).unwrap();
            let k = (alpha * n as f64).round() - 1.0;
            assert_eq!((rows[0].var, rows[1].var), (k, k), "{weight} {alpha}");
        }
    }

    #[test]
    fn tail_shares_split_the_atom() {
        // four equally likely paths, losses 1, 2, 2, 3 in scenarios 0, 0, 1, 1;
        // alpha = 0.5: VaR = 2, tail mass 0.5 = 0.25 (loss 3, scen 1) + 0.25 of the atom at 2
        let rows = risk_table(&[-1.0, -2.0, -2.0, -3.0], &[1.0; 4], &[0, 0, 1, 1], 2, 0.5).unwrap();
        assert!((rows[0].tail_share - 0.25).abs() < 1e-15);
        assert!((rows[1].tail_share - 0.75).abs() < 1e-15);
        assert!((rows[2].cvar - 2.5).abs() < 1e-15);
    }

    #[test]
    fn empty_scenario_and_bad_indices() {
        let rows = risk_table(&[1.0, 2.0], &[1.0, 1.0], &[0, 0], 2, 0.5).unwrap();
        assert_eq!(rows[1].probability, 0.0);
        assert!(rows[1].mean.is_nan());
        assert_eq!(rows[0].tail_share, 1.0);
        let e = risk_table(&[1.0, 2.0], &[1.0, 1.0], &[0, 2], 2, 0.5).unwrap_err();
        assert!(matches!(e, CoreError::Invalid { ref path, .. } if path == "scenario"));
        let e = risk_table(&[1.0, 2.0], &[1.0], &[0, 0], 2, 0.5).unwrap_err();
        assert!(matches!(e, CoreError::Invalid { ref path, .. } if path == "weights"));
    }
}
