"""The data model: the records forumkit keeps in its store.

These are the typed rows that cross layers. The collectors build them from what a
forum or the Hub serves (:mod:`forumkit.collect`), the store writes and reads them,
and nothing here knows where they came from, so the store needs nothing from the
stages above it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Category:
    id: int
    name: str
    slug: str
    parent_id: int | None
    description: str | None
    topic_count: int | None
    post_count: int | None
    position: int | None
    read_restricted: bool
    definition_topic_id: int | None


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    name: str | None
    trust_level: int | None = None
    admin: bool | None = None
    moderator: bool | None = None
    staff: bool | None = None


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic as a listing or a topic view describes it."""

    id: int
    title: str
    slug: str
    category_id: int | None
    user_id: int | None
    created_at: str
    bumped_at: str | None
    last_posted_at: str | None
    posts_count: int
    reply_count: int | None
    highest_post_number: int | None
    views: int | None
    like_count: int | None
    tags: tuple[str, ...]
    has_accepted_answer: bool
    closed: bool
    archived: bool
    pinned: bool
    archetype: str | None


@dataclass(frozen=True, slots=True)
class Post:
    id: int
    topic_id: int
    post_number: int
    post_type: int
    user_id: int | None
    username: str | None
    name: str | None
    created_at: str
    updated_at: str | None
    version: int
    reply_to_post_number: int | None
    like_count: int
    reads: int | None
    hidden: bool
    user_deleted: bool
    accepted_answer: bool | None
    staff: bool
    admin: bool
    moderator: bool
    trust_level: int | None
    cooked: str

    @property
    def author(self) -> User | None:
        if self.user_id is None or self.username is None:
            return None
        return User(self.user_id, self.username, self.name, self.trust_level, self.admin, self.moderator, self.staff)


@dataclass(frozen=True, slots=True)
class ParsedPost:
    """A post's clean text and features, as :func:`parse_cooked` finds them.

    ``fallback`` is set when the HTML defeated the parser and the text is a crude tag strip
    without features; the store keeps such posts and counts them (``parse_fallbacks``).
    """

    text: str
    code: str
    code_blocks: int
    inline_code: int
    quotes: int
    quoted_posts: tuple[tuple[int | None, int | None, str | None], ...]
    links: int
    link_urls: tuple[str, ...]
    images: int
    oneboxes: tuple[str, ...]
    mentions: tuple[str, ...]
    fallback: str | None = None  # why the HTML was only tag-stripped (no features), None when it parsed


@dataclass(frozen=True, slots=True)
class HubModel:
    """One model as the store keeps it (a row of ``hub_models`` without endpoint and fetched_at)."""

    id: str
    author: str | None
    created_at: str | None  # ISO-8601 UTC, YYYY-MM-DDTHH:MM:SS.mmmZ (the Hub's own format)
    created_known: bool
    last_modified: str | None
    pipeline_tag: str | None
    library_name: str | None
    model_type: str | None
    base_models: tuple[str, ...]
    tags: tuple[str, ...]
    downloads: int | None
    likes: int | None
    card_data: dict | None  # the card metadata as served; None when absent or empty
    license: str | None
    languages: tuple[str, ...]
    datasets: tuple[str, ...]
    has_metrics: bool
    has_model_index: bool

    @property
    def has_card(self) -> bool:
        return self.card_data is not None


@dataclass(frozen=True, slots=True)
class TopicState:
    """What the store knows of a topic, to tell whether a listing shows a change."""

    posts_count: int
    highest_post_number: int | None
    bumped_at: str | None
    last_posted_at: str | None


@dataclass(slots=True)
class CrawlRun:
    id: int
    forum_id: int
    options: dict
    phase: str
    cursor: dict
    requests: int
    since_bumped_at: str | None
    since_post_id: int | None
    max_bumped_at: str | None
    max_post_id: int | None
    started_at: str




@dataclass(slots=True)
class HubRun:
    """A row of ``hub_runs``: one crawl of one Hub, resumable while ``status`` is running."""

    id: int
    endpoint: str
    options: dict
    started_at: str
    next_url: str | None
    since_modified: str | None  # the previous run's watermark this run stops at
    max_modified: str | None  # this run's watermark so far
    models: int
    malformed: int
    requests: int


@dataclass(frozen=True, slots=True)
class MalformedEntry:
    """A Hub listing entry the collector could not read, kept as served (``hub_malformed``)."""

    model_id: str | None
    problem: str
    raw: str  # the entry as served, JSON
