"""What a collector must store of each fake model: the ground truth of the tests.

Written from the records' own shapes (what the generator and the tests put
there), not with the collector's parser, so that a test comparing the two
checks the collector instead of repeating it. Rows have the columns of
``hub_models`` less ``endpoint`` and ``fetched_at``, with JSON columns as
Python values (lists, the card as a dict) and flags as bools.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

PLACEHOLDER = "2022-03-02T23:29:04.000Z"
_ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def problem(record: Any) -> str | None:
    """Why a record is malformed (the collector must count it, not store it), or None."""
    if not isinstance(record, dict):
        return "not an object"
    if not isinstance(record.get("id"), str) or not record["id"]:
        return "no id"
    for key in ("cardData", "config"):
        if record.get(key) is not None and not isinstance(record[key], dict):
            return f"{key} is not an object"
    if record.get("tags") is not None and not isinstance(record["tags"], list):
        return "tags is not an array"
    for key in ("createdAt", "lastModified"):
        if record.get(key) and not (isinstance(record[key], str) and _ISO_Z.match(record[key])):
            return f"{key} is not a date"
    return None


def _ms(value: str | None) -> str | None:
    if not value:
        return None
    base, _, fraction = value[:-1].partition(".")
    return f"{base}.{(fraction + '000')[:3]}Z"


def _listed(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def expected_row(record: dict) -> dict:
    """The hub_models row of a well-formed record (see :func:`problem`)."""
    card = record.get("cardData") or None
    config = record.get("config") or {}
    tags = [t for t in record.get("tags") or [] if isinstance(t, str)]
    created = _ms(record.get("createdAt"))
    license_ = None
    if card and card.get("license"):
        license_ = ",".join(_listed(card["license"]))
    elif any(t.startswith("license:") for t in tags):
        license_ = ",".join(t.split(":", 1)[1] for t in tags if t.startswith("license:"))
    base = _listed(card.get("base_model")) if card else []
    if not base and isinstance(record.get("baseModels"), dict):
        base = [m["id"] for m in record["baseModels"].get("models", [])]
    elif not base and isinstance(record.get("baseModels"), list):
        base = _listed(record["baseModels"])
    index = card.get("model-index") if card else None
    results_with_metrics = isinstance(index, list) and any(
        r.get("metrics") for entry in index if isinstance(entry, dict) for r in entry.get("results") or [])
    return {
        "id": record["id"],
        "author": record.get("author") or record["id"].split("/")[0],
        "created_at": created,
        "created_known": created is not None and created != PLACEHOLDER,
        "last_modified": _ms(record.get("lastModified")),
        "pipeline_tag": record.get("pipeline_tag"),
        "library_name": record.get("library_name"),
        "model_type": config.get("model_type"),
        "base_models": base,
        "tags": tags,
        "downloads": record.get("downloads"),
        "likes": record.get("likes"),
        "has_card": card is not None,
        "card_data": card,
        "license": license_,
        "languages": _listed(card.get("language")) if card else [],
        "datasets": _listed(card.get("datasets")) if card else [],
        "has_metrics": bool(card and card.get("metrics")) or results_with_metrics,
        "has_model_index": bool(index),
    }


def now_iso() -> str:
    moment = datetime.now(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
