"""Codebook roll-up: the node (category, subcategory or the code itself) each applied code counts for."""

from __future__ import annotations

import difflib
from typing import Sequence

import numpy as np
import pandas as pd

from forumkit.errors import UsageError

__all__ = ["LEVELS", "Nodes"]

LEVELS = ("category", "subcategory", "code")
MAX_NODES = (1 << 24) - 2  # node numbers fit in 24 bits, the largest is kept for "coded at all"


class Nodes:
    """The codes at the chosen level: which node each applied code counts for, and what each node is.

    With codebooks, a code counts for its top-level category (``level="category"``), for the code one below
    the top on its path (``"subcategory"``; a top-level code counts for itself, so a category applied
    directly, or one without subcategories, is its own row), or for itself (``"code"``). Every node of the
    level is listed, used or not, except categories with subcategories at the subcategory level, listed only
    when applied directly. Without codebooks every distinct code is its own node (and its own category).
    """

    def __init__(self, level: str, codebooks: Sequence) -> None:
        self.codebooks = list(codebooks)
        self.rows: list[tuple[str, str, str, str | None]] = []  # code_id, name, category, codebook
        self.listed: list[bool] = []  # shown even when no item has it
        self.lookup: dict[str, int] = {}
        paths: dict[str, tuple[str, ...]] = {}
        for book in self.codebooks:
            for code_id in book.code_ids():
                path = book.path_of(code_id)
                names = tuple(c.name for c in path)
                if code_id in paths:
                    if paths[code_id] != names:
                        raise UsageError(f"code {code_id} is in two codebooks with different meanings",
                                         hint="aggregate codebooks with distinct ids, or one at a time")
                    continue
                paths[code_id] = names
                top = path[0]
                node = {"category": top, "subcategory": path[min(1, len(path) - 1)], "code": path[-1]}[level]
                if node.id not in self.lookup:
                    listed = not (level == "subcategory" and node is top and top.children)
                    self.lookup[node.id] = self._add(node.id, node.name, top.name, book.id, listed=listed)
                self.lookup[code_id] = self.lookup[node.id]

    def __len__(self) -> int:
        return len(self.rows)

    def _add(self, code_id: str, name: str, category: str, codebook: str | None, *, listed: bool) -> int:
        if len(self.rows) >= MAX_NODES:
            raise UsageError(f"more than {MAX_NODES} distinct codes", hint="aggregate at a coarser level")
        self.rows.append((code_id, name, category, codebook))
        self.listed.append(listed)
        return len(self.rows) - 1

    def encode(self, codes: pd.Series) -> np.ndarray:
        """Node number of each row's code; -1 where the row has no code. UsageError for codes not in the
        codebooks, naming the first few."""
        numbers, uniques = pd.factorize(codes, use_na_sentinel=True)
        mapped = np.empty(len(uniques) + 1, dtype=np.int64)
        mapped[-1] = -1  # number -1 (no code) picks the last
        missing = []
        for i, code in enumerate(uniques):
            code = str(code)
            node = self.lookup.get(code)
            if node is None:
                if self.codebooks:
                    missing.append(code)
                    continue
                node = self.lookup[code] = self._add(code, code, code, None, listed=True)
            mapped[i] = node
        if missing:
            raise self._missing(sorted(missing))
        return mapped[numbers]

    def _missing(self, missing: list[str]) -> UsageError:
        books = ", ".join(b.id for b in self.codebooks)
        shown = ", ".join(repr(m) for m in missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        close = difflib.get_close_matches(missing[0], list(self.lookup), n=1, cutoff=0.6)
        hint = (f"did you mean {close[0]}? " if close else "") + \
            "codes must be ids of the codebook (forumkit codebook show FILE), or pass the codebook they come from"
        plural = "s are" if len(missing) > 1 else " is"
        return UsageError(f"{len(missing)} code{plural} not in the codebook{'s' if len(self.codebooks) > 1 else ''} "
                          f"{books}: {shown}", hint=hint)

    def order(self) -> np.ndarray:
        """Rank of each node in the output: codebook order, or alphabetical without a codebook."""
        if self.codebooks:
            return np.arange(len(self.rows))
        return np.argsort(np.argsort(np.array([r[0] for r in self.rows], dtype=object), kind="stable"))
