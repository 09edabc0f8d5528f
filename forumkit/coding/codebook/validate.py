"""Reading codebook YAML with line numbers, and checking it: one :class:`Problem` per thing to fix.

YAML is composed with a loader that remembers where each mapping, list and value starts (also where an
alias ``*name`` stands), so every problem can point at its line. Anchors and aliases are followed by
identity: an alias that puts a code inside itself is reported as a cycle, never walked forever.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import yaml

from forumkit.errors import CodebookError

__all__ = ["Problem", "validate_codebook", "check_data", "parse_and_check", "raise_for_problems", "read_text"]

TOP_KEYS = ("id", "name", "version", "description", "citation", "codes")
REQUIRED_TOP = ("id", "name", "version", "codes")
CODE_KEYS = ("id", "name", "definition", "include", "exclude", "examples", "keywords", "children")
TEXT_KEYS = ("definition", "include", "exclude")
ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:\-]+$")


@dataclass(frozen=True)
class Problem:
    """Something wrong in a codebook: its 1-based ``line`` (None when unknown) and a one-line ``message``.

    ``severity`` is ``"error"`` (the codebook cannot be used) or ``"warning"`` (it can; e.g. an unknown key,
    which is ignored).
    """

    line: int | None
    message: str
    severity: str = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def format(self, source: str) -> str:
        """``FILE:LINE: message`` (``FILE: message`` without a line; ``warning:`` before warnings)."""
        where = f"{source}:{self.line}" if self.line else source
        return f"{where}: {'' if self.is_error else 'warning: '}{self.message}"


# -- YAML with line numbers ------------------------------------------------------------------------------------
class _Map(dict):
    """A parsed mapping that knows its line and the line of each value."""

    line: int | None = None
    key_lines: dict[Any, int]


class _Seq(list):
    """A parsed list that knows its line and the line of each item."""

    line: int | None = None
    item_lines: list[int]


class _LineLoader(yaml.SafeLoader):
    """SafeLoader building :class:`_Map`/:class:`_Seq`; an alias keeps its own position, its target's identity."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.problems: list[Problem] = []

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            target = super().compose_node(parent, index)
            stand_in = type(target)(target.tag, target.value, event.start_mark, event.end_mark)
            stand_in.alias_of = getattr(target, "alias_of", target)
            return stand_in
        return super().compose_node(parent, index)

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        return super().construct_object(getattr(node, "alias_of", node), deep)


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> Any:
    data = _Map()
    data.line, data.key_lines = node.start_mark.line + 1, {}
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(None, None, "a mapping key must be plain text",
                                                    key_node.start_mark) from None
        if key in data:
            loader.problems.append(Problem(key_node.start_mark.line + 1,
                                           f"the key {key!r} appears twice in one mapping "
                                           f"(first at line {data.key_lines[key]})"))
        data[key] = loader.construct_object(value_node)
        data.key_lines[key] = value_node.start_mark.line + 1


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> Any:
    data = _Seq()
    data.line, data.item_lines = node.start_mark.line + 1, []
    yield data
    for child in node.value:
        data.append(loader.construct_object(child))
        data.item_lines.append(child.start_mark.line + 1)


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def parse_yaml(text: str) -> tuple[Any, list[Problem]]:
    """The YAML document with line information, and its syntax problems (data is None when unreadable)."""
    loader = _LineLoader(text)
    try:
        return loader.get_single_data(), loader.problems
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"YAML syntax error: {exc.problem or exc.context}"
        if exc.problem and exc.context:
            at = f" at line {exc.context_mark.line + 1}" if exc.context_mark and exc.context_mark != mark else ""
            message += f" ({exc.context}{at})"
        return None, [Problem(mark.line + 1 if mark else None, " ".join(message.split()))]
    except yaml.YAMLError as exc:
        return None, [Problem(None, f"YAML error: {' '.join(str(exc).split())}")]
    finally:
        loader.dispose()


# -- checks --------------------------------------------------------------------------------------------------
def _line(obj: Any, default: int | None = None) -> int | None:
    return getattr(obj, "line", None) or default


def _value_line(mapping: Any, key: Any) -> int | None:
    return getattr(mapping, "key_lines", {}).get(key) or _line(mapping)


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    if value is None:
        return "nothing"
    if isinstance(value, (int, float)):
        return "a number"
    return f"a {type(value).__name__}"


class _Checker:
    """Walks parsed data once, following aliases by identity."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.ids: dict[str, int | None] = {}  # id -> line where first used
        self.seen: dict[int, int | None] = {}  # id(obj) -> line of every code mapping walked

    def error(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(line, message))

    def warn(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(line, message, "warning"))

    def top(self, data: Any) -> None:
        if data is None:
            self.error(None, "the file is empty: a codebook needs id, name, version and codes")
            return
        if not isinstance(data, dict):
            self.error(_line(data, 1), f"a codebook is a mapping with id, name, version and codes, "
                                       f"not {_type_name(data)}")
            return
        for key in data:
            if key not in TOP_KEYS:
                self.warn(_value_line(data, key), f"unknown top-level key {key!r} is ignored "
                                                  f"(known: {', '.join(TOP_KEYS)})")
        for key in REQUIRED_TOP:
            value = data.get(key)
            if key not in data or value is None or (isinstance(value, (str, list)) and not str(value).strip()):
                self.error(_line(data, 1) if key not in data else _value_line(data, key),
                           f"missing top-level field {key!r}" if key not in data
                           else f"top-level field {key!r} is empty")
        for key in ("id", "name", "description", "citation"):
            if data.get(key) is not None and not isinstance(data[key], str):
                self.error(_value_line(data, key), f"top-level {key!r} must be text, not {_type_name(data[key])}")
        if isinstance(data.get("id"), str) and data["id"].strip() and not ID_PATTERN.match(data["id"].strip()):
            self.error(_value_line(data, "id"), f"codebook id {data['id']!r} may only hold letters, digits and _ . : -")
        version = data.get("version")
        if version is not None and (isinstance(version, (bool, list, dict))):
            self.error(_value_line(data, "version"), f"version must be text such as \"1.0\", not {_type_name(version)}")
        codes = data.get("codes")
        if codes is not None and not isinstance(codes, list):
            self.error(_value_line(data, "codes"), f"'codes' must be a list of codes, not {_type_name(codes)}")
        elif codes:
            self.children(codes, _value_line(data, "codes"), [], "the top level", (id(codes),))

    def children(self, items: list, line: int | None, ancestors: list[tuple[Any, str, int | None]],
                 owner: str, lists: tuple[int, ...]) -> None:
        lines = getattr(items, "item_lines", [])
        names: dict[str, int | None] = {}
        for index, item in enumerate(items):
            at = lines[index] if index < len(lines) else _line(item, line)
            for obj, code_id, code_line in ancestors:
                if item is obj:
                    self.error(at, f"cycle: a YAML alias puts code {code_id!r} (line {code_line}) inside itself")
                    break
            else:
                if id(item) in self.seen:
                    self.error(at, f"a YAML alias repeats the code of line {self.seen[id(item)]} here; "
                                   f"write a separate code with its own id instead")
                    continue
                name = self.code(item, at, ancestors, lists)
                if name:
                    key = " ".join(name.split()).casefold()
                    if key in names:
                        self.error(at, f"two codes under {owner} are named {name!r} (lines {names[key]} and {at}); "
                                       f"Label Studio needs different names among siblings")
                    names.setdefault(key, at)

    def code(self, item: Any, at: int | None, ancestors: list[tuple[Any, str, int | None]],
             lists: tuple[int, ...]) -> str | None:
        """Check one code and its subtree; return its name when it has a usable one."""
        if not isinstance(item, dict):
            self.error(at, f"a code must be a mapping with at least id and name, not {_type_name(item)}")
            return None
        at = _line(item, at)
        self.seen[id(item)] = at
        raw_id, raw_name = item.get("id"), item.get("name")
        label = f"code {raw_id!r}" if isinstance(raw_id, str) and raw_id.strip() else (
            f"code {raw_name!r}" if isinstance(raw_name, str) and raw_name.strip() else "a code")
        for key in item:
            if key not in CODE_KEYS:
                self.warn(_value_line(item, key), f"unknown key {key!r} in {label} is ignored "
                                                  f"(known: {', '.join(CODE_KEYS)})")
        code_id = None
        if "id" not in item or raw_id is None:
            self.error(at, f"{label} has no id")
        elif not isinstance(raw_id, str):
            self.error(_value_line(item, "id"), f"the id of {label} must be text, not {_type_name(raw_id)} "
                                                f"(quote it: id: \"{raw_id}\")")
        elif not raw_id.strip():
            self.error(_value_line(item, "id"), f"{label} has an empty id")
        elif not ID_PATTERN.match(raw_id.strip()):
            self.error(_value_line(item, "id"), f"id {raw_id!r} may only hold letters, digits and _ . : -")
        else:
            code_id = raw_id.strip()
            ancestor = next((a for a in ancestors if a[1] == code_id), None)
            if ancestor is not None:
                self.error(_value_line(item, "id"), f"cycle: code {code_id!r} has the id of its own ancestor "
                                                    f"(line {ancestor[2]})")
            elif code_id in self.ids:
                self.error(_value_line(item, "id"), f"duplicate id {code_id!r} (first used at line {self.ids[code_id]})"
                           if self.ids[code_id] else f"duplicate id {code_id!r}")
            else:
                self.ids[code_id] = _value_line(item, "id")
        name = None
        if "name" not in item or raw_name is None:
            self.error(at, f"{label} has no name")
        elif not isinstance(raw_name, str):
            self.error(_value_line(item, "name"), f"the name of {label} must be text, not {_type_name(raw_name)}")
        elif not raw_name.strip():
            self.error(_value_line(item, "name"), f"{label} has an empty name")
        else:
            name = raw_name
        for key in TEXT_KEYS:
            value = item.get(key)
            if value is not None and not isinstance(value, str):
                self.error(_value_line(item, key), f"{key!r} of {label} must be text, not {_type_name(value)}")
        for key, one in (("examples", "example"), ("keywords", "keyword")):
            values = item.get(key)
            if values is None:
                continue
            if not isinstance(values, list):
                self.error(_value_line(item, key),
                           f"{key!r} of {label} must be a list of strings, not {_type_name(values)}")
                continue
            lines = getattr(values, "item_lines", [])
            for index, value in enumerate(values):
                if not isinstance(value, str):
                    self.error(lines[index] if index < len(lines) else _value_line(item, key),
                               f"{one} {index + 1} of {label} must be text, not {_type_name(value)}")
        children = item.get("children")
        if children is not None:
            if not isinstance(children, list):
                self.error(_value_line(item, "children"),
                           f"'children' of {label} must be a list of codes, not {_type_name(children)}")
            elif id(children) in lists:
                self.error(_value_line(item, "children"), f"cycle: a YAML alias puts {label} (line {at}) "
                                                          f"among its own children")
            else:
                self.children(children, _value_line(item, "children"), ancestors + [(item, code_id or "?", at)],
                              label, lists + (id(children),))
        return name


def check_data(data: Any) -> list[Problem]:
    """Every problem in parsed codebook data (a dict from YAML or :meth:`Codebook.to_dict`), in file order."""
    checker = _Checker()
    checker.top(data)
    return sorted(checker.problems, key=lambda p: (p.line is None, p.line or 0))


def parse_and_check(text: str) -> tuple[Any, list[Problem]]:
    """Parse YAML text and check it: (data or None, problems)."""
    data, problems = parse_yaml(text)
    if data is None and problems:
        return None, problems
    return data, sorted(problems + check_data(data), key=lambda p: (p.line is None, p.line or 0))


def raise_for_problems(problems: Sequence[Problem], source: str, *, shown: int = 5) -> None:
    """CodebookError naming the first few errors, if there is any error (warnings alone pass)."""
    errors = [p for p in problems if p.is_error]
    if not errors:
        return
    listed = "; ".join(f"line {p.line}: {p.message}" if p.line else p.message for p in errors[:shown])
    more = f"; and {len(errors) - shown} more" if len(errors) > shown else ""
    count = "1 problem" if len(errors) == 1 else f"{len(errors)} problems"
    raise CodebookError(f"{source} is not a valid codebook ({count}): {listed}{more}",
                        hint=f"see each one with: forumkit codebook validate {source}", problems=errors)


def read_text(path: str | Path) -> str:
    """A codebook file's text; CodebookError when it is missing, unreadable or not UTF-8."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CodebookError(f"{path} does not exist", hint="give the path of a codebook YAML file") from None
    except UnicodeDecodeError as exc:
        raise CodebookError(f"{path} is not UTF-8 text (byte {exc.start})", hint="save it as UTF-8") from None
    except OSError as exc:
        raise CodebookError(f"cannot read {path}: {exc.strerror or exc}", hint="check the path") from None


def validate_codebook(path: str | Path) -> list[Problem]:
    """Every problem in the codebook file, in line order; empty when it is valid.

    Checks YAML syntax, the top-level fields, each code's id and name (present, text, not empty), that ids
    are unique across the codebook and never repeat an ancestor's (cycles, also through YAML aliases), the
    types of definition/include/exclude/examples/keywords/children, distinct names among siblings, and unknown keys
    (warnings: they are ignored). A missing file raises CodebookError.

    Example: ``[p.format(path) for p in validate_codebook(resolve_codebook("hf-challenges"))]``
    """
    return parse_and_check(read_text(path))[1]
