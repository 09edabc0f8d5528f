"""The coded dataset: pulled annotations joined with what each item is.

Two tidy tables, both documented in docs/coded.md:

* :func:`annotation_rows` — one row per annotation and code (an annotation
  with no code gives one row with an empty code): who coded what, when, how long.
* :func:`coded_items` — one row per item and code that any coder applied, with
  how many coders applied it and a ``consensus`` column: under the majority rule
  a code is consensus when strictly more than half of the item's coders applied
  it (1 of 2 is not a majority); with an adjudicator, the adjudicator's codes
  decide the items they coded and the majority decides the rest.

Skipped annotations (``was_cancelled``) are kept in the first table and left
out of the second.
"""

from __future__ import annotations

import pandas as pd

from forumkit.errors import UsageError
from forumkit.store import Store

ANNOTATION_SQL = """
SELECT a.project, p.forum_id, p.unit, a.item_id, a.coder, a.annotation_id, a.task_id, a.annotated_at, a.lead_time,
       a.was_cancelled, a.memo, c.code_id, c.codebook_id, c.category, c.subcategory
FROM annotations a
JOIN studio_projects p ON p.id = a.project
LEFT JOIN coded c ON c.project = a.project AND c.annotation_id = a.annotation_id
{where}
ORDER BY a.project, a.item_id, a.coder, c.code_id
"""


def _item_metadata(store: Store, frame: pd.DataFrame) -> pd.DataFrame:
    """topic_id, post_id, forum_category, created_at, title for each (forum, unit, item_id)."""
    columns = ["forum_id", "item_id", "topic_id", "post_id", "forum_category", "created_at", "title"]
    topics = pd.DataFrame(store.query(
        "SELECT t.forum_id, t.id, t.id, NULL, c.name, t.created_at, t.title FROM topics t LEFT JOIN categories c"
        " ON c.forum_id = t.forum_id AND c.id = t.category_id"), columns=columns)
    topics["unit"] = "topic"
    posts = pd.DataFrame(store.query(
        "SELECT p.forum_id, p.id, p.topic_id, p.id, c.name, p.created_at, t.title FROM posts p JOIN topics t"
        " ON t.forum_id = p.forum_id AND t.id = p.topic_id LEFT JOIN categories c ON c.forum_id = t.forum_id"
        " AND c.id = t.category_id WHERE p.id IN (SELECT item_id FROM annotations)"), columns=columns)
    posts["unit"] = "post"
    meta = pd.concat([topics, posts], ignore_index=True)
    return frame.merge(meta, on=["forum_id", "unit", "item_id"], how="left")


def annotation_rows(store: Store, project: int | None = None) -> pd.DataFrame:
    """One row per annotation and code, with the item's metadata."""
    where, args = ("WHERE a.project = ?", (project,)) if project is not None else ("", ())
    rows = store.query(ANNOTATION_SQL.format(where=where), args)
    columns = ["project", "forum_id", "unit", "item_id", "coder", "annotation_id", "task_id", "annotated_at", "lead_time",
               "was_cancelled", "memo", "code_id", "codebook_id", "category", "subcategory"]
    frame = pd.DataFrame([tuple(r) for r in rows], columns=columns)
    if frame.empty:
        raise UsageError(f"{store.path} holds no pulled annotations" + (f" of project {project}" if project else ""),
                         hint="pull them first: forumkit studio pull --db ...")
    frame["was_cancelled"] = frame["was_cancelled"].astype(bool)
    return _item_metadata(store, frame)


def coded_items(store: Store, project: int | None = None, *, adjudicator: str | None = None) -> pd.DataFrame:
    """One row per item and applied code, with coder counts and the consensus decision."""
    rows = annotation_rows(store, project)
    rows = rows[~rows["was_cancelled"]]
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
    items["consensus"] = items["share"] > 0.5
    if adjudicator is not None:
        judged = rows.loc[rows["coder"] == adjudicator, keys].drop_duplicates()
        judged_codes = applied.loc[applied["coder"] == adjudicator, keys + ["code_id"]].drop_duplicates()
        in_judged = items.merge(judged.assign(_j=True), on=keys, how="left")["_j"].fillna(False).to_numpy(bool)
        by_judge = items.merge(judged_codes.assign(_c=True), on=keys + ["code_id"], how="left")["_c"]
        items.loc[in_judged, "consensus"] = by_judge.fillna(False).to_numpy(bool)[in_judged]
    meta = rows.drop_duplicates(keys)[keys + ["topic_id", "post_id", "forum_category", "created_at", "title"]]
    return items.merge(meta, on=keys, how="left").sort_values(keys + ["code_id"]).reset_index(drop=True)
