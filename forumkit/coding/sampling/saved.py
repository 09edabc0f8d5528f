"""Saved samples: kept in the store with their design, loaded back, listed, and described for coders."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pandas as pd

from forumkit.errors import ForumkitError, UsageError
from forumkit.store import Store, utcnow
from .design import Sample, SampleDesign, SampleInfo
from .draw import forum_of
from .size import SizeComputation

__all__ = ["list_samples", "load_sample", "sample_table", "save_sample", "write_sample_csv"]


def save_sample(store: Store, sample: Sample, *, replace: bool = False) -> None:
    """Keep the sample in the store under its design's name; an existing name needs ``replace=True``."""
    name = sample.design.name
    design = {"design": sample.design.to_dict(), "population": sample.population, "allocation": sample.allocation,
              "size_computation": asdict(sample.size) if sample.size else None, "forum": sample.forum}
    with store.transaction():
        old = store.sample_summary(name)
        if old and not replace:
            raise UsageError(f"a sample named '{name}' already exists in {store.path} "
                             f"({old[1]} items, saved {old[0][:19]})",
                             hint="choose another --name, or pass --replace to overwrite it")
        used = store.sample_project_titles(name) if old else []
        if used:
            raise UsageError(f"sample '{name}' is coded in Label Studio project '{used[0]}'",
                             hint="choose another --name for the new sample")
        sample.created_at = utcnow()
        store.replace_sample(name, sample.forum_id or forum_of(store, sample.forum)[0], sample.design.unit, design,
                             sample.created_at,
                             [(int(r.item_id), r.stratum, float(r.weight), int(r.position))
                              for r in sample.items.itertuples(index=False)])


def load_sample(store: Store, name: str) -> Sample:
    """A saved sample, with its design, items in draw order and population of each stratum."""
    record = store.sample_record(name)
    if record is None:
        names = store.saved_sample_names()
        raise UsageError(f"no sample named '{name}' in {store.path}",
                         hint=f"draw one with `forumkit sample --db {store.path} --name {name}`"
                              + (f", or use one of: {', '.join(names)}" if names else ""))
    forum_id, data, created_at, url = record
    items = pd.DataFrame(store.sample_item_rows(name), columns=["item_id", "stratum", "weight", "position"])
    size = SizeComputation(**data["size_computation"]) if data.get("size_computation") else None
    return Sample(SampleDesign.from_dict(data["design"]), items, data["population"], data["allocation"], size, url,
                  created_at, forum_id=forum_id)


def list_samples(store: Store) -> list[SampleInfo]:
    """Every saved sample, oldest first."""
    out = []
    for name, url, unit, data, created_at, count in store.sample_listing():
        design = data.get("design", {})
        out.append(SampleInfo(name, url, unit, count, sum(data.get("population", {}).values()),
                              design.get("method") or "simple", design.get("strata"), design.get("seed", 0),
                              created_at, design.get("strategy") or "random"))
    return out


# -- describing items -----------------------------------------------------------------------------------------------

def sample_table(store: Store, sample: Sample) -> pd.DataFrame:
    """The items with what a coder needs: item_id, stratum, weight, position, title, category, created_at, url
    (and topic_id, post_number for posts), in draw order."""
    info = pd.DataFrame(store.item_descriptions(sample.forum_id, sample.design.unit),
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
