"""Turn forum records into the JSON objects Discourse's serializers emit for anonymous users.

Pure functions of the forum state (callers hold ``forum.lock``). Field sets and
conditional keys follow ``PostSerializer``, ``TopicListItemSerializer``,
``SuggestedTopicSerializer``, ``CategorySerializer`` and the discourse-solved
additions, as recorded in ``shared/notes/discourse-api.md``, and every response
validates against Discourse's published OpenAPI schema (tests/test_discourse_contract.py
lists, with evidence, where the real site and so this fake differ from it). Where the
schema requires a field that Discourse sends only to some users (``link_counts``,
``reviewable_id``, the topic ``details`` permissions), the fake sends the value an
anonymous reader would imply (empty, 0, false).
"""

from __future__ import annotations

import html
import re
from collections import Counter
from typing import Any

from .model import FakeForum
from .records import Category, Post, Topic, User, excerpt

_EXTERNAL_LINK = re.compile(r'<a href="(https?://[^"]+)"[^>]*>([^<]*)</a>')


def avatar_template(forum: FakeForum, user: User) -> str:
    return f"/user_avatar/{forum.hostname}/{user.username.lower()}/{{size}}/{user.avatar_version}_2.png"


def basic_user(forum: FakeForum, user: User) -> dict[str, Any]:
    """``BasicUserSerializer``: what topic lists and ``details`` carry about a person."""
    return {"id": user.id, "username": user.username, "name": user.name,
            "avatar_template": avatar_template(forum, user)}


def tag(forum: FakeForum, name: str) -> dict[str, Any]:
    """A tag as the newest Discourse versions show it."""
    return {"id": forum.tag_ids[name], "name": name, "slug": name}


def tags(forum: FakeForum, topic: Topic, as_objects: bool) -> list[Any]:
    """Tag names (older Discourse) or ``{id, name, slug}`` objects (newest versions)."""
    if not as_objects:
        return list(topic.tags)
    return [tag(forum, name) for name in topic.tags]


def fancy_title(title: str) -> str:
    return html.escape(title, quote=False)


def post(forum: FakeForum, item: Post, topic: Topic, *, raw: bool = False, in_topic: bool = True) -> dict[str, Any]:
    """One post as ``PostSerializer`` shows it to an anonymous user (with solved's fields).

    ``in_topic``: serialized within a topic view (/t/...), which adds ``read`` and ``link_counts`` and
    counts reviewables (0: none); elsewhere ``reviewable_id`` is the post's reviewable, here none.
    """
    author = forum.users[item.user_id]
    row: dict[str, Any] = {
        "id": item.id, "name": author.name, "username": author.username,
        "avatar_template": avatar_template(forum, author), "created_at": item.created_at,
        "cooked": forum.served_cooked(item), "post_number": item.post_number, "post_type": item.post_type,
        "updated_at": item.updated_at, "reply_count": item.reply_count,
        "reply_to_post_number": item.reply_to_post_number, "quote_count": item.cooked.count('class="quote '),
        "incoming_link_count": 0, "reads": item.reads, "readers_count": max(item.reads - 1, 0),
        "score": round(item.reads * 0.2 + item.like_count * 15 + item.reply_count * 5, 1), "yours": False,
        "topic_id": topic.id, "topic_slug": topic.slug, "display_username": author.name,
        "primary_group_name": None, "flair_name": None, "flair_url": None, "flair_bg_color": None,
        "flair_color": None, "flair_group_id": None, "version": item.version, "can_edit": False,
        "can_delete": False, "can_recover": False, "can_see_hidden_post": False, "can_wiki": False,
        "user_title": None, "bookmarked": False,
        "actions_summary": [{"id": 2, "count": item.like_count}] if item.like_count else [],
        "moderator": author.moderator, "admin": author.admin, "staff": author.staff, "user_id": author.id,
        "hidden": item.hidden, "trust_level": author.trust_level, "deleted_at": None,
        "user_deleted": item.user_deleted, "edit_reason": None, "can_view_edit_history": True, "wiki": False,
        "reviewable_id": 0 if in_topic else None, "reviewable_score_count": 0, "reviewable_score_pending_count": 0,
        "can_accept_answer": False, "can_unaccept_answer": False,
        "accepted_answer": topic.accepted_answer_post_id == item.id,
        "topic_accepted_answer": topic.accepted_answer_post_id is not None,
    }
    if item.hidden:
        row["cooked_hidden"] = True
    if item.action_code:
        row["action_code"] = item.action_code
    if in_topic:
        row["read"] = True
        links = _EXTERNAL_LINK.findall(item.cooked) if not item.hidden else []
        row["link_counts"] = [
            {"url": url, "internal": False, "reflection": False, "title": text or url, "clicks": 0}
            for url, text in dict(links).items()
        ]
    target = forum.post_by_number(topic.id, item.reply_to_post_number) if item.reply_to_post_number else None
    if target is not None:
        row["reply_to_user"] = basic_user(forum, forum.users[target.user_id])
        del row["reply_to_user"]["id"]
    if raw and not item.hidden:
        row["raw"] = item.raw
    return row


def latest_post(forum: FakeForum, item: Post, topic: Topic) -> dict[str, Any]:
    """An entry of ``/posts.json``: the post with ``raw``, an excerpt and its topic's title."""
    row = post(forum, item, topic, raw=True, in_topic=False)
    text, truncated = excerpt(item.cooked)
    row.update({
        "topic_title": topic.title, "topic_html_title": fancy_title(topic.title),
        "category_id": topic.category_id, "posts_count": topic.posts_count, "excerpt": text,
        "truncated": truncated, "post_url": f"/t/{topic.slug}/{topic.id}/{item.post_number}",
        "badges_granted": [],
    })
    return row


def _poster_rows(forum: FakeForum, topic: Topic) -> list[tuple[int, str | None, str]]:
    """``(user_id, extras, description)`` of up to 5 posters: OP, frequent ones, most recent."""
    authors = [p.user_id for p in forum.stream(topic) if p.post_type == 1]
    if not authors:
        return []
    last, counts = authors[-1], Counter(authors)
    frequent = [uid for uid, _ in counts.most_common() if uid not in (topic.user_id, last)][:3]
    rows: list[tuple[int, str | None, str]] = []
    if topic.user_id != last:
        rows.append((topic.user_id, None, "Original Poster"))
    rows += [(uid, None, "Frequent Poster") for uid in frequent]
    if topic.user_id == last:
        rows.append((last, "latest single" if len(counts) == 1 else "latest", "Original Poster, Most Recent Poster"))
    else:
        rows.append((last, "latest", "Most Recent Poster"))
    return rows


def topic_list_item(forum: FakeForum, topic: Topic, as_objects: bool) -> dict[str, Any]:
    """A topic of ``topic_list.topics``; posters refer to the list's ``users`` by id."""
    row = _topic_summary(forum, topic, as_objects)
    row["posters"] = [
        {"extras": extras, "description": description, "user_id": uid, "primary_group_id": None,
         "flair_group_id": None}
        for uid, extras, description in _poster_rows(forum, topic)
    ]
    last = forum.users.get(topic.last_post_user_id or topic.user_id)
    row.update({"has_summary": False, "last_poster_username": last.username if last else None,
                "pinned_globally": topic.pinned_globally, "can_have_answer": topic.accepted_answer_post_id is None})
    return row


def suggested_topic(forum: FakeForum, topic: Topic, as_objects: bool) -> dict[str, Any]:
    """A topic of ``suggested_topics``: posters embed their user."""
    row = _topic_summary(forum, topic, as_objects)
    row["posters"] = [
        {"extras": extras, "description": description, "user": basic_user(forum, forum.users[uid])}
        for uid, extras, description in _poster_rows(forum, topic)
    ]
    return row


def poster_ids(forum: FakeForum, topic: Topic) -> list[int]:
    return [uid for uid, _, _ in _poster_rows(forum, topic)]


def _topic_summary(forum: FakeForum, topic: Topic, as_objects: bool) -> dict[str, Any]:
    return {
        "id": topic.id, "title": topic.title, "fancy_title": fancy_title(topic.title), "slug": topic.slug,
        "posts_count": topic.posts_count, "reply_count": max(topic.posts_count - 1, 0),
        "highest_post_number": topic.highest_post_number, "image_url": None, "created_at": topic.created_at,
        "last_posted_at": topic.last_posted_at, "bumped": True, "bumped_at": topic.bumped_at,
        "archetype": topic.archetype, "unseen": False, "pinned": topic.pinned_at is not None, "unpinned": None,
        "visible": topic.visible, "closed": topic.closed, "archived": topic.archived, "bookmarked": None,
        "liked": None, "tags": tags(forum, topic, as_objects), "tags_descriptions": {}, "views": topic.views,
        "like_count": topic.like_count, "category_id": topic.category_id, "featured_link": None,
        "has_accepted_answer": topic.accepted_answer_post_id is not None,
        # Discourse sends an excerpt of pinned topics only (include_excerpt?); the schema requires it of all
        "excerpt": excerpt(forum.posts[topic.post_ids[0]].cooked, 200)[0] if topic.post_ids else "",
    }


def category(forum: FakeForum, item: Category, stats: dict[int, dict[str, int]], *, flat: bool) -> dict[str, Any]:
    """A category of ``/categories.json`` (``flat=False``) or of ``/site.json`` (``flat=True``)."""
    children = [c.id for c in forum.categories.values() if c.parent_category_id == item.id
                and forum.category_visible(c)]
    definition = forum.topics.get(item.topic_id or 0)
    counts = stats.get(item.id, {})
    row: dict[str, Any] = {
        "id": item.id, "name": item.name, "color": item.color, "text_color": item.text_color, "slug": item.slug,
        "topic_count": counts.get("all", 0), "post_count": counts.get("posts", 0), "position": item.position,
        "description": f"<p>{html.escape(item.description, quote=False)}</p>" if item.description else None,
        "description_text": item.description or None, "description_excerpt": item.description or None,
        "topic_url": f"/t/{definition.slug}/{definition.id}" if definition else None,
        "read_restricted": item.read_restricted, "permission": None, "notification_level": 1, "can_edit": False,
        "topic_template": None, "topic_title_placeholder": None, "allow_global_tags": False,
        "required_tag_groups": [], "read_only_banner": None,
        "has_children": bool(children), "subcategory_count": len(children) if children else None,
        "sort_order": None, "sort_ascending": None, "show_subcategory_list": False, "num_featured_topics": 3,
        "default_view": None, "subcategory_list_style": "rows_with_featured_topics", "default_top_period": "all",
        "default_list_filter": "all", "minimum_required_tags": 0, "navigate_to_first_post_after_read": False,
        "uploaded_logo": None, "uploaded_logo_dark": None, "uploaded_background": None,
        "uploaded_background_dark": None, "style_type": "square", "emoji": None, "icon": None,
    }
    if item.parent_category_id is not None:  # BasicCategorySerializer#include_parent_category_id?
        row["parent_category_id"] = item.parent_category_id
    if not flat:
        row.update({f"topics_{period}": counts.get(period, 0) for period in ("day", "week", "month", "year")})
        row.update({"topics_all_time": counts.get("all", 0), "subcategory_ids": children,
                    "is_uncategorized": item.name == "Uncategorized"})
    return row
