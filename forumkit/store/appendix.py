"""What the methods appendix reads that no other stage does: every crawl run, what a crawl left out, and the
codebook versions coded rows were made under.

Kept apart from the per-stage parts because the appendix reads across stages; each read returns plain tuples or
dicts, :mod:`forumkit.analysis.appendix` turns them into text.
"""

from __future__ import annotations

import json
from typing import Sequence

from .base import Connection


class AppendixReads(Connection):
    """Reads for `forumkit appendix`."""

    def crawl_run_rows(self, forum_id: int) -> list[tuple[int, str, str | None, str, dict, int]]:
        """Every crawl run of a forum, oldest first: (id, started_at, finished_at, status, options, requests)."""
        rows = self.db.execute(
            "SELECT id, started_at, finished_at, status, options, requests FROM crawl_runs WHERE forum_id = ?"
            " ORDER BY id", (forum_id,))
        return [(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5]) for r in rows]

    def crawl_exclusions(self, forum_id: int) -> dict[str, int]:
        """How many stored rows a coder never sees, by reason: topics and posts the forum stopped serving
        (``removed_*``); of the live posts, those hidden by flags, withdrawn by their author, and moderator or
        small-action posts (``non_regular``); live posts whose HTML was only tag-stripped (``parse_fallbacks``);
        categories closed to anonymous readers (``restricted_categories``)."""
        def one(sql: str) -> int:
            return self.db.execute(sql, (forum_id,)).fetchone()[0]

        live = "FROM posts WHERE forum_id = ? AND removed_at IS NULL"
        return {
            "removed_topics": one("SELECT count(*) FROM topics WHERE forum_id = ? AND removed_at IS NOT NULL"),
            "removed_posts": one("SELECT count(*) FROM posts WHERE forum_id = ? AND removed_at IS NOT NULL"),
            "hidden_posts": one(f"SELECT count(*) {live} AND hidden = 1"),
            "user_deleted_posts": one(f"SELECT count(*) {live} AND user_deleted = 1"),
            "non_regular_posts": one(f"SELECT count(*) {live} AND post_type <> 1"),
            "parse_fallbacks": one("SELECT count(*) FROM parse_fallbacks f JOIN posts p ON p.forum_id = f.forum_id"
                                   " AND p.id = f.post_id WHERE f.forum_id = ? AND p.removed_at IS NULL"),
            "restricted_categories": one("SELECT count(*) FROM categories WHERE forum_id = ? AND read_restricted = 1"),
        }

    def category_names(self, forum_id: int) -> dict[int, tuple[str, str, int | None]]:
        """category id -> (name, slug, parent id) of a forum's stored categories."""
        return {r[0]: (r[1], r[2], r[3]) for r in self.db.execute(
            "SELECT id, name, slug, parent_id FROM categories WHERE forum_id = ?", (forum_id,))}

    def coded_codebook_versions(self, projects: Sequence[int]) -> list[tuple[str, str]]:
        """The (codebook id, version) pairs the coded rows of ``projects`` record (rows without one left out)."""
        marks = ",".join("?" * len(projects)) or "NULL"
        return [(r[0], r[1]) for r in self.db.execute(
            f"SELECT DISTINCT codebook_id, codebook_version FROM coded WHERE project IN ({marks})"
            " AND codebook_version IS NOT NULL ORDER BY codebook_id, codebook_version", tuple(projects))]

    def codebook_snapshot(self, codebook_id: str, version: str) -> tuple[str, str] | None:
        """(content exactly as stored, added_at) of a codebook version, or None when the store lacks it."""
        row = self.db.execute("SELECT content, added_at FROM codebooks WHERE id = ? AND version = ?",
                              (codebook_id, version)).fetchone()
        return (row[0], row[1]) if row else None
