"""A short account of what a store holds: what `forumkit demo` and `forumkit stats` print."""

from __future__ import annotations

from dataclasses import dataclass

from forumkit.store import Store


@dataclass(frozen=True)
class StoreSummary:
    forum: str
    counts: dict[str, int]
    first_post: str | None
    last_post: str | None
    months: int
    by_category: list[tuple[str, int, int]]  # category, topics, posts
    top_models: list[tuple[str, int]]  # model, topics mentioning it
    accepted_share: float
    last_run: tuple[str, str | None, int] | None  # started, finished, requests


def summarize(store: Store, forum_id: int) -> StoreSummary:
    url = dict(store.forums())[forum_id]
    span = store.query(
        "SELECT min(created_at), max(created_at), count(DISTINCT substr(created_at, 1, 7)) FROM posts"
        " WHERE forum_id = ? AND removed_at IS NULL", (forum_id,))[0]
    by_category = [(r[0] or "(none)", r[1], r[2]) for r in store.query(
        """SELECT c.name, count(*), sum((SELECT count(*) FROM posts p WHERE p.forum_id = t.forum_id
               AND p.topic_id = t.id AND p.removed_at IS NULL))
           FROM topics t LEFT JOIN categories c ON c.forum_id = t.forum_id AND c.id = t.category_id
           WHERE t.forum_id = ? AND t.removed_at IS NULL GROUP BY c.name ORDER BY count(*) DESC""", (forum_id,))]
    top_models = [(r[0], r[1]) for r in store.query(
        "SELECT model, count(DISTINCT topic_id) FROM model_mentions WHERE forum_id = ?"
        " GROUP BY model ORDER BY 2 DESC, 1 LIMIT 10", (forum_id,))]
    accepted = store.query(
        "SELECT avg(has_accepted_answer) FROM topics WHERE forum_id = ? AND removed_at IS NULL", (forum_id,))[0][0]
    run = store.query(
        "SELECT started_at, finished_at, requests FROM crawl_runs WHERE forum_id = ? ORDER BY id DESC LIMIT 1",
        (forum_id,))
    return StoreSummary(
        forum=url, counts=store.counts(forum_id), first_post=span[0], last_post=span[1], months=span[2] or 0,
        by_category=by_category, top_models=top_models, accepted_share=float(accepted or 0.0),
        last_run=tuple(run[0]) if run else None,
    )
