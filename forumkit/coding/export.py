"""One entry point for every export a study makes: collected tables, the coded dataset, REFI-QDA.

`forumkit export WHAT` calls :func:`export_dataset`; the collected tables (posts, topics, mentions) come
from :mod:`forumkit.collect.export`, the coded ones (coded, annotations) from :mod:`forumkit.coding.coded`
and the REFI-QDA project from :mod:`forumkit.coding.qdpx`. It lives in the coding stage because that is
the lowest stage that sees all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from forumkit.collect.export import TABLES, export_table, write_frame
from forumkit.errors import StoreError, UsageError
from forumkit.store import Store

__all__ = ["CODED", "EXPORTS", "ExportResult", "export_dataset"]

#: What `forumkit export` writes besides the collected tables.
CODED = ("coded", "annotations", "qdpx")
EXPORTS = (*TABLES, *CODED)


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_dataset` wrote: ``rows`` rows of ``what`` to ``path``.

    For ``qdpx`` the rows are the sources (items) and ``codings`` and ``coders`` say what they carry.
    """

    what: str
    path: Path
    rows: int
    codings: int | None = None
    coders: int | None = None


def export_dataset(store: Store, what: str, path: str | Path, *, format: str = "csv", html: bool = False,
                   project: int | None = None, adjudicator: str | None = None) -> ExportResult:
    """Write ``what`` (one of :data:`EXPORTS`) from ``store`` to the file ``path``.

    ``format`` (csv, parquet, jsonl) applies to the tables; ``qdpx`` is always a REFI-QDA file. ``html``
    adds the forum's HTML to posts; ``project`` limits the coded exports to one Label Studio project and
    ``adjudicator`` names the coder whose codes decide `coded`'s consensus.
    Example: ``export_dataset(store, "coded", "coded.csv", project=1).rows``
    """
    path = Path(path)
    if what not in EXPORTS:
        raise UsageError(f"unknown table '{what}'", hint=f"export one of: {', '.join(EXPORTS)}")
    if what == "qdpx":
        from forumkit.coding.qdpx import export_qdpx

        result = export_qdpx(store, path, project)
        return ExportResult(what, path, result.sources, codings=result.selections, coders=result.users)
    if what in TABLES:
        if not store.counts()["topics"]:  # an empty file would look like a forum without posts
            raise StoreError(f"{store.path} holds no topics", hint="scrape a forum into it first: forumkit scrape URL "
                                                                   "--db PATH")
        return ExportResult(what, path, export_table(store, what, format, path, html=html))
    from forumkit.coding.coded import annotation_rows, coded_items

    frame = coded_items(store, project, adjudicator=adjudicator) if what == "coded" else \
        annotation_rows(store, project)
    return ExportResult(what, path, write_frame(frame, format, path))
