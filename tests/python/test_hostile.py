"""Hostile configs and arguments: every call returns a usable result or raises
``gs.ConfigError`` naming the parameter path; never a ``PanicException``, a
crash or a hang.

The corpus in ``tests/data/hostile/`` (plus four 10–17 MB files generated into
a temporary directory) is read in a child process with a timeout, so that a
stack overflow or an endless loop fails one test instead of killing the run.
Every numeric, string and table entry of a world that uses every feature is
then replaced by NaN, ±inf, huge numbers, wrong types and unknown keys, and
Hypothesis fuzzes ``World.from_toml`` (random text, random TOML documents,
mutated worlds), ``World.from_dict`` and the arguments of ``simulate``,
``simulate_summary`` and the risk functions.

What each hostile input returned (``ConfigError path`` is ``err.path``; the
message always starts with the path and then states the rule):

===============================  ==================================================================
input                            result
===============================  ==================================================================
empty.toml (0 bytes)             ConfigError ``factors``: is required
whitespace / comments only       ConfigError ``factors``: is required
10k-deep [a.a.a...] header       ConfigError ``config``: not valid TOML: recursion limit
10k-deep [[a.a...]] / a.a...=1   ConfigError ``config``: not valid TOML: recursion limit
x = [[[[...]]]] (10k deep)       ConfigError ``config``: not valid TOML: parse error at line 1,
                                 column 85
x = {a = {a = ...}} (10k)        ConfigError ``config``: not valid TOML: parse error at line 1
onset = [[[[...]]]] in a world   ConfigError ``config``: not valid TOML: parse error at line 11
theta = 1e308                    ConfigError ``scenarios.base.px.theta``: must be in (0,
                                 1000000000000], got 1e308
kappa = -1.79e308                ConfigError ``scenarios.base.px.kappa``: must be in [0, 1000]
theta = 1e999                    ConfigError ``config``: not valid TOML: floating-point number
                                 overflowed
horizon_months = 2**70           ConfigError ``config``: not valid TOML: invalid type: integer as
                                 i128
horizon_months = ±2**63          ConfigError ``world.horizon_months``: must be an integer in [1,
                                 1200]
sigma = 0.222... (100k digits)   accepted (sigma = 0.2222222222222222)
theta = nan, sigma = inf, ...    ConfigError ``scenarios.base.px.<param>``: must be a finite
                                 number, got NaN
probability = nan                ConfigError ``scenarios.base.probability``: must be a probability
                                 in [0, 1]
initial = +inf                   ConfigError ``factors.px.initial``: must be a finite number in (0,
                                 1e12]
"nan" / "inf" / "-inf" strings   ConfigError naming the entry: must be a number, got a string
unknown key, every level         ConfigError ``zz_unknown``, ``world.zz_unknown``,
                                 ``factors.px.zz_unknown``, ...: unknown key (expected one of: ...)
unknown key in a scenario        ConfigError ``scenarios.base.zz_unknown``: unknown key or factor
unknown parameter / kind         ConfigError ``scenarios.base.px.zz_unknown`` / ``factors.px.kind``
string/bool/array/table          ConfigError naming the entry: must be a number, got a string
                                 (boolean, array, table)
datetime or date for a number    ConfigError naming the entry: must be a number (an integer), got a
                                 datetime
[[factors.px]] array of tables   ConfigError ``factors.px``: must be a table, got an array
world = "hostile"                ConfigError ``world``: must be a table, got a string
duplicate key/table/inline key   ConfigError ``config``: not valid TOML: duplicate key
UTF-8 BOM, CRLF line ends        accepted
NUL / control characters         ConfigError ``config``: not valid TOML: invalid basic string
non-ASCII bare key               ConfigError ``config``: not valid TOML: invalid unquoted key
factor named "all"               ConfigError ``factors.all``: is a reserved word
100 kB name                      ConfigError ``world.name``: must be at most 4096 bytes
100 kB unknown key               ConfigError ``world.kkk...k`` (the whole key): unknown key
101 scenarios                    ConfigError ``scenarios``: at most 64 scenarios
probabilities sum to 0.999       ConfigError ``scenarios.*.probability``: must sum to 1 within 1e-9
onset = [0, 99999999999]         ConfigError ``scenarios.bear.onset``: months must be integers in
                                 [1, 1200]
correlations not PSD             ConfigError ``correlations``: not positive semi-definite: the
                                 correlations of "a", "b" and "c" (…) cannot hold together
contract on itself               ConfigError ``factors.c.underlying``: must be a log_ou, logit_ou
                                 or gbm factor
256 factors                      accepted; simulates to finite (n, h + 1) arrays
257 factors                      ConfigError ``factors``: at most 256 factors
binary garbage, latin-1 file     file: ConfigError ``source``: the file is not UTF-8 text; as
                                 text: garbage ConfigError ``config`` (not valid TOML), latin-1
                                 decoded accepted
10 MB of comments                accepted
10 MB of unknown keys            ConfigError ``world.k0000000``: unknown key
10 MB description                ConfigError ``world.description``: must be at most 4096 bytes
17 MB file / 17 MB text          ConfigError ``source``: file is 17826... bytes, the limit is
                                 16777216 / ConfigError ``config``: text is ... bytes
NaN/±inf at every number         ConfigError naming that entry (TOML text and dict)
±1e308, ±2**63 at every number   ConfigError naming that entry
wrong type at every entry        ConfigError naming that entry
table replaced by a value        ConfigError naming the table: must be a table
entry deleted                    accepted (optional) or ConfigError naming it: is required
empty key "" at the root         ConfigError ``""``: unknown key (expected one of: ...)
dict: 2**70, object(), bytes     ConfigError naming the entry: integer does not fit in 64 bits /
                                 unsupported value of type object
dict: self-referencing           ConfigError ``world.world....``: nesting deeper than 32 levels
from_toml(bytes / None)          ConfigError ``source``: must be a path or TOML text
simulate(MAX_PATHS)              ResourceError: 1,099,511,627,776 paths × 25 months × 17 series: needs
                                 3416.00 TiB, limit 20.8 GiB available
simulate(MAX_PATHS + 1)          ConfigError ``n_paths``: must be an integer in [1, 1099511627776],
                                 got 1099511627777
SIGINT in simulate/summary       KeyboardInterrupt traceback within 0.1-0.3 s
SIGINT in efficient_frontier     KeyboardInterrupt within about 0.1 s (test_interrupt.py)
===============================  ==================================================================
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import os
import random
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

import geoscenario as gs
import geoscenario._core as core

CORPUS = Path(__file__).resolve().parent.parent / "data" / "hostile"
CHILD_TIMEOUT = 180.0  # seconds for the whole corpus in one child process (loaded CI machines)
FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
ARGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ====================================================================================== helpers
def _key(k: str) -> str:
    if k and all(c.isascii() and (c.isalnum() or c in "_-") for c in k):
        return k
    return json.dumps(k)


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(_scalar(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_scalar(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def to_toml(d: dict[str, Any]) -> str:
    """TOML text of a nested dict (tables as ``[a.b]`` headers, tables in arrays inline)."""
    lines: list[str] = []

    def table(t: dict[str, Any], path: list[str]) -> None:
        if path:
            lines.append("[" + ".".join(_key(p) for p in path) + "]")
        for k, v in t.items():
            if not isinstance(v, dict):
                lines.append(f"{_key(k)} = {_scalar(v)}")
        for k, v in t.items():
            if isinstance(v, dict):
                table(v, [*path, k])

    table(d, [])
    return "\n".join(lines) + "\n"


# A world that uses every feature: each factor kind, each derived kind, correlations,
# a non-base scenario with onset jumps, assets, the freeze and a strategy.
ALL_KINDS: dict[str, Any] = {
    "world": {
        "name": "all_kinds",
        "description": "every factor kind",
        "start": "2025-01",
        "horizon_months": 6,
        "base_scenario": "base",
        "regimes": "static",
    },
    "factors": {
        "px": {"kind": "log_ou", "unit": "USD/t", "initial": 100.0, "description": "spot"},
        "bond": {"kind": "logit_ou", "unit": "c", "initial": 40.0, "scale": 100.0},
        "idx": {"kind": "gbm", "unit": "i", "initial": 100.0},
        "done": {"kind": "completion", "unit": "n", "total": 10, "initial": 1},
        "share": {
            "kind": "adoption",
            "unit": "s",
            "lag_min": 1,
            "lag_max": 3,
            "rate": 0.2,
            "noise": 0.01,
        },
        "ctr": {
            "kind": "contract",
            "unit": "USD/t",
            "initial": 90.0,
            "underlying": "px",
            "reset_month": 6,
            "averaging_months": 3,
            "noise": 0.02,
        },
    },
    "derived": {
        "spr": {"kind": "spread", "of": ["px", "ctr"], "unit": "USD/t"},
        "disc": {"kind": "discount", "of": ["px", "ctr"], "unit": "fraction"},
        "rat": {"kind": "ratio", "of": ["px", "idx"], "unit": "ratio"},
    },
    "correlations": {"px": {"idx": 0.3, "bond": -0.1}},
    "scenarios": {
        "base": {
            "probability": 0.7,
            "description": "base case",
            "px": {
                "theta": 100.0,
                "kappa": 0.5,
                "sigma": 0.2,
                "lambda": 0.5,
                "mu_j": 0.0,
                "sigma_j": 0.1,
            },
            "bond": {"theta": 40.0, "kappa": 0.5, "sigma": 0.3},
            "idx": {"g": 0.05, "sigma": 0.15},
            "done": {"h": 0.05},
            "share": {"s_max": 0.3},
            "ctr": {"discount": 0.2},
        },
        "bear": {
            "probability": 0.3,
            "description": "shock",
            "onset": [1, 4],
            "px": {"theta": 150.0, "onset_jump": 0.2},
            "idx": {"g": -0.1, "sigma": 0.25, "onset_jump": -0.1},
        },
    },
    "assets": {
        "a1": {
            "description": "x",
            "betas": {"px": 0.5, "idx": 1.0},
            "vol": 0.2,
            "sanctions_exposure": 0.5,
            "cost_bps": 10.0,
        },
        "a2": {"betas": {"idx": 1.0}},
    },
    "freeze": {"scenario": "bear", "size": 0.5},
    "strategies": {
        "s1": {"description": "long a1", "weights": {"a1": 1.0, "a2": -0.5}, "cost_bps": 5.0}
    },
}

ALL_KINDS_MARKOV: dict[str, Any] = copy.deepcopy(ALL_KINDS)
ALL_KINDS_MARKOV["world"]["regimes"] = "markov"
ALL_KINDS_MARKOV["transitions"] = {
    "base": {"base": 0.9, "bear": 0.1},
    "bear": {"base": 0.2, "bear": 0.8},
}
TEMPLATES = {"static": ALL_KINDS, "markov": ALL_KINDS_MARKOV}

Path_ = tuple[str, ...]


def leaves(d: dict[str, Any], path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    for k, v in d.items():
        if isinstance(v, dict):
            yield from leaves(v, (*path, k))
        else:
            yield (*path, k), v


def tables(d: dict[str, Any], path: Path_ = ()) -> Iterator[Path_]:
    yield path
    for k, v in d.items():
        if isinstance(v, dict):
            yield from tables(v, (*path, k))


def replaced(d: dict[str, Any], path: Path_, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(d)
    node = out
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    return out


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def cases(kind: Callable[[Any], bool]) -> list[tuple[str, Path_]]:
    out = []
    for name, tpl in TEMPLATES.items():
        for path, v in leaves(tpl):
            if kind(v) and (name == "static" or path[0] == "transitions"):
                out.append((name, path))
    return out


NUMERIC = cases(is_number) + cases(lambda v: isinstance(v, list) and all(map(is_number, v)))
STRINGS = cases(
    lambda v: isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))
)
LEAVES = cases(lambda v: True)
TABLES = [("static", p) for p in tables(ALL_KINDS)] + [
    ("markov", p) for p in tables(ALL_KINDS_MARKOV) if p[:1] == ("transitions",)
]


def ids(c: tuple[str, Path_]) -> str:
    return f"{c[0]}:{'.'.join(c[1]) or '<root>'}"


def check_finite_simulation(world: gs.World, n: int = 32, horizon: int | None = None) -> None:
    """A small simulation of ``world`` has finite arrays of shape (n, h + 1), or the
    engine refuses it with a NumericalError naming the series."""
    h = min(world.horizon_months, 6) if horizon is None else horizon
    try:
        sim = world.simulate(n, horizon_months=h, seed=0, progress=False)
    except gs.NumericalError as e:
        assert "non-finite" in str(e) or "series" in str(e), str(e)
        return
    for name in sim.units:
        arr = sim.paths(name)
        assert arr.shape == (n, h + 1), name
        assert np.isfinite(arr).all(), name
    assert sim.weights.shape == (n,) and np.isfinite(sim.weights).all()
    assert abs(float(sim.weights.sum()) - 1.0) < 1e-9


def world_or_config_error(make: Callable[[], gs.World]) -> gs.World | gs.ConfigError:
    """``make()`` either returns a world that simulates to finite arrays or raises a
    ConfigError whose message starts with a non-empty path. Anything else fails."""
    try:
        world = make()
    except gs.ConfigError as e:
        assert e.path, str(e)[:300]
        assert str(e).startswith(e.path + ": "), str(e)[:300]
        _event("ConfigError")
        return e
    _event("valid world")
    assert isinstance(world, gs.World)
    check_finite_simulation(world)
    return world


def _event(what: str) -> None:
    try:
        event(what)  # shown by pytest --hypothesis-show-statistics
    except Exception:  # outside a Hypothesis test
        pass


def expect_error_at(make: Callable[[], gs.World], path: str) -> gs.ConfigError:
    with pytest.raises(gs.ConfigError) as ei:
        make()
    err = ei.value
    assert err.path == path, str(err)[:300]
    assert str(err).startswith(path + ": "), str(err)[:300]
    return err


def both_routes(d: dict[str, Any]) -> list[Callable[[], gs.World]]:
    """Build the world from TOML text and from the dict."""
    return [lambda: gs.World.from_toml(to_toml(d)), lambda: gs.World.from_dict(d)]


# ================================================================================ the templates
@pytest.mark.parametrize("name", list(TEMPLATES))
def test_templates_are_valid_and_simulate(name):
    for make in both_routes(TEMPLATES[name]):
        if name == "markov":  # the template keeps the bear's onset, to check it is still validated
            with pytest.warns(UserWarning, match="scenarios bear have an onset, which has no effect"):
                world = make()
        else:
            world = make()
        check_finite_simulation(world, n=64)


# =================================================================== corpus, in a child process
RUNNER = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import geoscenario as gs

    def attempt(fn):
        try:
            w = fn()
        except gs.ConfigError as e:
            return {"outcome": "ConfigError", "path": e.path[:200], "message": str(e)[:300]}
        except BaseException as e:  # PanicException included: reported, not swallowed
            return {"outcome": type(e).__name__, "message": str(e)[:300]}
        rec = {"outcome": "ok", "n_factors": len(w.factors)}
        sim = w.simulate(16, horizon_months=3, seed=0, progress=False)
        rec["finite"] = all(bool(np.isfinite(sim.paths(n)).all()) for n in sim.units)
        rec["shapes"] = sorted({sim.paths(n).shape for n in sim.units})
        return rec

    for p in sys.argv[1:]:
        print("START", p, file=sys.stderr, flush=True)
        raw = open(p, "rb").read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        rec = {"file": p, "from_file": attempt(lambda: gs.World.from_toml(p)),
               "from_text": attempt(lambda: gs.World.from_toml(text + "\\n"))}
        print(json.dumps(rec), flush=True)
    """
)

# file name -> None (valid world) or the ConfigError path expected when read from the file
EXPECTED: dict[str, str | None] = {
    "empty.toml": "factors",
    "whitespace_only.toml": "factors",
    "comments_only.toml": "factors",
    "deep_table_header.toml": "config",
    "deep_array_of_tables.toml": "config",
    "deep_array.toml": "config",
    "deep_inline_table.toml": "config",
    "deep_dotted_key.toml": "config",
    "deep_array_in_world.toml": "config",
    "huge_float.toml": "scenarios.base.px.theta",
    "huge_negative_float.toml": "scenarios.base.px.kappa",
    "overflow_float.toml": "config",
    "huge_int.toml": "config",
    "i64_max_int.toml": "world.horizon_months",
    "i64_min_int.toml": "world.horizon_months",
    "long_number.toml": None,
    "nan_bare.toml": "scenarios.base.px.theta",
    "inf_bare.toml": "scenarios.base.px.sigma",
    "neg_inf_bare.toml": "scenarios.base.px.kappa",
    "nan_probability.toml": "scenarios.base.probability",
    "inf_initial.toml": "factors.px.initial",
    "nan_string.toml": "scenarios.base.px.theta",
    "inf_string.toml": "scenarios.base.probability",
    "neg_inf_string.toml": "factors.px.initial",
    "unknown_key_root.toml": "zz_unknown",
    "unknown_key_world.toml": "world.zz_unknown",
    "unknown_key_factor.toml": "factors.px.zz_unknown",
    "unknown_key_scenario.toml": "scenarios.base.zz_unknown",
    "unknown_param.toml": "scenarios.base.px.zz_unknown",
    "unknown_factor_kind.toml": "factors.px.kind",
    "wrong_type_string.toml": "scenarios.base.probability",
    "wrong_type_bool.toml": "scenarios.base.px.kappa",
    "wrong_type_array.toml": "factors.px.initial",
    "wrong_type_table.toml": "scenarios.base.px.sigma",
    "wrong_type_datetime.toml": "scenarios.base.px.theta",
    "wrong_type_local_date.toml": "world.horizon_months",
    "wrong_type_factors_array.toml": "factors.px",
    "wrong_type_world_string.toml": "world",
    "duplicate_key.toml": "config",
    "duplicate_table.toml": "config",
    "duplicate_inline_key.toml": "config",
    "bom.toml": None,
    "crlf.toml": None,
    "nul_bytes.toml": "config",
    "control_chars.toml": "config",
    "unicode_factor_name.toml": "config",
    "reserved_factor_name.toml": "factors.all",
    "long_name.toml": "world.name",
    "long_key.toml": "world." + "k" * 200 + "…",  # long keys are cut in error paths
    "many_scenarios.toml": "scenarios",
    "probabilities_not_summing.toml": "scenarios.*.probability",
    "onset_out_of_range.toml": "scenarios.bear.onset",
    "singular_correlation.toml": "correlations",
    "self_underlying_contract.toml": "factors.c.underlying",
    "factors_256.toml": None,
    "factors_257.toml": "factors",
    "binary_garbage.toml": "source",
    "latin1.toml": "source",
    # generated at test time (not committed)
    "gen_10mb_comments.toml": None,
    "gen_10mb_unknown_keys.toml": "world.k0000000",
    "gen_10mb_description.toml": "world.description",
    "gen_17mb_over_limit.toml": "source",
}
# the text route cannot know about files: these report the parse/size error instead
TEXT_PATH = {
    "binary_garbage.toml": "config",
    "latin1.toml": None,
    "gen_17mb_over_limit.toml": "config",
}
MB = 1024 * 1024


def _generate(d: Path) -> None:
    world = (CORPUS / "bom.toml").read_text(encoding="utf-8").lstrip("\ufeff")
    line = "# " + "x" * 1022 + "\n"
    (d / "gen_10mb_comments.toml").write_text(
        world + line * (10 * MB // len(line)), encoding="utf-8"
    )
    keys = "".join(f"k{i:07d} = {i}\n" for i in range(10 * MB // 20))
    (d / "gen_10mb_unknown_keys.toml").write_text(world.replace("[world]\n", "[world]\n" + keys, 1))
    (d / "gen_10mb_description.toml").write_text(
        world.replace("[world]\n", '[world]\ndescription = "' + "d" * (10 * MB) + '"\n', 1)
    )
    (d / "gen_17mb_over_limit.toml").write_text(
        world + line * (17 * MB // len(line)), encoding="utf-8"
    )


@pytest.fixture(scope="module")
def corpus_results(tmp_path_factory) -> dict[str, dict[str, Any]]:
    """Run every corpus file through ``World.from_toml`` (file and text) in one child process."""
    gen = tmp_path_factory.mktemp("hostile")
    _generate(gen)
    files = sorted(CORPUS.glob("*.toml")) + sorted(gen.glob("*.toml"))
    assert {f.name for f in files} == set(EXPECTED), "keep EXPECTED in step with the corpus"
    results: dict[str, dict[str, Any]] = {}
    try:
        proc = subprocess.run(
            [sys.executable, "-c", RUNNER, *map(str, files)],
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT,
            cwd=gen,
        )
        out, err, crashed = proc.stdout, proc.stderr, proc.returncode != 0
        why = f"child exited with {proc.returncode}"
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        crashed, why = True, f"child hung for more than {CHILD_TIMEOUT} s"
    for line in out.splitlines():
        rec = json.loads(line)
        results[Path(rec["file"]).name] = rec
    if crashed:
        started = [ln.split(" ", 1)[1] for ln in err.splitlines() if ln.startswith("START ")]
        if started:
            results[Path(started[-1]).name] = {"crash": why, "stderr": err[-2000:]}
    return results


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_file(corpus_results, name):
    rec = corpus_results.get(name)
    assert rec is not None, f"{name} was not reached (an earlier file crashed the child)"
    assert "crash" not in rec, f"{name}: {rec['crash']}\n{rec.get('stderr', '')}"
    expected = EXPECTED[name]
    for route, want in (("from_file", expected), ("from_text", TEXT_PATH.get(name, expected))):
        got = rec[route]
        if want is None:
            assert got["outcome"] == "ok", f"{route}: {got}"
            assert got["finite"], f"{route}: non-finite simulation"
        else:
            assert got["outcome"] == "ConfigError", f"{route}: {str(got)[:400]}"
            assert got["path"] == want[:200], f"{route}: {str(got)[:400]}"
            assert got["message"].startswith(want + ": " if len(want) < 200 else want[:200]), got


def test_256_factors_simulate():
    world = gs.World.from_toml(CORPUS / "factors_256.toml")
    assert len(world.factors) == 256
    check_finite_simulation(world, n=16, horizon=3)


def test_huge_text_is_refused_before_parsing():
    text = "# " + "x" * (17 * MB) + "\n"
    expect_error_at(lambda: gs.World.from_toml(text), "config")


def test_non_text_sources_name_the_source():
    for bad in (b"[world]\n", None, 3.5, ["x"]):
        expect_error_at(lambda b=bad: gs.World.from_toml(b), "source")  # type: ignore[misc]
    expect_error_at(lambda: gs.World.from_toml("no_such_file.toml"), "source")


def test_invalid_utf8_file_is_a_config_error(tmp_path):
    p = tmp_path / "garbage.toml"
    p.write_bytes(b"\xff\xfe" + random.Random(1).randbytes(1000))
    expect_error_at(lambda: gs.World.from_toml(p), "source")


def test_values_too_large_to_summarise_are_a_numerical_error_not_an_infinite_std():
    # finite paths up to 1e219: their squared deviations overflow the double range
    world = gs.World.default().with_params({"scenarios.base.middle_corridor_volume.g": 5,
                                            "scenarios.base.middle_corridor_volume.sigma": 0})
    sim = world.simulate(300, 1200, seed=3, progress=False)
    assert np.isfinite(sim.paths("middle_corridor_volume")).all()
    calls = [lambda: sim.summary("middle_corridor_volume"),
             lambda: world.simulate_summary(300, 1200, seed=3, series="middle_corridor_volume", progress=False),
             lambda: sim.risk_table(0.95, ["infrastructure_beneficiaries"])]
    for call, name in zip(calls, ["middle_corridor_volume"] * 2 + ["infrastructure_beneficiaries"]):
        with pytest.raises(gs.NumericalError, match=f"^{name}: its values are too large"):
            call()
    assert np.isfinite(sim.summary("potash_spot").to_numpy()).all()
    # spread paths (1e195 to 1e209): the centre's own offset squared overflows too,
    # which once made the std 0.0 instead of an error
    spread = gs.World.from_dict({"world": {"horizon_months": 1200}, "factors": {"x": {"kind": "gbm", "initial": 1e12}},
                                 "scenarios": {"base": {"probability": 1.0, "x": {"g": 4.5, "sigma": 0.5}}}})
    sim = spread.simulate(2_000, seed=0, progress=False)
    assert np.isfinite(sim.paths("x")).all() and sim.paths("x")[:, -1].min() > 1e170
    for call in (lambda: sim.summary("x"), lambda: spread.simulate_summary(2_000, seed=0, progress=False)):
        with pytest.raises(gs.NumericalError, match="^x: its values are too large"):
            call()


def test_to_toml_refuses_what_is_not_a_regular_file(tmp_path):
    world = gs.World.default()
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)  # writing would block until something reads it
    for bad in (fifo, tmp_path, str(tmp_path / "a\0b.toml"), tmp_path / "missing" / "w.toml"):
        expect_error_at(lambda b=bad: world.to_toml(b), "path")
    world.to_toml(tmp_path / "w.toml")
    assert gs.World.from_toml(tmp_path / "w.toml") == world


# ============================================================= every entry, every hostile value
@pytest.mark.parametrize("case", NUMERIC, ids=ids)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
def test_non_finite_number_names_its_path(case, bad):
    tpl, path = TEMPLATES[case[0]], case[1]
    old = dict(leaves(tpl))[path]
    value = [bad, *old[1:]] if isinstance(old, list) else bad
    for make in both_routes(replaced(tpl, path, value)):
        expect_error_at(make, ".".join(path))


@pytest.mark.parametrize("case", NUMERIC, ids=ids)
@pytest.mark.parametrize(
    "big", [1e308, -1e308, 2**63 - 1, -(2**63)], ids=["1e308", "-1e308", "i64max", "i64min"]
)
def test_huge_number_names_its_path_or_simulates(case, big):
    tpl, path = TEMPLATES[case[0]], case[1]
    old = dict(leaves(tpl))[path]
    value = [big, *old[1:]] if isinstance(old, list) else big
    for make in both_routes(replaced(tpl, path, value)):
        got = world_or_config_error(make)
        if isinstance(got, gs.ConfigError):
            assert got.path == ".".join(path), str(got)[:300]


WRONG = {
    "string": "12",
    "bool": True,
    "array": [1.0, 2.0],
    "table": {"a": 1.0},
    "datetime": dt.datetime(1979, 5, 27, 7, 32),
    "date": dt.date(2025, 6, 1),
}


@pytest.mark.parametrize("case", LEAVES, ids=ids)
@pytest.mark.parametrize("kind", list(WRONG))
def test_wrong_type_names_its_path(case, kind):
    tpl, path = TEMPLATES[case[0]], case[1]
    old = dict(leaves(tpl))[path]
    value = WRONG[kind]
    if isinstance(old, str) and kind == "string":
        value = 12.0
    if isinstance(old, list) and kind == "array":
        value = [True, {"a": 1}]
    for make in both_routes(replaced(tpl, path, value)):
        if path == ("world", "start") and kind in ("datetime", "date"):  # the month it lies in
            assert make().to_dict()["world"]["start"] == value.strftime("%Y-%m")
            continue
        expect_error_at(make, ".".join(path))


@pytest.mark.parametrize("case", [t for t in TABLES if t[1]], ids=ids)
@pytest.mark.parametrize("value", [1.0, ["x"], "table"], ids=["number", "array", "string"])
def test_table_replaced_by_a_value_names_its_path(case, value):
    tpl, path = TEMPLATES[case[0]], case[1]
    for make in both_routes(replaced(tpl, path, value)):
        expect_error_at(make, ".".join(path))


@pytest.mark.parametrize("case", TABLES, ids=ids)
def test_unknown_key_names_its_path(case):
    tpl, path = TEMPLATES[case[0]], case[1]
    node: Any = tpl
    for p in path:
        node = node[p]
    d = replaced(tpl, path, {**node, "zz_unknown": 1.0}) if path else {**tpl, "zz_unknown": 1.0}
    for make in both_routes(d):
        expect_error_at(make, ".".join((*path, "zz_unknown")))


@pytest.mark.parametrize("case", cases(lambda v: True), ids=ids)
def test_missing_entry_is_optional_or_names_its_path(case):
    tpl, path = TEMPLATES[case[0]], case[1]
    d = copy.deepcopy(tpl)
    node = d
    for p in path[:-1]:
        node = node[p]
    del node[path[-1]]
    for make in both_routes(d):
        got = world_or_config_error(make)
        if isinstance(got, gs.ConfigError):
            assert got.path.startswith(".".join(path[:2])), str(got)[:300]


THETA = ("scenarios", "base", "px", "theta")


def test_from_dict_values_python_cannot_express_in_toml():
    base = ALL_KINDS
    for value in (
        2**70,
        -(2**70),
        object(),
        b"bytes",
        {1, 2},
        None,
        np.zeros(3),
        dt.datetime(2020, 1, 1),
        complex(1, 1),
        Ellipsis,
    ):
        expect_error_at(
            lambda v=value: gs.World.from_dict(replaced(base, THETA, v)),
            "scenarios.base.px.theta",
        )
    loop: dict[str, Any] = {}
    loop["world"] = loop
    with pytest.raises(gs.ConfigError, match="nesting deeper"):
        gs.World.from_dict(loop)
    lst: list[Any] = []
    lst.append(lst)
    with pytest.raises(gs.ConfigError, match="nesting deeper"):
        gs.World.from_dict({"x": lst})
    # the same through with_params (once a RecursionError), a self-referencing table too
    world = gs.World.default()
    deep_dict: dict[str, Any] = {}
    deep_list: list[Any] = []
    twice: dict[str, Any] = {}
    twice["a"] = twice["b"] = twice
    node, items = deep_dict, deep_list
    for _ in range(2_000):
        node["a"] = {}
        node = node["a"]
        items.append([])
        items = items[0]
    for override, where in (({"scenarios.bull.potash_spot": deep_dict}, "scenarios.bull.potash_spot.a.a"),
                            ({"scenarios.bull.onset": deep_list}, "scenarios.bull.onset[0][0]"),
                            ({"scenarios.bull": loop}, "scenarios.bull.world.world"),
                            ({"scenarios.bull": twice}, "scenarios.bull.a.a"),  # once 2³³ leaves: a hang
                            ({"scenarios.bull.onset": lst}, "scenarios.bull.onset[0][0]")):
        with pytest.raises(gs.ConfigError, match="nesting deeper than 32 levels") as e:
            world.with_params(override)
        assert e.value.path.startswith(where)
    expect_error_at(lambda: gs.World.from_dict({1: 2}), "config")  # type: ignore[dict-item]
    expect_error_at(lambda: gs.World.from_dict([("world", {})]), "config")  # type: ignore[arg-type]


def test_numpy_scalars_are_numbers():
    d = replaced(ALL_KINDS, ("scenarios", "base", "px", "theta"), np.float32(120.0))
    d = replaced(d, ("world", "horizon_months"), np.int64(5))
    world = gs.World.from_dict(d)
    assert world.horizon_months == 5
    expect_error_at(
        lambda: gs.World.from_dict(
            replaced(ALL_KINDS, ("scenarios", "base", "px", "theta"), np.float64("nan"))
        ),
        "scenarios.base.px.theta",
    )


# ======================================================================= Hypothesis: the parser
KEYS = [
    "world",
    "factors",
    "scenarios",
    "correlations",
    "derived",
    "transitions",
    "assets",
    "freeze",
    "strategies",
    "name",
    "description",
    "start",
    "horizon_months",
    "base_scenario",
    "regimes",
    "kind",
    "unit",
    "initial",
    "scale",
    "total",
    "lag_min",
    "lag_max",
    "rate",
    "noise",
    "underlying",
    "reset_month",
    "averaging_months",
    "theta",
    "kappa",
    "sigma",
    "lambda",
    "mu_j",
    "sigma_j",
    "onset_jump",
    "g",
    "h",
    "s_max",
    "discount",
    "probability",
    "onset",
    "of",
    "betas",
    "vol",
    "sanctions_exposure",
    "cost_bps",
    "weights",
    "scenario",
    "size",
    "base",
    "bear",
    "px",
    "idx",
    "a1",
    "s1",
    "log_ou",
    "gbm",
    "all",
    "zz",
]
scalars = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.booleans(),
    st.text(max_size=12),
    st.sampled_from(
        KEYS
        + [
            "log_ou",
            "logit_ou",
            "gbm",
            "completion",
            "adoption",
            "contract",
            "spread",
            "static",
            "markov",
            "2025-06",
            "base",
        ]
    ),
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=16,
)
documents = st.dictionaries(st.sampled_from(KEYS), values, max_size=6)
TOKENS = [
    "nan",
    "inf",
    "-inf",
    "1e999",
    "99999999999999999999",
    "[",
    "]",
    "[[",
    "{",
    "}",
    "=",
    '"',
    "'",
    ",",
    "\x00",
    "\n",
    "\n[factors.px]\n",
    "\n[scenarios.base]\n",
    "true",
    "1979-05-27",
    ".",
    "#",
    "\\",
    "\ufeff",
    "-",
    "0x10",
    "1_000",
    '"""',
    "zz = 1\n",
]
VALID_TEXT = to_toml(ALL_KINDS)


@st.composite
def mutated_text(draw) -> str:
    text = VALID_TEXT
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 20)))
        text = text[:i] + draw(st.one_of(st.sampled_from(TOKENS), st.text(max_size=6))) + text[j:]
    return text


@FUZZ
@given(
    st.one_of(st.text(max_size=400).map(lambda s: s + "\n"), documents.map(to_toml), mutated_text())
)
def test_fuzz_from_toml(text):
    world_or_config_error(lambda: gs.World.from_toml(text))


@FUZZ
@given(
    st.dictionaries(
        st.one_of(st.sampled_from(KEYS), st.text(min_size=1, max_size=8)), values, max_size=6
    )
)
def test_fuzz_from_dict(d):
    world_or_config_error(lambda: gs.World.from_dict(d))


@pytest.mark.parametrize(
    "where", [(), ("world",), ("scenarios", "base"), ("factors",)], ids=".".join
)
def test_empty_key_is_named(where):
    """An empty key is still named (quoted), so that the message says where it is."""
    d = copy.deepcopy(ALL_KINDS)
    node = d
    for p in where:
        node = node[p]
    node[""] = 1.0
    for make in both_routes(d):
        with pytest.raises(gs.ConfigError) as ei:
            make()
        assert ei.value.path, str(ei.value)
        assert ei.value.path.startswith(".".join(where)), str(ei.value)


ANY_VALUE = st.one_of(
    values,
    st.sampled_from(
        [
            None,
            b"x",
            2**70,
            -(2**70),
            complex(1, 2),
            object(),
            np.float64("nan"),
            np.int64(3),
            {},
            [],
        ]
    ),
)


@st.composite
def mutated_world(draw) -> dict[str, Any]:
    d = copy.deepcopy(ALL_KINDS)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p, _ in leaves(d)] + [p for p in tables(d) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        node = d
        for p in path[:-1]:
            node = node[p]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            node[path[-1]] = draw(ANY_VALUE)
        elif action == "delete":
            del node[path[-1]]
        else:
            node[draw(st.sampled_from(KEYS))] = draw(ANY_VALUE)
    return d


@FUZZ
@given(mutated_world())
def test_fuzz_mutated_worlds(d):
    world_or_config_error(lambda: gs.World.from_dict(d))
    try:
        text = to_toml(d)
    except TypeError:
        return  # a value TOML cannot express (bytes, object, ...)
    world_or_config_error(lambda: gs.World.from_toml(text))


# =================================================================== Hypothesis: call arguments
SMALL = gs.World.from_dict(ALL_KINDS)
HOSTILE_ARGS = [
    None,
    "3",
    2.5,
    math.nan,
    math.inf,
    -1,
    0,
    2**64,
    2**70,
    True,
    [1],
    object(),
    np.int64(-1),
]


def _arg(valid: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(valid, st.sampled_from(HOSTILE_ARGS))


def _param_error(e: gs.ConfigError, names: set[str]) -> None:
    assert e.path, str(e)
    assert e.path.split(".")[0].split("[")[0] in names, str(e)
    assert str(e).startswith(e.path + ": ")


@ARGS
@given(
    n=_arg(st.integers(1, 400)),
    h=_arg(st.one_of(st.none(), st.integers(1, 12))),
    seed=_arg(st.integers(0, 2**64 - 1)),
    anti=st.one_of(st.booleans(), st.sampled_from([np.bool_(True), 1, "yes", None])),
    threads=_arg(st.one_of(st.none(), st.integers(1, 4))),
    chunk=_arg(st.one_of(st.none(), st.integers(1, 5000))),
    qmc=st.one_of(st.booleans(), st.sampled_from([np.bool_(False), 0, "no", None])),
)
def test_fuzz_simulate_arguments(n, h, seed, anti, threads, chunk, qmc):
    names = {"n_paths", "horizon_months", "seed", "antithetic", "threads", "chunk_paths", "qmc"}
    try:
        sim = SMALL.simulate(
            n,
            horizon_months=h,
            seed=seed,
            antithetic=anti,
            threads=threads,
            chunk_paths=chunk,
            qmc=qmc,
            progress=False,
        )
    except gs.ConfigError as e:
        _param_error(e, names)
        event(f"ConfigError {e.path}")
        return
    event("simulated")
    width = (SMALL.horizon_months if h is None else int(h)) + 1
    for name in sim.units:
        arr = sim.paths(name)
        assert arr.shape == (int(n), width)
        assert np.isfinite(arr).all()


@ARGS
@given(
    series=st.one_of(
        st.none(),
        st.sampled_from(["px", "s1", "nope", ""]),
        st.lists(st.sampled_from(["px", "zz"])),
    ),
    month=_arg(st.one_of(st.none(), st.integers(-7, 6))),
    quantiles=st.one_of(
        st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=3),
        st.just([0.05, 0.5]),
        st.just(["a"]),
    ),
    thresholds=st.one_of(
        st.none(),
        st.dictionaries(
            st.sampled_from(["px", "nope"]),
            st.floats(allow_nan=True, allow_infinity=True),
            max_size=2,
        ),
    ),
    alpha=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.just(True)),
)
def test_fuzz_simulate_summary_arguments(series, month, quantiles, thresholds, alpha):
    names = {"series", "month", "quantiles", "thresholds", "alpha"}
    try:
        res = SMALL.simulate_summary(
            64,
            seed=1,
            series=series,
            month=month,
            quantiles=quantiles,
            thresholds=thresholds,
            alpha=alpha,
            progress=False,
        )
    except gs.ConfigError as e:
        _param_error(e, names)
        event(f"ConfigError {e.path}")
        return
    event("summarised")
    for col in ("mean", "std"):
        if len(res.table):
            assert np.isfinite(res.table[col].to_numpy(dtype=float)).all()


_FORGED_BYTES = """
import resource, struct
import numpy as np
import geoscenario as gs
from geoscenario import _core

resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))
w = _core.CoreWorld.default()
name = w.factors[0][0]
job = _core.SummaryJob.for_world(w, [("r", name, 0.0, 1.0, [0.5], [0.0], [0.9], [], False)], 3, 1000, 6, 1, False)
u64 = lambda *xs: b"".join(struct.pack("<Q", x) for x in xs)
k = 3
t = 1_000_000  # a refining pass of a million windows: a histogram of 49 GB
arr = np.zeros((t, 3), dtype="<u8"); arr[:, 1] = np.arange(t) * 2; arr[:, 2] = np.arange(t) * 2
# the headers naming this version, which a pass and a partial start with
first = job.next_pass()
pass_head = first[:32 + int.from_bytes(first[16:24], "little")]  # (then the job's fingerprint)
part_head = job.run(first, 0, 10)[:len(pass_head)]
assert pass_head[:8] == b"gs.pass\\x00" and part_head[:8] == b"gs.part\\x00" and pass_head[8:] == part_head[8:]
many = u64(2, t) + arr.tobytes()
cases = {
    "2^24 tail sums in 100 bytes": lambda: job.merge([part_head + u64(0, 10, k, 1) + u64(2, 0) + u64(0, 0, 0, 0, 1 << 24)]),
    "a 2^20-wide sum in 1.9 KB": lambda: job.merge([part_head + u64(0, 10, k, 1) + u64(2, 0) + u64(1)
                                                    + u64(1 << 20, 200) + (b"\\x00" + u64(0)) * 200]),
    "a million windows, run": lambda: job.run(pass_head + many, 0, 10),
    "a million windows, merged": lambda: job.merge([part_head + u64(0, 10, k, 1) + many + u64(0, 0, 0, 0, 0)]),
}
for label, call in cases.items():
    try:
        call()
        print(label, "| accepted")
    except gs.ConfigError as e:
        print(label, "|", e.path)
"""


def test_a_config_of_shared_lists_is_refused_before_it_expands():
    x: Any = 0
    for _ in range(29):  # 2^29 values once expanded (within the nesting limit): minutes and 100 GB
        x = [x, x]
    expect_error_at(lambda: gs.World.from_dict({"world": {"name": x}}), "config")
    expect_error_at(lambda: gs.World.default().with_params({"world.name": x}), "config")


def test_forged_summary_bytes_are_refused_without_allocating_by_their_counts():
    # a worker's bytes are counts and lengths: none may size an allocation beyond the
    # input (they aborted the process, or allocated 1.6 GB for 1.9 KB)
    out = subprocess.run([sys.executable, "-c", _FORGED_BYTES], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert len(lines) == 4 and all(line.split(" | ")[1] in ("partial", "pass") for line in lines), lines


def test_summary_job_checks_its_threads_and_the_scenarios_it_is_given():
    from geoscenario import _core

    w = _core.CoreWorld.default()
    job = _core.SummaryJob.for_world(w, [("r", w.factors[0][0], 0.0, 1.0, [0.5], [0.0], [0.9], [], False)],
                                     3, 1_000, 6, 1, False)
    for threads in (0, 2_000):  # 20,000 threads ran for minutes
        with pytest.raises(gs.ConfigError) as err:
            job.run(job.next_pass(), 0, 1_000, threads, 2048, None)
        assert err.value.path == "threads"
    values = np.linspace(1.0, 1_000.0, 1_000)[None, :]
    probs = [0.55, 0.25, 0.2]
    with pytest.raises(gs.ConfigError, match="block of paths") as err:  # its sums were silently wrong
        _core.summarize_arrays(job, values, np.full(1_000, 2, dtype=np.int64), probs)
    assert err.value.path == "scenario"
    own = np.repeat(np.arange(3), [550, 250, 200]).astype(np.int64)
    assert len(_core.summarize_arrays(job, values, own, probs)) == 4


def test_summary_job_refuses_passes_and_partials_of_other_jobs():
    # the job API ships passes and partials as bytes between processes; bytes
    # that are not this job's own are a ConfigError, never an index panic
    from geoscenario.summary import QUANTILES, make_job

    def job(series):
        return make_job(SMALL, 1_000, SMALL.horizon_months, 1, False, series, 3, QUANTILES, None, None)[0]

    def word(x):
        return int(x).to_bytes(8, "little")

    one, every = job(["px"]), job(None)
    moments = every.run(every.next_pass(), 0, 1_000)
    every.advance(moments)
    own = every.next_pass()  # collects the keys of each quantile's bin
    # a header: "gs.pass", the bytes' format, the version's length, the version and the
    # job's fingerprint
    version = int.from_bytes(own[16:24], "little")
    assert own[:8] == b"gs.pass\x00" and own[24:24 + version] == gs.__version__.encode()
    header, body = own[:32 + version], own[32 + version:]

    def pass_bytes(tag, targets, centers=b"", flags=b""):  # targets: (reducer, first key, last key)
        head = word(tag) + word(len(targets)) + b"".join(word(r) + word(a) + word(z) for r, a, z in targets)
        return header + head + centers + flags

    tag, n = int.from_bytes(body[:8], "little"), int.from_bytes(body[8:16], "little")
    targets = [tuple(int.from_bytes(body[16 + 24 * i + 8 * f:24 + 24 * i + 8 * f], "little") for f in range(3))
               for i in range(n)]
    # a collecting pass ends with the centres of its moments, one per (reducer, scenario),
    # then a flag per window (the sums above it, for a CVaR: none here) and the pairs' flag
    rest = body[16 + 24 * n:]
    n_centers = int.from_bytes(rest[:8], "little")
    centers, flags = rest[:8 + 8 * n_centers], rest[8 + 8 * n_centers:]
    assert tag == 3 and n >= 2 and pass_bytes(tag, targets, centers, flags) == own
    # every series, and each strategy's count of the paths that lost everything
    assert n_centers == (len(SMALL.units) + len(SMALL.strategies)) * len(SMALL.scenario_names)
    assert flags == word(n) + word(0) * n + word(0)
    nan = np.array([np.nan]).tobytes()
    r, a, z = targets[0]
    for forged in (
        pass_bytes(tag, [(10_000, a, z)], centers),  # no such reducer
        pass_bytes(tag, [(r, z + 1, z)], centers),  # an empty window
        pass_bytes(tag, targets[::-1], centers),  # out of order
        pass_bytes(tag, [(r, a, z), (r, a, z + 1)], centers),  # overlapping windows
        pass_bytes(tag, targets, word(n_centers - 1) + centers[8:-8], flags),  # a centre short
        pass_bytes(tag, targets, centers[:-8] + nan, flags),  # a centre that is not a number
        pass_bytes(tag, targets, centers, word(n - 1) + word(0) * (n - 1) + word(0)),  # a flag short
        pass_bytes(tag, targets, centers, word(n) + word(2) + word(0) * n),  # a flag that is not 0 or 1
        pass_bytes(tag, targets, centers, word(n) + word(1) + word(0) * n),  # sums above a window without CVaR
        pass_bytes(tag, targets, centers, word(n) + word(0) * n + word(3)),  # a pairs flag that is not 0 or 1
        pass_bytes(tag, targets, centers, word(n) + word(0) * n + word(1)),  # pairs, in a job without them
        own[:-1],  # truncated
        pass_bytes(7, targets, centers, flags),  # no such pass
    ):
        with pytest.raises(gs.ConfigError, match="pass"):
            every.run(forged, 0, 1_000)
    with pytest.raises(gs.ConfigError, match="not a serialised summary pass"):
        every.run(body, 0, 1_000)  # no header
    # the bytes of another version are refused naming it
    other = own[:16] + (4).to_bytes(8, "little") + b"9.9." + own[24 + version:]
    with pytest.raises(gs.ConfigError, match=r'of geoscenario "9\.9\." \(format \d+\), and this is') as err:
        every.run(other, 0, 1_000)
    assert err.value.path == "pass"
    part = every.run(own, 0, 1_000)
    other = part[:16] + (4).to_bytes(8, "little") + b"9.9." + part[24 + version:]
    for call in (lambda: every.merge([other]), lambda: every.advance(other)):
        with pytest.raises(gs.ConfigError, match="a summary partial of geoscenario") as err:
            call()
        assert err.value.path == "partial"
    every.run(own, 0, 1_000)  # its own pass runs
    # the merged partial of another pass, or of part of the paths, is refused saying which
    with pytest.raises(gs.ConfigError, match="got a partial of another pass"):
        every.advance(moments)
    with pytest.raises(gs.ConfigError, match=r"over paths 0\.\.1000, got paths 0\.\.500"):
        every.advance(every.run(own, 0, 500))
    with pytest.raises(gs.ConfigError, match="partial"):
        one.merge([moments])
    with pytest.raises(gs.ConfigError, match="partial"):
        one.advance(moments)


def test_a_summary_job_refuses_the_passes_and_partials_of_another_job():
    # a job of another seed, world or month shares this one's reducers and paths, so its
    # counts add up: the bytes' fingerprint of the job tells them apart (its shards gave
    # a mean of 404.94 for 404.48, without a word)
    import pickle

    from geoscenario.summary import QUANTILES, make_job

    world, n = gs.World.default(), 4_000

    def job(w=world, seed=5, month=24):
        return make_job(w, n, 24, seed, False, ["potash_spot"], month, QUANTILES, None, None, False, None)[0]

    mine = job()
    first = mine.next_pass()
    for other in (job(seed=6), job(w=world.with_params({"scenarios.base.potash_spot.theta": 520.0})),
                  job(month=12)):
        with pytest.raises(gs.ConfigError, match="a summary pass of another job") as err:
            other.run(first, 0, n)
        assert err.value.path == "pass"
        theirs = other.run(other.next_pass(), 0, n // 2)
        for parts in ([mine.run(first, 0, n // 2), theirs], [theirs]):
            with pytest.raises(gs.ConfigError, match="a summary partial of another job") as err:
                mine.merge(parts)
            assert err.value.path == "partial"
        with pytest.raises(gs.ConfigError, match="a summary partial of another job") as err:
            mine.advance(theirs)
        assert err.value.path == "partial"
    # the same job, rebuilt (as a worker unpickles it, or from its world's TOML written
    # another way), runs and merges its bytes
    twin = pickle.loads(pickle.dumps(mine))
    written = gs._core.SummaryJob("# the same world\n" + world.to_toml(), *mine.__getnewargs__()[1:])
    assert written.run(first, 0, 10) and pickle.loads(pickle.dumps(written)).run(first, 0, 10)
    while (p := mine.next_pass()) is not None:
        mine.advance(mine.merge([twin.run(p, 0, n // 2), mine.run(p, n // 2, n)]))
    assert mine.complete


@pytest.mark.parametrize("antithetic", [False, True])
def test_a_pass_run_here_has_the_bits_of_its_trip_through_bytes(antithetic):
    # simulate_summary runs each pass in place (run_current); remote workers ship it
    # as bytes (next_pass, run, advance): the two agree to the bit, pass by pass
    from geoscenario.summary import QUANTILES, make_job

    def job():
        return make_job(SMALL, 3_000, SMALL.horizon_months, 5, antithetic, None, 3, QUANTILES, None, None)[0]

    here, shipped, mixed = job(), job(), job()
    passes, seen = 0, []
    while (p := shipped.next_pass()) is not None:
        passes += 1
        assert not here.complete and not shipped.complete
        # (here lays its first pass out as it runs it, the next ones as it feeds them)
        assert mixed.next_pass() == p and (passes == 1 or here.next_pass() == p)
        # the job is not held while its pass runs: its progress callback may read it
        here.run_current(1, 700, lambda done, total: seen.append((done, total, here.counts)))
        shipped.advance(shipped.merge([shipped.run(p, 0, 1_200), shipped.run(p, 1_200, 3_000, 2, 512)]))
        if passes == 1:
            mixed.advance(mixed.run(p, 0, 3_000))
        else:
            mixed.run_current()
    assert passes >= 2 and here.complete and shipped.complete and mixed.complete
    assert here.next_pass() is None and mixed.next_pass() is None
    assert seen[-1] == (3_000, 3_000, here.counts) and sum(here.counts) == 3_000
    assert repr(here.result()) == repr(shipped.result()) == repr(mixed.result())
    with pytest.raises(gs.ConfigError, match="complete") as err:
        here.run_current()
    assert err.value.path == "run_current"
    # a job in use (here by the run whose progress callback calls it) is a RuntimeError,
    # not a panic
    busy, caught = job(), []

    def progress(done, total):
        try:
            busy.run_current()
        except RuntimeError as e:
            caught.append(str(e))

    busy.run(busy.next_pass(), 0, 3_000, None, 2048, progress)
    assert caught and all("borrowed" in c for c in caught), caught


arrays = st.one_of(
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=0, max_size=8),
    st.lists(st.floats(-1.0, 1.0), min_size=1, max_size=8),
)


@ARGS
@given(pnl=arrays, weights=arrays, alpha=st.floats(allow_nan=True, allow_infinity=True))
# weights times losses overflowed here: CVaR came back infinite
@example(pnl=[0.0, 5.857427807082481e291], weights=[3.0690828706222276e16, 3.0690828706160892e16], alpha=0.5)
@example(pnl=[1e308, -1e308], weights=[1.0, 1.0], alpha=0.5)
def test_fuzz_var_cvar(pnl, weights, alpha):
    try:
        var, cvar = core.var_cvar(np.array(pnl, dtype=float), np.array(weights, dtype=float), alpha)
    except gs.ConfigError as e:
        _param_error(e, {"pnl", "weights", "alpha"})
        return
    assert math.isfinite(var) and math.isfinite(cvar)
    assert cvar >= var - 1e-12


@ARGS
@given(
    n=st.integers(0, 6),
    m=st.integers(0, 3),
    fill=st.floats(allow_nan=True, allow_infinity=True),
    alpha=st.floats(allow_nan=True, allow_infinity=True),
    spoil=st.booleans(),
)
def test_fuzz_allocation(n, m, fill, alpha, spoil):
    rng = np.random.default_rng(n * 10 + m)
    r = rng.normal(0, 0.1, (n, m))
    if spoil and r.size:
        r[0, 0] = fill
    w = np.full(n, 1.0 / n) if n else np.zeros(0)
    try:
        out = core.mean_cvar(np.ascontiguousarray(r), w, alpha)
    except (gs.ConfigError, gs.NumericalError) as e:
        if isinstance(e, gs.ConfigError):
            _param_error(e, {"returns", "weights", "alpha"})
        return
    assert out["weights"].shape == (m,)
    assert np.isfinite(out["weights"]).all() and math.isfinite(out["cvar"])


HUGE = 10**400  # a Python int no double can hold: float() overflows


@pytest.mark.parametrize(
    "call, path",
    [
        (lambda sim, px: gs.Strategy("s", {"global_equity": HUGE}), "strategies.s.weights.global_equity"),
        (lambda sim, px: gs.Strategy("s", {"global_equity": 1.0}, cost_bps=HUGE), "strategies.s.cost_bps"),
        (lambda sim, px: sim.reweight({"base": HUGE, "bull": 0.0, "bear": 0.0}), "probabilities.base"),
        (lambda sim, px: gs.backtest(px, {"ntr_adj_close": HUGE}), "weights.ntr_adj_close"),
        (lambda sim, px: gs.backtest(px, {"ntr_adj_close": 1.0}, cost_bps=HUGE), "cost_bps"),
        (lambda sim, px: gs.backtest(px, {"ntr_adj_close": 1.0}, periods_per_year=HUGE), "periods_per_year"),
        (lambda sim, px: sim.allocate(target_return=HUGE), "target_return"),
        (lambda sim, px: sim.allocate(risk_aversion=HUGE), "risk_aversion"),
        (lambda sim, px: sim.risk_table(HUGE), "alpha"),
        (lambda sim, px: sim.summary(quantiles=[HUGE]), "quantiles"),
        (lambda sim, px: sim.summary("potash_spot", thresholds={"potash_spot": HUGE}), "thresholds.potash_spot"),
        (lambda sim, px: gs.stats.weighted_quantile([1.0, 2.0], [1.0, 1.0], HUGE), "q"),
        (lambda sim, px: gs.stats.prob_above([1.0, 2.0], [1.0, 1.0], HUGE), "level"),
        (lambda sim, px: gs.View.mean("potash_spot", HUGE), "view.value"),
        (lambda sim, px: sim.with_views(None), "views"),
        (lambda sim, px: sim.reweight([0.5, 0.25, 0.25]), "probabilities"),
        (lambda sim, px: sim.max_drawdown(["x"]), "strategy"),
        (lambda sim, px: sim.summary("potash_spot", quantiles=list(np.linspace(0, 1, 1_001))), "quantiles"),
        (lambda sim, px: sim.world.calibrated(potash=gs.data.potash_monthly(), factor=["x"]), "factor"),
        (lambda sim, px: sim.with_views(gs.View.mean("potash_spot", 400.0), max_iter=-1), "max_iter"),
        (lambda sim, px: sim.with_views(gs.View.mean("potash_spot", 400.0), tol="x"), "tol"),
        # below the double-precision epsilon no view can be checked (it used to run to max_iter)
        (lambda sim, px: sim.with_views(gs.View.mean("potash_spot", 400.0), tol=1e-300), "tol"),
        (lambda sim, px: sim.with_views(gs.View.mean("potash_spot", 400.0), tol=1e-16), "tol"),
    ],
)
def test_numbers_beyond_the_double_range_and_wrong_types_name_the_argument(call, path):
    sim = gs.World.default().simulate(1_000, seed=0, progress=False)
    px = gs.data.equities_daily()[["ntr_adj_close"]]
    with pytest.raises(gs.ConfigError) as err:
        call(sim, px)
    assert err.value.path == path


@pytest.mark.parametrize(
    "bad, shown",
    [
        ([1] * 100_000, "(300,038 characters)"),  # "n_paths: must be an integer, got list [1, 1, …]"
        (HUGE, "100000000000… (401 digits)"),
        ("x" * 10_000, "(10,039 characters)"),
    ],
)
def test_messages_stay_readable_whatever_the_value(bad, shown):
    # the rule and the parameter come first; a huge value is elided, not printed in full
    with pytest.raises(gs.ConfigError) as err:
        gs.World.default().simulate(bad)
    msg = str(err.value)
    assert err.value.path == "n_paths" and msg.startswith("n_paths: must be an integer")
    assert len(msg) <= gs.errors.MAX_MESSAGE + 30 and msg.endswith(shown)


def test_tiny_doubles_in_messages_keep_their_value():
    # the core writes doubles without an exponent: 1e-300 is 300 digits after the point,
    # which the message shows as 1e-300, not elided to "0.000000000000… (300 digits)"
    with pytest.raises(gs.ConfigError) as err:
        gs.World.default().with_params({"factors.eurobond_price.scale": 1e-300})
    assert err.value.path == "factors.eurobond_price.initial"
    assert str(err.value).endswith("scale = 1e-300, got 17.5"), str(err.value)


@pytest.mark.filterwarnings(r"ignore:factor \S+. the long-run level theta")  # (extreme θ on purpose)
def test_a_series_infinite_from_its_initial_values_is_named_at_month_0():
    # each level is in range, their ratio is not: the error points at the initial
    # values, not at "parameters too extreme for this horizon"
    world = gs.World.from_toml('''
[world]
name = "w"
start = "2025-01"
horizon_months = 3

[factors.a]
kind = "log_ou"
initial = 1e12

[factors.b]
kind = "log_ou"
initial = 5e-324

[derived.r]
kind = "ratio"
of = ["a", "b"]

[scenarios.base]
probability = 1.0
a = { theta = 1.0, kappa = 1.0, sigma = 0.1 }
b = { theta = 1.0, kappa = 1.0, sigma = 0.1 }
''')
    assert np.isinf(1e12 / 5e-324)
    with pytest.raises(gs.NumericalError) as ei:
        world.simulate(16, seed=0)
    assert str(ei.value).startswith('series "r" is not finite at month 0 on path 0: its initial value')
    # overflow later in a path names the month it happens
    late = world.with_params({"factors.b.initial": 1.0, "scenarios.base.a.sigma": 10.0,
                              "scenarios.base.a.kappa": 0.0, "scenarios.base.a.lambda": 120.0,
                              "scenarios.base.a.mu_j": 5.0, "world.horizon_months": 24})
    with pytest.raises(gs.NumericalError, match=r"became non-finite at month ([1-9]|1\d|2[0-4]) on path \d+:"):
        late.simulate(16, seed=0)


def test_an_overflow_names_the_first_failing_path_whatever_the_threads_and_chunks():
    # jumps of +5 overflow e^x in some paths over 20 years: at 5.5 a year in a few paths
    # of 20,000, on both halves of the range that two threads start from; at 8 a year in
    # many, several in a block of paths, failing in different months. The error names
    # the run's first failing path and its first failing month, not the first failure a
    # thread or a block happened to find
    text = '''
[factors.a]
kind = "log_ou"
unit = "x"
initial = 1.0
[scenarios.base]
probability = 1.0
a = { theta = 1.0, kappa = 0.0, sigma = 0.1, lambda = LAMBDA, mu_j = 5.0, sigma_j = 0.1 }
'''
    for lam, n in (("5.5", 20_000), ("8.0", 2_000)):
        world = gs.World.from_toml(text.replace("LAMBDA", lam))
        messages = set()
        for threads, chunk in [(1, 7), (2, 7), (2, 64), (1, 4096), (2, 1), (2, 3), (2, 2048)]:
            with pytest.raises(gs.NumericalError) as ei:
                world.simulate(n, 240, seed=0, threads=threads, chunk_paths=chunk, progress=False)
            messages.add(str(ei.value))
        (message,) = messages
        path, month = (int(x) for x in re.search(r"at month (\d+) on path (\d+):", message).group(2, 1))
        # the paths before it run; it fails alone, in that month and not before
        world._core.simulate(n, 240, 0, False, None, 64, 0, path, None, False)
        world._core.simulate(n, month - 1, 0, False, None, 64, path, path + 1, None, False)
        with pytest.raises(gs.NumericalError, match=f"at month {month} on path {path}:"):
            world._core.simulate(n, month, 0, False, None, 64, path, path + 1, None, False)
