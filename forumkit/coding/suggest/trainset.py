"""The coded items that active learning and the audit learn from: a ``--train`` table, read and checked the way the
classifier reads it (:mod:`.training`), plus what those two need beyond it.

The table is what ``forumkit export coded`` writes (``item_id``, ``code_id``, ``coders`` joined by ``|``,
``consensus``) or ``item_id, code_id`` with an optional ``coder`` per row. An item's given codes are those
:func:`.training.coded_codes` decides (the consensus column, else the coders' majority), mapped onto the level
(:func:`.levels.to_level`). The coders' own codes, for the pairs of codes they confuse, come from ``coder`` or
``coders``. The file's sha256 is recorded in a sample's design.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import pandas as pd

from forumkit.errors import UsageError
from .levels import level_codes, to_level
from .training import coded_codes, labels_for, read_coded

if TYPE_CHECKING:
    from forumkit.coding.codebook import Codebook
    from .corpus import Corpus

__all__ = ["TrainingSet", "read_training", "shipped_codebooks_for"]


@dataclass(frozen=True)
class TrainingSet:
    """A checked ``--train`` table.

    ``table``: the table as :func:`.training.read_coded` gives it (what the classifier fits on); ``item_ids``:
    every item it codes, as the corpus spells its ids, in corpus order; ``given``: per codebook id, item id ->
    its codes at ``level`` (sorted; items with none of that codebook's codes left out); ``coders``: item_id,
    coder, codebook, code (at ``level``), one row per coder and code, empty when the table names no coder.
    """

    path: Path
    sha256: str
    level: str
    table: pd.DataFrame
    item_ids: list
    given: dict[str, dict]
    coders: pd.DataFrame


def shipped_codebooks_for(path: Path) -> list[Codebook]:
    """The shipped codebooks that hold any code of the coded table ``path``: the default when no --codebook is
    given. UsageError when none does."""
    from forumkit.coding.codebook import load_codebook, shipped_codebooks

    codes = set(read_coded(path)["code_id"])
    chosen = [b for b in (load_codebook(p) for p in shipped_codebooks().values()) if codes & set(b.code_ids())]
    if not chosen:
        raise UsageError(f"no shipped codebook has the codes of {path}",
                         hint="pass the codebook the items were coded with: --codebook FILE")
    return chosen


def read_training(path: Path, corpus: Corpus, codebooks: Sequence[Codebook], level: str = "category"
                  ) -> TrainingSet:
    """Read and check a ``--train`` table: every item must be in ``corpus`` and every code in ``codebooks``."""
    table = read_coded(path)
    columns = {cb.id: level_codes(cb, level) for cb in codebooks}
    labels = labels_for(codebooks, level, columns, corpus.item_ids, coded_codes(table))  # the one-line checks
    given = {cb.id: {corpus.item_ids[r]: sorted(columns[cb.id][c] for c in codes)
                     for r, codes in zip(labels[cb.id].rows, labels[cb.id].codes)} for cb in codebooks}
    if not any(given.values()):
        raise UsageError(f"no item of {path} has a code at the {level} level",
                         hint="code more items, or use --level category")
    as_text = {str(i): i for i in corpus.item_ids}
    coded = set(table["item_id"])
    item_ids = [i for i in corpus.item_ids if str(i) in coded]
    coders = _coder_rows(table, codebooks, level)
    coders["item_id"] = coders["item_id"].map(as_text)
    return TrainingSet(path, hashlib.sha256(path.read_bytes()).hexdigest(), level, table, item_ids, given, coders)


def _coder_rows(table: pd.DataFrame, codebooks: Sequence[Codebook], level: str) -> pd.DataFrame:
    """One row per (item, coder, codebook, code at level) from a ``coder`` or a ``|``-joined ``coders`` column."""
    columns = ["item_id", "coder", "codebook", "code"]
    if "coder" in table.columns:
        rows = table.assign(coder=table["coder"].astype(str))
    elif "coders" in table.columns:
        rows = table.assign(coder=table["coders"].astype(str).str.split("|")).explode("coder")
    else:
        return pd.DataFrame(columns=columns)
    owner = {code_id: cb for cb in codebooks for code_id in cb.code_ids()}
    out = [(item, coder.strip(), owner[code].id, to_level(owner[code], code, level))
           for item, coder, code in zip(rows["item_id"], rows["coder"], rows["code_id"]) if coder.strip()]
    frame = pd.DataFrame([r for r in out if r[3] is not None], columns=columns)
    return frame.drop_duplicates().reset_index(drop=True)
