"""``suggest codes``: the ranked suggestions table, with sets and evidence, written the same way on every run.

One row per item and suggested code: ``item_id, code_id, codebook, score, rank, in_set, evidence,
model_version`` (:data:`COLUMNS`). For each item and codebook the rows are the ``top`` best codes and every
other code of the conformal prediction set; a zero-shot set (no coded items, so no calibration and no
guarantee: the top codes whose scores add up to the coverage) is cut to the ``top`` rows. ``score`` is
rounded to 6 decimals, rows sorted by item (corpus order), codebook (given order) and rank (ties broken by
file order), so that the same inputs and seed give a byte-identical file. ``evidence``: zero-shot, the
codebook element the item matched best and the item's words that BM25 weighed most ("example 2 of CH.X.Y;
words: gpu memory"); trained, the ids of the nearest coded items with that code ("nearest coded: 12 40 7"),
or the zero-shot evidence for a code nobody has coded yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

from forumkit.errors import UsageError
from .classifier import CodeClassifier, out_of_fold

if TYPE_CHECKING:
    from forumkit.store import Store

    from .corpus import Corpus

__all__ = ["COLUMNS", "Suggestions", "suggest_codes", "suggestion_rows", "write_suggestions"]

COLUMNS = ("item_id", "code_id", "codebook", "score", "rank", "in_set", "evidence", "model_version")
_NEAREST = 3
_CHUNK = 4096


@dataclass(frozen=True)
class Suggestions:
    """The table and what the summary says: sizes, mode, and (trained) cross-validated ECE and coverage."""

    table: pd.DataFrame
    items: int
    codes: int
    mode: str
    model_version: str
    coded: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    ece: dict[str, float] = field(default_factory=dict)
    coverage: dict[str, float] = field(default_factory=dict)
    set_size: dict[str, float] = field(default_factory=dict)


def _nearest(trained, X: np.ndarray, pairs: list[tuple[int, int]], item_ids: Sequence[str]) -> list[str | None]:
    """"nearest coded: ..." for each (row, code column) pair whose code has coded items, else None.

    Vectorised per code: cosine of the items to the code's coded items, the item itself left out, the
    ``_NEAREST`` largest (ties broken by the coded items' order).
    """
    members: dict[int, list[int]] = {}
    for k, codes in enumerate(trained.codes):
        for c in codes:
            members.setdefault(c, []).append(k)
    number = {item: k for k, item in enumerate(trained.ids)}
    own = np.array([number.get(i, -1) for i in item_ids])
    coded_ids = np.array(trained.ids, dtype=object)
    rows = np.fromiter((i for i, _ in pairs), dtype=np.int64, count=len(pairs))
    cols = np.fromiter((j for _, j in pairs), dtype=np.int64, count=len(pairs))
    out = np.full(len(pairs), None, dtype=object)
    for c, idx in members.items():
        idx = np.array(idx)
        chosen = np.flatnonzero(cols == c)
        for start in range(0, len(chosen), _CHUNK):
            part = chosen[start:start + _CHUNK]
            sims = X[rows[part]] @ trained.X[idx].T
            sims[own[rows[part]][:, None] == idx[None, :]] = -np.inf  # an item is not its own evidence
            order = np.argsort(-sims, axis=1, kind="stable")[:, :_NEAREST]
            real = np.isfinite(np.take_along_axis(sims, order, axis=1))
            for n, (near, keep) in zip(part, zip(order, real)):
                if keep.any():
                    out[n] = "nearest coded: " + " ".join(coded_ids[idx[near[keep]]])
    return out.tolist()


def suggestion_rows(clf: CodeClassifier, corpus: Corpus, store: Store | None = None, *, top: int = 3
                    ) -> tuple[pd.DataFrame, dict[str, float]]:
    """The suggestions table of a fitted classifier, and the average prediction-set size per codebook."""
    if top < 1:
        raise UsageError(f"--top must be at least 1, not {top}", hint="e.g. --top 3")
    X = clf.embed_corpus(corpus, store)
    proba = clf._proba_arrays(X, corpus.texts)
    sets = clf._sets_arrays(proba)
    ids = [str(i) for i in corpus.item_ids]
    version = clf.model_version
    parts, sizes = [], {}
    for b, cb in enumerate(clf.codebooks_):
        p, s = proba[cb.id], sets[cb.id]
        order = np.argsort(-p, axis=1, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(1, p.shape[1] + 1)[None, :].repeat(len(p), 0), axis=1)
        trained = clf.trained_.get(cb.id)
        if trained is None:  # zero-shot sets carry no guarantee: never more rows than --top
            s = s & (rank <= top)
        sizes[cb.id] = float(s.sum(axis=1).mean())
        rows, cols = np.nonzero((rank <= top) | s)
        pairs = list(zip(rows.tolist(), cols.tolist()))
        evidence = [None] * len(pairs)
        if trained is not None:
            evidence = _nearest(trained, X, pairs, ids)
        missing = [n for n, e in enumerate(evidence) if e is None]
        if missing:
            found = clf.zeroshot_[cb.id].evidence(X, corpus.texts, [pairs[n] for n in missing])
            for n, e in zip(missing, found):
                evidence[n] = e
        codes = np.array(clf.columns_[cb.id], dtype=object)
        parts.append(pd.DataFrame({
            "item_id": [corpus.item_ids[r] for r in rows], "code_id": codes[cols], "codebook": cb.id,
            "score": np.round(p[rows, cols], 6), "rank": rank[rows, cols], "in_set": s[rows, cols],
            "evidence": evidence, "model_version": version, "_row": rows, "_book": b}))
    table = pd.concat(parts, ignore_index=True).sort_values(["_row", "_book", "rank"], kind="stable")
    return table.drop(columns=["_row", "_book"]).reset_index(drop=True)[list(COLUMNS)], sizes


def suggest_codes(codebooks: Sequence, corpus: Corpus, *, store: Store | None = None, coded: pd.DataFrame | None = None,
                  train_corpus: Corpus | None = None, level: str = "category", top: int = 3, coverage: float = 0.9,
                  seed: int = 0, embedder: str = "minilm", folds: int = 5) -> Suggestions:
    """Suggest codes for ``corpus``: zero-shot, or trained on ``coded`` (texts from ``train_corpus``, default
    ``corpus``); trained, the ECE and coverage are measured by ``folds``-fold cross-validation on the coded items
    (skipped when a codebook has fewer than ``2 * folds`` of them)."""
    clf = CodeClassifier(codebooks, level=level, embedder=embedder, coverage=coverage, seed=seed)
    source = train_corpus if train_corpus is not None else corpus
    clf.fit(source, coded=coded, store=store)
    table, sizes = suggestion_rows(clf, corpus, store, top=top)
    ece: dict[str, float] = {}
    cover: dict[str, float] = {}
    if clf.trained_ and min(len(lab.rows) for lab in clf.labels_.values() if len(lab.rows)) >= 2 * folds:
        oof = out_of_fold(clf, source, coded, folds=folds, store=store)
        ece, cover = oof.ece, oof.coverage
    return Suggestions(table, len(corpus), sum(len(v) for v in clf.columns_.values()),
                       "trained" if clf.trained_ else "zero-shot", clf.model_version,
                       {cb: len(lab.rows) for cb, lab in clf.labels_.items()},
                       {cb: lab.dropped for cb, lab in clf.labels_.items()}, ece, cover, sizes)


def write_suggestions(table: pd.DataFrame, path: Path) -> Path:
    """Write the table as UTF-8 CSV (what ``studio push --suggestions`` reads): scores with 6 decimals, text
    quoted, ``\n`` line ends. pyarrow's writer: 300,000 rows in under a second, where pandas takes ~4 s."""
    import pyarrow as pa
    from pyarrow import csv

    path = Path(path)
    frame = table.assign(score=[f"{v:.6f}" for v in table["score"].tolist()])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        csv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), str(path),
                      csv.WriteOptions(quoting_style="needed"))
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}", hint="check the folder is writable") from exc
    return path
