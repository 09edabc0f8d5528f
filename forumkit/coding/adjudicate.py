"""Adjudication in Label Studio: a queue of the items coders disagree on, and the decisions read back.

``forumkit adjudicate --project N`` keeps one adjudication project on the same Label Studio server per coded
project (found again by a key in its description, linked in the store's ``adjudication_projects``). Each run
does both directions, so running it again is how decisions come back:

The disputed items are those of the project, or of every project of its coding round (``studio_projects.round``,
e.g. one project per blind coder), the way ``agreement`` pairs them; the decisions are stored for the project
named.

1. it reads the queue's tasks and annotations from the server; each task's decision (the adjudicator's
   annotation: with ``--adjudicator``, only that account's; otherwise the latest one) replaces the
   store's decisions of the project (``adjudications`` and ``adjudicated_codes``), with who decided, when
   and the reason written;
2. it adds a task for every item whose coders differ on any code (in any codebook) that the queue lacks.

A task shows the item as coders saw it, and each coder's codes and memo side by side (codes not every coder
applied are marked), with the project's codebooks to choose the decision and a *reason* field. The decision
is the item's complete set of codes, not a vote on the disputed ones: the codes every coder applied are
pre-selected. A task shows the coders' codes as they were when the item was queued.

The decisions become the consensus of those items in ``forumkit export coded`` (:func:`~.coded.coded_items`,
``consensus_rule`` = ``adjudicated``) and the "after" of negotiated agreement (:mod:`.negotiated`).
"""

from __future__ import annotations

import hashlib
import html
import logging
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from forumkit.coding.codebook import Codebook, CodebookError, label_config, taxonomy_name
from forumkit.coding.codebook.labelconfig import OBJECT_NAME, PATH_SEPARATOR
from forumkit.errors import ForumkitError, UsageError
from forumkit.store import Store
from forumkit.store.adjudication import DecidedCode, Decision
from .coded import annotation_rows
from .negotiated import groups
from .studio.client import Studio, fit_title, item_id_of
from .studio.projects import project_codebooks, project_row
from .studio.pull import changed_at, chosen_codes
from .studio.render import render_items

__all__ = ["AdjudicationResult", "adjudicate", "disputed_items"]

log = logging.getLogger(__name__)

#: Names of the config's panel of the coders' codes (and its task data key) and of the reason field.
CODERS_NAME, REASON_NAME = "coders", "reason"
MODEL_VERSION = "forumkit-adjudicate"
_INSTRUCTIONS = ("Adjudicate: read the item and what each coder chose (codes not every coder applied are marked "
                 "with ≠), then choose ALL the codes this item gets, not only the disputed ones; the codes every "
                 "coder applied are pre-selected. Write the reason for your decision.")


@dataclass(frozen=True)
class AdjudicationResult:
    project: int  # forumkit's id of the coded project
    project_id: int  # Label Studio's id of the adjudication project
    url: str
    created: bool
    disputed: int  # items whose coders differ now
    added: int  # tasks added by this run
    queued: int  # tasks in the queue after this run
    decided: int  # items with a decision
    ignored: int = 0  # annotations of the queue by others than the named adjudicator

    @property
    def project_url(self) -> str:
        return f"{self.url}/projects/{self.project_id}/data"


def disputed_items(rows: pd.DataFrame) -> dict[int, dict[str, tuple[frozenset[str], str]]]:
    """item id -> coder -> (codes, memo) of the items whose coders (two or more) did not apply the same codes.

    ``rows``: :func:`~.coded.annotation_rows` of one project, skipped annotations left out.
    """
    coders: dict[int, dict[str, tuple[frozenset[str], str]]] = {}
    for (item, coder), group in rows.groupby(["item_id", "coder"], sort=True):
        codes = frozenset(group["code_id"].dropna())
        memo = "\n".join(dict.fromkeys(group["memo"].dropna()))
        coders.setdefault(int(item), {})[str(coder)] = (codes, memo)
    return {item: by for item, by in coders.items()
            if len(by) >= 2 and len({codes for codes, _ in by.values()}) > 1}


def adjudicate(store: Store, studio: Studio, project: int, *, adjudicator: str | None = None) -> AdjudicationResult:
    """Read the queue's decisions into the store, then queue the disputed items it lacks (see the module)."""
    row = project_row(store, project)
    books = project_codebooks(store, row["id"])
    rows = annotation_rows(store, None)  # the project's round is one coding (e.g. one project per blind coder)
    disputed = disputed_items(rows[rows["project"].isin(groups(store, row["id"])) & ~rows["was_cancelled"]])
    link = store.adjudication_project(row["id"])
    if link is None and not disputed:
        raise ForumkitError(f"no disagreements in project {row['id']}: the coders of every item coded by two or more "
                            f"applied the same codes", hint="nothing to adjudicate; `forumkit agreement` shows the "
                                                             "agreement")
    studio.check()
    created = False
    if link is not None:
        if link["url"] != studio.url:
            raise UsageError(f"project {row['id']}'s adjudication queue is on {link['url']}, not {studio.url}",
                             hint=f"pass --url {link['url']}")
        project_id = int(link["project_id"])
        if adjudicator is None:
            adjudicator = link["adjudicator"]
        elif adjudicator != link["adjudicator"]:
            store.set_adjudicator(row["id"], adjudicator)
    else:
        marker = f"[forumkit adjudication {_key(row)}]"
        found = studio.projects_described_with(marker)
        if found:  # an earlier run made it and was stopped before the store recorded it
            project_id = found[0]
        else:
            description = f"forumkit: adjudication of project {row['id']} ({row['title']}) {marker}"
            project_id = studio.create_project(fit_title(row["title"], " (adjudication)"), _config(books, row["unit"]), 1,
                                               description=description)
            created = True
        store.add_adjudication_project(row["id"], url=studio.url, project_id=project_id, adjudicator=adjudicator)

    have, decisions, codes, ignored = _read_queue(studio, project_id, row["id"], books, adjudicator)
    store.replace_adjudications(row["id"], decisions, codes)
    new = [item for item in disputed if item not in have]
    if new:
        data = render_items(store, row["forum_id"], row["unit"], new)
        tasks = [_task(data[item], disputed[item], books) for item in new]
        studio.import_tasks(project_id, tasks)
    log.info("adjudication of project %d: %d disputed, %d added, %d decided", row["id"], len(disputed), len(new),
             len(decisions))
    return AdjudicationResult(row["id"], project_id, studio.url, created, len(disputed), len(new),
                              len(have) + len(new), len(decisions), ignored)


def _key(row) -> str:
    return hashlib.sha256(f"{row['url']}\n{row['project_id']}".encode()).hexdigest()[:20]


def _config(books: Sequence[Codebook], unit: str) -> str:
    """The coding config with the adjudication's instructions, the coders' panel and a reason field."""
    names = {taxonomy_name(book) for book in books}
    if names & {CODERS_NAME, REASON_NAME}:
        raise CodebookError(f"a codebook id becomes {', '.join(sorted(names & {CODERS_NAME, REASON_NAME}))}, a name "
                            f"the adjudication config uses", hint="give the codebook another id")
    view = ET.fromstring(label_config(list(books), unit=unit, memo=False))
    children = list(view)
    children[1].set("value", _INSTRUCTIONS)  # the second Header holds the coding instructions
    at = next(n for n, e in enumerate(children) if e.tag == "HyperText" and e.get("name") == OBJECT_NAME) + 1
    view.insert(at, ET.Element("Header", {"value": "What the coders chose", "size": "5"}))
    view.insert(at + 1, ET.Element("HyperText", {"name": CODERS_NAME, "value": f"${CODERS_NAME}"}))
    ET.SubElement(view, "Header", {"value": "Reason for the decision", "size": "5"})
    ET.SubElement(view, "TextArea", {"name": REASON_NAME, "toName": OBJECT_NAME, "editable": "true", "rows": "3",
                                     "maxSubmissions": "1", "placeholder": "Why these codes"})
    ET.indent(view, space="  ")
    return ET.tostring(view, encoding="unicode") + "\n"


def _label(book: Codebook, code_id: str) -> str:
    try:
        return PATH_SEPARATOR.join(c.name for c in book.path_of(code_id))
    except CodebookError:
        return code_id


def _task(data: dict, coders: dict[str, tuple[frozenset[str], str]], books: Sequence[Codebook]) -> dict:
    """A queue task: the item, the coders' panel, and the codes every coder applied pre-selected."""
    names = sorted(coders)
    agreed = frozenset.intersection(*(codes for codes, _ in coders.values()))
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    body = []
    for book in books:
        cells = []
        for name in names:
            mine = [c for c in sorted(coders[name][0]) if c in book]
            shown = [html.escape(_label(book, c)) if c in agreed else f"<b>≠ {html.escape(_label(book, c))}</b>"
                     for c in mine]
            cells.append("<td>" + ("<br>".join(shown) or "<i>no code</i>") + "</td>")
        body.append(f"<tr><th>{html.escape(book.name)}</th>{''.join(cells)}</tr>")
    memos = "".join(f"<td>{html.escape(coders[n][1]) or '<i>no memo</i>'}</td>" for n in names)
    body.append(f"<tr><th>Memo</th>{memos}</tr>")
    panel = f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    task: dict = {"data": {"title": data["title"], "html": data["html"], CODERS_NAME: panel,
                           "item_id": data["item_id"], "url": data["url"]}}
    result = []
    for book in books:
        paths = [[c.id for c in book.path_of(code)] for code in sorted(agreed) if code in book]
        if paths:
            result.append({"from_name": taxonomy_name(book), "to_name": OBJECT_NAME, "type": "taxonomy",
                           "value": {"taxonomy": paths}})
    if result:
        task["predictions"] = [{"model_version": MODEL_VERSION, "score": 1.0, "result": result}]
    return task


def _read_queue(studio: Studio, project_id: int, project: int, books: Sequence[Codebook], adjudicator: str | None
                ) -> tuple[set[int], list[Decision], list[DecidedCode], int]:
    """(items queued, decisions, their codes, annotations ignored) as the server holds the queue now."""
    by_control = {taxonomy_name(book): book for book in books}
    users = studio.users()
    have: set[int] = set()
    decisions: list[Decision] = []
    codes: list[DecidedCode] = []
    ignored = 0
    for page in studio.task_pages(project_id, annotations=True):
        for task in page:
            item = item_id_of(task, project_id)
            have.add(item)
            made = [a for a in task.get("annotations") or () if not a.get("was_cancelled")]
            mine = [a for a in made if adjudicator is None or users.get(int(a["completed_by"])) == adjudicator]
            ignored += len(made) - len(mine)
            if not mine:
                continue
            ann = max(mine, key=lambda a: (a.get("updated_at") or a.get("created_at") or "", int(a["id"])))
            reason: list[str] = []
            for result in ann.get("result") or ():
                if result.get("type") == "textarea" and result.get("from_name") == REASON_NAME:
                    reason += result.get("value", {}).get("text", [])
                elif result.get("type") == "taxonomy":
                    codes += _decided(by_control, result, project, item, int(ann["id"]))
            who = users.get(int(ann["completed_by"]), str(ann["completed_by"]))
            decisions.append(Decision(project, item, int(ann["id"]), who,
                                      changed_at(ann),
                                      "\n".join(reason) or None))
    return have, decisions, codes, ignored


def _decided(by_control: dict[str, Codebook], result: dict, project: int, item: int,
             annotation_id: int) -> list[DecidedCode]:
    return [DecidedCode(project, item, code, book.id, *book.category_of(code), book.version)
            for book, code in chosen_codes(by_control, result, f"decision {annotation_id}",
                                           "adjudicate with the project's codebooks")]
