"""Collect Hub model metadata into the store: full, incremental and resumable.

The listing is walked newest change first (``sort=lastModified``, always
descending), one ``Link`` page after another. Each page's models, its
malformed entries, the next URL and the run's counters are committed in one
transaction, so a crawl killed at any point (even ``kill -9``) resumes from
the last committed cursor and stores every model exactly once.

Incremental
    A later run stops at the first model whose ``last_modified`` is older than
    the previous complete run's watermark (its newest ``last_modified``) less
    :data:`WATERMARK_MARGIN`, so it fetches only what was created or changed
    since. The watermark serves only runs with the same filters (author,
    pipeline tag, dates); a run stopped by ``limit`` leaves none;
    ``full_refresh`` ignores it. Models deleted from the Hub stay in the store.
Filters
    ``author`` and ``pipeline_tag`` go to the Hub. ``since``/``until`` filter
    on ``created_at`` on this side (the listing is sorted by modification, so
    it cannot stop early on creation): a model is kept when ``since <=
    created_at < until``; one without ``created_at`` is left out, and the
    pre-2022 placeholder date is compared as it is (it is an upper bound of
    the true date; such rows have ``created_known = 0``). ``limit`` stops
    after that many models stored in the run, and is also sent to the Hub,
    as ``list_models`` sends it (as the page size).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any, Callable

from forumkit.collect.runstate import Bookkeeper, Progress, shift
from forumkit.store import Store
from forumkit.store.records import HubRun, MalformedEntry
from .client import HubClient
from .records import HubModel, MalformedModel, parse_model, quiet_card_warnings

log = logging.getLogger(__name__)

WATERMARK_MARGIN = timedelta(minutes=10)  # listings may lag a little behind the repositories
SCOPE = ("author", "pipeline_tag", "since", "until")  # options that change which models a run covers


@dataclass(frozen=True)
class HubOptions:
    """What to collect. Dates are the store's ISO strings (UTC), e.g. ``2023-01-01T00:00:00.000Z``."""

    author: str | None = None
    pipeline_tag: str | None = None
    since: str | None = None  # created at or after
    until: str | None = None  # created before
    limit: int | None = None  # models stored by this run
    full_refresh: bool = False

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "HubOptions":
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def scope(self) -> dict:
        return {k: getattr(self, k) for k in SCOPE}


@dataclass
class HubProgress(Progress):
    """What a progress display needs; the collector updates it and calls the callback."""

    models_stored: int = 0
    malformed: int = 0
    pages: int = 0
    listed: int = 0
    position: str | None = None  # last_modified of the last model listed
    limit: int | None = None


@dataclass(frozen=True)
class HubResult:
    endpoint: str
    run_id: int
    resumed: bool
    requests: int  # by this process (a resumed run's earlier requests are in hub_runs)
    pages: int
    models_stored: int  # by this process
    malformed: int
    stopped: str  # "end" (last page), "watermark" (reached the previous run) or "limit"
    options: HubOptions


class HubCollector:
    """Collect one Hub's models into one store. ``run()`` does the work; run it again to resume.

    >>> with Store("hub.db") as store, HubClient() as hub:  # doctest: +SKIP
    ...     result = HubCollector(hub, store, HubOptions(author="google")).run()
    """

    def __init__(self, client: HubClient, store: Store, options: HubOptions = HubOptions(), *,
                 progress: Callable[[HubProgress], None] | None = None) -> None:
        self.client = client
        self.store = store
        self.options = options
        self.progress = progress
        self.state = HubProgress(limit=options.limit)

    def run(self) -> HubResult:
        store, endpoint = self.store, self.client.endpoint
        run = store.open_hub_run(endpoint)
        resumed = run is not None
        if run is None:
            since = None if self.options.full_refresh else store.hub_watermark(endpoint, self.options.scope())
            run = store.start_hub_run(endpoint, self.options.to_json(), since_modified=since)
        else:
            self.options = HubOptions.from_json(run.options)
            log.info("resuming hub run %d at %s", run.id, run.next_url or "the first page")
        options = self.options
        self.state = HubProgress(limit=options.limit, resumed=resumed, models_stored=run.models,
                                 malformed=run.malformed)
        books = Bookkeeper(self.client, self.state, self.progress)
        floor = shift(run.since_modified, -WATERMARK_MARGIN) if run.since_modified else None
        stored_before = run.models
        url: str | None = run.next_url or self.client.models_url(
            author=options.author, pipeline_tag=options.pipeline_tag, limit=options.limit)
        pages, malformed, stopped = 0, 0, "end"
        books.tick()
        while url is not None:
            page = self.client.get_page(url)
            pages += 1
            models, bad, reached_floor = self._read(page.items, floor, run)
            if options.limit is not None:
                models = models[:max(0, options.limit - run.models)]
            full = options.limit is not None and run.models + len(models) >= options.limit
            url = None if reached_floor or full else page.next_url
            with store.transaction():
                store.upsert_hub_models(endpoint, models)
                store.add_hub_malformed(endpoint, run.id, bad)
                run.models += len(models)
                run.malformed += len(bad)
                run.requests += books.new_requests()
                run.next_url = url
                store.save_hub_run(run)
                if url is None:
                    stopped = "limit" if full else "watermark" if reached_floor else "end"
                    store.finish_hub_run(run, complete=not full)
            malformed += len(bad)
            self.state.pages += 1
            self.state.models_stored, self.state.malformed = run.models, run.malformed
            books.tick()
        return HubResult(endpoint, run.id, resumed, books.requests, pages, run.models - stored_before, malformed,
                         stopped, options)

    def _read(self, items: list[Any], floor: str | None,
              run: HubRun) -> tuple[list[HubModel], list[MalformedEntry], bool]:
        """Parse a page: the models to store, the malformed entries, and whether the floor was reached."""
        options = self.options
        models: list[HubModel] = []
        bad: list[MalformedEntry] = []
        with quiet_card_warnings():
            for item in items:
                try:
                    model = parse_model(item)
                except MalformedModel as exc:
                    bad.append(MalformedEntry(exc.model_id, exc.problem, json.dumps(item, ensure_ascii=False)))
                    continue
                modified = model.last_modified
                if modified is not None:
                    if floor is not None and modified < floor:
                        return models, bad, True
                    if run.max_modified is None or modified > run.max_modified:
                        run.max_modified = modified
                    self.state.position = modified
                self.state.listed += 1
                if options.since or options.until:
                    created = model.created_at
                    if created is None or (options.since and created < options.since) or (
                            options.until and created >= options.until):
                        continue
                models.append(model)
        return models, bad, False
