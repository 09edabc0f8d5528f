"""Coded tables as training data: read them, decide each item's codes, check them against corpus and codebooks.

A coded table has one row per item and code: ``item_id, code_id`` and optionally ``coder`` (as ``export
annotations`` writes it, one row per coder) or ``consensus`` (as ``export coded`` writes it). Item ids are
matched as text, so a table read from CSV fits a store's integer ids.

Several coders: an item gets the codes that forumkit's consensus rule keeps (:mod:`forumkit.coding.consensus`,
``majority``: strictly more than half of the item's coders applied the code; a single coder's codes are kept).
Training on the majority rather than the union keeps one coder's slips out of the model; an item whose coders
share no majority code teaches nothing and is counted in ``dropped``. A ``consensus`` column, when present,
is that decision already made and is used as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from forumkit.coding.codebook import Codebook
from forumkit.errors import UsageError
from .levels import to_level

__all__ = ["read_coded", "coded_codes", "Labels", "labels_for"]


def read_coded(path: Path) -> pd.DataFrame:
    """A coded table from CSV or Parquet, ids as text; UsageError when unreadable or lacking the columns."""
    if not Path(path).exists():
        raise UsageError(f"{path} does not exist", hint="give the coded table that `forumkit export coded` writes")
    try:
        frame = (pd.read_parquet(path) if Path(path).suffix.lower() == ".parquet"
                 else pd.read_csv(path, dtype=str, keep_default_na=False))
    except Exception as exc:  # noqa: BLE001 -- any reader failure is the same one-line error for the user
        raise UsageError(f"cannot read {path}: {' '.join(str(exc).split())[:200]}",
                         hint="give a CSV (with a header row) or a Parquet file") from exc
    return check_coded(frame, str(path))


def check_coded(frame: pd.DataFrame, source: str = "the coded table") -> pd.DataFrame:
    """The table with item_id and code_id as text; UsageError when a column is missing or it has no rows."""
    missing = [c for c in ("item_id", "code_id") if c not in frame.columns]
    if missing:
        raise UsageError(f"{source} has no column {', '.join(missing)}",
                         hint="give item_id, code_id and optionally coder (as `forumkit export coded` writes)")
    frame = frame.copy()
    frame["item_id"] = frame["item_id"].astype(str).str.strip()
    frame["code_id"] = frame["code_id"].astype(str).str.strip()
    frame = frame[(frame["code_id"] != "") & (frame["code_id"].str.lower() != "nan")]
    if frame.empty:
        raise UsageError(f"{source} holds no coded items", hint="code some items first, or drop --train")
    return frame


def coded_codes(frame: pd.DataFrame) -> dict[str, list[str]]:
    """item id (text) -> its codes, sorted: the consensus column if given, else the majority of its coders."""
    frame = check_coded(frame)
    if "consensus" in frame.columns:
        keep = frame["consensus"].astype(str).str.lower().isin(("true", "1", "yes"))
        pairs = frame.loc[keep, ["item_id", "code_id"]]
        everything = frame["item_id"]
    elif "coder" in frame.columns:
        from forumkit.coding.consensus import consensus_rule

        frame = frame.assign(coder=frame["coder"].astype(str)).drop_duplicates(["item_id", "code_id", "coder"])
        n_coders = frame.groupby("item_id")["coder"].nunique().rename("n_coders")
        counted = frame.groupby(["item_id", "code_id"])["coder"].nunique().rename("n_with").reset_index()
        counted = counted.join(n_coders, on="item_id")
        keep, _ = consensus_rule(counted["n_with"].to_numpy(), counted["n_coders"].to_numpy())
        pairs = counted.loc[keep, ["item_id", "code_id"]]
        everything = frame["item_id"]
    else:
        pairs = frame[["item_id", "code_id"]]
        everything = frame["item_id"]
    out: dict[str, list[str]] = {item: [] for item in sorted(set(everything))}
    for item, code in pairs.drop_duplicates().itertuples(index=False):
        out[item].append(code)
    return {item: sorted(codes) for item, codes in out.items()}


@dataclass(frozen=True)
class Labels:
    """Training labels of one codebook at one level: corpus rows and, per row, the level's code columns."""

    rows: np.ndarray
    codes: list[list[int]]
    dropped: int


def labels_for(codebooks: Sequence[Codebook], level: str, columns: dict[str, list[str]], item_ids: Sequence,
               coded: dict[str, list[str]]) -> dict[str, Labels]:
    """Per codebook id, the corpus rows coded with its codes and their columns among ``columns[codebook id]``.

    Raises UsageError for item ids the corpus lacks and code ids no codebook has. A code above the level (a
    category coded without a subcategory at subcategory level) teaches nothing at that level and is dropped.
    """
    row_of = {str(item): r for r, item in enumerate(item_ids)}
    unknown_items = sorted(i for i in coded if i not in row_of)
    if unknown_items:
        raise UsageError(f"the coded table names {len(unknown_items)} item(s) the corpus lacks: "
                         f"{', '.join(unknown_items[:5])}",
                         hint="train on items of the same --db (and --unit) or --texts file")
    owner = {code_id: cb for cb in codebooks for code_id in cb.code_ids()}
    unknown_codes = sorted({c for codes in coded.values() for c in codes if c not in owner})
    if unknown_codes:
        raise UsageError(f"the coded table uses {len(unknown_codes)} code id(s) none of the codebooks has: "
                         f"{', '.join(unknown_codes[:5])}", hint="pass the codebooks the items were coded with")
    out: dict[str, Labels] = {}
    for cb in codebooks:
        column = {code_id: j for j, code_id in enumerate(columns[cb.id])}
        rows, codes, dropped = [], [], 0
        for item in sorted(coded, key=lambda i: row_of[i]):
            mine = [c for c in coded[item] if owner[c] is cb]
            if not mine:
                continue
            at_level = sorted({column[m] for m in (to_level(cb, c, level) for c in mine) if m is not None})
            if at_level:
                rows.append(row_of[item])
                codes.append(at_level)
            else:
                dropped += 1
        out[cb.id] = Labels(np.array(rows, dtype=int), codes, dropped)
    return out
