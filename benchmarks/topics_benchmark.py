"""Topics benchmark: `suggest topics` for 100,000 posts with the static embedding (goal: < 5 min, < 4 GB).

Setup (not timed): a generated forum of about ``posts / 3.3`` topics; each post's own words (the text the store
keeps: no code blocks, no quotes, parsed from the cooked HTML as the scraper does) and date go to a Parquet
file. The measurement then runs in a fresh process, so that its peak RSS is the topic step's alone: embedding
every post with the shipped static model (cached in a new store), BERTopic guided by hf-challenges (seed
words, UMAP seed 0), the two-step outlier reduction, the mapping of topics to codes (all-MiniLM-L6-v2 on the
topics' words and the codes' texts), storing the run and writing its files with the saved model, and the
topics' Mann-Kendall trends per quarter. It prints the time of each step, the outlier share before and after,
and the peak RSS.

    .venv/bin/python benchmarks/topics_benchmark.py [--posts 100000] [--min-topic-size 50] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_posts(count: int, path: Path, seed: int) -> None:
    """The posts of a generated forum, as the store would hold them: id, date, own words."""
    import pandas as pd

    from forumkit.collect.discourse.parse import parse_cooked
    from forumkit.fakes.discourse import generate_forum

    forum = generate_forum(n_topics=max(30, round(count / 3.3)), seed=seed)  # some posts are not readable
    rows = []
    for post in forum.posts.values():
        if post.post_type != 1 or post.deleted_at or post.hidden:
            continue
        title = forum.topics[post.topic_id].title
        rows.append((post.id, post.created_at, title, parse_cooked(post.cooked).text))
    frame = pd.DataFrame(rows, columns=["item_id", "created_at", "title", "text"]).head(count)
    frame.to_parquet(path, index=False)


def measure(path: Path, min_topic_size: int, seed: int, work: Path) -> dict:
    """The timed part (see the module docstring); returns the figures."""
    import pandas as pd

    from forumkit.analysis.topictrends import topic_trends, write_topic_trends
    from forumkit.coding.codebook import load_codebook, resolve_codebook
    from forumkit.coding.suggest.corpus import Corpus, item_text
    from forumkit.coding.suggest.embed import embed, get_embedder
    from forumkit.coding.suggest.topics import TopicOptions, fit_topics, write_run
    from forumkit.store import Store

    frame = pd.read_parquet(path)
    corpus = Corpus(tuple(int(i) for i in frame["item_id"]), tuple(item_text(None, [t]) for t in frame["text"]),
                    tuple(frame["created_at"]), str(path))
    book = load_codebook(resolve_codebook("hf-challenges"))
    options = TopicOptions(unit="post", min_topic_size=min_topic_size, seed=seed)
    times: dict[str, float] = {}
    start = time.perf_counter()
    with Store(work / "bench.db") as store:
        embedder = get_embedder("static")
        vectors = embed(corpus.texts, embedder, store)
        times["embed (static, cached in the store)"] = time.perf_counter() - start
        mark = time.perf_counter()
        result = fit_topics(corpus, vectors, [book], options, embedder, store=store)
        times["BERTopic fit, outlier reduction, mapping to codes"] = time.perf_counter() - mark
        mark = time.perf_counter()
        write_run(result, work / "out")
        store.save_topic_run(
            {"forum_id": None, "unit": "post", "model_version": result.model_version, "embedder": embedder.name,
             "seed": seed, "options": {}, "n_items": len(result.items), "n_topics": len(result.topics),
             "outliers_before": result.outliers_before, "outliers_after": result.outliers_after, "out_dir": None},
            result.items.itertuples(index=False, name=None), result.words.itertuples(index=False, name=None),
            result.codes.itertuples(index=False, name=None))
        trends = topic_trends(result.items, result.topics, period="quarter")
        write_topic_trends(trends, work / "out")
        times["store the run, write files, model and trends"] = time.perf_counter() - mark
    times["total"] = time.perf_counter() - start
    return {"posts": len(corpus), "topics": len(result.topics), "new_codes": len(result.new_codes),
            "outliers_before": result.outliers_before, "outliers_after": result.outliers_after,
            "times": times, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "model_version": result.model_version}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--min-topic-size", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the fresh process's part
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.min_topic_size, args.seed, args.work)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        posts = Path(tmp) / "posts.parquet"
        mark = time.perf_counter()
        make_posts(args.posts, posts, seed=1)
        print(f"setup: generated and parsed the posts in {time.perf_counter() - mark:.0f} s", flush=True)
        load = os.getloadavg()
        res = subprocess.run([sys.executable, __file__, "--measure", str(posts), "--work", tmp, "--min-topic-size",
                              str(args.min_topic_size), "--seed", str(args.seed)], capture_output=True, text=True,
                             check=False)
        if res.returncode != 0:
            sys.exit(res.stderr[-3000:])
        got = json.loads(res.stdout.strip().splitlines()[-1])
    print(f"{got['posts']:,} posts -> {got['topics']} topics ({got['model_version']}), {got['new_codes']} candidate "
          f"new codes; outliers {got['outliers_before']:.1%} before reduction, {got['outliers_after']:.1%} after")
    for step, seconds in got["times"].items():
        print(f"  {step:<52} {seconds:8.1f} s")
    print(f"peak RSS of the measured process: {got['peak_rss_mb']:,.0f} MB; load average before: "
          f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
