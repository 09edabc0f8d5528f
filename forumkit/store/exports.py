"""The export queries: which columns each exported table has, the SQL that reads them, batch by batch.

Each exportable table is a list of :class:`ExportColumn` (name, SQL expression, kind, description): the
single source of truth for the query, the file's schema (:mod:`forumkit.collect.export` maps each kind to an
Arrow type) and the column documentation (docs/schema.md is generated from it, and a test fails if it drifts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from .base import Connection

__all__ = ["ExportColumn", "ExportReads", "EXPORT_TABLES", "HTML_COLUMN"]


@dataclass(frozen=True)
class ExportColumn:
    """One exported column: ``kind`` is text, int or bool (SQLite's 0/1, exported as a boolean)."""

    name: str
    sql: str
    kind: str
    doc: str


def _cols(*rows: tuple[str, str, str, str]) -> list[ExportColumn]:
    return [ExportColumn(*row) for row in rows]


S, I, B = "text", "int", "bool"

_POST_FROM = """FROM posts p
  JOIN forums f ON f.id = p.forum_id
  LEFT JOIN topics t ON t.forum_id = p.forum_id AND t.id = p.topic_id
  LEFT JOIN categories c ON c.forum_id = t.forum_id AND c.id = t.category_id"""

#: table -> (columns, FROM clause, WHERE clause, ORDER BY clause)
EXPORT_TABLES: dict[str, tuple[list[ExportColumn], str, str, str]] = {
    "posts": (_cols(
        ("forum", "f.url", S, "base URL of the forum"),
        ("post_id", "p.id", I, "the forum's post id (stable when posts move)"),
        ("topic_id", "p.topic_id", I, "topic the post is in now"),
        ("post_number", "p.post_number", I, "position in the topic, 1 = the opening post"),
        ("post_type", "p.post_type", I, "1 regular, 2 moderator action, 3 small action (e.g. closed)"),
        ("created_at", "p.created_at", S, "ISO-8601 UTC"),
        ("updated_at", "p.updated_at", S, "ISO-8601 UTC of the last edit"),
        ("version", "p.version", I, "1 + number of edits"),
        ("user_id", "p.user_id", I, "author's user id"),
        ("username", "p.username", S, "author's username"),
        ("author_staff", "p.author_staff", B, "author was staff (admin or moderator) when fetched"),
        ("author_admin", "p.author_admin", B, "author was an admin"),
        ("author_moderator", "p.author_moderator", B, "author was a moderator"),
        ("author_trust_level", "p.author_trust_level", I, "author's trust level 0-4"),
        ("reply_to_post_number", "p.reply_to_post_number", I, "post number this post replies to"),
        ("like_count", "p.like_count", I, "likes"),
        ("reads", "p.reads", I, "times read"),
        ("hidden", "p.hidden", B, "hidden after community flags (text is a placeholder)"),
        ("user_deleted", "p.user_deleted", B, "withdrawn by its author (text is a placeholder)"),
        ("accepted_answer", "p.accepted_answer", B, "marked as the topic's solution"),
        ("text", "p.text", S, "the post's own words: no code blocks, no quotes of other posts"),
        ("code", "p.code", S, "text of its code blocks"),
        ("code_blocks", "p.code_blocks", I, "number of code blocks"),
        ("inline_code", "p.inline_code", I, "number of inline code spans"),
        ("quotes", "p.quotes", I, "number of quotes of other posts"),
        ("links", "p.links", I, "number of links"),
        ("images", "p.images", I, "number of images (emoji and avatars excluded)"),
        ("oneboxes", "p.oneboxes", S, "JSON list of URLs shown as link previews"),
        ("topic_title", "t.title", S, "title of its topic"),
        ("category_id", "t.category_id", I, "its topic's category id"),
        ("category", "c.name", S, "its topic's category name"),
    ), _POST_FROM, "p.removed_at IS NULL", "p.forum_id, p.id"),
    "topics": (_cols(
        ("forum", "f.url", S, "base URL of the forum"),
        ("topic_id", "t.id", I, "the forum's topic id"),
        ("title", "t.title", S, "title"),
        ("slug", "t.slug", S, "URL slug"),
        ("category_id", "t.category_id", I, "category id"),
        ("category", "c.name", S, "category name"),
        ("parent_category", "pc.name", S, "parent category name, for subcategories"),
        ("created_at", "t.created_at", S, "ISO-8601 UTC"),
        ("bumped_at", "t.bumped_at", S, "last activity that moved it up the list"),
        ("last_posted_at", "t.last_posted_at", S, "time of its last post"),
        ("user_id", "t.user_id", I, "original poster's user id"),
        ("username", "u.username", S, "original poster's username"),
        ("posts_count", "t.posts_count", I, "posts as the forum counts them"),
        ("posts_stored", "(SELECT count(*) FROM posts p WHERE p.forum_id = t.forum_id AND p.topic_id = t.id"
         " AND p.removed_at IS NULL)", I, "posts in the store"),
        ("reply_count", "t.reply_count", I, "replies as the forum counts them"),
        ("views", "t.views", I, "views"),
        ("like_count", "t.like_count", I, "likes on all its posts"),
        ("tags", "(SELECT group_concat(tag, '|') FROM (SELECT tag FROM topic_tags g WHERE g.forum_id = t.forum_id"
         " AND g.topic_id = t.id ORDER BY tag))", S, "tags joined by |"),
        ("has_accepted_answer", "t.has_accepted_answer", B, "has a post marked as solution"),
        ("accepted_answer_post_number", "t.accepted_answer_post_number", I, "post number of the solution"),
        ("closed", "t.closed", B, "closed to new replies"),
        ("archived", "t.archived", B, "archived"),
        ("pinned", "t.pinned", B, "pinned"),
    ), """FROM topics t
  JOIN forums f ON f.id = t.forum_id
  LEFT JOIN categories c ON c.forum_id = t.forum_id AND c.id = t.category_id
  LEFT JOIN categories pc ON pc.forum_id = c.forum_id AND pc.id = c.parent_id
  LEFT JOIN users u ON u.forum_id = t.forum_id AND u.id = t.user_id""", "t.removed_at IS NULL", "t.forum_id, t.id"),
    "mentions": (_cols(
        ("forum", "f.url", S, "base URL of the forum"),
        ("post_id", "m.post_id", I, "post that mentions the model"),
        ("topic_id", "m.topic_id", I, "its topic"),
        ("post_number", "p.post_number", I, "position in the topic"),
        ("created_at", "p.created_at", S, "post's creation time, ISO-8601 UTC"),
        ("category", "c.name", S, "topic's category name"),
        ("model", "m.model", S, "canonical model name from the vocabulary"),
        ("in_title", "m.in_title", I, "mentions in the topic title (opening posts only)"),
        ("in_text", "m.in_text", I, "mentions in the post's own words"),
        ("in_code", "m.in_code", I, "mentions in its code blocks"),
    ), """FROM model_mentions m
  JOIN forums f ON f.id = m.forum_id
  JOIN posts p ON p.forum_id = m.forum_id AND p.id = m.post_id
  LEFT JOIN topics t ON t.forum_id = p.forum_id AND t.id = p.topic_id
  LEFT JOIN categories c ON c.forum_id = t.forum_id AND c.id = t.category_id""", "p.removed_at IS NULL",
        "m.forum_id, m.post_id, m.model"),
}

#: The posts' original HTML, exported only when asked for (it doubles the size).
HTML_COLUMN = ExportColumn("cooked", "p.cooked", S, "the forum's HTML, unchanged (with --html)")


class ExportReads(Connection):
    """Batched reads of whole tables for the exports, and the forum each coded project belongs to."""

    def export_rows(self, table: str, size: int, *, html: bool = False) -> Iterator[list[tuple]]:
        """The live rows of ``table`` (a key of :data:`EXPORT_TABLES`; posts with their HTML last if ``html``),
        ``size`` at a time, in the order of the source's ids (two exports of one store are identical)."""
        cols, source, where, order = EXPORT_TABLES[table]
        cols = cols + [HTML_COLUMN] if html and table == "posts" else cols
        cursor = self.db.execute(f"SELECT {', '.join(c.sql for c in cols)} {source} WHERE {where} ORDER BY {order}")
        while rows := cursor.fetchmany(size):
            yield rows

    def project_forum_urls(self) -> dict[int, str]:
        """forumkit's project id -> the base URL of the forum its items come from."""
        rows = self.db.execute("SELECT p.id, f.url FROM studio_projects p JOIN forums f ON f.id = p.forum_id")
        return {int(r[0]): r[1] for r in rows}
