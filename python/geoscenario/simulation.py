"""The result of :meth:`World.simulate`: paths, scenarios, weights and their statistics."""

from __future__ import annotations

import itertools
import math
import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import _core, _progress, _validate, stats
from ._format import count, percent, table_html
from .errors import ConfigError, ResourceError, UnknownNameError, invalid, warn
from .summary import (
    MAX_MIXES,
    QUANTILES,
    SummaryResult,
    build_reducers,
    check_alpha,
    check_mixes,
    check_quantiles,
    check_thresholds,
    mix_terms,
)
from .views import Allocation, View, _kish

if TYPE_CHECKING:
    from .world import World

#: The run's record, set when the simulation is built (see ``Simulation.__setattr__``).
_READ_ONLY = frozenset({"world", "n_paths", "horizon_months", "seed", "antithetic", "qmc", "elapsed",
                        "scenario", "onset", "regimes", "posterior"})

__all__ = ["MAX_MIXES", "Simulation"]


def _available_memory() -> int | None:
    """Bytes this process can get now, as ``simulate`` reads it (the least of the
    machine's ``MemAvailable``, its memory cgroup's headroom and ``ulimit -v``'s), or
    None if unknown."""
    return _core.available_memory()


def _long_table_bytes(n_paths: int, months: int, n_series: int) -> int:
    """Bytes :meth:`Simulation.to_pandas` allocates for the long table: per row the
    series (8 bytes each, copied into one block), the weight and the onset or
    regime (8 + 8), the scenario code (1), the path and month index codes (8 + 8)
    and the repeated arrays the columns are built from (8 + 8)."""
    return n_paths * months * (8 * n_series + 49)


def _refuse_long_table(need: int, what: str, available: int | None) -> ResourceError:
    have = f"{available / 2**30:,.2f} GiB available" if available is not None else "more than could be allocated"
    return ResourceError(
        f"{what} as a long table: needs {need / 2**30:,.2f} GiB, {have} (use month= for one month, "
        "fewer series, or summary())"
    )


def _timing(onset: np.ndarray, regime: np.ndarray | None, names: list[str]) -> dict[str, Any]:
    """The column that says when a path's scenario holds, row by row: ``onset`` (static
    scenarios), or ``regime`` (Markov regimes: the regime index of each row)."""
    if regime is None:
        return {"onset": np.asarray(onset, dtype=np.int64)}
    return {"regime": pd.Categorical.from_codes(regime.astype(np.int64), categories=names)}


#: Bytes of reducer values (a float64 row per reducer and path) a summary or risk table
#: of a simulation holds at a time.
REDUCE_BYTES = 256 << 20


def _binds(view: View, lam: float, f: np.ndarray, mean: float, error: Callable[[], float], tol: float) -> bool:
    """Whether a posterior's ``view`` (multiplier ``lam``, NaN when not kept: pickled before
    they were) moves its weights with the paths, so that its standard errors must count it.

    A nonzero multiplier does. The solve meets each view within ±tol·scale (scale as
    :meth:`Simulation.with_views` measures it) and leaves the weights alone (multiplier 0)
    when they already do: an inequality then is slack, and an equality binds if that band
    is narrower than the Monte Carlo ``error()`` of its mean ``mean`` of ``f`` (other paths
    would fall outside it, and be tilted back to it), not if a loose ``tol`` makes the band
    wider. A NaN multiplier is told from the posterior mean: an inequality binds at its bound."""
    if math.isinf(lam):  # at the edge of its range: the weights rest on the paths at the edge,
        return False  # a restriction to them fixed by the paths' values, not a fitted tilt
    if lam != 0.0 and not math.isnan(lam):
        return True
    nonzero = np.abs(f[f != 0])
    scale = max(float(np.median(nonzero)) if nonzero.size else 0.0, abs(view.value))
    band = max(tol, 1e-8) * scale
    if view.op != "==":
        return math.isnan(lam) and abs(mean - view.value) <= band
    return band < error()


def _counter(shown: _progress.Progress | None, first: int, total: int) -> Callable[[int], None]:
    """``done(k)``: report ``first + k`` of ``total`` reducers done to ``shown`` (if any)."""
    if shown is None:
        return lambda k: None
    return lambda k: shown(first + k, total)


class Simulation:
    """Simulated paths of every series, with each path's scenario and weight.

    Arrays are float64, C-contiguous, shape ``(n_paths, horizon_months + 1)``,
    handed over from the engine without a copy (read-only). Statistics are
    weighted by ``weights``; :meth:`reweight` changes scenario probabilities
    without re-simulating. ``len(sim)`` is the number of paths.

    Attributes
    ----------
    world
        The :class:`~geoscenario.World` simulated.
    n_paths, horizon_months, seed, antithetic, qmc
        The run's arguments.
    elapsed
        Seconds the engine took.
    scenario
        int64 ``(n_paths,)``: each path's scenario, an index into :attr:`scenario_names`
        (with Markov regimes, its regime at month 0); ``to_pandas()`` gives it as a
        categorical. ``sim.scenario == sim.scenario_names.index("bear")`` selects a
        scenario's paths.
    onset
        int64 ``(n_paths,)``: the month each path's scenario starts, −1 for base paths
        (and for every path under Markov regimes).
    regimes
        uint8 ``(n_paths, horizon_months + 1)``: each path's regime month by month under
        Markov regimes, None with static ones.
    posterior
        After :meth:`with_views`: the solve's details (relative entropy, effective
        scenarios, iterations, views); None otherwise.

    Examples
    --------
    >>> import geoscenario as gs
    >>> sim = gs.World.default().simulate(3_000, seed=7)
    >>> sim.scenario_names, len(sim)
    (['base', 'bull', 'bear'], 3000)
    >>> round(float(sim.weights.sum()), 12)
    1.0
    """

    world: World
    n_paths: int
    horizon_months: int
    seed: int
    antithetic: bool
    qmc: bool = False
    elapsed: float
    scenario: np.ndarray
    onset: np.ndarray
    regimes: np.ndarray | None
    _posterior: dict[str, Any] | None
    _series: dict[str, np.ndarray]
    _units: dict[str, str]
    _counts: list[int]
    _offsets: list[int]
    _probs: list[float]
    _weights: np.ndarray
    _custom: np.ndarray | None
    _pooled_from: Simulation  # set on a posterior: the simulation with_views was called on

    def __init__(self) -> None:  # pragma: no cover - built by World.simulate
        raise TypeError("Simulation objects are created by World.simulate()")

    def __setattr__(self, name: str, value: Any) -> None:
        # the run's record: n_paths = 5 on 10,000 paths broke every statistic later
        if name in _READ_ONLY:
            raise AttributeError(
                f"Simulation.{name} is read-only: a simulation is immutable (simulate again, or "
                "use reweight / with_views for new weights)"
            )
        object.__setattr__(self, name, value)

    def __len__(self) -> int:
        return self.n_paths

    @classmethod
    def _from_raw(
        cls,
        world: World,
        raw: dict[str, Any],
        *,
        n_paths: int,
        horizon: int,
        seed: int,
        antithetic: bool,
        elapsed: float,
    ) -> Simulation:
        self = object.__new__(cls)
        self.__dict__.update(world=world, n_paths=n_paths, horizon_months=horizon, seed=seed,
                             antithetic=antithetic, elapsed=elapsed)
        self._series = dict(raw["series"])
        for arr in self._series.values():
            arr.flags.writeable = False
        self._units = dict(zip(self._series, raw["units"]))
        # scenario: index of every path into scenario_names; onset: month τ of every
        # path (−1 for base paths and in Markov mode): months 0..τ−1 follow the base
        # parameters, the onset jumps land at month τ, the scenario's parameters drive
        # the steps from τ on
        self.__dict__.update(scenario=raw["scenario"], onset=raw["onset"], regimes=raw["regimes"])
        for key in ("scenario", "onset", "regimes"):
            if raw[key] is not None:
                raw[key].flags.writeable = False
        self._counts = list(raw["counts"])
        self._offsets = list(raw["offsets"])
        self._set_probabilities(list(world.probabilities.values()))
        return self

    def __setstate__(self, state: dict[str, Any]) -> None:
        # unpickled arrays come back writeable: the paths stay read-only, as simulated
        if "posterior" in state:  # pickled by a version that kept it as a plain attribute
            state["_posterior"] = state.pop("posterior")
        if state.get("_posterior") is not None:
            post = {**state["_posterior"], "views": tuple(state["_posterior"]["views"])}
            if "kish_effective_scenarios" not in post:  # pickled before these were kept
                w = np.asarray(state["_weights"] if state.get("_custom") is None else state["_custom"], dtype=float)
                post["kish_effective_scenarios"] = _kish(w)
                post["max_weight"] = float(w.max())
                post["multipliers"] = (float("nan"),) * len(post["views"])  # not kept: re-pool to see them
            state["_posterior"] = post
        self.__dict__.update(state)
        frozen = (*self._series.values(), self.scenario, self.onset, self.regimes, self._weights,
                  self._custom, *self.__dict__.get("_dd_cache", {}).values())
        for arr in frozen:
            if arr is not None:
                arr.flags.writeable = False

    def _set_probabilities(self, probs: Sequence[float]) -> None:
        self._custom = None
        self._posterior = None
        names = self.scenario_names
        for name, p, n in zip(names, probs, self._counts):
            if p > 0 and n == 0:
                raise invalid(
                    f"probabilities.{name}",
                    "has no simulated paths (its prior was 0); simulate with a small positive prior",
                )
        self._probs = [float(p) + 0.0 for p in probs]  # (−0.0 is 0, not a "-0%" in the report)
        per = np.array([p / n if n else 0.0 for p, n in zip(self._probs, self._counts)])
        w = per[self.scenario]
        w.flags.writeable = False
        self._weights = w

    # ------------------------------------------------------------------ data
    @property
    def scenario_names(self) -> list[str]:
        """Scenario names; ``scenario`` holds indices into this list.

        Returns
        -------
        list of str
            The world's scenarios in config order.

        Examples
        --------
        >>> import geoscenario as gs
        >>> sim = gs.World.default().simulate(1_000, seed=0)
        >>> sim.scenario_names
        ['base', 'bull', 'bear']
        >>> sim.scenario_names[sim.scenario[0]]
        'base'
        """
        return self.world.scenario_names

    @property
    def probabilities(self) -> dict[str, float]:
        """Scenario probabilities the weights represent (under views: each scenario's posterior mass).

        Returns
        -------
        dict of str to float
            By scenario; the world's priors unless changed by :meth:`reweight` or
            :meth:`with_views`.

        Examples
        --------
        >>> import geoscenario as gs
        >>> sim = gs.World.default().simulate(1_000, seed=0)
        >>> sim.probabilities
        {'base': 0.55, 'bull': 0.25, 'bear': 0.2}
        >>> sim.reweight({"base": 0.5, "bull": 0.2, "bear": 0.3}).probabilities["bear"]
        0.3
        """
        if self._custom is not None:
            # (a sum of posterior weights can round above 1 by an ulp or so: a probability is not)
            return {
                n: min(1.0, float(self._custom[self._block(k)].sum())) for k, n in enumerate(self.scenario_names)
            }
        return dict(zip(self.scenario_names, self._probs))

    @property
    def counts(self) -> dict[str, int]:
        """Paths simulated in each scenario (stratified allocation).

        Returns
        -------
        dict of str to int
            By scenario; the counts add up to ``n_paths``.

        Examples
        --------
        >>> import geoscenario as gs
        >>> sim = gs.World.default().simulate(2_000, seed=0)
        >>> sim.counts
        {'base': 1100, 'bull': 500, 'bear': 400}
        >>> sum(sim.counts.values()) == sim.n_paths
        True
        """
        return dict(zip(self.scenario_names, self._counts))

    @property
    def weights(self) -> np.ndarray:
        """Path weights: w_i = p_{s(i)} / n_{s(i)}, or the posterior after :meth:`with_views`; they sum to 1.

        Returns
        -------
        numpy.ndarray
            Read-only float64 array of shape ``(n_paths,)``.

        Examples
        --------
        >>> import geoscenario as gs
        >>> sim = gs.World.default().simulate(2_000, seed=0)
        >>> sim.weights.shape, round(float(sim.weights.sum()), 12)
        ((2000,), 1.0)
        >>> bear = sim.scenario == sim.scenario_names.index("bear")
        >>> round(float(sim.weights[bear].sum()), 12)  # the bear prior
        0.2
        """
        # a view of the read-only array: its flag cannot be set back to writeable
        return (self._weights if self._custom is None else self._custom)[:]

    @property
    def posterior(self) -> dict[str, Any] | None:
        """After :meth:`with_views`: the solve's details; None otherwise.

        Returns
        -------
        dict or None
            ``relative_entropy`` (KL(q‖prior)), ``effective_scenarios`` (exp(−Σ q ln q)),
            ``kish_effective_scenarios`` (1/Σ q², which falls to about 4 when half the
            weight is on one path; the exp of the entropy does not see that),
            ``max_weight`` (the largest q), ``multipliers`` (one λ_j per view, in the
            order of ``views``: q ∝ prior · exp(Σ_j λ_j f_j) with f_j the view's function,
            the series or the indicator of the event; λ_j = ∂ relative_entropy / ∂ b_j, how
            fast the views' cost grows with view j's value; 0 for a slack inequality, ±inf
            at the edge of a range), ``iterations``, ``converged``, ``views`` (a tuple of
            every view in force), ``max_iter`` and ``tol``: a copy, so that changing it
            changes nothing here.

        Examples
        --------
        >>> import geoscenario as gs
        >>> sim = gs.World.default().simulate(2_000, seed=0)
        >>> sim.posterior is None
        True
        >>> post = sim.with_views(gs.View.mean("potash_spot", 420))
        >>> post.posterior["views"]
        (View(E[potash_spot] == 420 at horizon),)
        """
        return None if self._posterior is None else dict(self._posterior)

    @property
    def units(self) -> dict[str, str]:
        """Unit of every simulated series, by name.

        Returns
        -------
        dict of str to str
            Factors, derived series and strategy NAVs (unit ``"NAV"``), as
            :attr:`World.units`; the keys are the names :meth:`paths` accepts.

        Examples
        --------
        >>> import geoscenario as gs
        >>> sim = gs.World.default().simulate(1_000, seed=0)
        >>> sim.units["potash_spot"], sim.units["commodities_arbitrage"]
        ('USD/t', 'NAV')
        >>> sim.units == sim.world.units
        True
        """
        return dict(self._units)

    @property
    def factors(self) -> dict[str, str]:
        """Unit of every simulated factor, by name, as :attr:`World.factors` (derived
        series and strategy NAVs are in :attr:`units`).

        Returns
        -------
        dict of str to str

        Examples
        --------
        >>> import geoscenario as gs
        >>> sim = gs.World.default().simulate(1_000, seed=0)
        >>> list(sim.factors)[:2], "dislocation" in sim.factors
        (['potash_spot', 'contract_price'], False)
        """
        return {name: self._units[name] for name in self.world.factors}

    @property
    def months(self) -> pd.DatetimeIndex:
        """Month-start dates of t = 0..horizon.

        Returns
        -------
        pandas.DatetimeIndex
            ``horizon_months + 1`` month starts (``freq="MS"``, name ``month``),
            the first the world's start month; one per column of :meth:`paths`.

        Examples
        --------
        >>> import geoscenario as gs
        >>> sim = gs.World.default().simulate(1_000, seed=0)
        >>> len(sim.months), str(sim.months[0].date()), str(sim.months[-1].date())
        (25, '2025-06-01', '2027-06-01')
        """
        labels = self.world._core.month_labels(self.horizon_months)
        return pd.DatetimeIndex(pd.to_datetime(labels, format="%Y-%m"), freq="MS", name="month")

    def paths(self, name: str) -> np.ndarray:
        """The ``(n_paths, horizon_months + 1)`` array of series ``name`` (no copy).

        Parameters
        ----------
        name
            A series: any key of :attr:`units` (factor, derived series or strategy NAV).

        Returns
        -------
        numpy.ndarray
            Read-only float64 array, C-contiguous; column 0 is the initial state.

        Raises
        ------
        ConfigError
            ``name`` is not a simulated series.

        Examples
        --------
        >>> import geoscenario as gs
        >>> sim = gs.World.default().simulate(1_000, seed=0)
        >>> x = sim.paths("potash_spot")
        >>> x.shape, x.flags.writeable
        ((1000, 25), False)
        >>> bool((x[:, 0] == 352.0).all())  # every path starts at the initial value
        True
        >>> bool((sim.paths("direct_belarus")[:, 0] == 1.0).all())  # NAVs start at 1
        True
        """
        try:
            return self._series[name]
        except (KeyError, TypeError):
            raise invalid("name", f"{name!r} is not a series (series: {', '.join(self._series)})") from None

    def __getitem__(self, name: str) -> np.ndarray:
        """``sim[name]`` is :meth:`paths` ``(name)``: the series' read-only array.

        Examples
        --------
        >>> import geoscenario as gs
        >>> sim = gs.World.default().simulate(1_000, seed=0)
        >>> sim["potash_spot"] is sim.paths("potash_spot"), "potash_spot" in sim
        (True, True)

        A name that is not a series raises :class:`~geoscenario.UnknownNameError`, both a
        ``KeyError`` and a ``ConfigError``.
        """
        if name not in self:
            try:
                self.paths(name)
            except ConfigError as e:
                raise UnknownNameError(str(e), e.path) from None
        return self.paths(name)

    def __contains__(self, name: object) -> bool:
        """Whether ``name`` is a simulated series (a key of :attr:`units`)."""
        return isinstance(name, str) and name in self._series

    # a Simulation is indexed by series name, not by position: not iterable
    __iter__ = None

    def month_index(self, month: int | str | None = None) -> int:
        """Column index of a month given as an index (negative from the end), a label
        ``"YYYY-MM"``, any date in a simulated month (a string, ``datetime``,
        ``numpy.datetime64`` or ``pandas.Timestamp``), a ``pandas.Period`` within one
        month, or None for the horizon. A date string that starts with its day or month
        (``"02/01/2026"``: 2 January or 1 February?) and a quarter (``"2026Q2"``) are
        refused: write ``"YYYY-MM"`` or ``"YYYY-MM-DD"``.

        Parameters
        ----------
        month
            One of the forms above.

        Returns
        -------
        int
            In ``0..horizon_months``: the column of the month in :meth:`paths`.

        Examples
        --------
        >>> import geoscenario as gs
        >>> sim = gs.World.default().simulate(100, seed=0)
        >>> sim.month_index("2026-06"), sim.month_index(-1)
        (12, 24)
        """
        return self._month_index(month)

    def _month_index(self, month: Any) -> int:
        return _validate.month(month, self.horizon_months, self.world._core.month_labels(self.horizon_months))

    def _block(self, k: int) -> slice:
        return slice(self._offsets[k], self._offsets[k] + self._counts[k])

    def _blocks(self) -> list[slice]:
        """Every scenario's block of paths, in order."""
        return [self._block(k) for k in range(len(self.scenario_names))]

    # ------------------------------------------------------------------ statistics
    def reweight(self, probabilities: Mapping[str, float]) -> Simulation:
        """The same paths under other scenario probabilities (no re-simulation).

        ``probabilities`` maps every scenario to its probability; they must sum to 1
        within 1e-6 (float32 values are normalised). On a posterior of
        :meth:`with_views` the new probabilities replace the prior's and the views are
        applied again to it, so they still hold.

        Parameters
        ----------
        probabilities
            ``{scenario: probability}`` (or a pandas Series so indexed) for every scenario.

        Returns
        -------
        Simulation
            Sharing the paths (no copy), with new ``weights`` and ``probabilities``
            (on a posterior, its scenarios' posterior masses, which the views move away
            from the probabilities given: those are the new prior).

        Examples
        --------
        >>> import geoscenario as gs
        >>> sim = gs.World.default().simulate(3_000, seed=7)
        >>> sim.reweight({"base": .4, "bull": .2, "bear": .4}).probabilities["bear"]
        0.4
        """
        info = self._posterior
        if info is not None:  # keep the views: pool them again over the new prior
            prior = self._pooled_from.reweight(probabilities)
            return prior.with_views(info["views"], max_iter=info["max_iter"], tol=info["tol"],
                                    progress=self.__dict__.get("_pool_progress", "auto"))
        probs = _validate.probability_map("probabilities", probabilities, self.scenario_names)
        new = object.__new__(Simulation)
        new.__dict__.update(self.__dict__)
        new._set_probabilities(probs)
        return new

    def summary(
        self,
        series: str | Sequence[str] | None = None,
        *,
        month: int | str | None = None,
        quantiles: Sequence[float] = QUANTILES,
        thresholds: Mapping[str, float] | None = None,
        progress: bool | str = "auto",
    ) -> pd.DataFrame:
        """Weighted statistics at one month, by scenario and overall.

        Parameters
        ----------
        series
            Series names (default: all).
        month
            Month index (negative counts from the end), label ``"YYYY-MM"`` or any date in
            the month (e.g. an entry of :attr:`months`); default the horizon.
        quantiles
            Quantile levels (exact: the smallest sample value whose weighted CDF reaches q).
        thresholds
            ``{series: level}`` adds P(X > level); default the world's ``[thresholds]``
            among the series summarised (the default world: potash_spot above 450).
        progress
            ``"auto"`` (default) shows a progress bar (tqdm if installed, else a plain
            line on stderr) when the statistics take over a second: those of a posterior
            from views, whose errors count the views' fit, computed over every path for
            one quantity (a series, a strategy's return or drawdown) at a time; ``True``
            always, ``False`` never. A prior's, or a reweighted prior's, come from the
            core at once.

        Returns
        -------
        pandas.DataFrame
            Index (series, scenario) with scenario ``"all"`` for the weighted total
            (a scenario of probability 0, whose paths weigh nothing, has no rows);
            columns probability, mean, mean_se (the mean's Monte Carlo standard error,
            see below), std (the weighted population standard deviation,
            sqrt(Σ w (x − mean)²) over weights summing to 1: no small-sample
            correction, 0 for one path), each quantile followed by its standard error
            (q05, q05_se, q50, q50_se, q95, q95_se), threshold, p_above and
            p_above_se (its standard error, as ``mean_se``: the error of the mean of the
            indicator X > threshold), all
            float64 (``summary(...) - other.summary(...)`` compares two runs);
            ``attrs["units"]`` maps each series to its unit, and ``attrs["month"]``
            names the month. The numbers have the same bits as
            :meth:`World.simulate_summary` over the same paths.

        Notes
        -----
        ``mean_se`` is the standard error of ``mean`` as an estimate of the expectation
        (``p_above_se`` that of ``p_above``, the mean of the indicator X > threshold),
        from the run's own paths. Each scenario's paths are independent draws in a block
        of fixed size n_k (the scenarios are sampled in proportion, not at random), so a
        scenario's is s_k / sqrt(n_k) with s_k the sample standard deviation (divisor
        n_k − 1) and the overall row's is sqrt(Σ p_k² s_k² / n_k). Under ``antithetic``
        the independent draws are the n_k / 2 pairs, and s_k is that of the pairs' means.
        Under :meth:`reweight` each scenario's is the delta-method error of its weighted
        mean with the weights taken as given. Under a posterior (views) the weights are
        fitted to these same paths, and the error counts that too (the linearisation of
        the entropy-pooling estimate, whose multipliers move with the paths): it is that
        of the residual of x regressed on the binding views' functions, so a mean that a
        view pins has error 0 and one correlated with a viewed quantity less than its
        weights alone would give (docs/MODEL.md §6). A view at the edge of its range
        restricts the weights to the paths at the edge (P(X > c) = 1: those above c), and
        the errors are those of that restriction; NaN when a scenario's weights rest on
        fewer than 2 effective paths (Kish's (Σw)²/Σw²). It is
        NaN for a scenario of a single path (or pair), and for ``qmc`` runs, whose
        points are not independent (an error estimate needs independent
        randomisations: ``World.simulate_summary(..., qmc=True, replicates=R)``).

        A quantile's error (``q05_se`` …) is Bahadur's, as ``var_se`` in :meth:`risk_table`:
        the error of the share of the weight at or below the quantile times the sparsity
        1/f, the secant of the quantile function between the levels q ∓ δ (Hall and
        Sheather's δ; docs/MODEL.md §6). It is a first-order error for a smooth
        distribution, and fits the quantile's spread over seeds with a hundred or more paths
        on the shorter side of the quantile (fewer overstate it). It can be 2–3 times off
        either way where the distribution is not smooth at the quantile: between the modes
        of a bimodal one (the median of a scenario whose paths split at its onset), on a
        count series (discrete values) and near the edge of an atom (a NAV stopped at 0). It
        is 0 on an atom of several paths; NaN when a path weighs more than the shorter tail
        min(q, 1 − q) (the minimum and the maximum are one path's values) or a single path
        (or pair) spans q ∓ δ, for ``qmc`` runs, and under ``antithetic`` when every pair of
        a scenario straddles the quantile (the median of a response symmetric in the shocks,
        whose first-order error vanishes but not its error).

        Examples
        --------
        >>> import geoscenario as gs
        >>> sim = gs.World.default().simulate(3_000, seed=7)
        >>> sim.summary("potash_spot").index.get_level_values("scenario").tolist()
        ['base', 'bull', 'bear', 'all']
        """
        t = self._month_index(month)
        names = _validate.names("series", series, list(self._series))
        qs = check_quantiles(quantiles)
        th = check_thresholds(thresholds, names, self.world.thresholds)
        return self._reduce(build_reducers(names, [], qs, th, None), t, qs, None, progress).table

    def risk_table(
        self, alpha: float = 0.95, strategies: str | Sequence[str] | None = None,
        quantiles: Sequence[float] = QUANTILES, *,
        mixes: Mapping[str, Allocation | Mapping[str, float]] | None = None,
        month: int | str | None = None,
        progress: bool | str = "auto",
    ) -> pd.DataFrame:
        """Return and risk of strategies over the horizon (or to ``month``), by scenario and overall.

        Returns are NAV_t − 1 at month t (the horizon H by default); VaR and CVaR are of
        the loss 1 − NAV_t at level ``alpha`` (CVaR_α = VaR_α + E[(L − VaR_α)⁺]/(1 − α),
        exact with ties); p_loss = P(NAV_t < 1).

        Parameters
        ----------
        alpha
            VaR/CVaR level in [0.5, 1): 0.95 is the mean of the worst 5% of losses.
        strategies
            A strategy's name or a list of them (default: all the world's strategies;
            ``[]`` for the mixes alone).
        quantiles
            Levels of the return quantile columns, in [0, 1].
        mixes
            ``{name: weights}`` (at most 1,000): buy-and-hold mixes of strategies to add
            as rows after the strategies, each weights an :class:`Allocation` or
            ``{strategy: weight}`` (a dict or Series). A mix's NAV is :meth:`mix_nav` of
            its weights; with short weights it can fall below 0, and its maximum
            drawdown exceed 1.
        month
            The month the returns run to, as in :meth:`month_index` (default: the
            horizon): a 12-month VaR from a 24-month simulation. Drawdowns run to it too;
            the streamed ``World.simulate_summary(month=...)`` gives the same rows.
        progress
            As in :meth:`summary` (a posterior's risk table takes seconds on a million
            paths).

        Returns
        -------
        pandas.DataFrame
            Indexed by (strategy, scenario), scenario ``"all"`` last (a scenario of
            probability 0 has no rows); columns
            ``probability``, ``mean_return``, ``mean_return_se`` (its Monte Carlo
            standard error, as ``mean_se`` in :meth:`summary`), ``std`` (weighted,
            population: as in :meth:`summary`), one per return quantile, each followed
            by its standard error (``q05``, ``q05_se``, ..., as in :meth:`summary`),
            ``var``, ``var_se``, ``cvar``, ``cvar_se`` (their Monte Carlo standard
            errors, see below), ``p_loss``, ``p_loss_se`` (its standard error),
            ``tail_share`` (the scenario's share of the probability of the overall
            CVaR tail, the worst 1 − α of paths) and
            ``max_drawdown`` (the mean of the paths' maximum drawdowns). ``var`` is the
            α-quantile of the loss (the smallest loss whose weighted CDF reaches α), not
            −``q05`` (the smallest return whose CDF reaches 0.05): on finitely many
            paths the two are usually neighbouring order statistics, not one value.

        Notes
        -----
        ``var_se`` and ``cvar_se`` linearise the two estimators (docs/MODEL.md §6), as
        ``mean_se`` does a mean, on the same paths, weights and draws (a posterior's fit and
        antithetic pairs included): the VaR's error is that of the share of paths at or
        below it times the sparsity 1/f(VaR) (Bahadur's representation of a quantile),
        estimated by the secant of the quantile function between the levels α ∓ δ with Hall
        and Sheather's bandwidth δ; the CVaR's is that of the mean of the excess loss
        (L − VaR)+, over 1 − α. They are first-order errors, reliable with a hundred or more
        paths beyond the VaR (fewer overstate the VaR's); at an atom of the loss (a NAV
        stopped at 0) the VaR's is 0 well inside it and too small near its edge. NaN for
        ``qmc`` runs, when a path of the row weighs more than the tail 1 − α, and the VaR's
        when every antithetic pair of a scenario straddles it (at the median).

        Examples
        --------
        >>> import geoscenario as gs
        >>> sim = gs.World.default().simulate(3_000, seed=7)
        >>> t = sim.risk_table(0.95)
        >>> bool((t["var"] <= t["cvar"] + 1e-12).all())
        True
        >>> a = sim.allocate(0.95)
        >>> mix = sim.risk_table(0.95, [], mixes={"min_cvar": a}).loc["min_cvar"]
        >>> abs(float(mix.loc["all", "cvar"]) - a.cvar) < 1e-12
        True
        """
        a = check_alpha(alpha)
        mixed = check_mixes(mixes, list(self.world.strategies))
        if _validate.is_sequence(strategies):
            strategies = list(strategies)
        if mixed and strategies == []:
            names: list[str] = []
        else:
            names = _validate.names("strategies", strategies, list(self.world.strategies), ("strategy", "strategies"))
        t = self.horizon_months if month is None else self._month_index(month)

        qs = check_quantiles(quantiles)
        reducers = build_reducers([], names, qs, {}, a, mixed)
        return self._reduce(reducers, t, qs, a, progress).risk

    def max_drawdown(self, strategy: str) -> np.ndarray:
        """Per-path maximum drawdown of a strategy's NAV: max_t (1 − NAV_t / max_{s≤t} NAV_s).

        Read-only, like :meth:`paths` (``.copy()`` to edit): the risk table reads the same array.

        Parameters
        ----------
        strategy
            Name of one of the world's strategies.

        Returns
        -------
        numpy.ndarray
            Shape ``(n_paths,)``, in [0, 1].

        Examples
        --------
        >>> import geoscenario as gs
        >>> sim = gs.World.default().simulate(1_000, seed=3)
        >>> dd = sim.max_drawdown("commodities_arbitrage")
        >>> dd.shape, bool(((dd >= 0) & (dd <= 1)).all())
        ((1000,), True)
        """
        if not isinstance(strategy, str) or strategy not in self.world.strategies:
            known = ", ".join(self.world.strategies) or "none in this world"
            raise invalid("strategy", f"{strategy!r} is not a strategy (strategies: {known})")
        return self._drawdowns(strategy)

    def _drawdowns(self, strategy: str) -> np.ndarray:
        """Per-path maximum drawdown of a NAV series (cached, read-only as the paths are)."""
        cache = self.__dict__.setdefault("_dd_cache", {})
        if strategy not in cache:
            dd = _core.max_drawdown(np.ascontiguousarray(self._series[strategy]))
            dd.flags.writeable = False
            cache[strategy] = dd
        return cache[strategy]

    def mix_nav(self, weights: Allocation | Mapping[str, float]) -> np.ndarray:
        """NAV paths of a buy-and-hold mix of strategies: 1 + Σ_s w_s (NAV_s,t − 1).

        Capital 1 is split across the strategies at month 0 and each sleeve then
        follows its strategy's NAV, with no rebalancing across strategies (the mix
        :meth:`allocate` optimises). Weights need not sum to one: the remainder is
        cash earning nothing, and a negative weight is a short of that strategy.

        Parameters
        ----------
        weights
            An :class:`Allocation`, or ``{strategy: weight}`` (a dict or a Series
            indexed by strategy), each weight in [−100, 100]; strategies left out weigh 0.

        Returns
        -------
        numpy.ndarray
            float64 ``(n_paths, horizon_months + 1)``, column 0 equal to 1.

        Examples
        --------
        >>> import geoscenario as gs
        >>> sim = gs.World.default().simulate(1_000, seed=0)
        >>> nav = sim.mix_nav({"commodities_arbitrage": 0.5, "direct_belarus": 0.5})
        >>> nav.shape, bool((nav[:, 0] == 1.0).all())
        ((1000, 25), True)
        """
        return self._nav_of(mix_terms("weights", weights, list(self.world.strategies)))

    def _nav_of(self, terms: list[tuple[str, float]]) -> np.ndarray:
        """A mix's NAV paths from its terms, summed from 1 term by term in the order of
        ``terms`` (the strategies' order, see ``mix_terms``), as the core sums a streamed mix."""
        nav = np.ones((self.n_paths, self.horizon_months + 1))
        for s, v in terms:
            nav += v * (self._series[s] - 1.0)
        return nav

    def _reduce(self, reducers, t, qs, alpha, progress: bool | str = False) -> SummaryResult:
        """Run ``reducers`` at month ``t``: in the core under the run's own weights, with
        the Python statistics under arbitrary ones (posterior views). The core computes
        every reducer's values on the paths (a + b·value, a mix's NAV, a maximum drawdown
        to ``t``) as a streamed summary does, so the two have the same bits. ``progress``
        counts the reducers done (:func:`_progress.display`)."""
        shown = _progress.display(progress, desc="summarising", unit="quantities")
        with _progress.guard(shown):
            out = self._reduce_rows(reducers, t, qs, alpha, shown)
        if shown is not None:
            shown(len(reducers), len(reducers))
        return out

    def _reduce_rows(self, reducers, t, qs, alpha, shown: _progress.Progress | None) -> SummaryResult:
        """:meth:`_reduce`, reporting each reducer done to ``shown``."""
        label = self.world._core.month_labels(self.horizon_months)[t]
        # the values of at most REDUCE_BYTES of reducers at a time (a row of n_paths each):
        # 1,000 mixes on 1,000,000 paths would otherwise hold 24 GB of them at once
        per = max(1, REDUCE_BYTES // (8 * max(self.n_paths, 1)))
        rows: list[dict[str, Any]] = []
        for first in range(0, len(reducers), per):
            batch = reducers[first:first + per]
            job = _core.SummaryJob.for_world(self.world._core, batch, t, self.n_paths, self.horizon_months,
                                             self.seed, self.antithetic, getattr(self, "qmc", False))
            values = job.values(self._series)  # (reducer, path)
            if self._custom is None:
                part = _core.summarize_arrays(job, values, self.scenario, self._probs)
                design = self._view_design()
                if design is not None:  # a prior that met the views: its bits, but a posterior's errors
                    self._posterior_errors(part, batch, values, design, _counter(shown, first, len(reducers)))
                rows += part
            else:
                rows += self._general_rows(batch, values, _counter(shown, first, len(reducers)))
            del values
        return SummaryResult(rows, reducers, self.scenario_names, self._units, qs,
                             n_paths=self.n_paths, month=label, seed=self.seed, alpha=alpha)

    def _posterior_errors(self, rows: list[dict[str, Any]], reducers, values,
                          design: tuple[np.ndarray, np.ndarray], done: Callable[[int], None]) -> None:
        """Set the standard errors of the core's ``rows`` to those of a posterior (``design``);
        ``done(k)`` once the rows of the first k reducers are."""
        w_all = self.weights
        by_name = {red[0]: (k, red, col) for k, (red, col) in enumerate(zip(reducers, values))}
        orders: dict[str, np.ndarray] = {}  # each reducer's stable sort, for its quantiles' errors
        for row in rows:
            k, red, col = by_name[row["reducer"]]
            done(k)
            if not row["mass"] > 0:
                continue
            g, mass = row["group"], row["mass"]
            row["mean_se"], row["p_above_se"] = self._errors(col, w_all, g, mass, red[5], design)
            row["var_cvar_se"] = self._tail_errors(col, w_all, g, mass, row["var_cvar"], red[6], design)
            if red[4] and red[0] not in orders:
                orders[red[0]] = stats._argsort(col)
            row["quantiles_se"] = self._quantile_errors(col, w_all, g, mass, row["quantiles"], red[4], design,
                                                        orders.get(red[0]))

    def _general_rows(self, reducers, values, done: Callable[[int], None]) -> list[dict[str, Any]]:
        """Summary rows under arbitrary path weights (posterior views), from each
        reducer's values on the paths (a row of ``values`` per reducer); ``done(k)`` once
        the first k reducers' rows are made."""
        w_all = self.weights
        design = self._view_design()
        rows = []
        for k, (red, col) in enumerate(zip(reducers, values)):
            done(k)
            name, _, ra, rb, rq, rth, rcvar, *_ = red
            # each scenario's share of the overall tail of the loss col (its P&L is −col)
            shares = [_core.risk_table(np.ascontiguousarray(-col[:, None]), np.ascontiguousarray(w_all),
                                       self.scenario, len(self.scenario_names), al)["tail_share"]
                      for al in rcvar]
            # one stable sort of all the paths; a scenario's paths (a block) in that order
            # are their own stable sort, so its quantiles need no sort of their own
            order = stats._argsort(col) if rq else None
            for g in [*range(len(self.scenario_names)), -1]:
                x, w = (col, w_all) if g < 0 else (col[self._block(g)], w_all[self._block(g)])
                mass = float(w.sum())
                if not mass > 0:
                    rows.append({"reducer": name, "group": g, "mass": 0.0, "mean": np.nan, "mean_se": np.nan,
                                 "std": np.nan, "quantiles": [np.nan] * len(rq),
                                 "quantiles_se": [np.nan] * len(rq), "p_above": [np.nan] * len(rth),
                                 "p_above_se": [np.nan] * len(rth),
                                 "var_cvar": [(np.nan, np.nan)] * len(rcvar),
                                 "var_cvar_se": [(np.nan, np.nan)] * len(rcvar), "tail_share": [0.0] * len(rcvar)})
                    continue
                mean_se, p_above_se = self._errors(col, w_all, g, mass, rth, design)
                # v is a loss here: VaR/CVaR of the P&L −v
                var_cvar = [_core.var_cvar(np.ascontiguousarray(-x), np.ascontiguousarray(w), al) for al in rcvar]
                # the group's paths in the stable sort of all of them: its quantiles and their errors
                group = stats._sorted_group(col, w_all, self._blocks(), g, order) if rq else None
                quantiles = ([float(v) for v in stats._sorted_quantile(group.xs, group.weights, np.asarray(rq, float))]
                             if group is not None else [])
                mean, std = stats._moments(x, w, std=True)  # (both from one scan and mean)
                rows.append({
                    "reducer": name, "group": g, "mass": mass,
                    "mean": mean, "mean_se": mean_se,
                    "std": std,
                    "quantiles": quantiles,
                    "quantiles_se": self._quantile_errors(col, w_all, g, mass, quantiles, rq, design, order, group),
                    "p_above": [stats.prob_above(x, w, c) for c in rth], "p_above_se": p_above_se,
                    "var_cvar": var_cvar,
                    "var_cvar_se": self._tail_errors(col, w_all, g, mass, var_cvar, rcvar, design),
                    "tail_share": [float(sh[g]) for sh in shares],  # row −1: all paths, share 1
                })
        return rows

    def _errors(self, col: np.ndarray, w_all: np.ndarray, g: int, mass: float, thresholds: Sequence[float],
                design: tuple[np.ndarray, np.ndarray] | None) -> tuple[float, list[float]]:
        """The standard errors of a row: of the weighted mean of ``col`` over group ``g`` (a
        scenario, or −1 for all paths) of weight ``mass``, and of each share above
        ``thresholds`` (that of the mean of its indicator), found together
        (``stats._weighted_mean_ses``: as the core gives them under the run's own weights);
        NaN for a quasi-Monte Carlo run.

        On a posterior, ``design`` (from :meth:`_view_design`) counts the views' fit to
        the same paths (``stats._weighted_mean_se``)."""
        if getattr(self, "qmc", False):
            return math.nan, [math.nan] * len(thresholds)
        columns = itertools.chain([col], ((col > c).astype(float) for c in thresholds))
        mean_se, *above = stats._weighted_mean_ses(columns, w_all, self._blocks(), g, mass, self.antithetic, design,
                                                   self._thin_blocks())
        return mean_se, above

    def _tail_errors(self, col: np.ndarray, w_all: np.ndarray, g: int, mass: float,
                     var_cvar: Sequence[tuple[float, float]], alphas: Sequence[float],
                     design: tuple[np.ndarray, np.ndarray] | None) -> list[tuple[float, float]]:
        """The standard errors of a row's (VaR, CVaR) of the loss ``col`` at each level of
        ``alphas`` (``stats._var_cvar_se``); NaN for a quasi-Monte Carlo run."""
        if getattr(self, "qmc", False):
            return [(math.nan, math.nan)] * len(alphas)
        return [stats._var_cvar_se(col, w_all, self._blocks(), g, mass, self.antithetic, design, var, al,
                                   self._thin_blocks())
                for (var, _), al in zip(var_cvar, alphas)]

    def _quantile_errors(self, col: np.ndarray, w_all: np.ndarray, g: int, mass: float,
                         quantiles: Sequence[float], levels: Sequence[float],
                         design: tuple[np.ndarray, np.ndarray] | None, order: np.ndarray | None,
                         group: stats._SortedGroup | None = None) -> list[float]:
        """The standard errors of a row's ``quantiles`` of ``col`` at ``levels``
        (``stats._quantile_se``), from ``group``, the group's ``stats._sorted_group`` if the
        caller has it, else from ``order``, the stable sort of all of ``col`` (None: the
        group's own sort); NaN for a quasi-Monte Carlo run."""
        if getattr(self, "qmc", False):
            return [math.nan] * len(levels)
        return stats._quantile_ses(col, w_all, self._blocks(), g, mass, self.antithetic, design, quantiles,
                                   levels, order, group, self._thin_blocks())

    def _thin_blocks(self) -> list[bool]:
        """Whether each scenario's weights rest on fewer than 2 effective paths
        (``stats._thin_blocks``), which every standard error checks: found once per run."""
        w = self._weights if self._custom is None else self._custom
        cache = self.__dict__.get("_thin_cache")
        if cache is None or cache[0] is not w:  # (a copy's: reweight and with_views copy the dict)
            cache = self.__dict__["_thin_cache"] = (w, stats._thin_blocks(w, self._blocks()))
        return cache[1]

    def _view_design(self) -> tuple[np.ndarray, np.ndarray] | None:
        """For a posterior's standard errors (:meth:`_errors`): the functions of its
        binding views, centred at their posterior means (shape (k, n_paths)), and a
        generalised inverse of their posterior covariance S; None for weights that no view
        fitted (a prior, or one reweighted, or views at the edge of their range alone, which
        restrict the weights to the paths at the edge). S⁻¹ costs n·k² operations: it is kept with
        the posterior (not pickled), the functions are made again at each call."""
        info = self._posterior
        if info is None or not info["views"]:
            return None
        cache = self.__dict__.get("_design_cache")
        if cache is None or cache[0] is not info:  # (a copy's: reweight and with_views copy the dict)
            q = self.weights
            total = np.sum(q)
            views, fs, means = [], [], []
            blocks = self._blocks()
            for v, lam in zip(info["views"], info["multipliers"]):
                f = v.function(self)
                mean = np.einsum("j,j->", f, q) / total
                error = lambda f=f: stats._mean_se([(f[b], q[b]) for b in blocks], total, self.antithetic)  # noqa: E731
                if _binds(v, lam, f, mean, error, info["tol"]):
                    views.append(v)
                    fs.append(f)
                    means.append(mean)
            if not views:
                self.__dict__["_design_cache"] = (info, (), (), None)
                return None
            ft = np.array(fs) - np.array(means)[:, None]
            # (einsum's own loops, not BLAS: sums in a fixed order, whatever BLAS's threads)
            cov = np.einsum("ij,kj->ik", ft * q, ft) / total
            cov = (cov + cov.T) / 2
            # on the correlation scale, so that a price's view and an indicator's are both seen
            sd = np.sqrt(np.diag(cov))
            scale = np.divide(1.0, sd, out=np.zeros_like(sd), where=sd > 0)
            s_inv = scale[:, None] * stats._psd_ginv(scale[:, None] * cov * scale) * scale
            s_inv.flags.writeable = False
            self.__dict__["_design_cache"] = (info, tuple(views), tuple(means), s_inv)
        else:
            _, binding, centres, s_inv = cache
            if s_inv is None:
                return None
            ft = np.array([v.function(self) for v in binding]) - np.array(centres)[:, None]
        ft.flags.writeable = False
        return ft, s_inv

    def __getstate__(self) -> dict[str, Any]:
        # (a posterior's S⁻¹ is made again when needed, not carried in its pickle)
        return {k: v for k, v in self.__dict__.items() if k not in ("_design_cache", "_thin_cache")}

    # ------------------------------------------------------------------ views and allocation
    def with_views(
        self, views: View | Sequence[View], *, max_iter: int = 200, tol: float = 1e-10, progress: bool | str = "auto"
    ) -> Simulation:
        """The same paths under the posterior weights of analyst views (entropy pooling).

        The posterior q minimises KL(q‖w) subject to the views (Meucci 2008), solved in
        the dual with Newton's method. Infeasible views raise
        :class:`InfeasibleViewsError` (a ``ConfigError`` naming the view, and a
        ``NumericalError``).
        ``posterior`` holds the relative entropy, the effective number of scenarios
        exp(−Σ q ln q), the iterations and the views.

        On a posterior, the new views join its own (numbered after them in errors) and
        all of them are pooled over the prior again, with this call's ``max_iter`` and
        ``tol``, so that every view holds; to replace the views, call this on the
        simulation the posterior came from.

        Each view holds to ``tol`` relative to its scale, max(median |f|, |target|) over
        the paths of positive prior weight (the median of the nonzero |f| in place of a
        median of 0, as for an indicator): ``|E_q[f] − target| ≤ tol·scale``. A target
        inside the range of f is met by tilting the weights, however close to the edge;
        only one at the edge up to rounding puts all the weight on the paths at the edge.
        (A prior that already meets the views
        that loosely keeps its weights, bit for bit, and its summaries' estimates' bits; their
        standard errors are a posterior's, which count the views as fitted). Below
        about 1e-13 the check is as exact as the rounding of an n-term sum: E_q[f]
        computed in another order can differ by that much. ``tol`` below 2.2e-16 is refused, and one
        below the double-precision epsilon (2.220446e-16) counts as the epsilon.

        Each Newton iteration costs about n·k² operations for k views on n paths
        (1,000 views on 100,000 paths: seconds). ``progress="auto"`` counts the
        iterations of solves longer than a second (``True``: always, ``False``: never);
        Ctrl-C stops the solve with ``KeyboardInterrupt``.

        Parameters
        ----------
        views
            A :class:`View` or a list of them (an empty list gives this simulation
            back, prior or posterior).
        max_iter
            Newton iterations at most, in [1, 100,000]; not converging raises
            :class:`NumericalError`.
        tol
            Tolerance of each view relative to its scale, in [2.2e-16, 1) (below the double-precision
            epsilon 2.220446e-16, it counts as the epsilon).
        progress
            ``"auto"``, ``True`` or ``False``, as above.

        Returns
        -------
        Simulation
            The same paths with the posterior ``weights``; ``posterior`` holds the solve's
            details, and :meth:`reweight` pools the views again over new probabilities.

        Examples
        --------
        >>> import geoscenario as gs
        >>> sim = gs.World.default().simulate(5_000, seed=2)
        >>> post = sim.with_views([gs.View.prob_above("potash_spot", 450, 0.30)])
        >>> round(float(post.summary("potash_spot").loc[("potash_spot", "all"), "p_above"]), 9)
        0.3
        """
        from .views import check_pooling, entropy_pool, view_list

        info = self._posterior
        views = view_list(views, first=0 if info is None else len(info["views"]))
        if not views:  # nothing to pool: this simulation, prior or posterior
            check_pooling(max_iter, tol, progress)
            return self
        if info is not None:  # more views: all of them pooled over the prior, so each one holds
            views = [*info["views"], *views]
            return self._pooled_from.with_views(views, max_iter=max_iter, tol=tol, progress=progress)
        q, info = entropy_pool(self, views, max_iter, tol, progress)
        new = object.__new__(Simulation)
        new.__dict__.update(self.__dict__)
        # a posterior equal to the prior (relative entropy 0: the prior meets the views) keeps
        # the prior's weights, bit for bit; views at the edge of their range move the
        # weights without a Newton iteration
        if info["iterations"] > 0 or info["relative_entropy"] > 0:
            q = np.ascontiguousarray(q)
            q.flags.writeable = False
            new._custom = q
        new._posterior = info
        new._pooled_from = self  # the prior the views were pooled over (reweight pools again)
        new._pool_progress = progress  # (and so does reweight)
        return new

    def allocate(
        self,
        alpha: float = 0.95,
        strategies: Sequence[str] | None = None,
        *,
        target_return: float | None = None,
        risk_aversion: float | None = None,
    ) -> Allocation:
        """Mean–CVaR weights across strategies: long-only, summing to one.

        Minimises CVaR_α of the horizon loss (subject to an expected return of at least
        ``target_return``), or maximises E[return] − ``risk_aversion``·CVaR, on the
        weighted paths (Rockafellar–Uryasev linear programme).

        Parameters
        ----------
        alpha
            CVaR level in [0.5, 1).
        strategies
            Strategies to allocate across (default: all the world's strategies).
        target_return
            Least expected horizon return (NAV_H − 1) of the mix; at most the largest
            strategy's expected return.
        risk_aversion
            γ ≥ 0 of the objective E[return] − γ·CVaR, maximised: 0 takes the
            largest expected return (CVaR breaking ties), and a larger γ buys less
            risk, down to the least CVaR at ``inf`` (what giving neither argument gives).
            γ below 1e-6 is solved as 0 (off the optimum by at most γ·CVaR). Give this
            or ``target_return``, not both.

        Returns
        -------
        Allocation

        Examples
        --------
        >>> import geoscenario as gs
        >>> sim = gs.World.default().simulate(5_000, seed=2)
        >>> a = sim.allocate(0.95)
        >>> round(float(a.weights.sum()), 9)
        1.0
        """
        from .summary import check_alpha
        from .views import Allocation, strategy_returns

        names, r, at = strategy_returns(self, strategies)
        al = check_alpha(alpha)
        if target_return is not None and not _validate.is_finite_real(target_return):
            raise invalid("target_return", f"must be a finite number, {_validate.got(target_return)}")
        if risk_aversion is not None:  # ∞ is the least CVaR
            if not _validate.is_real(risk_aversion) or not _validate.to_float(risk_aversion) >= 0.0:
                raise invalid("risk_aversion", f"must be a number ≥ 0 (inf: the least CVaR), {_validate.got(risk_aversion)}")
            risk_aversion = _validate.to_float(risk_aversion)
        res = _core.mean_cvar(r, np.ascontiguousarray(self.weights), al, risk_aversion=risk_aversion,
                              target_return=target_return)
        weights = np.empty(len(names))
        weights[at] = res["weights"]
        return Allocation(pd.Series(weights, index=pd.Index(names, name="strategy"), name="weight"),
                          float(res["expected_return"]), float(res["cvar"]), float(res["var"]), al,
                          str(res["status"]))

    def efficient_frontier(
        self,
        alpha: float = 0.95,
        n_points: int = 20,
        strategies: Sequence[str] | None = None,
        *,
        progress: bool | str = "auto",
    ) -> pd.DataFrame:
        """Mean–CVaR efficient frontier: one row per target return, with the weights.

        ``progress="auto"`` shows the points solved when the frontier takes longer
        than a second (``True``: always, ``False``: never); Ctrl-C stops it with
        ``KeyboardInterrupt`` before its next linear programme.

        Parameters
        ----------
        alpha
            CVaR level in [0.5, 1).
        n_points
            Target returns, in [2, 1000], evenly spaced from the minimum-CVaR mix's
            expected return to the largest strategy's.
        strategies
            Strategies to allocate across (default: all the world's strategies).
        progress
            ``"auto"``, ``True`` or ``False``, as above.

        Returns
        -------
        pandas.DataFrame
            One row per point (index ``point``): ``target_return``, ``expected_return``,
            ``cvar``, ``var`` and one weight column per strategy; ``attrs`` hold the
            CVaR level ``alpha``, the horizon ``month`` and ``n_paths``, as the risk
            table's do.

        Examples
        --------
        >>> import geoscenario as gs
        >>> sim = gs.World.default().simulate(3_000, seed=2)
        >>> f = sim.efficient_frontier(n_points=5)
        >>> bool(f["cvar"].is_monotonic_increasing)
        True
        """
        from .summary import check_alpha
        from .views import strategy_returns

        names, r, at = strategy_returns(self, strategies)
        n = _validate.integer("n_points", n_points, 2, 1000)
        if len(names) == 1:
            warn(f"a frontier over one strategy is one point, all in {names[0]!r}: its {n} rows are equal; "
                 "give two or more strategies")
        with _progress.guard(_progress.display(progress, "efficient frontier", unit="points")) as cb:
            res = _core.efficient_frontier(r, np.ascontiguousarray(self.weights), check_alpha(alpha), n, cb)
        df = pd.DataFrame({k: np.asarray(res[k]) for k in ("target_return", "expected_return", "cvar", "var")})
        w = np.empty((len(df), len(names)))
        w[:, at] = np.asarray(res["weights"]).reshape(len(df), len(names))
        for j, s in enumerate(names):
            df[s] = w[:, j]
        df.index.name = "point"
        df.attrs.update(alpha=check_alpha(alpha), month=self.months[self.horizon_months].strftime("%Y-%m"),
                        n_paths=self.n_paths)
        return df

    # ------------------------------------------------------------------ pandas
    def to_pandas(
        self, series: str | Sequence[str] | None = None, *, month: int | str | None = None
    ) -> pd.DataFrame:
        """A tidy DataFrame of the paths.

        With ``month=None``: index (path, month), one column per series after
        ``scenario``, ``weight`` and the path's scenario timing: ``onset`` (the
        month its scenario starts, −1 for base paths) with static scenarios, or
        ``regime`` (the regime in force that month, categorical) under Markov
        regimes, where ``scenario`` is only the regime at month 0. With ``month``
        given: one row per path (index ``path``), and ``attrs["month"]`` is its
        ``"YYYY-MM"`` label. ``attrs["units"]`` holds each series' unit.

        Parameters
        ----------
        series
            A series name or a list of them (default: all).
        month
            A month as in :meth:`month_index`, or None for every month.

        Returns
        -------
        pandas.DataFrame

        Raises
        ------
        ResourceError
            The long table (``month=None``) would not fit in the memory available:
            about n_paths × (H + 1) × (8 × series + 49) bytes on top of the simulation.

        Examples
        --------
        >>> import geoscenario as gs
        >>> sim = gs.World.default().simulate(100, seed=7)
        >>> df = sim.to_pandas("potash_spot")
        >>> df.shape, df.columns.tolist()
        ((2500, 4), ['scenario', 'weight', 'onset', 'potash_spot'])
        >>> sim.to_pandas("potash_spot", month=-1).attrs
        {'month': '2027-06', 'units': {'potash_spot': 'USD/t'}}
        """
        names = _validate.names("series", series, list(self._series))
        scen = pd.Categorical.from_codes(self.scenario, categories=self.scenario_names)
        units = {n: self._units[n] for n in names}
        if month is not None:
            t = self._month_index(month)
            df = pd.DataFrame({"scenario": scen, "weight": self.weights,
                               **_timing(self.onset, None if self.regimes is None else self.regimes[:, t],
                                         self.scenario_names)})
            for n in names:
                df[n] = self._series[n][:, t]
            df.index.name = "path"
            df.attrs.update(month=self.world._core.month_labels(self.horizon_months)[t], units=units)
            return df
        w = self.horizon_months + 1
        # refused before allocating when it cannot fit, as simulate() is
        need = _long_table_bytes(self.n_paths, w, len(names))
        what = f"{self.n_paths:,} paths × {w} months × {len(names)} series"
        available = _available_memory()
        if available is not None and need > available:
            raise _refuse_long_table(need, what, available)
        try:
            idx = pd.MultiIndex.from_product([np.arange(self.n_paths), self.months], names=["path", "month"])
            data: dict[str, Any] = {
                "scenario": pd.Categorical.from_codes(np.repeat(self.scenario, w), categories=self.scenario_names),
                "weight": np.repeat(self.weights, w),
                **_timing(np.repeat(self.onset, w), None if self.regimes is None else self.regimes.reshape(-1),
                          self.scenario_names),
            }
            for n in names:
                data[n] = self._series[n].reshape(-1)
            df = pd.DataFrame(data, index=idx)
        except MemoryError as e:  # a limit /proc/meminfo does not show (ulimit -v, a container)
            raise _refuse_long_table(need, what, None) from e
        df.attrs["units"] = units
        return df

    def __eq__(self, other: object) -> bool:
        """The same run: the same world, number of paths, months, seed and options, the
        same paths of every series, scenarios, onsets and regimes, bit for bit, and the
        same weights (and views, for a posterior). It compares every array: half a second
        for the default world's 1,000,000 paths.

        Examples
        --------
        >>> import geoscenario as gs
        >>> w = gs.World.default()
        >>> w.simulate(1_000, seed=1) == w.simulate(1_000, seed=1), w.simulate(1_000, seed=1) == w.simulate(1_000, seed=2)
        (True, False)
        """
        if not isinstance(other, Simulation):
            return NotImplemented
        if self is other:
            return True

        def head(s: Simulation) -> tuple[Any, ...]:
            views = None if s._posterior is None else tuple(s._posterior["views"])
            return (s.n_paths, s.horizon_months, s.seed, s.antithetic, bool(getattr(s, "qmc", False)),
                    list(s._series), views)

        def arrays(s: Simulation) -> list[np.ndarray | None]:
            return [s.weights, s.scenario, s.onset, s.regimes, *s._series.values()]

        return (head(self) == head(other) and self.world == other.world
                and all(a is b or (a is not None and b is not None and a.shape == b.shape and a.dtype == b.dtype
                                   and np.array_equal(a, b))
                        for a, b in zip(arrays(self), arrays(other))))

    def __hash__(self) -> int:
        # (of what equal simulations share: a simulation stays usable as a key or in a set)
        return hash((self.world, self.n_paths, self.horizon_months, self.seed, self.antithetic,
                     bool(getattr(self, "qmc", False))))

    def _repr_parts(self) -> tuple[str, str, list[tuple[str, list[str]]]]:
        """The repr's opening, its run (paths, months, seed, flags) and its fields: the
        scenarios (or starting regimes), the posterior's views, the factors, derived
        series and strategies, each as (label, items)."""
        scen = [f"{k} {percent(p)} ({n:,})" for (k, p), n in zip(self.probabilities.items(), self._counts)]
        flags = "".join(f", {name}" for name, on in (("antithetic", self.antithetic),
                                                        ("qmc", getattr(self, "qmc", False))) if on)
        post = ""
        if self.posterior is not None:
            k = len(self.posterior["views"])
            post = (f"{k} view{'s' if k != 1 else ''} (relative entropy "
                    f"{self.posterior['relative_entropy']:.3g}, {self.posterior['effective_scenarios']:,.0f} "
                    "effective scenarios)")
        kinds = self.world.kinds
        groups = {"factors": [n for n in self._series if n in self.world.factors],
                  "strategies": [n for n in self._series if kinds.get(n) == "strategy"]}
        groups["derived"] = [n for n in self._series if n not in groups["factors"] + groups["strategies"]]
        fields = [("starting regimes" if self.world.regimes == "markov" else "scenarios", scen),
                  *([("posterior", [post])] if post else []),
                  *((label, groups[label]) for label in ("factors", "derived", "strategies") if groups[label])]
        run = f"{count(self.n_paths, 'path')} × {self.horizon_months} months, seed={self.seed}{flags}"
        return f"Simulation(world={self.world.name!r}, ", run, fields

    def __repr__(self) -> str:
        def field(label: str, items: list[str]) -> str:
            """``  label: item, item, ...`` within 99 columns (the closing parenthesis
            makes 100), broken between items only."""
            text = ", ".join(item.replace(" ", "\xa0") for item in items)
            return textwrap.fill(text, width=99, initial_indent=f"  {label}: ", subsequent_indent=" " * (len(label) + 4),
                                 break_long_words=False, break_on_hyphens=False).replace("\xa0", " ")

        head, run, fields = self._repr_parts()
        lines = [*([head + run] if len(head + run) <= 99 else [head.rstrip(), "  " + run]),
                 *(field(label, items) for label, items in fields)]
        return "\n".join(lines) + ")"

    def _repr_html_(self) -> str:
        """In a notebook: the run, the scenarios (or starting regimes) as a table of
        their probabilities and paths, then the repr's other fields."""
        head, run, fields = self._repr_parts()
        label = fields[0][0]
        table = pd.DataFrame({"probability": list(self.probabilities.values()), "paths": self._counts},
                             index=pd.Index(self.scenario_names, name=label.split()[-1].rstrip("s")))
        return table_html(head + run + ")", [(f"{label}:", table)],
                          [f"{label}: {', '.join(items)}" for label, items in fields[1:]])

    def report(self, month: int | str | None = None, alpha: float = 0.95, *, progress: bool | str = "auto") -> str:
        """The scenario report printed by ``python -m geoscenario``.

        Parameters
        ----------
        month
            The month of the statistics, as in :meth:`summary` (default: the horizon).
            The mean–CVaR allocation is of the returns to the horizon, as :meth:`allocate`'s.
        alpha
            The VaR/CVaR level of the strategies' risk and allocation, in [0.5, 1).
        progress
            Of its statistics, as in :meth:`summary` (a posterior's take seconds on a
            million paths).

        Returns
        -------
        str
            Plain text at most 100 columns wide: run details, per-series statistics
            by scenario at ``month``, strategy risk and a mean–CVaR allocation.

        Examples
        --------
        >>> import geoscenario as gs
        >>> text = gs.World.default().simulate(2_000, seed=0).report()
        >>> text.splitlines()[0]
        'geoscenario · belarus_china_2025'
        >>> max(len(line) for line in text.splitlines()) <= 100
        True
        >>> "potash_spot [USD/t] at 2027-06" in text
        True
        >>> "potash_spot [USD/t] at 2026-06" in gs.World.default().simulate(2_000, seed=0).report(month=12)
        True
        """
        from .report import render

        return render(self, month, alpha, progress)


