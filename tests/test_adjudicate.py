"""Adjudication through a real Label Studio server, and agreement per level, round and before/after adjudication."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import krippendorff
import pandas as pd
import pytest
from nltk.metrics.agreement import AnnotationTask
from sklearn.metrics import cohen_kappa_score

from forumkit.coding.adjudicate import adjudicate
from forumkit.coding.agreement import masi_distance
from forumkit.coding.codebook import load_codebook, taxonomy_name
from forumkit.coding.coded import coded_items
from forumkit.coding.levels import level_agreement
from forumkit.coding.negotiated import breakdown
from forumkit.coding.studio import Studio
from forumkit.coding.studio.pull import pull
from forumkit.coding.studio.push import push
from forumkit.collect.discourse.client import DiscourseClient
from forumkit.collect.discourse.crawl import Crawler
from forumkit.errors import ForumkitError
from forumkit.fakes.discourse import FakeDiscourse, generate_forum
from forumkit.store import Store
from forumkit.store.studio import PulledAnnotation, PulledCode, Snapshot

from .conftest import cli

ROOT = Path(__file__).resolve().parents[1]
BOOK = load_codebook(ROOT / "forumkit" / "codebooks" / "hf-challenges.yaml")
A, B = BOOK.categories[0], BOOK.categories[1]
A1, A2, B1 = A.children[0].id, A.children[1].id, B.children[0].id
_users = itertools.count(1)


def level(table: pd.DataFrame, **where) -> pd.Series:
    rows = table
    for column, value in where.items():
        rows = rows[rows[column] == value]
    assert len(rows) == 1, rows
    return rows.iloc[0]


# -- per level on hand-made tables (no server) ---------------------------------------------------------------------

def frames(sets: dict[tuple[int, str], list[str]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(annotations, codes) of one codebook from (item, coder) -> code ids."""
    ann = pd.DataFrame([(i, c, BOOK.id) for i, c in sets], columns=["item", "coder", "codebook_id"])
    codes = pd.DataFrame([(i, c, BOOK.id, code, BOOK.category_of(code)[0])
                          for (i, c), cs in sets.items() for code in cs],
                         columns=["item", "coder", "codebook_id", "code_id", "category"])
    return ann, codes


def test_single_label_levels_are_nominal_alpha_and_kappa_as_by_hand():
    x1, x2, y1 = A1, A2, B1  # categories X = A (x1, x2), Y = B (y1)
    coder_a, coder_b = [x1, x1, y1, y1], [x2, y1, y1, y1]
    table = level_agreement(*frames({**{(i, "a"): [c] for i, c in enumerate(coder_a)},
                                      **{(i, "b"): [c] for i, c in enumerate(coder_b)}}))
    cat, sub = level(table, level="category"), level(table, level="subcategory")
    assert (cat.alpha_metric, sub.alpha_metric, cat.kappa_on) == ("nominal", "nominal", "label")
    # category: a = X X Y Y, b = X Y Y Y; coincidences o_XX = 2, o_XY = o_YX = 1, o_YY = 4; n_X = 3, n_Y = 5
    assert cat.alpha == pytest.approx(1 - 7 * 2 / (2 * 3 * 5))
    assert cat.kappa == pytest.approx(0.5)  # p_o = 3/4, p_e = (2*1 + 2*3)/16
    # subcategory: x1-x2, x1-y1, y1-y1, y1-y1; n = 2, 1, 5: sum of n_c n_k over c != k = 64 - 30
    assert sub.alpha == pytest.approx(1 - 7 * 4 / 34)
    assert sub.kappa == pytest.approx((0.5 - 6 / 16) / (1 - 6 / 16))
    assert (cat.exact_agreement, sub.exact_agreement) == (0.75, 0.5)
    # the second computation: the krippendorff package on the same values
    assert sub.alpha == pytest.approx(krippendorff.alpha([[0, 0, 2, 2], [1, 2, 2, 2]], level_of_measurement="nominal"))


def test_multi_label_levels_are_masi_alpha_like_nltk_and_pooled_kappa_like_sklearn():
    sets = {(0, "a"): [A1], (0, "b"): [A1, B1], (0, "c"): [A1],
            (1, "a"): [A2], (1, "b"): [A1], (1, "c"): [A2],
            (2, "a"): [B1], (2, "b"): [], (2, "c"): [B1],  # an empty set: the coder chose nothing here
            (3, "a"): [A1, A2], (3, "b"): [A1, A2], (3, "c"): [A2]}
    table = level_agreement(*frames(sets))
    for name in ("category", "subcategory"):
        row = level(table, level=name)
        assert row.alpha_metric == "masi" and row.n_coders == 3 and pd.isna(row.kappa)  # kappa: two coders only
        value = (lambda code: BOOK.category_of(code)[0]) if name == "category" else (lambda code: code)
        task = AnnotationTask([(c, i, frozenset(value(x) for x in cs)) for (i, c), cs in sets.items()],
                              distance=masi_distance)
        assert row.alpha == pytest.approx(task.alpha(), rel=1e-12)
    two = level_agreement(*frames({k: v for k, v in sets.items() if k[1] != "c"}))
    sub = level(two, level="subcategory")
    universe = [A1, A2, B1]
    a, b = ([int(code in sets[(i, c)]) for i in range(4) for code in universe] for c in ("a", "b"))
    assert sub.kappa_on == "item x value" and sub.kappa == pytest.approx(cohen_kappa_score(a, b))


# -- the round trip through Label Studio -----------------------------------------------------------------------------

#: item index -> (coder X's codes, coder Y's codes, memo of X); items 1, 3 and 4 are disputed.
PLAN = {0: ([A1], [A1], ""), 1: ([A1], [A2], "unsure: A1 or A2"), 2: ([B1], [B1], ""), 3: ([A1, B1], [A1], ""),
        4: ([B1], [A2], "looks like B"), 5: ([A2], [A2], "")}


def result(codes: list[str], text: str | None = None, field: str = "memo") -> list[dict]:
    out = []
    if codes:
        out.append({"from_name": taxonomy_name(BOOK), "to_name": "item", "type": "taxonomy",
                    "value": {"taxonomy": [[c.id for c in BOOK.path_of(code)] for code in codes]}})
    if text:
        out.append({"from_name": field, "to_name": "item", "type": "textarea", "value": {"text": [text]}})
    return out


def user(client: Studio, name: str) -> tuple[int, str]:
    email = f"{name}{next(_users)}-{os.getpid()}@adjudicate.example"
    return client.create_user(email, email.split("@")[0]), email


@pytest.fixture(scope="module")
def forum_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("adjudicate") / "forum.db"
    with FakeDiscourse(generate_forum(n_topics=8, seed=5)) as server, Store(db) as store, \
            DiscourseClient(server.url, rate=0) as http:
        Crawler(http, store).run()
    return db


def test_adjudication_round_trip_gives_the_consensus_and_negotiated_agreement(studio, forum_db):
    client = Studio(studio.url, studio.login().token)
    with Store(forum_db) as store:
        items = [r[0] for r in store.query("SELECT id FROM topics WHERE pinned = 0 ORDER BY id LIMIT 6")]
        long_title = "to adjudicate: a title longer than Label Studio takes"  # 53 characters: cut to 50 there
        pushed = push(store, client, [BOOK], forum_id=1, unit="topic", item_ids=items, title=long_title)
        tasks = store.studio_tasks(pushed.project)
    (x, x_mail), (y, y_mail), (judge, judge_mail), (other, _) = (user(client, n) for n in ("x", "y", "judge", "other"))
    for n, (mine, theirs, memo) in PLAN.items():
        client.annotate(tasks[items[n]], user=x, result=result(mine, memo))
        client.annotate(tasks[items[n]], user=y, result=result(theirs))
    with Store(forum_db) as store:
        pull(store, client, pushed.project)
        first = adjudicate(store, client, pushed.project, adjudicator=judge_mail)
    assert (first.created, first.disputed, first.added, first.queued, first.decided) == (True, 3, 3, 3, 0)

    queue = {t["data"]["item_id"]: t for page in client.task_pages(first.project_id, annotations=True) for t in page}
    assert set(queue) == {items[1], items[3], items[4]}
    panel = queue[items[4]]["data"]["coders"]
    assert x_mail in panel and y_mail in panel and "looks like B" in panel and f"≠ {B.name}" in panel
    preselected = queue[items[3]]["predictions"][0]["result"][0]["value"]["taxonomy"]
    assert preselected == [[A.id, A1]]  # the code both coders applied

    client.annotate(queue[items[1]]["id"], user=judge, result=result([A1], "A1 fits the question", "reason"))
    client.annotate(queue[items[3]]["id"], user=judge, result=result([A1, B1], "both apply", "reason"))
    client.annotate(queue[items[4]]["id"], user=other, result=result([B1], "not the adjudicator", "reason"))
    with Store(forum_db) as store:
        again = adjudicate(store, client, pushed.project)  # the adjudicator given first is remembered
        coded = coded_items(store, pushed.project)
        parts = breakdown(store, pushed.project, n_boot=0)
    assert (again.created, again.added, again.queued, again.decided, again.ignored) == (False, 0, 3, 2, 1)

    consensus = {(items.index(r.item_id), r.code_id): (r.consensus, r.consensus_rule) for r in coded.itertuples()}
    assert consensus == {(0, A1): (True, "unanimous"), (1, A1): (True, "adjudicated"), (1, A2): (False, "adjudicated"),
                         (2, B1): (True, "unanimous"), (3, A1): (True, "adjudicated"), (3, B1): (True, "adjudicated"),
                         (4, A2): (False, "majority"), (4, B1): (False, "majority"), (5, A2): (True, "unanimous")}
    decided = coded[coded["consensus_rule"] == "adjudicated"].drop_duplicates("item_id").set_index("item_id")
    assert set(decided["decided_by"]) == {judge_mail} and decided.loc[items[1], "reason"] == "A1 fits the question"

    # negotiated agreement over the 6 items x 3 codes (A1, A2, B1), by hand:
    # before: 5 units disagree; n11 = 4, n10 = 3, n01 = 2, n00 = 9 -> kappa (13/18 - 174/324) / (1 - 174/324) = 0.4
    # after (items 1 and 3 settled): 2 units disagree; n11 = 6, n10 = n01 = 1, n00 = 10 -> kappa 118/154
    neg = parts.negotiated.set_index("measure")
    assert neg.loc["percent_agreement", ["before", "after"]].tolist() == pytest.approx([13 / 18, 16 / 18])
    assert neg.loc["cohen_kappa", ["before", "after"]].tolist() == pytest.approx([0.4, 118 / 154])
    assert set(neg["n_adjudicated"]) == {2}
    levels = parts.per_level
    before = level(levels, stage="before", level="category")
    # categories: X = A A B AB B A, Y = A A B A A A -> MASI (item 3 holds two); kappa on 6 items x {A, B}: 0.5
    assert (before.alpha_metric, before.kappa, before.exact_agreement) == ("masi", pytest.approx(0.5), 4 / 6)
    assert level(levels, stage="before", level="subcategory").exact_agreement == 3 / 6
    assert level(levels, stage="after", level="category").exact_agreement == 5 / 6
    assert level(levels, stage="after", level="subcategory").exact_agreement == 5 / 6
    assert set(levels["version"]) == {BOOK.version} and set(levels["group"]) == {f"project {pushed.project}"}
    # The methods appendix states the same numbers.
    out = forum_db.parent / "appendix"
    res = cli("appendix", "--db", forum_db, "--project", pushed.project, "--out", out, "--boot", "0")
    assert res.returncode == 0, res.stderr
    methods = (out / "methods.md").read_text(encoding="utf-8").replace("\\", "")
    assert "#### Negotiated agreement" in methods and "#### Per codebook and level" in methods
    assert f"| project {pushed.project} | percent_agreement | {13 / 18:.3f} | {16 / 18:.3f} | 6 | 2 |" in methods
    assert f"| {BOOK.id} | {BOOK.version} | category | 6 | 2 | masi | " in methods
    assert f"| {0.5:.3f} | {4 / 6:.3f} |" in methods  # category level: kappa, same set


# -- one-line errors and rounds (a hand-made store, no server) ------------------------------------------------------

def hand_store(db: Path, coders: dict[str, list[list[str]]], rounds: bool = False) -> list[int]:
    """A store whose coders (name -> codes per item 0..n) coded one project each (``rounds``: one round, blind)
    or one project together; the project ids."""
    with Store(db) as store:
        forum = store.forum_id("http://forum.example")
        projects = []
        for n, (coder, plan) in enumerate(coders.items()):
            if rounds or not projects:
                projects.append(store.add_studio_project(
                    url="http://studio.example", project_id=100 + n, title=f"p{n}", forum_id=forum, sample_id=None,
                    unit="topic", codebooks=[Snapshot(BOOK.id, BOOK.version, json.dumps(BOOK.to_dict()))]))
        anns, codes = {p: [] for p in projects}, {p: [] for p in projects}
        for n, (coder, plan) in enumerate(coders.items()):
            project = projects[n if rounds else 0]
            for item, chosen in enumerate(plan):
                ann = 10 * n + item
                anns[project].append(PulledAnnotation(project, ann, ann, item, coder, None, None, 0, None, "now"))
                codes[project] += [PulledCode(project, ann, c, BOOK.id, *BOOK.category_of(c)) for c in chosen]
        for project in projects:
            store.replace_annotations(project, anns[project], codes[project])
        if rounds:
            with store.transaction():
                store.db.execute("UPDATE studio_projects SET round = 1")
    return projects


def test_no_disagreement_and_unknown_project_are_one_line_errors(tmp_path):
    db = tmp_path / "agree.db"
    [project] = hand_store(db, {"x@lab": [[A1], [B1]], "y@lab": [[A1], [B1]]})
    with Store(db) as store, pytest.raises(ForumkitError, match="no disagreements in project 1"):
        adjudicate(store, Studio("http://127.0.0.1:9", "unused"), project)
    env = {"FORUMKIT_STUDIO_TOKEN": "unused"}
    for args, code, message in ((["--project", "7"], 2, "error: no project 7 in "),  # a usage error
                                (["--project", str(project)], 1, "error: no disagreements in project 1")):
        done = cli("adjudicate", "--db", db, "--url", "http://127.0.0.1:9", *args, env=env)
        assert done.returncode == code and done.stderr.startswith(message) and len(done.stderr.splitlines()) == 1, \
            done.stderr


def test_the_projects_of_a_round_are_one_coding(tmp_path):
    db = tmp_path / "round.db"
    projects = hand_store(db, {"x@lab": [[A1], [A1], [B1]], "y@lab": [[A1], [A2], [B1]]}, rounds=True)
    with Store(db) as store:
        parts = breakdown(store, projects[0], n_boot=0)
        with store.transaction():  # item 2 recoded by both under version 2.0: versions are never mixed
            store.db.execute("UPDATE coded SET codebook_version = '2.0' WHERE annotation_id IN (2, 12)")
        versions = breakdown(store, projects[1], n_boot=0).per_level
    sub = level(parts.per_level, stage="before", level="subcategory")
    assert (sub.group, sub.n_items, sub.n_coders, sub.exact_agreement) == ("round 1", 3, 2, 2 / 3)
    assert set(parts.per_round["group"]) == {"round 1"} and parts.negotiated.empty
    counts = ["n_items", "exact_agreement"]
    assert level(versions, level="subcategory", version=BOOK.version)[counts].tolist() == [2, 0.5]
    assert level(versions, level="subcategory", version="2.0")[counts].tolist() == [1, 1.0]
