"""The Hub models of a store as rows, their cells, and their creation dates.

A row is a ``hub_models`` row (:data:`ROW_COLUMNS`, lists as JSON text), or a row of any DataFrame with some
of those columns: a column a frame lacks is taken as empty.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import pandas as pd

from forumkit.collect.hub.records import PLACEHOLDER_CREATED_AT as PLACEHOLDER_CREATED, is_placeholder
from forumkit.errors import StoreError, UsageError
from forumkit.store import Store

__all__ = ["PLACEHOLDER_CREATED", "ROW_COLUMNS", "date_coverage", "hub_endpoints", "model_rows"]

log = logging.getLogger(__name__)

ROW_COLUMNS = ["endpoint", "id", "author", "created_at", "created_known", "last_modified", "pipeline_tag",
               "library_name", "model_type", "base_models", "tags", "downloads", "likes", "has_card", "card_data",
               "license", "languages", "datasets", "has_metrics", "has_model_index", "fetched_at"]


def hub_endpoints(store: Store) -> pd.DataFrame:
    """The Hub endpoints in the store: columns ``endpoint``, ``models``; most models first."""
    return pd.DataFrame(store.hub_model_counts(), columns=["endpoint", "models"])


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
    return pd.DataFrame(store.hub_model_table(endpoint.rstrip("/"), ROW_COLUMNS), columns=ROW_COLUMNS)


def column(rows: pd.DataFrame, name: str) -> pd.Series:
    """A column of the rows, or an empty one when the frame lacks it."""
    return rows[name] if name in rows.columns else pd.Series(None, index=rows.index, dtype="object")


def as_list(value: Any) -> list[str]:
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


def clean(value: Any) -> str | None:
    """A string, None where missing or blank."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value).strip() or None


def text_cells(values: pd.Series) -> pd.Series:
    """:func:`clean` of each cell of a column."""
    return pd.Series([clean(v) for v in values.tolist()], index=values.index, dtype="object")


def created(rows: pd.DataFrame, include_unknown_dates: bool) -> tuple[pd.Series, int]:
    """(creation moments as aware UTC timestamps, NaT where left out; how many were left out).

    A date is known when ``created_known`` says so; a frame without that column is judged as the collector
    judges (:func:`forumkit.collect.hub.records.is_placeholder`: any time in the placeholder's minute).
    """
    raw = column(rows, "created_at")
    moments = pd.to_datetime(raw, utc=True, format="ISO8601", errors="coerce")
    unreadable = int((moments.isna() & raw.notna()).sum())
    if unreadable:
        log.warning("%d creation dates are not ISO-8601: taken as missing", unreadable)
    if "created_known" in rows.columns:
        known = rows["created_known"].fillna(0).astype(bool)
    else:
        known = moments.notna() & ~moments.map(lambda moment: moment is not pd.NaT and is_placeholder(moment))
    keep = moments.notna() if include_unknown_dates else moments.notna() & known
    return moments.where(keep), int((~keep).sum())


def date_coverage(rows: pd.DataFrame) -> pd.DataFrame:
    """How many models have a known creation date: columns ``status`` (known; placeholder: the Hub's date is
    not the creation date, created_known 0; missing: no date), ``models``, ``share`` (of all rows)."""
    moments, _ = created(rows, include_unknown_dates=True)
    known = created(rows, include_unknown_dates=False)[0].notna()
    counts = {"known": int(known.sum()), "placeholder": int((moments.notna() & ~known).sum()),
              "missing": int(moments.isna().sum())}
    frame = pd.DataFrame({"status": list(counts), "models": list(counts.values())})
    frame["share"] = frame["models"] / len(rows) if len(rows) else np.nan
    return frame
