"""Series simulated from a calibration's estimates, for its parametric bootstrap.

Each replicate is the fitted model's exact transition, from the first observed level,
on the data's own time grid (MODEL.md §3):

- log-OU, x = ln X: x_{t+1} = ln θ (1 − b) + b x_t + N μ_J + sqrt(s² + N σ_J²) ε, with
  b = e^{−κΔ}, s² = σ²(1 − b²)/(2κ) (σ²Δ at κ = 0) and N ~ Poisson(λΔ): the Gaussian
  mixture whose likelihood ``calibrate.log_ou`` maximises (N = 0 without jumps);
- logit-OU: the same for the odds X/(scale − X), mapped back to a level;
- GBM: r = (g − σ²/2 − λk)Δ + N μ_J + sqrt(σ²Δ + N σ_J²) ε with k = e^{μ_J + σ_J²/2} − 1.

A beta fit has no model of its returns to simulate: its replicates are its rows
resampled in circular blocks (Politis & Romano 1992), the asset and factor returns of a
date kept together, so that a block keeps the serial dependence within it.

Replicate i draws from its own NumPy ``PCG64`` stream keyed by (seed, i) (ε first and
then N, or the blocks' starts), so a replicate depends on the seed and its number only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

#: Replicates simulated together (their rows share each step's vector operations).
CHUNK = 64


def _rng(seed: int, i: int) -> np.random.Generator:
    """Replicate ``i``'s generator."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, i])))


def _draws(seed: int, i: int, n: int, jump_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Replicate ``i``'s n normals and n Poisson(``jump_rate``) counts (zeros without jumps)."""
    rng = _rng(seed, i)
    eps = rng.standard_normal(n)
    counts = rng.poisson(jump_rate, n).astype(float) if jump_rate > 0 else np.zeros(n)
    return eps, counts


def log_paths(
    model: str, params: Mapping[str, float], x0: float, n: int, dt: float, seed: int, first: int, count: int
) -> np.ndarray:
    """Replicates ``first`` to ``first + count − 1``: a (count, n + 1) array of log levels
    (of the odds, for a logit-OU fit) from ``x0``."""
    lam = float(params.get("lambda", 0.0))
    mu_j = float(params.get("mu_j", 0.0))
    var_j = float(params.get("sigma_j", 0.0)) ** 2
    eps = np.empty((count, n))
    counts = np.empty((count, n))
    for r in range(count):
        eps[r], counts[r] = _draws(seed, first + r, n, lam * dt)
    sigma = float(params["sigma"])
    if model == "gbm":
        k = math.expm1(mu_j + 0.5 * var_j)
        drift = (float(params["g"]) - 0.5 * sigma * sigma - lam * k) * dt
        steps = drift + counts * mu_j + np.sqrt(sigma * sigma * dt + counts * var_j) * eps
        out = np.empty((count, n + 1))
        out[:, 0] = x0
        np.cumsum(steps, axis=1, out=out[:, 1:])
        out[:, 1:] += x0
        return out
    kappa, ln_theta = float(params["kappa"]), math.log(float(params["theta"]))
    one_minus_b = -math.expm1(-kappa * dt)
    b = 1.0 - one_minus_b
    var = sigma * sigma * (-math.expm1(-2.0 * kappa * dt) / (2.0 * kappa) if kappa > 0 else dt)
    shocks = ln_theta * one_minus_b + counts * mu_j + np.sqrt(var + counts * var_j) * eps
    out = np.empty((count, n + 1))
    out[:, 0] = x0
    for t in range(n):
        np.multiply(out[:, t], b, out=out[:, t + 1])
        out[:, t + 1] += shocks[:, t]
    return out


def block_rows(data: tuple[pd.DataFrame, pd.DataFrame], block: int, seed: int, first: int,
               count: int) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """Replicates ``first`` to ``first + count − 1`` of a beta fit: its n rows of asset
    and factor returns resampled as ⌈n/block⌉ circular blocks of ``block`` consecutive
    dates from uniform starts, cut to n rows, on the data's own dates (which set only
    the annualisation)."""
    assets, factors = data
    y, x = assets.to_numpy(), factors.to_numpy()
    n = len(y)
    out = []
    for r in range(count):
        starts = _rng(seed, first + r).integers(0, n, -(-n // block))
        rows = ((starts[:, None] + np.arange(block)[None, :]) % n).ravel()[:n]
        out.append((pd.DataFrame(y[rows], index=assets.index, columns=assets.columns),
                    pd.DataFrame(x[rows], index=factors.index, columns=factors.columns)))
    return out
