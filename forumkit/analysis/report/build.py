"""Assemble the report: tables from the analysis modules, figures, one HTML page, provenance.

``build_report`` writes ``index.html`` (self-contained), ``figures/*.png|svg``
and ``tables/*.csv`` into the output folder. Sections appear when their data
exists: the coded taxonomy and its trends need a coded table; agreement needs
two or more coders; forum activity and model mentions need only the store; topics
over time need a run of ``forumkit suggest topics`` in the store.
"""

from __future__ import annotations

import hashlib
import html
import platform
import shlex
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import pandas as pd

from forumkit import __version__
from forumkit.analysis import figures
from forumkit.analysis.activity import activity_by_period, answer_stats, mentions_by_period, posts_per_topic, response_times
from forumkit.analysis.aggregate import Aggregator
from forumkit.coding.codebook import Codebook
from forumkit.analysis.hubtrends import hub_endpoints, hub_trends, write_figures, write_tables
from forumkit.store import Store
from forumkit.analysis.trends import before_after, trend_table
from .page import Section, render, sunburst_div
from .topics import topics_section

PACKAGES = ("pandas", "numpy", "statsmodels", "pymannkendall", "matplotlib", "plotly", "krippendorff",
            "label-studio-sdk")


@dataclass(frozen=True)
class ReportOptions:
    period: str = "month"
    confidence: float = 0.95
    alpha: float = 0.05  # of the trend tests
    top: int = 8  # categories and models drawn in the line charts
    change_at: str | None = None  # compare before and after this date
    title: str = "forumkit report"


def build_report(store: Store, out_dir: str | Path, *, coded: pd.DataFrame | None = None,
                 codebooks: list[Codebook] | None = None, coders: pd.DataFrame | None = None,
                 options: ReportOptions = ReportOptions(), command: str | None = None) -> Path:
    """Write the report into ``out_dir`` and return the path of its index.html.

    ``coded`` is the table :func:`forumkit.analysis.aggregate.load_coded` returns (consensus or one coder per row);
    ``coders`` the per-coder table of a Label Studio project, for the agreement section.
    """
    out = Path(out_dir)
    figs, tables = out / "figures", out / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    sections: list[Section] = []
    plotly_needed = False
    if coded is not None and len(coded):
        sections += _taxonomy_sections(coded, codebooks, options, figs, tables)
        plotly_needed = True
    if coders is not None and (coders.groupby("item_id")["coder"].nunique() > 1).any():
        sections.append(_agreement_section(coders, tables))  # needs an item coded by two coders or more
    has_hub = not hub_endpoints(store).empty
    if store.forums() or not has_hub:
        sections.append(_activity_section(store, options, figs, tables))
        sections.append(_mentions_section(store, options, figs, tables))
    topics = topics_section(store, figs, tables, period=options.period, alpha=options.alpha)
    if topics is not None:  # a run of `forumkit suggest topics` is in the store
        sections.append(topics)
    if has_hub:
        sections.append(_hub_section(store, options, figs, tables))
    sections.append(_provenance_section(store, codebooks, command))
    plotly_js = ""
    if plotly_needed:
        from plotly.offline import get_plotlyjs

        plotly_js = get_plotlyjs()
    forums = ", ".join(url for _, url in store.forums())
    page = render(options.title, f"{forums} · generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC "
                                 f"by forumkit {__version__}", sections, plotly_js=plotly_js)
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def _save_table(frame: pd.DataFrame, tables: Path, name: str) -> None:
    frame.to_csv(tables / f"{name}.csv", index=False)


def _taxonomy_sections(coded: pd.DataFrame, codebooks: list[Codebook] | None, options: ReportOptions,
                       figs: Path, tables: Path) -> list[Section]:
    book = codebooks or None
    by_cat = Aggregator(level="category", period=None, confidence=options.confidence).fit(coded, book).totals_
    by_sub = Aggregator(level="subcategory", period=None, confidence=options.confidence).fit(coded, book).totals_
    over_time = Aggregator(level="category", period=options.period, confidence=options.confidence).fit(coded, book)
    counts = over_time.counts_
    _save_table(by_cat, tables, "categories")
    _save_table(by_sub, tables, "subcategories")
    _save_table(counts, tables, f"categories_by_{options.period}")
    n_items = int(by_cat["n_items"].max()) if len(by_cat) else 0

    taxonomy = Section("Taxonomy", "taxonomy", f"{n_items} coded items. Counts are items with at least one code "
                                               f"of the category; intervals are {options.confidence:.0%} Wilson.")
    taxonomy.raw(sunburst_div(by_sub, "Codes by category and subcategory"))
    taxonomy.figure(figures.save(figures.taxonomy_rings(by_sub, "Codes by category (inside) and subcategory"),
                                 figs, "taxonomy")["svg"], "The taxonomy as rings (static version of the sunburst)")
    taxonomy.figure(figures.save(figures.category_bars(by_cat, "Coded items per category"), figs,
                                 "categories")["svg"], "Items per category with Wilson intervals")
    taxonomy.table(by_cat.sort_values("n", ascending=False)[["category", "n", "n_items", "share", "ci_low",
                                                             "ci_high"]], "Items per category")

    trends = Section("Over time", "time", f"Share of coded items per {options.period} in each category.")
    trends.figure(figures.save(figures.share_area(counts, "Share of coded items per category"), figs,
                               "shares_area")["svg"], "Stacked shares (an item can have several categories)")
    trends.figure(figures.save(figures.small_multiples(counts, "Share per category, with intervals"), figs,
                               "shares_small_multiples")["svg"], "One panel per category")
    table = trend_table(counts, series="name", value="share", time="period_start", alpha=options.alpha)
    _save_table(table, tables, "category_trends")
    trends.table(table, f"Mann-Kendall trend tests of each category's share (alpha {options.alpha}; Hamed-Rao "
                        "variance correction where the series is autocorrelated); Sen's slope per period")
    if options.change_at:
        compared = before_after(counts, time="period_start", value="share", at=options.change_at, series="name")
        _save_table(compared, tables, "category_before_after")
        trends.table(compared, f"Before and after {options.change_at} (Mann-Whitney U)")
    return [taxonomy, trends]


def _agreement_section(coders: pd.DataFrame, tables: Path) -> Section:
    from forumkit.coding.agreement import Agreement, from_coded

    report = Agreement(n_boot=500, seed=0).fit(*from_coded(coders.rename(columns={"item_id": "item",
                                                                                  "code_id": "code"})))
    _save_table(report.overall_, tables, "agreement")
    _save_table(report.per_code_, tables, "agreement_per_code")
    section = Section("Agreement", "agreement", f"{report.overall_['n_coders'].max()} coders. Intervals: "
                                                "bootstrap over items (500 replicates).")
    section.table(report.overall_)
    return section


def _activity_section(store: Store, options: ReportOptions, figs: Path, tables: Path) -> Section:
    activity = activity_by_period(store, period="month", by_category=True)
    totals = activity_by_period(store, period="month", by_category=False)
    per_topic = posts_per_topic(store)
    answers = answer_stats(store, by_category=True)
    times = response_times(store)
    for frame, name in ((activity, "activity_by_month"), (per_topic, "posts_per_topic"),
                        (answers, "answers_by_category"), (times, "response_times")):
        _save_table(frame, tables, name)
    section = Section("Forum activity", "activity", "Topics and posts of the scraped forum (pinned and "
                                                    "category 'About' topics left out).")
    section.figure(figures.save(figures.lines(activity, x="period_start", y="topics_cum", series="category",
                                              title="Cumulative topics per category", ylabel="topics",
                                              top=options.top), figs, "cumulative_topics")["svg"],
                   "Cumulative topics per forum category")
    section.figure(figures.save(figures.lines(totals.assign(series="topics"), x="period_start", y="topics",
                                              series="series", title="Topics per month", ylabel="topics"),
                                figs, "topics_per_month")["svg"], "New topics per month")
    section.figure(figures.save(figures.histogram(per_topic, x="posts", y="topics", title="Posts per topic",
                                                  xlabel="posts in the topic", ylabel="topics"),
                                figs, "posts_per_topic")["svg"], "Distribution of posts per topic")
    section.table(answers, "Replies and accepted answers per category")
    section.table(times, "Time to the first reply and to the accepted answer, hours")
    trend = trend_table(activity, series="category", value="topics", time="period_start", alpha=options.alpha)
    _save_table(trend, tables, "activity_trends")
    section.table(trend, "Mann-Kendall trend of topics per month in each category")
    return section


def _mentions_section(store: Store, options: ReportOptions, figs: Path, tables: Path) -> Section:
    mentions = mentions_by_period(store, period="month", top=options.top)
    _save_table(mentions, tables, "model_mentions_by_month")
    section = Section("Model mentions", "models", "Topics per month whose posts mention each model "
                                                  "(title, text or code), for the most mentioned models.")
    if mentions.empty:
        section.text("No model mentions in the store.")
        return section
    section.figure(figures.save(figures.lines(mentions, x="period_start", y="topics", series="model",
                                              title="Topics mentioning each model", ylabel="topics",
                                              top=options.top), figs, "model_mentions")["svg"],
                   "Topics per month mentioning the most mentioned models")
    trend = trend_table(mentions, series="model", value="topics", time="period_start", alpha=options.alpha)
    _save_table(trend, tables, "model_trends")
    section.table(trend, "Mann-Kendall trend of topics mentioning each model")
    return section


def _hub_section(store: Store, options: ReportOptions, figs: Path, tables: Path) -> Section:
    endpoint = hub_endpoints(store)["endpoint"].iloc[0]  # the one with most models
    result = hub_trends(store, period=options.period, top=options.top, endpoint=endpoint,
                        confidence=options.confidence, alpha=options.alpha)
    write_tables(result, tables)
    svg = write_figures(result, figs, top=options.top)
    dated = result.dates.set_index("status")["models"]
    section = Section("Hugging Face Hub", "hub", f"{int(dated.sum())} models of {endpoint}; "
                                                 f"{int(dated['known'])} with a known creation date count in the "
                                                 f"tables by {options.period} (the Hub dates older models "
                                                 f"2022-03-02 or not at all). Intervals: {options.confidence:.0%} "
                                                 "Wilson.")
    if "hub_uploads_share" in svg:
        section.figure(svg["hub_uploads_share"], f"Share of the models created each {options.period}, per model "
                                                 f"type (the {options.top} largest, other, unknown)")
        section.figure(svg["hub_uploads"], f"Models created per {options.period} and model type")
    if "hub_documentation" in svg:
        section.figure(svg["hub_documentation"], "Share of new models documenting each attribute, with intervals")
    section.table(result.missing, "Attributes present and missing, all models (Jiang et al., ICSE 2023)")
    section.table(result.trends, f"Mann-Kendall trend tests (alpha {options.alpha}) of each type's uploads and "
                                 "each attribute's share; Sen's slope per period")
    if result.forum is not None and "hub_forum_vs_hub" in svg:
        section.figure(svg["hub_forum_vs_hub"], "Hub uploads beside forum topics mentioning each model type")
        section.table(result.contrast, "Trends of Hub uploads and forum topics per model type, over the periods "
                                       "both cover")
    return section


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()[:16]


def _provenance_section(store: Store, codebooks: list[Codebook] | None, command: str | None) -> Section:
    section = Section("Provenance", "provenance", "What produced this report, to reproduce it.")
    cmd = command or " ".join(shlex.quote(a) for a in sys.argv)
    section.raw(f"<pre>{html.escape(cmd)}</pre>")
    rows = [("forumkit", __version__), ("python", platform.python_version())]
    for name in PACKAGES:
        try:
            rows.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            continue
    rows.append(("store", f"{store.path} (sha256 {_digest(store.path)}…)"))
    rows += [(f"crawl of {url}", f"{started} → {finished}, {requests} requests")
             for url, started, finished, requests in store.recent_crawls(5)]
    rows += [(f"codebook {b.id}", f"version {b.version}") for b in codebooks or ()]
    counts = store.counts()
    rows.append(("store rows", ", ".join(f"{k} {v}" for k, v in counts.items())))
    section.table(pd.DataFrame(rows, columns=["what", "version"]))
    return section
