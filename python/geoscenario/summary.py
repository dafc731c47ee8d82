"""Statistics at one month, from materialised paths or streamed without them.

Both routes run the same reducers of the Rust core (canonical pairwise sums,
integer counts, exact quantiles), so a streamed summary of N paths has the
same bits as the summary of the materialised simulation of those N paths.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import _core, _progress, _validate
from ._format import count, table_html
from .errors import ConfigError, NumericalError, invalid
from .strategy import MAX_WEIGHT
from .views import Allocation

if TYPE_CHECKING:
    from .world import World

__all__ = ["SummaryResult", "QUANTILES"]

QUANTILES = (0.05, 0.50, 0.95)

Reducer = tuple[str, str, float, float, list[float], list[float], list[float], list[tuple[str, float]], bool]
"""(name, series, a, b, quantiles, thresholds, CVaR levels, mix terms, drawdown): v = a + b·x,
with x the series, or for a mix of strategies 1 + Σ w (NAV − 1) over its (strategy, weight)
terms; with ``drawdown``, x is that NAV's maximum drawdown to the month instead."""

MAX_MIXES = 1_000
"""Most mixes one risk table takes (each costs a pass over the paths)."""

MAX_REPLICATES = 1_024
"""Most independent randomisations one quasi-Monte Carlo summary takes (each a run)."""


def mix_terms(name: str, weights: Any, strategies: Sequence[str]) -> list[tuple[str, float]]:
    """A mix's weights (an :class:`Allocation` or ``{strategy: weight}``, a dict or a Series)
    as (strategy, weight) terms, each weight in [−MAX_WEIGHT, MAX_WEIGHT]; errors name ``name``.

    The terms come in the strategies' order, whatever the order of ``weights``: a mix's
    NAV is summed term by term in that order, so ``{A: .3, B: .7}`` and ``{B: .7, A: .3}``
    give the same bits."""
    if isinstance(weights, Allocation):
        weights = weights.weights
    weights = _validate.keyed(name, weights)
    if not isinstance(weights, Mapping):
        raise invalid(name, f"must be an Allocation or {{strategy: weight}}, got {type(weights).__name__}")
    if not weights:
        raise invalid(name, "give at least one strategy's weight")
    terms = []
    for s, v in weights.items():
        if not isinstance(s, str) or s not in strategies:
            raise invalid(name, f"{s!r} is not a strategy (strategies: {', '.join(strategies) or 'none'})")
        if not _validate.is_finite_real(v) or not abs(_validate.to_float(v)) <= MAX_WEIGHT:
            raise invalid(name, f"the weight of {s!r} must be a number in [-{MAX_WEIGHT:g}, {MAX_WEIGHT:g}], {_validate.got(v)}")
        terms.append((s, _validate.to_float(v)))
    return sorted(terms, key=lambda term: strategies.index(term[0]))


def check_mixes(mixes: Any, strategies: Sequence[str]) -> dict[str, list[tuple[str, float]]]:
    """The ``mixes`` argument of a risk table, ``{name: weights}``, as terms by name."""
    if mixes is None:
        return {}
    if not isinstance(mixes, Mapping):
        raise invalid("mixes", f"must be {{name: weights}}, got {type(mixes).__name__}")
    if len(mixes) > MAX_MIXES:
        raise invalid("mixes", f"at most {MAX_MIXES:,} mixes, got {len(mixes):,}")
    out = {}
    for m, weights in mixes.items():
        if not isinstance(m, str) or not m or m in strategies:
            raise invalid("mixes", f"names must be strings other than the strategies' names, got {m!r}")
        _validate.unicode("mixes", m)
        out[m] = mix_terms(f"mixes[{m!r}]", weights, strategies)
    return out


def check_thresholds(
    thresholds: Mapping[str, float] | None, names: Sequence[str], defaults: Mapping[str, float]
) -> dict[str, float]:
    """``{series: level}`` (or a pandas Series so indexed) for summarised series and finite
    levels; if None, those of ``defaults`` (the world's ``[thresholds]``) among ``names``."""
    if thresholds is None:
        return {k: v for k, v in defaults.items() if k in names}
    thresholds = _validate.keyed("thresholds", thresholds)
    if not isinstance(thresholds, Mapping):
        raise invalid("thresholds", f"must be a dict of series to level, got {type(thresholds).__name__}")
    th = {}
    for k, v in thresholds.items():
        if k not in names:
            raise invalid(f"thresholds.{k}", "is not a summarised series")
        if not _validate.is_finite_real(v):
            raise invalid(f"thresholds.{k}", f"must be a finite number, {_validate.got(v)}")
        th[k] = _validate.to_float(v)
    return th


def build_reducers(
    names: Sequence[str],
    strategies: Sequence[str],
    quantiles: Sequence[float],
    thresholds: Mapping[str, float],
    alpha: float | None,
    mixes: Mapping[str, list[tuple[str, float]]] | None = None,
) -> list[Reducer]:
    """Reducers for series values, plus the returns, losses (for VaR/CVaR) and maximum
    drawdowns of strategies and of mixes of them (by name, their terms)."""
    qs = [float(q) for q in quantiles]
    out: list[Reducer] = []
    for n in names:
        th = [float(thresholds[n])] if n in thresholds else []
        out.append((n, n, 0.0, 1.0, qs, th, [], [], False))
    if alpha is not None:
        rows: list[tuple[str, list[tuple[str, float]]]] = [(s, []) for s in strategies]
        for s, terms in rows + list((mixes or {}).items()):
            out.append((f"{s}:return", s, -1.0, 1.0, qs, [], [], terms, False))
            out.append((f"{s}:loss", s, 1.0, -1.0, [], [0.0, RUIN], [float(alpha)], terms, False))
            out.append((f"{s}:drawdown", s, 0.0, 1.0, [], [], [], terms, True))
    return out


RUIN = math.nextafter(1.0, 0.0)
"""P(loss > RUIN) is P(loss ≥ 1), the loss 1 − NAV as doubles compute it: for a
strategy, whose NAV stops at 0, the probability that it lost everything (its NAV is 0,
or below 2^-54 of the capital, where 1 − NAV rounds to 1); a loss reducer's second
threshold."""


def ruin_probability(nav: Any, weights: Any) -> float:
    """The weight of the paths whose strategy NAV ``nav`` lost everything at the month
    read: their loss 1 − NAV, as the streamed summary computes it, is above :data:`RUIN`; a share
    of the weights' total, so that every path lost is 1 exactly."""
    w = np.asarray(weights, dtype=float)
    return float(w[1.0 + -1.0 * np.asarray(nav) > RUIN].sum() / w.sum())


MAX_QUANTILES = 1_000
"""Most quantile levels one summary computes (each costs a pass over every path)."""


def check_quantiles(quantiles: float | Sequence[float]) -> list[float]:
    """Quantile levels as floats in [0, 1] (a single number is one level)."""
    if _validate.is_real(quantiles):
        qs: list[Any] = [quantiles]
    elif _validate.is_sequence(quantiles):
        if getattr(quantiles, "ndim", 1) != 1:  # a (1, 2) array's rows would read as levels
            raise invalid("quantiles", f"must be a 1-D sequence of levels, got an array of shape "
                                       f"{tuple(getattr(quantiles, 'shape', ()))}")
        qs = list(quantiles)
    else:
        raise invalid("quantiles", f"must be a number or a sequence of numbers in [0, 1], got {quantiles!r}")
    if len(qs) > MAX_QUANTILES:
        raise invalid("quantiles", f"at most {MAX_QUANTILES:,} levels, got {len(qs):,}")
    for q in qs:
        if not _validate.is_real(q) or not 0.0 <= _validate.to_float(q) <= 1.0:
            raise invalid("quantiles", f"must be numbers in [0, 1], {_validate.got(q)}")
    labels = [quantile_label(q) for q in qs]
    for i, lab in enumerate(labels):
        if lab in labels[:i]:
            raise invalid("quantiles", f"give each level once: {qs[labels.index(lab)]!r} and {qs[i]!r} are both {lab}")
    return [_validate.to_float(q) for q in qs]


def check_replicates(replicates: Any, n_paths: int, qmc: bool) -> int | None:
    """The number of quasi-Monte Carlo replicates asked for (None: one run), checked
    against the run: an integer in [2, MAX_REPLICATES] dividing ``n_paths``, under ``qmc``."""
    if replicates is None:
        return None
    r = _validate.integer("replicates", replicates, 2, MAX_REPLICATES)
    if not qmc:
        raise invalid("replicates", "need qmc=True: the paths of a plain Monte Carlo run are independent "
                                    "draws, which give its standard errors (mean_se, p_above_se) alone")
    if n_paths % r:
        raise invalid("replicates", f"must divide n_paths ({n_paths:,}) into replicates of equal size, "
                                    f"got {r} ({n_paths:,} = {n_paths // r:,} × {r} + {n_paths % r})")
    return r


def replicate_seed(seed: int, i: int) -> int:
    """The seed of replicate ``i`` of a replicated quasi-Monte Carlo summary under ``seed``:
    64 bits of NumPy's ``SeedSequence([seed, i])``, so that replicates are independent
    scrambles that depend on the run's seed and their number only.

    Examples
    --------
    >>> from geoscenario.summary import replicate_seed
    >>> replicate_seed(0, 1) == replicate_seed(0, 1) != replicate_seed(1, 0)
    True
    """
    return int(np.random.SeedSequence([seed, i]).generate_state(1, np.uint64)[0])


def run_seeds(seed: int, replicates: int | None) -> list[int]:
    """The seed of each run of a summary: ``seed`` alone, or its replicates' seeds."""
    return [seed] if replicates is None else [replicate_seed(seed, i) for i in range(replicates)]


def pool_replicates(frames: Sequence[pd.DataFrame], mean: str) -> pd.DataFrame:
    """The table of R independent replicates' tables (same index and columns): each
    estimate is the replicates' average; each standard error (a column ``x_se`` beside
    its estimate ``x``) is the replicates' sample standard deviation of that estimate
    over sqrt(R) (divisor R − 1); ``std`` is the square root of the law of total variance,
    the replicates' average variance plus the (population) variance of their ``mean``."""
    first = frames[0]
    if not len(first):
        return first.copy()  # (no rows: nothing to pool)
    stacked = pd.concat(list(frames), keys=range(len(frames)), names=["replicate"])
    groups = stacked.groupby(level=list(first.index.names), sort=False)
    out = groups.mean()
    for err in first.columns:
        col = err.removesuffix("_se")
        if col != err and col in first.columns:
            out[err] = groups[col].std(ddof=1) / np.sqrt(groups[col].count())
    within = (stacked["std"] ** 2).groupby(level=list(first.index.names), sort=False).mean()
    out["std"] = np.sqrt(within + groups[mean].var(ddof=0))
    out.attrs = dict(first.attrs)
    return out[first.columns]


def quantile_label(q: float) -> str:
    """Column label of quantile level q, in percent: ``q05`` for 0.05, ``q12.5`` for 0.125,
    ``q0.1`` for 0.001, ``q49.99999`` for 0.4999999 (12 significant digits: a label
    never rounds to another level's)."""
    pct = _validate.to_float(q) * 100
    if abs(pct - round(pct)) < 1e-9:
        return f"q{round(pct):02d}"
    return f"q{pct:.12g}"


def quantile_columns(labels: Sequence[str], row: Mapping[str, Any]) -> dict[str, float]:
    """A summary row's quantiles, each followed by its standard error: ``{"q05": …,
    "q05_se": …, …}`` for ``labels`` (:func:`quantile_label` of each level)."""
    out = {}
    for label, q, se in zip(labels, row["quantiles"], row["quantiles_se"]):
        out[label] = q
        out[f"{label}_se"] = se
    return out


def check_alpha(alpha: float) -> float:
    """The confidence level of VaR/CVaR, in [0.5, 1): 0.95 is the mean of the worst 5%.

    A level below one half is refused rather than computed: it is almost always a tail
    probability (0.05) given where the level (0.95) was meant.
    """
    if not _validate.is_real(alpha):
        raise invalid("alpha", f"must be a real number, the confidence level in [0.5, 1) (0.95 for the "
                               f"worst 5%), got a {type(alpha).__name__}: {alpha!r}")
    if not 0.0 < _validate.to_float(alpha) < 1.0:
        raise invalid("alpha", f"must be a confidence level in [0.5, 1) (0.95 for the worst 5%), got {alpha!r}")
    if alpha < 0.5:
        flipped = 1.0 - _validate.to_float(alpha)
        hint = f"; did you mean {flipped:g}?" if flipped < 1.0 else ""  # not for 1e-300
        raise invalid("alpha", f"is the confidence level, in [0.5, 1) (0.95 for the worst 5%), got {alpha!r}{hint}")
    return _validate.to_float(alpha)


class SummaryResult:
    """Weighted statistics by scenario and overall at one month.

    Returned by :meth:`World.simulate_summary` and
    :func:`geoscenario.distributed.simulate_summary`.

    Attributes
    ----------
    table : pandas.DataFrame
        Index (series, scenario), scenario ``"all"`` for the weighted total; columns
        probability, mean, mean_se (its Monte Carlo standard error, as in
        :meth:`Simulation.summary`), std, one column per quantile (``q05`` …) each followed by
        its standard error (``q05_se`` …), threshold, p_above, p_above_se,
        all float64 (so that tables subtract and aggregate); ``table.attrs["units"]``
        maps each series to its unit. A new copy on each read (as ``risk``): editing it
        leaves the result as it was.
    risk : pandas.DataFrame
        For strategies and mixes (when requested): index (strategy, scenario); columns probability,
        mean_return, mean_return_se, std, one column per return quantile with its standard
        error, var, var_se, cvar,
        cvar_se (losses as positive fractions of NAV, with their standard errors), p_loss,
        p_loss_se, tail_share (the scenario's share of the probability of the overall CVaR
        tail) and max_drawdown (the mean of the paths' maximum drawdowns to the month):
        the columns of :meth:`Simulation.risk_table`. An empty DataFrame (no rows, no
        columns) when ``alpha`` is None or no strategy or mix is summarised.
    n_paths : int
        Paths summarised.
    month : str
        The month summarised, ``"YYYY-MM"`` (also in ``table.attrs`` and
        ``risk.attrs``, with ``n_paths``; ``risk.attrs["alpha"]`` is the VaR/CVaR level).
    seed, elapsed, alpha
        The run's seed, its run time in seconds (streamed runs) and the VaR/CVaR level.
    replicates : list of SummaryResult
        The independent quasi-Monte Carlo replicates pooled into this result (``replicates=R``
        of :meth:`World.simulate_summary`), each with its own seed; empty for one run.

    Examples
    --------
    >>> import geoscenario as gs
    >>> res = gs.World.default().simulate_summary(2_000, seed=1, series=["potash_spot", "direct_belarus"])
    >>> res.n_paths, res.month
    (2000, '2027-06')
    >>> res.table.index.get_level_values("series").unique().tolist()
    ['potash_spot', 'direct_belarus']
    >>> res.risk.index.get_level_values("scenario").tolist()
    ['base', 'bull', 'bear', 'all']
    >>> bool((res.risk["var"] <= res.risk["cvar"]).all())
    True
    """

    def __init__(
        self,
        rows: list[dict[str, Any]],
        reducers: list[Reducer],
        scenario_names: list[str],
        units: Mapping[str, str],
        quantiles: Sequence[float],
        *,
        n_paths: int,
        month: str,
        seed: int | None = None,
        elapsed: float | None = None,
        alpha: float | None = None,
    ) -> None:
        self.n_paths = n_paths
        # the mixes among the risk table's rows (a mix's reducers carry its terms)
        self._n_mixes = sum(1 for r in reducers if r[0].endswith(":return") and r[7])
        self.month = month
        self.seed = seed
        self.elapsed = elapsed
        self.alpha = alpha
        qcols = [quantile_label(q) for q in quantiles]
        by_name = {r[0]: r for r in reducers}
        self._ruined: dict[str, float] = {}  # P(NAV = 0) of each strategy, by the month
        series_rows, risk_rows = [], []
        series_units: dict[str, str] = {}
        # a strategy's (or mix's) loss and drawdown rows, read with its return row
        extra = {(row["reducer"], row["group"]): row for row in rows
                 if row["reducer"].endswith((":loss", ":drawdown"))}
        for row in rows:
            name = row["reducer"]
            scen = "all" if row["group"] < 0 else scenario_names[row["group"]]
            if name.endswith(":ruin"):
                if row["group"] < 0:
                    self._ruined[name.removesuffix(":ruin")] = row["p_above"][0]
                continue
            if name.endswith((":loss", ":drawdown")) or not row["mass"] > 0:
                continue
            if not (math.isfinite(row["mean"]) and math.isfinite(row["std"])):  # the paths are finite
                raise NumericalError(
                    f"{name.removesuffix(':return')}: its values are too large to summarise in doubles "
                    f"(the {'overall' if scen == 'all' else scen} mean is {row['mean']:.4g} and the sum "
                    "of squared deviations overflows "
                    "beyond about 1e154): check the world's parameters"
                )
            if name.endswith(":return"):
                strat = name[: -len(":return")]
                lrow = extra[(f"{strat}:loss", row["group"])]
                var, cvar = lrow["var_cvar"][0]
                var_se, cvar_se = lrow["var_cvar_se"][0]
                if row["group"] < 0 and not by_name[name][7] and len(lrow["p_above"]) > 1:
                    self._ruined[strat] = lrow["p_above"][1]  # a strategy's (not a mix's)
                rec = {"strategy": strat, "scenario": scen, "probability": row["mass"],
                       "mean_return": row["mean"], "mean_return_se": row["mean_se"], "std": row["std"]}
                rec.update(quantile_columns(qcols, row))
                rec.update({"var": var, "var_se": var_se, "cvar": cvar, "cvar_se": cvar_se,
                            "p_loss": lrow["p_above"][0], "p_loss_se": lrow["p_above_se"][0], "tail_share": lrow["tail_share"][0],
                            "max_drawdown": extra[(f"{strat}:drawdown", row["group"])]["mean"]})
                risk_rows.append(rec)
                continue
            red = by_name[name]
            series_units[name] = units.get(red[1], "")
            rec = {"series": name, "scenario": scen, "probability": row["mass"],
                   "mean": row["mean"], "mean_se": row["mean_se"], "std": row["std"]}
            rec.update(quantile_columns(qcols, row))
            rec["threshold"] = red[5][0] if red[5] else np.nan
            rec["p_above"] = row["p_above"][0] if red[5] else np.nan
            rec["p_above_se"] = row["p_above_se"][0] if red[5] else np.nan
            series_rows.append(rec)
        table = pd.DataFrame(series_rows).set_index(["series", "scenario"]) if series_rows else pd.DataFrame()
        risk = pd.DataFrame(risk_rows).set_index(["strategy", "scenario"]) if risk_rows else pd.DataFrame()
        # what a table alone does not say: the month summarised, and the VaR/CVaR level
        table.attrs.update(month=month, n_paths=n_paths, units=series_units)
        risk.attrs.update(month=month, n_paths=n_paths, alpha=alpha)
        self.table, self.risk = table, risk
        self.replicates: list[SummaryResult] = []

    @classmethod
    def _pooled(cls, parts: list[SummaryResult], *, seed: int, elapsed: float) -> SummaryResult:
        """The result of independent replicates ``parts`` (:func:`pool_replicates`), or of
        a run alone."""
        if len(parts) == 1:
            return parts[0]
        out = cls.__new__(cls)
        first = parts[0]
        out.n_paths = sum(p.n_paths for p in parts)
        out._n_mixes = first._n_mixes
        out.month, out.seed, out.elapsed, out.alpha = first.month, seed, elapsed, first.alpha
        names = dict.fromkeys(k for p in parts for k in p._ruined)
        out._ruined = {k: math.fsum(p._ruined.get(k, 0.0) for p in parts) / len(parts) for k in names}
        table = pool_replicates([p.table for p in parts], "mean")
        risk = pool_replicates([p.risk for p in parts], "mean_return")
        for t in (table, risk):
            t.attrs.update(n_paths=out.n_paths, replicates=len(parts))
        out.table, out.risk = table, risk
        out.replicates = list(parts)
        return out

    def __getattribute__(self, name: str) -> Any:
        # the tables come out as copies (shallow under copy-on-write): editing one in place
        # cannot leave the repr, to_pandas or a later read describing different numbers
        value = object.__getattribute__(self, name)
        return _validate.private_copy(value) if name in ("table", "risk") else value

    def to_pandas(self) -> pd.DataFrame:
        """The series table (``table``), a copy to edit (as every ``to_pandas`` gives).

        Returns
        -------
        pandas.DataFrame
            Index (series, scenario); columns probability, mean, mean_se, std, one column
            per quantile and one for its standard error, threshold, p_above, p_above_se
            (float64); ``attrs["units"]`` holds each series' unit.

        Examples
        --------
        >>> import geoscenario as gs
        >>> res = gs.World.default().simulate_summary(2_000, seed=1, series="potash_spot")
        >>> df = res.to_pandas()
        >>> df.equals(res.table), df is res.table
        (True, False)
        >>> df.columns.tolist()
        ['probability', 'mean', 'mean_se', 'std', 'q05', 'q05_se', 'q50', 'q50_se', 'q95', 'q95_se', 'threshold', 'p_above', 'p_above_se']
        >>> df.attrs["units"]
        {'potash_spot': 'USD/t'}
        >>> round(float(df.loc[("potash_spot", "all"), "probability"]), 12)
        1.0
        """
        return self.table

    def __repr__(self) -> str:
        n_series = len(self.table.index.get_level_values(0).unique()) if len(self.table) else 0
        n_rows = len(self.risk.index.get_level_values(0).unique()) if len(self.risk) else 0
        n_mixes = getattr(self, "_n_mixes", 0)  # (0 in a result pickled before mixes were counted)
        mixes = f", {count(n_mixes, 'mix', 'mixes')}" if n_mixes else ""
        t = f", {self.elapsed:.2f} s" if self.elapsed is not None else ""
        # (no risk table with alpha=None, or without strategies: the NAVs may still be series)
        risk = f"{count(n_rows - n_mixes, 'strategy', 'strategies')}{mixes}" if n_rows else "no risk table"
        r = len(getattr(self, "replicates", []))  # (none in a result pickled before replicates)
        paths = count(self.n_paths, "path") + (f" in {r} QMC replicates" if r else "")
        return f"SummaryResult({paths} at {self.month}: {n_series} series, {risk}{t})"

    def _repr_html_(self) -> str:
        """In a notebook: the repr, then the series table and the risk table."""
        return table_html(repr(self), [("series (table)", self.table), ("strategies (risk)", self.risk)])


def simulate_summary(
    world: World,
    n_paths: int,
    horizon_months: int | None,
    seed: int,
    antithetic: bool,
    threads: int | None,
    *,
    series: str | Sequence[str] | None,
    month: int | str | None,
    quantiles: Sequence[float],
    thresholds: Mapping[str, float] | None,
    alpha: float | None,
    chunk_paths: int | None,
    progress: bool | str,
    qmc: bool = False,
    mixes: Mapping[str, Any] | None = None,
    warn: bool = True,
    replicates: int | None = None,
) -> SummaryResult:
    """Implementation of :meth:`World.simulate_summary` (streamed passes); without
    ``warn`` it gives no warning (a grid point on a worker: the client gave the run's
    own, and the strategies that lost everything are only in ``_ruined``)."""
    n, h, s, anti = _validate.run_args(world.horizon_months, n_paths, horizon_months, seed, antithetic)
    thr = None if threads is None else _validate.integer("threads", threads, 1, 1024)
    chunk = 2048 if chunk_paths is None else _validate.integer("chunk_paths", chunk_paths, 1, 1 << 24)
    t = _validate.month(month, h, world._core.month_labels(h))
    q = _validate.flag("qmc", qmc)
    r = check_replicates(replicates, n, q)
    m = n if r is None else n // r  # the paths of each run
    seeds = run_seeds(s, r)
    job_args = (anti, series, t, quantiles, thresholds, alpha, q, mixes)  # (make_job's, after the seed)
    job, reducers, names, qs = replicate_job(world, m, r, h, seeds[0], *job_args)
    _progress.check(progress)
    if warn:
        _validate.late_onsets(world, h)
        _validate.qmc_paths(q, m, r)

    def passes(job: Any, i: int) -> None:
        step = 0
        while not job.complete:  # (each pass in place: not as bytes, as next_pass() gives it)
            step += 1
            with _progress.guard(_progress.display(progress, pass_label(step, i, r))) as cb:
                job.run_current(thr, chunk, cb)

    res = run_all(world, job, seeds, s, passes, m, h, job_args, reducers, qs)
    if warn:
        _validate.ruined(res._ruined, res.month)
    return res


def pass_label(step: int, i: int, replicates: int | None) -> str:
    """The progress line's name for pass ``step`` (from 1) of run ``i`` (from 0) of a summary
    of ``replicates`` runs (None: one run)."""
    run = "" if replicates is None else f"replicate {i + 1}/{replicates}, "
    return f"{run}summary pass {step}"


def run_all(world: World, job: Any, seeds: Sequence[int], seed: int, passes: Callable[[Any, int], None], m: int,
            h: int, job_args: tuple[Any, ...], reducers: list[Reducer], qs: list[float]) -> SummaryResult:
    """The result of a summary's runs, one per seed of ``seeds`` (the replicates, or the run
    alone under ``seed``), of ``m`` paths each: ``job`` is the first run's (the one that
    checked the request), the others' are ``make_job(world, m, h, seed_i, *job_args)``;
    ``passes(job, i)`` runs every pass of run ``i``, locally or sharded."""
    _, _, month, _, _, alpha, _, _ = job_args  # (antithetic, series, month, quantiles, thresholds, alpha, qmc, mixes)
    label = world._core.month_labels(h)[month]
    t0 = time.perf_counter()
    parts = []
    for i, seed_i in enumerate(seeds):
        if i:
            job = make_job(world, m, h, seed_i, *job_args)[0]
        t1 = time.perf_counter()
        passes(job, i)
        parts.append(SummaryResult(job.result(), reducers, world.scenario_names, world.units, qs, n_paths=m,
                                   month=label, seed=seed_i, elapsed=time.perf_counter() - t1, alpha=alpha))
    return SummaryResult._pooled(parts, seed=seed, elapsed=time.perf_counter() - t0)


def replicate_job(world: World, m: int, replicates: int | None, *args: Any) -> tuple[Any, list[Reducer], list[str],
                                                                                      list[float]]:
    """:func:`make_job` for the first of ``replicates`` runs of ``m`` paths each (checking
    the request): a run too small for the world's scenarios is the replicates' fault."""
    try:
        return make_job(world, m, *args)
    except ConfigError as e:
        if replicates is None or e.path != "n_paths":
            raise
        message = str(e).removeprefix("n_paths: ")
        raise invalid("replicates", f"{replicates} replicates of {count(m, 'path')} each ({m * replicates:,} "
                                    f"paths): each replicate {message}") from None


def make_job(
    world: World,
    n: int,
    h: int,
    seed: int,
    antithetic: bool,
    series: str | Sequence[str] | None,
    month: int,
    quantiles: Sequence[float],
    thresholds: Mapping[str, float] | None,
    alpha: float | None,
    qmc: bool = False,
    mixes: Mapping[str, Any] | None = None,
) -> tuple[Any, list[Reducer], list[str], list[float]]:
    """The core job for a summary request, with its reducers."""
    mixed = check_mixes(mixes, list(world.strategies))
    if _validate.is_sequence(series):
        series = list(series)
    # series=[] with mixes: the mixes' risk rows alone, as risk_table(alpha, [], mixes=...)
    names = [] if mixed and series == [] else _validate.names("series", series, list(world.units))
    qs = check_quantiles(quantiles)
    th = check_thresholds(thresholds, names, world.thresholds)
    a = None if alpha is None else check_alpha(alpha)
    if mixed and a is None:
        raise invalid("mixes", "need a risk table: give alpha (e.g. 0.95), not None")
    strategies = [s for s in world.strategies if s in names]
    reducers = build_reducers(names, strategies if a is not None else [], qs, th, a, mixed)
    if a is None:  # no loss rows to tell a strategy that lost everything: a count of its own
        reducers += [(f"{s}:ruin", s, 1.0, -1.0, [], [RUIN], [], [], False) for s in strategies]
    job = _core.SummaryJob.for_world(world._core, reducers, month, n, h, seed, antithetic, qmc)
    return job, reducers, names, qs
