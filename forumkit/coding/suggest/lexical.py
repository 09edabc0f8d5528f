"""BM25 between items and codes, over the codebook's own words: the lexical half of zero-shot suggestions.

Each code is a document made of what the codebook says about it and everything below it (names twice,
definition, include note, examples, keywords; never the exclude note, which names what the code is *not*).
The items are the queries: the set of their words that the codebook uses. BM25 (Robertson et al., k1 = 1.2,
b = 0.75) is a few numpy lines over scikit-learn's CountVectorizer (its tokenizer, with the codebook's vocabulary
fixed), so 100,000 items score in one sparse product. Measured in /work/helpers/FINDINGS10.md: on the paper's
excerpts BM25 alone is as good as any embedding for the benefits codebook, whose cues are words ("thanks",
"worked", "invite").
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["STOP_WORDS", "BM25", "code_words"]

#: Function words and forum boilerplate that say nothing about a code.
STOP_WORDS = frozenset("""a an the of to in on for and or with is are be it its this that from by as at not no into than
their there they them which what how when why who whose does do can could should would may might has have had was
were been being any all some such other one two more most less also only own about over after before so if but then
these those our we you your i my me he she his her poster post posts question questions code codes item""".split())
_TOKEN = r"(?u)\b[a-zA-Z][a-zA-Z0-9]+\b"


class BM25:
    """BM25 scores of items against groups of documents (the codes among which each choice is made).

    ``fit(groups)`` learns one vocabulary over every document and, per group, idf and term weights (idf within
    the group, so that a word all siblings share weighs nothing in choosing among them); ``present(texts)``
    tokenizes the items once; ``score(present, g)`` gives items x docs of group ``g``; ``weights_[g]`` (vocabulary x
    docs) says which words support which document (the evidence).
    """

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b

    def fit(self, groups: Sequence[Sequence[str]]) -> "BM25":
        """Learn the vocabulary, and each group's idf and term weights."""
        from sklearn.feature_extraction.text import CountVectorizer

        self.vectorizer_ = CountVectorizer(token_pattern=_TOKEN, stop_words=sorted(STOP_WORDS), lowercase=True,
                                           dtype=np.float64)
        self.vectorizer_.fit([doc for docs in groups for doc in docs])
        self.vocabulary_ = self.vectorizer_.get_feature_names_out()
        self.weights_ = []
        for docs in groups:
            counts = self.vectorizer_.transform(docs).toarray()  # docs x vocabulary, small
            length = counts.sum(axis=1, keepdims=True)
            df = (counts > 0).sum(axis=0)
            idf = np.log(1 + (len(docs) - df + 0.5) / (df + 0.5)) * (df > 0)
            norm = self.k1 * (1 - self.b + self.b * length / max(float(length.mean()), 1e-9))
            self.weights_.append((idf * counts * (self.k1 + 1) / (counts + norm)).T)  # vocabulary x docs
        return self

    def present(self, texts: Sequence[str]):
        """items x vocabulary (scipy sparse CSR): 1 where the item uses the word."""
        found = self.vectorizer_.transform(texts).tocsr()
        found.data[:] = 1.0
        return found

    def score(self, present, group: int) -> np.ndarray:
        """items x documents of ``group``: BM25 with each query word counted once."""
        return np.asarray(present @ self.weights_[group])


def code_words(name: str, definition: str, include: str, examples: Sequence[str], keywords: Sequence[str]) -> str:
    """One code's own words, as its BM25 document holds them (the name twice: names are the strongest cue)."""
    return " ".join([name, name, definition, include, *examples, *keywords])

