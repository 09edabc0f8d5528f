"""What changed between two versions of a codebook: a pure comparison, no I/O.

Codes are matched by their stable ids. A code with the same id in both is renamed when its name changed,
moved when its parent changed, and redefined when its definition, include or exclude text changed. A map
(:mod:`.mapping`) explains the rest: renames to a new id, merges, splits and retirements. What is left is
added (in NEW only) or removed (in OLD only, and unmapped: a migration refuses those).

Example::

    d = diff(load_codebook("old.yaml"), load_codebook("new.yaml"))
    d.renamed   # (Renamed(old_id='CH.A', new_id='CH.A', old_name='A', new_name='Aa'),)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .mapping import CodeMap
from .model import Codebook

__all__ = ["CodebookDiff", "Merged", "Moved", "Renamed", "Split", "diff"]


@dataclass(frozen=True)
class Renamed:
    """A code that now has another name (same id) or another id (a map's rename)."""

    old_id: str
    new_id: str
    old_name: str
    new_name: str


@dataclass(frozen=True)
class Merged:
    """Codes of OLD that became one code of NEW."""

    sources: tuple[str, ...]
    into: str


@dataclass(frozen=True)
class Split:
    """A code of OLD whose items must be recoded with one of several codes of NEW."""

    source: str
    into: tuple[str, ...]


@dataclass(frozen=True)
class Moved:
    """A code kept under its id whose parent changed (None: a top-level category)."""

    code_id: str
    old_parent: str | None
    new_parent: str | None


@dataclass(frozen=True)
class CodebookDiff:
    """The changes from ``old`` to ``new`` (ids and versions of both), each list in file order."""

    codebook_id: str
    old_version: str
    new_version: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    renamed: tuple[Renamed, ...]
    merged: tuple[Merged, ...]
    split: tuple[Split, ...]
    retired: tuple[str, ...]
    moved: tuple[Moved, ...]
    redefined: tuple[str, ...]

    @property
    def unchanged(self) -> bool:
        """True when the two versions code the same way (no list holds anything)."""
        return not any((self.added, self.removed, self.renamed, self.merged, self.split, self.retired,
                        self.moved, self.redefined))

    def to_dict(self) -> dict:
        """JSON-able form (``forumkit codebook diff --json``)."""
        return asdict(self)

    def lines(self, old: Codebook, new: Codebook) -> list[str]:
        """One line a change, in the order of the fields, naming codes as ``old``/``new`` do: what `forumkit
        codebook diff` prints and the methods appendix lists."""
        return ([f"added     {c}  {new.find(c).name}" for c in self.added]
                + [f"removed   {c}  {old.find(c).name}" for c in self.removed]
                + [f"renamed   {r.old_id} '{r.old_name}' -> {r.new_id} '{r.new_name}'" for r in self.renamed]
                + [f"merged    {' + '.join(m.sources)} -> {m.into}" for m in self.merged]
                + [f"split     {s.source} -> {' | '.join(s.into)} (items need recoding)" for s in self.split]
                + [f"retired   {c}" for c in self.retired]
                + [f"moved     {m.code_id}: under {m.old_parent or '(top)'} -> under {m.new_parent or '(top)'}"
                   for m in self.moved]
                + [f"redefined {c}" for c in self.redefined])


def _parent(book: Codebook, code_id: str) -> str | None:
    parent = book.parent_of(code_id)
    return None if parent is None else parent.id


def diff(old: Codebook, new: Codebook, cmap: CodeMap | None = None) -> CodebookDiff:
    """Compare ``old`` with ``new`` by id; ``cmap`` names renames to new ids, merges, splits and retirements."""
    cmap = cmap or CodeMap()
    mapped = {code for _, code, _ in cmap.entries()}
    explained = cmap.targets()
    renamed, moved, redefined = [], [], []
    for code_id in old.code_ids():
        if code_id not in new or code_id in mapped:
            continue
        before, after = old.find(code_id), new.find(code_id)
        if before.name != after.name:
            renamed.append(Renamed(code_id, code_id, before.name, after.name))
        if _parent(old, code_id) != _parent(new, code_id):
            moved.append(Moved(code_id, _parent(old, code_id), _parent(new, code_id)))
        if (before.definition, before.include, before.exclude) != (after.definition, after.include, after.exclude):
            redefined.append(code_id)
    for code_id, new_id in cmap.rename.items():
        if code_id in old and new_id in new:
            renamed.append(Renamed(code_id, new_id, old.find(code_id).name, new.find(new_id).name))
    return CodebookDiff(
        codebook_id=new.id, old_version=old.version, new_version=new.version,
        added=tuple(c for c in new.code_ids() if c not in old and c not in explained),
        removed=tuple(c for c in old.code_ids() if c not in new and c not in mapped),
        renamed=tuple(renamed),
        merged=tuple(Merged(sources, into) for sources, into in cmap.merge),
        split=tuple(Split(source, into) for source, into in cmap.split),
        retired=tuple(cmap.retire), moved=tuple(moved), redefined=tuple(redefined))
