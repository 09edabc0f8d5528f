"""The reads the analysis stage makes (activity, frequencies, Hub trends, the report's provenance).

Reads return plain tuples in the column order each docstring gives; the analysis modules turn them into
DataFrames and decide what counts (:mod:`forumkit.analysis.activity` documents the definitions).
"""

from __future__ import annotations

from typing import Sequence

from ..errors import StoreError
from .base import Connection


class AnalysisReads(Connection):
    """The reads the analysis stage makes (activity, frequencies, Hub trends, the report's provenance)."""

    # -- forum activity -------------------------------------------------------------------------------------------

    def activity_topics(self, forum_id: int) -> list[tuple]:
        """Live topics of the regular archetype, by id: (id, user_id, created_at, category_id, pinned,
        has_accepted_answer, accepted_answer_post_number, about); ``about`` is 1 for a category's "About" topic."""
        return self.db.execute(
            """SELECT t.id, t.user_id, t.created_at, t.category_id, t.pinned, t.has_accepted_answer,
                      t.accepted_answer_post_number,
                      EXISTS (SELECT 1 FROM categories c WHERE c.forum_id = t.forum_id
                              AND c.definition_topic_id = t.id)
               FROM topics t
               WHERE t.forum_id = ? AND t.removed_at IS NULL AND (t.archetype IS NULL OR t.archetype = 'regular')
               ORDER BY t.id""", (forum_id,)).fetchall()

    def activity_posts(self, forum_id: int) -> list[tuple]:
        """Live regular posts, by id: (id, topic_id, post_number, user_id, created_at, author_staff,
        accepted_answer)."""
        return self.db.execute(
            """SELECT p.id, p.topic_id, p.post_number, p.user_id, p.created_at, p.author_staff, p.accepted_answer
               FROM posts p
               WHERE p.forum_id = ? AND p.removed_at IS NULL AND p.post_type = 1
               ORDER BY p.id""", (forum_id,)).fetchall()

    def mention_rows(self, forum_id: int) -> list[tuple]:
        """Model mentions in live regular posts: (topic_id, post_id, model, in_title, in_text, in_code)."""
        return self.db.execute(
            """SELECT p.topic_id, m.post_id, m.model, m.in_title, m.in_text, m.in_code
               FROM model_mentions m JOIN posts p ON p.forum_id = m.forum_id AND p.id = m.post_id
               WHERE m.forum_id = ? AND p.removed_at IS NULL AND p.post_type = 1""", (forum_id,)).fetchall()

    def has_model_mentions(self) -> bool:
        """Whether any forum in the store has a model mention."""
        return self.db.execute("SELECT 1 FROM model_mentions LIMIT 1").fetchone() is not None

    # -- coded items without dates ----------------------------------------------------------------------------------

    def item_dates(self, unit: str) -> list[tuple]:
        """Every topic (``unit="topic"``) or post of every forum: (id, created_at, forum category name)."""
        if unit == "topic":
            sql = ("SELECT t.id, t.created_at, c.name FROM topics t"
                   " LEFT JOIN categories c ON c.forum_id = t.forum_id AND c.id = t.category_id")
        else:
            sql = ("SELECT p.id, p.created_at, c.name FROM posts p JOIN topics t ON t.forum_id = p.forum_id"
                   " AND t.id = p.topic_id LEFT JOIN categories c ON c.forum_id = t.forum_id AND c.id = t.category_id")
        return self.db.execute(sql).fetchall()

    # -- Hub models -------------------------------------------------------------------------------------------------

    def hub_model_counts(self) -> list[tuple[str, int]]:
        """(endpoint, models) of each Hub endpoint in the store, most models first (ties by endpoint)."""
        return [(r[0], r[1]) for r in self.db.execute(
            "SELECT endpoint, count(*) FROM hub_models GROUP BY endpoint ORDER BY 2 DESC, 1")]

    def hub_model_table(self, endpoint: str, columns: Sequence[str]) -> list[tuple]:
        """The ``hub_models`` rows of one endpoint, sorted by id, with the given columns (names of the table's
        columns, as :data:`forumkit.analysis.hubtrends.ROW_COLUMNS` lists them)."""
        known = {r[1] for r in self.db.execute("PRAGMA table_info(hub_models)")}
        unknown = [c for c in columns if c not in known]
        if unknown:
            raise StoreError(f"hub_models has no column {', '.join(unknown)}", hint="use the columns of docs/schema.md")
        return self.db.execute(f"SELECT {', '.join(columns)} FROM hub_models WHERE endpoint = ? ORDER BY id",
                               (endpoint,)).fetchall()

    # -- provenance -------------------------------------------------------------------------------------------------

    def recent_crawls(self, limit: int = 5) -> list[tuple[str, str, str | None, int]]:
        """The latest finished crawls of any forum, newest first: (forum URL, started_at, finished_at, requests)."""
        return [tuple(r) for r in self.db.execute(
            "SELECT f.url, r.started_at, r.finished_at, r.requests FROM crawl_runs r JOIN forums f"
            " ON f.id = r.forum_id WHERE r.status = 'done' ORDER BY r.id DESC LIMIT ?", (limit,))]
