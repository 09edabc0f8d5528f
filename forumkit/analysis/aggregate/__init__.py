"""Taxonomy frequencies over time: how many coded items carry each category, subcategory or code, per calendar
period and group, with Wilson intervals and, from sampling weights, population estimates.

Three steps, each usable alone:

* :func:`load_coded` / :func:`iter_coded`: a tidy coded table (item, code, date, forum_category, coder, weight)
  from a pulled Label Studio project (consensus codes, or every coder's) or from a CSV/Parquet file read in
  batches (dates may come from the store by item id; forum categories are normalised).
* :class:`Aggregator`: ``fit`` rolls codes up the codebook and counts distinct items per period × group × node:
  ``counts_`` (every period from the first to the last, zeros included) and ``totals_`` (all dates together).
* :func:`write_table`: CSV, Parquet, LaTeX or Markdown by the file's suffix.

Definitions: ``n`` = items with at least one code under the node (an item with two subcategories of one category
counts once for it); ``n_items`` = items coded in that period and group, codes or not (the denominator; per coder:
the items that coder coded); ``share = n / n_items`` with a Wilson interval; ``est_total`` = Σ sampling weights of
the items with the code (Horvitz-Thompson), its interval the Wilson interval of the weighted share (Kish's
effective sample size) times Σ weights of the coded items. See :mod:`forumkit.analysis.aggregate.estimator`.

Example::

    from forumkit.analysis.aggregate import Aggregator, iter_coded, write_table
    from forumkit.coding.codebook import load_codebook

    chunks = iter_coded("codes.parquet", item="topic_id", code="code_id", date="created_at")
    agg = Aggregator(level="category", period="quarter").fit(chunks, load_codebook("hf-challenges"))
    write_table(agg.counts_, "categories_by_quarter.csv")
"""

from .estimator import (ALL, BY, COUNT_COLUMNS, EST_COLUMNS, LEVELS, NO_CATEGORY, PERIODS, TOTAL_COLUMNS,
                        Aggregator)
from .load import (COLUMNS, CONSENSUS, VIEWS, every_project_codebooks, iter_coded, load_coded, parse_dates,
                   project_codebooks, round_label)
from .tables import SUFFIXES, markdown_table, table_format, write_table

__all__ = [
    "Aggregator", "load_coded", "iter_coded", "parse_dates", "project_codebooks", "every_project_codebooks",
    "round_label", "write_table", "table_format",
    "markdown_table",
    "COLUMNS", "COUNT_COLUMNS", "TOTAL_COLUMNS", "EST_COLUMNS", "LEVELS", "PERIODS", "BY", "VIEWS", "SUFFIXES",
    "ALL", "CONSENSUS", "NO_CATEGORY",
]
