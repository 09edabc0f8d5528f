"""Confidence intervals of shares, one definition for every table that reports a share with an interval
(the aggregation's code frequencies, the Hub's documentation shares, the report)."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

__all__ = ["wilson_interval"]


def wilson_interval(count: np.ndarray, nobs: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of ``count / nobs`` at ``confidence``, element-wise; [0, 1] where nobs is 0.

    The formula of ``statsmodels.stats.proportion.proportion_confint(method="wilson")`` (clipped to [0, 1]);
    written out because importing statsmodels takes longer than counting a million rows.

    >>> low, high = wilson_interval(np.array([1.0]), np.array([4.0]), 0.95)
    >>> round(float(low[0]), 4), round(float(high[0]), 4)
    (0.0456, 0.6994)
    """
    count, nobs = np.asarray(count, dtype=float), np.asarray(nobs, dtype=float)
    low, high = np.zeros(len(count)), np.ones(len(count))
    ok = nobs > 0
    if ok.any():
        n = nobs[ok]
        share = np.minimum(count[ok], n) / n
        z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
        z2 = z * z
        denominator = 1 + z2 / n
        center = (share + z2 / (2 * n)) / denominator
        half = z * np.sqrt(share * (1 - share) / n + z2 / (4 * n * n)) / denominator
        low[ok], high[ok] = center - half, center + half
    return np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)
