"""Export stored tables to CSV, Parquet or JSON Lines, streaming in batches.

Each exportable table is a list of :class:`Column` (name, SQL expression,
Arrow type, description): the single source of truth for the SQL, the file's
schema and the column documentation (docs/schema.md is generated from it, and a
test fails if it drifts). Rows are read and written in batches, so exporting a
store larger than memory works.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from forumkit.errors import UsageError
from forumkit.store import SCHEMA, Store

FORMATS = ("csv", "parquet", "jsonl")
BATCH = 50_000


@dataclass(frozen=True)
class Column:
    name: str
    sql: str
    type: pa.DataType
    doc: str


S, I, B = pa.string(), pa.int64(), pa.bool_()

_POST_FROM = """FROM posts p
  JOIN forums f ON f.id = p.forum_id
  LEFT JOIN topics t ON t.forum_id = p.forum_id AND t.id = p.topic_id
  LEFT JOIN categories c ON c.forum_id = t.forum_id AND c.id = t.category_id"""

TABLES: dict[str, tuple[list[Column], str, str]] = {
    "posts": ([
        Column("forum", "f.url", S, "base URL of the forum"),
        Column("post_id", "p.id", I, "the forum's post id (stable when posts move)"),
        Column("topic_id", "p.topic_id", I, "topic the post is in now"),
        Column("post_number", "p.post_number", I, "position in the topic, 1 = the opening post"),
        Column("post_type", "p.post_type", I, "1 regular, 2 moderator action, 3 small action (e.g. closed)"),
        Column("created_at", "p.created_at", S, "ISO-8601 UTC"),
        Column("updated_at", "p.updated_at", S, "ISO-8601 UTC of the last edit"),
        Column("version", "p.version", I, "1 + number of edits"),
        Column("user_id", "p.user_id", I, "author's user id"),
        Column("username", "p.username", S, "author's username"),
        Column("author_staff", "p.author_staff", B, "author was staff (admin or moderator) when fetched"),
        Column("author_admin", "p.author_admin", B, "author was an admin"),
        Column("author_moderator", "p.author_moderator", B, "author was a moderator"),
        Column("author_trust_level", "p.author_trust_level", I, "author's trust level 0-4"),
        Column("reply_to_post_number", "p.reply_to_post_number", I, "post number this post replies to"),
        Column("like_count", "p.like_count", I, "likes"),
        Column("reads", "p.reads", I, "times read"),
        Column("hidden", "p.hidden", B, "hidden after community flags (text is a placeholder)"),
        Column("user_deleted", "p.user_deleted", B, "withdrawn by its author (text is a placeholder)"),
        Column("accepted_answer", "p.accepted_answer", B, "marked as the topic's solution"),
        Column("text", "p.text", S, "the post's own words: no code blocks, no quotes of other posts"),
        Column("code", "p.code", S, "text of its code blocks"),
        Column("code_blocks", "p.code_blocks", I, "number of code blocks"),
        Column("inline_code", "p.inline_code", I, "number of inline code spans"),
        Column("quotes", "p.quotes", I, "number of quotes of other posts"),
        Column("links", "p.links", I, "number of links"),
        Column("images", "p.images", I, "number of images (emoji and avatars excluded)"),
        Column("oneboxes", "p.oneboxes", S, "JSON list of URLs shown as link previews"),
        Column("topic_title", "t.title", S, "title of its topic"),
        Column("category_id", "t.category_id", I, "its topic's category id"),
        Column("category", "c.name", S, "its topic's category name"),
    ], _POST_FROM, "p.removed_at IS NULL"),
    "topics": ([
        Column("forum", "f.url", S, "base URL of the forum"),
        Column("topic_id", "t.id", I, "the forum's topic id"),
        Column("title", "t.title", S, "title"),
        Column("slug", "t.slug", S, "URL slug"),
        Column("category_id", "t.category_id", I, "category id"),
        Column("category", "c.name", S, "category name"),
        Column("parent_category", "pc.name", S, "parent category name, for subcategories"),
        Column("created_at", "t.created_at", S, "ISO-8601 UTC"),
        Column("bumped_at", "t.bumped_at", S, "last activity that moved it up the list"),
        Column("last_posted_at", "t.last_posted_at", S, "time of its last post"),
        Column("user_id", "t.user_id", I, "original poster's user id"),
        Column("username", "u.username", S, "original poster's username"),
        Column("posts_count", "t.posts_count", I, "posts as the forum counts them"),
        Column("posts_stored", "(SELECT count(*) FROM posts p WHERE p.forum_id = t.forum_id AND p.topic_id = t.id"
               " AND p.removed_at IS NULL)", I, "posts in the store"),
        Column("reply_count", "t.reply_count", I, "replies as the forum counts them"),
        Column("views", "t.views", I, "views"),
        Column("like_count", "t.like_count", I, "likes on all its posts"),
        Column("tags", "(SELECT group_concat(tag, '|') FROM (SELECT tag FROM topic_tags g WHERE g.forum_id = t.forum_id"
               " AND g.topic_id = t.id ORDER BY tag))", S, "tags joined by |"),
        Column("has_accepted_answer", "t.has_accepted_answer", B, "has a post marked as solution"),
        Column("accepted_answer_post_number", "t.accepted_answer_post_number", I, "post number of the solution"),
        Column("closed", "t.closed", B, "closed to new replies"),
        Column("archived", "t.archived", B, "archived"),
        Column("pinned", "t.pinned", B, "pinned"),
    ], """FROM topics t
  JOIN forums f ON f.id = t.forum_id
  LEFT JOIN categories c ON c.forum_id = t.forum_id AND c.id = t.category_id
  LEFT JOIN categories pc ON pc.forum_id = c.forum_id AND pc.id = c.parent_id
  LEFT JOIN users u ON u.forum_id = t.forum_id AND u.id = t.user_id""", "t.removed_at IS NULL"),
    "mentions": ([
        Column("forum", "f.url", S, "base URL of the forum"),
        Column("post_id", "m.post_id", I, "post that mentions the model"),
        Column("topic_id", "m.topic_id", I, "its topic"),
        Column("post_number", "p.post_number", I, "position in the topic"),
        Column("created_at", "p.created_at", S, "post's creation time, ISO-8601 UTC"),
        Column("category", "c.name", S, "topic's category name"),
        Column("model", "m.model", S, "canonical model name from the vocabulary"),
        Column("in_title", "m.in_title", I, "mentions in the topic title (opening posts only)"),
        Column("in_text", "m.in_text", I, "mentions in the post's own words"),
        Column("in_code", "m.in_code", I, "mentions in its code blocks"),
    ], """FROM model_mentions m
  JOIN forums f ON f.id = m.forum_id
  JOIN posts p ON p.forum_id = m.forum_id AND p.id = m.post_id
  LEFT JOIN topics t ON t.forum_id = p.forum_id AND t.id = p.topic_id
  LEFT JOIN categories c ON c.forum_id = t.forum_id AND c.id = t.category_id""", "p.removed_at IS NULL"),
}

HTML_COLUMN = Column("cooked", "p.cooked", S, "the forum's HTML, unchanged (with --html)")


def columns(table: str, *, html: bool = False) -> list[Column]:
    if table not in TABLES:
        raise UsageError(f"unknown table '{table}'", hint=f"export one of: {', '.join(TABLES)}, coded, annotations")
    cols = list(TABLES[table][0])
    return cols + [HTML_COLUMN] if html and table == "posts" else cols


def _batches(store: Store, table: str, cols: list[Column]) -> Iterator[pa.RecordBatch]:
    _, source, where = TABLES[table]
    key = {"posts": "p.forum_id, p.id", "topics": "t.forum_id, t.id", "mentions": "m.forum_id, m.post_id, m.model"}
    sql = f"SELECT {', '.join(c.sql for c in cols)} {source} WHERE {where} ORDER BY {key[table]}"
    schema = pa.schema([(c.name, c.type) for c in cols])
    cursor = store.db.execute(sql)
    while rows := cursor.fetchmany(BATCH):
        arrays = []
        for i, col in enumerate(cols):
            values = [r[i] for r in rows]
            if col.type == B:
                values = [None if v is None else bool(v) for v in values]
            arrays.append(pa.array(values, type=col.type))
        yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def _output(out: str | Path) -> Path:
    """The file to write: not a folder, its folder created."""
    out = Path(out)
    if out.is_dir():
        raise UsageError(f"{out} is a folder", hint="give a file name for --out, e.g. posts.parquet")
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def export_table(store: Store, table: str, fmt: str, out: str | Path, *, html: bool = False) -> int:
    """Write ``table`` to ``out`` in ``fmt``; returns the number of rows written."""
    cols = columns(table, html=html)
    schema = pa.schema([(c.name, c.type) for c in cols])
    return write_batches(_batches(store, table, cols), schema, fmt, out)


def write_batches(batches: Iterator[pa.RecordBatch], schema: pa.Schema, fmt: str, out: str | Path) -> int:
    """Stream Arrow batches to ``out`` in ``fmt``; returns the rows written.

    The file appears under its name only when complete (written as ``.part``, then renamed).
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown format '{fmt}'", hint=f"use one of: {', '.join(FORMATS)}")
    out = _output(out)
    rows = 0
    tmp = out.with_name(out.name + ".part")
    if fmt in ("parquet", "csv"):
        writer_class = pq.ParquetWriter if fmt == "parquet" else pacsv.CSVWriter
        with writer_class(tmp, schema) as writer:
            for batch in batches:
                writer.write_batch(batch)
                rows += batch.num_rows
    else:
        with open(tmp, "w", encoding="utf-8") as fh:
            for batch in batches:
                for record in batch.to_pylist():
                    fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                rows += batch.num_rows
    tmp.replace(out)
    return rows


def write_frame(frame: pd.DataFrame, fmt: str, out: str | Path) -> int:
    """Write a DataFrame (the coded dataset, analysis tables) in one of FORMATS; returns its rows."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format '{fmt}'", hint=f"use one of: {', '.join(FORMATS)}")
    out = _output(out)
    tmp = out.with_name(out.name + ".part")
    if fmt == "parquet":
        frame.to_parquet(tmp, index=False)
    elif fmt == "csv":
        frame.to_csv(tmp, index=False)
    else:
        frame.to_json(tmp, orient="records", lines=True, force_ascii=False)
    tmp.replace(out)
    return len(frame)


def schema_markdown() -> str:
    """docs/schema.md: the store's tables and the columns of every export (a test keeps it in sync)."""
    lines = ["# The forumkit store and its exports", "",
             "Generated by `python -m forumkit.collect.export > docs/schema.md`; do not edit by hand.", "",
             "## SQLite tables", "", "Timestamps are ISO-8601 UTC strings as the forum gives them. "
             "Rows are keyed on the forum's own ids; nothing is deleted: posts and topics the forum "
             "stopped serving get `removed_at`.", "", "```sql", SCHEMA.strip(), "```", "",
             "## Exports (`forumkit export TABLE --format csv|parquet|jsonl --out PATH`)", "",
             "Exports hold live rows only (no `removed_at`).", ""]
    for table in TABLES:
        lines += [f"### `forumkit export {table}`", "", "| column | type | meaning |", "|---|---|---|"]
        for col in columns(table, html=True):
            lines.append(f"| `{col.name}` | {col.type} | {col.doc} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(schema_markdown())
