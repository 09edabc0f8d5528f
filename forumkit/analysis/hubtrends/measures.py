"""The Hub's measures per period: uploads by model family, documented attributes, missing attributes, trends."""

from __future__ import annotations

from os import PathLike
from typing import Any

import numpy as np
import pandas as pd

from forumkit.dates import check_period, period_calendar, period_label, period_starts
from forumkit.errors import UsageError
from ..intervals import wilson_interval
from ..trends import trend_table
from .families import OTHER, UNKNOWN, FamilyMapping, model_family
from .rows import as_list, created, text_cells

__all__ = ["ATTRIBUTES", "documentation_by_period", "hub_trend_tests", "missing_attributes", "uploads_by_type"]

#: attribute -> (hub_models column, how it is read, definition)
ATTRIBUTES: dict[str, tuple[str, str, str]] = {
    "card": ("has_card", "flag", "the model card has metadata (YAML front matter)"),
    "license": ("license", "text", "a license (card metadata or license: tag)"),
    "datasets": ("datasets", "list", "training datasets named"),
    "language": ("languages", "list", "languages named"),
    "base_model": ("base_models", "list", "base model(s) named (provenance)"),
    "pipeline_tag": ("pipeline_tag", "text", "a task (pipeline tag)"),
    "metrics": ("has_metrics", "flag", "metrics named, or evaluation results"),
    "model_index": ("has_model_index", "flag", "evaluation results (model-index)"),
}


def check_top(top: int | None) -> None:
    """A one-line error for a ``top`` that is not a positive whole number (None: every type)."""
    if top is not None and (isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1):
        raise UsageError(f"top {top!r} is not a positive number", hint="use e.g. top=10, or None for every type")


def _ranked(family: pd.Series) -> list[str]:
    """Known families, most models first (ties by name)."""
    counts = family[family != UNKNOWN].value_counts()
    return sorted(counts.index, key=lambda name: (-counts[name], name))


def uploads_by_type(rows: pd.DataFrame, *, period: str = "month", top: int | None = 10,
                    include_unknown_dates: bool = False,
                    mapping: FamilyMapping | str | PathLike[str] | None = None) -> pd.DataFrame:
    """Models created per period and model type (family).

    Columns: ``period``, ``period_start``, ``model_type`` (the ``top`` families with most dated models,
    most first, ties by name; then ``other`` for the remaining families, when there are any; then
    ``unknown`` when some models have no family), ``models`` (created in the period), ``share`` (of all
    models created in the period; NaN for a period without any), ``cumulative`` (the type's models up to
    and including the period). ``top=None`` lists every family. ``attrs["undated"]``: models left out
    for want of a known creation date (see :func:`~.rows.date_coverage`).
    """
    check_period(period)
    check_top(top)
    rows = rows.reset_index(drop=True)
    moments, undated = created(rows, include_unknown_dates)
    columns = ["period", "period_start", "model_type", "models", "share", "cumulative"]
    dated = moments.notna()
    if not dated.any():
        frame = pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
        frame.attrs["undated"] = undated
        return frame
    family = model_family(rows, mapping)[dated]  # all rows: a base model may be undated
    periods = period_starts(moments[dated], period)
    calendar = period_calendar(periods, period)
    ranked = _ranked(family)
    chosen = ranked if top is None else ranked[:int(top)]
    label = family.where(family.isin(chosen) | (family == UNKNOWN), OTHER)
    names = chosen + ([OTHER] if len(ranked) > len(chosen) else []) + ([UNKNOWN] if (family == UNKNOWN).any() else [])
    counts = pd.DataFrame({"model_type": label, "p": periods}).groupby(["model_type", "p"]).size()
    grid = pd.MultiIndex.from_product([names, calendar], names=["model_type", "p"])
    frame = counts.reindex(grid, fill_value=0).astype("int64").rename("models").reset_index()
    per_period = periods.value_counts().reindex(calendar, fill_value=0)
    total = frame["p"].map(per_period).astype("float64")
    frame["share"] = frame["models"] / total.where(total > 0)
    frame["cumulative"] = frame.groupby("model_type", sort=False)["models"].cumsum().astype("int64")
    frame["period_start"] = frame["p"]
    frame["period"] = [period_label(s, period) for s in frame["period_start"]]
    frame = frame[columns]
    frame.attrs["undated"] = undated
    return frame


# -- documentation --------------------------------------------------------------------------------------------------

def _has(rows: pd.DataFrame, attribute: str) -> pd.Series:
    column, kind, _ = ATTRIBUTES[attribute]
    values = rows[column]
    if kind == "flag":
        return values.fillna(0).astype(bool)
    if kind == "text":
        return text_cells(values).notna()
    return values.map(_nonempty).astype(bool)


def _nonempty(value: Any) -> bool:
    if isinstance(value, str):  # JSON text, as stored: no need to parse it
        return value.strip() not in ("", "[]", "null")
    return bool(as_list(value))


def _attributes(rows: pd.DataFrame) -> list[str]:
    return [a for a, (column, _, _) in ATTRIBUTES.items() if column in rows.columns]


def documentation_by_period(rows: pd.DataFrame, *, period: str = "month", confidence: float = 0.95,
                            include_unknown_dates: bool = False) -> pd.DataFrame:
    """Share of the models created each period that document each attribute (:data:`ATTRIBUTES`).

    Columns: ``period``, ``period_start``, ``attribute``, ``n`` (models created in the period with the
    attribute), ``models`` (models created in the period), ``share`` (n / models; NaN for a period
    without models), ``ci_low``, ``ci_high`` (Wilson score interval at ``confidence``; [0, 1] for a
    period without models). Attributes in the order of :data:`ATTRIBUTES` (only those whose column
    ``rows`` has), then periods, calendar-complete. ``attrs["undated"]`` as in :func:`uploads_by_type`.
    """
    check_period(period)
    if not 0 < confidence < 1:
        raise UsageError(f"confidence {confidence} is not between 0 and 1", hint="use e.g. 0.95")
    rows = rows.reset_index(drop=True)
    moments, undated = created(rows, include_unknown_dates)
    columns = ["period", "period_start", "attribute", "n", "models", "share", "ci_low", "ci_high"]
    dated = moments.notna()
    attributes = _attributes(rows)
    if not dated.any() or not attributes:
        frame = pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
        frame.attrs["undated"] = undated
        return frame
    periods = period_starts(moments[dated], period)
    calendar = period_calendar(periods, period)
    models = periods.value_counts().reindex(calendar, fill_value=0)
    parts = []
    for attribute in attributes:
        n = periods[_has(rows[dated], attribute).to_numpy()].value_counts().reindex(calendar, fill_value=0)
        parts.append(pd.DataFrame({"p": calendar, "attribute": attribute, "n": n.to_numpy(dtype="int64"),
                                   "models": models.to_numpy(dtype="int64")}))
    frame = pd.concat(parts, ignore_index=True)
    frame["share"] = frame["n"] / frame["models"].where(frame["models"] > 0)
    frame["ci_low"], frame["ci_high"] = wilson_interval(frame["n"].to_numpy(float),
                                                        frame["models"].to_numpy(float), confidence)
    frame["period_start"] = frame["p"]
    frame["period"] = [period_label(s, period) for s in frame["period_start"]]
    frame = frame[columns]
    frame.attrs["undated"] = undated
    return frame


def missing_attributes(rows: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """Jiang et al.'s missing attributes over all rows (dated or not).

    Columns: ``attribute``, ``models`` (rows), ``present``, ``missing``, ``share_present``,
    ``share_missing``, ``ci_low``, ``ci_high`` (Wilson interval of share_present; the interval of
    share_missing is 1 − ci_high .. 1 − ci_low), ``definition``.
    """
    rows_n = len(rows)
    out = []
    for attribute in _attributes(rows):
        present = int(_has(rows, attribute).sum())
        out.append((attribute, rows_n, present, rows_n - present))
    frame = pd.DataFrame(out, columns=["attribute", "models", "present", "missing"])
    whole = frame["models"].where(frame["models"] > 0)
    frame["share_present"] = frame["present"] / whole
    frame["share_missing"] = frame["missing"] / whole
    frame["ci_low"], frame["ci_high"] = wilson_interval(frame["present"].to_numpy(float),
                                                        frame["models"].to_numpy(float), confidence)
    frame["definition"] = [ATTRIBUTES[a][2] for a in frame["attribute"]]
    return frame


# -- trends ---------------------------------------------------------------------------------------------------------

def hub_trend_tests(uploads: pd.DataFrame | None = None, documentation: pd.DataFrame | None = None, *,
                    alpha: float = 0.05, autocorrelation: str = "auto") -> pd.DataFrame:
    """:func:`forumkit.analysis.trends.trend_table` on each type's uploads and each attribute's share.

    Columns: ``table`` (uploads | documentation), ``value`` (models | share), then trend_table's columns
    (``series`` is the model type or the attribute).
    """
    parts = []
    for name, frame, series, value in (("uploads", uploads, "model_type", "models"),
                                       ("documentation", documentation, "attribute", "share")):
        if frame is not None and len(frame):
            table = trend_table(frame, series=series, value=value, time="period_start", alpha=alpha,
                                autocorrelation=autocorrelation)
            parts.append(table.assign(table=name, value=value))
    if not parts:
        return pd.DataFrame(columns=["table", "value", "series"])
    frame = pd.concat(parts, ignore_index=True)
    return frame[["table", "value", *[c for c in frame.columns if c not in ("table", "value")]]]
