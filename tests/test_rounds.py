"""Coding rounds: the balanced, seeded assignment; blind coders against real Label Studio servers; memos exported.

The blind test shows both sides: a coder's token opens their own server only, while on one server a plain user
who signed up with an invite link reads another coder's annotations and memos with their own token (why a round
gives each coder a server of their own).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections import Counter
from itertools import combinations
from pathlib import Path

import httpx
import pandas as pd
import pytest
from label_studio_sdk.client import LabelStudio

from forumkit.coding.codebook import load_codebook, taxonomy_name
from forumkit.coding.coded import coded_items
from forumkit.coding.export import export_dataset
from forumkit.coding.studio import server as studio_server
from forumkit.coding.studio.rounds import assign, coder_workdir
from forumkit.collect.discourse.client import DiscourseClient
from forumkit.collect.discourse.crawl import Crawler
from forumkit.fakes.discourse import FakeDiscourse, generate_forum
from forumkit.store import Store

from .conftest import cli
from .studio_fixtures import copy_template

ROOT = Path(__file__).resolve().parents[1]
CHALLENGES = load_codebook(ROOT / "forumkit" / "codebooks" / "hf-challenges.yaml")
CODERS = [f"{name}-{os.getpid()}@study.example" for name in ("ana", "ben", "cam", "dee")]


# -- the assignment, as a pure function -------------------------------------------------------------------------------

@pytest.mark.parametrize("n, m, k", [(60, 4, 2), (50, 3, 2), (101, 6, 3), (7, 3, 2), (40, 5, 1)])
def test_assignment_is_balanced(n, m, k):
    coders = [f"c{i}@x.org" for i in range(m)]
    plan = assign(list(range(n)), coders, k, seed=3)
    assert list(plan) == list(range(n))  # every item, in the order given
    assert all(len(who) == k == len(set(who)) and set(who) <= set(coders) for who in plan.values())
    load = Counter(c for who in plan.values() for c in who)
    assert sum(load.values()) == n * k and max(load.values()) - min(load.values()) <= 1
    assert all(n * k // m <= load[c] <= -(-n * k // m) for c in coders)  # n*k/m give or take one
    if k >= 2:
        shared = Counter(pair for who in plan.values() for pair in combinations(who, 2))
        counts = [shared[pair] for pair in combinations(sorted(coders), 2)]
        assert max(counts) - min(counts) <= 2


def test_assignment_is_seeded():
    items, coders = list(range(30)), ["a@x.org", "b@x.org", "c@x.org"]
    first = assign(items, coders, 2, seed=7)
    assert assign(items, list(reversed(coders)), 2, seed=7) == first  # the coders' order does not matter
    assert assign(items, coders, 2, seed=8) != first


# -- a round against real servers -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def forum_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("rounds") / "forum.db"
    with FakeDiscourse(generate_forum(n_topics=12, seed=5)) as fake, Store(db) as store, \
            DiscourseClient(fake.url, rate=0) as client:
        Crawler(client, store).run()
    return db


def _items(db: Path, n: int) -> list[int]:
    with sqlite3.connect(db) as con:
        return [r[0] for r in con.execute("SELECT id FROM topics WHERE pinned = 0 ORDER BY id LIMIT ?", (n,))]


@pytest.mark.parametrize("options, said", [
    (["--round", "1", "--coders", "ana@uni.edu,ben at uni", "--per-item", "1"], "'ben at uni' is not a coder's e-mail"),
    (["--round", "1", "--coders", "ana@uni.edu,ben@uni.edu", "--per-item", "3"], "--per-item 3 is more than the 2 "),
    (["--round", "1", "--coders", "ana@uni.edu,ana@uni.edu"], "coder ana@uni.edu is listed twice"),
    (["--coders", "ana@uni.edu,ben@uni.edu"], "is not a number of coders per task"),
])
def test_round_options_fail_on_one_line(forum_db, tmp_path, options, said):
    pd.DataFrame({"item_id": _items(forum_db, 3)}).to_csv(tmp_path / "items.csv", index=False)
    done = cli("studio", "push", "--db", forum_db, "--items", tmp_path / "items.csv", "--codebook", "hf-challenges",
               "--workdir", tmp_path / "studio", *options)
    assert done.returncode == 2 and said in done.stderr and done.stderr.strip().count("\n") == 0, done.stderr
    assert not (tmp_path / "studio").exists()  # no server was started


def _result(codes: list[str], memo: str) -> list[dict]:
    return [{"from_name": taxonomy_name(CHALLENGES), "to_name": "item", "type": "taxonomy",
             "value": {"taxonomy": [[c.id for c in CHALLENGES.path_of(code)] for code in codes]}},
            {"from_name": "memo", "to_name": "item", "type": "textarea", "value": {"text": [memo]}}]


def _sign_up(url: str, admin_token: str, email: str) -> str:
    """What a coder does on a shared server: open the invite link, sign up with a password, read their own token."""
    link = httpx.get(f"{url}/api/invite", headers={"Authorization": f"Token {admin_token}"}).json()["invite_url"]
    with httpx.Client(base_url=url) as browser:
        browser.get(link)
        signed = browser.post(link, data={"email": email, "password": f"pw-{os.getpid()}-Secret",
                                          "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
                              headers={"Referer": f"{url}{link}"})
        assert signed.status_code == 302, signed.text[:300]
        return browser.get("/api/current-user/token").json()["token"]


def _annotations(url: str, token: str, project_id: int) -> list[dict]:
    sdk = LabelStudio(base_url=url, api_key=token)
    return [a for task in sdk.tasks.list(project=project_id, fields="all") for a in task.dict()["annotations"]]


def test_blind_round_keeps_coders_apart_and_exports_memos(studio_template, forum_db, tmp_path):
    work = tmp_path / "studio"
    copy_template(studio_template, work / "coders" / "template")  # what `push --round` makes once, in a minute
    items = _items(forum_db, 6)
    pd.DataFrame({"item_id": items}).to_csv(tmp_path / "items.csv", index=False)
    ana, ben = CODERS[:2]
    base = ["--db", forum_db, "--workdir", work]
    try:
        pushed = cli("studio", "push", *base, "--items", tmp_path / "items.csv", "--codebook", "hf-challenges",
                     "--round", "1", "--coders", f"{ana},{ben}", "--per-item", "2", "--seed", "4")
        assert pushed.returncode == 0, pushed.stderr
        assert "round 1 recorded: 2 coders, 2 per item, seed 4" in pushed.stdout
        assert pushed.stderr.count("starting their Label Studio server") == 2
        again = cli("studio", "push", *base, "--items", tmp_path / "items.csv", "--codebook", "hf-challenges",
                    "--round", "1", "--coders", f"{ana},{ben}", "--per-item", "1")
        assert again.returncode == 2 and again.stderr.strip().count("\n") == 0  # a usage error, on one line
        assert "round 1 is already pushed with another assignment" in again.stderr and "--round 2" in again.stderr

        servers = {c: studio_server.ServerInfo.load(coder_workdir(work, c) / "server.json") for c in (ana, ben)}
        tokens = {c: servers[c].login().token for c in (ana, ben)}
        assert servers[ana].url != servers[ben].url and tokens[ana] != tokens[ben]
        codes = [c.id for _, c in CHALLENGES.codes() if c.is_leaf][:2]
        projects, me = {}, {}
        for n, coder in enumerate((ana, ben)):  # each codes every task of their own project, with their own token
            sdk = LabelStudio(base_url=servers[coder].url, api_key=tokens[coder])
            (project,) = list(sdk.projects.list())  # their server holds their project and nothing else
            projects[coder], me[coder] = project.id, sdk.users.whoami().id
            for task in sdk.tasks.list(project=project.id):
                sdk.annotations.create(id=task.id, result=_result([codes[n]], f"{coder} on {task.data['item_id']}"))

        for coder, other in ((ana, ben), (ben, ana)):  # the other's token opens nothing on this coder's server
            refused = httpx.get(f"{servers[coder].url}/api/projects/", timeout=30,
                                headers={"Authorization": f"Token {tokens[other]}"})
            assert refused.status_code == 401
            mine = _annotations(servers[coder].url, tokens[coder], projects[coder])
            assert len(mine) == len(items) and {a["completed_by"] for a in mine} == {me[coder]}
            assert all(other not in json.dumps(a["result"]) for a in mine)
        # The problem this solves: one server shows every user everything. A plain user who signs up on ana's
        # server with an invite link reads ana's annotations and memos with their own token.
        intruder = _sign_up(servers[ana].url, tokens[ana], "shared-" + CODERS[2])
        seen = _annotations(servers[ana].url, intruder, projects[ana])
        assert sorted(r["value"]["text"][0] for a in seen for r in a["result"] if r["type"] == "textarea") == \
            sorted(f"{ana} on {item}" for item in items)
        template_token = json.loads((work / "coders" / "template" / "login.json").read_text())["token"]
        assert httpx.get(f"{servers[ana].url}/api/projects/", timeout=30,
                         headers={"Authorization": f"Token {template_token}"}).status_code == 401

        pulled = cli("studio", "pull", *base, "--round", "1")
        assert pulled.returncode == 0, pulled.stderr
        assert pulled.stdout.count("6 annotations on 6 items by 1 coders") == 2
        with Store(forum_db) as store:
            rows = store.round_projects(1)
            assert [(r["coder"], r["round"]) for r in rows] == [(ana, 1), (ben, 1)]
            table = coded_items(store, rows[1]["id"])  # either coder's project gives the round's coding
            export_dataset(store, "coded", tmp_path / "coded.csv", project=rows[0]["id"])
        assert set(table["project"]) == {rows[0]["id"]} and set(table["n_coders"]) == {2}
        assert len(table) == 2 * len(items) and not table["consensus"].any()  # 1 of 2 coders is no majority
        exported = pd.read_csv(tmp_path / "coded.csv")
        for item in items:
            memos = json.loads(exported.loc[exported["item_id"] == item, "memos"].iloc[0])
            assert memos == {ana: f"{ana} on {item}", ben: f"{ben} on {item}"}
        # Counted per round, the two coders' projects are one coding: each coder's code on each of the 6 items.
        counts = tmp_path / "by-round.csv"
        res = cli("aggregate", "--db", forum_db, "--project", rows[1]["id"], "--view", "coders", "--by", "round",
                  "--level", "code", "--period", "none", "--out", counts)
        assert res.returncode == 0, res.stderr
        table = pd.read_csv(counts).set_index(["group", "code_id"])["n"]
        assert table[table > 0].to_dict() == {("round 1", codes[0]): len(items), ("round 1", codes[1]): len(items)}
    finally:
        for coder in CODERS[:2]:
            studio_server.stop(coder_workdir(work, coder))
