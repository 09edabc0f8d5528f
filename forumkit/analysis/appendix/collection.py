"""The crawl and the sampling design, as the store recorded them: the first two parts of the methods appendix.

Every number here is read from the store (``crawl_runs``, the live and removed rows, ``samples.design``), never
from a configuration file, so the text says what happened rather than what was intended.
"""

from __future__ import annotations

from dataclasses import dataclass

from forumkit.coding.sampling import load_sample
from forumkit.store import Store

__all__ = ["CrawlFacts", "CrawlRunFact", "SampleFacts", "StratumFact", "crawl_facts", "sample_facts"]


@dataclass(frozen=True)
class CrawlRunFact:
    """One crawl run: when, how many requests, and what it was limited to (``scope``, empty = everything)."""

    id: int
    started_at: str
    finished_at: str | None
    status: str
    requests: int
    options: dict
    scope: list[str]


@dataclass(frozen=True)
class CrawlFacts:
    """The forum, its crawl runs, what the store holds of it and what a coder could not see (and why).

    ``exclusions`` are :meth:`Store.crawl_exclusions`' counts; ``left_out`` the stored categories outside every
    run's category filter (empty when a run crawled the whole forum); ``date_filters`` the runs' date limits.
    """

    forum: str
    runs: list[CrawlRunFact]
    requests: int
    topics: int
    posts: int
    categories: int
    users: int
    first_post: str | None
    last_post: str | None
    exclusions: dict[str, int]
    left_out: list[str]
    date_filters: list[str]


def _scope(options: dict) -> list[str]:
    """The limits of one run's options, as phrases."""
    parts = []
    if options.get("categories"):
        parts.append("categories " + ", ".join(map(str, options["categories"])))
    if options.get("since"):
        parts.append(f"topics created on or after {str(options['since'])[:10]}")
    if options.get("until"):
        parts.append(f"topics created before {str(options['until'])[:10]}")
    if options.get("max_topics"):
        parts.append(f"at most {options['max_topics']} new topics")
    if options.get("full_refresh"):
        parts.append("full refresh")
    return parts


def _in_scope(wanted: list, categories: dict[int, tuple[str, str, int | None]]) -> set[int]:
    """Ids of the categories a run's --categories named (name, slug or id, any case) and their subcategories,
    as the crawler resolves them."""
    chosen = {cid for cid, (name, slug, _) in categories.items() for w in wanted
              if str(w).strip().casefold() in (str(cid), slug.casefold(), name.casefold())}
    grew = True
    while grew:
        children = {cid for cid, (_, _, parent) in categories.items() if parent in chosen and cid not in chosen}
        chosen |= children
        grew = bool(children)
    return chosen


def crawl_facts(store: Store, forum_id: int) -> CrawlFacts:
    """What the store says about the crawl of one forum."""
    url = dict(store.forums())[forum_id]
    runs = [CrawlRunFact(rid, started, finished, status, requests, options, _scope(options))
            for rid, started, finished, status, options, requests in store.crawl_run_rows(forum_id)]
    categories = store.category_names(forum_id)
    if runs and all(r.options.get("categories") for r in runs):
        covered = set().union(*(_in_scope(list(r.options["categories"]), categories) for r in runs))
        left_out = sorted(name for cid, (name, _, _) in categories.items() if cid not in covered)
    else:
        left_out = []
    date_filters = sorted({p for r in runs for p in r.scope if p.startswith("topics created")})
    counts = store.counts(forum_id)
    first, last, _ = store.post_span(forum_id)
    return CrawlFacts(url, runs, sum(r.requests for r in runs), counts["topics"], counts["posts"],
                      counts["categories"], counts["users"], first, last, store.crawl_exclusions(forum_id),
                      left_out, date_filters)


@dataclass(frozen=True)
class StratumFact:
    """A stratum's population, the items allocated to it and their weight (population / allocated)."""

    name: str
    population: int
    allocated: int
    weight: float | None


@dataclass(frozen=True)
class SampleFacts:
    """A saved sample's design as ``samples.design`` holds it, and how many items it has."""

    name: str
    created_at: str | None
    unit: str
    strategy: str
    method: str
    strata: str | None
    period: str
    allocation: str
    seed: int
    size: int
    fixed_size: bool
    confidence: float
    margin: float
    cochran: str | None  # the size computation with its numbers, None when the size was fixed
    cochran_n0: float | None
    cochran_n: int | None
    population: int
    filters: str
    exclude_pinned_and_about: bool
    strata_rows: list[StratumFact]
    active: dict | None
    design: dict  # the whole design as saved (filters included), for the sample command


def sample_facts(store: Store, name: str) -> SampleFacts:
    """The saved sample ``name`` (the one a project was pushed from) as :class:`SampleFacts`."""
    sample = load_sample(store, name)
    d = sample.design
    rows = [StratumFact(str(h), int(pop), int(sample.allocation.get(h, 0)),
                        pop / sample.allocation[h] if sample.allocation.get(h) else None)
            for h, pop in sorted(sample.population.items(), key=lambda kv: str(kv[0]))]
    size = sample.size
    return SampleFacts(
        name=d.name, created_at=sample.created_at, unit=d.unit, strategy=d.strategy, method=d.method or "simple",
        strata=d.strata, period=d.period, allocation=d.allocation, seed=int(d.seed), size=sample.n,
        fixed_size=size is None, confidence=d.confidence, margin=d.margin,
        cochran=size.explain() if size else None, cochran_n0=size.n0 if size else None,
        cochran_n=size.n if size else None,
        population=sample.population_size, filters=d.describe_filters(),
        exclude_pinned_and_about=d.exclude_pinned_and_about, strata_rows=rows, active=d.active, design=d.to_dict())
