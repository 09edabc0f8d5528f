"""Random samples of topics or posts from the store: seeded, reproducible, saved with their design.

A :class:`SampleDesign` says what to draw from (unit, filters), how many (a fixed
size or Cochran's formula) and how (simple, or stratified by category or
calendar period with proportional or equal allocation). :func:`draw_sample`
draws it: the population is sorted by id and drawn with
``numpy.random.Generator(PCG64(seed))``, so the same design on the same store
gives the same items, whatever order SQLite returns rows in.
:func:`save_sample` keeps it in the ``samples`` and ``sample_items`` tables,
the design JSON holding the population of each stratum and the size computation,
so that weights (stratum population / stratum sample size) can extrapolate
coded results back to the population later.

Example::

    with Store("hf.db") as store:
        sample = draw_sample(store, SampleDesign("round1", strata="period", period="year", seed=1))
        save_sample(store, sample)
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from forumkit.errors import ForumkitError, StoreError, UsageError
from forumkit.store import Store, utcnow

__all__ = [
    "SizeComputation", "SampleDesign", "Sample", "SampleInfo", "cochran_size", "allocate", "period_labels",
    "draw_sample", "save_sample", "load_sample", "list_samples", "sample_table", "write_sample_csv",
]

log = logging.getLogger(__name__)

UNITS = ("topic", "post")
METHODS = ("simple", "stratified")
STRATA = ("category", "period")
PERIODS = ("month", "quarter", "year")
ALLOCATIONS = ("proportional", "equal")
ALL = "all"  # the one stratum of a simple random sample
_SCRAPE_FIRST = "scrape a forum into it first: forumkit scrape URL --db PATH"


# -- sample size ----------------------------------------------------------------------------------------------------

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


# -- design ---------------------------------------------------------------------------------------------------------

def _iso_date(value: str | None, what: str) -> str | None:
    """'2023-01-31' or an ISO date-time -> ISO-8601 UTC; a one-line error otherwise."""
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise UsageError(f"{what} '{value}' is not a date", hint="use YYYY-MM-DD or an ISO date-time") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _choice(value: str | None, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise UsageError(f"unknown {what} '{value}'", hint=f"use one of: {', '.join(allowed)}")


@dataclass
class SampleDesign:
    """What to sample and how. Dates: ``since`` inclusive, ``until`` exclusive (created_at, UTC).

    ``size`` fixes the sample size; without it Cochran's formula gives it from ``confidence`` and
    ``margin`` (and, stratified, it is computed for the whole population and then allocated).
    ``method`` follows from ``strata`` when left out. Strata by category use the top-level category
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
        _choice(self.period, PERIODS, "period")
        _choice(self.allocation, ALLOCATIONS, "allocation")
        if self.size is not None and self.size < 1:
            raise UsageError(f"sample size {self.size} is not positive", hint="use --size 1 or more")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise UsageError(f"seed {self.seed!r} is not a non-negative integer", hint="use e.g. --seed 42")
        if self.min_posts is not None and self.min_posts < 1:
            raise UsageError(f"--min-posts {self.min_posts} is not positive", hint="use 1 or more")
        self.categories = tuple(str(c) for c in self.categories)
        self.since = _iso_date(self.since, "--since")
        self.until = _iso_date(self.until, "--until")
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


# -- population -----------------------------------------------------------------------------------------------------

def _forum(store: Store, url: str | None) -> tuple[int, str]:
    forums = store.forums()
    if url is not None:
        fid = store.forum_id(url, create=False)
        return fid, dict(forums)[fid]
    if not forums:
        raise StoreError(f"{store.path} holds no forum", hint=_SCRAPE_FIRST)
    if len(forums) > 1:
        raise UsageError(f"{store.path} holds {len(forums)} forums: {', '.join(u for _, u in forums)}",
                         hint="say which one with --forum URL")
    return forums[0]


def _categories(store: Store, forum_id: int) -> pd.DataFrame:
    frame = pd.DataFrame([tuple(r) for r in store.query(
        "SELECT id, name, slug, parent_id FROM categories WHERE forum_id = ? ORDER BY id", (forum_id,))],
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


def _utc(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True, format="ISO8601")


def period_labels(created_at: pd.Series, period: str) -> pd.Series:
    """Calendar period of ISO timestamps, in UTC: '2021-03' (month), '2021-Q1' (quarter), '2021' (year)."""
    _choice(period, PERIODS, "period")
    moments = _utc(pd.Series(created_at))
    years = moments.dt.year.astype(str)
    if period == "year":
        return years
    if period == "quarter":
        return years + "-Q" + ((moments.dt.month - 1) // 3 + 1).astype(str)
    return years + "-" + moments.dt.month.map("{:02d}".format)


def _population(store: Store, forum_id: int, design: SampleDesign) -> pd.DataFrame:
    """The filtered population: item_id, created_at (UTC), stratum; sorted by item_id."""
    topics = pd.DataFrame([tuple(r) for r in store.query(
        """SELECT t.id, t.created_at, t.category_id, t.pinned, t.has_accepted_answer,
                  EXISTS (SELECT 1 FROM categories c WHERE c.forum_id = t.forum_id AND c.definition_topic_id = t.id),
                  (SELECT count(*) FROM posts p WHERE p.forum_id = t.forum_id AND p.topic_id = t.id
                     AND p.removed_at IS NULL AND p.post_type = 1)
           FROM topics t WHERE t.forum_id = ? AND t.removed_at IS NULL
             AND (t.archetype IS NULL OR t.archetype = 'regular')""", (forum_id,))],
        columns=["topic_id", "created_at", "category_id", "pinned", "accepted", "about", "posts"])
    if topics.empty:
        raise StoreError(f"{store.path} holds no topics", hint=_SCRAPE_FIRST)
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
        posts = pd.DataFrame([tuple(r) for r in store.query(
            """SELECT id, topic_id, created_at FROM posts WHERE forum_id = ? AND removed_at IS NULL
               AND post_type = 1 AND hidden = 0 AND user_deleted = 0""", (forum_id,))],
            columns=["item_id", "topic_id", "created_at"])
        items = posts.merge(topics[["topic_id", "category_id"]], on="topic_id")
    items = items[["item_id", "created_at", "category_id"]].copy()
    items["created_at"] = _utc(items["created_at"])
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

def draw_sample(store: Store, design: SampleDesign) -> Sample:
    """Draw the design's sample from the store (nothing is saved: see :func:`save_sample`)."""
    forum_id, url = _forum(store, design.forum)
    population = _population(store, forum_id, design)
    total = len(population)
    if total == 0:
        raise UsageError(f"no {design.unit}s are left after the filters ({design.describe_filters()})",
                         hint="loosen the filters (--since, --until, --categories, --min-posts, --accepted-only)")
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


# -- saving and loading ---------------------------------------------------------------------------------------------

def save_sample(store: Store, sample: Sample, *, replace: bool = False) -> None:
    """Keep the sample in the store under its design's name; an existing name needs ``replace=True``."""
    name = sample.design.name
    design = {"design": sample.design.to_dict(), "population": sample.population, "allocation": sample.allocation,
              "size_computation": asdict(sample.size) if sample.size else None, "forum": sample.forum}
    with store.transaction():
        old = store.query("SELECT created_at, (SELECT count(*) FROM sample_items WHERE sample_id = s.id)"
                          " FROM samples s WHERE id = ?", (name,))
        if old and not replace:
            raise UsageError(f"a sample named '{name}' already exists in {store.path} "
                             f"({old[0][1]} items, saved {old[0][0][:19]})",
                             hint="choose another --name, or pass --replace to overwrite it")
        if old:
            used = store.query("SELECT title FROM studio_projects WHERE sample_id = ?", (name,))
            if used:
                raise UsageError(f"sample '{name}' is coded in Label Studio project '{used[0][0]}'",
                                 hint="choose another --name for the new sample")
            store.db.execute("DELETE FROM sample_items WHERE sample_id = ?", (name,))
            store.db.execute("DELETE FROM samples WHERE id = ?", (name,))
        sample.created_at = utcnow()
        store.db.execute("INSERT INTO samples (id, forum_id, unit, design, created_at) VALUES (?, ?, ?, ?, ?)",
                         (name, sample.forum_id or _forum(store, sample.forum)[0], sample.design.unit,
                          json.dumps(design, ensure_ascii=False), sample.created_at))
        store.db.executemany(
            "INSERT INTO sample_items (sample_id, item_id, stratum, weight, position) VALUES (?, ?, ?, ?, ?)",
            [(name, int(r.item_id), r.stratum, float(r.weight), int(r.position))
             for r in sample.items.itertuples(index=False)])


def _names(store: Store) -> str:
    return ", ".join(r[0] for r in store.query("SELECT id FROM samples ORDER BY created_at, id")) or "none yet"


def load_sample(store: Store, name: str) -> Sample:
    """A saved sample, with its design, items in draw order and population of each stratum."""
    row = store.query("SELECT s.forum_id, s.design, s.created_at, f.url FROM samples s"
                      " JOIN forums f ON f.id = s.forum_id WHERE s.id = ?", (name,))
    if not row:
        raise UsageError(f"no sample named '{name}' in {store.path}", hint=f"saved samples: {_names(store)}")
    forum_id, data, created_at, url = row[0]
    data = json.loads(data)
    items = pd.DataFrame([tuple(r) for r in store.query(
        "SELECT item_id, stratum, weight, position FROM sample_items WHERE sample_id = ? ORDER BY position",
        (name,))], columns=["item_id", "stratum", "weight", "position"])
    size = SizeComputation(**data["size_computation"]) if data.get("size_computation") else None
    return Sample(SampleDesign.from_dict(data["design"]), items, data["population"], data["allocation"], size, url,
                  created_at, forum_id=forum_id)


def list_samples(store: Store) -> list[SampleInfo]:
    """Every saved sample, oldest first."""
    out = []
    for name, url, unit, data, created_at, count in store.query(
            "SELECT s.id, f.url, s.unit, s.design, s.created_at,"
            " (SELECT count(*) FROM sample_items i WHERE i.sample_id = s.id)"
            " FROM samples s JOIN forums f ON f.id = s.forum_id ORDER BY s.created_at, s.id"):
        data = json.loads(data)
        design = data.get("design", {})
        out.append(SampleInfo(name, url, unit, count, sum(data.get("population", {}).values()),
                              design.get("method") or "simple", design.get("strata"), design.get("seed", 0),
                              created_at))
    return out


# -- describing items -----------------------------------------------------------------------------------------------

def sample_table(store: Store, sample: Sample) -> pd.DataFrame:
    """The items with what a coder needs: item_id, stratum, weight, position, title, category, created_at, url
    (and topic_id, post_number for posts), in draw order."""
    if sample.design.unit == "topic":
        sql = """SELECT t.id, t.title, c.name, t.created_at, t.slug, t.id, NULL FROM topics t
                 LEFT JOIN categories c ON c.forum_id = t.forum_id AND c.id = t.category_id
                 WHERE t.forum_id = ?"""
    else:
        sql = """SELECT p.id, t.title, c.name, p.created_at, t.slug, p.topic_id, p.post_number FROM posts p
                 LEFT JOIN topics t ON t.forum_id = p.forum_id AND t.id = p.topic_id
                 LEFT JOIN categories c ON c.forum_id = t.forum_id AND c.id = t.category_id
                 WHERE p.forum_id = ?"""
    info = pd.DataFrame([tuple(r) for r in store.query(sql, (sample.forum_id,))],
                        columns=["item_id", "title", "category", "created_at", "slug", "topic_id", "post_number"])
    table = sample.items.merge(info, on="item_id", how="left")
    table["url"] = [f"{sample.forum}/t/{slug}/{tid}" + (f"/{int(num)}" if pd.notna(num) else "")
                    for slug, tid, num in zip(table["slug"], table["topic_id"], table["post_number"])]
    columns = ["item_id", "stratum", "weight", "position", "title", "category", "created_at", "url"]
    if sample.design.unit == "post":
        table["post_number"] = table["post_number"].astype("Int64")
        columns += ["topic_id", "post_number"]
    return table[columns]


def write_sample_csv(store: Store, sample: Sample, path: str | Path) -> int:
    """Write :func:`sample_table` as CSV; returns the number of rows."""
    table = sample_table(store, sample)
    try:
        table.to_csv(path, index=False)
    except OSError as exc:
        raise ForumkitError(f"cannot write {path}: {exc.strerror or exc}", hint="check that its folder exists") from exc
    return len(table)
