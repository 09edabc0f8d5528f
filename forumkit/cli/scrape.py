"""Commands of the scraping step: scrape, export, stats, demo, fake serve."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from forumkit.collect.discourse.client import DEFAULT_FORUM, DEFAULT_RATE, DEFAULT_USER_AGENT, DiscourseClient
from forumkit.collect.discourse.crawl import CrawlOptions, CrawlProgress, CrawlResult, Crawler, iso_date
from forumkit.collect.export import FORMATS, TABLES, export_table, write_frame
from forumkit.collect.mentions import ModelVocabulary
from forumkit.store import Store
from forumkit.collect.summary import StoreSummary, summarize
from .common import app, err, one_line_errors, open_store, out

EXPORTS = [*TABLES, "coded", "annotations", "qdpx"]
SHIPPED_CODEBOOKS = Path(__file__).resolve().parents[2] / "codebooks"


@contextmanager
def _crawl_progress(quiet: bool) -> Iterator[Callable | None]:
    """A rich progress display fed by the crawl's progress callback."""
    if quiet:
        yield None
        return
    progress = Progress(
        TextColumn("[bold]{task.fields[phase]:<10}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("topics · {task.fields[posts]} posts · {task.fields[requests]} requests{task.fields[wait]}"),
        TimeElapsedColumn(), console=err, transient=True,
    )
    task = progress.add_task("crawl", total=None, phase="starting", posts=0, requests=0, wait="")

    def update(state: CrawlProgress) -> None:
        total = state.topics_queued if state.phase == "topics" else None
        done = state.topics_done if state.phase == "topics" else state.topics_listed
        wait = f" · waiting {state.waiting:.0f}s ({state.wait_reason})" if state.waiting else ""
        progress.update(task, total=total, completed=done, phase=state.phase, posts=state.posts_stored,
                        requests=state.requests, wait=wait)

    with progress:
        yield update


def run_scrape(url: str, db: Path, options: CrawlOptions, *, rate: float, user_agent: str, ignore_robots: bool,
               retries: int, backoff: float, models: Optional[Path], quiet: bool) -> CrawlResult:
    """Open the store and the client, crawl, and report. Shared by `scrape` and `demo`."""
    vocabulary = ModelVocabulary.default()
    if models is not None:
        vocabulary = vocabulary.extended(ModelVocabulary.from_file(models))
    with Store(db) as store, DiscourseClient(url, rate=rate, user_agent=user_agent,
                                             respect_robots=not ignore_robots, retries=retries,
                                             backoff=backoff) as client:
        with _crawl_progress(quiet) as progress:
            crawler = Crawler(client, store, options, vocabulary=vocabulary, progress=progress)
            result = crawler.run()
    if not quiet:
        how = "resumed and finished" if result.resumed else "finished"
        err.print(f"crawl {how}: {result.topics_listed} topics listed, {result.topics_fetched} fetched one by one, "
                  f"{result.posts_stored} posts stored, {result.requests} requests -> {db}")
    return result


@app.command()
@one_line_errors
def scrape(
    forum_url: str = typer.Argument(DEFAULT_FORUM, help="Base URL of a Discourse forum."),
    db: Path = typer.Option(Path("forum.db"), "--db", help="SQLite store to create or update."),
    categories: list[str] = typer.Option([], "--categories", "-c",
                                         help="Only these categories (slug, name or id; repeat or comma-separate)."),
    since: Optional[str] = typer.Option(None, help="Only topics created on or after this date (YYYY-MM-DD)."),
    until: Optional[str] = typer.Option(None, help="Only topics created before this date (YYYY-MM-DD)."),
    max_topics: Optional[int] = typer.Option(None, "--max-topics", min=1, help="Stop after this many new topics."),
    rate: float = typer.Option(DEFAULT_RATE, help="Requests per minute (0 = no limit; be kind to real forums)."),
    user_agent: str = typer.Option(DEFAULT_USER_AGENT, "--user-agent", help="User-Agent header; say who you are."),
    ignore_robots: bool = typer.Option(False, "--ignore-robots", help="Do not obey robots.txt (needs permission)."),
    recheck_days: float = typer.Option(3.0, "--recheck-days", min=0,
                                       help="Also refetch topics active this many days before the last crawl "
                                            "(catches edits that do not bump a topic)."),
    full_refresh: bool = typer.Option(False, "--full-refresh", help="Re-list everything and refetch changed posts."),
    retries: int = typer.Option(5, min=0, help="Retries for 5xx, timeouts and resets before giving up."),
    backoff: float = typer.Option(2.0, min=0, help="Base of the exponential backoff between retries, seconds."),
    models: Optional[Path] = typer.Option(None, help="Extra model names to find (CSV model,aliases,... or one a line)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
) -> None:
    """Scrape a Discourse forum into a SQLite store, incrementally and resumably.

    Example: forumkit scrape https://discuss.huggingface.co --db hf.db --since 2023-01-01
    """
    names = tuple(n.strip() for item in categories for n in item.split(",") if n.strip())
    options = CrawlOptions(categories=names, since=iso_date(since, "--since"), until=iso_date(until, "--until"),
                           max_topics=max_topics, recheck_days=recheck_days, full_refresh=full_refresh)
    run_scrape(forum_url, db, options, rate=rate, user_agent=user_agent, ignore_robots=ignore_robots,
               retries=retries, backoff=backoff, models=models, quiet=quiet)


@app.command("export")
@one_line_errors
def export_cmd(
    table: str = typer.Argument(..., help=f"What to export: {', '.join(EXPORTS)}."),
    db: Path = typer.Option(Path("forum.db"), "--db", help="SQLite store to read."),
    format: str = typer.Option("csv", "--format", "-f", help=f"One of: {', '.join(FORMATS)}."),
    out_path: Path = typer.Option(..., "--out", "-o", help="File to write; with --partition-by, the folder of "
                                                           "the dataset."),
    html: bool = typer.Option(False, "--html", help="Add the original HTML (posts only)."),
    project: Optional[int] = typer.Option(None, help="coded/annotations/qdpx: only this project."),
    adjudicator: Optional[str] = typer.Option(None, help="coded: this coder's codes decide the consensus."),
    partition_by: Optional[str] = typer.Option(None, "--partition-by", help="posts, topics, mentions, coded: write "
                                               "a hive-partitioned Parquet dataset (a folder) by forum, month or "
                                               "forum,month; DuckDB and Spark read it as one table."),
    view: Optional[str] = typer.Option(None, help="coded: the rows `forumkit aggregate` counts instead, "
                                                  "consensus (each item's agreed codes) or coders (every coder's)."),
) -> None:
    """Export posts, topics, model mentions or the coded dataset to CSV, Parquet or JSON Lines.

    `coded` has one row per item and code with a consensus column; `annotations` one row per
    annotation and code. Example: forumkit export posts --db hf.db --format parquet --out posts.parquet

    `qdpx` writes a REFI-QDA project for ATLAS.ti, MAXQDA, NVivo or QualCoder (--format is ignored).
    Example: forumkit export qdpx --db hf.db --project 1 --out study.qdpx

    A dataset for DuckDB or Spark (`forumkit aggregate --dataset`), one folder per forum and month; stores of
    other forums can export into the same folder. Example: forumkit export coded --db hf.db --project 1
    --view consensus --format parquet --partition-by forum,month --out lake/coded
    """
    if partition_by is not None or view is not None:
        from forumkit.analysis.aggregate.dataset import export_dataset_table

        with open_store(db) as store:
            rows = export_dataset_table(store, table, out_path, fmt=format, partition_by=partition_by or (),
                                        project=project, view=view, adjudicator=adjudicator, html=html)
        err.print(f"{rows} {table} rows -> {out_path}")
        return
    with open_store(db) as store:
        from forumkit.coding.coded import annotation_rows, coded_items

        if table == "qdpx":
            from forumkit.coding.qdpx import export_qdpx

            result = export_qdpx(store, out_path, project)
            err.print(f"{result.sources} sources, {result.selections} codings by {result.users} coders -> {out_path}")
            return
        if table == "coded":
            rows = write_frame(coded_items(store, project, adjudicator=adjudicator), format, out_path)
        elif table == "annotations":
            rows = write_frame(annotation_rows(store, project), format, out_path)
        else:
            rows = export_table(store, table, format, out_path, html=html)
    err.print(f"{rows} {table} rows -> {out_path}")


@app.command()
@one_line_errors
def stats(db: Path = typer.Option(Path("forum.db"), "--db", help="SQLite store to read.")) -> None:
    """Show what a store holds: counts, time span, categories, most mentioned models.

    Example: forumkit stats --db hf.db
    """
    with open_store(db) as store:
        for forum_id, _ in store.forums():
            print_summary(summarize(store, forum_id))


def print_summary(summary: StoreSummary) -> None:
    c = summary.counts
    out.print(f"[bold]{summary.forum}[/]: {c['topics']} topics, {c['posts']} posts, {c['users']} users, "
              f"{c['categories']} categories, {c['tags']} tags")
    out.print(f"posts from {summary.first_post} to {summary.last_post} ({summary.months} months); "
              f"{summary.accepted_share:.0%} of topics have an accepted answer")
    table = Table("category", "topics", "posts", title="by forum category")
    for name, topics, posts in summary.by_category:
        table.add_row(name, str(topics), str(posts or 0))
    out.print(table)
    models = Table("model", "topics mentioning it", title="most mentioned models")
    for model, topics in summary.top_models:
        models.add_row(model, str(topics))
    out.print(models)


@app.command()
@one_line_errors
def demo(
    workdir: Path = typer.Option(Path("forumkit-work/demo"), help="Folder for the demo's store and exports."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
) -> None:
    """The main job on the shipped forum snapshot: scrape, export, sample, prepare coding. No network needed.

    Serves the snapshot on loopback, scrapes it with the real scraper, shows and exports what was stored,
    draws a stratified sample of topics (Cochran size, 95% / 5%), writes the HTML report of the forum's
    activity and model mentions, and the Label Studio labeling config of the shipped codebooks. Example: forumkit demo --workdir /tmp/demo
    """
    from forumkit.coding.codebook import label_config, load_codebook
    from forumkit.fakes.discourse import FakeDiscourse, load_sample
    from forumkit.analysis.report import ReportOptions, build_report
    from forumkit.coding.sampling import SampleDesign, draw_sample, save_sample, write_sample_csv
    from .sample import print_sample

    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "sample.db"
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)  # the demo server's port changes each run: start from a fresh store
    with FakeDiscourse(load_sample()) as server:
        err.print(f"serving the sample forum snapshot at {server.url}")
        run_scrape(server.url, db, CrawlOptions(), rate=0, user_agent=DEFAULT_USER_AGENT, ignore_robots=False,
                   retries=3, backoff=0.1, models=None, quiet=quiet)
    with Store(db) as store:
        print_summary(summarize(store, store.forum_id(server.url, create=False)))
        for table in TABLES:
            path = workdir / f"{table}.parquet"
            rows = export_table(store, table, "parquet", path)
            out.print(f"exported {rows} {table} rows -> {path}")
        sample = draw_sample(store, SampleDesign(name="demo", strata="category", seed=42))
        save_sample(store, sample, replace=True)
        print_sample(sample)
        write_sample_csv(store, sample, workdir / "sample-demo.csv")
        index = build_report(store, workdir / "report", options=ReportOptions(title="forumkit demo: sample forum"),
                             command="forumkit demo")
    out.print(f"report (forum activity, model mentions and their trends) -> {index}")
    books = [load_codebook(path) for path in sorted(SHIPPED_CODEBOOKS.glob("*.yaml"))]
    (workdir / "label-config.xml").write_text(label_config(books, unit="topic"), encoding="utf-8")
    out.print(f"sample 'demo' -> {workdir / 'sample-demo.csv'}; Label Studio config of "
              f"{' and '.join(b.name for b in books)} -> {workdir / 'label-config.xml'}")
    out.print(f"next: forumkit studio up, then forumkit studio push --db {db} --sample demo "
              + " ".join(f"--codebook {p}" for p in sorted(SHIPPED_CODEBOOKS.glob('*.yaml'))))


fake_app = typer.Typer(help="A fake Discourse forum on loopback, for trying forumkit without a network.")
app.add_typer(fake_app, name="fake")


@fake_app.command("serve")
@one_line_errors
def fake_serve(
    snapshot: Optional[Path] = typer.Option(None, help="Forum snapshot (.json.gz); default: the shipped sample."),
    port: int = typer.Option(8765, help="Port on 127.0.0.1."),
) -> None:
    """Serve a forum snapshot with the Discourse API on 127.0.0.1 until Ctrl-C.

    Example: forumkit fake serve --port 8765 & forumkit scrape http://127.0.0.1:8765 --db sample.db --rate 0
    """
    import time

    from forumkit.fakes.discourse import FakeDiscourse, FakeForum, load_sample

    forum = FakeForum.load(snapshot) if snapshot else load_sample()
    with FakeDiscourse(forum, port=port) as server:
        err.print(f"serving at {server.url} (Ctrl-C to stop)")
        while True:
            time.sleep(3600)


