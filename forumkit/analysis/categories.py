"""Normalise forum category names, so that counts per category add up.

Coded data and scraped stores spell categories differently: "Beginners" and
"beginners", "Flax/JAX projects" and "Flax/JAX Projects", "🤗Transformers" and
"Transformers", or a category renamed on the forum. :func:`normalize_categories`
maps every spelling to one canonical name: a user's explicit renames first, then
a key that ignores case, emoji, spacing and punctuation around slashes; the
canonical spelling of a key is its most frequent spelling (ties: the first seen).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd
import yaml

from forumkit.errors import UsageError

_SPACES = re.compile(r"\s+")
_AROUND_SLASH = re.compile(r"\s*/\s*")


def category_key(name: str) -> str:
    """The comparison key of a category name: no emoji or symbols, case-folded, single spaces."""
    text = unicodedata.normalize("NFKC", str(name))
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] in "LNPZ")  # drops emoji and symbols
    text = _AROUND_SLASH.sub("/", text)
    return _SPACES.sub(" ", text).strip().casefold()


def load_renames(path: str | Path) -> dict[str, str]:
    """A YAML mapping ``old name: new name`` (e.g. a category the forum renamed)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"cannot read category renames from {path}: {exc}".splitlines()[0],
                         hint="give a YAML file of 'old name: new name' lines") from exc
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise UsageError(f"{path} is not a mapping of old name to new name",
                         hint="write one 'old name: new name' per line")
    return data


def normalize_categories(names: Iterable[str | None], renames: Mapping[str, str] | None = None) -> pd.Series:
    """Each name replaced by its canonical spelling (None and NaN stay missing)."""
    series = pd.Series(list(names), dtype="object")
    by_key = {category_key(old): new for old, new in (renames or {}).items()}
    renamed = series.map(lambda n: by_key.get(category_key(n), n) if isinstance(n, str) else None)
    spellings: dict[str, Counter] = {}
    for name in renamed.dropna():
        spellings.setdefault(category_key(name), Counter())[_SPACES.sub(" ", name).strip()] += 1
    canonical = {key: counts.most_common(1)[0][0] for key, counts in spellings.items()}
    return renamed.map(lambda n: canonical[category_key(n)] if isinstance(n, str) else None)
