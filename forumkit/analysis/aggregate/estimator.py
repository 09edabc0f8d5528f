"""The Aggregator: how many coded items carry each code (rolled up the codebook), per period and group.

Definitions (also in the package docstring):

* ``n``: distinct items with at least one code under the node in the cell (period × group); an item coded with
  two subcategories of one category counts once for the category.
* ``n_items``: distinct items coded in the cell, including items whose annotations carry no code (the
  denominator). With ``by="coder"`` a cell holds one coder's annotations: n_items are the items that coder coded.
* ``share = n / n_items``; ``ci_low``/``ci_high``: Wilson score interval at ``confidence``. A cell without any
  coded item has share 0 by convention and the interval [0, 1] (Wilson's limit as n_items -> 0).
* With ``extrapolate=True``: ``est_total`` = Σw over the items with the code (Horvitz-Thompson total with the
  sampling weights w), ``est_items`` = Σw over the cell's coded items (its estimated population), and
  ``est_low``/``est_high`` = the Wilson interval of the weighted share est_total/est_items, computed with
  Kish's effective sample size (Σw)²/Σw² of the cell's coded items, times est_items. An approximation: it
  treats the weighted share as a binomial proportion from n_eff draws and ignores the variance of est_items
  (exact for equal weights, where n_eff = n_items; no finite population correction).

Memory: each chunk is reduced to distinct 8-byte keys (period × group × node cell, item), so memory grows with the
number of distinct (period, group, node, item) combinations, not with the rows of the input
(:mod:`forumkit.analysis.aggregate.counting`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from forumkit.dates import PERIODS, period_label
from forumkit.errors import UsageError
from ..intervals import wilson_interval
from .counting import DEN, NO_CATEGORY, Accumulator, Keys, pack, unpack
from .load import canonical_names
from .rollup import LEVELS, Nodes

__all__ = ["Aggregator", "LEVELS", "PERIODS", "BY", "ALL", "NO_CATEGORY", "COUNT_COLUMNS", "TOTAL_COLUMNS",
           "EST_COLUMNS"]

log = logging.getLogger(__name__)

BY = ("forum_category", "coder", "codebook_version", "round")
ALL = "all"  # the group when by is None, and the period when period is None
#: Columns of ``counts_`` (``totals_`` has them without period and period_start); with ``extrapolate=True``
#: est_total, est_low, est_high and est_items follow.
COUNT_COLUMNS = ("period", "period_start", "group", "code_id", "name", "category", "codebook", "n", "n_items",
                 "share", "ci_low", "ci_high")
TOTAL_COLUMNS = COUNT_COLUMNS[2:]
EST_COLUMNS = ("est_total", "est_low", "est_high", "est_items")


def _period_labels(numbers: np.ndarray, period: str | None) -> tuple[list[str], list[pd.Timestamp]]:
    """Labels and first instants (aware UTC) of period numbers (:func:`~.counting.period_numbers`)."""
    if period is None:
        return [ALL] * len(numbers), [pd.NaT] * len(numbers)
    months_per = {"month": 1, "quarter": 3, "year": 12}[period]
    starts = []
    for ordinal in numbers - 1:
        year, month = divmod(int(ordinal) * months_per, 12)
        starts.append(pd.Timestamp(year, month + 1, 1, tz="UTC"))
    return [period_label(s, period) for s in starts], starts


def _books(codebook) -> list:
    """A codebook, a list of them, or None as a list."""
    return [] if codebook is None else (list(codebook) if isinstance(codebook, (list, tuple)) else [codebook])


def _cells(keys: Keys, packed: np.ndarray, weights: np.ndarray | None) -> pd.DataFrame:
    """Per distinct value of ``packed`` (a cell for each cell number): p, g, node, n and, if weighted, w, w2."""
    numbers, uniques = pd.factorize(packed)
    n, w, w2 = keys.count(numbers.astype(np.int64), len(uniques), weights)
    period, group, node = unpack(np.asarray(uniques, dtype=np.int64))
    out = pd.DataFrame({"p": period, "g": group, "node": node, "n": n})
    if weights is not None:
        out["w"], out["w2"] = w, w2
    return out[out["n"] > 0]


class Aggregator:
    """Frequencies of codes over time: one row per period, group and code at the chosen level.

    Parameters (stored as given; ``fit`` checks them):

    * ``level``: ``"category"`` (top-level codes), ``"subcategory"`` (codes one below; a category without
      subcategories is its own row, and so is a category applied directly), or ``"code"`` (no roll-up).
    * ``period``: ``"month"``, ``"quarter"``, ``"year"`` (calendar, UTC) or None (one period, ``"all"``).
    * ``by``: None (one group, ``"all"``), ``"forum_category"`` (spellings merged as
      :func:`~forumkit.analysis.categories.normalize_categories` does), ``"coder"`` (each coder's own codes) or
      ``"codebook_version"`` (the codebook version each code was given under: counts before and after a
      codebook migration apart) or ``"round"`` (the coding round of each code's project: ``round N``, and
      ``project N`` for a project outside rounds; groups sort as text).
    * ``confidence``: level of the Wilson intervals; ``extrapolate``: add population estimates from weights.

    After ``fit``: ``counts_`` (:data:`COUNT_COLUMNS`), ``totals_`` (:data:`TOTAL_COLUMNS`, all dates
    together, undated items included), ``n_rows_``, ``n_items_`` (distinct items), ``n_undated_`` (items without
    a date, left out of ``counts_`` when there are periods).

    Example::

        coded = load_coded(store=store, project=1)
        agg = Aggregator(level="category", period="quarter").fit(coded, load_codebook("hf-challenges.yaml"))
        agg.counts_.query("code_id == 'CH.SPACES'")[["period", "n", "n_items", "share", "ci_low", "ci_high"]]
    """

    def __init__(self, level: str = "category", period: str | None = "month", by: str | None = None,
                 confidence: float = 0.95, extrapolate: bool = False) -> None:
        self.level = level
        self.period = period
        self.by = by
        self.confidence = confidence
        self.extrapolate = extrapolate

    def _check(self) -> None:
        for value, allowed, what in ((self.level, LEVELS, "level"), (self.period, PERIODS + (None,), "period"),
                                     (self.by, BY + (None,), "by")):
            if value not in allowed:
                shown = ", ".join("none" if a is None else a for a in allowed)
                raise UsageError(f"unknown {what} '{value}'", hint=f"use one of: {shown}")
        if not 0 < self.confidence < 1:
            raise UsageError(f"confidence {self.confidence} is not between 0 and 1", hint="use e.g. 0.95")

    def fit(self, coded: pd.DataFrame | Iterable[pd.DataFrame], codebook=None) -> "Aggregator":
        """Count ``coded`` (a tidy DataFrame, or an iterable of them such as :func:`iter_coded`'s chunks).

        ``codebook``: a :class:`~forumkit.coding.codebook.Codebook`, a list of them, or None (each code is its own
        category). Returns self.
        """
        self._check()
        nodes = Nodes(self.level, _books(codebook))
        acc = Accumulator(self.period, self.by, nodes)
        for chunk in ([coded] if isinstance(coded, pd.DataFrame) else coded):
            acc.add(chunk)
        if not acc.rows:
            raise UsageError("the coded table is empty", hint="check the input holds coded rows")
        weights = acc.weights if self.extrapolate else None
        if weights is not None and np.isnan(weights).any():
            example = acc.items.values[int(np.argmax(np.isnan(weights)))]
            raise UsageError(f"{int(np.isnan(weights).sum())} coded items have no sampling weight (e.g. item "
                             f"{example})", hint="extrapolate a project pushed from a saved sample, or give weights")
        names, merged = self._group_names([str(v) for v in acc.groups.values], acc.group_rows)
        period, group, node = unpack(acc.keys.cell_values())
        group = merged[group]  # spellings of one forum category count as one group
        cells = _cells(acc.keys, pack(period, group, node), weights)
        totals, n_undated = None, 0
        if self.period is not None:
            n_undated = acc.keys.items_in((period == 0) & (node == DEN))
            totals = _cells(acc.keys, pack(np.zeros_like(period), group, node), weights)
        return self._finish(cells, totals, nodes, names, acc.rows, len(acc.items), n_undated)

    def fit_dataset(self, dataset: str | Path, codebook=None, *, engine: str = "duckdb",
                    columns: Mapping[str, str] | None = None, spark: Any = None,
                    master: str | None = None) -> "Aggregator":
        """Count a Parquet dataset (a folder, hive-partitioned as ``forumkit export --partition-by`` writes it)
        with SQL, on DuckDB in this process or on Spark (local or a cluster); the same tables as :meth:`fit`
        on the same rows. ``columns``: role -> the dataset's column where it is not named as the role (roles:
        item, code, date, forum_category, coder, weight; see :mod:`forumkit.analysis.aggregate.engines`);
        ``spark``: a SparkSession to run on, else one is started on ``master`` (``local[*]``, ``spark://host:7077``,
        ``yarn``...; default: what spark-submit set, else local) and stopped at the end. Returns self.

        Where spellings of a forum category are equally frequent, the alphabetically first names the group
        (:meth:`fit`: the first seen). Dates must be Parquet timestamps.

        Example::

            agg = Aggregator(level="category", period="quarter").fit_dataset("coded/", load_codebook(path))
        """
        from .engines import count_dataset

        self._check()
        nodes = Nodes(self.level, _books(codebook))
        counted = count_dataset(dataset, self, nodes, engine=engine, columns=columns, spark=spark, master=master)
        return self._finish(counted.cells, counted.totals, nodes, counted.names, counted.n_rows, counted.n_items,
                            counted.n_undated)

    def _finish(self, cells: pd.DataFrame, totals: pd.DataFrame | None, nodes: Nodes, names: list[str],
                n_rows: int, n_items: int, n_undated: int) -> "Aggregator":
        """From the counted cells (p, g, node, n and, weighted, w, w2) to ``counts_`` and ``totals_``: shared by
        :meth:`fit` and :meth:`fit_dataset`, so that both give the same tables."""
        self.n_rows_, self.n_items_, self.n_undated_ = n_rows, n_items, n_undated
        if self.period is not None:
            if not (cells["p"] > 0).any():
                raise UsageError("none of the coded items has a date",
                                 hint="give a date column (--date-col), a store holding the items (--db), "
                                      "or aggregate without periods (--period none)")
            if n_undated:
                log.warning("%d coded items have no date: they are in totals_ only", n_undated)
            cells = cells[cells["p"] > 0]
        self.counts_ = self._table(cells, nodes, names, periods=True)
        if self.period is None:
            self.totals_ = self.counts_.drop(columns=["period", "period_start"])
        else:
            self.totals_ = self._table(totals, nodes, names, periods=False)
        return self

    def _group_names(self, raw: list[str], rows: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Names of the groups, and the merged group number of each raw group (``rows``: rows of each)."""
        if self.by is None:
            return [ALL], np.zeros(max(len(raw), 1), dtype=np.int64)
        if self.by == "forum_category":
            named = [(r, n) for r, n in zip(raw, rows) if r != NO_CATEGORY]
            mapping = canonical_names([r for r, _ in named], [n for _, n in named])
            canon = [mapping.get(r, r) for r in raw]
        else:
            canon = raw
        names = sorted(set(canon))
        where = {name: i for i, name in enumerate(names)}
        return names, np.array([where[c] for c in canon], dtype=np.int64)

    def _table(self, cells: pd.DataFrame, nodes: Nodes, groups: list[str], *, periods: bool) -> pd.DataFrame:
        """The complete grid (every period from first to last × group × node) with counts, shares and CIs."""
        num, den = cells[cells["node"] != DEN], cells[cells["node"] == DEN]
        if periods and self.period is not None:
            period_numbers = np.arange(den["p"].min(), den["p"].max() + 1)
        else:
            period_numbers = np.zeros(1, dtype=np.int64)
        used = np.zeros(len(nodes.rows), dtype=bool)
        used[num["node"].to_numpy()] = True
        shown = np.flatnonzero(np.array(nodes.listed, dtype=bool) | used)
        shown = shown[np.argsort(nodes.order()[shown], kind="stable")]
        group_numbers = np.arange(len(groups))
        grid = pd.DataFrame({
            "p": np.repeat(period_numbers, len(group_numbers) * len(shown)),
            "g": np.tile(np.repeat(group_numbers, len(shown)), len(period_numbers)),
            "node": np.tile(shown, len(period_numbers) * len(group_numbers))})
        weighted = "w" in cells.columns
        extra = ["w"] if weighted else []
        grid = grid.merge(num[["p", "g", "node", "n"] + extra], on=["p", "g", "node"], how="left")
        den = den.rename(columns={"n": "n_items", "w": "w_items", "w2": "w2_items"})
        grid = grid.merge(den[["p", "g", "n_items"] + (["w_items", "w2_items"] if weighted else [])],
                          on=["p", "g"], how="left").fillna(0)
        n, n_items = grid["n"].to_numpy(np.int64), grid["n_items"].to_numpy(np.int64)
        labels, starts = _period_labels(period_numbers, self.period if periods else None)
        meta = pd.DataFrame(nodes.rows, columns=["code_id", "name", "category", "codebook"])
        out = pd.DataFrame({"period": np.repeat(labels, len(group_numbers) * len(shown)),
                            "period_start": pd.DatetimeIndex(starts, tz="UTC").as_unit("us")
                            .repeat(len(group_numbers) * len(shown)),
                            "group": np.array(groups, dtype=object)[grid["g"].to_numpy()]})
        out = pd.concat([out, meta.iloc[grid["node"].to_numpy()].reset_index(drop=True)], axis=1)
        out["n"], out["n_items"] = n, n_items
        out["share"] = np.divide(n, n_items, out=np.zeros(len(n)), where=n_items > 0)
        out["ci_low"], out["ci_high"] = wilson_interval(n.astype(float), n_items.astype(float), self.confidence)
        if weighted:
            total, items, squares = (grid[c].to_numpy(float) for c in ("w", "w_items", "w2_items"))
            effective = np.divide(items * items, squares, out=np.zeros(len(items)), where=squares > 0)
            share = np.divide(total, items, out=np.zeros(len(items)), where=items > 0)
            low, high = wilson_interval(share * effective, effective, self.confidence)
            out["est_total"], out["est_items"] = total, items
            out["est_low"], out["est_high"] = low * items, high * items
        columns = list(COUNT_COLUMNS if periods else TOTAL_COLUMNS) + (list(EST_COLUMNS) if weighted else [])
        return out[columns]
