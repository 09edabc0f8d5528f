"""Code co-occurrence: which codes are given to the same items, counted and as Jaccard similarity.

A QDA tool's code co-occurrence table, at the level of the codebook a paper reports: codes roll up to their
top-level category, their subcategory, or stay themselves (:class:`~forumkit.analysis.aggregate.rollup.Nodes`,
the same roll-up as ``forumkit aggregate``), so that two subcategories of one category on one item count once
for that category. For every pair of codes A and B that some item has:

* ``n_a``, ``n_b``: items with A, with B; ``n_ab``: items with both; ``n_either``: items with A or B
  (``n_a + n_b - n_ab``);
* ``jaccard = n_ab / n_either``: 1 when A and B always come together, 0 when never.

Which codes an item has is the caller's choice (a project's consensus codes:
:func:`forumkit.analysis.itemcodes.item_codes`; any coded table with ``item`` and ``code`` columns).

Example::

    from forumkit.analysis.cooccur import CoOccurrence
    from forumkit.analysis.itemcodes import item_codes

    found = item_codes(store, 1)
    co = CoOccurrence(level="category").fit(found.tidy(), project_codebooks(store, 1))
    co.pairs_.head()       # the pairs, most similar first
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import sparse

from forumkit.analysis.aggregate.rollup import LEVELS, Nodes
from forumkit.analysis.figures import label
from forumkit.errors import UsageError

__all__ = ["CoOccurrence", "PAIR_COLUMNS", "CODE_COLUMNS", "cooccurrence_heatmap"]

#: Columns of :attr:`CoOccurrence.codes_`: each code of the level that some item has, most frequent first.
CODE_COLUMNS = ["code_id", "name", "category", "codebook", "n"]
#: Columns of :attr:`CoOccurrence.pairs_`.
PAIR_COLUMNS = ["code_a", "name_a", "codebook_a", "code_b", "name_b", "codebook_b", "n_a", "n_b", "n_ab", "n_either",
                "jaccard"]
#: Codes drawn in the heatmap at most (the table has every pair).
HEATMAP_CODES = 25


class CoOccurrence:
    """Co-occurrence of codes on items at one level of the codebooks.

    ``fit(coded, codebooks)``: ``coded`` has columns ``item`` and ``code`` (a missing code: an item coded with
    none, counted in ``n_items_`` only); without codebooks every code is its own node at every level.
    Results: ``codes_`` (:data:`CODE_COLUMNS`), ``pairs_`` (:data:`PAIR_COLUMNS`, every pair of two codes in
    ``codes_``, zero co-occurrences included; by Jaccard, then ``n_ab``, then the codes' order), ``matrix_``
    (items with both, codes x codes, ``n`` on the diagonal, in the order of ``codes_``) and ``n_items_``.
    """

    def __init__(self, level: str = "category") -> None:
        self.level = level

    def fit(self, coded: pd.DataFrame, codebooks: Sequence | None = None) -> "CoOccurrence":
        if self.level not in LEVELS:
            raise UsageError(f"unknown level '{self.level}'", hint=f"use one of: {', '.join(LEVELS)}")
        missing = [c for c in ("item", "code") if c not in coded.columns]
        if missing:
            raise UsageError(f"the coded table has no column {', '.join(missing)}", hint="give item and code columns")
        nodes = Nodes(self.level, codebooks or [])
        applied = coded.dropna(subset=["code"])
        numbers = nodes.encode(applied["code"].astype(str))
        pairs = pd.DataFrame({"item": applied["item"].to_numpy(), "node": numbers}).drop_duplicates()
        items, item_index = np.unique(pairs["item"].to_numpy(), return_inverse=True)
        used = np.unique(pairs["node"].to_numpy())
        column = np.searchsorted(used, pairs["node"].to_numpy())
        present = sparse.csr_matrix((np.ones(len(pairs), dtype=np.int64), (item_index, column)),
                                    shape=(len(items), len(used)))  # item x code, sparse: millions of items fit
        both = np.asarray((present.T @ present).todense())  # items with both codes; the diagonal: with the code
        n = np.diag(both)
        rank = nodes.order()[used]
        order = np.lexsort((rank, -n))  # most frequent first, ties in codebook order
        rows = [nodes.rows[i] for i in used[order]]
        self.codes_ = pd.DataFrame([(*row, int(k)) for row, k in zip(rows, n[order])], columns=CODE_COLUMNS)
        both = both[np.ix_(order, order)]
        ids = self.codes_["code_id"].tolist()
        self.matrix_ = pd.DataFrame(both, index=pd.Index(ids, name="code_id"), columns=ids)
        self.pairs_ = self._pairs(both)
        self.n_items_ = int(coded["item"].nunique())
        return self

    def _pairs(self, both: np.ndarray) -> pd.DataFrame:
        a, b = np.triu_indices(len(both), k=1)
        n = np.diag(both)
        n_ab = both[a, b]
        either = n[a] + n[b] - n_ab
        codes = self.codes_
        frame = pd.DataFrame({
            "code_a": codes["code_id"].to_numpy()[a], "name_a": codes["name"].to_numpy()[a],
            "codebook_a": codes["codebook"].to_numpy()[a], "code_b": codes["code_id"].to_numpy()[b],
            "name_b": codes["name"].to_numpy()[b], "codebook_b": codes["codebook"].to_numpy()[b],
            "n_a": n[a], "n_b": n[b], "n_ab": n_ab, "n_either": either,
            "jaccard": n_ab / np.maximum(either, 1)})  # every code here has n >= 1, so either >= 1
        frame["_a"], frame["_b"] = a, b
        frame = frame.sort_values(["jaccard", "n_ab", "_a", "_b"], ascending=[False, False, True, True], kind="stable")
        return frame.drop(columns=["_a", "_b"]).reset_index(drop=True)


def cooccurrence_heatmap(co: CoOccurrence, title: str, *, top: int = HEATMAP_CODES) -> Figure:
    """Codes x codes heatmap of Jaccard similarity for the ``top`` most frequent codes; each cell prints its
    items with both (the diagonal, grey: items with the code)."""
    import matplotlib.pyplot as plt

    codes = co.codes_.head(top)
    both = co.matrix_.iloc[:len(codes), :len(codes)].to_numpy()
    n = np.diag(both)
    jaccard = both / np.maximum(n[:, None] + n[None, :] - both, 1)
    np.fill_diagonal(jaccard, np.nan)
    size = len(codes)
    fig, ax = plt.subplots(figsize=(min(16, 3.5 + 0.5 * size), min(14, 2.5 + 0.42 * size)))
    image = ax.imshow(np.ma.masked_invalid(jaccard), cmap="Blues", vmin=0, vmax=max(0.05, float(np.nanmax(
        jaccard, initial=0.0))))
    for (row, col), value in np.ndenumerate(both):
        diagonal = row == col
        ax.text(col, row, str(value), ha="center", va="center", fontsize=6.5 if size > 12 else 8,
                color="#888" if diagonal else ("white" if jaccard[row, col] > 0.6 * image.norm.vmax else "#333"))
    names = [_short(label(name)) for name in codes["name"]]
    ax.set_xticks(range(size))
    ax.set_xticklabels(names, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(size))
    ax.set_yticklabels([f"{name} (n={k})" for name, k in zip(names, n)], fontsize=7)
    fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02).set_label("Jaccard (items with both / with either)",
                                                                  fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def _short(name: str, width: int = 40) -> str:
    return name if len(name) <= width else name[:width - 1] + "…"
