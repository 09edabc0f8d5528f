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

from forumkit.coding.export import export_dataset
from forumkit.store import Store
from .codebooks import CodebookVersion

__all__ = ["MANIFEST", "FileEntry", "codebook_files", "sha256", "write_data", "write_manifest"]

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


def write_data(store: Store, project: int, folder: Path, books: list[CodebookVersion]) -> dict[str, str]:
    """Write the dataset, the REFI-QDA project and the codebooks into ``folder``; relative path -> what it is."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (folder / "codebooks").mkdir(exist_ok=True)
    what: dict[str, str] = {}
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
        what[f"{stem}.yaml"] = f"the same codebook as YAML (forumkit studio push --codebook reads it)"
    return what


def write_manifest(folder: Path, what: dict[str, str]) -> list[FileEntry]:
    """Hash every file of ``what`` and write :data:`MANIFEST`; returns its entries, by path."""
    entries = [FileEntry(path, what[path], (folder / path).stat().st_size, sha256(folder / path))
               for path in sorted(what)]
    manifest = {"files": [asdict(e) for e in entries]}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return entries
