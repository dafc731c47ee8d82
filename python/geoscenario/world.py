"""The :class:`World`: a thesis written down as scenarios, factors and correlations."""

from __future__ import annotations

import copy
import difflib
import os
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import _core, _progress, _validate
from ._format import count, percent, table_html
from .errors import ConfigError, invalid, warn
from .strategy import Strategy
from .summary import QUANTILES, SummaryResult, ruin_probability

__all__ = ["World"]

_MAX_CONFIG_BYTES = 16 * 1024 * 1024


# factor kinds that take a diffusion shock (a row of the correlation matrix)
_SHOCKED_KINDS = frozenset({"log_ou", "logit_ou", "gbm"})


def _shown(path: Path) -> str:
    """A path for a message, shortened when very long."""
    text = str(path)
    return repr(text if len(text) <= 120 else text[:60] + "…" + text[-40:])


def _not_a_file(path: Path) -> str:
    """Why ``path``, which is not a regular file, cannot be read as one."""
    try:
        return "is a directory" if path.is_dir() else "is not a regular file" if path.exists() else "does not exist"
    except OSError as e:  # a name too long for the system, say
        return f"cannot be a file: {e.strerror or e}"


def _looks_like_a_path(text: str) -> bool:
    """Whether one line of text is shaped like a file name rather than TOML: no quotes,
    no spaces around its ``=``, and a directory separator or a file extension at its end."""
    if "\n" in text or '"' in text or "'" in text or " = " in text or text.lstrip().startswith("["):
        return False
    return "/" in text or os.sep in text or re.search(r"\.[A-Za-z][A-Za-z0-9]*$", text) is not None


def _leaves(path: str, value: Any, out: dict[str, Any], within: tuple[int, ...] = ()) -> None:
    """The dotted paths and values of ``value`` at ``path``: a table (a non-empty mapping,
    or a Series) is merged key by key, so ``{"a.b": {"c": 1}}`` sets ``a.b.c`` and keeps the
    rest of ``a.b``. A table below 32 levels, or within itself (``within``: the ids of the
    tables around it), is left whole, for the core to refuse."""
    if isinstance(value, pd.Series):
        value = _validate.keyed(path, value)
    if isinstance(value, Mapping) and value and len(within) <= 32 and id(value) not in within:
        for k, v in value.items():
            if not isinstance(k, str) or not k:
                raise invalid(path, f"table keys must be non-empty strings, got {k!r}")
            _leaves(f"{path}.{k}", v, out, (*within, id(value)))
    elif path in out:
        raise invalid(path, "is given twice (as a path, inside a table or as a keyword)")
    else:
        out[path] = value


def _correlation_pairs(df: pd.DataFrame, path: str, zeros: bool) -> dict[str, dict[str, Any]]:
    """The ``[correlations]`` table of a correlation matrix (as :attr:`World.correlations`
    gives): a row per factor, each pair above the diagonal once, the zero pairs only
    with ``zeros``."""
    rows, cols = list(df.index), list(df.columns)
    if len(set(rows)) != len(rows) or set(rows) != set(cols) or len(cols) != len(rows):
        raise invalid(path, "a correlation matrix must name the same factors, once each, as its rows and "
                            f"columns (as World.correlations gives), got rows {rows} and columns {cols}")
    numeric = all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in df.dtypes)
    if not numeric:
        raise invalid(path, f"a correlation matrix must hold numbers, got dtypes {sorted(set(map(str, df.dtypes)))}")
    m = df.loc[rows, rows].to_numpy(dtype=float, na_value=np.nan)
    # every factor of the matrix has a row, empty or not, so that a name the world
    # lacks is refused even where its correlations are all 0
    pairs: dict[str, dict[str, Any]] = {a: {} for a in rows}
    for i, a in enumerate(rows):
        if m[i, i] != 1.0:
            raise invalid(f"{path}.{a}.{a}", f"the diagonal of a correlation matrix is 1, got {m[i, i]}")
        for j in range(i + 1, len(rows)):
            x, y = m[i, j], m[j, i]
            if x != y and not (np.isnan(x) and np.isnan(y)):
                b = rows[j]
                raise invalid(f"{path}.{a}.{b}", f"the matrix is not symmetric: {x} here, {y} at ({b}, {a})")
            if zeros or x != 0.0:
                pairs[a][rows[j]] = float(x)  # NaN too: validation names it
    return pairs


def _config_tree(value: Any, path: str, seen: list[int] | None = None, depth: int = 0) -> Any:
    """A config value with its pandas objects as the dicts they stand for: a Series is
    the mapping of its items, a DataFrame at ``correlations`` the matrix's pairs. Below
    33 levels or after 2**20 values the rest is left as given, for the core to refuse (a
    table that holds itself, or tables and lists that share their items and would expand
    here in exponential time)."""
    seen = [0] if seen is None else seen
    seen[0] += 1
    if seen[0] > 1 << 20 or depth > 32:
        return value
    if isinstance(value, pd.DataFrame):
        if path != "correlations":
            raise invalid(path, "a DataFrame is read only as the correlation matrix, at 'correlations': "
                                "give a dict here")
        return _correlation_pairs(value, path, zeros=False)
    if isinstance(value, pd.Series):
        value = _validate.keyed(path, value)
    if isinstance(value, Mapping):
        return {k: _config_tree(v, f"{path}.{k}" if path else str(k), seen, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_config_tree(v, f"{path}[{i}]", seen, depth + 1) for i, v in enumerate(value)]
    return value


def _remove(d: dict[str, Any], parts: list[str], removed: dict[str, Any]) -> None:
    """Remove the key at ``parts`` from the nested dict ``d`` (an override's ``None``): a
    correlation pair under either of its factors, and with it a row it leaves empty.
    ``removed``: what the call removed before (tables before their keys), by key."""
    pair = len(parts) == 3 and parts[0] == "correlations"
    key = ".".join(parts)
    for path in [parts, [parts[0], parts[2], parts[1]]] if pair else [parts]:
        node: Any = d
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and path[-1] in node:
            removed[key] = node.pop(path[-1])
            if pair and not node:
                del d["correlations"][path[1]]
            return
        # a pair that was in a row removed by the same call
        row = f"correlations.{path[1]}" if pair else ""
        if isinstance(removed.get(row), dict) and path[2] in removed[row]:
            raise invalid(key, f"is given twice (also removed with {row!r})")
    raise invalid(key, "is not set in this world, so None cannot remove it")


def _parameter_order() -> list[str]:
    """Every kind's parameter names in one list that keeps each kind's own order."""
    order: list[str] = []
    by_kind: dict[str, list[str]] = {}
    for kind, name, *_ in _core.PARAMETER_SPECS:
        by_kind.setdefault(kind, []).append(name)
    for names in by_kind.values():
        for i, name in enumerate(names):
            if name not in order:
                later = [order.index(n) for n in names[i + 1:] if n in order]
                order.insert(min(later, default=len(order)), name)
    return order


_PARAMETER_ORDER = _parameter_order()

#: Tables of named entries, where a path with an unknown name starts a new entry.
NAMED_TABLES = ("scenarios", "factors", "derived", "assets", "strategies")
_TABLE_ENTRY = {"scenarios": "a scenario", "factors": "a factor", "derived": "a derived series",
                "assets": "an asset", "strategies": "a strategy"}

#: How alike (``difflib``'s ratio) a new name and one of its table's must be for
#: :meth:`World.with_params` to take a path into the new one as a misspelling.
MISSPELLING_CUTOFF = _validate.MISSPELLING_CUTOFF


class World:
    """A validated world: scenarios with probabilities, factors and their dynamics.

    Build one with :meth:`default`, :meth:`from_toml` or :meth:`from_dict`;
    change parameters with :meth:`with_params`; run it with :meth:`simulate`.
    Worlds are immutable: every change returns a new world.

    Parameters
    ----------
    core
        The validated world of the compiled core (``_core.CoreWorld``): build worlds
        with the constructors above rather than calling ``World`` directly.

    Examples
    --------
    >>> import geoscenario as gs
    >>> world = gs.World.default()
    >>> world.scenario_names
    ['base', 'bull', 'bear']
    >>> world.with_params({"scenarios.bear.potash_spot.theta": 520}).to_dict()["scenarios"]["bear"]["potash_spot"]["theta"]
    520.0
    """

    __slots__ = ("_core",)

    def __init__(self, core: _core.CoreWorld) -> None:
        if not isinstance(core, _core.CoreWorld):
            raise invalid("core", f"must be a validated core world, got {type(core).__name__}: build "
                                  "worlds with World.from_toml, World.from_dict or World.default")
        self._core = core
        for message in _config_warnings(core.to_dict()):
            warn(message)

    @classmethod
    def _quiet(cls, core: _core.CoreWorld) -> World:
        """A world of a validated core without its config warnings (said already: of an
        unpickled or copied world, or of the world a change was made to)."""
        world = object.__new__(cls)
        world._core = core
        return world

    # ------------------------------------------------------------------ constructors
    @classmethod
    def default(cls) -> World:
        """The embedded default world ``belarus_china_2025`` (China–Belarus partnership, 2025).

        Returns
        -------
        World
            Built from the configuration shipped in the package (docs/MODEL.md).

        Examples
        --------
        >>> import geoscenario as gs
        >>> gs.World.default().name
        'belarus_china_2025'
        """
        return cls(_core.CoreWorld.default())

    @classmethod
    def from_toml(cls, source: str | os.PathLike[str]) -> World:
        """Read a world from a TOML file path or from TOML text.

        Parameters
        ----------
        source
            A path to a ``.toml`` file, or the TOML text itself.

        Returns
        -------
        World
            Validated; a bad entry raises :class:`ConfigError` naming its path.

        Examples
        --------
        >>> import geoscenario as gs
        >>> w = gs.World.from_toml(gs.World.default().to_toml())
        >>> w == gs.World.default()
        True
        """
        if isinstance(source, os.PathLike) or (
            isinstance(source, str) and "\n" not in source and (os.path.isfile(source) or source.endswith(".toml"))
        ):
            path = Path(source)
            try:
                if not path.is_file():
                    raise invalid("source", f"{_shown(path)} {_not_a_file(path)}")
                size = path.stat().st_size
                if size > _MAX_CONFIG_BYTES:
                    raise invalid("source", f"file is {size} bytes, the limit is {_MAX_CONFIG_BYTES}")
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError as e:
                raise invalid("source", f"the file is not UTF-8 text ({e.reason} at byte {e.start})") from None
            except OSError as e:  # e.g. a name too long, a permission
                raise invalid("source", f"cannot read {_shown(path)}: {e.strerror or e}") from None
        elif isinstance(source, str):
            blank = not source.strip()  # an empty TOML text, refused by the parser as one
            if not blank and "\n" not in source and "=" not in source and not source.lstrip().startswith("["):
                # one line with neither a key nor a table: meant as a path
                raise invalid("source", f"is neither a TOML file nor TOML text: {_shown(Path(source))} "
                                        f"{_not_a_file(Path(source))}")
            text = _validate.unicode("source", source)  # (text read from a file was decoded from UTF-8: it has none)
        else:
            raise invalid("source", f"must be a path or TOML text, got {type(source).__name__}")
        try:
            core = _core.CoreWorld.from_toml(text)
        except ConfigError as e:
            if text is source and _looks_like_a_path(text) and e.path == "config" and "not valid TOML" in str(e):
                # one line that is no TOML, shaped like a file name: a path with an "=" in it
                raise invalid("source", f"is neither a TOML file nor TOML text: {_shown(Path(text))} "
                                        f"{_not_a_file(Path(text))} ({e})") from None
            raise
        return cls(core)

    @classmethod
    def from_dict(cls, config: Mapping[str, Any]) -> World:
        """Build a world from a nested dict with the layout of the TOML file.

        Parameters
        ----------
        config
            ``{"world": {...}, "factors": {...}, "scenarios": {...}, ...}``, as
            :meth:`to_dict` returns; every invalid entry raises a ``ConfigError``
            naming its path. A table may be a pandas Series (a scenario's parameters
            of a factor, say), and ``correlations`` a correlation matrix as
            :attr:`correlations` gives (a DataFrame: the pairs above its diagonal).

        Returns
        -------
        World

        Examples
        --------
        >>> import geoscenario as gs
        >>> d = gs.World.default().to_dict()
        >>> gs.World.from_dict(d).name
        'belarus_china_2025'
        """
        if not isinstance(config, Mapping):
            raise invalid("config", f"must be a dict, got {type(config).__name__}")
        return cls(_core.CoreWorld.from_dict(_config_tree(config, "")))

    # ------------------------------------------------------------------ views
    def to_toml(self, path: str | os.PathLike[str] | None = None) -> str:
        """The world as TOML text (also written to ``path`` if given).

        Parameters
        ----------
        path
            Optional file to write the text to (UTF-8, overwritten if it exists).

        Returns
        -------
        str
            TOML text that :meth:`from_toml` reads back into an equal world.

        Examples
        --------
        >>> import geoscenario as gs
        >>> text = gs.World.default().to_toml()
        >>> text.splitlines()[:2]
        ['[world]', 'name = "belarus_china_2025"']
        >>> gs.World.from_toml(text) == gs.World.default()
        True
        """
        text = self._core.to_toml()
        if path is not None:
            if not isinstance(path, (str, os.PathLike)):
                raise invalid("path", f"must be a file path, got {type(path).__name__}")
            target = Path(path)
            if "\0" in str(target):
                raise invalid("path", f"cannot write {_shown(target)}: it contains a NUL character")
            try:
                if target.exists() and not target.is_file():  # a FIFO would block until read
                    raise invalid("path", f"{_shown(target)} {_not_a_file(target)}")
                target.write_text(text, encoding="utf-8")
            except OSError as e:  # a missing folder, a permission
                raise invalid("path", f"cannot write {_shown(target)}: {e.strerror or e}") from None
        return text

    def to_dict(self) -> dict[str, Any]:
        """The world as a nested dict that :meth:`from_dict` reads back unchanged.

        Returns
        -------
        dict
            The layout of the TOML file: top-level tables ``world``, ``factors``,
            ``scenarios``, ``assets``, ``strategies``, ...; a fresh copy on every call.

        Examples
        --------
        >>> import geoscenario as gs
        >>> d = gs.World.default().to_dict()
        >>> d["world"]["name"], d["scenarios"]["bear"]["probability"]
        ('belarus_china_2025', 0.2)
        >>> gs.World.from_dict(d) == gs.World.default()
        True
        """
        return self._core.to_dict()

    def with_params(self, overrides: Mapping[str, Any] | pd.Series | None = None, **kwargs: Any) -> World:
        """A copy with parameters changed, addressed by dotted paths.

        Parameters
        ----------
        overrides
            ``{"scenarios.bear.potash_spot.theta": 520, "scenarios.bear.probability": 0.3, ...}``.
            Keyword arguments may use ``__`` for dots. A table (a dict) is merged key
            by key: ``{"scenarios.bear.potash_spot": {"theta": 520}}`` sets ``theta`` and
            keeps the bear's other potash parameters. ``None`` removes a key or a whole
            table (``{"scenarios.bull.onset": None}``), which must then be set (a float
            Series holds NaN, not None: remove keys with a dict); a path given twice is
            an error. A path into a scenario, factor, derived series, asset or strategy
            the world lacks but whose name is close to one it has is refused as a
            misspelling; such a new one is given as a whole table
            (``{"assets.hk_equity2": {"betas": {...}}}``). A pandas Series indexed by path (a row of a
            grid of parameters) is taken as that mapping, and a Series value as a
            table; ``correlations`` may be a correlation matrix (a DataFrame, as
            :attr:`correlations` gives), which sets every pair of its factors (a zero pair is
            removed) and keeps the pairs of other factors. A value may be a NumPy
            scalar or array (an array is the list of its items), and a month
            (``world.start``) a date in it: ``pd.Timestamp("2026-03-01")``,
            ``datetime.date``, ``np.datetime64`` or a ``pd.Period`` within one month.
        **kwargs
            More overrides, as keywords: ``scenarios__bear__probability=0.3``.

        Returns
        -------
        World
            A new world, validated as :meth:`from_dict` validates; this one is unchanged.

        Examples
        --------
        >>> import geoscenario as gs
        >>> w = gs.World.default().with_params({
        ...     "scenarios.base.probability": 0.5, "scenarios.bear.probability": 0.25})
        >>> w.probabilities["bear"]
        0.25
        """
        if overrides is None:
            changes: dict[Any, Any] = {}
        elif isinstance(overrides, Mapping):
            changes = dict(overrides)
        elif isinstance(overrides, pd.Series):  # a row of a parameter grid, indexed by path
            changes = _validate.keyed("", overrides)  # a path given twice is named as in a dict
        else:
            raise invalid("overrides", "must be a mapping of dotted parameter paths to values, e.g. "
                                       f"{{'scenarios.bear.probability': 0.3}}, got {type(overrides).__name__}")
        leaves: dict[str, Any] = {}
        tables: set[str] = set()  # paths given a table: a new scenario, factor, ... given whole is one
        for key, value in [*changes.items(), *((k.replace("__", "."), v) for k, v in kwargs.items())]:
            if not isinstance(key, str) or not key:
                raise invalid("overrides", f"parameter paths must be non-empty strings, got {key!r}")
            if isinstance(value, (Mapping, pd.Series)):
                tables.add(key)
            if key == "correlations" and isinstance(value, pd.DataFrame):
                value = self._matrix_changes(value)
            _leaves(key, value, leaves)
        for key, value in leaves.items():  # a nullable column's missing value is not a removal
            if value is pd.NA or value is pd.NaT:
                raise invalid(key, f"is missing ({value}): give a value, or None in a dict to remove the key")
        for key in leaves:  # a correlation pair is one entry, whichever way round it is named
            parts = key.split(".")
            if len(parts) == 3 and parts[0] == "correlations" and parts[1] < parts[2]:
                other = f"correlations.{parts[2]}.{parts[1]}"
                if other in leaves:
                    raise invalid(key, f"this pair is given twice (also as {other!r})")
        for key in leaves:  # "a.b" set and "a.b.c" set: one would undo the other
            parts = key.split(".")
            for i in range(1, len(parts)):
                if ".".join(parts[:i]) in leaves:
                    raise invalid(".".join(parts[:i]), f"is given a value and, through {key!r}, a table")
        d = copy.deepcopy(self.to_dict())
        # removals first, each table before the keys in it
        removed: dict[str, Any] = {}
        for key in sorted((k for k, v in leaves.items() if v is None), key=lambda k: k.count(".")):
            _remove(d, key.split("."), removed)
        # a correlation pair may be written either way round: "correlations.b.a" replaces the
        # pair stored as correlations.a.b (given both ways here, it is given twice)
        stored = d.get("correlations", {})
        for key in [k for k, v in leaves.items() if v is not None]:
            parts = key.split(".")
            if len(parts) == 3 and parts[0] == "correlations" and parts[2] in stored:
                row = stored[parts[2]]
                if isinstance(row, dict) and row.pop(parts[1], None) is not None and not row:
                    del stored[parts[2]]
        # named tables a path started, and the names the world has beside them (not those
        # another entry of this call adds)
        created: dict[str, list[str]] = {}
        existing = {t: list(d.get(t) or {}) if isinstance(d.get(t), dict) else [] for t in NAMED_TABLES}
        for key, value in leaves.items():
            if value is None:
                continue  # removed above
            parts = key.split(".")
            node: Any = d
            for i, part in enumerate(parts[:-1]):
                nxt = node.get(part)
                if nxt is None:
                    if i == 1 and parts[0] in NAMED_TABLES:
                        created[".".join(parts[: i + 1])] = existing[parts[0]]
                    nxt = node[part] = {}
                elif not isinstance(nxt, dict):
                    raise invalid(".".join(parts[: i + 1]), "is a value, not a table")
                node = nxt
            if isinstance(value, Mapping) and isinstance(node.get(parts[-1]), dict):
                continue  # an empty table merged into an existing one changes nothing
            # a copy, to 32 levels (deeper, the core refuses it: no deep recursion here)
            node[parts[-1]] = _config_tree(dict(value) if isinstance(value, Mapping) else value, key)
        # a keyword reads every "__" as a dot, so it cannot name my__f or tail_
        odd = [n for t in NAMED_TABLES for n in d.get(t, {}) if "__" in n or n.endswith("_")]

        def keyword_hint(path: str) -> str:
            # the names written in the keywords that lead to path, cut there at an "__"
            keys = [k for k in kwargs if (k.replace("__", ".") + ".").startswith(path + ".")]
            meant = [n for n in odd if any(n in k for k in keys)]
            if not meant:
                return ""
            return (f"; a keyword reads every '__' as a dot and cannot name {', '.join(map(repr, meant[:3]))}: "
                    "give the dotted path in a dict instead")

        for path, siblings in created.items():
            # a name the world lacks, close to one it has and reached by a path into it (not
            # given a whole table at its own path), is a misspelling, even where the new table
            # is complete: a new asset would be used by nothing, a new strategy add a series
            table, name = path.split(".", 1)
            close = difflib.get_close_matches(name, siblings, n=1, cutoff=MISSPELLING_CUTOFF)
            if close and path not in tables:
                raise invalid(path, f"{name!r} is not {_TABLE_ENTRY[table]} of this world: did you mean "
                                    f"{close[0]!r}? ({table}: {', '.join(siblings)}); to add a new one, give its "
                                    f"whole table: with_params({{{path!r}: {{...}}}}){keyword_hint(path)}")
        try:
            return self._changed(d)
        except ConfigError as e:
            # a misspelled name starts a new, incomplete table: say so rather than
            # only report what the new table lacks
            for path, siblings in created.items():
                if e.path.startswith(path + ".") and ": is required" in str(e):
                    table, name = path.split(".", 1)
                    raise invalid(
                        path,
                        f"{name!r} is not {_TABLE_ENTRY[table]} of this world ({table}: "
                        f"{', '.join(siblings) or 'none'}); a new one needs more ({e})",
                    ) from e
            if e.path in kwargs and "_" in e.path and "." not in e.path and "unknown key" in str(e):
                # a keyword written with single underscores for dots
                raise invalid(e.path, f"{str(e).split(': ', 1)[-1]}; keywords use '__' for dots, e.g. "
                                      "scenarios__bear__probability=0.3") from e
            hint = keyword_hint(e.path) if "unknown key" in str(e) else ""
            if hint:
                raise invalid(e.path, str(e).split(": ", 1)[-1] + hint) from e
            raise

    def _changed(self, config: Mapping[str, Any]) -> World:
        """The world of ``config``, a change of this one: its config warnings that this
        world does not give already (said when it was made)."""
        new = World._quiet(_core.CoreWorld.from_dict(_config_tree(config, "")))
        said = _config_warnings(self._core.to_dict())
        for message in _config_warnings(new._core.to_dict()):
            if message not in said:
                warn(message)
        return new

    def calibrated(
        self,
        levels: Any = None,
        asset_returns: Any = None,
        factor_returns: Any = None,
        **kwargs: Any,
    ) -> CalibratedWorld:
        """A copy whose factor and asset parameters are estimated from history.

        Delegates to :func:`geoscenario.calibrate.calibrate_world`: ``levels`` (a
        level Series) sets the base scenario's ``potash_spot.{theta, kappa, sigma,
        lambda, mu_j, sigma_j}`` by maximum likelihood on the exact transition
        density (:func:`geoscenario.calibrate.log_ou`; by default with jumps, a
        penalised MLE, and κ and the long-run mean of ln X from the AR(1) fit, kept
        if they beat the pure diffusion by a likelihood-ratio test at 5%:
        ``jumps=True`` keeps them, ``jumps=False`` fits the diffusion); ``asset_returns`` with
        ``factor_returns`` (columns named after the world's assets and factors) set
        ``assets.<asset>.betas`` and ``vol`` by OLS. Keyword arguments are passed
        on: ``factor`` (the factor the levels calibrate, default ``"potash_spot"``:
        any ``log_ou``, ``logit_ou`` or ``gbm`` factor of a world of your own, a
        ``gbm`` one by :func:`geoscenario.calibrate.gbm`), ``scenario``, ``jumps``,
        ``mean_reversion``, ``newey_west``, ... and ``potash``, the former name of
        ``levels``. Only the calibrated scenario changes (and those that take its
        values): a warning says so when its fitted level (θ, or a gbm's g) crosses one
        another scenario sets for itself, which reverses their order.

        Parameters
        ----------
        levels
            Levels of the factor ``factor`` (default the potash spot), a pandas Series
            on a ``DatetimeIndex`` (e.g. :func:`geoscenario.data.potash_monthly`), or
            None to keep its parameters.
        asset_returns, factor_returns
            DataFrames of returns on a ``DatetimeIndex``, columns named after the world's
            assets and factors, or None to keep the assets' parameters. Every beta is
            refitted: a beta on a factor that ``factor_returns`` leaves out becomes 0.
        **kwargs
            Passed on to :func:`geoscenario.calibrate.calibrate_world`.

        Returns
        -------
        CalibratedWorld
            Unpacks as ``(world, changes)``: the new world and a DataFrame indexed
            by parameter path with columns ``old``, ``new``, ``std_err``, ``source``;
            ``.fits`` holds the underlying :class:`CalibrationResult` objects.

        Examples
        --------
        >>> import geoscenario as gs
        >>> world, changes = gs.World.default().calibrated(gs.data.potash_monthly("2010-01", "2025-01"))
        >>> round(world.to_dict()["scenarios"]["base"]["potash_spot"]["kappa"], 2)
        0.39
        >>> changes.columns.tolist()
        ['old', 'new', 'std_err', 'source']
        """
        import inspect

        from .calibrate import calibrate_world

        known = inspect.signature(calibrate_world).parameters
        for key in kwargs:
            if key not in known:
                fittable = self.kinds.get(key) in ("log_ou", "logit_ou", "gbm")
                hint = (f"; to calibrate the factor {key!r}, pass its levels with factor={key!r}: "
                        f"calibrated(levels, factor={key!r})" if fittable else "")
                raise TypeError(f"World.calibrated() got an unexpected keyword argument {key!r}{hint}")
        return calibrate_world(self, levels, asset_returns, factor_returns, **kwargs)

    def _matrix_changes(self, matrix: pd.DataFrame) -> dict[str, dict[str, Any]]:
        """``with_params``'s changes for a correlation matrix: each pair of its factors set,
        a zero pair removed where the world sets it, and a row, empty or not, for each of
        its factors (so that a name the world lacks is refused)."""
        stored = self.to_dict().get("correlations", {})
        out: dict[str, dict[str, Any]] = {}
        for a, row in _correlation_pairs(matrix, "correlations", zeros=True).items():
            out[a] = {b: x if x != 0.0 else None for b, x in row.items()
                      if x != 0.0 or b in stored.get(a, {}) or a in stored.get(b, {})}
        return out

    def with_strategies(self, *strategies: Strategy, replace: bool = False) -> World:
        """A copy with strategies added (or, with ``replace=True``, only these).

        A strategy with the name of one the world has replaces it, in its place. The
        ``[thresholds]`` of the strategies ``replace=True`` removes go with them.

        Parameters
        ----------
        *strategies
            :class:`Strategy` objects on the world's assets, each name given once.
        replace
            ``True``: the world keeps only these strategies.

        Returns
        -------
        World

        Examples
        --------
        >>> import geoscenario as gs
        >>> w = gs.World.default().with_strategies(
        ...     gs.Strategy("long_fert", {"fertilizer_producers": 1.0}), replace=True)
        >>> list(w.strategies)
        ['long_fert']
        >>> w2 = gs.World.default().with_strategies(gs.Strategy("direct_belarus", {"belarus_eurobond": 1.0}))
        >>> len(w2.strategies), w2.strategies["direct_belarus"].weights
        (4, {'belarus_eurobond': 1.0})
        """
        d = copy.deepcopy(self.to_dict())
        table = {} if _validate.flag("replace", replace) else dict(d.get("strategies", {}))
        given: set[str] = set()
        for s in strategies:
            if not isinstance(s, Strategy):
                raise invalid("strategies", f"expected gs.Strategy objects, got {type(s).__name__}")
            if s.name in given:
                raise invalid(f"strategies.{s.name}", "is given twice")
            given.add(s.name)
            table[s.name] = s.to_dict()
        if table:
            d["strategies"] = table
        else:
            d.pop("strategies", None)
        # the thresholds of strategies replaced away go with them
        gone = set(self.strategies) - set(table)
        kept = {k: v for k, v in d.get("thresholds", {}).items() if k not in gone}
        if kept:
            d["thresholds"] = kept
        else:
            d.pop("thresholds", None)
        return self._changed(d)

    @property
    def strategies(self) -> dict[str, Strategy]:
        """The world's strategies, by name.

        Returns
        -------
        dict of str to Strategy
            In config order; each strategy's NAV is also a simulated series.

        Examples
        --------
        >>> import geoscenario as gs
        >>> strategies = gs.World.default().strategies
        >>> list(strategies)
        ['commodities_arbitrage', 'infrastructure_beneficiaries', 'technology_transfer', 'direct_belarus']
        >>> strategies["commodities_arbitrage"].weights
        {'fertilizer_producers': 1.0, 'global_equity': -1.2}
        """
        tables = self.to_dict().get("strategies", {})  # the descriptions
        return {
            name: Strategy(name, dict(weights), cost_bps, tables.get(name, {}).get("description", ""))
            for name, weights, cost_bps in self._core.strategies
        }

    @property
    def assets(self) -> list[str]:
        """Names of the tradable assets strategies can hold.

        Returns
        -------
        list of str
            In config order.

        Examples
        --------
        >>> import geoscenario as gs
        >>> gs.World.default().assets
        ['fertilizer_producers', 'kazakh_logistics', 'hk_heavy_equipment', 'global_equity', 'hk_equity', 'belarus_eurobond']
        """
        return list(self._core.assets)

    @property
    def name(self) -> str:
        """The world's name (``[world] name`` in the config).

        Returns
        -------
        str

        Examples
        --------
        >>> import geoscenario as gs
        >>> gs.World.default().name
        'belarus_china_2025'
        """
        return self._core.name

    @property
    def description(self) -> str:
        """The world's description (``[world] description``; empty if none).

        Returns
        -------
        str

        Examples
        --------
        >>> import geoscenario as gs
        >>> gs.World.default().description[:30]
        'China–Belarus partnership 2025'
        """
        return str(self._world_table().get("description", ""))

    @property
    def start(self) -> pd.Timestamp:
        """The calendar month of t = 0 (``[world] start``), as the first day of that month.

        Returns
        -------
        pandas.Timestamp
            Equal to ``simulate(...).months[0]``.

        Examples
        --------
        >>> import geoscenario as gs
        >>> gs.World.default().start
        Timestamp('2025-06-01 00:00:00')
        """
        return pd.Timestamp(str(self._world_table()["start"]) + "-01")

    @property
    def base_scenario(self) -> str:
        """The scenario every other one inherits parameters from (``[world] base_scenario``).

        Returns
        -------
        str

        Examples
        --------
        >>> import geoscenario as gs
        >>> gs.World.default().base_scenario
        'base'
        """
        return self.scenario_names[self._core.base_scenario]

    @property
    def regimes(self) -> str:
        """How paths move between scenarios: ``"static"`` or ``"markov"`` (``[world] regimes``).

        Returns
        -------
        str

        Examples
        --------
        >>> import geoscenario as gs
        >>> gs.World.default().regimes
        'static'
        """
        return str(self._world_table().get("regimes", "static"))

    @property
    def correlations(self) -> pd.DataFrame:
        """The correlation matrix of the diffusion shocks (``[correlations]``).

        Returns
        -------
        pandas.DataFrame
            Symmetric, indexed and columned by the factors that take a diffusion shock
            (kinds ``log_ou``, ``logit_ou`` and ``gbm``) in config order; ones on the
            diagonal and 0 for the pairs the config does not give.

        Examples
        --------
        >>> import numpy as np
        >>> import geoscenario as gs
        >>> r = gs.World.default().correlations
        >>> r.shape, float(r.loc["global_equity", "hk_equity"]), float(r.loc["hk_equity", "global_equity"])
        ((8, 8), 0.6, 0.6)
        >>> float(r.loc["potash_spot", "hk_equity"])
        0.0
        >>> bool((np.linalg.eigvalsh(r) >= -1e-10).all())  # positive semi-definite
        True
        """
        names = [name for name, kind in self.kinds.items() if kind in _SHOCKED_KINDS]
        at = {name: i for i, name in enumerate(names)}
        r = np.eye(len(names))
        for a, row in self.to_dict().get("correlations", {}).items():
            for b, rho in row.items():
                r[at[a], at[b]] = r[at[b], at[a]] = float(rho)
        return pd.DataFrame(r, index=pd.Index(names, name="factor"), columns=names)

    @property
    def transitions(self) -> pd.DataFrame | None:
        """The monthly regime transition matrix of a Markov world (``[transitions]``).

        Returns
        -------
        pandas.DataFrame or None
            P(regime at t + 1 = column | regime at t = row), rows and columns the
            scenarios in config order, each row summing to 1; ``None`` for a static world.

        Examples
        --------
        >>> import geoscenario as gs
        >>> gs.World.default().transitions is None
        True
        >>> markov = gs.World.default().with_params({
        ...     "world.regimes": "markov",
        ...     "transitions.base": {"base": 0.9, "bear": 0.1},
        ...     "transitions.bull": {"bull": 1.0},
        ...     "transitions.bear": {"bear": 0.5, "base": 0.5},
        ...     "scenarios.bull.onset": None,  # Markov regimes have no onset
        ...     "scenarios.bear.onset": None,
        ... })
        >>> markov.transitions.loc["base"].tolist()
        [0.9, 0.0, 0.1]
        """
        if self.regimes != "markov":
            return None
        names = self.scenario_names
        matrix = pd.DataFrame(
            np.zeros((len(names), len(names))),
            index=pd.Index(names, name="from"),
            columns=pd.Index(names, name="to"),
        )
        for a, row in self.to_dict().get("transitions", {}).items():
            for b, p in row.items():
                matrix.loc[a, b] = float(p)
        return matrix

    def _world_table(self) -> dict[str, Any]:
        return dict(self._core.to_dict()["world"])

    @property
    def horizon_months(self) -> int:
        """Default horizon of :meth:`simulate`, in months.

        Returns
        -------
        int

        Examples
        --------
        >>> import geoscenario as gs
        >>> world = gs.World.default()
        >>> world.horizon_months
        24
        >>> world.simulate(100, seed=0).paths("potash_spot").shape[1] == world.horizon_months + 1
        True
        """
        return self._core.horizon_months

    @property
    def scenario_names(self) -> list[str]:
        """Scenario names in config order.

        Returns
        -------
        list of str

        Examples
        --------
        >>> import geoscenario as gs
        >>> gs.World.default().scenario_names
        ['base', 'bull', 'bear']
        """
        return list(self._core.scenario_names)

    @property
    def probabilities(self) -> dict[str, float]:
        """Prior probability of each scenario.

        Returns
        -------
        dict of str to float
            By scenario, in config order; the values sum to one.

        Examples
        --------
        >>> import geoscenario as gs
        >>> gs.World.default().probabilities
        {'base': 0.55, 'bull': 0.25, 'bear': 0.2}
        """
        return dict(zip(self._core.scenario_names, self._core.probabilities))

    @property
    def factors(self) -> dict[str, str]:
        """Unit of every simulated factor (the ``[factors]`` of the config), by name.

        Returns
        -------
        dict of str to str
            In config order; derived series and strategy NAVs are in :attr:`units`.

        Examples
        --------
        >>> import geoscenario as gs
        >>> factors = gs.World.default().factors
        >>> len(factors), factors["potash_spot"], "direct_belarus" in factors
        (11, 'USD/t', False)
        """
        return {name: unit for name, unit, _ in self._core.factors}

    @property
    def units(self) -> dict[str, str]:
        """Unit of every simulated series (factors, derived series, strategy NAVs), by name.

        Returns
        -------
        dict of str to str
            Factors first, then derived series, then strategies (unit ``"NAV"``): the
            names :meth:`Simulation.paths` accepts.

        Examples
        --------
        >>> import geoscenario as gs
        >>> units = gs.World.default().units
        >>> len(units), units["potash_spot"], units["dislocation"], units["direct_belarus"]
        (17, 'USD/t', 'USD/t', 'NAV')
        """
        out = {name: unit for name, unit, _ in self._core.factors}
        out.update({name: unit for name, unit, _ in self._core.derived})
        out.update({name: "NAV" for name, _, _ in self._core.strategies})
        return out

    @property
    def thresholds(self) -> dict[str, float]:
        """The config's ``[thresholds]``: the levels whose exceedance probability
        P(X > level) every summary reports unless given ``thresholds=`` (series → level,
        in the series' unit; docs/CONFIG.md §2.10).

        Returns
        -------
        dict of str to float
            Empty when the world declares none.

        Examples
        --------
        >>> import geoscenario as gs
        >>> gs.World.default().thresholds
        {'potash_spot': 450.0}
        >>> gs.World.default().with_params({"thresholds.potash_spot": 500}).thresholds
        {'potash_spot': 500.0}
        """
        return dict(self._core.to_dict().get("thresholds", {}))

    @property
    def kinds(self) -> dict[str, str]:
        """Dynamics of every series (``log_ou``, ``gbm``, ``contract``, ``spread``, ...), by name.

        Returns
        -------
        dict of str to str
            The same keys as :attr:`units`; strategies have kind ``"strategy"``.

        Examples
        --------
        >>> import geoscenario as gs
        >>> kinds = gs.World.default().kinds
        >>> kinds["potash_spot"], kinds["dislocation"], kinds["direct_belarus"]
        ('log_ou', 'spread', 'strategy')
        >>> list(kinds) == list(gs.World.default().units)
        True
        """
        out = {name: kind for name, _, kind in self._core.factors}
        out.update({name: kind for name, _, kind in self._core.derived})
        out.update({name: "strategy" for name, _, _ in self._core.strategies})
        return out

    def parameters(self) -> pd.DataFrame:
        """The per-scenario factor parameters in force, with where each comes from.

        A scenario that does not set a parameter inherits the base scenario's value,
        and a parameter nobody sets takes its kind's default (``lambda = 0``: no
        jumps); :meth:`to_dict` and :meth:`to_toml` show only what was written.
        Rates are per year and volatilities per square root of a year, except the
        ``completion`` kind's ``h`` (per month); ``docs/CONFIG.md`` has every unit.

        Returns
        -------
        pandas.DataFrame
            Indexed by (``scenario``, ``factor``, ``parameter``) in config order, with
            columns ``value`` (float64) and ``source``: ``"given"`` (set by that
            scenario), ``"base"`` (inherited from the base scenario) or
            ``"default"``. ``.loc[(scenario, factor)]`` gives one factor's parameters;
            ``["value"].unstack("scenario")`` a parameter-by-scenario table.

        Examples
        --------
        >>> import geoscenario as gs
        >>> p = gs.World.default().parameters()
        >>> p.loc[("bear", "potash_spot", "onset_jump")].to_dict()
        {'value': 0.25, 'source': 'given'}
        >>> p.loc[("base", "potash_spot", "onset_jump")].to_dict()
        {'value': 0.0, 'source': 'default'}
        >>> p.xs(("potash_spot", "theta"), level=("factor", "parameter"))["value"].tolist()
        [352.0, 330.0, 480.0]
        >>> p.loc[("bear", "potash_spot"), "value"].head(3).to_dict()
        {'theta': 480.0, 'kappa': 0.6, 'sigma': 0.4}
        """
        rows = self._core.parameters()
        # levels in config order, coded so that the index is lexsorted (fast
        # partial-key lookups without a PerformanceWarning, and unstack keeps the order)
        levels = [self.scenario_names, [n for n, _, _ in self._core.factors], _PARAMETER_ORDER]
        positions = [{name: i for i, name in enumerate(lv)} for lv in levels]
        codes = [[pos[str(r[i])] for r in rows] for i, pos in enumerate(positions)]
        index = pd.MultiIndex(levels=levels, codes=codes, names=["scenario", "factor", "parameter"])
        return pd.DataFrame(
            {
                "value": np.array([r[3] for r in rows], dtype=np.float64),
                "source": [r[4] for r in rows],
            },
            index=index,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, World) and self.to_toml() == other.to_toml()

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        # pickled (and deep-copied) as its TOML, which rebuilds an equal world
        return _world_from_toml_text, (self.to_toml(),)

    def __hash__(self) -> int:
        return hash(self.to_toml())

    def __repr__(self) -> str:
        scen = ", ".join(f"{k} {percent(p)}" for k, p in self.probabilities.items())
        # (Markov regimes: the probabilities are those of the first month's regime)
        scen = f"Markov regimes, starting {scen}" if self.regimes == "markov" else f"scenarios {scen}"
        return (
            f"World({self.name!r}: {count(len(self._core.factors), 'factor')}, "
            f"{len(self._core.derived)} derived series, {count(len(self._core.strategies), 'strategy', 'strategies')}; "
            f"{scen})"
        )

    def _repr_html_(self) -> str:
        """In a notebook: the repr line, the series (kind, unit, initial level), the
        parameters in force by scenario (as :meth:`parameters` gives them), a Markov
        world's transition matrix and the strategies."""
        d = self.to_dict()
        spec = {**d["factors"], **d.get("derived", {})}
        series = pd.DataFrame(
            {"kind": [spec[n]["kind"] for n in spec],
             "unit": [self.units[n] for n in spec],
             "initial": [spec[n].get("initial", np.nan) for n in spec]},
            index=pd.Index(list(spec), name="series"))
        p = self.parameters()["value"]
        by_scenario = p.unstack("scenario").reindex(
            index=p.droplevel("scenario").index.unique(), columns=list(self.probabilities))
        strategies = pd.DataFrame({"strategy": [repr(s) for s in self.strategies.values()]},
                                  index=pd.Index(list(self.strategies), name="name"))
        start = pd.Timestamp(self.start).strftime("%Y-%m")
        markov = [] if self.transitions is None else [("monthly regime transitions (from row to column)",
                                                        self.transitions)]
        return table_html(repr(self), [("series", series), ("parameters by scenario", by_scenario), *markov,
                                       ("strategies", strategies)],
                          [f"starts {start}, horizon {count(self.horizon_months, 'month')}"])

    # ------------------------------------------------------------------ simulation
    def simulate(
        self,
        n_paths: int = 100_000,
        horizon_months: int | None = None,
        seed: int = 0,
        antithetic: bool = False,
        threads: int | None = None,
        *,
        chunk_paths: int | None = None,
        progress: bool | str = "auto",
        qmc: bool = False,
    ) -> Simulation:
        """Simulate ``n_paths`` monthly paths of every series.

        Parameters
        ----------
        n_paths
            Number of paths; scenarios get stratified shares of them (MODEL.md §2).
        horizon_months
            Months to simulate (default: the world's ``horizon_months``); arrays
            have ``horizon_months + 1`` columns, column 0 the initial state.
        seed
            Any integer in [0, 2**64). Same seed, same bits, whatever ``threads``.
        antithetic
            Simulate antithetic pairs (``n_paths`` must then be even).
        threads
            Worker threads (default: all cores).
        chunk_paths
            Paths per parallel work item; changes speed, never results.
        progress
            ``"auto"`` shows a progress bar for runs longer than a second.
        qmc
            Quasi-Monte Carlo: the diffusion shocks of path i come from the i-th point of a
            scrambled (Owen) Sobol sequence keyed by ``seed``, through a Brownian bridge over
            the months; errors of smooth statistics fall faster than N^(−1/2). Jumps, onsets
            and noise stay pseudo-random. Use a power of two for ``n_paths`` (the points
            balance in blocks of 2^m); with many dimensions (horizon × shocks per month in
            the thousands) and few points, a single run can show spurious correlation
            between some pairs of months: give it at least a few thousand paths. Beyond
            about 1,000 dimensions a few months stay worse than plain Monte Carlo on
            month-to-month statistics even then (unbiased, but noisier; see the README).

        Returns
        -------
        Simulation

        Notes
        -----
        When the arrays of a simulation are no longer referenced, their memory is
        kept for 2 seconds and given to the next simulation of the same size, which
        overwrites it: repeated runs skip the cost of new memory, and results are
        the same bits either way.

        Examples
        --------
        >>> import geoscenario as gs
        >>> sim = gs.World.default().simulate(2_000, seed=1)
        >>> sim.paths("potash_spot").shape
        (2000, 25)
        """
        from .simulation import Simulation

        n, h, s, anti = _validate.run_args(self.horizon_months, n_paths, horizon_months, seed, antithetic)
        thr = None if threads is None else _validate.integer("threads", threads, 1, 1024)
        chunk = (
            int(_core.DEFAULT_CHUNK)
            if chunk_paths is None
            else _validate.integer("chunk_paths", chunk_paths, 1, 1 << 24)
        )
        t0 = time.perf_counter()
        q = _validate.flag("qmc", qmc)
        with _progress.guard(_progress.display(progress)) as cb:
            raw = self._core.simulate(n, h, s, anti, thr, chunk, 0, n, cb, q)
        # the run's warnings once it has passed every check (none for a refused run)
        _validate.late_onsets(self, h)
        _validate.qmc_paths(q, n)
        elapsed = time.perf_counter() - t0
        out = Simulation._from_raw(self, raw, n_paths=n, horizon=h, seed=s, antithetic=anti, elapsed=elapsed)
        out.__dict__["qmc"] = q
        # a strategy's NAV stops at 0: the paths that lost everything by the horizon
        _validate.ruined({name: ruin_probability(out.paths(name)[:, -1], out.weights) for name in self.strategies},
                         self._core.month_labels(h)[h])
        return out


    def simulate_summary(
        self,
        n_paths: int,
        horizon_months: int | None = None,
        seed: int = 0,
        antithetic: bool = False,
        threads: int | None = None,
        *,
        series: str | Sequence[str] | None = None,
        month: int | str | None = None,
        quantiles: Sequence[float] = QUANTILES,
        thresholds: Mapping[str, float] | None = None,
        alpha: float | None = 0.95,
        chunk_paths: int | None = None,
        progress: bool | str = "auto",
        qmc: bool = False,
        mixes: Mapping[str, Any] | None = None,
        replicates: int | None = None,
    ) -> SummaryResult:
        """The report's statistics without keeping any path (bounded memory).

        Runs two passes over the paths: moments, counts, and each quantile's
        bin on a grid laid over a 4,096-path pilot; then the values in those
        bins, which pin each quantile down to its exact sample value (bins
        expected to hold more than 2**22, about 4.2M, distinct values in all
        are first cut finer by another pass, a bin that holds a VaR by its own
        values alone; a value the pilot saw repeated, such as a count's integer
        or a ruined NAV's 0, counts once). Each pass re-simulates from the
        counter-based streams, so memory does not grow with ``n_paths``. The
        result has the same bits as ``simulate(...).summary()`` over the same
        paths, and its ``risk`` as ``risk_table()``, whatever other series either
        summarises.

        Parameters
        ----------
        n_paths, horizon_months, seed, antithetic, threads, chunk_paths, progress, qmc
            As in :meth:`simulate`: the paths summarised are those ``simulate`` would
            return with the same arguments.
        series
            Series to summarise (default: all, strategies included).
        month
            Month index, label ``"YYYY-MM"`` or date, as in :meth:`Simulation.summary`
            (default: the horizon).
        quantiles, thresholds
            As in :meth:`Simulation.summary`.
        alpha
            VaR/CVaR level of the strategies' risk table (``None``: none, ``risk`` empty): the
            rows, every column included (tail shares and mean maximum drawdowns too), have
            the bits of ``simulate(...).risk_table(alpha, month=month)`` for the strategies
            among ``series``.
        mixes
            ``{name: weights}``: buy-and-hold mixes of strategies whose rows the risk table
            adds, as in :meth:`Simulation.risk_table` (``series=[]``: the mixes' rows
            alone). Like the strategies' rows, they are taken at ``month``, with the bits
            of ``simulate(...).risk_table(alpha, mixes=..., month=month)``. Each is
            three more quantities to count on the first pass's grid: from about 1.6M
            paths up, some 15 MB per mix per thread (40 mixes on 2M paths, 2 threads:
            677 MB at peak against 101 MB for one); past the memory available the call
            raises ``ResourceError`` before it starts.
        replicates
            With ``qmc=True``: run R = ``replicates`` independent scrambles of ``n_paths / R``
            points each (replicate i keyed by :func:`~geoscenario.summary.replicate_seed`
            ``(seed, i)``) and pool them, so that the quasi-Monte Carlo estimates get
            standard errors, which one scramble cannot give (randomised QMC, L'Ecuyer &
            Lemieux 2000). Every column is the replicates' average (quantiles, VaR and
            CVaR too: the replicate-averaged quantile estimator); ``mean_se``, ``p_above_se``,
            ``mean_return_se``, ``var_se``, ``cvar_se`` and ``p_loss_se`` are the replicates'
            standard deviation over sqrt(R); ``std`` is the square root of the replicates'
            average variance plus the variance of their means. ``n_paths`` must be R times a power of two
            for the points to balance; 8 to 32 replicates are usual. The replicates
            themselves are in the result's ``replicates``.

        Returns
        -------
        SummaryResult

        Examples
        --------
        >>> import geoscenario as gs
        >>> res = gs.World.default().simulate_summary(5_000, seed=1, series=["potash_spot", "direct_belarus"])
        >>> sorted(res.table.index.get_level_values("scenario").unique())
        ['all', 'base', 'bear', 'bull']

        Quasi-Monte Carlo with error bars, from 8 scrambles of 1,024 points:

        >>> res = gs.World.default().simulate_summary(8_192, seed=1, series="potash_spot", qmc=True,
        ...                                           replicates=8, alpha=None)
        >>> res
        SummaryResult(8,192 paths in 8 QMC replicates at 2027-06: 1 series, no risk table, ...)
        >>> bool(res.table.loc[("potash_spot", "all"), "mean_se"] > 0)
        True
        """
        from .summary import simulate_summary

        return simulate_summary(
            self, n_paths, horizon_months, seed, antithetic, threads,
            series=series, month=month, quantiles=quantiles, thresholds=thresholds,
            alpha=alpha, chunk_paths=chunk_paths, progress=progress, qmc=qmc, mixes=mixes,
            replicates=replicates,
        )


def _world_from_toml_text(text: str) -> World:
    """The world written by :meth:`World.to_toml` (unpickling, copying: its warnings were
    given when it was made)."""
    return World._quiet(_core.CoreWorld.from_toml(text))


#: How many times a log-OU factor's long-run level θ may differ from its initial level (a
#: contract's initial price from its underlying's, below) before a world warns of a level
#: written in another unit: cents for dollars, a percent for a fraction, thousands.
UNIT_RATIO = 30.0


def _config_warnings(d: Mapping[str, Any]) -> list[str]:
    """What a world's config (as :meth:`World.to_dict`) sets that has no effect, or that
    reads as a level in another unit than its factor's."""
    out = []
    factors = d["factors"]
    base = d["scenarios"][d["world"].get("base_scenario", next(iter(d["scenarios"])))]
    for name, f in factors.items():
        if f["kind"] == "log_ou":
            # (θ has no effect where κ is 0: it may be any placeholder there)
            far = [f"{s} {spec[name]['theta']:g}" for s, spec in d["scenarios"].items()
                   if "theta" in spec.get(name, {})
                   and spec[name].get("kappa", base[name].get("kappa", 0.0)) > 0
                   and not 1 / UNIT_RATIO <= spec[name]["theta"] / f["initial"] <= UNIT_RATIO]
            if far:
                out.append(
                    f"factor {name}: the long-run level theta ({', '.join(far)}) differs from the "
                    f"initial level {f['initial']:g} by a factor of more than {UNIT_RATIO:g}: both are levels "
                    f"in the factor's unit ({f['unit'] or 'none given'}); is one in another unit (cents "
                    "for dollars, a percent for a fraction)?"
                )
        elif f["kind"] == "contract":
            spot = factors[f["underlying"]]
            # a reset sets (1 − d) times the spot's trailing mean, d in [−1, 1): at most twice it
            ratio = f["initial"] / spot["initial"]
            if not 1 / UNIT_RATIO <= ratio <= 3.0:
                out.append(
                    f"factor {name}: the initial contract price {f['initial']:g} is {ratio:.3g} times "
                    f"its underlying {f['underlying']}'s initial level {spot['initial']:g}"
                    + (", while a reset sets at most twice the underlying's mean" if ratio > 1 else "")
                    + ": is one in another unit?"
                )
    if "freeze" not in d:
        exposed = [a for a, spec in d.get("assets", {}).items() if spec.get("sanctions_exposure", 0.0) > 0]
        if exposed:
            out.append(
                f"assets {', '.join(exposed)} have a sanctions_exposure, which has no effect: "
                "the world has no [freeze] table naming the scenario whose onset freezes "
                "sanctioned commerce (docs/CONFIG.md §5.2)"
            )
    if d["world"].get("regimes", "static") == "markov":
        timed = [name for name, spec in d["scenarios"].items() if "onset" in spec]
        if timed:
            out.append(
                f"scenarios {', '.join(timed)} have an onset, which has no effect with "
                "regimes = \"markov\": paths enter a regime by the [transitions] matrix "
                "(docs/CONFIG.md §3.4); remove them with with_params({"
                + ", ".join(f"'scenarios.{name}.onset': None" for name in timed) + "})"
            )
    return out


from .calibrate import CalibratedWorld  # noqa: E402  (type reference for annotations)
from .simulation import Simulation  # noqa: E402  (type reference for annotations)

