"""Commands of the coding step in Label Studio: studio up/down/status/push/pull/projects."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from forumkit.errors import UsageError
from forumkit.coding.studio import server
from .common import absolute, app, codebook_option, err, one_line_errors, open_store, out, path_option

if TYPE_CHECKING:
    import pandas as pd

    from forumkit.coding.codebook import Codebook
    from forumkit.coding.studio.client import Studio
    from forumkit.store import Store

studio_app = typer.Typer(help="Code forum items in a real Label Studio server.", no_args_is_help=True)
app.add_typer(studio_app, name="studio")

WORKDIR = path_option(server.DEFAULT_WORKDIR, "--workdir", help="Folder for the server's data, log and login.")
URL = typer.Option(None, help="Label Studio URL (default: the one `studio up` started from --workdir).")
# Kept so that old scripts keep working; hidden, since a token on the command line is visible in `ps`.
TOKEN = typer.Option(None, "--token", hidden=True,
                     help=f"Label Studio API token (visible to other users in `ps`: set {server.TOKEN_ENV}).")
PAGE_SIZE = typer.Option(500, "--page-size", hidden=True, min=1, help="Tasks per request when reading them back.")



def _connect(url: Optional[str], token: Optional[str], workdir: Path) -> "Studio":
    """A client for --url, or for the server `studio up` started from --workdir; the token from
    $FORUMKIT_STUDIO_TOKEN or the login file (or the hidden --token, with a warning)."""
    from forumkit.coding.studio.client import Studio  # label-studio-sdk is heavy: import it when a command needs it

    if token:
        err.print(f"warning: --token is visible to other users of this machine (`ps`); set {server.TOKEN_ENV} "
                  "or let forumkit read the login file instead", highlight=False)
    return Studio(*server.access(absolute(workdir), url=url, token=token))


def _where(info: server.ServerInfo) -> None:
    out.print(f"Label Studio is up at {info.url} (pid {info.pid})", highlight=False, soft_wrap=True)
    out.print(f"user: {info.email}; password and API token in {info.login_file} "
              f"(show the password with: forumkit studio login)", highlight=False, soft_wrap=True)


@studio_app.command()
@one_line_errors
def up(
    workdir: Path = WORKDIR,
    venv: Path = path_option(server.DEFAULT_VENV, help="Label Studio's own virtual environment (made if missing)."),
    port: Optional[int] = typer.Option(None, help="Port on 127.0.0.1 (default: a free one)."),
) -> None:
    """Start Label Studio headless on 127.0.0.1 and print its URL, user name and login file.

    Example: forumkit studio up --workdir forumkit-work/studio
    """
    workdir = absolute(workdir)
    info = server.start(workdir, venv=absolute(venv), port=port, on_step=lambda msg: err.print(msg))
    _where(info)
    out.print(f"stop it with: forumkit studio down --workdir {workdir}", highlight=False, soft_wrap=True)


@studio_app.command()
@one_line_errors
def down(workdir: Path = WORKDIR) -> None:
    """Stop the Label Studio server started from --workdir (and nothing else).

    Example: forumkit studio down
    """
    stopped = server.stop(absolute(workdir))
    err.print("Label Studio stopped" if stopped else "no Label Studio server was running")


@studio_app.command()
@one_line_errors
def status(workdir: Path = WORKDIR) -> None:
    """Say whether the server started from --workdir is up, and where its login is.

    Example: forumkit studio status
    """
    info = server.status(absolute(workdir))
    if info is None:
        out.print("Label Studio is not running (start it with `forumkit studio up`)")
        raise typer.Exit(1)
    _where(info)


@studio_app.command()
@one_line_errors
def login(workdir: Path = WORKDIR) -> None:
    """Print the user name and password to log in to Label Studio in a browser (on request only).

    Example: forumkit studio login
    """
    found = server.Login.load(absolute(workdir) / "login.json")
    out.print(f"user: {found.email}", highlight=False, soft_wrap=True)
    out.print(f"password: {found.password}", highlight=False, soft_wrap=True)


def _read_table(path: Path) -> "pd.DataFrame":
    if not path.exists():
        raise UsageError(f"{path} does not exist", hint="give a CSV or Parquet file")
    import pandas as pd  # heavy: only the commands that read a table import it

    try:
        return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except (ValueError, OSError) as exc:
        raise UsageError(f"cannot read {path} as a table: {exc}", hint="give a CSV or Parquet file") from exc


@studio_app.command("push")
@one_line_errors
def push_cmd(
    db: Path = path_option(Path("forum.db"), "--db", help="The forumkit store."),
    codebook: list[Path] = codebook_option(..., help="repeat for several taxonomies."),
    sample: Optional[str] = typer.Option(None, help="Name of a sample drawn with `forumkit sample`."),
    items: Optional[Path] = path_option(None, help="Instead of a sample: CSV/Parquet with an item_id column."),
    unit: str = typer.Option("topic", help="With --items: topic or post."),
    coders: str = typer.Option("2", help="Coders per task (Label Studio's overlap); with --round, the coders' "
                                         "e-mails, separated by commas."),
    round_no: Optional[int] = typer.Option(None, "--round", help="Push a blind coding round N: each of --coders gets "
                                           "their own Label Studio server with a project of their assigned items."),
    per_item: int = typer.Option(2, "--per-item", help="With --round: coders assigned to each item."),
    seed: int = typer.Option(0, help="With --round: seed of the assignment (same seed, same assignment)."),
    venv: Path = path_option(server.DEFAULT_VENV, hidden=True, help="With --round: Label Studio's own virtual "
                                                                    "environment, for the coders' servers."),
    suggestions: Optional[Path] = path_option(None, help="CSV/Parquet from `forumkit suggest codes` (or any table of "
                                                         "item_id, code_id[, score]): the prediction set is "
                                                         "pre-selected, every suggestion listed with its evidence."),
    title: Optional[str] = typer.Option(None, help="Project title (default: from the sample and codebooks)."),
    memo: bool = typer.Option(True, help="Offer a free-text memo field."),
    url: Optional[str] = URL,
    token: Optional[str] = TOKEN,
    workdir: Path = WORKDIR,
    batch: int = typer.Option(1000, "--batch", hidden=True, min=1, help="Tasks per import request."),
    page_size: int = PAGE_SIZE,
) -> None:
    """Create or update a Label Studio project from codebooks and a sample, and import its items as tasks.

    Pushing the same sample twice adds no duplicate tasks, and a push stopped at any moment can simply be run
    again. The API token comes from $FORUMKIT_STUDIO_TOKEN or the login file `studio up` wrote. Example:
    forumkit studio push --db hf.db --sample round1 --codebook hf-challenges --coders 2

    A blind coding round (--round N --coders a@x,b@y,c@z --per-item 2 [--seed S]) gives each item to --per-item of
    the coders, balanced (each gets n*k/m items, give or take one) and seeded, and gives each coder a Label Studio
    server of their own under WORKDIR/coders/, with one project of their items; `forumkit studio login --workdir
    WORKDIR/coders/<coder>` prints the coder's login. Why a server each: on the free (community) Label Studio every
    user may list every project and read every annotation through the API with their own token, so coders on one
    server can always read each other's codes. `studio pull --round N` brings the round back as one coding.
    Example: forumkit studio push --db hf.db --sample round1 --codebook hf-challenges --round 1
    --coders ana@uni.edu,ben@uni.edu,cam@uni.edu --per-item 2 --seed 7
    """
    from forumkit.coding.codebook import load_codebook
    from forumkit.coding.studio.push import listed_items, push, sample_items

    if round_no is None and not coders.strip().isdigit():
        raise UsageError(f"--coders {coders!r} is not a number of coders per task",
                         hint="give a number, or push a blind round with --round N --coders a@x,b@y")
    books = [load_codebook(p) for p in codebook]
    with open_store(absolute(db)) as store:
        if sample:
            forum_id, unit, item_ids = sample_items(store, sample)
        elif items:
            forum_id, item_ids = listed_items(store, _read_table(absolute(items)), str(items))
        else:
            raise UsageError("nothing to push", hint="give --sample NAME or --items FILE")
        suggested = _read_table(absolute(suggestions)) if suggestions else None
        name = title or f"{sample or items.stem} · {' + '.join(b.name for b in books)}"
        if round_no is not None:
            _push_round(store, books, round_no=round_no, coders=coders, per_item=per_item, seed=seed,
                        forum_id=forum_id, unit=unit, item_ids=item_ids, title=name, sample=sample,
                        workdir=absolute(workdir), venv=absolute(venv), suggestions=suggested, memo=memo)
            return
        with Progress(TextColumn("importing tasks"), BarColumn(), MofNCompleteColumn(), console=err,
                      transient=True) as bar:
            task = bar.add_task("push", total=None)
            result = push(store, _connect(url, token, workdir), books, forum_id=forum_id, unit=unit,
                          item_ids=item_ids, title=name, sample=sample, coders=int(coders), suggestions=suggested,
                          memo=memo, progress=lambda done, total: bar.update(task, completed=done, total=total),
                          batch=batch, page_size=page_size)
    verb = "created" if result.created else "updated"
    out.print(f"{verb} project {result.project} '{name}': {result.tasks_added} tasks added, "
              f"{result.tasks_kept} already there, {result.predictions} with pre-annotations"
              + (f", {result.suggested} with suggestions listed" if suggestions else ""),
              highlight=False, soft_wrap=True)
    out.print(f"open {result.project_url}")
    if result.doubled_items:
        err.print(f"warning: {result.doubled_items} items have several annotated tasks in Label Studio; "
                  "each is pulled with all of its annotations", highlight=False)


def _push_round(store: "Store", books: list["Codebook"], **options: Any) -> None:
    """`studio push --round`: one line per step, the import's progress, and where each coder codes."""
    from forumkit.coding.studio.rounds import push_round

    with Progress(TextColumn("importing tasks"), BarColumn(), MofNCompleteColumn(), console=err,
                  transient=True) as bar:
        task = bar.add_task("push", total=None)
        result = push_round(store, books, on_step=lambda msg: bar.console.print(msg, highlight=False),
                            progress=lambda done, total: bar.update(task, completed=done, total=total), **options)
    out.print(f"round {result.round} {'recorded' if result.created else 'pushed again'}: {len(result.coders)} coders, "
              f"{result.per_item} per item, seed {result.seed}, each on their own Label Studio server",
              highlight=False, soft_wrap=True)
    for c in result.coders:
        out.print(f"{c.coder}: {c.items} items ({c.tasks_added} added) in project {c.project} -> {c.project_url}; "
                  f"their login: forumkit studio login --workdir {c.login_file.parent}", highlight=False, soft_wrap=True)


@studio_app.command("pull")
@one_line_errors
def pull_cmd(
    db: Path = path_option(Path("forum.db"), "--db", help="The forumkit store."),
    project: Optional[int] = typer.Option(None, help="forumkit's project id (see `studio projects`)."),
    round_no: Optional[int] = typer.Option(None, "--round", help="Pull every coder's project of blind round N, each "
                                                                 "from the coder's own server."),
    url: Optional[str] = URL,
    token: Optional[str] = TOKEN,
    workdir: Path = WORKDIR,
    venv: Path = path_option(server.DEFAULT_VENV, hidden=True, help="Label Studio's own virtual environment, to "
                                                                    "restart a coder's stopped server."),
    page_size: int = PAGE_SIZE,
) -> None:
    """Bring all annotations of a project into the store (replacing the previous pull of it), a page at a time.

    A coder's project of a blind round is pulled from the coder's own server; --round N pulls every coder's.
    Example: forumkit studio pull --db hf.db --project 1

    Example: forumkit studio pull --db hf.db --round 1
    """
    from forumkit.coding.studio.pull import pull
    from forumkit.coding.studio.rounds import coder_studio, pull_round

    with open_store(absolute(db)) as store:
        if round_no is not None:
            results = pull_round(store, round_no, absolute(workdir), venv=absolute(venv), page_size=page_size,
                                 on_step=lambda msg: err.print(msg, highlight=False))
        else:
            studio = coder_studio(store, project, absolute(workdir), absolute(venv)) or _connect(url, token, workdir)
            results = [pull(store, studio, project, page_size=page_size)]
    for result in results:
        out.print(f"project {result.project}: {result.annotations} annotations on {result.tasks_annotated} items by "
                  f"{len(result.coders)} coders ({', '.join(result.coders)}), {result.codes} codes")


@studio_app.command()
@one_line_errors
def projects(db: Path = path_option(Path("forum.db"), "--db", help="The forumkit store.")) -> None:
    """List the Label Studio projects pushed from this store.

    Example: forumkit studio projects --db hf.db
    """
    with open_store(absolute(db)) as store:
        rows = store.studio_project_overview()
    table = Table("project", "title", "Label Studio", "unit", "sample", "tasks", "annotations pulled")
    for r in rows:
        table.add_row(str(r["id"]), r["title"], f"{r['url']}/projects/{r['project_id']}", r["unit"],
                      r["sample_id"] or "", str(r["tasks"]), str(r["annotations"]))
    out.print(table)
