"""Agreement per coding round, codebook version and level, before and after adjudication.

What ``forumkit agreement`` adds to the pooled tables of :mod:`.reliability`:

* **Groups.** A project pushed as part of a coding round (``studio_projects.round``) is one coding with the
  other projects of its round: in a blind round each coder has a project of the same items, and the items are
  paired across them. ``--project N`` selects N's round (all of its projects), or N alone outside rounds;
  no project selects every project. Each round is a group ``round R``; a project outside rounds is
  ``project P``.
* **per_level**: :func:`~.levels.level_agreement` per group, codebook, codebook version and level
  (Krippendorff's alpha nominal or MASI, Cohen's kappa for two coders).
* **per_round**: the pooled measures of :class:`~.agreement.Agreement` per group.
* **negotiated**: negotiated agreement, for the groups with adjudicated items. *Before* is the coders'
  independent codes as pulled. *After* is the same annotations with each coder's codes on an adjudicated
  item replaced by the adjudicator's decision: the disagreements adjudication settled count as settled,
  and the items not (yet) decided keep their disagreements (negotiated agreement as in Garrison et al. 2006,
  "Revisiting methodological issues in transcript analysis", and Campbell et al. 2013, "Coding in-depth
  semistructured interviews"). Once every disputed item is decided, *after* is 1 (or undefined); the gap
  between the two is what the adjudication had to settle. per_level reports both stages too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forumkit.errors import UsageError
from forumkit.store import Store
from .agreement import MEASURES, Agreement, from_coded
from .coded import adjudications, annotation_rows
from .levels import level_agreement
from .studio.projects import project_row

__all__ = ["Breakdown", "TABLES", "breakdown"]

#: The files ``forumkit agreement --out`` writes besides the pooled ones, and the Breakdown attribute of each.
TABLES = {"per_level.csv": "per_level", "per_round.csv": "per_round", "negotiated.csv": "negotiated"}
ROUND_COLUMNS = ["group", "measure", "value", "ci_low", "ci_high", "n_items", "n_coders", "note"]
NEGOTIATED_COLUMNS = ["group", "measure", "before", "after", "n_items", "n_adjudicated", "note"]


@dataclass(frozen=True)
class Breakdown:
    """per_level (stage, group, then :data:`~.levels.COLUMNS`), per_round and negotiated tables."""

    per_level: pd.DataFrame
    per_round: pd.DataFrame
    negotiated: pd.DataFrame


def groups(store: Store, project: int | None) -> dict[int, str]:
    """project id -> its group's name (``round R`` or ``project P``) for the selection (see the module)."""
    rows = store.studio_projects()
    if project is not None:
        row = project_row(store, project)
        rows = [r for r in rows if r["id"] == row["id"] or (row["round"] is not None and r["round"] == row["round"])]
    return {r["id"]: (f"round {r['round']}" if r["round"] is not None else f"project {r['id']}") for r in rows}


def breakdown(store: Store, project: int | None = None, *, n_boot: int = 1000, confidence: float = 0.95,
              seed: int | None = 0) -> Breakdown:
    """The per-level, per-round and negotiated tables of a project's coding (of every project when None)."""
    named = groups(store, project)
    rows = annotation_rows(store, None)
    rows = rows[rows["project"].isin(named) & ~rows["was_cancelled"]].copy()
    if rows.empty:
        raise UsageError("no annotations to compare (none pulled, or all skipped)", hint="pull the project first")
    rows["group"] = rows["project"].map(named)
    versions = pd.DataFrame(store.coded_versions(), columns=["project", "annotation_id", "code_id", "codebook_version"])
    rows = rows.drop(columns=["codebook_version"], errors="ignore").merge(
        versions, on=["project", "annotation_id", "code_id"], how="left")
    books = {p: dict(pairs) for p, pairs in store.project_codebook_versions() if p in named}
    decided = adjudications(store)
    decided = decided[decided["project"].isin(named)].assign(group=lambda d: d["project"].map(named))
    settled = _settle(rows, decided)

    levels, per_round, negotiated = [], [], []
    for stage, frame in (("before", rows), ("after", settled)):
        if stage == "after":
            frame = frame[frame["group"].isin(set(decided["group"]))]
            if frame.empty:
                break
        table = level_agreement(*_level_input(frame, books), by=["group"])
        levels.append(table.assign(stage=stage))
    for group, frame in rows.groupby("group", sort=True):
        per_round.append(_pooled(group, frame, n_boot, confidence, seed))
        mine = decided[decided["group"] == group]
        if len(mine):
            after = settled[settled["group"] == group]
            negotiated.append(_negotiated(group, frame, after, mine["item_id"].nunique()))
    per_level = pd.concat(levels, ignore_index=True)
    per_level = per_level[["stage", *[c for c in per_level.columns if c != "stage"]]]
    settled_table = pd.concat(negotiated, ignore_index=True) if negotiated else pd.DataFrame(columns=NEGOTIATED_COLUMNS)
    return Breakdown(per_level, pd.concat(per_round, ignore_index=True), settled_table)


def _settle(rows: pd.DataFrame, decided: pd.DataFrame) -> pd.DataFrame:
    """The annotation rows with every coder's codes on a decided item replaced by the decision."""
    if decided.empty:
        return rows
    keys = ["group", "item_id"]
    judged = decided[keys].drop_duplicates()
    hit = rows.merge(judged.assign(_j=True), on=keys, how="left")["_j"].notna().to_numpy()
    kept = rows[~hit]
    annotations = rows[hit].drop_duplicates(["project", "annotation_id"]).drop(
        columns=["code_id", "codebook_id", "category", "subcategory", "codebook_version"])
    codes = decided[[*keys, "code_id", "codebook_id", "category", "subcategory", "codebook_version"]]
    replaced = annotations.merge(codes, on=keys, how="left")  # a decision of no code: one row, code empty
    return pd.concat([kept, replaced[rows.columns]], ignore_index=True)


def _level_input(rows: pd.DataFrame, books: dict[int, dict[str, str]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(annotations x codebooks with the version each was made under, codes) for :func:`level_agreement`.

    A code's version is the one recorded when it was pulled, else the project's; an annotation's version of a
    codebook is its codes' there, else the project's (its empty set counts under the version it was made with).
    """
    rows = rows.rename(columns={"item_id": "item"})
    applied = rows.dropna(subset=["code_id"]).copy()
    fallback = [books.get(p, {}).get(cb) for p, cb in zip(applied["project"], applied["codebook_id"])]
    applied["codebook_version"] = applied["codebook_version"].where(applied["codebook_version"].notna(),
                                                                    pd.Series(fallback, index=applied.index))
    applied["codebook_version"] = applied["codebook_version"].fillna("")
    ann = rows.drop_duplicates(["project", "annotation_id"])[["project", "annotation_id", "group", "item", "coder"]]
    pairs = pd.DataFrame([(p, cb, v) for p, book in books.items() for cb, v in book.items()],
                         columns=["project", "codebook_id", "codebook_version"])
    pairs = pd.concat([pairs, applied[["project", "codebook_id", "codebook_version"]]]).drop_duplicates(
        ["project", "codebook_id"])
    per_book = ann.merge(pairs, on="project")
    used = applied.drop_duplicates(["project", "annotation_id", "codebook_id"])[
        ["project", "annotation_id", "codebook_id", "codebook_version"]]
    per_book = per_book.merge(used, on=["project", "annotation_id", "codebook_id"], how="left", suffixes=("", "_used"))
    per_book["codebook_version"] = per_book["codebook_version_used"].fillna(per_book["codebook_version"])
    return per_book.drop(columns="codebook_version_used"), applied


def _fit(rows: pd.DataFrame, n_boot: int, confidence: float, seed: int | None) -> Agreement:
    coded = rows.rename(columns={"item_id": "item", "code_id": "code"})
    return Agreement(n_boot=n_boot, level=confidence, seed=seed).fit(*from_coded(coded))


def _pooled(group: str, rows: pd.DataFrame, n_boot: int, confidence: float, seed: int | None) -> pd.DataFrame:
    try:
        return _fit(rows, n_boot, confidence, seed).overall_.assign(group=group)[ROUND_COLUMNS]
    except UsageError as exc:  # e.g. a round with one coder so far: say so in its rows
        return pd.DataFrame({"group": group, "measure": list(MEASURES), "value": np.nan, "ci_low": np.nan,
                             "ci_high": np.nan, "n_items": 0, "n_coders": rows["coder"].nunique(),
                             "note": str(exc)})[ROUND_COLUMNS]


def _negotiated(group: str, before: pd.DataFrame, after: pd.DataFrame, n_adjudicated: int) -> pd.DataFrame:
    first, second = (_fit(frame, 0, 0.95, 0).overall_.set_index("measure") for frame in (before, after))
    notes = [("; ".join(filter(None, (first.loc[m, "note"], second.loc[m, "note"])))) for m in MEASURES]
    return pd.DataFrame({"group": group, "measure": list(MEASURES), "before": first.loc[list(MEASURES), "value"].values,
                         "after": second.loc[list(MEASURES), "value"].values,
                         "n_items": first.loc[list(MEASURES), "n_items"].values, "n_adjudicated": n_adjudicated,
                         "note": notes})[NEGOTIATED_COLUMNS]
