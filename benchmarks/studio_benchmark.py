"""Label Studio benchmark: push 10,000 tasks with predictions, pull 20,000 annotations.

Runs against a real label-studio server started by forumkit on 127.0.0.1 (its
virtual environment `.venv-studio` is made on first use; the first start of a
data folder migrates its database for about a minute, not counted here).

* push: `forumkit.coding.studio.push` of 10,000 topics of a generated forum, each with a
  pre-annotation (prediction) of two codes: find the project, read its tasks back, render,
  sanitise, import, record.
* push again: the same 10,000 items: every task read back from the server, nothing to add.
* pull: a project whose 10,000 tasks carry two coders' annotations each (imported
  in bulk, since creating 20,000 annotations one by one through the API takes
  long), pulled with `forumkit.coding.studio.pull`: tasks with their annotations a page
  (500 tasks) at a time, mapping of taxonomy paths to codes, replacing the store's rows.
* for comparison, the one-request JSON export of that project (what pull used before it paged).

    .venv/bin/python benchmarks/studio_benchmark.py [--tasks 10000] [--workdir forumkit-work/bench-studio]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import pandas as pd

from forumkit.coding.codebook import load_codebook, taxonomy_name
from forumkit.collect.discourse.client import DiscourseClient
from forumkit.collect.discourse.crawl import Crawler
from forumkit.fakes.discourse import FakeDiscourse, generate_forum
from forumkit.store import Store
from forumkit.coding.studio import Studio
from forumkit.coding.studio.pull import pull
from forumkit.coding.studio.push import push
from forumkit.coding.studio import server as studio_server

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--workdir", type=Path, default=ROOT / "forumkit-work" / "bench-studio")
    args = ap.parse_args()
    book = load_codebook(ROOT / "forumkit" / "codebooks" / "hf-challenges.yaml")
    leaves = [code.id for _, code in book.codes() if code.is_leaf]
    rng = random.Random(0)

    t0 = time.perf_counter()
    info = studio_server.start(args.workdir, venv=ROOT / ".venv-studio")
    print(f"Label Studio up at {info.url} in {time.perf_counter() - t0:.0f}s")
    studio = Studio(info.url, info.login().token)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "forum.db"
            forum = generate_forum(n_topics=int(args.tasks * 1.05) + 50, seed=5)
            with FakeDiscourse(forum) as srv, Store(db) as store, DiscourseClient(srv.url, rate=0) as client:
                Crawler(client, store).run()
            del forum
            with Store(db) as store:
                items = sorted(store.live_item_ids(1, "topic"))[: args.tasks]
                print(f"store: {len(items)} topics to push")
                suggestions = pd.DataFrame(
                    [(i, code, rng.random()) for i in items for code in rng.sample(leaves, 2)],
                    columns=["item_id", "code_id", "score"])
                t0 = time.perf_counter()
                pushed_title = f"bench push {time.time():.0f}"
                pushed = push(store, studio, [book], forum_id=1, unit="topic", item_ids=items,
                              title=pushed_title, coders=2, suggestions=suggestions)
                push_s = time.perf_counter() - t0
                print(f"push: {pushed.tasks_added} tasks with {pushed.predictions} predictions in {push_s:.1f}s "
                      f"({pushed.tasks_added / push_s:,.0f} tasks/s)")
                t0 = time.perf_counter()
                again = push(store, studio, [book], forum_id=1, unit="topic", item_ids=items,
                             title=pushed_title, coders=2, suggestions=suggestions)
                again_s = time.perf_counter() - t0
                print(f"push again: {again.tasks_kept} tasks read back, {again.tasks_added} added in {again_s:.1f}s")

                target = push(store, studio, [book], forum_id=1, unit="topic", item_ids=[],
                              title=f"bench pull {time.time():.0f}", coders=2)
                coders = [studio.sdk.users.create(email=f"bench{n}-{time.time():.0f}@study.example",
                                                  username=f"bench{n}x{int(time.time())}").id for n in (1, 2)]
                control = taxonomy_name(book)
                tasks = []
                for item in items:
                    anns = []
                    for coder in coders:
                        paths = [[c.id for c in book.path_of(code)] for code in rng.sample(leaves, 2)]
                        anns.append({"completed_by": coder, "lead_time": 20.0, "result": [
                            {"from_name": control, "to_name": "item", "type": "taxonomy",
                             "value": {"taxonomy": paths}}]})
                    tasks.append({"data": {"html": "<p>bench</p>", "title": "t", "category": "", "created_at": "",
                                           "url": "", "item_id": item}, "annotations": anns})
                for start in range(0, len(tasks), 2000):
                    studio.import_tasks(target.project_id, tasks[start:start + 2000])
                t0 = time.perf_counter()
                pulled = pull(store, studio, target.project)
                pull_s = time.perf_counter() - t0
                print(f"pull: {pulled.annotations} annotations ({pulled.codes} codes) by {len(pulled.coders)} coders "
                      f"in {pull_s:.1f}s ({pulled.annotations / pull_s:,.0f} annotations/s)")
                t0 = time.perf_counter()
                exported = json.loads(b"".join(studio.sdk.projects.exports.download_sync(
                    id=target.project_id, export_type="JSON", download_all_tasks=False)))
                print(f"one-request JSON export of the same project (what pull used before): {len(exported)} tasks "
                      f"in {time.perf_counter() - t0:.1f}s")
    finally:
        studio_server.stop(args.workdir)


if __name__ == "__main__":
    main()
