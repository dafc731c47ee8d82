"""Every public function, class, method and property has a numpydoc example that runs,
and documents every parameter.

The rules: each public object has a docstring with an ``Examples`` section whose
``>>>`` examples pytest runs as a doctest (``--doctest-modules`` over
``python/geoscenario``), and a ``Parameters`` section naming every parameter of its
signature. The doctests themselves run there; this module checks that none is
missing, so adding an undocumented public API or parameter fails the suite.

Public means: the names in ``geoscenario.__all__`` and in the ``__all__`` of the
modules ``stats``, ``calibrate``, ``backtest``, ``data``, ``distributed`` and
``plot``, and, for every public class, the methods, class/static methods and
properties it (or a geoscenario base class) defines whose names do not start
with an underscore. Constants (``PARAMS``, ``SCENARIO_COLORS``, ...) are not
callables and need no example.
"""

from __future__ import annotations

import doctest
import functools
import importlib
import inspect
import re
import sys
import types
from typing import Any

import pytest

import geoscenario as gs

#: modules whose public callables are checked, besides ``geoscenario`` itself
MODULES = (
    "geoscenario.stats",
    "geoscenario.calibrate",
    "geoscenario.backtest",  # the module: ``gs.backtest`` is the function
    "geoscenario.data",
    "geoscenario.distributed",
    "geoscenario.plot",
)

_EXAMPLES = re.compile(r"^Examples\n-{8,}$", re.MULTILINE)
_PARSER = doctest.DocTestParser()


# ---------------------------------------------------------------------------- the walk
def _public_names(module: types.ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:  # no __all__: what the module defines without a leading underscore
        names = [
            n for n, v in vars(module).items()
            if not n.startswith("_") and getattr(v, "__module__", None) == module.__name__
        ]
    return list(names)


def _unwrap(raw: Any) -> Any | None:
    """The function behind a class attribute, or None if it is not a method or property."""
    if isinstance(raw, (staticmethod, classmethod)):
        return raw.__func__
    if isinstance(raw, property):
        return raw
    if inspect.isfunction(raw):
        return raw
    return None


def _add_class(cls: type, out: dict[str, tuple[str, Any]], package: str) -> None:
    """The class and the public methods/properties of it and of its bases in ``package``."""
    out.setdefault(f"{cls.__module__}.{cls.__qualname__}", (cls.__module__, cls))
    for klass in cls.__mro__:
        if not klass.__module__.split(".")[0] == package:
            continue  # object, Exception, ValueError, ...: not ours to document
        for attr, raw in vars(klass).items():
            if attr.startswith("_"):
                continue
            member = _unwrap(raw)
            if member is None:
                continue  # dataclass defaults, annotations, constants
            # doctest finds a member under the class that defines it
            key = f"{klass.__module__}.{klass.__qualname__}.{attr}"
            out.setdefault(key, (klass.__module__, member))


def walk(namespaces: list[types.ModuleType], package: str = "geoscenario") -> dict[str, tuple[str, Any]]:
    """``{qualified name: (defining module, object)}`` of every public callable and member."""
    out: dict[str, tuple[str, Any]] = {}
    for module in namespaces:
        for name in _public_names(module):
            obj = getattr(module, name)
            if inspect.ismodule(obj):
                continue  # submodules are walked on their own
            if inspect.isclass(obj):
                _add_class(obj, out, package)
            elif callable(obj):
                out.setdefault(f"{obj.__module__}.{obj.__qualname__}", (obj.__module__, obj))
    return out


def docstring_problem(doc: str | None) -> str | None:
    """Why ``doc`` does not satisfy the rule, or None if it does."""
    if not doc or not doc.strip():
        return "no docstring"
    text = inspect.cleandoc(doc)
    if not _EXAMPLES.search(text):
        return "no numpydoc 'Examples' section (a line 'Examples' underlined with dashes)"
    examples = _PARSER.get_examples(text)
    if not examples:
        return "the Examples section has no '>>>' example"
    if all(ex.options.get(doctest.SKIP) for ex in examples):
        return "every example is marked '# doctest: +SKIP': nothing runs"
    return None


@functools.cache
def _collected(module_name: str) -> dict[str, doctest.DocTest]:
    """The doctests ``--doctest-modules`` collects from a module, by name."""
    module = importlib.import_module(module_name)
    return {t.name: t for t in doctest.DocTestFinder().find(module, module_name)}


def _api() -> dict[str, tuple[str, Any]]:
    modules = [gs, *(importlib.import_module(m) for m in MODULES)]
    return walk(modules)


API = _api()


# ---------------------------------------------------------------------------- the rule
@pytest.mark.parametrize("name", sorted(API))
def test_public_api_has_a_runnable_example(name):
    module, obj = API[name]
    problem = docstring_problem(obj.__doc__)
    # the file in the message: which copy of geoscenario was imported, and where to fix it
    assert problem is None, f"{name}: {problem} ({inspect.getsourcefile(sys.modules[module])})"
    # and pytest's doctest collection finds it (a Python module under python/geoscenario,
    # not a compiled extension, and found under this name)
    tests = _collected(module)
    assert name in tests, f"{name}: its docstring is not collected as a doctest from {module}"
    assert tests[name].examples, f"{name}: the collected doctest has no examples"


_SECTION = re.compile(r"^(?:Parameters|Other Parameters)\n-{3,}\n(.*?)(?=^\S[^\n]*\n-{3,}\n|\Z)", re.M | re.S)


def documented_parameters(doc: str | None) -> set[str]:
    """The names a numpydoc ``Parameters`` section lists (``a, b : type`` lines too)."""
    names: set[str] = set()
    for body in _SECTION.findall(inspect.cleandoc(doc or "")):
        for line in body.splitlines():
            if line and not line[0].isspace():
                names.update(n.strip().lstrip("*") for n in line.split(" : ")[0].split(","))
    return names


def undocumented_parameters(obj: Any) -> list[str]:
    """Parameters of ``obj``'s signature missing from its docstring's Parameters section.

    ``*args`` and ``**kwargs`` need not be listed. Result classes, which the package
    builds and which document their ``Attributes`` instead, have none to document, nor
    do properties and exceptions."""
    if isinstance(obj, property) or (inspect.isclass(obj) and issubclass(obj, BaseException)):
        return []
    if inspect.isclass(obj) and re.search(r"^Attributes\n-{3,}$", inspect.cleandoc(obj.__doc__ or ""), re.M):
        return []
    try:
        params = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):  # no signature to read (a builtin)
        return []
    named = documented_parameters(obj.__doc__)
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [p.name for p in params if p.name not in ("self", "cls") and p.kind not in variadic and p.name not in named]


@pytest.mark.parametrize("name", sorted(API))
def test_public_api_documents_every_parameter(name):
    _, obj = API[name]
    missing = undocumented_parameters(obj)
    assert not missing, f"{name}: the Parameters section lacks {', '.join(missing)}"


def undocumented_return(obj: Any) -> bool:
    """Whether ``obj`` is annotated to return something but has no Returns (or Yields) section."""
    if isinstance(obj, property) or inspect.isclass(obj):
        return False  # a property's docstring says what it is; a class is its own result
    try:
        ret = inspect.signature(obj).return_annotation
    except (TypeError, ValueError):
        return False
    if ret in (None, "None", inspect.Signature.empty):
        return False
    return not re.search(r"^(?:Returns|Yields)\n-{3,}$", inspect.cleandoc(obj.__doc__ or ""), re.M)


@pytest.mark.parametrize("name", sorted(API))
def test_public_api_documents_what_it_returns(name):
    _, obj = API[name]
    assert not undocumented_return(obj), f"{name}: returns a value but has no Returns section"


@pytest.mark.parametrize("name", ["geoscenario", *MODULES])
def test_public_modules_have_a_runnable_example(name):
    module = importlib.import_module(name)
    problem = docstring_problem(module.__doc__)
    assert problem is None, f"module {name}: {problem}"


# ---------------------------------------------------------------------------- the checker itself
def test_the_walk_covers_the_public_api():
    expected = {
        "geoscenario.world.World",
        "geoscenario.world.World.to_toml",  # method
        "geoscenario.world.World.default",  # classmethod
        "geoscenario.world.World.name",  # property
        "geoscenario.simulation.Simulation.paths",
        "geoscenario.views.View.prob_above",
        "geoscenario.views.Allocation",
        "geoscenario.summary.SummaryResult.to_pandas",
        "geoscenario.errors.ConfigError",
        "geoscenario.calibrate.CalibrationResult.jumps_preferred",
        "geoscenario.calibrate.CalibratedWorld",
        "geoscenario.calibrate.log_ou",
        "geoscenario.backtest.backtest",
        "geoscenario.backtest.BacktestResult.drawdown",
        "geoscenario.backtest.StressResult.summary",
        "geoscenario.stats.weighted_quantile",
        "geoscenario.data.potash_monthly",
        "geoscenario.distributed.shards",
        "geoscenario.plot.fan_chart",
    }
    assert expected <= set(API), sorted(expected - set(API))
    # inherited built-in methods (Exception.with_traceback, ...) and constants are not walked
    assert not any(n.endswith((".with_traceback", ".add_note", ".PARAMS", ".SCENARIO_COLORS")) for n in API)
    assert len(API) >= 80


def test_the_checker_rejects_undocumented_api():
    mod = types.ModuleType("geoscenario._fake_for_test")

    def documented(x):
        """Twice x.

        Examples
        --------
        >>> documented(2)
        4
        """
        return 2 * x

    def bare(x):
        return x

    class Thing:
        """A thing.

        Examples
        --------
        >>> Thing().size
        1
        """

        @property
        def size(self):
            """Its size (no example)."""
            return 1

        def _private(self):
            return None

    for f in (documented, bare, Thing):
        f.__module__ = mod.__name__
    mod.documented, mod.bare, mod.Thing = documented, bare, Thing
    mod.__all__ = ["documented", "bare", "Thing"]
    found = {k.rsplit("<locals>.", 1)[-1]: obj for k, (_, obj) in walk([mod]).items()}
    assert set(found) == {"documented", "bare", "Thing", "Thing.size"}, sorted(found)
    bad = sorted(k for k, obj in found.items() if docstring_problem(obj.__doc__))
    assert bad == ["Thing.size", "bare"], bad


@pytest.mark.parametrize(
    "doc, fragment",
    [
        (None, "no docstring"),
        ("Summary only.", "no numpydoc 'Examples'"),
        ("Summary.\n\nExamples\n--------\nSee the README.", "no '>>>' example"),
        ("Summary.\n\nExamples\n--------\n>>> 1 + 1  # doctest: +SKIP\n2", "nothing runs"),
        ("Summary.\n\nExamples: >>> 1 + 1", "no numpydoc 'Examples'"),
    ],
    ids=["none", "summary-only", "no-example", "all-skipped", "no-section-header"],
)
def test_docstring_problem_explains_what_is_missing(doc, fragment):
    problem = docstring_problem(doc)
    assert problem is not None and fragment in problem, problem


def test_docstring_problem_accepts_a_numpydoc_example():
    doc = """Summary.

        Examples
        --------
        >>> 1 + 1
        2
        >>> slow()  # doctest: +SKIP
        """
    assert docstring_problem(doc) is None


def test_the_parameter_checker_reads_numpydoc_sections():
    def f(a, b, c=1, *args, **kwargs):
        """Sum.

        Parameters
        ----------
        a, b : float
            Terms.
        **kwargs
            Ignored.

        Returns
        -------
        float
        c
            not a parameter: this line is in Returns
        """

    assert documented_parameters(f.__doc__) == {"a", "b", "kwargs"}
    assert undocumented_parameters(f) == ["c"]
    f.__doc__ = None
    assert undocumented_parameters(f) == ["a", "b", "c"]


def test_the_return_checker_wants_a_returns_section_for_a_value():
    def value() -> float:
        """A number.

        Examples
        --------
        >>> value()
        """

    def nothing() -> None:
        """Nothing."""

    assert undocumented_return(value) and not undocumented_return(nothing)
    value.__doc__ = "A number.\n\nReturns\n-------\nfloat\n"
    assert not undocumented_return(value)
