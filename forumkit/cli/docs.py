"""The command-line reference (docs/cli.md), generated from the Typer app so that it cannot drift.

``python -m forumkit.cli.docs > docs/cli.md`` writes it; a test fails when the file differs from what this
module makes now. It reads the command tree as Click holds it (usage, help text, and each option's help
record: its flags, value type, default and whether it is required), never a terminal: the result does not
depend on the terminal's width or colours, the current folder or a ``forumkit.toml``. Hidden commands and
options (old spellings kept for scripts) are left out, as in ``--help``.
"""

from __future__ import annotations

import sys
from typing import Any, Iterator

import typer

from . import app

#: The command as the reference names it (``python -m forumkit`` runs the same).
PROG = "forumkit"
REGENERATE = "python -m forumkit.cli.docs > docs/cli.md"


def _subcommands(command: Any, ctx: Any) -> Iterator[tuple[Any, Any]]:
    """(command, its context) of each visible subcommand of a group, in the order of ``--help``."""
    for name in getattr(command, "list_commands", lambda _ctx: [])(ctx):
        sub = command.get_command(ctx, name)
        if sub is not None and not sub.hidden:
            yield sub, sub.context_class(sub, info_name=name, parent=ctx)


def _walk(command: Any, ctx: Any) -> Iterator[tuple[Any, Any]]:
    yield command, ctx
    for sub, sub_ctx in _subcommands(command, ctx):
        yield from _walk(sub, sub_ctx)


def _cell(text: str) -> str:
    """Text for a Markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _help_text(help_text: str) -> list[str]:
    """A command's help as Markdown: its paragraphs, with the ``Example:`` paragraphs as one shell block."""
    prose, examples = [], []
    for paragraph in help_text.strip().split("\n\n"):
        text, *shown = " ".join(paragraph.replace("\b", "").split()).split("Example:")
        examples += [example.strip() for example in shown if example.strip()]
        if text.strip():
            prose.append(text.strip())
    lines = [line for text in prose for line in (text, "")]
    if examples:
        lines += ["Examples:", "", "```sh", *examples, "```", ""]
    return lines


def _section(command: Any, ctx: Any) -> list[str]:
    depth = ctx.command_path.count(" ")
    lines = [f"{'#' * min(depth + 2, 5)} `{ctx.command_path}`", ""]
    lines += _help_text(command.help or "")
    usage = " ".join([ctx.command_path, *command.collect_usage_pieces(ctx)])
    lines += ["```", f"Usage: {usage}", "```", ""]
    records = [(p.param_type_name, p.get_help_record(ctx)) for p in command.get_params(ctx) if not p.hidden]
    for kind, title in (("argument", "Argument"), ("option", "Option")):
        rows = [record for param_kind, record in records if param_kind == kind and record]
        if rows:
            lines += [f"| {title} | Description |", "|---|---|"]
            lines += [f"| `{_cell(flags)}` | {_cell(text)} |" for flags, text in rows]
            lines.append("")
    subs = list(_subcommands(command, ctx))
    if subs:
        lines += ["| Command | What it does |", "|---|---|"]
        lines += [f"| [`{sub_ctx.command_path}`](#{_anchor(sub_ctx.command_path)}) | "
                  f"{_cell(sub.get_short_help_str(limit=300))} |" for sub, sub_ctx in subs]
        lines.append("")
    return lines


def _anchor(command_path: str) -> str:
    """GitHub's anchor of a heading `` `forumkit studio push` ``."""
    return command_path.replace(" ", "-")


def cli_markdown() -> str:
    """docs/cli.md: every visible command and subcommand with its usage, help and options."""
    root = typer.main.get_command(app)
    ctx = root.context_class(root, info_name=PROG)
    lines = ["# Command-line reference", "",
             f"Generated from the command line itself by `{REGENERATE}`; a test fails when it is out of date.",
             "`forumkit COMMAND --help` shows the same.", ""]
    for command, command_ctx in _walk(root, ctx):
        lines += _section(command, command_ctx)
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    sys.stdout.write(cli_markdown())


if __name__ == "__main__":
    main()
