"""Move a coded Label Studio project from one codebook version to the next, keeping every annotation.

Label Studio will not let a researcher change a codebook in the middle of a study: the web interface's
Save checks the new labeling config against the labels the project's annotations use (its project
summary counts them per control) and refuses one that lacks any of them ("These labels still exist in
annotations"), and the API refuses a config that drops a control annotations use. Nothing in Label Studio
rewrites the annotations to fit. :func:`migrate` does, in this order, one step at a time:

1. **plan**: read every annotation (a page of tasks at a time) and work out, with the map (:mod:`forumkit.
   coding.codebook.mapping`), the new taxonomy paths of each one: renamed and merged codes get their new
   id, kept codes their NEW path (so moved codes follow), split and retired codes are dropped;
2. **record**: store what will change (``codebook_migration_codes``) and queue the items of split codes
   (``recode_queue``) *before* touching the server, because once an annotation is rewritten its old code is
   gone from Label Studio and a re-run could no longer tell what it was;
3. **annotations**: rewrite the annotations that change, through the API (each update recounts the
   project's labels on the server);
4. **config**: only now, with no annotation using a label NEW lacks, check the new config as the web
   interface would (strictly) and replace it. The reverse order fails: with the old annotations in place
   the strict check refuses the config. Between steps 3 and 4 the annotations hold NEW's ids while the
   config still offers OLD's: a coder opening a task in that window sees those codes unselected, which is
   why the steps run back to back and a re-run finishes the job. Then the predictions (pushed suggestions)
   are rewritten the same way, so that tasks pre-select NEW's codes;
5. **queue**: mark the tasks of queued items (task data ``needs_recoding``) and make or update the Data
   Manager tab :data:`RECODE_VIEW` that shows exactly them;
6. **store**: in one transaction, the stored codes rewritten as on the server (with NEW's version), the
   project's codebook list set to NEW, and the migration marked applied with its counts.

Every step is idempotent (a valid map gives the same result applied twice: :func:`check_map` refuses
chains), and the migration is recorded when it starts, so a run stopped anywhere is finished by running
the same command again; a finished one reports so and changes nothing.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Callable

from forumkit.coding.codebook import (MEMO_NAME, Codebook, CodebookError, CodeMap, MapError, check_map,
                                      label_config, taxonomy_name)
from forumkit.coding.codebook.labelconfig import SUGGESTIONS_NAME
from forumkit.errors import UsageError
from forumkit.store import Store
from forumkit.store.migrations import MigratedCode, Recode
from .client import Studio, item_id_of
from .columns import VIEW_TITLE
from .projects import project_codebooks, project_row
from .server import StudioError

__all__ = ["MigrationResult", "RECODE_FIELD", "RECODE_VIEW", "migrate"]

#: The Data Manager tab listing the tasks to recode after a split.
RECODE_VIEW = "Needs recoding"
#: Task data key marking a task to recode (value ``yes``), and the one saying which codes to choose from.
RECODE_FIELD, RECODE_HINT = "needs_recoding", "recode_hint"


@dataclass(frozen=True)
class MigrationResult:
    """What a migration did: forumkit's project and migration ids, versions and counts."""

    project: int
    migration: int
    codebook_id: str
    from_version: str
    to_version: str
    annotations: int  # annotations rewritten in Label Studio (this run)
    renamed: int
    merged: int
    split: int
    retired: int
    queued: int  # items in the recode queue
    view_id: int | None
    already: bool = False  # the migration was applied before; nothing changed


@dataclass(frozen=True)
class _Plan:
    codes: list[MigratedCode]
    queue: list[Recode]
    rewrites: dict[int, list[dict]]  # annotation id -> new result
    predictions: dict[int, list[dict]]  # prediction id -> new result (suggestions pre-select NEW's codes)


def _resolve(path: list, old: Codebook, new: Codebook) -> tuple[str, str]:
    """("old" or "new", code id) of a chosen path: OLD's codes first, then NEW's (already migrated)."""
    for which, book in (("old", old), ("new", new)):
        try:
            return which, book.by_path(tuple(path)).id
        except CodebookError:
            continue
    raise StudioError(f"an annotation chose '{' > '.join(map(str, path))}', which neither {old.id} {old.version} "
                      f"nor {new.version} has", hint="correct that annotation in Label Studio, then run again")


def _rewrite(result: list[dict], old: Codebook, new: Codebook, cmap: CodeMap) -> tuple[list[dict] | None, list]:
    """(the result with NEW's paths, or None when nothing changes; (old code, outcome) of each mapped code).

    Kept codes get NEW's path (moved codes follow), renamed and merged ones their target once, split and
    retired ones are dropped (a split that keeps its source keeps it); a taxonomy left empty is removed.
    """
    result = copy.deepcopy(result or [])
    control = taxonomy_name(new)
    mapped: list = []
    changed = False
    for entry in [r for r in result if r.get("from_name") == control and r.get("type") == "taxonomy"]:
        paths: list[list[str]] = []
        for path in entry.get("value", {}).get("taxonomy", []):
            which, code = _resolve(path, old, new)
            outcome = cmap.outcome(code) if which == "old" else None
            if outcome is None or outcome.action == "keep":
                targets: tuple[str, ...] = (code,)
            else:
                mapped.append((code, outcome))
                targets = (outcome.targets if outcome.action in ("rename", "merge")
                           else tuple(t for t in outcome.targets if t == code))  # split C -> C | D keeps C
            paths += [[c.id for c in new.path_of(t)] for t in targets]
        unique = [list(p) for p in dict.fromkeys(tuple(p) for p in paths)]
        if unique != entry["value"]["taxonomy"]:
            entry["value"]["taxonomy"] = unique
            changed = True
    if not changed:
        return None, mapped
    return [r for r in result if r.get("type") != "taxonomy" or r.get("value", {}).get("taxonomy")], mapped


def _plan(studio: Studio, project_id: int, local: int, migration: int, old: Codebook, new: Codebook,
          cmap: CodeMap) -> _Plan:
    codes: list[MigratedCode] = []
    queue: dict[tuple[int, str], Recode] = {}
    rewrites: dict[int, list[dict]] = {}
    predictions: dict[int, list[dict]] = {}
    for page in studio.task_pages(project_id, annotations=True):
        for task in page:
            item = item_id_of(task, project_id)
            for ann in task.get("annotations") or ():
                result, mapped = _rewrite(ann.get("result"), old, new, cmap)
                if result is not None:
                    rewrites[int(ann["id"])] = result
                for code, outcome in mapped:
                    codes.append(MigratedCode(migration, int(ann["id"]), item, code, outcome.action,
                                              json.dumps(list(outcome.targets))))
                    if outcome.action == "split":
                        queue[(item, code)] = Recode(local, item, int(task["id"]), new.id, code,
                                                     json.dumps(list(outcome.targets)), migration)
            for pred in task.get("predictions") or ():
                result, _ = _rewrite(pred.get("result"), old, new, cmap)
                if result is not None:
                    predictions[int(pred["id"])] = result
    return _Plan(codes, list(queue.values()), rewrites, predictions)


def _config(studio: Studio, row, books: list[Codebook]) -> str:
    """NEW's config, with the memo and suggestions panel the project has now."""
    current = studio.label_config(row["project_id"])
    return label_config(books, unit=row["unit"], memo=f'name="{MEMO_NAME}"' in current,
                        suggestions=f'name="{SUGGESTIONS_NAME}"' in current)


def _queue_view(studio: Studio, project_id: int, queue: list[Recode]) -> int | None:
    """Mark the queued tasks and show exactly them in the :data:`RECODE_VIEW` tab; its id (None: no queue)."""
    hints: dict[int, list[str]] = {}
    for r in queue:
        choices = " or ".join(json.loads(r.candidates))
        hints.setdefault(r.task_id, []).append(f"{r.old_code} was split: choose {choices}")
    if not hints:
        return None
    for page in studio.task_pages(project_id, annotations=False):
        for task in page:
            task_id = int(task["id"])
            if task_id in hints:
                hint = "; ".join(hints[task_id])
                if task["data"].get(RECODE_FIELD) != "yes" or task["data"].get(RECODE_HINT) != hint:
                    studio.update_task_data(task_id, {**task["data"], RECODE_FIELD: "yes", RECODE_HINT: hint})
    filters = {"conjunction": "and", "items": [{"filter": f"filter:tasks:data.{RECODE_FIELD}", "operator": "equal",
                                                "type": "String", "value": "yes"}]}
    views = studio.views(project_id)
    ours = next((v for v in views if (v.get("data") or {}).get("title") == RECODE_VIEW), None)
    if ours is not None:
        studio.update_view(int(ours["id"]), project_id, {**ours["data"], "filters": filters})
        return int(ours["id"])
    # the columns the coding queue tab shows (not the whole HTML of each item), and the two recode columns
    queue_tab = next((v for v in views if (v.get("data") or {}).get("title") == VIEW_TITLE), None)
    shown = {f"tasks:data.{RECODE_FIELD}", f"tasks:data.{RECODE_HINT}"}
    base = {key: queue_tab["data"][key] for key in ("hiddenColumns", "columnsDisplayType", "columnsWidth")
            if queue_tab is not None and key in queue_tab["data"]}
    if "hiddenColumns" in base:
        base["hiddenColumns"] = {mode: [c for c in cols if c not in shown]
                                 for mode, cols in base["hiddenColumns"].items()}
    return studio.create_view(project_id, {**base, "title": RECODE_VIEW, "type": "list", "target": "tasks",
                                           "filters": filters, "ordering": ["tasks:id"]})


def _coded_rows(store: Store, local: int, old: Codebook, new: Codebook, cmap: CodeMap) -> list[tuple]:
    """The project's stored codes of the codebook as they are after the migration (NEW's ids and version)."""
    rows: dict[tuple[int, str], tuple] = {}
    for annotation, code in store.coded_codes(local, new.id):
        if code in old:
            outcome = cmap.outcome(code)
            targets = (outcome.targets if outcome.action in ("keep", "rename", "merge")
                       else tuple(t for t in outcome.targets if t == code) if outcome.action == "split" else ())
        elif code in new:
            targets = (code,)
        else:
            raise StudioError(f"stored annotation {annotation} has code {code}, which neither {old.id} {old.version}"
                              f" nor {new.version} has", hint="pull the project again, then migrate")
        for target in targets:
            category, subcategory = new.category_of(target)
            rows[(annotation, target)] = (local, annotation, target, new.id, category, subcategory, new.version)
    return list(rows.values())


def migrate(store: Store, studio: Studio, project: int | None, new: Codebook, cmap: CodeMap, *,
            progress: Callable[[str], None] | None = None) -> MigrationResult:
    """Apply ``cmap`` to every annotation of a project and move it to codebook ``new`` (see the module
    docstring for the steps); ``progress`` gets one line per step. Run it again after an interruption."""
    say = progress or (lambda line: None)
    row = project_row(store, project)
    local, project_id = int(row["id"]), int(row["project_id"])
    books = project_codebooks(store, local)
    current = next((b for b in books if b.id == new.id), None)
    if current is None:
        raise UsageError(f"project {local} is not coded with codebook {new.id}",
                         hint=f"its codebooks are: {', '.join(f'{b.id} {b.version}' for b in books)}")
    started = store.codebook_migration(local, new.id, new.version)
    if started is not None and started["applied_at"] is not None:
        say(f"done: project {local} was migrated to {new.id} {new.version} on {started['applied_at']}")
        queued = len(store.recode_queue(local))
        return MigrationResult(local, int(started["id"]), new.id, started["from_version"], new.version, 0,
                               started["renamed"], started["merged"], started["split"], started["retired"], queued,
                               None, already=True)
    if started is None:
        if current.version == new.version:
            raise UsageError(f"project {local} already codes with {new.id} {new.version}",
                             hint="give NEW a new version number in its YAML")
        old = current
    else:
        content = store.codebook_content(new.id, started["from_version"])
        if content is None:
            raise UsageError(f"codebook {new.id} {started['from_version']} is missing from {store.path}",
                             hint="push the project with that codebook again")
        old = Codebook.from_dict(content)
        if json.loads(started["map"]) != cmap.to_dict():
            raise UsageError(f"an interrupted migration of project {local} to {new.id} {new.version} used another "
                             f"map", hint="run it again with the map it started with (codebook_migrations.map)")
    problems = check_map(cmap, old, new)
    if problems:
        raise MapError(problems, cmap.source)
    migration = store.start_codebook_migration(local, new.id, old.version, new.version, json.dumps(cmap.to_dict()),
                                               json.dumps(new.to_dict()))
    say(f"migration {migration}: project {local} (Label Studio {project_id}), {new.id} {old.version} -> "
        f"{new.version}" + (" (resumed)" if started is not None else ""))

    plan = _plan(studio, project_id, local, migration, old, new, cmap)
    say(f"plan: {len(plan.rewrites)} annotations to rewrite, {len(plan.queue)} items to recode")
    store.record_migrated_codes(plan.codes, plan.queue)
    say(f"record: {len(plan.codes)} changed codes stored before Label Studio is touched")
    for annotation_id, result in plan.rewrites.items():
        studio.update_annotation(annotation_id, result)
    say(f"annotations: {len(plan.rewrites)} rewritten")

    new_books = [new if b.id == new.id else b for b in books]
    config = _config(studio, row, new_books)
    studio.validate_label_config(project_id, config)
    studio.set_label_config(project_id, config)
    for prediction_id, result in plan.predictions.items():  # after the config: the server checks them against it
        studio.update_prediction(prediction_id, result)
    say(f"config: labeling config replaced with {new.id} {new.version}; {len(plan.predictions)} predictions "
        f"rewritten")

    queue = [r for r in store.recode_queue(local) if r.codebook_id == new.id]
    view_id = _queue_view(studio, project_id, queue)
    say(f"queue: {len({r.item_id for r in queue})} items in the '{RECODE_VIEW}' tab" if view_id is not None
        else "queue: no split, nothing to recode")

    versions = json.dumps([[b.id, b.version] for b in new_books])
    store.finish_codebook_migration(migration, local, new.id, _coded_rows(store, local, old, new, cmap), versions)
    done = store.codebook_migration(local, new.id, new.version)
    say(f"store: project {local} now codes with {new.id} {new.version}; migration {migration} recorded")
    return MigrationResult(local, migration, new.id, old.version, new.version, len(plan.rewrites), done["renamed"],
                           done["merged"], done["split"], done["retired"], len({r.item_id for r in queue}), view_id)
