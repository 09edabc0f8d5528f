"""`forumkit demo`: the whole study on the shipped forum snapshot, offline, stage by stage."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from .common import absolute, app, err, one_line_errors, out, path_option, shown

STAGE_NAMES = "scrape, hub, sample, topics, suggest, studio, push, code, pull, agreement, export, aggregate, report"


class _Display:
    """The demo's events on the terminal: a progress line per stage (stderr), its one-line result (stdout)."""

    def __init__(self, progress: Progress | None, stages: int) -> None:
        self.progress, self.stages, self.done, self.task = progress, stages, 0, None

    def started(self, stage: str, what: str) -> None:
        if self.progress is None:
            return
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.task = self.progress.add_task(f"[{self.done + 1}/{self.stages}] {what}", total=None)

    def advanced(self, done: int, total: int | None) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, completed=done, total=total)

    def finished(self, stage: str, line: str) -> None:
        self.done += 1
        message = f"[{self.done}/{self.stages}] {stage}: {line}"
        (self.progress.console if self.progress is not None else out).print(message, highlight=False, soft_wrap=True)


@contextmanager
def _display(quiet: bool, stages: int) -> Iterator[_Display]:
    if quiet:
        yield _Display(None, stages)
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True) as progress:
        yield _Display(progress, stages)


@app.command()
@one_line_errors
def demo(
    workdir: Path = path_option(Path("forumkit-work/demo"), help="Folder for the demo's store and everything it "
                                                                 "writes (exports, sample, coded data, report)."),
    stop_after: str = typer.Option("report", "--stop-after", help=f"End after this stage: {STAGE_NAMES}."),
    venv: Path = path_option(Path(".venv-studio"), help="Label Studio's own virtual environment (made if missing)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
) -> None:
    """The whole study on the shipped forum snapshot, offline: scrape to report through a real Label Studio.

    Serves the snapshot on loopback and scrapes it, collects the shipped Hub sample, draws a stratified sample
    of topics, finds topics (BERTopic) and suggests codes, starts Label Studio and pushes the sample with the
    suggestions, lets two simulated coders code it through Label Studio's API as a seeded coding key says,
    pulls their annotations, measures agreement and suggestion acceptance, exports the coded dataset (CSV,
    Parquet, REFI-QDA), counts the taxonomy over time and writes the report. Label Studio is left running to
    look at the coded project. Example: forumkit demo --workdir /tmp/demo
    """
    from forumkit.demo import STAGES, run

    stages = STAGES.index(stop_after) + 1 if stop_after in STAGES else len(STAGES)
    with _display(quiet, stages) as display:
        result = run(workdir, stop_after=stop_after, venv=absolute(venv), events=display)
    if result.report is not None:
        out.print(f"report -> {shown(result.report)} (open it in a browser)", highlight=False, soft_wrap=True)
    if result.studio_url is not None and result.studio_workdir is not None:
        studio = shown(result.studio_workdir)
        out.print(f"coded project in Label Studio -> {result.studio_url}; user and password: forumkit studio login "
                  f"--workdir {studio}; stop it: forumkit studio down --workdir {studio}",
                  highlight=False, soft_wrap=True)
    elif result.files.get("sample") is not None:
        out.print(f"stopped after the {stop_after} stage; everything is in {shown(result.workdir)}", highlight=False,
                  soft_wrap=True)
