"""The software versions and the commands that reproduce the study, with the options the store recorded.

The commands are built from what the store kept (each crawl run's options, the sample's design, the project's
codebook versions, title and sample, the agreement's bootstrap settings), so a reader re-runs the study as it
was run; options the store does not record (the crawl's rate, Label Studio's coders per task) are left at
their defaults and the text says so.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from .coders import CodingFacts
from .codebooks import CodebookVersion
from .collection import CrawlFacts, SampleFacts
from .replication import ITEMS, SUGGESTIONS

__all__ = ["Command", "commands"]

#: The store's name in the commands (the reader's copy of the study's store).
DB = "forum.db"


@dataclass(frozen=True)
class Command:
    """One step of the study: what it does and the command line that does it."""

    step: str
    line: str


def _line(*words: object) -> str:
    return " ".join(shlex.quote(str(w)) for w in words if w is not None and w != "")


def _scrape(crawl: CrawlFacts) -> list[Command]:
    """One scrape command per distinct set of crawl options, in the order they were first run."""
    seen, out = [], []
    for run in crawl.runs:
        o = run.options
        args = ["forumkit", "scrape", crawl.forum, "--db", DB]
        for category in o.get("categories") or ():
            args += ["--categories", category]
        for key in ("since", "until"):
            if o.get(key):
                args += [f"--{key}", str(o[key])[:10]]
        if o.get("max_topics"):
            args += ["--max-topics", o["max_topics"]]
        if o.get("recheck_days") not in (None, 3.0):
            args += ["--recheck-days", o["recheck_days"]]
        if o.get("full_refresh"):
            args.append("--full-refresh")
        line = _line(*args)
        if line not in seen:
            seen.append(line)
            out.append(Command(f"crawl (first run {run.started_at[:10]})", line))
    return out


def _sample(sample: SampleFacts) -> Command:
    design = sample.design
    args: list[object] = ["forumkit", "sample", "--db", DB, "--name", sample.name, "--unit", sample.unit]
    if sample.strategy != "random":
        args += ["--strategy", sample.strategy, "--size", sample.size]
    elif sample.fixed_size:
        args += ["--size", sample.size]
    else:
        args += ["--confidence", sample.confidence, "--margin", sample.margin]
    if sample.strata:
        args += ["--strata", sample.strata, "--allocation", sample.allocation]
        if sample.strata == "period":
            args += ["--period", sample.period]
    args += ["--seed", sample.seed]
    for key in ("since", "until"):
        if design.get(key):
            args += [f"--{key}", str(design[key])[:10]]
    for category in design.get("categories") or ():
        args += ["--categories", category]
    if design.get("min_posts"):
        args += ["--min-posts", design["min_posts"]]
    if design.get("accepted_only"):
        args.append("--accepted-only")
    if not sample.exclude_pinned_and_about:
        args.append("--include-pinned")
    return Command("sample (same seed, same store: same items)", _line(*args))


def commands(crawl: CrawlFacts, sample: SampleFacts | None, coding: CodingFacts,
             books: list[CodebookVersion], project: dict, suggested: bool, files: dict[str, str]) -> list[Command]:
    """The study's commands, scrape to report, with the options the store recorded.

    ``project`` is the project's row as a dict, ``files``
    the replication folder's codebook file of each ``id@version`` (what `studio push --codebook` reads).
    """
    pid = project["id"]
    out = _scrape(crawl)
    if sample is not None:
        out.append(_sample(sample))
    push: list[object] = ["forumkit", "studio", "push", "--db", DB]
    push += ["--sample", project["sample"]] if project["sample"] else ["--items", ITEMS, "--unit", project["unit"]]
    for book in books:
        if book.pushed:
            push += ["--codebook", files[f"{book.id}@{book.version}"]]
    if suggested:
        push += ["--suggestions", SUGGESTIONS]
    push += ["--title", project["title"]]
    out.append(Command("push to Label Studio", _line(*push)))
    out.append(Command("pull the annotations", _line("forumkit", "studio", "pull", "--db", DB, "--project", pid)))
    out.append(Command("agreement", _line("forumkit", "agreement", "--db", DB, "--project", pid, "--boot",
                                          coding.n_boot, "--confidence", coding.confidence, "--seed", coding.seed,
                                          "--out", "agreement/")))
    out.append(Command("coded dataset", _line("forumkit", "export", "coded", "--db", DB, "--project", pid,
                                              "--format", "parquet", "--out", "coded.parquet")))
    out.append(Command("frequencies", _line("forumkit", "aggregate", "--db", DB, "--project", pid, "--level",
                                            "category", "--period", "quarter", "--confidence", coding.confidence,
                                            "--out", "frequencies.csv")))
    out.append(Command("report", _line("forumkit", "report", "--db", DB, "--project", pid, "--period", "quarter",
                                       "--out", "report/")))
    return out
