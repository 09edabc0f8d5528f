"""`forumkit init`: make a study folder: ``forumkit.toml`` (every setting, with comments), the shipped codebooks
copied in for editing, and a README of the steps."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forumkit.errors import ForumkitError

from .settings import FILE_NAME, SECTIONS, SETTINGS

__all__ = ["InitResult", "init_study", "render_toml", "STEPS"]

#: Mode of every file init writes: the study's owner edits them, others may read them.
MODE = 0o644

#: The steps of a study, as typed inside its folder: no --db, --sample, --codebook or --project.
STEPS = (
    ("forumkit scrape", "scrape the forum into the store"),
    ("forumkit sample", "draw the sample to code"),
    ("forumkit suggest codes", "suggest codes for the sample's items, offline"),
    ("forumkit studio up", "start Label Studio on 127.0.0.1 (prints the URL and login file)"),
    ("forumkit studio push", "make the coding project, the suggestions pre-selected"),
    ("forumkit studio pull", "after the coders have coded: bring their annotations into the store"),
    ("forumkit agreement", "agreement between the coders"),
    ("forumkit aggregate", "frequencies of the codes per period, with intervals"),
    ("forumkit report", "the HTML report"),
    ("forumkit studio down", "stop Label Studio"),
)


@dataclass(frozen=True)
class InitResult:
    """What init wrote (``kept``: files that were already there and were left as they were)."""

    folder: Path
    config: Path
    codebooks: list[Path]
    readme: Path | None
    kept: list[Path]


def init_study(folder: Path, *, forum: str | None = None) -> InitResult:
    """Make ``folder`` (and its parents) a study; an existing ``forumkit.toml`` is never overwritten.

    Codebook files or a README.md already in the folder are kept as they are (and listed in ``kept``).
    Example: ``init_study(Path("study"), forum="https://discuss.pytorch.org")``
    """
    from forumkit.coding.codebook.shipped import shipped_codebooks  # the codebook package loads yaml: when needed

    folder = Path(os.path.abspath(folder))
    config = folder / FILE_NAME
    if config.exists():
        raise ForumkitError(f"{config} already exists", hint="edit it, or give another folder to forumkit init")
    if folder.exists() and not folder.is_dir():
        raise ForumkitError(f"{folder} is a file", hint="give a folder to forumkit init")
    (folder / "codebooks").mkdir(parents=True, exist_ok=True)
    kept: list[Path] = []
    books: list[Path] = []
    for source in shipped_codebooks().values():
        target = folder / "codebooks" / source.name
        books.append(target)
        if target.exists():
            kept.append(target)
            continue
        shutil.copyfile(source, target)
        target.chmod(MODE)
    readme = folder / "README.md"
    if readme.exists():
        kept.append(readme)
    else:
        _write(readme, render_readme(folder.name))
    _write(config, render_toml(forum=forum, codebooks=[b.relative_to(folder).as_posix() for b in books]))
    return InitResult(folder, config, books, None if readme in kept else readme, kept)


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(MODE)


def toml_value(value: Any) -> str:
    """A value written as TOML (strings as basic strings, which JSON's escapes are valid in)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def render_toml(*, forum: str | None, codebooks: list[str]) -> str:
    """The text of a new study's ``forumkit.toml``: every setting, set or commented out, each with its comment."""
    lines = ["# A forumkit study. Every forumkit command run in this folder (or a folder below it) takes its",
             "# defaults from this file; a flag on the command line overrides them. Paths are relative to this",
             "# file's folder. `forumkit config` shows the settings in force and where each comes from;",
             "# `forumkit status` shows where the study stands. A commented-out key keeps the command's own",
             "# default.",
             "#",
             "# Ids one step makes and the next reads are not typed again: `studio pull`, `agreement`,",
             "# `aggregate`, `report`, `export` and `suggest report` read the Label Studio project that",
             "# `studio push` last made for [sample] name, unless [studio] project names another."]
    for section, comment in SECTIONS.items():
        lines += ["", f"# {comment}", f"[{section}]"]
        for setting in (s for s in SETTINGS if s.section == section):
            value = setting.init
            if setting.name == "forum.url" and forum:
                value = forum
            if setting.name == "codebooks.files":
                value = codebooks
            commands = sorted({f"`{f.command}`" for f in setting.feeds})
            used = "every command that reads or writes the store" if len(commands) > 6 else ", ".join(commands)
            note = f"# {setting.help} Used by {used}."
            if value is None:
                lines.append(f"# {setting.key} = {toml_value(setting.example)}")
                lines.append(f"#   {note[2:]} Unset: {setting.absent}.")
            else:
                lines.append(note)
                lines.append(f"{setting.key} = {toml_value(value)}")
    return "\n".join(lines) + "\n"


def render_readme(name: str) -> str:
    """The study's README: the steps, typed inside the folder."""
    width = max(len(command) for command, _ in STEPS)
    steps = "\n".join(f"{command:<{width}}   # {what}" for command, what in STEPS)
    return f"""# {name}: a forumkit study

The settings are in `forumkit.toml` (forum, store, codebooks, sampling design, Label Studio, suggestions,
report); the codebooks in `codebooks/` are copies of forumkit's shipped ones, to edit as the study needs.
Run the steps in this folder (or a folder below it); none needs `--db`, `--sample`, `--codebook` or
`--project`, and a flag still overrides the file for one run:

```text
{steps}
```

Between `studio push` and `studio pull` the coders code in Label Studio (`forumkit studio login` prints the
user name and password). The project that `studio pull`, `agreement`, `aggregate` and `report` read is the
one `studio push` last made for the sample named in `forumkit.toml` ([studio] project picks another).

`forumkit status` shows where the study stands; `forumkit config` shows each setting and where it comes from.
"""
