"""The endpoints of the fake Discourse: a path and query in, a status and a JSON body out.

No HTTP here (see :mod:`.server`), so every answer can be reasoned about as a
function of the forum state. Paging, stop conditions, redirects and error bodies
follow ``shared/notes/discourse-api.md``: topic lists are 0-based with 30 topics a
page and ``more_topics_url`` only on full pages; topics show 20 posts and the whole
``stream``; ``/posts.json`` pages 50 posts by id with ``before``.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import urlencode

from . import serialize
from .model import SORT_KEYS, FakeForum
from .records import Category, Post, Topic, excerpt, iso, parse_iso

PER_PAGE = 30
CHUNK_SIZE = 20
PRINT_CHUNK_SIZE = 1000
LATEST_POSTS_PAGE = 50
JSON = "application/json; charset=utf-8"
NOT_FOUND = "The requested URL or resource could not be found."
#: ``Notification.types`` (app/models/notification.rb), as /site.json lists them.
NOTIFICATION_TYPES = {name: number for number, name in enumerate((
    "mentioned", "replied", "quoted", "edited", "liked", "private_message", "invited_to_private_message",
    "invitee_accepted", "posted", "moved_post", "linked", "granted_badge", "invited_to_topic", "custom",
    "group_mentioned", "group_message_summary", "watching_first_post", "topic_reminder", "liked_consolidated",
    "post_approved", "code_review_commit_approved", "membership_request_accepted",
    "membership_request_consolidated", "bookmark_reminder", "reaction", "votes_released", "event_reminder",
    "event_invitation", "chat_mention", "chat_message", "chat_invitation", "chat_group_mention", "chat_quoted",
    "assigned", "question_answer_user_commented", "watching_category_or_tag", "new_features", "admin_problems",
    "linked_consolidated"), start=1)}
#: What a topic's ``details`` says a reader may do: all false for an anonymous reader.
DETAILS_PERMISSIONS = (
    "can_edit", "can_move_posts", "can_delete", "can_remove_allowed_users", "can_create_post",
    "can_reply_as_new_topic", "can_flag_topic", "can_convert_topic", "can_review_topic", "can_close_topic",
    "can_archive_topic", "can_split_merge_topic", "can_edit_staff_notes", "can_toggle_topic_visibility",
    "can_pin_unpin_topic", "can_moderate_category")

Query = dict[str, list[str]]


class Options(Protocol):
    """Server settings the answers depend on (changeable while serving)."""

    tags_as_objects: bool
    mega_topic_threshold: int


@dataclass
class Reply:
    """An answer: ``body`` is JSON-ready data (sent as JSON) or text sent as ``content_type``."""

    status: int
    body: Any = None
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


class _InvalidParameter(Exception):
    """A query parameter Discourse would reject with 400 ``invalid_parameters``."""


def not_found(*, extras: bool = False) -> Reply:
    """Discourse's 404 body; topics and categories add ``extras`` for the HTML app."""
    body: dict[str, Any] = {"errors": [NOT_FOUND], "error_type": "not_found"}
    if extras:
        body["extras"] = {"title": "Page Not Found", "group": None,
                          "html": '<div class="page-not-found">\n  <h1 class="title">Oops! That page doesn’t '
                                  "exist or is private.</h1>\n</div>"}
    return Reply(404, body)


def redirect(location: str) -> Reply:
    """A 301 as Rails sends it (the server makes ``location`` absolute)."""
    return Reply(301, f'<html><body>You are being <a href="{location}">redirected</a>.</body></html>',
                 "text/html; charset=utf-8", {"Location": location})


def route(forum: FakeForum, options: Options, path: str, query: Query, query_string: str, suffix: str) -> Reply:
    """Answer ``GET path`` (``.json`` already stripped into ``suffix``) for an anonymous user."""
    parts = [part for part in path.split("/") if part]
    try:
        with forum.lock:
            if parts == ["site"]:
                return site(forum, options)
            if parts == ["categories"]:
                return categories(forum, query)
            if parts == ["latest"]:
                return topic_list(forum, options, query, None, True, "/latest")
            if parts == ["posts"]:
                return latest_posts(forum, query)
            if len(parts) == 2 and parts[0] == "posts" and parts[1].isdigit():
                return single_post(forum, int(parts[1]))
            if parts[:1] == ["c"] and len(parts) > 1:
                return category_list(forum, options, parts[1:], query, query_string, suffix)
            if parts[:1] == ["t"] and len(parts) > 1:
                return topic_route(forum, options, parts[1:], query, suffix)
    except _InvalidParameter as error:
        return Reply(400, {"errors": [f"You supplied invalid parameters to the request: {error}"],
                           "error_type": "invalid_parameters"})
    return not_found()


# ---------------------------------------------------------------------- lists
def topic_list(
    forum: FakeForum, options: Options, query: Query, category: Category | None, subcategories: bool, base: str
) -> Reply:
    """/latest and /c/...: pinned topics first on page 0 (default order), then offset paging."""
    page = _page(query)
    order = _one(query, "order") or "default"
    order = order if order in SORT_KEYS else "default"
    ascending = _one(query, "ascending") == "true"
    pinned, rest = forum.topic_index(category.id if category else None, subcategories, order, ascending)
    if page == 0:
        topics = (pinned + rest[:PER_PAGE])[:PER_PAGE]
    else:
        offset = max(page * PER_PAGE - len(pinned), 0)
        topics = rest[offset : offset + PER_PAGE]
    user_ids: dict[int, None] = {}
    for topic in topics:
        user_ids.update(dict.fromkeys(serialize.poster_ids(forum, topic)))
    listing: dict[str, Any] = {"can_create_topic": False, "per_page": PER_PAGE, "top_tags": []}
    if len(topics) == PER_PAGE:
        following = {"page": str(page + 1)}
        following.update({key: value for key in ("order", "ascending") if (value := _one(query, key))})
        if category is None:
            following["no_definitions"] = "true"
        listing["more_topics_url"] = f"{base}?{urlencode(sorted(following.items()))}"
    listing["topics"] = [serialize.topic_list_item(forum, t, options.tags_as_objects) for t in topics]
    body = {"users": [serialize.basic_user(forum, forum.users[uid]) for uid in user_ids],
            "primary_groups": [], "flair_groups": [], "topic_list": listing}
    return Reply(200, body)


def category_list(
    forum: FakeForum, options: Options, parts: list[str], query: Query, query_string: str, suffix: str
) -> Reply:
    """``/c/{slug}/{id}`` and ``/c/{parent}/{child}/{id}``, with ``/none`` and ``/l/latest`` forms.

    As in ``ListController#set_category``, any other slug path for the id (none,
    a child slug without its parent, an old slug) is answered 301 to the full one.
    """
    parts = list(parts)
    listing = parts[-2:] == ["l", "latest"]
    if listing:
        del parts[-2:]
    no_subcategories = parts[-1:] == ["none"]
    if no_subcategories:
        del parts[-1:]
    if not parts:
        return not_found(extras=True)
    if parts[-1].isdigit():
        category, slugs = forum.categories.get(int(parts[-1])), parts[:-1]
    else:
        category = next((c for c in forum.categories.values() if _slug_path(forum, c) == "/".join(parts)), None)
        slugs = parts
    if category is None or not forum.category_visible(category):
        return not_found(extras=True)
    canonical = f"/c/{_slug_path(forum, category)}/{category.id}" + ("/none" if no_subcategories else "")
    if "/".join(slugs) != _slug_path(forum, category):  # a wrong, partial or missing slug path
        tail = "/l/latest" if listing else ""
        return redirect(canonical + tail + suffix + (f"?{query_string}" if query_string else ""))
    return topic_list(forum, options, query, category, not no_subcategories, canonical + "/l/latest")


def categories(forum: FakeForum, query: Query) -> Reply:
    """/categories.json: top-level categories; ``include_subcategories=true`` nests the others."""
    stats = _category_stats(forum)
    nested = _one(query, "include_subcategories") == "true"
    rows = []
    for item in sorted(forum.categories.values(), key=lambda c: c.position):
        if item.parent_category_id is None and forum.category_visible(item):
            row = serialize.category(forum, item, stats, flat=False)
            if nested:
                row["subcategory_list"] = [serialize.category(forum, forum.categories[cid], stats, flat=False)
                                           for cid in row["subcategory_ids"]]
            rows.append(row)
    return Reply(200, {"category_list": {"can_create_category": False, "can_create_topic": False,
                                         "categories": rows}})


def site(forum: FakeForum, options: Options) -> Reply:
    """/site.json: the flat category list (subcategories with ``parent_category_id``) and site facts."""
    stats = _category_stats(forum)
    visible = sorted((c for c in forum.categories.values() if forum.category_visible(c)), key=lambda c: c.position)
    tag_counts: dict[str, int] = {}
    for topic in forum.topics.values():
        if forum.topic_listed(topic):
            for tag in topic.tags:
                tag_counts[tag] = tag_counts.get(tag, 0) + 1
    uncategorized = next((c.id for c in visible if c.name == "Uncategorized"), None)
    menu = ["latest", "top", "categories"]
    top_tags = sorted(tag_counts, key=lambda t: (-tag_counts[t], t))[:20]
    return Reply(200, {
        "default_archetype": "regular", "notification_types": NOTIFICATION_TYPES,
        "post_types": {"regular": 1, "moderator_action": 2, "small_action": 3, "whisper": 4},
        "trust_levels": {"newuser": 0, "basic": 1, "member": 2, "regular": 3, "leader": 4},
        "groups": [], "filters": ["latest", "unread", "new", "unseen", "top", "read", "posted", "bookmarks"],
        "homepage_choices": [], "periods": ["all", "yearly", "quarterly", "monthly", "weekly", "daily"],
        "top_menu_items": menu, "anonymous_top_menu_items": menu, "uncategorized_category_id": uncategorized,
        "user_field_max_length": 2048,
        "post_action_types": [{"id": 2, "name_key": "like", "name": "Like", "description": "Like this post",
                               "short_description": "Like this post", "is_flag": False, "require_message": False,
                               "enabled": True, "applies_to": ["Post"], "is_used": True, "position": 0,
                               "auto_action_type": False, "system": True}],
        "topic_flag_types": [], "can_create_tag": False, "can_tag_topics": False, "can_tag_pms": False,
        "tags_filter_regexp": "[/\\?#\\[\\]@!\\$&'\\(\\)\\*\\+,;=\\.%\\\\`^\\s|\\{\\}\"<>]+",
        "top_tags": [serialize.tag(forum, name) for name in top_tags] if options.tags_as_objects else top_tags,
        "wizard_required": False, "topic_featured_link_allowed_category_ids": [],
        "user_themes": [{"theme_id": 1, "name": "Default", "default": True, "color_scheme_id": None}],
        "user_color_schemes": [], "default_light_color_scheme": None, "default_dark_color_scheme": None,
        "censored_regexp": [], "custom_emoji_translation": {}, "watched_words_replace": None,
        "watched_words_link": None,
        "archetypes": [{"id": "regular", "name": "Regular Topic", "options": []},
                       {"id": "banner", "name": "Banner", "options": []}],
        "user_fields": [], "auth_providers": [], "full_name_required_for_signup": False,
        "full_name_visible_in_signup": True, "email_configured": True,
        "categories": [serialize.category(forum, c, stats, flat=True) for c in visible],
    })


# --------------------------------------------------------------------- topics
def topic_route(forum: FakeForum, options: Options, parts: list[str], query: Query, suffix: str) -> Reply:
    """Dispatch ``/t/...``: ``{id}``, ``{slug}/{id}``, ``{id}/{n}``, ``{slug}/{id}/{n}``, ``{id}/posts``."""
    if len(parts) == 2 and parts[1] == "posts" and parts[0].isdigit():
        return topic_posts(forum, int(parts[0]), query)
    if len(parts) == 1 and parts[0].isdigit():
        return topic_view(forum, options, int(parts[0]), None, None, query, suffix)
    if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
        return topic_view(forum, options, int(parts[0]), None, int(parts[1]), query, suffix)
    if len(parts) in (2, 3) and parts[1].isdigit() and (len(parts) == 2 or parts[2].isdigit()):
        number = int(parts[2]) if len(parts) == 3 else None
        return topic_view(forum, options, int(parts[1]), parts[0], number, query, suffix)
    return not_found()


def topic_view(
    forum: FakeForum, options: Options, topic_id: int, slug: str | None, post_number: int | None,
    query: Query, suffix: str,
) -> Reply:
    """/t/{id}.json: a chunk of posts (first, ``?page=N`` 1-based, or around a post number) + stream."""
    topic = forum.topics.get(topic_id)
    if topic is None or not forum.topic_accessible(topic):
        return not_found(extras=True)
    page_text = _one(query, "page")
    if slug is not None and slug != topic.slug:
        number = f"/{post_number}" if post_number else ""
        return redirect(f"/t/{topic.slug}/{topic.id}{number}{suffix}" + (f"?page={page_text}" if page_text else ""))
    stream = forum.stream(topic)
    chunk = PRINT_CHUNK_SIZE if _one(query, "print") == "true" else CHUNK_SIZE
    if page_text is not None:
        page = _to_i(page_text)
        if page < 0:
            return not_found(extras=True)
        page = max(page, 1)
        if (page - 1) * chunk >= len(stream) and page > 1:
            last = max(1, math.ceil(len(stream) / chunk))
            return redirect(f"/t/{topic.slug}/{topic.id}{suffix}?page={last}")
        posts = stream[(page - 1) * chunk : page * chunk]
    elif post_number is not None:
        posts = _near(stream, post_number, chunk)
    else:
        posts = stream[:chunk]
    headers = {} if topic.visible else {"X-Robots-Tag": "noindex"}
    return Reply(200, _topic_body(forum, options, topic, stream, posts, post_number or 1), headers=headers)


def topic_posts(forum: FakeForum, topic_id: int, query: Query) -> Reply:
    """/t/{id}/posts.json: ``post_ids[]`` (others' and invisible ids dropped) or ``post_number`` paging."""
    topic = forum.topics.get(topic_id)
    if topic is None or not forum.topic_accessible(topic):
        return not_found()
    stream = forum.stream(topic)
    wanted = query.get("post_ids[]")
    if wanted:
        ids = {_to_i(text) for text in wanted}
        posts = [p for p in stream if p.id in ids]
    elif _one(query, "post_number") is not None:
        number = _to_i(_one(query, "post_number") or "")
        if _one(query, "asc") == "true":
            posts = [p for p in stream if p.post_number > number][:CHUNK_SIZE]
        else:
            posts = [p for p in stream if p.post_number < number][-CHUNK_SIZE:]
    else:
        posts = stream[:CHUNK_SIZE]
    raw = _one(query, "include_raw") == "true"
    return Reply(200, {"post_stream": {"posts": [serialize.post(forum, p, topic, raw=raw) for p in posts]},
                       "id": topic.id})


def latest_posts(forum: FakeForum, query: Query) -> Reply:
    """/posts.json: 50 public regular posts with ``id < before``, newest first."""
    ids = forum.public_post_ids()
    before = _to_i(_one(query, "before") or "")
    end = bisect.bisect_left(ids, before) if before > 0 else len(ids)
    chosen = ids[max(end - LATEST_POSTS_PAGE, 0) : end][::-1]
    rows = [serialize.latest_post(forum, forum.posts[pid], forum.topics[forum.posts[pid].topic_id]) for pid in chosen]
    return Reply(200, {"latest_posts": rows})


def single_post(forum: FakeForum, post_id: int) -> Reply:
    """/posts/{id}.json: one post with ``raw``, if its topic is readable and it is visible."""
    item = forum.posts.get(post_id)
    topic = forum.topics.get(item.topic_id) if item else None
    if item is None or topic is None or not forum.topic_accessible(topic) or not forum.post_visible(item):
        return not_found()
    return Reply(200, serialize.post(forum, item, topic, raw=True, in_topic=False))


def _topic_body(
    forum: FakeForum, options: Options, topic: Topic, stream: list[Post], posts: list[Post], current: int
) -> dict[str, Any]:
    as_objects = options.tags_as_objects
    counts: dict[int, int] = {}
    for item in stream:
        counts[item.user_id] = counts.get(item.user_id, 0) + 1
    participants = []
    for uid in sorted(counts, key=lambda u: -counts[u])[:24]:
        user = forum.users[uid]
        participants.append({**serialize.basic_user(forum, user), "post_count": counts[uid],
                             "primary_group_name": None, "flair_name": None, "flair_url": None,
                             "flair_color": None, "flair_bg_color": None, "flair_group_id": None,
                             "admin": user.admin, "moderator": user.moderator, "trust_level": user.trust_level})
    creator = forum.users[topic.user_id]
    last_poster = forum.users[topic.last_post_user_id or topic.user_id]
    post_stream: dict[str, Any] = {"posts": [serialize.post(forum, p, topic) for p in posts]}
    mega = topic.posts_count >= options.mega_topic_threshold
    if mega:
        post_stream.update({"isMegaTopic": True, "lastId": stream[-1].id if stream else None})
    else:
        post_stream["stream"] = [p.id for p in stream]
    pinned_first, rest = forum.topic_index(None, True, "default", False)
    suggested = [t for t in (pinned_first + rest)[:6] if t.id != topic.id][:5]
    body: dict[str, Any] = {"post_stream": post_stream}
    if not mega:
        age = (forum.clock() - parse_iso(topic.created_at)).days
        body["timeline_lookup"] = [[1, max(age, 0)]]
    body.update({
        "suggested_topics": [serialize.suggested_topic(forum, t, as_objects) for t in suggested],
        "tags": serialize.tags(forum, topic, as_objects), "tags_descriptions": {},
        "id": topic.id, "title": topic.title, "fancy_title": serialize.fancy_title(topic.title),
        "posts_count": topic.posts_count, "created_at": topic.created_at, "views": topic.views,
        "reply_count": max(topic.posts_count - 1, 0), "like_count": topic.like_count,
        "last_posted_at": topic.last_posted_at, "visible": topic.visible, "closed": topic.closed,
        "archived": topic.archived, "has_summary": False, "archetype": topic.archetype, "slug": topic.slug,
        "category_id": topic.category_id, "word_count": sum(len(p.raw.split()) for p in stream),
        "deleted_at": None, "user_id": topic.user_id, "featured_link": None,
        "pinned_globally": topic.pinned_globally, "pinned_at": topic.pinned_at, "pinned_until": None,
        "image_url": None, "slow_mode_seconds": 0, "draft": None, "draft_key": f"topic_{topic.id}",
        "draft_sequence": 0, "unpinned": None, "pinned": topic.pinned_at is not None,
        "current_post_number": current, "highest_post_number": topic.highest_post_number, "deleted_by": None,
        "has_deleted": False, "actions_summary": [], "chunk_size": CHUNK_SIZE, "bookmarked": False, "bookmarks": [],
        "topic_timer": None, "message_bus_last_id": 0, "participant_count": len(counts),
        "show_read_indicator": False, "thumbnails": None, "slow_mode_enabled_until": None,
        "details": {**dict.fromkeys(DETAILS_PERMISSIONS, False), "notification_level": 1,
                    "participants": participants,
                    "created_by": serialize.basic_user(forum, creator),
                    "last_poster": serialize.basic_user(forum, last_poster)},
    })
    answer = forum.posts.get(topic.accepted_answer_post_id or 0)
    if answer is not None:
        author, accepter = forum.users[answer.user_id], forum.users.get(topic.accepter_user_id or 0)
        body["accepted_answer"] = {
            "post_number": answer.post_number, "username": author.username, "name": author.name,
            "excerpt": excerpt(forum.served_cooked(answer))[0],
            "accepter_username": accepter.username if accepter else None,
            "accepter_name": accepter.name if accepter else None,
        }
    return body


# -------------------------------------------------------------------- helpers
def _near(stream: list[Post], post_number: int, chunk: int) -> list[Post]:
    """``filter_posts_near``: a chunk around a post number, a quarter of it before."""
    index = bisect.bisect_left([p.post_number for p in stream], post_number)
    before = stream[max(index - max(chunk // 4, 1), 0) : index]
    posts = before + stream[index : index + chunk - len(before)]
    missing = chunk - len(posts)
    if missing > 0:
        start = index - len(before)
        posts = stream[max(start - missing, 0) : start] + posts
    return posts


def _slug_path(forum: FakeForum, category: Category) -> str:
    parent = forum.categories.get(category.parent_category_id or 0)
    return f"{parent.slug}/{category.slug}" if parent else category.slug


def _category_stats(forum: FakeForum) -> dict[int, dict[str, int]]:
    """Per category: listed topics (definitions left out) in all time and recent periods, posts."""
    now = forum.clock()
    since = {name: iso(now - timedelta(days=days))
             for name, days in (("day", 1), ("week", 7), ("month", 30), ("year", 365))}
    definitions = {c.topic_id for c in forum.categories.values()}
    stats: dict[int, dict[str, int]] = {}
    for topic in forum.topics.values():
        if topic.category_id is None or topic.id in definitions or not forum.topic_listed(topic):
            continue
        row = stats.setdefault(topic.category_id, dict.fromkeys(("all", "posts", *since), 0))
        row["all"] += 1
        row["posts"] += topic.posts_count
        for name, stamp in since.items():
            row[name] += topic.created_at >= stamp
    return stats


def _one(query: Query, name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _to_i(text: str) -> int:
    """Ruby's ``String#to_i``: leading digits, else 0."""
    text = text.strip()
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    number = ""
    for char in digits:
        if not char.isdigit():
            break
        number += char
    return sign * int(number) if number else 0


def _page(query: Query) -> int:
    """A topic list's ``page``: a non-negative integer, else 400 as Discourse validates it."""
    text = _one(query, "page")
    if text is None or text == "":
        return 0
    if not text.isdigit():
        raise _InvalidParameter("page")
    return int(text)
