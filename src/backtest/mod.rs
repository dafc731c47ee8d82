//! The backtest loop: target weights rebalanced on given dates, positions
//! drifting with prices in between, costs on traded notional, cash at 0%.
//!
//! Rules (the Python layer documents them to users):
//! - Capital 1 starts in cash. On a rebalance row, after that row's prices
//!   have moved the positions, each asset's holding is set to w_i·E (E the
//!   equity before costs) and the cost Σ_i c_i·|Δh_i| (c_i in bps) is paid
//!   from cash; the rest of the equity stays in cash (weights need not sum to 1).
//! - Between rebalances a holding moves with its price: h_i ← h_i·P_t/P_{t−1}.
//! - A price that is missing before an asset's first valid price means "not
//!   listed yet": its target weight is held in cash. A price missing after its
//!   last valid price means "delisted": the holding is sold at its last price
//!   (paying the cost) and its weight stays in cash. A gap between two valid
//!   prices is an error.
//! - Equity that reaches zero stays at zero (no positions afterwards).

use ndarray::{Array2, ArrayView2};

use crate::error::{CoreError, Result};

/// Inputs of [`run`].
#[derive(Debug, Clone, Copy)]
pub struct BacktestInput<'a> {
    /// Prices, T × N (NaN only before the first and after the last valid price).
    pub prices: ArrayView2<'a, f64>,
    /// Rebalance rows, strictly increasing, each < T.
    pub rebalance: &'a [usize],
    /// Target weights at each rebalance row, R × N.
    pub targets: ArrayView2<'a, f64>,
    /// One-way cost per asset, in basis points of traded notional.
    pub cost_bps: &'a [f64],
}

/// Outputs of [`run`], one value per row.
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestOutput {
    /// Equity after the row's trades and costs.
    pub equity: Vec<f64>,
    /// equity_t / equity_{t−1} − 1, with equity_{−1} = 1 (0 once equity is 0).
    pub returns: Vec<f64>,
    /// One-way traded notional over the equity before costs.
    pub turnover: Vec<f64>,
    /// Costs paid, in units of the initial capital.
    pub costs: Vec<f64>,
    /// Value held in each asset after the row's trades, T × N.
    pub positions: Array2<f64>,
    /// Cash after the row's trades.
    pub cash: Vec<f64>,
}

const NOT_LISTED: u8 = 0;
const LIVE: u8 = 1;
const DELISTED: u8 = 2;

fn validate(inp: &BacktestInput<'_>) -> Result<()> {
    let (t, n) = inp.prices.dim();
    if t == 0 || n == 0 {
        return Err(CoreError::invalid(
            "prices",
            format!("is empty ({t} rows, {n} columns)"),
        ));
    }
    let (r, nw) = inp.targets.dim();
    if nw != n || r != inp.rebalance.len() {
        return Err(CoreError::invalid(
            "weights",
            format!("targets are {r} × {nw}, expected {} × {n}", inp.rebalance.len()),
        ));
    }
    if inp.rebalance.is_empty() {
        return Err(CoreError::invalid(
            "rebalance",
            "no rebalance date falls in the price history",
        ));
    }
    if inp.rebalance.windows(2).any(|w| w[1] <= w[0]) || inp.rebalance[r - 1] >= t {
        return Err(CoreError::invalid(
            "rebalance",
            format!("rows must be strictly increasing and below {t}"),
        ));
    }
    if let Some(((i, j), v)) = inp.targets.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(CoreError::invalid(
            "weights",
            format!("rebalance {i}, column {j} is {v} (not finite)"),
        ));
    }
    if inp.cost_bps.len() != n {
        return Err(CoreError::invalid(
            "cost_bps",
            format!("has {} entries for {n} assets", inp.cost_bps.len()),
        ));
    }
    if let Some(c) = inp
        .cost_bps
        .iter()
        .find(|c| !(c.is_finite() && **c >= 0.0 && **c <= 10_000.0))
    {
        return Err(CoreError::invalid(
            "cost_bps",
            format!("must be in [0, 10000], got {c}"),
        ));
    }
    for j in 0..n {
        let col = inp.prices.column(j);
        let mut state = NOT_LISTED;
        for (i, &p) in col.iter().enumerate() {
            if p.is_nan() {
                if state == LIVE {
                    state = DELISTED;
                }
            } else if !(p.is_finite() && p > 0.0) {
                return Err(CoreError::invalid(
                    "prices",
                    format!("row {i}, column {j} is {p} (prices must be > 0)"),
                ));
            } else if state == DELISTED {
                return Err(CoreError::invalid(
                    "prices",
                    format!("column {j} has a gap before row {i} (NaN between valid prices)"),
                ));
            } else {
                state = LIVE;
            }
        }
    }
    Ok(())
}

/// Run the backtest. Errors (`ConfigError`) on inconsistent shapes, non-finite
/// weights, negative costs, non-positive prices and gaps inside a price series.
pub fn run(inp: &BacktestInput<'_>) -> Result<BacktestOutput> {
    validate(inp)?;
    let (t_len, n) = inp.prices.dim();
    let cost: Vec<f64> = inp.cost_bps.iter().map(|c| c * 1e-4).collect();
    let mut out = BacktestOutput {
        equity: vec![0.0; t_len],
        returns: vec![0.0; t_len],
        turnover: vec![0.0; t_len],
        costs: vec![0.0; t_len],
        positions: Array2::zeros((t_len, n)),
        cash: vec![0.0; t_len],
    };
    let mut h = vec![0.0; n];
    let mut last = vec![f64::NAN; n];
    let mut state = vec![NOT_LISTED; n];
    let mut cash = 1.0;
    let mut equity_prev = 1.0;
    let mut ruined = false;
    let mut next = 0usize; // next rebalance
    for t in 0..t_len {
        let row = inp.prices.row(t);
        let (mut traded, mut paid) = (0.0, 0.0);
        // 1. drift with prices; delisted holdings are sold at their last price
        for i in 0..n {
            let p = row[i];
            match (state[i], p.is_nan()) {
                (NOT_LISTED, false) => {
                    state[i] = LIVE;
                    last[i] = p;
                }
                (LIVE, false) => {
                    h[i] *= p / last[i];
                    last[i] = p;
                }
                (LIVE, true) => {
                    state[i] = DELISTED;
                    traded += h[i].abs();
                    paid += cost[i] * h[i].abs();
                    cash += h[i];
                    h[i] = 0.0;
                }
                _ => {}
            }
        }
        cash -= paid;
        let mut equity = cash + h.iter().sum::<f64>();
        let equity_pre = equity + paid;
        // 2. rebalance to targets (unlisted or delisted assets stay in cash)
        if next < inp.rebalance.len() && inp.rebalance[next] == t {
            if !ruined && equity > 0.0 {
                let w = inp.targets.row(next);
                let mut invested = 0.0;
                let mut c = 0.0;
                for i in 0..n {
                    let target = if state[i] == LIVE { w[i] * equity } else { 0.0 };
                    let d = (target - h[i]).abs();
                    traded += d;
                    c += cost[i] * d;
                    h[i] = target;
                    invested += target;
                }
                cash = equity - invested - c;
                paid += c;
                equity -= c;
            }
            next += 1;
        }
        // 3. a non-positive equity is ruin: everything is gone for good
        if ruined || equity <= 0.0 {
            ruined = true;
            h.iter_mut().for_each(|v| *v = 0.0);
            cash = 0.0;
            equity = 0.0;
        }
        out.equity[t] = equity;
        // after a ruin 0/0, as `pct_change` gives: no 0% returns for the dead periods
        out.returns[t] = if equity_prev > 0.0 {
            equity / equity_prev - 1.0
        } else {
            f64::NAN
        };
        out.turnover[t] = if equity_pre > 0.0 { traded / equity_pre } else { 0.0 };
        out.costs[t] = paid;
        out.cash[t] = cash;
        out.positions.row_mut(t).iter_mut().zip(&h).for_each(|(o, v)| *o = *v);
        equity_prev = equity;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn buy_and_hold_without_costs_tracks_prices() {
        let prices = array![[10.0, 20.0], [11.0, 18.0], [12.1, 19.8]];
        let targets = array![[0.5, 0.5]];
        let out = run(&BacktestInput {
            prices: prices.view(),
            rebalance: &[0],
            targets: targets.view(),
            cost_bps: &[0.0, 0.0],
        })
        .expect("runs");
        let want = 0.5 * 12.1 / 10.0 + 0.5 * 19.8 / 20.0;
        assert!((out.equity[2] - want).abs() < 1e-15);
        assert!((out.returns[1] - (0.5 * 1.1 + 0.5 * 0.9 - 1.0)).abs() < 1e-15);
        assert_eq!(out.turnover[0], 1.0);
    }

    #[test]
    fn costs_are_paid_on_traded_notional() {
        let prices = array![[10.0], [12.0]];
        let targets = array![[1.0], [1.0]];
        let out = run(&BacktestInput {
            prices: prices.view(),
            rebalance: &[0, 1],
            targets: targets.view(),
            cost_bps: &[100.0],
        })
        .expect("runs");
        assert!((out.equity[0] - 0.99).abs() < 1e-15);
        // holding 1.0 grows to 1.2, equity 1.19, target 1.19: trade 0.01
        assert!((out.costs[1] - 0.01 * 0.01).abs() < 1e-15);
    }

    #[test]
    fn unlisted_asset_waits_in_cash_and_gaps_are_errors() {
        let prices = array![[10.0, f64::NAN], [11.0, 5.0], [12.0, 6.0]];
        let targets = array![[0.5, 0.5], [0.5, 0.5]];
        let out = run(&BacktestInput {
            prices: prices.view(),
            rebalance: &[0, 1],
            targets: targets.view(),
            cost_bps: &[0.0, 0.0],
        })
        .expect("runs");
        assert_eq!(out.positions[[0, 1]], 0.0);
        assert!((out.cash[0] - 0.5).abs() < 1e-15);
        assert!((out.equity[1] - 1.05).abs() < 1e-15);
        let gap = array![[10.0], [f64::NAN], [12.0]];
        let e = run(&BacktestInput {
            prices: gap.view(),
            rebalance: &[0],
            targets: array![[1.0]].view(),
            cost_bps: &[0.0],
        })
        .unwrap_err();
        assert!(e.to_string().starts_with("prices:"), "{e}");
    }
}
