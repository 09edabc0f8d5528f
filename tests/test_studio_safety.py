"""Nothing lost, duplicated or leaked in Label Studio: crash-safe push, paged pull, one-line errors, secrets.

Against a real label-studio server on loopback (tests/studio_fixtures.py); the CLI runs as a subprocess.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

import pandas as pd
import pytest

from forumkit.analysis.aggregate import load as aggregate_load
from forumkit.coding import qdpx
from forumkit.coding.studio import Studio
from forumkit.coding.studio import server as studio_server
from forumkit.coding.studio.projects import project_codebooks
from forumkit.coding.studio.pull import pull
from forumkit.coding.studio.push import push
from forumkit.coding.studio.render import render_items
from forumkit.errors import StoreError
from forumkit.store import Store

from .conftest import cli
from .studio_fixtures import VENV, copy_template
from .test_studio import (BENEFITS, CHALLENGES, ROOT, annotate, exported, forum_db, forumkit,  # noqa: F401
                          leaf_codes, new_coder, one_error_line, topic_ids)

pytestmark = pytest.mark.slow
GOOD = str(ROOT / "forumkit" / "codebooks" / "hf-challenges.yaml")


def copied(db: Path, target: Path) -> Path:
    """A private copy of the shared store (forum data only: no other test's projects), ``target`` or in it."""
    target = target / "copy.db" if target.is_dir() else target
    shutil.copy(db, target)
    with sqlite3.connect(target) as con:
        for table in ("coded", "annotations", "studio_tasks", "studio_projects"):
            con.execute(f"DELETE FROM {table}")
    return target


def flat(text: str) -> str:
    """Output with its line breaks (rich wraps at the terminal width) made spaces."""
    return " ".join(text.split())


def items_csv(path: Path, items: list[int]) -> Path:
    pd.DataFrame({"item_id": items}).to_csv(path, index=False)
    return path


# -- crash-safe push -------------------------------------------------------------------------------------------------

def here(*args: str, token: str | None = None) -> subprocess.CompletedProcess:
    """The `forumkit` command in this process (tests/conftest.py: cli), the token in its environment or none there;
    the tests of secrets, working folders and processes run it in its own process (test_studio.forumkit)."""
    return cli(*args, env={"FORUMKIT_STUDIO_TOKEN": token})


def kill_when(proc: subprocess.Popen, ready: Callable[[], bool], timeout: float = 180.0) -> bool:
    """SIGKILL ``proc`` as soon as ``ready()``; False if it ended first."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if ready():
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return proc.returncode == -signal.SIGKILL
        time.sleep(0.02)
    assert proc.poll() is not None, "the push neither finished nor reached the moment to kill it"
    return False


def test_push_killed_at_random_moments_ends_with_one_project_and_one_task_per_item(studio, forum_db, tmp_path):
    token = studio.login().token
    client = Studio(studio.url, token)
    items = topic_ids(forum_db, 40)
    suggested = items[::2]
    leaves = leaf_codes(CHALLENGES, 3)
    suggestions = tmp_path / "suggestions.csv"
    pd.DataFrame({"item_id": suggested, "code_id": [leaves[i % 3] for i in range(len(suggested))],
                  "score": 0.8}).to_csv(suggestions, index=False)
    title = "killed push"
    command = [sys.executable, "-m", "forumkit", "studio", "push", "--db", str(forum_db), "--items",
               str(items_csv(tmp_path / "items.csv", items)), "--codebook", GOOD, "--suggestions", str(suggestions),
               "--title", title, "--url", studio.url, "--batch", "3"]
    env = {**os.environ, "FORUMKIT_STUDIO_TOKEN": token}

    def projects() -> list[int]:
        return [int(p.id) for p in client.sdk.projects.list(page_size=100) if p.title == title]

    def tasks_at_least(n: int) -> Callable[[], bool]:
        return lambda: bool(projects()) and client.task_count(projects()[0]) >= n

    rng = random.Random(9)
    thresholds = sorted(rng.sample(range(2, len(items) - 4), 4))
    delays = [rng.uniform(0.5, 5.0) for _ in range(2)]
    # (what, when to kill: a test of the moment, given the start time)
    moments: list[tuple[str, Callable[[float], Callable[[], bool]]]] = [
        ("project created", lambda _: lambda: bool(projects()))]
    moments += [(f"{n} tasks imported", lambda _, n=n: tasks_at_least(n)) for n in thresholds]
    moments += [(f"{d:.2f} s after start", lambda t, d=d: lambda: time.monotonic() >= t + d) for d in delays]
    kills, during_import = [], 0
    for name, moment in moments:
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if kill_when(proc, moment(time.monotonic())):
            kills.append(name)
            count = client.task_count(projects()[0]) if projects() else 0
            during_import += 0 < count < len(items)
    assert len(kills) >= 5 and during_import >= 3, (kills, during_import)
    assert kills[0] == "project created"

    final = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, final.stderr
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and f"0 tasks added, {len(items)} already there" in flat(again.stdout), again.stdout

    assert len(projects()) == 1
    project_id = projects()[0]
    assert "[forumkit project " in client.sdk.projects.get(id=project_id).description
    tasks = exported(client, project_id)
    per_item = Counter(t["data"]["item_id"] for t in tasks)
    assert set(per_item) == set(items) and set(per_item.values()) == {1}
    predictions = {t["data"]["item_id"]: len(t["predictions"]) for t in tasks}
    assert predictions == {i: int(i in suggested) for i in items}
    with sqlite3.connect(forum_db) as con:
        rows = con.execute("SELECT id, project_id FROM studio_projects WHERE title = ?", (title,)).fetchall()
        assert [r[1] for r in rows] == [project_id]
        stored = dict(con.execute("SELECT item_id, task_id FROM studio_tasks WHERE project = ?", (rows[0][0],)))
    assert stored == {t["data"]["item_id"]: t["id"] for t in tasks}
    with Store(forum_db) as store:  # what the store says each task was suggested is what the tasks carry
        recorded = {(r.item_id, r.code_id) for r in store.studio_suggestions(rows[0][0])}
    item_of = {t["id"]: t["data"]["item_id"] for t in tasks}
    shown = {(item_of[p.task], p.result[0]["value"]["taxonomy"][0][-1])
             for p in client.sdk.predictions.list(project=project_id)}
    assert recorded == shown == {(item, leaves[k % 3]) for k, item in enumerate(suggested)}


def test_push_deletes_unannotated_doubles_and_raises_when_ids_go_missing(studio, forum_db, tmp_path):
    client = Studio(studio.url, studio.login().token)
    items = topic_ids(forum_db, 40)[30:34]
    db = copied(forum_db, tmp_path)
    with Store(db) as store:
        first = push(store, client, [CHALLENGES], forum_id=1, unit="topic", item_ids=items, title="doubles")
    # a push killed while the server was still importing leaves a second task of an item
    double = {"data": exported(client, first.project_id)[0]["data"]}
    client.import_tasks(first.project_id, [double])
    assert client.task_count(first.project_id) == 5
    with Store(db) as store:
        second = push(store, client, [CHALLENGES], forum_id=1, unit="topic", item_ids=items, title="doubles")
    assert (second.tasks_added, second.tasks_kept, second.doubled_items) == (0, 4, 0)
    assert sorted(t["data"]["item_id"] for t in exported(client, first.project_id)) == sorted(items)


class ShortImport(BaseHTTPRequestHandler):
    """A server that answers an import of two tasks with one task id (what forumkit must never accept)."""

    def do_GET(self) -> None:  # noqa: N802  (http.server's naming)
        self._json({"count": 0, "results": []})

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        self._json({"task_count": 2, "task_ids": [41]})

    def _json(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(201 if self.command == "POST" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def test_fewer_task_ids_than_tasks_sent_is_an_error_not_a_silent_loss():
    server = ThreadingHTTPServer(("127.0.0.1", 0), ShortImport)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = Studio(f"http://127.0.0.1:{server.server_address[1]}", "token")
        with pytest.raises(studio_server.StudioError, match="answered 1 task ids for 2 tasks imported into project 7"):
            client.import_tasks(7, [{"data": {"item_id": 1}}, {"data": {"item_id": 2}}])
    finally:
        server.shutdown()
        server.server_close()


# -- paged pull ------------------------------------------------------------------------------------------------------

def test_pull_pages_through_tasks_and_equals_the_unpaged_export(studio, forum_db, tmp_path):
    client = Studio(studio.url, studio.login().token)
    items = topic_ids(forum_db, 40)[:20]
    db = copied(forum_db, tmp_path)
    with Store(db) as store:
        result = push(store, client, [CHALLENGES, BENEFITS], forum_id=1, unit="topic", item_ids=items,
                      title="paged pull")
    codes = leaf_codes(CHALLENGES, 3) + leaf_codes(BENEFITS, 1)
    (a, a_mail), (b, b_mail) = new_coder(client), new_coder(client)
    tasks = {t["data"]["item_id"]: t["id"] for t in exported(client, result.project_id)}
    for k, item in enumerate(items):
        annotate(client, tasks[item], a, [codes[k % 4]], memo=f"memo {k}" if k % 5 == 0 else None)
        if k % 3:
            annotate(client, tasks[item], b, [codes[(k + 1) % 4], codes[k % 4]])
    client.sdk.annotations.create(id=tasks[items[0]], result=[], completed_by=b, was_cancelled=True)

    def stored() -> tuple[list, list]:
        with sqlite3.connect(db) as con:
            return (con.execute("SELECT annotation_id, task_id, item_id, coder, annotated_at, lead_time, was_cancelled,"
                                " memo FROM annotations ORDER BY annotation_id").fetchall(),
                    con.execute("SELECT annotation_id, code_id, codebook_id, category, subcategory FROM coded"
                                " ORDER BY annotation_id, code_id").fetchall())

    with Store(db) as store:
        one_page = pull(store, client, result.project, page_size=1000)
    whole = stored()
    with Store(db) as store:
        paged = pull(store, client, result.project, page_size=7)
    assert stored() == whole and paged == one_page
    emails = {a: a_mail, b: b_mail}
    truth = {(ann["id"], t["id"], t["data"]["item_id"], emails[ann["completed_by"]], int(ann["was_cancelled"]))
             for t in exported(client, result.project_id) for ann in t["annotations"]}
    assert {row[:4] + (row[6],) for row in whole[0]} == truth and len(whole[0]) == len(truth) == 34
    assert len(whole[1]) == paged.codes == 20 + 2 * 13  # coder A: one code on each item; B: two on 13 items

    res = here("studio", "pull", "--db", str(db), "--project", str(result.project), "--url", studio.url,
                   "--page-size", "7", token=studio.login().token)
    assert res.returncode == 0 and "34 annotations on 20 items" in flat(res.stdout), res.stdout + res.stderr
    assert stored() == whole


# -- one rule, one place ---------------------------------------------------------------------------------------------

def test_a_missing_codebook_snapshot_stops_every_reader_with_one_error(studio, forum_db, tmp_path):
    client = Studio(studio.url, studio.login().token)
    db = copied(forum_db, tmp_path)
    with Store(db) as store:
        result = push(store, client, [CHALLENGES, BENEFITS], forum_id=1, unit="topic",
                      item_ids=topic_ids(forum_db, 2), title="lost snapshot")
        assert [b.id for b in project_codebooks(store, result.project)] == [CHALLENGES.id, BENEFITS.id]
    with sqlite3.connect(db) as con:
        con.execute("DELETE FROM codebooks WHERE id = ?", (BENEFITS.id,))
    with Store(db) as store:
        with pytest.raises(StoreError) as one:
            project_codebooks(store, result.project)
        with pytest.raises(StoreError) as other:  # aggregation reads the same rule (it warned and went on before)
            aggregate_load.project_codebooks(store, result.project)
    assert str(one.value) == str(other.value) and f"codebook {BENEFITS.id} {BENEFITS.version}" in str(one.value)
    for command in (["studio", "pull", "--db", str(db), "--project", str(result.project), "--url", studio.url],
                    ["aggregate", "--db", str(db), "--project", str(result.project), "--out", str(tmp_path / "a.csv")]):
        line = one_error_line(here(*command, token=studio.login().token))
        assert f"codebook {BENEFITS.id} {BENEFITS.version} of project {result.project} is missing" in line


def test_label_studio_and_refi_qda_show_the_same_posts_of_an_item(forum_db, tmp_path):
    db = copied(forum_db, tmp_path)
    with sqlite3.connect(db) as con:
        topic, removed = con.execute(
            "SELECT topic_id, max(id) FROM posts WHERE removed_at IS NULL AND post_type = 1 GROUP BY topic_id"
            " HAVING count(*) >= 3 ORDER BY topic_id LIMIT 1").fetchone()
        con.execute("UPDATE posts SET removed_at = '2024-01-01T00:00:00.000Z' WHERE id = ?", (removed,))
        shown = con.execute("SELECT post_number, username FROM posts WHERE topic_id = ? AND removed_at IS NULL"
                            " AND post_type = 1 ORDER BY post_number", (topic,)).fetchall()
    with Store(db) as store:
        item = store.coding_items(1, "topic", [topic])[topic]
        html = render_items(store, 1, "topic", [topic])[topic]["html"]
        _, _, text = qdpx._items(store, 1, "topic", [topic])[topic]
    assert [(p["post_number"], p["username"]) for p in item.posts] == shown and removed not in {p["id"] for p in item.posts}
    positions = [html.index(f"#{n} <b>@{user}</b>") for n, user in shown]
    assert positions == sorted(positions) and html.count("<hr>") == len(shown)
    positions = [text.index(f"@{user}") for _, user in shown]
    assert positions == sorted(positions) and text.count("\n@") == len(shown)


# -- one-line errors -------------------------------------------------------------------------------------------------

def test_a_task_without_item_id_is_a_one_line_error(studio, forum_db, tmp_path):
    token = studio.login().token
    client = Studio(studio.url, token)
    db = copied(forum_db, tmp_path)
    items = items_csv(tmp_path / "items.csv", topic_ids(forum_db, 3))
    push_cmd = ["studio", "push", "--db", str(db), "--items", str(items), "--codebook", GOOD, "--title", "foreign",
                "--url", studio.url]
    assert here(*push_cmd, token=token).returncode == 0
    project_id = next(int(p.id) for p in client.sdk.projects.list(page_size=100) if p.title == "foreign")
    foreign = client.sdk.tasks.create(project=project_id, data={"html": "<p>made by hand</p>"})
    for command in (["studio", "pull", "--db", str(db), "--url", studio.url], push_cmd):
        line = one_error_line(here(*command, token=token))
        assert f"task {foreign.id} of Label Studio project {project_id} has no item_id" in line


def test_a_damaged_login_or_server_file_is_a_one_line_error(studio, forum_db, tmp_path):
    workdir = tmp_path / "studio"
    workdir.mkdir()
    studio_server.ServerInfo(url=studio.url, email="admin@forumkit.local", pid=1, port=1, data_dir=str(workdir),
                             log_file=str(workdir / "log"), login_file=str(workdir / "login.json")
                             ).save(workdir / "server.json")
    (workdir / "login.json").write_text('{"email": "admin@forumkit.local", "password": ')
    items = items_csv(tmp_path / "items.csv", topic_ids(forum_db, 1))
    commands = [["studio", "push", "--db", str(forum_db), "--items", str(items), "--codebook", GOOD,
                 "--workdir", str(workdir)],
                ["studio", "login", "--workdir", str(workdir)],
                ["studio", "up", "--workdir", str(workdir), "--venv", str(VENV)]]
    for command in commands:
        line = one_error_line(here(*command))
        assert f"the Label Studio login file {workdir / 'login.json'} is damaged" in line
    (workdir / "server.json").write_text("[1, 2")
    line = one_error_line(here("studio", "pull", "--db", str(forum_db), "--workdir", str(workdir)))
    assert f"{workdir / 'server.json'} is damaged" in line


# -- secrets and paths -----------------------------------------------------------------------------------------------

def test_studio_commands_from_another_folder_with_relative_paths_never_show_the_secrets(studio_template, forum_db,
                                                                                         tmp_path):
    here = tmp_path / "study"
    here.mkdir()
    (here / ".venv-studio").symlink_to(VENV)  # the README's layout: the default --venv, relative to where you are
    copy_template(studio_template, here / "forumkit-work" / "studio")  # a migrated data folder: starts in seconds
    login = studio_server.Login.load(here / "forumkit-work" / "studio" / "login.json")
    copied(forum_db, here / "hf.db")
    items_csv(here / "items.csv", topic_ids(forum_db, 3))
    runs = []

    def run(*args: str) -> subprocess.CompletedProcess:
        res = forumkit(*args, cwd=here)
        runs.append(res)
        assert res.returncode == 0, res.stdout + res.stderr
        return res

    try:
        up = run("studio", "up")  # exactly as the README says, from the study's folder
        workdir = here / "forumkit-work" / "studio"
        assert "Label Studio is up at http://127.0.0.1:" in up.stdout and login.email in up.stdout
        assert str(workdir / "login.json") in flat(up.stdout) and "forumkit studio login" in flat(up.stdout)
        for name in ("login.json", "server.json", "label-studio.log"):
            assert stat.S_IMODE((workdir / name).stat().st_mode) == 0o600, name
        info = json.loads((workdir / "server.json").read_text())
        assert Path(info["data_dir"]).is_absolute() and Path(info["login_file"]).is_absolute()
        cmdline = Path(f"/proc/{info['pid']}/cmdline").read_bytes()
        assert login.token.encode() not in cmdline and login.password.encode() not in cmdline
        status = run("studio", "status")
        assert info["url"] in status.stdout and login.email in status.stdout
        run("studio", "push", "--db", "hf.db", "--items", "items.csv", "--codebook", GOOD, "--title", "relative")
        client = Studio(info["url"], login.token)
        admin = next(user.id for user in client.sdk.users.list() if user.email == login.email)
        first = min(t["id"] for t in exported(client, 1))
        annotate(client, first, admin, leaf_codes(CHALLENGES, 1), memo="a memo")
        run("studio", "pull", "--db", "hf.db")
        run("studio", "projects", "--db", "hf.db")
        run("export", "coded", "--db", "hf.db", "--format", "csv", "--out", "coded.csv")
        run("export", "annotations", "--db", "hf.db", "--format", "csv", "--out", "annotations.csv")
        shown = forumkit("studio", "login", cwd=here)  # the one command that shows the password, when asked
        assert shown.returncode == 0 and login.password in shown.stdout and login.token not in shown.stdout
        run("studio", "down")
    finally:
        studio_server.stop(here / "forumkit-work" / "studio")
    assert "stopped" in runs[-1].stderr and forumkit("studio", "status", cwd=here).returncode == 1

    scanned = [r.stdout for r in runs] + [r.stderr for r in runs]
    for folder, dirs, files in os.walk(here):  # forumkit's files: the log, server.json, exports, the store
        dirs[:] = [d for d in dirs if d != "data"]  # not Label Studio's own database
        scanned += [(Path(folder) / f).read_bytes().decode("utf-8", errors="replace") for f in files
                    if f != "login.json" and not (Path(folder) / f).is_symlink()]
    assert len(scanned) > len(runs) * 2 + 4
    for secret in (login.token, login.password):
        assert not [text for text in scanned if secret in text]


def test_login_and_server_files_are_private_from_the_first_byte(tmp_path):
    old = os.umask(0o022)
    try:
        studio_server.Login.new().save(tmp_path / "w" / "login.json")
        studio_server.write_private(tmp_path / "w" / "server.json", "{}")
    finally:
        os.umask(old)
    for name in ("login.json", "server.json"):
        assert stat.S_IMODE((tmp_path / "w" / name).stat().st_mode) == 0o600
    assert not [p for p in (tmp_path / "w").iterdir() if p.name.endswith(".tmp")]
    assert "password" not in repr(studio_server.Login.load(tmp_path / "w" / "login.json"))


def test_studio_down_leaves_an_unrelated_process_alone(tmp_path):
    other = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        workdir = tmp_path / "studio"
        studio_server.ServerInfo(url="http://127.0.0.1:9", email="admin@forumkit.local", pid=other.pid, port=9,
                                 data_dir=str(workdir / "data"), log_file=str(workdir / "log"),
                                 login_file=str(workdir / "login.json")).save(workdir / "server.json")
        line = one_error_line(forumkit("studio", "down", "--workdir", str(workdir)))
        assert f"pid {other.pid}" in line and "sleep 300" in line and "left it alone" in line
        time.sleep(0.5)
        assert other.poll() is None
        assert forumkit("studio", "status", "--workdir", str(workdir)).returncode == 1
    finally:
        other.kill()
        other.wait()
