"""Risk measures, entropy-pooling views and mean-CVaR allocation of the compiled core.

The functions of ``geoscenario._core`` are checked against independent NumPy and
SciPy computations: CVaR by sorting, drawdowns by running maxima, entropy
pooling by a direct SLSQP solve of the primal problem.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geoscenario import _core
from geoscenario.errors import ConfigError, NumericalError


def cvar_by_sorting(pnl: np.ndarray, w: np.ndarray, alpha: float) -> float:
    """Mean of the worst losses carrying weight 1 - alpha, the VaR atom split."""
    p = w / w.sum()
    order = np.argsort(pnl, kind="stable")  # worst P&L first
    loss, prob = -pnl[order], p[order]
    before = np.concatenate([[0.0], np.cumsum(prob)[:-1]])
    take = np.clip((1.0 - alpha) - before, 0.0, prob)
    return float(np.dot(take, loss) / (1.0 - alpha))


def var_by_sorting(pnl: np.ndarray, w: np.ndarray, alpha: float) -> float:
    """Inverted-CDF alpha-quantile of the loss over positive weights."""
    keep = w > 0
    loss, p = -pnl[keep], w[keep] / w.sum()
    order = np.argsort(loss, kind="stable")
    cum = np.cumsum(p[order])
    i = min(int(np.searchsorted(cum, alpha, side="left")), len(cum) - 1)
    return float(loss[order][i])


samples = st.integers(min_value=1, max_value=60).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(-5, 5), min_size=n, max_size=n),  # coarse values: many ties
        st.lists(st.floats(0.0, 2.0), min_size=n, max_size=n),
        st.floats(0.01, 0.99),
    )
)


@given(samples)
def test_var_never_exceeds_cvar_and_cvar_is_the_tail_mean(sample):
    values, weights, alpha = sample
    pnl = np.asarray(values, dtype=float) / 10.0
    w = np.asarray(weights, dtype=float)
    w[0] = 1.0  # a positive total
    var, cvar = _core.var_cvar(pnl, w, alpha)
    assert var <= cvar
    assert cvar == pytest.approx(cvar_by_sorting(pnl, w, alpha), abs=1e-12)
    # away from the CDF steps the quantile is unambiguous
    keep = w > 0
    cum = np.cumsum((w[keep] / w.sum())[np.argsort(-pnl[keep], kind="stable")])
    if np.min(np.abs(cum - alpha)) > 1e-9:
        assert var == var_by_sorting(pnl, w, alpha)


def test_var_cvar_rejects_bad_input_by_name():
    with pytest.raises(ConfigError) as e:
        _core.var_cvar(np.array([1.0, np.nan]), np.ones(2), 0.9)
    assert e.value.path == "pnl"
    with pytest.raises(ConfigError) as e:
        _core.var_cvar(np.array([1.0, 2.0]), np.ones(3), 0.9)
    assert e.value.path == "weights"
    with pytest.raises(ConfigError) as e:
        _core.var_cvar(np.array([1.0, 2.0]), np.ones(2), 1.5)
    assert e.value.path == "alpha"


def test_risk_table_columns_shares_and_overall_row():
    rng = np.random.default_rng(3)
    n, s, k, alpha = 5000, 4, 3, 0.95
    scenario = rng.integers(0, k, n).astype(np.int64)
    pnl = np.round(rng.normal(0.01 * scenario[:, None], 0.1, (n, s)), 3)
    w = rng.uniform(0.5, 1.5, n)
    table = _core.risk_table(pnl, w, scenario, k, alpha)
    rows = s * (k + 1)
    columns = ("strategy", "scenario", "probability", "mean", "std", "var", "cvar")
    for name in (*columns, "prob_loss", "tail_share"):
        assert table[name].shape == (rows,)
    shares = table["tail_share"].reshape(s, k + 1)
    np.testing.assert_allclose(shares[:, :k].sum(axis=1), 1.0, atol=1e-12)
    assert np.all(table["var"] <= table["cvar"])
    for j in range(s):
        row = j * (k + 1) + k  # "all"
        var, cvar = _core.var_cvar(np.ascontiguousarray(pnl[:, j]), w, alpha)
        assert table["var"][row] == var
        assert table["cvar"][row] == pytest.approx(cvar, abs=1e-12)
        assert table["mean"][row] == pytest.approx(np.average(pnl[:, j], weights=w), abs=1e-12)
        assert table["prob_loss"][row] == pytest.approx(w[pnl[:, j] < 0].sum() / w.sum(), abs=1e-12)
        for sc in range(k):
            m = scenario == sc
            r = j * (k + 1) + sc
            assert table["probability"][r] == pytest.approx(w[m].sum() / w.sum(), abs=1e-12)
            expected = cvar_by_sorting(pnl[m, j], w[m], alpha)
            assert table["cvar"][r] == pytest.approx(expected, abs=1e-12)


def test_risk_table_rejects_layout_and_indices():
    pnl = np.zeros((10, 2))
    zeros = np.zeros(10, np.int64)
    with pytest.raises(ConfigError) as e:
        _core.risk_table(np.asfortranarray(np.ones((10, 2))), np.ones(10), zeros, 1, 0.9)
    assert e.value.path == "pnl"
    with pytest.raises(ConfigError) as e:
        _core.risk_table(pnl, np.ones(10), np.full(10, 3, np.int64), 2, 0.9)
    assert e.value.path == "scenario"
    with pytest.raises(ConfigError) as e:
        _core.risk_table(pnl, np.ones(9), zeros, 1, 0.9)
    assert e.value.path == "weights"


def test_max_drawdown_matches_running_maxima():
    rng = np.random.default_rng(1)
    nav = np.cumprod(1.0 + rng.normal(0.0, 0.05, (200, 30)), axis=1)
    expected = np.max(1.0 - nav / np.maximum.accumulate(nav, axis=1), axis=1)
    np.testing.assert_allclose(_core.max_drawdown(nav), expected, rtol=0, atol=1e-15)
    with pytest.raises(ConfigError) as e:
        _core.max_drawdown(nav[:, ::2])
    assert e.value.path == "nav"


def _views(n: int, rng: np.random.Generator):
    x = rng.normal(0.0, 1.0, n)
    y = x**2 + 0.1 * rng.uniform(size=n)
    a_eq = np.vstack([x, (x > 0.5).astype(float)])
    b_eq = np.array([0.3, 0.4])
    a_ie = y[None, :]
    b_ie = np.array([0.9])
    return a_eq, b_eq, a_ie, b_ie


def test_entropy_pooling_matches_a_direct_slsqp_solve():
    from scipy.optimize import minimize

    rng = np.random.default_rng(7)
    n = 30
    prior = rng.uniform(0.5, 1.5, n)
    p = prior / prior.sum()
    a_eq, b_eq, a_ie, b_ie = _views(n, rng)
    post = _core.entropy_pooling(prior, a_eq, b_eq, a_ie, b_ie)
    assert post["converged"]

    def kl(q):
        return float(np.sum(q * np.log(q / p)))

    def kl_grad(q):
        return np.log(q / p) + 1.0

    constraints = [
        {"type": "eq", "fun": lambda q: a_eq @ q - b_eq, "jac": lambda q: a_eq},
        {"type": "eq", "fun": lambda q: np.sum(q) - 1.0, "jac": lambda q: np.ones((1, n))},
        {"type": "ineq", "fun": lambda q: b_ie - a_ie @ q, "jac": lambda q: -a_ie},
    ]
    res = minimize(
        kl,
        p,
        jac=kl_grad,
        method="SLSQP",
        bounds=[(1e-12, 1.0)] * n,
        constraints=constraints,
        options={"ftol": 1e-15, "maxiter": 1000},
    )
    assert res.success, res.message
    np.testing.assert_allclose(post["q"], res.x, rtol=0, atol=1e-6)
    assert post["relative_entropy"] == pytest.approx(kl(res.x), abs=1e-6)


def test_entropy_pooling_properties():
    rng = np.random.default_rng(11)
    n = 2000
    prior = np.full(n, 1.0 / n)
    a_eq, b_eq, a_ie, b_ie = _views(n, rng)
    post = _core.entropy_pooling(prior, a_eq, b_eq, a_ie, b_ie, 200, 1e-10)
    q = post["q"]
    np.testing.assert_allclose(a_eq @ q, b_eq, rtol=0, atol=1e-9)
    assert a_ie @ q <= b_ie + 1e-9
    assert np.all(q > 0)
    assert q.sum() == pytest.approx(1.0, abs=1e-12)
    assert post["relative_entropy"] == pytest.approx(np.sum(q * np.log(q / prior)), abs=1e-10)
    assert post["effective_scenarios"] == pytest.approx(np.exp(-np.sum(q * np.log(q))), rel=1e-10)
    assert post["multipliers"].shape == (3,)
    assert post["multipliers"][2] <= 0.0


def test_entropy_pooling_without_views_returns_the_prior():
    prior = np.array([0.1, 0.2, 0.3, 0.4])
    no_a, no_b = np.empty((0, 4)), np.empty(0)
    post = _core.entropy_pooling(prior, no_a, no_b, no_a, no_b)
    np.testing.assert_array_equal(post["q"], prior)
    assert post["relative_entropy"] == 0.0
    assert post["iterations"] == 0


def test_entropy_pooling_infeasible_and_malformed_views():
    x = np.arange(5.0)
    prior = np.full(5, 0.2)
    none2, none1 = np.empty((0, 5)), np.empty(0)
    with pytest.raises(NumericalError, match=r"a_eq\[0\]"):
        _core.entropy_pooling(prior, x[None, :], np.array([7.0]), none2, none1)
    with pytest.raises(NumericalError, match="jointly"):
        a = np.vstack([x, (x >= 3).astype(float)])
        _core.entropy_pooling(prior, a, np.array([1.0, 0.5]), none2, none1)
    with pytest.raises(ConfigError) as e:
        _core.entropy_pooling(prior, np.ones((1, 4)), np.array([1.0]), none2, none1)
    assert e.value.path == "a_eq"
    with pytest.raises(ConfigError) as e:
        _core.entropy_pooling(prior, none2, none1, np.ones((2, 5)), np.array([1.0]))
    assert e.value.path == "a_ie"


def _returns(n: int, m: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    scale = 0.05 + 0.1 * np.arange(m)
    return 0.01 * np.arange(1, m + 1) + rng.normal(0.0, 1.0, (n, m)) * scale


def test_mean_cvar_single_asset_lp_equals_the_sample_cvar():
    rng = np.random.default_rng(5)
    r = np.round(rng.normal(0.0, 0.1, (300, 1)), 2)  # ties
    w = rng.uniform(0.0, 1.0, 300)
    for alpha in (0.9, 0.95):
        out = _core.mean_cvar(r, w, alpha)
        _, cvar = _core.var_cvar(np.ascontiguousarray(r[:, 0]), w, alpha)
        assert out["lp_cvar"] == pytest.approx(cvar, abs=1e-8)
        assert out["cvar"] == pytest.approx(cvar, abs=1e-15)
        np.testing.assert_array_equal(out["weights"], [1.0])


def test_mean_cvar_forms_and_frontier():
    r = _returns(400, 3, 9)
    w = np.ones(400)
    mu = r.mean(axis=0)
    low = _core.mean_cvar(r, w, 0.95)
    assert low["weights"].sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(low["weights"] >= 0)
    assert low["var"] <= low["cvar"]
    tgt = _core.mean_cvar(r, w, 0.95, target_return=float(mu[1]))
    assert tgt["expected_return"] >= mu[1] - 1e-9
    assert tgt["cvar"] >= low["cvar"] - 1e-9
    ra = _core.mean_cvar(r, w, 0.95, risk_aversion=0.02)
    assert ra["expected_return"] >= low["expected_return"] - 1e-9
    with pytest.raises(ConfigError) as e:
        _core.mean_cvar(r, w, 0.95, target_return=float(mu.max()) + 0.01)
    assert e.value.path == "target_return"
    with pytest.raises(ConfigError) as e:
        _core.mean_cvar(r, w, 0.95, risk_aversion=1.0, target_return=0.0)
    assert e.value.path == "target_return"

    front = _core.efficient_frontier(r, w, 0.95, 6)
    assert front["weights"].shape == (6, 3)
    assert front["cvar"][0] == pytest.approx(low["cvar"], abs=1e-7)
    assert front["target_return"][-1] == pytest.approx(mu.max(), abs=1e-15)
    assert np.all(np.diff(front["cvar"]) >= -1e-9)
    assert np.all(np.diff(front["expected_return"]) >= -1e-9)
    assert front["status"][0] in ("Solved", "AlmostSolved")
