"""The pushed projects of a store, and the codebooks each was coded with.

One place for the rule every reader of coded data follows (pull, the REFI-QDA
export, aggregation, the report): a project's codes are read with the codebook
snapshots stored when it was pushed, and a missing snapshot stops with an error
(a silent skip would drop that codebook's codes from every count). No
label-studio-sdk import here: readers of the store need none.
"""

from __future__ import annotations

import sqlite3

from forumkit.coding.codebook import Codebook
from forumkit.errors import UsageError
from forumkit.store import Store

__all__ = ["project_row", "project_codebooks"]


def project_row(store: Store, project: int | None) -> sqlite3.Row:
    """A pushed project by forumkit's id; the only one if ``project`` is None."""
    rows = store.studio_projects()
    if not rows:
        raise UsageError(f"{store.path} has no Label Studio project", hint="push a sample first: forumkit studio push")
    if project is None:
        if len(rows) > 1:
            listing = ", ".join(f"{r['id']} ({r['title']})" for r in rows)
            raise UsageError("the store has several projects", hint=f"pass --project with one of: {listing}")
        return rows[0]
    for row in rows:
        if row["id"] == project:
            return row
    raise UsageError(f"no project {project} in {store.path}", hint="see `forumkit studio projects`")


def project_codebooks(store: Store, project: int | None = None) -> list[Codebook]:
    """The codebooks a project was pushed with, as they were then; [] for a store with no project.

    Raises :class:`~forumkit.errors.StoreError` when a snapshot is missing from the store.
    """
    if project is None and not store.studio_projects():
        return []
    row = project_row(store, project)
    return [Codebook.from_dict(content) for content in store.project_codebook_snapshots(row["id"])]
