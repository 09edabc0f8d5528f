"""The in-memory fake forum: its state, the mutations tests use, and what anonymous users see.

Every mutation follows what real Discourse does to its denormalised counters (see
``shared/notes/discourse-api.md``), so that a scraper tested here meets the same
surprises as on a real forum: edits only bump a topic when they touch its last
post, staff deletions leave gaps in post numbers, moved posts keep their id, and
so on. One re-entrant lock guards the state, because the HTTP server thread reads
while the test thread mutates.
"""

from __future__ import annotations

import bisect
import html
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from . import snapshot
from .records import (
    HIDDEN_COOKED,
    REGULAR,
    SMALL_ACTION,
    USER_DELETED_COOKED,
    USER_DELETED_TOPIC_COOKED,
    WHISPER,
    Category,
    Post,
    Topic,
    User,
    html_to_text,
    iso,
    slugify,
    utc_now,
)
from .truth import GroundTruth, ground_truth

#: ``order=`` values of topic lists and the topic attribute each sorts on.
SORT_KEYS: dict[str, str] = {
    "default": "bumped_at",
    "activity": "bumped_at",
    "created": "created_at",
    "views": "views",
    "posts": "posts_count",
    "likes": "like_count",
}


class FakeForum:
    """A Discourse forum held in memory.

    Build one with :func:`generate_forum` or :meth:`load`, mutate it with the
    methods below, serve it with :class:`FakeDiscourse`, and compare a scrape with
    :meth:`ground_truth`. ``clock`` returns "now" for mutations; replace it to make
    timestamps deterministic.
    """

    def __init__(self, *, hostname: str = "forum.fakeforum.test", title: str = "Fake Forum") -> None:
        self.hostname = hostname
        self.title = title
        self.categories: dict[int, Category] = {}
        self.users: dict[int, User] = {}
        self.topics: dict[int, Topic] = {}
        self.posts: dict[int, Post] = {}
        self.tag_ids: dict[str, int] = {}
        self.clock: Callable[[], datetime] = utc_now
        self.lock = threading.RLock()
        self._by_number: dict[tuple[int, int], int] = {}
        self._cache: dict[Any, Any] = {}

    # ------------------------------------------------------------------ building
    def add_user(
        self, username: str, name: str = "", *, trust_level: int = 1, admin: bool = False, moderator: bool = False
    ) -> int:
        """Create an account and return its id."""
        with self.lock:
            user_id = _next_id(self.users)
            self.users[user_id] = User(user_id, username, name, trust_level, admin, moderator, user_id % 7 + 1)
            self._touch()
            return user_id

    def add_category(
        self,
        name: str,
        *,
        description: str = "",
        color: str = "0088CC",
        text_color: str = "FFFFFF",
        parent_category_id: int | None = None,
        read_restricted: bool = False,
        definition_user_id: int | None = None,
        created_at: str | datetime | None = None,
    ) -> int:
        """Create a category and, given an author, its pinned "About the X category" topic."""
        with self.lock:
            category_id = _next_id(self.categories)
            category = Category(
                category_id, name, slugify(name), color, text_color, description,
                len(self.categories), parent_category_id, read_restricted,
            )
            self.categories[category_id] = category
            if definition_user_id is not None:
                text = html.escape(description, quote=False) or "(Replace this first paragraph.)"
                body = f"<p>{text}</p>"
                topic_id = self.add_topic(
                    category_id, f"About the {name} category", definition_user_id, body, created_at
                )
                self.topics[topic_id].pinned_at = self.topics[topic_id].created_at
                category.topic_id = topic_id
            self._touch()
            return category_id

    def add_topic(
        self,
        category_id: int | None,
        title: str,
        user_id: int,
        cooked: str,
        created_at: str | datetime | None = None,
        tags: Iterable[str] = (),
        *,
        raw: str | None = None,
        archetype: str = "regular",
    ) -> int:
        """Create a topic with its first post and return the topic id.

        ``archetype="private_message"`` (with ``category_id=None``) makes a PM, which
        anonymous users never see.
        """
        with self.lock:
            stamp = self._stamp(created_at)
            topic_id = _next_id(self.topics)
            clean_tags = sorted({tag.strip().lower().replace(" ", "-") for tag in tags if tag.strip()})
            for tag in clean_tags:
                self.tag_ids.setdefault(tag, len(self.tag_ids) + 1)
            self.topics[topic_id] = Topic(
                topic_id, title, slugify(title), category_id, user_id, stamp, stamp, stamp,
                archetype=archetype, tags=clean_tags,
            )
            self.add_post(topic_id, user_id, cooked, created_at=stamp, raw=raw)
            return topic_id

    def add_post(
        self,
        topic_id: int,
        user_id: int,
        cooked: str,
        reply_to_post_number: int | None = None,
        created_at: str | datetime | None = None,
        *,
        raw: str | None = None,
        post_type: int = REGULAR,
        action_code: str | None = None,
    ) -> int:
        """Append a post to a topic and return its (global, increasing) id.

        Like ``PostCreator``: any post but a whisper sets ``last_posted_at`` and the
        public counters; only regular posts bump the topic (small actions do not).
        """
        with self.lock:
            topic = self.topics[topic_id]
            stamp = self._stamp(created_at)
            post_id = _next_id(self.posts)
            number = topic.max_post_number + 1
            post = Post(
                post_id, topic_id, number, user_id, stamp, stamp, cooked,
                html_to_text(cooked) if raw is None else raw,
                post_type=post_type, action_code=action_code, reply_to_post_number=reply_to_post_number,
            )
            self.posts[post_id] = post
            topic.post_ids.append(post_id)
            topic.max_post_number = number
            self._by_number[(topic_id, number)] = post_id
            if post_type != WHISPER and (topic_id, reply_to_post_number) in self._by_number:
                self.posts[self._by_number[(topic_id, reply_to_post_number)]].reply_count += 1
            if post_type != WHISPER:
                topic.posts_count += 1
                topic.highest_post_number = number
                topic.last_posted_at = stamp
                topic.last_post_user_id = user_id
                if post_type == REGULAR:
                    topic.bumped_at = stamp
            self._touch()
            return post_id

    # ----------------------------------------------------------------- mutations
    def edit_post(self, post_id: int, cooked: str, *, raw: str | None = None) -> None:
        """Revise a post: new version and ``updated_at``; bumps the topic only for its last post."""
        with self.lock:
            post = self.posts[post_id]
            post.cooked = cooked
            post.raw = html_to_text(cooked) if raw is None else raw
            self._revise(post)

    def hide_post(self, post_id: int) -> None:
        """Hide a post as community flags do; hiding a first post also unlists its topic."""
        with self.lock:
            post = self.posts[post_id]
            post.hidden = True
            if post.post_number == 1:
                self.topics[post.topic_id].visible = False
            self._touch()

    def delete_post(self, post_id: int) -> None:
        """Staff deletion: the post vanishes for anonymous users, numbers are not reused.

        Deleting a first post deletes the whole topic, and deleting an accepted
        answer un-accepts it, as in Discourse and discourse-solved.
        """
        with self.lock:
            post = self.posts[post_id]
            topic = self.topics[post.topic_id]
            if post.post_number == 1:
                self.delete_topic(topic.id)
                return
            post.deleted_at = self._stamp(None)
            if topic.accepted_answer_post_id == post_id:
                topic.accepted_answer_post_id = topic.accepter_user_id = None
            self._reset_highest(topic)
            self._touch()

    def user_delete_post(self, post_id: int) -> None:
        """The author deletes their post: it stays, its text replaced by a placeholder."""
        with self.lock:
            post = self.posts[post_id]
            post.user_deleted = True
            post.cooked = USER_DELETED_TOPIC_COOKED if post.post_number == 1 else USER_DELETED_COOKED
            post.raw = html_to_text(post.cooked)
            self._revise(post)

    def accept_answer(self, post_id: int, accepter_user_id: int | None = None) -> None:
        """Mark a reply as the solution of its topic (discourse-solved); by default the OP accepts."""
        with self.lock:
            post = self.posts[post_id]
            if post.post_number == 1 or post.post_type != REGULAR or post.deleted_at:
                raise ValueError(f"post {post_id} cannot be an accepted answer")
            topic = self.topics[post.topic_id]
            topic.accepted_answer_post_id = post_id
            topic.accepter_user_id = topic.user_id if accepter_user_id is None else accepter_user_id
            self._touch()

    def like_post(self, post_id: int, count: int = 1) -> None:
        """Add ``count`` likes to a post and to its topic's ``like_count``."""
        with self.lock:
            post = self.posts[post_id]
            post.like_count += count
            if self.post_visible(post):
                self.topics[post.topic_id].like_count += count
            self._touch()

    def view_topic(self, topic_id: int, n: int = 1) -> None:
        """Count ``n`` more views of a topic (its posts' ``reads`` follow loosely)."""
        with self.lock:
            topic = self.topics[topic_id]
            topic.views += n
            for post_id in topic.post_ids:
                self.posts[post_id].reads += n
            self._touch()

    def move_post(self, post_id: int, to_topic_id: int, *, user_id: int | None = None) -> None:
        """Move a post to the end of another topic, as staff do with "move to existing topic".

        The post keeps its id and gets a new ``topic_id`` and ``post_number``; like
        ``PostMover``, a small-action post (``split_topic``) takes its old number in
        the source topic, and the target topic is bumped.
        """
        with self.lock:
            post, target = self.posts[post_id], self.topics[to_topic_id]
            source = self.topics[post.topic_id]
            if post.post_number == 1:
                raise ValueError("moving a first post is moving the whole topic; not supported")
            old_number = post.post_number
            source.post_ids.remove(post_id)
            del self._by_number[(source.id, old_number)]
            if source.accepted_answer_post_id == post_id:
                source.accepted_answer_post_id = source.accepter_user_id = None
            post.topic_id, post.post_number, post.reply_to_post_number = target.id, target.max_post_number + 1, None
            target.max_post_number = post.post_number
            target.post_ids.append(post_id)
            self._by_number[(target.id, post.post_number)] = post_id
            now = self._stamp(None)
            mover = user_id if user_id is not None else self._staff_user_id(source)
            link = f'<a href="/t/{target.slug}/{target.id}">{target.title}</a>'
            action = Post(
                _next_id(self.posts), source.id, old_number, mover, now, now,
                f"<p>A post was merged into an existing topic: {link}</p>",
                f"A post was merged into an existing topic: [{target.title}](/t/{target.slug}/{target.id})",
                post_type=SMALL_ACTION, action_code="split_topic",
            )
            self.posts[action.id] = action
            numbers = [self.posts[pid].post_number for pid in source.post_ids]
            source.post_ids.insert(bisect.bisect(numbers, old_number), action.id)
            self._by_number[(source.id, old_number)] = action.id
            self._reset_highest(source)
            self._reset_highest(target)
            target.bumped_at = now
            self._touch()

    def close_topic(self, topic_id: int, user_id: int | None = None) -> int:
        """Close a topic; like Discourse this adds a ``closed.enabled`` small-action post (returned)."""
        with self.lock:
            topic = self.topics[topic_id]
            topic.closed = True
            actor = user_id if user_id is not None else self._staff_user_id(topic)
            return self.add_post(topic_id, actor, "", raw="", post_type=SMALL_ACTION, action_code="closed.enabled")

    def pin_topic(self, topic_id: int, *, globally: bool = False) -> None:
        """Pin a topic in its category, or globally (first on page 0 of /latest)."""
        with self.lock:
            topic = self.topics[topic_id]
            topic.pinned_at = self._stamp(None)
            topic.pinned_globally = globally
            self._touch()

    def unlist_topic(self, topic_id: int) -> None:
        """Make a topic unlisted: reachable by its URL, but in no list and not in /posts.json."""
        with self.lock:
            self.topics[topic_id].visible = False
            self._touch()

    def delete_topic(self, topic_id: int) -> None:
        """Staff deletion of a whole topic: 404 for anonymous users."""
        with self.lock:
            self.topics[topic_id].deleted_at = self._stamp(None)
            self._touch()

    # ---------------------------------------------------------------- visibility
    def category_visible(self, category: Category | None) -> bool:
        """Whether anonymous users can read a category (and its parent)."""
        while category is not None:
            if category.read_restricted:
                return False
            category = self.categories.get(category.parent_category_id or 0)
        return True

    def topic_accessible(self, topic: Topic) -> bool:
        """Whether ``/t/{id}.json`` answers anonymous users (unlisted topics do)."""
        return (
            topic.archetype == "regular"
            and topic.deleted_at is None
            and self.category_visible(self.categories.get(topic.category_id or 0))
        )

    def topic_listed(self, topic: Topic) -> bool:
        """Whether a topic is public and discoverable: accessible and not unlisted."""
        return topic.visible and self.topic_accessible(topic)

    @staticmethod
    def post_visible(post: Post) -> bool:
        """Whether a post of an accessible topic shows in its stream (not deleted, not a whisper)."""
        return post.deleted_at is None and post.post_type != WHISPER

    def stream(self, topic: Topic) -> list[Post]:
        """The posts anonymous users see in a topic, in post-number order."""
        posts = (self.posts[post_id] for post_id in topic.post_ids)
        return [post for post in posts if self.post_visible(post)]

    def post_by_number(self, topic_id: int, post_number: int) -> Post | None:
        """The post that currently holds ``post_number`` in a topic, if any."""
        post_id = self._by_number.get((topic_id, post_number))
        return None if post_id is None else self.posts[post_id]

    @staticmethod
    def served_cooked(post: Post) -> str:
        """``cooked`` as anonymous users get it: hidden posts show the flag notice."""
        return HIDDEN_COOKED if post.hidden else post.cooked

    # ------------------------------------------------------------------- indexes
    def topic_index(
        self, category_id: int | None, subcategories: bool, order: str, ascending: bool
    ) -> tuple[list[Topic], list[Topic]]:
        """Listed topics of a list endpoint, sorted, split into (pinned first, the rest).

        ``category_id`` None means /latest: definition topics are left out
        (``no_definitions``) and only globally pinned topics go first; in a
        category, topics pinned in that category go first. Only the default
        (activity) order puts pinned topics first. Cached until the next mutation,
        so paging a large forum costs no sort per request.
        """
        key = ("topics", category_id, subcategories, order, ascending)
        with self.lock:
            if key not in self._cache:
                self._cache[key] = self._build_topic_index(category_id, subcategories, order, ascending)
            return self._cache[key]

    def public_post_ids(self) -> list[int]:
        """Ascending ids of the posts /posts.json lists (public regular posts), cached."""
        with self.lock:
            if "posts" not in self._cache:
                self._cache["posts"] = [
                    post.id
                    for post in self.posts.values()  # in id order: ids are given in insertion order
                    if post.post_type == REGULAR and not post.hidden and post.deleted_at is None
                    and self.topic_listed(self.topics[post.topic_id])
                ]
            return self._cache["posts"]

    def _build_topic_index(
        self, category_id: int | None, subcategories: bool, order: str, ascending: bool
    ) -> tuple[list[Topic], list[Topic]]:
        if category_id is None:
            definitions = {c.topic_id for c in self.categories.values()}
            chosen = [t for t in self.topics.values() if t.id not in definitions and self.topic_listed(t)]
        else:
            wanted = {category_id}
            if subcategories:
                wanted |= {c.id for c in self.categories.values() if c.parent_category_id == category_id}
            chosen = [t for t in self.topics.values() if t.category_id in wanted and self.topic_listed(t)]
        attribute = SORT_KEYS.get(order, "bumped_at")
        chosen.sort(key=lambda t: (getattr(t, attribute), t.id), reverse=not ascending)
        if order not in ("default", "activity"):  # TopicQuery prioritizes pinned topics only for these
            return [], chosen
        pinned = [
            t for t in chosen
            if t.pinned_at is not None and (t.pinned_globally if category_id is None else t.category_id == category_id)
        ]
        pinned_ids = {t.id for t in pinned}
        return pinned, [t for t in chosen if t.id not in pinned_ids]

    # -------------------------------------------------------------- ground truth
    def ground_truth(self) -> GroundTruth:
        """Everything an anonymous crawler can discover, as plain dicts keyed by id.

        The exact rules (which topics and posts count, what ``posts_count`` means)
        are documented in :mod:`forumkit.fakes.discourse.truth`.
        """
        return ground_truth(self)

    # --------------------------------------------------------------- persistence
    def to_json(self) -> dict[str, Any]:
        """The whole state as JSON-ready data (indexes are rebuilt on load)."""
        with self.lock:
            return snapshot.dump(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FakeForum:
        """Rebuild a forum from :meth:`to_json` output."""
        tables = snapshot.tables(data)  # validates the format first
        forum = cls(hostname=data["hostname"], title=data["title"])
        forum.tag_ids, forum.categories, forum.users, forum.topics, forum.posts = tables
        for post in sorted(forum.posts.values(), key=lambda p: (p.topic_id, p.post_number)):
            forum.topics[post.topic_id].post_ids.append(post.id)
            forum._by_number[(post.topic_id, post.post_number)] = post.id
        return forum

    def save(self, path: str | Path) -> None:
        """Write a gzip JSON snapshot (shippable, loadable with :meth:`load`)."""
        snapshot.write(self.to_json(), path)

    @classmethod
    def load(cls, path: str | Path) -> FakeForum:
        """Read a snapshot written by :meth:`save`."""
        return cls.from_json(snapshot.read(path))

    # ------------------------------------------------------------------ internals
    def _stamp(self, value: str | datetime | None) -> str:
        if value is None:
            return iso(self.clock())
        return iso(value) if isinstance(value, datetime) else value

    def _touch(self) -> None:
        """Drop cached indexes: the state changed."""
        self._cache.clear()

    def _revise(self, post: Post) -> None:
        """A new revision (``PostRevisor``): bump the topic only if no later post exists."""
        post.version += 1
        post.updated_at = self._stamp(None)
        topic = self.topics[post.topic_id]
        later = any(
            self.posts[pid].post_number > post.post_number and self.posts[pid].deleted_at is None
            for pid in topic.post_ids
        )
        if not later and post.post_type != WHISPER:
            topic.bumped_at = post.updated_at
        self._touch()

    def _reset_highest(self, topic: Topic) -> None:
        """Recount a topic's public counters from its posts (``Topic.reset_highest``)."""
        public = self.stream(topic)
        topic.posts_count = len(public)
        topic.highest_post_number = max((p.post_number for p in public), default=0)
        topic.like_count = sum(p.like_count for p in public)
        if public:
            last = max(public, key=lambda p: (p.created_at, p.post_number))
            topic.last_posted_at, topic.last_post_user_id = last.created_at, last.user_id

    def _staff_user_id(self, topic: Topic) -> int:
        """Who performs a staff action when the caller names nobody: the first admin."""
        return next((u.id for u in self.users.values() if u.admin), topic.user_id)


def _next_id(table: dict[int, Any]) -> int:
    """The next id of a table whose keys were inserted in increasing order (O(1))."""
    return next(reversed(table), 0) + 1


__all__ = ["FakeForum", "SORT_KEYS"]
