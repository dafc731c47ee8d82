"""Plots of a :class:`~geoscenario.Simulation`: fans, horizon densities, scenario what-ifs.

Statistics use the path weights and :func:`geoscenario.stats.weighted_quantile`, so a
reweighted simulation (``sim.reweight({...})``) plots its own probabilities. matplotlib is
imported only when a function draws (``pip install geoscenario[plot]``). Every function
that draws accepts ``ax=None`` (a new figure) and returns the Axes it drew on;
:func:`fan_quantiles` draws nothing and returns the bands :func:`fan_chart` draws.

Examples
--------
>>> import geoscenario as gs
>>> import geoscenario.plot
>>> sim = gs.World.default().simulate(2_000, seed=0, progress=False)
>>> gs.plot.fan_quantiles(sim, "potash_spot").shape  # the bands of gs.plot.fan_chart
(25, 15)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import _validate, stats
from .errors import invalid

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from .simulation import Simulation

__all__ = ["fan_quantiles", "fan_chart", "horizon_hist", "probability_curve", "nav_distribution",
           "scenario_bars", "SCENARIO_COLORS"]

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: Colours of the default world's scenarios and of the weighted total ("all").
SCENARIO_COLORS = {"base": "#1f77b4", "bull": "#2ca02c", "bear": "#d62728", "all": "#333333"}
_EXTRA_COLORS = ("#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f")


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError("geoscenario.plot needs matplotlib (an optional dependency): "
                          "pip install geoscenario[plot]") from e
    return plt


def _check_ax(ax: Any) -> None:
    """``ax`` is None or a matplotlib Axes, else a ConfigError naming ``ax``."""
    if ax is None:
        return
    _pyplot()  # the ImportError with the install hint
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise invalid("ax", f"must be a matplotlib Axes or None, got {type(ax).__name__}")


def _check_color(color: Any) -> None:
    """``color`` is None or a colour matplotlib understands, else a ConfigError naming ``color``."""
    if color is None:
        return
    _pyplot()
    from matplotlib.colors import is_color_like

    if not is_color_like(color):
        raise invalid("color", f"must be a matplotlib colour (a name such as 'tab:blue', or '#1f77b4'), got {color!r}")


def _axes(ax: Axes | None, figsize: tuple[float, float] = (8.0, 4.5)) -> Axes:
    """``ax`` (checked), or the Axes of a new figure if None."""
    _check_ax(ax)
    if ax is None:
        _, ax = _pyplot().subplots(figsize=figsize, layout="constrained")
    return ax


def _percent() -> Any:
    _pyplot()  # the ImportError with the install hint
    from matplotlib.ticker import PercentFormatter
    return PercentFormatter(1.0)


def _palette(names: Iterable[str]) -> dict[str, str]:
    """A colour per name: ``SCENARIO_COLORS`` for the names it has, the others the
    extra colours in their order (so that a world's scenarios, listed in its order,
    keep their colours from one plot to the next and differ within one)."""
    names = list(dict.fromkeys(names))
    others = iter(_EXTRA_COLORS[i % len(_EXTRA_COLORS)] for i in range(len(names)))
    return {name: SCENARIO_COLORS.get(name) or next(others) for name in names}


def _groups(sim: Simulation, by_scenario: bool, total: bool = False) -> list[tuple[str, Any]]:
    """``(name, mask)`` per scenario of positive weight (and/or ``("all", None)``)."""
    names = sim.scenario_names if by_scenario else []
    out: list[tuple[str, Any]] = [(n, sim.scenario == k) for k, n in enumerate(names)]
    out = [(n, m) for n, m in out if sim.weights[m].sum() > 0]
    return [*out, ("all", None)] if total or not by_scenario else out


def _sample(sim: Simulation, values: np.ndarray, mask: Any) -> tuple[np.ndarray, np.ndarray]:
    return (values, sim.weights) if mask is None else (values[mask], sim.weights[mask])


def _probs(name: str, q: Any) -> np.ndarray:
    """Levels in [0, 1]: a real number or a flat sequence of them (not bools or strings)."""
    arr = np.atleast_1d(_validate.levels(name, q))
    if arr.ndim != 1 or arr.size == 0:
        raise invalid(name, f"must be a non-empty sequence of numbers in [0, 1], got {q!r}")
    return arr


def _label(sim: Simulation, series: str) -> str:
    unit = sim.units.get(series, "")
    return f"{series} ({unit})" if unit else series


def _sim(sim: Any) -> None:
    from .simulation import Simulation

    if not isinstance(sim, Simulation):
        raise invalid("sim", f"must be a geoscenario Simulation, got {type(sim).__name__}")


def _paths(sim: Simulation, series: Any) -> np.ndarray:
    """``sim.paths(series)``, or a ConfigError naming ``series``."""
    units = sim.units
    if not isinstance(series, str) or series not in units:
        raise invalid("series", f"{series!r} is not a series (series: {', '.join(units)})")
    return sim.paths(series)


def _at(sim: Simulation, series: str, month: int | str | None) -> tuple[np.ndarray, str]:
    data = _paths(sim, series)
    t = sim.month_index(month)
    return np.ascontiguousarray(data[:, t]), f"{sim.months[t]:%Y-%m}"


def _pct(q: float) -> str:
    """A quantile level as a percentage: 0.05 -> '5%', 0.025 -> '2.5%'."""
    return f"{100 * q:.4g}%"


def fan_quantiles(sim: Simulation, series: str, quantiles: Sequence[float] | np.ndarray = QUANTILES, *,
                  by_scenario: bool = True) -> pd.DataFrame:
    """Weighted quantiles of a series (factor, derived series, NAV) at every month.

    Parameters
    ----------
    sim : Simulation
    series : str
    quantiles : sequence of float in [0, 1]
        Sorted, a repeated level once.
    by_scenario : bool
        A block of columns per scenario (conditional), else one block ``"all"``.

    Returns
    -------
    pandas.DataFrame
        Index ``sim.months``, columns ``(scenario, quantile)``.

    Examples
    --------
    >>> import geoscenario as gs
    >>> import geoscenario.plot
    >>> sim = gs.World.default().simulate(2_000, seed=0)
    >>> q = gs.plot.fan_quantiles(sim, "potash_spot", [0.95, 0.05, 0.5], by_scenario=False)
    >>> q.shape, list(q.columns.names), q.columns.tolist()  # levels sorted
    ((25, 3), ['scenario', 'quantile'], [('all', 0.05), ('all', 0.5), ('all', 0.95)])
    >>> q.iloc[0].tolist()  # every path starts at the initial spot price
    [352.0, 352.0, 352.0]
    >>> bool((q.diff(axis=1).iloc[:, 1:] >= 0).all().all())  # q05 <= q50 <= q95 every month
    True
    >>> gs.plot.fan_quantiles(sim, "potash_spot").columns.get_level_values("scenario").unique().tolist()
    ['base', 'bull', 'bear']
    """
    _sim(sim)
    q = np.unique(_probs("quantiles", quantiles))  # sorted, each level once
    by_scenario = _validate.flag("by_scenario", by_scenario)
    data = _paths(sim, series)
    cols: dict[tuple[str, float], np.ndarray] = {}
    for name, mask in _groups(sim, by_scenario):
        x, w = _sample(sim, data, mask)
        vals = np.stack([stats.weighted_quantile(row, w, q) for row in np.ascontiguousarray(x.T)])
        cols.update({(name, float(qq)): vals[:, j] for j, qq in enumerate(q)})
    return pd.DataFrame(cols, index=sim.months).set_axis(
        pd.MultiIndex.from_tuples(list(cols), names=["scenario", "quantile"]), axis=1)


def fan_chart(sim: Simulation, series: str, *, by_scenario: bool = True,
              quantiles: Sequence[float] = QUANTILES, ax: Axes | None = None) -> Axes:
    """Fan chart: weighted quantile bands of a series over the months.

    Parameters
    ----------
    sim : Simulation
    series : str
    by_scenario : bool
        One fan per scenario, else one fan of all paths.
    quantiles : sequence of float
        Paired from the outside in (5–95%, 25–75%) into bands; an odd middle one is a line
        (a single level: that line alone).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        A ``fill_between`` collection per band and fan, a median line per fan.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import geoscenario as gs
    >>> import geoscenario.plot
    >>> sim = gs.World.default().simulate(2_000, seed=0)
    >>> ax = gs.plot.fan_chart(sim, "potash_spot")
    >>> len(ax.lines), len(ax.collections)  # per scenario: a median, bands 5–95% and 25–75%
    (3, 6)
    >>> ax.get_ylabel(), ax.get_xlabel()
    ('potash_spot (USD/t)', 'month')
    >>> plt.close(ax.figure)
    """
    _sim(sim)
    _check_ax(ax)
    q = np.unique(_probs("quantiles", quantiles))
    table = fan_quantiles(sim, series, q, by_scenario=by_scenario)
    ax = _axes(ax)
    n_bands, odd = len(q) // 2, len(q) % 2 == 1
    middle = ("median" if q[n_bands] == 0.5 else f"{_pct(q[n_bands])} quantile") if odd else ""
    # inner bands darker, each by at most 0.12 and the innermost at most 0.6 opaque
    # (whatever the number of quantile levels)
    base = 0.12 if by_scenario else 0.18
    step = min(0.12, (0.6 - base) / max(n_bands - 1, 1))
    colors = _palette([*sim.scenario_names, *table.columns.get_level_values(0)])
    for name in dict.fromkeys(table.columns.get_level_values(0)):
        color, block = colors[name], table[name].to_numpy()
        p = sim.weights.sum() if name == "all" else sim.probabilities[name]
        label = f"{name} ({p:.0%})"
        for i in range(n_bands):
            ax.fill_between(table.index, block[:, i], block[:, -1 - i], color=color, linewidth=0,
                            alpha=base + step * i,
                            label=label if (i == 0 and not odd) else None)
        if odd:
            ax.plot(table.index, block[:, n_bands], color=color, lw=1.8, label=f"{label}, {middle}")
    bands = ", ".join(f"{_pct(q[i])}–{_pct(q[-1 - i])}" for i in range(n_bands))
    title = f"weighted quantile bands {bands}" if n_bands else f"weighted {middle}"
    ax.set(title=f"{series}: {title}", xlabel="month",
           ylabel=_label(sim, series))
    _month_axis(ax)
    ax.legend(loc="upper left", fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def _month_axis(ax: Axes) -> None:
    """At most seven date ticks, labelled without repeating the year ("2026", "Apr", ...)."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


MAX_BINS = 100_000
"""Most histogram bins (far more than a figure can show)."""


def _number(name: str, value: Any) -> float:
    """A finite real number (not a bool, not a string such as ``"450"``)."""
    if not _validate.is_finite_real(value):
        raise invalid(name, f"must be a finite number, {_validate.got(value)}")
    return _validate.to_float(value)


def _range_edges(value: Any, bins: int) -> np.ndarray:
    """The ``bins + 1`` edges over ``value = (lo, hi)``: finite, lo < hi, and every bin
    wider than zero in doubles; a pair is a tuple, a list or a 1-D array of two numbers
    (e.g. ``np.quantile(x, [0.01, 0.99])``)."""
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = list(value)  # NumPy scalars, each read as a number is everywhere
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise invalid("value_range", f"must be a pair (low, high): a tuple, list or array of two numbers, got {value!r}")
    lo, hi = (_number("value_range", v) for v in value)
    if not lo < hi:
        raise invalid("value_range", f"low must be below high, got {value!r}")
    with np.errstate(over="ignore", invalid="ignore"):
        edges = np.linspace(lo, hi, bins + 1)
    if not np.isfinite(edges).all():
        raise invalid("value_range", f"its width overflows a double, got {value!r}")
    if not (np.diff(edges) > 0).all():
        raise invalid("value_range", f"is too narrow for {bins} bins in double precision, got {value!r}: "
                                     "widen it or pass fewer bins")
    return edges


def _edges(x: np.ndarray, w: np.ndarray, bins: int) -> np.ndarray:
    """Automatic edges: one bin per integer for counts, else ``bins`` bins over the
    weighted 0.1–99.9% range (fewer if the range holds fewer doubles)."""
    x, w = x[np.isfinite(x)], w[np.isfinite(x)]
    # counts: one bin per integer (while integers are doubles 1 apart, below 2**53)
    if np.all(x == np.round(x)) and x.max() - x.min() <= 500 and np.abs(x).max() < 2.0**52:
        return np.arange(x.min() - 0.5, x.max() + 1.5)
    lo, hi = (float(v) for v in stats.weighted_quantile(x, w, np.array([0.001, 0.999])))
    if not hi > lo:  # one value: a bin around it, wide enough to exist in doubles
        pad = max(0.5, abs(lo) * 1e-9)
        lo, hi = lo - pad, hi + pad
    return np.unique(np.linspace(lo, hi, bins + 1))  # unique: bins narrower than an ulp merge


def horizon_hist(sim: Simulation, series: str, *, month: int | str | None = None, bins: int = 80,
                 by_scenario: bool = True, conditional: bool = False, level: float | None = None,
                 value_range: tuple[float, float] | None = None, label: str | None = None,
                 color: str | None = None, ax: Axes | None = None) -> Axes:
    """Weighted histogram densities of a series at one month.

    Parameters
    ----------
    sim : Simulation
    series : str
    month : int or str, optional
        Index (negative from the end) or ``"YYYY-MM"``; default the horizon.
    bins : int
        Over the weighted 0.1–99.9% range (mass outside is not drawn); integer series
        get one bin per integer.
    by_scenario, conditional : bool
        A curve per scenario: its area is the scenario's probability (the curves add up
        to the overall density, in black), or 1 if ``conditional`` — less the mass
        outside the drawn range, 0.2% overall.
    level : float, optional
        Vertical line; P(X > level) of each curve in the legend.
    value_range : (float, float) or array of two, optional
        Range of the bins instead of the automatic one.
    label, color : str, optional
        Legend label and colour of the overall curve (to overlay simulations on one ``ax``).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        A ``StepPatch`` per curve.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import geoscenario as gs
    >>> import geoscenario.plot
    >>> sim = gs.World.default().simulate(2_000, seed=0)
    >>> ax = gs.plot.horizon_hist(sim, "potash_spot", level=450)
    >>> len(ax.patches), len(ax.lines)  # a curve per scenario and the total; the level line
    (4, 1)
    >>> ax.get_title(), ax.get_xlabel()
    ('potash_spot at 2027-06', 'potash_spot (USD/t)')
    >>> plt.close(ax.figure)
    """
    _sim(sim)
    bins = _validate.integer("bins", bins, 1, MAX_BINS)
    if level is not None:
        level = _number("level", level)
    edges = None if value_range is None else _range_edges(value_range, int(bins))
    by_scenario = _validate.flag("by_scenario", by_scenario)
    conditional = _validate.flag("conditional", conditional)
    if label is not None and not isinstance(label, str):
        raise invalid("label", f"must be a string, got {type(label).__name__}")
    _check_color(color)
    _check_ax(ax)
    col, when = _at(sim, series, month)
    if edges is not None:  # a range that holds no path would draw an empty plot
        held = col[sim.weights > 0]  # the paths that weigh anything
        if not ((held >= edges[0]) & (held <= edges[-1])).any():
            raise invalid("value_range", f"holds none of the values of {series} at {when}: they lie in "
                                         f"[{held.min():.4g}, {held.max():.4g}]")
    ax = _axes(ax)
    if edges is None:
        edges = _edges(col, sim.weights, int(bins))
    total = float(sim.weights.sum())
    groups = _groups(sim, by_scenario, total=by_scenario and not conditional)
    single = len(groups) == 1
    colors = _palette([*sim.scenario_names, *(name for name, _ in groups)])
    for name, mask in groups:
        x, w = _sample(sim, col, mask)
        h, _ = np.histogram(x, bins=edges, weights=w)
        mass = float(w.sum())
        text = label if (name == "all" and label is not None) else f"{name} ({mass / total:.0%})"
        if level is not None:
            text += f"  P(>{level:g}) = {stats.prob_above(x, w, level):.1%}"
        ax.stairs(h / ((mass if conditional else total) * np.diff(edges)), edges, label=text,
                  color=color if name == "all" and color else colors[name], fill=single,
                  alpha=0.45 if single else 1.0, linewidth=1.0 if single else 1.6)
    if level is not None:
        ax.axvline(level, color="black", linestyle="--", linewidth=1)
    ax.set(title=f"{series} at {when}", xlabel=_label(sim, series),
           ylabel="density (area = probability)" if by_scenario and not conditional else "density")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return ax


_DEFAULT_PROBS = tuple(round(0.05 * i, 2) for i in range(13))  # 0, 0.05, …, 0.6


def probability_curve(sim: Simulation, series: str, level: float, scenario: str,
                      probs: Sequence[float] | np.ndarray = _DEFAULT_PROBS, *,
                      month: int | str | None = None, ax: Axes | None = None) -> Axes:
    """P(series > level) as P(scenario) varies over ``probs``, the others in proportion.

    Every point is :meth:`Simulation.reweight` of the same paths: no re-simulation. On a
    posterior of :meth:`Simulation.with_views` the views are pooled again at every point,
    so they hold along the curve.

    Parameters
    ----------
    sim : Simulation
    series : str
    level : float
    scenario : str
    probs : sequence of float in [0, 1]
    month : int or str, optional (default: the horizon)
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Three lines: the curve, the prior (vertical) and the point at the prior.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import geoscenario as gs
    >>> import geoscenario.plot
    >>> sim = gs.World.default().simulate(2_000, seed=0)
    >>> ax = gs.plot.probability_curve(sim, "potash_spot", 450, "bear", [0.1, 0.2, 0.3, 0.4])
    >>> len(ax.lines), ax.lines[0].get_xdata().tolist()
    (3, [0.1, 0.2, 0.3, 0.4])
    >>> y = ax.lines[0].get_ydata()
    >>> bool((y[1:] >= y[:-1]).all())  # bear paths end above 450 more often: P rises with P(bear)
    True
    >>> ax.get_ylabel()
    'P(potash_spot > 450) at 2027-06'
    >>> plt.close(ax.figure)
    """
    _sim(sim)
    _check_ax(ax)
    level = _number("level", level)
    # the probabilities reweight replaces: on a posterior the prior's, not its posterior masses
    prior = dict(zip(sim.scenario_names, sim._probs))
    if not isinstance(scenario, str) or scenario not in prior:
        raise invalid("scenario", f"{scenario!r} is not a scenario ({', '.join(prior)})")
    p = _probs("probs", probs)
    rest = 1.0 - prior[scenario]
    if rest <= 0:
        raise invalid("scenario", f"{scenario!r} has probability 1: the others cannot be rescaled")
    col, when = _at(sim, series, month)
    scaled = ({k: float(pk) if k == scenario else v * (1.0 - pk) / rest for k, v in prior.items()}
              for pk in p)
    curve = [stats.prob_above(col, sim.reweight(q).weights, level) for q in scaled]
    ax = _axes(ax)
    ax.plot(p, curve, marker="o", color=_palette(sim.scenario_names)[scenario],
            label=f"P({series} > {level:g})")
    p0, p_at = prior[scenario], stats.prob_above(col, sim.weights, level)
    # (under Markov regimes the probabilities are the first month's: paths move on by the matrix)
    pname = f"P(starting in {scenario})" if sim.world.regimes == "markov" else f"P({scenario})"
    ax.axvline(p0, color="grey", ls="--", lw=1, label=f"prior {pname} = {p0:.0%}")
    ax.plot([p0], [p_at], marker="*", markersize=14, color="black", linestyle="none",
            label=f"at the prior: {p_at:.1%}")
    lo, hi = min(*curve, p_at), max(*curve, p_at)
    if hi - lo < 1e-3:  # flat (a view pins it): an axis of ±5 points, not its rounding magnified
        ax.set_ylim(max(0.0, (lo + hi) / 2 - 0.05), min(1.0, (lo + hi) / 2 + 0.05))
    ax.xaxis.set_major_formatter(_percent())
    ax.yaxis.set_major_formatter(_percent())
    ax.set(xlabel=f"{pname} (other scenarios rescaled proportionally)",
           ylabel=f"P({series} > {level:g}) at {when}",
           title=f"P({series} > {level:g}) vs {pname}: reweighting, no re-simulation")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def nav_distribution(sim: Simulation | Mapping[str, Simulation], strategies: str | Sequence[str], *,
                     by_scenario: bool = True, whis: tuple[float, float] = (0.05, 0.95),
                     ax: Axes | None = None) -> Axes:
    """Weighted box plots (25–75%, whiskers ``whis``, median, ◇ mean) of returns NAV_H − 1.

    Parameters
    ----------
    sim : Simulation or mapping of str to Simulation
        ``{label: simulation}`` compares several (e.g. worlds from ``with_params``).
    strategies : str or sequence of str
        Strategies of the world(s) (at least one, each once).
    by_scenario : bool
        A box per scenario plus one for all paths, else only the latter.
    whis : (float, float)
        Quantiles of the whisker ends.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        A box patch per (simulation, strategy, scenario or "all").

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import geoscenario as gs
    >>> import geoscenario.plot
    >>> sim = gs.World.default().simulate(2_000, seed=0)
    >>> ax = gs.plot.nav_distribution(sim, ["commodities_arbitrage", "direct_belarus"])
    >>> len(ax.patches)  # 2 strategies x (3 scenarios + "all")
    8
    >>> [t.get_text() for t in ax.get_xticklabels()], ax.get_ylabel()
    (['commodities_arbitrage', 'direct_belarus'], 'terminal return NAV_H − 1')
    >>> plt.close(ax.figure)
    """
    sims = dict(sim) if isinstance(sim, Mapping) else {"": sim}
    for s in sims.values():
        _sim(s)
    if not sims:
        raise invalid("sim", "no simulation given")
    for s in sims.values():  # NAV series only: a factor's "return" would be meaningless
        strats = _validate.names("strategies", strategies, list(s.world.strategies), ("strategy", "strategies"))
    by_scenario = _validate.flag("by_scenario", by_scenario)
    _check_ax(ax)
    ends = _probs("whis", whis)
    if len(ends) != 2 or not ends[0] < ends[1]:
        raise invalid("whis", f"must be two quantile levels (low, high) with low < high, got {whis!r}")
    lo, hi = float(ends[0]), float(ends[1])
    q = np.array([lo, 0.25, 0.5, 0.75, hi])
    ax = _axes(ax, figsize=(min(14.0, max(6.0, 1.2 + 1.8 * len(sims) * len(strats))), 4.5))
    boxes: list[dict[str, Any]] = []
    pos: list[float] = []
    widths: list[float] = []
    ticks: list[str] = []
    colors: dict[str, str] = {}
    for label, s in sims.items():
        groups = _groups(s, by_scenario, total=True)
        palette = _palette([*s.scenario_names, *(name for name, _ in groups)])
        width = 0.8 / len(groups)
        for strat in strats:
            ret = _paths(s, strat)[:, -1] - 1.0
            for j, (name, mask) in enumerate(groups):
                r, w = _sample(s, ret, mask)
                v = stats.weighted_quantile(r, w, q)
                boxes.append({"whislo": v[0], "q1": v[1], "med": v[2], "q3": v[3], "whishi": v[4],
                              "mean": stats.weighted_mean(r, w), "fliers": [], "label": name})
                pos.append(len(ticks) + (j - (len(groups) - 1) / 2) * width)
                widths.append(0.75 * width)
                colors.setdefault(name, palette[name])
            ticks.append(f"{strat}\n{label}" if label else strat)
    art = ax.bxp(boxes, positions=pos, widths=widths, patch_artist=True, showmeans=True,
                 showfliers=False, manage_ticks=False, medianprops={"color": "black"},
                 meanprops={"marker": "D", "mfc": "white", "mec": "black", "ms": 4})
    for patch, b in zip(art["boxes"], boxes):
        patch.set_facecolor(colors[b["label"]])
        patch.set_alpha(0.55)
    from matplotlib.patches import Patch
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_xticks(range(len(ticks)), ticks, fontsize="small")
    ax.set_xlim(-0.6, len(ticks) - 0.4)
    ax.yaxis.set_major_formatter(_percent())
    ax.set(ylabel="terminal return NAV_H − 1",
           title=f"terminal returns: boxes 25–75%, whiskers {lo:.0%}–{hi:.0%}, ◇ mean")
    ax.legend(handles=[Patch(facecolor=c, alpha=0.55, label=n) for n, c in colors.items()],
              fontsize="small")
    ax.grid(alpha=0.3, axis="y")
    return ax


def _numeric(name: str, s: pd.Series, what: str = "") -> pd.Series:
    """The numbers of ``s`` (numeric strings parsed, missing values NaN), or a ConfigError
    naming ``name`` if it holds text (a ``unit`` column), dates or durations, which would
    otherwise be drawn as missing bars or as nanoseconds; ``what`` prefixes the rule."""
    what = f"{what} " if what else ""
    if isinstance(s.dtype, pd.PeriodDtype) or pd.api.types.is_datetime64_any_dtype(s) \
            or pd.api.types.is_timedelta64_dtype(s) or pd.api.types.is_complex_dtype(s):
        raise invalid(name, f"{what}must hold real numbers, got dtype {s.dtype}")
    v = pd.to_numeric(s, errors="coerce")
    bad = v.isna() & s.notna()
    if bad.any():
        raise invalid(name, f"{what}must hold real numbers, got {s[bad].iloc[0]!r}")
    infinite = np.isinf(v.to_numpy(dtype=float, na_value=np.nan))  # a bar off the axes
    if infinite.any():
        raise invalid(name, f"{what}must hold finite numbers (or NaN for no bar), got {s[infinite].iloc[0]!r}")
    return v


def scenario_bars(df: pd.DataFrame | pd.Series, column: str | None = None, *, percent: bool = False,
                  annotate: bool = True, ax: Axes | None = None) -> Axes:
    """Grouped bars of a per-scenario statistic table, a colour per scenario.

    Parameters
    ----------
    df : pandas.DataFrame or pandas.Series
        A Series indexed by scenario; a DataFrame indexed by scenario (a group per
        column); a :meth:`Simulation.summary` table with ``column`` (a group per
        series); or a DataFrame with scenario columns (a group per row).
    column : str, optional
        The statistic to plot (e.g. ``"p_above"``).
    percent, annotate : bool
        Percent axis; value labels over the bars.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        A bar patch per (group, scenario).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import geoscenario as gs
    >>> import geoscenario.plot
    >>> sim = gs.World.default().simulate(2_000, seed=0)
    >>> ax = gs.plot.scenario_bars(sim.summary("potash_spot"), "p_above", percent=True)
    >>> len(ax.patches), ax.get_ylabel()
    (4, 'p_above')
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['base', 'bull', 'bear', 'all']
    >>> plt.close(ax.figure)
    """
    if not isinstance(df, (pd.Series, pd.DataFrame)):
        raise invalid("df", f"must be a pandas DataFrame or Series, got {type(df).__name__}")
    if column is not None and isinstance(df, pd.DataFrame) and column not in df.columns:
        raise invalid("column", f"{column!r} is not a column ({', '.join(map(str, df.columns))})")
    percent = _validate.flag("percent", percent)
    annotate = _validate.flag("annotate", annotate)
    _check_ax(ax)
    if isinstance(df, pd.Series):
        table = _numeric("df", df).to_frame(df.name if df.name is not None else "value").T
    elif isinstance(df.index, pd.MultiIndex) and "scenario" in df.index.names:
        if column is None:
            raise invalid("column", "is required for a table indexed by (..., scenario)")
        rows, cols = (list(dict.fromkeys(df.index.get_level_values(n))) for n in (0, "scenario"))
        table = _numeric("column", df[column], repr(column)).unstack("scenario").reindex(index=rows, columns=cols)
    elif df.index.name == "scenario" or set(df.index) <= set(SCENARIO_COLORS):
        table = (_numeric("column", df[column], repr(column)).to_frame() if column is not None
                 else df.apply(lambda c: _numeric("df", c, f"column {c.name!r}"))).T
    else:
        table = df.apply(lambda c: _numeric("df", c, f"column {c.name!r}"))
    table = table[table.notna().any(axis=1)]  # e.g. p_above of series without a threshold: no group
    if table.empty:
        # (named by what holds the values: the column given, else the table itself)
        what = "is empty" if df.empty else "has no value to plot (every entry is NaN)"
        raise invalid("column" if column is not None else "df",
                      f"{column!r} {what}" if column is not None else what)
    ax = _axes(ax, figsize=(min(12.0, max(5.0, 1.5 + 1.4 * len(table))), 4.0))
    names = [str(c) for c in table.columns]
    width, x = 0.8 / max(1, len(names)), np.arange(len(table))
    colors = _palette(names)
    for j, name in enumerate(names):
        vals = table.iloc[:, j].to_numpy(dtype=float)
        bars = ax.bar(x + (j - (len(names) - 1) / 2) * width, vals, width,
                      color=colors[name], label=name, alpha=0.85)
        if annotate:
            text = [f"{v:.1%}" if percent else f"{v:.3g}" for v in vals]
            ax.bar_label(bars, labels=text, fontsize="x-small", padding=2)
    ax.set_xticks(x, [str(i) for i in table.index])
    if percent:
        ax.yaxis.set_major_formatter(_percent())
    ylabel = column if column is not None else str(table.index[0]) if len(table) == 1 else "value"
    ax.set(ylabel=ylabel, xlabel=str(table.index.name or ""))
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.margins(y=0.15)  # room over the tallest bar for its label and the legend
    ax.legend(fontsize="small", loc="best")
    ax.grid(alpha=0.3, axis="y")
    return ax
