"""One entry point for every export a study makes: collected tables, the coded dataset, REFI-QDA, codebooks.

`forumkit export WHAT` calls :func:`export_dataset`; the collected tables (posts, topics, mentions) come
from :mod:`forumkit.collect.export`, the coded ones (coded, annotations) from :mod:`forumkit.coding.coded`
the REFI-QDA project from :mod:`forumkit.coding.qdpx` and a project's codebooks (a REFI-QDA .qdc, or
the CSV Taguette imports) from :mod:`forumkit.coding.qdc`. It lives in the coding stage because that is
the lowest stage that sees all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from forumkit.collect.export import TABLES, export_table, write_frame
from forumkit.errors import StoreError, UsageError
from forumkit.store import Store

__all__ = ["CODEBOOKS", "CODED", "EXPORTS", "ExportResult", "export_dataset"]

#: What `forumkit export` writes besides the collected tables.
CODED = ("coded", "annotations", "qdpx")
#: A project's codebooks, as pushed: a REFI-QDA codebook file, or the CSV Taguette's codebook import reads.
CODEBOOKS = ("qdc", "taguette")
EXPORTS = (*TABLES, *CODED, *CODEBOOKS)


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_dataset` wrote: ``rows`` rows of ``what`` to ``path``.

    For ``qdpx`` the rows are the sources (items) and ``codings`` and ``coders`` say what they carry; for
    ``qdc`` and ``taguette`` the rows are the codes.
    """

    what: str
    path: Path
    rows: int
    codings: int | None = None
    coders: int | None = None


def export_dataset(store: Store, what: str, path: str | Path, *, format: str = "csv", html: bool = False,
                   project: int | None = None, adjudicator: str | None = None) -> ExportResult:
    """Write ``what`` (one of :data:`EXPORTS`) from ``store`` to the file ``path``.

    ``format`` (csv, parquet, jsonl) applies to the tables; ``qdpx`` is always a REFI-QDA project, ``qdc`` a
    REFI-QDA codebook and ``taguette`` a codebook CSV for Taguette (both: the codebooks the project was pushed
    with). ``html`` adds the forum's HTML to posts; ``project`` limits the coded and codebook exports to one
    Label Studio project and ``adjudicator`` names the coder whose codes decide `coded`'s consensus.
    Example: ``export_dataset(store, "coded", "coded.csv", project=1).rows``
    """
    path = Path(path)
    if what not in EXPORTS:
        raise UsageError(f"unknown table '{what}'", hint=f"export one of: {', '.join(EXPORTS)}")
    if what == "qdpx":
        from forumkit.coding.qdpx import export_qdpx

        result = export_qdpx(store, path, project)
        return ExportResult(what, path, result.sources, codings=result.selections, coders=result.users)
    if what in CODEBOOKS:
        from forumkit.coding.qdc import write_qdc, write_taguette_csv
        from forumkit.coding.studio.projects import project_codebooks  # the Label Studio SDK is not needed here

        codebooks = project_codebooks(store, project)
        if not codebooks:
            raise UsageError(f"{store.path} has no Label Studio project, so no codebook to export",
                             hint="push a sample with its codebooks first, or export a codebook file: "
                                  "forumkit codebook export FILE --out codebook.qdc")
        write = write_qdc if what == "qdc" else write_taguette_csv
        return ExportResult(what, path, write(codebooks, path))
    if what in TABLES:
        if not store.counts()["topics"]:  # an empty file would look like a forum without posts
            raise StoreError(f"{store.path} holds no topics", hint="scrape a forum into it first: forumkit scrape URL "
                                                                   "--db PATH")
        return ExportResult(what, path, export_table(store, what, format, path, html=html))
    from forumkit.coding.coded import annotation_rows, coded_items

    frame = coded_items(store, project, adjudicator=adjudicator) if what == "coded" else \
        annotation_rows(store, project)
    return ExportResult(what, path, write_frame(frame, format, path))
