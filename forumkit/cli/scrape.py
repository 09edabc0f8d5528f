"""Commands of the scraping step: scrape, stats."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from forumkit.collect.discourse.client import DEFAULT_FORUM, DEFAULT_RATE, DEFAULT_USER_AGENT
from .common import app, err, one_line_errors, open_store, out, path_option

if TYPE_CHECKING:  # the crawler (lxml) is imported when a command runs, not for --help
    from forumkit.collect.discourse.crawl import CrawlOptions, CrawlProgress, CrawlResult
    from forumkit.collect.summary import StoreSummary


@contextmanager
def crawl_progress(quiet: bool) -> Iterator[Callable | None]:
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
    """Open the store and the client, crawl, and report."""
    from forumkit.collect.discourse.client import DiscourseClient
    from forumkit.collect.discourse.crawl import Crawler
    from forumkit.collect.mentions import ModelVocabulary
    from forumkit.store import Store

    vocabulary = ModelVocabulary.default()
    if models is not None:
        vocabulary = vocabulary.extended(ModelVocabulary.from_file(models))
    with Store(db) as store, DiscourseClient(url, rate=rate, user_agent=user_agent,
                                             respect_robots=not ignore_robots, retries=retries,
                                             backoff=backoff) as client:
        with crawl_progress(quiet) as progress:
            crawler = Crawler(client, store, options, vocabulary=vocabulary, progress=progress)
            result = crawler.run()
    if not quiet:
        print_crawl(result, db)
    return result


def print_crawl(result: CrawlResult, db: Path) -> None:
    """The crawl's closing line (also shown by `demo`)."""
    how = "resumed and finished" if result.resumed else "finished"
    fallbacks = (f" ({result.parse_fallbacks} with HTML the parser could not read: text kept as a plain tag "
                 "strip, see `forumkit stats`)" if result.parse_fallbacks else "")
    err.print(f"crawl {how}: {result.topics_listed} topics listed, {result.topics_fetched} fetched one by one, "
              f"{result.posts_stored} posts stored{fallbacks}, {result.requests} requests -> {db}",
              highlight=False, soft_wrap=True)


@app.command()
@one_line_errors
def scrape(
    forum_url: str = typer.Argument(DEFAULT_FORUM, help="Base URL of a Discourse forum."),
    db: Path = path_option(Path("forum.db"), "--db", help="SQLite store to create or update."),
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
    models: Optional[Path] = path_option(None, help="Extra model names to find (CSV model,aliases,... or one a line)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
) -> None:
    """Scrape a Discourse forum into a SQLite store, incrementally and resumably.

    Example: forumkit scrape https://discuss.huggingface.co --db hf.db --since 2023-01-01
    """
    from forumkit.collect.discourse.crawl import CrawlOptions, iso_date

    names = tuple(n.strip() for item in categories for n in item.split(",") if n.strip())
    options = CrawlOptions(categories=names, since=iso_date(since, "--since"), until=iso_date(until, "--until"),
                           max_topics=max_topics, recheck_days=recheck_days, full_refresh=full_refresh)
    run_scrape(forum_url, db, options, rate=rate, user_agent=user_agent, ignore_robots=ignore_robots,
               retries=retries, backoff=backoff, models=models, quiet=quiet)


@app.command()
@one_line_errors
def stats(db: Path = path_option(Path("forum.db"), "--db", help="SQLite store to read.")) -> None:
    """Show what a store holds: counts, time span, categories, most mentioned models.

    Example: forumkit stats --db hf.db
    """
    from forumkit.collect.summary import summarize

    with open_store(db) as store:
        for forum_id, _ in store.forums():
            print_summary(summarize(store, forum_id))


def print_summary(summary: StoreSummary) -> None:
    c = summary.counts
    out.print(f"[bold]{summary.forum}[/]: {c['topics']} topics, {c['posts']} posts, {c['users']} users, "
              f"{c['categories']} categories, {c['tags']} tags")
    out.print(f"posts from {summary.first_post} to {summary.last_post} ({summary.months} months); "
              f"{summary.accepted_share:.0%} of topics have an accepted answer")
    out.print(f"{summary.parse_fallbacks} posts with HTML the parser could not read (text kept as a plain tag strip, "
              "without code, quote or link counts)", highlight=False)
    table = Table("category", "topics", "posts", title="by forum category")
    for name, topics, posts in summary.by_category:
        table.add_row(name, str(topics), str(posts or 0))
    out.print(table)
    models = Table("model", "topics mentioning it", title="most mentioned models")
    for model, topics in summary.top_models:
        models.add_row(model, str(topics))
    out.print(models)
