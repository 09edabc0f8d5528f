"""What every command module shares: the root app, the consoles, one-line errors."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import typer
from rich.console import Console
from rich.markup import escape

from forumkit.errors import ForumkitError

if TYPE_CHECKING:
    from forumkit.store import Store

app = typer.Typer(help="Mine, code and chart developer forums.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
err = Console(stderr=True)
out = Console()


def one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn forumkit errors into `error: <what>; <what to do>` and exit 1; Ctrl-C into exit 130."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ForumkitError as exc:
            err.print(f"[red]error:[/] {escape(exc.one_line())}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:  # the entry point (forumkit.cli.main) says so in one line
            raise typer.Exit(130) from None

    return wrapper


def open_store(db: Path) -> "Store":
    """An existing store: a mistyped --db must not silently create an empty one."""
    from forumkit.store import Store

    if not db.exists():
        raise ForumkitError(f"{db} does not exist", hint="scrape a forum into it first: forumkit scrape URL --db PATH")
    return Store(db)
