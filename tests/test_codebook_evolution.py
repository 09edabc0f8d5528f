"""Codebook evolution: diff two versions, check a map, migrate a coded project in a real Label Studio."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from forumkit.coding.codebook import diff, label_config, load_codebook, load_map, taxonomy_name
from forumkit.coding.codebook.diff import Merged, Moved, Renamed, Split
from forumkit.coding.studio import Studio, StudioError
from forumkit.coding.studio.migrate import RECODE_VIEW, migrate
from forumkit.coding.studio.pull import pull
from forumkit.coding.studio.push import push
from forumkit.collect.discourse.client import DiscourseClient
from forumkit.collect.discourse.crawl import Crawler
from forumkit.fakes.discourse import FakeDiscourse, generate_forum
from forumkit.store import Store

from .conftest import cli

OLD = """\
id: evo
name: Evolution test
version: "1.0"
codes:
  - id: E.SETUP
    name: Setup
    definition: Installing and configuring.
    children:
      - {id: E.SETUP.INSTALL, name: Install}
      - {id: E.SETUP.CONFIG, name: Config}
  - id: E.RUN
    name: Running
    children:
      - {id: E.RUN.SLOW, name: Slow}
      - {id: E.RUN.OOM, name: Out of memory}
      - {id: E.RUN.CRASH, name: Crash}
  - {id: E.DOCS, name: Docs}
  - {id: E.MISC, name: Misc}
"""
NEW = """\
id: evo
name: Evolution test
version: "2.0"
codes:
  - id: E.SETUP
    name: Set-up
    definition: Installing, configuring and the environment.
    children:
      - {id: E.SETUP.ENV, name: Environment}
  - id: E.RUN
    name: Running
    children:
      - {id: E.RUN.MEMORY, name: Memory}
      - {id: E.RUN.CRASH_GPU, name: Crash on GPU}
      - {id: E.RUN.CRASH_CPU, name: Crash on CPU}
  - id: E.PERF
    name: Performance
    children:
      - {id: E.RUN.SLOW, name: Slow}
  - {id: E.DOCS, name: Docs}
  - {id: E.COMMUNITY, name: Community}
"""
MAP = """\
codebook: evo
from: "1.0"
to: "2.0"
rename:
  E.RUN.OOM: E.RUN.MEMORY
merge:
  - from: [E.SETUP.INSTALL, E.SETUP.CONFIG]
    into: E.SETUP.ENV
split:
  - from: E.RUN.CRASH
    into: [E.RUN.CRASH_GPU, E.RUN.CRASH_CPU]
retire: [E.MISC]
"""


@pytest.fixture
def books(tmp_path) -> tuple[Path, Path, Path]:
    paths = tmp_path / "old.yaml", tmp_path / "new.yaml", tmp_path / "map.yaml"
    for path, text in zip(paths, (OLD, NEW, MAP)):
        path.write_text(text, encoding="utf-8")
    return paths


def test_diff_lists_exactly_the_changes(books):
    old_path, new_path, map_path = books
    old, new = load_codebook(old_path), load_codebook(new_path)
    changes = diff(old, new, load_map(map_path))
    assert changes.added == ("E.PERF", "E.COMMUNITY")
    assert changes.removed == ()
    assert changes.renamed == (Renamed("E.SETUP", "E.SETUP", "Setup", "Set-up"),
                               Renamed("E.RUN.OOM", "E.RUN.MEMORY", "Out of memory", "Memory"))
    assert changes.merged == (Merged(("E.SETUP.INSTALL", "E.SETUP.CONFIG"), "E.SETUP.ENV"),)
    assert changes.split == (Split("E.RUN.CRASH", ("E.RUN.CRASH_GPU", "E.RUN.CRASH_CPU")),)
    assert changes.retired == ("E.MISC",)
    assert changes.moved == (Moved("E.RUN.SLOW", "E.RUN", "E.PERF"),)
    assert changes.redefined == ("E.SETUP",)
    bare = diff(old, new)  # without a map, what the map explains is removed and added
    assert bare.removed == ("E.SETUP.INSTALL", "E.SETUP.CONFIG", "E.RUN.OOM", "E.RUN.CRASH", "E.MISC")
    assert set(bare.added) == {"E.SETUP.ENV", "E.RUN.MEMORY", "E.RUN.CRASH_GPU", "E.RUN.CRASH_CPU", "E.PERF",
                               "E.COMMUNITY"}
    assert diff(old, old).unchanged

    res = cli("codebook", "diff", old_path, new_path, "--map", map_path, "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["split"] == [{"source": "E.RUN.CRASH", "into": ["E.RUN.CRASH_GPU",
                                                                                  "E.RUN.CRASH_CPU"]}]
    text = cli("codebook", "diff", old_path, new_path, "--map", map_path).stdout
    assert "merged    E.SETUP.INSTALL + E.SETUP.CONFIG -> E.SETUP.ENV" in text
    assert "moved     E.RUN.SLOW: under E.RUN -> under E.PERF" in text


BAD_MAPS = {
    "unknown old id": (MAP.replace("E.RUN.OOM:", "E.RUN.OMM:"),
                       "rename E.RUN.OMM: E.RUN.OMM is not a code of OLD (evo 1.0); did you mean E.RUN.OOM?"),
    "new code not in NEW": (MAP.replace("into: E.SETUP.ENV", "into: E.SETUP.ENVIRON"),
                            "merge E.SETUP.CONFIG -> E.SETUP.ENVIRON: E.SETUP.ENVIRON is not a code of NEW"),
    "old code neither kept nor mapped": (MAP.replace("retire: [E.MISC]", ""),
                                         "E.MISC of OLD is neither in NEW nor in the map: add it to rename, merge"),
    "mapped twice": (MAP.replace("retire: [E.MISC]", "retire: [E.MISC, E.RUN.OOM]"),
                     "E.RUN.OOM is mapped twice (rename and retire)"),
    "wrong shape": (MAP + "renames: {}\n", "unknown key 'renames'"),
}


def test_bad_maps_give_one_line_errors_and_exit_2(books, tmp_path):
    old_path, new_path, _ = books
    for name, (text, expected) in BAD_MAPS.items():
        bad = tmp_path / f"{name.replace(' ', '-')}.yaml"
        bad.write_text(text, encoding="utf-8")
        res = cli("codebook", "diff", old_path, new_path, "--map", bad)
        assert res.returncode == 2, (name, res.stdout, res.stderr)
        lines = res.stderr.strip().splitlines()
        assert any(expected in line for line in lines), (name, lines)
        assert all(line.startswith("error: ") for line in lines), (name, lines)
        assert "Traceback" not in res.stderr


def _paths(result: list[dict], control: str) -> set[str]:
    """The code ids an annotation's result chooses (the last id of each path)."""
    return {path[-1] for r in result if r.get("from_name") == control for path in r["value"]["taxonomy"]}


def test_migrate_rewrites_annotations_config_and_queues_splits(studio, books, tmp_path):
    old_path, new_path, map_path = books
    old, new = load_codebook(old_path), load_codebook(new_path)
    db = tmp_path / "forum.db"
    with FakeDiscourse(generate_forum(n_topics=8, seed=5)) as server, Store(db) as store, \
            DiscourseClient(server.url, rate=0) as client:
        Crawler(client, store).run()
    with sqlite3.connect(db) as con:
        items = [r[0] for r in con.execute("SELECT id FROM topics WHERE pinned = 0 ORDER BY id LIMIT 7")]
    client = Studio(studio.url, studio.login().token)
    with Store(db) as store:
        suggested = pd.DataFrame({"item_id": [items[0], items[6]], "code_id": ["E.SETUP.INSTALL", "E.RUN.CRASH"],
                                  "score": [0.9, 0.8]})
        pushed = push(store, client, [old], forum_id=1, unit="topic", item_ids=items, title="evolution", coders=2,
                      suggestions=suggested)
    tasks = {i: t for i, t in Store(db).studio_tasks(pushed.project).items()}
    coders = [client.create_user(f"evo{n}-{os.getpid()}@study.example", f"evo{n}p{os.getpid()}") for n in (1, 2)]
    plan = {  # item -> (coder A's codes, coder B's codes)
        items[0]: (["E.SETUP.INSTALL"], ["E.SETUP.INSTALL", "E.SETUP.CONFIG"]),
        items[1]: (["E.RUN.OOM"], ["E.RUN.SLOW"]),
        items[2]: (["E.RUN.CRASH"], ["E.RUN.CRASH", "E.DOCS"]),
        items[3]: (["E.MISC"], ["E.SETUP"]),
        items[4]: (["E.DOCS"], []),
        items[5]: (["E.SETUP.CONFIG", "E.RUN.CRASH"], ["E.DOCS"]),
    }
    control = taxonomy_name(old)
    for item, per_coder in plan.items():
        for user, codes in zip(coders, per_coder):
            result = [{"from_name": "memo", "to_name": "item", "type": "textarea", "value": {"text": ["why"]}}]
            if codes:
                result.insert(0, {"from_name": control, "to_name": "item", "type": "taxonomy",
                                  "value": {"taxonomy": [[c.id for c in old.path_of(code)] for code in codes]}})
            client.annotate(tasks[item], user=user, result=result)
    with Store(db) as store:
        assert pull(store, client, pushed.project).annotations == 12
    before = tmp_path / "coded-v1.csv"
    assert cli("export", "coded", "--db", db, "--project", pushed.project, "--out", before).returncode == 0

    # What Label Studio does alone: it refuses NEW's config while annotations use labels NEW lacks.
    with pytest.raises(StudioError, match="still exist in annotations"):
        client.validate_label_config(pushed.project_id, label_config([new], unit="topic"))

    # The first run stops right after rewriting the annotations, before the config (as a killed run would).
    class Stop(Exception):
        pass

    def stop_after_annotations(line: str) -> None:
        if line.startswith("annotations:"):
            raise Stop

    with Store(db) as store, pytest.raises(Stop):
        migrate(store, client, pushed.project, new, load_map(map_path), progress=stop_after_annotations)
    env = {**os.environ, "FORUMKIT_STUDIO_TOKEN": studio.login().token}
    args = ("codebook", "migrate", "--db", db, "--project", pushed.project, "--to", new_path, "--map", map_path,
            "--url", studio.url)
    res = cli(*args, env=env)
    assert res.returncode == 0, res.stderr
    steps = [line.split(":")[0] for line in res.stdout.splitlines()]
    assert steps == ["migration 1", "plan", "record", "annotations", "config", "queue", "store", "done"], res.stdout
    assert "(resumed)" in res.stdout

    mapped = {"E.SETUP.INSTALL": ["E.SETUP.ENV"], "E.SETUP.CONFIG": ["E.SETUP.ENV"], "E.RUN.OOM": ["E.RUN.MEMORY"],
              "E.RUN.CRASH": [], "E.MISC": []}
    want = {(item, user): {t for code in codes for t in mapped.get(code, [code])}
            for item, per_coder in plan.items() for user, codes in zip(coders, per_coder)}
    # Label Studio: the same annotations, every old code mapped, paths as NEW has them, memos kept.
    got, memos = {}, 0
    for page in client.task_pages(pushed.project_id, annotations=True):
        for task in page:
            for ann in task["annotations"]:
                got[(task["data"]["item_id"], ann["completed_by"])] = _paths(ann["result"], control)
                memos += sum(r["type"] == "textarea" for r in ann["result"])
                for r in ann["result"]:
                    if r["type"] == "taxonomy":
                        assert all(list(p) == [c.id for c in new.path_of(p[-1])] for p in r["value"]["taxonomy"])
    assert got == want and memos == 12
    predicted = {task["data"]["item_id"]: _paths(task["predictions"][0]["result"], control)
                 for page in client.task_pages(pushed.project_id, annotations=True) for task in page
                 if task["predictions"]}
    assert predicted == {items[0]: {"E.SETUP.ENV"}, items[6]: set()}  # merged; split: nothing pre-selected
    config = client.label_config(pushed.project_id)
    assert 'name="suggestions"' in config and 'name="memo"' in config
    assert 'alias="E.SETUP.ENV"' in config and 'alias="E.SETUP.INSTALL"' not in config and "(v2.0)" in config
    # The store, as migrated, and as a fresh pull reads the server: the same codes, under version 2.0.
    with Store(db) as store:
        migrated = sorted(store.db.execute("SELECT annotation_id, code_id, codebook_version FROM coded"))
        assert pull(store, client, pushed.project).annotations == 12
        pulled = sorted(store.db.execute("SELECT annotation_id, code_id, codebook_version FROM coded"))
        record = store.codebook_migrations(pushed.project)[0]
        queue = store.recode_queue(pushed.project)
    assert migrated == pulled and {v for *_, v in pulled} == {"2.0"}
    assert (record["from_version"], record["to_version"], record["renamed"], record["merged"], record["split"],
            record["retired"]) == ("1.0", "2.0", 1, 4, 3, 1)
    assert json.loads(record["map"])["split"] == [{"from": "E.RUN.CRASH", "into": ["E.RUN.CRASH_GPU",
                                                                                 "E.RUN.CRASH_CPU"]}]
    # A split queues exactly the affected items: in the store and in the "Needs recoding" tab.
    assert sorted(r.item_id for r in queue) == sorted([items[2], items[5]])
    view = next(v for v in client.views(pushed.project_id) if v["data"]["title"] == RECODE_VIEW)
    assert client.view_task_ids(pushed.project_id, int(view["id"])) == sorted([tasks[items[2]], tasks[items[5]]])
    hidden = view["data"]["hiddenColumns"]["explore"]
    assert "tasks:data.html" in hidden and "tasks:data.needs_recoding" not in hidden
    # Every coded row says its codebook version: exported, and counted apart with aggregate --by-version.
    after = tmp_path / "coded-v2.csv"
    assert cli("export", "coded", "--db", db, "--project", pushed.project, "--out", after).returncode == 0
    frames = [pd.read_csv(path, dtype={"codebook_version": str}) for path in (before, after)]
    assert [set(f["codebook_version"]) for f in frames] == [{"1.0"}, {"2.0"}]
    both = tmp_path / "coded-both.csv"
    pd.concat(frames).to_csv(both, index=False)
    counts = tmp_path / "by-version.csv"
    res = cli("aggregate", "--db", db, "--coded", both, "--item-col", "item_id", "--code-col", "code_id",
              "--version-col", "codebook_version", "--by-version", "--level", "code", "--period", "none",
              "--out", counts)
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(counts, dtype={"group": str}).set_index(["group", "code_id"])["n"]
    assert table[("1.0", "E.SETUP.INSTALL")] == 1 and table[("2.0", "E.SETUP.ENV")] == 2
    assert ("1.0", "E.SETUP.ENV") not in table.index or table[("1.0", "E.SETUP.ENV")] == 0
    from_store = tmp_path / "store-by-version.csv"
    res = cli("aggregate", "--db", db, "--project", pushed.project, "--view", "coders", "--by-version", "--level",
              "code", "--period", "none", "--out", from_store)
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(from_store, dtype={"group": str})
    assert set(table["group"]) == {"2.0"} and table.set_index("code_id")["n"]["E.SETUP.ENV"] == 2
    # Running it again changes nothing.
    again = cli(*args, env=env)
    assert again.returncode == 0 and again.stdout.startswith("done: project"), again.stdout
    with Store(db) as store:
        assert len(store.codebook_migrations(pushed.project)) == 1 and len(store.recode_queue(pushed.project)) == 2
    # The methods appendix names both versions and lists the changes, explained by the migration's map.
    appendix = tmp_path / "appendix"
    res = cli("appendix", "--db", db, "--project", pushed.project, "--out", appendix, "--boot", "0")
    assert res.returncode == 0, res.stderr
    methods = (appendix / "methods.md").read_text(encoding="utf-8").replace("\\", "")  # Markdown escapes off
    assert "| evo | Evolution test | 1.0 |" in methods and "| evo | Evolution test | 2.0 |" in methods
    assert "migrated from" in methods and "Changes from evo 1.0 to 2.0:" in methods
    for line in ("renamed E.RUN.OOM 'Out of memory' -> E.RUN.MEMORY 'Memory'",
                 "merged E.SETUP.INSTALL + E.SETUP.CONFIG -> E.SETUP.ENV",
                 "split E.RUN.CRASH -> E.RUN.CRASH_GPU | E.RUN.CRASH_CPU (items need recoding)", "retired E.MISC",
                 "renamed E.SETUP 'Setup' -> E.SETUP 'Set-up'"):
        assert f"- {line}" in methods, line
    # A bad map through migrate: one line per problem, exit 2, before Label Studio is touched.
    bad = tmp_path / "bad.yaml"
    bad.write_text(MAP.replace("E.RUN.OOM:", "E.RUN.OMM:"), encoding="utf-8")
    newer = tmp_path / "newer.yaml"
    newer.write_text(NEW.replace('version: "2.0"', 'version: "3.0"'), encoding="utf-8")
    res = cli("codebook", "migrate", "--db", db, "--project", pushed.project, "--to", newer, "--map", bad,
              "--url", studio.url, env=env)
    assert res.returncode == 2 and all(line.startswith("error: ") for line in res.stderr.strip().splitlines())
    assert "rename E.RUN.OMM: E.RUN.OMM is not a code of OLD (evo 2.0)" in res.stderr

