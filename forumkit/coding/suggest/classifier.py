"""The code classifier: zero-shot from the codebook, trained on coded items, calibrated, with conformal sets.

The stable API that ``suggest codes``, active learning and the audit build on::

    from forumkit.coding.suggest.classifier import CodeClassifier, out_of_fold_proba
    clf = CodeClassifier(["hf-challenges"], level="category", embedder="minilm", coverage=0.9, seed=0)
    clf.fit(corpus, coded=coded_table, store=store)        # coded=None: zero-shot
    proba = clf.predict_proba(corpus, store=store)         # DataFrame: index item ids, columns code ids
    sets = clf.predict_sets(corpus, store=store)           # DataFrame of booleans, same shape
    oof = out_of_fold_proba(clf, corpus, coded_table, folds=5, store=store)   # coded items only

``codebooks`` are :class:`~forumkit.coding.codebook.Codebook` objects, shipped names or paths; ``corpus`` is a
:class:`~forumkit.coding.suggest.corpus.Corpus`; ``coded`` is a DataFrame with item_id, code_id and optionally
coder or consensus (:mod:`.training`: several coders -> their majority), item ids matched as text.
``predict_proba`` has one column per code of ``level`` of every codebook (codebook after codebook, file order);
each codebook's columns of a row add up to 1. Values are [0, 1] zero-shot scores (:mod:`.zeroshot`) before
training, calibrated probabilities after.

Trained model, per codebook (chosen by measurement, /work/helpers/FINDINGS10.md): multinomial logistic
regression (lbfgs, C=10) on the embeddings, one training row per (item, code), so an item coded with two codes
teaches both. Multiclass rather than one-vs-rest because the coding rule picks the most specific code, most
items get one code per codebook, and one softmax calibrates with a single temperature where one-vs-rest needs a
Platt fit per code with a handful of positives; several codes still come out as a prediction set. The coded items
are split, stratified by code and seeded, 75 % to fit and 25 % to calibrate. The zero-shot prior is the back-off:
a code with n coded items (in the fit part) takes ``w = min(1, n / backoff)`` of the classifier's probability and
``1 - w`` of the prior's, rows renormalised, so a code nobody coded yet is still suggested from the codebook.
Then one temperature (:mod:`.conformal`) on the calibration part, and the split conformal threshold on the same
part for the sets (the temperature is one scalar that keeps all rankings; the coverage that
:func:`out_of_fold` measures on held-out folds shows what this costs). A codebook with no coded items stays
zero-shot, and its sets are the smallest top codes whose scores reach ``coverage`` (no guarantee without data).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

from forumkit.coding.codebook import Codebook, load_codebook
from forumkit.errors import UsageError
from .conformal import (apply_temperature, conformal_threshold, coverage, expected_calibration_error,
                        fit_temperature, mass_sets, prediction_sets)
from .embed import Embedder, embed, get_embedder
from .levels import check_level, level_codes
from .training import Labels, check_coded, coded_codes, labels_for
from .zeroshot import ZeroShotScorer

if TYPE_CHECKING:
    from forumkit.store import Store

    from .corpus import Corpus

__all__ = ["CodeClassifier", "OutOfFold", "out_of_fold", "out_of_fold_proba"]

#: What a fitted classifier shares with the per-fold copies: nothing here depends on the coded items.
_SHARED = ("codebooks_", "embedder_", "columns_", "zeroshot_")


def _codebook(ref: Codebook | str | Path) -> Codebook:
    return ref if isinstance(ref, Codebook) else load_codebook(ref)


def _strata_order(codes: Sequence[Sequence[int]], seed: int) -> np.ndarray:
    """Positions sorted by (first code, a seeded random key): every k-th position samples each code evenly."""
    key = np.random.default_rng(seed).random(len(codes))
    return np.lexsort((key, [c[0] for c in codes]))


@dataclass
class _Trained:
    """One codebook's trained state."""

    columns: np.ndarray       # code columns the classifier saw (sorted)
    model: object | None      # LogisticRegression, or None when only one code was coded
    weight: np.ndarray        # back-off weight per code column
    temperature: float
    threshold: float
    X: np.ndarray             # coded items' embeddings (for the nearest-coded evidence)
    ids: list[str]            # their item ids (text)
    codes: list[list[int]]    # their code columns


class CodeClassifier:
    """Suggests codes of one level of one or more codebooks; zero-shot until fitted with coded items."""

    def __init__(self, codebooks: Sequence[Codebook | str | Path], level: str = "category",
                 embedder: str | Embedder = "minilm", coverage: float = 0.9, seed: int = 0,
                 method: str = "hybrid", backoff: int = 5, C: float = 10.0, calibration: float = 0.25) -> None:
        self.codebooks = codebooks
        self.level = level
        self.embedder = embedder
        self.coverage = coverage
        self.seed = seed
        self.method = method
        self.backoff = backoff
        self.C = C
        self.calibration = calibration

    def get_params(self) -> dict:
        """The constructor's parameters (scikit-learn style), to make an unfitted copy."""
        return {k: getattr(self, k) for k in ("codebooks", "level", "embedder", "coverage", "seed", "method",
                                              "backoff", "C", "calibration")}

    # -- fitting ---------------------------------------------------------------------------------------------
    def _prepare(self, store: Store | None) -> None:
        check_level(self.level)
        if not 0 < self.coverage < 1:
            raise UsageError(f"coverage must lie between 0 and 1, not {self.coverage}", hint="e.g. --coverage 0.9")
        if not self.codebooks:
            raise UsageError("no codebook given", hint="pass --codebook NAME_OR_FILE")
        self.codebooks_ = [_codebook(c) for c in self.codebooks]
        ids = [cb.id for cb in self.codebooks_]
        if len(set(ids)) != len(ids):
            raise UsageError(f"a codebook is given twice ({', '.join(ids)})", hint="give each codebook once")
        self.embedder_ = self.embedder if isinstance(self.embedder, Embedder) else get_embedder(self.embedder)
        self.columns_ = {cb.id: level_codes(cb, self.level) for cb in self.codebooks_}
        self.zeroshot_ = {cb.id: ZeroShotScorer(cb, self.level, self.method).fit(lambda t: self._embed(t, store))
                          for cb in self.codebooks_}
        self.trained_: dict[str, _Trained] = {}
        self.labels_: dict[str, Labels] = {}

    def _embed(self, texts: Sequence[str], store: Store | None) -> np.ndarray:
        return embed(list(texts), self.embedder_, store)

    def fit(self, corpus: Corpus, coded: pd.DataFrame | None = None, store: Store | None = None) -> "CodeClassifier":
        """Embed the codebooks; with ``coded``, train on the corpus's coded items (their texts come from it)."""
        self._prepare(store)
        if coded is None:
            return self
        codes = coded_codes(check_coded(coded))
        labels = labels_for(self.codebooks_, self.level, self.columns_, corpus.item_ids, codes)
        rows = sorted({int(r) for lab in labels.values() for r in lab.rows})
        X = np.zeros((len(corpus), 0), dtype=np.float32)
        if rows:
            vectors = self._embed([corpus.texts[r] for r in rows], store)
            X = np.zeros((len(corpus), vectors.shape[1]), dtype=np.float32)
            X[rows] = vectors
        self._fit_arrays(X, list(corpus.texts), [str(i) for i in corpus.item_ids], labels)
        return self

    def _fit_arrays(self, X: np.ndarray, texts: list[str], ids: list[str], labels: dict[str, Labels]) -> None:
        self.labels_ = labels
        self.trained_ = {}
        for cb in self.codebooks_:
            lab = labels[cb.id]
            if len(lab.rows):
                self.trained_[cb.id] = self._fit_one(cb, X[lab.rows], [texts[r] for r in lab.rows],
                                                     [ids[r] for r in lab.rows], lab.codes)

    def _fit_one(self, cb: Codebook, X: np.ndarray, texts: list[str], ids: list[str],
                 codes: list[list[int]]) -> _Trained:
        order = _strata_order(codes, self.seed)
        every = max(2, round(1 / self.calibration)) if self.calibration > 0 else 0
        cal = np.zeros(len(codes), dtype=bool)
        if every and len(codes) >= 2 * every:
            cal[order[every - 1::every]] = True
        fit = ~cal if cal.any() else np.ones(len(codes), dtype=bool)
        n_codes = len(self.columns_[cb.id])
        fit_rows = [i for i in np.flatnonzero(fit) for _ in codes[i]]
        fit_codes = np.array([c for i in np.flatnonzero(fit) for c in codes[i]], dtype=int)
        columns = np.unique(fit_codes)
        model = None
        if len(columns) > 1:
            import warnings

            from sklearn.linear_model import LogisticRegression

            model = LogisticRegression(C=self.C, max_iter=1000, random_state=self.seed)
            with warnings.catch_warnings():  # "more classes than half the samples": expected with few coded items
                warnings.simplefilter("ignore", UserWarning)
                model.fit(X[fit_rows], fit_codes)
        counts = np.bincount(fit_codes, minlength=n_codes)
        weight = np.minimum(1.0, counts / max(self.backoff, 1))
        trained = _Trained(columns, model, weight, 1.0, 1.0, X, ids, codes)
        if cal.any():
            cal_rows = np.flatnonzero(cal)
            raw = self._mix(cb, trained, X[cal_rows], [texts[i] for i in cal_rows])
            cal_codes = [codes[i] for i in cal_rows]
            trained.temperature = fit_temperature(raw, cal_codes)
            trained.threshold = conformal_threshold(apply_temperature(raw, trained.temperature), cal_codes,
                                                    self.coverage)
        return trained

    def _mix(self, cb: Codebook, trained: _Trained, X: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """The classifier's probabilities with the zero-shot prior as back-off, rows renormalised."""
        prior = self.zeroshot_[cb.id].score(X, texts)
        learned = np.zeros_like(prior)
        if trained.model is not None:
            learned[:, trained.columns] = trained.model.predict_proba(X)
        else:
            learned[:, trained.columns] = 1.0
        mixed = trained.weight * learned + (1 - trained.weight) * prior
        return mixed / mixed.sum(axis=1, keepdims=True)

    # -- predicting ------------------------------------------------------------------------------------------
    def _proba_arrays(self, X: np.ndarray, texts: Sequence[str]) -> dict[str, np.ndarray]:
        out = {}
        for cb in self.codebooks_:
            trained = self.trained_.get(cb.id)
            if trained is None:
                out[cb.id] = self.zeroshot_[cb.id].score(X, texts)
            else:
                out[cb.id] = apply_temperature(self._mix(cb, trained, X, texts), trained.temperature)
        return out

    def _sets_arrays(self, proba: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {cb_id: (prediction_sets(p, self.trained_[cb_id].threshold) if cb_id in self.trained_
                        else mass_sets(p, self.coverage)) for cb_id, p in proba.items()}

    def _frame(self, corpus: Corpus, parts: dict[str, np.ndarray]) -> pd.DataFrame:
        columns = [c for cb in self.codebooks_ for c in self.columns_[cb.id]]
        data = np.hstack([parts[cb.id] for cb in self.codebooks_])
        return pd.DataFrame(data, index=pd.Index(list(corpus.item_ids), name="item_id"), columns=columns)

    def embed_corpus(self, corpus: Corpus, store: Store | None = None) -> np.ndarray:
        """The corpus's embeddings (through the store's cache when a store is given)."""
        return self._embed(corpus.texts, store)

    def predict_proba(self, corpus: Corpus, store: Store | None = None) -> pd.DataFrame:
        """items x codes: calibrated probabilities once trained, [0, 1] zero-shot scores before."""
        return self._frame(corpus, self._proba_arrays(self.embed_corpus(corpus, store), corpus.texts))

    def predict_sets(self, corpus: Corpus, store: Store | None = None) -> pd.DataFrame:
        """items x codes booleans: the prediction set at ``coverage`` (never empty)."""
        proba = self._proba_arrays(self.embed_corpus(corpus, store), corpus.texts)
        return self._frame(corpus, self._sets_arrays(proba))

    @property
    def model_version(self) -> str:
        """Names the model exactly: method, embedder, codebooks and versions, level, and the training data."""
        books = "+".join(f"{cb.id}@{cb.version}" for cb in self.codebooks_)
        version = f"forumkit-suggest/{self.method}/{self.embedder_.name}/{books}/{self.level}"
        if self.trained_:
            digest = hashlib.sha256(repr(sorted((cb, lab.rows.tolist(), lab.codes) for cb, lab in self.labels_.items())
                                         ).encode() + f"|{self.seed}|{self.C}|{self.backoff}".encode())
            version += f"/lr-{digest.hexdigest()[:10]}"
        return version


@dataclass(frozen=True)
class OutOfFold:
    """Out-of-fold results for the coded items: each item scored by a model that never saw it.

    ``proba`` and ``in_set``: coded items x codes (as :meth:`CodeClassifier.predict_proba`); ``codes``: item id ->
    its true code columns per codebook id; ``ece`` and ``coverage`` per codebook id; ``fold`` per item.
    """

    proba: pd.DataFrame
    in_set: pd.DataFrame
    codes: dict[str, dict[str, list[int]]]
    ece: dict[str, float]
    coverage: dict[str, float]
    fold: pd.Series


def out_of_fold(estimator: CodeClassifier, corpus: Corpus, coded: pd.DataFrame, *, folds: int = 5,
                store: Store | None = None) -> OutOfFold:
    """k-fold cross-validated probabilities and sets of the coded items (folds stratified, seeded by ``seed``).

    Each fold refits the whole pipeline (split, classifier, back-off, temperature, conformal threshold) on the
    other folds, so ``ece`` and ``coverage`` are honest estimates of what the fitted model gives on new items.
    """
    if folds < 2:
        raise UsageError(f"folds must be at least 2, not {folds}", hint="e.g. 5")
    base = CodeClassifier(**estimator.get_params())
    if hasattr(estimator, "zeroshot_"):  # fitted already: its codebooks, embedder and zero-shot scorers serve
        base.__dict__.update({a: getattr(estimator, a) for a in _SHARED})
    else:
        base._prepare(store)
    codes = coded_codes(check_coded(coded))
    labels = labels_for(base.codebooks_, base.level, base.columns_, corpus.item_ids, codes)
    rows = sorted({int(r) for lab in labels.values() for r in lab.rows})
    if len(rows) < folds:
        raise UsageError(f"{len(rows)} coded item(s) cannot be split into {folds} folds",
                         hint="code more items or use fewer folds")
    sub = corpus.subset([corpus.item_ids[r] for r in rows])
    X = base._embed(sub.texts, store)
    position = {r: k for k, r in enumerate(rows)}
    local = {cb: Labels(np.array([position[int(r)] for r in lab.rows], dtype=int), lab.codes, lab.dropped)
             for cb, lab in labels.items()}
    primary: list[list[int]] = [[0]] * len(rows)
    for lab in reversed(list(local.values())):  # the first codebook's codes stratify
        for r, c in zip(lab.rows, lab.codes):
            primary[r] = c
    fold = np.empty(len(rows), dtype=int)
    fold[_strata_order(primary, base.seed)] = np.arange(len(rows)) % folds
    proba = {cb.id: np.zeros((len(rows), len(base.columns_[cb.id]))) for cb in base.codebooks_}
    in_set = {cb.id: np.zeros((len(rows), len(base.columns_[cb.id])), dtype=bool) for cb in base.codebooks_}
    ids = [str(i) for i in sub.item_ids]
    for k in range(folds):
        test = np.flatnonzero(fold == k)
        model = CodeClassifier(**estimator.get_params())
        model.__dict__.update({a: getattr(base, a) for a in _SHARED})
        train = {cb: Labels(lab.rows[fold[lab.rows] != k], [c for r, c in zip(lab.rows, lab.codes) if fold[r] != k],
                            0) for cb, lab in local.items()}
        model._fit_arrays(X, list(sub.texts), ids, train)
        got = model._proba_arrays(X[test], [sub.texts[t] for t in test])
        sets = model._sets_arrays(got)
        for cb_id in got:
            proba[cb_id][test] = got[cb_id]
            in_set[cb_id][test] = sets[cb_id]
    truth = {cb: {ids[r]: c for r, c in zip(lab.rows, lab.codes)} for cb, lab in local.items()}
    ece, cov = {}, {}
    for cb_id, lab in local.items():
        if len(lab.rows):
            ece[cb_id] = expected_calibration_error(proba[cb_id][lab.rows], lab.codes)
            cov[cb_id] = coverage(in_set[cb_id][lab.rows], lab.codes)
    return OutOfFold(base._frame(sub, proba), base._frame(sub, in_set), truth, ece, cov,
                     pd.Series(fold, index=pd.Index(list(sub.item_ids), name="item_id"), name="fold"))


def out_of_fold_proba(estimator: CodeClassifier, corpus: Corpus, coded: pd.DataFrame, *, folds: int = 5,
                      store: Store | None = None) -> pd.DataFrame:
    """Out-of-fold probabilities of the coded items (:func:`out_of_fold`'s ``proba``): index item ids, columns codes."""
    return out_of_fold(estimator, corpus, coded, folds=folds, store=store).proba
