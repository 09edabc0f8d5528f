"""Commands of the suggestion step: forumkit suggest codes | topics | audit | report.

Each command is a thin call into :mod:`forumkit.coding.suggest`; the models load when a command runs, never
for ``--help``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from forumkit.errors import UsageError
from .common import app, codebook_option, err, one_line_errors, open_store, out, path_option, shown

suggest_app = typer.Typer(help="Suggest codes and topics offline, audit coded data, measure how suggestions fared.",
                          no_args_is_help=True)
app.add_typer(suggest_app, name="suggest")


# -- suggest audit: a second look at coded items (active-learning helper's block) ---------------------------------

@suggest_app.command("audit")
@one_line_errors
def audit(
    train: Path = path_option(..., "--train", help="The coded items (a table as `forumkit export coded` writes it)."),
    out_path: Path = path_option(..., "--out", "-o", help="The one CSV file of the items whose code the model "
                                                          "finds unlikely."),
    codebooks: list[Path] = codebook_option([], help="the codes the items were coded with (repeat for several); "
                                                     "default: the shipped codebooks that hold --train's codes."),
    db: Optional[Path] = path_option(None, "--db", help="Read the items' texts from this store."),
    sample: Optional[str] = typer.Option(None, "--sample", help="With --db: only this saved sample's items."),
    unit: str = typer.Option("topic", "--unit", help="With --db: topic or post."),
    texts: Optional[Path] = path_option(None, "--texts", help="Or read the items from this CSV/Parquet table."),
    id_col: Optional[str] = typer.Option(None, "--id-col", help="With --texts: the item id column."),
    text_col: Optional[str] = typer.Option(None, "--text-col", help="With --texts: the text column."),
    level: str = typer.Option("category", help="Audit codes at this level: category, subcategory or code (the "
                                                  "most specific codes)."),
    embedder: str = typer.Option("minilm", help="Text embedder: minilm, static or st:NAME_OR_PATH."),
    folds: int = typer.Option(5, min=2, help="Cross-validation folds of the out-of-fold probabilities."),
    seed: int = typer.Option(42, min=0, help="Seed of the folds and the classifier."),
    pairs_out: Optional[Path] = path_option(None, "--pairs-out", help="CSV of the pairs of codes most confused "
                                                                      "[default: OUT with .pairs.csv]."),
) -> None:
    """Items whose human code the model finds unlikely (cleanlab on out-of-fold probabilities), for a second
    look, and the pairs of codes the coders (and the model) confuse most.

    Example: forumkit suggest audit --db hf.db --train coded.csv --codebook hf-challenges --out audit.csv
    """
    from forumkit.coding.codebook import load_codebook
    from forumkit.coding.suggest.audit import audit_codes, write_audit
    from forumkit.coding.suggest.corpus import from_store, from_table

    if (db is None) == (texts is None):
        raise UsageError("say where the items' texts are", hint="pass either --db DB or --texts FILE")
    if texts is not None and not (id_col and text_col):
        raise UsageError("--texts needs --id-col and --text-col", hint="name the id and the text columns")
    pairs_path = pairs_out or out_path.with_name(f"{out_path.stem}.pairs.csv")
    books = [load_codebook(c) for c in codebooks]
    if texts is not None:
        found = audit_codes(from_table(texts, id_col=id_col, text_col=text_col), train, books, level=level,
                            embedder=embedder, seed=seed, folds=folds)
    else:
        with open_store(db) as store:
            found = audit_codes(from_store(store, unit=unit, sample=sample), train, books, level=level,
                                embedder=embedder, seed=seed, folds=folds, store=store)
    write_audit(found, out_path, pairs_path)
    table = Table("source", "code a", "code b", "items", title=f"codes confused most ({found.items} items audited, "
                                                               f"{found.multi_coded} coded by two or more coders)")
    for row in found.pairs.groupby("source", sort=True).head(5).itertuples(index=False):
        table.add_row(row.source, row.code_a, row.code_b, str(row.n_items))
    out.print(table)
    err.print(f"{len(found.issues)} of {found.items} items to look at again -> {shown(out_path)}; "
              f"{len(found.pairs)} confused pairs -> {shown(pairs_path)}")
