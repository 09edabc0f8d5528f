"""The connection every part of the store shares: WAL mode, schema check, one-transaction writes.

Rows are keyed on the sources' own ids (``forum_id`` + Discourse id, Hub endpoint + model id), so
storing the same thing twice changes nothing, and a crawl killed at any point leaves a store whose
every transaction is complete.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Self, Sequence

from ..dates import utcnow
from ..errors import StoreError
from .schema import ADDED_COLUMNS, SCHEMA, SCHEMA_VERSION

__all__ = ["Connection", "flag", "utcnow"]  # utcnow: the store's timestamp format, defined in forumkit.dates


def flag(value: bool | None) -> int | None:
    """A tri-state boolean as SQLite stores it (None stays NULL)."""
    return None if value is None else int(bool(value))


class Connection:
    """The open SQLite connection and its transactions; the per-stage table classes build on it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(f"{self.path} has schema version {version}, this forumkit reads {SCHEMA_VERSION}",
                                 hint="upgrade forumkit, or use a new --db file")
            self.db.executescript(SCHEMA)  # every table IF NOT EXISTS: adds tables newer releases brought
            if version < SCHEMA_VERSION:
                self._upgrade(version)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open {self.path} as a forumkit store: {exc}") from exc
        self._in_tx = False

    def _upgrade(self, version: int) -> None:
        """Add the columns of every schema version after ``version`` to tables an older release made."""
        with self.db:
            for table, column, kind in (col for v in range(version + 1, SCHEMA_VERSION + 1)
                                        for col in ADDED_COLUMNS.get(v, [])):
                have = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
                if column not in have:  # a new store's CREATE TABLE already has it
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all (kill -9 safe, thanks to WAL)."""
        if self._in_tx:
            yield
            return
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:  # "database is locked" after the 30 s busy timeout
            raise StoreError(f"{self.path} is busy: {exc}",
                             hint="another forumkit process is writing to it; wait for it to finish") from exc
        self._in_tx = True
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")
        finally:
            self._in_tx = False

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Read-only helper for callers that need a quick look (tests, summaries)."""
        cur = self.db.execute(sql, params)
        cur.row_factory = sqlite3.Row
        return cur.fetchall()
