"""Coders, coding rounds and their agreement, from the pulled annotations: the coding part of the appendix.

The statistics are those of :mod:`forumkit.coding.agreement` (computed by
:func:`forumkit.coding.reliability.project_agreement` for the project), and :data:`WHY` says why each is
reported, so that the text gives a reader the reason next to the number.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass
from typing import Any

import pandas as pd

from forumkit.coding.agreement import Agreement, from_coded
from forumkit.coding.coded import annotation_rows
from forumkit.coding.negotiated import breakdown
from forumkit.coding.reliability import project_agreement
from forumkit.errors import ForumkitError, UsageError
from forumkit.store import Store

__all__ = ["AgreementFacts", "CoderFact", "CodingFacts", "MeasureFact", "RoundFact", "WHY", "coding_facts",
           "pseudonym", "study_projects"]

#: Why each statistic is reported: the sentence the appendix puts next to it.
WHY = {
    "krippendorff_alpha": "Krippendorff's alpha (nominal, on every item x code present/absent decision) is the "
                          "primary statistic: it corrects for chance agreement, takes any number of coders, and "
                          "allows coders who did not code every item (they are missing, not 'absent').",
    "masi_alpha": "MASI alpha compares each coder's whole set of codes for an item (Krippendorff's alpha with the "
                  "MASI set distance, Passonneau 2006), giving partial credit to overlapping sets: the view that "
                  "fits items that can carry several codes.",
    "cohen_kappa": "Cohen's kappa is reported because exactly two coders coded, for comparison with studies that "
                   "report it.",
    "fleiss_kappa": "Fleiss' kappa needs the same number of coders on every item: it is computed on the items "
                    "coded by the most common number of coders.",
    "percent_agreement": "Percent agreement is given for reference only: it does not correct for chance, and with "
                         "many codes most decisions are 'absent', which inflates it.",
}
NAMES = {"percent_agreement": "Percent agreement", "cohen_kappa": "Cohen's kappa", "fleiss_kappa": "Fleiss' kappa",
         "krippendorff_alpha": "Krippendorff's alpha", "masi_alpha": "MASI alpha"}


@dataclass(frozen=True)
class MeasureFact:
    """One pooled agreement statistic: its value, interval, the items it used, and why it is reported."""

    measure: str
    name: str
    value: float
    ci_low: float
    ci_high: float
    n_items: int
    note: str
    why: str


@dataclass(frozen=True)
class CodeAgreementFact:
    """One code's agreement: prevalence, percent agreement, alpha (with interval), Cohen's kappa (two coders)."""

    code: str
    name: str
    prevalence: float
    percent_agreement: float
    alpha: float
    ci_low: float
    ci_high: float
    kappa: float
    note: str


@dataclass(frozen=True)
class AgreementFacts:
    """The agreement of one set of annotations (a project or a round); ``error`` says why there is none."""

    label: str
    n_items: int
    n_coders: int
    measures: list[MeasureFact]
    per_code: list[CodeAgreementFact]
    disagreements: int
    error: str | None = None

    def value(self, measure: str) -> float:
        """The pooled value of ``measure`` (NaN when it is not reported)."""
        return next((m.value for m in self.measures if m.measure == measure), math.nan)


@dataclass(frozen=True)
class CoderFact:
    """One coder's work: annotations (skipped ones apart), the items they coded, codes they applied."""

    coder: str
    annotations: int
    items: int
    skipped: int
    codes_applied: int


@dataclass(frozen=True)
class RoundFact:
    """A coding round (``round`` None: coding outside rounds) with its projects, coders and agreement."""

    round: int | None
    projects: list[int]
    blind_coders: list[str]
    coders: int
    annotations: int
    items: int
    skipped: int
    agreement: AgreementFacts | None


@dataclass(frozen=True)
class CodingFacts:
    """Who coded what in the study's projects, by coder and by round, and the project's agreement.

    The text names coders by ``pseudonyms`` (Coder A, B, ... in the order of their e-mails, the project's coders
    first): a methods section is published, the coders' e-mails are not.
    """

    projects: list[dict]
    coders: list[CoderFact]
    annotations: int
    skipped: int
    items: int
    items_two_plus: int
    codes_applied: int
    rounds: list[RoundFact]
    agreement: AgreementFacts
    n_boot: int
    confidence: float
    seed: int
    pseudonyms: dict[str, str]  # coder e-mail -> the name the text gives them


def study_projects(store: Store, row: sqlite3.Row) -> list[sqlite3.Row]:
    """The projects the appendix describes: the project itself; when it belongs to a round, every project of a
    round on the same forum and unit (the other rounds, and a blind round's one project per coder)."""
    if row["round"] is None:
        return [row]
    return [r for r in store.studio_projects() if r["round"] is not None and r["forum_id"] == row["forum_id"]
            and r["unit"] == row["unit"]]


def _agreement_facts(label: str, fitted: Agreement, names: dict[str, str]) -> AgreementFacts:
    two = len(fitted.coders_) == 2
    measures = [MeasureFact(r.measure, NAMES[r.measure], float(r.value), float(r.ci_low), float(r.ci_high),
                            int(r.n_items), r.note or "", WHY[r.measure])
                for r in fitted.overall_.itertuples() if r.measure != "cohen_kappa" or two]
    per_code = [CodeAgreementFact(r.code, names.get(r.code, r.code), float(r.prevalence), float(r.percent_agreement),
                                  float(r.krippendorff_alpha), float(r.ci_low), float(r.ci_high),
                                  float(r.cohen_kappa), r.note or "")
                for r in fitted.per_code_.itertuples()]
    pairable = int(fitted.overall_.set_index("measure").loc["krippendorff_alpha", "n_items"])
    return AgreementFacts(label, pairable, len(fitted.coders_), measures, per_code, len(fitted.disagreements_))


def _no_agreement(label: str, exc: ForumkitError, pseudonyms: dict[str, str]) -> AgreementFacts:
    """Why there is no agreement, coders named by pseudonym (an error may name a coder by e-mail)."""
    text = exc.one_line()
    for coder, alias in pseudonyms.items():
        text = text.replace(coder, alias)
    return AgreementFacts(label, 0, 0, [], [], 0, error=text)


def pseudonym(index: int) -> str:
    """The text's name of the index-th coder: Coder A, Coder B, ..., then Coder 27, Coder 28, ..."""
    return f"Coder {chr(65 + index)}" if index < 26 else f"Coder {index + 1}"


def _pulled(store: Store, project: int) -> pd.DataFrame | None:
    """A project's annotation rows (:func:`annotation_rows`), or None when nothing was pulled for it yet."""
    try:
        return annotation_rows(store, project)
    except UsageError:
        return None


def _round_agreement(rows: pd.DataFrame, label: str, names: dict[str, str], pseudonyms: dict[str, str], *,
                     n_boot: int, confidence: float, seed: int) -> AgreementFacts:
    """Agreement over the annotation rows of a round's projects: an item is the same unit in each of them (one
    project per blind coder holds the same tasks), so annotations pair by item id across the projects."""
    try:
        coded = rows[~rows["was_cancelled"]].rename(columns={"item_id": "item", "code_id": "code"})
        fitted = Agreement(n_boot=n_boot, level=confidence, seed=seed).fit(*from_coded(coded))
    except ForumkitError as exc:
        return _no_agreement(label, exc, pseudonyms)
    return _agreement_facts(label, fitted, names)


def _counts(rows: pd.DataFrame) -> tuple[int, int, int, int]:
    """(annotations not skipped, skipped, items coded, codes applied) of annotation rows."""
    per = rows.drop_duplicates(["project", "annotation_id"])
    done = rows[~rows["was_cancelled"]]
    return (int((~per["was_cancelled"]).sum()), int(per["was_cancelled"].sum()),
            int(done["item_id"].nunique()), int(done["code_id"].notna().sum()))


def coding_facts(store: Store, project: sqlite3.Row, names: dict[str, str], *, n_boot: int = 1000,
                 confidence: float = 0.95, seed: int = 0) -> CodingFacts:
    """Coders, rounds and agreement of ``project`` (and of its round's projects, see :func:`study_projects`).

    ``names`` maps code ids to their names for the per-code table; ``n_boot``, ``confidence`` and ``seed`` are
    the bootstrap's, as `forumkit agreement` takes them.
    """
    pid = int(project["id"])
    projects = study_projects(store, project)
    rows = annotation_rows(store, pid)
    by_round = {number: [int(r["id"]) for r in projects if r["round"] == number]
                for number in sorted({r["round"] for r in projects if r["round"] is not None})}
    pulled = {p: _pulled(store, p) for ids in by_round.values() for p in ids}
    others = {str(c) for frame in pulled.values() if frame is not None for c in frame["coder"]} - set(rows["coder"])
    pseudonyms = {coder: pseudonym(i) for i, coder in enumerate(sorted(set(rows["coder"])) + sorted(others))}
    coders = []
    for coder, mine in rows.groupby("coder", sort=True):
        annotations, skipped, items, applied = _counts(mine)
        coders.append(CoderFact(str(coder), annotations, items, skipped, applied))
    annotations, skipped, items, applied = _counts(rows)
    done = rows[~rows["was_cancelled"]]
    two_plus = int((done.groupby("item_id")["coder"].nunique() >= 2).sum())
    try:
        agreement = _agreement_facts(f"project {pid}", project_agreement(
            store, pid, n_boot=n_boot, confidence=confidence, seed=seed), names)
    except ForumkitError as exc:
        agreement = _no_agreement(f"project {pid}", exc, pseudonyms)
    rounds = []
    for number, ids in by_round.items():
        frames = [pulled[p] for p in ids if pulled[p] is not None]
        both = pd.concat(frames, ignore_index=True) if frames else None
        done_, skipped_, items_, _ = _counts(both) if both is not None else (0, 0, 0, 0)
        blind = sorted(r["coder"] for r in projects if r["round"] == number and r["coder"])
        rounds.append(RoundFact(number, ids, blind, int(both["coder"].nunique()) if both is not None else 0, done_,
                                items_, skipped_,
                                None if both is None else _round_agreement(
                                    both, f"round {number}", names, pseudonyms, n_boot=n_boot,
                                    confidence=confidence, seed=seed)))
    listing = [{"id": int(r["id"]), "title": r["title"], "unit": r["unit"], "sample": r["sample_id"],
                "round": r["round"], "coder": r["coder"], "created_at": r["created_at"], "url": r["url"],
                "project_id": r["project_id"]} for r in projects]
    return CodingFacts(listing, coders, annotations, skipped, items, two_plus, applied, rounds, agreement, n_boot,
                       confidence, seed, pseudonyms)


def level_facts(store: Store, project: int) -> dict[str, Any]:
    """Agreement per codebook and hierarchy level (the paper's usual "category-level kappa") and, when items were
    adjudicated, negotiated agreement before and after: `forumkit agreement`'s per_level and negotiated tables.

    ``levels`` holds the rows of the coders' independent codes; ``negotiated`` the pooled measures before and
    after adjudication, empty when nothing was adjudicated (see :mod:`forumkit.coding.negotiated`).
    """
    try:
        tables = breakdown(store, project, n_boot=0)
    except ForumkitError:
        return {"levels": [], "negotiated": []}
    levels = tables.per_level[(tables.per_level["stage"] == "before") & (tables.per_level["n_items"] > 0)]
    return {"levels": levels.to_dict("records"), "negotiated": tables.negotiated.to_dict("records")}

