"""The plain-text scenario report (fits a 100-column terminal)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .simulation import Simulation

WIDTH = 100
# the thesis headline series first, then the rest in world order
HEADLINE = ("potash_spot", "contract_price", "dislocation", "discount")


def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return "—"
    a = abs(x)
    if a >= 1e4:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def render(sim: Simulation) -> str:
    """Render the report of a simulation."""
    months = sim.months
    h = sim.horizon_months
    lines = []
    title = f"geoscenario · {sim.world.name}"
    lines.append(title)
    lines.append("=" * min(WIDTH, max(len(title), 60)))
    lines.append(
        f"paths {sim.n_paths:,} · horizon {h} months ({months[0]:%Y-%m} → {months[-1]:%Y-%m}) · "
        f"seed {sim.seed}{' · antithetic' if sim.antithetic else ''} · run time {sim.elapsed:.2f} s"
    )
    scen = "   ".join(
        f"{name} {p:.0%} ({n:,} paths)" for (name, p), n in zip(sim.probabilities.items(), sim.counts.values())
    )
    lines.append(f"scenarios: {scen}")
    lines.append("")
    summary = sim.summary()
    order = [s for s in HEADLINE if s in sim.factors] + [s for s in sim.factors if s not in HEADLINE]
    header = f"  {'scenario':<10}{'mean':>12}{'5%':>12}{'50%':>12}{'95%':>12}{'std':>12}"
    for name in order:
        block = summary.loc[name]
        unit = block["unit"].iloc[0]
        has_p = bool(np.isfinite(block["threshold"]).any())
        lines.append(f"{name} [{unit}] at {months[-1]:%Y-%m}")
        extra = f"{'P(>' + _fmt(block['threshold'].iloc[0]) + ')':>12}" if has_p else ""
        lines.append(header + extra)
        for scen_name, row in block.iterrows():
            cells = "".join(f"{_fmt(row[c]):>12}" for c in ("mean", "q05", "q50", "q95", "std"))
            p = f"{row['p_above']:>12.1%}" if has_p else ""
            lines.append(f"  {scen_name:<10}{cells}{p}")
        lines.append("")
    return "\n".join(line[:WIDTH] for line in lines)
