"""The report's co-occurrence section: which categories the same items carry, as a heatmap and the top pairs.

:class:`forumkit.analysis.cooccur.CoOccurrence` over the report's coded table (a pulled project's consensus
codes, or a coded file's codes), at category level for the heatmap and the table (every codebook's categories
together: a challenge beside a benefit is a pair too), with the subcategory level's pairs as a CSV beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from forumkit.analysis import figures
from forumkit.analysis.cooccur import CoOccurrence, cooccurrence_heatmap
from .page import Section

if TYPE_CHECKING:
    from forumkit.coding.codebook import Codebook

__all__ = ["cooccurrence_section"]

#: Pairs listed in the report (the CSV has them all).
TOP_PAIRS = 12


def cooccurrence_section(coded: pd.DataFrame | None, codebooks: list[Codebook] | None, figs: Path,
                         tables: Path) -> Section:
    """Category co-occurrence: heatmap, most similar pairs, both levels' tables; or why there is none."""
    section = Section("Co-occurrence", "cooccurrence")
    if coded is None or not len(coded):
        section.absent("No coded data: co-occurrence counts the items coded with two categories, from a pulled "
                       "project (forumkit studio pull) or a coded table (forumkit report --coded FILE).")
        return section
    by_level = {level: CoOccurrence(level=level).fit(coded, codebooks or None) for level in ("category", "subcategory")}
    for level, co in by_level.items():
        co.pairs_.to_csv(tables / f"cooccurrence_{level}.csv", index=False)
    co = by_level["category"]
    together = co.pairs_[co.pairs_["n_ab"] > 0]
    if len(co.codes_) < 2:
        section.absent(f"{len(co.codes_)} categor{'y' if len(co.codes_) == 1 else 'ies'} coded on {co.n_items_} "
                       "items: co-occurrence needs two or more.")
        return section
    section.intro = (f"{co.n_items_} coded items, {len(co.codes_)} categories, {len(together)} of "
                     f"{len(co.pairs_)} pairs of categories given to the same item at least once. Jaccard: items with "
                     "both categories over items with either (1: always together, 0: never).")
    svg = figures.save(cooccurrence_heatmap(co, "Co-occurrence of categories (cells: items with both)"), figs,
                       "cooccurrence_categories")["svg"]
    section.figure(svg, "Jaccard similarity of each pair of categories, most frequent categories first; each cell "
                        "prints the items with both, the diagonal the items with the category")
    shown = together.head(TOP_PAIRS)
    section.table(pd.DataFrame({"category A": shown["name_a"], "category B": shown["name_b"], "items A": shown["n_a"],
                                "items B": shown["n_b"], "both": shown["n_ab"], "Jaccard": shown["jaccard"]}),
                  "The pairs of categories most often given together (by Jaccard)", csv="cooccurrence_category")
    section.text("Subcategory pairs: tables/cooccurrence_subcategory.csv.")
    return section
