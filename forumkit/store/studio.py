"""Label Studio projects and tasks as forumkit tracks them, and the items it shows coders.

The server is the truth about which tasks exist (a push reads them back and
:meth:`StudioTables.replace_studio_tasks` mirrors them here); the store keeps
what the server cannot: which codebook versions a project was coded with
(snapshots, so a later pull or report reads the codes as they were), and the
annotations as last pulled.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Iterable, Mapping, NamedTuple, Sequence

from ..errors import StoreError
from .base import Connection, utcnow

#: Ids per ``IN (...)`` query: far below SQLite's variable limit, large enough to be fast.
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class CodingItem:
    """A topic or post as a coder sees it, in Label Studio or in a REFI-QDA export.

    ``posts`` are the stored post rows (every column of ``posts``) shown for the item: a topic's live,
    regular posts in order, or the one post of a post unit. ``created_at`` is the topic's (or the post's).
    """

    item_id: int
    title: str
    category: str | None
    created_at: str
    url: str
    posts: tuple[sqlite3.Row, ...]


class Snapshot(NamedTuple):
    """A codebook version as it was used: id, version and the codebook as JSON."""

    codebook_id: str
    version: str
    content: str


class PulledAnnotation(NamedTuple):
    """One annotation as a pull stores it (the columns of ``annotations``, in order)."""

    project: int
    annotation_id: int
    task_id: int
    item_id: int
    coder: str
    annotated_at: str | None
    lead_time: float | None
    was_cancelled: int
    memo: str | None
    pulled_at: str


class PulledCode(NamedTuple):
    """One code an annotation applied (the columns of ``coded``, in order)."""

    project: int
    annotation_id: int
    code_id: str
    codebook_id: str
    category: str
    subcategory: str | None
    codebook_version: str | None = None


class SuggestedCode(NamedTuple):
    """One suggested code of a pushed item (the columns of ``studio_suggestions`` but ``pushed_at``, in order)."""

    project: int
    item_id: int
    code_id: str
    codebook_id: str
    score: float | None
    rank: int | None
    in_set: bool
    evidence: str | None
    model_version: str


class StudioTables(Connection):
    """Label Studio projects and tasks as forumkit tracks them."""

    # -- what a push reads: samples and the forum's items -------------------------------------------

    def sample_to_push(self, sample: str) -> tuple[int, str, list[int]] | None:
        """(forum id, unit, item ids in draw order) of a saved sample, or None if there is none of that name."""
        row = self.db.execute("SELECT forum_id, unit FROM samples WHERE id = ?", (sample,)).fetchone()
        if row is None:
            return None
        items = [r[0] for r in self.db.execute(
            "SELECT item_id FROM sample_items WHERE sample_id = ? ORDER BY position", (sample,))]
        return row[0], row[1], items

    def sample_names(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT id FROM samples ORDER BY id")]

    def live_item_ids(self, forum_id: int, unit: str) -> set[int]:
        """Ids of the forum's topics (or posts) that were not removed: what can be coded."""
        table = {"topic": "topics", "post": "posts"}[unit]
        return {r[0] for r in self.db.execute(
            f"SELECT id FROM {table} WHERE forum_id = ? AND removed_at IS NULL", (forum_id,))}

    def coding_items(self, forum_id: int, unit: str, item_ids: Sequence[int]) -> dict[int, CodingItem]:
        """item id -> the item as coders see it; ids the store does not hold are absent.

        The one loader behind Label Studio's task data and the REFI-QDA sources, so that both show the
        same posts of the same items.
        """
        forum_url = dict(self.db.execute("SELECT id, url FROM forums")).get(forum_id, "")
        out: dict[int, CodingItem] = {}
        for start in range(0, len(item_ids), _CHUNK):
            chunk = list(item_ids[start:start + _CHUNK])
            marks = ",".join("?" * len(chunk))
            if unit == "topic":
                posts: dict[int, list[sqlite3.Row]] = {}
                for row in self._rows(f"SELECT * FROM posts WHERE forum_id = ? AND topic_id IN ({marks})"
                                      f" AND removed_at IS NULL AND post_type = 1 ORDER BY topic_id, post_number",
                                      (forum_id, *chunk)):
                    posts.setdefault(row["topic_id"], []).append(row)
                for t in self._rows(
                        f"SELECT t.id, t.title, t.slug, t.created_at, c.name AS category FROM topics t"
                        f" LEFT JOIN categories c ON c.forum_id = t.forum_id AND c.id = t.category_id"
                        f" WHERE t.forum_id = ? AND t.id IN ({marks})", (forum_id, *chunk)):
                    out[t["id"]] = CodingItem(t["id"], t["title"], t["category"], t["created_at"],
                                              f"{forum_url}/t/{t['slug']}/{t['id']}",
                                              tuple(posts.get(t["id"], ())))
            elif unit == "post":
                for p in self._rows(
                        f"SELECT p.*, t.title AS topic_title, t.slug AS topic_slug, c.name AS category FROM posts p"
                        f" JOIN topics t ON t.forum_id = p.forum_id AND t.id = p.topic_id LEFT JOIN categories c"
                        f" ON c.forum_id = t.forum_id AND c.id = t.category_id"
                        f" WHERE p.forum_id = ? AND p.id IN ({marks})", (forum_id, *chunk)):
                    out[p["id"]] = CodingItem(p["id"], p["topic_title"], p["category"], p["created_at"],
                                              f"{forum_url}/t/{p['topic_slug']}/{p['topic_id']}/{p['post_number']}",
                                              (p,))
            else:
                raise StoreError(f"unknown unit '{unit}'", hint="use topic or post")
        return out

    # -- projects -----------------------------------------------------------------------------------

    def studio_projects(self) -> list[sqlite3.Row]:
        """Every pushed project (columns of ``studio_projects``), by forumkit's id."""
        return self._rows("SELECT * FROM studio_projects ORDER BY id")

    def studio_project_titled(self, url: str, title: str) -> sqlite3.Row | None:
        """The project this store pushed to server ``url`` under ``title``, if any."""
        rows = self._rows("SELECT * FROM studio_projects WHERE url = ? AND title = ? ORDER BY id", (url, title))
        return rows[0] if rows else None

    def add_studio_project(self, *, url: str, project_id: int, title: str, forum_id: int, sample_id: str | None,
                           unit: str, codebooks: Sequence[Snapshot]) -> int:
        """Record a project the server holds, with the codebook versions it is coded with; forumkit's id."""
        with self.transaction():
            self._save_snapshots(codebooks)
            return self.db.execute(
                "INSERT INTO studio_projects (url, project_id, title, forum_id, sample_id, unit, codebooks,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (url, project_id, title, forum_id, sample_id, unit, _versions(codebooks), utcnow())).lastrowid

    def set_studio_project_codebooks(self, project: int, codebooks: Sequence[Snapshot]) -> None:
        """The codebooks a project is coded with from now on (a later pull reads annotations with them)."""
        with self.transaction():
            self._save_snapshots(codebooks)
            self.db.execute("UPDATE studio_projects SET codebooks = ? WHERE id = ?", (_versions(codebooks), project))

    def project_codebook_snapshots(self, project: int) -> list[dict]:
        """The codebooks (as dicts) a project was pushed with, in push order.

        A missing snapshot is an error, never a silent skip: codes of that codebook could not be read.
        """
        row = self.db.execute("SELECT codebooks FROM studio_projects WHERE id = ?", (project,)).fetchone()
        if row is None:
            raise StoreError(f"no project {project} in {self.path}", hint="see `forumkit studio projects`")
        books = []
        for book_id, version in json.loads(row[0]):
            found = self.db.execute("SELECT content FROM codebooks WHERE id = ? AND version = ?",
                                    (book_id, version)).fetchone()
            if found is None:
                raise StoreError(f"codebook {book_id} {version} of project {project} is missing from {self.path}",
                                 hint="push the project again with that codebook file (forumkit studio push "
                                      "... --codebook FILE) to store its snapshot")
            books.append(json.loads(found[0]))
        return books

    def last_project_of_sample(self, sample: str) -> int | None:
        """forumkit's id of the project last pushed for ``sample`` (the newest), or None if none was."""
        row = self.db.execute("SELECT id FROM studio_projects WHERE sample_id = ? ORDER BY created_at DESC, id DESC"
                              " LIMIT 1", (sample,)).fetchone()
        return None if row is None else int(row[0])

    def studio_project_progress(self) -> list[sqlite3.Row]:
        """Each project with how far its coding is (for `forumkit status`): tasks; pulled annotations (skipped
        ones apart); coders; items coded by one coder or more and by two or more; the last pull; items pushed
        with suggestions."""
        return self._rows(
            "SELECT p.id, p.title, p.url, p.project_id, p.sample_id, p.created_at,"
            " (SELECT count(*) FROM studio_tasks t WHERE t.project = p.id) AS tasks,"
            " (SELECT count(*) FROM annotations a WHERE a.project = p.id AND a.was_cancelled = 0) AS annotations,"
            " (SELECT count(*) FROM annotations a WHERE a.project = p.id AND a.was_cancelled = 1) AS skipped,"
            " (SELECT count(DISTINCT coder) FROM annotations a WHERE a.project = p.id AND a.was_cancelled = 0)"
            "   AS coders,"
            " (SELECT count(DISTINCT item_id) FROM annotations a WHERE a.project = p.id AND a.was_cancelled = 0)"
            "   AS items_coded,"
            " (SELECT count(*) FROM (SELECT item_id FROM annotations a WHERE a.project = p.id AND a.was_cancelled = 0"
            "   GROUP BY item_id HAVING count(DISTINCT coder) >= 2)) AS items_coded_twice,"
            " (SELECT max(pulled_at) FROM annotations a WHERE a.project = p.id) AS last_pull,"
            " (SELECT count(DISTINCT item_id) FROM studio_suggestions s WHERE s.project = p.id) AS suggested_items"
            " FROM studio_projects p ORDER BY p.id")

    def studio_project_overview(self) -> list[sqlite3.Row]:
        """Each project with its number of tasks and of pulled annotations (for `forumkit studio projects`)."""
        return self._rows(
            "SELECT p.id, p.title, p.url, p.project_id, p.unit, p.sample_id,"
            " (SELECT count(*) FROM studio_tasks t WHERE t.project = p.id) AS tasks,"
            " (SELECT count(*) FROM annotations a WHERE a.project = p.id) AS annotations"
            " FROM studio_projects p ORDER BY p.id")

    # -- tasks and annotations ------------------------------------------------------------------------

    def studio_tasks(self, project: int) -> dict[int, int]:
        """item id -> Label Studio task id, as last read back from the server or imported."""
        return dict(self.db.execute("SELECT item_id, task_id FROM studio_tasks WHERE project = ?", (project,)))

    def replace_studio_tasks(self, project: int, tasks: Mapping[int, int]) -> None:
        """Mirror the server's item -> task map of a project (what it holds now, nothing else)."""
        with self.transaction():
            self.db.execute("DELETE FROM studio_tasks WHERE project = ?", (project,))
            self.db.executemany("INSERT INTO studio_tasks VALUES (?, ?, ?)",
                                [(project, item, task) for item, task in tasks.items()])

    def add_studio_tasks(self, project: int, tasks: Iterable[tuple[int, int]]) -> None:
        """Record (item id, task id) pairs the server just created."""
        with self.transaction():
            self.db.executemany("INSERT OR REPLACE INTO studio_tasks VALUES (?, ?, ?)",
                                [(project, item, task) for item, task in tasks])

    def replace_annotations(self, project: int, annotations: Sequence[PulledAnnotation],
                            codes: Sequence[PulledCode]) -> None:
        """A pull mirrors the server: the project's annotations and codes replaced in one transaction."""
        with self.transaction():
            self.db.execute("DELETE FROM coded WHERE project = ?", (project,))
            self.db.execute("DELETE FROM annotations WHERE project = ?", (project,))
            self.db.executemany("INSERT INTO annotations VALUES (?,?,?,?,?,?,?,?,?,?)", annotations)
            self.db.executemany("INSERT OR IGNORE INTO coded (project, annotation_id, code_id, codebook_id, category, subcategory,"
                                " codebook_version) VALUES (?,?,?,?,?,?,?)", codes)

    # -- suggestions shown with the tasks ------------------------------------------------------------------

    def record_studio_suggestions(self, project: int, item_ids: Sequence[int],
                                  rows: Iterable[SuggestedCode]) -> None:
        """What the items about to be imported are suggested: their earlier rows (of a push stopped before its
        import) are replaced, so the store holds what the tasks created now show."""
        now = utcnow()
        with self.transaction():
            ids = list(item_ids)
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start:start + _CHUNK]
                self.db.execute(f"DELETE FROM studio_suggestions WHERE project = ? AND item_id IN "
                                f"({','.join('?' * len(chunk))})", (project, *chunk))
            self.db.executemany("INSERT INTO studio_suggestions VALUES (?,?,?,?,?,?,?,?,?,?)",
                                [(*row[:6], int(row.in_set), *row[7:], now) for row in rows])

    def studio_suggestions(self, project: int) -> list[SuggestedCode]:
        """Every code suggested for the project's items, by item then code."""
        return [SuggestedCode(*row[:6], bool(row[6]), *row[7:]) for row in self.db.execute(
            "SELECT project, item_id, code_id, codebook_id, score, rank, in_set, evidence, model_version"
            " FROM studio_suggestions WHERE project = ? ORDER BY item_id, code_id", (project,))]

    def has_studio_suggestions(self, project: int) -> bool:
        """Whether any task of the project was pushed with suggestions (its labeling config shows them)."""
        return self.db.execute("SELECT 1 FROM studio_suggestions WHERE project = ? LIMIT 1",
                               (project,)).fetchone() is not None

    # -- helpers --------------------------------------------------------------------------------------

    def _save_snapshots(self, codebooks: Sequence[Snapshot]) -> None:
        """Keep each codebook version as it was first used (a version's content never changes)."""
        now = utcnow()
        self.db.executemany("INSERT OR IGNORE INTO codebooks VALUES (?, ?, ?, ?)",
                            [(cb.codebook_id, cb.version, cb.content, now) for cb in codebooks])

    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        cur = self.db.execute(sql, params)
        cur.row_factory = sqlite3.Row
        return cur.fetchall()


def _versions(codebooks: Sequence[Snapshot]) -> str:
    return json.dumps([[cb.codebook_id, cb.version] for cb in codebooks])
