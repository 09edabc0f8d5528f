"""The consensus rule: which codes an item gets from its coders' codes.

One rule, used by the coded dataset (:func:`forumkit.coding.coded.coded_items`, and so by the aggregation's
consensus view and the exports) and by :meth:`forumkit.coding.agreement.Agreement.consensus`, so that the
codes a report counts are the codes the agreement section calls agreed:

* ``"majority"``: strictly more than ``min_share`` of the item's coders applied the code. A tie is not a
  majority: with two coders and the default 0.5, a code one of them applied is left out (1/2 is not more
  than 0.5). An item with a single coder takes that coder's codes (1/1).
* ``"unanimous"``: every coder of the item applied it.
* ``"adjudicator"``: on the items the adjudicator annotated, the adjudicator's codes; the majority elsewhere.
"""

from __future__ import annotations

import numpy as np

from forumkit.errors import UsageError

__all__ = ["RULES", "consensus_rule"]

RULES = ("majority", "unanimous", "adjudicator")


def consensus_rule(n_with: np.ndarray, n_coders: np.ndarray, *, rule: str = "majority", min_share: float = 0.5,
                   judged: np.ndarray | None = None, by_judge: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Whether each (item, code) is a consensus code, and which rule decided it.

    ``n_with``: coders of the item who applied the code; ``n_coders``: coders of the item (at least 1);
    ``judged``: the adjudicator annotated the item; ``by_judge``: the adjudicator applied the code (both only
    for ``rule="adjudicator"``). Arrays broadcast against each other (one row per item and code, or an items
    x codes matrix). Returns ``(keep, source)``: booleans, and ``"majority"``, ``"unanimous"`` or
    ``"adjudicator"`` for each element.

    >>> keep, source = consensus_rule(np.array([1, 2, 1]), np.array([2, 2, 1]))
    >>> keep.tolist(), source.tolist()
    ([False, True, True], ['majority', 'majority', 'majority'])
    """
    if rule not in RULES:
        raise UsageError(f"unknown consensus rule {rule!r}", hint=f"use one of: {', '.join(RULES)}")
    if not 0 <= min_share < 1:
        raise UsageError(f"min_share must be at least 0 and below 1, not {min_share!r}", hint="e.g. 0.5")
    n_with, n_coders = np.broadcast_arrays(np.asarray(n_with), np.asarray(n_coders))
    present = n_with > 0
    if rule == "unanimous":
        return (n_with == n_coders) & present, np.full(n_with.shape, "unanimous", dtype=object)
    keep = (n_with / n_coders > min_share) & present
    source = np.full(n_with.shape, "majority", dtype=object)
    if rule == "adjudicator":
        if judged is None or by_judge is None:
            raise UsageError("the adjudicator rule needs the adjudicator's items and codes",
                             hint="pass judged= and by_judge=")
        judged = np.broadcast_to(np.asarray(judged, dtype=bool), keep.shape)
        keep = np.where(judged, np.broadcast_to(np.asarray(by_judge, dtype=bool), keep.shape), keep)
        source[judged] = "adjudicator"
    return keep, source
