"""Which uncoded items to code next: the ones a classifier is least sure of, spread over the embedding space.

Two steps, both deterministic given the seed:

1. **Uncertainty** of each item from its predicted code probabilities (a row is renormalised to sum to 1, so
   one-vs-rest probabilities read as "which code is it"; with several codebooks, each codebook's columns are one
   such row and the item's uncertainty is the mean over the codebooks):

   - ``margin`` (the default): ``1 - (p1 - p2)``, one minus the gap between the two most likely codes. An item
     the model hesitates between two codes on scores near 1; one it is sure of scores near 0.
   - ``entropy``: Shannon entropy of the row divided by ``log K`` (1 = all codes equally likely).

2. **Spread** (Zhdanov 2019, "Diverse mini-batch active learning", with k-means++ seeding as in BADGE): keep the
   ``pool_factor * size`` most uncertain items (ties by position, i.e. by item id), start with the most uncertain
   one, then pick each next item at random with probability proportional to its uncertainty times its squared
   cosine distance to the nearest item already picked (``numpy.random.Generator(PCG64(seed))``). An exact
   duplicate of a picked item has distance 0 and is never picked while any other candidate is left, and near
   duplicates are unlikely, so a batch does not spend its coders on one cluster of look-alike posts.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from forumkit.errors import UsageError

__all__ = ["MEASURES", "select_diverse", "uncertainty"]

#: The uncertainty measures :func:`uncertainty` knows.
MEASURES = ("margin", "entropy")


def uncertainty(probs: np.ndarray, measure: str = "margin", groups: Sequence[Sequence[int]] | None = None
                ) -> np.ndarray:
    """Uncertainty in [0, 1] of each row of an items x codes probability matrix (higher: less sure).

    ``groups`` are the column indices of each codebook (default: all columns are one codebook).
    """
    if measure not in MEASURES:
        raise UsageError(f"unknown uncertainty measure '{measure}'", hint=f"use one of: {', '.join(MEASURES)}")
    probs = np.asarray(probs, dtype=np.float64)
    if groups is not None and len(groups) > 1:
        return np.mean([_one(probs[:, list(g)], measure) for g in groups], axis=0)
    return _one(probs, measure)


def _one(probs: np.ndarray, measure: str) -> np.ndarray:
    """:func:`uncertainty` over one codebook's columns."""
    p = np.clip(probs, 0.0, None)
    if p.ndim != 2 or p.shape[1] == 0:
        raise UsageError("the probability matrix has no codes", hint="give the classifier a codebook with codes")
    totals = p.sum(axis=1, keepdims=True)
    p = np.where(totals > 0, p / np.where(totals > 0, totals, 1.0), 1.0 / p.shape[1])  # no information: uniform
    if p.shape[1] == 1:
        return np.zeros(len(p))
    if measure == "margin":
        top2 = -np.sort(-p, axis=1)[:, :2]
        return 1.0 - (top2[:, 0] - top2[:, 1])
    logs = np.log(p, out=np.zeros_like(p), where=p > 0)
    return -(p * logs).sum(axis=1) / np.log(p.shape[1])


def select_diverse(scores: np.ndarray, embeddings: np.ndarray, size: int, *, seed: int = 42,
                   pool_factor: float = 5.0) -> np.ndarray:
    """Row indices of ``size`` items, in pick order: uncertain (high ``scores``) and spread over ``embeddings``.

    ``embeddings`` are unit-length rows (a dot product is a cosine). See the module's docstring for the method.
    """
    scores = np.asarray(scores, dtype=np.float64)
    n = len(scores)
    if size < 1:
        raise UsageError(f"sample size {size} is not positive", hint="use --size 1 or more")
    if size > n:
        raise UsageError(f"cannot choose {size} items from {n}", hint=f"ask for --size {n} or less")
    if len(embeddings) != n:
        raise ValueError(f"{len(embeddings)} embeddings for {n} scores")
    if pool_factor < 1:
        raise UsageError(f"pool factor {pool_factor} is below 1", hint="use 1 (most uncertain only) or more")
    order = np.lexsort((np.arange(n), -scores))  # most uncertain first; ties by position
    pool = order[:min(n, max(size, int(np.ceil(pool_factor * size))))]
    vectors = np.asarray(embeddings, dtype=np.float64)[pool]
    weight = np.clip(scores[pool], 0.0, None) + 1e-12  # a sure item (score 0) may still fill a batch
    rng = np.random.Generator(np.random.PCG64(int(seed)))
    picked = [0]  # the pool's most uncertain item
    nearest = np.clip(1.0 - vectors @ vectors[0], 0.0, 2.0)  # cosine distance to the nearest picked item
    nearest[0] = 0.0
    for _ in range(size - 1):
        mass = weight * nearest ** 2
        mass[picked] = 0.0
        total = mass.sum()
        if total <= 0:  # everything left duplicates a picked item: take the most uncertain of them
            left = np.setdiff1d(np.arange(len(pool)), picked, assume_unique=True)
            choice = int(left[0])
        else:
            choice = int(rng.choice(len(pool), p=mass / total))
        picked.append(choice)
        nearest = np.minimum(nearest, np.clip(1.0 - vectors @ vectors[choice], 0.0, 2.0))
        nearest[picked] = 0.0
    return pool[np.array(picked)]
