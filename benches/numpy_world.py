"""A straightforward vectorised NumPy implementation of a geoscenario world
(static scenarios with onsets, every factor kind, assets and strategy NAVs),
kept as the baseline of ``bench_world.py``. It reads the same config and
implements the same model (MODEL.md §2–§5) with NumPy's own generator, so its
statistics agree with the engine's within Monte Carlo error, not bit for bit.
"""

from __future__ import annotations

import numpy as np

import geoscenario as gs

DT = 1.0 / 12.0


def _param(d: dict, scen: str, factor: str, key: str, base: str, default: float = 0.0) -> float:
    own = d["scenarios"][scen].get(factor, {})
    if key in own:
        return float(own[key])
    return float(d["scenarios"][base].get(factor, {}).get(key, default))


def simulate(world: gs.World, n: int, h: int, seed: int) -> dict[str, np.ndarray]:
    d = world.to_dict()
    rng = np.random.default_rng(seed)
    scen_names = list(d["scenarios"])
    base = d["world"]["base_scenario"]
    k_base = scen_names.index(base)
    probs = np.array([d["scenarios"][s]["probability"] for s in scen_names])
    # stratified allocation (largest remainder)
    quota = probs * n
    counts = np.floor(quota).astype(int)
    rest = n - counts.sum()
    order = np.argsort(-(quota - counts), kind="stable")
    counts[order[:rest]] += 1
    scenario = np.repeat(np.arange(len(scen_names)), counts)
    tau = np.full(n, h + 10)
    for k, s in enumerate(scen_names):
        if k == k_base:
            continue
        lo, hi = d["scenarios"][s]["onset"]
        rows = scenario == k
        tau[rows] = rng.integers(lo, hi + 1, rows.sum())
    factors = d["factors"]
    names = list(factors)
    shocked = [f for f in names if factors[f]["kind"] in ("log_ou", "logit_ou", "gbm")]
    corr = np.eye(len(shocked))
    for a, row in d.get("correlations", {}).items():
        for b, rho in row.items():
            i, j = shocked.index(a), shocked.index(b)
            corr[i, j] = corr[j, i] = rho
    chol = np.linalg.cholesky(corr)

    def per_scen(f: str, key: str, default: float = 0.0) -> np.ndarray:
        return np.array([_param(d, s, f, key, base, default) for s in scen_names])

    out = {f: np.empty((n, h + 1)) for f in names}
    x = {}
    coef = {}
    for f in shocked:
        spec = factors[f]
        kind = spec["kind"]
        if kind == "gbm":
            g, sig = per_scen(f, "g"), per_scen(f, "sigma")
            # compensated jumps: E[X_t] = X_0 e^{gt} (MODEL.md §3)
            k = np.expm1(per_scen(f, "mu_j") + 0.5 * per_scen(f, "sigma_j") ** 2)
            a, b, s = np.ones_like(g), (g - 0.5 * sig**2 - per_scen(f, "lambda") * k) * DT, sig * np.sqrt(DT)
            x[f] = np.full(n, np.log(spec["initial"]))
        else:
            kap, sig, th = per_scen(f, "kappa"), per_scen(f, "sigma"), per_scen(f, "theta")
            scale = spec.get("scale", 1.0)
            xbar = np.log(th) if kind == "log_ou" else np.log(th / scale / (1 - th / scale))
            a = np.exp(-kap * DT)
            b = xbar * (1 - a)
            s = sig * np.sqrt(np.where(kap > 0, -np.expm1(-2 * kap * DT) / (2 * np.maximum(kap, 1e-300)), DT))
            q0 = spec["initial"] / scale
            x[f] = np.full(n, np.log(spec["initial"]) if kind == "log_ou" else np.log(q0 / (1 - q0)))
        coef[f] = (a, b, s, per_scen(f, "lambda") * DT, per_scen(f, "mu_j"), per_scen(f, "sigma_j"),
                   per_scen(f, "onset_jump"))
        out[f][:, 0] = spec["initial"]
    for f in names:
        spec = factors[f]
        if spec["kind"] == "completion":
            out[f][:, 0] = spec.get("initial", 0)
        elif spec["kind"] == "adoption":
            out[f][:, 0] = 0.0
        elif spec["kind"] == "contract":
            out[f][:, 0] = spec["initial"]
    lags = {f: rng.integers(factors[f]["lag_min"], factors[f]["lag_max"] + 1, n)
            for f in names if factors[f]["kind"] == "adoption"}
    done = {f: np.full(n, factors[f].get("initial", 0)) for f in names if factors[f]["kind"] == "completion"}
    start_month = int(d["world"]["start"].split("-")[1])
    for t in range(h):
        r0 = np.where(t < tau, k_base, scenario)
        r1 = np.where(t + 1 < tau, k_base, scenario)
        entering = r1 != r0
        z = rng.standard_normal((n, len(shocked))) @ chol.T
        for j, f in enumerate(shocked):
            a, b, s, lam, mu, sj, onset = coef[f]
            xn = a[r0] * x[f] + b[r0] + s[r0] * z[:, j]
            if lam.max() > 0:
                cnt = rng.poisson(lam[r0])
                xn += cnt * mu[r0] + np.sqrt(cnt) * sj[r0] * rng.standard_normal(n)
            xn += np.where(entering, onset[r1], 0.0)
            x[f] = xn
            if factors[f]["kind"] == "logit_ou":
                out[f][:, t + 1] = factors[f].get("scale", 1.0) / (1 + np.exp(-xn))
            else:
                out[f][:, t + 1] = np.exp(xn)
        for f in done:
            hh = per_scen(f, "h")[r0]
            done[f] = done[f] + rng.binomial(factors[f]["total"] - done[f], hh)
            out[f][:, t + 1] = done[f]
        for f, lag in lags.items():
            smax = per_scen(f, "s_max")[r1]
            v = smax * (1 - np.exp(-factors[f]["rate"] * np.maximum(t + 1 - lag, 0)))
            v += factors[f]["noise"] * rng.standard_normal(n)
            out[f][:, t + 1] = np.clip(v, 0, 1)
        for f in names:
            spec = factors[f]
            if spec["kind"] != "contract":
                continue
            month = (start_month - 1 + t + 1) % 12 + 1
            if month == spec["reset_month"]:
                lo = max(0, t + 1 - spec["averaging_months"])
                mean = out[spec["underlying"]][:, lo:t + 1].mean(axis=1)
                disc = per_scen(f, "discount")[r1]
                eps = spec["noise"] * rng.standard_normal(n)
                out[f][:, t + 1] = (1 - disc) * mean * np.exp(eps)
            else:
                out[f][:, t + 1] = out[f][:, t]
    for dname, spec in d.get("derived", {}).items():
        a, b = out[spec["of"][0]], out[spec["of"][1]]
        out[dname] = a - b if spec["kind"] == "spread" else (1 - b / a if spec["kind"] == "discount" else a / b)
    # assets and strategies
    freeze = d.get("freeze")
    fz = scen_names.index(freeze["scenario"]) if freeze else -1
    enter_fz = np.zeros((n, h), bool)
    if freeze:
        rows = np.where((scenario == fz) & (tau <= h))[0]
        enter_fz[rows, tau[rows] - 1] = True
    simple = {}
    for aname, spec in d.get("assets", {}).items():
        r = spec.get("vol", 0.0) * np.sqrt(DT) * rng.standard_normal((n, h))
        for f, beta in spec["betas"].items():
            r += beta * np.diff(np.log(out[f]), axis=1)
        if freeze:
            r -= enter_fz * spec.get("sanctions_exposure", 0.0) * freeze["size"]
        simple[aname] = np.expm1(r)
    for sname, spec in d.get("strategies", {}).items():
        w = spec["weights"]
        cost = {a: spec["cost_bps"] * 1e-4 + d["assets"][a].get("cost_bps", 0.0) * 1e-4 for a in w}
        nav = np.ones((n, h + 1))
        traded = sum(abs(v) * cost[a] for a, v in w.items())
        for t in range(h):
            gross = sum(v * simple[a][:, t] for a, v in w.items())
            c = np.full(n, traded)
            for a, v in w.items():  # trading back to target: |v| |R - R_a| of the starting NAV
                c += np.abs(v * (gross - simple[a][:, t])) * cost[a]
            traded = 0.0
            nav[:, t + 1] = np.maximum(nav[:, t] * (1 + gross - c), 0.0)
        out[sname] = nav
    out["__scenario__"] = scenario
    return out
