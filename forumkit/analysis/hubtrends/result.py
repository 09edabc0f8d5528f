"""Every Hub trends table at once (:func:`hub_trends`), and the tables as CSV files."""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from forumkit.errors import StoreError
from forumkit.store import Store
from .families import FamilyMapping, resolve_mapping
from .forum import forum_vs_hub, trend_contrast
from .measures import documentation_by_period, hub_trend_tests, missing_attributes, uploads_by_type
from .rows import date_coverage, model_rows

__all__ = ["HubTrends", "hub_trends", "write_tables"]


@dataclass
class HubTrends:
    """The tables of :func:`hub_trends`. ``types``: model_type, models (dated), share (of dated models),
    most first; ``forum``/``contrast``: :func:`~.forum.forum_vs_hub` and :func:`~.forum.trend_contrast`, None without a
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
    """Every Hub trends table for the store's Hub models (and its forum, when it has one with mentions)."""
    rows = model_rows(store, endpoint)
    if rows.empty:
        raise StoreError(f"{store.path} holds no Hub models",
                         hint="collect them into it first: forumkit hub crawl --db PATH")
    mapping = resolve_mapping(mapping)
    uploads = uploads_by_type(rows, period=period, top=top, mapping=mapping)
    documentation = documentation_by_period(rows, period=period, confidence=confidence)
    totals = uploads.groupby("model_type", sort=False)["models"].sum()
    types = totals.rename("models").rename_axis("model_type").reset_index()
    types["share"] = types["models"] / types["models"].sum() if types["models"].sum() else np.nan
    result = HubTrends(period, uploads, types, documentation, missing_attributes(rows, confidence=confidence),
                       date_coverage(rows), hub_trend_tests(uploads, documentation, alpha=alpha))
    forums = store.forums()
    if (forum is not None or len(forums) == 1) and store.has_model_mentions():
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
