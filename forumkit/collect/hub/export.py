"""Export the ``hub_models`` table to Parquet, CSV or JSON Lines, streaming in batches.

Columns are those of the table (see :data:`HUB_COLUMNS` for their meaning).
The JSON list columns (``base_models``, ``tags``, ``languages``,
``datasets``) are real lists in Parquet (``list<string>``) and JSON Lines,
and JSON strings in CSV, which has no lists. ``card_data`` is the card
metadata as a JSON string in every format (its keys differ from model to
model). Flags are booleans.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pyarrow as pa

from forumkit.errors import UsageError
from forumkit.collect.export import FORMATS, Column, write_batches
from forumkit.store import Store

BATCH = 20_000
S, I, B, L = pa.string(), pa.int64(), pa.bool_(), pa.list_(pa.string())

HUB_COLUMNS: list[Column] = [
    Column("endpoint", "endpoint", S, "Hub base URL, e.g. https://huggingface.co"),
    Column("id", "id", S, "repo id, org/name"),
    Column("author", "author", S, "user or organisation"),
    Column("created_at", "created_at", S, "ISO-8601 UTC as the Hub gives it; empty when missing"),
    Column("created_known", "created_known", B, "false when missing or the pre-2022-03 placeholder date"),
    Column("last_modified", "last_modified", S, "ISO-8601 UTC of the last commit"),
    Column("pipeline_tag", "pipeline_tag", S, "task, e.g. text-generation"),
    Column("library_name", "library_name", S, "e.g. transformers, diffusers"),
    Column("model_type", "model_type", S, "config.model_type (transformers architecture family)"),
    Column("base_models", "base_models", L, "base model ids (card base_model, or baseModels)"),
    Column("tags", "tags", L, "the Hub's tags"),
    Column("downloads", "downloads", I, "downloads (last 30 days, as listed)"),
    Column("likes", "likes", I, "likes"),
    Column("has_card", "has_card", B, "the model card has metadata (README front matter)"),
    Column("card_data", "card_data", S, "that metadata as JSON, as served"),
    Column("license", "license", S, "card license, else the license: tags (several joined by ,)"),
    Column("languages", "languages", L, "card language(s)"),
    Column("datasets", "datasets", L, "card dataset(s)"),
    Column("has_metrics", "has_metrics", B, "card metrics or evaluation results"),
    Column("has_model_index", "has_model_index", B, "card (or entry) has a model-index"),
    Column("fetched_at", "fetched_at", S, "when the collector stored this row, ISO-8601 UTC"),
]


def _schema(fmt: str) -> pa.Schema:
    return pa.schema([(c.name, S if (c.type == L and fmt == "csv") else c.type) for c in HUB_COLUMNS])


def _batches(store: Store, fmt: str, endpoint: str | None) -> Iterator[pa.RecordBatch]:
    schema = _schema(fmt)
    for rows in store.hub_model_rows([c.sql for c in HUB_COLUMNS], endpoint=endpoint, batch=BATCH):
        arrays = []
        for i, col in enumerate(HUB_COLUMNS):
            values = [r[i] for r in rows]
            if col.type == B:
                values = [None if v is None else bool(v) for v in values]
            elif col.type == L and fmt != "csv":
                values = [json.loads(v) for v in values]
            arrays.append(pa.array(values, type=schema.field(col.name).type))
        yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def export_hub_models(store: Store, fmt: str, out: str | Path, *, endpoint: str | None = None) -> int:
    """Write ``hub_models`` (of one endpoint, or all) to ``out`` in ``fmt``; returns the rows written."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format '{fmt}'", hint=f"use one of: {', '.join(FORMATS)}")
    return write_batches(_batches(store, fmt, endpoint), _schema(fmt), fmt, out)
