"""`forumkit demo`: the main job on the shipped forum snapshot, offline."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import app, err, one_line_errors, out, path_option, shown
from .sample import print_sample
from .scrape import crawl_progress, print_crawl, print_summary


@app.command()
@one_line_errors
def demo(
    workdir: Path = path_option(Path("forumkit-work/demo"), help="Folder for the demo's store and everything it "
                                                                 "writes (exports, sample, report, config)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
) -> None:
    """The main job on the shipped forum snapshot: scrape, export, sample, prepare coding. No network needed.

    Serves the snapshot on loopback, scrapes it with the real scraper, shows and exports what was stored,
    draws a stratified sample of topics (Cochran size, 95% / 5%), writes the HTML report of the forum's
    activity and model mentions, and the Label Studio labeling config of the shipped codebooks. Example: forumkit demo --workdir /tmp/demo
    """
    from forumkit.demo import SAMPLE_NAME, run

    with crawl_progress(quiet) as progress:
        result = run(workdir, progress=progress,
                     on_serving=lambda url: err.print(f"serving the sample forum snapshot at {url}"))
    if not quiet:
        print_crawl(result.crawl, result.db)
    print_summary(result.summary)
    for table, rows, path in result.exports:
        out.print(f"exported {rows} {table} rows -> {shown(path)}")
    print_sample(result.sample)
    out.print(f"report (forum activity, model mentions and their trends) -> {shown(result.report)}")
    out.print(f"sample '{SAMPLE_NAME}' -> {shown(result.sample_csv)}; Label Studio config of "
              f"{' and '.join(name for _, name in result.codebooks)} -> {shown(result.label_config)}")
    out.print(f"next: forumkit studio up, then forumkit studio push --db {shown(result.db)} --sample {SAMPLE_NAME} "
              + " ".join(f"--codebook {shipped}" for shipped, _ in result.codebooks), soft_wrap=True)

