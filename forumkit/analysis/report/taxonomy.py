"""The report's sections of the coded taxonomy: one section per codebook, as a paper reports each on its own.

Each codebook gets its name and version, its sunburst, its category frequencies with Wilson intervals, its
shares over time (a category x period heatmap and small multiples, categories by frequency) and its trend
tests under the one rule of :data:`forumkit.analysis.trends.RULE`, Benjamini-Hochberg adjusted within the
codebook. The denominator of every share is the coded items of the period (all codebooks'), so a category's
share reads "of the coded topics, this share had a code of the category".
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forumkit.analysis import figures
from forumkit.analysis.aggregate import Aggregator
from forumkit.analysis.trends import RULE, before_after, trend_table
from .charts import by_frequency, share_heatmap, share_multiples
from .page import Section, for_reader, sunburst_div

if TYPE_CHECKING:
    from forumkit.coding.codebook import Codebook

    from .build import ReportOptions

__all__ = ["taxonomy_sections", "TREND_COLUMNS"]

#: The trend-test columns a reader needs (the CSV beside the report has them all).
TREND_COLUMNS = {"series": "category", "n": "periods", "nonzero": "periods > 0", "items": "items/period",
                 "first": "first", "last": "last", "sen_slope": "Sen slope", "trend": "trend", "p": "p",
                 "p_adj": "p (BH)", "note": "note"}


@dataclass(frozen=True)
class _Book:
    """One codebook's part of the coded data: its key in the ``codebook`` column, title and file-safe id."""

    key: str | None
    title: str
    slug: str


def _books(codebooks: list[Codebook] | None) -> list[_Book]:
    if not codebooks:
        return [_Book(None, "Codes (no codebook given: each code is its own category)", "codes")]
    return [_Book(b.id, f"{b.name} (codebook {b.id}, version {b.version})", re.sub(r"[^A-Za-z0-9]+", "-", b.id))
            for b in codebooks]


def _part(frame: pd.DataFrame, book: _Book) -> pd.DataFrame:
    return frame if book.key is None else frame[frame["codebook"] == book.key]


def _interval(frame: pd.DataFrame) -> pd.Series:
    return frame["ci_low"].map("{:.2f}".format) + " – " + frame["ci_high"].map("{:.2f}".format)


def taxonomy_sections(coded: pd.DataFrame, codebooks: list[Codebook] | None, options: ReportOptions,
                      figs: Path, tables: Path) -> list[Section]:
    """The sections of every codebook (a codebook none of whose codes was applied says so)."""
    book_arg = codebooks or None
    fit = {level: Aggregator(level=level, period=None, confidence=options.confidence).fit(coded, book_arg).totals_
           for level in ("category", "subcategory")}
    timed = Aggregator(level="category", period=options.period, confidence=options.confidence).fit(coded, book_arg)
    over_time = timed.counts_
    books = _books(codebooks)
    periods = over_time.sort_values("period_start")["period"]
    overview = Section("Taxonomy", "taxonomy", f"{timed.n_items_} coded items"
                       + (f", {periods.iloc[0]} to {periods.iloc[-1]} by {options.period}" if len(periods) else "")
                       + (f" ({timed.n_undated_} without a date count in the totals only)" if timed.n_undated_ else "")
                       + f". Each codebook is reported in its own section: {len(books)} below.")
    overview.raw("<ul>" + "".join(f"<li><a href='#codebook-{b.slug}'>{html.escape(b.title)}</a></li>" for b in books)
                 + "</ul>")
    fit["category"].to_csv(tables / "categories.csv", index=False)  # every codebook's, as earlier reports wrote
    fit["subcategory"].to_csv(tables / "subcategories.csv", index=False)
    over_time.to_csv(tables / f"categories_by_{options.period}.csv", index=False)
    sections: list[Section] = [overview]
    for book in books:
        sections += _book_sections(book, _part(fit["category"], book), _part(fit["subcategory"], book),
                                   _part(over_time, book), options, figs, tables)
    return sections


def _book_sections(book: _Book, by_cat: pd.DataFrame, by_sub: pd.DataFrame, counts: pd.DataFrame,
                   options: ReportOptions, figs: Path, tables: Path) -> list[Section]:
    slug, period = book.slug, options.period
    n_items = int(by_cat["n_items"].max()) if len(by_cat) else 0
    main = Section(book.title, f"codebook-{slug}", f"{n_items} coded items. A category counts the items with at "
                                                   "least one of its codes; shares are of all coded items (an item "
                                                   f"can have several categories); intervals are {options.confidence:.0%}"
                                                   " Wilson score intervals.")
    if not len(by_cat) or int(by_cat["n"].sum()) == 0:
        main.absent("No code of this codebook was applied to the coded items.")
        return [main]
    by_cat.to_csv(tables / f"{slug}_categories.csv", index=False)
    by_sub.to_csv(tables / f"{slug}_subcategories.csv", index=False)
    main.raw(sunburst_div(by_sub, f"{book.title}: categories (inside) and subcategories", div_id=f"sunburst-{slug}"))
    rings = figures.save(figures.taxonomy_rings(by_sub, "Codes by category (inside) and subcategory"), figs,
                         f"{slug}_taxonomy")
    main.text(f"A static version of the sunburst, for print: figures/{rings['png'].name} and "
              f"figures/{rings['svg'].name}.")
    main.figure(figures.save(figures.category_bars(by_cat, "Coded items per category"), figs,
                             f"{slug}_categories")["svg"], "Items per category with Wilson intervals")
    order = by_frequency(by_cat.assign(period="all"))
    frequencies = by_cat.set_index("name").loc[order].reset_index()
    shown = pd.DataFrame({"category": frequencies["name"], "items": frequencies["n"],
                          "share": frequencies["share"].map("{:.1%}".format),
                          f"{options.confidence:.0%} interval": _interval(frequencies)})
    main.table(shown, f"Items per category (of {n_items} coded items), most frequent first", csv=f"{slug}_categories")
    counts.to_csv(tables / f"{slug}_categories_by_{period}.csv", index=False)
    coded_names = set(by_cat.loc[by_cat["n"] > 0, "name"])
    never = [name for name in order if name not in coded_names]
    drawn = counts[counts["name"].isin(coded_names)]  # a category never coded is a row of zeros: listed instead

    over = Section(f"{book.title.split(' (')[0]}: shares over time", f"codebook-{slug}-time",
                   f"Share of the coded items of each {period} with a code of each category; the number under a "
                   f"{period} is its coded items (n).", level=3)
    over.figure(figures.save(share_heatmap(drawn, f"Share of coded items per category and {period}"), figs,
                             f"{slug}_shares_heatmap")["svg"],
                f"Category x {period} heatmap of shares, most frequent category first")
    if never:
        over.text(f"Never coded, left out of the figures: {', '.join(never)}.")
    over.figure(figures.save(share_multiples(drawn, f"Share per category and {period}, with "
                                                     f"{options.confidence:.0%} intervals"), figs,
                             f"{slug}_shares_small_multiples")["svg"],
                "One panel per category, most frequent first (n: its coded items), same axes")
    if counts["period"].nunique() <= 16:  # wider grids are in the CSV only
        over.table(_share_grid(drawn), f"Share of coded items per category and {period} (last row: coded items)",
                   csv=f"{slug}_categories_by_{period}")
    else:
        over.text(f"The counts, shares and intervals per {period}: tables/{slug}_categories_by_{period}.csv.")
    tested = _trends(counts, options)
    for_reader(tested, period).to_csv(tables / f"{slug}_category_trends.csv", index=False)
    trends = Section(f"{book.title.split(' (')[0]}: trend tests", f"codebook-{slug}-trends",
                     f"Mann-Kendall test of each category's share per {period} (Hamed-Rao variance correction "
                     f"where the series is autocorrelated), Sen's slope per {period}. {RULE.describe()} A trend is "
                     f"named where p (BH) < {options.alpha}. A {period} without coded items is left out; so are the categories "
                     "never coded (the CSV lists them).", level=3)
    shown_tests = tested[tested["nonzero"] > 0].assign(items=lambda f: f["items"].map("{:.1f}".format))
    trends.table(shown_tests[list(TREND_COLUMNS)].rename(columns=TREND_COLUMNS), csv=f"{slug}_category_trends",
                 period=period)
    if options.change_at:
        compared = before_after(counts, time="period_start", value="share", at=options.change_at, series="name")
        compared.to_csv(tables / f"{slug}_category_before_after.csv", index=False)
        trends.table(compared, f"Before and after {options.change_at} (Mann-Whitney U)",
                     csv=f"{slug}_category_before_after")
    return [main, over, trends]


def _trends(counts: pd.DataFrame, options: ReportOptions) -> pd.DataFrame:
    """Trend tests of the shares, most frequent category first; a period without coded items is missing."""
    dated = counts.assign(share=counts["share"].where(counts["n_items"] > 0, np.nan))
    table = trend_table(dated, series="name", value="share", time="period_start", alpha=options.alpha,
                        items="n_items", rule=RULE)
    order = {name: i for i, name in enumerate(by_frequency(counts))}
    return table.sort_values("series", key=lambda s: s.map(order)).reset_index(drop=True)


def _share_grid(counts: pd.DataFrame) -> pd.DataFrame:
    """Categories (by frequency) x periods of shares as percentages; the last row: coded items per period."""
    periods = counts.sort_values("period_start")["period"].drop_duplicates().tolist()
    grid = counts.pivot_table(index="name", columns="period", values="share", aggfunc="sum").reindex(
        index=by_frequency(counts), columns=periods)
    shown = grid.map(lambda v: f"{v:.0%}" if v else "·")
    items = counts.drop_duplicates("period").set_index("period")["n_items"].reindex(periods)
    shown.loc["coded items"] = items.astype(int).astype(str)
    return shown.reset_index().rename(columns={"name": "category"})
