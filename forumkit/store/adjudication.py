"""Adjudication: the Label Studio queue of a coded project's disagreements and the decisions pulled from it.

A decision is the whole set of codes an item gets (possibly none) with who decided, when and why; reading
it back replaces the project's decisions in one transaction, so the store mirrors the queue as the server
holds it (:mod:`forumkit.coding.adjudicate`).
"""

from __future__ import annotations

import sqlite3
from typing import NamedTuple, Sequence

from .base import Connection, utcnow


class Decision(NamedTuple):
    """One adjudicated item (the columns of ``adjudications`` but ``pulled_at``, in order)."""

    project: int
    item_id: int
    annotation_id: int
    decided_by: str
    decided_at: str | None
    reason: str | None


class DecidedCode(NamedTuple):
    """One code a decision gives an item (the columns of ``adjudicated_codes``, in order)."""

    project: int
    item_id: int
    code_id: str
    codebook_id: str
    category: str
    subcategory: str | None
    codebook_version: str | None


#: Columns of :meth:`AdjudicationTables.adjudication_rows`.
ADJUDICATION_COLUMNS = ["project", "item_id", "decided_by", "decided_at", "reason", "code_id", "codebook_id",
                        "category", "subcategory", "codebook_version"]


class AdjudicationTables(Connection):
    """The adjudication queue of each coded project and its decisions."""

    def adjudication_project(self, project: int) -> sqlite3.Row | None:
        """The queue of a coded project (url, project_id, adjudicator, created_at), or None when none was made."""
        cur = self.db.execute("SELECT * FROM adjudication_projects WHERE project = ?", (project,))
        cur.row_factory = sqlite3.Row
        return cur.fetchone()

    def add_adjudication_project(self, project: int, *, url: str, project_id: int, adjudicator: str | None) -> None:
        """Link the coded project to its queue on the server (replacing an older link)."""
        with self.transaction():
            self.db.execute("INSERT OR REPLACE INTO adjudication_projects VALUES (?, ?, ?, ?, ?)",
                            (project, url, project_id, adjudicator, utcnow()))

    def set_adjudicator(self, project: int, adjudicator: str | None) -> None:
        """Whose decisions count from now on (None: whoever annotates the queue)."""
        with self.transaction():
            self.db.execute("UPDATE adjudication_projects SET adjudicator = ? WHERE project = ?",
                            (adjudicator, project))

    def replace_adjudications(self, project: int, decisions: Sequence[Decision], codes: Sequence[DecidedCode]) -> None:
        """The project's decisions as the queue holds them now, replacing the earlier ones in one transaction."""
        now = utcnow()
        with self.transaction():
            self.db.execute("DELETE FROM adjudicated_codes WHERE project = ?", (project,))
            self.db.execute("DELETE FROM adjudications WHERE project = ?", (project,))
            self.db.executemany("INSERT INTO adjudications VALUES (?, ?, ?, ?, ?, ?, ?)",
                                [(*d, now) for d in decisions])
            self.db.executemany("INSERT OR IGNORE INTO adjudicated_codes VALUES (?, ?, ?, ?, ?, ?, ?)", codes)

    def adjudication_rows(self, projects: Sequence[int] | None = None) -> list[tuple]:
        """One row per decision and code (one row with NULL code columns for a decision of no code), of the
        given coded projects (every one when None), in :data:`ADJUDICATION_COLUMNS` order."""
        where, args = "", ()
        if projects is not None:
            where, args = f"WHERE a.project IN ({','.join('?' * len(projects))})", tuple(projects)
        return self.db.execute(
            "SELECT a.project, a.item_id, a.decided_by, a.decided_at, a.reason, c.code_id, c.codebook_id, c.category,"
            " c.subcategory, c.codebook_version FROM adjudications a LEFT JOIN adjudicated_codes c"
            f" ON c.project = a.project AND c.item_id = a.item_id {where} ORDER BY a.project, a.item_id, c.code_id",
            args).fetchall()

    def coded_versions(self, project: int | None = None) -> list[tuple]:
        """(project, annotation_id, code_id, codebook_version) of every pulled code (of one project)."""
        where, args = ("WHERE project = ?", (project,)) if project is not None else ("", ())
        return self.db.execute(f"SELECT project, annotation_id, code_id, codebook_version FROM coded {where}",
                               args).fetchall()
