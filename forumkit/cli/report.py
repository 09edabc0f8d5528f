"""`forumkit report`: the publishable HTML report with its figures and tables."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Optional

import typer

from .common import app, codebook_option, err, one_line_errors, open_store, out, path_option, shown


@app.command()
@one_line_errors
def report(
    db: Path = path_option(Path("forum.db"), "--db", help="The forumkit store (scraped forum, pulled codes)."),
    project: Optional[int] = typer.Option(None, help="Coded data of this Label Studio project (default: the only "
                                                     "one pulled, if any)."),
    adjudicator: Optional[str] = typer.Option(None, help="This coder's codes decide the consensus."),
    coded: Optional[Path] = path_option(None, "--coded", help="Or: a coded table (CSV/Parquet) instead."),
    item_col: str = typer.Option("item", help="--coded: column of item (topic) ids."),
    code_col: str = typer.Option("code", help="--coded: column of code ids."),
    date_col: Optional[str] = typer.Option(None, help="--coded: column of dates (default: the topics' dates)."),
    category_col: Optional[str] = typer.Option(None, help="--coded: column of forum categories."),
    codebook: list[Path] = codebook_option([], help="roll codes up with it; repeatable (default: the project's)."),
    period: str = typer.Option("month", help="month, quarter or year."),
    change_at: Optional[str] = typer.Option(None, help="Compare before and after this date (YYYY-MM-DD)."),
    title: str = typer.Option("forumkit report", help="Title of the report."),
    out_dir: Path = path_option(Path("forumkit-work/report"), "--out", help="A folder (made if missing) for "
                                                                            "index.html, figures/ and tables/."),
) -> None:
    """Write a self-contained HTML report with figures (PNG, SVG) and tables (CSV).

    Taxonomy sunburst and counts with intervals, shares over time with trend tests, agreement, forum activity,
    model mentions, and the commands and data versions behind them. Example:
    forumkit report --db hf.db --project 1 --period quarter --out report/
    """
    from forumkit.analysis.report import ReportOptions
    from forumkit.analysis.report.study import CodedFile, report_study
    from forumkit.coding.codebook import load_codebook

    books = [load_codebook(p) for p in codebook]
    table = None if coded is None else CodedFile(coded, item=item_col, code=code_col, date=date_col,
                                                   category=category_col)
    command = " ".join(shlex.quote(a) for a in ["forumkit", *sys.argv[1:]])
    with open_store(db) as store:
        index = report_study(store, out_dir, coded=table, project=project, adjudicator=adjudicator, codebooks=books,
                             options=ReportOptions(period=period, change_at=change_at, title=title), command=command)
    out.print(f"report -> {shown(index)}")
    err.print(f"figures in {shown(out_dir / 'figures')}, tables in {shown(out_dir / 'tables')}")
