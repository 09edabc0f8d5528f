"""Drawing a sample from the store: the filtered population, its strata, and a seeded draw."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from forumkit.dates import period_labels, utc_moments
from forumkit.errors import StoreError, UsageError
from forumkit.store import Store
from .design import ALL, Sample, SampleDesign
from .size import allocate, cochran_size

__all__ = ["draw_sample", "forum_of", "sample_population"]

log = logging.getLogger(__name__)

SCRAPE_FIRST = "scrape a forum into it first: forumkit scrape URL --db PATH"


# -- population -----------------------------------------------------------------------------------------------------

def forum_of(store: Store, url: str | None) -> tuple[int, str]:
    """(forum id, base URL) of the forum to sample: ``url``, else the store's only forum."""
    forums = store.forums()
    if url is not None:
        fid = store.forum_id(url, create=False)
        return fid, dict(forums)[fid]
    if not forums:
        raise StoreError(f"{store.path} holds no forum", hint=SCRAPE_FIRST)
    if len(forums) > 1:
        raise UsageError(f"{store.path} holds {len(forums)} forums: {', '.join(u for _, u in forums)}",
                         hint="say which one with --forum URL")
    return forums[0]


def _categories(store: Store, forum_id: int) -> pd.DataFrame:
    """The forum's categories (id, name, slug, parent_id) with ``top``, the name of their top-level category."""
    frame = pd.DataFrame([(c.id, c.name, c.slug, c.parent_id) for c in store.categories(forum_id)],
                         columns=["id", "name", "slug", "parent_id"])
    parent = dict(zip(frame["id"], frame["parent_id"]))

    def root(cid: int) -> int:
        seen = set()
        while pd.notna(parent.get(cid)) and parent[cid] in parent and cid not in seen:
            seen.add(cid)
            cid = int(parent[cid])
        return cid

    names = dict(zip(frame["id"], frame["name"]))
    frame["top"] = [names[root(c)] for c in frame["id"]]
    return frame


def _selected_categories(cats: pd.DataFrame, wanted: tuple[str, ...]) -> set[int]:
    """Ids of the named categories (name, slug or id, any case) and of all their subcategories."""
    chosen: set[int] = set()
    for want in wanted:
        key = want.strip().casefold()
        hit = cats[(cats["name"].str.casefold() == key) | (cats["slug"].str.casefold() == key)
                   | (cats["id"].astype(str) == key)]
        if hit.empty:
            known = ", ".join(cats["slug"]) or "none"
            raise UsageError(f"unknown category '{want}'", hint=f"use a name, slug or id; this store has: {known}")
        chosen.update(int(i) for i in hit["id"])
    children = cats.groupby("parent_id")["id"].apply(list).to_dict() if len(cats) else {}
    todo = list(chosen)
    while todo:
        for child in children.get(todo.pop(), []):
            if int(child) not in chosen:
                chosen.add(int(child))
                todo.append(int(child))
    return chosen


def _population(store: Store, forum_id: int, design: SampleDesign) -> pd.DataFrame:
    """The filtered population: item_id, created_at (UTC), stratum; sorted by item_id."""
    topics = pd.DataFrame(store.sampling_topics(forum_id),
                          columns=["topic_id", "created_at", "category_id", "pinned", "accepted", "about", "posts"])
    if topics.empty:
        raise StoreError(f"{store.path} holds no topics", hint=SCRAPE_FIRST)
    cats = _categories(store, forum_id)
    if design.categories:
        topics = topics[topics["category_id"].isin(_selected_categories(cats, design.categories))]
    if design.min_posts:
        topics = topics[topics["posts"] >= design.min_posts]
    if design.accepted_only:
        topics = topics[topics["accepted"] == 1]
    if design.exclude_pinned_and_about:
        topics = topics[(topics["pinned"] == 0) & (topics["about"] == 0)]
    if design.unit == "topic":
        items = topics.rename(columns={"topic_id": "item_id"})
    else:
        posts = pd.DataFrame(store.sampling_posts(forum_id), columns=["item_id", "topic_id", "created_at"])
        items = posts.merge(topics[["topic_id", "category_id"]], on="topic_id")
    items = items[["item_id", "created_at", "category_id"]].copy()
    items["created_at"] = utc_moments(items["created_at"])
    if design.since:
        items = items[items["created_at"] >= pd.Timestamp(design.since)]
    if design.until:
        items = items[items["created_at"] < pd.Timestamp(design.until)]
    if design.strata == "category":
        top = dict(zip(cats["id"], cats["top"]))
        items["stratum"] = [top.get(c, "(none)") if pd.notna(c) else "(none)" for c in items["category_id"]]
    elif design.strata == "period":
        items["stratum"] = period_labels(items["created_at"], design.period).to_numpy()
    else:
        items["stratum"] = ALL
    return items.sort_values("item_id", kind="stable").reset_index(drop=True)


# -- drawing --------------------------------------------------------------------------------------------------------

def sample_population(store: Store, design: SampleDesign) -> tuple[int, str, pd.DataFrame]:
    """(forum id, base URL, population): the items the design's filters keep (item_id, created_at, stratum),
    sorted by item_id; an empty population is an error."""
    forum_id, url = forum_of(store, design.forum)
    population = _population(store, forum_id, design)
    if population.empty:
        raise UsageError(f"no {design.unit}s are left after the filters ({design.describe_filters()})",
                         hint="loosen the filters (--since, --until, --categories, --min-posts, --accepted-only)")
    return forum_id, url, population


def draw_sample(store: Store, design: SampleDesign) -> Sample:
    """Draw the design's sample from the store (nothing is saved: see :func:`~forumkit.coding.sampling.save_sample`).

    Only the random strategy draws here; an uncertainty sample is chosen by
    :func:`forumkit.coding.suggest.active.draw_uncertain_sample`, which needs a classifier.
    """
    if design.strategy != "random":
        raise UsageError(f"draw_sample draws random samples, not {design.strategy} ones",
                         hint="use forumkit.coding.suggest.active.draw_uncertain_sample")
    forum_id, url, population = sample_population(store, design)
    total = len(population)
    computation = None
    if design.size is not None:
        n = design.size
        if n > total:
            raise UsageError(f"sample size {n} is larger than the population of {total} {design.unit}s "
                             f"({design.describe_filters()})",
                             hint=f"ask for --size {total} or less, or loosen the filters")
    else:
        computation = cochran_size(total, design.confidence, design.margin)
        n = computation.n
    groups = population.groupby("stratum", sort=True)["item_id"]
    sizes = groups.size()
    strata_population = {str(h): int(sizes[h]) for h in sizes.index}
    allocation = allocate(strata_population, n, design.allocation)
    for h, size in allocation.items():
        if size == 0:
            log.warning("stratum %s (%d %ss) gets no item of a sample of %d", h, strata_population[h], design.unit, n)

    rng = np.random.Generator(np.random.PCG64(int(design.seed)))
    drawn = []
    for h, ids in groups:  # strata in label order, ids in id order: independent of SQL row order
        ids = ids.to_numpy()
        n_h = allocation[str(h)]
        if n_h:
            chosen = ids[rng.choice(len(ids), size=n_h, replace=False)]
            drawn.append(pd.DataFrame({"item_id": chosen, "stratum": str(h), "weight": len(ids) / n_h}))
    items = pd.concat(drawn, ignore_index=True)
    items = items.iloc[rng.permutation(len(items))].reset_index(drop=True)  # interleave strata in draw order
    items["item_id"] = items["item_id"].astype("int64")
    items["position"] = np.arange(1, len(items) + 1)
    return Sample(design, items, strata_population, allocation, computation, url, forum_id=forum_id)
