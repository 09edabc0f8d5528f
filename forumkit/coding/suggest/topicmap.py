"""Topics meet the codebook: what guides BERTopic toward the codes, and each topic's nearest codes.

Guidance (measured on the generated forum, benchmarks/RESULTS.md "Topics"):

- ``seed``: BERTopic's ``seed_topic_list``, one list per top-level category, of the words of its name and of
  its subcategories' names. It nudges documents that use those words toward one another and costs nothing.
- ``zeroshot``: ``zeroshot_topic_list`` of the categories' names: documents close enough to a name become
  that code's topic. This needs a semantic embedder (``minilm``): with the static model, names and posts are
  not comparable and most items were pulled into the wrong code's topic.

Mapping: a topic is described by its top words and its most typical items; each code by the elements of its
codebook entry ("Category: Subcategory", "name. definition", "name. include", each example). The
``similarity`` of a topic and a code is the cosine (all-MiniLM-L6-v2, whatever embedder clustered the items)
between the topic's words and the code's elements, half the best element and half their mean; codes are
ranked by ``score``, the mean of that similarity's z-score over the codes and the z-score of a TF-IDF match
between the topic's items and the code's words (lexical cues carry much of the signal in forum posts).
A topic whose best similarity stays below ``new_code_similarity`` matches no code: a candidate new code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from forumkit.coding.codebook import Codebook
    from forumkit.store import Store

    from .embed import Embedder

__all__ = ["CodeTexts", "GUIDES", "code_texts", "map_topics", "seed_words", "zeroshot_labels"]

#: How BERTopic is steered toward the codebook: seed words, zero-shot code names, both, or not at all.
GUIDES = ("seed", "zeroshot", "both", "none")
_WORD = re.compile(r"[a-z][a-z0-9]+")
_STOP = frozenset("and the for with of to in on or a an its their issues other".split())
#: Weight of the semantic z-score in the ranking score (the rest is lexical); fixed a priori, not tuned.
SEMANTIC_WEIGHT = 0.5


@dataclass(frozen=True)
class CodeTexts:
    """Every code of the codebooks, flattened: parallel tuples, and the texts that stand for each code."""

    codebooks: tuple[str, ...]
    code_ids: tuple[str, ...]
    categories: tuple[str, ...]
    elements: tuple[str, ...]  # all codes' elements, concatenated
    owners: tuple[int, ...]  # the index of the code each element belongs to
    words: tuple[str, ...]  # per code: everything its entry says, for the lexical match


def code_texts(codebooks: Sequence[Codebook]) -> CodeTexts:
    """The codes of ``codebooks`` in file order, each with its elements and words."""
    books, ids, cats, elements, owners, words = [], [], [], [], [], []
    for book in codebooks:
        for _, code in book.codes():
            path = book.path_of(code.id)
            index = len(ids)
            books.append(book.id)
            ids.append(code.id)
            cats.append(path[0].id)
            own = [": ".join(c.name for c in path), f"{code.name}. {code.definition}".strip()]
            if code.include:
                own.append(f"{code.name}. {code.include}")
            own += list(code.examples)
            elements += own
            owners += [index] * len(own)
            words.append(" ".join(own + [path[0].name, code.name]))  # the names count twice
    return CodeTexts(tuple(books), tuple(ids), tuple(cats), tuple(elements), tuple(owners), tuple(words))


def _tokens(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


def seed_words(codebooks: Sequence[Codebook], per_code: int = 10) -> list[list[str]]:
    """One seed list per top-level category: the words of its name, then of its subcategories' names."""
    out = []
    for book in codebooks:
        for top in book.categories:
            names = " ".join([top.name] + [c.name for c in top.walk() if c is not top])
            words = list(dict.fromkeys(_tokens(names)))[:per_code]
            if words:
                out.append(words)
    return out


def zeroshot_labels(codebooks: Sequence[Codebook]) -> list[str]:
    """The top-level categories' names, the labels a zero-shot topic takes."""
    return [top.name for book in codebooks for top in book.categories]


def _zscores(matrix: "np.ndarray") -> "np.ndarray":
    """Each row's values as z-scores across the columns (codes); a constant row becomes zeros."""
    import numpy as np

    spread = matrix.std(axis=1, keepdims=True)
    return (matrix - matrix.mean(axis=1, keepdims=True)) / np.where(spread == 0, 1, spread)


def _similarity(topics: "np.ndarray", elements: "np.ndarray", owners: "np.ndarray", n_codes: int) -> "np.ndarray":
    """Topic x code: half the best and half the mean cosine over the code's elements."""
    import numpy as np

    sims = topics @ elements.T
    out = np.zeros((len(topics), n_codes), dtype=np.float64)
    for code in range(n_codes):
        part = sims[:, owners == code]
        out[:, code] = 0.5 * part.max(axis=1) + 0.5 * part.mean(axis=1)
    return out


def map_topics(descriptions: Sequence[str], documents: Sequence[str], codes: CodeTexts, embedder: Embedder,
               store: Store | None = None, *, top: int = 3) -> "pd.DataFrame":
    """The ``top`` nearest codes of each topic, ranked.

    ``descriptions[k]`` is topic k's top words, ``documents[k]`` its typical items' texts joined. Returns
    columns topic (0..K-1, the position in ``descriptions``), rank, codebook, code_id, category_id,
    similarity, score; deterministic (ties broken by the codebook's order).
    """
    import numpy as np
    import pandas as pd
    from sklearn.feature_extraction.text import TfidfVectorizer

    from .embed import embed

    columns = ["topic", "rank", "codebook", "code_id", "category_id", "similarity", "score"]
    if not descriptions or not codes.code_ids:
        return pd.DataFrame(columns=columns)
    n_codes = len(codes.code_ids)
    vectors = embed(list(codes.elements) + list(descriptions), embedder, store)
    elements, topics = vectors[:len(codes.elements)], vectors[len(codes.elements):]
    similarity = _similarity(topics, elements, np.asarray(codes.owners), n_codes)
    vectorizer = TfidfVectorizer(tokenizer=_tokens, token_pattern=None, lowercase=False, sublinear_tf=True)
    vectorizer.fit(list(codes.words) + list(documents))
    lexical = (vectorizer.transform(documents) @ vectorizer.transform(codes.words).T).toarray()
    score = SEMANTIC_WEIGHT * _zscores(similarity) + (1 - SEMANTIC_WEIGHT) * _zscores(lexical)
    rows = []
    for k in range(len(descriptions)):
        order = sorted(range(n_codes), key=lambda j: (-round(float(score[k, j]), 9), j))[:top]
        rows += [(k, rank, codes.codebooks[j], codes.code_ids[j], codes.categories[j],
                  round(float(similarity[k, j]), 4), round(float(score[k, j]), 4))
                 for rank, j in enumerate(order, 1)]
    return pd.DataFrame(rows, columns=columns)
