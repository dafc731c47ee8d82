"""Formatting shared by the reports and reprs."""

from __future__ import annotations


def percent(x: float) -> str:
    """A probability or level as a percentage, to four significant digits without
    trailing zeros: 0.95 → ``95%``, 0.975 → ``97.5%``, 1/3 → ``33.33%``; a level below 1
    never prints as ``100%`` (0.99999 → ``99.999%``).

    >>> percent(0.95), percent(0.975), percent(0.995), percent(1 / 3), percent(0.0), percent(0.99999)
    ('95%', '97.5%', '99.5%', '33.33%', '0%', '99.999%')
    """
    digits = 4
    text = f"{100 * x:.{digits}g}"
    while x < 1 and text == "100" and digits < 17:
        digits += 1
        text = f"{100 * x:.{digits}g}"
    return text + "%"


def count(n: int, word: str, plural: str | None = None) -> str:
    """``n`` and the noun in the number it takes: ``1 path``, ``2,000 paths``, ``3 strategies``.

    >>> count(1, "path"), count(2_000, "path"), count(3, "strategy", "strategies")
    ('1 path', '2,000 paths', '3 strategies')
    """
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


def wrap(head: str, items: list[str], sep: str, width: int) -> list[str]:
    """``head`` then the items joined by ``sep``, over as many lines of at most ``width``
    characters as they need; later lines are indented under the first item (an item
    longer than a line keeps a line of its own).

    >>> wrap("scenarios: ", ["base 60%", "bull 20%", "bear 20%"], "   ", 30)
    ['scenarios: base 60%   bull 20%', '           bear 20%']
    """
    lines, line = [], head
    for i, item in enumerate(items):
        if i > 0 and len(line) + len(sep) + len(item) > width:
            lines.append(line)
            line = " " * len(head) + item
        else:
            line += (sep if i > 0 else "") + item
    lines.append(line)
    return lines
