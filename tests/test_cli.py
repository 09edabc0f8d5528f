"""The command line as a user runs it: exports, errors, the demo, the schema documentation."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from forumkit.collect.export import TABLES, columns, schema_markdown

from .conftest import scrape_cli

ROOT = Path(__file__).resolve().parents[1]


def forumkit(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "forumkit", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env={**os.environ, "PYTHONUNBUFFERED": "1"})


@pytest.fixture
def scraped(server, tmp_path):
    db = tmp_path / "f.db"
    res = scrape_cli(server.url, db)
    assert res.returncode == 0, res.stderr
    return db


@pytest.mark.parametrize("table", list(TABLES))
@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_export_round_trips(scraped, tmp_path, table, fmt):
    out = tmp_path / f"{table}.{fmt}"
    res = forumkit("export", table, "--db", str(scraped), "--format", fmt, "--out", str(out))
    assert res.returncode == 0, res.stderr
    if fmt == "csv":
        frame = pd.read_csv(out)
    elif fmt == "parquet":
        frame = pd.read_parquet(out)
    else:
        frame = pd.read_json(out, lines=True)
    assert list(frame.columns) == [c.name for c in columns(table)]
    with sqlite3.connect(scraped) as con:
        expected = {
            "posts": "SELECT count(*) FROM posts WHERE removed_at IS NULL",
            "topics": "SELECT count(*) FROM topics WHERE removed_at IS NULL",
            "mentions": "SELECT count(*) FROM model_mentions",
        }[table]
        assert len(frame) == con.execute(expected).fetchone()[0] > 0


def test_exported_posts_keep_text_and_html(scraped, tmp_path):
    out = tmp_path / "posts.jsonl"
    assert forumkit("export", "posts", "--db", str(scraped), "--format", "jsonl", "--out", str(out),
                    "--html").returncode == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    with sqlite3.connect(scraped) as con:
        cooked = dict(con.execute("SELECT id, cooked FROM posts"))
    assert all(r["cooked"] == cooked[r["post_id"]] for r in rows)
    with_code = [r for r in rows if r["code_blocks"]]
    assert with_code and all(r["code"] for r in with_code)
    assert any(r["accepted_answer"] for r in rows) and isinstance(rows[0]["hidden"], bool)


def test_schema_doc_is_in_sync():
    assert (ROOT / "docs" / "schema.md").read_text(encoding="utf-8").strip() == schema_markdown().strip(), \
        "run: python -m forumkit.collect.export > docs/schema.md"


@pytest.mark.parametrize("args, says", [
    (["scrape", "{url}", "--db", "{db}", "--since", "last year"], "--since 'last year' is not a date"),
    (["scrape", "{url}", "--db", "{db}", "--categories", "no-such-category"], "no category 'no-such-category'"),
    (["export", "posts", "--db", "{missing}", "--out", "{out}"], "does not exist"),
    (["export", "replies", "--db", "{db}", "--out", "{out}"], "unknown table 'replies'"),
    (["export", "posts", "--db", "{db}", "--format", "xlsx", "--out", "{out}"], "unknown format 'xlsx'"),
    (["scrape", "http://127.0.0.1:9", "--db", "{db2}", "--retries", "0"], "http://127.0.0.1:9/robots.txt failed"),
    (["stats", "--db", "{notadb}"], "cannot open"),
    (["export", "posts", "--db", "{db}", "--out", "{folder}"], "is a folder"),
    (["agreement", "--db", "{missing}"], "does not exist"),
])
def test_bad_input_gives_one_line_error(scraped, server, tmp_path, args, says):
    notadb = tmp_path / "notes.db"
    notadb.write_text("this is not a database\n" * 50)
    values = {"url": server.url, "db": str(scraped), "missing": str(tmp_path / "nope.db"),
              "out": str(tmp_path / "x.csv"), "db2": str(tmp_path / "other.db"), "notadb": str(notadb),
              "folder": str(tmp_path)}
    res = forumkit(*[a.format(**values) for a in args])
    assert res.returncode == 1, res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], res.stderr
    assert "Traceback" not in res.stderr


def test_stats_describes_the_store(scraped):
    res = forumkit("stats", "--db", str(scraped))
    assert res.returncode == 0, res.stderr
    assert "topics" in res.stdout and "most mentioned models" in res.stdout


@pytest.mark.slow
def test_demo_runs_offline_on_the_shipped_sample(tmp_path):
    res = forumkit("demo", "--workdir", str(tmp_path / "demo"), "-q")
    assert res.returncode == 0, res.stderr
    res = forumkit("demo", "--workdir", str(tmp_path / "demo"), "-q")  # again, in the same folder
    assert res.returncode == 0, res.stderr
    assert "by forum category" in res.stdout and (tmp_path / "demo" / "report" / "index.html").exists()
    with sqlite3.connect(tmp_path / "demo" / "sample.db") as con:
        topics = con.execute("SELECT count(*) FROM topics").fetchone()[0]
        months = con.execute("SELECT count(DISTINCT substr(created_at, 1, 7)) FROM topics").fetchone()[0]
    assert topics >= 200 and months >= 24
    assert pd.read_parquet(tmp_path / "demo" / "posts.parquet").shape[0] > topics
