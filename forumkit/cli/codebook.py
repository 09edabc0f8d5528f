"""Commands of the coding-scheme step: forumkit codebook list | import | validate | show | config | diff | migrate."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from forumkit.coding.studio.server import DEFAULT_WORKDIR

from .common import (absolute, app, codebook_argument, codebook_option, err, one_line_errors, open_store, out,
                     path_argument, path_option, shown)

if TYPE_CHECKING:  # pyyaml and the importer load when a command runs, not for --help
    from forumkit.coding.codebook import Code, MapError

codebook_app = typer.Typer(help="Write, check and show codebooks; make Label Studio configs from them.",
                           no_args_is_help=True)
app.add_typer(codebook_app, name="codebook")


def _count(n: int, word: str) -> str:
    return f"{n} {word if n == 1 else word[:-1] + 'ies' if word.endswith('y') else word + 's'}"


def _write(text: str) -> None:
    """Data to stdout exactly as given (no rich markup, emoji codes or wrapping)."""
    out.file.write(text if text.endswith("\n") else text + "\n")
    out.file.flush()


@codebook_app.command("import")
@one_line_errors
def import_cmd(
    file: Path = path_argument(..., help="A .csv or .xlsx codebook: columns #, Category, Subcategory, Definition, "
                                         "Example; the category named on its first row only."),
    out_path: Optional[Path] = path_option(None, "--out", "-o", help="The one YAML file to write (default: "
                                                                     "stdout)."),
    id: Optional[str] = typer.Option(None, "--id", help="Codebook id (default: from the file or sheet name)."),
    name: Optional[str] = typer.Option(None, "--name", help="Codebook name (default: the file or sheet name)."),
    sheet: Optional[str] = typer.Option(None, "--sheet", help="XLSX sheet (default: the first with Category and "
                                                              "Subcategory columns)."),
    prefix: Optional[str] = typer.Option(None, "--prefix", help="Id prefix, e.g. CH (default: first two letters "
                                                                "of the id's last word)."),
    version: str = typer.Option("1.0", "--version", help="Codebook version."),
) -> None:
    """Turn a spreadsheet codebook (CSV or XLSX) into codebook YAML with stable ids.

    Example: forumkit codebook import Challenges.csv --id hf-challenges --prefix CH --out challenges.yaml
    """
    from forumkit.coding.codebook import import_codebook

    codebook = import_codebook(file, id=id, name=name, version=version, id_prefix=prefix, sheet=sheet)
    if out_path is None:
        _write(codebook.to_yaml())
    else:
        codebook.save(out_path)
        err.print(f"{_count(len(codebook.categories), 'category')}, {_count(len(codebook), 'code')} -> "
                  f"{shown(out_path)}", highlight=False)


@codebook_app.command()
@one_line_errors
def validate(file: Path = codebook_argument(..., help="the one to check.")) -> None:
    """Check a codebook: print FILE:LINE: message per problem; exit 1 if any is an error.

    Example: forumkit codebook validate my-challenges.yaml
    """
    from forumkit.coding.codebook import load_codebook, validate_codebook

    problems = validate_codebook(file)
    for problem in problems:
        _write(problem.format(shown(file)))
    if any(p.is_error for p in problems):
        raise typer.Exit(1)
    codebook = load_codebook(file)
    warnings = f", {_count(len(problems), 'warning')}" if problems else ""
    _write(f"ok: {_count(len(codebook.categories), 'category')}, {_count(len(codebook), 'code')}{warnings}")


def _branch(tree: Tree, code: Code) -> None:
    count = f" [dim]({len(code.children)})[/]" if code.children else ""
    node = tree.add(f"[cyan]{escape(code.id)}[/]  {escape(code.name)}{count}")
    for child in code.children:
        _branch(node, child)


@codebook_app.command()
@one_line_errors
def show(file: Path = codebook_argument(..., help="the one to show.")) -> None:
    """Show a codebook as a tree of ids and names, with counts.

    Example: forumkit codebook show hf-benefits
    """
    from forumkit.coding.codebook import load_codebook

    codebook = load_codebook(file)
    tree = Tree(f"[bold]{escape(codebook.name)}[/] ({escape(codebook.id)} v{escape(codebook.version)}): "
                f"{_count(len(codebook.categories), 'category')}, {_count(len(codebook), 'code')}")
    for code in codebook.categories:
        _branch(tree, code)
    out.print(tree, emoji=False, highlight=False)


@codebook_app.command()
@one_line_errors
def config(
    files: list[Path] = codebook_argument(..., help="one or more (one Taxonomy each)."),
    unit: str = typer.Option("topic", "--unit", help="What one task is: topic or post."),
    memo: bool = typer.Option(True, "--memo/--no-memo", help="Add a free-text memo box."),
) -> None:
    """Print the Label Studio labeling config (XML) for coding with these codebooks.

    Example: forumkit codebook config hf-challenges hf-benefits --unit topic
    """
    from forumkit.coding.codebook import label_config, load_codebook

    _write(label_config([load_codebook(f) for f in files], unit=unit, memo=memo))


@codebook_app.command("list")
@one_line_errors
def list_cmd() -> None:
    """List the codebooks shipped with forumkit: use their names wherever a codebook is asked for.

    Example: forumkit codebook list, then forumkit studio push --db hf.db --sample round1 --codebook hf-challenges
    """
    from forumkit.coding.codebook import load_codebook, shipped_codebooks

    table = Table("name", "codebook", "version", "categories", "codes", title="shipped codebooks")
    for name, path in shipped_codebooks().items():
        book = load_codebook(path)
        table.add_row(name, book.name, book.version, str(len(book.categories)), str(len(book)))
    out.print(table, highlight=False)


@codebook_app.command("export")
@one_line_errors
def export_cmd(
    files: list[Path] = codebook_argument(..., help="one or more."),
    out_path: Path = path_option(..., "--out", "-o", help="The one file to write: a .qdc (REFI-QDA codebook) or a .csv "
                                                          "(Taguette's codebook import)."),
) -> None:
    """Write codebooks for another QDA tool: REFI-QDA .qdc (ATLAS.ti, MAXQDA, NVivo, QualCoder) or Taguette CSV.

    The suffix of --out picks the format. A project's codebooks as pushed: forumkit export qdc|taguette.
    Example: forumkit codebook export hf-challenges --out challenges.csv, then in Taguette: Import codebook
    """
    from forumkit.coding.codebook import load_codebook
    from forumkit.coding.qdc import write_codebooks

    codes = write_codebooks([load_codebook(f) for f in files], out_path)
    err.print(f"{_count(codes, 'code')} -> {shown(out_path)}", highlight=False)


def _map_errors(exc: "MapError") -> None:
    """A bad map: one `error:` line per problem, exit 2 (a usage error)."""
    for problem in exc.problems:
        err.print(f"[red]error:[/] {escape(exc.source)}: {escape(problem)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@codebook_app.command()
@one_line_errors
def diff(
    old: Path = codebook_argument(..., help="the OLD version."),
    new: Path = codebook_argument(..., help="the NEW version."),
    map_file: Optional[Path] = path_option(None, "--map", help="A map YAML (rename, merge, split, retire), "
                                                              "checked against both versions."),
    as_json: bool = typer.Option(False, "--json", help="Print the differences as JSON."),
) -> None:
    """List what changed from OLD to NEW: added, removed, renamed, merged, split, retired, moved and redefined codes.

    Example: forumkit codebook diff challenges-v1.yaml challenges-v2.yaml --map v1-to-v2.yaml
    """
    import json

    from forumkit.coding.codebook import MapError, checked_map, diff as compare, load_codebook

    before, after = load_codebook(old), load_codebook(new)
    try:
        cmap = checked_map(map_file, before, after) if map_file is not None else None
    except MapError as exc:
        _map_errors(exc)
    changes = compare(before, after, cmap)
    if as_json:
        _write(json.dumps(changes.to_dict(), indent=2))
        return
    _write(f"{changes.codebook_id} {changes.old_version} -> {changes.new_version}"
           + (": no changes" if changes.unchanged else ""))
    for line in changes.lines(before, after):
        _write(line)


@codebook_app.command()
@one_line_errors
def migrate(
    to: Path = codebook_option(..., "--to", help="the NEW version the project moves to."),
    map_file: Path = path_option(..., "--map", help="The map YAML from the project's version to NEW."),
    db: Path = path_option(Path("forum.db"), "--db", help="The forumkit store."),
    project: Optional[int] = typer.Option(None, help="forumkit's project id (see `studio projects`)."),
    url: Optional[str] = typer.Option(None, help="Label Studio URL (default: the one `studio up` started from "
                                                 "--workdir)."),
    workdir: Path = path_option(DEFAULT_WORKDIR, "--workdir", help="Folder for the server's data, log and login."),
) -> None:
    """Move a coded project to a new codebook version: rewrite every annotation in Label Studio and in the store
    with the map, replace the labeling config, queue split codes' items in a "Needs recoding" tab.

    Safe to run again after an interruption: it resumes, and a finished migration changes nothing.
    Example: forumkit codebook migrate --db hf.db --project 1 --to challenges-v2.yaml --map v1-to-v2.yaml
    """
    from forumkit.coding.codebook import MapError, load_codebook, load_map
    from forumkit.coding.studio.migrate import migrate as run

    from .studio import _connect  # the one way commands reach Label Studio (token from env or login file)

    new = load_codebook(to)
    with open_store(absolute(db)) as store:
        try:
            result = run(store, _connect(url, None, workdir), project, new, load_map(map_file),
                         progress=lambda line: _write(line))
        except MapError as exc:
            _map_errors(exc)
    if not result.already:
        _write(f"done: {result.annotations} annotations rewritten ({result.renamed} codes renamed, {result.merged} "
               f"merged, {result.split} split, {result.retired} retired); {result.queued} items to recode")
