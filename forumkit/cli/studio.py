"""Commands of the coding step in Label Studio: studio up/down/status/push/pull/projects."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from forumkit.errors import UsageError
from forumkit.coding.studio import server
from .common import app, codebook_option, err, one_line_errors, open_store, out, path_option

if TYPE_CHECKING:
    import pandas as pd

    from forumkit.coding.studio.client import Studio

studio_app = typer.Typer(help="Code forum items in a real Label Studio server.", no_args_is_help=True)
app.add_typer(studio_app, name="studio")

WORKDIR = path_option(server.DEFAULT_WORKDIR, "--workdir", help="Folder for the server's data, log and login.")


def _connect(url: Optional[str], token: Optional[str], workdir: Path) -> "Studio":
    """A client for --url/--token, or for the server `studio up` started from --workdir."""
    from forumkit.coding.studio.client import Studio  # label-studio-sdk is heavy: import it when a command needs it

    if url and token:
        return Studio(url, token)
    info = server.ServerInfo.load(workdir / "server.json")
    return Studio(url or info.url, token or info.token)


@studio_app.command()
@one_line_errors
def up(
    workdir: Path = WORKDIR,
    venv: Path = path_option(server.DEFAULT_VENV, help="Label Studio's own virtual environment (made if missing)."),
    port: Optional[int] = typer.Option(None, help="Port on 127.0.0.1 (default: a free one)."),
) -> None:
    """Start Label Studio headless on 127.0.0.1 and print its URL and login.

    Example: forumkit studio up --workdir forumkit-work/studio
    """
    info = server.start(workdir, venv=venv, port=port, on_step=lambda msg: err.print(msg))
    out.print(f"Label Studio is up at {info.url}")
    out.print(f"login: {info.email} / {info.password}")
    out.print(f"API token: {info.token}")
    out.print(f"stop it with: forumkit studio down --workdir {workdir}")


@studio_app.command()
@one_line_errors
def down(workdir: Path = WORKDIR) -> None:
    """Stop the Label Studio server started from --workdir.

    Example: forumkit studio down
    """
    stopped = server.stop(workdir)
    err.print("Label Studio stopped" if stopped else "no Label Studio server was running")


@studio_app.command()
@one_line_errors
def status(workdir: Path = WORKDIR) -> None:
    """Say whether the server started from --workdir is up, and how to log in.

    Example: forumkit studio status
    """
    info = server.status(workdir)
    if info is None:
        out.print("Label Studio is not running (start it with `forumkit studio up`)")
        raise typer.Exit(1)
    out.print(f"Label Studio is up at {info.url} (pid {info.pid}); login {info.email} / {info.password}; "
              f"API token {info.token}")


def _read_table(path: Path) -> pd.DataFrame:
    import pandas as pd

    if not path.exists():
        raise UsageError(f"{path} does not exist", hint="give a CSV or Parquet file")
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
    coders: int = typer.Option(2, help="Coders per task (Label Studio's overlap)."),
    suggestions: Optional[Path] = path_option(None, help="CSV/Parquet of item_id, code_id, score: pre-annotations."),
    title: Optional[str] = typer.Option(None, help="Project title (default: from the sample and codebooks)."),
    memo: bool = typer.Option(True, help="Offer a free-text memo field."),
    url: Optional[str] = typer.Option(None, help="Label Studio URL (default: the one `studio up` started)."),
    token: Optional[str] = typer.Option(None, help="Label Studio API token."),
    workdir: Path = WORKDIR,
) -> None:
    """Create or update a Label Studio project from codebooks and a sample, and import its items as tasks.

    Pushing the same sample twice adds no duplicate tasks. Example:
    forumkit studio push --db hf.db --sample round1 --codebook hf-challenges --coders 2
    """
    import pandas as pd

    from forumkit.coding.codebook import load_codebook
    from forumkit.coding.studio.push import push, sample_items

    books = [load_codebook(p) for p in codebook]
    with open_store(db) as store:
        if sample:
            forum_id, unit, item_ids = sample_items(store, sample)
        elif items:
            table = _read_table(items)
            if "item_id" not in table.columns:
                raise UsageError(f"{items} has no item_id column", hint=f"columns found: {', '.join(table.columns)}")
            ids = pd.to_numeric(table["item_id"], errors="coerce")
            if ids.isna().any() or (ids % 1 != 0).any():
                bad = table["item_id"][ids.isna() | (ids % 1 != 0)].iloc[0]
                raise UsageError(f"{items}: item_id must hold whole numbers, not {bad!r}",
                                 hint="give topic or post ids of the store")
            item_ids = [int(i) for i in ids]
            forums = store.forums()
            if len(forums) != 1:
                raise UsageError(f"{db} holds {len(forums)} forums", hint="push a sample, which names its forum")
            forum_id = forums[0][0]
        else:
            raise UsageError("nothing to push", hint="give --sample NAME or --items FILE")
        suggested = _read_table(suggestions) if suggestions else None
        name = title or f"{sample or items.stem} · {' + '.join(b.name for b in books)}"
        with Progress(TextColumn("importing tasks"), BarColumn(), MofNCompleteColumn(), console=err,
                      transient=True) as bar:
            task = bar.add_task("push", total=None)
            result = push(store, _connect(url, token, workdir), books, forum_id=forum_id, unit=unit,
                          item_ids=item_ids, title=name, sample=sample, coders=coders, suggestions=suggested,
                          memo=memo, progress=lambda done, total: bar.update(task, completed=done, total=total))
    verb = "created" if result.created else "updated"
    out.print(f"{verb} project {result.project} '{name}': {result.tasks_added} tasks added, "
              f"{result.tasks_kept} already there, {result.predictions} with pre-annotations")
    out.print(f"open {result.project_url}")


@studio_app.command("pull")
@one_line_errors
def pull_cmd(
    db: Path = path_option(Path("forum.db"), "--db", help="The forumkit store."),
    project: Optional[int] = typer.Option(None, help="forumkit's project id (see `studio projects`)."),
    url: Optional[str] = typer.Option(None, help="Label Studio URL (default: the one `studio up` started)."),
    token: Optional[str] = typer.Option(None, help="Label Studio API token."),
    workdir: Path = WORKDIR,
) -> None:
    """Bring all annotations of a project into the store (replacing the previous pull of it).

    Example: forumkit studio pull --db hf.db --project 1
    """
    from forumkit.coding.studio.pull import pull

    with open_store(db) as store:
        result = pull(store, _connect(url, token, workdir), project)
    out.print(f"project {result.project}: {result.annotations} annotations on {result.tasks_annotated} items by "
              f"{len(result.coders)} coders ({', '.join(result.coders)}), {result.codes} codes")


@studio_app.command()
@one_line_errors
def projects(db: Path = path_option(Path("forum.db"), "--db", help="The forumkit store.")) -> None:
    """List the Label Studio projects pushed from this store.

    Example: forumkit studio projects --db hf.db
    """
    with open_store(db) as store:
        rows = store.query(
            "SELECT p.id, p.title, p.url, p.project_id, p.unit, p.sample_id, count(DISTINCT t.item_id) AS tasks,"
            " (SELECT count(*) FROM annotations a WHERE a.project = p.id) AS annotations"
            " FROM studio_projects p LEFT JOIN studio_tasks t ON t.project = p.id GROUP BY p.id ORDER BY p.id")
    table = Table("project", "title", "Label Studio", "unit", "sample", "tasks", "annotations pulled")
    for r in rows:
        table.add_row(str(r["id"]), r["title"], f"{r['url']}/projects/{r['project_id']}", r["unit"],
                      r["sample_id"] or "", str(r["tasks"]), str(r["annotations"]))
    out.print(table)
