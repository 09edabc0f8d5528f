"""Suggested codes as Label Studio shows them: a prediction that pre-selects, and a panel that lists.

The suggestions table is what ``forumkit suggest codes`` writes (item_id, code_id, codebook, score, rank,
in_set, evidence, model_version) or any smaller table of item_id, code_id and optionally score. For each item:

* the **prediction** pre-selects the codes of the prediction set (``in_set`` true; every row when the table
  has no ``in_set`` column), with the item's ``model_version`` and, as its one score, the mean score of those
  codes. Label Studio 1.23 keeps only ``result``, ``score`` and ``model_version`` of an imported prediction
  (label_studio/tasks/serializers.py, ``add_predictions``), so the per-code scores, ranks and evidence of
  all the item's suggestions ride in the prediction's result: each Taxonomy region carries ``score`` (the
  mean of its pre-selected codes) and ``meta.suggestions`` (every suggested row of the item, as a list of
  dicts), which the server stores verbatim. An item with no code in its set gets no prediction.
* the **panel** (task data key ``suggestions``, shown by the labeling config's Suggestions HyperText)
  lists every suggested code of the item, best first: the coder sees each score and its evidence.

The store keeps the same rows (``studio_suggestions``), so that ``suggest report`` does not depend on the
server keeping predictions. A task keeps what it was pushed with: a later push with other suggestions adds
them to new tasks only (coders may already have seen, and coded, the old ones).
"""

from __future__ import annotations

import html
import math
from dataclasses import asdict, dataclass
from typing import Sequence

import pandas as pd

from forumkit.coding.codebook import Codebook, taxonomy_name
from forumkit.coding.codebook.labelconfig import OBJECT_NAME, SUGGESTIONS_NAME
from forumkit.errors import UsageError

__all__ = ["Suggested", "read_suggestions", "prediction", "panel_html", "NO_SUGGESTIONS", "SUGGESTIONS_KEY"]

#: The task data key of the panel (the labeling config's Suggestions HyperText reads it).
SUGGESTIONS_KEY = SUGGESTIONS_NAME
#: The panel of a task that has no suggestions, in a project whose other tasks have some.
NO_SUGGESTIONS = "<p><small>No suggestions for this item.</small></p>"
_EVIDENCE_CHARS = 300
_TRUE = {"true", "1", "1.0", "yes", "t", "y"}
_FALSE = {"false", "0", "0.0", "no", "f", "n"}


@dataclass(frozen=True)
class Suggested:
    """One suggested code of one item, read from a suggestions table."""

    item_id: int
    code_id: str
    codebook_id: str
    score: float | None
    rank: int | None
    in_set: bool
    evidence: str | None
    model_version: str


def _flag(value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise UsageError(f"the suggestions table's in_set holds {str(value)!r} {where}", hint="use true or false")


def _number(value: object) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def read_suggestions(codebooks: Sequence[Codebook], table: pd.DataFrame,
                     model_version: str) -> dict[int, list[Suggested]]:
    """item id -> its suggested codes, checked against the codebooks; ``model_version`` where the table has none.

    Raises :class:`UsageError` for a missing column, an item id that is not a whole number, a code (or a
    codebook named in the ``codebook`` column) that the pushed codebooks lack, a score that is not a number,
    an ``in_set`` that is not true/false, or a code suggested twice for one item.
    """
    missing = {"item_id", "code_id"} - set(table.columns)
    if missing:
        raise UsageError(f"the suggestions table lacks column(s) {', '.join(sorted(missing))}",
                         hint="give item_id, code_id and optionally score (or the file `forumkit suggest codes` "
                              "writes)")
    books = {cb.id: cb for cb in codebooks}
    owner = {code_id: cb for cb in codebooks for code_id in cb.code_ids()}
    frame = table.copy()
    frame["code_id"] = frame["code_id"].astype(str)
    ids = pd.to_numeric(frame["item_id"], errors="coerce")
    bad = ids.isna() | (ids % 1 != 0)
    if bad.any():
        raise UsageError(f"the suggestions table's item_id holds {str(frame['item_id'][bad].iloc[0])!r}",
                         hint="item_id must hold topic or post ids of the store")
    frame["item_id"] = ids.astype("int64")
    unknown = sorted(set(frame["code_id"]) - set(owner))
    if unknown:
        raise UsageError(f"suggested code(s) not in the codebooks: {', '.join(unknown[:5])}",
                         hint="suggest codes of the codebooks pushed with the sample")
    if "codebook" in frame:
        named = frame["codebook"].astype(str)
        wrong = frame[named != frame["code_id"].map(lambda c: owner[c].id)]
        if len(wrong):
            first = wrong.iloc[0]
            raise UsageError(f"the suggestions table puts code {first['code_id']} in codebook {first['codebook']!r}, "
                             f"but it belongs to {owner[first['code_id']].id!r}",
                             hint=f"push with the codebooks the suggestions were made for ({', '.join(books)} given)")
    doubled = frame.duplicated(["item_id", "code_id"])
    if doubled.any():
        first = frame[doubled].iloc[0]
        raise UsageError(f"the suggestions table lists code {first['code_id']} twice for item {first['item_id']}",
                         hint="give one row per item and code")
    for column in ("score", "rank"):
        if column in frame:
            values = pd.to_numeric(frame[column], errors="coerce")
            if (values.isna() & frame[column].notna()).any():
                raise UsageError(f"the suggestions table's {column} column holds something that is not a number",
                                 hint=f"give {column} as numbers (or leave a cell empty)")
            frame[column] = values
    out: dict[int, list[Suggested]] = {}
    for row in frame.to_dict("records"):
        where = f"for item {row['item_id']}, code {row['code_id']}"
        rank = _number(row.get("rank"))
        evidence = row.get("evidence")
        version = row.get("model_version")
        out.setdefault(int(row["item_id"]), []).append(Suggested(
            item_id=int(row["item_id"]), code_id=row["code_id"], codebook_id=owner[row["code_id"]].id,
            score=_number(row.get("score")), rank=None if rank is None else int(rank),
            in_set=_flag(row["in_set"], where) if "in_set" in row else True,
            evidence=None if evidence is None or (isinstance(evidence, float) and math.isnan(evidence))
            else str(evidence),
            model_version=model_version if version is None or (isinstance(version, float) and math.isnan(version))
            else str(version)))
    return {item: sorted(rows, key=_order) for item, rows in sorted(out.items())}


def _order(row: Suggested) -> tuple:
    """Best first: pre-selected codes, then by rank, then by score."""
    return (not row.in_set, row.rank is None, row.rank or 0, -(row.score or 0.0), row.code_id)


def _mean_score(rows: Sequence[Suggested]) -> float:
    """The mean of the rows' scores; 1.0 when none has one (a table without scores says "suggested")."""
    scores = [r.score for r in rows if r.score is not None]
    return float(sum(scores) / len(scores)) if scores else 1.0


def prediction(rows: Sequence[Suggested], codebooks: Sequence[Codebook]) -> dict | None:
    """The Label Studio prediction of one item's suggestions; None when none of them is in the prediction set."""
    chosen = [r for r in rows if r.in_set]
    if not chosen:
        return None
    meta = {"suggestions": [asdict(r) for r in rows]}
    result = []
    for book in codebooks:
        mine = [r for r in chosen if r.codebook_id == book.id]
        if mine:
            result.append({"from_name": taxonomy_name(book), "to_name": OBJECT_NAME, "type": "taxonomy",
                           "value": {"taxonomy": [[c.id for c in book.path_of(r.code_id)] for r in mine]},
                           "score": _mean_score(mine), "meta": meta})
    versions = sorted({r.model_version for r in rows})
    return {"model_version": "+".join(versions), "score": _mean_score(chosen), "result": result}


def panel_html(rows: Sequence[Suggested], codebooks: Sequence[Codebook]) -> str:
    """The Suggestions panel of one item: a small table, best first, every text escaped."""
    if not rows:
        return NO_SUGGESTIONS
    books = {cb.id: cb for cb in codebooks}
    lines = []
    for r in rows:
        path = " > ".join(c.name for c in books[r.codebook_id].path_of(r.code_id))
        evidence = r.evidence or ""
        if len(evidence) > _EVIDENCE_CHARS:
            evidence = evidence[:_EVIDENCE_CHARS - 1] + "…"
        score = "" if r.score is None else f"{r.score:.2f}"
        mark = "<b>✓</b>" if r.in_set else ""
        lines.append(f"<tr><td>{mark}</td><td>{html.escape(path)} <small>({html.escape(r.code_id)})</small></td>"
                     f"<td>{score}</td><td><small>{html.escape(evidence)}</small></td></tr>")
    versions = ", ".join(sorted({html.escape(r.model_version) for r in rows}))
    return (f"<table><thead><tr><th>pre-selected</th><th>code</th><th>score</th><th>evidence</th></tr></thead>"
            f"<tbody>{''.join(lines)}</tbody></table><p><small>model: {versions}</small></p>")
