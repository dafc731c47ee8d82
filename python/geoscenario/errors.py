"""Exceptions raised by geoscenario.

Every invalid parameter raises :class:`ConfigError` (a ``ValueError``) whose
message starts with the dotted path of the parameter, e.g.
``scenarios.bear.potash_spot.sigma: must be in [0, 10], got -1``.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from types import FrameType

__all__ = [
    "GeoscenarioError",
    "ConfigError",
    "UnknownNameError",
    "ResourceError",
    "NumericalError",
    "InfeasibleViewsError",
]


class GeoscenarioError(Exception):
    """Base class of every geoscenario exception.

    Catch it to handle any error the package raises on purpose; the subclasses
    also derive from the matching built-in (``ValueError``, ``MemoryError``,
    ``ArithmeticError``).

    Examples
    --------
    >>> import geoscenario as gs
    >>> try:
    ...     gs.World.default().simulate(0)
    ... except gs.GeoscenarioError as e:
    ...     print(type(e).__name__, "|", e)  # doctest: +ELLIPSIS
    ConfigError | n_paths: must be an integer in [1, ...], got 0
    >>> [issubclass(c, gs.GeoscenarioError) for c in (gs.ConfigError, gs.ResourceError, gs.NumericalError)]
    [True, True, True]
    """

    def __reduce__(self) -> tuple[object, ...]:
        # rebuilt by calling the class (MemoryError.__new__ refuses a subclass), so
        # that an error raised on a Dask worker reaches the client as itself
        return type(self), self.args, self.__dict__ or None


class ConfigError(GeoscenarioError, ValueError):
    """A parameter breaks a rule; ``path`` names it (e.g. ``scenarios.bear.potash_spot.theta``).

    Parameters
    ----------
    message
        ``"<path>: <rule>"``.
    path
        The dotted path of the parameter; default: the part of ``message`` before ``": "``.

    Attributes
    ----------
    path : str
        The dotted path of the offending parameter (``""`` if unknown).

    Examples
    --------
    >>> import geoscenario as gs
    >>> try:
    ...     gs.World.default().with_params({"scenarios.bear.potash_spot.sigma": -1})
    ... except gs.ConfigError as e:
    ...     err = e
    >>> err.path
    'scenarios.bear.potash_spot.sigma'
    >>> str(err)
    'scenarios.bear.potash_spot.sigma: must be in [0, 10], got -1'
    >>> isinstance(err, ValueError)
    True
    >>> gs.ConfigError("seed: must be an integer").path
    'seed'
    """

    path: str = ""

    def __init__(self, message: str, path: str | None = None) -> None:
        if path is None and ": " in message:
            path = message.split(": ", 1)[0]
        if path is not None:
            self.path = path
        # the path stays whole (tests and callers match on it); what follows is shortened
        head = f"{path}: " if path is not None and message.startswith(f"{path}: ") else ""
        super().__init__(_shorten(message, len(head)))


class UnknownNameError(ConfigError, KeyError):
    """A key that names nothing: ``sim["nope"]``.

    A :class:`ConfigError` (so a ``ValueError``) like every bad name, and a
    ``KeyError`` as the subscript of a mapping raises, so that either handler catches it.

    Examples
    --------
    >>> import geoscenario as gs
    >>> sim = gs.World.default().simulate(100, seed=0)
    >>> try:
    ...     sim["potash"]
    ... except KeyError as e:
    ...     err = e
    >>> str(err)[:40], err.path, isinstance(err, ValueError)
    ("name: 'potash' is not a series (series: ", 'name', True)
    """

    # the message as written, not quoted as KeyError quotes its argument
    __str__ = ValueError.__str__


class ResourceError(GeoscenarioError, MemoryError):
    """A request would exceed memory or a size limit; refused before any work starts.

    The message states the request, the bytes it needs and the limit.

    Examples
    --------
    >>> import geoscenario as gs
    >>> try:  # 2**36 paths x 25 months x 17 series: about 214 TiB, refused before allocating
    ...     gs.World.default().simulate(2**36, 24)
    ... except gs.ResourceError as e:
    ...     err = e
    >>> str(err).startswith("68,719,476,736 paths × 25 months × 17 series: needs 213.50 TiB")
    True
    >>> isinstance(err, MemoryError), isinstance(err, ValueError)
    (True, False)
    """


class NumericalError(GeoscenarioError, ArithmeticError):
    """A computation produced non-finite numbers or did not converge.

    Also raised for problems without a solution, such as a series with no mean
    reversion to fit, and (as :class:`InfeasibleViewsError`) infeasible views.

    Examples
    --------
    >>> import geoscenario as gs
    >>> sim = gs.World.default().simulate(1_000, seed=0)
    >>> try:  # no path ends above 1,000,000 USD/t, so P(spot > 1e6) = 50% is impossible
    ...     sim.with_views(gs.View.prob_above("potash_spot", 1e6, 0.5))
    ... except gs.NumericalError as e:
    ...     print(e)
    views[0]: View(P(potash_spot > 1e+06) == 0.5 at horizon) is infeasible: none of the simulated paths has potash_spot > 1e+06
    >>> issubclass(gs.NumericalError, ArithmeticError)
    True
    """


class InfeasibleViewsError(ConfigError, NumericalError):
    """Views no reweighting of the simulated paths can satisfy.

    Bad input rather than a failed computation, so a :class:`ConfigError` (a
    ``ValueError``) whose ``path`` names the view (``views[0]``), or ``views`` when
    views possible alone cannot hold together; a :class:`NumericalError` too, as it
    was before it had a class of its own.

    Examples
    --------
    >>> import geoscenario as gs
    >>> sim = gs.World.default().simulate(1_000, seed=0)
    >>> try:
    ...     sim.with_views(gs.View.prob_above("potash_spot", 1e6, 0.5))
    ... except ValueError as e:
    ...     err = e
    >>> type(err).__name__, err.path, isinstance(err, gs.NumericalError)
    ('InfeasibleViewsError', 'views[0]', True)
    """


#: Longest message a ConfigError keeps, and longest run of digits it shows in full.
MAX_MESSAGE = 1_000
MAX_DIGITS = 30


def _shorten(message: str, keep: int = 0) -> str:
    """``message`` with long numbers and a long tail elided: the rule comes first and
    the offending value last, so a 10**400 or a list of a million items stays readable.
    The first ``keep`` characters (the parameter's path) are kept whole.

    >>> _shorten("n_paths: must be an integer, got " + "7" * 400)
    'n_paths: must be an integer, got 777777777777… (400 digits)'
    >>> _shorten("x: got " + "[1, " * 10**5)[-25:]
    ', [… (400,007 characters)'

    A long decimal fraction is a double written without an exponent (as the core
    writes 1e-300): it is shown as Python's repr of that double.

    >>> _shorten("scale: must be positive, got 0." + "0" * 299 + "1")
    'scale: must be positive, got 1e-300'
    """
    head, tail = message[:keep], message[keep:]
    tail = re.sub(r"\d+\.\d+", lambda m: repr(float(m[0])) if len(m[0]) > MAX_DIGITS + 1 else m[0], tail)
    message = head + re.sub(rf"\d{{{MAX_DIGITS + 1},}}", lambda m: f"{m[0][:12]}… ({len(m[0])} digits)", tail)
    if len(message) > max(MAX_MESSAGE, keep):
        message = f"{message[:max(MAX_MESSAGE, keep)]}… ({len(message):,} characters)"
    return message


def invalid(path: str, rule: str) -> ConfigError:
    """A :class:`ConfigError` for parameter ``path`` breaking ``rule``."""
    return ConfigError(f"{path}: {rule}", path)


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """Issue a warning attributed to the first caller outside the package (the user's line)."""
    package = os.path.dirname(os.path.abspath(__file__))
    level = 2
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package + os.sep):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
