"""Which codes a suggestion level offers, and how a code maps onto a level, so that levels never contradict.

Three levels, as ``--level`` names them:

- ``category``: the top-level codes;
- ``subcategory``: the codes one level down, and a category that has no children stands for itself;
- ``code``: the most specific codes (the leaves of the tree).

A coded code maps onto a level by its path: at ``category`` level every code counts for its category; at the
deeper levels a code counts for its ancestor at that level, and a code above the level (a category coded without
a subcategory, say) names no code of the level (None). Scores are hierarchical (:func:`hierarchical`): a code's
score is its parent's score times its share among its siblings, so a subcategory's score never exceeds its
category's, and the category-level scores are the same in every level's ranking.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from forumkit.coding.codebook import Code, Codebook
from forumkit.errors import UsageError

__all__ = ["LEVELS", "check_level", "level_codes", "to_level", "sibling_groups", "hierarchical"]

LEVELS = ("category", "subcategory", "code")


def check_level(level: str) -> str:
    """The level itself; UsageError for an unknown one."""
    if level not in LEVELS:
        raise UsageError(f"unknown level '{level}'", hint=f"use one of: {', '.join(LEVELS)}")
    return level


def _offered(code: Code, depth: int, level: str) -> bool:
    if level == "category":
        return depth == 0
    if level == "subcategory":
        return depth == 1 or (depth == 0 and code.is_leaf)
    return code.is_leaf


def level_codes(codebook: Codebook, level: str) -> list[str]:
    """The ids of the codes offered at ``level``, in file order."""
    check_level(level)
    return [code.id for path, code in codebook.codes() if _offered(code, len(path) - 1, level)]


def to_level(codebook: Codebook, code_id: str, level: str) -> str | None:
    """The code of ``level`` that ``code_id`` counts for, or None when the code lies above the level."""
    path = codebook.path_of(code_id)
    for depth, code in enumerate(path):
        if _offered(code, depth, level):
            return code.id
    return None


def sibling_groups(codebook: Codebook, level: str) -> list[tuple[str | None, list[Code]]]:
    """(parent id or None for the top, children) for every parent on the way down to ``level``'s codes.

    These are the choices :func:`hierarchical` makes one after the other: first among the categories, then
    among each category's children, as far down as the level reaches.
    """
    check_level(level)
    groups: list[tuple[str | None, list[Code]]] = [(None, list(codebook.categories))]
    if level == "category":
        return groups
    todo = list(codebook.categories)
    while todo:
        code = todo.pop(0)
        if code.children:
            groups.append((code.id, list(code.children)))
            if level == "code":
                todo.extend(code.children)
    return groups


def hierarchical(codebook: Codebook, level: str, share: Callable[[list[Code]], np.ndarray]) -> np.ndarray:
    """Scores (items x the level's codes) as products of choices down the tree.

    ``share(siblings)`` gives, for each item, a distribution over the siblings (items x len(siblings), rows
    summing to 1); a code's score is the product of the shares on its path, so the scores of a code's
    children add up to the code's own score and no child ever scores above its parent.
    """
    chosen: dict[str, np.ndarray] = {}
    for parent, siblings in sibling_groups(codebook, level):
        part = share(siblings)
        above = chosen[parent] if parent is not None else 1.0
        for j, code in enumerate(siblings):
            chosen[code.id] = above * part[:, j]
    return np.stack([chosen[c] for c in level_codes(codebook, level)], axis=1)

