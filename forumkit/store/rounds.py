"""Coding rounds: which coder codes which item of a sample, and the per-coder projects that hold them.

A round is stored once, with its assignment (``rounds``, ``round_assignments``); its projects are ordinary
``studio_projects`` rows whose ``round`` and ``coder`` columns say whose project each is. Reads that treat a
round as one coding of the sample (the coded dataset) ask :meth:`RoundTables.round_leads` which project
stands for the round.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Mapping, Sequence

from .base import Connection, utcnow


class RoundTables(Connection):
    """Rounds, their assignments and their per-coder projects."""

    def round_row(self, round_no: int) -> sqlite3.Row | None:
        """The round's row (columns of ``rounds``), or None if there is none of that number."""
        cur = self.db.execute("SELECT * FROM rounds WHERE round = ?", (round_no,))
        cur.row_factory = sqlite3.Row
        return cur.fetchone()

    def round_numbers(self) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT round FROM rounds ORDER BY round")]

    def round_assignment(self, round_no: int) -> dict[int, tuple[str, ...]]:
        """item id -> its coders (sorted) in the round."""
        out: dict[int, list[str]] = {}
        for item, coder in self.db.execute("SELECT item_id, coder FROM round_assignments WHERE round = ?"
                                           " ORDER BY item_id, coder", (round_no,)):
            out.setdefault(item, []).append(coder)
        return {item: tuple(coders) for item, coders in out.items()}

    def add_round(self, round_no: int, *, sample_id: str | None, forum_id: int, unit: str, codebooks: Sequence,
                  coders: Sequence[str], per_item: int, seed: int, mechanism: str,
                  assignment: Mapping[int, Sequence[str]]) -> None:
        """Record a new round and its assignment in one transaction."""
        with self.transaction():
            self.db.execute("INSERT INTO rounds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            (round_no, sample_id, forum_id, unit, json.dumps([list(c) for c in codebooks]),
                             json.dumps(sorted(coders)), per_item, seed, mechanism, utcnow()))
            self.db.executemany("INSERT INTO round_assignments VALUES (?, ?, ?)",
                                [(round_no, item, coder) for item, who in assignment.items() for coder in who])

    def set_round_codebooks(self, round_no: int, codebooks: Sequence) -> None:
        self.db.execute("UPDATE rounds SET codebooks = ? WHERE round = ?",
                        (json.dumps([list(c) for c in codebooks]), round_no))

    def set_project_round(self, project: int, round_no: int, coder: str | None) -> None:
        """Mark a pushed project as ``coder``'s project of the round (``studio_projects.round`` and ``coder``)."""
        self.db.execute("UPDATE studio_projects SET round = ?, coder = ? WHERE id = ?", (round_no, coder, project))

    def round_projects(self, round_no: int) -> list[sqlite3.Row]:
        """The round's per-coder projects (columns of ``studio_projects``), by coder."""
        cur = self.db.execute("SELECT * FROM studio_projects WHERE round = ? AND coder IS NOT NULL"
                              " ORDER BY coder, id", (round_no,))
        cur.row_factory = sqlite3.Row
        return cur.fetchall()

    def round_leads(self) -> dict[int, int]:
        """project id -> the project that stands for its round (the round's lowest project id); a project
        outside blind rounds stands for itself."""
        leads = {p: p for (p,) in self.db.execute("SELECT id FROM studio_projects")}
        leads.update(self.db.execute(
            "SELECT p.id, (SELECT min(q.id) FROM studio_projects q WHERE q.round = p.round AND q.coder IS NOT NULL)"
            " FROM studio_projects p WHERE p.round IS NOT NULL AND p.coder IS NOT NULL"))
        return leads
