"""The coded items that active learning and the audit learn from: a ``--train`` table, checked against the items
and the codebooks.

The table is what ``forumkit export coded`` writes (``item_id``, ``code_id``, ``coders`` joined by ``|``,
``consensus``) or any table with ``item_id`` (or ``item``) and ``code_id`` (or ``code``) and optionally one
``coder`` per row (``export coded --view coders``). When a ``consensus`` column is there, an item's codes are its
consensus codes; otherwise every code a row gives it. The coders' own codes (for the pairs of codes they confuse)
come from ``coder`` or ``coders``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from forumkit.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

    from forumkit.coding.codebook import Codebook
    from .corpus import Corpus

__all__ = ["LEVELS", "TrainingSet", "code_at_level", "level_codes", "read_training", "shipped_codebooks_for"]

#: The depths a code can be learnt and suggested at.
LEVELS = ("category", "subcategory", "code")
_TRUE = {"true", "1", "yes", "t", "y"}


def level_codes(codebooks: Sequence[Codebook], level: str) -> list[str]:
    """The code ids at ``level``, codebook by codebook in file order: categories, their children, or every code.

    A category with no subcategory stands for itself at the subcategory level.
    """
    if level not in LEVELS:
        raise UsageError(f"unknown level '{level}'", hint=f"use one of: {', '.join(LEVELS)}")
    out: list[str] = []
    for book in codebooks:
        for code_id in book.code_ids():
            path = book.path_of(code_id)
            if level == "code" or (level == "category" and len(path) == 1) or (
                    level == "subcategory" and (len(path) == 2 or (len(path) == 1 and not path[0].children))):
                out.append(code_id)
    return out


def code_at_level(code_id: str, codebooks: Sequence[Codebook], level: str) -> str:
    """The id of ``code_id``'s ancestor (or itself) at ``level``; UsageError when no codebook has the code."""
    for book in codebooks:
        if code_id in book:
            path = book.path_of(code_id)
            depth = {"category": 0, "subcategory": 1}.get(level, len(path) - 1)
            return path[min(depth, len(path) - 1)].id
    known = ", ".join(b.id for b in codebooks)
    raise UsageError(f"code id '{code_id}' is in none of the codebooks ({known})",
                     hint="pass the --codebook the items were coded with")


@dataclass(frozen=True)
class TrainingSet:
    """Checked coded items. ``labels``: item_id, code_id (as coded) and ``code`` (its id at ``level``), one row
    per item and distinct code; ``coders``: item_id, coder, code (at ``level``), one row per coder and code, empty
    when the table names no coder; ``sha256`` of the file, recorded in a sample's design."""

    path: Path
    sha256: str
    level: str
    labels: pd.DataFrame
    coders: pd.DataFrame

    @property
    def item_ids(self) -> list:
        """The coded items, each once, in the corpus's order."""
        return list(dict.fromkeys(self.labels["item_id"]))

    def label_lists(self) -> list[list[str]]:
        """The codes (at ``level``) of each item of :attr:`item_ids`, sorted."""
        grouped = self.labels.groupby("item_id", sort=False)["code"].agg(lambda c: sorted(set(c)))
        return [grouped[i] for i in self.item_ids]


def _column(frame: pd.DataFrame, names: tuple[str, ...], path: Path) -> str:
    for name in names:
        if name in frame.columns:
            return name
    raise UsageError(f"{path} has no column {' or '.join(names)}",
                     hint=f"give a coded table (forumkit export coded); its columns are {', '.join(frame.columns)}")


def _read(path: Path) -> pd.DataFrame:
    import pandas as pd

    if not path.exists():
        raise UsageError(f"{path} does not exist", hint="give a coded table, e.g. from: forumkit export coded")
    try:
        return pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(
            path, dtype=str, keep_default_na=False)
    except Exception as exc:  # noqa: BLE001 -- any reader failure is the same one-line error for the user
        raise UsageError(f"cannot read {path}: {' '.join(str(exc).split())[:200]}",
                         hint="give a CSV (with a header row) or a Parquet file") from exc


def shipped_codebooks_for(path: Path) -> list[Codebook]:
    """The shipped codebooks that hold any code of the coded table ``path``: the default when no --codebook is
    given. UsageError when none does."""
    from forumkit.coding.codebook import load_codebook, shipped_codebooks

    frame = _read(path)
    codes = set(frame[_column(frame, ("code_id", "code"), path)].astype(str))
    books = [load_codebook(p) for p in shipped_codebooks().values()]
    chosen = [b for b in books if codes & set(b.code_ids())]
    if not chosen:
        raise UsageError(f"no shipped codebook has the codes of {path}",
                         hint="pass the codebook the items were coded with: --codebook FILE")
    return chosen


def read_training(path: Path, corpus: Corpus, codebooks: Sequence[Codebook], level: str = "category"
                  ) -> TrainingSet:
    """Read and check a ``--train`` table: every item must be in ``corpus`` and every code in ``codebooks``."""
    frame = _read(path)
    data = path.read_bytes()
    item_col = _column(frame, ("item_id", "item"), path)
    code_col = _column(frame, ("code_id", "code"), path)
    frame = frame.astype({item_col: str, code_col: str})
    frame = frame[(frame[code_col].str.strip() != "") & (frame[code_col] != "nan")]
    if frame.empty:
        raise UsageError(f"{path} holds no coded item", hint="code some items first, then export them")
    ids = {str(i): i for i in corpus.item_ids}
    unknown = sorted(set(frame[item_col].str.strip()) - set(ids))
    if unknown:
        raise UsageError(f"{path} names {len(unknown)} item id(s) that {corpus.source} lacks: "
                         f"{', '.join(unknown[:3])}", hint="use the same --db/--sample/--unit (or --texts) the "
                                                           "items were coded from")
    known = set(level_codes(codebooks, "code"))
    bad = sorted(set(frame[code_col]) - known)
    if bad:
        raise UsageError(f"{path} names {len(bad)} code id(s) that no --codebook has: {', '.join(bad[:3])}",
                         hint="pass the codebooks the items were coded with")
    frame = frame.assign(item_id=[ids[i.strip()] for i in frame[item_col]], code_id=frame[code_col])
    frame["code"] = [code_at_level(c, codebooks, level) for c in frame["code_id"]]
    order = {i: n for n, i in enumerate(corpus.item_ids)}
    chosen = frame
    if "consensus" in frame.columns:
        chosen = frame[frame["consensus"].astype(str).str.strip().str.lower().isin(_TRUE)]
    labels = (chosen[["item_id", "code_id", "code"]].drop_duplicates()
              .assign(_o=lambda f: f["item_id"].map(order)).sort_values(["_o", "code_id"], kind="stable")
              .drop(columns="_o").reset_index(drop=True))
    if labels.empty:
        raise UsageError(f"no item of {path} has a consensus code", hint="code more items, or adjudicate them")
    coders = _coder_rows(frame)
    return TrainingSet(path, hashlib.sha256(data).hexdigest(), level, labels, coders)


def _coder_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (item, coder, code at level) from a ``coder`` or a ``|``-joined ``coders`` column."""
    import pandas as pd

    if "coder" in frame.columns:
        rows = frame[["item_id", "coder", "code"]]
    elif "coders" in frame.columns:
        rows = frame.assign(coder=frame["coders"].astype(str).str.split("|")).explode("coder")[
            ["item_id", "coder", "code"]]
    else:
        return pd.DataFrame(columns=["item_id", "coder", "code"])
    rows = rows[rows["coder"].astype(str).str.strip() != ""]
    return rows.drop_duplicates().reset_index(drop=True)
