"""Commands of a study folder: forumkit init | config | status."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer
from rich.markup import escape
from rich.table import Table

from .common import STUDY, app, err, one_line_errors, out, path_argument, shown

if TYPE_CHECKING:
    from forumkit.study import StudyConfig, StudyStatus


@app.command()
@one_line_errors
def init(
    folder: Path = path_argument(..., help="The study folder to make (made with its parents if missing)."),
    forum: Optional[str] = typer.Option(None, "--forum", help="Base URL of the Discourse forum to study "
                                                             "[default: https://discuss.huggingface.co]."),
) -> None:
    """Make a study folder: forumkit.toml (every setting, with comments), the shipped codebooks copied in for
    editing, and a README of the steps. Inside it, commands need no --db, --sample, --codebook or --project.

    Example: forumkit init my-study --forum https://discuss.pytorch.org
    """
    from forumkit.study import init_study

    result = init_study(folder, forum=forum)
    for path in result.kept:
        err.print(f"kept {shown(path)} as it was", highlight=False)
    out.print(f"study -> {shown(result.folder)}: {result.config.name}, "
              f"{len(result.codebooks)} codebooks in codebooks/" + (", README.md" if result.readme else ""),
              highlight=False, soft_wrap=True)
    out.print(f"next: cd {shown(result.folder)} && forumkit scrape", highlight=False, soft_wrap=True)


def _study(ctx: typer.Context) -> "StudyConfig":
    """The study the root callback read, or the one-line 'no forumkit.toml' error."""
    from forumkit.study import require_config

    found = ctx.meta.get(STUDY)
    return found if found is not None else require_config()


def _text(value: Any, folder: Path) -> str:
    """A setting's value for the terminal: paths relative to the study folder when they lie below it."""
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v, folder) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Path):
        return str(value.relative_to(folder)) if value.is_relative_to(folder) else str(value)
    return str(value)


@functools.cache
def _click_app() -> Any:
    """The app as Click commands (Typer builds them anew on each call: once is enough)."""
    import typer.main

    return typer.main.get_command(app)


def option_of(command: str, param: str) -> str:
    """How a user types the option ``param`` of ``command`` (``studio push``): its longest flag, or an argument's
    metavar. A KeyError for a command or parameter the app does not have."""
    node = _click_app()
    for part in command.split():
        node = node.commands[part]  # type: ignore[attr-defined]
    (found,) = [p for p in node.params if p.name == param]
    flags = [o for o in found.opts if o.startswith("--")]
    return max(flags, key=len) if flags else param.upper()


def _used_by(feeds) -> str:
    """The options a setting feeds, short: `scrape --rate`, or `--db (18 commands)`."""
    options: dict[str, list[str]] = {}
    for f in feeds:
        options.setdefault(option_of(f.command, f.param), []).append(f.command)
    return "; ".join(f"{commands[0]} {option}" if len(commands) == 1 else f"{option} ({len(commands)} commands)"
                     for option, commands in options.items())


@app.command()
@one_line_errors
def config(ctx: typer.Context) -> None:
    """Show the settings in force in this study and where each comes from (forumkit.toml's line, or default),
    with the options of the commands they feed.

    Example: forumkit config
    """
    from forumkit.study import SETTINGS
    from forumkit.study.config import last_pushed_project

    study = _study(ctx)
    out.print(f"study {study.folder}: settings from {study.path.name} (paths relative to the study folder)",
              highlight=False, soft_wrap=True)
    table = Table("setting", "value", "from", "feeds")
    for setting in SETTINGS:
        if setting.name in study.values:
            value = _text(study.get(setting.name), study.folder)
        elif setting.name == "studio.project":
            project = last_pushed_project(study)
            value = f"{project} (the last pushed)" if project is not None else f"({setting.absent}: none yet)"
        else:
            value = f"({setting.absent})"
        table.add_row(escape(setting.name), escape(value), study.where(setting.name), escape(_used_by(setting.feeds)))
    out.print(table)


@app.command()
@one_line_errors
def status(ctx: typer.Context) -> None:
    """Where this study stands: topics stored and the last crawl, samples, projects pushed (tasks, coders),
    agreement so far, suggestions kept, the last report, and the step to run next. Reads, never writes.

    Example: forumkit status
    """
    from forumkit.study import study_status

    print_status(study_status(_study(ctx)))


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def print_status(s: "StudyStatus") -> None:
    out.print(f"study {shown(s.config.parent)}; store {shown(s.store)}"
              + ("" if s.store_exists else " (not made yet)"), highlight=False, soft_wrap=True)
    for f in s.forums:
        crawl = ("never crawled" if f.last_crawl_started is None else
                 f"last crawl finished {f.last_crawl_finished}" if f.last_crawl_finished else
                 f"last crawl started {f.last_crawl_started}, unfinished")
        out.print(f"forum {f.url}: {f.topics} topics, {f.posts} posts; {crawl}", highlight=False, soft_wrap=True)
    if s.samples:
        table = Table("sample", "unit", "items", "population", "drawn", title="samples")
        for x in s.samples:
            mark = " *" if x.name == s.sample_name else ""
            table.add_row(escape(x.name) + mark, x.unit, str(x.items), str(x.population), x.created_at[:16].replace("T", " "))
        out.print(table)
    if s.projects:
        table = Table("project", "sample", "tasks", "annotations", "coders", "items coded", "by 2+", "alpha",
                      "% agreement", "suggested", "kept", "last pull", title="Label Studio projects")
        for p in s.projects:
            mark = " *" if p.id == s.current_project else ""
            table.add_row(f"{p.id}{mark}", escape(p.sample or ""), str(p.tasks), str(p.annotations), str(p.coders),
                          str(p.items_coded), str(p.items_coded_twice), _share(p.alpha), _share(p.percent_agreement),
                          str(p.suggested_items), _share(p.acceptance), (p.last_pull or "never")[:16].replace("T", " "))
        out.print(table)
        out.print("* the study's sample and project (what the next commands read)", highlight=False)
    if s.report is not None:
        out.print(f"report {shown(s.report.path)}, written {s.report.written_at}", highlight=False, soft_wrap=True)
    out.print(f"next: {escape(s.next_step)}", highlight=False, soft_wrap=True)
