"""Sampling: Cochran sizes, allocation, seeded draws, filters, saving, and the `sample` commands.

Stores come from the real scraper: `forumkit demo` scrapes the shipped forum snapshot once per session
(305 topics, 2020-12 to 2023-07, 14 pinned "About" topics and 2 pinned welcome topics; 289 topics remain).
"""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from forumkit.errors import UsageError
from forumkit.coding.sampling import (SampleDesign, allocate, cochran_size, draw_sample, list_samples, load_sample,
                               period_labels, sample_table, save_sample)
from forumkit.store import Store

from .conftest import cli


def forumkit(*args: str) -> subprocess.CompletedProcess:
    """The `forumkit` command, in this process (tests/conftest.py: cli)."""
    return cli(*args, env={"COLUMNS": "200"})


@pytest.fixture(scope="session")
def demo_db(demo_workdir) -> Path:
    return demo_workdir / "sample.db"


@pytest.fixture
def db(demo_db, tmp_path) -> Path:
    """A private copy of the demo store (tests save samples into it)."""
    path = tmp_path / "forum.db"
    with sqlite3.connect(demo_db) as src, sqlite3.connect(path) as dst:
        src.backup(dst)
        dst.execute("DELETE FROM sample_items")  # the demo draws a sample too: start without it
        dst.execute("DELETE FROM samples")
    return path


@pytest.fixture
def store(db):
    with Store(db) as s:
        yield s


def ids(store, sql, *args) -> set[int]:
    return {r[0] for r in store.query(sql, args)}


LIVE_TOPICS = """SELECT id FROM topics t WHERE removed_at IS NULL AND pinned = 0
                 AND id NOT IN (SELECT definition_topic_id FROM categories WHERE definition_topic_id IS NOT NULL)"""


def draw_all(store, expected: set[int], **design) -> set[int]:
    """Draw the whole population of a design and check that it is exactly `expected`."""
    sample = draw_sample(store, SampleDesign("all", size=len(expected), **design))
    assert sample.population_size == len(expected)
    got = set(sample.items["item_id"])
    assert got == expected
    return got


# -- sample size --------------------------------------------------------------------------------------------------

# By hand, z(95%) = 1.959964, z² = 3.841459:  n0 = 3.841459 · 0.25 / 0.0025 = 384.146.
#   N = 11175 (the paper's population): 384.146 / (1 + 383.146/11175) = 384.146 / 1.034286 = 371.41 -> 372
#   N = 1000: 384.146 / 1.383146 = 277.73 -> 278;  N = 500: 384.146 / 1.766292 = 217.49 -> 218
#   N = 100: 384.146 / 4.831460 = 79.51 -> 80;     N = 10⁹: 384.146 -> 385
# z(99%) = 2.575829, z² = 6.634897: n0 = 663.49 -> 664.  95% and ±3%: n0 = 3.841459 · 0.25 / 0.0009 = 1067.07 -> 1068
@pytest.mark.parametrize("population, confidence, margin, expected", [
    (11175, 0.95, 0.05, 372), (1000, 0.95, 0.05, 278), (500, 0.95, 0.05, 218), (100, 0.95, 0.05, 80),
    (10**9, 0.95, 0.05, 385), (10**9, 0.99, 0.05, 664), (10**9, 0.95, 0.03, 1068), (1, 0.95, 0.05, 1),
])
def test_cochran_textbook_values(population, confidence, margin, expected):
    assert cochran_size(population, confidence, margin).n == expected


def test_cochran_explains_its_numbers():
    size = cochran_size(11175)
    assert size.z == pytest.approx(1.959964, abs=1e-6)
    assert size.n0 == pytest.approx(384.146, abs=1e-3)
    text = size.explain()
    assert "1.96²·0.5·0.5/0.05² = 384.1" in text
    assert "384.1/(1+383.1/11175) = 371.4 -> 372" in text


@pytest.mark.parametrize("args", [(100, 1.5), (100, 0.95, 0), (0,)])
def test_cochran_rejects_nonsense(args):
    with pytest.raises(UsageError):
        cochran_size(*args)


# -- allocation ---------------------------------------------------------------------------------------------------

def test_proportional_allocation_by_hand():
    # quotas 10·N_h/100 = 5, 3, 1.5, 0.5: floors 5+3+1+0 = 9; the last unit goes to C (tie with D on .5, C is
    # larger); D is empty though non-empty, so it takes 1 from C, the only stratum above its quota (2 > 1.5)
    assert allocate({"A": 50, "B": 30, "C": 15, "D": 5}, 10) == {"A": 5, "B": 3, "C": 1, "D": 1}
    assert allocate({"A": 10, "B": 20, "C": 30}, 12) == {"A": 2, "B": 4, "C": 6}
    # quotas 3.5, 3.5, 3.0: one unit left, tie between A and B of the same size: label order
    assert allocate({"A": 7, "B": 7, "C": 6}, 10) == {"A": 4, "B": 3, "C": 3}
    # fewer units than strata: no minimum of one
    assert allocate({"A": 90, "B": 5, "C": 5}, 2) == {"A": 2, "B": 0, "C": 0}


def test_equal_allocation_caps_small_strata():
    # 30 / 3 = 10 each, but B has 2: its 8 go to A and C (28 / 2 = 14)
    assert allocate({"A": 100, "B": 2, "C": 50}, 30, "equal") == {"A": 14, "B": 2, "C": 14}
    # 31: the odd unit goes to the largest stratum
    assert allocate({"A": 100, "B": 2, "C": 50}, 31, "equal") == {"A": 15, "B": 2, "C": 14}
    assert allocate({"A": 3, "B": 2}, 5, "equal") == {"A": 3, "B": 2}


def test_stratified_by_year_matches_hand_allocation(store):
    # topics by UTC year: 2021: 75, 2022: 141, 2023: 73 (N = 289); quotas of 30: 7.785, 14.637, 7.578
    # floors 7 + 14 + 7 = 28; the two largest remainders (.785, .637) get one more: 8, 15, 7
    by_year = {r[0]: r[1] for r in store.query(
        f"SELECT substr(created_at, 1, 4), count(*) FROM topics WHERE id IN ({LIVE_TOPICS}) GROUP BY 1")}
    assert by_year == {"2021": 75, "2022": 141, "2023": 73}
    sample = draw_sample(store, SampleDesign("y", size=30, strata="period", period="year"))
    assert sample.design.method == "stratified"
    assert sample.population == by_year
    assert sample.allocation == {"2021": 8, "2022": 15, "2023": 7}
    assert sample.items.groupby("stratum").size().to_dict() == sample.allocation
    assert sample.items["item_id"].is_unique and sorted(sample.items["position"]) == list(range(1, 31))
    weights = sample.items.groupby("stratum")["weight"].first().to_dict()
    assert weights == pytest.approx({"2021": 75 / 8, "2022": 141 / 15, "2023": 73 / 7})
    years = {r[0]: r[1][:4] for r in store.query("SELECT id, created_at FROM topics")}
    assert all(years[i] == h for i, h in zip(sample.items["item_id"], sample.items["stratum"]))


def test_equal_allocation_over_categories(store):
    # top-level categories (Course holds its chapters): Beginners 96, Transformers 84, Intermediate 34,
    # Models 17, Research 13, Hub 12, Course 11, Spaces 7, Datasets 5, Uncategorized 4, SageMaker 3, Feedback 3.
    # 60 / 12 = 5: the four strata of 5 or fewer give all they have (15); 45 / 8 = 5 rest 5 -> the 5 largest get 6
    sample = draw_sample(store, SampleDesign("c", size=60, strata="category", allocation="equal"))
    assert sample.population["Course"] == 11 and sum(sample.population.values()) == 289
    assert sample.allocation == {
        "Beginners": 6, "🤗Transformers": 6, "Intermediate": 6, "Models": 6, "Research": 6, "🤗Hub": 5, "Course": 5,
        "Spaces": 5, "🤗Datasets": 5, "Uncategorized": 4, "Amazon SageMaker": 3, "Site Feedback": 3}
    assert sample.items.groupby("stratum").size().to_dict() == sample.allocation


def test_cochran_size_is_allocated_over_strata(store):
    sample = draw_sample(store, SampleDesign("q", strata="period", period="quarter"))
    assert sample.size.n == cochran_size(289).n == 166 == sample.n == sum(sample.allocation.values())
    assert min(sample.allocation.values()) >= 1


def test_periods_are_calendar_periods_in_utc():
    stamps = pd.Series(["2021-03-31T23:59:59.999Z", "2021-04-01T00:00:00.000Z", "2021-04-01T01:00:00+02:00",
                        "2020-12-31T23:30:00-01:00", "2024-02-29T12:00:00Z"])
    assert list(period_labels(stamps, "quarter")) == ["2021-Q1", "2021-Q2", "2021-Q1", "2021-Q1", "2024-Q1"]
    assert list(period_labels(stamps, "month")) == ["2021-03", "2021-04", "2021-03", "2021-01", "2024-02"]
    assert list(period_labels(stamps, "year")) == ["2021", "2021", "2021", "2021", "2024"]


# -- reproducibility ----------------------------------------------------------------------------------------------

def test_same_seed_same_sample_whatever_the_row_order(store):
    for unit in ("topic", "post"):
        design = SampleDesign("r", unit=unit, size=40, strata="category", seed=7)
        first = draw_sample(store, design).items
        pd.testing.assert_frame_equal(first, draw_sample(store, design).items)
        other = draw_sample(store, SampleDesign("r", unit=unit, size=40, strata="category", seed=8)).items
        assert set(other["item_id"]) != set(first["item_id"])
        # SQLite returning every unordered SELECT in reverse order changes nothing
        store.db.execute("PRAGMA reverse_unordered_selects=ON")
        assert store.query("SELECT id FROM topics WHERE forum_id = 1 LIMIT 1")[0][0] > 300
        pd.testing.assert_frame_equal(first, draw_sample(store, design).items)
        store.db.execute("PRAGMA reverse_unordered_selects=OFF")


# -- filters ------------------------------------------------------------------------------------------------------

def test_date_filters(store):
    expected = ids(store, f"{LIVE_TOPICS} AND created_at >= '2022-01-01' AND created_at < '2022-07-01'")
    draw_all(store, expected, since="2022-01-01", until="2022-07-01")
    with pytest.raises(UsageError, match="not a date"):
        SampleDesign("d", since="2022-02-30")
    with pytest.raises(UsageError, match="not before"):
        SampleDesign("d", since="2023-01-01", until="2022-01-01")


def test_category_filter_includes_subcategories(store):
    course = ids(store, f"{LIVE_TOPICS} AND category_id IN (SELECT id FROM categories WHERE slug = 'course'"
                        " OR parent_id = (SELECT id FROM categories WHERE slug = 'course'))")
    chapters = ids(store, f"{LIVE_TOPICS} AND category_id IN (SELECT id FROM categories WHERE slug LIKE 'chapter-%')")
    assert chapters and chapters < course
    draw_all(store, course, categories=("Course",))
    spaces = ids(store, f"{LIVE_TOPICS} AND category_id = (SELECT id FROM categories WHERE slug = 'spaces')")
    draw_all(store, course | spaces, categories=("course", "8"))  # a slug and an id
    with pytest.raises(UsageError, match="unknown category 'nope'"):
        draw_sample(store, SampleDesign("x", categories=("nope",)))


def test_min_posts_accepted_and_pinned_filters(store):
    busy = ids(store, f"""{LIVE_TOPICS} AND (SELECT count(*) FROM posts p WHERE p.topic_id = t.id
                          AND p.post_type = 1 AND p.removed_at IS NULL) >= 4""")
    assert 0 < len(busy) < 289
    draw_all(store, busy, min_posts=4)
    accepted = ids(store, f"{LIVE_TOPICS} AND has_accepted_answer = 1")
    assert 0 < len(accepted) < 289
    draw_all(store, accepted, accepted_only=True)
    everything = ids(store, "SELECT id FROM topics WHERE removed_at IS NULL")
    assert len(everything) == 305
    draw_all(store, everything, exclude_pinned_and_about=False)


def test_post_unit(store):
    posts = ids(store, f"""SELECT id FROM posts WHERE removed_at IS NULL AND post_type = 1 AND hidden = 0
                           AND user_deleted = 0 AND topic_id IN ({LIVE_TOPICS}) AND created_at >= '2022-06-01'""")
    assert len(ids(store, "SELECT id FROM posts WHERE post_type != 1 OR hidden = 1 OR user_deleted = 1")) >= 10
    draw_all(store, posts, unit="post", since="2022-06-01")
    sample = draw_sample(store, SampleDesign("p", unit="post", size=25, strata="period", period="year"))
    table = sample_table(store, sample)
    assert len(table) == 25 and table["url"].str.contains(r"/t/[^/]+/\d+/\d+$").all()
    assert (table["created_at"].str[:4] == table["stratum"]).all()  # posts are stratified by their own date


# -- saving -------------------------------------------------------------------------------------------------------

def test_save_load_replace(store):
    sample = draw_sample(store, SampleDesign("round1", strata="period", period="year", seed=3))
    save_sample(store, sample)
    loaded = load_sample(store, "round1")
    pd.testing.assert_frame_equal(loaded.items, sample.items, check_dtype=False)
    assert loaded.design == sample.design and loaded.size == sample.size
    assert loaded.population == sample.population and loaded.allocation == sample.allocation
    assert store.query("SELECT count(*) FROM sample_items WHERE sample_id = 'round1'")[0][0] == 166
    with pytest.raises(UsageError, match="already exists"):
        save_sample(store, sample)
    other = draw_sample(store, SampleDesign("round1", size=10, seed=4))
    save_sample(store, other, replace=True)
    assert set(load_sample(store, "round1").items["item_id"]) == set(other.items["item_id"])
    assert store.query("SELECT count(*) FROM sample_items")[0][0] == 10
    save_sample(store, draw_sample(store, SampleDesign("round2", unit="post", size=5)))
    assert [(s.name, s.unit, s.items) for s in list_samples(store)] == [("round1", "topic", 10), ("round2", "post", 5)]
    with pytest.raises(UsageError, match="no sample named 'round3'") as caught:
        load_sample(store, "round3")
    assert caught.value.one_line().endswith("or use one of: round1, round2")


# -- command line -------------------------------------------------------------------------------------------------

def test_cli_draws_saves_and_exports(db, tmp_path):
    csv = tmp_path / "round1.csv"
    res = forumkit("sample", "--db", str(db), "--name", "round1", "--strata", "period", "--period", "year",
                   "--seed", "7", "--out", str(csv))
    assert res.returncode == 0, res.stderr
    assert "384.1/(1+383.1/289) = 165.2 -> 166" in res.stdout
    assert "2022" in res.stdout and "141" in res.stdout
    assert "saved sample 'round1'" in res.stderr
    table = pd.read_csv(csv)
    assert list(table.columns) == ["item_id", "stratum", "weight", "position", "title", "category", "created_at",
                                   "url"]
    with Store(db) as store:
        saved = load_sample(store, "round1")
        assert list(table["item_id"]) == list(saved.items["item_id"])
        again = draw_sample(store, SampleDesign("x", strata="period", period="year", seed=7))
        assert list(again.items["item_id"]) == list(saved.items["item_id"])
    listing = forumkit("samples", "--db", str(db))
    assert listing.returncode == 0 and "round1" in listing.stdout and "166" in listing.stdout


@pytest.mark.parametrize("args, message", [
    (["--size", "1000"], "sample size 1000 is larger than the population of 289 topics"),
    (["--since", "2030-01-01"], "no topics are left after the filters"),
    (["--categories", "nope"], "unknown category 'nope'"),
    (["--until", "yesterday"], "--until 'yesterday' is not a date"),
    (["--size", "5", "--margin", "0.03"], "pass either --size or --confidence/--margin"),
    (["--name", "round1"], "a sample named 'round1' already exists"),
    (["samples", "--name", "nope"], "no sample named 'nope'"),
])
def test_cli_errors_are_one_line(db, args, message):
    with Store(db) as store:
        save_sample(store, draw_sample(store, SampleDesign("round1", size=3)))
    if args[0] == "samples":
        res = forumkit("samples", "--db", str(db), *args[1:])
    else:
        res = forumkit("sample", "--db", str(db), "--name", "new", *args)
    assert res.returncode == 2  # a usage error (exit 2, as Click)
    assert message in res.stderr
    assert res.stderr.startswith("error: ") and len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr
