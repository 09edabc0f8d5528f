"""Pull a project's annotations from Label Studio into the store as coded rows.

The tasks are read a page at a time (one request for a whole large project
fails); each annotation names its coder, its time, lead time and whether it was
skipped. Taxonomy paths are mapped back to codebook ids (Label Studio writes the
Choice aliases, which forumkit sets to code ids; paths of names are accepted
too), with the codebook snapshots the project was pushed with. A pull mirrors
the server: the project's annotations in the store are replaced in one
transaction, so pulling twice never duplicates, and annotations deleted in
Label Studio disappear.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from forumkit.coding.codebook import Codebook, CodebookError, taxonomy_name
from forumkit.store import Store, utcnow
from forumkit.store.studio import PulledAnnotation, PulledCode
from .client import PAGE_SIZE, Studio, item_id_of
from .projects import project_codebooks, project_row
from .server import StudioError

__all__ = ["PullResult", "chosen_codes", "changed_at", "pull"]


@dataclass(frozen=True)
class PullResult:
    project: int
    annotations: int
    codes: int
    coders: tuple[str, ...]
    tasks_annotated: int


def changed_at(annotation: dict) -> str | None:
    """When an annotation last changed, in the store's millisecond UTC form (Label Studio writes
    '2026-11-23T18:23:58.822428Z')."""
    value = annotation.get("updated_at") or annotation.get("created_at")
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def pull(store: Store, studio: Studio, project: int | None = None, *, page_size: int = PAGE_SIZE) -> PullResult:
    """Replace the store's annotations of a project with what Label Studio holds now (``page_size`` tasks a request)."""
    row = project_row(store, project)
    by_control = {taxonomy_name(cb): cb for cb in project_codebooks(store, row["id"])}
    users = studio.users()
    annotations: list[PulledAnnotation] = []
    coded: list[PulledCode] = []
    coders: set[str] = set()
    annotated = 0
    now = utcnow()
    for page in studio.task_pages(row["project_id"], annotations=True, page_size=page_size):
        for task in page:
            item_id = item_id_of(task, row["project_id"])
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
                annotations.append(PulledAnnotation(
                    row["id"], int(ann["id"]), int(task["id"]), item_id, coder,
                    changed_at(ann), ann.get("lead_time"),
                    int(bool(ann.get("was_cancelled"))), "\n".join(memo) or None, now))
    store.replace_annotations(row["id"], annotations, coded)
    return PullResult(row["id"], len(annotations), len(coded), tuple(sorted(coders)), annotated)


def chosen_codes(by_control: dict[str, Codebook], result: dict, what: str, hint: str) -> list[tuple[Codebook, str]]:
    """The (codebook, code id) pairs a taxonomy result chose: the one reading of a Label Studio taxonomy, for
    coders' annotations and adjudicators' decisions alike. ``what`` names the annotation in errors."""
    codebook = by_control.get(result.get("from_name"))
    if codebook is None:
        raise StudioError(f"{what} uses the control '{result.get('from_name')}', which none of the project's "
                          f"codebooks defines", hint=hint)
    chosen = []
    for path in result.get("value", {}).get("taxonomy", []):
        try:
            chosen.append((codebook, codebook.by_path(tuple(path)).id))
        except CodebookError as exc:
            raise StudioError(f"{what} chose '{' > '.join(path)}', which codebook {codebook.id} {codebook.version} "
                              f"does not have", hint=hint) from exc
    return chosen


def _codes(by_control: dict[str, Codebook], result: dict, project: int, annotation_id: int) -> list[PulledCode]:
    return [PulledCode(project, int(annotation_id), code, book.id, *book.category_of(code), book.version)
            for book, code in chosen_codes(by_control, result, f"annotation {annotation_id}",
                                           "push the project again with the codebooks it was coded with")]
