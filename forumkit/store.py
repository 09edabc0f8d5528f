"""The embedded SQLite store: schema, idempotent upserts, crawl state.

All SQL of forumkit lives here (exports in :mod:`forumkit.export`). Rows are
keyed on the forum's own ids (``forum_id`` + Discourse id), so storing the
same thing twice changes nothing, and a crawl killed at any point leaves a
store whose every transaction is complete. The schema is documented in
docs/schema.md; ``SCHEMA_VERSION`` is stored in ``PRAGMA user_version``.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from .discourse.parse import ParsedPost
from .discourse.records import Category, Post, Topic, User
from .errors import StoreError

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS forums (
    id          INTEGER PRIMARY KEY,
    url         TEXT NOT NULL UNIQUE,      -- base URL, no trailing slash
    added_at    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS categories (
    forum_id    INTEGER NOT NULL REFERENCES forums(id),
    id          INTEGER NOT NULL,
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL,
    parent_id   INTEGER,
    description TEXT,
    topic_count INTEGER,
    post_count  INTEGER,
    position    INTEGER,
    read_restricted INTEGER NOT NULL DEFAULT 0,
    definition_topic_id INTEGER,           -- the category's "About the ..." topic
    PRIMARY KEY (forum_id, id)
);
CREATE TABLE IF NOT EXISTS users (
    forum_id    INTEGER NOT NULL REFERENCES forums(id),
    id          INTEGER NOT NULL,
    username    TEXT NOT NULL,
    name        TEXT,
    trust_level INTEGER,
    admin       INTEGER,
    moderator   INTEGER,
    staff       INTEGER,                   -- as last seen; posts keep the flags at posting time
    PRIMARY KEY (forum_id, id)
);
CREATE TABLE IF NOT EXISTS topics (
    forum_id    INTEGER NOT NULL REFERENCES forums(id),
    id          INTEGER NOT NULL,
    category_id INTEGER,
    title       TEXT NOT NULL,
    slug        TEXT NOT NULL,
    user_id     INTEGER,                   -- original poster
    created_at  TEXT NOT NULL,             -- ISO-8601 UTC, as the forum gives it
    bumped_at   TEXT,
    last_posted_at TEXT,
    posts_count INTEGER NOT NULL,          -- as the forum counts them
    reply_count INTEGER,
    highest_post_number INTEGER,
    views       INTEGER,
    like_count  INTEGER,
    has_accepted_answer INTEGER NOT NULL DEFAULT 0,
    accepted_answer_post_number INTEGER,
    closed      INTEGER NOT NULL DEFAULT 0,
    archived    INTEGER NOT NULL DEFAULT 0,
    pinned      INTEGER NOT NULL DEFAULT 0,
    archetype   TEXT,
    fetched_at  TEXT,                      -- last time its posts were fetched topic by topic
    removed_at  TEXT,                      -- set when the forum stopped serving it (404)
    PRIMARY KEY (forum_id, id)
);
CREATE TABLE IF NOT EXISTS tags (
    forum_id    INTEGER NOT NULL REFERENCES forums(id),
    name        TEXT NOT NULL,
    PRIMARY KEY (forum_id, name)
);
CREATE TABLE IF NOT EXISTS topic_tags (
    forum_id    INTEGER NOT NULL,
    topic_id    INTEGER NOT NULL,
    tag         TEXT NOT NULL,
    PRIMARY KEY (forum_id, topic_id, tag)
);
CREATE TABLE IF NOT EXISTS posts (
    forum_id    INTEGER NOT NULL REFERENCES forums(id),
    id          INTEGER NOT NULL,          -- stable across moves between topics
    topic_id    INTEGER NOT NULL,
    post_number INTEGER NOT NULL,
    post_type   INTEGER NOT NULL,          -- 1 regular, 2 moderator action, 3 small action
    user_id     INTEGER,
    username    TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT,
    version     INTEGER NOT NULL,
    reply_to_post_number INTEGER,
    like_count  INTEGER NOT NULL,
    reads       INTEGER,
    hidden      INTEGER NOT NULL,          -- flagged by the community: cooked is a placeholder
    user_deleted INTEGER NOT NULL,         -- withdrawn by its author: cooked is a placeholder
    accepted_answer INTEGER NOT NULL,
    author_staff INTEGER NOT NULL,
    author_admin INTEGER NOT NULL,
    author_moderator INTEGER NOT NULL,
    author_trust_level INTEGER,
    cooked      TEXT NOT NULL,             -- the forum's HTML, unchanged
    text        TEXT NOT NULL,             -- own words: no code blocks, no quotes of other posts
    code        TEXT NOT NULL,             -- text of the code blocks
    code_blocks INTEGER NOT NULL,
    inline_code INTEGER NOT NULL,
    quotes      INTEGER NOT NULL,
    links       INTEGER NOT NULL,
    images      INTEGER NOT NULL,
    oneboxes    TEXT NOT NULL,             -- JSON list of URLs
    fetched_at  TEXT NOT NULL,
    removed_at  TEXT,                      -- set when its topic no longer lists it
    PRIMARY KEY (forum_id, id)
);
CREATE INDEX IF NOT EXISTS posts_by_topic ON posts (forum_id, topic_id, post_number);
CREATE TABLE IF NOT EXISTS model_mentions (
    forum_id    INTEGER NOT NULL,
    post_id     INTEGER NOT NULL,
    topic_id    INTEGER NOT NULL,
    model       TEXT NOT NULL,             -- canonical name from the vocabulary
    in_title    INTEGER NOT NULL,          -- mentions in the topic title (first posts only)
    in_text     INTEGER NOT NULL,
    in_code     INTEGER NOT NULL,
    PRIMARY KEY (forum_id, post_id, model)
);
CREATE INDEX IF NOT EXISTS mentions_by_topic ON model_mentions (forum_id, topic_id);
CREATE TABLE IF NOT EXISTS crawl_runs (
    id          INTEGER PRIMARY KEY,
    forum_id    INTEGER NOT NULL REFERENCES forums(id),
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL,             -- running | done
    options     TEXT NOT NULL,             -- JSON of the crawl options
    phase       TEXT NOT NULL,             -- categories | listing | posts | topics | done
    cursor      TEXT NOT NULL DEFAULT '{}',-- JSON: where the phase stopped
    requests    INTEGER NOT NULL DEFAULT 0,
    since_bumped_at TEXT,                  -- previous run's watermark on topic activity
    since_post_id INTEGER,                 -- previous run's highest post id
    max_bumped_at TEXT,                    -- this run's watermark, committed when it finishes
    max_post_id INTEGER
);
CREATE TABLE IF NOT EXISTS samples (
    id          TEXT PRIMARY KEY,          -- the sample's name, e.g. 'round1'
    forum_id    INTEGER NOT NULL REFERENCES forums(id),
    unit        TEXT NOT NULL,             -- topic | post
    design      TEXT NOT NULL,             -- JSON: method, strata, allocation, seed, size computation,
                                           --   filters, population size of each stratum
    created_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sample_items (
    sample_id   TEXT NOT NULL REFERENCES samples(id),
    item_id     INTEGER NOT NULL,          -- topic id or post id, as the sample's unit says
    stratum     TEXT,                      -- category or period the item was drawn from
    weight      REAL NOT NULL,             -- stratum population / stratum sample size
    position    INTEGER NOT NULL,          -- order of the draw
    PRIMARY KEY (sample_id, item_id)
);
CREATE TABLE IF NOT EXISTS codebooks (
    id          TEXT NOT NULL,
    version     TEXT NOT NULL,
    content     TEXT NOT NULL,             -- the codebook as JSON, as it was when used
    added_at    TEXT NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE TABLE IF NOT EXISTS studio_projects (
    id          INTEGER PRIMARY KEY,
    url         TEXT NOT NULL,             -- Label Studio server
    project_id  INTEGER NOT NULL,          -- its project id there
    title       TEXT NOT NULL,
    forum_id    INTEGER NOT NULL REFERENCES forums(id),
    sample_id   TEXT REFERENCES samples(id),
    unit        TEXT NOT NULL,             -- topic | post
    codebooks   TEXT NOT NULL,             -- JSON list of [codebook id, version]
    created_at  TEXT NOT NULL,
    UNIQUE (url, project_id)
);
CREATE TABLE IF NOT EXISTS studio_tasks (
    project     INTEGER NOT NULL REFERENCES studio_projects(id),
    item_id     INTEGER NOT NULL,
    task_id     INTEGER NOT NULL,          -- Label Studio task id
    PRIMARY KEY (project, item_id)
);
CREATE TABLE IF NOT EXISTS annotations (
    project     INTEGER NOT NULL REFERENCES studio_projects(id),
    annotation_id INTEGER NOT NULL,        -- Label Studio annotation id
    task_id     INTEGER NOT NULL,
    item_id     INTEGER NOT NULL,
    coder       TEXT NOT NULL,             -- the annotator's e-mail in Label Studio
    annotated_at TEXT,                     -- ISO-8601 UTC of the last change
    lead_time   REAL,                      -- seconds spent, as Label Studio measured
    was_cancelled INTEGER NOT NULL,        -- skipped by the coder
    memo        TEXT,
    pulled_at   TEXT NOT NULL,
    PRIMARY KEY (project, annotation_id)
);
CREATE TABLE IF NOT EXISTS coded (
    project     INTEGER NOT NULL,
    annotation_id INTEGER NOT NULL,
    code_id     TEXT NOT NULL,             -- stable id from the codebook
    codebook_id TEXT NOT NULL,
    category    TEXT NOT NULL,             -- top-level category name
    subcategory TEXT,                      -- deepest name below it, if any
    PRIMARY KEY (project, annotation_id, code_id),
    FOREIGN KEY (project, annotation_id) REFERENCES annotations(project, annotation_id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS hub_models (
    endpoint    TEXT NOT NULL,             -- Hub base URL, e.g. https://huggingface.co
    id          TEXT NOT NULL,             -- repo id, "org/name"
    author      TEXT,
    created_at  TEXT,                      -- ISO-8601 UTC as the Hub gives it; NULL when missing
    created_known INTEGER NOT NULL,        -- 0 when missing or the pre-2022-03 placeholder 2022-03-02T23:29:04.000Z
    last_modified TEXT,
    pipeline_tag TEXT,
    library_name TEXT,
    model_type  TEXT,                      -- config.model_type when exposed
    base_models TEXT NOT NULL,             -- JSON list of base model ids (card base_model or baseModels)
    tags        TEXT NOT NULL,             -- JSON list
    downloads   INTEGER,
    likes       INTEGER,
    has_card    INTEGER NOT NULL,          -- card metadata (README front matter) present
    card_data   TEXT,                      -- that metadata as JSON, as served
    license     TEXT,                      -- card license, or the license: tag
    languages   TEXT NOT NULL,             -- JSON list
    datasets    TEXT NOT NULL,             -- JSON list
    has_metrics INTEGER NOT NULL,          -- card metrics or model-index evaluation results
    has_model_index INTEGER NOT NULL,
    fetched_at  TEXT NOT NULL,
    PRIMARY KEY (endpoint, id)
);
CREATE INDEX IF NOT EXISTS hub_models_created ON hub_models (endpoint, created_at);
CREATE TABLE IF NOT EXISTS hub_runs (
    id          INTEGER PRIMARY KEY,
    endpoint    TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL,             -- running | done
    options     TEXT NOT NULL,             -- JSON of the crawl's filters
    next_url    TEXT,                      -- the Link cursor URL to resume from
    since_modified TEXT,                   -- previous run's watermark: stop below it
    max_modified TEXT,                     -- this run's watermark, committed when it finishes
    models      INTEGER NOT NULL DEFAULT 0,
    malformed   INTEGER NOT NULL DEFAULT 0,
    requests    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS hub_malformed (
    endpoint    TEXT NOT NULL,
    run_id      INTEGER NOT NULL,
    model_id    TEXT,                      -- NULL when the entry has no id
    problem     TEXT NOT NULL,             -- what was wrong, one line
    raw         TEXT NOT NULL              -- the entry as served (JSON)
);
CREATE TABLE IF NOT EXISTS topic_queue (
    forum_id    INTEGER NOT NULL,
    topic_id    INTEGER NOT NULL,
    reason      TEXT NOT NULL,             -- new | changed | bumped | recheck | definition
    PRIMARY KEY (forum_id, topic_id)
);
"""


def utcnow() -> str:
    """Now as the ISO-8601 UTC string the store uses for its own timestamps."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class TopicState:
    """What the store knows of a topic, to tell whether a listing shows a change."""

    posts_count: int
    highest_post_number: int | None
    bumped_at: str | None
    last_posted_at: str | None


@dataclass(slots=True)
class CrawlRun:
    id: int
    forum_id: int
    options: dict
    phase: str
    cursor: dict
    requests: int
    since_bumped_at: str | None
    since_post_id: int | None
    max_bumped_at: str | None
    max_post_id: int | None
    started_at: str


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(bool(value))


class Store:
    """A forumkit SQLite database. Use as a context manager, or call close()."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise StoreError(f"{self.path} has schema version {version}, this forumkit reads {SCHEMA_VERSION}",
                                 hint="upgrade forumkit, or use a new --db file")
            self.db.executescript(SCHEMA)  # every table IF NOT EXISTS: adds tables newer releases brought
            if version == 0:
                self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open {self.path} as a forumkit store: {exc}") from exc
        self._in_tx = False

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all (kill -9 safe, thanks to WAL)."""
        if self._in_tx:
            yield
            return
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:  # "database is locked" after the 30 s busy timeout
            raise StoreError(f"{self.path} is busy: {exc}",
                             hint="another forumkit process is writing to it; wait for it to finish") from exc
        self._in_tx = True
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")
        finally:
            self._in_tx = False

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Read-only helper for callers that need a quick look (tests, summaries)."""
        cur = self.db.execute(sql, params)
        cur.row_factory = sqlite3.Row
        return cur.fetchall()

    # -- forums and categories ------------------------------------------------

    def forum_id(self, url: str, *, create: bool = True) -> int:
        url = url.rstrip("/")
        row = self.db.execute("SELECT id FROM forums WHERE url = ?", (url,)).fetchone()
        if row:
            return row[0]
        if not create:
            raise StoreError(f"{self.path} holds no data of {url}")
        with self.transaction():
            return self.db.execute("INSERT INTO forums (url, added_at) VALUES (?, ?)", (url, utcnow())).lastrowid

    def forums(self) -> list[tuple[int, str]]:
        return [(r[0], r[1]) for r in self.db.execute("SELECT id, url FROM forums ORDER BY id")]

    def upsert_categories(self, forum_id: int, categories: Iterable[Category]) -> None:
        self.db.executemany(
            """INSERT INTO categories VALUES (?,?,?,?,?,?,?,?,?,?,?)
               ON CONFLICT (forum_id, id) DO UPDATE SET name=excluded.name, slug=excluded.slug,
               parent_id=excluded.parent_id, description=excluded.description, topic_count=excluded.topic_count,
               post_count=excluded.post_count, position=excluded.position,
               read_restricted=excluded.read_restricted, definition_topic_id=excluded.definition_topic_id""",
            [(forum_id, c.id, c.name, c.slug, c.parent_id, c.description, c.topic_count, c.post_count,
              c.position, int(c.read_restricted), c.definition_topic_id) for c in categories],
        )

    def categories(self, forum_id: int) -> list[Category]:
        rows = self.db.execute(
            "SELECT id, name, slug, parent_id, description, topic_count, post_count, position, read_restricted,"
            " definition_topic_id FROM categories WHERE forum_id = ? ORDER BY id", (forum_id,))
        return [Category(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bool(r[8]), r[9]) for r in rows]

    # -- users, topics, tags --------------------------------------------------

    def upsert_users(self, forum_id: int, users: Iterable[User]) -> None:
        """Listings give users without flags: keep the flags a post told us earlier."""
        self.db.executemany(
            """INSERT INTO users VALUES (?,?,?,?,?,?,?,?)
               ON CONFLICT (forum_id, id) DO UPDATE SET username=excluded.username,
               name=COALESCE(excluded.name, users.name),
               trust_level=COALESCE(excluded.trust_level, users.trust_level),
               admin=COALESCE(excluded.admin, users.admin),
               moderator=COALESCE(excluded.moderator, users.moderator),
               staff=COALESCE(excluded.staff, users.staff)""",
            [(forum_id, u.id, u.username, u.name, u.trust_level, _flag(u.admin), _flag(u.moderator),
              _flag(u.staff)) for u in users],
        )

    def topic_states(self, forum_id: int, topic_ids: Sequence[int]) -> dict[int, TopicState]:
        if not topic_ids:
            return {}
        marks = ",".join("?" * len(topic_ids))
        rows = self.db.execute(
            f"SELECT id, posts_count, highest_post_number, bumped_at, last_posted_at FROM topics"
            f" WHERE forum_id = ? AND id IN ({marks})", (forum_id, *topic_ids))
        return {r[0]: TopicState(r[1], r[2], r[3], r[4]) for r in rows}

    def upsert_topics(self, forum_id: int, topics: Sequence[Topic]) -> None:
        """Store topics and their tags. The accepted answer's post number is kept if known."""
        self.db.executemany(
            """INSERT INTO topics (forum_id, id, category_id, title, slug, user_id, created_at, bumped_at,
                 last_posted_at, posts_count, reply_count, highest_post_number, views, like_count,
                 has_accepted_answer, closed, archived, pinned, archetype)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
               ON CONFLICT (forum_id, id) DO UPDATE SET category_id=excluded.category_id, title=excluded.title,
               slug=excluded.slug, user_id=COALESCE(excluded.user_id, topics.user_id),
               created_at=excluded.created_at, bumped_at=COALESCE(excluded.bumped_at, topics.bumped_at),
               last_posted_at=excluded.last_posted_at, posts_count=excluded.posts_count,
               reply_count=excluded.reply_count, highest_post_number=excluded.highest_post_number,
               views=excluded.views, like_count=excluded.like_count,
               has_accepted_answer=excluded.has_accepted_answer,
               accepted_answer_post_number=CASE WHEN excluded.has_accepted_answer
                   THEN topics.accepted_answer_post_number END,
               closed=excluded.closed, archived=excluded.archived, pinned=excluded.pinned,
               archetype=excluded.archetype, removed_at=NULL""",
            [(forum_id, t.id, t.category_id, t.title, t.slug, t.user_id, t.created_at, t.bumped_at,
              t.last_posted_at, t.posts_count, t.reply_count, t.highest_post_number, t.views, t.like_count,
              int(t.has_accepted_answer), int(t.closed), int(t.archived), int(t.pinned), t.archetype)
             for t in topics],
        )
        tagged = [(forum_id, t.id, tag) for t in topics for tag in t.tags]
        self.db.executemany(
            "DELETE FROM topic_tags WHERE forum_id = ? AND topic_id = ?", [(forum_id, t.id) for t in topics])
        self.db.executemany("INSERT OR IGNORE INTO tags VALUES (?, ?)", {(f, tag) for f, _, tag in tagged})
        self.db.executemany("INSERT INTO topic_tags VALUES (?, ?, ?)", tagged)

    def set_topic_fetched(self, forum_id: int, topic_id: int, accepted_answer_post_number: int | None) -> None:
        self.db.execute(
            "UPDATE topics SET fetched_at = ?, accepted_answer_post_number = ? WHERE forum_id = ? AND id = ?",
            (utcnow(), accepted_answer_post_number, forum_id, topic_id))

    def mark_topic_removed(self, forum_id: int, topic_id: int) -> None:
        now = utcnow()
        self.db.execute("UPDATE topics SET removed_at = ? WHERE forum_id = ? AND id = ?", (now, forum_id, topic_id))
        self.db.execute("UPDATE posts SET removed_at = ? WHERE forum_id = ? AND topic_id = ? AND removed_at IS NULL",
                        (now, forum_id, topic_id))

    def topic_ids(self, forum_id: int) -> set[int]:
        return {r[0] for r in self.db.execute("SELECT id FROM topics WHERE forum_id = ?", (forum_id,))}

    # -- posts ----------------------------------------------------------------

    def post_versions(self, forum_id: int, post_ids: Sequence[int]) -> dict[int, tuple]:
        """post id -> (topic_id, version, updated_at, likes, accepted, hidden, user_deleted) of stored posts.

        What can change on a post without a new version: likes, acceptance, hiding, withdrawal.
        """
        if not post_ids:
            return {}
        marks = ",".join("?" * len(post_ids))
        rows = self.db.execute(
            f"SELECT id, topic_id, version, updated_at, like_count, accepted_answer, hidden, user_deleted FROM posts"
            f" WHERE forum_id = ? AND removed_at IS NULL AND id IN ({marks})", (forum_id, *post_ids))
        return {r[0]: tuple(r[1:]) for r in rows}

    def upsert_posts(self, forum_id: int, posts: Sequence[Post], parsed: Sequence[ParsedPost],
                     mentions: Sequence[dict[str, tuple[int, int, int]]]) -> None:
        """Store posts with their parsed text and model mentions (model -> in_title, in_text, in_code)."""
        now = utcnow()
        self.db.executemany(
            """INSERT OR REPLACE INTO posts VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,NULL)""",
            [(forum_id, p.id, p.topic_id, p.post_number, p.post_type, p.user_id, p.username, p.created_at,
              p.updated_at, p.version, p.reply_to_post_number, p.like_count, p.reads, int(p.hidden),
              int(p.user_deleted), int(bool(p.accepted_answer)), int(p.staff), int(p.admin), int(p.moderator),
              p.trust_level, p.cooked, x.text, x.code, x.code_blocks, x.inline_code, x.quotes, x.links,
              x.images, json.dumps(list(x.oneboxes)), now)
             for p, x in zip(posts, parsed)],
        )
        self.db.executemany("DELETE FROM model_mentions WHERE forum_id = ? AND post_id = ?",
                            [(forum_id, p.id) for p in posts])
        self.db.executemany(
            "INSERT INTO model_mentions VALUES (?,?,?,?,?,?,?)",
            [(forum_id, p.id, p.topic_id, model, *counts)
             for p, found in zip(posts, mentions) for model, counts in found.items()],
        )
        self.upsert_users(forum_id, [u for u in (p.author for p in posts) if u is not None])

    def topic_post_summary(self, forum_id: int, topic_id: int) -> tuple[int, int | None, bool, str | None]:
        """(stored posts, highest post number, has an accepted post, latest created_at) of a topic."""
        row = self.db.execute(
            "SELECT count(*), max(post_number), max(accepted_answer), max(created_at) FROM posts"
            " WHERE forum_id = ? AND topic_id = ? AND removed_at IS NULL", (forum_id, topic_id)).fetchone()
        return row[0], row[1], bool(row[2]), row[3]

    def accepted_post_number(self, forum_id: int, topic_id: int) -> int | None:
        row = self.db.execute(
            "SELECT post_number FROM posts WHERE forum_id = ? AND topic_id = ? AND accepted_answer = 1"
            " AND removed_at IS NULL", (forum_id, topic_id)).fetchone()
        return row[0] if row else None

    def mark_posts_removed(self, forum_id: int, topic_id: int, keep_ids: Iterable[int]) -> int:
        """Posts of a topic that its stream no longer lists are kept, marked removed."""
        keep = set(keep_ids)
        stored = [r[0] for r in self.db.execute(
            "SELECT id FROM posts WHERE forum_id = ? AND topic_id = ? AND removed_at IS NULL", (forum_id, topic_id))]
        gone = [(utcnow(), forum_id, pid) for pid in stored if pid not in keep]
        self.db.executemany("UPDATE posts SET removed_at = ? WHERE forum_id = ? AND id = ?", gone)
        return len(gone)

    # -- crawl state ----------------------------------------------------------

    def open_run(self, forum_id: int) -> CrawlRun | None:
        row = self.db.execute(
            "SELECT id FROM crawl_runs WHERE forum_id = ? AND status = 'running' ORDER BY id DESC LIMIT 1",
            (forum_id,)).fetchone()
        return self._run(row[0]) if row else None

    def finished_runs(self, forum_id: int) -> list[CrawlRun]:
        """Finished crawl runs of a forum, newest first."""
        rows = self.db.execute(
            "SELECT id FROM crawl_runs WHERE forum_id = ? AND status = 'done' ORDER BY id DESC", (forum_id,))
        return [self._run(r[0]) for r in rows.fetchall()]

    def _run(self, run_id: int) -> CrawlRun:
        r = self.db.execute(
            "SELECT id, forum_id, options, phase, cursor, requests, since_bumped_at, since_post_id,"
            " max_bumped_at, max_post_id, started_at FROM crawl_runs WHERE id = ?", (run_id,)).fetchone()
        return CrawlRun(r[0], r[1], json.loads(r[2]), r[3], json.loads(r[4]), r[5], r[6], r[7], r[8], r[9], r[10])

    def start_run(self, forum_id: int, options: dict, previous: CrawlRun | None,
                  recheck: Sequence[int] = ()) -> CrawlRun:
        """A new running crawl, incremental from ``previous`` if given, with its recheck queue: one transaction."""
        with self.transaction():
            run_id = self.db.execute(
                "INSERT INTO crawl_runs (forum_id, started_at, status, options, phase, since_bumped_at,"
                " since_post_id, max_bumped_at, max_post_id) VALUES (?, ?, 'running', ?, 'categories', ?, ?, ?, ?)",
                (forum_id, utcnow(), json.dumps(options), *(
                    (previous.max_bumped_at, previous.max_post_id) * 2 if previous else (None,) * 4))).lastrowid
            self.queue_topics(forum_id, [(tid, "recheck") for tid in recheck])
        return self._run(run_id)

    def save_run(self, run: CrawlRun) -> None:
        """Persist the run's progress; call inside the transaction that stored the data it covers."""
        self.db.execute(
            "UPDATE crawl_runs SET phase = ?, cursor = ?, requests = ?, max_bumped_at = ?, max_post_id = ?"
            " WHERE id = ?",
            (run.phase, json.dumps(run.cursor), run.requests, run.max_bumped_at, run.max_post_id, run.id))

    def finish_run(self, run: CrawlRun) -> None:
        run.phase = "done"
        with self.transaction():
            self.save_run(run)
            self.db.execute("UPDATE crawl_runs SET status = 'done', finished_at = ? WHERE id = ?",
                            (utcnow(), run.id))

    def queue_topics(self, forum_id: int, items: Iterable[tuple[int, str]]) -> None:
        """Queue topics for a topic-by-topic fetch; a topic already queued keeps its first reason."""
        self.db.executemany("INSERT OR IGNORE INTO topic_queue VALUES (?, ?, ?)",
                            [(forum_id, tid, reason) for tid, reason in items])

    def queued_topics(self, forum_id: int) -> list[tuple[int, str]]:
        return [(r[0], r[1]) for r in self.db.execute(
            "SELECT topic_id, reason FROM topic_queue WHERE forum_id = ? ORDER BY topic_id", (forum_id,))]

    def dequeue_topic(self, forum_id: int, topic_id: int) -> None:
        self.db.execute("DELETE FROM topic_queue WHERE forum_id = ? AND topic_id = ?", (forum_id, topic_id))

    def recently_active_topics(self, forum_id: int, after: str) -> list[int]:
        return [r[0] for r in self.db.execute(
            "SELECT id FROM topics WHERE forum_id = ? AND removed_at IS NULL AND last_posted_at >= ?",
            (forum_id, after))]

    # -- summaries ------------------------------------------------------------

    def counts(self, forum_id: int | None = None) -> dict[str, int]:
        """Rows per table (live topics and posts only), for summaries and tests."""
        where, args = ("WHERE forum_id = ?", (forum_id,)) if forum_id is not None else ("", ())
        live = f"{where} {'AND' if where else 'WHERE'} removed_at IS NULL"
        out = {}
        for table, cond in (("categories", where), ("topics", live), ("posts", live), ("users", where),
                            ("tags", where), ("model_mentions", where)):
            out[table] = self.db.execute(f"SELECT count(*) FROM {table} {cond}", args).fetchone()[0]
        return out
