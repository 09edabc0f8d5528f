"""Crawl benchmark: a generated forum of 10,000 topics / ~35,000 posts on loopback, rate limit off.

Prints requests per post, posts parsed and stored per second (end to end, and the
parse+store step alone), peak memory of the crawling process, the cost of a
re-crawl with no changes, and an estimate for the real Hugging Face forum at the
default polite rate. The fake server runs in its own process so that it does not
share the crawler's interpreter.

    .venv/bin/python benchmarks/crawl_benchmark.py [--topics 10000] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from forumkit.collect.discourse.client import DEFAULT_RATE
from forumkit.collect.discourse.parse import parse_cooked
from forumkit.collect.discourse.decode import Post
from forumkit.collect.mentions import ModelVocabulary
from forumkit.store import Store

# The paper's corpus (Taraghi et al., SANER 2024): 11,175 topics, 34,019 posts.
HF_TOPICS, HF_POSTS = 11_175, 34_019


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(snapshot: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "forumkit.fakes.discourse", "--snapshot", str(snapshot),
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(f"{url}/site.json", timeout=1)
            return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the fake server did not start")


def crawl(url: str, db: Path) -> tuple[float, int, float]:
    """Run `forumkit scrape` in a fresh process: wall seconds, requests, peak memory (MB) of that process."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "forumkit", "scrape", url, "--db", str(db), "--rate", "0", "-q"])
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit("the crawl failed")
    with Store(db) as store:
        requests = store.query("SELECT requests FROM crawl_runs ORDER BY id DESC LIMIT 1")[0][0]
    return wall, requests, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--topics", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        # Generated in its own process, so that this one stays small: a child forked from a big
        # parent reports the parent's pages in its peak memory.
        subprocess.run([sys.executable, "-m", "forumkit.fakes.discourse", "--topics", str(args.topics),
                        "--seed", str(args.seed), "--save", str(tmp / "forum.json.gz")], check=True)
        print(f"generated the forum in {time.perf_counter() - t0:.1f}s")

        proc, url = serve(tmp / "forum.json.gz")
        try:
            wall, requests, peak_mb = crawl(url, tmp / "bench.db")
            again_wall, again_requests, _ = crawl(url, tmp / "bench.db")
        finally:
            proc.terminate()
            proc.wait()
        with Store(tmp / "bench.db") as store:
            n_topics, n_posts = (store.counts()[k] for k in ("topics", "posts"))
        print(f"crawled {n_topics} topics / {n_posts} posts (the tests check a crawl equals the forum exactly)")
        # The parse+store step alone, on the same posts, into a fresh store.
        posts = _stored_posts(tmp / "bench.db")
        vocab = ModelVocabulary.default()
        t0 = time.perf_counter()
        with Store(tmp / "parse.db") as store:
            fid = store.forum_id("http://bench")
            for i in range(0, len(posts), 50):
                chunk = posts[i:i + 50]
                parsed = [parse_cooked(p.cooked) for p in chunk]
                mentions = [{m: (0, c, 0) for m, c in vocab.find(x.text).items()} for x in parsed]
                with store.transaction():
                    store.upsert_posts(fid, chunk, parsed, mentions)
        step = time.perf_counter() - t0

    print(f"full crawl: {wall:.1f}s, {requests} requests for {n_posts} posts = {requests / n_posts:.3f} "
          f"requests/post ({requests / n_topics:.3f} per topic)")
    print(f"end to end: {n_posts / wall:,.0f} posts/s (process start, HTTP, JSON, parse, store)")
    print(f"parse + store alone: {len(posts) / step:,.0f} posts/s")
    print(f"peak memory of the crawling process: {peak_mb:.0f} MB")
    print(f"re-crawl without changes: {again_requests} requests = {again_requests / requests:.2%} "
          f"of the full crawl, {again_wall:.2f}s")
    est_requests = requests / n_topics * HF_TOPICS
    print(f"estimate for the paper's Hugging Face corpus ({HF_TOPICS:,} topics, {HF_POSTS:,} posts) at "
          f"{DEFAULT_RATE:.0f} requests/min: {est_requests:,.0f} requests = {est_requests / DEFAULT_RATE:.0f} min")


def _stored_posts(db: Path) -> list[Post]:
    """The crawled posts back as records, to time parsing and storing alone."""
    with Store(db) as store:
        rows = store.query("SELECT * FROM posts ORDER BY id")
    return [Post(r["id"], r["topic_id"], r["post_number"], r["post_type"], r["user_id"], r["username"], None,
                 r["created_at"], r["updated_at"], r["version"], r["reply_to_post_number"], r["like_count"],
                 r["reads"], bool(r["hidden"]), bool(r["user_deleted"]), bool(r["accepted_answer"]),
                 bool(r["author_staff"]), bool(r["author_admin"]), bool(r["author_moderator"]),
                 r["author_trust_level"], r["cooked"]) for r in rows]


if __name__ == "__main__":
    main()
