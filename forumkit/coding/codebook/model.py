"""The codebook model: a tree of codes with stable ids, names and coding guidance.

A :class:`Codebook` holds top-level categories (``categories``); each :class:`Code` may have children to any
depth. Ids are unique across the whole codebook and never change once coding has started; names are what
coders see. Both objects are frozen: edit the YAML, not the objects.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

import yaml

from forumkit.errors import CodebookError
from .shipped import resolve_codebook
from .validate import check_data, parse_and_check, raise_for_problems, read_text

if TYPE_CHECKING:  # pandas is imported only when a table is asked for
    import pandas as pd

__all__ = ["Code", "Codebook", "CodebookError", "TABLE_COLUMNS", "load_codebook"]

#: Columns of :meth:`Codebook.table`, in order.
TABLE_COLUMNS = ("code_id", "parent_id", "depth", "category", "subcategory", "name", "definition")


def _norm(text: str) -> str:
    """Whitespace-collapsed, case-folded text, for forgiving name matches."""
    return " ".join(str(text).split()).casefold()


@dataclass(frozen=True)
class Code:
    """One node of the tree: a category, a subcategory, or deeper.

    ``include``/``exclude`` say when the code applies and when another one does; ``examples`` are short
    illustrations (invented or paraphrased, never copied from coded data without permission); ``keywords``
    are words and short phrases that posts on the code tend to use (code suggestions match them lexically).
    """

    id: str
    name: str
    definition: str = ""
    include: str = ""
    exclude: str = ""
    examples: tuple[str, ...] = ()
    children: tuple["Code", ...] = ()
    keywords: tuple[str, ...] = ()

    def __post_init__(self) -> None:  # accept lists from callers, keep tuples inside
        object.__setattr__(self, "examples", tuple(self.examples))
        object.__setattr__(self, "keywords", tuple(self.keywords))
        object.__setattr__(self, "children", tuple(self.children))

    @property
    def is_leaf(self) -> bool:
        """True when the code has no children."""
        return not self.children

    def walk(self) -> Iterator["Code"]:
        """This code, then every code below it, depth-first in file order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def child(self, key: str) -> "Code | None":
        """The direct child whose id or name is ``key`` (names matched ignoring case and spacing), or None."""
        for child in self.children:
            if child.id == key:
                return child
        for child in self.children:
            if child.name == key or _norm(child.name) == _norm(key):
                return child
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form; empty optional fields are left out."""
        out: dict[str, Any] = {"id": self.id, "name": self.name}
        for key in ("definition", "include", "exclude"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.examples:
            out["examples"] = list(self.examples)
        if self.keywords:
            out["keywords"] = list(self.keywords)
        if self.children:
            out["children"] = [c.to_dict() for c in self.children]
        return out


@dataclass(frozen=True)
class Codebook:
    """A versioned tree of codes.

    ``categories`` are the top-level codes (the YAML's ``codes`` list). Look codes up with :meth:`find`
    (by id), :meth:`by_path` (names or ids from the top, as Label Studio reports them) and
    :meth:`category_of`; iterate with :meth:`codes`; flatten with :meth:`table`.

    Example::

        cb = load_codebook("hf-challenges")
        cb.category_of("CH.MEMORY_AND_PERFORMANCE.SPEED")   # ('Memory & Performance', 'Speed')
    """

    id: str
    name: str
    version: str = "1.0"
    description: str = ""
    citation: str = ""
    categories: tuple[Code, ...] = ()
    _paths: dict[str, tuple[Code, ...]] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", tuple(self.categories))
        object.__setattr__(self, "version", str(self.version))
        paths: dict[str, tuple[Code, ...]] = {}

        def index(code: Code, above: tuple[Code, ...]) -> None:
            if code.id in paths:
                raise CodebookError(f"codebook {self.id} uses the id {code.id!r} twice",
                                    hint="give every code its own id")
            paths[code.id] = above + (code,)
            for child in code.children:
                index(child, paths[code.id])

        for top in self.categories:
            index(top, ())
        object.__setattr__(self, "_paths", paths)

    # -- lookups -------------------------------------------------------------------------------------------
    def codes(self) -> Iterator[tuple[tuple[str, ...], Code]]:
        """Every code, depth-first in file order, with its path of names from the top category."""
        for code_id, path in self._paths.items():  # dicts keep insertion order: depth-first
            yield tuple(c.name for c in path), path[-1]

    def code_ids(self) -> list[str]:
        """All ids, depth-first in file order."""
        return list(self._paths)

    def __contains__(self, code_id: object) -> bool:
        return code_id in self._paths

    def __len__(self) -> int:
        """The number of codes at every depth."""
        return len(self._paths)

    def find(self, code_id: str) -> Code:
        """The code with this id; CodebookError (with the closest ids as a hint) when there is none."""
        try:
            return self._paths[code_id][-1]
        except KeyError:
            raise self._unknown(code_id) from None

    def path_of(self, code_id: str) -> tuple[Code, ...]:
        """The codes from the top category down to ``code_id``, both included."""
        if code_id not in self._paths:
            raise self._unknown(code_id)
        return self._paths[code_id]

    def parent_of(self, code_id: str) -> Code | None:
        """The code directly above, or None for a top-level category."""
        path = self.path_of(code_id)
        return path[-2] if len(path) > 1 else None

    def by_path(self, path: Sequence[str] | str) -> Code:
        """The code at ``path``: names or ids (mixed freely) from the top category down.

        Label Studio's Taxonomy results are such paths (ids when the config sets ``alias``, as
        :func:`label_config` does; names otherwise), so ``by_path(result["value"]["taxonomy"][0])``
        maps a chosen item back to its code. Names match ignoring case and spacing.
        """
        steps = (path,) if isinstance(path, str) else tuple(path)
        if not steps:
            raise CodebookError("an empty path names no code", hint="give at least the category")
        level = Code(id="", name=self.name, children=self.categories)
        for depth, step in enumerate(steps):
            found = level.child(str(step))
            if found is None:
                where = " > ".join(map(str, steps[:depth])) or f"the top of {self.id}"
                choices = ", ".join(repr(c.name) for c in level.children) or "nothing"
                raise CodebookError(f"no code {step!r} under {where} in codebook {self.id}",
                                    hint=f"choose one of {choices}")
            level = found
        return level

    def category_of(self, code_id: str) -> tuple[str, str | None]:
        """(top-level category name, name of the code itself or None when it is a top-level category)."""
        path = self.path_of(code_id)
        return path[0].name, (path[-1].name if len(path) > 1 else None)

    def _unknown(self, code_id: str) -> CodebookError:
        close = difflib.get_close_matches(str(code_id), list(self._paths), n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(close)}?" if close else "list the ids with: forumkit codebook show FILE"
        return CodebookError(f"codebook {self.id} has no code {code_id!r}", hint=hint)

    # -- tables and serialisation ----------------------------------------------------------------------------
    def table(self) -> "pd.DataFrame":
        """One row per code, depth-first: code_id, parent_id (missing at the top), depth (0 at the top),
        category (top-level name), subcategory (the code's own name; missing at the top), name, definition."""
        import pandas as pd

        rows = []
        for code_id, path in self._paths.items():
            code = path[-1]
            rows.append((code_id, path[-2].id if len(path) > 1 else None, len(path) - 1, path[0].name,
                         code.name if len(path) > 1 else None, code.name, code.definition))
        return pd.DataFrame(rows, columns=list(TABLE_COLUMNS)).astype({"depth": "int64"})

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, the same shape as the YAML file (used to snapshot a codebook into the store)."""
        out: dict[str, Any] = {"id": self.id, "name": self.name, "version": self.version}
        if self.description:
            out["description"] = self.description
        if self.citation:
            out["citation"] = self.citation
        out["codes"] = [c.to_dict() for c in self.categories]
        return out

    @classmethod
    def from_dict(cls, data: Any) -> "Codebook":
        """Build from :meth:`to_dict`'s shape (or parsed YAML); CodebookError listing the problems if invalid."""
        raise_for_problems(check_data(data), f"codebook {data.get('id', '?') if isinstance(data, dict) else '?'}")
        return _build(data)

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<string>") -> "Codebook":
        """Parse and validate YAML text; CodebookError listing the problems if invalid."""
        data, problems = parse_and_check(text)
        raise_for_problems(problems, source)
        return _build(data)

    def to_yaml(self) -> str:
        """The codebook as YAML, in the layout :func:`load_codebook` reads (multi-line text as ``|`` blocks)."""
        return yaml.dump(self.to_dict(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110,
                         default_flow_style=False)

    def save(self, path: str | Path) -> Path:
        """Write :meth:`to_yaml` to ``path`` (UTF-8) and return the path."""
        path = Path(path)
        try:
            path.write_text(self.to_yaml(), encoding="utf-8")
        except OSError as exc:
            raise CodebookError(f"cannot write {path}: {exc.strerror or exc}", hint="check the folder exists") from exc
        return path


def load_codebook(path: str | Path) -> Codebook:
    """Read and validate a codebook YAML file or a shipped codebook's name (:func:`.shipped.resolve_codebook`);
    CodebookError listing the problems when it is invalid.

    Example: ``load_codebook("hf-challenges").find("CH.SPACES").name == "Spaces"``
    """
    path = resolve_codebook(path)
    data, problems = parse_and_check(read_text(path))
    raise_for_problems(problems, str(path))
    return _build(data)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _build_code(data: dict[str, Any]) -> Code:
    return Code(id=str(data["id"]).strip(), name=" ".join(str(data["name"]).split()),
                definition=_text(data.get("definition")), include=_text(data.get("include")),
                exclude=_text(data.get("exclude")),
                examples=tuple(_text(e) for e in (data.get("examples") or ()) if _text(e)),
                keywords=tuple(" ".join(_text(k).split()) for k in (data.get("keywords") or ()) if _text(k)),
                children=tuple(_build_code(c) for c in (data.get("children") or ())))


def _build(data: dict[str, Any]) -> Codebook:
    """Objects from data that :func:`check_data` found free of errors."""
    return Codebook(id=_text(data["id"]), name=_text(data["name"]), version=_text(data["version"]),
                    description=_text(data.get("description")), citation=_text(data.get("citation")),
                    categories=tuple(_build_code(c) for c in data["codes"]))


class _Dumper(yaml.SafeDumper):
    """Block style, lists indented under their key, no anchors, ``|`` for multi-line text."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None)


_Dumper.add_representer(str, _represent_str)


_SLUG_DROP = re.compile(r"['\u2019`]")
_SLUG_SEP = re.compile(r"[^A-Z0-9]+")


def slug(name: str) -> str:
    """The id segment of a name: ASCII upper case, ``&`` -> AND, apostrophes dropped, other runs -> ``_``.

    ``"HF Libraries' Features"`` -> ``HF_LIBRARIES_FEATURES``; ``"Memory & Performance"`` -> ``MEMORY_AND_PERFORMANCE``.
    """
    import unicodedata

    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = _SLUG_DROP.sub("", text.replace("&", " and ")).upper()
    return _SLUG_SEP.sub("_", text).strip("_") or "CODE"


def unique_slugs(names: Iterable[str]) -> list[str]:
    """:func:`slug` of each name, with ``_2``, ``_3``... added to repeats, in order (deterministic)."""
    used: set[str] = set()
    out = []
    for name in names:
        base = candidate = slug(name)
        n = 1
        while candidate in used:
            n += 1
            candidate = f"{base}_{n}"
        used.add(candidate)
        out.append(candidate)
    return out
