"""Push a sample and a codebook to Label Studio as a project of tasks: idempotent, and safe to kill.

forumkit finds its project on the server itself, by a key in the project's
description (from the forum, the unit and the title), and each task by the
``item_id`` in its data, read back from the server at every push. So a push
killed at any moment (while the project is being created, between the server's
import and the store's commit) and run again ends with one project and one task
per item, and adds only the items the server lacks; pushing a sample twice adds
nothing. Suggestions (item -> code ids with scores, from ``forumkit suggest codes``
or any table of item_id, code_id[, score]) become Label Studio predictions that
pre-select the prediction set, and a Suggestions panel listing every suggested
code with its score and evidence (:mod:`.suggestions`); the store records what
each task was suggested, for ``forumkit suggest report``. Every push leaves the
project's Data Manager tab showing the tasks' plain fields as columns
(:mod:`.columns`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Callable, Sequence

import pandas as pd

from forumkit.coding.codebook import Codebook, label_config
from forumkit.errors import UsageError
from forumkit.store import Store
from forumkit.store.studio import Snapshot, SuggestedCode
from .client import PAGE_SIZE, Studio, item_id_of
from .columns import set_queue_view, top_fields, with_columns
from .render import render_items
from .server import StudioError
from .suggestions import NO_SUGGESTIONS, SUGGESTIONS_KEY, Suggested, panel_html, prediction, read_suggestions

log = logging.getLogger(__name__)

BATCH = 1000


@dataclass(frozen=True)
class PushResult:
    project: int  # forumkit's id of the project (studio_projects.id)
    project_id: int  # Label Studio's id
    url: str
    created: bool
    tasks_added: int
    tasks_kept: int
    predictions: int
    doubled_items: int = 0  # items left with several annotated tasks on the server (none are deleted)
    suggested: int = 0  # tasks added with a Suggestions panel that lists codes

    @property
    def project_url(self) -> str:
        return f"{self.url}/projects/{self.project_id}/data"


def sample_items(store: Store, sample: str) -> tuple[int, str, list[int]]:
    """(forum id, unit, item ids in draw order) of a saved sample."""
    found = store.sample_to_push(sample)
    if found is None:
        names = store.sample_names()
        raise UsageError(f"no sample '{sample}' in {store.path}",
                         hint=f"draw one with `forumkit sample --name {sample}`" +
                              (f", or use one of: {', '.join(names)}" if names else ""))
    return found


def listed_items(store: Store, table: pd.DataFrame, source: str) -> tuple[int, list[int]]:
    """(forum id, item ids) of a table with an ``item_id`` column, for a store of one forum."""
    if "item_id" not in table.columns:
        raise UsageError(f"{source} has no item_id column", hint=f"columns found: {', '.join(map(str, table.columns))}")
    ids = pd.to_numeric(table["item_id"], errors="coerce")
    bad = ids.isna() | (ids % 1 != 0)
    if bad.any():
        raise UsageError(f"{source}: item_id must hold whole numbers, not {table['item_id'][bad].iloc[0]!r}",
                         hint="give topic or post ids of the store")
    forums = store.forums()
    if len(forums) != 1:
        raise UsageError(f"{store.path} holds {len(forums)} forums", hint="push a sample, which names its forum")
    return forums[0][0], [int(i) for i in ids]


def check_items(store: Store, forum_id: int, unit: str, item_ids: Sequence[int]) -> None:
    """Every item must be a live topic or post of the forum in the store."""
    known = store.live_item_ids(forum_id, unit)
    unknown = [i for i in item_ids if i not in known]
    if unknown:
        shown = ", ".join(map(str, unknown[:5])) + (" ..." if len(unknown) > 5 else "")
        raise UsageError(f"{len(unknown)} of {len(item_ids)} item ids are not {unit}s in {store.path}: {shown}",
                         hint="scrape the forum first, or fix the sample")


def project_key(forum_url: str, unit: str, title: str) -> str:
    """The key that marks forumkit's project on the server: the same for every push of that title."""
    return hashlib.sha256(f"{forum_url}\n{unit}\n{title}".encode()).hexdigest()[:20]


def project_marker(key: str) -> str:
    """The text in the project's description that holds its key."""
    return f"[forumkit project {key}]"


def push(store: Store, studio: Studio, codebooks: Sequence[Codebook], *, forum_id: int, unit: str,
         item_ids: Sequence[int], title: str, sample: str | None = None, coders: int = 2,
         suggestions: pd.DataFrame | None = None, model_version: str = "forumkit-suggest", memo: bool = True,
         progress: Callable[[int, int], None] | None = None, batch: int = BATCH,
         page_size: int = PAGE_SIZE) -> PushResult:
    """Create or update the project ``title`` and import the items it lacks as tasks (``batch`` per request)."""
    if unit not in ("topic", "post"):
        raise UsageError(f"unknown unit '{unit}'", hint="use topic or post")
    if coders < 1:
        raise UsageError("--coders must be at least 1", hint="give the number of coders per task")
    if batch < 1:
        raise UsageError(f"batch size {batch} is not a positive number", hint="give 1 or more")
    if not codebooks:
        raise UsageError("no codebook given", hint="pass --codebook FILE (once per taxonomy)")
    check_items(store, forum_id, unit, item_ids)
    suggested = read_suggestions(codebooks, suggestions, model_version) if suggestions is not None else {}
    snapshots = [Snapshot(cb.id, cb.version, json.dumps(cb.to_dict())) for cb in codebooks]
    studio.check()

    marker = project_marker(project_key(dict(store.forums())[forum_id], unit, title))
    description = f"forumkit: {unit}s of sample {sample or '(list)'} {marker}"
    row = store.studio_project_titled(studio.url, title)
    # the panel stays once a project has suggestions (its tasks show them), and only then: none is empty noise
    panel = bool(suggested) or (row is not None and store.has_studio_suggestions(row["id"]))
    config = label_config(list(codebooks), unit=unit, memo=memo, suggestions=panel)
    created = False
    if row is None:
        found = studio.projects_described_with(marker)
        if len(found) > 1:
            raise StudioError(f"Label Studio at {studio.url} holds {len(found)} projects marked as forumkit's "
                              f"'{title}' ({', '.join(map(str, found))})",
                              hint="delete all but one of them in Label Studio, then push again")
        if found:  # an earlier push made it and was stopped before the store recorded it
            project_id = found[0]
            studio.update_project(project_id, label_config=config, coders_per_task=coders, description=description)
        else:
            project_id, created = studio.create_project(title, config, coders, description=description), True
        local = store.add_studio_project(url=studio.url, project_id=project_id, title=title, forum_id=forum_id,
                                         sample_id=sample, unit=unit, codebooks=snapshots)
    else:
        local, project_id = row["id"], row["project_id"]
        if (row["unit"], row["forum_id"]) != (unit, forum_id):
            raise UsageError(f"project '{title}' codes {row['unit']}s of forum {row['forum_id']}, not {unit}s of "
                             f"forum {forum_id}", hint="push to another --title")
        studio.update_project(project_id, label_config=config, coders_per_task=coders, description=description)
        store.set_studio_project_codebooks(local, snapshots)  # pull reads annotations with the codebooks it now has

    have, duplicates = _tasks_on_server(studio, project_id, page_size, panel=panel)
    store.replace_studio_tasks(local, have)
    kept = len(have)
    new_items = [i for i in dict.fromkeys(item_ids) if i not in have]
    added = with_predictions = listed = 0
    for start in range(0, len(new_items), batch):
        chunk = new_items[start:start + batch]
        data = render_items(store, forum_id, unit, chunk)
        tasks = []
        for item_id in chunk:
            rows = suggested.get(item_id, [])
            task = {"data": data[item_id]}
            if panel:
                task["data"] = with_columns(data[item_id], {**top_fields(rows, codebooks),
                                                            SUGGESTIONS_KEY: panel_html(rows, codebooks)})
            made = prediction(rows, codebooks) if rows else None
            if made is not None:
                task["predictions"] = [made]
                with_predictions += 1
            listed += bool(rows)
            tasks.append(task)
        # recorded before the import: a push stopped in between imports these items again, with what it suggests
        store.record_studio_suggestions(local, chunk, [_row(local, r) for i in chunk for r in suggested.get(i, ())])
        store.add_studio_tasks(local, zip(chunk, studio.import_tasks(project_id, tasks)))
        added += len(chunk)
        if progress:
            progress(added, len(new_items))
    if added and studio.task_count(project_id) != len(have) + added:
        # the server finished an import of a push killed just before this one: read it back, drop the doubles
        have, duplicates = _tasks_on_server(studio, project_id, page_size, panel=panel)
        store.replace_studio_tasks(local, have)
    set_queue_view(studio, project_id)  # after the import: the tab names the columns the project now has
    return PushResult(local, project_id, studio.url, created, added, kept, with_predictions, duplicates, listed)


def _row(project: int, s: Suggested) -> SuggestedCode:
    return SuggestedCode(project, s.item_id, s.code_id, s.codebook_id, s.score, s.rank, s.in_set, s.evidence,
                         s.model_version)


def _tasks_on_server(studio: Studio, project_id: int, page_size: int, *,
                     panel: bool = False) -> tuple[dict[int, int], int]:
    """(item id -> task id, number of items left with several tasks) as the server holds them now.

    Every task is identified by the item id in its data. Doubles of an item (left by a push killed while the
    server was still importing, or made by hand) are deleted when nobody annotated them; an item keeps its
    annotated task, else its first. Annotated doubles are kept (annotations are never deleted) and counted.
    With ``panel`` (the config shows suggestions), a task pushed before the project had any gets the data key
    the panel reads, saying it has none.
    """
    by_item: dict[int, list[tuple[int, bool]]] = {}
    for page in studio.task_pages(project_id, annotations=False, page_size=page_size):
        for task in page:
            by_item.setdefault(item_id_of(task, project_id), []).append((int(task["id"]), bool(task["annotations"])))
            if panel and SUGGESTIONS_KEY not in task["data"]:
                studio.update_task_data(int(task["id"]), {**task["data"], **top_fields((), ()),
                                                          SUGGESTIONS_KEY: NO_SUGGESTIONS})
    have: dict[int, int] = {}
    spare: list[int] = []
    annotated_doubles = 0
    for item, tasks in by_item.items():
        annotated = [task for task, coded in tasks if coded]
        have[item] = min(annotated) if annotated else min(task for task, _ in tasks)
        spare += [task for task, coded in tasks if not coded and task != have[item]]
        if len(annotated) > 1:
            annotated_doubles += 1
            log.warning("item %d has %d annotated tasks in project %d: %s", item, len(annotated), project_id,
                        ", ".join(map(str, sorted(annotated))))
    if spare:
        log.info("deleting %d unannotated double task(s) of project %d", len(spare), project_id)
        studio.delete_tasks(spare)
    return have, annotated_doubles
