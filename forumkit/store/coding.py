"""Samples, codebook snapshots and coded rows: the coding stage's SQL.

Reads return plain tuples in the column order each docstring gives; the coding modules
(:mod:`forumkit.coding.sampling`, :mod:`~forumkit.coding.coded`, :mod:`~forumkit.coding.qdpx`) turn them
into tables.
"""

from __future__ import annotations

import json
from typing import Iterable, Sequence

from .base import Connection

#: Live (not removed), regular posts: what a coder sees and what counts as a post.
_LIVE_REGULAR = "removed_at IS NULL AND post_type = 1"

_ANNOTATIONS = """
SELECT a.project, p.forum_id, p.unit, a.item_id, a.coder, a.annotation_id, a.task_id, a.annotated_at, a.lead_time,
       a.was_cancelled, a.memo, c.code_id, c.codebook_id, c.category, c.subcategory, c.codebook_version
FROM annotations a
JOIN studio_projects p ON p.id = a.project
LEFT JOIN coded c ON c.project = a.project AND c.annotation_id = a.annotation_id
{where}
ORDER BY a.project, a.item_id, a.coder, c.code_id
"""


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


class CodingTables(Connection):
    """Samples, codebook snapshots and coded rows."""

    # -- the population a sample is drawn from --------------------------------------------------------------------

    def sampling_topics(self, forum_id: int) -> list[tuple]:
        """Live regular-archetype topics: (id, created_at, category_id, pinned, has_accepted_answer, about,
        posts); ``about`` is 1 for a category's "About" topic, ``posts`` counts its live regular posts."""
        return self.db.execute(
            """SELECT t.id, t.created_at, t.category_id, t.pinned, t.has_accepted_answer,
                      EXISTS (SELECT 1 FROM categories c WHERE c.forum_id = t.forum_id
                              AND c.definition_topic_id = t.id),
                      (SELECT count(*) FROM posts p WHERE p.forum_id = t.forum_id AND p.topic_id = t.id
                         AND p.removed_at IS NULL AND p.post_type = 1)
               FROM topics t WHERE t.forum_id = ? AND t.removed_at IS NULL
                 AND (t.archetype IS NULL OR t.archetype = 'regular')""", (forum_id,)).fetchall()

    def sampling_posts(self, forum_id: int) -> list[tuple]:
        """Live regular posts whose text is there (not hidden, not withdrawn): (id, topic_id, created_at)."""
        return self.db.execute(
            f"SELECT id, topic_id, created_at FROM posts WHERE forum_id = ? AND {_LIVE_REGULAR}"
            " AND hidden = 0 AND user_deleted = 0", (forum_id,)).fetchall()

    def item_descriptions(self, forum_id: int, unit: str) -> list[tuple]:
        """Every topic (or post) of a forum as a coder's list shows it: (item_id, title, category name,
        created_at, topic slug, topic_id, post_number); post_number is None for topics."""
        if unit == "topic":
            sql = """SELECT t.id, t.title, c.name, t.created_at, t.slug, t.id, NULL FROM topics t
                     LEFT JOIN categories c ON c.forum_id = t.forum_id AND c.id = t.category_id
                     WHERE t.forum_id = ?"""
        else:
            sql = """SELECT p.id, t.title, c.name, p.created_at, t.slug, p.topic_id, p.post_number FROM posts p
                     LEFT JOIN topics t ON t.forum_id = p.forum_id AND t.id = p.topic_id
                     LEFT JOIN categories c ON c.forum_id = t.forum_id AND c.id = t.category_id
                     WHERE p.forum_id = ?"""
        return self.db.execute(sql, (forum_id,)).fetchall()

    # -- saved samples --------------------------------------------------------------------------------------------

    def sample_summary(self, name: str) -> tuple[str, int] | None:
        """(created_at, number of items) of a saved sample, or None when there is none of that name."""
        row = self.db.execute("SELECT created_at, (SELECT count(*) FROM sample_items WHERE sample_id = s.id)"
                              " FROM samples s WHERE id = ?", (name,)).fetchone()
        return (row[0], row[1]) if row else None

    def sample_project_titles(self, name: str) -> list[str]:
        """Titles of the Label Studio projects pushed from a sample (a sample in use must not change)."""
        return [r[0] for r in self.db.execute("SELECT title FROM studio_projects WHERE sample_id = ?", (name,))]

    def replace_sample(self, name: str, forum_id: int, unit: str, design: dict, created_at: str,
                       items: Iterable[tuple[int, str, float, int]]) -> None:
        """Store a sample and its items (item_id, stratum, weight, position), replacing one of that name.

        Call inside :meth:`transaction`, after checking :meth:`sample_summary` and
        :meth:`sample_project_titles`, so that the check and the write are one transaction.
        """
        self.db.execute("DELETE FROM sample_items WHERE sample_id = ?", (name,))
        self.db.execute("DELETE FROM samples WHERE id = ?", (name,))
        self.db.execute("INSERT INTO samples (id, forum_id, unit, design, created_at) VALUES (?, ?, ?, ?, ?)",
                        (name, forum_id, unit, json.dumps(design, ensure_ascii=False), created_at))
        self.db.executemany(
            "INSERT INTO sample_items (sample_id, item_id, stratum, weight, position) VALUES (?, ?, ?, ?, ?)",
            [(name, *item) for item in items])

    def saved_sample_names(self) -> list[str]:
        """Names of the saved samples, oldest first."""
        return [r[0] for r in self.db.execute("SELECT id FROM samples ORDER BY created_at, id")]

    def sample_record(self, name: str) -> tuple[int, dict, str, str] | None:
        """(forum_id, design JSON as a dict, created_at, forum URL) of a saved sample, or None."""
        row = self.db.execute("SELECT s.forum_id, s.design, s.created_at, f.url FROM samples s"
                              " JOIN forums f ON f.id = s.forum_id WHERE s.id = ?", (name,)).fetchone()
        return (row[0], json.loads(row[1]), row[2], row[3]) if row else None

    def sample_item_rows(self, name: str) -> list[tuple]:
        """A saved sample's items in draw order: (item_id, stratum, weight, position)."""
        return self.db.execute("SELECT item_id, stratum, weight, position FROM sample_items WHERE sample_id = ?"
                               " ORDER BY position", (name,)).fetchall()

    def sample_listing(self) -> list[tuple[str, str, str, dict, str, int]]:
        """Every saved sample, oldest first: (name, forum URL, unit, design dict, created_at, items)."""
        rows = self.db.execute(
            "SELECT s.id, f.url, s.unit, s.design, s.created_at,"
            " (SELECT count(*) FROM sample_items i WHERE i.sample_id = s.id)"
            " FROM samples s JOIN forums f ON f.id = s.forum_id ORDER BY s.created_at, s.id")
        return [(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5]) for r in rows]

    def project_sample_weights(self, project: int) -> dict[int, float] | None:
        """item_id -> sampling weight of a project pushed from a saved sample; None when it was not."""
        row = self.db.execute("SELECT sample_id FROM studio_projects WHERE id = ?", (project,)).fetchone()
        if not row or row[0] is None:
            return None
        return {int(r[0]): float(r[1]) for r in self.db.execute(
            "SELECT item_id, weight FROM sample_items WHERE sample_id = ?", (row[0],))}

    # -- codebook snapshots ---------------------------------------------------------------------------------------

    def project_codebook_versions(self, project: int | None = None) -> list[tuple[int, list[tuple[str, str]]]]:
        """(project id, [(codebook id, version), ...]) of one project, or of every project when None."""
        where, args = (" WHERE id = ?", (project,)) if project else ("", ())
        rows = self.db.execute("SELECT id, codebooks FROM studio_projects" + where + " ORDER BY id", args)
        return [(r[0], [tuple(pair) for pair in json.loads(r[1])]) for r in rows]

    def codebook_snapshot_content(self, codebook_id: str, version: str) -> dict | None:
        """The codebook as it was snapshotted (its ``to_dict`` form), or None when the store lacks it."""
        row = self.db.execute("SELECT content FROM codebooks WHERE id = ? AND version = ?",
                              (codebook_id, version)).fetchone()
        return json.loads(row[0]) if row else None

    # -- pulled annotations ---------------------------------------------------------------------------------------

    def annotation_count(self) -> int:
        """Pulled annotations of every project."""
        return self.db.execute("SELECT count(*) FROM annotations").fetchone()[0]

    def annotation_code_rows(self, project: int | None = None) -> list[tuple]:
        """One row per pulled annotation and code (one row with NULL code columns for an annotation without a
        code), ordered by project, item, coder, code: (project, forum_id, unit, item_id, coder, annotation_id,
        task_id, annotated_at, lead_time, was_cancelled, memo, code_id, codebook_id, category, subcategory,
        codebook_version).

        A coder's project of a blind round brings the round's other coders' projects with it: together they are
        one coding of the round's sample."""
        where, args = ("WHERE a.project = ? OR a.project IN (SELECT id FROM studio_projects WHERE coder IS NOT NULL"
                       " AND round = (SELECT round FROM studio_projects WHERE id = ? AND coder IS NOT NULL))",
                       (project, project)) if project is not None else ("", ())
        return self.db.execute(_ANNOTATIONS.format(where=where), args).fetchall()

    def annotated_item_metadata(self) -> tuple[list[tuple], list[tuple]]:
        """(topics, annotated posts) as (forum_id, item_id, topic_id, post_id, forum category, created_at,
        title): every topic, and the posts that some annotation codes."""
        topics = self.db.execute(
            "SELECT t.forum_id, t.id, t.id, NULL, c.name, t.created_at, t.title FROM topics t LEFT JOIN categories c"
            " ON c.forum_id = t.forum_id AND c.id = t.category_id").fetchall()
        posts = self.db.execute(
            "SELECT p.forum_id, p.id, p.topic_id, p.id, c.name, p.created_at, t.title FROM posts p JOIN topics t"
            " ON t.forum_id = p.forum_id AND t.id = p.topic_id LEFT JOIN categories c ON c.forum_id = t.forum_id"
            " AND c.id = t.category_id WHERE p.id IN (SELECT item_id FROM annotations)").fetchall()
        return topics, posts

    # -- item texts for REFI-QDA ----------------------------------------------------------------------------------

    def qda_topics(self, forum_id: int, topic_ids: Sequence[int]) -> tuple[list[tuple], list[tuple]]:
        """Topics and the posts a coder saw (live, regular, in order) for a text export.

        Returns (topics as (id, title, slug, created_at, category name), posts as (topic_id, username,
        created_at, text, code)).
        """
        marks = _marks(topic_ids)
        topics = self.db.execute(
            f"SELECT t.id, t.title, t.slug, t.created_at, c.name FROM topics t LEFT JOIN categories c"
            f" ON c.forum_id = t.forum_id AND c.id = t.category_id WHERE t.forum_id = ? AND t.id IN ({marks})",
            (forum_id, *topic_ids)).fetchall()
        posts = self.db.execute(
            f"SELECT topic_id, username, created_at, text, code FROM posts WHERE forum_id = ?"
            f" AND topic_id IN ({marks}) AND {_LIVE_REGULAR} ORDER BY topic_id, post_number",
            (forum_id, *topic_ids)).fetchall()
        return topics, posts

    def qda_posts(self, forum_id: int, post_ids: Sequence[int]) -> list[tuple]:
        """Posts for a text export: (id, topic_id, post_number, username, created_at, text, code, topic title,
        topic slug, category name)."""
        return self.db.execute(
            f"SELECT p.id, p.topic_id, p.post_number, p.username, p.created_at, p.text, p.code, t.title,"
            f" t.slug, c.name FROM posts p JOIN topics t ON t.forum_id = p.forum_id"
            f" AND t.id = p.topic_id LEFT JOIN categories c ON c.forum_id = t.forum_id AND c.id = t.category_id"
            f" WHERE p.forum_id = ? AND p.id IN ({_marks(post_ids)})", (forum_id, *post_ids)).fetchall()
