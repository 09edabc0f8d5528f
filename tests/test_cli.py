"""The command line as a user runs it: exports, errors and exit codes, paths, help, the demo, the schema doc."""

from __future__ import annotations

import inspect
import json
import os
import re
import sqlite3
import subprocess
import sys
import typing
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from forumkit.cli import app
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


@pytest.mark.parametrize("args, says, code", [
    (["scrape", "{url}", "--db", "{db}", "--since", "last year"], "--since 'last year' is not a date", 2),
    (["scrape", "{url}", "--db", "{db}", "--categories", "no-such-category"], "no category 'no-such-category'", 2),
    (["export", "posts", "--db", "{missing}", "--out", "{out}"], "does not exist", 1),
    (["export", "replies", "--db", "{db}", "--out", "{out}"], "unknown table 'replies'", 2),
    (["export", "posts", "--db", "{db}", "--format", "xlsx", "--out", "{out}"], "unknown format 'xlsx'", 2),
    (["scrape", "http://127.0.0.1:9", "--db", "{db2}", "--retries", "0"], "http://127.0.0.1:9/robots.txt failed", 1),
    (["stats", "--db", "{notadb}"], "cannot open", 1),
    (["export", "posts", "--db", "{db}", "--out", "{folder}"], "is a folder", 2),
    (["agreement", "--db", "{missing}"], "does not exist", 1),
])
def test_bad_input_gives_one_line_error(scraped, server, tmp_path, args, says, code):
    """Usage errors (a bad option value, whoever finds it) exit 2 as in Click; other errors exit 1."""
    notadb = tmp_path / "notes.db"
    notadb.write_text("this is not a database\n" * 50)
    values = {"url": server.url, "db": str(scraped), "missing": str(tmp_path / "nope.db"),
              "out": str(tmp_path / "x.csv"), "db2": str(tmp_path / "other.db"), "notadb": str(notadb),
              "folder": str(tmp_path)}
    res = forumkit(*[a.format(**values) for a in args])
    assert res.returncode == code, res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], res.stderr
    assert "Traceback" not in res.stderr


@pytest.fixture
def coded_csv(tmp_path) -> Path:
    path = tmp_path / "coded.csv"
    path.write_text("item,code,date\n1,CH.SPACES,2023-01-05\n2,CH.API_USAGE,2023-02-05\n", encoding="utf-8")
    return path


# Every option whose value forumkit or Click can reject, given a bad value (and what the one error line must
# name): exit 2, no traceback, nothing created.
BAD_VALUES = [
    (["scrape", "--db", "{db2}", "--rate", "fast"], "--rate"),
    (["scrape", "--db", "{db2}", "--max-topics", "0"], "--max-topics"),
    (["scrape", "--db", "{db2}", "--until", "someday"], "--until 'someday' is not a date"),
    (["stats", "--db", "{db}", "--bogus"], "--bogus"),
    (["export", "mentions", "--db", "{db}", "--format", "xml", "--out", "{out}"], "unknown format 'xml'"),
    (["export", "coded", "--db", "{db}", "--project", "one", "--out", "{out}"], "--project"),
    (["sample", "--db", "{db}", "--name", "r", "--strata", "colour"], "'colour'"),
    (["sample", "--db", "{db}", "--name", "r", "--unit", "thread"], "'thread'"),
    (["sample", "--db", "{db}", "--name", "r", "--allocation", "fair"], "'fair'"),
    (["sample", "--db", "{db}", "--name", "r", "--since", "yesterday"], "'yesterday' is not a date"),
    (["sample", "--db", "{db}", "--name", "r", "--seed", "-1"], "--seed"),
    (["sample", "--db", "{db}", "--name", "r", "--size", "5", "--margin", "0.1"], "--size fixes the sample size"),
    (["samples", "--db", "{db}", "--out", "{out}"], "--out needs --name"),
    (["aggregate", "--coded", "{coded}", "--date-col", "date", "--period", "week", "--out", "{out}"], "'week'"),
    (["aggregate", "--coded", "{coded}", "--date-col", "date", "--level", "family", "--out", "{out}"], "'family'"),
    (["aggregate", "--coded", "{coded}", "--date-col", "date", "--confidence", "2", "--out", "{out}"],
     "confidence 2.0 is not between 0 and 1"),
    (["aggregate", "--coded", "{coded}", "--date-col", "date", "--out", "{folder}/table.xlsx"], "unknown suffix"),
    (["aggregate", "--coded", "{coded}", "--date-col", "date", "--view", "mine", "--out", "{out}"], "--view"),
    (["aggregate", "--coded", "{coded}", "--date-col", "when", "--out", "{out}"], "no column 'when'"),
    (["aggregate", "--out", "{out}"], "nothing to aggregate"),
    (["agreement", "--db", "{db}", "--boot", "-1"], "--boot"),
    (["agreement", "--db", "{db}", "--confidence", "high"], "--confidence"),
    (["report", "--db", "{db}", "--period", "fortnight", "--out", "{folder}/report"], "unknown period 'fortnight'"),
    (["hub", "crawl", "--db", "{db2}", "--since", "last year"], "--since 'last year' is not a date"),
    (["hub", "crawl", "--db", "{db2}", "--limit", "0"], "--limit"),
    (["hub", "export", "--db", "{db}", "--format", "xlsx", "--out", "{out}"], "unknown format 'xlsx'"),
    (["hub", "trends", "--db", "{db}", "--top", "0"], "--top"),
    (["codebook", "config", "hf-challenges", "--unit", "thread"], "unknown unit 'thread'"),
    (["fake", "serve", "--port", "http"], "--port"),
    (["demo", "--quiet", "--loud"], "--loud"),
]


@pytest.mark.parametrize("args, names", BAD_VALUES, ids=[" ".join(a[:2] + a[-3:-1]) for a, _ in BAD_VALUES])
def test_a_bad_option_value_exits_2_everywhere(scraped, tmp_path, coded_csv, args, names):
    values = {"db": str(scraped), "db2": str(tmp_path / "other.db"), "out": str(tmp_path / "x.csv"),
              "folder": str(tmp_path), "coded": str(coded_csv)}
    res = CliRunner().invoke(app, [a.format(**values) for a in args], terminal_width=200)
    assert res.exit_code == 2, (res.exit_code, res.output, res.exception)
    assert names in res.output, res.output
    assert "Traceback" not in res.output and isinstance(res.exception, SystemExit)
    assert not (tmp_path / "other.db").exists()  # nothing was created on the way to the error


def _commands() -> list[tuple[str, object]]:
    """Every command of the app with its function, as `group command`."""
    found = []

    def walk(typer_app, prefix):
        for info in typer_app.registered_commands:
            found.append((f"{prefix}{info.name or info.callback.__name__}".strip(), info.callback))
        for group in typer_app.registered_groups:
            walk(group.typer_instance, f"{prefix}{group.name} ")

    walk(app, "")
    return found


def _is_path(hint) -> bool:
    return hint is Path or any(_is_path(a) for a in typing.get_args(hint))


def test_every_path_is_made_absolute_at_the_cli_boundary():
    """Each path option or argument of every command goes through cli/common.py's one resolver."""
    from forumkit.cli.common import _absolute_paths, _codebook_paths

    seen = 0
    for name, function in _commands():
        hints = typing.get_type_hints(inspect.unwrap(function))
        for param, value in inspect.signature(inspect.unwrap(function)).parameters.items():
            if _is_path(hints.get(param)):
                assert value.default.callback in (_absolute_paths, _codebook_paths), f"{name} {param}"
                seen += 1
    assert seen >= 30


def test_relative_paths_mean_the_current_folder(scraped, tmp_path, monkeypatch):
    """A relative --db/--out names a file of the folder the command runs in, whatever the library does after."""
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    (work / "sub" / "f.db").write_bytes(scraped.read_bytes())
    res = forumkit("export", "topics", "--db", "sub/f.db", "--out", "../out/topics.csv", cwd=work / "sub" / "..")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "out" / "topics.csv").exists()
    assert "-> ../out/topics.csv" not in res.stderr and "topics rows ->" in res.stderr


def test_out_says_file_or_folder_in_every_command():
    for name, function in _commands():
        for param in inspect.signature(inspect.unwrap(function)).parameters.values():
            info = param.default
            if "--out" in (getattr(info, "param_decls", None) or ()):
                assert re.search(r"\b(one|the one) (\.?\w+ )*(file|table)|\bfolder\b", info.help), (name, info.help)


def test_names_spelled_out_for_the_help_match_the_library():
    from forumkit.cli import export as export_cli, hub as hub_cli
    from forumkit.coding.export import EXPORTS
    from forumkit.collect.export import FORMATS
    from forumkit.collect.hub import DEFAULT_RATE

    assert export_cli.EXPORT_NAMES.split(", ") == list(EXPORTS)
    assert set(export_cli.FORMAT_NAMES.split(", ")) == set(FORMATS) == set(hub_cli.FORMAT_NAMES.split(", "))
    assert hub_cli.DEFAULT_RATE == DEFAULT_RATE


HELP_IMPORTS = """
import sys
from forumkit.cli import app
names = sys.argv[1:]
for args in ([], *[n.split() for n in names]):
    try:
        app([*args, "--help"], prog_name="forumkit")
    except SystemExit as exc:
        assert exc.code == 0, (args, exc.code)
heavy = sorted(m for m in ("pandas", "pyarrow", "numpy", "scipy", "matplotlib", "label_studio_sdk", "huggingface_hub")
               if m in sys.modules)
print("heavy:" + ",".join(heavy), file=sys.stderr)
"""


def test_help_imports_no_pandas():
    """`forumkit --help` (and every command's --help) stays fast: no pandas or pyarrow (benchmarks/help_benchmark.py)."""
    names = [name for name, _ in _commands()]
    res = subprocess.run([sys.executable, "-c", HELP_IMPORTS, *names], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stderr.splitlines()[-1] == "heavy:", f"--help imported {res.stderr}"
    assert "Usage: forumkit studio push" in res.stdout and "--codebook" in res.stdout


def test_agreement_level_is_a_hidden_alias_of_confidence():
    res = CliRunner().invoke(app, ["agreement", "--help"], terminal_width=200)
    assert "--confidence" in res.output and "--level" not in res.output
    from forumkit.cli.agreement import agreement
    params = inspect.signature(inspect.unwrap(agreement)).parameters
    assert params["level"].default.hidden and params["level"].default.param_decls == ("--level",)


def test_stats_describes_the_store(scraped):
    res = forumkit("stats", "--db", str(scraped))
    assert res.returncode == 0, res.stderr
    assert "topics" in res.stdout and "most mentioned models" in res.stdout


@pytest.mark.slow
def test_demo_runs_offline_on_the_shipped_sample(tmp_path):
    """The demo's first stages, twice in one folder (tests/test_readme.py runs the whole demo as written)."""
    res = forumkit("demo", "--workdir", str(tmp_path / "demo"), "-q", "--stop-after", "sample")
    assert res.returncode == 0, res.stderr
    res = forumkit("demo", "--workdir", str(tmp_path / "demo"), "-q", "--stop-after", "sample")  # again
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:3]] == ["[1/3] scrape", "[2/3] hub", "[3/3] sample"], res.stdout
    assert (tmp_path / "demo" / "sample-demo.csv").exists() and (tmp_path / "demo" / "label-config.xml").exists()
    wrong = forumkit("demo", "--workdir", str(tmp_path / "demo"), "--stop-after", "coding")
    assert wrong.returncode == 2 and "unknown stage 'coding'" in wrong.stderr and "Traceback" not in wrong.stderr
    with sqlite3.connect(tmp_path / "demo" / "sample.db") as con:
        topics = con.execute("SELECT count(*) FROM topics").fetchone()[0]
        months = con.execute("SELECT count(DISTINCT substr(created_at, 1, 7)) FROM topics").fetchone()[0]
    assert topics >= 200 and months >= 24
    assert pd.read_parquet(tmp_path / "demo" / "posts.parquet").shape[0] > topics


def test_shipped_codebooks_are_listed_and_usable_by_name(tmp_path, monkeypatch):
    from forumkit.coding.codebook import resolve_codebook, shipped_codebooks

    assert list(shipped_codebooks()) == ["hf-benefits", "hf-challenges"]
    res = CliRunner().invoke(app, ["codebook", "list"], terminal_width=200)
    assert res.exit_code == 0
    assert re.search(r"hf-benefits\s+│\s+HF benefits\s+│\s+1\.0\s+│\s+6\s+│\s+27", res.output)
    assert re.search(r"hf-challenges\s+│\s+HF challenges\s+│\s+1\.0\s+│\s+17\s+│\s+57", res.output)
    monkeypatch.chdir(tmp_path)
    assert resolve_codebook("hf-challenges") == resolve_codebook("hf-challenges.yaml") == shipped_codebooks()[
        "hf-challenges"]
    (tmp_path / "hf-challenges").write_text("a file of that name wins: it is a path")
    assert resolve_codebook("hf-challenges") == Path("hf-challenges")
    coded = tmp_path / "coded.csv"
    coded.write_text("item,code,date\n1,CH.SPACES,2023-01-05\n2,BE.ANNOUNCEMENTS,2023-02-05\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["aggregate", "--coded", "coded.csv", "--date-col", "date", "--codebook",
                                   "hf-benefits", "--codebook", str(shipped_codebooks()["hf-challenges"]),
                                   "--out", "by-name.csv"])
    assert res.exit_code == 0, res.output
    assert set(pd.read_csv(tmp_path / "by-name.csv")["name"]) >= {"Spaces", "Announcements"}
    res = CliRunner().invoke(app, ["codebook", "show", "hf-nope"])
    assert res.exit_code == 1 and "hf-nope does not exist" in res.output
