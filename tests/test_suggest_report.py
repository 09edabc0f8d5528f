"""Suggestions in a real Label Studio server, and `forumkit suggest report` on what two coders made of them.

A hand-written suggestions file (the columns `forumkit suggest codes` writes) is pushed through the command
line; the test checks the predictions (model_version, score, per-code metadata) and the Suggestions panel on
the server, lets two simulated coders accept some suggestions and change others through the API, pulls, and
checks every figure of the report against counts worked out by hand below (and the kappas and alphas against
scikit-learn and the krippendorff package).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import sqlite3
import subprocess
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from forumkit.coding.codebook import load_codebook, taxonomy_name
from forumkit.coding.studio import Studio
from forumkit.coding.studio.pull import pull
from forumkit.coding.studio.push import push
from forumkit.coding.studio.suggestions import NO_SUGGESTIONS, read_suggestions
from forumkit.coding.suggest.acceptance import suggestion_report
from forumkit.collect.discourse.client import DiscourseClient
from forumkit.collect.discourse.crawl import Crawler
from forumkit.errors import UsageError
from forumkit.fakes.discourse import FakeDiscourse, generate_forum
from forumkit.store import Store
from forumkit.store.studio import PulledAnnotation, PulledCode, Snapshot, SuggestedCode

from .conftest import cli

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
CHALLENGES = load_codebook(ROOT / "forumkit" / "codebooks" / "hf-challenges.yaml")
BENEFITS = load_codebook(ROOT / "forumkit" / "codebooks" / "hf-benefits.yaml")
C1, C2, C3 = [code.id for _, code in CHALLENGES.codes() if code.is_leaf][:3]
B1 = [code.id for _, code in BENEFITS.codes() if code.is_leaf][0]
VERSION = "zero-shot minilm test-1"
_users = itertools.count(1)


@pytest.fixture(scope="module")
def forum_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("suggest-report") / "forum.db"
    with FakeDiscourse(generate_forum(n_topics=16, seed=23)) as server, Store(db) as store, \
            DiscourseClient(server.url, rate=0) as client:
        Crawler(client, store).run()
    return db


def topic_ids(db: Path, n: int, skip: int = 0) -> list[int]:
    with sqlite3.connect(db) as con:
        return [r[0] for r in con.execute("SELECT id FROM topics WHERE pinned = 0 ORDER BY id LIMIT ? OFFSET ?",
                                          (n, skip))]


def forumkit(*args: str, token: str) -> subprocess.CompletedProcess:
    """The `forumkit` command, in this process (tests/conftest.py: cli), the token in its environment."""
    return cli(*args, env={"FORUMKIT_STUDIO_TOKEN": token})


def one_error_line(res: subprocess.CompletedProcess) -> str:
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert res.returncode in (1, 2) and len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    return lines[0]


def new_coder(client: Studio) -> tuple[int, str]:
    n = next(_users)
    email = f"suggest{n}-{os.getpid()}@study.example"
    return int(client.sdk.users.create(email=email, username=f"suggest{n}p{os.getpid()}").id), email


def annotate(client: Studio, task_id: int, user_id: int, codes: set[str], *, skipped: bool = False) -> None:
    """What a coder submits in the web UI: the pre-selected codes as kept, dropped or changed."""
    result = []
    for book in (CHALLENGES, BENEFITS):
        paths = [[c.id for c in book.path_of(code)] for code in sorted(codes) if code in book]
        if paths:
            result.append({"from_name": taxonomy_name(book), "to_name": "item", "type": "taxonomy",
                           "value": {"taxonomy": paths}})
    client.sdk.annotations.create(id=task_id, result=result, completed_by=user_id, lead_time=12.0,
                                  was_cancelled=skipped)


def test_suggestions_in_label_studio_and_the_report(studio, forum_db, tmp_path):
    token = studio.login().token
    client = Studio(studio.url, token)
    items = topic_ids(forum_db, 6)
    i0, i1, i2, i3, i4, i5 = items
    rows = [  # item, code, codebook, score, rank, in_set, evidence
        (i0, C1, "hf-challenges", 0.9, 1, True, "nearest coded items: 11, 12"),
        (i0, C2, "hf-challenges", 0.4, 2, False, "codebook example: 'the model is slow'"),
        (i0, B1, "hf-benefits", 0.7, 1, True, "<script>alert(1)</script>"),
        (i1, C2, "hf-challenges", 0.8, 1, True, "nearest coded items: 13"),
        (i1, C3, "hf-challenges", 0.6, 2, True, ""),
        (i2, C3, "hf-challenges", 0.3, 1, False, "keyword: token"),
        (i3, C1, "hf-challenges", 0.95, 1, True, "nearest coded items: 14"),
        (i4, C2, "hf-challenges", 0.5, 1, True, "nearest coded items: 15"),
        (i4, C1, "hf-challenges", 0.45, 2, False, "nearest coded items: 16"),
    ]  # i5: no suggestions
    table = pd.DataFrame(rows, columns=["item_id", "code_id", "codebook", "score", "rank", "in_set", "evidence"])
    table["model_version"] = VERSION
    suggestions, listing = tmp_path / "suggestions.csv", tmp_path / "items.csv"
    table.to_csv(suggestions, index=False)
    pd.DataFrame({"item_id": items}).to_csv(listing, index=False)
    res = forumkit("studio", "push", "--db", str(forum_db), "--url", studio.url, "--items", str(listing),
                   "--codebook", "hf-challenges", "--codebook", "hf-benefits", "--title", "suggested",
                   "--suggestions", str(suggestions), token=token)
    assert res.returncode == 0, res.stderr
    assert "6 tasks added" in res.stdout and "4 with pre-annotations, 5 with suggestions listed" in res.stdout

    # On the server: predictions pre-select the prediction set, with the file's model_version and metadata
    with Store(forum_db) as store:
        project = store.studio_project_titled(studio.url, "suggested")
        tasks = store.studio_tasks(project["id"])
    project_id = project["project_id"]
    config = client.sdk.projects.get(id=project_id).label_config
    assert '<HyperText name="suggestions" value="$suggestions"' in config
    predictions = {item: list(client.sdk.predictions.list(task=tasks[item])) for item in items}
    assert {item: len(p) for item, p in predictions.items()} == {i0: 1, i1: 1, i2: 0, i3: 1, i4: 1, i5: 0}
    first = predictions[i0][0]
    assert first.model_version == VERSION and first.score == pytest.approx((0.9 + 0.7) / 2)
    regions = {r["from_name"]: r for r in first.result}
    assert regions["hf_challenges"]["value"]["taxonomy"] == [[c.id for c in CHALLENGES.path_of(C1)]]  # not C2
    assert regions["hf_benefits"]["value"]["taxonomy"] == [[c.id for c in BENEFITS.path_of(B1)]]
    assert regions["hf_challenges"]["score"] == pytest.approx(0.9) and regions["hf_benefits"]["score"] == 0.7
    meta = regions["hf_challenges"]["meta"]["suggestions"]
    assert meta == regions["hf_benefits"]["meta"]["suggestions"]  # every region carries all of the item's rows
    assert [(m["code_id"], m["score"], m["rank"], m["in_set"], m["evidence"]) for m in meta] == [
        (C1, 0.9, 1, True, "nearest coded items: 11, 12"), (B1, 0.7, 1, True, "<script>alert(1)</script>"),
        (C2, 0.4, 2, False, "codebook example: 'the model is slow'")]
    assert {m["model_version"] for m in meta} == {VERSION}
    assert predictions[i1][0].score == pytest.approx(0.7)
    # ... and the task shows every suggestion in its Suggestions panel, escaped
    data = {item: client.sdk.tasks.get(id=tasks[item]).data for item in items}
    panel = data[i0]["suggestions"]
    assert "nearest coded items: 11, 12" in panel and "0.90" in panel and "0.40" in panel and VERSION in panel
    assert "<script" not in panel and "&lt;script&gt;" in panel
    assert panel.index("0.90") < panel.index("0.70") < panel.index("0.40")  # pre-selected first, by rank
    assert "keyword: token" in data[i2]["suggestions"] and data[i5]["suggestions"] == NO_SUGGESTIONS

    # Two coders: A keeps most pre-selections, B changes several; B skips item 4; both code item 5 (no suggestions)
    (a_id, a_mail), (b_id, b_mail) = new_coder(client), new_coder(client)
    plan_a = {i0: {C1, B1}, i1: {C2}, i2: {C3}, i3: {C1}, i4: {C1}, i5: {C1}}
    plan_b = {i0: {C1, C2}, i1: {C2, C3}, i2: set(), i3: {C3}, i5: {C1}}
    for item in items:
        annotate(client, tasks[item], a_id, plan_a[item])
        annotate(client, tasks[item], b_id, plan_b.get(item, {C2}), skipped=item not in plan_b)
    with Store(forum_db) as store:
        pull(store, client, project["id"])
        report = suggestion_report(store, project["id"])

    # By hand. Pre-selected: i0 {C1, B1}, i1 {C2, C3}, i2 {}, i3 {C1}, i4 {C2}. Compared: i0-i4 (i5 had no
    # suggestions; B's skip of i4 is left out): 9 annotations. Consensus (majority; A alone decides i4):
    # i0 {C1}, i1 {C2}, i2 {}, i3 {}, i4 {C1}.
    summary = report.summary.iloc[0]
    assert (summary["items_suggested"], summary["items_preselected"], summary["items_compared"],
            summary["annotations"], summary["coders"], summary["items_without_suggestions"]) == (5, 4, 5, 9, 2, 1)
    assert summary["model_versions"] == VERSION
    expected = {  # code: (items pre-selected, offered, accepted, applied, items in consensus, hits in consensus)
        C1: (2, 4, 3, 4, 2, 1),  # offered on i0 (A, B) and i3 (A, B); B dropped it on i3; applied 0A 0B 3A 4A
        C2: (2, 3, 2, 3, 1, 1),  # offered on i1 (A, B), i4 (A); A dropped it on i4; applied 0B 1A 1B
        C3: (1, 2, 1, 3, 0, 0),  # offered on i1 (A, B), kept by B; applied 1B 2A 3B
        B1: (1, 2, 1, 1, 0, 0),  # offered on i0 (A, B), kept by A
    }
    per_code = report.per_code.set_index("code_id")
    order = [c for c in CHALLENGES.code_ids() if c in expected] + [B1]
    assert list(per_code.index) == order + ["ALL"]
    expected["ALL"] = tuple(sum(v[k] for v in expected.values()) for k in range(6))  # (6, 11, 7, 11, 3, 2)
    for code, (pre, offered, accepted, applied, agreed, hits) in expected.items():
        row = per_code.loc[code]
        assert (row.items_preselected, row.offered, row.accepted, row.applied, row.items_consensus,
                row.hits_consensus) == (pre, offered, accepted, applied, agreed, hits), code
        assert row.acceptance == pytest.approx(accepted / offered)
        assert row.recall_coders == pytest.approx(accepted / applied)
        assert row.precision_consensus == pytest.approx(hits / pre)
        assert (np.isnan(row.recall_consensus) if agreed == 0 else row.recall_consensus == pytest.approx(hits / agreed))
    assert per_code.loc["ALL", "acceptance"] == pytest.approx(7 / 11)
    assert per_code.loc["ALL", "precision_consensus"] == pytest.approx(2 / 6)

    # The model as a coder: Cohen's kappa and Krippendorff's alpha of item x code decisions over the codes
    # pre-selected or applied (C1, C2, C3, B1), on the compared items each pair both annotated
    universe = [C1, C2, C3, B1]
    model = {i0: {C1, B1}, i1: {C2, C3}, i2: set(), i3: {C1}, i4: {C2}}
    sets = {"model": model, a_mail: {i: plan_a[i] for i in (i0, i1, i2, i3, i4)},
            b_mail: {i: plan_b[i] for i in (i0, i1, i2, i3)}}
    agreement = report.agreement
    assert sorted(set(zip(agreement.coder_a, agreement.coder_b, agreement.pair))) == sorted([
        ("model", a_mail, "model-human"), ("model", b_mail, "model-human"),
        (min(a_mail, b_mail), max(a_mail, b_mail), "human-human")])
    for (x, y), got in agreement.groupby(["coder_a", "coder_b"]):
        both = sorted(set(sets[x]) & set(sets[y]))
        got = got.set_index("code_id")
        assert (got["n_items"] == len(both)).all()
        vx = [int(c in sets[x][i]) for i in both for c in universe]
        vy = [int(c in sets[y][i]) for i in both for c in universe]
        assert got.loc["ALL", "cohen_kappa"] == pytest.approx(cohen_kappa_score(vx, vy)), (x, y)
        assert got.loc["ALL", "krippendorff_alpha"] == pytest.approx(
            krippendorff.alpha(reliability_data=[vx, vy], level_of_measurement="nominal")), (x, y)
        assert got.loc["ALL", "percent_agreement"] == pytest.approx(np.mean(np.equal(vx, vy)))
        for code in universe:
            cx, cy = [int(code in sets[x][i]) for i in both], [int(code in sets[y][i]) for i in both]
            if len(set(cx + cy)) > 1:
                assert got.loc[code, "cohen_kappa"] == pytest.approx(cohen_kappa_score(cx, cy)), (x, y, code)
            else:
                assert np.isnan(got.loc[code, "cohen_kappa"])
    # one figure in full, so that a wrong universe or item set cannot pass unseen: model vs A on i0-i4
    # (model, A) present in both: i0 C1, i0 B1, i1 C2, i3 C1; only one: i1 C3 (model), i2 C3 (A), i4 C1 (A),
    # i4 C2 (model); 12 cells of 20 absent in both. p_o = 16/20, p(model) = p(A) = 6/20, p_e = 0.3² + 0.7² = 0.58
    model_a = agreement.set_index(["coder_a", "coder_b", "code_id"]).loc[("model", a_mail, "ALL")]
    assert model_a.cohen_kappa == pytest.approx((16 / 20 - 0.58) / (1 - 0.58))

    # The same through the command line, with the tables in a folder
    res = forumkit("suggest", "report", "--db", str(forum_db), "--project", str(project["id"]), "--out",
                   str(tmp_path / "rep"), token=token)
    assert res.returncode == 0, res.stderr
    assert "5 of 5 suggested items coded (9 annotations by 2 coders)" in res.stdout and "0.64" in res.stdout
    written = pd.read_csv(tmp_path / "rep" / "per_code.csv").set_index("code_id")
    assert written.loc["ALL", "accepted"] == 7 and written.loc[C1, "offered"] == 4
    assert len(pd.read_csv(tmp_path / "rep" / "agreement.csv")) == 3 * (1 + len(universe))

    # One-line errors: a project that does not exist, a project pushed without suggestions
    line = one_error_line(forumkit("suggest", "report", "--db", str(forum_db), "--project", "99", token=token))
    assert "no project 99" in line
    with Store(forum_db) as store:
        plain = push(store, client, [CHALLENGES], forum_id=1, unit="topic", item_ids=[i5], title="no suggestions")
    line = one_error_line(forumkit("suggest", "report", "--db", str(forum_db), "--project", str(plain.project),
                                   token=token))
    assert "pushed without suggestions" in line and "--suggestions" in line


def test_old_tables_and_a_project_that_gains_suggestions(studio, forum_db):
    """The minimal table (item_id, code_id) still pre-selects every row; tasks pushed before the project had
    suggestions get the panel's data key when a later push brings some."""
    client = Studio(studio.url, studio.login().token)
    items = topic_ids(forum_db, 3, skip=6)
    with Store(forum_db) as store:
        first = push(store, client, [CHALLENGES], forum_id=1, unit="topic", item_ids=items[:2], title="gains")
        assert "suggestions" not in client.sdk.projects.get(id=first.project_id).label_config
        minimal = pd.DataFrame({"item_id": [items[2], items[2]], "code_id": [C1, C2]})
        second = push(store, client, [CHALLENGES], forum_id=1, unit="topic", item_ids=items, title="gains",
                      suggestions=minimal)
        recorded = store.studio_suggestions(first.project)
        tasks = store.studio_tasks(first.project)
    assert (second.tasks_added, second.predictions, second.suggested) == (1, 1, 1)
    assert sorted((r.item_id, r.code_id, r.score, r.rank, r.in_set, r.model_version) for r in recorded) == sorted(
        [(items[2], C1, None, None, True, "forumkit-suggest"), (items[2], C2, None, None, True, "forumkit-suggest")])
    pred = list(client.sdk.predictions.list(task=tasks[items[2]]))[0]
    assert pred.score == 1.0 and pred.model_version == "forumkit-suggest"
    assert sorted(p for r in pred.result for p in map(tuple, r["value"]["taxonomy"])) == sorted(
        tuple(c.id for c in CHALLENGES.path_of(code)) for code in (C1, C2))
    data = {item: client.sdk.tasks.get(id=tasks[item]).data for item in items}
    assert [data[i]["suggestions"] for i in items[:2]] == [NO_SUGGESTIONS] * 2  # patched: the panel reads the key
    assert "0.00" not in data[items[2]]["suggestions"] and C1 in data[items[2]]["suggestions"]


@pytest.mark.parametrize("change, message", [
    (lambda t: t.drop(columns="code_id"), "lacks column(s) code_id"),
    (lambda t: t.assign(code_id=["NOPE", C2]), "not in the codebooks: NOPE"),
    (lambda t: t.assign(codebook="hf-benefits"), "belongs to 'hf-challenges'"),
    (lambda t: t.assign(item_id=[1, 1], code_id=[C1, C1]), f"lists code {C1} twice for item 1"),
    (lambda t: t.assign(in_set=["yes", "maybe"]), "in_set holds 'maybe'"),
    (lambda t: t.assign(score=["high", 0.2]), "score column holds something that is not a number"),
    (lambda t: t.assign(item_id=[1.5, 2]), "item_id holds '1.5'"),
])
def test_bad_suggestion_tables_are_refused(tmp_path, change, message):
    good = pd.DataFrame({"item_id": [1, 2], "code_id": [C1, C2], "codebook": "hf-challenges", "score": [0.9, 0.2],
                         "in_set": [True, False]})
    assert [len(rows) for rows in read_suggestions([CHALLENGES], good, "v").values()] == [1, 1]
    change(good).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(UsageError, match=re.escape(message)):
        read_suggestions([CHALLENGES], pd.read_csv(tmp_path / "bad.csv"), "v")


def test_a_bad_suggestions_file_is_one_line_before_label_studio_is_reached(forum_db, tmp_path):
    bad, listing = tmp_path / "suggestions.csv", tmp_path / "items.csv"
    pd.DataFrame({"item_id": [1], "code_id": ["NOPE"]}).to_csv(bad, index=False)
    pd.DataFrame({"item_id": topic_ids(forum_db, 2)}).to_csv(listing, index=False)
    res = forumkit("studio", "push", "--db", str(forum_db), "--url", "http://127.0.0.1:9", "--items", str(listing),
                   "--codebook", "hf-challenges", "--suggestions", str(bad), token="unused")  # nothing on port 9
    line = one_error_line(res)
    assert res.returncode == 2 and "suggested code(s) not in the codebooks: NOPE" in line, line


def test_report_without_a_server_one_coder_and_the_errors(forum_db, tmp_path):
    """The report reads only the store: a project recorded by hand (as push and pull record them), one coder."""
    db = tmp_path / "copy.db"
    db.write_bytes(forum_db.read_bytes())
    i0, i1, i2 = topic_ids(forum_db, 3, skip=10)
    with Store(db) as store:
        snapshot = Snapshot(CHALLENGES.id, CHALLENGES.version, json.dumps(CHALLENGES.to_dict()))
        project = store.add_studio_project(url="http://127.0.0.1:9", project_id=77, title="by hand", forum_id=1,
                                           sample_id=None, unit="topic", codebooks=[snapshot])
        store.record_studio_suggestions(project, [i0, i1], [
            SuggestedCode(project, i0, C1, CHALLENGES.id, 0.8, 1, True, None, "v1"),
            SuggestedCode(project, i1, C2, CHALLENGES.id, 0.3, 1, False, None, "v1")])
        with pytest.raises(UsageError, match="no pulled annotations"):
            suggestion_report(store, project)
        annotation = PulledAnnotation(project, 1, 10, i2, "ann@study.example", None, 5.0, 0, None, "2026-01-01")
        store.replace_annotations(project, [annotation], [PulledCode(project, 1, C1, CHALLENGES.id, "x", None)])
        with pytest.raises(UsageError, match="none of the 2 items suggested in project"):
            suggestion_report(store, project)  # the one annotation codes an item pushed without suggestions
        annotations = [annotation, annotation._replace(annotation_id=2, task_id=11, item_id=i0),
                       annotation._replace(annotation_id=3, task_id=12, item_id=i1)]
        store.replace_annotations(project, annotations, [PulledCode(project, 1, C1, CHALLENGES.id, "x", None),
                                                         PulledCode(project, 3, C2, CHALLENGES.id, "x", None)])
        report = suggestion_report(store, project)
    # i0: C1 pre-selected, not applied; i1: C2 only listed, applied. One coder decides the consensus alone.
    per_code = report.per_code.set_index("code_id")
    assert per_code.loc[C1, ["offered", "accepted", "applied", "hits_consensus"]].tolist() == [1, 0, 0, 0]
    assert per_code.loc[C2, ["offered", "accepted", "applied", "items_consensus"]].tolist() == [0, 0, 1, 1]
    assert per_code.loc["ALL", "acceptance"] == 0 and per_code.loc["ALL", "recall_coders"] == 0
    assert report.summary.iloc[0][["items_compared", "items_without_suggestions", "coders"]].tolist() == [2, 1, 1]
    pairs = report.agreement[report.agreement.code_id == "ALL"]
    assert pairs[["coder_a", "coder_b", "pair", "n_items"]].values.tolist() == [
        ["model", "ann@study.example", "model-human", 2]]
    assert pairs.iloc[0].percent_agreement == pytest.approx(2 / 4)  # 4 cells: i0 C1 and i1 C2 differ
