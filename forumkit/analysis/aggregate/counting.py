"""Distinct items per cell, chunk after chunk, in memory that grows with distinct keys, not with rows.

A cell is (period, group, node): the node is a code at the chosen level (:class:`~.rollup.Nodes`), or
:data:`DEN` ("coded at all") for the denominators. Each row becomes the 8-byte key
``cell number << 32 | item number``; keys are kept sorted and unique in :data:`PARTS` partitions by item
number, so that merging new keys in, and counting, touch one partition at a time. Counting an item once per
cell is then counting keys: an item with two subcategories of one category has one key for the category.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forumkit.errors import UsageError
from .load import parse_dates
from .rollup import Nodes

__all__ = ["DEN", "Ids", "Keys", "Accumulator", "pack", "unpack", "period_numbers"]

PARTS = 16                      # partitions of the keys, by item number
DEN = (1 << 24) - 1             # node number of "coded at all": the keys of the denominators
P_SHIFT, G_SHIFT = 44, 24       # cell: period (20 bits) | group (20 bits) | node (24 bits)
G_MASK, N_MASK = (1 << 20) - 1, (1 << 24) - 1
ITEM_MASK = (1 << 32) - 1
MERGE_AT = 1 << 21              # pending keys merged in once there are this many (or half the merged keys)
NO_CATEGORY = "(none)"          # as forumkit.analysis.activity names topics without a category
UNKNOWN = "(unknown)"


def pack(period: np.ndarray, group: np.ndarray, node: np.ndarray) -> np.ndarray:
    return (period << P_SHIFT) | (group << G_SHIFT) | node


def unpack(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return cells >> P_SHIFT, (cells >> G_SHIFT) & G_MASK, cells & N_MASK


def period_numbers(dates: pd.Series, period: str) -> np.ndarray:
    """1 + the period's ordinal (year*12+month-1, year*4+quarter-1 or year, in UTC); 0 where there is no date."""
    if not isinstance(dates.dtype, pd.DatetimeTZDtype):
        dates = parse_dates(dates)
    naive = dates.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    months = naive.astype("datetime64[M]").astype(np.int64) + 1970 * 12
    ordinal = {"month": months, "quarter": months // 3, "year": months // 12}[period]
    return np.where(np.isnat(naive), 0, ordinal + 1)


class Ids:
    """Dense numbers 0, 1, 2... for values met chunk after chunk (ints or strings; ints become strings if
    strings turn up later)."""

    def __init__(self) -> None:
        self.values = pd.Index([], dtype="int64")

    def __len__(self) -> int:
        return len(self.values)

    def encode(self, values: pd.Series | np.ndarray) -> np.ndarray:
        codes, uniques = pd.factorize(values)
        uniques = pd.Index(np.asarray(uniques, dtype=object) if isinstance(uniques.dtype, pd.CategoricalDtype)
                           else uniques)
        if len(self.values) == 0:
            self.values = uniques
            return codes.astype(np.int64)
        if uniques.dtype.kind in "iu" and self.values.dtype.kind not in "iu":
            uniques = uniques.astype(str)
        elif uniques.dtype.kind not in "iu" and self.values.dtype.kind in "iu":
            self.values = self.values.astype(str)
            uniques = uniques.astype(str)
        found = self.values.get_indexer(uniques)
        new = found < 0
        if new.any():
            found[new] = np.arange(len(self.values), len(self.values) + int(new.sum()))
            self.values = self.values.append(uniques[new])
        return found.astype(np.int64)[codes]


class Keys:
    """The distinct (cell, item) keys seen so far, with the cell each cell number stands for."""

    def __init__(self) -> None:
        self.cells = Ids()
        self.parts = [np.zeros(0, dtype=np.int64) for _ in range(PARTS)]
        self.pending: list[list[np.ndarray]] = [[] for _ in range(PARTS)]
        self.pending_size = 0
        self.size = 0

    def add(self, cells: np.ndarray, items: np.ndarray) -> None:
        numbers = self.cells.encode(cells)
        if len(self.cells) >= 1 << 31:
            raise UsageError("more than 2 billion period × group × code cells", hint="aggregate at a coarser level")
        keys = pd.unique((numbers << 32) | items)
        part = (keys & (PARTS - 1)).astype(np.uint8)
        order = np.argsort(part, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(part, minlength=PARTS))])
        keys = keys[order]
        for p in range(PARTS):
            if bounds[p + 1] > bounds[p]:
                self.pending[p].append(keys[bounds[p]:bounds[p + 1]])
        self.pending_size += len(keys)
        if self.pending_size > max(self.size // 2, MERGE_AT):
            self.merge()

    def merge(self) -> None:
        for p in range(PARTS):
            if self.pending[p]:
                self.parts[p] = np.unique(np.concatenate([self.parts[p], *self.pending[p]]))
                self.pending[p] = []
        self.pending_size, self.size = 0, sum(len(part) for part in self.parts)

    def cell_values(self) -> np.ndarray:
        """The packed (period, group, node) of each cell number."""
        return self.cells.values.to_numpy(dtype=np.int64)

    def count(self, remap: np.ndarray, n_cells: int, weights: np.ndarray | None
              ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Distinct items per new cell (``remap``: old cell number -> new), and their Σw and Σw² if weighted."""
        self.merge()
        injective = len(np.unique(remap)) == len(remap)
        n = np.zeros(n_cells, dtype=np.int64)
        w = np.zeros(n_cells) if weights is not None else None
        w2 = np.zeros(n_cells) if weights is not None else None
        for keys in self.parts:
            if not len(keys):
                continue
            keys = (remap[keys >> 32] << 32) | (keys & ITEM_MASK)
            if not injective:  # cells merge: an item in two of them counts once in the merged one
                keys = np.unique(keys)
            cell = keys >> 32
            n += np.bincount(cell, minlength=n_cells)
            if weights is not None:
                item_w = weights[keys & ITEM_MASK]
                w += np.bincount(cell, weights=item_w, minlength=n_cells)
                w2 += np.bincount(cell, weights=item_w * item_w, minlength=n_cells)
        return n, w, w2

    def items_in(self, chosen: np.ndarray) -> int:
        """Distinct items with a key in a chosen cell (``chosen``: a mask over cell numbers)."""
        self.merge()
        return sum(int(np.unique(keys[chosen[keys >> 32]] & ITEM_MASK).size) for keys in self.parts if len(keys))


class Accumulator:
    """Rows of tidy chunks turned into keys: items, groups, periods and nodes numbered as they come."""

    def __init__(self, period: str | None, by: str | None, nodes: Nodes) -> None:
        self.period, self.by, self.nodes = period, by, nodes
        self.items, self.groups, self.keys = Ids(), Ids(), Keys()
        self.group_rows = np.zeros(0, dtype=np.int64)
        self.weights = np.zeros(0)
        self.rows = 0

    def add(self, chunk: pd.DataFrame) -> None:
        need = ["item", "code"] + (["date"] if self.period else []) + ([self.by] if self.by else [])
        absent = [c for c in need if c not in chunk.columns]
        if absent:
            raise UsageError(f"the coded table has no column '{absent[0]}' (columns: "
                             f"{', '.join(map(str, chunk.columns))})",
                             hint="build it with forumkit.analysis.aggregate.load_coded, or rename the column")
        if not len(chunk):
            return
        if chunk["item"].isna().any():
            raise UsageError(f"{int(chunk['item'].isna().sum())} rows of the coded table have no item",
                             hint="every row needs an item id")
        self.rows += len(chunk)
        known = len(self.items)
        items = self.items.encode(chunk["item"].to_numpy() if chunk["item"].dtype.kind in "iu" else chunk["item"])
        if len(self.items) > ITEM_MASK:
            raise UsageError("more than 4 billion distinct items", hint="aggregate the table in parts")
        self._weights(items, known, chunk)
        periods = period_numbers(chunk["date"], self.period) if self.period else np.zeros(len(chunk), np.int64)
        base = pack(periods, self._groups(chunk), 0)
        nodes = self.nodes.encode(chunk["code"])
        coded = nodes >= 0
        self.keys.add(np.concatenate([base[coded] | nodes[coded], base | DEN]),
                      np.concatenate([items[coded], items]))

    def _weights(self, items: np.ndarray, known: int, chunk: pd.DataFrame) -> None:
        """Keep each item's first weight."""
        added = len(self.items) - known
        if not added:
            return
        values = chunk["weight"].to_numpy(dtype="float64") if "weight" in chunk.columns else np.ones(len(chunk))
        fresh = np.full(added, np.nan)
        new = items >= known
        fresh[(items[new] - known)[::-1]] = values[new][::-1]  # reversed, the first row's weight is written last
        self.weights = np.concatenate([self.weights, fresh])

    def _groups(self, chunk: pd.DataFrame) -> np.ndarray:
        if self.by is None:
            return np.zeros(len(chunk), dtype=np.int64)
        values = chunk[self.by]
        if values.isna().any():
            fill = NO_CATEGORY if self.by == "forum_category" else UNKNOWN
            values = values.astype(object).where(values.notna(), fill)
        groups = self.groups.encode(values.astype(str) if values.dtype.kind in "iufb" else values)
        if len(self.groups) > G_MASK:
            raise UsageError(f"more than {G_MASK} groups", hint="group by something coarser")
        self.group_rows = np.concatenate([self.group_rows,
                                          np.zeros(len(self.groups) - len(self.group_rows), dtype=np.int64)])
        self.group_rows += np.bincount(groups, minlength=len(self.groups))
        return groups
