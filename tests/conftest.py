"""Shared fixtures: a generated forum served by the fake Discourse server on loopback; the reference data.

No test may skip (tests/no_skips.py fails the session if one does): a test whose data is missing fails
with a message that names the missing path.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from forumkit.fakes.discourse import FakeDiscourse, generate_forum

from .no_skips import pytest_collectreport, pytest_runtest_logreport, pytest_sessionfinish, pytest_terminal_summary  # noqa: F401
# The real Label Studio fixtures, defined here once: a module importing them would get its own session-scoped copies
# (a template migrated and a server started per module, a minute or more each), so modules import only helpers.
from .studio_fixtures import studio, studio_template  # noqa: F401

# The Ctrl-C tests send SIGINT to forumkit processes that this one starts. A shell that runs the suite as a
# background job (`.ci/run &`) starts it with SIGINT ignored, and a child inherits "ignored" through exec:
# catch it here instead, so that every child starts with the default (a caught signal resets on exec).
signal.signal(signal.SIGINT, signal.default_int_handler)

#: The SANER 2024 replication package: CI always has ../shared beside the clone (its licence is not stated,
#: so it is not copied into the repository; see ../shared/data/saner2024/SOURCE.md).
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "saner2024"
SHARED_FILES = ("Challenges.csv", "Benefits.csv", "Codebook.xlsx", "All_Codes.csv",
                "Hub_Model_Types_Over_Time_Created.csv", "card_data_stats_months_created.csv")


def require_files(folder: Path, names: tuple[str, ...]) -> Path:
    """``folder`` when it holds every file named; else the test FAILS (never skips), naming what is missing."""
    missing = [str(folder / name) for name in names if not (folder / name).is_file()]
    if missing:
        pytest.fail(f"reference data is missing: {', '.join(missing)}; put the SANER 2024 replication package's "
                    f"files in {folder} (../shared/data/saner2024 beside the checkout, as on CI)", pytrace=False)
    return folder


@pytest.fixture(scope="session")
def saner2024() -> Path:
    """The replication package's folder, every file the tests read checked."""
    return require_files(SHARED, SHARED_FILES)


#: Mark a test (or a module, as pytestmark) that reads the replication package.
needs_saner2024 = pytest.mark.usefixtures("saner2024")


@pytest.fixture
def forum():
    """A small generated forum (fresh per test: tests mutate it)."""
    return generate_forum(n_topics=90, seed=7)


@pytest.fixture
def server(forum):
    with FakeDiscourse(forum) as srv:
        yield srv


def scrape_cli(url: str, db: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `forumkit scrape` as a user would, in its own process."""
    cmd = [sys.executable, "-m", "forumkit", "scrape", url, "--db", str(db), "--rate", "0", "-q",
           "--backoff", "0.05", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})


def store_view(db: Path) -> dict:
    """The store's live rows in the shape of FakeForum.ground_truth(), for exact comparison."""
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    tags: dict[int, list[str]] = {}
    for r in con.execute("SELECT topic_id, tag FROM topic_tags ORDER BY tag"):
        tags.setdefault(r["topic_id"], []).append(r["tag"])
    view = {
        "categories": {r["id"]: {"id": r["id"], "name": r["name"], "slug": r["slug"],
                                 "parent_category_id": r["parent_id"]}
                       for r in con.execute("SELECT * FROM categories")},
        "topics": {r["id"]: {
            "id": r["id"], "title": r["title"], "slug": r["slug"], "category_id": r["category_id"],
            "created_at": r["created_at"], "bumped_at": r["bumped_at"], "last_posted_at": r["last_posted_at"],
            "posts_count": r["posts_count"], "highest_post_number": r["highest_post_number"], "views": r["views"],
            "like_count": r["like_count"], "tags": tags.get(r["id"], []),
            "has_accepted_answer": bool(r["has_accepted_answer"]),
            "accepted_answer_post_number": r["accepted_answer_post_number"], "closed": bool(r["closed"]),
            "archived": bool(r["archived"]), "pinned": bool(r["pinned"]), "user_id": r["user_id"]}
            for r in con.execute("SELECT * FROM topics WHERE removed_at IS NULL")},
        "posts": {r["id"]: {
            "id": r["id"], "topic_id": r["topic_id"], "post_number": r["post_number"], "post_type": r["post_type"],
            "user_id": r["user_id"], "username": r["username"], "created_at": r["created_at"],
            "updated_at": r["updated_at"], "version": r["version"], "reply_to_post_number": r["reply_to_post_number"],
            "like_count": r["like_count"], "cooked": r["cooked"], "hidden": bool(r["hidden"]),
            "user_deleted": bool(r["user_deleted"]), "accepted_answer": bool(r["accepted_answer"]),
            "staff": bool(r["author_staff"]), "admin": bool(r["author_admin"]),
            "moderator": bool(r["author_moderator"])}
            for r in con.execute("SELECT * FROM posts WHERE removed_at IS NULL")},
    }
    con.close()
    return view


def assert_matches_truth(db: Path, forum, *, only_topics: set[int] | None = None) -> None:
    """The store holds exactly what an anonymous visitor of the forum can see (or of some topics)."""
    truth = forum.ground_truth()
    got = store_view(db)
    if only_topics is not None:
        truth["topics"] = {k: v for k, v in truth["topics"].items() if k in only_topics}
        truth["posts"] = {k: v for k, v in truth["posts"].items() if v["topic_id"] in only_topics}
    assert got["categories"] == truth["categories"]
    assert set(got["topics"]) == set(truth["topics"])
    bad_topics = {tid: _diff(got["topics"][tid], t) for tid, t in truth["topics"].items() if got["topics"][tid] != t}
    assert not bad_topics, f"{len(bad_topics)} topics differ, e.g. {list(bad_topics.items())[:3]}"
    assert set(got["posts"]) == set(truth["posts"])
    bad_posts = {pid: _diff(got["posts"][pid], p) for pid, p in truth["posts"].items() if got["posts"][pid] != p}
    assert not bad_posts, f"{len(bad_posts)} posts differ, e.g. {list(bad_posts.items())[:3]}"


def _diff(got: dict, want: dict) -> dict:
    return {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}


def paths(server, prefix: str = "") -> list[str]:
    return [r.path for r in server.requests if r.path.startswith(prefix)]


# -- the package as users install it: a wheel, in a fresh virtual environment (built once per session) -----------

ROOT = Path(__file__).resolve().parents[1]


def run_clean(cmd: list[str], cwd: Path, timeout: float = 1200) -> subprocess.CompletedProcess:
    """Run ``cmd`` without this checkout on the path (no PYTHONPATH, no active venv); it must succeed."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert res.returncode == 0, f"{' '.join(map(str, cmd))}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res


def _source_copy(dest: Path) -> Path:
    """The checkout's files as a clone would have them (tracked and new, not ignored), without build debris."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        src = ROOT / name
        if src.is_file() and not src.is_symlink():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """forumkit's wheel, built from a clean copy of the checkout."""
    work = tmp_path_factory.mktemp("wheel")
    source = _source_copy(work / "source")
    run_clean([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(source)],
              cwd=work)
    (found,) = (work / "dist").glob("forumkit-*.whl")
    return found


@dataclass(frozen=True)
class WheelVenv:
    """A fresh virtual environment with the wheel and its runtime dependencies only."""

    root: Path
    python: Path
    forumkit: Path


@pytest.fixture(scope="session")
def wheel_venv(wheel, tmp_path_factory) -> WheelVenv:
    """The wheel installed in a fresh venv outside the checkout, as the README installs it (PyTorch's CPU build
    first, so that sentence-transformers does not pull a CUDA one). Shared by the session's tests: they must
    not install anything into it."""
    base = tmp_path_factory.mktemp("wheel-venv")
    venv = base / "venv"
    run_clean([sys.executable, "-m", "venv", str(venv)], cwd=base)
    python = venv / "bin" / "python"
    run_clean([str(python), "-m", "pip", "install", "-q", "torch==2.13.0"], cwd=base)
    run_clean([str(python), "-m", "pip", "install", "-q", str(wheel)], cwd=base)
    return WheelVenv(venv, python, venv / "bin" / "forumkit")


# -- Shared expensive setup (one per session) ---------------------------------------------------------------
# Several modules read the store `forumkit demo` builds; one demo run serves them all (each test copies the
# store before writing to it). Commands whose process-level behaviour a test does not check (signals, the
# environment of a fresh interpreter, a working folder) run in this process through `cli`, which spares an
# interpreter start and the command line's imports per call.

@pytest.fixture(scope="session")
def demo_workdir(tmp_path_factory) -> Path:
    """The folder of one `forumkit demo --stop-after sample` run (sample.db, the exports, the sample); read it,
    never write to it."""
    workdir = tmp_path_factory.mktemp("demo")
    done = subprocess.run([sys.executable, "-m", "forumkit", "demo", "--workdir", str(workdir), "-q",
                           "--stop-after", "sample"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return workdir


class _StderrLog(logging.StreamHandler):
    """A log handler that writes to whatever sys.stderr is when a record comes (the runner swaps it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def cli(*args: object, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the `forumkit` command in this process: the exit status, stdout and stderr apart, as from a process.

    Rich reads COLUMNS while it prints (80 without it, as in a process with no terminal). ``env`` reaches what
    reads os.environ while the command runs, not what a library read once at its import.
    """
    from typer.testing import CliRunner

    from forumkit.cli import app

    argv = [str(a) for a in args]
    before = Path.cwd()
    handler = _StderrLog()  # what forumkit.cli.main sets up: warnings as lines on stderr, where a test sees them
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.WARNING)
    logging.getLogger().addHandler(handler)
    if cwd is not None:
        os.chdir(cwd)
    try:
        res = CliRunner().invoke(app, argv, env=env, terminal_width=200)
    finally:
        os.chdir(before)
        logging.getLogger().removeHandler(handler)
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception
    return subprocess.CompletedProcess(["forumkit", *argv], res.exit_code, res.stdout, res.stderr)


def scrape_here(url: str, db: Path, *args: str) -> subprocess.CompletedProcess:
    """`forumkit scrape` with scrape_cli's options, in this process (for tests that need no process of its own)."""
    return cli("scrape", url, "--db", db, "--rate", "0", "-q", "--backoff", "0.05", *args)
