"""What an anonymous crawler of a :class:`FakeForum` can see, as plain dicts.

Tests compare a scraped store with this. The rules are those of Discourse for a
visitor who is not logged in, with "can see" meaning "can discover by crawling
lists, topics and /posts.json":

- categories: not read-restricted (nor under a restricted parent);
- topics: regular archetype (no PMs), not deleted, not unlisted, in a readable
  category; category definition topics ("About the X category") are included:
  category lists and /posts.json reveal them even though /latest hides them;
- posts: those of these topics that are not staff-deleted and not whispers.
  Hidden (flagged) posts, author-deleted posts and small-action posts are
  included, each ``cooked`` exactly as served (the flag notice for hidden posts);
- users: the authors of these posts.
- planted: for each of these topics that the generator wrote from a theme of
  :data:`.corpus.THEMES` (question topics), the theme's index and the codes it
  plants (``Theme.planted``: an hf-challenges category id, then maybe a
  subcategory id), the answer a topic model or code suggester should find.

Topic counters are Discourse's own (``Topic.reset_highest``): ``posts_count``
counts the topic's posts that are neither staff-deleted nor whispers, small
actions, hidden and author-deleted posts included, so it equals the length of the
topic's ``post_stream.stream``; ``highest_post_number`` is the largest post number
among them; ``like_count`` sums their likes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .corpus import THEMES

if TYPE_CHECKING:
    from .model import FakeForum

GroundTruth = dict[str, dict[int, dict[str, Any]]]


def ground_truth(forum: FakeForum) -> GroundTruth:
    """``{"categories", "topics", "posts", "users", "planted"}``, each a dict from id to a plain dict."""
    with forum.lock:
        categories = {
            c.id: {"id": c.id, "name": c.name, "slug": c.slug, "parent_category_id": c.parent_category_id}
            for c in forum.categories.values() if forum.category_visible(c)
        }
        topics: dict[int, dict[str, Any]] = {}
        planted: dict[int, dict[str, Any]] = {}
        posts: dict[int, dict[str, Any]] = {}
        for topic in forum.topics.values():
            if not forum.topic_listed(topic):
                continue
            accepted = forum.posts.get(topic.accepted_answer_post_id or 0)
            topics[topic.id] = {
                "id": topic.id, "title": topic.title, "slug": topic.slug, "category_id": topic.category_id,
                "created_at": topic.created_at, "bumped_at": topic.bumped_at,
                "last_posted_at": topic.last_posted_at, "posts_count": topic.posts_count,
                "highest_post_number": topic.highest_post_number, "views": topic.views,
                "like_count": topic.like_count, "tags": sorted(topic.tags),
                "has_accepted_answer": accepted is not None,
                "accepted_answer_post_number": accepted.post_number if accepted else None,
                "closed": topic.closed, "archived": topic.archived,
                "pinned": topic.pinned_at is not None, "user_id": topic.user_id,
            }
            if topic.theme is not None:
                planted[topic.id] = {"topic_id": topic.id, "theme": topic.theme,
                                     "codes": list(THEMES[topic.theme].planted)}
            for post in forum.stream(topic):
                author = forum.users[post.user_id]
                posts[post.id] = {
                    "id": post.id, "topic_id": post.topic_id, "post_number": post.post_number,
                    "post_type": post.post_type, "user_id": post.user_id, "username": author.username,
                    "created_at": post.created_at, "updated_at": post.updated_at, "version": post.version,
                    "reply_to_post_number": post.reply_to_post_number, "like_count": post.like_count,
                    "cooked": forum.served_cooked(post), "hidden": post.hidden,
                    "user_deleted": post.user_deleted, "accepted_answer": accepted is post,
                    "staff": author.staff, "admin": author.admin, "moderator": author.moderator,
                }
        authors = {post["user_id"] for post in posts.values()}
        users = {
            u.id: {"id": u.id, "username": u.username, "name": u.name, "admin": u.admin,
                   "moderator": u.moderator, "trust_level": u.trust_level}
            for u in forum.users.values() if u.id in authors
        }
        return {"categories": categories, "topics": topics, "posts": posts, "users": users, "planted": planted}
