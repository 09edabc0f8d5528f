"""Calibration and prediction sets: temperature scaling, split conformal sets (LAC), and how to check both.

- Temperature scaling (Guo et al. 2017): one scalar T fitted on a calibration split by minimising the negative
  log-likelihood of the true codes; ``p = softmax(log q / T)``. It keeps every ranking and only sharpens or
  flattens the probabilities.
- Split conformal prediction with the LAC score (Sadinle et al. 2019), a documented few-line implementation
  (cross-checked against crepes' ``ConformalClassifier`` in the tests): nonconformity ``s = 1 - p(true code)``
  on the calibration split, ``q`` = its ``ceil((n + 1) * coverage)``-th smallest value, and the set of an
  item is every code with ``1 - p <= q``. With exchangeable items the set holds the true code with probability
  at least ``coverage``. A very sure model can give an empty set; forumkit adds the top code
  to every set ("never empty"), which can only raise coverage.
- An item coded with several codes gives one calibration score per code (the coverage is then per item and
  code, which is what :func:`coverage` measures).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

__all__ = ["fit_temperature", "apply_temperature", "conformal_threshold", "prediction_sets", "mass_sets",
           "coverage", "expected_calibration_error"]

_FLOOR = 1e-12


def apply_temperature(proba: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log proba / temperature)`` row-wise."""
    logits = np.log(np.clip(proba, _FLOOR, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    return weights / weights.sum(axis=1, keepdims=True)


def _pairs(labels: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    rows = np.array([i for i, codes in enumerate(labels) for _ in codes], dtype=int)
    cols = np.array([c for codes in labels for c in codes], dtype=int)
    return rows, cols


def fit_temperature(proba: np.ndarray, labels: Sequence[Sequence[int]]) -> float:
    """The temperature in [0.05, 20] that minimises the negative log-likelihood of the true codes."""
    from scipy.optimize import minimize_scalar

    rows, cols = _pairs(labels)
    if not len(rows):
        return 1.0

    def nll(log_t: float) -> float:
        return float(-np.log(np.clip(apply_temperature(proba[rows], math.exp(log_t))[np.arange(len(rows)), cols],
                                     _FLOOR, 1.0)).mean())

    found = minimize_scalar(nll, bounds=(math.log(0.05), math.log(20.0)), method="bounded",
                            options={"xatol": 1e-4})
    return round(float(math.exp(found.x)), 6)


def conformal_threshold(proba: np.ndarray, labels: Sequence[Sequence[int]], coverage: float) -> float:
    """The LAC threshold ``q`` on ``1 - p``: 1.0 (every code) when the calibration split is too small."""
    rows, cols = _pairs(labels)
    n = len(rows)
    if n == 0:
        return 1.0
    k = math.ceil((n + 1) * coverage)
    if k > n:
        return 1.0
    return float(np.sort(1.0 - proba[rows, cols])[k - 1])


def prediction_sets(proba: np.ndarray, threshold: float) -> np.ndarray:
    """items x codes booleans: ``1 - p <= threshold``, plus each item's top code (never empty)."""
    sets = (1.0 - proba) <= threshold + 1e-12
    sets[np.arange(len(proba)), np.argmax(proba, axis=1)] = True
    return sets


def mass_sets(proba: np.ndarray, coverage: float) -> np.ndarray:
    """The smallest top codes whose scores add up to ``coverage`` (zero-shot: no calibration data, no guarantee)."""
    order = np.argsort(-proba, axis=1, kind="stable")
    ranked = np.take_along_axis(proba, order, axis=1)
    before = np.cumsum(ranked, axis=1) - ranked
    keep = before < coverage - 1e-12
    keep[:, 0] = True
    sets = np.zeros_like(keep)
    np.put_along_axis(sets, order, keep, axis=1)
    return sets


def coverage(sets: np.ndarray, labels: Sequence[Sequence[int]]) -> float:
    """The share of (item, true code) pairs whose code is in the item's set (NaN when there is none)."""
    rows, cols = _pairs(labels)
    return float(sets[rows, cols].mean()) if len(rows) else float("nan")


def expected_calibration_error(proba: np.ndarray, labels: Sequence[Sequence[int]], bins: int = 15) -> float:
    """Top-label ECE (equal-width bins): |confidence - accuracy| averaged over items, weighted by bin size.

    The top code counts as right when it is any of the item's codes.
    """
    if not len(proba):
        return float("nan")
    top = np.argmax(proba, axis=1)
    confidence = proba[np.arange(len(proba)), top]
    right = np.array([t in set(codes) for t, codes in zip(top, labels)], dtype=float)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.sum() * abs(confidence[mask].mean() - right[mask].mean())
    return float(total / len(proba))
