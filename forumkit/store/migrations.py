"""Codebook migrations of coded projects: the record of each, the codes it changed, the items to recode.

A migration (``forumkit codebook migrate``) is recorded when it starts and marked applied when its last step
is done, so that a run stopped in between is resumed with the same versions and map; every write here is
idempotent (``INSERT OR IGNORE`` on natural keys) for the same reason. The methods appendix reads
:meth:`MigrationTables.codebook_migrations`.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Iterable, NamedTuple, Sequence

from .base import Connection, utcnow


class MigratedCode(NamedTuple):
    """One code of one annotation that a migration changed (the columns of ``codebook_migration_codes``)."""

    migration: int
    annotation_id: int
    item_id: int
    old_code: str
    action: str
    new_codes: str  # JSON list


class Recode(NamedTuple):
    """One item queued for recoding (the columns of ``recode_queue`` but the times)."""

    project: int
    item_id: int
    task_id: int
    codebook_id: str
    old_code: str
    candidates: str  # JSON list
    migration: int


class MigrationTables(Connection):
    """Codebook migrations, the codes they changed and the recode queue."""

    def codebook_migration(self, project: int, codebook_id: str, to_version: str) -> sqlite3.Row | None:
        """The migration of a project's codebook to ``to_version``, applied or not, if one was started."""
        cur = self.db.execute("SELECT * FROM codebook_migrations WHERE project = ? AND codebook_id = ? AND "
                              "to_version = ?", (project, codebook_id, to_version))
        cur.row_factory = sqlite3.Row
        return cur.fetchone()

    def codebook_migrations(self, project: int | None = None) -> list[sqlite3.Row]:
        """Every migration (of one project, or all), oldest first: versions, map, times and counts."""
        where, args = ("WHERE project = ?", (project,)) if project is not None else ("", ())
        cur = self.db.execute(f"SELECT * FROM codebook_migrations {where} ORDER BY started_at, id", args)
        cur.row_factory = sqlite3.Row
        return cur.fetchall()

    def start_codebook_migration(self, project: int, codebook_id: str, from_version: str, to_version: str,
                                 mapping: str, new_content: str) -> int:
        """Record a migration as started (or find the one started before) and keep NEW's snapshot; its id."""
        now = utcnow()
        with self.transaction():
            self.db.execute("INSERT OR IGNORE INTO codebooks VALUES (?, ?, ?, ?)",
                            (codebook_id, to_version, new_content, now))
            self.db.execute("INSERT OR IGNORE INTO codebook_migrations (project, codebook_id, from_version,"
                            " to_version, map, started_at) VALUES (?, ?, ?, ?, ?, ?)",
                            (project, codebook_id, from_version, to_version, mapping, now))
            return int(self.db.execute("SELECT id FROM codebook_migrations WHERE project = ? AND codebook_id = ?"
                                       " AND to_version = ?", (project, codebook_id, to_version)).fetchone()[0])

    def codebook_content(self, codebook_id: str, version: str) -> dict | None:
        """A stored codebook version (as a dict), or None."""
        row = self.db.execute("SELECT content FROM codebooks WHERE id = ? AND version = ?",
                              (codebook_id, version)).fetchone()
        return None if row is None else json.loads(row[0])

    def record_migrated_codes(self, codes: Iterable[MigratedCode], queue: Iterable[Recode]) -> None:
        """What a migration is about to change, before Label Studio is touched (a re-run adds nothing twice)."""
        now = utcnow()
        with self.transaction():
            self.db.executemany("INSERT OR IGNORE INTO codebook_migration_codes VALUES (?, ?, ?, ?, ?, ?)", codes)
            self.db.executemany("INSERT OR IGNORE INTO recode_queue VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                                [(*r, now) for r in queue])

    def migrated_codes(self, migration: int) -> list[MigratedCode]:
        """The codes a migration changed, by annotation then old code."""
        return [MigratedCode(*r) for r in self.db.execute(
            "SELECT * FROM codebook_migration_codes WHERE migration = ? ORDER BY annotation_id, old_code",
            (migration,))]

    def recode_queue(self, project: int, *, pending: bool = True) -> list[Recode]:
        """Items queued for recoding in a project (only those not done yet with ``pending``), by item."""
        done = " AND done_at IS NULL" if pending else ""
        return [Recode(*r) for r in self.db.execute(
            "SELECT project, item_id, task_id, codebook_id, old_code, candidates, migration FROM recode_queue"
            f" WHERE project = ?{done} ORDER BY item_id, codebook_id, old_code", (project,))]

    def coded_codes(self, project: int, codebook_id: str) -> list[tuple[int, str]]:
        """(annotation id, code id) of every stored code of one codebook in a project."""
        return [tuple(r) for r in self.db.execute(
            "SELECT annotation_id, code_id FROM coded WHERE project = ? AND codebook_id = ?"
            " ORDER BY annotation_id, code_id", (project, codebook_id))]

    def finish_codebook_migration(self, migration: int, project: int, codebook_id: str,
                                  coded: Sequence[tuple], codebooks: str) -> None:
        """The last step, in one transaction: the project's stored codes of the codebook replaced by ``coded``
        (rows of ``coded``), its codebook list set to ``codebooks`` (JSON of [id, version]), and the migration
        marked applied with its counts (from the codes it recorded)."""
        with self.transaction():
            self.db.execute("DELETE FROM coded WHERE project = ? AND codebook_id = ?", (project, codebook_id))
            self.db.executemany("INSERT OR IGNORE INTO coded (project, annotation_id, code_id, codebook_id, category,"
                                " subcategory, codebook_version) VALUES (?, ?, ?, ?, ?, ?, ?)", coded)
            self.db.execute("UPDATE studio_projects SET codebooks = ? WHERE id = ?", (codebooks, project))
            counts = dict(self.db.execute("SELECT action, count(*) FROM codebook_migration_codes WHERE migration = ?"
                                          " GROUP BY action", (migration,)).fetchall())
            annotations = self.db.execute("SELECT count(DISTINCT annotation_id) FROM codebook_migration_codes"
                                          " WHERE migration = ?", (migration,)).fetchone()[0]
            self.db.execute("UPDATE codebook_migrations SET applied_at = ?, annotations = ?, renamed = ?, merged = ?,"
                            " split = ?, retired = ? WHERE id = ?",
                            (utcnow(), annotations, counts.get("rename", 0), counts.get("merge", 0),
                             counts.get("split", 0), counts.get("retire", 0), migration))
