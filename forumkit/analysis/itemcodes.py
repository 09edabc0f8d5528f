"""Which codes each coded item has: the one input of co-occurrence and queries.

A pulled project's coded items (every item with at least one annotation that was not skipped, whether or not a
code was agreed) and their codes under a rule:

* ``"majority"`` (the default): the consensus codes of :func:`forumkit.coding.coded.coded_items`, decided by the
  one consensus rule of :mod:`forumkit.coding.consensus` (with ``adjudicator``: that coder's codes on the items
  they coded);
* ``"unanimous"``: the codes every coder of the item applied (the same consensus rule, ``rule="unanimous"``);
* ``"any"``: every code some coder applied (the union of the coders' codes: no consensus at all).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from forumkit.coding.coded import annotation_rows, coded_items
from forumkit.coding.consensus import consensus_rule
from forumkit.errors import UsageError
from forumkit.store import Store

__all__ = ["RULES", "ItemCodes", "item_codes"]

RULES = ("majority", "unanimous", "any")
#: Columns of :attr:`ItemCodes.items`: one row per coded item.
ITEM_COLUMNS = ["item_id", "unit", "forum_id", "topic_id", "post_id", "forum_category", "created_at", "title"]


@dataclass(frozen=True)
class ItemCodes:
    """A project's coded items and their codes.

    ``items``: one row per coded item (:data:`ITEM_COLUMNS`), by item id; ``codes``: one row per item and code
    the rule keeps (item_id, code_id, codebook_id); ``project``: forumkit's project id.
    """

    project: int
    items: pd.DataFrame
    codes: pd.DataFrame

    def tidy(self) -> pd.DataFrame:
        """(item, code) rows as :func:`forumkit.analysis.aggregate.load_coded` gives them: an item without a code
        keeps one row with a missing code."""
        frame = self.items[["item_id"]].merge(self.codes[["item_id", "code_id"]], on="item_id", how="left")
        return frame.rename(columns={"item_id": "item", "code_id": "code"})


def item_codes(store: Store, project: int | None = None, *, rule: str = "majority",
               adjudicator: str | None = None) -> ItemCodes:
    """The coded items of ``project`` (the only pulled one when None) and the codes ``rule`` gives them."""
    if rule not in RULES:
        raise UsageError(f"unknown rule '{rule}'", hint=f"use one of: {', '.join(RULES)}")
    if adjudicator is not None and rule != "majority":
        raise UsageError("an adjudicator decides the majority rule's codes", hint="use --rule majority with it")
    rows = annotation_rows(store, project)
    rows = rows[~rows["was_cancelled"]]
    found = sorted(int(p) for p in rows["project"].unique())
    if project is None and len(found) > 1:
        raise UsageError(f"{store.path} holds coded items of {len(found)} projects ({', '.join(map(str, found))})",
                         hint="choose one with --project N (see: forumkit studio projects)")
    if not found:
        raise UsageError(f"every annotation{f' of project {project}' if project else ''} was skipped",
                         hint="code some items first")
    project = found[0]
    items = rows.drop_duplicates("item_id")[ITEM_COLUMNS].sort_values("item_id").reset_index(drop=True)
    applied = coded_items(store, project, adjudicator=adjudicator)
    if rule == "majority":
        keep = applied["consensus"].to_numpy(dtype=bool)
    elif rule == "unanimous":
        keep, _ = consensus_rule(applied["n_with"].to_numpy(), applied["n_coders"].to_numpy(), rule="unanimous")
    else:
        keep = applied["n_with"].to_numpy() > 0
    codes = applied.loc[keep, ["item_id", "code_id", "codebook_id"]].reset_index(drop=True)
    return ItemCodes(project, items, codes)
