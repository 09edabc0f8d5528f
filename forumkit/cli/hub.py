"""Commands of the Hub step: `forumkit hub crawl` and `forumkit hub export`."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from forumkit.errors import ForumkitError
from .common import app, err, one_line_errors, open_store, out, path_option, shown

if TYPE_CHECKING:  # the Hub collector (pandas, huggingface_hub) is imported when a command runs, not for --help
    from forumkit.collect.hub import HubOptions, HubProgress, HubResult

DEFAULT_RATE = 60.0  # requests per minute; tests/test_cli.py checks it is forumkit.collect.hub.DEFAULT_RATE
FORMAT_NAMES = "parquet, csv, jsonl"  # forumkit.collect.export.FORMATS, spelled out so that --help needs no pandas

hub_app = typer.Typer(help="Collect Hugging Face Hub model metadata (model types, model cards) over time.",
                      no_args_is_help=True)
app.add_typer(hub_app, name="hub")


@contextmanager
def _hub_progress(quiet: bool) -> Iterator[Callable[[HubProgress], None] | None]:
    """A rich progress display fed by the collector's progress callback."""
    if quiet:
        yield None
        return
    progress = Progress(
        TextColumn("[bold]hub"), BarColumn(),
        TextColumn("{task.completed} models · {task.fields[pages]} pages · {task.fields[requests]} requests"
                   "{task.fields[malformed]}{task.fields[position]}{task.fields[wait]}"),
        TimeElapsedColumn(), console=err, transient=True,
    )
    task = progress.add_task("hub", total=None, pages=0, requests=0, malformed="", position="", wait="")

    def update(state: HubProgress) -> None:
        wait = f" · waiting {state.waiting:.0f}s ({state.wait_reason})" if state.waiting else ""
        position = f" · at {state.position[:10]}" if state.position else ""
        malformed = f" · {state.malformed} malformed" if state.malformed else ""
        progress.update(task, total=state.limit, completed=state.models_stored, pages=state.pages,
                        requests=state.requests, malformed=malformed, position=position, wait=wait)

    with progress:
        yield update


@hub_app.command("crawl")
@one_line_errors
def crawl(
    db: Path = path_option(Path("hub.db"), "--db", help="SQLite store to create or update."),
    endpoint: Optional[str] = typer.Option(None, help="Hub base URL (default: $HF_ENDPOINT, else "
                                                      "https://huggingface.co)."),
    since: Optional[str] = typer.Option(None, help="Only models created on or after this date (YYYY-MM-DD)."),
    until: Optional[str] = typer.Option(None, help="Only models created before this date (YYYY-MM-DD)."),
    author: Optional[str] = typer.Option(None, help="Only this user's or organisation's models."),
    pipeline_tag: Optional[str] = typer.Option(None, "--pipeline-tag", help="Only this task, e.g. text-generation."),
    limit: Optional[int] = typer.Option(None, min=1, help="Stop after storing this many models."),
    rate: float = typer.Option(DEFAULT_RATE, min=0, help="Requests per minute (0 = no limit; anonymous quota: "
                                                         "500 per 5 minutes)."),
    retries: int = typer.Option(5, min=0, help="Retries for 5xx, timeouts and resets before giving up."),
    backoff: float = typer.Option(2.0, min=0, help="Base of the exponential backoff between retries, seconds."),
    full_refresh: bool = typer.Option(False, "--full-refresh", help="List every model again, ignoring the "
                                                                    "previous run's watermark."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
) -> None:
    """Collect model metadata from the Hub's /api/models into a SQLite store, incrementally and resumably.

    Newest changes first: a later run fetches only models created or modified since the last one, and a stopped run resumes from its last page. Example: forumkit hub crawl --db hub.db --since 2023-01-01
    """
    from forumkit.collect.discourse.crawl import iso_date
    from forumkit.collect.hub import HubClient, HubCollector, HubOptions, resolve_endpoint
    from forumkit.store import Store

    options = HubOptions(author=author, pipeline_tag=pipeline_tag, since=iso_date(since, "--since"),
                         until=iso_date(until, "--until"), limit=limit, full_refresh=full_refresh)
    url = resolve_endpoint(endpoint)
    with Store(db) as store, HubClient(url, rate=rate, retries=retries, backoff=backoff) as client:
        with _hub_progress(quiet) as progress:
            result = HubCollector(client, store, options, progress=progress).run()
    if not quiet:
        _report(result, options, db)


def _report(result: HubResult, asked: HubOptions, db: Path) -> None:
    how = "resumed and finished" if result.resumed else "finished"
    why = {"end": "", "watermark": " (reached the previous run)", "limit": " (reached --limit)"}[result.stopped]
    malformed = f", {result.malformed} malformed entries recorded" if result.malformed else ""
    pages = f"{result.pages} page{'s' if result.pages != 1 else ''}"
    err.print(f"hub crawl {how}{why}: {result.models_stored} models stored{malformed}, {pages}, "
              f"{result.requests} requests -> {db}", highlight=False, soft_wrap=True)
    if result.resumed and result.options != asked:
        err.print(f"note: run {result.run_id} was resumed with the options it started with; run the command "
                  "again to crawl with the new ones", highlight=False, soft_wrap=True)


@hub_app.command("export")
@one_line_errors
def export(
    db: Path = path_option(Path("hub.db"), "--db", help="SQLite store to read."),
    format: str = typer.Option("parquet", "--format", "-f", help=f"One of: {FORMAT_NAMES}."),
    out_path: Path = path_option(..., "--out", "-o", help="The one file to write."),
    endpoint: Optional[str] = typer.Option(None, help="Only models of this Hub (default: all in the store)."),
) -> None:
    """Export the collected models (hub_models) to Parquet, CSV or JSON Lines.

    List columns (tags, base_models, languages, datasets) are lists in Parquet and JSON Lines and JSON strings in CSV; card_data is JSON text. Example: forumkit hub export --db hub.db --format csv --out models.csv
    """
    from forumkit.collect.hub import export_hub_models
    from forumkit.store import Store

    if not db.exists():
        raise ForumkitError(f"{shown(db)} does not exist",
                            hint="collect models into it first: forumkit hub crawl --db PATH")
    with Store(db) as store:
        rows = export_hub_models(store, format, out_path, endpoint=endpoint.rstrip("/") if endpoint else None)
    err.print(f"{rows} models -> {shown(out_path)}", highlight=False, soft_wrap=True)


@hub_app.command("trends")
@one_line_errors
def trends(
    db: Path = path_option(Path("hub.db"), "--db", help="Store with collected Hub models (and, optionally, a "
                                                        "scraped forum)."),
    period: str = typer.Option("month", help="month, quarter or year (calendar, UTC)."),
    top: int = typer.Option(10, min=1, help="Model types shown on their own; the rest add up to 'other'."),
    endpoint: Optional[str] = typer.Option(None, help="The Hub whose models to use, when the store holds several."),
    mapping: Optional[Path] = path_option(None, "--mapping", help="CSV pattern,family of model type aliases "
                                                                  "(default: forumkit/data/model_families.csv)."),
    out_dir: Path = path_option(Path("forumkit-work/hub-trends"), "--out", help="A folder (made if missing) for "
                                                                                "the CSV tables and PNG/SVG figures."),
) -> None:
    """Model types uploaded per period and documented attributes (card, license, datasets...) over time.

    Prints the top model types and which attributes new models document, with Mann-Kendall trends; writes every table (CSV) and figure (PNG, SVG) into --out. Models without a known creation date are left out of the tables by period and counted. A store that also holds a scraped forum gets Hub uploads beside the forum topics mentioning each type. Example: forumkit hub trends --db hub.db --period quarter --top 8 --out hub-trends/
    """
    from rich.table import Table

    from forumkit.analysis.hubfiles import write_hub_trends

    if not db.exists():
        raise ForumkitError(f"{shown(db)} does not exist",
                            hint="collect models into it first: forumkit hub crawl --db PATH")
    with open_store(db) as store:
        written = write_hub_trends(store, out_dir, period=period, top=top, endpoint=endpoint, mapping=mapping)
    result = written.result
    dates = dict(zip(result.dates["status"], result.dates["models"]))
    undated = dates["placeholder"] + dates["missing"]
    types = Table("model type", "models", "share", title=f"models created per model type ({dates['known']} with a "
                                                         f"known creation date; {undated} without, left out)")
    for row in result.types.itertuples(index=False):
        types.add_row(str(row.model_type), str(row.models), f"{row.share:.3f}")
    out.print(types)
    trend = {(r.table, r.series): r.trend for r in result.trends.itertuples(index=False)}
    docs = Table("attribute", "models with it", "of", "share", "95% CI", f"trend of the share per {period}",
                 title="what the models document (all models)")
    for row in result.missing.itertuples(index=False):
        docs.add_row(str(row.attribute), str(row.present), str(row.models), f"{row.share_present:.3f}",
                     f"{row.ci_low:.3f} – {row.ci_high:.3f}", str(trend.get(("documentation", row.attribute), "—")))
    out.print(docs)
    if result.contrast is not None:
        forum = Table("model type", "Hub models", "forum topics", "pattern", title="Hub uploads beside forum topics")
        for row in result.contrast.itertuples(index=False):
            forum.add_row(str(row.model_type), str(row.hub_models), str(row.forum_topics), str(row.pattern))
        out.print(forum)
    err.print(f"{len(written.tables)} tables and {len(written.figures)} figures (PNG, SVG) -> {shown(out_dir)}",
              highlight=False, soft_wrap=True)
