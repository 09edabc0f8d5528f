"""The SQL of the Hub tables (``hub_models``, ``hub_runs``, ``hub_malformed``), over a :class:`Store`.

The tables themselves are defined in :mod:`forumkit.store` with the rest of
the schema; this module holds the statements the collector and the export
need, so that neither writes SQL of its own. Models are upserted on
(endpoint, id); a run's cursor, counters and watermark are saved in the same
transaction as the page of rows they cover.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Sequence

from forumkit.store import Store, utcnow
from .records import HubModel


@dataclass(slots=True)
class HubRun:
    """A row of ``hub_runs``: one crawl of one Hub, resumable while ``status`` is running."""

    id: int
    endpoint: str
    options: dict
    started_at: str
    next_url: str | None
    since_modified: str | None  # the previous run's watermark this run stops at
    max_modified: str | None  # this run's watermark so far
    models: int
    malformed: int
    requests: int


@dataclass(frozen=True, slots=True)
class MalformedEntry:
    model_id: str | None
    problem: str
    raw: str  # the entry as served, JSON


_RUN_COLUMNS = "id, endpoint, options, started_at, next_url, since_modified, max_modified, models, malformed, requests"


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class HubTables:
    """The Hub part of a forumkit store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db

    # -- runs -----------------------------------------------------------------

    def _run(self, where: str, params: Sequence[object]) -> HubRun | None:
        row = self.db.execute(f"SELECT {_RUN_COLUMNS} FROM hub_runs WHERE {where} ORDER BY id DESC LIMIT 1",
                              params).fetchone()
        if row is None:
            return None
        return HubRun(row[0], row[1], json.loads(row[2]), *row[3:])

    def open_run(self, endpoint: str) -> HubRun | None:
        """The unfinished run of this endpoint, if a crawl was stopped."""
        return self._run("endpoint = ? AND status = 'running'", (endpoint,))

    def watermark(self, endpoint: str, scope: dict) -> str | None:
        """The max last_modified of the newest finished, complete run with the same scope (filters).

        A run stopped by --limit leaves no watermark (it did not see everything newer).
        """
        rows = self.db.execute(
            "SELECT options, max_modified FROM hub_runs WHERE endpoint = ? AND status = 'done'"
            " AND max_modified IS NOT NULL ORDER BY id DESC", (endpoint,))
        for options, max_modified in rows:
            if all(json.loads(options).get(k) == v for k, v in scope.items()):
                return max_modified
        return None

    def start_run(self, endpoint: str, options: dict, since_modified: str | None) -> HubRun:
        with self.store.transaction():
            run_id = self.db.execute(
                "INSERT INTO hub_runs (endpoint, started_at, status, options, since_modified, max_modified)"
                " VALUES (?, ?, 'running', ?, ?, ?)",
                (endpoint, utcnow(), _json(options), since_modified, since_modified)).lastrowid
        run = self._run("id = ?", (run_id,))
        assert run is not None
        return run

    def save_run(self, run: HubRun) -> None:
        """Persist the run's cursor and counters; call in the transaction that stored the page."""
        self.db.execute(
            "UPDATE hub_runs SET next_url = ?, max_modified = ?, models = ?, malformed = ?, requests = ?"
            " WHERE id = ?", (run.next_url, run.max_modified, run.models, run.malformed, run.requests, run.id))

    def finish_run(self, run: HubRun, *, complete: bool) -> None:
        """Mark the run done; an incomplete one (stopped by --limit) keeps no watermark."""
        if not complete:
            run.max_modified = None
        run.next_url = None
        self.save_run(run)
        self.db.execute("UPDATE hub_runs SET status = 'done', finished_at = ? WHERE id = ?", (utcnow(), run.id))

    # -- models ---------------------------------------------------------------

    def upsert_models(self, endpoint: str, models: Iterable[HubModel]) -> None:
        now = utcnow()
        self.db.executemany(
            "INSERT OR REPLACE INTO hub_models (endpoint, id, author, created_at, created_known, last_modified,"
            " pipeline_tag, library_name, model_type, base_models, tags, downloads, likes, has_card, card_data,"
            " license, languages, datasets, has_metrics, has_model_index, fetched_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(endpoint, m.id, m.author, m.created_at, int(m.created_known), m.last_modified, m.pipeline_tag,
              m.library_name, m.model_type, _json(list(m.base_models)), _json(list(m.tags)), m.downloads, m.likes,
              int(m.has_card), None if m.card_data is None else _json(m.card_data), m.license,
              _json(list(m.languages)), _json(list(m.datasets)), int(m.has_metrics), int(m.has_model_index), now)
             for m in models])

    def add_malformed(self, endpoint: str, run_id: int, entries: Iterable[MalformedEntry]) -> None:
        self.db.executemany(
            "INSERT INTO hub_malformed (endpoint, run_id, model_id, problem, raw) VALUES (?, ?, ?, ?, ?)",
            [(endpoint, run_id, e.model_id, e.problem, e.raw) for e in entries])

    def model_count(self, endpoint: str | None = None) -> int:
        if endpoint is None:
            return self.db.execute("SELECT count(*) FROM hub_models").fetchone()[0]
        return self.db.execute("SELECT count(*) FROM hub_models WHERE endpoint = ?", (endpoint,)).fetchone()[0]

    def endpoints(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT endpoint FROM hub_models ORDER BY endpoint")]
