"""`forumkit report`: the publishable HTML report with its figures and tables."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Optional

import typer

from .common import app, err, one_line_errors, open_store, out


@app.command()
@one_line_errors
def report(
    db: Path = typer.Option(Path("forum.db"), "--db", help="The forumkit store (scraped forum, pulled codes)."),
    project: Optional[int] = typer.Option(None, help="Coded data of this Label Studio project (default: the only "
                                                     "one pulled, if any)."),
    adjudicator: Optional[str] = typer.Option(None, help="This coder's codes decide the consensus."),
    coded: Optional[Path] = typer.Option(None, "--coded", help="Or: a coded table (CSV/Parquet) instead."),
    item_col: str = typer.Option("item", help="--coded: column of item (topic) ids."),
    code_col: str = typer.Option("code", help="--coded: column of code ids."),
    date_col: Optional[str] = typer.Option(None, help="--coded: column of dates (default: the topics' dates)."),
    category_col: Optional[str] = typer.Option(None, help="--coded: column of forum categories."),
    codebook: list[Path] = typer.Option([], "--codebook", help="Codebook(s) to roll codes up (default: the "
                                                               "project's)."),
    period: str = typer.Option("month", help="month, quarter or year."),
    change_at: Optional[str] = typer.Option(None, help="Compare before and after this date (YYYY-MM-DD)."),
    title: str = typer.Option("forumkit report", help="Title of the report."),
    out_dir: Path = typer.Option(Path("forumkit-work/report"), "--out", help="Folder to write the report into."),
) -> None:
    """Write a self-contained HTML report with figures (PNG, SVG) and tables (CSV).

    Taxonomy sunburst and counts with intervals, shares over time with trend tests, agreement, forum activity,
    model mentions, and the commands and data versions behind them. Example:
    forumkit report --db hf.db --project 1 --period quarter --out report/
    """
    from forumkit.analysis.aggregate import load_coded
    from forumkit.coding.codebook import load_codebook
    from forumkit.analysis.report import ReportOptions, build_report

    books = [load_codebook(p) for p in codebook]
    with open_store(db) as store:
        coders = None
        if coded is not None:
            table = load_coded(coded, store=store, item=item_col, code=code_col, date=date_col,
                               category=category_col)
        elif project is not None or store.annotation_count():
            from forumkit.analysis.aggregate.load import project_codebooks
            from forumkit.coding.coded import annotation_rows

            table = load_coded(store=store, project=project, view="consensus", adjudicator=adjudicator)
            coders = annotation_rows(store, project)
            coders = coders[~coders["was_cancelled"]]
            books = books or project_codebooks(store, project)
        else:
            table = None
        options = ReportOptions(period=period, change_at=change_at, title=title)
        command = " ".join(shlex.quote(a) for a in ["forumkit", *sys.argv[1:]])
        index = build_report(store, out_dir, coded=table, codebooks=books or None, coders=coders, options=options,
                             command=command)
    out.print(f"report -> {index}")
    err.print(f"figures in {out_dir / 'figures'}, tables in {out_dir / 'tables'}")
