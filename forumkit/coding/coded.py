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
  the items they coded and the majority decides the rest. Items settled with
  ``forumkit adjudicate`` (:mod:`forumkit.coding.adjudicate`) take the
  adjudicator's decision, and ``consensus_rule`` says for each row which rule
  decided: ``unanimous`` (every coder applied the same codes), ``majority``,
  ``adjudicator`` (a coder named as adjudicator), ``adjudicated`` (a stored
  decision) or ``single coder``.

Skipped annotations (``was_cancelled``) are kept in the first table and left
out of the second. The per-coder projects of a blind round
(:mod:`forumkit.coding.studio.rounds`) are one coding of the sample: in the
second table they count together, under the round's first project.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from forumkit.errors import UsageError
from forumkit.store import Store
from forumkit.store.adjudication import ADJUDICATION_COLUMNS
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
    rows = rows.assign(project=rows["project"].map(store.round_leads()))  # a blind round's projects: one coding
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
    unanimous = items.groupby(keys)["share"].transform("min") == 1
    items["consensus_rule"] = np.where(items["n_coders"] == 1, "single coder",
                                       np.where(unanimous, "unanimous", "majority"))
    if adjudicator is not None:
        items.loc[in_judged, "consensus_rule"] = "adjudicator"
    items = _with_decisions(items, adjudications(store, project), n_coders)
    items = items.merge(_memos(rows, keys), on=keys, how="left")
    meta = rows.drop_duplicates(keys)[keys + ["topic_id", "post_id", "forum_category", "created_at", "title"]]
    return items.merge(meta, on=keys, how="left").sort_values(keys + ["code_id"]).reset_index(drop=True)


def adjudications(store: Store, project: int | None = None) -> pd.DataFrame:
    """The stored adjudication decisions, one row per decision and code (an empty code: the item gets none)."""
    return pd.DataFrame(store.adjudication_rows(None if project is None else [project]), columns=ADJUDICATION_COLUMNS)


def _with_decisions(items: pd.DataFrame, decided: pd.DataFrame, n_coders: pd.Series) -> pd.DataFrame:
    """The items an adjudicator decided get the decision's codes as consensus (codes no coder applied get a row
    with n_with 0) and their rule ``adjudicated``, with who decided and when."""
    who = decided.drop_duplicates(["project", "item_id"])[["project", "item_id", "decided_by", "decided_at", "reason"]]
    coded = n_coders.reset_index()[["project", "item_id", "unit"]]
    who = who.merge(coded, on=["project", "item_id"])  # decisions of items the project still has
    items = items.merge(who, on=["project", "item_id", "unit"], how="left")
    judged = items["decided_by"].notna()
    chosen = decided.dropna(subset=["code_id"]).merge(coded, on=["project", "item_id"])
    in_decision = items.merge(chosen[["project", "item_id", "code_id"]].assign(_d=True),
                              on=["project", "item_id", "code_id"], how="left")["_d"].notna().to_numpy()
    items.loc[judged, "consensus"] = in_decision[judged.to_numpy()]
    items.loc[judged, "consensus_rule"] = "adjudicated"
    new = chosen.merge(items[["project", "item_id", "code_id"]], on=["project", "item_id", "code_id"],
                       how="left", indicator=True)
    new = new[new["_merge"] == "left_only"].drop(columns=["_merge", "codebook_version"])
    if len(new):
        new = new.merge(n_coders.reset_index(), on=["project", "unit", "item_id"])
        new = new.assign(n_with=0, coders="", share=0.0, consensus=True, consensus_rule="adjudicated")
        items = pd.concat([items, new[items.columns]], ignore_index=True)
    return items


def _memos(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Each item's memos as JSON, coder -> memo (a coder's memos on one item joined by blank lines)."""
    written = rows.dropna(subset=["memo"]).drop_duplicates(keys + ["coder", "annotation_id"])
    by_coder = written.groupby(keys + ["coder"])["memo"].agg("\n\n".join).reset_index()
    memos = by_coder.groupby(keys).apply(lambda g: json.dumps(dict(zip(g["coder"], g["memo"])), ensure_ascii=False),
                                         include_groups=False)
    return memos.rename("memos").reset_index() if len(memos) else rows[keys].iloc[:0].assign(memos=None)
