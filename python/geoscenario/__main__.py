"""``python -m geoscenario``: simulate a world and print its scenario report."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings
from typing import Any, TextIO

import pandas as pd

from . import _validate
from .errors import ConfigError, GeoscenarioError, ResourceError, invalid
from .simulation import Simulation
from .summary import check_alpha
from .world import World

#: The default VaR/CVaR level of the report's risk table and allocation (``--alpha``).
ALPHA = 0.95

#: The command's flag for each parameter of World.simulate / World.from_toml.
FLAGS = {"n_paths": "--paths", "horizon_months": "--horizon", "seed": "--seed", "threads": "--threads",
         "source": "--config", "qmc": "--qmc", "month": "--month", "alpha": "--alpha"}


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: TextIO | None = None, line: str | None = None) -> None:
    """A warning as the command's own line, as its errors are (not a source location)."""
    text = str(message).replace("qmc=True", "--qmc").replace("n_paths=", "--paths ")
    print(f"geoscenario: warning: {text}", file=sys.stderr if file is None else file)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``geoscenario`` command."""
    with warnings.catch_warnings():  # restored when main returns (it may be called from Python)
        warnings.showwarning = _show_warning
        try:
            return _run(argv)
        except KeyboardInterrupt:  # Ctrl-C: the engine stopped; no traceback for the user
            print("geoscenario: interrupted", file=sys.stderr)
            return 130


def _run(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(
        prog="geoscenario",
        description="Simulate a world (default: the embedded China–Belarus 2025 world) "
        "and print its scenario report.",
    )
    parser.add_argument("--paths", type=int, default=None,
                        help="number of paths (default 200,000; with --qmc 262,144 = 2^18)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--horizon", type=int, default=None, help="horizon in months (default: the world's horizon_months, 24 for the default world)")
    parser.add_argument("--config", default=None, help="a world TOML file (default: the embedded world)")
    parser.add_argument("--threads", type=int, default=None, help="worker threads (default: all cores)")
    parser.add_argument("--antithetic", action="store_true", help="use antithetic pairs")
    parser.add_argument("--qmc", action="store_true", help="Sobol points with Owen scrambling and a Brownian bridge")
    parser.add_argument("--month", default=None,
                        help="the month of the statistics: YYYY-MM, or an index from 0 (default: the horizon)")
    parser.add_argument("--alpha", default=None,
                        help=f"VaR/CVaR level of the strategies' risk, in [0.5, 1) (default {ALPHA})")
    parser.add_argument("--json", action="store_true",
                        help="print the report's tables as one JSON document (for scripts) instead of text")
    args = parser.parse_args(argv)
    month = _month(args.month)
    try:
        alpha = _alpha(args.alpha)
        world = World.default() if args.config is None else World.from_toml(args.config)
        paths = args.paths if args.paths is not None else (1 << 18 if args.qmc else 200_000)
        # the month before the run (the run's other arguments first: the month needs the horizon)
        h = _validate.run_args(world.horizon_months, paths, args.horizon, args.seed, args.antithetic)[1]
        _validate.month(month, h, world._core.month_labels(h))
        sim = world.simulate(
            paths, args.horizon, seed=args.seed, antithetic=args.antithetic, threads=args.threads,
            qmc=args.qmc,
        )
    except ConfigError as e:
        print(f"geoscenario: error: {_flagged(e, args)}", file=sys.stderr)
        return 2
    except ResourceError as e:  # more paths than memory: the report of a streamed run needs Python
        print(f"geoscenario: error: {e} (fewer --paths; World.simulate_summary streams the paths and "
              "summarises any number of them in bounded memory)", file=sys.stderr)
        return 2
    except GeoscenarioError as e:
        print(f"geoscenario: error: {e}", file=sys.stderr)
        return 2
    try:
        text = _json(sim, month, alpha) if args.json else sim.report(month, alpha)
    except ConfigError as e:  # a --month or --alpha the run does not have
        print(f"geoscenario: error: {_flagged(e, args)}", file=sys.stderr)
        return 2
    except GeoscenarioError as e:  # a summary that overflows doubles (NumericalError)
        print(f"geoscenario: error: {e}", file=sys.stderr)
        return 2
    try:
        print(text, flush=True)
    except BrokenPipeError:  # the reader stopped early (| head): nothing more to say
        if sys.__stdout__ is not None and sys.stdout is sys.__stdout__:  # (and no second error when
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.__stdout__.fileno())  # Python flushes it at exit)
        return 0
    except OSError as e:  # a full disk, a closed file
        print(f"geoscenario: error: cannot write the report: {e.strerror or e}", file=sys.stderr)
        return 1
    return 0


def _month(text: Any) -> Any:
    """``--month``: an integer written in decimal digits, with one sign or none, is an index
    (as ``month=12`` in Python); anything else goes to the month check as it is given."""
    if not isinstance(text, str):
        return text
    s = text.strip()
    digits = s[1:] if s[:1] in "+-" else s
    return int(s) if digits.isdecimal() else text


def _alpha(text: str | None) -> float:
    """``--alpha`` as a checked confidence level (a ConfigError naming ``alpha`` if not)."""
    if text is None:
        return ALPHA
    try:
        value = float(text)
    except ValueError:
        raise invalid("alpha", f"must be a number, the confidence level in [0.5, 1) (0.95 for the worst 5%), "
                               f"got {text!r}") from None
    return check_alpha(value)


def _flagged(e: ConfigError, args: argparse.Namespace) -> str:
    """A ConfigError's message naming the flag the user typed, not the Python parameter
    behind it."""
    flag = FLAGS.get(e.path)
    message = str(e).replace("antithetic=True", "--antithetic").replace("qmc=True", "--qmc")
    if e.path == "config" and args.config is not None and message.startswith("config:"):
        flag = f"--config {args.config}"  # the file whose text is no valid TOML
        message = flag + message[len("config"):]
    elif flag and message.startswith(e.path):
        message = flag + message[len(e.path):]
    return message


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A table's rows as JSON objects, its index levels as fields, NaN as null."""
    flat = frame.reset_index()
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            for row in flat.astype(object).to_dict(orient="records")]


def _allocation(sim: Simulation, strategies: list[str], alpha: float) -> dict[str, Any] | None:
    """The report's mean–CVaR allocation (min CVaR, long-only), or None."""
    if not strategies:
        return None
    try:
        a = sim.allocate(alpha, strategies=strategies)
    except GeoscenarioError:  # the report prints "not available" too
        return None
    return {"weights": {k: float(v) for k, v in a.weights.items()},
            "expected_return": a.expected_return, "var": a.var, "cvar": a.cvar}


def _json(sim: Simulation, month: int | str | None = None, alpha: float = ALPHA) -> str:
    """The report's figures as JSON: the run, then the summary table of every series at
    ``month`` (default: the horizon), the strategies' risk table to that month (VaR/CVaR
    at ``alpha``) and their min-CVaR allocation (of the returns to the horizon), columns as in
    ``Simulation.summary``, ``Simulation.risk_table`` and ``Simulation.allocate`` (NaN as
    null; no allocation when the optimiser fails)."""
    strategies = [s for s in sim.world.strategies if s in sim.units]
    series = [s for s in sim.units if s not in strategies]
    t = sim.month_index(month)
    alpha = check_alpha(alpha)
    doc = {
        "world": sim.world.name,
        "paths": sim.n_paths,
        "horizon_months": sim.horizon_months,
        "start": f"{sim.months[0]:%Y-%m}",
        "month": f"{sim.months[t]:%Y-%m}",
        "seed": sim.seed,
        "antithetic": sim.antithetic,
        "qmc": sim.qmc,
        "scenarios": {name: {"probability": p, "paths": sim.counts[name]} for name, p in sim.probabilities.items()},
        "units": {name: sim.units[name] for name in series},
        "summary": _records(sim.summary(series, month=t)),
        "alpha": alpha,
        "risk": _records(sim.risk_table(alpha, strategies, month=t)) if strategies else [],
        "allocation": _allocation(sim, strategies, alpha),
    }
    return json.dumps(doc, indent=1, allow_nan=False)


if __name__ == "__main__":
    sys.exit(main())
