"""The codebook versions a study used and the suggestions its coders were shown: two parts of the appendix.

A codebook version counts as used when a project was pushed with it (``studio_projects.codebooks``) or when a
coded row records it (``coded.codebook_version``); each is read from its snapshot in the ``codebooks`` table,
exactly as stored, which is also what the replication folder gets.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass

from forumkit.coding.codebook import Codebook, diff, parse_map
from forumkit.coding.suggest.acceptance import ALL, suggestion_report
from forumkit.errors import ForumkitError, StoreError
from forumkit.store import Store

__all__ = ["CodebookChange", "CodebookVersion", "ModelFact", "SuggestionFacts", "codebook_changes",
           "codebook_versions", "code_names", "suggestion_facts"]


@dataclass(frozen=True)
class CodebookVersion:
    """One codebook version: its snapshot as stored, and its size (top-level categories, codes at every depth)."""

    id: str
    version: str
    name: str
    categories: int
    codes: int
    added_at: str
    content: str
    pushed: bool  # a project of the study was pushed with it
    in_coded_rows: bool  # some coded row records it
    migrated_from: bool = False  # a project moved from it to a later version (forumkit codebook migrate)

    @property
    def used(self) -> str:
        """How the study used it, for the table: "pushed, in coded rows", "migrated from" ..."""
        return ", ".join(word for word, yes in (("pushed", self.pushed), ("in coded rows", self.in_coded_rows),
                                                ("migrated from", self.migrated_from)) if yes)

    @property
    def codebook(self) -> Codebook:
        return Codebook.from_dict(json.loads(self.content))


@dataclass(frozen=True)
class CodebookChange:
    """What changed from one version of a codebook to the next, one line a change (added, renamed, merged ...)."""

    codebook_id: str
    old: str
    new: str
    changes: list[str]


def codebook_versions(store: Store, projects: list[sqlite3.Row]) -> list[CodebookVersion]:
    """Every codebook version the projects used, by codebook id then first use.

    A version a project was migrated from counts too. A version a project names whose snapshot is missing is a :class:`StoreError` (the appendix would otherwise
    describe codes it cannot show).
    """
    ids = [int(r["id"]) for r in projects]
    pushed = [tuple(pair) for r in projects for pair in json.loads(r["codebooks"])]
    coded = store.coded_codebook_versions(ids)
    migrated = [(m["codebook_id"], m["from_version"]) for pid in ids for m in store.codebook_migrations(pid)]
    out = []  # a migration's old version first: each codebook's versions in the order the study used them
    for book_id, version in dict.fromkeys(sorted(migrated + pushed + coded, key=lambda p: p[0])):
        found = store.codebook_snapshot(book_id, version)
        if found is None:
            raise StoreError(f"codebook {book_id} {version} is missing from {store.path}",
                             hint="push the project again with that codebook file to store its snapshot")
        content, added_at = found
        book = Codebook.from_dict(json.loads(content))
        out.append(CodebookVersion(book_id, version, book.name, len(book.categories), len(book), added_at, content,
                                   (book_id, version) in pushed, (book_id, version) in coded,
                                   (book_id, version) in migrated))
    return out


def codebook_changes(store: Store, project: int, versions: list[CodebookVersion]) -> list[CodebookChange]:
    """The changes between consecutive versions of each codebook the study used, as `forumkit codebook diff`
    lists them, explained by the map of the project's migration between them when there was one."""
    maps = {(m["codebook_id"], m["from_version"], m["to_version"]): parse_map(json.loads(m["map"]))
            for m in store.codebook_migrations(project)}
    out = []
    for book_id in dict.fromkeys(v.id for v in versions):
        mine = [v for v in versions if v.id == book_id]
        for old, new in zip(mine, mine[1:]):
            changes = diff(old.codebook, new.codebook, maps.get((book_id, old.version, new.version)))
            out.append(CodebookChange(book_id, old.version, new.version,
                                      [" ".join(line.split()) for line in changes.lines(old.codebook, new.codebook)]
                                      or ["no change to the codes"]))
    return out


def code_names(versions: list[CodebookVersion]) -> dict[str, str]:
    """code id -> "Category > Subcategory" names, the newest version of each codebook winning."""
    names: dict[str, str] = {}
    for version in versions:
        book = version.codebook
        for code_id in book.code_ids():
            names[code_id] = " > ".join(c.name for c in book.path_of(code_id))
    return names


@dataclass(frozen=True)
class ModelFact:
    """What one suggestion model proposed: items, rows listed, codes pre-selected (in the prediction set)."""

    model_version: str
    items: int
    listed: int
    preselected: int
    codes: list[str]  # the distinct codes it pre-selected


@dataclass(frozen=True)
class AcceptanceFact:
    """How coders treated one pre-selected code (or every code, ``code`` = ALL)."""

    code: str
    name: str
    offered: int
    accepted: int
    acceptance: float
    applied: int
    recall: float


@dataclass(frozen=True)
class SuggestionFacts:
    """The suggestions a project was pushed with, and how often the coders kept them; ``note`` when the
    acceptance could not be measured (nothing suggested was annotated)."""

    models: list[ModelFact]
    items_compared: int
    overall: AcceptanceFact | None
    per_code: list[AcceptanceFact]
    note: str | None


def _fact(row, names: dict[str, str]) -> AcceptanceFact:
    return AcceptanceFact(row.code_id, names.get(row.code_id, row.code), int(row.offered), int(row.accepted),
                          float(row.acceptance), int(row.applied), float(row.recall_coders))


def suggestion_facts(store: Store, project: int, names: dict[str, str]) -> SuggestionFacts | None:
    """The project's suggestions by model and their acceptance; None when it was pushed without suggestions."""
    suggested = store.studio_suggestions(project)
    if not suggested:
        return None
    models = []
    for model in sorted({s.model_version for s in suggested}):
        mine = [s for s in suggested if s.model_version == model]
        models.append(ModelFact(model, len({s.item_id for s in mine}), len(mine), sum(s.in_set for s in mine),
                                sorted({s.code_id for s in mine if s.in_set})))
    try:
        report = suggestion_report(store, project)
    except ForumkitError as exc:
        return SuggestionFacts(models, 0, None, [], exc.one_line())
    table = report.per_code
    overall = _fact(next(table[table["code_id"] == ALL].itertuples()), names)
    per_code = [_fact(r, names) for r in table[(table["code_id"] != ALL) & (table["offered"] > 0)].itertuples()]
    compared = int(report.summary["items_compared"].iloc[0])
    return SuggestionFacts(models, compared, overall, per_code, None if not math.isnan(overall.acceptance) else
                           "no suggested code was pre-selected on an annotated item")
