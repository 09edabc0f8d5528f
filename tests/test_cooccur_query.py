"""Co-occurrence and queries on a hand-made coded store, against tables worked out by hand below.

The store is written with INSERTs (no Label Studio, no crawl): a forum of 8 topics in two categories, a
project coded by alice and bob with a small codebook. The consensus (majority: both of two coders) gives each
item the codes below, worked by hand; item 6 has codes from one coder each (no consensus code), item 7 was
skipped (not a coded item).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from forumkit.analysis.cooccur import CoOccurrence
from forumkit.analysis.itemcodes import item_codes
from forumkit.analysis.query import query_items
from forumkit.analysis.report.cooccurrence import cooccurrence_section
from forumkit.analysis.aggregate import load_coded
from forumkit.coding.codebook import Codebook
from forumkit.errors import UsageError
from forumkit.store import Store

from .conftest import cli

NOW = "2026-01-01T00:00:00.000Z"
BOOK = Codebook.from_dict({"id": "t", "name": "Test", "version": "1", "codes": [
    {"id": "T.LOAD", "name": "Model loading", "children": [
        {"id": "T.LOAD.CONFIG", "name": "Config files"},
        {"id": "T.LOAD.WEIGHTS", "name": "Weights", "children": [{"id": "T.LOAD.WEIGHTS.SHARDED",
                                                                  "name": "Sharded weights"}]}]},
    {"id": "T.PERF", "name": "Performance", "children": [
        {"id": "T.PERF.SPEED", "name": "Speed"}, {"id": "T.PERF.MEMORY", "name": "Memory"}]},
    {"id": "T.DOCS", "name": "Documentation"}]})
CONFIG, WEIGHTS, SHARDED = "T.LOAD.CONFIG", "T.LOAD.WEIGHTS", "T.LOAD.WEIGHTS.SHARDED"
SPEED, MEMORY, DOCS = "T.PERF.SPEED", "T.PERF.MEMORY", "T.DOCS"
BEGINNERS, INTERMEDIATE = 1, 2
# topic id: (category, created_at, title, consensus codes, alice's extra codes, bob's extra codes)
TOPICS = {
    1: (BEGINNERS, "2021-06-01T10:00:00.000Z", "Cannot load config", [CONFIG, SPEED], [], []),
    2: (BEGINNERS, "2022-02-01T10:00:00.000Z", "Weights missing", [WEIGHTS], [DOCS], []),
    3: (INTERMEDIATE, "2022-03-01T10:00:00.000Z", "Slow and out of memory", [SPEED, MEMORY], [], []),
    4: (BEGINNERS, "2022-05-01T10:00:00.000Z", "Docs on sharded loading", [CONFIG, SHARDED, DOCS], [], []),
    5: (INTERMEDIATE, "2023-01-01T10:00:00.000Z", "Docs on memory", [DOCS, MEMORY], [], []),
    6: (BEGINNERS, "2023-02-01T10:00:00.000Z", "Nothing agreed", [], [CONFIG], [SPEED]),
    7: (BEGINNERS, "2023-03-01T10:00:00.000Z", "Skipped", [], [], []),
    8: (INTERMEDIATE, "2023-04-01T10:00:00.000Z", "Slow config loading", [CONFIG, SPEED], [], []),
}
POSTS = {2: ["I cannot find the weights.", "Try from_pretrained with the revision."]}  # others: one post each
# The consensus codes at each level, by hand (item 6: none):
#   category:    1 {LOAD, PERF}  2 {LOAD}  3 {PERF}  4 {LOAD, DOCS}  5 {DOCS, PERF}  8 {LOAD, PERF}
#   subcategory: 1 {CONFIG, SPEED}  2 {WEIGHTS}  3 {SPEED, MEMORY}  4 {CONFIG, WEIGHTS, DOCS}  5 {DOCS, MEMORY}
#                8 {CONFIG, SPEED}
#   code:        as subcategory, but item 4 has SHARDED (not WEIGHTS)


def _insert(db, table: str, **values) -> None:
    db.execute(f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
               tuple(values.values()))


@pytest.fixture(scope="module")
def coded(tmp_path_factory):
    path = tmp_path_factory.mktemp("cooccur") / "coded.db"
    with Store(path) as store, store.transaction():
        db = store.db
        _insert(db, "forums", id=1, url="https://forum.test", added_at=NOW)
        for cat, name in ((BEGINNERS, "Beginners"), (INTERMEDIATE, "Intermediate")):
            _insert(db, "categories", forum_id=1, id=cat, name=name, slug=name.lower())
        post_id = 100
        for topic, (cat, created, title, *_rest) in TOPICS.items():
            texts = POSTS.get(topic, [f"Text of topic {topic}."])
            _insert(db, "topics", forum_id=1, id=topic, category_id=cat, title=title, slug=f"t{topic}",
                    created_at=created, posts_count=len(texts))
            for number, text in enumerate(texts, start=1):
                post_id += 1
                _insert(db, "posts", forum_id=1, id=post_id, topic_id=topic, post_number=number, post_type=1,
                        created_at=created, version=1, like_count=0, hidden=0, user_deleted=0, accepted_answer=0,
                        author_staff=0, author_admin=0, author_moderator=0, cooked=f"<p>{text}</p>", text=text,
                        code="", code_blocks=0, inline_code=0, quotes=0, links=0, images=0, oneboxes="[]",
                        fetched_at=NOW)
        _insert(db, "codebooks", id=BOOK.id, version=BOOK.version, content=json.dumps(BOOK.to_dict()), added_at=NOW)
        _insert(db, "studio_projects", id=1, url="http://studio.test", project_id=11, title="round 1", forum_id=1,
                unit="topic", codebooks=json.dumps([[BOOK.id, BOOK.version]]), created_at=NOW)
        annotation = 0
        for topic, (_, _, _, agreed, alice, bob) in TOPICS.items():
            for coder, extra in (("alice@lab.test", alice), ("bob@lab.test", bob)):
                annotation += 1
                _insert(db, "annotations", project=1, annotation_id=annotation, task_id=500 + annotation,
                        item_id=topic, coder=coder, annotated_at=NOW, lead_time=10.0, was_cancelled=int(topic == 7),
                        memo=None, pulled_at=NOW)
                for code in agreed + extra:
                    category, subcategory = BOOK.category_of(code)
                    _insert(db, "coded", project=1, annotation_id=annotation, code_id=code, codebook_id=BOOK.id,
                            category=category, subcategory=subcategory, codebook_version=BOOK.version)
    return path


def _pairs(co: CoOccurrence) -> list[tuple]:
    return [(r.code_a, r.code_b, r.n_a, r.n_b, r.n_ab, round(r.jaccard, 4)) for r in co.pairs_.itertuples()]


def test_cooccurrence_per_level_equals_the_hand_count(coded):
    with Store(coded) as store:
        found = item_codes(store, 1)
    assert found.items["item_id"].tolist() == [1, 2, 3, 4, 5, 6, 8]  # 7 skipped; 6 coded, no consensus code
    category = CoOccurrence("category").fit(found.tidy(), [BOOK])
    assert category.n_items_ == 7
    assert category.codes_[["code_id", "n"]].values.tolist() == [["T.LOAD", 4], ["T.PERF", 4], ["T.DOCS", 2]]
    # LOAD & PERF: items 1, 8 of 1, 2, 3, 4, 5, 8 -> 2/6; LOAD & DOCS: item 4 of 1, 2, 4, 5, 8 -> 1/5; PERF & DOCS: 5
    assert _pairs(category) == [("T.LOAD", "T.PERF", 4, 4, 2, 0.3333), ("T.LOAD", "T.DOCS", 4, 2, 1, 0.2),
                                ("T.PERF", "T.DOCS", 4, 2, 1, 0.2)]
    assert category.matrix_.loc["T.LOAD", "T.PERF"] == 2 and category.matrix_.loc["T.DOCS", "T.DOCS"] == 2
    sub = CoOccurrence("subcategory").fit(found.tidy(), [BOOK])
    # n: CONFIG 3 (1, 4, 8), SPEED 3 (1, 3, 8), WEIGHTS 2 (2, 4), MEMORY 2 (3, 5), DOCS 2 (4, 5); ties in book order
    assert sub.codes_["code_id"].tolist() == [CONFIG, SPEED, WEIGHTS, MEMORY, DOCS]
    assert _pairs(sub) == [
        (CONFIG, SPEED, 3, 3, 2, 0.5),        # items 1, 8 of 1, 3, 4, 8
        (WEIGHTS, DOCS, 2, 2, 1, 0.3333),     # item 4 of 2, 4, 5
        (MEMORY, DOCS, 2, 2, 1, 0.3333),      # item 5 of 3, 4, 5
        (CONFIG, WEIGHTS, 3, 2, 1, 0.25),     # item 4 of 1, 2, 4, 8
        (CONFIG, DOCS, 3, 2, 1, 0.25),        # item 4 of 1, 4, 5, 8
        (SPEED, MEMORY, 3, 2, 1, 0.25),       # item 3 of 1, 3, 5, 8
        (CONFIG, MEMORY, 3, 2, 0, 0.0), (SPEED, WEIGHTS, 3, 2, 0, 0.0), (SPEED, DOCS, 3, 2, 0, 0.0),
        (WEIGHTS, MEMORY, 2, 2, 0, 0.0)]
    code = CoOccurrence("code").fit(found.tidy(), [BOOK])
    assert code.codes_.set_index("code_id")["n"].to_dict() == {CONFIG: 3, SPEED: 3, MEMORY: 2, DOCS: 2, WEIGHTS: 1,
                                                               SHARDED: 1}
    assert code.matrix_.loc[SHARDED, DOCS] == 1 and code.matrix_.loc[WEIGHTS, DOCS] == 0


def test_rules_decide_which_codes_an_item_has(coded):
    with Store(coded) as store:
        anyone = CoOccurrence("category").fit(item_codes(store, 1, rule="any").tidy(), [BOOK])
        unanimous = CoOccurrence("category").fit(item_codes(store, 1, rule="unanimous").tidy(), [BOOK])
        with pytest.raises(UsageError, match="unknown rule"):
            item_codes(store, 1, rule="most")
    # any coder's codes add alice's DOCS on item 2 and item 6's CONFIG (alice) and SPEED (bob)
    assert anyone.codes_.set_index("code_id")["n"].to_dict() == {"T.LOAD": 5, "T.PERF": 5, "T.DOCS": 3}
    assert anyone.matrix_.loc["T.LOAD", "T.PERF"] == 3  # items 1, 6, 8
    assert unanimous.codes_.set_index("code_id")["n"].to_dict() == {"T.LOAD": 4, "T.PERF": 4, "T.DOCS": 2}


@pytest.mark.parametrize("query, options, expected", [
    ("'Model loading' and not Performance", {}, [2, 4]),
    ("Model loading AND NOT performance", {}, [2, 4]),              # bare words, any case
    ("Performance or Documentation", {}, [1, 3, 4, 5, 8]),
    ("not (Performance or Documentation)", {}, [2, 6]),             # coded items without either: 6 has no code
    ("T.LOAD.CONFIG and (Speed or Documentation)", {}, [1, 4, 8]),
    ("Speed or Memory and Documentation", {}, [1, 3, 5, 8]),        # and binds tighter than or
    ("Weights", {}, [2, 4]),                                        # a code stands for the codes below it
    ("'sharded WEIGHTS'", {}, [4]),
    ("'Model loading'", {"categories": ["beginners"]}, [1, 2, 4]),
    ("'Model loading'", {"since": "2022-01-01"}, [2, 4, 8]),
    ("'Model loading'", {"since": "2022-01-01", "until": "2023-01-01"}, [2, 4]),
    ("not Performance", {"categories": ["Beginners"], "since": "2022-01-01"}, [2, 4, 6]),
    ("Documentation", {"rule": "any"}, [2, 4, 5]),
    ("Documentation or 'Config files'", {"adjudicator": "alice@lab.test"}, [1, 2, 4, 5, 6, 8]),  # alice's codes
])
def test_queries_select_the_hand_checked_items(coded, query, options, expected):
    with Store(coded) as store:
        found = query_items(store, query, 1, **options)
    assert found["item_id"].tolist() == expected


def test_query_rows_carry_title_date_category_codes_and_the_one_text(coded):
    with Store(coded) as store:
        found = query_items(store, "Weights", 1).set_index("item_id")
    row = found.loc[2]
    assert (row["title"], row["created_at"], row["forum_category"], row["codes"]) == (
        "Weights missing", "2022-02-01T10:00:00.000Z", "Beginners", WEIGHTS)
    assert row["text"] == "Weights missing\n\nI cannot find the weights.\n\nTry from_pretrained with the revision."
    assert found.loc[4, "codes"] == f"{DOCS}|{CONFIG}|{SHARDED}"


def test_cli_writes_the_pairs_and_the_heatmap(coded, tmp_path):
    res = cli("cooccur", "--db", coded, "--project", 1, "--level", "subcategory", "--out", tmp_path / "co.csv")
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(tmp_path / "co.csv")
    assert table.iloc[0][["code_a", "code_b", "n_ab"]].tolist() == [CONFIG, SPEED, 2]
    assert len(table) == 10
    for suffix in ("png", "svg"):
        assert (tmp_path / f"co.{suffix}").stat().st_size > 1000
    assert "Config files" in res.stdout and "0.500" in res.stdout
    res = cli("cooccur", "--db", coded, "--out", tmp_path / "co.parquet")
    assert res.returncode == 0, res.stderr
    assert pd.read_parquet(tmp_path / "co.parquet")["n_ab"].tolist() == [2, 1, 1]


def test_cli_query_prints_and_writes_the_items_in_full(coded, tmp_path):
    res = cli("query", "--db", coded, "--project", 1, "'Model loading' and not Performance", "--category",
              "Beginners", "--since", "2022-01-01", "--out", tmp_path / "items.csv")
    assert res.returncode == 0, res.stderr
    written = pd.read_csv(tmp_path / "items.csv")
    assert written["item_id"].tolist() == [2, 4]
    assert written.loc[0, "text"].endswith("Try from_pretrained with the revision.")
    assert "Weights" in res.stdout and "2 coded items match" in res.stdout and "2 items written" in res.stderr


@pytest.mark.parametrize("query, options, message", [
    ("Perfomance and Speed", (), "error: unknown code 'Perfomance' in the query; did you mean 'Performance'?"),
    ("Speed and and Memory", (), "error: cannot read the query 'Speed and and Memory' at 'and' (column 11)"),
    ("(Speed or Memory", (), "error: cannot read the query '(Speed or Memory' at its end"),
    ("Speed", ("--category", "Begginers"), "error: no coded item is in the forum category 'Begginers'; did you "
                                           "mean 'Beginners'?"),
    ("Speed", ("--since", "01/02/2022"), "error: --since '01/02/2022' is not a date"),
    ("Speed and beginners", (), "error: 'beginners' in the query is a forum category, not a code; filter by it with "
                                "--category 'Beginners'"),
    ("Speed", ("--rule", "unanimous", "--adjudicator", "alice@lab.test"), "error: an adjudicator decides the "
                                                                           "majority rule's codes"),
])
def test_bad_queries_are_one_line_usage_errors(coded, query, options, message):
    res = cli("query", "--db", coded, query, *options)
    assert res.returncode == 2
    assert res.stderr.startswith(message), res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr


def test_report_gains_the_cooccurrence_section(coded, tmp_path):
    with Store(coded) as store:
        table = load_coded(store=store, project=1, view="consensus")
    figs, tables = tmp_path / "figures", tmp_path / "tables"
    tables.mkdir()
    section = cooccurrence_section(table, [BOOK], figs, tables)
    html = "".join(section.blocks)
    assert section.title == "Co-occurrence" and "class='absent'" not in html
    assert section.intro.startswith("7 coded items, 3 categories, 3 of 3 pairs")
    assert "<svg" in html and (figs / "cooccurrence_categories.png").stat().st_size > 1000
    assert pd.read_csv(tables / "cooccurrence_category.csv")["n_ab"].tolist() == [2, 1, 1]
    assert len(pd.read_csv(tables / "cooccurrence_subcategory.csv")) == 10
    empty = cooccurrence_section(None, None, figs, tables)
    assert "class='absent'" in "".join(empty.blocks)


def test_without_two_codes_there_is_no_pair_and_no_heatmap(coded, tmp_path):
    db = tmp_path / "uncoded.db"
    db.write_bytes(coded.read_bytes())
    with Store(db) as store, store.transaction():
        store.db.execute("DELETE FROM coded WHERE code_id NOT LIKE 'T.DOCS'")  # one category left: Documentation
    res = cli("cooccur", "--db", db, "--out", tmp_path / "co.csv")
    assert res.returncode == 0, res.stderr
    assert pd.read_csv(tmp_path / "co.csv").empty and not (tmp_path / "co.png").exists()
    assert "1 category code(s) on the 7 coded items: no pair, no heatmap" in " ".join(res.stderr.split())
    with Store(db) as store:
        table = load_coded(store=store, project=1, view="consensus")
    (tmp_path / "tables").mkdir()
    section = cooccurrence_section(table, [BOOK], tmp_path / "figures", tmp_path / "tables")
    assert "1 category coded on 7 items: co-occurrence needs two or more" in "".join(section.blocks)
