"""Typed records for what the Discourse JSON API returns.

The API's JSON is loose (fields appear or vanish with the Discourse version,
plugins and settings), so everything past this module works on these small
dataclasses instead. The ``from_*`` functions raise :class:`SchemaError` when a
field the crawl cannot do without is missing; the crawl turns that into a
:class:`forumkit.errors.BadResponse` that names the URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable
from urllib.parse import urlsplit

from ...store.records import Category, Post, Topic, User

LIKE_ACTION_ID = 2  # actions_summary entry that counts likes


class SchemaError(ValueError):
    """A JSON document lacks a field the scraper relies on."""


def _need(obj: Any, key: str, what: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise SchemaError(f"{what} has no '{key}'")
    return obj[key]


def _tag_names(tags: Iterable[Any] | None) -> tuple[str, ...]:
    """Tags come as strings (older Discourse) or {id, name, slug} objects (2026+)."""
    names = []
    for tag in tags or ():
        name = tag if isinstance(tag, str) else (tag or {}).get("name")
        if name:
            names.append(str(name))
    return tuple(sorted(set(names)))


def _likes(actions: Iterable[dict] | None) -> int:
    for action in actions or ():
        if isinstance(action, dict) and action.get("id") == LIKE_ACTION_ID:
            return int(action.get("count") or 0)
    return 0


def _definition_topic_id(topic_url: str | None) -> int | None:
    """'/t/about-the-beginners-category/5' -> 5: the category's 'About' topic."""
    if not topic_url:
        return None
    last = urlsplit(topic_url).path.rstrip("/").rsplit("/", 1)[-1]
    return int(last) if last.isdigit() else None


def category_from_json(obj: dict) -> Category:
    return Category(
        id=int(_need(obj, "id", "category")),
        name=str(_need(obj, "name", "category")),
        slug=str(obj.get("slug") or ""),
        parent_id=obj.get("parent_category_id"),
        description=obj.get("description_text"),
        topic_count=obj.get("topic_count"),
        post_count=obj.get("post_count"),
        position=obj.get("position"),
        read_restricted=bool(obj.get("read_restricted")),
        definition_topic_id=_definition_topic_id(obj.get("topic_url")),
    )


def categories_from_site(doc: dict) -> list[Category]:
    """/site.json: a flat list of every visible category, subcategories included."""
    return [category_from_json(c) for c in _need(doc, "categories", "site.json")]


def categories_from_category_list(doc: dict) -> list[Category]:
    """/categories.json?include_subcategories=true, flattened (fallback for old forums)."""
    out: list[Category] = []

    def walk(items: list[dict], parent: int | None) -> None:
        for item in items:
            item = dict(item)
            item.setdefault("parent_category_id", parent)
            out.append(category_from_json(item))
            walk(item.get("subcategory_list") or [], item["id"])

    walk(_need(_need(doc, "category_list", "categories.json"), "categories", "category_list"), None)
    return out


def _original_poster(obj: dict) -> int | None:
    if obj.get("user_id") is not None:
        return obj["user_id"]
    for poster in obj.get("posters") or ():
        if "Original Poster" in (poster.get("description") or ""):
            return poster.get("user_id")
    created_by = (obj.get("details") or {}).get("created_by") or {}
    return created_by.get("id")


def topic_from_json(obj: dict, *, has_accepted_answer: bool | None = None) -> Topic:
    if has_accepted_answer is None:
        has_accepted_answer = bool(obj.get("has_accepted_answer") or obj.get("accepted_answer"))
    return Topic(
        id=int(_need(obj, "id", "topic")),
        title=str(_need(obj, "title", "topic")),
        slug=str(obj.get("slug") or ""),
        category_id=obj.get("category_id"),
        user_id=_original_poster(obj),
        created_at=str(_need(obj, "created_at", "topic")),
        bumped_at=obj.get("bumped_at"),
        last_posted_at=obj.get("last_posted_at"),
        posts_count=int(_need(obj, "posts_count", "topic")),
        reply_count=obj.get("reply_count"),
        highest_post_number=obj.get("highest_post_number"),
        views=obj.get("views"),
        like_count=obj.get("like_count"),
        tags=_tag_names(obj.get("tags")),
        has_accepted_answer=has_accepted_answer,
        closed=bool(obj.get("closed")),
        archived=bool(obj.get("archived")),
        pinned=bool(obj.get("pinned")),
        archetype=obj.get("archetype"),
    )


@dataclass(frozen=True, slots=True)
class TopicPage:
    """One page of a topic list (/latest.json, /c/{slug}/{id}.json)."""

    topics: list[Topic]
    users: list[User]
    more_url: str | None


def topic_page_from_json(doc: dict) -> TopicPage:
    topic_list = _need(doc, "topic_list", "topic list")
    topics = [topic_from_json(t) for t in _need(topic_list, "topics", "topic_list")]
    users = [
        User(id=int(u["id"]), username=str(u["username"]), name=u.get("name"))
        for u in doc.get("users") or ()
        if isinstance(u, dict) and "id" in u and "username" in u
    ]
    return TopicPage(topics=topics, users=users, more_url=topic_list.get("more_topics_url"))


def post_from_json(obj: dict) -> Post:
    reply_to = obj.get("reply_to_post_number")
    return Post(
        id=int(_need(obj, "id", "post")),
        topic_id=int(_need(obj, "topic_id", "post")),
        post_number=int(_need(obj, "post_number", "post")),
        post_type=int(obj.get("post_type") or 1),
        user_id=obj.get("user_id"),
        username=obj.get("username"),
        name=obj.get("name"),
        created_at=str(_need(obj, "created_at", "post")),
        updated_at=obj.get("updated_at"),
        version=int(obj.get("version") or 1),
        reply_to_post_number=int(reply_to) if reply_to not in (None, "") else None,
        like_count=_likes(obj.get("actions_summary")),
        reads=obj.get("reads"),
        hidden=bool(obj.get("hidden")),
        user_deleted=bool(obj.get("user_deleted")),
        accepted_answer=obj.get("accepted_answer"),
        staff=bool(obj.get("staff")),
        admin=bool(obj.get("admin")),
        moderator=bool(obj.get("moderator")),
        trust_level=obj.get("trust_level"),
        cooked=str(obj.get("cooked") or ""),
    )


def latest_posts_from_json(doc: dict) -> list[Post]:
    """/posts.json?before=ID: the site-wide post feed, 50 a page, newest first."""
    return [post_from_json(p) for p in _need(doc, "latest_posts", "posts.json")]


def posts_from_json(doc: dict) -> list[Post]:
    """/t/{id}/posts.json: posts fetched by id or by post number."""
    stream = _need(doc, "post_stream", "topic posts")
    return [post_from_json(p) for p in _need(stream, "posts", "post_stream")]


@dataclass(frozen=True, slots=True)
class TopicView:
    """/t/{id}.json: the topic, its first posts and the ids of all its posts."""

    topic: Topic
    posts: list[Post]
    stream: list[int] | None  # None for mega topics, whose stream Discourse omits
    last_post_id: int | None
    accepted_answer_post_number: int | None


def topic_view_from_json(doc: dict) -> TopicView:
    post_stream = _need(doc, "post_stream", "topic")
    accepted = doc.get("accepted_answer") or None
    topic = topic_from_json(doc, has_accepted_answer=bool(accepted))
    stream = post_stream.get("stream")
    return TopicView(
        topic=topic,
        posts=[post_from_json(p) for p in _need(post_stream, "posts", "post_stream")],
        stream=[int(i) for i in stream] if stream is not None else None,
        last_post_id=post_stream.get("lastId"),
        accepted_answer_post_number=(accepted or {}).get("post_number"),
    )
