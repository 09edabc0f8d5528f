"""The scraper against the fake Discourse server over real HTTP."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from forumkit.collect.discourse.client import DiscourseClient
from forumkit.collect.discourse.crawl import CrawlOptions, Crawler
from forumkit.__main__ import STARTUP_PAUSE_ENV
from forumkit.errors import INTERRUPTED, ForumUnavailable, RobotsDisallowed
from forumkit.fakes.discourse import FakeDiscourse, Fault
from forumkit.store import Store

from .conftest import assert_matches_truth, cli, paths, scrape_here, store_view


def crawl(server, db, options=CrawlOptions(), **client_args):
    client_args = {"rate": 0, "backoff": 0.01, **client_args}
    with Store(db) as store, DiscourseClient(server.url, **client_args) as client:
        return Crawler(client, store, options).run()


def test_full_crawl_equals_ground_truth(server, forum, tmp_path):
    db = tmp_path / "f.db"
    result = crawl(server, db)
    assert_matches_truth(db, forum)
    truth = forum.ground_truth()
    # the bulk feed carries most posts: far fewer requests than posts
    assert result.requests < len(truth["posts"]) * 0.5
    assert result.posts_stored == len(truth["posts"])


def test_tags_as_objects_and_strings_give_the_same_store(forum, tmp_path):
    with FakeDiscourse(forum, tags_as_objects=True) as srv:
        crawl(srv, tmp_path / "o.db")
    with FakeDiscourse(forum) as srv:
        crawl(srv, tmp_path / "s.db")
    assert store_view(tmp_path / "o.db") == store_view(tmp_path / "s.db")
    assert any(t["tags"] for t in store_view(tmp_path / "o.db")["topics"].values())


def test_mega_topics_are_paged_by_post_number(forum, tmp_path):
    with FakeDiscourse(forum, mega_topic_threshold=6) as srv:
        crawl(srv, tmp_path / "m.db")
        assert any("post_number=" in r.query for r in srv.requests)
    assert_matches_truth(tmp_path / "m.db", forum)


def test_second_crawl_without_changes_is_cheap(server, forum, tmp_path):
    db = tmp_path / "f.db"
    first = crawl(server, db)
    server.clear_requests()
    second = crawl(server, db)
    assert second.requests <= 3  # robots.txt, site.json, first page of /latest
    assert not paths(server, "/t/") and not paths(server, "/posts.json")
    assert second.requests < 0.1 * first.requests
    assert_matches_truth(db, forum)


def test_incremental_crawl_fetches_only_changes(server, forum, tmp_path):
    db = tmp_path / "f.db"
    crawl(server, db)
    truth = forum.ground_truth()
    regular = [t for t in truth["topics"].values() if not t["pinned"] and t["posts_count"] >= 2]
    old_a, old_b, old_c = regular[0], regular[1], regular[2]
    author = next(iter(truth["users"]))
    new_topic = forum.add_topic(old_a["category_id"], "Fine-tuning t5-small runs out of memory", author,
                                "<p>My t5-small fine-tuning crashes with CUDA OOM.</p>")
    forum.add_post(new_topic, author, "<p>Try a smaller batch size.</p>", reply_to_post_number=1)
    new_post = forum.add_post(old_a["id"], author, "<p>Same problem here with <code>gpt2</code>.</p>")
    last_of_b = max((p for p in truth["posts"].values() if p["topic_id"] == old_b["id"]),
                    key=lambda p: p["post_number"])
    forum.edit_post(last_of_b["id"], "<p>Edited: solved it by upgrading transformers.</p>")  # bumps old_b
    first_of_c = next(p for p in truth["posts"].values() if p["topic_id"] == old_c["id"] and p["post_number"] == 1)
    forum.edit_post(first_of_c["id"], "<p>Edited quietly.</p>")  # no bump: invisible to a re-crawl

    server.clear_requests()
    crawl(server, db)
    topic_paths = set(paths(server, "/t/"))
    assert topic_paths <= {f"/t/{new_topic}.json", f"/t/{old_a['id']}.json", f"/t/{old_b['id']}.json",
                           f"/t/{old_b['id']}/posts.json"}
    assert f"/t/{old_b['id']}.json" in topic_paths  # bump without a new post -> refetched
    assert len(paths(server, "/posts.json")) == 1
    assert len(paths(server, "/latest.json")) == 1
    assert len(server.requests) <= 8

    got = store_view(db)
    assert new_post in got["posts"] and new_topic in got["topics"]
    assert got["posts"][last_of_b["id"]]["version"] == last_of_b["version"] + 1
    # an edit that bumps nothing is not seen yet (documented), everything else matches
    truth_now = forum.ground_truth()
    assert got["posts"][first_of_c["id"]]["version"] == first_of_c["version"]
    truth_now["posts"][first_of_c["id"]] = got["posts"][first_of_c["id"]]
    assert {k: v for k, v in got["posts"].items()} == truth_now["posts"]

    # A later crawl rechecks topics active shortly before the previous crawl: old_a was.
    quiet_post = forum.add_post(old_a["id"], author, "<p>one more</p>")
    forum.edit_post(new_post, "<p>Edited after the fact: gpt2 works now.</p>")  # not the last post: no bump
    server.clear_requests()
    crawl(server, db)
    assert store_view(db)["posts"][new_post]["version"] == 2
    assert quiet_post in store_view(db)["posts"]

    # --full-refresh sees the quiet edit too, and then the store equals the forum exactly.
    crawl(server, db, CrawlOptions(full_refresh=True))
    assert_matches_truth(db, forum)


def test_deleted_and_moved_posts_are_kept_but_marked(server, forum, tmp_path):
    db = tmp_path / "f.db"
    crawl(server, db)
    truth = forum.ground_truth()
    topic = next(t for t in truth["topics"].values() if t["posts_count"] >= 3 and not t["pinned"])
    victim = next(p for p in truth["posts"].values() if p["topic_id"] == topic["id"] and p["post_number"] == 2)
    forum.delete_post(victim["id"])
    forum.add_post(topic["id"], next(iter(truth["users"])), "<p>bump</p>")
    crawl(server, db)
    assert_matches_truth(db, forum)
    with sqlite3.connect(db) as con:
        row = con.execute("SELECT removed_at FROM posts WHERE id = ?", (victim["id"],)).fetchone()
    assert row is not None and row[0] is not None  # nothing stored is ever lost


@pytest.mark.slow
def test_killed_crawls_resume_to_the_same_store(forum, tmp_path):
    db = tmp_path / "k.db"
    rng = random.Random(3)
    with FakeDiscourse(forum, latency=0.08) as srv:
        kills = 0
        for _ in range(6):
            proc = subprocess.Popen([sys.executable, "-m", "forumkit", "scrape", srv.url, "--db", str(db),
                                     "--rate", "0", "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.7, 2.0))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait()
        assert kills >= 3, "the crawl finished too fast to be killed; raise the latency"
        done = scrape_here(srv.url, db)
        assert done.returncode == 0, done.stderr
    assert_matches_truth(db, forum)
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM crawl_runs WHERE status = 'running'").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM topic_queue").fetchone()[0] == 0


def test_retry_after_is_honoured(server, forum, tmp_path):
    server.add_fault(Fault("rate_limit_text", path=r"^/latest", times=1, retry_after=2))
    server.add_fault(Fault("rate_limit_json", path=r"^/posts\.json", times=1, retry_after=1))
    crawl(server, tmp_path / "f.db")
    log = server.requests
    for i, rec in enumerate(log):
        if rec.status == 429:
            wait = 2 if rec.path.startswith("/latest") else 1
            later = [r for r in log[i + 1:]]
            assert later, "the crawl stopped after a 429"
            assert later[0].time - rec.time >= wait - 0.01, f"request {later[0].path} came too soon after a 429"
    assert sum(r.status == 429 for r in log) == 2
    assert_matches_truth(tmp_path / "f.db", forum)


def test_client_side_rate_limit(server, tmp_path):
    crawl(server, tmp_path / "f.db", CrawlOptions(max_topics=3), rate=600)  # 10 requests a second
    times = [r.time for r in server.requests]
    gaps = [b - a for a, b in zip(times, times[1:])]
    # paced at the client; arrival times at the server jitter by a few milliseconds on a busy machine
    assert len(gaps) >= 4 and min(gaps) >= 0.07 and sum(gaps) / len(gaps) >= 0.098


def test_errors_are_retried_with_backoff(server, forum, tmp_path):
    server.add_fault(Fault("status", path=r"^/posts\.json", times=2, status=503))
    server.add_fault(Fault("status", path=r"^/latest", times=1, status=502))
    server.add_fault(Fault("reset", path=r"^/site", times=1))
    server.add_fault(Fault("truncated", path=r"^/t/", times=1))
    server.add_fault(Fault("html", path=r"^/t/", times=1))
    crawl(server, tmp_path / "f.db")
    assert_matches_truth(tmp_path / "f.db", forum)


def test_slow_responses_time_out_and_are_retried(server, forum, tmp_path):
    server.add_fault(Fault("slow", path=r"^/latest", times=1, delay=2.0))
    crawl(server, tmp_path / "f.db", timeout=0.5)
    assert sum(r.path.startswith("/latest") for r in server.requests) >= 2
    assert_matches_truth(tmp_path / "f.db", forum)


def test_a_500_storm_stops_cleanly_and_resumes(server, forum, tmp_path):
    db = tmp_path / "f.db"
    server.add_fault(Fault("status", path=r"^/posts\.json", times=-1, status=500))
    with pytest.raises(ForumUnavailable) as info:
        crawl(server, db, retries=2)
    assert "/posts.json" in info.value.url and "500" in str(info.value)
    before = store_view(db)
    assert before["topics"]  # the listing was stored before the storm
    server.clear_faults()
    crawl(server, db)
    after = store_view(db)
    assert set(before["topics"]) <= set(after["topics"])
    assert_matches_truth(db, forum)


def test_bad_data_gives_one_line_error_naming_the_url(server, forum, tmp_path):
    db = tmp_path / "f.db"
    crawl(server, db, CrawlOptions(max_topics=5))
    kept = store_view(db)
    forum.add_post(next(iter(kept["topics"])), next(iter(forum.ground_truth()["users"])), "<p>new</p>")
    for kind in ("truncated", "html"):
        server.clear_faults()
        server.add_fault(Fault(kind, path=r"^/latest", times=-1))
        res = scrape_here(server.url, db, "--retries", "1", "--max-topics", "5")
        assert res.returncode == 1
        lines = [line for line in res.stderr.strip().splitlines() if line.strip()]
        assert len(lines) == 1, res.stderr
        assert lines[0].startswith("error:") and f"{server.url}/latest.json" in lines[0]
        assert "Traceback" not in res.stderr
        assert store_view(db)["posts"].keys() >= kept["posts"].keys()
    server.clear_faults()
    assert scrape_here(server.url, db, "--max-topics", "5").returncode == 0


def test_robots_txt_is_obeyed(server, forum, tmp_path):
    server.robots_txt = "User-agent: *\nDisallow: /posts.json\nDisallow: /posts/\n"
    crawl(server, tmp_path / "f.db")
    assert not paths(server, "/posts")
    assert_matches_truth(tmp_path / "f.db", forum)  # topic by topic instead of the feed


def test_robots_txt_forbidding_topics_is_a_clear_error(server, tmp_path):
    server.robots_txt = "User-agent: forumkit\nDisallow: /t/\n"
    with pytest.raises(RobotsDisallowed):
        crawl(server, tmp_path / "f.db", CrawlOptions(max_topics=2))
    assert not paths(server, "/t/")
    res = scrape_here(server.url, tmp_path / "f.db", "--max-topics", "2")
    assert res.returncode == 1 and "robots.txt" in res.stderr and "--ignore-robots" in res.stderr
    assert scrape_here(server.url, tmp_path / "f.db", "--max-topics", "2", "--ignore-robots").returncode == 0


def test_user_agent_is_descriptive(server, tmp_path):
    crawl(server, tmp_path / "f.db", CrawlOptions(max_topics=1))
    assert all(r.user_agent.startswith("forumkit/") for r in server.requests)
    crawl(server, tmp_path / "g.db", CrawlOptions(max_topics=1), user_agent="my-study (me@uni.example)")
    assert server.requests[-1].user_agent == "my-study (me@uni.example)"


def test_filters_categories_dates_and_max_topics(server, forum, tmp_path):
    truth = forum.ground_truth()
    cats = {c["slug"]: c for c in truth["categories"].values()}
    slug = max(cats, key=lambda s: sum(t["category_id"] == cats[s]["id"] for t in truth["topics"].values()))
    wanted = {cats[slug]["id"]} | {c["id"] for c in truth["categories"].values()
                                   if c["parent_category_id"] == cats[slug]["id"]}
    db = tmp_path / "c.db"
    crawl(server, db, CrawlOptions(categories=(slug,)))
    assert_matches_truth(db, forum, only_topics={t for t, v in truth["topics"].items() if v["category_id"] in wanted})

    dates = sorted(t["created_at"] for t in truth["topics"].values())
    since, until = dates[len(dates) // 3], dates[2 * len(dates) // 3]
    db = tmp_path / "d.db"
    crawl(server, db, CrawlOptions(since=since, until=until))
    assert_matches_truth(db, forum, only_topics={
        t for t, v in truth["topics"].items() if since <= v["created_at"] < until})

    db = tmp_path / "m.db"
    crawl(server, db, CrawlOptions(max_topics=7))
    got = store_view(db)
    assert len(got["topics"]) == 7
    assert_matches_truth(db, forum, only_topics=set(got["topics"]))


def test_ctrl_c_stops_cleanly_and_resumes(forum, tmp_path):
    db = tmp_path / "i.db"
    with FakeDiscourse(forum, latency=0.08) as srv:
        proc = subprocess.Popen([sys.executable, "-m", "forumkit", "scrape", srv.url, "--db", str(db), "--rate", "0",
                                 "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Ctrl-C once the crawl has provably started: the server has answered some of its ~46 requests.
        deadline = time.monotonic() + 120
        while len(srv.requests) < 6 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proc.poll() is None and len(srv.requests) >= 6, "the crawl did not start, or ended too soon"
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 130, stderr
        assert [line for line in stderr.splitlines() if line.strip()] == [INTERRUPTED], stderr
        with sqlite3.connect(db) as con:  # stopped mid-crawl: the run stays open, to resume
            assert con.execute("SELECT count(*) FROM crawl_runs WHERE status = 'running'").fetchone()[0] == 1
        done = scrape_here(srv.url, db)
        assert done.returncode == 0, done.stderr
    assert_matches_truth(db, forum)


def test_ctrl_c_during_start_up_imports_is_the_same_one_line(tmp_path):
    marker = tmp_path / "importing"
    proc = subprocess.Popen([sys.executable, "-m", "forumkit", "stats", "--db", str(tmp_path / "x.db")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, STARTUP_PAUSE_ENV: str(marker)})
    deadline = time.monotonic() + 60
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert marker.exists(), "forumkit never reached its start-up imports"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert [line for line in stderr.splitlines() if line.strip()] == [INTERRUPTED], stderr


def test_parse_fallbacks_are_kept_counted_and_shown(forum, tmp_path):
    truth = forum.ground_truth()
    topic, author = next(iter(truth["topics"])), next(iter(truth["users"]))
    deep = forum.add_post(topic, author, "<div>" * 3000 + "nested too deep<p>still kept</p>")
    swallowed = forum.add_post(topic, author, "<p class='x>an attribute quote never closed</p><p>after</p>")
    db = tmp_path / "p.db"
    with FakeDiscourse(forum) as srv:
        res = cli("scrape", srv.url, "--db", db, "--rate", "0")
    assert res.returncode == 0, res.stderr
    assert "posts stored (2 with HTML the parser could not read" in " ".join(res.stderr.split())
    with sqlite3.connect(db) as con:
        flagged = dict(con.execute("SELECT post_id, reason FROM parse_fallbacks"))
        texts = dict(con.execute("SELECT id, text FROM posts WHERE id IN (?, ?)", (deep, swallowed)))
    assert set(flagged) == {deep, swallowed} and "2048" in flagged[deep]
    assert texts == {deep: "nested too deep still kept", swallowed: "an attribute quote never closed after"}
    stats = cli("stats", "--db", db)
    assert stats.returncode == 0, stats.stderr
    assert "2 posts with HTML the parser could not read" in " ".join(stats.stdout.split())


def test_retry_after_forms():
    from forumkit.collect.discourse.client import retry_after_seconds

    import httpx

    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "7"})) == 7
    json_only = httpx.Response(429, json={"errors": ["slow down"], "error_type": "rate_limit",
                                          "extras": {"wait_seconds": 12, "time_left": "12 seconds"}})
    assert retry_after_seconds(json_only) == 12
    soon = time.time() + 30
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(soon))
    assert 25 <= retry_after_seconds(httpx.Response(429, headers={"Retry-After": date})) <= 31
    assert retry_after_seconds(httpx.Response(429, text="Slow down"), default=10) == 10


def test_user_model_list_adds_mentions(forum, tmp_path):
    truth = forum.ground_truth()
    forum.add_post(next(iter(truth["topics"])), next(iter(truth["users"])),
                   "<p>Has anyone fine-tuned <code>zephyr-7b-beta</code> or Zephyr with LoRA?</p>")
    models = tmp_path / "models.txt"
    models.write_text("zephyr\n")
    with FakeDiscourse(forum) as srv:
        res = scrape_here(srv.url, tmp_path / "m.db", "--models", str(models))
    assert res.returncode == 0, res.stderr
    with sqlite3.connect(tmp_path / "m.db") as con:
        (count,) = con.execute("SELECT sum(in_text) FROM model_mentions WHERE model = 'zephyr'").fetchone()
    assert count == 2


def test_full_refresh_sees_likes_acceptance_and_hiding(server, forum, tmp_path):
    db = tmp_path / "f.db"
    crawl(server, db)
    truth = forum.ground_truth()
    topic = next(t for t in truth["topics"].values()
                 if t["posts_count"] >= 3 and not t["pinned"] and not t["has_accepted_answer"])
    posts = sorted((p for p in truth["posts"].values() if p["topic_id"] == topic["id"] and p["post_type"] == 1),
                   key=lambda p: p["post_number"])
    forum.like_post(posts[0]["id"], count=5)
    forum.accept_answer(posts[1]["id"])
    forum.hide_post(posts[-1]["id"])
    crawl(server, db, CrawlOptions(full_refresh=True))
    assert_matches_truth(db, forum)


def test_recheck_reads_every_post_of_a_recent_topic(server, forum, tmp_path):
    db = tmp_path / "f.db"
    truth = forum.ground_truth()
    topic = next(t for t in truth["topics"].values() if not t["pinned"] and t["posts_count"] >= 2)
    author = next(iter(truth["users"]))
    added = [forum.add_post(topic["id"], author, f"<p>reply {i}</p>") for i in range(26)]
    crawl(server, db)
    forum.edit_post(added[20], "<p>quietly edited, far down the topic</p>")  # not the last post: no bump
    server.clear_requests()
    crawl(server, db)  # the topic was active just before the last crawl: rechecked, every post read
    assert store_view(db)["posts"][added[20]]["version"] == 2
    assert_matches_truth(db, forum)


def test_a_url_without_scheme_is_a_usage_error(tmp_path):
    res = scrape_here("discuss.huggingface.co", tmp_path / "x.db")
    assert res.returncode == 2 and "is not a forum URL" in res.stderr and "https://" in res.stderr
    assert not (tmp_path / "x.db").exists() or sqlite3.connect(tmp_path / "x.db").execute(
        "SELECT count(*) FROM forums").fetchone()[0] == 0
