"""A study folder as a user makes and uses it: `forumkit init`, defaults from forumkit.toml reaching real
commands (run in their own processes, from a subfolder, with a relative path in the file), flags overriding
them, `forumkit config` naming where each setting comes from, one-line errors naming key, file and line,
and `forumkit status` on a scraped store."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from forumkit.coding.codebook import load_codebook, resolve_codebook
from forumkit.fakes.discourse import FakeDiscourse, generate_forum
from forumkit.study import SETTINGS, init_study, load_config, study_status
from forumkit.study.init import STEPS

N_TOPICS = 30


def forumkit(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "forumkit", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"})


def ok(res: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert res.returncode == 0, f"exit {res.returncode}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    assert "Traceback" not in res.stderr
    return res


def one_line_error(res: subprocess.CompletedProcess, code: int = 1) -> str:
    assert res.returncode == code, f"exit {res.returncode}\n{res.stdout}\n{res.stderr}"
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    return lines[0]


def set_key(toml: Path, section: str, key: str, value: str) -> int:
    """Write ``key = value`` in ``[section]`` as a person edits the file (replacing the key or its commented
    example); the 1-based line it is on."""
    lines = toml.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"[{section}]")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    for i in range(start + 1, end):
        if re.match(rf"^#? ?{key} = ", lines[i]):
            lines[i] = f"{key} = {value}"
            break
    else:
        i = end
        lines.insert(i, f"{key} = {value}")
    toml.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return i + 1


@pytest.fixture(scope="module")
def fake_forum():
    forum = generate_forum(n_topics=N_TOPICS, seed=5)
    with FakeDiscourse(forum) as server:
        yield forum, server


@pytest.fixture(scope="module")
def study(fake_forum, tmp_path_factory) -> Path:
    """A study whose store lies in a subfolder (a relative path in the file), scraped and sampled from a
    subfolder of the study with no --db, --sample or URL typed."""
    _, server = fake_forum
    base = tmp_path_factory.mktemp("study")
    ok(forumkit("init", "s", "--forum", server.url, cwd=base))
    folder = base / "s"
    toml = folder / "forumkit.toml"
    set_key(toml, "forum", "store", '"data/forum.db"')
    set_key(toml, "forum", "rate", "0")
    set_key(toml, "sample", "size", "8")
    (folder / "data").mkdir()
    (folder / "notes").mkdir()
    ok(forumkit("scrape", "-q", cwd=folder / "notes"))
    ok(forumkit("sample", cwd=folder / "notes"))
    return folder


def test_init_writes_the_study(tmp_path):
    res = ok(forumkit("init", "my study", "--forum", "https://discuss.pytorch.org", cwd=tmp_path))
    folder = tmp_path / "my study"
    assert "forumkit scrape" in res.stdout
    toml, readme = folder / "forumkit.toml", folder / "README.md"
    books = sorted((folder / "codebooks").glob("*.yaml"))
    assert [b.name for b in books] == ["hf-benefits.yaml", "hf-challenges.yaml"]
    for path in (toml, readme, *books):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
    for book in books:  # copies of the shipped ones, valid
        assert book.read_bytes() == resolve_codebook(book.stem).read_bytes()
        assert len(load_codebook(book)) > 10
    config = load_config(toml)
    assert config.get("forum.url") == "https://discuss.pytorch.org"
    assert config.get("codebooks.files") == books
    assert config.store() == folder / "forum.db"
    text = toml.read_text(encoding="utf-8")
    for setting in SETTINGS:  # every setting is in the file, set or as a commented example, with a comment
        assert re.search(rf"^(# )?{setting.key} = ", text, flags=re.M), setting.name
    for section in ("forum", "codebooks", "sample", "suggest", "studio", "analysis", "report"):
        assert f"\n[{section}]\n" in text
    steps = readme.read_text(encoding="utf-8")
    assert all(command in steps for command, _ in STEPS)
    assert not re.search(r"^forumkit .*--(db|sample|codebook|project)\b", steps, flags=re.M)

    before = text
    line = one_line_error(forumkit("init", "my study", cwd=tmp_path))
    assert "forumkit.toml already exists" in line
    assert toml.read_text(encoding="utf-8") == before


def test_every_setting_feeds_real_options():
    """The settings table names commands and parameters the app has (a rename would silently drop a default)."""
    from forumkit.cli.study import option_of

    for setting in SETTINGS:
        for feed in setting.feeds:
            assert option_of(feed.command, feed.param), (setting.name, feed)
            for flag in feed.unless:
                assert flag.startswith("--") and option_of(feed.command, flag[2:].replace("-", "_"))


def test_defaults_reach_the_commands_from_a_subfolder(study, fake_forum):
    forum, _ = fake_forum
    db = study / "data" / "forum.db"
    assert not (study / "notes" / "forum.db").exists() and not (study / "forum.db").exists()
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM topics WHERE removed_at IS NULL").fetchone()[0] == \
            len(forum.ground_truth()["topics"])
        assert con.execute("SELECT count(*) FROM sample_items WHERE sample_id = 'round1'").fetchone()[0] == 8
        design = con.execute("SELECT design FROM samples WHERE id = 'round1'").fetchone()[0]
    assert '"strata": "category"' in design and '"seed": 42' in design  # the file's design


def test_flags_override_the_file(study):
    notes = study / "notes"
    ok(forumkit("sample", "--name", "round2", "--size", "5", "--strata", "period", cwd=notes))
    with sqlite3.connect(study / "data" / "forum.db") as con:
        assert con.execute("SELECT count(*) FROM sample_items WHERE sample_id = 'round2'").fetchone()[0] == 5
        design = con.execute("SELECT design FROM samples WHERE id = 'round2'").fetchone()[0]
    assert '"strata": "period"' in design and '"seed": 42' in design  # the flag, and the file for the rest
    # A --db on the command line wins, relative to the folder it is typed in.
    line = one_line_error(forumkit("stats", "--db", "other.db", cwd=notes))
    assert str(notes / "other.db") in line
    # A flag that picks another source drops the file's default for the one it replaces: --texts, not the store.
    table = notes / "texts.csv"
    table.write_text("id,text\n1,my model does not load\n2,the tokenizer is slow\n", encoding="utf-8")
    ok(forumkit("suggest", "codes", "--texts", "texts.csv", "--id-col", "id", "--text-col", "text",
                "--embedder", "static", "--out", "s.csv", cwd=notes))
    assert (notes / "s.csv").read_text(encoding="utf-8").startswith('"item_id",')


def test_config_shows_each_setting_and_where_it_comes_from(study):
    toml = study / "forumkit.toml"
    line = next(n for n, text in enumerate(toml.read_text(encoding="utf-8").splitlines(), start=1)
                if text.startswith("store = "))
    shown = ok(forumkit("config", cwd=study / "notes")).stdout
    rows = {row.split("│")[1].strip(): [c.strip() for c in row.split("│")[2:-1]]
            for row in shown.splitlines() if row.startswith("│") and row.split("│")[1].strip()}
    assert rows["forum.store"][:2] == ["data/forum.db", f"forumkit.toml:{line}"]
    assert rows["forum.store"][2].startswith("--db (")
    assert rows["sample.size"][:2] == ["8", f"forumkit.toml:{_line_of(toml, 'size')}"]
    assert rows["forum.since"][1] == "default"
    assert rows["studio.project"][1] == "default" and "none yet" in rows["studio.project"][0]
    assert set(rows) == {s.name for s in SETTINGS}


def _line_of(toml: Path, key: str) -> int:
    return next(n for n, text in enumerate(toml.read_text(encoding="utf-8").splitlines(), start=1)
                if text.startswith(f"{key} = "))


@pytest.mark.parametrize("section, key, value, says, command", [
    ("sample", "sise", "3", "unknown key 'sise' in [sample]", ("stats",)),
    ("sample", "seed", '"x"', "[sample] seed must be an integer, not a string ('x')", ("config",)),
    ("codebooks", "files", '"one.yaml"', "[codebooks] files must be a list of paths (strings), not a string",
     ("studio", "status")),
    ("studio", "memo", "1", "[studio] memo must be true or false, not an integer (1)", ("status",)),
    ("sample", "margin", "0.1", "[sample] margin computes the sample size that size", ("sample",)),
])
def test_a_bad_setting_is_one_line_naming_key_file_and_line(tmp_path, section, key, value, says, command):
    init_study(tmp_path / "s")
    toml = tmp_path / "s" / "forumkit.toml"
    if key == "margin":
        set_key(toml, "sample", "size", "10")
    line = set_key(toml, section, key, value)
    error = one_line_error(forumkit(*command, cwd=tmp_path / "s"))
    assert f"{toml}:{line}: {says}" in error, error


def test_an_unknown_section_and_broken_toml_are_one_line(tmp_path):
    init_study(tmp_path / "s")
    toml = tmp_path / "s" / "forumkit.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n[sampel]\nname = 'x'\n", encoding="utf-8")
    lines = toml.read_text(encoding="utf-8").splitlines()
    error = one_line_error(forumkit("config", cwd=tmp_path / "s"))
    assert f"{toml}:{lines.index('[sampel]') + 1}: unknown section [sampel]" in error
    toml.write_text("[forum\nurl = 1\n", encoding="utf-8")
    error = one_line_error(forumkit("stats", cwd=tmp_path / "s"))
    assert f"{toml} is not valid TOML" in error and "line 1" in error


def test_without_a_study_status_and_config_say_how_to_make_one(tmp_path):
    for command in ("status", "config"):
        error = one_line_error(forumkit(command, cwd=tmp_path))
        assert f"no forumkit.toml in {tmp_path.resolve()} or any folder above it" in error
        assert "forumkit init DIR" in error
    # Other commands behave as without a study: their own defaults.
    error = one_line_error(forumkit("stats", cwd=tmp_path))
    assert f"{tmp_path / 'forum.db'} does not exist" in error


def _dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as con:
        return list(con.iterdump())


def test_status_on_a_scraped_store(study, fake_forum):
    forum, server = fake_forum
    status = study_status(load_config(study / "forumkit.toml"))
    (state,) = status.forums
    assert state.url == server.url.rstrip("/")
    assert state.topics == len(forum.ground_truth()["topics"]) and state.posts == len(forum.ground_truth()["posts"])
    assert state.last_crawl_finished is not None
    assert "round1" in {s.name for s in status.samples}
    assert [s.items for s in status.samples if s.name == "round1"] == [8]
    assert status.projects == [] and status.current_project is None and status.report is None
    assert status.next_step.startswith("forumkit suggest codes")
    db = study / "data" / "forum.db"
    before = _dump(db)
    shown = ok(forumkit("status", cwd=study / "notes")).stdout
    assert _dump(db) == before  # read-only (its bytes may change: closing checkpoints the scrape's write-ahead log)
    assert f"{state.topics} topics, {state.posts} posts; last crawl finished" in shown
    assert "round1 *" in shown and "next: forumkit suggest codes" in shown
