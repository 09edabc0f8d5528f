"""The aggregator's counting as SQL over a Parquet dataset: one SQL text, run by DuckDB here or by Spark anywhere.

:meth:`Aggregator.fit_dataset <forumkit.analysis.aggregate.Aggregator.fit_dataset>` counts what
:meth:`~forumkit.analysis.aggregate.Aggregator.fit` counts, in a database engine instead of in this process: the
distinct items per (period, group, node) cell, and per (period, group) for the denominators. What it needs
from Python are two small tables, registered in the engine: ``fk_nodes`` (every code -> the number of its node
at the chosen level: the codebook roll-up, :class:`~.rollup.Nodes`) and ``fk_groups`` (every spelling of a
group -> its group number, spellings of one forum category merged). The dataset itself is registered as
``fk_rows`` with the tidy columns (:data:`ROLES`) renamed through the engine's API, so that the SQL never
quotes a user's column name (DuckDB and Spark quote differently). The SQL (:func:`counting_sql`) depends only
on the aggregation's options, never on the engine: the engines run the same text.

Everything after the counting (the complete grid of periods, shares, Wilson intervals, population
estimates) is the in-memory path's own code (``Aggregator._finish``), so both paths give the same table.

Spark: a :class:`pyspark.sql.SparkSession` given by the caller is used as it is (its master decides where the
work runs: ``local[*]``, ``spark://host:7077``, ``yarn``, ``k8s://...``); otherwise one is started with the
given master, or the one ``spark-submit`` configured, and stopped at the end. The dataset's path must be
readable by every executor (shared storage: HDFS, S3, a network file system).
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Protocol

import numpy as np
import pandas as pd

from forumkit.errors import UsageError
from .counting import DEN, NO_CATEGORY, UNKNOWN
from .load import CONSENSUS
from .rollup import Nodes

if TYPE_CHECKING:
    from .estimator import Aggregator

__all__ = ["ENGINES", "ROLES", "DatasetCounts", "counting_sql", "count_dataset", "spark_session", "summary_sql",
           "vocabulary_sql"]

ENGINES = ("duckdb", "spark")
#: The tidy columns the SQL reads (those of :func:`~forumkit.analysis.aggregate.load_coded`); item and code are
#: required, the others optional: no date -> undated, no forum_category -> "(none)", no coder -> consensus,
#: no weight -> 1.0.
ROLES = ("item", "code", "date", "forum_category", "coder", "weight", "codebook_version", "round")
REQUIRED = ("item", "code")
SPARK_HINT = "install the extra: pip install 'forumkit[spark]' (Spark needs Java 17 or later)"

_PERIOD = {  # 1 + the period's ordinal, as counting.period_numbers computes it; 0 where there is no date
    None: "0",
    "month": "COALESCE(YEAR(date) * 12 + MONTH(date), 0)",
    "quarter": "COALESCE(CAST(FLOOR((YEAR(date) * 12 + MONTH(date) - 1) / 3) AS BIGINT) + 1, 0)",
    "year": "COALESCE(YEAR(date) + 1, 0)",
}
_GROUP = {None: "'all'",
          "forum_category": f"COALESCE(CAST(forum_category AS STRING), '{NO_CATEGORY}')",
          "coder": f"COALESCE(CAST(coder AS STRING), '{UNKNOWN}')",
          "codebook_version": f"COALESCE(CAST(codebook_version AS STRING), '{UNKNOWN}')",
          "round": f"COALESCE(CAST(round AS STRING), '{UNKNOWN}')"}
_DEFAULTS = {"date": "CAST(NULL AS TIMESTAMP)", "forum_category": "CAST(NULL AS STRING)",
             "coder": f"'{CONSENSUS}'", "weight": "CAST(1.0 AS DOUBLE)", "codebook_version": "CAST(NULL AS STRING)",
             "round": "CAST(NULL AS STRING)"}


def _rows(present: set[str]) -> str:
    """The dataset as the tidy columns: those it lacks get their defaults."""
    return "SELECT " + ", ".join(role if role in present else f"{_DEFAULTS[role]} AS {role}" for role in ROLES) + \
        " FROM fk_rows"


def summary_sql(present: set[str]) -> str:
    """In one pass: rows, distinct items, rows without an item, undated items, and the items whose weights
    are missing or disagree (an item has one sampling weight)."""
    return f"""WITH coded AS ({_rows(present)}),
per_item AS (
  SELECT item, COUNT(*) AS n, MIN(weight) AS lo, MAX(weight) AS hi,
         SUM(CASE WHEN weight IS NULL THEN 1 ELSE 0 END) AS unweighted,
         SUM(CASE WHEN date IS NULL THEN 1 ELSE 0 END) AS undated
  FROM coded GROUP BY item
)
SELECT SUM(n) AS n_rows,
       SUM(CASE WHEN item IS NULL THEN 0 ELSE 1 END) AS n_items,
       SUM(CASE WHEN item IS NULL THEN n ELSE 0 END) AS no_item,
       SUM(CASE WHEN item IS NOT NULL AND undated > 0 THEN 1 ELSE 0 END) AS n_undated,
       SUM(CASE WHEN item IS NOT NULL AND unweighted > 0 THEN 1 ELSE 0 END) AS unweighted,
       MIN(CASE WHEN item IS NOT NULL AND unweighted > 0 THEN CAST(item AS STRING) END) AS unweighted_example,
       SUM(CASE WHEN lo <> hi THEN 1 ELSE 0 END) AS conflicting,
       MIN(CASE WHEN lo <> hi THEN CAST(item AS STRING) END) AS conflicting_example
FROM per_item"""


def vocabulary_sql(present: set[str], by: str | None) -> str:
    """The distinct (code, group spelling) pairs with their rows: the codes to number (and to find those the
    codebooks lack) and the spellings of each group (the most frequent one names a forum category)."""
    return f"""SELECT CAST(code AS STRING) AS code, {_GROUP[by]} AS grp, COUNT(*) AS n
FROM ({_rows(present)}) coded GROUP BY CAST(code AS STRING), {_GROUP[by]}"""


def counting_sql(present: set[str], period: str | None, by: str | None, weighted: bool) -> str:
    """Distinct items (and their Σw, Σw² if ``weighted``) per (period, group, node) cell: the rows with
    ``kind = 'period'``; with periods, also per (group, node) over all dates, undated items included:
    ``kind = 'total'``. Node :data:`~.counting.DEN` holds the denominators (items coded at all).

    Keys are the distinct (period, group, node, item) of the rows, the codes rolled up by the join with
    ``fk_nodes``: an item with two codes under one node, or two spellings of one group, counts once. Each
    key carries its item's weight (one per item: :func:`summary_sql` checks it first), so that the sums need
    no join.
    """
    w = ", weight" if weighted else ""
    sums = ", SUM(weight) AS w, SUM(weight * weight) AS w2" if weighted else ", 0.0 AS w, 0.0 AS w2"
    text = f"""WITH coded AS ({_rows(present)}),
keyed AS (
  SELECT c.item, c.weight, {_PERIOD[period]} AS p, g.g, n.node
  FROM coded c
  JOIN fk_groups g ON g.grp = {_GROUP[by]}
  LEFT JOIN fk_nodes n ON n.code = CAST(c.code AS STRING)
),
keys AS (
  SELECT DISTINCT p, g, node, item{w} FROM keyed WHERE node IS NOT NULL
  UNION ALL
  SELECT DISTINCT p, g, {DEN} AS node, item{w} FROM keyed
)
SELECT 'period' AS kind, p, g, node, COUNT(*) AS n{sums}
FROM keys GROUP BY p, g, node"""
    if period is not None:
        text += f"""
UNION ALL
SELECT 'total' AS kind, 0 AS p, g, node, COUNT(*) AS n{sums}
FROM (SELECT DISTINCT g, node, item{w} FROM keys) k GROUP BY g, node"""
    return text


# -- engines ----------------------------------------------------------------------------------------------------------

class Engine(Protocol):
    """What the counting needs of a SQL engine: the dataset as ``fk_rows``, small tables, and query results."""

    def open(self, dataset: str) -> dict[str, str]:
        """Read the dataset's schema: column name -> type name, as the engine sees it."""

    def select(self, columns: Mapping[str, str]) -> None:
        """Register the opened dataset as ``fk_rows``, ``columns`` (role -> its column) renamed to their roles."""

    def register(self, name: str, frame: pd.DataFrame) -> None:
        """Register a small table (the codebook's nodes, the groups) under ``name``."""

    def rows(self, sql: str) -> list[tuple]:
        """Run ``sql``; its rows."""


def _missing_dataset(dataset: str) -> UsageError:
    return UsageError(f"no dataset {dataset}", hint="give the folder `forumkit export ... --partition-by` wrote")


class DuckDBEngine:
    """DuckDB in this process, reading the Parquet files in place (hive partitions as columns)."""

    def __init__(self) -> None:
        import duckdb

        self.duckdb = duckdb
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")  # periods are calendar periods in UTC
        self.rel: Any = None

    def open(self, dataset: str) -> dict[str, str]:
        path = Path(dataset)
        if not path.exists():
            raise _missing_dataset(dataset)
        pattern = str(path / "**" / "*.parquet") if path.is_dir() else str(path)
        try:
            self.rel = self.con.read_parquet(pattern, hive_partitioning=path.is_dir(), union_by_name=True)
        except self.duckdb.Error as exc:
            raise UsageError(f"cannot read {dataset} as a Parquet dataset: {exc}".splitlines()[0],
                             hint="give a folder of Parquet files (forumkit export ... --partition-by)") from exc
        return {name: str(kind) for name, kind in zip(self.rel.columns, self.rel.types)}

    def select(self, columns: Mapping[str, str]) -> None:
        self.rel.select(*(self.duckdb.ColumnExpression(column).alias(role) for role, column in columns.items())) \
            .create_view("fk_rows")

    def register(self, name: str, frame: pd.DataFrame) -> None:
        self.con.register(name, frame)

    def rows(self, sql: str) -> list[tuple]:
        return self.con.sql(sql).fetchall()


class SparkEngine:
    """A SparkSession: local, or a cluster's; the dataset read with Spark's own Parquet reader."""

    def __init__(self, spark: Any) -> None:
        self.spark = spark
        self.frame: Any = None

    def open(self, dataset: str) -> dict[str, str]:
        from pyspark.errors import PySparkException

        local = "://" not in dataset
        if local and not Path(dataset).exists():
            raise _missing_dataset(dataset)
        reader = self.spark.read.option("basePath", dataset) if local and Path(dataset).is_dir() else self.spark.read
        try:
            self.frame = reader.parquet(dataset)
        except PySparkException as exc:
            raise UsageError(f"Spark cannot read {dataset}: {exc}".splitlines()[0],
                             hint="give a Parquet dataset that every Spark executor can read") from exc
        return dict(self.frame.dtypes)

    def select(self, columns: Mapping[str, str]) -> None:
        from pyspark.sql import functions as F

        self.frame.select(*(F.col(f"`{column.replace('`', '``')}`").alias(role) for role, column in columns.items())) \
            .createOrReplaceTempView("fk_rows")

    def register(self, name: str, frame: pd.DataFrame) -> None:
        rows = [tuple(v.item() if isinstance(v, np.generic) else v for v in row)
                for row in frame.itertuples(index=False)]
        schema = ", ".join(f"{c} {'BIGINT' if frame[c].dtype.kind in 'iu' else 'STRING'}" for c in frame.columns)
        self.spark.createDataFrame(rows, schema).createOrReplaceTempView(name)

    def rows(self, sql: str) -> list[tuple]:
        return [tuple(row) for row in self.spark.sql(sql).collect()]


def _check_columns(dataset: str, types: Mapping[str, str], columns: Mapping[str, str]) -> None:
    absent = [column for column in columns.values() if column not in types]
    if absent:
        raise UsageError(f"the dataset {dataset} has no column '{absent[0]}' (columns: {', '.join(types)})",
                         hint="name its columns with --item-col, --code-col, --date-col, --category-col, "
                              "--coder-col, --weight-col, --version-col, --round-col")
    if "date" in columns and not types[columns["date"]].lower().startswith(("timestamp", "date")):
        raise UsageError(f"column '{columns['date']}' of the dataset {dataset} holds {types[columns['date']]}, "
                         "not timestamps", hint="write dates as Parquet timestamps, as `forumkit export coded "
                                                "--view consensus` does, or aggregate the table with --coded")


@contextmanager
def _utc(spark: Any) -> Iterator[None]:
    """Spark's session time zone set to UTC while counting (calendar periods are UTC), then set back."""
    key = "spark.sql.session.timeZone"
    before = spark.conf.get(key)
    spark.conf.set(key, "UTC")
    try:
        yield
    finally:
        spark.conf.set(key, before)


@contextmanager
def spark_session(master: str | None = None, *, config: Mapping[str, str] | None = None) -> Iterator[Any]:
    """The active SparkSession if there is one (spark-submit, a notebook), else a new one on ``master``
    (default: ``local[*]``, or what spark-submit configured), stopped on exit. Periods are in UTC."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise UsageError("--engine spark needs pyspark, which is not installed", hint=SPARK_HINT) from exc
    active = SparkSession.getActiveSession()
    if active is not None:
        yield active
        return
    builder = SparkSession.builder.appName("forumkit aggregate")
    if master:
        builder = builder.master(master)
    for key, value in {"spark.sql.session.timeZone": "UTC", "spark.ui.showConsoleProgress": "false",
                       **(config or {})}.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")  # Spark's warnings about its own set-up are not the user's
        if spark.sparkContext.master.startswith("local"):  # listing folders in Spark jobs pays on a cluster only
            spark.conf.set("spark.sql.sources.parallelPartitionDiscovery.threshold", "100000")
    except Exception as exc:  # pyspark raises its own runtime errors when Java or the master cannot be reached
        raise UsageError(f"cannot start Spark{f' on {master}' if master else ''}: {exc}".splitlines()[0],
                         hint="check the master URL and that Java 17+ is installed (JAVA_HOME); " + SPARK_HINT) from exc
    try:
        yield spark
    finally:
        spark.stop()


# -- counting ---------------------------------------------------------------------------------------------------------

class DatasetCounts:
    """What the engine counted: cells per period, per group over all dates, rows, items and undated items."""

    def __init__(self, cells: pd.DataFrame, totals: pd.DataFrame | None, names: list[str], n_rows: int,
                 n_items: int, n_undated: int) -> None:
        self.cells, self.totals, self.names = cells, totals, names
        self.n_rows, self.n_items, self.n_undated = n_rows, n_items, n_undated


def count_dataset(dataset: str | Path, agg: "Aggregator", nodes: Nodes, *, engine: str = "duckdb",
                  columns: Mapping[str, str] | None = None, spark: Any = None,
                  master: str | None = None) -> DatasetCounts:
    """Run the counting SQL for ``agg``'s options on ``engine`` over ``dataset`` (a folder of Parquet files,
    hive-partitioned or not, or one file). ``columns``: role (:data:`ROLES`) -> the dataset's column, for
    columns not named as their role (an optional role named by default may be absent; one named here must
    be there); ``spark``: a SparkSession to use, else :func:`spark_session` on ``master``."""
    if engine not in ENGINES:
        raise UsageError(f"unknown engine '{engine}'", hint=f"use one of: {', '.join(ENGINES)}")
    given = dict(columns or {})
    unknown = [role for role in given if role not in ROLES]
    if unknown:
        raise UsageError(f"unknown column role '{unknown[0]}'", hint=f"roles are: {', '.join(ROLES)}")
    if engine == "duckdb":
        try:
            runner = DuckDBEngine()
        except ImportError as exc:
            raise UsageError("the DuckDB engine needs duckdb, which is not installed",
                             hint="pip install duckdb") from exc
        return _count(runner, str(dataset), agg, nodes, given)
    with (nullcontext(spark) if spark is not None else spark_session(master)) as session, _utc(session):
        return _count(SparkEngine(session), str(dataset), agg, nodes, given)


def _count(engine: Engine, dataset: str, agg: "Aggregator", nodes: Nodes, given: dict[str, str]) -> DatasetCounts:
    types = engine.open(dataset)
    columns = {role: given.get(role, role) for role in ROLES
               if role in given or role in REQUIRED or role in types}
    _check_columns(dataset, types, columns)
    engine.select(columns)
    present = set(columns)
    summary = dict(zip(("n_rows", "n_items", "no_item", "n_undated", "unweighted", "unweighted_example",
                        "conflicting", "conflicting_example"), engine.rows(summary_sql(present))[0]))
    _check_summary(summary, agg.extrapolate)
    vocabulary = pd.DataFrame(engine.rows(vocabulary_sql(present, agg.by)), columns=["code", "grp", "n"])
    codes = sorted(vocabulary["code"].dropna().unique())
    nodes.encode(pd.Series(codes, dtype=object))  # unknown codes: the in-memory path's error; new ones numbered
    engine.register("fk_nodes", pd.DataFrame({"code": pd.Series(list(nodes.lookup), dtype=object),
                                              "node": np.array(list(nodes.lookup.values()), dtype=np.int64)}))
    spellings = vocabulary.groupby("grp", sort=True)["n"].sum()
    names, merged = agg._group_names([str(s) for s in spellings.index], spellings.to_numpy(np.int64))
    engine.register("fk_groups", pd.DataFrame({"grp": pd.Series(list(spellings.index), dtype=object),
                                               "g": merged.astype(np.int64)}))
    result = pd.DataFrame(engine.rows(counting_sql(present, agg.period, agg.by, agg.extrapolate)),
                          columns=["kind", "p", "g", "node", "n", "w", "w2"])
    result = result.astype({"p": "int64", "g": "int64", "node": "int64", "n": "int64", "w": "float64",
                            "w2": "float64"})
    keep = ["p", "g", "node", "n"] + (["w", "w2"] if agg.extrapolate else [])
    cells = result.loc[result["kind"] == "period", keep].reset_index(drop=True)
    totals = result.loc[result["kind"] == "total", keep].reset_index(drop=True) if agg.period is not None else None
    return DatasetCounts(cells, totals, names, int(summary["n_rows"]), int(summary["n_items"]),
                         int(summary["n_undated"]) if agg.period is not None else 0)


def _check_summary(summary: dict, weighted: bool) -> None:
    if not summary["n_rows"]:
        raise UsageError("the coded table is empty", hint="check the input holds coded rows")
    if summary["no_item"]:
        raise UsageError(f"{summary['no_item']} rows of the coded table have no item",
                         hint="every row needs an item id")
    if weighted and summary["unweighted"]:
        raise UsageError(f"{summary['unweighted']} coded items have no sampling weight (e.g. item "
                         f"{summary['unweighted_example']})",
                         hint="extrapolate a project pushed from a saved sample, or give weights")
    if weighted and summary["conflicting"]:
        raise UsageError(f"{summary['conflicting']} coded items have rows with different sampling weights (e.g. "
                         f"item {summary['conflicting_example']})", hint="give each item one weight")
