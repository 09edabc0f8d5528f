"""Forums, categories, users, topics, tags, posts and model mentions."""

from __future__ import annotations

import json
from typing import Iterable, Sequence

from ..errors import StoreError
from .base import Connection, flag, utcnow
from .records import Category, ParsedPost, Post, Topic, TopicState, User


class ForumTables(Connection):
    """Forums, categories, users, topics, tags, posts and model mentions."""

    # -- forums and categories ------------------------------------------------

    def forum_id(self, url: str, *, create: bool = True) -> int:
        url = url.rstrip("/")
        row = self.db.execute("SELECT id FROM forums WHERE url = ?", (url,)).fetchone()
        if row:
            return row[0]
        if not create:
            raise StoreError(f"{self.path} holds no data of {url}")
        with self.transaction():
            return self.db.execute("INSERT INTO forums (url, added_at) VALUES (?, ?)", (url, utcnow())).lastrowid

    def forums(self) -> list[tuple[int, str]]:
        return [(r[0], r[1]) for r in self.db.execute("SELECT id, url FROM forums ORDER BY id")]

    def upsert_categories(self, forum_id: int, categories: Iterable[Category]) -> None:
        self.db.executemany(
            """INSERT INTO categories VALUES (?,?,?,?,?,?,?,?,?,?,?)
               ON CONFLICT (forum_id, id) DO UPDATE SET name=excluded.name, slug=excluded.slug,
               parent_id=excluded.parent_id, description=excluded.description, topic_count=excluded.topic_count,
               post_count=excluded.post_count, position=excluded.position,
               read_restricted=excluded.read_restricted, definition_topic_id=excluded.definition_topic_id""",
            [(forum_id, c.id, c.name, c.slug, c.parent_id, c.description, c.topic_count, c.post_count,
              c.position, int(c.read_restricted), c.definition_topic_id) for c in categories],
        )

    def categories(self, forum_id: int) -> list[Category]:
        rows = self.db.execute(
            "SELECT id, name, slug, parent_id, description, topic_count, post_count, position, read_restricted,"
            " definition_topic_id FROM categories WHERE forum_id = ? ORDER BY id", (forum_id,))
        return [Category(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bool(r[8]), r[9]) for r in rows]

    # -- users, topics, tags --------------------------------------------------

    def upsert_users(self, forum_id: int, users: Iterable[User]) -> None:
        """Listings give users without flags: keep the flags a post told us earlier."""
        self.db.executemany(
            """INSERT INTO users VALUES (?,?,?,?,?,?,?,?)
               ON CONFLICT (forum_id, id) DO UPDATE SET username=excluded.username,
               name=COALESCE(excluded.name, users.name),
               trust_level=COALESCE(excluded.trust_level, users.trust_level),
               admin=COALESCE(excluded.admin, users.admin),
               moderator=COALESCE(excluded.moderator, users.moderator),
               staff=COALESCE(excluded.staff, users.staff)""",
            [(forum_id, u.id, u.username, u.name, u.trust_level, flag(u.admin), flag(u.moderator),
              flag(u.staff)) for u in users],
        )

    def topic_states(self, forum_id: int, topic_ids: Sequence[int]) -> dict[int, TopicState]:
        if not topic_ids:
            return {}
        marks = ",".join("?" * len(topic_ids))
        rows = self.db.execute(
            f"SELECT id, posts_count, highest_post_number, bumped_at, last_posted_at FROM topics"
            f" WHERE forum_id = ? AND id IN ({marks})", (forum_id, *topic_ids))
        return {r[0]: TopicState(r[1], r[2], r[3], r[4]) for r in rows}

    def upsert_topics(self, forum_id: int, topics: Sequence[Topic]) -> None:
        """Store topics and their tags. The accepted answer's post number is kept if known."""
        self.db.executemany(
            """INSERT INTO topics (forum_id, id, category_id, title, slug, user_id, created_at, bumped_at,
                 last_posted_at, posts_count, reply_count, highest_post_number, views, like_count,
                 has_accepted_answer, closed, archived, pinned, archetype)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
               ON CONFLICT (forum_id, id) DO UPDATE SET category_id=excluded.category_id, title=excluded.title,
               slug=excluded.slug, user_id=COALESCE(excluded.user_id, topics.user_id),
               created_at=excluded.created_at, bumped_at=COALESCE(excluded.bumped_at, topics.bumped_at),
               last_posted_at=excluded.last_posted_at, posts_count=excluded.posts_count,
               reply_count=excluded.reply_count, highest_post_number=excluded.highest_post_number,
               views=excluded.views, like_count=excluded.like_count,
               has_accepted_answer=excluded.has_accepted_answer,
               accepted_answer_post_number=CASE WHEN excluded.has_accepted_answer
                   THEN topics.accepted_answer_post_number END,
               closed=excluded.closed, archived=excluded.archived, pinned=excluded.pinned,
               archetype=excluded.archetype, removed_at=NULL""",
            [(forum_id, t.id, t.category_id, t.title, t.slug, t.user_id, t.created_at, t.bumped_at,
              t.last_posted_at, t.posts_count, t.reply_count, t.highest_post_number, t.views, t.like_count,
              int(t.has_accepted_answer), int(t.closed), int(t.archived), int(t.pinned), t.archetype)
             for t in topics],
        )
        tagged = [(forum_id, t.id, tag) for t in topics for tag in t.tags]
        self.db.executemany(
            "DELETE FROM topic_tags WHERE forum_id = ? AND topic_id = ?", [(forum_id, t.id) for t in topics])
        self.db.executemany("INSERT OR IGNORE INTO tags VALUES (?, ?)", {(f, tag) for f, _, tag in tagged})
        self.db.executemany("INSERT INTO topic_tags VALUES (?, ?, ?)", tagged)

    def set_topic_fetched(self, forum_id: int, topic_id: int, accepted_answer_post_number: int | None) -> None:
        self.db.execute(
            "UPDATE topics SET fetched_at = ?, accepted_answer_post_number = ? WHERE forum_id = ? AND id = ?",
            (utcnow(), accepted_answer_post_number, forum_id, topic_id))

    def mark_topic_removed(self, forum_id: int, topic_id: int) -> None:
        now = utcnow()
        self.db.execute("UPDATE topics SET removed_at = ? WHERE forum_id = ? AND id = ?", (now, forum_id, topic_id))
        self.db.execute("UPDATE posts SET removed_at = ? WHERE forum_id = ? AND topic_id = ? AND removed_at IS NULL",
                        (now, forum_id, topic_id))

    def topic_titles(self, forum_id: int, topic_ids: Sequence[int]) -> dict[int, str]:
        """topic id -> title, of the stored topics among ``topic_ids``."""
        if not topic_ids:
            return {}
        marks = ",".join("?" * len(topic_ids))
        rows = self.db.execute(f"SELECT id, title FROM topics WHERE forum_id = ? AND id IN ({marks})",
                               (forum_id, *topic_ids))
        return {r[0]: r[1] for r in rows}

    def listed_totals(self, forum_id: int, topic_id: int) -> tuple[int, int | None, bool] | None:
        """(posts_count, highest_post_number, has_accepted_answer) as the forum's listing last gave them."""
        row = self.db.execute(
            "SELECT posts_count, highest_post_number, has_accepted_answer FROM topics WHERE forum_id = ? AND id = ?",
            (forum_id, topic_id)).fetchone()
        return (row[0], row[1], bool(row[2])) if row else None

    def topic_ids(self, forum_id: int) -> set[int]:
        return {r[0] for r in self.db.execute("SELECT id FROM topics WHERE forum_id = ?", (forum_id,))}

    # -- posts ----------------------------------------------------------------

    def post_versions(self, forum_id: int, post_ids: Sequence[int]) -> dict[int, tuple]:
        """post id -> (topic_id, version, updated_at, likes, accepted, hidden, user_deleted) of stored posts.

        What can change on a post without a new version: likes, acceptance, hiding, withdrawal.
        """
        if not post_ids:
            return {}
        marks = ",".join("?" * len(post_ids))
        rows = self.db.execute(
            f"SELECT id, topic_id, version, updated_at, like_count, accepted_answer, hidden, user_deleted FROM posts"
            f" WHERE forum_id = ? AND removed_at IS NULL AND id IN ({marks})", (forum_id, *post_ids))
        return {r[0]: tuple(r[1:]) for r in rows}

    def upsert_posts(self, forum_id: int, posts: Sequence[Post], parsed: Sequence[ParsedPost],
                     mentions: Sequence[dict[str, tuple[int, int, int]]]) -> None:
        """Store posts with their parsed text and model mentions (model -> in_title, in_text, in_code)."""
        now = utcnow()
        self.db.executemany(
            """INSERT OR REPLACE INTO posts VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,NULL)""",
            [(forum_id, p.id, p.topic_id, p.post_number, p.post_type, p.user_id, p.username, p.created_at,
              p.updated_at, p.version, p.reply_to_post_number, p.like_count, p.reads, int(p.hidden),
              int(p.user_deleted), int(bool(p.accepted_answer)), int(p.staff), int(p.admin), int(p.moderator),
              p.trust_level, p.cooked, x.text, x.code, x.code_blocks, x.inline_code, x.quotes, x.links,
              x.images, json.dumps(list(x.oneboxes)), now)
             for p, x in zip(posts, parsed)],
        )
        self.db.executemany("DELETE FROM model_mentions WHERE forum_id = ? AND post_id = ?",
                            [(forum_id, p.id) for p in posts])
        for start in range(0, len(posts), 500):  # one statement per 500 posts: most posts never fall back
            ids = [p.id for p in posts[start:start + 500]]
            marks = ",".join("?" * len(ids))
            self.db.execute(f"DELETE FROM parse_fallbacks WHERE forum_id = ? AND post_id IN ({marks})", (forum_id, *ids))
        self.db.executemany("INSERT INTO parse_fallbacks VALUES (?, ?, ?)",
                            [(forum_id, p.id, x.fallback) for p, x in zip(posts, parsed) if x.fallback])
        self.db.executemany(
            "INSERT INTO model_mentions VALUES (?,?,?,?,?,?,?)",
            [(forum_id, p.id, p.topic_id, model, *counts)
             for p, found in zip(posts, mentions) for model, counts in found.items()],
        )
        self.upsert_users(forum_id, [u for u in (p.author for p in posts) if u is not None])

    def topic_post_summary(self, forum_id: int, topic_id: int) -> tuple[int, int | None, bool, str | None]:
        """(stored posts, highest post number, has an accepted post, latest created_at) of a topic."""
        row = self.db.execute(
            "SELECT count(*), max(post_number), max(accepted_answer), max(created_at) FROM posts"
            " WHERE forum_id = ? AND topic_id = ? AND removed_at IS NULL", (forum_id, topic_id)).fetchone()
        return row[0], row[1], bool(row[2]), row[3]

    def accepted_post_number(self, forum_id: int, topic_id: int) -> int | None:
        row = self.db.execute(
            "SELECT post_number FROM posts WHERE forum_id = ? AND topic_id = ? AND accepted_answer = 1"
            " AND removed_at IS NULL", (forum_id, topic_id)).fetchone()
        return row[0] if row else None

    def mark_posts_removed(self, forum_id: int, topic_id: int, keep_ids: Iterable[int]) -> int:
        """Posts of a topic that its stream no longer lists are kept, marked removed."""
        keep = set(keep_ids)
        stored = [r[0] for r in self.db.execute(
            "SELECT id FROM posts WHERE forum_id = ? AND topic_id = ? AND removed_at IS NULL", (forum_id, topic_id))]
        gone = [(utcnow(), forum_id, pid) for pid in stored if pid not in keep]
        self.db.executemany("UPDATE posts SET removed_at = ? WHERE forum_id = ? AND id = ?", gone)
        return len(gone)

    # -- summaries ------------------------------------------------------------

    def post_span(self, forum_id: int) -> tuple[str | None, str | None, int]:
        """(first post's created_at, last post's created_at, calendar months with posts) of live posts."""
        row = self.db.execute(
            "SELECT min(created_at), max(created_at), count(DISTINCT substr(created_at, 1, 7)) FROM posts"
            " WHERE forum_id = ? AND removed_at IS NULL", (forum_id,)).fetchone()
        return row[0], row[1], row[2] or 0

    def topics_by_category(self, forum_id: int) -> list[tuple[str, int, int]]:
        """(category name or "(none)", live topics, their live posts), most topics first."""
        rows = self.db.execute(
            """SELECT c.name, count(*), sum((SELECT count(*) FROM posts p WHERE p.forum_id = t.forum_id
                   AND p.topic_id = t.id AND p.removed_at IS NULL))
               FROM topics t LEFT JOIN categories c ON c.forum_id = t.forum_id AND c.id = t.category_id
               WHERE t.forum_id = ? AND t.removed_at IS NULL GROUP BY c.name ORDER BY count(*) DESC""", (forum_id,))
        return [(r[0] or "(none)", r[1], r[2] or 0) for r in rows]

    def top_models(self, forum_id: int, limit: int = 10) -> list[tuple[str, int]]:
        """(model, topics mentioning it), most mentioned first."""
        rows = self.db.execute(
            "SELECT model, count(DISTINCT topic_id) FROM model_mentions WHERE forum_id = ?"
            " GROUP BY model ORDER BY 2 DESC, 1 LIMIT ?", (forum_id, limit))
        return [(r[0], r[1]) for r in rows]

    def accepted_share(self, forum_id: int) -> float:
        """Share of live topics with an accepted answer (0 when there are none)."""
        row = self.db.execute("SELECT avg(has_accepted_answer) FROM topics WHERE forum_id = ? AND removed_at IS NULL",
                              (forum_id,)).fetchone()
        return float(row[0] or 0.0)

    def parse_fallback_count(self, forum_id: int) -> int:
        """Live posts whose HTML was only tag-stripped (see ``parse_fallbacks``)."""
        return self.db.execute(
            "SELECT count(*) FROM parse_fallbacks f JOIN posts p ON p.forum_id = f.forum_id AND p.id = f.post_id"
            " WHERE f.forum_id = ? AND p.removed_at IS NULL", (forum_id,)).fetchone()[0]

    def counts(self, forum_id: int | None = None) -> dict[str, int]:
        """Rows per table (live topics and posts only), for summaries and tests."""
        where, args = ("WHERE forum_id = ?", (forum_id,)) if forum_id is not None else ("", ())
        live = f"{where} {'AND' if where else 'WHERE'} removed_at IS NULL"
        out = {}
        for table, cond in (("categories", where), ("topics", live), ("posts", live), ("users", where),
                            ("tags", where), ("model_mentions", where)):
            out[table] = self.db.execute(f"SELECT count(*) FROM {table} {cond}", args).fetchone()[0]
        return out
