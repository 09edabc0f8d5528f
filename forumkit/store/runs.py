"""Crawl runs and the topic queue: what makes a crawl resumable and incremental."""

from __future__ import annotations

import json
from typing import Iterable, Sequence

from .base import Connection, utcnow
from .records import CrawlRun


class RunTables(Connection):
    """Crawl runs and the topic queue: what makes a crawl resumable and incremental."""

    # -- crawl state ----------------------------------------------------------

    def open_run(self, forum_id: int) -> CrawlRun | None:
        row = self.db.execute(
            "SELECT id FROM crawl_runs WHERE forum_id = ? AND status = 'running' ORDER BY id DESC LIMIT 1",
            (forum_id,)).fetchone()
        return self._run(row[0]) if row else None

    def finished_runs(self, forum_id: int) -> list[CrawlRun]:
        """Finished crawl runs of a forum, newest first."""
        rows = self.db.execute(
            "SELECT id FROM crawl_runs WHERE forum_id = ? AND status = 'done' ORDER BY id DESC", (forum_id,))
        return [self._run(r[0]) for r in rows.fetchall()]

    def _run(self, run_id: int) -> CrawlRun:
        r = self.db.execute(
            "SELECT id, forum_id, options, phase, cursor, requests, since_bumped_at, since_post_id,"
            " max_bumped_at, max_post_id, started_at FROM crawl_runs WHERE id = ?", (run_id,)).fetchone()
        return CrawlRun(r[0], r[1], json.loads(r[2]), r[3], json.loads(r[4]), r[5], r[6], r[7], r[8], r[9], r[10])

    def start_run(self, forum_id: int, options: dict, previous: CrawlRun | None,
                  recheck: Sequence[int] = ()) -> CrawlRun:
        """A new running crawl, incremental from ``previous`` if given, with its recheck queue: one transaction."""
        with self.transaction():
            run_id = self.db.execute(
                "INSERT INTO crawl_runs (forum_id, started_at, status, options, phase, since_bumped_at,"
                " since_post_id, max_bumped_at, max_post_id) VALUES (?, ?, 'running', ?, 'categories', ?, ?, ?, ?)",
                (forum_id, utcnow(), json.dumps(options), *(
                    (previous.max_bumped_at, previous.max_post_id) * 2 if previous else (None,) * 4))).lastrowid
            self.queue_topics(forum_id, [(tid, "recheck") for tid in recheck])
        return self._run(run_id)

    def save_run(self, run: CrawlRun) -> None:
        """Persist the run's progress; call inside the transaction that stored the data it covers."""
        self.db.execute(
            "UPDATE crawl_runs SET phase = ?, cursor = ?, requests = ?, max_bumped_at = ?, max_post_id = ?"
            " WHERE id = ?",
            (run.phase, json.dumps(run.cursor), run.requests, run.max_bumped_at, run.max_post_id, run.id))

    def finish_run(self, run: CrawlRun) -> None:
        run.phase = "done"
        with self.transaction():
            self.save_run(run)
            self.db.execute("UPDATE crawl_runs SET status = 'done', finished_at = ? WHERE id = ?",
                            (utcnow(), run.id))

    def queue_topics(self, forum_id: int, items: Iterable[tuple[int, str]]) -> None:
        """Queue topics for a topic-by-topic fetch; a topic already queued keeps its first reason."""
        self.db.executemany("INSERT OR IGNORE INTO topic_queue VALUES (?, ?, ?)",
                            [(forum_id, tid, reason) for tid, reason in items])

    def queued_topics(self, forum_id: int) -> list[tuple[int, str]]:
        return [(r[0], r[1]) for r in self.db.execute(
            "SELECT topic_id, reason FROM topic_queue WHERE forum_id = ? ORDER BY topic_id", (forum_id,))]

    def dequeue_topic(self, forum_id: int, topic_id: int) -> None:
        self.db.execute("DELETE FROM topic_queue WHERE forum_id = ? AND topic_id = ?", (forum_id, topic_id))

    def recently_active_topics(self, forum_id: int, after: str) -> list[int]:
        return [r[0] for r in self.db.execute(
            "SELECT id FROM topics WHERE forum_id = ? AND removed_at IS NULL AND last_posted_at >= ?",
            (forum_id, after))]

    def last_crawl(self, forum_id: int) -> tuple[str, str | None, int] | None:
        """(started_at, finished_at or None while running, requests) of the forum's newest crawl run."""
        row = self.db.execute(
            "SELECT started_at, finished_at, requests FROM crawl_runs WHERE forum_id = ? ORDER BY id DESC LIMIT 1",
            (forum_id,)).fetchone()
        return (row[0], row[1], row[2]) if row else None
