"""Sample sizes: Cochran's formula with the finite population correction, and allocation over strata."""

from __future__ import annotations

import math
from dataclasses import dataclass

from forumkit.errors import UsageError

__all__ = ["ALLOCATIONS", "SizeComputation", "allocate", "cochran_size"]

ALLOCATIONS = ("proportional", "equal")


@dataclass(frozen=True)
class SizeComputation:
    """Cochran's sample size for a proportion, with the finite population correction."""

    population: int
    confidence: float
    margin: float
    p: float
    z: float
    n0: float  # size for an infinite population: z²·p(1−p)/e²
    n: int  # n0/(1+(n0−1)/N), rounded up

    def explain(self) -> str:
        """The formula with its numbers, e.g. for a paper's method section."""
        z, p, e = f"{self.z:.4g}", f"{self.p:g}", f"{self.margin:g}"
        return (f"n0 = z²·p(1−p)/e² = {z}²·{p}·{1 - self.p:g}/{e}² = {self.n0:.1f}; "
                f"n = n0/(1+(n0−1)/N) = {self.n0:.1f}/(1+{self.n0 - 1:.1f}/{self.population}) = "
                f"{self.n0 / (1 + (self.n0 - 1) / self.population):.1f} -> {self.n} "
                f"(confidence {self.confidence:.0%}, margin ±{self.margin:.1%}, N = {self.population})")


def cochran_size(population: int, confidence: float = 0.95, margin: float = 0.05, p: float = 0.5) -> SizeComputation:
    """Sample size to estimate a proportion ``p`` within ``±margin`` at ``confidence``, among ``population``."""
    from scipy.stats import norm  # scipy comes with statsmodels; imported here to keep `import forumkit` light

    if not 0 < confidence < 1:
        raise UsageError(f"confidence {confidence} is not between 0 and 1", hint="use e.g. --confidence 0.95")
    if not 0 < margin < 1:
        raise UsageError(f"margin {margin} is not between 0 and 1", hint="use e.g. --margin 0.05 for ±5%")
    if not 0 < p < 1:
        raise UsageError(f"proportion p {p} is not between 0 and 1", hint="use 0.5 when nothing is known")
    if population < 1:
        raise UsageError("the population is empty", hint="loosen the filters")
    z = float(norm.ppf(1 - (1 - confidence) / 2))
    n0 = z * z * p * (1 - p) / (margin * margin)
    n = n0 / (1 + (n0 - 1) / population)
    return SizeComputation(population, confidence, margin, p, z, n0, min(population, math.ceil(n - 1e-9)))


def allocate(population: dict[str, int], n: int, allocation: str = "proportional") -> dict[str, int]:
    """Split a sample size ``n`` over strata of the given populations; the sizes sum to ``n`` exactly.

    proportional: n·N_h/N by largest remainders (ties: larger stratum, then label), then every
    non-empty stratum gets at least 1 if n >= the number of strata, taken from the stratum most
    above its quota. equal: n/H each, capped by the stratum's population, what a small stratum
    cannot take shared by the others; the odd units go to the largest strata.
    """
    strata = sorted((h for h, size in population.items() if size > 0), key=str)
    total = sum(population[h] for h in strata)
    if n > total:
        raise UsageError(f"cannot draw {n} from a population of {total}", hint="ask for a smaller size")
    sizes = {h: 0 for h in population}
    if not strata or n == 0:
        return sizes
    if allocation == "proportional":
        quota = {h: n * population[h] for h in strata}  # quota of h is quota[h] / total, kept exact
        for h in strata:
            sizes[h] = quota[h] // total
        rest = n - sum(sizes.values())
        by_remainder = sorted(strata, key=lambda h: (-(quota[h] % total), -population[h], strata.index(h)))
        for h in by_remainder[:rest]:
            sizes[h] += 1
        if n >= len(strata):
            for h in sorted((h for h in strata if sizes[h] == 0), key=lambda h: (-quota[h], strata.index(h))):
                donor = max((d for d in strata if sizes[d] > 1),
                            key=lambda d: (sizes[d] * total - quota[d], population[d], -strata.index(d)))
                sizes[donor] -= 1
                sizes[h] = 1
    elif allocation == "equal":
        open_, left = list(strata), n
        while open_:
            share, odd = divmod(left, len(open_))
            small = [h for h in open_ if population[h] <= share]
            if not small:
                for h in open_:
                    sizes[h] = share
                for h in sorted(open_, key=lambda h: (-population[h], strata.index(h)))[:odd]:
                    sizes[h] += 1
                break
            for h in small:
                sizes[h] = population[h]
                left -= population[h]
                open_.remove(h)
    else:
        raise UsageError(f"unknown allocation '{allocation}'", hint=f"use one of: {', '.join(ALLOCATIONS)}")
    return sizes
