"""Forum activity tables: exact values on a small forum built by hand and scraped, and the demo sample.

The hand-built forum (times UTC, 2022; "h" = hours after the topic was created):

| topic | category            | OP    | created    | regular posts after the first                                 |
|-------|---------------------|-------|------------|---------------------------------------------------------------|
| T1    | Beginners           | alice | 01-10 00:00| dave 1h (deleted by staff later), bob 2h, alice 3h, carol 6h* |
| T2    | Beginners           | bob   | 01-20 00:00| none                                                          |
| T3    | Intermediate        | alice | 01-25 12:00| dave 12h*; then closed (a small action post, April)           |
| T4    | Intermediate        | dave  | 03-05 00:00| dave 1h* (the OP answers and accepts their own answer)        |
| T5    | Course > Chapter 1  | bob   | 03-10 00:00| alice 4h                                                      |
| T6    | Course              | alice | 03-31 16:00| bob 8h (on 04-01)                                             |
| T7    | Flax/JAX Projects   | bob   | 01-05 00:00| none                                                          |
| T8    | Flax / JAX projects | alice | 03-02 00:00| bob 10h*                                                      |
| About | Beginners (pinned)  | admin | 01-01      | none                                                          |
| P     | Intermediate, pinned| bob   | 02-01 00:00| alice 1h                                                      |
| R     | Beginners, deleted  | alice | 02-15 00:00| bob, now (so that a crawl rechecks R and finds it deleted)    |

``*`` accepted answer; carol is a moderator (staff). February has topics only among the excluded
ones (P, R), so by default it is an empty month.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from forumkit.analysis import activity
from forumkit.collect.discourse.client import DiscourseClient
from forumkit.collect.discourse.crawl import CrawlOptions, Crawler
from forumkit.errors import UsageError
from forumkit.fakes.discourse import FakeDiscourse, FakeForum
from forumkit.dates import period_labels
from forumkit.store import Store
from forumkit.analysis.trends import trend_table

MONTHS = ["2022-01", "2022-02", "2022-03", "2022-04"]


def crawl(server, db, options=CrawlOptions()):
    with Store(db) as store, DiscourseClient(server.url, rate=0, backoff=0.01) as client:
        return Crawler(client, store, options).run()


def _at(day: str, hour: int = 0) -> str:
    return f"2022-{day}T{hour:02d}:00:00.000Z"


def build_forum() -> tuple[FakeForum, dict[str, int]]:
    forum = FakeForum()
    forum.clock = lambda: datetime(2022, 4, 20, tzinfo=timezone.utc)  # for actions given no date
    admin = forum.add_user("admin", admin=True)
    alice, bob, dave = forum.add_user("alice"), forum.add_user("bob"), forum.add_user("dave")
    carol = forum.add_user("carol", moderator=True)
    beginners = forum.add_category("Beginners", definition_user_id=admin, created_at=_at("01-01"))
    intermediate = forum.add_category("Intermediate")
    course = forum.add_category("Course")
    chapter = forum.add_category("Chapter 1", parent_category_id=course)
    flax = forum.add_category("Flax/JAX Projects")
    flax2 = forum.add_category("Flax / JAX projects")
    ids: dict[str, int] = {}

    def topic(name, category, user, created, title, body="<p>It fails with an error.</p>"):
        ids[name] = forum.add_topic(category, title, user, body, created)
        return ids[name]

    def post(topic_id, user, created, body="<p>Try this.</p>"):
        return forum.add_post(topic_id, user, body, created_at=created)

    t1 = topic("T1", beginners, alice, _at("01-10"), "How do I load bert-base-uncased?")
    ids["dave_T1"] = post(t1, dave, _at("01-10", 1))
    post(t1, bob, _at("01-10", 2), "<p>Did you try gpt2 instead?</p>")
    post(t1, alice, _at("01-10", 3), "<p>Still failing.</p>")
    forum.accept_answer(post(t1, carol, _at("01-10", 6)))
    topic("T2", beginners, bob, _at("01-20"), "gpt2 generates garbage")
    t3 = topic("T3", intermediate, alice, _at("01-25", 12), "Tokenizer question")
    forum.accept_answer(post(t3, dave, _at("01-26")))
    forum.close_topic(t3, admin)
    t4 = topic("T4", intermediate, dave, _at("03-05"), "Trainer stops early")
    forum.accept_answer(post(t4, dave, _at("03-05", 1), "<p>Solved it myself.</p>"))
    t5 = topic("T5", chapter, bob, _at("03-10"), "Chapter 1 exercise",
               "<p>This fails:</p><pre><code>from transformers import T5Model</code></pre>")
    post(t5, alice, _at("03-10", 4))
    t6 = topic("T6", course, alice, _at("03-31", 16), "Course question")
    post(t6, bob, _at("04-01"), "<p>Use bert for that.</p>")
    topic("T7", flax, bob, _at("01-05"), "Flax question")
    t8 = topic("T8", flax2, alice, _at("03-02"), "JAX question")
    forum.accept_answer(post(t8, bob, _at("03-02", 10)))
    pinned = topic("P", intermediate, bob, _at("02-01"), "Read this first: bert FAQ", "<p>All about bert.</p>")
    post(pinned, alice, _at("02-01", 1))
    forum.pin_topic(pinned)
    removed = topic("R", beginners, alice, _at("02-15"), "t5 question", "<p>t5 fails.</p>")
    post(removed, bob, datetime.now(timezone.utc))  # active now: the next crawl rechecks it and finds it deleted
    return forum, ids


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The hand-built forum scraped; then staff delete R and a post of T1, and it is scraped again."""
    forum, ids = build_forum()
    db = tmp_path_factory.mktemp("activity") / "hand.db"
    with FakeDiscourse(forum) as server:
        crawl(server, db)
        forum.delete_topic(ids["R"])
        forum.delete_post(ids["dave_T1"])
        crawl(server, db)  # rechecks R, recently active: 404, marked removed
        crawl(server, db, CrawlOptions(full_refresh=True))  # refetches T1: the deleted post is marked removed
    return db, ids


@pytest.fixture
def store(built):
    with Store(built[0]) as s:
        yield s


@pytest.fixture(scope="session")
def sample_db(demo_workdir):
    return demo_workdir / "sample.db"


def rows(frame: pd.DataFrame, category: str, column: str) -> list:
    return frame.loc[frame["category"] == category, column].tolist()


def test_the_scraped_store_holds_what_the_tests_rely_on(store, built):
    _, ids = built
    got = {r[0]: (r[1], r[2]) for r in store.query("SELECT id, pinned, removed_at FROM topics")}
    assert got[ids["P"]][0] == 1 and got[ids["R"]][1] is not None
    about = store.query("SELECT definition_topic_id FROM categories WHERE name = 'Beginners'")[0][0]
    assert about in got and got[about][1] is None
    assert store.query("SELECT removed_at FROM posts WHERE id = ?", (ids["dave_T1"],))[0][0] is not None
    assert store.query("SELECT count(*) FROM posts WHERE post_type = 3")[0][0] == 1  # T3 closed


def test_topics_and_posts_per_month_with_an_empty_month_and_running_totals(store):
    frame = activity.activity_by_period(store)
    assert list(frame.columns) == ["period", "period_start", "category", "topics", "posts", "topics_cum", "posts_cum"]
    assert list(pd.unique(frame["category"])) == ["Beginners", "Course", "Flax/JAX Projects", "Intermediate"]
    assert rows(frame, "Beginners", "period") == MONTHS
    assert rows(frame, "Beginners", "period_start") == [pd.Timestamp(f"{m}-01", tz="UTC") for m in MONTHS]
    # Beginners: T1 (4 live posts: dave's was deleted) and T2 (1); February empty
    assert rows(frame, "Beginners", "topics") == [2, 0, 0, 0]
    assert rows(frame, "Beginners", "posts") == [5, 0, 0, 0]
    assert rows(frame, "Beginners", "posts_cum") == [5, 5, 5, 5]
    # Intermediate: the small action that closed T3 in April is not a post
    assert rows(frame, "Intermediate", "topics") == [1, 0, 1, 0]
    assert rows(frame, "Intermediate", "posts") == [2, 0, 2, 0]
    assert rows(frame, "Intermediate", "topics_cum") == [1, 1, 2, 2]
    # Course: Chapter 1 rolled up; T6's reply counts in April, when it was written
    assert rows(frame, "Course", "topics") == [0, 0, 2, 0]
    assert rows(frame, "Course", "posts") == [0, 0, 3, 1]
    assert rows(frame, "Course", "posts_cum") == [0, 0, 3, 4]
    # two spellings of one category add up, under the first spelling seen
    assert rows(frame, "Flax/JAX Projects", "topics_cum") == [1, 1, 2, 2]
    assert rows(frame, "Flax/JAX Projects", "posts_cum") == [1, 1, 3, 3]

    total = activity.activity_by_period(store, by_category=False)
    assert total["category"].tolist() == ["all"] * 4
    assert total["topics"].tolist() == [4, 0, 4, 0]
    assert total["posts"].tolist() == [8, 0, 7, 1]
    assert total["topics_cum"].tolist() == [4, 4, 8, 8] and total["posts_cum"].tolist() == [8, 8, 15, 16]


def test_quarters_and_years(store):
    quarters = activity.activity_by_period(store, period="quarter", by_category=False)
    assert quarters["period"].tolist() == ["2022-Q1", "2022-Q2"]
    assert quarters["topics"].tolist() == [8, 0] and quarters["posts"].tolist() == [15, 1]
    years = activity.activity_by_period(store, period="year", by_category=False)
    assert years[["period", "topics", "posts"]].values.tolist() == [["2022", 8, 16]]
    # the labels are those of the sampling module
    starts = quarters["period_start"].dt.strftime("%Y-%m-%dT00:00:00.000Z")
    assert period_labels(starts, "quarter").tolist() == quarters["period"].tolist()
    with pytest.raises(UsageError):
        activity.activity_by_period(store, period="week")


def test_subcategories_on_their_own(store):
    frame = activity.activity_by_period(store, roll_up=False)
    assert list(pd.unique(frame["category"])) == ["Beginners", "Course", "Course/Chapter 1", "Flax/JAX Projects",
                                                  "Intermediate"]
    assert rows(frame, "Course", "topics") == [0, 0, 1, 0] and rows(frame, "Course", "posts") == [0, 0, 1, 1]
    assert rows(frame, "Course/Chapter 1", "topics") == [0, 0, 1, 0]
    assert rows(frame, "Course/Chapter 1", "posts") == [0, 0, 2, 0]


def test_category_renames(store):
    frame = activity.activity_by_period(store, renames={"intermediate": "Advanced", "Flax / JAX projects": "JAX"})
    assert list(pd.unique(frame["category"])) == ["Advanced", "Beginners", "Course", "JAX"]
    assert rows(frame, "JAX", "topics_cum")[-1] == 2  # a rename applies to every spelling of the name
    assert rows(frame, "Advanced", "topics") == [1, 0, 1, 0]


def test_pinned_and_about_topics_only_on_request(store):
    pinned = activity.activity_by_period(store, include_pinned=True)
    assert rows(pinned, "Intermediate", "topics") == [1, 1, 1, 0]  # P, in February
    assert rows(pinned, "Intermediate", "posts") == [2, 2, 2, 0]
    assert rows(pinned, "Beginners", "topics") == [2, 0, 0, 0]  # the About topic is pinned too
    both = activity.activity_by_period(store, include_pinned=True, include_about=True)
    assert rows(both, "Beginners", "topics") == [3, 0, 0, 0] and rows(both, "Beginners", "posts") == [6, 0, 0, 0]
    # the deleted topic R (February) never counts
    assert activity.activity_by_period(store, include_pinned=True, include_about=True,
                                       by_category=False)["topics"].sum() == 10


def test_posts_per_topic(store):
    dist = activity.posts_per_topic(store)
    assert list(dist.columns) == ["category", "posts", "topics", "share"]
    assert dist[["posts", "topics"]].values.tolist() == [[1, 2], [2, 5], [4, 1]]
    assert dist["share"].tolist() == [0.25, 0.625, 0.125]
    summary = activity.posts_per_topic_summary(store).iloc[0]
    assert (summary["topics"], summary["posts"], summary["mean"], summary["median"], summary["max"]) == (8, 16, 2, 2, 4)
    assert summary["p90"] == pytest.approx(2.6)  # sorted 1,1,2,2,2,2,2,4: 2 + 0.3·(4 − 2)
    by_cat = activity.posts_per_topic(store, by_category=True)
    assert by_cat[by_cat["category"] == "Beginners"][["posts", "topics"]].values.tolist() == [[1, 1], [4, 1]]
    assert by_cat.groupby("category")["share"].sum().tolist() == [1.0] * 4


def test_answer_stats(store):
    stats = activity.answer_stats(store).iloc[0]
    assert stats["category"] == "all" and stats["topics"] == 8
    assert (stats["no_reply"], stats["no_reply_share"]) == (3, 0.375)  # T2, T7, and T4 (only the OP wrote)
    assert (stats["accepted"], stats["accepted_share"]) == (4, 0.5)
    assert (stats["accepted_by_staff"], stats["accepted_by_staff_share"]) == (1, 0.25)  # carol on T1
    assert (stats["accepted_by_op"], stats["accepted_by_op_share"]) == (1, 0.25)  # dave on T4
    assert (stats["accepted_by_others"], stats["accepted_by_others_share"]) == (2, 0.5)  # T3, T8
    assert stats["accepted_unknown"] == 0

    by_cat = activity.answer_stats(store, by_category=True).set_index("category")
    assert by_cat.loc["Beginners", ["topics", "no_reply", "accepted", "accepted_by_staff"]].tolist() == [2, 1, 1, 1]
    assert by_cat.loc["Intermediate", ["no_reply", "accepted", "accepted_by_op", "accepted_by_others"]].tolist() \
        == [1, 2, 1, 1]
    assert by_cat.loc["Course", ["topics", "no_reply", "accepted"]].tolist() == [2, 0, 0]
    assert np.isnan(by_cat.loc["Course", "accepted_by_staff_share"])  # no accepted answer to divide by


def test_response_times_in_hours(store):
    times = activity.response_times(store).set_index("measure")
    assert list(times.columns) == ["category", "n", "median", "q1", "q3", "mean"]
    # first replies (not by the OP; dave's deleted 1h reply on T1 does not count): 2, 12, 4, 8, 10
    first = times.loc["time_to_first_reply_hours"]
    assert (first["n"], first["median"], first["q1"], first["q3"]) == (5, 8, 4, 10)
    assert first["mean"] == pytest.approx(7.2)
    # accepted answers posted after 6 (T1), 12 (T3), 1 (T4, the OP's own), 10 (T8) hours
    accepted = times.loc["time_to_accepted_answer_hours"]
    assert (accepted["n"], accepted["median"]) == (4, 8)
    assert (accepted["q1"], accepted["q3"], accepted["mean"]) == pytest.approx((4.75, 10.5, 7.25))

    by_cat = activity.response_times(store, by_category=True)
    course = by_cat[by_cat["category"] == "Course"].set_index("measure")
    assert course.loc["time_to_first_reply_hours", ["n", "median"]].tolist() == [2, 6]  # 4 and 8
    assert course.loc["time_to_accepted_answer_hours", "n"] == 0
    assert np.isnan(course.loc["time_to_accepted_answer_hours", "median"])


def test_model_mentions(store):
    top = activity.top_models(store)
    # bert: T1's title and T6's reply (P is pinned); gpt2: T1's reply and T2's title; t5: code in T5 (R is deleted)
    assert top.values.tolist() == [["bert", 2, 2], ["gpt2", 2, 2], ["t5", 1, 1]]
    assert activity.top_models(store, top=1)["model"].tolist() == ["bert"]
    assert activity.top_models(store, where=("code",)).values.tolist() == [["t5", 1, 1]]
    assert activity.top_models(store, include_pinned=True).values.tolist()[0] == ["bert", 3, 3]  # P: one post

    frame = activity.mentions_by_period(store)
    assert list(frame.columns) == ["period", "period_start", "model", "topics", "period_topics", "share"]
    # topics counted in their creation month: T6 (March) although its bert reply is from April
    assert frame["period"].tolist() == MONTHS[:3] * 3
    assert frame["model"].tolist() == ["bert"] * 3 + ["gpt2"] * 3 + ["t5"] * 3
    assert frame["topics"].tolist() == [1, 0, 1, 2, 0, 0, 0, 0, 1]
    assert frame["period_topics"].tolist() == [4, 0, 4] * 3
    share = frame["share"].tolist()
    assert share[0] == 0.25 and np.isnan(share[1]) and share[3] == 0.5 and share[8] == 0.25

    text = activity.mentions_by_period(store, where=("text",), models=["GPT2", "BERT", "llama"])
    assert text["model"].unique().tolist() == ["gpt2", "bert", "llama"]
    assert text["topics"].tolist() == [1, 0, 0, 0, 0, 1, 0, 0, 0]  # titles and code left out
    with pytest.raises(UsageError):
        activity.mentions_by_period(store, where=("body",))
    with pytest.raises(UsageError):
        activity.top_models(store, top=0)


def test_a_store_with_two_forums_needs_the_forum(built, tmp_path):
    with Store(tmp_path / "two.db") as two:
        two.forum_id("https://a.example")
        two.forum_id("https://b.example")
        with pytest.raises(UsageError, match="2 forums"):
            activity.answer_stats(two)
        empty = activity.activity_by_period(two, forum="https://a.example")
        assert empty.empty and list(empty.columns)[:3] == ["period", "period_start", "category"]


def test_sanity_on_the_demo_sample(sample_db):
    with Store(sample_db) as store:
        monthly = activity.activity_by_period(store)
        totals = activity.activity_by_period(store, by_category=False)
        live = store.query(
            """SELECT count(*) FROM topics t WHERE removed_at IS NULL AND pinned = 0
               AND id NOT IN (SELECT definition_topic_id FROM categories WHERE definition_topic_id IS NOT NULL)""")
        assert totals["topics"].sum() == live[0][0] == monthly["topics"].sum()
        assert monthly.groupby("category")["topics_cum"].last().sum() == live[0][0]
        assert {"Beginners", "Intermediate"} <= set(monthly["category"])
        # calendar-complete: the same consecutive months for every category
        months = pd.period_range(totals["period_start"].min(), totals["period_start"].max(), freq="M")
        assert len(totals) == len(months) and monthly.groupby("category").size().eq(len(months)).all()
        assert (monthly.groupby("category")["topics_cum"].diff().dropna() >= 0).all()
        dist = activity.posts_per_topic(store)
        assert dist["topics"].sum() == live[0][0] and dist["share"].sum() == pytest.approx(1)
        stats = activity.answer_stats(store).iloc[0]
        assert 0 < stats["accepted_share"] < 1 and 0 < stats["no_reply_share"] < 1
        assert stats[["accepted_by_staff", "accepted_by_op", "accepted_by_others", "accepted_unknown"]].sum() \
            == stats["accepted"]
        times = activity.response_times(store)
        assert (times["n"] > 0).all() and (times["q1"] <= times["median"]).all()
        assert (times["median"] <= times["q3"]).all()
        top = activity.top_models(store, top=5)
        assert len(top) == 5 and top["topics"].is_monotonic_decreasing
        mentions = activity.mentions_by_period(store, top=5)
        assert mentions.groupby("model")["topics"].sum().sort_values(ascending=False).tolist() == top["topics"].tolist()
        assert (mentions["share"].dropna() <= 1).all()
        # the tables feed the trend tests as they are
        trends = trend_table(monthly, series="category", value="topics_cum")
        assert sorted(trends["series"]) == sorted(monthly["category"].unique())
        assert (trends["n"] == len(months)).all() and set(trends["trend"]) <= {"rising", "no trend"}
        assert trends.set_index("series").loc["Beginners", "trend"] == "rising"
        assert len(trend_table(mentions, series="model", value="share")) == 5
