"""Import a codebook from a spreadsheet laid out like Taraghi et al.'s replication package.

Layout: a header row with ``#``, ``Category``, ``Subcategory``, ``Definition``, ``Example`` (any order,
any case, extra or unnamed columns ignored). A category is named only on its first row; the rows below
with an empty Category belong to it (forward fill). A row with a Category and no Subcategory describes
the category itself (categories without subcategories). Blank rows are skipped; a subcategory repeated
under the same category gets the extra rows' examples.

Ids: ``PREFIX.CATEGORY`` and ``PREFIX.CATEGORY.SUBCATEGORY``, each segment the :func:`~.model.slug` of the
name (ASCII upper case, ``&`` -> ``AND``, apostrophes dropped, other character runs -> ``_``; ``_2``... for
siblings whose slugs clash). The same names always give the same ids.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from .model import Code, Codebook, CodebookError, unique_slugs

__all__ = ["import_codebook", "default_prefix"]

REQUIRED = ("category", "subcategory")
_COLUMNS = {"#": "number", "category": "category", "subcategory": "subcategory", "definition": "definition",
            "example": "example", "examples": "example"}


def _column_key(header: Any) -> str:
    text = "" if header is None else str(header).casefold()
    return "#" if text.strip() == "#" else re.sub(r"[^a-z0-9]", "", text)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def default_prefix(codebook_id: str) -> str:
    """The id prefix used when none is given: the first two letters of the id's last word, upper case.

    ``hf-challenges`` -> ``CH``, ``benefits`` -> ``BE``.
    """
    words = re.findall(r"[A-Za-z0-9]+", codebook_id)
    return (words[-1][:2] if words else "C").upper()


def _read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count) if any(d in first for d in ",;\t") else ","
    return [[_cell(c) for c in row] for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                                                                 skipinitialspace=True)]


def _header_at(rows: list[list[str]]) -> int | None:
    return next((i for i, row in enumerate(rows) if any(row)), None)


def _has_columns(rows: list[list[str]]) -> bool:
    at = _header_at(rows)
    keys = {_column_key(h) for h in rows[at]} if at is not None else set()
    return all(k in keys for k in REQUIRED)


def _read_xlsx(path: Path, sheet: str | None) -> tuple[str, list[list[str]]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, InvalidFileException... for a broken file
        raise CodebookError(f"{path.name} is not a readable .xlsx workbook ({type(exc).__name__}: {exc})",
                            hint="open and re-save it in a spreadsheet program, or export the sheet as CSV") from exc
    try:
        sheets = {ws.title: [[_cell(c) for c in row] for row in ws.iter_rows(values_only=True)]
                  for ws in book.worksheets}
    finally:
        book.close()
    if sheet is not None:
        match = next((t for t in sheets if t == sheet), None) or next(
            (t for t in sheets if t.casefold().strip() == sheet.casefold().strip()), None)
        if match is None:
            raise CodebookError(f"{path.name} has no sheet {sheet!r} (sheets: {', '.join(sheets)})",
                                hint="pick one with --sheet")
        return match, sheets[match]
    for title, rows in sheets.items():
        if _has_columns(rows):
            return title, rows
    found = "; ".join(f"{t}: {', '.join(_header_names(r)) or 'empty'}" for t, r in sheets.items())
    raise CodebookError(f"{path.name}: no sheet has Category and Subcategory columns ({found})",
                        hint="the first row of the codebook sheet must name its columns; pick the sheet with --sheet")


def _header_names(rows: list[list[str]]) -> list[str]:
    at = _header_at(rows)
    return [h for h in rows[at] if h] if at is not None else []


@dataclass
class _Node:
    name: str
    row: int
    definition: str = ""
    examples: list[str] = field(default_factory=list)
    children: dict[str, "_Node"] = field(default_factory=dict)

    def add(self, definition: str, example: str) -> None:
        if definition and not self.definition:
            self.definition = definition
        if example and example not in self.examples:
            self.examples.append(example)


def _tree(rows: list[list[str]], source: str) -> list[_Node]:
    at = _header_at(rows)
    if at is None:
        raise CodebookError(f"{source} is empty", hint="export the codebook sheet with its header row")
    columns: dict[str, int] = {}
    for index, header in enumerate(rows[at]):
        role = _COLUMNS.get(_column_key(header))
        if role and role not in columns:
            columns[role] = index
    missing = [c.capitalize() for c in REQUIRED if c not in columns]
    if missing:
        found = ", ".join(h for h in rows[at] if h) or "none"
        raise CodebookError(f"{source} has no {' or '.join(missing)} column (columns found: {found})",
                            hint="the header row must name the columns #, Category, Subcategory, Definition, Example")

    def get(row: list[str], role: str) -> str:
        index = columns.get(role)
        return row[index] if index is not None and index < len(row) else ""

    categories: dict[str, _Node] = {}
    current: _Node | None = None
    for number, row in enumerate(rows[at + 1:], start=at + 2):
        category = " ".join(get(row, "category").split())
        subcategory = " ".join(get(row, "subcategory").split())
        definition, example = get(row, "definition"), get(row, "example")
        if not (category or subcategory or definition or example):
            continue
        if category:
            current = categories.setdefault(category, _Node(category, number))
        elif current is None:
            raise CodebookError(f"{source} row {number} comes before any Category",
                                hint="name the category on the first row of each category")
        elif not subcategory:
            raise CodebookError(f"{source} row {number} has text but neither a Category nor a Subcategory",
                                hint="fill in its Category or Subcategory cell, or delete the row")
        node = current.children.setdefault(subcategory, _Node(subcategory, number)) if subcategory else current
        node.add(definition, example)
    if not categories:
        raise CodebookError(f"{source} has a header but no categories", hint="fill in the Category column")
    return list(categories.values())


def _codes(nodes: list[_Node], prefix: str) -> Iterator[Code]:
    for node, segment in zip(nodes, unique_slugs(n.name for n in nodes)):
        code_id = f"{prefix}.{segment}"
        yield Code(id=code_id, name=node.name, definition=node.definition, examples=tuple(node.examples),
                   children=tuple(_codes(list(node.children.values()), code_id)))


def import_codebook(path: str | Path, *, id: str | None = None, name: str | None = None, version: str = "1.0",
                    id_prefix: str | None = None, sheet: str | None = None) -> Codebook:
    """A codebook from a ``.csv`` or ``.xlsx`` file in the replication-package layout (see the module doc).

    ``id`` defaults to the slug of the sheet name (xlsx) or file stem, lower case; ``name`` to the sheet
    name or stem; ``id_prefix`` to :func:`default_prefix` of the id. For xlsx, ``sheet`` picks the sheet
    (default: the first whose header has Category and Subcategory). The Definition and Example cells go
    to the code of their row: the subcategory, or the category on a row without subcategory.

    Example: ``import_codebook("Challenges.csv", id="hf-challenges", name="HF challenges", id_prefix="CH")``
    """
    path = Path(path)
    if not path.is_file():
        raise CodebookError(f"{path} does not exist" if not path.exists() else f"{path} is not a file",
                            hint="give the path of a .csv or .xlsx codebook")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        title, rows = path.stem, _read_csv(path)
        source = path.name
    elif suffix in (".xlsx", ".xlsm"):
        title, rows = _read_xlsx(path, sheet)
        source = f"{path.name} (sheet {title})"
    else:
        raise CodebookError(f"{path.name}: cannot import {suffix or 'a file without extension'}",
                            hint="save the codebook as .csv (UTF-8) or .xlsx")
    codebook_id = id or (re.sub(r"[^a-z0-9]+", "-", title.casefold()).strip("-") or "codebook")
    if not re.fullmatch(r"[A-Za-z0-9_.:\-]+", codebook_id):
        raise CodebookError(f"codebook id {codebook_id!r} may only hold letters, digits and _ . : -",
                            hint="pass an id such as hf-challenges with --id")
    prefix = id_prefix if id_prefix is not None else default_prefix(codebook_id)
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.:\-]*", prefix):
        raise CodebookError(f"id prefix {prefix!r} may only hold letters, digits and _ . : -",
                            hint="pass a prefix such as CH with --prefix")
    return Codebook(id=codebook_id, name=name or title, version=version,
                    description=f"Imported from {source}.",
                    categories=tuple(_codes(_tree(rows, source), prefix)))
