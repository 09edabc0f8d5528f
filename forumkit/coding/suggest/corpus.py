"""The items that suggestions are made for: ids, texts and dates, from the store or from a table.

One rule for an item's text, so that codes, topics, active learning and audits all read the same words:
a topic is its title, then its readable posts' own words (no code blocks, no quotes), first post first;
a post is its own words. Researchers whose items come from elsewhere give any CSV/Parquet table instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from forumkit.errors import UsageError

if TYPE_CHECKING:
    from forumkit.store import Store

__all__ = ["Corpus", "from_store", "from_table", "item_text"]


def item_text(title: str | None, texts: Sequence[str]) -> str:
    """The text suggestions read: the title line, then each post's own words, blank-line separated."""
    parts = [" ".join((title or "").split())] + [t.strip() for t in texts]
    return "\n\n".join(p for p in parts if p)


@dataclass(frozen=True)
class Corpus:
    """Items to suggest for, in a fixed order (by id), so that every run sees them the same way.

    ``item_ids`` are strings when the items came from a table and ints when they came from the store;
    ``dates`` are ISO-8601 strings or None.
    """

    item_ids: tuple
    texts: tuple[str, ...]
    dates: tuple[str | None, ...]
    source: str

    def __len__(self) -> int:
        return len(self.item_ids)

    def subset(self, item_ids: Sequence) -> "Corpus":
        """The items with these ids, in the corpus's order; ids the corpus lacks are left out."""
        wanted = set(item_ids)
        keep = [i for i, item in enumerate(self.item_ids) if item in wanted]
        return Corpus(tuple(self.item_ids[i] for i in keep), tuple(self.texts[i] for i in keep),
                      tuple(self.dates[i] for i in keep), self.source)


def _checked(ids: list, texts: list[str], dates: list, source: str) -> Corpus:
    """The corpus in id order; an empty corpus or one whose texts are all empty is an error."""
    if not ids:
        raise UsageError(f"{source} holds no items", hint="scrape a forum first, or check the sample and --unit")
    if not any(t.strip() for t in texts):
        raise UsageError(f"every text of the {len(ids)} items in {source} is empty",
                         hint="check --text-col, or scrape the posts of the topics first")
    order = sorted(range(len(ids)), key=lambda i: ids[i])
    return Corpus(tuple(ids[i] for i in order), tuple(texts[i] for i in order), tuple(dates[i] for i in order),
                  source)


def from_store(store: Store, *, unit: str = "topic", sample: str | None = None, forum: str | None = None) -> Corpus:
    """The store's live topics (or readable posts), or the items of one saved sample."""
    from forumkit.coding.sampling import load_sample
    from forumkit.coding.sampling.draw import forum_of

    if unit not in ("topic", "post"):
        raise UsageError(f"unknown unit '{unit}'", hint="use topic or post")
    item_ids = None
    if sample is not None:
        drawn = load_sample(store, sample)
        if drawn.design.unit != unit:
            raise UsageError(f"sample '{sample}' holds {drawn.design.unit}s, not {unit}s",
                             hint=f"pass --unit {drawn.design.unit}")
        forum_id, item_ids = drawn.forum_id, [int(i) for i in drawn.items["item_id"]]
    else:
        forum_id = forum_of(store, forum)[0]
    rows = store.corpus_rows(forum_id, unit, item_ids)
    where = f"sample '{sample}'" if sample else f"{store.path}"
    return _checked([r[0] for r in rows], [item_text(r[2] if unit == "topic" else None, r[3]) for r in rows],
                    [r[1] for r in rows], where)


def from_table(path: Path, *, id_col: str, text_col: str, date_col: str | None = None) -> Corpus:
    """Items from a CSV or Parquet table: one row per item; ids are kept as text."""
    import pandas as pd

    if not path.exists():
        raise UsageError(f"{path} does not exist", hint="give a CSV or Parquet file of items")
    try:
        frame = pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path, dtype=str,
                                                                                            keep_default_na=False)
    except Exception as exc:  # noqa: BLE001 -- any reader failure is the same one-line error for the user
        raise UsageError(f"cannot read {path}: {' '.join(str(exc).split())[:200]}",
                         hint="give a CSV (with a header row) or a Parquet file") from exc
    missing = [c for c in (id_col, text_col, date_col) if c and c not in frame.columns]
    if missing:
        raise UsageError(f"{path} has no column {', '.join(missing)}",
                         hint=f"its columns are {', '.join(map(str, frame.columns))}")
    ids = [str(v) for v in frame[id_col]]
    if len(set(ids)) != len(ids):
        dupes = sorted({i for i in ids if ids.count(i) > 1})[:3]
        raise UsageError(f"{path} repeats item ids in {id_col}: {', '.join(dupes)}", hint="give one row per item")
    texts = ["" if pd.isna(v) else str(v) for v in frame[text_col]]
    dates = [None if not date_col or pd.isna(v) else str(v) for v in (frame[date_col] if date_col else ids)]
    return _checked(ids, texts, dates, str(path))
