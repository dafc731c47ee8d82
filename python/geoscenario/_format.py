"""Formatting shared by the reports and reprs."""

from __future__ import annotations

import html as _html
from collections.abc import Sequence
from typing import Any


def printable(text: str) -> str:
    """``text`` with each character that is not printable (a control character, a line or
    paragraph separator) written as its escape, as ``repr`` writes it: a config's name or
    unit cannot break a report's lines or send a terminal escape sequence.

    >>> printable("USD/t\\n\\x1b[31m")
    'USD/t\\\\n\\\\x1b[31m'
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


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


def table_text(head: str, table: Any, tail: Sequence[str] = ()) -> str:
    """A result's repr: ``head``, then the DataFrame ``table`` (six significant digits) and
    the ``tail`` lines, indented by two spaces."""
    body = table.to_string(float_format=lambda v: f"{v:.6g}")
    return "\n".join([head, *("  " + ln for ln in body.splitlines()), *("  " + ln for ln in tail)])


def table_html(head: str, tables: Sequence[tuple[str, Any]], tail: Sequence[str] = ()) -> str:
    """The same in a notebook: ``head`` as code, each non-empty DataFrame of ``tables``
    (after its title, if any) as pandas draws it (six significant digits), then the
    ``tail`` lines.

    >>> import pandas as pd
    >>> out = table_html("R(1 < 2)", [("rows", pd.DataFrame({"a": [1.5]}))], ["note: x"])
    >>> out.startswith("<p><code>R(1 &lt; 2)</code></p><p>rows</p>"), "<table" in out, out.endswith("<p>note: x</p>")
    (True, True, True)
    """
    import pandas as pd

    parts = [f"<p><code>{_html.escape(head)}</code></p>"]
    with pd.option_context("display.float_format", lambda v: f"{v:.6g}"):
        for title, df in tables:
            if len(df):
                parts.append((f"<p>{_html.escape(title)}</p>" if title else "") + (df._repr_html_() or df.to_html()))
    parts += [f"<p>{_html.escape(line)}</p>" for line in tail]
    return "".join(parts)


class TableRepr:
    """``__repr__`` and ``_repr_html_`` of a result whose ``table`` is a DataFrame and whose
    ``_head_and_tail()`` gives the first line and the lines after the table."""

    __slots__ = ()
    table: Any

    def _head_and_tail(self) -> tuple[str, list[str]]:
        raise NotImplementedError

    def __repr__(self) -> str:
        head, tail = self._head_and_tail()
        return table_text(head, self.table, tail)

    def _repr_html_(self) -> str:
        """In a notebook: the first line of the repr, the table as pandas draws it, the rest."""
        head, tail = self._head_and_tail()
        return table_html(head, [("", self.table)], tail)
