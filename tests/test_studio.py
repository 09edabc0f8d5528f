"""The Label Studio round trip against a real label-studio server on loopback."""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

from forumkit.coding.agreement import Agreement
from forumkit.coding.codebook import load_codebook, taxonomy_name
from forumkit.coding.coded import annotation_rows, coded_items
from forumkit.collect.discourse.client import DiscourseClient
from forumkit.collect.discourse.crawl import Crawler
from forumkit.fakes.discourse import FakeDiscourse, generate_forum
from forumkit.store import Store
from forumkit.coding.studio import Login, Studio, StudioError
from forumkit.coding.studio.pull import pull
from forumkit.coding.studio.push import push

from .browser import headless_chromium
from .studio_fixtures import copy_template

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
CHALLENGES = load_codebook(ROOT / "forumkit" / "codebooks" / "hf-challenges.yaml")
BENEFITS = load_codebook(ROOT / "forumkit" / "codebooks" / "hf-benefits.yaml")
_users = itertools.count(1)


@pytest.fixture(scope="module")
def forum_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("coding") / "forum.db"
    forum = generate_forum(n_topics=40, seed=11)
    forum.add_post(next(iter(forum.ground_truth()["topics"])), next(iter(forum.ground_truth()["users"])),
                   '<p>look<script>alert("x")</script><img src=x onerror="alert(1)"></p>')
    with FakeDiscourse(forum) as server, Store(db) as store, DiscourseClient(server.url, rate=0) as client:
        Crawler(client, store).run()
    return db


def topic_ids(db: Path, n: int) -> list[int]:
    with sqlite3.connect(db) as con:
        return [r[0] for r in con.execute("SELECT id FROM topics WHERE pinned = 0 ORDER BY id LIMIT ?", (n,))]


def new_coder(studio_client: Studio) -> tuple[int, str]:
    n = next(_users)
    email = f"coder{n}-{os.getpid()}@study.example"
    user = studio_client.sdk.users.create(email=email, username=f"coder{n}p{os.getpid()}", first_name="C",
                                          last_name=str(n))
    return int(user.id), email


def annotate(studio_client: Studio, task_id: int, user_id: int, codes: list[str], *, memo: str | None = None,
             by_name: bool = False) -> None:
    """What a coder does in the web UI: choose taxonomy paths (aliases = code ids), maybe write a memo."""
    result = []
    for book in (CHALLENGES, BENEFITS):
        paths = [[(c.name if by_name else c.id) for c in book.path_of(code)] for code in codes if code in book]
        if paths:
            result.append({"from_name": taxonomy_name(book), "to_name": "item", "type": "taxonomy",
                           "value": {"taxonomy": paths}})
    if memo:
        result.append({"from_name": "memo", "to_name": "item", "type": "textarea", "value": {"text": [memo]}})
    studio_client.sdk.annotations.create(id=task_id, result=result, completed_by=user_id, lead_time=30.0)


def exported(client: Studio, project_id: int) -> list[dict]:
    """Every task of a project in one request (Label Studio's JSON export): the unpaged truth the tests check."""
    return json.loads(b"".join(client.sdk.projects.exports.download_sync(id=project_id, export_type="JSON",
                                                                         download_all_tasks=True)))


def task_map(db: Path, project: int) -> dict[int, int]:
    with sqlite3.connect(db) as con:
        return dict(con.execute("SELECT item_id, task_id FROM studio_tasks WHERE project = ?", (project,)))


def leaf_codes(book, n: int) -> list[str]:
    return [code.id for _, code in book.codes() if code.is_leaf][:n]


def test_push_two_coders_pull_and_agreement(studio, forum_db, tmp_path):
    client = Studio(studio.url, studio.login().token)
    items = topic_ids(forum_db, 8)
    codes = leaf_codes(CHALLENGES, 3) + leaf_codes(BENEFITS, 1)
    suggestions = pd.DataFrame({"item_id": [items[0], items[0], items[1]],
                                "code_id": [codes[0], codes[3], codes[1]], "score": [0.9, 0.5, 0.7]})
    with Store(forum_db) as store:
        result = push(store, client, [CHALLENGES, BENEFITS], forum_id=1, unit="topic", item_ids=items,
                      title="two coders", coders=2, suggestions=suggestions)
    assert result.created and result.tasks_added == 8 and result.predictions == 2

    on_server = {t["data"]["item_id"]: t for t in exported(client, result.project_id)}
    assert set(on_server) == set(items)
    assert [len(on_server[i]["predictions"]) for i in items] == [1, 1] + [0] * 6
    pred = list(client.sdk.predictions.list(task=on_server[items[0]]["id"]))[0]
    assert pred.score == pytest.approx(0.7)
    taxonomy_paths = {tuple(p) for r in pred.result for p in r["value"]["taxonomy"]}
    assert taxonomy_paths == {tuple(c.id for c in CHALLENGES.path_of(codes[0])),
                              tuple(c.id for c in BENEFITS.path_of(codes[3]))}
    assert all("<script" not in t["data"]["html"] and "onerror" not in t["data"]["html"] for t in on_server.values())
    top = {item: (CHALLENGES.path_of(code)[-1].name, score) for item, code, score in ((items[0], codes[0], 0.9),
                                                                                       (items[1], codes[1], 0.7))}
    check_data_manager(client, studio.login(), forum_db, result.project_id, on_server, tmp_path, top=top)

    # Two coders code the 8 topics; coder B names codes by name (paths of names), coder A by id.
    a_id, a_mail = new_coder(client)
    b_id, b_mail = new_coder(client)
    c1, c2, c3, b1 = codes
    plan_a = [[c1], [c1, c2], [], [c3], [c1, b1], [c2], [c3], [b1]]
    plan_b = [[c1], [c2], [], [c3], [c1], [c2, c3], [c1], [b1]]
    tasks = task_map(forum_db, result.project)
    for item, ca, cb in zip(items, plan_a, plan_b):
        annotate(client, tasks[item], a_id, ca, memo="clear case" if item == items[0] else None)
        annotate(client, tasks[item], b_id, cb, by_name=True)

    with Store(forum_db) as store:
        pulled = pull(store, client, result.project)
        again = pull(store, client, result.project)  # a second pull replaces, never duplicates
        rows = annotation_rows(store, result.project)
        consensus = coded_items(store, result.project)
    assert pulled.annotations == again.annotations == 16 and set(pulled.coders) == {a_mail, b_mail}
    assert len(rows) == len(rows.drop_duplicates(["annotation_id", "code_id"]))
    got = {(r.item_id, r.coder): set() for r in rows.itertuples()}
    for r in rows.dropna(subset=["code_id"]).itertuples():
        got[(r.item_id, r.coder)].add(r.code_id)
    assert got == {**{(i, a_mail): set(c) for i, c in zip(items, plan_a)},
                   **{(i, b_mail): set(c) for i, c in zip(items, plan_b)}}
    assert rows.loc[rows.item_id == items[0], "memo"].dropna().tolist() == ["clear case"]
    cat = CHALLENGES.category_of(c2)
    assert set(rows.loc[rows.code_id == c2, "category"]) == {cat[0]}
    assert set(rows["forum_category"].dropna()) and rows["created_at"].notna().all()

    # consensus: majority means both coders (1 of 2 is a tie, not a majority)
    agreed = {(r.item_id, r.code_id) for r in consensus.itertuples() if r.consensus}
    want = {(i, c) for i, ca, cb in zip(items, plan_a, plan_b) for c in set(ca) & set(cb)}
    assert agreed == want

    # agreement on the pulled data equals scikit-learn's kappa on the same binary decisions
    universe = sorted({c for plan in plan_a + plan_b for c in plan})
    vec_a = [int(c in ca) for ca in plan_a for c in universe]
    vec_b = [int(c in cb) for cb in plan_b for c in universe]
    annotations = rows[["item_id", "coder"]].drop_duplicates().rename(columns={"item_id": "item"})
    applied = rows.dropna(subset=["code_id"])[["item_id", "coder", "code_id"]]
    applied = applied.rename(columns={"item_id": "item", "code_id": "code"})
    report = Agreement(n_boot=200, seed=1).fit(annotations, applied)
    overall = report.overall_.set_index("measure")
    kappa_row = next(m for m in overall.index if "cohen" in m.lower())
    assert overall.loc[kappa_row, "value"] == pytest.approx(cohen_kappa_score(vec_a, vec_b))

    # the same through the command line: the coded export and the agreement tables
    coded_csv = tmp_path / "coded.csv"
    res = forumkit("export", "coded", "--db", str(forum_db), "--project", str(result.project), "--format", "csv",
                   "--out", str(coded_csv))
    assert res.returncode == 0, res.stderr
    frame = pd.read_csv(coded_csv)
    assert {(r.item_id, r.code_id) for r in frame.itertuples() if r.consensus} == want
    assert {"topic_id", "forum_category", "created_at", "category", "subcategory", "n_with", "n_coders"} <= set(frame)
    res = forumkit("agreement", "--db", str(forum_db), "--project", str(result.project), "--boot", "100",
                   "--out", str(tmp_path / "agreement"))
    assert res.returncode == 0, res.stderr
    tables = pd.read_csv(tmp_path / "agreement" / "overall.csv").set_index("measure")
    assert tables.loc["cohen_kappa", "value"] == pytest.approx(cohen_kappa_score(vec_a, vec_b))
    disagreements = pd.read_csv(tmp_path / "agreement" / "disagreements.csv")
    assert len(disagreements) == sum(len(set(a) ^ set(b)) for a, b in zip(plan_a, plan_b))

    # the report of the pulled project has the taxonomy and the agreement between the two coders
    res = forumkit("report", "--db", str(forum_db), "--project", str(result.project), "--out", str(tmp_path / "rep"))
    assert res.returncode == 0, res.stderr
    page = (tmp_path / "rep" / "index.html").read_text(encoding="utf-8")
    assert ">Taxonomy</h2>" in page and ">Agreement</h2>" in page
    agreement_table = pd.read_csv(tmp_path / "rep" / "tables" / "agreement.csv").set_index("measure")
    assert agreement_table.loc["cohen_kappa", "value"] == pytest.approx(cohen_kappa_score(vec_a, vec_b))
    categories = pd.read_csv(tmp_path / "rep" / "tables" / "categories.csv")
    assert categories["n_items"].max() == len(items)


SHOWN = {"tasks:id", "tasks:total_annotations", "tasks:annotators", "tasks:data.title", "tasks:data.category",
         "tasks:data.created", "tasks:data.posts", "tasks:data.accepted_answer", "tasks:data.top_code",
         "tasks:data.top_score"}


def check_data_manager(client: Studio, login: Login, db: Path, project_id: int, on_server: dict[int, dict],
                       tmp_path: Path, top: dict[int, tuple[str, float]]) -> None:
    """Each task carries plain fields, and the project's Data Manager tab lists them (not the HTML) as columns."""
    with sqlite3.connect(db) as con:
        want = {tid: {"title": title, "category": category or "", "created": created[:10], "posts": n,
                      "accepted_answer": "yes" if accepted else "no"}
                for tid, title, category, created, n, accepted in con.execute(
                    "SELECT t.id, t.title, c.name, t.created_at, COUNT(p.id), COALESCE(MAX(p.accepted_answer), 0)"
                    " FROM topics t LEFT JOIN categories c ON c.id = t.category_id LEFT JOIN posts p"
                    " ON p.topic_id = t.id AND p.post_type = 1 AND p.removed_at IS NULL GROUP BY t.id")}
    for item, task in on_server.items():
        data = task["data"]
        assert {k: data[k] for k in want[item]} == want[item]
        assert (data["top_code"], data["top_score"]) == top.get(item, ("", None))
    assert {w["accepted_answer"] for i, w in want.items() if i in on_server} == {"yes", "no"}  # both cases pushed

    views = client.views(project_id)
    assert [v["data"]["title"] for v in views] == ["Coding queue"]
    hidden = views[0]["data"]["hiddenColumns"]
    present = set(client.data_manager_columns(project_id))
    assert {"tasks:data.html", "tasks:data.suggestions"} <= set(hidden["explore"]) & set(hidden["labeling"])
    assert present - set(hidden["explore"]) == SHOWN
    assert views[0]["data"]["columnsDisplayType"]["tasks:data.posts"] == "Number"

    headers = data_manager_headers(client.url, login, project_id, tmp_path / "data-manager.png")
    assert {"title", "category", "created", "posts", "accepted_answer", "top_code", "top_score"} <= set(headers)
    assert "html" not in headers and "suggestions" not in headers


def data_manager_headers(url: str, login: Login, project_id: int, shot: Path) -> list[str]:
    """Log in as the admin through Label Studio's login form, open the project's Data Manager in headless
    Chromium, save a screenshot to ``shot``; the column headers of its task list."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = headless_chromium(shot.parent / "profile", width=1600, height=800)
    try:
        driver.get(f"{url}/user/login")
        driver.find_element(By.NAME, "email").send_keys(login.email)
        driver.find_element(By.NAME, "password").send_keys(login.password)
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        WebDriverWait(driver, 60).until(lambda d: "/user/login" not in d.current_url)
        driver.get(f"{url}/projects/{project_id}/data")
        read = "return Array.from(document.querySelectorAll('.lsf-th-content')).map(e => e.innerText.trim())"
        WebDriverWait(driver, 90).until(lambda d: "top_score" in d.execute_script(read))
        headers = driver.execute_script(read)
        driver.save_screenshot(str(shot))
    finally:
        driver.quit()
    assert shot.stat().st_size > 20_000
    return headers


def test_three_coders_and_fleiss(studio, forum_db):
    client = Studio(studio.url, studio.login().token)
    items = topic_ids(forum_db, 12)[8:12]
    codes = leaf_codes(CHALLENGES, 2)
    with Store(forum_db) as store:
        result = push(store, client, [CHALLENGES], forum_id=1, unit="topic", item_ids=items, title="three coders",
                      coders=3)
    coders = [new_coder(client) for _ in range(3)]
    plans = [[[codes[0]], [codes[1]], [], [codes[0], codes[1]]],
             [[codes[0]], [], [], [codes[0]]],
             [[codes[0]], [codes[1]], [codes[1]], [codes[0], codes[1]]]]
    tasks = task_map(forum_db, result.project)
    for (uid, _), plan in zip(coders, plans):
        for item, chosen in zip(items, plan):
            annotate(client, tasks[item], uid, chosen)
    with Store(forum_db) as store:
        pulled = pull(store, client, result.project)
        rows = annotation_rows(store, result.project)
    assert pulled.annotations == 12 and len(pulled.coders) == 3
    # statsmodels' Fleiss kappa on the item x code decisions (3 coders each)
    decisions = [[int(codes[k] in plans[c][i]) for c in range(3)] for i in range(4) for k in range(2)]
    expected = fleiss_kappa(aggregate_raters(decisions)[0])
    annotations = rows[["item_id", "coder"]].drop_duplicates().rename(columns={"item_id": "item"})
    applied = rows.dropna(subset=["code_id"])[["item_id", "coder", "code_id"]].rename(
        columns={"item_id": "item", "code_id": "code"})
    report = Agreement(n_boot=0).fit(annotations, applied)
    overall = report.overall_.set_index("measure")
    fleiss_row = next(m for m in overall.index if "fleiss" in m.lower())
    assert overall.loc[fleiss_row, "value"] == pytest.approx(expected)


def test_pushing_twice_adds_no_duplicates(studio, forum_db):
    client = Studio(studio.url, studio.login().token)
    items = topic_ids(forum_db, 20)[12:18]
    with Store(forum_db) as store:
        first = push(store, client, [CHALLENGES], forum_id=1, unit="topic", item_ids=items[:4], title="twice")
        second = push(store, client, [CHALLENGES], forum_id=1, unit="topic", item_ids=items, title="twice")
        third = push(store, client, [CHALLENGES], forum_id=1, unit="topic", item_ids=items, title="twice")
    assert (first.tasks_added, second.tasks_added, third.tasks_added) == (4, 2, 0)
    assert first.project_id == second.project_id == third.project_id and not second.created
    assert client.task_count(first.project_id) == 6
    assert sorted(t["data"]["item_id"] for t in exported(client, first.project_id)) == sorted(items)
    # a later push with one more codebook updates the project, and a pull reads codes of both
    with Store(forum_db) as store:
        push(store, client, [CHALLENGES, BENEFITS], forum_id=1, unit="topic", item_ids=items, title="twice")
    uid, _ = new_coder(client)
    chosen = [leaf_codes(CHALLENGES, 1)[0], leaf_codes(BENEFITS, 1)[0]]
    annotate(client, task_map(forum_db, first.project)[items[0]], uid, chosen)
    with Store(forum_db) as store:
        pull(store, client, first.project)
        rows = annotation_rows(store, first.project)
    assert set(rows["code_id"].dropna()) == set(chosen)
    # pushing again kept forumkit's one Data Manager tab; without suggestions it has no suggestion columns
    views = client.views(first.project_id)
    assert [v["data"]["title"] for v in views] == ["Coding queue"]
    assert not {"tasks:data.top_code", "tasks:data.suggestions"} & set(client.data_manager_columns(first.project_id))


def test_posts_as_the_unit_of_coding(studio, forum_db):
    client = Studio(studio.url, studio.login().token)
    with sqlite3.connect(forum_db) as con:
        posts = [r[0] for r in con.execute("SELECT id FROM posts WHERE post_type = 1 ORDER BY id LIMIT 3")]
    with Store(forum_db) as store:
        result = push(store, client, [BENEFITS], forum_id=1, unit="post", item_ids=posts, title="posts unit",
                      coders=1)
    tasks = exported(client, result.project_id)
    assert sorted(t["data"]["item_id"] for t in tasks) == posts
    assert all("/t/" in t["data"]["url"] for t in tasks)


def forumkit(*args: str, cwd: Path | None = None, token: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "FORUMKIT_STUDIO_TOKEN"}
    if token:
        env["FORUMKIT_STUDIO_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "forumkit", *args], capture_output=True, text=True, timeout=600,
                          cwd=cwd, env=env)


def one_error_line(res: subprocess.CompletedProcess, code: int = 1) -> str:
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert res.returncode == code and len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.stderr
    return lines[0]


def test_clear_errors(studio, forum_db, tmp_path):
    token = studio.login().token
    good = str(ROOT / "forumkit" / "codebooks" / "hf-challenges.yaml")
    items = tmp_path / "items.csv"
    pd.DataFrame({"item_id": [topic_ids(forum_db, 1)[0], 999_999]}).to_csv(items, index=False)
    base = ["studio", "push", "--db", str(forum_db), "--url", studio.url]
    line = one_error_line(forumkit(*base, "--codebook", good, "--items", str(items), token=token), code=2)  # a usage error
    assert "999999" in line and "not topics" in line

    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\nname: X\nversion: '1'\ncodes:\n  - id: A\n    name: A\n  - id: A\n    name: B\n")
    pd.DataFrame({"item_id": topic_ids(forum_db, 2)}).to_csv(items, index=False)
    line = one_error_line(forumkit(*base, "--codebook", str(broken), "--items", str(items), token=token))
    assert "duplicate" in line.lower()

    line = one_error_line(forumkit(*base, "--codebook", good, "--items", str(items), token="not-the-token"))
    assert "rejected the API token" in line and "not-the-token" not in line
    line = one_error_line(forumkit(*base, "--codebook", good, "--items", str(items), "--workdir", str(tmp_path)))
    assert "no API token" in line and "FORUMKIT_STUDIO_TOKEN" in line
    down = ["studio", "push", "--db", str(forum_db), "--url", "http://127.0.0.1:9"]
    assert "cannot reach Label Studio" in one_error_line(forumkit(*down, "--codebook", good, "--items", str(items),
                                                                  token="x"))
    with pytest.raises(StudioError):
        Studio("http://127.0.0.1:9", "x").check()

    # the old --token option still works (hidden from --help), with a warning that `ps` shows it
    res = forumkit(*base, "--codebook", good, "--items", str(items), "--title", "by --token", "--token", token)
    assert res.returncode == 0, res.stderr
    assert "2 tasks added" in res.stdout and "visible to other users" in res.stderr and token not in res.stderr
    assert "--token" not in forumkit("studio", "push", "--help").stdout
