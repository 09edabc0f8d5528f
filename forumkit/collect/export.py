"""Export stored tables to CSV, Parquet or JSON Lines files, or to partitioned Parquet datasets, in batches.

Each exportable table is a list of :class:`Column` (name, SQL expression, Arrow type, description) built from
the store's :data:`~forumkit.store.exports.EXPORT_TABLES`: the single source of truth for the query, the
file's schema and the column documentation (docs/schema.md is generated from it, and a test fails if it
drifts). Rows are read and written in batches, so exporting a store larger than memory works.

A dataset (:func:`export_partitioned`, :func:`write_dataset`) is a folder of Parquet files in hive layout,
``forum=discuss.huggingface.co/month=2023-01/part-0.parquet``, which DuckDB, Spark, pandas and pyarrow
read as one table, reading only the folders a query needs. It is what scales past one machine: put it
on storage a cluster shares and run ``forumkit aggregate --dataset`` there.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence
from urllib.parse import urlsplit

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from forumkit.errors import UsageError
from forumkit.store import SCHEMA, Store
from forumkit.store.exports import EXPORT_TABLES, ExportColumn
from forumkit.store.exports import HTML_COLUMN as STORE_HTML_COLUMN

FORMATS = ("csv", "parquet", "jsonl")
BATCH = 50_000
#: What a dataset can be partitioned by: the forum's key (a folder-safe host name) and the UTC month created.
PARTITIONS = ("forum", "month")
#: The file in a dataset's folder that says forumkit wrote it (readers skip names starting with _).
MARKER = "_forumkit.json"
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"  # the folder of rows without a value, as Hive names it
GROUP_ROWS = 128_000  # rows per Parquet row group in a dataset, at most
OPEN_FILES = 64  # Parquet files a dataset export keeps open at once
#: Columns every dataset has besides its table's (as partition folders or in the files).
DATASET_COLUMNS = (
    ("forum", "the forum's key: its host name (and port, path), safe as a folder name, e.g. discuss.huggingface.co"),
    ("forum_url", "base URL of the forum"),
    ("month", "YYYY-MM (UTC) of created_at (coded rows: of the item's date); missing when there is none "
              "(Hive's folder `month=__HIVE_DEFAULT_PARTITION__`)"),
)


@dataclass(frozen=True)
class Column:
    """An exported column: its name, the SQL that reads it, its Arrow type and what it means."""

    name: str
    sql: str
    type: pa.DataType
    doc: str


S, I, B = pa.string(), pa.int64(), pa.bool_()
_ARROW = {"text": S, "int": I, "bool": B}


def _column(col: ExportColumn) -> Column:
    return Column(col.name, col.sql, _ARROW[col.kind], col.doc)


#: table -> its columns (the store's :data:`~forumkit.store.exports.EXPORT_TABLES`, with Arrow types)
TABLES: dict[str, list[Column]] = {table: [_column(c) for c in spec[0]] for table, spec in EXPORT_TABLES.items()}
HTML_COLUMN = _column(STORE_HTML_COLUMN)


def columns(table: str, *, html: bool = False) -> list[Column]:
    if table not in TABLES:
        raise UsageError(f"unknown table '{table}'", hint=f"export one of: {', '.join(TABLES)}, coded, annotations")
    cols = list(TABLES[table])
    return cols + [HTML_COLUMN] if html and table == "posts" else cols


def _batches(store: Store, table: str, cols: list[Column]) -> Iterator[pa.RecordBatch]:
    schema = pa.schema([(c.name, c.type) for c in cols])
    for rows in store.export_rows(table, BATCH, html=cols[-1] is HTML_COLUMN):
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



# -- partitioned datasets ---------------------------------------------------------------------------------------------

def partition_names(value: str | Sequence[str]) -> tuple[str, ...]:
    """``"forum,month"`` (or a list) as a tuple of partition columns, checked against :data:`PARTITIONS`."""
    names = tuple(n.strip() for part in ([value] if isinstance(value, str) else value) for n in part.split(",")
                  if n.strip())
    bad = [n for n in names if n not in PARTITIONS]
    if bad or len(set(names)) != len(names) or not names:
        raise UsageError(f"cannot partition by '{','.join(names) or value}'",
                         hint=f"partition by {', '.join(PARTITIONS)} or both, comma-separated, e.g. forum,month")
    return names


def forum_key(url: str) -> str:
    """A forum's base URL as a folder name: host (and port, path) with anything but letters, digits, dots and
    dashes turned into ``_``; ``https://discuss.huggingface.co`` -> ``discuss.huggingface.co``."""
    parts = urlsplit(url if "//" in url else f"//{url}")
    raw = parts.netloc + parts.path.rstrip("/")
    return re.sub(r"[^A-Za-z0-9.-]+", "_", raw).strip("_.") or "forum"


def month_of(dates: pa.Array | pd.Series) -> pa.Array:
    """YYYY-MM in UTC of each date (ISO-8601 strings with any offset, or timestamps); null where there is none."""
    values = dates.to_pandas() if isinstance(dates, (pa.Array, pa.ChunkedArray)) else pd.Series(dates)
    if not isinstance(values.dtype, pd.DatetimeTZDtype):
        values = pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")
    months = values.dt.tz_convert("UTC").dt.strftime("%Y-%m")
    return pa.array(months.where(values.notna(), None).astype(object), type=pa.string())


def dataset_batch(batch: pa.RecordBatch, url_column: str, date_column: str) -> pa.RecordBatch:
    """``batch`` with the dataset's columns (:data:`DATASET_COLUMNS`) first: forum key and URL (from
    ``url_column``, which is dropped) and the month of ``date_column``."""
    urls = batch.column(url_column).to_pylist()
    keys = {url: forum_key(url) for url in set(urls) if url is not None}
    rest = [name for name in batch.schema.names if name != url_column]
    return pa.RecordBatch.from_arrays(
        [pa.array([keys.get(u) for u in urls], pa.string()), pa.array(urls, pa.string()),
         month_of(batch.column(date_column))] + [batch.column(name) for name in rest],
        names=["forum", "forum_url", "month"] + rest)


def _dataset_marker(out: Path) -> dict | None:
    """What forumkit wrote in ``out`` before (None for a new or empty folder); UsageError for a file, or for a
    folder forumkit did not write (it is never replaced)."""
    if out.is_file():
        raise UsageError(f"{out} is a file", hint="a partitioned dataset is a folder: give a folder name for --out")
    if not out.is_dir() or not any(out.iterdir()):
        return None
    try:
        return json.loads((out / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{out} is a folder forumkit did not write",
                         hint="give a new (or empty) folder for --out; a dataset forumkit wrote is updated") from exc


def _install(new: Path, out: Path, old: dict | None, marker: dict, trash: Path) -> None:
    """Move the complete dataset ``new`` to ``out``. A dataset of the same table, partitioned by forum first
    with the same columns, keeps its other forums: only the forums written now are replaced, so that stores
    of many forums (each collected by its own job) export into one dataset. Otherwise ``out`` is replaced,
    unless that would drop forums this export does not hold, or it holds another table."""
    trash.mkdir()
    if old is not None and old.get("table") != marker["table"]:
        raise UsageError(f"{out} holds the {old.get('table')} dataset, not {marker['table']}",
                         hint="give each table its own folder for --out")
    merge = old is not None and marker["partition_by"][0] == "forum" and \
        (old.get("partition_by"), old.get("columns")) == (marker["partition_by"], marker["columns"])
    if merge:
        for folder in sorted(p for p in new.iterdir() if p.is_dir()):
            if (out / folder.name).exists():
                (out / folder.name).replace(trash / folder.name)
            folder.replace(out / folder.name)
        return
    if old is not None and old.get("partition_by", [""])[0] == "forum":
        lost = {p.name for p in out.iterdir() if p.is_dir()} - {p.name for p in new.iterdir() if p.is_dir()}
        if lost:
            raise UsageError(f"{out} holds forums this export does not ({', '.join(sorted(lost))}) and other "
                             "columns or partitions", hint="write to a new folder, or remove the old dataset")
    if out.exists():
        out.replace(trash / "dataset")
    new.replace(out)


class _PartitionFiles:
    """Parquet files in partition folders, written batch after batch in the calling thread (the store's SQLite
    connection may not be used from another one).

    Rows come in the store's order (forum, then id: about the order of time), so a partition's rows mostly
    come together: a partition's buffered rows are written as one row group when a batch brings none of its
    rows, or when they reach :data:`GROUP_ROWS`. Memory holds about one batch; at most :data:`OPEN_FILES`
    files are open (a partition met again after its file was closed gets a second file, ``part-1.parquet``).
    """

    def __init__(self, root: Path, schema: pa.Schema, partition_by: Sequence[str]) -> None:
        self.root, self.partition_by = root, list(partition_by)
        self.schema = pa.schema([f for f in schema if f.name not in partition_by])  # the folders hold those
        self.writers: dict[tuple, pq.ParquetWriter] = {}  # open files, least recently written first
        self.files: dict[tuple, int] = {}  # files written per partition
        self.pending: dict[tuple, list[pa.Table]] = {}

    def write(self, batch: pa.RecordBatch) -> None:
        table = pa.Table.from_batches([batch])
        keys = table.select(self.partition_by).to_pandas().astype(object)
        groups = keys.groupby(self.partition_by, sort=False, dropna=False).indices
        touched = set()
        for values, rows in groups.items():
            values = values if isinstance(values, tuple) else (values,)
            key = tuple(None if pd.isna(v) else str(v) for v in values)
            touched.add(key)
            self.pending.setdefault(key, []).append(table.take(pa.array(rows)).select(self.schema.names))
            if sum(t.num_rows for t in self.pending[key]) >= GROUP_ROWS:
                self._flush(key)
        for key in [k for k in self.pending if k not in touched]:
            self._flush(key)

    def _flush(self, key: tuple) -> None:
        parts = self.pending.pop(key, [])
        if not parts:
            return
        writer = self.writers.pop(key, None)
        if writer is None:
            if len(self.writers) >= OPEN_FILES:
                self.writers.pop(next(iter(self.writers))).close()
            folder = self.root.joinpath(*(f"{name}={NULL_PARTITION if value is None else value}"
                                          for name, value in zip(self.partition_by, key)))
            folder.mkdir(parents=True, exist_ok=True)
            number = self.files.get(key, 0)
            self.files[key] = number + 1
            writer = pq.ParquetWriter(folder / f"part-{number}.parquet", self.schema)
        self.writers[key] = writer  # now the most recently written
        writer.write_table(pa.concat_tables(parts))

    def close(self) -> None:
        for key in list(self.pending):
            self._flush(key)
        for writer in self.writers.values():
            writer.close()


def write_dataset(batches: Iterable[pa.RecordBatch], schema: pa.Schema, out: str | Path,
                  partition_by: Sequence[str], *, table: str) -> int:
    """Write Arrow batches as a hive-partitioned Parquet dataset in the folder ``out``; returns the rows.

    Files in partition folders (``forum=KEY/month=YYYY-MM/part-0.parquet``; a missing value is Hive's
    ``__HIVE_DEFAULT_PARTITION__``), the partition columns in the folder names only, as Hive, Spark, DuckDB
    and pyarrow expect. The dataset is written beside ``out`` and moved in place when complete, so ``out``
    never holds half of one. A dataset forumkit wrote there before (it has :data:`MARKER`) is updated
    (partitioned by forum first, the forums written now replace theirs and the others stay) or replaced;
    any other folder is refused.
    """
    out = Path(out)
    partition_by = partition_names(partition_by)
    old = _dataset_marker(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        files = _PartitionFiles(tmp / "data", schema, partition_by)
        (tmp / "data").mkdir()
        rows = 0
        try:
            for batch in batches:
                files.write(batch)
                rows += batch.num_rows
        finally:
            files.close()
        marker = {"table": table, "partition_by": list(partition_by), "columns": schema.names}
        (tmp / "data" / MARKER).write_text(json.dumps(marker, indent=1) + "\n", encoding="utf-8")
        _install(tmp / "data", out, old, marker, tmp / "old")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


def dataset_schema(cols: Sequence[Column]) -> pa.Schema:
    """The schema of a table's dataset: :data:`DATASET_COLUMNS` first, the table's URL column dropped."""
    return pa.schema([("forum", S), ("forum_url", S), ("month", S)]
                     + [(c.name, c.type) for c in cols if c.name != "forum"])


def export_partitioned(store: Store, table: str, out: str | Path, partition_by: Sequence[str], *,
                       html: bool = False) -> int:
    """Write ``table`` (posts, topics, mentions) as a hive-partitioned Parquet dataset in the folder ``out``,
    partitioned by ``partition_by`` (:data:`PARTITIONS`); returns the rows written.

    Example::

        export_partitioned(store, "posts", "posts/", ["forum", "month"])
        # posts/forum=discuss.huggingface.co/month=2023-01/part-0.parquet, ...
    """
    cols = columns(table, html=html)
    batches = (dataset_batch(batch, "forum", "created_at") for batch in _batches(store, table, cols))
    return write_dataset(batches, dataset_schema(cols), out, partition_by, table=table)


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
    lines += ["## Partitioned datasets (`forumkit export TABLE --format parquet --partition-by forum,month "
              "--out FOLDER`)", "",
              "A folder of Parquet files in hive layout (`forum=KEY/month=YYYY-MM/part-0.parquet`), one table to "
              "DuckDB, Spark, pandas and pyarrow. Its columns are the table's, with `forum` (the URL) replaced "
              "by these three, in the files or as partition folders:", "", "| column | type | meaning |",
              "|---|---|---|"]
    lines += [f"| `{name}` | string | {doc} |" for name, doc in DATASET_COLUMNS]
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(schema_markdown())
