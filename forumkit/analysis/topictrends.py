"""Topics over time: how many items of each topic per month or quarter, and whether that share trends.

The topics come from a run of :func:`forumkit.coding.suggest.topics.suggest_topics` (stored in the store, so
the report can draw them later). For each topic and calendar period (UTC, :mod:`forumkit.dates`) the table
holds the items created in the period that the topic has, and their share of all items modelled in the
period (outliers included in the denominator); every topic has a row for every period from the first to the
last, zeros included. Each topic's share series is tested with :func:`forumkit.analysis.trends.trend_table`
(Mann-Kendall with Hamed-Rao's correction where autocorrelated, Sen's slope, Pettitt's change point).

:func:`run_topics` is the whole ``forumkit suggest topics`` command: the model, then these tables and
figures in ``out_dir``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import pandas as pd

from forumkit.dates import check_period, period_calendar, period_label, period_starts
from forumkit.errors import UsageError

from .trends import trend_table

if TYPE_CHECKING:
    from forumkit.coding.codebook import Codebook
    from forumkit.coding.suggest.topics import TopicOptions, TopicResult
    from forumkit.store import Store

__all__ = ["TopicTrends", "topic_counts", "topic_trends", "topics_from_store", "run_topics", "write_topic_trends"]

COUNT_COLUMNS = ["period", "period_start", "topic", "name", "items", "period_items", "share"]


@dataclass
class TopicTrends:
    """``counts`` (columns of :data:`COUNT_COLUMNS`), ``trends`` (trend_table's columns plus topic, code_id,
    similarity, new_code), ``topics`` (topic, name, size, share, words, code_id, similarity, new_code) and
    ``new_codes`` (the topics that match no code, with their trend)."""

    counts: pd.DataFrame
    trends: pd.DataFrame
    topics: pd.DataFrame
    new_codes: pd.DataFrame
    period: str


def topic_counts(items: pd.DataFrame, names: dict[int, str], period: str = "quarter") -> pd.DataFrame:
    """Items per topic and period (``items``: created_at, topic); undated items are left out."""
    check_period(period)
    dated = items[items["created_at"].notna()]
    if dated.empty:
        return pd.DataFrame(columns=COUNT_COLUMNS)
    starts = period_starts(dated["created_at"], period)
    keys = pd.DataFrame({"topic": dated["topic"].to_numpy(), "period_start": starts.array})
    per_topic = keys.groupby(["topic", "period_start"]).size()
    per_period = starts.value_counts()
    grid = pd.MultiIndex.from_product([sorted(t for t in names if t != -1), period_calendar(starts, period)],
                                      names=["topic", "period_start"])
    frame = pd.DataFrame({"items": per_topic.reindex(grid, fill_value=0)}).reset_index()
    frame["items"] = frame["items"].astype("int64")
    frame["period_start"] = frame["period_start"].dt.as_unit("us")
    frame["period_items"] = frame["period_start"].map(per_period).fillna(0).astype("int64")
    frame["share"] = (frame["items"] / frame["period_items"].where(frame["period_items"] > 0)).fillna(0.0).round(6)
    frame["name"] = frame["topic"].map(names)
    frame["period"] = [period_label(s, period) for s in frame["period_start"]]
    return frame[COUNT_COLUMNS]


def topic_trends(items: pd.DataFrame, topics: pd.DataFrame, *, period: str = "quarter",
                 alpha: float = 0.05) -> TopicTrends:
    """Counts per period and the trend test of each topic's share; ``topics`` as a run's topics table."""
    names = dict(zip(topics["topic"], topics["name"]))
    counts = topic_counts(items, names, period)
    trends = trend_table(counts, series="name", value="share", time="period_start", alpha=alpha)
    keyed = topics.set_index("name")
    for column in ("topic", "code_id", "similarity", "new_code"):
        trends.insert(len(trends.columns), column, trends["series"].map(keyed[column]) if len(trends) else [])
    summary = topics[["topic", "name", "size", "share", "words", "code_id", "similarity", "new_code"]]
    trend_of = trends.set_index("topic")[["trend", "sen_slope", "p"]] if len(trends) else None
    new_codes = summary[summary["new_code"].astype(bool)].drop(columns="new_code").copy()
    if trend_of is not None and len(new_codes):
        new_codes = new_codes.join(trend_of, on="topic")
    return TopicTrends(counts, trends, summary, new_codes.reset_index(drop=True), period)


def topics_from_store(store: Store, run_id: int | None = None, *, period: str = "quarter",
                      alpha: float = 0.05) -> TopicTrends | None:
    """The trends of a stored topic run (the latest when ``run_id`` is None); None when the store has none."""
    run = store.topic_run(run_id)
    if run is None:
        return None
    items = pd.DataFrame(store.topic_items(run["id"]), columns=["item_id", "created_at", "topic", "topic_before"])
    words = pd.DataFrame(store.topic_words(run["id"]), columns=["topic", "rank", "word", "weight"])
    codes = pd.DataFrame(store.topic_codes(run["id"]), columns=["topic", "rank", "codebook", "code_id",
                                                                "category_id", "similarity", "score"])
    sizes = items[items["topic"] != -1]["topic"].value_counts()
    rows = []
    threshold = float(run["options"].get("new_code_similarity", 0.0))
    best = codes[codes["rank"] == 1].set_index("topic")
    for topic, part in words.groupby("topic", sort=True):
        top = list(part.sort_values("rank")["word"])
        similarity = float(best["similarity"].get(topic, float("nan")))
        rows.append({"topic": int(topic), "name": f"{topic}_" + "_".join(top[:4]), "size": int(sizes.get(topic, 0)),
                     "share": round(int(sizes.get(topic, 0)) / max(len(items), 1), 6), "words": " ".join(top),
                     "code_id": best["code_id"].get(topic), "similarity": similarity,
                     "new_code": not similarity >= threshold})
    topics = pd.DataFrame(rows, columns=["topic", "name", "size", "share", "words", "code_id", "similarity",
                                         "new_code"])
    return topic_trends(items, topics, period=period, alpha=alpha)


def _figures(trends: TopicTrends, folder: Path, top: int) -> dict[str, Path]:
    """The share of the ``top`` largest topics per period (small multiples) and the items per period (lines)."""
    from . import figures

    counts = trends.counts
    if counts.empty:
        return {}
    largest = list(trends.topics.sort_values(["size", "topic"], ascending=[False, True])["name"][:top])
    chosen = counts[counts["name"].isin(largest)]
    shares = figures.small_multiples(chosen, f"Share of the items per {trends.period}, largest topics",
                                     value="share", band=False)
    lines = figures.lines(chosen, x="period_start", y="items", series="name",
                          title=f"Items per {trends.period} in the largest topics", ylabel="items", top=top)
    return {"topic_shares": figures.save(shares, folder, "topic_shares")["svg"],
            "topic_items": figures.save(lines, folder, "topic_items")["svg"]}


def write_topic_trends(trends: TopicTrends, out_dir: str | Path, *, figures_dir: str | Path | None = None,
                       top: int = 12, new_codes: bool = True) -> dict[str, Path]:
    """Tables (``topics_by_{period}.csv``, ``topic_trends.csv``, and ``new_code_trends.csv`` when
    ``new_codes``) in ``out_dir`` and figures (``topic_shares``, ``topic_items``, PNG and SVG) in
    ``figures_dir`` (default ``out_dir/figures``); returns the SVG paths by name."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    trends.counts.to_csv(out / f"topics_by_{trends.period}.csv", index=False, lineterminator="\n")
    trends.trends.to_csv(out / "topic_trends.csv", index=False, lineterminator="\n")
    if new_codes:
        trends.new_codes.to_csv(out / "new_code_trends.csv", index=False, lineterminator="\n")
    return _figures(trends, Path(figures_dir) if figures_dir is not None else out / "figures", top)


def run_topics(store: Store, codebooks: Sequence[Codebook], out_dir: str | Path, options: TopicOptions, *,
               period: str = "quarter", alpha: float = 0.05,
               progress: Callable[[int, int], None] | None = None) -> tuple[TopicResult, TopicTrends]:
    """``forumkit suggest topics``: fit, store and write the topics, then their trends over time in ``out_dir``."""
    from forumkit.coding.suggest.topics import suggest_topics

    check_period(period)
    if not 0 < alpha < 1:
        raise UsageError(f"alpha {alpha} is not between 0 and 1", hint="use e.g. 0.05")
    result = suggest_topics(store, codebooks, out_dir, options, progress=progress)
    trends = topic_trends(result.items, result.topics, period=period, alpha=alpha)
    write_topic_trends(trends, out_dir, new_codes=False)
    if len(trends.trends):  # the candidate new codes get their trend beside their words, size and examples
        trend = trends.trends.set_index("topic")[["trend", "sen_slope", "p"]]
        result.new_codes = result.new_codes.join(trend, on="topic")
        result.new_codes.to_csv(Path(out_dir) / "new_codes.csv", index=False, lineterminator="\n")
    return result, trends
