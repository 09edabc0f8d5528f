"""A methods appendix written from the store: what `forumkit appendix` makes.

:func:`write_appendix` gathers the facts of one coded project (:func:`gather`: the crawl, the sampling design,
the codebook versions, the coders and rounds, agreement, the suggestions, the software and commands), writes the
replication folder (dataset, REFI-QDA project, codebooks) and renders ``methods.md`` and ``methods.tex`` (a
``\\section`` a paper ``\\input``s) from one template per format, then hashes everything into ``manifest.json``.
Every number in the text comes from the store: change the data and the text changes.

Example::

    with Store("hf.db") as store:
        result = write_appendix(store, "appendix/", project=1)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forumkit.coding.studio.projects import project_row
from forumkit.errors import UsageError
from forumkit.versions import versions
from forumkit.store import Store
from .coders import level_facts
from .codebooks import codebook_changes, codebook_versions, code_names, suggestion_facts
from .coders import coding_facts, study_projects
from .collection import crawl_facts, sample_facts
from .provenance import commands
from .render import TEMPLATES, render
from .replication import MANIFEST, FileEntry, codebook_files, remove_previous, write_data, write_manifest

__all__ = ["AppendixResult", "gather", "write_appendix"]


@dataclass(frozen=True)
class AppendixResult:
    """What :func:`write_appendix` wrote: the folder, the project, and the manifest's entries."""

    folder: Path
    project: int
    files: list[FileEntry]


def gather(store: Store, project: int | None = None, *, n_boot: int = 1000, confidence: float = 0.95,
           seed: int = 0) -> dict[str, Any]:
    """Every fact the templates use, read from the store, for ``project`` (the only one when None).

    ``n_boot``, ``confidence`` and ``seed`` are the agreement bootstrap's (as `forumkit agreement` takes them).
    """
    row = project_row(store, project)
    pid = int(row["id"])
    projects = study_projects(store, row)
    books = codebook_versions(store, projects)
    names = code_names(books)
    sample = sample_facts(store, row["sample_id"]) if row["sample_id"] else None
    coding = coding_facts(store, row, names, n_boot=n_boot, confidence=confidence, seed=seed)
    suggestions = suggestion_facts(store, pid, names)
    crawl = crawl_facts(store, int(row["forum_id"]))
    this = next(p for p in coding.projects if p["id"] == pid)
    return {
        "project": this, "crawl": crawl, "sample": sample, "books": books, "changes": codebook_changes(store, pid, books),
        "several_versions": len({b.id for b in books}) < len(books), "coding": coding, "pseudonyms": coding.pseudonyms,
        "suggestions": suggestions, "versions": versions(), **level_facts(store, pid),
        "commands": commands(crawl, sample, coding, books, this, suggestions is not None, codebook_files(books)),
    }


def write_appendix(store: Store, folder: str | Path, project: int | None = None, *, n_boot: int = 1000,
                   confidence: float = 0.95, seed: int = 0) -> AppendixResult:
    """Write ``methods.md``, ``methods.tex`` and the replication folder into ``folder`` (made if missing).

    Run again into the same folder, it first deletes the files its earlier manifest listed (and only those).
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file", hint="give a folder for the appendix, e.g. --out appendix/")
    facts = gather(store, project, n_boot=n_boot, confidence=confidence, seed=seed)
    folder.mkdir(parents=True, exist_ok=True)
    remove_previous(folder)
    what = write_data(store, facts["project"]["id"], facts["project"]["sample"], folder, facts["books"])
    listing = dict(what)
    listing.update({"methods.md": "this methods section (Markdown)",
                    "methods.tex": "this methods section (LaTeX: \\input{methods} in the paper)"})
    facts["files"] = sorted(listing.items()) + [(MANIFEST, "every file above with its size and sha256")]
    for name in TEMPLATES:
        (folder / name).write_text(render(name, facts), encoding="utf-8")
    return AppendixResult(folder, facts["project"]["id"], write_manifest(folder, listing))
