"""`forumkit status`: where a study stands, read from its store and folder (nothing is written).

Topics stored and the last crawl, the samples, the projects pushed with their tasks and coders, agreement so
far (once a pull brought annotations of two or more coders), how the suggestions fared, the last report, and
the step to run next.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from forumkit.dates import iso_utc
from forumkit.errors import ForumkitError

from .config import StudyConfig

__all__ = ["ForumState", "SampleState", "ProjectState", "ReportState", "StudyStatus", "study_status"]


@dataclass(frozen=True)
class ForumState:
    """A forum in the store: live topics and posts, and the newest crawl (None: never crawled)."""

    url: str
    topics: int
    posts: int
    last_crawl_started: str | None
    last_crawl_finished: str | None  # None while a crawl is unfinished (run scrape again to resume it)


@dataclass(frozen=True)
class SampleState:
    name: str
    unit: str
    items: int
    population: int
    created_at: str


@dataclass(frozen=True)
class ProjectState:
    """A pushed Label Studio project and how far its coding is (from the last pull).

    ``alpha`` and ``percent_agreement``: Krippendorff's alpha (pooled over codes) and the
    percent agreement over the items coded by two or more coders; None before such items are pulled.
    ``acceptance``: the share of pre-selected suggestions the coders kept; None without suggestions or pull.
    """

    id: int
    title: str
    sample: str | None
    url: str
    tasks: int
    annotations: int
    coders: int
    items_coded: int
    items_coded_twice: int
    last_pull: str | None
    suggested_items: int
    alpha: float | None
    percent_agreement: float | None
    acceptance: float | None


@dataclass(frozen=True)
class ReportState:
    path: Path
    written_at: str


@dataclass(frozen=True)
class StudyStatus:
    """Where a study stands; ``next_step`` is the command to run next (with what it is for)."""

    config: Path
    store: Path
    store_exists: bool
    forums: list[ForumState]
    samples: list[SampleState]
    sample_name: str | None
    projects: list[ProjectState]
    current_project: int | None
    report: ReportState | None
    next_step: str


def study_status(config: StudyConfig) -> StudyStatus:
    """The study's state; reads the store (if there is one yet) and the report folder, changes nothing."""
    db = config.store()
    sample_name = config.get("sample.name")
    forums: list[ForumState] = []
    samples: list[SampleState] = []
    projects: list[ProjectState] = []
    current = config.get("studio.project")
    if db.exists():
        from forumkit.coding.sampling import list_samples
        from forumkit.store import Store

        with Store(db) as store:
            for forum_id, url in store.forums():
                counts = store.counts(forum_id)
                crawl = store.last_crawl(forum_id)
                forums.append(ForumState(url, counts["topics"], counts["posts"], crawl[0] if crawl else None,
                                         crawl[1] if crawl else None))
            samples = [SampleState(s.name, s.unit, s.items, s.population, s.created_at) for s in list_samples(store)]
            projects = [_project(store, row) for row in store.studio_project_progress()]
            if current is None and sample_name:
                current = store.last_project_of_sample(sample_name)
    report = _report(config.get("report.out", config.folder / "forumkit-work" / "report"))
    status = StudyStatus(config.path, db, db.exists(), forums, samples, sample_name, projects, current, report, "")
    return StudyStatus(**{**status.__dict__, "next_step": _next_step(status)})


def _project(store, row) -> ProjectState:
    alpha = agreement = acceptance = None
    if row["items_coded_twice"]:
        from forumkit.coding.reliability import project_agreement

        overall = project_agreement(store, row["id"], n_boot=0).overall_.set_index("measure")["value"]
        alpha, agreement = _number(overall.get("krippendorff_alpha")), _number(overall.get("percent_agreement"))
    if row["suggested_items"] and row["annotations"]:
        from forumkit.coding.suggest.acceptance import ALL, suggestion_report

        try:
            per_code = suggestion_report(store, row["id"]).per_code
            acceptance = _number(per_code.loc[per_code["code_id"] == ALL, "acceptance"].iloc[0])
        except ForumkitError:  # no suggested item was annotated yet: nothing to say
            acceptance = None
    return ProjectState(row["id"], row["title"], row["sample_id"], f"{row['url']}/projects/{row['project_id']}",
                        row["tasks"], row["annotations"], row["coders"], row["items_coded"], row["items_coded_twice"],
                        row["last_pull"], row["suggested_items"], alpha, agreement, acceptance)


def _number(value) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _report(folder: Path) -> ReportState | None:
    index = folder / "index.html"
    if not index.is_file():
        return None
    return ReportState(index, iso_utc(datetime.fromtimestamp(index.stat().st_mtime, tz=timezone.utc)))


def _next_step(s: StudyStatus) -> str:
    if not s.forums or not any(f.topics for f in s.forums):
        return "forumkit scrape: scrape the forum into the store"
    if any(f.last_crawl_finished is None for f in s.forums):
        return "forumkit scrape: the last crawl did not finish; run it again to resume"
    if s.sample_name and s.sample_name not in {x.name for x in s.samples}:
        return f"forumkit sample: draw the sample '{s.sample_name}'"
    project = next((p for p in s.projects if p.id == s.current_project), None)
    if project is None:
        return "forumkit suggest codes, then forumkit studio up and forumkit studio push"
    if not project.annotations:
        return ("let the coders code in Label Studio (forumkit studio up; forumkit studio login), then "
                "forumkit studio pull")
    if s.report is None or (project.last_pull and s.report.written_at < project.last_pull):
        return "forumkit agreement, forumkit aggregate, forumkit report"
    return "done: open the report, or pull again after more coding"
