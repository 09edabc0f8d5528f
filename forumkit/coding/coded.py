"""The coded dataset: pulled annotations joined with what each item is.

Two tidy tables, both documented in docs/coded.md:

* :func:`annotation_rows` — one row per annotation and code (an annotation
  with no code gives one row with an empty code): who coded what, when, how long.
* :func:`coded_items` — one row per item and code that any coder applied, with
  how many coders applied it, the coders' memos on the item (``memos``: JSON, coder
  -> memo, only coders who wrote one) and a ``consensus`` column, decided by the one
  consensus rule (:mod:`forumkit.coding.consensus`): under the majority rule a
  code is consensus when strictly more than half of the item's coders applied it
  (1 of 2 is not a majority); with an adjudicator, the adjudicator's codes decide
  the items they coded and the majority decides the rest.

Skipped annotations (``was_cancelled``) are kept in the first table and left
out of the second. The per-coder projects of a blind round
(:mod:`forumkit.coding.studio.rounds`) are one coding of the sample: in the
second table they count together, under the round's first project.
"""

from __future__ import annotations

import json

import pandas as pd

from forumkit.errors import UsageError
from forumkit.store import Store
from .consensus import consensus_rule

#: Columns of :func:`annotation_rows` before the item's metadata, as the store gives them.
ANNOTATION_COLUMNS = ["project", "forum_id", "unit", "item_id", "coder", "annotation_id", "task_id", "annotated_at",
                      "lead_time", "was_cancelled", "memo", "code_id", "codebook_id", "category", "subcategory"]


def _item_metadata(store: Store, frame: pd.DataFrame) -> pd.DataFrame:
    """topic_id, post_id, forum_category, created_at, title for each (forum, unit, item_id)."""
    columns = ["forum_id", "item_id", "topic_id", "post_id", "forum_category", "created_at", "title"]
    topic_rows, post_rows = store.annotated_item_metadata()
    topics = pd.DataFrame(topic_rows, columns=columns)
    topics["unit"] = "topic"
    posts = pd.DataFrame(post_rows, columns=columns)
    posts["unit"] = "post"
    meta = pd.concat([topics, posts], ignore_index=True)
    return frame.merge(meta, on=["forum_id", "unit", "item_id"], how="left")


def annotation_rows(store: Store, project: int | None = None) -> pd.DataFrame:
    """One row per annotation and code, with the item's metadata."""
    frame = pd.DataFrame(store.annotation_code_rows(project), columns=ANNOTATION_COLUMNS)
    if frame.empty:
        raise UsageError(f"{store.path} holds no pulled annotations" + (f" of project {project}" if project else ""),
                         hint="pull them first: forumkit studio pull --db ...")
    frame["was_cancelled"] = frame["was_cancelled"].astype(bool)
    return _item_metadata(store, frame)


def coded_items(store: Store, project: int | None = None, *, adjudicator: str | None = None) -> pd.DataFrame:
    """One row per item and applied code, with coder counts and the consensus decision
    (:func:`~forumkit.coding.consensus.consensus_rule`: the majority, or the adjudicator's codes)."""
    rows = annotation_rows(store, project)
    rows = rows[~rows["was_cancelled"]]
    rows = rows.assign(project=rows["project"].map(store.round_leads()))  # a blind round's projects: one coding
    if adjudicator is not None and adjudicator not in set(rows["coder"]):
        raise UsageError(f"no annotations by adjudicator '{adjudicator}'",
                         hint=f"coders are: {', '.join(sorted(set(rows['coder'])))}")
    keys = ["project", "unit", "item_id"]
    n_coders = rows.groupby(keys)["coder"].nunique().rename("n_coders")
    applied = rows.dropna(subset=["code_id"])
    grouped = applied.groupby(keys + ["code_id", "codebook_id", "category", "subcategory"], dropna=False)
    items = grouped["coder"].agg(n_with="nunique", coders=lambda c: "|".join(sorted(set(c)))).reset_index()
    items = items.merge(n_coders.reset_index(), on=keys)
    items["share"] = items["n_with"] / items["n_coders"]
    if adjudicator is None:
        keep, _ = consensus_rule(items["n_with"].to_numpy(), items["n_coders"].to_numpy())
    else:
        judged = rows.loc[rows["coder"] == adjudicator, keys].drop_duplicates()
        judged_codes = applied.loc[applied["coder"] == adjudicator, keys + ["code_id"]].drop_duplicates()
        in_judged = items.merge(judged.assign(_j=True), on=keys, how="left")["_j"].notna().to_numpy()
        by_judge = items.merge(judged_codes.assign(_c=True), on=keys + ["code_id"], how="left")["_c"].notna()
        keep, _ = consensus_rule(items["n_with"].to_numpy(), items["n_coders"].to_numpy(), rule="adjudicator",
                                 judged=in_judged, by_judge=by_judge.to_numpy())
    items["consensus"] = keep
    items = items.merge(_memos(rows, keys), on=keys, how="left")
    meta = rows.drop_duplicates(keys)[keys + ["topic_id", "post_id", "forum_category", "created_at", "title"]]
    return items.merge(meta, on=keys, how="left").sort_values(keys + ["code_id"]).reset_index(drop=True)


def _memos(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Each item's memos as JSON, coder -> memo (a coder's memos on one item joined by blank lines)."""
    written = rows.dropna(subset=["memo"]).drop_duplicates(keys + ["coder", "annotation_id"])
    by_coder = written.groupby(keys + ["coder"])["memo"].agg("\n\n".join).reset_index()
    memos = by_coder.groupby(keys).apply(lambda g: json.dumps(dict(zip(g["coder"], g["memo"])), ensure_ascii=False),
                                         include_groups=False)
    return memos.rename("memos").reset_index() if len(memos) else rows[keys].iloc[:0].assign(memos=None)
