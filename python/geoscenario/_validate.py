"""Argument checks shared by the public API (each error names its parameter)."""

from __future__ import annotations

import datetime
import decimal
import difflib
import math
import numbers
import re
from collections.abc import Iterable, KeysView, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, TypeGuard

import numpy as np

from ._format import percent
from .errors import invalid, warn


def is_real(value: Any) -> bool:
    """Whether ``value`` is a real number, the one rule for every numeric parameter: an
    int, float, ``Fraction``, NumPy real scalar or 0-d real array. Not a bool (``True``
    is not a level), a ``Decimal`` (outside Python's real numbers: it refuses to mix
    with floats), a string or a complex number."""
    if isinstance(value, np.ma.MaskedArray):  # np.ma.masked too: its value is hidden
        return False
    if isinstance(value, np.ndarray):
        return value.ndim == 0 and value.dtype.kind in "iuf"
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def levels(name: str, q: Any) -> np.ndarray:
    """Probability levels in [0, 1]: a real number (:func:`is_real`) or an array or nested
    sequence of them, as a float array of the same shape (each value by :func:`to_float`);
    otherwise a ConfigError naming ``name``."""
    try:
        arr = np.asarray(q, dtype=object) if not isinstance(q, np.ndarray) or q.dtype.kind == "O" else q
    except (TypeError, ValueError):  # ragged nesting
        arr = np.array(np.nan)
    if arr.dtype.kind == "O" and not isinstance(arr, np.ma.MaskedArray):
        none_found = object()  # (None itself may be the value that is not a number)
        other = next((v for v in arr.flat if not is_real(v)), none_found)
        if other is not none_found:  # say which value is not a number, rather than "out of [0, 1]"
            raise invalid(name, f"must be levels in [0, 1], real numbers, got {q!r}: {other!r} is a "
                                f"{type(other).__name__}")
    if isinstance(arr, np.ma.MaskedArray) or arr.dtype.kind not in "iufO":  # strings, booleans, dates
        arr = np.array(np.nan)
    out = np.vectorize(to_float, otypes=[float])(arr) if arr.size else arr.astype(float)
    if not ((out >= 0) & (out <= 1)).all():  # NaN fails both
        raise invalid(name, f"must be levels in [0, 1], got {q!r}")
    return out


def got(value: Any) -> str:
    """``got <repr>`` for a refused value, with the way out where the repr hides it: a
    ``Decimal`` prints as a number (``Decimal('0.5')``) but is no real number here.

    >>> import decimal
    >>> got("x"), got(decimal.Decimal("0.5"))
    ("got 'x'", "got Decimal('0.5'), a Decimal: pass float(value)")
    """
    hint = ", a Decimal: pass float(value)" if isinstance(value, decimal.Decimal) else ""
    return f"got {value!r}{hint}"


def is_finite_real(value: Any) -> bool:
    """Whether ``value`` is a real number (:func:`is_real`) that a double holds finitely."""
    return is_real(value) and bool(np.isfinite(to_float(value)))


def to_float(value: Any) -> float:
    """``float(value)``, or NaN when it is not one (a string, None, an int beyond
    the double range): range checks then refuse it with the parameter's name.

    A float16 or float32 scalar is the decimal it prints as, the config's rule for every
    number of the API: ``np.float32(0.2)`` is 0.2, not 0.20000000298023224."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]  # a 0-d array is its scalar
    if isinstance(value, np.floating) and np.finfo(value.dtype).bits < 64:
        value = str(value)
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return float("nan")


def integer(name: str, value: Any, lo: int, hi: int) -> int:
    """``value`` as an int in [lo, hi], or a ConfigError naming ``name``: an int, a NumPy
    integer or a 0-d integer array (what NumPy takes as a size); not a float, even a
    whole one, as NumPy refuses ``size=1e6``."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iu":
        value = value[()]  # a 0-d integer array is its integer
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise invalid(name, f"must be an integer, got {type(value).__name__} {value!r}")
    v = int(value)
    if not lo <= v <= hi:
        raise invalid(name, f"must be an integer in [{lo}, {hi}], got {v}")
    return v


def unicode(name: str, text: str) -> str:
    """``text`` if UTF-8 can encode it, or a ConfigError naming ``name`` (a lone surrogate,
    as ``"\\ud800"``, which the core cannot take)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise invalid(name, f"is not valid Unicode text (a lone surrogate at character {e.start})") from None
    return text


def owned(values: Any) -> np.ndarray:
    """A C-contiguous float64 copy of ``values`` to hand to the core, which reads its
    inputs with the GIL released: another Python thread may write to the original."""
    return np.array(values, dtype=np.float64, order="C", copy=True)


def is_sequence(value: Any) -> TypeGuard[Iterable[Any]]:
    """Whether ``value`` is a sequence of items to check one by one: iterable, but not
    a string, bytes, a mapping, a set (its order, and so the order of the results,
    changes from one run to the next) or a 0-d NumPy array (iterable in type only).
    A mapping's keys (``d.keys()``) are a sequence: they come in the mapping's order."""
    if isinstance(value, KeysView):
        return True
    if isinstance(value, (str, bytes, Mapping, AbstractSet)) or not isinstance(value, Iterable):
        return False
    return not (isinstance(value, np.ndarray) and value.ndim == 0)


#: How alike (``difflib``'s ratio) a name and one that exists must be to be offered as
#: its fix (also :meth:`World.with_params`'s test of a misspelt path).
MISSPELLING_CUTOFF = 0.75


def did_you_mean(typed: Any, names: Sequence[str]) -> str:
    """``": did you mean 'x'?"`` for ``x`` the one of ``names`` most alike the string
    ``typed`` (at least :data:`MISSPELLING_CUTOFF`), else ``""``.

    >>> did_you_mean("potash_spto", ["potash_spot", "contract_price"]), did_you_mean("x", ["potash_spot"])
    (": did you mean 'potash_spot'?", '')
    """
    if not isinstance(typed, str):
        return ""
    close = difflib.get_close_matches(typed, list(names), n=1, cutoff=MISSPELLING_CUTOFF)
    return f": did you mean {close[0]!r}?" if close else ""


def names(name: str, value: Any, allowed: Sequence[str], kind: tuple[str, str] = ("series", "series")) -> list[str]:
    """``value`` (None for all of ``allowed``, one name, or a sequence of
    names) as a list of distinct names from ``allowed``; ``kind`` is the
    singular and plural of what they name. Otherwise a ConfigError naming ``name``."""
    one, many = kind
    if value is None:
        out = list(allowed)
    elif isinstance(value, str):
        out = [value]
    elif is_sequence(value):
        out = list(value)
    elif isinstance(value, AbstractSet):
        raise invalid(name, f"must be a list of {one} names, not a set: a set's order changes from run to run")
    else:
        raise invalid(name, f"must be a {one} name or a list of them, got {type(value).__name__} {value!r}")
    if not out:
        raise invalid(name, f"give at least one {one}" if allowed else f"the world has no {many}")
    for i, n in enumerate(out):
        if not isinstance(n, str) or n not in allowed:
            raise invalid(name, f"{n!r} is not a {one}{did_you_mean(n, allowed)} ({many}: {', '.join(allowed)})")
        if n in out[:i]:
            raise invalid(name, f"{n!r} is given twice")
    return out


def flag(name: str, value: Any) -> bool:
    """``value`` as a bool (True/False or NumPy bool only)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise invalid(name, f"must be True or False, got {value!r}")


def qmc_paths(on: bool, n_paths: int, replicates: int | None = None) -> None:
    """Warn about a QMC run whose path count (of each of its ``replicates``) is not a power
    of two (called once the run's arguments have passed every other check)."""
    if on and n_paths & (n_paths - 1):
        below, above = 1 << (n_paths.bit_length() - 1), 1 << n_paths.bit_length()
        run = (f"n_paths={n_paths}" if replicates is None
               else f"replicates={replicates} of {n_paths} paths (n_paths={n_paths * replicates})")
        warn(
            f"qmc=True with {run}, not a power of two: scrambled Sobol points "
            f"balance in blocks of 2^m, so the error falls more slowly than with {below} or "
            f"{above} paths{' a replicate' if replicates else ''} (estimates stay unbiased)"
        )


#: How far from 1 a set of scenario probabilities may sum (float32 values sum within ~1e-7).
PROBABILITY_SUM_TOL = 1e-6


_PANDAS_3 = int(__import__("pandas").__version__.split(".")[0]) >= 3


def private_copy(obj: Any) -> Any:
    """A copy of a pandas object that the caller may edit without changing ``obj``: a
    shallow one where pandas enforces copy-on-write (pandas 3, or
    ``mode.copy_on_write = True``; not its ``"warn"`` mode), else a deep one. Anything
    else (a value not yet checked) as given."""
    import pandas as pd

    if not isinstance(obj, pd.Series | pd.DataFrame):
        return obj
    return obj.copy(deep=not (_PANDAS_3 or pd.get_option("mode.copy_on_write") is True))


def keyed(name: str, value: Any) -> Any:
    """A pandas Series as the dict of its items, refused if its index names a key twice
    (``to_dict`` would keep the last; the error's path is ``name.key``, or the key if
    ``name`` is empty); any other value as given. Values are Python scalars, but a
    missing value of a nullable dtype stays ``pd.NA`` (``to_dict`` makes it None, which
    ``with_params`` reads as "remove this key")."""
    import pandas as pd

    if not isinstance(value, pd.Series):
        return value
    if not value.index.is_unique:
        twice = value.index[value.index.duplicated()][0]
        raise invalid(f"{name}.{twice}" if name else str(twice), "is given twice")
    return dict(zip(value.index, value.astype(object)))


def probability_map(name: str, value: Any, names: list[str]) -> list[float]:
    """A {scenario: probability} mapping (or a pandas Series) as a list in scenario order, validated."""
    from . import _core

    value = keyed(name, value)
    if isinstance(value, Mapping):
        value = dict(value)
    if not isinstance(value, dict):
        raise invalid(name, f"must be a dict of scenario name to probability, got {type(value).__name__}")
    unknown = [k for k in value if k not in names]
    if unknown:
        raise invalid(f"{name}.{unknown[0]}",
                      f"is not a scenario{did_you_mean(unknown[0], names)} (scenarios: {', '.join(names)})")
    missing = [k for k in names if k not in value]
    if missing:
        raise invalid(f"{name}.{missing[0]}", "is missing: give a probability for every scenario")
    out = []
    for k in names:
        p = value[k]
        if not is_real(p):
            raise invalid(f"{name}.{k}", f"must be a number, {got(p)}")
        p = to_float(p)
        if not 0.0 <= p <= 1.0:  # also rejects NaN
            raise invalid(f"{name}.{k}", f"must be a probability in [0, 1], got {value[k]!r}")
        if 0.0 < p < _core.MIN_PROBABILITY:  # its paths' weights p / n would underflow
            raise invalid(f"{name}.{k}", f"must be 0 or at least {_core.MIN_PROBABILITY:g}, got {value[k]!r}")
        out.append(p)
    total = math.fsum(out)
    if abs(total - 1.0) > PROBABILITY_SUM_TOL:
        raise invalid(name, f"probabilities must sum to 1 within {PROBABILITY_SUM_TOL:g}, got {total!r}")
    if abs(total - 1.0) > 1e-12:  # float32 inputs and the like: normalise, as the engine would
        out = [p / total for p in out]
    return out


def run_args(
    default_horizon: int, n_paths: Any, horizon_months: Any, seed: Any, antithetic: Any
) -> tuple[int, int, int, bool]:
    """The common arguments of every simulation call, checked: (n, horizon, seed, antithetic)."""
    from . import _core

    n = integer("n_paths", n_paths, 1, int(_core.MAX_PATHS))
    horizon = default_horizon if horizon_months is None else horizon_months
    h = integer("horizon_months", horizon, 1, int(_core.MAX_HORIZON))
    s = integer("seed", seed, 0, 2**64 - 1)
    return n, h, s, flag("antithetic", antithetic)


def late_onsets(world: Any, horizon: int, said: set[str] | None = None) -> None:
    """Warn about each scenario of positive probability whose whole onset window lies
    after ``horizon``: its paths never leave the base scenario in such a run. Given
    ``said`` (the messages already given, as by other points of one sweep), each
    message is given once, whatever the warning filters (a ``"default"`` filter's
    once-per-line would not hold while other threads change the filters)."""
    d = world.to_dict()
    if d["world"].get("regimes", "static") != "static":
        return
    for name, scenario in d["scenarios"].items():
        onset = scenario.get("onset")
        if onset and onset[0] > horizon and scenario["probability"] > 0:
            message = (f"scenario {name!r} starts in months {onset[0]}–{onset[1]}, after the "
                       f"{horizon}-month horizon: in this run its paths follow the base scenario "
                       "throughout (they still carry its probability)")
            if said is None or message not in said:
                warn(message)
            if said is not None:
                said.add(message)


def ruined(probabilities: Mapping[str, float], month: str) -> None:
    """Warn about the strategies that lost everything (a NAV of 0, where it stays, or
    below 2^-54 of the capital) with positive probability by ``month``: usually weights
    written as percents."""
    lost = [f"{name!r} with probability {percent(p)}" for name, p in probabilities.items() if p > 0]
    if lost:
        warn(f"{'strategies' if len(lost) > 1 else 'strategy'} lost everything (NAV 0) by {month}: "
             f"{', '.join(lost)}. A strategy's weights are fractions of its NAV (1.0 is 100%, "
             "2.0 twice levered): check them and its assets' betas", RuntimeWarning)


def month(value: Any, horizon: int, labels: Sequence[str] | None = None) -> int:
    """A month as an index in 0..=horizon. None is the horizon; an integer is
    an index (negative counts from the end); given the month ``labels``, a
    ``"YYYY-MM"`` label or any date in that month (a string, ``datetime``,
    ``numpy.datetime64`` or ``pandas.Timestamp``, as in ``Simulation.months``), or
    a ``pandas.Period`` within one month; not a date string that starts with its day
    or month, nor a quarter."""
    if value is None:
        return horizon
    import pandas as pd

    if labels is not None and isinstance(value, (str, datetime.date, np.datetime64, pd.Period)):
        label = value if isinstance(value, str) and value in labels else month_label(value)
        if label is None:
            raise invalid("month", f"{value!r} is not a month: give an index (an int), 'YYYY-MM' or a date")
        if label not in labels:
            raise invalid("month", f"{value!r} is not a simulated month ({labels[0]} … {labels[-1]})")
        return list(labels).index(label)
    return integer("month", value, -(horizon + 1), horizon) % (horizon + 1)


def month_label(value: Any, name: str = "month") -> str | None:
    """The ``"YYYY-MM"`` label of a month given as a label, a date or a one-month
    ``pandas.Period`` (see :func:`month`), None for what reads as no date; a ConfigError
    naming ``name`` for a year, a quarter, a period of months, a date that starts with its
    day or month, or one that does not exist ("2026-02-30", "2026-13")."""
    import pandas as pd

    shown = value
    if isinstance(value, pd.Period):
        start, end = value.start_time, value.end_time
        if (start.year, start.month) != (end.year, end.month):
            raise invalid(name, f"{value!r} spans more than one month")
        value = start
    if isinstance(value, np.datetime64) and np.datetime_data(value.dtype)[0] == "Y":
        # (a whole year, which pandas would read as its January)
        raise invalid(name, f"{shown!r} spans more than one month: give one month, e.g. 'YYYY-MM'")
    if isinstance(value, str):
        if re.fullmatch(r"\d{1,4}", value.strip()):
            # (pandas reads "2026" as January; "20260315" is a date and passes)
            raise invalid(name, f"{shown!r} is not a month: give an index (an int) or 'YYYY-MM'")
        if _QUARTER.fullmatch(value):
            raise invalid(name, f"{shown!r} is a quarter, not a month: give 'YYYY-MM'")
        if _NOT_YEAR_FIRST.match(value):  # pandas reads "02/01/2026" as February, "13/01/2026" as January
            raise invalid(name, f"{shown!r} does not start with the year: give 'YYYY-MM' or 'YYYY-MM-DD'")
        if re.fullmatch(r"\s*\d{4}\s*-\s*\d{1,2}\s*", value) and not 1 <= int(value.split("-")[1]) <= 12:
            raise invalid(name, f"{shown!r} is not a month: its month is not 1 to 12")
    return _month_of(value, name)


#: A quarter ("2026Q2", "2026-Q2"), which pandas reads as its first month.
_QUARTER = re.compile(r"\s*\d{4}\s*-?\s*[Qq][1-4]\s*")
#: A numeric date that starts with its day or month ("02/01/2026", "1.2.26", "03/2026").
_NOT_YEAR_FIRST = re.compile(r"\s*\d{1,2}\s*[/.\-]\s*\d")
#: A numeric date that starts with its year ("2026-02-30", "2026/6/1").
_YEAR_FIRST_DATE = re.compile(r"\s*\d{4}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d")


def _month_of(value: Any, name: str = "month") -> str | None:
    """The ``"YYYY-MM"`` label of the month containing a date, or None (a ConfigError
    naming ``name`` for a string that looks like a date but is none, as "2026-02-30")."""
    import pandas as pd

    try:
        ts = pd.Timestamp(value)
    except ValueError as e:
        if isinstance(value, str) and _YEAR_FIRST_DATE.match(value):
            raise invalid(name, f"{value!r} is not a date: {str(e).split(':')[0]}") from None
        return None
    except (TypeError, OverflowError):
        return None
    return None if pd.isna(ts) else f"{ts.year:04d}-{ts.month:02d}"
