"""The report of a study: what `forumkit report` builds from a store and, optionally, a coded table.

:func:`~forumkit.analysis.report.build_report` draws whatever it is given; :func:`report_study` decides what
that is: the coded table from a file, else the store's pulled project (its consensus, its coders for the
agreement section and the codebooks it was coded with), else only the forum (and Hub) sections.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from forumkit.analysis.activity import PERIODS
from forumkit.analysis.aggregate import load_coded
from forumkit.errors import StoreError, UsageError
from forumkit.store import Store
from .build import ReportOptions, build_report

if TYPE_CHECKING:
    import pandas as pd

    from forumkit.coding.codebook import Codebook

__all__ = ["CodedFile", "report_study"]


@dataclass(frozen=True)
class CodedFile:
    """A coded table (CSV or Parquet) and the names of its columns; date and category default to the store's."""

    path: Path
    item: str = "item"
    code: str = "code"
    date: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class _Coded:
    table: pd.DataFrame | None = None  # one row per item and code
    coders: pd.DataFrame | None = None  # a project's annotation rows, one per coder, for the agreement section
    codebooks: list[Codebook] = field(default_factory=list)  # the ones the project was coded with


def _coded(store: Store, coded: CodedFile | None, project: int | None, adjudicator: str | None) -> _Coded:
    if coded is not None:
        return _Coded(load_coded(coded.path, store=store, item=coded.item, code=coded.code, date=coded.date,
                                 category=coded.category))
    from forumkit.analysis.aggregate import project_codebooks
    from forumkit.coding.coded import annotation_rows

    try:
        coders = annotation_rows(store, project)
    except UsageError:
        if project is not None:
            raise  # a project asked for by number must have been pulled
        return _Coded()  # nothing pulled: the report covers the forum only
    table = load_coded(store=store, project=project, view="consensus", adjudicator=adjudicator)
    return _Coded(table, coders[~coders["was_cancelled"]], project_codebooks(store, project))


def report_study(store: Store, out_dir: str | Path, *, coded: CodedFile | None = None, project: int | None = None,
                 adjudicator: str | None = None, codebooks: list[Codebook] | None = None,
                 options: ReportOptions = ReportOptions(), command: str | None = None) -> Path:
    """Write the report into the folder ``out_dir`` and return its index.html.

    ``coded`` (a file) wins over the store's pulled annotations; otherwise ``project`` picks the pulled project
    (the only one when None; none pulled: no coding sections) and ``adjudicator`` decides its consensus.
    ``codebooks`` roll the codes up (default: the project's own); ``command`` is shown as provenance.
    Example: ``report_study(store, "report/", project=1, options=ReportOptions(period="quarter"))``
    """
    if options.period not in PERIODS:  # checked now: only the coded sections use it, after the forum's
        raise UsageError(f"unknown period '{options.period}'", hint=f"use one of: {', '.join(PERIODS)}")
    if not store.counts()["topics"]:  # a report of nothing would look like a quiet forum
        raise StoreError(f"{store.path} holds no topics", hint="scrape a forum into it first: forumkit scrape URL "
                                                               "--db PATH")
    found = _coded(store, coded, project, adjudicator)
    return build_report(store, out_dir, coded=found.table, codebooks=codebooks or found.codebooks or None,
                        coders=found.coders, options=options, command=command, project=project)
