"""The report's sections on the coding itself: agreement between coders, and how the suggestions fared.

Agreement is measured for each codebook on its own (the codes of other codebooks left out, every annotated
item kept) and for all codes together, with :class:`forumkit.coding.agreement.Agreement`; suggestion
acceptance is :func:`forumkit.coding.suggest.acceptance.suggestion_report`, the table
``forumkit suggest report`` prints.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from forumkit.errors import ForumkitError
from forumkit.store import Store
from .page import Section

__all__ = ["agreement_section", "suggestions_section"]

N_BOOT = 500
MEASURES = ("percent_agreement", "cohen_kappa", "krippendorff_alpha", "masi_alpha")


def _measured(coders: pd.DataFrame):
    from forumkit.coding.agreement import Agreement, from_coded

    return Agreement(n_boot=N_BOOT, seed=0).fit(*from_coded(coders.rename(columns={"item_id": "item",
                                                                                   "code_id": "code"})))


def agreement_section(coders: pd.DataFrame | None, tables: Path) -> Section:
    """Agreement per codebook and overall, or why there is none."""
    section = Section("Agreement", "agreement")
    if coders is None or coders.empty:
        section.absent("No coders' annotations: agreement needs a pulled Label Studio project (forumkit studio "
                       "pull); a coded table given with --coded holds no coders.")
        return section
    per_item = coders.groupby("item_id")["coder"].nunique()
    if not (per_item > 1).any():
        section.absent(f"{coders['coder'].nunique()} coder(s), and no item coded by two: agreement needs items "
                       "coded by two coders or more (assign some items to a second coder in Label Studio).")
        return section
    parts = {"all codes": coders}
    if "codebook_id" in coders and coders["codebook_id"].nunique() > 1:
        for book in sorted(coders["codebook_id"].dropna().unique()):
            only = coders.assign(code_id=coders["code_id"].where(coders["codebook_id"] == book))
            parts[str(book)] = only.drop_duplicates(["item_id", "coder", "code_id"])
    frames = []
    for name, part in parts.items():
        measured = _measured(part)
        if name == "all codes":  # the tables earlier reports wrote, kept under their names
            measured.overall_.to_csv(tables / "agreement.csv", index=False)
            measured.per_code_.to_csv(tables / "agreement_per_code.csv", index=False)
        frames.append(measured.overall_.assign(codes=name))
    overall = pd.concat(frames, ignore_index=True)
    overall.to_csv(tables / "agreement_by_codebook.csv", index=False)
    shown = overall[overall["measure"].isin(MEASURES)].assign(
        value=lambda f: f["value"].map("{:.3f}".format) + " [" + f["ci_low"].map("{:.2f}".format) + ", "
        + f["ci_high"].map("{:.2f}".format) + "]")
    grid = shown.pivot(index="measure", columns="codes", values="value").reindex(list(MEASURES)).dropna(how="all")
    grid = grid[[name for name in parts if name in grid.columns]].reset_index()
    section.intro = (f"{int(overall['n_coders'].max())} coders, {int(overall['n_items'].max())} items coded by "
                     f"two or more. Each codebook's codes on their own, then all codes together; value "
                     f"[95% interval, bootstrap over items, {N_BOOT} replicates].")
    section.table(grid, csv="agreement_by_codebook")
    return section


def suggestions_section(store: Store, project: int | None, coders: pd.DataFrame | None, tables: Path) -> Section:
    """How often the coders kept the pre-selected suggestions, and the model as a coder; or why not shown."""
    from forumkit.coding.suggest.acceptance import ALL, suggestion_report

    section = Section("Suggestion acceptance", "suggestions")
    if coders is None or coders.empty:
        section.absent("No pulled project: suggestion acceptance compares the suggestions pushed to Label Studio "
                       "(forumkit suggest codes, then studio push with them) with the coders' pulled annotations.")
        return section
    try:
        report = suggestion_report(store, project)
    except ForumkitError as exc:
        section.absent(f"Not available: {exc.one_line()}.")
        return section
    report.summary.to_csv(tables / "suggestions_summary.csv", index=False)
    report.per_code.to_csv(tables / "suggestions_per_code.csv", index=False)
    report.agreement.to_csv(tables / "suggestions_agreement.csv", index=False)
    row = report.summary.iloc[0]
    pooled = report.per_code[report.per_code["code_id"] == ALL].iloc[0]
    section.intro = (f"{int(row['items_compared'])} items were suggested and annotated ({row['model_versions']}); "
                     f"the coders kept {pooled['acceptance']:.0%} of the {int(pooled['offered'])} pre-selected codes "
                     f"they were shown, and {pooled['recall_coders']:.0%} of the codes they applied had been "
                     "pre-selected.")
    per_code = report.per_code[report.per_code["code_id"] != ALL].sort_values("offered", ascending=False)
    columns = {"codebook_id": "codebook", "code": "code", "offered": "pre-selected", "accepted": "kept",
               "acceptance": "acceptance", "applied": "applied", "recall_coders": "recall (coders)",
               "precision_consensus": "precision (consensus)", "recall_consensus": "recall (consensus)"}
    section.table(per_code[list(columns)].head(12).rename(columns=columns),
                  "The most often pre-selected codes (acceptance: share of pre-selections the coder kept)",
                  csv="suggestions_per_code")
    pairs = report.agreement[report.agreement["code_id"] == ALL]
    section.table(pairs[["coder_a", "coder_b", "pair", "n_items", "percent_agreement", "cohen_kappa",
                         "krippendorff_alpha"]], "The model as a coder beside the humans (all codes pooled)",
                  csv="suggestions_agreement")
    return section
