"""Report benchmark: `forumkit report` for 1,000,000 coded rows.

Makes a store by crawling a generated forum (3,000 topics) from the fake server, and a coded
table of 1,000,000 rows (item, code of the shipped challenge codebook, date over 30 months),
then times the whole report: loading the coded table, aggregation by category, subcategory and
month with Wilson intervals, trend tests, forum activity and model mentions, every figure as
PNG and SVG, and the HTML page.

    .venv/bin/python benchmarks/report_benchmark.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from forumkit.analysis.aggregate import load_coded
from forumkit.coding.codebook import load_codebook
from forumkit.collect.discourse.client import DiscourseClient
from forumkit.collect.discourse.crawl import Crawler
from forumkit.fakes.discourse import FakeDiscourse, generate_forum
from forumkit.analysis.report import ReportOptions, build_report
from forumkit.store import Store

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    book = load_codebook(ROOT / "forumkit" / "codebooks" / "hf-challenges.yaml")
    codes = np.array(book.code_ids())
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        db = tmp / "forum.db"
        with FakeDiscourse(generate_forum(n_topics=3000, seed=2)) as srv, Store(db) as store, \
                DiscourseClient(srv.url, rate=0) as client:
            Crawler(client, store).run()
        items = args.rows // 2
        item = rng.integers(1, items + 1, args.rows)
        start = pd.Timestamp("2021-01-01", tz="UTC").value // 10**9
        seconds = start + (item.astype(np.int64) * 2_500_000_000 // items) % (30 * 30 * 86400)
        frame = pd.DataFrame({"item": item, "code": rng.choice(codes, args.rows),
                              "date": pd.to_datetime(seconds, unit="s", utc=True)})
        frame.to_parquet(tmp / "coded.parquet", index=False)
        print(f"coded table: {args.rows:,} rows, {frame['item'].nunique():,} items, {len(codes)} codes")
        t0 = time.perf_counter()
        with Store(db) as store:
            coded = load_coded(tmp / "coded.parquet", item="item", code="code", date="date")
            loaded = time.perf_counter() - t0
            index = build_report(store, tmp / "report", coded=coded, codebooks=[book],
                                 options=ReportOptions(period="month"), command="report_benchmark.py")
        total = time.perf_counter() - t0
        figures = len(list((tmp / "report" / "figures").glob("*")))
        print(f"report of {args.rows:,} coded rows: {total:.1f}s (loading {loaded:.1f}s), {figures} figure files, "
              f"index.html {index.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
