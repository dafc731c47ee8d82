"""Type stub of ``geoscenario._core``, the compiled half of geoscenario (``src/python/``).

Array arguments must be NumPy arrays of exactly the dtype shown (float64 or int64),
C-contiguous where the docstrings say so; nothing is converted or copied (an array
of another dtype raises ``TypeError``). Every invalid value raises
:class:`geoscenario.ConfigError` naming the argument; oversized
requests raise :class:`geoscenario.ResourceError`; Ctrl-C during a simulation
raises ``KeyboardInterrupt``.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any, final

import numpy as np
import numpy.typing as npt

__all__ = [
    "backtest_run",
    "calibrate_gbm_jumps",
    "calibrate_log_ou",
    "calibrate_ols",
    "newey_west_lags",
    "available_memory",
    "cached_output_bytes",
    "set_output_keep",
    "worker_threads",
    "shock_normals_sum",
    "check_strategy_name",
    "argsort",
    "calibrated_mean_se",
    "compensated_cumsum",
    "gather_run",
    "efficient_frontier",
    "entropy_pooling",
    "max_drawdown",
    "mean_cvar",
    "risk_table",
    "sparsity_bandwidth",
    "var_cvar",
    "weighted_moments",
    "summarize_arrays",
    "SummaryJob",
    "CoreWorld",
    "__version__",
    "MAX_PATHS",
    "MAX_HORIZON",
    "MIN_PROBABILITY",
    "MAX_VIEWS",
    "MAX_WEIGHT",
    "MAX_COST_BPS",
    "DEFAULT_CHUNK",
    "DEFAULT_WORLD_TOML",
    "PARAMETER_SPECS",
    "SIMD",
    "GATHERS",
]

__version__: str
MAX_PATHS: int
MAX_HORIZON: int
MIN_PROBABILITY: float
MAX_VIEWS: int
MAX_WEIGHT: float
MAX_COST_BPS: float
DEFAULT_CHUNK: int
DEFAULT_WORLD_TOML: str
# the instruction set tier in use ("generic", "avx2", "avx512") and whether table
# look-ups use vector gathers (GEOSCENARIO_SIMD, GEOSCENARIO_GATHERS; README)
SIMD: str
GATHERS: bool
# (kind, parameter, required in the base scenario, default, allowed interval, meaning)
PARAMETER_SPECS: list[tuple[str, str, bool, float, str, str]]

_F64 = npt.NDArray[np.float64]
_I64 = npt.NDArray[np.int64]
_Progress = Callable[[int, int], object]
# (name, series, a, b, quantiles, thresholds, cvar levels, mix terms, drawdown):
# statistics of a + b * series (or of a + b * its maximum drawdown)
_Reducer = tuple[
    str, str, float, float, Sequence[float], Sequence[float], Sequence[float], Sequence[tuple[str, float]], bool
]
_ReducerOut = tuple[
    str, str, float, float, list[float], list[float], list[float], list[tuple[str, float]], bool
]

@final
class CoreWorld:
    """A validated world (the core's half of ``geoscenario.World``)."""

    @staticmethod
    def default() -> CoreWorld: ...
    @staticmethod
    def from_toml(text: str) -> CoreWorld: ...
    @staticmethod
    def from_dict(obj: Any) -> CoreWorld: ...
    def to_toml(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...
    @property
    def name(self) -> str: ...
    @property
    def horizon_months(self) -> int: ...
    @property
    def scenario_names(self) -> list[str]: ...
    @property
    def probabilities(self) -> list[float]: ...
    @property
    def base_scenario(self) -> int: ...
    @property
    def factors(self) -> list[tuple[str, str, str]]:
        """(name, unit, kind) of every factor."""
    @property
    def derived(self) -> list[tuple[str, str, str]]:
        """(name, unit, kind) of every derived series."""
    @property
    def strategies(self) -> list[tuple[str, list[tuple[str, float]], float]]:
        """(name, [(asset, weight), ...], cost_bps) of every strategy."""
    def parameters(self) -> list[tuple[str, str, str, float, str]]:
        """(scenario, factor, parameter, value, source) of every per-scenario factor parameter
        in force; source is "given", "base" (inherited) or "default"."""
    @property
    def assets(self) -> list[str]: ...
    def month_labels(self, horizon: int) -> list[str]: ...
    def output_bytes(self, n_paths: int, horizon: int) -> int: ...
    def simulate(
        self,
        n_paths: int,
        horizon: int,
        seed: int,
        antithetic: bool,
        threads: int | None,
        chunk_paths: int,
        start: int,
        end: int,
        progress: _Progress | None = None,
        qmc: bool = False,
    ) -> dict[str, Any]:
        """Paths ``start..end``: a dict with ``series`` ({name: float64 (n, h + 1)}), ``units``,
        ``scenario`` (int64), ``onset`` (int64), ``regimes`` (uint8 (n, h + 1) or None),
        ``counts`` and ``offsets``."""

@final
class SummaryJob:
    """A streaming summary of ``n_paths`` paths of a world, pass by pass (pickles to its arguments)."""

    def __new__(
        cls,
        world_toml: str,
        reducers: Sequence[_Reducer],
        month: int,
        n_paths: int,
        horizon: int,
        seed: int,
        antithetic: bool,
        qmc: bool = False,
    ) -> SummaryJob: ...
    @staticmethod
    def for_world(
        world: CoreWorld,
        reducers: Sequence[_Reducer],
        month: int,
        n_paths: int,
        horizon: int,
        seed: int,
        antithetic: bool,
        qmc: bool = False,
    ) -> SummaryJob: ...
    def __getnewargs__(self) -> tuple[str, list[_ReducerOut], int, int, int, int, bool, bool]: ...
    def next_pass(self) -> bytes | None: ...
    def run(
        self,
        pass_bytes: bytes,
        start: int,
        end: int,
        threads: int | None = None,
        chunk_paths: int = 2048,
        progress: _Progress | None = None,
    ) -> bytes: ...
    def merge(self, parts: Sequence[bytes]) -> bytes: ...
    def run_current(
        self, threads: int | None = None, chunk_paths: int = 2048, progress: _Progress | None = None
    ) -> None:
        """Run the current pass over all paths in this process and feed its partial
        (no trip through bytes)."""
    def advance(self, merged: bytes) -> None: ...
    def result(self) -> list[dict[str, Any]]:
        """One dict per (reducer, group): reducer, group (-1 = all), mass, mean, std,
        quantiles, p_above, var_cvar, tail_share (the group's share of the overall tail,
        per CVaR level)."""
    @property
    def complete(self) -> bool:
        """Whether every pass has been fed (``result()`` is ready)."""
    @property
    def counts(self) -> list[int]: ...
    def values(self, series: Mapping[str, _F64]) -> _F64:
        """Every reducer's value on each path of a materialised run (J × n), from the
        series' ``(n_paths, horizon + 1)`` paths in any layout (copied at the months read
        unless they are a simulation's own), with the bits of a streamed summary."""

def summarize_arrays(
    job: SummaryJob, values: _F64, scenario: _I64, probabilities: Sequence[float]
) -> list[dict[str, Any]]: ...

# ---------------------------------------------------------------- risk, views, allocation
def risk_table(
    pnl: _F64, weights: _F64, scenario: _I64, n_scenarios: int, alpha: float
) -> dict[str, npt.NDArray[Any]]:
    """Long-format columns: strategy, scenario (int64), probability, mean, std, var, cvar,
    prob_loss, tail_share (float64)."""

def var_cvar(pnl: _F64, weights: _F64, alpha: float) -> tuple[float, float]: ...
def sparsity_bandwidth(alpha: float, n_eff: float) -> float: ...
def max_drawdown(nav: _F64) -> _F64: ...
def argsort(x: _F64) -> npt.NDArray[np.int64]: ...
def compensated_cumsum(w: _F64) -> _F64: ...
def weighted_moments(x: _F64, w: _F64, std: bool = False) -> tuple[float, float] | None: ...
def gather_run(x: _F64, w: _F64, order: npt.NDArray[np.int64], run: tuple[int, int], total: float) -> tuple[_F64, _F64, _F64]: ...
def calibrated_mean_se(
    xs: Sequence[_F64], w: _F64, group: tuple[int, int], mass: float, ft: npt.NDArray[np.float64],
    s_inv: npt.NDArray[np.float64], blocks: Sequence[tuple[int, int]], pairs: bool,
) -> list[float]: ...
def entropy_pooling(
    prior: _F64,
    a_eq: _F64,
    b_eq: _F64,
    a_ie: _F64,
    b_ie: _F64,
    max_iter: int = ...,
    tol: float = ...,
    progress: _Progress | None = None,
) -> dict[str, Any]:
    """q, relative_entropy, effective_scenarios, iterations, converged, multipliers;
    ``progress(newton_iterations_done, max_iter)`` about ten times a second."""

def mean_cvar(
    returns: _F64,
    weights: _F64,
    alpha: float,
    risk_aversion: float | None = None,
    target_return: float | None = None,
) -> dict[str, Any]:
    """weights, cvar, expected_return, var, zeta, lp_cvar, status, iterations."""

def efficient_frontier(
    returns: _F64, weights: _F64, alpha: float, n_points: int = 20, progress: _Progress | None = None
) -> dict[str, Any]:
    """target_return, expected_return, cvar, var (n_points), weights (n_points, m), status;
    ``progress(points_done, n_points)`` about ten times a second."""

# ---------------------------------------------------------------- calibration and backtests
def calibrate_log_ou(
    levels: _F64,
    dt: float,
    jumps: bool = False,
    fixed: Sequence[float | None] | None = None,
    max_jumps: int = 10,
    log_mean: float | None = None,
) -> dict[str, Any]: ...
def calibrate_gbm_jumps(levels: _F64, dt: float, max_jumps: int = 10) -> dict[str, Any]: ...
def calibrate_ols(y: _F64, x: _F64, nw_lags: int | None = None) -> dict[str, Any]: ...
def newey_west_lags(n: int) -> int: ...
def available_memory() -> int | None: ...
def cached_output_bytes() -> int: ...
def set_output_keep(seconds: float) -> float: ...
def worker_threads() -> int: ...
def check_strategy_name(name: str) -> None: ...
def shock_normals_sum(n_paths: int, horizon: int, seed: int, threads: int | None = None) -> float: ...
def backtest_run(
    prices: _F64, rebalance: Sequence[int], targets: _F64, cost_bps: _F64
) -> dict[str, Any]: ...
