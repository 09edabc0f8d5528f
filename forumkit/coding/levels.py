"""Agreement per codebook and hierarchy level: the "category-level kappa" a paper reports.

:class:`~forumkit.coding.agreement.Agreement` pools item x code decisions. Papers instead compare, for each
item, what each coder chose *in one codebook at one level*:

* at the ``category`` level, the set of top-level categories of the coder's codes in that codebook;
* at the ``subcategory`` level, the set of codes themselves (a category chosen alone is its own value, so
  "Performance" and "Performance > Speed" differ there but agree at the category level).

An annotation with no code of the codebook gives the empty set: the coder saw the item and chose nothing
there. Codebook versions are never mixed: an annotation counts under the version of its codebook it was made
with, and each (codebook, version) is its own row. Only items coded by two or more coders are compared.

The statistics, per (codebook, version, level):

* ``alpha``: Krippendorff's alpha. When every compared annotation holds exactly one value there
  (single-label), the values are nominal labels: ``alpha_metric`` is ``nominal``, computed by the
  ``krippendorff`` package. Otherwise (an empty set, or two values) the values are sets compared with the
  MASI distance (Passonneau 2006): ``alpha_metric`` is ``masi``, computed by
  :class:`~forumkit.coding.agreement.Agreement` (NLTK's ``AnnotationTask.alpha`` formula with exact thirds).
  On single-label data both give the same number.
* ``kappa``: Cohen's kappa, only when exactly two coders coded the group (sklearn's ``cohen_kappa_score``)
  over the items both coded. Single-label: on the one label per item (``kappa_on`` = ``label``).
  Multi-label: on the pooled present/absent decisions of every item x value of the level, the way
  ``agreement``'s overall ``cohen_kappa`` pools item x code decisions (``kappa_on`` = ``item x value``).
* ``exact_agreement``: the share of compared items whose coders chose the same set.

Kappa and alpha are 0/0 (NaN, with a note) when the data holds one value only.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import krippendorff
import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

from forumkit.errors import UsageError
from .agreement import Agreement

__all__ = ["LEVELS", "COLUMNS", "level_agreement"]

LEVELS = ("category", "subcategory")
#: Columns of :func:`level_agreement` after the ``by`` columns.
COLUMNS = ["codebook", "version", "level", "n_items", "n_coders", "single_label", "alpha_metric", "alpha", "kappa",
           "kappa_on", "exact_agreement", "note"]
_HINT = ("annotations need columns item, coder, codebook_id (codebook_version optional); codes need item, coder, "
         "codebook_id, code_id, category")


def level_agreement(annotations: pd.DataFrame, codes: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """One row per ``by`` group, codebook, version and level (see the module docstring).

    ``annotations``: one row per annotation and codebook it was made with: item, coder, codebook_id and
    optionally codebook_version, plus the ``by`` columns. ``codes``: one row per applied code: item, coder,
    codebook_id, code_id, category (plus ``codebook_version`` and the ``by`` columns when annotations have them).

    >>> ann = pd.DataFrame({"item": [1, 1, 2, 2], "coder": ["a", "b"] * 2, "codebook_id": "cb"})
    >>> codes = ann.assign(code_id=["x", "x", "y", "x"], category=["X", "X", "Y", "X"])
    >>> level_agreement(ann, codes)[["level", "alpha_metric", "exact_agreement"]].values.tolist()[0]
    ['category', 'nominal', 0.5]
    """
    keys = [*by, "codebook_id"] + (["codebook_version"] if "codebook_version" in annotations.columns else [])
    for frame, need, what in ((annotations, ["item", "coder", *keys], "annotations"),
                              (codes, ["item", "coder", *keys, "code_id", "category"], "codes")):
        missing = [c for c in need if c not in frame.columns]
        if missing:
            raise UsageError(f"{what} lack the column(s) {', '.join(missing)}", hint=_HINT)
    ann = annotations[["item", "coder", *keys]].astype({"coder": str}).drop_duplicates()
    applied = codes[["item", "coder", *keys, "code_id", "category"]].astype({"coder": str}).drop_duplicates()
    rows = []
    for key, group in ann.groupby(keys, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        mine = applied.merge(group, on=["item", "coder", *keys], how="inner")
        for level in LEVELS:
            labels = mine.assign(label=mine["category"] if level == "category" else mine["code_id"])
            row = _one(group[["item", "coder"]], labels[["item", "coder", "label"]])
            version = key[len(by) + 1] if "codebook_version" in keys else None
            rows.append({**dict(zip(by, key)), "codebook": key[len(by)], "version": version, "level": level, **row})
    return pd.DataFrame(rows, columns=[*by, *COLUMNS])


def _one(ann: pd.DataFrame, labels: pd.DataFrame) -> dict:
    """The statistics of one codebook and level: ``ann`` (item, coder) annotations, ``labels`` their values."""
    sets = {(i, c): frozenset() for i, c in zip(ann["item"], ann["coder"])}
    for i, c, label in zip(labels["item"], labels["coder"], labels["label"]):
        sets[(i, c)] = sets[(i, c)] | {str(label)}
    by_item: dict = {}
    for (i, c), s in sets.items():
        by_item.setdefault(i, {})[c] = s
    pairable = {i: coders for i, coders in by_item.items() if len(coders) >= 2}
    coders = sorted({c for cs in pairable.values() for c in cs})
    out = {"n_items": len(pairable), "n_coders": len(coders), "single_label": None, "alpha_metric": None,
           "alpha": np.nan, "kappa": np.nan, "kappa_on": None, "exact_agreement": np.nan, "note": ""}
    if not pairable:
        out["note"] = "no item coded by two or more coders"
        return out
    notes = []
    single = all(len(s) == 1 for cs in pairable.values() for s in cs.values())
    out["single_label"] = single
    out["exact_agreement"] = float(np.mean([len(set(cs.values())) == 1 for cs in pairable.values()]))
    items = sorted(pairable, key=str)
    if single:
        out["alpha_metric"] = "nominal"
        values = sorted({next(iter(s)) for cs in pairable.values() for s in cs.values()})
        index = {v: n for n, v in enumerate(values)}
        matrix = np.full((len(coders), len(items)), np.nan)
        for j, i in enumerate(items):
            for c, s in pairable[i].items():
                matrix[coders.index(c), j] = index[next(iter(s))]
        if len(values) > 1:
            out["alpha"] = float(krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal"))
    else:
        out["alpha_metric"] = "masi"
        pairs = pd.DataFrame([(i, c) for i in items for c in pairable[i]], columns=["item", "coder"])
        values = pd.DataFrame([(i, c, v) for i in items for c, s in pairable[i].items() for v in sorted(s)],
                              columns=["item", "coder", "code"])
        overall = Agreement(n_boot=0).fit(pairs, values).overall_.set_index("measure")
        out["alpha"] = float(overall.loc["masi_alpha", "value"])
    if np.isnan(out["alpha"]):
        notes.append("alpha undefined: the data holds one value only (0/0)")
    if len(coders) == 2:
        out["kappa"], out["kappa_on"] = _kappa(pairable, coders, single)
        if np.isnan(out["kappa"]):
            notes.append("kappa undefined: the data holds one value only (0/0)")
    else:
        notes.append(f"kappa needs exactly two coders, not {len(coders)}: see alpha")
    out["note"] = "; ".join(notes)
    return out


def _kappa(pairable: dict, coders: list[str], single: bool) -> tuple[float, str]:
    """Cohen's kappa of the two coders over the items both coded (see the module docstring)."""
    both = [i for i in sorted(pairable, key=str) if all(c in pairable[i] for c in coders)]
    if single:
        a, b = ([next(iter(pairable[i][c])) for i in both] for c in coders)
        on = "label"
    else:
        universe = sorted({v for i in both for s in pairable[i].values() for v in s})
        a, b = ([int(v in pairable[i][c]) for i in both for v in universe] for c in coders)
        on = "item x value"
    if len(set(a) | set(b)) < 2:
        return np.nan, on
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(cohen_kappa_score(a, b)), on
