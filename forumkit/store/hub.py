"""Hub models, Hub crawl runs and malformed Hub entries (``hub_models``, ``hub_runs``, ``hub_malformed``).

Models are upserted on (endpoint, id); a run's cursor, counters and watermark are saved in the same
transaction as the page of rows they cover, so a collector killed at any point resumes from its last page.
"""

from __future__ import annotations

import json
from typing import Iterable, Iterator, Sequence

from ..errors import StoreError
from .base import Connection, utcnow
from .records import HubModel, HubRun, MalformedEntry

_RUN_COLUMNS = "id, endpoint, options, started_at, next_url, since_modified, max_modified, models, malformed, requests"
#: The columns of ``hub_models``, in table order (what :meth:`HubTables.hub_model_rows` may select).
HUB_MODEL_COLUMNS = ("endpoint", "id", "author", "created_at", "created_known", "last_modified", "pipeline_tag",
                     "library_name", "model_type", "base_models", "tags", "downloads", "likes", "has_card",
                     "card_data", "license", "languages", "datasets", "has_metrics", "has_model_index", "fetched_at")


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class HubTables(Connection):
    """Hub models, Hub crawl runs and malformed Hub entries."""

    # -- runs -----------------------------------------------------------------

    def _hub_run(self, where: str, params: Sequence[object]) -> HubRun | None:
        row = self.db.execute(f"SELECT {_RUN_COLUMNS} FROM hub_runs WHERE {where} ORDER BY id DESC LIMIT 1",
                              params).fetchone()
        if row is None:
            return None
        return HubRun(row[0], row[1], json.loads(row[2]), *row[3:])

    def open_hub_run(self, endpoint: str) -> HubRun | None:
        """The unfinished run of this endpoint, if a crawl was stopped."""
        return self._hub_run("endpoint = ? AND status = 'running'", (endpoint,))

    def hub_watermark(self, endpoint: str, scope: dict) -> str | None:
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

    def start_hub_run(self, endpoint: str, options: dict, since_modified: str | None) -> HubRun:
        """A new running crawl of ``endpoint`` that stops at ``since_modified`` (a watermark), if given."""
        with self.transaction():
            run_id = self.db.execute(
                "INSERT INTO hub_runs (endpoint, started_at, status, options, since_modified, max_modified)"
                " VALUES (?, ?, 'running', ?, ?, ?)",
                (endpoint, utcnow(), _json(options), since_modified, since_modified)).lastrowid
        run = self._hub_run("id = ?", (run_id,))
        assert run is not None
        return run

    def save_hub_run(self, run: HubRun) -> None:
        """Persist the run's cursor and counters; call in the transaction that stored the page."""
        self.db.execute(
            "UPDATE hub_runs SET next_url = ?, max_modified = ?, models = ?, malformed = ?, requests = ?"
            " WHERE id = ?", (run.next_url, run.max_modified, run.models, run.malformed, run.requests, run.id))

    def finish_hub_run(self, run: HubRun, *, complete: bool) -> None:
        """Mark the run done; an incomplete one (stopped by --limit) keeps no watermark."""
        if not complete:
            run.max_modified = None
        run.next_url = None
        self.save_hub_run(run)
        self.db.execute("UPDATE hub_runs SET status = 'done', finished_at = ? WHERE id = ?", (utcnow(), run.id))

    # -- models ---------------------------------------------------------------

    def upsert_hub_models(self, endpoint: str, models: Iterable[HubModel]) -> None:
        now = utcnow()
        self.db.executemany(
            f"INSERT OR REPLACE INTO hub_models ({', '.join(HUB_MODEL_COLUMNS)})"
            f" VALUES ({','.join('?' * len(HUB_MODEL_COLUMNS))})",
            [(endpoint, m.id, m.author, m.created_at, int(m.created_known), m.last_modified, m.pipeline_tag,
              m.library_name, m.model_type, _json(list(m.base_models)), _json(list(m.tags)), m.downloads, m.likes,
              int(m.has_card), None if m.card_data is None else _json(m.card_data), m.license,
              _json(list(m.languages)), _json(list(m.datasets)), int(m.has_metrics), int(m.has_model_index), now)
             for m in models])

    def add_hub_malformed(self, endpoint: str, run_id: int, entries: Iterable[MalformedEntry]) -> None:
        self.db.executemany(
            "INSERT INTO hub_malformed (endpoint, run_id, model_id, problem, raw) VALUES (?, ?, ?, ?, ?)",
            [(endpoint, run_id, e.model_id, e.problem, e.raw) for e in entries])

    def hub_model_rows(self, columns: Sequence[str], *, endpoint: str | None = None,
                       batch: int = 20_000) -> Iterator[list[tuple]]:
        """``hub_models`` rows (of one endpoint, or all) ordered by endpoint and id, ``batch`` rows at a time.

        Values are as stored: flags 0/1, list columns JSON text.
        """
        unknown = [c for c in columns if c not in HUB_MODEL_COLUMNS]
        if unknown:
            raise StoreError(f"hub_models has no column {', '.join(unknown)}", hint="use the columns of docs/schema.md")
        where, params = ("WHERE endpoint = ?", (endpoint,)) if endpoint else ("", ())
        cursor = self.db.execute(
            f"SELECT {', '.join(columns)} FROM hub_models {where} ORDER BY endpoint, id", params)
        while rows := cursor.fetchmany(batch):
            yield rows
