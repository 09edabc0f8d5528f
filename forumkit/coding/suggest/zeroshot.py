"""Zero-shot code scores: how well an item matches everything a codebook says about each code.

Methods (chosen by measurement on the paper's excerpts, /work/helpers/FINDINGS10.md and benchmarks/RESULTS.md):

- ``hybrid`` (the default): the semantic score of a code is 1/2 max + 1/2 mean of the item's cosine to each of the
  code's *elements* (its "Category: Subcategory" name, "name. definition", "name. include note", each example,
  its keywords); a code with children scores the max over itself and everything below it. The lexical score is
  BM25 of the item against each code's words (:mod:`.lexical`). The two are mixed 0.5/0.5 on per-item z-scores
  across the sibling codes (the weight fixed a priori, never tuned on the test excerpts).
- ``semantic`` and ``lexical``: each half alone (benchmarks only).
- ``baseline``: the issue's baseline, cosine to one text per code, "name: children's names. definitions".

Scores become shares among siblings with a softmax of the mixed z-scores (temperature 1) and a code's score is
the product of the shares on its path (:func:`.levels.hierarchical`): a [0, 1] score whose values a level's
codes add up to 1 and that never ranks a subcategory above its category. The evidence of a suggestion is the
codebook element it matched best ("example 2 of CH.X.Y") and the item's words that BM25 weighed most.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from forumkit.coding.codebook import Code, Codebook
from forumkit.errors import UsageError
from .levels import check_level, hierarchical, level_codes, sibling_groups
from .lexical import BM25, code_words

__all__ = ["METHODS", "ZeroShotScorer", "softmax", "zscore"]

METHODS = ("hybrid", "semantic", "lexical", "baseline")


def zscore(scores: np.ndarray) -> np.ndarray:
    """Per-row z-scores (a row with no spread becomes zeros)."""
    centred = scores - scores.mean(axis=1, keepdims=True)
    spread = scores.std(axis=1, keepdims=True)
    return centred / np.where(spread > 1e-12, spread, 1.0)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature``."""
    shifted = logits / temperature
    shifted = shifted - shifted.max(axis=1, keepdims=True)
    weights = np.exp(shifted)
    return weights / weights.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Element:
    """One thing the codebook says about a code: ``label`` names it in evidence, ``text`` is embedded."""

    code_id: str
    label: str
    text: str


def _display(codebook: Codebook, code_id: str) -> str:
    return ": ".join(c.name for c in codebook.path_of(code_id))


def elements(codebook: Codebook, code: Code) -> list[Element]:
    """The elements of one code (its exclude note is left out: it describes other codes)."""
    name = _display(codebook, code.id)
    out = [Element(code.id, "name", name)]
    if code.definition:
        out.append(Element(code.id, "definition", f"{name}. {code.definition}"))
    if code.include:
        out.append(Element(code.id, "include note", f"{name}. {code.include}"))
    out += [Element(code.id, f"example {k}", text) for k, text in enumerate(code.examples, start=1)]
    if code.keywords:
        out.append(Element(code.id, "keywords", ", ".join(code.keywords)))
    return out


def baseline_text(code: Code) -> str:
    """The issue's baseline text of a code: "name: children's names. definitions"."""
    names = ", ".join(c.name for c in code.children)
    definitions = " ".join(d for d in [code.definition] + [c.definition for c in code.children] if d)
    return f"{code.name}: {names}. {definitions}" if names else f"{code.name}. {definitions}"


class ZeroShotScorer:
    """Scores items against one codebook's codes at one level, before anything is coded.

    ``fit(embed)`` embeds the codebook (``embed`` maps texts to unit rows, e.g. through the store's cache);
    ``score(X, texts)`` gives items x ``codes_`` scores in [0, 1]; ``evidence(X, texts, pairs)`` names what
    supports each (item index, code column) pair.

    Example::

        scorer = ZeroShotScorer(load_codebook("hf-benefits"), "category").fit(my_embed)
        scores = scorer.score(my_embed(texts), texts)
    """

    def __init__(self, codebook: Codebook, level: str = "category", method: str = "hybrid",
                 temperature: float = 1.0, weight: float = 0.5) -> None:
        self.codebook = codebook
        self.level = level
        self.method = method
        self.temperature = temperature
        self.weight = weight

    def fit(self, embed: Callable[[Sequence[str]], np.ndarray]) -> "ZeroShotScorer":
        """Embed the codebook's elements and learn each sibling group's BM25 weights."""
        check_level(self.level)
        if self.method not in METHODS:
            raise UsageError(f"unknown zero-shot method '{self.method}'", hint=f"use one of: {', '.join(METHODS)}")
        cb = self.codebook
        self.codes_ = level_codes(cb, self.level)
        self.elements_ = [e for _, code in cb.codes() for e in elements(cb, code)]
        own: dict[str, list[int]] = {}
        for k, element in enumerate(self.elements_):
            own.setdefault(element.code_id, []).append(k)
        self.own_elements_ = own
        self.element_vectors_ = embed([e.text for e in self.elements_])
        self.baseline_vectors_ = dict(zip(cb.code_ids(), embed([baseline_text(c) for _, c in cb.codes()])))
        self.groups_ = sibling_groups(cb, self.level)
        self._place = {c.id: (g, j) for g, (_, siblings) in enumerate(self.groups_) for j, c in enumerate(siblings)}
        self._present = None
        self.lexical_ = BM25().fit([[" ".join(code_words(c.name, c.definition, c.include, c.examples, c.keywords)
                                              for c in sibling.walk()) for sibling in siblings]
                                    for _, siblings in self.groups_])
        return self

    # -- scores --------------------------------------------------------------------------------------------
    def _code_semantic(self, cosine: np.ndarray) -> dict[str, np.ndarray]:
        """1/2 max + 1/2 mean of the cosines to each code's own elements."""
        return {code_id: 0.5 * cosine[:, idx].max(axis=1) + 0.5 * cosine[:, idx].mean(axis=1)
                for code_id, idx in self.own_elements_.items()}

    def raw(self, X: np.ndarray, texts: Sequence[str]) -> dict[str | None, np.ndarray]:
        """Per sibling group (by parent id): the mixed z-scores of the siblings (items x siblings)."""
        X = np.asarray(X, dtype=np.float32)
        semantic = self._code_semantic(X @ self.element_vectors_.T) if self.method != "baseline" else {}
        present = self.present(texts) if self.method in ("hybrid", "lexical") else None
        out: dict[str | None, np.ndarray] = {}
        for g, (parent, siblings) in enumerate(self.groups_):
            if self.method == "baseline":
                out[parent] = zscore(X @ np.stack([self.baseline_vectors_[c.id] for c in siblings]).T)
                continue
            sem = np.stack([np.max([semantic[c.id] for c in s.walk()], axis=0) for s in siblings], axis=1)
            if self.method == "semantic":
                out[parent] = zscore(sem)
                continue
            lex = self.lexical_.score(present, g)
            out[parent] = zscore(lex) if self.method == "lexical" else (
                self.weight * zscore(sem) + (1 - self.weight) * zscore(lex))
        return out

    def score(self, X: np.ndarray, texts: Sequence[str], temperature: float | None = None) -> np.ndarray:
        """items x ``codes_`` scores in [0, 1] (each item's scores add up to 1; children never above parents)."""
        raw = self.raw(X, texts)
        t = self.temperature if temperature is None else temperature
        by_parent = {tuple(c.id for c in siblings): parent for parent, siblings in self.groups_}
        return hierarchical(self.codebook, self.level,
                            lambda siblings: softmax(raw[by_parent[tuple(c.id for c in siblings)]], t))

    # -- evidence ------------------------------------------------------------------------------------------
    def present(self, texts: Sequence[str]):
        """The items' words that the codebook uses (:meth:`.lexical.BM25.present`), kept for the same texts."""
        if self._present is None or self._present[0] is not texts:
            self._present = (texts, self.lexical_.present(texts))
        return self._present[1]

    def evidence(self, X: np.ndarray, texts: Sequence[str], pairs: Sequence[tuple[int, int]],
                 top_words: int = 3, chunk: int = 4096) -> list[str]:
        """For each (item index, column of ``codes_``): the best-matching element and the item's telling words.

        Vectorised per code: the best element is the argmax of the item's cosines over the code's (and its
        descendants') elements; the words are the item's words with the largest BM25 weight for the code,
        ties broken by the vocabulary's order.
        """
        X = np.asarray(X, dtype=np.float32)
        present = self.present(texts)
        rows = np.fromiter((i for i, _ in pairs), dtype=np.int64, count=len(pairs))
        cols = np.fromiter((j for _, j in pairs), dtype=np.int64, count=len(pairs))
        labels = np.array([f"{e.label} of {e.code_id}" for e in self.elements_], dtype=object)
        out = np.empty(len(pairs), dtype=object)
        for j, code_id in enumerate(self.codes_):
            chosen = np.flatnonzero(cols == j)
            if not len(chosen):
                continue
            elems = np.array([k for c in self.codebook.find(code_id).walk() for k in self.own_elements_.get(c.id, [])])
            group, position = self._place[code_id]
            weight = self.lexical_.weights_[group][:, position]
            used = np.flatnonzero(weight > 0)
            vocabulary = self.lexical_.vocabulary_[used]
            for start in range(0, len(chosen), chunk):
                part = chosen[start:start + chunk]
                items = rows[part]
                best = labels[elems[np.argmax(X[items] @ self.element_vectors_[elems].T, axis=1)]]
                found = present[items][:, used].toarray() * weight[used]
                order = np.argsort(-found, axis=1, kind="stable")[:, :top_words]
                strong = np.take_along_axis(found, order, axis=1) > 0
                words = vocabulary[order].astype(object)
                named = np.where(strong[:, 0], words[:, 0], "").astype(object)
                for k in range(1, order.shape[1]):
                    named = named + np.where(strong[:, k], " " + words[:, k], "")
                out[part] = np.where(strong[:, 0], best + "; words: " + named, best)
        return out.tolist()
