"""The topic model's tables: runs of ``forumkit suggest topics``, each item's topic, topic words and codes.

A run is stored whole in one transaction, so a killed run leaves either all of it or nothing; older runs are
kept (each has its own id), and readers take the latest unless told otherwise.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Sequence

from .base import Connection, utcnow


class TopicTables(Connection):
    """Topic runs for :mod:`forumkit.coding.suggest.topics` and the report's "Topics over time"."""

    def save_topic_run(self, run: dict[str, Any], items: Iterable[Sequence[Any]], words: Iterable[Sequence[Any]],
                       codes: Iterable[Sequence[Any]]) -> int:
        """Store one run and return its id.

        ``run`` has forum_id, unit, model_version, embedder, seed, options (a dict), n_items, n_topics,
        outliers_before, outliers_after, out_dir; ``items`` rows are (item_id, created_at, topic, topic_before),
        ``words`` rows (topic, rank, word, weight), ``codes`` rows (topic, rank, codebook, code_id, category_id,
        similarity, score).
        """
        with self.transaction():
            cur = self.db.execute(
                "INSERT INTO topic_runs (created_at, forum_id, unit, model_version, embedder, seed, options, n_items,"
                " n_topics, outliers_before, outliers_after, out_dir) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (utcnow(), run.get("forum_id"), run["unit"], run["model_version"], run["embedder"], run["seed"],
                 json.dumps(run["options"], sort_keys=True), run["n_items"], run["n_topics"],
                 run["outliers_before"], run["outliers_after"], run.get("out_dir")))
            run_id = int(cur.lastrowid)
            self.db.executemany("INSERT INTO topic_items (run_id, item_id, created_at, topic, topic_before)"
                                " VALUES (?, ?, ?, ?, ?)", ((run_id, *row) for row in items))
            self.db.executemany("INSERT INTO topic_words (run_id, topic, rank, word, weight) VALUES (?, ?, ?, ?, ?)",
                                ((run_id, *row) for row in words))
            self.db.executemany("INSERT INTO topic_codes (run_id, topic, rank, codebook, code_id, category_id,"
                                " similarity, score) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                ((run_id, *row) for row in codes))
        return run_id

    def topic_run(self, run_id: int | None = None) -> dict[str, Any] | None:
        """A run's row as a dict (options decoded), the latest when ``run_id`` is None; None when there is none."""
        sql = "SELECT * FROM topic_runs " + ("WHERE id = ?" if run_id is not None else "ORDER BY id DESC LIMIT 1")
        cur = self.db.execute(sql, (run_id,) if run_id is not None else ())
        row = cur.fetchone()
        if row is None:
            return None
        out = dict(zip([d[0] for d in cur.description], row))
        out["options"] = json.loads(out["options"])
        return out

    def topic_items(self, run_id: int) -> list[tuple]:
        """(item_id, created_at, topic, topic_before) of a run, by item id."""
        return self.db.execute("SELECT item_id, created_at, topic, topic_before FROM topic_items WHERE run_id = ?"
                               " ORDER BY item_id", (run_id,)).fetchall()

    def topic_words(self, run_id: int) -> list[tuple]:
        """(topic, rank, word, weight) of a run, by topic and rank."""
        return self.db.execute("SELECT topic, rank, word, weight FROM topic_words WHERE run_id = ?"
                               " ORDER BY topic, rank", (run_id,)).fetchall()

    def topic_codes(self, run_id: int) -> list[tuple]:
        """(topic, rank, codebook, code_id, category_id, similarity, score) of a run, by topic and rank."""
        return self.db.execute("SELECT topic, rank, codebook, code_id, category_id, similarity, score FROM topic_codes"
                               " WHERE run_id = ? ORDER BY topic, rank", (run_id,)).fetchall()
