"""How the suggestions pushed to Label Studio fared with the coders: what ``forumkit suggest report`` shows.

It reads what the store recorded at push time (``studio_suggestions``: every suggested code of each task, and
which were pre-selected) and the annotations of the last ``studio pull``, so it does not depend on Label
Studio keeping its predictions. Skipped annotations are left out; so are items pushed without suggestions
(the model said nothing about them) and suggested items nobody annotated (nothing to compare with).

Definitions, for a code k, over the *compared* items (suggested and annotated). P(i) is the item's
pre-selection (the prediction set: ``in_set`` rows), F(a) the codes a coder's annotation a finally has,
C(i) the item's consensus codes under the one consensus rule (:mod:`forumkit.coding.consensus`, majority:
strictly more than half of the item's coders; one coder alone decides for their item):

* ``offered``: annotations of items with k in P(i) (each coder was shown k pre-selected);
  ``accepted``: of those, the annotations that kept k; ``acceptance`` = accepted / offered. This is also the
  precision of the pre-selection against each coder's final codes (per coder, pooled over coders).
* ``applied``: annotations with k in F(a); ``recall_coders`` = accepted / applied: the share of the coders'
  uses of k that the pre-selection had offered.
* ``precision_consensus`` = #{i: k in P(i) and C(i)} / #{i: k in P(i)}; ``recall_consensus`` =
  #{i: k in P(i) and C(i)} / #{i: k in C(i)}: the pre-selection against the consensus, per item.
* The row ``ALL`` sums the counts over codes and takes the same ratios (micro-averages).

The model as a coder: its annotation of item i is P(i). For every pair of coders (the model and each human,
and each two humans) :class:`~forumkit.coding.agreement.Agreement` measures them on the compared items both
annotated, over the same universe of codes for every pair (the codes pre-selected or applied on the compared
items), so that model-human and human-human figures stand side by side: Cohen's kappa and Krippendorff's
(nominal) alpha of the item x code present/absent decisions, pooled over codes (``ALL``) and per code, and the
percent agreement.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forumkit.coding.agreement import Agreement
from forumkit.coding.codebook import Codebook
from forumkit.coding.coded import annotation_rows
from forumkit.coding.consensus import consensus_rule
from forumkit.coding.reliability import write_tables
from forumkit.coding.studio.projects import project_codebooks, project_row
from forumkit.errors import StoreError, UsageError
from forumkit.store import Store

__all__ = ["MODEL_CODER", "ALL", "SuggestionReport", "suggestion_report", "write_report"]

#: The model's name as a coder in the agreement table.
MODEL_CODER = "model"
#: The code id of the rows that pool every code.
ALL = "ALL"
PER_CODE_COLUMNS = ["codebook_id", "code_id", "code", "items_preselected", "offered", "accepted", "acceptance",
                    "applied", "recall_coders", "items_consensus", "hits_consensus", "precision_consensus",
                    "recall_consensus"]
AGREEMENT_COLUMNS = ["coder_a", "coder_b", "pair", "code_id", "n_items", "percent_agreement", "cohen_kappa",
                     "krippendorff_alpha"]


@dataclass(frozen=True)
class SuggestionReport:
    """The three tables of the report (their columns are described in the module docstring).

    ``summary``: one row: project, model_versions, items_suggested, items_preselected, items_compared,
    annotations, coders, items_without_suggestions (annotated but pushed without suggestions: left out).
    ``per_code``: one row per code, then the ``ALL`` row. ``agreement``: per pair of coders, the ``ALL`` row
    then one row per code.
    """

    summary: pd.DataFrame
    per_code: pd.DataFrame
    agreement: pd.DataFrame


#: The files :func:`write_report` writes, and the table each holds.
FILES = {"summary.csv": "summary", "per_code.csv": "per_code", "agreement.csv": "agreement"}


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else float("nan")


def suggestion_report(store: Store, project: int | None = None) -> SuggestionReport:
    """Acceptance, precision and recall of a project's suggestions, and the model's agreement with the coders.

    Raises :class:`UsageError` for an unknown project or one with no pulled annotations, and
    :class:`StoreError` for a project pushed without suggestions. Example: ``suggestion_report(store, 1).per_code``
    """
    row = project_row(store, project)
    pid = int(row["id"])
    suggested = store.studio_suggestions(pid)
    if not suggested:
        raise StoreError(f"project {pid} was pushed without suggestions, so there is nothing to report on",
                         hint="push a sample with `forumkit studio push --suggestions FILE` (what `forumkit suggest "
                              "codes` writes), let the coders work, pull, then report")
    rows = annotation_rows(store, pid)
    rows = rows[~rows["was_cancelled"]]
    pre: dict[int, set[str]] = {}  # every suggested item -> its pre-selected codes (maybe none)
    for s in suggested:
        pre.setdefault(s.item_id, set())
        if s.in_set:
            pre[s.item_id].add(s.code_id)
    compared = rows[rows["item_id"].isin(list(pre))]
    if compared.empty:
        raise UsageError(f"none of the {len(pre)} items suggested in project {pid} has a pulled annotation",
                         hint="let the coders work, then `forumkit studio pull` and report again")
    final: dict[tuple[int, str], set[str]] = {}  # (item, coder) -> codes (a coder's doubled tasks: their union)
    for item, coder, code in compared[["item_id", "coder", "code_id"]].itertuples(index=False):
        codes = final.setdefault((int(item), str(coder)), set())
        if isinstance(code, str):
            codes.add(code)
    items = sorted({item for item, _ in final})
    coders = sorted({coder for _, coder in final})
    universe = _universe(project_codebooks(store, pid),
                         {c for i in items for c in pre[i]} | {c for v in final.values() for c in v})
    consensus = _consensus(final, items, [code for _, code, _ in universe])

    per_code = pd.DataFrame([_code_row(book, code, name, items, pre, final, consensus)
                             for book, code, name in universe], columns=PER_CODE_COLUMNS)
    per_code = pd.concat([per_code, _total_row(per_code)], ignore_index=True)
    agreement = _agreement(items, coders, pre, final, [code for _, code, _ in universe])
    summary = pd.DataFrame([{
        "project": pid, "model_versions": ", ".join(sorted({s.model_version for s in suggested})),
        "items_suggested": len(pre), "items_preselected": sum(1 for codes in pre.values() if codes),
        "items_compared": len(items), "annotations": len(final), "coders": len(coders),
        "items_without_suggestions": int(rows.loc[~rows["item_id"].isin(list(pre)), "item_id"].nunique()),
    }])
    return SuggestionReport(summary, per_code, agreement)


def _universe(books: list[Codebook], codes: set[str]) -> list[tuple[str, str, str]]:
    """(codebook id, code id, names from the top) of ``codes`` in codebook order; codes that no codebook of the
    project holds (now) come last, sorted, named by their id."""
    ordered = [(book.id, code_id, " > ".join(c.name for c in book.path_of(code_id)))
               for book in books for code_id in book.code_ids() if code_id in codes]
    known = {code for _, code, _ in ordered}
    return ordered + [("", code, code) for code in sorted(codes - known)]


def _consensus(final: dict[tuple[int, str], set[str]], items: list[int], codes: list[str]) -> dict[int, set[str]]:
    """item -> its consensus codes, by the one consensus rule over the item's coders."""
    n_coders = np.zeros(len(items))
    n_with = np.zeros((len(items), len(codes)))
    row_of, col_of = {item: r for r, item in enumerate(items)}, {code: k for k, code in enumerate(codes)}
    for (item, _), applied in final.items():
        n_coders[row_of[item]] += 1
        for code in applied:
            n_with[row_of[item], col_of[code]] += 1
    keep, _ = consensus_rule(n_with, n_coders[:, None])
    return {item: {codes[k] for k in np.flatnonzero(keep[r])} for r, item in enumerate(items)}


def _code_row(book: str, code: str, name: str, items: list[int], pre: dict[int, set[str]],
              final: dict[tuple[int, str], set[str]], consensus: dict[int, set[str]]) -> dict:
    offered = sum(1 for (item, _), _codes in final.items() if code in pre[item])
    accepted = sum(1 for (item, _), applied in final.items() if code in pre[item] and code in applied)
    applied = sum(1 for applied in final.values() if code in applied)
    preselected = sum(1 for item in items if code in pre[item])
    agreed = sum(1 for item in items if code in consensus[item])
    hits = sum(1 for item in items if code in pre[item] and code in consensus[item])
    return {"codebook_id": book, "code_id": code, "code": name, "items_preselected": preselected,
            "offered": offered, "accepted": accepted, "acceptance": _ratio(accepted, offered), "applied": applied,
            "recall_coders": _ratio(accepted, applied), "items_consensus": agreed, "hits_consensus": hits,
            "precision_consensus": _ratio(hits, preselected), "recall_consensus": _ratio(hits, agreed)}


def _total_row(per_code: pd.DataFrame) -> pd.DataFrame:
    sums = per_code[["items_preselected", "offered", "accepted", "applied", "items_consensus", "hits_consensus"]].sum()
    return pd.DataFrame([{
        "codebook_id": "", "code_id": ALL, "code": "all codes", **{k: int(v) for k, v in sums.items()},
        "acceptance": _ratio(sums["accepted"], sums["offered"]),
        "recall_coders": _ratio(sums["accepted"], sums["applied"]),
        "precision_consensus": _ratio(sums["hits_consensus"], sums["items_preselected"]),
        "recall_consensus": _ratio(sums["hits_consensus"], sums["items_consensus"])}], columns=PER_CODE_COLUMNS)


def _agreement(items: list[int], coders: list[str], pre: dict[int, set[str]],
               final: dict[tuple[int, str], set[str]], universe: list[str]) -> pd.DataFrame:
    """Each pair's agreement on the items both annotated: model-human pairs first, then human-human."""
    sets = dict(final)
    sets.update({(item, MODEL_CODER): pre[item] for item in items})
    pairs = [(MODEL_CODER, human, "model-human") for human in coders]
    pairs += [(a, b, "human-human") for a, b in itertools.combinations(coders, 2)]
    out = []
    for a, b, kind in pairs:
        both = [item for item in items if (item, a) in sets and (item, b) in sets]
        if not both or not universe:
            continue
        annotations = pd.DataFrame([(item, coder) for item in both for coder in (a, b)], columns=["item", "coder"])
        codes = pd.DataFrame([(item, coder, code) for item in both for coder in (a, b) for code in sets[item, coder]],
                             columns=["item", "coder", "code"])
        fitted = Agreement(n_boot=0).fit(annotations, codes, codes_universe=universe)
        overall = fitted.overall_.set_index("measure")["value"]
        out.append({"coder_a": a, "coder_b": b, "pair": kind, "code_id": ALL, "n_items": len(both),
                    "percent_agreement": overall["percent_agreement"], "cohen_kappa": overall["cohen_kappa"],
                    "krippendorff_alpha": overall["krippendorff_alpha"]})
        for code in fitted.per_code_.itertuples(index=False):
            out.append({"coder_a": a, "coder_b": b, "pair": kind, "code_id": code.code, "n_items": len(both),
                        "percent_agreement": code.percent_agreement, "cohen_kappa": code.cohen_kappa,
                        "krippendorff_alpha": code.krippendorff_alpha})
    return pd.DataFrame(out, columns=AGREEMENT_COLUMNS)


def write_report(report: SuggestionReport, folder: str | Path) -> list[Path]:
    """Write the report's tables as CSV files into ``folder`` (made if missing); returns their paths."""
    return write_tables(report, FILES, folder, what="the report's tables, e.g. --out report/")
