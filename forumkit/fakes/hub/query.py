"""The query semantics of ``GET /api/models`` (``shared/notes/hub-api.md`` §1, §2, §7), without HTTP.

:meth:`ListingQuery.parse` reads the query string (repeated ``filter``,
``expand``/``expand[]`` and ``apps``; booleans compared case-insensitively;
``direction`` ignored: every sort is descending) and raises :class:`BadQuery`
(answered 400 ``{"error": ...}``) for an unknown sort or expand value,
``expand`` combined with ``full``/``config``/``cardData``, a bad ``limit`` or
an empty or unreadable cursor. :meth:`~ListingQuery.matches` filters,
:func:`rank_key` orders (descending on the sort key, ties by ``_id``
ascending, models without the key last) and :meth:`~ListingQuery.select`
picks the fields an item carries:

* default: ``_id, id, likes, trendingScore, private, downloads, tags,
  pipeline_tag, library_name, createdAt, modelId`` (plus the sort key, e.g.
  ``lastModified`` when sorted by it);
* ``full=true``: every key of the record except ``cardData``, ``config`` and
  the expand-only properties (so ``author, sha, lastModified, gated,
  disabled, siblings`` and any unknown field);
* ``cardData=true`` / ``config=true``: those keys too;
* ``expand=...``: only ``_id``, ``id`` and the listed properties.

Keys a record lacks are left out, as the Hub leaves out ``pipeline_tag`` of a
repository without one. The cursor is opaque (base64 of the last item's rank).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

SORTS = ("createdAt", "lastModified", "downloads", "likes", "trendingScore")
DEFAULT_SORT = "trendingScore"
EXPANDABLE = frozenset((
    "author", "baseModels", "cardData", "childrenModelCount", "config", "createdAt", "disabled", "downloads",
    "downloadsAllTime", "evalResults", "gated", "gguf", "inference", "inferenceProviderMapping", "lastModified",
    "library_name", "likes", "mask_token", "model-index", "pipeline_tag", "private", "resourceGroup",
    "safetensors", "sha", "siblings", "spaces", "tags", "transformersInfo", "trendingScore", "usedStorage",
    "widgetData", "gitalyUid", "xetEnabled"))
DEFAULT_KEYS = ("_id", "id", "likes", "trendingScore", "private", "downloads", "tags", "pipeline_tag",
                "library_name", "createdAt", "modelId")
EXPAND_ONLY = frozenset(("baseModels", "childrenModelCount", "downloadsAllTime", "evalResults", "gguf", "inference",
                         "inferenceProviderMapping", "mask_token", "model-index", "resourceGroup", "safetensors",
                         "spaces", "transformersInfo", "usedStorage", "widgetData", "gitalyUid", "xetEnabled"))
FLAG_KEYS = frozenset(("cardData", "config"))


class BadQuery(ValueError):
    """A query the Hub answers with 400 and ``{"error": message}``."""


def _flag(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("true", "1")


def _date_value(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def rank_key(record: dict, sort: str) -> tuple:
    """Position in the listing: descending on the sort key, ties by ``_id``, records without the key last."""
    value = record.get(sort)
    number = _date_value(value) if sort in ("createdAt", "lastModified") else (
        float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None)
    return (1, 0.0, str(record.get("_id", ""))) if number is None else (0, -number, str(record.get("_id", "")))


def encode_cursor(key: tuple) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key), separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple:
    if not cursor:
        raise BadQuery('"cursor" is not allowed to be empty')
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if (isinstance(key, list) and len(key) == 3 and isinstance(key[0], int) and isinstance(key[1], (int, float))
                and isinstance(key[2], str)):
            return (key[0], float(key[1]), key[2])
    except (ValueError, binascii.Error):
        pass
    raise BadQuery('"cursor" is invalid')


@dataclass(frozen=True)
class ListingQuery:
    search: str | None = None
    author: str | None = None
    filters: tuple[str, ...] = ()
    pipeline_tag: str | None = None
    gated: bool | None = None
    sort: str = DEFAULT_SORT
    sort_given: bool = False
    limit: int | None = None
    full: bool = False
    config: bool = False
    card_data: bool = False
    expand: tuple[str, ...] = ()
    cursor: tuple | None = None

    @classmethod
    def parse(cls, query: str) -> "ListingQuery":
        pairs = parse_qsl(query, keep_blank_values=True)
        one = {k: v for k, v in pairs}  # the last of a repeated single-valued parameter wins
        many = lambda *names: tuple(v for k, v in pairs if k in names)  # noqa: E731
        sort = one.get("sort")
        if sort is not None and sort not in SORTS:
            raise BadQuery(f'"sort" must be one of [{", ".join(SORTS)}]')
        limit = None
        if "limit" in one:
            try:
                limit = int(one["limit"])
            except ValueError:
                raise BadQuery('"limit" must be a number') from None
            if limit < 1:
                raise BadQuery('"limit" must be greater than or equal to 1')
        expand = many("expand", "expand[]")
        unknown = [e for e in expand if e not in EXPANDABLE]
        if unknown:
            raise BadQuery(f'"expand" contains an invalid value: "{unknown[0]}". Allowed values are: '
                           + ", ".join(sorted(EXPANDABLE)))
        full, config, card = _flag(one.get("full")), _flag(one.get("config")), _flag(one.get("cardData"))
        if expand and (full or config or card):
            raise BadQuery('"expand" cannot be used together with "full", "config" or "cardData"')
        cursor = decode_cursor(one["cursor"]) if "cursor" in one else None
        gated = None if "gated" not in one else _flag(one["gated"])
        return cls(search=one.get("search") or None, author=one.get("author") or None, filters=many("filter"),
                   pipeline_tag=one.get("pipeline_tag") or None, gated=gated, sort=sort or DEFAULT_SORT,
                   sort_given=sort is not None, limit=limit, full=full, config=config, card_data=card,
                   expand=expand, cursor=cursor)

    def selection_key(self) -> tuple:
        """What decides the set and order of models (not the fields, page size or cursor): a cache key."""
        return (self.search, self.author, self.filters, self.pipeline_tag, self.gated, self.sort)

    def matches(self, record: dict) -> bool:
        if self.author and str(record.get("author") or str(record.get("id", "")).partition("/")[0]).lower() \
                != self.author.lower():
            return False
        if self.search and self.search.lower() not in str(record.get("id", "")).lower():
            return False
        if self.pipeline_tag and record.get("pipeline_tag") != self.pipeline_tag:
            return False
        if self.gated is not None and bool(record.get("gated")) != self.gated:
            return False
        if self.filters:
            tags = record.get("tags") if isinstance(record.get("tags"), list) else []
            have = {*tags, record.get("pipeline_tag"), record.get("library_name")}
            if not all(f in have for f in self.filters):
                return False
        return True

    def select(self, record: dict) -> dict:
        """The item as served for this query."""
        if self.expand:
            keys = ["_id", "id", *self.expand]
            return {k: record[k] for k in dict.fromkeys(keys) if k in record}
        if self.full:
            item = {k: v for k, v in record.items() if k not in FLAG_KEYS and k not in EXPAND_ONLY}
        else:
            item = {k: record[k] for k in DEFAULT_KEYS if k in record}
            if self.sort in record and self.sort not in item:
                item[self.sort] = record[self.sort]
        if self.card_data and "cardData" in record:
            item["cardData"] = record["cardData"]
        if self.config and "config" in record:
            item["config"] = record["config"]
        return item
