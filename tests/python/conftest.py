"""Shared fixtures and helpers of the geoscenario Python test suite.

Everything here uses the installed package only (no files outside the package).
Simulations use fixed seeds and small path counts, and Hypothesis draws the same
examples on every run (see the profiles below), so that the suite is fast and
deterministic.
"""

from __future__ import annotations

import shutil
import tempfile
import textwrap

import numpy as np
import pytest
from hypothesis import settings

import geoscenario as gs

# Hypothesis profiles. Neither keeps an example database on disk: the suite must not write
# outside its temporary directories.
# - "geoscenario" (the default): the same examples on every run, so that a test run is
#   repeatable like the simulations it checks, and CI cannot fail on an input drawn for the
#   first time in an unrelated change.
# - "explore": new random examples on every run, to look for new failing
#   inputs: `python -m pytest tests/python --hypothesis-profile=explore`. Add what it finds as
#   an `@example` to the test, so that the default profile keeps checking it.
settings.register_profile("geoscenario", database=None, deadline=None, derandomize=True)
settings.register_profile("explore", database=None, deadline=None)
settings.load_profile("geoscenario")
_HYPOTHESIS_HOME: str | None = None


def pytest_configure(config):
    """Keep Hypothesis' caches in a temporary directory, not in the working directory."""
    global _HYPOTHESIS_HOME
    try:
        from hypothesis.configuration import set_hypothesis_home_dir
    except ImportError:  # pragma: no cover - older Hypothesis
        return
    _HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="geoscenario-hypothesis-")
    set_hypothesis_home_dir(_HYPOTHESIS_HOME)


def pytest_unconfigure(config):
    if _HYPOTHESIS_HOME is not None:
        shutil.rmtree(_HYPOTHESIS_HOME, ignore_errors=True)

# ---------------------------------------------------------------------------- constants
DT = 1.0 / 12.0  # the monthly grid of MODEL.md §2
N_SIGMA = 4.0  # statistical tolerances: 4 standard errors


# ---------------------------------------------------------------------------- helpers
def toml_world(body: str) -> gs.World:
    """A world from inline TOML (dedented)."""
    return gs.World.from_toml(textwrap.dedent(body))


def single_factor_toml(
    kind: str,
    params: str,
    *,
    initial: str = "initial = 100.0",
    extra_factor_keys: str = "",
    horizon: int = 24,
    name: str = "x",
) -> str:
    """TOML text of a one-scenario world with one factor ``name``."""
    return textwrap.dedent(
        f"""\
        [world]
        name = "single"
        start = "2025-06"
        horizon_months = {horizon}

        [factors.{name}]
        kind = "{kind}"
        unit = "u"
        {initial}
        {extra_factor_keys}

        [scenarios.base]
        probability = 1.0
        {name} = {{ {params} }}
        """
    )


def assert_bit_identical(a: gs.Simulation, b: gs.Simulation) -> None:
    """Every output of two simulations is bit-for-bit the same."""
    assert list(a.units) == list(b.units)
    for name in a.units:
        x, y = a.paths(name), b.paths(name)
        assert x.shape == y.shape, name
        assert np.array_equal(x, y), name
        # bit patterns too (array_equal treats 0.0 == -0.0)
        assert np.array_equal(x.view(np.uint64), y.view(np.uint64)), name
    assert np.array_equal(a.scenario, b.scenario)
    assert np.array_equal(a.onset, b.onset)
    assert np.array_equal(a.weights, b.weights)
    if a.regimes is None:
        assert b.regimes is None
    else:
        assert b.regimes is not None
        assert np.array_equal(a.regimes, b.regimes)
    assert a.counts == b.counts


def sample_var_se(x: np.ndarray) -> tuple[float, float]:
    """Sample variance and its standard error sqrt((m4 - m2^2) / n) (any distribution)."""
    x = np.asarray(x, dtype=float)
    n = x.size
    c = x - x.mean()
    m2 = float(np.mean(c**2))
    m4 = float(np.mean(c**4))
    return float(x.var(ddof=1)), float(np.sqrt(max(m4 - m2 * m2, 0.0) / n))


def assert_mean_close(x: np.ndarray, expected: float, what: str = "mean") -> None:
    """Sample mean of ``x`` within N_SIGMA standard errors of ``expected``."""
    x = np.asarray(x, dtype=float)
    se = x.std(ddof=1) / np.sqrt(x.size)
    assert abs(x.mean() - expected) <= N_SIGMA * se + 1e-12 * max(1.0, abs(expected)), (
        f"{what}: sample {x.mean()!r} vs expected {expected!r} (SE {se!r})"
    )


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def default_world() -> gs.World:
    """The embedded default world (belarus_china_2025)."""
    return gs.World.default()


@pytest.fixture(scope="module")
def sim(default_world: gs.World) -> gs.Simulation:
    """A small default-world simulation: 20,000 paths, seed 0, default horizon (24)."""
    return default_world.simulate(20_000, seed=0)


@pytest.fixture(scope="session")
def markov_world(default_world: gs.World) -> gs.World:
    """The default world with Markov regimes (rows sum to 1, one zero entry)."""
    return default_world.with_params(
        {
            "world.regimes": "markov",
            "transitions.base.base": 0.9,
            "transitions.base.bull": 0.05,
            "transitions.base.bear": 0.05,
            "transitions.bull.base": 0.1,
            "transitions.bull.bull": 0.85,
            "transitions.bull.bear": 0.05,
            "transitions.bear.base": 0.05,
            "transitions.bear.bear": 0.95,
            "scenarios.bull.onset": None,  # unused by Markov regimes
            "scenarios.bear.onset": None,
        }
    )
