"""What to sample and how (:class:`SampleDesign`), and what came of it (:class:`Sample`, :class:`SampleInfo`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

import numpy as np
import pandas as pd

from forumkit.dates import check_period, iso_date
from forumkit.errors import UsageError
from .size import ALLOCATIONS, SizeComputation

__all__ = ["ALL", "METHODS", "STRATA", "STRATEGIES", "UNCERTAIN", "UNITS", "Sample", "SampleDesign", "SampleInfo"]

UNITS = ("topic", "post")
METHODS = ("simple", "stratified")
STRATA = ("category", "period")
#: random: drawn at random (can estimate the population); uncertainty: chosen by a classifier for active learning.
STRATEGIES = ("random", "uncertainty")
ALL = "all"  # the one stratum of a simple random sample
UNCERTAIN = "uncertain"  # the one stratum of an uncertainty sample


def _choice(value: str | None, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise UsageError(f"unknown {what} '{value}'", hint=f"use one of: {', '.join(allowed)}")


@dataclass
class SampleDesign:
    """What to sample and how. Dates: ``since`` inclusive, ``until`` exclusive (created_at, UTC).

    ``size`` fixes the sample size; without it Cochran's formula gives it from ``confidence`` and
    ``margin`` (and, stratified, it is computed for the whole population and then allocated).
    ``method`` follows from ``strata`` when left out. ``strategy`` ``uncertainty`` (active learning, see
    :mod:`forumkit.coding.suggest.active`) chooses the items a classifier is least sure of instead of drawing
    at random: it needs ``size``, is not stratified, and ``active`` records how it chose (training file and
    its hash, codebooks, embedder, measure); its items carry weight 1, as it estimates nothing about the
    population. Strata by category use the top-level category
    (subcategories count with their parent); by period, the calendar month, quarter or year in UTC.
    ``categories`` (names, slugs or ids) include their subcategories. ``min_posts`` counts the
    topic's stored regular posts. ``forum`` is needed only when the store holds several forums.
    """

    name: str
    unit: str = "topic"
    size: int | None = None
    confidence: float = 0.95
    margin: float = 0.05
    method: str | None = None
    strata: str | None = None
    period: str = "quarter"
    allocation: str = "proportional"
    seed: int = 42
    since: str | None = None
    until: str | None = None
    categories: tuple[str, ...] = ()
    min_posts: int | None = None
    accepted_only: bool = False
    exclude_pinned_and_about: bool = True
    forum: str | None = None
    strategy: str = "random"
    active: dict | None = None

    def __post_init__(self) -> None:
        if not self.name or not str(self.name).strip():
            raise UsageError("a sample needs a name", hint="pass --name, e.g. --name round1")
        _choice(self.unit, UNITS, "unit")
        if self.method is None:
            self.method = "stratified" if self.strata else "simple"
        _choice(self.method, METHODS, "method")
        if self.method == "stratified":
            _choice(self.strata, STRATA, "strata")
        elif self.strata is not None:
            raise UsageError(f"a simple random sample has no strata (got strata '{self.strata}')",
                             hint="leave out the strata, or use the stratified method")
        check_period(self.period)
        _choice(self.allocation, ALLOCATIONS, "allocation")
        if self.size is not None and self.size < 1:
            raise UsageError(f"sample size {self.size} is not positive", hint="use --size 1 or more")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise UsageError(f"seed {self.seed!r} is not a non-negative integer", hint="use e.g. --seed 42")
        _choice(self.strategy, STRATEGIES, "strategy")
        if self.strategy == "uncertainty":
            if self.method != "simple":
                raise UsageError("an uncertainty sample is not stratified",
                                 hint="leave out --strata, or use --strategy random")
            if self.size is None:
                raise UsageError("an uncertainty sample needs its size", hint="pass --size N, e.g. --size 50")
        if self.min_posts is not None and self.min_posts < 1:
            raise UsageError(f"--min-posts {self.min_posts} is not positive", hint="use 1 or more")
        self.categories = tuple(str(c) for c in self.categories)
        self.since = iso_date(self.since, "--since")
        self.until = iso_date(self.until, "--until")
        if self.since and self.until and self.since >= self.until:
            raise UsageError(f"--since {self.since[:10]} is not before --until {self.until[:10]}",
                             hint="--since is inclusive, --until exclusive")

    def to_dict(self) -> dict:
        return {**asdict(self), "categories": list(self.categories)}

    @classmethod
    def from_dict(cls, data: dict) -> "SampleDesign":
        known = {f.name for f in fields(cls)}
        return cls(**{k: (tuple(v) if k == "categories" else v) for k, v in data.items() if k in known})

    def describe_filters(self) -> str:
        parts = [f"since {self.since[:10]}" if self.since else "", f"until {self.until[:10]}" if self.until else "",
                 f"categories {', '.join(self.categories)}" if self.categories else "",
                 f"at least {self.min_posts} posts" if self.min_posts else "",
                 "accepted answer" if self.accepted_only else ""]
        return "; ".join(p for p in parts if p) or "no filters"


@dataclass
class Sample:
    """A drawn sample. ``items``: item_id, stratum, weight, position (1 = drawn first), in draw order."""

    design: SampleDesign
    items: pd.DataFrame
    population: dict[str, int]  # stratum -> population size, every non-empty stratum
    allocation: dict[str, int]  # stratum -> sample size
    size: SizeComputation | None  # None when the design fixed the size
    forum: str  # base URL
    created_at: str | None = None  # when saved
    forum_id: int = field(default=0, repr=False)

    @property
    def n(self) -> int:
        return len(self.items)

    @property
    def population_size(self) -> int:
        return sum(self.population.values())

    def strata(self) -> pd.DataFrame:
        """One row per stratum: stratum, population, sample_size, weight (NaN where nothing was drawn)."""
        rows = [(h, size, self.allocation.get(h, 0)) for h, size in self.population.items()]
        frame = pd.DataFrame(rows, columns=["stratum", "population", "sample_size"])
        frame["weight"] = frame["population"] / frame["sample_size"].where(frame["sample_size"] > 0)
        return frame


@dataclass(frozen=True)
class SampleInfo:
    """A saved sample, as :func:`list_samples` lists it."""

    name: str
    forum: str
    unit: str
    items: int
    population: int
    method: str
    strata: str | None
    seed: int
    created_at: str
    strategy: str = "random"
