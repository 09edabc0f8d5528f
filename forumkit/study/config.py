"""A study's ``forumkit.toml``: found from the current folder up, read with tomllib, checked key by key, and
turned into the defaults of every command (see :mod:`forumkit.study.settings` for the table of keys).

tomllib gives no line numbers, so the line of a key is found by scanning the file's text for its table header
and the key below it; every error names the key, the file and that line.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from forumkit.errors import ForumkitError

from .settings import FILE_NAME, SECTIONS, SETTINGS, Setting

__all__ = ["StudyConfig", "Value", "find_config", "load_config", "require_config", "default_map",
           "last_pushed_project", "NO_STUDY_HINT"]

NO_STUDY_HINT = "make a study folder with: forumkit init DIR (then run the commands inside it)"

_BY_NAME = {s.name: s for s in SETTINGS}
_KINDS = {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false",
          "path": "a path (a string)", "paths": "a list of paths (strings)", "strs": "a list of strings"}


@dataclass(frozen=True)
class Value:
    """A setting as the file gives it: the value (paths made absolute against the file's folder) and its line."""

    setting: Setting
    value: Any
    line: int


@dataclass(frozen=True)
class StudyConfig:
    """A study: its ``forumkit.toml`` and the settings written in it, by ``section.key``."""

    path: Path
    values: dict[str, Value] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.path.parent

    def get(self, name: str, default: Any = None) -> Any:
        """The value of ``section.key`` in the file, else ``default``."""
        found = self.values.get(name)
        return default if found is None else found.value

    def where(self, name: str) -> str:
        """Where a setting comes from: ``forumkit.toml:LINE``, or ``default`` when the file does not set it."""
        found = self.values.get(name)
        return f"{self.path.name}:{found.line}" if found else "default"

    def store(self) -> Path:
        """The study's store (``[forum] store``; forum.db in the study folder when unset)."""
        return self.get("forum.store", self.folder / "forum.db")


def find_config(start: Path | None = None) -> Path | None:
    """The nearest ``forumkit.toml``: in ``start`` (the current folder) or the first folder above it."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / FILE_NAME
        if candidate.is_file():
            return candidate
    return None


def require_config(start: Path | None = None) -> StudyConfig:
    """The study the current folder is in; a one-line error saying how to make one when there is none."""
    found = find_config(start)
    if found is None:
        raise ForumkitError(f"no {FILE_NAME} in {(start or Path.cwd()).resolve()} or any folder above it",
                            hint=NO_STUDY_HINT)
    return load_config(found)


def load_config(path: Path) -> StudyConfig:
    """Read and check a ``forumkit.toml``; an unknown key or a value of the wrong type is an error naming the
    key, the file and the line."""
    path = Path(path).resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ForumkitError(f"cannot read {path}: {exc}", hint="check the file") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ForumkitError(f"{path} is not valid TOML: {exc}", hint="fix that line") from exc
    lines = text.splitlines()
    values: dict[str, Value] = {}
    for section, table in data.items():
        if not isinstance(table, dict):
            raise _error(path, _line(lines, None, section), f"'{section}' must be a table such as [{section}]",
                         f"the sections are {', '.join(f'[{s}]' for s in SECTIONS)}")
        if section not in SECTIONS:
            raise _error(path, _line(lines, section, None), f"unknown section [{section}]",
                         f"the sections are {', '.join(f'[{s}]' for s in SECTIONS)}")
        for key, raw in table.items():
            line = _line(lines, section, key)
            setting = _BY_NAME.get(f"{section}.{key}")
            if setting is None:
                known = ", ".join(s.key for s in SETTINGS if s.section == section)
                raise _error(path, line, f"unknown key '{key}' in [{section}]", f"the keys of [{section}] are {known}")
            values[setting.name] = Value(setting, _convert(setting, raw, path, line), line)
    config = StudyConfig(path, values)
    _check_together(config)
    return config


def _error(path: Path, line: int, what: str, hint: str) -> ForumkitError:
    return ForumkitError(f"{path}:{line}: {what}", hint=hint)


def _convert(setting: Setting, raw: Any, path: Path, line: int) -> Any:
    """The value in Python terms (paths absolute against the file's folder); a wrong type is an error."""
    kind = setting.kind
    ok = {"str": isinstance(raw, str), "path": isinstance(raw, str), "bool": isinstance(raw, bool),
          "int": isinstance(raw, int) and not isinstance(raw, bool),
          "float": isinstance(raw, (int, float)) and not isinstance(raw, bool),
          "paths": isinstance(raw, list) and all(isinstance(v, str) for v in raw),
          "strs": isinstance(raw, list) and all(isinstance(v, str) for v in raw)}[kind]
    if not ok:
        raise _error(path, line, f"[{setting.section}] {setting.key} must be {_KINDS[kind]}, not {_shown(raw)}",
                     f"fix it or delete the line ({setting.help})")
    if kind == "path":
        return _absolute(path.parent, raw)
    if kind == "paths":
        return [_absolute(path.parent, v) for v in raw]
    if kind == "float":
        return float(raw)
    return raw


def _check_together(config: StudyConfig) -> None:
    """Settings that cannot hold together: a fixed sample size and the formula that would compute it."""
    if "sample.size" in config.values:
        for other in ("sample.confidence", "sample.margin"):
            if other in config.values:
                v = config.values[other]
                raise _error(config.path, v.line, f"[sample] {v.setting.key} computes the sample size that size "
                             f"(line {config.values['sample.size'].line}) fixes", "keep either size or "
                                                                                   "confidence and margin")


def _absolute(folder: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (folder / path).resolve()


def _shown(raw: Any) -> str:
    kind = {str: "a string", bool: "a boolean", int: "an integer", float: "a number", list: "a list",
            dict: "a table"}.get(type(raw), type(raw).__name__)
    return f"{kind} ({raw!r})" if not isinstance(raw, (list, dict)) else kind


_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")


def _line(lines: list[str], section: str | None, key: str | None) -> int:
    """1-based line of ``key`` in table ``section`` (``None``: the top level), or of the table's header when
    ``key`` is None, found by scanning the text; the header's line (or 1) for a key written in another form
    (a dotted key, say)."""
    current: str | None = None
    header_line: int | None = None
    key_pattern = None if key is None else re.compile(
        rf"^\s*(?:{re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')\s*=")
    for number, text in enumerate(lines, start=1):
        header = _HEADER.match(text)
        if header:
            current = header.group(1).strip().strip("\"'")
            if current == section and header_line is None:
                header_line = number
                if key is None:
                    return number
            continue
        if key_pattern is not None and current == section and key_pattern.match(text):
            return number
    return header_line or 1


# -- the defaults of every command ------------------------------------------------------------------------------

def default_map(config: StudyConfig, argv: Iterable[str] = ()) -> dict[str, Any]:
    """Click's nested ``default_map`` from the settings: {command: {subcommand: {param: value}}}.

    ``argv`` is the command line as typed: a feed whose ``unless`` flag is on it is left out. The derived
    defaults (see :mod:`forumkit.study.settings`) are callables, asked only when the option is not given.
    """
    typed = {arg.split("=", 1)[0] for arg in argv if arg.startswith("--")}
    out: dict[str, Any] = {}

    def put(feed, value: Any) -> None:
        if typed.intersection(feed.unless):
            return
        node = out
        for part in feed.path:
            node = node.setdefault(part, {})
        node[feed.param] = value

    for setting in SETTINGS:
        if setting.name in config.values:
            value = config.values[setting.name].value
        elif setting.name == "studio.project" and config.get("sample.name"):
            value = _lazy_project(config)
        else:
            continue
        if setting.name == "studio.suggestions":
            if not value:
                continue
            value = _lazy_suggestions(config)
        for feed in setting.feeds:
            put(feed, value)
    return out


def last_pushed_project(config: StudyConfig) -> int | None:
    """forumkit's id of the project `studio push` last made for the study's sample; None before a push."""
    db, sample = config.store(), config.get("sample.name")
    if not sample or not db.exists():
        return None
    from forumkit.store import Store  # the store is opened only when a command asks for the project

    with Store(db) as store:
        return store.last_project_of_sample(sample)


def _lazy_project(config: StudyConfig) -> Callable[[], int | None]:
    return lambda: last_pushed_project(config)


def _lazy_suggestions(config: StudyConfig) -> Callable[[], Path | None]:
    def suggestions() -> Path | None:
        path = config.get("suggest.out")
        return path if path is not None and path.is_file() else None
    return suggestions
