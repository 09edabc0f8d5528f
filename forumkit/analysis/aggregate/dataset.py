"""A store's coded data as files for other engines: the coded dataset, or the rows `forumkit aggregate` counts.

Two tables of one project, in one file (CSV, Parquet, JSON Lines) or as a hive-partitioned Parquet dataset
(:func:`~forumkit.collect.export.write_dataset`; partitioned by forum and month of the item's date):

* ``view=None``: the coded dataset of :func:`~forumkit.coding.coded.coded_items`, one row per item and applied
  code with its consensus decision (what ``forumkit export coded`` has always written);
* ``view="consensus"`` or ``"coders"``: the tidy rows :func:`~forumkit.analysis.aggregate.load_coded` gives
  (item, code, date, forum_category, coder, weight; items coded with no code keep one row without a code, so
  that denominators are complete) with the project. :meth:`Aggregator.fit_dataset
  <forumkit.analysis.aggregate.Aggregator.fit_dataset>` (``forumkit aggregate --dataset``) counts this one.

Every dataset also has the forum's key, its URL and the month (:data:`~forumkit.collect.export.DATASET_COLUMNS`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd
import pyarrow as pa

from forumkit.collect.export import (TABLES, export_partitioned, forum_key, month_of, partition_names,
                                     write_dataset, write_frame)
from forumkit.errors import UsageError
from forumkit.store import Store
from .load import VIEWS, load_coded

__all__ = ["CODED_TABLES", "export_coded", "export_dataset_table"]

CODED_TABLES = ("coded",)


def _project(store: Store, project: int | None) -> tuple[int, str]:
    """The project (the only one when not given) and its forum's base URL."""
    urls = store.project_forum_urls()
    if project is None:
        if len(urls) != 1:
            raise UsageError(f"{store.path} holds {len(urls)} Label Studio projects",
                             hint="choose one with --project N (see: forumkit studio projects)")
        project = next(iter(urls))
    if project not in urls:
        raise UsageError(f"{store.path} holds no project {project}", hint="see: forumkit studio projects")
    return project, urls[project]


def coded_frame(store: Store, project: int | None = None, *, view: str | None = None,
                adjudicator: str | None = None) -> pd.DataFrame:
    """The coded table of ``view`` (see the module) for one project, with the dataset's columns in front."""
    from forumkit.coding.coded import coded_items

    if view is not None and view not in VIEWS:
        raise UsageError(f"unknown view '{view}'", hint=f"use one of: {', '.join(VIEWS)}")
    project, url = _project(store, project)
    if view is None:
        frame = coded_items(store, project, adjudicator=adjudicator)
        dates = frame["created_at"]
    else:
        frame = load_coded(store=store, project=project, view=view, adjudicator=adjudicator)
        frame.insert(0, "project", project)
        dates = frame["date"]
    for column in frame.columns:  # plain values: a partitioned dataset has no dictionary columns
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype(object)
    front = pd.DataFrame({"forum": forum_key(url), "forum_url": url,
                          "month": month_of(dates).to_pandas(types_mapper=None).astype(object)}, index=frame.index)
    return pd.concat([front, frame], axis=1)


def export_coded(store: Store, out: str | Path, *, fmt: str = "parquet", partition_by: str | Sequence[str] = (),
                 project: int | None = None, view: str | None = None, adjudicator: str | None = None) -> int:
    """Write a project's coded table (``view``: see the module) to the file ``out`` in ``fmt``, or, with
    ``partition_by``, as a Parquet dataset in the folder ``out``; returns the rows written.

    Example::

        export_coded(store, "coded/", partition_by=["forum", "month"], view="consensus")
        Aggregator(period="quarter").fit_dataset("coded/", project_codebooks(store))
    """
    frame = coded_frame(store, project, view=view, adjudicator=adjudicator)
    if not partition_by:  # "" or ()
        return write_frame(frame.drop(columns=["forum", "forum_url", "month"]), fmt, out)
    if fmt != "parquet":
        raise UsageError(f"a partitioned dataset is Parquet, not {fmt}", hint="use --format parquet")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return write_dataset(table.to_batches(), table.schema, out, partition_names(partition_by), table="coded")


def export_dataset_table(store: Store, table: str, out: str | Path, *, fmt: str = "parquet",
                         partition_by: str | Sequence[str] = (), project: int | None = None, view: str | None = None,
                         adjudicator: str | None = None, html: bool = False) -> int:
    """`forumkit export TABLE` with ``--partition-by`` or ``--view``: posts, topics and mentions as datasets,
    the coded table as a file or a dataset; returns the rows written."""
    if table in TABLES:
        if view is not None:
            raise UsageError("--view chooses the coded rows", hint=f"leave it out for {table}")
        if not partition_by:
            raise UsageError("nothing to partition by", hint="give --partition-by forum,month")
        if fmt != "parquet":
            raise UsageError(f"a partitioned dataset is Parquet, not {fmt}", hint="use --format parquet")
        return export_partitioned(store, table, out, partition_names(partition_by), html=html)
    if table not in CODED_TABLES:
        raise UsageError(f"cannot partition the {table} export",
                         hint=f"partition one of: {', '.join([*TABLES, *CODED_TABLES])}")
    return export_coded(store, out, fmt=fmt, partition_by=partition_by, project=project, view=view,
                        adjudicator=adjudicator)
