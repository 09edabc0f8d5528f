"""`forumkit cooccur` and `forumkit query`: what a QDA tool answers across codes, from a pulled project."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from .common import app, codebook_option, err, one_line_errors, open_store, out, path_option, shown

TOP_PAIRS = 15
TOP_ITEMS = 30
TEXT_WIDTH = 90

_RULE_HELP = ("Which codes an item has: majority (the consensus), unanimous (every coder's) or any (some "
              "coder's).")


@app.command()
@one_line_errors
def cooccur(
    db: Path = path_option(Path("forum.db"), "--db", help="The forumkit store, with pulled annotations."),
    project: Optional[int] = typer.Option(None, help="forumkit's project id (default: the only one pulled)."),
    level: str = typer.Option("category", help="category, subcategory or code."),
    codebooks: list[Path] = codebook_option([], help="roll codes up with it; repeatable (default: the project's)."),
    rule: str = typer.Option("majority", help=_RULE_HELP),
    adjudicator: Optional[str] = typer.Option(None, help="With --rule majority: this coder's codes decide the items "
                                                         "they coded."),
    out_path: Path = path_option(..., "--out", "-o", help="The one table of pairs to write: .csv, .parquet, .tex "
                                                          "or .md; the heatmap goes beside it (.png and .svg)."),
) -> None:
    """Co-occurrence of codes: for each pair of codes, the items with both, with each, and their Jaccard.

    Codes roll up to the level (as in `aggregate`); an item's codes are its consensus codes (--rule). Prints the
    most similar pairs, writes every pair to --out and a heatmap of the most frequent codes beside it.
    Example: forumkit cooccur --db hf.db --project 1 --level category --out cooccurrence.csv
    """
    from forumkit.analysis import figures
    from forumkit.analysis.aggregate import project_codebooks, table_format, write_table
    from forumkit.analysis.cooccur import CoOccurrence, cooccurrence_heatmap
    from forumkit.analysis.itemcodes import item_codes
    from forumkit.coding.codebook import load_codebook

    table_format(out_path)  # an unknown suffix fails now, not after the work
    with open_store(db) as store:
        found = item_codes(store, project, rule=rule, adjudicator=adjudicator)
        books = [load_codebook(p) for p in codebooks] or project_codebooks(store, found.project)
    co = CoOccurrence(level=level).fit(found.tidy(), books)
    write_table(co.pairs_, out_path)
    if len(co.codes_) < 2:
        err.print(f"{len(co.codes_)} {level} code(s) on the {co.n_items_} coded items: no pair, no heatmap; "
                  f"{shown(out_path)} has the header only", highlight=False)
        return
    saved = figures.save(cooccurrence_heatmap(co, f"Co-occurrence of {level} codes ({co.n_items_} coded items, "
                                                  f"{rule})"), out_path.parent, out_path.stem)
    top = Table("A", "B", "n A", "n B", "both", "Jaccard",
                title=f"most similar pairs of {len(co.pairs_)} ({len(co.codes_)} {level} codes on {co.n_items_} "
                      f"coded items)")
    for row in co.pairs_[co.pairs_["n_ab"] > 0].head(TOP_PAIRS).itertuples(index=False):
        top.add_row(escape(str(row.name_a)), escape(str(row.name_b)), str(row.n_a), str(row.n_b), str(row.n_ab), f"{row.jaccard:.3f}")
    out.print(top)
    err.print(f"{len(co.pairs_)} pairs written to {shown(out_path)}; heatmap: {shown(saved['png'])}, "
              f"{shown(saved['svg'])}", highlight=False)


@app.command()
@one_line_errors
def query(
    expression: str = typer.Argument(..., metavar="QUERY", help="Codes (ids or names) joined by and, or, not and "
                                                               "parentheses; quote names with spaces."),
    db: Path = path_option(Path("forum.db"), "--db", help="The forumkit store, with pulled annotations."),
    project: Optional[int] = typer.Option(None, help="forumkit's project id (default: the only one pulled)."),
    category: list[str] = typer.Option([], "--category", help="Only items in this forum category; repeatable."),
    since: Optional[str] = typer.Option(None, help="Only items created on or after this date (YYYY-MM-DD)."),
    until: Optional[str] = typer.Option(None, help="Only items created before this date (YYYY-MM-DD)."),
    codebooks: list[Path] = codebook_option([], help="the names and ids the query may use; repeatable (default: "
                                                     "the project's)."),
    rule: str = typer.Option("majority", help=_RULE_HELP),
    adjudicator: Optional[str] = typer.Option(None, help="With --rule majority: this coder's codes decide the items "
                                                         "they coded."),
    out_path: Optional[Path] = path_option(None, "--out", "-o", help="Write the items in full to one file: .csv, "
                                                                     ".parquet, .tex or .md."),
) -> None:
    """The coded items that a query over codes selects: ids, dates, forum categories, titles and texts.

    A code stands for itself and the codes below it (a category: any of its codes); `not B` is the coded items
    without B. Prints the items (texts shortened); --out writes them in full.
    Example: forumkit query --db hf.db --project 1 "'Model loading' and not Performance" --category Beginners
    --since 2022-01-01 --out items.csv
    """
    from forumkit.analysis.aggregate import table_format, write_table
    from forumkit.analysis.query import query_items
    from forumkit.coding.codebook import load_codebook

    if out_path is not None:
        table_format(out_path)
    books = [load_codebook(p) for p in codebooks]
    with open_store(db) as store:
        found = query_items(store, expression, project, categories=category, since=since, until=until, rule=rule,
                            adjudicator=adjudicator, codebooks=books or None)
    table = Table("item", "created", "category", "title", "codes", "text",
                  title=f"{len(found)} coded items match {escape(expression)}")
    for row in found.head(TOP_ITEMS).itertuples(index=False):
        text = " ".join(str(row.text).split())
        title = " ".join(str(row.title or "").split())
        text = text[len(title):].lstrip() if title and text.startswith(title) else text  # the title has its column
        cells = (str(row.created_at or "")[:10], str(row.forum_category or ""), str(row.title or ""),
                 str(row.codes).replace("|", " "), text[:TEXT_WIDTH] + ("…" if len(text) > TEXT_WIDTH else ""))
        table.add_row(str(row.item_id), *(escape(cell) for cell in cells))
    out.print(table)
    if len(found) > TOP_ITEMS:
        err.print(f"{len(found) - TOP_ITEMS} more not shown" + ("" if out_path else ": write them all with --out FILE"),
                  highlight=False)
    if out_path is not None:
        write_table(found, out_path)
        err.print(f"{len(found)} items written to {shown(out_path)}", highlight=False)
