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
    parse_fallbacks: int  # live posts whose HTML was only tag-stripped (text kept, no features)


def summarize(store: Store, forum_id: int) -> StoreSummary:
    """The summary of one forum in the store."""
    url = dict(store.forums())[forum_id]
    first, last, months = store.post_span(forum_id)
    return StoreSummary(
        forum=url, counts=store.counts(forum_id), first_post=first, last_post=last, months=months,
        by_category=store.topics_by_category(forum_id), top_models=store.top_models(forum_id),
        accepted_share=store.accepted_share(forum_id), last_run=store.last_crawl(forum_id),
        parse_fallbacks=store.parse_fallback_count(forum_id),
    )
