"""`forumkit aggregate --by round`: counts per coding round (studio_projects.round), from a store or a file.

The store is built with INSERTs (no Label Studio, no crawl): three projects over four topics, in round 1,
round 2 and outside rounds; the expected counts are written out by hand next to each assertion.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from forumkit.coding.codebook import load_codebook
from forumkit.store import Store, utcnow

from .conftest import cli

ROOT = Path(__file__).resolve().parents[1]
CHALLENGES = load_codebook(ROOT / "forumkit" / "codebooks" / "hf-challenges.yaml")
MUU = "CH.MODEL_USAGE_AND_UNDERSTANDING"
CUSTOM = "CH.MODEL_USAGE_AND_UNDERSTANDING.CUSTOMIZING_MODEL"
SPACES = "CH.SPACES"
ALICE, BOB = "alice@lab.test", "bob@lab.test"

# project -> (round, [(topic, coder, codes)]); one coder per item, so each code is the item's consensus
PROJECTS = {
    1: (1, [(1, ALICE, [CUSTOM]), (2, ALICE, [SPACES]), (3, ALICE, [])]),
    2: (2, [(1, BOB, [SPACES]), (2, BOB, [SPACES]), (3, BOB, [CUSTOM, SPACES]), (4, BOB, [])]),
    3: (None, [(4, ALICE, [SPACES])]),
}


@pytest.fixture(scope="module")
def rounds_store(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("rounds") / "rounds.db"
    now = utcnow()
    with Store(db) as store, store.transaction():
        store.db.execute("INSERT INTO forums (id, url, added_at) VALUES (1, 'https://forum.test', ?)", (now,))
        store.db.execute("INSERT INTO categories (forum_id, id, name, slug) VALUES (1, 5, 'Beginners', 'beginners')")
        for topic in range(1, 5):
            store.db.execute("INSERT INTO topics (forum_id, id, category_id, title, slug, created_at, posts_count)"
                             " VALUES (1, ?, 5, ?, ?, ?, 1)", (topic, f"topic {topic}", f"t{topic}",
                                                               f"2023-0{topic}-05T10:00:00Z"))
        store.db.execute("INSERT INTO codebooks (id, version, content, added_at) VALUES (?, ?, ?, ?)",
                         (CHALLENGES.id, CHALLENGES.version, json.dumps(CHALLENGES.to_dict()), now))
        books = json.dumps([[CHALLENGES.id, CHALLENGES.version]])
        annotation = 0
        for project, (round_, coded) in PROJECTS.items():
            store.db.execute("INSERT INTO studio_projects (id, url, project_id, title, forum_id, sample_id, unit,"
                             " codebooks, created_at, round) VALUES (?, 'http://studio.test', ?, ?, 1, NULL,"
                             " 'topic', ?, ?, ?)", (project, 10 + project, f"p{project}", books, now, round_))
            for topic, coder, codes in coded:
                annotation += 1
                store.db.execute("INSERT INTO annotations (project, annotation_id, task_id, item_id, coder,"
                                 " annotated_at, lead_time, was_cancelled, memo, pulled_at)"
                                 " VALUES (?, ?, ?, ?, ?, ?, 5.0, 0, NULL, ?)",
                                 (project, annotation, 100 + annotation, topic, coder, now, now))
                for code in codes:
                    store.db.execute("INSERT INTO coded (project, annotation_id, code_id, codebook_id, category,"
                                     " subcategory, codebook_version) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                     (project, annotation, code, CHALLENGES.id, *CHALLENGES.category_of(code),
                                      CHALLENGES.version))
    return db


def _totals(path: Path) -> dict[tuple[str, str], tuple[int, int]]:
    table = pd.read_csv(path)
    return {(r.group, r.code_id): (int(r.n), int(r.n_items)) for r in table.itertuples()}


@pytest.mark.parametrize("view", ["consensus", "coders"])
def test_by_round_counts_every_project_per_round(rounds_store, tmp_path, view):
    out = tmp_path / "rounds.csv"
    result = cli("aggregate", "--db", rounds_store, "--by", "round", "--period", "none", "--view", view,
                 "--out", out, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    totals = _totals(out)
    assert {g for g, _ in totals} == {"round 1", "round 2", "project 3"}  # project 3 is outside rounds
    # round 1 (project 1): topics 1 (Customizing -> MUU), 2 (Spaces), 3 (no code): 3 items
    assert totals["round 1", MUU] == (1, 3) and totals["round 1", SPACES] == (1, 3)
    # round 2 (project 2): Spaces on topics 1, 2, 3; Customizing on 3; topic 4 no code: 4 items
    assert totals["round 2", MUU] == (1, 4) and totals["round 2", SPACES] == (3, 4)
    # project 3: Spaces on topic 4
    assert totals["project 3", SPACES] == (1, 1) and totals["project 3", MUU] == (0, 1)


def test_by_round_of_one_project_and_of_a_file(rounds_store, tmp_path):
    out = tmp_path / "one.csv"
    result = cli("aggregate", "--db", rounds_store, "--project", "2", "--by", "round", "--period", "none",
                 "--out", out, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert {g for g, _ in _totals(out)} == {"round 2"}
    assert _totals(out)["round 2", SPACES] == (3, 4)
    # a file with its own round column (--round-col), counted on its own and as a Parquet dataset
    rows = [(item, code, f"r{p}") for p, (_, coded) in PROJECTS.items() for item, _, codes in coded
            for code in (codes or [None])]
    frame = pd.DataFrame(rows, columns=["item", "code", "wave"])
    frame.to_csv(tmp_path / "coded.csv", index=False)
    (tmp_path / "ds").mkdir()
    frame.to_parquet(tmp_path / "ds" / "part.parquet", index=False)
    for source in (["--coded", tmp_path / "coded.csv"], ["--dataset", tmp_path / "ds"]):
        result = cli("aggregate", *source, "--round-col", "wave", "--by", "round", "--period", "none",
                     "--level", "code", "--out", out, cwd=ROOT)
        assert result.returncode == 0, result.stderr
        totals = _totals(out)
        assert totals["r2", SPACES] == (3, 4) and totals["r1", CUSTOM] == (1, 3) and totals["r3", SPACES] == (1, 1)


def test_several_projects_without_by_round_still_ask_for_one(rounds_store, tmp_path):
    result = cli("aggregate", "--db", rounds_store, "--out", tmp_path / "x.csv", cwd=ROOT)
    assert result.returncode == 2  # the project's codebooks are asked for first: a usage error
    assert result.stderr.startswith("error: the store has several projects") and "--project" in result.stderr
