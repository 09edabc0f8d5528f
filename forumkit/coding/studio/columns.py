"""The columns coders scan, sort and filter their queue by in Label Studio's Data Manager.

Each task carries plain fields beside the HTML the labeling interface renders
(:data:`COLUMNS`: title, forum category, created date, number of posts,
accepted answer, and the top suggested code and its score when the project has
suggestions), and each project gets a Data Manager tab, :data:`VIEW_TITLE`,
that shows them and hides the rest. Without it the Data Manager lists every
task data key, and the first one, the whole HTML of the item, is all a coder
sees of a row.

Label Studio keeps a tab's visible columns as a list of hidden ones
(``data.hiddenColumns.explore`` for the task list and ``.labeling`` for the
list beside the labeling interface), and the Data Manager fails on a hidden
column the project does not have, so the list is made from the project's own
columns (``/api/dm/columns``) after its tasks are imported. Hiding a column
only takes it off the list: the labeling interface renders the task's HTML from
the labeling config all the same. Tabs are shared by the users of the
organization, so coders see it too.

A later push leaves the tab as the researcher set it, except that it hides
again the columns no coder needs (:data:`NOISE`: the HTML, the suggestions
panel, ids), which a push that adds suggestions brings into the project.
"""

from __future__ import annotations

from typing import Sequence

from forumkit.coding.codebook import Codebook

from .client import Studio
from .suggestions import SUGGESTIONS_KEY, Suggested

#: The name of the tab forumkit makes (and finds again) in each project.
VIEW_TITLE = "Coding queue"
#: Task data keys shown as Data Manager columns, in this order (the last two only with suggestions).
COLUMNS = ("title", "category", "created", "posts", "accepted_answer", "top_code", "top_score")
#: Label Studio's own columns kept in the task list: the task id and who coded it so far.
BUILT_IN = ("id", "total_annotations", "annotators")
#: The columns kept in the narrow list beside the labeling interface.
LABELING = ("tasks:id", "tasks:data.title", "tasks:total_annotations")
#: Task data keys hidden again at every push: long HTML or ids a coder has no use for in a list.
NOISE = ("html", SUGGESTIONS_KEY, "url", "item_id", "created_at")
#: Columns shown as numbers, so that they sort and filter as numbers.
DISPLAY_TYPES = {"tasks:data.posts": "Number", "tasks:data.top_score": "Number"}


def top_fields(rows: Sequence[Suggested], codebooks: Sequence[Codebook]) -> dict:
    """The ``top_code`` (its name) and ``top_score`` task fields of an item's suggestions (best first)."""
    if not rows:
        return {"top_code": "", "top_score": None}
    best = rows[0]
    book = next(cb for cb in codebooks if cb.id == best.codebook_id)
    name = book.path_of(best.code_id)[-1].name
    return {"top_code": name,
            "top_score": None if best.score is None else round(best.score, 3)}


def with_columns(data: dict, extra: dict) -> dict:
    """Task data with the :data:`COLUMNS` first, in order (the Data Manager lists data keys as it first saw them)."""
    merged = {**data, **extra}
    return {**{k: merged[k] for k in COLUMNS if k in merged}, **merged}


def set_queue_view(studio: Studio, project_id: int) -> int:
    """Create the project's :data:`VIEW_TITLE` tab, or hide the :data:`NOISE` columns in it again; its id."""
    present = studio.data_manager_columns(project_id)
    noise = {f"tasks:data.{key}" for key in NOISE} & set(present)
    views = studio.views(project_id)
    ours = next((v for v in views if (v.get("data") or {}).get("title") == VIEW_TITLE), None)
    if ours is None:
        shown = {f"tasks:{c}" for c in BUILT_IN} | {f"tasks:data.{k}" for k in COLUMNS}
        data = {"title": VIEW_TITLE, "type": "list", "target": "tasks",
                "hiddenColumns": {"explore": [c for c in present if c not in shown],
                                  "labeling": [c for c in present if c not in LABELING]},
                "columnsDisplayType": {c: t for c, t in DISPLAY_TYPES.items() if c in present},
                "columnsWidth": {}, "ordering": ["tasks:id"], "filters": {"conjunction": "and", "items": []}}
        view_id = studio.create_view(project_id, data)
        if views:  # a project pushed before forumkit made this tab: put it first, where the Data Manager opens
            studio.order_views(project_id, [view_id, *(int(v["id"]) for v in views)])
        return view_id
    data = {k: v for k, v in ours["data"].items() if k not in ("filters", "ordering", "selectedItems")}
    hidden = {mode: list((data.get("hiddenColumns") or {}).get(mode) or []) for mode in ("explore", "labeling")}
    missing = {mode: sorted(noise - set(cols)) for mode, cols in hidden.items()}
    types = dict(data.get("columnsDisplayType") or {})
    untyped = {c: t for c, t in DISPLAY_TYPES.items() if c in present and c not in types}
    if any(missing.values()) or untyped:
        data["hiddenColumns"] = {mode: hidden[mode] + missing[mode] for mode in hidden}
        data["columnsDisplayType"] = {**types, **untyped}
        studio.update_view(int(ours["id"]), project_id, data)
    return int(ours["id"])
