"""The report's "Topics over time" section, drawn from the latest topic run in the store (if any)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from forumkit.analysis.topictrends import topics_from_store, write_topic_trends

from .page import Section

if TYPE_CHECKING:
    from forumkit.store import Store


def topics_section(store: Store, figs: Path, tables: Path, *, period: str, alpha: float,
                   top: int = 12) -> Section:
    """The section; without a run of ``forumkit suggest topics`` in the store, one line saying so."""
    from forumkit.analysis.trends import RULE, screen

    trends = topics_from_store(store, period=period, alpha=alpha)
    if trends is None:
        section = Section("Topics over time", "topics")
        section.absent("No topic model in the store: run forumkit suggest topics (BERTopic over the forum's "
                       "topics) to see topics over time.")
        return section
    run = store.topic_run()
    assert run is not None  # topics_from_store found it
    svg = write_topic_trends(trends, tables, figures_dir=figs, top=top)
    section = Section("Topics over time", "topics",
                      f"{run['n_items']} {run['unit']}s in {run['n_topics']} topics ({run['model_version']}, "
                      f"run {run['id']}); outliers {run['outliers_before']:.1%} before reduction, "
                      f"{run['outliers_after']:.1%} after. Shares are of all items modelled in the {period}.")
    if "topic_shares" in svg:
        section.figure(svg["topic_shares"], f"Share of the items per {period} in the largest topics")
        section.figure(svg["topic_items"], f"Items per {period} in the largest topics")
    trends.topics.to_csv(tables / "topics.csv", index=False)
    shown = trends.topics.drop(columns=["share"]).rename(columns={"code_id": "nearest code"})
    section.table(shown, "Topics, their top words and nearest code (cosine similarity); new_code: no code "
                         "matches, a candidate for the codebook", csv="topics")
    tested = screen(trends.trends, RULE, alpha=alpha)
    columns = {"series": "topic", "n": "periods", "nonzero": "periods > 0", "first": "first", "last": "last",
               "sen_slope": "Sen slope", "trend": "trend", "p": "p", "p_adj": "p (BH)", "note": "note"}
    section.table(tested[[c for c in columns if c in tested]].rename(columns=columns),
                  f"Mann-Kendall trend tests of each topic's share; Sen's slope per {period}. {RULE.describe()} "
                  f"A trend is named where p (BH) < {alpha}.", csv="topic_trends", period=period)
    return section
