"""Hugging Face Hub trends: model types uploaded per period, documented attributes over time, forum beside Hub.

Replicates the Hub side of Taraghi et al. (SANER 2024: model types uploaded per month, the share
of new models with a model card) and the "missing attributes" of Jiang et al. (ICSE 2023: license,
datasets, evaluation results, provenance) as time series. Pure functions over the ``hub_models``
rows of a store (:func:`model_rows`) or over any DataFrame with those columns: a column a frame
lacks is taken as empty (``created_known`` is then worked out from ``created_at``), and
:func:`documentation_by_period` reports only the attributes whose columns the frame has.

Definitions:

* **family** (:func:`model_family`): the model's ``model_type`` (config.model_type); else the first
  tag that names a known type; else the family of its first base model that has one: the base
  model's own family when it is among the rows (recursively), else a name match of the base
  model's id against forumkit's model vocabulary; else ``unknown``. Every name first goes through
  the editable mapping (``forumkit/data/model_families.csv``: ``pattern,family``, a pattern being a
  name matched in any case or ``re:<regex>`` matched in full). Known types: the mapped model types
  of the rows, the vocabulary's models and the mapping's families.
* **creation date**: ``created_at`` when ``created_known`` is 1. The Hub gives no date, or the
  placeholder 2022-03-02T23:29:04.000Z, for models older than March 2022: those are left out of
  the tables by period (``include_unknown_dates=True`` puts placeholder dates in their month) and
  counted in ``attrs["undated"]`` of the table and by :func:`date_coverage`.
* **periods**: calendar month, quarter or year in UTC, labelled as in :mod:`forumkit.analysis.activity`;
  tables are calendar-complete from the first to the last period with a dated model.
* **attributes** (:data:`ATTRIBUTES`): what a model's Hub entry documents; shares per period with
  Wilson intervals (the helper of :mod:`forumkit.analysis.aggregate.estimator`).

Example::

    with Store("hub.db") as store:
        rows = model_rows(store)
        uploads = uploads_by_type(rows, top=10)           # the paper's upload chart, as a table
        docs = documentation_by_period(rows)               # share of new models with a card, license...
        tests = hub_trend_tests(uploads, docs)             # Mann-Kendall on each series
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from dataclasses import dataclass, field
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from ..activity import PERIODS, _label
from forumkit.errors import StoreError, UsageError
from forumkit.store import Store
from ..trends import trend_table

__all__ = [
    "ATTRIBUTES", "ROW_COLUMNS", "PLACEHOLDER_CREATED", "UNKNOWN", "OTHER", "FamilyMapping", "load_mapping",
    "hub_endpoints", "model_rows", "model_family", "date_coverage", "uploads_by_type", "documentation_by_period",
    "missing_attributes", "hub_trend_tests", "forum_vs_hub", "trend_contrast", "plot_forum_vs_hub", "HubTrends",
    "hub_trends", "write_tables", "write_figures",
]

log = logging.getLogger(__name__)

PLACEHOLDER_CREATED = "2022-03-02T23:29:04.000Z"
UNKNOWN, OTHER = "unknown", "other"
ROW_COLUMNS = ["endpoint", "id", "author", "created_at", "created_known", "last_modified", "pipeline_tag",
               "library_name", "model_type", "base_models", "tags", "downloads", "likes", "has_card", "card_data",
               "license", "languages", "datasets", "has_metrics", "has_model_index", "fetched_at"]
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
_MAPPING_HINT = ("a mapping is a CSV file with the header pattern,family; a pattern is a name matched in any case, "
                 "or re:<regular expression> matched against the whole name")


# -- the family mapping ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FamilyMapping:
    """Names -> model family: exact names (any case) first, then regular expressions in file order."""

    exact: dict[str, str] = field(default_factory=dict)  # casefolded name -> family
    patterns: tuple[tuple[re.Pattern, str], ...] = ()
    source: str = "(empty)"

    @property
    def families(self) -> set[str]:
        return set(self.exact.values()) | {family for _, family in self.patterns}

    def lookup(self, name: str) -> str | None:
        """The family ``name`` maps to, or None."""
        found = self.exact.get(name.casefold())
        if found is None:
            found = next((family for pattern, family in self.patterns if pattern.fullmatch(name)), None)
        return found


def load_mapping(path: str | PathLike[str] | None = None) -> FamilyMapping:
    """Read a ``pattern,family`` CSV (blank lines and ``#`` lines ignored); None: the shipped default.

    Raises a one-line UsageError naming the file and line when it cannot be read or is malformed.
    """
    if path is None:
        source = "forumkit/data/model_families.csv"
        text = (resources.files("forumkit") / "data" / "model_families.csv").read_text(encoding="utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
            raise UsageError(f"cannot read model family mapping {source}: {reason}", hint=_MAPPING_HINT) from None
    exact: dict[str, str] = {}
    patterns: list[tuple[re.Pattern, str]] = []
    header = False
    for lineno, fields in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in fields]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if not header:
            if [c.casefold() for c in cells] != ["pattern", "family"]:
                raise UsageError(f"model family mapping {source}, line {lineno}: the header is "
                                 f"{','.join(cells)!r}, not 'pattern,family'", hint=_MAPPING_HINT)
            header = True
            continue
        if len(cells) != 2 or not cells[0] or not cells[1]:
            raise UsageError(f"model family mapping {source}, line {lineno}: expected a pattern and a family, "
                             f"got {','.join(fields)!r}", hint=_MAPPING_HINT)
        pattern, family = cells
        if pattern.startswith("re:"):
            try:
                patterns.append((re.compile(pattern[3:], re.IGNORECASE), family))
            except re.error as exc:
                raise UsageError(f"model family mapping {source}, line {lineno}: {pattern[3:]!r} is not a regular "
                                 f"expression ({exc})", hint=_MAPPING_HINT) from None
        else:
            exact.setdefault(pattern.casefold(), family)
    if not header:
        raise UsageError(f"model family mapping {source} has no header line 'pattern,family'", hint=_MAPPING_HINT)
    return FamilyMapping(exact, tuple(patterns), source)


def _mapping(mapping: FamilyMapping | str | PathLike[str] | None) -> FamilyMapping:
    return mapping if isinstance(mapping, FamilyMapping) else load_mapping(mapping)


# -- rows -----------------------------------------------------------------------------------------------------------

def hub_endpoints(store: Store) -> pd.DataFrame:
    """The Hub endpoints in the store: columns ``endpoint``, ``models``; most models first."""
    rows = store.query("SELECT endpoint, count(*) FROM hub_models GROUP BY endpoint ORDER BY 2 DESC, 1")
    return pd.DataFrame([tuple(r) for r in rows], columns=["endpoint", "models"])


def model_rows(store: Store, endpoint: str | None = None) -> pd.DataFrame:
    """The ``hub_models`` rows of one endpoint (needed only when the store holds several), sorted by id.

    Columns as in the store (lists as JSON text); an empty frame with those columns when there are none.
    """
    endpoints = hub_endpoints(store)["endpoint"].tolist()
    if endpoint is None:
        if len(endpoints) > 1:
            raise UsageError(f"{store.path} holds models of {len(endpoints)} Hub endpoints: {', '.join(endpoints)}",
                             hint="say which one with --endpoint URL")
        endpoint = endpoints[0] if endpoints else None
    elif endpoint.rstrip("/") not in endpoints:
        raise StoreError(f"{store.path} holds no models of {endpoint}",
                         hint=f"its endpoints are: {', '.join(endpoints) or '(none)'}")
    if endpoint is None:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in ROW_COLUMNS})
    cols = ", ".join(ROW_COLUMNS)
    found = store.query(f"SELECT {cols} FROM hub_models WHERE endpoint = ? ORDER BY id", (endpoint.rstrip("/"),))
    return pd.DataFrame([tuple(r) for r in found], columns=ROW_COLUMNS)


def _column(rows: pd.DataFrame, name: str) -> pd.Series:
    return rows[name] if name in rows.columns else pd.Series(None, index=rows.index, dtype="object")


def _as_list(value: Any) -> list[str]:
    """A list cell: JSON text, a list, a plain string (one item) or nothing."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        text = value.strip()
        if not text or text in ("[]", "null"):
            return []
        try:
            value = json.loads(text)
        except ValueError:
            return [text]
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
    if isinstance(value, (list, tuple, np.ndarray)):
        return [str(v) for v in value if v is not None and str(v).strip()]
    return [str(value)]


def _clean(value: Any) -> str | None:
    """A string, None where missing or blank."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value).strip() or None


def _text(values: pd.Series) -> pd.Series:
    return pd.Series([_clean(v) for v in values.tolist()], index=values.index, dtype="object")


def _created(rows: pd.DataFrame, include_unknown_dates: bool) -> tuple[pd.Series, int]:
    """(creation moments as naive UTC, NaT where left out; how many were left out)."""
    raw = _column(rows, "created_at")
    moments = pd.to_datetime(raw, utc=True, format="ISO8601", errors="coerce").dt.tz_convert(None)
    unreadable = int((moments.isna() & raw.notna()).sum())
    if unreadable:
        log.warning("%d creation dates are not ISO-8601: taken as missing", unreadable)
    if "created_known" in rows.columns:
        known = rows["created_known"].fillna(0).astype(bool)
    else:
        known = raw.notna() & (raw.astype("object") != PLACEHOLDER_CREATED)
    keep = moments.notna() if include_unknown_dates else moments.notna() & known
    return moments.where(keep), int((~keep).sum())


def date_coverage(rows: pd.DataFrame) -> pd.DataFrame:
    """How many models have a known creation date: columns ``status`` (known; placeholder: the Hub's date is
    not the creation date, created_known 0; missing: no date), ``models``, ``share`` (of all rows)."""
    moments, _ = _created(rows, include_unknown_dates=True)
    known = _created(rows, include_unknown_dates=False)[0].notna()
    counts = {"known": int(known.sum()), "placeholder": int((moments.notna() & ~known).sum()),
              "missing": int(moments.isna().sum())}
    frame = pd.DataFrame({"status": list(counts), "models": list(counts.values())})
    frame["share"] = frame["models"] / len(rows) if len(rows) else np.nan
    return frame


# -- families -------------------------------------------------------------------------------------------------------

def model_family(rows: pd.DataFrame, mapping: FamilyMapping | str | PathLike[str] | None = None, *,
                 vocabulary=None) -> pd.Series:
    """Each row's model family (see the module): model_type, else a tag, else a base model, else ``unknown``.

    ``mapping``: a :class:`FamilyMapping`, the path of a ``pattern,family`` CSV, or None for the shipped one;
    ``vocabulary``: the :class:`~forumkit.collect.mentions.ModelVocabulary` for base model names (default: forumkit's).
    """
    from forumkit.collect.mentions import ModelVocabulary

    mapping = _mapping(mapping)
    vocabulary = vocabulary if vocabulary is not None else ModelVocabulary.default()
    types = [_clean(v) for v in _column(rows, "model_type").tolist()]
    mapped = {t: mapping.lookup(t) or t for t in set(types) if t is not None}
    family: list[str | None] = [mapped.get(t) if t is not None else None for t in types]
    known = {name.casefold(): name for name in (*vocabulary.models, *mapping.families, *mapped.values())}

    by_tag: dict[str, str | None] = {}  # tags repeat a lot: look each up once

    def tag_family(tag: str) -> str | None:
        if tag not in by_tag:
            by_tag[tag] = mapping.lookup(tag) or known.get(tag.casefold())
        return by_tag[tag]

    def from_tags(tags: list[str]) -> str | None:
        return next((f for f in map(tag_family, tags) if f), None)

    by_text: dict[str, str | None] = {}  # and so do whole tag lists

    def from_cell(cell: Any) -> str | None:
        if not isinstance(cell, str):
            return from_tags(_as_list(cell))
        if cell not in by_text:
            by_text[cell] = from_tags(_as_list(cell))
        return by_text[cell]

    todo = [i for i, f in enumerate(family) if f is None]
    if todo:
        tags = _column(rows, "tags").tolist()
        for i in todo:
            family[i] = from_cell(tags[i])
    todo = [i for i in todo if family[i] is None]
    if todo and "base_models" in rows.columns:
        ids, cells = _column(rows, "id").tolist(), rows["base_models"].tolist()
        own = {i: f for i, f in zip(ids, family) if i is not None}
        bases = dict(zip(ids, cells))
        by_name: dict[str, str | None] = {}
        derived: dict[str, str | None] = {}  # families of rows in the chain found through their own bases

        def name_match(base: str) -> str | None:
            if base not in by_name:
                name = base.rsplit("/", 1)[-1]
                found = mapping.lookup(base) or mapping.lookup(name)
                if found is None:
                    found = next(iter(vocabulary.find(name) or vocabulary.find(base)), None)
                by_name[base] = (mapping.lookup(found) or found) if found else None
            return by_name[base]

        def resolve(base_list: Any, seen: set[str]) -> str | None:
            for base in _as_list(base_list):
                found = None
                if base in own and base not in seen:
                    if own[base] is None and base not in derived:
                        derived[base] = resolve(bases[base], seen | {base})
                    found = own[base] or derived[base]
                found = found or name_match(base)
                if found:
                    return found
            return None

        for i in todo:
            family[i] = resolve(cells[i], {ids[i]} if ids[i] is not None else set())
    return pd.Series([f or UNKNOWN for f in family], index=rows.index, dtype="object", name="model_type")


# -- uploads --------------------------------------------------------------------------------------------------------

def _check(period: str, top: int | None) -> None:
    if period not in PERIODS:
        raise UsageError(f"unknown period '{period}'", hint=f"use one of: {', '.join(PERIODS)}")
    if top is not None and (isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1):
        raise UsageError(f"top {top!r} is not a positive number", hint="use e.g. top=10, or None for every type")


def _calendar(periods: pd.Series, period: str) -> pd.PeriodIndex:
    return pd.period_range(periods.min(), periods.max(), freq=PERIODS[period])


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
    for want of a known creation date (see :func:`date_coverage`).
    """
    _check(period, top)
    rows = rows.reset_index(drop=True)
    moments, undated = _created(rows, include_unknown_dates)
    columns = ["period", "period_start", "model_type", "models", "share", "cumulative"]
    dated = moments.notna()
    if not dated.any():
        frame = pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
        frame.attrs["undated"] = undated
        return frame
    family = model_family(rows, mapping)[dated]  # all rows: a base model may be undated
    periods = moments[dated].dt.to_period(PERIODS[period])
    calendar = _calendar(periods, period)
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
    frame["period_start"] = pd.PeriodIndex(frame["p"]).start_time
    frame["period"] = [_label(s, period) for s in frame["period_start"]]
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
        return _text(values).notna()
    return values.map(_nonempty).astype(bool)


def _nonempty(value: Any) -> bool:
    if isinstance(value, str):  # JSON text, as stored: no need to parse it
        return value.strip() not in ("", "[]", "null")
    return bool(_as_list(value))


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
    from ..aggregate.estimator import _wilson

    _check(period, None)
    if not 0 < confidence < 1:
        raise UsageError(f"confidence {confidence} is not between 0 and 1", hint="use e.g. 0.95")
    rows = rows.reset_index(drop=True)
    moments, undated = _created(rows, include_unknown_dates)
    columns = ["period", "period_start", "attribute", "n", "models", "share", "ci_low", "ci_high"]
    dated = moments.notna()
    attributes = _attributes(rows)
    if not dated.any() or not attributes:
        frame = pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
        frame.attrs["undated"] = undated
        return frame
    periods = moments[dated].dt.to_period(PERIODS[period])
    calendar = _calendar(periods, period)
    models = periods.value_counts().reindex(calendar, fill_value=0)
    parts = []
    for attribute in attributes:
        n = periods[_has(rows[dated], attribute).to_numpy()].value_counts().reindex(calendar, fill_value=0)
        parts.append(pd.DataFrame({"p": calendar, "attribute": attribute, "n": n.to_numpy(dtype="int64"),
                                   "models": models.to_numpy(dtype="int64")}))
    frame = pd.concat(parts, ignore_index=True)
    frame["share"] = frame["n"] / frame["models"].where(frame["models"] > 0)
    frame["ci_low"], frame["ci_high"] = _wilson(frame["n"].to_numpy(float), frame["models"].to_numpy(float),
                                                confidence)
    frame["period_start"] = pd.PeriodIndex(frame["p"]).start_time
    frame["period"] = [_label(s, period) for s in frame["period_start"]]
    frame = frame[columns]
    frame.attrs["undated"] = undated
    return frame


def missing_attributes(rows: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """Jiang et al.'s missing attributes over all rows (dated or not).

    Columns: ``attribute``, ``models`` (rows), ``present``, ``missing``, ``share_present``,
    ``share_missing``, ``ci_low``, ``ci_high`` (Wilson interval of share_present; the interval of
    share_missing is 1 − ci_high .. 1 − ci_low), ``definition``.
    """
    from ..aggregate.estimator import _wilson

    rows_n = len(rows)
    out = []
    for attribute in _attributes(rows):
        present = int(_has(rows, attribute).sum())
        out.append((attribute, rows_n, present, rows_n - present))
    frame = pd.DataFrame(out, columns=["attribute", "models", "present", "missing"])
    whole = frame["models"].where(frame["models"] > 0)
    frame["share_present"] = frame["present"] / whole
    frame["share_missing"] = frame["missing"] / whole
    frame["ci_low"], frame["ci_high"] = _wilson(frame["present"].to_numpy(float), frame["models"].to_numpy(float),
                                                confidence)
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


# -- forum beside Hub -----------------------------------------------------------------------------------------------

def forum_vs_hub(store: Store, *, period: str = "month", top: int = 10, endpoint: str | None = None,
                 forum: str | None = None, mapping: FamilyMapping | str | PathLike[str] | None = None,
                 alpha: float = 0.05, rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """Hub uploads of the ``top`` model types beside the forum topics that mention them, per period.

    Topics come from :func:`forumkit.analysis.activity.mentions_by_period` (``models`` = the types; the
    vocabulary's canonical names are Hub model types). The table covers the periods both sides have
    (the Hub's dated models and the forum's topics), so that both trends span the same window.
    Columns: ``period``, ``period_start``, ``model_type`` (most Hub models first), ``hub_models``
    (models created in the period), ``forum_topics`` (topics created in the period mentioning it),
    ``hub_trend``, ``forum_trend`` (the type's Mann-Kendall verdict over the window, at ``alpha``:
    rising, falling or no trend; see :func:`trend_contrast`). ``rows``: the Hub rows, if already read.
    """
    from ..activity import mentions_by_period

    _check(period, top)
    rows = model_rows(store, endpoint) if rows is None else rows
    uploads = uploads_by_type(rows, period=period, top=top, mapping=mapping)
    types = [t for t in pd.unique(uploads["model_type"]) if t not in (OTHER, UNKNOWN)]
    columns = ["period", "period_start", "model_type", "hub_models", "forum_topics", "hub_trend", "forum_trend"]
    if not types:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    topics = mentions_by_period(store, period=period, models=types, forum=forum)
    spelled = {t.casefold(): t for t in types}
    topics = topics.assign(model_type=[spelled.get(str(m).casefold(), m) for m in topics["model"]])
    hub = uploads[uploads["model_type"].isin(types)].rename(columns={"models": "hub_models"})
    frame = hub[["period", "period_start", "model_type", "hub_models"]].merge(
        topics[["period", "model_type", "topics"]].rename(columns={"topics": "forum_topics"}),
        on=["period", "model_type"], how="inner")
    frame["forum_topics"] = frame["forum_topics"].astype("int64")
    if frame.empty:
        log.warning("the Hub's models and the forum's topics have no period in common")
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    verdicts = trend_contrast(frame, alpha=alpha).set_index("model_type")
    frame["hub_trend"] = frame["model_type"].map(verdicts["hub_trend"])
    frame["forum_trend"] = frame["model_type"].map(verdicts["forum_trend"])
    return frame[columns].reset_index(drop=True)


def trend_contrast(table: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """Per model type of a :func:`forum_vs_hub` table: both trends side by side.

    Columns: ``model_type``, ``hub_models``, ``forum_topics`` (totals over the window), ``hub_trend``,
    ``hub_p``, ``hub_sen_slope``, ``forum_trend``, ``forum_p``, ``forum_sen_slope`` (Mann-Kendall via
    :func:`forumkit.analysis.trends.trend_table`; Sen's slope per period), ``pattern`` ("hub rising, forum falling"...).
    """
    columns = ["model_type", "hub_models", "forum_topics", "hub_trend", "hub_p", "hub_sen_slope", "forum_trend",
               "forum_p", "forum_sen_slope", "pattern"]
    if table.empty:
        return pd.DataFrame(columns=columns)
    sides = {}
    for side, value in (("hub", "hub_models"), ("forum", "forum_topics")):
        tested = trend_table(table, series="model_type", value=value, time="period_start", alpha=alpha)
        sides[side] = tested.set_index("series")[["trend", "p", "sen_slope"]].add_prefix(f"{side}_")
    totals = table.groupby("model_type", sort=False)[["hub_models", "forum_topics"]].sum()
    frame = totals.join(sides["hub"]).join(sides["forum"]).rename_axis("model_type").reset_index()
    frame["pattern"] = "hub " + frame["hub_trend"] + ", forum " + frame["forum_trend"]
    return frame[columns]


def plot_forum_vs_hub(table: pd.DataFrame, *, title: str = "Hub uploads and forum topics per model type",
                      cols: int = 3):
    """Small multiples, one panel per model type: Hub models created (left axis, line) and forum topics
    mentioning it (right axis, dashed), with both verdicts in the panel title. Returns a Figure."""
    import math

    import matplotlib.dates as mdates
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    types = list(pd.unique(table["model_type"]))
    cols = max(1, min(cols, len(types)))
    nrows = max(1, math.ceil(len(types) / cols))
    fig = Figure(figsize=(3.6 * cols, 2.5 * nrows), layout="constrained")
    axes = fig.subplots(nrows, cols, squeeze=False)  # one window for all: the same x range
    for ax, name in zip(axes.flat, types):
        part = table[table["model_type"] == name].sort_values("period_start")
        ax.plot(part["period_start"], part["hub_models"], color="#1f77b4", lw=1.3, label="Hub models")
        twin = ax.twinx()
        twin.plot(part["period_start"], part["forum_topics"], color="#d62728", lw=1.1, ls="--", label="forum topics")
        ax.set_title(f"{name}\nhub {part['hub_trend'].iloc[0]} · forum {part['forum_trend'].iloc[0]}", fontsize=8)
        for axis, color in ((ax, "#1f77b4"), (twin, "#d62728")):
            axis.set_ylim(bottom=0)
            axis.yaxis.set_major_locator(MaxNLocator(integer=True))
            axis.tick_params(labelsize=7)
            axis.tick_params(axis="y", colors=color)
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=7))
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    for ax in list(axes.flat)[len(types):]:
        ax.set_visible(False)
    fig.suptitle(f"{title} (solid, left: Hub models; dashed, right: forum topics)", fontsize=9)
    return fig


# -- everything at once ---------------------------------------------------------------------------------------------

@dataclass
class HubTrends:
    """The tables of :func:`hub_trends`. ``types``: model_type, models (dated), share (of dated models),
    most first; ``forum``/``contrast``: :func:`forum_vs_hub` and :func:`trend_contrast`, None without a
    forum with model mentions in the store."""

    period: str
    uploads: pd.DataFrame
    types: pd.DataFrame
    documentation: pd.DataFrame
    missing: pd.DataFrame
    dates: pd.DataFrame
    trends: pd.DataFrame
    forum: pd.DataFrame | None = None
    contrast: pd.DataFrame | None = None


def hub_trends(store: Store, *, period: str = "month", top: int = 10, endpoint: str | None = None,
               mapping: FamilyMapping | str | PathLike[str] | None = None, confidence: float = 0.95,
               alpha: float = 0.05, forum: str | None = None) -> HubTrends:
    """Every table of this module for the store's Hub models (and its forum, when it has one with mentions)."""
    rows = model_rows(store, endpoint)
    if rows.empty:
        raise StoreError(f"{store.path} holds no Hub models",
                         hint="collect them into it first: forumkit hub crawl --db PATH")
    mapping = _mapping(mapping)
    uploads = uploads_by_type(rows, period=period, top=top, mapping=mapping)
    documentation = documentation_by_period(rows, period=period, confidence=confidence)
    totals = uploads.groupby("model_type", sort=False)["models"].sum()
    types = totals.rename("models").rename_axis("model_type").reset_index()
    types["share"] = types["models"] / types["models"].sum() if types["models"].sum() else np.nan
    result = HubTrends(period, uploads, types, documentation, missing_attributes(rows, confidence=confidence),
                       date_coverage(rows), hub_trend_tests(uploads, documentation, alpha=alpha))
    forums = store.forums()
    if (forum is not None or len(forums) == 1) and store.query("SELECT 1 FROM model_mentions LIMIT 1"):
        result.forum = forum_vs_hub(store, period=period, top=top, forum=forum, mapping=mapping, alpha=alpha,
                                    rows=rows)
        result.contrast = trend_contrast(result.forum, alpha=alpha)
    return result


def _frames(result: HubTrends) -> Iterable[tuple[str, pd.DataFrame | None]]:
    p = result.period
    yield from ((f"hub_uploads_by_{p}", result.uploads), ("hub_types", result.types),
                (f"hub_documentation_by_{p}", result.documentation), ("hub_missing_attributes", result.missing),
                ("hub_creation_dates", result.dates), ("hub_trend_tests", result.trends),
                (f"hub_forum_vs_hub_by_{p}", result.forum), ("hub_forum_vs_hub_trends", result.contrast))


def write_tables(result: HubTrends, folder: str | PathLike[str]) -> dict[str, Path]:
    """Each table as ``folder/<name>.csv``; returns name -> path."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, frame in _frames(result):
        if frame is not None:
            paths[name] = out / f"{name}.csv"
            frame.to_csv(paths[name], index=False)
    return paths


def write_figures(result: HubTrends, folder: str | PathLike[str], *, top: int = 10) -> dict[str, Path]:
    """The figures as PNG and SVG in ``folder`` (via :mod:`forumkit.analysis.report.figures`); returns name -> SVG path."""
    from ..report import figures

    out, svgs = Path(folder), {}
    uploads = result.uploads
    if len(uploads):
        area = figures.share_area(uploads.rename(columns={"model_type": "name"}),
                                  f"Share of new Hub models per model type and {result.period}")
        area.axes[0].set_ylabel(f"share of the models created that {result.period}")
        svgs["hub_uploads_share"] = figures.save(area, out, "hub_uploads_share")["svg"]
        svgs["hub_uploads"] = figures.save(figures.lines(
            uploads, x="period_start", y="models", series="model_type", ylabel="models created",
            title=f"Hub models created per {result.period} and model type", top=top + 2), out, "hub_uploads")["svg"]
    if len(result.documentation):
        svgs["hub_documentation"] = figures.save(figures.small_multiples(
            result.documentation.rename(columns={"attribute": "name"}),
            f"Share of new Hub models documenting each attribute, per {result.period}"), out,
            "hub_documentation")["svg"]
    if result.forum is not None and len(result.forum):
        svgs["hub_forum_vs_hub"] = figures.save(plot_forum_vs_hub(result.forum), out, "hub_forum_vs_hub")["svg"]
    return svgs
