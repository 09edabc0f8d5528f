"""The replication folder: the coded dataset, the REFI-QDA project, the codebooks as stored, and a manifest.

The data files are written by the exports every other command uses (:func:`forumkit.coding.export.export_dataset`),
so the folder holds exactly what `forumkit export` would give. ``manifest.json`` lists every other file of the
folder with what it is, its size and its sha256, so that a reader can check a copy.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from forumkit.coding.export import export_dataset
from forumkit.coding.sampling import load_sample, write_sample_csv
from forumkit.errors import UsageError
from forumkit.store import Store
from .codebooks import CodebookVersion

__all__ = ["ITEMS", "MANIFEST", "SUGGESTIONS", "FileEntry", "codebook_files", "remove_previous", "sha256", "write_data",
           "write_inputs",
           "write_manifest"]

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class FileEntry:
    """One file of the replication folder: its path (relative, with /), what it is, size and sha256."""

    path: str
    what: str
    bytes: int
    sha256: str


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def codebook_files(books: list[CodebookVersion]) -> dict[str, str]:
    """``id@version`` -> the replication folder's YAML file of that codebook version (what --codebook reads)."""
    return {f"{b.id}@{b.version}": f"codebooks/{b.id}-{b.version}.yaml" for b in books}


#: The push's inputs in the replication folder, as the commands name them.
ITEMS, SUGGESTIONS = "data/items.csv", "data/suggestions.csv"


def write_inputs(store: Store, project: int, sample: str | None, folder: Path) -> dict[str, str]:
    """Write what the project was pushed from: the sample's items with stratum and weight (or the list of
    items), and the suggestions shown with them when there were some; relative path -> what it is."""
    what: dict[str, str] = {}
    if sample is not None:
        rows = write_sample_csv(store, load_sample(store, sample), folder / ITEMS)
        what[ITEMS] = f"sample {sample}: its {rows} items in draw order, with stratum, weight, title and URL"
    else:
        items = sorted(store.studio_tasks(project))
        pd.DataFrame({"item_id": items}).to_csv(folder / ITEMS, index=False)
        what[ITEMS] = f"the {len(items)} items the project was pushed with (studio push --items reads it)"
    suggested = store.studio_suggestions(project)
    if suggested:
        table = pd.DataFrame([s._asdict() for s in suggested]).drop(columns=["project"])
        table.rename(columns={"codebook_id": "codebook"}).to_csv(folder / SUGGESTIONS, index=False)
        what[SUGGESTIONS] = (f"the {len(table)} suggested codes shown with the items (studio push --suggestions "
                             "reads it)")
    return what


def write_data(store: Store, project: int, sample: str | None, folder: Path,
               books: list[CodebookVersion]) -> dict[str, str]:
    """Write the dataset, the REFI-QDA project, the push's inputs and the codebooks into ``folder``; relative
    path -> what it is."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (folder / "codebooks").mkdir(exist_ok=True)
    what = write_inputs(store, project, sample, folder)
    for name, fmt in (("coded.csv", "csv"), ("coded.parquet", "parquet")):
        result = export_dataset(store, "coded", folder / "data" / name, format=fmt, project=project)
        what[f"data/{name}"] = (f"the coded dataset ({fmt}): {result.rows} rows, one per item and code any coder "
                                "applied, with coder counts and the majority consensus (docs/coded.md)")
    result = export_dataset(store, "annotations", folder / "data" / "annotations.csv", project=project)
    what["data/annotations.csv"] = f"every annotation and code, skipped ones included: {result.rows} rows"
    result = export_dataset(store, "qdpx", folder / "data" / "project.qdpx", project=project)
    what["data/project.qdpx"] = (f"REFI-QDA project (ATLAS.ti, MAXQDA, NVivo, QualCoder): {result.rows} sources, "
                                 f"{result.codings} codings by {result.coders} coders")
    files = codebook_files(books)
    for book in books:
        stem = files[f"{book.id}@{book.version}"].removesuffix(".yaml")
        (folder / f"{stem}.json").write_text(book.content, encoding="utf-8")
        (folder / f"{stem}.yaml").write_text(book.codebook.to_yaml(), encoding="utf-8")
        what[f"{stem}.json"] = f"codebook {book.id} version {book.version}, exactly as stored when it was used"
        what[f"{stem}.yaml"] = "the same codebook as YAML (forumkit studio push --codebook reads it)"
    return what


def remove_previous(folder: Path) -> int:
    """Delete the files an earlier appendix listed in ``folder``'s manifest (and the manifest), so that a rerun
    leaves no file of the old data unlisted; files it did not write are kept. Returns how many went."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return 0
    try:
        listed = [entry["path"] for entry in json.loads(manifest.read_text(encoding="utf-8"))["files"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{manifest} is not an appendix manifest: {exc}",
                         hint="give another --out folder, or remove that file") from exc
    gone = 0
    for path in listed:
        target = (folder / path).resolve()
        if target.is_relative_to(folder.resolve()) and target.is_file():
            target.unlink()
            gone += 1
    manifest.unlink()
    return gone


def write_manifest(folder: Path, what: dict[str, str]) -> list[FileEntry]:
    """Hash every file of ``what`` and write :data:`MANIFEST`; returns its entries, by path."""
    entries = [FileEntry(path, what[path], (folder / path).stat().st_size, sha256(folder / path))
               for path in sorted(what)]
    manifest = {"files": [asdict(e) for e in entries]}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return entries
