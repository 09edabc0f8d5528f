"""`forumkit export`: collected tables, the coded dataset, the REFI-QDA project and codebooks, to files."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import app, err, one_line_errors, open_store, path_option, shown

# Spelled out here so that `forumkit --help` needs no pandas; tests/test_cli.py checks them against the library.
EXPORT_NAMES = "posts, topics, mentions, coded, annotations, qdpx, qdc, taguette"
FORMAT_NAMES = "csv, parquet, jsonl"


@app.command("export")
@one_line_errors
def export_cmd(
    table: str = typer.Argument(..., help=f"What to export: {EXPORT_NAMES}."),
    db: Path = path_option(Path("forum.db"), "--db", help="SQLite store to read."),
    format: str = typer.Option("csv", "--format", "-f", help=f"One of: {FORMAT_NAMES} (not for qdpx, qdc, "
                                                            "taguette)."),
    out_path: Path = path_option(..., "--out", "-o", help="The one file to write (a table, a .qdpx project, a .qdc "
                                                          "or .csv codebook); "
                                                          "with --partition-by, the dataset's folder."),
    html: bool = typer.Option(False, "--html", help="Add the original HTML (posts only)."),
    project: Optional[int] = typer.Option(None, help="coded/annotations/qdpx/qdc/taguette: only this project."),
    adjudicator: Optional[str] = typer.Option(None, help="coded: this coder's codes decide the consensus."),
    partition_by: Optional[str] = typer.Option(None, "--partition-by", help="posts, topics, mentions, coded: write "
                                               "a hive-partitioned Parquet dataset (a folder) by forum, month or "
                                               "forum,month; DuckDB and Spark read it as one table."),
    view: Optional[str] = typer.Option(None, help="coded: the rows `forumkit aggregate` counts instead, "
                                                  "consensus (each item's agreed codes) or coders (every coder's)."),
) -> None:
    """Export posts, topics, model mentions or the coded dataset to CSV, Parquet or JSON Lines.

    `coded` has one row per item and code with a consensus column; `annotations` one row per
    annotation and code. Example: forumkit export posts --db hf.db --format parquet --out posts.parquet

    `qdpx` writes a REFI-QDA project for ATLAS.ti, MAXQDA, NVivo or QualCoder (--format is ignored).
    Example: forumkit export qdpx --db hf.db --project 1 --out study.qdpx

    `qdc` writes the project's codebooks as a REFI-QDA codebook (.qdc) for the same tools; `taguette` as the
    CSV that Taguette's "Import codebook" reads (tags Category/Subcategory, one-line descriptions).
    Example: forumkit export taguette --db hf.db --project 1 --out codebook.csv

    A dataset for DuckDB or Spark (`forumkit aggregate --dataset`), one folder per forum and month; stores of
    other forums can export into the same folder. Example: forumkit export coded --db hf.db --project 1
    --view consensus --format parquet --partition-by forum,month --out lake/coded
    """
    if partition_by is not None or view is not None:
        from forumkit.analysis.aggregate.dataset import export_dataset_table

        with open_store(db) as store:
            rows = export_dataset_table(store, table, out_path, fmt=format, partition_by=partition_by or (),
                                        project=project, view=view, adjudicator=adjudicator, html=html)
        err.print(f"{rows} {table} rows -> {shown(out_path)}")
        return
    from forumkit.coding.export import export_dataset

    with open_store(db) as store:
        result = export_dataset(store, table, out_path, format=format, html=html, project=project,
                                adjudicator=adjudicator)
    if result.what in ("qdc", "taguette"):
        err.print(f"{result.rows} codes -> {shown(result.path)}")
    elif result.what == "qdpx":
        err.print(f"{result.rows} sources, {result.codings} codings by {result.coders} coders -> {shown(result.path)}")
    else:
        err.print(f"{result.rows} {result.what} rows -> {shown(result.path)}")
