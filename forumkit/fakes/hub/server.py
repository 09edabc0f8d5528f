"""Serve model records over HTTP on loopback with the Hub's ``GET /api/models`` semantics.

The HTTP plumbing (threads, keep-alive, request log, armed faults) is
:class:`forumkit.fakes.loopback.LoopbackServer`'s. Pages are bare JSON arrays; while more models
remain, ``Link: <ABSOLUTE URL with every original parameter and a cursor>;
rel="next"`` announces the next page (no ``Link`` on the last one), as the
real Hub does and as huggingface_hub requires (a relative URL breaks it).
The cursor is a keyset (the last item's sort value and ``_id``), so models
added or modified between two pages do not shift the pages after it. Every
request is logged in :attr:`FakeHub.requests`; :class:`Fault` objects make
chosen requests fail; ``quota`` turns on the Hub's fixed-window rate limit
with its ``RateLimit`` headers.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import math
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any, Iterable

from forumkit.fakes.loopback import LoopbackServer, RequestRecord
from .faults import JSON, Fault, Reply, fault_reply, rate_limited, status_reply
from .generate import generate_models, iso_ms
from .query import BadQuery, ListingQuery, encode_cursor, rank_key
from .truth import expected_row, now_iso, problem

logger = logging.getLogger(__name__)

MAX_PAGE = 1000


__all__ = ["FakeHub", "MAX_PAGE", "RequestRecord"]


class FakeHub(LoopbackServer):
    """A fake Hugging Face Hub serving ``models``; use as a context manager or with start()/stop().

    ``page_size`` is the default and largest page (a ``limit`` below it makes
    smaller pages), ``latency`` seconds are added to every answer, and
    ``quota`` requests per ``window`` seconds (None: unlimited) are allowed
    before 429s. All three may be changed while serving.
    """

    thread_name = "fake-hub"

    def __init__(self, models: Iterable[dict], *, host: str = "127.0.0.1", port: int = 0, page_size: int = MAX_PAGE,
                 latency: float = 0.0, quota: int | None = None, window: float = 300.0) -> None:
        super().__init__(host=host, port=port, latency=latency)
        self.page_size = page_size
        self.quota = quota
        self.window = window
        self._records: dict[str, dict] = {}  # _id -> record, as served with every field
        self._by_id: dict[str, str] = {}  # model id -> _id
        self._ids = itertools.count(1)
        self._version = 0
        self._orders: dict[tuple, tuple[int, list[tuple], list[dict]]] = {}
        self._window_start = time.monotonic()
        self._window_count = 0
        self._last_clock = ""
        for record in models:
            self._put(record)

    # ------------------------------------------------------------------ models
    def _put(self, record: dict) -> dict:
        with self._lock:
            if not isinstance(record.get("_id"), str):
                record = dict(record)
                record["_id"] = f"{0xfa4e0000 + next(self._ids):08x}{0:016x}"
            old = self._records.get(record["_id"])
            if old is not None and isinstance(old.get("id"), str):
                self._by_id.pop(old["id"], None)
            self._records[record["_id"]] = record
            if isinstance(record.get("id"), str):
                self._by_id[record["id"]] = record["_id"]
            self._version += 1
            self._orders.clear()
            return record

    def _now(self) -> str:
        """Now as the Hub writes it, strictly later than any time this server gave before."""
        with self._lock:
            stamp = now_iso()
            if stamp <= self._last_clock:
                last = datetime.fromisoformat(self._last_clock.replace("Z", "+00:00"))
                stamp = iso_ms(last.timestamp() + 0.001)
            self._last_clock = stamp
            return stamp

    @property
    def models(self) -> list[dict]:
        """The records served (their full form), in insertion order."""
        with self._lock:
            return list(self._records.values())

    def model(self, model_id: str) -> dict:
        with self._lock:
            return self._records[self._by_id[model_id]]

    def add_model(self, record: dict | None = None, **fields: Any) -> dict:
        """Add a model: ``record`` as given (malformed ones too), or a generated one created now.

        ``fields`` override keys of the record (as served: ``createdAt``, ``cardData``...).
        """
        if record is None:
            n = next(self._ids)
            record = generate_models(1, seed=10_000 + n, start="2023-06", end="2023-06")[0]
            record["id"] = record["modelId"] = f"{record['author']}/new-model-{n}"
            record["_id"] = f"{0xfb000000 + n:08x}{n:016x}"
            record["createdAt"] = record["lastModified"] = self._now()
        record = {**record, **fields}
        return self._put(record)

    def modify_model(self, model_id: str, **changes: Any) -> dict:
        """Change a model as a new commit would: ``lastModified`` becomes now (unless given) and ``sha`` changes."""
        with self._lock:
            record = dict(self.model(model_id))
            record.update(changes)
            if "lastModified" not in changes:
                record["lastModified"] = self._now()
            record["sha"] = f"{abs(hash((model_id, record['lastModified']))):040x}"[-40:]
            return self._put(record)

    def remove_model(self, model_id: str) -> None:
        with self._lock:
            self._records.pop(self._by_id.pop(model_id))
            self._version += 1
            self._orders.clear()

    def ground_truth(self) -> dict[str, dict]:
        """What a full crawl must store: model id -> row (see :func:`forumkit.fakes.hub.truth.expected_row`)."""
        with self._lock:
            return {r["id"]: expected_row(r) for r in self._records.values() if problem(r) is None}

    def malformed(self) -> list[dict]:
        """The records a collector must count as malformed instead of storing."""
        with self._lock:
            return [r for r in self._records.values() if problem(r) is not None]

    # ---------------------------------------------------------------- serving
    def _respond(self, handler: BaseHTTPRequestHandler, path: str, query: str, fault: Fault | None) -> Reply:
        return (fault_reply(fault) if fault else None) or self._limited() or self._answer(handler, path, query)

    def _limited(self) -> Reply | None:
        """The fixed-window quota: a 429 once ``quota`` requests were answered in this window."""
        if self.quota is None:
            return None
        with self._lock:
            now = time.monotonic()
            if now - self._window_start >= self.window:
                self._window_start, self._window_count = now, 0
            self._window_count += 1
            if self._window_count > self.quota:
                return rate_limited(self._reset_in(now), self.quota, int(self.window))
        return None

    def _reset_in(self, now: float) -> int:
        return max(1, math.ceil(self._window_start + self.window - now))

    def _quota_headers(self) -> dict[str, str]:
        if self.quota is None:
            return {}
        with self._lock:
            left = max(0, self.quota - self._window_count)
            reset = self._reset_in(time.monotonic())
        return {"RateLimit": f'"api";r={left};t={reset}',
                "RateLimit-Policy": f'"fixed window";"api";q={self.quota};w={int(self.window)}'}

    def _answer(self, handler: BaseHTTPRequestHandler, path: str, query: str) -> Reply:
        if handler.command != "GET" or path.rstrip("/") != "/api/models":
            return Reply(404, {"error": "Sorry, we can't find the page you are looking for."})
        try:
            listing = ListingQuery.parse(query)
        except BadQuery as exc:
            return Reply(400, {"error": str(exc)})
        try:
            return self._page(listing, query)
        except Exception:  # a bug answers 500 (and is logged), not a dropped connection
            logger.exception("the fake Hub failed to answer %s", handler.path)
            return status_reply(500)

    def _ordered(self, listing: ListingQuery) -> tuple[list[tuple], list[dict]]:
        """The matching records in listing order, and their rank keys (cached until the models change)."""
        key = listing.selection_key()
        with self._lock:
            cached = self._orders.get(key)
            if cached is not None and cached[0] == self._version:
                return cached[1], cached[2]
            version = self._version
            records = [r for r in self._records.values() if listing.matches(r)]
        ranked = sorted(((rank_key(r, listing.sort), r) for r in records), key=lambda kr: kr[0])
        keys, ordered = [k for k, _ in ranked], [r for _, r in ranked]
        with self._lock:
            if version == self._version:
                self._orders[key] = (version, keys, ordered)
        return keys, ordered

    def _page(self, listing: ListingQuery, query: str) -> Reply:
        keys, ordered = self._ordered(listing)
        size = min(listing.limit or self.page_size, self.page_size, MAX_PAGE)
        start = 0 if listing.cursor is None else bisect.bisect_right(keys, listing.cursor)
        page = ordered[start:start + size]
        headers = {}
        if start + size < len(ordered) and page:
            kept = [p for p in query.split("&") if p and not p.startswith("cursor=")]
            if not listing.sort_given:
                kept.append(f"sort={listing.sort}")  # the Hub names its default sort in the next URL
            kept.append(f"cursor={encode_cursor(keys[start + size - 1])}")
            headers["Link"] = f'<{self.url}/api/models?{"&".join(kept)}>; rel="next"'
        return Reply(200, [listing.select(r) for r in page], JSON, headers)

    def _headers(self, handler: BaseHTTPRequestHandler, reply: Reply, body: bytes) -> dict[str, str]:
        return {"Content-Type": reply.content_type, "Content-Length": str(len(body)),
                "Access-Control-Expose-Headers": "Link,RateLimit,RateLimit-Policy", **self._quota_headers(),
                **reply.headers}
