"""docs/CONFIG.md, the configuration reference, against the parser it documents."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import geoscenario as gs
from geoscenario import _core

DOC = Path(__file__).resolve().parents[2] / "docs" / "CONFIG.md"
TEXT = DOC.read_text(encoding="utf-8")
KINDS = sorted({kind for kind, *_ in _core.PARAMETER_SPECS})


def _interval(text: str) -> tuple[str, float, float, str]:
    """The first interval of a table cell, e.g. ``(0, 1e12]`` -> ('(', 0.0, 1e12, ']')."""
    m = re.search(r"([\[(])\s*([−-]?[0-9.e+]+)\s*,\s*([−-]?[0-9.e+]+)\s*([\])])", text)
    assert m, text
    lo, hi = (float(x.replace("−", "-")) for x in m.group(2, 3))
    return m.group(1), lo, hi, m.group(4)


def _table_after(heading: str) -> list[list[str]]:
    """The rows of the first Markdown table after ``heading``, as lists of cells."""
    start = TEXT.index(heading)
    rows = []
    for line in TEXT[start:].splitlines()[1:]:
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip("|").split("|")])
        elif rows:
            break
    return rows[2:]  # without the header and the rule


@pytest.mark.parametrize("kind", KINDS)
def test_each_kinds_parameter_table_matches_the_parser(kind):
    specs = [s for s in _core.PARAMETER_SPECS if s[0] == kind]
    rows = _table_after(f"### `{kind}`")
    assert [r[0].strip("`") for r in rows] == [s[1] for s in specs]
    for row, (_, name, required, default, interval, _doc) in zip(rows, specs):
        assert row[1] == ("yes" if required else "no"), name
        assert (row[2] == "—") if required else (float(row[2]) == default), name
        assert _interval(row[3]) == _interval(interval), name


def _complete_worlds() -> list[str]:
    blocks = re.findall(r"```toml\n(.*?)```", TEXT, flags=re.S)
    return [b for b in blocks if "[factors." in b and "[scenarios." in b]


@pytest.mark.parametrize("toml", _complete_worlds())
def test_every_complete_world_in_the_reference_loads_and_runs(toml):
    world = gs.World.from_toml(toml)
    sim = world.simulate(200, seed=0, progress=False)
    assert sim.n_paths == 200


def test_the_reference_names_every_top_level_table():
    for table in ("world", "factors", "scenarios", "correlations", "derived", "transitions",
                  "assets", "freeze", "strategies", "thresholds"):
        assert f"`[{table}" in TEXT, table


def test_the_minimal_example_is_the_file_next_to_the_reference():
    # section 1 says the example is docs/example.toml and loads it by that name
    first = re.findall(r"```toml\n(.*?)```", TEXT, flags=re.S)[0]
    path = DOC.parent / "example.toml"
    assert path.read_text(encoding="utf-8") == first
    sim = gs.World.from_toml(path).simulate(1000, seed=0, progress=False)
    assert sim.summary(["urea_spot", "long_fert_hedged"]).index.get_level_values(0).unique().tolist() == [
        "urea_spot", "long_fert_hedged"]
