"""What every command module shares: the root app, the consoles, one-line errors, paths made absolute.

Paths: every path a user gives (or a command defaults to) is made absolute once, here, while the options are
parsed (:func:`path_option`, :func:`path_argument`, :func:`codebook_option`), so that no library call sees a
path relative to some other working folder (a server started with ``cwd=`` its own folder, say).
Exit codes: 0 ok, 1 a forumkit error, 2 a usage error (Click's convention: a bad option or argument,
whether Click or forumkit finds it), 130 interrupted.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import typer
from typer.core import TyperGroup
from rich.console import Console
from rich.markup import escape

from forumkit.errors import ForumkitError, UsageError

if TYPE_CHECKING:
    from forumkit.store import Store

#: ctx.meta keys: the command line as typed (for the study's defaults) and the study's config, if any.
ARGV, STUDY = "forumkit.argv", "forumkit.study"


class _StudyGroup(TyperGroup):
    """The root command group; it keeps the command line as typed, which :func:`study_defaults` reads."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        ctx.meta[ARGV] = list(args)
        return super().parse_args(ctx, args)


app = typer.Typer(cls=_StudyGroup, help="Mine, code and chart developer forums.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
err = Console(stderr=True)
out = Console()

#: Exit status of a usage error, as Click gives for a bad option value.
USAGE = 2


@app.callback()
def study_defaults(ctx: typer.Context) -> None:
    """Mine, code and chart developer forums.

    Inside a study folder (a forumkit.toml here or above), every command takes its defaults from the file
    (`forumkit config` lists them; flags override them). Without one, commands behave as their defaults say.
    """
    if ctx.invoked_subcommand == "init":  # init makes a study; a broken one above must not stop it
        return
    from forumkit.study.config import default_map, find_config, load_config

    found = find_config()
    if found is None:
        return
    try:
        config = load_config(found)
    except ForumkitError as exc:
        err.print(f"[red]error:[/] {escape(exc.one_line())}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    ctx.meta[STUDY] = config
    ctx.default_map = default_map(config, ctx.meta.get(ARGV, ()))


def one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn forumkit errors into `error: <what>; <what to do>` and exit 1 (2 for usage errors); Ctrl-C into 130."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ForumkitError as exc:
            err.print(f"[red]error:[/] {escape(exc.one_line())}", highlight=False, soft_wrap=True)
            raise typer.Exit(USAGE if isinstance(exc, UsageError) else 1) from None
        except KeyboardInterrupt:  # the entry point (forumkit.cli.main) says so in one line
            raise typer.Exit(130) from None

    return wrapper


def absolute(path: str | os.PathLike[str]) -> Path:
    """The path made absolute against the current folder (``~`` expanded, ``..`` folded, links kept)."""
    return Path(os.path.abspath(os.path.expanduser(path)))


def shown(path: Path) -> str:
    """A path for messages: relative to the current folder when it lies below it, else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _absolute_paths(value: Any) -> Any:
    """Click callback of every path option: None stays None, a path or each path of a list becomes absolute."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [absolute(v) for v in value]
    return absolute(value)


def _codebook_paths(value: Any) -> Any:
    """Click callback of every --codebook option: a shipped codebook's name or a path, made absolute."""
    from forumkit.coding.codebook.shipped import resolve_codebook

    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [absolute(resolve_codebook(v)) for v in value]
    return absolute(resolve_codebook(value))


def path_option(default: Any, *names: str, **kwargs: Any) -> Any:
    """A typer.Option for a file or folder: the value (given or default) arrives absolute."""
    return typer.Option(default, *names, callback=_absolute_paths, **kwargs)


def path_argument(default: Any, **kwargs: Any) -> Any:
    """A typer.Argument for a file or folder: the value arrives absolute."""
    return typer.Argument(default, callback=_absolute_paths, **kwargs)


CODEBOOK_HELP = "A shipped codebook's name (see `forumkit codebook list`) or a codebook YAML file"


def codebook_option(default: Any, *names: str, help: str, **kwargs: Any) -> Any:
    """A typer.Option naming codebooks: a shipped name (``hf-challenges``) or a path; arrives as absolute files."""
    return typer.Option(default, *(names or ("--codebook",)), callback=_codebook_paths,
                        help=f"{CODEBOOK_HELP}: {help}", **kwargs)


def codebook_argument(default: Any, *, help: str, **kwargs: Any) -> Any:
    """A typer.Argument naming codebooks by shipped name or path; arrives as absolute files."""
    return typer.Argument(default, callback=_codebook_paths, help=f"{CODEBOOK_HELP}: {help}", **kwargs)


def open_store(db: Path) -> "Store":
    """An existing store: a mistyped --db must not silently create an empty one."""
    from forumkit.store import Store

    if not db.exists():
        raise ForumkitError(f"{db} does not exist", hint="scrape a forum into it first: forumkit scrape URL --db PATH")
    return Store(db)
