"""The main job on the shipped forum snapshot, end to end and offline: what `forumkit demo` runs.

It serves the shipped snapshot with the fake Discourse server on loopback, scrapes it with the real
crawler into a fresh store, exports the collected tables, draws a stratified sample for coding, writes
the HTML report of the forum's activity and model mentions and the Label Studio labeling config of the
shipped codebooks. It sits above the stages (collect, coding, analysis) and below the command line.

Example::

    from forumkit.demo import run
    result = run("forumkit-work/demo")
    result.report                       # .../forumkit-work/demo/report/index.html
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from forumkit.analysis.report import ReportOptions, build_report
from forumkit.coding.codebook import label_config, load_codebook, shipped_codebooks
from forumkit.coding.sampling import Sample, SampleDesign, draw_sample, save_sample, write_sample_csv
from forumkit.collect.discourse.client import DiscourseClient
from forumkit.collect.discourse.crawl import CrawlOptions, CrawlProgress, CrawlResult, Crawler
from forumkit.collect.export import TABLES, export_table
from forumkit.collect.summary import StoreSummary, summarize
from forumkit.fakes.discourse import FakeDiscourse, load_sample
from forumkit.store import Store

__all__ = ["DEFAULT_WORKDIR", "SAMPLE_NAME", "DemoResult", "run"]

DEFAULT_WORKDIR = Path("forumkit-work") / "demo"
SAMPLE_NAME = "demo"


@dataclass(frozen=True)
class DemoResult:
    """Everything the demo made, for the caller to show: the store, what it holds and the files beside it."""

    db: Path
    crawl: CrawlResult
    summary: StoreSummary
    exports: list[tuple[str, int, Path]]  # table, rows, file
    sample: Sample
    sample_csv: Path
    report: Path  # the report's index.html
    label_config: Path
    codebooks: list[tuple[str, str]]  # shipped name (usable as --codebook NAME), codebook name


def run(workdir: str | Path = DEFAULT_WORKDIR, *, progress: Callable[[CrawlProgress], None] | None = None,
        on_serving: Callable[[str], None] | None = None) -> DemoResult:
    """Run the demo into ``workdir`` (made if missing; its store starts afresh each time).

    ``progress`` receives the crawl's progress, ``on_serving`` the URL of the loopback forum once it serves.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "sample.db"
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)  # the demo server's port changes each run: start from a fresh store
    with FakeDiscourse(load_sample()) as server:
        if on_serving is not None:
            on_serving(server.url)
        with Store(db) as store, DiscourseClient(server.url, rate=0, retries=3, backoff=0.1) as client:
            crawl = Crawler(client, store, CrawlOptions(), progress=progress).run()
    with Store(db) as store:
        summary = summarize(store, crawl.forum_id)
        exports = [(table, export_table(store, table, "parquet", workdir / f"{table}.parquet"),
                    workdir / f"{table}.parquet") for table in TABLES]
        sample = draw_sample(store, SampleDesign(name=SAMPLE_NAME, strata="category", seed=42))
        save_sample(store, sample, replace=True)
        sample_csv = workdir / f"sample-{SAMPLE_NAME}.csv"
        write_sample_csv(store, sample, sample_csv)
        report = build_report(store, workdir / "report", options=ReportOptions(title="forumkit demo: sample forum"),
                              command="forumkit demo")
    shipped = shipped_codebooks()
    books = {name: load_codebook(path) for name, path in shipped.items()}
    config = workdir / "label-config.xml"
    config.write_text(label_config(list(books.values()), unit="topic"), encoding="utf-8")
    return DemoResult(db=db, crawl=crawl, summary=summary, exports=exports, sample=sample, sample_csv=sample_csv,
                      report=report, label_config=config,
                      codebooks=[(name, book.name) for name, book in books.items()])
