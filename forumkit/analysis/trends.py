"""Trend tests for series over time: Mann-Kendall with Sen's slope, before/after, Pettitt's change point.

* :func:`mann_kendall` tests one series for a monotonic trend with pymannkendall: the original
  Mann-Kendall test, or Hamed and Rao's (1998) modification, whose variance correction accounts for
  autocorrelation. ``autocorrelation="auto"`` picks Hamed-Rao when the series is autocorrelated:
  when the lag-1 autocorrelation r1 of the ranks of the Sen-detrended series (``x_t - slope·t``,
  the quantity Hamed-Rao's correction is built from) lies outside ``±z(1-alpha/2)/sqrt(n)``, i.e.
  ``|r1| > 1.96/sqrt(n)`` at alpha 0.05. ``sen_slope`` is Theil-Sen's slope per step (per period
  for a calendar-complete series); missing values (NaN) are skipped by the test and keep their
  place for the slope.
* :func:`trend_table` runs it for each series of a long table (per category, code or model).
* :func:`before_after` compares each series before and after a date (means, Mann-Whitney U).
* :func:`pettitt` finds the most probable change point of a series (Pettitt 1979).
* :data:`RULE` (a :class:`TestRule`) says when a series is too short or too sparse for its p-value to mean
  anything; :func:`screen` applies it to a trend table, and :func:`adjust_bh` corrects the p-values of the
  series tested together (Benjamini-Hochberg false discovery rate, SciPy's ``false_discovery_control``).

Series of fewer than 4 values, or constant ones, are not tested: their result says "no trend"
with p NaN and a note, never an exception. :func:`trend_table` adds ``nonzero`` (values above 0) and
``p_adj`` (Benjamini-Hochberg over the table's p-values) to every table; with ``rule=RULE`` a series the
rule rejects reads ``too short`` or ``too sparse`` in ``trend`` and has no p-value, and the trend of the others
is decided by the adjusted p-value.

Example::

    monthly = activity_by_period(store)
    table = trend_table(monthly, series="category", value="topics")
    table[table["trend"] != "no trend"]
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from forumkit.errors import UsageError

__all__ = ["MIN_VALUES", "RULE", "TestRule", "TrendResult", "PettittResult", "adjust_bh", "mann_kendall", "screen",
           "trend_table", "before_after", "pettitt"]

MIN_VALUES = 4


@dataclass(frozen=True)
class TestRule:
    """When a series is worth a trend test: the one rule the report and its tables state and apply.

    * ``min_periods`` values (periods) at least: below about 8 to 10 values Mann-Kendall's normal
      approximation (which pymannkendall uses) is poor, and the exact test's smallest attainable p is too
      large to survive a correction for many series (with 4 values it is 1/12, never below 0.05).
    * ``min_nonzero`` periods with the thing present at least: a series that is mostly zeros is a few
      isolated events, whose ordering the test reads as a trend (ties dominate the statistic).
    * ``min_items``: for shares, at least this many coded items per period (the median over the periods):
      a share of 1 or 2 items is 0, 0.5 or 1, noise the test would read as change.
    """

    min_periods: int = 8
    min_nonzero: int = 5
    min_items: float = 5

    def verdict(self, n: int, nonzero: int, items: float | None = None) -> str:
        """"" when the series may be tested, else "too short" or "too sparse"."""
        if n < self.min_periods:
            return "too short"
        if nonzero < self.min_nonzero or (items is not None and np.isfinite(items) and items < self.min_items):
            return "too sparse"
        return ""

    def describe(self) -> str:
        """The rule in a sentence, for the report's text."""
        return (f"A series is tested only with at least {self.min_periods} periods (else: too short), and at "
                f"least {self.min_nonzero} periods where it is above zero and, for shares, a median of at least "
                f"{self.min_items:g} coded items per period (else: too sparse). p (BH) is the Benjamini-Hochberg "
                "adjusted p-value over the series of the table that were tested (false discovery rate).")


#: The rule every report table of trend tests applies (change it here, and the report's text follows).
RULE = TestRule()
TESTS = ("original", "hamed_rao")
AUTOCORRELATION = ("auto", *TESTS)


@dataclass(frozen=True)
class TrendResult:
    """The outcome of :func:`mann_kendall`.

    ``test``: "original" or "hamed_rao"; ``trend``: "rising", "falling" or "no trend" (at
    ``alpha``); ``p``, ``z``: two-sided p-value and normal score; ``tau``: Kendall's tau;
    ``sen_slope``, ``intercept``: Theil-Sen line ``intercept + sen_slope·t`` (t = 0, 1, ...);
    ``n``: values tested (NaN left out); ``autocorrelated``, ``lag1_acf``: the rule that
    ``autocorrelation="auto"`` applies (see the module); ``note``: why a series was not tested,
    or a fallback taken.
    """

    test: str
    trend: str
    p: float
    z: float
    tau: float
    sen_slope: float
    intercept: float
    n: int
    autocorrelated: bool
    lag1_acf: float
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PettittResult:
    """Pettitt's change point: ``index`` is the position of the first value after the change
    (``values[:index]`` before, ``values[index:]`` after; None when there is no change to find);
    ``k`` = max |U_t|; ``u`` the signed U at the change (positive: the values went up);
    ``p`` ≈ 2·exp(−6K²/(n³+n²)), capped at 1; ``n`` values (NaN not allowed)."""

    k: float
    index: int | None
    u: float
    p: float
    n: int
    note: str = ""


# -- Mann-Kendall ---------------------------------------------------------------------------------------------------

def _values(values: Any) -> np.ndarray:
    try:
        x = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"cannot test for a trend: the values are not numbers ({exc})".splitlines()[0],
                         hint="pass a list, array or Series of numbers") from exc
    if x.ndim != 1:
        raise UsageError(f"cannot test for a trend in a {x.ndim}-dimensional array", hint="pass one series")
    x = x.copy()
    x[~np.isfinite(x)] = np.nan
    return x


def _lag1_acf(x: np.ndarray, slope: float) -> float:
    """Lag-1 autocorrelation of the ranks of the Sen-detrended series (NaN left out)."""
    from scipy.stats import rankdata

    t = np.arange(len(x))
    keep = ~np.isnan(x)
    ranks = rankdata(x[keep] - slope * t[keep])
    y = ranks - ranks.mean()
    denominator = float(np.dot(y, y))
    return float(np.dot(y[:-1], y[1:]) / denominator) if denominator > 0 else float("nan")


def mann_kendall(values: Sequence[float] | np.ndarray | pd.Series, *, alpha: float = 0.05,
                 autocorrelation: str = "auto") -> TrendResult:
    """Mann-Kendall trend test with Sen's slope; ``autocorrelation``: "auto", "original" or "hamed_rao".

    >>> mann_kendall([1, 2, 3, 5, 8, 9, 12, 15]).trend
    'rising'
    """
    import pymannkendall as mk
    from scipy.stats import norm

    if autocorrelation not in AUTOCORRELATION:
        raise UsageError(f"unknown autocorrelation handling '{autocorrelation}'",
                         hint=f"use one of: {', '.join(AUTOCORRELATION)}")
    if not 0 < alpha < 1:
        raise UsageError(f"alpha {alpha} is not between 0 and 1", hint="use e.g. 0.05")
    x = _values(values)
    present = x[~np.isnan(x)]
    n = len(present)
    test = "hamed_rao" if autocorrelation == "hamed_rao" else "original"
    nan = float("nan")
    if n < MIN_VALUES:
        return TrendResult(test, "no trend", nan, nan, nan, nan, nan, n, False, nan,
                           note=f"{n} values: a trend test needs at least {MIN_VALUES}")
    if np.all(present == present[0]):
        return TrendResult(test, "no trend", nan, nan, nan, 0.0, float(present[0]), n, False, nan,
                           note="constant series: nothing to test")
    slope, intercept = mk.sens_slope(x)
    r1 = _lag1_acf(x, float(slope))
    autocorrelated = bool(np.isfinite(r1) and abs(r1) > norm.ppf(1 - alpha / 2) / math.sqrt(n))
    if autocorrelation == "auto":
        test = "hamed_rao" if autocorrelated else "original"
    note = ""
    result = (mk.hamed_rao_modification_test if test == "hamed_rao" else mk.original_test)(x, alpha=alpha)
    if test == "hamed_rao" and not (np.isfinite(result.p) and np.isfinite(result.z)):
        # Hamed-Rao's corrected variance can come out negative on short, strongly correlated series
        result, test = mk.original_test(x, alpha=alpha), "original"
        note = "Hamed-Rao's variance correction was not positive: original test used"
    p, z = float(result.p), float(result.z)
    trend = "no trend" if not p < alpha else ("rising" if z > 0 else "falling")
    return TrendResult(test, trend, p, z, float(result.Tau), float(slope), float(intercept), n, autocorrelated,
                       r1, note)


# -- tables ---------------------------------------------------------------------------------------------------------

def _require(frame: pd.DataFrame, columns: Sequence[str | None]) -> None:
    missing = [c for c in columns if c is not None and c not in frame.columns]
    if missing:
        raise UsageError(f"the table has no column {', '.join(map(repr, missing))}",
                         hint=f"its columns are: {', '.join(map(str, frame.columns))}")


def _series(frame: pd.DataFrame, series: str | None, time: str, value: str) -> list[tuple[Any, pd.DataFrame]]:
    """(name, rows sorted by time) for each series, in order of first appearance; one row per time."""
    _require(frame, [series, time, value])
    keys = frame[series] if series is not None else pd.Series("all", index=frame.index)
    out = []
    for name in pd.unique(keys):
        part = frame.loc[keys == name, [time, value]]
        if part[time].duplicated().any():
            raise UsageError(f"series {name!r} has several rows for one {time}",
                             hint="aggregate first, or name the column that tells the series apart (series=...)")
        out.append((name, part.sort_values(time)))
    return out


def trend_table(frame: pd.DataFrame, *, series: str | None, value: str, time: str = "period_start",
                alpha: float = 0.05, autocorrelation: str = "auto", items: str | None = None,
                rule: TestRule | None = None) -> pd.DataFrame:
    """Mann-Kendall for each series of a long table (one row per series and time).

    Each series is laid on the times of the whole table, sorted: a time missing from a series is
    a missing value (NaN, skipped by the test, keeping its place for Sen's slope), not a zero;
    fill the table first where missing means zero (the tables of :mod:`forumkit.analysis.activity` are
    calendar-complete already). ``series=None`` treats the table as one series, named ``all``.

    Columns: ``series``, ``n`` (values tested), ``start``, ``end`` (times of the first and last
    value), ``first``, ``last`` (those values), ``test``, ``trend``, ``p``, ``z``, ``tau``,
    ``sen_slope`` (per step of ``time``: per period), ``autocorrelated``, ``lag1_acf``,
    ``change_at`` (time of the first value after Pettitt's most probable change point),
    ``change_p`` (its p-value), ``note``, ``nonzero`` (values above 0), ``items`` (with ``items=COLUMN``,
    e.g. a share's denominator ``n_items``: that column's median over the series' periods; else NaN) and
    ``p_adj`` (Benjamini-Hochberg over the table's p-values, :func:`adjust_bh`).
    With ``rule`` (e.g. :data:`RULE`) the series it rejects are marked as :func:`screen` says, and ``trend``
    of the others is decided by ``p_adj`` < ``alpha`` (the correction for testing the table's series at once).
    """
    groups = _series(frame, series, time, value)
    if items is not None:
        _require(frame, [items])
    times = pd.Index(pd.unique(frame[time])).sort_values()
    rows = []
    for name, part in groups:
        aligned = part.set_index(time)[value].astype(float).reindex(times)
        present = aligned.dropna()
        result = mann_kendall(aligned.to_numpy(), alpha=alpha, autocorrelation=autocorrelation)
        change = pettitt(present.to_numpy()) if len(present) else None
        change_at = present.index[change.index] if change is not None and change.index is not None else None
        rows.append({
            "series": name, "n": result.n,
            "start": present.index[0] if len(present) else None, "end": present.index[-1] if len(present) else None,
            "first": present.iloc[0] if len(present) else np.nan, "last": present.iloc[-1] if len(present) else np.nan,
            "test": result.test, "trend": result.trend, "p": result.p, "z": result.z, "tau": result.tau,
            "sen_slope": result.sen_slope, "autocorrelated": result.autocorrelated, "lag1_acf": result.lag1_acf,
            "change_at": change_at, "change_p": change.p if change is not None else np.nan, "note": result.note,
            "nonzero": int((present > 0).sum()),
            "items": float(frame.loc[part.index, items].median()) if items is not None and len(part) else np.nan,
        })
    columns = ["series", "n", "start", "end", "first", "last", "test", "trend", "p", "z", "tau", "sen_slope",
               "autocorrelated", "lag1_acf", "change_at", "change_p", "note", "nonzero", "items"]
    table = pd.DataFrame(rows, columns=columns)
    table["p_adj"] = adjust_bh(table["p"])
    return screen(table, rule, alpha=alpha) if rule is not None else table


def adjust_bh(p: Sequence[float] | pd.Series) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (SciPy's ``false_discovery_control``; the tests check them against
    statsmodels' ``multipletests(method="fdr_bh")``) of the finite ones; NaN (a series not tested) stays NaN and
    does not count among the tests."""
    from scipy.stats import false_discovery_control

    values = np.asarray(p, dtype=float)
    out = np.full(values.shape, np.nan)
    tested = np.isfinite(values)
    if tested.any():
        out[tested] = false_discovery_control(values[tested], method="bh")
    return out


def screen(table: pd.DataFrame, rule: TestRule = RULE, *, alpha: float | None = None) -> pd.DataFrame:
    """A trend table with ``rule`` applied: a rejected series reads ``too short`` or ``too sparse`` in ``trend``
    (its p, p_adj and z set to NaN, the reason in ``note``), and ``p_adj`` is recomputed over the series left.

    Works on any table with trend_table's columns ``n``, ``p`` and ``trend`` (``nonzero`` and ``items`` when
    present), e.g. the Hub's and the topics' trend tables. With ``alpha``, ``trend`` of the tested series says
    rising/falling only where ``p_adj`` < alpha (the correction decides), else "no trend".
    """
    out = table.copy()
    nonzero = out["nonzero"] if "nonzero" in out else pd.Series(np.iinfo(np.int32).max, index=out.index)
    items = out["items"] if "items" in out else pd.Series(np.nan, index=out.index)
    verdicts = [rule.verdict(int(n), int(z), float(i)) for n, z, i in zip(out["n"], nonzero, items)]
    for index, verdict in zip(out.index, verdicts):
        if verdict:
            out.loc[index, ["p", "z"]] = np.nan
            out.loc[index, "trend"] = verdict
            out.loc[index, "note"] = _why(verdict, rule, out.loc[index], "nonzero" in out)
    out["p_adj"] = adjust_bh(out["p"])
    if alpha is not None:
        tested = ~out["trend"].isin(["too short", "too sparse"])
        significant = tested & (out["p_adj"] < alpha)
        out.loc[tested & ~significant, "trend"] = "no trend"
    return out


def _why(verdict: str, rule: TestRule, row: pd.Series, has_nonzero: bool) -> str:
    if verdict == "too short":
        return f"{int(row['n'])} periods: the rule needs {rule.min_periods}"
    parts = []
    if has_nonzero and row["nonzero"] < rule.min_nonzero:
        parts.append(f"above zero in {int(row['nonzero'])} of {int(row['n'])} periods (needs {rule.min_nonzero})")
    if "items" in row and np.isfinite(row["items"]) and row["items"] < rule.min_items:
        parts.append(f"median {row['items']:g} items per period (needs {rule.min_items:g})")
    return "; ".join(parts)


def _cut(column: pd.Series, at: Any) -> tuple[pd.Series, Any]:
    """The time column and ``at`` made comparable (dates as timestamps, numbers as numbers)."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        try:
            return column, float(at)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"cannot compare the numeric time column with {at!r}", hint="give a number") from exc
    try:
        moments = column if pd.api.types.is_datetime64_any_dtype(column) else pd.to_datetime(column, format="ISO8601")
        cut = pd.Timestamp(at)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"cannot read {at!r} or the time column as dates ({exc})".splitlines()[0],
                         hint="give a date such as 2022-01-01") from exc
    zone = getattr(moments.dt, "tz", None)
    if zone is not None and cut.tzinfo is None:
        cut = cut.tz_localize("UTC").tz_convert(zone)
    elif zone is None and cut.tzinfo is not None:
        cut = cut.tz_convert("UTC").tz_localize(None)
    return moments, cut


def before_after(frame: pd.DataFrame, *, time: str, value: str, at: Any, series: str | None = None) -> pd.DataFrame:
    """Each series before ``at`` (time < at) against from ``at`` on (time >= at).

    Columns: ``series`` (``all`` when ``series`` is None), ``n_before``, ``n_after``,
    ``mean_before``, ``mean_after``, ``median_before``, ``median_after``, ``change``
    (mean_after − mean_before), ``ratio`` (mean_after / mean_before; NaN when mean_before is 0),
    ``u`` (Mann-Whitney U of the values after against those before: large when after is higher),
    ``p`` (two-sided Mann-Whitney U test, scipy's exact method for small samples without ties;
    NaN when a side has no values). Missing values are left out.
    """
    from scipy.stats import mannwhitneyu

    rows = []
    for name, part in _series(frame, series, time, value):
        moments, cut = _cut(part[time], at)
        values = part[value].astype(float)
        before = values[(moments < cut).to_numpy()].dropna().to_numpy()
        after = values[(moments >= cut).to_numpy()].dropna().to_numpy()
        mb = float(before.mean()) if len(before) else np.nan
        ma = float(after.mean()) if len(after) else np.nan
        u = p = np.nan
        if len(before) and len(after):
            test = mannwhitneyu(after, before, alternative="two-sided")
            u, p = float(test.statistic), float(test.pvalue)
        rows.append({
            "series": name, "n_before": len(before), "n_after": len(after), "mean_before": mb, "mean_after": ma,
            "median_before": float(np.median(before)) if len(before) else np.nan,
            "median_after": float(np.median(after)) if len(after) else np.nan,
            "change": ma - mb, "ratio": ma / mb if mb else np.nan, "u": u, "p": p,
        })
    columns = ["series", "n_before", "n_after", "mean_before", "mean_after", "median_before", "median_after",
               "change", "ratio", "u", "p"]
    return pd.DataFrame(rows, columns=columns)


# -- Pettitt --------------------------------------------------------------------------------------------------------

def pettitt(values: Sequence[float] | np.ndarray | pd.Series) -> PettittResult:
    """Pettitt's (1979) non-parametric test for one change point in the level of a series.

    U_t = Σ_{i<t} Σ_{j≥t} sgn(x_j − x_i) for t = 1..n−1 (the first t values against the rest),
    K = max |U_t|, the change after the first t* = argmax |U_t| values (the first such t),
    p ≈ 2·exp(−6K² / (n³ + n²)).

    >>> pettitt([1, 2, 1, 5, 6, 5]).index
    3
    """
    x = _values(values)
    if np.isnan(x).any():
        raise UsageError("Pettitt's test needs a series without missing values",
                         hint="drop or fill the missing values first")
    n = len(x)
    if n < 2:
        return PettittResult(0.0, None, 0.0, float("nan"), n, note=f"{n} values: no change point to find")
    beats = np.sign(x[None, :] - x[:, None]).sum(axis=1)  # D_i = Σ_j sgn(x_j − x_i)
    u = np.cumsum(beats)[:-1]  # U_t = D_0 + ... + D_{t-1}
    best = int(np.argmax(np.abs(u)))
    k = float(abs(u[best]))
    if k == 0:
        return PettittResult(0.0, None, 0.0, 1.0, n, note="no change: the series is flat")
    p = min(1.0, 2.0 * math.exp(-6.0 * k * k / (n ** 3 + n ** 2)))
    return PettittResult(k, best + 1, float(u[best]), p, n)
