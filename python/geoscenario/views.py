"""Analyst views by entropy pooling and mean–CVaR allocation (MODEL.md §6)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import _core, _progress, _validate
from ._format import percent, table_html
from .errors import ConfigError, InfeasibleViewsError, NumericalError, invalid, warn

if TYPE_CHECKING:
    from .simulation import Simulation

__all__ = ["View", "Allocation"]

_OPS = ("==", "<=", ">=")


@dataclass(frozen=True)
class View:
    """A linear view on a simulated quantity at one month.

    ``View.mean("bilateral_trade", 9.5)`` says E[trade at horizon] = 9.5;
    ``View.prob_above("potash_spot", 450, 0.30)`` says P(spot > 450) = 30%;
    ``op`` may be ``"<="`` or ``">="`` for inequality views. A strategy's series is
    its NAV, 1 at month 0: a view that its return is r is ``View.mean(name, 1 + r)``.
    A posterior resting on under 1% of the prior's effective paths (by the exp of its
    entropy or by Kish's 1/Σq²) raises a ``UserWarning`` (views far from what the paths
    support).

    Parameters
    ----------
    series
        Name of a simulated series (factor, derived series or strategy NAV).
    kind
        ``"mean"`` (E[series]) or ``"prob"`` (P(series > threshold)).
    value
        The viewed expectation, or probability in [0, 1].
    op
        ``"=="``, ``"<="`` or ``">="``.
    threshold
        The level of a ``"prob"`` view (None for ``"mean"``).
    month
        Index, ``"YYYY-MM"`` or date of the month viewed (default: the horizon): its type
        is checked when the view is made, its range against the simulation when the
        view is applied.

    Examples
    --------
    >>> import geoscenario as gs
    >>> gs.View.prob_above("potash_spot", 450, 0.30)
    View(P(potash_spot > 450) == 0.3 at horizon)
    """

    series: str
    kind: str
    value: float
    op: str = "=="
    threshold: float | None = None
    month: int | str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.series, str):
            raise invalid("view.series", f"must be the name of a series, got {type(self.series).__name__}")
        if not isinstance(self.kind, str) or self.kind not in ("mean", "prob"):
            raise invalid("view.kind", f"must be 'mean' or 'prob', got {self.kind!r}")
        if not isinstance(self.op, str) or self.op not in _OPS:
            raise invalid("view.op", f"must be one of {', '.join(_OPS)}, got {self.op!r}")
        if self.kind == "mean" and self.threshold is not None:
            raise invalid("view.threshold", f"applies only to kind='prob' views, got {self.threshold!r} for a mean")
        for name, v in (("view.value", self.value), ("view.threshold", self.threshold)):
            if v is None and name == "view.threshold" and self.kind == "mean":
                continue
            if not _validate.is_finite_real(v):
                raise invalid(name, f"must be a finite number, {_validate.got(v)}")
            if name == "view.value" and self.kind == "prob" and not 0.0 <= _validate.to_float(v) <= 1.0:
                raise invalid("view.value", f"a probability must be in [0, 1], got {_validate.to_float(v)!r}")
        # the month's type here (its range against the simulation, when the view is applied)
        m = self.month
        if isinstance(m, np.ndarray) and m.ndim == 0 and m.dtype.kind in "iu":
            m = m[()]  # a 0-d integer array is its integer, as for every other month=
        if isinstance(m, np.integer):
            object.__setattr__(self, "month", int(m))
        m = self.month
        if not (m is None or isinstance(m, (int, str, datetime.date, np.datetime64, pd.Period))) or isinstance(m, bool):
            raise invalid("view.month", "must be a month index, a 'YYYY-MM' label or a date, got "
                          f"{type(m).__name__} {m!r}")
        if m is not None and not isinstance(m, int) and _validate.month_label(m, "view.month") is None:
            # (a month that exists: whether it is simulated is known when the view is applied)
            raise invalid("view.month", f"{m!r} is not a month: give an index (an int), 'YYYY-MM' or a date")
        # stored as floats (a Fraction or a NumPy scalar formats and compares like one)
        object.__setattr__(self, "value", _validate.to_float(self.value))
        if self.threshold is not None:
            object.__setattr__(self, "threshold", _validate.to_float(self.threshold))

    @classmethod
    def mean(cls, series: str, value: float, op: str = "==", month: int | str | None = None) -> View:
        """E[series at month] (op) value.

        Parameters
        ----------
        series
            Name of a simulated series (factor, derived series or strategy NAV).
        value
            The viewed expectation.
        op
            ``"=="``, ``"<="`` or ``">="``.
        month
            Month index (negative from the end) or ``"YYYY-MM"``; default the horizon.

        Returns
        -------
        View

        Examples
        --------
        >>> import geoscenario as gs
        >>> v = gs.View.mean("bilateral_trade", 9.5, op=">=")
        >>> v
        View(E[bilateral_trade] >= 9.5 at horizon)
        >>> sim = gs.World.default().simulate(2_000, seed=0)
        >>> post = sim.with_views(v)
        >>> bool(post.summary("bilateral_trade").loc[("bilateral_trade", "all"), "mean"] >= 9.5 - 1e-6)
        True
        """
        return cls(series, "mean", value, op, None, month)

    @classmethod
    def prob_above(
        cls, series: str, threshold: float, value: float, op: str = "==", month: int | str | None = None
    ) -> View:
        """P(series at month > threshold) (op) value.

        Parameters
        ----------
        series
            Name of a simulated series.
        threshold
            The level the series must exceed.
        value
            The viewed probability, in [0, 1].
        op
            ``"=="``, ``"<="`` or ``">="``.
        month
            Month index (negative from the end) or ``"YYYY-MM"``; default the horizon.

        Returns
        -------
        View

        Examples
        --------
        >>> import geoscenario as gs
        >>> v = gs.View.prob_above("potash_spot", 450, 0.25, month="2026-06")
        >>> v
        View(P(potash_spot > 450) == 0.25 at 2026-06)
        >>> v.kind, v.threshold
        ('prob', 450.0)
        """
        return cls(series, "prob", value, op, threshold, month)

    def function(self, sim: Simulation) -> np.ndarray:
        """The view function f evaluated on every path (E_q[f] is the viewed quantity).

        Parameters
        ----------
        sim
            The simulation whose paths the view constrains.

        Returns
        -------
        numpy.ndarray
            Float64 array of shape ``(n_paths,)``: the series at the view's month
            for a mean view, the indicator of exceeding the threshold (0 or 1) for
            a probability view.

        Examples
        --------
        >>> import geoscenario as gs
        >>> sim = gs.World.default().simulate(1_000, seed=0)
        >>> f = gs.View.prob_above("potash_spot", 450, 0.3).function(sim)
        >>> f.shape, sorted(set(f.tolist()))
        ((1000,), [0.0, 1.0])
        >>> g = gs.View.mean("potash_spot", 400, month=0).function(sim)
        >>> bool((g == sim.paths("potash_spot")[:, 0]).all())
        True
        """
        from .simulation import Simulation

        if not isinstance(sim, Simulation):
            raise invalid("sim", f"must be a geoscenario Simulation, got {type(sim).__name__}")
        if self.series not in sim._series:
            raise invalid("view.series", f"{self.series!r} is not a series (series: {', '.join(sim._series)})")
        t = sim._month_index(self.month)
        x = sim.paths(self.series)[:, t]
        if self.kind == "mean":
            return np.ascontiguousarray(x, dtype=float)
        return (x > self.threshold).astype(float)

    def __repr__(self) -> str:
        at = "horizon" if self.month is None else str(self.month)
        if isinstance(self.month, datetime.datetime) and pd.notna(self.month) and self.month.time() == datetime.time(0):
            at = at.split(" ")[0]  # a date, without its midnight
        q = f"E[{self.series}]" if self.kind == "mean" else f"P({self.series} > {_number(self.threshold)})"
        return f"View({q} {self.op} {_number(self.value)} at {at})"


def _number(x: Any) -> str:
    """``x`` as ``%g`` prints it when that is its value (420, 0.25), else every digit
    it takes (420.0004): two views that differ never print alike."""
    short = f"{float(x):g}"
    return short if float(short) == float(x) else repr(float(x))


def _name_views(message: str, rows: dict[str, tuple[int, View, bool]], all_weighted: bool = True,
                navs: AbstractSet[str] = frozenset()) -> str:
    """The core's message about view rows (``a_eq[j]``, ``a_ie[j]``) in terms of the user's views
    (``all_weighted``: every path has a positive prior weight; else the core saw only those that do;
    ``navs``: the strategies, whose mean views may be returns meant as NAVs)."""
    m = re.fullmatch(r"infeasible view (a_(?:eq|ie)\[\d+\]): .* is impossible, "
                     r"the view function ranges over \[(\S+), (\S+)\](.*)", message, flags=re.S)
    if m and m[1] in rows:
        i, v, negated = rows[m[1]]
        lo, hi = float(m[2]), float(m[3])
        lo, hi = (-hi, -lo) if negated else (lo, hi)
        paths = ("paths the other views leave possible" if m[4] else "simulated paths" if all_weighted
                 else "paths of positive prior weight")
        if v.kind == "mean":
            # as many digits as tell the target from the bound it breaks (6 at least)
            bound = lo if v.value < lo else hi
            p = next((p for p in range(6, 18) if f"{v.value:.{p}g}" != f"{bound:.{p}g}"), 17)
            why = f"{v.series} ranges over [{lo:.{p}g}, {hi:.{p}g}] on the {paths}"
            if v.series in navs and v.value < lo:
                why += f"; {v.series} is a NAV (1 at month 0): a view of a return r is on 1 + r"
        else:
            why = (f"{'none of the' if hi <= 0 else 'all the'} {paths} {'has' if hi <= 0 else 'have'} {v.series} > "
                   f"{_number(v.threshold)}")
        return f"views[{i}]: {v!r} is infeasible: {why}"
    m = re.fullmatch(r"infeasible views: ((?:a_(?:eq|ie)\[\d+\](?:, )?)+) (cannot hold together.*)", message,
                     flags=re.S)
    if m and all(r in rows for r in m[1].split(", ")):
        # each view with what it says, in the order given
        named = sorted(rows[r][:2] for r in m[1].split(", "))
        return f"views: {', '.join(f'views[{i}] {v!r}' for i, v in named)} {m[2]}"
    return re.sub(r"a_(?:eq|ie)\[\d+\]", lambda t: f"views[{rows[t[0]][0]}]" if t[0] in rows else t[0], message)


#: Warn when the posterior keeps less than this share of the prior's effective paths.
COLLAPSE_SHARE = 0.01


def _kish(w: np.ndarray) -> float:
    """Kish's effective number of paths (Σw)² / Σw²: 1 when one path has all the weight."""
    return float(w.sum() ** 2 / np.dot(w, w))


def _warn_collapse(sim: Simulation, views: list[View], prior: np.ndarray, effective: float, kish: float) -> None:
    """Warn if the posterior rests on few of the prior's effective paths, by the exp of the
    entropy or by Kish's count (which sees half the weight on one path among thousands
    that the entropy does not)."""
    p = prior[prior > 0]
    before = float(np.exp(-np.sum(p * np.log(p))))
    kish_before = _kish(p)
    if effective >= COLLAPSE_SHARE * before and kish >= COLLAPSE_SHARE * kish_before:
        return
    hint = ""
    kinds = sim.world.kinds
    on_strategies = sorted({v.series for v in views if kinds.get(v.series) == "strategy"})
    if on_strategies:
        hint = (f"; {', '.join(on_strategies)} {'is a NAV' if len(on_strategies) == 1 else 'are NAVs'} "
                "(1 at month 0): a view of a return r is on 1 + r")
    warn(
        f"the posterior rests on {effective:,.1f} effective paths ({kish:,.1f} by Kish's count), against "
        f"{before:,.0f} ({kish_before:,.0f}) in the prior: the views are far from what the simulated paths "
        f"support{hint}"
    )


def _view_key(v: View, month: int | None = None) -> tuple[Any, ...]:
    """A total order on views (equal keys: equal views); ``month``, the month index the
    view's month resolves to in a simulation, if known: ``6`` and ``"2025-12"`` alike."""
    has_threshold = v.threshold is not None
    where = ("", month) if month is not None else (repr(v.month), -1)
    return (v.op, v.kind, v.series, where, has_threshold, v.threshold if has_threshold else 0.0, v.value)


def _month_or_none(sim: Simulation, v: View) -> int | None:
    """The month index of a view in ``sim``, None if it has none (the view's own check
    then says why, naming the view)."""
    try:
        return sim._month_index(v.month)
    except ConfigError:
        return None


def view_list(views: View | Iterable[View], first: int = 0) -> list[View]:
    """``views`` (a View or a sequence of them) as a list, each checked to be a View;
    ``first`` numbers them in errors (views[first], ...)."""
    if isinstance(views, View):
        return [views]
    if not _validate.is_sequence(views):
        raise invalid("views", f"must be a gs.View or a list of them, got {type(views).__name__}")
    views = list(views)
    for i, v in enumerate(views):
        if not isinstance(v, View):
            raise invalid(f"views[{first + i}]", f"must be a gs.View, got {type(v).__name__}")
    return views


def check_pooling(max_iter: Any, tol: Any, progress: Any) -> tuple[int, float]:
    """The entropy pooling's ``max_iter`` and ``tol``, checked, and ``progress``."""
    max_iter = _validate.integer("max_iter", max_iter, 1, 100_000)
    _progress.check(progress)
    if not _validate.is_real(tol) or not 2.2e-16 <= _validate.to_float(tol) < 1:
        raise invalid("tol", f"must be a number in [2.2e-16, 1) (no tighter check is possible in double precision), {_validate.got(tol)}")
    # the double-precision epsilon 2.220446e-16 is the tightest check; 2.2e-16 counts as it
    return max_iter, max(_validate.to_float(tol), float(np.finfo(float).eps))


def entropy_pool(
    sim: Simulation, views: View | Iterable[View], max_iter: int, tol: float, progress: bool | str = "auto"
) -> tuple[np.ndarray, dict[str, Any]]:
    """Posterior path weights closest to the prior in relative entropy that satisfy the views."""
    views = view_list(views)
    if len(views) > _core.MAX_VIEWS:  # the core's limit per kind of view, here on all of them
        raise invalid("views", f"at most {_core.MAX_VIEWS:,} views, got {len(views):,}")
    max_iter, tol = check_pooling(max_iter, tol, progress)
    n = sim.n_paths
    if len(views) == 0:
        w = np.array(sim.weights, dtype=float)
        ens = float(np.exp(-np.sum(w[w > 0] * np.log(w[w > 0]))))
        return w, {"relative_entropy": 0.0, "effective_scenarios": ens, "kish_effective_scenarios": _kish(w),
                   "max_weight": float(w.max()), "multipliers": (), "iterations": 0,
                   "converged": True, "views": (), "max_iter": max_iter, "tol": float(tol)}
    # the view functions go straight into the rows of the core's two matrices
    # (one copy of n·k numbers in Python, however many views)
    n_eq = sum(v.op == "==" for v in views)
    a_eq = np.empty((n_eq, n))
    a_ie = np.empty((len(views) - n_eq, n))
    eq_b: list[float] = []
    ie_b: list[float] = []
    rows: dict[str, tuple[int, View, bool]] = {}  # the core's row label -> (view index, view, negated)
    # the rows in one order whatever the order of the views: the solve's sums, and so the
    # posterior's bits, do not depend on it
    months = [_month_or_none(sim, v) for v in views]
    for i in sorted(range(len(views)), key=lambda j: _view_key(views[j], months[j])):
        v = views[i]
        try:
            f = v.function(sim)
        except ConfigError as e:  # the view's series or month: say which view
            field = e.path.removeprefix("view.")
            raise invalid(f"views[{i}].{field}", f"{str(e).split(': ', 1)[-1]}, in {v!r}") from None
        if v.op == "==":
            rows[f"a_eq[{len(eq_b)}]"] = (i, v, False)
            a_eq[len(eq_b)] = f
            eq_b.append(float(v.value))
        elif v.op == "<=":
            rows[f"a_ie[{len(ie_b)}]"] = (i, v, False)
            a_ie[len(ie_b)] = f
            ie_b.append(float(v.value))
        else:  # E[f] >= b  <=>  E[-f] <= -b
            rows[f"a_ie[{len(ie_b)}]"] = (i, v, True)
            np.negative(f, out=a_ie[len(ie_b)])
            ie_b.append(-float(v.value))
    prior = np.ascontiguousarray(sim.weights, dtype=float)
    with _progress.guard(_progress.display(progress, "entropy pooling", unit="Newton iterations",
                                           open_ended=True)) as cb:
        try:
            res = _core.entropy_pooling(prior, a_eq, np.array(eq_b), a_ie, np.array(ie_b), max_iter, tol, cb)
        except NumericalError as e:
            navs = {k for k, kind in sim.world.kinds.items() if kind == "strategy"}
            message = _name_views(str(e), rows, bool((prior > 0).all()), navs)
            infeasible = re.match(r"(views(?:\[\d+\])?): ", message)
            if infeasible is None:  # a computation that failed
                raise NumericalError(message) from None
            raise InfeasibleViewsError(message, path=infeasible[1]) from None
    if cb is not None:
        cb.finish(int(res["iterations"]))
    q = np.asarray(res["q"])
    kish = _kish(q)
    _warn_collapse(sim, views, prior, float(res["effective_scenarios"]), kish)
    # the core's multipliers (its rows: equality views, then inequality ones) per view as
    # given, on the view's own function: q ∝ prior · exp(Σ_j λ_j f_j)
    order = {label: k for k, label in enumerate(
        [f"a_eq[{j}]" for j in range(len(eq_b))] + [f"a_ie[{j}]" for j in range(len(ie_b))])}
    nu = np.asarray(res["multipliers"], dtype=float)
    lam = [0.0] * len(views)
    for label, (i, _, negated) in rows.items():
        lam[i] = 0.0 + float(-nu[order[label]] if negated else nu[order[label]])  # a slack view's is +0.0
    info = {
        "relative_entropy": float(res["relative_entropy"]),
        "effective_scenarios": float(res["effective_scenarios"]),
        "kish_effective_scenarios": kish,
        "max_weight": float(q.max()),
        "multipliers": tuple(lam),
        "iterations": int(res["iterations"]),
        "converged": bool(res["converged"]),
        "views": tuple(views),
        "max_iter": max_iter,
        "tol": float(tol),
    }
    return q, info


@dataclass(frozen=True, eq=False)  # its own __eq__; unhashable (the weights are a Series)
class Allocation:
    """Mean–CVaR optimal weights across strategies (Rockafellar–Uryasev LP).

    Returned by :meth:`Simulation.allocate`.

    Attributes
    ----------
    weights : pandas.Series
        Long-only weights summing to one, by strategy (a copy on every access: editing it
        leaves the allocation as it was).
    expected_return, cvar, var : float
        Of the optimal mix's horizon return (loss = −return), at level ``alpha``.
    alpha : float
        The CVaR level.
    status : str
        The optimiser's status (``"Solved"`` on success).

    Examples
    --------
    >>> import geoscenario as gs
    >>> sim = gs.World.default().simulate(2_000, seed=0)
    >>> a = sim.allocate(0.95)
    >>> isinstance(a, gs.Allocation), a.status, a.alpha
    (True, 'Solved', 0.95)
    >>> a.weights.index.tolist() == list(sim.world.strategies)
    True
    >>> bool((a.weights >= -1e-9).all()), round(float(a.weights.sum()), 9), bool(a.var <= a.cvar)
    (True, 1.0, True)
    """

    weights: pd.Series
    expected_return: float
    cvar: float
    var: float
    alpha: float
    status: str

    def __post_init__(self) -> None:
        # also built by hand, e.g. to price a mix in Simulation.risk_table(mixes=...)
        from .summary import check_alpha

        w = self.weights
        if not isinstance(w, pd.Series) or not w.index.is_unique or w.dtype.kind not in "iuf":
            raise invalid("weights", "must be a pandas Series of real weights indexed by strategy name, each once")
        if not all(isinstance(k, str) for k in w.index) or not np.isfinite(w.to_numpy(dtype=float)).all():
            raise invalid("weights", "must be finite numbers indexed by strategy names")
        for name in ("expected_return", "cvar", "var"):
            if not _validate.is_finite_real(getattr(self, name)):
                raise invalid(name, f"must be a finite number, {_validate.got(getattr(self, name))}")
            object.__setattr__(self, name, _validate.to_float(getattr(self, name)))
        object.__setattr__(self, "alpha", check_alpha(self.alpha))
        if not isinstance(self.status, str):
            raise invalid("status", f"must be a string, got {type(self.status).__name__}")
        # its own float copy: the caller's Series edited later cannot change it unchecked
        object.__setattr__(self, "weights", w.astype(float).copy())

    def __getattribute__(self, name: str) -> Any:
        # the weights come out as a copy: one edited in place cannot make the allocation's
        # figures, repr and risk-table rows describe different weights
        value = object.__getattribute__(self, name)
        return _validate.private_copy(value) if name == "weights" else value

    def to_pandas(self) -> pd.Series:
        """The allocation as one float Series: ``expected_return``, ``cvar``, ``var``, then the
        weight of each strategy (the columns of a row of :meth:`Simulation.efficient_frontier`).

        Returns
        -------
        pandas.Series
            Named ``alpha=<level>``, so that ``pd.concat([a.to_pandas() for a in ...], axis=1)``
            puts allocations side by side.

        Examples
        --------
        >>> import geoscenario as gs
        >>> a = gs.World.default().simulate(2_000, seed=0).allocate(0.95)
        >>> s = a.to_pandas()
        >>> s.index[:3].tolist(), s.name, s.dtype
        (['expected_return', 'cvar', 'var'], 'alpha=0.95', dtype('float64'))
        >>> bool((s[a.weights.index] == a.weights).all())
        True
        """
        head = pd.Series({"expected_return": self.expected_return, "cvar": self.cvar, "var": self.var})
        return pd.concat([head, self.weights]).astype(float).rename(f"alpha={self.alpha:g}")

    def __eq__(self, other: object) -> bool:
        """Equal weights (same strategies, same order, same bits) and equal figures."""
        if not isinstance(other, Allocation):
            return NotImplemented
        return (self.weights.equals(other.weights)  # the same strategies, in the same order
                and (self.expected_return, self.cvar, self.var, self.alpha, self.status)
                == (other.expected_return, other.cvar, other.var, other.alpha, other.status))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        # every leg that prints as other than 0.0%, shorts included
        w = ", ".join(f"{k} {v:.1%}" for k, v in self.weights.items() if abs(v) >= 5e-4) or "no position"
        return f"Allocation(E[return] {self.expected_return:.2%}, CVaR {percent(self.alpha)} {self.cvar:.2%}; {w})"

    def _repr_html_(self) -> str:
        """In a notebook: the figures, then every strategy's weight as a table."""
        head = (f"Allocation(E[return] {self.expected_return:.2%}, CVaR {percent(self.alpha)} {self.cvar:.2%}, "
                f"VaR {percent(self.alpha)} {self.var:.2%})")
        weights = self.weights.rename_axis("strategy").to_frame("weight")
        return table_html(head, [("", weights)], [f"solver: {self.status}"])


def strategy_returns(
    sim: Simulation, strategies: Sequence[str] | None
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The strategies named (in the order given), their horizon returns as columns in the
    world's order, and where each column goes in the order given: ``out[:, at] = x``
    puts a solution ``x`` in the given order. Solving in one order makes the optimum's
    bits independent of the order the strategies are given in."""
    names = _validate.names("strategies", strategies, list(sim.world.strategies), ("strategy", "strategies"))
    world = list(sim.world.strategies)
    at = np.array(sorted(range(len(names)), key=lambda i: world.index(names[i])), dtype=np.intp)
    r = np.column_stack([sim.paths(names[i])[:, -1] - 1.0 for i in at])
    return names, np.ascontiguousarray(r), at
