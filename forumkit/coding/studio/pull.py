"""Pull a project's annotations from Label Studio into the store as coded rows.

The full JSON export names the coder of each annotation (JSON_MIN does not),
its time, lead time and whether it was skipped. Taxonomy paths are mapped back
to codebook ids (Label Studio writes the Choice aliases, which forumkit sets to
code ids; paths of names are accepted too). A pull mirrors the server: the
project's annotations in the store are replaced in one transaction, so pulling
twice never duplicates, and annotations deleted in Label Studio disappear.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

from forumkit.coding.codebook import Codebook, CodebookError, taxonomy_name
from forumkit.errors import UsageError
from forumkit.store import Store, utcnow
from .client import Studio
from .server import StudioError


@dataclass(frozen=True)
class PullResult:
    project: int
    annotations: int
    codes: int
    coders: tuple[str, ...]
    tasks_annotated: int


def project_row(store: Store, project: int | None):
    """A pushed project by forumkit's id; the only one if ``project`` is None."""
    rows = store.query("SELECT * FROM studio_projects ORDER BY id")
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


def project_codebooks(store: Store, row) -> list[Codebook]:
    """The codebooks as they were when the project was pushed (snapshots in the store)."""
    books = []
    for cb_id, version in json.loads(row["codebooks"]):
        content = store.query("SELECT content FROM codebooks WHERE id = ? AND version = ?", (cb_id, version))
        books.append(Codebook.from_dict(json.loads(content[0]["content"])))
    return books


def _iso(value: str | None) -> str | None:
    """Label Studio's '2026-11-23T18:23:58.822428Z' -> the store's millisecond UTC form."""
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def pull(store: Store, studio: Studio, project: int | None = None) -> PullResult:
    """Replace the store's annotations of a project with what Label Studio holds now."""
    row = project_row(store, project)
    by_control = {taxonomy_name(cb): cb for cb in project_codebooks(store, row)}
    tasks = studio.export(row["project_id"], all_tasks=False)
    users = studio.users()
    annotations, coded, coders, annotated = [], [], set(), 0
    now = utcnow()
    for task in tasks:
        item_id = int(task["data"]["item_id"])
        if task.get("annotations"):
            annotated += 1
        for ann in task.get("annotations") or ():
            coder = users.get(int(ann["completed_by"]), str(ann["completed_by"]))
            coders.add(coder)
            memo = []
            for result in ann.get("result") or ():
                if result.get("type") == "textarea":
                    memo += result.get("value", {}).get("text", [])
                elif result.get("type") == "taxonomy":
                    coded += _codes(by_control, result, row["id"], ann["id"])
            annotations.append((row["id"], int(ann["id"]), int(task["id"]), item_id, coder,
                                _iso(ann.get("updated_at") or ann.get("created_at")), ann.get("lead_time"),
                                int(bool(ann.get("was_cancelled"))), "\n".join(memo) or None, now))
    with store.transaction():
        store.db.execute("DELETE FROM coded WHERE project = ?", (row["id"],))
        store.db.execute("DELETE FROM annotations WHERE project = ?", (row["id"],))
        store.db.executemany("INSERT INTO annotations VALUES (?,?,?,?,?,?,?,?,?,?)", annotations)
        store.db.executemany("INSERT OR IGNORE INTO coded VALUES (?,?,?,?,?,?)", coded)
    return PullResult(row["id"], len(annotations), len(coded), tuple(sorted(coders)), annotated)


def _codes(by_control: dict[str, Codebook], result: dict, project: int, annotation_id: int) -> list[tuple]:
    codebook = by_control.get(result.get("from_name"))
    if codebook is None:
        raise StudioError(f"annotation {annotation_id} uses the control '{result.get('from_name')}', "
                          f"which none of the project's codebooks defines",
                          hint="push the project again with the codebooks it was coded with")
    rows = []
    for path in result.get("value", {}).get("taxonomy", []):
        try:
            code = codebook.by_path(tuple(path))
        except CodebookError as exc:
            raise StudioError(f"annotation {annotation_id} chose '{' > '.join(path)}', which codebook "
                              f"{codebook.id} {codebook.version} does not have",
                              hint="push the project again with the codebook it was coded with") from exc
        category, subcategory = codebook.category_of(code.id)
        rows.append((project, int(annotation_id), code.id, codebook.id, category, subcategory))
    return rows
