"""The one place where active learning and the audit meet the code classifier: fit on coded items, give code
probabilities for other items, and out-of-fold probabilities for the coded items themselves.

Interim: logistic regression on the items' embeddings (one code per item: its first code at the level), the
setting measured in the issue-10 prototypes; to be replaced by the suggestion stage's classifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from .embed import embed, get_embedder
from .trainset import level_codes

if TYPE_CHECKING:
    import pandas as pd

    from forumkit.coding.codebook import Codebook
    from forumkit.store import Store
    from .corpus import Corpus
    from .trainset import TrainingSet

__all__ = ["Learner"]


@dataclass
class Learner:
    """Code probabilities at ``level`` of ``codebooks``, learnt from a :class:`~.trainset.TrainingSet`."""

    codebooks: Sequence[Codebook]
    level: str = "category"
    embedder: str = "minilm"
    seed: int = 42

    def vectors(self, corpus: Corpus, store: Store | None = None) -> np.ndarray:
        """The items' embeddings (unit rows), through the store's cache."""
        return embed(corpus.texts, get_embedder(self.embedder), store)

    def _fit_predict(self, x_fit: np.ndarray, y_fit: list[str], x: np.ndarray) -> np.ndarray:
        from sklearn.linear_model import LogisticRegression

        codes = level_codes(self.codebooks, self.level)
        out = np.zeros((len(x), len(codes)))
        present = sorted(set(y_fit))
        if len(present) == 1:
            out[:, codes.index(present[0])] = 1.0
            return out
        model = LogisticRegression(C=10.0, max_iter=2000).fit(x_fit, y_fit)
        out[:, [codes.index(c) for c in model.classes_]] = model.predict_proba(x)
        return out

    def _frame(self, probs: np.ndarray, item_ids: Sequence) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(probs, index=pd.Index(list(item_ids), name="item_id"),
                            columns=level_codes(self.codebooks, self.level))

    def predict_proba(self, corpus: Corpus, training: TrainingSet, targets: Corpus,
                      store: Store | None = None) -> pd.DataFrame:
        """Probabilities (targets x codes) from a model fit on the coded items of ``corpus``."""
        coded = corpus.subset(training.item_ids)
        first = [codes[0] for codes in training.label_lists()]
        return self._frame(self._fit_predict(self.vectors(coded, store), first, self.vectors(targets, store)),
                           targets.item_ids)

    def out_of_fold(self, corpus: Corpus, training: TrainingSet, store: Store | None = None,
                    folds: int = 5) -> pd.DataFrame:
        """Probabilities (coded items x codes), each item's from a model fit on the other folds (stratified by
        first code, seeded)."""
        from sklearn.model_selection import KFold, StratifiedKFold

        coded = corpus.subset(training.item_ids)
        x = self.vectors(coded, store)
        y = np.array([codes[0] for codes in training.label_lists()])
        smallest = min(np.unique(y, return_counts=True)[1])
        splitter = StratifiedKFold(min(folds, smallest), shuffle=True, random_state=self.seed) if smallest >= 2 \
            else KFold(min(folds, len(y)), shuffle=True, random_state=self.seed)
        out = np.zeros((len(y), len(level_codes(self.codebooks, self.level))))
        for fit, held in splitter.split(x, y):
            out[held] = self._fit_predict(x[fit], list(y[fit]), x[held])
        return self._frame(out, coded.item_ids)
