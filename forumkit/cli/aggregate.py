"""`forumkit aggregate`: how often each category, subcategory or code was coded, per period, with intervals."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from forumkit.errors import UsageError
from .common import app, codebook_option, err, one_line_errors, open_store, out, path_option, shown

TOP_ROWS = 15


@app.command()
@one_line_errors
def aggregate(
    db: Optional[Path] = path_option(None, "--db", help="The forumkit store: its pulled project, or (with "
                                                        "--coded) the dates and categories of the file's items."),
    project: Optional[int] = typer.Option(None, help="forumkit's project id (see `studio projects`)."),
    view: Optional[str] = typer.Option(None, help="consensus (each item's agreed codes) or coders (every "
                                                  "coder's own); default: consensus."),
    adjudicator: Optional[str] = typer.Option(None, help="Coder whose codes decide the items they coded."),
    coded: Optional[Path] = path_option(None, "--coded", help="A coded table instead: CSV or Parquet, read in "
                                                              "batches."),
    item_col: str = typer.Option("item", "--item-col", help="Column of item ids in --coded."),
    code_col: str = typer.Option("code", "--code-col", help="Column of codes in --coded."),
    date_col: Optional[str] = typer.Option(None, "--date-col", help="Column of dates in --coded (ISO-8601 or "
                                                                    "epoch seconds); default: from --db by item."),
    category_col: Optional[str] = typer.Option(None, "--category-col", help="Column of forum categories in "
                                                                            "--coded; default: from --db by item."),
    coder_col: Optional[str] = typer.Option(None, "--coder-col", help="Column of coders in --coded."),
    weight_col: Optional[str] = typer.Option(None, "--weight-col", help="Column of sampling weights in --coded."),
    version_col: Optional[str] = typer.Option(None, "--version-col", help="Column of codebook versions in --coded "
                                                                          "(for --by-version)."),
    round_col: Optional[str] = typer.Option(None, "--round-col", help="Column of coding rounds in --coded "
                                                                      "(for --by round)."),
    unit: str = typer.Option("topic", help="What --coded items are, to look them up in --db: topic or post."),
    codebooks: list[Path] = codebook_option([], help="roll codes up with it; repeatable (default: the project's "
                                                     "own, else none)."),
    level: str = typer.Option("category", help="category, subcategory or code."),
    period: str = typer.Option("month", help="month, quarter, year (calendar, UTC) or none."),
    by: Optional[str] = typer.Option(None, help="Also split by forum_category, coder, codebook_version or round "
                                                "(the coding round of each code's project: 'round N', or "
                                                "'project N' outside rounds; without --project: every project)."),
    by_version: bool = typer.Option(False, "--by-version", help="Split by the codebook version each code was "
                                                                "given under (the same as --by codebook_version)."),
    confidence: float = typer.Option(0.95, help="Confidence level of the Wilson intervals."),
    extrapolate: bool = typer.Option(False, "--extrapolate", help="Add population estimates from the sampling "
                                                                  "weights (est_total, est_low, est_high)."),
    renames: Optional[Path] = path_option(None, "--renames", help="YAML of forum category renames "
                                                                  "(old name: new name)."),
    out_path: Path = path_option(..., "--out", "-o", help="The one table to write: .csv, .parquet, .tex or .md."),
    dataset: Optional[str] = typer.Option(None, "--dataset", help="A Parquet dataset instead (a folder, e.g. from "
                                          "`export coded --view consensus --partition-by forum,month`), counted "
                                          "with SQL by --engine; on Spark also hdfs://, s3a:// paths."),
    engine: Optional[str] = typer.Option(None, help="With --dataset: duckdb (this machine, default) or spark."),
    spark_master: Optional[str] = typer.Option(None, "--spark-master", help="With --engine spark: the cluster, "
                                               "e.g. spark://host:7077, yarn, k8s://...; default local[*], or what "
                                               "spark-submit set."),
) -> None:
    """Count coded items per category (or subcategory, code) and period, with Wilson intervals.

    From a store's pulled Label Studio project (--db) or any coded CSV/Parquet file (--coded, read in batches).
    Every period from the first to the last is listed, empty ones as zeros (--period none: one row per code).
    Prints the most frequent codes and writes the whole table to --out.
    Example: forumkit aggregate --db hf.db --project 1 --level category --period quarter --out categories.csv

    Beyond one machine: --dataset counts a Parquet dataset with the same SQL on DuckDB or on Spark, and gives
    the same table. On a cluster, put the dataset on shared storage and name the master, or run this command
    through spark-submit. Example: forumkit aggregate --dataset hdfs:///lake/coded --engine spark
    --spark-master yarn --codebook hf-challenges --period quarter --out q.csv
    """
    from forumkit.analysis.aggregate import (Aggregator, every_project_codebooks, iter_coded,  # pandas: when needed
                                             project_codebooks, table_format)
    from forumkit.analysis.categories import load_renames
    from forumkit.coding.codebook import load_codebook

    if coded is None and db is None and dataset is None:
        raise UsageError("nothing to aggregate", hint="give a store (--db FILE), a coded table (--coded FILE) or a "
                                                      "dataset (--dataset FOLDER)")
    table_format(out_path)  # an unknown suffix fails now, not after the work
    if by_version:
        if by not in (None, "codebook_version"):
            raise UsageError(f"--by-version and --by {by} both split the counts", hint="give one of them")
        by = "codebook_version"
    books = [load_codebook(path) for path in codebooks]
    names = load_renames(renames) if renames is not None else None
    estimator = Aggregator(level=level, period=None if period.lower() == "none" else period, by=by,
                           confidence=confidence, extrapolate=extrapolate)
    if dataset is not None:
        store_only = {"--db": db, "--coded": coded, "--project": project, "--view": view,
                      "--adjudicator": adjudicator, "--renames": renames}
        given = [name for name, value in store_only.items() if value is not None]
        if given:
            raise UsageError(f"{given[0]} does not apply to --dataset", hint="the dataset holds the rows to count; "
                                                                          "leave it out")
        columns = {role: column for role, column in (("item", item_col), ("code", code_col), ("date", date_col),
                                                     ("forum_category", category_col), ("coder", coder_col),
                                                     ("weight", weight_col), ("codebook_version", version_col),
                                                     ("round", round_col))
                   if column}
        estimator.fit_dataset(dataset, books or None, engine=engine or "duckdb", columns=columns,
                              master=spark_master)
        _show(estimator, out_path, level=level, by=by, confidence=confidence)
        return
    if engine is not None or spark_master is not None:
        raise UsageError("--engine and --spark-master count a --dataset", hint="give --dataset FOLDER")
    every_project = by == "round" and coded is None and project is None  # rounds: every project's codes
    with open_store(db) if db is not None else nullcontext() as store:
        if not books and coded is None:
            books = every_project_codebooks(store) if every_project else project_codebooks(store, project)
        chunks = iter_coded(coded, store=store, project=project, view=view, adjudicator=adjudicator, item=item_col,
                            code=code_col, date=date_col, category=category_col, coder=coder_col, weight=weight_col,
                            unit=unit, renames=names, version=version_col, round=round_col,
                            every_project=every_project)
        estimator.fit(chunks, books or None)
    _show(estimator, out_path, level=level, by=by, confidence=confidence)


def _show(estimator, out_path: Path, *, level: str, by: Optional[str], confidence: float) -> None:
    """Write the table and print its most frequent codes."""
    from forumkit.analysis.aggregate import write_table

    table = estimator.counts_ if estimator.period is not None else estimator.totals_
    write_table(table, out_path)
    top = estimator.totals_.sort_values("n", ascending=False, kind="stable").head(TOP_ROWS)
    with_ids = bool((top["code_id"] != top["name"]).any())  # without a codebook a code is its own name
    plural = {"category": "categories", "subcategory": "subcategories", "code": "codes"}.get(level, level)
    top_table = Table(*(["group"] if by else []), *(["code"] if with_ids else []), "name", "items", "of", "share",
                      f"{confidence:.0%} CI", title=f"most frequent {plural}, all dates "
                                                    f"({estimator.n_items_} items, {estimator.n_rows_} rows)")
    for row in top.itertuples(index=False):
        top_table.add_row(*([str(row.group)] if by else []), *([str(row.code_id)] if with_ids else []),
                          str(row.name), str(row.n), str(row.n_items), f"{row.share:.3f}",
                          f"{row.ci_low:.3f} – {row.ci_high:.3f}")
    out.print(top_table)
    err.print(f"{len(table)} rows written to {shown(out_path)}", highlight=False)
