"""Exceptions raised by geoscenario.

Every invalid parameter raises :class:`ConfigError` (a ``ValueError``) whose
message starts with the dotted path of the parameter, e.g.
``scenarios.bear.potash_spot.sigma: must be in [0, 10], got -1``.
"""

from __future__ import annotations

__all__ = ["GeoscenarioError", "ConfigError", "ResourceError", "NumericalError"]


class GeoscenarioError(Exception):
    """Base class of every geoscenario exception."""


class ConfigError(GeoscenarioError, ValueError):
    """A parameter breaks a rule; ``path`` names it (e.g. ``scenarios.bear.potash_spot.theta``)."""

    path: str = ""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        if path is not None:
            self.path = path
        elif ": " in message:
            self.path = message.split(": ", 1)[0]


class ResourceError(GeoscenarioError, MemoryError):
    """A request would exceed memory or a size limit; refused before any work starts."""


class NumericalError(GeoscenarioError, ArithmeticError):
    """A computation produced non-finite numbers or did not converge."""


def invalid(path: str, rule: str) -> ConfigError:
    """A :class:`ConfigError` for parameter ``path`` breaking ``rule``."""
    return ConfigError(f"{path}: {rule}", path)
