"""Formatting shared by the reports and reprs."""

from __future__ import annotations


def percent(x: float) -> str:
    """A probability or level as a percentage, to four significant digits without
    trailing zeros: 0.95 → ``95%``, 0.975 → ``97.5%``, 1/3 → ``33.33%``.

    >>> percent(0.95), percent(0.975), percent(0.995), percent(1 / 3), percent(0.0)
    ('95%', '97.5%', '99.5%', '33.33%', '0%')
    """
    return f"{100 * x:.4g}%"
