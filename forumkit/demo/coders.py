"""Simulated coders for the demo: they code a Label Studio project through its API, as a seeded key says.

The key (``forumkit/data/demo_coding_key.csv``, written by ``tools/make_demo_coding_key.py``) gives, for every
topic of the shipped forum snapshot and each coder, the codes of each shipped codebook the coder ends up with,
and a memo where the coder departs from the snapshot's truth. A simulated coder works as a person would in
the labeling screen: it opens the task with the suggestions pre-selected (the annotation names the prediction
it started from), keeps the pre-selected codes the key has, removes the others, adds the key's codes the
pre-selection lacks, writes the memo, and submits. Everything goes through Label Studio's REST API
with label-studio-sdk, so what the demo pulls back is what a real round of coding would give.

Example::

    key = load_coding_key()
    done = simulate_coding(studio, project_id, key, codebooks)
    done.annotations, done.kept_suggestions
"""

from __future__ import annotations

import csv
import random
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Callable, Sequence

from forumkit.coding.codebook import Codebook
from forumkit.coding.codebook.labelconfig import MEMO_NAME, OBJECT_NAME, taxonomy_name
from forumkit.coding.studio.client import Studio, item_id_of
from forumkit.errors import ForumkitError

__all__ = ["CodingKey", "SimulatedCoding", "coder_email", "load_coding_key", "simulate_coding"]

#: Annotations submitted at once.
WORKERS = 4


def coder_email(coder: str) -> str:
    """The Label Studio account of a simulated coder (the domain is reserved: it reaches nobody)."""
    return f"{coder}@demo.forumkit.example"


@dataclass(frozen=True)
class CodingKey:
    """item id -> coder -> codebook id -> codes, and item id -> coder -> memo."""

    codes: dict[int, dict[str, dict[str, tuple[str, ...]]]]
    memos: dict[int, dict[str, str]]
    coders: tuple[str, ...]

    def of(self, item_id: int, coder: str, codebook: str) -> tuple[str, ...]:
        """The codes ``coder`` gives ``item_id`` in ``codebook`` (none for an item the key does not know)."""
        return self.codes.get(item_id, {}).get(coder, {}).get(codebook, ())


def load_coding_key(path: str | Path | None = None) -> CodingKey:
    """The shipped key, or a CSV of the same columns: item_id, coder, one column per codebook id, memo."""
    source = Path(path) if path is not None else resources.files("forumkit") / "data" / "demo_coding_key.csv"
    codes: dict[int, dict[str, dict[str, tuple[str, ...]]]] = {}
    memos: dict[int, dict[str, str]] = {}
    coders: list[str] = []
    with source.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        books = [name for name in reader.fieldnames or () if name not in ("item_id", "coder", "memo")]
        for row in reader:
            item, coder = int(row["item_id"]), row["coder"]
            if coder not in coders:
                coders.append(coder)
            codes.setdefault(item, {})[coder] = {b: tuple(filter(None, row[b].split("|"))) for b in books}
            memos.setdefault(item, {})[coder] = row.get("memo") or ""
    return CodingKey(codes, memos, tuple(coders))


@dataclass
class SimulatedCoding:
    """What the simulated coders did: annotations made, pre-selected codes offered to them and kept."""

    annotations: int = 0
    offered_suggestions: int = 0
    kept_suggestions: int = 0
    coders: dict[str, int] = field(default_factory=dict)  # coder -> Label Studio user id


def _user_ids(studio: Studio, coders: Sequence[str]) -> dict[str, int]:
    """The coders' Label Studio accounts, made when missing (an admin token may create users)."""
    known = {email: uid for uid, email in studio.users().items()}
    ids = {}
    for coder in coders:
        email = coder_email(coder)
        if email not in known:
            known[email] = studio.create_user(email, coder)
        ids[coder] = known[email]
    return ids


def _preselected(task: dict, book: Codebook) -> tuple[dict | None, int | None]:
    """The task's pre-selection for ``book`` (a result item) and the id of the prediction that holds it."""
    for prediction in task.get("predictions") or ():
        for item in prediction.get("result") or ():
            if item.get("from_name") == taxonomy_name(book):
                return item, int(prediction["id"])
    return None, None


def _annotation(task: dict, key: CodingKey, item_id: int, coder: str, books: Sequence[Codebook],
                done: SimulatedCoding) -> tuple[list[dict], int | None]:
    """One coder's result for a task, built from the pre-selection and the key; the prediction it started from."""
    result: list[dict] = []
    started_from = None
    for book in books:
        wanted = key.of(item_id, coder, book.id)
        paths = [[c.id for c in book.path_of(code)] for code in wanted]
        offered, prediction_id = _preselected(task, book)
        if offered is not None:
            started_from = prediction_id
            kept = {path[-1] for path in offered["value"]["taxonomy"]} & set(wanted)
            done.kept_suggestions += len(kept)
            done.offered_suggestions += len(offered["value"]["taxonomy"])
        if paths:
            result.append({"from_name": taxonomy_name(book), "to_name": OBJECT_NAME, "type": "taxonomy",
                           "value": {"taxonomy": paths}})
    memo = key.memos.get(item_id, {}).get(coder, "")
    if memo:
        result.append({"from_name": MEMO_NAME, "to_name": OBJECT_NAME, "type": "textarea", "value": {"text": [memo]}})
    return result, started_from


def simulate_coding(studio: Studio, project_id: int, key: CodingKey, codebooks: Sequence[Codebook], *,
                    coders: Sequence[str] | None = None, seed: int = 0,
                    progress: Callable[[int, int], None] | None = None) -> SimulatedCoding:
    """Let each coder annotate every task of the Label Studio project ``project_id`` that they have not yet.

    Tasks they already annotated are left alone, so a stopped run goes on where it stopped. ``lead_time`` (the
    seconds a coder spent) is drawn from a seeded distribution, so Label Studio's statistics look lived-in.
    """
    coders = tuple(coders or key.coders)
    missing = [c for c in coders if c not in key.coders]
    if missing:
        raise ForumkitError(f"the coding key has no coder {', '.join(missing)}",
                            hint=f"use the key's coders: {', '.join(key.coders)}")
    done = SimulatedCoding(coders=_user_ids(studio, coders))
    rng = random.Random(seed)
    work = []
    for task in (task for page in studio.task_pages(project_id, annotations=True) for task in page):
        item_id = item_id_of(task, project_id)
        annotated_by = {a.get("completed_by") for a in task.get("annotations") or ()}
        for coder in coders:
            if done.coders[coder] not in annotated_by:
                result, started_from = _annotation(task, key, item_id, coder, codebooks, done)
                work.append((task["id"], done.coders[coder], result, round(rng.uniform(20, 240), 1), started_from))
    if progress is not None:
        progress(0, len(work))
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:  # Label Studio answers several requests at once
        pending = [pool.submit(lambda w: studio.annotate(w[0], user=w[1], result=w[2], lead_time=w[3],
                                                         prediction=w[4]), w) for w in work]
        for n, future in enumerate(as_completed(pending), 1):
            future.result()
            done.annotations += 1
            if progress is not None:
                progress(n, len(work))
    return done
