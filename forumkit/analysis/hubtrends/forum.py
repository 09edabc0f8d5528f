"""The forum beside the Hub: Hub uploads of each model type next to the forum topics that mention it."""

from __future__ import annotations

import logging
from os import PathLike

import pandas as pd

from forumkit.dates import check_period
from forumkit.store import Store
from ..activity import mentions_by_period
from ..trends import trend_table
from .families import OTHER, UNKNOWN, FamilyMapping
from .measures import check_top, uploads_by_type
from .rows import model_rows

__all__ = ["forum_vs_hub", "trend_contrast"]

log = logging.getLogger(__name__)


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
    check_period(period)
    check_top(top)
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
