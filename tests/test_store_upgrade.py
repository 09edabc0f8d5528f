"""A store written by an older release opens in this one: the columns added since are altered in, nothing lost."""
from __future__ import annotations

import re
import sqlite3

import pytest

from forumkit.errors import StoreError
from forumkit.store import SCHEMA, SCHEMA_VERSION, Store
from forumkit.store.schema import ADDED_COLUMNS


def _older_schema(version: int) -> str:
    """The schema as release ``version`` wrote it: today's, less the column lines added after it."""
    text = SCHEMA
    for v in range(version + 1, SCHEMA_VERSION + 1):
        for _, column, _ in ADDED_COLUMNS[v]:
            text, n = re.subn(rf"\n\s+{column}\s+\w+,[^\n]*", "", text)
            assert n >= 1, f"{column} is not in SCHEMA"
    return text


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def test_a_version_1_store_gains_the_new_columns_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(_older_schema(1))
    old.execute("INSERT INTO forums (id, url, added_at) VALUES (1, 'https://discuss.example', '2024-01-01')")
    old.execute("PRAGMA user_version=1")
    old.commit()
    assert "codebook_version" not in _columns(old, "coded")
    old.close()

    with Store(path) as store:
        assert store.db.execute("SELECT url FROM forums").fetchall() == [("https://discuss.example",)]
        for table, column, _ in ADDED_COLUMNS[2]:
            assert column in _columns(store.db, table)
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    with Store(path) as store:  # opening again alters nothing twice
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_store_from_a_newer_release_is_refused_in_one_line(tmp_path):
    path = tmp_path / "new.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="upgrade forumkit|schema version"):
        Store(path)
