"""Model families: an editable name mapping, and the family of each Hub model (see :func:`model_family`)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any

import pandas as pd

from forumkit.errors import UsageError
from .rows import as_list, clean, column

__all__ = ["OTHER", "UNKNOWN", "FamilyMapping", "load_mapping", "model_family", "resolve_mapping"]

UNKNOWN, OTHER = "unknown", "other"
_MAPPING_HINT = ("a mapping is a CSV file with the header pattern,family; a pattern is a name matched in any case, "
                 "or re:<regular expression> matched against the whole name")


@dataclass(frozen=True)
class FamilyMapping:
    """Names -> model family: exact names (any case) first, then regular expressions in file order."""

    exact: dict[str, str] = field(default_factory=dict)  # casefolded name -> family
    patterns: tuple[tuple[re.Pattern, str], ...] = ()
    source: str = "(empty)"

    @property
    def families(self) -> set[str]:
        return set(self.exact.values()) | {family for _, family in self.patterns}

    def lookup(self, name: str) -> str | None:
        """The family ``name`` maps to, or None."""
        found = self.exact.get(name.casefold())
        if found is None:
            found = next((family for pattern, family in self.patterns if pattern.fullmatch(name)), None)
        return found


def load_mapping(path: str | PathLike[str] | None = None) -> FamilyMapping:
    """Read a ``pattern,family`` CSV (blank lines and ``#`` lines ignored); None: the shipped default.

    Raises a one-line UsageError naming the file and line when it cannot be read or is malformed.
    """
    if path is None:
        source = "forumkit/data/model_families.csv"
        text = (resources.files("forumkit") / "data" / "model_families.csv").read_text(encoding="utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
            raise UsageError(f"cannot read model family mapping {source}: {reason}", hint=_MAPPING_HINT) from None
    exact: dict[str, str] = {}
    patterns: list[tuple[re.Pattern, str]] = []
    header = False
    for lineno, fields in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in fields]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if not header:
            if [c.casefold() for c in cells] != ["pattern", "family"]:
                raise UsageError(f"model family mapping {source}, line {lineno}: the header is "
                                 f"{','.join(cells)!r}, not 'pattern,family'", hint=_MAPPING_HINT)
            header = True
            continue
        if len(cells) != 2 or not cells[0] or not cells[1]:
            raise UsageError(f"model family mapping {source}, line {lineno}: expected a pattern and a family, "
                             f"got {','.join(fields)!r}", hint=_MAPPING_HINT)
        pattern, family = cells
        if pattern.startswith("re:"):
            try:
                patterns.append((re.compile(pattern[3:], re.IGNORECASE), family))
            except re.error as exc:
                raise UsageError(f"model family mapping {source}, line {lineno}: {pattern[3:]!r} is not a regular "
                                 f"expression ({exc})", hint=_MAPPING_HINT) from None
        else:
            exact.setdefault(pattern.casefold(), family)
    if not header:
        raise UsageError(f"model family mapping {source} has no header line 'pattern,family'", hint=_MAPPING_HINT)
    return FamilyMapping(exact, tuple(patterns), source)


def resolve_mapping(mapping: FamilyMapping | str | PathLike[str] | None) -> FamilyMapping:
    """A mapping as given, or read from its path (None: the shipped one)."""
    return mapping if isinstance(mapping, FamilyMapping) else load_mapping(mapping)


def model_family(rows: pd.DataFrame, mapping: FamilyMapping | str | PathLike[str] | None = None, *,
                 vocabulary=None) -> pd.Series:
    """Each row's model family (see :mod:`forumkit.analysis.hubtrends`): model_type, else a tag, else a base
    model, else ``unknown``.

    ``mapping``: a :class:`FamilyMapping`, the path of a ``pattern,family`` CSV, or None for the shipped one;
    ``vocabulary``: the :class:`~forumkit.collect.mentions.ModelVocabulary` for base model names (default: forumkit's).
    """
    from forumkit.collect.mentions import ModelVocabulary

    mapping = resolve_mapping(mapping)
    vocabulary = vocabulary if vocabulary is not None else ModelVocabulary.default()
    types = [clean(v) for v in column(rows, "model_type").tolist()]
    mapped = {t: mapping.lookup(t) or t for t in set(types) if t is not None}
    family: list[str | None] = [mapped.get(t) if t is not None else None for t in types]
    known = {name.casefold(): name for name in (*vocabulary.models, *mapping.families, *mapped.values())}

    by_tag: dict[str, str | None] = {}  # tags repeat a lot: look each up once

    def tag_family(tag: str) -> str | None:
        if tag not in by_tag:
            by_tag[tag] = mapping.lookup(tag) or known.get(tag.casefold())
        return by_tag[tag]

    def from_tags(tags: list[str]) -> str | None:
        return next((f for f in map(tag_family, tags) if f), None)

    by_text: dict[str, str | None] = {}  # and so do whole tag lists

    def from_cell(cell: Any) -> str | None:
        if not isinstance(cell, str):
            return from_tags(as_list(cell))
        if cell not in by_text:
            by_text[cell] = from_tags(as_list(cell))
        return by_text[cell]

    todo = [i for i, f in enumerate(family) if f is None]
    if todo:
        tags = column(rows, "tags").tolist()
        for i in todo:
            family[i] = from_cell(tags[i])
    todo = [i for i in todo if family[i] is None]
    if todo and "base_models" in rows.columns:
        ids, cells = column(rows, "id").tolist(), rows["base_models"].tolist()
        own = {i: f for i, f in zip(ids, family) if i is not None}
        bases = dict(zip(ids, cells))
        by_name: dict[str, str | None] = {}
        derived: dict[str, str | None] = {}  # families of rows in the chain found through their own bases

        def name_match(base: str) -> str | None:
            if base not in by_name:
                name = base.rsplit("/", 1)[-1]
                found = mapping.lookup(base) or mapping.lookup(name)
                if found is None:
                    found = next(iter(vocabulary.find(name) or vocabulary.find(base)), None)
                by_name[base] = (mapping.lookup(found) or found) if found else None
            return by_name[base]

        def resolve(base_list: Any, seen: set[str]) -> str | None:
            for base in as_list(base_list):
                found = None
                if base in own and base not in seen:
                    if own[base] is None and base not in derived:
                        derived[base] = resolve(bases[base], seen | {base})
                    found = own[base] or derived[base]
                found = found or name_match(base)
                if found:
                    return found
            return None

        for i in todo:
            family[i] = resolve(cells[i], {ids[i]} if ids[i] is not None else set())
    return pd.Series([f or UNKNOWN for f in family], index=rows.index, dtype="object", name="model_type")
