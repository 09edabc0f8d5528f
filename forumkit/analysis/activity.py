"""Forum activity from the store: topics and posts over time, replies, accepted answers, model mentions.

Pure reads: every function takes a :class:`~forumkit.store.Store` and returns a DataFrame
whose columns its docstring lists. What counts is the same in every function:

* **topics**: live topics (not removed by the forum) of the regular archetype. Pinned topics and
  the categories' "About the X category" topics (``categories.definition_topic_id``) are left out
  unless ``include_pinned`` / ``include_about``: they are announcements, not questions.
* **posts**: live (not removed), regular (``post_type`` 1) posts of those topics; moderator and
  small actions ("closed", "moved") are not posts. A topic's first post is a post. Hidden
  (flagged) and author-deleted posts count: they were written, only their text is gone.
* **replies**: posts after the first (``post_number`` > 1) by someone other than the topic's
  author (the original poster, OP), created at or after the topic. The OP's own follow-ups
  ("any ideas?", "solved it myself") are not replies, as in most studies of Discourse and
  Stack Overflow: a reply measures whether the community responded. A topic with *no reply*
  has none of them.
* **accepted answer**: the forum's own flag (discourse-solved, ``topics.has_accepted_answer``);
  its author is that of the live post marked accepted (else the post numbered
  ``accepted_answer_post_number``). Its time is when that post was written (the store does not
  know when it was accepted).
* **periods**: calendar month, quarter or year in UTC, labelled ``2021-03``, ``2021-Q1``, ``2021``
  (:mod:`forumkit.dates`, as everywhere in forumkit); ``period_start`` is the period's first instant as
  a timezone-aware UTC Timestamp. Tables by period are calendar-complete: every period from the
  first to the last with data, empty ones as zeros.
* **categories**: with ``roll_up`` (the default) a subcategory's topics count under its top-level
  category; without, a subcategory is reported on its own as ``Parent/Child`` (the SANER 2024 data
  names them so, e.g. ``Transformers/DeepSpeed``). Names go through
  :func:`~forumkit.analysis.categories.normalize_categories` (with optional ``renames``), so spellings that
  differ only in case, emoji or spacing add up. Topics without a category are ``(none)``.
* **forum**: the base URL of the forum to report on; needed only when the store holds several.

Example::

    with Store("hf.db") as store:
        monthly = activity_by_period(store)            # cumulative topics per category and month
        beginners = monthly[monthly["category"] == "Beginners"]
        print(answer_stats(store, by_category=True))
"""

from __future__ import annotations

import logging
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from forumkit.dates import PERIODS, check_period, period_calendar, period_label, period_starts, utc_moments
from forumkit.errors import StoreError, UsageError
from forumkit.store import Store
from .categories import category_key, normalize_categories

__all__ = [
    "PERIODS", "WHERE", "activity_by_period", "posts_per_topic", "posts_per_topic_summary", "answer_stats",
    "response_times", "mentions_by_period", "top_models",
]

log = logging.getLogger(__name__)

WHERE = ("title", "text", "code")  # where a model mention may be: model_mentions.in_title, in_text, in_code
ALL = "all"
NO_CATEGORY = "(none)"
MEASURES = ("time_to_first_reply_hours", "time_to_accepted_answer_hours")

_TOPIC_COLUMNS = ["topic_id", "user_id", "created_at", "category_id", "pinned", "accepted", "accepted_number", "about"]
_POST_COLUMNS = ["post_id", "topic_id", "post_number", "user_id", "created_at", "staff", "accepted"]


# -- reading the store ----------------------------------------------------------------------------------------------

def _forum_id(store: Store, forum: str | None) -> int:
    forums = store.forums()
    if forum is not None:
        return store.forum_id(forum, create=False)
    if not forums:
        raise StoreError(f"{store.path} holds no forum", hint="scrape one into it first: forumkit scrape URL --db PATH")
    if len(forums) > 1:
        raise UsageError(f"{store.path} holds {len(forums)} forums: {', '.join(u for _, u in forums)}",
                         hint="say which one with --forum URL")
    return forums[0][0]


def _category_labels(store: Store, forum_id: int, roll_up: bool) -> dict[int, str]:
    """Category id -> its top-level name (roll_up) or its path 'Parent/Child'."""
    categories = store.categories(forum_id)
    names = {c.id: c.name for c in categories}
    parents = {c.id: c.parent_id for c in categories}
    labels = {}
    for cid in names:
        chain, seen = [cid], {cid}
        while parents.get(chain[-1]) in names and parents[chain[-1]] not in seen:  # guards against cycles
            chain.append(parents[chain[-1]])
            seen.add(chain[-1])
        labels[cid] = names[chain[-1]] if roll_up else "/".join(names[c] for c in reversed(chain))
    return labels


def _topics(store: Store, forum_id: int, *, include_pinned: bool, include_about: bool, roll_up: bool,
            renames: Mapping[str, str] | None) -> pd.DataFrame:
    """The topics that count: topic_id, user_id, created_at, category, accepted, accepted_number."""
    frame = pd.DataFrame(store.activity_topics(forum_id), columns=_TOPIC_COLUMNS)
    keep = pd.Series(True, index=frame.index)
    if not include_pinned:
        keep &= frame["pinned"] == 0
    if not include_about:
        keep &= frame["about"] == 0
    frame = frame[keep].reset_index(drop=True)
    labels = _category_labels(store, forum_id, roll_up)
    raw = [labels.get(c) if pd.notna(c) else None for c in frame["category_id"]]
    frame["category"] = normalize_categories(raw, renames).fillna(NO_CATEGORY).to_numpy()
    frame["created_at"] = utc_moments(frame["created_at"])
    frame["accepted"] = frame["accepted"].astype(bool)
    log.debug("%d topics count (pinned %s, about %s)", len(frame), include_pinned, include_about)
    return frame[["topic_id", "user_id", "created_at", "category", "accepted", "accepted_number"]]


def _posts(store: Store, forum_id: int, topics: pd.DataFrame) -> pd.DataFrame:
    """The posts of the topics that count, with the topic's category, author and creation time."""
    frame = pd.DataFrame(store.activity_posts(forum_id), columns=_POST_COLUMNS)
    frame["created_at"] = utc_moments(frame["created_at"])
    frame[["staff", "accepted"]] = frame[["staff", "accepted"]].astype(bool)
    own = topics[["topic_id", "user_id", "created_at", "category"]].rename(
        columns={"user_id": "op_id", "created_at": "topic_created_at"})
    return frame.merge(own, on="topic_id", how="inner")


def _replies(posts: pd.DataFrame) -> pd.DataFrame:
    """Replies: after the first post, by someone other than the OP, not older than the topic."""
    other = posts["user_id"].isna() | posts["op_id"].isna() | (posts["user_id"] != posts["op_id"])
    return posts[(posts["post_number"] > 1) & other & (posts["created_at"] >= posts["topic_created_at"])]


def _load(store: Store, forum: str | None, *, include_pinned: bool, include_about: bool, roll_up: bool,
          renames: Mapping[str, str] | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(topics that count, their posts) of the forum."""
    forum_id = _forum_id(store, forum)
    topics = _topics(store, forum_id, include_pinned=include_pinned, include_about=include_about, roll_up=roll_up,
                     renames=renames)
    return topics, _posts(store, forum_id, topics)


def _group_key(frame: pd.DataFrame, by_category: bool) -> pd.Series:
    return frame["category"] if by_category else pd.Series(ALL, index=frame.index, dtype="object")


def _ordered(categories: Iterable[str]) -> list[str]:
    return sorted(set(categories), key=lambda c: (c == NO_CATEGORY, category_key(c), str(c)))


# -- topics and posts over time -------------------------------------------------------------------------------------

def activity_by_period(store: Store, *, period: str = "month", by_category: bool = True, roll_up: bool = True,
                       include_pinned: bool = False, include_about: bool = False,
                       renames: Mapping[str, str] | None = None, forum: str | None = None) -> pd.DataFrame:
    """Topics and posts created per period and category, with running totals.

    Columns: ``period`` (label), ``period_start``, ``category`` (``all`` when not ``by_category``),
    ``topics`` (topics created in the period), ``posts`` (posts written in the period, first
    posts included, each counted under its topic's category), ``topics_cum``, ``posts_cum``
    (totals up to and including the period). Every category has a row for every period from the
    first to the last with a topic or a post, in that order; categories sorted by name (ignoring case
    and emoji).
    """
    check_period(period)
    topics, posts = _load(store, forum, include_pinned=include_pinned, include_about=include_about,
                          roll_up=roll_up, renames=renames)
    columns = ["period", "period_start", "category", "topics", "posts", "topics_cum", "posts_cum"]
    if topics.empty:
        return _empty(columns)
    t_start, p_start = period_starts(topics["created_at"], period), period_starts(posts["created_at"], period)
    t_counts = topics.groupby([_group_key(topics, by_category), t_start]).size()
    p_counts = posts.groupby([_group_key(posts, by_category), p_start]).size()
    starts = period_calendar(pd.concat([t_start, p_start]), period)
    cats = _ordered(topics["category"]) if by_category else [ALL]
    grid = pd.MultiIndex.from_product([cats, starts], names=["category", "period_start"])
    frame = pd.DataFrame({"topics": t_counts.reindex(grid, fill_value=0),
                          "posts": p_counts.reindex(grid, fill_value=0)}).reset_index()
    frame[["topics", "posts"]] = frame[["topics", "posts"]].astype("int64")
    frame["period"] = [period_label(s, period) for s in frame["period_start"]]
    frame["topics_cum"] = frame.groupby("category")["topics"].cumsum()
    frame["posts_cum"] = frame.groupby("category")["posts"].cumsum()
    return frame[columns]


def _posts_per_topic(topics: pd.DataFrame, posts: pd.DataFrame) -> pd.Series:
    return posts.groupby("topic_id").size().reindex(topics["topic_id"], fill_value=0).set_axis(topics.index)


def posts_per_topic(store: Store, *, by_category: bool = False, roll_up: bool = True, include_pinned: bool = False,
                    include_about: bool = False, renames: Mapping[str, str] | None = None,
                    forum: str | None = None) -> pd.DataFrame:
    """How many topics have 1, 2, 3... posts (the first post included: 1 means no post after it).

    Columns: ``category`` (``all`` when not ``by_category``), ``posts``, ``topics`` (topics with
    that many posts), ``share`` (of the category's topics). Only counts that occur are listed,
    ascending. Summary statistics: :func:`posts_per_topic_summary`.
    """
    topics, posts = _load(store, forum, include_pinned=include_pinned, include_about=include_about,
                          roll_up=roll_up, renames=renames)
    columns = ["category", "posts", "topics", "share"]
    if topics.empty:
        return _empty(columns)
    counts = pd.DataFrame({"category": _group_key(topics, by_category), "posts": _posts_per_topic(topics, posts)})
    frame = counts.groupby(["category", "posts"]).size().rename("topics").reset_index()
    frame["share"] = frame["topics"] / frame.groupby("category")["topics"].transform("sum")
    order = {c: i for i, c in enumerate(_ordered(frame["category"]))}
    frame = frame.sort_values(["category", "posts"], key=lambda s: s.map(order) if s.name == "category" else s)
    return frame[columns].reset_index(drop=True)


def posts_per_topic_summary(store: Store, *, by_category: bool = False, roll_up: bool = True,
                            include_pinned: bool = False, include_about: bool = False,
                            renames: Mapping[str, str] | None = None, forum: str | None = None) -> pd.DataFrame:
    """Posts per topic in numbers: columns ``category``, ``topics``, ``posts`` (total), ``mean``,
    ``median``, ``p90`` (90th percentile, linear interpolation as numpy's default), ``max``."""
    topics, posts = _load(store, forum, include_pinned=include_pinned, include_about=include_about,
                          roll_up=roll_up, renames=renames)
    columns = ["category", "topics", "posts", "mean", "median", "p90", "max"]
    if topics.empty:
        return _empty(columns)
    counts = pd.DataFrame({"category": _group_key(topics, by_category), "n": _posts_per_topic(topics, posts)})
    rows = []
    for cat in _ordered(counts["category"]):
        n = counts.loc[counts["category"] == cat, "n"].to_numpy(float)
        rows.append((cat, len(n), int(n.sum()), float(n.mean()), float(np.median(n)), float(np.percentile(n, 90)),
                     int(n.max())))
    return pd.DataFrame(rows, columns=columns)


# -- answers --------------------------------------------------------------------------------------------------------

def _accepted_posts(topics: pd.DataFrame, posts: pd.DataFrame) -> pd.DataFrame:
    """For each topic with an accepted answer: the accepted post's author, staff flag, created_at."""
    flagged = posts[posts["accepted"]].drop_duplicates("topic_id")
    by_number = posts.merge(topics[["topic_id", "accepted_number"]], on="topic_id")
    by_number = by_number[by_number["post_number"] == by_number["accepted_number"]]
    found = pd.concat([flagged, by_number[~by_number["topic_id"].isin(flagged["topic_id"])]])
    found = found[["topic_id", "user_id", "staff", "created_at"]].rename(
        columns={"user_id": "answer_user_id", "staff": "answer_staff", "created_at": "answer_created_at"})
    accepted = topics[topics["accepted"]]
    return accepted.merge(found.drop_duplicates("topic_id"), on="topic_id", how="left")


def _share(part: int, whole: int) -> float:
    return part / whole if whole else float("nan")


def answer_stats(store: Store, *, by_category: bool = False, roll_up: bool = True, include_pinned: bool = False,
                 include_about: bool = False, renames: Mapping[str, str] | None = None,
                 forum: str | None = None) -> pd.DataFrame:
    """How many topics got a reply and an accepted answer, and who wrote the accepted answers.

    Columns: ``category`` (``all`` when not ``by_category``), ``topics``, ``no_reply`` (topics
    without a reply by anyone but the OP), ``no_reply_share`` (of topics), ``accepted`` (topics
    with an accepted answer), ``accepted_share`` (of topics), then who wrote the accepted answer,
    each with its share of ``accepted``: ``accepted_by_staff`` (the post's ``author_staff``
    flag: a forum admin or moderator, even when they asked the question), ``accepted_by_op``
    (the asker answered their own question, not staff), ``accepted_by_others`` (anyone else);
    ``accepted_unknown`` counts accepted topics whose accepted post is not in the store (a
    partial crawl), so the three ``accepted_by_*`` add up to ``accepted - accepted_unknown``.
    """
    topics, posts = _load(store, forum, include_pinned=include_pinned, include_about=include_about,
                          roll_up=roll_up, renames=renames)
    columns = ["category", "topics", "no_reply", "no_reply_share", "accepted", "accepted_share",
               "accepted_by_staff", "accepted_by_staff_share", "accepted_by_op", "accepted_by_op_share",
               "accepted_by_others", "accepted_by_others_share", "accepted_unknown"]
    if topics.empty:
        return _empty(columns)
    replied = set(_replies(posts)["topic_id"])
    answers = _accepted_posts(topics, posts)
    known = answers["answer_user_id"].notna() | answers["answer_staff"].notna()
    staff = known & answers["answer_staff"].fillna(False).astype(bool)
    op = known & ~staff & (answers["answer_user_id"] == answers["user_id"])
    who = pd.Series("unknown", index=answers.index, dtype="object")
    who[known] = "others"
    who[op] = "op"
    who[staff] = "staff"
    per_topic = topics.assign(
        key=_group_key(topics, by_category), no_reply=~topics["topic_id"].isin(replied),
        who=topics["topic_id"].map(dict(zip(answers["topic_id"], who))))
    rows = []
    for cat in _ordered(per_topic["key"]):
        part = per_topic[per_topic["key"] == cat]
        n, accepted = len(part), int(part["accepted"].sum())
        by = {w: int((part["who"] == w).sum()) for w in ("staff", "op", "others", "unknown")}
        rows.append((cat, n, int(part["no_reply"].sum()), _share(int(part["no_reply"].sum()), n), accepted,
                     _share(accepted, n), by["staff"], _share(by["staff"], accepted), by["op"],
                     _share(by["op"], accepted), by["others"], _share(by["others"], accepted), by["unknown"]))
    return pd.DataFrame(rows, columns=columns)


def response_times(store: Store, *, by_category: bool = False, roll_up: bool = True, include_pinned: bool = False,
                   include_about: bool = False, renames: Mapping[str, str] | None = None,
                   forum: str | None = None) -> pd.DataFrame:
    """How long questions wait, in hours from the topic's creation.

    One row per category (``all`` when not ``by_category``) and ``measure``:
    ``time_to_first_reply_hours`` (to the first reply, i.e. by someone other than the OP; topics
    without a reply are left out, not censored) and ``time_to_accepted_answer_hours`` (to when
    the accepted answer was posted, whoever wrote it; only topics with an accepted answer in the
    store). Columns: ``category``, ``measure``, ``n`` (topics measured), ``median``, ``q1``,
    ``q3`` (quartiles, linear interpolation), ``mean``; the statistics are NaN when ``n`` is 0.
    """
    topics, posts = _load(store, forum, include_pinned=include_pinned, include_about=include_about,
                          roll_up=roll_up, renames=renames)
    columns = ["category", "measure", "n", "median", "q1", "q3", "mean"]
    if topics.empty:
        return _empty(columns)
    hour = pd.Timedelta(hours=1)
    first = _replies(posts).groupby("topic_id")["created_at"].min().rename("first_reply")
    with_first = topics.merge(first, left_on="topic_id", right_index=True, how="left")
    to_reply = pd.Series(((with_first["first_reply"] - with_first["created_at"]) / hour).to_numpy(float),
                         index=topics.index)
    answers = _accepted_posts(topics, posts)
    to_accepted = (answers["answer_created_at"] - answers["created_at"]) / hour
    to_accepted = topics["topic_id"].map(dict(zip(answers["topic_id"], to_accepted))).astype(float)
    to_accepted[to_accepted < 0] = np.nan  # a post moved in from an older topic
    keys = _group_key(topics, by_category)
    rows = []
    for cat in _ordered(keys):
        for measure, values in zip(MEASURES, (to_reply, to_accepted)):
            v = values[keys == cat].dropna().to_numpy(float)
            if len(v):
                q1, median, q3 = np.percentile(v, [25, 50, 75])
                rows.append((cat, measure, len(v), float(median), float(q1), float(q3), float(v.mean())))
            else:
                rows.append((cat, measure, 0, np.nan, np.nan, np.nan, np.nan))
    return pd.DataFrame(rows, columns=columns)


# -- model mentions -------------------------------------------------------------------------------------------------

def _mentions(store: Store, forum: str | None, where: Sequence[str], *, include_pinned: bool,
              include_about: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(topics that count, their mention rows found in the chosen places: topic_id, post_id, model)."""
    where = (where,) if isinstance(where, str) else tuple(where)
    unknown = [w for w in where if w not in WHERE]
    if unknown or not where:
        raise UsageError(f"unknown place of a mention: {', '.join(unknown) or '(none given)'}",
                         hint=f"use some of: {', '.join(WHERE)}")
    forum_id = _forum_id(store, forum)
    topics = _topics(store, forum_id, include_pinned=include_pinned, include_about=include_about, roll_up=True,
                     renames=None)
    rows = pd.DataFrame(store.mention_rows(forum_id), columns=["topic_id", "post_id", "model", "title", "text", "code"])
    found = (rows[list(where)] > 0).any(axis=1)
    rows = rows[found & rows["topic_id"].isin(topics["topic_id"])]
    return topics, rows[["topic_id", "post_id", "model"]]


def _ranking(rows: pd.DataFrame) -> pd.DataFrame:
    frame = rows.groupby("model").agg(topics=("topic_id", "nunique"), posts=("post_id", "nunique")).reset_index()
    frame = frame.sort_values(["topics", "posts", "model"], ascending=[False, False, True])
    return frame.reset_index(drop=True)


def _check_top(top: int | None) -> None:
    if top is not None and (isinstance(top, bool) or int(top) < 1):
        raise UsageError(f"top {top} is not a positive number", hint="use e.g. top=10, or None for every model")


def top_models(store: Store, top: int | None = 10, *, where: Sequence[str] = WHERE, include_pinned: bool = False,
               include_about: bool = False, forum: str | None = None) -> pd.DataFrame:
    """The most discussed models: columns ``model``, ``topics`` (topics with a post mentioning it),
    ``posts`` (posts mentioning it); most topics first (ties: more posts, then by name).

    ``where`` picks which mentions count: in the topic's ``title``, a post's ``text`` (own words)
    or its ``code`` blocks. ``top=None`` lists every model mentioned.
    """
    _check_top(top)
    _, rows = _mentions(store, forum, where, include_pinned=include_pinned, include_about=include_about)
    frame = _ranking(rows)
    return frame if top is None else frame.head(int(top))


def mentions_by_period(store: Store, *, period: str = "month", top: int | None = 10,
                       models: Sequence[str] | None = None, where: Sequence[str] = WHERE,
                       include_pinned: bool = False, include_about: bool = False,
                       forum: str | None = None) -> pd.DataFrame:
    """Topics mentioning each model, per period of the topic's creation.

    A topic mentions a model when any of its posts (live, regular) has a mention of it in one of
    the ``where`` places; it counts once, in the period the topic was created, however many posts
    mention the model and whenever they were written: the unit is the question, dated by when it
    was asked. ``models`` names the models to follow (canonical names, any case; a model nobody
    mentions gets zeros); else the ``top`` models of :func:`top_models` (``None``: all).

    Columns: ``period``, ``period_start``, ``model``, ``topics`` (topics created in the period that
    mention the model), ``period_topics`` (all topics created in the period), ``share``
    (``topics / period_topics``, NaN for a period without topics). Calendar-complete from the first
    to the last period with a topic; models in ranking (or given) order, then by period.
    """
    check_period(period)
    _check_top(top)
    topics, rows = _mentions(store, forum, where, include_pinned=include_pinned, include_about=include_about)
    columns = ["period", "period_start", "model", "topics", "period_topics", "share"]
    if models is not None:
        by_key = {m.casefold(): m for m in _ranking(rows)["model"]}
        chosen = list(dict.fromkeys(by_key.get(str(m).casefold(), str(m)) for m in models))
    else:
        ranked = _ranking(rows)["model"].tolist()
        chosen = ranked if top is None else ranked[:int(top)]
    if topics.empty or not chosen:
        return _empty(columns)
    starts = period_starts(topics["created_at"], period)
    calendar = period_calendar(starts, period)
    period_topics = starts.value_counts().reindex(calendar, fill_value=0)
    topic_start = dict(zip(topics["topic_id"], starts))
    hits = rows[rows["model"].isin(chosen)].drop_duplicates(["topic_id", "model"])
    hits = hits.assign(period_start=hits["topic_id"].map(topic_start))
    counts = hits.groupby(["model", "period_start"]).size()
    grid = pd.MultiIndex.from_product([chosen, calendar], names=["model", "period_start"])
    frame = counts.reindex(grid, fill_value=0).astype("int64").rename("topics").reset_index()
    frame["period_topics"] = frame["period_start"].map(period_topics).astype("int64")
    frame["share"] = frame["topics"] / frame["period_topics"].where(frame["period_topics"] > 0)
    frame["period"] = [period_label(s, period) for s in frame["period_start"]]
    return frame[columns]


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
