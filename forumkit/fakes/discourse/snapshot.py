"""Snapshots of a fake forum: its records as gzip JSON, so a forum can be shipped and reloaded."""

from __future__ import annotations

import gzip
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .records import Category, Post, Topic, User

if TYPE_CHECKING:
    from .model import FakeForum

FORMAT = "forumkit.fakeforum/1"


def dump(forum: FakeForum) -> dict[str, Any]:
    """The records of a forum as JSON-ready data (caller holds the lock; no derived indexes)."""
    topics = []
    for topic in forum.topics.values():
        row = asdict(topic)
        del row["post_ids"]
        topics.append(row)
    return {
        "format": FORMAT, "hostname": forum.hostname, "title": forum.title, "tags": dict(forum.tag_ids),
        "categories": [asdict(c) for c in forum.categories.values()],
        "users": [asdict(u) for u in forum.users.values()],
        "topics": topics,
        "posts": [asdict(p) for p in forum.posts.values()],
    }


def tables(
    data: dict[str, Any],
) -> tuple[dict[str, int], dict[int, Category], dict[int, User], dict[int, Topic], dict[int, Post]]:
    """The record tables of :func:`dump` output, keyed by id in id order."""
    if data.get("format") != FORMAT:
        raise ValueError(f"not a fake forum snapshot (format {data.get('format')!r}, expected {FORMAT!r})")
    return (
        dict(data["tags"]),
        {row["id"]: Category(**row) for row in data["categories"]},
        {row["id"]: User(**row) for row in data["users"]},
        {row["id"]: Topic(**row) for row in data["topics"]},
        {row["id"]: Post(**row) for row in data["posts"]},
    )


def write(data: dict[str, Any], path: str | Path) -> None:
    """Gzip JSON with no timestamp or name in the header: the same forum gives the same bytes."""
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
        out.write(payload)


def read(path: str | Path) -> dict[str, Any]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data
