"""Codebook maps: how the codes of one codebook version become the codes of the next.

A map is a small YAML file (documented in docs/codebook-evolution.md)::

    codebook: hf-challenges        # optional: the codebook both versions are of
    from: "1.0"                    # optional: OLD's version, checked
    to: "2.0"                      # optional: NEW's version, checked
    rename:                        # old id: new id (every A becomes B)
      CH.SPACES: CH.HF_SPACES
    merge:                         # every A and every B becomes C
      - from: [CH.A, CH.B]
        into: CH.C
    split:                         # C becomes A or B: the items need recoding
      - from: CH.C
        into: [CH.A, CH.B]
    retire: [CH.OLD_IDEA]          # the code goes; each removal is recorded

Codes of OLD that NEW keeps under the same id need no entry (moves and renamed names follow from the ids).
A map is applied to annotations again and again after an interruption, so it must give the same result
twice: :func:`check_map` refuses chains (A -> B while B -> C) for that reason, besides unknown ids, codes
mapped twice and codes of OLD that are neither kept nor mapped.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forumkit.errors import MapError
from .model import Codebook
from .validate import parse_yaml

__all__ = ["ACTIONS", "CodeMap", "MapError", "Outcome", "check_map", "checked_map", "load_map", "parse_map"]

#: What a map may do to an old code (``keep``: NEW has it under the same id, nothing to map).
ACTIONS = ("keep", "rename", "merge", "split", "retire")
_KEYS = ("codebook", "from", "to", "rename", "merge", "split", "retire")


@dataclass(frozen=True)
class Outcome:
    """What becomes of one old code: its ``action`` and the code(s) it becomes (a split's candidates)."""

    action: str
    targets: tuple[str, ...]


@dataclass(frozen=True)
class CodeMap:
    """A parsed map (see the module docstring); ``source`` names the file in messages."""

    rename: dict[str, str] = field(default_factory=dict)
    merge: tuple[tuple[tuple[str, ...], str], ...] = ()
    split: tuple[tuple[str, tuple[str, ...]], ...] = ()
    retire: tuple[str, ...] = ()
    codebook: str | None = None
    from_version: str | None = None
    to_version: str | None = None
    source: str = "<map>"

    def entries(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """(action, old id, targets) for every old code the map names, in file order (doubles included)."""
        out = [("rename", old, (new,)) for old, new in self.rename.items()]
        out += [("merge", old, (into,)) for sources, into in self.merge for old in sources]
        out += [("split", old, into) for old, into in self.split]
        out += [("retire", old, ()) for old in self.retire]
        return out

    def outcome(self, code_id: str) -> Outcome:
        """What the map does to ``code_id``; ``keep`` (itself) for a code it does not name."""
        for action, old, targets in self.entries():
            if old == code_id:
                return Outcome(action, targets)
        return Outcome("keep", (code_id,))

    def targets(self) -> set[str]:
        """Every new id the map names."""
        return {t for _, _, targets in self.entries() for t in targets}

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, the YAML's shape (stored with each migration)."""
        out: dict[str, Any] = {}
        for key, value in (("codebook", self.codebook), ("from", self.from_version), ("to", self.to_version)):
            if value is not None:
                out[key] = value
        out["rename"] = dict(self.rename)
        out["merge"] = [{"from": list(sources), "into": into} for sources, into in self.merge]
        out["split"] = [{"from": old, "into": list(into)} for old, into in self.split]
        out["retire"] = list(self.retire)
        return out


def _ids(value: Any, where: str, problems: list[str]) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or any(not isinstance(v, (str, int)) or not str(v).strip() for v in items):
        problems.append(f"{where}: give code ids as text")
        return ()
    return tuple(str(v).strip() for v in items)


def parse_map(data: Any, source: str = "<map>") -> CodeMap:
    """A :class:`CodeMap` from parsed YAML; MapError listing every problem of its shape."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise MapError(["a map is a YAML mapping with rename, merge, split and retire"], source)
    problems: list[str] = []
    for key in data:
        if key not in _KEYS:
            problems.append(f"unknown key {key!r}: use {', '.join(_KEYS)}")
    rename: dict[str, str] = {}
    raw = data.get("rename") or {}
    if not isinstance(raw, dict):
        problems.append("rename: write one 'OLD.ID: NEW.ID' per line")
    else:
        for old, new in raw.items():
            got = _ids(new, f"rename {old}", problems)
            if len(got) > 1:
                problems.append(f"rename {old}: one new id only; several are a split")
            elif got:
                rename[str(old).strip()] = got[0]
    merge: list[tuple[tuple[str, ...], str]] = []
    split: list[tuple[str, tuple[str, ...]]] = []
    for key, kept in (("merge", merge), ("split", split)):
        entries = data.get(key) or []
        if not isinstance(entries, list):
            problems.append(f"{key}: write a list of '- from: ... into: ...' entries")
            continue
        for n, entry in enumerate(entries, 1):
            where = f"{key} entry {n}"
            if not isinstance(entry, dict) or set(entry) != {"from", "into"}:
                problems.append(f"{where}: give exactly 'from' and 'into'")
                continue
            sources, into = _ids(entry["from"], f"{where} from", problems), _ids(entry["into"], f"{where} into",
                                                                                  problems)
            if key == "merge" and sources and into:
                if len(into) != 1 or len(sources) < 2:
                    problems.append(f"{where}: merge two or more codes 'from' into one code 'into'")
                else:
                    kept.append((sources, into[0]))
            elif key == "split" and sources and into:
                if len(sources) != 1 or len(into) < 2:
                    problems.append(f"{where}: split one code 'from' into two or more codes 'into'")
                else:
                    kept.append((sources[0], into))
    retire = _ids(data["retire"], "retire", problems) if data.get("retire") else ()
    versions = {k: (None if data.get(k) is None else str(data[k]).strip()) for k in ("codebook", "from", "to")}
    if problems:
        raise MapError(problems, source)
    return CodeMap(rename, tuple(merge), tuple(split), retire, versions["codebook"], versions["from"],
                   versions["to"], source)


def load_map(path: str | Path) -> CodeMap:
    """Read a map file; MapError (one line per problem) when it cannot be read or has the wrong shape."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise MapError([f"cannot read it ({exc.strerror or exc}): give the path of a map YAML file"],
                       str(path)) from None
    data, problems = parse_yaml(text)
    if problems:
        raise MapError([f"line {p.line}: {p.message}" if p.line else p.message for p in problems], str(path))
    return parse_map(data, str(path))


def _unknown(code_id: str, book: Codebook, role: str) -> str:
    close = difflib.get_close_matches(code_id, book.code_ids(), n=1, cutoff=0.6)
    fix = f"did you mean {close[0]}?" if close else f"use an id of {role}"
    return f"{code_id} is not a code of {role} ({book.id} {book.version}); {fix}"


def check_map(cmap: CodeMap, old: Codebook, new: Codebook) -> list[str]:
    """Every problem of applying ``cmap`` from ``old`` to ``new``, one line each saying what to fix; [] if none."""
    problems: list[str] = []
    if old.id != new.id:
        problems.append(f"OLD is codebook {old.id} and NEW is {new.id}: migrate a codebook to a later version of "
                        f"itself (the same id)")
    if cmap.codebook is not None and cmap.codebook != new.id:
        problems.append(f"the map is for codebook {cmap.codebook}, not {new.id}: fix 'codebook:'")
    for key, want, book in (("from", cmap.from_version, old), ("to", cmap.to_version, new)):
        if want is not None and want != book.version:
            problems.append(f"the map goes {key} version {want}, but {'OLD' if key == 'from' else 'NEW'} is "
                            f"version {book.version}: fix '{key}:' or give the other codebook file")
    seen: dict[str, str] = {}
    entries = cmap.entries()
    for action, code, targets in entries:
        if code not in old:
            problems.append(f"{action} {code}: " + _unknown(code, old, "OLD"))
        if code in seen:
            problems.append(f"{code} is mapped twice ({seen[code]} and {action}): map each old code once")
        seen.setdefault(code, action)
        for target in targets:
            if target not in new:
                problems.append(f"{action} {code} -> {target}: " + _unknown(target, new, "NEW"))
        if action in ("rename", "retire") or (action == "merge" and code not in targets):
            if code in new:
                problems.append(f"{action} {code}: NEW still has {code}; leave it out of the map to keep it, or "
                                f"remove it from NEW")
    for action, code, targets in entries:
        for target in targets:
            onward = cmap.outcome(target)
            if target != code and onward.action != "keep" and target not in onward.targets:
                problems.append(f"{action} {code} -> {target}, but {target} is itself mapped ({onward.action}): "
                                f"map {code} straight to where {target} goes")
    for code_id in old.code_ids():
        if code_id not in new and code_id not in seen:
            problems.append(f"{code_id} of OLD is neither in NEW nor in the map: add it to rename, merge, split "
                            f"or retire")
    return list(dict.fromkeys(problems))


def checked_map(path: str | Path, old: Codebook, new: Codebook) -> CodeMap:
    """:func:`load_map` then :func:`check_map`; MapError with every problem."""
    cmap = load_map(path)
    problems = check_map(cmap, old, new)
    if problems:
        raise MapError(problems, str(path))
    return cmap
