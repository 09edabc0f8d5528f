"""The fake Discourse server, over real HTTP: shapes, paging, visibility, mutations, faults.

The reference crawl at the top doubles as the contract between the server and
``ground_truth()``: whatever a correct anonymous crawler collects must equal it.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from forumkit.fakes.discourse import SAMPLE_PATH, FakeDiscourse, FakeForum, Fault, generate_forum, load_sample
from forumkit.fakes.discourse.records import HIDDEN_COOKED, SMALL_ACTION, WHISPER, Topic

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
LONG_TITLE = "A very long thread about GPT-2"


@pytest.fixture(scope="module")
def forum() -> FakeForum:
    """A generated forum with a long topic (45 posts, a whisper and a deleted post) added."""
    forum = generate_forum(120, seed=7)
    category = next(c.id for c in forum.categories.values() if c.name == "Beginners")
    topic_id = forum.add_topic(category, LONG_TITLE, 7, "<p>First!</p>", tags=["gpt2"])
    for index in range(44):
        forum.add_post(topic_id, 7 + index % 5, f"<p>Reply {index}</p>", reply_to_post_number=1 if index else None)
    forum.add_post(topic_id, 1, "<p>staff only</p>", post_type=WHISPER)
    forum.delete_post(forum.topics[topic_id].post_ids[10])
    return forum


@pytest.fixture(scope="module")
def long_topic(forum: FakeForum) -> Topic:
    return next(t for t in forum.topics.values() if t.title == LONG_TITLE)


@pytest.fixture(scope="module")
def server(forum: FakeForum) -> Iterator[FakeDiscourse]:
    with FakeDiscourse(forum) as running:
        yield running


@pytest.fixture()
def http(server: FakeDiscourse) -> Iterator[httpx.Client]:
    server.clear_faults()
    server.mega_topic_threshold, server.tags_as_objects = 10000, False
    with httpx.Client(base_url=server.url, timeout=5) as client:
        yield client


def crawl(http: httpx.Client) -> dict[str, dict[int, dict]]:
    """A correct anonymous crawler: site.json, /latest and every category list, every topic's posts."""
    site = http.get("/site.json").json()
    topic_ids: set[int] = set()
    slugs = {c["id"]: c["slug"] for c in site["categories"]}
    paths = [f"{slugs[c['parent_category_id']]}/{c['slug']}" if c.get("parent_category_id") else c["slug"]
             for c in site["categories"]]
    lists = ["/latest.json"] + [f"/c/{path}/{c['id']}/none.json" for path, c in zip(paths, site["categories"])]
    for url in lists:
        while url:
            page = http.get(url).json()["topic_list"]
            topic_ids.update(t["id"] for t in page["topics"])
            url = page.get("more_topics_url", "").replace("?", ".json?", 1)
    topics, posts = {}, {}
    for topic_id in sorted(topic_ids):
        view = http.get(f"/t/{topic_id}.json").json()
        got = {p["id"]: p for p in view["post_stream"]["posts"]}
        missing = [pid for pid in view["post_stream"]["stream"] if pid not in got]
        for start in range(0, len(missing), 20):
            params = [("post_ids[]", pid) for pid in missing[start : start + 20]]
            got.update({p["id"]: p for p in http.get(f"/t/{topic_id}/posts.json", params=params).json()
                        ["post_stream"]["posts"]})
        assert list(got) == sorted(got, key=lambda pid: got[pid]["post_number"])
        topics[topic_id], posts = view, {**posts, **got}
    return {"categories": {c["id"]: c for c in site["categories"]}, "topics": topics, "posts": posts}


def test_reference_crawl_matches_ground_truth(forum: FakeForum, http: httpx.Client) -> None:
    truth, seen = forum.ground_truth(), crawl(http)
    assert set(seen["categories"]) == set(truth["categories"])
    assert set(seen["topics"]) == set(truth["topics"])
    assert set(seen["posts"]) == set(truth["posts"])
    for topic_id, view in seen["topics"].items():
        expected = truth["topics"][topic_id]
        for key in ("title", "slug", "category_id", "created_at", "last_posted_at", "posts_count",
                    "highest_post_number", "views", "like_count", "closed", "archived", "pinned", "user_id"):
            assert view[key] == expected[key], (topic_id, key)
        assert sorted(view["tags"]) == expected["tags"]
        assert len(view["post_stream"]["stream"]) == expected["posts_count"]
        accepted = view.get("accepted_answer")
        assert (accepted["post_number"] if accepted else None) == expected["accepted_answer_post_number"]
    for post_id, post in seen["posts"].items():
        expected = truth["posts"][post_id]
        likes = next((a["count"] for a in post["actions_summary"] if a["id"] == 2), 0)
        assert likes == expected["like_count"]
        for key in ("topic_id", "post_number", "post_type", "user_id", "username", "created_at", "updated_at",
                    "version", "reply_to_post_number", "cooked", "hidden", "user_deleted", "accepted_answer",
                    "staff", "admin", "moderator"):
            assert post[key] == expected[key], (post_id, key)
        assert STAMP.match(post["created_at"]) and STAMP.match(post["updated_at"])


def test_ground_truth_leaves_out_what_anonymous_users_cannot_see(forum: FakeForum, http: httpx.Client) -> None:
    truth = forum.ground_truth()
    staff = next(c for c in forum.categories.values() if c.read_restricted)
    assert staff.id not in truth["categories"]
    hidden_topics = {
        "restricted": [t for t in forum.topics.values() if t.category_id == staff.id],
        "pm": [t for t in forum.topics.values() if t.archetype == "private_message"],
        "deleted": [t for t in forum.topics.values() if t.deleted_at],
        "unlisted": [t for t in forum.topics.values() if not t.visible],
    }
    for kind, topics in hidden_topics.items():
        assert topics, kind
        assert not {t.id for t in topics} & set(truth["topics"]), kind
        expected = 200 if kind == "unlisted" else 404  # unlisted topics still answer by URL
        assert http.get(f"/t/{topics[0].id}.json").status_code == expected, kind
    assert http.get(f"/c/staff/{staff.id}.json").json()["error_type"] == "not_found"
    invisible = [p for p in forum.posts.values() if p.post_type == WHISPER or p.deleted_at]
    assert invisible and not {p.id for p in invisible} & set(truth["posts"])
    assert http.get(f"/posts/{invisible[0].id}.json").status_code == 404
    shown = [p for p in truth["posts"].values() if p["hidden"]]
    assert shown and all(p["cooked"] == HIDDEN_COOKED for p in shown)
    assert any(p["user_deleted"] for p in truth["posts"].values())
    assert any(p["post_type"] == SMALL_ACTION for p in truth["posts"].values())
    assert set(truth["users"]) == {p["user_id"] for p in truth["posts"].values()}


def test_latest_pages_are_zero_based_with_30_topics_and_pinned_first(forum: FakeForum, http: httpx.Client) -> None:
    first = http.get("/latest.json").json()
    assert first == http.get("/latest", headers={"Accept": "application/json"}).json()
    assert http.get("/latest").headers["content-type"].startswith("text/html")  # the app, not JSON
    listing = first["topic_list"]
    assert listing["per_page"] == 30 and len(listing["topics"]) == 30
    assert listing["more_topics_url"] == "/latest?no_definitions=true&page=1"
    assert [t["pinned"] for t in listing["topics"][:2]] == [True, True] and not listing["topics"][2]["pinned"]
    assert {u["id"] for u in first["users"]} >= {p["user_id"] for t in listing["topics"] for p in t["posters"]}
    seen, page, pages = [], 0, []
    while True:
        listing = http.get("/latest.json", params={"page": page}).json()["topic_list"]
        pages.append(listing)
        seen += listing["topics"]
        if "more_topics_url" not in listing:
            break
        assert len(listing["topics"]) == 30
        page += 1
    assert len(pages[-1]["topics"]) < 30
    ids = [t["id"] for t in seen]
    definitions = {c.topic_id for c in forum.categories.values()}
    listed = set(forum.ground_truth()["topics"]) - definitions
    assert len(ids) == len(set(ids)) and set(ids) == listed
    rest = [t["bumped_at"] for t in seen[2:]]
    assert rest == sorted(rest, reverse=True)
    beyond = http.get("/latest.json", params={"page": page + 5}).json()["topic_list"]
    assert beyond["topics"] == [] and "more_topics_url" not in beyond
    bad = http.get("/latest.json?page=abc")
    assert bad.status_code == 400 and bad.json()["error_type"] == "invalid_parameters"


def test_latest_order_created_ascending(http: httpx.Client) -> None:
    listing = http.get("/latest.json?order=created&ascending=true").json()["topic_list"]
    created = [t["created_at"] for t in listing["topics"]]
    assert created == sorted(created)
    assert listing["more_topics_url"] == "/latest?ascending=true&no_definitions=true&order=created&page=1"


def test_category_lists(forum: FakeForum, http: httpx.Client) -> None:
    course = next(c for c in forum.categories.values() if c.name == "Course")
    child = next(c for c in forum.categories.values() if c.parent_category_id == course.id)
    with_children = http.get(f"/c/course/{course.id}.json").json()["topic_list"]["topics"]
    assert with_children[0]["id"] == course.topic_id and with_children[0]["pinned"]
    alone = http.get(f"/c/course/{course.id}/none.json").json()["topic_list"]["topics"]
    assert {t["category_id"] for t in alone} == {course.id}
    assert {t["category_id"] for t in with_children} >= {course.id, child.id}
    sub = http.get(f"/c/course/{child.slug}/{child.id}.json")
    assert sub.status_code == 200 and sub.json()["topic_list"]["topics"][0]["id"] == child.topic_id
    for wrong in (f"/c/wrong-slug/{course.id}.json?page=0", f"/c/{course.id}.json?page=0"):
        moved = http.get(wrong)
        assert moved.status_code == 301 and moved.headers["location"].endswith(f"/c/course/{course.id}.json?page=0")
    partial = http.get(f"/c/{child.slug}/{child.id}/none.json", follow_redirects=True)
    assert str(partial.url).endswith(f"/c/course/{child.slug}/{child.id}/none.json")
    unknown = http.get("/c/nope/9999.json")
    assert unknown.status_code == 404 and unknown.json()["error_type"] == "not_found"
    beginners = next(c for c in forum.categories.values() if c.name == "Beginners")
    first = http.get(f"/c/beginners/{beginners.id}.json").json()["topic_list"]
    assert first["more_topics_url"] == f"/c/beginners/{beginners.id}/l/latest?page=1"
    second = http.get(first["more_topics_url"].replace("?", ".json?")).json()["topic_list"]["topics"]
    assert not {t["id"] for t in second} & {t["id"] for t in first["topics"]}


def test_site_and_categories(forum: FakeForum, http: httpx.Client) -> None:
    site = http.get("/site.json").json()
    assert {"post_types", "trust_levels", "groups", "filters", "top_tags", "archetypes"} <= set(site)
    flat = {c["id"]: c for c in site["categories"]}
    course = next(c for c in flat.values() if c["name"] == "Course")
    assert any(c.get("parent_category_id") == course["id"] for c in flat.values())
    assert all("parent_category_id" not in c for c in flat.values() if c["id"] == course["id"])  # top level
    assert course["topic_url"] == f"/t/about-the-course-category/{forum.categories[course['id']].topic_id}"
    top = http.get("/categories.json").json()["category_list"]["categories"]
    assert all("parent_category_id" not in c for c in top) and "subcategory_list" not in top[0]
    assert next(c for c in top if c["id"] == course["id"])["subcategory_ids"]
    nested = http.get("/categories.json?include_subcategories=true").json()["category_list"]["categories"]
    assert next(c for c in nested if c["id"] == course["id"])["subcategory_list"][0]["id"] in flat


def test_topic_view_chunks_stream_and_paging(forum: FakeForum, long_topic: Topic, http: httpx.Client) -> None:
    topic = long_topic
    view = http.get(f"/t/{topic.id}.json").json()
    stream = view["post_stream"]["stream"]
    assert view["chunk_size"] == 20 and len(view["post_stream"]["posts"]) == 20
    assert len(stream) == 44 == view["posts_count"] and view["highest_post_number"] == 45
    assert forum.topics[topic.id].post_ids[10] not in stream and forum.topics[topic.id].post_ids[-1] not in stream
    assert view["details"]["created_by"]["id"] == 7 and view["details"]["participants"]
    assert http.get(f"/t/{topic.slug}/{topic.id}.json").json()["id"] == topic.id
    page3 = http.get(f"/t/{topic.id}.json?page=3").json()["post_stream"]["posts"]
    assert [p["id"] for p in page3] == stream[40:]
    past = http.get(f"/t/{topic.id}.json?page=9")
    assert past.status_code == 301 and past.headers["location"].endswith(f"/t/{topic.slug}/{topic.id}.json?page=3")
    other = next(iter(forum.ground_truth()["posts"]))
    by_ids = http.get(f"/t/{topic.id}/posts.json", params=[("post_ids[]", stream[25]), ("post_ids[]", stream[21]),
                                                          ("post_ids[]", other)]).json()
    assert by_ids["id"] == topic.id and [p["id"] for p in by_ids["post_stream"]["posts"]] == [stream[21], stream[25]]
    assert "stream" not in by_ids["post_stream"]
    after = http.get(f"/t/{topic.id}/posts.json?post_number=40&asc=true").json()["post_stream"]["posts"]
    assert [p["post_number"] for p in after] == [41, 42, 43, 44, 45]
    near = http.get(f"/t/{topic.id}/30.json").json()["post_stream"]["posts"]
    assert len(near) == 20 and near[5]["post_number"] == 30
    assert http.get("/t/999999.json").json()["error_type"] == "not_found"


def test_mega_topic_has_no_stream(
    forum: FakeForum, long_topic: Topic, server: FakeDiscourse, http: httpx.Client
) -> None:
    server.mega_topic_threshold = 40
    topic_id = long_topic.id
    stream = http.get(f"/t/{topic_id}.json").json()["post_stream"]
    assert "stream" not in stream and stream["isMegaTopic"] is True
    assert stream["lastId"] == forum.stream(forum.topics[topic_id])[-1].id


def test_tags_as_strings_or_objects(
    forum: FakeForum, long_topic: Topic, server: FakeDiscourse, http: httpx.Client
) -> None:
    topic_id = long_topic.id
    assert http.get(f"/t/{topic_id}.json").json()["tags"] == ["gpt2"]
    server.tags_as_objects = True
    tag = http.get(f"/t/{topic_id}.json").json()["tags"][0]
    assert tag == {"id": forum.tag_ids["gpt2"], "name": "gpt2", "slug": "gpt2"}
    listed = [t for t in http.get("/latest.json").json()["topic_list"]["topics"] if t["tags"]]
    assert all(isinstance(tag, dict) for t in listed for tag in t["tags"])


def test_latest_posts_paging_and_exclusions(forum: FakeForum, http: httpx.Client) -> None:
    collected, before = [], None
    while True:
        page = http.get("/posts.json", params={"before": before} if before else {}).json()["latest_posts"]
        if not page:
            break
        assert len(page) <= 50
        collected += page
        before = min(p["id"] for p in page)
    ids = [p["id"] for p in collected]
    assert ids == sorted(ids, reverse=True) and len(collected) > 50
    truth = forum.ground_truth()["posts"]
    expected = {pid for pid, p in truth.items() if p["post_type"] == 1 and not p["hidden"]}
    assert set(ids) == expected
    assert any(p["user_deleted"] for p in collected)
    first = collected[0]
    assert {"raw", "topic_title", "topic_slug", "category_id", "posts_count", "excerpt", "post_url"} <= set(first)


def test_post_json_fields(forum: FakeForum, http: httpx.Client) -> None:
    liked = next(p for p in forum.ground_truth()["posts"].values() if p["like_count"] and not p["hidden"])
    post = http.get(f"/posts/{liked['id']}.json").json()
    assert post["actions_summary"] == [{"id": 2, "count": liked["like_count"]}] and "raw" in post
    for key in ("avatar_template", "display_username", "trust_level", "reads", "score", "deleted_at",
                "can_accept_answer", "topic_accepted_answer", "version", "reply_count"):
        assert key in post
    html_posts = [p for p in forum.posts.values() if "<pre><code" in p.cooked and "&quot;" in p.cooked]
    assert html_posts and any('class="mention"' in p.cooked for p in forum.posts.values())


def test_edit_bumps_only_the_last_post() -> None:
    forum = generate_forum(0, seed=1)
    forum.clock = lambda: datetime(2024, 5, 1, 12, tzinfo=timezone.utc)
    topic_id = forum.add_topic(2, "Edits and bumps", 7, "<p>Q</p>", created_at="2024-01-01T00:00:00.000Z")
    answer = forum.add_post(topic_id, 8, "<p>A</p>", created_at="2024-01-02T00:00:00.000Z")
    topic = forum.topics[topic_id]
    assert topic.bumped_at == topic.last_posted_at == "2024-01-02T00:00:00.000Z" and topic.posts_count == 2
    forum.edit_post(topic.post_ids[0], "<p>Q, edited</p>")
    assert topic.bumped_at == "2024-01-02T00:00:00.000Z"
    assert forum.posts[topic.post_ids[0]].version == 2
    assert forum.posts[topic.post_ids[0]].updated_at == "2024-05-01T12:00:00.000Z"
    forum.edit_post(answer, "<p>A, edited</p>")
    assert topic.bumped_at == "2024-05-01T12:00:00.000Z" and topic.last_posted_at == "2024-01-02T00:00:00.000Z"


def test_other_mutations_follow_discourse() -> None:
    forum = generate_forum(0, seed=1)
    forum.clock = lambda: datetime(2024, 5, 1, tzinfo=timezone.utc)
    first = forum.add_topic(2, "Source topic", 7, "<p>Q</p>", created_at="2024-01-01T00:00:00.000Z")
    second = forum.add_topic(2, "Target topic", 8, "<p>Q2</p>", created_at="2024-01-01T01:00:00.000Z")
    answer = forum.add_post(first, 9, "<p>A</p>", created_at="2024-01-02T00:00:00.000Z")
    forum.accept_answer(answer)
    forum.like_post(answer, 3)
    assert forum.topics[first].like_count == 3
    forum.delete_post(answer)
    topic = forum.topics[first]
    assert topic.accepted_answer_post_id is None and topic.posts_count == 1 and topic.like_count == 0
    assert topic.highest_post_number == 1 and topic.max_post_number == 2
    moved = forum.add_post(first, 9, "<p>Moved</p>", created_at="2024-01-03T00:00:00.000Z")
    forum.move_post(moved, second)
    post = forum.posts[moved]
    assert (post.topic_id, post.post_number) == (second, 2) and forum.topics[second].bumped_at.startswith("2024-05")
    left = forum.post_by_number(first, 3)
    assert left is not None and left.action_code == "split_topic" and left.post_type == SMALL_ACTION
    forum.user_delete_post(post.id)
    assert post.cooked == "<p>(post deleted by author)</p>" and post.user_deleted and post.version == 2
    forum.hide_post(forum.topics[second].post_ids[0])
    assert not forum.topics[second].visible  # hiding a first post unlists the topic
    forum.close_topic(first)
    assert forum.topics[first].closed and forum.stream(forum.topics[first])[-1].action_code == "closed.enabled"


@pytest.mark.parametrize("kind", ["rate_limit_text", "rate_limit_json"])
def test_rate_limit_faults(kind: str, server: FakeDiscourse, http: httpx.Client) -> None:
    server.add_fault(Fault(kind, path=r"^/latest", times=2, retry_after=7))
    for _ in range(2):
        limited = http.get("/latest.json")
        assert limited.status_code == 429 and limited.headers["retry-after"] == "7"
    if kind == "rate_limit_text":
        assert limited.headers["content-type"].startswith("text/plain")
        assert limited.headers["discourse-rate-limit-error-code"] == "ip_10_secs_limit"
        assert "Please retry again in 7 seconds." in limited.text
    else:
        body = limited.json()
        assert body["error_type"] == "rate_limit" and body["extras"] == {"wait_seconds": 7, "time_left": "7 seconds"}
    assert http.get("/site.json").status_code == 200  # path does not match
    assert http.get("/latest.json").status_code == 200  # times used up


@pytest.mark.parametrize(("status", "marker"), [(500, "Oops"), (502, "nginx"), (503, "nginx")])
def test_status_fault(status: int, marker: str, server: FakeDiscourse, http: httpx.Client) -> None:
    server.add_fault(Fault("status", status=status, times=-1, path=r"/t/\d+\.json"))
    for _ in range(3):
        answer = http.get("/t/1.json")
        assert answer.status_code == status and marker in answer.text
    server.clear_faults()
    assert http.get("/t/1.json").status_code == 200


def test_body_faults(server: FakeDiscourse, http: httpx.Client) -> None:
    server.add_fault(Fault("truncated", path="site"))
    cut = http.get("/site.json")
    assert cut.status_code == 200 and cut.headers["content-type"].startswith("application/json")
    with pytest.raises(ValueError):
        cut.json()
    server.add_fault(Fault("html", path="site"))
    page = http.get("/site.json")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    server.add_fault(Fault("reset", path="site"))
    with pytest.raises(httpx.TransportError):
        http.get("/site.json")
    server.add_fault(Fault("slow", path="site", delay=0.3))
    started = time.monotonic()
    assert http.get("/site.json").status_code == 200 and time.monotonic() - started >= 0.3
    with pytest.raises(ValueError):
        Fault("nope")


def test_request_log_and_robots(server: FakeDiscourse, http: httpx.Client) -> None:
    server.clear_requests()
    robots = http.get("/robots.txt", headers={"User-Agent": "forumkit-test"})
    assert robots.headers["content-type"].startswith("text/plain") and "Disallow: /admin/" in robots.text
    assert ".json" not in robots.text
    server.add_fault(Fault("reset", path="page=2"))
    with pytest.raises(httpx.TransportError):
        http.get("/latest.json?page=2")
    http.get("/nope.json")
    assert http.post("/latest.json", json={"x": 1}).status_code == 404
    assert http.get("/site.json").status_code == 200  # the POST body did not desync the connection
    log = server.requests
    assert [(r.method, r.path, r.query, r.status) for r in log] == [
        ("GET", "/robots.txt", "", 200), ("GET", "/latest.json", "page=2", 0), ("GET", "/nope.json", "", 404),
        ("POST", "/latest.json", "", 404), ("GET", "/site.json", "", 200)]
    assert log[0].user_agent == "forumkit-test" and log[0].time <= log[1].time <= log[2].time
    server.robots_txt = "User-agent: *\nDisallow: /t/\n"
    try:
        assert http.get("/robots.txt").text == "User-agent: *\nDisallow: /t/\n"
    finally:
        from forumkit.fakes.discourse.server import DEFAULT_ROBOTS

        server.robots_txt = DEFAULT_ROBOTS


def test_snapshot_round_trip_and_sample(tmp_path: Path) -> None:
    forum = generate_forum(40, seed=3)
    path = tmp_path / "forum.json.gz"
    forum.save(path)
    again = FakeForum.load(path)
    assert again.to_json() == forum.to_json() and again.ground_truth() == forum.ground_truth()
    assert generate_forum(40, seed=3).to_json() == forum.to_json()  # deterministic
    sample = load_sample()
    truth = sample.ground_truth()
    assert SAMPLE_PATH.exists() and 250 <= len(truth["topics"]) <= 400 and len(truth["posts"]) > 800
    created = sorted(t["created_at"] for t in truth["topics"].values())
    first, last = datetime.fromisoformat(created[0][:10]), datetime.fromisoformat(created[-1][:10])
    assert last - first >= timedelta(days=24 * 30)
    assert 0.25 <= sum(t["has_accepted_answer"] for t in truth["topics"].values()) / len(truth["topics"]) <= 0.45


def test_served_from_the_command_line_until_ctrl_c():
    """`python -m forumkit.fakes.discourse` serves the shipped snapshot and stops on Ctrl-C with exit 130."""
    import signal
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "forumkit.fakes.discourse", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert "fake Discourse at" in proc.stdout.readline()
        assert httpx.get(f"http://127.0.0.1:{port}/site.json", timeout=10).json()["categories"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 130
        assert proc.stderr.read().strip() == "fake Discourse stopped (Ctrl-C)"
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)
