"""The coded dataset: pulled annotations joined with what each item is.

Two tidy tables, both documented in docs/coded.md:

* :func:`annotation_rows` — one row per annotation and code (an annotation
  with no code gives one row with an empty code): who coded what, when, how long.
* :func:`coded_items` — one row per item and code that any coder applied, with
  how many coders applied it and a ``consensus`` column, decided by the one
  consensus rule (:mod:`forumkit.coding.consensus`): under the majority rule a
  code is consensus when strictly more than half of the item's coders applied it
  (1 of 2 is not a majority); with an adjudicator, the adjudicator's codes decide
  the items they coded and the majority decides the rest.

Skipped annotations (``was_cancelled``) are kept in the first table and left
out of the second.
"""

from __future__ import annotations

import pandas as pd

from forumkit.errors import UsageError
from forumkit.store import Store
from .consensus import consensus_rule

#: Columns of :func:`annotation_rows` before the item's metadata, as the store gives them.
ANNOTATION_COLUMNS = ["project", "forum_id", "unit", "item_id", "coder", "annotation_id", "task_id", "annotated_at",
                      "lead_time", "was_cancelled", "memo", "code_id", "codebook_id", "category", "subcategory",
                      "codebook_version"]


def _versions(values: pd.Series) -> str | None:
    """The codebook version(s) a code was given under, ``|``-joined when coders used several (None: unknown)."""
    found = sorted(set(values.dropna()))
    return "|".join(found) if found else None


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
    if adjudicator is not None and adjudicator not in set(rows["coder"]):
        raise UsageError(f"no annotations by adjudicator '{adjudicator}'",
                         hint=f"coders are: {', '.join(sorted(set(rows['coder'])))}")
    keys = ["project", "unit", "item_id"]
    n_coders = rows.groupby(keys)["coder"].nunique().rename("n_coders")
    applied = rows.dropna(subset=["code_id"])
    grouped = applied.groupby(keys + ["code_id", "codebook_id", "category", "subcategory"], dropna=False)
    items = grouped.agg(n_with=("coder", "nunique"), coders=("coder", lambda c: "|".join(sorted(set(c)))),
                        codebook_version=("codebook_version", _versions)).reset_index()
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
    meta = rows.drop_duplicates(keys)[keys + ["topic_id", "post_id", "forum_category", "created_at", "title"]]
    return items.merge(meta, on=keys, how="left").sort_values(keys + ["code_id"]).reset_index(drop=True)
