"""The records a fake Discourse forum is made of, and the small helpers they share.

Timestamps are kept as the exact strings Discourse serves (ISO-8601 UTC with
milliseconds and ``Z``): every endpoint and :meth:`FakeForum.ground_truth` then
show byte-identical values, and the strings sort chronologically as they are.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone

#: Discourse ``post_type`` values (``Post.types``).
REGULAR, MODERATOR_ACTION, SMALL_ACTION, WHISPER = 1, 2, 3, 4

#: What anonymous users see instead of a post hidden by community flags.
HIDDEN_COOKED = "<p>This post was flagged by the community and is temporarily hidden.</p>"
#: What a post becomes when its author deletes it (first post: the topic text).
USER_DELETED_COOKED = "<p>(post deleted by author)</p>"
USER_DELETED_TOPIC_COOKED = "<p>(topic deleted by author)</p>"


def iso(moment: datetime) -> str:
    """Format a datetime the way Discourse does: ``2022-03-04T10:11:12.345Z`` (UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    """Parse a timestamp written by :func:`iso` (or any ISO-8601 string) as aware UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def utc_now() -> datetime:
    """The default clock of a forum: real UTC time."""
    return datetime.now(timezone.utc)


def slugify(text: str) -> str:
    """Discourse's ASCII slug: accents folded, other symbols dropped, ``topic`` when empty.

    Titles written only in CJK or emoji therefore all get the slug ``topic``, as on
    a real forum with the default ``slug_generation_method``.
    """
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return re.sub(r"-{2,}", "-", slug)[:80].strip("-") or "topic"


_TAG = re.compile(r"<[^>]+>")


def html_to_text(cooked: str) -> str:
    """Plain text of cooked HTML, whitespace collapsed (for excerpts and derived raw)."""
    return " ".join(html.unescape(_TAG.sub(" ", cooked)).split())


def excerpt(cooked: str, limit: int = 300) -> tuple[str, bool]:
    """A text excerpt of at most ``limit`` characters, and whether it was truncated."""
    text = html_to_text(cooked)
    if len(text) <= limit:
        return html.escape(text, quote=False), False
    return html.escape(text[:limit].rstrip(), quote=False) + "&hellip;", True


@dataclass
class Category:
    """A category; ``topic_id`` is its "About the X category" definition topic."""

    id: int
    name: str
    slug: str
    color: str
    text_color: str
    description: str
    position: int
    parent_category_id: int | None = None
    read_restricted: bool = False
    topic_id: int | None = None


@dataclass
class User:
    """A forum account. ``staff`` is derived, as in Discourse (admin or moderator)."""

    id: int
    username: str
    name: str
    trust_level: int = 1
    admin: bool = False
    moderator: bool = False
    avatar_version: int = 1

    @property
    def staff(self) -> bool:
        return self.admin or self.moderator


@dataclass
class Topic:
    """A topic and the statistics Discourse keeps denormalised on it.

    ``posts_count``, ``highest_post_number``, ``last_posted_at`` and ``like_count``
    are the public figures (staff-deleted posts and whispers left out); ``post_ids``
    holds every post of the topic, in ``post_number`` order, whatever its state.
    """

    id: int
    title: str
    slug: str
    category_id: int | None
    user_id: int
    created_at: str
    bumped_at: str
    last_posted_at: str
    archetype: str = "regular"
    tags: list[str] = field(default_factory=list)
    views: int = 0
    posts_count: int = 0
    highest_post_number: int = 0
    like_count: int = 0
    closed: bool = False
    archived: bool = False
    visible: bool = True
    pinned_at: str | None = None
    pinned_globally: bool = False
    deleted_at: str | None = None
    accepted_answer_post_id: int | None = None
    accepter_user_id: int | None = None
    last_post_user_id: int | None = None
    post_ids: list[int] = field(default_factory=list)
    #: Highest post number ever used, whispers and deleted posts included.
    max_post_number: int = 0
    #: Index in ``corpus.THEMES`` of the theme a generated question topic was written from (the planted
    #: answer for topic models and code suggestions); None for every other topic. Never served.
    theme: int | None = None


@dataclass
class Post:
    """A post. ``cooked`` is what its author wrote; visibility rules apply on output."""

    id: int
    topic_id: int
    post_number: int
    user_id: int
    created_at: str
    updated_at: str
    cooked: str
    raw: str
    post_type: int = REGULAR
    action_code: str | None = None
    reply_to_post_number: int | None = None
    reply_count: int = 0
    version: int = 1
    like_count: int = 0
    reads: int = 1
    hidden: bool = False
    user_deleted: bool = False
    deleted_at: str | None = None
