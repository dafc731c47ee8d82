"""geoscenario: scenario Monte Carlo for geopolitical market theses.

Turn a thesis into numbers: named scenarios with analyst probabilities,
shocks arriving at random onset months, commodity-price dislocations and the
factors a positioning strategy depends on, simulated by a Rust engine that is
bit-for-bit reproducible whatever the thread count.

Examples
--------
>>> import geoscenario as gs
>>> sim = gs.World.default().simulate(2_000, seed=0)
>>> sim.summary("potash_spot").columns.tolist()[:3]
['probability', 'mean', 'mean_se']
"""

from . import calibrate, data, distributed, stats
from ._core import __version__
from .backtest import BacktestResult, StressResult, backtest
from .calibrate import BootstrapResult, CalibratedWorld, CalibrationResult
from .errors import (
    ConfigError,
    GeoscenarioError,
    InfeasibleViewsError,
    NumericalError,
    ResourceError,
    UnknownNameError,
)
from .simulation import Simulation
from .strategy import Strategy
from .summary import SummaryResult
from .views import Allocation, View
from .world import World

__all__ = [
    "World",
    "Simulation",
    "Strategy",
    "View",
    "Allocation",
    "SummaryResult",
    "GeoscenarioError",
    "ConfigError",
    "ResourceError",
    "NumericalError",
    "InfeasibleViewsError",
    "UnknownNameError",
    "stats",
    "distributed",
    "calibrate",
    "backtest",
    "data",
    "CalibrationResult",
    "CalibratedWorld",
    "BootstrapResult",
    "BacktestResult",
    "StressResult",
    "__version__",
]


# read by the engine once per process (README, "Environment variables")
_ENVIRONMENT = {
    "GEOSCENARIO_SIMD": ("generic", "avx2", "avx512"),
    "GEOSCENARIO_GATHERS": ("0", "1"),
    "GEOSCENARIO_HUGE_PAGES": ("0", "1"),
}


def _check_environment() -> None:
    """Warn about a set variable whose value the engine would silently ignore."""
    import os
    import warnings

    for name, allowed in _ENVIRONMENT.items():
        value = os.environ.get(name)
        if value and value not in allowed:
            warnings.warn(
                f"{name}={value!r} is not one of {', '.join(allowed)}: ignored",
                RuntimeWarning,
                stacklevel=3,
            )


_check_environment()


def __getattr__(name: str):  # lazy: plotting needs matplotlib, an optional extra
    if name == "plot":
        import importlib

        return importlib.import_module(".plot", __name__)
    raise AttributeError(f"module 'geoscenario' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names, the lazily imported ``plot`` among them."""
    return sorted({*__all__, "plot"})
