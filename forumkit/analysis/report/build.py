"""Assemble the report: tables from the analysis modules, figures, one HTML page, provenance.

``build_report`` writes ``index.html`` (self-contained), ``figures/*.png|svg`` and ``tables/*.csv`` into the
output folder. Every section is listed; one without data says why and what would give it data: each codebook's
taxonomy and trends need a coded table; agreement needs two or more coders; suggestion acceptance a project
pushed with suggestions and pulled; topics over time a run of ``forumkit suggest topics`` in the store; the
Hub section Hub models in the store; forum activity and model mentions a scraped forum.
"""

from __future__ import annotations

import hashlib
import html
import shlex
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from forumkit import __version__
from forumkit.analysis import figures
from forumkit.analysis.activity import activity_by_period, answer_stats, mentions_by_period, posts_per_topic, response_times
from forumkit.analysis.hubtrends import hub_endpoints, hub_trends, write_figures, write_tables
from forumkit.analysis.trends import RULE, adjust_bh, screen, trend_table
from forumkit.coding.codebook import Codebook
from forumkit.store import Store
from forumkit.versions import versions
from .coding import agreement_section, suggestions_section
from .cooccurrence import cooccurrence_section
from .page import Section, for_reader, render
from .taxonomy import taxonomy_sections
from .topics import topics_section

#: The columns of a trend table a reader needs, as the report names them (the CSV beside it has them all).
TREND_SHOWN = {"series": "series", "n": "periods", "nonzero": "periods > 0", "first": "first", "last": "last",
               "sen_slope": "Sen slope", "trend": "trend", "p": "p", "p_adj": "p (BH)", "change_at": "change at",
               "note": "note"}


@dataclass(frozen=True)
class ReportOptions:
    period: str = "month"
    confidence: float = 0.95
    alpha: float = 0.05  # of the trend tests, on the Benjamini-Hochberg adjusted p-values
    top: int = 8  # categories and models drawn in the line charts
    change_at: str | None = None  # compare before and after this date
    title: str = "forumkit report"


def build_report(store: Store, out_dir: str | Path, *, coded: pd.DataFrame | None = None,
                 codebooks: list[Codebook] | None = None, coders: pd.DataFrame | None = None,
                 options: ReportOptions = ReportOptions(), command: str | None = None,
                 project: int | None = None) -> Path:
    """Write the report into ``out_dir`` and return the path of its index.html.

    ``coded`` is the table :func:`forumkit.analysis.aggregate.load_coded` returns (consensus or one coder per row);
    ``codebooks`` the codebooks it was coded with (one section each); ``coders`` the per-coder table of a Label
    Studio project, for the agreement section; ``project`` that project's forumkit id, for the suggestion
    acceptance section (None: the only pulled project, when ``coders`` is given).
    """
    out = Path(out_dir)
    figs, tables = out / "figures", out / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    sections: list[Section] = []
    if coded is not None and len(coded):
        sections += taxonomy_sections(coded, codebooks, options, figs, tables)
    else:
        absent = Section("Taxonomy", "taxonomy")
        absent.absent("No coded data given: pull a coded Label Studio project into the store (forumkit studio "
                      "pull) or pass a coded table (forumkit report --coded FILE --codebook FILE), then run "
                      "forumkit report again.")
        sections.append(absent)
    sections.append(cooccurrence_section(coded, codebooks, figs, tables))
    sections.append(agreement_section(coders, tables))
    sections.append(suggestions_section(store, project, coders, tables))
    sections.append(topics_section(store, figs, tables, period=options.period, alpha=options.alpha))
    has_hub = not hub_endpoints(store).empty
    if store.forums() or not has_hub:
        sections.append(_activity_section(store, options, figs, tables))
        sections.append(_mentions_section(store, options, figs, tables))
    sections.append(_hub_section(store, options, figs, tables) if has_hub else _no_hub())
    sections.append(_provenance_section(store, codebooks, command))
    plotly_js = ""
    if any("plotly" in block for section in sections for block in section.blocks):
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


def shown_trends(table: pd.DataFrame, alpha: float, *, series: str = "series") -> pd.DataFrame:
    """A trend table screened by :data:`~forumkit.analysis.trends.RULE` (BH within it), the reader's columns."""
    screened = screen(table, RULE, alpha=alpha)
    return screened[[c for c in TREND_SHOWN if c in screened]].rename(columns={**TREND_SHOWN, "series": series})


def _trend_caption(what: str, period: str, alpha: float) -> str:
    return (f"Mann-Kendall trend tests of {what} (Hamed-Rao variance correction where the series is "
            f"autocorrelated); Sen's slope per {period}; change at: Pettitt's most probable change point. "
            f"{RULE.describe()} A trend is named where p (BH) < {alpha}.")


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
    section.table(_answers_shown(answers), "Replies and accepted answers per forum category: topics (share)",
                  csv="answers_by_category")
    section.table(times, "Time to the first reply and to the accepted answer, hours", csv="response_times")
    trend = trend_table(activity, series="category", value="topics", time="period_start", alpha=options.alpha)
    _save_table(for_reader(screen(trend, RULE, alpha=options.alpha), "month"), tables, "activity_trends")
    section.table(shown_trends(trend, options.alpha, series="category"),
                  _trend_caption("topics per month in each forum category", "month", options.alpha),
                  csv="activity_trends", period="month")
    return section


def _answers_shown(answers: pd.DataFrame) -> pd.DataFrame:
    """The columns of :func:`answer_stats` a reader needs, each count with its share."""
    def both(count: str) -> pd.Series:
        return answers[count].astype(int).astype(str) + " (" + answers[f"{count}_share"].map("{:.0%}".format) + ")"

    return pd.DataFrame({"category": answers["category"], "topics": answers["topics"], "no reply": both("no_reply"),
                         "accepted answer": both("accepted"), "accepted: staff's": both("accepted_by_staff"),
                         "the asker's": both("accepted_by_op"), "others'": both("accepted_by_others")})


def _mentions_section(store: Store, options: ReportOptions, figs: Path, tables: Path) -> Section:
    mentions = mentions_by_period(store, period="month", top=options.top)
    _save_table(mentions, tables, "model_mentions_by_month")
    section = Section("Model mentions", "models", "Topics per month whose posts mention each model "
                                                  "(title, text or code), for the most mentioned models.")
    if mentions.empty:
        section.absent("No model mentions in the store's posts (the collector finds mentions of the models "
                       "it knows when it scrapes).")
        return section
    section.figure(figures.save(figures.lines(mentions, x="period_start", y="topics", series="model",
                                              title="Topics mentioning each model", ylabel="topics",
                                              top=options.top), figs, "model_mentions")["svg"],
                   "Topics per month mentioning the most mentioned models")
    trend = trend_table(mentions, series="model", value="topics", time="period_start", alpha=options.alpha)
    _save_table(for_reader(screen(trend, RULE, alpha=options.alpha), "month"), tables, "model_trends")
    section.table(shown_trends(trend, options.alpha, series="model"),
                  _trend_caption("topics per month mentioning each model", "month", options.alpha),
                  csv="model_trends", period="month")
    return section


def _hub_section(store: Store, options: ReportOptions, figs: Path, tables: Path) -> Section:
    endpoint = hub_endpoints(store)["endpoint"].iloc[0]  # the one with most models
    result = hub_trends(store, period=options.period, top=options.top, endpoint=endpoint,
                        confidence=options.confidence, alpha=options.alpha)
    written = write_tables(result, tables)
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
    section.table(result.missing, "Attributes present and missing, all models (Jiang et al., ICSE 2023)",
                  csv=_written(written, "hub_missing_attributes"))
    hub_tests = result.trends.assign(series=result.trends["table"] + ": " + result.trends["series"].astype(str))
    section.table(shown_trends(hub_tests, options.alpha),
                  _trend_caption(f"each model type's uploads and each attribute's share per {options.period}",
                                 options.period, options.alpha), period=options.period,
                  csv=_written(written, "hub_trend_tests"))
    if result.forum is not None and "hub_forum_vs_hub" in svg:
        section.figure(svg["hub_forum_vs_hub"], "Hub uploads beside forum topics mentioning each model type")
        contrast = result.contrast.copy()
        for side in ("hub", "forum"):  # corrected within each side's series, beside the raw p
            contrast.insert(contrast.columns.get_loc(f"{side}_p") + 1, f"{side}_p (BH)", adjust_bh(contrast[f"{side}_p"]))
        shown = contrast[["model_type", "hub_models", "forum_topics", "hub_trend", "hub_p", "hub_p (BH)",
                          "forum_trend", "forum_p", "forum_p (BH)", "pattern"]].rename(columns=lambda c: c.replace("_", " "))
        section.table(shown, "Trends of Hub uploads and forum topics per model type, over the periods both cover "
                                "(trend named on the raw p; the Benjamini-Hochberg adjusted p beside it)",
                      period=options.period, csv=_written(written, "hub_forum_vs_hub_trends"))
    return section


def _written(paths: dict[str, Path], name: str) -> str | None:
    """``name`` when that table was written (linked under the table), else None."""
    return name if name in paths else None


def _no_hub() -> Section:
    section = Section("Hugging Face Hub", "hub")
    section.absent("No Hub models in the store: collect them into the same store as the forum (forumkit hub "
                   "crawl --db FILE) to see Hub uploads beside the forum's model mentions.")
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
    rows = versions()
    rows.append(("store", f"{store.path} (sha256 {_digest(store.path)}…)"))
    rows += [(f"crawl of {url}", f"{started} → {finished}, {requests} requests")
             for url, started, finished, requests in store.recent_crawls(5)]
    rows += [(f"codebook {b.id}", f"version {b.version}") for b in codebooks or ()]
    counts = store.counts()
    rows.append(("store rows", ", ".join(f"{k} {v}" for k, v in counts.items())))
    section.table(pd.DataFrame(rows, columns=["what", "version"]))
    return section
