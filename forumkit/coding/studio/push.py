"""Push a sample and a codebook to Label Studio as a project of tasks, idempotently.

A project is identified by its server and title. Pushing again adds only the
items the project lacks (the store keeps item -> task ids, and checks them
against the server's task count), so a sample pushed twice gives no
duplicate tasks. Suggestions (item -> code ids with scores, from a topic model
or a classifier) become Label Studio predictions, shown to coders as
pre-annotations.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable, Sequence

import pandas as pd

from forumkit.coding.codebook import Codebook, label_config, taxonomy_name
from forumkit.errors import UsageError
from forumkit.store import Store, utcnow
from .client import Studio
from .render import render_items

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

    @property
    def project_url(self) -> str:
        return f"{self.url}/projects/{self.project_id}/data"


def sample_items(store: Store, sample: str) -> tuple[int, str, list[int]]:
    """(forum id, unit, item ids in draw order) of a saved sample."""
    rows = store.query("SELECT forum_id, unit FROM samples WHERE id = ?", (sample,))
    if not rows:
        names = [r[0] for r in store.query("SELECT id FROM samples ORDER BY id")]
        raise UsageError(f"no sample '{sample}' in {store.path}",
                         hint=f"draw one with `forumkit sample --name {sample}`" +
                              (f", or use one of: {', '.join(names)}" if names else ""))
    items = [r[0] for r in store.query(
        "SELECT item_id FROM sample_items WHERE sample_id = ? ORDER BY position", (sample,))]
    return rows[0]["forum_id"], rows[0]["unit"], items


def check_items(store: Store, forum_id: int, unit: str, item_ids: Sequence[int]) -> None:
    """Every item must be a live topic or post of the forum in the store."""
    table = "topics" if unit == "topic" else "posts"
    known = {r[0] for r in store.query(f"SELECT id FROM {table} WHERE forum_id = ? AND removed_at IS NULL",
                                       (forum_id,))}
    unknown = [i for i in item_ids if i not in known]
    if unknown:
        shown = ", ".join(map(str, unknown[:5])) + (" ..." if len(unknown) > 5 else "")
        raise UsageError(f"{len(unknown)} of {len(item_ids)} item ids are not {unit}s in {store.path}: {shown}",
                         hint="scrape the forum first, or fix the sample")


def id_path(codebook: Codebook, code_id: str) -> list[str]:
    """Ids from the top category down to ``code_id``: a Label Studio Taxonomy path of aliases."""
    return [code.id for code in codebook.path_of(code_id)]


def predictions_for(codebooks: Sequence[Codebook], suggestions: pd.DataFrame,
                    model_version: str) -> dict[int, dict]:
    """item id -> one Label Studio prediction holding every suggested code of every codebook."""
    missing = {"item_id", "code_id"} - set(suggestions.columns)
    if missing:
        raise UsageError(f"the suggestions table lacks column(s) {', '.join(sorted(missing))}",
                         hint="give item_id, code_id and optionally score")
    owner = {code_id: cb for cb in codebooks for code_id in cb.code_ids()}
    unknown = sorted(set(map(str, suggestions["code_id"])) - set(owner))
    if unknown:
        raise UsageError(f"suggested code(s) not in the codebooks: {', '.join(unknown[:5])}",
                         hint="suggest codes of the codebooks pushed with the sample")
    out: dict[int, dict] = {}
    for item_id, group in suggestions.groupby("item_id", sort=True):
        paths: dict[str, list[list[str]]] = {}
        for code_id in group["code_id"].astype(str):
            cb = owner[code_id]
            paths.setdefault(taxonomy_name(cb), []).append(id_path(cb, code_id))
        scores = group["score"].astype(float) if "score" in group else pd.Series([1.0])
        out[int(item_id)] = {
            "model_version": model_version,
            "score": float(scores.mean()),
            "result": [{"from_name": name, "to_name": "item", "type": "taxonomy", "value": {"taxonomy": p}}
                       for name, p in paths.items()],
        }
    return out


def _project_row(store: Store, url: str, title: str):
    rows = store.query("SELECT * FROM studio_projects WHERE url = ? AND title = ?", (url, title))
    return rows[0] if rows else None


def push(store: Store, studio: Studio, codebooks: Sequence[Codebook], *, forum_id: int, unit: str,
         item_ids: Sequence[int], title: str, sample: str | None = None, coders: int = 2,
         suggestions: pd.DataFrame | None = None, model_version: str = "forumkit-suggest", memo: bool = True,
         progress: Callable[[int, int], None] | None = None) -> PushResult:
    """Create or update the project ``title`` and import the items it lacks as tasks."""
    if unit not in ("topic", "post"):
        raise UsageError(f"unknown unit '{unit}'", hint="use topic or post")
    if coders < 1:
        raise UsageError("--coders must be at least 1", hint="give the number of coders per task")
    if not codebooks:
        raise UsageError("no codebook given", hint="pass --codebook FILE (once per taxonomy)")
    check_items(store, forum_id, unit, item_ids)
    config = label_config(list(codebooks), unit=unit, memo=memo)
    predictions = predictions_for(codebooks, suggestions, model_version) if suggestions is not None else {}
    studio.check()

    row = _project_row(store, studio.url, title)
    created = row is None
    books = json.dumps([[cb.id, cb.version] for cb in codebooks])
    if created:
        project_id = studio.create_project(title, config, coders,
                                           description=f"forumkit: {unit}s of sample {sample or '(list)'}")
        with store.transaction():
            _snapshot(store, codebooks)
            local = store.db.execute(
                "INSERT INTO studio_projects (url, project_id, title, forum_id, sample_id, unit, codebooks,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (studio.url, project_id, title, forum_id, sample, unit, books, utcnow())).lastrowid
    else:
        local, project_id = row["id"], row["project_id"]
        if (row["unit"], row["forum_id"]) != (unit, forum_id):
            raise UsageError(f"project '{title}' codes {row['unit']}s of forum {row['forum_id']}, not {unit}s of "
                             f"forum {forum_id}", hint="push to another --title")
        studio.update_project(project_id, label_config=config, coders_per_task=coders)
        with store.transaction():  # pull maps annotations with the codebooks the project now has
            _snapshot(store, codebooks)
            store.db.execute("UPDATE studio_projects SET codebooks = ? WHERE id = ?", (books, local))

    have = {r[0]: r[1] for r in store.query("SELECT item_id, task_id FROM studio_tasks WHERE project = ?", (local,))}
    recovered = _tasks_on_server(studio, project_id, len(have))
    if recovered:
        with store.transaction():
            store.db.executemany("INSERT OR REPLACE INTO studio_tasks VALUES (?, ?, ?)",
                                 [(local, i, t) for i, t in recovered.items()])
        have.update(recovered)
    new_items = [i for i in dict.fromkeys(item_ids) if i not in have]
    added = with_predictions = 0
    for start in range(0, len(new_items), BATCH):
        batch = new_items[start:start + BATCH]
        data = render_items(store, forum_id, unit, batch)
        tasks = []
        for item_id in batch:
            task = {"data": data[item_id]}
            if item_id in predictions:
                task["predictions"] = [predictions[item_id]]
                with_predictions += 1
            tasks.append(task)
        task_ids = studio.import_tasks(project_id, tasks)
        with store.transaction():
            store.db.executemany("INSERT OR REPLACE INTO studio_tasks VALUES (?, ?, ?)",
                                 [(local, i, t) for i, t in zip(batch, task_ids)])
        added += len(batch)
        if progress:
            progress(added, len(new_items))
    return PushResult(local, project_id, studio.url, created, added, len(have), with_predictions)


def _snapshot(store: Store, codebooks: Sequence[Codebook]) -> None:
    """Keep each codebook version as it was used, so a later pull reads annotations with it."""
    store.db.executemany("INSERT OR IGNORE INTO codebooks VALUES (?, ?, ?, ?)",
                         [(cb.id, cb.version, json.dumps(cb.to_dict()), utcnow()) for cb in codebooks])


def _tasks_on_server(studio: Studio, project_id: int, known: int) -> dict[int, int]:
    """item id -> task id as the server has them, read only when the store's count disagrees.

    Catches a push killed between the server's import and the store's commit.
    """
    count = studio.task_count(project_id)
    if count == known:
        return {}
    return {int(t["data"]["item_id"]): int(t["id"]) for t in studio.export(project_id, all_tasks=True)
            if "item_id" in t.get("data", {})}
