"""The agreement of a pulled Label Studio project: what `forumkit agreement` computes and writes.

:class:`forumkit.coding.agreement.Agreement` measures any coded table; this module feeds it a store's pulled
annotations (skipped ones left out; with several projects, an item of one project is never paired with the
same id of another) and writes its three tables.
"""

from __future__ import annotations

from pathlib import Path

from forumkit.coding.agreement import Agreement, from_coded
from forumkit.coding.coded import annotation_rows
from forumkit.errors import UsageError
from forumkit.store import Store

__all__ = ["TABLES", "project_agreement", "write_agreement", "write_tables"]

#: The files :func:`write_agreement` writes, and the Agreement attribute each holds.
TABLES = {"overall.csv": "overall_", "per_code.csv": "per_code_", "disagreements.csv": "disagreements_"}


def project_agreement(store: Store, project: int | None = None, *, n_boot: int = 1000, confidence: float = 0.95,
                      seed: int | None = 0) -> Agreement:
    """The fitted :class:`Agreement` of one project's annotations (of every project when None).

    ``n_boot`` bootstrap replicates (0: no intervals) give intervals at ``confidence``, seeded by ``seed``.
    Example: ``project_agreement(store, 1, n_boot=0).overall_``
    """
    rows = annotation_rows(store, project)
    if project is None and rows["project"].nunique() > 1:
        rows["item_id"] = rows["project"].astype(str) + ":" + rows["item_id"].astype(str)
    rows = rows[~rows["was_cancelled"]]
    coded = rows.rename(columns={"item_id": "item", "code_id": "code"})
    return Agreement(n_boot=n_boot, level=confidence, seed=seed).fit(*from_coded(coded))


def write_agreement(report: Agreement, folder: str | Path) -> list[Path]:
    """Write the fitted report's tables as CSV files into ``folder`` (made if missing); returns their paths."""
    return write_tables(report, TABLES, folder, what="the agreement tables, e.g. --out agreement/")


def write_tables(report: object, files: dict[str, str], folder: str | Path, *, what: str) -> list[Path]:
    """Write each ``files`` name -> attribute of ``report`` (a DataFrame) as CSV into ``folder`` (made if
    missing); ``what`` names the tables in the error for a folder that is a file. Returns the paths."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file", hint=f"give a folder for {what}")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, attribute in files.items():
        getattr(report, attribute).to_csv(folder / name, index=False)
        written.append(folder / name)
    return written
