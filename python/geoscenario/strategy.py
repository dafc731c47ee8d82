"""Investment-positioning strategies: target weights on a world's assets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import _core, _validate
from .errors import invalid

__all__ = ["Strategy"]

#: The config's bounds: largest |weight| of an asset in units of NAV, and largest cost
#: on traded notional in basis points (100%).
MAX_WEIGHT, MAX_COST_BPS = _core.MAX_WEIGHT, _core.MAX_COST_BPS


class _ReadOnlyDict(dict[str, float]):
    """A dict that refuses changes: a strategy's weights, checked when it is made."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("a Strategy's weights are read-only: make a new Strategy")

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:  # a copy is the caller's: a plain dict
        return (dict, (dict(self),))


@dataclass(frozen=True)
class Strategy:
    """Target weights on assets, rebalanced monthly, with costs on traded notional.

    Monthly return Σ_i w_i (e^{r_i} − 1) − costs (MODEL.md §5); NAV starts at 1,
    entering the positions is charged like any trade, cash earns nothing, and a
    NAV that reaches zero stays there.

    Parameters
    ----------
    name
        Name of the strategy (also the name of its NAV series).
    weights
        ``{asset: weight}`` (or a pandas Series indexed by asset) in units of NAV, each
        in [−100, 100]; negative weights are shorts, and weights need not sum to one
        (the rest is cash). Kept as a read-only dict.
    cost_bps
        One-way cost in basis points of traded notional, in [0, 10000].
    description
        Free text kept in the world's config (ignored when strategies are compared);
        None for none.

    Examples
    --------
    >>> import geoscenario as gs
    >>> s = gs.Strategy("fert_vs_hk", {"fertilizer_producers": 1.0, "hk_equity": -0.8}, cost_bps=15)
    >>> world = gs.World.default().with_strategies(s)
    >>> "fert_vs_hk" in world.strategies
    True
    """

    name: str
    weights: Mapping[str, float]
    cost_bps: float = 10.0
    description: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise invalid("name", f"must be a non-empty string, got {self.name!r}")
        object.__setattr__(self, "name", str(self.name))  # a plain str (not a NumPy str_ subclass)
        _validate.unicode("name", self.name)
        _core.check_strategy_name(self.name)  # the config's rules, here rather than in with_strategies
        object.__setattr__(self, "weights", _validate.keyed(f"strategies.{self.name}.weights", self.weights))
        if not isinstance(self.weights, Mapping) or not self.weights:
            raise invalid(f"strategies.{self.name}.weights",
                          "must be a non-empty dict (or pandas Series) of asset to weight")
        for k, v in self.weights.items():
            if not _validate.is_finite_real(v) or not abs(_validate.to_float(v)) <= MAX_WEIGHT:
                raise invalid(f"strategies.{self.name}.weights.{k}",
                              f"must be a finite number in [-{MAX_WEIGHT:g}, {MAX_WEIGHT:g}], {_validate.got(v)}")
        if not _validate.is_finite_real(self.cost_bps) or not 0 <= _validate.to_float(self.cost_bps) <= MAX_COST_BPS:
            raise invalid(f"strategies.{self.name}.cost_bps",
                          f"must be a finite number in [0, {MAX_COST_BPS:g}], {_validate.got(self.cost_bps)}")
        if self.description is None:
            object.__setattr__(self, "description", "")  # (none)
        if not isinstance(self.description, str):
            raise invalid(f"strategies.{self.name}.description",
                          f"must be a string, got {type(self.description).__name__} {self.description!r}"[:200])
        _validate.unicode(f"strategies.{self.name}.description", self.description)
        object.__setattr__(self, "description", str(self.description))
        # read-only: a change after these checks would bypass them (and the repr would lie)
        weights = {str(k): _validate.to_float(v) for k, v in self.weights.items()}
        object.__setattr__(self, "weights", _ReadOnlyDict(weights))
        object.__setattr__(self, "cost_bps", _validate.to_float(self.cost_bps))  # a Fraction, a NumPy scalar, ...

    def __reduce__(self) -> tuple[Any, ...]:  # made again, so that its weights stay read-only
        return (Strategy, (self.name, dict(self.weights), self.cost_bps, self.description))

    def to_dict(self) -> dict[str, Any]:
        """The config table of this strategy.

        Returns
        -------
        dict
            ``{"weights": {asset: weight}, "cost_bps": float}``, plus ``"description"``
            when set: the ``[strategies.<name>]`` table of the TOML file.

        Examples
        --------
        >>> import geoscenario as gs
        >>> s = gs.Strategy("fert_vs_hk", {"fertilizer_producers": 1, "hk_equity": -0.8}, cost_bps=15)
        >>> s.to_dict()
        {'weights': {'fertilizer_producers': 1.0, 'hk_equity': -0.8}, 'cost_bps': 15.0}
        >>> world = gs.World.default().with_strategies(s)
        >>> world.to_dict()["strategies"]["fert_vs_hk"] == s.to_dict()
        True
        """
        d: dict[str, Any] = {"weights": dict(self.weights), "cost_bps": float(self.cost_bps)}
        if self.description:
            d["description"] = self.description
        return d

    def __repr__(self) -> str:
        legs = ", ".join(f"{w:+g} {a}" for a, w in self.weights.items())
        return f"Strategy({self.name!r}: {legs}; {self.cost_bps:g} bps)"


# compared by value, but not hashable (a frozen dataclass would otherwise claim a hash
# that then fails on the weights' mapping)
Strategy.__hash__ = None  # type: ignore[assignment,method-assign]
