"""The plain-text scenario report (fits a 100-column terminal)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._format import count, percent, printable, wrap
from .errors import invalid

if TYPE_CHECKING:
    from .simulation import Simulation

WIDTH = 100
# the thesis headline series first, then the rest in world order
HEADLINE = ("potash_spot", "contract_price", "dislocation", "discount")


def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return "—"
    a = abs(x)
    if a >= 1e8:  # a column is 12 characters, one of them the space before it
        return f"{x:.3e}"
    if a >= 1e4:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.2f}"
    if a >= 0.1 or a == 0:
        return f"{x:.3f}"
    if a >= 1e-4:  # three significant digits, not the few decimals of 0.000…
        return f"{x:.3g}"
    return f"{x:.2e}"


def _prob(p: float) -> str:
    """A probability to 0.1 points, except that one that is neither 0 nor 1 never prints as
    0.0% or 100.0%."""
    if 0 < p < 0.0005:
        return "<0.1%"
    if 0.9995 <= p < 1:
        return ">99.9%"
    return f"{p:.1%}"


def _cut(text: str, room: int) -> str:
    """``text`` escaped (:func:`printable`) in at most ``room`` characters: if longer, cut
    before an escape or character that does not fit, with "…"."""
    pieces = [printable(c) for c in text]
    if sum(map(len, pieces)) <= room:
        return "".join(pieces)
    kept, used = [], 0
    for piece in pieces:
        if used + len(piece) > room - 1:
            break
        kept.append(piece)
        used += len(piece)
    return "".join(kept) + "…"


def _cell(name: str, width: int) -> str:
    """``name`` left-aligned in ``width`` characters, cut with "…" so a space follows it."""
    return f"{name:<{width}}" if len(name) < width else name[: width - 2] + "… "


def _width(names: list[str], most: int) -> int:
    """A name column's width: 10, or the longest name and a space, up to ``most``."""
    return max(10, min(most, max((len(n) + 1 for n in names), default=0)))


def render(sim: Simulation, month: int | str | None = None, alpha: float = 0.95, progress: bool | str = "auto") -> str:
    """Render the report of a simulation (what ``sim.report()`` returns).

    Parameters
    ----------
    sim
        A :class:`~geoscenario.Simulation`.
    month
        The month of the statistics, as in :meth:`Simulation.summary` (default: the horizon).
    alpha
        The VaR/CVaR level of the strategies' section.
    progress
        Of the statistics, as in :meth:`Simulation.summary`.

    Returns
    -------
    str
        At most 100 columns wide.
    """
    from .simulation import Simulation
    from .summary import check_alpha

    if not isinstance(sim, Simulation):
        raise invalid("sim", f"must be a geoscenario Simulation, got {type(sim).__name__}")
    at_index = sim._month_index(month)
    alpha = check_alpha(alpha)
    months = sim.months
    at = f"{months[at_index]:%Y-%m}"  # the month the figures are at
    h = sim.horizon_months
    lines = []
    title = f"geoscenario · {printable(sim.world.name)}"
    lines.append(title)
    lines.append("=" * min(WIDTH, max(len(title), 60)))
    run = [
        f"paths {sim.n_paths:,}",
        f"horizon {count(h, 'month')} ({months[0]:%Y-%m} → {months[-1]:%Y-%m})",
        f"seed {sim.seed}",
        *(["antithetic"] if sim.antithetic else []),
        *(["Sobol QMC"] if sim.qmc else []),
        f"run time {sim.elapsed:.2f} s",
    ]
    lines.extend(wrap("", run, " · ", WIDTH))
    scen = [
        f"{name} {percent(p)} ({count(n, 'path')})"
        for (name, p), n in zip(sim.probabilities.items(), sim.counts.values())
    ]
    lines.extend(wrap("scenarios: ", scen, "   ", WIDTH))
    if sim.qmc:  # (the figures carry no error: say why, and where to get one)
        lines.append("  no Monte Carlo standard errors from one Sobol scramble; "
                     "World.simulate_summary(n, qmc=True,")
        lines.append("  replicates=R) pools R independent scrambles and gives them")
    if sim.regimes is not None:  # Markov regimes: a path's scenario is where it started
        lines.append("  Markov regimes: each path is counted, and its rows below grouped, under its regime "
                     "at month 0")
    post = sim.posterior
    if post is not None and post["views"]:  # the weights are a posterior: say which views made it
        views = [repr(v).removeprefix("View(").removesuffix(")") for v in post["views"]]
        lines.extend(wrap("views: ", views, "; ", WIDTH))
        lines.append(f"  every figure is posterior (entropy pooling: relative entropy "
                     f"{post['relative_entropy']:.3g}, {post['effective_scenarios']:,.0f} effective scenarios)")
    lines.append("")
    strategies = [s for s in sim.world.strategies if s in sim.units]
    series = [s for s in sim.units if s not in strategies]
    summary = sim.summary(series, month=at_index, progress=progress)
    order = [s for s in HEADLINE if s in series] + [s for s in series if s not in HEADLINE]
    for name in order:
        block = summary.loc[name]
        unit = summary.attrs["units"][name]
        has_p = bool(np.isfinite(block["threshold"]).any())
        label = ""
        if has_p:
            t = float(block["threshold"].iloc[0])
            label = f"P(>{t:g})"  # the level as written: 450, 0.25, 4000
            if len(label) > 11:  # shorter, so that the column stays 12 characters if it can
                label = f"P(>{t:.3g})"
        wp = max(12, len(label) + 1) if has_p else 0  # the probability column fits its header
        ws = _width([*sim.scenario_names, "all"], 26 + 12 - max(wp, 12))  # 2 + ws + 5 × 12 + wp ≤ WIDTH
        room = WIDTH - len(f"{name} [] at {at}")  # a long unit is cut, not the month
        unit = _cut(unit, room)
        lines.append(f"{name} [{unit}] at {at}" if unit else f"{name} at {at}")
        se = float(block.loc["all", "mean_se"])
        if np.isfinite(se):  # (none under QMC) the precision of the run, before its figures are read
            note = f"Monte Carlo s.e. of the overall mean {_fmt(se).strip()}"
            qse = [float(block.loc["all", f"{q}_se"]) for q in ("q05", "q50", "q95")]
            if np.isfinite(qse).all():  # (NaN where antithetic twins all straddle the median)
                note += f", of its 5%/50%/95% {'/'.join(_fmt(x).strip() for x in qse)}"
            if has_p:
                note += f", of {label} {float(block.loc['all', 'p_above_se']):.2%}"
            # on the title line if it fits whole (lines are cut at WIDTH), else on its own
            if len(lines[-1]) + 3 + len(note) <= WIDTH:
                lines[-1] += f" · {note}"
            else:
                lines.append(f"  {note}")
        lines.append(
            f"  {'scenario':<{ws}}{'mean':>12}{'5%':>12}{'50%':>12}{'95%':>12}{'std':>12}{label:>{wp}}"
        )
        for scen_name, row in block.iterrows():
            cells = "".join(f"{_fmt(row[c]):>12}" for c in ("mean", "q05", "q50", "q95", "std"))
            p = f"{_prob(row['p_above']):>{wp}}" if has_p else ""
            lines.append(f"  {_cell(scen_name, ws)}{cells}{p}")
        lines.append("")
    if strategies:
        lines.extend(_strategy_section(sim, strategies, at_index, alpha, progress))
    # (only a long world name is cut; a control character in a name or unit is escaped)
    return "\n".join(printable(line)[:WIDTH] for line in lines)


def _strategy_section(sim: Simulation, strategies: list[str], t: int, alpha: float,
                      progress: bool | str) -> list[str]:
    months = sim.months
    risk = sim.risk_table(alpha, strategies, month=t, progress=progress)
    lines = [f"strategies: return to {months[t]:%Y-%m} (NAV − 1), VaR/CVaR {percent(alpha)} of the loss"]
    lines.append(f"  tail: the scenario's share of the overall CVaR tail (the worst {percent(1 - alpha)} of outcomes)")
    overall = risk.xs("all", level="scenario")
    se, pse = overall["mean_return_se"], overall["p_loss_se"]
    if np.isfinite(se).all() and np.isfinite(pse).all():
        lines.append(f"  Monte Carlo s.e. of the overall mean returns: at most {se.max():.2%}; "
                     f"of P(loss): at most {pse.max():.2%}")
    vse, cse = overall["var_se"], overall["cvar_se"]
    if np.isfinite(vse).all() and np.isfinite(cse).all():  # (none when a path outweighs the tail)
        lines.append(f"  Monte Carlo s.e. of the overall VaR: at most {vse.max():.2%}; "
                     f"of the overall CVaR: at most {cse.max():.2%}")
    ws = _width([*sim.scenario_names, "all"], 16)
    wn = _width(strategies, WIDTH - 2 - ws - 53)  # 53: the six figures' columns
    lines.append(
        f"  {'strategy':<{wn}}{'scenario':<{ws}}{'mean':>9}{'std':>9}{'VaR':>9}{'CVaR':>9}{'P(loss)':>9}{'tail':>8}"
    )
    for strat in strategies:
        for i, (scen, row) in enumerate(risk.loc[strat].iterrows()):
            lines.append(
                f"  {_cell(strat if i == 0 else '', wn)}{_cell(scen, ws)}"
                f"{row['mean_return']:>9.1%}{row['std']:>9.1%}{row['var']:>9.1%}{row['cvar']:>9.1%}"
                f"{_prob(row['p_loss']):>9}{row['tail_share']:>8.0%}"
            )
    lines.append("")
    try:
        alloc = sim.allocate(alpha, strategies=strategies)
    except Exception as e:  # the report still prints if the optimiser fails
        lines.append(f"mean–CVaR {percent(alpha)} allocation: not available ({e})")
        return lines
    lines.append(
        f"mean–CVaR {percent(alpha)} allocation (min CVaR, long-only): E[return] {alloc.expected_return:.1%}, "
        f"CVaR {alloc.cvar:.1%}"
    )
    if t != sim.horizon_months:  # (allocate's returns are to the horizon)
        lines.append(f"  of the returns to the horizon, {months[-1]:%Y-%m}")
    for name, w in alloc.weights.items():
        lines.append(f"  {_cell(name, wn)}{w:>9.1%}")
    lines.append("")
    return lines
