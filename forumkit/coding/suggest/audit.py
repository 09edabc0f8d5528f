"""Audit of coded data: items whose human code a model finds unlikely, and the pairs of codes coders confuse.

Both codebook by codebook (codes of different codebooks are not alternatives to each other).

- **Label issues** (:func:`label_issues`): confident learning (Northcutt et al. 2021) as cleanlab 2.9 does it,
  ``cleanlab.filter.find_label_issues`` on *out-of-fold* probabilities (each item scored by a model that did not
  see it), ranked by self-confidence, i.e. the probability the model gives to the code the coders gave. cleanlab
  needs contiguous class indices, so codes no item was given are dropped and the rows renormalised. Items with
  one code each are audited as multi-class; when any item has several codes, as multi-label (cleanlab's
  ``multilabel_classification``, on the probabilities as they are).
- **Confused pairs** (:func:`coder_confusion`, :func:`model_confusion`): from the coders, each item coded by two or
  more coders adds, for every two coders, each code only one of them gave paired with each code only the other
  gave; from the model, each item adds its given codes that are not among its top predictions paired with the
  predicted ones that were not given (top-k, k = the number of given codes). A pair counts an item once; the
  ``source`` column says which of the two a row comes from.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from forumkit.errors import ForumkitError, UsageError
from .classifier import CodeClassifier, out_of_fold_proba
from .levels import level_codes
from .trainset import read_training, shipped_codebooks_for

if TYPE_CHECKING:
    import pandas as pd

    from forumkit.coding.codebook import Codebook
    from forumkit.store import Store
    from .corpus import Corpus

__all__ = ["Audit", "ISSUE_COLUMNS", "PAIR_COLUMNS", "audit_codes", "coder_confusion", "label_issues",
           "model_confusion", "write_audit"]

#: Columns of :func:`label_issues`.
ISSUE_COLUMNS = ["rank", "item_id", "given_code_id", "given_prob", "suggested_code_id", "suggested_prob",
                 "issue_score"]
#: Columns of :func:`coder_confusion` and :func:`model_confusion`.
PAIR_COLUMNS = ["source", "code_a", "code_b", "n_items", "share"]


def _cleanlab(given: list[list[int]], probs: np.ndarray, multi: bool) -> tuple[np.ndarray, np.ndarray]:
    """(flagged row indices, most suspicious first; label quality of every row) from cleanlab 2.9."""

    with warnings.catch_warnings():  # "may not flag all issues in class k, too few examples": said in our docs
        warnings.simplefilter("ignore", UserWarning)
        if multi:
            from cleanlab.multilabel_classification.filter import find_label_issues as find_multi
            from cleanlab.multilabel_classification.rank import get_label_quality_scores as multi_quality

            flagged = find_multi(given, probs, return_indices_ranked_by="self_confidence", n_jobs=1)
            return np.asarray(flagged), multi_quality(given, probs)
        from cleanlab.filter import find_label_issues
        from cleanlab.rank import get_label_quality_scores

        single = np.array([g[0] for g in given])
        flagged = find_label_issues(single, probs, return_indices_ranked_by="self_confidence", n_jobs=1)
        return np.asarray(flagged), get_label_quality_scores(single, probs, method="self_confidence")


def label_issues(item_ids: Sequence, labels: Sequence[Sequence[str]], oof: pd.DataFrame) -> pd.DataFrame:
    """The items whose given codes the out-of-fold probabilities ``oof`` (items x codes, indexed by item id) find
    unlikely, most suspicious first (:data:`ISSUE_COLUMNS`).

    ``given_prob`` is the model's probability of the given code (of the least likely one, for several);
    ``suggested_code_id`` the most likely code the item was not given, with ``suggested_prob``; ``issue_score``
    is 1 - cleanlab's self-confidence label quality (higher: more likely mislabelled). Codes joined by ``|``.
    """
    import pandas as pd

    missing = sorted({c for codes in labels for c in codes} - set(oof.columns))
    if missing:
        raise UsageError(f"the model gives no probability for code {missing[0]}", hint="pass its --codebook")
    present = sorted({c for codes in labels for c in codes}, key=list(oof.columns).index)
    if len(present) < 2:
        raise UsageError(f"every audited item has the same code ({present[0] if present else 'none'})",
                         hint="an audit compares codes: code items with at least two different codes")
    probs = np.clip(oof.loc[list(item_ids), present].to_numpy(dtype=np.float64), 1e-9, 1.0)
    index = {c: k for k, c in enumerate(present)}
    given = [[index[c] for c in codes] for codes in labels]
    multi = any(len(codes) != 1 for codes in labels)
    if not multi:  # one code each: a distribution over the codes given at all (cleanlab's contiguous classes)
        probs = probs / probs.sum(axis=1, keepdims=True)
    flagged, quality = _cleanlab(given, probs, multi)
    rows = []
    for rank, i in enumerate(flagged, start=1):
        others = [k for k in np.argsort(-probs[i], kind="stable") if k not in given[i]]
        best = others[0] if others else int(np.argmax(probs[i]))
        rows.append((rank, item_ids[i], "|".join(labels[i]), float(min(probs[i][given[i]])), present[best],
                     float(probs[i][best]), float(1.0 - quality[i])))
    return pd.DataFrame(rows, columns=ISSUE_COLUMNS)


def _pairs(counts: dict[tuple[str, str], int], seen: dict[str, set], source: str) -> pd.DataFrame:
    """Pair counts as a table, most frequent first; ``share`` = n_items / items where either code was given."""
    import pandas as pd

    rows = [(source, a, b, n, n / max(1, len(seen.get(a, set()) | seen.get(b, set()))))
            for (a, b), n in counts.items()]
    frame = pd.DataFrame(rows, columns=PAIR_COLUMNS).astype({"n_items": "int64", "share": "float64"})
    return frame.sort_values(["n_items", "code_a", "code_b"], ascending=[False, True, True],
                             kind="stable").reset_index(drop=True)


def _add(counts: dict[tuple[str, str], int], pairs: set[tuple[str, str]]) -> None:
    for pair in pairs:
        counts[pair] = counts.get(pair, 0) + 1


def coder_confusion(coders: pd.DataFrame) -> pd.DataFrame:
    """Pairs of codes that coders of the same item disagree on (``coders``: item_id, coder, code), from the items
    two or more coders coded (:data:`PAIR_COLUMNS`, ``source`` "coders")."""
    counts: dict[tuple[str, str], int] = {}
    seen: dict[str, set] = {}
    for item_id, item in coders.groupby("item_id", sort=True):
        by_coder = item.groupby("coder", sort=True)["code"].agg(set)
        if len(by_coder) < 2:
            continue
        for code in set(item["code"]):
            seen.setdefault(code, set()).add(item_id)
        pairs: set[tuple[str, str]] = set()
        for a, b in combinations(by_coder.tolist(), 2):
            pairs.update(tuple(sorted((x, y))) for x in a - b for y in b - a)
        _add(counts, pairs)
    return _pairs(counts, seen, "coders")


def model_confusion(item_ids: Sequence, labels: Sequence[Sequence[str]], oof: pd.DataFrame) -> pd.DataFrame:
    """Pairs (given code, predicted code) where out-of-fold predictions differ from the given codes
    (:data:`PAIR_COLUMNS`, ``source`` "model")."""
    codes = list(oof.columns)
    probs = oof.loc[list(item_ids)].to_numpy(dtype=np.float64)
    counts: dict[tuple[str, str], int] = {}
    seen: dict[str, set] = {}
    for n, (row, given) in enumerate(zip(probs, labels)):
        top = {codes[k] for k in np.argsort(-row, kind="stable")[:len(given)]}
        for code in set(given) | top:
            seen.setdefault(code, set()).add(n)
        _add(counts, {tuple(sorted((x, y))) for x in set(given) - top for y in top - set(given)})
    return _pairs(counts, seen, "model")


@dataclass(frozen=True)
class Audit:
    """What :func:`audit_codes` found: ``issues`` (``codebook`` then :data:`ISSUE_COLUMNS`), ``pairs``
    (``codebook`` then :data:`PAIR_COLUMNS`, coders' pairs first), how many items were audited and how many of
    them two or more coders coded."""

    issues: pd.DataFrame
    pairs: pd.DataFrame
    items: int
    multi_coded: int


def audit_codes(corpus: Corpus, train: Path, codebooks: Sequence[Codebook] = (), *, level: str = "category",
                embedder: str = "minilm", seed: int = 0, folds: int = 5, store: Store | None = None) -> Audit:
    """Audit the coded table ``train`` of items in ``corpus``, codebook by codebook: label issues from
    ``folds``-fold out-of-fold probabilities of the code classifier, and the confused pairs of codes from the
    coders and from the model. ``codebooks`` default to the shipped codebooks that hold the table's codes.

    Example: ``audit_codes(from_table(Path("items.csv"), id_col="id", text_col="text"), Path("coded.csv"))``
    """
    import pandas as pd

    codebooks = list(codebooks) or shipped_codebooks_for(train)
    training = read_training(train, corpus, codebooks, level)
    audited = len({i for given in training.given.values() for i in given})
    if audited < 2 * folds:
        raise UsageError(f"{train} codes {audited} items at the {level} level; an audit by {folds}-fold "
                         f"cross-validation needs at least {2 * folds}", hint="code more items first")
    oof = out_of_fold_proba(CodeClassifier(codebooks, level=level, embedder=embedder, seed=seed), corpus,
                            training.table, folds=folds, store=store)
    issues, pairs = [], []
    for book in codebooks:
        given = training.given[book.id]
        columns = level_codes(book, level)
        mine = training.coders[training.coders["codebook"] == book.id]
        pairs.append(coder_confusion(mine).assign(codebook=book.id))
        if len({c for codes in given.values() for c in codes}) < 2:
            continue  # nothing to compare in this codebook
        ids, labels = list(given), list(given.values())
        issues.append(label_issues(ids, labels, oof[columns]).assign(codebook=book.id))
        pairs.append(model_confusion(ids, labels, oof[columns]).assign(codebook=book.id))
    if not issues:
        raise UsageError(f"every item of {train} has the same code at the {level} level",
                         hint="an audit compares codes: code items with at least two different codes")
    multi = int((training.coders.groupby("item_id")["coder"].nunique() >= 2).sum()) if len(training.coders) else 0
    return Audit(pd.concat(issues, ignore_index=True)[["codebook", *ISSUE_COLUMNS]],
                 pd.concat(pairs, ignore_index=True)[["codebook", *PAIR_COLUMNS]], audited, multi)


def write_audit(audit: Audit, out: Path, pairs_out: Path) -> None:
    """The issues to ``out`` and the pairs to ``pairs_out``, as CSV (UTF-8)."""
    for frame, path in ((audit.issues, out), (audit.pairs, pairs_out)):
        try:
            frame.to_csv(path, index=False, float_format="%.6f")
        except OSError as exc:
            raise ForumkitError(f"cannot write {path}: {exc.strerror or exc}",
                                hint="check that its folder exists") from exc
